"""The board side of the UART host link (protocol: :mod:`snnhw.protocol.link`).

Receive: a frame's payload goes into a block-RAM buffer while its CRC is
computed; only when the whole frame has arrived and checks out is it acted
on (EVENTS are fed to the network, CLEAR pulses ``clear``, WEIGHTS pulses
``clear`` and then writes its words through the ``load_*`` ports) and then
ACKed. A bad frame gets an ERROR reply and nothing of it reaches the network
(a WEIGHTS frame's layer and address range are checked before any write). A
gap longer than ``timeout`` cycles inside a frame abandons it (``CUT_OFF``).

Transmit: ACK and ERROR replies, and one RESULT frame per sample streamed
from the network's output as its beats arrive (logits as int32 LE, then the
class as uint16 LE), CRC computed on the fly. A frame in progress is never
interrupted; pending replies go before a new result.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import crc, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol import link
from ..protocol.link import ErrorCode
from ._checks import reject
from .layouts import event_layout, result_layout
from .select import select_lane

__all__ = ["HostLink"]


class HostLink(wiring.Component):
    """Frames in on ``rx``, events out on ``ev``; results in on ``res``, frames out on ``tx``.

    Parameters
    ----------
    n_in, in_bits : the network's input (``in_bits <= 8``, ``n_in <= 32768``)
    n_out, logit_bits : the network's output (``logit_bits <= 32``)
    max_events : events per frame (buffer of ``3 * max_events`` bytes)
    timeout : cycles of silence that abandon a frame
    weight_depths : {layer: words} of the layers loaded by WEIGHTS frames
    """

    def __init__(self, *, n_in: int, in_bits: int, n_out: int, logit_bits: int,
                 max_events: int = link.MAX_EVENTS, timeout: int = 1 << 16,
                 weight_depths: dict | None = None):
        if in_bits > 8:
            reject(self, f"the host link carries 8-bit input values; in_bits={in_bits}")
        if n_in > 1 << 15:
            reject(self, f"the host link carries 15-bit indices; n_in={n_in}")
        if logit_bits > 32:
            reject(self, f"RESULT frames carry int32 logits; logits need {logit_bits} bits")
        self.n_in, self.in_bits, self.n_out, self.logit_bits = n_in, in_bits, n_out, logit_bits
        self.max_events, self.timeout = max_events, timeout
        self.weight_depths = dict(weight_depths or {})
        super().__init__({
            "load_en": Out(1), "load_layer": Out(8), "load_addr": Out(16),
            "load_data": Out(8 * link.WEIGHT_WORD_BYTES),
            "rx": In(stream.Signature(8)),
            "tx": Out(stream.Signature(8)),
            "ev": Out(stream.Signature(event_layout(n_in, in_bits))),
            "res": In(stream.Signature(result_layout(logit_bits, n_out))),
            "clear": Out(1),
            "frame_ok": Out(1),
            "frame_bad": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        max_bytes = 3 * self.max_events
        m.submodules.buf = buf = memory.Memory(shape=8, depth=max_bytes, init=[])
        w = buf.write_port()
        r = buf.read_port()
        m.submodules.rx_crc = rx_crc = crc.catalog.CRC16_XMODEM().create()
        m.submodules.tx_crc = tx_crc = crc.catalog.CRC16_XMODEM().create()

        # ---------------------------------------------------------------- receive
        ftype = Signal(8)
        length = Signal(16)
        count = Signal(16)
        mod3 = Signal(2)
        got_crc = Signal(16)
        quiet = Signal(range(self.timeout + 1))
        ack_req = Signal()
        err_req = Signal()
        err_code = Signal(8)
        byte = self.rx.payload
        m.d.comb += self.rx.ready.eq(1)
        take = self.rx.valid
        m.d.comb += rx_crc.data.eq(byte)
        with m.If(take):
            m.d.sync += quiet.eq(0)
        with m.Elif(quiet != self.timeout):
            m.d.sync += quiet.eq(quiet + 1)

        def fail(code):
            m.d.sync += [err_req.eq(1), err_code.eq(code)]
            m.d.comb += self.frame_bad.eq(1)
            m.next = "IDLE"

        rd_addr = Signal(range(max_bytes + 1))
        held = Signal(16)
        value = Signal(8)
        rdata = Signal(8)  # the block RAM's output lands in a register, no logic between
        m.d.comb += r.addr.eq(rd_addr)
        m.d.sync += rdata.eq(r.data)
        # WEIGHTS: header fields, the end of the range (settles during the CRC bytes)
        wb = link.WEIGHT_WORD_BYTES
        hdr = link.WEIGHT_HEADER_BYTES
        w_layer, w_start = Signal(8), Signal(16)
        w_end = Signal(17)
        m.d.sync += w_end.eq(w_start + ((length - hdr) >> (wb.bit_length() - 1)))
        w_range_ok = Signal()
        for k, depth in self.weight_depths.items():
            with m.If((w_layer == k) & (w_end <= depth)):
                m.d.comb += w_range_ok.eq(1)
        w_word = Signal(8 * wb)
        w_next = Signal(16)
        m.d.sync += self.load_en.eq(0)
        with m.FSM(name="rx_fsm"):
            with m.State("IDLE"):
                with m.If(take & (byte == link.HOST_HEADER)):
                    m.d.comb += rx_crc.start.eq(1)
                    m.next = "TYPE"
            for state, nxt, target in (("TYPE", "LEN0", ftype), ("LEN0", "LEN1", None)):
                with m.State(state):
                    with m.If(take):
                        m.d.comb += rx_crc.valid.eq(1)
                        if target is not None:
                            m.d.sync += target.eq(byte)
                        else:
                            m.d.sync += length[:8].eq(byte)
                        m.next = nxt
                    with m.Elif(quiet == self.timeout):
                        fail(ErrorCode.CUT_OFF)
            with m.State("LEN1"):
                with m.If(take):
                    m.d.comb += rx_crc.valid.eq(1)
                    m.d.sync += [length[8:].eq(byte), count.eq(0), mod3.eq(0)]
                    with m.If(Cat(length[:8], byte) == 0):
                        m.next = "CRC0"
                    with m.Else():
                        m.next = "PAYLOAD"
                with m.Elif(quiet == self.timeout):
                    fail(ErrorCode.CUT_OFF)
            with m.State("PAYLOAD"):
                with m.If(take):
                    m.d.comb += [rx_crc.valid.eq(1), w.addr.eq(count), w.data.eq(byte),
                                 w.en.eq(count < max_bytes)]
                    m.d.sync += [count.eq(count + 1), mod3.eq(Mux(mod3 == 2, 0, mod3 + 1))]
                    with m.Switch(count):  # a WEIGHTS frame's header: layer, -, address
                        with m.Case(0):
                            m.d.sync += w_layer.eq(byte)
                        with m.Case(2):
                            m.d.sync += w_start[:8].eq(byte)
                        with m.Case(3):
                            m.d.sync += w_start[8:].eq(byte)
                    with m.If(count + 1 == length):
                        m.next = "CRC0"
                with m.Elif(quiet == self.timeout):
                    fail(ErrorCode.CUT_OFF)
            with m.State("CRC0"):
                with m.If(take):
                    m.d.sync += got_crc[:8].eq(byte)
                    m.next = "CRC1"
                with m.Elif(quiet == self.timeout):
                    fail(ErrorCode.CUT_OFF)
            with m.State("CRC1"):
                with m.If(take):
                    m.d.sync += got_crc[8:].eq(byte)
                    m.next = "CHECK"
                with m.Elif(quiet == self.timeout):
                    fail(ErrorCode.CUT_OFF)
            with m.State("CHECK"):
                with m.If(got_crc != rx_crc.crc):
                    fail(ErrorCode.BAD_CRC)
                with m.Elif(ftype == link.EVENTS):
                    with m.If((length > max_bytes) | (mod3 != 0)):
                        fail(ErrorCode.BAD_LENGTH)
                    with m.Else():
                        m.d.sync += rd_addr.eq(0)
                        m.next = "FEED_READ"
                with m.Elif(ftype == link.CLEAR):
                    m.d.comb += self.clear.eq(1)
                    m.next = "DONE"
                with m.Elif(ftype == link.WEIGHTS):
                    with m.If((length > max_bytes) | (length < hdr + wb)
                              | (length[:wb.bit_length() - 1] != hdr % wb)):
                        fail(ErrorCode.BAD_LENGTH)
                    with m.Elif(~w_range_ok):
                        fail(ErrorCode.BAD_WEIGHT_ADDRESS)
                    with m.Else():
                        m.d.comb += self.clear.eq(1)
                        m.d.sync += [rd_addr.eq(hdr), w_next.eq(w_start)]
                        m.next = "LOAD_A"
                with m.Else():
                    fail(ErrorCode.UNKNOWN_TYPE)
            with m.State("FEED_READ"):
                # present the three byte addresses on three cycles; the data comes back
                # through the read port and the `rdata` register, two cycles later
                with m.If(rd_addr == length):
                    m.next = "DONE"
                with m.Else():
                    m.d.sync += rd_addr.eq(rd_addr + 1)
                    m.next = "FEED_A1"
            with m.State("FEED_A1"):
                m.d.sync += rd_addr.eq(rd_addr + 1)
                m.next = "FEED_A2"
            with m.State("FEED_A2"):
                m.d.sync += [rd_addr.eq(rd_addr + 1), held[:8].eq(rdata)]
                m.next = "FEED_B1"
            with m.State("FEED_B1"):
                m.d.sync += held[8:].eq(rdata)
                m.next = "FEED_B2"
            with m.State("FEED_B2"):
                m.d.sync += value.eq(rdata)
                m.next = "FEED_SEND"
            with m.State("FEED_SEND"):
                ev = self.ev.payload
                m.d.comb += [self.ev.valid.eq(1), ev.index.eq(held[:15]), ev.eos.eq(held[15]),
                             ev.value.eq(value)]
                with m.If(self.ev.ready):
                    m.next = "FEED_READ"
            # WEIGHTS: one payload byte per three cycles (address, read port, register);
            # every WEIGHT_WORD_BYTES bytes (little-endian) are one word, written at once
            with m.State("LOAD_A"):
                with m.If(rd_addr == length):
                    m.next = "DONE"
                with m.Else():
                    m.next = "LOAD_B"
            with m.State("LOAD_B"):
                m.next = "LOAD_C"
            with m.State("LOAD_C"):
                word = Cat(w_word[8:], rdata)
                m.d.sync += [w_word.eq(word), rd_addr.eq(rd_addr + 1)]
                with m.If(rd_addr[:wb.bit_length() - 1] == (hdr + wb - 1) % wb):
                    m.d.sync += [self.load_en.eq(1), self.load_layer.eq(w_layer),
                                 self.load_addr.eq(w_next), self.load_data.eq(word),
                                 w_next.eq(w_next + 1)]
                m.next = "LOAD_A"
            with m.State("DONE"):
                m.d.sync += ack_req.eq(1)
                m.d.comb += self.frame_ok.eq(1)
                m.next = "IDLE"
        # after FEED_A2 rd_addr is the next event's byte 0.

        # --------------------------------------------------------------- transmit
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
        with m.FSM(name="tx_fsm"):
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
        return m
