"""Readout alone: the logits are the sums of the swept values over a sample, the class the
lowest index of the largest, under output stalls; the logits start from zero each sample."""

import numpy as np
import pytest

from snnhw.gateware.plan import LayerPlan
from snnhw.gateware.readout import Readout
from snnhw.gateware.sim import get, simulate
from snnhw.ir.examples import random_network
from snnhw.protocol.streams import pauses


def pack(values, width):
    word = 0
    for lane, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (lane * width)
    return word


def run_readout(plan, samples, out_pattern, seed):
    """``samples[n][t][i]``: the value swept for neuron ``i`` at step ``t``."""
    dut = Readout(plan)
    P, G = plan.lanes, plan.groups
    field, width = (("current", plan.current_width) if plan.readout == "membrane"
                    else ("spikes", plan.spike_bits))
    beats = []

    async def sweep(ctx):
        await ctx.tick().until(~dut.busy)  # the clear after reset
        for sample in samples:
            for step in sample:
                for g in range(G):
                    values = [step[i] if i < plan.n_out else 0
                              for i in range(g * P, g * P + P)]
                    ctx.set(dut.i.payload, {"group": g, "base": g * P, field: pack(values, width)})
                    ctx.set(dut.i.valid, 1)
                    await ctx.tick()
                ctx.set(dut.i.valid, 0)
                await ctx.tick().repeat(3)
            ctx.set(dut.emit, 1)
            await ctx.tick()
            ctx.set(dut.emit, 0)
            await ctx.tick()
            await ctx.tick().until(~dut.busy)

    async def watch(ctx):
        await get(ctx, dut.o, len(samples) * (plan.n_out + 1), pauses(out_pattern, seed), beats)

    simulate(dut, sweep, watch)
    return beats


@pytest.mark.parametrize("readout, lanes, pattern", [
    ("membrane", 1, "none"), ("membrane", 3, "heavy"), ("spikes", 4, "bursty"),
    ("spikes", 7, "light")])
def test_logits_are_sums_and_class_is_first_argmax(readout, lanes, pattern):
    rng = np.random.default_rng(lanes)
    net = random_network(rng, [5, 9], in_bits=2, timesteps=3, spike_bits=2, readout=readout)
    plan = LayerPlan.of(net, 0, lanes)
    if readout == "membrane":
        lim = net.current_bound(0)
        samples = rng.integers(-lim, lim + 1, (3, 3, plan.n_out))
    else:
        samples = rng.integers(0, 3, (3, 3, plan.n_out))  # 2-bit spikes: 3 is left for the tie
    samples[1] = 0            # a tie everywhere: class 0
    samples[2, :, 6] = samples[2, :, 2] = samples[2].max() + 1  # a tie: the lower index wins
    beats = run_readout(plan, samples.tolist(), pattern, lanes)
    per = plan.n_out + 1
    for n in range(3):
        got = beats[n * per:(n + 1) * per]
        logits = samples[n].sum(axis=0)
        assert [int(b.value) for b in got[:-1]] == logits.tolist()
        assert [int(b.is_class) for b in got] == [0] * plan.n_out + [1]
        assert [int(b.last) for b in got] == [0] * plan.n_out + [1]
        assert int(got[-1].value) == int(np.argmax(logits))
    assert int(beats[2 * per - 1].value) == 0
    assert int(beats[3 * per - 1].value) == 2


def test_only_the_readout_has_a_readout():
    net = random_network(np.random.default_rng(0), [3, 4, 2])
    with pytest.raises(ValueError, match="layer 0 is not the readout"):
        Readout(LayerPlan.of(net, 0, 1))
