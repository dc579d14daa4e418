"""StreamRegister: every beat through, in order, once, under stalls on both sides; a beat
per cycle when nothing stalls; i.ready and the outputs come from flip-flops."""

import pytest
from amaranth.hdl import unsigned

from snnhw.gateware.sim import simulate
from snnhw.gateware.skid import StreamRegister
from snnhw.protocol.streams import pauses


@pytest.mark.parametrize("pin, pout", [("none", "none"), ("heavy", "light"),
                                       ("bursty", "bursty"), ("alternate", "heavy")])
def test_every_beat_once_in_order(pin, pout):
    dut = StreamRegister(unsigned(8))
    beats = [(k * 37) & 0xFF for k in range(200)]
    got, cycles = [], [0]

    async def source(ctx):
        stall = pauses(pin, 1)
        for b in beats:
            while next(stall):
                ctx.set(dut.i.valid, 0)
                await ctx.tick()
            ctx.set(dut.i.payload, b)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
        ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        stall = pauses(pout, 2)
        while len(got) < len(beats):
            ready = not next(stall)
            ctx.set(dut.o.ready, ready)
            valid, payload = ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            await ctx.tick()
            cycles[0] += 1
            if ready and valid:
                got.append(payload)

    simulate(dut, sink, background=[source])
    assert got == beats
    if pin == pout == "none":
        assert cycles[0] <= len(beats) + 2       # one beat a cycle, one cycle of latency
