import numpy as np
import pytest
import torch

from snnhw.nn.neuron import MultiBitLIF
from snnhw.nn.quant import IntegerLayer, IntegerSNN


def run(neuron, charges):
    I = torch.tensor(charges, dtype=torch.float64).reshape(len(charges), 1, 1)
    neuron.record = True
    s = neuron(I)
    return s.flatten().tolist(), [float(v) for v, _ in neuron.recorded]


def test_soft_reset_keeps_the_excess():
    s, v = run(MultiBitLIF(spike_bits=1, reset="soft"), [0.8, 0.8, 0.8])
    # v: 0.8 -> fire, u 0.8-1=-0.2; v=0.6 -> fire, u=-0.4; v=0.4 -> no
    assert s == [1, 1, 0]
    assert v == pytest.approx([0.8, 0.6, 0.4])


def test_hard_reset_throws_the_excess_away():
    s, v = run(MultiBitLIF(spike_bits=1, reset="hard"), [0.8, 0.8, 0.8])
    assert s == [1, 1, 1]
    assert v == pytest.approx([0.8, 0.8, 0.8])


def test_multibit_spike_and_leak():
    s, v = run(MultiBitLIF(spike_bits=2, leak_shift=1, theta=2.0), [5.0, 0.0, 14.0])
    # v=5 -> z=2.5 -> s=2 (half down), u=1; leak 0.5 -> v=0.5 -> z .25 -> 0; u .5*.5+14=14.25 -> 3
    assert s == [2, 0, 3]
    assert v == pytest.approx([2.5, 0.25, 7.125])


def test_state_starts_at_zero_every_call():
    n = MultiBitLIF(spike_bits=1)
    a = run(n, [0.3, 0.3])[0]
    b = run(n, [0.3, 0.3])[0]
    assert a == b == [0, 1]


@pytest.mark.parametrize("kwargs, text", [
    (dict(spike_bits=0), "spike_bits must be an integer in 1..8"),
    (dict(reset="zero"), "reset must be one of"),
    (dict(leak_shift=0), "leak_shift must be None or an integer in 1..32"),
    (dict(fire="round"), "fire must be one of"),
    (dict(theta=0.0), "theta must be positive"),
])
def test_bad_arguments(kwargs, text):
    with pytest.raises(ValueError, match=text):
        MultiBitLIF(**kwargs)


@pytest.mark.parametrize("fire, offset", [("half", lambda k: (1 << (k - 1)) - 1),
                                          ("floor", lambda k: 0)])
@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_float_neuron_equals_integer_rule_on_integer_charges(fire, offset, reset):
    # theta = 2**k and integer charges: the float neuron is exact, so it must
    # give the integer spikes of docs/arithmetic.md with the mapped fire_offset.
    k, spike_bits, T = 3, 2, 12
    rng = np.random.default_rng(0)
    charges = rng.integers(-20, 40, (T, 50))
    neuron = MultiBitLIF(spike_bits=spike_bits, reset=reset, fire=fire, theta=float(1 << k))
    s_float = neuron(torch.tensor(charges, dtype=torch.float64).unsqueeze(1)).squeeze(1)
    # an identity layer with bias -20 turns inputs charges+20 (>= 0) back into the charges
    layer = IntegerLayer(W=torch.eye(50, dtype=torch.int64),
                         b=torch.full((50,), -20, dtype=torch.int64), w_bits=8, u_bits=24, k=k,
                         fire_offset=offset(k), spike_bits=spike_bits, leak_shift=None,
                         reset=reset)
    snn = IntegerSNN([layer], in_bits=8, timesteps=T, readout="spikes")
    r = snn.run(torch.tensor(charges + 20)[None])
    assert r["layers"][0]["I"][0].tolist() == charges.tolist()
    assert r["layers"][0]["s"][0].tolist() == s_float.to(torch.int64).tolist()
    assert s_float.sum() > 20  # the comparison covers real spikes
