"""User data files: good static and temporal files load as integers; floats are quantised by
the documented rule; every bad file is refused in one line that names the array."""

import numpy as np
import pytest

from snnhw.data import DataError, load_data, thermometer
from snnhw.data.files import load_npz


def write(path, **arrays):
    base = {"x_train": np.arange(12).reshape(4, 3) % 8, "y_train": np.array([0, 1, 0, 1]),
            "x_test": np.array([[1, 2, 3], [7, 0, 0]]), "y_test": np.array([1, 0])}
    base.update(arrays)
    np.savez(path, **{k: v for k, v in base.items() if v is not None})
    return path


def test_static_integers_keep_their_values_and_smallest_bits(tmp_path):
    d = load_npz(write(tmp_path / "s.npz"))
    assert d.in_bits == 3 and not d.temporal and d.n_in == 3
    assert d.x_test.tolist() == [[1, 2, 3], [7, 0, 0]] and d.x_test.dtype == np.int64
    assert d.y_test.tolist() == [1, 0]
    assert load_data(str(tmp_path / "s.npz"), in_bits=5).in_bits == 5


def test_temporal_inputs(tmp_path):
    x = np.zeros((4, 5, 3), np.uint8)
    x[:, 2, 1] = 9
    d = load_npz(write(tmp_path / "t.npz", x_train=x, x_test=x[:2]))
    assert d.temporal and d.steps == 5 and d.in_bits == 4 and d.x_test[0, 2, 1] == 9


def test_floats_are_quantised_over_the_training_range(tmp_path):
    xtr = np.array([[-1.0, 0.0], [1.0, 0.5], [0.25, -0.5], [0.0, 0.0]])
    xte = np.array([[2.0, -1.0], [0.0, 1.0]])  # 2.0 is clipped to the training maximum
    d = load_npz(write(tmp_path / "f.npz", x_train=xtr, x_test=xte), in_bits=2)
    # [-1, 1] onto 0..3: x -> round((x + 1) * 1.5), half to even
    assert d.x_train.tolist() == [[0, 2], [3, 2], [2, 1], [2, 2]]
    assert d.x_test.tolist() == [[3, 0], [2, 3]]
    assert d.info["quantised"] == {"lo": -1.0, "hi": 1.0, "in_bits": 2, "test_clipped": 1}


@pytest.mark.parametrize("arrays, message", [
    ({"y_test": None}, "missing array(s) y_test"),
    ({"x_test": np.zeros((2, 4), np.int64)}, "x_train is [3] per sample but x_test is [4]"),
    ({"x_train": np.zeros((4,), np.int64)}, "array x_train must be [n, n_in] or [n, T, n_in]"),
    ({"y_train": np.array([0, 1])}, "array y_train has 2 labels for 4 inputs"),
    ({"y_test": np.array([0.5, 1.0])}, "array y_test must hold integer labels"),
    ({"y_test": np.array([-1, 0])}, "array y_test has a negative label"),
    ({"x_test": np.array([[1, 2, -3], [0, 0, 0]])}, "array x_test has a negative value"),
    ({"x_train": np.full((4, 3), np.nan)}, "array x_train has NaN or infinite values"),
    ({"x_test": np.array([["a", "b", "c"]] * 2)}, "array x_test must be numbers"),
    ({"x_test": np.zeros((0, 3), np.int64), "y_test": np.zeros(0, np.int64)},
     "array x_test is empty"),
])
def test_bad_files_are_refused_naming_the_array(tmp_path, arrays, message):
    with pytest.raises(DataError) as exc:
        load_npz(write(tmp_path / "bad.npz", **arrays))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_values_past_in_bits_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="array x_train reaches 7, which does not fit in_bits=2"):
        load_npz(write(tmp_path / "a.npz"), in_bits=2)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"not a readable \.npz file"):
        load_npz(junk)
    np.savez(tmp_path / "obj.npz", x_train=np.array([{}], dtype=object), y_train=[0],
             x_test=[[0]], y_test=[0])
    with pytest.raises(DataError, match="array x_train cannot be read without pickle"):
        load_npz(tmp_path / "obj.npz")
    with pytest.raises(DataError, match="no such data file"):
        load_npz(tmp_path / "none.npz")
    with pytest.raises(DataError, match="unknown data set 'mnist'"):
        load_data("mnist")


def test_digits_is_registered():
    d = load_data("digits")
    assert (d.n_in, len(d.x_test), len(d.x_train), d.in_bits) == (64, 360, 1437, 5)


def test_mnist1d_is_generated_offline_and_quantised():
    d = load_data("mnist1d")
    assert (d.n_in, len(d.x_train), len(d.x_test), d.in_bits) == (40, 4000, 1000, 5)
    assert d.x_train.dtype == np.int64 and d.x_train.min() == 0 and d.x_train.max() == 31
    assert sorted(set(d.y_test.tolist())) == list(range(10))
    # the fixed seed: the same data every time
    again = load_data("mnist1d")
    assert np.array_equal(again.x_test, d.x_test) and np.array_equal(again.y_train, d.y_train)
    # cached floats, but every load hands out its own arrays
    again.x_test[0, 0], again.y_test[0] = -1, -1
    fresh = load_data("mnist1d")
    assert fresh.x_test[0, 0] == d.x_test[0, 0] and fresh.y_test[0] == d.y_test[0]


def test_mnist1d_temporal_is_a_thermometer_code_of_the_same_samples():
    s, t = load_data("mnist1d"), load_data("mnist1d-temporal")
    assert t.temporal and t.steps == 40 and t.n_in == 7 and t.in_bits == 1
    assert t.x_test.shape == (1000, 40, 7) and set(np.unique(t.x_train)) == {0, 1}
    assert np.array_equal(t.y_test, s.y_test)
    # a thermometer: channels are non-increasing, so the level is their sum
    assert (np.diff(t.x_train, axis=2) <= 0).all()
    level = t.x_train.sum(axis=2)
    assert level.min() == 0 and level.max() == 7
    # 8 levels of the same signal over the same range the static set quantises to 32
    # levels: each static value v pins the signal within half a 1/31 step, so the level
    # is within half a level (plus that) of v * 7 / 31
    qs, qt = s.info["quantised"], t.info["quantised"]
    assert (qs["lo"], qs["hi"]) == (qt["lo"], qt["hi"]) and qt["in_bits"] == 3
    assert np.abs(level - s.x_train * 7 / 31).max() <= 0.5 + 7 / 62 + 1e-9


def test_thermometer_by_hand():
    assert thermometer(np.array([0, 3, 1]), 4).tolist() == [[0, 0, 0], [1, 1, 1], [1, 0, 0]]


def test_training_defaults_follow_the_data():
    from snnhw.nn.train import TrainConfig

    d = load_data("mnist1d")
    cfg = TrainConfig.for_data(d, seed=3)
    assert cfg.sizes == (40, 256, 128, 10) and cfg.normalize and cfg.bn and cfg.seed == 3
    assert cfg.optimizer == "adam" and cfg.data == "mnist1d" and cfg.timesteps == 4
    assert TrainConfig.for_data(d, hidden=(16,), timesteps=2).sizes == (40, 16, 10)
    t = TrainConfig.for_data(load_data("mnist1d-temporal"))
    assert t.timesteps == 40 and t.leak_shift == 3 and not t.normalize
    with pytest.raises(ValueError, match="T must be 40"):
        TrainConfig.for_data(load_data("mnist1d-temporal"), timesteps=4)
    # digits: the recipe the main job has always used
    g = TrainConfig.for_data(load_data("digits"))
    assert g.sizes == (64, 128, 10) and g.optimizer == "sgd" and not g.normalize
    assert (g.epochs, g.lr, g.timesteps) == (TrainConfig().epochs, TrainConfig().lr, 4)
