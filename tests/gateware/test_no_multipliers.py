"""Accumulate-only, proven on the synthesised netlist: no $mul, no DSP blocks."""

import numpy as np
import pytest

from snnhw.gateware.generate import write
from snnhw.ir.examples import random_network
from snnhw.toolchain import synth_stats

MULTIPLIERS = {"ice40": "SB_MAC16", "ecp5": "MULT18X18D"}
BLOCK_RAM = {"ice40": "SB_RAM40_4K", "ecp5": "DP16KD"}


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    # multi-bit input spikes (5 bits) and 3-bit hidden spikes: the shift-and-add path is wide
    net = random_network(np.random.default_rng(0), [40, 24, 10], in_bits=5, timesteps=4,
                         spike_bits=3, leak_shift=2)
    v, _, _ = write(net, 4, tmp_path_factory.mktemp("rtl"))
    return v


@pytest.mark.parametrize("family", ["ice40", "ecp5"])
def test_no_multiplier_before_or_after_mapping(design, family):
    stats = synth_stats(design, "snn_top", family)
    generic, mapped = stats["generic"], stats["mapped"]
    assert generic.get("$add", 0) > 0            # the adders are there...
    assert not any("mul" in t.lower() or "macc" in t.lower() for t in generic)  # ...no multiplier
    assert mapped.get(MULTIPLIERS[family], 0) == 0
    assert not any(t.startswith(("SB_MAC", "MULT", "ALU54")) for t in mapped)
    assert mapped.get(BLOCK_RAM[family], 0) >= 1  # weights went to block RAM
