"""Board-level test: the host's own encoder/decoder over bit-level UART on the pins.

Case fields (besides the usual ones): ``divisor`` (cycles per bit),
``events_per_frame`` (64 unless given; the host sends up to ``link.MAX_EVENTS``),
``reply_timeout_cycles`` (how long a reply may take, at least 4000 bit times),
``corrupt`` and ``cut`` (lists of ``[sample, frame]`` to send damaged or cut
off first; the board must reject them with ERROR 1 / 4 and never feed them).
``load`` (``[lanes, layers]``): the design keeps those layers' weights in
SPRAM; they are sent first (WEIGHTS frames), after one frame that runs past
the end of layer ``layers[0]``'s memory and must be refused with ERROR 5.
Every request frame must be ACKed before the next (back to back otherwise);
every sample must give exactly one RESULT equal to the golden model's. The report
also times the samples' traffic (``cycles``: from the first sample's first bit to
the last RESULT's stop bit) and counts its bytes each way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles
from cocotb.utils import get_sim_time

from snnhw import golden, ir
from snnhw.protocol import link
from snnhw.protocol.link import ErrorCode
from snnhw.protocol.streams import encode_sample
from snnhw.protocol.words import weight_words

from .uart import UartHost


@cocotb.test()
async def snn_link_case(dut):
    case = json.loads(Path(os.environ["SNNHW_CASE"]).read_text())
    net = ir.load(case["ir"])
    x = np.load(case["input"])
    d = int(case["divisor"])
    per_frame = int(case.get("events_per_frame", 64))
    corrupt = {tuple(c) for c in case.get("corrupt", [])}
    cut = {tuple(c) for c in case.get("cut", [])}
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    dec = link.FrameDecoder()
    frames: list[link.Frame] = []
    # the samples' traffic, timed: from the first bit of the first sample's first frame to
    # the stop bit of the last RESULT frame, and the bytes each way meanwhile
    timing = {"start_ns": None, "last_result_ns": None, "host_bytes": 0, "board_bytes": 0}

    def on_byte(b):
        new = dec.feed(bytes([b]))
        if timing["start_ns"] is not None:
            timing["board_bytes"] += 1
            if any(f.type == link.RESULT for f in new):
                timing["last_result_ns"] = get_sim_time(unit="ns")
        frames.extend(new)

    host = UartHost(dut.clk, dut.rx, dut.tx, d, on_byte)
    await host.idle(2)
    errors_seen: list[int] = []
    problems: list[str] = []

    # a reply may wait for the network to take the frame's events (a slow network
    # holds the input): 4000 bit times, or the case's own bound in cycles
    reply_bits = max(4000, -(-int(case.get("reply_timeout_cycles", 0)) // d))

    async def reply(limit_bits=reply_bits):
        waited = 0
        while True:
            for k, f in enumerate(frames):
                if f.type in (link.ACK, link.ERROR):
                    frames.pop(k)
                    return f
            await ClockCycles(dut.clk, d)
            waited += 1
            if waited > limit_bits:
                return None

    weight_errors: list[int] = []
    if case.get("load"):
        lanes, layers = case["load"]
        for k in layers:
            if k == layers[0]:  # one word past the end: refused, nothing written
                depth = len(weight_words(net.layers[k].W, lanes[k], net.layers[k].w_bits))
                await host.send(link.weights_frames(k, [0x55] * 2, start=depth - 1)[0])
                r = await reply()
                weight_errors.append(r.payload[0] if r and r.type == link.ERROR else -1)
            for f_idx, fr in enumerate(link.layer_weights_frames(net, k, lanes[k])):
                await host.send(fr)
                r = await reply()
                if r is None or r.type != link.ACK:
                    problems.append(f"weights of layer {k}, frame {f_idx}: reply {r}")

    results = []

    def collect():
        for f in [f for f in frames if f.type == link.RESULT]:
            frames.remove(f)
            results.append(link.parse_result(f.payload, net.n_out))

    for s_idx, sample in enumerate(x):
        for f_idx, fr in enumerate(link.events_frames(encode_sample(sample), per_frame)):
            if (s_idx, f_idx) in corrupt:
                bad = bytearray(fr)
                bad[len(bad) // 2] ^= 0x08
                await host.send(bytes(bad))
                r = await reply()
                errors_seen.append(r.payload[0] if r and r.type == link.ERROR else -1)
            if (s_idx, f_idx) in cut:
                await host.send(fr[:5])
                await host.idle(60)  # longer than the board's inter-byte timeout
                r = await reply()
                errors_seen.append(r.payload[0] if r and r.type == link.ERROR else -1)
            if timing["start_ns"] is None:
                timing["start_ns"] = get_sim_time(unit="ns")
            timing["host_bytes"] += len(fr)
            await host.send(fr)
            r = await reply()
            if r is None or r.type != link.ACK:
                problems.append(f"sample {s_idx} frame {f_idx}: reply {r}")
            collect()
    waited = 0
    while len(results) < len(x) and waited < 20000:
        await ClockCycles(dut.clk, d)
        waited += 1
        collect()
    await ClockCycles(dut.clk, 200 * d)
    collect()
    g = golden.run(net, x)
    expected = [(lg, int(c)) for lg, c in zip(g.logits.tolist(), g.classes.tolist())]
    report = {"results": [[lg, c] for lg, c in results], "expected_errors": len(corrupt) + len(cut),
              "errors_seen": errors_seen, "decoder_errors": dec.errors, "problems": problems,
              "weight_errors": weight_errors,
              # clock cycles (10 ns each) of the samples' traffic, and its bytes each way
              "cycles": (None if timing["last_result_ns"] is None else
                         round((timing["last_result_ns"] - timing["start_ns"]) / 10)),
              "host_bytes": timing["host_bytes"], "board_bytes": timing["board_bytes"],
              "ok": results == expected and not problems and not dec.errors
              and weight_errors == ([ErrorCode.BAD_WEIGHT_ADDRESS] if case.get("load") else [])
              and errors_seen == [ErrorCode.BAD_CRC if (s, f) in corrupt else ErrorCode.CUT_OFF
                                  for s, f in sorted(corrupt | cut)]}
    Path(case["result"]).write_text(json.dumps(report))
    assert report["ok"], report
