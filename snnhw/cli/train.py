"""``snnhw train``: train a spiking MLP or CNN on a data set (digits by default)."""

from __future__ import annotations

import argparse

from ..nn.quant import widths_text
from ..nn.train import TrainConfig
from ..util import prepare_output
from .args import (
    MAX_EPOCHS,
    MAX_SEED,
    MAX_TIMESTEPS,
    float_range,
    int_range,
    parse_sizes,
    weight_widths,
)
from .common import DATA_HELP, emit_json, one_line, sentence

HELP = ("train a multi-bit spiking MLP or CNN on a data set (scikit-learn's bundled digits "
        "by default)")
# what a data set's own defaults (snnhw.data) may set when the option is not given
DATA_DEFAULTS = ("hidden", "optimizer", "lr", "epochs", "batch_size", "weight_decay",
                 "normalize", "bn")


UNSET = object()   # not a string: argparse would run a string default through type=


def _leak(text: str):
    if text == "none":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 31:
        raise argparse.ArgumentTypeError(f"must be 'none' or an integer in 1..31, got {text!r}")
    return value


def add_parser(sub) -> None:
    d = TrainConfig()
    p = sub.add_parser(
        "train", help=HELP, description=sentence(HELP) + ". Every data set has a fixed "
        "split (digits: 20% test, stratified, random_state=0, 1437 training and 360 test "
        "samples; mnist1d: 4000 and 1000). Options not given take the data set's defaults: "
        "digits 64-128-10 with SGD, lr 0.05, 40 epochs, batch 32; mnist1d 40-256-128-10 with "
        "Adam, lr 0.002, 60 epochs, batch 64, normalised inputs, BatchNorm; mnist1d-temporal "
        "the same with leak shift 3, 10 epochs and T=40 (one position per step).",
        epilog="The checkpoint loads with torch.load(weights_only=True) and remembers its "
               "data set; pass it to 'snnhw export' to get the IR file.")
    p.add_argument("-o", "--output", default="out/model.pt", help="checkpoint path (%(default)s)")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help=DATA_HELP + " (%(default)s)")
    p.add_argument("--in-bits", type=int_range(1, 16), default=None,
                   help="for an .npz: input width (integers are checked against it; floats "
                        "are quantised to it, default 8)")
    p.add_argument("--hidden", default=None, help="hidden layer sizes, comma separated "
                   "(digits: 128)")
    p.add_argument("--arch", default=None, metavar="LAYERS|cnn|rnn",
                   help="train a CNN or a recurrent network: layers comma separated, "
                        "c<C>k<K>[s<S>][p<P>] (conv), sp<P>/ap<P> (sum/average pool), d<N> "
                        "(dense), r<N> (recurrent dense: it also reads its own spikes of the "
                        "step before); the last dense layer to the classes is added. 'rnn' "
                        "takes the data set's default recurrent network (mnist1d-temporal "
                        "r128 with Adam, lr 0.005, 60 epochs, batch 64, BatchNorm; export it "
                        "with --w-bits 10). 'cnn' takes the data set's default (digits "
                        "c16k3p1,sp2,c32k3p1,sp2,d128; mnist1d c32k5p2,sp2,c32k3p1,sp2,"
                        "c32k3p1,sp2,d128, each with Adam, lr 0.002, 40 epochs, batch 64, "
                        "BatchNorm). Maps: digits 1x8x8, mnist1d 1x1x40, an .npz its "
                        "in_shape array (else 1x1xn_in)")
    p.add_argument("--timesteps", "-T", type=int_range(1, MAX_TIMESTEPS), default=None,
                   help=f"time steps ({d.timesteps}; a temporal data set's own length)")
    p.add_argument("--spike-bits", type=int_range(1, 8), default=d.spike_bits,
                   help="1 = binary (%(default)s)")
    p.add_argument("--reset", choices=["soft", "hard"], default=d.reset)
    p.add_argument("--leak-shift", type=_leak, default=UNSET, metavar="L|none",
                   help="leak by shift L (decay 1-2**-L), or none (IF); default none, "
                        "mnist1d-temporal 3")
    p.add_argument("--fire", choices=["half", "floor"], default=d.fire,
                   help="half: fire when v > theta/2 (InfLoR); floor: v >= theta (%(default)s)")
    p.add_argument("--no-mpr", action="store_true", help="straight-through surrogate, no MPR")
    p.add_argument("--rmp-lambda", type=float_range(0, 1000), default=d.rmp_lambda,
                   help="RMP-Loss weight, 0 disables (%(default)s)")
    p.add_argument("--rmp-schedule", choices=["constant", "cosine"], default=d.rmp_schedule)
    p.add_argument("--readout", choices=["membrane", "spikes"], default=d.readout)
    p.add_argument("--bn", action=argparse.BooleanOptionalAction, default=None,
                   help="BatchNorm on hidden layers (folded at export; digits: off)")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None,
                   help="normalise every input to mean 0, deviation 1 on the training data "
                        "(folded exactly into the first layer at export; digits: off)")
    p.add_argument("--epochs", type=int_range(1, MAX_EPOCHS), default=None,
                   help=f"(digits: {d.epochs})")
    p.add_argument("--batch-size", type=int_range(1, 1 << 20), default=None,
                   help=f"(digits: {d.batch_size})")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=None,
                   help=f"(digits: {d.optimizer})")
    p.add_argument("--lr", type=float_range(0, 100, lo_open=True), default=None,
                   help=f"(digits: {d.lr})")
    p.add_argument("--weight-decay", type=float_range(0, 10), default=None,
                   help=f"(digits: {d.weight_decay})")
    p.add_argument("--qat", type=weight_widths, default=None, metavar="W_BITS",
                   help="quantisation-aware training: after the float epochs, --qat-epochs "
                        "more whose forward pass is the export's integer arithmetic at "
                        "W_BITS-bit weights (and --qat-u-bits membranes), so that the model "
                        "is its integer export; its reported accuracy is the integer one, "
                        "and 'snnhw export' takes these widths by default. W_BITS: one "
                        "width in 2..16, or one per layer comma separated (the default "
                        "MNIST-1D CNN at 8,4,4,4,4: its first layer at 8 bits, the rest at 4)")
    p.add_argument("--qat-epochs", type=int_range(1, MAX_EPOCHS), default=20,
                   help="with --qat (%(default)s)")
    p.add_argument("--qat-u-bits", type=int_range(8, 32), default=d.qat_u_bits,
                   help="with --qat: membrane width, 8..32 (%(default)s)")
    p.add_argument("--seed", type=int_range(0, MAX_SEED), default=d.seed, help="(%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def options(args) -> dict:
    """The training options given on the command line (the rest take the data set's
    defaults, see :func:`snnhw.api.train_config`)."""
    given = {key: getattr(args, key) for key in DATA_DEFAULTS if getattr(args, key) is not None}
    if args.leak_shift is not UNSET:
        given["leak_shift"] = args.leak_shift
    if "hidden" in given:
        given["hidden"] = parse_sizes(given["hidden"])
    return {**given, "timesteps": args.timesteps, "arch": args.arch,
            "spike_bits": args.spike_bits, "reset": args.reset, "fire": args.fire,
            "mpr": not args.no_mpr, "rmp_lambda": args.rmp_lambda,
            "rmp_schedule": args.rmp_schedule, "readout": args.readout, "seed": args.seed,
            **({} if args.qat is None else {"qat_epochs": args.qat_epochs,
                                            "qat_w_bits": args.qat,
                                            "qat_u_bits": args.qat_u_bits})}


def run(args) -> int:
    from ..api import train
    from ..nn.conv import ArchError

    out = prepare_output(args.output, "checkpoint", inputs=(args.data,))
    with one_line(ArchError, ValueError):   # a DataError is a ValueError
        t = train(args.data, in_bits=args.in_bits,
                  progress=not (args.no_progress or args.json), **options(args))
    t.save(out)
    report = {"checkpoint": str(out), **t.to_dict()}
    if args.json:
        emit_json(report)
    else:
        shape = f"CNN {t.arch}" if t.arch else "-".join(map(str, t.sizes))
        print(f"trained {shape} on {t.data}, T={t.timesteps}, "
              f"{t.spike_bits}-bit spikes in {t.seconds} s")
        what = ("float accuracy" if t.qat is None else
                f"integer accuracy (QAT at {widths_text(t.qat['w_bits'])}-bit weights, "
                f"{t.qat['u_bits']}-bit membranes)")
        print(f"{what}: train {t.train_acc:.4f}, test {t.test_acc:.4f}")
        print(f"checkpoint: {out}")
    return 0
