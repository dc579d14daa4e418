"""A real sweep on a real LocalCluster of 2 worker processes, one of which is killed
while it runs a point."""

import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from snnhw import golden
from snnhw.cli import main
from snnhw.data import load_data
from snnhw.explore.runner import SweepError, open_cluster, sweep
from snnhw.explore.space import load_space
from snnhw.explore.store import Store
from snnhw.nn.export import export_model
from snnhw.nn.model import encode
from snnhw.nn.train import load_checkpoint

LANES, W_BITS = ["1", "2", "4"], [4, 6, 8]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("ck") / "digits.pt"
    assert main(["train", "--epochs", "2", "--hidden", "24", "-o", str(out), "--json"]) == 0
    return out


@pytest.fixture(scope="module")
def cluster():
    client, cluster = open_cluster(workers=2)
    yield client
    client.close()
    cluster.close()


def _kill_a_busy_worker(client, killed: list, stop: threading.Event):
    """SIGKILL the process of the first worker seen running a point."""
    while not stop.is_set():
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)
            killed.append((busy[0], pid))
            return
        time.sleep(0.01)


def direct(checkpoint, w_bits, board, lanes):
    """Accuracy and estimate computed here, without the explore code."""
    from snnboards.estimate import estimate

    model, _ = load_checkpoint(checkpoint)
    _, net = export_model(model, w_bits=w_bits, u_bits=16)
    d = load_data("digits")
    x = encode(model.config, d.x_test, 0).numpy().astype(np.int64)
    acc = float((golden.run(net, x).classes == d.y_test).mean())
    est = estimate(net, board, lanes=lanes)
    return acc, est


def test_sweep_survives_a_killed_worker_and_resumes(checkpoint, cluster, tmp_path):
    points = load_space(checkpoints=[str(checkpoint)], lanes=LANES, w_bits=W_BITS).points()
    assert len(points) == 9
    killed, stop = [], threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(cluster, killed, stop))
    killer.start()
    try:
        with Store(tmp_path / "r.sqlite") as store:
            s = sweep(points, store, client=cluster, progress=False)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was running a point to kill"
    assert s.points == 9 and s.computed == 9 and s.failed == 0 and s.retried >= 1
    with Store(tmp_path / "r.sqlite") as store:
        recs = store.points()
        # every point exactly once, all finished
        assert sorted(r["hash"] for r in recs) == sorted(p.hash for p in points)
        assert all(r["status"] == "ok" for r in recs)
        assert any(r["attempts"] == 2 for r in recs)      # the killed worker's point(s)
        by_hash = {r["hash"]: r for r in recs}
        for p in points:
            r = by_hash[p.hash]["result"]
            acc, est = direct(checkpoint, p.w_bits, p.board, int(p.lanes))
            assert r["accuracy"] == acc
            assert (r["estimate"]["lc"], r["estimate"]["bram"], r["estimate"]["cycles"]) == (
                est["lc"], est["bram"], est["cycles_per_inference"])
            assert r["test_samples"] == 360 and r["timesteps"] == 4
        finished = {r["hash"]: r["finished"] for r in recs}

        # run again: refused without --resume; with it nothing is recomputed
        with pytest.raises(SweepError, match="already holds 9 of these 9 points"):
            sweep(points, store, client=cluster, progress=False)
        again = sweep(points, store, client=cluster, resume=True, progress=False)
        assert again.computed == 0 and again.skipped == 9
        assert {r["hash"]: r["finished"] for r in store.points()} == finished
        assert store.count() == 9


def test_failed_points_are_recorded_and_the_sweep_goes_on(checkpoint, cluster, tmp_path):
    # data of another shape: the export stage fails; a build that overruns its time: the
    # build stage fails. Both are recorded with their error, the other points finish.
    bad = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    np.savez(bad, x_train=rng.integers(0, 16, (20, 10)), y_train=rng.integers(0, 3, 20),
             x_test=rng.integers(0, 16, (8, 10)), y_test=rng.integers(0, 3, 8))
    good = load_space(checkpoints=[str(checkpoint)], lanes=["1", "2"]).points()
    wrong = load_space(checkpoints=[str(checkpoint)], data=str(bad)).points()
    with Store(tmp_path / "r.sqlite") as store:
        s = sweep(good + wrong, store, client=cluster, progress=False)
        assert s.computed == 3 and s.failed == 1
        err = store.get(wrong[0].hash)
        assert err["status"] == "failed" and err["error"].startswith("export: ")
        assert "10" in err["error"]
        s = sweep(good[:1], store, client=cluster, build="all", build_timeout=1, redo=True,
                  progress=False)
        rec = store.get(good[0].hash)
        assert s.failed == 1 and rec["status"] == "failed"
        assert rec["error"] == "build: timed out after 1 s"
        assert store.get(good[1].hash)["status"] == "ok"


def test_cli_sweep_json_and_report(checkpoint, cluster, tmp_path, capsys):
    store = tmp_path / "c.sqlite"
    addr = cluster.scheduler.address
    assert main(["explore", str(checkpoint), "--lanes", "1", "2", "--w-bits", "8",
                 "--boards", "icebreaker", "ulx3s", "--store", str(store),
                 "--scheduler", addr, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["summary"]["computed"] == 4 and len(d["points"]) == 4
    assert set(d["front"]) == {"icebreaker", "ulx3s"} and all(d["front"].values())
    assert all(os.path.getsize(p) > 10_000 for p in d["plots"])
    assert main(["explore", "--report", "--store", str(store), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["summary"] is None and [p["hash"] for p in r["points"]] == [
        p["hash"] for p in d["points"]]


@pytest.mark.slow
def test_pareto_builds_the_front(checkpoint, cluster, tmp_path):
    """--build pareto: the estimate-front points of the board are built (real Yosys and
    nextpnr), the others are not, and the built numbers are the build reports'."""
    points = load_space(checkpoints=[str(checkpoint)], lanes=["1", "2"], w_bits=[4, 8],
                        u_bits=[16]).points()
    with Store(tmp_path / "r.sqlite") as store:
        s = sweep(points, store, client=cluster, build="pareto", progress=False)
        recs = {r["hash"]: r for r in store.points()}
    built = {h for h, r in recs.items() if r["result"]["build"]}
    assert s.failed == 0 and s.built == len(built) >= 1
    for h in built:
        b = recs[h]["result"]["build"]
        rep = json.loads((tmp_path / "r.sqlite.builds" / h / "build_report.json").read_text())
        assert b["fmax_mhz"] == min(c["fmax_mhz"] for c in rep["clocks"].values())
        assert (b["lc"], b["bram"], b["dsp"]) == (rep["resources"]["lc"]["used"],
                                                  rep["resources"]["bram"]["used"], 0)
    # the built points were on the front by estimates
    from snnhw.explore.pareto import front

    est_only = [{**r, "result": {**r["result"], "build": None}} for r in recs.values()]
    assert built == set(front(est_only))


def test_train_table_trains_once_per_combination(cluster, tmp_path):
    from snnhw.explore.runner import train_models
    from snnhw.explore.space import training_configs

    f = tmp_path / "s.toml"
    f.write_text('lanes = ["2"]\n[train]\ndata = "digits"\nepochs = 1\nhidden = [12]\n'
                 "spike_bits = [1, 2]\ntimesteps = [2]\n")
    space = load_space(str(f))
    trainings = training_configs(space)
    assert [t["spike_bits"] for _, t in trainings] == [1, 2]
    paths, n = train_models(trainings, cluster, tmp_path / "models", progress=False)
    assert n == 2 and all(os.path.isfile(p) for p in paths)
    stamps = [os.path.getmtime(p) for p in paths]
    space.checkpoints = paths
    with Store(tmp_path / "r.sqlite") as store:
        s = sweep(space.points(), store, client=cluster, progress=False)
        recs = sorted(store.points(), key=lambda r: r["result"]["spike_bits"])
    assert s.computed == 2 and [r["result"]["spike_bits"] for r in recs] == [1, 2]
    assert all(r["result"]["timesteps"] == 2 for r in recs)
    for r, p in zip(recs, paths):   # each point's accuracy is its own model's, run directly
        model, _ = load_checkpoint(p)
        _, net = export_model(model, w_bits=8, u_bits=16)
        d = load_data("digits")
        x = encode(model.config, d.x_test, 0).numpy().astype(np.int64)
        assert r["result"]["accuracy"] == float((golden.run(net, x).classes == d.y_test).mean())
    # the same table again: nothing trained
    again, n = train_models(training_configs(load_space(str(f))), cluster, tmp_path / "models",
                            progress=False)
    assert again == paths and n == 0 and [os.path.getmtime(p) for p in paths] == stamps


def test_a_task_that_kills_its_worker_twice_is_given_up(cluster):
    """Every attempt's worker dies under it: submitted twice, then reported lost (the
    sweep records such a point as failed, 'a worker died under it in each of its 2
    attempts')."""
    from distributed import KilledWorker

    from snnhw.explore.runner import each_once

    def die():   # a lambda-like local function: sent to the worker by value
        os.kill(os.getpid(), signal.SIGKILL)

    out = list(each_once(cluster, die, {"x": ()}, {}, "die"))
    assert len(out) == 1
    key, result, exc, attempts = out[0]
    assert key == "x" and result is None and attempts == 2
    assert isinstance(exc, KilledWorker)
    # the cluster is whole again: both workers back, a normal task runs
    deadline = time.time() + 60
    while len(cluster.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert list(each_once(cluster, lambda v: v + 1, {"y": (1,)}, {}, "ok")) == [
        ("y", 2, None, 1)]


def test_a_serial_core_point_is_estimated_with_the_serial_core(checkpoint):
    from snnhw.explore.point import evaluate
    from snnhw.explore.space import load_space

    pipe, serial = load_space(checkpoints=[str(checkpoint)], lanes=["1"],
                              cores=["pipeline", "serial"]).points()
    recs = [evaluate({**p.as_dict(), "hash": p.hash}) for p in (pipe, serial)]
    assert [r["status"] for r in recs] == ["ok", "ok"]
    est = [r["result"]["estimate"] for r in recs]
    assert est[0]["lc"] != est[1]["lc"] and est[0]["cycles"] < est[1]["cycles"]
