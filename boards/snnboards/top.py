"""The board top: clock (the board's, or a PLL's), UART pins, two LEDs, and the linked network."""

from __future__ import annotations

from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.lib import io

from snnhw.gateware.linked import LinkedNetwork
from snnhw.ir import Network

from .clocks import ClockGen, PLLConfig
from .platforms import Board

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """``net`` with ``lanes`` on ``board``, talking to the host at ``baud`` (by default the
    fastest rate of the board's USB bridge that its clock makes, :meth:`Board.default_baud`).

    ``pll``: a :class:`~snnboards.clocks.PLLConfig` to run ``sync`` at its
    rate; without it ``sync`` is the board's default clock (the platform
    creates it with a power-on reset). ``weights``: ``{layer: "spram"}`` for
    weights the host loads (:func:`snnboards.estimate.place_weights`). ``core``:
    ``"pipeline"`` or ``"serial"`` (:data:`snnhw.gateware.cores.CORES`).
    """

    def __init__(self, net: Network, board: Board, *, lanes=8, baud: int | None = None,
                 pll: PLLConfig | None = None, weights: dict | None = None,
                 core: str = "pipeline"):
        self.board, self.pll = board, pll
        self.clk_hz = pll.f_out if pll is not None else board.clk_hz
        # the UART rate, given or the board's default at this clock (the build reports it)
        self.baud = board.default_baud(self.clk_hz) if baud is None else baud
        self.linked = LinkedNetwork(net, lanes=lanes, clk_hz=self.clk_hz, baud=self.baud,
                                    weights=weights, core=core)

    def elaborate(self, platform):
        m = Module()
        if self.pll is not None:
            m.domains.sync = ClockDomain("sync")
            port = platform.request(platform.default_clk, 0, dir="-")
            m.submodules.clockgen = ClockGen(self.pll, port)
        m.submodules.linked = linked = self.linked
        uart = platform.request(*self.board.uart, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [linked.rx.eq(rx.i), tx.o.eq(linked.tx)]
        if self.board.led_activity == self.board.led_error:  # one RGB LED: green / red
            led = platform.request(*self.board.led_activity, dir="-")
            m.submodules.led_g = g = io.Buffer("o", led.g)
            m.submodules.led_r = r = io.Buffer("o", led.r)
            m.d.comb += [g.o.eq(linked.led_activity), r.o.eq(linked.led_error)]
        else:
            for name, sig in (("led_act", linked.led_activity), ("led_err", linked.led_error)):
                res = self.board.led_activity if name == "led_act" else self.board.led_error
                pin = platform.request(*res, dir="-")
                m.submodules[name] = buf = io.Buffer("o", pin)
                m.d.comb += buf.o.eq(sig)
        return m
