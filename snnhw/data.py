"""The default dataset: scikit-learn's bundled 8x8 digits (no download).

Pixels are integers 0..16 (``in_bits = 5``). The split is fixed: 20 % test,
stratified by class, ``random_state=0`` -- 1437 training and 360 test samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Split", "load_digits_split", "DIGITS_IN_BITS", "DIGITS_MAX"]

DIGITS_IN_BITS = 5
DIGITS_MAX = 16


@dataclass
class Split:
    x_train: np.ndarray  # [n, 64] int64, 0..16
    y_train: np.ndarray  # [n] int64
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(seed: int = 0, test_fraction: float = 0.2) -> Split:
    """The fixed digits split (defaults give the split the README states)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = d.data.astype(np.int64)
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                          stratify=y)
    return Split(xtr, ytr, xte, yte)
