import sqlite3

import pytest

from snnhw.explore.pareto import dominates, front, fronts
from snnhw.explore.space import SpaceError, load_space
from snnhw.explore.store import Store, StoreError


@pytest.fixture
def ck(tmp_path):
    p = tmp_path / "a.pt"
    p.write_bytes(b"checkpoint bytes")
    return p


def test_space_file_and_overrides(tmp_path, ck):
    f = tmp_path / "s.toml"
    f.write_text(f'checkpoints = ["{ck}"]\nboards = ["icebreaker", "ulx3s"]\n'
                 'lanes = ["1", 2, "2,1"]\nw_bits = [4, 8]\n')
    sp = load_space(str(f))
    assert sp.lanes == ["1", "2", "2,1"] and sp.w_bits == [4, 8] and sp.u_bits == [16]
    pts = sp.points()
    assert len(pts) == 2 * 3 * 2 and len({p.hash for p in pts}) == 12
    assert {(p.board, p.lanes, p.w_bits) for p in pts} == {
        (b, la, w) for b in ("icebreaker", "ulx3s") for la in ("1", "2", "2,1") for w in (4, 8)}
    # an option replaces the file's key
    assert len(load_space(str(f), w_bits=[6]).points()) == 6


def test_hash_follows_contents_not_path(tmp_path, ck):
    a = load_space(checkpoints=[str(ck)]).points()[0]
    copy = tmp_path / "sub" / "b.pt"
    copy.parent.mkdir()
    copy.write_bytes(ck.read_bytes())
    assert load_space(checkpoints=[str(copy)]).points()[0].hash == a.hash
    copy.write_bytes(b"other bytes")
    assert load_space(checkpoints=[str(copy)]).points()[0].hash != a.hash
    assert load_space(checkpoints=[str(ck)], w_bits=[7]).points()[0].hash != a.hash


@pytest.mark.parametrize("text, what", [
    ('checkpoints = ["X"]\nwbits = [4]', "unknown key"),
    ('checkpoints = ["X"]\nlanes = ["0"]', "lanes"),
    ('checkpoints = ["X"]\nlanes = ["a,2"]', "lanes"),
    ('checkpoints = ["X"]\nw_bits = [1]', "w_bits"),
    ('checkpoints = ["X"]\nw_bits = []', "empty"),
    ('checkpoints = ["X"]\nu_bits = [true]', "u_bits"),
    ('checkpoints = ["X"]\nboards = ["de10"]', "unknown board"),
    ('checkpoints = ["X"]\nclock_mhz = [-1]', "clock_mhz"),
    ("lanes = [1]", "no checkpoints"),
    ("checkpoints = [", "not valid TOML"),
    ("[train]\nspike_bits = [0]", "train.spike_bits"),
    ("[train]\nlearning_rate = 0.1", "unknown key"),
    ("train = 3", "expected a table"),
])
def test_space_errors_name_the_key(tmp_path, ck, text, what):
    f = tmp_path / "s.toml"
    f.write_text(text.replace("X", str(ck)))
    with pytest.raises(SpaceError, match=what):
        load_space(str(f)).points()


def test_a_space_too_large_is_refused_before_any_point_is_made(tmp_path, ck, capsys):
    from snnhw.cli import main

    f = tmp_path / "s.toml"
    f.write_text(f'checkpoints = ["{ck}"]\nlanes = {list(range(1, 101))}\n'
                 f'clock_mhz = {list(range(1, 101))}\nw_bits = [4, 8]\n')
    with pytest.raises(SpaceError, match=r"the space has 20,000 points, more than the "
                                         r"10,000 a sweep takes"):
        load_space(str(f))
    assert main(["explore", "--space", str(f), "--store", str(tmp_path / "x.sqlite")]) == 2
    assert "20,000 points" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()
    f.write_text("#" * (1 << 20) + "\n")
    with pytest.raises(SpaceError, match="larger than 1024 KiB"):
        load_space(str(f))
    assert load_space(checkpoints=[str(ck)], lanes=[str(n) for n in range(1, 51)],
                      w_bits=[4, 8]).size() == 100


def test_missing_checkpoint_is_a_space_error(tmp_path):
    with pytest.raises(SpaceError, match="no such file"):
        load_space(checkpoints=[str(tmp_path / "none.pt")]).points()


def test_store_rows_and_sweeps(tmp_path):
    path = tmp_path / "r.sqlite"
    with Store(path) as s:
        sid = s.begin_sweep({"k": 1}, ["h1", "h2"], "none")
        s.put({"hash": "h1", "config": {"board": "icebreaker"}, "status": "ok",
               "result": {"accuracy": 0.5}, "attempts": 2})
        s.put({"hash": "h1", "config": {"board": "icebreaker"}, "status": "ok",
               "result": {"accuracy": 0.75}})
        s.put({"hash": "h3", "config": {"board": "ulx3s"}, "status": "failed", "error": "x"})
    with Store(path) as s:   # reopened: what was written is there, once per hash
        assert s.count() == 2 and s.statuses() == {"h1": "ok", "h3": "failed"}
        assert s.get("h1")["result"] == {"accuracy": 0.75} and s.get("h1")["attempts"] == 1
        assert [p["hash"] for p in s.points(sid)] == ["h1"]
        assert s.sweeps()[0]["space"] == {"k": 1}


def test_store_refuses_other_files(tmp_path):
    p = tmp_path / "x.sqlite"
    p.write_text("not a database")
    with pytest.raises(StoreError, match="not an SQLite file"):
        Store(p)
    with pytest.raises(StoreError, match="not a regular file"):
        Store(tmp_path)
    q = tmp_path / "other.sqlite"
    db = sqlite3.connect(q)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('schema', '99')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema 99"):
        Store(q)


def _rec(h, board, acc, lc, bram, lat, fits=True, status="ok"):
    return {"hash": h, "status": status, "config": {"board": board},
            "result": {"accuracy": acc, "build": None,
                       "estimate": {"fits": fits, "lc": lc, "bram": bram, "latency_us": lat}}}


def test_front_by_hand():
    a = _rec("a", "b1", 0.9, 1000, 10, 100)
    b = _rec("b", "b1", 0.9, 1200, 10, 100)    # a beats it: same but more logic
    c = _rec("c", "b1", 0.95, 3000, 20, 50)    # better accuracy and latency
    d = _rec("d", "b1", 0.99, 100, 1, 1, fits=False)          # does not fit: never on it
    e = _rec("e", "b1", 0.99, 100, 1, 1, status="failed")
    f = _rec("f", "b2", 0.5, 9000, 90, 900)    # alone on its board
    g = _rec("g", "b1", 0.9, 1000, 10, 100)    # equal to a: both kept
    assert dominates({"accuracy": 0.9, "lc": 1000, "bram": 10, "latency_us": 100},
                     {"accuracy": 0.9, "lc": 1200, "bram": 10, "latency_us": 100})
    assert sorted(front([a, b, c, d, e, g])) == ["a", "c", "g"]
    assert fronts([a, b, c, d, e, f, g]) == {"b1": ["a", "c", "g"], "b2": ["f"]}
    # a measured build replaces the estimate: built with more logic, a falls behind g
    a["result"]["build"] = {"lc": 1500, "bram": 10, "fmax_mhz": 40.0, "latency_us": 100}
    assert sorted(front([a, g])) == ["g"]


def test_train_choices_checked_before_any_training(tmp_path):
    from snnhw.explore.space import training_configs

    f = tmp_path / "s.toml"
    f.write_text('[train]\ndata = "digits"\nspike_bits = [1, 2]\ntimesteps = [2, 4]\n')
    sp = load_space(str(f))
    names = [n for n, _ in training_configs(sp)]
    assert len(set(names)) == 4 and names[0].startswith("digits-s1-T2-")
    f.write_text('[train]\ndata = "nope"\n')
    with pytest.raises(SpaceError, match="train: unknown data set"):
        training_configs(load_space(str(f)))
    f.write_text('[train]\narch = "cnn"\nnormalize = true\n')
    with pytest.raises(SpaceError, match="no input normalisation"):
        training_configs(load_space(str(f)))



def test_cores_are_swept_and_a_pipeline_point_keeps_its_hash(ck):
    plain = load_space(checkpoints=[str(ck)]).points()
    both = load_space(checkpoints=[str(ck)], cores=["pipeline", "serial"]).points()
    assert [p.core for p in both] == ["pipeline", "serial"]
    assert both[0].hash == plain[0].hash and both[1].hash != plain[0].hash
    with pytest.raises(SpaceError, match="cores: unknown core 'systolic'"):
        load_space(checkpoints=[str(ck)], cores=["systolic"])
