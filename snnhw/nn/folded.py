"""A trained layer as the quantiser sees it: float weights with everything linear folded in.

Every float model (:class:`~snnhw.nn.model.SpikingMLP`,
:class:`~snnhw.nn.conv.SpikingConvNet`) describes itself as a list of
:class:`FloatLayer`: BatchNorm folded per output neuron (or channel), the input
scale folded into the first layer, and an average pool's ``1 / (PH * PW)`` folded
into the weights of the layer after it, so that the layer always reads the
*sum*-pooled spikes of its input (docs/arithmetic.md, "Convolution": pooling has
no layer kind).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

__all__ = ["FloatLayer", "differentiable", "fold_batchnorm", "fold_bn", "fold_input", "param"]

_GRAD = {"keep": False}


@contextlib.contextmanager
def differentiable():
    """Fold with autograd: inside, the folded weights keep their gradient path to the
    model's parameters (quantisation-aware training, :mod:`snnhw.nn.qat`); outside,
    they are detached copies."""
    old, _GRAD["keep"] = _GRAD["keep"], True
    try:
        yield
    finally:
        _GRAD["keep"] = old


def param(t: torch.Tensor) -> torch.Tensor:
    """A parameter as float64, detached unless inside :func:`differentiable`."""
    return (t if _GRAD["keep"] else t.detach()).double()


@dataclass
class FloatLayer:
    """One layer in float, in units of its input (raw integer units for the first).

    ``kind`` (:mod:`snnhw.nn.kinds`): dense ``W[n_out, n_in]``; conv
    ``W[C_out, C_in, KH, KW]`` over the map ``in_shape`` with ``stride`` and ``padding``.
    ``R`` (a recurrent layer): ``[n_out, n_out]`` over its own spikes of the step before.
    ``pool``: the layer reads its input sum-pooled by ``pool = (PH, PW)`` windows
    (window = stride), the unpooled map being ``pool_in_shape``; ``(1, 1)`` is no pooling.
    """

    kind: str
    W: torch.Tensor
    b: torch.Tensor
    in_shape: tuple[int, int, int] | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    pool: tuple[int, int] = (1, 1)
    pool_in_shape: tuple[int, int, int] | None = None
    R: torch.Tensor | None = None      # recurrent: thresholds per spike of the step before

    def geometry(self) -> dict:
        """The non-weight fields, to carry into the integer layer."""
        return {"kind": self.kind, "in_shape": self.in_shape, "stride": self.stride,
                "padding": self.padding, "pool": self.pool, "pool_in_shape": self.pool_in_shape}


def fold_batchnorm(op, bn) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 ``(W, b)`` of a ``Linear`` or ``Conv2d`` with the eval-mode BatchNorm after
    it (``BatchNorm1d``/``2d``, per output neuron or channel) folded in; ``Identity``:
    the layer as it is."""
    W, b = param(op.weight), param(op.bias)
    if isinstance(bn, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
        scale = param(bn.weight) / torch.sqrt(bn.running_var.double() + bn.eps)
        W = W * scale.reshape(-1, *([1] * (W.dim() - 1)))
        b = (b - bn.running_mean.double()) * scale + param(bn.bias)
    return W, b


def fold_bn(model) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Float ``(W, b)`` of every layer with eval-mode BatchNorm folded in."""
    return [fold_batchnorm(fc, bn) for fc, bn in zip(model.fc, model.bn)]


def fold_input(model) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`fold_bn`, with the first layer's weights per raw input unit: its input
    scale, or its input normalisation (``W' = W / std``, ``b' = b - W' mean``), folded
    in. The float model computes exactly ``W' x + b'`` on raw integer inputs ``x``."""
    out = fold_bn(model)
    W, b = out[0]
    if model.normalised:
        gain = model.in_gain.double()
        W = W * gain[None, :]
        b = b - W @ model.in_shift.double()
    else:
        W = W * model.in_scale
    out[0] = (W, b)
    return out
