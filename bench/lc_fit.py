"""The iCE40 logic-cell models of both cores, refitted to the designs they describe.

Synthesises and packs (Yosys, then nextpnr ``--pack-only``: the logic cells are
those of a full build, without place and route, so that designs larger than the
device count too) the calibration designs of each core on the iCEBreaker from a
30 MHz PLL, with the host link, and fits the core's linear model to the cells
by non-negative least squares:

- pipeline core (:data:`snnboards.estimate.LC_CALIBRATION`,
  :class:`snnhw.families.base.LogicModel` of the iCE40): ``base + layer *
  layers + state_bit * sum(lanes * (acc + u bits)) + weight_bit * sum(lanes *
  w bits) + conv_addr_bit * (a conv layer's weight and accumulator address
  bits)`` (:func:`snnboards.estimate.pipeline_lc_features`);
- serial core (:data:`snnboards.estimate.SERIAL_LC_CALIBRATION`,
  :data:`snnboards.estimate.SERIAL_LOGIC`): ``base + lane_bit * lanes * (acc +
  2 u + w bits) + windowed + loaded`` (:func:`snnboards.estimate.serial_lc_features`).

Prints per design the cells, the current model's value, the refitted one's and
the design predicted by a fit to the others (leave-one-out), then the constants.

Networks: the ``bench/fmax.py`` ones (``out/digits.snn``, ``out/cnn/*.snn``
where they exist, else seeded weights of the same shapes), and ``digits-w4``:
the digits shape with seeded 4-bit weights.

    python bench/lc_fit.py                      # both cores, about 10 minutes on 2 cores
    python bench/lc_fit.py --core serial --json
    python bench/lc_fit.py --list               # the designs, without building
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from fmax import NET_PATHS, network
from scipy.optimize import nnls

from snnboards.build import BuildError, build
from snnboards.estimate import (
    LC_CALIBRATION,
    PIPELINE_TERMS,
    SERIAL_LC_CALIBRATION,
    SERIAL_LOGIC,
    SERIAL_TERMS,
    lc_features,
)
from snnhw import ir
from snnhw.families.ice40 import ICE40
from snnhw.ir.examples import random_network
from snnhw.toolchain import tool

#: per core: the network, lanes, the weights option
DESIGNS = {
    "pipeline": [("digits", "2,1", "auto"), ("digits", "1", "auto"), ("digits", "2", "auto"),
                 ("digits", "4", "auto"), ("digits", "8", "auto"), ("digits-w4", "1", "auto"),
                 ("digits-w4", "2", "auto"), ("digits-w4", "4", "auto"),
                 ("256x256", "1", "spram"), ("256x256", "8", "spram"),
                 ("784-128-10", "8", "auto"), ("digits-cnn", "1", "auto"),
                 ("digits-cnn", "2", "auto"), ("mnist1d-cnn", "1", "auto")],
    "serial": [("digits", "1", "bram"), ("digits", "1", "spram"), ("digits", "2", "bram"),
               ("digits", "4", "bram"), ("784-128-10-w4", "2", "spram"),
               ("784-128-10-w4", "4", "spram"), ("784-128-10-w4", "8", "spram"),
               ("mnist1d-cnn", "1", "spram"), ("mnist1d-cnn", "2", "spram"),
               ("mnist1d-cnn", "4", "spram")],
}
CLOCK_MHZ = 30.0


def current(core: str) -> dict:
    if core == "serial":
        return dict(SERIAL_LOGIC)
    return {k: getattr(ICE40.logic, k) for k in PIPELINE_TERMS}


def load(name: str) -> tuple[ir.Network, str]:
    """The network and where its weights come from."""
    if name == "digits-w4":
        return random_network(np.random.default_rng(1), [64, 128, 10], in_bits=5, timesteps=4,
                              spike_bits=2, w_bits=4, name="digits-w4"), "seeded"
    net, _, source = network(name, NET_PATHS.get(name))
    return net, source


def packed_cells(job) -> int:
    """Logic cells of one design after packing (nextpnr ``--pack-only``)."""
    path, lanes, weights, core, out, nextpnr = job
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    wrapper = out / "nextpnr-pack-only"
    # (with --pack-only nextpnr stops after its utilisation report, with an error)
    wrapper.write_text(f'#!/bin/sh\nexec "{nextpnr}" --pack-only "$@" 2>/dev/null\n')
    wrapper.chmod(0o755)
    os.environ["NEXTPNR_ICE40"] = str(wrapper)
    lanes_arg = [int(v) for v in lanes.split(",")]
    # packing writes no placement: the bitstream step fails, the log is there
    with contextlib.suppress(BuildError):
        build(ir.load(path), "icebreaker", lanes=lanes_arg if len(lanes_arg) > 1
              else lanes_arg[0], out_dir=out / "build", fit_check=False,
              clock_mhz=CLOCK_MHZ, weights=weights, core=core)
    log = (out / "build" / "snn_board.tim").read_text()
    found = re.search(r"ICESTORM_LC:\s+(\d+)/", log)
    if not found:
        raise RuntimeError(f"no packed logic cells in {out / 'build' / 'snn_board.tim'}")
    return int(found.group(1))


def fit(features: np.ndarray, cells: np.ndarray) -> np.ndarray:
    return nnls(features, cells)[0]


def run_core(core: str, work: Path, jobs: int) -> dict:
    designs = DESIGNS[core]
    nets, paths, sources = {}, {}, {}
    for name, _, _ in designs:
        if name not in paths:
            nets[name], sources[name] = load(name)
            paths[name] = ir.save(nets[name], work / f"{name}.snn")
    nextpnr = tool("NEXTPNR_ICE40")
    todo = [(str(paths[n]), p, w, core, str(work / f"{core}-{n}-{p.replace(',', '_')}-{w}"),
             nextpnr) for n, p, w in designs]
    with ProcessPoolExecutor(jobs) as pool:
        cells = np.array(list(pool.map(packed_cells, todo)), dtype=float)
    feats = np.array([lc_features(nets[n], "icebreaker", lanes=[int(v) for v in
                                  p.split(",")] if "," in p else int(p), weights=w,
                                  core=core) for n, p, w in designs], dtype=float)
    terms = SERIAL_TERMS if core == "serial" else PIPELINE_TERMS
    now = current(core)
    old = np.array([now[k] for k in terms])
    coef = fit(feats, cells)
    rows = []
    for i, (name, lanes, weights) in enumerate(designs):
        keep = [j for j in range(len(designs)) if j != i]
        loo = float(feats[i] @ fit(feats[keep], cells[keep]))
        rows.append({"network": name, "lanes": lanes, "weights": weights,
                     "source": sources[name], "features": [int(v) for v in feats[i]],
                     "lc": int(cells[i]), "model_now": round(float(feats[i] @ old)),
                     "model_refit": round(float(feats[i] @ coef)), "leave_one_out": round(loo),
                     "loo_error": round((loo - cells[i]) / cells[i], 4)})
    return {"terms": list(terms), "rows": rows,
            "refit": {k: round(float(v), 2) for k, v in zip(terms, coef)}, "current": now,
            "max_error_refit": max(abs(r["model_refit"] - r["lc"]) / r["lc"] for r in rows),
            "max_error_now": max(abs(r["model_now"] - r["lc"]) / r["lc"] for r in rows),
            "max_loo_error": max(abs(r["loo_error"]) for r in rows)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--core", choices=["pipeline", "serial", "both"], default="both",
                    help="the model to refit (%(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="designs at once (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--list", action="store_true",
                    help="print the designs it would build (JSON) and stop")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error(f"--jobs must be at least 1, got {args.jobs}")
    cores = ["pipeline", "serial"] if args.core == "both" else [args.core]
    if args.list:
        print(json.dumps({c: [{"network": n, "lanes": p, "weights": w}
                              for n, p, w in DESIGNS[c]] for c in cores}))
        return 0
    with tempfile.TemporaryDirectory(prefix="snnhw-lc-fit-") as tmp:
        report = {"clock_mhz": CLOCK_MHZ, "calibration_rows": {
            "pipeline": len(LC_CALIBRATION), "serial": len(SERIAL_LC_CALIBRATION)}}
        for core in cores:
            report[core] = run_core(core, Path(tmp), args.jobs)
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0
    for core in cores:
        r = report[core]
        print(f"{core} core")
        print(f"{'network':>14} {'lanes':>5} {'weights':>7} {'cells':>6} {'model now':>9} "
              f"{'refit':>6} {'leave-one-out':>13}")
        for row in r["rows"]:
            print(f"{row['network']:>14} {row['lanes']:>5} {row['weights']:>7} "
                  f"{row['lc']:>6,} {row['model_now']:>9,} {row['model_refit']:>6,} "
                  f"{row['leave_one_out']:>7,} ({100 * row['loo_error']:+.1f} %)")
        print(f"refit: {r['refit']} (now {r['current']}); largest error "
              f"{100 * r['max_error_refit']:.1f} % refitted, {100 * r['max_error_now']:.1f} % "
              f"now, {100 * r['max_loo_error']:.1f} % leave-one-out\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
