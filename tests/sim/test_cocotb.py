"""The generated Verilog on Verilator and Icarus, through the cocotb testbench.

Each case checks every output beat bit for bit against the golden model (the
testbench's Checker) and that every input sample produced exactly one result.
"""


import pytest

from snnhw import golden
from snnhw.protocol.streams import encode_sample
from snntb.runner import run_case


def assert_case(r, net, x):
    rep = r.report
    assert rep["errors"] == [] and rep["first_mismatch"] is None, rep
    assert r.ok and r.tests == 1 and r.failed == 0
    assert rep["samples"] == rep["results"] == rep["matched"] == len(x)  # none lost or doubled
    g = golden.run(net, x)
    assert rep["logits"] == g.logits.tolist() and rep["classes"] == g.classes.tolist()


@pytest.mark.parametrize("name", ["small", "deep", "wide", "conv"])
def test_random_networks(sim, name, designs, work, inputs):
    net, rtl, _ = designs[name]
    x = inputs(net, 6, seed=1)
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="light",
                 out_pauses="light", name=f"rand-{name}")
    assert_case(r, net, x)


def test_deep_case_saturates_membranes(designs, inputs):
    net, _, _ = designs["deep"]
    t = golden.run(net, inputs(net, 6, seed=1), trace=True)
    assert (t.layers[0].v == (1 << 9) - 1).any()


def test_clear_in_the_middle_of_a_sample(sim, designs, work, inputs):
    net, rtl, _ = designs["deep"]
    x = inputs(net, 3, seed=2)
    cut = len(encode_sample(x[0])) // 2 + 1
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="bursty",
                 out_pauses="alternate", clear_after=cut, name="clear")
    assert_case(r, net, x)


def test_long_run_with_random_stalls(sim, designs, work, inputs):
    net, rtl, _ = designs["small"]
    x = inputs(net, 40 if sim == "verilator" else 20, seed=3)
    r = run_case(net, x, rtl_dir=rtl, sim=sim, work=work, in_pauses="heavy",
                 out_pauses="bursty", seed=9, name="long")
    assert_case(r, net, x)
    assert r.report["cycles"] > 0
