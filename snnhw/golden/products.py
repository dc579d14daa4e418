"""Exact integer products on the fastest path that stays exact (:mod:`snnhw.golden.model`).

Integer matmul in NumPy does not use BLAS; a floating-point product is exact when
every partial sum is an integer below the format's exact range, so the path is
chosen from the layer's partial-sum bound.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHARGE_PATHS", "charge_path", "product"]

#: Charge computation paths, fastest first, with the bound below which each
#: is exact (a partial sum must be strictly below it).
CHARGE_PATHS = {"float32": 1 << 24, "float64": 1 << 53, "int64": 1 << 62}


def charge_path(bound: int, requested: str = "auto") -> str:
    """Pick the fastest exact charge path for a partial-sum ``bound``.

    Raises ``ValueError`` when ``requested`` names a path that would not be
    exact for ``bound``.
    """
    if requested == "auto":
        for name, limit in CHARGE_PATHS.items():
            if bound < limit:
                return name
        raise ValueError(f"partial sums up to {bound} exceed every exact path")
    if requested not in CHARGE_PATHS:
        raise ValueError(f"unknown charge path {requested!r}; one of {list(CHARGE_PATHS)}")
    if bound >= CHARGE_PATHS[requested]:
        raise ValueError(
            f"charge path {requested!r} is not exact for partial sums up to {bound} "
            f"(limit {CHARGE_PATHS[requested]})"
        )
    return requested


def product(a: np.ndarray, b: np.ndarray, path: str) -> np.ndarray:
    """``a @ b`` exactly (int64 result) on the given path."""
    if path == "int64":
        return a.astype(np.int64) @ b
    dt = np.float32 if path == "float32" else np.float64
    return (a.astype(dt) @ b.astype(dt)).astype(np.int64)


