"""The layer-serial core against the golden model, bit for bit, in the Amaranth simulator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snnhw import golden
from snnhw.gateware.plan import DesignError
from snnhw.gateware.serial import SerialCore
from snnhw.gateware.sim import run_network
from snnhw.ir.examples import random_conv_network, random_input, random_network


def _check(net, lanes, batch=3, seed=0, **pauses):
    x = random_input(np.random.default_rng(seed), net, batch)
    run = run_network(SerialCore(net, lanes=lanes), x, **pauses)
    g = golden.run(net, x)
    assert np.array_equal(run.logits, g.logits)
    assert np.array_equal(run.classes, g.classes)
    return run


@pytest.mark.parametrize("lanes", [1, 3, 4])
@pytest.mark.parametrize("readout", ["membrane", "spikes"])
def test_serial_core_equals_golden(lanes, readout):
    net = random_network(np.random.default_rng(lanes), [12, 9, 7, 5], in_bits=3,
                         timesteps=3, readout=readout, spike_bits=2)
    _check(net, lanes)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), sizes=st.lists(st.integers(1, 12), min_size=2, max_size=4),
       lanes=st.integers(1, 5), readout=st.sampled_from(["membrane", "spikes"]),
       spike_bits=st.integers(1, 3), in_bits=st.integers(1, 5),
       leak=st.sampled_from([None, 1, 3]), reset=st.sampled_from(["soft", "hard"]),
       pauses=st.sampled_from(["none", "light", "alternate", "bursty", "heavy"]))
def test_serial_core_equals_golden_on_drawn_networks(seed, sizes, lanes, readout, spike_bits,
                                                     in_bits, leak, reset, pauses):
    net = random_network(np.random.default_rng(seed), sizes, in_bits=in_bits, timesteps=3,
                         readout=readout, spike_bits=spike_bits, leak_shift=leak, reset=reset)
    _check(net, lanes, seed=seed, in_pauses=pauses, out_pauses=pauses)


def test_serial_core_refuses_a_conv_layer_for_now():
    net = random_conv_network(np.random.default_rng(0), (1, 4, 4),
                              [(2, (3, 3), (1, 1), (0, 0))], [3])
    with pytest.raises(DesignError, match="dense layers"):
        SerialCore(net, lanes=2)
