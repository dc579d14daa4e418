"""The host driver against a fake board that speaks the protocol (golden model inside),
with frames corrupted on the wire: retries, error codes, results, co-verification."""

import dataclasses
import json

import numpy as np
import pytest

from snnhw import golden
from snnhw.host import BoardBackend, BoardError, LinkSession
from snnhw.ir.examples import random_input, random_network
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode
from snnhw.protocol.streams import encode_sample
from snnhw.verify.coverify import coverify


class FakeBoard:
    """A transport: bytes written are parsed as request frames; replies are read back."""

    def __init__(self, net, corrupt_writes=(), drop_results=False, loaded=None):
        """``loaded``: {layer: lanes} whose weights start at zero and come in WEIGHTS frames."""
        self.loaded = dict(loaded or {})
        if self.loaded:
            net = net.replace(layers=[
                dataclasses.replace(ly, W=np.zeros_like(ly.W)) if k in self.loaded else ly
                for k, ly in enumerate(net.layers)])
        self.net, self.out = net, bytearray()
        self.dec = link.FrameDecoder(header=link.HOST_HEADER)
        self.writes, self.corrupt = 0, set(corrupt_writes)
        self.steps, self.cur = [], np.zeros(net.n_in, np.int64)
        self.drop_results = drop_results
        self.fed_events = 0

    def write(self, data):
        data = bytearray(data)
        if self.writes in self.corrupt:
            data[len(data) // 2] ^= 0x40
        self.writes += 1
        before = len(self.dec.errors)
        frames = self.dec.feed(bytes(data))
        if len(self.dec.errors) > before:
            self.out += link.frame(link.ERROR, b"\x01", link.BOARD_HEADER)
        for f in frames:
            if f.type == link.CLEAR:
                self.steps, self.cur = [], np.zeros(self.net.n_in, np.int64)
            elif f.type == link.WEIGHTS:
                self._weights(f.payload)
            else:
                for e in link.unpack_events(f.payload):
                    self.fed_events += 1
                    self._event(e)
            self.out += link.frame(link.ACK, b"", link.BOARD_HEADER)

    def _event(self, e):
        if not e.eos:
            self.cur[e.index] = e.value
            return
        self.steps.append(self.cur)
        self.cur = np.zeros(self.net.n_in, np.int64)
        if len(self.steps) == self.net.timesteps:
            g = golden.run(self.net, np.stack(self.steps)[None])
            self.steps = []
            if not self.drop_results:
                self.out += link.frame(link.RESULT, link.result_payload(
                    g.logits[0].tolist(), int(g.classes[0])), link.BOARD_HEADER)

    def _weights(self, payload):
        """Word a = g * n_in + j holds W[g * lanes + l, j] in bits l*w_bits.. (LE bytes)."""
        k, start = payload[0], int.from_bytes(payload[2:4], "little")
        ly, lanes = self.net.layers[k], self.loaded[k]
        body = payload[4:]
        for n in range(len(body) // 8):
            word = int.from_bytes(body[8 * n:8 * n + 8], "little")
            g, j = divmod(start + n, ly.n_in)
            for lane in range(lanes):
                v = (word >> (lane * ly.w_bits)) & ((1 << ly.w_bits) - 1)
                if v >= 1 << (ly.w_bits - 1):
                    v -= 1 << ly.w_bits
                if g * lanes + lane < ly.n_out:
                    ly.W[g * lanes + lane, j] = v
        self.steps = []

    def read(self, n):
        data, self.out = bytes(self.out[:n]), self.out[n:]
        return data


@pytest.fixture
def case():
    rng = np.random.default_rng(2)
    net = random_network(rng, [30, 12, 5], in_bits=4, timesteps=3, spike_bits=2)
    return net, random_input(rng, net, 6, density=0.9)


def test_samples_over_several_frames(case):
    net, x = case
    s = LinkSession(FakeBoard(net), net.n_out, timeout=1.0, max_events=16)
    for sample in x:
        s.run_sample(sample)
    s.wait_results(len(x))
    g = golden.run(net, x)
    assert [r[0] for r in s.results] == g.logits.tolist()
    assert s.resent == 0


def test_corrupted_frames_are_resent_and_never_fed(case):
    net, x = case
    board = FakeBoard(net, corrupt_writes={0, 3, 4})
    s = LinkSession(board, net.n_out, timeout=1.0, max_events=16)
    for sample in x[:2]:
        s.run_sample(sample)
    s.wait_results(2)
    assert s.rejected == [ErrorCode.BAD_CRC] * 3 and s.resent == 3
    assert [r[1] for r in s.results] == golden.run(net, x[:2]).classes.tolist()
    # every event went in exactly once: the corrupted copies were never fed
    assert board.fed_events == sum(len(encode_sample(smp)) for smp in x[:2])


def test_gives_up_after_retries(case):
    net, x = case
    s = LinkSession(FakeBoard(net, corrupt_writes=range(100)), net.n_out, timeout=1.0,
                    retries=2)
    with pytest.raises(BoardError, match="frame rejected 3 times \\(bad CRC\\)"):
        s.run_sample(x[0])


def test_silent_board_times_out(case):
    net, x = case

    class Mute:
        def write(self, data):
            pass

        def read(self, n):
            return b""
    with pytest.raises(BoardError, match=r"no reply from the board within 0\.2 s"):
        LinkSession(Mute(), net.n_out, timeout=0.2).run_sample(x[0])


def test_board_backend_in_coverify(case):
    net, x = case
    rep = coverify(net, x, np.zeros(len(x), np.int64),
                   BoardBackend("fake", transport=FakeBoard(net, corrupt_writes={1})))
    assert rep.ok and rep.golden_hw_agree == len(x)
    assert rep.backend_info["resent"] == 1


def test_missing_results_are_an_error(case):
    net, x = case
    backend = BoardBackend("fake", transport=FakeBoard(net, drop_results=True), timeout=0.2)
    with pytest.raises(BoardError, match=r"0 of 6 results within 0\.2 s"):
        backend.run(net, x)


def test_board_backend_loads_spram_weights(case):
    """A design with layer 0's weights in SPRAM: the backend sends them before the
    samples; without them the fake board computes with zero weights."""
    net, x = case
    board = FakeBoard(net, loaded={0: 4})
    backend = BoardBackend("fake", transport=board, load=([4, 2], [0]))
    rep = coverify(net, x, np.zeros(len(x), np.int64), backend)
    assert rep.ok and rep.golden_hw_agree == len(x)
    # 3 groups x 30 inputs = 90 words, 95 a frame: one frame
    assert rep.backend_info["weight_frames"] == 1
    assert np.array_equal(board.net.layers[0].W, net.layers[0].W)
    unloaded = coverify(net, x, np.zeros(len(x), np.int64),
                        BoardBackend("fake", transport=FakeBoard(net, loaded={0: 4})))
    assert not unloaded.ok


def test_board_backend_from_build_report(case, tmp_path):
    net, x = case
    (tmp_path / "build_report.json").write_text(json.dumps({
        "ir_hash": net.content_hash(), "network": net.name, "lanes": [5, 1], "baud": 230400,
        "weights_loaded": [0]}))
    backend = BoardBackend.from_build("fake", tmp_path, net, transport=FakeBoard(
        net, loaded={0: 5}))
    assert backend.load == ([5, 1], [0]) and backend.baud == 230400
    assert coverify(net, x, np.zeros(len(x), np.int64), backend).ok
    other = random_network(np.random.default_rng(9), [30, 12, 5], in_bits=4, timesteps=3)
    with pytest.raises(BoardError, match="was built from another network"):
        BoardBackend.from_build("fake", tmp_path, other)
    with pytest.raises(BoardError, match="cannot read the build report"):
        BoardBackend.from_build("fake", tmp_path / "nothing", net)


def test_verify_cli_checks_the_build_report(tmp_path, capsys):
    from snnhw.cli import main
    from snnhw.ir import save

    net = random_network(np.random.default_rng(4), [64, 10, 10], in_bits=5, timesteps=2)
    path = save(net, tmp_path / "n.snn")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "build_report.json").write_text(json.dumps({
        "ir_hash": "0" * 64, "network": "other", "lanes": [2, 1], "weights_loaded": [0]}))
    args = ["verify", str(path), "--backend", "board", "--n", "2", "--no-progress"]
    assert main(args) == 2
    assert "needs --port" in capsys.readouterr().err
    # the rate a bitstream talks at is its build's: without the report, --baud
    assert main([*args, "--port", "/dev/null"]) == 2
    assert "needs --build DIR (the build folder, whose report has the UART rate) or --baud" \
        in capsys.readouterr().err
    assert main([*args, "--port", "/dev/null", "--build", str(tmp_path / "build")]) == 2
    assert "was built from another network ('other'" in capsys.readouterr().err
