"""Quantisation of a trained spiking model and its integer mode in torch.

:func:`quantize` turns the float model into an :class:`IntegerSNN`: it folds
BatchNorm, chooses a threshold exponent ``k`` per layer, rounds weights to
``w_bits`` and biases to ``u_bits``, and sets ``fire_offset`` to the float
firing rule. :meth:`IntegerSNN.run` is the *integer mode*: the arithmetic of
docs/arithmetic.md written in torch ``int64`` ops, independently of the NumPy golden
model; :meth:`IntegerSNN.to_ir` writes the IR. The two must agree bit for bit.

Scaling. A float layer computes ``I = W s_in + b`` in units of its threshold
``theta``; its input ``s_in`` is ``x * in_scale`` (or the normalised input) for
the first layer and the integer spike counts of the previous layer otherwise;
:func:`fold_input` writes the first layer per raw input unit. With ``theta_int = 2**k``
the integer layer uses ``W_q = round(W * in_scale / theta * 2**k)`` and
``b_q = round(b / theta * 2**k)``, so ``v_int / 2**k`` tracks ``v / theta``.

Convolution and pooling. A conv layer quantises like a dense one (one ``k`` per
layer). A layer after a sum/average pool reads the *sum*-pooled spikes (an
average pool's ``1/(PH*PW)`` is in its float weights, :mod:`snnhw.nn.folded`):
the integer mode pools explicitly, and :meth:`IntegerSNN.to_ir` folds the pool
into the layer's weights (:func:`fold_pool`), so the golden model on the IR is
checked bit for bit against the torch model that pools.

Choice of ``k``: the largest value with ``max |W_q| <= 2**(w_bits-1) - 1``
(most weight precision), at most ``u_bits - 2 - headroom`` so that the
membrane keeps ``2**headroom`` thresholds of range (default headroom:
``spike_bits + 2``), and with every ``|b_q|`` within ``u_bits``. A layer whose
weights cannot meet these limits raises :class:`ExportError` naming the
layer and the numbers, never a silently clipped weight.

Widths per layer. ``w_bits`` is one width for every layer or one per layer (the IR
keeps a width per layer): the first layer, which filters the raw input with few
weights, is where low widths lose the most (docs/results.md, "Low weight widths:
quantisation-aware training"), so a network may keep it wider than the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import SnnhwError
from ..ir import ConvLayer, DenseLayer, Network
from ..util import signed_range
from .folded import fold_bn, fold_input
from .kinds import kind
from .kinds.dense import NAME as DENSE

__all__ = ["ExportError", "IntegerLayer", "IntegerSNN", "quantize", "fold_bn", "fold_input",
           "fold_pool"]


class ExportError(SnnhwError, ValueError):
    """A float model cannot be represented in the IR with the given widths."""


@dataclass
class IntegerLayer:
    """One integer layer: docs/arithmetic.md fields, weights as torch int64."""

    W: torch.Tensor
    b: torch.Tensor
    w_bits: int
    u_bits: int
    k: int
    fire_offset: int
    spike_bits: int
    leak_shift: int | None
    reset: str
    kind: str = DENSE
    in_shape: tuple[int, int, int] | None = None     # conv: the map it convolves
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    pool: tuple[int, int] = (1, 1)                   # sum-pools its input by this first
    pool_in_shape: tuple[int, int, int] | None = None
    R: torch.Tensor | None = None                    # recurrent: over s[t-1]

    @property
    def s_max(self) -> int:
        return (1 << self.spike_bits) - 1

    def charge(self, s_in: torch.Tensor) -> torch.Tensor:
        """``I`` for ``s_in[batch, T, n_in]`` (int64), pooling first when ``pool`` says so."""
        batch, T, _ = s_in.shape
        if self.pool != (1, 1):
            C, H, W = self.pool_in_shape
            ph, pw = self.pool
            s_in = s_in.reshape(batch * T, C, H // ph, ph, W // pw, pw).sum(dim=(3, 5))
            s_in = s_in.reshape(batch, T, -1)
        return kind(self.kind).charge(self, s_in)

    def to_ir_layer(self) -> DenseLayer | ConvLayer:
        """The IR layer with exactly these integers, a pool folded into the weights."""
        W, geo = fold_pool(self)
        fields = dict(b=self.b.numpy().astype(np.int64), w_bits=self.w_bits, u_bits=self.u_bits,
                      k=self.k, fire_offset=self.fire_offset, spike_bits=self.spike_bits,
                      leak_shift=self.leak_shift, reset=self.reset)
        if self.R is not None:
            fields["R"] = self.R.numpy().astype(np.int64)
        return kind(self.kind).to_ir(W, geo, fields)


def fold_pool(ly: IntegerLayer) -> tuple[np.ndarray, dict]:
    """Weights (and a conv's geometry) of ``ly`` over its *unpooled* input
    (docs/arithmetic.md, "Convolution"): a sum pool ``P`` then a conv ``K``/stride
    ``S``/padding ``Pd`` is the conv ``K*P``/``S*P``/``Pd*P`` with
    ``W'[.., ky*P+dy, kx*P+dx] = W[.., ky, kx]``; a dense layer over the pooled map
    reads every input of a window with that window's weight."""
    if ly.pool != (1, 1):
        ph, pw = ly.pool
        C, H, Wd = ly.pool_in_shape
        if H % ph or Wd % pw:
            raise ExportError(f"a {ph}x{pw} pool does not divide the {C}x{H}x{Wd} map evenly")
    return kind(ly.kind).fold_pool(ly, ly.W.numpy().astype(np.int64))


@dataclass
class IntegerSNN:
    """The integer mode of a quantised model (torch, int64, docs/arithmetic.md exactly)."""

    layers: list[IntegerLayer]
    in_bits: int
    timesteps: int
    readout: str
    name: str = ""

    def run(self, x) -> dict:
        """Run ``x[batch, T, n_in]`` (integers) through docs/arithmetic.md.

        Returns a dict with ``logits`` ``[batch, n_out]``, ``classes``
        ``[batch]`` and ``layers``: per layer a dict of ``I, v, s, u`` tensors
        ``[batch, T, n_out]`` (the conventions of :class:`snnhw.golden.LayerTrace`).
        Layers quantised with ``ste`` (QAT) run on float64 tensors that hold the same
        integers, with gradients.
        """
        ste = self.layers[0].W.is_floating_point()
        x = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
        x = x.to(torch.float64 if ste else torch.int64)
        batch, T, _ = x.shape
        s_in = x
        traces = []
        logits = None
        last = len(self.layers) - 1
        for i, ly in enumerate(self.layers):
            I = ly.charge(s_in)
            if i == last and self.readout == "membrane":
                acc = torch.cumsum(I, dim=1)
                traces.append(dict(I=I, v=acc, s=torch.zeros_like(I), u=acc))
                logits = acc[:, -1]
                break
            lo, hi = signed_range(ly.u_bits)
            u = torch.zeros((batch, I.shape[2]), dtype=x.dtype)
            vs, ss, us = [], [], []
            if ly.R is not None:
                I = I.clone()
            for t in range(T):
                if ly.R is not None and t > 0:    # docs/arithmetic.md, "Recurrence"
                    I[:, t] += torch.matmul(ss[-1], ly.R.T)
                u_l = u if ly.leak_shift is None else u - _shr(u, ly.leak_shift)
                v = torch.clamp(u_l + I[:, t], lo, hi)
                s = torch.clamp(_shr(v + ly.fire_offset, ly.k), 0, ly.s_max)
                u = v - _shl(s, ly.k) if ly.reset == "soft" else torch.where(s > 0, 0, v)
                vs.append(v)
                ss.append(s)
                us.append(u)
            s_all = torch.stack(ss, dim=1)
            traces.append(dict(I=I, v=torch.stack(vs, dim=1), s=s_all, u=torch.stack(us, dim=1)))
            if i == last:
                logits = s_all.sum(dim=1)
            s_in = s_all
        return {"logits": logits, "classes": torch.argmax(logits, dim=1), "layers": traces}

    @classmethod
    def from_ir(cls, net: Network) -> IntegerSNN:
        """The torch integer mode of an IR network (for co-verifying an IR file)."""
        layers = [IntegerLayer(W=torch.as_tensor(ly.W, dtype=torch.int64),
                               b=torch.as_tensor(ly.b, dtype=torch.int64), w_bits=ly.w_bits,
                               u_bits=ly.u_bits, k=ly.k, fire_offset=ly.fire_offset,
                               spike_bits=ly.spike_bits, leak_shift=ly.leak_shift, reset=ly.reset,
                               R=(None if ly.feedback is None
                                  else torch.as_tensor(ly.feedback, dtype=torch.int64)),
                               **kind(ly.kind).ir_geometry(ly))
                  for ly in net.layers]
        return cls(layers=layers, in_bits=net.in_bits, timesteps=net.timesteps,
                   readout=net.readout, name=net.name)

    def to_ir(self) -> Network:
        """The IR network (validated) with exactly these integers."""
        layers = [ly.to_ir_layer() for ly in self.layers]
        return Network(layers=layers, in_bits=self.in_bits, timesteps=self.timesteps,
                       readout=self.readout, name=self.name)


def _choose_k(i: int, m: float, w_bits: int, k_max: int, k_min: int) -> int:
    w_max = (1 << (w_bits - 1)) - 1
    k = k_max if m == 0 else min(k_max, math.floor(math.log2(w_max / m)))
    if k < k_min:
        raise ExportError(
            f"layer {i}: the largest weight is {m:.4g} thresholds per input unit; with "
            f"w_bits={w_bits} that needs k={k}, below the minimum {k_min} for this firing "
            f"rule (raise w_bits, or regularise the weights)")
    return k


K_RULES = ("max", "mse")


def _mse_k(weights: list[torch.Tensor], w_bits: int, k: int, k_max: int) -> int:
    """The ``k`` in ``k..k_max`` (``k``: the largest that holds every weight) whose
    weights, rounded and clipped to ``w_bits``, are nearest the float ones (least squared
    error): a finer step for the many at the cost of clipping a few outliers."""
    w_max = (1 << (w_bits - 1)) - 1
    w = torch.cat([t.detach().reshape(-1) for t in weights])

    def err(kk: int) -> float:
        z = w * 2**kk
        return float(((torch.clamp(torch.round(z), -w_max, w_max) - z) ** 2).sum() / 4**kk)
    return min(range(k, k_max + 1), key=lambda kk: (err(kk), kk))


def _round(x: torch.Tensor, ste: bool, w_bits: int | None = None) -> torch.Tensor:
    """``round(x)`` (clipped to ``w_bits`` when given) as int64, or (``ste``) as float64
    whose gradient is the identity (zero where clipped)."""
    r = torch.round(x)
    if ste:
        r = x + (r - x).detach()
    if w_bits is not None:
        w_max = (1 << (w_bits - 1)) - 1
        r = torch.clamp(r, -w_max, w_max)
    return r if ste else r.to(torch.int64)


def _shr(x: torch.Tensor, n: int) -> torch.Tensor:
    """``x >> n`` (an arithmetic shift: the floor of ``x / 2**n``); on float64 (QAT,
    :mod:`snnhw.nn.qat`) the same value, with the gradient of ``x / 2**n``."""
    if not x.is_floating_point():
        return x >> n
    y = x / (1 << n)
    return y + (torch.floor(y) - y).detach()


def _shl(x: torch.Tensor, n: int) -> torch.Tensor:
    return x * (1 << n) if x.is_floating_point() else x << n


def layer_widths(w_bits, layers: int | None) -> list[int]:
    """``w_bits`` (one weight width, or one per layer) as the ``layers`` widths, each
    in 2..16 (:class:`ExportError` otherwise); ``layers=None``: any count but none (the
    widths as given, a single width as one)."""
    one = isinstance(w_bits, int) and not isinstance(w_bits, bool)
    widths = [w_bits] * (layers or 1) if one else list(w_bits) \
        if isinstance(w_bits, (list, tuple)) and w_bits else None
    if widths is None or not all(isinstance(w, int) and not isinstance(w, bool)
                                 and 2 <= w <= 16 for w in widths):
        raise ExportError(f"w_bits must be an integer in 2..16 or a list of them (one per "
                          f"layer), got {w_bits!r}")
    if layers is not None and len(widths) != layers:
        raise ExportError(f"w_bits gives {len(widths)} widths ({widths_text(w_bits)}); the "
                          f"network has {layers} weight layers: give one width, or {layers}")
    return widths


def widths_text(w_bits) -> str:
    """``4`` or ``8,4,4`` (as the command line takes them)."""
    return str(w_bits) if isinstance(w_bits, int) else ",".join(map(str, w_bits))


def quantize(model, *, w_bits: int | Sequence[int] = 8, u_bits: int = 16,
             headroom: int | None = None, name: str = "", ste: bool = False,
             k_rule: str | None = None) -> IntegerSNN:
    """Quantise a float model (:class:`SpikingMLP`, :class:`~snnhw.nn.conv.SpikingConvNet`)
    into its integer mode (see module doc); ``w_bits``: one width, or one per layer
    (:func:`layer_widths`). ``ste``: the integers as float64 tensors
    with straight-through gradients to the float weights (quantisation-aware
    training, :mod:`snnhw.nn.qat`); the values are the same.

    ``k_rule`` chooses each layer's threshold exponent: ``max`` the largest ``k`` that
    holds every weight, ``mse`` (from there up) the one whose rounded weights, the few
    largest clipped to ``w_bits``, are nearest the float ones. Default: the rule the
    model was trained with (``config["qat"]``), else ``max``.

    Raises
    ------
    ExportError
        When a layer cannot be represented, naming the layer and the value.
    """
    if not 8 <= u_bits <= 32:
        raise ExportError(f"u_bits must be in 8..32, got {u_bits}")
    cfg = model.config
    k_rule = k_rule or (cfg.get("qat") or {}).get("k_rule", "max")
    if k_rule not in K_RULES:
        raise ExportError(f"k_rule must be one of {K_RULES}, got {k_rule!r}")
    spike_bits = cfg.get("spike_bits", 1)
    fire = cfg.get("fire", "half")
    theta = cfg.get("theta", 1.0)
    headroom = spike_bits + 2 if headroom is None else headroom
    folded = model.float_layers()
    widths = layer_widths(w_bits, len(folded))
    layers = []
    last = len(folded) - 1
    b_lim = (1 << (u_bits - 1)) - 1
    for i, (fl, w_bits) in enumerate(zip(folded, widths)):
        W, b = fl.W, fl.b
        readout_only = i == last and model.readout == "membrane"
        Wt, bt = W / theta, b / theta
        Rt = None if fl.R is None else fl.R / theta
        k_max = u_bits - 2 if readout_only else u_bits - 2 - headroom
        if k_max < 1:
            raise ExportError(f"layer {i}: u_bits={u_bits} leaves no room for "
                              f"{headroom} bits of membrane headroom")
        k_min = 1 if fire == "half" and not readout_only else 0
        w_max = float(Wt.detach().abs().max())
        if Rt is not None:
            w_max = max(w_max, float(Rt.detach().abs().max()))
        k = _choose_k(i, w_max, w_bits, k_max, k_min)
        clip = None
        if k_rule == "mse":
            k = _mse_k([Wt] if Rt is None else [Wt, Rt], w_bits, k, k_max)
            clip = w_bits
        b_max = float(bt.detach().abs().max()) if bt.numel() else 0.0
        while k > k_min and round(b_max * 2**k) > b_lim:
            k -= 1
        if round(b_max * 2**k) > b_lim:
            raise ExportError(f"layer {i}: bias {b_max:.4g} thresholds does not fit "
                              f"u_bits={u_bits}")
        Wq = _round(Wt * 2**k, ste, clip)
        bq = _round(bt * 2**k, ste)
        offset = (1 << (k - 1)) - 1 if fire == "half" and k > 0 else 0
        Rq = None if Rt is None else _round(Rt * 2**k, ste, clip)
        layers.append(IntegerLayer(W=Wq, b=bq, R=Rq, w_bits=w_bits, u_bits=u_bits, k=k,
                                   fire_offset=offset, spike_bits=spike_bits,
                                   leak_shift=(model.lif[i].leak_shift if i < len(model.lif)
                                               else cfg.get("leak_shift")),
                                   reset=cfg.get("reset", "soft"), **fl.geometry()))
    return IntegerSNN(layers=layers, in_bits=model.in_bits, timesteps=model.timesteps,
                      readout=model.readout, name=name)
