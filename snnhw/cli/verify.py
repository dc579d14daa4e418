"""``snnhw verify CHECKPOINT_OR_NET``: torch integer mode vs golden model vs hardware."""

from __future__ import annotations

import time
from pathlib import Path

from ..data import load_digits_split
from ..util import format_table
from .common import CLIError, emit_json, load_network, parse_lanes, sentence

HELP = "co-verify torch integer mode, golden model and the generated RTL on digits"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify", help=HELP, description=sentence(HELP) + ". The same integer inputs go "
        "through all three; every layer of torch and golden is compared, and the hardware's "
        "logits and class against golden.",
        epilog="Exit status 1 on any mismatch (the first one is named: sample, layer, step, "
               "neuron). A .pt checkpoint is quantised first (--w-bits/--u-bits) and its float "
               "accuracy is shown too; a .snn file is used as it is.")
    p.add_argument("model", metavar="CHECKPOINT_OR_NET", help=".pt checkpoint or .snn IR file")
    p.add_argument("--backend", choices=["sim", "board"], default="sim",
                   help="hardware to check: the generated RTL in a simulator, or a board "
                        "running 'snnhw build's bitstream over UART (%(default)s)")
    p.add_argument("--sim", choices=["verilator", "icarus"], default="verilator",
                   help="simulator for --backend sim (%(default)s)")
    p.add_argument("--port", default=None, help="serial port for --backend board, "
                   "e.g. /dev/ttyUSB1 (iCEBreaker's second FTDI port)")
    p.add_argument("--baud", type=int, default=None, help="for --backend board (115200, or "
                   "the rate in --build's report)")
    p.add_argument("--build", default=None, metavar="DIR",
                   help="for --backend board: the build folder of the bitstream on the board "
                        "(snnhw build -o DIR); checks it was built from this network and "
                        "loads the weights the design keeps in SPRAM")
    p.add_argument("--n", type=int, default=None,
                   help="test samples to run (default: the whole test split, 360)")
    p.add_argument("--lanes", default="8", help="lanes when generating the RTL (%(default)s)")
    p.add_argument("--rtl", default=None, help="use this generated RTL folder instead")
    p.add_argument("--w-bits", type=int, default=8, help="for a checkpoint (%(default)s)")
    p.add_argument("--u-bits", type=int, default=16, help="for a checkpoint (%(default)s)")
    p.add_argument("--name", default=None,
                   help="for a checkpoint: the network name, as given to 'snnhw export' "
                        "(default: the checkpoint's file name); it is part of the IR hash "
                        "that --rtl is checked against")
    p.add_argument("--encoding", choices=["auto", "direct", "poisson"], default="auto",
                   help="input encoding for an IR file: auto = direct when the pixel range "
                        "fits in_bits, else Poisson (%(default)s)")
    p.add_argument("--seed", type=int, default=0, help="Poisson and pause seed (%(default)s)")
    p.add_argument("--in-pauses", default="none", help="idle pattern on the input stream")
    p.add_argument("--out-pauses", default="none", help="backpressure on the output stream")
    p.add_argument("--waves", action="store_true", help="record waveforms (slow)")
    p.add_argument("--work", default="out/sim", help="build folder (%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _load(args):
    """(net, torch integer mode, encoding config, float model or None)."""
    from ..nn.quant import ExportError, IntegerSNN, quantize
    from ..nn.train import CheckpointError, load_checkpoint

    path = Path(args.model)
    if path.suffix == ".pt":
        try:
            model, _ = load_checkpoint(path)
        except FileNotFoundError:
            raise CLIError(f"no such checkpoint: {path}") from None
        except CheckpointError as exc:
            raise CLIError(str(exc)) from None
        try:
            name = args.name if args.name is not None else path.stem
            q = quantize(model, w_bits=args.w_bits, u_bits=args.u_bits, name=name)
        except ExportError as exc:
            raise CLIError(f"cannot export: {exc}") from None
        return q.to_ir(), q, model.config, model
    net = load_network(str(path))
    enc = args.encoding
    if enc == "auto":
        enc = "direct" if (1 << net.in_bits) > 16 else "poisson"
    config = {"timesteps": net.timesteps, "encoding": enc, "x_max": 16.0}
    return net, IntegerSNN.from_ir(net), config, None


def run(args) -> int:
    import torch

    from snntb.backend import SimBackend
    from snntb.runner import SimulatorMissingError, simulator_available

    from ..host import BoardError
    from ..nn.model import encode
    from ..verify.coverify import coverify

    if args.backend == "sim":
        why = simulator_available(args.sim)
        if why:
            raise CLIError(f"simulator {args.sim} is not available: {why}")
    elif not args.port:
        raise CLIError("--backend board needs --port (the board's serial port)")
    net, tmode, config, model = _load(args)
    data = load_digits_split()
    n = len(data.x_test) if args.n is None else args.n
    if not 1 <= n <= len(data.x_test):
        raise CLIError(f"--n must be in 1..{len(data.x_test)}, got {n}")
    xs, ys = data.x_test[:n], data.y_test[:n]
    x = encode(config, xs, args.seed).numpy()
    if config["encoding"] == "direct" and x.max() >= (1 << net.in_bits):
        raise CLIError(f"digits pixels (0..16) do not fit in_bits={net.in_bits}; "
                       "use --encoding poisson")
    float_pred = None
    if model is not None:
        with torch.no_grad():
            float_pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    lanes = parse_lanes(args.lanes, len(net.layers))
    if args.backend == "board":
        from ..host import BoardBackend
        if args.build:
            try:
                backend = BoardBackend.from_build(args.port, args.build, net,
                                                  **({"baud": args.baud} if args.baud else {}))
            except BoardError as exc:
                raise CLIError(str(exc)) from None
        else:
            backend = BoardBackend(args.port, baud=args.baud or 115200)
        hw_name = f"board ({args.port})"
    else:
        backend = SimBackend(args.sim, lanes=lanes, rtl_dir=args.rtl, work=args.work,
                             in_pauses=args.in_pauses, out_pauses=args.out_pauses,
                             seed=args.seed, waves=args.waves)
        hw_name = f"RTL ({args.sim})"
    bar = None
    if not (args.no_progress or args.json):
        from tqdm.auto import tqdm
        bar = tqdm(total=n, desc=hw_name, unit="sample", leave=False)

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    t0 = time.perf_counter()
    try:
        rep = coverify(net, x, ys, backend, torch_mode=tmode, float_pred=float_pred,
                       progress=progress)
    except (SimulatorMissingError, BoardError) as exc:
        raise CLIError(str(exc)) from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    total = round(time.perf_counter() - t0, 1)
    d = {**rep.as_dict(), "total_seconds": total, "model": str(args.model)}
    if args.json:
        emit_json(d)
        return 0 if rep.ok else 1
    rows = []
    if rep.acc_float is not None:
        rows.append(["float model", "-", f"{rep.acc_float:.4f}"])
    rows.append(["torch integer mode", f"{rep.torch_golden_agree}/{n} (== golden)",
                 f"{rep.acc_torch:.4f}"])
    rows.append(["golden model", "-", f"{rep.acc_golden:.4f}"])
    rows.append([hw_name, f"{rep.golden_hw_agree}/{n} (== golden)",
                 f"{rep.acc_hw:.4f}"])
    print(f"{n} digits test samples, {net.name or args.model}, T={net.timesteps}")
    print(format_table(rows, ["implementation", "bit-exact agreement", "accuracy"]))
    info = rep.backend_info
    if args.backend == "sim":
        print(f"time: build {info.get('build_seconds')} s, simulation "
              f"{info.get('run_seconds')} s, total {total} s; {info.get('cycles')} cycles")
    else:
        print(f"time: {info.get('run_seconds')} s on the board, total {total} s; "
              f"frames resent after errors: {info.get('resent')}")
    for label, mm in (("torch vs golden", rep.first_mismatch_torch_golden),
                      (f"golden vs {hw_name}", rep.first_mismatch_golden_hw)):
        if mm:
            print(f"first mismatch, {label}: {mm}")
    if info.get("errors"):
        print("testbench: " + "; ".join(info["errors"]))
    print("PASS" if rep.ok else "FAIL")
    return 0 if rep.ok else 1

