"""EventFeeder and WeightLoader alone, taking a frame's payload: the events and the weight
writes equal what the host's packing put in; the command is taken only when all is done."""

import random

import pytest
from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.gateware.feeder import EventFeeder, WeightLoader
from snnhw.gateware.ports import CoreLoadPort
from snnhw.gateware.receiver import command_layout, payload_layout
from snnhw.gateware.sim import get, simulate
from snnhw.protocol import link
from snnhw.protocol.streams import Event, pauses


class Bench(wiring.Component):
    """One consumer, its command and payload driven by the testbench."""

    def __init__(self, unit):
        self.unit = unit
        ports = {"cmd": In(stream.Signature(command_layout())),
                 "data": In(stream.Signature(payload_layout()))}
        if isinstance(unit, EventFeeder):
            ports["ev"] = Out(unit.ev.signature)
        else:
            ports["load"] = Out(CoreLoadPort())
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self.unit
        wiring.connect(m, wiring.flipped(self.cmd), unit.cmd)
        wiring.connect(m, wiring.flipped(self.data), unit.data)
        if hasattr(self, "ev"):
            wiring.connect(m, unit.ev, wiring.flipped(self.ev))
        else:
            wiring.connect(m, unit.load, wiring.flipped(self.load))
        return m


def run(bench, cmd, payload, collect, seed=0):
    """Hand ``cmd`` on and ``payload`` a byte a beat as the receiver does (a beat at least
    four cycles after the last was taken, here with random extra gaps), then the closing
    beat; returns the cycles until the command was taken."""
    rng = random.Random(seed)
    taken = []

    async def command(ctx):
        ctx.set(bench.cmd.payload, cmd)
        ctx.set(bench.cmd.valid, 1)
        cycles = 0
        beats = [(b, 0) for b in payload] + [(0, 1)]
        while True:
            await ctx.tick().repeat(3 + rng.randrange(3))
            cycles += 3
            byte, end = beats[0]
            ctx.set(bench.data.payload, {"byte": byte, "end": end})
            ctx.set(bench.data.valid, 1)
            while not ctx.get(bench.data.ready):
                await ctx.tick()
                cycles += 1
            if end:     # the closing beat goes with the command
                assert ctx.get(bench.cmd.ready)
            else:
                assert not ctx.get(bench.cmd.ready)
            await ctx.tick()
            cycles += 1
            ctx.set(bench.data.valid, 0)
            beats.pop(0)
            if end:
                break
        taken.append(cycles)
        ctx.set(bench.cmd.valid, 0)

    simulate(bench, command, collect)
    return taken


@pytest.mark.parametrize("pattern", ["none", "heavy"])
def test_feeder_sends_the_packed_events(pattern):
    events = [Event(i * 37 % 300, (i * 11) % 256, 0) for i in range(1, 20)] + [Event(0, 0, 1)]
    payload = link.pack_events(events)
    bench = Bench(EventFeeder(n_in=300, in_bits=8))
    got = []

    async def collect(ctx):
        await get(ctx, bench.ev, len(events), pauses(pattern, 2), got)

    taken = run(bench, {"events": 1, "length": len(payload)}, payload, collect)
    assert [Event(int(e.index), int(e.value), int(e.eos)) if not e.eos else Event(0, 0, 1)
            for e in got] == events
    assert taken and taken[0] >= 4 * len(payload)  # taken only after every byte


def test_feeder_ignores_a_weights_command():
    bench = Bench(EventFeeder(n_in=4, in_bits=2))
    seen = []

    async def collect(ctx):
        for _ in range(200):
            seen.append(ctx.get(bench.ev.valid) or ctx.get(bench.cmd.ready)
                        or ctx.get(bench.data.ready))
            await ctx.tick()

    async def command(ctx):
        ctx.set(bench.cmd.payload, {"weights": 1, "length": 12})
        ctx.set(bench.cmd.valid, 1)
        ctx.set(bench.data.valid, 1)

    simulate(bench, command, collect)
    assert not any(seen)


def test_loader_writes_every_word_at_its_address():
    words = [0x0123456789ABCDEF, 1, (1 << 64) - 1, 0x8000000000000000]
    (frame,) = link.weights_frames(3, words, start=100)
    payload = link.FrameDecoder(header=link.HOST_HEADER).feed(frame)[0].payload
    bench = Bench(WeightLoader(layers=4))
    writes = []

    async def collect(ctx):
        async for _, _, en, layer, addr, data in ctx.tick().sample(
                bench.load.en, bench.load.layer, bench.load.addr, bench.load.data):
            if en:
                writes.append((int(layer), int(addr), int(data)))
            if len(writes) == len(words):
                return

    taken = run(bench, {"weights": 1, "length": len(payload)}, payload, collect)
    assert writes == [(3, 100 + k, w) for k, w in enumerate(words)]
    assert taken and taken[0] >= 4 * len(payload)


def test_a_narrow_loader_keeps_the_bytes_the_core_reads():
    """A core reading 12-bit words gets each word's first two bytes (the rest of the
    word is the protocol's padding) and addresses as wide as its memory."""
    words = [0x0123456789ABCDEF, 0xFFF, (1 << 64) - 1, 0x8000000000000ABC, 0x5A5A]
    (frame,) = link.weights_frames(1, words, start=3)
    payload = link.FrameDecoder(header=link.HOST_HEADER).feed(frame)[0].payload
    loader = WeightLoader(word_bits=12, depth=8, layers=2)
    bench = Bench(loader)
    writes = []

    async def collect(ctx):
        async for _, _, en, addr, data in ctx.tick().sample(
                bench.load.en, bench.load.addr, bench.load.data):
            if en:
                writes.append((int(addr), int(data)))
            if len(writes) == len(words):
                return

    run(bench, {"weights": 1, "length": len(payload)}, payload, collect, seed=1)
    assert loader.word_bytes == 2
    assert writes == [(3 + k, w & 0xFFFF) for k, w in enumerate(words)]
