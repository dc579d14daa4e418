"""Small helpers every stage shares: widths of two's-complement values, lanes per
layer, and the plain-text table of the command-line reports."""

from __future__ import annotations

__all__ = ["signed_bits", "signed_range", "lanes_per_layer", "format_table"]


def signed_bits(bound: int) -> int:
    """Width of a two's-complement register that holds every value in ``[-bound, bound]``."""
    return int(bound).bit_length() + 1


def signed_range(bits: int) -> tuple[int, int]:
    """``(lo, hi)`` of a ``bits``-wide two's-complement value."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def lanes_per_layer(lanes, n_layers: int) -> list[int]:
    """``lanes`` (one positive integer for every layer, or one per layer) as a list.

    Raises ``ValueError`` naming what was given when it is neither.
    """
    values = [lanes] * n_layers if isinstance(lanes, int) else list(lanes)
    if len(values) != n_layers or any(
            isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in values):
        raise ValueError(f"lanes must be a positive integer or {n_layers} of them, "
                         f"got {lanes!r}")
    return values


def format_table(rows: list[list], header: list[str]) -> str:
    """Left-aligned plain-text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
