"""FrameReceiver alone: good frames become commands with their payload in the buffer, and
every kind of bad frame one ERROR reply with its code and no command."""

import random

import pytest

from snnhw.gateware.receiver import FrameReceiver
from snnhw.gateware.sim import simulate
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode
from snnhw.protocol.streams import Event


def receive(frames, *, weight_depths=None, gap_after=None, gap=80, resume=False,
            take_after=3, tick_cycles=1):
    """Send each frame (the first cut off after its first ``gap_after`` bytes by a
    silence of ``gap`` cycles; with ``resume`` its other bytes then follow); take every
    command ``take_after`` cycles after its payload's closing beat (taking its bytes
    first, at a random pace); with ``tick_cycles`` > 1, tick the timeout every
    ``tick_cycles`` cycles. Returns (commands, replies, clears)."""
    dut = FrameReceiver(max_events=8, timeout=50, weight_depths=weight_depths,
                        tick_cycles=tick_cycles)
    rng = random.Random(len(frames))
    commands, replies, clears = [], [], []

    async def send_bytes(ctx, data):
        for b in data:
            ctx.set(dut.rx.payload, b)
            ctx.set(dut.rx.valid, 1)
            await ctx.tick()
            ctx.set(dut.rx.valid, 0)
            await ctx.tick()

    async def send(ctx):
        for n, f in enumerate(frames):
            await send_bytes(ctx, f[:gap_after] if n == 0 and gap_after else f)
            if n == 0 and gap_after:
                await ctx.tick().repeat(gap)
                if resume:
                    await send_bytes(ctx, f[gap_after:])
            while len(replies) <= n:  # each frame gets exactly one reply
                await ctx.tick()

    async def consume(ctx):
        while True:
            await ctx.tick()
            if not ctx.get(dut.cmd.valid):
                continue
            view = ctx.get(dut.cmd.payload)
            flags = {"events": link.EVENTS, "clear": link.CLEAR, "weights": link.WEIGHTS}
            (kind,) = [t for name, t in flags.items() if getattr(view, name)]  # one flag
            cmd = {"type": kind, "length": int(view.length)}
            payload = bytearray()
            while True:     # the bytes, then the closing beat (left until the command)
                ready = rng.random() < 0.6
                ctx.set(dut.data.ready, ready)
                beat_valid, beat = ctx.get(dut.data.valid), ctx.get(dut.data.payload)
                if beat_valid and beat.end:
                    break
                if beat_valid and ready:
                    payload.append(int(beat.byte))
                await ctx.tick()
            ctx.set(dut.data.ready, 0)
            cmd["payload"] = bytes(payload)
            commands.append(cmd)
            await ctx.tick().repeat(take_after)
            ctx.set(dut.cmd.ready, 1)
            await ctx.tick()
            ctx.set(dut.cmd.ready, 0)

    async def watch(ctx):
        async for _, _, valid, reply, clear in ctx.tick().sample(
                dut.reply.valid, dut.reply.payload, dut.clear):
            if clear:  # the number of the frame it belongs to
                clears.append(len(replies))
            if valid:
                replies.append((int(reply.error), int(reply.code)))

    async def ticks(ctx):
        cycle = 0
        while True:
            ctx.set(dut.tick, cycle % tick_cycles == 0)
            await ctx.tick()
            cycle += 1

    simulate(dut, send, background=[consume, watch] + ([ticks] if tick_cycles > 1 else []))
    return commands, replies, clears


def test_events_frame_becomes_a_command_and_is_acked_when_taken():
    events = [Event(5, 3, 0), Event(300, 255, 0), Event(0, 0, 1)]
    payload = link.pack_events(events)
    commands, replies, clears = receive([link.frame(link.EVENTS, payload)])
    assert commands == [{"type": link.EVENTS, "length": 9, "payload": payload}]
    assert replies == [(0, 0)] and clears == []


def test_clear_frame_pulses_clear_and_acks():
    commands, replies, clears = receive([link.frame(link.CLEAR)])
    assert commands == [] and replies == [(0, 0)] and clears == [0]


def test_weights_frame_clears_then_hands_on_its_range():
    f = link.weights_frames(1, [0x1122334455667788, 7], start=5)[0]
    commands, replies, clears = receive([f], weight_depths={1: 7})
    (cmd,) = commands
    assert (cmd["type"], cmd["length"]) == (link.WEIGHTS, 4 + 16)
    assert cmd["payload"] == f[4:-2]      # layer 1, a reserved byte, word 5, the words
    assert cmd["payload"][:4] == bytes([1, 0, 5, 0])
    assert cmd["payload"][4:12] == (0x1122334455667788).to_bytes(8, "little")
    assert replies == [(0, 0)] and clears == [0]


@pytest.mark.parametrize("frame, code", [
    (link.frame(link.EVENTS, bytes(9))[:-1] + b"\x00", ErrorCode.BAD_CRC),
    (link.frame(link.EVENTS, bytes(4)), ErrorCode.BAD_LENGTH),
    (link.frame(link.EVENTS, bytes(3 * 9)), ErrorCode.BAD_LENGTH),     # over max_events
    (link.frame(0x7E), ErrorCode.UNKNOWN_TYPE),
    (link.weights_frames(0, [1])[0], ErrorCode.BAD_WEIGHT_ADDRESS),    # layer not loaded
    (link.weights_frames(1, [1, 2], start=6)[0], ErrorCode.BAD_WEIGHT_ADDRESS),  # past the end
    (link.frame(link.WEIGHTS, bytes([1, 0, 0, 0]) + bytes(5)), ErrorCode.BAD_LENGTH),
])
def test_bad_frames_get_their_error_and_no_command(frame, code):
    good = link.frame(link.EVENTS, link.pack_events([Event(0, 0, 1)]))
    commands, replies, clears = receive([frame, good], weight_depths={1: 7})
    assert replies == [(1, code), (0, 0)]
    assert [c["payload"] for c in commands] == [bytes([0, 0x80, 0])]  # only the good one
    assert clears == []


def test_a_frame_cut_off_times_out():
    good = link.frame(link.EVENTS, link.pack_events([Event(1, 1, 0), Event(0, 0, 1)]))
    commands, replies, _ = receive([good, good], gap_after=5)
    assert replies == [(1, ErrorCode.CUT_OFF), (0, 0)]
    assert len(commands) == 1


@pytest.mark.parametrize("gap, cut", [(80, True), (30, False), (52, False)])
def test_the_timeout_counted_in_ticks(gap, cut):
    """Counted in ticks of 8 cycles, a silence of 50 cycles is cut off after 56 to 64
    cycles: 80 cycles cut the frame off, 30 do not."""
    good = link.frame(link.EVENTS, link.pack_events([Event(1, 1, 0), Event(0, 0, 1)]))
    commands, replies, _ = receive([good, good], gap_after=5, gap=gap, resume=True,
                                   tick_cycles=8)
    if cut:     # (the rest of the cut frame is garbage to the receiver: no reply)
        assert replies[:1] == [(1, ErrorCode.CUT_OFF)] and len(commands) == 1
    else:
        assert replies == [(0, 0), (0, 0)] and len(commands) == 2
