"""snnhw: spiking neural networks from PyTorch to bit-exact FPGA hardware."""

__version__ = "0.1.0"

from .api import Model, Report, from_checkpoint, from_nir, from_torch, load

__all__ = ["Model", "Report", "__version__", "from_checkpoint", "from_nir", "from_torch",
           "load"]
