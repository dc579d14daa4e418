"""Shared by the simulator tests: the simulators (a ``sim`` argument runs on each), the
random networks (dense and conv) as generated Verilog, and their inputs."""

import json
import os
import shutil

import numpy as np
import pytest

from snnhw.gateware.generate import write
from snnhw.ir.examples import random_conv_network, random_input, random_network
from snntb.runner import simulator_available

SIMULATORS = ("verilator", "icarus")

NETS = {
    # name: (network, lanes)
    "small": (lambda: random_network(np.random.default_rng(5), [12, 10, 5], name="small",
                                     in_bits=3, timesteps=3, spike_bits=2), 3),
    "deep": (lambda: random_network(np.random.default_rng(4), [20, 16, 8, 4], name="deep",
                                    in_bits=4, timesteps=4, spike_bits=3, readout="spikes",
                                    reset="hard", leak_shift=2, u_bits=10, weight_scale=1.0),
             [4, 3, 2]),
    "wide": (lambda: random_network(np.random.default_rng(4), [6, 9], name="wide", in_bits=8,
                                    timesteps=2, spike_bits=1, w_bits=12, u_bits=24), 16),
    # two conv layers (strides, padding, channels not a multiple of the lanes), then dense
    "conv": (lambda: random_conv_network(
        np.random.default_rng(4), (2, 5, 6), [(5, (3, 3), (1, 2), (1, 1)),
                                              (3, (2, 3), (2, 1), (0, 1))], [7],
        in_bits=3, timesteps=3, spike_bits=2, readout="spikes", reset="hard", leak_shift=3,
        name="conv"), [3, 2, 4]),
}


def pytest_generate_tests(metafunc):
    # outside CI a missing simulator is a skip with its reason; in CI it is a failure
    # ``@pytest.mark.slow_on("icarus")``: that simulator's run is a slow test
    if "sim" in metafunc.fixturenames:
        slow_on = metafunc.definition.get_closest_marker("slow_on")
        slow = set(slow_on.args) if slow_on else set()
        metafunc.parametrize("sim", [pytest.param(s, marks=[pytest.mark.skipif(
            simulator_available(s) is not None and not os.environ.get("CI"),
            reason=str(simulator_available(s)))] + ([pytest.mark.slow] if s in slow else []))
            for s in SIMULATORS])


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    path = tmp_path_factory.mktemp("sim")
    yield path
    shutil.rmtree(path, ignore_errors=True)     # simulator builds are large


class _Designs(dict):
    """``designs[name]``: ``(net, rtl folder, manifest)``, generated on first use."""

    def __init__(self, work):
        super().__init__()
        self.work = work

    def __missing__(self, name):
        make, lanes = NETS[name]
        net = make()
        rtl = self.work / f"rtl-{name}"
        write(net, lanes, rtl)
        self[name] = (net, rtl, json.loads((rtl / "snn_top.json").read_text()))
        return self[name]


@pytest.fixture(scope="session")
def designs(work):
    return _Designs(work)


@pytest.fixture(scope="session")
def inputs():
    """``inputs(net, n, seed)``: random inputs, the first sample all zero and the second
    at full scale."""
    def make(net, n, seed):
        x = random_input(np.random.default_rng(seed), net, n, density=0.6)
        x[0] = 0
        x[1] = (1 << net.in_bits) - 1
        return x
    return make
