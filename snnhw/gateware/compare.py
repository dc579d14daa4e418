"""Compares of an unsigned value with a constant as logic on its bits.

Yosys maps ``x < c`` to an adder's carry chain even when ``c`` is a constant;
on the iCE40 every bit of that chain takes a logic cell of its own, since no
other logic can share it. A compare with a constant needs no carry: ``x < c``
exactly when, at some bit that is 1 in ``c``, ``x`` has a 0 and agrees with
``c`` on every bit above it. These helpers write that out (equality tests
with constants, an OR), which the LUT mapper packs into a few LUTs. The same
holds for saturating to a signed range: :func:`saturate` tests the bits above it.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Mux

from ..util import signed_range

__all__ = ["at_least", "at_most", "below", "saturate"]


def below(x, c: int):
    """``x < c`` for an unsigned ``x`` and an integer ``c``, without a carry chain."""
    n = len(x)
    if c <= 0:
        return Const(0, 1)
    if c >= 1 << n:
        return Const(1, 1)
    terms = []
    for i in reversed(range(n)):
        if c >> i & 1:
            above = c >> (i + 1)
            terms.append(~x[i] & (x[i + 1:] == above) if i + 1 < n else ~x[i])
    return Cat(*terms).any()


def at_most(x, c: int):
    """``x <= c`` (unsigned ``x``), without a carry chain."""
    return below(x, c + 1)


def at_least(x, c: int):
    """``x >= c`` (unsigned ``x``), without a carry chain."""
    return ~below(x, c)


def saturate(x, bits: int):
    """The signed ``x`` clamped to the range of ``bits`` signed bits (its low ``bits``
    bits when it fits): the bits from ``bits - 1`` up are all 0 or all 1 exactly when it
    fits, so no compare with the range's ends (two carry chains) is needed."""
    lo, hi = signed_range(bits)
    top = x[bits - 1:]
    return Mux(~x[-1] & top.any(), hi, Mux(x[-1] & ~top.all(), lo, x[:bits]))
