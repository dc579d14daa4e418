"""Run a fixed list of hostile inputs through the real ``snnhw`` command, each in its own
process under an address-space limit (4 GiB by default), and count the outcomes: a clean
one-line error (exit 2), another exit, a traceback, a hang (timeout), a run out of memory
(something tried to allocate past the limit), a pre-existing output file changed by a
command that did not succeed (a file lost), an input file changed, a temporary file left
behind, raw control characters printed.

The cases come in classes: ``old`` (the first list: damaged files, bad options), then the
classes of the second pass: ``memory`` (files and options that declare huge work:
compressed bombs, npy headers, HDF5 datasets, long runs), ``outputs`` (an output that is an
input, a device, a foreign store), ``os`` (a file size limit, an I/O error or a full disk
injected where outputs are committed, names too long), ``values`` (values that used to
pass validation) and ``names`` (control characters from file contents).

    python bench/hostile_inputs.py            # table of the cases that did not exit 2
    python bench/hostile_inputs.py --json     # one JSON object with the counts and cases
    python bench/hostile_inputs.py --only memory,os --memory-gib 4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

SENTINEL = b"precious: must survive every failed command"


class Gadget:
    """An object only pickle can store: a checkpoint holding one is not safe to load."""


def workspace(d: Path) -> dict[str, str]:
    """Good and bad files for the cases; returns name -> path."""
    import torch

    from snnhw import ir
    from snnhw.ir.examples import random_network
    from snnhw.nn.train import TrainConfig, save_checkpoint

    rng = np.random.default_rng(0)
    net = random_network(rng, [64, 6, 10], in_bits=5, timesteps=2)
    ir.save(net, d / "good.snn")
    save_checkpoint(d / "good.pt", TrainConfig(sizes=(64, 6, 10), timesteps=2).model())
    f = {"good.snn": d / "good.snn", "good.pt": d / "good.pt"}
    # damaged IR files
    raw = (d / "good.snn").read_bytes()
    (d / "cut.snn").write_bytes(raw[: len(raw) // 2])
    f["cut.snn"] = d / "cut.snn"
    with zipfile.ZipFile(d / "good.snn") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    man = json.loads(parts["manifest.json"])
    for name, change in (("evilname", {"name": "../../../../outside\x1b[2J"}),
                         ("huge", {"layers": [{**man["layers"][0], "n_in": 30000,
                                               "n_out": 30000}, man["layers"][1]]}),
                         ("noversion", {"version": None}), ("t0", {"timesteps": 0})):
        m = {**man, **change}
        with zipfile.ZipFile(d / f"{name}.snn", "w") as zf:
            for n, data in parts.items():
                zf.writestr(n, json.dumps(m) if n == "manifest.json" else data)
        f[f"{name}.snn"] = d / f"{name}.snn"
    if "evilname.snn" in f:   # the name must pass validation to reach generate: re-save
        net.name = "../../../../outside\x1b[2J"
        ir.save(net, d / "evilname.snn")
    # checkpoints that load but are not valid
    ck = torch.load(d / "good.pt", weights_only=True)
    for name, change in (("nokind", {"kind": "x"}), ("badsizes", {"config": {"sizes": "abc"}}),
                         ("bigsizes", {"config": {**ck["config"],
                                                  "sizes": [64, 200000, 200000, 10]}}),
                         ("spike0", {"config": {**ck["config"], "spike_bits": 0}}),
                         ("nostate", {"state_dict": {}}),
                         ("nan", {"state_dict": {k: v * float("nan")
                                                 for k, v in ck["state_dict"].items()}})):
        torch.save({**ck, **change}, d / f"{name}.pt")
        f[f"{name}.pt"] = d / f"{name}.pt"

    torch.save({"kind": "snnhw-spiking-mlp", "g": Gadget()}, d / "pickle.pt")
    f["pickle.pt"] = d / "pickle.pt"
    # inputs
    np.save(d / "x.npy", rng.integers(0, 32, (3, 64)))
    np.save(d / "wide.npy", rng.integers(0, 32, (3, 63)))
    np.save(d / "float.npy", rng.random((3, 64)))
    np.save(d / "big.npy", np.full((3, 64), 99))
    np.save(d / "empty.npy", np.zeros((0, 64), np.int64))
    np.save(d / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(d / "x.npz", x=np.zeros((2, 64), np.int64))
    hdr = b"\x93NUMPY\x01\x00" + struct.pack("<H", 70) + \
        b"{'descr': '<i8', 'fortran_order': False, 'shape': (-3, 64), }".ljust(69) + b"\n"
    (d / "negdim.npy").write_bytes(hdr + b"\0" * 64)
    (d / "text.txt").write_text("1,2,3\n")
    (d / "empty.bin").write_bytes(b"")
    (d / "folder").mkdir()
    (d / "file").write_bytes(b"x")
    np.savez(d / "badlabels.npz", x_train=np.zeros((4, 64)), y_train=np.zeros(3, int),
             x_test=np.zeros((2, 64)), y_test=np.zeros(2, int))
    np.savez(d / "neg.npz", x_train=-np.ones((4, 64), int), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 64), int), y_test=np.zeros(2, int))
    np.savez(d / "nanx.npz", x_train=np.full((4, 64), np.nan), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 64)), y_test=np.zeros(2, int))
    np.savez(d / "shape.npz", x_train=np.zeros((4, 8)), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 9)), y_test=np.zeros(2, int))
    for n in ("x.npy", "wide.npy", "float.npy", "big.npy", "empty.npy", "obj.npy", "x.npz",
              "negdim.npy", "text.txt", "empty.bin", "folder", "file", "badlabels.npz",
              "neg.npz", "nanx.npz", "shape.npz"):
        f[n] = d / n
    f["missing"] = d / "missing.snn"
    _conv_files(d, f, rng)
    return {k: str(v) for k, v in f.items()}


def _conv_files(d: Path, f: dict, rng) -> None:
    """A valid CNN (IR and checkpoint), IR files with impossible conv geometry, a CNN
    checkpoint with a bad architecture, and a NIR graph with a max-pool-like node."""
    import torch

    from snnhw import ir
    from snnhw.ir.examples import random_conv_network
    from snnhw.nn.train import TrainConfig, save_checkpoint

    conv = random_conv_network(rng, (1, 8, 8), [(3, (3, 3), (1, 1), (1, 1))], [10], in_bits=5,
                               timesteps=2)
    ir.save(conv, d / "conv.snn")
    save_checkpoint(d / "conv.pt", TrainConfig(sizes=(64, 10), arch="c2k3,sp2",
                                               timesteps=2).model())
    f["conv.snn"], f["conv.pt"] = d / "conv.snn", d / "conv.pt"
    with zipfile.ZipFile(d / "conv.snn") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    man = json.loads(parts["manifest.json"])
    for name, change in (("convkernel", {"kernel": [40000, 40000]}),
                         ("convstride", {"stride": [0, 1]}),
                         ("convshape", {"in_shape": [1, 2, 2]}),
                         ("convpad", {"padding": [-1, 99999999999]}),
                         ("convlist", {"in_shape": "1x8x8"})):
        m = {**man, "layers": [{**man["layers"][0], **change}, *man["layers"][1:]]}
        with zipfile.ZipFile(d / f"{name}.snn", "w") as zf:
            for n, data in parts.items():
                zf.writestr(n, json.dumps(m) if n == "manifest.json" else data)
        f[f"{name}.snn"] = d / f"{name}.snn"
    ck = torch.load(d / "conv.pt", weights_only=True)
    for name, arch in (("cnnmax", ["c2k3", "mp2"]), ("cnnbig", ["c4096k1", "c4096k1"]),
                       ("cnnint", 42)):
        torch.save({**ck, "config": {**ck["config"], "arch": arch}}, d / f"{name}.pt")
        f[f"{name}.pt"] = d / f"{name}.pt"


def cases(f: dict[str, str], keep: str) -> list[list[str]]:
    """At least 100 hostile command lines; ``keep`` is an existing output file."""
    c = []
    for bad in ("cut.snn", "huge.snn", "noversion.snn", "t0.snn", "good.pt", "text.txt",
                "empty.bin", "folder", "missing", "x.npz"):
        c += [["info", f[bad]], ["run", f[bad], "--input", f["x.npy"]],
              ["generate", f[bad], "-o", keep + ".d"], ["estimate", f[bad], "--board",
                                                        "icebreaker"]]
    c += [["info", "/dev/zero"], ["info", f["good.snn"], "--lanes", "0"],
          ["info", f["good.snn"], "--lanes", "99999999999999999999"]]
    for x in ("wide.npy", "float.npy", "big.npy", "empty.npy", "obj.npy", "x.npz", "negdim.npy",
              "text.txt", "good.snn", "folder"):
        c.append(["run", f["good.snn"], "--input", f[x]])
    c += [["run", f["good.snn"], "--data", d] for d in
          ("nope", f["badlabels.npz"], f["neg.npz"], f["nanx.npz"], f["shape.npz"], f["folder"])]
    c += [["run", f["good.snn"], "--input", f["x.npy"], "--trace", f["folder"]],
          ["run", f["good.snn"], "--input", f["x.npy"], "--trace", f["file"] + "/t.npz"]]
    for bad in ("nokind.pt", "badsizes.pt", "bigsizes.pt", "spike0.pt", "nostate.pt", "nan.pt",
                "pickle.pt", "good.snn", "text.txt", "missing"):
        c += [["export", f[bad], "-o", keep], ["verify", f[bad], "--backend", "board",
                                               "--port", "/nonexistent"]]
    for opt, vals in (("--w-bits", ("1", "17", "nan")), ("--u-bits", ("7", "33", "x")),
                      ("--seed", ("-1", "inf"))):
        c += [["export", f["good.pt"], "-o", keep, opt, v] for v in vals]
    c += [["export", f["good.pt"], "-o", f["folder"]],
          ["export", f["good.pt"], "-o", f["file"] + "/n.snn"],
          ["export", f["good.pt"], "-o", keep, "--data", f["shape.npz"]]]
    for opt, vals in (("-T", ("0", "-3", "100000")), ("--batch-size", ("0",)),
                      ("--epochs", ("0", "nan")), ("--lr", ("nan", "0", "-1", "inf")),
                      ("--hidden", ("0", "abc", "200000,200000", "")),
                      ("--spike-bits", ("0", "9")), ("--leak-shift", ("0", "99", "x")),
                      ("--rmp-lambda", ("-1", "nan")), ("--in-bits", ("0", "17")),
                      ("--data", ("nope", f["badlabels.npz"], f["text.txt"]))):
        c += [["train", "-o", keep, opt, v] for v in vals]
    c += [["train", "-o", f["folder"]], ["train", "-o", f["file"] + "/m.pt"]]
    for opt, vals in (("--percentile", ("200", "0", "nan")), ("-T", ("0",)),
                      ("--l4", ("nan", "x", "100")), ("--epochs", ("0",)),
                      ("--data", (f["badlabels.npz"],))):
        c += [["convert", "-o", keep, opt, v] for v in vals]
    for opt, vals in (("--timesteps", ("0", "-3", "100000")), ("--in-bits", ("0", "17")),
                      ("--check", ("0", "-1")), ("--dt", ("0", "nan"))):
        c += [["import", f["text.txt"], "-o", keep, opt, v] for v in vals]
    c += [["import", f[b], "-o", keep] for b in ("text.txt", "folder", "missing", "good.snn")]
    for opt, vals in (("--clock-mhz", ("0", "-5", "nan", "inf")), ("--lanes", ("100000", "0")),
                      ("--board", ("nope",)), ("--weights", ("x",))):
        c += [["estimate", f["good.snn"], "--board", "icebreaker", opt, v, "--json"]
              for v in vals]
    c += [["build", f["good.snn"], "--board", "icebreaker", "--baud", "0", "-o", keep + ".b"],
          ["build", f["good.snn"], "--board", "nope", "-o", keep + ".b"],
          ["generate", f["good.snn"], "--lanes", "1000"],
          ["generate", f["good.snn"], "--lanes", "99999999999999999999"],
          ["generate", f["good.snn"], "--top", "1 bad"],
          ["generate", f["good.snn"], "-o", f["file"]],
          ["verify", f["good.snn"], "--in-pauses", "bogus"],
          ["verify", f["good.snn"], "--n", "0"],
          ["verify", f["good.snn"], "--lanes", "0"],
          ["verify", f["good.snn"], "--input", f["x.npz"]],
          ["verify", f["good.snn"], "--labels", f["x.npy"]],
          ["verify", f["good.snn"], "--backend", "board"],
          ["verify", f["good.snn"], "--data", f["shape.npz"]],
          ["verify", f["good.snn"], "--waves"],
          ["verify", f["good.snn"], "--engine", "bogus"],
          ["build", f["good.snn"], "--board", "ulx3s", "--seed", "0"]]
    # convolution: damaged geometry, bad architectures, the gateware's refusal
    for bad in ("convkernel.snn", "convstride.snn", "convshape.snn", "convpad.snn",
                "convlist.snn"):
        c += [["info", f[bad]], ["run", f[bad], "--input", f["x.npy"]]]
    for bad in ("cnnmax.pt", "cnnbig.pt", "cnnint.pt"):
        c += [["export", f[bad], "-o", keep]]
    c += [["generate", f["conv.snn"], "-o", keep + ".d"],
          ["estimate", f["conv.snn"], "--board", "icebreaker"],
          ["build", f["conv.snn"], "--board", "icebreaker", "-o", keep + ".b"],
          ["verify", f["conv.snn"]], ["verify", f["conv.pt"]],
          ["export", f["conv.pt"], "--nir", "-o", keep]]   # 2-bit spikes: no NIR form
    for arch in ("mp2", "c2k3,sp4", "d4,c2k3", "c0k3", "", "c99999k3", "c2k3s0", "c2k99",
                 "ap2", "c9000k1,c9000k1", "cnn --data mnist1d-temporal"):
        c.append(["train", "-o", keep, "--epochs", "1", "--arch", *arch.split(" ")])
    c += [["convert", "-o", keep, "--epochs", "1", "--arch", a] for a in ("mp2", "c2k3,sp4")]
    return c


def _stream_npy(zf: zipfile.ZipFile, name: str, shape: tuple, dtype: str) -> None:
    """An ``.npy`` member of zeros written in pieces: a compressed bomb is made without
    holding it in memory."""
    with zf.open(name, "w", force_zip64=True) as out:
        np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(dtype).str,
                                                   "fortran_order": False, "shape": shape})
        left = int(np.prod(shape)) * np.dtype(dtype).itemsize
        block = bytes(1 << 24)
        while left > 0:
            out.write(block[:min(left, len(block))])
            left -= len(block)


def second_workspace(d: Path, f: dict[str, str]) -> dict[str, str]:
    """The second pass's files: bombs made on the fly, long-T networks, NIR graphs with
    bad metadata, a foreign SQLite file, checkpoints with bad tensors or names."""
    import sqlite3

    import h5py
    import nir
    import torch

    from snnhw import ir
    from snnhw.ir.examples import random_network
    from snnhw.nn.nirio import to_nir, write_graph
    from snnhw.nn.train import TrainConfig, save_checkpoint

    rng = np.random.default_rng(1)
    out: dict[str, Path] = {}
    # a data file of 1.1 GiB of zeros in a few MB
    with zipfile.ZipFile(d / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        _stream_npy(zf, "x_train.npy", (2_250_000, 64), "<f8")
        for name, arr in (("y_train", np.zeros(4, int)), ("x_test", np.zeros((2, 64))),
                          ("y_test", np.zeros(2, int))):
            with zf.open(f"{name}.npy", "w") as m:
                np.lib.format.write_array(m, arr)
    # an npy header declaring 10^12 values over 100 bytes
    hdr = b"{'descr': '<i8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    (d / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", 118)
                                 + hdr.ljust(117) + b"\n" + bytes(100))
    # an IR file whose int8 weights would be 1.5 GiB as int64, in a few hundred kB
    with zipfile.ZipFile(d / "good.snn") as zf:
        man = json.loads(zf.read("manifest.json"))
    big = [{**man["layers"][0], "n_in": 8192, "n_out": 8192} for _ in range(3)]
    with zipfile.ZipFile(d / "irbomb.snn", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps({**man, "layers": big}))
        for i in range(3):
            _stream_npy(zf, f"layer{i}.W.npy", (8192, 8192), "|i1")
            _stream_npy(zf, f"layer{i}.b.npy", (8192,), "|i1")
    # an HDF5 file declaring a 320 GB dataset in compressed chunks
    with h5py.File(d / "bomb.nir", "w") as h:
        ds = h.create_group("node").create_dataset("weight", shape=(200_000, 200_000),
                                                   dtype="f8", chunks=(1000, 1000),
                                                   compression="gzip")
        ds[:1000, :1000] = 0
    # long runs: T = 65536
    ir.save(random_network(rng, [64, 6, 10], in_bits=5, timesteps=65536), d / "long.snn")
    save_checkpoint(d / "long.pt", TrainConfig(sizes=(64, 6, 10), timesteps=65536).model())
    np.savez(d / "small.npz", x_train=rng.integers(0, 16, (4, 64)), y_train=np.arange(4),
             x_test=rng.integers(0, 16, (2, 64)), y_test=np.arange(2))
    # NIR graphs: a good one, and metadata of the wrong type or range
    model = TrainConfig(sizes=(64, 6, 10), timesteps=2, spike_bits=1, fire="floor").model()
    write_graph(d / "graph.nir", to_nir(model))
    for name, key, value in (("ts47", "snnhw_timesteps", 4.7), ("dtinf", "snnhw_dt", np.inf),
                             ("tsarray", "snnhw_timesteps", np.array([4, 5]))):
        g = to_nir(model)
        g.metadata[key] = value
        nir.write(d / f"{name}.nir", g)
        out[f"{name}.nir"] = d / f"{name}.nir"
    # explore: a foreign database, an empty file, a huge space, a bad [train]
    with sqlite3.connect(d / "foreign.sqlite") as db:
        db.execute("CREATE TABLE mine (x)")
        db.execute("INSERT INTO mine VALUES (42)")
    db.close()
    (d / "empty.store").write_bytes(b"")
    (d / "huge.toml").write_text(f'checkpoints = ["{d / "good.pt"}"]\n'
                                 f'lanes = {list(range(1, 1001))}\n'
                                 f'clock_mhz = {list(range(1, 1001))}\n')
    (d / "epochs0.toml").write_text("[train]\nepochs = 0\n")
    # labels and checkpoints with values that must not pass
    np.save(d / "x2.npy", rng.integers(0, 32, (2, 64)))
    np.save(d / "u64.npy", np.array([0, 2**64 - 1], dtype=np.uint64))
    ck = torch.load(d / "good.pt", weights_only=True)
    state = ck["state_dict"]
    for name, change in (
            ("leak99", {"config": {**ck["config"], "leak_shift": 99}}),
            ("complex", {"state_dict": {k: v.to(torch.complex64) for k, v in state.items()}}),
            ("sparse", {"state_dict": {k: v.to_sparse() if v.dim() == 2 else v
                                       for k, v in state.items()}}),
            ("evildata", {"data": "dig\x1b]0;x\x07its"}),
            ("evilkey", {"state_dict": {**state, "evil\x1b[2J\x07": torch.zeros(1)}})):
        torch.save({**ck, **change}, d / f"{name}.pt")
        out[f"{name}.pt"] = d / f"{name}.pt"
    os.symlink(d / "good.pt", d / "link.pt")
    for name in ("bomb.npz", "huge.npy", "irbomb.snn", "bomb.nir", "long.snn", "long.pt",
                 "small.npz", "graph.nir", "foreign.sqlite", "empty.store", "huge.toml",
                 "epochs0.toml", "x2.npy", "u64.npy"):
        out[name] = d / name
    return {k: str(v) for k, v in out.items()}


def second_cases(f: dict[str, str], keep: str) -> list[tuple[str, list[str]]]:
    """``(class, command line)`` of the second pass; ``keep`` is an existing output."""
    long = "n" * 300
    ws = str(Path(keep).parent)
    c: list[tuple[str, list[str]]] = []
    c += [("memory", a) for a in (
        ["train", "--data", f["bomb.npz"], "-o", keep, "--epochs", "1"],
        ["export", f["good.pt"], "-o", keep, "--data", f["bomb.npz"]],
        ["run", f["good.snn"], "--data", f["bomb.npz"]],
        ["verify", f["good.snn"], "--data", f["bomb.npz"]],
        ["run", f["good.snn"], "--input", f["huge.npy"]],
        ["verify", f["good.snn"], "--input", f["x2.npy"], "--labels", f["huge.npy"]],
        ["info", f["irbomb.snn"]],
        ["estimate", f["irbomb.snn"], "--board", "icebreaker"],
        ["import", f["bomb.nir"], "-o", keep],
        ["import", f["graph.nir"], "--timesteps", "65536", "--check", "65536", "-o", keep],
        ["verify", f["long.snn"], "--data", "digits"],
        ["run", f["long.snn"], "--input", f["x2.npy"], "--trace", keep + ".npz"],
        ["run", f["long.snn"], "--data", "digits", "--trace", keep + ".npz"],
        ["run", f["long.snn"], "--data", "digits"],
        ["export", f["long.pt"], "-o", keep + ".snn", "--data", f["small.npz"]],
        ["explore", "--space", f["huge.toml"], "--store", keep + ".sqlite"],
        ["explore", f["good.pt"], "--workers", "1000", "--store", keep + ".sqlite"])]
    c += [("outputs", a) for a in (
        ["export", f["good.pt"], "-o", f["good.pt"]],
        ["export", f["good.pt"], "-o", f"{ws}/./././good.pt"],
        ["export", f["good.pt"], "-o", f"{ws}/link.pt"],
        ["export", f["good.pt"], "--nir", "-o", f["good.pt"]],
        ["import", f["graph.nir"], "-o", f["graph.nir"]],
        ["run", f["good.snn"], "--input", f["x2.npy"], "--trace", f["x2.npy"]],
        ["train", "--data", f["small.npz"], "-o", f["small.npz"], "--epochs", "1"],
        ["convert", "--data", f["small.npz"], "-o", f["small.npz"], "--epochs", "1"],
        ["export", f["good.pt"], "-o", "/dev/null"],
        ["explore", f["good.pt"], "--store", f["foreign.sqlite"]],
        ["explore", "--report", "--store", f["foreign.sqlite"]],
        ["explore", "--report", "--store", f["empty.store"]])]
    writes = (["export", f["good.pt"], "-o", keep],
              ["train", "--epochs", "1", "--hidden", "8", "-o", keep],
              ["run", f["good.snn"], "--input", f["x2.npy"], "--trace", keep],
              ["generate", f["good.snn"], "-o", keep + ".d"],
              ["import", f["graph.nir"], "-o", keep])
    for fault in ("@fsize=256", "@eio", "@enospc"):
        c += [("os", [fault, *a]) for a in writes]
    c += [("os", a) for a in (
        ["info", f"{ws}/{long}.snn"], ["export", f"{ws}/{long}.pt"],
        ["import", f"{ws}/{long}.nir"], ["run", f["good.snn"], "--input", f"{ws}/{long}.npy"],
        ["train", "--data", f"{ws}/{long}.npz", "--epochs", "1"],
        ["export", f["good.pt"], "-o", f"{ws}/{long}.snn"],
        ["generate", f["good.snn"], "-o", f"{ws}/{long}/rtl"],
        ["run", f["good.snn"], "--input", f["x2.npy"], "--trace", f"{ws}/{long}.npz"])]
    c += [("values", a) for a in (
        ["import", f["ts47.nir"], "-o", keep], ["import", f["dtinf.nir"], "-o", keep],
        ["import", f["tsarray.nir"], "-o", keep],
        ["verify", f["good.snn"], "--input", f["x2.npy"], "--labels", f["u64.npy"]],
        ["export", f["leak99.pt"], "-o", keep], ["export", f["complex.pt"], "-o", keep],
        ["export", f["sparse.pt"], "-o", keep],
        ["explore", "--space", f["epochs0.toml"], "--store", keep + ".sqlite"],
        ["info", f["good.snn"], "--lanes", "\u00b2"],
        ["verify", f["good.snn"], "--n", "\u0662"],
        ["train", "--epochs", "\u0662", "-o", keep],
        ["explore", f["good.pt"], "--scheduler", "tls://host:1", "--store", keep + ".sqlite"],
        ["explore", f["good.pt"], "--scheduler", "hostonly", "--store", keep + ".sqlite"],
        ["explore", f["good.pt"], "--scheduler", "tcp://[::1", "--store", keep + ".sqlite"])]
    c += [("names", ["export", f[n], "-o", keep]) for n in ("evildata.pt", "evilkey.pt")]
    return c


CLASSES = ("old", "memory", "outputs", "os", "values", "names")

# Each case runs in this launcher: the address-space limit from the environment, then the
# case's harness options (tokens before the command line: '@fsize=N' a file size limit,
# '@eio' / '@enospc' every fsync failing with that error), then snnhw's own main. The limit
# is snnhw's process's: the tools it starts (Yosys in WebAssembly, whose runtime reserves
# address space it never touches and cannot start under a 4 GiB limit; Verilator, nextpnr)
# run without it.
LAUNCH = """
import errno, os, resource, signal, subprocess, sys
argv = sys.argv[1:]
limit = int(os.environ.get("HOSTILE_AS_BYTES", "0"))
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    def unlimited():
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    popen = subprocess.Popen.__init__
    def child(self, *args, **kwargs):
        kwargs.setdefault("preexec_fn", unlimited)
        popen(self, *args, **kwargs)
    subprocess.Popen.__init__ = child
while argv and argv[0].startswith("@"):
    opt = argv.pop(0)
    if opt.startswith("@fsize="):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        n = int(opt[7:])
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
    else:
        code = {"@eio": errno.EIO, "@enospc": errno.ENOSPC}[opt]
        def fail(*args, code=code):
            raise OSError(code, os.strerror(code))
        os.fsync = fail
from snnhw.cli import main
sys.exit(main(argv))
"""
OUT_OF_MEMORY = ("MemoryError", "Unable to allocate", "Cannot allocate memory",
                 "std::bad_alloc", "out of memory")


def _fingerprint(paths) -> dict[str, str]:
    """A file's SHA-256 (its size and time for files over 4 MB, the bombs)."""
    out = {}
    for p in map(Path, paths):
        if not p.is_file() or p.is_symlink():
            continue
        st = p.stat()
        out[str(p)] = (f"{st.st_size}:{st.st_mtime_ns}" if st.st_size > 4 << 20
                       else hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case (120)")
    ap.add_argument("--memory-gib", type=float, default=4.0,
                    help="address-space limit of each case in GiB, 0 for none (4)")
    ap.add_argument("--only", default=",".join(CLASSES),
                    help=f"classes to run, comma-separated: {', '.join(CLASSES)} (all)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    only = [c for c in args.only.split(",") if c]
    unknown = sorted(set(only) - set(CLASSES))
    if unknown:
        ap.error(f"--only: unknown class(es) {', '.join(unknown)}; known: {', '.join(CLASSES)}")
    env = {**os.environ, "HOSTILE_AS_BYTES": str(int(args.memory_gib * 2**30))}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        f = workspace(d)
        keep = d / "keep.out"
        all_cases = [("old", c) for c in cases(f, str(keep))] if "old" in only else []
        if set(only) - {"old"}:
            f.update(second_workspace(d, f))
            all_cases += [(cls, c) for cls, c in second_cases(f, str(keep)) if cls in only]
        inputs = _fingerprint(f.values())
        results = []
        t0 = time.perf_counter()
        peak = 0
        for i, (cls, cmd) in enumerate(all_cases):
            keep.write_bytes(SENTINEL)
            for extra in (Path(str(keep) + ".d"), Path(str(keep) + ".b")):
                if extra.exists() and extra.is_file():
                    extra.unlink()
            started = time.perf_counter()
            try:
                r = subprocess.run([sys.executable, "-c", LAUNCH, *cmd], capture_output=True,
                                   text=True, timeout=args.timeout, cwd=d, env=env)
                rc, err = r.returncode, r.stderr
            except subprocess.TimeoutExpired:
                rc, err = None, "timeout"
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss >> 10   # MiB
            case_peak = rss if rss > peak else None    # a new high is this case's own
            peak = max(peak, rss)
            lost = rc != 0 and keep.read_bytes() != SENTINEL
            now = _fingerprint(inputs)
            changed = sorted(Path(p).name for p in inputs if now.get(p) != inputs[p])
            inputs.update(now)
            left = [str(p.relative_to(d)) for p in d.rglob("*.tmp")]
            for p in d.rglob("*.tmp"):
                p.unlink()
            outside = (d.parent / "outside").exists() or (d / "outside").exists()
            lines = [ln for ln in err.strip().splitlines() if not ln.startswith("snnhw: warn")]
            outcome = ("hang" if rc is None else
                       "out of memory" if any(m in err for m in OUT_OF_MEMORY) else
                       "traceback" if "Traceback" in err else
                       "clean exit 2" if rc == 2 and len(lines) == 1 else
                       f"exit {rc}, {len(lines)} stderr lines")
            results.append({"case": i, "class": cls,
                            "argv": [a.replace(tmp, "$WS") for a in cmd],
                            "outcome": outcome, "file_lost": lost, "inputs_changed": changed,
                            "temporary_files": left, "escaped": outside,
                            "control_characters": any(c in err for c in "\x1b\x07"),
                            "seconds": round(time.perf_counter() - started, 1),
                            "peak_mib": case_peak,
                            "stderr": [ln.replace(tmp, "$WS")
                                       for ln in err.strip().splitlines()[-1:]]})
            if not args.json:
                print(f"\r{i + 1}/{len(all_cases)}", end="", file=sys.stderr, flush=True)
        seconds = round(time.perf_counter() - t0, 1)
    counts: dict[str, int] = {}
    per_class: dict[str, dict[str, int]] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        c = per_class.setdefault(r["class"], {})
        c[r["outcome"]] = c.get(r["outcome"], 0) + 1
    report = {"cases": len(results), "classes": only, "outcomes": counts,
              "per_class": per_class, "memory_limit_gib": args.memory_gib,
              "tracebacks": counts.get("traceback", 0), "hangs": counts.get("hang", 0),
              "out_of_memory": counts.get("out of memory", 0),
              "files_lost": sum(r["file_lost"] for r in results),
              "inputs_changed": sum(bool(r["inputs_changed"]) for r in results),
              "temporary_files_left": sum(len(r["temporary_files"]) for r in results),
              "control_characters": sum(r["control_characters"] for r in results),
              "escaped": sum(r["escaped"] for r in results),
              "peak_rss_mib": peak, "seconds": seconds,
              "not_exit_2": [r for r in results if r["outcome"] != "clean exit 2"
                             or r["file_lost"] or r["inputs_changed"]
                             or r["temporary_files"] or r["control_characters"]]}
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0
    print()
    print(f"{report['cases']} hostile inputs ({', '.join(only)}) in {seconds} s under "
          f"{args.memory_gib:g} GiB each: {counts}")
    print(f"tracebacks {report['tracebacks']}, hangs {report['hangs']}, out of memory "
          f"{report['out_of_memory']}, files lost {report['files_lost']}, inputs changed "
          f"{report['inputs_changed']}, temporary files left {report['temporary_files_left']}, "
          f"raw control characters {report['control_characters']}, writes outside the "
          f"workspace {report['escaped']}; largest resident size {peak} MiB")
    for r in report["not_exit_2"]:
        print(f"  [{r['class']}] {r['outcome']}: snnhw {' '.join(r['argv'])}  {r['stderr']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
