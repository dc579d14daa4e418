"""Quantisation-aware training: the model's forward pass is the export's integer
arithmetic, bit for bit, and its gradients reach every parameter."""

import numpy as np
import pytest
import torch

import snnhw
from snnhw import golden
from snnhw.data import load_data
from snnhw.nn.model import SpikingMLP, encode
from snnhw.nn.qat import check_qat, integer_forward
from snnhw.nn.quant import quantize


def _traces_equal_golden(model, x, w_bits, u_bits, k_rule):
    """The QAT forward pass's every layer's I, v, s, u and logits == the golden model of
    the export at the same widths and threshold rule."""
    logits, tr = integer_forward(model, torch.as_tensor(x), w_bits=w_bits, u_bits=u_bits,
                                 k_rule=k_rule)
    net = quantize(model, w_bits=w_bits, u_bits=u_bits, k_rule=k_rule).to_ir()
    g = golden.run(net, np.asarray(x, dtype=np.int64), trace=True)
    for i, (a, b) in enumerate(zip(tr["layers"], g.layers)):
        for key in "Ivsu":
            got = a[key].detach().numpy()
            assert np.array_equal(got, np.round(got)), (i, key)     # integers, held exactly
            assert np.array_equal(got.astype(np.int64), getattr(b, key)), (i, key)
    assert np.array_equal(tr["logits"].detach().numpy().astype(np.int64), g.logits)
    return logits, g


@pytest.mark.parametrize("w_bits,k_rule", [(3, "mse"), (4, "max"), (4, "mse"), (8, "mse"),
                                           ((8, 3), "mse")])
def test_the_integer_forward_pass_is_the_golden_model_and_has_gradients(w_bits, k_rule):
    torch.manual_seed(sum(np.atleast_1d(w_bits)))
    m = SpikingMLP([64, 24, 10], timesteps=4, in_bits=5, spike_bits=2, bn=True, leak_shift=3,
                   in_mean=list(np.linspace(1, 8, 64)), in_std=list(np.linspace(2, 5, 64)))
    m.train()
    m(torch.randint(0, 32, (32, 4, 64)).float())              # BatchNorm statistics
    m.eval()
    x = torch.randint(0, 32, (20, 4, 64))
    logits, g = _traces_equal_golden(m, x, w_bits, 16, k_rule)
    assert logits.argmax(1).tolist() == g.classes.tolist()
    assert [ly.w_bits for ly in quantize(m, w_bits=w_bits, k_rule=k_rule).to_ir().layers] == (
        list(w_bits) if isinstance(w_bits, tuple) else [w_bits] * 2)
    logits.logsumexp(1).sum().backward()
    grads = {n: p.grad for n, p in m.named_parameters()}
    assert all(v is not None and float(v.abs().sum()) > 0 for v in grads.values()), [
        n for n, v in grads.items() if v is None or float(v.abs().sum()) == 0]


@pytest.mark.parametrize("data,w_bits,options", [
    ("digits", 4, {"hidden": (16,), "spike_bits": 2}),
    ("digits", 4, {"arch": "c4k3p1,sp2,d16", "bn": True, "readout": "spikes"}),
    # BatchNorm's fold makes the input weights large: 4 bits cannot hold them here
    ("mnist1d-temporal", 8, {"arch": "r16", "leak_shift": 3, "bn": True, "hard": True}),
    # a width per layer: the first layer (the raw input's filter) wider than the rest
    ("digits", (8, 4, 3), {"arch": "c4k3p1,sp2,d16", "bn": True}),
])
def test_after_qat_the_model_is_its_export(data, w_bits, options):
    """A short float phase then QAT: the model's own predictions are the golden model's
    classes on the whole test split (its reported accuracy is the integer one), and its
    forward pass equals the golden model on every layer."""
    options = dict(options)
    if options.pop("hard", False):
        options["reset"] = "hard"
    t = snnhw.train(data, epochs=1, qat_epochs=1, qat_w_bits=w_bits, qat_u_bits=14, seed=1,
                    **options)
    model = t.model
    per_layer = isinstance(w_bits, tuple)
    assert model.config["qat"] == {"w_bits": list(w_bits) if per_layer else w_bits,
                                   "u_bits": 14, "k_rule": "mse"}
    m = t.export()                                   # the widths it was trained for
    widths = list(w_bits) if per_layer else [w_bits] * len(m.network.layers)
    assert [ly.w_bits for ly in m.network.layers] == widths
    assert all(ly.u_bits == 14 for ly in m.network.layers)
    assert all(int(np.abs(ly.W).max()) < 1 << (w - 1) for ly, w in zip(m.network.layers, widths))
    c = m.compare()
    assert c.agree_samples == c.samples and c.float_acc == c.int_acc == c.golden_acc
    assert t.test_acc == c.int_acc
    d = load_data(data)
    x = d.x_test[:40] if d.temporal else encode(model.config, d.x_test[:40]).numpy()
    _traces_equal_golden(model, x, w_bits, 14, "mse")


def test_a_qat_checkpoint_keeps_its_widths_and_export_takes_them(tmp_path):
    t = snnhw.train("digits", hidden=(12,), epochs=1, qat_epochs=1, qat_w_bits=5, seed=2)
    ck = t.save(tmp_path / "q.pt")
    back = snnhw.open_checkpoint(ck)
    assert back.model.config["qat"] == {"w_bits": 5, "u_bits": 16, "k_rule": "mse"}
    m = snnhw.from_checkpoint(ck)                   # widths: the ones it was trained for
    assert m.network.layers[0].w_bits == 5
    assert snnhw.from_checkpoint(ck, w_bits=8).network.layers[0].w_bits == 8
    x = torch.as_tensor(encode(back.model.config, load_data("digits").x_test[:16]))
    assert back.model(x.float()).argmax(1).tolist() == m.run(x.numpy()).classes.tolist()


def test_qat_in_one_run_is_qat_from_the_float_checkpoint(tmp_path):
    """The QAT phase starts afresh (optimizer and shuffle seeded by the config): after
    the float epochs in one run, or from the saved float model, it gives the same
    parameters, bit for bit. (It once kept the float phase's Adam moments, which damped
    its first steps and cost the default MNIST-1D CNN about 1.5 points at 8 bits.)"""
    from dataclasses import replace

    from snnhw.nn.train import TrainConfig, load_checkpoint, save_checkpoint, train

    d = load_data("digits")
    cfg = TrainConfig.for_data(d, hidden=(12,), epochs=2, qat_epochs=2, qat_w_bits=4, seed=3)
    one, _ = train(cfg, d, progress=False)
    flt, hist = train(replace(cfg, qat_epochs=0), d, progress=False)
    save_checkpoint(tmp_path / "f.pt", flt, hist, cfg)
    flt, _ = load_checkpoint(tmp_path / "f.pt")
    two, _ = train(replace(cfg, epochs=0), d, progress=False, model=flt)
    a, b = one.state_dict(), two.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert one.config["qat"] == two.config["qat"]


def test_qat_settings_are_checked():
    assert check_qat(None) is None
    for bad in ({"w_bits": 1, "u_bits": 16}, {"w_bits": 4}, {"w_bits": 4, "u_bits": 64},
                {"w_bits": True, "u_bits": 16}, [4, 16],
                {"w_bits": 4, "u_bits": 16, "k_rule": "best"}):
        with pytest.raises(ValueError, match="qat"):
            check_qat(bad)
    with pytest.raises(ValueError, match="qat"):
        SpikingMLP([4, 3], qat={"w_bits": 99, "u_bits": 16})


def test_widths_per_layer_are_checked_before_training():
    """One width per layer or one for all; a list of the wrong length is refused in one
    line naming the layer count, before the float epochs run (not after them)."""
    from snnhw.nn.quant import ExportError, layer_widths

    assert layer_widths(4, 3) == [4, 4, 4] and layer_widths((8, 4, 4), 3) == [8, 4, 4]
    for bad in ((8, 4), (8, 4, 1), (8, 4, True), "8,4,4", 17, None):
        with pytest.raises(ExportError, match="w_bits"):
            layer_widths(bad, 3)
    with pytest.raises(ValueError, match="the network has 2 weight layers"):
        snnhw.train("digits", hidden=(12,), epochs=100_000, qat_epochs=1,
                    qat_w_bits=(8, 4, 4))
    with pytest.raises(ValueError, match="qat"):
        check_qat({"w_bits": [], "u_bits": 16})
    m = SpikingMLP([8, 4, 3])
    with pytest.raises(ValueError, match="the network has 2 weight layers"):
        m.set_qat([4, 4, 4])
    assert "qat" not in m.config                    # refused: the model is unchanged
    with pytest.raises(ValueError, match="the network has 2 weight layers"):
        quantize(m, w_bits=[4])


def test_the_mse_rule_clips_a_few_outliers_for_a_finer_step():
    """A layer of small weights and one outlier: ``max`` takes the k that holds the
    outlier, ``mse`` a larger one (the outlier clipped to the widest weight), and its
    weights are nearer the float ones; both are legal IR."""
    torch.manual_seed(0)
    m = SpikingMLP([32, 8, 4], timesteps=2, in_bits=4, spike_bits=1)
    with torch.no_grad():                   # per input unit (in_scale 1/16): within ±0.1
        m.fc[0].weight.uniform_(-1.6, 1.6)  # and one at 0.3
        m.fc[0].weight[0, 0] = 4.8
    ks = {rule: quantize(m, w_bits=4, k_rule=rule).layers[0].k for rule in ("max", "mse")}
    assert ks["mse"] > ks["max"]
    q = quantize(m, w_bits=4, k_rule="mse")
    assert int(q.layers[0].W.abs().max()) == 7 and int(q.layers[0].W[0, 0]) == 7
    q.to_ir()                                       # validated: every weight within w_bits
