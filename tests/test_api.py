"""The Python API (snnhw.api): every step from Python, typed errors, readable results."""

import json
from pathlib import Path

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
    with pytest.raises(snnhw.InputError, match="not both"):
        m.verify(np.zeros((1, 64), dtype=np.int64), data="digits")
    with pytest.raises(snnhw.InputError, match=r"n must be in 1\.\.360, got 361") as err:
        m.verify(data="digits", n=361)
    assert err.value.cli.startswith("--n must be")     # the command line's spelling


def test_train_export_compare_and_the_checkpoint_round_trip(tmp_path):
    """train -> Trained (its report, save, export) -> compare, self_check; the checkpoint
    opens again as the same model and remembers its data set."""
    pytest.importorskip("torch")
    t = snnhw.train("digits", epochs=1, hidden=(16,), seed=3, spike_bits=1, fire="floor")
    assert t.sizes == [64, 16, 10] and t.data == "digits" and 0 <= t.test_acc <= 1
    assert "Training(" in repr(t) and json.dumps(t.to_dict())
    m = t.export(w_bits=6)
    assert m.data == "digits" and m.network.layers[0].w_bits == 6
    c = m.compare()                                          # the model's own data set
    assert c.samples == 360 and c.agree_samples == 360 and c.data == "digits"
    s = m.self_check(16, seed=1)
    assert s.check_samples == 16 and s.integer_golden_agree == 16
    ck = t.save(tmp_path / "m.pt")
    again = snnhw.open_checkpoint(ck)
    assert again.data == "digits"
    m2 = snnhw.from_checkpoint(ck, w_bits=6, name="")
    assert m2.network.equals(m.network)
    nir = m2.save_nir(tmp_path / "m.nir")
    assert sorted(nir.nodes.values()).count("Affine") == 2 and nir.edges
    back = snnhw.load(m2.save(tmp_path / "m.snn"))
    x, y, what = back.inputs(data="digits", n=5)             # an IR file: encoding auto
    from snnhw.data import load_data

    assert x.shape == (5, 4, 64) and "digits" in what
    assert y.tolist() == load_data("digits").y_test[:5].tolist()
    assert back.run(x).classes.tolist() == m.run(x).classes.tolist()


def test_checks_run_in_batches_within_the_budget(monkeypatch, capsys):
    """The side-by-side checks (export's comparison, import's check) run in batches when
    the budget is short (the same counts); inputs that do not fit, or one sample whose
    check does not, are refused with the memory they would need (and how many fit), in
    the command line's terms too."""
    pytest.importorskip("torch")
    import snnhw.api.inputs as inputs_mod
    from snnhw.cli import main

    m = snnhw.train("digits", epochs=1, hidden=(8,), seed=1).export()
    whole, check = m.compare().to_dict(), m.self_check(20).to_dict()
    per, inp = inputs_mod.check_bytes(m.network), inputs_mod.input_bytes(m.network)
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", 7 * per)     # 7 checks at a time
    assert m.compare().to_dict() == whole and whole["agree_samples"] == 360
    assert m.self_check(20).to_dict()["integer_golden_agree"] == 20
    assert check["integer_golden_agree"] == 20
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", 100 * inp)   # 100 samples of inputs
    with pytest.raises(snnhw.InputError, match=r"360 samples at T=4 need about .* MiB of "
                                               r"inputs, .*; at most 100 fit \(n=100\)"):
        m.inputs(data="digits")
    assert len(m.inputs(data="digits", n=100)[0]) == 100
    with pytest.raises(snnhw.InputError, match=r"^x: 101 samples .* \(n=100\)"):
        m.inputs(np.zeros((101, 64), np.int64))
    with pytest.raises(snnhw.InputError, match=r"^samples: 200 samples .* \(samples=100\)"):
        m.self_check(200)
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", per // 2)    # not one check
    for call in (m.compare, lambda: m.self_check(1)):
        with pytest.raises(snnhw.InputError, match=r"one sample at T=4 needs about"):
            call()
    net, x = example_paths()
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", 7 * inputs_mod.input_bytes(
        snnhw.load(net).network))
    assert main(["verify", str(net), "--input", str(x)]) == 2
    assert capsys.readouterr().err.startswith(f"snnhw: error: --input: {len(np.load(x))} "
                                              "samples")
    assert main(["verify", str(net), "--data", "digits", "--n", "8"]) == 2
    assert "at most 7 fit (--n 7)" in capsys.readouterr().err


def test_input_errors_carry_the_command_lines_spelling(tmp_path):
    pytest.importorskip("torch")
    m = snnhw.load(example_paths()[0])
    with pytest.raises(snnhw.InputError, match=r"^n must be in 1\.\.360, got 0$") as err:
        m.inputs(data="digits", n=0)
    assert err.value.cli == "--n must be in 1..360, got 0"
    with pytest.raises(snnhw.InputError, match=r"x: shape \[2, 3\], expected"):
        m.run(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(snnhw.InputError, match=r"has inputs of \[40\] per sample"):
        m.inputs(data="mnist1d")
    from snnhw.api import check_backend

    with pytest.raises(snnhw.InputError, match="port=") as err:
        check_backend("board")
    assert err.value.cli == "--backend board needs --port (the board's serial port)"
    with pytest.raises(snnhw.InputError, match="hidden is for the MLP") as err:
        snnhw.train("digits", arch="cnn", hidden=(8,))
    assert "--arch" in err.value.cli
    with pytest.raises(snnhw.InputError, match="timesteps must be 40") as err:
        snnhw.train("mnist1d-temporal", timesteps=4)
    assert "-T must be 40" in err.value.cli
    with pytest.raises(snnhw.InputError, match="is temporal; conversion rate-codes"):
        snnhw.convert("mnist1d-temporal")
    with pytest.raises(snnhw.InputError, match="resume and redo"):
        snnhw.explore_space([], resume=True, redo=True)
    with pytest.raises(snnhw.InputError, match="no results store"):
        snnhw.explore_report(tmp_path / "none.sqlite")


def test_convert_then_explore_from_python(tmp_path):
    """convert -> a checkpoint -> a one-point sweep on a one-worker cluster -> the same
    point reported again from the store."""
    pytest.importorskip("torch")
    c = snnhw.convert("digits", hidden=(16,), epochs=2, timesteps=8, l4=0.0)
    assert 0 <= c.snn_test_acc <= 1 and c.l4_strength == 0.0 and c.arch is None
    ck = c.save(tmp_path / "conv.pt")
    assert snnhw.open_checkpoint(ck).data == "digits"
    store = tmp_path / "s.sqlite"
    r = snnhw.explore_space([str(ck)], boards=["icebreaker"], lanes=["1"], w_bits=[8],
                            store=store, workers=1)
    assert r.failed == 0 and len(r.points) == 1 and r.summary["sweep"] == r.sweep
    again = snnhw.explore_report(store)
    assert again.points == r.points and again.front == r.front and again.summary is None
    assert Path(again.html).is_file() and all(Path(p).is_file() for p in again.plots)


def test_run_stays_within_its_memory_budget(monkeypatch, tmp_path, capsys):
    """A batch larger than the budget runs in pieces (the same logits); a trace larger
    than it, or one sample larger than it, is refused with the memory it would need."""
    import snnhw.api.inputs as inputs_mod
    from snnhw.cli import main

    m = snnhw.load(example_paths()[0])
    x = np.load(example_paths()[1])
    whole = m.run(x)
    per = inputs_mod.sample_bytes(m.network)
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", 3 * per)        # 3 samples at once
    pieces = m.run(x)
    assert pieces.logits.tolist() == whole.logits.tolist() and len(x) > 3
    with pytest.raises(snnhw.InputError, match=r"the trace of .* needs about"):
        m.run(x, trace=True)
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", per // 2)
    with pytest.raises(snnhw.InputError, match=r"one sample at T=.* needs about"):
        m.run(x)
    monkeypatch.setattr(inputs_mod, "MEMORY_BUDGET", 3 * per)
    assert main(["run", str(example_paths()[0]), "--input", str(example_paths()[1]),
                 "--trace", str(tmp_path / "t.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"snnhw: error: input {example_paths()[1]}: the trace of")
    assert main(["run", str(example_paths()[0]), "--data", "digits", "--json"]) == 0
