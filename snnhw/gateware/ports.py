"""Named port bundles between components, joined with ``wiring.connect``.

Each signature is written from the side that drives the request (the
``Out`` members): the sweep reads accumulators, the host link loads weights.
The other side takes it flipped (``In(...)``).
"""

from __future__ import annotations

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..protocol.link import WEIGHT_WORD_BYTES

__all__ = ["AccumulatorPort", "WeightLoadPort", "CoreLoadPort"]


class AccumulatorPort(wiring.Signature):
    """Read one group of a synapse array's accumulators and clear it.

    ``en`` with ``addr`` in one cycle: the array registers the request, reads the
    group the next cycle (from a registered address, nothing in front of the
    memory) and clears it the cycle after; the group's accumulators are on ``data``
    two cycles after the request (:data:`LATENCY`), and the group reads as zero
    from three cycles after it. Use only while the array is idle (its ``busy``
    low).
    """

    #: cycles from a request to its data
    LATENCY = 2

    def __init__(self, groups: int, width: int):
        self.groups, self.width = groups, width
        super().__init__({"en": Out(1), "addr": Out(range(max(groups, 2))), "data": In(width)})


class WeightLoadPort(wiring.Signature):
    """Write one weight word (``en``, ``addr``, ``data``) of one weight memory."""

    def __init__(self, addr_width: int, data_width: int):
        self.addr_width, self.data_width = addr_width, data_width
        super().__init__({"en": Out(1), "addr": Out(addr_width), "data": Out(data_width)})


class CoreLoadPort(wiring.Signature):
    """Write one weight word of layer ``layer`` of a network core: the host link's
    WEIGHTS frames (:mod:`snnhw.protocol.link`), 16-bit addresses, 64-bit words."""

    ADDR_WIDTH = 16
    DATA_WIDTH = 8 * WEIGHT_WORD_BYTES

    def __init__(self):
        super().__init__({"en": Out(1), "layer": Out(8), "addr": Out(self.ADDR_WIDTH),
                          "data": Out(self.DATA_WIDTH)})
