"""Values that used to pass validation and should not: labels outside the classes,
non-ASCII digits, NIR metadata of the wrong type or range, a checkpoint whose leak shift
the IR cannot hold. Each is one line and exit status 2."""

import numpy as np
import pytest
import torch

from snnhw.cli import main
from snnhw.ir.examples import example_paths


def _one_line(capsys, needle):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize("labels,needle", [
    (np.array([0, 99]), "the network has 10 classes"),
    (np.array([0, 2**64 - 1], dtype=np.uint64), "the network has 10 classes"),
    (np.array([0, -1]), "the network has 10 classes"),
])
def test_labels_outside_the_classes(tmp_path, capsys, labels, needle):
    net, x = example_paths()
    xs = tmp_path / "x.npy"
    np.save(xs, np.load(x)[:2])
    y = tmp_path / "y.npy"
    np.save(y, labels)
    assert main(["verify", str(net), "--input", str(xs), "--labels", str(y)]) == 2
    assert _one_line(capsys, needle).startswith("snnhw: error: --labels")


def test_a_data_files_labels_outside_the_classes(tmp_path, capsys):
    from snnhw.ir import save
    from snnhw.ir.examples import random_network

    rng = np.random.default_rng(0)
    net = tmp_path / "n.snn"
    save(random_network(rng, [6, 4, 3], in_bits=4, timesteps=2), net)
    npz = tmp_path / "d.npz"
    np.savez(npz, x_train=rng.integers(0, 16, (8, 6)), y_train=rng.integers(0, 3, 8),
             x_test=rng.integers(0, 16, (4, 6)), y_test=np.array([0, 1, 2, 7]))
    assert main(["verify", str(net), "--data", str(npz)]) == 2
    _one_line(capsys, "labels 0..7; the network has 3 classes")


@pytest.mark.parametrize("lanes", ["²", "٢", "2,²"])
def test_lanes_take_ascii_digits_only(capsys, lanes):
    assert main(["info", str(example_paths()[0]), "--lanes", lanes]) == 2
    _one_line(capsys, "--lanes takes integers")
    from snnhw.explore.space import SpaceError, load_space

    with pytest.raises(SpaceError, match="lanes"):
        load_space(checkpoints=["x.pt"], lanes=[lanes])


@pytest.mark.parametrize("key,value,needle", [
    ("snnhw_timesteps", 4.7, "expected an integer in 1..65536, got 4.7"),
    ("snnhw_timesteps", np.array([4, 5]), "snnhw_timesteps: expected an integer"),
    ("snnhw_dt", float("inf"), "snnhw_dt: expected a finite number"),
    ("snnhw_dt", 1e308, "snnhw_dt: expected a finite number"),
    ("snnhw_in_bits", "five", "snnhw_in_bits: expected an integer"),
])
def test_nir_metadata_of_the_wrong_type_or_range(tmp_path, capsys, key, value, needle):
    import nir

    from snnhw.nn.conv import SpikingConvNet
    from snnhw.nn.nirio import to_nir

    torch.manual_seed(0)
    model = SpikingConvNet("d6", in_shape=(1, 1, 4), n_classes=2, timesteps=2, in_bits=1,
                           in_scale=1.0, spike_bits=1, fire="floor", mpr=False)
    g = to_nir(model)
    g.metadata[key] = value
    path = tmp_path / "g.nir"
    nir.write(path, g)
    assert main(["import", str(path), "-o", str(tmp_path / "o.snn")]) == 2
    _one_line(capsys, needle)


def test_a_checkpoint_whose_leak_the_ir_cannot_hold(tmp_path, capsys):
    from snnhw.nn.model import SpikingMLP
    from snnhw.nn.train import save_checkpoint

    m = SpikingMLP([64, 8, 10], leak_shift=20)           # the IR allows 1..u_bits
    ck = save_checkpoint(tmp_path / "l.pt", m)
    assert main(["export", str(ck), "-o", str(tmp_path / "l.snn"), "--u-bits", "16"]) == 2
    _one_line(capsys, "cannot export: the IR cannot hold this model")
    with pytest.raises(ValueError, match=r"leak_shift must be None or an integer in 1\.\.32"):
        SpikingMLP([4, 3, 2], leak_shift=99)


def test_control_characters_from_a_checkpoint_never_reach_the_terminal(tmp_path, capsys):
    from snnhw.nn.model import SpikingMLP

    m = SpikingMLP([64, 8, 10])
    state = m.state_dict()
    state["evil\x1b[2J\x07"] = torch.zeros(1)
    ck = tmp_path / "evil.pt"
    torch.save({"kind": "snnhw-spiking-mlp", "data": "dig\x1b]0;x\x07its", "config": m.config,
                "state_dict": state, "history": {}, "train_config": {}}, ck)
    assert main(["export", str(ck), "-o", str(tmp_path / "e.snn")]) == 2
    line = _one_line(capsys, "unexpected: evil")
    assert "\x1b" not in line and "\x07" not in line and "\\x1b" in line
    del state["evil\x1b[2J\x07"]
    torch.save({"kind": "snnhw-spiking-mlp", "data": "dig\x1b]0;x\x07its", "config": m.config,
                "state_dict": state, "history": {}, "train_config": {}}, ck)
    assert main(["export", str(ck), "-o", str(tmp_path / "e.snn")]) == 2
    line = _one_line(capsys, "unknown data set")
    assert "\x1b" not in line and "\x07" not in line


def test_explores_trainings_take_the_ranges_of_train(tmp_path):
    from snnhw.explore.space import SpaceError, load_space, training_configs

    for value, needle in (("0", "epochs must be at least 1"), ("-3", "epochs must be an "
                          "integer in 0..100000"), ("1.5", "got 1.5"), ("true", "got True")):
        f = tmp_path / "s.toml"
        f.write_text(f'boards = ["icebreaker"]\n[train]\ndata = "digits"\nepochs = {value}\n')
        with pytest.raises(SpaceError, match=needle):
            training_configs(load_space(str(f)))


@pytest.mark.parametrize("argv,needle", [
    (["--scheduler", "tcp://host"], "expected tcp://HOST:PORT"),
    (["--scheduler", "tls://a:1"], "expected tcp://HOST:PORT"),
    (["--scheduler", "tcp://[::zz]:1"], "expected tcp://HOST:PORT"),
    (["--scheduler", "tcp://[1::2::3]:8786"], "is not an IPv6 address"),
    (["--workers", "1000"], "workers must be in 1.."),
])
def test_explore_checks_the_cluster_before_touching_anything(tmp_path, capsys, argv, needle):
    from snnhw.nn.model import SpikingMLP
    from snnhw.nn.train import save_checkpoint

    ck = save_checkpoint(tmp_path / "m.pt", SpikingMLP([64, 4, 10]))
    store = tmp_path / "s.sqlite"
    assert main(["explore", str(ck), "--store", str(store), *argv]) == 2
    _one_line(capsys, needle)
    assert not store.exists() and not (tmp_path / "s.sqlite.report").exists()


def test_an_npy_header_that_declares_more_than_the_file_holds(tmp_path, capsys):
    """A 100-byte file declaring 8 TB is refused from its header, before any allocation."""
    bomb = tmp_path / "bomb.npy"
    with open(bomb, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<i8", "fortran_order": False, "shape": (10**6, 10**6)})
        f.write(b"\0" * 64)
    net = str(example_paths()[0])
    assert main(["run", net, "--input", str(bomb)]) == 2
    _one_line(capsys, "more than the file holds")
    xs = tmp_path / "x.npy"
    np.save(xs, np.load(example_paths()[1])[:2])
    assert main(["verify", net, "--input", str(xs), "--labels", str(bomb)]) == 2
    _one_line(capsys, "more than the file holds")


@pytest.mark.parametrize("make,needle", [
    (lambda w: w.to(torch.complex64), "must be a dense real tensor"),
    (lambda w: w.to_sparse(), "must be a dense real tensor"),
    (lambda w: w.to(torch.int64), "must be a dense real tensor"),
])
def test_checkpoint_tensors_dense_and_real(tmp_path, capsys, make, needle):
    from snnhw.nn.model import SpikingMLP
    from snnhw.nn.train import save_checkpoint

    ck = save_checkpoint(tmp_path / "m.pt", SpikingMLP([64, 4, 10]))
    blob = torch.load(ck, weights_only=True)
    blob["state_dict"]["fc.0.weight"] = make(blob["state_dict"]["fc.0.weight"])
    torch.save(blob, ck)
    assert main(["export", str(ck), "-o", str(tmp_path / "m.snn")]) == 2
    _one_line(capsys, needle)


def test_nir_input_and_output_sizes_match_the_layers(tmp_path, capsys):
    import nir

    from snnhw.nn.conv import SpikingConvNet
    from snnhw.nn.nirio import to_nir

    torch.manual_seed(0)
    model = SpikingConvNet("d6", in_shape=(1, 1, 4), n_classes=2, timesteps=2, in_bits=1,
                           in_scale=1.0, spike_bits=1, fire="floor", mpr=False)
    for node, new, needle in (("input", nir.Input(input_type=np.array([7])),
                               "declares 7 values; the first layer takes 4"),
                              ("output", nir.Output(output_type=np.array([5])),
                               "declares 5 values; the last layer gives 2")):
        g = to_nir(model)
        g.nodes[node] = new
        path = tmp_path / f"{node}.nir"
        nir.write(path, g)
        assert main(["import", str(path), "-o", str(tmp_path / "o.snn")]) == 2
        _one_line(capsys, needle)


def test_explore_leaves_a_foreign_or_empty_store_as_it_was(tmp_path, capsys):
    import sqlite3

    from snnhw.nn.model import SpikingMLP
    from snnhw.nn.train import save_checkpoint

    ck = save_checkpoint(tmp_path / "m.pt", SpikingMLP([64, 4, 10]))
    foreign = tmp_path / "app.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE users (name TEXT)")
    db.execute("INSERT INTO users VALUES ('ada')")
    db.commit()
    db.close()
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    before = foreign.read_bytes()
    assert main(["explore", str(ck), "--store", str(foreign), "--workers", "1"]) == 2
    _one_line(capsys, "an SQLite database of other tables: users")
    assert main(["explore", "--report", "--store", str(foreign)]) == 2
    _one_line(capsys, "an SQLite database of other tables: users")
    assert main(["explore", "--report", "--store", str(empty)]) == 2
    _one_line(capsys, "not a results store")
    assert foreign.read_bytes() == before and empty.read_bytes() == b""


def test_a_data_file_that_declares_more_than_it_holds_or_the_budget(tmp_path, capsys,
                                                                   monkeypatch):
    import io
    import zipfile

    import snnhw.data.files as files

    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("x_train", "y_train", "x_test", "y_test"):
            buf = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                buf, {"descr": "<i8", "fortran_order": False, "shape": (10**5, 10**4)})
            buf.write(b"\0" * 1000)
            zf.writestr(f"{name}.npy", buf.getvalue())
    assert main(["train", "--data", str(bomb), "-o", str(tmp_path / "m.pt")]) == 2
    _one_line(capsys, "more than its member holds")
    zeros = tmp_path / "zeros.npz"          # honest, compressed, larger than the budget
    np.savez_compressed(zeros, x_train=np.zeros((400, 400), np.int64),
                        y_train=np.zeros(400, np.int64), x_test=np.zeros((4, 400), np.int64),
                        y_test=np.zeros(4, np.int64))
    monkeypatch.setattr(files, "MAX_DATA_BYTES", 1 << 20)
    assert main(["train", "--data", str(zeros), "-o", str(tmp_path / "m.pt")]) == 2
    _one_line(capsys, "the arrays take more than 1 MiB once read")


@pytest.mark.parametrize("argv", [
    ["verify", "NET", "--n", "٢"],
    ["verify", "NET", "--n", "²"],
    ["export", "x.pt", "--w-bits", "٨"],
    ["import", "x.nir", "--dt", "٠.٥"],
])
def test_numbers_take_ascii_digits_only(capsys, argv):
    # int() and float() take other scripts' digits; an option does not
    argv = [str(example_paths()[0]) if a == "NET" else a for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "must be" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["info", "{long}.snn"],
    ["export", "{long}.pt"],
    ["import", "{long}.nir"],
    ["run", "NET", "--input", "{long}.npy"],
    ["train", "--data", "{long}.npz", "--epochs", "1"],
    ["generate", "NET", "-o", "{tmp}/{long}/rtl"],
    ["export", "CKPT", "-o", "{tmp}/{long}.snn"],
])
def test_a_path_the_system_refuses_is_one_line(tmp_path, capsys, argv):
    # ENAMETOOLONG on an input or an output path, wherever the command meets it
    from snnhw.nn.model import SpikingMLP
    from snnhw.nn.train import save_checkpoint

    ck = save_checkpoint(tmp_path / "m.pt", SpikingMLP([64, 8, 10]))
    fill = {"long": "a" * 300, "tmp": str(tmp_path)}
    args = [str(example_paths()[0]) if a == "NET" else str(ck) if a == "CKPT"
            else a.format(**fill) for a in argv]
    assert main(args) == 2
    line = _one_line(capsys, "File name too long")
    assert line.startswith("snnhw: error:")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_nir_file_declaring_huge_datasets_is_refused_unread(tmp_path, capsys):
    # 13 kB on disk, 320 GB once read: refused from the HDF5 headers, nothing allocated
    import h5py

    bomb = tmp_path / "bomb.nir"
    with h5py.File(bomb, "w") as f:
        ds = f.create_group("node").create_dataset(
            "weight", shape=(200_000, 200_000), dtype="f8", chunks=(1000, 1000),
            compression="gzip")
        ds[:1000, :1000] = 0
    assert bomb.stat().st_size < 100_000
    assert main(["import", str(bomb), "-o", str(tmp_path / "o.snn")]) == 2
    _one_line(capsys, "its data declare more than 1,073,741,824 bytes (at node/weight)")
    assert not (tmp_path / "o.snn").exists()
