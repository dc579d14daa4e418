"""The ``dense`` kind's charge in the golden model: ``I = b + s_in @ W.T``."""

from __future__ import annotations

import numpy as np

from ...ir import DenseLayer
from ..products import product

__all__ = ["charge", "naive_charges"]


def charge(layer: DenseLayer, s_in: np.ndarray, path: str) -> np.ndarray:
    """``I`` of ``s_in[rows, n_in]``, exactly, on the product ``path``."""
    return product(s_in, layer.W.T, path) + layer.b


def naive_charges(layer, W: list, b: list, s_in: list[int]) -> list[int]:
    out = []
    for i in range(len(W)):
        current = b[i]
        for j in range(len(s_in)):
            current += W[i][j] * s_in[j]
        out.append(current)
    return out
