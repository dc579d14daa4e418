"""Co-verification catches and names disagreements (with a deliberately wrong backend),
and `snnhw verify` passes end to end on a small trained model."""

import json

import numpy as np
import pytest

from snnhw import golden, ir
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


def test_batches_give_the_same_report_and_name_the_same_mismatch(case):
    """torch and golden in batches (bounded memory): the same counts and accuracies, and a
    torch/golden mismatch in a later batch is named by its sample in the whole run."""
    from snnhw.nn.quant import IntegerSNN

    net, x, y = case
    whole = coverify(net, x, y, FakeBackend(lambda lg, c: None)).as_dict()
    parts = coverify(net, x, y, FakeBackend(lambda lg, c: None), batch=3).as_dict()
    for key in ("samples", "torch_golden_agree", "golden_hw_agree", "acc_torch", "acc_golden",
                "acc_hw", "first_mismatch_torch_golden", "first_mismatch_golden_hw"):
        assert parts[key] == whole[key], key

    class Off(IntegerSNN):      # a torch mode whose logit is off on the 8th sample only
        def run(self, xi):
            r = super().run(xi)
            for j in range(len(xi)):
                if np.array_equal(np.asarray(xi[j]), x[7]):
                    r["logits"][j, 1] += 1
            return r
    assert sum(np.array_equal(s, x[7]) for s in x) == 1
    off = Off.from_ir(net)
    for batch in (None, 3, 4):
        rep = coverify(net, x, y, FakeBackend(lambda lg, c: None), torch_mode=off, batch=batch)
        mm = rep.first_mismatch_torch_golden
        assert rep.torch_golden_agree == 9 and mm["sample"] == 7


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


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_any_network_on_random_inputs(tmp_path, capsys):
    # 256 inputs: the default data (digits, 64 inputs) does not fit, so seeded random
    # inputs of the network's in_bits run, and the report says so
    net = random_network(np.random.default_rng(3), [256, 12, 4], in_bits=1, timesteps=2,
                         spike_bits=1)
    path = ir.save(net, tmp_path / "wide.snn")
    assert main(["verify", str(path), "--n", "10", "--lanes", "4", "--work",
                 str(tmp_path / "w"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["samples"] == 10 and d["golden_hw_agree"] == 10
    assert d["inputs"].startswith("seeded random inputs") and d["acc_golden"] is None
    # data that is named but does not fit: one line, exit 2
    assert main(["verify", str(path), "--data", "digits", "--work", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the network takes 256 inputs" in err[0]


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_on_a_user_file_and_explicit_inputs(tmp_path, capsys):
    rng = np.random.default_rng(5)
    net = random_network(rng, [10, 8, 3], in_bits=3, timesteps=3, spike_bits=2)
    path = ir.save(net, tmp_path / "n.snn")
    x = rng.integers(0, 8, (20, 10))
    np.savez(tmp_path / "d.npz", x_train=x, y_train=rng.integers(0, 3, 20), x_test=x[:12],
             y_test=rng.integers(0, 3, 12))
    work = str(tmp_path / "w")
    assert main(["verify", str(path), "--data", str(tmp_path / "d.npz"), "--lanes", "3",
                 "--work", work, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    g = golden.run(net, np.repeat(x[:12, None], 3, axis=1))
    assert d["ok"] and d["samples"] == 12 and d["inputs"] == "d test samples"
    assert d["acc_golden"] == float((g.classes == np.load(tmp_path / "d.npz")["y_test"]).mean())
    # temporal inputs given directly, with labels
    xt = rng.integers(0, 8, (5, 3, 10))
    np.save(tmp_path / "x.npy", xt)
    np.save(tmp_path / "y.npy", golden.run(net, xt).classes)
    assert main(["verify", str(path), "--input", str(tmp_path / "x.npy"), "--labels",
                 str(tmp_path / "y.npy"), "--lanes", "3", "--work", work, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["samples"] == 5 and d["acc_hw"] == 1.0
    # wrong shape: one line, exit 2
    np.save(tmp_path / "bad.npy", xt[:, :2])
    assert main(["verify", str(path), "--input", str(tmp_path / "bad.npy"), "--work",
                 work]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "input must have shape ('batch', 3, 10), got (5, 2, 10)" in err[0]


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_of_a_network_the_gateware_cannot_build_is_a_user_error(tmp_path, capsys):
    # a conv layer last: the gateware reads out dense layers only (a DesignError, exit 2,
    # one line); a bug inside the run would not be caught as a user error
    from snnhw.ir.examples import random_conv_network

    net = random_conv_network(np.random.default_rng(0), (1, 4, 4), [(2, (3, 3), (1, 1), (0, 0))],
                              [])
    path = ir.save(net, tmp_path / "c.snn")
    assert main(["verify", str(path), "--n", "2", "--no-progress",
                 "--work", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err.strip()
    assert "reads out a dense or recurrent layer" in err and len(err.splitlines()) == 1


def test_verify_refuses_per_layer_lanes_on_the_serial_core_before_simulating(tmp_path, capsys):
    net = random_network(np.random.default_rng(0), [6, 5, 3])
    path = ir.save(net, tmp_path / "n.snn")
    assert main(["verify", str(path), "--core", "serial", "--lanes", "2,1", "--n", "2",
                 "--no-progress", "--work", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err.strip()
    assert "one lanes setting for all layers" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "w").exists()


def test_generated_rtl_is_never_stale(tmp_path):
    """RTL left in the work folder by an older generator is written over, not simulated:
    a Verilog file changed behind the manifest's back comes back as generated."""
    from snntb.backend import SimBackend

    net = random_network(np.random.default_rng(0), [6, 4, 3])
    backend = SimBackend(lanes=2, work=tmp_path, core="serial")
    out = backend._rtl(net)
    fresh = (out / "snn_top.v").read_text()
    (out / "snn_top.v").write_text("module snn_top; endmodule // an older generator's\n")
    assert backend._rtl(net) == out
    assert (out / "snn_top.v").read_text() == fresh
