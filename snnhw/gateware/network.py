"""A whole network in hardware, generated from an IR file.

Layers are :class:`~snnhw.gateware.layer.LIFLayer` chained by their event
streams; the last one is the readout. Ports:

* ``i``: input events of each step (non-zero values only, then the
  end-of-step marker; :func:`snnhw.protocol.streams.encode_sample`), ``T``
  steps a sample;
* ``o``: per sample, the ``n_out`` logits then the class;
* ``clear``: a one-cycle pulse aborts the current sample anywhere; every layer
  then clears its memories (``G`` cycles, ``i.ready`` low) and the network
  starts afresh. Samples need no clear between them: the last step of a
  sample leaves every membrane at zero.
* ``load`` (:class:`~snnhw.gateware.ports.CoreLoadPort`, only when some
  layer's weights are loaded at run time, ``weights``): write one weight word
  (:func:`snnhw.protocol.words.weight_words`) of layer ``load.layer``; only
  while the network is idle or clearing.

Layers work concurrently: while layer ``l`` accumulates step ``t+1``, layer
``l+1`` may still be consuming the spikes of step ``t`` (buffered in layer
``l``'s FIFO). Cycle bounds are in :mod:`snnhw.gateware.cycles`; sizes and
memories in :attr:`SNNCore.plan` (:mod:`snnhw.gateware.plan`).
"""

from __future__ import annotations

from amaranth.hdl import Module, ResetInserter
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from ._checks import CheckedComponent
from .layer import LIFLayer
from .layouts import event_layout, result_layout
from .plan import CorePlan, DesignError, plan_core
from .ports import CoreLoadPort
from .skid import StreamRegister

__all__ = ["SNNCore"]


class SNNCore(CheckedComponent):
    """The network of ``net`` with ``lanes`` neurons per cycle in every layer.

    Parameters
    ----------
    net : snnhw.ir.Network
    lanes : int or list of int
        One value for every layer, or one per layer.
    weights : dict of layer index -> kind, optional
        Layers whose weights are not in the bitstream (``"ram"`` or
        ``"spram"``, :mod:`snnhw.gateware.weights`); the others are ``"rom"``.
    bank_words : int or None
        Words per weight memory bank (default: an SPRAM block, or 1024 words of
        block RAM; :class:`~snnhw.gateware.weights.WeightStore`).
    """

    LOAD_WIDTH = CoreLoadPort.DATA_WIDTH  # bits of a weight word on the load port
    LOAD_DEPTH = 1 << CoreLoadPort.ADDR_WIDTH  # words a loaded layer may hold

    @classmethod
    def check(cls, net: Network, *, lanes, weights: dict | None = None, **_) -> CorePlan:
        """The plan (the design's one), once the loaded layers fit the load port."""
        plan = plan_core(net, lanes, weights)
        for lp in plan.layers:
            if lp.weights == "rom":
                continue
            mem = lp.memory("weights")
            if mem.depth > cls.LOAD_DEPTH:
                raise DesignError(f"layer {lp.index}: {mem.depth} weight words; a loaded layer "
                                 f"holds at most {cls.LOAD_DEPTH} (use more lanes)")
            if mem.width > cls.LOAD_WIDTH:
                raise DesignError(f"layer {lp.index}: a loaded weight word is {lp.lanes} lanes "
                                 f"x {lp.w_bits} bits = {mem.width} bits; at most "
                                 f"{cls.LOAD_WIDTH} (use fewer lanes)")
        return plan

    def __init__(self, net: Network, *, lanes, weights: dict | None = None,
                 bank_words: int | None = None):
        self.plan = plan = self._checked          # computed once, by check()
        self.net, self.lanes = net, plan.lanes
        self.layers = [LIFLayer(net, lp.index, lanes=lp.lanes, weights=lp.weights,
                                bank_words=bank_words, plan=lp) for lp in plan.layers]
        self.loaded = plan.loaded
        last = plan.layers[-1]
        ports = {
            "i": In(stream.Signature(event_layout(net.n_in, net.in_bits))),
            "o": Out(stream.Signature(result_layout(last.logit_bits, net.n_out))),
            "clear": In(1),
        }
        if self.loaded:
            ports["load"] = In(CoreLoadPort())
        super().__init__(ports)

    @property
    def logit_bits(self) -> int:
        return self.plan.layers[-1].logit_bits

    def weight_depths(self) -> dict[int, int]:
        """Words of every loaded layer's weight memory."""
        return {k: self.plan.layers[k].memory("weights").depth for k in self.loaded}

    def load_width(self) -> int:
        """Bits of a loaded weight word the core reads from ``load.data`` (the widest
        loaded layer's; 1 when none is loaded)."""
        return max((self.plan.layers[k].memory("weights").width for k in self.loaded),
                   default=1)

    def memories(self):
        """Every memory, named from the core (:mod:`snnhw.gateware.plan`)."""
        return self.plan.memories()

    def elaborate(self, platform):
        m = Module()
        for k, layer in enumerate(self.layers):
            m.submodules[f"layer{k}"] = ResetInserter(self.clear)(layer)
        for k in self.loaded:
            load = self.layers[k].syn.load
            m.d.comb += [load.en.eq(self.load.en & (self.load.layer == k)),
                         load.addr.eq(self.load.addr), load.data.eq(self.load.data)]
        # register slices at the core's edges too: the input handshake and the results
        # leave and enter through flip-flops
        m.submodules.link_in = link_in = ResetInserter(self.clear)(
            StreamRegister(self.layers[0].i.payload.shape()))
        m.submodules.link_out = link_out = ResetInserter(self.clear)(
            StreamRegister(self.layers[-1].o.payload.shape()))
        wiring.connect(m, wiring.flipped(self.i), link_in.i)
        wiring.connect(m, link_in.o, self.layers[0].i)
        for k, (a, b) in enumerate(zip(self.layers[:-1], self.layers[1:])):
            # a register slice between layers: no combinational handshake across them
            link = ResetInserter(self.clear)(StreamRegister(a.o.payload.shape()))
            m.submodules[f"link{k}"] = link
            wiring.connect(m, a.o, link.i)
            wiring.connect(m, link.o, b.i)
        wiring.connect(m, self.layers[-1].o, link_out.i)
        wiring.connect(m, link_out.o, wiring.flipped(self.o))
        return m
