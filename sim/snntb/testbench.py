"""The assembled testbench: clock, reset, source, monitors, backpressure, model, checker."""

from __future__ import annotations

import numpy as np
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, RisingEdge

from snnhw.ir import Network
from snnhw.protocol.streams import Event, Result, encode_batch, encode_sample, pauses

from .bulk import cycle_budget
from .bus import ReadyDriver, StreamMonitor, StreamSource
from .checker import Checker
from .model import Model

__all__ = ["Testbench", "Layout"]

CLOCK_NS = 10


class Layout:
    """Packs events and unpacks results with the bit fields of the RTL manifest."""

    def __init__(self, manifest: dict):
        self.i = {f["name"]: f for f in manifest["ports"]["i__payload"]["fields"]}
        self.o = {f["name"]: f for f in manifest["ports"]["o__payload"]["fields"]}

    def pack(self, e: Event) -> int:
        f = self.i
        return (e.index << f["index"]["offset"]) | (e.value << f["value"]["offset"]) | (
            e.eos << f["eos"]["offset"])

    def unpack(self, word: int) -> Result:
        f = self.o

        def field(name):
            spec = f[name]
            v = (word >> spec["offset"]) & ((1 << spec["width"]) - 1)
            if spec["signed"] and v >> (spec["width"] - 1):
                v -= 1 << spec["width"]
            return v
        return Result(field("value"), field("is_class"), field("last"))


class Testbench:
    """Runs samples through the DUT and checks every result.

    Parameters
    ----------
    dut : the cocotb handle of the generated top
    net : snnhw.ir.Network
    manifest : dict (the RTL manifest written by ``snnhw generate``)
    in_pauses, out_pauses : str
        :data:`snnhw.protocol.streams.PAUSE_PATTERNS` for the input stream (idle
        cycles) and the output stream (backpressure).
    seed : int
    """

    def __init__(self, dut, net: Network, manifest: dict, *, in_pauses="none",
                 out_pauses="none", seed=0, lanes=None, progress_path=None):
        self.dut, self.net, self.lanes = dut, net, lanes or manifest["lanes"]
        self.layout = Layout(manifest)
        self.checker = Checker(net.n_out, len(net.layers))
        self.model = Model(net).add_callback(self.checker.expect)
        self.in_pauses, self.out_pauses, self.seed = in_pauses, out_pauses, seed
        self.first_in = None
        self.last_out = None
        self.progress_path = progress_path

    def _on_input(self, word: int) -> None:
        f = self.layout.i
        e = Event((word >> f["index"]["offset"]) & ((1 << f["index"]["width"]) - 1),
                  (word >> f["value"]["offset"]) & ((1 << f["value"]["width"]) - 1),
                  (word >> f["eos"]["offset"]) & 1)
        if self.first_in is None:
            self.first_in = get_sim_time("ns")
        self.model.observe(e)

    def _on_output(self, word: int) -> None:
        self.last_out = get_sim_time("ns")
        beat = self.layout.unpack(word)
        self.checker.observe(beat)
        if beat.is_class and self.progress_path and len(self.checker.classes) % 8 == 0:
            with open(self.progress_path, "w") as f:
                f.write(str(len(self.checker.classes)))

    async def start(self) -> None:
        dut = self.dut
        Clock(dut.clk, CLOCK_NS, unit="ns").start()
        dut.clear.value = 0
        dut.rst.value = 1
        dut.i__valid.value = 0
        dut.o__ready.value = 0
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        self.source = StreamSource(dut.clk, dut.i__valid, dut.i__ready, dut.i__payload,
                                   self.layout.pack, pauses(self.in_pauses, self.seed),
                                   name="source.i").start()
        self.in_mon = StreamMonitor(dut.clk, dut.i__valid, dut.i__ready, dut.i__payload,
                                    name="monitor.i").add_callback(self._on_input).start()
        self.out_mon = StreamMonitor(dut.clk, dut.o__valid, dut.o__ready, dut.o__payload,
                                     name="monitor.o").add_callback(self._on_output).start()
        self.ready = ReadyDriver(dut.clk, dut.o__ready, pauses(self.out_pauses, self.seed + 1),
                                 name="ready.o").start()

    def stop(self) -> None:
        """Stop every driver and monitor (the DUT's inputs go idle)."""
        for part in (self.source, self.in_mon, self.out_mon, self.ready):
            part.stop()

    async def clear(self) -> None:
        """Pulse ``clear`` once every queued event has gone in; drop the partial sample."""
        await self.source.wait_idle()
        await RisingEdge(self.dut.clk)
        self.dut.clear.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.clear.value = 0
        self.model.discard_partial()

    def budget(self, x) -> int:
        """Cycles allowed for ``x`` (:func:`snntb.bulk.cycle_budget`)."""
        return cycle_budget(self.net, self.lanes, x, self.in_pauses, self.out_pauses)

    async def run(self, x, *, clear_after: int | None = None, tail: int = 200) -> dict:
        """Send ``x[batch, T, n_in]`` (optionally first ``clear_after`` events, then a clear,
        then all of it) and wait for every result; return a JSON-ready report."""
        x = np.asarray(x, dtype=np.int64)
        if clear_after is not None:
            cut = encode_sample(x[0])[:clear_after]
            self.source.send(cut)
            await self.clear()
        self.source.send(encode_batch(x))
        budget = self.budget(x)
        waited = 0
        while (len(self.checker.classes) < len(x)) and waited < budget:
            await ClockCycles(self.dut.clk, 32)
            waited += 32
        await ClockCycles(self.dut.clk, tail)  # anything extra would be a duplicate
        timed_out = len(self.checker.classes) < len(x)
        self.stop()
        c = self.checker
        return {
            "samples": len(x),
            "results": len(c.classes),
            "matched": c.matched,
            "logits": c.logits,
            "classes": c.classes,
            "first_mismatch": c.first_mismatch,
            "errors": c.errors + self.model.errors
            + ([f"timed out after {waited} cycles"] if timed_out else []),
            "missing": c.missing(),
            "cycles": None if self.first_in is None or self.last_out is None
            else round((self.last_out - self.first_in) / CLOCK_NS),
            "ok": c.ok and not self.model.errors and not timed_out and len(c.classes) == len(x),
        }
