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
