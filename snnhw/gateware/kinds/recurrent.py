"""The ``recurrent`` kind in the gateware: a dense layer over its input followed by its
own spikes of the step before (:meth:`snnhw.ir.RecurrentLayer.stacked`): a fed-back
spike of neuron ``i'`` is input event ``n_in + i'``, one weight row like any other
(:func:`snnhw.protocol.words.weight_words` of ``[W | R]``)."""

from __future__ import annotations

from .dense import bias_words, manifest_fields, window

__all__ = ["READOUT", "WINDOWED", "bias_words", "manifest_fields", "synapse_matrix", "window"]

WINDOWED = False
READOUT = True


def synapse_matrix(layer):
    """``[W | R]``: input events ``0 .. n_in-1``, then the layer's replayed spikes."""
    return layer.stacked()
