"""Accumulate-only, proven on the synthesised netlist: no $mul, no DSP blocks."""

import numpy as np
import pytest

from snnhw.families import FAMILIES
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_conv_network, random_network
from snnhw.toolchain import synth_stats


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    # multi-bit input spikes (5 bits) and 3-bit hidden spikes: the shift-and-add path is wide
    dense = random_network(np.random.default_rng(0), [40, 24, 10], in_bits=5, timesteps=4,
                           spike_bits=3, leak_shift=2)
    # conv: every address of the window walk (strides, padding, channel groups) is counters
    # and constant adds; odd sizes, so no address is a mere bit slice
    conv = random_conv_network(np.random.default_rng(1), (3, 7, 9),
                               [(6, (3, 3), (2, 1), (1, 1)), (5, (2, 3), (1, 2), (0, 1))],
                               [10], in_bits=4, timesteps=3, spike_bits=2, w_bits=8)
    out = {name: write(net, 4, tmp_path_factory.mktemp(name))[0]
           for name, net in (("dense", dense), ("conv", conv))}
    # the serial core: per-layer shifts by a register's amount, still no multiplier
    out["serial"] = write(dense, 3, tmp_path_factory.mktemp("serial"), core="serial")[0]
    return out


@pytest.mark.parametrize("kind", ["dense", "conv", "serial"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_no_multiplier_before_or_after_mapping(designs, kind, family):
    fam = FAMILIES[family]
    stats = synth_stats(designs[kind], "snn_top", family)
    generic, mapped = stats["generic"], stats["mapped"]
    assert generic.get("$add", 0) > 0            # the adders are there...
    assert not any("mul" in t.lower() or "macc" in t.lower() for t in generic)  # ...no multiplier
    assert fam.report.dsp_cells and not any(mapped.get(c, 0) for c in fam.report.dsp_cells)
    assert not any(t.startswith(("SB_MAC", "MULT", "ALU54")) for t in mapped)
    assert sum(mapped.get(c, 0) for c in fam.bram_cells) >= 1  # weights went to block RAM
