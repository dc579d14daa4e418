"""The family owns the rule that maps a memory to blocks: the estimate's block count
equals what Yosys's ``synth_<family>`` spends, exactly, on drawn networks.

The network core is elaborated for a stand-in of each family's platform (so the
ECP5 core has its DP16KD weight ROMs and LUT RAM state, as on the board) and
synthesised; its block RAM cells are counted by the family's own cell names and
compared with the estimate's blocks for the core's memories.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from amaranth import Elaboratable, Module, Signal, unsigned
from amaranth.back import rtlil
from amaranth.lib import memory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnboards.estimate import memories
from snnhw.families import FAMILIES
from snnhw.gateware.collision import YOSYS_COMMANDS as COLLISION_COMMANDS
from snnhw.gateware.collision import collision_free_read
from snnhw.gateware.network import SNNCore
from snnhw.gateware.sim import StandInPlatform
from snnhw.ir.examples import random_network
from snnhw.toolchain import ToolError, cell_counts, run_yosys

#: a platform ``family`` string of each family (Gowin's is the device's)
PLATFORM_FAMILY = {"ice40": "ice40", "ecp5": "ecp5", "gowin": "GW1NR-9C"}


def rtlil_blocks(il: str, family: str) -> int:
    """Block RAM cells ``synth_<family>`` makes of the RTLIL design ``il`` (top ``top``)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "design.il").write_text(il)
        try:
            # as a board build reads it (snnboards.build)
            run_yosys(f"read_rtlil design.il; {COLLISION_COMMANDS}; synth_{family} -top top; "
                      "tee -q -o mapped.json stat -json", cwd=tmp)
        except ToolError as exc:
            pytest.skip(f"yosys unavailable: {exc}")
        cells = cell_counts(Path(tmp) / "mapped.json", "top")
    return sum(cells.get(c, 0) for c in FAMILIES[family].bram_cells)


def synthesised_blocks(core: SNNCore, family: str) -> int:
    return rtlil_blocks(rtlil.convert(core, name="top",
                                      platform=StandInPlatform(PLATFORM_FAMILY[family])),
                        family)


def test_every_family_has_a_platform_string():
    assert set(PLATFORM_FAMILY) == set(FAMILIES)
    for name, plat in PLATFORM_FAMILY.items():
        assert FAMILIES[name].matches(plat)
    json.dumps(PLATFORM_FAMILY)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), n_in=st.sampled_from([24, 64, 150]),
       hidden=st.sampled_from([16, 40, 128]), lanes=st.sampled_from([1, 2, 4]),
       w_bits=st.sampled_from([4, 8]))
def test_block_count_equals_synthesis(family, seed, n_in, hidden, lanes, w_bits):
    net = random_network(np.random.default_rng(seed), [n_in, hidden, 10], in_bits=4,
                         timesteps=2, spike_bits=2, w_bits=w_bits)
    core = SNNCore(net, lanes=lanes)
    expected = sum(m["blocks"] for m in memories(net, lanes, FAMILIES[family])
                   if m["name"].startswith("core."))
    assert synthesised_blocks(core, family) == expected


def test_a_small_accumulator_goes_to_logic_on_ice40():
    # 64-32-10, 5-bit inputs, lanes 2: layer 1's 5 x 26 accumulator costs 130 in logic and
    # 2 x 64 + 2 x 1 emulation point in blocks, a tie, so Yosys keeps it in logic: 13 blocks in
    # the core (15 on the board with the link's frame buffer; the rule once said 17)
    net = random_network(np.random.default_rng(0), [64, 32, 10], in_bits=5, timesteps=4,
                         spike_bits=2)
    expected = sum(m["blocks"] for m in memories(net, 2, FAMILIES["ice40"])
                   if m["name"].startswith("core."))
    assert expected == 13
    assert synthesised_blocks(SNNCore(net, lanes=2), "ice40") == expected


class _Memories(Elaboratable):
    """Memories of the gateware's two styles, each with its own ports: a RAM (read
    port and write port) and a ROM (read port, contents)."""

    def __init__(self, shapes):
        self.shapes = shapes
        self.ports = []

    def elaborate(self, platform):
        m = Module()
        for i, (depth, width, rom) in enumerate(self.shapes):
            init = [(a * 2654435761) % (1 << width) for a in range(depth)] if rom else []
            m.submodules[f"mem{i}"] = mem = memory.Memory(shape=unsigned(width), depth=depth,
                                                          init=init)
            addr, out = Signal(range(depth)), Signal(width)
            rd = mem.read_port()
            m.d.comb += rd.addr.eq(addr)
            self.ports += [addr, out]
            if rom:
                m.d.comb += out.eq(rd.data)
            else:   # as every RAM of the gateware: no old word promised on a collision
                waddr, data, en = Signal(range(depth)), Signal(width), Signal()
                wr = mem.write_port()
                m.d.comb += [wr.addr.eq(waddr), wr.data.eq(data), wr.en.eq(en),
                             out.eq(collision_free_read(m, mem, rd, wr, platform))]
                self.ports += [waddr, data, en]
        return m


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=1, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=st.lists(st.tuples(st.integers(2, 3000), st.integers(1, 40), st.booleans()),
                       min_size=12, max_size=12))
def test_block_rule_equals_synthesis_on_drawn_memories(family, shapes):
    """Twelve drawn shapes in one design: Yosys's blocks equal the rule's sum (each
    shape was also checked alone on a grid of 80 while the rule was written)."""
    design = _Memories(shapes)
    il = rtlil.convert(design, name="top", ports=design.ports)
    expected = sum(FAMILIES[family].bram_blocks(d, w, rom=rom) for d, w, rom in shapes)
    assert rtlil_blocks(il, family) == expected


@pytest.mark.parametrize("family, logic, block", [("ice40", (33, 2), (34, 2)),
                                                   ("ice40", (16, 4), (17, 4))])
def test_a_ram_takes_a_block_from_one_emulation_point_up(family, logic, block):
    """64 points a block and 2 for its one emulation point (a read port of its own; no
    old word on a collision) against a point a bit in logic: 66 bits stay in logic (a
    tie), 68 take a block. With the old word promised it took 80."""
    design = _Memories([(*logic, False), (*block, False)])
    il = rtlil.convert(design, name="top", ports=design.ports)
    assert [FAMILIES[family].bram_blocks(*s) for s in (logic, block)] == [0, 1]
    assert rtlil_blocks(il, family) == 1


@pytest.mark.parametrize("depth, width, columns", [(9472, 8, 2), (1280, 8, 8), (4096, 16, 2)])
def test_an_ice40_weight_store_is_one_memory_in_columns(depth, width, columns):
    """The digits MLP's serial weights (9,472 x 8) go to 2-bit columns, 20 blocks with a
    select 5 deep (not 19 stacked 512 x 8 blocks); a memory Yosys would map no better
    in columns stays whole; the estimate counts what Yosys builds."""
    from snnhw.gateware.plan import MemorySpec
    from snnhw.gateware.weights import WeightStore

    fam = FAMILIES["ice40"]
    assert fam.weight_column_bits(depth, width) == columns
    spec = MemorySpec("weights", "weights", depth, width, kind="rom")
    rng = np.random.default_rng(depth)
    store = WeightStore(spec, init=[int(v) for v in rng.integers(0, 1 << width, depth)])
    expected = sum(fam.bram_blocks(depth, bits, rom=True)
                   for bits in fam.weight_columns(depth, width))
    il = rtlil.convert(store, name="top", platform=StandInPlatform(PLATFORM_FAMILY["ice40"]))
    assert rtlil_blocks(il, "ice40") == expected


def test_a_banked_weight_rom_counts_per_bank_on_gowin():
    # the 256x256 layer at lanes 8: 8192 x 32 weights in 8 banks of 1024 words, 2 blocks
    # each (the whole memory at once would pack into 15): 16, as Yosys maps them
    net = random_network(np.random.default_rng(3), [256, 256], in_bits=1, timesteps=1,
                         spike_bits=1, w_bits=4, u_bits=12, readout="spikes")
    mems = [m for m in memories(net, 8, FAMILIES["gowin"]) if m["name"].startswith("core.")]
    weights = next(m for m in mems if m["role"] == "weights")
    assert weights["blocks"] == 16
    assert synthesised_blocks(SNNCore(net, lanes=8), "gowin") == sum(m["blocks"] for m in mems)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("shape", ["dense", "conv", "recurrent"])
def test_serial_core_block_count_equals_synthesis(family, shape):
    from snnhw.gateware.serial import SerialCore
    from snnhw.ir.examples import random_conv_network

    if shape in ("dense", "recurrent"):    # recurrent: [W | R] and the replay memory
        net = random_network(np.random.default_rng(2), [40, 24, 10], in_bits=4, timesteps=2,
                             spike_bits=2, recurrent=(0,) if shape == "recurrent" else ())
    else:   # the walk-start ROM and 400 membranes besides
        net = random_conv_network(np.random.default_rng(2), (1, 1, 40),
                                  [(16, (1, 5), (1, 1), (0, 2)), (8, (1, 6), (1, 2), (0, 2))],
                                  [10], timesteps=2)
    mems = memories(net, 2, FAMILIES[family], core="serial")
    assert any(m["role"] == "walk starts" for m in mems) == (shape == "conv")
    assert any(m["role"] == "replay" for m in mems) == (shape == "recurrent")
    expected = sum(m["blocks"] for m in mems if m["name"].startswith("core."))
    assert synthesised_blocks(SerialCore(net, lanes=2), family) == expected
