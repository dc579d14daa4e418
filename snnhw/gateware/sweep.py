"""The end-of-step sweep of one layer: leak, charge, fire and reset, a group at a time.

For each command on ``cmd`` (a group ``g`` of ``lanes`` neurons) the sweep
reads the group's accumulators (through ``acc``, which clears them), its
bias and its membranes; ``lanes`` :class:`~snnhw.gateware.neuron.NeuronLane`
compute ``v, s, u'`` (SPEC "One neuron, one time step"), the membranes are
written back (zero on the last step of a sample) and the group's result goes
out on ``o``: its spikes (a layer that fires) or its charge ``I`` (a membrane
readout). A command with ``clear`` set zeroes the group's membranes and
accumulators instead (after reset).

Pipeline (:data:`~snnhw.gateware.plan.SWEEP_STAGES` stages): stage 1 holds
the command in registers and issues the bias and membrane reads from them
(the accumulator request goes to the synapse array in the command's cycle,
which registers it: :class:`~snnhw.gateware.ports.AccumulatorPort`); in
stage 2 the read data is in the memories' read registers, and the bias is
added to the charge on the way into the neuron lanes
(:data:`NeuronLane.LATENCY` stages, whose first registers the charge); the
last stage writes back and presents the result. Latency
:data:`~snnhw.gateware.plan.SWEEP_STAGES` cycles, throughput one group per
cycle. No backpressure: ``cmd`` and ``o`` are always ready, so whoever issues
commands makes room for their results first; ``busy`` is high while a
command is in flight. Every memory address is a register: nothing the
issuer decides in a cycle reaches a memory in that cycle.
"""

from __future__ import annotations

import itertools

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..ir import ConvLayer, DenseLayer
from ..protocol.words import pack_lanes
from .lutram import state_memory
from .neuron import NeuronLane
from .plan import SWEEP_STAGES, LayerPlan
from .ports import AccumulatorPort

__all__ = ["NeuronSweep", "command_layout", "result_layout"]


def command_layout(plan: LayerPlan) -> data.StructLayout:
    """Sweep group ``group`` (first neuron ``base``); ``last``: the sample's last step;
    ``clear``: zero the group instead. A conv layer's command also names the group's
    ``channel`` group, the address of its bias."""
    fields = {
        "group": range(max(plan.groups, 2)),
        "base": range(plan.base_limit),
        "last": unsigned(1),
        "clear": unsigned(1),
    }
    if plan.conv:
        fields["channel"] = range(max(plan.bias_groups, 2))
    return data.StructLayout(fields)


def result_layout(plan: LayerPlan) -> data.StructLayout:
    """One swept group: its spikes (``lanes * spike_bits``) if the layer fires, else its
    charge ``I`` (``lanes * current_width``, the membrane readout)."""
    fields = {"group": range(max(plan.groups, 2)),
              "base": range(plan.base_limit)}
    if plan.fires:
        fields["spikes"] = unsigned(plan.lanes * plan.spike_bits)
    else:
        fields["current"] = unsigned(plan.lanes * plan.current_width)
    return data.StructLayout(fields)


class NeuronSweep(wiring.Component):
    """The sweep of the layer ``layer`` planned as ``plan`` (see the module docstring).

    Ports
    -----
    cmd : In(stream of :func:`command_layout`, always ready)
    acc : Out(AccumulatorPort)
        To the synapse array's ``sweep`` port.
    o : Out(stream of :func:`result_layout`, always ready)
    busy : Out(1)
    """

    def __init__(self, plan: LayerPlan, layer: DenseLayer | ConvLayer):
        self.plan, self.layer = plan, layer
        self.bias_memory = plan.memory("bias")
        self.membrane_memory = plan.memory("membranes") if plan.fires else None
        super().__init__({
            "cmd": In(stream.Signature(command_layout(plan), always_ready=True)),
            "acc": Out(AccumulatorPort(plan.groups, plan.memory("accumulators").width)),
            "o": Out(stream.Signature(result_layout(plan), always_ready=True)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        plan, ly = self.plan, self.layer
        P, ub = plan.lanes, plan.u_bits
        cmd = self.cmd.payload
        nb = plan.bias_groups                   # one bias word a group or channel group
        padded_b = np.zeros((nb * P,), dtype=np.int64)
        padded_b[: len(ly.b)] = ly.b
        bmem = self.bias_memory
        b_rd, _ = state_memory(m, bmem, platform, "bias",
                               init=pack_lanes(padded_b.reshape(nb, P), ub))
        m.d.comb += [self.acc.addr.eq(cmd.group), self.acc.en.eq(self.cmd.valid)]

        # stage n holds the group whose command came n cycles ago (stage 1 also clears)
        # (only the valid bits have a reset: they qualify the rest)
        stages = [{"valid": Signal(name=f"sw{n}_valid"),
                   "group": Signal.like(cmd.group, name=f"sw{n}_group", reset_less=True),
                   "base": Signal.like(cmd.base, name=f"sw{n}_base", reset_less=True),
                   "last": Signal(name=f"sw{n}_last", reset_less=True)}
                  for n in range(1, SWEEP_STAGES + 1)]
        c_clear = Signal()
        m.d.sync += [stages[0]["valid"].eq(self.cmd.valid & ~cmd.clear),
                     stages[0]["group"].eq(cmd.group), stages[0]["base"].eq(cmd.base),
                     stages[0]["last"].eq(cmd.last), c_clear.eq(self.cmd.valid & cmd.clear)]
        for a, b in itertools.pairwise(stages):
            m.d.sync += [b[k].eq(a[k]) for k in a]
        # busy: whether a command will be in flight next cycle, registered (a command
        # now, or one in a stage before the last)
        m.d.sync += self.busy.eq(self.cmd.valid | Cat(*[st["valid"] for st in stages[:-1]]).any())
        out = stages[-1]
        issued = stages[0]["group"]
        if plan.conv:
            channel = Signal.like(cmd.channel, reset_less=True)
            m.d.sync += channel.eq(cmd.channel)
            m.d.comb += b_rd.addr.eq(channel)
        else:
            m.d.comb += b_rd.addr.eq(issued)
        u_rd = u_wr = None
        if plan.fires:
            umem = self.membrane_memory
            u_rd, u_wr = state_memory(m, umem, platform, "membrane")
            m.d.comb += u_rd.addr.eq(issued)

        # stage 2: the read data (each read port's register), the charge = accumulator + bias
        # computed on the way into the neuron lanes
        spikes, new_u, currents = [], [], []
        for lane in range(P):
            cur = Signal(signed(plan.current_width), name=f"current{lane}")
            m.d.comb += cur.eq(self.acc.data.word_select(lane, plan.acc_width).as_signed()
                               + b_rd.data.word_select(lane, ub).as_signed())
            if plan.fires:
                nl = NeuronLane(u_bits=ub, current_width=plan.current_width, k=ly.k,
                                fire_offset=ly.fire_offset, spike_bits=ly.spike_bits,
                                leak_shift=ly.leak_shift, reset=ly.reset)
                m.submodules[f"neuron{lane}"] = nl
                m.d.comb += [nl.u.eq(u_rd.data.word_select(lane, ub).as_signed()),
                             nl.current.eq(cur), nl.last_step.eq(stages[1]["last"])]
                spikes.append(nl.s)
                new_u.append(nl.u_next)
            else:  # membrane readout: the charge, delayed to the last stage
                currents.append(_delay(m, cur, NeuronLane.LATENCY, f"current{lane}"))

        # last stage: write back, present the result
        res = self.o.payload
        m.d.comb += [self.o.valid.eq(out["valid"]), res.group.eq(out["group"]),
                     res.base.eq(out["base"])]
        if plan.fires:
            # written at the last stage, or zero at a clear command's group; the data
            # does not wait for the valid bit (it reaches every lane's memory: at wide
            # lanes that fan-out is a path of its own)
            m.d.comb += [res.spikes.eq(Cat(*spikes)), u_wr.en.eq(out["valid"] | c_clear),
                         u_wr.addr.eq(Mux(c_clear, issued, out["group"])),
                         u_wr.data.eq(Mux(c_clear, 0, Cat(*new_u)))]
        else:
            m.d.comb += res.current.eq(Cat(*[c.as_unsigned() for c in currents]))
        return m


def _delay(m, value, cycles, name):
    for n in range(cycles):
        reg = Signal.like(value, name=f"{name}_d{n + 1}", reset_less=True)
        m.d.sync += reg.eq(value)
        value = reg
    return value
