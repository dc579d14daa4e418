"""The host link's layer kinds: each kind's weight-memory layout, keyed by the IR's
kind name (the protocol's only kind-specific knowledge; :mod:`snnhw.protocol.words`
holds the layouts, the gateware builds the same words from them)."""

from __future__ import annotations

from ..ir.kinds import lookup
from .words import conv_weight_words, weight_words

__all__ = ["WEIGHT_LAYOUTS", "layer_weight_words"]

#: IR kind name -> ``f(W, lanes, w_bits)``, the words of the layer's weight memory
WEIGHT_LAYOUTS = {"dense": weight_words, "conv": conv_weight_words}


def layer_weight_words(layer, lanes: int, w_bits: int | None = None) -> list[int]:
    """The weight memory of an IR layer at ``lanes``, its weights ``w_bits`` wide (the
    layer's own by default); :class:`IRKindError` if the host link has no layout for
    its kind."""
    return lookup(WEIGHT_LAYOUTS, layer.kind, "the host link")(
        layer.W, lanes, layer.w_bits if w_bits is None else w_bits)
