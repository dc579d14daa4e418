"""The IR's layers: the shared neuron fields (:mod:`snnhw.ir.neuron`) and the layer
kinds (:mod:`snnhw.ir.kinds`: ``DenseLayer``, ``ConvLayer``), under one name."""

from .kinds import KINDS, LAYER_KINDS, ConvLayer, DenseLayer, conv_out_size, layer_class
from .neuron import MAX_NEURONS, MAX_SPAN, MAX_WEIGHTS, RESETS, NeuronFields

__all__ = ["KINDS", "LAYER_KINDS", "MAX_NEURONS", "MAX_SPAN", "MAX_WEIGHTS", "RESETS",
           "ConvLayer", "DenseLayer", "NeuronFields", "conv_out_size", "layer_class"]
