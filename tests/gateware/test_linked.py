"""LinkedNetwork alone, on its pins: a good frame toggles the activity LED, a bad one lights
the error LED for about ``err_hold`` cycles and is answered with ERROR over ``tx``. (The
whole sample path through these pins is tested with the real host driver in
tests/host/test_session_gateware.py and on Verilator / Icarus in tests/sim.)"""

import numpy as np

from snnhw.gateware.linked import LinkedNetwork
from snnhw.gateware.sim import simulate, uart_receive, uart_send
from snnhw.ir.examples import random_network
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode

D = 4  # cycles per bit


def test_leds_and_error_reply():
    net = random_network(np.random.default_rng(0), [6, 4, 3], in_bits=2, timesteps=1)
    dut = LinkedNetwork(net, lanes=2, clk_hz=D * 100_000, baud=100_000, err_hold=1 << 13)
    good = link.frame(link.CLEAR)
    bad = bytearray(link.frame(link.CLEAR))
    bad[-1] ^= 1
    seen = {"activity": [], "error_cycles": 0, "bytes": []}

    async def host(ctx):
        for data in (good, bytes(bad)):
            await uart_send(ctx, dut.rx, data, D)
            await ctx.tick().repeat(60 * D)
        await ctx.tick().repeat(3 << 13)

    async def pins(ctx):
        last = 0
        async for _, _, act, err in ctx.tick().sample(dut.led_activity, dut.led_error):
            if act != last:
                seen["activity"].append(act)
                last = act
            seen["error_cycles"] += err

    async def uart(ctx):  # board -> host
        while True:
            seen["bytes"].append(await uart_receive(ctx, dut.tx, D))

    simulate(dut, host, background=[pins, uart])
    frames = link.FrameDecoder().feed(bytes(seen["bytes"]))
    assert [(f.type, f.payload) for f in frames] == [
        (link.ACK, b""), (link.ERROR, bytes([ErrorCode.BAD_CRC]))]
    assert seen["activity"] == [1]  # one accepted frame, one toggle
    # lit for more than 2**13 cycles (err_hold, a power of two) and at most twice that
    assert (1 << 13) < seen["error_cycles"] <= 2 << 13
