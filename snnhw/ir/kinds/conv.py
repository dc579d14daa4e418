"""The ``conv`` layer kind (schema v2): a convolution's charge (docs/arithmetic.md,
"Convolution").

The input is a ``C_in x H x W`` map, the output ``C_out x OH x OW``, both flattened
channel-major. Its charge equals a dense layer's with the unrolled, weight-shared
matrix :meth:`ConvLayer.dense_matrix`; the golden model may use either, and a test
shows both agree.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..archive import field as manifest_field
from ..archive import int_list, layer_array, neuron_fields
from ..errors import IRDTypeError, IRRangeError, IRShapeError, _as_int_array, _check_int, _where
from ..neuron import MAX_NEURONS, MAX_SPAN, MAX_WEIGHTS, NeuronFields
from .dense import DenseLayer

__all__ = ["ConvLayer", "conv_out_size"]


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``(size + 2*padding - kernel) // stride + 1`` (docs/arithmetic.md, "Convolution")."""
    return (size + 2 * padding - kernel) // stride + 1


def _int_tuple(value, name: str, index: int | None, n: int, lo: int) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != n:
        raise IRDTypeError(f"{_where(index)}: field '{name}' must be a list of {n} integers, "
                           f"got {value!r}")
    return tuple(_check_int(v, name, index, lo, MAX_SPAN if name != "in_shape" else MAX_NEURONS)
                 for v in value)


def _taps(out: int, kernel: int, stride: int, padding: int, size: int) -> np.ndarray:
    """``[out, kernel]`` bool: whether tap ``k`` of output ``o`` reads a real input
    (``0 <= o*stride - padding + k < size``) rather than padding."""
    pos = np.arange(out)[:, None] * stride - padding + np.arange(kernel)[None, :]
    return (pos >= 0) & (pos < size)


@dataclass(eq=False, kw_only=True)
class ConvLayer(NeuronFields):
    """A convolution layer of integer LIF neurons (docs/arithmetic.md, "Convolution").

    The input is a ``C_in x H x W`` map, the output ``C_out x OH x OW``; both are
    flattened channel-major (``torch.flatten`` of ``NCHW``). A 1-D convolution
    is ``H = KH = 1``. The other fields are :class:`~snnhw.ir.neuron.NeuronFields`'.

    Parameters
    ----------
    W : ndarray of int, shape (C_out, C_in, KH, KW)
    b : ndarray of int, shape (C_out,)
        One bias per output channel.
    in_shape : (C_in, H, W)
    stride : (SH, SW), each >= 1
    padding : (PH, PW), each >= 0 (zeros)
    """

    in_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    kind: str = field(default="conv")

    KIND: ClassVar[str] = "conv"
    SINCE_VERSION: ClassVar[int] = 2

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.W.shape[2]), int(self.W.shape[3])

    @property
    def out_shape(self) -> tuple[int, int, int]:
        (_, H, W), (KH, KW) = self.in_shape, self.kernel
        return (int(self.W.shape[0]), conv_out_size(H, KH, self.stride[0], self.padding[0]),
                conv_out_size(W, KW, self.stride[1], self.padding[1]))

    @property
    def n_in(self) -> int:
        C, H, W = self.in_shape
        return C * H * W

    @property
    def n_out(self) -> int:
        C, OH, OW = self.out_shape
        return C * OH * OW

    @property
    def bias_per_neuron(self) -> np.ndarray:
        _, OH, OW = self.out_shape
        return np.repeat(self.b, OH * OW)

    def _tap_masks(self) -> tuple[np.ndarray, np.ndarray]:
        (_, H, W), (_, OH, OW), (KH, KW) = self.in_shape, self.out_shape, self.kernel
        return (_taps(OH, KH, self.stride[0], self.padding[0], H),
                _taps(OW, KW, self.stride[1], self.padding[1], W))

    def abs_row_sums(self) -> np.ndarray:
        """Exact per neuron: border neurons whose window meets padding sum fewer taps."""
        ty, tx = self._tap_masks()
        per_tap = np.abs(self.W).sum(axis=1)                     # [C_out, KH, KW]
        sums = np.einsum("ckl,yk,xl->cyx", per_tap, ty.astype(np.int64), tx.astype(np.int64))
        return sums.reshape(-1)

    def synops_per_event(self) -> dict:
        """An input event at ``(c, y, x)`` adds into ``C_out`` times the output positions
        whose window holds ``(y, x)``: at most ``ceil(KH/SH) * ceil(KW/SW)`` of them."""
        ty, tx = self._tap_masks()
        _, H, W = self.in_shape
        per_y = np.zeros(H, np.int64)
        per_x = np.zeros(W, np.int64)
        for taps, per, stride, pad in ((ty, per_y, self.stride[0], self.padding[0]),
                                       (tx, per_x, self.stride[1], self.padding[1])):
            o, k = np.nonzero(taps)
            np.add.at(per, o * stride - pad + k, 1)
        c_out = int(self.W.shape[0])
        return {"max": c_out * int(per_y.max()) * int(per_x.max()),
                "mean": float(c_out * per_y.mean() * per_x.mean())}

    def dense_matrix(self) -> np.ndarray:
        """The unrolled ``D[n_out, n_in]`` whose dense charge equals this layer's."""
        (C_in, H, W), (C_out, OH, OW), (KH, KW) = self.in_shape, self.out_shape, self.kernel
        D = np.zeros((C_out, OH, OW, C_in, H, W), dtype=np.int64)
        oy, ky = np.nonzero(_taps(OH, KH, self.stride[0], self.padding[0], H))
        ox, kx = np.nonzero(_taps(OW, KW, self.stride[1], self.padding[1], W))
        y = oy * self.stride[0] - self.padding[0] + ky
        x = ox * self.stride[1] - self.padding[1] + kx
        for a in range(len(oy)):
            for c in range(len(ox)):
                D[:, oy[a], ox[c], :, y[a], x[c]] = self.W[:, :, ky[a], kx[c]]
        return D.reshape(C_out * OH * OW, C_in * H * W)

    def to_dense(self) -> DenseLayer:
        """The equivalent :class:`DenseLayer` (same neurons, :meth:`dense_matrix`)."""
        return DenseLayer(W=self.dense_matrix(), b=self.bias_per_neuron.copy(),
                          **self._neuron_scalars())

    def validate(self, index: int | None = None) -> None:
        """Check every field against docs/arithmetic.md; normalise arrays and tuples."""
        self._validate_neuron(index)
        self.in_shape = _int_tuple(self.in_shape, "in_shape", index, 3, 1)
        self.stride = _int_tuple(self.stride, "stride", index, 2, 1)
        self.padding = _int_tuple(self.padding, "padding", index, 2, 0)
        W = _as_int_array(self.W, "W", index)
        b = _as_int_array(self.b, "b", index)
        if W.ndim != 4 or min(W.shape) < 1:
            raise IRShapeError(f"{_where(index)}: array 'W' must have shape (C_out, C_in, KH, "
                               f"KW), all >= 1, got {W.shape}")
        if W.size > MAX_WEIGHTS or max(W.shape[2:]) > MAX_SPAN:
            raise IRRangeError(f"{_where(index)}: array 'W' shape {W.shape} is larger than "
                               f"{MAX_WEIGHTS} weights or {MAX_SPAN} taps a side")
        C_in, H, Wd = self.in_shape
        if W.shape[1] != C_in:
            raise IRShapeError(f"{_where(index)}: W has {W.shape[1]} input channels, "
                               f"in_shape {self.in_shape} has {C_in}")
        if C_in * H * Wd > MAX_NEURONS:
            raise IRRangeError(f"{_where(index)}: in_shape {self.in_shape} exceeds "
                               f"{MAX_NEURONS} inputs")
        if b.shape != (W.shape[0],):
            raise IRShapeError(f"{_where(index)}: array 'b' must have shape ({W.shape[0]},), "
                               f"one bias per output channel, got {b.shape}")
        for axis, (size, ker) in enumerate(((H, W.shape[2]), (Wd, W.shape[3]))):
            if size + 2 * self.padding[axis] < ker:
                raise IRShapeError(
                    f"{_where(index)}: kernel {tuple(W.shape[2:])} is larger than the padded "
                    f"map {self.in_shape[1:]} + 2 x padding {self.padding}")
        self.W = W
        if self.n_out > MAX_NEURONS:
            raise IRRangeError(f"{_where(index)}: output map {self.out_shape} exceeds "
                               f"{MAX_NEURONS} neurons")
        self._store_arrays(W, b, index)

    def geometry(self, s_max_in: int) -> dict:
        """The shapes, and docs/arithmetic.md's width bound
        ``|b| + C_in*KH*KW*2**(w_bits-1)*s_max_in`` beside the exact one."""
        KH, KW = self.kernel
        return {"in_shape": list(self.in_shape), "out_shape": list(self.out_shape),
                "kernel": [KH, KW], "stride": list(self.stride), "padding": list(self.padding),
                "current_bound_formula": int(abs(self.b).max()) + self.in_shape[0] * KH * KW
                * (1 << (self.w_bits - 1)) * s_max_in}

    @classmethod
    def from_manifest(cls, zf: zipfile.ZipFile, ld: dict, i: int) -> ConvLayer:
        """Layer ``i`` of an archive, its manifest entry ``ld``, validated; the manifest's
        derived fields (``n_in``, ``n_out``, ``out_shape``, ``kernel``) must agree."""
        where = f"layer {i}"
        in_shape = int_list(ld, "in_shape", where, 3)
        out_shape = int_list(ld, "out_shape", where, 3)
        kernel = int_list(ld, "kernel", where, 2)
        count = out_shape[0] * in_shape[0] * kernel[0] * kernel[1]
        if count > MAX_WEIGHTS:
            raise IRShapeError(f"{where}: {out_shape[0]} x {in_shape[0]} x {kernel} weights, "
                               f"more than the {MAX_WEIGHTS} allowed")
        layer = cls(W=layer_array(zf, i, "W", count), b=layer_array(zf, i, "b", out_shape[0]),
                    in_shape=tuple(in_shape), kind=cls.KIND,
                    stride=tuple(int_list(ld, "stride", where, 2)),
                    padding=tuple(int_list(ld, "padding", where, 2)),
                    **neuron_fields(ld, where))
        layer.validate(i)
        derived = layer.scalars()
        for key in ("n_in", "n_out", "out_shape", "kernel"):
            if manifest_field(ld, key, where) != derived[key]:
                raise IRShapeError(f"{where}: manifest says {key} = {ld[key]!r}, the arrays "
                                   f"and shapes give {derived[key]!r}")
        return layer

    def scalars(self) -> dict:
        """The layer's non-array fields, as stored in the manifest."""
        return {"kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                "in_shape": list(self.in_shape), "out_shape": list(self.out_shape),
                "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding), **self._neuron_scalars()}
