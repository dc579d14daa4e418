"""The ``recurrent`` kind in torch: a dense layer whose neurons also read their own
spikes of the step before (docs/arithmetic.md, "Recurrence").

The float model keeps the two weight matrices apart: :class:`RecurrentLinear` is the
feed-forward ``nn.Linear`` (``W``, ``b``; BatchNorm, when used, normalises this charge
and folds into ``W`` and ``b`` alone) carrying the feedback ``nn.Linear`` (``R``, no
bias), which the neuron applies to its spikes of the step before
(:meth:`snnhw.nn.neuron.MultiBitLIF.forward`). The integer mode adds ``R s[t-1]`` in
its step loop (:meth:`snnhw.nn.quant.IntegerSNN.run`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...ir import RecurrentLayer
from ..folded import FloatLayer, param
from . import dense

__all__ = ["MAP_OUT", "NAME", "RecurrentLinear", "charge", "float_layer", "fold_pool",
           "ir_geometry", "nir_nodes", "shape_input", "to_ir", "torch_modules"]

NAME = RecurrentLayer.KIND
MAP_OUT = False

shape_input = dense.shape_input
charge = dense.charge           # the feed-forward part; the feedback is added per step
fold_pool = dense.fold_pool


class RecurrentLinear(nn.Linear):
    """``nn.Linear(n_in, n_out)`` (the feed-forward charge) with ``feedback``, an
    ``nn.Linear(n_out, n_out, bias=False)`` over the layer's spikes of the step before.
    ``feedback_gain`` scales its initial weights (``nn.Linear``'s uniform draw)."""

    def __init__(self, n_in: int, n_out: int, feedback_gain: float = 1.0):
        super().__init__(n_in, n_out)
        self.feedback = nn.Linear(n_out, n_out, bias=False)
        with torch.no_grad():
            self.feedback.weight.mul_(feedback_gain)


def torch_modules(entry: dict, bn: bool) -> tuple[nn.Module, nn.Module]:
    return (RecurrentLinear(entry["n_in"], entry["n_out"]),
            nn.BatchNorm1d(entry["n_out"]) if bn else nn.Identity())


def float_layer(entry: dict, W: torch.Tensor, b: torch.Tensor, pool: dict, op=None):
    """The dense float layer with ``R`` (float64, thresholds per spike of the step
    before) from ``op.feedback``."""
    return FloatLayer(NAME, W, b, in_shape=None, R=param(op.feedback.weight),
                      **pool)


def to_ir(W: np.ndarray, geometry: dict, fields: dict) -> RecurrentLayer:
    return RecurrentLayer(W=W, **fields)


def ir_geometry(layer: RecurrentLayer) -> dict:
    return {"kind": NAME}


def nir_nodes(add, nir, i: int, fl, model, after_map: bool) -> tuple[int, ...]:
    """The dense kind's ``Affine``; the feedback ``Linear`` from the neuron back to itself
    is written with the neuron (:func:`snnhw.nn.nirconv.conv_to_nir`)."""
    return dense.nir_nodes(add, nir, i, fl, model, after_map)
