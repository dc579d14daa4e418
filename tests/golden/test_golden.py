"""Golden model: each docs/arithmetic.md rule computed by hand, then against the naive reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from snnhw import golden
from snnhw.golden import naive
from snnhw.ir import DenseLayer, Network
from snnhw.ir.examples import random_input, random_network


def single(w, b=0, *, k=2, fire_offset=0, spike_bits=1, leak_shift=None, reset="soft",
           u_bits=8, w_bits=8, in_bits=2, T=4, readout="spikes") -> Network:
    """One input, one neuron, spike readout: every rule is visible in its trace."""
    layer = DenseLayer(W=np.array([[w]]), b=np.array([b]), w_bits=w_bits, u_bits=u_bits, k=k,
                       fire_offset=fire_offset, spike_bits=spike_bits, leak_shift=leak_shift,
                       reset=reset)
    return Network(layers=[layer], in_bits=in_bits, timesteps=T, readout=readout)


def trace_of(net, inputs):
    x = np.array(inputs, dtype=np.int64).reshape(1, net.timesteps, net.n_in)
    t = golden.run(net, x, trace=True)
    lt = t.layers[0]
    return (lt.I[0, :, 0].tolist(), lt.v[0, :, 0].tolist(), lt.s[0, :, 0].tolist(),
            lt.u[0, :, 0].tolist(), t)


def test_leak_is_an_arithmetic_floor_shift_on_negative_membranes():
    # u = -5, L = 2: -5 >> 2 == -2 (floor), so u_l = -3; truncation would give -4.
    net = single(1, b=-5, k=6, leak_shift=2, T=2)
    I, v, s, u, _ = trace_of(net, [0, 0])
    assert I == [-5, -5]
    assert v == [-5, -8]
    assert u == [-5, -8]
    assert s == [0, 0]


def test_leak_on_positive_membrane():
    # u = 13, L = 2: 13 - 3 = 10, then + 13 = 23.
    net = single(1, b=13, k=6, leak_shift=2, T=2)
    _, v, _, _, _ = trace_of(net, [0, 0])
    assert v == [13, 23]


def test_saturation_at_upper_bound_with_exact_charge():
    # u_bits = 8: -128..127. I = 100 * 3 = 300 is kept exact; v saturates to 127.
    net = single(100, k=6, spike_bits=1, T=2)
    I, v, s, u, _ = trace_of(net, [3, 3])
    assert I == [300, 300]
    assert v == [127, 127]         # 63 + 300 saturates again
    assert s == [1, 1]             # (127 + 0) >> 6 = 1
    assert u == [63, 63]           # soft reset: 127 - 64


def test_saturation_at_lower_bound():
    net = single(-100, k=6, T=3)
    I, v, s, u, _ = trace_of(net, [3, 3, 0])
    assert I == [-300, -300, 0]
    assert v == [-128, -128, -128]
    assert s == [0, 0, 0]
    assert u == [-128, -128, -128]


def test_offset_rounds_half_down_at_the_exact_half():
    # theta = 4, fire_offset = 2**(k-1) - 1 = 1: v = 2 is exactly half -> no spike;
    # v = 3 -> 1; multi-bit: v = 6 (1.5 thetas) -> 1, v = 7 -> 2.
    net = single(1, k=2, fire_offset=1, spike_bits=2, in_bits=3, T=1)
    got = {}
    for value in (2, 3, 6, 7):
        _, v, s, u, _ = trace_of(net, [value])
        got[value] = (v[0], s[0], u[0])
    assert got == {2: (2, 0, 2), 3: (3, 1, -1), 6: (6, 1, 2), 7: (7, 2, -1)}


def test_zero_offset_floors():
    net = single(1, k=2, fire_offset=0, spike_bits=2, in_bits=4, T=1)
    assert [trace_of(net, [v])[2][0] for v in (3, 4, 7, 8)] == [0, 1, 1, 2]


def test_spike_clamps_at_s_max_and_soft_reset_removes_only_what_was_sent():
    # v = 100, theta = 4: 25 thetas, but s_max = 3, so u' = 100 - 12 = 88.
    net = single(50, k=2, spike_bits=2, in_bits=2, T=1)
    I, v, s, u, _ = trace_of(net, [2])
    assert (I, v, s, u) == ([100], [100], [3], [88])


def test_negative_membrane_never_spikes():
    net = single(-3, k=0, fire_offset=0, spike_bits=3, T=1)
    assert trace_of(net, [1])[2] == [0]


def test_soft_and_hard_reset():
    soft = single(6, k=2, spike_bits=1, T=2)
    hard = single(6, k=2, spike_bits=1, T=2, reset="hard")
    # soft: v=6 -> s=1, u'=2; v=8 -> s=1, u'=4.  hard: v=6 -> u'=0; v=6 -> u'=0.
    assert trace_of(soft, [1, 1])[1:4] == ([6, 8], [1, 1], [2, 4])
    assert trace_of(hard, [1, 1])[1:4] == ([6, 6], [1, 1], [0, 0])
    # hard reset keeps a sub-threshold membrane.
    hard_low = single(3, k=2, spike_bits=1, T=2, reset="hard")
    assert trace_of(hard_low, [1, 0])[1:4] == ([3, 3], [0, 0], [3, 3])


def test_membrane_readout_is_exact_sum_of_charge_without_saturation():
    net = single(100, k=6, T=4, readout="membrane")
    _, v, s, _, t = trace_of(net, [3, 3, 3, 1])
    assert t.logits.tolist() == [[1000]]   # beyond u_bits=8, not saturated
    assert v == [300, 600, 900, 1000]
    assert s == [0, 0, 0, 0]


def test_spike_readout_counts_spikes():
    net = single(3, k=2, spike_bits=2, T=3)
    # I = 9 each step: v 9 -> s 2, u 1; v 10 -> s 2, u 2; v 11 -> s 2, u 3.
    _, _, s, _, t = trace_of(net, [3, 3, 3])
    assert s == [2, 2, 2]
    assert t.logits.tolist() == [[6]]


def tie_net(b, readout):
    W = np.zeros((len(b), 1), dtype=np.int64)
    layer = DenseLayer(W=W, b=np.array(b), w_bits=4, u_bits=8, k=0, fire_offset=0,
                       spike_bits=8, reset="soft")
    return Network(layers=[layer], in_bits=1, timesteps=2, readout=readout)


@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_ties_go_to_the_lowest_index(readout):
    t = golden.run(tie_net([1, 3, 3, 2], readout), np.zeros((1, 2, 1), np.int64))
    assert t.logits.tolist() == [[2, 6, 6, 4]]
    assert t.classes.tolist() == [1]
    t = golden.run(tie_net([5, 5, 5], readout), np.zeros((1, 2, 1), np.int64))
    assert t.classes.tolist() == [0]


def test_state_starts_at_zero_per_sample():
    net = single(6, k=2, spike_bits=1, T=2)
    x = np.ones((3, 2, 1), np.int64)
    t = golden.run(net, x, trace=True)
    assert t.layers[0].u[:, :, 0].tolist() == [[2, 4]] * 3


def test_input_is_checked():
    net = single(1, in_bits=2, T=2)
    with pytest.raises(ValueError, match=r"input value 4 is outside 0..3 \(in_bits=2\)"):
        golden.run(net, np.full((1, 2, 1), 4))
    with pytest.raises(ValueError, match=r"input must have shape \('batch', 2, 1\)"):
        golden.run(net, np.zeros((1, 3, 1), np.int64))
    with pytest.raises(TypeError, match="integer dtype"):
        golden.run(net, np.zeros((1, 2, 1), np.float32))


# --- against the naive per-neuron loop ----------------------------------------------

CONFIGS = [
    dict(sizes=[10, 7, 4], spike_bits=1, readout="membrane"),
    dict(sizes=[10, 7, 4], spike_bits=2, readout="spikes", leak_shift=2),
    dict(sizes=[9, 13, 6, 5], spike_bits=3, reset="hard", leak_shift=1),
    dict(sizes=[6, 5, 5], spike_bits=8, w_bits=16, u_bits=32, in_bits=8, leak_shift=5),
    dict(sizes=[8, 3], spike_bits=1, readout="spikes", u_bits=8, w_bits=4, k=0,
         fire_offset=0),
    dict(sizes=[16, 12, 10], spike_bits=2, u_bits=10, weight_scale=0.9),  # saturates often
]


def assert_same_as_naive(net, x):
    t = golden.run(net, x, trace=True)
    for n in range(x.shape[0]):
        logits, cls, tr = naive.run_sample(net, x[n].tolist())
        assert t.logits[n].tolist() == logits
        assert int(t.classes[n]) == cls
        for li, lt in enumerate(t.layers):
            for key in ("I", "v", "s", "u"):
                assert getattr(lt, key)[n].tolist() == tr[li][key], (n, li, key)


@pytest.mark.parametrize("seed, cfg", list(enumerate(CONFIGS)))
def test_matches_naive_loop(seed, cfg):
    cfg = dict(cfg)
    rng = np.random.default_rng(seed)
    net = random_network(rng, cfg.pop("sizes"), timesteps=5, **cfg)
    x = random_input(rng, net, 6, density=0.7)
    assert_same_as_naive(net, x)


def test_saturating_config_really_saturates():
    cfg = dict(CONFIGS[-1])
    net = random_network(np.random.default_rng(5), cfg.pop("sizes"), timesteps=5, **cfg)
    x = random_input(np.random.default_rng(5), net, 6)
    v = golden.run(net, x, trace=True).layers[0].v
    assert (v == (1 << 9) - 1).any() and (v == -(1 << 9)).any()


@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3),
       spike_bits=st.integers(1, 4), leak=st.none() | st.integers(1, 6),
       reset=st.sampled_from(["soft", "hard"]), readout=st.sampled_from(["membrane", "spikes"]),
       w_bits=st.integers(2, 12), u_bits=st.integers(8, 20))
def test_matches_naive_loop_random(seed, depth, spike_bits, leak, reset, readout, w_bits,
                                   u_bits):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, depth + 1).tolist()
    net = random_network(rng, sizes, in_bits=int(rng.integers(1, 6)), timesteps=3,
                         spike_bits=spike_bits, leak_shift=leak, reset=reset, readout=readout,
                         w_bits=w_bits, u_bits=u_bits, weight_scale=float(rng.uniform(0.1, 1)))
    assert_same_as_naive(net, random_input(rng, net, 2, density=0.8))


# --- charge paths -------------------------------------------------------------------


def test_auto_path_picks_float32_for_small_bounds_and_all_paths_agree():
    rng = np.random.default_rng(3)
    net = random_network(rng, [30, 20, 10], timesteps=4)
    x = random_input(rng, net, 8)
    results = {p: golden.run(net, x, trace=True, path=p) for p in ("float32", "float64", "int64")}
    assert golden.run(net, x).paths == ["float32", "float32"]
    for p in ("float64", "int64"):
        assert np.array_equal(results[p].logits, results["float32"].logits)
        for a, b in zip(results[p].layers, results["float32"].layers):
            assert np.array_equal(a.I, b.I) and np.array_equal(a.s, b.s)


def big_net(n_in):
    W = np.full((1, n_in), (1 << 15) - 1, np.int64)
    W[0, ::3] = -(1 << 15)
    layer = DenseLayer(W=W, b=np.array([7]), w_bits=16, u_bits=32, k=0, fire_offset=0,
                       spike_bits=1)
    return Network(layers=[layer], in_bits=16, timesteps=1, readout="membrane")


def test_float64_path_above_float32_limit_is_exact_where_float32_is_not():
    net = big_net(600)
    bound = net.current_bound(0)
    assert (1 << 24) <= bound < (1 << 53)
    rng = np.random.default_rng(0)
    x = rng.integers(60000, 1 << 16, (4, 1, 600))
    t = golden.run(net, x)
    assert t.paths == ["float64"]
    exact = [[sum(int(w) * int(v) for w, v in zip(net.layers[0].W[0], x[n, 0])) + 7]
             for n in range(4)]
    assert t.logits.tolist() == exact
    assert golden.run(net, x, path="int64").logits.tolist() == exact
    # float32 would have been wrong here: that is why the bound decides.
    f32 = (x[:, 0].astype(np.float32) @ net.layers[0].W.T.astype(np.float32)).astype(np.int64) + 7
    assert f32.tolist() != exact
    with pytest.raises(ValueError, match="'float32' is not exact"):
        golden.run(net, x, path="float32")


def test_float64_exact_near_2_pow_51():
    net = big_net(1 << 20)
    bound = net.current_bound(0)
    assert bound > (1 << 50)
    x = np.full((1, 1, 1 << 20), (1 << 16) - 1, np.int64)
    x[0, 0, 1::5] = 12345
    t64 = golden.run(net, x, path="float64")
    ti = golden.run(net, x, path="int64")
    W = net.layers[0].W[0]
    exact = sum(int(a) * int(b) for a, b in zip(W.tolist(), x[0, 0].tolist())) + 7
    assert t64.logits.tolist() == ti.logits.tolist() == [[exact]]
    assert abs(exact) > (1 << 40)


def test_charge_path_selection():
    assert golden.charge_path((1 << 24) - 1) == "float32"
    assert golden.charge_path(1 << 24) == "float64"
    assert golden.charge_path(1 << 53) == "int64"
    with pytest.raises(ValueError, match="exceed every exact path"):
        golden.charge_path(1 << 62)
    with pytest.raises(ValueError, match="unknown charge path 'gpu'"):
        golden.charge_path(5, "gpu")
