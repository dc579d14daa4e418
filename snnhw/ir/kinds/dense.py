"""The ``dense`` layer kind (schema v1): ``I = b + W @ s_in`` (docs/arithmetic.md)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..archive import field as manifest_field
from ..archive import layer_array, neuron_fields
from ..errors import IRRangeError, IRShapeError, _as_int_array, _where
from ..neuron import MAX_NEURONS, MAX_WEIGHTS, NeuronFields

__all__ = ["DenseLayer"]


@dataclass(eq=False, kw_only=True)
class DenseLayer(NeuronFields):
    """One fully connected layer of integer LIF neurons (docs/arithmetic.md, "Per layer"):
    ``W`` of shape ``(n_out, n_in)``, ``b`` of shape ``(n_out,)``; the other fields are
    :class:`~snnhw.ir.neuron.NeuronFields`'."""

    kind: str = field(default="dense")

    KIND: ClassVar[str] = "dense"

    @property
    def n_in(self) -> int:
        return int(self.W.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.W.shape[0])

    @property
    def bias_per_neuron(self) -> np.ndarray:
        return self.b

    def abs_row_sums(self) -> np.ndarray:
        return np.abs(self.W).sum(axis=1)

    def synops_per_event(self) -> dict:
        return {"max": self.n_out, "mean": float(self.n_out)}

    def validate(self, index: int | None = None) -> None:
        """Check every field against docs/arithmetic.md; normalise arrays to int64.

        Raises
        ------
        IRError
            A subclass naming the layer, the field and the bad value.
        """
        self._validate_neuron(index)
        W = _as_int_array(self.W, "W", index)
        b = _as_int_array(self.b, "b", index)
        if W.ndim != 2 or W.shape[0] < 1 or W.shape[1] < 1:
            raise IRShapeError(
                f"{_where(index)}: array 'W' must have shape (n_out, n_in) with "
                f"both >= 1, got {W.shape}"
            )
        if W.shape[0] > MAX_NEURONS or W.shape[1] > MAX_NEURONS:
            raise IRRangeError(
                f"{_where(index)}: array 'W' shape {W.shape} exceeds "
                f"{MAX_NEURONS} neurons per side"
            )
        if b.shape != (W.shape[0],):
            raise IRShapeError(
                f"{_where(index)}: array 'b' must have shape ({W.shape[0]},) "
                f"to match W, got {b.shape}"
            )
        self._store_arrays(W, b, index)

    def geometry(self, s_max_in: int) -> dict:
        return {}

    @classmethod
    def from_manifest(cls, zf: zipfile.ZipFile, ld: dict, i: int) -> DenseLayer:
        """Layer ``i`` of an archive, its manifest entry ``ld`` (checked by the caller's
        :meth:`validate`)."""
        where = f"layer {i}"
        n_in, n_out = manifest_field(ld, "n_in", where), manifest_field(ld, "n_out", where)
        if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_NEURONS
                   for v in (n_in, n_out)) or n_in * n_out > MAX_WEIGHTS:
            raise IRShapeError(f"{where}: n_in = {n_in!r}, n_out = {n_out!r}: each must be "
                               f"1..{MAX_NEURONS} and n_in * n_out at most {MAX_WEIGHTS}")
        W = layer_array(zf, i, "W", n_in * n_out)
        b = layer_array(zf, i, "b", n_out)
        for key, n in (("n_in", 1), ("n_out", 0)):
            if W.ndim == 2 and ld[key] != W.shape[n]:
                raise IRShapeError(f"{where}: manifest says {key} = {ld[key]!r} but W has "
                                   f"shape {W.shape}")
        return cls(W=W, b=b, kind=cls.KIND, **neuron_fields(ld, where))

    def scalars(self) -> dict:
        """The layer's non-array fields, as stored in the manifest."""
        return {"kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                **self._neuron_scalars()}
