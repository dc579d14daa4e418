"""``snnhw verify CHECKPOINT_OR_NET``: torch integer mode vs golden model vs hardware."""

from __future__ import annotations

from pathlib import Path

from ..api.inputs import RANDOM_DENSITY, RANDOM_SAMPLES
from ..protocol.streams import PAUSE_PATTERNS
from ..util import format_table, printable
from .args import MAX_SEED, int_range, width_options
from .common import (
    DATA_HELP,
    CLIError,
    emit_json,
    load_input,
    load_network,
    one_line,
    parse_lanes,
    read_npy,
    sample_progress,
    sentence,
)

HELP = "co-verify torch integer mode, golden model and the generated RTL (or a board)"


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
                   help="for --backend board: the UART rate the bitstream was built with "
                   "(default: the rate in --build's report)")
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
    width_options(p, "for a checkpoint: ")
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


def _model(args):
    """The network to verify: a checkpoint quantised (with its float model and data set),
    or an IR file."""
    from ..api import Model, open_checkpoint
    from ..nn.quant import ExportError
    from ..nn.train import CheckpointError

    path = Path(args.model)
    if path.suffix != ".pt":
        return Model(load_network(str(path)))
    try:
        with one_line(CheckpointError):
            ck = open_checkpoint(path)
    except FileNotFoundError:
        raise CLIError(f"no such checkpoint: {path}") from None
    with one_line(ExportError, prefix="cannot export: "):
        return ck.export(w_bits=args.w_bits, u_bits=args.u_bits,
                         name=args.name if args.name is not None else path.stem)


def _inputs(args, model):
    """(x[n, T, n_in] int64, labels or None, what they are)."""
    from ..data import DataError

    if args.input is not None:
        x = load_input(args.input, model.network)
        y = None
        if args.labels is not None:
            y = read_npy(args.labels, "--labels")
            if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
                raise CLIError(f"--labels {args.labels}: expected {len(x)} integer labels, got "
                               f"dtype {y.dtype}, shape {list(y.shape)}")
        with one_line():
            x, y, _ = model.inputs(x, y, n=args.n)
        return x, y, f"samples from {args.input}"
    if args.labels is not None:
        raise CLIError("--labels goes with --input")
    with one_line(DataError):
        return model.inputs(data=args.data, n=args.n, encoding=args.encoding,
                            in_bits=args.in_bits, seed=args.seed)


def run(args) -> int:
    from snntb.runner import RTLMismatchError, SimulatorMissingError

    from ..api import check_backend
    from ..gateware.plan import DesignError
    from ..host import BoardError

    # the backend's options, before anything is loaded
    with one_line(SimulatorMissingError):
        check_backend(args.backend, sim=args.sim, engine=args.engine, waves=args.waves,
                      port=args.port, baud=args.baud, build_dir=args.build)
    model = _model(args)
    x, ys, what = _inputs(args, model)
    net = model.network
    lanes = parse_lanes(args.lanes, net) if args.backend == "sim" else None
    hw_name = (f"board ({args.port})" if args.backend == "board"
               else f"RTL ({args.sim}, {args.engine})")
    with sample_progress(len(x), hw_name, not (args.no_progress or args.json)) as progress, \
            one_line(SimulatorMissingError, BoardError, DesignError, RTLMismatchError):
        rep = model.verify(x, ys, lanes=lanes, core=args.core, backend=args.backend,
                           sim=args.sim, engine=args.engine, rtl=args.rtl,
                           in_pauses=args.in_pauses, out_pauses=args.out_pauses,
                           seed=args.seed, waves=args.waves, work=args.work,
                           port=args.port, baud=args.baud, build_dir=args.build,
                           progress=progress).to_dict()
    rep["inputs"] = what
    if args.json:
        emit_json({**rep, "model": str(args.model)})
    else:
        _print_report(args, net, rep, what, hw_name)
    return 0 if rep["ok"] else 1


def _print_report(args, net, rep: dict, what: str, hw_name: str) -> None:
    """The agreement table, the time, the first mismatches and PASS / FAIL."""
    def acc(value):
        return "-" if value is None else f"{value:.4f}"

    n = rep["samples"]
    rows = []
    if rep["acc_float"] is not None:
        rows.append(["float model", "-", acc(rep["acc_float"])])
    rows.append(["torch integer mode", f"{rep['torch_golden_agree']}/{n} (== golden)",
                 acc(rep["acc_torch"])])
    rows.append(["golden model", "-", acc(rep["acc_golden"])])
    rows.append([hw_name, f"{rep['golden_hw_agree']}/{n} (== golden)", acc(rep["acc_hw"])])
    print(f"{n} {what}, {printable(net.name or args.model)}, T={net.timesteps}")
    print(format_table(rows, ["implementation", "bit-exact agreement", "accuracy"]))
    info = rep["backend_info"]
    if args.backend == "sim":
        cycles = info.get("cycles")
        cycles = f"{cycles} cycles" if cycles is not None else "cycles unknown (no result)"
        speed = ""
        if info.get("run_seconds") and info.get("simulated_cycles"):
            speed = f" ({info['simulated_cycles'] / info['run_seconds']:,.0f} simulated cycles/s)"
        print(f"time: build {info.get('build_seconds')} s, simulation "
              f"{info.get('run_seconds')} s{speed}, total {rep['total_seconds']} s; {cycles}")
    else:
        print(f"time: {info.get('run_seconds')} s on the board, total {rep['total_seconds']} s; "
              f"frames resent after errors: {info.get('resent')}")
    for label, mm in (("torch vs golden", rep["first_mismatch_torch_golden"]),
                      (f"golden vs {hw_name}", rep["first_mismatch_golden_hw"])):
        if mm:
            print(f"first mismatch, {label}: {mm}")
    if info.get("errors"):
        print("testbench: " + "; ".join(info["errors"]))
    print("PASS" if rep["ok"] else "FAIL")
