"""The board side of the UART host link (protocol: :mod:`snnhw.protocol.link`).

Four components joined by streams and named ports:

* :class:`~snnhw.gateware.receiver.FrameReceiver`: bytes in, frames buffered
  and checked (CRC, length, type, a WEIGHTS frame's range); a bad frame gets
  an ERROR reply and nothing of it reaches the network;
* :class:`~snnhw.gateware.feeder.EventFeeder`: an EVENTS frame's events from
  the buffer to the network;
* :class:`~snnhw.gateware.feeder.WeightLoader`: a WEIGHTS frame's words from
  the buffer to the core's load port (only in a design that loads weights: the
  others refuse every WEIGHTS frame);
* :class:`~snnhw.gateware.transmitter.FrameTransmitter`: ACK / ERROR replies
  and one RESULT frame per sample, streamed from the network's output.

A frame is ACKed when it has been acted on completely (its events fed, its
words written, or the network cleared), which is the host's flow control.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import link
from ._checks import CheckedComponent
from .feeder import EventFeeder, WeightLoader
from .layouts import event_layout, result_layout
from .ports import CoreLoadPort
from .receiver import FrameReceiver
from .transmitter import FrameTransmitter

__all__ = ["HostLink"]


class HostLink(CheckedComponent):
    """Frames in on ``rx``, events out on ``ev``; results in on ``res``, frames out on ``tx``.

    Parameters
    ----------
    n_in, in_bits : the network's input (``in_bits <= 8``, ``n_in <= 32768``)
    n_out, logit_bits : the network's output (``logit_bits <= 32``)
    max_events : events per frame (buffer of ``3 * max_events`` bytes)
    timeout : cycles of silence that abandon a frame
    tick_cycles : the period of ``tick``, in which the silence is counted (a power of two)
    weight_depths : {layer: words} of the layers loaded by WEIGHTS frames
    load_width : bits of a weight word the core reads from ``load.data``

    Ports
    -----
    rx : In(stream of bytes), tx : Out(stream of bytes)
    ev : Out(stream of events), res : In(stream of results)
    load : Out(CoreLoadPort)
    clear : Out(1) (pulse: abort the sample)
    frame_ok, frame_bad : Out(1) (pulse per accepted / rejected frame)
    tick : In(1) (high once every ``tick_cycles`` cycles; by default always)
    """

    @classmethod
    def check(cls, *, n_in: int, in_bits: int, logit_bits: int, **_) -> None:
        if in_bits > 8:
            raise ValueError(f"the host link carries 8-bit input values; in_bits={in_bits}")
        if n_in > 1 << 15:
            raise ValueError(f"the host link carries 15-bit indices; n_in={n_in}")
        if logit_bits > 32:
            raise ValueError(f"RESULT frames carry int32 logits; logits need {logit_bits} bits")

    def __init__(self, *, n_in: int, in_bits: int, n_out: int, logit_bits: int,
                 max_events: int = link.MAX_EVENTS, timeout: int = 1 << 16,
                 weight_depths: dict | None = None,
                 load_width: int = CoreLoadPort.DATA_WIDTH, tick_cycles: int = 1):
        self.n_in, self.in_bits, self.n_out, self.logit_bits = n_in, in_bits, n_out, logit_bits
        self.max_events, self.timeout = max_events, timeout
        self.receiver = FrameReceiver(max_events=max_events, timeout=timeout,
                                      weight_depths=weight_depths, tick_cycles=tick_cycles)
        self.feeder = EventFeeder(n_in=n_in, in_bits=in_bits)
        # no loader when nothing is loaded (the receiver refuses every WEIGHTS frame then)
        self.loader = (WeightLoader(word_bits=load_width, depth=max(weight_depths.values()),
                                    layers=max(weight_depths) + 1)
                       if weight_depths else None)
        self.transmitter = FrameTransmitter(n_out=n_out, logit_bits=logit_bits)
        super().__init__({
            "tick": In(1, init=1),
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "ev": Out(stream.Signature(event_layout(n_in, in_bits))),
            "res": In(stream.Signature(result_layout(logit_bits, n_out))),
            "load": Out(CoreLoadPort()),
            "clear": Out(1),
            "frame_ok": Out(1),
            "frame_bad": Out(1),
        })

    def memories(self):
        """The frame buffer, named from the link (:mod:`snnhw.gateware.plan`)."""
        return [self.receiver.buffer.within("receiver")]

    def elaborate(self, platform):
        m = Module()
        m.submodules.receiver = rx = self.receiver
        m.submodules.feeder = feeder = self.feeder
        units = [feeder]
        if self.loader is not None:
            m.submodules.loader = loader = self.loader
            units.append(loader)
            wiring.connect(m, loader.load, wiring.flipped(self.load))
        m.submodules.transmitter = tx = self.transmitter
        wiring.connect(m, wiring.flipped(self.rx), rx.rx)
        wiring.connect(m, tx.tx, wiring.flipped(self.tx))
        wiring.connect(m, rx.reply, tx.reply)
        wiring.connect(m, wiring.flipped(self.res), tx.res)
        wiring.connect(m, feeder.ev, wiring.flipped(self.ev))
        # one command, two consumers: each acts on its own frame type and takes its
        # payload (the other takes no beat). The consumers' "done" (their cmd.ready)
        # reaches the receiver through a register, and the command is hidden from them
        # in that cycle so that neither starts it again
        done = Signal()
        m.d.sync += done.eq(Cat(*[unit.cmd.ready for unit in units]).any())
        for unit in units:
            m.d.comb += [unit.cmd.valid.eq(rx.cmd.valid & ~done),
                         unit.cmd.payload.eq(rx.cmd.payload),
                         unit.data.valid.eq(rx.data.valid),
                         unit.data.payload.eq(rx.data.payload)]
        m.d.comb += [rx.tick.eq(self.tick), rx.cmd.ready.eq(done),
                     rx.data.ready.eq(Cat(*[unit.data.ready for unit in units]).any()),
                     self.clear.eq(rx.clear),
                     self.frame_ok.eq(rx.reply.valid & ~rx.reply.payload.error),
                     self.frame_bad.eq(rx.reply.valid & rx.reply.payload.error)]
        return m
