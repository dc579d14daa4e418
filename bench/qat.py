"""Accuracy the hardware keeps at low weight widths, with and without quantisation-aware
training (QAT).

For every network and seed, the data set's recipe trains the float model once; then for
every weight width: the plain export (round at export) and QAT (``--qat-epochs`` more
epochs from the float model whose forward pass is the export's integer arithmetic at
that width, then the export). Every number is the integer (hardware) accuracy of the
export on the whole test split, checked bit for bit: torch integer mode == golden model
on every layer's ``I, v, s, u`` (a run that disagrees is marked). Networks (MNIST-1D):

- ``mlp``: 40-256-128-10, the data set's MLP recipe;
- ``cnn``: the default CNN ``c32k5p2,sp2,c32k3p1,sp2,c32k3p1,sp2,d128``;
- ``board``: the iCEBreaker's CNN ``c32k5p2,sp2,c32k3p1,sp4``;
- ``temporal``: mnist1d-temporal's MLP recipe (leak shift 3, T = 40);
- ``rnn``: mnist1d-temporal's recurrent network (r128).

``--first-w-bits B`` keeps every network's first layer at ``B`` bits and the rest at
each ``--w-bits`` (the first layer filters the raw input with few weights, and is
where low widths lose the most); ``--layer-w-bits I:B`` does it for layer ``I``
(0 the first), to find which layer loses the accuracy.

Float checkpoints and finished runs are cached under ``--cache`` (an interrupted run
continues). One thread per run.

    python bench/qat.py --nets mlp --w-bits 3,4,6,8 --seeds 3
    python bench/qat.py --nets cnn,board --w-bits 4,8 --seeds 3 --json
    python bench/qat.py --nets cnn --w-bits 4 --first-w-bits 8 --seeds 3
    python bench/qat.py --nets cnn --w-bits 4 --layer-w-bits 3:8 --seeds 1
    python bench/qat.py --nets mlp --seeds 1 --epochs 2 --qat-epochs 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from snnhw.util import write_text_atomic

NETS = {"mlp": ("mnist1d", None), "cnn": ("mnist1d", "cnn"),
        "board": ("mnist1d", "c32k5p2,sp2,c32k3p1,sp4"), "temporal": ("mnist1d-temporal", None),
        "rnn": ("mnist1d-temporal", "rnn")}


def _float_model(net: str, seed: int, epochs: int | None, cache: Path):
    """The float model of ``net`` (trained once, cached) and its config."""
    import torch

    from snnhw.data import load_data
    from snnhw.nn.train import TrainConfig, load_checkpoint, save_checkpoint, train

    data_name, arch = NETS[net]
    data = load_data(data_name)
    cfg = TrainConfig.for_data(data, seed=seed, **({"arch": arch} if arch else {}),
                               **({"epochs": epochs} if epochs else {}))
    path = cache / f"{net}-s{seed}-e{cfg.epochs}.pt"
    if not path.exists():
        torch.manual_seed(seed)
        model, history = train(cfg, data, progress=False)
        save_checkpoint(path, model, history, cfg)
    model, ck = load_checkpoint(path)
    return model, cfg, data, float(ck["history"].get("seconds", 0.0))


def run_one(net: str, seed: int, w_bits: int, qat: bool, *, epochs: int | None,
            qat_epochs: int, u_bits: int, cache: Path,
            wide: tuple[int, int] | None = None) -> dict:
    """One export (plain or after QAT) of ``net`` at ``w_bits`` (layer ``wide[0]`` at
    ``wide[1]`` bits when given): its accuracies."""
    from snnhw.nn.export import compare, export_model
    from snnhw.nn.quant import ExportError
    from snnhw.nn.train import train

    model, cfg, data, float_seconds = _float_model(net, seed, epochs, cache)
    widths = w_bits
    head = {"net": net, "seed": seed, "w_bits": w_bits, **_wide_fields(None), "qat": qat}
    if wide is not None:
        layer, bits = wide
        n = len(model.float_layers())
        if not -n <= layer < n:
            return {**head, "wide_layer": layer, "error": f"{net} has {n} layers, no layer "
                                                          f"{layer}"}
        widths = [w_bits] * n
        widths[layer] = bits
        head.update(_wide_fields((layer % n, bits)))
    float_acc = None
    seconds = 0.0
    if qat:
        from snnhw.nn.train import evaluate

        float_acc = evaluate(model, data.x_test, data.y_test)
        t0 = time.perf_counter()
        try:
            model, _ = train(replace(cfg, epochs=0, qat_epochs=qat_epochs, qat_w_bits=widths,
                                     qat_u_bits=u_bits), data, progress=False, model=model)
        except ValueError as exc:
            return {**head, "error": str(exc)}
        seconds = time.perf_counter() - t0
    try:
        q, ir = export_model(model, w_bits=widths, u_bits=u_bits)
    except ExportError as exc:
        return {**head, "error": str(exc)}
    c = compare(model, q, ir, data.x_test, data.y_test)
    return {**head, "layer_w_bits": [ly.w_bits for ly in ir.layers],
            "float": c.float_acc if float_acc is None else float_acc, "int": c.int_acc,
            "model_acc": c.float_acc, "bit_exact": c.agree_samples == c.samples,
            "samples": c.samples, "float_train_seconds": round(float_seconds, 1),
            "qat_seconds": round(seconds, 1)}


def summary(runs: list[dict]) -> list[dict]:
    """Mean ± std per (net, w_bits, the layer kept wider, qat) over seeds."""
    rows = []

    def key(r):
        return r["net"], r["w_bits"], _wide(r), r["qat"]
    keys = sorted({key(r) for r in runs}, key=lambda k: (list(NETS).index(k[0]), *k[1:]))
    for net, wb, wide, qat in keys:
        rs = [r for r in runs if key(r) == (net, wb, wide, qat)]
        ok = [r for r in rs if "error" not in r]
        ints = np.array([r["int"] for r in ok]) * 100
        floats = np.array([r["float"] for r in ok]) * 100
        rows.append({"net": net, "w_bits": wb, **_wide_fields(wide if wide[1] else None),
                     "qat": qat, "seeds": len(rs),
                     "failed": len(rs) - len(ok),
                     "int_mean": round(float(ints.mean()), 2) if len(ok) else None,
                     "int_std": round(float(ints.std()), 2) if len(ok) else None,
                     "float_mean": round(float(floats.mean()), 2) if len(ok) else None,
                     "gap": round(float((floats - ints).mean()), 2) if len(ok) else None,
                     "bit_exact": all(r["bit_exact"] for r in ok),
                     "errors": sorted({r["error"] for r in rs if "error" in r})})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| network | w_bits | first layer | QAT | integer % (mean ± std) | float % "
             "| float − integer | bit-exact |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        acc = ("failed: " + "; ".join(r["errors"]) if r["int_mean"] is None else
               f"{r['int_mean']:.2f} ± {r['int_std']:.2f}"
               + (f" ({r['failed']} failed)" if r["failed"] else ""))
        layer, bits = _wide(r)
        first = (r["w_bits"] if not bits else bits if layer == 0
                 else f"{r['w_bits']} (layer {layer} at {bits})")
        lines.append(f"| {r['net']} | {r['w_bits']} | {first} | "
                     f"{'yes' if r['qat'] else 'no'} | {acc} | "
                     f"{r['float_mean'] if r['float_mean'] is not None else '-'} | "
                     f"{r['gap'] if r['gap'] is not None else '-'} | "
                     f"{'yes' if r['bit_exact'] else 'NO'} |")
    return "\n".join(lines)


def _wide_fields(wide: tuple[int, int] | None) -> dict:
    """A run's or row's fields for the layer it keeps wider (``(layer, bits)``, or
    ``None``): ``first`` (the first layer's width, or ``None``), and ``wide_layer`` /
    ``wide_bits`` for a later layer."""
    if wide is None or wide[0] == 0:
        return {"first": None if wide is None else wide[1]}
    return {"first": None, "wide_layer": wide[0], "wide_bits": wide[1]}


def _wide(r: dict) -> tuple[int, int]:
    """``(layer, bits)`` of the layer a run or row keeps wider, ``(0, 0)`` for none
    (:func:`_wide_fields` read back)."""
    if r.get("wide_layer") is not None:
        return r["wide_layer"], r["wide_bits"]
    return 0, r.get("first") or 0


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nets = [n for n in NETS if any(r["net"] == n for r in rows)]
    fig, axes = plt.subplots(1, len(nets), figsize=(4.2 * len(nets), 3.4), squeeze=False)
    for ax, net in zip(axes[0], nets):
        for qat, style in ((False, "o--"), (True, "s-")):
            for wide in sorted({_wide(r) for r in rows if r["net"] == net}):
                rs = [r for r in rows if r["net"] == net and r["qat"] == qat
                      and _wide(r) == wide and r["int_mean"] is not None]
                label = ("QAT" if qat else "round at export") + (
                    f", layer {wide[0]} {wide[1]}-bit" if wide[1] else "")
                ax.errorbar([r["w_bits"] for r in rs], [r["int_mean"] for r in rs],
                            yerr=[r["int_std"] for r in rs], fmt=style, capsize=3,
                            label=label, alpha=0.6 if wide[1] else 1.0)
        fl = [r["float_mean"] for r in rows if r["net"] == net and not r["qat"]
              and r["float_mean"] is not None]
        if fl:
            ax.axhline(np.mean(fl), color="gray", lw=0.8, label="float")
        ax.set_title(f"{net} ({NETS[net][0]})")
        ax.set_xlabel("weight bits")
        ax.set_ylabel("integer test accuracy, %")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nets", default="mlp", help=f"comma separated: {', '.join(NETS)}")
    ap.add_argument("--w-bits", default="3,4,6,8", help="comma separated (%(default)s)")
    ap.add_argument("--first-w-bits", type=int, default=None, metavar="B",
                    help="the first layer at B bits, the rest at each --w-bits")
    ap.add_argument("--layer-w-bits", default=None, metavar="I:B",
                    help="layer I (0 the first; --layer-w-bits=-1:B the last) at B bits, "
                         "the rest at each --w-bits")
    ap.add_argument("--u-bits", type=int, default=16, help="(%(default)s)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (%(default)s)")
    ap.add_argument("--epochs", type=int, default=None, help="float epochs (the recipe's)")
    ap.add_argument("--qat-epochs", type=int, default=20, help="(%(default)s)")
    ap.add_argument("--cache", default="out/bench/qat", help="(%(default)s)")
    ap.add_argument("--plot", default=None, metavar="PNG", help="write the plot here")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    nets = args.nets.split(",")
    unknown = [n for n in nets if n not in NETS]
    if unknown:
        ap.error(f"unknown network(s) {unknown}; one of {list(NETS)}")
    if args.first_w_bits is not None and not 2 <= args.first_w_bits <= 16:
        ap.error(f"--first-w-bits must be in 2..16, got {args.first_w_bits}")
    wide = None if args.first_w_bits is None else (0, args.first_w_bits)
    if args.layer_w_bits is not None:
        try:
            wide = tuple(int(v) for v in args.layer_w_bits.split(":"))
        except ValueError:
            wide = ()
        if len(wide) != 2 or not 2 <= wide[1] <= 16 or args.first_w_bits is not None:
            ap.error(f"--layer-w-bits takes I:B (B in 2..16), not with --first-w-bits; got "
                     f"{args.layer_w_bits!r}")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    runs = []
    t0 = time.perf_counter()
    for net in nets:
        for seed in range(args.seeds):
            for wb in (int(v) for v in args.w_bits.split(",")):
                for qat in (False, True):
                    first = ("" if wide is None else f"-f{wide[1]}" if wide[0] == 0
                             else f"-l{wide[0]}b{wide[1]}")
                    key = cache / (f"{net}-s{seed}-w{wb}{first}-u{args.u_bits}-"
                                   f"{'qat' if qat else 'plain'}-e{args.epochs}"
                                   f"-q{args.qat_epochs}.json")
                    if key.exists():
                        r = json.loads(key.read_text())
                    else:
                        r = run_one(net, seed, wb, qat, epochs=args.epochs,
                                    qat_epochs=args.qat_epochs, u_bits=args.u_bits,
                                    cache=cache, wide=wide)
                        write_text_atomic(key, json.dumps(r))   # no half-written cache
                    runs.append(r)
                    if not args.json:
                        print(f"{net} seed {seed} w_bits {wb}{first} "
                              f"{'QAT' if qat else 'plain'}: "
                              + (r.get("error") or f"integer {100 * r['int']:.2f} %"),
                              file=sys.stderr)
    rows = summary(runs)
    if args.plot:
        plot(rows, Path(args.plot))
    report = {"rows": rows, "runs": runs, "seconds": round(time.perf_counter() - t0, 1),
              "qat_epochs": args.qat_epochs, "u_bits": args.u_bits, "plot": args.plot}
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(table(rows))
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
