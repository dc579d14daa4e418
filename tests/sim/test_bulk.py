"""The bulk testbench: the generated Verilog at the simulator's own speed.

Its results are compared with the golden model after the run; these tests
check that it sends exactly the encoded stream, keeps the stall patterns
(same cycle count as the cocotb testbench under the same patterns), and that
a lost, duplicated or wrong result is caught.
"""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from snnhw import golden, ir
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_network
from snnhw.protocol.streams import encode_batch
from snntb.bulk import _read_results, cycle_budget, run_bulk, stimulus_words
from snntb.runner import run_case, simulator_available
from snntb.testbench import Layout


def test_stimulus_is_the_encoded_stream(designs, inputs):
    net, _, manifest = designs["deep"]
    x = inputs(net, 7, seed=4)
    x[3, 1] = 0                                   # a step with no events at all
    layout = Layout(manifest)
    want = [layout.pack(e) for e in encode_batch(x)]
    assert stimulus_words(manifest, x).tolist() == want


@pytest.mark.parametrize("name", ["small", "deep", "conv"])
def test_bulk_equals_golden_under_stalls(sim, name, designs, work, inputs):
    net, rtl, manifest = designs[name]
    x = inputs(net, 12 if sim == "verilator" else 5, seed=1)
    r = run_bulk(rtl, x, sim=sim, work=work, in_pauses="heavy", out_pauses="bursty", seed=3,
                 max_cycles=cycle_budget(net, manifest["lanes"], x, "heavy", "bursty"),
                 name=f"stall-{name}")
    assert r.ok, r.errors
    g = golden.run(net, x)
    assert r.logits == g.logits.tolist() and r.classes == g.classes.tolist()
    assert r.cycles > 0 and r.simulated_cycles >= r.cycles


@pytest.mark.parametrize("pats", [("none", "none"), ("heavy", "bursty"), ("alternate", "light")])
def test_same_cycles_as_cocotb_under_the_same_stalls(pats, designs, work, inputs):
    """Both testbenches draw the same pause sequences and apply them with the same rule,
    so the design sees the same stimulus cycle for cycle: equal cycle counts."""
    if simulator_available("verilator"):
        pytest.skip(simulator_available("verilator"))
    net, rtl, _manifest = designs["small"]
    x = inputs(net, 8, seed=5)
    cb = run_case(net, x, rtl_dir=rtl, sim="verilator", work=work, in_pauses=pats[0],
                  out_pauses=pats[1], seed=11, name=f"cmp-{pats[0]}")
    assert cb.ok
    bk = run_bulk(rtl, x, sim="verilator", work=work, in_pauses=pats[0], out_pauses=pats[1],
                  seed=11, max_cycles=10**7, name=f"cmp-{pats[0]}")
    assert bk.ok and bk.logits == cb.report["logits"]
    assert bk.cycles == cb.report["cycles"]


def test_timeout_is_reported(designs, work, inputs):
    if simulator_available("verilator"):
        pytest.skip(simulator_available("verilator"))
    net, rtl, _ = designs["small"]
    x = inputs(net, 6, seed=6)
    r = run_bulk(rtl, x, sim="verilator", work=work, max_cycles=50, name="timeout")
    assert r.timed_out and not r.ok
    assert len(r.classes) < len(x) and "timed out after 50 cycles" in r.errors[-1]


def test_protocol_slips_in_the_output_are_errors(designs, tmp_path):
    _, _, manifest = designs["small"]
    f = {f["name"]: f for f in manifest["ports"]["o__payload"]["fields"]}
    cls, last = 1 << f["is_class"]["offset"], 1 << f["last"]["offset"]
    n_out = manifest["n_out"]
    good = [f"{k:x}" for k in range(n_out)] + [f"{cls | last | 2:x}"]
    path = tmp_path / "out.hex"
    path.write_text("\n".join(good) + "\n")
    logits, classes, errors = _read_results(path, manifest)
    assert errors == [] and logits == [list(range(n_out))] and classes == [2]
    path.write_text("\n".join(good[:-2] + good[-1:]) + "\n")         # a logit lost
    assert "class after 4 logits (expected 5)" in _read_results(path, manifest)[2][0]
    path.write_text("\n".join([f"{last:x}", *good]) + "\n")           # 'last' on a logit
    assert "'last'" in _read_results(path, manifest)[2][0]


def _snnhw(*args):
    return subprocess.run([sys.executable, "-m", "snnhw", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("engine", ["bulk", "cocotb"])
def test_verify_names_the_first_mismatch_with_either_engine(engine, work, tmp_path, inputs):
    """RTL of one network checked against another (one weight differs): the mismatch is
    found and named the same way by both engines."""
    if simulator_available("verilator"):
        pytest.skip(simulator_available("verilator"))
    net = random_network(np.random.default_rng(2), [12, 10, 5], in_bits=3, timesteps=3,
                         spike_bits=2, name="a")
    x = inputs(net, 10, seed=7)
    rtl = tmp_path / "rtl"
    write(net, 3, rtl)
    # change the readout weight that matters most for sample 2, so that its logits change
    t = golden.run(net, x, trace=True)
    j = int(np.argmax(t.layers[0].s[2].sum(0)))
    W = net.layers[1].W.copy()
    W[:, j] = np.where(W[:, j] != 0, -W[:, j], 1)
    other = net.replace(name="b", layers=[net.layers[0],
                                          dataclasses.replace(net.layers[1], W=W)])
    ir.save(other, tmp_path / "b.snn")
    manifest = json.loads((rtl / "snn_top.json").read_text())
    manifest["ir_hash"] = other.content_hash()          # as if stale: generated from `a`
    (rtl / "snn_top.json").write_text(json.dumps(manifest))
    np.save(tmp_path / "x.npy", x)
    r = _snnhw("verify", str(tmp_path / "b.snn"), "--rtl", str(rtl), "--input",
               str(tmp_path / "x.npy"), "--engine", engine, "--work", str(work / engine),
               "--json")
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("{"), (r.stdout[:500], r.stderr[-500:])
    rep = json.loads(r.stdout)
    g_a, g_b = golden.run(net, x), golden.run(other, x)
    differ = np.flatnonzero(np.any(g_a.logits != g_b.logits, axis=1))
    assert differ.size
    mm = rep["first_mismatch_golden_hw"]
    s = int(differ[0])
    neuron = int(np.flatnonzero(g_a.logits[s] != g_b.logits[s])[0])
    assert mm == {"sample": s, "layer": 1, "step": None, "neuron": neuron, "what": "logit",
                  "golden": int(g_b.logits[s, neuron]), "hardware": int(g_a.logits[s, neuron])}
    assert rep["golden_hw_agree"] == len(x) - differ.size
    assert rep["backend_info"]["engine"] == engine


def test_waves_need_the_cocotb_engine(tmp_path):
    r = _snnhw("verify", "snnhw/data/example.snn", "--waves", "--work", str(tmp_path))
    assert r.returncode == 2 and "--engine cocotb" in r.stderr
    assert "Traceback" not in r.stderr
