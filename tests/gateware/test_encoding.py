"""The board build's commands make Yosys encode the serial core's control one-hot
(without them it keeps Amaranth's binary state: the register has an initial value)."""

from __future__ import annotations

import re

import numpy as np
from amaranth.back import rtlil

from snnhw.gateware.collision import YOSYS_COMMANDS as COLLISION_COMMANDS
from snnhw.gateware.encoding import ONE_HOT
from snnhw.gateware.encoding import YOSYS_COMMANDS as ENCODING_COMMANDS
from snnhw.gateware.serial import SerialCore
from snnhw.gateware.sim import StandInPlatform
from snnhw.ir.examples import random_network
from snnhw.toolchain import run_yosys


def _recoded(tmp_path, commands: str) -> dict[str, str]:
    """The state registers Yosys's FSM passes re-encode after ``commands``, and how."""
    net = random_network(np.random.default_rng(3), [12, 8, 4])
    core = SerialCore(net, lanes=2)
    (tmp_path / "top.il").write_text(rtlil.convert(core, name="top",
                                                   platform=StandInPlatform("ice40")))
    # as a board build reads the design (snnboards.build), then the FSM passes
    run_yosys(f"read_rtlil top.il; {commands} flatten; opt -nosdff -nodffe; fsm",
              cwd=tmp_path)
    log = (tmp_path / "yosys.log").read_text()
    return {name.split(".")[-1]: enc for name, enc in
            re.findall(r"Recoding FSM `\$fsm\$\\(\S+?)\$\d+' from module `\\top' using "
                       r"`([\w-]+)' encoding", log)}


def test_the_build_encodes_the_control_one_hot(tmp_path):
    assert f"{ONE_HOT}_state" not in _recoded(tmp_path, f"{COLLISION_COMMANDS};")
    recoded = _recoded(tmp_path, f"{COLLISION_COMMANDS}; {ENCODING_COMMANDS};")
    assert recoded[f"{ONE_HOT}_state"] == "one-hot"
