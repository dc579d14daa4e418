"""Fmax, logic and synaptic throughput of fixed networks on iCE40UP5K, ECP5-85F and Gowin.

Builds each configuration through ``snnhw build`` (the board design: network,
host link, UART) on the iCEBreaker (iCE40UP5K) and the ULX3S (ECP5-85F), and on
request the Tang Nano 9K (GW1NR-9) and Tang Primer 20K (GW2A-18), at
several nextpnr seeds, and prints per configuration the min and median Fmax,
LUTs, FFs, block RAM, SPRAM, DSP blocks (must be 0), and the synaptic
operations per second at the median Fmax.

Synaptic operations per second = (synaptic additions per cycle, measured) x
Fmax. The additions per cycle come from a bulk Verilator run of the same
network, core and lanes (:mod:`snntb.bulk`, no stalls): the synaptic additions
of the golden model's events (a dense layer's ``E * n_out``, ``E`` the non-zero
input events; a conv layer's output positions each event's window reaches times
the output channels: :func:`snnhw.gateware.cycles.walk_cycles` at one lane)
divided by the measured cycles. Lane utilisation = the ideal cycles / the measured cycles:
for the pipeline core the groups of ``lanes`` synapses the events visit, summed
over layers (``E * ceil(n_out/lanes)`` for a dense layer,
:func:`snnhw.gateware.cycles.walk_cycles`; above 1 when layers overlap), for
the serial core one cycle per group of ``lanes`` synapses an event visits plus
one per neuron swept (:func:`snnhw.gateware.serial.ideal_cycles`).

Networks (a trained IR file where the path exists, else seeded random weights
of the same shapes, :func:`snnhw.ir.examples.cnn_shaped` for the CNNs):

- ``digits``: 64-128-10 (``out/digits.snn``), the digits test split;
- ``256x256``: a 256-input 256-neuron layer, 4-bit weights, binary spikes,
  random inputs at 50 % density;
- ``784-128-10``: 8-bit weights (SPRAM on the iCE40), and ``784-128-10-w4``
  with 4-bit weights (the serial core's MNIST shape), random inputs at 19 %;
- ``mnist1d-cnn``: the default MNIST-1D CNN (``out/cnn/mnist1d.snn``),
  ``digits-cnn`` the digits CNN (``out/cnn/digits.snn``), ``board-cnn`` the
  iCEBreaker's MNIST-1D CNN ``c32k5p2,sp2,c32k3p1,sp4`` at 10-bit weights
  (``out/cnn/mnist1d-ice40.snn``), each on its test split.

Targets (the rows of :data:`CONFIGS`; a configuration is built on the boards
it names, and ``--boards`` picks among those): every ECP5-85F row >= 150 MHz
and every iCE40UP5K row >= 40 MHz at every seed (the least Fmax), both cores,
0 DSP; the lanes-32 rows
of the 256x256 layer and 784-128-10 on the ECP5-85F also >= 4 G synaptic
operations per second (lanes 16 reported next to them). The Gowin boards
are built at 100 MHz with no target yet (Fmax reported); the logic cells and
block RAM are given next to the estimate's.

    python bench/fmax.py                      # table (hours on 2 cores)
    python bench/fmax.py --json               # one JSON object
    python bench/fmax.py --only digits --boards ulx3s --seeds 1
    python bench/fmax.py --core serial --boards icebreaker
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from snnhw import golden, ir
from snnhw.data import load_data
from snnhw.gateware import cycles
from snnhw.gateware.generate import write
from snnhw.ir.examples import CNN_SHAPES, cnn_shaped, random_input, random_network
from snntb.bulk import cycle_budget, run_bulk

#: board: (device, the clock the build asks for in MHz, the target in MHz or None)
BOARDS = {"icebreaker": ("iCE40UP5K", 40.0, 40.0), "ulx3s": ("ECP5-85F", 150.0, 150.0),
          "tang_nano_9k": ("GW1NR-9", 100.0, None),
          "tang_primer_20k": ("GW2A-18", 100.0, None)}
GOWIN = ("tang_nano_9k", "tang_primer_20k")
ALL = ("icebreaker", "ulx3s", *GOWIN)
#: network, lanes, core, the boards it is built on (a board with a target in
#: BOARDS must meet it there; the UP5K is left out where the design does not fit),
#: and for the wide-lane rows the synaptic operations per second to reach as well
WIDE_SYNOPS = 4e9
CONFIGS = [
    ("digits", "2,1", "pipeline", ALL),
    ("digits", "8", "pipeline", ALL),
    ("256x256", "1", "pipeline", ALL),
    ("256x256", "8", "pipeline", ALL),
    ("784-128-10", "8", "pipeline", ALL),
    ("256x256", "16", "pipeline", ("ulx3s",)),
    ("256x256", "32", "pipeline", ("ulx3s",), WIDE_SYNOPS),
    ("784-128-10", "16", "pipeline", ("ulx3s",)),
    ("784-128-10", "32", "pipeline", ("ulx3s",), WIDE_SYNOPS),
    ("mnist1d-cnn", "8", "pipeline", ("ulx3s", *GOWIN)),
    ("digits-cnn", "8", "pipeline", ("ulx3s", *GOWIN)),
    ("board-cnn", "1", "pipeline", ("icebreaker",)),
    ("board-cnn", "8", "pipeline", ("ulx3s", *GOWIN)),
    ("digits", "1", "serial", ALL),
    ("784-128-10-w4", "2", "serial", ("icebreaker",)),   # the fewest lanes within 1.1 ms
    ("784-128-10-w4", "4", "serial", ALL),
    ("mnist1d-cnn", "4", "serial", ALL),
]
#: the trained IR file each network is read from when it exists (``--net NAME=PATH``)
NET_PATHS = {"digits": "out/digits.snn", "mnist1d-cnn": "out/cnn/mnist1d.snn",
             "digits-cnn": "out/cnn/digits.snn", "board-cnn": "out/cnn/mnist1d-ice40.snn"}
TEST_SAMPLES = 200   # test-split samples in the throughput run


def network(name: str, path: str | None) -> tuple:
    """``(net, inputs for the cycle measurement, source)``."""
    if name == "256x256":
        net = random_network(np.random.default_rng(3), [256, 256], in_bits=1, timesteps=1,
                             spike_bits=1, w_bits=4, u_bits=12, readout="spikes",
                             name="256x256")
        return net, random_input(np.random.default_rng(4), net, 200, density=0.5), "seeded"
    if name.startswith("784-128-10"):
        w4 = name.endswith("-w4")
        rng = np.random.default_rng(0 if w4 else 7)
        net = random_network(rng, [784, 128, 10], in_bits=8, timesteps=4, spike_bits=2,
                             w_bits=4 if w4 else 8, u_bits=16, name=name)
        return net, random_input(rng, net, 100, density=0.19), "seeded"
    d = load_data(CNN_SHAPES[name][0] if name in CNN_SHAPES else "digits")
    if path and Path(path).exists():
        net, source = ir.load(path), path
    elif name in CNN_SHAPES:
        net, source = cnn_shaped(name, d.in_bits), "seeded, trained shapes"
    else:
        net = random_network(np.random.default_rng(1), [64, 128, 10], in_bits=5,
                             timesteps=4, spike_bits=2, name="digits-shaped")
        source = "seeded, trained shapes"
    x = d.x_test[:TEST_SAMPLES]
    if x.ndim == 2:
        x = np.repeat(x[:, None], net.timesteps, axis=1)
    return net, x, source


def _ideal(net, lanes, core: str, x) -> int:
    walk = cycles.walk_cycles(net, lanes, x)        # exact for conv layers too
    if core == "serial":
        from snnhw.gateware.serial import SerialPlan, ideal_cycles

        plan = SerialPlan(net, lanes)
        return sum(ideal_cycles(plan, w) for w in walk)
    return int(walk.sum())


def throughput(net, x, lanes: str, core: str, work: Path) -> dict:
    """Measured cycles of ``x`` (bulk Verilator run, checked against golden) and the
    synaptic additions they carry."""
    ps = [int(v) for v in lanes.split(",")]
    lanes_arg = ps if len(ps) > 1 else ps[0]
    rtl = work / f"rtl-{net.name}-{lanes.replace(',', '_')}-{core}"
    write(net, lanes_arg, rtl, core=core)
    r = run_bulk(rtl, x, sim="verilator", work=work,
                 max_cycles=cycle_budget(net, lanes_arg, x, core=core), name="fmax")
    g = golden.run(net, x)
    exact = r.ok and r.logits == g.logits.tolist() and r.classes == g.classes.tolist()
    # one group per synapse at one lane: a dense layer's E * n_out, a conv layer's
    # windows (positions reached x output channels), exactly
    adds = int(cycles.walk_cycles(net, 1, x).sum())
    return {"samples": len(x), "cycles": r.cycles, "bit_exact": exact,
            "synaptic_adds": adds, "adds_per_cycle": adds / r.cycles,
            "lane_utilisation": _ideal(net, lanes_arg, core, x) / r.cycles}


def build_one(net_path: Path, board: str, lanes: str, core: str, seed: int, clock: float,
              out: Path, weights: str | None = None) -> dict:
    cmd = [sys.executable, "-m", "snnhw", "build", str(net_path), "--board", board,
           "--lanes", lanes, "--core", core, "--clock-mhz", str(clock), "--seed", str(seed),
           "-o", str(out), "--json", *(["--weights", weights] if weights else [])]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return {"refused" if "does not fit" in last else "error": last}
    rep = json.loads(r.stdout)
    fmax = min(c["fmax_mhz"] for c in rep["clocks"].values())
    res = rep["resources"]
    return {"seed": seed, "fmax_mhz": fmax, "luts": rep["luts"], "ffs": rep["ffs"],
            "lc": res["lc"]["used"], "lc_estimate": rep["estimate"]["lc"],
            "bram": res["bram"]["used"], "bram_estimate": rep["estimate"]["bram"],
            "spram": res.get("spram", {}).get("used", 0),
            "dsp": rep["dsp_used"], "weights_loaded": rep["weights_loaded"],
            "build_seconds": rep["build_seconds"]}


def _row(name, lanes, core, board, runs, tp, min_synops=None) -> dict:
    device, _, target = BOARDS[board]
    good = [r for r in runs if "fmax_mhz" in r]
    fmax = [r["fmax_mhz"] for r in good]
    med = statistics.median(fmax) if fmax else None
    synops = None if med is None else round(tp["adds_per_cycle"] * med * 1e6)
    return {"network": name, "lanes": lanes, "core": core, "board": board, "device": device,
            "target_mhz": target, "runs": runs,
            "refused": next((r["refused"] for r in runs if "refused" in r), None),
            "fmax_min_mhz": min(fmax) if fmax else None, "fmax_median_mhz": med,
            **({k: good[0][k] for k in ("luts", "ffs", "lc", "lc_estimate", "bram",
                                         "bram_estimate", "spram", "dsp",
                                         "weights_loaded")} if good else {}),
            "dsp_zero": bool(good) and all(r["dsp"] == 0 for r in good),
            "throughput": tp,
            "synops_per_second": synops, "target_synops": min_synops,
            "target_applies": target is not None,
            # at every seed: the least Fmax
            "meets": med is not None and target is not None and min(fmax) >= target
            and (min_synops is None or synops >= min_synops)}


def _configs(args, ap) -> list:
    boards = args.boards.split(",")
    for b in boards:
        if b not in BOARDS:
            ap.error(f"unknown board {b!r}; one of {sorted(BOARDS)}")
    configs = [(name, lanes, core, [b for b in boards if b in on], *synops)
               for name, lanes, core, on, *synops in CONFIGS
               if (args.only is None or name in args.only.split(","))
               and (args.lanes is None or lanes == args.lanes)
               and (args.core is None or core == args.core)]
    configs = [c for c in configs if c[3]]
    if not configs:
        ap.error("no configuration left after --only / --lanes / --core / --boards")
    return configs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", action="append", default=[], metavar="NAME=PATH",
                    help="read network NAME from PATH (defaults: "
                         + ", ".join(f"{k}={v}" for k, v in NET_PATHS.items()) + ")")
    ap.add_argument("--seeds", type=int, default=3, help="nextpnr seeds 1..N (%(default)s)")
    ap.add_argument("--boards", default="icebreaker,ulx3s",
                    help=f"(%(default)s; also {', '.join(GOWIN)})")
    ap.add_argument("--only", default=None, help="networks to build, e.g. digits,256x256")
    ap.add_argument("--lanes", default=None, help="only these lanes settings, e.g. 8")
    ap.add_argument("--core", choices=["pipeline", "serial"], default=None,
                    help="only this core (default both)")
    ap.add_argument("--jobs", type=int, default=2, help="builds at once (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--keep", metavar="DIR", default=None,
                    help="keep the builds (timing reports, critical paths) in DIR; "
                         "without it they go to a temporary folder removed at the end")
    args = ap.parse_args(argv)

    paths = dict(NET_PATHS)
    for item in args.net:
        name, sep, path = item.partition("=")
        if not sep or name not in {c[0] for c in CONFIGS}:
            ap.error(f"--net {item!r}: expected NAME=PATH with NAME one of the networks")
        if not Path(path).is_file():
            ap.error(f"--net {item!r}: no file {path}")
        paths[name] = path
    if args.keep and Path(args.keep).exists() and not Path(args.keep).is_dir():
        ap.error(f"--keep {args.keep!r}: not a folder")
    configs = _configs(args, ap)
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        return _run(args, configs, paths, Path(args.keep))
    with tempfile.TemporaryDirectory(prefix="snnhw-fmax-") as work:
        return _run(args, configs, paths, Path(work))


def _run(args, configs, paths, work: Path) -> int:
    rows, nets = [], {}
    for name, lanes, core, boards, *synops in configs:
        if name not in nets:
            nets[name] = network(name, paths.get(name))
        net, x, source = nets[name]
        path = work / f"{name}.snn"
        ir.save(net, path)
        tp = {**throughput(net, x, lanes, core, work), "network_source": source}
        tag = f"{name}-{lanes.replace(',', '_')}-{core}"
        for board in boards:
            clock = BOARDS[board][1]
            jobs = [(path, board, lanes, core, seed, clock, work / f"build-{tag}-{board}-{seed}")
                    for seed in range(1, args.seeds + 1)]
            with ThreadPoolExecutor(args.jobs) as pool:
                runs = list(pool.map(lambda a: build_one(*a), jobs))
            rows.append(_row(name, lanes, core, board, runs, tp, *synops))
            if not args.json:
                print(_line(rows[-1]), flush=True)
    checked = [r for r in rows if r["target_applies"]]
    report = {"seeds": args.seeds, "rows": rows,
              "targets_met": all(r["meets"] and r["dsp_zero"] for r in checked),
              "misses": [f"{r['network']} lanes {r['lanes']} {r['core']} {r['board']}"
                         for r in checked if not (r["meets"] and r["dsp_zero"])],
              "dsp_zero": all(r["dsp_zero"] for r in rows if r["fmax_median_mhz"] is not None)}
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(f"targets met: {report['targets_met']} (0 DSP everywhere: {report['dsp_zero']})")
        for miss in report["misses"]:
            print(f"  missed: {miss}")
    return 0 if all("error" not in run for r in rows for run in r["runs"]) else 1


def _line(r: dict) -> str:
    head = f"{r['network']:>13} lanes {r['lanes']:>3} {r['core']:>8} {r['device']:>9}:"
    if r["refused"]:
        return f"{head} refused before place and route: {r['refused']}"
    if r["fmax_median_mhz"] is None:
        return f"{head} failed {r['runs']}"
    mark = (("meets" if r["meets"] else "MISSES") + f" {r['target_mhz']:g}"
            + (f" MHz and {r['target_synops'] / 1e9:g} G ops/s" if r["target_synops"] else "")
            if r["target_applies"] else "(no target)")
    return (f"{head} Fmax min {r['fmax_min_mhz']:6.1f} median {r['fmax_median_mhz']:6.1f} "
            f"MHz {mark}; LUT {r['luts']}, FF {r['ffs']}, LC {r['lc']} "
            f"(estimate {r['lc_estimate']}), BRAM {r['bram']} (estimate {r['bram_estimate']}), "
            f"SPRAM {r['spram']}, DSP {r['dsp']}; utilisation "
            f"{r['throughput']['lane_utilisation']:.2f}, "
            f"{r['synops_per_second'] / 1e6:,.0f} M synaptic ops/s")


if __name__ == "__main__":
    sys.exit(main())
