"""The default model, trained once: integer mode == golden on the whole test split."""

import numpy as np
import pytest
import torch

from snnhw import golden, ir
from snnhw.data import load_digits_split
from snnhw.golden.compare import first_mismatch
from snnhw.nn.convert import convert, train_ann
from snnhw.nn.export import compare, export_model
from snnhw.nn.model import encode
from snnhw.nn.train import TrainConfig, train


@pytest.fixture(scope="module")
def data():
    return load_digits_split()


@pytest.fixture(scope="module")
def trained(data):
    model, _ = train(TrainConfig(), data, progress=False)
    return model


def test_split_is_fixed(data):
    assert (len(data.x_train), len(data.x_test)) == (1437, 360)
    assert data.x_train.max() == 16 and data.x_train.min() == 0
    total = np.bincount(np.concatenate([data.y_train, data.y_test]))
    assert np.all(np.abs(np.bincount(data.y_test) - 0.2 * total) <= 1)  # stratified
    again = load_digits_split()
    assert np.array_equal(again.x_test, data.x_test) and np.array_equal(again.y_train,
                                                                        data.y_train)


def test_default_model_exports_bit_exact_on_whole_test_split(trained, data, tmp_path):
    q, net = export_model(trained, name="digits")
    path = ir.save(net, tmp_path / "digits.snn")
    loaded = ir.load(path)
    c = compare(trained, q, loaded, data.x_test, data.y_test)
    assert c.samples == 360
    assert c.agree_samples == 360 and c.first_mismatch is None
    assert c.int_acc == c.golden_acc
    # measured targets (issue): >= 97 %, within 0.5 points of float; the test
    # keeps a one-sample margin against platform float differences in training
    assert c.int_acc >= 0.967
    assert c.float_acc - c.int_acc <= 0.008


def test_spikes_really_flow_through_the_hidden_layer(trained, data):
    _, net = export_model(trained)
    g = golden.run(net, encode(trained.config, data.x_test[:50]).numpy(), trace=True)
    s = g.layers[0].s
    assert 0.02 < (s > 0).mean() < 0.9
    assert (s == 3).any()  # multi-bit levels are used


def test_first_mismatch_names_layer_step_neuron(trained, data):
    q, net = export_model(trained)
    x = encode(trained.config, data.x_test[:5])
    r = q.run(x)
    g = golden.run(net, x.numpy(), trace=True)
    t_layers = [{k: v.numpy() for k, v in ly.items()} for ly in r["layers"]]
    g_layers = [{k: getattr(ly, k).copy() for k in "Ivsu"} for ly in g.layers]
    assert first_mismatch(t_layers, g_layers, r["logits"].numpy(), g.logits) is None
    g_layers[0]["s"][3, 2, 17] += 1
    g_layers[1]["I"][4, 0, 1] += 1
    assert first_mismatch(t_layers, g_layers, r["logits"].numpy(), g.logits) == dict(
        sample=3, layer=0, step=2, neuron=17, what="s",
        a=int(t_layers[0]["s"][3, 2, 17]), b=int(t_layers[0]["s"][3, 2, 17]) + 1)


def test_converted_model_exports_bit_exact(data):
    n_cal = len(data.x_train) // 5
    ann = train_ann([64, 48, 10], data.x_train[n_cal:], data.y_train[n_cal:], epochs=15)
    calib = torch.as_tensor(data.x_train[:n_cal], dtype=torch.float32) / 16
    snn = convert(ann, calib, timesteps=16, spike_bits=1, l4_strength=0.5)
    q, net = export_model(snn)
    assert net.in_bits == 1 and net.layers[0].fire_offset == 0
    c = compare(snn, q, net, data.x_test, data.y_test, seed=3)
    assert c.agree_samples == 360
    assert c.golden_acc > 0.85
