"""``snnhw explore``: a design-space sweep on Dask, and its report."""

from __future__ import annotations

import sys
from pathlib import Path

from ..api.sweep import DEFAULT_STORE
from .args import float_range, int_range
from .common import CLIError, emit_json, one_line, sentence

HELP = "sweep quantisation, boards, lanes and clocks on Dask and report the Pareto front"


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
    from ..api import explore_report, explore_space
    from ..explore.runner import SweepError
    from ..explore.space import SpaceError
    from ..explore.store import StoreError

    if args.report and (args.checkpoints or args.space):
        raise CLIError("--report reads the store only; give no checkpoints or --space")
    if args.resume and args.redo:
        raise CLIError("--resume and --redo exclude each other")
    with one_line(SpaceError, StoreError, SweepError, OSError):
        if args.report:
            r = explore_report(args.store, sweep=args.sweep, report_dir=args.output)
        else:
            r = explore_space(args.checkpoints, space=args.space, data=args.data,
                              boards=args.boards, lanes=args.lanes, w_bits=args.w_bits,
                              u_bits=args.u_bits, clock_mhz=args.clock_mhz, cores=args.cores,
                              store=args.store, scheduler=args.scheduler,
                              workers=args.workers, build=args.build,
                              build_timeout=args.build_timeout, resume=args.resume,
                              redo=args.redo, retry_failed=args.retry_failed,
                              report_dir=args.output, progress=not args.json)
    if args.json:
        emit_json({key: value for key, value in r.to_dict().items() if key != "text"})
    else:
        from ..explore.report import table

        print(table(r.points))
        print(r.text)
        for board, hashes in r.front.items():
            print(f"front on {board}: " + (", ".join(hashes) if hashes else "(no point fits)"))
        print(f"wrote {r.html} and {', '.join(Path(p).name for p in r.plots)}")
        if r.failed:
            print(f"snnhw: {r.failed} point(s) failed; see the status column", file=sys.stderr)
    return 1 if r.failed else 0
