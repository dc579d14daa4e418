"""Co-verification catches and names disagreements (with a deliberately wrong backend),
and `snnhw verify` passes end to end on a small trained model."""

import json

import numpy as np
import pytest

from snnhw import golden
from snnhw.cli import main
from snnhw.ir.examples import random_input, random_network
from snnhw.verify.backend import BackendResult
from snnhw.verify.coverify import coverify
from snntb.runner import simulator_available


class FakeBackend:
    name = "fake"

    def __init__(self, edit):
        self.edit = edit

    def run(self, net, x, progress=None):
        g = golden.run(net, x)
        logits, classes = g.logits.tolist(), g.classes.tolist()
        self.edit(logits, classes)
        return BackendResult(logits, classes, {})


@pytest.fixture
def case():
    rng = np.random.default_rng(4)
    net = random_network(rng, [8, 6, 3], in_bits=3, timesteps=2)
    return net, random_input(rng, net, 10), rng.integers(0, 3, 10)


def test_agreement(case):
    net, x, y = case
    rep = coverify(net, x, y, FakeBackend(lambda lg, c: None))
    assert rep.ok and rep.golden_hw_agree == rep.torch_golden_agree == 10
    assert rep.acc_hw == rep.acc_golden == rep.acc_torch


def test_wrong_logit_is_named(case):
    net, x, y = case

    def edit(lg, c):
        lg[7][2] += 1
        lg[8][0] -= 3
    rep = coverify(net, x, y, FakeBackend(edit))
    assert not rep.ok and rep.golden_hw_agree == 8
    mm = rep.first_mismatch_golden_hw
    assert (mm["sample"], mm["neuron"], mm["what"], mm["layer"]) == (7, 2, "logit", 1)
    assert mm["hardware"] == mm["golden"] + 1


def test_lost_and_extra_results(case):
    net, x, y = case
    rep = coverify(net, x, y, FakeBackend(lambda lg, c: (lg.pop(), c.pop())))
    assert rep.golden_hw_agree == 9 and rep.first_mismatch_golden_hw["what"] == "missing result"
    rep = coverify(net, x, y, FakeBackend(lambda lg, c: (lg.append(lg[0]), c.append(c[0]))))
    assert not rep.ok and rep.first_mismatch_golden_hw["what"] == "extra results"


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_cli_on_a_small_model(tmp_path, capsys):
    ck = tmp_path / "m.pt"
    assert main(["train", "--epochs", "2", "--hidden", "16", "-o", str(ck), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["verify", str(ck), "--n", "24", "--lanes", "4", "--work", str(tmp_path / "w"),
                 "--in-pauses", "light", "--out-pauses", "light", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["samples"] == 24
    assert d["torch_golden_agree"] == d["golden_hw_agree"] == 24
    assert d["acc_hw"] == d["acc_golden"] and d["backend"] == "verilator"


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_checkpoint_against_rtl_generated_from_its_export(tmp_path, capsys):
    # the main job's flow: export --name, generate, then verify the checkpoint with --rtl
    ck, net, rtl = tmp_path / "m.pt", tmp_path / "n.snn", tmp_path / "rtl"
    assert main(["train", "--epochs", "2", "--hidden", "16", "-o", str(ck), "--no-progress"]) == 0
    assert main(["export", str(ck), "-o", str(net), "--name", "small"]) == 0
    assert main(["generate", str(net), "--lanes", "4", "-o", str(rtl)]) == 0
    capsys.readouterr()
    # without --name the network is named after the file: another hash, refused
    assert main(["verify", str(ck), "--n", "8", "--rtl", str(rtl), "--no-progress",
                 "--work", str(tmp_path / "w")]) == 2
    assert "was generated from another network" in capsys.readouterr().err
    assert main(["verify", str(ck), "--name", "small", "--n", "24", "--rtl", str(rtl),
                 "--work", str(tmp_path / "w"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["torch_golden_agree"] == d["golden_hw_agree"] == 24
