"""Network + host link + UART: everything a board needs besides its pins and clock.

Ports: ``rx`` (in, idle high), ``tx`` (out), ``led_activity`` (toggles on
every accepted frame), ``led_error`` (lit for about ``err_hold`` cycles after
a rejected frame: from the largest power of two not above it to twice that).
``weights`` ({layer: "ram" | "spram"}) names the layers whose weights the
host loads with WEIGHTS frames instead of the bitstream; ``bank_words`` the
words per weight memory bank
(:class:`~snnhw.gateware.weights.WeightStore`).
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, DomainRenamer, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from .cores import make_core
from .hostlink import HostLink
from .uart import UARTRx, UARTTx, divisor_for

__all__ = ["LinkedNetwork"]


class LinkedNetwork(wiring.Component):
    """See the module docstring. ``clk_hz`` and ``baud`` set the UART divisor."""

    def __init__(self, net: Network, *, lanes, clk_hz: float, baud: int = 115200,
                 err_hold: int | None = None, weights: dict | None = None,
                 bank_words: int | None = None, core: str = "pipeline"):
        self.net, self.lanes = net, lanes
        self.divisor = divisor_for(clk_hz, baud)
        self.core = make_core(net, lanes, core, weights=weights, bank_words=bank_words)
        self.err_hold = err_hold if err_hold is not None else int(clk_hz // 4)
        # the error LED's free-running counter also ticks the receiver's timeout (a tick
        # every 2 ** t cycles: a shorter count of the silence)
        self.prescale = max(1, self.err_hold.bit_length() - 1)
        self.tick_bits = min(8, self.prescale)
        self.link = HostLink(n_in=net.n_in, in_bits=net.in_bits, n_out=net.n_out,
                             logit_bits=self.core.logit_bits,
                             timeout=40 * self.divisor,
                             weight_depths=self.core.weight_depths(),
                             load_width=self.core.load_width(),
                             tick_cycles=1 << self.tick_bits)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1),
                          "led_activity": Out(1), "led_error": Out(1)})

    def memories(self):
        """Every memory of the design, named from its top (:mod:`snnhw.gateware.plan`)."""
        return ([mem.within("core") for mem in self.core.memories()]
                + [mem.within("link") for mem in self.link.memories()])

    def elaborate(self, platform):
        m = Module()
        # the core runs in a domain of the same clock without a reset of its own: its one
        # reset is `clear`, a flip-flop that is also high in reset (and the cycle after),
        # so every reset input in the core comes straight from that flip-flop, not from
        # a gate joining the board's reset and the host's clear
        m.domains.core = ClockDomain("core", reset_less=True, local=True)
        m.d.comb += ClockSignal("core").eq(ClockSignal("sync"))
        m.submodules.core = DomainRenamer("core")(self.core)
        core = self.core
        m.submodules.link = link = self.link
        m.submodules.uart_rx = urx = UARTRx(self.divisor)
        m.submodules.uart_tx = utx = UARTTx(self.divisor)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]
        # registered: the clear fans out to every layer's reset
        clear = Signal(init=1)
        m.d.sync += clear.eq(link.clear)
        m.d.comb += core.clear.eq(clear)
        wiring.connect(m, urx.o, link.rx)
        wiring.connect(m, link.tx, utx.i)
        wiring.connect(m, link.ev, core.i)
        wiring.connect(m, core.o, link.res)
        if core.loaded:
            wiring.connect(m, link.load, core.load)
        # error LED: lit from the largest power of two 2**P <= err_hold cycles to twice
        # that, timed by a free-running counter alone (no loadable counter: a carry chain
        # with enables that iCE40 placement splits, the slowest path of the design)
        p = self.prescale
        # (the wrap is the increment's carry out: no compare with all ones)
        pre = Signal(p)
        wrap = Signal()
        pre_next = Signal(p + 1)
        m.d.comb += pre_next.eq(pre + 1)
        m.d.sync += [pre.eq(pre_next[:p]), wrap.eq(pre_next[p])]
        tick = Signal()
        m.d.sync += tick.eq(pre[:self.tick_bits].all())
        m.d.comb += link.tick.eq(tick)
        phase = Signal(2)   # wraps of `pre` left while lit
        ok, bad = Signal(), Signal()  # registered: no path from the frame checks to the LEDs
        m.d.sync += [ok.eq(link.frame_ok), bad.eq(link.frame_bad)]
        with m.If(bad):
            m.d.sync += phase.eq(2)
        with m.Elif(wrap & (phase != 0)):
            m.d.sync += phase.eq(phase - 1)
        with m.If(ok):
            m.d.sync += self.led_activity.eq(~self.led_activity)
        m.d.comb += self.led_error.eq(phase != 0)
        return m
