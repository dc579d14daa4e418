"""``snnhw build NET --board B`` and ``snnhw estimate NET --board B``."""

from __future__ import annotations

from .args import float_range, int_range
from .common import CLIError, emit_json, load_network, parse_lanes

BOARD_HELP = ("icebreaker (iCE40UP5K), ulx3s (ECP5-85F), orangecrab (ECP5-25F, r0.2), "
              "tang_nano_9k (Gowin GW1NR-9) or tang_primer_20k (Gowin GW2A-18)")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "build", help="build a bitstream for a board with the open toolchain (YoWASP)",
        description="Build the network with its UART host link for a board: Yosys, nextpnr "
                    "and the packer from PyPI (YoWASP and Apicula; override with YOSYS, "
                    "NEXTPNR_ICE40, ICEPACK, NEXTPNR_ECP5, ECPPACK, NEXTPNR_HIMBAECHEL, "
                    "GOWIN_PACK). Writes the bitstream and a report "
                    "(JSON and a table): LUTs, FFs, block RAM, SPRAM, DSP (must be 0), IO, "
                    "Fmax per clock with pass/fail at the design clock (the board oscillator, or "
                    "a PLL with --clock-mhz), build time.",
        epilog="A network that does not fit is refused before place and route, naming the "
               "resource and by how much. An iCE40 design estimated at 80 % of the logic "
               "cells or more is synthesised with -dffe_min_ce_use 8 (clock enables of "
               "fewer than 8 flip-flops folded into LUTs), which lets nextpnr place it "
               "(the report's synth_opts); even so, a design near the device's size may not "
               "place (one of 94 % did not).")
    p.add_argument("net", metavar="NET", help="network IR file (.snn)")
    p.add_argument("--board", required=True, help=BOARD_HELP)
    p.add_argument("--lanes", default="2", help="lanes, one or per layer (%(default)s)")
    p.add_argument("--baud", type=int_range(300, 12_000_000), default=None,
                   help="UART rate (default: the fastest the board's USB bridge takes that "
                        "the design clock makes within 1 %%: iCEBreaker 3,000,000, ULX3S "
                        "1,000,000 from 25 MHz, Tang boards 1,000,000, OrangeCrab 115,200 "
                        "(an adapter of your own); the report gives it)")
    p.add_argument("--clock-mhz", type=float_range(0, 1000, lo_open=True), default=None,
                   help="run the design from a PLL at this rate (the nearest the PLL makes); "
                        "default: the board oscillator")
    p.add_argument("--weights", choices=["auto", "bram", "spram"], default="auto",
                   help="where the weights live: block RAM (in the bitstream) or SPRAM "
                        "(iCE40UP5K; the host loads them at run time). auto: SPRAM only for "
                        "the largest weight memories, and only when block RAM is short "
                        "(%(default)s)")
    p.add_argument("--seed", type=int_range(1, 1 << 30), default=1,
                   help="nextpnr's placement seed; Fmax varies a few %% with it (%(default)s)")
    p.add_argument("--core", choices=["pipeline", "serial", "auto"], default="pipeline",
                   help="pipeline: a processing element per layer; serial: one for all "
                        "layers in turn, state in memory (dense and conv layers; one lanes "
                        "setting); auto: the pipeline core when it fits the board, else the "
                        "serial core (%(default)s)")
    p.add_argument("-o", "--output", default=None, help="build folder (out/build/<board>)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_build)

    e = sub.add_parser(
        "estimate", help="estimate block RAM, logic, cycles and latency without synthesis",
        description="Estimate a board build without running the tools: block RAM per memory "
                    "(exact mapping rules), logic cells (rough), cycles and latency per "
                    "inference at the board clock (inputs half non-zero).")
    e.add_argument("net", metavar="NET", help="network IR file (.snn)")
    e.add_argument("--board", required=True, help=BOARD_HELP)
    e.add_argument("--lanes", default="2", help="lanes, one or per layer (%(default)s)")
    e.add_argument("--clock-mhz", type=float_range(0, 1000, lo_open=True), default=None,
                   help="clock for the latency (default: the board oscillator)")
    e.add_argument("--weights", choices=["auto", "bram", "spram"], default="auto",
                   help="weights in block RAM or SPRAM, as for build (%(default)s)")
    e.add_argument("--core", choices=["pipeline", "serial", "auto"], default="pipeline",
                   help="pipeline: a processing element per layer; serial: one for all "
                        "layers in turn, state in memory (dense and conv layers; one lanes "
                        "setting); auto: the pipeline core when it fits the board, else the "
                        "serial core (%(default)s)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=run_estimate)


def _board(name):
    from snnboards.platforms import BOARDS

    if name not in BOARDS:
        raise CLIError(f"unknown board {name!r}; one of {', '.join(sorted(BOARDS))}")
    return BOARDS[name]


def run_estimate(args) -> int:
    from snnboards.build import BuildError

    from ..api import Model

    net = load_network(args.net)
    spec = _board(args.board)
    try:
        est = Model(net).estimate(spec.name, lanes=parse_lanes(args.lanes, net),
                                  clock_mhz=args.clock_mhz, weights=args.weights,
                                  core=args.core).to_dict()
    except BuildError as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        emit_json(est)
        return 0 if est["fits"] else 1
    from ..util import format_table

    rows = [[m["name"], m["depth"], m["width"], m["blocks"], m.get("spram", "")]
            for m in est["memories"]]
    print(format_table(rows, ["memory", "words", "bits", "blocks", "spram"]))
    spram = f", SPRAM {est['spram']} of {spec.capacity['spram']}" if est["spram"] else ""
    print(f"{spec.name}: block RAM {est['bram']} of {spec.capacity['bram']}{spram}, logic cells "
          f"~{est['lc']} of {spec.capacity['lc']}, DSP 0; ~{est['cycles_per_inference']} "
          f"cycles = {est['latency_us']} us per inference at {est['clock_mhz']:g} MHz")
    if args.core == "auto":
        print(f"core: {est['core']} ({est['core_reason']})")
    print("fits" if est["fits"] else f"does not fit: {est['does_not_fit']}")
    return 0 if est["fits"] else 1


def run_build(args) -> int:
    from snnboards.build import BuildError, format_report

    from ..api import Model

    net = load_network(args.net)
    spec = _board(args.board)
    lanes = parse_lanes(args.lanes, net)
    try:
        report = Model(net).build(spec.name, lanes=lanes, baud=args.baud, seed=args.seed,
                                  out_dir=args.output or f"out/build/{spec.name}",
                                  progress=not args.json, clock_mhz=args.clock_mhz,
                                  weights=args.weights, core=args.core).to_dict()
    except (BuildError, ValueError) as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        emit_json(report)
    else:
        print(format_report(report))
    ok = report["dsp_used"] == 0 and report["timing_met"]
    return 0 if ok else 1
