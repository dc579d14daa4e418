"""``snnhw explore``: a design-space sweep on Dask, and its report."""

from __future__ import annotations

import sys
from pathlib import Path

from .args import float_range, int_range
from .common import CLIError, emit_json, sentence

HELP = "sweep quantisation, boards, lanes and clocks on Dask and report the Pareto front"
DEFAULT_STORE = "out/explore/results.sqlite"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "explore", help=HELP,
        description=sentence(HELP) + ". Each point: quantise/export the checkpoint -> integer "
        "accuracy with the golden model on the whole test split -> estimate (points that do "
        "not fit are recorded as such) -> optionally a real build. Points run on a Dask "
        "LocalCluster sized to the machine, or on an existing cluster (--scheduler). Every "
        "finished point is written to an SQLite store at once; --resume skips finished "
        "points. The report (table, per-board Pareto front, PNG plots, HTML page) is written "
        "after a sweep, or alone with --report.",
        epilog="Space file (TOML) keys: checkpoints, data, boards, lanes, w_bits, u_bits, cores, "
               "clock_mhz (lists); options given on the command line replace them. Spike bits "
               "and time steps are set by training: list one checkpoint per training, or give "
               "a [train] table (data, spike_bits, timesteps lists, and any 'snnhw train' "
               "choice) and the sweep trains one model per combination on the cluster first, "
               "keeping them in <store>.models for later sweeps (docs/explore.md). "
               "Example: snnhw explore out/model.pt --lanes 1 2 4 --w-bits 4 6 8 "
               "--boards icebreaker ulx3s. Exit status 1 when a point failed.")
    p.add_argument("checkpoints", nargs="*", metavar="CHECKPOINT",
                   help="checkpoints from 'snnhw train' / 'snnhw convert'")
    p.add_argument("--space", default=None, metavar="FILE", help="space file (TOML)")
    p.add_argument("--data", default=None, metavar="NAME|FILE",
                   help="data set for every checkpoint (default: each checkpoint's own)")
    p.add_argument("--boards", nargs="+", default=None, metavar="BOARD",
                   help="icebreaker, ulx3s, orangecrab (default icebreaker)")
    p.add_argument("--lanes", nargs="+", default=None, metavar="L",
                   help="lanes: each one number or one per layer, e.g. --lanes 1 2 2,1 "
                        "(default 2)")
    p.add_argument("--w-bits", nargs="+", type=int_range(2, 16), default=None, metavar="B",
                   help="weight widths (default 8)")
    p.add_argument("--u-bits", nargs="+", type=int_range(8, 32), default=None, metavar="B",
                   help="membrane widths (default 16)")
    p.add_argument("--clock-mhz", nargs="+", type=float_range(0, 1000), default=None,
                   metavar="F", help="clocks; 0 is the board oscillator (default 0)")
    p.add_argument("--cores", nargs="+", choices=["pipeline", "serial"], default=None,
                   help="cores: pipeline (a processing element per layer), serial (one for "
                        "all layers) (default pipeline)")
    p.add_argument("--build", choices=["none", "pareto", "all"], default="none",
                   help="real builds: none, the points on each board's front by estimates "
                        "(pareto), or every point that fits (%(default)s)")
    p.add_argument("--build-timeout", type=float_range(1, 86400), default=1800.0,
                   metavar="S", help="seconds a build may take before it is failed "
                                     "(%(default)s)")
    p.add_argument("--store", default=DEFAULT_STORE, help="results store (%(default)s)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="an existing Dask scheduler, e.g. tcp://127.0.0.1:8786 (default: a "
                        "LocalCluster)")
    p.add_argument("--workers", type=int_range(1, 1024), default=None,
                   help="LocalCluster worker processes (default: one per core)")
    p.add_argument("--resume", action="store_true",
                   help="keep the store's finished points of this sweep, run the rest")
    p.add_argument("--redo", action="store_true", help="compute every point again")
    p.add_argument("--retry-failed", action="store_true",
                   help="with --resume: run failed points again")
    p.add_argument("--report", action="store_true",
                   help="only report the store (or --sweep ID): table, front, plots, HTML")
    p.add_argument("--sweep", type=int_range(1, 1 << 30), default=None, metavar="ID",
                   help="with --report: one sweep of the store (default: every point)")
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="report folder (default: next to the store, <store>.report)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..explore.store import Store, StoreError

    if args.report and (args.checkpoints or args.space):
        raise CLIError("--report reads the store only; give no checkpoints or --space")
    if args.resume and args.redo:
        raise CLIError("--resume and --redo exclude each other")
    if args.report and not Path(args.store).is_file():
        raise CLIError(f"no results store at {args.store} (run a sweep first)")
    space = trainings = None
    if not args.report:   # everything about the space is checked before any file is touched
        space, trainings = _space(args)
    _report_dir(args)
    try:
        store = Store(args.store)
    except (StoreError, OSError) as exc:
        raise CLIError(str(exc)) from None
    with store:
        if args.report:
            return _report(args, store, summary=None)
        return _sweep(args, store, space, trainings)


def _report_dir(args) -> Path:
    """The report folder (``-o``, or ``<store>.report``), made now: a path that cannot be
    a folder is one line before a sweep, not an error after it."""
    out = Path(args.output or str(args.store) + ".report")
    if out.exists() and not out.is_dir():
        raise CLIError(f"report folder {out}: a file is in the way")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"report folder {out}: {exc.strerror or exc}") from None
    return out


def _space(args):
    """The space and its trainings, every checkpoint opened and checked here, once, so a
    wrong file or choice is one line before a cluster starts."""
    from ..data import DATASETS
    from ..explore.space import SpaceError, load_space, training_configs
    from ..nn.train import CheckpointError, load_checkpoint

    try:
        space = load_space(args.space, checkpoints=args.checkpoints or None, data=args.data,
                           boards=args.boards, lanes=args.lanes, w_bits=args.w_bits,
                           u_bits=args.u_bits, clock_mhz=args.clock_mhz, cores=args.cores)
        trainings = training_configs(space)
    except SpaceError as exc:
        raise CLIError(str(exc)) from None
    for ck in space.checkpoints:
        try:
            load_checkpoint(ck)
        except FileNotFoundError:
            raise CLIError(f"checkpoints: no such file: {ck}") from None
        except CheckpointError as exc:
            raise CLIError(f"checkpoints: {exc}") from None
    if space.data is not None and space.data not in DATASETS and not Path(space.data).is_file():
        raise CLIError(f"data: {space.data!r} is neither a data set ({', '.join(DATASETS)}) "
                       "nor a file")
    return space, trainings


def _sweep(args, store, space, trainings) -> int:
    from ..explore.runner import SweepError, open_cluster, sweep, train_models

    try:
        client, cluster = open_cluster(args.scheduler, args.workers)
    except SweepError as exc:
        raise CLIError(str(exc)) from None
    try:
        trained = 0
        if trainings:
            paths, trained = train_models(trainings, client, str(store.path) + ".models",
                                          progress=not args.json)
            space.checkpoints = [*space.checkpoints, *paths]
        summary = sweep(space.points(), store, client=client, build=args.build,
                        resume=args.resume, redo=args.redo, retry_failed=args.retry_failed,
                        build_timeout=args.build_timeout, space=space.as_dict(),
                        progress=not args.json)
    except SweepError as exc:
        raise CLIError(str(exc)) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _report(args, store, summary={**summary.as_dict(), "trained": trained})


def _report(args, store, summary: dict | None) -> int:
    from ..explore import report
    from ..explore.pareto import fronts

    sweep_id = summary["sweep"] if summary else args.sweep
    recs = store.points(sweep_id)
    if not recs:
        raise CLIError(f"{store.path} has no points" + (f" in sweep {sweep_id}" if sweep_id
                                                        else ""))
    rows = report.rows(recs)
    out = _report_dir(args)
    images = report.plots(rows, out)
    ok = sum(r["status"] == "ok" for r in recs)
    text = (f"{len(recs)} points ({ok} finished, {len(recs) - ok} failed), "
            f"{sum(bool(r['fits']) for r in rows)} fit their board"
            + (f"; sweep {sweep_id}" if sweep_id else "; whole store")
            + (f"; wall time {summary['wall_seconds']} s on {summary['workers']} worker"
               + ("s" if summary["workers"] != 1 else "") if summary else ""))
    page = report.write_html(rows, images, out / "index.html", title=store.path.name,
                             summary=text)
    front = fronts(recs)
    failed = len(recs) - ok
    if args.json:
        emit_json({"store": str(store.path), "sweep": sweep_id, "summary": summary,
                   "points": rows, "front": front, "plots": [str(p) for p in images],
                   "html": str(page), "failed": failed})
    else:
        print(report.table(rows))
        print(text)
        for board, hashes in front.items():
            print(f"front on {board}: " + (", ".join(hashes) if hashes else "(no point fits)"))
        print(f"wrote {page} and {', '.join(p.name for p in images)}")
        if failed:
            print(f"snnhw: {failed} point(s) failed; see the status column", file=sys.stderr)
    return 1 if failed else 0
