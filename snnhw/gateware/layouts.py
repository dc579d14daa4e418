"""Stream payload layouts of the gateware (docs/protocols.md; :mod:`snnhw.protocol.streams`)."""

from __future__ import annotations

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from ..protocol.streams import index_width

__all__ = ["event_layout", "result_layout", "result_width"]


def event_layout(n: int, value_bits: int) -> data.StructLayout:
    """An event ``(index, value)`` of a population of ``n``, or an end-of-step marker."""
    return data.StructLayout({
        "index": unsigned(index_width(n)),
        "value": unsigned(value_bits),
        "eos": unsigned(1),
    })


def result_width(logit_bits: int, n_out: int) -> int:
    """Signed width that holds every logit and every class index."""
    return max(logit_bits, index_width(n_out) + 1)


def result_layout(logit_bits: int, n_out: int) -> data.StructLayout:
    """A logit beat (``is_class=0``) or the closing class beat (``is_class=1, last=1``)."""
    return data.StructLayout({
        "value": signed(result_width(logit_bits, n_out)),
        "is_class": unsigned(1),
        "last": unsigned(1),
    })
