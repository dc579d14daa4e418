"""Host side of the board link: run samples on a real board over UART (pyserial).

:class:`LinkSession` speaks the protocol of :mod:`snnhw.protocol.link` over any byte
transport with ``write(bytes)`` and ``read(n)`` (``read`` may return fewer
bytes, or none, after its timeout): a ``serial.Serial`` for a board, or a
fake in tests. It sends each EVENTS frame, waits for its ACK (the board's
flow control), resends a frame the board rejected with ERROR (up to
``retries`` times), and collects RESULT frames as they come.

:class:`BoardBackend` has the interface of the simulator backend
(:class:`snnhw.verify.coverify.Backend`), so ``snnhw verify --backend board --port
/dev/ttyUSB1`` runs the same co-verification on hardware. When the design
keeps some layers' weights in SPRAM (the build report's ``weights_loaded``),
the backend loads them from the IR first (WEIGHTS frames).
"""

from __future__ import annotations

import time

from ..errors import SnnhwError
from ..protocol import link
from ..protocol.streams import encode_sample
from ..verify.backend import BackendResult

__all__ = ["LinkSession", "BoardBackend", "BoardError"]


class BoardError(SnnhwError, RuntimeError):
    """The board did not answer as the protocol says (the message says what happened)."""


class LinkSession:
    def __init__(self, transport, n_out: int, *, timeout: float = 5.0, retries: int = 3,
                 max_events: int = link.MAX_EVENTS):
        self.t, self.n_out = transport, n_out
        self.timeout, self.retries, self.max_events = timeout, retries, max_events
        self.decoder = link.FrameDecoder()
        self.results: list[tuple[list[int], int]] = []
        self.rejected: list[int] = []   # error codes the board sent
        self.resent = 0
        self._queue: list[link.Frame] = []

    def _poll(self) -> None:
        self._queue.extend(self.decoder.feed(self.t.read(64) or b""))

    def _drain(self, want_reply: bool) -> link.Frame | None:
        """Collect queued RESULT frames; return the first ACK/ERROR if ``want_reply``."""
        while self._queue:
            if want_reply and self._queue[0].type in (link.ACK, link.ERROR):
                return self._queue.pop(0)
            f = self._queue.pop(0)
            if f.type == link.RESULT:
                self.results.append(link.parse_result(f.payload, self.n_out))
        return None

    def _next_reply(self) -> link.Frame:
        """The next ACK or ERROR frame; RESULT frames on the way are collected."""
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._drain(want_reply=True)
            if reply is not None:
                return reply
            if time.monotonic() > deadline:
                raise BoardError(f"no reply from the board within {self.timeout} s")
            self._poll()

    def send_frame(self, data: bytes) -> None:
        """Send one request frame until it is ACKed (resending after ERROR replies)."""
        for attempt in range(self.retries + 1):
            self.t.write(data)
            reply = self._next_reply()
            if reply.type == link.ACK:
                return
            code = reply.payload[0] if reply.payload else 0
            self.rejected.append(code)
            if attempt < self.retries:
                self.resent += 1
        raise BoardError(f"frame rejected {self.retries + 1} times "
                         f"({link.error_text(code)})")

    def clear(self) -> None:
        self.send_frame(link.frame(link.CLEAR))

    def load_weights(self, net, lanes: list[int], layers) -> int:
        """Send the weights of ``layers`` (WEIGHTS frames); returns the frames sent."""
        sent = 0
        for k in layers:
            for f in link.layer_weights_frames(net, k, lanes[k]):
                self.send_frame(f)
                sent += 1
        return sent

    def run_sample(self, x_sample) -> None:
        for f in link.events_frames(encode_sample(x_sample), self.max_events):
            self.send_frame(f)

    def wait_results(self, count: int) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            self._drain(want_reply=False)
            if len(self.results) >= count:
                return
            self._poll()
            if time.monotonic() > deadline:
                raise BoardError(f"{len(self.results)} of {count} results within "
                                 f"{self.timeout} s")


class BoardBackend:
    """Co-verification backend running on a board at ``port`` (pyserial).

    ``load``: ``(lanes, layers)`` when the bitstream keeps the weights of
    ``layers`` in SPRAM (built with ``lanes``); they are sent before the first
    sample. :meth:`from_build` reads both from a build folder's report.
    """

    def __init__(self, port: str, *, baud: int = 115200, timeout: float = 5.0,
                 transport=None, load: tuple[list[int], list[int]] | None = None):
        self.port, self.baud, self.timeout = port, baud, timeout
        self.transport, self.load = transport, load
        self.name = f"board ({port})"

    @classmethod
    def from_build(cls, port: str, build_dir, net, **kw) -> BoardBackend:
        """A backend for the bitstream built into ``build_dir``: the report must come
        from ``net`` (IR hash); its lanes, loaded layers and baud rate are used."""
        import json
        from pathlib import Path

        path = Path(build_dir) / "build_report.json"
        try:
            rep = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise BoardError(f"cannot read the build report {path}: {exc}") from None
        if rep.get("ir_hash") != net.content_hash():
            raise BoardError(f"{path} was built from another network ({rep.get('network')!r}, "
                             f"IR hash {str(rep.get('ir_hash'))[:12]}) than {net.name!r} "
                             f"({net.content_hash()[:12]})")
        kw.setdefault("baud", rep.get("baud", 115200))
        loaded = rep.get("weights_loaded") or []
        return cls(port, load=(rep["lanes"], loaded) if loaded else None, **kw)

    def _open(self):
        if self.transport is not None:
            return self.transport
        import serial

        try:
            return serial.Serial(self.port, self.baud, timeout=0.05)
        except serial.SerialException as exc:
            raise BoardError(f"cannot open {self.port}: {exc}") from None

    def run(self, net, x, progress=None) -> BackendResult:
        t0 = time.perf_counter()
        t = self._open()
        s = LinkSession(t, net.n_out, timeout=self.timeout)
        s.clear()
        loaded = 0
        if self.load is not None:
            loaded = s.load_weights(net, *self.load)
        for n, sample in enumerate(x):
            s.run_sample(sample)
            if progress is not None:
                progress(min(len(s.results), n + 1))
        s.wait_results(len(x))
        if progress is not None:
            progress(len(x))
        return BackendResult(logits=[r[0] for r in s.results], classes=[r[1] for r in s.results],
                             info={"port": self.port, "baud": self.baud,
                                   "rejected_frames": s.rejected, "resent": s.resent,
                                   "weight_frames": loaded,
                                   "run_seconds": round(time.perf_counter() - t0, 2)})
