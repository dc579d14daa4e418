"""Outputs are written atomically and only where they can be: a failure at any point
leaves an existing file as it was and no temporary file behind."""

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from snnhw import ir
from snnhw.ir.examples import random_network
from snnhw.nn.train import TrainConfig, load_checkpoint, save_checkpoint
from snnhw.util import OutputError, atomic_path, atomic_write, prepare_output, printable, safe_name


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_failure_inside_the_block_keeps_the_old_file(tmp_path):
    f = tmp_path / "out.bin"
    f.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(f) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("the work failed")
    assert f.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_a_full_disk_keeps_the_old_file(tmp_path):
    f = tmp_path / "out.bin"
    f.write_bytes(b"old")

    class FullDisk:
        def __init__(self, fh):
            self.fh, self.written = fh, 0

        def write(self, data):
            if self.written + len(data) > 10:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.written += len(data)
            return self.fh.write(data)

    # one line naming the file and the reason (snnhw.util.OutputError), not an OSError
    with pytest.raises(OutputError, match=f"cannot write {f}: No space left on device"), \
            atomic_write(f) as fh:
        FullDisk(fh).write(b"x" * 100)
    assert f.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_a_failure_between_writing_and_replacing_keeps_the_old_file(tmp_path, monkeypatch):
    f = tmp_path / "net.snn"
    net = random_network(np.random.default_rng(0), [6, 5, 3])
    ir.save(net, f)
    before = f.read_bytes()

    def no_replace(src, dst):
        raise OSError(errno.EIO, "replace failed")

    monkeypatch.setattr(os, "replace", no_replace)
    other = random_network(np.random.default_rng(1), [6, 5, 3])
    with pytest.raises(OutputError, match="replace failed"):
        ir.save(other, f)
    assert f.read_bytes() == before and leftovers(tmp_path) == []


def test_a_checkpoint_write_that_fails_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    f = tmp_path / "m.pt"
    model = TrainConfig(sizes=(6, 5, 3)).model()
    save_checkpoint(f, model)
    before = f.read_bytes()

    def broken_save(obj, fh):
        fh.write(b"PK\x03\x04 truncated")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OutputError, match="No space left on device"):
        save_checkpoint(f, model)
    assert f.read_bytes() == before and leftovers(tmp_path) == []
    monkeypatch.undo()
    load_checkpoint(f)


def test_the_new_file_keeps_the_old_ones_permissions(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"old")
    f.chmod(0o640)
    with atomic_path(f) as tmp:
        tmp.write_bytes(b"new")
    assert f.read_bytes() == b"new" and (f.stat().st_mode & 0o777) == 0o640


def test_output_paths_are_checked(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        prepare_output(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        prepare_output(tmp_path / "file" / "deeper" / "out.snn")
    made = prepare_output(tmp_path / "new" / "deeper" / "out.snn")
    assert made.parent.is_dir() and not made.exists()


def test_names_from_files_are_made_safe():
    root = Path("rtl_out").resolve()
    for name in ("../../../../outside", "/etc/x", "a/../../b", "..", ".", "\x00\n", "x" * 300):
        n = safe_name(name)
        assert (root / n).resolve().parent == root and not n.startswith(".") and len(n) <= 64
    assert "/" not in safe_name("a/b") and safe_name("") == "net"
    assert safe_name("..") == "net" and safe_name(".hidden") == "hidden"
    assert printable("bad\x1b[2Jname\n") == "bad\\x1b[2Jname\\n"


def test_generate_keeps_a_hostile_name_inside_rtl_out(tmp_path, monkeypatch, capsys):
    from snnhw.cli import main

    net = random_network(np.random.default_rng(0), [6, 5, 3])
    net.name = "../../outside\x1b[2J"
    monkeypatch.chdir(tmp_path)
    ir.save(net, tmp_path / "evil.snn")
    assert main(["generate", "evil.snn", "--lanes", "2", "--json"]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.v"))
    assert len(written) == 1 and written[0].startswith("rtl_out/") and "/../" not in written[0]
    assert main(["info", "evil.snn"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out
