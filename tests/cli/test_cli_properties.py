"""Every subcommand, given arguments drawn from valid and invalid domains (numbers at and
past every limit, NaN/inf, empty and huge values, files of the wrong kind, folders,
missing parents, an output that is one of the inputs, files that declare huge contents),
ends cleanly: no traceback, exit status 0, 1 or 2, one line of stderr on 2, ``--json``
output one JSON object (or nothing), no existing file in the output location changed
unless the command exited 0, and no input of the command changed at all.

The default example count is small for CI. Run it long with, e.g.::

    SNNHW_CLI_EXAMPLES=2000 .venv/bin/python -m pytest tests/cli/test_cli_properties.py

(a few seconds per training example: ``train`` and ``convert`` draw valid runs too).
"""

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snnhw import ir
from snnhw.cli import main
from snnhw.ir.examples import random_conv_network, random_network
from snnhw.nn.train import TrainConfig, save_checkpoint

EXAMPLES = int(os.environ.get("SNNHW_CLI_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))
SENTINEL = b"an existing file the command must not damage unless it succeeds"

NUMBERS = ["0", "-1", "1", "2", "3", "4", "8", "16", "17", "32", "33", "100", "65536",
           "65537", "99999999999999999999", "nan", "inf", "-inf", "1e308", "0.5", "-0.5",
           "abc", "", " ", "1,2", "0x10"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    d = tmp_path_factory.mktemp("ws")
    rng = np.random.default_rng(0)
    net = random_network(rng, [64, 6, 10], in_bits=5, timesteps=2)
    ir.save(net, d / "good.snn")
    save_checkpoint(d / "good.pt", TrainConfig(sizes=(64, 6, 10), timesteps=2).model())
    conv = random_conv_network(rng, (1, 8, 8), [(3, (3, 3), (1, 1), (1, 1))], [10], in_bits=5,
                               timesteps=2)
    ir.save(conv, d / "conv.snn")
    save_checkpoint(d / "conv.pt", TrainConfig(sizes=(64, 10), arch="c2k3,sp2",
                                               timesteps=2).model())
    np.save(d / "x.npy", rng.integers(0, 32, (3, 64)))
    np.save(d / "xf.npy", rng.random((3, 64)))
    np.save(d / "labels.npy", np.array([1, 2, 3]))
    np.savez(d / "data.npz", x_train=rng.integers(0, 8, (30, 64)),
             y_train=rng.integers(0, 10, 30), x_test=rng.integers(0, 8, (6, 64)),
             y_test=rng.integers(0, 10, 6))
    np.savez(d / "bad.npz", x_train=np.zeros((3, 2)), y_train=np.zeros(2, int))
    (d / "text.txt").write_text("hello\n")
    (d / "empty.bin").write_bytes(b"")
    (d / "folder").mkdir()
    (d / "file").write_bytes(b"x")
    bombs(d)
    os.symlink(d / "good.snn", d / "link.snn")
    return d


def _npy_header(shape, descr="<i8") -> bytes:
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    text = text.ljust(117) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def bombs(d):
    """Small files that declare huge contents: an npy header of 10^12 values, a data file
    whose member declares 8 TB, an IR file whose weights declare 8192 x 8192 over a few
    bytes, an HDF5 graph declaring 320 GB in compressed chunks."""
    import zipfile

    import h5py

    big = _npy_header((1000000, 1000000)) + bytes(64)
    (d / "huge.npy").write_bytes(big)
    with zipfile.ZipFile(d / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x_train.npy", big)
        for name, arr in (("y_train", np.zeros(2, int)), ("x_test", np.zeros((2, 64))),
                          ("y_test", np.zeros(2, int))):
            buf = io.BytesIO()
            np.save(buf, arr)
            zf.writestr(f"{name}.npy", buf.getvalue())
    with zipfile.ZipFile(d / "good.snn") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["layer0.W.npy"] = _npy_header((8192, 8192), "|i1") + bytes(64)
    with zipfile.ZipFile(d / "irbomb.snn", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with h5py.File(d / "bomb.nir", "w") as h:
        ds = h.create_group("node").create_dataset("weight", shape=(200_000, 200_000),
                                                   dtype="f8", chunks=(1000, 1000),
                                                   compression="gzip")
        ds[:10, :10] = 0


BOMBS = ("huge.npy", "bomb.npz", "irbomb.snn", "bomb.nir")


def inputs(ws):
    return st.sampled_from([str(ws / n) for n in ("good.snn", "good.pt", "x.npy", "xf.npy",
                                                  "data.npz", "bad.npz", "text.txt",
                                                  "empty.bin", "folder", "missing.snn",
                                                  "conv.snn", "conv.pt", "link.snn",
                                                  *BOMBS)]
                           + ["/dev/null", ""])


#: the options whose value is a file the command writes
OUTPUT_OPTIONS = ("-o", "--trace", "--store", "--checkpoint")


def outputs(ws, name):
    """Output paths: new, an existing file (the sentinel), a folder, under a file, and
    the workspace's inputs themselves (by their name, through ``.`` and through a link)."""
    return st.sampled_from([f"{ws}/out/{name}", f"{ws}/keep/{name}", str(ws / "folder"),
                            f"{ws}/file/{name}", f"{ws}/new/deeper/{name}",
                            str(ws / "good.snn"), str(ws / "good.pt"), f"{ws}/./x.npy",
                            str(ws / "data.npz"), str(ws / "link.snn"), "/dev/null"])


def number():
    """Numbers at and past the limits, non-numbers, and arbitrary integers, floats and
    short texts (so that a long run keeps finding new values)."""
    return st.one_of(st.sampled_from(NUMBERS), st.integers(-2**70, 2**70).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.text(max_size=6))


def opt(flag, values):
    """``[]`` or ``[flag, value]``."""
    return st.one_of(st.just([]), values.map(lambda v: [flag, v]))


def flag(name):
    return st.sampled_from([[], [name]])


def command(*parts):
    return st.tuples(*parts).map(lambda ps: [a for p in ps for a in p])


def data_values(ws):
    return st.sampled_from(["digits", "nope", str(ws / "data.npz"), str(ws / "bad.npz"),
                            str(ws / "text.txt"), str(ws / "folder"), str(ws / "bomb.npz")])


def archs():
    """CNN layer texts: valid, impossible on the data, malformed, and arbitrary."""
    return st.one_of(st.sampled_from(["c2k3", "c2k3p1,sp2", "cnn", "c2k3,ap2x3", "c2k3,sp4",
                                      "mp2", "d4,c2k3", "c0k3", "", "c2k99", "c2k3x", "ap2",
                                      "c2k3,sp2,sp2", "c99999k3", "c2k3s0"]),
                     st.text(alphabet="cdkspax0123,", max_size=12))


def strategies(ws):
    good_or_bad = inputs(ws).map(lambda p: [p])
    lanes = st.one_of(st.sampled_from(["1", "2", "8", "0", "-1", "11", "1,1", "1,2,3", "abc",
                                       "", "99999999999999999999", "nan"]),
                      st.lists(st.integers(-3, 40), min_size=1, max_size=4).map(
                          lambda v: ",".join(map(str, v))))
    boards = st.sampled_from(["icebreaker", "ulx3s", "orangecrab", "nope", ""])
    return {
        "info": command(st.just(["info"]), good_or_bad, opt("--lanes", lanes), flag("--json")),
        "run": command(st.just(["run"]), good_or_bad,
                       st.one_of(opt("--input", inputs(ws)), opt("--data", data_values(ws))),
                       opt("--trace", outputs(ws, "t.npz")), flag("--json")),
        "generate": command(st.just(["generate"]), good_or_bad, opt("--lanes", lanes),
                            opt("-o", outputs(ws, "rtl")),
                            opt("--top", st.sampled_from(["snn_top", "1bad", "", "a b"])),
                            flag("--json")),
        "export": command(st.just(["export"]), good_or_bad, opt("-o", outputs(ws, "n.snn")),
                          opt("--w-bits", number()), opt("--u-bits", number()),
                          opt("--data", data_values(ws)), opt("--seed", number()),
                          flag("--nir"), opt("--dt", number()), flag("--json")),
        "train": command(st.just(["train", "--no-progress"]),
                         st.just(["--hidden", "4"]) | opt("--hidden", st.sampled_from(
                             ["0", "abc", "4,4", "70000", "", "-2"])) | opt("--arch", archs()),
                         st.sampled_from([["--epochs", "1"], ["--epochs", "0"],
                                          ["--epochs", "nan"], ["--epochs", "-3"]]),
                         opt("-T", st.sampled_from(["1", "2", "0", "100000", "abc"])),
                         st.sampled_from(["digits", str(ws / "data.npz"), "nope",
                                          str(ws / "bad.npz"), str(ws / "folder")]).map(
                             lambda v: ["--data", v]),
                         opt("--lr", number()),
                         opt("--batch-size", number()), opt("--spike-bits", number()),
                         opt("--leak-shift", st.sampled_from(["none", "2", "0", "40", "x"])),
                         opt("-o", outputs(ws, "m.pt")), flag("--json")),
        "convert": command(st.just(["convert"]),
                           st.just(["--hidden", "4"]) | opt("--hidden", st.sampled_from(
                               ["0", "abc", ""])) | opt("--arch", archs()),
                           st.sampled_from([["--epochs", "1"], ["--epochs", "0"],
                                            ["--epochs", "inf"]]),
                           st.sampled_from([["-T", "2"], ["-T", "0"], ["-T", "-1"]]),
                           opt("--l4", st.sampled_from(["auto", "0", "nan", "11", "x"])),
                           opt("--percentile", number()), opt("--data", data_values(ws)),
                           opt("-o", outputs(ws, "c.pt")), flag("--json")),
        "import": command(st.just(["import"]), good_or_bad, opt("-o", outputs(ws, "i.snn")),
                          opt("--timesteps", number()), opt("--in-bits", number()),
                          opt("--check", number()), opt("--dt", number()), flag("--json")),
        "estimate": command(st.just(["estimate"]), good_or_bad, opt("--board", boards),
                            opt("--lanes", lanes), opt("--clock-mhz", number()),
                            opt("--weights", st.sampled_from(["auto", "bram", "spram", "x"])),
                            flag("--json")),
        # never a good network: a valid build would run the whole toolchain
        "build": command(st.just(["build"]),
                         st.sampled_from([[str(ws / "good.pt")], [str(ws / "text.txt")],
                                          [str(ws / "missing.snn")], [str(ws / "folder")]]),
                         opt("--board", boards), opt("--lanes", lanes),
                         opt("--baud", number()), opt("--clock-mhz", number()),
                         opt("-o", outputs(ws, "b")), flag("--json")),
        # never a good checkpoint: a valid sweep would start a Dask cluster
        "explore": command(st.just(["explore"]),
                           st.sampled_from([[], [str(ws / "text.txt")], [str(ws / "good.snn")],
                                            [str(ws / "missing.pt")], [str(ws / "folder")],
                                            [str(ws / "empty.bin")]]),
                           opt("--lanes", lanes), opt("--w-bits", number()),
                           opt("--u-bits", number()), opt("--boards", boards),
                           opt("--clock-mhz", number()), opt("--data", data_values(ws)),
                           opt("--space", inputs(ws)), opt("--store", outputs(ws, "e.sqlite")),
                           flag("--report"), flag("--resume"), flag("--json")),
        # a board on a port that does not exist: everything up to the hardware runs
        "verify": command(st.just(["verify"]), good_or_bad,
                          st.just(["--backend", "board", "--port", str(ws / "no-tty"),
                                   "--baud", "115200"]),
                          opt("--n", number()), opt("--data", data_values(ws)),
                          opt("--input", inputs(ws)), opt("--labels", inputs(ws)),
                          opt("--lanes", lanes), opt("--baud", number()),
                          opt("--in-pauses", st.sampled_from(["none", "bogus"])),
                          opt("--seed", number()), flag("--json")),
    }


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:   # argparse: usage errors (2) and --help (0)
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def reset_outputs(ws):
    keep = ws / "keep"
    keep.mkdir(exist_ok=True)
    for name in ("t.npz", "n.snn", "m.pt", "c.pt", "i.snn", "e.sqlite"):
        (keep / name).write_bytes(SENTINEL)
    (keep / "rtl").mkdir(exist_ok=True)
    (keep / "rtl" / "snn_top.v").write_bytes(SENTINEL)


_ORIGINALS: dict = {}


def originals(ws) -> dict:
    """The workspace's input files as they were made (its top level, the bombs too), by
    their resolved paths."""
    if ws not in _ORIGINALS:
        _ORIGINALS[ws] = {Path(os.path.realpath(p)): p.read_bytes() for p in ws.iterdir()
                          if p.is_file() and not p.is_symlink()}
    return _ORIGINALS[ws]


def command_inputs(argv) -> list[str]:
    """The arguments that name files the command reads (not an output option's value)."""
    return [a for i, a in enumerate(argv) if a and "\0" not in a and not a.startswith("-")
            and not (i and argv[i - 1] in OUTPUT_OPTIONS)]


def check(ws, argv):
    reset_outputs(ws)
    saved = originals(ws)
    for p, data in saved.items():       # a command that succeeded may have replaced one
        if not p.is_file() or p.read_bytes() != data:
            if p.is_dir():
                import shutil

                shutil.rmtree(p)
            p.write_bytes(data)
    rc, out, err = run_main(argv)
    for a in command_inputs(argv):
        p = Path(os.path.realpath(a))
        if p in saved:
            assert p.read_bytes() == saved[p], (argv, "input changed", p)
    assert rc in (0, 1, 2), (argv, rc, err)
    assert "Traceback" not in err, (argv, err)
    if rc == 2:
        assert len(err.strip().splitlines()) == 1, (argv, err)
    if "--json" in argv and rc in (0, 1):
        text = out.strip()
        assert text == "" or isinstance(json.loads(text), dict), (argv, out)
        assert "NaN" not in text and "Infinity" not in text, (argv, out)
    if rc != 0:
        keep = ws / "keep"
        for f in [*keep.glob("*.*"), keep / "rtl" / "snn_top.v"]:
            assert f.read_bytes() == SENTINEL, (argv, f)


@pytest.mark.parametrize("sub", ["info", "run", "generate", "export", "train", "convert",
                                 "import", "estimate", "build", "verify", "explore"])
def test_no_input_ends_in_a_traceback(ws, sub, monkeypatch):
    # a drawn command without -o writes its default output (out/model.pt, rtl_out/...)
    # into the working folder: run them in the workspace, never in the checkout
    here = ws / f"cwd-{sub}"
    here.mkdir(exist_ok=True)
    monkeypatch.chdir(here)
    seen = []

    @SETTINGS
    @given(strategies(ws)[sub])
    def prop(argv):
        seen.append(argv)
        check(ws, argv)

    prop()
    distinct = len({tuple(a) for a in seen})
    # every run reports its size (pytest -s shows it): the long run's count is quoted
    print(f"\n{sub}: {len(seen)} examples, {distinct} distinct")
    assert distinct >= min(EXAMPLES, 10)
