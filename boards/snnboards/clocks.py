"""Clocking of a board top: the board's oscillator as is, or a PLL to a faster rate.

``pll_ice40`` and ``pll_ecp5`` choose PLL dividers the way Project IceStorm's
``icepll`` and Project Trellis's ``ecppll`` do (simple feedback, the closest
output frequency with the VCO and phase-detector limits of the data sheets);
:class:`ClockGen` instantiates the primitive (``SB_PLL40_PAD`` or
``EHXPLLL``) for a new ``sync`` clock (nextpnr derives its constraint from
the PLL and the board clock's), and holds
``sync`` in reset until the PLL has locked and a few microseconds more (the
iCE40 block RAMs read as zero for about 3 us after configuration).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import (
    ClockDomain,
    ClockSignal,
    Const,
    Elaboratable,
    Instance,
    Module,
    ResetSignal,
    Signal,
)
from amaranth.lib import io

__all__ = ["PLLConfig", "pll_ice40", "pll_ecp5", "ClockGen", "ClockError"]


class ClockError(ValueError):
    """No PLL setting reaches the requested frequency."""


@dataclass(frozen=True)
class PLLConfig:
    family: str
    f_in: float          # Hz
    f_out: float         # Hz, what the dividers actually give
    f_vco: float
    params: dict


def pll_ice40(f_in: float, f_out: float) -> PLLConfig:
    """``SB_PLL40`` dividers for ``f_in -> f_out`` (Hz), simple feedback."""
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
    return PLLConfig("ice40", f_in, out * 1e6, f_vco * 1e6, {
        "DIVR": divr, "DIVF": divf, "DIVQ": divq, "FILTER_RANGE": filter_range})


def pll_ecp5(f_in: float, f_out: float) -> PLLConfig:
    """``EHXPLLL`` dividers for ``f_in -> f_out`` (Hz), feedback from CLKOP."""
    fin = f_in / 1e6
    target = f_out / 1e6
    if not 8 <= fin <= 400:
        raise ClockError(f"ECP5 PLL input {fin} MHz is outside 8..400 MHz")
    if not 3.125 <= target <= 400:
        raise ClockError(f"ECP5 PLL output {target} MHz is outside 3.125..400 MHz")
    best = None
    for idiv in range(1, 129):
        f_pfd = fin / idiv
        if not 3.125 <= f_pfd <= 400:
            continue
        for fbdiv in range(1, 81):
            out = f_pfd * fbdiv
            err = abs(out - target)
            if best is not None and err > best[0][0] + 1e-9:
                continue
            for odiv in range(1, 129):
                f_vco = out * odiv
                if not 400 <= f_vco <= 800:
                    continue
                # equal error: prefer the VCO nearest the middle of its range
                key = (round(err, 9), abs(f_vco - 600))
                if best is None or key < best[0]:
                    best = (key, idiv, fbdiv, odiv, out, f_vco)
    if best is None:
        raise ClockError(f"no ECP5 PLL setting gives {target} MHz from {fin} MHz")
    _, idiv, fbdiv, odiv, out, f_vco = best
    return PLLConfig("ecp5", f_in, out * 1e6, f_vco * 1e6, {
        "CLKI_DIV": idiv, "CLKFB_DIV": fbdiv, "CLKOP_DIV": odiv, "CLKOP_CPHASE": odiv - 1})


class ClockGen(Elaboratable):
    """Drives the clock and reset of the ``sync`` domain (defined by the parent) at
    ``cfg.f_out`` from the board clock ``port``."""

    def __init__(self, cfg: PLLConfig, port, *, reset_delay_s: float = 10e-6):
        self.cfg, self.port = cfg, port
        self.delay = max(1, int(reset_delay_s * cfg.f_out))

    def elaborate(self, platform):
        m = Module()
        lock = Signal()
        p = self.cfg.params
        if self.cfg.family == "ice40":
            # the 12 MHz pin feeds the PLL directly, so it takes the pad primitive
            m.submodules.pll = Instance(
                "SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", p_PLLOUT_SELECT="GENCLK",
                p_DIVR=p["DIVR"], p_DIVF=p["DIVF"], p_DIVQ=p["DIVQ"],
                p_FILTER_RANGE=p["FILTER_RANGE"],
                i_PACKAGEPIN=self.port.io, i_RESETB=Const(1), i_BYPASS=Const(0),
                o_PLLOUTGLOBAL=ClockSignal("sync"), o_LOCK=lock)
        else:
            m.submodules.clk_in = clk_in = io.Buffer("i", self.port)
            m.submodules.pll = Instance(
                "EHXPLLL", p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED",
                p_STDBY_ENABLE="DISABLED", p_DPHASE_SOURCE="DISABLED",
                p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED", p_CLKOP_FPHASE=0,
                p_FEEDBK_PATH="CLKOP", p_CLKI_DIV=p["CLKI_DIV"], p_CLKFB_DIV=p["CLKFB_DIV"],
                p_CLKOP_DIV=p["CLKOP_DIV"], p_CLKOP_CPHASE=p["CLKOP_CPHASE"],
                a_FREQUENCY_PIN_CLKI=f"{self.cfg.f_in / 1e6:g}",
                a_FREQUENCY_PIN_CLKOP=f"{self.cfg.f_out / 1e6:g}",
                a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1",
                a_MFG_GMCREF_SEL="2",
                i_CLKI=clk_in.i, i_CLKFB=ClockSignal("sync"), i_RST=Const(0),
                i_STDBY=Const(0), i_PHASESEL0=Const(0), i_PHASESEL1=Const(0),
                i_PHASEDIR=Const(1), i_PHASESTEP=Const(1), i_PHASELOADREG=Const(1),
                i_PLLWAKESYNC=Const(0), i_ENCLKOP=Const(0),
                o_CLKOP=ClockSignal("sync"), o_LOCK=lock)
        # nextpnr derives the output clock's constraint from the PLL and its input pin
        # reset: held until the PLL locks, then `delay` more cycles
        m.domains.por = cd_por = ClockDomain("por", local=True, reset_less=True)
        m.d.comb += cd_por.clk.eq(ClockSignal("sync"))
        timer = Signal(range(self.delay + 1))
        with m.If(~lock):
            m.d.por += timer.eq(0)
        with m.Elif(timer != self.delay):
            m.d.por += timer.eq(timer + 1)
        # the reset comes straight from a flip-flop: it fans out to every register
        rst = Signal(init=1)
        m.d.por += rst.eq(timer != self.delay)
        m.d.comb += ResetSignal("sync").eq(rst)
        return m
