"""Torch training front end: multi-bit LIF, MPR, RMP-Loss, conversion, integer mode."""

from .model import SpikingMLP, direct_encode, poisson_encode
from .neuron import MultiBitLIF
from .quant import ExportError, IntegerSNN, quantize
from .rmp import RMPLoss
from .surrogate import MPR, STE, mpr, spike, surrogate

__all__ = ["MPR", "STE", "ExportError", "IntegerSNN", "MultiBitLIF", "RMPLoss", "SpikingMLP",
           "direct_encode", "mpr", "poisson_encode", "quantize", "spike", "surrogate"]
