"""The carry-free compares with constants agree with Python's on every value."""

import pytest
from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.sim import Simulator

from snnhw.gateware.compare import at_least, at_most, below, saturate


@pytest.mark.parametrize("width", [1, 3, 5])
def test_compares_with_every_constant_match_python(width):
    constants = list(range(-1, (1 << width) + 2))
    x = Signal(width)
    outs = {}
    m = Module()
    for c in constants:
        o = Signal(3, name=f"o_{c + 1}")
        m.d.comb += o.eq(Cat(below(x, c), at_most(x, c), at_least(x, c)))
        outs[c] = o
    seen = []

    async def bench(ctx):
        for v in range(1 << width):
            ctx.set(x, v)
            for c, o in outs.items():
                got = ctx.get(o)
                assert (got & 1, got >> 1 & 1, got >> 2 & 1) == (v < c, v <= c, v >= c), (v, c)
                seen.append((v, c))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == (1 << width) * len(constants)


@pytest.mark.parametrize("bits, width", [(3, 5), (4, 4), (2, 6)])
def test_saturate_clamps_every_value_to_the_signed_range(bits, width):
    x = Signal(signed(width))
    o = Signal(signed(bits))
    m = Module()
    m.d.comb += o.eq(saturate(x, bits))
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    seen = []

    async def bench(ctx):
        for v in range(-(1 << (width - 1)), 1 << (width - 1)):
            ctx.set(x, v)
            assert ctx.get(o) == min(max(v, lo), hi), v
            seen.append(v)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) == 1 << width
