"""Clocking of a board top: the board's oscillator as is, or a PLL to a faster rate.

The board's family chooses the PLL dividers (:meth:`snnhw.families.base.Family.pll`,
the way Project IceStorm's ``icepll``, Project Trellis's ``ecppll`` and Apicula's
``gowin_pll`` do: the closest output frequency within the data sheets' VCO and
phase-detector limits) and instantiates its primitive (``SB_PLL40_PAD``,
``EHXPLLL``, ``rPLL``); :class:`ClockGen` makes the new ``sync`` clock from it and
holds
``sync`` in reset until the PLL has locked and a few microseconds more (the
iCE40 block RAMs read as zero for about 3 us after configuration).
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal, Signal

from snnhw.families import ClockError, PLLConfig
from snnhw.families import family as get_family

__all__ = ["PLLConfig", "ClockGen", "ClockError"]


class ClockGen(Elaboratable):
    """Drives the clock and reset of the ``sync`` domain (defined by the parent) at
    ``cfg.f_out`` from the board clock ``port``."""

    def __init__(self, cfg: PLLConfig, port, *, reset_delay_s: float = 10e-6):
        self.cfg, self.port = cfg, port
        self.delay = max(1, int(reset_delay_s * cfg.f_out))

    def elaborate(self, platform):
        m = Module()
        lock = Signal()
        m.submodules.pll = get_family(self.cfg.family).pll_instance(
            self.cfg, self.port, ClockSignal("sync"), lock)
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
