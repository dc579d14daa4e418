"""A single LIFLayer: every emitted event (index, value, markers) equals the golden trace."""

import numpy as np
import pytest

from snnhw import golden
from snnhw.gateware.layer import LIFLayer
from snnhw.gateware.sim import get, put, simulate
from snnhw.ir.examples import random_input, random_network
from snnhw.protocol.streams import Event, encode_batch, pauses


def layer_io(net, li, x):
    """Input events of layer li and its expected output events, from the golden model."""
    t = golden.run(net, x, trace=True)
    inp = x if li == 0 else t.layers[li - 1].s
    expected = encode_batch(t.layers[li].s)
    return encode_batch(inp), expected, t


def run_layer(dut, events, n_beats, in_p, out_p, seed):
    got = []

    async def drive(ctx):
        await put(ctx, dut.i, [{"index": e.index, "value": e.value, "eos": e.eos}
                               for e in events], pauses(in_p, seed))

    async def watch(ctx):
        await get(ctx, dut.o, n_beats, pauses(out_p, seed + 7), got)

    simulate(dut, drive, watch)
    return got


@pytest.mark.parametrize("seed, lanes, pattern", [
    (0, 1, ("none", "none")), (1, 3, ("heavy", "light")), (2, 4, ("light", "heavy")),
    (3, 7, ("bursty", "alternate")), (4, 16, ("none", "heavy")),
])
def test_hidden_layer_emits_golden_spike_events(seed, lanes, pattern):
    rng = np.random.default_rng(seed)
    net = random_network(rng, [9, 13, 4], in_bits=3, timesteps=4, spike_bits=3,
                         leak_shift=[None, 2][seed % 2], reset=["soft", "hard"][seed % 2])
    x = random_input(rng, net, 3, density=0.7)
    events, expected, _ = layer_io(net, 0, x)
    assert sum(e.value > 0 for e in expected) > 10  # real spikes, several levels
    assert len({e.value for e in expected}) >= 3
    got = run_layer(LIFLayer(net, 0, lanes=lanes), events, len(expected), *pattern, seed)
    assert [Event(int(b.index), int(b.value), int(b.eos)) if not b.eos else Event(0, 0, 1)
            for b in got] == expected


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
@pytest.mark.parametrize("lanes", [1, 3, 5])
def test_readout_emits_logits_then_class(readout, lanes):
    rng = np.random.default_rng(lanes)
    net = random_network(rng, [6, 5], in_bits=4, timesteps=3, spike_bits=2, readout=readout)
    x = random_input(rng, net, 4)
    events, _, t = layer_io(net, 0, x)
    got = run_layer(LIFLayer(net, 0, lanes=lanes), events, 4 * 6, "light", "heavy", lanes)
    for n in range(4):
        beats = got[n * 6:(n + 1) * 6]
        assert [int(b.value) for b in beats[:5]] == t.logits[n].tolist()
        assert [int(b.is_class) for b in beats] == [0] * 5 + [1]
        assert [int(b.last) for b in beats] == [0] * 5 + [1]
        assert int(beats[5].value) == int(t.classes[n])


def test_zero_valued_events_are_dropped_without_synapse_cycles():
    rng = np.random.default_rng(0)
    net = random_network(rng, [4, 6, 3], in_bits=2, timesteps=2)
    dut = LIFLayer(net, 0, lanes=2)
    zeros = [Event(j, 0) for j in range(4)] + [Event(0, 0, 1)]
    # biases alone may fire: the output must still be the golden model's for zero input
    t = golden.run(net, np.zeros((1, 2, 4), np.int64), trace=True)
    expected = encode_batch(t.layers[0].s)
    active = [0]
    got = []

    async def drive(ctx):
        await put(ctx, dut.i, [{"index": e.index, "value": e.value, "eos": e.eos}
                               for e in zeros * 2], pauses("none"))

    async def watch(ctx):
        await get(ctx, dut.o, len(expected), pauses("none"), got)

    async def count(ctx):
        while True:
            await ctx.tick()
            active[0] += ctx.get(dut.syn.active)

    simulate(dut, drive, watch, background=[count])
    assert active[0] == 0
    assert [Event(int(b.index), int(b.value), 0) if not b.eos else Event(0, 0, 1)
            for b in got] == expected
