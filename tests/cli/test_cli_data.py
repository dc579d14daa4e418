"""User data files through the whole chain: train -> export -> verify (static and
temporal .npz), and the one-line refusals of data that does not fit."""

import json

import numpy as np
import pytest

from snnhw import golden, ir
from snnhw.cli import main
from snntb.runner import simulator_available

needs_verilator = pytest.mark.skipif(simulator_available("verilator") is not None,
                                     reason="no verilator")


def write_npz(path, x_train, x_test, rule):
    np.savez(path, x_train=x_train, y_train=rule(x_train), x_test=x_test, y_test=rule(x_test))
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(8)
    # static: 6 inputs of 3 bits, class = which half holds more
    xs = rng.integers(0, 8, (120, 6))
    static = write_npz(d / "static.npz", xs[:90], xs[90:],
                       lambda x: (x[:, :3].sum(1) > x[:, 3:].sum(1)).astype(np.int64))
    # temporal: 5 steps of 4 binary channels, class = channel 0 active in the first steps
    xt = rng.integers(0, 2, (100, 5, 4))
    temporal = write_npz(d / "temporal.npz", xt[:80], xt[80:],
                         lambda x: (x[:, :2, 0].sum(1) > 0).astype(np.int64))
    return d, static, temporal


@needs_verilator
@pytest.mark.parametrize("kind", ["static", "temporal"])
def test_user_file_through_train_export_verify(files, kind, capsys):
    d, static, temporal = files
    path = static if kind == "static" else temporal
    ck, net_path = d / f"{kind}.pt", d / f"{kind}.snn"
    assert main(["train", "--data", path, "--hidden", "8", "--epochs", "3", "-o", str(ck),
                 "--json"]) == 0
    t = json.loads(capsys.readouterr().out)
    x_test = np.load(path)["x_test"]
    if kind == "static":
        assert t["sizes"] == [6, 8, 2] and t["timesteps"] == 4
    else:   # a temporal file sets T to its length
        assert t["sizes"] == [4, 8, 2] and t["timesteps"] == 5
    assert t["data"] == kind and 0 < t["test_acc"] <= 1
    # export runs the checkpoint's own data (no --data needed)
    assert main(["export", str(ck), "-o", str(net_path), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["data"] == kind and e["samples"] == len(x_test) == e["agree_samples"]
    net = ir.load(net_path)
    assert net.in_bits == (3 if kind == "static" else 1) and net.timesteps == t["timesteps"]
    # the golden model's accuracy on the file, computed here from the file itself
    x = x_test if kind == "temporal" else np.repeat(x_test[:, None], net.timesteps, axis=1)
    want = float((golden.run(net, x).classes == np.load(path)["y_test"]).mean())
    assert e["golden_acc"] == want
    assert main(["verify", str(net_path), "--data", path, "--lanes", "2", "--work",
                 str(d / f"w-{kind}"), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    assert v["ok"] and v["samples"] == len(x_test) and v["golden_hw_agree"] == len(x_test)
    assert v["acc_hw"] == want and v["inputs"] == f"{kind} test samples"


def test_temporal_file_fixes_the_steps(files, capsys):
    d, _, temporal = files
    assert main(["train", "--data", temporal, "-T", "3", "--epochs", "1", "-o",
                 str(d / "x.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "temporal with 5 steps; -T must be 5" in err[0]


def test_float_file_is_quantised_to_in_bits(files, tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 5))
    path = write_npz(tmp_path / "f.npz", x[:40], x[40:], lambda v: (v[:, 0] > 0).astype(int))
    assert main(["train", "--data", path, "--in-bits", "4", "--hidden", "6", "--epochs", "2",
                 "-o", str(tmp_path / "f.pt"), "--json"]) == 0
    capsys.readouterr()
    assert main(["export", str(tmp_path / "f.pt"), "-o", str(tmp_path / "f.snn"),
                 "--in-bits", "4", "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert ir.load(tmp_path / "f.snn").in_bits == 4 and e["agree_samples"] == 20


@pytest.mark.parametrize("cmd", [["train"], ["convert"]])
def test_bad_file_is_one_line_for_every_command(tmp_path, cmd, capsys):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((4, 3)), y_train=np.zeros(3, int),
             x_test=np.zeros((2, 3)), y_test=np.zeros(2, int))
    assert main([*cmd, "--data", str(tmp_path / "bad.npz"), "-o", str(tmp_path / "o.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "array y_train has 3 labels for 4 inputs" in err[0]
    assert main([*cmd, "--data", "nonsense", "-o", str(tmp_path / "o.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown data set 'nonsense'" in err[0]


def test_export_refuses_data_of_another_shape(files, tmp_path, capsys):
    _, static, _ = files
    ck = tmp_path / "digits.pt"
    assert main(["train", "--hidden", "8", "--epochs", "1", "-o", str(ck), "--json"]) == 0
    capsys.readouterr()
    assert main(["export", str(ck), "--data", static, "-o", str(tmp_path / "x.snn")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the model takes 64 inputs" in err[0]


def test_convert_on_a_user_file(files, tmp_path, capsys):
    _, static, temporal = files
    assert main(["convert", "--data", static, "--hidden", "8", "--epochs", "3", "-T", "8",
                 "--l4", "0", "-o", str(tmp_path / "c.pt"), "--json"]) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["data"] == "static" and 0 < c["snn_test_acc"] <= 1
    assert main(["export", str(tmp_path / "c.pt"), "-o", str(tmp_path / "c.snn"),
                 "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["agree_samples"] == e["samples"] == 30
    assert main(["convert", "--data", temporal, "-o", str(tmp_path / "t.pt")]) == 2
    assert "is temporal" in capsys.readouterr().err


def test_options_given_win_over_the_data_defaults():
    from snnhw.api import train_config
    from snnhw.cli import build_parser
    from snnhw.cli.train import options
    from snnhw.data import load_data

    def config_for(args, data):
        return train_config(data, **options(args))

    data = load_data("mnist1d-temporal")
    parse = build_parser().parse_args
    cfg = config_for(parse(["train", "--data", "mnist1d-temporal"]), data)
    assert cfg.leak_shift == 3 and cfg.bn and cfg.sizes == (7, 256, 128, 10)
    cfg = config_for(parse(["train", "--data", "mnist1d-temporal", "--leak-shift", "none",
                            "--no-bn", "--hidden", "32", "--epochs", "2"]), data)
    assert cfg.leak_shift is None and not cfg.bn and cfg.sizes == (7, 32, 10)
    assert cfg.epochs == 2 and cfg.timesteps == 40
    assert config_for(parse(["train", "--leak-shift", "2"]), load_data("digits")).leak_shift == 2
