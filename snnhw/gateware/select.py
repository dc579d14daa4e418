"""One of several words chosen by a signal index, as a plain multiplexer (no multiplier)."""

from __future__ import annotations

from amaranth.hdl import Signal

__all__ = ["pick", "select_lane"]


def pick(m, words, sel, name: str):
    """A signal holding ``words[sel]``: a switch over the words (the first word when
    there is only one, whatever ``sel``)."""
    out = Signal(len(words[0]), name=name)
    if len(words) == 1:
        m.d.comb += out.eq(words[0])
        return out
    with m.Switch(sel):
        for k, word in enumerate(words):
            with m.Case(k):
                m.d.comb += out.eq(word)
    return out


def select_lane(m, value, index, width: int, count: int, name: str):
    """``value.word_select(index, width)`` for a signal ``index``, as a plain mux.

    Amaranth lowers a variable ``word_select`` to a shift by ``index * width``:
    a multiplier in the netlist. A switch over the lanes needs none.
    """
    return pick(m, [value.word_select(lane, width) for lane in range(count)], index, name)
