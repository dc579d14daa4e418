import numpy as np
import pytest
import torch

from snnhw.nn.convert import ReLUMLP, activation_scales, convert, l4_ratio
from snnhw.nn.model import poisson_encode


def test_l4_ratio_by_hand():
    W = torch.tensor([[1.0, 1.0, 1.0, 1.0], [3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert l4_ratio(W).tolist() == pytest.approx([2 ** 0.5 / 2, 1.0, 1.0])


def small_ann():
    torch.manual_seed(0)
    ann = ReLUMLP([4, 3, 2])
    with torch.no_grad():
        ann.fc[0].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [1.0, 1.0, 1.0, 1.0]]))
        ann.fc[0].bias.zero_()
        ann.fc[1].weight.copy_(torch.tensor([[1.0, -1.0, 0.5], [0.0, 1.0, 2.0]]))
        ann.fc[1].bias.copy_(torch.tensor([0.1, -0.2]))
    return ann


def test_activation_scales_are_percentiles():
    ann = small_ann()
    rates = torch.rand(1000, 4, generator=torch.Generator().manual_seed(0))
    lam = activation_scales(ann, rates, percentile=50)[0]
    _, hidden = ann(rates, return_hidden=True)
    assert lam == pytest.approx(float(np.percentile(hidden[0].detach().numpy(), 50)))


def test_normalisation_formula_without_and_with_l4():
    ann = small_ann()
    rates = torch.rand(500, 4, generator=torch.Generator().manual_seed(1))
    lam = activation_scales(ann, rates)[0]
    snn = convert(ann, rates, timesteps=8, spike_bits=2)
    W0 = ann.fc[0].weight * 3 / lam
    assert torch.allclose(snn.fc[0].weight, W0)
    assert torch.allclose(snn.fc[1].weight, ann.fc[1].weight * lam / 3)
    assert torch.allclose(snn.fc[1].bias, ann.fc[1].bias)
    adj = convert(ann, rates, timesteps=8, spike_bits=2, l4_strength=1.0)
    rho = l4_ratio(W0)
    c = (rho / rho.mean()) ** -1.0
    assert torch.allclose(adj.fc[0].weight, W0 * c[:, None])
    # the spread-out row (lowest L4/L2) is scaled up, the one-hot rows down
    assert c[2] > 1 > c[0]


def test_rates_track_the_ann_at_large_t():
    ann = small_ann()
    rates = torch.full((1, 4), 0.5)
    snn = convert(ann, torch.rand(500, 4, generator=torch.Generator().manual_seed(2)),
                  timesteps=400, spike_bits=1, percentile=100)
    spikes = poisson_encode(rates, 400, seed=0)
    snn.record(True)
    with torch.no_grad():
        snn(spikes)
    rate = torch.stack([s for _, s in snn.lif[0].recorded]).mean(0).flatten()
    lam = activation_scales(ann, torch.rand(500, 4, generator=torch.Generator().manual_seed(2)),
                            100)[0]
    expect = ann(rates, return_hidden=True)[1][0].detach().flatten() / lam
    assert torch.allclose(rate, expect, atol=0.06)


def test_poisson_encoding_is_seeded_and_bounded():
    r = torch.tensor([[0.0, 0.25, 1.0]])
    a = poisson_encode(r, 2000, seed=5)
    assert torch.equal(a, poisson_encode(r, 2000, seed=5))
    assert not torch.equal(a, poisson_encode(r, 2000, seed=6))
    m = a.mean(1).flatten().tolist()
    assert m[0] == 0 and m[2] == 1 and abs(m[1] - 0.25) < 0.03
    with pytest.raises(ValueError, match="rates must lie in"):
        poisson_encode(torch.tensor([[1.5]]), 3, seed=0)


def test_cnn_conversion_scales_per_layer_and_l4_per_output_channel():
    from snnhw.nn.conv import SpikingConvNet
    from snnhw.nn.convert import ReLUCNN

    torch.manual_seed(0)
    ann = ReLUCNN("c3k3p1,sp2,d5", (1, 4, 4), 2).eval()
    rates = torch.rand(300, 16, generator=torch.Generator().manual_seed(3))
    lam = activation_scales(ann, rates)
    _, hidden = ann(rates, return_hidden=True)
    assert lam[0] == pytest.approx(float(np.percentile(hidden[0].detach().numpy(), 99.9)))
    snn = convert(ann, rates, timesteps=8, spike_bits=2)
    assert isinstance(snn, SpikingConvNet) and snn.config["encoding"] == "poisson"
    W0 = ann.fc[0].weight * 3 / lam[0]
    assert torch.allclose(snn.ops[0].weight, W0)
    assert torch.allclose(snn.ops[1].weight, ann.fc[1].weight * lam[0] / 3 * 3 / lam[1])
    adj = convert(ann, rates, timesteps=8, spike_bits=2, l4_strength=1.0)
    rows = W0.reshape(3, -1)
    rho = rows.norm(p=4, dim=1) / rows.norm(p=2, dim=1)      # one ratio per output channel
    c = (rho / rho.mean()) ** -1.0
    assert torch.allclose(adj.ops[0].weight, W0 * c[:, None, None, None])
    assert torch.allclose(adj.ops[0].bias, snn.ops[0].bias * c)


def test_cnn_conversion_tracks_the_ann_on_digits():
    from snnhw.data import load_data
    from snnhw.nn.convert import ReLUCNN, snn_accuracy, train_ann

    d = load_data("digits")
    torch.manual_seed(0)
    ann = train_ann(None, d.x_train, d.y_train, epochs=8, x_max=16.0,
                    net=ReLUCNN("c8k3p1,sp2,d32", (1, 8, 8), 10))
    with torch.no_grad():
        ann_acc = float((ann(torch.as_tensor(d.x_test, dtype=torch.float32) / 16).argmax(1)
                         .numpy() == d.y_test).mean())
    calib = torch.as_tensor(d.x_train[:300], dtype=torch.float32) / 16
    snn = convert(ann, calib, timesteps=32)
    acc = snn_accuracy(snn, d.x_test, d.y_test, seed=0)
    assert ann_acc > 0.9 and acc > ann_acc - 0.08, (ann_acc, acc)


def test_direct_normalised_conversion_computes_the_anns_first_layer_exactly():
    """With direct encoding and normalised inputs the SNN's first layer charge per step is
    the ANN's first pre-activation in units of lam / s_max, on raw integers (the
    normalisation folded), and the SNN exports bit-exact."""
    from snnhw.nn.convert import InputMap
    from snnhw.nn.export import compare, export_model

    rng = np.random.default_rng(0)
    x = rng.integers(0, 32, (400, 4))
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    inputs = InputMap(encoding="direct", x_max=31.0, in_bits=5,
                      mean=list(x.mean(0)), std=list(x.std(0)))
    ann = small_ann()
    feats = inputs.features(x)
    snn = convert(ann, feats, timesteps=8, spike_bits=2, inputs=inputs)
    lam = activation_scales(ann, feats)[0]
    W, b = snn.float_layers()[0].W, snn.float_layers()[0].b      # per raw input unit
    charge = torch.as_tensor(x, dtype=torch.float64) @ W.T + b
    want = ann.fc[0](feats).double() * 3 / lam
    assert torch.allclose(charge, want, atol=1e-4)
    assert snn.config["encoding"] == "direct" and snn.config["in_bits"] == 5
    q, net = export_model(snn)
    c = compare(snn, q, net, x, y)
    assert c.agree_samples == c.samples == 400


def test_normalised_inputs_need_direct_encoding():
    from snnhw.nn.convert import InputMap

    with pytest.raises(ValueError, match="direct encoding only"):
        InputMap(encoding="poisson", mean=[0.0], std=[1.0])
    with pytest.raises(ValueError, match="encoding must be"):
        InputMap(encoding="rate")


def test_api_convert_direct_normalised_on_digits():
    import snnhw

    c = snnhw.convert("digits", hidden=(32,), epochs=5, timesteps=8, l4=0.0,
                      encoding="direct", normalize=True)
    assert c.encoding == "direct" and c.normalize and c.snn_test_acc > 0.8
    assert c.snn_test_acc > c.ann_test_acc - 0.1, (c.snn_test_acc, c.ann_test_acc)
    m = c.export()
    cmp = m.compare()
    assert cmp.agree_samples == cmp.samples and cmp.int_acc > 0.8
    with pytest.raises(snnhw.InputError, match="normalize converts an MLP") as err:
        snnhw.convert("digits", normalize=True)
    assert "--encoding direct" in err.value.cli


def test_cli_convert_direct_normalised(tmp_path, capsys):
    import json

    from snnhw.cli import main

    out = tmp_path / "c.pt"
    assert main(["convert", "--encoding", "direct", "--normalize", "--epochs", "2", "-T", "4",
                 "--l4", "0", "--hidden", "16", "-o", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["encoding"] == "direct" and r["normalize"] is True and out.is_file()
    assert main(["convert", "--normalize", "-o", str(tmp_path / "d.pt")]) == 2
    assert "--normalize converts an MLP with --encoding direct" in capsys.readouterr().err


def test_a_cnns_batchnorm_is_folded_before_conversion():
    """ReLUCNN(bn=True): the converted first layer is conv and BatchNorm folded (eval
    statistics), scaled by s_max / lam, and the SNN's charge matches the ANN's."""
    from snnhw.nn.convert import ReLUCNN

    torch.manual_seed(0)
    ann = ReLUCNN("c4k3p1,sp2,d8", (1, 1, 12), 3, bn=True)
    with torch.no_grad():
        ann.bn[0].running_mean.copy_(torch.linspace(-0.5, 0.5, 4))
        ann.bn[0].running_var.copy_(torch.linspace(0.5, 2.0, 4))
        ann.bn[0].weight.copy_(torch.linspace(0.5, 1.5, 4))
        ann.bn[0].bias.copy_(torch.linspace(-0.1, 0.2, 4))
    ann.eval()
    rates = torch.rand(300, 12, generator=torch.Generator().manual_seed(1))
    snn = convert(ann, rates, timesteps=4, spike_bits=2)
    lam = activation_scales(ann, rates)[0]
    scale = ann.bn[0].weight / torch.sqrt(ann.bn[0].running_var + ann.bn[0].eps)
    W = ann.fc[0].weight * scale[:, None, None, None] * 3 / lam
    b = ((ann.fc[0].bias - ann.bn[0].running_mean) * scale + ann.bn[0].bias) * 3 / lam
    assert torch.allclose(snn.ops[0].weight, W, atol=1e-6)
    assert torch.allclose(snn.ops[0].bias, b, atol=1e-6)
