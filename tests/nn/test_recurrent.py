"""The recurrent layer in torch (``r<N>``): the float neuron's feedback, the integer mode
against the golden model on every layer, BatchNorm folded exactly, and checkpoints."""

import numpy as np
import pytest
import torch

from snnhw.golden.compare import integer_vs_golden
from snnhw.ir import RecurrentLayer
from snnhw.nn.conv import SpikingConvNet, plan_arch
from snnhw.nn.neuron import MultiBitLIF
from snnhw.nn.quant import quantize
from snnhw.nn.train import load_checkpoint, save_checkpoint


def test_the_float_neuron_adds_the_feedback_of_the_step_before():
    # one neuron, theta 1, floor firing; R = 1: a spike at t=0 recharges it every step
    lif = MultiBitLIF(spike_bits=1, fire="floor")
    feedback = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        feedback.weight.fill_(1.0)
    I = torch.tensor([[[1.0]], [[0.0]], [[0.0]]])
    assert lif(I).flatten().tolist() == [1.0, 0.0, 0.0]
    assert lif(I, feedback=feedback).flatten().tolist() == [1.0, 1.0, 1.0]


def test_architecture_text():
    plan = plan_arch("r16,d8", (1, 1, 7), 4)
    assert [ly["kind"] for ly in plan] == ["recurrent", "dense", "dense"]
    assert (plan[0]["n_in"], plan[0]["n_out"], plan[1]["n_in"]) == (7, 16, 16)


def _active(arch, seed, **kw):
    torch.manual_seed(seed)
    model = SpikingConvNet(arch, in_shape=(1, 1, 6), n_classes=4, timesteps=8, in_bits=1,
                           in_scale=1.0, **kw)
    with torch.no_grad():      # strong enough feedback to matter, BN that keeps them firing
        for op in model.ops:
            if hasattr(op, "feedback"):
                op.feedback.weight.uniform_(-0.8, 0.8)
        for bn in model.bn:
            if hasattr(bn, "running_mean"):
                bn.running_mean.uniform_(-0.2, 0.2)
                bn.running_var.uniform_(0.3, 0.6)
    return model.eval()


@pytest.mark.parametrize("arch, kw", [
    ("r12,d6", dict(spike_bits=2, leak_shift=3)),
    ("r10,r8", dict(spike_bits=1, reset="hard", bn=True)),
    ("d8,r9", dict(spike_bits=3, readout="spikes", bn=True, fire="floor")),
])
def test_integer_mode_equals_golden_on_every_layer(arch, kw):
    model = _active(arch, 3, **kw)
    q = quantize(model, w_bits=6, u_bits=16)
    net = q.to_ir()
    assert any(isinstance(ly, RecurrentLayer) for ly in net.layers)
    x = torch.randint(0, 2, (24, 8, 6)).numpy()
    r, _, agree, mismatch = integer_vs_golden(q, net, x)
    assert mismatch is None and agree.all()
    for i, ly in enumerate(net.layers):
        if isinstance(ly, RecurrentLayer):
            s = r["layers"][i]["s"].numpy()
            assert s.sum() > 0, "a recurrent layer never fired: a weak test"
            # the feedback really changed the charge: I differs from the feed-forward part
            ff = np.asarray(q.layers[i].charge(torch.as_tensor(
                x if i == 0 else r["layers"][i - 1]["s"].numpy())))
            assert (r["layers"][i]["I"].numpy() != ff).any()


def test_batchnorm_folds_into_the_feed_forward_weights_only():
    model = _active("r8,d6", 5, bn=True, spike_bits=2)
    layers = model.float_layers()
    op, bn = model.ops[0], model.bn[0]
    x = torch.rand(5, 6)
    assert torch.allclose(x.double() @ layers[0].W.T + layers[0].b,
                          bn(op(x)).double(), atol=1e-6)
    assert torch.equal(layers[0].R, op.feedback.weight.detach().double())


def test_float_and_integer_modes_agree_on_most_samples():
    model = _active("r16,d8", 7, spike_bits=2, leak_shift=3)
    q = quantize(model, w_bits=8, u_bits=16)
    x = torch.randint(0, 2, (200, 8, 6))
    with torch.no_grad():
        f = model(x.float()).argmax(1)
    i = q.run(x.numpy())["classes"]
    assert float((f == i).float().mean()) >= 0.8


def test_checkpoint_round_trip_keeps_the_feedback(tmp_path):
    model = _active("r8,d6", 1, spike_bits=2)
    back, _ = load_checkpoint(save_checkpoint(tmp_path / "r.pt", model, {"loss": [1.0]}))
    x = torch.randint(0, 2, (3, 8, 6)).float()
    assert torch.equal(model(x), back(x))
    assert torch.equal(back.ops[0].feedback.weight, model.ops[0].feedback.weight)
