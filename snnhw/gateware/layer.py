"""One event-driven layer: synapse array, sweep, and a spike serializer or the readout.

A layer consumes the event stream of one time step (SPEC "Streams") and is
four components joined by streams and named ports:

* :class:`~snnhw.gateware.synapse.SynapseArray`: each event ``(j, s)`` with
  ``s != 0`` is walked over the ``G = ceil(n_out / lanes)`` groups (``G``
  cycles); an event with ``s == 0`` is accepted and dropped at once.
* :class:`~snnhw.gateware.sweep.NeuronSweep`: on the end-of-step marker
  (accepted once the array is idle) the layer sweeps its ``G`` groups, one
  per cycle: accumulators, bias and membranes in, ``v, s, u'`` through
  ``lanes`` neuron lanes, membranes written back (zero on the last step).
* a hidden layer's :class:`~snnhw.gateware.serializer.SpikeSerializer`
  buffers the groups with a non-zero spike and then a marker, and sends them
  as ``(i, s)`` events at one a cycle, so the next layer works while this
  one accumulates the next step; or the last layer's
  :class:`~snnhw.gateware.readout.Readout`, which sums the logits over the
  ``T`` steps and after the last one emits the logits and the class.

The layer itself is the control: ``CLEAR`` (after reset: ``G`` cycles that
zero every memory, so a reset in the middle of a sample leaves nothing
behind), ``ACCUM`` (events to the array) and ``SWEEP`` (groups to the sweep,
then the marker to the serializer or ``emit`` to the readout).

Cycles per step (no backpressure from downstream): at most
``E * G + G + STEP_OVERHEAD`` where ``E`` is the number of non-zero input
events (:mod:`snnhw.gateware.cycles`). Throughput in ``ACCUM``: ``lanes``
synapse updates per cycle. Backpressure: ``i.ready`` is low while the array
walks an event and while sweeping (and, in the readout, on a marker while the
previous sample's results are still going out); downstream stalls only delay
the serializer (and the sweep when its FIFO is full), never lose data.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import Network
from ._checks import CheckedComponent, check_lanes
from .kinds import kind
from .layouts import event_layout, result_layout
from .plan import SWEEP_STAGES, LayerPlan
from .readout import Readout
from .serializer import SpikeSerializer
from .sweep import NeuronSweep
from .synapse import SynapseArray
from .window import position_bits

__all__ = ["LIFLayer"]


class LIFLayer(CheckedComponent):
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
        (loaded through the synapse array's ``load`` port, ``self.syn``).
    bank_words : int or None
        Words per weight memory bank (default: an SPRAM block, or 1024 words of
        block RAM; :class:`~snnhw.gateware.weights.WeightStore`).

    Attributes
    ----------
    plan : LayerPlan
        Sizes and memories (:mod:`snnhw.gateware.plan`).

    Ports
    -----
    i : In(stream of :func:`event_layout` (n_in, input bits))
    o : Out(stream of events (n_out, spike_bits)) for a hidden layer, or of
        :func:`result_layout` for the readout.
    """

    @classmethod
    def check(cls, net: Network, index: int, *, lanes: int, **_) -> None:
        check_lanes(lanes)

    def __init__(self, net: Network, index: int, *, lanes: int, weights: str = "rom",
                 bank_words: int | None = None, plan: LayerPlan | None = None):
        # ``plan``: the layer's part of the core's plan (else computed here)
        self.plan = plan = plan if plan is not None else LayerPlan.of(net, index, lanes, weights)
        self.layer, self.index, self.lanes = net.layers[index], index, lanes
        self.timesteps = net.timesteps
        self.readout = plan.readout
        self.syn = SynapseArray(kind(self.layer.kind).synapse_matrix(self.layer),
                                w_bits=plan.w_bits, in_bits=plan.syn_bits,
                                lanes=lanes, acc_width=plan.acc_width, weights=weights,
                                bank_words=bank_words, window=plan.window,
                                split_in=plan.split_in)
        self.sweep = NeuronSweep(plan, self.layer)
        if plan.readout is None:
            self.tail = SpikeSerializer(plan, reserve=SWEEP_STAGES + 1)
            out_sig = stream.Signature(event_layout(plan.out_index, plan.spike_bits))
        else:
            self.tail = Readout(plan)
            out_sig = stream.Signature(result_layout(plan.logit_bits, plan.n_out))
        # a recurrent layer's spike words of step t, replayed as its own events in t + 1
        self.replay = (SpikeSerializer(plan, reserve=SWEEP_STAGES + 1, memory="replay_fifo")
                       if plan.recurrent else None)
        super().__init__({
            "i": In(stream.Signature(event_layout(plan.in_index, plan.in_bits))),
            "o": Out(out_sig),
        })
        # measurements for the simulator, not ports: the layer waits for input with nothing
        # to do (between events, its synapse array idle), or waits for room downstream
        # (its sweep or marker held back by a full spike FIFO)
        self.starved = Signal(name="starved")
        self.blocked = Signal(name="blocked")

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        m.submodules.syn = syn = self.syn
        m.submodules.sweep = sweep = self.sweep
        hidden = plan.readout is None
        if hidden:
            m.submodules.serializer = tail = self.tail
        else:
            m.submodules.readout = tail = self.tail
        wiring.connect(m, sweep.acc, syn.sweep)
        wiring.connect(m, tail.o, wiring.flipped(self.o))
        c = self._counters(m)
        c.marker = Signal()
        c.room, c.marker_taken, c.idle = self._results(m, c.marker)
        if self.replay is not None:
            m.submodules.replay = self.replay
            c.room, c.marker_taken = self._keep_for_replay(m, c)
        with m.FSM(init="CLEAR"):
            with m.State("CLEAR"):
                m.d.comb += [sweep.cmd.valid.eq(1), sweep.cmd.payload.clear.eq(1)]
                m.d.sync += c.addr.eq(c.addr + 1)
                with m.If(c.addr == plan.groups - 1):
                    m.d.sync += c.addr.eq(0)
                    m.next = "ACCUM"
            with m.State("ACCUM"):
                self._accum_state(m, c)
            if self.replay is not None:
                with m.State("REPLAY"):
                    self._replay_state(m, c)
            with m.State("SWEEP"):
                self._sweep_state(m, c)
        return m

    def _counters(self, m) -> SimpleNamespace:
        """The step, the group counter of CLEAR / SWEEP and the group's first neuron
        (``base``, kept by adding), into the sweep's command. A conv group is ``lanes``
        channels at one position (:mod:`~snnhw.gateware.window`): the position counts up
        within a channel group, then the base jumps to the next channel group's first
        neuron; into a conv layer the base is the fields (first channel, position) side
        by side."""
        plan, P, G, T = self.plan, self.plan.lanes, self.plan.groups, self.timesteps
        c = SimpleNamespace(step=Signal(range(max(T, 2))), addr=Signal(range(G + 1)),
                            base=Signal(range(G * P + 1)), pos=None, channel=None,
                            first=None)
        c.last_step = c.step == T - 1
        cmd = self.sweep.cmd.payload
        m.d.comb += [cmd.group.eq(c.addr), cmd.base.eq(c.base), cmd.last.eq(c.last_step)]
        if plan.conv:
            npos = plan.window.positions
            c.pos = Signal(range(max(npos, 2)))
            c.channel = Signal(range(max(plan.bias_groups, 2)))
            m.d.comb += cmd.channel.eq(c.channel)
            if plan.split_out:
                c.first = Signal(range(plan.bias_groups * P + 1))   # channel * lanes
                m.d.comb += cmd.base.eq(Cat(c.pos[:position_bits(npos)], c.first))
        return c

    def _results(self, m, marker):
        """The sweep's results: spike words to the serializer (with the end-of-step
        ``marker``), or sums to the readout; returns ``(room, marker_taken, idle)``."""
        syn, sweep, tail = self.syn, self.sweep, self.tail
        if self.plan.readout is not None:
            wiring.connect(m, sweep.o, tail.i)
            return 1, 1, ~syn.busy & ~tail.busy
        res, word = sweep.o.payload, tail.i.payload
        m.d.comb += tail.i.valid.eq((sweep.o.valid & (res.spikes != 0)) | marker)
        with m.If(marker):  # an end-of-step word carries nothing else
            m.d.comb += word.eos.eq(1)
        with m.Else():
            m.d.comb += [word.base.eq(res.base), word.spikes.eq(res.spikes)]
        return tail.room, tail.i.ready, ~syn.busy

    def _accum_state(self, m, c) -> None:
        """ACCUM: events into the synapse array (zero values dropped) until the end of
        the step, taken once the array is idle."""
        ev, syn = self.i.payload, self.syn
        m.d.comb += [syn.i.payload.index.eq(ev.index), syn.i.payload.value.eq(ev.value),
                     self.starved.eq(~self.i.valid & ~syn.active)]
        with m.If(ev.eos):
            m.d.comb += self.i.ready.eq(c.idle)
            with m.If(self.i.valid & c.idle):
                if self.replay is None:
                    self._start_sweep(m, c)
                else:       # no spikes of a step before the first
                    with m.If(c.step == 0):
                        self._start_sweep(m, c)
                    with m.Else():
                        m.next = "REPLAY"
        with m.Elif(ev.value == 0):
            m.d.comb += self.i.ready.eq(1)
        with m.Else():
            m.d.comb += [syn.i.valid.eq(self.i.valid), self.i.ready.eq(syn.i.ready)]

    def _start_sweep(self, m, c) -> None:
        m.d.sync += [c.addr.eq(0), c.base.eq(0)]
        if self.plan.conv:
            m.d.sync += [c.pos.eq(0), c.channel.eq(0)]
        if self.plan.split_out:
            m.d.sync += c.first.eq(0)
        m.next = "SWEEP"

    def _keep_for_replay(self, m, c):
        """A recurrent layer keeps the spike words of every step but the sample's last,
        and the marker, in its replay FIFO (sized for a whole step, so the sweep never
        waits for it). The marker goes to the tail and the replay FIFO in the same cycle
        (``c.replay_ok`` holds the tail's back until both take it). Returns the sweep's
        ``room`` and ``marker_taken``."""
        sweep, replay = self.sweep, self.replay
        res, word = sweep.o.payload, replay.i.payload
        keep = ~c.last_step
        c.replay_ok = replay.i.ready | c.last_step
        c.sweep_end = Signal()      # SWEEP: every group swept, the marker due
        marker = c.sweep_end & c.marker_taken & keep
        m.d.comb += replay.i.valid.eq((sweep.o.valid & (res.spikes != 0) & keep) | marker)
        with m.If(marker):
            m.d.comb += word.eos.eq(1)
        with m.Else():
            m.d.comb += [word.base.eq(res.base), word.spikes.eq(res.spikes)]
        return c.room & replay.room, c.marker_taken & c.replay_ok

    def _replay_state(self, m, c) -> None:
        """REPLAY: the spikes of the step before, from the replay FIFO, into the synapse
        array as events ``n_in + i``; its marker, taken once the array is idle, starts
        the sweep."""
        ev, syn = self.replay.o.payload, self.syn
        m.d.comb += [syn.i.payload.index.eq(ev.index + self.plan.n_in),
                     syn.i.payload.value.eq(ev.value)]
        with m.If(ev.eos):
            m.d.comb += self.replay.o.ready.eq(c.idle)
            with m.If(self.replay.o.valid & c.idle):
                self._start_sweep(m, c)
        with m.Else():
            m.d.comb += [syn.i.valid.eq(self.replay.o.valid),
                         self.replay.o.ready.eq(syn.i.ready)]

    def _sweep_state(self, m, c) -> None:
        """SWEEP: a command a group while the tail has room; then the end-of-step marker
        (a hidden layer), or after the sample's last step the readout emits."""
        plan, sweep, P, G = self.plan, self.sweep, self.plan.lanes, self.plan.groups
        hidden = plan.readout is None
        m.d.comb += self.blocked.eq(Mux(c.addr < G, ~c.room, ~sweep.busy & ~c.marker_taken))
        with m.If((c.addr < G) & c.room):
            m.d.comb += sweep.cmd.valid.eq(1)
            m.d.sync += c.addr.eq(c.addr + 1)
            if not plan.conv:
                m.d.sync += c.base.eq(c.base + P)
            else:
                # (into a conv layer `first` and `pos` make the base; else a flat base
                # is kept by adding)
                npos = plan.window.positions
                with m.If(c.pos == npos - 1):
                    m.d.sync += [c.pos.eq(0), c.channel.eq(c.channel + 1)]
                    if plan.split_out:
                        m.d.sync += c.first.eq(c.first + P)
                    else:
                        m.d.sync += c.base.eq(c.base + (P - 1) * npos + 1)
                with m.Else():
                    m.d.sync += c.pos.eq(c.pos + 1)
                    if not plan.split_out:
                        m.d.sync += c.base.eq(c.base + 1)
        with m.If((c.addr == G) & ~sweep.busy):
            # every group swept: the marker goes out (a hidden layer), or after the
            # sample's last step the readout emits its results
            if self.replay is None:
                m.d.comb += c.marker.eq(hidden)
            else:
                m.d.comb += [c.marker.eq(hidden & c.replay_ok), c.sweep_end.eq(1)]
            if not hidden:
                m.d.comb += self.tail.emit.eq(c.last_step)
            with m.If(c.marker_taken):
                m.d.sync += c.step.eq(Mux(c.last_step, 0, c.step + 1))
                m.next = "ACCUM"
