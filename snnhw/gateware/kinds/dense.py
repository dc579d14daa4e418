"""The ``dense`` kind in the gateware: one weight row per input event, ``lanes``
output neurons per word (:func:`snnhw.protocol.words.weight_words`)."""

from __future__ import annotations

import math

__all__ = ["READOUT", "WINDOWED", "bias_words", "manifest_fields", "synapse_matrix", "window"]

WINDOWED = False
READOUT = True


def window(layer, lanes: int) -> None:
    return None


def synapse_matrix(layer):
    """The weights the synapse array walks: the layer's own."""
    return layer.W


def bias_words(layer, lanes: int, window) -> int:
    """One bias word per group of ``lanes`` neurons."""
    return math.ceil(layer.n_out / lanes)


def manifest_fields(plan) -> dict:
    return {"event_order": "ascending index"} if plan.readout is None else {}
