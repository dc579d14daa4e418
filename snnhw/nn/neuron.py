"""Float multi-bit LIF neuron for training: charge -> fire -> reset, per step.

Names follow docs/arithmetic.md. The float neuron works in units where the threshold is
``theta`` (default 1.0) and has no saturation; its integer counterpart, with
the same fields, is :class:`snnhw.nn.quant.IntegerLayer`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..ir import RESETS
from .surrogate import FIRE_MODES, Surrogate, spike, surrogate

__all__ = ["MultiBitLIF", "SpikingLayers", "neuron_list"]


class MultiBitLIF(nn.Module):
    """Multi-bit LIF neuron with soft or hard reset and optional MPR.

    Parameters
    ----------
    spike_bits : int
        Output spike width, 1..8 (1 = binary). ``s_max = 2**spike_bits - 1``.
    reset : {"soft", "hard"}
        Soft subtracts ``s * theta`` (the emitted amount); hard sets to zero.
    leak_shift : int or None
        ``None`` for IF; ``L`` for decay ``1 - 2**-L`` (a shift in hardware).
    fire : {"half", "floor"}
        ``half`` fires when ``v > theta/2`` (round-half-down, InfLoR);
        ``floor`` when ``v >= theta`` (classic LIF).
    mpr : bool
        Use the Membrane Potential Rectifier surrogate (training only; the
        forward spike is the same either way). Off means straight-through.
    theta : float
        Threshold in float units.
    detach_reset : bool
        Stop the gradient through the reset term.

    Notes
    -----
    Call with a sequence ``I[T, batch, n]`` of charges; returns spikes of the
    same shape (integer-valued floats ``0..s_max``). State starts at zero on
    every call. With ``record=True`` the pre-fire membranes ``v`` and the
    spikes are kept in ``self.recorded`` for RMP-Loss.
    """

    def __init__(self, spike_bits: int = 1, reset: str = "soft", leak_shift: int | None = None,
                 fire: str = "half", mpr: bool = True, theta: float = 1.0,
                 detach_reset: bool = False):
        super().__init__()
        if not isinstance(spike_bits, int) or not 1 <= spike_bits <= 8:
            raise ValueError(f"spike_bits must be an integer in 1..8, got {spike_bits!r}")
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
        if leak_shift is not None and (isinstance(leak_shift, bool)
                                       or not isinstance(leak_shift, int)
                                       or not 1 <= leak_shift <= 32):
            raise ValueError(f"leak_shift must be None or an integer in 1..32, got "
                             f"{leak_shift!r}")
        if fire not in FIRE_MODES:
            raise ValueError(f"fire must be one of {FIRE_MODES}, got {fire!r}")
        if not theta > 0:
            raise ValueError(f"theta must be positive, got {theta!r}")
        self.spike_bits = spike_bits
        self.reset = reset
        self.leak_shift = leak_shift
        self.fire = fire
        self.mpr = mpr
        self.theta = float(theta)
        self.detach_reset = detach_reset
        self.sg: Surrogate = surrogate("mpr" if mpr else "ste")
        self.record = False
        self.recorded: list[tuple[torch.Tensor, torch.Tensor]] = []

    @property
    def s_max(self) -> int:
        return (1 << self.spike_bits) - 1

    @property
    def decay(self) -> float:
        return 1.0 if self.leak_shift is None else 1.0 - 2.0 ** -self.leak_shift

    def extra_repr(self) -> str:
        return (f"spike_bits={self.spike_bits}, reset={self.reset}, leak_shift={self.leak_shift}, "
                f"fire={self.fire}, mpr={self.mpr}, theta={self.theta}")

    def charge(self, u: torch.Tensor, I: torch.Tensor) -> torch.Tensor:
        """Leak then integrate: ``v = decay * u + I``."""
        return (u * self.decay if self.leak_shift is not None else u) + I

    def fire_(self, v: torch.Tensor) -> torch.Tensor:
        """Multi-bit spike of ``v`` with the surrogate gradient."""
        return spike(v / self.theta, self.s_max, self.fire, self.sg)

    def reset_(self, v: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        r = s.detach() if self.detach_reset else s
        if self.reset == "soft":
            return v - r * self.theta
        return v * (1.0 - r.clamp(max=1.0))

    def forward(self, I: torch.Tensor, feedback: torch.nn.Module | None = None
                ) -> torch.Tensor:
        """Spikes ``[T, batch, ...]`` of the charges ``I``; ``feedback`` (a recurrent
        layer's ``R``, docs/arithmetic.md "Recurrence") adds ``feedback(s[t-1])`` to
        the charge of step ``t``."""
        self.recorded = []
        u = torch.zeros_like(I[0])
        out = []
        for t in range(I.shape[0]):
            It = I[t] if feedback is None or t == 0 else I[t] + feedback(out[-1])
            v = self.charge(u, It)
            s = self.fire_(v)
            u = self.reset_(v, s)
            if self.record:
                self.recorded.append((v / self.theta, s))
            out.append(s)
        return torch.stack(out)


def neuron_list(spiking: int, neuron: dict, leak_shifts: list | None = None) -> nn.ModuleList:
    """``spiking`` neurons of the same ``neuron`` arguments; ``leak_shifts`` (one per
    neuron) overrides each one's leak (models imported from NIR leak per layer)."""
    if leak_shifts is not None and len(leak_shifts) != spiking:
        raise ValueError(f"leak_shifts: {spiking} spiking layers, got {len(leak_shifts)} "
                         "values")
    per_layer = [dict(neuron) for _ in range(spiking)]
    for i, shift in enumerate(leak_shifts or []):
        per_layer[i]["leak_shift"] = shift
    return nn.ModuleList(MultiBitLIF(**kw) for kw in per_layer)


class SpikingLayers:
    """What the trainer needs of a model whose neurons are ``self.lif``."""

    lif: nn.ModuleList

    @property
    def neurons(self) -> list[MultiBitLIF]:
        return list(self.lif)

    def set_qat(self, w_bits, u_bits: int = 16, k_rule: str = "mse") -> None:
        """From now on the forward pass is the export's integer arithmetic at these widths
        (quantisation-aware training, :mod:`snnhw.nn.qat`; ``w_bits`` one width or one per
        layer), kept in the config and the checkpoint, with the rule that chooses each
        layer's threshold exponent (:func:`~snnhw.nn.quant.quantize`); ``w_bits=None``
        returns to the float forward pass."""
        from .qat import check_qat

        if w_bits is None:
            self.config.pop("qat", None)
            return
        qat = check_qat({"w_bits": w_bits, "u_bits": u_bits, "k_rule": k_rule})
        self.check_widths(qat["w_bits"])      # refused: the model keeps its forward pass
        self.config["qat"] = qat

    def check_widths(self, w_bits) -> None:
        """A one-line ``ValueError`` unless ``w_bits`` is one weight width or one per layer
        of this model (:func:`~snnhw.nn.quant.layer_widths`)."""
        from .quant import layer_widths

        layer_widths(w_bits, len(self.float_layers()))

    def integer_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The forward pass of a model with ``qat`` set (:meth:`set_qat`)."""
        from .qat import integer_forward

        return integer_forward(self, x, **self.config["qat"])[0]

    def record(self, on: bool = True) -> None:
        """Keep pre-fire membranes and spikes of every neuron (for RMP-Loss)."""
        for n in self.lif:
            n.record = on
            n.recorded = []
