"""``snnhw run NET --input FILE.npy``: run the golden model."""

from __future__ import annotations

import numpy as np

from ..api import Model
from ..util import atomic_write, format_table, prepare_output
from .common import DATA_HELP, emit_json, load_dataset, load_network, one_line, read_npy, sentence

HELP = "run the bit-exact golden model on an input batch"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help=HELP, description=sentence(HELP) + ".",
        epilog="FILE.npy holds integers 0..2**in_bits-1 shaped [batch, T, n_in] "
               "(one value per step), [batch, n_in] or [n_in] (the same values "
               "every step, direct encoding).")
    p.add_argument("net", metavar="NET", help="network IR file (.snn)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", metavar="FILE.npy", help="input batch (.npy)")
    src.add_argument("--data", metavar="NAME|FILE",
                     help=DATA_HELP + "; runs its test split and reports the accuracy")
    p.add_argument("--trace", metavar="OUT.npz",
                   help="also write every layer's I, v, s, u per step, logits and classes")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    trace = (prepare_output(args.trace, "trace", inputs=(args.net, args.input, args.data))
             if args.trace else None)
    net = load_network(args.net)
    labels = None
    if args.input is not None:
        x, where = read_npy(args.input, "input"), f"input {args.input}"
    else:
        data = load_dataset(args.data)
        x, where = data.x_test, f"data {data.name!r}"
        labels = data.y_test
    with one_line():   # run in pieces when the batch is large; a trace too large refused
        result = Model(net).run(x, trace=bool(args.trace), where=where)
    accuracy = None if labels is None else float((result.classes == labels).mean())
    if args.trace:
        arrays = {"logits": result.logits, "classes": result.classes}
        for i, lt in enumerate(result.layers):
            for key in ("I", "v", "s", "u"):
                arrays[f"layer{i}.{key}"] = getattr(lt, key)
        with atomic_write(trace) as f:   # exactly the path given (numpy would add .npz)
            np.savez_compressed(f, **arrays)
    if args.json:
        emit_json({"classes": result.classes.tolist(), "logits": result.logits.tolist(),
                   "charge_paths": result.paths, "trace": str(trace) if trace else None,
                   "accuracy": accuracy})
        return 0
    rows = [[n, int(c), " ".join(str(v) for v in lg)]
            for n, (c, lg) in enumerate(zip(result.classes, result.logits.tolist()))]
    print(format_table(rows, ["sample", "class", "logits"]))
    if accuracy is not None:
        print(f"accuracy {accuracy:.4f} on {len(labels)} {data.name} test samples")
    if args.trace:
        print(f"trace written to {trace}")
    return 0
