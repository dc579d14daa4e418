import math

import pytest
import torch

from snnhw.nn.surrogate import (
    MPR,
    STE,
    PrimitiveFunction,
    mpr,
    mpr_grad,
    spike,
    staircase,
    surrogate,
)


def test_mpr_formula_at_known_points():
    u = torch.tensor([-7.0, 0.0, 0.5, 1.0, 8.0], dtype=torch.float64)
    got = mpr(u).tolist()
    # -7: 1 - 8**(1/3) = -1; 0 -> 0; 0.5 -> 0.5; 1 -> 1; 8 -> 2
    assert got == pytest.approx([-1.0, 0.0, 0.5, 1.0, 2.0], abs=1e-12)
    mid = 0.5 * math.tanh(3 * (0.8 - 0.5)) / math.tanh(1.5) + 0.5
    assert float(mpr(torch.tensor(0.8, dtype=torch.float64))) == pytest.approx(mid, abs=1e-15)


def test_mpr_is_monotonic_and_changes_no_spike():
    u = torch.linspace(-3, 4, 7001, dtype=torch.float64)
    phi = mpr(u)
    assert bool((phi[1:] >= phi[:-1]).all())
    # phi(u) > 0.5 exactly when u > 0.5: MPR is training-only (docs/training.md)
    assert torch.equal(phi > 0.5, u > 0.5)


def test_mpr_grad_is_phi_prime_inside_and_zero_outside():
    u = torch.linspace(0.01, 0.99, 99, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(mpr(u).sum(), u)
    assert torch.allclose(mpr_grad(u.detach()), g, atol=1e-12)
    outside = torch.tensor([-0.5, 0.0, 1.0, 1.7], dtype=torch.float64)
    assert mpr_grad(outside).tolist() == [0.0, 0.0, 0.0, 0.0]


def away_from_levels(s_max, n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    levels = torch.randint(-1, s_max + 1, (n,), generator=g).double()
    return (levels + 0.05 + 0.9 * torch.rand(n, generator=g, dtype=torch.float64)).requires_grad_()


@pytest.mark.parametrize("sg", [STE(), MPR()])
@pytest.mark.parametrize("s_max", [1, 3, 15])
def test_gradcheck_surrogate_derivative(sg, s_max):
    z = away_from_levels(s_max)
    assert torch.autograd.gradcheck(lambda t: PrimitiveFunction.apply(t, s_max, sg), (z,),
                                    eps=1e-6, atol=1e-5)


def test_gradcheck_fails_for_a_wrong_derivative():
    class Wrong(MPR):
        def grad(self, z, s_max):
            return 2 * super().grad(z, s_max)
    z = away_from_levels(3)
    assert not torch.autograd.gradcheck(lambda t: PrimitiveFunction.apply(t, 3, Wrong()), (z,),
                                        eps=1e-6, atol=1e-5, raise_exception=False)


def test_staircase_half_and_floor():
    z = torch.tensor([-1.0, 0.5, 0.5001, 1.5, 1.5001, 2.0, 9.0])
    assert staircase(z, 3, "half").tolist() == [0, 0, 1, 1, 2, 2, 3]
    assert staircase(z, 3, "floor").tolist() == [0, 0, 0, 1, 1, 2, 3]


def test_spike_backward_uses_the_surrogate():
    z = torch.tensor([0.3, 0.5, 1.2, 3.5], dtype=torch.float64, requires_grad=True)
    spike(z, 3, "half", MPR()).sum().backward()
    assert torch.allclose(z.grad, MPR().grad(z.detach(), 3))
    z2 = z.detach().clone().requires_grad_()
    spike(z2, 3, "floor", STE()).sum().backward()
    # floor mode centres the surrogate on the step at integers: z + 1/2
    assert z2.grad.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_surrogate_factory():
    assert isinstance(surrogate("mpr"), MPR) and isinstance(surrogate("ste"), STE)
    with pytest.raises(ValueError, match="unknown surrogate 'sigmoidish'"):
        surrogate("sigmoidish")
