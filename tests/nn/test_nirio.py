"""NIR import/export against a real producer: snnTorch networks exported with snnTorch's
own ``export_to_nir``, imported by snnhw; spikes compared step by step; the quantised
export bit-exact through the golden model and (cocotb, Verilator and Icarus) the generated
RTL, reached by the documented CLI path (snnhw import -> generate, and build: slow);
snnhw -> NIR -> snnhw identical."""

import itertools
import json
import os
import warnings

import nir
import numpy as np
import pytest
import torch
from torch import nn

from snnhw.cli import main
from snnhw.ir import load
from snnhw.nn.export import export_model, integer_vs_golden
from snnhw.nn.model import SpikingMLP
from snnhw.nn.nirio import NIRError, from_nir, to_nir
from snntb.runner import run_case, simulator_available

snn = pytest.importorskip("snntorch")
from snntorch import utils  # noqa: E402
from snntorch.export_nir import export_to_nir  # noqa: E402


def snntorch_net(sizes, betas, *, reset_delay, seed, wscale=1.0, last_linear=False):
    """Linear -> Leaky(subtract) per layer; per-neuron thresholds in [0.5, 1.5]."""
    torch.manual_seed(seed)
    mods = []
    n = len(sizes) - 1
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        fc = nn.Linear(a, b)
        with torch.no_grad():
            fc.weight.mul_(wscale)
        mods.append(fc)
        if last_linear and i == n - 1:
            break
        mods.append(snn.Leaky(beta=torch.full((b,), betas[i]), threshold=0.5 + torch.rand(b),
                              reset_mechanism="subtract", init_hidden=True,
                              reset_delay=reset_delay, output=i == n - 1))
    return nn.Sequential(*mods)


def export(net, n_in):
    with warnings.catch_warnings():
        # snnTorch divides by 1 - beta (beta = 1: tau = inf), and calls a nirtorch
        # function that nirtorch 2.6 marks as deprecated
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", "nirtorch.extract_nir_graph", DeprecationWarning)
        return export_to_nir(net, torch.zeros(n_in))  # unbatched sample: see the README


@torch.no_grad()
def run_snntorch(net, x):
    """Per step: the output (spikes, or the current of a last Linear layer), and per sample
    whether any neuron kept a membrane above its threshold after its reset (where
    snnTorch's reset bookkeeping shifts its threshold)."""
    utils.reset(net)
    leaky = [m for m in net if isinstance(m, snn.Leaky)]
    spikes, above = [], torch.zeros(x.shape[0], dtype=torch.bool)
    for t in range(x.shape[1]):
        out = net(x[:, t])
        spikes.append(out[0] if isinstance(out, tuple) else out)
        for m in leaky:
            above |= (m.mem > m.threshold).any(dim=1)
    return torch.stack(spikes, 1), above


@torch.no_grad()
def run_snnhw(model, x):
    model.record(True)
    model(x)
    s = torch.stack([r[1] for r in model.lif[-1].recorded], 1)
    model.record(False)
    return s


def binary_input(seed, batch, T, n, p=0.3):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, T, n, generator=g) < p).float()


@pytest.mark.parametrize("betas", [[1.0, 1.0], [0.5, 0.875], [0.75, 0.75]])
def test_spikes_equal_snntorch_immediate_reset(betas, tmp_path):
    """reset_delay=False is SPEC's soft reset: every output spike of every step is equal
    on samples where no membrane stays above threshold after a reset."""
    net = snntorch_net([20, 16, 8], betas, reset_delay=False, seed=0, wscale=3.0)
    nir.write(tmp_path / "m.nir", export(net, 20))
    model = from_nir(tmp_path / "m.nir", timesteps=16)
    assert [ly.leak_shift for ly in model.lif] == [
        None if b == 1 else round(-np.log2(1 - b)) for b in betas]
    x = binary_input(1, 200, 16, 20)
    a, above = run_snntorch(net, x)
    b = run_snnhw(model, x)
    clean = ~above
    assert clean.sum() >= 20 and above.sum() >= 5      # both kinds of samples occur
    assert torch.equal(a[clean], b[clean])             # exact where the math is the same
    assert a.sum() > 50                                # and the network does spike


@pytest.mark.parametrize("betas", [[1.0, 1.0], [0.5, 0.875]])
def test_spikes_with_snntorch_delayed_reset(betas):
    """snnTorch's default reset_delay=True subtracts the threshold one step late and
    undecayed: the same as SPEC's soft reset for IF (beta = 1, exact), a different
    neuron for beta < 1 (stated tolerance: at most 10 % of spike slots differ)."""
    net = snntorch_net([20, 16, 8], betas, reset_delay=True, seed=2, wscale=2.0)
    model = from_nir(export(net, 20), timesteps=16)
    x = binary_input(3, 200, 16, 20)
    a, _ = run_snntorch(net, x)
    b = run_snnhw(model, x)
    if betas == [1.0, 1.0]:
        assert torch.equal(a, b) and a.sum() > 100
    else:
        assert 0 < (a != b).float().mean() <= 0.10


def test_membrane_readout_from_a_last_linear_layer():
    net = snntorch_net([12, 10, 4], [0.75], reset_delay=False, seed=4, last_linear=True)
    model = from_nir(export(net, 12), timesteps=8)
    assert model.readout == "membrane"
    x = binary_input(5, 64, 8, 12)
    currents, above = run_snntorch(net, x)   # the last layer's output is its current
    with torch.no_grad():
        got = model(x)
    clean = ~above
    assert clean.sum() >= 32
    assert torch.allclose(currents.mean(1)[clean], got[clean], atol=1e-5)


def test_quantised_import_is_bit_exact_through_the_golden_model():
    net = snntorch_net([20, 16, 8], [0.5, 0.875], reset_delay=False, seed=0, wscale=3.0)
    model = from_nir(export(net, 20), timesteps=8)
    q, ir_net = export_model(model, w_bits=8, u_bits=16, name="snntorch")
    assert [ly.leak_shift for ly in ir_net.layers] == [1, 3] and ir_net.in_bits == 1
    x = binary_input(6, 100, 8, 20).to(torch.int64).numpy()
    _, g, agree, mismatch = integer_vs_golden(q, ir_net, x)
    assert agree.all() and mismatch is None
    assert g.logits.sum() > 0


def snnhw_model(readout, leak_shifts, seed=0):
    torch.manual_seed(seed)
    spiking = 2 if readout == "spikes" else 1
    return SpikingMLP([16, 12, 6], timesteps=5, in_bits=3, in_scale=1 / 8, readout=readout,
                      spike_bits=1, fire="floor", reset="soft", mpr=False,
                      leak_shifts=leak_shifts[:spiking]).eval()


@pytest.mark.parametrize("readout, leaks", [("spikes", [2, None]), ("membrane", [3, None])])
def test_round_trip_is_identical(readout, leaks, tmp_path):
    model = snnhw_model(readout, leaks)
    nir.write(tmp_path / "r.nir", to_nir(model))
    back = from_nir(tmp_path / "r.nir")
    assert back.config == model.config
    for k, v in model.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k
    a, b = export_model(back, name="r")[1], export_model(model, name="r")[1]
    assert a.equals(b) and a.content_hash() == b.content_hash()


def graph(nodes, edges):
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def lif(n, tau=4e-4, r=4.0, v_leak=0.0, thr=1.0, v_reset=0.0):
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.full(n, v_leak),
                   v_threshold=np.full(n, thr), v_reset=np.full(n, v_reset))


def chain(*mid):
    nodes = {"in": nir.Input(input_type=np.array([3]))}
    names = ["in"]
    for k, node in enumerate(mid):
        nodes[f"n{k}"] = node
        names.append(f"n{k}")
    nodes["out"] = nir.Output(output_type=np.array([2]))
    names.append("out")
    return nodes, list(itertools.pairwise(names))


AFF = nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2))


@pytest.mark.parametrize("make, message", [
    (lambda: graph(*chain(AFF, lif(2, tau=5e-4))),
     r"node 'n1': tau gives a leak of 0\.8 per step .*nearest: L=2, 0\.75"),
    (lambda: graph(*chain(AFF, lif(2, v_reset=0.5))), r"node 'n1': v_reset must be 0"),
    (lambda: graph(*chain(AFF, nir.Flatten(input_type={"input": np.array([2])}))),
     r"node 'n1': Flatten with no Conv1d/Conv2d in the graph"),
    (lambda: graph(*chain(AFF, AFF)), r"node 'n1': two weight layers in a row"),
    (lambda: graph(*chain(lif(3))), r"node 'n0' \(LIF\) has no Affine/Linear node before it"),
    (lambda: graph(*chain(AFF, nir.CubaLIF(
        tau_syn=np.full(2, 1e-3), tau_mem=np.full(2, 4e-4), r=np.full(2, 4.0),
        v_leak=np.zeros(2), v_threshold=np.ones(2)))),
     r"node 'n1': tau_syn gives a synaptic decay of 0\.9 per step"),
    (lambda: (lambda nodes, edges: graph(nodes, [*edges, ("n1", "n0")]))(
        *chain(AFF, lif(2))), r"a cycle through n0, n1: the only cycle snnhw takes is"),
])
def test_unrepresentable_graphs_are_refused_by_name(make, message):
    with pytest.raises(NIRError, match=message):
        from_nir(make())


def test_cubalif_without_synaptic_memory_maps_to_lif():
    # tau_syn == dt: the synaptic current is the input itself (snnTorch Synaptic, alpha=0)
    cuba = nir.CubaLIF(tau_syn=np.full(2, 1e-4), tau_mem=np.full(2, 2e-4), r=np.full(2, 2.0),
                       v_leak=np.zeros(2), v_threshold=np.full(2, 0.5), w_in=np.full(2, 1.5))
    model = from_nir(graph(*chain(AFF, cuba)))
    assert model.lif[0].leak_shift == 1
    # scale = w_in * (dt / tau_syn) * r * dt / tau_mem / threshold = 1.5 * 1 * 1 / 0.5 = 3
    assert torch.allclose(model.fc[0].weight, torch.full((2, 3), 3.0))


def test_v_leak_becomes_a_bias():
    model = from_nir(graph(*chain(AFF, lif(2, v_leak=0.4))))
    # dt / tau = 0.25 of v_leak per step, over a threshold of 1
    assert torch.allclose(model.fc[0].bias, torch.full((2,), 0.1))


def test_export_refuses_what_nir_cannot_say():
    with pytest.raises(NIRError, match="spike_bits=2"):
        to_nir(SpikingMLP([4, 3], readout="spikes", spike_bits=2, fire="floor"))
    with pytest.raises(NIRError, match="fire='half'"):
        to_nir(SpikingMLP([4, 3], readout="spikes", spike_bits=1, fire="half"))


def test_cli_import_and_export(tmp_path, capsys):
    net = snntorch_net([20, 16, 8], [0.5, 0.875], reset_delay=False, seed=0, wscale=3.0)
    nir.write(tmp_path / "m.nir", export(net, 20))
    assert main(["import", str(tmp_path / "m.nir"), "-o", str(tmp_path / "m.snn"),
                 "--checkpoint", str(tmp_path / "m.pt"), "--timesteps", "6", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["integer_golden_agree"] == rep["check_samples"] == 64
    assert rep["leak_shift"] == [1, 3] and rep["timesteps"] == 6 and rep["readout"] == "spikes"
    assert main(["export", str(tmp_path / "m.pt"), "--nir", "-o", str(tmp_path / "b.nir"),
                 "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert sorted(rep["nodes"].values()) == ["Affine", "Affine", "Input", "LIF", "LIF", "Output"]
    assert len(rep["edges"]) == 5
    # a bad file and an unrepresentable graph: one line, exit 2
    (tmp_path / "bad.nir").write_bytes(b"not hdf5")
    assert main(["import", str(tmp_path / "bad.nir")]) == 2
    assert "not a readable NIR graph" in capsys.readouterr().err
    nir.write(tmp_path / "leak.nir", graph(*chain(AFF, lif(2, tau=5e-4))))
    assert main(["import", str(tmp_path / "leak.nir"), "-o", str(tmp_path / "x.snn")]) == 2
    assert "node 'n1': tau gives a leak of 0.8" in capsys.readouterr().err


# -- the documented path to hardware ------------------------------------------------
SIMS = [pytest.param(s, marks=pytest.mark.skipif(
    simulator_available(s) is not None and not os.environ.get("CI"),
    reason=str(simulator_available(s)))) for s in ("verilator", "icarus")]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    d = tmp_path_factory.mktemp("nir")
    net = snntorch_net([20, 16, 8], [0.5, 0.875], reset_delay=False, seed=0, wscale=3.0)
    nir.write(d / "snntorch.nir", export(net, 20))
    assert main(["import", str(d / "snntorch.nir"), "-o", str(d / "net.snn"),
                 "--timesteps", "8", "--json"]) == 0
    assert main(["generate", str(d / "net.snn"), "--lanes", "4", "-o", str(d / "rtl"),
                 "--json"]) == 0
    return d


@pytest.mark.parametrize("sim", SIMS)
def test_imported_snntorch_network_on_rtl(sim, imported, capsys):
    capsys.readouterr()
    net = load(imported / "net.snn")
    x = binary_input(7, 12, net.timesteps, net.n_in).to(dtype=int).numpy().astype(np.int64)
    r = run_case(net, x, rtl_dir=imported / "rtl", sim=sim, work=imported, name=f"nir-{sim}",
                 out_pauses="light")
    assert r.report["errors"] == [] and r.report["first_mismatch"] is None, r.report
    assert r.ok and r.tests == 1 and r.failed == 0


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
def test_verify_imported_snntorch_network_out_of_the_box(imported, capsys):
    # no data fits its 20 inputs: verify says so and runs seeded random inputs
    capsys.readouterr()
    assert main(["verify", str(imported / "net.snn"), "--n", "6", "--lanes", "4", "--rtl",
                 str(imported / "rtl"), "--work", str(imported / "v"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] and d["samples"] == 6 and d["golden_hw_agree"] == 6
    assert d["torch_golden_agree"] == 6 and d["inputs"].startswith("seeded random inputs")


@pytest.mark.slow
def test_imported_snntorch_network_builds_for_icebreaker(imported, capsys):
    capsys.readouterr()
    rc = main(["build", str(imported / "net.snn"), "--board", "icebreaker", "--lanes", "4",
               "-o", str(imported / "build"), "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rc == 0 and rep["dsp_used"] == 0 and rep["timing_met"] and rep["fits"]
    assert rep["resources"]["bram"]["used"] == rep["estimate"]["bram"]


def test_imported_network_block_ram_estimate(imported):
    # measured by the build above (Yosys 0.70): 5 SB_RAM40_4K (the link buffer 2, layer 0's
    # weights 2, its spike FIFO 1); the depth-4 accumulators and membranes went to logic
    from snnboards.estimate import estimate
    assert estimate(load(imported / "net.snn"), "icebreaker", lanes=4)["bram"] == 5
