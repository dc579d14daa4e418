"""The Python API: a network from a file, a NIR graph, a checkpoint, a trained model,
training or conversion; then run, inspect, estimate, generate, verify and build it, and
explore a design space, without the shell. The command line is built on it.

::

    import snnhw
    net = snnhw.from_nir(graph, timesteps=8)        # a nir.NIRGraph or a .nir path
    net.run(x).classes                               # the golden model
    net.info()                                       # widths, bounds, memories
    net.estimate("icebreaker", lanes=2)              # fits? logic cells, block RAM, latency
    net.verify(x, lanes=2).ok                        # torch == golden == RTL (Verilator)
    net.build("icebreaker", lanes=2, clock_mhz=30)   # bitstream and its report

    trained = snnhw.train("digits", epochs=5)        # or snnhw.convert(...)
    net = trained.export(w_bits=8)                   # a Model; trained.save("m.pt")

Every method returns a :class:`Report` (fields as attributes, ``to_dict()``, a readable
``repr`` and an HTML table in notebooks), a :class:`Trained` model, or, for ``run``, a
:class:`~snnhw.golden.model.Trace`. Bad input raises the typed errors of the stage that
found it (:class:`~snnhw.ir.IRError`, :class:`~snnhw.nn.nirio.NIRError`,
:class:`~snnhw.gateware.plan.DesignError`, :class:`~snnhw.errors.InputError`, ...), all
derived from :class:`~snnhw.errors.SnnhwError`, never ``SystemExit``.

This package imports PyTorch, Amaranth and the board tools only when a call needs them.
"""

from __future__ import annotations

from .make import (
    Trained,
    convert,
    float_from_nir,
    from_checkpoint,
    from_nir,
    from_torch,
    load,
    open_checkpoint,
    train,
    train_config,
)
from .model import Model, check_backend
from .report import Report
from .sweep import explore_report, explore_space

__all__ = ["Model", "Report", "Trained", "check_backend", "convert", "explore_report",
           "explore_space", "float_from_nir", "from_checkpoint", "from_nir", "from_torch",
           "load", "open_checkpoint", "train", "train_config"]
