"""collision_free_read: a read in the cycle of a write to its word is poisoned in
simulation, and a board build's Yosys script drops the logic that would keep it."""

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal
from amaranth.lib import memory
from amaranth.sim import Simulator

from snnhw.gateware.collision import COLLISION_FREE, YOSYS_COMMANDS, collision_free_read
from snnhw.toolchain import cell_counts, run_yosys


def _ram(platform=None):
    m = Module()
    m.submodules.mem = mem = memory.Memory(shape=8, depth=16, init=[0x10 + k for k in range(16)])
    rd, wr = mem.read_port(), mem.write_port()
    q = Signal(8)
    m.d.comb += q.eq(collision_free_read(m, mem, rd, wr, platform))
    return m, mem, rd, wr, q


def test_a_read_of_the_word_written_in_its_cycle_is_inverted_in_simulation():
    m, _, rd, wr, q = _ram()
    got = {}

    async def bench(ctx):
        # read 3 while writing 3: the old word, inverted (what nothing may use)
        ctx.set(rd.addr, 3)
        ctx.set(wr.addr, 3)
        ctx.set(wr.data, 0xA5)
        ctx.set(wr.en, 1)
        await ctx.tick()
        got["collided"] = ctx.get(q)
        # read 3 a cycle after its write: the new word
        ctx.set(wr.en, 0)
        await ctx.tick()
        got["after"] = ctx.get(q)
        # read 5 while writing 3: the word, untouched
        ctx.set(rd.addr, 5)
        ctx.set(wr.en, 1)
        await ctx.tick()
        got["other"] = ctx.get(q)
        # a read port not enabled holds its word and collides with nothing
        ctx.set(rd.addr, 3)
        ctx.set(rd.en, 0)
        await ctx.tick()
        got["held"] = ctx.get(q)

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == {"collided": 0x13 ^ 0xFF, "after": 0xA5, "other": 0x15, "held": 0x15}


def test_the_memory_is_marked_once_and_the_mark_reaches_rtlil():
    m, mem, rd, wr, q = _ram()
    assert mem.attrs[COLLISION_FREE] == 1
    text = rtlil.convert(m, ports=[rd.addr, wr.addr, wr.data, wr.en, q])
    assert f"attribute \\{COLLISION_FREE} 1" in text
    with pytest.raises(ValueError, match="once"):
        collision_free_read(m, mem, rd, wr, None)


def test_on_a_platform_the_data_is_the_ports_own():
    m, _, rd, wr, q = _ram(platform=object())
    text = rtlil.convert(m, ports=[rd.addr, wr.addr, wr.data, wr.en, q])
    assert "read_write_collision" not in text
    assert "read_write_collision" in rtlil.convert(_ram()[0], ports=[])


def _synth_ffs(tmp_path, text, commands):
    """Flip-flops ``synth_ice40`` makes of the RTLIL ``text`` (top ``top``) after
    ``commands``."""
    (tmp_path / "top.il").write_text(text)
    run_yosys(f"read_rtlil top.il; {commands} synth_ice40 -top top; "
              "tee -q -o stat.json stat -json", cwd=tmp_path)
    cells = cell_counts(tmp_path / "stat.json", "top")
    return sum(n for t, n in cells.items() if t.startswith("SB_DFF"))


def test_the_build_script_drops_the_old_word_logic(tmp_path):
    """Yosys keeps a read port's old word with flip-flops beside the block RAM; the
    commands the board build runs leave that to a marked memory's users."""
    m = Module()
    m.submodules.mem = mem = memory.Memory(shape=16, depth=256, init=[])
    rd, wr = mem.read_port(), mem.write_port()
    a, d, e, o = Signal(8), Signal(16), Signal(), Signal(16)
    m.d.comb += [rd.addr.eq(a), wr.addr.eq(a + 1), wr.data.eq(d), wr.en.eq(e),
                 o.eq(collision_free_read(m, mem, rd, wr, object()))]
    text = rtlil.convert(m, name="top", ports=[a, d, e, o])
    kept = _synth_ffs(tmp_path, text, "")
    dropped = _synth_ffs(tmp_path, text, YOSYS_COMMANDS + ";")
    assert dropped == 0 < kept
