"""Whole networks in the Amaranth simulator against the golden model, bit for bit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.gateware import SNNCore, cycles
from snnhw.gateware.sim import StandInPlatform, run_network
from snnhw.ir import DenseLayer
from snnhw.ir.examples import random_input, random_network, with_widths
from snnhw.protocol.streams import PAUSE_PATTERNS, encode_sample


def check(net, x, lanes, **kw):
    g = golden.run(net, x)
    r = run_network(SNNCore(net, lanes=lanes), x, **kw)
    assert r.logits == g.logits.tolist()
    assert r.classes == g.classes.tolist()
    return r, g


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3),
       spike_bits=st.integers(1, 4), leak=st.none() | st.integers(1, 5),
       reset=st.sampled_from(["soft", "hard"]), readout=st.sampled_from(["membrane", "spikes"]),
       w_bits=st.integers(2, 10), u_bits=st.integers(8, 18), lanes=st.integers(1, 9),
       in_p=st.sampled_from(PAUSE_PATTERNS), out_p=st.sampled_from(PAUSE_PATTERNS))
def test_random_networks_with_stalls(seed, depth, spike_bits, leak, reset, readout, w_bits,
                                     u_bits, lanes, in_p, out_p):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 15, depth + 1).tolist()
    net = random_network(rng, sizes, in_bits=int(rng.integers(1, 6)),
                         timesteps=int(rng.integers(1, 5)), spike_bits=spike_bits,
                         leak_shift=leak, reset=reset, readout=readout, w_bits=w_bits,
                         u_bits=u_bits, weight_scale=float(rng.uniform(0.1, 1.0)))
    x = random_input(rng, net, 3, density=float(rng.uniform(0.2, 1.0)))
    check(net, x, lanes, in_pauses=in_p, out_pauses=out_p, seed=seed % 1000)


@pytest.mark.parametrize("lanes", [1, 4])
def test_a_width_per_layer(lanes):
    """Layers of different weight widths (an 8-bit first layer, narrower ones after it,
    as QAT exports them): each layer's synapse array at its own width."""
    net = with_widths(random_network(np.random.default_rng(3), [10, 9, 7, 5], in_bits=4,
                                     timesteps=3, w_bits=8), [8, 4, 2])
    _, g = check(net, random_input(np.random.default_rng(0), net, 3), lanes)
    assert len({tuple(r) for r in g.logits.tolist()}) == 3       # the inputs matter


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3), data=st.data(),
       spike_bits=st.integers(1, 4), leak=st.none() | st.integers(1, 5),
       reset=st.sampled_from(["soft", "hard"]), lanes=st.integers(1, 6),
       in_p=st.sampled_from(PAUSE_PATTERNS), out_p=st.sampled_from(PAUSE_PATTERNS))
def test_recurrent_networks_with_stalls(seed, depth, data, spike_bits, leak, reset, lanes,
                                        in_p, out_p):
    # docs/arithmetic.md "Recurrence": every firing layer may be recurrent (a spike readout's
    # last layer too); the replayed spikes may be wider than the layer's input events
    readout = data.draw(st.sampled_from(["membrane", "spikes"]))
    firing = depth if readout == "spikes" else depth - 1
    recurrent = tuple(i for i in range(firing) if data.draw(st.booleans()))
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, depth + 1).tolist()
    net = random_network(rng, sizes, in_bits=int(rng.integers(1, 4)),
                         timesteps=int(rng.integers(1, 6)), spike_bits=spike_bits,
                         leak_shift=leak, reset=reset, readout=readout,
                         weight_scale=float(rng.uniform(0.2, 1.0)), recurrent=recurrent)
    x = random_input(rng, net, 2, density=float(rng.uniform(0.2, 1.0)))
    check(net, x, lanes, in_pauses=in_p, out_pauses=out_p, seed=seed % 1000)


def test_recurrence_changes_the_result_and_is_replayed_exactly():
    # a recurrent layer whose feedback matters (the same net without R computes other
    # logits), through a clear in the middle of a sample, under heavy stalls
    rng = np.random.default_rng(21)
    net = random_network(rng, [6, 10, 5], in_bits=2, timesteps=6, spike_bits=3,
                         recurrent=(0, 1), readout="spikes", weight_scale=0.6)
    x = random_input(rng, net, 3, density=0.5)
    plain = net.replace(layers=[DenseLayer(W=ly.W, b=ly.b, **ly._neuron_scalars())
                                for ly in net.layers])
    assert golden.run(plain, x).logits.tolist() != golden.run(net, x).logits.tolist()
    check(net, x, 3, in_pauses="heavy", out_pauses="heavy")
    first = len(encode_sample(x[0]))
    check(net, x, 4, clear_after=first // 2, in_pauses="light")


def test_lanes_not_dividing_and_per_layer_lanes():
    rng = np.random.default_rng(11)
    net = random_network(rng, [10, 13, 7, 5], in_bits=3, timesteps=3, spike_bits=2)
    x = random_input(rng, net, 4)
    check(net, x, [4, 3, 2], in_pauses="light", out_pauses="bursty")
    check(net, x, 6)


def test_saturating_membranes():
    rng = np.random.default_rng(5)
    net = random_network(rng, [16, 12, 10], in_bits=4, timesteps=4, spike_bits=2, u_bits=9,
                         weight_scale=1.0)
    x = random_input(rng, net, 3)
    t = golden.run(net, x, trace=True)
    lim = 1 << 8
    assert (t.layers[0].v == lim - 1).any() and (t.layers[0].v == -lim).any()
    check(net, x, 4, in_pauses="heavy", out_pauses="light")


def test_all_zero_sample_costs_no_synapse_cycles():
    rng = np.random.default_rng(2)
    net = random_network(rng, [8, 6, 4], in_bits=3, timesteps=3)
    x = np.zeros((2, 3, 8), np.int64)
    r, _ = check(net, x, 2)
    assert r.synapse_cycles[0] == 0
    ev = cycles.events_per_step(net, x)
    assert r.synapse_cycles[1] == cycles.ideal_cycles(net, 2, ev) - 0  # only layer 1's events
    assert r.synapse_cycles[1] == int(ev[:, 1].sum()) * 2  # ceil(4 / 2) groups


def test_clear_in_the_middle_of_a_sample_leaves_nothing_behind():
    rng = np.random.default_rng(8)
    net = random_network(rng, [9, 11, 6], in_bits=3, timesteps=4, spike_bits=2,
                         readout="spikes")
    x = random_input(rng, net, 3)
    first = len(encode_sample(x[0]))   # cut inside the first sample: nothing may come out of it
    for cut in (1, 3, first // 2, first - 1):
        check(net, x, 3, clear_after=cut, in_pauses="light")


def test_bad_lanes():
    net = random_network(np.random.default_rng(0), [3, 2], timesteps=1)
    with pytest.raises(ValueError, match="lanes must be a positive integer or 1 of them"):
        SNNCore(net, lanes=[1, 2])
    with pytest.raises(ValueError, match="lanes must be a positive integer"):
        SNNCore(net, lanes=0)


def test_banked_lut_ram_state_on_ecp5():
    """On ECP5, neuron-state memories deeper than 64 words are banks of LUT RAM picked
    after their read registers (gateware.lutram): accumulators, membranes and the bias
    ROM of a 75-group dense layer and of a 70-position conv layer, bit-exact."""
    from snnhw.families import ECP5
    from snnhw.gateware.lutram import LUTRAM_BANK_WORDS
    from snnhw.gateware.weights import builds_rom
    from snnhw.ir.examples import random_conv_network

    # (weights small enough for soft logic: the simulator has no model of a DP16KD)
    rng = np.random.default_rng(12)
    dense = random_network(rng, [2, 150, 4], in_bits=3, timesteps=3, spike_bits=2, w_bits=2)
    conv = random_conv_network(rng, (1, 1, 70), [(2, (1, 3), (1, 1), (0, 1))], [5],
                               in_bits=3, timesteps=2, spike_bits=2, w_bits=2)
    for net, lanes in ((dense, [2, 4]), (conv, 2)):
        core = SNNCore(net, lanes=lanes)
        assert all(builds_rom(ECP5, lp.memory("weights")) is None for lp in core.plan.layers)
        assert core.plan.layers[0].groups > LUTRAM_BANK_WORDS
        x = random_input(rng, net, 2, density=0.5)
        g = golden.run(net, x)
        r = run_network(core, x, in_pauses="light", out_pauses="bursty",
                        platform=StandInPlatform("ecp5"))
        assert r.logits == g.logits.tolist() and r.classes == g.classes.tolist()

