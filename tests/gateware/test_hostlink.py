"""The host link in the Amaranth simulator: frames in, events to the network, results out;
bad frames are rejected with the right code and never reach the network."""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from snnhw import golden
from snnhw.gateware import SNNCore
from snnhw.gateware.cores import make_core
from snnhw.gateware.hostlink import HostLink
from snnhw.gateware.sim import get, simulate
from snnhw.ir.examples import random_input, random_network
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode
from snnhw.protocol.streams import encode_batch, pauses
from snnhw.protocol.words import weight_words
from snnhw.util import signed_bits


class Harness(wiring.Component):
    def __init__(self, net, lanes, timeout=200, weights=None, core="pipeline"):
        from amaranth.lib import stream
        from amaranth.lib.wiring import In, Out
        self.core = make_core(net, lanes, core, weights=weights)
        self.link = HostLink(n_in=net.n_in, in_bits=net.in_bits, n_out=net.n_out,
                             logit_bits=signed_bits(net.logit_bound()), max_events=16,
                             timeout=timeout, weight_depths=self.core.weight_depths(),
                             load_width=self.core.load_width())
        super().__init__({"rx": In(stream.Signature(8)), "tx": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        m.submodules.link = self.link
        wiring.connect(m, wiring.flipped(self.rx), self.link.rx)
        wiring.connect(m, self.link.tx, wiring.flipped(self.tx))
        wiring.connect(m, self.link.ev, self.core.i)
        wiring.connect(m, self.core.o, self.link.res)
        m.d.comb += self.core.clear.eq(self.link.clear)
        if self.core.loaded:
            wiring.connect(m, self.link.load, self.core.load)
        return m


def run(dut, chunks, expect_frames, out_pattern="light", max_cycles=200_000):
    """Send byte chunks, each ``(bytes, wait)``: ``wait`` = number of ACK/ERROR replies
    to have seen before the next chunk (results may come in between), or ``"gap"`` for a
    long silence. Returns every reply frame once ``expect_frames`` have arrived."""
    frames: list = []
    raw: list = []

    async def send(ctx):
        for data, wait in chunks:
            for b in data:
                ctx.set(dut.rx.payload, b)
                ctx.set(dut.rx.valid, 1)
                await ctx.tick()
                ctx.set(dut.rx.valid, 0)
                await ctx.tick().repeat(2)
            if wait == "gap":
                await ctx.tick().repeat(400)
                continue
            waited = 0
            while sum(f.type in (link.ACK, link.ERROR) for f in frames) < wait:
                await ctx.tick()
                waited += 1
                assert waited < max_cycles, f"no reply {wait} after {max_cycles} cycles"

    async def recv(ctx):
        dec = link.FrameDecoder()
        p = pauses(out_pattern, 3)
        while len(frames) < expect_frames:
            await get(ctx, dut.tx, len(raw) + 1, p, raw)
            frames.extend(dec.feed(bytes([int(raw[-1])])))
        assert dec.errors == []

    simulate(dut, send, recv)
    return frames


@pytest.fixture
def setup():
    rng = np.random.default_rng(6)
    net = random_network(rng, [10, 8, 4], in_bits=3, timesteps=2, spike_bits=2)
    x = random_input(rng, net, 3, density=0.7)
    return net, x


def sample_frames(x):
    return link.events_frames(encode_batch(x), max_events=16)


def results_of(frames, n_out):
    return [link.parse_result(f.payload, n_out) for f in frames if f.type == link.RESULT]


def test_frames_in_results_out(setup):
    net, x = setup
    frames = sample_frames(x)
    assert len(frames) > 2  # several frames per sample: buffering across frames
    out = run(Harness(net, 3), [(f, i + 1) for i, f in enumerate(frames)],
              len(frames) + len(x))
    g = golden.run(net, x)
    assert results_of(out, net.n_out) == [(lg, c) for lg, c in
                                          zip(g.logits.tolist(), g.classes.tolist())]
    assert sum(f.type == link.ACK for f in out) == len(frames)


@pytest.mark.parametrize("damage, code", [
    (lambda f: f[:5] + bytes([f[5] ^ 0x10]) + f[6:], ErrorCode.BAD_CRC),  # payload bit flipped
    (lambda f: link.frame(link.EVENTS, b"\x01\x02"), ErrorCode.BAD_LENGTH),  # not a multiple of 3
    (lambda f: link.frame(link.EVENTS, bytes(3 * 17)), ErrorCode.BAD_LENGTH),  # over max_events
    (lambda f: link.frame(0x33, b""), ErrorCode.UNKNOWN_TYPE),  # unknown type
])
def test_bad_frame_is_rejected_and_never_fed(setup, damage, code):
    net, x = setup
    frames = sample_frames(x[:1])
    bad = damage(frames[0])
    chunks = [(bad, 1)] + [(f, i + 2) for i, f in enumerate(frames)]
    out = run(Harness(net, 2), chunks, 1 + len(frames) + 1)
    assert (out[0].type, out[0].payload) == (link.ERROR, bytes([code]))
    g = golden.run(net, x[:1])
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]


def test_cut_off_frame_times_out(setup):
    net, x = setup
    frames = sample_frames(x[:1])
    chunks = [(frames[0][:7], "gap")] + [(f, i + 2) for i, f in enumerate(frames)]
    out = run(Harness(net, 2, timeout=100), chunks, 1 + len(frames) + 1)
    assert (out[0].type, out[0].payload) == (link.ERROR, bytes([ErrorCode.CUT_OFF]))
    g = golden.run(net, x[:1])
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]


def test_clear_frame_aborts_a_sample(setup):
    net, x = setup
    first = link.events_frames(encode_batch(x[:1])[:5], max_events=16)[0]
    frames = sample_frames(x[1:2])
    chunks = [(first, 1), (link.frame(link.CLEAR), 2)] + [
        (f, i + 3) for i, f in enumerate(frames)]
    out = run(Harness(net, 2), chunks, 2 + len(frames) + 1)
    g = golden.run(net, x[1:2])
    assert [f.type for f in out[:2]] == [link.ACK, link.ACK]
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]


# -- WEIGHTS frames: layers whose weights are loaded at run time (SPRAM on the UP5K) ----
MAX_WORDS = (3 * 16 - link.WEIGHT_HEADER_BYTES) // link.WEIGHT_WORD_BYTES  # max_events=16


def load_frames(net, lanes, layers):
    out = []
    for k in layers:
        words = weight_words(net.layers[k].W, lanes[k], net.layers[k].w_bits)
        out += link.weights_frames(k, words, max_words=MAX_WORDS)
    return out


def test_weights_frames_load_the_network(setup):
    net, x = setup
    lanes = [3, 2]
    loads = load_frames(net, lanes, [0, 1])
    assert len(loads) > 4  # several frames per layer
    frames = sample_frames(x)
    chunks = [(f, i + 1) for i, f in enumerate(loads + frames)]
    out = run(Harness(net, lanes, weights={0: "ram", 1: "ram"}), chunks,
              len(loads) + len(frames) + len(x))
    assert all(f.type == link.ACK for f in out if f.type != link.RESULT)
    g = golden.run(net, x)
    assert results_of(out, net.n_out) == [(lg, c) for lg, c in
                                          zip(g.logits.tolist(), g.classes.tolist())]


def test_weights_frames_load_the_serial_core(setup):
    """The serial core keeps every layer in one memory: the same per-layer WEIGHTS frames
    land at each layer's base (rows of layer 1 read from where layer 0's end)."""
    net, x = setup
    lanes = [3, 3]
    loads = load_frames(net, lanes, [0, 1])
    frames = sample_frames(x)
    chunks = [(f, i + 1) for i, f in enumerate(loads + frames)]
    harness = Harness(net, 3, weights={0: "ram", 1: "ram"}, core="serial")
    assert harness.core.weight_depths() == {0: 3 * 10, 1: 2 * 8}
    out = run(harness, chunks, len(loads) + len(frames) + len(x))
    assert all(f.type == link.ACK for f in out if f.type != link.RESULT)
    g = golden.run(net, x)
    assert results_of(out, net.n_out) == [(lg, c) for lg, c in
                                          zip(g.logits.tolist(), g.classes.tolist())]


def test_serial_core_loads_all_layers_or_none(setup):
    net, _ = setup
    with pytest.raises(ValueError, match="all 2 layers the same way or none"):
        make_core(net, 2, "serial", weights={0: "ram"})
    mixed = net.replace(layers=[net.layers[0], dataclasses.replace(
        net.layers[1], w_bits=6, W=np.clip(net.layers[1].W, -32, 31))])
    with pytest.raises(ValueError, match=r"one w_bits for all layers, got \[6, 8\]"):
        make_core(mixed, 2, "serial", weights={0: "ram", 1: "ram"})
    with pytest.raises(ValueError, match="9 lanes x 8 bits = 72 bits"):
        make_core(net, 9, "serial", weights={0: "spram", 1: "spram"})


def test_unloaded_weights_are_zero(setup):
    """Without WEIGHTS frames a loaded layer computes with zero weights: the load matters."""
    net, x = setup
    frames = sample_frames(x[:1])
    out = run(Harness(net, [3, 2], weights={0: "ram"}),
              [(f, i + 1) for i, f in enumerate(frames)], len(frames) + 1)
    zeroed = net.replace(layers=[dataclasses.replace(net.layers[0],
                                                     W=np.zeros_like(net.layers[0].W)),
                                 net.layers[1]])
    g = golden.run(zeroed, x[:1])
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]
    assert results_of(out, net.n_out) != [(golden.run(net, x[:1]).logits[0].tolist(),
                                           int(golden.run(net, x[:1]).classes[0]))]


@pytest.mark.parametrize("make_bad, code", [
    # layer 1 keeps its weights in the bitstream: not loadable
    (lambda depth: link.weights_frames(1, [0xFF] * 2)[0], ErrorCode.BAD_WEIGHT_ADDRESS),
    # the range runs one word past the end of layer 0's memory (the first word is in range)
    (lambda depth: link.weights_frames(0, [0x7F7F7F] * 2, start=depth - 1)[0],
     ErrorCode.BAD_WEIGHT_ADDRESS),
    # a word cut short
    (lambda depth: link.frame(link.WEIGHTS, bytes([0, 0, 0, 0]) + bytes(7)),
     ErrorCode.BAD_LENGTH),
    # header only
    (lambda depth: link.frame(link.WEIGHTS, bytes([0, 0, 0, 0])), ErrorCode.BAD_LENGTH),
    # bad CRC
    (lambda depth: (lambda f: f[:-1] + bytes([f[-1] ^ 1]))(
        link.weights_frames(0, [0x7F7F7F] * 3, start=0)[0]), ErrorCode.BAD_CRC),
])
def test_bad_weights_frame_writes_nothing(setup, make_bad, code):
    net, x = setup
    lanes = [3, 2]
    harness = Harness(net, lanes, weights={0: "ram"})
    depth = harness.core.weight_depths()[0]
    loads = load_frames(net, lanes, [0])
    frames = sample_frames(x[:1])
    chunks = [(f, i + 1) for i, f in enumerate(loads)]
    chunks.append((make_bad(depth), len(loads) + 1))
    chunks += [(f, len(loads) + 2 + i) for i, f in enumerate(frames)]
    out = run(harness, chunks, len(loads) + 1 + len(frames) + 1)
    replies = [f for f in out if f.type != link.RESULT]
    assert (replies[len(loads)].type, replies[len(loads)].payload) == (link.ERROR, bytes([code]))
    g = golden.run(net, x[:1])
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]


def test_a_design_that_loads_nothing_has_no_loader_and_refuses_weights(setup):
    """Without loaded layers the link has no weight loader; a WEIGHTS frame is refused
    (nothing is written) and the next sample's result is the golden model's."""
    net, x = setup
    harness = Harness(net, [3, 2])
    assert harness.link.loader is None
    frames = sample_frames(x[:1])
    chunks = [(link.weights_frames(0, [0x7F7F7F] * 2)[0], 1)]
    chunks += [(f, 2 + i) for i, f in enumerate(frames)]
    out = run(harness, chunks, 1 + len(frames) + 1)
    replies = [f for f in out if f.type != link.RESULT]
    assert (replies[0].type, replies[0].payload) == (link.ERROR,
                                                      bytes([ErrorCode.BAD_WEIGHT_ADDRESS]))
    g = golden.run(net, x[:1])
    assert results_of(out, net.n_out) == [(g.logits[0].tolist(), int(g.classes[0]))]


def test_loaded_layer_limits(setup):
    net, _ = setup
    with pytest.raises(ValueError, match="at most 64"):
        SNNCore(net, lanes=[9, 2], weights={0: "ram"})  # 9 lanes x 8 bits
    with pytest.raises(ValueError, match="no layer 5"):
        SNNCore(net, lanes=2, weights={5: "ram"})
