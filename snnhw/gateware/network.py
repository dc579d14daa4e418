"""A whole network in hardware, generated from an IR file.

Layers are :class:`~snnhw.gateware.layer.LIFLayer` chained by their event
streams; the last one is the readout. Ports:

* ``i``: input events of each step (non-zero values only, then the
  end-of-step marker; :func:`snnhw.streams.encode_sample`), ``T`` steps a
  sample;
* ``o``: per sample, the ``n_out`` logits then the class;
* ``clear``: a one-cycle pulse aborts the current sample anywhere; every layer
  then clears its memories (``G`` cycles, ``i.ready`` low) and the network
  starts afresh. Samples need no clear between them: the last step of a
  sample leaves every membrane at zero.

Layers work concurrently: while layer ``l`` accumulates step ``t+1``, layer
``l+1`` may still be consuming the spikes of step ``t`` (buffered in layer
``l``'s FIFO). Cycle bounds are in :mod:`snnhw.gateware.cycles`.
"""

from __future__ import annotations

from amaranth.hdl import Module, ResetInserter
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from ._checks import reject
from .layer import LIFLayer
from .layouts import event_layout, result_layout

__all__ = ["SNNCore"]


class SNNCore(wiring.Component):
    """The network of ``net`` with ``lanes`` neurons per cycle in every layer.

    Parameters
    ----------
    net : snnhw.ir.Network
    lanes : int or list of int
        One value for every layer, or one per layer.
    """

    def __init__(self, net: Network, *, lanes):
        n = len(net.layers)
        lanes_list = [lanes] * n if isinstance(lanes, int) else list(lanes)
        if len(lanes_list) != n or any(not isinstance(p, int) or p < 1 for p in lanes_list):
            reject(self, f"lanes must be a positive integer or {n} of them, got {lanes!r}")
        self.net, self.lanes = net, lanes_list
        self.layers = [LIFLayer(net, i, lanes=p) for i, p in enumerate(lanes_list)]
        last = self.layers[-1]
        super().__init__({
            "i": In(stream.Signature(event_layout(net.n_in, net.in_bits))),
            "o": Out(stream.Signature(result_layout(last.logit_bits, net.n_out))),
            "clear": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        for k, layer in enumerate(self.layers):
            m.submodules[f"layer{k}"] = ResetInserter(self.clear)(layer)
        wiring.connect(m, wiring.flipped(self.i), self.layers[0].i)
        for a, b in zip(self.layers[:-1], self.layers[1:]):
            wiring.connect(m, a.o, b.i)
        wiring.connect(m, self.layers[-1].o, wiring.flipped(self.o))
        return m
