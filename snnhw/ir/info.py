"""Sizes and widths of a network, for ``snnhw info`` and for later stages."""

from __future__ import annotations

from ..util import signed_bits
from .schema import Network

__all__ = ["describe"]


def describe(net: Network) -> dict:
    """A JSON-ready summary: per-layer fields, memory in bits, accumulator widths.

    ``acc_bits`` holds one step's exact charge ``I`` (docs/arithmetic.md: partial sums
    must not saturate before the sweep); ``logit_bits`` holds the readout sum.
    ``current_bound`` is exact (from the weights, per neuron: a conv neuron whose
    window meets padding sums fewer taps); each kind adds its own fields
    (``geometry()``: a conv layer its shapes and the contract's width bound).
    ``synops_per_event``: additions one input event causes (max and mean over inputs).
    """
    layers = []
    for i, layer in enumerate(net.layers):
        fires = not (i == len(net.layers) - 1 and net.readout == "membrane")
        # W and, for a recurrent layer, R (every array but the bias)
        weights = sum(int(a.size) for key, a in layer.arrays().items() if key != "b")
        layers.append({
            "index": i,
            "kind": layer.kind,
            "n_in": layer.n_in,
            "n_out": layer.n_out,
            "in_spike_bits": net.input_bits(i),
            "w_bits": layer.w_bits,
            "u_bits": layer.u_bits,
            "k": layer.k,
            "theta": layer.theta,
            "fire_offset": layer.fire_offset,
            "spike_bits": layer.spike_bits,
            "leak_shift": layer.leak_shift,
            "reset": layer.reset,
            "fires": fires,
            **layer.geometry((1 << net.input_bits(i)) - 1),
            "weights": weights,
            "weight_bits": weights * layer.w_bits,
            "bias_bits": int(layer.b.size) * layer.u_bits,
            "synops_per_event": layer.synops_per_event(),
            "membrane_bits": layer.n_out * layer.u_bits if fires else 0,
            "current_bound": net.current_bound(i),
            "acc_bits": signed_bits(net.current_bound(i)),
        })
    return {
        "name": net.name,
        "content_hash": net.content_hash(),
        "in_bits": net.in_bits,
        "timesteps": net.timesteps,
        "readout": net.readout,
        "n_in": net.n_in,
        "n_out": net.n_out,
        "layers": layers,
        "param_bits": sum(ly["weight_bits"] + ly["bias_bits"] for ly in layers),
        "state_bits": sum(ly["membrane_bits"] for ly in layers),
        "logit_bound": net.logit_bound(),
        "logit_bits": signed_bits(net.logit_bound()),
    }
