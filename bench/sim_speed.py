"""Simulation speed of the generated RTL under cocotb: Verilator vs Icarus, one run.

For each simulator: a fresh build of the digits network's Verilog (lanes 8
by default), then the first ``--n`` digits test samples through the full
cocotb testbench (every result checked against the golden model). Prints the
build time, samples per second and simulated cycles per second, and the
Verilator / Icarus speed ratio.

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

from snnhw import ir
from snnhw.data import load_digits_split
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_network
from snntb.runner import run_case, simulator_available


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", default="out/digits.snn",
                    help="IR file (%(default)s; a seeded digits-shaped network if absent)")
    ap.add_argument("--lanes", type=int, default=8, help="(%(default)s)")
    ap.add_argument("--n", type=int, default=360, help="samples per simulator (%(default)s)")
    ap.add_argument("--icarus-n", type=int, default=None,
                    help="samples for Icarus if it should run fewer (default: --n)")
    ap.add_argument("--sims", default="verilator,icarus", help="(%(default)s)")
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
            why = simulator_available(sim)
            if why:
                rows.append({"simulator": sim, "skipped": why})
                continue
            n = args.icarus_n if (sim == "icarus" and args.icarus_n) else args.n
            x = np.repeat(d.x_test[:n, None], net.timesteps, axis=1)
            r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work / sim, name="speed")
            cyc = r.report.get("cycles") or 0
            rows.append({
                "simulator": sim, "samples": n, "ok": r.ok,
                "build_seconds": round(r.build_seconds, 2),
                "run_seconds": round(r.run_seconds, 2),
                "samples_per_second": round(n / r.run_seconds, 2),
                "cycles": cyc,
                "cycles_per_second": round(cyc / r.run_seconds, 1),
                "total_seconds": round(r.build_seconds + r.run_seconds, 2),
            })
    finally:
        shutil.rmtree(work, ignore_errors=True)
    by = {r["simulator"]: r for r in rows if "skipped" not in r}
    ratio = None
    if "verilator" in by and "icarus" in by:
        ratio = round(by["verilator"]["cycles_per_second"] / by["icarus"]["cycles_per_second"], 2)
    report = {"network": [net.n_in] + [ly.n_out for ly in net.layers], "lanes": args.lanes,
              "rows": rows, "verilator_over_icarus_cycles_per_second": ratio}
    ok = all(r.get("ok", True) for r in rows)
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0 if ok else 1
    print(f"network {'-'.join(map(str, report['network']))}, lanes {args.lanes}")
    for r in rows:
        if "skipped" in r:
            print(f"{r['simulator']:>9}: skipped ({r['skipped']})")
            continue
        print(f"{r['simulator']:>9}: build {r['build_seconds']:6.1f} s, {r['samples']} samples "
              f"in {r['run_seconds']:6.1f} s = {r['samples_per_second']:7.2f} samples/s, "
              f"{r['cycles_per_second']:9.0f} cycles/s, all checked: {r['ok']}")
    if ratio:
        print(f"Verilator / Icarus (cycles/s): {ratio}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
