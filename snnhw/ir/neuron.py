"""The neuron fields every layer kind carries (docs/arithmetic.md, "Per layer").

A layer kind (:mod:`snnhw.ir.kinds`) differs from the others only in how the
charge ``I`` of a step is formed from the input spikes; the LIF neurons behind it,
their fields and their checks are :class:`NeuronFields`, shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..util import signed_range
from .errors import _check_array_range, _check_choice, _check_int

__all__ = ["MAX_NEURONS", "MAX_SPAN", "MAX_WEIGHTS", "NEURON_KEYS", "RESETS", "NeuronFields"]

RESETS = ("soft", "hard")
MAX_NEURONS = 1 << 20
MAX_WEIGHTS = 1 << 26           # weights in one layer (the largest a front end makes)
MAX_SPAN = 1 << 16              # a map side, kernel side, stride or padding
#: the neuron fields, in manifest order
NEURON_KEYS = ("w_bits", "u_bits", "k", "fire_offset", "spike_bits", "leak_shift", "reset")


@dataclass(eq=False, kw_only=True)
class NeuronFields:
    """The weights, bias and per-neuron fields of every layer kind, and their checks
    (keyword-only: a kind adds its own fields in any order).

    A kind's dataclass sets ``KIND`` (its name in the manifest and the registries)
    and ``SINCE_VERSION`` (the first schema version that has it).

    Parameters
    ----------
    W : ndarray of int
        Signed weights, ``w_bits`` two's complement (the kind gives the shape).
    b : ndarray of int
        Signed bias added every time step; must fit ``u_bits``.
    w_bits : int
        Weight width, 2..16.
    u_bits : int
        Membrane register width (saturating), 8..32.
    k : int
        Threshold exponent, ``theta = 2**k``, 0..u_bits-2.
    fire_offset : int
        Constant added before the spike quantiser, 0..2**k-1.
    spike_bits : int
        Output spike width, 1..8.
    leak_shift : int or None
        ``None`` for IF (no leak), else ``L >= 1`` (decay ``1 - 2**-L``), at most
        ``u_bits``.
    reset : {"soft", "hard"}
        Soft reset subtracts the emitted amount, hard reset sets to zero.
    """

    KIND: ClassVar[str]
    SINCE_VERSION: ClassVar[int] = 1

    W: np.ndarray
    b: np.ndarray
    w_bits: int
    u_bits: int
    k: int
    fire_offset: int
    spike_bits: int
    leak_shift: int | None = None
    reset: str = "soft"

    @property
    def theta(self) -> int:
        return 1 << self.k

    @property
    def s_max(self) -> int:
        return (1 << self.spike_bits) - 1

    def _validate_neuron(self, index: int | None) -> None:
        _check_choice(self.kind, "kind", index, (self.KIND,))
        self.w_bits = _check_int(self.w_bits, "w_bits", index, 2, 16)
        self.u_bits = _check_int(self.u_bits, "u_bits", index, 8, 32)
        self.k = _check_int(self.k, "k", index, 0, self.u_bits - 2)
        self.fire_offset = _check_int(
            self.fire_offset, "fire_offset", index, 0, (1 << self.k) - 1
        )
        self.spike_bits = _check_int(self.spike_bits, "spike_bits", index, 1, 8)
        if self.leak_shift is not None:
            self.leak_shift = _check_int(
                self.leak_shift, "leak_shift", index, 1, self.u_bits
            )
        _check_choice(self.reset, "reset", index, RESETS)

    def _neuron_scalars(self) -> dict:
        return {key: getattr(self, key) for key in NEURON_KEYS}

    def _store_arrays(self, W: np.ndarray, b: np.ndarray, index: int | None) -> None:
        """Check ``W`` against ``w_bits`` and ``b`` against ``u_bits``; keep both as int64."""
        _check_array_range(W, "W", index, *signed_range(self.w_bits), f"w_bits={self.w_bits}")
        _check_array_range(b, "b", index, *signed_range(self.u_bits), f"u_bits={self.u_bits}")
        self.W = W.astype(np.int64, copy=False)
        self.b = b.astype(np.int64, copy=False)

    @property
    def feedback(self) -> np.ndarray | None:
        """``R``, the weights from the layer's own spikes of the previous step
        (docs/arithmetic.md, "Recurrence"); ``None`` for a kind without recurrence."""
        return None

    def arrays(self) -> dict:
        """The layer's integer arrays by member name, in file and hash order."""
        return {"W": self.W, "b": self.b}

    def feedback_abs_row_sums(self) -> np.ndarray | None:
        """``sum_i' |R[i, i']|`` per neuron, or ``None`` without recurrence."""
        return None

    def abs_row_sums(self) -> np.ndarray:
        """``sum_j |W[i, j]|`` for every output neuron ``i`` (flat order), exact int64."""
        raise NotImplementedError

    def synops_per_event(self) -> dict:
        """Synaptic additions one input event causes: ``max`` and ``mean`` over inputs."""
        raise NotImplementedError

    def geometry(self, s_max_in: int) -> dict:
        """Kind-specific fields for ``snnhw info`` (:func:`snnhw.ir.info.describe`)."""
        raise NotImplementedError
