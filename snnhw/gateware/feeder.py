"""Host link, the two consumers of a checked frame's payload.

* :class:`EventFeeder`: an EVENTS frame's payload, 3 bytes an event
  (:func:`snnhw.protocol.link.pack_events`), out as network input events.
* :class:`WeightLoader`: a WEIGHTS frame's header (layer, first word's
  address) and words (little-endian, :data:`~snnhw.protocol.link.WEIGHT_WORD_BYTES`
  bytes each) out as writes on the core's load port.

Both take a command from :class:`~snnhw.gateware.receiver.FrameReceiver` on
``cmd`` and its payload, a byte a beat, on ``data`` (the receiver reads it
back from its buffer: :func:`~snnhw.gateware.receiver.payload_layout`); they
take the closing beat and the command together when they have finished with
it, which is what the receiver ACKs. A command of the other type is left
alone. The feeder holds an event while ``ev.ready`` is low (and takes no byte
meanwhile); the loader writes a word as its last byte arrives and has no
backpressure (the core takes a write every cycle; a byte comes every four
cycles at most).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import link
from .compare import below
from .layouts import event_layout
from .ports import CoreLoadPort
from .receiver import command_layout, payload_layout

__all__ = ["EventFeeder", "WeightLoader"]


class EventFeeder(wiring.Component):
    """EVENTS frames' payloads to the network input (see the module docstring).

    Ports
    -----
    cmd : In(stream of :func:`~snnhw.gateware.receiver.command_layout`)
    data : In(stream of :func:`~snnhw.gateware.receiver.payload_layout`)
    ev : Out(stream of :func:`event_layout` (n_in, in_bits))
    """

    def __init__(self, *, n_in: int, in_bits: int):
        self.n_in, self.in_bits = n_in, in_bits
        super().__init__({
            "cmd": In(stream.Signature(command_layout())),
            "data": In(stream.Signature(payload_layout())),
            "ev": Out(stream.Signature(event_layout(n_in, in_bits))),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.data
        byte, took = d.payload.byte, d.valid & ~d.payload.end
        held = Signal(16)
        value = Signal(8)
        mine = self.cmd.payload.events
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.cmd.valid & mine):
                    m.next = "B0"
            # an event's three bytes (the frame's length is a multiple of three: the
            # closing beat comes only where an event would start)
            with m.State("B0"):
                m.d.comb += d.ready.eq(1)
                with m.If(d.valid & d.payload.end):
                    m.d.comb += self.cmd.ready.eq(1)
                    m.next = "IDLE"
                with m.Elif(took):
                    m.d.sync += held[:8].eq(byte)
                    m.next = "B1"
            with m.State("B1"):
                m.d.comb += d.ready.eq(1)
                with m.If(took):
                    m.d.sync += held[8:].eq(byte)
                    m.next = "B2"
            with m.State("B2"):
                m.d.comb += d.ready.eq(1)
                with m.If(took):
                    m.d.sync += value.eq(byte)
                    m.next = "SEND"
            with m.State("SEND"):
                ev = self.ev.payload
                m.d.comb += [self.ev.valid.eq(1), ev.index.eq(held[:15]), ev.eos.eq(held[15]),
                             ev.value.eq(value)]
                with m.If(self.ev.ready):
                    m.next = "B0"
        return m


class WeightLoader(wiring.Component):
    """WEIGHTS frames' payloads to the core's load port (see the module docstring).

    Parameters
    ----------
    word_bits : bits of a word the core reads (``load.data`` above them is 0)
    depth : words of the deepest loaded memory (a write's address is below it)
    layers : layers that may be loaded (the layer's index is below it)

    Ports
    -----
    cmd : In(stream of :func:`~snnhw.gateware.receiver.command_layout`)
    data : In(stream of :func:`~snnhw.gateware.receiver.payload_layout`)
    load : Out(CoreLoadPort)
    """

    def __init__(self, *, word_bits: int = CoreLoadPort.DATA_WIDTH,
                 depth: int = 1 << CoreLoadPort.ADDR_WIDTH, layers: int = 256):
        if not 0 < word_bits <= CoreLoadPort.DATA_WIDTH:
            raise ValueError(f"word_bits must be 1..{CoreLoadPort.DATA_WIDTH}, got {word_bits}")
        self.word_bytes = -(-word_bits // 8)
        self.depth, self.layers = depth, layers
        super().__init__({
            "cmd": In(stream.Signature(command_layout())),
            "data": In(stream.Signature(payload_layout())),
            "load": Out(CoreLoadPort()),
        })

    def elaborate(self, platform):
        m = Module()
        wb, hdr = link.WEIGHT_WORD_BYTES, link.WEIGHT_HEADER_BYTES
        d = self.data
        byte = d.payload.byte
        # the word being assembled is also the write's data (it holds until the next
        # byte, at least four cycles after the write), and the layer is the header's:
        # no copies of either. Only the word's first `word_bytes` bytes are kept (the
        # core reads no more of a word; the rest is the protocol's zero padding), the
        # layer and the addresses only as wide as the loaded layers and the deepest
        # loaded memory (the receiver has checked the frame's layer and range)
        nb = self.word_bytes
        word = Signal(8 * nb, reset_less=True)
        layer = Signal(range(max(self.layers, 2)), reset_less=True)
        w_next = Signal(range(self.depth + 1))
        k = Signal(range(wb))          # the byte's place in the header, then in its word
        in_header = Signal()
        m.d.sync += self.load.en.eq(0)
        # the write's address is the counter itself, which moves on after the write
        m.d.comb += [self.load.addr.eq(w_next), self.load.data.eq(word),
                     self.load.layer.eq(layer)]
        with m.If(self.load.en):
            m.d.sync += w_next.eq(w_next + 1)
        mine = self.cmd.payload.weights
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.cmd.valid & mine):
                    m.d.sync += [k.eq(0), in_header.eq(1)]
                    m.next = "BYTES"
            with m.State("BYTES"):
                m.d.comb += d.ready.eq(1)
                with m.If(d.valid & d.payload.end):
                    m.d.comb += self.cmd.ready.eq(1)
                    m.next = "IDLE"
                with m.Elif(d.valid):
                    m.d.sync += k.eq(k + 1)
                    with m.If(in_header):
                        # the header: layer, a reserved byte, the first word's address
                        with m.If(k == 0):
                            m.d.sync += layer.eq(byte)
                        with m.If(k == 2):
                            m.d.sync += w_next.eq(byte)
                        with m.If(k == hdr - 1):
                            m.d.sync += [w_next[8:].eq(byte), k.eq(0), in_header.eq(0)]
                    with m.Else():
                        with m.If(below(k, nb)):
                            m.d.sync += word.eq(Cat(word[8:], byte))
                        with m.If(k == wb - 1):
                            m.d.sync += self.load.en.eq(1)
        return m
