"""One description of the hardware: every memory and width the gateware builds.

A *plan* is a frozen description computed from the IR and the lanes, before
any Amaranth object exists. The components take their sizes from it
(:class:`~snnhw.gateware.layer.LIFLayer` builds exactly the memories of its
:class:`LayerPlan`), and everything that reports on the hardware reads the
same plan: the Verilog manifest, ``snnhw estimate``, the cycle model
(:mod:`snnhw.gateware.cycles`) and ``snnhw info --lanes``. Nothing else
derives a depth or a width. A test checks the plan against what Yosys finds
in the generated Verilog.

Memory names are paths in the design hierarchy, relative to the network core
(``layer0.syn.weights.mem``) or, in the board design, to its top
(``core.layer0.syn.weights.mem``, ``link.receiver.buf``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..errors import SnnhwError
from ..families import of_platform
from ..ir import Network
from ..protocol.link import MAX_EVENTS
from ..util import lanes_per_layer, signed_bits
from .kinds import KINDS, kind
from .neuron import NeuronLane
from .ports import AccumulatorPort
from .window import ConvWindow, position_bits

__all__ = ["MemorySpec", "DISTRIBUTED_DEPTH", "distributed", "tree_stages", "LayerPlan",
           "BANK_WORDS", "SPRAM_DEPTH", "spram_pack", "SELECT_FANIN", "weight_banks",
           "weight_latency",
           "CorePlan", "MEMORY_KINDS", "SWEEP_STAGES", "synapse_memories", "link_buffer",
           "plan_core", "design_memories", "unsupported", "event_table_fields", "DesignError",
           "position_bits", "SPIKE_FIFO_GROUPS"]

MEMORY_KINDS = ("rom", "ram", "spram")

#: Pipeline stages of the sweep after a group's command: the accumulator port's
#: :data:`~snnhw.gateware.ports.AccumulatorPort.LATENCY` (2: the command is
#: registered and the reads are issued from it, then the data is in the read
#: registers), then the neuron lane's :data:`NeuronLane.LATENCY` stages (the first
#: registers the charge, accumulator + bias); the last writes back.
SWEEP_STAGES = AccumulatorPort.LATENCY + NeuronLane.LATENCY


@dataclass(frozen=True)
class MemorySpec:
    """One memory as its component builds it.

    ``kind``: ``"rom"`` (contents in the bitstream, never written), ``"ram"``
    (written at run time) or ``"spram"`` (iCE40UP5K single-port RAM blocks,
    loaded by the host). ``layer``: the layer a weight memory belongs to.
    ``distributed``: LUT RAM rather than block RAM where the family keeps state there
    (:func:`distributed`).
    """

    name: str
    role: str
    depth: int
    width: int
    kind: str = "ram"
    layer: int | None = None
    distributed: bool = False

    def __post_init__(self):
        if self.kind not in MEMORY_KINDS:
            raise ValueError(f"memory kind must be one of {MEMORY_KINDS}, got {self.kind!r}")
        if self.depth < 1 or self.width < 1:
            raise ValueError(f"memory {self.name}: {self.depth} x {self.width} is empty")

    @property
    def bits(self) -> int:
        return self.depth * self.width

    @property
    def is_register(self) -> bool:
        """A one-word memory written at run time: its every address is the constant 0,
        so Yosys's Verilog front end makes it a register (``mem2reg``), never block RAM.
        (A one-word ROM stays a memory.)"""
        return self.depth == 1 and self.kind == "ram"

    def within(self, prefix: str, **changes) -> MemorySpec:
        """The same memory seen from the component that holds this one as ``prefix``."""
        return dataclasses.replace(self, name=f"{prefix}.{self.name}", **changes)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "words": self.depth,
                "width": self.width, "kind": self.kind, "distributed": self.distributed}

    def attrs(self, platform) -> dict:
        """Yosys attributes of this memory on ``platform``
        (:meth:`~snnhw.families.base.Family.memory_attrs`: LUT RAM when ``distributed``
        on a family that keeps state there)."""
        fam = of_platform(platform)
        return {} if fam is None else fam.memory_attrs(self.distributed, self.kind == "rom")


def tree_stages(in_bits: int) -> int:
    """Extra pipeline stages of a synapse array's adder tree over ``in_bits`` shifted
    weights (one adder level per cycle, the last in the accumulator read's cycle):
    ``ceil(log2(in_bits)) - 1``, at least 0."""
    return max(0, (in_bits - 1).bit_length() - 1)


#: Words per weight memory bank: block RAM (one DP16KD column in its 1024 x 18
#: shape) and iCE40UP5K SPRAM (one 16K x 16 block)
BANK_WORDS, SPRAM_DEPTH = 1024, 16384
#: Banks the last multiplexer of a weight read picks among in one cycle; a memory
#: of more banks selects in two registered steps, and one of more than twice as
#: many registers each bank's output once more first (:func:`weight_latency`)
SELECT_FANIN = 4


def spram_pack(width: int) -> int:
    """Words of ``width`` bits one 16-bit SPRAM row holds: each word sits in a field of
    whole nibbles (4 or 8 bits), so the row's nibble write mask writes it alone: four
    words of at most 4 bits, two of at most 8, else one (``ceil(width / 16)`` blocks
    side by side)."""
    return 4 if width <= 4 else 2 if width <= 8 else 1


def weight_banks(spec: MemorySpec) -> int:
    """Banks of a weight memory at the default bank size."""
    if spec.kind == "spram":
        return math.ceil(spec.depth / (SPRAM_DEPTH * spram_pack(spec.width)))
    return math.ceil(spec.depth / BANK_WORDS)


def weight_latency(spec: MemorySpec) -> int:
    """Cycles from a weight read's address to its word: 2 (the bank's registered
    output, then the bank select); 3 when the memory has more than
    :data:`SELECT_FANIN` banks (the select takes two registered steps, near banks
    first, then among the few picks); 4 when it has more than ``2 * SELECT_FANIN``
    (block RAM spread over much of the chip): each bank's output passes one more
    register in the fabric first, which the placer puts between the bank and the
    select."""
    banks = weight_banks(spec)
    return 2 if banks <= SELECT_FANIN else 3 if banks <= 2 * SELECT_FANIN else 4


#: Groups of spikes a hidden layer's spike FIFO holds besides its margins: a whole
#: sweep of a layer of up to this many groups (a larger layer's sweep waits for the
#: next layer to take spikes, so the FIFO costs one block RAM, not one per 256 groups)
SPIKE_FIFO_GROUPS = 64
#: lanes up to which the serializer sums a word's spiking lanes in one stage; above, the
#: count takes a second push register, and the FIFOs a word more
COUNT_ONE_STAGE_LANES = 8

#: Deepest neuron-state memory kept in LUT RAM on ECP5 (:func:`distributed`)
DISTRIBUTED_DEPTH = 256


def distributed(depth: int) -> bool:
    """Whether a memory of the per-neuron state (accumulators, bias, membranes, logit
    sums: one word per group) or a spike FIFO is LUT RAM on ECP5. Their reads feed an
    adder (a FIFO's, the serializer's lane select) in the next cycle and their writes
    close a loop, so block RAM (5.8 ns clock-to-out without its output register) would
    set Fmax; up to this depth LUT RAM costs less than another pipeline stage in every
    loop. (iCE40 has no LUT RAM.)"""
    return depth <= DISTRIBUTED_DEPTH


def synapse_memories(*, n_in: int, n_out: int, lanes: int, w_bits: int, acc_width: int,
                     weights: str = "rom", window: ConvWindow | None = None,
                     split_in: bool = False) -> tuple[MemorySpec, ...]:
    """The weights and accumulators of a :class:`~snnhw.gateware.synapse.SynapseArray`,
    and for a conv layer (``window``) its event table.

    Dense: weights ``G * n_in`` words of ``lanes * w_bits`` (word ``g * n_in + j`` is
    row ``j`` of group ``g``), accumulators ``G`` words of ``lanes * acc_width``.
    Conv: weights ``Gc * C_in * KH * KW`` words, accumulators ``Gc * OH * OW`` words
    (:mod:`~snnhw.gateware.window`), and the table of where each input's walk starts
    (:func:`event_table_fields`): a word per input index, or with ``split_in`` (the
    input comes from a conv layer as ``(channel, position)``, :attr:`LayerPlan.split_in`)
    a word per input position and one per input channel (its weight offset).
    """
    store = "spram" if weights == "spram" else "mem"
    if window is None:
        g = math.ceil(n_out / lanes)
        depth = g * n_in
    else:
        g, depth = window.groups, window.weight_words
    mems = [MemorySpec(f"weights.{store}", "weights", depth, lanes * w_bits, kind=weights),
            MemorySpec("acc", "accumulators", g, lanes * acc_width, distributed=distributed(g))]
    if window is not None:
        width = sum(event_table_fields(window).values())
        c_in, h, w = window.in_shape
        words = h * w if split_in else n_in
        mems.append(MemorySpec("events", "event_table", words, width, kind="rom",
                               distributed=distributed(words)))
        if split_in:
            mems.append(MemorySpec("channels", "channel_table", c_in,
                                   max((c_in - 1) * window.taps, 1).bit_length(), kind="rom",
                                   distributed=distributed(c_in)))
    return tuple(mems)


def event_table_fields(window: ConvWindow) -> dict[str, int]:
    """Fields of a conv layer's event table word (:meth:`ConvWindow.table`): the walk's
    first weight and accumulator addresses, its columns less one, its groups less one,
    and whether the input reaches no output at all."""
    return {"w0": max(window.weight_words - 1, 1).bit_length(),
            "a0": max(window.groups - 1, 1).bit_length(),
            "nx": max(window.out_shape[2] - 1, 1).bit_length(),
            "left": max(window.max_visits - 1, 1).bit_length(),
            "none": 1}


def link_buffer(max_events: int = MAX_EVENTS) -> MemorySpec:
    """The host link's frame buffer: one frame's payload, ``3 * max_events`` bytes."""
    return MemorySpec("buf", "frame_buffer", 3 * max_events, 8)


@dataclass(frozen=True)
class LayerPlan:
    """Layer ``index`` of a network at ``lanes`` neurons per cycle.

    ``readout`` is ``None`` for a hidden layer, else the network's readout
    (``"membrane"`` or ``"spikes"``). ``memories`` are named relative to the
    layer (``syn.acc``, ``sweep.bias``...).
    """

    index: int
    #: the IR layer kind (:mod:`snnhw.gateware.kinds`)
    kind: str
    n_in: int
    n_out: int
    lanes: int
    in_bits: int
    w_bits: int
    u_bits: int
    spike_bits: int
    acc_width: int
    logit_bits: int
    readout: str | None
    weights: str
    memories: tuple[MemorySpec, ...]
    window: ConvWindow | None = None
    #: the input events come from a conv layer into this conv layer, their index
    #: ``channel << position_bits | position`` (``split_out`` of the layer before)
    split_in: bool = False
    #: the output events go to a conv layer, indexed ``channel << position_bits | position``
    split_out: bool = False
    #: the layer reads its own spikes of the step before (docs/arithmetic.md,
    #: "Recurrence"): they are replayed into the synapse array as input events
    #: ``n_in + i`` (its weights are ``[W | R]``) from the ``replay_fifo``
    recurrent: bool = False

    @property
    def conv(self) -> bool:
        return self.window is not None

    @property
    def groups(self) -> int:
        """Groups of ``lanes`` neurons the sweep visits: ``ceil(n_out / lanes)``, or for
        a conv layer ``Gc * OH * OW`` (lanes are output channels at one position)."""
        if self.window is not None:
            return self.window.groups
        return math.ceil(self.n_out / self.lanes)

    @property
    def bias_groups(self) -> int:
        """Words of the bias memory: one per group, or per channel group (conv)."""
        return self.window.channel_groups if self.window is not None else self.groups

    @property
    def lane_stride(self) -> int:
        """Output-index distance between two lanes of a group: 1 (dense), ``OH * OW``
        (conv, flat index), or ``2**position_bits`` (conv into conv)."""
        if self.window is None:
            return 1
        if self.split_out:
            return 1 << position_bits(self.window.positions)
        return self.window.positions

    @property
    def base_limit(self) -> int:
        """Above every group's first output index (``base``; into a conv layer, the padded
        channels of the last group count too)."""
        return _base_limit(self.window, self.lanes, self.split_out, self.groups)

    @property
    def in_index(self) -> int:
        """Input events' index range: ``n_in``, or ``C_in << position_bits`` when split."""
        return self.window.split_in_index if self.split_in else self.n_in

    @property
    def out_index(self) -> int:
        """Output events' index range: ``n_out``, or ``C_out << position_bits`` when
        split (a padded channel of the last group never fires, so it never appears)."""
        if self.split_out:
            return self.window.out_shape[0] << position_bits(self.window.positions)
        return self.n_out

    @property
    def max_walk(self) -> int:
        """Synapse cycles one input event takes at most: ``G``, or for a conv layer
        ``ceil(KH/SH) * ceil(KW/SW) * Gc`` (:mod:`~snnhw.gateware.window`)."""
        return self.window.max_visits if self.window is not None else self.groups

    @property
    def fires(self) -> bool:
        """Whether the layer has membranes and spikes (all but a membrane readout)."""
        return self.readout != "membrane"

    @property
    def current_width(self) -> int:
        """The charge ``I`` plus the bias: one bit more than the accumulator."""
        return self.acc_width + 1

    @property
    def fifo_word(self) -> dict[str, int]:
        """Fields of a spike FIFO word: first neuron of the group, its spikes, marker."""
        return {"base": (self.base_limit - 1).bit_length(),
                "spikes": self.lanes * self.spike_bits, "eos": 1}

    @property
    def extra_stages(self) -> int:
        """Synapse pipeline stages beyond the shortest (2-bit inputs, a 2-cycle weight
        read): the adder tree's (:func:`tree_stages`) and a longer weight read's
        (:func:`weight_latency`). A step's marker waits for them."""
        return tree_stages(self.syn_bits) + weight_latency(self.memory("weights")) - 2

    @property
    def syn_bits(self) -> int:
        """Bits of the values the synapse array multiplies by: the input events', or a
        recurrent layer's wider of those and its own replayed spikes'."""
        return max(self.in_bits, self.spike_bits) if self.recurrent else self.in_bits

    def memory(self, role: str) -> MemorySpec:
        for mem in self.memories:
            if mem.role == role:
                return mem
        raise KeyError(f"layer {self.index} has no {role} memory")

    @classmethod
    def of(cls, net: Network, index: int, lanes: int, weights: str = "rom") -> LayerPlan:
        ly = net.layers[index]
        last = index == len(net.layers) - 1
        readout = net.readout if last else None
        acc_width = signed_bits(net.current_bound(index))
        logit_bits = signed_bits(net.logit_bound()) if last else 0
        gk = kind(ly.kind)
        window = gk.window(ly, lanes)
        split_in = gk.WINDOWED and index > 0 and kind(net.layers[index - 1].kind).WINDOWED
        split_out = gk.WINDOWED and not last and kind(net.layers[index + 1].kind).WINDOWED
        recurrent = ly.feedback is not None
        mems = [m.within("syn") for m in synapse_memories(
            n_in=ly.n_in + (ly.n_out if recurrent else 0), n_out=ly.n_out, lanes=lanes,
            w_bits=ly.w_bits, acc_width=acc_width, weights=weights, window=window,
            split_in=split_in)]
        g = window.groups if window is not None else math.ceil(ly.n_out / lanes)
        bias_words = gk.bias_words(ly, lanes, window)
        mems.append(MemorySpec("sweep.bias", "bias", bias_words, lanes * ly.u_bits,
                               kind="rom", distributed=distributed(bias_words)))
        # a word of the spike (and replay) FIFO: first neuron, spikes, marker, and the
        # count of its spiking lanes
        fifo_width = ((_base_limit(window, lanes, split_out, g) - 1).bit_length()
                      + lanes * ly.spike_bits + 1 + lanes.bit_length())
        if readout != "membrane":
            mems.append(MemorySpec("sweep.membrane", "membranes", g, lanes * ly.u_bits,
                                   distributed=distributed(g)))
        push_extra = int(lanes > COUNT_ONE_STAGE_LANES)
        if readout is None:
            # the serializer's FIFO holds a sweep (of at most SPIKE_FIFO_GROUPS groups: a
            # longer one waits for room), the groups in flight, the marker,
            # the word in its push register and two words of margin (its room and ready
            # checks are registered); SyncFIFOBuffered keeps one of them in its output
            # register, the rest in this memory
            # (a word: first neuron, spikes, marker, and the count of its spiking lanes)
            # (LUT RAM on ECP5, whose block RAM's clock-to-out would start the path
            # through the serializer's lane select)
            depth = min(g, SPIKE_FIFO_GROUPS) + 4 + SWEEP_STAGES + push_extra
            mems.append(MemorySpec("serializer.fifo.storage", "spike_fifo", depth,
                                   fifo_width, distributed=distributed(depth)))
        else:
            mems.append(MemorySpec("readout.logits", "logits", g, lanes * logit_bits,
                                   distributed=distributed(g)))
        if recurrent:
            # a step's spike words and its marker, kept until the next step replays them
            # (nothing reads them while the sweep writes them), with the spike FIFO's margin
            depth = g + 5 + SWEEP_STAGES + push_extra
            mems.append(MemorySpec("replay.fifo.storage", "replay_fifo", depth, fifo_width,
                                   distributed=distributed(depth)))
        mems = tuple(dataclasses.replace(m, layer=index) for m in mems)
        return cls(index=index, kind=ly.kind, n_in=ly.n_in, n_out=ly.n_out, lanes=lanes,
                   in_bits=net.input_bits(index), w_bits=ly.w_bits, u_bits=ly.u_bits,
                   spike_bits=ly.spike_bits, acc_width=acc_width, logit_bits=logit_bits,
                   readout=readout, weights=weights, memories=mems, window=window,
                   split_in=split_in, split_out=split_out, recurrent=recurrent)


def _base_limit(window: ConvWindow | None, lanes: int, split_out: bool, groups: int) -> int:
    """Above every group's first output index (:attr:`LayerPlan.base_limit`)."""
    if split_out:
        return (window.channel_groups * lanes << position_bits(window.positions)) + 1
    return groups * lanes + 1


@dataclass(frozen=True)
class CorePlan:
    """Every layer of a network core (:class:`~snnhw.gateware.network.SNNCore`)."""

    layers: tuple[LayerPlan, ...]

    @property
    def lanes(self) -> list[int]:
        return [lp.lanes for lp in self.layers]

    @property
    def loaded(self) -> list[int]:
        """Layers whose weights the host loads at run time."""
        return [lp.index for lp in self.layers if lp.weights != "rom"]

    def memories(self) -> list[MemorySpec]:
        return [m.within(f"layer{lp.index}") for lp in self.layers for m in lp.memories]


class DesignError(SnnhwError, ValueError):
    """A network, lanes or weight placement the gateware cannot build (the message is
    one line, for the user)."""


def unsupported(net: Network) -> str | None:
    """Why the gateware cannot build ``net`` (one line), or ``None`` when it can."""
    for i, ly in enumerate(net.layers):
        if ly.kind not in KINDS:
            return (f"layer {i} is a {ly.kind} layer, which the gateware does not build "
                    f"(it builds {', '.join(KINDS)})")
    if not kind(net.layers[-1].kind).READOUT:
        readable = [name for name, k in KINDS.items() if k.READOUT]
        return (f"the last layer (the readout) is a {net.layers[-1].kind} layer: the gateware "
                f"reads out a {' or '.join(readable)} layer (end the network with one); the "
                "golden model ('snnhw run') and the torch integer mode run it")
    return None


def plan_core(net: Network, lanes, weights: dict | None = None) -> CorePlan:
    """The plan of ``net`` at ``lanes`` (one for all layers or one per layer), with
    ``weights`` ``{layer: "ram" | "spram"}`` for the layers loaded at run time.
    A network the gateware cannot build (:func:`unsupported`) is a :class:`DesignError`."""
    why = unsupported(net)
    if why:
        raise DesignError(why)
    ps = lanes_per_layer(lanes, len(net.layers))
    weights = dict(weights or {})
    for k, mem_kind in weights.items():
        if not isinstance(k, int) or not 0 <= k < len(net.layers):
            raise DesignError(f"weights: no layer {k!r} (the network has {len(net.layers)})")
        if mem_kind not in MEMORY_KINDS:
            raise DesignError(f"weights of layer {k} must be one of {MEMORY_KINDS}, "
                             f"got {mem_kind!r}")
    return CorePlan(tuple(LayerPlan.of(net, i, p, weights.get(i, "rom"))
                          for i, p in enumerate(ps)))


def design_memories(net: Network, lanes, weights: dict | None = None,
                    max_events: int = MAX_EVENTS) -> list[MemorySpec]:
    """Every memory of the board design (:class:`~snnhw.gateware.linked.LinkedNetwork`):
    the core's and the host link's frame buffer."""
    core = [m.within("core") for m in plan_core(net, lanes, weights).memories()]
    return [*core, link_buffer(max_events).within("link.receiver")]
