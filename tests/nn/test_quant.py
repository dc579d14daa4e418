import copy

import numpy as np
import pytest
import torch

from snnhw import golden
from snnhw.nn.model import SpikingMLP, encode, input_stats
from snnhw.nn.quant import ExportError, fold_bn, fold_input, quantize


def model(**kw):
    torch.manual_seed(0)
    m = SpikingMLP([6, 5, 3], timesteps=3, in_bits=4, in_scale=1 / 15, spike_bits=2, **kw)
    m.eval()
    return m


def test_scaling_and_k_choice_by_hand():
    m = model()
    with torch.no_grad():
        m.fc[0].weight.copy_(torch.full((5, 6), 0.0).index_fill_(1, torch.tensor([0]), 1.5))
        m.fc[0].bias.copy_(torch.tensor([0.25, 0.0, -0.5, 0.0, 0.0]))
    q = quantize(m, w_bits=8, u_bits=16)
    l0 = q.layers[0]
    # largest weight 1.5 / 15 = 0.1 thresholds per input unit; 0.1 * 2**k <= 127 -> k <= 10;
    # headroom spike_bits + 2 = 4 caps k at 16 - 2 - 4 = 10
    assert l0.k == 10
    assert l0.W[0, 0].item() == round(0.1 * 1024) == 102
    assert l0.b.tolist() == [256, 0, -512, 0, 0]
    assert l0.fire_offset == 511


def test_headroom_limits_k():
    q = quantize(model(), w_bits=16, u_bits=12)
    assert q.layers[0].k == 12 - 2 - 4


def test_floor_firing_gives_zero_offset():
    q = quantize(model(fire="floor"))
    assert q.layers[0].fire_offset == 0


def test_weights_that_cannot_fit_raise():
    m = model()
    with torch.no_grad():
        m.fc[0].weight[2, 3] = 5000.0
    with pytest.raises(ExportError, match=r"layer 0: the largest weight is 333\.3 thresholds"):
        quantize(m, w_bits=8)


@pytest.mark.parametrize("kw, text", [(dict(w_bits=1), "w_bits must be an integer in 2..16"),
                                      (dict(u_bits=40), "u_bits must be in 8..32"),
                                      (dict(u_bits=8, headroom=7), "leaves no room")])
def test_bad_widths(kw, text):
    with pytest.raises(ExportError, match=text):
        quantize(model(), **kw)


def test_bn_folding_matches_eval_forward():
    torch.manual_seed(1)
    m = SpikingMLP([6, 5, 3], timesteps=2, in_bits=4, bn=True, spike_bits=1)
    m.train()
    for _ in range(5):
        m(torch.randint(0, 16, (32, 2, 6)).float())
    m.eval()
    with torch.no_grad():
        m.bn[0].weight.uniform_(0.5, 2)
        m.bn[0].bias.uniform_(-1, 1)
        x = torch.rand(10, 6, dtype=torch.float64) * 4
        want = m.bn[0].double()(m.fc[0].double()(x))
    W, b = fold_bn(m)[0]
    # float64 both ways: the only difference is rounding of a few products
    assert torch.allclose(x @ W.T + b, want, atol=1e-12)


def test_integer_mode_equals_golden_with_leak_hard_reset_and_spike_readout():
    m = model(leak_shift=2, reset="hard", readout="spikes")
    q = quantize(m)
    net = q.to_ir()
    x = encode(m.config, np.random.default_rng(0).integers(0, 16, (20, 6)))
    r = q.run(x)
    g = golden.run(net, x.numpy(), trace=True)
    assert np.array_equal(r["logits"].numpy(), g.logits)
    for lt, lg in zip(r["layers"], g.layers):
        for key in "Ivsu":
            assert np.array_equal(lt[key].numpy(), getattr(lg, key))


def test_input_normalisation_folds_exactly_into_the_first_layer():
    # per-input mean/std (one input nearly constant: its std is floored at one step)
    x = np.random.default_rng(1).integers(0, 16, (50, 6))
    x[:, 3] = 7
    mean, std = input_stats(x)
    assert std[3] == 1.0 and mean[3] == 7.0
    m = model(in_mean=mean, in_std=std)
    assert m.normalised and m.config["in_mean"] == pytest.approx(mean)
    xt = torch.as_tensor(x, dtype=torch.float64)
    with torch.no_grad():
        fc = copy.deepcopy(m.fc[0]).double()
        # what the forward computes ((x - shift) * gain, float32 vectors), in float64
        want = fc((xt - m.in_shift.double()) * m.in_gain.double())
    assert torch.allclose(m.in_gain.double(), 1 / torch.tensor(std, dtype=torch.float64))
    W, b = fold_input(m)[0]
    assert torch.allclose(xt @ W.T + b, want, atol=1e-12)
    # the float model's forward equals a plain model holding the folded weights
    xs = encode(m.config, x)
    plain = SpikingMLP([6, 5, 3], timesteps=3, in_bits=4, in_scale=1.0, spike_bits=2)
    plain.load_state_dict(m.state_dict())
    with torch.no_grad():
        plain.fc[0].weight.copy_(W)
        plain.fc[0].bias.copy_(b)
        assert torch.allclose(plain(xs.float()), m(xs.float()), atol=1e-5)
    # the quantised normalised model: torch integer mode == golden, bit for bit
    q = quantize(m)
    g = golden.run(q.to_ir(), xs.numpy(), trace=True)
    r = q.run(xs)
    assert np.array_equal(r["logits"].numpy(), g.logits)
    for lt, lg in zip(r["layers"], g.layers):
        for key in "Ivsu":
            assert np.array_equal(lt[key].numpy(), getattr(lg, key))
    # the bias carries the shift: a layer without normalisation has a different bias
    assert not torch.equal(q.layers[0].b, quantize(model()).layers[0].b)


def test_normalisation_needs_both_vectors_of_the_input_size():
    with pytest.raises(ValueError, match="go together"):
        model(in_mean=[0.0] * 6)
    with pytest.raises(ValueError, match="need 6 values"):
        model(in_mean=[0.0] * 5, in_std=[1.0] * 5)
    with pytest.raises(ValueError, match="positive"):
        model(in_mean=[0.0] * 6, in_std=[0.0] * 6)
