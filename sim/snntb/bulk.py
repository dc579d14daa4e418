"""Bulk co-verification: a generated SystemVerilog testbench, no Python per cycle.

cocotb hands every clock edge to Python (about 30,000 cycles/s); long
regressions want the simulator's own speed. This engine writes the
stimulus to files, runs a plain SystemVerilog testbench that streams it
through the generated design, and reads back what came out; Python then
compares the results with the golden model (:func:`snnhw.verify.coverify.coverify`,
which names the first mismatch as for cocotb).

Files the testbench reads (written by :func:`write_stimulus`):

* ``stim.hex``: every input beat's payload word, one hex word per line
  (``encode_batch`` order: per step the non-zero inputs, then the marker);
* ``pause_in.mem`` / ``pause_out.mem``: :data:`PAUSE_PERIOD` bits each, the
  first values of :func:`snnhw.protocol.streams.pauses` for the input and
  output stream (seeds ``seed`` and ``seed + 1``, as the cocotb testbench
  uses), repeated. The source takes a pause bit whenever it could start a
  beat (it never drops ``valid`` before a transfer); ``o.ready`` takes one
  every cycle, as :class:`snntb.bus.ReadyDriver` does.

It writes ``out.hex`` (the payload of every output transfer),
``summary.txt`` (results, cycles from the first input transfer to the last
output transfer, timeout flag) and ``progress`` (results so far, every 64).
After the last expected result it runs ``TAIL`` more cycles so that a
duplicated result would be seen; it stops with a timeout after
``+max_cycles`` (the cycle model's bound times the pause margin).

Simulators: Verilator (the testbench compiled with a C++ loop that toggles
the clock: no timing scheduler, about 1.4 M cycles/s for the digits network)
and Icarus (``-g2012``, a Verilog clock; slow, for small cases).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnhw.gateware import cycles
from snnhw.protocol.streams import Result, decode_results, pauses

from .runner import SimulatorMissingError, icarus_source, simulator_available, simulator_env

__all__ = ["PAUSE_PERIOD", "TAIL", "BulkResult", "testbench_source", "stimulus_words",
           "write_stimulus", "build_bulk", "run_bulk", "cycle_budget"]

PAUSE_PERIOD = 1 << 16
TAIL = 200
TOP = "snn_bulk_tb"

_TB = """\
// Bulk testbench for {top}: stimulus and stall patterns from files, results to a file.
`timescale 1ns/1ps
module {tb}(input clk);
  localparam IW = {iw}, OW = {ow}, CLASS_BIT = {class_bit}, PN = {pn}, TAIL = {tail};
  reg rst = 1'b1, clear = 1'b0;
  reg i_valid = 1'b0;
  reg [IW-1:0] i_payload = {{IW{{1'b0}}}};
  wire i_ready;
  reg o_ready = 1'b0;
  wire o_valid;
  wire [OW-1:0] o_payload;
  {top} dut(.clk(clk), .rst(rst), .clear(clear), .i__valid(i_valid), .i__ready(i_ready),
           .i__payload(i_payload), .o__valid(o_valid), .o__ready(o_ready),
           .o__payload(o_payload));

  reg pause_in [0:PN-1];
  reg pause_out [0:PN-1];
  string dir;
  integer fin, fout, rc, samples, results, tail_left;
  longint max_cycles, cycle, first_in, last_out, sent, received;
  integer pi, po;
  reg [IW-1:0] next_word;
  reg have_next, in_done;

  task automatic finish(input integer timed_out);
    integer fs, fp;
    fs = $fopen({{dir, "/summary.txt"}}, "w");
    $fwrite(fs, "results %0d\\nsent %0d\\nreceived %0d\\n", results, sent, received);
    $fwrite(fs, "first_in %0d\\nlast_out %0d\\n", first_in, last_out);
    $fwrite(fs, "cycles %0d\\ntimed_out %0d\\n", cycle, timed_out);
    $fclose(fs);
    $fclose(fout);
    $finish;
  endtask

  initial begin
    if (!$value$plusargs("dir=%s", dir)) begin
      $display("usage: +dir=DIR +samples=N +max_cycles=C");
      $finish;
    end
    if (!$value$plusargs("samples=%d", samples)) samples = 0;
    if (!$value$plusargs("max_cycles=%d", max_cycles)) max_cycles = 1000000;
    $readmemb({{dir, "/pause_in.mem"}}, pause_in);
    $readmemb({{dir, "/pause_out.mem"}}, pause_out);
    fin = $fopen({{dir, "/stim.hex"}}, "r");
    fout = $fopen({{dir, "/out.hex"}}, "w");
    results = 0; tail_left = TAIL; cycle = 0; first_in = -1; last_out = -1;
    sent = 0; received = 0; pi = 0; po = 0; have_next = 1'b0; in_done = 1'b0;
  end

  always @(posedge clk) if (rst) begin  // reset for the first three cycles
    cycle = cycle + 1;
    if (cycle == 3) begin  // ready takes its first pause bit with the reset's release
      rst <= 1'b0;
      cycle = 0;
      o_ready <= !pause_out[0];
      po = 1;
    end
  end else begin
    cycle = cycle + 1;
    // input: a beat moves when valid and ready were both high before this edge
    if (i_valid && i_ready) begin
      sent = sent + 1;
      if (first_in < 0) first_in = cycle;
    end
    if (!i_valid || i_ready) begin
      if (!have_next && !in_done) begin
        rc = $fscanf(fin, "%h\\n", next_word);
        if (rc == 1) have_next = 1'b1; else in_done = 1'b1;
      end
      if (have_next) begin  // a beat to send: its pause bit decides this cycle
        if (!pause_in[pi]) begin
          i_payload <= next_word;
          i_valid <= 1'b1;
          have_next = 1'b0;
        end else begin
          i_valid <= 1'b0;
        end
        pi = (pi + 1) % PN;
      end else begin
        i_valid <= 1'b0;
      end
    end
    // output: record every transfer; ready follows its pattern every cycle
    if (o_valid && o_ready) begin
      $fwrite(fout, "%h\\n", o_payload);
      received = received + 1;
      last_out = cycle;
      if (o_payload[CLASS_BIT]) begin
        results = results + 1;
        if (results % 64 == 0) begin : progress
          integer fp;
          fp = $fopen({{dir, "/progress"}}, "w");
          $fwrite(fp, "%0d", results);
          $fclose(fp);
        end
      end
    end
    o_ready <= !pause_out[po];
    po = (po + 1) % PN;
    if (results >= samples && in_done && !have_next) begin
      tail_left = tail_left - 1;
      if (tail_left == 0) finish(0);
    end
    if (cycle >= max_cycles) finish(1);
  end
endmodule
"""

# Icarus: the clock comes from a wrapper; Verilator: from a C++ loop (no timing
# scheduler in the way, which is what makes it fast)
_ICARUS_CLOCK = """\
`timescale 1ns/1ps
module {tb}_clock;
  reg clk = 1'b0;
  always #5 clk = ~clk;
  {tb} tb(.clk(clk));
endmodule
"""

_VERILATOR_MAIN = """\
#include <memory>
#include "V{tb}.h"
#include "verilated.h"

int main(int argc, char** argv) {{
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<V{tb}>(ctx.get());
    top->clk = 0;
    top->eval();
    while (!ctx->gotFinish()) {{
        top->clk = !top->clk;
        top->eval();
    }}
    top->final();
    return 0;
}}
"""


#: how much slower a stream runs under each pause pattern, for the cycle budget
PAUSE_SLOWDOWN = {"none": 1, "light": 2, "alternate": 3, "bursty": 4, "heavy": 6}


def cycle_budget(net, lanes, x, in_pauses: str = "none", out_pauses: str = "none",
                 core: str = "pipeline") -> int:
    """Cycles a run of ``x`` may take before it counts as hung: the cycle model's bound
    (:func:`snnhw.gateware.cycles.sample_bound`, every sample as if after a reset, or
    the serial core's :func:`snnhw.gateware.serial.sample_bound` plus its clear) times
    a margin for the pause patterns."""
    ev = cycles.events_per_step(net, x)
    if core == "serial":
        from snnhw.gateware.serial import SerialPlan, sample_bound

        plan = SerialPlan(net, lanes)
        clear = max(plan.acc_words, plan.membrane_words) + plan.acc_words
        bound = sum(sample_bound(plan, e) + clear for e in ev)
    else:
        bound = sum(cycles.sample_bound(net, lanes, e, after_reset=True) for e in ev)
    return bound * PAUSE_SLOWDOWN[in_pauses] * PAUSE_SLOWDOWN[out_pauses] + 2000


def testbench_source(manifest: dict) -> str:
    """The SystemVerilog testbench for the design described by ``manifest``."""
    ports = manifest["ports"]
    fields = {f["name"]: f for f in ports["o__payload"]["fields"]}
    return _TB.format(top=manifest["top"], tb=TOP, iw=ports["i__payload"]["width"],
                      ow=ports["o__payload"]["width"], class_bit=fields["is_class"]["offset"],
                      pn=PAUSE_PERIOD, tail=TAIL)


def stimulus_words(manifest: dict, x) -> np.ndarray:
    """The input payload words of ``x[batch, T, n_in]`` in stream order (uint64):
    the same beats as :func:`snnhw.protocol.streams.encode_batch`, vectorised."""
    f = {f["name"]: f for f in manifest["ports"]["i__payload"]["fields"]}
    x = np.asarray(x, dtype=np.int64)
    rows = x.reshape(-1, x.shape[-1])                        # one row per step
    r, j = np.nonzero(rows)                                 # row-major: steps in order
    counts = np.bincount(r, minlength=len(rows))
    events = (j.astype(np.uint64) << np.uint64(f["index"]["offset"])) | (
        rows[r, j].astype(np.uint64) << np.uint64(f["value"]["offset"]))
    marker = np.uint64(1) << np.uint64(f["eos"]["offset"])
    # each step's events, then its marker: the marker of row k sits after
    # counts[0..k] events and k earlier markers
    ends = np.cumsum(counts) + np.arange(len(rows))
    words = np.empty(len(events) + len(rows), dtype=np.uint64)
    is_marker = np.zeros(len(words), dtype=bool)
    is_marker[ends] = True
    words[is_marker] = marker
    words[~is_marker] = events
    return words


def _pause_bits(pattern: str, seed: int) -> str:
    return "\n".join("1" if p else "0"
                     for p in itertools.islice(pauses(pattern, seed), PAUSE_PERIOD)) + "\n"


def write_stimulus(case_dir: Path, manifest: dict, x, *, in_pauses: str = "none",
                   out_pauses: str = "none", seed: int = 0) -> int:
    """Write the testbench's input files into ``case_dir``; return the number of beats."""
    case_dir.mkdir(parents=True, exist_ok=True)
    words = stimulus_words(manifest, x)
    (case_dir / "stim.hex").write_text("\n".join(map("{:x}".format, words.tolist())) + "\n")
    (case_dir / "pause_in.mem").write_text(_pause_bits(in_pauses, seed))
    (case_dir / "pause_out.mem").write_text(_pause_bits(out_pauses, seed + 1))
    for name in ("out.hex", "summary.txt", "progress"):
        (case_dir / name).unlink(missing_ok=True)
    return len(words)


def build_bulk(rtl_dir: Path, manifest: dict, sim: str, work: Path) -> tuple[Path, float]:
    """Build the bulk testbench around ``rtl_dir``'s design for ``sim`` (once per content);
    return the command to run (an executable, or Icarus's ``.vvp``) and the build time."""
    why = simulator_available(sim)
    if why:
        raise SimulatorMissingError(why)
    verilog = rtl_dir / manifest["verilog"]
    extra = [rtl_dir / s for s in manifest.get("sources", [])]
    tb_text = testbench_source(manifest)
    content = verilog.read_bytes() + b"".join(p.read_bytes() for p in extra) + tb_text.encode()
    key = hashlib.sha256(content + sim.encode()).hexdigest()[:16]
    build_dir = (work / f"bulk-{sim}-{key}").resolve()
    exe = build_dir / ("obj_dir" / Path(f"V{TOP}") if sim == "verilator" else Path("sim.vvp"))
    stamp = build_dir / ".built"
    t0 = time.perf_counter()
    if stamp.exists() and exe.exists():
        return exe, time.perf_counter() - t0
    build_dir.mkdir(parents=True, exist_ok=True)
    tb = build_dir / f"{TOP}.sv"
    tb.write_text(tb_text)
    env = simulator_env(sim)
    if sim == "verilator":
        main = build_dir / "main.cpp"
        main.write_text(_VERILATOR_MAIN.format(tb=TOP))
        cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-O3", "--x-assign", "fast",
               "--x-initial", "fast", "-Wno-fatal", "-Wno-WIDTH", "-Wno-UNUSED",
               "-Wno-DECLFILENAME", "-MAKEFLAGS", "OPT_FAST=-O2 OPT_SLOW=-O1",
               "--top-module", TOP, "--Mdir", str(build_dir / "obj_dir"), str(main), str(tb),
               str(verilog), *map(str, extra)]
    else:
        clock = build_dir / f"{TOP}_clock.sv"
        clock.write_text(_ICARUS_CLOCK.format(tb=TOP))
        cmd = ["iverilog", "-g2012", "-s", f"{TOP}_clock", "-o", str(exe), str(clock), str(tb),
               str(icarus_source(verilog, build_dir)), *map(str, extra)]
    proc = subprocess.run(cmd, cwd=build_dir, env=env, capture_output=True, text=True)
    (build_dir / "build.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not exe.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{sim} could not build the bulk testbench (see "
                           f"{build_dir / 'build.log'}): " + " | ".join(tail))
    stamp.write_text("ok\n")
    return exe, time.perf_counter() - t0


@dataclass
class BulkResult:
    logits: list[list[int]]
    classes: list[int]
    cycles: int | None
    simulated_cycles: int
    timed_out: bool
    errors: list[str]
    build_seconds: float
    run_seconds: float

    @property
    def ok(self) -> bool:
        return not self.errors and not self.timed_out


def _read_results(path: Path, manifest: dict) -> tuple[list[list[int]], list[int], list[str]]:
    f = {f["name"]: f for f in manifest["ports"]["o__payload"]["fields"]}
    v, c, last = f["value"], f["is_class"], f["last"]
    beats = []
    for line in path.read_text().split():
        w = int(line, 16)
        value = (w >> v["offset"]) & ((1 << v["width"]) - 1)
        if v["signed"] and value >> (v["width"] - 1):
            value -= 1 << v["width"]
        beats.append(Result(value, (w >> c["offset"]) & 1, (w >> last["offset"]) & 1))
    try:
        logits, classes = decode_results(beats, manifest["n_out"])
    except ValueError as exc:
        return [], [], [f"output stream: {exc}"]
    return logits, classes, []


def run_bulk(rtl_dir, x, *, sim: str = "verilator", work="out/sim", in_pauses: str = "none",
             out_pauses: str = "none", seed: int = 0, max_cycles: int, name: str = "bulk",
             progress=None) -> BulkResult:
    """Run ``x[batch, T, n_in]`` through the generated design in ``rtl_dir`` on ``sim``
    with the bulk testbench; ``max_cycles``: stop with a timeout after this many."""
    rtl_dir = Path(rtl_dir).resolve()
    manifest = json.loads(next(rtl_dir.glob("*.json")).read_text())
    work = Path(work).resolve()
    exe, build_s = build_bulk(rtl_dir, manifest, sim, work)
    case_dir = exe.parent.parent / name if sim == "verilator" else exe.parent / name
    write_stimulus(case_dir, manifest, x, in_pauses=in_pauses, out_pauses=out_pauses,
                   seed=seed)
    args = [f"+dir={case_dir}", f"+samples={len(x)}", f"+max_cycles={max_cycles}"]
    cmd = [str(exe), *args] if sim == "verilator" else ["vvp", "-n", str(exe), *args]
    t0 = time.perf_counter()
    done = threading.Event()

    def watch():
        while not done.wait(0.25):
            with contextlib.suppress(OSError, ValueError):
                progress(int((case_dir / "progress").read_text() or 0))
    watcher = threading.Thread(target=watch, daemon=True) if progress else None
    if watcher:
        watcher.start()
    try:
        proc = subprocess.run(cmd, cwd=case_dir, env=simulator_env(sim), capture_output=True,
                              text=True)
    finally:
        done.set()
    run_s = time.perf_counter() - t0
    (case_dir / "sim.log").write_text(proc.stdout + proc.stderr)
    summary_path = case_dir / "summary.txt"
    if not summary_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return BulkResult([], [], None, 0, False,
                          [f"the {sim} run ended without a summary (exit {proc.returncode}; "
                           f"see {case_dir / 'sim.log'}): " + " | ".join(tail)],
                          build_s, run_s)
    summary = dict(line.split() for line in summary_path.read_text().splitlines())
    summary = {k: int(v) for k, v in summary.items()}
    logits, classes, errors = _read_results(case_dir / "out.hex", manifest)
    timed_out = bool(summary["timed_out"])
    if timed_out:
        errors.append(f"timed out after {summary['cycles']} cycles with {summary['results']} "
                      f"of {len(x)} results")
    cycles = (summary["last_out"] - summary["first_in"]
              if summary["first_in"] >= 0 and summary["last_out"] >= 0 else None)
    if progress:
        progress(len(classes))
    return BulkResult(logits, classes, cycles, summary["cycles"], timed_out, errors,
                      build_s, run_s)
