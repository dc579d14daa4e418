"""An output never destroys an input: the same file (by any spelling, or a link) or a
device as an output is refused in one line before any work, and the input survives."""

import os

import numpy as np
import pytest

from snnhw.cli import main
from snnhw.ir.examples import example_paths


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("io")
    ck = d / "m.pt"
    assert main(["train", "--epochs", "1", "--hidden", "8", "-o", str(ck), "--json"]) == 0
    net = d / "n.snn"
    assert main(["export", str(ck), "-o", str(net), "--json"]) == 0
    x = d / "x.npy"
    np.save(x, np.load(example_paths()[1])[:2])
    rng = np.random.default_rng(0)
    npz = d / "mine.npz"
    np.savez(npz, x_train=rng.integers(0, 16, (40, 6)), y_train=rng.integers(0, 2, 40),
             x_test=rng.integers(0, 16, (10, 6)), y_test=rng.integers(0, 2, 10))
    return {"ck": ck, "net": net, "x": x, "npz": npz, "dir": d}


def _cases(f):
    d = f["dir"]
    link = d / "link.pt"
    if not link.exists():
        os.symlink(f["ck"], link)
    dotted = f"{d}/./././{f['ck'].name}"
    return [
        (["export", str(f["ck"]), "-o", str(f["ck"])], f["ck"]),
        (["export", str(f["ck"]), "-o", dotted], f["ck"]),
        (["export", str(f["ck"]), "-o", str(link)], f["ck"]),
        (["export", str(f["ck"]), "--nir", "-o", str(f["ck"])], f["ck"]),
        (["run", str(f["net"]), "--input", str(f["x"]), "--trace", str(f["x"])], f["x"]),
        (["run", str(f["net"]), "--input", str(f["x"]), "--trace", str(f["net"])], f["net"]),
        (["train", "--data", str(f["npz"]), "-o", str(f["npz"]), "--epochs", "1"], f["npz"]),
        (["convert", "--data", str(f["npz"]), "-o", str(f["npz"]), "--epochs", "1"], f["npz"]),
    ]


def test_an_output_that_is_an_input_is_refused_and_the_input_survives(files, capsys):
    for argv, victim in _cases(files):
        before = victim.read_bytes()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "would destroy the input" in err[0], (argv, err)
        assert victim.read_bytes() == before, argv


def test_import_refuses_its_own_graph_and_one_name_for_two_outputs(files, tmp_path, capsys):
    import torch

    from snnhw.nn.conv import SpikingConvNet
    from snnhw.nn.nirio import to_nir, write_graph

    torch.manual_seed(0)
    model = SpikingConvNet("d6", in_shape=(1, 1, 4), n_classes=2, timesteps=2, in_bits=1,
                           in_scale=1.0, spike_bits=1, fire="floor", mpr=False)
    g = tmp_path / "g.nir"
    write_graph(g, to_nir(model))
    before = g.read_bytes()
    assert main(["import", str(g), "-o", str(g)]) == 2
    assert "would destroy the input" in capsys.readouterr().err
    out = tmp_path / "o.snn"
    assert main(["import", str(g), "-o", str(out), "--checkpoint", str(out)]) == 2
    assert "give two names" in capsys.readouterr().err
    assert g.read_bytes() == before and not out.exists()


def test_a_device_is_not_an_output(files, capsys):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    assert main(["export", str(files["ck"]), "-o", "/dev/null"]) == 2
    assert "not a regular file" in capsys.readouterr().err


LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # a write past the limit fails: EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256))
from snnhw.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("what", ["export", "train", "run --trace"])
def test_a_write_that_fails_is_one_line_and_leaves_no_temporary_file(files, tmp_path, what):
    """EFBIG (a file size limit) while writing an IR file, a checkpoint (torch's writer) or
    a trace: exit 2, one line naming the path, the old file kept, no temporary file."""
    import subprocess
    import sys

    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    argv = {"export": ["export", str(files["ck"]), "-o", str(out)],
            "train": ["train", "--epochs", "1", "--hidden", "8", "-o", str(out)],
            "run --trace": ["run", str(files["net"]), "--input", str(files["x"]),
                            "--trace", str(out)]}[what]
    r = subprocess.run([sys.executable, "-c", LIMITED, *argv], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr[-2000:]
    assert f"cannot write {out}" in lines[0] and "Traceback" not in r.stderr
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


@pytest.mark.parametrize("fault", ["ENOSPC on fsync", "EIO on rename", "EPERM on rename"])
@pytest.mark.parametrize("what", ["export", "import", "generate", "run --trace", "train"])
def test_an_os_error_while_writing_is_one_line(files, tmp_path, monkeypatch, capsys, what,
                                               fault):
    """A failing disk (ENOSPC, EIO) or an immutable target (EPERM) injected where every
    output is committed: one line naming the path and the reason, the old output kept,
    no temporary file left."""
    import errno

    from snnhw import util

    code = getattr(errno, fault.split()[0])
    where = "fsync" if "fsync" in fault else "replace"

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    out = tmp_path / ("rtl" if what == "generate" else "out.bin")
    graph = tmp_path / "g.nir"
    if what == "import":
        assert main(["train", "--epochs", "1", "--hidden", "8", "--spike-bits", "1", "--fire",
                     "floor", "-o", str(tmp_path / "b.pt"), "--json"]) == 0
        assert main(["export", str(tmp_path / "b.pt"), "--nir", "-o", str(graph)]) == 0
        (tmp_path / "b.pt").unlink()
    capsys.readouterr()
    if what == "generate":
        out.mkdir()
        (out / "snn_top.v").write_text("old")
        target = out / "snn_top.v"
    else:
        out.write_bytes(b"old")
        target = out
    argv = {"export": ["export", str(files["ck"]), "-o", str(out)],
            "import": ["import", str(graph), "-o", str(out)],
            "generate": ["generate", str(files["net"]), "-o", str(out)],
            "train": ["train", "--epochs", "1", "--hidden", "8", "-o", str(out)],
            "run --trace": ["run", str(files["net"]), "--input", str(files["x"]),
                            "--trace", str(out)]}[what]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    monkeypatch.setattr(util.os, where, fail)
    assert main(argv) == 2
    monkeypatch.undo()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and str(tmp_path) in lines[0], lines
    assert os.strerror(code) in lines[0]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
