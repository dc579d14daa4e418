"""The torch front end's layer kinds, one module each, keyed by the IR's kind name.

A kind module gives, for its layers:

* ``NAME`` (the IR kind) and ``MAP_OUT`` (its output is a ``C x H x W`` map: a pool
  may follow it, a conv layer may read it);
* the float model's modules: ``torch_modules(entry, bn)`` (the weight op and its
  BatchNorm, from a plan entry of :func:`snnhw.nn.conv.plan_arch`), ``shape_input``
  (what the op reads) and ``float_layer`` (:class:`~snnhw.nn.folded.FloatLayer`);
* the integer mode: ``charge(layer, s_in)`` (torch int64, docs/arithmetic.md),
  ``fold_pool(layer, W)``, ``to_ir(W, geometry, fields)`` and ``ir_geometry(layer)``;
* NIR: ``nir_nodes(add, nir, i, fl, model, after_map)`` writes the layer's weight
  nodes.
"""

from __future__ import annotations

from types import ModuleType

from ...ir.kinds import lookup
from . import conv, dense, recurrent

__all__ = ["KINDS", "kind"]

#: IR kind name -> this floor's module
KINDS: dict[str, ModuleType] = {dense.NAME: dense, conv.NAME: conv,
                                  recurrent.NAME: recurrent}


def kind(name: str) -> ModuleType:
    """The module of layer kind ``name``; :class:`IRKindError` (one line) if unknown."""
    return lookup(KINDS, name, "the torch front end")
