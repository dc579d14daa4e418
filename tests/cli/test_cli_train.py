import json
import subprocess
import sys

import pytest

from snnhw import ir
from snnhw.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("ck") / "m.pt"
    assert main(["train", "--epochs", "2", "--hidden", "32", "-o", str(out), "--json"]) == 0
    return out


def test_train_json(checkpoint, capsys):
    out = checkpoint.parent / "again.pt"
    assert main(["train", "--epochs", "1", "--hidden", "16", "--spike-bits", "1", "-o", str(out),
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["sizes"] == [64, 16, 10] and d["spike_bits"] == 1
    assert 0.0 < d["test_acc"] <= 1.0 and out.exists()


def test_export_reports_agreement(checkpoint, tmp_path, capsys):
    out = tmp_path / "n.snn"
    assert main(["export", str(checkpoint), "-o", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    net = ir.load(out)
    assert d["content_hash"] == net.content_hash()
    assert d["samples"] == 360 and d["agree_samples"] == 360 and d["first_mismatch"] is None
    assert d["int_acc"] == d["golden_acc"]
    assert [ly.n_out for ly in net.layers] == [32, 10]


def test_export_too_narrow_is_one_line(tmp_path):
    ck = tmp_path / "wide.pt"
    assert main(["train", "--epochs", "1", "--hidden", "8", "--spike-bits", "4", "-o", str(ck),
                 "--no-progress"]) == 0
    # 4-bit spikes need 6 bits of membrane headroom: u_bits=8 leaves none for k
    r = subprocess.run([sys.executable, "-m", "snnhw", "export", str(ck), "-o",
                        str(tmp_path / "x.snn"), "--u-bits", "8"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("snnhw: error: cannot export: layer 0: u_bits=8 leaves no room")
    assert "Traceback" not in r.stderr


def test_export_bad_checkpoint(tmp_path):
    (tmp_path / "bad.pt").write_text("nope")
    r = subprocess.run([sys.executable, "-m", "snnhw", "export", str(tmp_path / "bad.pt")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a readable checkpoint" in r.stderr


def test_convert_then_export(tmp_path, capsys):
    ck = tmp_path / "c.pt"
    assert main(["convert", "--epochs", "5", "--hidden", "32", "-T", "8", "--l4", "0.5",
                 "-o", str(ck), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["l4_strength"] == 0.5 and d["timesteps"] == 8
    assert main(["export", str(ck), "-o", str(tmp_path / "c.snn"), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["agree_samples"] == 360
    assert ir.load(tmp_path / "c.snn").in_bits == 1


@pytest.mark.parametrize("cmd", ["train", "export", "convert"])
def test_help(cmd):
    r = subprocess.run([sys.executable, "-m", "snnhw", cmd, "--help"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "usage: snnhw " + cmd in r.stdout


def test_export_warns_of_a_large_quantisation_loss(checkpoint, tmp_path, capsys):
    out = tmp_path / "narrow.snn"
    assert main(["export", str(checkpoint), "-o", str(out), "--w-bits", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    drop = 100 * (d["float_acc"] - d["int_acc"])
    assert (len(d["warnings"]) == 1) == (drop > 5.0)
    r = subprocess.run([sys.executable, "-m", "snnhw", "export", str(checkpoint), "-o",
                        str(out), "--w-bits", "2"], capture_output=True, text=True)
    assert r.returncode == 0
    assert ("snnhw: warning: the integer model is" in r.stderr) == (drop > 5.0)


def test_a_checkpoint_where_a_network_belongs_gets_a_hint(checkpoint, capsys):
    assert main(["info", str(checkpoint)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'snnhw export' makes the IR file" in err[0]


def test_outputs_are_kept_when_the_work_fails(checkpoint, tmp_path, capsys):
    keep = tmp_path / "keep.snn"
    keep.write_bytes(b"precious")
    # refused by its options before any work
    for bad in (["--w-bits", "1"], ["--u-bits", "nan"], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as exit_:
            main(["export", str(checkpoint), "-o", str(keep), *bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("snnhw export: error: argument")
    assert keep.read_bytes() == b"precious"
    # an output that is a folder, or under a file
    assert main(["train", "--epochs", "1", "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["train", "--epochs", "1", "-o", str(keep / "x.pt")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert keep.read_bytes() == b"precious"


def test_no_progress_bar_into_a_pipe(tmp_path):
    r = subprocess.run([sys.executable, "-m", "snnhw", "train", "--epochs", "2", "--hidden", "8",
                        "-o", str(tmp_path / "p.pt")], capture_output=True, text=True)
    assert r.returncode == 0 and "\r" not in r.stderr and "\r" not in r.stdout


def test_qat_with_a_width_per_layer_from_the_command_line(tmp_path, capsys):
    """``--qat 8,4``: the first layer at 8 bits, the second at 4; the checkpoint keeps
    them, ``export`` takes them, ``--w-bits`` overrides them per layer; a list of the
    wrong length, or a width out of range, is refused in one line."""
    ck = tmp_path / "q.pt"
    assert main(["train", "--epochs", "1", "--hidden", "12", "--qat", "8,4", "--qat-epochs",
                 "1", "-o", str(ck), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["qat"]["w_bits"] == [8, 4]
    out = tmp_path / "q.snn"
    assert main(["export", str(ck), "-o", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["agree_samples"] == d["samples"] == 360 and d["int_acc"] == d["float_acc"]
    assert [ly.w_bits for ly in ir.load(out).layers] == [8, 4]
    assert main(["export", str(ck), "-o", str(out), "--w-bits", "6,3", "--json"]) == 0
    capsys.readouterr()
    assert [ly.w_bits for ly in ir.load(out).layers] == [6, 3]
    assert main(["export", str(ck), "-o", str(out), "--w-bits", "8,4,4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the network has 2 weight layers" in err[0]
    assert main(["train", "--epochs", "1", "--hidden", "12", "--qat", "8,4,4", "-o",
                 str(tmp_path / "r.pt")]) == 2
    assert "the network has 2 weight layers" in capsys.readouterr().err
    assert not (tmp_path / "r.pt").exists()
    for bad in ("8,1", "8,", "8;4"):
        with pytest.raises(SystemExit) as exit_:
            main(["export", str(ck), "-o", str(out), "--w-bits", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "one per layer comma separated" in err[0]
