"""Amaranth 0.5 gateware: event-driven multi-bit LIF layers, accumulate-only synapses."""

from .layer import LIFLayer
from .network import SNNCore
from .neuron import NeuronLane
from .synapse import SynapseArray

__all__ = ["LIFLayer", "NeuronLane", "SNNCore", "SynapseArray"]
