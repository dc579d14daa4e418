"""Host link, receive side: bytes in, checked frames out (protocol: :mod:`snnhw.protocol.link`).

A frame's payload goes into the frame buffer (block RAM) while its CRC is
computed; only when the whole frame has arrived and checks out is it handed
on: an EVENTS or WEIGHTS frame as a command on ``cmd`` (which of the two, its length)
with its payload read back from the buffer onto ``data``, a byte a beat, then
a closing beat with ``end`` set; a CLEAR frame as a ``clear`` pulse alone.
WEIGHTS also pulses ``clear`` first (it aborts the current sample). A
WEIGHTS frame's layer and address range are checked against
``weight_depths`` before it is handed on, so a bad one writes nothing.

Replies: when a command is taken (its consumer has finished with it: it takes
the closing beat and the command together, the end of its work), or at once
for CLEAR, the
receiver asks for an ACK on ``reply``; a bad frame gets an ERROR with its
:class:`~snnhw.protocol.link.ErrorCode` instead and nothing of it is handed
on. A gap longer than ``timeout`` cycles inside a frame abandons it
(``CUT_OFF``).

Throughput: one byte per two cycles (``rx.ready`` is always high; bytes that
arrive while a command is being carried out are dropped, which the protocol
rules out: the host waits for the reply). Latency: the command is valid four
cycles after the last CRC byte (the frame's checks are registered, then the
verdict on them);
the reply and the ``clear`` pulse come from registers, a cycle after the
decision. The payload goes out a byte per four cycles at most: the byte
counter that wrote the buffer reads it back (one address counter for the
frame, whichever consumer takes it), and a byte is on ``data`` three cycles
after its address (a register beside the block RAM, the read, the register
the byte lands in: no logic between the block RAM and the consumers).
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import crc, data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..families import of_platform
from ..protocol import link
from ..protocol.link import ErrorCode
from .collision import collision_free_read
from .compare import at_least, at_most, below
from .plan import MemorySpec, link_buffer

__all__ = ["FrameReceiver", "command_layout", "payload_layout", "reply_layout"]


def command_layout() -> data.StructLayout:
    """A checked frame: its type, as a flag per type (set as the type byte arrives: no
    compare with it afterwards), and its payload's length (a WEIGHTS frame's layer and
    first word address are its payload's first bytes)."""
    return data.StructLayout({"events": unsigned(1), "clear": unsigned(1),
                              "weights": unsigned(1), "length": unsigned(16)})


def payload_layout() -> data.StructLayout:
    """A beat of a handed frame's payload: a ``byte``, or the closing beat (``end``)."""
    return data.StructLayout({"byte": unsigned(8), "end": unsigned(1)})


def reply_layout() -> data.StructLayout:
    """ACK (``error`` 0) or ERROR with ``code``."""
    return data.StructLayout({"error": unsigned(1), "code": unsigned(8)})


class FrameReceiver(wiring.Component):
    """See the module docstring.

    Parameters
    ----------
    max_events : int
        Events a frame may carry (frame buffer of ``3 * max_events`` bytes).
    timeout : int
        Cycles of silence that abandon a frame.
    tick_cycles : int
        Counts the silence in ticks (``tick`` high once every ``tick_cycles`` cycles, a
        power of two) rather than cycles: a shorter counter; a frame is then abandoned
        after ``timeout`` rounded up to whole ticks and at most a tick more.
    weight_depths : dict of int -> int
        ``{layer: words}`` of the layers loaded by WEIGHTS frames.

    Ports
    -----
    rx : In(stream of bytes)
    cmd : Out(stream of :func:`command_layout`)
    data : Out(stream of :func:`payload_layout`): the handed frame's payload
    reply : Out(stream of :func:`reply_layout`, always ready): one beat a frame
    clear : Out(1)
    tick : In(1) (high by default: a tick every cycle)
    """

    def __init__(self, *, max_events: int = link.MAX_EVENTS, timeout: int = 1 << 16,
                 weight_depths: dict | None = None, tick_cycles: int = 1):
        if tick_cycles < 1 or tick_cycles & (tick_cycles - 1):
            raise ValueError(f"tick_cycles must be a power of two, got {tick_cycles}")
        self.buffer: MemorySpec = link_buffer(max_events)
        self.timeout, self.tick_cycles = timeout, tick_cycles
        self.weight_depths = dict(weight_depths or {})
        super().__init__({
            "tick": In(1, init=1),
            "rx": In(stream.Signature(8)),
            "cmd": Out(stream.Signature(command_layout())),
            "data": Out(stream.Signature(payload_layout())),
            "reply": Out(stream.Signature(reply_layout(), always_ready=True)),
            "clear": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.crc = rx_crc = crc.catalog.CRC16_XMODEM().create()
        f = SimpleNamespace(crc=rx_crc, cmd=self.cmd.payload, byte=self.rx.payload,
                            take=self.rx.valid, count=Signal(16), mod3=Signal(2),
                            crc_lo_ok=Signal(), crc_ok=Signal(), w_end=Signal(17),
                            count_next=Signal(17), head=Signal(link.WEIGHT_HEADER_BYTES),
                            # a WEIGHTS frame's layer: whether it is each loaded layer
                            layer_is=Signal(max(len(self.weight_depths), 1)),
                            empty=Signal(), at_end=Signal(), lag=Signal(2),
                            # the length less one (set with the length): the byte count
                            # is compared with it, no increment in front of the compare
                            len_m1=Signal(16))
        m.d.comb += f.count_next.eq(f.count + 1)
        # whether the next payload byte is the frame's last (the compare ends in a
        # flip-flop, not in the state's enable: bytes come two cycles apart at the least)
        f.last_byte = Signal()
        m.d.sync += f.last_byte.eq(f.count == f.len_m1)
        # the buffer is written and read at the byte count (``w_en`` says when a byte is
        # written)
        f.w_en = Signal()
        f.rdata = self._buffer(m, platform, f.count, f.byte, f.w_en)
        m.d.comb += [self.rx.ready.eq(1), rx_crc.data.eq(f.byte)]
        f.expired = self._quiet_timer(m, f.take)
        # the reply and the clear pulse leave from registers (the clear fans out to every
        # register of the core; the reply ends in the transmitter and the LEDs)
        m.d.sync += [self.reply.valid.eq(0), self.clear.eq(0)]

        def reply(code=None):
            m.d.sync += [self.reply.valid.eq(1), self.reply.payload.error.eq(code is not None),
                         self.reply.payload.code.eq(0 if code is None else code)]
            m.next = "IDLE"

        f.reply = reply
        f.checks = self._registered_checks(m, f)
        with m.FSM():
            self._header_states(m, f)
            self._payload_states(m, f)
            self._check_states(m, f)
        return m

    def _buffer(self, m, platform, addr, byte, w_en) -> Signal:
        """The frame buffer, read at ``addr`` and written there with ``byte`` when
        ``w_en``; returns the byte read (three cycles after its address)."""
        max_bytes = self.buffer.depth
        # the buffer reads into a register (on ECP5 the block RAM's own output register),
        # so that the block RAM's slow clock-to-out ends in a flip-flop; a payload byte is
        # written a cycle after it arrives, from registers (the block RAM may sit far from
        # the frame logic; the frame is checked and handed on only after its CRC bytes).
        # One address register serves the read and the write
        a_q = Signal(range(max_bytes), name="buf_addr", reset_less=True)
        d_q = Signal(8, name="buf_wdata", reset_less=True)
        en_q = Signal(name="buf_wen")
        m.d.sync += [a_q.eq(addr), d_q.eq(byte), en_q.eq(w_en)]
        rdata = Signal(8, name="buf_rdata")
        fam = of_platform(platform)
        if fam is not None and fam.frame_buffer_block(max_bytes):
            q = fam.rom_block(m, "buf", a_q, width=9, write=(en_q, a_q, d_q))
            m.d.comb += rdata.eq(q[:8])
        else:
            m.submodules.buf = buf = memory.Memory(shape=self.buffer.width, depth=max_bytes,
                                                   init=[])
            wp = buf.write_port()
            r = buf.read_port()
            m.d.comb += [r.addr.eq(a_q), wp.en.eq(en_q), wp.addr.eq(a_q), wp.data.eq(d_q)]
            # a frame is read only after its last byte is written
            m.d.sync += rdata.eq(collision_free_read(m, buf, r, wp, platform))
        return rdata

    def _quiet_timer(self, m, take) -> Signal:
        """``expired``: ``timeout`` cycles without a byte (in ticks), as a register of
        its own."""
        # (in ticks, a tick more than the timeout: the first tick may come at once)
        limit = (-(-self.timeout // self.tick_cycles) + 1 if self.tick_cycles > 1
                 else self.timeout)
        quiet = Signal(range(limit + 1))
        expired = Signal()
        with m.If(take):
            m.d.sync += quiet.eq(0)
        with m.Elif(self.tick & (quiet != limit)):
            m.d.sync += quiet.eq(quiet + 1)
        m.d.sync += expired.eq(~take & at_least(quiet, limit - 1 if self.tick_cycles == 1
                                                else limit))
        return expired

    def _registered_checks(self, m, f) -> SimpleNamespace:
        """The checks of CHECK, registered (in SETTLE, when every operand is final), so
        that no compare sits in front of the state register (a WEIGHTS frame's end of
        range is counted in PAYLOAD, the CRC compared in CRC0 and CRC1)."""
        cmd, max_bytes = f.cmd, self.buffer.depth
        wb, hdr = link.WEIGHT_WORD_BYTES, link.WEIGHT_HEADER_BYTES
        c = SimpleNamespace(w_end=f.w_end, w_range_ok=Signal(), crc_ok=f.crc_ok,
                            ev_len_bad=Signal(), w_len_bad=Signal(), is_events=cmd.events,
                            is_clear=cmd.clear, is_weights=cmd.weights)
        m.d.sync += c.w_range_ok.eq(Cat(*[f.layer_is[i] & at_most(c.w_end, depth)
                                          for i, depth in enumerate(
                                              self.weight_depths.values())]).any())
        m.d.sync += [
            c.ev_len_bad.eq(~at_most(cmd.length, max_bytes) | (f.mod3 != 0)),
            c.w_len_bad.eq(~at_most(cmd.length, max_bytes) | below(cmd.length, hdr + wb)
                           | (cmd.length[:wb.bit_length() - 1] != hdr % wb)),
        ]
        # the verdict on the checks, registered a cycle later (in VERDICT): CHECK acts on
        # four flip-flops and a code, no priority chain of checks in front of the reply
        # (recomputed every cycle, read only in CHECK: no reset)
        c.error, c.code, c.clear, c.hand = (Signal(8 if n == "code" else 1, name=f"v_{n}",
                                                   reset_less=True)
                                            for n in ("error", "code", "clear", "hand"))
        verdicts = [(~c.crc_ok, ErrorCode.BAD_CRC, 0, 0),
                    (c.is_events & c.ev_len_bad, ErrorCode.BAD_LENGTH, 0, 0),
                    (c.is_events, None, 0, 1),
                    (c.is_clear, None, 1, 0),
                    (c.is_weights & c.w_len_bad, ErrorCode.BAD_LENGTH, 0, 0),
                    (c.is_weights & ~c.w_range_ok, ErrorCode.BAD_WEIGHT_ADDRESS, 0, 0),
                    (c.is_weights, None, 1, 1)]
        with m.If(verdicts[0][0]):
            self._verdict(m, c, *verdicts[0][1:])
        for cond, *verdict in verdicts[1:]:
            with m.Elif(cond):
                self._verdict(m, c, *verdict)
        with m.Else():
            self._verdict(m, c, ErrorCode.UNKNOWN_TYPE, 0, 0)
        return c

    @staticmethod
    def _verdict(m, c, code, clear, hand) -> None:
        """An error reply (``code``), or an ACK now (``hand`` 0) or once the command is
        taken (``hand`` 1); ``clear``: pulse ``clear`` first."""
        m.d.sync += [c.error.eq(code is not None), c.code.eq(code or 0), c.clear.eq(clear),
                     c.hand.eq(hand)]

    def _header_states(self, m, f) -> None:
        """IDLE (waiting for the header byte), TYPE, LEN0, LEN1."""
        cmd, byte, take = f.cmd, f.byte, f.take
        with m.State("IDLE"):
            with m.If(take & (byte == link.HOST_HEADER)):
                m.d.comb += f.crc.start.eq(1)
                m.next = "TYPE"
        for state, nxt, targets in (
                ("TYPE", "LEN0", [(cmd.events, byte == link.EVENTS),
                                  (cmd.clear, byte == link.CLEAR),
                                  (cmd.weights, byte == link.WEIGHTS)]),
                ("LEN0", "LEN1", [(cmd.length[:8], byte)])):
            with m.State(state):
                with m.If(take):
                    m.d.comb += f.crc.valid.eq(1)
                    m.d.sync += [t.eq(v) for t, v in targets]
                    m.next = nxt
                with m.Elif(f.expired):
                    f.reply(ErrorCode.CUT_OFF)
        with m.State("LEN1"):
            with m.If(take):
                m.d.comb += f.crc.valid.eq(1)
                m.d.sync += [cmd.length[8:].eq(byte), f.count.eq(0), f.mod3.eq(0),
                             f.head.eq(1), f.empty.eq(Cat(cmd.length[:8], byte) == 0),
                             f.len_m1.eq(Cat(cmd.length[:8], byte) - 1)]
                with m.If(Cat(cmd.length[:8], byte) == 0):
                    m.next = "CRC0"
                with m.Else():
                    m.next = "PAYLOAD"
            with m.Elif(f.expired):
                f.reply(ErrorCode.CUT_OFF)

    def _payload_states(self, m, f) -> None:
        """PAYLOAD (into the buffer; a WEIGHTS frame's header also into the command),
        CRC0, CRC1."""
        cmd, byte, count = f.cmd, f.byte, f.count
        with m.State("PAYLOAD"):
            with m.If(f.take):
                m.d.comb += [f.crc.valid.eq(1), f.w_en.eq(below(count, self.buffer.depth))]
                m.d.sync += [count.eq(f.count_next), f.mod3.eq(Mux(f.mod3 == 2, 0, f.mod3 + 1))]
                # a WEIGHTS frame's header (layer, -, address), placed by `head`: a
                # one-hot bit per header byte, shifted per byte (no compare on `count`
                # in front of the enables)
                m.d.sync += f.head.eq(f.head << 1)
                with m.If(f.head[0]):
                    m.d.sync += f.layer_is.eq(Cat(*[byte == k for k in self.weight_depths]))
                # a WEIGHTS frame's end of range: its first word's address plus its words,
                # added as the address's high byte arrives (a frame of the right length
                # is 4 + 8n bytes: n is the length's bits above the third)
                wb = link.WEIGHT_WORD_BYTES
                with m.If(f.head[2]):
                    m.d.sync += f.w_end[:8].eq(byte)
                with m.If(f.head[3]):
                    m.d.sync += f.w_end.eq(Cat(f.w_end[:8], byte)
                                           + cmd.length[wb.bit_length() - 1:])
                with m.If(f.last_byte):
                    m.next = "CRC0"
            with m.Elif(f.expired):
                f.reply(ErrorCode.CUT_OFF)
        # the CRC's bytes compared as they arrive (the CRC holds: they do not enter it)
        for state, nxt, ok, half in (("CRC0", "CRC1", f.crc_lo_ok, f.crc.crc[:8]),
                                     ("CRC1", "SETTLE", f.crc_ok, f.crc.crc[8:])):
            with m.State(state):
                with m.If(f.take):
                    m.d.sync += ok.eq((byte == half) & (f.crc_lo_ok if state == "CRC1" else 1))
                    m.next = nxt
                with m.Elif(f.expired):
                    f.reply(ErrorCode.CUT_OFF)

    def _check_states(self, m, f) -> None:
        """SETTLE, VERDICT, CHECK (the reply or the hand-over), HANDED."""
        c, reply = f.checks, f.reply
        with m.State("SETTLE"):   # the registered checks take their final values
            m.next = "VERDICT"
        with m.State("VERDICT"):  # and the verdict on them
            m.next = "CHECK"
        with m.State("CHECK"):
            with m.If(c.error):
                reply(c.code)
            with m.Else():
                m.d.sync += self.clear.eq(c.clear)
                with m.If(c.hand):
                    # the payload read back from its first byte
                    m.d.sync += [f.count.eq(0), f.lag.eq(3), f.at_end.eq(f.empty)]
                    m.next = "HANDED"
                with m.Else():
                    reply()
        with m.State("HANDED"):  # the command's consumer takes it when it is done
            self._read_back(m, f)
            m.d.comb += self.cmd.valid.eq(1)
            with m.If(self.cmd.ready):
                reply()

    def _read_back(self, m, f) -> None:
        """HANDED: the payload onto ``data``, a byte three cycles after the counter moves
        onto it (``lag``), then the closing beat (``end``)."""
        d = self.data
        m.d.comb += [d.valid.eq(f.lag == 0), d.payload.byte.eq(f.rdata),
                     d.payload.end.eq(f.at_end)]
        with m.If(f.lag != 0):
            m.d.sync += f.lag.eq(f.lag - 1)
        with m.If(d.valid & d.ready & ~f.at_end):
            m.d.sync += [f.count.eq(f.count_next), f.lag.eq(3),
                         f.at_end.eq(f.count == f.len_m1)]
