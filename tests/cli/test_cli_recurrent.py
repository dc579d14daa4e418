"""Recurrent networks through the command line: train --arch r<N>/rnn -> export -> info
-> verify (Verilator, stalls), snnTorch RLeaky -> NIR -> import -> verify, the import's
warning when no neuron fires, and conversion's one-line refusal."""

import json

import numpy as np
import pytest

from snnhw.cli import main
from snnhw.data import load_data
from snnhw.nn.train import TrainConfig
from snntb.runner import simulator_available

nir = pytest.importorskip("nir")
needs_verilator = pytest.mark.skipif(simulator_available("verilator") is not None,
                                     reason="no verilator")


def cli(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_arch_rnn_is_the_temporal_data_sets_recurrent_network():
    cfg = TrainConfig.for_data(load_data("mnist1d-temporal"), arch="rnn")
    assert (cfg.arch, cfg.optimizer, cfg.lr, cfg.epochs, cfg.bn) == ("r128", "adam", 5e-3,
                                                                      60, True)
    assert cfg.timesteps == 40 and cfg.leak_shift == 3
    with pytest.raises(ValueError, match="no default recurrent network"):
        TrainConfig.for_data(load_data("digits"), arch="rnn")


@needs_verilator
def test_train_export_info_verify(tmp_path, capsys):
    ck, net = tmp_path / "r.pt", tmp_path / "r.snn"
    rc, out, _ = cli(capsys, "train", "--data", "mnist1d-temporal", "--arch", "r12",
                     "--epochs", "1", "-o", ck, "--no-progress", "--json")
    assert rc == 0 and json.loads(out)["arch"] == "r12"
    rc, out, _ = cli(capsys, "export", ck, "-o", net, "--w-bits", "10", "--json")
    rep = json.loads(out)
    assert rc == 0 and rep["agree_samples"] == rep["samples"] == 1000
    rc, out, _ = cli(capsys, "info", net, "--json")
    layers = json.loads(out)["layers"]
    assert [ly["kind"] for ly in layers] == ["recurrent", "dense"]
    assert layers[0]["weights"] == 12 * 7 + 12 * 12       # W and R
    rc, out, _ = cli(capsys, "verify", ck, "--w-bits", "10", "--n", "30", "--lanes", "4",
                     "--in-pauses", "bursty", "--out-pauses", "heavy", "--work",
                     tmp_path / "w", "--no-progress", "--json")
    d = json.loads(out)
    assert rc == 0 and d["ok"] and d["torch_golden_agree"] == d["golden_hw_agree"] == 30
    # and on the serial core
    rc, out, _ = cli(capsys, "verify", ck, "--w-bits", "10", "--n", "20", "--lanes", "3",
                     "--core", "serial", "--in-pauses", "light", "--work", tmp_path / "ws",
                     "--no-progress", "--json")
    d = json.loads(out)
    assert rc == 0 and d["ok"] and d["golden_hw_agree"] == 20


@needs_verilator
def test_snntorch_rleaky_import_verify(tmp_path, capsys):
    from tests.nn.test_nirio import export
    from tests.nn.test_nirrec import RNet

    net = RNet([10, 12, 8, 4], 0.875, all_to_all=True, seed=3, last_linear=True)
    nir.write(tmp_path / "r.nir", export(net, 10))
    rc, out, _ = cli(capsys, "import", tmp_path / "r.nir", "-o", tmp_path / "r.snn",
                     "--timesteps", "10", "--json")
    rep = json.loads(out)
    assert rc == 0 and rep["written"] and rep["warnings"] == [] and rep["spikes_on_check"] > 0
    x = (np.random.default_rng(1).random((40, 10, 10)) < 0.3).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    rc, out, _ = cli(capsys, "verify", tmp_path / "r.snn", "--input", tmp_path / "x.npy",
                     "--lanes", "3", "--in-pauses", "light", "--work", tmp_path / "w",
                     "--no-progress", "--json")
    d = json.loads(out)
    assert rc == 0 and d["ok"] and d["golden_hw_agree"] == 40


def _discrete_time_graph():
    """IF neurons with r = 1: the discrete-time form (Sinabs-like), where dt = 1."""
    n = 4
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([3])),
        "fc": nir.Affine(weight=np.full((n, 3), 0.6), bias=np.zeros(n)),
        "if": nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n)),
        "out": nir.Affine(weight=np.ones((2, n)), bias=np.zeros(2)),
        "output": nir.Output(output_type=np.array([2]))},
        edges=[("input", "fc"), ("fc", "if"), ("if", "out"), ("out", "output")])


def test_import_warns_when_no_neuron_fires_naming_dt(tmp_path, capsys):
    nir.write(tmp_path / "d.nir", _discrete_time_graph())
    rc, out, err = cli(capsys, "import", tmp_path / "d.nir", "-o", tmp_path / "a.snn",
                       "--json")
    rep = json.loads(out)
    assert rc == 0 and rep["spikes_on_check"] == 0
    assert len(rep["warnings"]) == 1 and "--dt 1" in rep["warnings"][0]
    assert "warning: no neuron fired" in err and "--dt 1" in err
    rc, out, err = cli(capsys, "import", tmp_path / "d.nir", "-o", tmp_path / "b.snn",
                       "--dt", "1", "--json")
    rep = json.loads(out)
    assert rc == 0 and rep["warnings"] == [] and rep["spikes_on_check"] > 0 and err == ""


def test_conversion_refuses_a_recurrent_layer(tmp_path, capsys):
    rc, _, err = cli(capsys, "convert", "--data", "mnist1d", "--arch", "r16", "-o",
                     tmp_path / "c.pt", "--epochs", "1")
    assert rc == 2 and "'r16' is recurrent" in err
