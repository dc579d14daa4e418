"""Design-space exploration from Python: :func:`explore_space` sweeps, :func:`explore_report`
reports a store (``snnhw explore``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..util import OutputError
from .report import Report

__all__ = ["DEFAULT_STORE", "explore_report", "explore_space"]

DEFAULT_STORE = "out/explore/results.sqlite"


def explore_space(checkpoints=(), *, space=None, data=None, boards=None, lanes=None,
                  w_bits=None, u_bits=None, clock_mhz=None, cores=None, store=DEFAULT_STORE,
                  scheduler=None, workers=None, build: str = "none",
                  build_timeout: float = 1800.0, resume: bool = False, redo: bool = False,
                  retry_failed: bool = False, report_dir=None, progress: bool = False
                  ) -> Report:
    """Sweep the points of a space (a TOML file ``space``; the lists given here replace
    its keys) on Dask (a LocalCluster of ``workers``, or the cluster at ``scheduler``),
    each finished point written to the SQLite ``store`` at once, then report it as
    :func:`explore_report` does (``summary`` says what the sweep did). Everything about
    the space is checked before any file is touched."""
    from ..explore.runner import check_cluster, open_cluster, sweep, train_models
    from ..explore.store import Store

    if resume and redo:
        raise InputError("resume and redo exclude each other",
                         cli="--resume and --redo exclude each other")
    check_cluster(scheduler, workers)
    the_space, trainings = _space(space, checkpoints=list(checkpoints) or None, data=data,
                                  boards=boards, lanes=lanes, w_bits=w_bits, u_bits=u_bits,
                                  clock_mhz=clock_mhz, cores=cores)
    out = _report_dir(store, report_dir)
    with Store(store) as st:
        client, cluster = open_cluster(scheduler, workers)
        try:
            trained = 0
            if trainings:
                paths, trained = train_models(trainings, client, str(st.path) + ".models",
                                              progress=progress)
                the_space.checkpoints = [*the_space.checkpoints, *paths]
            summary = sweep(the_space.points(), st, client=client, build=build,
                            resume=resume, redo=redo, retry_failed=retry_failed,
                            build_timeout=build_timeout, space=the_space.as_dict(),
                            progress=progress)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return _report(st, {**summary.as_dict(), "trained": trained}, None, out)


def explore_report(store=DEFAULT_STORE, *, sweep: int | None = None,
                   report_dir=None) -> Report:
    """The report of a results store (or one ``sweep`` of it): ``points`` (a row each),
    ``front`` (per board, the Pareto front's point hashes), PNG ``plots`` and an ``html``
    page written to ``report_dir`` (default ``<store>.report``), ``failed`` points and a
    one-line ``text`` summary."""
    from ..explore.store import Store

    if not Path(store).is_file():
        raise InputError(f"no results store at {store} (run a sweep first)")
    with Store(store, readonly=True) as st:   # a report never changes the store
        out = _report_dir(store, report_dir)
        return _report(st, None, sweep, out)


def _space(path, **lists):
    """The space and its trainings, every checkpoint opened and checked here, once, so a
    wrong file or choice is one line before a cluster starts."""
    from ..data import DATASETS
    from ..explore.space import SpaceError, load_space, training_configs
    from ..nn.train import CheckpointError, load_checkpoint

    space = load_space(path, **lists)
    trainings = training_configs(space)
    for ck in space.checkpoints:
        try:
            load_checkpoint(ck)
        except FileNotFoundError:
            raise SpaceError(f"checkpoints: no such file: {ck}") from None
        except CheckpointError as exc:
            raise SpaceError(f"checkpoints: {exc}") from None
    if space.data is not None and space.data not in DATASETS and not Path(space.data).is_file():
        raise SpaceError(f"data: {space.data!r} is neither a data set ({', '.join(DATASETS)}) "
                         "nor a file")
    return space, trainings


def _report_dir(store, report_dir) -> Path:
    """The report folder (``report_dir``, or ``<store>.report``), made now: a path that
    cannot be a folder is one line before a sweep, not an error after it."""
    out = Path(report_dir or str(store) + ".report")
    if out.exists() and not out.is_dir():
        raise OutputError(f"report folder {out}: a file is in the way")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"report folder {out}: {exc.strerror or exc}") from None
    return out


def _report(store, summary: dict | None, sweep_id: int | None, out: Path) -> Report:
    from ..explore import report
    from ..explore.pareto import fronts

    sweep_id = summary["sweep"] if summary else sweep_id
    recs = store.points(sweep_id)
    if not recs:
        raise InputError(f"{store.path} has no points"
                         + (f" in sweep {sweep_id}" if sweep_id else ""))
    rows = report.rows(recs)
    images = report.plots(rows, out)
    ok = sum(r["status"] == "ok" for r in recs)
    text = (f"{len(recs)} points ({ok} finished, {len(recs) - ok} failed), "
            f"{sum(bool(r['fits']) for r in rows)} fit their board"
            + (f"; sweep {sweep_id}" if sweep_id else "; whole store")
            + (f"; wall time {summary['wall_seconds']} s on {summary['workers']} worker"
               + ("s" if summary["workers"] != 1 else "") if summary else ""))
    page = report.write_html(rows, images, out / "index.html", title=store.path.name,
                             summary=text)
    return Report("Exploration", {
        "store": str(store.path), "sweep": sweep_id, "summary": summary, "points": rows,
        "front": fronts(recs), "plots": [str(p) for p in images], "html": str(page),
        "failed": len(recs) - ok, "text": text})
