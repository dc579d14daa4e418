"""The carry-free compares with constants agree with Python's on every value."""

import pytest
from amaranth.hdl import Cat, Module, Signal
from amaranth.sim import Simulator

from snnhw.gateware.compare import at_least, at_most, below


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
