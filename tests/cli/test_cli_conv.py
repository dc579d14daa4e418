"""CNNs through the command line: train --arch -> export -> info -> run, conversion, NIR
both ways, generate/estimate, and the one-line refusals (bad layers, a conv readout)."""

import json

import numpy as np
import pytest

from snnhw.cli import main


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cnn")
    rc = main(["train", "--arch", "c4k3p1,ap2,d16", "--epochs", "2", "--spike-bits", "1",
               "--fire", "floor", "-o", str(d / "c.pt"), "--no-progress", "--json"])
    assert rc == 0
    return d


def test_train_export_info_run(trained, capsys):
    rc, out, _ = cli(capsys, "export", trained / "c.pt", "-o", trained / "c.snn", "--json")
    report = json.loads(out)
    assert rc == 0 and report["agree_samples"] == report["samples"] == 360
    assert report["int_acc"] > 0.3            # chance is 0.1; two epochs of binary spikes
    rc, out, _ = cli(capsys, "info", trained / "c.snn", "--json")
    info = json.loads(out)
    conv = info["layers"][0]
    assert conv["kind"] == "conv" and conv["in_shape"] == [1, 8, 8]
    assert conv["out_shape"] == [4, 8, 8] and conv["kernel"] == [3, 3]
    assert conv["synops_per_event"]["max"] == 4 * 9
    assert info["layers"][1]["n_in"] == 4 * 8 * 8          # the average pool, folded
    rc, out, _ = cli(capsys, "info", trained / "c.snn")
    assert rc == 0 and "conv layers" in out and "1x8x8" in out
    rc, out, _ = cli(capsys, "run", trained / "c.snn", "--data", "digits", "--json")
    assert rc == 0 and json.loads(out)["accuracy"] == report["golden_acc"]


def test_generate_and_estimate_a_cnn(trained, capsys, tmp_path):
    cli(capsys, "export", trained / "c.pt", "-o", trained / "c.snn")
    rc, out, _ = cli(capsys, "generate", trained / "c.snn", "--lanes", "4", "-o",
                     tmp_path / "rtl", "--json")
    assert rc == 0
    man = json.loads((tmp_path / "rtl" / "snn_top.json").read_text())
    conv, dense = man["layers"][0], man["layers"][1]
    assert conv["kind"] == "conv" and conv["groups"] == 1 * 8 * 8   # 4 channels, 4 lanes
    assert conv["window"]["lane_stride"] == 64 and conv["max_walk"] == 9
    assert conv["event_order"].startswith("by channel group") and dense["kind"] == "dense"
    rc, out, _ = cli(capsys, "estimate", trained / "c.snn", "--board", "icebreaker", "--json")
    est = json.loads(out)
    assert rc == 0 and est["fits"] and est["dsp"] == 0
    assert any(m["role"] == "event_table" for m in est["memories"])


@pytest.mark.slow
def test_build_a_cnn_for_the_icebreaker(trained, capsys, tmp_path):
    """A real iCE40 build of a CNN: 0 DSP, timing met at 30 MHz, block RAM as estimated,
    logic within 20 % of the estimate."""
    cli(capsys, "export", trained / "c.pt", "-o", trained / "c.snn")
    rc, out, _ = cli(capsys, "estimate", trained / "c.snn", "--board", "icebreaker", "--lanes",
                     "1", "--json")
    est = json.loads(out)
    rc, out, _ = cli(capsys, "build", trained / "c.snn", "--board", "icebreaker", "--lanes", "1",
                     "--clock-mhz", "30", "-o", tmp_path / "b", "--json")
    r = json.loads(out)
    assert rc == 0 and r["fits"] and r["dsp_used"] == 0 and r["timing_met"]
    assert (tmp_path / "b" / "snn_board.bin").stat().st_size > 100_000
    assert r["resources"]["bram"]["used"] == est["bram"]
    lc = r["resources"]["lc"]["used"]
    # smaller than every design the logic-cell model was fitted to: measured 3,494
    # estimated against 3,036 built (+15 %), so the bound here is wider than the CI build's
    assert abs(est["lc"] - lc) <= 0.2 * lc


@pytest.mark.parametrize("command", [["generate"], ["estimate", "--board", "icebreaker"],
                                     ["build", "--board", "icebreaker"], ["verify"]])
def test_gateware_commands_refuse_a_conv_readout_in_one_line(command, capsys, tmp_path):
    from snnhw import ir
    from snnhw.ir.examples import random_conv_network

    net = random_conv_network(np.random.default_rng(0), (1, 6, 6),
                              [(3, (3, 3), (1, 1), (1, 1))], [])
    ir.save(net, tmp_path / "c.snn")
    rc, _, err = cli(capsys, command[0], tmp_path / "c.snn", *command[1:], "-o" if command[0]
                     in ("generate", "build") else "--json", *(
                         [tmp_path / "o"] if command[0] in ("generate", "build") else []))
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "the last layer (the readout) is a conv layer" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, text", [
    (["--arch", "c4k3,mp2"], "'mp2' is not a layer"),
    (["--arch", "c4k3,sp4"], "does not divide the 4x6x6 map evenly"),
    (["--arch", "c4k3", "--hidden", "8"], "--hidden is for the MLP"),
    (["--arch", "c4k3", "--normalize"], "a CNN takes no input normalisation"),
    (["--arch", "cnn", "--data", "mnist1d-temporal"], "has no default CNN"),
])
def test_bad_architectures_are_one_line(argv, text, capsys, tmp_path):
    rc, _, err = cli(capsys, "train", *argv, "--epochs", "1", "-o", tmp_path / "m.pt")
    assert rc == 2 and text in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()


def test_nir_out_and_back_in(trained, capsys):
    rc, out, _ = cli(capsys, "export", trained / "c.pt", "--nir", "-o", trained / "c.nir",
                     "--json")
    kinds = json.loads(out)["nodes"]
    assert rc == 0 and {"Conv2d", "SumPool2d", "Flatten", "Affine"} <= set(kinds.values())
    rc, out, _ = cli(capsys, "import", trained / "c.nir", "-o", trained / "back.snn",
                     "--json")
    assert rc == 0
    rc, out, _ = cli(capsys, "info", trained / "back.snn", "--json")
    assert [ly["kind"] for ly in json.loads(out)["layers"]] == ["conv", "dense", "dense"]


def test_convert_a_cnn(capsys, tmp_path):
    rc, out, _ = cli(capsys, "convert", "--arch", "c4k3p1,sp2", "--epochs", "2", "-T", "8",
                     "--l4", "0", "-o", tmp_path / "cv.pt", "--json")
    report = json.loads(out)
    assert rc == 0 and report["arch"] == "c4k3p1,sp2" and report["ann_test_acc"] > 0.5
    rc, out, _ = cli(capsys, "export", tmp_path / "cv.pt", "-o", tmp_path / "cv.snn",
                     "--json")
    assert rc == 0 and json.loads(out)["agree_samples"] == 360
