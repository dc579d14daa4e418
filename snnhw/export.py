"""From a trained float model to the IR file, with the three-way check.

:func:`export_model` quantises (:func:`snnhw.nn.quant.quantize`) and builds
the IR. :func:`compare` runs one dataset split through the float model, the
torch integer mode and the golden model on the exported IR, and reports the
accuracies and where (if anywhere) the two integer paths first differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from . import golden
from .ir import Network
from .nn.model import SpikingMLP, encode
from .nn.quant import IntegerSNN, quantize

__all__ = ["export_model", "compare", "Comparison", "first_mismatch", "per_sample_equal"]


def export_model(model: SpikingMLP, *, w_bits: int = 8, u_bits: int = 16, name: str = ""
                 ) -> tuple[IntegerSNN, Network]:
    """Quantise ``model``; return its integer mode and the validated IR."""
    q = quantize(model, w_bits=w_bits, u_bits=u_bits, name=name)
    return q, q.to_ir()


@dataclass
class Comparison:
    samples: int
    float_acc: float
    int_acc: float
    golden_acc: float
    agree_samples: int          # samples whose every layer's I, v, s, u and logits are equal
    first_mismatch: dict | None  # {"sample", "layer", "step", "neuron", "what", ...}

    def as_dict(self) -> dict:
        return dict(self.__dict__)


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


@torch.no_grad()
def compare(model: SpikingMLP, q: IntegerSNN, net: Network, x: np.ndarray, y: np.ndarray,
            *, seed: int = 0) -> Comparison:
    """Float vs torch-integer vs golden on raw data ``x`` (encoded per the model)."""
    xi = encode(model.config, x, seed)
    model.eval()
    float_pred = model(xi.to(torch.float32)).argmax(1).numpy()
    r, g, agree, mismatch = integer_vs_golden(q, net, xi.numpy())
    return Comparison(
        samples=len(y),
        float_acc=float((float_pred == y).mean()),
        int_acc=float((r["classes"].numpy() == y).mean()),
        golden_acc=float((g.classes == y).mean()),
        agree_samples=int(agree.sum()),
        first_mismatch=mismatch,
    )


def integer_vs_golden(q: IntegerSNN, net: Network, xi: np.ndarray):
    """Run integer inputs ``xi[batch, T, n_in]`` through the torch integer mode and the
    golden model; returns both results, the per-sample agreement (every layer's
    ``I, v, s, u`` and the logits) and the first mismatch (or None)."""
    r = q.run(xi)
    g = golden.run(net, xi, trace=True)
    t_layers = [{k: v.numpy() for k, v in ly.items()} for ly in r["layers"]]
    g_layers = [{k: getattr(ly, k) for k in ("I", "v", "s", "u")} for ly in g.layers]
    t_logits = r["logits"].numpy()
    agree = per_sample_equal(t_layers, g_layers, t_logits, g.logits)
    return r, g, agree, first_mismatch(t_layers, g_layers, t_logits, g.logits)
