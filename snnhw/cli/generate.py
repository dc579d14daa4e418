"""``snnhw generate NET --lanes P -o DIR``: Verilog and its manifest."""

from __future__ import annotations

import re
from pathlib import Path

from ..util import prepare_output, safe_name
from .common import CLIError, emit_json, load_network, parse_lanes, sentence

HELP = "generate the network's Verilog (Amaranth) and a JSON manifest"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "generate", help=HELP, description=sentence(HELP) + ".",
        epilog="The manifest records the IR hash, lanes, the port list with payload bit "
               "fields, memory sizes and the cycle formula. Generating the same IR with the "
               "same options gives byte-identical files.")
    p.add_argument("net", metavar="NET", help="network IR file (.snn)")
    p.add_argument("--lanes", default="8",
                   help="neurons per cycle: one number, or one per layer comma separated "
                        "(%(default)s)")
    p.add_argument("-o", "--output", default=None,
                   help="output folder (default rtl_out/<network name>)")
    p.add_argument("--top", default="snn_top", help="Verilog module name (%(default)s)")
    p.add_argument("--core", choices=["pipeline", "serial"], default="pipeline",
                   help="pipeline: a processing element per layer; serial: one for all "
                        "layers in turn, state in memory (dense and conv layers; one lanes "
                        "setting) (%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    net = load_network(args.net)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.top):
        raise CLIError(f"--top must be a Verilog identifier, got {args.top!r}")
    lanes = parse_lanes(args.lanes, net)
    # the network's name comes from the file: it names one folder under rtl_out/, no more
    out = Path(args.output or f"rtl_out/{safe_name(net.name)}")
    prepare_output(out / f"{args.top}.v", "Verilog", inputs=(args.net,))   # -o a file: no
    from ..api import Model
    from ..gateware.plan import DesignError
    from ..toolchain import ToolError

    try:
        report = Model(net).generate(out, lanes=lanes, top=args.top, core=args.core).to_dict()
    except (DesignError, ToolError) as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        emit_json(report)
    else:
        print(f"wrote {report['verilog']} ({report['verilog_bytes']} bytes) and "
              f"{report['manifest']} in {report['seconds']} s; lanes {report['lanes']}")
    return 0
