"""``snnhw verify CHECKPOINT_OR_NET``: torch integer mode vs golden model vs hardware."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..protocol.streams import PAUSE_PATTERNS
from ..util import format_table, printable
from .args import MAX_SEED, int_range
from .common import (
    DATA_HELP,
    CLIError,
    as_steps,
    emit_json,
    load_dataset,
    load_input,
    load_network,
    parse_lanes,
    read_npy,
    sentence,
)

HELP = "co-verify torch integer mode, golden model and the generated RTL (or a board)"
RANDOM_DENSITY = 0.25   # share of non-zero values in the seeded random inputs
RANDOM_SAMPLES = 64


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify", help=HELP, description=sentence(HELP) + ". The same integer inputs go "
        "through all three; every layer of torch and golden is compared, and the hardware's "
        "logits and class against golden.",
        epilog="Exit status 1 on any mismatch (the first one is named: sample, layer, step, "
               "neuron). A .pt checkpoint is quantised first (--w-bits/--u-bits) and its float "
               "accuracy is shown too; a .snn file is used as it is. Inputs: --input, else the "
               "test split of --data, else (when the default data does not fit the network) "
               f"{RANDOM_SAMPLES} seeded random inputs of the network's in_bits, "
               f"{int(RANDOM_DENSITY * 100)} % non-zero; the output says which.")
    p.add_argument("model", metavar="CHECKPOINT_OR_NET", help=".pt checkpoint or .snn IR file")
    p.add_argument("--backend", choices=["sim", "board"], default="sim",
                   help="hardware to check: the generated RTL in a simulator, or a board "
                        "running 'snnhw build's bitstream over UART (%(default)s)")
    p.add_argument("--sim", choices=["verilator", "icarus"], default="verilator",
                   help="simulator for --backend sim (%(default)s)")
    p.add_argument("--engine", choices=["bulk", "cocotb"], default="bulk",
                   help="for --backend sim: 'bulk' runs a generated SystemVerilog testbench "
                        "at the simulator's own speed (stimulus and stall patterns from files, "
                        "results compared afterwards; 45-90x faster on Verilator), "
                        "'cocotb' checks every beat from Python as it happens and can record "
                        "--waves (%(default)s)")
    p.add_argument("--port", default=None, help="serial port for --backend board, "
                   "e.g. /dev/ttyUSB1 (iCEBreaker's second FTDI port)")
    p.add_argument("--baud", type=int_range(300, 12_000_000), default=None,
                   help="for --backend board (115200, or "
                   "the rate in --build's report)")
    p.add_argument("--build", default=None, metavar="DIR",
                   help="for --backend board: the build folder of the bitstream on the board "
                        "(snnhw build -o DIR); checks it was built from this network and "
                        "loads the weights the design keeps in SPRAM")
    p.add_argument("--data", default=None, metavar="NAME|FILE",
                   help=DATA_HELP + "; its test split is run (default: a checkpoint's own "
                        "data set, else digits when it fits the network)")
    p.add_argument("--in-bits", type=int_range(1, 16), default=None,
                   help="for an .npz (see 'snnhw train')")
    p.add_argument("--input", default=None, metavar="X.npy",
                   help="run these integer inputs instead: [n, n_in] (repeated every step) "
                        "or [n, T, n_in]")
    p.add_argument("--labels", default=None, metavar="Y.npy",
                   help="labels of --input, for the accuracies")
    p.add_argument("--n", type=int_range(1, 1 << 20), default=None,
                   help="samples to run (default: all of them)")
    p.add_argument("--lanes", default="8", help="lanes when generating the RTL (%(default)s)")
    p.add_argument("--rtl", default=None, help="use this generated RTL folder instead")
    p.add_argument("--core", choices=["pipeline", "serial"], default="pipeline",
                   help="the core generated when no --rtl is given: a processing element "
                        "per layer, or one for all layers in turn (%(default)s)")
    p.add_argument("--w-bits", type=int_range(2, 16), default=8,
                   help="for a checkpoint (%(default)s)")
    p.add_argument("--u-bits", type=int_range(8, 32), default=16,
                   help="for a checkpoint (%(default)s)")
    p.add_argument("--name", default=None,
                   help="for a checkpoint: the network name, as given to 'snnhw export' "
                        "(default: the checkpoint's file name); it is part of the IR hash "
                        "that --rtl is checked against")
    p.add_argument("--encoding", choices=["auto", "direct", "poisson"], default="auto",
                   help="input encoding for an IR file: auto = direct when the pixel range "
                        "fits in_bits, else Poisson (%(default)s)")
    p.add_argument("--seed", type=int_range(0, MAX_SEED), default=0,
                   help="Poisson and pause seed (%(default)s)")
    p.add_argument("--in-pauses", choices=PAUSE_PATTERNS, default="none",
                   help="idle pattern on the input stream (%(default)s)")
    p.add_argument("--out-pauses", choices=PAUSE_PATTERNS, default="none",
                   help="backpressure on the output stream (%(default)s)")
    p.add_argument("--waves", action="store_true",
                   help="record waveforms (slow; --engine cocotb)")
    p.add_argument("--work", default="out/sim", help="build folder (%(default)s)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _load(args):
    """(net, torch integer mode, encoding config, float model or None, default data)."""
    from ..nn.quant import ExportError, IntegerSNN, quantize
    from ..nn.train import CheckpointError, checkpoint_data, load_checkpoint

    path = Path(args.model)
    if path.suffix == ".pt":
        try:
            model, ck = load_checkpoint(path)
        except FileNotFoundError:
            raise CLIError(f"no such checkpoint: {path}") from None
        except CheckpointError as exc:
            raise CLIError(str(exc)) from None
        try:
            name = args.name if args.name is not None else path.stem
            q = quantize(model, w_bits=args.w_bits, u_bits=args.u_bits, name=name)
        except ExportError as exc:
            raise CLIError(f"cannot export: {exc}") from None
        return q.to_ir(), q, model.config, model, checkpoint_data(ck)
    net = load_network(str(path))
    # --encoding auto is settled by the data (_inputs): direct when its values fit in_bits
    config = {"timesteps": net.timesteps, "encoding": args.encoding, "x_max": 16.0}
    return net, IntegerSNN.from_ir(net), config, None, None


def _take(args, x, y):
    n = len(x) if args.n is None else args.n
    if not 1 <= n <= len(x):
        raise CLIError(f"--n must be in 1..{len(x)}, got {n}")
    return x[:n], None if y is None else y[:n]


def _inputs(args, net, config, default_data=None):
    """(x[n, T, n_in] int64, labels or None, what they are)."""
    import numpy as np

    from ..nn.model import encode

    if args.input is not None:
        x = load_input(args.input, net)
        y = None
        if args.labels is not None:
            y = read_npy(args.labels, "--labels")
            if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
                raise CLIError(f"--labels {args.labels}: expected {len(x)} integer labels, got "
                               f"dtype {y.dtype}, shape {list(y.shape)}")
        x, y = _take(args, x, y)
        return x, y, f"samples from {args.input}"
    if args.labels is not None:
        raise CLIError("--labels goes with --input")
    given = args.data or default_data
    data = load_dataset(given or "digits", args.in_bits)
    if not data.fits(net.n_in, net.timesteps):
        if given is not None:
            raise CLIError(f"data {data.name!r} has inputs of {data.shape_text()} per sample; "
                           f"the network takes {net.n_in} inputs over T={net.timesteps} steps")
        rng = np.random.default_rng(args.seed)
        n = RANDOM_SAMPLES if args.n is None else args.n
        if not 1 <= n <= 1 << 16:
            raise CLIError(f"--n must be in 1..{1 << 16}, got {n}")
        shape = (n, net.timesteps, net.n_in)
        x = rng.integers(1, 1 << net.in_bits, shape) * (rng.random(shape) < RANDOM_DENSITY)
        return x.astype(np.int64), None, (
            f"seeded random inputs (seed {args.seed}, in_bits {net.in_bits}, "
            f"{int(RANDOM_DENSITY * 100)} % non-zero; the default data does not fit "
            f"n_in={net.n_in})")
    xs, ys = _take(args, data.x_test, data.y_test)
    if config["encoding"] == "auto":
        top = int(max(data.x_train.max(), data.x_test.max()))
        config = {**config, "x_max": float(max(top, 1)),
                  "encoding": "direct" if top < 1 << net.in_bits else "poisson"}
    x = xs if data.temporal else encode(config, xs, args.seed).numpy()
    x = as_steps(net, x, f"data {data.name!r}" + (
        " (try --encoding poisson)" if config["encoding"] == "direct" else ""))
    return x, ys, f"{data.name} test samples"


def run(args) -> int:
    import torch

    from snntb.runner import RTLMismatchError, SimulatorMissingError

    from ..gateware.plan import DesignError
    from ..host import BoardError
    from ..verify.coverify import coverify

    _check_backend_args(args)
    net, tmode, config, model, default_data = _load(args)
    x, ys, what = _inputs(args, net, config, default_data)
    float_pred = None
    if model is not None:
        with torch.no_grad():
            float_pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    backend, hw_name = _backend(args, net)
    bar = None
    if not (args.no_progress or args.json) and sys.stderr.isatty():
        from tqdm.auto import tqdm
        bar = tqdm(total=len(x), desc=hw_name, unit="sample", leave=False)

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    t0 = time.perf_counter()
    try:
        rep = coverify(net, x, ys, backend, torch_mode=tmode, float_pred=float_pred,
                       progress=progress)
    except (SimulatorMissingError, BoardError, DesignError, RTLMismatchError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    total = round(time.perf_counter() - t0, 1)
    if args.json:
        emit_json({**rep.as_dict(), "total_seconds": total, "model": str(args.model),
                   "inputs": what})
    else:
        _print_report(args, net, rep, what, hw_name, total)
    return 0 if rep.ok else 1


def _check_backend_args(args) -> None:
    """The backend's options, before anything is loaded."""
    from snntb.runner import simulator_available

    if args.backend == "sim":
        why = simulator_available(args.sim)
        if why:
            raise CLIError(f"simulator {args.sim} is not available: {why}")
        if args.waves and args.engine != "cocotb":
            raise CLIError("--waves needs --engine cocotb (the bulk testbench records none)")
    elif not args.port:
        raise CLIError("--backend board needs --port (the board's serial port)")


def _backend(args, net):
    """``(backend, name)``: the board at ``--port`` or the simulated RTL."""
    from snntb.backend import SimBackend

    from ..host import BoardError

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
        return backend, f"board ({args.port})"
    lanes = parse_lanes(args.lanes, net)
    if args.core == "serial" and args.rtl is None:   # refused before any simulation
        from ..gateware.cores import serial_lanes
        from ..gateware.plan import DesignError
        from ..gateware.serial import SerialCore

        try:
            SerialCore.check(net, lanes=serial_lanes(lanes, net))
        except DesignError as exc:
            raise CLIError(str(exc)) from None
    backend = SimBackend(args.sim, lanes=lanes, rtl_dir=args.rtl,
                         work=args.work, in_pauses=args.in_pauses, out_pauses=args.out_pauses,
                         seed=args.seed, waves=args.waves, engine=args.engine,
                         core=args.core)
    return backend, f"RTL ({args.sim}, {args.engine})"


def _print_report(args, net, rep, what: str, hw_name: str, total: float) -> None:
    """The agreement table, the time, the first mismatches and PASS / FAIL."""
    def acc(value):
        return "-" if value is None else f"{value:.4f}"

    n = rep.samples
    rows = []
    if rep.acc_float is not None:
        rows.append(["float model", "-", acc(rep.acc_float)])
    rows.append(["torch integer mode", f"{rep.torch_golden_agree}/{n} (== golden)",
                 acc(rep.acc_torch)])
    rows.append(["golden model", "-", acc(rep.acc_golden)])
    rows.append([hw_name, f"{rep.golden_hw_agree}/{n} (== golden)", acc(rep.acc_hw)])
    print(f"{n} {what}, {printable(net.name or args.model)}, T={net.timesteps}")
    print(format_table(rows, ["implementation", "bit-exact agreement", "accuracy"]))
    info = rep.backend_info
    if args.backend == "sim":
        cycles = info.get("cycles")
        cycles = f"{cycles} cycles" if cycles is not None else "cycles unknown (no result)"
        speed = ""
        if info.get("run_seconds") and info.get("simulated_cycles"):
            speed = f" ({info['simulated_cycles'] / info['run_seconds']:,.0f} simulated cycles/s)"
        print(f"time: build {info.get('build_seconds')} s, simulation "
              f"{info.get('run_seconds')} s{speed}, total {total} s; {cycles}")
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
