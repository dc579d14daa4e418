"""One description of the hardware: the plan, the manifest, the estimate and the memories
Yosys finds in the generated Verilog all agree, on hypothesis-drawn networks and lanes."""

import numpy as np
import pytest
from amaranth.hdl import Fragment
from hypothesis import given, settings
from hypothesis import strategies as st

from snnboards.estimate import estimate
from snnhw.gateware.generate import write, write_linked
from snnhw.gateware.linked import LinkedNetwork
from snnhw.gateware.network import SNNCore
from snnhw.gateware.plan import MemorySpec, design_memories, plan_core
from snnhw.ir.examples import random_conv_network, random_network
from snnhw.toolchain import memory_map


def _net(seed, depth, readout):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 24, depth + 1).tolist()
    return random_network(rng, sizes, in_bits=int(rng.integers(1, 9)),
                          timesteps=int(rng.integers(1, 5)),
                          spike_bits=int(rng.integers(1, 4)), readout=readout), rng


def _shapes(mems):
    return {m.name: (m.depth, m.width) for m in mems}


@settings(max_examples=3)
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 3),
       readout=st.sampled_from(["membrane", "spikes"]))
def test_plan_manifest_estimate_and_yosys_agree(tmp_path_factory, seed, depth, readout):
    net, rng = _net(seed, depth, readout)
    lanes = [int(p) for p in rng.integers(1, 9, len(net.layers))]
    _check_agree(net, lanes, tmp_path_factory.mktemp("rtl"))


def test_plan_manifest_estimate_and_yosys_agree_on_a_cnn(tmp_path):
    # conv memories too: weights per channel group and tap, accumulators and membranes
    # per position, bias per channel group, the event table
    net = random_conv_network(np.random.default_rng(2), (2, 6, 5),
                              [(5, (3, 3), (2, 1), (1, 1)), (3, (2, 2), (1, 1), (0, 1))], [6],
                              readout="spikes")
    _check_agree(net, [3, 2, 4], tmp_path)


def test_plan_manifest_estimate_and_yosys_agree_with_recurrent_layers(tmp_path):
    # the weights of [W | R] and each recurrent layer's replay FIFO
    net = random_network(np.random.default_rng(4), [7, 9, 6, 4], recurrent=(0, 1),
                         spike_bits=2, readout="spikes")
    plans = plan_core(net, [2, 3, 1]).layers
    assert [lp.memory("weights").depth for lp in plans[:2]] == [5 * (7 + 9), 2 * (9 + 6)]
    assert all(any(m.role == "replay_fifo" for m in lp.memories) for lp in plans[:2])
    assert not any(m.role == "replay_fifo" for m in plans[2].memories)
    _check_agree(net, [2, 3, 1], tmp_path)


def _check_agree(net, lanes, out):
    # the board design, as built: every memory Yosys sees is in the plan, and only those
    # (a one-word memory is a register in the Verilog, and planned as one)
    v, _, _ = write_linked(net, lanes, out / "linked", clk_hz=12e6, baud=115200)
    planned = _shapes(design_memories(net, lanes))
    registers = {m.name for m in design_memories(net, lanes) if m.is_register}
    assert memory_map(v, "snn_linked") == {
        k: s for k, s in planned.items() if k not in registers}
    # the estimate reads the same memories (names, depths, widths)
    est = estimate(net, "icebreaker", lanes=lanes)
    assert {m["name"]: (m["depth"], m["width"]) for m in est["memories"]} == planned
    # the manifest of the bare core: the same memories, named from the core
    _, _, man = write(net, lanes, out / "core")
    listed = {mem["name"]: (mem["words"], mem["width"])
              for ly in man["layers"] for mem in ly["memories"].values()}
    assert {f"core.{k}": s for k, s in listed.items()} == {
        k: s for k, s in planned.items() if k.startswith("core.")}


def test_components_report_the_plan():
    net, _ = _net(3, 2, "spikes")
    lanes = [3, 2]
    core = SNNCore(net, lanes=lanes)
    linked = LinkedNetwork(net, lanes=lanes, clk_hz=12e6)
    assert core.memories() == plan_core(net, lanes).memories()
    assert linked.memories() == design_memories(net, lanes)
    for design in (core, linked):
        Fragment.get(design, None)  # they elaborate from the same plan
    # the layer's own sizes, hand-checked for one layer: 3 lanes over n_out neurons
    lp = core.plan.layers[0]
    g = -(-net.layers[0].n_out // 3)
    assert lp.groups == g
    assert lp.memory("weights") == MemorySpec("syn.weights.mem", "weights",
                                              g * net.layers[0].n_in,
                                              3 * net.layers[0].w_bits, kind="rom", layer=0)
    assert lp.memory("bias").kind == "rom" and lp.memory("bias").depth == g
    # the readout of a spikes network has membranes and logits, no FIFO
    roles = {m.role for m in core.plan.layers[-1].memories}
    assert roles == {"weights", "accumulators", "bias", "membranes", "logits"}


def test_loaded_weights_are_planned_where_they_go():
    net, _ = _net(4, 1, "membrane")
    plan = plan_core(net, 2, {0: "spram"})
    mem = plan.layers[0].memory("weights")
    assert (mem.name, mem.kind) == ("syn.weights.spram", "spram") and plan.loaded == [0]
    with pytest.raises(ValueError, match="no layer 5"):
        plan_core(net, 2, {5: "ram"})
    with pytest.raises(ValueError, match="must be one of"):
        plan_core(net, 2, {0: "flash"})
    with pytest.raises(ValueError, match="lanes must be a positive integer or 1 of them"):
        plan_core(net, [1, 2])


def test_the_plan_is_computed_once_per_design(monkeypatch):
    import snnhw.gateware.network as network_module
    from snnhw.gateware import plan as plan_module
    from snnhw.gateware.network import SNNCore

    calls = {"core": 0, "layer": 0}
    core_fn, layer_fn = plan_module.plan_core, plan_module.LayerPlan.of.__func__

    def counted_core(*args, **kwargs):
        calls["core"] += 1
        return core_fn(*args, **kwargs)

    def counted_layer(cls, *args, **kwargs):
        calls["layer"] += 1
        return layer_fn(cls, *args, **kwargs)

    monkeypatch.setattr(network_module, "plan_core", counted_core)
    monkeypatch.setattr(plan_module.LayerPlan, "of", classmethod(counted_layer))
    net = random_network(np.random.default_rng(0), [20, 16, 10])
    core = SNNCore(net, lanes=2)
    assert calls == {"core": 1, "layer": 2}
    assert all(layer.plan is lp for layer, lp in zip(core.layers, core.plan.layers))
    Fragment.get(core, None)     # elaborated, as every design is (and still planned once)
    assert calls == {"core": 1, "layer": 2}
