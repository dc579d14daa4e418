"""The spiking CNN front end: architecture texts, the integer mode against the golden
model (pools folded), checkpoints, and the training config."""

import numpy as np
import pytest
import torch

from snnhw.data import load_data
from snnhw.golden.compare import integer_vs_golden
from snnhw.ir import ConvLayer, DenseLayer
from snnhw.nn.conv import ArchError, SpikingConvNet, parse_arch, plan_arch
from snnhw.nn.quant import quantize
from snnhw.nn.train import TrainConfig, load_checkpoint, save_checkpoint


@pytest.mark.parametrize("arch, shape, text", [
    ("c8k3,mp2", (1, 8, 8), "'mp2' is not a layer"),
    ("c8k3y3", (1, 8, 8), "'c8k3y3' is not a layer"),
    ("", (1, 8, 8), "comma-separated layers"),
    ("c8k3,,d4", (1, 8, 8), "comma-separated layers"),
    ("ap2,c8k3", (1, 8, 8), "pool 'ap2' must follow a conv layer"),
    ("d16,sp2", (1, 8, 8), "pool 'sp2' must follow a conv layer"),
    ("c8k3,sp2,sp2", (1, 8, 8), "pool 'sp2' must follow a conv layer"),
    ("d16,c8k3", (1, 8, 8), "conv layer 'c8k3' after a dense layer"),
    ("c8k3,sp4", (1, 8, 8), "does not divide the 8x6x6 map evenly"),
    ("c8k9", (1, 8, 8), "'c8k9' does not fit the 1x8x8 map"),
    ("c8k5s2p2,sp3", (1, 1, 40), "does not divide the 8x1x20 map"),
    ("c0k3", (1, 8, 8), "channels, kernel and stride must be"),
    ("c4096k4096", (4096, 1, 4096), "more than 67,108,864 weights"),
])
def test_architecture_errors_name_the_layer(arch, shape, text):
    with pytest.raises(ArchError, match=text):
        plan_arch(arch, shape, 10)


def test_architecture_geometry():
    plan = plan_arch("c8k5s2p2,sp2,c16k3p1,d32", (1, 1, 40), 10)
    assert [p["kind"] for p in plan] == ["conv", "conv", "dense", "dense"]
    assert plan[0]["kernel"] == (1, 5) and plan[0]["stride"] == (1, 2)
    assert plan[0]["padding"] == (0, 2) and plan[0]["out_shape"] == (8, 1, 20)
    assert plan[1]["in_shape"] == (8, 1, 10) and plan[1]["pool"] == (1, 2)
    assert plan[1]["pool_in_shape"] == (8, 1, 20)
    assert plan[2]["n_in"] == 16 * 10 and plan[3]["n_out"] == 10
    two_d = plan_arch("c4k3p1,ap2,d8", (3, 6, 4), 5)
    assert two_d[0]["kernel"] == (3, 3) and two_d[1]["pool"] == (2, 2)
    assert two_d[1]["n_in"] == 4 * 3 * 2 and two_d[1]["pool_in_shape"] == (4, 6, 4)
    assert parse_arch(" c4k3 , d8 ") == ["c4k3", "d8"]
    rect = plan_arch("c4k3x1s2x1p1x0,sp2x4", (1, 8, 8), 3)
    assert (rect[0]["kernel"], rect[0]["stride"], rect[0]["padding"]) == ((3, 1), (2, 1),
                                                                          (1, 0))
    assert rect[0]["out_shape"] == (4, 4, 8) and rect[1]["pool"] == (2, 4)
    assert rect[1]["n_in"] == 4 * 2 * 2


def _active_model(arch, shape, seed, **kw):
    torch.manual_seed(seed)
    model = SpikingConvNet(arch, in_shape=shape, n_classes=6, timesteps=3, in_bits=4, bn=True,
                           **kw)
    with torch.no_grad():   # BN statistics that keep the hidden layers firing
        for bn in model.bn:
            if hasattr(bn, "running_mean"):
                bn.running_mean.uniform_(-0.2, 0.2)
                bn.running_var.uniform_(0.05, 0.2)
    return model.eval()


@pytest.mark.parametrize("arch, shape, kw", [
    ("c6k3p1,sp2,c8k3p1,ap2,d16", (1, 8, 8), dict(spike_bits=2)),
    ("c6k5s2p2,ap2,c8k3,sp2,d12", (2, 1, 40), dict(spike_bits=1, reset="hard")),
    ("c4k2s2,c5k3p2,d10", (3, 5, 6), dict(spike_bits=3, leak_shift=2, readout="spikes")),
    ("c4k3p1,ap2", (1, 4, 8), dict(spike_bits=2, fire="floor")),
])
def test_integer_mode_with_pooling_equals_golden_on_the_folded_ir(arch, shape, kw):
    model = _active_model(arch, shape, 1, **kw)
    q = quantize(model, w_bits=8, u_bits=16)
    net = q.to_ir()
    assert [ly.kind for ly in net.layers][:1] == ["conv"]
    x = torch.randint(0, 16, (16, 3, int(np.prod(shape)))).numpy()
    r, _, agree, mismatch = integer_vs_golden(q, net, x)
    assert mismatch is None and agree.all()
    hidden = [r["layers"][i]["s"] for i in range(len(net.layers) - 1)]
    assert all(int(s.sum()) > 0 for s in hidden), "a hidden layer never fired: a weak test"
    # the pooled layers really are folded: the IR's layer reads the unpooled map
    for qly, ly in zip(q.layers, net.layers):
        if qly.pool != (1, 1):
            ph, pw = qly.pool
            if isinstance(ly, ConvLayer):
                assert ly.in_shape == qly.pool_in_shape
                assert ly.kernel == (qly.W.shape[2] * ph, qly.W.shape[3] * pw)
                assert ly.stride == (qly.stride[0] * ph, qly.stride[1] * pw)
            else:
                assert isinstance(ly, DenseLayer) and ly.n_in == np.prod(qly.pool_in_shape)


def test_float_model_pools_as_it_says():
    # one conv channel of weight 1 (no bias) fires its input; the sum pool adds pairs,
    # the average pool halves that; the last layer (weight 1) reads it as its charge
    for token, scale in (("sp2", 1.0), ("ap2", 0.5)):
        model = SpikingConvNet(f"c1k1,{token}", in_shape=(1, 1, 4), n_classes=1, timesteps=1,
                               in_bits=2, in_scale=1.0, spike_bits=2, fire="floor")
        with torch.no_grad():
            model.ops[0].weight.fill_(1.0)
            model.ops[0].bias.zero_()
            model.ops[1].weight.fill_(1.0)
            model.ops[1].bias.zero_()
        out = model(torch.tensor([[[1.0, 2.0, 3.0, 0.0]]]))
        assert out.item() == pytest.approx(scale * (1 + 2 + 3 + 0))


def test_conv_checkpoint_round_trip(tmp_path):
    model = _active_model("c4k3p1,sp2,d8", (1, 4, 4), 2, spike_bits=2)
    path = save_checkpoint(tmp_path / "c.pt", model, {"loss": [1.0]})
    back, ck = load_checkpoint(path)
    assert isinstance(back, SpikingConvNet) and ck["kind"] == "snnhw-spiking-cnn"
    x = torch.randint(0, 16, (3, 3, 16)).float()
    assert torch.equal(model(x), back(x))


def test_training_config_for_a_cnn():
    digits = load_data("digits")
    cfg = TrainConfig.for_data(digits, arch="cnn")
    assert cfg.arch == digits.defaults["cnn"]["arch"] and cfg.optimizer == "adam"
    assert cfg.sizes == (64, 10) and not cfg.normalize
    model = cfg.model(digits)
    assert isinstance(model, SpikingConvNet) and model.in_shape == (1, 8, 8)
    mine = TrainConfig.for_data(digits, arch="c4k3,d8", epochs=3)
    assert mine.arch == "c4k3,d8" and mine.epochs == 3
    with pytest.raises(ValueError, match="no input normalisation"):
        TrainConfig.for_data(digits, arch="c4k3", normalize=True)
    temporal = load_data("mnist1d-temporal")
    with pytest.raises(ValueError, match="has no default CNN"):
        TrainConfig.for_data(temporal, arch="cnn")


@pytest.mark.parametrize("name, arch", [
    ("mnist1d-cnn", "c32k5p2,sp2,c32k3p1,sp2,c32k3p1,sp2,d128"),
    ("digits-cnn", "c16k3p1,sp2,c32k3p1,sp2,d128"),
    ("board-cnn", "c32k5p2,sp2,c32k3p1,sp4"),
])
def test_cnn_shapes_are_the_trained_cnns_hardware(name, arch):
    """The benchmarks' stand-ins for the trained CNNs (seeded weights) have the layers,
    maps and folded pools of what ``snnhw train --arch`` exports."""
    from snnhw.data import DIGITS_CNN, MNIST1D_CNN
    from snnhw.ir.examples import CNN_SHAPES, cnn_shaped

    data, in_shape = CNN_SHAPES[name][:2]
    assert {"mnist1d-cnn": MNIST1D_CNN["arch"], "digits-cnn": DIGITS_CNN["arch"]}.get(
        name, arch) == arch
    model = SpikingConvNet(arch, in_shape=in_shape, n_classes=10, bn=False).eval()
    trained = quantize(model, w_bits=8, u_bits=16).to_ir()
    shaped = cnn_shaped(name, in_bits=5)

    def geometry(net):
        return [(ly.kind, ly.n_in, ly.n_out, *((ly.in_shape, ly.kernel, ly.stride,
                                               ly.padding) if ly.kind == "conv" else ()))
                for ly in net.layers]

    assert geometry(shaped) == geometry(trained)
    assert load_data(data).x_test.shape[-1] == shaped.n_in
