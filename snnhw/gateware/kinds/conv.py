"""The ``conv`` kind in the gateware: a window walk (:mod:`snnhw.gateware.window`), a
group being ``lanes`` output channels at one position; the weights one word per tap
(:func:`snnhw.protocol.words.conv_weight_words`)."""

from __future__ import annotations

from ..window import ConvWindow, position_bits

__all__ = ["READOUT", "WINDOWED", "bias_words", "manifest_fields", "synapse_matrix", "window"]

WINDOWED = True
#: a conv layer's neurons are not read out (the readout is a dense layer's)
READOUT = False


def window(layer, lanes: int) -> ConvWindow:
    return ConvWindow.of(layer, lanes)


def synapse_matrix(layer):
    """The weights the synapse array walks: the layer's own."""
    return layer.W


def bias_words(layer, lanes: int, window: ConvWindow) -> int:
    """One bias word per channel group (a channel's bias is shared by its positions)."""
    return window.channel_groups


def manifest_fields(plan) -> dict:
    """The window, and for a hidden layer the order of its output events
    (docs/architecture.md)."""
    w = plan.window
    out = {"window": {"in_shape": list(w.in_shape), "kernel": list(w.kernel),
                      "stride": list(w.stride), "padding": list(w.padding),
                      "out_shape": list(w.out_shape), "channel_groups": w.channel_groups,
                      "lane_stride": plan.lane_stride}}
    if plan.readout is None:
        out["event_order"] = (
            "by channel group, then position, then lane; index channel << "
            f"{position_bits(w.positions)} | position" if plan.split_out else
            "by channel group, then position, then lane; flat index")
    return out
