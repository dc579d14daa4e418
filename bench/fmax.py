"""Fmax, logic and synaptic throughput of fixed networks on iCE40UP5K, ECP5-85F and Gowin.

Builds each configuration through ``snnhw build`` (the board design: network,
host link, UART) on the iCEBreaker (iCE40UP5K) and the ULX3S (ECP5-85F), and on
request the Tang Nano 9K (GW1NR-9) and Tang Primer 20K (GW2A-18), at
several nextpnr seeds, and prints per configuration the min and median Fmax,
LUTs, FFs, block RAM, SPRAM, DSP blocks (must be 0), and the synaptic
operations per second at the median Fmax.

Synaptic operations per second = (synaptic additions per cycle, measured) x
Fmax. The additions per cycle come from a bulk Verilator run of the same
network and lanes (:mod:`snntb.bulk`, no stalls): ``sum E * n_out`` over
layers and steps (``E`` the non-zero input events, golden model) divided by
the measured cycles. Lane utilisation = ``sum E * ceil(n_out/lanes)`` /
measured cycles (:func:`snnhw.gateware.cycles.ideal_cycles`; above 1 when
layers overlap), so the additions per cycle are about ``lanes x
utilisation``.

Networks: the digits network (``out/digits.snn`` if present, else the
digits-shaped 64-128-10 with seeded weights) at lanes ``2,1`` and ``8``; a
256-input 256-neuron layer with 4-bit weights and binary spikes at lanes 1
and 8; 784-128-10 with 8-bit weights at lanes 8 (weights in SPRAM on the
iCE40, where block RAM is short). Targets: ECP5 >= 150 MHz median at lanes 8
(and lanes 1 for the 256x256 layer), iCE40 >= 40 MHz median for digits at
lanes 2,1 and the 256x256 layer at lanes 8, 0 DSP. The Gowin boards are built at
100 MHz with no target yet (Fmax reported); the logic cells and block RAM are
given next to the estimate's.

    python bench/fmax.py                      # table (about an hour on 2 cores)
    python bench/fmax.py --json               # one JSON object
    python bench/fmax.py --only digits --boards ulx3s --seeds 1
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
from snnhw.data import load_digits_split
from snnhw.gateware import cycles
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_input, random_network
from snntb.bulk import cycle_budget, run_bulk

#: board: (device, the clock the build asks for in MHz); the target where a
#: configuration names the board (Gowin boards: no target yet, Fmax reported)
BOARDS = {"icebreaker": ("iCE40UP5K", 40.0), "ulx3s": ("ECP5-85F", 150.0),
          "tang_nano_9k": ("GW1NR-9", 100.0), "tang_primer_20k": ("GW2A-18", 100.0)}
CONFIGS = [  # name, lanes, which boards must meet their target
    ("digits", "2,1", {"icebreaker"}),
    ("digits", "8", {"ulx3s"}),
    ("256x256", "1", {"ulx3s"}),
    ("256x256", "8", {"ulx3s", "icebreaker"}),
    ("784-128-10", "8", {"ulx3s"}),
]


def networks(digits_path: str) -> dict:
    """``{name: (net, inputs for the cycle measurement)}``."""
    d = load_digits_split()
    if Path(digits_path).exists():
        digits = ir.load(digits_path)
    else:
        digits = random_network(np.random.default_rng(1), [64, 128, 10], in_bits=5,
                                timesteps=4, spike_bits=2, name="digits-shaped")
    layer = random_network(np.random.default_rng(3), [256, 256], in_bits=1, timesteps=1,
                           spike_bits=1, w_bits=4, u_bits=12, readout="spikes",
                           name="256x256")
    rng = np.random.default_rng(7)
    mnist = random_network(rng, [784, 128, 10], in_bits=8, timesteps=4, spike_bits=2,
                           w_bits=8, u_bits=16, name="784-128-10")
    return {
        "digits": (digits, np.repeat(d.x_test[:, None], digits.timesteps, axis=1)),
        "256x256": (layer, random_input(np.random.default_rng(4), layer, 200, density=0.5)),
        "784-128-10": (mnist, random_input(rng, mnist, 100, density=0.19)),
    }


def throughput(net, x, lanes: str, work: Path) -> dict:
    """Measured cycles of ``x`` (bulk Verilator run, checked against golden) and the
    synaptic additions they carry."""
    ps = [int(v) for v in lanes.split(",")]
    rtl = work / f"rtl-{net.name}-{lanes.replace(',', '_')}"
    write(net, ps if len(ps) > 1 else ps[0], rtl)
    lanes_arg = ps if len(ps) > 1 else ps[0]
    r = run_bulk(rtl, x, sim="verilator", work=work,
                 max_cycles=cycle_budget(net, lanes_arg, x), name="fmax")
    g = golden.run(net, x)
    exact = r.ok and r.logits == g.logits.tolist() and r.classes == g.classes.tolist()
    ev = cycles.events_per_step(net, x)                  # [sample, layer, step]
    per_layer = ev.sum(axis=(0, 2))
    adds = int(sum(int(e) * ly.n_out for e, ly in zip(per_layer, net.layers)))
    ideal = cycles.ideal_cycles(net, lanes_arg, ev)
    return {"samples": len(x), "cycles": r.cycles, "bit_exact": exact,
            "synaptic_adds": adds, "adds_per_cycle": adds / r.cycles,
            "lane_utilisation": ideal / r.cycles}


def build_one(net_path: Path, board: str, lanes: str, seed: int, clock: float,
              out: Path) -> dict:
    cmd = [sys.executable, "-m", "snnhw", "build", str(net_path), "--board", board,
           "--lanes", lanes, "--clock-mhz", str(clock), "--seed", str(seed), "-o", str(out),
           "--json"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode not in (0, 1) or not r.stdout.strip():
        return {"error": (r.stderr.strip().splitlines() or ["no output"])[-1]}
    rep = json.loads(r.stdout)
    fmax = min(c["fmax_mhz"] for c in rep["clocks"].values())
    res = rep["resources"]
    return {"seed": seed, "fmax_mhz": fmax, "luts": rep["luts"], "ffs": rep["ffs"],
            "lc": res["lc"]["used"], "lc_estimate": rep["estimate"]["lc"],
            "bram": res["bram"]["used"], "bram_estimate": rep["estimate"]["bram"],
            "spram": res.get("spram", {}).get("used", 0),
            "dsp": rep["dsp_used"], "weights_loaded": rep["weights_loaded"],
            "build_seconds": rep["build_seconds"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", default="out/digits.snn", help="digits network (%(default)s)")
    ap.add_argument("--seeds", type=int, default=3, help="nextpnr seeds 1..N (%(default)s)")
    ap.add_argument("--boards", default="icebreaker,ulx3s", help="(%(default)s)")
    ap.add_argument("--only", default=None, help="networks to build, e.g. digits,256x256")
    ap.add_argument("--lanes", default=None, help="only these lanes settings, e.g. 8")
    ap.add_argument("--jobs", type=int, default=2, help="builds at once (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    boards = args.boards.split(",")
    for b in boards:
        if b not in BOARDS:
            ap.error(f"unknown board {b!r}; one of {sorted(BOARDS)}")
    nets = networks(args.net)
    configs = [c for c in CONFIGS if (args.only is None or c[0] in args.only.split(","))
               and (args.lanes is None or c[1] == args.lanes)]
    if not configs:
        ap.error("no configuration left after --only / --lanes")
    work = Path(tempfile.mkdtemp(prefix="snnhw-fmax-"))
    rows = []
    for name, lanes, must in configs:
        net, x = nets[name]
        path = work / f"{name}.snn"
        ir.save(net, path)
        tp = throughput(net, x, lanes, work)
        for board in boards:
            device, target = BOARDS[board]
            jobs = [(path, board, lanes, seed, target,
                     work / f"build-{name}-{lanes.replace(',', '_')}-{board}-{seed}")
                    for seed in range(1, args.seeds + 1)]
            with ThreadPoolExecutor(args.jobs) as pool:
                runs = list(pool.map(lambda a: build_one(*a), jobs))
            good = [r for r in runs if "error" not in r]
            fmax = [r["fmax_mhz"] for r in good]
            med = statistics.median(fmax) if fmax else None
            row = {"network": name, "lanes": lanes, "board": board, "device": device,
                   "target_mhz": target, "runs": runs,
                   "fmax_min_mhz": min(fmax) if fmax else None, "fmax_median_mhz": med,
                   **({k: good[0][k] for k in ("luts", "ffs", "lc", "lc_estimate", "bram",
                                                "bram_estimate", "spram", "dsp",
                                                "weights_loaded")} if good else {}),
                   "dsp_zero": bool(good) and all(r["dsp"] == 0 for r in good),
                   "throughput": tp,
                   "synops_per_second": None if med is None
                   else round(tp["adds_per_cycle"] * med * 1e6),
                   "target_applies": board in must,
                   "meets": med is not None and med >= target}
            rows.append(row)
            if not args.json:
                print(_line(row), flush=True)
    checked = [r for r in rows if r["target_applies"]]
    report = {"seeds": args.seeds, "rows": rows,
              "targets_met": all(r["meets"] and r["dsp_zero"] for r in checked),
              "dsp_zero": all(r["dsp_zero"] for r in rows if r["fmax_median_mhz"] is not None)}
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(f"targets met: {report['targets_met']} (0 DSP everywhere: {report['dsp_zero']})")
    return 0 if all("error" not in run for r in rows for run in r["runs"]) else 1


def _line(r: dict) -> str:
    if r["fmax_median_mhz"] is None:
        return f"{r['network']:>10} lanes {r['lanes']:>3} {r['board']:>10}: failed {r['runs']}"
    mark = ("meets" if r["meets"] else "MISSES") if r["target_applies"] else "(no target)"
    return (f"{r['network']:>10} lanes {r['lanes']:>3} {r['device']:>9}: Fmax min "
            f"{r['fmax_min_mhz']:6.1f} median {r['fmax_median_mhz']:6.1f} MHz {mark} "
            f"{r['target_mhz']:g}; LUT {r['luts']}, FF {r['ffs']}, LC {r['lc']} "
            f"(estimate {r['lc_estimate']}), BRAM {r['bram']} (estimate {r['bram_estimate']}), "
            f"SPRAM {r['spram']}, DSP {r['dsp']}; utilisation "
            f"{r['throughput']['lane_utilisation']:.2f}, "
            f"{r['synops_per_second'] / 1e6:,.0f} M synaptic ops/s")


if __name__ == "__main__":
    sys.exit(main())
