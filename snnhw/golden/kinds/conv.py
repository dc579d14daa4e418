"""The ``conv`` kind's charge in the golden model (docs/arithmetic.md, "Convolution").

``charge``: the im2col matrix (every output position's window as a row, zero padding
included) times the weights, one exact product; ``naive_charges``: the same sum term
by term in Python integers, for :mod:`snnhw.golden.naive`.
"""

from __future__ import annotations

import numpy as np

from ...ir import ConvLayer
from ..products import product

__all__ = ["IM2COL_CHUNK", "charge", "im2col", "naive_charges"]

#: im2col rows are built in chunks of at most this many values
IM2COL_CHUNK = 1 << 23


def im2col(layer: ConvLayer, s_in: np.ndarray) -> np.ndarray:
    """``s_in[rows, n_in]`` -> ``[rows, OH, OW, C_in*KH*KW]``: each output position's
    window (``ci, ky, kx`` order, padding as zeros), the input of the charge product."""
    (C, H, W), (KH, KW) = layer.in_shape, layer.kernel
    (SH, SW), (PH, PW) = layer.stride, layer.padding
    _, OH, OW = layer.out_shape
    maps = s_in.reshape(-1, C, H, W)
    if PH or PW:
        maps = np.pad(maps, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    win = np.lib.stride_tricks.sliding_window_view(maps, (KH, KW), axis=(2, 3))
    win = win[:, :, : (OH - 1) * SH + 1 : SH, : (OW - 1) * SW + 1 : SW]  # [r, C, OH, OW, KH, KW]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(len(maps), OH, OW, C * KH * KW)


def charge(layer: ConvLayer, s_in: np.ndarray, path: str) -> np.ndarray:
    """``I`` of ``s_in[rows, n_in]``, exactly, on the product ``path``."""
    C_out, OH, OW = layer.out_shape
    Wm = layer.W.reshape(C_out, -1).T                       # [C_in*KH*KW, C_out]
    out = np.empty((len(s_in), C_out, OH, OW), dtype=np.int64)
    per_row = OH * OW * Wm.shape[0]
    step = max(1, IM2COL_CHUNK // max(per_row, 1))
    for start in range(0, len(s_in), step):
        cols = im2col(layer, s_in[start:start + step])     # [r, OH, OW, K]
        acc = product(cols.reshape(-1, Wm.shape[0]), Wm, path)
        out[start:start + step] = acc.reshape(-1, OH, OW, C_out).transpose(0, 3, 1, 2)
    return out.reshape(len(s_in), -1) + layer.bias_per_neuron


def naive_charges(layer, W: list, b: list, s_in: list[int]) -> list[int]:
    """docs/arithmetic.md "Convolution", term by term, in flat channel-major order."""
    C_in, H, Wd = layer.in_shape
    C_out, KH, KW = len(W), len(W[0][0]), len(W[0][0][0])
    SH, SW = layer.stride
    PH, PW = layer.padding
    OH = (H + 2 * PH - KH) // SH + 1
    OW = (Wd + 2 * PW - KW) // SW + 1
    out = []
    for co in range(C_out):
        for oy in range(OH):
            for ox in range(OW):
                current = b[co]
                for ci in range(C_in):
                    for ky in range(KH):
                        for kx in range(KW):
                            y = oy * SH - PH + ky
                            x = ox * SW - PW + kx
                            if 0 <= y < H and 0 <= x < Wd:
                                current += W[co][ci][ky][kx] * s_in[(ci * H + y) * Wd + x]
                out.append(current)
    return out
