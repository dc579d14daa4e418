"""The ``recurrent`` layer kind (schema v3): a dense layer that also reads its own spikes
of the previous step (docs/arithmetic.md, "Recurrence").

``I[i, t] = b[i] + sum_j W[i, j] s_in[j, t] + sum_i' R[i, i'] s[i', t-1]`` with
``s[., -1] = 0``. ``R`` is ``n_out x n_out`` with the layer's ``w_bits``; a diagonal
``R`` is a neuron that feeds back only to itself. Only a firing layer may be
recurrent (:meth:`snnhw.ir.Network.validate` refuses a recurrent membrane readout).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ...util import signed_range
from ..archive import layer_array
from ..errors import IRShapeError, _as_int_array, _check_array_range, _where
from .dense import DenseLayer

__all__ = ["RecurrentLayer"]


@dataclass(eq=False, kw_only=True)
class RecurrentLayer(DenseLayer):
    """A :class:`~snnhw.ir.DenseLayer` with ``R`` of shape ``(n_out, n_out)``: the
    weight from the layer's own neuron ``i'`` at step ``t - 1`` to neuron ``i``."""

    R: np.ndarray
    kind: str = field(default="recurrent")

    KIND: ClassVar[str] = "recurrent"
    SINCE_VERSION: ClassVar[int] = 3

    @property
    def feedback(self) -> np.ndarray:
        return self.R

    def stacked(self) -> np.ndarray:
        """``[W | R]`` (``n_out x (n_in + n_out)``): the layer as a dense layer over its
        input followed by its own spikes of the step before, the form the gateware and
        the host link store (a fed-back spike of neuron ``i'`` is input ``n_in + i'``)."""
        return np.hstack([self.W, self.R])

    def arrays(self) -> dict:
        return {"W": self.W, "b": self.b, "R": self.R}

    def feedback_abs_row_sums(self) -> np.ndarray:
        return np.abs(self.R).sum(axis=1)

    def synops_per_event(self) -> dict:
        """An input event or a fed-back spike adds into every neuron of the layer."""
        return {"max": self.n_out, "mean": float(self.n_out)}

    def validate(self, index: int | None = None) -> None:
        """:meth:`DenseLayer.validate`, and ``R``: ``(n_out, n_out)`` within ``w_bits``."""
        super().validate(index)
        R = _as_int_array(self.R, "R", index)
        if R.shape != (self.n_out, self.n_out):
            raise IRShapeError(f"{_where(index)}: array 'R' must have shape ({self.n_out}, "
                               f"{self.n_out}) (n_out x n_out), got {R.shape}")
        _check_array_range(R, "R", index, *signed_range(self.w_bits), f"w_bits={self.w_bits}")
        self.R = R.astype(np.int64, copy=False)

    def geometry(self, s_max_in: int) -> dict:
        """docs/arithmetic.md's partial-sum bound with the feedback term
        ``|b| + n_in 2**(w_bits-1) s_max_in + n_out 2**(w_bits-1) s_max``."""
        half = 1 << (self.w_bits - 1)
        return {"recurrent_synapses": int(np.count_nonzero(self.R)),
                "current_bound_formula": int(np.abs(self.b).max()) + self.n_in * half * s_max_in
                + self.n_out * half * self.s_max}

    @classmethod
    def from_manifest(cls, zf: zipfile.ZipFile, ld: dict, i: int) -> RecurrentLayer:
        dense = DenseLayer.from_manifest(zf, {**ld, "kind": DenseLayer.KIND}, i)
        R = layer_array(zf, i, "R", dense.n_out * dense.n_out)
        return cls(W=dense.W, b=dense.b, R=R, kind=cls.KIND, **dense._neuron_scalars())
