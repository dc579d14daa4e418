import math

import pytest
import torch

from snnhw.nn.neuron import MultiBitLIF
from snnhw.nn.rmp import RMPLoss


def recorded(z, s_max=1):
    n = MultiBitLIF(spike_bits=max(1, s_max.bit_length()))
    n.record = True
    n(torch.tensor(z, dtype=torch.float64).reshape(1, 1, -1))  # one step, I = z
    return n


def test_regulariser_by_hand():
    n = recorded([0.2, 0.7, 1.4, -0.3])
    # spikes [0, 1, 1, 0]; clip(z, 0, 1) - s = [0.2, -0.3, 0, 0]
    assert float(RMPLoss.regulariser([n])) == pytest.approx((0.04 + 0.09) / 4)


def test_regulariser_multibit_and_mean_over_layers():
    a = recorded([2.2, 3.9], s_max=3)   # s = [2, 3]: (0.2)^2, clip 3.9 -> 3: 0
    b = recorded([0.25])                # s = 0: 0.0625
    assert float(RMPLoss.regulariser([a, b])) == pytest.approx((0.04 / 2 + 0.0625) / 2)


def test_gradient_pulls_membranes_to_the_levels():
    z = torch.tensor([0.2, 0.8], dtype=torch.float64, requires_grad=True)
    n = MultiBitLIF(spike_bits=1)
    n.record = True
    n(z.reshape(1, 1, 2))
    RMPLoss.regulariser([n]).backward()
    # 0.2 (s=0) is pushed down, 0.8 (s=1) up; only through the membrane path
    assert z.grad[0] > 0 and z.grad[1] < 0


def test_schedules():
    assert RMPLoss(0.01).weight(7) == 0.01
    cos = RMPLoss(0.01, "cosine", total_epochs=10)
    assert cos.weight(0) == 0.0
    assert cos.weight(5) == pytest.approx(0.005)
    assert cos.weight(10) == pytest.approx(0.01)
    assert cos.weight(3) == pytest.approx(0.01 * (1 - math.cos(math.pi * 0.3)) / 2)


def test_errors():
    with pytest.raises(ValueError, match="needs total_epochs"):
        RMPLoss(0.1, "cosine")
    with pytest.raises(ValueError, match="lam must be >= 0"):
        RMPLoss(-1)
    with pytest.raises(RuntimeError, match="no recorded membranes"):
        RMPLoss.regulariser([MultiBitLIF()])
