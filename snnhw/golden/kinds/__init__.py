"""The golden model's layer kinds, one module each, keyed by the IR's kind name.

A kind module gives ``charge(layer, s_in, path)`` (the exact charge of a batch of
rows, :mod:`snnhw.golden.model`) and ``naive_charges(layer, W, b, s_in)`` (one
sample in Python integers, :mod:`snnhw.golden.naive`).
"""

from __future__ import annotations

from types import ModuleType

from ...ir.kinds import lookup
from . import conv, dense, recurrent

__all__ = ["KINDS", "charge_of", "kind", "naive_charges_of"]

#: IR kind name -> this floor's module
KINDS: dict[str, ModuleType] = {"dense": dense, "conv": conv, "recurrent": recurrent}


def kind(name: str) -> ModuleType:
    """The module of layer kind ``name``; :class:`IRKindError` (one line) if unknown."""
    return lookup(KINDS, name, "the golden model")


def charge_of(layer):
    return kind(layer.kind).charge


def naive_charges_of(layer):
    return kind(layer.kind).naive_charges
