"""The IR's layer kinds: ``dense`` (v1) and ``conv`` (v2), docs/arithmetic.md.

Both kinds share the neuron fields of "Per layer" (:class:`NeuronFields`): they
differ only in how the charge ``I`` of a step is formed from the input spikes.
A conv layer's charge equals a dense layer's with the unrolled, weight-shared
matrix :meth:`ConvLayer.dense_matrix`; the golden model may use either, and a
test shows both agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..util import signed_range
from .errors import (
    IRDTypeError,
    IRRangeError,
    IRShapeError,
    _as_int_array,
    _check_array_range,
    _check_choice,
    _check_int,
    _where,
)

__all__ = ["LAYER_KINDS", "RESETS", "MAX_NEURONS", "MAX_WEIGHTS", "ConvLayer", "DenseLayer",
           "NeuronFields", "conv_out_size"]

LAYER_KINDS = ("dense", "conv")
RESETS = ("soft", "hard")
MAX_NEURONS = 1 << 20
MAX_WEIGHTS = 1 << 26           # weights in one layer (the largest a front end makes)
MAX_SPAN = 1 << 16              # a map side, kernel side, stride or padding


class NeuronFields:
    """The per-neuron fields both layer kinds carry, and their checks."""

    @property
    def theta(self) -> int:
        return 1 << self.k

    @property
    def s_max(self) -> int:
        return (1 << self.spike_bits) - 1

    def _validate_neuron(self, index: int | None) -> None:
        _check_choice(self.kind, "kind", index, LAYER_KINDS)
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
        return {
            "w_bits": self.w_bits,
            "u_bits": self.u_bits,
            "k": self.k,
            "fire_offset": self.fire_offset,
            "spike_bits": self.spike_bits,
            "leak_shift": self.leak_shift,
            "reset": self.reset,
        }

    def _store_arrays(self, W: np.ndarray, b: np.ndarray, index: int | None) -> None:
        """Check ``W`` against ``w_bits`` and ``b`` against ``u_bits``; keep both as int64."""
        _check_array_range(W, "W", index, *signed_range(self.w_bits), f"w_bits={self.w_bits}")
        _check_array_range(b, "b", index, *signed_range(self.u_bits), f"u_bits={self.u_bits}")
        self.W = W.astype(np.int64, copy=False)
        self.b = b.astype(np.int64, copy=False)

    def abs_row_sums(self) -> np.ndarray:
        """``sum_j |W[i, j]|`` for every output neuron ``i`` (flat order), exact int64."""
        raise NotImplementedError

    def synops_per_event(self) -> dict:
        """Synaptic additions one input event causes: ``max`` and ``mean`` over inputs."""
        raise NotImplementedError


@dataclass(eq=False)
class DenseLayer(NeuronFields):
    """One fully connected layer of integer LIF neurons (docs/arithmetic.md, "Per layer").

    Parameters
    ----------
    W : ndarray of int, shape (n_out, n_in)
        Signed weights, ``w_bits`` two's complement.
    b : ndarray of int, shape (n_out,)
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
        ``None`` for IF (no leak), else ``L >= 1`` (decay ``1 - 2**-L``),
        at most ``u_bits``.
    reset : {"soft", "hard"}
        Soft reset subtracts the emitted amount, hard reset sets to zero.
    """

    W: np.ndarray
    b: np.ndarray
    w_bits: int
    u_bits: int
    k: int
    fire_offset: int
    spike_bits: int
    leak_shift: int | None = None
    reset: str = "soft"
    kind: str = field(default="dense")

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
        if self.kind != "dense":
            _check_choice(self.kind, "kind", index, ("dense",))
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

    def scalars(self) -> dict:
        """The layer's non-array fields, as stored in the manifest."""
        return {"kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                **self._neuron_scalars()}


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


@dataclass(eq=False)
class ConvLayer(NeuronFields):
    """A convolution layer of integer LIF neurons (docs/arithmetic.md, "Convolution").

    The input is a ``C_in x H x W`` map, the output ``C_out x OH x OW``; both are
    flattened channel-major (``torch.flatten`` of ``NCHW``). A 1-D convolution
    is ``H = KH = 1``. Neuron fields as :class:`DenseLayer`.

    Parameters
    ----------
    W : ndarray of int, shape (C_out, C_in, KH, KW)
    b : ndarray of int, shape (C_out,)
        One bias per output channel.
    in_shape : (C_in, H, W)
    stride : (SH, SW), each >= 1
    padding : (PH, PW), each >= 0 (zeros)
    """

    W: np.ndarray
    b: np.ndarray
    in_shape: tuple[int, int, int]
    w_bits: int
    u_bits: int
    k: int
    fire_offset: int
    spike_bits: int
    leak_shift: int | None = None
    reset: str = "soft"
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    kind: str = field(default="conv")

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
        if self.kind != "conv":
            _check_choice(self.kind, "kind", index, ("conv",))
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

    def scalars(self) -> dict:
        """The layer's non-array fields, as stored in the manifest."""
        return {"kind": self.kind, "n_in": self.n_in, "n_out": self.n_out,
                "in_shape": list(self.in_shape), "out_shape": list(self.out_shape),
                "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding), **self._neuron_scalars()}
