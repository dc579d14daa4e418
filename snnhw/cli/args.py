"""Option types with ranges, checked by argparse before any work starts.

A bad value ends the command with one line on stderr and exit status 2
(:class:`Parser`), e.g. ``snnhw train: error: argument --epochs: must be an
integer in 1..100000, got '0'``.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["Parser", "int_range", "float_range", "parse_sizes", "MAX_EPOCHS", "MAX_TIMESTEPS",
           "MAX_SEED", "MAX_LAYER", "width_options"]

MAX_EPOCHS = 100_000
MAX_TIMESTEPS = 1 << 16
MAX_SEED = 2**32 - 1
MAX_LAYER = 1 << 16


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose usage errors are one line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def width_options(p, prefix: str = "") -> None:
    """``--w-bits`` and ``--u-bits`` for quantising a checkpoint: unset, they take the
    widths it was trained for with ``--qat``, else 8 and 16 (:func:`snnhw.api.widths`)."""
    p.add_argument("--w-bits", type=weight_widths, default=None,
                   help=f"{prefix}weight width, 2..16, or one per layer, comma separated "
                        "(e.g. 8,4,4,4,4: the first layer wider) (8, or the widths a "
                        "checkpoint trained with --qat was trained for)")
    p.add_argument("--u-bits", type=int_range(8, 32), default=None,
                   help=f"{prefix}membrane width, 8..32 (16, or the width a checkpoint "
                        "trained with --qat was trained for)")


def int_range(lo: int, hi: int):
    """An argparse ``type``: an integer in ``lo..hi``."""
    def parse(text: str) -> int:
        try:   # ASCII digits only: int() also takes other scripts' digits ('٢' is 2)
            value = int(text) if text.isascii() else None
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, got {text!r}")
        return value
    parse.__name__ = f"integer {lo}..{hi}"
    return parse


def weight_widths(text: str) -> int | tuple[int, ...]:
    """An argparse ``type``: one weight width in 2..16 (``4``), or one per layer, comma
    separated (``8,4,4``); the layer count is checked against the network later."""
    one = int_range(2, 16)
    parts = text.split(",")
    try:
        widths = tuple(one(part.strip()) for part in parts)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be a width in 2..16, or one per layer comma separated (8,4,4), got "
            f"{text!r}") from None
    return widths[0] if len(parts) == 1 else widths


weight_widths.__name__ = "weight widths"


def float_range(lo: float, hi: float, *, lo_open: bool = False):
    """An argparse ``type``: a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    def parse(text: str) -> float:
        try:
            value = float(text) if text.isascii() else math.nan
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and value <= hi and (value > lo if lo_open else value >= lo)
        if not ok:
            left = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(f"must be a finite number in {left}{lo:g}, "
                                             f"{hi:g}], got {text!r}")
        return value
    parse.__name__ = "number"
    return parse


def parse_sizes(text: str) -> tuple[int, ...]:
    """``--hidden``: one or more layer sizes, comma separated, each in ``1..MAX_LAYER``
    (a :class:`snnhw.cli.common.CLIError` otherwise)."""
    from .common import CLIError

    try:
        sizes = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        sizes = ()
    if not sizes or not all(1 <= v <= MAX_LAYER for v in sizes):
        raise CLIError(f"--hidden takes layer sizes 1..{MAX_LAYER}, comma separated, got "
                       f"{text!r}")
    return sizes
