"""Inferences per second over the UART host link, end to end, against the inference alone.

For each network, the board design (UART, host link, network) runs on Verilator with
the host's own encoder and decoder driving its pins bit by bit (the cocotb test
``snntb.cocotb_link``): every sample is sent as EVENTS frames of up to 256 events (as
``snnhw.host`` sends them), each frame waits for its ACK before the next (the
protocol's flow control), and the RESULT frames come back on the other wire
meanwhile. Measured per rate:

* ``cycles`` from the first sample's first bit to the last RESULT's stop bit, so the
  end-to-end rate ``samples / (cycles / f_clk)`` (every result checked against the
  golden model);
* the bytes each way per sample, and the wire's own bound (those bytes' 10 bits each
  at the rate, the longer direction);

next to the inference alone: the same design's core on the bulk Verilator testbench
(inputs back to back, no link), ``f_clk / (cycles per inference)``. ``link share`` is
how many times the end-to-end time exceeds the inference alone. The simulated host
answers an ACK within a bit time; a real one adds its USB round trip per frame
(``--turnaround-us``, reported as its own column: an FTDI bridge's latency timer is
1 to 16 ms).

The rates: ``115200`` and the board's default (the fastest its USB bridge takes that the
clock makes within 1 %: 3 Mbaud on the iCEBreaker). Networks: the digits MLP
(``--digits``, default ``out/digits.snn`` when it exists, else seeded random weights
of its shapes) on digits test samples, and the MNIST-1D CNN (``--cnn``, default
``out/cnn/mnist1d.snn``; else seeded random weights) on MNIST-1D test samples.

    python bench/link_rate.py                    # table
    python bench/link_rate.py --json             # one JSON object
    python bench/link_rate.py --only digits --samples 5 --bauds 3000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hw_cycles import cnn_case, digits_case

from snnhw.gateware.generate import write_linked
from snnhw.protocol import link
from snnhw.protocol.streams import encode_sample

#: events per EVENTS frame, as the host sends them (snnhw.host.session)
EVENTS_PER_FRAME = link.MAX_EVENTS


def frames_per_sample(x) -> float:
    """EVENTS frames a sample takes on average (the host's encoding)."""
    return sum(len(link.events_frames(encode_sample(s), EVENTS_PER_FRAME)) for s in x) / len(x)


def inference_cycles(net, x, lanes, core: str, work: Path) -> float:
    """Cycles per inference of the core alone (bulk Verilator testbench, back to back)."""
    from snntb.backend import SimBackend

    r = SimBackend("verilator", lanes=lanes, work=work, core=core).run(net, x)
    if not r.info.get("testbench_ok") or r.info.get("cycles") is None:
        raise RuntimeError(f"the bulk run of {net.name} failed: {r.info.get('errors')}")
    return r.info["cycles"] / len(x)


def link_run(net, x, lanes, core: str, clk_hz: float, baud: int, work: Path,
             inference: float) -> dict:
    """The board design at ``baud`` over the bit-level UART: its cycles and bytes (a reply
    may wait for the network: ``inference`` cycles a sample bound how long, ten times)."""
    from snntb.runner import run_case

    rtl = work / f"linked-{baud}"
    _, _, man = write_linked(net, lanes, rtl, clk_hz=clk_hz, baud=baud, core=core)
    r = run_case(net, x, rtl_dir=rtl, sim="verilator", work=work, name=f"link-{baud}",
                 test_module="snntb.cocotb_link",
                 extra={"divisor": man["divisor"], "events_per_frame": EVENTS_PER_FRAME,
                        "reply_timeout_cycles": int(10 * inference)})
    rep = r.report
    if not r.ok or rep.get("cycles") is None:
        raise RuntimeError(f"the link run of {net.name} at {baud} baud failed: "
                           f"{rep.get('problems') or rep.get('errors')}")
    return {"divisor": man["divisor"], "cycles": rep["cycles"],
            "host_bytes": rep["host_bytes"], "board_bytes": rep["board_bytes"],
            "sim_seconds": round(r.run_seconds, 1)}


def measure(name, net, x, source, *, lanes, core, clk_hz, bauds, turnaround_us, work) -> dict:
    t0 = time.perf_counter()
    n = len(x)
    inf = inference_cycles(net, x, lanes, core, work)
    frames = frames_per_sample(x)
    rows = []
    for baud in bauds:
        r = link_run(net, x, lanes, core, clk_hz, baud, work, inf)
        seconds = r["cycles"] / clk_hz / n                   # per sample, end to end
        wire = 10 * max(r["host_bytes"], r["board_bytes"]) / n / baud
        with_host = seconds + frames * turnaround_us * 1e-6
        rows.append({
            "baud": baud, "divisor": r["divisor"],
            "host_bytes_per_sample": r["host_bytes"] / n,
            "board_bytes_per_sample": r["board_bytes"] / n,
            "cycles_per_sample": r["cycles"] / n,
            "inferences_per_s": round(1 / seconds, 1),
            "wire_bound_per_s": round(1 / wire, 1),
            "link_share": round(seconds / (inf / clk_hz), 2),
            "inferences_per_s_with_turnaround": round(1 / with_host, 1),
            "sim_seconds": r["sim_seconds"],
        })
    return {"network": name, "source": source, "samples": n, "lanes": lanes, "core": core,
            "clock_mhz": clk_hz / 1e6, "frames_per_sample": frames,
            "inference_cycles": inf, "inference_only_per_s": round(clk_hz / inf, 1),
            "turnaround_us": turnaround_us, "rates": rows,
            "seconds": round(time.perf_counter() - t0, 1)}


def table(results: list[dict]) -> str:
    lines = ["| network | baud | bytes in / out per sample | end to end /s | wire bound /s | "
             "inference alone /s | end to end / inference | with a {t} µs host turnaround "
             "per frame /s |".format(t=results[0]["turnaround_us"] if results else 0),
             "|---|---|---|---|---|---|---|---|"]
    for res in results:
        for r in res["rates"]:
            lines.append(
                f"| {res['network']} | {r['baud']:,} | {r['host_bytes_per_sample']:,.0f} / "
                f"{r['board_bytes_per_sample']:,.0f} | {r['inferences_per_s']:,.1f} | "
                f"{r['wire_bound_per_s']:,.1f} | {res['inference_only_per_s']:,.1f} | "
                f"{r['link_share']:,.1f}x | {r['inferences_per_s_with_turnaround']:,.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="icebreaker", help="whose default rate (%(default)s)")
    ap.add_argument("--clock-mhz", type=float, default=30.0,
                    help="the design clock (%(default)s, the iCEBreaker's PLL rate)")
    ap.add_argument("--bauds", default="115200,default",
                    help="comma separated rates; 'default' is the board's (%(default)s)")
    ap.add_argument("--only", default="digits,mnist1d-cnn", help="(%(default)s)")
    ap.add_argument("--digits", default="out/digits.snn")
    ap.add_argument("--cnn", default="out/cnn/mnist1d.snn")
    ap.add_argument("--lanes", default="2",
                    help="one for every layer, or one per layer (%(default)s)")
    ap.add_argument("--core", default="pipeline", choices=["pipeline", "serial"])
    ap.add_argument("--samples", type=int, default=10, help="per network (%(default)s)")
    ap.add_argument("--turnaround-us", type=float, default=1000.0,
                    help="host turnaround per frame for the last column (%(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from snnboards.platforms import board

    spec = board(args.board)
    lanes = [int(p) for p in args.lanes.split(",")]
    clk_hz = args.clock_mhz * 1e6
    bauds = [spec.default_baud(clk_hz) if b == "default" else int(b)
             for b in args.bauds.split(",")]
    cases = {"digits": lambda: digits_case(args.digits, args.samples),
             "mnist1d-cnn": lambda: cnn_case("mnist1d", args.cnn, args.samples)}
    results = []
    with tempfile.TemporaryDirectory(prefix="snnhw-link-rate-") as tmp:
        for name in args.only.split(","):
            net, x, source = cases[name]()
            net_lanes = lanes[0] if len(lanes) == 1 else lanes
            results.append(measure(name, net, x, source, lanes=net_lanes, core=args.core,
                                   clk_hz=clk_hz, bauds=bauds, turnaround_us=args.turnaround_us,
                                   work=Path(tmp) / name))
            if not args.json:
                print(f"{name}: {source}, {len(x)} samples, {results[-1]['seconds']} s",
                      file=sys.stderr)
    if args.json:
        print(json.dumps({"board": spec.name, "clock_mhz": args.clock_mhz, "results": results}))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
