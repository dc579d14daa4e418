"""FrameTransmitter alone: replies and results come out as frames the host decodes, a
RESULT frame is never cut by a reply, and an ERROR goes before a pending ACK."""

import pytest

from snnhw.gateware.sim import get, put, simulate
from snnhw.gateware.transmitter import FrameTransmitter
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode
from snnhw.protocol.streams import pauses


def run(dut, script, n_frames, pattern):
    """``script``: ("reply", error, code) or ("result", logits, cls) steps, in order."""
    raw, frames = [], []

    async def drive(ctx):
        for step in script:
            if step[0] == "reply":
                ctx.set(dut.reply.payload, {"error": step[1], "code": step[2]})
                ctx.set(dut.reply.valid, 1)
                await ctx.tick()
                ctx.set(dut.reply.valid, 0)
            else:
                beats = [{"value": v, "is_class": 0, "last": 0} for v in step[1]]
                beats.append({"value": step[2], "is_class": 1, "last": 1})
                await put(ctx, dut.res, beats, pauses("light", 5))

    async def recv(ctx):
        dec = link.FrameDecoder()
        p = pauses(pattern, 3)
        while len(frames) < n_frames:
            await get(ctx, dut.tx, len(raw) + 1, p, raw)
            frames.extend(dec.feed(bytes([int(raw[-1])])))
        assert dec.errors == []

    simulate(dut, drive, recv)
    return frames


@pytest.mark.parametrize("pattern", ["none", "heavy"])
def test_results_and_replies_become_frames(pattern):
    dut = FrameTransmitter(n_out=3, logit_bits=20)
    frames = run(dut, [("reply", 0, 0), ("result", [-5, 70000, 0], 1),
                       ("reply", 1, ErrorCode.BAD_CRC), ("result", [1, 2, -3], 1)], 4, pattern)
    assert [f.type for f in frames].count(link.RESULT) == 2
    results = [link.parse_result(f.payload, 3) for f in frames if f.type == link.RESULT]
    assert results == [([-5, 70000, 0], 1), ([1, 2, -3], 1)]
    replies = [(f.type, f.payload) for f in frames if f.type != link.RESULT]
    assert replies == [(link.ACK, b""), (link.ERROR, bytes([ErrorCode.BAD_CRC]))]
    assert frames[0].type == link.ACK


def test_error_goes_before_a_pending_ack():
    dut = FrameTransmitter(n_out=1, logit_bits=8)
    # both asked for while a result is going out: the ERROR is sent first
    frames = run(dut, [("result", [7], 0), ("reply", 0, 0), ("reply", 1, ErrorCode.CUT_OFF)],
                 3, "heavy")
    assert [f.type for f in frames] == [link.RESULT, link.ERROR, link.ACK]
