"""``snnhw import MODEL.nir -o NET.snn``: a NIR graph (snnTorch, Norse, ...) to the IR."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..util import prepare_output
from .args import MAX_TIMESTEPS, float_range, int_range
from .common import CLIError, emit_json, sentence

HELP = "import a NIR graph (from snnTorch, Norse, SpikingJelly, ...) into the integer IR"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import", help=HELP,
        description=sentence(HELP) + ". The graph must be a feed-forward chain of "
        "Affine/Linear and LIF/IF/CubaLIF nodes (or conv chains), where a neuron may feed "
        "back to itself through one Affine/Linear node (snnTorch's RLeaky: a recurrent "
        "layer); each neuron's tau, r, v_leak, v_threshold "
        "and v_reset become snnhw's leak shift, weights, bias and threshold (see snnhw.nn.nirio). "
        "Writes the IR (and with --checkpoint the float model), then checks that the torch "
        "integer mode and the golden model agree bit for bit on random inputs.",
        epilog="A graph snnhw cannot represent (any other cycle, an unsupported node, a leak "
               "that no shift computes) is refused with the node and parameter named; exit 2. "
               "If no neuron fires on the check inputs, a warning names --dt: snnTorch's "
               "graphs take the default 1e-4, discrete-time producers such as Sinabs --dt 1.")
    p.add_argument("model", metavar="MODEL", help="NIR file (nir.write / snnTorch's "
                   "export_to_nir then nir.write)")
    p.add_argument("-o", "--output", default="out/imported.snn", help="IR file (%(default)s)")
    p.add_argument("--checkpoint", default=None, help="also write the float model as an "
                   "snnhw checkpoint (for snnhw verify / export --nir)")
    p.add_argument("--timesteps", type=int_range(1, MAX_TIMESTEPS), default=None,
                   help="time steps per sample (4, or what an snnhw-written graph records)")
    p.add_argument("--in-bits", type=int_range(1, 16), default=None,
                   help="bits of an input value (1: spike trains; or as recorded)")
    p.add_argument("--dt", type=float_range(0, 1, lo_open=True), default=None,
                   help="step length in seconds (1e-4, snnTorch's, or as recorded)")
    p.add_argument("--reset", choices=["soft", "hard"], default=None,
                   help="soft: subtract the threshold (snnTorch reset_mechanism='subtract'); "
                        "hard: to zero; NIR does not record which (soft, or as recorded)")
    p.add_argument("--w-bits", type=int_range(2, 16), default=8,
                   help="weight width, 2..16 (%(default)s)")
    p.add_argument("--u-bits", type=int_range(8, 32), default=16,
                   help="membrane width, 8..32 (%(default)s)")
    p.add_argument("--name", default=None, help="network name (the file's stem)")
    p.add_argument("--check", type=int_range(1, 1 << 16), default=64,
                   help="random samples for the integer-mode == golden check, 1..65536 "
                        "(%(default)s); the files are written only when all agree")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..golden.compare import integer_vs_golden
    from ..nn.nirio import NIRError, from_nir
    from .export import quantise

    out = prepare_output(args.output, "IR file")
    if args.checkpoint:
        prepare_output(args.checkpoint, "checkpoint")
    src = Path(args.model)
    if not src.is_file():
        raise CLIError(f"cannot import {args.model}: "
                       f"{'not a regular file' if src.exists() else 'no such file'}")
    try:
        model = from_nir(Path(args.model), timesteps=args.timesteps, in_bits=args.in_bits,
                         dt=args.dt, reset=args.reset)
    except (NIRError, ValueError) as exc:
        raise CLIError(f"cannot import {args.model}: {exc}") from None
    name = args.name if args.name is not None else Path(args.model).stem
    q, net = quantise(model, args, name)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1 << net.in_bits, size=(args.check, net.timesteps, net.n_in))
    r, _, per_sample, mismatch = integer_vs_golden(q, net, x)
    agree = int(per_sample.sum())
    fired = sum(int(ly["s"].sum()) for ly in r["layers"])
    warnings = [] if fired else [
        f"no neuron fired on the {len(x)} check inputs: the network may be silent. "
        + (f"It was imported with --dt {args.dt}" if args.dt is not None else
           "It was imported with the default step (--dt 1e-4, snnTorch's, unless the graph "
           "records one)")
        + "; discrete-time producers such as Sinabs need --dt 1"]
    if agree == args.check:   # files are written (or replaced) only when the check passes
        from ..ir import save
        from ..nn.train import save_checkpoint
        save(net, out)
        if args.checkpoint:
            save_checkpoint(args.checkpoint, model)
    report = {"ir": str(out), "content_hash": net.content_hash(), "name": name,
              "sizes": [net.n_in] + [ly.n_out for ly in net.layers],
              "leak_shift": [ly.leak_shift for ly in net.layers],
              "k": [ly.k for ly in net.layers], "readout": net.readout,
              "timesteps": net.timesteps, "in_bits": net.in_bits,
              "reset": net.layers[0].reset, "checkpoint": args.checkpoint,
              "check_samples": len(x), "integer_golden_agree": agree,
              "written": agree == len(x),
              "first_mismatch": mismatch, "spikes_on_check": fired, "warnings": warnings}
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        emit_json(report)
    else:
        written = "wrote" if report["written"] else "NOT written:"
        print(f"{written} {out} (hash {net.content_hash()[:16]}): sizes {report['sizes']}, "
              f"T={net.timesteps}, in_bits {net.in_bits}, leak shifts {report['leak_shift']}, "
              f"k {report['k']}, readout {net.readout}, {report['reset']} reset")
        if args.checkpoint:
            print(f"{written} {args.checkpoint} (float model)")
        print(f"torch integer mode == golden model on {agree}/{len(x)} random samples "
              "(every layer's I, v, s, u and the logits)")
        if mismatch:
            print(f"first mismatch: {mismatch}")
    return 0 if agree == len(x) else 1
