"""Simulation speed of the generated RTL: the bulk and the cocotb testbench, one run.

For each simulator (Verilator, Icarus) and each engine (``bulk``: the
generated SystemVerilog testbench of :mod:`snntb.bulk`, results compared
afterwards; ``cocotb``: every beat checked from Python as it happens), on one
fresh build of the digits network's Verilog (lanes 8 by default): the first
``--n`` digits test samples, every result checked against the golden model.
Prints build time, samples per second, simulated cycles per second, and the
ratios bulk / cocotb (per simulator) and Verilator / Icarus (per engine),
all measured in this run.

    python bench/sim_speed.py                  # table
    python bench/sim_speed.py --json           # one JSON object
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from snnhw import golden, ir
from snnhw.data import load_digits_split
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_network
from snntb.bulk import cycle_budget, run_bulk
from snntb.runner import run_case, simulator_available


def _bulk(net, x, rtl, sim, work, lanes):
    r = run_bulk(rtl, x, sim=sim, work=work, max_cycles=cycle_budget(net, lanes, x),
                 name="speed")
    g = golden.run(net, x)
    ok = r.ok and r.logits == g.logits.tolist() and r.classes == g.classes.tolist()
    # the bulk run also simulates the reset and the tail after the last result;
    # the rate is over every simulated cycle, the cycle count the same span as cocotb's
    return ok, r.build_seconds, r.run_seconds, r.cycles, r.simulated_cycles


def _cocotb(net, x, rtl, sim, work):
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, name="speed")
    cyc = r.report.get("cycles") or 0
    return r.ok, r.build_seconds, r.run_seconds, cyc, cyc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", default="out/digits.snn",
                    help="IR file (%(default)s; a seeded digits-shaped network if absent)")
    ap.add_argument("--lanes", type=int, default=8, help="(%(default)s)")
    ap.add_argument("--n", type=int, default=360, help="samples per simulator (%(default)s)")
    ap.add_argument("--icarus-n", type=int, default=60,
                    help="samples for Icarus, which is slow (%(default)s)")
    ap.add_argument("--sims", default="verilator,icarus", help="(%(default)s)")
    ap.add_argument("--engines", default="bulk,cocotb", help="(%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    if Path(args.net).exists():
        net = ir.load(args.net)
    else:
        net = random_network(np.random.default_rng(1), [64, 128, 10], in_bits=5, timesteps=4,
                             spike_bits=2, name="digits-shaped")
    d = load_digits_split()
    work = Path(tempfile.mkdtemp(prefix="snnhw-simspeed-"))
    rows = []
    try:
        rtl = work / "rtl"
        write(net, args.lanes, rtl)
        for sim in args.sims.split(","):
            for engine in args.engines.split(","):
                why = simulator_available(sim)
                if why:
                    rows.append({"simulator": sim, "engine": engine, "skipped": why})
                    continue
                n = min(args.n, args.icarus_n) if sim == "icarus" else args.n
                x = np.repeat(d.x_test[:n, None], net.timesteps, axis=1)
                if engine == "bulk":
                    ok, build_s, run_s, cyc, sim_cyc = _bulk(net, x, rtl, sim, work / sim,
                                                             args.lanes)
                else:
                    ok, build_s, run_s, cyc, sim_cyc = _cocotb(net, x, rtl, sim, work / sim)
                rows.append({
                    "simulator": sim, "engine": engine, "samples": n, "ok": ok,
                    "build_seconds": round(build_s, 2), "run_seconds": round(run_s, 2),
                    "samples_per_second": round(n / run_s, 2),
                    "cycles": cyc, "simulated_cycles": sim_cyc,
                    "cycles_per_second": round(sim_cyc / run_s, 1),
                    "total_seconds": round(build_s + run_s, 2),
                })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by = {(r["simulator"], r["engine"]): r for r in rows if "skipped" not in r}

    def ratio(a, b):
        if a in by and b in by:
            return round(by[a]["cycles_per_second"] / by[b]["cycles_per_second"], 2)
        return None
    report = {"network": [net.n_in] + [ly.n_out for ly in net.layers], "lanes": args.lanes,
              "rows": rows,
              "bulk_over_cocotb": {s: ratio((s, "bulk"), (s, "cocotb"))
                                   for s in args.sims.split(",")},
              "verilator_over_icarus": {e: ratio(("verilator", e), ("icarus", e))
                                        for e in args.engines.split(",")}}
    ok = all(r.get("ok", True) for r in rows)
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0 if ok else 1
    print(f"network {'-'.join(map(str, report['network']))}, lanes {args.lanes}")
    for r in rows:
        name = f"{r['simulator']:>9} {r['engine']:>6}"
        if "skipped" in r:
            print(f"{name}: skipped ({r['skipped']})")
            continue
        print(f"{name}: build {r['build_seconds']:6.1f} s, {r['samples']} samples "
              f"in {r['run_seconds']:7.2f} s = {r['samples_per_second']:8.2f} samples/s, "
              f"{r['cycles_per_second']:10.0f} cycles/s, all checked: {r['ok']}")
    for s_, v in report["bulk_over_cocotb"].items():
        if v:
            print(f"{s_}: bulk / cocotb (cycles/s): {v}x")
    for e, v in report["verilator_over_icarus"].items():
        if v:
            print(f"{e}: Verilator / Icarus (cycles/s): {v}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
