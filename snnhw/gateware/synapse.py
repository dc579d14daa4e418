"""Accumulate-only synapse array: ``lanes`` accumulators fed from block RAM.

For an input event ``(j, s)`` the array walks the ``G = ceil(n_out/lanes)``
groups of ``lanes`` neurons, one group per cycle: it reads the weights
``W[g*lanes + l, j]`` of row ``j`` for every lane ``l`` and the group's
accumulators, and adds ``W << b`` for every set bit ``b`` of ``s``. There is
no multiplier: the product with a multi-bit spike is a sum of shifted copies.

Memories (synchronous read ports, so they map to block RAM):

* weights: ``G * n_in`` words of ``lanes * w_bits``; word ``g * n_in + j``
  holds row ``j`` of group ``g`` (the address advances by ``n_in`` per group,
  an add, not a multiply; :func:`snnhw.protocol.words.weight_words`). They live in a
  :class:`~snnhw.gateware.weights.WeightStore`: block RAM initialised by the
  bitstream, or a memory (iCE40UP5K SPRAM) the host loads at run time;
* accumulators: ``G`` words of ``lanes * acc_width``.

Timing (a pipeline of seven stages, so that no path has more than one adder
and every block RAM output lands directly in a register):

* Q holds the accepted event (a conv layer reads its event table here), so
  that the input's valid and payload end in registers beside the input and
  the walk starts from flip-flops;
* A issues the weight read of one group per cycle;
* B (:attr:`WeightStore.latency` cycles: a register per memory bank, then the
  bank select) takes the weights into registers;
* C sums the shifted weights (a balanced adder tree over the spike bits, one
  adder level per cycle: :meth:`SynapseArray.tree_stages` more cycles for
  inputs wider than 2 bits) into a register and, in its last cycle, issues
  the accumulator read of the group;
* D takes the accumulators from the read port into a register;
* E adds the sum to the accumulators into a register;
* F writes that register back. An update of the same group still in F, or
  written after this group's read was issued (updates of one group less
  than four cycles apart, which needs ``G <= 3``), is newer than what was
  read: the newest is used instead (bypass registers, built only for the
  ``G`` that needs them; the choice settled a cycle ahead, so that E is at
  most one multiplexer and one adder).

Throughput: one group per cycle; a new event leaves Q in the cycle that
issues the last group of the previous one, so ``E`` events take ``E * G``
cycles back to back. Latency: :attr:`SynapseArray.latency` cycles from
acceptance to the last write. Backpressure: ``i.ready`` is low while Q
holds an event that the walk cannot take yet.

The ``sweep`` port (:class:`~snnhw.gateware.ports.AccumulatorPort`) reads one
group of accumulators and clears it: the request is registered, the read and
the clear happen the next cycle, the data the cycle after; use it only while
``busy`` is low. The accumulator memory's read address is always a register
(set a cycle ahead), so on ECP5 a LUT RAM read starts at a flip-flop. ``load``
writes weight words (:class:`~snnhw.gateware.ports.WeightLoadPort`) when they
are not in the bitstream.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..protocol.streams import index_width
from ..protocol.words import conv_weight_words, weight_words
from ..util import signed_range
from ._checks import CheckedComponent, check_lanes
from .lutram import LUTRAM_BANK_WORDS, state_memory
from .plan import event_table_fields, synapse_memories, tree_stages
from .ports import AccumulatorPort, WeightLoadPort
from .weights import WeightStore
from .window import ConvWindow, position_bits

__all__ = ["SynapseArray", "LUTRAM_BANK_WORDS"]


def _pair_level(terms):
    """One level of a balanced adder tree: neighbours added in pairs (an odd one passes)."""
    terms = list(terms)
    pairs = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
    return pairs + ([terms[-1]] if len(terms) % 2 else [])


def _tree_sum(terms):
    """Sum ``terms`` as a balanced tree of two-input adders (depth ceil(log2 n))."""
    terms = list(terms)
    if not terms:
        return 0
    while len(terms) > 1:
        terms = _pair_level(terms)
    return terms[0]


class SynapseArray(CheckedComponent):
    """See the module docstring.

    Parameters
    ----------
    W : ndarray, ``[n_out, n_in]``
        Signed integer weights (``w_bits`` two's complement).
    w_bits : int
    in_bits : int
        Width of the input spike values.
    lanes : int
        Neurons updated per cycle.
    acc_width : int
        Signed accumulator width; must hold every partial sum.
    weights : str
        Where the weights live (:class:`~snnhw.gateware.weights.WeightStore`
        kinds): ``"rom"`` (in the bitstream), ``"ram"`` or ``"spram"`` (loaded
        at run time through ``load``, word layout
        :func:`snnhw.protocol.words.weight_words`).
    bank_words : int
        SPRAM words per block (:class:`~snnhw.gateware.weights.WeightStore`).
    """

    tree_stages = staticmethod(tree_stages)

    @property
    def latency(self) -> int:
        """Cycles from accepting an event to its last accumulator write."""
        return 7 + self.store.latency + self.tree_stages(self.in_bits)

    @classmethod
    def check(cls, W, *, w_bits: int, lanes: int, window: ConvWindow | None = None,
              **_) -> None:
        W = np.asarray(W)
        dims = 2 if window is None else 4
        if W.ndim != dims:
            raise ValueError(f"W must be {dims}-D, got shape {W.shape}")
        check_lanes(lanes)
        lo, hi = signed_range(w_bits)
        if W.size and (W.min() < lo or W.max() > hi):
            raise ValueError(f"weights exceed w_bits={w_bits}")

    def __init__(self, W, *, w_bits: int, in_bits: int, lanes: int, acc_width: int,
                 weights: str = "rom", bank_words: int | None = None,
                 window: ConvWindow | None = None, split_in: bool = False):
        W = np.asarray(W, dtype=np.int64)
        self.window, self.split_in = window, split_in and window is not None
        if window is None:
            self.n_out, self.n_in = W.shape
            self.groups = math.ceil(self.n_out / lanes)
            init = weight_words(W, lanes, w_bits)
        else:
            self.n_in = int(np.prod(window.in_shape))
            self.n_out = int(np.prod(window.out_shape))
            self.groups = window.groups
            init = conv_weight_words(W, lanes, w_bits)
        self.lanes, self.w_bits, self.in_bits, self.acc_width = lanes, w_bits, in_bits, acc_width
        mems = synapse_memories(n_in=self.n_in, n_out=self.n_out, lanes=lanes, w_bits=w_bits,
                                acc_width=acc_width, weights=weights, window=window,
                                split_in=self.split_in)
        self.weight_memory, self.acc_memory = mems[:2]
        self.table_memory = mems[2] if window is not None else None
        self.channel_memory = mems[3] if self.split_in else None
        if self.split_in:   # input index: channel << position_bits | position
            self.pos_bits = position_bits(window.in_shape[1] * window.in_shape[2])
        in_index = window.split_in_index if self.split_in else self.n_in
        self.store = WeightStore(self.weight_memory, bank_words=bank_words,
                                 init=init if weights == "rom" else None)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({
                "index": unsigned(index_width(in_index)),
                "value": unsigned(in_bits)}))),
            "sweep": In(AccumulatorPort(self.groups, self.acc_memory.width)),
            "load": In(WeightLoadPort(len(self.store.rd_addr), self.weight_memory.width)),
            "busy": Out(1),
            "active": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.weights = store = self.store
        wiring.connect(m, wiring.flipped(self.load), store.load)
        a_rd, a_wr = state_memory(m, self.acc_memory, platform, "acc")

        # stage A: the event being walked over its groups, one a cycle: the weight address
        # goes to the store, the group (the accumulator address) down the pipeline
        p = SimpleNamespace(a_valid=Signal(), a_value=Signal(self.in_bits, reset_less=True),
                            a_group=Signal(range(max(self.groups, 2)), reset_less=True))
        if self.window is None:
            pending = self._dense_walk(m, p.a_valid, p.a_value, p.a_group)
        else:
            pending = self._conv_walk(m, p.a_valid, p.a_value, p.a_group, platform)
        m.d.comb += self.active.eq(p.a_valid)
        self._weight_read(m, p)
        self._adder_tree(m, p, a_rd)
        self._accumulate(m, p, a_rd, a_wr)

        # sweep port: the request registered, then the group read, then cleared (only
        # while not busy). The clear comes the cycle after the read, not with it: the
        # memory need not return the old word of a word written in the same cycle
        # (collision_free_read), and no update is in flight to write meanwhile
        sweep_en, clear_en = Signal(), Signal()
        clear_addr = Signal.like(p.raddr, name="acc_clear_addr", reset_less=True)
        m.d.sync += [sweep_en.eq(self.sweep.en), clear_en.eq(sweep_en),
                     clear_addr.eq(p.raddr)]
        with m.If(clear_en):
            m.d.comb += [a_wr.en.eq(1), a_wr.addr.eq(clear_addr), a_wr.data.eq(0)]
        # busy: whether a stage after the first is full, from a register holding whether
        # one will be next cycle (the stages fill only from the one before or from a sweep
        # request), or the first stage (a_valid, or a conv layer's accepted event in q):
        # the layer's control logic starts at flip-flops, and nothing the input offers
        # reaches the busy register in the cycle it is offered
        later = Signal()
        m.d.comb += self.busy.eq(later | pending | p.a_valid)
        m.d.sync += later.eq(pending | p.a_valid | Cat(*p.b_valid).any()
                             | p.c_valid | Cat(*p.tree_valid).any() | p.d_valid | p.e_valid
                             | self.sweep.en)
        m.d.comb += self.sweep.data.eq(a_rd.data)
        return m

    def _weight_read(self, m, p) -> None:
        """Stage B (``WeightStore.latency`` cycles): the weights are read into registers
        of stage C with the event's value and group."""
        valid, value, group = p.a_valid, p.a_value, p.a_group
        p.b_valid = []
        for n in range(self.store.latency):
            nxt = (Signal(name=f"b{n}_valid"),
                   Signal(self.in_bits, name=f"b{n}_value", reset_less=True),
                   Signal.like(p.a_group, name=f"b{n}_group"))
            m.d.sync += [nxt[0].eq(valid), nxt[1].eq(value), nxt[2].eq(group)]
            valid, value, group = nxt
            p.b_valid.append(valid)
        p.b_last = (valid, group)
        p.c_valid, p.c_group = Signal(), Signal.like(p.a_group)
        p.c_value = Signal(self.in_bits, reset_less=True)
        p.c_w = Signal(self.lanes * self.w_bits, reset_less=True)
        m.d.sync += [p.c_valid.eq(valid), p.c_value.eq(value), p.c_group.eq(group),
                     p.c_w.eq(self.store.rd_data)]

    def _adder_tree(self, m, p, a_rd) -> None:
        """Stage C: the shifted weights per lane, summed one adder level a cycle (more
        than one cycle when in_bits > 2: :meth:`tree_stages`); the last of these cycles,
        the read stage R, issues the accumulator read of the group. Stage D holds the
        sums. (The data registers from here on have no reset: their valid bits qualify
        them.)"""
        aw_ = self.acc_width
        level = []
        for lane in range(self.lanes):
            w = p.c_w.word_select(lane, self.w_bits).as_signed()
            level.append([Mux(p.c_value[bit], w << bit, 0) for bit in range(self.in_bits)])
        r_valid, r_group = p.c_valid, p.c_group
        r_next = p.b_last                           # what r_valid, r_group take next
        p.tree_valid = []
        for n in range(self.tree_stages(self.in_bits)):
            nxt = []
            for lane, terms in enumerate(level):
                regs = []
                for k, t in enumerate(_pair_level(terms)):
                    reg = Signal(signed(aw_), name=f"t{n}_{lane}_{k}", reset_less=True)
                    m.d.sync += reg.eq(t)
                    regs.append(reg)
                nxt.append(regs)
            level = nxt
            v, g = Signal(name=f"t{n}_valid"), Signal.like(p.a_group, name=f"t{n}_group")
            m.d.sync += [v.eq(r_valid), g.eq(r_group)]
            r_next = (r_valid, r_group)
            r_valid, r_group = v, g
            p.tree_valid.append(v)
        p.r_valid, p.r_group = r_valid, r_group
        p.d_valid, p.d_group = Signal(), Signal.like(p.a_group)
        m.d.sync += [p.d_valid.eq(r_valid), p.d_group.eq(r_group)]
        p.d_sum = []
        for lane, terms in enumerate(level):
            reg = Signal(signed(aw_), name=f"d_sum{lane}", reset_less=True)
            m.d.sync += reg.eq(_tree_sum(terms))     # one adder at most (two terms left)
            p.d_sum.append(reg)
        # the read address is a register, set a cycle ahead: the group of the update
        # that will be in R, else the sweep port's request (never both: the port is
        # used only while the array is idle)
        p.raddr = Signal.like(p.a_group, name="acc_raddr")
        m.d.sync += p.raddr.eq(Mux(r_next[0], r_next[1], self.sweep.addr))
        m.d.comb += a_rd.addr.eq(p.raddr)

    def _accumulate(self, m, p, a_rd, a_wr) -> None:
        """Stages D to F: the accumulators read in C land in a register (D), the sums are
        added to the newest value (E) and written back (F).

        Updates of one group come at least G cycles apart (an event walks all G groups),
        so a write the read missed exists only for G <= 3: one in the read's own cycle
        (k = 3 cycles apart), one in this cycle (k = 2), or the update now in E (k = 1,
        it will be in F). Only the bypasses a layer's G allows are built. Only updates
        write while updates are in flight (the sweep port waits for ``busy`` to fall),
        so the compares look at stage F alone."""
        P, G, aw_ = self.lanes, self.groups, self.acc_width
        p.e_valid, e_group = Signal(), Signal.like(p.a_group)
        e_sum = [Signal(signed(aw_), name=f"e_sum{lane}", reset_less=True) for lane in range(P)]
        e_raw = Signal(P * aw_, reset_less=True)
        m.d.sync += [p.e_valid.eq(p.d_valid), e_group.eq(p.d_group), e_raw.eq(a_rd.data)]
        m.d.sync += [e.eq(d) for e, d in zip(e_sum, p.d_sum)]
        f_valid, f_group = Signal(), Signal.like(p.a_group)
        f_new = [Signal(signed(aw_), name=f"f_acc{lane}", reset_less=True) for lane in range(P)]
        f_word = Cat(*[v.as_unsigned() for v in f_new])
        acc_in = e_raw
        near = 1 if self.window is not None else G   # fewest cycles between two updates
        if near <= 3:                                  # of one group
            fwd_a_valid, fwd_a = Signal(), Signal(P * aw_)  # write in the read's cycle
            m.d.sync += [fwd_a_valid.eq(p.r_valid & f_valid & (f_group == p.r_group)),
                         fwd_a.eq(f_word)]
            e_old_valid, e_old = Signal(), Signal(P * aw_)
            with m.If(f_valid & (f_group == p.d_group)):      # write in this cycle: newer
                m.d.sync += [e_old_valid.eq(p.d_valid), e_old.eq(f_word)]
            with m.Else():
                m.d.sync += [e_old_valid.eq(p.d_valid & fwd_a_valid), e_old.eq(fwd_a)]
            acc_in = Mux(e_old_valid, e_old, e_raw)
        # stage E: add to the newest accumulator value, into a register
        m.d.sync += [f_valid.eq(p.e_valid), f_group.eq(e_group)]
        if near == 1:
            e_from_f = Signal()                   # newest of all: the update now in F
            same = (p.d_group == e_group) if G > 1 else 1
            m.d.sync += e_from_f.eq(p.d_valid & p.e_valid & same)
        for lane in range(P):
            acc = acc_in.word_select(lane, aw_).as_signed()
            if near == 1:
                acc = Mux(e_from_f, f_new[lane], acc)
            m.d.sync += f_new[lane].eq(acc + e_sum[lane])
        # stage F: write back
        m.d.comb += [a_wr.en.eq(f_valid), a_wr.addr.eq(f_group), a_wr.data.eq(f_word)]

    def _dense_walk(self, m, a_valid, a_value, a_group):
        """Stage A of a dense layer: an accepted event ``(j, s)`` walks the groups
        ``0 .. G-1``, the weight address from ``j`` up by ``n_in`` a group."""
        G, n_in, store = self.groups, self.n_in, self.store
        a_addr = Signal(range(max(G * n_in, 2)), reset_less=True)
        # q: the accepted event, held while the walk is busy. The walk starts from q's
        # registers, so the input's valid and payload reach only q (a long route from
        # the input to the walk's address registers would set Fmax)
        q_valid = Signal()
        q_index = Signal.like(self.i.payload.index, name="q_index", reset_less=True)
        q_value = Signal(self.in_bits, name="q_value", reset_less=True)
        # whether a_group is the last group, kept in a register (from the compare with
        # G - 2 a cycle ahead), so that `i.ready` comes from flip-flops
        last_group = Signal()
        q_go = q_valid & (~a_valid | last_group)
        m.d.comb += self.i.ready.eq(~q_valid | q_go)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [q_valid.eq(1), q_index.eq(self.i.payload.index),
                         q_value.eq(self.i.payload.value)]
        with m.Elif(q_go):
            m.d.sync += q_valid.eq(0)
        with m.If(a_valid):
            m.d.sync += [a_group.eq(a_group + 1), a_addr.eq(a_addr + n_in)]
            with m.If(last_group):
                m.d.sync += a_valid.eq(0)
        with m.If(a_valid):
            m.d.sync += last_group.eq(a_group == G - 2)
        with m.If(q_go):
            m.d.sync += [a_valid.eq(1), a_group.eq(0), last_group.eq(G == 1),
                         a_addr.eq(q_index), a_value.eq(q_value)]
        m.d.comb += store.rd_addr.eq(a_addr)
        return q_valid

    def _conv_walk(self, m, a_valid, a_value, a_group, platform):
        """Stage A of a conv layer (:mod:`~snnhw.gateware.window`): an accepted event
        reads its row of the event table (a cycle in ``q``), then walks its groups with
        counters and constant adds: channel groups innermost, then columns, then rows.
        An event that reaches no output leaves ``q`` without a walk."""
        win, store = self.window, self.store
        gc_n, steps = win.channel_groups, win.steps
        fields = event_table_fields(win)
        layout = data.StructLayout({k: unsigned(v) for k, v in fields.items()})
        t = win.table()
        if self.split_in:
            # the table of input channel 0's positions (the rest differ only by the
            # channel's weight offset, from a second table)
            t = {k: v[:win.in_shape[1] * win.in_shape[2]] for k, v in t.items()}
        words = []
        for j in range(len(t["w0"])):
            row = {"w0": int(t["w0"][j]), "a0": int(t["a0"][j]),
                   "nx": max(int(t["nx"][j]) - 1, 0), "left": max(int(t["visits"][j]) - 1, 0),
                   "none": int(t["visits"][j] == 0)}
            word, shift = 0, 0
            for k, width in fields.items():
                word |= row[k] << shift
                shift += width
            words.append(word)
        spec = self.table_memory
        m.submodules.events = tbl = memory.Memory(shape=unsigned(spec.width), depth=spec.depth,
                                                  init=words, attrs=spec.attrs(platform))
        rd = tbl.read_port()
        q = data.View(layout, rd.data)
        index = self.i.payload.index
        if self.split_in:
            cspec = self.channel_memory
            m.submodules.channels = ctbl = memory.Memory(
                shape=unsigned(cspec.width), depth=cspec.depth,
                init=[ci * win.taps for ci in range(cspec.depth)], attrs=cspec.attrs(platform))
            crd = ctbl.read_port()
            m.d.comb += [crd.addr.eq(index[self.pos_bits:]), crd.en.eq(rd.en)]
            m.d.comb += rd.addr.eq(index[:self.pos_bits])
            w_first = q.w0 + crd.data                # the channel's weights, then the tap
        else:
            m.d.comb += rd.addr.eq(index)
            w_first = q.w0

        # q: the accepted event, its table row in the read port's register (held while
        # the walk is busy)
        q_valid, q_value = Signal(), Signal(self.in_bits, reset_less=True)
        a_last = Signal()                        # the walk is at its last group
        free = ~a_valid | a_last
        q_go = q_valid & (free | q.none)         # q leaves: into the walk, or dropped
        m.d.comb += [self.i.ready.eq(~q_valid | q_go), rd.en.eq(self.i.ready)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [q_valid.eq(1), q_value.eq(self.i.payload.value)]
        with m.Elif(q_go):
            m.d.sync += q_valid.eq(0)

        w_addr, w_col, w_row = (Signal(len(store.rd_addr), name=f"w_{n}", reset_less=True)
                                for n in ("addr", "col", "row"))
        a_col, a_row = (Signal.like(a_group, name=f"a_{n}") for n in ("col", "row"))
        g = Signal(range(max(gc_n, 2)), reset_less=True)
        col, nx = Signal(len(q.nx), reset_less=True), Signal(len(q.nx), reset_less=True)
        left = Signal(len(q.left), reset_less=True)
        m.d.comb += store.rd_addr.eq(w_addr)
        with m.If(a_valid):
            m.d.sync += [left.eq(left - 1), a_last.eq(left == 1)]
            with m.If(a_last):
                m.d.sync += a_valid.eq(0)
            with m.Elif(g != gc_n - 1):          # the next channel group
                m.d.sync += [g.eq(g + 1), w_addr.eq(w_addr + steps["w_group"]),
                             a_group.eq(a_group + steps["a_group"])]
            with m.Elif(col != nx):              # the next column (to the left)
                w_next, a_next = w_col + steps["w_col"], a_col + steps["a_col"]
                m.d.sync += [g.eq(0), col.eq(col + 1), w_col.eq(w_next), a_col.eq(a_next),
                             w_addr.eq(w_next), a_group.eq(a_next)]
            with m.Else():                       # the next row (up), first column again
                w_next, a_next = w_row + steps["w_row"], a_row + steps["a_row"]
                m.d.sync += [g.eq(0), col.eq(0), w_row.eq(w_next), a_row.eq(a_next),
                             w_col.eq(w_next), a_col.eq(a_next), w_addr.eq(w_next),
                             a_group.eq(a_next)]
        with m.If(q_go & ~q.none):
            m.d.sync += [a_valid.eq(1), a_value.eq(q_value), g.eq(0), col.eq(0), nx.eq(q.nx),
                         left.eq(q.left), a_last.eq(q.left == 0),
                         w_addr.eq(w_first), w_col.eq(w_first), w_row.eq(w_first),
                         a_group.eq(q.a0), a_col.eq(q.a0), a_row.eq(q.a0)]
        return q_valid
