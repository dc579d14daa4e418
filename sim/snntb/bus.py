"""Stream driver, monitor and backpressure for valid/ready ports (cocotb 2.x).

Transfers are judged at a rising edge from the values just before it (the
cocotbext-axi convention): a beat moves when ``valid`` and ``ready`` were
both high. The source keeps ``valid`` and the payload until the transfer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import cocotb
from cocotb.triggers import Event, RisingEdge

__all__ = ["StreamSource", "StreamMonitor", "ReadyDriver"]


class StreamSource:
    """Drive beats onto ``valid``/``payload``; idle a cycle whenever ``pauses`` says so."""

    def __init__(self, clk, valid, ready, payload, pack: Callable[[object], int],
                 pauses: Iterator[bool]):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.pack, self.pauses = pack, pauses
        self.queue: deque = deque()
        self.sent = 0
        self._idle = Event()
        self._idle.set()
        self.valid.value = 0
        self._task = cocotb.start_soon(self._run())

    def send(self, items) -> None:
        self.queue.extend(items)
        if self.queue:
            self._idle.clear()

    async def wait_idle(self) -> None:
        await self._idle.wait()

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


class StreamMonitor:
    """Call ``callback(payload_int)`` for every transfer on a stream."""

    def __init__(self, clk, valid, ready, payload, callback: Callable[[int], None]):
        self.clk, self.valid, self.ready, self.payload = clk, valid, ready, payload
        self.callback = callback
        self.count = 0
        self._task = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            if int(self.valid.value) and int(self.ready.value):
                self.count += 1
                self.callback(self.payload.value.to_unsigned())


class ReadyDriver:
    """Hold ``ready`` low on the cycles ``pauses`` says, high otherwise."""

    def __init__(self, clk, ready, pauses: Iterator[bool]):
        self.clk, self.ready, self.pauses = clk, ready, pauses
        self.ready.value = 0
        self._task = cocotb.start_soon(self._run())

    async def _run(self) -> None:
        while True:
            self.ready.value = 0 if next(self.pauses) else 1
            await RisingEdge(self.clk)
