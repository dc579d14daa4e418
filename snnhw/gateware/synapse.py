"""Accumulate-only synapse array: ``lanes`` accumulators fed from block RAM.

For an input event ``(j, s)`` the array walks the ``G = ceil(n_out/lanes)``
groups of ``lanes`` neurons, one group per cycle: it reads the weights
``W[g*lanes + l, j]`` of row ``j`` for every lane ``l`` and the group's
accumulators, and adds ``W << b`` for every set bit ``b`` of ``s``. There is
no multiplier: the product with a multi-bit spike is a sum of shifted copies.

Memories (synchronous read ports, so they map to block RAM):

* weights: ``G * n_in`` words of ``lanes * w_bits``; word ``g * n_in + j``
  holds row ``j`` of group ``g`` (the address advances by ``n_in`` per group,
  an add, not a multiply);
* accumulators: ``G`` words of ``lanes * acc_width``.

Timing. Stage A issues the reads of one group per cycle; stage B (the next
cycle) adds and writes back. A read of the group written in the same cycle
(only when ``G == 1``) takes the written value from a bypass register.

Throughput: one group per cycle; a new event is accepted in the cycle that
issues the last group of the previous one, so ``E`` events take ``E * G``
cycles back to back. Latency: 2 cycles from acceptance to the last write.
Backpressure: ``i.ready`` is low while an event still has groups to issue.

The sweep port reads one group of accumulators (``rd_en``/``rd_addr``,
data on ``rd_data`` the next cycle) and clears it in the same cycle; use it
only while ``busy`` is low.
"""

from __future__ import annotations

import math

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..streams import index_width
from ._checks import reject

__all__ = ["SynapseArray", "pack_lanes"]


def pack_lanes(values: np.ndarray, width: int) -> list[int]:
    """Pack ``values[word, lane]`` (signed ints) into ``lanes * width``-bit words."""
    mask = (1 << width) - 1
    words = []
    for row in np.asarray(values, dtype=np.int64):
        word = 0
        for lane, v in enumerate(row.tolist()):
            word |= (int(v) & mask) << (lane * width)
        words.append(word)
    return words


class SynapseArray(wiring.Component):
    """See the module docstring.

    Parameters
    ----------
    W : ndarray, ``[n_out, n_in]``
        Signed integer weights (``w_bits`` two's complement).
    w_bits : int
    in_bits : int
        Width of the input spike values.
    lanes : int
        Neurons updated per cycle.
    acc_width : int
        Signed accumulator width; must hold every partial sum.
    """

    def __init__(self, W, *, w_bits: int, in_bits: int, lanes: int, acc_width: int):
        W = np.asarray(W, dtype=np.int64)
        if W.ndim != 2:
            reject(self, f"W must be 2-D, got shape {W.shape}")
        if not isinstance(lanes, int) or lanes < 1:
            reject(self, f"lanes must be a positive integer, got {lanes!r}")
        lo, hi = -(1 << (w_bits - 1)), (1 << (w_bits - 1)) - 1
        if W.size and (W.min() < lo or W.max() > hi):
            reject(self, f"weights exceed w_bits={w_bits}")
        self.n_out, self.n_in = W.shape
        self.lanes, self.w_bits, self.in_bits, self.acc_width = lanes, w_bits, in_bits, acc_width
        self.groups = math.ceil(self.n_out / lanes)
        padded = np.zeros((self.groups * lanes, self.n_in), dtype=np.int64)
        padded[: self.n_out] = W
        # word g * n_in + j = lanes of W[g*lanes : (g+1)*lanes, j]
        rows = padded.reshape(self.groups, lanes, self.n_in).transpose(0, 2, 1)
        self._weight_init = pack_lanes(rows.reshape(-1, lanes), w_bits)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({
                "index": unsigned(index_width(self.n_in)),
                "value": unsigned(in_bits)}))),
            "rd_en": In(1),
            "rd_addr": In(range(max(self.groups, 2))),
            "rd_data": Out(unsigned(lanes * acc_width)),
            "busy": Out(1),
            "active": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        P, G, n_in = self.lanes, self.groups, self.n_in
        aw_ = self.acc_width
        m.submodules.weights = wmem = memory.Memory(
            shape=unsigned(P * self.w_bits), depth=G * n_in, init=self._weight_init)
        m.submodules.acc = amem = memory.Memory(shape=unsigned(P * aw_), depth=G, init=[])
        w_rd = wmem.read_port()
        a_rd = amem.read_port()
        a_wr = amem.write_port()

        # stage A: the event being walked over the groups
        a_valid = Signal()
        a_value = Signal(self.in_bits)
        a_group = Signal(range(max(G, 2)))
        a_addr = Signal(range(max(G * n_in, 2)))
        last_group = a_group == G - 1
        m.d.comb += self.i.ready.eq(~a_valid | last_group)
        with m.If(a_valid):
            m.d.sync += [a_group.eq(a_group + 1), a_addr.eq(a_addr + n_in)]
            with m.If(last_group):
                m.d.sync += a_valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [a_valid.eq(1), a_group.eq(0), a_addr.eq(self.i.payload.index),
                         a_value.eq(self.i.payload.value)]
        m.d.comb += [w_rd.addr.eq(a_addr), a_rd.addr.eq(a_group), self.active.eq(a_valid)]

        # stage B: add the shifted weights and write back
        b_valid = Signal()
        b_value = Signal(self.in_bits)
        b_group = Signal.like(a_group)
        m.d.sync += [b_valid.eq(a_valid), b_value.eq(a_value), b_group.eq(a_group)]
        fwd_valid = Signal()
        fwd_data = Signal(P * aw_)
        m.d.sync += [fwd_valid.eq(a_valid & a_wr.en & (a_wr.addr == a_group)),
                     fwd_data.eq(a_wr.data)]
        acc_in = Mux(fwd_valid, fwd_data, a_rd.data)
        new = []
        for lane in range(P):
            w = w_rd.data.word_select(lane, self.w_bits).as_signed()
            acc = acc_in.word_select(lane, aw_).as_signed()
            terms = [Mux(b_value[bit], w << bit, 0) for bit in range(self.in_bits)]
            total = acc
            for t in terms:
                total = total + t
            lane_sig = Signal(signed(aw_), name=f"acc_new{lane}")
            m.d.comb += lane_sig.eq(total)
            new.append(lane_sig)
        m.d.comb += [a_wr.en.eq(b_valid), a_wr.addr.eq(b_group), a_wr.data.eq(Cat(*new))]

        # sweep port: read a group and clear it (only while not busy)
        with m.If(self.rd_en):
            m.d.comb += [a_rd.addr.eq(self.rd_addr), a_wr.en.eq(1), a_wr.addr.eq(self.rd_addr),
                         a_wr.data.eq(0)]
        m.d.comb += [self.rd_data.eq(a_rd.data), self.busy.eq(a_valid | b_valid)]
        return m
