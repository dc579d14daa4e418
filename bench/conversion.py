"""ANN-to-SNN conversion on MNIST-1D, and what the L4-norm adjustment is worth there.

For every network and seed one ReLU ANN is trained (the MLP on normalised inputs, the
CNN with BatchNorm, folded before conversion, on inputs scaled to [0, 1]); then at every
T it is converted three ways, all with direct (multi-bit) input encoding, IF neurons and
soft reset:

- ``l4``: data-based normalisation (99.9th percentile) plus the L4-norm adjustment, its
  strength chosen on the calibration data (the first 20 % of the training split);
- ``percentile``: the same normalisation, no adjustment;
- ``max``: plain max-norm (the 100th percentile), no adjustment.

Every SNN is exported (8-bit weights, 16-bit membranes) and its integer accuracy is the
golden model's on the whole test split, with torch integer mode == golden model checked
on every layer. Verdicts (l4 vs each other) use the ablation's rule: "holds" when A wins
by more than two standard errors of the difference over the seeds.

    python bench/conversion.py                           # mlp and cnn, T 4,8,16,32, 3 seeds
    python bench/conversion.py --nets mlp --seeds 1 --timesteps 8 --epochs 5   # quick
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablation import stats, verdict

from snnhw.util import write_text_atomic

METHODS = ("l4", "percentile", "max")


def run_seed(net: str, seed: int, Ts: list[int], epochs: int | None, spike_bits: int) -> dict:
    import torch

    from snnhw.data import load_data
    from snnhw.nn.convert import InputMap, ReLUCNN, choose_l4_strength, convert, train_ann
    from snnhw.nn.export import compare, export_model
    from snnhw.nn.model import input_stats

    data = load_data("mnist1d")
    x_max = float(data.x_max)
    n_cal = len(data.x_train) // 5
    xc, yc = data.x_train[:n_cal], data.y_train[:n_cal]
    if net == "mlp":
        mean, std = input_stats(data.x_train)
        sizes, model = [data.n_in, *data.defaults["hidden"], data.n_classes], None
    else:
        mean = std = None
        torch.manual_seed(seed)
        sizes, model = None, ReLUCNN(data.defaults["cnn"]["arch"], data.in_shape,
                                     data.n_classes, bn=True)
    inputs = InputMap(encoding="direct", x_max=x_max, in_bits=data.in_bits, mean=mean,
                      std=std)
    t0 = time.perf_counter()
    ann = train_ann(sizes, data.x_train[n_cal:], data.y_train[n_cal:], seed=seed,
                    x_max=x_max, net=model, inputs=inputs,
                    **({"epochs": epochs} if epochs else {}))
    ann_seconds = time.perf_counter() - t0
    with torch.no_grad():
        ann_acc = float((ann(inputs.features(data.x_test)).argmax(1).numpy()
                         == data.y_test).mean())
    out = {"net": net, "seed": seed, "ann": ann_acc, "ann_seconds": round(ann_seconds, 1)}
    calib = inputs.features(xc)
    for T in Ts:
        alpha, _ = choose_l4_strength(ann, xc, yc, timesteps=T, spike_bits=spike_bits,
                                      seed=seed, inputs=inputs)
        out[f"{T}/alpha"] = alpha
        for method, pct, a in (("l4", 99.9, alpha), ("percentile", 99.9, 0.0),
                               ("max", 100.0, 0.0)):
            snn = convert(ann, calib, timesteps=T, spike_bits=spike_bits, percentile=pct,
                          l4_strength=a, inputs=inputs)
            q, ir = export_model(snn)
            c = compare(snn, q, ir, data.x_test, data.y_test)
            out[f"{T}/{method}"] = c.int_acc
            out[f"{T}/{method}/exact"] = c.agree_samples == c.samples
    return out


def report(runs: list[dict], Ts: list[int]) -> list[dict]:
    rows = []
    for net in sorted({r["net"] for r in runs}, key=["mlp", "cnn"].index):
        rs = [r for r in runs if r["net"] == net]
        row = {"net": net, "ann": stats([r["ann"] for r in rs]), "cells": []}
        for T in Ts:
            cell = {"T": T, **{m: stats([r[f"{T}/{m}"] for r in rs]) for m in METHODS},
                    "alpha": [r[f"{T}/alpha"] for r in rs],
                    "exact": all(r[f"{T}/{m}/exact"] for r in rs for m in METHODS)}
            for other in ("percentile", "max"):
                d, se, v = verdict(cell["l4"], cell[other])
                cell[f"l4_vs_{other}"] = {"delta_points": round(d, 2), "se_points": round(se, 2),
                                          "verdict": v}
            row["cells"].append(cell)
        rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    def f(s):
        return f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"
    lines = ["| net (ANN) | T | L4 | percentile | max-norm | L4 vs percentile | L4 vs max |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        for c in row["cells"]:
            vp, vm = c["l4_vs_percentile"], c["l4_vs_max"]
            lines.append(f"| {row['net']} ({f(row['ann'])}) | {c['T']} | {f(c['l4'])} | "
                         f"{f(c['percentile'])} | {f(c['max'])} | {vp['delta_points']:+.1f} "
                         f"(± {vp['se_points']:.1f}) {vp['verdict']} | "
                         f"{vm['delta_points']:+.1f} (± {vm['se_points']:.1f}) {vm['verdict']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default="mlp,cnn", help="mlp, cnn (%(default)s)")
    ap.add_argument("--timesteps", default="4,8,16,32", help="(%(default)s)")
    ap.add_argument("--seeds", type=int, default=3, help="(%(default)s)")
    ap.add_argument("--epochs", type=int, default=None, help="ANN epochs (60)")
    ap.add_argument("--spike-bits", type=int, default=1, help="(%(default)s)")
    ap.add_argument("--cache", default="out/bench/conversion", help="(%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    Ts = [int(v) for v in args.timesteps.split(",")]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    runs = []
    for net in args.nets.split(","):
        for seed in range(args.seeds):
            tag = "_".join(map(str, Ts))
            key = cache / f"{net}-s{seed}-T{tag}-e{args.epochs}-b{args.spike_bits}.json"
            if key.exists():
                r = json.loads(key.read_text())
            else:
                r = run_seed(net, seed, Ts, args.epochs, args.spike_bits)
                write_text_atomic(key, json.dumps(r))   # no half-written cache
            runs.append(r)
            if not args.json:
                print(f"{net} seed {seed}: ANN {100 * r['ann']:.1f} %", file=sys.stderr)
    rows = report(runs, Ts)
    if args.json:
        json.dump({"rows": rows, "runs": runs, "seconds": round(time.perf_counter() - t0, 1)},
                  sys.stdout)
        print()
    else:
        print(markdown(rows))
    return 0 if all(c["exact"] for row in rows for c in row["cells"]) else 1


if __name__ == "__main__":
    sys.exit(main())
