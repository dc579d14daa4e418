"""The gateware's layer kinds, one module each, keyed by the IR's kind name.

A kind module decides how the synapse array walks the layer's weights and what the
plan (:mod:`snnhw.gateware.plan`) and the Verilog manifest say about it:

* ``WINDOWED``: the walk is a convolution window (:class:`~snnhw.gateware.window.
  ConvWindow`) rather than a row per input; two windowed layers in a row pass
  events indexed ``channel << position_bits | position`` (``split_in``/``split_out``).
* ``READOUT``: the layer can be the network's last (its neurons are read out).
* ``window(layer, lanes)``: the walk geometry (``None`` for a row walk).
* ``bias_words(layer, lanes, window)``: words of the bias memory.
* ``manifest_fields(plan)``: the kind's entries in the manifest's layer record.
"""

from __future__ import annotations

from types import ModuleType

from ...ir.kinds import lookup
from . import conv, dense, recurrent

__all__ = ["KINDS", "kind"]

#: IR kind name -> this floor's module
KINDS: dict[str, ModuleType] = {"dense": dense, "conv": conv, "recurrent": recurrent}


def kind(name: str) -> ModuleType:
    """The module of layer kind ``name``; :class:`IRKindError` (one line) if unknown."""
    return lookup(KINDS, name, "the gateware")
