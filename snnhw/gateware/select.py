"""A lane of a wide signal chosen by a signal index, without a multiplier."""

from __future__ import annotations

from amaranth.hdl import Signal

__all__ = ["select_lane"]


def select_lane(m, value, index, width: int, count: int, name: str):
    """``value.word_select(index, width)`` for a signal ``index``, as a plain mux.

    Amaranth lowers a variable ``word_select`` to a shift by ``index * width``:
    a multiplier in the netlist. A switch over the lanes needs none.
    """
    out = Signal(width, name=name)
    with m.Switch(index):
        for lane in range(count):
            with m.Case(lane):
                m.d.comb += out.eq(value.word_select(lane, width))
    return out
