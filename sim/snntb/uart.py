"""Bit-level UART (8N1) on the DUT's pins, for board-level tests without a board."""

from __future__ import annotations

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge

__all__ = ["UartHost"]


class UartHost:
    """Drives ``rx`` and listens on ``tx`` at ``divisor`` clock cycles per bit.

    Received bytes are handed to ``on_byte``.
    """

    def __init__(self, clk, rx, tx, divisor: int, on_byte):
        self.clk, self.rx, self.tx, self.divisor = clk, rx, tx, divisor
        self.on_byte = on_byte
        self.rx.value = 1
        self._task = cocotb.start_soon(self._listen())

    async def send(self, data: bytes) -> None:
        for b in data:
            for bit in [0] + [(b >> i) & 1 for i in range(8)] + [1]:
                self.rx.value = bit
                await ClockCycles(self.clk, self.divisor)

    async def idle(self, bits: int) -> None:
        self.rx.value = 1
        await ClockCycles(self.clk, self.divisor * bits)

    async def _listen(self) -> None:
        d = self.divisor
        while True:
            await FallingEdge(self.tx)
            await ClockCycles(self.clk, d // 2)
            if int(self.tx.value):
                continue  # a glitch
            byte = 0
            for i in range(8):
                await ClockCycles(self.clk, d)
                byte |= int(self.tx.value) << i
            await ClockCycles(self.clk, d)
            if int(self.tx.value):
                self.on_byte(byte)
