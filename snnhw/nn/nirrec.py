"""NIR import of recurrent layers (docs/arithmetic.md, "Recurrence").

A neuron whose output reaches its own input through one ``Affine``/``Linear`` node
(snnTorch's ``RLeaky``: ``Linear`` feedback for ``all_to_all=True``, a diagonal
``Linear`` of ``V`` for ``all_to_all=False``) is a recurrent layer: the feedback node's
weights become ``R``, scaled like the layer's feed-forward weights (the neuron's input
scale over its threshold), and an ``Affine`` feedback's bias, which the neuron receives
every step (the feedback of zero spikes is the bias), joins the layer's bias. The model
is a :class:`~snnhw.nn.conv.SpikingConvNet` of ``d<N>``/``r<N>`` layers on a flat input.
"""

from __future__ import annotations

import numpy as np
import torch

from .conv import SpikingConvNet
from .nirnodes import NIRError, _weights, fold_neuron

__all__ = ["recurrent_model"]


def _feedback(neuron: str, name: str, node, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(R, bias)`` of the feedback node ``name`` of ``neuron`` (``n`` neurons)."""
    R, b = _weights(name, node)
    if R.shape != (n, n):
        raise NIRError(f"node {name!r}: the feedback of {neuron!r} must be {n} x {n} (the "
                       f"layer's neurons to themselves), got {R.shape[0]} x {R.shape[1]}")
    return R, b


def recurrent_model(layers: list[dict], *, timesteps: int, in_bits: int, in_scale: float,
                    readout: str, reset: str) -> SpikingConvNet:
    """The float model of an imported chain with recurrent layers (``layers`` as
    :func:`snnhw.nn.nirio.from_nir` collects them, a layer's ``R`` its feedback)."""
    tokens = [("r" if "R" in ly else "d") + str(ly["W"].shape[0]) for ly in layers]
    model = SpikingConvNet(tokens[:-1], in_shape=(1, 1, int(layers[0]["W"].shape[1])),
                           n_classes=int(layers[-1]["W"].shape[0]), timesteps=timesteps,
                           in_bits=in_bits, in_scale=in_scale, readout=readout, spike_bits=1,
                           fire="floor", reset=reset, mpr=False,
                           recurrent_readout=tokens[-1].startswith("r"),
                           leak_shifts=[ly["neuron"]["leak_shift"] for ly in layers
                                        if ly["neuron"] is not None])
    with torch.no_grad():
        for i, (ly, op) in enumerate(zip(layers, model.ops)):
            W, b, R = fold_neuron(ly, i == 0, in_scale)
            op.weight.copy_(torch.as_tensor(W, dtype=torch.float32))
            op.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
            if R is not None:
                op.feedback.weight.copy_(torch.as_tensor(R, dtype=torch.float32))
    return model.eval()
