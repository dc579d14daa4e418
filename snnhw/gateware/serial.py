"""The layer-serial core: one processing element computes every layer of a step in turn.

docs/arithmetic.md, "Schedules": the arithmetic is the contract, not the
schedule. Where :class:`~snnhw.gateware.network.SNNCore` builds a processing
element per layer, :class:`SerialCore` builds one, with ``lanes`` synapses a cycle,
and keeps everything that differs between layers in memory or in small tables:

* the weights of all layers in one memory (each layer's words from its base, in the
  layout of its kind, :mod:`snnhw.protocol.kinds`, at the widest ``w_bits``), the
  biases in another (``lanes`` words per channel group, a bias a word), the
  membranes of the firing layers in a third (a membrane a word; each layer from its
  base), one accumulator memory of ``lanes`` partial sums a word, as deep as the
  largest layer's groups (the layers take turns), the logits in the readout;
* the spikes of layer ``l`` at step ``t`` in a spike memory: one entry per group
  that has a non-zero spike (its lanes' spikes, a key and the group's position;
  :meth:`SerialPlan._keys`), written by ``l``'s sweep and read back as events by
  layer ``l + 1`` (one memory is enough: layer ``l + 1`` reads every entry before
  its own sweep writes any);
* where a conv layer's window walk starts (:meth:`~snnhw.gateware.window.ConvWindow.
  table`) in a small ROM: a word per input index of layer 0, per input position of
  a later conv layer;
* the layer's constants (sizes, bases, the walk's steps, ``k``, ``fire_offset``,
  ``s_max``, leak, reset, membrane range) in tables indexed by the layer, registered
  when the layer changes: the neuron shifts by a register's amount, so its logic
  does not grow with the number of layers.

The schedule of a step: layer 0 accumulates the input events up to the step's
marker, then sweeps its groups; every later layer accumulates the entries of the
spike memory, then sweeps. An event walks the groups it reaches, one a cycle (a
dense layer's every group; a conv layer's window, :mod:`snnhw.gateware.window`,
channel groups innermost), through a pipeline (the weights into a register; the
lanes' products into registers while the accumulators are read; added and
written). The sweep holds a group's accumulator word and passes its lanes one a
cycle through a single neuron pipeline (charge and leak; their sum; ``v``, the
sum saturated; spike; reset), each lane's bias read the cycle before it enters,
its membrane then too (or, no layer leaking, as it enters, added straight from the
memory), and its membrane written at the reset: ``lanes + 6`` cycles a group.
Zero spikes cost no cycle. The last layer's neurons go to a
:class:`~snnhw.gateware.readout.Readout` (at one lane), which after the sample's
last step emits the logits and the class. The last step writes every
membrane back as zero, so samples need no clear between them; after reset (or a
pulse on ``clear``) the core first zeroes its memories.

Ports as :class:`~snnhw.gateware.network.SNNCore`: ``i`` (input events and
end-of-step markers), ``o`` (logits then class), ``clear``.

The weights live in a :class:`~snnhw.gateware.weights.WeightStore` (banks with
registered outputs, or one memory on the iCE40): in the bitstream (``"rom"``), or loaded by the host
(``"spram"`` on the iCE40UP5K, ``"ram"`` elsewhere) through ``load``
(:class:`~snnhw.gateware.ports.CoreLoadPort`), layer by layer as for the pipeline
core: word ``addr`` of layer ``layer`` goes to ``w_base[layer] + addr``, so the
host sends the same WEIGHTS frames to either core. A loaded store holds every layer
(one memory), so all layers are loaded or none, and their ``w_bits`` must agree (the
host's words are each layer's own width). Dense and conv layers; a conv layer
takes its input from the network's input or from a conv layer.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, ResetInserter, Signal, signed, unsigned
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from ..protocol.kinds import layer_weight_words
from ..protocol.words import pack_lanes
from ..util import signed_bits, signed_range
from ._checks import CheckedComponent, check_lanes
from .compare import below, saturate
from .encoding import ONE_HOT
from .kinds import kind as layer_kind
from .layouts import event_layout, result_layout
from .lutram import state_memory
from .plan import MAX_EVENTS, DesignError, LayerPlan, MemorySpec, distributed, link_buffer
from .ports import CoreLoadPort
from .readout import Readout
from .weights import WeightStore
from .window import ConvWindow

__all__ = ["SERIAL_TAIL", "SerialCore", "SerialPlan", "ideal_cycles", "sample_bound",
           "serial_design_memories"]


@dataclass(frozen=True)
class LayerWalk:
    """How the serial core walks one layer (the same walk as the pipeline core's synapse
    array, :mod:`snnhw.gateware.window`): ``groups`` accumulator and membrane words,
    ``cgroups`` channel groups (a dense layer: every group), ``positions`` output
    positions a channel (1), ``words`` weight words, ``biases`` bias words, the walk's
    constant adds (``w_group``, ``a_group``; a conv layer's ``w_col``, ``w_row``,
    ``a_row``, the column's accumulator step being -1) and ``max_visits``, the groups
    one event visits at most."""

    conv: bool
    groups: int
    cgroups: int
    positions: int
    words: int
    biases: int
    w_group: int
    a_group: int
    w_col: int = 0
    w_row: int = 0
    a_row: int = 0
    taps: int = 1
    window: ConvWindow | None = None

    @property
    def max_visits(self) -> int:
        return self.window.max_visits if self.conv else self.groups

    @classmethod
    def of(cls, layer, lanes: int) -> LayerWalk:
        k = layer_kind(layer.kind)
        w = k.window(layer, lanes)
        biases = k.bias_words(layer, lanes, w)
        if w is None:       # a row per input (a recurrent layer's own spikes after them)
            g = math.ceil(layer.n_out / lanes)
            rows = k.synapse_matrix(layer).shape[1]
            return cls(False, g, g, 1, g * rows, biases, rows, 1)
        st = w.steps
        return cls(True, w.groups, w.channel_groups, w.positions, w.weight_words, biases,
                   st["w_group"], st["a_group"], st["w_col"], st["w_row"], st["a_row"],
                   w.taps, w)


class SerialPlan:
    """Sizes, bases and widths of the serial core of ``net`` at ``lanes``; ``weights``
    the weight store's kind (``"rom"``, ``"ram"``, ``"spram"``)."""

    def __init__(self, net: Network, lanes: int, weights: str = "rom"):
        self.net, self.lanes, self.weights = net, lanes, weights
        P, L = lanes, len(net.layers)
        self.walks = [LayerWalk.of(ly, P) for ly in net.layers]
        self.conv = [w.conv for w in self.walks]
        self.has_conv = any(self.conv)
        self.groups = [w.groups for w in self.walks]
        self.fires = [not (i == L - 1 and net.readout == "membrane") for i in range(L)]
        self.w_bits = max(ly.w_bits for ly in net.layers)
        self.u_bits = max(ly.u_bits for ly in net.layers)
        self.acc_width = max(signed_bits(net.current_bound(i)) for i in range(L))
        # the charge I = acc + b: one bit more than the wider of the two
        self.current_width = max(self.acc_width, self.u_bits) + 1
        self.value_bits = max([net.in_bits] + [ly.spike_bits for ly in net.layers])
        hidden = range(L - 1)
        #: the recurrent layers (their spikes of a step are replayed into them in the next)
        self.recurrent = [ly.feedback is not None for ly in net.layers]
        self.spike_bits = max([1] + [ly.spike_bits for i, ly in enumerate(net.layers)
                                     if i in hidden or self.recurrent[i]])
        self.entries = max([1] + [self.groups[i] for i in hidden])
        self.layer_words = [w.words for w in self.walks]
        # with every layer dense (no replay) and a power-of-two lanes, each layer's
        # weights start at a multiple of the lanes: an entry's row (key + w_base, the key
        # a multiple of the lanes) then has zero low bits and lane k's row is that row
        # OR k, no add (at most lanes - 1 words of padding a layer)
        self.aligned = (not self.has_conv and not any(self.recurrent)
                        and P & (P - 1) == 0)
        self.w_base = _bases(self.layer_words, P if self.aligned else 1)
        # the biases and membranes a neuron a word (the sweep takes a lane a cycle)
        self.b_base = _bases([w.biases * P for w in self.walks])
        self.m_base = _bases([g * P if f else 0 for g, f in zip(self.groups, self.fires)])
        self.weight_words = self.w_base[-1] + self.layer_words[-1]
        self.bias_words = sum(w.biases for w in self.walks) * P
        self.membrane_words = max(1, P * sum(g for g, f in zip(self.groups, self.fires) if f))
        self.acc_words = max(self.groups)
        # the replay memory: a recurrent layer's entries of a step, from its base
        self.r_base = _bases([g if r else 0 for g, r in zip(self.groups, self.recurrent)])
        self.replay_words = sum(g for g, r in zip(self.groups, self.recurrent) if r)
        # the sweep hands the readout a neuron at a time
        self.readout = LayerPlan.of(net, L - 1, 1)
        self._keys()
        self._starts()

    def _keys(self) -> None:
        """What a swept group tells the next layer. Its entry in the spike memory holds a
        key (and, a conv layer next, the walk-start row of its position,
        ``pos_first`` plus the position: :meth:`_starts`); lane ``k``'s input index
        there is ``key + k * stride``.
        For a dense layer next, the key is the flat index of the group's lane 0
        (``gc * lanes * positions + position``; ``stride = positions``); for a conv
        layer next, the weight offset of the group's first channel (``gc * lanes *
        taps``; ``stride = taps``). The sweep steps the key by ``key_pos`` within a
        channel group and by ``key_wrap`` to the next. ``stride_in[l]`` is the stride of
        layer ``l``'s input events."""
        P, L = self.lanes, len(self.walks)
        self.key_pos, self.key_wrap, self.stride_in = [], [], [1] * L
        for i, w in enumerate(self.walks):
            nxt = self.walks[i + 1] if i + 1 < L else None
            if nxt is not None and nxt.conv:
                pos, wrap, stride = 0, P * nxt.taps, nxt.taps
            else:
                pos, wrap, stride = 1, P * w.positions - (w.positions - 1), w.positions
            self.key_pos.append(pos if w.positions > 1 else 0)
            self.key_wrap.append(wrap)
            if nxt is not None:
                self.stride_in[i + 1] = stride
        # the last group's key (a channel group's steps, times the channel groups) and its
        # last lane's offset
        top = max(w.cgroups * (kw + (w.positions - 1) * kp) + P * s
                  for w, kw, kp, s in zip(self.walks, self.key_wrap, self.key_pos,
                                          [*self.stride_in[1:], 1]))
        self.key_bits = top.bit_length()

    def _starts(self) -> None:
        """Where a conv layer's walk starts (:meth:`ConvWindow.table`): one word per
        input index of layer 0, per input position of a later conv layer (its channel
        comes from the key); ``s_base`` each layer's first word."""
        self.start_fields = {"w0": 1, "a0": 1, "nx": 1, "visits": 1}
        rows = []
        self.s_base = []
        for i, w in enumerate(self.walks):
            self.s_base.append(len(rows))
            if not w.conv:
                continue
            tab = w.window.table()
            n = len(tab["w0"]) if i == 0 else w.window.in_shape[1] * w.window.in_shape[2]
            rows += [{f: int(tab[f][j]) for f in self.start_fields} for j in range(n)]
        for f in self.start_fields:
            self.start_fields[f] = max([1] + [r[f].bit_length() for r in rows])
        self.start_rows = rows
        # a swept group's position is kept as the row of the walk-start memory its
        # entry reads in the next layer (that layer's first row plus the position: no
        # add between the spike memory's read and the start memory's address); from 0
        # where the next layer is dense (its walk reads no start)
        L = len(self.walks)
        self.pos_first = [self.s_base[i + 1] if i + 1 < L and self.walks[i + 1].conv else 0
                          for i in range(L)]
        self.pos_bits = max(f + w.positions - 1
                            for f, w in zip(self.pos_first, self.walks)).bit_length()
        self._start_words = []
        for r in rows:
            word, at = 0, 0
            for f, bits in self.start_fields.items():
                word |= r[f] << at
                at += bits
            self._start_words.append(word)
        # the bits some word sets: only those are stored (synthesis drops a bit that is
        # 0 in every word, and the block count follows the stored width)
        live = 0
        for word in self._start_words:
            live |= word
        self.start_live = [b for b in range(sum(self.start_fields.values())) if live >> b & 1]

    @property
    def start_width(self) -> int:
        """Bits of the walk-start memory (its live bits)."""
        return max(len(self.start_live), 1)

    def start_init(self) -> list[int]:
        return [sum((w >> b & 1) << k for k, b in enumerate(self.start_live))
                for w in self._start_words]

    def state_specs(self) -> list[MemorySpec]:
        """The engine's memories of neuron state, biases and spikes, named within it: LUT
        RAM where the family keeps such state there and they are shallow enough
        (:func:`~snnhw.gateware.plan.distributed`), since their reads feed an adder or
        a select in the next cycle."""
        P = self.lanes
        specs = [("bias", "bias", self.bias_words, self.u_bits, "rom"),
                 ("acc", "accumulators", self.acc_words, P * self.acc_width, "ram"),
                 ("membrane", "membranes", self.membrane_words, self.u_bits, "ram"),
                 ("spikes", "spikes", self.entries, self.entry_width, "ram")]
        if self.replay_words:
            specs.append(("replay", "replay", self.replay_words, self.replay_width, "ram"))
        return [MemorySpec(name, role, depth, width, kind=kind, distributed=distributed(depth))
                for name, role, depth, width, kind in specs]

    def memories(self) -> list[MemorySpec]:
        """Every memory of the serial core, named from the core."""
        mems = [self.weight_spec().within("engine"),
                *(spec.within("engine") for spec in self.state_specs())]
        if self.has_conv:
            mems.append(MemorySpec("engine.starts", "walk starts", max(len(self.start_rows), 1),
                                   self.start_width, kind="rom"))
        mems += [m.within("engine") for m in self.readout.memories
                 if m.role == "logits"]
        return mems

    def weight_spec(self) -> MemorySpec:
        """The weight store (every layer's words, one memory)."""
        return MemorySpec("weights", "weights", max(self.weight_words, 1),
                          self.lanes * self.w_bits, kind=self.weights)

    @property
    def loaded(self) -> list[int]:
        """The layers the host loads (all, or none)."""
        return [] if self.weights == "rom" else list(range(len(self.net.layers)))

    def weight_depths(self) -> dict[int, int]:
        """Words of each loaded layer (the WEIGHTS frames' address range)."""
        return {k: self.layer_words[k] for k in self.loaded}

    @property
    def replay_width(self) -> int:
        """A replay-memory entry: the lanes' spikes and the key (a recurrent layer is
        dense: no position)."""
        return self.lanes * self.spike_bits + self.key_bits

    @property
    def entry_width(self) -> int:
        """A spike-memory entry: the lanes' spikes, the key, the position."""
        return self.lanes * self.spike_bits + self.key_bits + (self.pos_bits
                                                               if self.has_conv else 0)

    def weight_init(self) -> list[int]:
        words = []
        for base, ly in zip(self.w_base, self.net.layers):
            words += [0] * (base - len(words))      # the padding up to the layer's base
            words += layer_weight_words(ly, self.lanes, self.w_bits)
        return words

    def bias_init(self) -> list[int]:
        """A bias a word, ``lanes`` words per channel group (a conv channel's bias serves
        all its positions), padding lanes zero."""
        words = []
        for ly, w in zip(self.net.layers, self.walks):
            b = list(ly.b) + [0] * (w.biases * self.lanes - len(ly.b))
            words += pack_lanes([[v] for v in b], self.u_bits)
        return words


def _store_kind(net: Network, weights: dict | None) -> str:
    """The weight store's kind from ``{layer: "ram" | "spram"}`` (all layers or none)."""
    kinds = set((weights or {}).values())
    if not kinds:
        return "rom"
    if len(kinds) > 1 or set(weights) != set(range(len(net.layers))):
        raise DesignError("the serial core keeps every layer's weights in one memory: load "
                          f"all {len(net.layers)} layers the same way or none, got {weights}")
    kind = kinds.pop()
    if kind not in ("ram", "spram"):
        raise DesignError(f"loaded weights go to 'ram' or 'spram', got {kind!r}")
    return kind


def _check_loadable(plan: SerialPlan) -> None:
    """A loaded store takes the host's words unchanged: one ``w_bits``, words that fit
    the load port."""
    bits = sorted({ly.w_bits for ly in plan.net.layers})
    if len(bits) > 1:
        raise DesignError(f"weights loaded into the serial core need one w_bits for all "
                          f"layers, got {bits} (keep them in the bitstream)")
    width = plan.lanes * plan.w_bits
    if width > CoreLoadPort.DATA_WIDTH:
        raise DesignError(f"a loaded weight word is {plan.lanes} lanes x {plan.w_bits} bits "
                          f"= {width} bits; at most {CoreLoadPort.DATA_WIDTH} (use fewer lanes)")
    for k, depth in plan.weight_depths().items():
        if depth > 1 << CoreLoadPort.ADDR_WIDTH:
            raise DesignError(f"layer {k}: {depth} weight words; a loaded layer holds at "
                              f"most {1 << CoreLoadPort.ADDR_WIDTH} (use more lanes)")


def _bases(sizes: list[int], align: int = 1) -> list[int]:
    """Where each of ``sizes`` starts, one after another, each at a multiple of ``align``."""
    out, at = [], 0
    for s in sizes:
        at = -(-at // align) * align
        out.append(at)
        at += s
    return out


class SerialCore(CheckedComponent):
    """The serial core of ``net`` with ``lanes`` neurons a cycle (module docstring)."""

    @classmethod
    def check(cls, net: Network, *, lanes: int, weights: dict | None = None,
              **_) -> SerialPlan:
        check_lanes(lanes)
        for i, ly in enumerate(net.layers[1:], 1):
            if layer_kind(ly.kind).WINDOWED and not layer_kind(net.layers[i - 1].kind).WINDOWED:
                raise DesignError(f"layer {i} is a {ly.kind} layer after a "
                                  f"{net.layers[i - 1].kind} layer: the serial core takes "
                                  "windowed layers from the input or after windowed layers "
                                  "(use the pipeline core)")
        if not layer_kind(net.layers[-1].kind).READOUT:
            raise DesignError(f"the last layer is a {net.layers[-1].kind} layer: the "
                              "readout is a dense layer")
        plan = SerialPlan(net, lanes, _store_kind(net, weights))
        if plan.loaded:
            _check_loadable(plan)
        return plan

    def __init__(self, net: Network, *, lanes: int, weights: dict | None = None,
                 bank_words: int | None = None):
        self.plan = self._checked
        self.loaded = self.plan.loaded
        self.bank_words = bank_words
        self.net, self.lanes = net, lanes
        self.logit_bits = self.plan.readout.logit_bits
        ro = self.plan.readout
        ports = {
            "i": In(stream.Signature(event_layout(net.n_in, net.in_bits))),
            "o": Out(stream.Signature(result_layout(ro.logit_bits, net.n_out))),
            "clear": In(1),
        }
        if self.loaded:
            ports["load"] = In(CoreLoadPort())
        super().__init__(ports)

    def weight_depths(self) -> dict[int, int]:
        return self.plan.weight_depths()

    def load_width(self) -> int:
        """Bits of a loaded weight word the core reads from ``load.data``."""
        return self.plan.lanes * self.plan.w_bits

    def memories(self) -> list[MemorySpec]:
        return self.plan.memories()

    def elaborate(self, platform):
        inner = Module()
        s = self._state(inner)
        self._memories(inner, s, platform)
        inner.submodules.readout = s.readout = Readout(self.plan.readout)
        wiring.connect(inner, s.readout.o, wiring.flipped(self.o))
        self._input(inner, s)
        self._walk_pipeline(inner, s)
        self._neuron_pipeline(inner, s)
        # (one-hot in a board build: snnhw.gateware.encoding; reset by `clear`)
        with inner.FSM(init="CLEAR", name=ONE_HOT):
            self._clear_state(inner, s)
            self._accum_states(inner, s)
            self._sweep_states(inner, s)
        m = Module()
        m.submodules.engine = ResetInserter(self.clear)(inner)
        if self.loaded:
            # a WEIGHTS word of layer `layer` at `addr` goes to w_base[layer] + addr;
            # registered (outside the clear: a load follows the host's clear)
            load, wl = self.load, s.store.load
            bases = Array(Const(b, len(wl.addr)) for b in self.plan.w_base)
            m.d.sync += [wl.en.eq(load.en), wl.addr.eq(bases[load.layer] + load.addr)]
            # the loader's word holds for cycles after its write (WeightLoader): no copy
            m.d.comb += wl.data.eq(load.data)
        return m

    def _state(self, m) -> SimpleNamespace:
        """Counters and the tables of layer constants, indexed by the layer."""
        p, net = self.plan, self.plan.net
        L = len(net.layers)

        def table(values, shape):
            return Array(Const(v, shape) for v in values)

        s = SimpleNamespace()
        s.layer = Signal(range(max(L, 2)))
        s.step = Signal(range(max(net.timesteps, 2)))
        s.last_layer = s.layer == L - 1
        s.last_step = s.step == net.timesteps - 1
        s.group = Signal(range(max(p.groups) + 1))
        s.addr = Signal(range(max(p.membrane_words, p.acc_words) + 1))   # CLEAR's counter
        wmax = max(p.weight_words, 2)
        aw = max(p.acc_words - 1, 1).bit_length()
        s.t_groups = table(p.groups, range(max(p.groups) + 1))
        s.t_g_last = table([g - 1 for g in p.groups], range(max(p.groups) + 1))
        s.t_w_base = table(p.w_base, range(wmax + 1))
        s.t_b_base = table(p.b_base, range(p.bias_words + 1))
        s.t_m_base = table(p.m_base, range(p.membrane_words + 1))
        # the sweep's bias and membrane read addresses and its membrane write address:
        # counters from the layer's base, stepped a lane at a time (_neuron_pipeline);
        # a conv layer's bias is its channel group's, b_addr, for every position
        s.b_ptr = Signal(range(p.bias_words + 1))
        s.m_ptr = Signal(range(p.membrane_words + 1))
        s.m_wptr = Signal.like(s.m_ptr)
        if p.has_conv:
            s.b_addr = Signal.like(s.b_ptr)
        # the neuron's constants
        s.t_k = table([ly.k for ly in net.layers], range(p.u_bits))
        s.t_off = table([ly.fire_offset for ly in net.layers], unsigned(p.u_bits))
        # a spike is at most the largest s_max: no wider (x >> k below is cut to it),
        # but as wide as a spike word's lane
        s.smax_bits = max([p.spike_bits] + [ly.s_max.bit_length() for ly in net.layers])
        s.t_smax = table([ly.s_max for ly in net.layers], unsigned(s.smax_bits))
        # (s_max + 1) << k: the least v + fire_offset that fires s_max; s_max << k; the
        # k low bits (the fire and reset need no second shifter, docs/arithmetic.md:
        # s << k is v + fire_offset with its k low bits cleared, or s_max << k)
        # (both capped at 2 ** (u_bits + 1), above every v + fire_offset: a cap never fires)
        top = 1 << (p.u_bits + 1)
        wide = unsigned(p.u_bits + 2)
        # the least v that fires s_max: the least v + fire_offset that does, minus
        # fire_offset (v is compared with it beside the add of fire_offset, not after)
        s.t_lim_v = table([min((ly.s_max + 1) << ly.k, top) - ly.fire_offset
                           for ly in net.layers], signed(p.u_bits + 3))
        s.t_smaxk = table([min(ly.s_max << ly.k, top) for ly in net.layers], wide)
        s.t_low = table([(1 << ly.k) - 1 for ly in net.layers], unsigned(p.u_bits))
        s.t_leak = table([ly.leak_shift or 0 for ly in net.layers], range(p.u_bits + 1))
        s.t_soft = table([ly.reset == "soft" for ly in net.layers], unsigned(1))
        s.t_lo = table([signed_range(ly.u_bits)[0] for ly in net.layers], signed(p.u_bits))
        s.t_hi = table([signed_range(ly.u_bits)[1] for ly in net.layers], signed(p.u_bits))
        s.t_fires = table(p.fires, unsigned(1))
        # the walk's constant adds and the sweep's key steps
        s.t_w_group = table([w.w_group for w in p.walks], range(wmax + 1))
        keys = ["k", "off", "smax", "leak", "soft", "lo", "hi", "fires", "lim_v", "smaxk", "low",
                "w_group", "w_base", "b_base", "m_base", "groups", "g_last"]
        if p.has_conv:
            s.t_windowed = table(p.conv, unsigned(1))
            # the walk's counters count down to 0 (a compare with zero, no carry): the
            # last channel group's index
            s.t_cg_last = table([w.cgroups - 1 for w in p.walks], range(max(p.groups) + 1))
            s.t_a_group = table([w.a_group for w in p.walks], unsigned(aw))
            s.t_w_col = table([w.w_col for w in p.walks], range(wmax + 1))
            s.t_w_row = table([w.w_row for w in p.walks], range(wmax + 1))
            # -OW, as an address-wide two's complement (the sum is cut to the address)
            s.t_a_row = table([w.a_row % (1 << aw) for w in p.walks], unsigned(aw))
            s.t_pos_first = table(p.pos_first, unsigned(max(p.pos_bits, 1)))
            s.t_pos_last = table([f + w.positions - 1 for f, w in zip(p.pos_first, p.walks)],
                                 unsigned(max(p.pos_bits, 1)))
            s.t_key_pos = table(p.key_pos, unsigned(1))
            s.t_key_wrap = table(p.key_wrap, unsigned(p.key_bits))
            keys += ["windowed", "cg_last", "a_group", "w_col", "w_row", "a_row", "pos_first",
                     "pos_last", "key_pos", "key_wrap"]
            for lane in range(p.lanes):
                setattr(s, f"t_lane_off{lane}",
                        table([lane * st for st in p.stride_in], unsigned(p.key_bits)))
                keys.append(f"lane_off{lane}")
        if p.replay_words:     # a recurrent layer's replay: its rows after the input's
            s.t_replays = table(p.recurrent, unsigned(1))
            s.t_rec_row = table([ly.n_in for ly in net.layers], range(wmax + 1))
            s.t_r_base = table(p.r_base, range(p.replay_words + 1))
            keys += ["replays", "rec_row", "r_base"]
        # the layer's constants, registered (the layer changes in LAYER_DONE, cycles
        # before they are used), so that no table lookup sits in front of the lanes
        s.c = SimpleNamespace()
        for key in keys:
            table_ = getattr(s, f"t_{key}")
            # no reset (layer 0's value from the start): a constant of every layer is a
            # constant, not a flip-flop
            reg = Signal.like(table_[0], name=f"layer_{key}", init=table_[0].value,
                              reset_less=True)
            m.d.sync += reg.eq(table_[s.layer])
            setattr(s.c, key, reg)
        # the event being walked: its value, the weight and accumulator addresses of its
        # next group, the groups left
        s.ev_value = Signal(p.value_bits)
        s.waddr = Signal(range(wmax + 1))
        s.aaddr = Signal(aw)
        s.left = Signal(range(max(w.max_visits for w in p.walks) + 1))
        if p.has_conv:      # a window walk: channel groups and columns left (in the row,
            # and of a row); each row's and column's start
            s.g_left = Signal.like(s.group)
            s.c_left = Signal(range(max(w.window.kernel[1] if w.conv else 1
                                        for w in p.walks) + 1))
            s.c_last = Signal.like(s.c_left)
            s.w_colp, s.w_rowp = Signal.like(s.waddr), Signal.like(s.waddr)
            s.a_colp, s.a_rowp = Signal.like(s.aaddr), Signal.like(s.aaddr)
        s.entries = Signal(range(p.entries + 1))      # written by the last sweep
        s.entry = Signal(range(p.entries + 1))        # read by this accumulate phase
        s.mask = Signal(p.lanes)                      # lanes of the entry still to walk
        s.pick = Signal(p.lanes)                      # its lowest, one-hot (from the mask)
        s.key = Signal(p.key_bits)                    # the swept group's key (_keys)
        row_range = range(wmax + (1 << p.key_bits) + 1)
        if p.has_conv:      # each lane's first weight row (key + w_base + lane offset)
            s.e_bases = [Signal(row_range, name=f"e_base{k}") for k in range(p.lanes)]
        else:               # the entry's key + w_base (lane k's row is e_key + k)
            s.e_key = Signal(row_range)
        s.e_spikes = Signal(p.lanes * p.spike_bits)
        if p.has_conv:
            s.pos = Signal(max(p.pos_bits, 1))        # the swept group's start row
        # replaying a recurrent layer's entries of the step before (from the replay
        # memory), the entry read, and per recurrent layer the entries its sweep wrote
        s.replaying = Signal()
        s.r_entry = Signal(range(max(p.groups) + 1))
        s.r_counts = {i: Signal(range(g + 1), name=f"replay_count{i}")
                      for i, (g, r) in enumerate(zip(p.groups, p.recurrent)) if r}
        return s

    def _memories(self, m, s, platform) -> None:
        p = self.plan

        def mem(name, width, depth, init=()):
            m.submodules[name] = mm = memory.Memory(shape=unsigned(width), depth=max(depth, 1),
                                                    init=list(init))
            return mm

        # the weights: a WeightStore (banks of block RAM, each bank's output registered,
        # the bank select after the registers; one memory on the iCE40), read `latency`
        # cycles ahead
        spec = p.weight_spec()
        m.submodules.weights = s.store = WeightStore(
            MemorySpec("mem", "weights", spec.depth, spec.width, kind=spec.kind),
            init=p.weight_init() if spec.kind == "rom" else None, bank_words=self.bank_words)
        # the state memories (state_memory: LUT RAM banks on ECP5 when shallow; each
        # word read a cycle after its write at the earliest, collision_free_read)
        specs = {spec.name: spec for spec in p.state_specs()}
        s.b_rd, _ = state_memory(m, specs["bias"], platform, "bias", init=p.bias_init())
        s.a_rd, s.a_wr = state_memory(m, specs["acc"], platform, "acc")
        s.m_rd, s.m_wr = state_memory(m, specs["membrane"], platform, "membrane")
        s.e_rd, s.e_wr = state_memory(m, specs["spikes"], platform, "spikes")
        if p.replay_words:
            s.r_rd, s.r_wr = state_memory(m, specs["replay"], platform, "replay")
        if p.has_conv:
            # read where INPUT or LANES_LOAD address it, held while they walk
            sm = mem("starts", p.start_width, len(p.start_rows), p.start_init())
            s.s_rd = sm.read_port()
            m.d.comb += s.s_rd.en.eq(0)
            stored = {b: s.s_rd.data[k] for k, b in enumerate(p.start_live)}
            data = Cat(*[stored.get(b, Const(0, 1))
                         for b in range(sum(p.start_fields.values()))])
            at = 0
            s.start = SimpleNamespace()
            for f, bits in p.start_fields.items():
                setattr(s.start, f, data[at:at + bits])
                at += bits

    def _clear_state(self, m, s) -> None:
        """CLEAR: every accumulator and membrane zeroed, one word a cycle."""
        p = self.plan
        top = max(p.acc_words, p.membrane_words) - 1
        with m.State("CLEAR"):
            # (through the write ports' registers: each word written a cycle later, the
            # last in INPUT's first cycle, long before a walk's first write)
            a_live, m_live = below(s.addr, p.acc_words), below(s.addr, p.membrane_words)
            m.d.sync += [s.a_zero.eq(a_live), s.a_zero_addr.eq(Mux(a_live, s.addr, 0)),
                         s.mw.en.eq(m_live), s.mw.addr.eq(s.addr), s.mw.data.eq(0)]
            m.d.sync += s.addr.eq(s.addr + 1)
            with m.If(s.addr == top):
                m.d.sync += [s.addr.eq(0), s.layer.eq(0), s.step.eq(0)]
                m.next = "INPUT"

    def _start_event(self, m, s, value, waddr, aaddr, visits, nx=None) -> None:
        """The walk's first group: weight and accumulator addresses, groups to visit."""
        m.d.sync += [s.ev_value.eq(value), s.waddr.eq(waddr), s.aaddr.eq(aaddr),
                     s.left.eq(visits)]
        if self.plan.has_conv:
            m.d.sync += [s.g_left.eq(s.c.cg_last), s.c_left.eq(nx - 1), s.c_last.eq(nx - 1),
                         s.w_colp.eq(waddr),
                         s.w_rowp.eq(waddr), s.a_colp.eq(aaddr), s.a_rowp.eq(aaddr)]

    def _input(self, m, s) -> None:
        """The input is taken in INPUT (``ready`` is that state), straight from the source's
        registers (no copy: the source holds its beat until it is taken). An input event
        costs INPUT and at least one more cycle, so a beat every other cycle keeps up."""
        s.in_valid, s.in_event = self.i.valid, self.i.payload

    def _accum_states(self, m, s) -> None:
        """INPUT (layer 0's events from ``i``; START where layer 0 is a conv layer),
        ENTRY / LANES (a later layer's events from the spike memory), WALK (an event
        walks its groups), DRAIN."""
        p = self.plan
        in_valid, ev = s.in_valid, s.in_event
        with m.State("INPUT"):
            m.d.comb += self.i.ready.eq(1)
            if p.conv[0]:       # where the event's window starts: read in every INPUT
                # cycle (the enable a decode of the state alone, not of the input's
                # valid), used in START after the event's
                m.d.comb += [s.s_rd.en.eq(1), s.s_rd.addr.eq(ev.index)]
            with m.If(in_valid):
                with m.If(ev.eos):
                    self._events_done(m, s)
                with m.Elif(ev.value != 0):
                    if p.conv[0]:
                        m.d.sync += s.ev_value.eq(ev.value)
                        m.next = "START"
                    else:
                        self._start_event(m, s, ev.value, p.w_base[0] + ev.index, 0,
                                          p.groups[0], 1)
                        m.next = "WALK"
        if p.conv[0]:
            with m.State("START"):
                st = s.start
                with m.If(st.visits == 0):          # only padding sees it
                    m.next = "INPUT"
                with m.Else():
                    self._start_event(m, s, s.ev_value, p.w_base[0] + st.w0, st.a0,
                                      st.visits, st.nx)
                    m.next = "WALK"
        self._entry_states(m, s)
        self._walk_states(m, s)

    def _events_done(self, m, s) -> None:
        """The layer's input events are walked: a recurrent layer (after the first step)
        replays its own spikes of the step before, then the sweep."""
        if not self.plan.replay_words:
            m.next = "DRAIN"
            return
        # (the table, not the registered constant: INPUT or ENTRY may end in the first
        # cycle of a layer, before its constants are registered)
        with m.If(s.t_replays[s.layer] & (s.step != 0)):
            m.d.sync += [s.replaying.eq(1), s.r_entry.eq(0)]
            m.next = "REPLAY_ENTRY"
        with m.Else():
            m.next = "DRAIN"

    def _replay_count(self, s):
        """The current layer's replay entries (0 for a layer without recurrence)."""
        p = self.plan
        width = max(len(c) for c in s.r_counts.values())
        return Array(s.r_counts.get(i, Const(0, width)) for i in range(len(p.groups)))[s.layer]

    def _entry_states(self, m, s) -> None:
        """ENTRY reads entry ``entry`` of the spike memory; LANES_LOAD takes it (and
        reads where a conv layer's window starts at its position); LANES walks its
        non-zero lanes, lowest first."""
        p = self.plan
        sb = p.lanes * p.spike_bits
        # the spike memory's read address is the entry counter, a register (read in
        # ENTRY, its word taken in LANES_LOAD)
        m.d.comb += s.e_rd.addr.eq(s.entry)
        with m.State("ENTRY"):
            with m.If(s.entry == s.entries):
                self._events_done(m, s)
            with m.Else():
                m.d.sync += s.entry.eq(s.entry + 1)
                m.next = "LANES_LOAD"
        if p.replay_words:
            with m.State("REPLAY_ENTRY"):   # entry `r_entry` of the layer's replay memory
                m.d.comb += s.r_rd.addr.eq(s.c.r_base + s.r_entry)
                with m.If(s.r_entry == self._replay_count(s)):
                    m.d.sync += s.replaying.eq(0)
                    m.next = "DRAIN"
                with m.Else():
                    m.d.sync += s.r_entry.eq(s.r_entry + 1)
                    m.next = "LANES_LOAD"
        with m.State("LANES_LOAD"):
            word = s.e_rd.data
            row = s.c.w_base
            if p.replay_words:      # a replayed spike of neuron i is row n_in + i
                word = Mux(s.replaying, s.r_rd.data, word)
                row = s.c.w_base + Mux(s.replaying, s.c.rec_row, 0)
            spikes = word[:sb]
            key = word[sb:sb + p.key_bits]
            mask = Cat(*[spikes.word_select(k, p.spike_bits) != 0 for k in range(p.lanes)])
            m.d.sync += [s.e_spikes.eq(spikes), s.mask.eq(mask),
                         s.pick.eq(_lowest_one_hot(mask))]
            if not p.has_conv:
                m.d.sync += s.e_key.eq(key + row)
            else:
                pos = word[sb + p.key_bits:]
                m.d.comb += [s.s_rd.en.eq(1), s.s_rd.addr.eq(pos)]
                # each lane's first weight row: the key plus (registers only) the row
                # and the lane's offset, so that LANES adds only where the window starts
                for k, e_base in enumerate(s.e_bases):
                    off = getattr(s.c, f"lane_off{k}")
                    if p.replay_words:  # a replayed entry's lanes are its own neurons
                        off = Mux(s.replaying, k, off)
                    m.d.sync += e_base.eq(key + (row + off))
            m.next = "LANES"
        with m.State("LANES"):
            # the walk's registers are loaded for the picked lane in every LANES cycle,
            # whether or not it walks (WALK comes only from here, INPUT and START, each
            # of which loads them), so that neither the mask nor the window's start is
            # in front of their enables; the lane to walk was picked as the mask was
            # set (a register, one-hot): no priority logic in front of their data
            value = _one_hot_select(s.pick, [s.e_spikes.word_select(k, p.spike_bits)
                                             for k in range(p.lanes)])
            if not p.has_conv:      # lane k's index is key + k
                lane = _one_hot_select(s.pick, [Const(k, range(max(p.lanes, 2)))
                                                for k in range(p.lanes)])
                # (aligned: the row's low bits are zero, lane k's row is row | k)
                first = (s.e_key | lane) if p.aligned else s.e_key + lane
                self._start_event(m, s, value, first, 0, s.c.groups, 1)
                walks = Const(1)
            else:
                walks = self._conv_lane(m, s, value)
            with m.If(s.mask == 0):
                if p.replay_words:
                    with m.If(s.replaying):
                        m.next = "REPLAY_ENTRY"
                    with m.Else():
                        m.next = "ENTRY"
                else:
                    m.next = "ENTRY"
            with m.Else():
                rest = s.mask & ~s.pick
                m.d.sync += [s.mask.eq(rest), s.pick.eq(_lowest_one_hot(rest))]
                with m.If(walks):
                    m.next = "WALK"

    def _conv_lane(self, m, s, value):
        """LANES in a design with conv layers: the lane's walk loaded (its first weight
        row the entry's key plus the lane's offset, added when the entry was loaded; a
        conv layer adds where its window starts); returns whether it walks (not an
        input no window reaches)."""
        c, st = s.c, s.start
        base = _one_hot_select(s.pick, s.e_bases)
        self._start_event(m, s, value, Mux(c.windowed, base + st.w0, base),
                          Mux(c.windowed, st.a0, 0), Mux(c.windowed, st.visits, c.groups),
                          Mux(c.windowed, st.nx, 1))
        return ~c.windowed | (st.visits != 0)

    def _walk_states(self, m, s) -> None:
        """WALK issues one group of the event a cycle (its weights read); a pipeline with
        valid bits takes it on: the weights into a register, then the lanes' products
        ``W * s`` (shifted adds, a balanced tree) into registers while the accumulators
        are read, then added and written. Two updates of one group are issued at least
        two cycles apart (an event's walk, then a cycle to fetch the next event), so a
        read never misses a write. DRAIN waits for the pipeline before the sweep."""
        g1, val1 = s.walk
        # the weight store reads at waddr in every cycle (only WALK's reads are taken
        # on): a register straight to the block RAMs' address, no state decode
        m.d.comb += s.store.rd_addr.eq(s.waddr)
        with m.State("WALK"):
            m.d.comb += s.issue.eq(1)
            m.d.sync += [s.left.eq(s.left - 1), g1.eq(s.aaddr), val1.eq(s.ev_value)]
            if self.plan.has_conv:
                self._window_step(m, s)
            else:
                m.d.sync += [s.waddr.eq(s.waddr + s.c.w_group), s.aaddr.eq(s.aaddr + 1)]
            with m.If(s.left == 1):
                with m.If((s.layer == 0) & ~s.replaying):
                    m.next = "INPUT"
                with m.Else():
                    m.next = "LANES"
        with m.State("DRAIN"):            # the last updates written, then the sweep
            with m.If(~s.walk_busy):
                m.d.sync += [s.group.eq(0), s.entries.eq(0), s.key.eq(0),
                             s.b_ptr.eq(s.c.b_base), s.m_ptr.eq(s.c.m_base),
                             s.m_wptr.eq(s.c.m_base)]
                if self.plan.has_conv:
                    m.d.sync += s.b_addr.eq(s.c.b_base)
                for i, count in s.r_counts.items():    # its sweep writes them anew
                    with m.If(s.layer == i):
                        m.d.sync += count.eq(0)
                if self.plan.has_conv:
                    m.d.sync += s.pos.eq(s.c.pos_first)
                m.next = "SWEEP_READ"

    def _window_step(self, m, s) -> None:
        """The next group of a window walk (:meth:`ConvWindow.visits`): the next channel
        group; else the next column to the left; else the row above from its first
        column. A dense layer's walk is all channel groups."""
        c = s.c
        with m.If(s.g_left != 0):
            m.d.sync += [s.g_left.eq(s.g_left - 1), s.waddr.eq(s.waddr + c.w_group),
                         s.aaddr.eq(s.aaddr + c.a_group)]
        with m.Elif(s.c_left != 0):
            w, a = s.w_colp + c.w_col, s.a_colp - 1
            m.d.sync += [s.g_left.eq(c.cg_last), s.c_left.eq(s.c_left - 1), s.w_colp.eq(w),
                         s.a_colp.eq(a), s.waddr.eq(w), s.aaddr.eq(a)]
        with m.Else():
            w, a = s.w_rowp + c.w_row, s.a_rowp + c.a_row
            m.d.sync += [s.g_left.eq(c.cg_last), s.c_left.eq(s.c_last), s.w_rowp.eq(w),
                         s.a_rowp.eq(a),
                         s.w_colp.eq(w), s.a_colp.eq(a), s.waddr.eq(w), s.aaddr.eq(a)]

    def _walk_pipeline(self, m, s) -> None:
        """The walk's pipeline after WALK (outside the state machine)."""
        p = self.plan
        P = p.lanes
        gw = len(s.aaddr)
        # the issue's valid, accumulator address and value wait the weight store's
        # latency (stages d_1 .. d_L); the word then lands in `wreg`
        stages = [(Signal(name=f"d{k}_valid"), Signal(gw, name=f"d{k}_group"),
                   Signal.like(s.ev_value, name=f"d{k}_value"))
                  for k in range(1, s.store.latency + 1)]
        v1, g1, val1 = stages[0]
        s.issue = Signal(name="walk_issue")         # WALK issues a group
        m.d.sync += v1.eq(s.issue)
        for (va, ga, xa), (vb, gb, xb) in itertools.pairwise(stages):
            m.d.sync += [vb.eq(va), gb.eq(ga), xb.eq(xa)]
        vl, gl, vall = stages[-1]
        v2, v3 = Signal(name="p2_valid"), Signal(name="p3_valid")
        g2, g3 = Signal(gw, name="p2_group"), Signal(gw, name="p3_group")
        val2 = Signal.like(s.ev_value, name="p2_value")
        wreg = Signal(P * p.w_bits, name="wreg")
        prods = [Signal(signed(p.acc_width), name=f"prod{lane}") for lane in range(P)]
        # (the group zero when not valid: the accumulator's read address is the OR of
        # the read stage's group and the sweep's, each zero while the other reads)
        m.d.sync += [v2.eq(vl), g2.eq(Mux(vl, gl, 0)), val2.eq(vall),
                     wreg.eq(s.store.rd_data)]
        valids = [v for v, _, _ in stages] + [v2]
        terms = [_product_terms(wreg.word_select(lane, p.w_bits), p.w_bits, val2, p.value_bits)
                 for lane in range(P)]
        if len(terms[0]) > 2:
            # more than one level of adds: one level of the tree (the terms summed in
            # pairs, beside their selects), registered at full width, then the rest (a
            # stage more; at most four partial sums, two levels, for five to eight terms)
            vh, gh = Signal(name="ph_valid"), Signal(gw, name="ph_group")
            m.d.sync += [vh.eq(v2), gh.eq(g2)]
            halves = []
            for lane, lane_terms in enumerate(terms):
                parts = _tree(lane_terms, down_to=math.ceil(len(lane_terms) / 2))
                regs = [Signal(part.shape(), name=f"half{lane}_{k}", reset_less=True)
                        for k, part in enumerate(parts)]
                m.d.sync += [r.eq(part) for r, part in zip(regs, parts)]
                halves.append(regs)
            terms, v2, g2 = halves, vh, gh
            valids.append(vh)
        if not p.has_conv:
            # every event of a dense layer walks all its groups, 0 .. G - 1, one a cycle
            # without a gap: the read stage's group is a count of its beats modulo G (0
            # between events), not the issued group carried down the pipeline
            g2 = self._beat_count(m, s, v2, gw)
        m.d.sync += [v3.eq(v2), g3.eq(g2)]
        for lane in range(P):
            m.d.sync += prods[lane].eq(_tree(terms[lane]))
        s.a_read_group = g2
        # the accumulators' write port from registers through an OR: the walk's write
        # stage (its group zero while it is empty) and a zeroing (a register, set the
        # cycle before: SWEEP_WRITE's of the swept group, CLEAR's), never both
        s.a_zero, s.a_zero_addr = Signal(name="acc_zero"), Signal(gw, name="acc_zero_addr")
        m.d.sync += [s.a_zero.eq(0), s.a_zero_addr.eq(0)]
        sums = [(s.a_rd.data.word_select(lane, p.acc_width).as_signed() + prods[lane])
                [:p.acc_width] for lane in range(P)]
        m.d.comb += [s.a_wr.en.eq(v3 | s.a_zero), s.a_wr.addr.eq(g3 | s.a_zero_addr),
                     s.a_wr.data.eq(Mux(v3, Cat(*sums), 0))]
        # whether a group is in the pipeline: a register, set from the valid bits the
        # pipeline will hold (each shifts one down; the first is the issue), so that
        # DRAIN waits on a flip-flop, not on an OR of them all (`valids` are the stages
        # before v3, whose next values are theirs)
        s.walk_busy = Signal(name="walk_busy")
        m.d.sync += s.walk_busy.eq(Cat(*valids, s.issue).any())
        s.walk = (g1, val1)

    @staticmethod
    def _beat_count(m, s, valid, width):
        """Beats of ``valid`` counted modulo the layer's groups."""
        count = Signal(width, name="read_group")
        with m.If(valid):
            m.d.sync += count.eq(Mux(count == s.c.g_last, 0, count + 1))
        return count

    def _sweep_states(self, m, s) -> None:
        """The sweep, a group at a time and within it a neuron a cycle through one
        neuron pipeline: SWEEP_READ reads the group's accumulators (held while its
        lanes go through) and lane 0's bias and membrane; SWEEP_LANE puts lane ``k``
        into the pipeline and reads lane ``k + 1``'s (the charge and leak, ``v``, then
        ``s`` and ``s << k``, then the reset, written to the lane's membrane, the spike
        shifted into the group's spike word, and a last layer's neuron to the
        readout); four cycles drain it; SWEEP_WRITE zeroes the accumulators and
        writes the spike entry when a lane fired. Then the next layer, or the next step (after
        the sample's last, the readout emits and the core waits for it)."""
        p = self.plan
        P = p.lanes
        sweeping, lane, start, words = s.sweeping, s.lane, s.start_lane, s.words
        with m.State("SWEEP_READ"):      # lane 0's bias (and membrane) read
            m.d.comb += sweeping.eq(1)
            m.d.sync += [lane.eq(0), s.b_ptr.eq(s.b_ptr + 1)]
            if s.leaks:         # (else the membrane is read as its lane enters)
                m.d.sync += s.m_ptr.eq(s.m_ptr + 1)
            m.next = "SWEEP_LANE"
        with m.State("SWEEP_LANE"):      # lane `lane` in, the next lane's words read
            m.d.comb += [sweeping.eq(1), start.eq(1)]
            m.d.sync += lane.eq(lane + 1)
            if not s.leaks:     # the lane entering's membrane: P steps a group
                m.d.sync += s.m_ptr.eq(s.m_ptr + 1)
            with m.If(lane == P - 1):
                m.next = "SWEEP_FLUSH1"
            with m.Else():      # the next lane's words: P steps a group with SWEEP_READ's
                m.d.sync += s.b_ptr.eq(s.b_ptr + 1)
                if s.leaks:
                    m.d.sync += s.m_ptr.eq(s.m_ptr + 1)
        for n in (1, 2, 3, 4):            # the last lane's u_l + I, v, spike, reset
            with m.State(f"SWEEP_FLUSH{n}"):
                m.d.comb += sweeping.eq(1)
                m.next = f"SWEEP_FLUSH{n + 1}" if n < 4 else "SWEEP_WRITE"
                if n == 4:      # the group's accumulators zeroed in SWEEP_WRITE
                    m.d.sync += [s.a_zero.eq(1), s.a_zero_addr.eq(s.group)]
        # whether the swept group is the layer's last, a flip-flop (the group and the
        # layer's constants hold for the sweep's lanes and flush before SWEEP_WRITE)
        group_last = Signal()
        m.d.sync += group_last.eq(s.group == s.c.g_last)
        with m.State("SWEEP_WRITE"):
            with m.If(~s.last_layer & words.fired):
                entry = [words.spikes, s.key]
                if p.has_conv:
                    entry.append(s.pos)
                m.d.comb += [s.e_wr.en.eq(1), s.e_wr.addr.eq(s.entries),
                             s.e_wr.data.eq(Cat(*entry))]
                m.d.sync += s.entries.eq(s.entries + 1)
            if p.replay_words:      # kept for the next step (the sample's last: no next)
                self._keep_for_replay(m, s, words)
            m.d.sync += [s.group.eq(s.group + 1), words.fired.eq(0)]
            self._sweep_key(m, s)
            with m.If(group_last):
                m.next = "LAYER_DONE"
            with m.Else():
                m.next = "SWEEP_READ"
        self._layer_done_states(m, s)

    def _keep_for_replay(self, m, s, words) -> None:
        """SWEEP_WRITE of a recurrent layer: a group with a spike also goes to the layer's
        replay memory (its spikes and key), but in the sample's last step."""
        with m.If(s.c.replays & words.fired & ~s.last_step):
            count = self._replay_count(s)
            m.d.comb += [s.r_wr.en.eq(1), s.r_wr.addr.eq(s.c.r_base + count),
                         s.r_wr.data.eq(Cat(words.spikes, s.key))]
            for i, c in s.r_counts.items():
                with m.If(s.layer == i):
                    m.d.sync += c.eq(c + 1)

    def _neuron_pipeline(self, m, s) -> None:
        """One neuron a cycle (outside the state machine): lane ``s.lane`` of the held
        accumulator word, with the bias read the cycle before (at ``s.b_ptr``) and the
        membrane then too or, no layer leaking, as the lane enters (at ``s.m_ptr``), when
        ``s.start_lane``; ``v``, then the spike, then the reset
        (written to the membrane), the group's spike word and whether a lane fired
        (``s.words``, registers). While ``s.sweeping`` the group's accumulator word
        stays addressed (nothing writes it until SWEEP_WRITE)."""
        p = self.plan
        P = p.lanes
        s.sweeping, s.start_lane = Signal(), Signal()
        s.lane = lane = Signal(range(max(P, 2)))
        start = s.start_lane
        # the bias and membrane are read at counters (set at the layer's start, and a
        # conv layer's bias at each position's, stepped as the lanes are read:
        # SWEEP_READ reads lane 0, SWEEP_LANE the lane after the one entering),
        # registers straight to the memories' address; the membrane is written at a
        # counter stepped by every lane that leaves the pipeline
        # with no layer leaking, the membrane is read a cycle later (the lane entering,
        # not the next), so it arrives with the registered charge and is added to it
        # straight from the memory: no register holds it in between
        s.leaks = leaks = any(ly.leak_shift for ly in p.net.layers)
        m.d.comb += [s.b_rd.addr.eq(s.b_ptr), s.m_rd.addr.eq(s.m_ptr)]
        # the accumulator's read address from registers through one OR: the walk's read
        # stage (zero while it is empty) and the swept group (zero outside the sweep)
        m.d.comb += s.a_rd.addr.eq(s.a_read_group | s.group)

        def pick(word, width):
            return Array(word.word_select(k, width) for k in range(P))[lane]

        acc = pick(s.a_rd.data, p.acc_width).as_signed()
        b = s.b_rd.data.as_signed()             # read for this lane the cycle before
        u = s.m_rd.data.as_signed()
        # stage 1: the lane's charge I = acc + b and its leaked membrane u_l
        v1, n1 = Signal(name="sweep_v1_valid"), Signal(range(max(P, 2)), name="lane1")
        cur1 = Signal(signed(p.current_width), name="cur")
        m.d.sync += [v1.eq(start), n1.eq(lane), cur1.eq(acc + b)]
        if leaks:
            ul = Signal(signed(p.u_bits), name="u_leaked")
            leak = s.c.leak
            m.d.sync += ul.eq(Mux(leak == 0, u, u - (u >> leak)))
        else:
            ul = u
        # stage 2: u_l + I (at full width), then stage 2b: v = sat(u_l + I) (an add and
        # the saturation's compares are a stage each)
        va, na = Signal(name="sweep_va_valid"), Signal.like(n1, name="lane_a")
        x = Signal((ul + cur1).shape(), name="u_plus_i")
        m.d.sync += [va.eq(v1), na.eq(n1), x.eq(ul + cur1)]
        vb, nb = Signal(name="sweep_vb_valid"), Signal.like(n1, name="lane_b")
        v_r = Signal(signed(p.u_bits), name="v")
        if len({ly.u_bits for ly in p.net.layers}) == 1:
            # every layer's range is u_bits': the range checks test the bits above it,
            # not two compares (carry chains) with the layer's ends
            sat = saturate(x, p.u_bits)
        else:
            sat = Mux(x > s.c.hi, s.c.hi, Mux(x < s.c.lo, s.c.lo, x))
        m.d.sync += [vb.eq(va), nb.eq(na), v_r.eq(sat)]
        # stage 3: the spike and s << k
        v2, n2 = Signal(name="sweep_v2_valid"), Signal.like(n1, name="lane2")
        v_2 = Signal.like(v_r, name="v2")
        s_r = Signal(s.smax_bits, name="spike")
        fired_r = Signal(signed(p.u_bits + 2), name="fired")
        spike, fired = self._fire(m, s, v_r)
        m.d.sync += [v2.eq(vb), n2.eq(nb), v_2.eq(v_r), s_r.eq(spike),
                     fired_r.eq(fired)]
        # stage 4: the reset (the last step leaves zero); shifted into the group's words
        out = SimpleNamespace(spikes=Signal(P * p.spike_bits, name="new_spikes"),
                              fired=Signal(name="group_fired"))
        new_u = Mux(s.last_step, 0, Mux(s.c.soft, v_2 - fired_r,
                                         Mux(s_r != 0, 0, v_2)))[:p.u_bits]
        # the lane's membrane written back a cycle later, from registers (the reset's
        # subtract ends in a flip-flop, not at the memory; nothing reads the word again
        # this step)
        # (CLEAR writes zeroes through the same registers)
        s.mw = mw = SimpleNamespace(
            en=Signal(name="m_write"),
            addr=Signal.like(s.m_wr.addr, name="m_write_addr", reset_less=True),
            data=Signal.like(s.m_wr.data, name="m_write_data", reset_less=True))
        m.d.sync += [mw.en.eq(v2 & s.c.fires), mw.addr.eq(s.m_wptr), mw.data.eq(new_u)]
        m.d.comb += [s.m_wr.en.eq(mw.en), s.m_wr.addr.eq(mw.addr), s.m_wr.data.eq(mw.data)]
        with m.If(v2):
            m.d.sync += s.m_wptr.eq(s.m_wptr + 1)
            m.d.sync += out.spikes.eq(Cat(out.spikes[p.spike_bits:], s_r[:p.spike_bits]))
            with m.If(s_r != 0):
                m.d.sync += out.fired.eq(1)
        # (a membrane readout takes the charge where it is registered, stage 1)
        self._readout_beat(m, s, *((v2, n2, s_r) if p.readout.fires else (v1, n1, cur1)))
        s.words = out

    def _sweep_key(self, m, s) -> None:
        """The next group's key (:meth:`SerialPlan._keys`), position and channel group."""
        p, c = self.plan, s.c
        if not p.has_conv:      # every layer dense: the next group's first neuron
            m.d.sync += s.key.eq(s.key + p.lanes)
            return
        # (the bias counter stepped P past b_addr: back to it, or on at the next group)
        b_next = s.b_addr + p.lanes
        m.d.sync += s.b_ptr.eq(s.b_addr)
        with m.If(s.pos == c.pos_last):
            m.d.sync += [s.pos.eq(c.pos_first), s.key.eq(s.key + c.key_wrap),
                         s.b_addr.eq(b_next), s.b_ptr.eq(b_next)]
        with m.Else():
            m.d.sync += [s.pos.eq(s.pos + 1), s.key.eq(s.key + c.key_pos)]

    def _layer_done_states(self, m, s) -> None:
        with m.State("LAYER_DONE"):
            m.d.sync += [s.group.eq(0), s.entry.eq(0)]
            with m.If(~s.last_layer):
                m.d.sync += s.layer.eq(s.layer + 1)
                m.next = "ENTRY"
            with m.Else():
                m.d.sync += s.layer.eq(0)
                with m.If(s.last_step):
                    m.d.comb += s.readout.emit.eq(1)
                    m.d.sync += s.step.eq(0)
                    m.next = "EMIT"
                with m.Else():
                    m.d.sync += s.step.eq(s.step + 1)
                    m.next = "INPUT"
        with m.State("EMIT"):             # the readout's busy rises the cycle after emit
            m.next = "WAIT"
        with m.State("WAIT"):
            with m.If(~s.readout.busy):
                m.next = "INPUT"

    def _readout_beat(self, m, s, valid, lane, value) -> None:
        """The last layer's neuron to the readout (not a group's padding lanes): its
        spikes from the spike stage, or its charge ``I`` from the first stage."""
        ro = self.plan.readout
        neuron = Signal(len(s.key) + 1, name="readout_neuron")
        m.d.comb += neuron.eq(s.key + lane)
        r = s.readout.i
        # the payload whatever the valid (no gate in front of the readout's registers)
        m.d.comb += [r.valid.eq(valid & s.last_layer & below(neuron, self.plan.net.n_out)),
                     r.payload.group.eq(neuron), r.payload.base.eq(neuron)]
        if ro.fires:
            m.d.comb += r.payload.spikes.eq(value[:ro.spike_bits])
        else:
            m.d.comb += r.payload.current.eq(value[:ro.current_width])

    def _fire(self, m, s, v):
        """The neuron's ``(s, s << k)`` from ``v`` with the layer's ``k``,
        ``fire_offset`` and ``s_max`` (the soft reset subtracts the second)."""
        p = self.plan
        x = Signal(signed(p.u_bits + 2), name="x")         # v + fire_offset
        m.d.comb += x.eq(v + s.c.off)
        low = x < 0
        high = v >= s.c.lim_v           # x >= (s_max + 1) << k, beside the add
        # (below the limit, x >> k is at most s_max: its low bits are all of it)
        spike = Signal(s.smax_bits, name="s")
        m.d.comb += spike.eq(Mux(low, 0, Mux(high, s.c.smax, (x >> s.c.k)[:s.smax_bits])))
        fired = Signal(signed(p.u_bits + 2), name="sk")      # s << k, below 2 ** (u_bits + 1)
        m.d.comb += fired.eq(Mux(low, 0, Mux(high, s.c.smaxk, x & ~s.c.low)))
        return spike, fired

#: cycles after the sample's last sweep besides the readout's output: LAYER_DONE's
#: emit, EMIT, and WAIT's first cycle
SERIAL_TAIL = 3


def sample_bound(plan: SerialPlan, events) -> int:
    """Cycles one sample takes at most on the serial core (no stalls, after the memories
    are cleared), from ``events[layer, step]``, the non-zero input events each layer
    sees (:func:`snnhw.gateware.cycles.events_per_step`).

    Per layer and step: ``E * (V + 1)`` (an event's fetch, a cycle for each of the at
    most ``V`` groups it visits: a dense layer's ``G``, a conv layer's
    :attr:`~snnhw.gateware.window.ConvWindow.max_visits`; a conv layer 0 reads where
    the window starts, one cycle more), at most 7 cycles to drain the walk's pipeline
    (the weight store's latency, up to 4, and 2, or 3 where the products take two
    stages), ``(lanes + 6) G + 1`` for the sweep (a
    group's read, a cycle a lane, four to drain the neuron pipeline, the write), and the
    spike memory's overhead, at most ``2 G_prev + 2`` (two cycles an entry, the closing
    reads); the input's marker one cycle. A recurrent layer's replayed spikes are
    events (``E`` counts them) and its replay memory adds ``2 G + 1`` a step after the
    first. After the last step the readout's
    ``3 n_out + 3`` (it takes a neuron at a time) and :data:`SERIAL_TAIL`."""
    events = np.asarray(events)
    total = 0
    for layer, (w, e_l) in enumerate(zip(plan.walks, events)):
        prev = plan.groups[layer - 1] if layer else 0
        fetch = 2 if layer == 0 and w.conv else 1
        for t, e in enumerate(e_l):
            total += (int(e) * (w.max_visits + fetch) + 7 + (plan.lanes + 6) * w.groups + 1
                      + 2 * prev + 2)
            if plan.recurrent[layer] and t > 0:     # its replay memory's entries
                total += 2 * w.groups + 1
    return total + 3 * plan.net.n_out + 3 + SERIAL_TAIL


def ideal_cycles(plan: SerialPlan, walk) -> int:
    """The serial core's ideal for one sample: one group of ``lanes`` synapses a cycle
    (``walk[layer, step]``, the groups the events visit,
    :func:`snnhw.gateware.cycles.walk_cycles`) plus a cycle per neuron swept
    (``T * sum n_out``)."""
    walk = np.asarray(walk)
    return int(walk.sum()) + plan.net.timesteps * sum(ly.n_out for ly in plan.net.layers)


def serial_design_memories(net: Network, lanes: int, weights: dict | None = None,
                           max_events: int = MAX_EVENTS) -> list[MemorySpec]:
    """Every memory of the board design with the serial core: the core's and the host
    link's frame buffer."""
    plan = SerialCore.check(net, lanes=lanes, weights=weights)
    return [*(m.within("core") for m in plan.memories()),
            link_buffer(max_events).within("link.receiver")]


def _product_terms(w, w_bits: int, value, value_bits: int) -> list:
    """``W * s`` (``W`` signed, ``s`` unsigned) as shifted adds over the narrower
    operand's bits: ``sum_b s_b * (W << b)``, or ``sum_b w_b * (s << b)`` with the sign
    bit's term subtracted."""
    if value_bits <= w_bits:
        ws = w.as_signed()
        return [Mux(value[b], ws << b, 0) for b in range(value_bits)]
    terms = [Mux(w[b], value << b, 0) for b in range(w_bits - 1)]
    sign = Mux(w[w_bits - 1], value << (w_bits - 1), 0)
    if not terms:
        return [-sign]
    # the sign bit's term subtracted from the term beside it: one subtract, not a
    # negation and an add
    return [*terms[:-1], terms[-1] - sign]


def _lowest_one_hot(mask):
    """The lowest set bit of ``mask``, one-hot (0 for none)."""
    return mask & (-mask.as_signed())[:len(mask)]


def _one_hot_select(pick, words):
    """``words[k]`` for the one set bit ``k`` of ``pick``: an AND-OR (0 for none)."""
    return functools.reduce(operator.or_, (Mux(pick[k], w, 0) for k, w in enumerate(words)))


def _tree(terms, down_to: int = 1):
    """The sum of ``terms`` as a balanced tree of adds; with ``down_to`` > 1, the levels
    of that tree until ``down_to`` or fewer partial sums are left (a list)."""
    while len(terms) > down_to:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0] if down_to == 1 else terms
