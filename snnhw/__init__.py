"""snnhw: spiking neural networks from PyTorch to bit-exact FPGA hardware."""

__version__ = "0.1.0"
