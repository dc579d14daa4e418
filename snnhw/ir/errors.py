"""The IR's error classes and the small checks every layer kind shares."""

from __future__ import annotations

import numpy as np

from ..errors import SnnhwError

__all__ = ["IRDTypeError", "IRError", "IRFormatError", "IRHashError", "IRKindError",
           "IRMissingError", "IRRangeError", "IRShapeError", "IRVersionError"]


class IRError(SnnhwError):
    """Base class of every error raised while validating or loading an IR."""


class IRFormatError(IRError):
    """The file is not a readable IR archive (not a zip, truncated, bad JSON)."""


class IRVersionError(IRError):
    """The manifest names no schema version, or one this code cannot read."""


class IRMissingError(IRError):
    """A required array or manifest field is absent."""


class IRDTypeError(IRError):
    """An array has a non-integer dtype, or a field has the wrong type."""


class IRRangeError(IRError):
    """A value lies outside the range docs/arithmetic.md allows."""


class IRShapeError(IRError):
    """An array has the wrong shape, or the layers do not chain."""


class IRKindError(IRError):
    """A layer kind, reset mode or readout is not one this version knows."""


class IRHashError(IRError):
    """The stored content hash does not match the content."""


def _where(layer: int | None) -> str:
    return "network" if layer is None else f"layer {layer}"


def _check_int(value, name: str, layer: int | None, lo: int, hi: int | None) -> int:
    """Return ``value`` as an int if it is an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise IRDTypeError(
            f"{_where(layer)}: field '{name}' must be an integer, got {value!r}"
        )
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise IRRangeError(
            f"{_where(layer)}: field '{name}' = {value} is out of range {bound}"
        )
    return value


def _check_choice(value, name: str, layer: int | None, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise IRKindError(
            f"{_where(layer)}: field '{name}' = {value!r} is not one of {list(choices)}"
        )
    return value


def _as_int_array(arr, name: str, layer: int | None) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iu":
        raise IRDTypeError(
            f"{_where(layer)}: array '{name}' has dtype {arr.dtype}, "
            "an integer dtype is required"
        )
    return arr


def _check_array_range(arr, name, index, lo, hi, why):
    if arr.size == 0:
        return
    amin, amax = int(arr.min()), int(arr.max())
    if amin < lo or amax > hi:
        bad = amin if amin < lo else amax
        pos = np.argwhere(arr == bad)[0]
        at = ", ".join(str(int(p)) for p in pos)
        raise IRRangeError(
            f"{_where(index)}: array '{name}'[{at}] = {bad} is outside "
            f"{lo}..{hi} ({why})"
        )
