"""Measured cycles never exceed the documented cycle model; synapse work is exactly ideal."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.gateware import SNNCore, cycles
from snnhw.gateware.sim import run_network
from snnhw.ir.examples import random_input, random_network


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3), lanes=st.integers(1, 8),
       readout=st.sampled_from(["membrane", "spikes"]), recurrent=st.booleans())
def test_one_sample_within_bound(seed, depth, lanes, readout, recurrent):
    # a recurrent layer's replayed spikes are events like any other: E * G synapse cycles
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 20, depth + 1).tolist()
    firing = depth if readout == "spikes" else depth - 1
    net = random_network(rng, sizes, in_bits=3, timesteps=int(rng.integers(1, 6)),
                         spike_bits=2, readout=readout,
                         recurrent=tuple(range(firing)) if recurrent else ())
    x = random_input(rng, net, 1, density=float(rng.uniform(0, 1)))
    r = run_network(SNNCore(net, lanes=lanes), x)
    ev = cycles.events_per_step(net, x)
    assert r.cycles <= cycles.sample_bound(net, lanes, ev[0], after_reset=True)
    assert sum(r.synapse_cycles) == cycles.ideal_cycles(net, lanes, ev)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lanes=st.sampled_from([16, 32]))
def test_wide_lanes_within_bound(seed, lanes):
    """Above eight lanes the serializer counts a word's lanes in two stages (a push
    register more, a cycle more a link): RTL == golden and within the bound."""
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(8, 40)), int(rng.integers(lanes + 1, 3 * lanes)),
             int(rng.integers(2, 12))]
    net = random_network(rng, sizes, in_bits=3, timesteps=int(rng.integers(1, 4)),
                         spike_bits=2, weight_scale=1.0)
    x = random_input(rng, net, 2, density=float(rng.uniform(0.3, 1)))
    r = run_network(SNNCore(net, lanes=lanes), x)
    g = golden.run(net, x)
    assert r.logits == g.logits.tolist()
    ev = cycles.events_per_step(net, x)
    assert int(ev[:, 1].sum()) > 0, "the hidden layer never fired: a weak test"
    bound = sum(cycles.sample_bound(net, lanes, e, after_reset=True) for e in ev)
    assert r.cycles <= bound


def test_bound_is_close_for_a_single_layer():
    # one layer, no overlap to hide anything: the model should be nearly exact
    rng = np.random.default_rng(1)
    net = random_network(rng, [20, 16], in_bits=3, timesteps=4)
    x = random_input(rng, net, 1, density=0.5)
    r = run_network(SNNCore(net, lanes=4), x)
    ev = cycles.events_per_step(net, x)
    bound = cycles.sample_bound(net, 4, ev[0], after_reset=True)
    # within the per-step link allowance, which the first layer's input barely uses
    assert bound - net.timesteps * cycles.LINK_LATENCY <= r.cycles <= bound


def test_recurrent_bound_is_close_for_a_single_layer():
    rng = np.random.default_rng(0)
    net = random_network(rng, [20, 16], in_bits=3, timesteps=5, recurrent=(0,),
                         readout="spikes")
    x = random_input(rng, net, 1, density=0.5)
    r = run_network(SNNCore(net, lanes=4), x)
    ev = cycles.events_per_step(net, x)
    assert golden_fired(net, x)    # so that there is something to replay
    bound = cycles.sample_bound(net, 4, ev[0], after_reset=True)
    assert bound - net.timesteps * cycles.LINK_LATENCY <= r.cycles <= bound


def golden_fired(net, x) -> bool:
    from snnhw import golden

    return int(golden.run(net, x, trace=True).layers[0].s[:, :-1].sum()) > 0
