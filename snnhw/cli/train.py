"""``snnhw train``: train the spiking MLP on the bundled digits data."""

from __future__ import annotations

from pathlib import Path

from ..data import load_digits_split
from ..nn.train import TrainConfig, evaluate, save_checkpoint, train
from .common import CLIError, emit_json, sentence

HELP = "train a multi-bit spiking MLP on scikit-learn's bundled digits"


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v)
    except ValueError:
        raise CLIError(f"--hidden takes comma-separated integers, got {text!r}") from None


def add_parser(sub) -> None:
    d = TrainConfig()
    p = sub.add_parser(
        "train", help=HELP, description=sentence(HELP) + ". The split is fixed (20% test, "
        "stratified, random_state=0): 1437 training and 360 test samples.",
        epilog="The checkpoint loads with torch.load(weights_only=True); pass it to "
               "'snnhw export' to get the IR file.")
    p.add_argument("-o", "--output", default="out/model.pt", help="checkpoint path (%(default)s)")
    p.add_argument("--hidden", default="128", help="hidden layer sizes, comma separated "
                   "(%(default)s)")
    p.add_argument("--timesteps", "-T", type=int, default=d.timesteps,
                   help="time steps (%(default)s)")
    p.add_argument("--spike-bits", type=int, default=d.spike_bits, help="1 = binary (%(default)s)")
    p.add_argument("--reset", choices=["soft", "hard"], default=d.reset)
    p.add_argument("--leak-shift", type=int, default=None,
                   help="leak by shift L (decay 1-2**-L); default none (IF)")
    p.add_argument("--fire", choices=["half", "floor"], default=d.fire,
                   help="half: fire when v > theta/2 (InfLoR); floor: v >= theta (%(default)s)")
    p.add_argument("--no-mpr", action="store_true", help="straight-through surrogate, no MPR")
    p.add_argument("--rmp-lambda", type=float, default=d.rmp_lambda,
                   help="RMP-Loss weight, 0 disables (%(default)s)")
    p.add_argument("--rmp-schedule", choices=["constant", "cosine"], default=d.rmp_schedule)
    p.add_argument("--readout", choices=["membrane", "spikes"], default=d.readout)
    p.add_argument("--bn", action="store_true",
                   help="BatchNorm on hidden layers (folded at export)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="(%(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="(%(default)s)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=d.optimizer)
    p.add_argument("--lr", type=float, default=d.lr, help="(%(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="(%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    data = load_digits_split()
    cfg = TrainConfig(
        sizes=(64, *_ints(args.hidden), 10), timesteps=args.timesteps,
        spike_bits=args.spike_bits, reset=args.reset, leak_shift=args.leak_shift, fire=args.fire,
        mpr=not args.no_mpr, rmp_lambda=args.rmp_lambda, rmp_schedule=args.rmp_schedule,
        readout=args.readout, bn=args.bn, epochs=args.epochs, batch_size=args.batch_size,
        optimizer=args.optimizer, lr=args.lr, seed=args.seed)
    try:
        model, history = train(cfg, data, progress=not (args.no_progress or args.json))
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, model, history, cfg)
    report = {"checkpoint": str(out), "seconds": round(history["seconds"], 2),
              "train_acc": history["train_acc"][-1],
              "test_acc": evaluate(model, data.x_test, data.y_test),
              "sizes": list(cfg.sizes), "timesteps": cfg.timesteps, "spike_bits": cfg.spike_bits}
    if args.json:
        emit_json(report)
    else:
        print(f"trained {'-'.join(map(str, cfg.sizes))}, T={cfg.timesteps}, "
              f"{cfg.spike_bits}-bit spikes in {report['seconds']} s")
        print(f"float accuracy: train {report['train_acc']:.4f}, test {report['test_acc']:.4f}")
        print(f"checkpoint: {out}")
    return 0
