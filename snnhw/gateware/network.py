"""A whole network in hardware, generated from an IR file.

Layers are :class:`~snnhw.gateware.layer.LIFLayer` chained by their event
streams; the last one is the readout. Ports:

* ``i``: input events of each step (non-zero values only, then the
  end-of-step marker; :func:`snnhw.protocol.streams.encode_sample`), ``T`` steps a
  sample;
* ``o``: per sample, the ``n_out`` logits then the class;
* ``clear``: a one-cycle pulse aborts the current sample anywhere; every layer
  then clears its memories (``G`` cycles, ``i.ready`` low) and the network
  starts afresh. Samples need no clear between them: the last step of a
  sample leaves every membrane at zero.
* ``load_en``, ``load_layer``, ``load_addr``, ``load_data`` (only when some
  layer's weights are loaded at run time, ``weights``): write one weight word
  (:func:`snnhw.protocol.words.weight_words`) of layer ``load_layer``; only while the
  network is idle or clearing.

Layers work concurrently: while layer ``l`` accumulates step ``t+1``, layer
``l+1`` may still be consuming the spikes of step ``t`` (buffered in layer
``l``'s FIFO). Cycle bounds are in :mod:`snnhw.gateware.cycles`.
"""

from __future__ import annotations

import math

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
    weights : dict of layer index -> kind, optional
        Layers whose weights are not in the bitstream (``"ram"`` or
        ``"spram"``, :mod:`snnhw.gateware.weights`); the others are ``"rom"``.
    """

    LOAD_WIDTH = 64  # bits of a weight word on the load port
    LOAD_DEPTH = 1 << 16  # words a loaded layer may hold (16-bit load address)

    def __init__(self, net: Network, *, lanes, weights: dict | None = None):
        n = len(net.layers)
        lanes_list = [lanes] * n if isinstance(lanes, int) else list(lanes)
        if len(lanes_list) != n or any(not isinstance(p, int) or p < 1 for p in lanes_list):
            reject(self, f"lanes must be a positive integer or {n} of them, got {lanes!r}")
        weights = dict(weights or {})
        for k, kind in weights.items():
            if not 0 <= k < n:
                reject(self, f"weights: no layer {k} (the network has {n})")
            width = lanes_list[k] * net.layers[k].w_bits
            depth = math.ceil(net.layers[k].n_out / lanes_list[k]) * net.layers[k].n_in
            if kind != "rom" and depth > self.LOAD_DEPTH:
                reject(self, f"layer {k}: {depth} weight words; a loaded layer holds at most "
                       f"{self.LOAD_DEPTH} (use more lanes)")
            if kind != "rom" and width > self.LOAD_WIDTH:
                reject(self, f"layer {k}: a loaded weight word is {lanes_list[k]} lanes x "
                       f"{net.layers[k].w_bits} bits = {width} bits; at most "
                       f"{self.LOAD_WIDTH} (use fewer lanes)")
        self.net, self.lanes = net, lanes_list
        self.layers = [LIFLayer(net, i, lanes=p, weights=weights.get(i, "rom"))
                       for i, p in enumerate(lanes_list)]
        self.loaded = [k for k, ly in enumerate(self.layers) if ly.syn.store.loadable]
        last = self.layers[-1]
        ports = {
            "i": In(stream.Signature(event_layout(net.n_in, net.in_bits))),
            "o": Out(stream.Signature(result_layout(last.logit_bits, net.n_out))),
            "clear": In(1),
        }
        if self.loaded:
            ports.update({"load_en": In(1), "load_layer": In(8), "load_addr": In(16),
                          "load_data": In(self.LOAD_WIDTH)})
        super().__init__(ports)

    def weight_depths(self) -> dict[int, int]:
        """Words of every loaded layer's weight memory."""
        return {k: self.layers[k].syn.store.depth for k in self.loaded}

    def elaborate(self, platform):
        m = Module()
        for k, layer in enumerate(self.layers):
            m.submodules[f"layer{k}"] = ResetInserter(self.clear)(layer)
        for k in self.loaded:
            syn = self.layers[k].syn
            m.d.comb += [syn.w_wr_en.eq(self.load_en & (self.load_layer == k)),
                         syn.w_wr_addr.eq(self.load_addr), syn.w_wr_data.eq(self.load_data)]
        wiring.connect(m, wiring.flipped(self.i), self.layers[0].i)
        for a, b in zip(self.layers[:-1], self.layers[1:]):
            wiring.connect(m, a.o, b.i)
        wiring.connect(m, self.layers[-1].o, wiring.flipped(self.o))
        return m
