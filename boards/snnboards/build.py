"""Build a network for a board with Yosys + nextpnr + pack (YoWASP) and report on it.

The report (JSON and a table) gives LUTs, flip-flops, logic cells, block RAM,
SPRAM (UP5K), DSP blocks (must be 0), IO, and per clock the achieved Fmax
against the board clock (pass/fail), plus the build time.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from snnhw.gateware.collision import YOSYS_COMMANDS as COLLISION_COMMANDS
from snnhw.gateware.encoding import YOSYS_COMMANDS as ENCODING_COMMANDS
from snnhw.ir import Network
from snnhw.toolchain import ToolError, tool
from snnhw.util import write_text_atomic

from .errors import BuildError
from .estimate import check_fit, estimate, place_weights
from .platforms import board as get_board
from .top import BoardTop

__all__ = ["build", "BuildError", "format_report", "parse_reports"]

NAME = "snn_board"

def synth_options(spec, est: dict) -> str:
    """Extra ``synth_<family>`` options for a design of estimate ``est`` on ``spec``
    (:meth:`snnhw.families.base.Family.synth_options`)."""
    return spec.family.synth_options(est["lc"], spec.capacity["lc"])


def _tool_env(fam) -> dict[str, str]:
    env = {var: tool(var) for var, _ in fam.tools}
    # Programming tools the platforms insist on even when only building.
    env.setdefault("OPENFPGALOADER", os.environ.get("OPENFPGALOADER", "true"))
    env.setdefault("DFU_SUFFIX", os.environ.get("DFU_SUFFIX", "true"))
    return env


def _cells(stat_path: Path) -> dict[str, int]:
    data = json.loads(stat_path.read_text())
    mods = data.get("modules", {})
    top = mods.get("\\" + NAME) or (next(iter(mods.values())) if mods else {})
    return dict(top.get("num_cells_by_type", {}))


def parse_reports(build_dir: Path, fam, clk_hz: float) -> dict:
    """Resources and timing from nextpnr's ``report.json`` and Yosys's cell counts, by
    family ``fam``'s cell names (:class:`~snnhw.families.base.ReportNames`)."""
    rep = json.loads((build_dir / "report.json").read_text())
    util = {k: v for k, v in rep.get("utilization", {}).items()}
    cells = _cells(build_dir / "synth_stat.json") if (build_dir / "synth_stat.json").exists() \
        else {}

    def used(*names):
        return sum(util.get(n, {}).get("used", 0) for n in names)

    def avail(*names):
        return sum(util.get(n, {}).get("available", 0) for n in names)

    names = fam.report
    luts = sum(cells.get(n, 0) for n in names.luts)
    ffs = sum(v for k, v in cells.items() if k.startswith(names.ff_prefixes))
    res = {"lc": (used(*names.lc), avail(*names.lc[:1])),
           "bram": (used(*names.bram), avail(*names.bram)),
           **({"spram": (used(*names.spram), avail(*names.spram))} if names.spram else {}),
           "dsp": (used(*names.dsp), avail(*names.dsp[:1])),
           "io": (used(*names.io), avail(*names.io))}
    target = clk_hz / 1e6
    clocks = {}
    for name, f in rep.get("fmax", {}).items():
        clocks[name] = {"fmax_mhz": round(f.get("achieved", 0.0), 2),
                        "target_mhz": round(f.get("constraint", target), 2),
                        "meets": f.get("achieved", 0.0) >= f.get("constraint", target)}
    return {
        "luts": luts, "ffs": ffs,
        "resources": {k: {"used": u, "available": a} for k, (u, a) in res.items()},
        "clocks": clocks,
        "timing_met": bool(clocks) and all(c["meets"] for c in clocks.values()),
        "dsp_used": res["dsp"][0],
    }


def tool_error(build_dir: Path) -> str | None:
    """The first ``ERROR:`` line of nextpnr's log (``*.tim``) or Yosys's (``*.rpt``),
    e.g. a placement that does not fit, or ``None``."""
    for log in sorted(build_dir.glob("*.tim")) + sorted(build_dir.glob("*.rpt")):
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("ERROR:"):
                return " ".join(line.split())
    return None


def clock_config(spec, clock_mhz: float | None):
    """``None`` for the board clock, else the PLL setting for ``clock_mhz``."""
    if clock_mhz is None or clock_mhz * 1e6 == spec.clk_hz:
        return None
    return spec.family.pll(spec.clk_hz, clock_mhz * 1e6, spec.device)


def build(net: Network, board_name: str, *, lanes=8, baud: int | None = None,
          out_dir: str | Path = "out/build", progress: bool = False,
          fit_check: bool = True, clock_mhz: float | None = None,
          weights: str = "auto", seed: int = 1, core: str = "pipeline") -> dict:
    """Build ``net`` for ``board_name``; return the report (also written as JSON).

    ``clock_mhz``: run the design from a PLL at this rate (the nearest the PLL
    can make; the report gives the exact value) instead of the board clock.
    ``weights``: ``"auto"``, ``"bram"`` or ``"spram"``
    (:func:`snnboards.estimate.place_weights`); layers whose weights end up in
    SPRAM are listed in the report's ``weights_loaded``: the host loads them.
    ``baud``: the UART rate (default: the fastest the board's USB bridge takes that
    the design clock makes within 1 %, :meth:`~snnboards.platforms.Board.default_baud`).
    ``seed``: nextpnr's placement seed. ``core``: ``"pipeline"`` (a processing element
    per layer) or ``"serial"`` (one for all layers, :mod:`snnhw.gateware.serial`) or ``"auto"`` (the
    pipeline core when the estimate says it fits, else the serial core).
    """
    spec = get_board(board_name)
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise BuildError(f"build folder {out} is a file")
    pll = clock_config(spec, clock_mhz)
    clk_hz = pll.f_out if pll is not None else spec.clk_hz
    if core == "auto":      # the pipeline core when it fits, else the serial core
        core = estimate(net, spec.name, lanes=lanes, clk_hz=clk_hz, weights=weights,
                        core="auto")["core"]
    placed = place_weights(net, lanes, spec, weights, core=core)
    est = estimate(net, spec.name, lanes=lanes, clk_hz=clk_hz, weights=placed, core=core)
    ps = est["lanes"]  # one per layer
    if fit_check:
        check_fit(est, spec)  # raises BuildError naming the resource, before place and route
    try:
        env = _tool_env(spec.family)
    except ToolError as exc:
        raise BuildError(str(exc)) from None
    try:   # made only once the design is known to fit and the tools are there
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create the build folder {out}: {exc.strerror or exc}") from None
    synth = synth_options(spec, est)
    plat = spec.make_platform()
    top = BoardTop(net, spec, lanes=ps if core == "pipeline" else ps[0], baud=baud, pll=pll,
                   weights=placed, core=core)
    t0 = time.perf_counter()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    stop = threading.Event()
    bar = None
    if progress and sys.stderr.isatty():   # no bar redrawn into pipes and logs
        from tqdm.auto import tqdm
        bar = tqdm(desc=f"build {spec.name} (yosys, nextpnr, pack)", bar_format="{desc}: {elapsed}")

        def tick():
            while not stop.wait(1.0):
                bar.refresh()
        threading.Thread(target=tick, daemon=True).start()
    try:
        plat.build(top, name=NAME, build_dir=str(out), do_program=False,
                   # a timing failure still gives a report (and a non-zero exit)
                   nextpnr_opts=f"--report report.json --timing-allow-fail --seed {int(seed)} "
                                + spec.family.nextpnr_options(clk_hz),
                   synth_opts=synth,
                   # memories whose same-cycle read of a written word is never used;
                   # the state machines encoded one-hot
                   script_after_read=f"{COLLISION_COMMANDS}; {ENCODING_COMMANDS}",
                   script_after_synth="tee -q -o synth_stat.json stat -json")
    except Exception as exc:  # amaranth raises CalledProcessError and others
        logs = [p.name for p in sorted(out.glob("*.tim")) + sorted(out.glob("*.rpt"))
                + sorted(out.glob("*.log"))]
        why = tool_error(out)
        raise BuildError(f"the {spec.name} build failed ("
                         + (why if why else f"{type(exc).__name__}: {exc}")
                         + f"); see {out} ({', '.join(logs) or 'no log written'})") from None
    finally:
        stop.set()
        if bar is not None:
            bar.close()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - t0
    report = parse_reports(out, spec.family, clk_hz)
    bitstream = out / (NAME + spec.family.bitstream_suffix)
    report.update({
        "board": spec.name, "description": spec.description, "network": net.name,
        "ir_hash": net.content_hash(), "lanes": ps, "baud": top.baud, "seed": int(seed),
        "core": core,
        "weights_loaded": sorted(placed),
        "clock_mhz": round(clk_hz / 1e6, 4), "board_clock_mhz": spec.clk_hz / 1e6,
        "pll": None if pll is None else {"f_vco_mhz": round(pll.f_vco / 1e6, 3), **pll.params},
        "build_seconds": round(seconds, 1), "synth_opts": synth,
        "bitstream": str(bitstream) if bitstream.exists() else None,
        "estimate": est, "fits": True,
    })
    write_text_atomic(out / "build_report.json",
                      json.dumps(report, indent=1, sort_keys=True) + "\n")
    return report


def format_report(r: dict) -> str:
    from snnhw.util import format_table

    rows = [[k, v["used"], v["available"],
             f"{100 * v['used'] / v['available']:.1f} %" if v["available"] else "-"]
            for k, v in r["resources"].items()]
    rows.insert(0, ["luts (yosys)", r["luts"], "", ""])
    rows.insert(1, ["ffs (yosys)", r["ffs"], "", ""])
    lines = [f"{r['board']}: {r['description']}",
             format_table(rows, ["resource", "used", "available", "share"]), ""]
    for name, c in r["clocks"].items():
        lines.append(f"clock {name}: Fmax {c['fmax_mhz']} MHz, constraint {c['target_mhz']} MHz: "
                     f"{'met' if c['meets'] else 'NOT met'}")
    src = "board oscillator" if r.get("pll") is None else f"PLL from {r['board_clock_mhz']:g} MHz"
    lines.append(f"design clock {r['clock_mhz']:g} MHz ({src}); UART {r['baud']:,} baud "
                 "(the host takes the rate from this folder's build_report.json)")
    lines.append(f"DSP blocks: {r['dsp_used']} (must be 0); build {r['build_seconds']} s; "
                 f"bitstream {r['bitstream']}")
    if r.get("weights_loaded"):
        layers = ", ".join(str(k) for k in r["weights_loaded"])
        lines.append(f"weights of layer(s) {layers} are in SPRAM: the host loads them "
                     "(snnhw verify --backend board --build <this folder> does)")
    return "\n".join(lines)

