"""Comparison of integer traces: where two runs of a network first differ.

Every helper takes plain integer arrays (or an object with a ``run`` method
that returns them), so the comparisons import neither PyTorch nor a simulator.
"""

from __future__ import annotations

import numpy as np

from ..ir import Network
from .model import run

__all__ = ["first_mismatch", "per_sample_equal", "integer_vs_golden", "integer_vs_golden_batched"]


def first_mismatch(a_layers, b_layers, a_logits, b_logits) -> dict | None:
    """The first (sample, layer, step, neuron) where two traces differ, else None.

    ``*_layers`` are per-layer dicts of ``[batch, T, n]`` integer arrays.
    """
    best = None
    for li, (la, lb) in enumerate(zip(a_layers, b_layers)):
        for key in ("I", "v", "s", "u"):
            diff = np.asarray(la[key]) != np.asarray(lb[key])
            if diff.any():
                n, t, i = (int(v) for v in np.argwhere(diff)[0])
                cand = dict(sample=n, layer=li, step=t, neuron=i, what=key,
                            a=int(np.asarray(la[key])[n, t, i]),
                            b=int(np.asarray(lb[key])[n, t, i]))
                if best is None or (cand["sample"], cand["step"], cand["layer"]) < (
                        best["sample"], best["step"], best["layer"]):
                    best = cand
    if best is None and not np.array_equal(np.asarray(a_logits), np.asarray(b_logits)):
        n, i = (int(v) for v in np.argwhere(np.asarray(a_logits) != np.asarray(b_logits))[0])
        best = dict(sample=n, layer=len(a_layers) - 1, step=None, neuron=i, what="logit",
                    a=int(np.asarray(a_logits)[n, i]), b=int(np.asarray(b_logits)[n, i]))
    return best


def per_sample_equal(a_layers, b_layers, a_logits, b_logits) -> np.ndarray:
    """Per sample: every layer's ``I, v, s, u`` and the logits are equal."""
    eq = np.all(np.asarray(a_logits) == np.asarray(b_logits), axis=1)
    for la, lb in zip(a_layers, b_layers):
        for key in ("I", "v", "s", "u"):
            eq &= np.all(np.asarray(la[key]) == np.asarray(lb[key]), axis=(1, 2))
    return eq


def integer_vs_golden(q, net: Network, xi: np.ndarray):
    """Run integer inputs ``xi[batch, T, n_in]`` through the torch integer mode and the
    golden model; returns both results, the per-sample agreement (every layer's
    ``I, v, s, u`` and the logits) and the first mismatch (or None)."""
    r = q.run(xi)
    g = run(net, xi, trace=True)
    t_layers = [{k: v.numpy() for k, v in ly.items()} for ly in r["layers"]]
    g_layers = [{k: getattr(ly, k) for k in ("I", "v", "s", "u")} for ly in g.layers]
    t_logits = r["logits"].numpy()
    agree = per_sample_equal(t_layers, g_layers, t_logits, g.logits)
    return r, g, agree, first_mismatch(t_layers, g_layers, t_logits, g.logits)


def integer_vs_golden_batched(q, net: Network, xi: np.ndarray, batch: int | None = None):
    """:func:`integer_vs_golden` of ``xi``, ``batch`` samples at a time (default: all at
    once), so that the traces' memory stays bounded. Returns
    ``(torch classes, golden logits, golden classes, per-sample agreement, first mismatch,
    spikes)``: the mismatch's sample counted in the whole ``xi``, ``spikes`` the sum of
    every layer's spikes in the torch trace."""
    batch = batch or max(len(xi), 1)
    parts, mismatch, spikes = [], None, 0
    for i in range(0, len(xi), batch):
        r, g, same, first = integer_vs_golden(q, net, xi[i:i + batch])
        parts.append((r["classes"].numpy(), g.logits, g.classes, same))
        spikes += sum(int(ly["s"].sum()) for ly in r["layers"])
        if mismatch is None and first is not None:
            mismatch = {**first, "sample": first["sample"] + i}
    t_classes, g_logits, g_classes, same = (np.concatenate(p) for p in zip(*parts))
    return t_classes, g_logits, g_classes, same, mismatch, spikes
