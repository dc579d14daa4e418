"""Host link, transmit side: replies and results out as frames (:mod:`snnhw.protocol.link`).

ACK and ERROR replies (asked for on ``reply``; the request is kept until it
is sent), and one RESULT frame per sample streamed from the network's output
as its beats arrive (logits as int32 LE, then the class as uint16 LE), the
CRC computed on the fly. A frame in progress is never interrupted; pending
replies go before a new result, an ERROR before an ACK.

Throughput: one byte per cycle while ``tx.ready`` is high (the UART takes
one byte per frame time). ``res.ready`` is high only while a RESULT frame
waits for its next beat, so the network is held back while bytes go out.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import crc, stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import link
from .layouts import result_layout
from .receiver import reply_layout
from .select import select_lane

__all__ = ["FrameTransmitter"]


class FrameTransmitter(wiring.Component):
    """See the module docstring.

    Ports
    -----
    reply : In(stream of :func:`~snnhw.gateware.receiver.reply_layout`, always ready)
    res : In(stream of :func:`result_layout` (logit_bits, n_out))
    tx : Out(stream of bytes)
    """

    def __init__(self, *, n_out: int, logit_bits: int):
        self.n_out, self.logit_bits = n_out, logit_bits
        super().__init__({
            "reply": In(stream.Signature(reply_layout(), always_ready=True)),
            "res": In(stream.Signature(result_layout(logit_bits, n_out))),
            "tx": Out(stream.Signature(8)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.crc = tx_crc = crc.catalog.CRC16_XMODEM().create()
        ack_req, err_req, err_code = Signal(), Signal(), Signal(8)

        t_type = Signal(8)
        t_len = Signal(16)
        word = Signal(32)
        nbytes = Signal(3)
        k = Signal(3)
        have = Signal()
        last = Signal()
        tx = self.tx
        body = Signal()  # the byte being sent goes into the CRC
        with m.If(tx.valid & tx.ready & body):
            m.d.comb += [tx_crc.valid.eq(1), tx_crc.data.eq(tx.payload)]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(err_req):
                    m.d.sync += [t_type.eq(link.ERROR), t_len.eq(1), err_req.eq(0)]
                    m.next = "HDR"
                with m.Elif(ack_req):
                    m.d.sync += [t_type.eq(link.ACK), t_len.eq(0), ack_req.eq(0)]
                    m.next = "HDR"
                with m.Elif(self.res.valid):
                    m.d.sync += [t_type.eq(link.RESULT), t_len.eq(4 * self.n_out + 2),
                                 have.eq(0), last.eq(0)]
                    m.next = "HDR"
            with m.State("HDR"):
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(link.BOARD_HEADER)]
                with m.If(tx.ready):
                    m.d.comb += tx_crc.start.eq(1)
                    m.next = "TYPE"
            for state, nxt, val in (("TYPE", "LEN0", t_type), ("LEN0", "LEN1", t_len[:8]),
                                    ("LEN1", "PAY", t_len[8:])):
                with m.State(state):
                    m.d.comb += [tx.valid.eq(1), tx.payload.eq(val), body.eq(1)]
                    with m.If(tx.ready):
                        m.next = nxt
            with m.State("PAY"):
                with m.If(t_type == link.ERROR):
                    m.d.comb += [tx.valid.eq(1), tx.payload.eq(err_code), body.eq(1)]
                    with m.If(tx.ready):
                        m.next = "CRC0"
                with m.Elif(t_type == link.ACK):
                    m.next = "CRC0"
                with m.Elif(~have):
                    m.d.comb += self.res.ready.eq(1)
                    with m.If(self.res.valid):
                        value = self.res.payload.value
                        m.d.sync += [word.eq(value.as_signed()), k.eq(0), have.eq(1),
                                     nbytes.eq(Mux(self.res.payload.is_class, 2, 4)),
                                     last.eq(self.res.payload.last)]
                with m.Else():
                    wbyte = select_lane(m, word, k[:2], 8, 4, "tx_byte")
                    m.d.comb += [tx.valid.eq(1), tx.payload.eq(wbyte), body.eq(1)]
                    with m.If(tx.ready):
                        m.d.sync += k.eq(k + 1)
                        with m.If(k + 1 == nbytes):
                            m.d.sync += have.eq(0)
                            with m.If(last):
                                m.next = "CRC0"
            with m.State("CRC0"):
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(tx_crc.crc[:8])]
                with m.If(tx.ready):
                    m.next = "CRC1"
            with m.State("CRC1"):
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(tx_crc.crc[8:])]
                with m.If(tx.ready):
                    m.next = "IDLE"
        # after the FSM, so that a new request wins over the clearing of a sent one
        with m.If(self.reply.valid):
            with m.If(self.reply.payload.error):
                m.d.sync += [err_req.eq(1), err_code.eq(self.reply.payload.code)]
            with m.Else():
                m.d.sync += ack_req.eq(1)
        return m
