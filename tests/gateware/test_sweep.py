"""NeuronSweep alone: every swept group's spikes (or charge) and the membranes it keeps
equal the scalar reference (snnhw.golden.naive.neuron_step), step after step."""

import numpy as np
import pytest

from snnhw.gateware.plan import SWEEP_STAGES, LayerPlan
from snnhw.gateware.sim import simulate
from snnhw.gateware.sweep import NeuronSweep
from snnhw.golden.naive import neuron_step
from snnhw.ir.examples import random_network


def run_sweep(net, index, lanes, charges, gaps):
    """Sweep every group for each step; ``charges[t][i]``: the accumulator of neuron ``i``
    handed out on the acc port, for as many samples of ``T`` steps as there are rows.
    ``gaps``: idle cycles between commands (an iterator)."""
    plan = LayerPlan.of(net, index, lanes)
    dut = NeuronSweep(plan, net.layers[index])
    P, G, aw = lanes, plan.groups, plan.acc_width
    steps, T = len(charges), net.timesteps
    results, acc_reads = [], []

    async def issue(ctx):
        for g in range(G):  # after reset: clear every group
            ctx.set(dut.cmd.payload, {"group": g, "base": 0, "last": 0, "clear": 1})
            ctx.set(dut.cmd.valid, 1)
            await ctx.tick()
        ctx.set(dut.cmd.valid, 0)
        for t in range(steps):
            for g in range(G):
                for _ in range(next(gaps)):
                    ctx.set(dut.cmd.valid, 0)
                    await ctx.tick()
                ctx.set(dut.cmd.payload, {"group": g, "base": g * P,
                                          "last": int(t % T == T - 1), "clear": 0})
                ctx.set(dut.cmd.valid, 1)
                await ctx.tick()
            ctx.set(dut.cmd.valid, 0)
            await ctx.tick().until(~dut.busy)

    async def accumulators(ctx):  # the synapse array's side of the acc port: the data
        t = -1                      # AccumulatorPort.LATENCY (2) cycles after the request
        pending = None
        async for _, _, en, addr, clear in ctx.tick().sample(dut.acc.en, dut.acc.addr,
                                                               dut.cmd.payload.clear):
            if pending is not None:
                ctx.set(dut.acc.data, pending)
                pending = None
            if en and not clear:
                g = int(addr)
                if g == 0:
                    t += 1
                acc_reads.append((t, g))
                word = 0
                for lane in range(P):
                    i = g * P + lane
                    value = charges[t][i] if i < net.layers[index].n_out else 0
                    word |= (value & ((1 << aw) - 1)) << (lane * aw)
                pending = word

    async def watch(ctx):
        async for _, _, valid, res in ctx.tick().sample(dut.o.valid, dut.o.payload):
            if valid:
                results.append({k: int(getattr(res, k)) for k in res.shape().members})

    simulate(dut, issue, background=[accumulators, watch])
    return plan, results, acc_reads


def _lanes_of(word, width, lanes, signed=False):
    out = [(word >> (lane * width)) & ((1 << width) - 1) for lane in range(lanes)]
    return [v - (1 << width) if signed and v >> (width - 1) else v for v in out]


@pytest.mark.parametrize("seed, lanes, leak, reset", [
    (0, 1, None, "soft"), (1, 3, 2, "hard"), (2, 4, 1, "soft"), (3, 7, None, "hard")])
def test_hidden_sweep_matches_the_scalar_neuron(seed, lanes, leak, reset):
    rng = np.random.default_rng(seed)
    net = random_network(rng, [6, 11, 3], in_bits=2, timesteps=3, spike_bits=3, u_bits=10,
                         leak_shift=leak, reset=reset)
    layer = net.layers[0]
    lim = net.current_bound(0) - int(np.abs(layer.b).max())
    steps = 2 * net.timesteps  # two samples: the first's last step must leave zeros
    charges = rng.integers(-lim, lim + 1, (steps, layer.n_out)).tolist()
    plan, results, reads = run_sweep(net, 0, lanes, charges, iter(rng.integers(0, 3, 1000)))
    G = plan.groups
    assert reads == [(t, g) for t in range(steps) for g in range(G)]
    assert len(results) == steps * G
    u = [0] * layer.n_out
    fired = 0
    for t in range(steps):
        for g in range(G):
            r = results[t * G + g]
            assert (r["group"], r["base"]) == (g, g * lanes)
            got = _lanes_of(r["spikes"], layer.spike_bits, lanes)
            for lane in range(lanes):
                i = g * lanes + lane
                if i >= layer.n_out:
                    continue
                _, s, u[i] = neuron_step(layer, u[i], charges[t][i] + int(layer.b[i]),
                                         last_step=t % net.timesteps == net.timesteps - 1)
                assert got[lane] == s, (t, i)
                fired += s > 0
    assert fired > 0


def test_membrane_readout_sweep_hands_out_the_charge():
    rng = np.random.default_rng(9)
    net = random_network(rng, [5, 7], in_bits=2, timesteps=2, readout="membrane")
    layer = net.layers[0]
    lim = net.current_bound(0) - int(np.abs(layer.b).max())
    charges = rng.integers(-lim, lim + 1, (2, layer.n_out)).tolist()
    plan, results, _ = run_sweep(net, 0, 3, charges, iter([0] * 100))
    assert plan.readout == "membrane" and not plan.fires
    for t in range(2):
        for g in range(plan.groups):
            got = _lanes_of(results[t * plan.groups + g]["current"], plan.current_width, 3,
                            signed=True)
            for lane in range(3):
                i = g * 3 + lane
                if i < layer.n_out:
                    assert got[lane] == charges[t][i] + int(layer.b[i])


def test_latency_is_sweep_stages():
    rng = np.random.default_rng(1)
    net = random_network(rng, [4, 2], in_bits=2, timesteps=1)
    plan = LayerPlan.of(net, 0, 2)
    dut = NeuronSweep(plan, net.layers[0])
    seen = []

    async def tb(ctx):
        ctx.set(dut.cmd.payload, {"group": 0, "base": 0, "last": 1, "clear": 0})
        ctx.set(dut.cmd.valid, 1)
        await ctx.tick()
        ctx.set(dut.cmd.valid, 0)
        for cycle in range(1, 12):
            if ctx.get(dut.o.valid):
                seen.append(cycle)
            await ctx.tick()

    simulate(dut, tb)
    assert seen == [SWEEP_STAGES]
