"""Run a fixed list of hostile inputs through the real ``snnhw`` command, each in its own
process, and count the outcomes: a clean one-line error (exit 2), another exit, a
traceback, a hang (timeout), and a pre-existing output file changed by a command that did
not succeed (a file lost).

    python bench/hostile_inputs.py            # table of the cases that did not exit 2
    python bench/hostile_inputs.py --json     # one JSON object with the counts and cases
"""

from __future__ import annotations

import argparse
import json
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        f = workspace(d)
        keep = d / "keep.out"
        results = []
        t0 = time.perf_counter()
        all_cases = cases(f, str(keep))
        for i, cmd in enumerate(all_cases):
            keep.write_bytes(SENTINEL)
            for extra in (Path(str(keep) + ".d"), Path(str(keep) + ".b")):
                if extra.exists() and extra.is_file():
                    extra.unlink()
            try:
                r = subprocess.run([sys.executable, "-m", "snnhw", *cmd], capture_output=True,
                                   text=True, timeout=args.timeout, cwd=d)
                rc, err = r.returncode, r.stderr
            except subprocess.TimeoutExpired:
                rc, err = None, "timeout"
            lost = rc != 0 and keep.read_bytes() != SENTINEL
            outside = (d.parent / "outside").exists() or (d / "outside").exists()
            lines = [ln for ln in err.strip().splitlines() if not ln.startswith("snnhw: warn")]
            outcome = ("hang" if rc is None else "traceback" if "Traceback" in err else
                       "clean exit 2" if rc == 2 and len(lines) == 1 else
                       f"exit {rc}, {len(lines)} stderr lines")
            results.append({"case": i, "argv": [a.replace(tmp, "$WS") for a in cmd],
                            "outcome": outcome, "file_lost": lost, "escaped": outside,
                            "stderr": err.strip().splitlines()[-1:] if err.strip() else []})
            if not args.json:
                print(f"\r{i + 1}/{len(all_cases)}", end="", file=sys.stderr, flush=True)
        seconds = round(time.perf_counter() - t0, 1)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    report = {"cases": len(results), "outcomes": counts,
              "tracebacks": counts.get("traceback", 0), "hangs": counts.get("hang", 0),
              "files_lost": sum(r["file_lost"] for r in results),
              "escaped": sum(r["escaped"] for r in results), "seconds": seconds,
              "not_exit_2": [r for r in results if r["outcome"] != "clean exit 2"]}
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0
    print()
    print(f"{report['cases']} hostile inputs in {seconds} s: {counts}; tracebacks "
          f"{report['tracebacks']}, hangs {report['hangs']}, files lost {report['files_lost']}, "
          f"writes outside the workspace {report['escaped']}")
    for r in report["not_exit_2"]:
        print(f"  {r['outcome']}: snnhw {' '.join(r['argv'])}  {r['stderr']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
