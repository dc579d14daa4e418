"""The Python API: a network from a file, a NIR graph, a checkpoint or a trained model, then
run, inspect, estimate, generate, verify and build it without the shell.

::

    import snnhw
    net = snnhw.from_nir(graph, timesteps=8)        # a nir.NIRGraph or a .nir path
    net.run(x).classes                               # the golden model
    net.info()                                       # widths, bounds, memories
    net.estimate("icebreaker", lanes=2)              # fits? logic cells, block RAM, latency
    net.verify(x, lanes=2).ok                        # torch == golden == RTL (Verilator)
    net.build("icebreaker", lanes=2, clock_mhz=30)   # bitstream and its report

Every method returns a :class:`Report` (fields as attributes, ``to_dict()``, a readable
``repr`` and an HTML table in notebooks) or, for ``run``, a
:class:`~snnhw.golden.model.Trace`. Bad input raises the typed errors of the stage that
found it (:class:`~snnhw.ir.IRError`, :class:`~snnhw.nn.nirio.NIRError`,
:class:`~snnhw.gateware.plan.DesignError`, ...), never ``SystemExit``.

This module imports PyTorch, Amaranth and the board tools only when a method needs them.
"""

from __future__ import annotations

import contextlib
import html
from pathlib import Path

import numpy as np

from .ir import Network

__all__ = ["Model", "Report", "from_checkpoint", "from_nir", "from_torch", "load"]


class Report:
    """A result: its fields as attributes and :meth:`to_dict`; ``repr`` shows the scalar
    fields, ``_repr_html_`` a table of them (notebooks)."""

    def __init__(self, kind: str, data: dict):
        self._kind, self._data = kind, dict(data)

    def __getattr__(self, name):
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(f"{self._kind} has no field {name!r} (it has "
                                 f"{', '.join(self._data)})") from None

    def __dir__(self):
        return [*super().__dir__(), *self._data]

    def to_dict(self) -> dict:
        return dict(self._data)

    def _scalars(self) -> dict:
        return {k: v for k, v in self._data.items()
                if v is None or isinstance(v, (bool, int, float, str))}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._scalars().items())
        return f"{self._kind}({fields})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td>{html.escape(str(v))}</td></tr>"
                       for k, v in self._scalars().items())
        return f"<table><caption>{html.escape(self._kind)}</caption>{rows}</table>"


class Model:
    """An integer network (:class:`~snnhw.ir.Network`, the IR) and, when it came from torch,
    its torch integer mode and float model (used by :meth:`verify`).

    Attributes
    ----------
    network : snnhw.ir.Network
    float_model : torch.nn.Module or None
    """

    def __init__(self, network: Network, *, integer=None, float_model=None,
                 config: dict | None = None):
        self.network, self._integer, self.float_model = network, integer, float_model
        self._config = config

    def __repr__(self) -> str:
        net = self.network
        kinds = ", ".join(f"{ly.kind} {ly.n_in}->{ly.n_out}" for ly in net.layers)
        return (f"Model({net.name!r}: {kinds}; T={net.timesteps}, in_bits={net.in_bits}, "
                f"readout={net.readout})")

    # ------------------------------------------------------------------ inspect and run
    def save(self, path) -> Path:
        """Write the IR file (``.snn``)."""
        from .ir import save

        return save(self.network, path)

    def run(self, x, *, trace: bool = False):
        """The golden model on integer inputs ``x[batch, T, n_in]`` (or ``[batch, n_in]``,
        the same values every step): a :class:`~snnhw.golden.model.Trace`."""
        from . import golden

        return golden.run(self.network, self._steps(x), trace=trace)

    def info(self, *, lanes=None, core: str = "pipeline") -> Report:
        """Widths, bounds and sizes per layer (``snnhw info``); with ``lanes`` also the
        memories of ``core`` at those lanes, as the gateware plans them (``lanes``,
        ``core``, ``memories``)."""
        from .ir.info import describe

        d = describe(self.network)
        if lanes is not None:
            d["lanes"], d["memories"] = _planned_memories(self.network, lanes, core)
            d["core"] = core
        return Report("Info", d)

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
        import time

        from .gateware.generate import write

        t0 = time.perf_counter()
        v, m, man = write(self.network, lanes, Path(folder), top=top, core=core)
        return Report("Generated", {"verilog": str(v), "manifest": str(m),
                                    "ir_hash": man["ir_hash"], "lanes": man["lanes"],
                                    "core": man["core"],
                                    "seconds": round(time.perf_counter() - t0, 2),
                                    "verilog_bytes": v.stat().st_size})

    def verify(self, x=None, y=None, *, data: str | None = None, n: int | None = None,
               lanes=8, core: str = "pipeline", sim: str = "verilator", engine: str = "bulk",
               in_pauses: str = "none", out_pauses: str = "none", seed: int = 0,
               work=None) -> Report:
        """Torch integer mode, golden model and the generated RTL on the same inputs
        (``snnhw verify``): every layer of torch and golden compared, the RTL's logits and
        classes against golden; ``y`` (labels) adds accuracies. ``ok`` is all agreeing.
        Instead of ``x``, ``data`` names a data set (or an ``.npz``) whose test split is
        run with its labels, encoded as the model was trained (``n``: the first ``n``)."""
        import tempfile

        from snntb.backend import SimBackend

        from .verify.coverify import coverify

        if (x is None) == (data is None):
            raise ValueError("verify takes inputs x or a data set's name, one of the two")
        if data is not None:
            x, y = self._test_split(data)
        x = self._steps(x)
        if n is not None:
            x, y = x[:n], None if y is None else np.asarray(y)[:n]
        with tempfile.TemporaryDirectory() as tmp:
            backend = SimBackend(sim, lanes=lanes, work=Path(work or tmp), in_pauses=in_pauses,
                                 out_pauses=out_pauses, seed=seed, engine=engine, core=core)
            float_pred = None
            if self.float_model is not None:
                float_pred = self._float_classes(x)
            rep = coverify(self.network, x, y, backend, torch_mode=self._integer,
                           float_pred=float_pred)
        return Report("Verification", rep.as_dict())

    def build(self, board: str = "icebreaker", *, lanes=8, clock_mhz: float | None = None,
              out_dir=None, core: str = "pipeline", weights: str = "auto",
              baud: int = 115200, seed: int = 1, progress: bool = False) -> Report:
        """The bitstream for ``board`` with the open toolchain, the UART host link included
        (``snnhw build``): resources, Fmax, timing; ``progress`` shows the tools' stages."""
        from snnboards.build import build

        out = out_dir or f"out/build/{board}"
        return Report("Build", build(self.network, board, lanes=lanes, out_dir=out,
                                     clock_mhz=clock_mhz, core=core, weights=weights,
                                     baud=baud, seed=seed, progress=progress))

    def to_nir(self, *, dt: float | None = None):
        """The float model as a ``nir.NIRGraph`` (a model from torch or NIR only)."""
        from .nn.nirio import DEFAULT_DT, NIRError, to_nir

        if self.float_model is None:
            raise NIRError("an IR file holds integers only; NIR export needs the float model "
                           "(from_torch, from_checkpoint or from_nir)")
        return to_nir(self.float_model, dt=DEFAULT_DT if dt is None else dt)

    # ------------------------------------------------------------------------ helpers
    def _test_split(self, data: str):
        """A data set's test inputs (encoded as the float model's config says, if any) and
        labels."""
        from .data import load_data

        d = load_data(data)
        x = d.x_test
        if self._config is not None:
            from .nn.model import encode

            x = encode(self._config, x).numpy()
        return x, d.y_test

    def _steps(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 2:
            x = np.repeat(x[:, None, :], self.network.timesteps, axis=1)
        return x.astype(np.int64, copy=False)

    def _float_classes(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.float_model.eval()
        with torch.no_grad():
            return self.float_model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()


def _planned_memories(net: Network, lanes, core: str) -> tuple[list, list[dict]]:
    """The lanes and memories (dicts) of ``core`` at ``lanes``, as the gateware plans them
    (a :class:`~snnhw.gateware.plan.DesignError` for a network or lanes it cannot build)."""
    from .gateware.cores import serial_lanes
    from .gateware.plan import plan_core
    from .gateware.serial import SerialCore

    if core == "serial":
        one = serial_lanes(lanes, net)
        plan = SerialCore.check(net, lanes=one)
        return [one] * len(net.layers), [m.as_dict() for m in plan.memories()]
    plan = plan_core(net, lanes)
    return plan.lanes, [m.as_dict() for m in plan.memories()]


def load(path) -> Model:
    """An IR file (``.snn``, from ``snnhw export`` / ``import`` or :meth:`Model.save`)."""
    from .ir import load as load_ir

    return Model(load_ir(path))


def from_torch(model, *, w_bits: int = 8, u_bits: int = 16, name: str = "") -> Model:
    """A trained snnhw torch model (:class:`~snnhw.nn.model.SpikingMLP`,
    :class:`~snnhw.nn.conv.SpikingConvNet`) quantised to the IR (``snnhw export``)."""
    from .nn.export import export_model

    q, net = export_model(model, w_bits=w_bits, u_bits=u_bits, name=name)
    return Model(net, integer=q, float_model=model, config=dict(model.config))


def from_checkpoint(path, *, w_bits: int = 8, u_bits: int = 16, name: str | None = None
                    ) -> Model:
    """An snnhw checkpoint (``snnhw train`` / ``convert``) quantised to the IR."""
    from .nn.train import load_checkpoint

    model, _ = load_checkpoint(path)
    return from_torch(model, w_bits=w_bits, u_bits=u_bits,
                      name=Path(path).stem if name is None else name)


def from_nir(graph, *, timesteps: int | None = None, in_bits: int | None = None,
             dt: float | None = None, reset: str | None = None, w_bits: int = 8,
             u_bits: int = 16, name: str = "nir") -> Model:
    """A NIR graph (a ``nir.NIRGraph`` object or a ``.nir`` path) quantised to the IR
    (``snnhw import``). A graph object whose producer left node types out (Sinabs' conv
    layers) gets them inferred first."""
    from .nn.nirio import from_nir as float_from_nir

    if not isinstance(graph, (str, Path)):
        graph = _typed(graph)
    model = float_from_nir(graph, timesteps=timesteps, in_bits=in_bits, dt=dt, reset=reset)
    return from_torch(model, w_bits=w_bits, u_bits=u_bits, name=name)


def _typed(graph):
    """``graph`` with the node types NIR can infer filled in (a no-op when complete). A
    graph NIR cannot type goes on as it is: the import checks every shape itself and
    names the node that does not fit."""
    with contextlib.suppress(Exception):   # NIR raises plain exceptions here
        graph.infer_types()
    return graph
