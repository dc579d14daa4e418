"""Running a sweep on Dask (``dask.distributed``).

By default the points run on a ``LocalCluster`` of worker processes sized to the
machine (nothing to start); with a scheduler address they run on an existing cluster
(``dask scheduler`` / ``dask worker ADDRESS``). Every point is one task
(:func:`snnhw.explore.point.evaluate`); its record is written to the store as soon as it
comes back, so nothing finished is lost when the sweep stops.

A worker that dies under a point (killed, out of memory) makes the scheduler give up
the point (``KilledWorker``: the embedded cluster allows no silent re-runs, so the
count is exact); the point is submitted once more, and if that attempt dies too it is
recorded as failed. (An external scheduler re-runs tasks itself up to its own
``distributed.scheduler.allowed-failures``, 3 by default, before reporting.)

With ``build="pareto"`` the estimates run first; then the points on each board's front
(by estimates) are built, and their measured numbers replace the estimates.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SnnhwError
from .pareto import fronts
from .point import evaluate, train_model
from .space import Point
from .store import Store

__all__ = ["SweepError", "open_cluster", "sweep", "train_models", "BUILD_MODES", "Summary"]

BUILD_MODES = ("none", "pareto", "all")
#: attempts a point gets when workers die under it
ATTEMPTS = 2


class SweepError(SnnhwError, RuntimeError):
    """A sweep that cannot start (store conflicts, no scheduler); one line."""


def scheduler_address(text: str) -> str:
    """A Dask scheduler address ``[tcp://]HOST:PORT`` (an IPv6 host in brackets) checked,
    as ``tcp://HOST:PORT``; anything else is a one-line :class:`SweepError`."""
    import re

    m = re.fullmatch(r"(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})",
                     str(text).strip())
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise SweepError(f"scheduler {text!r}: expected tcp://HOST:PORT (HOST a name, an IPv4 "
                         "address or an IPv6 one in brackets; PORT 1..65535)")
    if m.group(1).startswith("["):
        import ipaddress

        try:
            ipaddress.IPv6Address(m.group(1)[1:-1])
        except ValueError:
            raise SweepError(f"scheduler {text!r}: {m.group(1)} is not an IPv6 address") from None
    return f"tcp://{m.group(1)}:{int(m.group(2))}"


def check_cluster(scheduler: str | None = None, workers: int | None = None) -> str | None:
    """The scheduler's checked address (:func:`scheduler_address`), or ``None`` for a
    local cluster, whose ``workers`` must be at most the machine's cores; a
    :class:`SweepError` otherwise."""
    if scheduler:
        return scheduler_address(scheduler)
    cores = os.cpu_count() or 1
    if workers is not None and not 1 <= workers <= cores:
        raise SweepError(f"workers must be in 1..{cores} (the cores of this machine) for a "
                         f"local cluster, got {workers}; an existing cluster (scheduler) "
                         "has its own")
    return None


def open_cluster(scheduler: str | None = None, workers: int | None = None):
    """``(client, cluster)``: a client of the scheduler at ``scheduler``, or of a new
    ``LocalCluster`` of ``workers`` single-threaded worker processes (default: one per
    core); ``cluster`` is ``None`` for an external scheduler."""
    import dask
    from dask.distributed import Client, LocalCluster

    address = check_cluster(scheduler, workers)
    if address:
        try:
            return Client(address, timeout="20s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(f"no Dask scheduler at {address}: {exc}") from None
    n = workers or os.cpu_count() or 1
    # non-daemonic workers: a build runs in a process of its own (a timeout stops it).
    # Set for the whole process: the nanny reads it whenever it (re)starts a worker
    dask.config.set({"distributed.worker.daemon": False})
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return Client(cluster), cluster


@dataclass
class Summary:
    points: int = 0
    computed: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    built: int = 0
    workers: int = 0
    wall_seconds: float = 0.0
    sweep: int = 0
    front: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _died(exc: BaseException) -> bool:
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError

    return isinstance(exc, KilledWorker | CommClosedError)


def sweep(points: list[Point], store: Store, *, client, build: str = "none",
          resume: bool = False, redo: bool = False, retry_failed: bool = False,
          build_dir: str | Path | None = None, build_timeout: float = 1800.0,
          space: dict | None = None, progress: bool = True) -> Summary:
    """Run ``points`` on ``client``'s cluster, writing each record to ``store``."""

    if build not in BUILD_MODES:
        raise SweepError(f"build must be one of {', '.join(BUILD_MODES)}, got {build!r}")
    t0 = time.perf_counter()
    cfg = {p.hash: {**p.as_dict(), "hash": p.hash} for p in points}
    have = store.statuses()
    seen = [h for h in cfg if h in have]
    if seen and not (resume or redo):
        raise SweepError(f"{store.path} already holds {len(seen)} of these {len(cfg)} points: "
                         "--resume to keep them, --redo to compute them again")
    keep = set() if redo else {h for h in seen if have[h] == "ok" or
                               (have[h] == "failed" and not retry_failed)}
    if build == "all":   # a kept point without its build still needs one
        keep = {h for h in keep if not _needs_build(store.get(h))}
    summary = Summary(points=len(cfg), skipped=len(keep))
    summary.sweep = store.begin_sweep(space or {}, list(cfg), build)
    summary.workers = len(client.scheduler_info().get("workers", {}))
    build_dir = str(build_dir) if build_dir is not None else str(store.path) + ".builds"
    bar = _bar(len(cfg) - len(keep), progress)

    def run(hashes, with_build, new_points=True):
        kw = {"build": with_build, "build_dir": build_dir, "build_timeout": build_timeout}
        running = len(hashes)
        for h, rec, exc, attempts in each_once(client, evaluate, {h: (cfg[h],) for h in hashes},
                                               kw, "point"):
            if exc is not None:
                why = (f"a worker died under it in each of its {attempts} attempts"
                       if _died(exc) else
                       f"{type(exc).__name__}: {' '.join(str(exc).split())}")
                rec = {"hash": h, "config": {k: v for k, v in cfg[h].items() if k != "hash"},
                       "status": "failed", "error": f"worker: {why}"}
            summary.retried += attempts - 1
            rec["attempts"] = attempts
            store.put(rec)
            running -= 1
            summary.computed += new_points
            summary.failed += rec["status"] == "failed"
            summary.built += bool((rec.get("result") or {}).get("build"))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(done=summary.computed - summary.failed, failed=summary.failed,
                                running=running, refresh=False)

    try:
        run([h for h in cfg if h not in keep], build == "all")
        if build == "pareto":
            recs = [store.get(h) for h in cfg]
            on_front = [h for hs in fronts([r for r in recs if r]).values() for h in hs
                        if _needs_build(store.get(h))]
            if on_front:
                if bar is not None:
                    bar.total += len(on_front)
                    bar.set_description("build")
                run(on_front, True, new_points=False)   # points counted once
    finally:
        if bar is not None:
            bar.close()
    recs = [r for h in cfg if (r := store.get(h))]
    summary.front = fronts(recs)
    summary.wall_seconds = round(time.perf_counter() - t0, 2)
    return summary


def train_models(trainings: list[tuple[str, dict]], client, models_dir: str | Path, *,
                 progress: bool = True) -> tuple[list[str], int]:
    """Train on the cluster the models of a ``[train]`` table that ``models_dir`` does not
    hold yet (a worker that dies costs a model one retry, as a point); returns every
    model's checkpoint path, in order, and how many were trained now."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    paths = [str(models_dir / f"{name}.pt") for name, _ in trainings]
    todo = {p: t for p, (_, t) in zip(paths, trainings) if not Path(p).is_file()}
    if not todo:
        return paths, 0
    bar = _bar(len(todo), progress, "train", "model")
    try:
        for p, _, exc, _ in each_once(client, train_model, {p: (t, p) for p, t in todo.items()},
                                      {}, "train"):
            if exc is not None:
                raise SweepError(f"training {Path(p).stem} failed: "
                                 f"{' '.join(str(exc).split()) or type(exc).__name__}")
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return paths, len(todo)


def each_once(client, fn, args: dict, kw: dict, what: str):
    """Run ``fn(*args[k], **kw)`` for every key ``k`` on the cluster; yield ``(k, result,
    exception, attempts)`` as each finishes. A task lost with its worker is submitted once
    more (:data:`ATTEMPTS` in all); its exception is yielded after the last attempt."""
    from dask.distributed import as_completed

    attempts, futs = {}, {}

    def submit(k):
        attempts[k] = attempts.get(k, 0) + 1
        f = client.submit(fn, *args[k], key=f"snnhw-{what}-{time.time_ns()}-{len(attempts)}",
                          **kw)
        futs[f.key] = k
        return f

    ac = as_completed([submit(k) for k in args])
    for fut in ac:
        k = futs.pop(fut.key)
        try:
            result = fut.result()
        except Exception as exc:
            if _died(exc) and attempts[k] < ATTEMPTS:
                ac.add(submit(k))
                continue
            yield k, None, exc, attempts[k]
            continue
        yield k, result, None, attempts[k]


def _needs_build(rec: dict | None) -> bool:
    r = (rec or {}).get("result") or {}
    return rec is not None and rec["status"] == "ok" and r.get("build") is None \
        and r["estimate"]["fits"]


def _bar(total: int, enabled: bool, desc: str = "points", unit: str = "point"):
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)
