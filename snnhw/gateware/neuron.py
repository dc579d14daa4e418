"""One neuron lane: leak, saturate, fire, reset (docs/arithmetic.md "One neuron, one time step").

A four-stage pipeline, at most one adder per stage: the layer instantiates
``lanes`` of them side by side in its sweep. Shifts and adds only; the
threshold is ``2**k`` so firing is an arithmetic right shift.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib.wiring import In, Out

from ._checks import CheckedComponent
from .compare import saturate

__all__ = ["NeuronLane"]


class NeuronLane(CheckedComponent):
    """Pipelined LIF update of one neuron for one step.

    Parameters
    ----------
    u_bits, k, fire_offset, spike_bits, leak_shift, reset
        The IR layer's fields (docs/arithmetic.md).
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

    Latency :data:`LATENCY` cycles (the outputs belong to the inputs of that
    many cycles earlier), one neuron per cycle per lane, no stalls:

    1. leak ``u - (u >> L)``; the charge is registered alongside;
    2. add the charge (one carry chain into a register);
    3. ``v``: saturate;
    4. ``s``: add the fire offset, shift by ``k`` and clamp; ``u_next``
       (the reset) is computed from these registers.

    The registers have no reset: whoever feeds the lane knows which of its
    outputs are valid (the sweep's stage valid bits), and a reset net into each
    of them would only cost routing.
    """

    LATENCY = 4

    @classmethod
    def check(cls, *, u_bits: int, k: int, fire_offset: int, reset: str, **_) -> None:
        if not 8 <= u_bits <= 32:
            raise ValueError(f"u_bits must be in 8..32, got {u_bits}")
        if not 0 <= k <= u_bits - 2:
            raise ValueError(f"k must be in 0..{u_bits - 2}, got {k}")
        if not 0 <= fire_offset < (1 << k):
            raise ValueError(f"fire_offset must be in 0..{(1 << k) - 1}, got {fire_offset}")
        if reset not in ("soft", "hard"):
            raise ValueError(f"reset must be 'soft' or 'hard', got {reset!r}")

    def __init__(self, *, u_bits: int, current_width: int, k: int, fire_offset: int,
                 spike_bits: int, leak_shift: int | None, reset: str):
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
        s_max = (1 << self.spike_bits) - 1
        ub = self.u_bits
        # stage 1: leak
        u = self.u
        u_l = Signal(signed(ub + 1), reset_less=True)
        cur = Signal.like(self.current, reset_less=True)
        last1 = Signal(reset_less=True)
        m.d.sync += [u_l.eq(u if self.leak_shift is None else u - (u >> self.leak_shift)),
                     cur.eq(self.current), last1.eq(self.last_step)]
        # stages 2 and 3: add the charge, then saturate
        # (the range checks test the bits above the membrane's width: a compare against a
        # constant would be a second carry chain behind the adder's)
        total = Signal(signed(max(len(u_l), len(cur)) + 1), reset_less=True)
        last_t = Signal(reset_less=True)
        m.d.sync += [total.eq(u_l + cur), last_t.eq(last1)]
        last2 = Signal(reset_less=True)
        v2 = Signal(signed(ub), reset_less=True)
        m.d.sync += [v2.eq(saturate(total, ub)), last2.eq(last_t)]
        # stage 4: fire
        fired = Signal(signed(ub + 1 - self.k))
        m.d.comb += fired.eq((v2 + self.fire_offset) >> self.k)
        v3 = Signal(signed(ub), reset_less=True)
        last3 = Signal(reset_less=True)
        s3 = Signal(unsigned(self.spike_bits), reset_less=True)
        above = fired[self.spike_bits:].any() if len(fired) > self.spike_bits else 0
        m.d.sync += [s3.eq(Mux(fired[-1], 0, Mux(above, s_max, fired[:self.spike_bits]))),
                     v3.eq(v2), last3.eq(last2)]
        m.d.comb += [self.s.eq(s3), self.v.eq(v3)]
        if self.reset == "soft":
            after = v3 - (s3 << self.k)
        else:
            after = Mux(s3 != 0, 0, v3)
        m.d.comb += self.u_next.eq(Mux(last3, 0, after))
        return m
