"""``snnhw info NET``: layers, bit widths, memory and accumulator widths."""

from __future__ import annotations

from ..util import format_table, printable
from .common import CLIError, emit_json, load_network, parse_lanes, sentence

HELP = "show a network's layers, bit widths, memory and accumulator widths"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info", help=HELP, description=sentence(HELP) + ".",
        epilog="Memory is counted in bits: weights (a dense layer n_out*n_in, a conv layer "
               "C_out*C_in*KH*KW, times w_bits), biases (one per neuron, or per output "
               "channel) and membranes (n_out*u_bits). bound is the exact largest |I| of "
               "one step (from the weights), acc_bits its width; logit_bits that of the "
               "readout sum. synops/event: the additions one input event causes (at most).")
    p.add_argument("net", metavar="NET", help="network IR file (.snn)")
    p.add_argument("--lanes", default=None,
                   help="also show the hardware's memories at these lanes (one number, or "
                        "one per layer comma separated), as the gateware builds them")
    p.add_argument("--core", choices=["pipeline", "serial"], default="pipeline",
                   help="with --lanes, the memories of this core: a processing element per "
                        "layer, or one for all layers in turn (%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import Model
    from ..gateware.plan import DesignError

    net = load_network(args.net)
    lanes = parse_lanes(args.lanes, net) if args.lanes is not None else None
    try:
        d = Model(net).info(lanes=lanes, core=args.core).to_dict()
    except DesignError as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        emit_json(d)
        return 0
    print(f"network {printable(d['name']) or '(unnamed)'}  hash {d['content_hash'][:16]}")
    print(f"inputs {d['n_in']} x {d['in_bits']} bits, T = {d['timesteps']}, "
          f"readout = {d['readout']}")
    header = ["layer", "kind", "n_in", "n_out", "w_bits", "u_bits", "k", "offset",
              "spike_bits", "leak", "reset", "bound", "acc_bits", "weight_bits",
              "synops/event"]
    rows = [[ly["index"], ly["kind"], ly["n_in"], ly["n_out"], ly["w_bits"], ly["u_bits"],
             ly["k"], ly["fire_offset"], ly["spike_bits"] if ly["fires"] else "-",
             ly["leak_shift"] if ly["leak_shift"] is not None else "none", ly["reset"],
             ly["current_bound"], ly["acc_bits"], ly["weight_bits"],
             ly["synops_per_event"]["max"]] for ly in d["layers"]]
    print(format_table(rows, header))
    convs = [ly for ly in d["layers"] if "kernel" in ly]      # the layers with a window
    if convs:
        def x(v):
            return "x".join(map(str, v))
        print("\nconv layers (maps C x H x W, flattened channel-major)")
        print(format_table([[ly["index"], x(ly["in_shape"]), x(ly["kernel"]), x(ly["stride"]),
                             x(ly["padding"]), x(ly["out_shape"]), ly["current_bound_formula"]]
                            for ly in convs],
                           ["layer", "input map", "kernel", "stride", "padding", "output map",
                            "bound by widths"]))
    print(f"parameter memory {d['param_bits']} bits ({d['param_bits'] / 8192:.1f} KiB), "
          f"membrane state {d['state_bits']} bits, logits {d['logit_bits']} bits")
    if "memories" in d:
        print(f"\nmemories of the {d['core']} core at lanes {d['lanes']} (words x bits; rom: "
              "contents in the bitstream)")
        print(format_table([[m["name"], m["role"], m["words"], m["width"], m["kind"]]
                            for m in d["memories"]], ["memory", "holds", "words", "bits", "kind"]))
    return 0
