"""The cocotb test module the runner loads into the simulator.

It reads the case file named by ``SNNHW_CASE`` (JSON: IR path, input path,
manifest path, pause patterns, seed, optional clear position, result path),
runs the :class:`~snntb.testbench.Testbench`, writes its report and fails the
test on any mismatch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np

from snnhw import ir

from .testbench import Testbench


@cocotb.test()
async def snn_case(dut):
    case = json.loads(Path(os.environ["SNNHW_CASE"]).read_text())
    net = ir.load(case["ir"])
    manifest = json.loads(Path(case["manifest"]).read_text())
    x = np.load(case["input"])
    tb = Testbench(dut, net, manifest, in_pauses=case.get("in_pauses", "none"),
                   out_pauses=case.get("out_pauses", "none"), seed=case.get("seed", 0),
                   progress_path=case.get("progress"))
    await tb.start()
    report = await tb.run(x, clear_after=case.get("clear_after"))
    Path(case["result"]).write_text(json.dumps(report))
    assert report["ok"], (report["first_mismatch"], report["errors"][:5], report["missing"])
