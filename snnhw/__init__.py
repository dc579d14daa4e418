"""snnhw: spiking neural networks from PyTorch to bit-exact FPGA hardware.

The Python API (:mod:`snnhw.api`): ``snnhw.load``, ``snnhw.from_nir``,
``snnhw.from_checkpoint``, ``snnhw.from_torch`` give a :class:`~snnhw.api.Model`;
``snnhw.train`` and ``snnhw.convert`` a :class:`~snnhw.api.Trained` model;
``snnhw.explore_space`` sweeps a design space. Every error derives from
:class:`~snnhw.errors.SnnhwError`.
"""

__version__ = "0.1.0"

from .api import (
    Model,
    Report,
    Trained,
    convert,
    explore_report,
    explore_space,
    from_checkpoint,
    from_nir,
    from_torch,
    load,
    open_checkpoint,
    train,
)
from .errors import InputError, SnnhwError

__all__ = ["InputError", "Model", "Report", "SnnhwError", "Trained", "__version__", "convert",
           "explore_report", "explore_space", "from_checkpoint", "from_nir", "from_torch", "load",
           "open_checkpoint", "train"]
