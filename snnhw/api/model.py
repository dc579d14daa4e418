"""A :class:`Model`: an integer network and what can be done with it from Python."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..ir import Network
from . import inputs as _inputs
from .inputs import (
    _amount,
    batch_size,
    check_batch,
    check_fits,
    check_inputs,
    check_labels,
    sample_bytes,
    split_inputs,
    steps,
    take,
)
from .report import Report

__all__ = ["Model", "check_backend", "write_nir"]

BACKENDS = ("sim", "board")
class Model:
    """An integer network (:class:`~snnhw.ir.Network`, the IR) and, when it came from torch,
    its torch integer mode and float model (used by :meth:`verify` and :meth:`compare`).

    Attributes
    ----------
    network : snnhw.ir.Network
    float_model : torch.nn.Module or None
    data : str or None
        The data set the model was trained on (a checkpoint's or a training's), the
        default of :meth:`verify` and :meth:`compare`.
    """

    def __init__(self, network: Network, *, integer=None, float_model=None,
                 config: dict | None = None, data: str | None = None):
        self.network, self._integer, self.float_model = network, integer, float_model
        self._config, self.data = config, data

    def __repr__(self) -> str:
        net = self.network
        kinds = ", ".join(f"{ly.kind} {ly.n_in}->{ly.n_out}" for ly in net.layers)
        return (f"Model({net.name!r}: {kinds}; T={net.timesteps}, in_bits={net.in_bits}, "
                f"readout={net.readout})")

    # ------------------------------------------------------------------ files
    def save(self, path) -> Path:
        """Write the IR file (``.snn``)."""
        from ..ir import save

        return save(self.network, path)

    def save_checkpoint(self, path) -> Path:
        """Write the float model as an snnhw checkpoint (``snnhw import --checkpoint``)."""
        from ..nn.train import save_checkpoint

        self._need_float("a checkpoint")
        return save_checkpoint(path, self.float_model, data=self.data)

    def to_nir(self, *, dt: float | None = None):
        """The float model as a ``nir.NIRGraph`` (a model from torch or NIR only)."""
        from ..nn.nirio import DEFAULT_DT, to_nir

        self._need_float("NIR export")
        return to_nir(self.float_model, dt=DEFAULT_DT if dt is None else dt)

    def save_nir(self, path, *, dt: float | None = None) -> Report:
        """Write the float model as a NIR file (``snnhw export --nir``) and read it back
        as ``nir.read`` does: ``nir`` (the path), ``nodes`` (name: type) and ``edges``."""
        self._need_float("NIR export")
        return write_nir(self.float_model, path, dt=dt)

    # ------------------------------------------------------------------ inspect and run
    def inputs(self, x=None, y=None, *, data=None, n: int | None = None,
               encoding: str = "auto", in_bits: int | None = None, seed: int = 0):
        """``(x[batch, T, n_in] int64, labels or None, what they are)``: ``x`` (and ``y``)
        as given, else the test split of ``data`` (default: the data set the model was
        trained on, else digits, else seeded random inputs when that does not fit),
        encoded as the model was trained (an IR file: ``encoding``); the first ``n``."""
        if x is not None:
            if data is not None:
                raise InputError("give inputs x or a data set, not both",
                                 cli="--input and --data exclude each other")
            x = np.asarray(x)
            check_inputs(self.network, len(x[:n]) if x.ndim > 1 else 1, "x",
                         cli_where="--input")
            x = steps(self.network, x)
            if y is not None:
                y = check_labels(y, self.network.n_out, "y", cli_where="--labels")
                if len(y) != len(x):
                    raise InputError(f"y: {len(y)} labels for {len(x)} samples",
                                     cli=f"--labels: {len(y)} labels for {len(x)} samples")
            x, y = take(x, y, n)
            return x, y, "given samples"
        return split_inputs(self.network, data=data, default_data=self.data,
                            config=self._config, encoding=encoding, in_bits=in_bits, n=n,
                            seed=seed)

    def run(self, x, *, trace: bool = False, where: str = "x",
            cli_where: str | None = None):
        """The golden model on integer inputs ``x[batch, T, n_in]`` (or ``[batch, n_in]``,
        the same values every step): a :class:`~snnhw.golden.model.Trace`.

        Memory stays within :data:`~snnhw.api.inputs.MEMORY_BUDGET`: a batch that would
        need more runs in pieces (logits and classes joined); a trace that would need more
        is refused with the memory it would take (an :class:`~snnhw.errors.InputError`;
        ``where`` names the inputs in it)."""
        from .. import golden

        net = self.network
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None, :]
        per = sample_bytes(net, trace)
        if trace and per * len(x) > _inputs.MEMORY_BUDGET:
            msg = (f"{where}: the trace of {len(x)} samples at T={net.timesteps} needs about "
                   f"{_amount(per * len(x))}, more than the {_amount(_inputs.MEMORY_BUDGET)} "
                   "budget; run fewer samples")
            raise InputError(msg, cli=msg.replace(where, cli_where or where, 1))
        step = batch_size(net, per, where, cli_where=cli_where)
        parts = [golden.run(net, steps(net, x[i:i + step], where, cli_where=cli_where),
                            trace=trace) for i in range(0, max(len(x), 1), step)]
        if len(parts) == 1:
            return parts[0]
        return golden.Trace(logits=np.concatenate([p.logits for p in parts]),
                            classes=np.concatenate([p.classes for p in parts]),
                            layers=None, paths=parts[0].paths)

    def info(self, *, lanes=None, core: str = "pipeline") -> Report:
        """Widths, bounds and sizes per layer (``snnhw info``); with ``lanes`` also the
        memories of ``core`` at those lanes, as the gateware plans them (``lanes``,
        ``core``, ``memories``)."""
        from ..ir.info import describe

        d = describe(self.network)
        if lanes is not None:
            d["lanes"], d["memories"] = _planned_memories(self.network, lanes, core)
            d["core"] = core
        return Report("Info", d)

    def compare(self, data=None, *, in_bits: int | None = None, seed: int = 0,
                progress=None) -> Report:
        """Float model, torch integer mode and golden model on the test split of ``data``
        (default: the data set the model was trained on), as ``snnhw export`` checks an
        export: ``float_acc``, ``int_acc``, ``golden_acc``, ``agree_samples`` of
        ``samples`` (every layer's I, v, s, u and the logits equal), ``first_mismatch``.
        A long run goes in batches within :data:`~snnhw.api.inputs.MEMORY_BUDGET`;
        ``progress(done)`` is called after each."""
        from ..data import Dataset, load_data
        from ..nn.export import compare

        self._need_float("the comparison with the float model")
        d = data if isinstance(data, Dataset) else load_data(data or self.data or "digits",
                                                             in_bits=in_bits)
        check_fits(self.float_model.config, d)
        batch = check_batch(self.network, f"data {d.name!r}")   # encoded a batch at a time
        c = compare(self.float_model, self._integer, self.network, d.x_test, d.y_test,
                    seed=seed, batch=batch, progress=progress)
        return Report("Comparison", {**c.as_dict(), "data": d.name})

    def self_check(self, samples: int = 64, *, seed: int = 0) -> Report:
        """Torch integer mode == golden model on ``samples`` uniform random inputs (``snnhw
        import``'s check): ``check_samples``, ``integer_golden_agree``,
        ``first_mismatch`` and ``spikes_on_check`` (0: the network may be silent)."""
        from ..golden.compare import integer_vs_golden_batched

        net = self.network
        rng = np.random.default_rng(seed)
        check_inputs(net, samples, "samples", option="samples", cli_option="--check",
                     cli_where="--check")
        batch = check_batch(net, "samples", cli_where="--check")
        x = rng.integers(0, 1 << net.in_bits, size=(samples, net.timesteps, net.n_in))
        _, _, _, agree, mismatch, spikes = integer_vs_golden_batched(self._torch_mode(), net,
                                                                     x, batch)
        return Report("SelfCheck", {
            "check_samples": samples, "integer_golden_agree": int(agree.sum()),
            "first_mismatch": mismatch, "spikes_on_check": spikes})

    # ------------------------------------------------------------------ hardware
    def estimate(self, board: str = "icebreaker", *, lanes=8, core: str = "pipeline",
                 weights: str = "auto", clock_mhz: float | None = None,
                 density: float = 0.5) -> Report:
        """Logic cells, block RAM, SPRAM, cycles and latency on ``board`` (``snnhw
        estimate``), and whether it fits (``fits``, ``does_not_fit``)."""
        from snnboards.errors import BuildError
        from snnboards.estimate import check_fit, estimate
        from snnboards.platforms import board as board_spec

        est = estimate(self.network, board, lanes=lanes, core=core, weights=weights,
                       clk_hz=None if clock_mhz is None else clock_mhz * 1e6, density=density)
        try:
            check_fit(est, board_spec(board))
            est = {**est, "fits": True, "does_not_fit": None}
        except BuildError as exc:
            est = {**est, "fits": False, "does_not_fit": str(exc)}
        return Report("Estimate", est)

    def generate(self, folder, *, lanes=8, core: str = "pipeline",
                 top: str = "snn_top") -> Report:
        """Verilog and its manifest into ``folder`` (``snnhw generate``)."""
        from ..gateware.generate import write

        t0 = time.perf_counter()
        v, m, man = write(self.network, lanes, Path(folder), top=top, core=core)
        return Report("Generated", {"verilog": str(v), "manifest": str(m),
                                    "ir_hash": man["ir_hash"], "lanes": man["lanes"],
                                    "core": man["core"],
                                    "seconds": round(time.perf_counter() - t0, 2),
                                    "verilog_bytes": v.stat().st_size})

    def verify(self, x=None, y=None, *, data=None, n: int | None = None,
               encoding: str = "auto", in_bits: int | None = None, lanes=8,
               core: str = "pipeline", backend: str = "sim", sim: str = "verilator",
               engine: str = "bulk", rtl=None, in_pauses: str = "none",
               out_pauses: str = "none", seed: int = 0, waves: bool = False, work=None,
               port: str | None = None, baud: int | None = None, build_dir=None,
               progress=None) -> Report:
        """Torch integer mode, golden model and the hardware on the same inputs (``snnhw
        verify``): every layer of torch and golden compared, the hardware's logits and
        classes against golden; labels add accuracies. ``ok`` is all agreeing.

        Inputs as :meth:`inputs` takes them (``x`` and ``y``, else a data set's test
        split). The hardware is the RTL generated for ``lanes`` and ``core`` (or the
        folder ``rtl``) in simulator ``sim`` (``engine`` bulk or cocotb, stall patterns
        ``in_pauses``/``out_pauses``), or with ``backend="board"`` a board at serial
        ``port`` (``build_dir``: the ``snnhw build`` folder of its bitstream).
        ``progress(done)`` is called as samples finish."""
        import tempfile

        from ..verify.coverify import coverify

        check_backend(backend, sim=sim, engine=engine, waves=waves, port=port, baud=baud,
                      build_dir=build_dir)
        x, y, what = self.inputs(x, y, data=data, n=n, encoding=encoding, in_bits=in_bits,
                                 seed=seed)
        float_pred = self._float_classes(x) if self.float_model is not None else None
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "board":
                hw = self._board(port, baud, build_dir)
            else:
                hw = self._simulator(lanes=lanes, core=core, sim=sim, engine=engine, rtl=rtl,
                                     in_pauses=in_pauses, out_pauses=out_pauses, seed=seed,
                                     waves=waves, work=work or tmp)
            t0 = time.perf_counter()
            rep = coverify(self.network, x, y, hw, torch_mode=self._torch_mode(),
                           float_pred=float_pred, progress=progress,
                           batch=check_batch(self.network, "inputs"))
        return Report("Verification", {**rep.as_dict(), "inputs": what,
                                       "total_seconds": round(time.perf_counter() - t0, 1)})

    def build(self, board: str = "icebreaker", *, lanes=8, clock_mhz: float | None = None,
              out_dir=None, core: str = "pipeline", weights: str = "auto",
              baud: int | None = None, seed: int = 1, progress: bool = False) -> Report:
        """The bitstream for ``board`` with the open toolchain, the UART host link included
        (``snnhw build``): resources, Fmax, timing; ``progress`` shows the tools' stages.
        ``baud``: the UART rate (default: the fastest the board's USB bridge takes that
        the design clock makes within 1 %)."""
        from snnboards.build import build

        out = out_dir or f"out/build/{board}"
        return Report("Build", build(self.network, board, lanes=lanes, out_dir=out,
                                     clock_mhz=clock_mhz, core=core, weights=weights,
                                     baud=baud, seed=seed, progress=progress))

    # ------------------------------------------------------------------------ helpers
    def _need_float(self, what: str) -> None:
        from ..nn.nirio import NIRError

        if self.float_model is None:
            raise NIRError(f"an IR file holds integers only; {what} needs the float model "
                           "(from_torch, from_checkpoint or from_nir)")

    def _torch_mode(self):
        if self._integer is None:
            from ..nn.quant import IntegerSNN  # PyTorch only when it is needed

            self._integer = IntegerSNN.from_ir(self.network)
        return self._integer

    def _float_classes(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.float_model.eval()
        with torch.no_grad():
            return self.float_model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()

    def _board(self, port: str, baud: int | None, build_dir):
        from ..host import BoardBackend

        if build_dir:
            return BoardBackend.from_build(port, build_dir, self.network,
                                           **({"baud": baud} if baud else {}))
        return BoardBackend(port, baud=baud)

    def _simulator(self, *, lanes, core: str, rtl, work, **options):
        from snntb.backend import SimBackend

        if core == "serial" and rtl is None:   # refused before any simulation
            from ..gateware.cores import serial_lanes
            from ..gateware.serial import SerialCore

            SerialCore.check(self.network, lanes=serial_lanes(lanes, self.network))
        return SimBackend(options.pop("sim"), lanes=lanes, rtl_dir=rtl, work=work, core=core,
                          **options)


def check_backend(backend: str = "sim", *, sim: str = "verilator", engine: str = "bulk",
                  waves: bool = False, port: str | None = None, baud: int | None = None,
                  build_dir=None) -> None:
    """The hardware options of :meth:`Model.verify`, checked before anything runs: the
    simulator installed (:class:`~snntb.runner.SimulatorMissingError`), waves only with
    cocotb, a board's port given and its rate known (its build folder's report, or
    ``baud``) (:class:`~snnhw.errors.InputError`)."""
    from snntb.runner import SimulatorMissingError, simulator_available

    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "sim":
        why = simulator_available(sim)
        if why:
            raise SimulatorMissingError(f"simulator {sim} is not available: {why}")
        if waves and engine != "cocotb":
            raise InputError("waves need engine='cocotb' (the bulk testbench records none)",
                             cli="--waves needs --engine cocotb (the bulk testbench records "
                                 "none)")
    elif not port:
        raise InputError("backend='board' needs port= (the board's serial port)",
                         cli="--backend board needs --port (the board's serial port)")
    elif not build_dir and not baud:
        # the rate a bitstream talks at is its build's (each board has its own default)
        raise InputError("backend='board' needs build_dir= (the build folder, whose report "
                         "has the UART rate) or baud=",
                         cli="--backend board needs --build DIR (the build folder, whose "
                             "report has the UART rate) or --baud")


def write_nir(float_model, path, *, dt: float | None = None) -> Report:
    """Write ``float_model`` as a NIR file and read it back as ``nir.read`` does: ``nir``
    (the path), ``nodes`` (name: type) and ``edges``."""
    from ..nn.nirio import DEFAULT_DT, read_graph, to_nir, write_graph

    write_graph(path, to_nir(float_model, dt=DEFAULT_DT if dt is None else dt))
    back = read_graph(path)
    return Report("NIRFile", {"nir": str(path),
                              "nodes": {k: type(n).__name__ for k, n in back.nodes.items()},
                              "edges": [list(e) for e in back.edges]})


def _planned_memories(net: Network, lanes, core: str) -> tuple[list, list[dict]]:
    """The lanes and memories (dicts) of ``core`` at ``lanes``, as the gateware plans them
    (a :class:`~snnhw.gateware.plan.DesignError` for a network or lanes it cannot build)."""
    from ..gateware.cores import serial_lanes
    from ..gateware.plan import plan_core
    from ..gateware.serial import SerialCore

    if core == "serial":
        one = serial_lanes(lanes, net)
        plan = SerialCore.check(net, lanes=one)
        return [one] * len(net.layers), [m.as_dict() for m in plan.memories()]
    plan = plan_core(net, lanes)
    return plan.lanes, [m.as_dict() for m in plan.memories()]
