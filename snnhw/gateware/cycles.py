"""Cycle model of the generated hardware (documented, and tested as a bound).

Per layer and time step, with ``E`` non-zero input events (a recurrent layer's
include its own non-zero spikes of the step before, which it replays) and ``G`` groups
of ``lanes`` neurons (``ceil(n_out / lanes)``; a conv layer's ``Gc * OH * OW``,
``Gc = ceil(C_out / lanes)``)::

    layer_step = S              # ACCUM: one group of lanes per cycle per event:
                                # S = E * G (dense); for a conv layer the groups
                                # each event's window reaches, at most
                                # E * ceil(KH/SH) * ceil(KW/SW) * Gc
               + G              # SWEEP: one group per cycle
               + STEP_OVERHEAD  # marker accepted once the array is idle (its
                                # 8-stage pipeline), the sweep pipeline drained
                                # (6 stages), marker pushed (1)
               + X              # a longer synapse pipeline: the adder tree of
                                # inputs wider than 2 bits, a weight read of
                                # 3 or 4 cycles (LayerPlan.extra_stages)

A recurrent layer adds ``REPLAY_OVERHEAD + X`` to every step after the first (its
replay marker waits for the synapse pipeline like the step's marker).

Between layers each step's events pass a push register, a FIFO, the serializer and a
register slice (``LINK_LATENCY`` cycles, one more above eight lanes:
:func:`link_latency`). The readout emits its logits after the last step: one
cycle for ``emit``'s register, per group one read and one load cycle, then one
cycle per logit, one for the last compare of the argmax, then the class:
``2 * G + n_out + 3``.

A sample takes at most the sum of every layer's steps plus the links and the
output (layers overlap in time, so the real count is usually lower)::

    sample <= sum_l sum_t (layer_step(S[l][t], G_l) + LINK_LATENCY)
              + 2 * G_last + n_out + 3 + FIXED_LATENCY

The *ideal* count is ``sum_l sum_t S[l][t]``: every cycle of every layer
does useful synapse work. Lane utilisation is ideal / measured.
"""

from __future__ import annotations

import numpy as np

from .. import golden
from ..ir import Network
from .plan import COUNT_ONE_STAGE_LANES, plan_core

__all__ = ["STEP_OVERHEAD", "REPLAY_OVERHEAD", "LINK_LATENCY", "FIXED_LATENCY", "events_per_step",
           "walk_cycles", "layer_step_bound", "link_latency", "output_cycles", "sample_bound",
           "ideal_cycles", "formula_text"]

STEP_OVERHEAD = 15
#: a recurrent layer's replay of the step before (every step but the first): the
#: replay FIFO's head to the array, and its marker taken once the array is idle
REPLAY_OVERHEAD = 9
LINK_LATENCY = 6
FIXED_LATENCY = 4  # the register slices at the core's input and output, two more


def _layer_inputs(net: Network, x) -> list[np.ndarray]:
    """Per layer, its input spikes ``[sample, step, n_in]`` (golden model); a recurrent
    layer's also its own spikes of the step before (``[sample, step, n_in + n_out]``,
    the events it replays)."""
    x = np.asarray(x)
    t = golden.run(net, x, trace=True)
    ins = [x] + [lt.s for lt in t.layers[:-1]]
    for i, (ly, lt) in enumerate(zip(net.layers, t.layers)):
        if ly.feedback is not None:
            before = np.zeros_like(lt.s)
            before[:, 1:] = lt.s[:, :-1]
            ins[i] = np.concatenate([ins[i], before], axis=2)
    return ins


def events_per_step(net: Network, x) -> np.ndarray:
    """``E[sample, layer, step]``: non-zero input events each layer sees (golden model)."""
    return np.stack([np.count_nonzero(s, axis=2) for s in _layer_inputs(net, x)], axis=1)


def walk_cycles(net: Network, lanes, x) -> np.ndarray:
    """``S[sample, layer, step]``: the synapse array's cycles, exactly: ``E * G`` for a
    dense layer, for a conv layer the groups each event's window reaches
    (:meth:`~snnhw.gateware.window.ConvWindow.table`)."""
    out = []
    for lp, s in zip(plan_core(net, lanes).layers, _layer_inputs(net, x)):
        live = s != 0
        if lp.window is None:
            out.append(np.count_nonzero(live, axis=2) * lp.groups)   # replayed ones too
        else:
            out.append(live.astype(np.int64) @ lp.window.table()["visits"])
    return np.stack(out, axis=1)


def layer_step_bound(walk: int, g: int, extra: int = 0) -> int:
    """Cycles of one layer's step: ``S + G + STEP_OVERHEAD``, where ``S`` (``walk``) is
    the synapse array's cycles (``E * G`` for a dense layer), plus ``extra``: the
    synapse pipeline's extra stages (:attr:`~snnhw.gateware.plan.LayerPlan.extra_stages`;
    the marker waits for a longer pipeline; a recurrent layer's replay marker waits
    for it too)."""
    return walk + g + STEP_OVERHEAD + extra


def link_latency(lanes: int) -> int:
    """``LINK_LATENCY``, a cycle more above :data:`~snnhw.gateware.plan.COUNT_ONE_STAGE_LANES`
    lanes (the serializer's second push register)."""
    return LINK_LATENCY + int(lanes > COUNT_ONE_STAGE_LANES)


def output_cycles(g_last: int, n_out: int) -> int:
    """The readout's results after the last step (:class:`~snnhw.gateware.readout.Readout`)."""
    return 2 * g_last + n_out + 3


def sample_bound(net: Network, lanes, events: np.ndarray, *, after_reset: bool = False,
                 walk: np.ndarray | None = None) -> int:
    """Upper bound on the cycles of one sample, ``events[layer, step]``.

    ``walk[layer, step]``: the synapse cycles (:func:`walk_cycles`); without it a
    conv layer's events count at their most (``LayerPlan.max_walk``), exact for a
    dense layer. ``after_reset``: the sample is the first after reset or ``clear``,
    which adds the memory clear of the largest layer (``max G`` cycles).
    """
    plans = plan_core(net, lanes).layers
    gs = [lp.groups for lp in plans]
    total = max(gs) if after_reset else 0
    for li, lp in enumerate(plans):
        per_step = (np.asarray(events[li]) * lp.max_walk if walk is None
                    else np.asarray(walk[li]))
        total += sum(layer_step_bound(int(s), lp.groups, lp.extra_stages)
                     + link_latency(lp.lanes) for s in per_step)
        if lp.recurrent:   # every step after the first replays the one before
            total += (len(per_step) - 1) * (REPLAY_OVERHEAD + lp.extra_stages)
    return total + output_cycles(gs[-1], net.n_out) + FIXED_LATENCY


def ideal_cycles(net: Network, lanes, events: np.ndarray) -> int:
    """``sum E * G`` over layers and steps (and samples, if ``events`` has them): exact
    for dense layers; a conv layer's events count at their most walk
    (:func:`walk_cycles` is exact for both)."""
    walks = [lp.max_walk for lp in plan_core(net, lanes).layers]
    ev = np.asarray(events)
    per_layer = ev.sum(axis=tuple(i for i in range(ev.ndim) if i != ev.ndim - 2))
    return int(sum(int(per_layer[li]) * w for li, w in enumerate(walks)))


def formula_text() -> str:
    return ("cycles/sample <= [max G after reset] + sum_layers sum_steps "
            f"(S + G + {STEP_OVERHEAD} + X + {LINK_LATENCY})"
            f" + 2*G_last + n_out + 3 + {FIXED_LATENCY}; S = E*G (dense), at most "
            "E*ceil(KH/SH)*ceil(KW/SW)*Gc (conv); G = ceil(n_out/lanes) (dense), "
            "Gc*OH*OW (conv), Gc = ceil(C_out/lanes); "
            "E = non-zero input events of the layer in the step (a recurrent layer's include "
            "its own non-zero spikes of the step before, and every step after the first "
            f"adds {REPLAY_OVERHEAD} + X); "
            "X = ceil(log2(input bits)) - 1, at least 0, plus 1 for a weight memory of "
            "more than 4 banks, 2 for one of more than 8")
