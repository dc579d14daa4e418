"""Reproduce the claims of docs/training.md on the bundled digits data.

Each comparison changes one thing against the default training recipe
(soft reset, MPR, RMP-Loss lambda=0.005, 2-bit spikes, 64-128-10), at equal T
and architecture, over several seeds. Reported: mean +- std test accuracy of
the integer model (the hardware path: quantised, run by the golden model) and
of the float model. The conversion comparison trains one ReLU MLP per seed
and converts it with and without the L4 adjustment (strength chosen on the
calibration data, the grid includes 0), under seeded Poisson input.

    python bench/ablation.py                     # table + out/ablation.png
    python bench/ablation.py --json              # one JSON object
    python bench/ablation.py --seeds 1 --epochs 3 --timesteps 1,2   # quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from snnhw import golden
from snnhw.data import load_digits_split
from snnhw.nn.convert import choose_l4_strength, convert, train_ann
from snnhw.nn.export import export_model
from snnhw.nn.model import encode
from snnhw.nn.train import TrainConfig, evaluate, train

COMPARISONS = {
    "reset": ("soft reset", "hard reset", {}, {"reset": "hard"}),
    "mpr": ("MPR on", "MPR off", {}, {"mpr": False}),
    "rmp": ("RMP-Loss on", "RMP-Loss off", {}, {"rmp_lambda": 0.0}),
    "spike_bits": ("2-bit spikes", "1-bit spikes", {}, {"spike_bits": 1}),
}


def integer_accuracy(model, data, seed=0) -> float:
    _, net = export_model(model)
    x = encode(model.config, data.x_test, seed).numpy()
    return float((golden.run(net, x).classes == data.y_test).mean())


def stats(values) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "runs": list(values)}


def run_training(data, T, seeds, epochs, bar) -> dict:
    """Every distinct training config once per (T, seed); comparisons share the default."""
    variants = {"default": {}}
    for _, (_, _, _, b) in COMPARISONS.items():
        variants[json.dumps(b, sort_keys=True)] = b
    results = {}
    for key, change in variants.items():
        ints, floats = [], []
        for seed in seeds:
            cfg = TrainConfig(timesteps=T, seed=seed, epochs=epochs, **change)
            model, _ = train(cfg, data, progress=False)
            floats.append(evaluate(model, data.x_test, data.y_test))
            ints.append(integer_accuracy(model, data))
            bar.update(1)
        results[key] = {"int": stats(ints), "float": stats(floats)}
    return results


def run_conversion(data, T, seeds, anns, bar) -> dict:
    n_cal = len(data.x_train) // 5
    xc, yc = data.x_train[:n_cal], data.y_train[:n_cal]
    calib = torch.as_tensor(xc, dtype=torch.float32) / 16
    out = {"off": [], "on": [], "alpha": []}
    for seed in seeds:
        ann = anns[seed]
        alpha, _ = choose_l4_strength(ann, xc, yc, timesteps=T, seed=seed)
        for key, a in (("off", 0.0), ("on", alpha)):
            snn = convert(ann, calib, timesteps=T, l4_strength=a)
            out[key].append(integer_accuracy(snn, data, seed=1000 + seed))
        out["alpha"].append(alpha)
        bar.update(1)
    return {"on": {"int": stats(out["on"])}, "off": {"int": stats(out["off"])},
            "alpha": out["alpha"]}


def fmt(s) -> str:
    return f"{100 * s['mean']:5.1f} +- {100 * s['std']:3.1f}"


def plot(report, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["rows"]
    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.4))
    for ax, row in zip(np.atleast_1d(axes), rows):
        Ts = [c["T"] for c in row["cells"]]
        xs = np.arange(len(Ts))
        for off, side, color in ((-0.2, "a", "tab:blue"), (0.2, "b", "tab:orange")):
            m = [100 * c[side]["mean"] for c in row["cells"]]
            e = [100 * c[side]["std"] for c in row["cells"]]
            ax.bar(xs + off, m, 0.4, yerr=e, capsize=3, color=color, label=row[side + "_label"])
        ax.set_xticks(xs, [f"T={t}" for t in Ts])
        # each panel zooms on its own range: the differences are often < 1 point
        lo = min(100 * (c[s]["mean"] - c[s]["std"]) for c in row["cells"] for s in "ab")
        hi = max(100 * (c[s]["mean"] + c[s]["std"]) for c in row["cells"] for s in "ab")
        ax.set_ylim(max(0.0, lo - 1.0), min(100.0, hi + 0.5))
        ax.set_title(row["name"], fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(axis="y", alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("test accuracy, integer model (%)")
    fig.suptitle(f"snnhw ablations on digits ({report['seeds']} seeds, mean +- std)",
                 fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per configuration (%(default)s)")
    ap.add_argument("--timesteps", default="1,2,4", help="T values (%(default)s)")
    ap.add_argument("--convert-timesteps", default="1,2,4,16,32",
                    help="T values for the conversion comparison (%(default)s)")
    ap.add_argument("--epochs", type=int, default=TrainConfig().epochs, help="(%(default)s)")
    ap.add_argument("--plot", default="out/ablation.png", help="PNG path (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from tqdm.auto import tqdm

    Ts = [int(t) for t in args.timesteps.split(",")]
    cTs = [int(t) for t in args.convert_timesteps.split(",")]
    seeds = list(range(args.seeds))
    data = load_digits_split()
    n_runs = len(Ts) * len(seeds) * (1 + len(COMPARISONS)) + len(cTs) * len(seeds)
    t0 = time.perf_counter()
    rows = []
    with tqdm(total=n_runs, desc="ablation", unit="run", disable=args.json) as bar:
        per_T = {T: run_training(data, T, seeds, args.epochs, bar) for T in Ts}
        for name, (a_label, b_label, _, change) in COMPARISONS.items():
            key = json.dumps(change, sort_keys=True)
            cells = [{"T": T, "a": per_T[T]["default"]["int"], "b": per_T[T][key]["int"],
                      "a_float": per_T[T]["default"]["float"], "b_float": per_T[T][key]["float"]}
                     for T in Ts]
            rows.append({"name": name, "a_label": a_label, "b_label": b_label, "cells": cells})
        n_cal = len(data.x_train) // 5
        anns = {s: train_ann([64, 128, 10], data.x_train[n_cal:], data.y_train[n_cal:], seed=s)
                for s in seeds}
        cells = []
        for T in cTs:
            r = run_conversion(data, T, seeds, anns, bar)
            cells.append({"T": T, "a": r["on"]["int"], "b": r["off"]["int"], "alpha": r["alpha"]})
        rows.append({"name": "l4 (conversion)", "a_label": "L4 adjustment",
                     "b_label": "no adjustment", "cells": cells})
    report = {"seeds": len(seeds), "epochs": args.epochs, "rows": rows,
              "seconds": round(time.perf_counter() - t0, 1), "plot": args.plot}
    for row in rows:
        for c in row["cells"]:
            c["delta_points"] = round(100 * (c["a"]["mean"] - c["b"]["mean"]), 2)
            c["claim_holds"] = c["a"]["mean"] > c["b"]["mean"]
    if args.plot:
        plot(report, Path(args.plot))
    if args.json:
        json.dump(report, sys.stdout)
        print()
        return 0
    print(f"integer-model test accuracy (%), mean +- std over {len(seeds)} seeds, "
          f"{report['seconds']} s")
    for row in rows:
        print(f"\n{row['name']}: {row['a_label']} (A) vs {row['b_label']} (B)")
        for c in row["cells"]:
            extra = f"  alpha chosen {c['alpha']}" if "alpha" in c else ""
            fl = (f"  [float A {fmt(c['a_float'])}, B {fmt(c['b_float'])}]"
                  if "a_float" in c else "")
            print(f"  T={c['T']:<3} A {fmt(c['a'])}   B {fmt(c['b'])}   "
                  f"A-B {c['delta_points']:+6.2f}  "
                  f"{'holds' if c['claim_holds'] else 'does not hold'}"
                  f"{fl}{extra}")
    if args.plot:
        print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
