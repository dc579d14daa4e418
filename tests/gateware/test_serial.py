"""The layer-serial core against the golden model, bit for bit, in the Amaranth simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.gateware.plan import DesignError
from snnhw.gateware.serial import SerialCore, SerialPlan
from snnhw.gateware.sim import run_network
from snnhw.ir.examples import random_conv_network, random_input, random_network, with_widths

from .test_conv import conv_net


def _check(net, lanes, batch=3, seed=0, **pauses):
    x = random_input(np.random.default_rng(seed), net, batch)
    run = run_network(SerialCore(net, lanes=lanes), x, **pauses)
    g = golden.run(net, x)
    assert np.array_equal(run.logits, g.logits)
    assert np.array_equal(run.classes, g.classes)
    return run


@pytest.mark.parametrize("lanes", [1, 3, 4])
@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_serial_core_equals_golden(lanes, readout):
    net = random_network(np.random.default_rng(lanes), [12, 9, 7, 5], in_bits=3,
                         timesteps=3, readout=readout, spike_bits=2)
    _check(net, lanes)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4),
       lanes=st.integers(1, 5), readout=st.sampled_from(["membrane", "spikes"]),
       spike_bits=st.integers(1, 3), in_bits=st.integers(1, 8), w_bits=st.integers(2, 8),
       leak=st.sampled_from([None, 1, 3]), reset=st.sampled_from(["soft", "hard"]),
       pauses=st.sampled_from(["none", "light", "alternate", "bursty", "heavy"]))
def test_serial_core_equals_golden_on_drawn_networks(seed, sizes, lanes, readout, spike_bits,
                                                     in_bits, w_bits, leak, reset, pauses):
    """Products over the weight's bits where they are fewer than the value's."""
    net = random_network(np.random.default_rng(seed), sizes, in_bits=in_bits, timesteps=3,
                         readout=readout, spike_bits=spike_bits, leak_shift=leak, reset=reset,
                         w_bits=w_bits)
    _check(net, lanes, seed=seed, in_pauses=pauses, out_pauses=pauses)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), one_d=st.booleans(), lanes=st.integers(1, 5),
       spike_bits=st.integers(1, 3), leak=st.none() | st.integers(1, 4),
       reset=st.sampled_from(["soft", "hard"]), readout=st.sampled_from(["membrane", "spikes"]),
       pauses=st.sampled_from(["none", "light", "alternate", "bursty", "heavy"]))
def test_serial_core_equals_golden_on_drawn_conv_networks(seed, one_d, lanes, spike_bits, leak,
                                                          reset, readout, pauses):
    """One or two conv layers (strides, padding, 1-D and 2-D maps, odd channel counts),
    then a dense readout: the window walk, the keys passed between layers and the
    channel groups' biases."""
    rng = np.random.default_rng(seed)
    net = conv_net(rng, one_d, in_bits=int(rng.integers(1, 5)),
                   timesteps=int(rng.integers(1, 4)), spike_bits=spike_bits, leak_shift=leak,
                   reset=reset, readout=readout, u_bits=int(rng.integers(10, 17)),
                   weight_scale=float(rng.uniform(0.3, 1.0)))
    _check(net, lanes, batch=2, seed=seed % 1000, in_pauses=pauses, out_pauses=pauses)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), depth=st.integers(1, 3), lanes=st.integers(1, 5),
       readout=st.sampled_from(["membrane", "spikes"]), spike_bits=st.integers(1, 3),
       in_bits=st.integers(1, 4), leak=st.sampled_from([None, 1, 3]),
       reset=st.sampled_from(["soft", "hard"]), data=st.data(),
       pauses=st.sampled_from(["none", "light", "alternate", "bursty", "heavy"]))
def test_serial_core_equals_golden_on_drawn_recurrent_networks(seed, depth, lanes, readout,
                                                               spike_bits, in_bits, leak,
                                                               reset, data, pauses):
    """A recurrent layer's spikes of a step replayed into it in the next (any firing
    layer, the first and a spike readout's last too), wider than its input events or not."""
    rng = np.random.default_rng(seed)
    firing = depth if readout == "spikes" else depth - 1
    recurrent = tuple(i for i in range(firing) if data.draw(st.booleans()))
    net = random_network(rng, rng.integers(1, 10, depth + 1).tolist(), in_bits=in_bits,
                         timesteps=int(rng.integers(1, 6)), readout=readout,
                         spike_bits=spike_bits, leak_shift=leak, reset=reset,
                         weight_scale=float(rng.uniform(0.2, 1.0)), recurrent=recurrent)
    _check(net, lanes, batch=2, seed=seed, in_pauses=pauses, out_pauses=pauses)


def test_serial_core_recurrence_matters_and_survives_a_clear():
    """The feedback changes the logits (a net without it computes others), a sample with
    no input events in a step still replays the step before, and a clear in the middle of
    a sample leaves no replay entry behind."""
    from snnhw.ir import DenseLayer
    from snnhw.protocol.streams import encode_sample

    rng = np.random.default_rng(31)
    net = random_network(rng, [5, 7, 4], recurrent=(0,), spike_bits=2, timesteps=5,
                         in_bits=2, reset="hard", leak_shift=2, weight_scale=0.6)
    x = random_input(rng, net, 3, density=0.6)
    x[:, 1] = 0          # a step of no input events: only the replay drives layer 0
    plain = net.replace(layers=[DenseLayer(W=ly.W, b=ly.b, **ly._neuron_scalars())
                                for ly in net.layers])
    assert golden.run(plain, x).logits.tolist() != golden.run(net, x).logits.tolist()
    g = golden.run(net, x)
    for lanes in (1, 3):
        run = run_network(SerialCore(net, lanes=lanes), x, in_pauses="light")
        assert run.logits == g.logits.tolist()
    cut = len(encode_sample(x[0])) // 2
    run = run_network(SerialCore(net, lanes=2), x, clear_after=cut)
    assert run.logits == g.logits.tolist()


def test_serial_core_conv_then_recurrent():
    """conv -> recurrent dense -> dense: a replayed entry's lanes are its own neurons
    (one apart), not the conv layer's stride."""
    from snnhw.ir import RecurrentLayer

    base = random_conv_network(np.random.default_rng(3), (2, 1, 12),
                               [(5, (1, 3), (1, 1), (0, 1))], [6, 4], timesteps=3)
    hidden = base.layers[1]
    R = np.clip(np.random.default_rng(4).integers(-20, 20, (6, 6)), -31, 31)
    rec = RecurrentLayer(W=hidden.W, b=hidden.b, R=R, **hidden._neuron_scalars())
    net = base.replace(layers=[base.layers[0], rec, base.layers[2]])
    for lanes in (1, 2, 4):
        _check(net, lanes, batch=2)


def test_serial_core_conv_then_two_dense_layers():
    """conv -> conv -> dense -> dense: a hidden dense layer fed by a conv layer's keys."""
    net = random_conv_network(np.random.default_rng(3), (2, 1, 12),
                              [(5, (1, 3), (1, 1), (0, 1)), (3, (1, 4), (1, 2), (0, 0))],
                              [6, 4], timesteps=2)
    for lanes in (1, 2, 4):
        _check(net, lanes, batch=2)


def test_serial_core_with_a_width_per_layer():
    """Layers of different weight widths (an 8-bit first layer, narrower ones after it,
    as QAT exports them): the one weight memory is as wide as the widest, each layer's
    weights sign-extended into it."""
    conv = random_conv_network(np.random.default_rng(3), (1, 1, 12),
                               [(4, (1, 5), (1, 1), (0, 2)), (3, (1, 3), (1, 2), (0, 1))],
                               [5], timesteps=2, w_bits=8)
    dense = random_network(np.random.default_rng(3), [10, 9, 7, 5], in_bits=4, timesteps=3,
                           w_bits=8)
    for net, widths in ((conv, [8, 4, 3]), (dense, [8, 4, 2])):
        net = with_widths(net, widths)
        assert [ly.w_bits for ly in net.layers] == widths
        for lanes in (1, 3):
            run = _check(net, lanes, batch=3)
            assert len({tuple(r) for r in run.logits}) == 3     # the inputs matter


def test_serial_core_refuses_a_conv_layer_after_a_dense_layer():
    from snnhw.ir import ConvLayer, Network

    conv = random_conv_network(np.random.default_rng(0), (1, 4, 4),
                               [(2, (3, 3), (1, 1), (0, 0))], [3])
    dense = random_network(np.random.default_rng(0), [5, 16, 3])
    c = conv.layers[0]
    layer = ConvLayer(**{**c.__dict__, "in_shape": (1, 4, 4)})
    net = Network(layers=[dense.layers[0], layer, conv.layers[1]], in_bits=conv.in_bits,
                  timesteps=2, readout="membrane", name="dense-conv")
    with pytest.raises(DesignError, match="conv layer after a dense layer"):
        SerialCore(net, lanes=2)


def _keys_reached(plan):
    """Every key the sweeps hand on (the plan's steps replayed) plus its lanes' offsets."""
    out = []
    for i, w in enumerate(plan.walks[:-1]):
        key = 0
        for g in range(w.groups):
            out.append(key + (plan.lanes - 1) * plan.stride_in[i + 1])
            key += plan.key_wrap[i] if g % w.positions == w.positions - 1 else plan.key_pos[i]
    return out


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), one_d=st.booleans(), lanes=st.integers(1, 5),
       channels=st.integers(1, 40))
def test_the_keys_fit_their_field(seed, one_d, lanes, channels):
    """The entry's key field holds every key a layer hands on (16 channel groups of 12
    positions at one lane once overflowed a field sized for the groups alone)."""
    rng = np.random.default_rng(seed)
    net = conv_net(rng, one_d)
    c = net.layers[0]
    wide = random_conv_network(rng, c.in_shape, [(channels, c.kernel, c.stride, c.padding)],
                               [3])
    for n in (net, wide):
        plan = SerialPlan(n, lanes)
        assert max(_keys_reached(plan), default=0) < 1 << plan.key_bits


def test_serial_core_with_many_channel_groups():
    """16 channels at one lane: 16 channel groups of 12 positions, keys up to 191."""
    net = random_conv_network(np.random.default_rng(1), (1, 1, 12),
                              [(16, (1, 5), (1, 1), (0, 2))], [4], timesteps=2)
    _check(net, 1, batch=2)
