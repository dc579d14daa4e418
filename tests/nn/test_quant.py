import numpy as np
import pytest
import torch

from snnhw import golden
from snnhw.nn.model import SpikingMLP, encode
from snnhw.nn.quant import ExportError, fold_bn, quantize


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


@pytest.mark.parametrize("kw, text", [(dict(w_bits=1), "w_bits must be in 2..16"),
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
