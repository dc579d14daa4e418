"""EventFeeder and WeightLoader alone, reading a frame buffer: the events and the weight
writes equal what the host's packing put in; the command is taken only when all is done."""

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from snnhw.gateware.feeder import EventFeeder, WeightLoader
from snnhw.gateware.ports import CoreLoadPort
from snnhw.gateware.receiver import command_layout
from snnhw.gateware.sim import get, simulate
from snnhw.protocol import link
from snnhw.protocol.streams import Event, pauses

DEPTH = 3 * 32


class Bench(wiring.Component):
    """A frame buffer holding ``payload`` and one consumer reading it."""

    def __init__(self, unit, payload):
        self.unit, self.payload = unit, payload
        ports = {"cmd": In(stream.Signature(command_layout()))}
        if isinstance(unit, EventFeeder):
            ports["ev"] = Out(unit.ev.signature)
        else:
            ports["load"] = Out(CoreLoadPort())
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self.unit
        m.submodules.buf = buf = memory.Memory(shape=8, depth=DEPTH,
                                               init=list(self.payload) + [0] * (DEPTH - len(
                                                   self.payload)))
        # the address through a register, the data into one, as the receiver's buffer
        # reads (BufferReadPort: three cycles)
        raddr = Signal.like(unit.buf.addr)
        rd = buf.read_port()
        m.d.sync += [raddr.eq(unit.buf.addr), unit.buf.data.eq(rd.data)]
        m.d.comb += rd.addr.eq(raddr)
        wiring.connect(m, wiring.flipped(self.cmd), unit.cmd)
        if hasattr(self, "ev"):
            wiring.connect(m, unit.ev, wiring.flipped(self.ev))
        else:
            wiring.connect(m, unit.load, wiring.flipped(self.load))
        return m


def run(bench, cmd, collect):
    taken = []

    async def command(ctx):
        ctx.set(bench.cmd.payload, cmd)
        ctx.set(bench.cmd.valid, 1)
        cycles = 0
        while not ctx.get(bench.cmd.ready):
            await ctx.tick()
            cycles += 1
        taken.append(cycles)
        await ctx.tick()
        ctx.set(bench.cmd.valid, 0)

    simulate(bench, command, collect)
    return taken


@pytest.mark.parametrize("pattern", ["none", "heavy"])
def test_feeder_sends_the_packed_events(pattern):
    events = [Event(i * 37 % 300, (i * 11) % 256, 0) for i in range(1, 20)] + [Event(0, 0, 1)]
    payload = link.pack_events(events)
    bench = Bench(EventFeeder(n_in=300, in_bits=8, buffer_depth=DEPTH), payload)
    got = []

    async def collect(ctx):
        await get(ctx, bench.ev, len(events), pauses(pattern, 2), got)

    taken = run(bench, {"type": link.EVENTS, "length": len(payload)}, collect)
    assert [Event(int(e.index), int(e.value), int(e.eos)) if not e.eos else Event(0, 0, 1)
            for e in got] == events
    assert taken and taken[0] >= 7 * len(events)  # taken only after the last event went out


def test_feeder_ignores_a_weights_command():
    bench = Bench(EventFeeder(n_in=4, in_bits=2, buffer_depth=DEPTH), bytes(12))
    seen = []

    async def collect(ctx):
        for _ in range(200):
            seen.append(ctx.get(bench.ev.valid) or ctx.get(bench.cmd.ready))
            await ctx.tick()

    async def command(ctx):
        ctx.set(bench.cmd.payload, {"type": link.WEIGHTS, "length": 12})
        ctx.set(bench.cmd.valid, 1)

    simulate(bench, command, collect)
    assert not any(seen)


def test_loader_writes_every_word_at_its_address():
    words = [0x0123456789ABCDEF, 1, (1 << 64) - 1, 0x8000000000000000]
    (frame,) = link.weights_frames(3, words, start=100)
    payload = link.FrameDecoder(header=link.HOST_HEADER).feed(frame)[0].payload
    bench = Bench(WeightLoader(buffer_depth=DEPTH), payload)
    writes = []

    async def collect(ctx):
        async for _, _, en, layer, addr, data in ctx.tick().sample(
                bench.load.en, bench.load.layer, bench.load.addr, bench.load.data):
            if en:
                writes.append((int(layer), int(addr), int(data)))
            if len(writes) == len(words):
                return

    taken = run(bench, {"type": link.WEIGHTS, "length": len(payload), "w_layer": 3,
                        "w_start": 100}, collect)
    assert writes == [(3, 100 + k, w) for k, w in enumerate(words)]
    assert taken and taken[0] >= 4 * 8 * len(words)


def test_a_narrow_loader_keeps_the_bytes_the_core_reads():
    """A core reading 12-bit words gets each word's first two bytes (the rest of the
    word is the protocol's padding) and addresses as wide as its memory."""
    words = [0x0123456789ABCDEF, 0xFFF, (1 << 64) - 1, 0x8000000000000ABC, 0x5A5A]
    (frame,) = link.weights_frames(1, words, start=3)
    payload = link.FrameDecoder(header=link.HOST_HEADER).feed(frame)[0].payload
    loader = WeightLoader(buffer_depth=DEPTH, word_bits=12, depth=8)
    bench = Bench(loader, payload)
    writes = []

    async def collect(ctx):
        async for _, _, en, addr, data in ctx.tick().sample(
                bench.load.en, bench.load.addr, bench.load.data):
            if en:
                writes.append((int(addr), int(data)))
            if len(writes) == len(words):
                return

    run(bench, {"type": link.WEIGHTS, "length": len(payload), "w_layer": 1, "w_start": 3},
        collect)
    assert loader.word_bytes == 2
    assert writes == [(3 + k, w & 0xFFFF) for k, w in enumerate(words)]
