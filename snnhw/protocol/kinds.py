"""The host link's layer kinds: each kind's weight-memory layout, keyed by the IR's
kind name (the protocol's only kind-specific knowledge; :mod:`snnhw.protocol.words`
holds the layouts, the gateware builds the same words from them)."""

from __future__ import annotations

from ..ir.kinds import lookup
from .words import conv_weight_words, weight_words

__all__ = ["WEIGHT_LAYOUTS", "layer_weight_words"]



def _dense(layer, lanes: int, w_bits: int) -> list[int]:
    return weight_words(layer.W, lanes, w_bits)


def _conv(layer, lanes: int, w_bits: int) -> list[int]:
    return conv_weight_words(layer.W, lanes, w_bits)


def _recurrent(layer, lanes: int, w_bits: int) -> list[int]:
    """A dense layer's rows over ``[W | R]``: row ``n_in + i'`` is neuron ``i'``'s spike
    of the step before (:meth:`snnhw.ir.RecurrentLayer.stacked`)."""
    return weight_words(layer.stacked(), lanes, w_bits)


#: IR kind name -> ``f(layer, lanes, w_bits)``, the words of the layer's weight memory
WEIGHT_LAYOUTS = {"dense": _dense, "conv": _conv, "recurrent": _recurrent}


def layer_weight_words(layer, lanes: int, w_bits: int | None = None) -> list[int]:
    """The weight memory of an IR layer at ``lanes``, its weights ``w_bits`` wide (the
    layer's own by default); :class:`IRKindError` if the host link has no layout for
    its kind."""
    return lookup(WEIGHT_LAYOUTS, layer.kind, "the host link")(
        layer, lanes, layer.w_bits if w_bits is None else w_bits)
