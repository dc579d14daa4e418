"""WeightStore alone: a ROM reads back its contents one cycle later; a RAM reads back what
was loaded; bad arguments are refused. (SPRAM runs in the cocotb tests, with Yosys's
SB_SPRAM256KA model.)"""

import pytest

from snnhw.gateware.plan import MemorySpec
from snnhw.gateware.sim import simulate
from snnhw.gateware.weights import WeightStore, spram_units


def read_all(dut, depth, writes=()):
    out = []

    async def tb(ctx):
        for addr, word in writes:
            ctx.set(dut.load.en, 1)
            ctx.set(dut.load.addr, addr)
            ctx.set(dut.load.data, word)
            await ctx.tick()
        ctx.set(dut.load.en, 0)
        for addr in range(depth):
            ctx.set(dut.rd_addr, addr)
            await ctx.tick()
            out.append(ctx.get(dut.rd_data))

    simulate(dut, tb)
    return out


def test_rom_reads_its_contents():
    init = [(k * 2654435761) & 0xFFF for k in range(37)]
    dut = WeightStore(MemorySpec("mem", "weights", 37, 12, kind="rom"), init=init)
    assert read_all(dut, 37) == init


def test_ram_reads_back_what_was_loaded():
    words = [(k * 97 + 5) & 0xFFFF for k in range(20)]
    dut = WeightStore(MemorySpec("mem", "weights", 20, 16, kind="ram"))
    assert read_all(dut, 20, writes=list(enumerate(words))[::-1]) == words


def test_refusals_and_spram_units():
    with pytest.raises(ValueError, match="needs its initial contents"):
        WeightStore(MemorySpec("mem", "weights", 4, 8, kind="rom"))
    with pytest.raises(ValueError, match="power of two"):
        WeightStore(MemorySpec("mem", "weights", 4, 8, kind="spram"), bank_words=300)
    assert spram_units(16384, 16) == 1 and spram_units(16385, 17) == 4
