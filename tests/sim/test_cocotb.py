"""The generated Verilog on Verilator and Icarus, through the cocotb testbench.

Each case checks every output beat bit for bit against the golden model (the
testbench's Checker) and that every input sample produced exactly one result.
"""

import os

import numpy as np
import pytest

from snnhw import golden
from snnhw.gateware.generate import write
from snnhw.ir.examples import random_input, random_network
from snnhw.protocol.streams import encode_sample
from snntb.runner import run_case, simulator_available

# Outside CI a missing simulator is a skip with its reason; in CI it is a failure.
SIMS = [pytest.param(s, marks=pytest.mark.skipif(
    simulator_available(s) is not None and not os.environ.get("CI"),
    reason=str(simulator_available(s)))) for s in ("verilator", "icarus")]

NETS = {
    # name: (sizes, lanes, options)
    "small": ([12, 10, 5], 3, dict(in_bits=3, timesteps=3, spike_bits=2)),
    "deep": ([20, 16, 8, 4], [4, 3, 2], dict(in_bits=4, timesteps=4, spike_bits=3,
                                            readout="spikes", reset="hard", leak_shift=2,
                                            u_bits=10, weight_scale=1.0)),
    "wide": ([6, 9], 16, dict(in_bits=8, timesteps=2, spike_bits=1, w_bits=12, u_bits=24)),
}


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cocotb")


@pytest.fixture(scope="session")
def designs(work):
    out = {}
    for name, (sizes, lanes, opts) in NETS.items():
        net = random_network(np.random.default_rng(len(name)), sizes, name=name, **opts)
        rtl = work / f"rtl-{name}"
        write(net, lanes, rtl)
        out[name] = (net, rtl)
    return out


def inputs(net, n, seed):
    rng = np.random.default_rng(seed)
    x = random_input(rng, net, n, density=0.6)
    x[0] = 0                                   # an all-zero sample
    x[1] = (1 << net.in_bits) - 1              # every input at full scale
    return x


def assert_case(r, net, x):
    rep = r.report
    assert rep["errors"] == [] and rep["first_mismatch"] is None, rep
    assert r.ok and r.tests == 1 and r.failed == 0
    assert rep["samples"] == rep["results"] == rep["matched"] == len(x)  # none lost or doubled
    g = golden.run(net, x)
    assert rep["logits"] == g.logits.tolist() and rep["classes"] == g.classes.tolist()


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(NETS))
def test_random_networks(sim, name, designs, work):
    net, rtl = designs[name]
    x = inputs(net, 6, seed=1)
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="light",
                 out_pauses="light", name=f"rand-{name}")
    assert_case(r, net, x)


def test_deep_case_saturates_membranes(designs):
    net, _ = designs["deep"]
    t = golden.run(net, inputs(net, 6, seed=1), trace=True)
    assert (t.layers[0].v == (1 << 9) - 1).any()


@pytest.mark.parametrize("sim", SIMS)
def test_clear_in_the_middle_of_a_sample(sim, designs, work):
    net, rtl = designs["deep"]
    x = inputs(net, 3, seed=2)
    cut = len(encode_sample(x[0])) // 2 + 1
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="bursty",
                 out_pauses="alternate", clear_after=cut, name="clear")
    assert_case(r, net, x)


@pytest.mark.parametrize("sim", SIMS)
def test_long_run_with_random_stalls(sim, designs, work):
    net, rtl = designs["small"]
    x = inputs(net, 40 if sim == "verilator" else 20, seed=3)
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="heavy",
                 out_pauses="bursty", seed=9, name="long")
    assert_case(r, net, x)
    assert r.report["cycles"] > 0
