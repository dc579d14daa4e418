"""NIR import and export of recurrent layers (docs/arithmetic.md, "Recurrence"):
snnTorch 1.0's own ``export_to_nir`` of ``RLeaky`` (all-to-all and diagonal feedback),
compared with snnTorch's simulation step by step; hand-written graphs with the same
cycle (flat and as a subgraph); any other cycle refused naming its nodes; snnhw ->
NIR -> snnhw identical; the quantised import bit-exact through the golden model."""

import itertools

import numpy as np
import pytest
import torch

nir = pytest.importorskip("nir")
snn = pytest.importorskip("snntorch")
from snntorch import utils  # noqa: E402
from torch import nn  # noqa: E402

from snnhw.golden.compare import integer_vs_golden  # noqa: E402
from snnhw.ir import RecurrentLayer  # noqa: E402
from snnhw.nn.conv import SpikingConvNet  # noqa: E402
from snnhw.nn.export import export_model  # noqa: E402
from snnhw.nn.nirio import NIRError, from_nir, to_nir  # noqa: E402

from .test_nirio import binary_input, export  # noqa: E402


class RNet(nn.Module):
    """Linear -> RLeaky -> Linear -> RLeaky [-> Linear]: per-neuron thresholds,
    reset_delay=False (docs/arithmetic.md's soft reset)."""

    def __init__(self, sizes, beta, *, all_to_all, seed, last_linear=False, wscale=1.0):
        super().__init__()
        torch.manual_seed(seed)
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        with torch.no_grad():
            for fc in self.fc:
                fc.weight.mul_(wscale)
        hidden = sizes[1:-1] if last_linear else sizes[1:]
        self.rec = nn.ModuleList(
            snn.RLeaky(beta=beta, linear_features=n if all_to_all else None,
                       all_to_all=all_to_all,
                       V=None if all_to_all else torch.rand(n) * 0.8 - 0.2,
                       threshold=0.5 + torch.rand(n), reset_mechanism="subtract",
                       reset_delay=False, init_hidden=True) for n in hidden)
        if all_to_all:
            with torch.no_grad():
                for r in self.rec:
                    r.recurrent.weight.mul_(1.5)

    def forward(self, x):
        for i, fc in enumerate(self.fc):
            x = fc(x)
            if i < len(self.rec):
                x = self.rec[i](x)
        return x


@torch.no_grad()
def run_rnet(net, x):
    """Per step the output, and per sample whether a membrane stayed above its threshold
    after its reset (snnTorch's threshold bookkeeping differs there, as for Leaky)."""
    utils.reset(net)
    out, above = [], torch.zeros(x.shape[0], dtype=torch.bool)
    for t in range(x.shape[1]):
        out.append(net(x[:, t]))
        for r in net.rec:
            above |= (r.mem > r.threshold).any(dim=1)
    return torch.stack(out, 1), above


@torch.no_grad()
def spikes_of(model, x):
    model.record(True)
    model(x)
    s = torch.stack([r[1] for r in model.lif[-1].recorded], 1)
    model.record(False)
    return s


@pytest.mark.parametrize("all_to_all", [True, False])
@pytest.mark.parametrize("beta", [1.0, 0.875])
def test_snntorch_rleaky_spikes_equal_step_by_step(all_to_all, beta, tmp_path):
    net = RNet([10, 12, 6], beta, all_to_all=all_to_all, seed=1)
    nir.write(tmp_path / "r.nir", export(net, 10))
    model = from_nir(tmp_path / "r.nir", timesteps=12)
    assert isinstance(model, SpikingConvNet)
    assert [ly["kind"] for ly in model.plan] == ["recurrent", "recurrent"]
    x = binary_input(2, 200, 12, 10)
    a, above = run_rnet(net, x)
    b = spikes_of(model, x)
    clean = ~above
    assert clean.sum() >= 15
    assert torch.equal(a[clean], b[clean])           # exact where the math is the same
    assert (a != b).float().mean() <= 0.05           # and close elsewhere
    assert a.sum() > 1000
    # the feedback matters: without it the spikes differ
    plain = from_nir(tmp_path / "r.nir", timesteps=12)
    with torch.no_grad():
        for op in plain.ops:
            op.feedback.weight.zero_()
    assert not torch.equal(spikes_of(plain, x)[clean], a[clean])


def test_quantised_rleaky_import_is_bit_exact_through_the_golden_model():
    net = RNet([10, 12, 8, 4], 0.875, all_to_all=True, seed=3, last_linear=True)
    model = from_nir(export(net, 10), timesteps=10)
    assert model.readout == "membrane"
    q, ir_net = export_model(model, w_bits=8, u_bits=16, name="rleaky")
    assert [type(ly).__name__ for ly in ir_net.layers] == ["RecurrentLayer"] * 2 + [
        "DenseLayer"]
    x = binary_input(4, 100, 10, 10).to(torch.int64).numpy()
    r, _, agree, mismatch = integer_vs_golden(q, ir_net, x)
    assert mismatch is None and agree.all()
    assert int(r["layers"][1]["s"].sum()) > 0


def _hand_graph(R, *, nested=False, extra_cycle=False):
    n = R.shape[0]
    lif = nir.LIF(tau=np.full(n, 8e-4), r=np.full(n, 8.0), v_leak=np.zeros(n),
                  v_threshold=np.ones(n), v_reset=np.zeros(n))
    fc = nir.Affine(weight=np.eye(n, 3) * 2.0, bias=np.zeros(n))
    out = nir.Affine(weight=np.ones((2, n)), bias=np.zeros(2))
    nodes = {"input": nir.Input(input_type=np.array([3])), "fc": fc,
             "output": nir.Output(output_type=np.array([2])), "out": out}
    edges = [("input", "fc"), ("out", "output")]
    if nested:
        nodes["rec"] = nir.NIRGraph(
            nodes={"input": nir.Input(input_type=np.array([n])), "lif": lif,
                   "w_rec": nir.Linear(weight=R), "output": nir.Output(output_type=np.array([n]))},
            edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
            type_check=False)
        edges += [("fc", "rec"), ("rec", "out")]
    else:
        nodes.update({"lif": lif, "w_rec": nir.Linear(weight=R)})
        edges += [("fc", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "out")]
        if extra_cycle:
            edges += [("out", "fc")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_hand_written_graphs_flat_and_nested_import_the_same():
    R = np.array([[0.0, -0.5, 0.25], [0.5, 0.0, 0.0], [0.0, 0.75, -0.25]])
    flat = from_nir(_hand_graph(R), timesteps=5)
    nested = from_nir(_hand_graph(R, nested=True), timesteps=5)
    for a, b in zip(flat.ops, nested.ops):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert torch.allclose(flat.ops[0].feedback.weight.double(), torch.as_tensor(R))
    assert torch.equal(flat.ops[0].feedback.weight, nested.ops[0].feedback.weight)


def test_another_cycle_is_refused_naming_its_nodes():
    with pytest.raises(NIRError, match="cycle through fc, lif, out: the only cycle"):
        from_nir(_hand_graph(np.zeros((3, 3)), extra_cycle=True), timesteps=4)


def test_snnhw_to_nir_to_snnhw_is_identical():
    torch.manual_seed(0)
    model = SpikingConvNet("r8,d6", in_shape=(1, 1, 5), n_classes=3, timesteps=6, in_bits=1,
                           in_scale=1.0, spike_bits=1, fire="floor", leak_shift=3, mpr=False)
    with torch.no_grad():
        model.ops[0].feedback.weight.uniform_(-0.5, 0.5)
    back = from_nir(to_nir(model))
    assert [ly["kind"] for ly in back.plan] == [ly["kind"] for ly in model.plan]
    for a, b in zip(model.ops, back.ops):
        assert torch.allclose(a.weight, b.weight, atol=1e-6)
        assert torch.allclose(a.bias, b.bias, atol=1e-6)
    assert torch.allclose(model.ops[0].feedback.weight, back.ops[0].feedback.weight, atol=1e-6)
    x = binary_input(7, 20, 6, 5)
    with torch.no_grad():
        assert torch.equal(model(x), back(x))
    _, ir_net = export_model(back, w_bits=8, u_bits=16)
    assert isinstance(ir_net.layers[0], RecurrentLayer)
