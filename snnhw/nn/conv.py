"""A spiking CNN: conv -> [BN] -> multi-bit LIF -> [sum/avg pool] blocks, then dense layers.

The architecture is a short text (``--arch``), comma separated, read left to
right on the input map ``in_shape = (C, H, W)`` of the data (a 1-D signal is
``H = 1``):

* ``c<C>k<K>[s<S>][p<P>]``: a conv layer of ``C`` output channels, kernel ``K``,
  stride ``S`` (1), zero padding ``P`` (0). On a 2-D map the kernel is ``K x K``;
  on a 1-D map (``H = 1``) it is ``1 x K`` (stride and padding likewise). Any of
  the three may be written ``AxB`` for a rectangle (height ``A``, width ``B``).
* ``sp<P>`` / ``ap<P>``: sum / average pooling of the spikes by ``P`` (window =
  stride; on a 1-D map ``1 x P``; ``AxB`` for a rectangle). It must follow a conv
  layer and divide its map evenly; export folds it into the next layer (docs/arithmetic.md,
  "Convolution"). There is no max pooling (it is not linear).
* ``d<N>``: a dense layer of ``N`` neurons over the flattened map.
* ``r<N>``: a recurrent dense layer of ``N`` neurons (docs/arithmetic.md,
  "Recurrence"): it also reads its own spikes of the step before, trained by
  backpropagation through the sample's steps.

The last dense layer, to the classes, is always added (like ``--hidden`` for the
MLP): ``c16k5p2,ap2,d64`` on MNIST-1D is conv 1->16, pool, dense 320->64, dense
64->10. Neurons, readout, BatchNorm (per channel, folded at export) and the
input scale work as in :class:`~snnhw.nn.model.SpikingMLP`.
"""

from __future__ import annotations

import re

import torch
from torch import nn
from torch.nn import functional

from ..errors import SnnhwError
from ..ir import READOUTS, conv_out_size
from .folded import FloatLayer, fold_batchnorm
from .kinds import conv as conv_kind
from .kinds import dense as dense_kind
from .kinds import kind
from .kinds import recurrent as recurrent_kind
from .model import ENCODINGS, MAX_PARAMETERS
from .neuron import SpikingLayers, neuron_list
from .qat import check_qat

__all__ = ["SpikingConvNet", "parse_arch", "plan_arch", "ArchError"]

_PAIR = r"\d+(?:x\d+)?"
_CONV = re.compile(rf"c(\d+)k({_PAIR})(?:s({_PAIR}))?(?:p({_PAIR}))?")
_POOL = re.compile(rf"(sp|ap)({_PAIR})")
_DENSE = re.compile(r"([dr])(\d+)")
MAX_SIDE = 1 << 12


class ArchError(SnnhwError, ValueError):
    """An architecture text that cannot be built on the given input."""


def parse_arch(text) -> list[str]:
    """The tokens of an architecture text (a list passes through), each checked alone."""
    if not isinstance(text, (str, list, tuple)):
        raise ArchError(f"an architecture is a text of layers like c16k5p2,ap2,d64, got "
                        f"{text!r}")
    tokens = [t.strip() for t in (text.split(",") if isinstance(text, str) else list(text))]
    if not tokens or not all(tokens):
        raise ArchError(f"--arch needs comma-separated layers like c16k5p2,ap2,d64; got "
                        f"{text!r}")
    for t in tokens:
        if not isinstance(t, str) or not (_CONV.fullmatch(t) or _POOL.fullmatch(t)
                                          or _DENSE.fullmatch(t)):
            raise ArchError(f"--arch: {t!r} is not a layer (c<C>k<K>[s<S>][p<P>], sp<P>, "
                            "ap<P>, d<N> or r<N>; max pooling is not linear and has no place "
                            "here)")
    return tokens


def plan_arch(tokens, in_shape, n_classes: int, last: str = "d") -> list[dict]:
    """Every layer's geometry, the final layer added (dense, or recurrent with
    ``last="r"``); an :class:`ArchError` names the first token that cannot be built (an
    empty map, an uneven pool, too many weights)."""
    tokens = parse_arch(tokens)
    shape = tuple(int(v) for v in in_shape)
    one_d = shape[1] == 1
    plan, pool, pooled_from, weights = [], None, None, 0
    for t in [*tokens, f"{last}{n_classes}"]:
        if m := _CONV.fullmatch(t):
            if shape is None:
                raise ArchError(f"--arch: conv layer {t!r} after a dense layer (it has no map)")
            c = int(m.group(1))
            kernel, stride, padding = (_pair(v, d, one_d) for v, d in
                                       zip(m.groups()[1:], ("", "1", "0")))
            if not (1 <= c <= MAX_SIDE and min(kernel + stride) >= 1
                    and max(kernel + stride + padding) <= MAX_SIDE):
                raise ArchError(f"--arch: {t!r}: channels, kernel and stride must be "
                                f"1..{MAX_SIDE}, padding 0..{MAX_SIDE}")
            out = (c, conv_out_size(shape[1], kernel[0], stride[0], padding[0]),
                   conv_out_size(shape[2], kernel[1], stride[1], padding[1]))
            if min(out[1:]) < 1:
                raise ArchError(f"--arch: {t!r} does not fit the {_text(shape)} map it gets")
            plan.append({"kind": conv_kind.NAME, "token": t, "in_shape": shape, "out_shape": out,
                         "kernel": kernel, "stride": stride, "padding": padding,
                         "pool": pool or (1, 1), "pool_in_shape": pool and pooled_from})
            weights += c * shape[0] * kernel[0] * kernel[1]
            shape, pool = out, None
        elif m := _POOL.fullmatch(t):
            if not plan or not kind(plan[-1]["kind"]).MAP_OUT or pool is not None:
                raise ArchError(f"--arch: pool {t!r} must follow a conv layer")
            win = _pair(m.group(2), "", one_d)
            if min(win) < 1 or shape[1] % win[0] or shape[2] % win[1]:
                raise ArchError(f"--arch: pool {t!r} does not divide the {_text(shape)} map "
                                "evenly (the fold into the next layer needs it to)")
            pooled_from = shape
            pool = win
            plan[-1]["pool_after"] = (t[0] == "a", win)
            shape = (shape[0], shape[1] // win[0], shape[2] // win[1])
        else:
            m = _DENSE.fullmatch(t)
            n = int(m.group(2))
            n_in = shape[0] * shape[1] * shape[2] if shape is not None else plan[-1]["n_out"]
            if not 1 <= n <= 1 << 20:
                raise ArchError(f"--arch: {t!r}: a dense layer has 1..{1 << 20} neurons")
            plan.append({"kind": (dense_kind if m.group(1) == "d" else recurrent_kind).NAME,
                         "token": t, "n_in": n_in, "n_out": n,
                         "pool": pool or (1, 1), "pool_in_shape": pool and pooled_from,
                         "in_shape": shape})
            weights += n * n_in
            shape, pool = None, None
        if weights > MAX_PARAMETERS:
            raise ArchError(f"--arch {','.join(tokens)} needs more than {MAX_PARAMETERS:,} "
                            "weights")
    return plan


def _pair(text: str | None, default: str, one_d: bool) -> tuple[int, int]:
    """``"K"`` -> ``(K, K)`` (``(1, K)`` on a 1-D map; padding ``(0, P)``);
    ``"AxB"`` -> ``(A, B)``."""
    text = default if text is None else text
    if "x" in text:
        a, b = text.split("x")
        return int(a), int(b)
    v = int(text)
    return ((0 if default == "0" else 1), v) if one_d else (v, v)


def _text(shape) -> str:
    return "x".join(map(str, shape))


class SpikingConvNet(SpikingLayers, nn.Module):
    """Convolutional spiking network; ``config`` holds only primitives (for checkpoints).

    Parameters
    ----------
    arch : str or list of str
        The layers (module docstring), without the final dense layer.
    in_shape : (C, H, W)
        The input map; the data's flat inputs are it, channel-major.
    n_classes : int
    recurrent_readout : bool
        The final layer is recurrent (``readout="spikes"`` only: a membrane readout
        does not fire, so it cannot feed back).
    timesteps, in_bits, in_scale, readout, bn, encoding, x_max, leak_shifts, **neuron
        As :class:`~snnhw.nn.model.SpikingMLP` (no input normalisation: a per-input
        shift is not a conv's weight-shared bias; BatchNorm after the first conv does
        the same job and folds exactly).
    """

    def __init__(self, arch, *, in_shape, n_classes: int, timesteps: int = 4, in_bits: int = 5,
                 in_scale: float = 1 / 16, readout: str = "membrane", bn: bool = False,
                 encoding: str = "direct", x_max: float = 16.0, leak_shifts: list | None = None,
                 recurrent_readout: bool = False, qat: dict | None = None, **neuron):
        super().__init__()
        if recurrent_readout and readout != "spikes":
            raise ArchError("a recurrent last layer needs readout='spikes' (a membrane "
                            "readout does not fire, so it has nothing to feed back)")
        if (not isinstance(in_shape, (list, tuple)) or len(in_shape) != 3
                or not all(isinstance(v, int) and v >= 1 for v in in_shape)):
            raise ArchError(f"in_shape must be three positive integers, got {in_shape!r}")
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
            raise ArchError(f"n_classes must be a positive integer, got {n_classes!r}")
        for key, value, lo, hi in (("timesteps", timesteps, 1, 1 << 16),
                                   ("in_bits", in_bits, 1, 16)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{key} must be an integer in {lo}..{hi}, got {value!r}")
        if not (isinstance(in_scale, (int, float)) and in_scale > 0 and in_scale < float("inf")):
            raise ValueError(f"in_scale must be a positive finite number, got {in_scale!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        tokens = parse_arch(arch)
        self.plan = plan_arch(tokens, in_shape, n_classes, "r" if recurrent_readout else "d")
        self.config = dict(arch=tokens, in_shape=[int(v) for v in in_shape],
                           n_classes=int(n_classes), timesteps=int(timesteps),
                           in_bits=int(in_bits), in_scale=float(in_scale), readout=readout,
                           bn=bool(bn), encoding=encoding, x_max=float(x_max), **neuron)
        if leak_shifts is not None:
            self.config["leak_shifts"] = list(leak_shifts)
        if recurrent_readout:
            self.config["recurrent_readout"] = True
        if qat is not None:
            self.config["qat"] = check_qat(qat)
        self.timesteps, self.in_bits, self.in_scale = int(timesteps), int(in_bits), float(in_scale)
        self.readout = readout
        self.normalised = False
        self.in_shape = tuple(in_shape)
        n_layers = len(self.plan)
        spiking = n_layers if readout == "spikes" else n_layers - 1
        self.ops = nn.ModuleList()
        self.bn = nn.ModuleList()
        for i, ly in enumerate(self.plan):
            op, norm = kind(ly["kind"]).torch_modules(ly, bn and i < n_layers - 1)
            self.ops.append(op)
            self.bn.append(norm)
        self.lif = neuron_list(spiking, neuron, leak_shifts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[batch, T, n_in]`` integer-valued inputs -> logits ``[batch, n_out]`` (with
        ``qat`` set, in the export's integer arithmetic: :mod:`snnhw.nn.qat`)."""
        if "qat" in self.config:
            return self.integer_logits(x)
        batch, T, _ = x.shape
        s = x.transpose(0, 1).reshape(T * batch, *self.in_shape) * self.in_scale
        out = None
        for i, (ly, op) in enumerate(zip(self.plan, self.ops)):
            s = kind(ly["kind"]).shape_input(s)
            I = self.bn[i](op(s))
            if i < len(self.lif):
                spikes = self.lif[i](I.reshape(T, batch, *I.shape[1:]),
                                     feedback=getattr(op, "feedback", None))
                s = spikes.reshape(T * batch, *I.shape[1:])
                if "pool_after" in ly:
                    average, win = ly["pool_after"]
                    s = functional.avg_pool2d(s, win) * (1 if average else win[0] * win[1])
                out = spikes
            else:
                out = I.reshape(T, batch, -1)
        return out.reshape(T, batch, -1).mean(dim=0)

    def float_layers(self) -> list[FloatLayer]:
        """The layers with BN, the input scale and average pools folded (:mod:`.folded`)."""
        out = []
        for i, (ly, op, bn) in enumerate(zip(self.plan, self.ops, self.bn)):
            W, b = fold_batchnorm(op, bn)
            if i == 0:
                W = W * self.in_scale
            if i > 0 and self.plan[i - 1].get("pool_after", (False, None))[0]:
                ph, pw = ly["pool"]
                W = W / (ph * pw)            # the layer reads sum-pooled spikes
            geo = {"pool": tuple(ly["pool"]),
                   "pool_in_shape": tuple(ly["pool_in_shape"]) if ly["pool_in_shape"] else None}
            out.append(kind(ly["kind"]).float_layer(ly, W, b, geo, op))
        return out
