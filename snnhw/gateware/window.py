"""Where an input event of a conv layer lands: the window walk of the synapse array.

An input event at ``(ci, y, x)`` (flat index ``j = (ci * H + y) * W + x``,
docs/arithmetic.md "Convolution") adds into the output neurons whose window
holds it: the rows ``oy`` with ``oy * SH - PH + ky = y`` for a tap
``0 <= ky < KH`` and ``0 <= oy < OH``, the same for columns, times every
output channel. The synapse array walks them with counters and constant
adds, no multiplier:

* it starts at the highest such row and column (``oy_hi``, ``ox_hi``, with
  taps ``ky0``, ``kx0``) in channel group 0;
* the channel group is the innermost loop: ``+ C_in*KH*KW`` on the weight
  address, ``+ OH*OW`` on the accumulator address;
* then the column: ``ox - 1`` (accumulator ``- 1``), tap ``kx + SW`` (weight
  ``+ SW``);
* then the row: ``oy - 1`` (accumulator ``- OW``), tap ``ky + SH`` (weight
  ``+ SH*KW``), the column back at ``ox_hi``.

Windows at the map's edges and padding are in the counts: an event visits
exactly ``ny(y) * nx(x) * Gc`` groups (``Gc = ceil(C_out / lanes)``), never a
padded position, at most ``ceil(KH/SH) * ceil(KW/SW) * Gc``. The only thing
the hardware looks up is where the walk starts and how long it is
(:meth:`ConvWindow.table`): a ROM word per input index, or, when the input
comes from a conv layer as ``channel << position_bits | position``
(:attr:`ConvWindow.split_in_index`), a word per input position plus each
channel's weight offset. Everything after that is counters.

Memory layouts (the synapse array's):

* weights: word ``((gc * C_in + ci) * KH + ky) * KW + kx`` holds
  ``W[gc*lanes + l, ci, ky, kx]`` in lane ``l``;
* accumulators, membranes: word ``gc * OH*OW + oy * OW + ox`` holds output
  channel ``gc*lanes + l`` at ``(oy, ox)`` in lane ``l``; that neuron's flat
  index is ``(gc*lanes + l) * OH*OW + oy*OW + ox``, so lane ``l`` of a group
  is ``l * OH*OW`` past lane 0 (the serializer's lane stride).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..ir import ConvLayer

__all__ = ["ConvWindow", "position_bits"]


def position_bits(positions: int) -> int:
    """Bits of the position field of a ``(channel, position)`` event index."""
    return (positions - 1).bit_length()


@dataclass(frozen=True)
class ConvWindow:
    """The geometry of a conv layer at ``lanes`` output channels per cycle."""

    in_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_shape: tuple[int, int, int]
    lanes: int

    @classmethod
    def of(cls, layer: ConvLayer, lanes: int) -> ConvWindow:
        return cls(tuple(layer.in_shape), layer.kernel, tuple(layer.stride),
                   tuple(layer.padding), layer.out_shape, lanes)

    @property
    def channel_groups(self) -> int:
        """``Gc = ceil(C_out / lanes)``."""
        return math.ceil(self.out_shape[0] / self.lanes)

    @property
    def positions(self) -> int:
        """Output positions ``OH * OW``: the accumulator step per channel group, and the
        flat-index distance between two lanes of a group."""
        return self.out_shape[1] * self.out_shape[2]

    @property
    def groups(self) -> int:
        """Groups of ``lanes`` output channels at one position: ``Gc * OH * OW`` (the
        accumulator and membrane words)."""
        return self.channel_groups * self.positions

    @property
    def split_in_index(self) -> int:
        """Index range of input events as ``channel << position_bits | position``."""
        c_in, h, w = self.in_shape
        return c_in << position_bits(h * w)

    @property
    def taps(self) -> int:
        """Weight words per channel group and input channel: ``KH * KW``."""
        return self.kernel[0] * self.kernel[1]

    @property
    def weight_words(self) -> int:
        return self.channel_groups * self.in_shape[0] * self.taps

    @property
    def steps(self) -> dict[str, int]:
        """The constant adds of the walk (see the module docstring)."""
        (c_in, _, _), (_, kw), (sh, sw) = self.in_shape, self.kernel, self.stride
        _, _, ow = self.out_shape
        return {"w_group": c_in * self.taps, "a_group": self.positions,
                "w_col": sw, "a_col": -1, "w_row": sh * kw, "a_row": -ow}

    @property
    def max_visits(self) -> int:
        """Groups one event visits at most: ``ceil(KH/SH) * ceil(KW/SW) * Gc`` (and no
        more than the map has)."""
        (kh, kw), (sh, sw), (_, oh, ow) = self.kernel, self.stride, self.out_shape
        return min(math.ceil(kh / sh), oh) * min(math.ceil(kw / sw), ow) * self.channel_groups

    def _axis(self, size: int, kernel: int, stride: int, pad: int, out: int):
        """Per input coordinate: the highest output coordinate whose window holds it,
        its tap, and how many output coordinates do (0: only padding sees it)."""
        pos = np.arange(size) + pad
        hi = np.minimum(pos // stride, out - 1)
        lo = np.maximum(-((kernel - 1 - pos) // stride), 0)   # ceil((pos - K + 1) / S)
        count = np.maximum(hi - lo + 1, 0)
        tap = np.where(count > 0, pos - hi * stride, 0)
        return np.where(count > 0, hi, 0), tap, count

    def table(self) -> dict[str, np.ndarray]:
        """Per input index ``j``: ``w0``, ``a0`` (weight and accumulator addresses of the
        walk's first group), ``nx`` (columns visited), ``visits`` (groups visited, 0 when
        the input reaches no output)."""
        (c_in, h, w), (kh, kw), (sh, sw), (ph, pw) = (self.in_shape, self.kernel,
                                                      self.stride, self.padding)
        _, oh, ow = self.out_shape
        oy, ky, ny = self._axis(h, kh, sh, ph, oh)
        ox, kx, nx = self._axis(w, kw, sw, pw, ow)
        ci = np.arange(c_in)[:, None, None]
        shape = (c_in, h, w)
        w0 = ci * self.taps + ky[None, :, None] * kw + kx[None, None, :]
        a0 = oy[None, :, None] * ow + ox[None, None, :]
        visits = ny[None, :, None] * nx[None, None, :] * self.channel_groups
        live = np.broadcast_to(visits > 0, shape)
        return {"w0": np.where(live, w0, 0).reshape(-1),
                "a0": np.where(live, np.broadcast_to(a0, shape), 0).reshape(-1),
                "nx": np.where(live, np.broadcast_to(nx[None, None, :], shape), 0).reshape(-1),
                "visits": np.broadcast_to(visits, shape).reshape(-1).astype(np.int64)}

    def visits(self, j: int) -> list[tuple[int, int]]:
        """The ``(weight address, accumulator address)`` pairs of input ``j``'s walk, in
        the hardware's order, by the same recurrences (a reference for tests)."""
        t, st = self.table(), self.steps
        n, nx, gc_n = int(t["visits"][j]), int(t["nx"][j]), self.channel_groups
        out = []
        w_row = w_col = w = int(t["w0"][j])
        a_row = a_col = a = int(t["a0"][j])
        g = col = 0
        for _ in range(n):
            out.append((w, a))
            g += 1
            if g < gc_n:
                w, a = w + st["w_group"], a + st["a_group"]
                continue
            g, col = 0, col + 1
            if col < nx:
                w_col, a_col = w_col + st["w_col"], a_col + st["a_col"]
            else:
                col = 0
                w_row, a_row = w_row + st["w_row"], a_row + st["a_row"]
                w_col, a_col = w_row, a_row
            w, a = w_col, a_col
        return out
