"""One event-driven layer: synapse array + membrane sweep (+ readout).

A layer consumes the event stream of one time step (SPEC.md "Streams"):

* ``ACCUM``: each event ``(j, s)`` with ``s != 0`` goes to the
  :class:`~snnhw.gateware.synapse.SynapseArray` (``G`` cycles); an event with
  ``s == 0`` is accepted and dropped at once (no synapse cycle).
* On the end-of-step marker (accepted once the array is idle) the layer
  ``SWEEP``s its ``G`` groups, one per cycle: read the accumulators (and clear
  them), the bias and the membranes; next cycle ``lanes``
  :class:`~snnhw.gateware.neuron.NeuronLane` compute ``v, s, u'`` and the
  membranes are written back (zero on the last step of a sample).

A hidden layer pushes every group that has a non-zero spike into a FIFO of
``G + 2`` words and then an end-of-step word; a serializer turns the FIFO into
``(i, s)`` events and the marker at one event per cycle, so the next layer
works while this one accumulates the next step. A readout layer instead
accumulates its logits (``membrane``: the exact charge ``I``; ``spikes``: the
spike counts) and after the ``T``-th step emits the ``n_out`` logits and the
class (argmax, ties to the lowest index), clearing them as it goes.

After reset the layer first ``CLEAR``s every memory word (``G`` cycles), so a
reset in the middle of a sample leaves nothing behind.

Cycles per step (no backpressure from downstream): at most
``E * G + G + 4`` where ``E`` is the number of non-zero input events
(:mod:`snnhw.gateware.cycles`). Throughput in ``ACCUM``: ``lanes`` synapse
updates per cycle. Backpressure: ``i.ready`` is low while the array walks an
event, while sweeping and while emitting results; downstream stalls only
delay the serializer (and the sweep when the FIFO is full), never lose data.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from ..protocol.words import pack_lanes
from ..util import signed_bits
from ._checks import reject
from .layouts import event_layout, result_layout
from .neuron import NeuronLane
from .select import select_lane
from .synapse import SynapseArray

__all__ = ["LIFLayer", "SWEEP_STAGES", "fifo_depth"]

#: Pipeline stages of the sweep after a group's reads are issued: the reads land
#: in registers (1), the charge is added (the first neuron stage) and the
#: neuron lane finishes (its :data:`NeuronLane.LATENCY` stages), then write-back.
SWEEP_STAGES = 1 + NeuronLane.LATENCY + 1


def fifo_depth(groups: int) -> int:
    """Spike FIFO depth: a whole sweep, the groups in flight, the marker and one word of
    margin (the room check is registered) fit."""
    return groups + 3 + SWEEP_STAGES


class LIFLayer(wiring.Component):
    """Layer ``index`` of ``net`` in hardware (see the module docstring).

    Parameters
    ----------
    net : snnhw.ir.Network
    index : int
        Which layer. The last layer is built as the readout named by
        ``net.readout``; the others as hidden layers.
    lanes : int
        Neurons per cycle (any positive integer; need not divide ``n_out``).
    weights : str
        Where the weights live: ``"rom"`` (bitstream), ``"ram"`` or ``"spram"``
        (loaded through the synapse array's ``w_wr_*`` ports, ``self.syn``).

    Ports
    -----
    i : In(stream of :func:`event_layout` (n_in, input bits))
    o : Out(stream of events (n_out, spike_bits)) for a hidden layer, or of
        :func:`result_layout` for the readout.
    """

    def __init__(self, net: Network, index: int, *, lanes: int, weights: str = "rom"):
        if not isinstance(lanes, int) or lanes < 1:
            reject(self, f"lanes must be a positive integer, got {lanes!r}")
        layer = net.layers[index]
        self.layer, self.index, self.lanes = layer, index, lanes
        self.timesteps = net.timesteps
        self.in_bits = net.input_bits(index)
        last = index == len(net.layers) - 1
        self.readout = net.readout if last else None
        self.groups = math.ceil(layer.n_out / lanes)
        self.acc_width = signed_bits(net.current_bound(index))
        self.current_width = self.acc_width + 1
        self.logit_bits = signed_bits(net.logit_bound()) if last else 0
        self.syn = SynapseArray(layer.W, w_bits=layer.w_bits, in_bits=self.in_bits, lanes=lanes,
                                acc_width=self.acc_width, weights=weights)
        if self.readout is None:
            out_sig = stream.Signature(event_layout(layer.n_out, layer.spike_bits))
        else:
            out_sig = stream.Signature(result_layout(self.logit_bits, layer.n_out))
        super().__init__({
            "i": In(stream.Signature(event_layout(layer.n_in, self.in_bits))),
            "o": Out(out_sig),
            "sweeping": Out(1),
        })

    @property
    def fires(self) -> bool:
        return self.readout != "membrane"

    def elaborate(self, platform):
        m = Module()
        ly, P, G, T = self.layer, self.lanes, self.groups, self.timesteps
        m.submodules.syn = syn = self.syn
        ub = ly.u_bits
        padded_b = np.zeros((G * P,), dtype=np.int64)
        padded_b[: ly.n_out] = ly.b
        m.submodules.bias = bmem = memory.Memory(
            shape=unsigned(P * ub), depth=G, init=pack_lanes(padded_b.reshape(G, P), ub))
        b_rd = bmem.read_port()
        u_rd = u_wr = None
        if self.fires:
            m.submodules.membrane = umem = memory.Memory(shape=unsigned(P * ub), depth=G, init=[])
            u_rd, u_wr = umem.read_port(), umem.write_port()
        l_rd = l_wr = None
        if self.readout is not None:
            lb = self.logit_bits
            m.submodules.logits = lmem = memory.Memory(shape=unsigned(P * lb), depth=G, init=[])
            l_rd, l_wr = lmem.read_port(), lmem.write_port()

        stage0_valid = Signal()               # SWEEP issues a group's reads this cycle
        step = Signal(range(max(T, 2)))
        last_step = step == T - 1
        addr = Signal(range(G + 1))            # group counter of CLEAR / SWEEP / OUTPUT
        base = Signal(range(G * P + 1))        # addr * lanes, kept by adding
        # the sweep pipeline: stage 1 holds the group whose reads were issued last cycle
        stages = [self._stage(f"sw{n}", G, base) for n in range(1, SWEEP_STAGES + 1)]
        in_flight = Cat(*[st["valid"] for st in stages]).any()

        fifo_ = None
        if self.readout is None:
            word = {"base": len(base), "spikes": P * ly.spike_bits, "eos": 1}
            self._word = word
            m.submodules.fifo = fifo_ = fifo.SyncFIFOBuffered(width=sum(word.values()),
                                                              depth=fifo_depth(G))

        # -- input side ------------------------------------------------------------
        # The read ports always look at `addr` (reading is harmless), so that no
        # address depends on the state machine's decisions.
        m.d.comb += [syn.rd_addr.eq(addr), b_rd.addr.eq(addr)]
        if u_rd is not None:
            m.d.comb += u_rd.addr.eq(addr)
        if l_rd is not None:
            m.d.comb += l_rd.addr.eq(addr)
        room = Signal()  # the spike FIFO has room for every group in flight and the marker
        if fifo_ is not None:
            # registered, so one cycle old: one word of margin for a push in that cycle
            m.d.sync += room.eq(fifo_.level < fifo_.depth - 2 - SWEEP_STAGES)
        else:
            m.d.comb += room.eq(1)
        ev = self.i.payload
        with m.FSM(init="CLEAR"):
            with m.State("CLEAR"):
                m.d.comb += syn.rd_en.eq(1)
                if u_wr is not None:
                    m.d.comb += [u_wr.en.eq(1), u_wr.addr.eq(addr), u_wr.data.eq(0)]
                if l_wr is not None:
                    m.d.comb += [l_wr.en.eq(1), l_wr.addr.eq(addr), l_wr.data.eq(0)]
                m.d.sync += addr.eq(addr + 1)
                with m.If(addr == G - 1):
                    m.d.sync += addr.eq(0)
                    m.next = "ACCUM"
            with m.State("ACCUM"):
                m.d.comb += [syn.i.payload.index.eq(ev.index), syn.i.payload.value.eq(ev.value)]
                with m.If(ev.eos):
                    m.d.comb += self.i.ready.eq(~syn.busy)
                    with m.If(self.i.valid & ~syn.busy):
                        m.d.sync += [addr.eq(0), base.eq(0)]
                        m.next = "SWEEP"
                with m.Elif(ev.value == 0):
                    m.d.comb += self.i.ready.eq(1)
                with m.Else():
                    m.d.comb += [syn.i.valid.eq(self.i.valid), self.i.ready.eq(syn.i.ready)]
            with m.State("SWEEP"):
                m.d.comb += self.sweeping.eq(1)
                with m.If((addr < G) & room):
                    m.d.comb += [syn.rd_en.eq(1), stage0_valid.eq(1)]
                    m.d.sync += [addr.eq(addr + 1), base.eq(base + P)]
                with m.If((addr == G) & ~in_flight):
                    if fifo_ is not None:
                        m.d.comb += fifo_.w_data.eq(1 << (len(base) + P * ly.spike_bits))
                        m.d.comb += fifo_.w_en.eq(1)
                        with m.If(fifo_.w_rdy):
                            m.d.sync += step.eq(Mux(last_step, 0, step + 1))
                            m.next = "ACCUM"
                    else:
                        m.d.sync += addr.eq(0)
                        with m.If(last_step):
                            m.next = "OUTPUT"
                        with m.Else():
                            m.d.sync += step.eq(step + 1)
                            m.next = "ACCUM"
            if self.readout is not None:
                argmax = self._output_fsm(m, l_rd, l_wr, addr, step)
        if self.readout is not None:
            argmax()

        # -- sweep pipeline ---------------------------------------------------------------
        # stage 1: the reads land in registers; stage 2: charge = acc + bias, into the
        # neuron lanes (three stages); the last stage writes back and pushes the spikes.
        m.d.sync += [stages[0]["valid"].eq(stage0_valid), stages[0]["group"].eq(addr),
                     stages[0]["base"].eq(base), stages[0]["last"].eq(last_step)]
        for a, b in itertools.pairwise(stages):
            m.d.sync += [b[k].eq(a[k]) for k in a]
        out = stages[-1]
        r_acc = Signal.like(syn.rd_data)
        r_bias = Signal.like(b_rd.data)
        m.d.sync += [r_acc.eq(syn.rd_data), r_bias.eq(b_rd.data)]
        r_u = None
        if u_rd is not None:
            r_u = Signal.like(u_rd.data)
            m.d.sync += r_u.eq(u_rd.data)
        spikes, new_u, currents = [], [], []
        for lane in range(P):
            cur = Signal(signed(self.current_width), name=f"current{lane}")
            m.d.comb += cur.eq(r_acc.word_select(lane, self.acc_width).as_signed()
                               + r_bias.word_select(lane, ub).as_signed())
            if self.fires:
                nl = NeuronLane(u_bits=ub, current_width=self.current_width, k=ly.k,
                                fire_offset=ly.fire_offset, spike_bits=ly.spike_bits,
                                leak_shift=ly.leak_shift, reset=ly.reset)
                m.submodules[f"neuron{lane}"] = nl
                m.d.comb += [nl.u.eq(r_u.word_select(lane, ub).as_signed()),
                             nl.current.eq(cur), nl.last_step.eq(stages[1]["last"])]
                spikes.append(nl.s)
                new_u.append(nl.u_next)
            else:  # membrane readout: the charge, delayed to the last stage
                currents.append(self._delay(m, cur, NeuronLane.LATENCY, f"current{lane}"))
        if l_rd is not None:  # the logits read with the group, delayed to the last stage
            old = self._delay(m, l_rd.data, SWEEP_STAGES - 1, "logit_old")
        with m.If(out["valid"]):
            if self.fires:
                m.d.comb += [u_wr.en.eq(1), u_wr.addr.eq(out["group"]),
                             u_wr.data.eq(Cat(*new_u))]
            if self.readout is not None:
                lb = self.logit_bits
                adds = currents if self.readout == "membrane" else spikes
                sums = [old.word_select(lane, lb).as_signed() + adds[lane] for lane in range(P)]
                m.d.comb += [l_wr.en.eq(1), l_wr.addr.eq(out["group"]),
                             l_wr.data.eq(Cat(*[s_.as_signed()[:lb] for s_ in sums]))]
            else:
                m.d.comb += [fifo_.w_data.eq(Cat(out["base"], Cat(*spikes), 0)),
                             fifo_.w_en.eq(Cat(*spikes).any())]

        if fifo_ is not None:
            self._serializer(m, fifo_)
        return m

    @staticmethod
    def _stage(name, groups, base):
        return {"valid": Signal(name=f"{name}_valid"),
                "group": Signal(range(max(groups, 2)), name=f"{name}_group"),
                "base": Signal.like(base, name=f"{name}_base"),
                "last": Signal(name=f"{name}_last")}

    @staticmethod
    def _delay(m, value, cycles, name):
        for n in range(cycles):
            reg = Signal.like(value, name=f"{name}_d{n + 1}")
            m.d.sync += reg.eq(value)
            value = reg
        return value

    def _serializer(self, m, fifo_):
        """FIFO words -> one event per cycle (lowest lane first), then the marker."""
        ly, P = self.layer, self.lanes
        nb = self._word["base"]
        head = fifo_.r_data
        h_base = head[:nb]
        h_spikes = head[nb:nb + P * ly.spike_bits]
        h_eos = head[nb + P * ly.spike_bits]
        done = Signal(P)
        nonzero = Cat(*[h_spikes.word_select(lane, ly.spike_bits) != 0 for lane in range(P)])
        remaining = nonzero & ~done
        lane = Signal(range(max(P, 2)))
        for j in reversed(range(P)):  # the last assignment wins: the lowest set lane
            with m.If(remaining[j]):
                m.d.comb += lane.eq(j)
        bit = Signal(P)
        m.d.comb += bit.eq(1 << lane)
        o = self.o
        m.d.comb += [o.valid.eq(fifo_.r_rdy), o.payload.eos.eq(h_eos)]
        spike = select_lane(m, h_spikes, lane, ly.spike_bits, P, "head_spike")
        with m.If(~h_eos):
            m.d.comb += [o.payload.index.eq(h_base + lane), o.payload.value.eq(spike)]
        with m.If(o.valid & o.ready):
            with m.If(h_eos | (remaining == bit)):
                m.d.comb += fifo_.r_en.eq(1)
                m.d.sync += done.eq(0)
            with m.Else():
                m.d.sync += done.eq(done | bit)

    def _output_fsm(self, m, l_rd, l_wr, addr, step):
        """States OUTPUT / LOAD / EMIT / ARGMAX / CLASS of a readout: logits in order, then
        the class. Returns the argmax update, which the caller adds outside the FSM."""
        P, n_out = self.lanes, self.layer.n_out
        lb = self.logit_bits
        held = Signal(P * lb)
        lane = Signal(range(max(P, 2)))
        idx = Signal(range(n_out + 1))
        best = Signal(signed(lb), init=-(1 << (lb - 1)))
        best_idx = Signal(range(max(n_out, 2)))
        o = self.o
        with m.State("OUTPUT"):
            # read group `addr` and clear it; its data arrives next cycle
            m.d.comb += [l_wr.en.eq(1), l_wr.addr.eq(addr), l_wr.data.eq(0)]
            m.d.sync += [lane.eq(0), addr.eq(addr + 1)]
            m.next = "LOAD"
        with m.State("LOAD"):
            m.d.sync += held.eq(l_rd.data)
            m.next = "EMIT"
        # the argmax runs one beat behind the logits (no compare on the output path)
        seen, seen_idx = Signal(signed(lb)), Signal(range(max(n_out, 2)))
        seen_valid, emitted = Signal(), Signal()

        def argmax():  # the caller adds it outside the FSM
            # `best` starts at the smallest logit with index 0 (set in CLASS), so a plain
            # `>` keeps ties at the lowest index and the compare has no other input
            m.d.sync += seen_valid.eq(emitted)
            with m.If(seen_valid & (seen > best)):
                m.d.sync += [best.eq(seen), best_idx.eq(seen_idx)]
        with m.State("EMIT"):
            value = select_lane(m, held, lane, lb, P, "out_logit").as_signed()
            m.d.comb += [o.valid.eq(1), o.payload.value.eq(value)]
            with m.If(o.ready):
                m.d.sync += [idx.eq(idx + 1), lane.eq(lane + 1), seen.eq(value),
                             seen_idx.eq(idx)]
                m.d.comb += emitted.eq(1)
                with m.If(idx == n_out - 1):
                    m.next = "ARGMAX"
                with m.Elif(lane == P - 1):
                    m.next = "OUTPUT"
        with m.State("ARGMAX"):  # the last logit's compare
            m.next = "CLASS"
        with m.State("CLASS"):
            m.d.comb += [o.valid.eq(1), o.payload.value.eq(best_idx), o.payload.is_class.eq(1),
                         o.payload.last.eq(1)]
            with m.If(o.ready):
                m.d.sync += [idx.eq(0), addr.eq(0), step.eq(0), best.eq(best.init),
                             best_idx.eq(0)]
                m.next = "ACCUM"
        return argmax
