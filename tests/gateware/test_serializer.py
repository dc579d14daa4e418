"""SpikeSerializer alone: words in, one event per non-zero lane out (lowest lane first),
markers passed on, under stalls on both sides; ``room`` keeps its promise."""

import numpy as np
import pytest

from snnhw.gateware.plan import SWEEP_STAGES, LayerPlan
from snnhw.gateware.serializer import SpikeSerializer
from snnhw.gateware.sim import get, put, simulate
from snnhw.ir.examples import random_network
from snnhw.protocol.streams import pauses


def expected_events(words, lanes, sb):
    out = []
    for w in words:
        if w["eos"]:
            out.append((0, 0, 1))
            continue
        for lane in range(lanes):
            s = (w["spikes"] >> (lane * sb)) & ((1 << sb) - 1)
            if s:
                out.append((w["base"] + lane, s, 0))
    return out


@pytest.mark.parametrize("seed, lanes, patterns", [
    (0, 1, ("none", "none")), (1, 3, ("heavy", "light")), (2, 5, ("bursty", "heavy")),
    (3, 8, ("light", "alternate")), (4, 16, ("heavy", "light")), (5, 32, ("bursty", "none"))])
def test_words_become_events_in_order(seed, lanes, patterns):
    rng = np.random.default_rng(seed)
    net = random_network(rng, [4, 19, 3], spike_bits=3)
    plan = LayerPlan.of(net, 0, lanes)
    dut = SpikeSerializer(plan, reserve=SWEEP_STAGES + 1)
    sb, G = plan.spike_bits, plan.groups
    words = []
    for _step in range(4):
        for g in rng.choice(G, size=int(rng.integers(0, G + 1)), replace=False):
            spikes = 0
            for lane in range(lanes):
                if g * lanes + lane < plan.n_out and rng.random() < 0.5:
                    spikes |= int(rng.integers(1, 1 << sb)) << (lane * sb)
            if spikes == 0:  # the sweep pushes only groups with a spike
                continue
            words.append({"base": int(g) * lanes, "spikes": spikes, "eos": 0})
        words.append({"base": 0, "spikes": 0, "eos": 1})
    want = expected_events(words, lanes, sb)
    got = []

    async def send(ctx):
        await put(ctx, dut.i, words, pauses(patterns[0], seed))

    async def recv(ctx):
        await get(ctx, dut.o, len(want), pauses(patterns[1], seed + 1), got)

    simulate(dut, send, recv)
    assert [(int(e.index), int(e.value), int(e.eos)) if not e.eos else (0, 0, 1)
            for e in got] == want
    assert sum(e[2] for e in want) == 4


@pytest.mark.parametrize("lanes", [2, 16])    # 16: the lane count's second push register
def test_room_leaves_space_for_the_reserve(lanes):
    net = random_network(np.random.default_rng(4), [4, 10 * lanes // 2, 2], spike_bits=1)
    plan = LayerPlan.of(net, 0, lanes)
    reserve = SWEEP_STAGES + 1
    dut = SpikeSerializer(plan, reserve=reserve)
    refused = []

    async def tb(ctx):  # nobody reads: push whenever room says so, then the reserve
        pushed = 0
        while ctx.get(dut.room) or pushed == 0:
            ctx.set(dut.i.payload, {"base": 0, "spikes": 1, "eos": 0})
            ctx.set(dut.i.valid, 1)
            await ctx.tick()
            pushed += 1
        for _ in range(reserve):
            refused.append(not ctx.get(dut.i.ready))
            await ctx.tick()
        ctx.set(dut.i.valid, 0)

    simulate(dut, tb)
    assert refused == [False] * reserve


def test_a_fifo_too_small_for_the_reserve_is_refused():
    net = random_network(np.random.default_rng(4), [4, 3, 2], spike_bits=1)
    plan = LayerPlan.of(net, 0, 1)
    with pytest.raises(ValueError, match="cannot keep 100 free"):
        SpikeSerializer(plan, reserve=100)


@pytest.mark.parametrize("depth", [2, 3, 9, 17])
def test_the_buffered_fifo_is_syncfifobuffered_cycle_for_cycle(depth):
    """The spike FIFO (a memory that can carry Yosys attributes) against Amaranth's
    SyncFIFOBuffered: the same random pushes and pops, every output equal every cycle."""
    from amaranth.hdl import Module
    from amaranth.lib import fifo

    from snnhw.gateware.serializer import BufferedFIFO

    m = Module()
    m.submodules.ours = ours = BufferedFIFO(width=8, depth=depth, attrs={"ram_style": "logic"})
    m.submodules.ref = ref = fifo.SyncFIFOBuffered(width=8, depth=depth)
    rng = np.random.default_rng(depth)
    stim = [(int(rng.integers(256)), int(rng.random() < 0.6), int(rng.random() < 0.5))
            for _ in range(400)]
    seen = []

    async def bench(ctx):
        for data, w_en, r_en in stim:
            for f in (ours, ref):
                ctx.set(f.w_data, data)
                ctx.set(f.w_en, w_en)
                ctx.set(f.r_en, r_en)
            outs = [(ctx.get(f.w_rdy), ctx.get(f.r_rdy), ctx.get(f.level),
                     ctx.get(f.r_data) if ctx.get(f.r_rdy) else None) for f in (ours, ref)]
            seen.append(outs)
            await ctx.tick()

    simulate(m, bench)
    assert all(a == b for a, b in seen)
    assert sum(1 for a, _ in seen if a[1]) > 50 and sum(1 for a, _ in seen if not a[0]) > 0


@pytest.mark.parametrize("width", [1, 5, 8, 9, 16, 17, 32])
def test_the_lowest_lane_is_found_at_every_width(width):
    """The serializer's lowest-set-bit search (a priority chain up to 8 lanes, a tree of
    halves above): every single bit, random words, and 0 for none."""
    from amaranth.hdl import Module, Signal
    from amaranth.sim import Simulator

    from snnhw.gateware.serializer import _lowest

    m = Module()
    bits = Signal(width)
    out = _lowest(m, bits, "lowest")
    rng = np.random.default_rng(width)
    words = [0, (1 << width) - 1, *(1 << j for j in range(width)),
             *(int(rng.integers(0, 1 << width)) for _ in range(200))]
    got = []

    async def bench(ctx):
        for w in words:
            ctx.set(bits, w)
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got == [(w & -w).bit_length() - 1 if w else 0 for w in words]
