"""Conv layers in gateware: the window walk, then whole conv networks in the Amaranth
simulator against the golden model, bit for bit, under stalls; their cycle model."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.gateware import SNNCore, cycles
from snnhw.gateware.plan import plan_core
from snnhw.gateware.sim import run_network
from snnhw.gateware.window import ConvWindow
from snnhw.ir import ConvLayer, conv_out_size
from snnhw.ir.examples import random_conv_network, random_input
from snnhw.protocol.streams import PAUSE_PATTERNS
from snnhw.protocol.words import conv_weight_words


@st.composite
def geometries(draw):
    """(in_shape, kernel, stride, padding, C_out): 1-D (H = KH = 1) or 2-D."""
    one_d = draw(st.booleans())
    kh = 1 if one_d else draw(st.integers(1, 4))
    kw = draw(st.integers(1, 5))
    h = 1 if one_d else draw(st.integers(kh, 7))
    w = draw(st.integers(kw, 9))
    stride = (1 if one_d else draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (0 if one_d else draw(st.integers(0, kh - 1)), draw(st.integers(0, kw - 1)))
    return (draw(st.integers(1, 3)), h, w), (kh, kw), stride, padding, draw(st.integers(1, 7))


def unpack(words, lanes, w_bits):
    mask, half = (1 << w_bits) - 1, 1 << (w_bits - 1)
    out = np.array([[(wd >> (lane * w_bits)) & mask for lane in range(lanes)] for wd in words])
    return np.where(out >= half, out - (1 << w_bits), out)


@settings(max_examples=60, deadline=None)
@given(geo=geometries(), lanes=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_the_window_walk_adds_exactly_the_convolution(geo, lanes, seed):
    """Every input's walk, with the weight words it reads, rebuilds the layer's dense
    matrix: each output neuron gets each of its taps once, padded channels nothing."""
    in_shape, kernel, stride, padding, c_out = geo
    rng = np.random.default_rng(seed)
    W = rng.integers(-7, 8, (c_out, in_shape[0], *kernel))
    layer = ConvLayer(W=W, b=np.zeros(c_out, np.int64), in_shape=in_shape, w_bits=4, u_bits=12,
                      k=3, fire_offset=0, spike_bits=1, stride=stride, padding=padding)
    layer.validate()
    win = ConvWindow.of(layer, lanes)
    words = unpack(conv_weight_words(W, lanes, 4), lanes, 4)
    assert len(words) == win.weight_words
    npos = win.positions
    M = np.zeros((win.channel_groups * lanes * npos, layer.n_in), np.int64)
    for j in range(layer.n_in):
        walk = win.visits(j)
        assert len(walk) == win.table()["visits"][j] <= win.max_visits
        assert len({a for _, a in walk}) == len(walk)        # each group once per event
        for w_addr, a_addr in walk:
            gc, pos = divmod(a_addr, npos)
            for lane in range(lanes):
                M[(gc * lanes + lane) * npos + pos, j] += words[w_addr, lane]
    assert np.array_equal(M[:layer.n_out], layer.dense_matrix())
    assert not M[layer.n_out:].any()


def conv_net(rng, one_d: bool, **kw):
    """One or two conv layers (strides, padding, odd channel counts), then dense."""
    if one_d:
        in_shape = (int(rng.integers(1, 3)), 1, int(rng.integers(6, 14)))
        convs = [(int(rng.integers(1, 7)), (1, int(rng.integers(1, 5))),
                  (1, int(rng.integers(1, 3))), (0, int(rng.integers(0, 2))))]
    else:
        in_shape = (int(rng.integers(1, 3)), int(rng.integers(3, 7)), int(rng.integers(3, 7)))
        convs = [(int(rng.integers(1, 7)), (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  (int(rng.integers(1, 3)), int(rng.integers(1, 3))),
                  (int(rng.integers(0, 2)), int(rng.integers(0, 2))))]
    _, kernel, stride, pad = convs[0]
    oh = conv_out_size(in_shape[1], kernel[0], stride[0], pad[0])
    ow = conv_out_size(in_shape[2], kernel[1], stride[1], pad[1])
    if rng.random() < 0.5:                     # a second conv on the first's map
        convs.append((int(rng.integers(1, 5)), (min(2, oh), min(3, ow + 2)), (1, 1), (0, 1)))
    return random_conv_network(rng, in_shape, convs, [int(rng.integers(2, 8))], **kw)


def check(net, x, lanes, **kw):
    g = golden.run(net, x)
    r = run_network(SNNCore(net, lanes=lanes), x, **kw)
    assert r.logits == g.logits.tolist()
    assert r.classes == g.classes.tolist()
    return r


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), one_d=st.booleans(), lanes=st.integers(1, 5),
       spike_bits=st.integers(1, 3), leak=st.none() | st.integers(1, 4),
       reset=st.sampled_from(["soft", "hard"]), readout=st.sampled_from(["membrane", "spikes"]),
       in_p=st.sampled_from(PAUSE_PATTERNS), out_p=st.sampled_from(PAUSE_PATTERNS))
def test_random_conv_networks_with_stalls(seed, one_d, lanes, spike_bits, leak, reset, readout,
                                          in_p, out_p):
    rng = np.random.default_rng(seed)
    net = conv_net(rng, one_d, in_bits=int(rng.integers(1, 5)),
                   timesteps=int(rng.integers(1, 4)), spike_bits=spike_bits, leak_shift=leak,
                   reset=reset, readout=readout, u_bits=int(rng.integers(10, 17)),
                   weight_scale=float(rng.uniform(0.3, 1.0)))
    x = random_input(rng, net, 2, density=float(rng.uniform(0.2, 1.0)))
    check(net, x, lanes, in_pauses=in_p, out_pauses=out_p, seed=seed % 1000)


def test_per_layer_lanes_and_a_clear_mid_sample():
    rng = np.random.default_rng(4)
    net = random_conv_network(rng, (2, 5, 6), [(5, (3, 3), (1, 2), (1, 1)),
                                               (3, (2, 3), (2, 1), (0, 1))], [7],
                              in_bits=3, timesteps=3, spike_bits=2, reset="hard")
    x = random_input(rng, net, 3, density=0.6)
    check(net, x, [2, 3, 4], in_pauses="bursty", out_pauses="light")
    check(net, x, 4, clear_after=7, in_pauses="light")


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), one_d=st.booleans(), lanes=st.integers(1, 6))
def test_conv_cycles_within_bound_and_synapse_work_exact(seed, one_d, lanes):
    rng = np.random.default_rng(seed)
    net = conv_net(rng, one_d, in_bits=3, timesteps=int(rng.integers(1, 4)), spike_bits=2)
    x = random_input(rng, net, 1, density=float(rng.uniform(0, 1)))
    r = run_network(SNNCore(net, lanes=lanes), x)
    ev = cycles.events_per_step(net, x)
    walk = cycles.walk_cycles(net, lanes, x)
    assert r.synapse_cycles == walk[0].sum(axis=1).tolist()       # exactly the windows
    bound = cycles.sample_bound(net, lanes, ev[0], after_reset=True, walk=walk[0])
    assert r.cycles <= bound <= cycles.sample_bound(net, lanes, ev[0], after_reset=True)


def test_zero_spikes_and_inputs_outside_every_window_cost_nothing():
    # stride 3 over a kernel of 2: every third column reaches no output
    rng = np.random.default_rng(6)
    net = random_conv_network(rng, (1, 1, 12), [(3, (1, 2), (1, 3), (0, 0))], [4],
                              in_bits=2, timesteps=2)
    lp = plan_core(net, 2).layers[0]
    visits = lp.window.table()["visits"]
    assert (visits == 0).sum() == 4 and lp.max_walk == 2     # 1 position x 2 channel groups
    x = np.zeros((1, 2, 12), np.int64)
    x[0, :, visits == 0] = 3
    r = check(net, x, 2)
    assert r.synapse_cycles[0] == 0
    assert r.synapse_cycles[0] == cycles.walk_cycles(net, 2, x)[0, 0].sum()


def test_conv_plan_memories():
    rng = np.random.default_rng(0)
    net = random_conv_network(rng, (3, 6, 5), [(10, (3, 2), (2, 1), (1, 0))], [4])
    lp = plan_core(net, 4).layers[0]
    c_out, oh, ow = net.layers[0].out_shape
    assert (oh, ow) == (3, 4)
    gc = math.ceil(c_out / 4)
    mem = {m.role: m for m in lp.memories}
    assert mem["weights"].depth == gc * 3 * 3 * 2 and mem["weights"].width == 4 * 6
    assert mem["accumulators"].depth == mem["membranes"].depth == lp.groups == gc * oh * ow
    assert mem["bias"].depth == gc and mem["event_table"].depth == 3 * 6 * 5
    assert lp.lane_stride == oh * ow and lp.max_walk == 2 * 2 * gc


def test_a_conv_readout_is_refused():
    from snnhw.gateware.plan import unsupported

    net = random_conv_network(np.random.default_rng(0), (1, 4, 4),
                              [(2, (3, 3), (1, 1), (1, 1))], [])
    assert unsupported(net).startswith("the last layer (the readout) is a conv layer")
    with pytest.raises(ValueError, match="the last layer"):
        plan_core(net, 1)
