"""The simulator backend of co-verification: generated RTL run by cocotb or by the
bulk testbench (:mod:`snntb.bulk`).

Same interface as the board backend (:class:`snnhw.verify.coverify.Backend`):
``run(net, x, progress) -> BackendResult``.
"""

from __future__ import annotations

from pathlib import Path

from snnhw.verify.backend import BackendResult

from .bulk import cycle_budget, run_bulk
from .runner import rtl_manifest, run_case

__all__ = ["SimBackend", "ENGINES"]

ENGINES = ("bulk", "cocotb")


class SimBackend:
    """Run samples through ``snnhw generate``'s Verilog on Verilator or Icarus.

    Parameters
    ----------
    sim : "verilator" or "icarus"
    lanes : int or list
        Used when the RTL has to be generated.
    rtl_dir : path or None
        Existing generated RTL (its manifest must carry the network's IR hash);
        ``None`` generates into ``work/rtl-<hash>-<lanes>-<core>`` (on every run).
    work : path
        Build and case directories.
    engine : "bulk" or "cocotb"
        The bulk testbench (the simulator's own speed; results compared afterwards)
        or the cocotb testbench (every beat checked as it happens; waveforms).
    core : "pipeline" or "serial"
        The core generated when ``rtl_dir`` is ``None`` (:data:`snnhw.gateware.cores.CORES`);
        given RTL says its own in its manifest.
    """

    def __init__(self, sim: str = "verilator", *, lanes=8, rtl_dir=None, work="out/sim",
                 in_pauses="none", out_pauses="none", seed=0, waves=False, engine="bulk",
                 core="pipeline"):
        self.core = core
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if waves and engine != "cocotb":
            raise ValueError("waveforms come from the cocotb engine (--engine cocotb)")
        self.engine = engine
        self.sim, self.lanes, self.rtl_dir, self.work = sim, lanes, rtl_dir, Path(work)
        self.in_pauses, self.out_pauses, self.seed, self.waves = in_pauses, out_pauses, seed, waves
        self.name = sim

    def _rtl(self, net) -> Path:
        if self.rtl_dir is not None:
            return Path(self.rtl_dir)
        from snnhw.gateware.generate import write

        lanes = "-".join(map(str, self.lanes)) if isinstance(self.lanes, list) else self.lanes
        out = self.work / f"rtl-{net.content_hash()[:12]}-lanes{lanes}-{self.core}"
        # generated every time: RTL left there by another version of the generator must
        # not stand in for this one's (the simulator's build is keyed by the Verilog's
        # content, so unchanged Verilog is not rebuilt)
        write(net, self.lanes, out, core=self.core)
        return out

    def run(self, net, x, progress=None) -> BackendResult:
        if self.engine == "bulk":
            return self._run_bulk(net, x, progress)
        r = run_case(net, x, rtl_dir=self._rtl(net), sim=self.sim, work=self.work,
                     in_pauses=self.in_pauses, out_pauses=self.out_pauses, seed=self.seed,
                     waves=self.waves, name="verify", progress=progress)
        rep = r.report
        return BackendResult(
            logits=rep.get("logits", []), classes=rep.get("classes", []),
            info={"simulator": self.sim, "build_seconds": round(r.build_seconds, 2),
                  "run_seconds": round(r.run_seconds, 2), "cycles": rep.get("cycles"),
                  "testbench_ok": r.ok, "errors": rep.get("errors", [])[:5],
                  "missing": rep.get("missing"), "engine": "cocotb"})

    def _run_bulk(self, net, x, progress) -> BackendResult:
        rtl = self._rtl(net)
        _, manifest = rtl_manifest(rtl, net)
        budget = cycle_budget(net, manifest["lanes"], x, self.in_pauses, self.out_pauses,
                              core=manifest.get("core", "pipeline"))
        r = run_bulk(rtl, x, sim=self.sim, work=self.work, in_pauses=self.in_pauses,
                     out_pauses=self.out_pauses, seed=self.seed, max_cycles=budget,
                     progress=progress)
        missing = len(x) - len(r.classes)
        return BackendResult(
            logits=r.logits, classes=r.classes,
            info={"simulator": self.sim, "build_seconds": round(r.build_seconds, 2),
                  "run_seconds": round(r.run_seconds, 2), "cycles": r.cycles,
                  "simulated_cycles": r.simulated_cycles,
                  "testbench_ok": r.ok, "errors": r.errors[:5],
                  "missing": max(missing, 0), "engine": "bulk"})
