"""A register slice for a valid/ready stream: every output, and ``i.ready``, from a flip-flop.

Between two layers the handshake would otherwise be one combinational path from
the first layer's serializer through the second layer's accept logic and back
into the serializer's FIFO. The slice cuts it in both directions at full
throughput (a beat per cycle) with one cycle of latency: a two-entry skid
buffer. ``o`` holds the oldest beat; when ``o`` stalls, the one beat already
promised by ``i.ready`` waits in the skid register.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["StreamRegister"]


class StreamRegister(wiring.Component):
    """Register slice for a stream of ``layout`` (see the module docstring).

    Ports
    -----
    i : In(stream of layout)
    o : Out(stream of layout)
    """

    def __init__(self, layout):
        super().__init__({"i": In(stream.Signature(layout)),
                          "o": Out(stream.Signature(layout))})

    def elaborate(self, platform):
        m = Module()
        skid_valid = Signal()
        skid = Signal.like(self.i.payload)
        m.d.comb += self.i.ready.eq(~skid_valid)
        take = self.i.valid & self.i.ready
        with m.If(~self.o.valid | self.o.ready):     # the output register moves
            with m.If(skid_valid):
                m.d.sync += [self.o.payload.eq(skid), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [self.o.payload.eq(self.i.payload), self.o.valid.eq(take)]
        with m.Elif(take):                            # output stalled: keep the beat aside
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
