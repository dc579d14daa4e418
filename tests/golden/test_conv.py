"""Convolution (docs/arithmetic.md "Convolution"): by hand, against the unrolled dense
matrix, and against the naive reference, on hypothesis-drawn shapes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.golden import naive
from snnhw.ir import ConvLayer, DenseLayer, Network
from snnhw.ir.examples import random_conv_network, random_input


def conv1d(x, w, b=0, *, stride=1, padding=0, k=6, T=1):
    layer = ConvLayer(W=np.array(w, np.int64).reshape(1, 1, 1, -1), b=np.array([b]),
                      in_shape=(1, 1, len(x)), w_bits=4, u_bits=12, k=k, fire_offset=0,
                      spike_bits=1, stride=(1, stride), padding=(0, padding))
    net = Network(layers=[layer], in_bits=3, timesteps=T, readout="membrane")
    xs = np.array(x, np.int64).reshape(1, 1, -1).repeat(T, axis=1)
    return golden.run(net, xs, trace=True).layers[0].I[0, 0].tolist()


def test_1d_conv_by_hand():
    # x = 1 2 3 4, kernel (1, -1), zero padding 1: windows (0,1) (1,2) (2,3) (3,4) (4,0)
    assert conv1d([1, 2, 3, 4], [1, -1], padding=1) == [-1, -1, -1, -1, 4]
    assert conv1d([1, 2, 3, 4], [1, -1], 2, padding=1) == [1, 1, 1, 1, 6]
    assert conv1d([1, 2, 3, 4], [1, -1], padding=1, stride=2) == [-1, -1, 4]
    assert conv1d([1, 2, 3, 4], [1, 1, 1, 1]) == [10]        # kernel covers the map


def test_2d_conv_flat_order_is_channel_major_by_hand():
    # in 1 x 2 x 2 = [[1, 2], [3, 4]]; two output channels of a 1x1 kernel (x1, x-2):
    # out = [1 2 3 4, -2 -4 -6 -8] in (co, oy, ox) order
    layer = ConvLayer(W=np.array([1, -2]).reshape(2, 1, 1, 1), b=np.array([0, 0]),
                      in_shape=(1, 2, 2), w_bits=4, u_bits=12, k=6, fire_offset=0, spike_bits=1)
    net = Network(layers=[layer], in_bits=3, timesteps=1)
    I = golden.run(net, np.array([[[1, 2, 3, 4]]]), trace=True).layers[0].I[0, 0]
    assert I.tolist() == [1, 2, 3, 4, -2, -4, -6, -8]


@st.composite
def conv_shapes(draw):
    """One conv geometry: 1-D or 2-D, any kernel/stride/padding that gives an output."""
    one_d = draw(st.booleans())
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dims = []
    for axis in range(2):
        if axis == 0 and one_d:
            dims.append((1, 1, 1, 0))
            continue
        size = draw(st.integers(1, 7))
        pad = draw(st.integers(0, 2))
        kernel = draw(st.integers(1, size + 2 * pad))     # up to the whole padded map
        stride = draw(st.integers(1, 3))
        dims.append((size, kernel, stride, pad))
    (H, KH, SH, PH), (W, KW, SW, PW) = dims
    return (c_in, H, W), (c_out, (KH, KW), (SH, SW), (PH, PW))


def unrolled(net: Network) -> Network:
    layers = [ly.to_dense() if ly.kind == "conv" else ly for ly in net.layers]
    return Network(layers=layers, in_bits=net.in_bits, timesteps=net.timesteps,
                   readout=net.readout)


def traces_equal(a, b) -> bool:
    return all(np.array_equal(getattr(x, f), getattr(y, f))
               for x, y in zip(a.layers, b.layers) for f in ("I", "v", "s", "u"))


@settings(max_examples=60, deadline=None)
@given(conv_shapes(), conv_shapes(), st.integers(0, 2**32 - 1), st.booleans(),
       st.sampled_from(["membrane", "spikes"]), st.sampled_from(["soft", "hard"]))
def test_conv_equals_dense_with_the_unrolled_matrix_and_the_naive_loop(
        first, second, seed, two, readout, reset):
    in_shape, conv0 = first
    convs = [conv0]
    if two:   # a second conv on the first one's output map
        _, (KH, KW), (SH, SW), (PH, PW) = conv0
        OH, OW = (in_shape[1] + 2 * PH - KH) // SH + 1, (in_shape[2] + 2 * PW - KW) // SW + 1
        c1, (kh, kw), (sh, sw), (ph, pw) = second[1]
        convs.append((c1, (min(kh, OH + 2 * ph), min(kw, OW + 2 * pw)), (sh, sw), (ph, pw)))
    rng = np.random.default_rng(seed)
    net = random_conv_network(rng, in_shape, convs, [3], readout=readout, reset=reset,
                              leak_shift=int(rng.integers(1, 4)) if seed % 2 else None)
    x = random_input(rng, net, 2, density=0.7)
    got = golden.run(net, x, trace=True)
    dense = golden.run(unrolled(net), x, trace=True)
    assert traces_equal(got, dense)
    assert np.array_equal(got.logits, dense.logits)
    ref_logits, ref_classes = naive.run_batch(net, x)
    assert got.logits.tolist() == ref_logits and got.classes.tolist() == ref_classes
    _, _, ref_trace = naive.run_sample(net, x[0])
    for li, lt in enumerate(got.layers):
        for f in ("I", "v", "s", "u"):
            assert lt.__dict__[f][0].tolist() == ref_trace[li][f]
    # the exact partial-sum bound per neuron, and events' fan-out, as the unrolled matrix
    for i, ly in enumerate(net.layers):
        assert net.current_bound(i) == unrolled(net).current_bound(i)
        if ly.kind == "conv":
            ones = ConvLayer(W=np.ones_like(ly.W), b=ly.b, in_shape=ly.in_shape, w_bits=2,
                             u_bits=16, k=0, fire_offset=0, spike_bits=1, stride=ly.stride,
                             padding=ly.padding)
            per_input = (ones.dense_matrix() != 0).sum(axis=0)
            fan = ly.synops_per_event()
            assert fan["max"] == per_input.max() and fan["mean"] == pytest.approx(
                per_input.mean())
            (KH, KW), (SH, SW) = ly.kernel, ly.stride
            assert fan["max"] <= ly.W.shape[0] * math.ceil(KH / SH) * math.ceil(KW / SW)


def test_every_charge_path_is_exact_for_conv():
    rng = np.random.default_rng(3)
    net = random_conv_network(rng, (3, 9, 8), [(5, (3, 3), (2, 1), (1, 1))], [4], w_bits=12)
    x = random_input(rng, net, 5)
    results = [golden.run(net, x, trace=True, path=p) for p in ("float32", "float64", "int64")]
    for r in results[1:]:
        assert traces_equal(results[0], r)


def test_conv_im2col_is_chunked_without_changing_the_result(monkeypatch):
    rng = np.random.default_rng(4)
    net = random_conv_network(rng, (2, 5, 6), [(3, (2, 3), (1, 2), (0, 1))], [2])
    x = random_input(rng, net, 4)
    whole = golden.run(net, x, trace=True)
    monkeypatch.setattr(golden.kinds.conv, "IM2COL_CHUNK", 7)   # one row per chunk
    assert traces_equal(whole, golden.run(net, x, trace=True))


def test_dense_layer_after_conv_uses_the_flat_channel_major_order():
    # conv 1 -> 2 channels of a 1x1 kernel on a 1x3 map; dense reads index (c * 3 + x)
    conv = ConvLayer(W=np.array([1, 2]).reshape(2, 1, 1, 1), b=np.zeros(2, np.int64),
                     in_shape=(1, 1, 3), w_bits=4, u_bits=12, k=0, fire_offset=0, spike_bits=3)
    pick = np.zeros((1, 6), np.int64)
    pick[0, 4] = 1                                   # channel 1, x = 1
    dense = DenseLayer(W=pick, b=np.zeros(1, np.int64), w_bits=4, u_bits=12, k=0,
                       fire_offset=0, spike_bits=1)
    net = Network(layers=[conv, dense], in_bits=2, timesteps=1)
    # x = (1, 3, 2): channel 1 fires 2 * x = (2, 6, 4); index 4 is channel 1, x = 1
    # (a position-major order would read channel 0 at x = 2: 2)
    assert golden.run(net, np.array([[[1, 3, 2]]])).logits.tolist() == [[6]]
