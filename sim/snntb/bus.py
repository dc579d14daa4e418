"""Stream driver, monitor and backpressure for valid/ready ports (cocotb 2.x).

Transfers are judged at a rising edge from the values just before it (the
cocotbext-axi convention): a beat moves when ``valid`` and ``ready`` were
both high. The source keeps ``valid`` and the payload until the transfer.

Each part is built idle: :meth:`start` launches its coroutine, :meth:`stop`
ends it (and lets go of the signals it drives), and each logs to its own
logger (``snntb.<name>``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator

import cocotb
from cocotb.triggers import Event, RisingEdge

__all__ = ["StreamSource", "StreamMonitor", "ReadyDriver"]


class _Part:
    """Start/stop and a logger, shared by the parts below."""

    def __init__(self, name: str):
        self.log = logging.getLogger(f"snntb.{name}")
        self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self):
        if self._task is None:
            self._task = cocotb.start_soon(self._run())
            self.log.debug("started")
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self.log.debug("stopped")

    async def _run(self) -> None:
        raise NotImplementedError


class StreamSource(_Part):
    """Drive beats onto ``valid``/``payload``; idle a cycle whenever ``pauses`` says so."""

    def __init__(self, clk, valid, ready, payload, pack: Callable[[object], int],
                 pauses: Iterator[bool], name: str = "source"):
        super().__init__(name)
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.pack, self.pauses = pack, pauses
        self.queue: deque = deque()
        self.sent = 0
        self._idle = Event()
        self._idle.set()
        self.valid.value = 0

    def send(self, items) -> None:
        self.queue.extend(items)
        if self.queue:
            self._idle.clear()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def stop(self) -> None:
        super().stop()
        self.valid.value = 0

    async def _run(self) -> None:
        driving = False
        while True:
            await RisingEdge(self.clk)
            if driving and int(self.ready.value):
                self.queue.popleft()
                self.sent += 1
                driving = False
            if not driving:
                if self.queue and not next(self.pauses):
                    self.payload.value = self.pack(self.queue[0])
                    self.valid.value = 1
                    driving = True
                else:
                    self.valid.value = 0
                    if not self.queue:
                        self._idle.set()


class StreamMonitor(_Part):
    """Call every callback with the payload (an int) of each transfer on a stream."""

    def __init__(self, clk, valid, ready, payload, name: str = "monitor"):
        super().__init__(name)
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.callbacks: list[Callable[[int], None]] = []
        self.count = 0

    def add_callback(self, callback: Callable[[int], None]) -> StreamMonitor:
        self.callbacks.append(callback)
        return self

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            if int(self.valid.value) and int(self.ready.value):
                self.count += 1
                word = self.payload.value.to_unsigned()
                for callback in self.callbacks:
                    callback(word)


class ReadyDriver(_Part):
    """Hold ``ready`` low on the cycles ``pauses`` says, high otherwise."""

    def __init__(self, clk, ready, pauses: Iterator[bool], name: str = "ready"):
        super().__init__(name)
        self.clk, self.ready, self.pauses = clk, ready, pauses
        self.ready.value = 0

    def stop(self) -> None:
        super().stop()
        self.ready.value = 0

    async def _run(self) -> None:
        while True:
            self.ready.value = 0 if next(self.pauses) else 1
            await RisingEdge(self.clk)
