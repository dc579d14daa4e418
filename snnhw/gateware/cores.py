"""The cores a design can be built around, by name: ``pipeline``
(:class:`~snnhw.gateware.network.SNNCore`, a processing element per layer) and
``serial`` (:class:`~snnhw.gateware.serial.SerialCore`, one for all layers)."""

from __future__ import annotations

from ..ir import Network
from ..util import lanes_per_layer
from .network import SNNCore
from .plan import DesignError

__all__ = ["CORES", "make_core", "serial_lanes"]

#: the cores ``generate`` and ``build`` make: a processing element per layer, or one
#: for all layers in turn (:mod:`snnhw.gateware.serial`)
CORES = ("pipeline", "serial")


def serial_lanes(lanes, net: Network) -> int:
    """The serial core's one lanes setting from ``lanes`` (a number, or one per layer
    that are all the same); a :class:`DesignError` (a ``ValueError``) otherwise."""
    ps = lanes_per_layer(lanes, len(net.layers))
    if len(set(ps)) > 1:
        raise DesignError(f"the serial core has one lanes setting for all layers, got {ps}")
    return ps[0]


def make_core(net: Network, lanes, core: str = "pipeline", **kw):
    """The core ``core`` (:data:`CORES`) of ``net``; a :class:`DesignError` for an
    unknown one or a network it cannot build."""
    if core == "serial":
        from .serial import SerialCore

        return SerialCore(net, lanes=serial_lanes(lanes, net), **kw)
    if core != "pipeline":
        raise DesignError(f"core must be one of {CORES}, got {core!r}")
    return SNNCore(net, lanes=lanes, **kw)
