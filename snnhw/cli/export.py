"""``snnhw export CHECKPOINT -o NET.snn``: quantise to the IR and check it."""

from __future__ import annotations

import sys
from pathlib import Path

from ..nn.quant import ExportError
from ..nn.train import CheckpointError
from ..util import prepare_output
from .args import MAX_SEED, float_range, int_range, width_options
from .common import (
    DATA_HELP,
    CLIError,
    emit_json,
    load_dataset,
    one_line,
    sample_progress,
    sentence,
)

WARN_DROP_POINTS = 5.0   # a quantisation loss worth a warning (test accuracy points)
HELP = "quantise a trained checkpoint into the integer IR file (.snn)"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help=HELP, description=sentence(HELP) + ". Then runs the test "
        "split of its data set through the float model, the torch integer mode and the "
        "golden model on the written file, and reports their accuracies and bit-exact agreement.",
        epilog="Exit status 1 if the torch integer mode and the golden model differ anywhere.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="from 'snnhw train' or 'snnhw convert'")
    p.add_argument("-o", "--output", default="out/net.snn", help="IR file (%(default)s)")
    width_options(p)
    p.add_argument("--name", default=None, help="network name kept in the file")
    p.add_argument("--data", default=None, metavar="NAME|FILE",
                   help=DATA_HELP + " (default: the data set the checkpoint was trained on)")
    p.add_argument("--in-bits", type=int_range(1, 16), default=None,
                   help="for an .npz (see 'snnhw train')")
    p.add_argument("--seed", type=int_range(0, MAX_SEED), default=0,
                   help="Poisson seed for converted models")
    p.add_argument("--nir", action="store_true",
                   help="write the float model as a NIR graph instead (-o MODEL.nir); "
                        "binary spikes and fire='floor' only")
    p.add_argument("--dt", type=float_range(0, 1, lo_open=True), default=None,
                   help="with --nir: step length in seconds written into tau (1e-4)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import open_checkpoint

    try:
        with one_line(CheckpointError):
            ck = open_checkpoint(args.checkpoint)
    except FileNotFoundError:
        raise CLIError(f"no such checkpoint: {args.checkpoint}") from None
    if args.nir:
        return _run_nir(args, ck)
    name = args.name if args.name is not None else Path(args.checkpoint).stem
    out = prepare_output(args.output, "IR file", inputs=(args.checkpoint, args.data))
    data = load_dataset(args.data or ck.data, args.in_bits)
    with one_line():
        ck.check_data(data)
    with one_line(ExportError, prefix="cannot export: "):
        m = ck.export(w_bits=args.w_bits, u_bits=args.u_bits, name=name)
    with sample_progress(len(data.x_test), "comparing", not args.json) as progress:
        c = m.compare(data, seed=args.seed, progress=progress)
    net = m.network
    if c.agree_samples == c.samples:   # a file is written (or replaced) only when it checks
        m.save(out)
    report = {"ir": str(out), "content_hash": net.content_hash(), **c.to_dict(),
              "written": c.agree_samples == c.samples,
              "k": [ly.k for ly in net.layers],
              "fire_offset": [ly.fire_offset for ly in net.layers]}
    drop = 100 * (c.float_acc - c.int_acc)
    report["warnings"] = ([f"the integer model is {drop:.1f} points below the float one; "
                           "try wider --w-bits / --u-bits"] if drop > WARN_DROP_POINTS else [])
    for w in report["warnings"]:
        print(f"snnhw: warning: {w}", file=sys.stderr)
    if args.json:
        emit_json(report)
    else:
        written = f"wrote {out}" if report["written"] else f"NOT written: {out}"
        print(f"{written} (hash {net.content_hash()[:16]}), k per layer {report['k']}")
        print(f"{data.name} test split ({c.samples} samples): float {c.float_acc:.4f}, "
              f"integer {c.int_acc:.4f} ({100 * (c.int_acc - c.float_acc):+.2f} points), "
              f"golden {c.golden_acc:.4f}")
        print(f"torch integer mode == golden model: {c.agree_samples}/{c.samples} samples "
              "(every layer's I, v, s, u and the logits)")
        if c.first_mismatch:
            print(f"first mismatch: {c.first_mismatch}")
    return 0 if c.agree_samples == c.samples else 1


def _run_nir(args, ck) -> int:
    from ..nn.nirio import NIRError

    out = prepare_output(args.output if args.output != "out/net.snn" else "out/model.nir",
                         "NIR file", inputs=(args.checkpoint,))
    with one_line(NIRError, prefix="cannot export to NIR: "):
        report = ck.save_nir(out, dt=args.dt).to_dict()
    if args.json:
        emit_json(report)
    else:
        nxt = dict(report["edges"])
        order, k = [], next(k for k, v in report["nodes"].items() if v == "Input")
        while k is not None and k not in order:
            order.append(k)
            k = nxt.get(k)
        print(f"wrote {out}: " + " -> ".join(f"{k} ({report['nodes'][k]})" for k in order))
    return 0
