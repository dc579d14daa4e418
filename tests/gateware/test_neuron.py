"""NeuronLane against the naive per-neuron rule, on edge and random values."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from snnhw.gateware.neuron import NeuronLane
from snnhw.golden.naive import neuron_step
from snnhw.ir import DenseLayer

CASES = [
    dict(u_bits=8, k=2, fire_offset=1, spike_bits=2, leak_shift=None, reset="soft"),
    dict(u_bits=8, k=0, fire_offset=0, spike_bits=1, leak_shift=1, reset="hard"),
    dict(u_bits=12, k=5, fire_offset=15, spike_bits=3, leak_shift=3, reset="soft"),
    dict(u_bits=16, k=14, fire_offset=(1 << 13) - 1, spike_bits=8, leak_shift=16, reset="hard"),
    dict(u_bits=32, k=10, fire_offset=0, spike_bits=4, leak_shift=7, reset="soft"),
]


@pytest.mark.parametrize("cfg", CASES)
def test_lane_matches_spec(cfg):
    current_width = cfg["u_bits"] + 4
    layer = DenseLayer(W=np.zeros((1, 1), np.int64), b=np.zeros(1, np.int64), w_bits=8, **cfg)
    dut = NeuronLane(current_width=current_width, **cfg)
    rng = np.random.default_rng(cfg["u_bits"])
    u_lo, u_hi = -(1 << (cfg["u_bits"] - 1)), (1 << (cfg["u_bits"] - 1)) - 1
    c_lo, c_hi = -(1 << (current_width - 1)), (1 << (current_width - 1)) - 1
    theta = 1 << cfg["k"]
    edges_u = [0, 1, -1, u_lo, u_hi, u_lo + 1, u_hi - 1, theta, -theta, theta // 2, -5]
    edges_c = [0, 1, -1, c_lo, c_hi, theta // 2 - 1, theta // 2, theta // 2 + 1, theta]
    cases = [(u, c, 0) for u in edges_u for c in edges_c]
    cases += [(int(u), int(c), int(last)) for u, c, last in zip(
        rng.integers(u_lo, u_hi + 1, 400), rng.integers(c_lo, c_hi + 1, 400),
        rng.integers(0, 2, 400))]
    cases += [(int(u), int(c), 0) for u, c in zip(
        rng.integers(-4 * theta, 4 * theta, 400).clip(u_lo, u_hi),
        rng.integers(-4 * theta, 4 * theta, 400))]
    bad = []

    async def tb(ctx):
        # one case a cycle; the answer to case i appears LATENCY cycles later
        lat = NeuronLane.LATENCY
        for i in range(len(cases) + lat):
            if i < len(cases):
                u, c, last = cases[i]
                ctx.set(dut.u, u)
                ctx.set(dut.current, c)
                ctx.set(dut.last_step, last)
            if i >= lat:
                u, c, last = cases[i - lat]
                got = (ctx.get(dut.v), ctx.get(dut.s), ctx.get(dut.u_next))
                want = neuron_step(layer, u, c, bool(last))
                if got != want:
                    bad.append((u, c, last, got, want))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
    assert bad == []
    assert len(cases) > 800


@pytest.mark.parametrize("kw, text", [
    (dict(u_bits=7), "u_bits must be in 8..32"),
    (dict(k=7), "k must be in 0..6"),
    (dict(fire_offset=4), "fire_offset must be in 0..3"),
    (dict(reset="zero"), "reset must be 'soft' or 'hard'"),
])
def test_bad_parameters(kw, text):
    args = dict(u_bits=8, current_width=10, k=2, fire_offset=0, spike_bits=1, leak_shift=None,
                reset="soft")
    args.update(kw)
    with pytest.raises(ValueError, match=text):
        NeuronLane(**args)
