"""Multi-bit spike quantiser with surrogate gradients, and the MPR function.

Everything here works in units of the threshold (``z = v / theta``).

Forward (the fire rule of docs/arithmetic.md, scaled): the spike is a staircase of ``z``,

* ``fire="half"``: ``s = clamp(ceil(z - 1/2), 0, s_max)`` -- fires when
  ``z > 1/2`` (strict), the InfLoR rule ``phi(u) > 0.5``; the integer form is
  ``fire_offset = 2**(k-1) - 1``;
* ``fire="floor"``: ``s = clamp(floor(z), 0, s_max)`` -- the classic LIF
  threshold; the integer form is ``fire_offset = 0``.

Backward: the staircase has zero gradient almost everywhere, so a surrogate
stands in for it. Each surrogate is a smooth *primitive* ``g(z)`` (a smoothed
staircase) with a hand-written derivative ``g'(z)``; the spike's backward is
``grad * g'(z)``. Tests check ``g'`` against finite differences of ``g`` with
``torch.autograd.gradcheck``.

Surrogates (:func:`surrogate` builds them by name):

* ``"ste"``: straight-through on the clipped range, ``g(z) = clamp(z', 0, s_max)``.
* ``"mpr"``: the Membrane Potential Rectifier of InfLoR-SNN (docs/training.md) on
  every level: ``g(z) = n + phi(z' - n)`` for ``z'`` in ``[n, n+1]``, so
  ``g'(z) = phi'(z' - n)`` inside ``(0, s_max)`` and 0 outside. For binary
  spikes this is exactly the paper's ``d o / d u = phi'(u)`` on ``(0, 1)``.
  Extending it level by level to multi-bit spikes is snnhw's choice (the
  paper is binary).

Here ``z' = z`` for ``fire="half"`` and ``z' = z + 1/2`` for ``fire="floor"``,
so the surrogate is centred on each step of the staircase either way.
"""

from __future__ import annotations

import math

import torch

__all__ = ["mpr", "mpr_grad", "Surrogate", "STE", "MPR", "surrogate", "spike", "SpikeFunction",
           "PrimitiveFunction", "FIRE_MODES"]

FIRE_MODES = ("half", "floor")
_TANH_15 = math.tanh(1.5)


def mpr(u: torch.Tensor) -> torch.Tensor:
    """The MPR ``phi(u)`` of docs/training.md (slope 3, centre 0.5)."""
    mid = 0.5 * torch.tanh(3.0 * (u - 0.5)) / _TANH_15 + 0.5
    low = 1.0 - (1.0 - u.clamp(max=0.0)).pow(1.0 / 3.0)
    high = u.clamp(min=1.0).pow(1.0 / 3.0)
    return torch.where(u < 0, low, torch.where(u > 1, high, mid))


def mpr_grad(u: torch.Tensor) -> torch.Tensor:
    """``phi'(u)`` on ``(0, 1)``, zero elsewhere: InfLoR's straight-through gradient."""
    sech2 = 1.0 - torch.tanh(3.0 * (u - 0.5)) ** 2
    inside = (u > 0) & (u < 1)
    return torch.where(inside, 1.5 * sech2 / _TANH_15, torch.zeros_like(u))


class Surrogate:
    """A smoothed staircase ``g`` on ``[0, s_max]`` and its derivative."""

    name = "base"

    def primitive(self, z: torch.Tensor, s_max: int) -> torch.Tensor:
        raise NotImplementedError

    def grad(self, z: torch.Tensor, s_max: int) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class STE(Surrogate):
    """Straight-through on the clipped range: ``g'(z) = 1`` on ``(0, s_max)``."""

    name = "ste"

    def primitive(self, z, s_max):
        return z.clamp(0, s_max)

    def grad(self, z, s_max):
        return ((z > 0) & (z < s_max)).to(z.dtype)


class MPR(Surrogate):
    """MPR on every level: ``g'(z) = phi'(z - floor(z))`` on ``(0, s_max)``."""

    name = "mpr"

    def primitive(self, z, s_max):
        n = z.floor().clamp(0, s_max - 1)
        inner = n + mpr((z - n).clamp(0, 1))
        return torch.where(z <= 0, torch.zeros_like(z),
                           torch.where(z >= s_max, torch.full_like(z, float(s_max)), inner))

    def grad(self, z, s_max):
        n = z.floor().clamp(0, s_max - 1)
        g = mpr_grad(z - n)
        return torch.where((z > 0) & (z < s_max), g, torch.zeros_like(z))


_SURROGATES = {"ste": STE, "mpr": MPR}


def surrogate(name: str) -> Surrogate:
    """Build a surrogate by name: ``"ste"`` or ``"mpr"``."""
    try:
        return _SURROGATES[name]()
    except KeyError:
        raise ValueError(f"unknown surrogate {name!r}; one of {sorted(_SURROGATES)}") from None


def _shift(fire: str) -> float:
    if fire not in FIRE_MODES:
        raise ValueError(f"fire must be one of {FIRE_MODES}, got {fire!r}")
    return 0.0 if fire == "half" else 0.5


def staircase(z: torch.Tensor, s_max: int, fire: str) -> torch.Tensor:
    """The forward spike (no gradient): see the module docstring."""
    q = torch.ceil(z - 0.5) if fire == "half" else torch.floor(z)
    return q.clamp(0, s_max)


class SpikeFunction(torch.autograd.Function):
    """Staircase forward, surrogate backward."""

    @staticmethod
    def forward(ctx, z, s_max: int, fire: str, sg: Surrogate):
        ctx.save_for_backward(z)
        ctx.s_max, ctx.shift, ctx.sg = s_max, _shift(fire), sg
        return staircase(z, s_max, fire)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        return grad_out * ctx.sg.grad(z + ctx.shift, ctx.s_max), None, None, None


class PrimitiveFunction(torch.autograd.Function):
    """``g(z)`` with the hand-written ``g'(z)``: what gradcheck verifies."""

    @staticmethod
    def forward(ctx, z, s_max: int, sg: Surrogate):
        ctx.save_for_backward(z)
        ctx.s_max, ctx.sg = s_max, sg
        return sg.primitive(z, s_max)

    @staticmethod
    def backward(ctx, grad_out):
        (z,) = ctx.saved_tensors
        return grad_out * ctx.sg.grad(z, ctx.s_max), None, None


def spike(z: torch.Tensor, s_max: int, fire: str = "half", sg: Surrogate | None = None):
    """Multi-bit spike of ``z = v / theta`` with a surrogate gradient (default MPR)."""
    return SpikeFunction.apply(z, s_max, fire, sg if sg is not None else MPR())
