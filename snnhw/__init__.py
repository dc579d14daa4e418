"""snnhw: spiking neural networks from PyTorch to bit-exact FPGA hardware.

The Python API (:mod:`snnhw.api`): ``snnhw.load``, ``snnhw.from_nir``,
``snnhw.from_checkpoint``, ``snnhw.from_torch`` give a :class:`~snnhw.api.Model`; every
error derives from :class:`~snnhw.errors.SnnhwError`.
"""

__version__ = "0.1.0"

from .api import Model, Report, from_checkpoint, from_nir, from_torch, load
from .errors import SnnhwError

__all__ = ["Model", "Report", "SnnhwError", "__version__", "from_checkpoint", "from_nir",
           "from_torch", "load"]
