"""Recurrence (docs/arithmetic.md, "Recurrence"): hand-computed traces, then the golden
model against the naive loop on every layer's ``I, v, s, u``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.ir import DenseLayer, IRKindError, IRShapeError, Network, RecurrentLayer, dumps, loads
from snnhw.ir.examples import random_input, random_network

from .test_golden import assert_same_as_naive


def rec(w, r, b=0, *, k=2, spike_bits=1, reset="soft", leak_shift=None, u_bits=8,
        fire_offset=0):
    """A recurrent layer of ``len(r)`` neurons reading one input with weights ``w``."""
    n = len(r)
    return RecurrentLayer(W=np.array(w).reshape(n, -1), R=np.array(r), b=np.full(n, b),
                          w_bits=8, u_bits=u_bits, k=k, fire_offset=fire_offset,
                          spike_bits=spike_bits, leak_shift=leak_shift, reset=reset)


def traces(net, inputs):
    x = np.array(inputs, dtype=np.int64).reshape(1, net.timesteps, net.n_in)
    t = golden.run(net, x, trace=True)
    return [{key: getattr(lt, key)[0].tolist() for key in "Ivsu"} for lt in t.layers], t


def test_self_excitation_keeps_firing_after_the_input_stops():
    # one neuron, theta 4, R = +4: a spike at t=0 recharges it by 4 every step after
    net = Network(layers=[rec([[4]], [[4]])], in_bits=1, timesteps=4, readout="spikes")
    (lt,), t = traces(net, [1, 0, 0, 0])
    assert lt["I"] == [[4], [4], [4], [4]]
    assert lt["v"] == [[4], [4], [4], [4]]
    assert lt["s"] == [[1], [1], [1], [1]]
    assert lt["u"] == [[0], [0], [0], [0]]
    assert t.logits.tolist() == [[4]]


def test_inhibition_between_two_neurons():
    # both read the input with 4; neuron 1 inhibits neuron 0 by -6 the step after it fires
    net = Network(layers=[rec([4, 5], [[0, -6], [0, 0]])], in_bits=1, timesteps=3,
                  readout="spikes")
    (lt,), _ = traces(net, [1, 1, 1])
    assert lt["I"] == [[4, 5], [-2, 5], [-2, 5]]
    assert lt["v"] == [[4, 5], [-2, 6], [-4, 7]]
    assert lt["s"] == [[1, 1], [0, 1], [0, 1]]
    assert lt["u"] == [[0, 1], [-2, 2], [-4, 3]]


def test_multi_bit_spikes_are_fed_back_with_their_value():
    # 2-bit spikes, theta 2: v=7 fires 3 (clamped), fed back 3 * R = 3 * 1
    net = Network(layers=[rec([[7]], [[1]], k=1, spike_bits=2)], in_bits=1, timesteps=3,
                  readout="spikes")
    (lt,), _ = traces(net, [1, 0, 0])
    assert lt["I"] == [[7], [3], [2]]
    assert lt["v"] == [[7], [4], [2]]      # u 1 + 3; then u 0 + 2 (s=2 fed back)
    assert lt["s"] == [[3], [2], [1]]
    assert lt["u"] == [[1], [0], [0]]


def test_hard_reset_with_feedback():
    net = Network(layers=[rec([[3]], [[2]], reset="hard")], in_bits=1, timesteps=4,
                  readout="spikes")
    (lt,), _ = traces(net, [1, 1, 0, 0])
    assert lt["I"] == [[3], [3], [2], [0]]
    assert lt["v"] == [[3], [6], [2], [2]]
    assert lt["s"] == [[0], [1], [0], [0]]
    assert lt["u"] == [[3], [0], [2], [2]]


def test_recurrent_layer_followed_by_dense_and_by_another_recurrent_layer():
    first = rec([[4]], [[4]])                   # fires every step after the first input
    second = RecurrentLayer(W=np.array([[2]]), R=np.array([[-3]]), b=np.array([0]), w_bits=8,
                            u_bits=8, k=1, fire_offset=0, spike_bits=1)
    out = DenseLayer(W=np.array([[1], [-1]]), b=np.array([0, 0]), w_bits=8, u_bits=8, k=0,
                     fire_offset=0, spike_bits=1)
    net = Network(layers=[first, second, out], in_bits=1, timesteps=4, readout="membrane")
    lts, t = traces(net, [1, 0, 0, 0])
    assert lts[0]["s"] == [[1], [1], [1], [1]]
    # second: I = 2 s_first + (-3) s_second[t-1]; theta 2
    # (t1: the step-0 spike inhibits; t3: no spike at t2, so no inhibition)
    assert lts[1]["I"] == [[2], [-1], [2], [2]]
    assert lts[1]["v"] == [[2], [-1], [1], [3]]
    assert lts[1]["s"] == [[1], [0], [0], [1]]
    assert t.logits.tolist() == [[2, -2]]


def test_a_recurrent_membrane_readout_is_refused():
    with pytest.raises(IRKindError, match="membrane readout"):
        Network(layers=[rec([[1]], [[1]])], in_bits=1, timesteps=2, readout="membrane")


def test_feedback_must_be_n_out_square():
    with pytest.raises(IRShapeError, match=r"'R' must have shape \(2, 2\)"):
        Network(layers=[rec([1, 1], [[1, 0, 0], [0, 1, 0]])], in_bits=1, timesteps=2,
                readout="spikes")


def test_partial_sum_bound_counts_the_feedback():
    net = Network(layers=[rec([[3], [1]], [[-5, 2], [0, 7]], b=1, spike_bits=2)],
                  in_bits=2, timesteps=2, readout="spikes")
    # neuron 0: |b| 1 + 3 * 3 (input) + (5 + 2) * 3 (feedback) = 31
    assert net.current_bound(0) == 31


def test_round_trip_keeps_the_feedback():
    net = random_network(np.random.default_rng(1), [5, 6, 4, 3], recurrent=(0, 1),
                         readout="spikes")
    back = loads(dumps(net))
    assert back.equals(net)
    assert back.layers[1].R.tolist() == net.layers[1].R.tolist()
    other = random_network(np.random.default_rng(1), [5, 6, 4, 3], recurrent=(0, 1),
                           readout="spikes")
    other.layers[1].R[0, 0] += 1 if other.layers[1].R[0, 0] < 0 else -1
    assert not other.equals(net) and other.content_hash() != net.content_hash()


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("readout", ["spikes", "membrane"])
def test_matches_naive_loop(reset, readout):
    rng = np.random.default_rng(7)
    net = random_network(rng, [6, 5, 4, 3], recurrent=(0, 1), spike_bits=2, leak_shift=3,
                         reset=reset, readout=readout, timesteps=5)
    assert_same_as_naive(net, random_input(rng, net, 4, density=0.6))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3),
       spike_bits=st.integers(1, 4), leak=st.none() | st.integers(1, 6),
       reset=st.sampled_from(["soft", "hard"]), w_bits=st.integers(2, 12),
       u_bits=st.integers(8, 20), data=st.data())
def test_matches_naive_loop_random(seed, depth, spike_bits, leak, reset, w_bits, u_bits, data):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, depth + 1).tolist()
    firing = depth  # spike readout: every layer fires and may be recurrent
    recurrent = tuple(i for i in range(firing) if data.draw(st.booleans()))
    net = random_network(rng, sizes, in_bits=int(rng.integers(1, 6)), timesteps=4,
                         spike_bits=spike_bits, leak_shift=leak, reset=reset, readout="spikes",
                         w_bits=w_bits, u_bits=u_bits, weight_scale=float(rng.uniform(0.1, 1)),
                         recurrent=recurrent)
    assert_same_as_naive(net, random_input(rng, net, 2, density=0.8))
