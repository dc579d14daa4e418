"""The ``conv`` kind in torch: ``nn.Conv2d`` (a 1-D convolution is ``H = KH = 1``),
its charge as one product over every window (docs/arithmetic.md, "Convolution")."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...ir import ConvLayer
from ..folded import FloatLayer

__all__ = ["MAP_OUT", "NAME", "charge", "float_layer", "fold_pool", "ir_geometry",
           "nir_nodes", "shape_input", "to_ir", "torch_modules"]

NAME = ConvLayer.KIND
MAP_OUT = True


def torch_modules(entry: dict, bn: bool) -> tuple[nn.Module, nn.Module]:
    op = nn.Conv2d(entry["in_shape"][0], entry["out_shape"][0], entry["kernel"],
                   entry["stride"], entry["padding"])
    return op, nn.BatchNorm2d(entry["out_shape"][0]) if bn else nn.Identity()


def shape_input(s: torch.Tensor) -> torch.Tensor:
    """A conv layer reads its input as the map it is."""
    return s


def float_layer(entry: dict, W: torch.Tensor, b: torch.Tensor, pool: dict, op=None
                ) -> FloatLayer:
    return FloatLayer(NAME, W, b, in_shape=tuple(entry["in_shape"]),
                      stride=tuple(entry["stride"]), padding=tuple(entry["padding"]), **pool)


def charge(layer, s_in: torch.Tensor) -> torch.Tensor:
    """Every window as a row (torch's unfold on int64, zero padding), one product."""
    batch, T, _ = s_in.shape
    C, H, W = layer.in_shape
    (KH, KW), (SH, SW), (PH, PW) = layer.W.shape[2:], layer.stride, layer.padding
    maps = torch.nn.functional.pad(s_in.reshape(batch * T, C, H, W), (PW, PW, PH, PH))
    win = maps.unfold(2, KH, SH).unfold(3, KW, SW)            # [r, C, OH, OW, KH, KW]
    OH, OW = win.shape[2], win.shape[3]
    cols = win.permute(0, 2, 3, 1, 4, 5).reshape(batch * T, OH * OW, -1)
    I = torch.matmul(cols, layer.W.reshape(layer.W.shape[0], -1).T)     # [r, OH*OW, C_out]
    I = I.transpose(1, 2) + layer.b[None, :, None]
    return I.reshape(batch, T, -1)


def fold_pool(layer, W: np.ndarray) -> tuple[np.ndarray, dict]:
    """A sum pool ``P`` then a conv ``K``/stride ``S``/padding ``Pd`` is the conv
    ``K*P``/``S*P``/``Pd*P`` with ``W'[.., ky*P+dy, kx*P+dx] = W[.., ky, kx]``."""
    geo = {"in_shape": layer.in_shape, "stride": layer.stride, "padding": layer.padding}
    if layer.pool == (1, 1):
        return W, geo
    ph, pw = layer.pool
    W = np.repeat(np.repeat(W, ph, axis=2), pw, axis=3)
    return W, {"in_shape": tuple(layer.pool_in_shape),
               "stride": (layer.stride[0] * ph, layer.stride[1] * pw),
               "padding": (layer.padding[0] * ph, layer.padding[1] * pw)}


def to_ir(W: np.ndarray, geometry: dict, fields: dict) -> ConvLayer:
    return ConvLayer(W=W, **geometry, **fields)


def ir_geometry(layer: ConvLayer) -> dict:
    return {"kind": NAME, "in_shape": layer.in_shape, "stride": layer.stride,
            "padding": layer.padding}


def nir_nodes(add, nir, i: int, fl: FloatLayer, model, after_map: bool) -> tuple[int, ...]:
    """``Conv2d``; the output shape."""
    W, b = fl.W.numpy().astype(np.float32), fl.b.numpy().astype(np.float32)
    _, H, Wd = fl.in_shape
    add(f"conv{i}", nir.Conv2d(input_shape=(H, Wd), weight=W, stride=fl.stride,
                               padding=fl.padding, dilation=(1, 1), groups=1, bias=b))
    return tuple(model.plan[i]["out_shape"])
