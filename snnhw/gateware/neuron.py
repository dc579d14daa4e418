"""One neuron lane: leak, saturate, fire, reset (SPEC.md "One neuron, one time step").

Purely combinational: the layer instantiates ``lanes`` of them side by side in
its sweep. Shifts and adds only; the threshold is ``2**k`` so firing is an
arithmetic right shift.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import reject

__all__ = ["NeuronLane"]


class NeuronLane(wiring.Component):
    """Combinational LIF update of one neuron for one step.

    Parameters
    ----------
    u_bits, k, fire_offset, spike_bits, leak_shift, reset
        The IR layer's fields (SPEC.md).
    current_width : int
        Signed width of the step's exact charge ``I`` (including the bias).

    Ports
    -----
    u : In(signed(u_bits))
        Membrane after the previous step.
    current : In(signed(current_width))
        ``I`` of this step.
    last_step : In(1)
        Last step of the sample: ``u_next`` is 0, ready for the next sample.
    v : Out(signed(u_bits))
        Saturated membrane before firing.
    s : Out(unsigned(spike_bits))
        Multi-bit spike.
    u_next : Out(signed(u_bits))
        Membrane after the reset.

    Latency 0 (combinational); one neuron per cycle per lane.
    """

    def __init__(self, *, u_bits: int, current_width: int, k: int, fire_offset: int,
                 spike_bits: int, leak_shift: int | None, reset: str):
        if not 8 <= u_bits <= 32:
            reject(self, f"u_bits must be in 8..32, got {u_bits}")
        if not 0 <= k <= u_bits - 2:
            reject(self, f"k must be in 0..{u_bits - 2}, got {k}")
        if not 0 <= fire_offset < (1 << k):
            reject(self, f"fire_offset must be in 0..{(1 << k) - 1}, got {fire_offset}")
        if reset not in ("soft", "hard"):
            reject(self, f"reset must be 'soft' or 'hard', got {reset!r}")
        self.u_bits, self.k, self.fire_offset = u_bits, k, fire_offset
        self.spike_bits, self.leak_shift, self.reset = spike_bits, leak_shift, reset
        super().__init__({
            "u": In(signed(u_bits)),
            "current": In(signed(current_width)),
            "last_step": In(1),
            "v": Out(signed(u_bits)),
            "s": Out(unsigned(spike_bits)),
            "u_next": Out(signed(u_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        lo, hi = -(1 << (self.u_bits - 1)), (1 << (self.u_bits - 1)) - 1
        s_max = (1 << self.spike_bits) - 1
        u = self.u
        u_l = u if self.leak_shift is None else u - (u >> self.leak_shift)
        total = u_l + self.current
        m.d.comb += self.v.eq(Mux(total > hi, hi, Mux(total < lo, lo, total)))
        fired = (self.v + self.fire_offset) >> self.k
        m.d.comb += self.s.eq(Mux(fired < 0, 0, Mux(fired > s_max, s_max, fired)))
        if self.reset == "soft":
            after = self.v - (self.s << self.k)
        else:
            after = Mux(self.s != 0, 0, self.v)
        m.d.comb += self.u_next.eq(Mux(self.last_step, 0, after))
        return m
