import pytest
import torch

from snnhw.data import load_digits_split
from snnhw.nn.train import CheckpointError, TrainConfig, load_checkpoint, save_checkpoint, train


def test_checkpoint_round_trip_weights_only(tmp_path):
    data = load_digits_split()
    cfg = TrainConfig(epochs=1, sizes=(64, 16, 10), bn=True, leak_shift=3, spike_bits=3)
    model, hist = train(cfg, data, progress=False)
    path = save_checkpoint(tmp_path / "m.pt", model, hist, cfg)
    raw = torch.load(path, weights_only=True)
    assert raw["config"]["leak_shift"] == 3 and raw["train_config"]["epochs"] == 1
    back, _ = load_checkpoint(path)
    x = torch.randint(0, 17, (7, 4, 64)).float()
    with torch.no_grad():
        assert torch.equal(back(x), model(x))
    assert back.lif[0].spike_bits == 3 and back.lif[0].leak_shift == 3


def test_training_is_seeded():
    data = load_digits_split()
    a, _ = train(TrainConfig(epochs=1, sizes=(64, 16, 10)), data, progress=False)
    b, _ = train(TrainConfig(epochs=1, sizes=(64, 16, 10)), data, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_bad_checkpoints(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "x.pt")
    torch.save({"kind": "other"}, tmp_path / "y.pt")
    with pytest.raises(CheckpointError, match="not an snnhw checkpoint"):
        load_checkpoint(tmp_path / "y.pt")


class Gadget:
    pass


def _ck(tmp_path, name, **change):
    from snnhw.nn.train import save_checkpoint

    path = tmp_path / "good.pt"
    if not path.exists():
        model = TrainConfig(sizes=(6, 5, 3)).model()
        save_checkpoint(path, model)
    ck = torch.load(path, weights_only=True)
    for key, value in change.items():
        if key == "config" and value is not None:
            ck["config"] = {**ck["config"], **value}
        else:
            ck[key] = value
    torch.save(ck, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("change, message", [
    ({"config": {"sizes": "abc"}}, "bad config: sizes must"),
    ({"config": {"spike_bits": 0}}, "bad config: spike_bits must be an integer in 1..8"),
    ({"config": {"colour": "red"}}, "unknown config key(s) colour"),
    ({"config": {"sizes": [64, 200000, 200000, 10]}}, "more than the 67,108,864"),
    ({"config": {"in_scale": float("nan")}}, "in_scale must be a positive finite"),
    ({"config": {"timesteps": 0}}, "timesteps must be an integer in 1..65536"),
    ({"state_dict": {}}, "state_dict does not match its config (missing: fc.0.bias"),
    ({"state_dict": "x"}, "key 'state_dict' must map names to tensors"),
    ({"config": None}, "key 'config' must be a dict with 'sizes'"),
])
def test_checkpoints_are_checked_whole(tmp_path, change, message):
    path = _ck(tmp_path, "bad.pt", **change)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_nan_weights_and_wrong_shapes_are_named(tmp_path):
    good = torch.load(_ck(tmp_path, "g.pt"), weights_only=True)["state_dict"]
    nan = {k: v.clone() for k, v in good.items()}
    nan["fc.0.weight"][0, 0] = float("nan")
    with pytest.raises(CheckpointError, match=r"state_dict\['fc.0.weight'\] has NaN"):
        load_checkpoint(_ck(tmp_path, "nan.pt", state_dict=nan))
    wide = {**good, "fc.1.bias": torch.zeros(7)}
    with pytest.raises(CheckpointError, match=r"state_dict\['fc.1.bias'\] has shape \[7\]"):
        load_checkpoint(_ck(tmp_path, "wide.pt", state_dict=wide))


def test_a_pickle_is_refused_in_one_line_without_unsafe_advice(tmp_path):
    torch.save({"kind": "snnhw-spiking-mlp", "config": Gadget()}, tmp_path / "p.pt")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path / "p.pt")
    text = str(err.value)
    assert "not a safe checkpoint" in text and "\n" not in text
    assert "weights_only=False" not in text
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_checkpoint(tmp_path)
