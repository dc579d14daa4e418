"""The Python API (snnhw.api): every step from Python, typed errors, readable results."""

import json

import numpy as np
import pytest

import snnhw
from snnhw.gateware.plan import DesignError
from snnhw.ir import IRError
from snnhw.ir.examples import example_paths, random_network
from snnhw.nn.nirio import NIRError


def test_load_run_info_estimate_generate(tmp_path):
    net_path, x_path = example_paths()
    m = snnhw.load(net_path)
    x = np.load(x_path)
    from snnhw import golden

    assert m.run(x).logits.tolist() == golden.run(m.network, x).logits.tolist()
    # static inputs [batch, n_in] repeat every step
    assert m.run(x[:, 0]).logits.tolist() == golden.run(
        m.network, np.repeat(x[:, :1], m.network.timesteps, axis=1)).logits.tolist()
    info = m.info()
    assert info.n_in == 64 and info.layers[0]["kind"] == "dense"
    assert "Info(" in repr(info) and "<table>" in info._repr_html_()
    assert json.dumps(info.to_dict())            # plain data
    est = m.estimate("icebreaker", lanes=2)
    assert est.fits is True and est.does_not_fit is None and est.lc > 0
    big = snnhw.Model(random_network(np.random.default_rng(0), [784, 512, 10]))
    too_big = big.estimate("icebreaker", lanes=8)
    assert too_big.fits is False and "does not fit" in too_big.does_not_fit
    gen = m.generate(tmp_path / "rtl", lanes=2)
    assert (tmp_path / "rtl" / "snn_top.v").exists() and gen.ir_hash == m.network.content_hash()
    with pytest.raises(AttributeError, match="Generated has no field 'nope'"):
        _ = gen.nope


def test_errors_are_typed_exceptions(tmp_path):
    bad = tmp_path / "bad.snn"
    bad.write_bytes(b"not a zip")
    with pytest.raises(IRError):
        snnhw.load(bad)
    m = snnhw.load(example_paths()[0])
    with pytest.raises(DesignError):
        m.generate(tmp_path / "rtl", lanes=[2, 3], core="serial")
    with pytest.raises(NIRError, match="needs the float model"):
        m.to_nir()


def test_from_torch_save_and_nir_object_round_trip(tmp_path):
    torch = pytest.importorskip("torch")
    from snnhw.nn.conv import SpikingConvNet

    torch.manual_seed(0)
    model = SpikingConvNet("r8", in_shape=(1, 1, 5), n_classes=3, timesteps=6, in_bits=1,
                           in_scale=1.0, spike_bits=1, fire="floor", leak_shift=3, mpr=False)
    m = snnhw.from_torch(model, name="tiny")
    assert m.network.layers[0].kind == "recurrent"
    back = snnhw.load(m.save(tmp_path / "t.snn"))
    assert back.network.equals(m.network)
    again = snnhw.from_nir(m.to_nir(), name="tiny")          # a graph object, not a file
    for a, b in zip(again.network.layers, m.network.layers):
        assert all(np.array_equal(u, v) for u, v in zip(a.arrays().values(),
                                                         b.arrays().values()))
    x = (np.random.default_rng(0).random((8, 6, 5)) < 0.4).astype(np.int64)
    assert again.run(x).logits.tolist() == m.run(x).logits.tolist()


def test_every_error_class_derives_from_the_one_base():
    """Each module's own error classes (found in the source, not listed by hand) derive
    from SnnhwError; those that were a ValueError or RuntimeError still are."""
    import ast
    import importlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = []
    for pkg, folder in (("snnhw", root / "snnhw"), ("snnboards", root / "boards" / "snnboards"),
                        ("snntb", root / "sim" / "snntb")):
        for path in folder.rglob("*.py"):
            names = [n.name for n in ast.parse(path.read_text()).body
                     if isinstance(n, ast.ClassDef) and n.name.endswith("Error")]
            if names:
                parts = [pkg, *path.relative_to(folder).with_suffix("").parts]
                mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                found += [getattr(importlib.import_module(mod), n) for n in names]
    assert len(found) >= 20
    assert [c.__name__ for c in found if not issubclass(c, snnhw.SnnhwError)] == []


def test_verify_a_data_sets_test_split():
    from snntb.runner import simulator_available

    if simulator_available("verilator") is not None:
        pytest.skip("no verilator")
    m = snnhw.load(example_paths()[0])          # 64 inputs of 5 bits: the digits' shape
    rep = m.verify(data="digits", n=20, lanes=4, in_pauses="light")
    assert rep.ok and rep.samples == 20 and rep.acc_hw == rep.acc_golden is not None
    with pytest.raises(ValueError, match="one of the two"):
        m.verify()
