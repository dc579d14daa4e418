"""Verilog and its manifest for a network IR (``snnhw generate``).

The same IR and parameters give byte-identical files: Amaranth is run with
``emit_src=False`` (no source paths in the output) and the manifest holds no
timestamps.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from amaranth.back import verilog

from ..families import ICE40
from ..ir import Network
from ..protocol.streams import index_width
from ..util import write_text_atomic
from . import cycles
from .cores import make_core
from .kinds import kind
from .layouts import result_width
from .network import SNNCore

__all__ = ["RTL_FORMAT", "generate_verilog", "manifest", "write"]

RTL_FORMAT = "snnhw-rtl"
RTL_VERSION = 1


def generate_verilog(net: Network, lanes, top: str = "snn_top",
                     core: str = "pipeline") -> tuple[str, SNNCore]:
    """Verilog text of the whole network and the elaborated core object. A Yosys that
    fails (it runs as a separate process: out of memory, a file size limit, a full
    disk) is a :class:`~snnhw.toolchain.ToolError` with its last line."""
    from amaranth._toolchain.yosys import YosysError

    from ..toolchain import ToolError

    c = make_core(net, lanes, core)
    try:
        return verilog.convert(c, name=top, emit_src=False), c
    except YosysError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        raise ToolError("the Verilog conversion (Yosys) failed: "
                        + (lines[-1] if lines else "no message")) from None


def _fields(*items):
    out, offset = [], 0
    for name, width, is_signed in items:
        out.append({"name": name, "offset": offset, "width": width, "signed": is_signed})
        offset += width
    return out


def _serial_layers(core) -> tuple[list, dict]:
    """The serial core's layers and shared memories, for the manifest."""
    p = core.plan
    layers = [{"kind": ly.kind, "n_in": ly.n_in, "n_out": ly.n_out, "lanes": p.lanes,
               "groups": g, "weight_base": wb, "bias_base": bb,
               "membrane_base": mb if f else None,
               "role": "hidden" if i < len(p.groups) - 1 else p.net.readout}
              for i, (ly, g, wb, bb, mb, f) in enumerate(zip(
                  p.net.layers, p.groups, p.w_base, p.b_base, p.m_base, p.fires))]
    for rec, w, sb in zip(layers, p.walks, p.s_base):
        if w.conv:
            rec.update(channel_groups=w.cgroups, positions=w.positions, walk_start_base=sb)
    return layers, {m.name.split(".", 1)[1]: m.as_dict() for m in p.memories()}


def manifest(net: Network, core: SNNCore, top: str, verilog_file: str) -> dict:
    """Everything a testbench or board top needs to drive the generated module."""
    from .serial import SerialCore

    serial = isinstance(core, SerialCore)
    logit_bits = core.plan.readout.logit_bits if serial else core.plan.layers[-1].logit_bits
    rw = result_width(logit_bits, net.n_out)
    extra = {"core": "serial" if serial else "pipeline"}
    if serial:
        layers, extra["memories"] = _serial_layers(core)
    else:
        layers = _pipeline_layers(core)
    return {**_manifest_head(net, core, top, verilog_file, logit_bits, rw, layers), **extra}


def _pipeline_layers(core) -> list:
    layers = []
    for lp in core.plan.layers:
        mem = {m.role: {"name": f"layer{lp.index}.{m.name}", "words": m.depth,
                        "width": m.width, "kind": m.kind} for m in lp.memories}
        entry = {"kind": lp.kind, "n_in": lp.n_in, "n_out": lp.n_out,
                 "lanes": lp.lanes, "groups": lp.groups, "acc_width": lp.acc_width,
                 "max_walk": lp.max_walk, "role": lp.readout or "hidden", "memories": mem,
                 **kind(lp.kind).manifest_fields(lp)}
        layers.append(entry)
    return layers


def _manifest_head(net, core, top, verilog_file, logit_bits, rw, layers) -> dict:
    return {
        "format": RTL_FORMAT,
        "version": RTL_VERSION,
        "ir_hash": net.content_hash(),
        "network": net.name,
        "top": top,
        "verilog": verilog_file,
        "amaranth": metadata.version("amaranth"),
        "lanes": core.lanes,
        "timesteps": net.timesteps,
        "readout": net.readout,
        "n_in": net.n_in,
        "n_out": net.n_out,
        "in_bits": net.in_bits,
        "logit_bits": logit_bits,
        "ports": {
            "clk": {"dir": "in", "width": 1},
            "rst": {"dir": "in", "width": 1, "note": "synchronous, active high"},
            "clear": {"dir": "in", "width": 1, "note": "one-cycle pulse aborts the sample"},
            "i__valid": {"dir": "in", "width": 1},
            "i__ready": {"dir": "out", "width": 1},
            "i__payload": {"dir": "in", "width": index_width(net.n_in) + net.in_bits + 1,
                           "fields": _fields(("index", index_width(net.n_in), False),
                                             ("value", net.in_bits, False), ("eos", 1, False))},
            "o__valid": {"dir": "out", "width": 1},
            "o__ready": {"dir": "in", "width": 1},
            "o__payload": {"dir": "out", "width": rw + 2,
                           "fields": _fields(("value", rw, True), ("is_class", 1, False),
                                             ("last", 1, False))},
        },
        "layers": layers,
        "cycles": {"formula": cycles.formula_text(), "step_overhead": cycles.STEP_OVERHEAD,
                   "link_latency": cycles.LINK_LATENCY, "fixed_latency": cycles.FIXED_LATENCY},
    }


def write(net: Network, lanes, out_dir, *, top: str = "snn_top",
          core: str = "pipeline") -> tuple[Path, Path, dict]:
    """Write ``<top>.v`` and ``<top>.json`` into ``out_dir``; return paths and manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text, core = generate_verilog(net, lanes, top, core)
    v_path = out / f"{top}.v"
    write_text_atomic(v_path, text)
    man = manifest(net, core, top, v_path.name)
    m_path = out / f"{top}.json"
    write_text_atomic(m_path, json.dumps(man, indent=1, sort_keys=True) + "\n")
    return v_path, m_path, man


def write_linked(net: Network, lanes, out_dir, *, clk_hz: float, baud: int,
                 top: str = "snn_linked", weights: dict | None = None,
                 bank_words: int | None = None,
                 core: str = "pipeline") -> tuple[Path, Path, dict]:
    """Verilog of the board-level design (UART + host link + network) and its manifest.

    Ports: ``clk``, ``rst``, ``rx``, ``tx``, ``led_activity``, ``led_error``.
    ``weights``: ``{layer: "ram" | "spram"}`` for weights loaded by the host; with
    ``"spram"`` the simulation model of ``SB_SPRAM256KA`` (from Yosys's iCE40
    cell library) is written next to the design and listed in ``sources``;
    a small ``bank_words`` spreads a small memory over several banks (SPRAM
    blocks, block RAMs) to exercise the bank select in simulation. ``core``: the core
    around which the design is built (:data:`~snnhw.gateware.cores.CORES`; the serial
    core loads all layers or none).
    """
    from .linked import LinkedNetwork

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    design = LinkedNetwork(net, lanes=lanes, clk_hz=clk_hz, baud=baud, weights=weights,
                           bank_words=bank_words, core=core)
    text = verilog.convert(design, name=top, emit_src=False)
    v_path = out / f"{top}.v"
    write_text_atomic(v_path, text)
    sources = []
    if "spram" in (weights or {}).values():
        cell = out / f"{ICE40.spram_cell}.v"
        write_text_atomic(cell, ICE40.cell_model(ICE40.spram_cell))
        sources.append(cell.name)
    man = {"format": RTL_FORMAT + "-linked", "version": RTL_VERSION, "top": top,
           "verilog": v_path.name, "ir_hash": net.content_hash(), "clk_hz": clk_hz,
           "baud": baud, "divisor": design.divisor, "timeout_cycles": design.link.timeout,
           "lanes": lanes, "sources": sources, "core": core,
           "weights_loaded": sorted(design.core.loaded)}
    m_path = out / f"{top}.json"
    write_text_atomic(m_path, json.dumps(man, indent=1, sort_keys=True) + "\n")
    return v_path, m_path, man
