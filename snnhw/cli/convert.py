"""``snnhw convert``: train a ReLU MLP or CNN on a data set and convert it to a rate-coded
SNN."""

from __future__ import annotations

from ..util import prepare_output
from .args import MAX_EPOCHS, MAX_SEED, MAX_TIMESTEPS, float_range, int_range, parse_sizes
from .common import DATA_HELP, emit_json, one_line, sentence

HELP = ("train a ReLU MLP or CNN on a data set and convert it to a spiking network (Poisson "
        "or direct input)")


def _l4(text: str):
    return text if text == "auto" else float_range(-10, 10)(text)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert", help=HELP, description=sentence(HELP) + ". Data-based normalisation "
        "(a percentile of the ReLU activations on calibration data, the first 20% of the "
        "training split) plus the optional L4-norm weight adjustment. Rates are the inputs "
        "divided by the largest training value (or, with --normalize, the inputs normalised "
        "per input); static data only.",
        epilog="--l4 auto chooses the strength on the calibration data; a number fixes it; "
               "0 disables the adjustment.")
    p.add_argument("-o", "--output", default="out/converted.pt", help="checkpoint (%(default)s)")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help=DATA_HELP + " (%(default)s)")
    p.add_argument("--in-bits", type=int_range(1, 16), default=None,
                   help="for an .npz (see 'snnhw train')")
    p.add_argument("--hidden", default="128", help="hidden sizes, comma separated (%(default)s)")
    p.add_argument("--arch", default=None, metavar="LAYERS|cnn",
                   help="convert a ReLU CNN of these layers instead (the syntax of 'snnhw "
                        "train --arch'; 'cnn': the data set's default CNN)")
    p.add_argument("--timesteps", "-T", type=int_range(1, MAX_TIMESTEPS), default=32,
                   help="(%(default)s)")
    p.add_argument("--spike-bits", type=int_range(1, 8), default=1, help="(%(default)s)")
    p.add_argument("--percentile", type=float_range(0, 100, lo_open=True), default=99.9,
                   help="(%(default)s)")
    p.add_argument("--l4", type=_l4, default="auto",
                   help="'auto' or a strength in [-10, 10] (%(default)s)")
    p.add_argument("--encoding", choices=["poisson", "direct"], default="poisson",
                   help="the SNN's input: Poisson spikes of rate x / x_max, or direct (the "
                        "multi-bit integers every step) (%(default)s)")
    p.add_argument("--normalize", action="store_true",
                   help="with --encoding direct, an MLP: the ANN trains on inputs normalised "
                        "to mean 0, deviation 1 (folded into the first layer at export)")
    p.add_argument("--epochs", type=int_range(1, MAX_EPOCHS), default=60,
                   help="ANN training epochs (%(default)s)")
    p.add_argument("--seed", type=int_range(0, MAX_SEED), default=0, help="(%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import convert
    from ..nn.conv import ArchError

    sizes = list(parse_sizes(args.hidden))
    out = prepare_output(args.output, "checkpoint", inputs=(args.data,))
    with one_line(ArchError, ValueError):   # a DataError is a ValueError
        c = convert(args.data, in_bits=args.in_bits, hidden=sizes, arch=args.arch,
                    timesteps=args.timesteps, spike_bits=args.spike_bits,
                    percentile=args.percentile, l4=args.l4, epochs=args.epochs,
                    seed=args.seed, encoding=args.encoding, normalize=args.normalize)
    c.save(out)
    report = {"checkpoint": str(out), **c.to_dict()}
    if args.json:
        emit_json(report)
    else:
        what = "Poisson" if c.encoding == "poisson" else "direct"
        print(f"ReLU ANN test accuracy {c.ann_test_acc:.4f}; converted SNN (T={c.timesteps}, "
              f"{what} input{', normalised' if c.normalize else ''}) {c.snn_test_acc:.4f}; "
              f"L4 strength {c.l4_strength}")
        print(f"checkpoint: {out}")
    return 0
