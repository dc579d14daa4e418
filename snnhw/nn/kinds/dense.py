"""The ``dense`` kind in torch: ``nn.Linear``, ``I = s_in @ W.T + b``."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...ir import DenseLayer
from ..folded import FloatLayer

__all__ = ["MAP_OUT", "NAME", "charge", "float_layer", "fold_pool", "ir_geometry",
           "nir_nodes", "shape_input", "to_ir", "torch_modules"]

NAME = DenseLayer.KIND
MAP_OUT = False


def torch_modules(entry: dict, bn: bool) -> tuple[nn.Module, nn.Module]:
    return (nn.Linear(entry["n_in"], entry["n_out"]),
            nn.BatchNorm1d(entry["n_out"]) if bn else nn.Identity())


def shape_input(s: torch.Tensor) -> torch.Tensor:
    """A dense layer reads its input flat (channel-major)."""
    return s.reshape(len(s), -1)


def float_layer(entry: dict, W: torch.Tensor, b: torch.Tensor, pool: dict, op=None
                ) -> FloatLayer:
    """The layer in float (``op``, the torch module, is for kinds with more weights)."""
    return FloatLayer(NAME, W, b, in_shape=None, **pool)


def charge(layer, s_in: torch.Tensor) -> torch.Tensor:
    return torch.matmul(s_in, layer.W.T) + layer.b


def fold_pool(layer, W: np.ndarray) -> tuple[np.ndarray, dict]:
    """A dense layer over a sum-pooled map reads every input of a window with that
    window's weight."""
    if layer.pool == (1, 1):
        return W, {}
    (ph, pw), (C, H, Wd) = layer.pool, layer.pool_in_shape
    Wm = W.reshape(W.shape[0], C, H // ph, Wd // pw)
    return np.repeat(np.repeat(Wm, ph, axis=2), pw, axis=3).reshape(W.shape[0], -1), {}


def to_ir(W: np.ndarray, geometry: dict, fields: dict) -> DenseLayer:
    return DenseLayer(W=W, **fields)


def ir_geometry(layer: DenseLayer) -> dict:
    return {"kind": NAME}


def nir_nodes(add, nir, i: int, fl: FloatLayer, model, after_map: bool) -> tuple[int, ...]:
    """``Affine`` (after a ``Flatten`` when the layer before made a map); the output
    shape."""
    W, b = fl.W.numpy().astype(np.float32), fl.b.numpy().astype(np.float32)
    if after_map:
        before = fl.pool_in_shape or model.plan[i - 1]["out_shape"]
        before = (before[0], before[1] // fl.pool[0], before[2] // fl.pool[1])
        add(f"flatten{i}", nir.Flatten(input_type={"input": np.array(before)},
                                       start_dim=0, end_dim=-1))
    add(f"fc{i}", nir.Affine(weight=W, bias=b))
    return (W.shape[0],)
