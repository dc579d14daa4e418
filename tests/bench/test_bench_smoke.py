"""The benchmarks run and report what they claim (small sizes; no timing asserted)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snntb.runner import simulator_available

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_golden_speed_reports_exact_json():
    r = subprocess.run([sys.executable, str(BENCH / "golden_speed.py"), "--json",
                        "--sizes", "40,20,5", "--batch", "16", "--naive-samples", "2",
                        "--repeat", "1"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert d["exact"] is True and d["conv"]["exact"] is True
    assert d["network"] == [40, 20, 5] and d["naive_samples"] == 2
    assert d["golden_inferences_per_s"] > 0 and d["naive_inferences_per_s"] > 0
    assert [ly["kind"] for ly in d["conv"]["network"]] == ["conv"] * 3 + ["dense"] * 2
    assert d["conv"]["golden_inferences_per_s"] > 0


def test_ablation_quick_run_reports_every_comparison(tmp_path):
    png, md = tmp_path / "a.png", tmp_path / "a.md"
    r = subprocess.run([sys.executable, str(BENCH / "ablation.py"), "--json", "--seeds", "2",
                        "--epochs", "1", "--timesteps", "1", "--convert-timesteps", "2",
                        "--convert-epochs", "1", "--jobs", "1", "--cache", str(tmp_path / "c"),
                        "--plot", str(png), "--markdown", str(md)],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    names = [row["name"] for row in d["rows"]]
    assert names == ["reset", "mpr", "rmp", "spike_bits", "L4 conversion"]
    assert d["runs"] == 2 * 5 + 2 + 2 and 0 < d["float_mlp"]["mean"] <= 1
    for row in d["rows"]:
        for c in row["cells"]:
            assert 0 <= c["a"]["mean"] <= 1 and len(c["a"]["runs"]) == 2
            diff = 100 * (c["a"]["mean"] - c["b"]["mean"])
            assert c["delta_points"] == pytest.approx(diff)
            want = ("holds" if diff > 2 * c["se_points"] else "does not hold"
                    if diff < -2 * c["se_points"] else "within noise")
            assert c["verdict"] == want
    # at T=1 a neuron never carries a membrane to a next step: the reset cannot matter
    reset = d["rows"][0]["cells"][0]
    assert reset["T"] == 1 and reset["a"]["runs"] == reset["b"]["runs"]
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert md.read_text().count("\n| static |") == 4
    # a second run reads every result from the cache: same numbers
    again = subprocess.run([sys.executable, str(BENCH / "ablation.py"), "--json", "--seeds",
                            "2", "--epochs", "1", "--timesteps", "1", "--convert-timesteps",
                            "2", "--convert-epochs", "1", "--cache", str(tmp_path / "c"),
                            "--plot", str(png), "--markdown", str(md)],
                           capture_output=True, text=True, check=True)
    assert json.loads(again.stdout)["rows"] == d["rows"]


def test_qat_quick_run_with_a_wider_first_layer(tmp_path):
    """``--first-w-bits``: every run's export has its first layer at that width and the
    rest at ``--w-bits``, plain and QAT, bit-exact; the plot is written."""
    png = tmp_path / "q.png"
    r = subprocess.run([sys.executable, str(BENCH / "qat.py"), "--nets", "mlp", "--seeds", "1",
                        "--epochs", "1", "--qat-epochs", "1", "--w-bits", "3",
                        "--first-w-bits", "8", "--cache", str(tmp_path / "c"), "--plot",
                        str(png), "--json"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert [(row["w_bits"], row["first"], row["qat"]) for row in d["rows"]] == [
        (3, 8, False), (3, 8, True)]
    assert all(row["bit_exact"] and row["failed"] == 0 for row in d["rows"])
    assert [run["layer_w_bits"] for run in d["runs"]] == [[8, 3, 3]] * 2
    assert png.stat().st_size > 0
    # any one layer wider (to find which layer loses the accuracy), from the same cache
    r = subprocess.run([sys.executable, str(BENCH / "qat.py"), "--nets", "mlp", "--seeds", "1",
                        "--epochs", "1", "--qat-epochs", "1", "--w-bits", "3",
                        "--layer-w-bits=-1:8", "--cache", str(tmp_path / "c"), "--json"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert [(row["wide_layer"], row["wide_bits"], row["qat"]) for row in d["rows"]] == [
        (2, 8, False), (2, 8, True)]
    assert [run["layer_w_bits"] for run in d["runs"]] == [[3, 3, 8]] * 2
    for bad in (["--layer-w-bits", "1"], ["--layer-w-bits", "1:8", "--first-w-bits", "8"]):
        r = subprocess.run([sys.executable, str(BENCH / "qat.py"), *bad],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "--layer-w-bits takes I:B" in r.stderr
    r = subprocess.run([sys.executable, str(BENCH / "qat.py"), "--first-w-bits", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--first-w-bits must be in 2..16" in r.stderr


def test_hw_cycles_quick_run(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH / "hw_cycles.py"), "--json", "--net",
                        str(tmp_path / "absent.snn"), "--lanes", "8,16", "--samples", "1",
                        "--only", "digits"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert d["all_exact"] is True
    rows = d["networks"][0]["rows"]
    assert [row["lanes"] for row in rows] == [8, 16]
    for row in rows:
        assert 0 < row["bottleneck_utilisation"] <= 1
        assert row["ideal_per_inference"] == pytest.approx(
            row["utilisation"] * row["cycles_per_inference"], rel=1e-12)


def test_hw_cycles_serial_core(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH / "hw_cycles.py"), "--json", "--net",
                        str(tmp_path / "absent.snn"), "--lanes", "4", "--samples", "1",
                        "--only", "digits", "--core", "serial"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    row = d["networks"][0]["rows"][0]
    assert d["all_exact"] is True and row["core"] == "serial"
    assert row["cycles_per_inference"] >= row["ideal_per_inference"] > 0
    assert row["times_ideal"] == round(row["cycles_per_inference"]
                                       / row["ideal_per_inference"], 3)


def test_hw_cycles_on_a_cnn(tmp_path):
    # a small two-conv CNN on the digits inputs (the default CNN's shapes simulate for
    # minutes in the Amaranth simulator)
    from snnhw import ir
    from snnhw.ir.examples import random_conv_network

    net = random_conv_network(np.random.default_rng(3), (1, 8, 8),
                              [(4, (3, 3), (1, 1), (1, 1)), (3, (4, 4), (2, 2), (1, 1))],
                              [12, 10], in_bits=5, timesteps=2, spike_bits=2)
    ir.save(net, tmp_path / "cnn.snn")
    r = subprocess.run([sys.executable, str(BENCH / "hw_cycles.py"), "--json", "--only",
                        "digits-cnn", "--cnn-digits", str(tmp_path / "cnn.snn"), "--lanes",
                        "4", "--cnn-samples", "1"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    net = d["networks"][0]
    assert d["all_exact"] is True and net["kinds"] == ["conv", "conv", "dense", "dense"]
    (row,) = net["rows"]
    assert row["synapse_cycles_equal_ideal"] is True
    assert all(0 < b <= 1 for b in row["lanes_busy"])


@pytest.mark.skipif(shutil.which("iverilog") is None and not os.environ.get("CI"),
                    reason="iverilog not installed")
def test_sim_speed_quick_run(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH / "sim_speed.py"), "--json", "--net",
                        str(tmp_path / "absent.snn"), "--n", "2", "--sims", "icarus"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert [(row["simulator"], row["engine"]) for row in d["rows"]] == [
        ("icarus", "bulk"), ("icarus", "cocotb")]
    for row in d["rows"]:
        assert row["ok"] is True and row["samples"] == 2
        assert row["cycles"] > 0 and row["cycles_per_second"] > 0
    # same design, same samples, no stalls: both testbenches count the same cycles
    assert d["rows"][0]["cycles"] == d["rows"][1]["cycles"]
    assert d["bulk_over_cocotb"]["icarus"] > 0


def test_cnn_targets_quick_run_reports_json():
    r = subprocess.run([sys.executable, str(BENCH / "cnn_targets.py"), "--json", "--data",
                        "digits", "--epochs", "1", "--arch", "c4k3p1,sp2", "--w-bits", "10"],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr   # one epoch need not meet the target
    d = json.loads(r.stdout)
    run = d["data"]["digits"]["runs"][0]
    assert run["epochs"] == 1 and run["samples"] == 360 and run["arch"] == "c4k3p1,sp2"
    assert (run["w_bits"], run["u_bits"]) == (10, 16)
    assert run["torch_equals_golden"] == 360 and d["data"]["digits"]["checks"]["bit_exact"]
    assert d["met"] == d["data"]["digits"]["met"]


def test_cnn_targets_refuses_bad_layers_in_one_line():
    r = subprocess.run([sys.executable, str(BENCH / "cnn_targets.py"), "--data", "digits",
                        "--arch", "c4k3,mp2"], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("cnn_targets: on digits: --arch: 'mp2' is not a layer")


@pytest.mark.parametrize("args, says", [
    (["--only", "board-cnn", "--core", "serial"], "no configuration left"),
    (["--only", "digits-cnn", "--boards", "icebreaker"], "no configuration left"),
    (["--boards", "de10"], "unknown board 'de10'"),
    (["--net", "cifar=x.snn"], "expected NAME=PATH"),
    (["--net", "digits=missing.snn"], "no file missing.snn"),
    (["--keep", __file__], "not a folder"),
])
def test_fmax_refuses_what_it_cannot_build(args, says):
    """bench/fmax.py builds a configuration only on the boards it names (the default CNN
    is not tried on the UP5K) and says so in one line."""
    r = subprocess.run([sys.executable, str(BENCH / "fmax.py"), *args], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and says in r.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_fmax_one_configuration():
    """bench/fmax.py on one configuration (the 256x256 layer at lanes 8 on the UP5K, one
    seed): a real build, its Fmax and resources, and the measured throughput."""
    r = subprocess.run([sys.executable, str(BENCH / "fmax.py"), "--json", "--only", "256x256",
                        "--lanes", "8", "--boards", "icebreaker", "--seeds", "1"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(r.stdout)
    (row,) = d["rows"]
    assert row["network"] == "256x256" and row["board"] == "icebreaker"
    assert row["fmax_median_mhz"] > 0 and row["dsp"] == 0 and row["luts"] > 0
    tp = row["throughput"]
    assert tp["bit_exact"] and 0 < tp["lane_utilisation"] <= 1
    assert row["synops_per_second"] == round(tp["adds_per_cycle"] * row["fmax_median_mhz"] * 1e6)


def test_hostile_inputs_subset_is_clean():
    """The CI subset of bench/hostile_inputs.py (outputs that are inputs, values that used
    to pass, control characters from files) under its 4 GiB address-space limit: every
    case one line and exit 2, nothing lost, changed or left behind."""
    r = subprocess.run([sys.executable, str(BENCH / "hostile_inputs.py"), "--json", "--only",
                        "outputs,values,names"], capture_output=True, text=True, check=True,
                       timeout=900)
    d = json.loads(r.stdout)
    assert d["classes"] == ["outputs", "values", "names"] and d["memory_limit_gib"] == 4.0
    assert d["cases"] >= 25 and d["outcomes"] == {"clean exit 2": d["cases"]}, d["not_exit_2"]
    for key in ("tracebacks", "hangs", "out_of_memory", "files_lost", "inputs_changed",
                "temporary_files_left", "control_characters", "escaped"):
        assert d[key] == 0, (key, d["not_exit_2"])


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_link_rate_times_the_uart_path_and_the_inference(tmp_path):
    """One digits sample at the iCEBreaker's default rate: end to end over the bit-level
    UART (RESULT checked against golden inside the test), the inference alone, and the
    wire's bound, which end to end can never beat."""
    r = subprocess.run([sys.executable, str(BENCH / "link_rate.py"), "--json", "--only",
                        "digits", "--digits", str(tmp_path / "none.snn"), "--samples", "1",
                        "--bauds", "default"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    (res,) = d["results"]
    (rate,) = res["rates"]
    assert d["board"] == "icebreaker" and rate["baud"] == 3_000_000 and rate["divisor"] == 10
    assert res["source"].startswith("seeded random") and res["frames_per_sample"] >= 1
    assert 0 < rate["inferences_per_s"] <= rate["wire_bound_per_s"]
    assert rate["inferences_per_s_with_turnaround"] < rate["inferences_per_s"]
    assert res["inference_only_per_s"] > rate["inferences_per_s"] and rate["link_share"] > 1
    # the bytes the host sent: its own frames of the sample, as the protocol packs them
    assert rate["host_bytes_per_sample"] > 6 * res["frames_per_sample"]


def test_lc_fit_builds_the_designs_of_the_calibration_tables():
    """bench/lc_fit.py refits each core's logic model to the designs listed beside it
    (LC_CALIBRATION, SERIAL_LC_CALIBRATION): the same networks, lanes and weight
    memories, in the same order."""
    from snnboards.estimate import LC_CALIBRATION, SERIAL_LC_CALIBRATION

    r = subprocess.run([sys.executable, str(BENCH / "lc_fit.py"), "--list"],
                       capture_output=True, text=True, check=True)
    designs = json.loads(r.stdout)
    for core, table in (("pipeline", LC_CALIBRATION), ("serial", SERIAL_LC_CALIBRATION)):
        assert [(d["network"], d["lanes"], d["weights"]) for d in designs[core]] == \
            [row[:3] for row in table]
