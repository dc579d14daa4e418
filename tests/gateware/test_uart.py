"""UART alone: every byte survives a transmitter -> receiver loop at the divisor, a byte
whose stop bit is low is dropped and flagged, and bad divisors are refused."""

import pytest
from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.gateware.sim import get, put, simulate
from snnhw.gateware.uart import UARTRx, UARTTx, divisor_for, fastest_baud, rate_error
from snnhw.protocol.streams import pauses


class Loop(wiring.Component):
    def __init__(self, divisor):
        self.divisor = divisor
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.tx = tx = UARTTx(self.divisor)
        m.submodules.rx = rx = UARTRx(self.divisor)
        m.d.comb += rx.rx.eq(tx.tx)
        wiring.connect(m, wiring.flipped(self.i), tx.i)
        wiring.connect(m, rx.o, wiring.flipped(self.o))
        return m


@pytest.mark.parametrize("divisor", [4, 7, 16])
def test_bytes_survive_the_loop(divisor):
    data = [0x00, 0xFF, 0x55, 0xAA, 0x01, 0x80, 0x5A, 0xA5, 0x3C]
    dut = Loop(divisor)
    got = []

    async def send(ctx):
        await put(ctx, dut.i, data, pauses("light", 1))

    async def recv(ctx):
        await get(ctx, dut.o, len(data), pauses("none", 0), got)

    simulate(dut, send, recv)
    assert [int(b) for b in got] == data


def test_low_stop_bit_is_a_frame_error():
    d = 8
    dut = UARTRx(d)
    seen = {"bytes": [], "errors": 0}

    async def drive(ctx):
        for byte, stop in ((0x42, 1), (0x99, 0), (0x17, 1)):
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [stop]:
                ctx.set(dut.rx, bit)
                await ctx.tick().repeat(d)
            ctx.set(dut.rx, 1)
            await ctx.tick().repeat(3 * d)

    async def watch(ctx):
        ctx.set(dut.o.ready, 1)
        async for _, _, valid, data, err in ctx.tick().sample(dut.o.valid, dut.o.payload,
                                                              dut.frame_error):
            if valid:
                seen["bytes"].append(int(data))
            seen["errors"] += int(err)

    simulate(dut, drive, background=[watch])
    assert seen == {"bytes": [0x42, 0x17], "errors": 1}


def test_divisors():
    assert divisor_for(12e6, 115200) == 104
    with pytest.raises(ValueError, match="cannot make 5000000 baud"):
        divisor_for(12e6, 5_000_000)
    with pytest.raises(ValueError, match="divisor must be >= 4"):
        UARTTx(3)


def test_the_fastest_rate_the_clock_makes_is_chosen():
    rates = (3_000_000, 2_000_000, 1_500_000, 1_000_000, 115_200)
    # 25 MHz: 3 M is 8 cycles (4.2 % fast), 2 M 12 (4.2 %), 1.5 M 17 (2.0 %), 1 M 25 exactly
    assert [round(100 * rate_error(25e6, b)[1], 1) for b in rates[:4]] == [4.2, 4.2, 2.0, 0.0]
    assert fastest_baud(25e6, rates) == 1_000_000
    assert fastest_baud(12e6, rates) == 3_000_000            # 4 cycles a bit, exact
    assert fastest_baud(100e6, rates) == 2_000_000           # 3 M: 33 cycles, 1.01 % off
    assert fastest_baud(100e6, rates, max_error=0.02) == 3_000_000
    assert fastest_baud(8e6, rates) == 2_000_000             # 3 M: 3 cycles, too few
    with pytest.raises(ValueError, match="none of the rates"):
        fastest_baud(1e6, (3_000_000, 2_000_000))            # fewer than 4 cycles a bit
