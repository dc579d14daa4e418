"""A deliberately naive reference of docs/arithmetic.md: one Python integer at a time.

Written from docs/arithmetic.md alone, sharing no arithmetic with :mod:`snnhw.golden`,
so that agreement between the two is evidence and not repetition (each kind's
term-by-term charge is its ``naive_charges`` in :mod:`snnhw.golden.kinds`). Every value
is a Python ``int`` (unbounded, ``>>`` floors like an arithmetic shift).
It is slow on purpose; use it on small batches only.
"""

from __future__ import annotations

from ..ir import Network
from .kinds import naive_charges_of

__all__ = ["run_batch", "run_sample"]


def _sat(value: int, bits: int) -> int:
    lo = -(2 ** (bits - 1))
    hi = 2 ** (bits - 1) - 1
    if value < lo:
        return lo
    if value > hi:
        return hi
    return value


def neuron_step(layer, u: int, current: int, last_step: bool = False) -> tuple[int, int, int]:
    """One neuron, one step: ``(v, s, u')`` from membrane ``u`` and charge ``current``.

    ``last_step`` zeroes ``u'`` (the hardware's end-of-sample clear; the
    golden model instead starts every sample from zero, which is the same).
    """
    if layer.leak_shift is not None:
        u = u - (u >> layer.leak_shift)
    v = _sat(u + current, layer.u_bits)
    s = (v + layer.fire_offset) // (2**layer.k)
    s = max(0, min(s, 2**layer.spike_bits - 1))
    if last_step:
        u_new = 0
    elif layer.reset == "soft":
        u_new = v - s * 2**layer.k
    else:
        u_new = 0 if s > 0 else v
    return v, s, u_new


def run_sample(net: Network, x) -> tuple[list[int], int, list[dict]]:
    """Run one sample ``x[T][n_in]``.

    Returns ``(logits, class, trace)`` where ``trace[layer]`` maps ``"I"``,
    ``"v"``, ``"s"``, ``"u"`` to ``[T][n_out]`` lists of ints, with the same
    conventions as :class:`snnhw.golden.LayerTrace`.
    """
    T = net.timesteps
    weights = [layer.W.tolist() for layer in net.layers]
    biases = [layer.b.tolist() for layer in net.layers]
    membranes = [[0] * layer.n_out for layer in net.layers]
    previous = [[0] * layer.n_out for layer in net.layers]   # s[t-1] of every layer
    trace = [{"I": [], "v": [], "s": [], "u": []} for _ in net.layers]
    logits = [0] * net.n_out
    last = len(net.layers) - 1
    for t in range(T):
        s_in = [int(value) for value in x[t]]
        for li, layer in enumerate(net.layers):
            step = {"I": [], "v": [], "s": [], "u": []}
            s_out = []
            currents = naive_charges_of(layer)(layer, weights[li], biases[li], s_in)
            if layer.feedback is not None:      # docs/arithmetic.md, "Recurrence"
                R = layer.feedback.tolist()
                for i in range(len(currents)):
                    for j in range(len(R[i])):
                        currents[i] += R[i][j] * previous[li][j]
            for i, current in enumerate(currents):
                step["I"].append(current)
                if li == last and net.readout == "membrane":
                    logits[i] += current
                    step["v"].append(logits[i])
                    step["s"].append(0)
                    step["u"].append(logits[i])
                    continue
                v, s, u_new = neuron_step(layer, membranes[li][i], current)
                membranes[li][i] = u_new
                step["v"].append(v)
                step["s"].append(s)
                step["u"].append(u_new)
                s_out.append(s)
                if li == last:
                    logits[i] += s
            for key in step:
                trace[li][key].append(step[key])
            previous[li] = step["s"]
            s_in = s_out
    best = 0
    for i in range(1, len(logits)):
        if logits[i] > logits[best]:
            best = i
    return logits, best, trace


def run_batch(net: Network, x) -> tuple[list[list[int]], list[int]]:
    """Run ``x[batch][T][n_in]``; return ``(logits, classes)`` as lists."""
    logits, classes = [], []
    for sample in x:
        lg, c, _ = run_sample(net, sample)
        logits.append(lg)
        classes.append(c)
    return logits, classes
