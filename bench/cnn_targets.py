"""The spiking CNN targets, measured: train each data set's default CNN, export it,
and check it.

For every data set and seed: ``snnhw train --arch cnn`` (the data set's default
CNN and recipe), training time (wall clock of the training loop), float test
accuracy, then export (8-bit weights and 16-bit membranes unless --w-bits /
--u-bits say otherwise): integer (hardware)
test accuracy, and torch integer mode == golden model on every layer's
``I, v, s, u`` over the whole test split. Targets (printed with a verdict):
MNIST-1D integer >= 90 % and <= 1 point below float, trained in <= 300 s;
digits integer >= 98.5 %.

    python bench/cnn_targets.py                      # mnist1d and digits, seed 0
    python bench/cnn_targets.py --seeds 3 --json     # one JSON object
    python bench/cnn_targets.py --data digits --epochs 2   # quick look
    python bench/cnn_targets.py --data mnist1d --arch c32k5p2,sp2,c32k3p1,sp4 \\
        --w-bits 10 --seeds 3    # the MNIST-1D CNN sized for the iCEBreaker, same targets
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

TARGETS = {"mnist1d": {"int": 0.90, "max_drop": 0.01, "seconds": 300.0},
           "digits": {"int": 0.985}}


def run_one(name: str, seed: int, epochs: int | None, arch: str = "cnn", w_bits: int = 8,
            u_bits: int = 16) -> dict:
    from snnhw.data import load_data
    from snnhw.nn.export import compare, export_model
    from snnhw.nn.train import TrainConfig, train

    data = load_data(name)
    cfg = TrainConfig.for_data(data, arch=arch, seed=seed,
                               **({"epochs": epochs} if epochs else {}))
    model, history = train(cfg, data, progress=False)
    q, net = export_model(model, name=f"{name}-cnn", w_bits=w_bits, u_bits=u_bits)
    c = compare(model, q, net, data.x_test, data.y_test)
    return {"seed": seed, "arch": cfg.arch, "epochs": cfg.epochs, "w_bits": w_bits,
            "u_bits": u_bits,
            "train_seconds": round(history["seconds"], 1), "float": c.float_acc,
            "int": c.int_acc, "golden": c.golden_acc, "samples": c.samples,
            "torch_equals_golden": c.agree_samples, "first_mismatch": c.first_mismatch}


def verdict(name: str, runs: list[dict]) -> dict:
    t = TARGETS.get(name, {})
    ints = np.array([r["int"] for r in runs])
    floats = np.array([r["float"] for r in runs])
    checks = {"bit_exact": all(r["torch_equals_golden"] == r["samples"] for r in runs)}
    if "int" in t:
        checks[f"int >= {100 * t['int']:g} %"] = bool(ints.mean() >= t["int"])
    if "max_drop" in t:
        checks[f"int >= float - {100 * t['max_drop']:g} pt"] = bool(
            (floats - ints).mean() <= t["max_drop"])
    if "seconds" in t:
        checks[f"training <= {t['seconds']:g} s"] = all(r["train_seconds"] <= t["seconds"]
                                                        for r in runs)
    sd = float(ints.std(ddof=1)) if len(ints) > 1 else 0.0
    return {"int_mean": float(ints.mean()), "int_std": sd, "float_mean": float(floats.mean()),
            "checks": checks, "met": all(checks.values())}


def main(argv=None) -> int:
    from snnhw.cli.args import int_range

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--data", default="mnist1d,digits", help="data sets (%(default)s)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (%(default)s)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="override the recipe's epochs (a quick look; targets then say little)")
    ap.add_argument("--arch", default="cnn",
                    help="the CNN's layers as for 'snnhw train --arch', with the default "
                         "CNN's recipe (%(default)s: each data set's default CNN)")
    ap.add_argument("--w-bits", type=int_range(2, 16), default=8,
                    help="exported weight width, 2..16 as for 'snnhw export' (%(default)s)")
    ap.add_argument("--u-bits", type=int_range(8, 32), default=16,
                    help="exported membrane width, 8..32 as for 'snnhw export' (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1):
        raise SystemExit("cnn_targets: --seeds and --epochs must be positive")
    names = [n for n in args.data.split(",") if n]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        raise SystemExit(f"cnn_targets: data sets are {sorted(TARGETS)}, got {args.data!r}")
    if args.arch != "cnn":
        from snnhw.data import load_data
        from snnhw.nn.conv import ArchError, plan_arch

        for name in names:
            data = load_data(name)
            try:
                plan_arch(args.arch, data.in_shape, data.n_classes)
            except ArchError as exc:
                raise SystemExit(f"cnn_targets: on {name}: {exc}") from None
    report = {}
    for name in names:
        runs = []
        for seed in range(args.seeds):
            runs.append(run_one(name, seed, args.epochs, args.arch, args.w_bits, args.u_bits))
            if not args.json:
                r = runs[-1]
                print(f"{name} seed {seed}: {r['arch']}, {r['epochs']} epochs in "
                      f"{r['train_seconds']} s; float {100 * r['float']:.2f} %, integer "
                      f"{100 * r['int']:.2f} %; torch == golden "
                      f"{r['torch_equals_golden']}/{r['samples']}", flush=True)
        report[name] = {"runs": runs, **verdict(name, runs)}
    met = all(v["met"] for v in report.values())
    if args.json:
        json.dump({"data": report, "met": met}, sys.stdout)
        print()
    else:
        for name, v in report.items():
            checks = ", ".join(f"{k}: {'yes' if ok else 'NO'}" for k, ok in v["checks"].items())
            print(f"{name}: integer {100 * v['int_mean']:.2f} ± {100 * v['int_std']:.2f} %, "
                  f"float {100 * v['float_mean']:.2f} %; {checks}")
        print("all targets met" if met else "a target is NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
