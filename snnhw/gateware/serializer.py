"""Spike FIFO and serializer: swept groups in, one spike event per cycle out.

A hidden layer's sweep pushes every group that has a non-zero spike as one
word (first neuron ``base``, the ``lanes`` spikes; every word has a spike)
and, after the last group, an end-of-step word. The serializer
turns the head word into ``(index, value)`` events for its non-zero lanes,
lowest lane first, one per cycle (lane ``l`` is index ``base + l * lane_stride``:
1 for a dense layer, ``OH * OW`` for a conv layer, a power of two when a conv
layer feeds a conv layer; :attr:`LayerPlan.lane_stride`), then the marker, so the next layer works
while this one accumulates the next step.

Latency: four cycles from a word pushed into an empty serializer to its first
event (a push register, the buffered FIFO's output register, then the word's
own registers); five above eight lanes, where the word's lane count takes a
second push register.
Throughput: one event per cycle. Backpressure: ``o.ready`` low holds the
head event; ``i.ready`` (registered) is low only when the FIFO is nearly full. ``room``
(registered, so one cycle old) says that ``reserve`` more words and the word
pushed in the cycle it is read still fit: the sweep issues a group only while
it is high, so its results are never refused.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ._checks import CheckedComponent
from .collision import collision_free_read
from .layouts import event_layout
from .plan import COUNT_ONE_STAGE_LANES, LayerPlan
from .select import pick, select_lane

__all__ = ["SpikeSerializer", "BufferedFIFO", "word_layout"]


def word_layout(plan: LayerPlan) -> data.StructLayout:
    return data.StructLayout({name: unsigned(width) for name, width in plan.fifo_word.items()})


class SpikeSerializer(CheckedComponent):
    """The FIFO (``plan``'s ``spike_fifo`` memory) and serializer of a hidden layer.

    Parameters
    ----------
    plan : LayerPlan
    reserve : int
        Words ``room`` keeps free: the groups in flight in the sweep and the marker.
    memory : str
        The plan's memory role of its FIFO: ``"spike_fifo"``, or ``"replay_fifo"`` for
        the serializer that replays a recurrent layer's spikes into the layer itself.

    Ports
    -----
    i : In(stream of :func:`word_layout`)
    o : Out(stream of events (n_out, spike_bits))
    room : Out(1)
    """

    @classmethod
    def check(cls, plan: LayerPlan, *, reserve: int, memory: str = "spike_fifo") -> None:
        if plan.readout is not None and memory == "spike_fifo":
            raise ValueError(f"layer {plan.index} is the readout; it has no spike FIFO")
        depth = plan.memory(memory).depth
        if depth < reserve + 3:
            raise ValueError(f"a spike FIFO of {depth} words cannot keep {reserve} free")

    def __init__(self, plan: LayerPlan, *, reserve: int, memory: str = "spike_fifo"):
        self.plan, self.reserve = plan, reserve
        self.fifo_memory = plan.memory(memory)
        super().__init__({
            "i": In(stream.Signature(word_layout(plan))),
            "o": Out(stream.Signature(event_layout(plan.out_index, plan.spike_bits))),
            "room": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        P, sb = self.plan.lanes, self.plan.spike_bits
        # the FIFO keeps one word in its output register, the rest in memory (LUT RAM on
        # ECP5: block RAM's 5.8 ns clock-to-out would start the path to the lane select)
        m.submodules.fifo = fifo_ = BufferedFIFO(
            width=self.fifo_memory.width, depth=self.fifo_memory.depth + 1,
            attrs=self.fifo_memory.attrs(platform))
        # a pushed word waits a cycle in a register before the FIFO (the FIFO's write
        # enable and level then start at flip-flops). `i.ready` is a register too, one
        # cycle old: the level then, plus the word in the push register and one pushed
        # in that cycle, leave a place
        p_valid, p_data = Signal(), Signal.like(self.i.payload.as_value())
        pushed = data.View(word_layout(self.plan), p_data)
        nonzero = [pushed.spikes.word_select(j, sb) != 0 for j in range(P)]
        m.d.sync += [p_valid.eq(self.i.valid & self.i.ready), p_data.eq(self.i.payload)]
        if P <= COUNT_ONE_STAGE_LANES:
            count = sum(nonzero)                                       # lanes to send
            w_valid, w_data, in_flight = p_valid, p_data, 1
        else:
            # wide lanes: the count takes a stage of its own (partial counts of four
            # lanes, then their sum), a second push register
            w_valid, w_data = Signal(), Signal.like(p_data)
            partials = []
            for k in range(0, P, 4):
                part = Signal(range(5), name=f"count{k // 4}")
                m.d.sync += part.eq(sum(nonzero[k:k + 4]))
                partials.append(part)
            count = sum(partials)
            m.d.sync += [w_valid.eq(p_valid), w_data.eq(p_data)]
            in_flight = 2
        m.d.comb += [fifo_.w_data.eq(Cat(w_data, count)), fifo_.w_en.eq(w_valid)]
        # `i.ready` and `room` are registered, one cycle old: the level then, plus the
        # words in the push registers and one pushed in that cycle, leave a place;
        # `reserve` more words fit after `room` falls
        m.d.sync += [self.i.ready.eq(fifo_.level < fifo_.depth - 1 - in_flight),
                     self.room.eq(fifo_.level < fifo_.depth - 2 - in_flight - self.reserve)]

        # the word being sent sits in registers of its own, with the mask of its lanes
        # still to send, the lowest of them (`lane`) and how many are left (counted
        # before the FIFO): the FIFO's read enable then depends on registers alone, and
        # the next lane comes from the registered one (a one-hot clear, then the priority
        # encoder), not from a priority encoder in series with another
        head = data.View(word_layout(self.plan), fifo_.r_data[:len(p_data)])
        head_count = fifo_.r_data[len(p_data):]
        cur_valid, cur_eos = Signal(), Signal()
        cur_base = Signal.like(head.base)
        cur_spikes = Signal.like(head.spikes)
        mask = Signal(P)          # lanes with a spike not yet sent
        lane = Signal(range(max(P, 2)))
        left = Signal.like(head_count)
        one_left = Signal()       # left == 1, registered with it (the finish starts at FFs)
        o = self.o
        m.d.comb += [o.valid.eq(cur_valid), o.payload.eos.eq(cur_eos)]
        spike = select_lane(m, cur_spikes, lane, sb, P, "head_spike")
        # a conv layer's lanes are channels: OH*OW apart in the flat index, or a power of
        # two apart in (channel, position) fields (LayerPlan.lane_stride)
        stride = self.plan.lane_stride
        if stride & (stride - 1) == 0:
            offset = lane << (stride.bit_length() - 1)
        else:
            offset = pick(m, [Const(j * stride, len(o.payload.index)) for j in range(P)], lane,
                          "lane_offset")
        with m.If(~cur_eos):
            m.d.comb += [o.payload.index.eq(cur_base + offset), o.payload.value.eq(spike)]
        finish = o.valid & o.ready & (cur_eos | one_left)
        with m.If(o.valid & o.ready & ~finish):    # the next lane of the same word
            rest = Signal(P)
            m.d.comb += rest.eq(Cat(*[mask[j] & (lane != j) for j in range(P)]))
            m.d.sync += [mask.eq(rest), lane.eq(_lowest(m, rest, "rest_lane")),
                         left.eq(left - 1), one_left.eq(left == 2)]
        with m.If(~cur_valid | finish):
            m.d.comb += fifo_.r_en.eq(1)            # take the next word, if there is one
            nonzero = Signal(P)
            m.d.comb += nonzero.eq(Cat(*[head.spikes.word_select(j, sb) != 0
                                         for j in range(P)]))
            m.d.sync += [cur_valid.eq(fifo_.r_rdy), cur_eos.eq(head.eos),
                         cur_base.eq(head.base), cur_spikes.eq(head.spikes),
                         mask.eq(nonzero), lane.eq(_lowest(m, nonzero, "head_lane")),
                         left.eq(head_count), one_left.eq(head_count == 1)]
        return m


class BufferedFIFO(wiring.Component):
    """:class:`amaranth.lib.fifo.SyncFIFOBuffered`, cycle for cycle (one word in the output
    register, ``depth - 1`` in a memory read synchronously), with Yosys attributes on its
    memory (``attrs``: :meth:`~snnhw.gateware.plan.MemorySpec.attrs`).

    Ports as ``SyncFIFOBuffered``'s: ``w_data``, ``w_en``, ``w_rdy``, ``r_data``,
    ``r_en``, ``r_rdy``, ``level``.
    """

    def __init__(self, *, width: int, depth: int, attrs: dict | None = None):
        if depth < 2:
            raise ValueError(f"a buffered FIFO holds at least 2 words, not {depth}")
        self.width, self.depth, self.attrs = width, depth, dict(attrs or {})
        super().__init__({"w_data": In(width), "w_en": In(1), "w_rdy": Out(1),
                          "r_data": Out(width), "r_en": In(1), "r_rdy": Out(1),
                          "level": Out(range(depth + 1))})

    def elaborate(self, platform):
        m = Module()
        inner = self.depth - 1
        level = Signal(range(inner + 1))
        m.submodules.storage = mem = memory.Memory(shape=self.width, depth=inner, init=[],
                                                   attrs=self.attrs)
        wr, rd = mem.write_port(), mem.read_port(domain="sync")
        produce, consume = Signal(range(inner)), Signal(range(inner))
        do_write = self.w_rdy & self.w_en
        do_read = (level != 0) & (~self.r_rdy | self.r_en)

        def step(ptr):
            return ptr + 1 if inner == 1 << len(ptr) else Mux(ptr == inner - 1, 0, ptr + 1)

        # a word is read (rd.en) only when the FIFO holds it, after its write
        m.d.comb += [self.w_rdy.eq(level != inner), wr.addr.eq(produce),
                     wr.data.eq(self.w_data), wr.en.eq(do_write), rd.addr.eq(consume),
                     rd.en.eq(do_read),
                     self.r_data.eq(collision_free_read(m, mem, rd, wr, platform)),
                     self.level.eq(level + self.r_rdy)]
        with m.If(do_write):
            m.d.sync += produce.eq(step(produce))
        with m.If(do_read):
            m.d.sync += consume.eq(step(consume))
        with m.If(do_write & ~do_read):
            m.d.sync += level.eq(level + 1)
        with m.If(do_read & ~do_write):
            m.d.sync += level.eq(level - 1)
        with m.If(do_read):
            m.d.sync += self.r_rdy.eq(1)
        with m.Elif(self.r_en):
            m.d.sync += self.r_rdy.eq(0)
        return m


def _lowest(m, bits, name):
    """The index of the lowest set bit of ``bits`` (0 when none), as a signal. Above
    :data:`~snnhw.gateware.plan.COUNT_ONE_STAGE_LANES` bits it is a tree of halves (each
    half's "any" and index, the lower half's index when it has a bit: log2(width)
    levels of 2-way selects); a priority chain of 32 took the whole clock at lanes 32
    on ECP5."""
    out = Signal(range(max(len(bits), 2)), name=name)
    if len(bits) > COUNT_ONE_STAGE_LANES:
        m.d.comb += out.eq(_lowest_tree(bits)[1])
        return out
    for j in reversed(range(len(bits))):  # the last assignment wins: the lowest set bit
        with m.If(bits[j]):
            m.d.comb += out.eq(j)
    return out


def _lowest_tree(bits):
    """``(any, index)`` of the lowest set bit of ``bits`` (index 0 when none), split in
    halves of a power of two: the index's top bit says the lower half had none and the
    upper half has one."""
    if len(bits) == 1:
        return bits[0], Const(0, 0)
    half = 1 << ((len(bits) - 1).bit_length() - 1)
    lo_any, lo_idx = _lowest_tree(bits[:half])
    hi_any, hi_idx = _lowest_tree(bits[half:])
    width = (half - 1).bit_length()
    return lo_any | hi_any, Mux(lo_any, Cat(lo_idx, Const(0, width - len(lo_idx) + 1)),
                                Cat(hi_idx, Const(0, width - len(hi_idx)), hi_any))
