"""``snnhw run NET --input FILE.npy``: run the golden model."""

from __future__ import annotations

import numpy as np

from ..golden import check_input
from ..golden import run as golden_run
from ..util import format_table
from .common import CLIError, emit_json, load_network, sentence

HELP = "run the bit-exact golden model on an input batch"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help=HELP, description=sentence(HELP) + ".",
        epilog="FILE.npy holds integers 0..2**in_bits-1 shaped [batch, T, n_in] "
               "(one value per step), [batch, n_in] or [n_in] (the same values "
               "every step, direct encoding).")
    p.add_argument("net", metavar="NET", help="network IR file (.snn)")
    p.add_argument("--input", required=True, metavar="FILE.npy", help="input batch (.npy)")
    p.add_argument("--trace", metavar="OUT.npz",
                   help="also write every layer's I, v, s, u per step, logits and classes")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)


def load_input(path: str, net) -> np.ndarray:
    """Read an input batch and bring it to ``[batch, T, n_in]``."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise CLIError(f"cannot read input {path}: {exc}") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim == 2:
        if x.shape[1] != net.n_in:
            raise CLIError(f"input {path}: shape {x.shape}, expected [batch, {net.n_in}]")
        x = np.repeat(x[:, None, :], net.timesteps, axis=1)
    try:
        return check_input(net, x)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"input {path}: {exc}") from None


def run(args) -> int:
    net = load_network(args.net)
    x = load_input(args.input, net)
    result = golden_run(net, x, trace=bool(args.trace))
    if args.trace:
        arrays = {"logits": result.logits, "classes": result.classes}
        for i, lt in enumerate(result.layers):
            for key in ("I", "v", "s", "u"):
                arrays[f"layer{i}.{key}"] = getattr(lt, key)
        np.savez_compressed(args.trace, **arrays)
    if args.json:
        emit_json({"classes": result.classes.tolist(), "logits": result.logits.tolist(),
                   "charge_paths": result.paths, "trace": args.trace})
        return 0
    rows = [[n, int(c), " ".join(str(v) for v in lg)]
            for n, (c, lg) in enumerate(zip(result.classes, result.logits.tolist()))]
    print(format_table(rows, ["sample", "class", "logits"]))
    if args.trace:
        print(f"trace written to {args.trace}")
    return 0
