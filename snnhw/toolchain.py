"""Locating and running the open FPGA tools (YoWASP builds from PyPI by default).

Each tool can be overridden by an environment variable, the same names Amaranth's
board builds read: ``YOSYS`` and each family's place-and-route and pack tools
(:attr:`snnhw.families.base.Family.tools`: ``NEXTPNR_ICE40``, ``ICEPACK``,
``NEXTPNR_ECP5``, ``ECPPACK``, ``NEXTPNR_HIMBAECHEL``, ``GOWIN_PACK``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import SnnhwError
from .families import FAMILIES

__all__ = ["ToolError", "tool", "run_yosys", "synth_stats", "cell_counts", "memory_map",
           "TOOL_DEFAULTS"]

TOOL_DEFAULTS = {var: cmd for fam in FAMILIES.values() for var, cmd in fam.tools}


class ToolError(SnnhwError, RuntimeError):
    """A tool is missing or failed; the message says which and why."""


def tool(var: str) -> str:
    """Path of the tool named by environment variable ``var`` (or its YoWASP default)."""
    name = os.environ.get(var, TOOL_DEFAULTS[var])
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise ToolError(f"{name} not found (set {var}, or install the YoWASP package)")
    return found


def run_yosys(script: str, *, cwd: str | Path, log: str = "yosys.log") -> None:
    """Run a Yosys script; raise :class:`ToolError` with the log's tail on failure."""
    cmd = [tool("YOSYS"), "-q", "-l", log, "-p", script]
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = (Path(cwd) / log).read_text()[-2000:] if (Path(cwd) / log).exists() else r.stderr
        raise ToolError(f"yosys failed ({r.returncode}):\n{tail}")


def cell_counts(stat_json: Path, top: str) -> dict[str, int]:
    data = json.loads(Path(stat_json).read_text())
    module = data["modules"].get("\\" + top) or next(iter(data["modules"].values()))
    return dict(module.get("num_cells_by_type", {}))


def synth_stats(verilog: str | Path, top: str, family: str) -> dict[str, dict[str, int]]:
    """Cell counts of ``verilog`` before tech mapping and after ``synth_<family>``.

    Returns ``{"generic": {...}, "mapped": {...}}``; ``generic`` is after
    ``proc; flatten; opt`` (where a ``*`` would show as ``$mul``).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    with tempfile.TemporaryDirectory() as tmp:
        # YoWASP tools see only their working directory: work on a copy there
        shutil.copy(verilog, Path(tmp) / "design.v")
        run_yosys(f"read_verilog design.v; hierarchy -top {top}; proc; flatten; opt; "
                  "tee -q -o generic.json stat -json; "
                  f"synth_{family} -top {top}; tee -q -o mapped.json stat -json", cwd=tmp)
        return {"generic": cell_counts(Path(tmp) / "generic.json", top),
                "mapped": cell_counts(Path(tmp) / "mapped.json", top)}


def memory_map(verilog: str | Path, top: str) -> dict[str, tuple[int, int]]:
    """Every memory Yosys finds in ``verilog``: ``{path: (depth, width)}``.

    The path is the memory's place in the hierarchy below ``top``
    (``core.layer0.syn.acc``), read from Yosys's ``$mem_v2`` cells after
    ``proc -norom; memory_collect`` (before any optimisation or mapping; ``-norom``
    keeps Yosys from turning case statements into tables of its own).
    """
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(verilog, Path(tmp) / "design.v")
        run_yosys(f"read_verilog design.v; hierarchy -top {top}; proc -norom; memory_collect; "
                  "write_json -noscopeinfo mem.json", cwd=tmp)
        data = json.loads((Path(tmp) / "mem.json").read_text())
    out = {}
    for name, module in data["modules"].items():
        scope = name.lstrip("\\")
        scope = "" if scope == top else scope.removeprefix(top + ".")
        for cell in module.get("cells", {}).values():
            if cell["type"] != "$mem_v2":
                continue
            p = cell["parameters"]
            memid = p["MEMID"].lstrip("\\")
            out[f"{scope}.{memid}" if scope else memid] = (int(p["SIZE"], 2), int(p["WIDTH"], 2))
    return out
