"""The UART host-link protocol between a host and a board running an snnhw network.

Framing (both directions)::

    header   1 byte   0xA5 host -> board, 0x5A board -> host
    type     1 byte
    length   2 bytes  little-endian payload length
    payload  length bytes
    crc      2 bytes  little-endian CRC-16/XMODEM (poly 0x1021, init 0) over
                      type, length and payload

Host -> board:

* ``EVENTS`` (0x01): up to :data:`MAX_EVENTS` input events of 3 bytes each:
  ``index[7:0]``, ``index[14:8] | eos << 7``, ``value`` (docs/protocols.md; an
  end-of-step marker is ``00 80 00``). A sample may span several frames.
* ``CLEAR`` (0x02, empty): abort the current sample, clear every membrane.
* ``WEIGHTS`` (0x03): load weight words of a layer whose weights are not in
  the bitstream (iCE40UP5K SPRAM): ``layer`` (1 byte), 0 (1 byte), the first
  word's address (2 bytes LE), then whole words of :data:`WEIGHT_WORD_BYTES`
  bytes each (LE, :func:`snnhw.protocol.words.weight_words`, zero-padded); at most
  :data:`MAX_WEIGHT_WORDS` words a frame. Like CLEAR it aborts the current
  sample first. The board checks the layer and the address range before
  writing anything.

Board -> host:

* ``ACK`` (0x80, empty): the last request frame was valid and has been fed to
  the network completely; the next one may be sent.
* ``RESULT`` (0x81): one per sample, ``n_out`` logits as int32 LE, then the
  class as uint16 LE.
* ``ERROR`` (0xE0, 1 byte code): the last request frame was rejected and
  **nothing of it reached the network**; the host may resend it. Codes:
  :class:`ErrorCode` (1 bad CRC, 2 payload too long or not a multiple of 3,
  3 unknown type, 4 frame cut off (a gap longer than the inter-byte
  timeout), 5 WEIGHTS for a layer the design does not load, or past the end
  of its memory).

A frame's payload is buffered on the board and checked before any of it is
fed, so a damaged frame never disturbs the network.
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass

from ..errors import SnnhwError
from .streams import Event

__all__ = ["HOST_HEADER", "BOARD_HEADER", "EVENTS", "CLEAR", "WEIGHTS", "ACK", "RESULT",
           "ERROR", "MAX_EVENTS", "MAX_PAYLOAD", "WEIGHT_HEADER_BYTES", "WEIGHT_WORD_BYTES",
           "MAX_WEIGHT_WORDS", "ErrorCode", "error_text", "crc16", "frame", "events_frames",
           "weights_frames", "layer_weights_frames", "pack_events", "unpack_events", "Frame",
           "FrameDecoder", "LinkError", "result_payload", "parse_result"]

HOST_HEADER = 0xA5
BOARD_HEADER = 0x5A
EVENTS, CLEAR, WEIGHTS = 0x01, 0x02, 0x03
ACK, RESULT, ERROR = 0x80, 0x81, 0xE0
MAX_EVENTS = 256
MAX_PAYLOAD = 3 * MAX_EVENTS      # the board's frame buffer
WEIGHT_HEADER_BYTES, WEIGHT_WORD_BYTES = 4, 8
MAX_WEIGHT_WORDS = (MAX_PAYLOAD - WEIGHT_HEADER_BYTES) // WEIGHT_WORD_BYTES


class ErrorCode(enum.IntEnum):
    """The byte of an ERROR frame: why the board rejected the last request frame."""

    BAD_CRC = 1         #: the CRC does not match
    BAD_LENGTH = 2      #: payload too long, or not whole events / weight words
    UNKNOWN_TYPE = 3    #: a frame type the board does not know
    CUT_OFF = 4         #: a gap longer than the inter-byte timeout inside a frame
    BAD_WEIGHT_ADDRESS = 5  #: WEIGHTS for a layer not loaded, or past its memory's end

    @property
    def text(self) -> str:
        return _ERROR_TEXT[self]


_ERROR_TEXT = {ErrorCode.BAD_CRC: "bad CRC", ErrorCode.BAD_LENGTH: "bad length",
               ErrorCode.UNKNOWN_TYPE: "unknown type", ErrorCode.CUT_OFF: "frame cut off",
               ErrorCode.BAD_WEIGHT_ADDRESS: "bad weight address"}


def error_text(code: int) -> str:
    """What an ERROR frame's code means (the number itself if it is not a known code)."""
    try:
        return ErrorCode(code).text
    except ValueError:
        return f"unknown error code {code}"


class LinkError(SnnhwError, ValueError):
    """A frame or payload that does not follow the protocol."""


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM."""
    return binascii.crc_hqx(bytes(data), 0)


def frame(ftype: int, payload: bytes = b"", header: int = HOST_HEADER) -> bytes:
    body = bytes([ftype]) + struct.pack("<H", len(payload)) + bytes(payload)
    return bytes([header]) + body + struct.pack("<H", crc16(body))


def pack_events(events: list[Event]) -> bytes:
    out = bytearray()
    for e in events:
        if not 0 <= e.index < (1 << 15):
            raise LinkError(f"event index {e.index} does not fit 15 bits")
        if not 0 <= e.value < 256:
            raise LinkError(f"event value {e.value} does not fit 8 bits")
        out += bytes([e.index & 0xFF, (e.index >> 8) | (e.eos << 7), e.value])
    return bytes(out)


def unpack_events(payload: bytes) -> list[Event]:
    if len(payload) % 3:
        raise LinkError(f"events payload of {len(payload)} bytes is not a multiple of 3")
    return [Event(payload[k] | ((payload[k + 1] & 0x7F) << 8), payload[k + 2],
                  payload[k + 1] >> 7) for k in range(0, len(payload), 3)]


def events_frames(events: list[Event], max_events: int = MAX_EVENTS) -> list[bytes]:
    """Split an event list into EVENTS frames of at most ``max_events`` each."""
    return [frame(EVENTS, pack_events(events[k:k + max_events]))
            for k in range(0, len(events), max_events)]


def weights_frames(layer: int, words: list[int], start: int = 0,
                   max_words: int = MAX_WEIGHT_WORDS) -> list[bytes]:
    """WEIGHTS frames writing ``words`` of ``layer`` from address ``start`` on."""
    if not 0 <= layer < 256:
        raise LinkError(f"layer {layer} does not fit a byte")
    if not 1 <= max_words <= MAX_WEIGHT_WORDS:
        raise LinkError(f"max_words must be 1..{MAX_WEIGHT_WORDS}, got {max_words}")
    if start < 0 or start + len(words) > 1 << 16:
        raise LinkError(f"weight addresses {start}..{start + len(words) - 1} do not fit 16 bits")
    out = []
    for k in range(0, len(words), max_words):
        chunk = words[k:k + max_words]
        payload = bytearray([layer, 0]) + struct.pack("<H", start + k)
        for w in chunk:
            if not 0 <= w < 1 << (8 * WEIGHT_WORD_BYTES):
                raise LinkError(f"weight word {w:#x} does not fit {WEIGHT_WORD_BYTES} bytes")
            payload += w.to_bytes(WEIGHT_WORD_BYTES, "little")
        out.append(frame(WEIGHTS, bytes(payload)))
    return out


def layer_weights_frames(net, layer: int, lanes: int) -> list[bytes]:
    """The WEIGHTS frames that load all of ``layer``'s weights, built with ``lanes``."""
    from .kinds import layer_weight_words

    return weights_frames(layer, layer_weight_words(net.layers[layer], lanes))


def result_payload(logits: list[int], cls: int) -> bytes:
    return b"".join(struct.pack("<i", v) for v in logits) + struct.pack("<H", cls)


def parse_result(payload: bytes, n_out: int) -> tuple[list[int], int]:
    if len(payload) != 4 * n_out + 2:
        raise LinkError(f"RESULT payload of {len(payload)} bytes, expected {4 * n_out + 2}")
    logits = list(struct.unpack(f"<{n_out}i", payload[: 4 * n_out]))
    return logits, struct.unpack("<H", payload[4 * n_out:])[0]


@dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes


class FrameDecoder:
    """Byte-at-a-time parser of frames with a given header; bad frames are counted
    in ``errors`` (with the reason) and skipped, never returned."""

    def __init__(self, header: int = BOARD_HEADER, max_payload: int = 1 << 16):
        self.header, self.max_payload = header, max_payload
        self.errors: list[str] = []
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        out = []
        self._buf += data
        while True:
            start = self._buf.find(bytes([self.header]))
            if start < 0:
                self._buf.clear()
                return out
            del self._buf[:start]
            if len(self._buf) < 4:
                return out
            length = struct.unpack("<H", self._buf[2:4])[0]
            if length > self.max_payload:
                self.errors.append(f"length {length} too large")
                del self._buf[:1]
                continue
            if len(self._buf) < 6 + length:
                return out
            body = bytes(self._buf[1:4 + length])
            crc = struct.unpack("<H", self._buf[4 + length:6 + length])[0]
            if crc != crc16(body):
                self.errors.append("bad CRC")
                del self._buf[:1]
                continue
            out.append(Frame(body[0], body[3:]))
            del self._buf[:6 + length]
