"""``snnhw import MODEL.nir -o NET.snn``: a NIR graph (snnTorch, Norse, ...) to the IR."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..util import prepare_output
from .args import MAX_TIMESTEPS, float_range, int_range
from .common import CLIError, emit_json, one_line, sentence

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
    from ..api import float_from_nir, from_torch
    from ..nn.nirio import NIRError
    from ..nn.quant import ExportError

    out = prepare_output(args.output, "IR file", inputs=(args.model,))
    if args.checkpoint:
        prepare_output(args.checkpoint, "checkpoint", inputs=(args.model,))
        if os.path.realpath(args.checkpoint) == os.path.realpath(out):
            raise CLIError(f"--checkpoint {args.checkpoint} is the IR file's path too; give "
                           "two names")
    src = Path(args.model)
    if not src.is_file():
        raise CLIError(f"cannot import {args.model}: "
                       f"{'not a regular file' if src.exists() else 'no such file'}")
    with one_line(NIRError, ValueError, prefix=f"cannot import {args.model}: "):
        model = float_from_nir(src, timesteps=args.timesteps, in_bits=args.in_bits,
                               dt=args.dt, reset=args.reset)
    name = args.name if args.name is not None else src.stem
    with one_line(ExportError, prefix="cannot export: "):
        m = from_torch(model, w_bits=args.w_bits, u_bits=args.u_bits, name=name)
    check = m.self_check(args.check).to_dict()
    agree, fired = check["integer_golden_agree"], check["spikes_on_check"]
    net = m.network
    warnings = [] if fired else [
        f"no neuron fired on the {args.check} check inputs: the network may be silent. "
        + (f"It was imported with --dt {args.dt}" if args.dt is not None else
           "It was imported with the default step (--dt 1e-4, snnTorch's, unless the graph "
           "records one)")
        + "; discrete-time producers such as Sinabs need --dt 1"]
    if agree == args.check:   # files are written (or replaced) only when the check passes
        m.save(out)
        if args.checkpoint:
            m.save_checkpoint(args.checkpoint)
    report = {"ir": str(out), "content_hash": net.content_hash(), "name": name,
              "sizes": [net.n_in] + [ly.n_out for ly in net.layers],
              "leak_shift": [ly.leak_shift for ly in net.layers],
              "k": [ly.k for ly in net.layers], "readout": net.readout,
              "timesteps": net.timesteps, "in_bits": net.in_bits,
              "reset": net.layers[0].reset, "checkpoint": args.checkpoint,
              **check, "written": agree == args.check, "warnings": warnings}
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
        print(f"torch integer mode == golden model on {agree}/{args.check} random samples "
              "(every layer's I, v, s, u and the logits)")
        if check["first_mismatch"]:
            print(f"first mismatch: {check['first_mismatch']}")
    return 0 if agree == args.check else 1
