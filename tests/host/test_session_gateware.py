"""The real host driver against the real board design: snnhw.host.BoardBackend (with its
LinkSession) runs in a thread and talks, through a byte transport, to the simulated
LinkedNetwork (UART, host link, network) whose rx/tx pins the testbench drives and reads
bit by bit. Weights are loaded with WEIGHTS frames, one frame is corrupted on the wire
(the board rejects it, the session resends it), and every result equals the golden model."""

import queue
import threading

import numpy as np

from snnhw import golden
from snnhw.gateware.linked import LinkedNetwork
from snnhw.gateware.sim import simulate, uart_receive, uart_send
from snnhw.host import BoardBackend
from snnhw.ir.examples import random_input, random_network
from snnhw.protocol.link import ErrorCode

DIVISOR = 4  # clock cycles per UART bit


class WireTransport:
    """``write``/``read`` for the session; the simulated wire on the other side."""

    def __init__(self, corrupt_write: int | None = None):
        self.to_board: queue.Queue[int] = queue.Queue()
        self.to_host: queue.Queue[int] = queue.Queue()
        self.writes = 0
        self.corrupt_write = corrupt_write

    def write(self, data: bytes) -> None:
        data = bytearray(data)
        if self.writes == self.corrupt_write:
            data[5] ^= 0x04  # one payload bit flipped on the wire
        self.writes += 1
        for b in data:
            self.to_board.put(b)

    def read(self, n: int) -> bytes:
        out = bytearray()
        try:
            out.append(self.to_host.get(timeout=0.02))
            while len(out) < n:
                out.append(self.to_host.get_nowait())
        except queue.Empty:
            pass
        return bytes(out)


def test_board_backend_against_the_gateware():
    rng = np.random.default_rng(11)
    net = random_network(rng, [10, 8, 4], in_bits=3, timesteps=2, spike_bits=2)
    x = random_input(rng, net, 3, density=0.6)
    lanes = [2, 3]
    dut = LinkedNetwork(net, lanes=lanes, clk_hz=DIVISOR * 100_000, baud=100_000,
                        weights={0: "ram"}, err_hold=64)
    # write 0 is the CLEAR; write 1 the first WEIGHTS frame: corrupt that one
    wire = WireTransport(corrupt_write=1)
    backend = BoardBackend("sim", transport=wire, timeout=300.0, load=(lanes, [0]))
    outcome = {}

    def host():
        try:
            outcome["result"] = backend.run(net, x)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=host, daemon=True)

    async def rx_pin(ctx):  # host -> board
        thread.start()
        while thread.is_alive():
            try:
                byte = wire.to_board.get_nowait()
            except queue.Empty:
                await ctx.tick().repeat(DIVISOR)
                continue
            await uart_send(ctx, dut.rx, bytes([byte]), DIVISOR)

    async def tx_pin(ctx):  # board -> host
        while True:
            wire.to_host.put(await uart_receive(ctx, dut.tx, DIVISOR))

    simulate(dut, rx_pin, background=[tx_pin])
    thread.join(timeout=5)
    assert "error" not in outcome, outcome.get("error")
    res = outcome["result"]
    g = golden.run(net, x)
    assert res.logits == g.logits.tolist() and res.classes == g.classes.tolist()
    assert res.info["rejected_frames"] == [ErrorCode.BAD_CRC] and res.info["resent"] == 1
    assert res.info["weight_frames"] >= 1
