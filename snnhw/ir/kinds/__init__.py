"""The IR's layer kinds, one module each, registered by name.

A kind is a dataclass over :class:`~snnhw.ir.neuron.NeuronFields` with ``KIND``
(its name in the manifest) and ``SINCE_VERSION``, and: ``n_in``, ``n_out``,
``bias_per_neuron``, ``abs_row_sums()``, ``synops_per_event()``, ``geometry()``,
``validate()``, ``scalars()`` (its manifest entry) and ``from_manifest()`` (reading
it back). The other floors key their own kind modules by the same name
(:mod:`snnhw.golden.kinds`, :mod:`snnhw.protocol.kinds`, :mod:`snnhw.nn.kinds`,
:mod:`snnhw.gateware.kinds`); docs/architecture.md, "How to add a layer kind".
"""

from __future__ import annotations

from ..errors import IRKindError, _where
from . import conv, dense, recurrent
from .conv import ConvLayer, conv_out_size
from .dense import DenseLayer
from .recurrent import RecurrentLayer

__all__ = ["KINDS", "LAYER_KINDS", "ConvLayer", "DenseLayer", "RecurrentLayer", "conv_out_size",
           "layer_class", "lookup"]

#: name -> the kind's dataclass
KINDS = {cls.KIND: cls for cls in (dense.DenseLayer, conv.ConvLayer, recurrent.RecurrentLayer)}
LAYER_KINDS = tuple(KINDS)


def layer_class(name, index: int | None = None) -> type:
    """The dataclass of layer kind ``name``; :class:`IRKindError` (one line) if unknown."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise IRKindError(f"{_where(index)}: field 'kind' = {name!r} is not one of "
                          f"{list(KINDS)}") from None


def lookup(registry: dict, name, where: str):
    """``registry[name]``, a floor's entry for layer kind ``name``; :class:`IRKindError`
    (one line) naming the kind and what ``where`` (the floor) has if it is not there."""
    if not isinstance(name, str) or name not in registry:
        raise IRKindError(f"{where} has no layer kind {name!r} (it has "
                          f"{', '.join(registry)})")
    return registry[name]
