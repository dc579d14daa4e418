"""Host link, the two consumers of a checked frame held in the frame buffer.

* :class:`EventFeeder`: an EVENTS frame's payload, 3 bytes an event
  (:func:`snnhw.protocol.link.pack_events`), out as network input events.
* :class:`WeightLoader`: a WEIGHTS frame's words (little-endian,
  :data:`~snnhw.protocol.link.WEIGHT_WORD_BYTES` bytes each, after the
  header) out as writes on the core's load port.

Both take a command from :class:`~snnhw.gateware.receiver.FrameReceiver` on
``cmd`` and read the buffer through ``buf``; they accept the command (the
transfer on ``cmd``) when they have finished with it, which is what the
receiver ACKs. A command of the other type is left alone.

A buffer byte comes three cycles after its address (the address register
beside the block RAM, the block RAM's read, the register it lands in, with
no logic between: the buffer's own output register,
:class:`~snnhw.gateware.receiver.BufferReadPort`). The feeder reads an
event's three bytes back to back and sends one event per seven cycles at
most, and holds it while ``ev.ready`` is low; the loader writes one word per
``4 * WEIGHT_WORD_BYTES`` cycles and has no backpressure (the core takes a
write every cycle).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import link
from .layouts import event_layout
from .ports import CoreLoadPort
from .receiver import BufferReadPort, command_layout

__all__ = ["EventFeeder", "WeightLoader"]


class EventFeeder(wiring.Component):
    """EVENTS frames from the buffer to the network input (see the module docstring).

    Ports
    -----
    cmd : In(stream of :func:`~snnhw.gateware.receiver.command_layout`)
    buf : Out(BufferReadPort)
    ev : Out(stream of :func:`event_layout` (n_in, in_bits))
    """

    def __init__(self, *, n_in: int, in_bits: int, buffer_depth: int):
        self.n_in, self.in_bits = n_in, in_bits
        super().__init__({
            "cmd": In(stream.Signature(command_layout())),
            "buf": Out(BufferReadPort(buffer_depth)),
            "ev": Out(stream.Signature(event_layout(n_in, in_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        addr = self.buf.addr
        rdata = Signal(8)
        m.d.comb += rdata.eq(self.buf.data)  # the buffer's registered output
        held = Signal(16)
        value = Signal(8)
        length = self.cmd.payload.length
        mine = _registered_type(m, self.cmd.payload, link.EVENTS)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.cmd.valid & mine):
                    m.d.sync += addr.eq(0)
                    m.next = "READ"
            # present the three byte addresses on three cycles; the data comes back
            # three cycles later (BufferReadPort)
            with m.State("READ"):
                with m.If(addr == length):
                    m.d.comb += self.cmd.ready.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += addr.eq(addr + 1)
                    m.next = "A1"
            with m.State("A1"):
                m.d.sync += addr.eq(addr + 1)
                m.next = "A2"
            with m.State("A2"):
                m.d.sync += addr.eq(addr + 1)
                m.next = "B0"
            with m.State("B0"):
                m.d.sync += held[:8].eq(rdata)
                m.next = "B1"
            with m.State("B1"):
                m.d.sync += held[8:].eq(rdata)
                m.next = "B2"
            with m.State("B2"):
                m.d.sync += value.eq(rdata)
                m.next = "SEND"
            with m.State("SEND"):
                ev = self.ev.payload
                m.d.comb += [self.ev.valid.eq(1), ev.index.eq(held[:15]), ev.eos.eq(held[15]),
                             ev.value.eq(value)]
                with m.If(self.ev.ready):
                    m.next = "READ"
        return m


class WeightLoader(wiring.Component):
    """WEIGHTS frames from the buffer to the core's load port (see the module docstring).

    Parameters
    ----------
    buffer_depth : bytes of the frame buffer
    word_bits : bits of a word the core reads (``load.data`` above them is 0)
    depth : words of the deepest loaded memory (a write's address is below it)

    Ports
    -----
    cmd : In(stream of :func:`~snnhw.gateware.receiver.command_layout`)
    buf : Out(BufferReadPort)
    load : Out(CoreLoadPort)
    """

    def __init__(self, *, buffer_depth: int, word_bits: int = CoreLoadPort.DATA_WIDTH,
                 depth: int = 1 << CoreLoadPort.ADDR_WIDTH):
        if not 0 < word_bits <= CoreLoadPort.DATA_WIDTH:
            raise ValueError(f"word_bits must be 1..{CoreLoadPort.DATA_WIDTH}, got {word_bits}")
        self.word_bytes = -(-word_bits // 8)
        self.depth = depth
        super().__init__({
            "cmd": In(stream.Signature(command_layout())),
            "buf": Out(BufferReadPort(buffer_depth)),
            "load": Out(CoreLoadPort()),
        })

    def elaborate(self, platform):
        m = Module()
        wb, hdr = link.WEIGHT_WORD_BYTES, link.WEIGHT_HEADER_BYTES
        addr = self.buf.addr
        rdata = Signal(8)
        m.d.comb += rdata.eq(self.buf.data)  # the buffer's registered output
        # the word being assembled is also the write's data (it holds until the next
        # byte, four cycles after the write), and the layer is the command's (held
        # until it is taken): no copies of either. Only the word's first `word_bytes`
        # bytes are kept (the core reads no more of a word; the rest is the protocol's
        # zero padding), and addresses only as wide as the deepest loaded memory (the
        # receiver has checked the frame's range against it)
        nb = self.word_bytes
        word = Signal(8 * nb, reset_less=True)
        w_next = Signal(range(self.depth + 1))
        cmd = self.cmd.payload
        m.d.sync += self.load.en.eq(0)
        # the write's address is the counter itself, which moves on after the write
        m.d.comb += self.load.addr.eq(w_next)
        with m.If(self.load.en):
            m.d.sync += w_next.eq(w_next + 1)
        m.d.comb += [self.load.data.eq(word), self.load.layer.eq(cmd.w_layer)]
        mine = _registered_type(m, cmd, link.WEIGHTS)
        # the frame's end, a flip-flop set as the address moves onto it (the receiver
        # passes no WEIGHTS frame without a word: the header is never its end)
        at_end = Signal()
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.cmd.valid & mine):
                    m.d.sync += [addr.eq(hdr), w_next.eq(cmd.w_start), at_end.eq(0)]
                    m.next = "A"
            # one payload byte per four cycles (its address, then three cycles to its
            # data: BufferReadPort); every WEIGHT_WORD_BYTES bytes (little-endian) are
            # one word, written at once
            with m.State("A"):
                with m.If(at_end):
                    m.d.comb += self.cmd.ready.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.next = "B"
            with m.State("B"):
                m.next = "B2"
            with m.State("B2"):
                m.next = "C"
            with m.State("C"):
                pos = addr[:wb.bit_length() - 1]      # (hdr + byte of the word) % wb
                with m.If(Cat(*[pos == (hdr + b) % wb for b in range(nb)]).any()):
                    m.d.sync += word.eq(Cat(word[8:], rdata))
                m.d.sync += [addr.eq(addr + 1), at_end.eq(addr + 1 == cmd.length)]
                with m.If(pos == (hdr + wb - 1) % wb):
                    m.d.sync += self.load.en.eq(1)
                m.next = "A"
        return m


def _registered_type(m, cmd, frame_type: int) -> Signal:
    """Whether the command is of ``frame_type``, a flip-flop: the type is set as the
    frame's second byte arrives, long before the command is handed on, so that no
    compare sits in front of the consumer's state."""
    mine = Signal(name=f"is_type_{frame_type}")
    m.d.sync += mine.eq(cmd.type == frame_type)
    return mine
