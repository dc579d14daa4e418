"""The layer-serial core's Verilog on the simulators, bit for bit against the golden model,
under stalls; its cycle count within the serial cycle model's bound."""

import numpy as np
import pytest

from snnhw import golden
from snnhw.gateware.cycles import events_per_step
from snnhw.gateware.generate import write
from snnhw.gateware.serial import SerialPlan, sample_bound
from snnhw.ir.examples import random_conv_network, random_input, random_network
from snntb.bulk import cycle_budget, run_bulk

NETS = {
    "deep": (lambda: random_network(np.random.default_rng(4), [20, 16, 8, 4], name="deep",
                                    in_bits=4, timesteps=4, spike_bits=3, readout="spikes",
                                    reset="hard", leak_shift=2, u_bits=10, weight_scale=1.0), 3),
    "small": (lambda: random_network(np.random.default_rng(5), [12, 10, 5], name="small",
                                     in_bits=3, timesteps=3, spike_bits=2), 4),
    # two recurrent layers (the last a spike readout) replaying wider spikes than the input
    "recurrent": (lambda: random_network(np.random.default_rng(7), [10, 12, 8, 4],
                                         name="recurrent", in_bits=1, timesteps=5,
                                         spike_bits=2, readout="spikes", recurrent=(0, 2),
                                         weight_scale=0.6), 3),
    # 1-D convs as MNIST-1D's (padding, a pooled second conv: stride 2), then dense
    "conv": (lambda: random_conv_network(np.random.default_rng(6), (1, 1, 16),
                                         [(6, (1, 5), (1, 1), (0, 2)),
                                          (5, (1, 4), (1, 2), (0, 1))], [8, 4],
                                         name="conv", in_bits=4, timesteps=3), 4),
}


@pytest.mark.slow_on("icarus")
@pytest.mark.parametrize("name", sorted(NETS))
def test_serial_rtl_equals_golden_under_stalls(sim, name, work):
    make, lanes = NETS[name]
    net = make()
    rtl = work / f"serial-{name}"
    _, _, manifest = write(net, lanes, rtl, core="serial")
    assert manifest["core"] == "serial" and manifest["lanes"] == lanes
    x = random_input(np.random.default_rng(1), net, 12 if sim == "verilator" else 4)
    r = run_bulk(rtl, x, sim=sim, work=work, in_pauses="heavy", out_pauses="bursty", seed=3,
                 max_cycles=cycle_budget(net, lanes, x, "heavy", "bursty", core="serial"),
                 name=f"serial-stall-{name}")
    assert r.ok, r.errors
    g = golden.run(net, x)
    assert r.logits == g.logits.tolist() and r.classes == g.classes.tolist()
    # without stalls the run takes no more than the model's bound (clear, then samples)
    free = run_bulk(rtl, x, sim=sim, work=work, max_cycles=cycle_budget(net, lanes, x,
                                                                       core="serial"),
                    name=f"serial-free-{name}")
    plan = SerialPlan(net, lanes)
    bound = sum(sample_bound(plan, e) for e in events_per_step(net, x))
    assert free.ok and free.cycles <= bound + max(plan.acc_words, plan.membrane_words) + 8
