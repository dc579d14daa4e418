"""A small spiking MLP builder and input encoders.

``SpikingMLP(sizes)``: ``dense -> [BN] -> MultiBitLIF`` for every hidden layer
and a last dense layer read out as in docs/arithmetic.md: ``membrane`` (the
mean over ``T`` of its charge, non-spiking) or ``spikes`` (the mean of its spike
counts). Inputs are integer values ``0..2**in_bits - 1`` per step (direct
encoding) scaled by ``in_scale`` before the first layer, so that the
quantiser knows the exact input scale.

Input normalisation. With ``in_mean`` and ``in_std`` (one value per input, in
raw integer units) the first layer sees ``(x - in_mean) / in_std`` instead of
``x * in_scale``. It is an affine map of the input, so export folds it exactly
into the first layer (:func:`snnhw.nn.quant.fold_input`): ``W' = W / std`` per
input column and ``b' = b - W' mean``. The hardware still receives the
unsigned ``in_bits`` integers; only the float weights it was quantised from
change. :func:`input_stats` computes the two vectors from training data.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from ..ir import READOUTS
from .neuron import SpikingLayers, neuron_list
from .qat import check_qat

__all__ = ["SpikingMLP", "check_sizes", "MAX_PARAMETERS", "direct_encode", "poisson_encode",
           "encode", "ENCODINGS", "input_stats"]

ENCODINGS = ("direct", "poisson")


def direct_encode(x: torch.Tensor, timesteps: int) -> torch.Tensor:
    """``x[batch, n]`` -> ``[batch, T, n]``: the same values every step. Temporal
    inputs ``[batch, T, n]`` are returned as they are."""
    if x.dim() == 3:
        if x.shape[1] != timesteps:
            raise ValueError(f"temporal input has {x.shape[1]} steps, the model {timesteps}")
        return x
    return x.unsqueeze(1).expand(-1, timesteps, -1)


def input_stats(x: np.ndarray, min_std: float = 1.0) -> tuple[list[float], list[float]]:
    """Per-input mean and standard deviation of integer inputs ``[n, n_in]`` or
    ``[n, T, n_in]`` (over samples and steps), in raw units. A deviation below
    ``min_std`` (one input step: a near-constant input) is raised to it, so that
    no input's weights are blown up by the fold."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])
    return x.mean(axis=0).tolist(), np.maximum(x.std(axis=0), min_std).tolist()


def poisson_encode(rates: torch.Tensor, timesteps: int, seed: int) -> torch.Tensor:
    """Host-side rate coding: Bernoulli spikes with probability ``rates`` in ``[0, 1]``.

    Seeded, so the same call gives the same spike trains (the hardware has no
    random source in v1; docs/arithmetic.md). Returns ``[batch, T, n]`` of 0/1 floats.
    """
    if rates.min() < 0 or rates.max() > 1:
        raise ValueError("Poisson rates must lie in [0, 1]")
    g = torch.Generator().manual_seed(seed)
    shape = (rates.shape[0], timesteps, rates.shape[1])
    return (torch.rand(shape, generator=g) < rates.unsqueeze(1)).to(rates.dtype)


def encode(config: dict, x, seed: int = 0) -> torch.Tensor:
    """Raw data ``x[batch, n]`` -> the integer input stream ``[batch, T, n]`` (int64).

    ``direct``: the values themselves every step (must already lie in
    ``0..2**in_bits - 1``). ``poisson``: seeded Bernoulli spikes with rate
    ``x / x_max`` (host-side, docs/arithmetic.md).
    """
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    T = config["timesteps"]
    if config.get("encoding", "direct") == "poisson":
        if x.dim() != 2:
            raise ValueError("Poisson encoding takes static inputs [batch, n]")
        return poisson_encode(x / config.get("x_max", 16.0), T, seed).to(torch.int64)
    return direct_encode(x, T).to(torch.int64)


MAX_PARAMETERS = 1 << 26   # 64 Mi weights: 256 MB of float32, far past any board


def check_sizes(sizes) -> list[int]:
    """``sizes`` as a list of ints, or a ``ValueError``: at least two positive sizes and
    at most :data:`MAX_PARAMETERS` weights (checked before anything is allocated)."""
    try:
        out = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be a list of integers, got {sizes!r}") from None
    if len(out) < 2 or min(out) < 1:
        raise ValueError(f"sizes must list at least two positive sizes, got {out}")
    weights = sum(a * b for a, b in pairwise(out))
    if weights > MAX_PARAMETERS:
        raise ValueError(f"sizes {out} need {weights:,} weights, more than the "
                         f"{MAX_PARAMETERS:,} snnhw accepts")
    return out


class SpikingMLP(SpikingLayers, nn.Module):
    """Dense spiking network; ``config`` holds only primitives (for checkpoints).

    Parameters
    ----------
    sizes : list of int
        ``[n_in, hidden..., n_out]``, at least two entries.
    timesteps : int
    in_bits : int
        Input values are ``0..2**in_bits - 1``.
    in_scale : float
        The first layer sees ``x * in_scale``.
    readout : {"membrane", "spikes"}
    bn : bool
        BatchNorm on hidden charges (folded into W, b at export).
    encoding : {"direct", "poisson"}
        How raw data becomes the integer input stream (:func:`encode`).
    x_max : float
        Largest raw data value (for Poisson rates ``x / x_max``).
    in_mean, in_std : list of float, optional
        Input normalisation (module docstring): the first layer sees
        ``(x - in_mean) / in_std``; ``in_scale`` is then unused.
    leak_shifts : list of (int or None), optional
        A leak shift per spiking layer, overriding ``leak_shift`` (models
        imported from NIR may leak differently in every layer).
    **neuron
        :class:`MultiBitLIF` arguments for every spiking layer.
    """

    def __init__(self, sizes, *, timesteps: int = 4, in_bits: int = 5, in_scale: float = 1 / 16,
                 readout: str = "membrane", bn: bool = False, encoding: str = "direct",
                 x_max: float = 16.0, leak_shifts: list | None = None,
                 in_mean: list | None = None, in_std: list | None = None,
                 qat: dict | None = None, **neuron):
        super().__init__()
        sizes = check_sizes(sizes)
        for key, value, lo, hi in (("timesteps", timesteps, 1, 1 << 16),
                                   ("in_bits", in_bits, 1, 16)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{key} must be an integer in {lo}..{hi}, got {value!r}")
        for key, value in (("in_scale", in_scale), ("x_max", x_max)):
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value <= 0):
                raise ValueError(f"{key} must be a positive finite number, got {value!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.config = dict(sizes=sizes, timesteps=int(timesteps), in_bits=int(in_bits),
                           in_scale=float(in_scale), readout=readout, bn=bool(bn),
                           encoding=encoding, x_max=float(x_max), **neuron)
        if leak_shifts is not None:
            self.config["leak_shifts"] = list(leak_shifts)
        if qat is not None:
            self.config["qat"] = check_qat(qat)
        if (in_mean is None) != (in_std is None):
            raise ValueError("in_mean and in_std go together")
        self.normalised = in_mean is not None
        if self.normalised:
            mean = torch.as_tensor(in_mean, dtype=torch.float32).reshape(-1)
            std = torch.as_tensor(in_std, dtype=torch.float32).reshape(-1)
            if mean.numel() != sizes[0] or std.numel() != sizes[0]:
                raise ValueError(f"in_mean/in_std need {sizes[0]} values each, got "
                                 f"{mean.numel()} and {std.numel()}")
            if not bool((std > 0).all()) or not bool(torch.isfinite(mean).all()):
                raise ValueError("in_std must be positive and in_mean finite")
            self.config["in_mean"] = [float(v) for v in mean]
            self.config["in_std"] = [float(v) for v in std]
            self.register_buffer("in_shift", mean, persistent=False)
            self.register_buffer("in_gain", 1.0 / std, persistent=False)
        self.timesteps, self.in_bits, self.in_scale = int(timesteps), int(in_bits), float(in_scale)
        self.readout = readout
        n_layers = len(sizes) - 1
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        spiking = n_layers if readout == "spikes" else n_layers - 1
        self.bn = nn.ModuleList(nn.BatchNorm1d(sizes[i + 1]) if bn and i < n_layers - 1
                                else nn.Identity() for i in range(n_layers))
        self.lif = neuron_list(spiking, neuron, leak_shifts)

    def float_layers(self) -> list:
        """The layers with BatchNorm and the input scale or normalisation folded
        (:func:`snnhw.nn.folded.fold_input`), as :class:`~snnhw.nn.folded.FloatLayer`."""
        from .folded import FloatLayer, fold_input
        from .kinds.dense import NAME

        return [FloatLayer(NAME, W, b) for W, b in fold_input(self)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[batch, T, n_in]`` integer-valued inputs -> logits ``[batch, n_out]`` (with
        ``qat`` set, in the export's integer arithmetic: :mod:`snnhw.nn.qat`)."""
        if "qat" in self.config:
            return self.integer_logits(x)
        batch, T, _ = x.shape
        s = x.transpose(0, 1).reshape(T * batch, -1)
        s = (s - self.in_shift) * self.in_gain if self.normalised else s * self.in_scale
        out = None
        for i, fc in enumerate(self.fc):
            I = self.bn[i](fc(s))
            if i < len(self.lif):
                spikes = self.lif[i](I.reshape(T, batch, -1))
                s = spikes.reshape(T * batch, -1)
                out = spikes
            else:
                out = I.reshape(T, batch, -1)
        return out.mean(dim=0)
