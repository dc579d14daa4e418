"""From a trained float model to the IR file, with the three-way check.

:func:`export_model` quantises (:func:`snnhw.nn.quant.quantize`) and builds
the IR. :func:`compare` runs one dataset split through the float model, the
torch integer mode and the golden model on the exported IR, and reports the
accuracies and where (if anywhere) the two integer paths first differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..golden.compare import integer_vs_golden
from ..ir import Network
from .model import SpikingMLP, encode
from .quant import IntegerSNN, quantize

__all__ = ["export_model", "compare", "Comparison"]


def export_model(model: SpikingMLP, *, w_bits: int | Sequence[int] = 8, u_bits: int = 16,
                 name: str = "") -> tuple[IntegerSNN, Network]:
    """Quantise ``model`` (``w_bits``: one weight width, or one per layer); return its
    integer mode and the validated IR."""
    from ..ir import IRError
    from .quant import ExportError, widths_text

    q = quantize(model, w_bits=w_bits, u_bits=u_bits, name=name)
    try:
        return q, q.to_ir()
    except IRError as exc:    # e.g. a leak shift wider than u_bits
        raise ExportError(f"the IR cannot hold this model at w_bits={widths_text(w_bits)}, "
                          f"u_bits={u_bits}: {exc}") from None


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


@torch.no_grad()
def compare(model: SpikingMLP, q: IntegerSNN, net: Network, x: np.ndarray, y: np.ndarray,
            *, seed: int = 0, batch: int | None = None, progress=None) -> Comparison:
    """Float vs torch-integer vs golden on raw data ``x`` (encoded per the model), ``batch``
    samples at a time (default: all at once), so that memory stays bounded for long runs;
    a batch's Poisson inputs are seeded with ``seed`` plus its first sample's index;
    ``progress(done)`` is called after each batch."""
    batch = batch or max(len(x), 1)
    model.eval()
    float_pred, int_pred, golden_pred, agree, mismatch = [], [], [], [], None
    for i in range(0, len(x), batch):
        xi = encode(model.config, x[i:i + batch], seed + i)
        float_pred.append(model(xi.to(torch.float32)).argmax(1).numpy())
        r, g, same, first = integer_vs_golden(q, net, xi.numpy())
        int_pred.append(r["classes"].numpy())
        golden_pred.append(g.classes)
        agree.append(same)
        if mismatch is None and first is not None:
            mismatch = {**first, "sample": first["sample"] + i}
        if progress is not None:
            progress(i + len(same))
    join = np.concatenate
    return Comparison(
        samples=len(y),
        float_acc=float((join(float_pred) == y).mean()),
        int_acc=float((join(int_pred) == y).mean()),
        golden_acc=float((join(golden_pred) == y).mean()),
        agree_samples=int(join(agree).sum()),
        first_mismatch=mismatch,
    )
