"""``snnhw convert``: train a ReLU MLP or CNN on a data set and convert it to a rate-coded
SNN."""

from __future__ import annotations

import torch

from ..nn.convert import ReLUCNN, choose_l4_strength, convert, snn_accuracy, train_ann
from ..nn.train import save_checkpoint
from ..util import prepare_output
from .args import MAX_EPOCHS, MAX_SEED, MAX_TIMESTEPS, float_range, int_range, parse_sizes
from .common import DATA_HELP, CLIError, emit_json, load_dataset, sentence

HELP = ("train a ReLU MLP or CNN on a data set and convert it to a spiking network (Poisson "
        "input)")


def _l4(text: str):
    return text if text == "auto" else float_range(-10, 10)(text)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert", help=HELP, description=sentence(HELP) + ". Data-based normalisation "
        "(a percentile of the ReLU activations on calibration data, the first 20% of the "
        "training split) plus the optional L4-norm weight adjustment. Rates are the inputs "
        "divided by the largest training value; static data only.",
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
    p.add_argument("--epochs", type=int_range(1, MAX_EPOCHS), default=60,
                   help="ANN training epochs (%(default)s)")
    p.add_argument("--seed", type=int_range(0, MAX_SEED), default=0, help="(%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    sizes = list(parse_sizes(args.hidden))
    out = prepare_output(args.output, "checkpoint")
    data = load_dataset(args.data, args.in_bits)
    if data.temporal:
        raise CLIError(f"data {data.name!r} is temporal; conversion rate-codes static inputs "
                       "(train it with 'snnhw train' instead)")
    sizes = [data.n_in, *sizes, data.n_classes]
    net = None
    if args.arch is not None:
        from ..nn.conv import ArchError

        arch = args.arch
        if arch == "cnn":
            if "cnn" not in data.defaults:
                raise CLIError(f"data {data.name!r} has no default CNN: give the layers, e.g. "
                               "--arch c16k3p1,sp2,d64")
            arch = data.defaults["cnn"]["arch"]
        try:
            torch.manual_seed(args.seed)
            net = ReLUCNN(arch, data.in_shape, data.n_classes)
        except ArchError as exc:
            raise CLIError(str(exc)) from None
    x_max = float(data.x_max)
    n_cal = len(data.x_train) // 5
    xc, yc = data.x_train[:n_cal], data.y_train[:n_cal]
    ann = train_ann(sizes, data.x_train[n_cal:], data.y_train[n_cal:], epochs=args.epochs,
                    seed=args.seed, x_max=x_max, net=net)
    scores = {}
    if args.l4 == "auto":
        alpha, scores = choose_l4_strength(ann, xc, yc, timesteps=args.timesteps,
                                           spike_bits=args.spike_bits, seed=args.seed,
                                           x_max=x_max)
    else:
        alpha = args.l4
    calib = torch.as_tensor(xc, dtype=torch.float32) / x_max
    snn = convert(ann, calib, timesteps=args.timesteps, spike_bits=args.spike_bits,
                  percentile=args.percentile, l4_strength=alpha, x_max=x_max)
    with torch.no_grad():
        ann_acc = float((ann(torch.as_tensor(data.x_test, dtype=torch.float32) / x_max)
                         .argmax(1).numpy() == data.y_test).mean())
    acc = snn_accuracy(snn, data.x_test, data.y_test, seed=args.seed, x_max=x_max)
    save_checkpoint(out, snn, train_config=None, data=args.data)
    report = {"checkpoint": str(out), "ann_test_acc": ann_acc, "snn_test_acc": acc,
              "l4_strength": alpha, "l4_calibration_scores": {str(k): v for k, v in scores.items()},
              "timesteps": args.timesteps, "data": data.name,
              "arch": ",".join(net.arch) if net is not None else None}
    if args.json:
        emit_json(report)
    else:
        print(f"ReLU ANN test accuracy {ann_acc:.4f}; converted SNN (T={args.timesteps}, "
              f"Poisson input) {acc:.4f}; L4 strength {alpha}")
        print(f"checkpoint: {out}")
    return 0
