"""Cycle model of the generated hardware (documented, and tested as a bound).

Per layer and time step, with ``E`` non-zero input events and
``G = ceil(n_out / lanes)`` groups::

    layer_step = E * G          # ACCUM: one group of lanes per cycle per event
               + G              # SWEEP: one group per cycle
               + STEP_OVERHEAD  # marker accepted once the array is idle (its
                                # 7-stage pipeline), the sweep pipeline drained
                                # (6 stages), marker pushed (1)
               + X              # a longer synapse pipeline: the adder tree of
                                # inputs wider than 2 bits, a weight read of
                                # 3 cycles (LayerPlan.extra_stages)

Between layers each step's events pass a push register, a FIFO, the serializer and a
register slice (``LINK_LATENCY`` cycles). The readout emits its logits
after the last step: one cycle for ``emit``'s register, per group one read and one load
cycle, then one cycle per logit, one for the last compare of the argmax, then the class:
``2 * G + n_out + 3``.

A sample takes at most the sum of every layer's steps plus the links and the
output (layers overlap in time, so the real count is usually lower)::

    sample <= sum_l sum_t (layer_step(E[l][t], G_l) + LINK_LATENCY)
              + 2 * G_last + n_out + 3 + FIXED_LATENCY

The *ideal* count is ``sum_l sum_t E[l][t] * G_l``: every cycle of every
layer does useful synapse work. Lane utilisation is ideal / measured.
"""

from __future__ import annotations

import numpy as np

from .. import golden
from ..ir import Network
from .plan import plan_core

__all__ = ["STEP_OVERHEAD", "LINK_LATENCY", "FIXED_LATENCY", "events_per_step",
           "layer_step_bound", "output_cycles", "sample_bound", "ideal_cycles", "formula_text"]

STEP_OVERHEAD = 14
LINK_LATENCY = 6
FIXED_LATENCY = 4  # the register slices at the core's input and output, two more


def events_per_step(net: Network, x) -> np.ndarray:
    """``E[sample, layer, step]``: non-zero input events each layer sees (golden model)."""
    x = np.asarray(x)
    t = golden.run(net, x, trace=True)
    counts = [np.count_nonzero(x, axis=2)]
    for lt in t.layers[:-1]:
        counts.append(np.count_nonzero(lt.s, axis=2))
    return np.stack(counts, axis=1)


def layer_step_bound(events: int, g: int, extra: int = 0) -> int:
    """Cycles of one layer's step: ``E * G + G + STEP_OVERHEAD``, plus ``extra``: the
    synapse pipeline's extra stages (:attr:`~snnhw.gateware.plan.LayerPlan.extra_stages`;
    the marker waits for a longer pipeline)."""
    return events * g + g + STEP_OVERHEAD + extra


def output_cycles(g_last: int, n_out: int) -> int:
    """The readout's results after the last step (:class:`~snnhw.gateware.readout.Readout`)."""
    return 2 * g_last + n_out + 3


def sample_bound(net: Network, lanes, events: np.ndarray, *, after_reset: bool = False) -> int:
    """Upper bound on the cycles of one sample, ``events[layer, step]``.

    ``after_reset``: the sample is the first after reset or ``clear``, which
    adds the memory clear of the largest layer (``max G`` cycles).
    """
    plans = plan_core(net, lanes).layers
    gs = [lp.groups for lp in plans]
    total = max(gs) if after_reset else 0
    for li, lp in enumerate(plans):
        total += sum(layer_step_bound(int(e), lp.groups, lp.extra_stages) + LINK_LATENCY
                     for e in events[li])
    return total + output_cycles(gs[-1], net.n_out) + FIXED_LATENCY


def ideal_cycles(net: Network, lanes, events: np.ndarray) -> int:
    """``sum E * G`` over layers and steps (and samples, if ``events`` has them)."""
    gs = [lp.groups for lp in plan_core(net, lanes).layers]
    ev = np.asarray(events)
    per_layer = ev.sum(axis=tuple(i for i in range(ev.ndim) if i != ev.ndim - 2))
    return int(sum(int(per_layer[li]) * g for li, g in enumerate(gs)))


def formula_text() -> str:
    return ("cycles/sample <= [max G after reset] + sum_layers sum_steps "
            f"(E*G + G + {STEP_OVERHEAD} + X + {LINK_LATENCY})"
            f" + 2*G_last + n_out + 3 + {FIXED_LATENCY}; G = ceil(n_out/lanes); "
            "E = non-zero input events of the layer in the step; "
            "X = ceil(log2(input bits)) - 1, at least 0, plus 1 for a weight memory of "
            "more than 4 banks")
