import json
import re
import subprocess
import sys

import numpy as np
import pytest

from snnhw import golden, ir
from snnhw.cli import main
from snnhw.ir.examples import build_example, example_paths


@pytest.fixture
def net_file(tmp_path):
    net, x = build_example()
    path = ir.save(net, tmp_path / "net.snn")
    xp = tmp_path / "x.npy"
    np.save(xp, x)
    return path, xp, net, x


def test_info_json_reports_widths_and_memory(net_file, capsys):
    path, _, net, _ = net_file
    assert main(["info", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["content_hash"] == net.content_hash()
    assert [ly["n_out"] for ly in d["layers"]] == [32, 10]
    assert d["layers"][0]["weight_bits"] == 64 * 32 * 8
    assert d["param_bits"] == 64 * 32 * 8 + 32 * 16 + 32 * 10 * 8 + 10 * 16
    # one fired layer of 32 membranes of 16 bits; the membrane readout layer holds logits
    assert d["state_bits"] == 32 * 16
    # acc_bits must hold the exact bound from the weights, with sign
    bound0 = int((np.abs(net.layers[0].W).sum(axis=1) * 31 + np.abs(net.layers[0].b)).max())
    assert d["layers"][0]["current_bound"] == bound0
    assert 2 ** (d["layers"][0]["acc_bits"] - 1) > bound0 >= 2 ** (d["layers"][0]["acc_bits"] - 2)
    assert d["logit_bound"] == 4 * net.current_bound(1)


def test_info_table(net_file, capsys):
    assert main(["info", str(net_file[0])]) == 0
    out = capsys.readouterr().out
    assert "example-64-32-10" in out and "parameter memory 19616 bits" in out


def test_info_lanes_lists_the_hardware_memories(net_file, capsys):
    path = net_file[0]
    assert main(["info", str(path), "--lanes", "4,2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    mems = {m["name"]: (m["words"], m["width"], m["kind"]) for m in d["memories"]}
    # 64-32-10 at 4 and 2 lanes: 8 and 5 groups; weights are G * n_in words of lanes * w_bits
    assert mems["layer0.syn.weights.mem"] == (8 * 64, 4 * 8, "rom")
    assert mems["layer1.syn.weights.mem"] == (5 * 32, 2 * 8, "rom")
    assert mems["layer0.sweep.membrane"] == (8, 4 * 16, "ram")
    assert mems["layer1.readout.logits"][0] == 5
    assert "layer1.sweep.membrane" not in mems  # the membrane readout does not fire
    assert main(["info", str(path), "--lanes", "0"]) == 2


def test_info_lanes_lists_the_serial_cores_memories(net_file, capsys):
    path = net_file[0]
    assert main(["info", str(path), "--lanes", "4", "--core", "serial", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    mems = {m["name"]: (m["words"], m["width"], m["kind"]) for m in d["memories"]}
    # 64-32-10 at 4 lanes: 8 and 3 groups; one weight store of 8 * 64 + 3 * 32 words
    assert mems["engine.weights"] == (8 * 64 + 3 * 32, 4 * 8, "rom")
    # a bias and a membrane a word (the sweep takes a neuron a cycle), lanes per group
    assert mems["engine.bias"] == ((8 + 3) * 4, 16, "rom")
    assert mems["engine.membrane"] == (8 * 4, 16, "ram")     # the readout does not fire
    assert mems["engine.readout.logits"][0] == 10            # a neuron at a time
    assert d["core"] == "serial" and d["lanes"] == [4, 4]
    assert main(["info", str(path), "--lanes", "4,2", "--core", "serial"]) == 2
    assert "one lanes setting" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "convert", "import", "export", "info", "run",
                                     "generate", "verify", "build", "estimate"])
def test_help_reads_as_written(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "%%" not in out
    # the description (between the usage and the arguments) keeps its acronyms
    description = out.split("\n\n")[1]
    assert description[0].isupper()
    assert re.findall(r"\b(verilog|json|ir|rtl|nir|mlp|snntorch|ann)\b", description) == []


def test_run_json_equals_golden(net_file, capsys):
    path, xp, net, x = net_file
    assert main(["run", str(path), "--input", str(xp), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    t = golden.run(net, x)
    assert d["classes"] == t.classes.tolist()
    assert d["logits"] == t.logits.tolist()


def test_run_on_a_data_set_reports_accuracy(net_file, tmp_path, capsys):
    path, _, net, _ = net_file
    rng = np.random.default_rng(1)
    xs = rng.integers(0, 32, (30, 64))
    ys = rng.integers(0, 10, 30)
    np.savez(tmp_path / "d.npz", x_train=xs, y_train=ys, x_test=xs[:9], y_test=ys[:9])
    assert main(["run", str(path), "--data", str(tmp_path / "d.npz"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    g = golden.run(net, np.repeat(xs[:9, None], net.timesteps, axis=1))
    assert d["classes"] == g.classes.tolist()
    assert d["accuracy"] == float((g.classes == ys[:9]).mean())
    # digits pixels fit in_bits=5: the same through the registry
    assert main(["run", str(path), "--data", "digits"]) == 0
    assert "on 360 digits test samples" in capsys.readouterr().out
    # a file that does not fit the network: one line
    np.savez(tmp_path / "w.npz", x_train=xs[:, :5], y_train=ys, x_test=xs[:2, :5],
             y_test=ys[:2])
    assert main(["run", str(path), "--data", str(tmp_path / "w.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected [batch, 64]" in err[0]


def test_run_static_input_is_repeated_every_step(net_file, tmp_path, capsys):
    path, _, net, x = net_file
    static = x[:, 0, :]
    np.save(tmp_path / "s.npy", static)
    assert main(["run", str(path), "--input", str(tmp_path / "s.npy"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    expect = golden.run(net, np.repeat(static[:, None], net.timesteps, axis=1))
    assert d["logits"] == expect.logits.tolist()


def test_run_trace_file(net_file, tmp_path, capsys):
    path, xp, net, x = net_file
    out = tmp_path / "trace.npz"
    assert main(["run", str(path), "--input", str(xp), "--trace", str(out)]) == 0
    assert "trace written" in capsys.readouterr().out
    t = golden.run(net, x, trace=True)
    with np.load(out) as z:
        assert np.array_equal(z["layer0.s"], t.layers[0].s)
        assert np.array_equal(z["layer1.I"], t.layers[1].I)
        assert np.array_equal(z["classes"], t.classes)
    # exactly the path given (numpy alone would write X.npz), and never a folder
    plain = tmp_path / "trace"
    assert main(["run", str(path), "--input", str(xp), "--trace", str(plain), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trace"] == str(plain)
    assert plain.is_file() and not (tmp_path / "trace.npz.npz").exists()
    assert main(["run", str(path), "--input", str(xp), "--trace", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "snnhw", *args], capture_output=True, text=True)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "cannot read network file"),
    (lambda p: p.write_text("not a zip"), "invalid network file"),
    (lambda p: p.write_bytes(ir.dumps(build_example()[0])[:300]), "invalid network file"),
])
def test_bad_network_file_is_one_line(tmp_path, make, message):
    p = tmp_path / "bad.snn"
    make(p)
    r = run_cli("info", str(p))
    assert r.returncode == 2
    assert r.stderr.startswith("snnhw: error: " + message)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("array, message", [
    (np.zeros((2, 4, 63), np.int64), "shape"),
    (np.full((2, 4, 64), 32), "input value 32 is outside 0..31"),
    (np.zeros((2, 64), np.float32), "expected integers, found dtype float32"),
])
def test_bad_input_is_one_line(net_file, tmp_path, array, message):
    np.save(tmp_path / "in.npy", array)
    r = run_cli("run", str(net_file[0]), "--input", str(tmp_path / "in.npy"))
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_input_not_npy(net_file, tmp_path):
    (tmp_path / "in.npy").write_text("1,2,3")
    np.savez(tmp_path / "in.npz", x=np.zeros((2, 64), np.int64))
    np.save(tmp_path / "empty.npy", np.zeros((0, 64), np.int64))
    for path, message in ((tmp_path / "in.npy", "not an .npy file; expected an .npy array"),
                          (tmp_path / "in.npz", "an .npz archive (give one array: .npy)"),
                          (net_file[0], "an .npz archive"),   # the .snn itself (a zip)
                          (tmp_path, "not a regular file"),
                          (tmp_path / "none.npy", "no such file"),
                          (tmp_path / "empty.npy", "no samples (shape [0, 4, 64])")):
        r = run_cli("run", str(net_file[0]), "--input", str(path))
        assert r.returncode == 2 and message in r.stderr, (path, r.stderr)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("cmd", [[], ["info"], ["run"]])
def test_help_everywhere(cmd):
    r = run_cli(*cmd, "--help")
    assert r.returncode == 0
    assert "usage: snnhw" in r.stdout and len(r.stdout.splitlines()) > 4


def test_shipped_example_runs(capsys):
    net_path, x_path = example_paths()
    assert main(["run", str(net_path), "--input", str(x_path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["classes"]) == 16


def test_special_files_are_refused_at_once(tmp_path):
    for path in ("/dev/zero", str(tmp_path)):
        r = subprocess.run([sys.executable, "-m", "snnhw", "info", path], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and "not a regular file" in r.stderr
        assert r.stderr.count("\n") == 1
