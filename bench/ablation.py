"""Test the training techniques' claims (docs/training.md) on a data set.

Each claim changes one thing against the data set's default recipe (soft
reset, MPR, RMP-Loss lambda=0.005, 2-bit spikes; `snnhw train --data NAME`'s
defaults otherwise) at equal T and architecture, over several seeds, for the
static encoding at every T and, where the data set has one, the temporal
encoding at its own length (plus leak vs none there, where memory matters).
Reported per cell: mean and standard deviation over seeds of the test
accuracy of the integer model (the hardware path: quantised, run by the golden
model) and of the float model. Baselines: a float ReLU MLP of the same sizes
and recipe (normalised input, BatchNorm where the recipe has it), and ANN->SNN
conversion with and without the L4 adjustment (strength chosen on calibration
data, the grid includes 0) under seeded Poisson input.

Verdict per cell (integer accuracy, A = the claimed-better choice):
"holds" when mean(A) - mean(B) > 2 standard errors of that difference,
"does not hold" when it is < -2 standard errors (B is better), else "within
noise". Nothing is tuned to make a claim hold.

    python bench/ablation.py --data mnist1d              # table, out/ablation-mnist1d.{png,md}
    python bench/ablation.py --data mnist1d --json       # one JSON object
    python bench/ablation.py --seeds 1 --epochs 2 --timesteps 1,2   # quick look (digits)
    python bench/ablation.py --data mnist1d --encodings cnn,deep-cnn --cnn-epochs 20

CNNs (encodings ``cnn`` and ``deep-cnn``, on a static data set with a default
CNN): the same four claims on the data set's default CNN (``snnhw train --arch
cnn``) and on a deeper one of four conv layers (:data:`DEEP_CNN`), at
``--cnn-timesteps`` (1, 2, 4).

Runs are independent, spread over --jobs processes, and cached one JSON file
each under --cache, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

CLAIMS = {
    "reset": ("soft reset", "hard reset", {"reset": "hard"}),
    "mpr": ("MPR", "straight-through", {"mpr": False}),
    "rmp": ("RMP-Loss", "no RMP-Loss", {"rmp_lambda": 0.0}),
    "spike_bits": ("2-bit spikes", "1-bit spikes", {"spike_bits": 1}),
}
TEMPORAL_CLAIMS = {**CLAIMS, "leak": ("leak shift 3", "no leak (IF)", {"leak_shift": None})}
#: the deeper CNN per data set: four conv layers (the default CNNs have two or three)
DEEP_CNN = {"mnist1d": "c32k5p2,c32k3p1,sp2,c32k3p1,c32k3p1,sp2,d128",
            "digits": "c16k3p1,c16k3p1,sp2,c32k3p1,c32k3p1,sp2,d128"}
CNN_ENCODINGS = ("cnn", "deep-cnn")
#: the recurrent network on the temporal encoding (``snnhw train --arch rnn``): recurrence
#: against the same layer without it, then the temporal claims; exported at RNN_W_BITS
RNN_CLAIMS = {"recurrence": ("recurrent (r128)", "feed-forward (d128)", {"arch": "d128"}),
              **TEMPORAL_CLAIMS}
RNN_W_BITS = 10


# ---------------------------------------------------------------- one run each (in a worker)

def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)


def _data(name: str):
    from snnhw.data import load_data
    return load_data(name)


def run_snn(task: dict) -> dict:
    """Train one spiking MLP; float and integer (golden) test accuracy."""
    from snnhw import golden
    from snnhw.nn.export import export_model
    from snnhw.nn.model import encode
    from snnhw.nn.train import TrainConfig, evaluate, train

    data = _data(task["data"])
    change = {"arch": task["arch"]} if task.get("arch") else {}
    change.update(task["change"], seed=task["seed"])   # a claim may change the arch
    if not data.temporal:
        change["timesteps"] = task["T"]
    if task.get("epochs"):
        change["epochs"] = task["epochs"]
    cfg = TrainConfig.for_data(data, **change)
    t0 = time.perf_counter()
    model, _ = train(cfg, data, progress=False)
    seconds = time.perf_counter() - t0
    _, net = export_model(model, w_bits=task.get("w_bits", 8))
    x = encode(model.config, data.x_test).numpy()
    return {"float": evaluate(model, data.x_test, data.y_test),
            "int": float((golden.run(net, x).classes == data.y_test).mean()),
            "train_seconds": round(seconds, 1)}


def run_mlp(task: dict) -> dict:
    """The float ReLU MLP baseline: the recipe's sizes, optimiser, epochs, normalisation
    and BatchNorm, without spikes."""
    import torch
    from torch import nn

    from snnhw.nn.model import input_stats
    from snnhw.nn.train import TrainConfig

    data = _data(task["data"])
    cfg = TrainConfig.for_data(data, **({"epochs": task["epochs"]} if task.get("epochs")
                                        else {}))
    torch.manual_seed(task["seed"])
    if cfg.normalize:
        mean, std = (torch.tensor(v) for v in input_stats(data.x_train))
    else:
        mean, std = torch.tensor(0.0), torch.tensor(float(data.x_max))
    layers = []
    for i, (a, b) in enumerate(zip(cfg.sizes[:-1], cfg.sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(cfg.sizes) - 2:
            layers += [nn.BatchNorm1d(b)] if cfg.bn else []
            layers.append(nn.ReLU())
    net = nn.Sequential(*layers)

    def inputs(x):
        return (torch.as_tensor(x, dtype=torch.float32) - mean) / std

    xs, ys = inputs(data.x_train), torch.as_tensor(data.y_train)
    opt = (torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
           if cfg.optimizer == "adam" else
           torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                           weight_decay=cfg.weight_decay))
    steps = cfg.epochs * math.ceil(len(ys) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    g = torch.Generator().manual_seed(task["seed"])
    for _ in range(cfg.epochs):
        net.train()
        perm = torch.randperm(len(ys), generator=g)
        for s in range(0, len(perm), cfg.batch_size):
            idx = perm[s:s + cfg.batch_size]
            loss = nn.functional.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        pred = net(inputs(data.x_test)).argmax(1).numpy()
    return {"float": float((pred == data.y_test).mean())}


def run_convert(task: dict) -> dict:
    """One ReLU ANN per seed, converted at every T with and without the L4 adjustment."""
    import torch

    from snnhw import golden
    from snnhw.nn.convert import choose_l4_strength, convert, train_ann
    from snnhw.nn.export import export_model
    from snnhw.nn.model import encode

    data = _data(task["data"])
    x_max = float(data.x_max)
    hidden = tuple(data.defaults.get("hidden", (128,)))
    sizes = [data.n_in, *hidden, data.n_classes]
    n_cal = len(data.x_train) // 5
    xc, yc = data.x_train[:n_cal], data.y_train[:n_cal]
    ann = train_ann(sizes, data.x_train[n_cal:], data.y_train[n_cal:], seed=task["seed"],
                    x_max=x_max, **({"epochs": task["epochs"]} if task.get("epochs") else {}))
    calib = torch.as_tensor(xc, dtype=torch.float32) / x_max
    out = {}
    for T in task["Ts"]:
        alpha, _ = choose_l4_strength(ann, xc, yc, timesteps=T, seed=task["seed"], x_max=x_max)
        for key, a in (("off", 0.0), ("on", alpha)):
            snn = convert(ann, calib, timesteps=T, l4_strength=a, x_max=x_max)
            _, net = export_model(snn)
            x = encode(snn.config, data.x_test, 1000 + task["seed"]).numpy()
            out[f"{T}/{key}"] = float((golden.run(net, x).classes == data.y_test).mean())
        out[f"{T}/alpha"] = alpha
    return out


RUNNERS = {"snn": run_snn, "mlp": run_mlp, "convert": run_convert}


def _run(task: dict) -> dict:
    return RUNNERS[task["kind"]](task)


def _key(task: dict) -> str:
    return hashlib.sha256(json.dumps(task, sort_keys=True).encode()).hexdigest()[:20]


def run_all(tasks: list[dict], jobs: int, cache: Path | None, quiet: bool) -> list[dict]:
    """Results in the order of ``tasks``; cached ones are read, the rest run in parallel."""
    from tqdm.auto import tqdm

    results: dict[int, dict] = {}
    todo = []
    for i, t in enumerate(tasks):
        f = cache / f"{_key(t)}.json" if cache else None
        if f is not None and f.is_file():
            results[i] = json.loads(f.read_text())["result"]
        else:
            todo.append(i)
    with tqdm(total=len(tasks), initial=len(results), desc="ablation", unit="run",
              disable=quiet) as bar:
        def done(i, r):
            results[i] = r
            if cache:
                cache.mkdir(parents=True, exist_ok=True)
                tmp = cache / f"{_key(tasks[i])}.tmp"
                tmp.write_text(json.dumps({"task": tasks[i], "result": r}))
                tmp.replace(cache / f"{_key(tasks[i])}.json")
            bar.update(1)

        if jobs <= 1:
            _init_worker()
            for i in todo:
                done(i, _run(tasks[i]))
        else:
            with ProcessPoolExecutor(jobs, initializer=_init_worker) as pool:
                # the longest runs (large T) first, so the pool ends together
                order = sorted(todo, key=lambda i: -tasks[i].get("T", 0))
                futures = {pool.submit(_run, tasks[i]): i for i in order}
                for fut in as_completed(futures):
                    done(futures[fut], fut.result())
    return [results[i] for i in range(len(tasks))]


# ---------------------------------------------------------------- statistics and report

def stats(values) -> dict:
    v = np.asarray(values, dtype=float)
    std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "std": std, "runs": [float(x) for x in v]}


def verdict(a: dict, b: dict) -> tuple[float, float, str]:
    """(difference in points, its standard error in points, verdict)."""
    n_a, n_b = len(a["runs"]), len(b["runs"])
    diff = 100 * (a["mean"] - b["mean"])
    se = 100 * math.sqrt(a["std"] ** 2 / n_a + b["std"] ** 2 / n_b)
    if n_a < 2 or n_b < 2:
        return diff, se, "one seed: no verdict"
    if diff > 2 * se:
        return diff, se, "holds"
    if diff < -2 * se:
        return diff, se, "does not hold"
    return diff, se, "within noise"


def _setting(args, enc: str, name: str) -> tuple[dict, list, int | None, dict]:
    """Claims, T values, epochs and extra task fields of one encoding."""
    if enc == "temporal":
        return TEMPORAL_CLAIMS, [0], args.temporal_epochs, {}
    if enc == "recurrent":
        return RNN_CLAIMS, [0], args.rnn_epochs, {"arch": "rnn", "w_bits": RNN_W_BITS}
    if enc in CNN_ENCODINGS:
        arch = "cnn" if enc == "cnn" else DEEP_CNN[name]
        return CLAIMS, args.cnn_Ts, args.cnn_epochs, {"arch": arch}
    return CLAIMS, args.Ts, args.epochs, {}


def build_tasks(args, data_names: dict) -> list[dict]:
    tasks = []
    seeds = list(range(args.seeds))
    for enc, name in data_names.items():
        claims, Ts, epochs, extra = _setting(args, enc, name)
        variants = [{}] + [c for _, _, c in claims.values()]
        for T in Ts:
            for change in variants:
                for seed in seeds:
                    tasks.append({"kind": "snn", "data": name, "enc": enc, "T": T,
                                  "change": change, "seed": seed, "epochs": epochs, **extra})
    static = data_names.get("static")
    if static:
        for seed in seeds:
            tasks.append({"kind": "mlp", "data": static, "seed": seed, "epochs": args.epochs})
        if args.cTs:
            for seed in seeds:
                tasks.append({"kind": "convert", "data": static, "seed": seed,
                              "Ts": args.cTs, "epochs": args.convert_epochs})
    return tasks


def report(args, data_names, tasks, results) -> dict:
    by = {}
    for t, r in zip(tasks, results):
        by.setdefault(json.dumps({k: t[k] for k in t if k != "seed"}, sort_keys=True),
                      []).append(r)

    def runs(**task):
        return by[json.dumps(task, sort_keys=True)]

    rows = []
    for enc, name in data_names.items():
        claims, Ts, epochs, extra = _setting(args, enc, name)
        for claim, (a_label, b_label, change) in claims.items():
            cells = []
            for T in Ts:
                base = dict(kind="snn", data=name, enc=enc, T=T, epochs=epochs, **extra)
                ra, rb = runs(**base, change={}), runs(**base, change=change)
                cell = {"T": T or _data_steps(name),
                        "a": stats([r["int"] for r in ra]), "b": stats([r["int"] for r in rb]),
                        "a_float": stats([r["float"] for r in ra]),
                        "b_float": stats([r["float"] for r in rb]),
                        "train_seconds": stats([r["train_seconds"] for r in ra])}
                cell["delta_points"], cell["se_points"], cell["verdict"] = verdict(cell["a"],
                                                                                   cell["b"])
                cells.append(cell)
            rows.append({"encoding": enc, "name": claim, "a_label": a_label,
                         "b_label": b_label, "cells": cells,
                         **({"arch": _data(name).defaults[extra["arch"]]["arch"]
                             if extra["arch"] in ("cnn", "rnn") else extra["arch"]}
                            if extra else {})})
    baseline = None
    static = data_names.get("static")
    if static:
        baseline = stats([r["float"] for r in runs(kind="mlp", data=static,
                                                    epochs=args.epochs)])
        if args.cTs:
            conv = runs(kind="convert", data=static, Ts=args.cTs, epochs=args.convert_epochs)
            cells = []
            for T in args.cTs:
                cell = {"T": T, "a": stats([r[f"{T}/on"] for r in conv]),
                        "b": stats([r[f"{T}/off"] for r in conv]),
                        "alpha": [r[f"{T}/alpha"] for r in conv]}
                cell["delta_points"], cell["se_points"], cell["verdict"] = verdict(cell["a"],
                                                                                   cell["b"])
                cells.append(cell)
            rows.append({"encoding": "Poisson", "name": "L4 conversion",
                         "a_label": "L4 adjustment", "b_label": "no adjustment",
                         "cells": cells})
    return {"data": args.data, "encodings": data_names, "seeds": args.seeds,
            "epochs": args.epochs, "temporal_epochs": args.temporal_epochs,
            "cnn_epochs": args.cnn_epochs, "rnn_epochs": args.rnn_epochs,
            "float_mlp": baseline, "rows": rows}


def _data_steps(name: str) -> int:
    return _data(name).steps or 0


def fmt(s) -> str:
    return f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"


def markdown(rep: dict) -> str:
    lines = [f"Integer (hardware) test accuracy, %, mean ± std over {rep['seeds']} seeds; "
             "float model in brackets. A is the claimed-better choice.", "",
             "| encoding | claim: A vs B | T | A | B | A − B (± s.e.) | verdict |",
             "|---|---|---|---|---|---|---|"]
    for row in rep["rows"]:
        for c in row["cells"]:
            fa = f" [{fmt(c['a_float'])}]" if "a_float" in c else ""
            fb = f" [{fmt(c['b_float'])}]" if "b_float" in c else ""
            lines.append(f"| {row['encoding']} | {row['a_label']} vs {row['b_label']} | "
                         f"{c['T']} | {fmt(c['a'])}{fa} | {fmt(c['b'])}{fb} | "
                         f"{c['delta_points']:+.1f} (± {c['se_points']:.1f}) | "
                         f"{c['verdict']} |")
    if rep["float_mlp"]:
        lines += ["", f"Float ReLU MLP baseline (same sizes and recipe, no spikes): "
                      f"{fmt(rep['float_mlp'])} %."]
    archs = {row["encoding"]: row["arch"] for row in rep["rows"] if "arch" in row}
    if archs:
        lines += ["", "Architectures: " + "; ".join(f"{enc} `{a}`" for enc, a in archs.items())
                  + (f", {rep['cnn_epochs']} epochs" if rep.get("cnn_epochs") else "")
                  + "."]
    return "\n".join(lines) + "\n"


def plot(rep: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rep["rows"]
    ncols = min(5, len(rows))
    nrows = math.ceil(len(rows) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.3 * nrows), squeeze=False)
    for ax in axes.flat[len(rows):]:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows):
        xs = np.arange(len(row["cells"]))
        for off, side, color in ((-0.2, "a", "tab:blue"), (0.2, "b", "tab:orange")):
            m = [100 * c[side]["mean"] for c in row["cells"]]
            e = [100 * c[side]["std"] for c in row["cells"]]
            ax.bar(xs + off, m, 0.4, yerr=e, capsize=3, color=color, label=row[side + "_label"])
        for x, c in zip(xs, row["cells"]):
            mark = {"holds": "✓", "does not hold": "✗"}.get(c["verdict"], "≈")
            top = 100 * max(c["a"]["mean"] + c["a"]["std"], c["b"]["mean"] + c["b"]["std"])
            ax.text(x, top + 0.5, mark, ha="center", va="bottom", fontsize=10)
        if rep["float_mlp"] and row["encoding"] == "static":
            ax.axhline(100 * rep["float_mlp"]["mean"], color="gray", ls="--", lw=1,
                       label="float ReLU MLP")
        ax.set_xticks(xs, [f"T={c['T']}" for c in row["cells"]])
        lo = min(100 * (c[s]["mean"] - c[s]["std"]) for c in row["cells"] for s in "ab")
        hi = max(100 * (c[s]["mean"] + c[s]["std"]) for c in row["cells"] for s in "ab")
        if rep["float_mlp"]:
            hi = max(hi, 100 * rep["float_mlp"]["mean"])
        ax.set_ylim(max(0.0, lo - 5.0), min(100.0, hi + 4.0))
        ax.set_title(f"{row['name']} ({row['encoding']})", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy, integer model (%)")
    fig.suptitle(f"snnhw claims on {rep['data']} ({rep['seeds']} seeds, mean ± std; "
                 "✓ holds, ✗ does not hold, ≈ within noise)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t]
    except ValueError:
        raise SystemExit(f"ablation: {what} takes comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise SystemExit(f"ablation: {what} values must be positive, got {text!r}")
    return values


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--data", default="digits", help="data set (%(default)s; mnist1d also "
                    "runs its temporal encoding)")
    ap.add_argument("--encodings", default=None,
                    help="static,temporal,recurrent,cnn,deep-cnn (default: static and "
                         "temporal where the data set has a temporal form; recurrent: the "
                         "temporal form's recurrent network, --arch rnn)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per configuration (%(default)s)")
    ap.add_argument("--timesteps", default="1,2,4,8", help="T values, static (%(default)s)")
    ap.add_argument("--cnn-timesteps", default="1,2,4", help="T values, CNNs (%(default)s)")
    ap.add_argument("--cnn-epochs", type=int, default=None,
                    help="epochs per CNN run (default: the data set's CNN's)")
    ap.add_argument("--convert-timesteps", default="8,16,32",
                    help="T values for the conversion comparison, '' to skip (%(default)s)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs per static run (default: the data set's)")
    ap.add_argument("--temporal-epochs", type=int, default=None,
                    help="epochs per temporal run (default: the data set's)")
    ap.add_argument("--convert-epochs", type=int, default=None, help="ANN epochs (60)")
    ap.add_argument("--rnn-epochs", type=int, default=None,
                    help="epochs per recurrent run (default: the recurrent network's)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (%(default)s)")
    ap.add_argument("--cache", default=None,
                    help="folder of finished runs (default out/ablation-cache/DATA; 'none' "
                         "to disable)")
    ap.add_argument("--plot", default=None, help="PNG (default out/ablation-DATA.png)")
    ap.add_argument("--markdown", default=None, help="table (default out/ablation-DATA.md)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from snnhw.data import DATASETS, DataError, load_data

    args.Ts = _ints(args.timesteps, "--timesteps")
    args.cTs = _ints(args.convert_timesteps, "--convert-timesteps")
    args.cnn_Ts = _ints(args.cnn_timesteps, "--cnn-timesteps")
    if args.seeds < 1 or args.jobs < 1:
        raise SystemExit("ablation: --seeds and --jobs must be positive")
    try:
        data = load_data(args.data)
    except DataError as exc:
        raise SystemExit(f"ablation: {exc}") from None
    temporal_name = f"{args.data}-temporal"
    names = {}
    wanted = (args.encodings.split(",") if args.encodings else ["static", "temporal"])
    for enc in wanted:
        if enc == "static" and not data.temporal:
            names["static"] = args.data
        elif enc in ("temporal", "recurrent") and (data.temporal or temporal_name in DATASETS):
            names[enc] = args.data if data.temporal else temporal_name
        elif enc in CNN_ENCODINGS and "cnn" in data.defaults and args.data in DEEP_CNN:
            names[enc] = args.data
        elif args.encodings:
            raise SystemExit(f"ablation: data {args.data!r} has no {enc} encoding")
    stem = Path(args.data).stem
    cache = None if args.cache == "none" else Path(args.cache or f"out/ablation-cache/{stem}")
    plot_path = Path(args.plot or f"out/ablation-{stem}.png")
    md_path = Path(args.markdown or f"out/ablation-{stem}.md")
    tasks = build_tasks(args, names)
    t0 = time.perf_counter()
    results = run_all(tasks, args.jobs, cache, quiet=args.json)
    rep = report(args, names, tasks, results)
    rep["seconds"] = round(time.perf_counter() - t0, 1)
    rep["runs"] = len(tasks)
    rep["plot"], rep["markdown"] = str(plot_path), str(md_path)
    plot(rep, plot_path)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(markdown(rep))
    if args.json:
        json.dump(rep, sys.stdout)
        print()
        return 0
    print(markdown(rep))
    print(f"{len(tasks)} runs in {rep['seconds']} s; plot: {plot_path}; table: {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
