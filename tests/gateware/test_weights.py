"""WeightStore alone: a ROM reads back its contents `latency` cycles later, banked or not
(and through the two-step bank select of a memory of more than SELECT_FANIN banks); a
RAM reads back what was loaded; the ECP5 DP16KD form has the contents Yosys itself would
give the block; bad arguments are refused. (SPRAM runs in the cocotb tests, with Yosys's
SB_SPRAM256KA model.)"""

import json
import random
import subprocess

import pytest
from amaranth.back import rtlil
from amaranth.hdl import Signal, Value

from snnhw.families.ecp5 import dp16kd_initvals, dp16kd_shape, dp16kd_units
from snnhw.gateware.plan import (
    BANK_WORDS,
    SELECT_FANIN,
    MemorySpec,
    weight_banks,
    weight_latency,
)
from snnhw.gateware.sim import simulate
from snnhw.gateware.weights import WeightStore, spram_units
from snnhw.toolchain import ToolError, tool


def read_all(dut, addrs, writes=()):
    """Issue one read a cycle (addresses in any order); collect the data `latency` later."""
    out = []

    async def tb(ctx):
        for addr, word in writes:
            ctx.set(dut.load.en, 1)
            ctx.set(dut.load.addr, addr)
            ctx.set(dut.load.data, word)
            await ctx.tick()
        ctx.set(dut.load.en, 0)
        seen = []
        for addr in list(addrs) + [0] * dut.latency:
            ctx.set(dut.rd_addr, addr)
            seen.append(ctx.get(dut.rd_data))
            await ctx.tick()
        out.extend(seen[dut.latency:])

    simulate(dut, tb)
    return out


@pytest.mark.parametrize("bank_words", [None, 8, 2])
def test_rom_reads_its_contents(bank_words):
    init = [(k * 2654435761) & 0xFFF for k in range(37)]
    dut = WeightStore(MemorySpec("mem", "weights", 37, 12, kind="rom"), init=init,
                      bank_words=bank_words)
    addrs = list(range(37)) + random.Random(1).choices(range(37), k=60)  # bank hops
    assert read_all(dut, addrs) == [init[a] for a in addrs]


@pytest.mark.parametrize("bank_words", [None, 512])
@pytest.mark.parametrize(("banks", "latency"), [(6, 3), (9, 4)])
def test_many_banks_select_in_two_registered_steps(bank_words, banks, latency):
    # more than SELECT_FANIN banks of 1024 words (twice as many of 512): the select takes
    # two registered steps (3 cycles); more than twice SELECT_FANIN: a register per bank
    # first (4 cycles)
    depth = (banks - 1) * BANK_WORDS + 5
    init = [(k * 2654435761 >> 7) & 0x3FF for k in range(depth)]
    spec = MemorySpec("mem", "weights", depth, 10, kind="rom")
    dut = WeightStore(spec, init=init, bank_words=bank_words)
    assert weight_banks(spec) == banks > SELECT_FANIN and dut.latency == latency
    addrs = [*random.Random(2).choices(range(depth), k=80), depth - 1, 0, 4 * BANK_WORDS]
    assert read_all(dut, addrs) == [init[a] for a in addrs]
    small = MemorySpec("mem", "weights", SELECT_FANIN * BANK_WORDS, 10, kind="rom")
    assert weight_latency(small) == 2
    assert weight_latency(MemorySpec("mem", "weights", 12544, 64, kind="spram")) == 2


@pytest.mark.parametrize("bank_words", [None, 4])
def test_ram_reads_back_what_was_loaded(bank_words):
    words = [(k * 97 + 5) & 0xFFFF for k in range(20)]
    dut = WeightStore(MemorySpec("mem", "weights", 20, 16, kind="ram"), bank_words=bank_words)
    addrs = list(range(20))[::-1] + list(range(20))
    got = read_all(dut, addrs, writes=list(enumerate(words))[::-1])
    assert got == [words[a] for a in addrs]


def test_refusals_and_units():
    with pytest.raises(ValueError, match="needs its initial contents"):
        WeightStore(MemorySpec("mem", "weights", 4, 8, kind="rom"))
    with pytest.raises(ValueError, match="power of two"):
        WeightStore(MemorySpec("mem", "weights", 4, 8, kind="spram"), bank_words=300)
    assert spram_units(16384, 16) == 1 and spram_units(16385, 17) == 4
    assert dp16kd_units(1024, 18) == 1 and dp16kd_units(8192, 32) == 16
    assert dp16kd_shape(8192, 32) == (2048, 9) and dp16kd_shape(1024, 36) == (1024, 18)
    assert dp16kd_units(1280, 8) == 1 and dp16kd_units(4096, 16) == 4
    with pytest.raises(ValueError, match="does not fit 18 bits"):
        dp16kd_initvals([1 << 18])
    with pytest.raises(ValueError, match="2048 words of 9 bits"):
        dp16kd_initvals([0] * 2049, 9)


def _yosys_json(tmp_path, design, platform=None):
    """``synth_ecp5`` of ``design`` (elaborated for ``platform``): the netlist as JSON."""
    try:
        yosys = tool("YOSYS")
    except ToolError as exc:
        pytest.skip(str(exc))
    name = "ecp5" if platform else "plain"
    il = tmp_path / f"{name}.il"
    # (a struct-shaped port is a view of a signal: its signal is the port)
    ports = [Value.cast(v) for _, _, v in design.signature.flatten(design)]
    ports = [v for v in ports if isinstance(v, Signal)]
    il.write_text(rtlil.convert(design, platform=platform, name="top", ports=ports))
    out = tmp_path / f"{name}.json"
    r = subprocess.run([yosys, "-q", "-p",   # YoWASP sees the working directory only
                        f"read_rtlil {il.name}; synth_ecp5 -top top -json {out.name}"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    cells = json.loads(out.read_text())["modules"]["top"]["cells"]
    return [c for c in cells.values() if c["type"] == "DP16KD"]


class _ECP5:
    family = "ecp5"


def _initvals(cell):
    return {k: int(v, 2) for k, v in cell["parameters"].items() if k.startswith("INITVAL_")}


@pytest.mark.parametrize("depth, width, low", [(1024, 18, 4), (2048, 9, 3)])
def test_dp16kd_contents_match_yosys_mapping(tmp_path, depth, width, low):
    """A ROM of one block's shape as Yosys maps it (no output register) and as the ECP5
    form builds it (one DP16KD, output register on): the same INITVAL layout and the
    word address on the same address pins. (Yosys puts 2048 x 9 in two blocks of 1024
    words at 9 bits: each must hold its half in our layout.)"""
    rng = random.Random(5)
    init = [rng.randrange(1 << width) for _ in range(depth)]
    spec = MemorySpec("mem", "weights", depth, width, kind="rom")
    theirs = _yosys_json(tmp_path, WeightStore(spec, init=init))
    ours = _yosys_json(tmp_path, WeightStore(spec, init=init), platform=_ECP5())
    assert len(ours) == 1 and ours[0]["parameters"]["REGMODE_A"].strip() == "OUTREG"
    assert _initvals(ours[0]) == dp16kd_initvals(init, width)
    halves = [init[k:k + 1024] for k in range(0, depth, 1024)]
    assert len(theirs) == len(halves)
    assert sorted(map(sorted, (_initvals(c).items() for c in theirs))) == sorted(
        sorted(dp16kd_initvals(h, width).items()) for h in halves)
    for c in (*theirs, *ours):   # widths agree; word address on AD[low:], zeros below
        p, conn = c["parameters"], c["connections"]
        assert int(p["DATA_WIDTH_A"], 2) == width and p["REGMODE_A"].strip() in (
            "NOREG", "OUTREG")
        assert all(conn[f"ADA{k}"] == ["0"] for k in range(2, low))
        assert all(isinstance(conn[f"ADA{k}"][0], int) for k in range(low, 13))


def test_dp16kd_form_of_a_deep_wide_rom(tmp_path):
    """8192 x 32 (the 256 x 256 layer at lanes 8): 4 banks of 4 DP16KD (2048 x 9), all
    with their output register, no other block RAM, as the estimate counts."""
    init = [(k * 2654435761) & 0xFFFFFFFF for k in range(8192)]
    spec = MemorySpec("mem", "weights", 8192, 32, kind="rom")
    cells = _yosys_json(tmp_path, WeightStore(spec, init=init), platform=_ECP5())
    assert len(cells) == dp16kd_units(8192, 32) == 16
    assert all(c["parameters"]["REGMODE_A"].strip() == "OUTREG" for c in cells)


def test_frame_buffer_on_ecp5_is_one_dp16kd_with_its_output_register(tmp_path):
    from snnhw.gateware.receiver import FrameReceiver

    cells = _yosys_json(tmp_path, FrameReceiver(), platform=_ECP5())
    assert len(cells) == 1
    c = cells[0]
    assert c["parameters"]["REGMODE_A"].strip() == "OUTREG"
    assert isinstance(c["connections"]["WEB"][0], int)       # written at run time
    assert all(isinstance(c["connections"][f"DIB{k}"][0], int) for k in range(8))
