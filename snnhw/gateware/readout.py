"""The readout of the last layer: logits summed over a sample, then logits and class out.

During each step's sweep the readout adds every swept group's values to its
logits (SPEC "Readout": the charge ``I`` for a ``membrane`` readout, the
spikes for a ``spikes`` readout): a read-modify-write, read the cycle after a
group arrives on ``i`` (the memory's read address is always a register: the
group counter ``addr``, loaded with the arriving group) and written the cycle
after that (the sweep visits each group once a step, so no two groups in a row
are the same). After the sample's last sweep, ``emit`` starts the output, a
cycle later (``emit`` is registered; the last group's write): the ``n_out``
logits in order, then the class (argmax, ties to the lowest index), each as a
beat of ``o``; the logits are cleared as they are read, ready for the next
sample.

After reset the readout first clears its logits (``G`` cycles).

Latency of the output: one cycle for ``emit``'s register, per group one read
and one load cycle, then one cycle per logit beat, one for the last compare of
the argmax, then the class beat: ``2 * G + n_out + 3`` cycles without
backpressure. ``busy`` is high from the cycle after ``emit`` until the class
beat is taken; send no group on ``i`` and no ``emit`` meanwhile, and
``emit`` only after the last group's beat.
Backpressure: ``o.ready`` low holds the current beat.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import memory, stream
from amaranth.lib.wiring import In, Out

from ._checks import CheckedComponent
from .collision import collision_free_read
from .layouts import result_layout
from .plan import LayerPlan
from .sweep import result_layout as sweep_result_layout

__all__ = ["Readout"]


class Readout(CheckedComponent):
    """The readout planned as ``plan`` (see the module docstring).

    Ports
    -----
    i : In(stream of the sweep's results, always ready)
    emit : In(1)
    busy : Out(1)
    o : Out(stream of :func:`~snnhw.gateware.layouts.result_layout`)
    """

    @classmethod
    def check(cls, plan: LayerPlan) -> None:
        if plan.readout is None:
            raise ValueError(f"layer {plan.index} is not the readout")

    def __init__(self, plan: LayerPlan):
        self.plan = plan
        self.logits_memory = plan.memory("logits")
        super().__init__({
            "i": In(stream.Signature(sweep_result_layout(plan), always_ready=True)),
            "emit": In(1),
            "busy": Out(1),
            "o": Out(stream.Signature(result_layout(plan.logit_bits, plan.n_out))),
        })

    def elaborate(self, platform):
        m = Module()
        lmem = self.logits_memory
        m.submodules.logits = mem = memory.Memory(shape=unsigned(lmem.width), depth=lmem.depth,
                                                  init=[], attrs=lmem.attrs(platform))
        rd, wr = mem.read_port(), mem.write_port()
        q = collision_free_read(m, mem, rd, wr, platform)   # a logit read after its write
        # a group is zeroed (CLEAR's, as its logits leave) through registers, written
        # the cycle after: the write port's controls start at flip-flops, not at the
        # state or the output's ready
        f = SimpleNamespace(q=q, zero=Signal(name="zero"),
                            zero_addr=Signal(range(self.plan.groups + 1), name="zero_addr",
                                             reset_less=True))
        m.d.sync += f.zero.eq(0)
        f.addr = self._accumulate(m, rd, q, wr, f)
        self._argmax(m, f)
        with m.FSM(init="CLEAR"):
            self._clear_states(m, f)
            self._emit_states(m, f)
        return m

    def _accumulate(self, m, rd, q, wr, f) -> Signal:
        """The beat's group into the read address, read the next cycle, added and written
        the cycle after (else a zeroing, ``f.zero``); returns the read address (the
        arriving group, or the group counter of CLEAR and OUTPUT)."""
        plan = self.plan
        if plan.readout == "membrane":
            adds_word, add_width = self.i.payload.current, plan.current_width
        else:
            adds_word, add_width = self.i.payload.spikes, plan.spike_bits
        is_signed = plan.readout == "membrane"
        addr = Signal(range(plan.groups + 1))
        m.d.comb += rd.addr.eq(addr)
        q_valid, acc_valid = Signal(), Signal()
        q_group, acc_group = Signal.like(self.i.payload.group), Signal.like(self.i.payload.group)
        q_adds, acc_adds = Signal.like(adds_word), Signal.like(adds_word)
        m.d.sync += [q_valid.eq(self.i.valid), q_group.eq(self.i.payload.group),
                     q_adds.eq(adds_word), acc_valid.eq(q_valid), acc_group.eq(q_group),
                     acc_adds.eq(q_adds)]
        with m.If(self.i.valid):
            m.d.sync += addr.eq(self.i.payload.group)
        sums = []
        lb = plan.logit_bits
        for lane in range(plan.lanes):
            old = q.word_select(lane, lb).as_signed()
            add = acc_adds.word_select(lane, add_width)
            sums.append((old + (add.as_signed() if is_signed else add))[:lb])
        m.d.comb += [wr.en.eq(acc_valid | f.zero),
                     wr.addr.eq(Mux(acc_valid, acc_group, f.zero_addr)),
                     wr.data.eq(Mux(acc_valid, Cat(*sums), 0))]
        return addr

    def _argmax(self, m, f) -> None:
        """The argmax, taken as each logit leaves (the compare beside the output, into
        ``best``, not in front of it), on order-preserving unsigned keys (the sign bit
        flipped: one carry chain, no sign logic in the loop); ``best`` starts at the
        smallest key with index 0 (the key set in ARGMAX, the index in CLASS), so a
        plain ``>`` keeps ties at the lowest index. Also ``busy``, a
        register (set from where the state machine goes next, ``busy_next``), so the
        layer's control logic starts at a flip-flop; high from reset (CLEAR)."""
        n_out, lb, P = self.plan.n_out, self.plan.logit_bits, self.plan.lanes
        f.held = Signal(P * lb, reset_less=True)
        f.lane = Signal(range(max(P, 2)))
        f.idx = Signal(range(n_out + 1))
        f.best = Signal(lb)
        f.best_idx = Signal(range(max(n_out, 2)))
        f.emit_q = Signal()
        m.d.sync += f.emit_q.eq(self.emit)
        busy, f.busy_next = Signal(init=1), Signal()
        m.d.sync += busy.eq(f.busy_next | self.emit)
        m.d.comb += self.busy.eq(busy)

    def _clear_states(self, m, f) -> None:
        """CLEAR (every group zeroed, from reset) and IDLE (accumulating, until
        ``emit``)."""
        G, addr = self.plan.groups, f.addr
        with m.State("CLEAR"):      # (the last group zeroed in IDLE's first cycle)
            m.d.comb += f.busy_next.eq(addr != G - 1)
            m.d.sync += [f.zero.eq(1), f.zero_addr.eq(addr)]
            m.d.sync += addr.eq(addr + 1)
            with m.If(addr == G - 1):
                m.d.sync += addr.eq(0)
                m.next = "IDLE"
        with m.State("IDLE"):
            # `emit` registered first (a cycle in which the last group's sum is
            # written); busy from the cycle after `emit`
            m.d.comb += f.busy_next.eq(f.emit_q)
            with m.If(f.emit_q):
                m.d.sync += addr.eq(0)
                m.next = "OUTPUT"

    def _emit_states(self, m, f) -> None:
        """OUTPUT, LOAD, EMIT (the logits, a beat each), ARGMAX, CLASS (the class)."""
        P, n_out, lb, o = self.plan.lanes, self.plan.n_out, self.plan.logit_bits, self.o
        # the group read in OUTPUT, cleared in LOAD (a cycle after its read: the memory
        # need not return the old word of a word written in the same cycle) and held in
        # `held`; at one lane the logit is the memory's read data itself, its address
        # held until the logit leaves, and the group cleared as it leaves
        one = P == 1
        read = None if one else Signal.like(f.addr, name="emit_group", reset_less=True)
        with m.State("OUTPUT"):
            # read group `addr`; its data arrives next cycle
            m.d.comb += f.busy_next.eq(1)
            m.d.sync += f.lane.eq(0)
            if not one:
                m.d.sync += [f.addr.eq(f.addr + 1), read.eq(f.addr)]
            m.next = "LOAD"
        # the output's valid and its class flag are flip-flops of their own, set and
        # cleared where the state machine enters and leaves EMIT and CLASS (valid in
        # exactly those states), so that the beat leaves from registers, not from a
        # decode of the state (which a wide design places far from the output)
        out_valid, out_class = Signal(), Signal()
        value = (f.q if one else f.held)[:lb].as_signed()
        m.d.comb += [o.valid.eq(out_valid), o.payload.is_class.eq(out_class),
                     o.payload.last.eq(out_class),
                     o.payload.value.eq(Mux(out_class, f.best_idx, value))]
        with m.State("LOAD"):
            m.d.comb += f.busy_next.eq(1)
            m.d.sync += out_valid.eq(1)
            if not one:
                m.d.sync += [f.held.eq(f.q), f.zero.eq(1), f.zero_addr.eq(read)]
            m.next = "EMIT"
        with m.State("EMIT"):
            # the beat is the low logit of `held`, which shifts down a logit per beat:
            # no lane multiplexer between the register and the output (at one lane, the
            # memory's read data)
            m.d.comb += f.busy_next.eq(1)
            # compared whether or not the beat is taken: a held beat compares again
            # and changes nothing (``best`` holds its key), so ``o.ready`` is not in
            # front of ``best``'s enable
            key = value.as_unsigned() ^ (1 << (lb - 1))
            # key > best as the borrow of best - key: one carry chain into the enable
            gt = Signal()
            m.d.comb += gt.eq((f.best - key)[lb])
            with m.If(gt):
                m.d.sync += [f.best.eq(key), f.best_idx.eq(f.idx)]
            with m.If(o.ready):
                m.d.sync += [f.idx.eq(f.idx + 1), f.lane.eq(f.lane + 1)]
                if one:     # cleared as it leaves (its read is not used again)
                    m.d.sync += [f.addr.eq(f.addr + 1), f.zero.eq(1), f.zero_addr.eq(f.addr)]
                else:
                    m.d.sync += f.held.eq(f.held >> lb)
                with m.If(f.idx == n_out - 1):
                    m.d.sync += out_valid.eq(0)
                    m.next = "ARGMAX"
                with m.Elif(f.lane == P - 1):
                    m.d.sync += out_valid.eq(0)
                    m.next = "OUTPUT"
        with m.State("ARGMAX"):  # a cycle before the class (as the cycle model counts)
            m.d.comb += f.busy_next.eq(1)
            m.d.sync += [out_valid.eq(1), out_class.eq(1), f.best.eq(0)]
            m.next = "CLASS"
        with m.State("CLASS"):
            m.d.comb += f.busy_next.eq(~o.ready)
            with m.If(o.ready):
                m.d.sync += [f.idx.eq(0), f.addr.eq(0), f.best_idx.eq(0),
                             out_valid.eq(0), out_class.eq(0)]
                m.next = "IDLE"
