"""8N1 UART receiver and transmitter with byte streams.

``divisor`` is the number of clock cycles per bit (``round(f_clk / baud)``).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ._checks import CheckedComponent

__all__ = ["UARTRx", "UARTTx", "divisor_for", "rate_error", "fastest_baud",
           "MIN_DIVISOR", "MAX_RATE_ERROR", "DEFAULT_RATE_ERROR"]

#: fewest clock cycles per bit the receiver samples reliably (the synchronizer's delay
#: and the sampling point in the middle of the bit)
MIN_DIVISOR = 4
#: the largest rate error accepted for a rate asked for; a rate chosen by default keeps
#: half of it for the other side's own error
MAX_RATE_ERROR = 0.02
DEFAULT_RATE_ERROR = 0.01


def rate_error(clk_hz: float, baud: int) -> tuple[int, float]:
    """``(divisor, relative rate error)`` of ``baud`` made from ``clk_hz``."""
    d = max(round(clk_hz / baud), 1)
    return d, abs(clk_hz / d - baud) / baud


def divisor_for(clk_hz: float, baud: int) -> int:
    """Clock cycles per bit; raises ``ValueError`` if the rate error exceeds 2 %."""
    d, err = rate_error(clk_hz, baud)
    if d < MIN_DIVISOR or err > MAX_RATE_ERROR:
        raise ValueError(f"cannot make {baud} baud from {clk_hz / 1e6:g} MHz "
                         f"(divisor {d}, {100 * err:.1f} % off)")
    return d


def fastest_baud(clk_hz: float, rates, max_error: float = DEFAULT_RATE_ERROR) -> int:
    """The first of ``rates`` (fastest first) that ``clk_hz`` makes within ``max_error``
    with at least :data:`MIN_DIVISOR` cycles a bit; ``ValueError`` if none does."""
    for baud in rates:
        d, err = rate_error(clk_hz, baud)
        if d >= MIN_DIVISOR and err <= max_error:
            return int(baud)
    raise ValueError(f"none of the rates {list(rates)} can be made from {clk_hz / 1e6:g} MHz "
                     f"within {100 * max_error:g} %")


class UARTRx(CheckedComponent):
    """Receiver: ``rx`` pin in, bytes out on ``o``.

    The pin passes a two-flop synchronizer; each bit is sampled in its middle.
    A byte whose stop bit is low is dropped and counted on ``frame_error``
    (one-cycle pulse). ``o`` does not wait: the byte is the shift register
    itself, offered until the next byte's first data bit shifts in; a byte not
    taken by then is lost and ``overrun`` pulses (the host link always takes
    it at once). Latency: about 9.5 bit times from the start bit's edge.
    """

    @classmethod
    def check(cls, divisor: int) -> None:
        if divisor < 4:
            raise ValueError(f"divisor must be >= 4, got {divisor}")

    def __init__(self, divisor: int):
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(8)),
                          "frame_error": Out(1), "overrun": Out(1)})

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        rx = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(d + d // 2 + 1))
        # whether timer is 0, kept in a register (from the compare with 1 a cycle
        # ahead), so that the shift register's enable starts at flip-flops
        zero = Signal()
        bits = Signal(range(10))
        shreg = Signal(8)

        def load(value):
            return [timer.eq(value), zero.eq(value == 0)]

        count = [timer.eq(timer - 1), zero.eq(timer == 1)]
        m.d.comb += self.o.payload.eq(shreg)
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~rx):
                    m.d.sync += [*load(d // 2), bits.eq(0)]
                    m.next = "START"
            with m.State("START"):
                m.d.sync += count
                with m.If(zero):
                    with m.If(rx):
                        m.next = "IDLE"  # a glitch, not a start bit
                    with m.Else():
                        m.d.sync += load(d - 1)
                        m.next = "DATA"
            with m.State("DATA"):
                m.d.sync += count
                with m.If(zero):
                    m.d.sync += [shreg.eq((shreg >> 1) | (rx << 7)), *load(d - 1),
                                 bits.eq(bits + 1)]
                    with m.If(self.o.valid):    # the byte offered leaves the register
                        m.d.sync += self.o.valid.eq(0)
                        m.d.comb += self.overrun.eq(1)
                    with m.If(bits == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                m.d.sync += count
                with m.If(zero):
                    with m.If(rx):
                        m.d.sync += self.o.valid.eq(1)
                    with m.Else():
                        m.d.comb += self.frame_error.eq(1)
                    m.next = "IDLE"
        return m


class UARTTx(CheckedComponent):
    """Transmitter: bytes in on ``i``, ``tx`` pin out (idle high).

    Takes one byte every 10 bit times; ``i.ready`` is high only while idle.
    """

    check = UARTRx.check

    def __init__(self, divisor: int):
        self.divisor = divisor
        super().__init__({"i": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        timer = Signal(range(d))
        zero = Signal()                  # timer == 0, registered (as in UARTRx)
        shreg = Signal(10, init=0x3FF)
        left = Signal(range(11))
        m.d.comb += self.tx.eq(shreg[0])
        with m.If(left == 0):
            m.d.comb += self.i.ready.eq(1)
            with m.If(self.i.valid):
                m.d.sync += [shreg.eq((1 << 9) | (self.i.payload << 1)), left.eq(10),
                             timer.eq(d - 1), zero.eq(d == 1)]
        with m.Else():
            m.d.sync += [timer.eq(timer - 1), zero.eq(timer == 1)]
            with m.If(zero):
                m.d.sync += [shreg.eq((shreg >> 1) | (1 << 9)), left.eq(left - 1),
                             timer.eq(d - 1), zero.eq(d == 1)]
        return m
