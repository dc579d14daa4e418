"""ANN-to-SNN conversion of a ReLU MLP or CNN (docs/training.md).

Baseline, data-based normalisation: for every hidden layer ``l`` take
``lam_l``, a high percentile (default 99.9 %) of its ReLU activations on
calibration data. A spike count ``s`` of a layer with ``s_max`` levels stands
for the activation ``s * lam / s_max`` per step, so the converted weights are
``W'_l = W_l * (lam_{l-1} / s_max_{l-1}) * (s_max_l / lam_l)`` and
``b'_l = b_l * s_max_l / lam_l`` (``lam_0 = 1``, ``s_max_0 = 1``).

Inputs (:class:`InputMap`): the ANN sees features of the raw integers, rates
``x / x_max`` or (``normalize``) ``(x - mean) / std`` per input as trained spiking
networks do. The SNN's input stream is Poisson spikes of rate ``x / x_max`` (``poisson``:
their expectation is the ANN's features) or the integers themselves every step
(``direct``: the SNN's first layer scales or normalises them exactly as the ANN did, and
export folds that into the first layer's weights and bias); normalised features need
``direct``. The last layer is a membrane readout, whose positive scale
does not change the argmax, so only its input scale is applied. A ReLU CNN
(:class:`ReLUCNN`, the layers of :mod:`snnhw.nn.conv`) converts the same way: one
``lam`` per layer over all its channels and positions, the weights of a conv
layer scaled as a whole; a pool acts on the activations in the ANN and on the
spike counts in the SNN, both linear, so it needs no scale of its own.

L4 adjustment: the spread over time of a neuron's pre-firing membrane grows
with the L4 norm of its weight row, which mean-only conversion ignores. The
exact published rule was not available; snnhw scales each hidden neuron's
row (weights and bias) by ``c_i = (rho_i / mean(rho))**(-alpha)`` with
``rho_i = ||w_i||_4 / ||w_i||_2`` (for a conv layer, per output channel over its
whole kernel ``W[c]``: the channel's neurons share it) (scale-free: near ``n**-1/4`` for spread
weights, 1 for one dominant weight). ``alpha = 0`` is no adjustment; the
strength is chosen on calibration data by :func:`choose_l4_strength`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .conv import ArchError, SpikingConvNet, parse_arch, plan_arch
from .folded import fold_batchnorm
from .kinds import kind
from .model import ENCODINGS, SpikingMLP, check_sizes, encode

__all__ = ["InputMap", "ReLUMLP", "ReLUCNN", "train_ann", "activation_scales", "l4_ratio",
           "convert", "choose_l4_strength", "snn_accuracy"]


@dataclass
class InputMap:
    """How raw integer inputs become the ANN's features (``x / x_max``, or with ``mean``
    and ``std`` ``(x - mean) / std``) and the converted SNN's input stream
    (``encoding``: ``poisson`` spikes of rate ``x / x_max``, or ``direct``: the
    ``in_bits``-bit integers every step)."""

    encoding: str = "poisson"
    x_max: float = 16.0
    in_bits: int = 5
    mean: list | None = None
    std: list | None = None

    def __post_init__(self):
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.mean is not None and self.encoding != "direct":
            raise ValueError("normalised inputs convert with direct encoding only (Poisson "
                             "rates cannot be negative)")

    def features(self, x) -> torch.Tensor:
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        if self.mean is None:
            return x / self.x_max
        return (x - torch.as_tensor(self.mean, dtype=torch.float32)) / torch.as_tensor(
            self.std, dtype=torch.float32)

    def snn_options(self) -> dict:
        """The SNN's input options (``SpikingMLP`` / ``SpikingConvNet`` keywords)."""
        if self.encoding == "poisson":
            return {"in_bits": 1, "in_scale": 1.0, "encoding": "poisson",
                    "x_max": float(self.x_max)}
        norm = {} if self.mean is None else {"in_mean": list(self.mean),
                                             "in_std": list(self.std)}
        return {"in_bits": int(self.in_bits), "in_scale": 1.0 / self.x_max,
                "encoding": "direct", "x_max": float(self.x_max), **norm}


class ReLUMLP(nn.Module):
    """Non-spiking ``Linear -> ReLU`` network; inputs are rates in ``[0, 1]``."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = check_sizes(sizes)
        self.fc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def forward(self, x, *, return_hidden: bool = False):
        hidden = []
        for i, fc in enumerate(self.fc):
            x = fc(x)
            if i < len(self.fc) - 1:
                x = torch.relu(x)
                hidden.append(x)
        return (x, hidden) if return_hidden else x

    def spiking(self, **kw) -> SpikingMLP:
        return SpikingMLP(self.sizes, **kw)


class ReLUCNN(nn.Module):
    """Non-spiking CNN of an ``--arch`` text (:mod:`snnhw.nn.conv`): ``conv -> ReLU ->
    [pool]`` blocks, dense ``-> ReLU`` layers, a last dense layer; inputs are rates.
    ``bn``: BatchNorm after every layer but the last (folded into it by
    :func:`convert`, eval-mode statistics)."""

    def __init__(self, arch, in_shape, n_classes: int, bn: bool = False):
        super().__init__()
        self.arch, self.in_shape, self.n_classes = parse_arch(arch), tuple(in_shape), n_classes
        self.plan = plan_arch(self.arch, self.in_shape, n_classes)
        last = len(self.plan) - 1
        mods = [kind(p["kind"]).torch_modules(p, bn and i < last)
                for i, p in enumerate(self.plan)]
        self.fc = nn.ModuleList(op for op, _ in mods)
        self.bn = nn.ModuleList(norm for _, norm in mods)   # folded into fc by convert
        for p, op in zip(self.plan, self.fc):
            if hasattr(op, "feedback"):
                raise ArchError(f"--arch: {p['token']!r} is recurrent; ANN-to-SNN conversion "
                                "takes feed-forward layers (train it with 'snnhw train')")

    def forward(self, x, *, return_hidden: bool = False):
        x = x.reshape(len(x), *self.in_shape)
        hidden = []
        for i, (p, op) in enumerate(zip(self.plan, self.fc)):
            x = self.bn[i](op(kind(p["kind"]).shape_input(x)))
            if i < len(self.fc) - 1:
                x = torch.relu(x)
                hidden.append(x)
                if "pool_after" in p:
                    average, win = p["pool_after"]
                    x = nn.functional.avg_pool2d(x, win) * (1 if average else win[0] * win[1])
        return (x, hidden) if return_hidden else x

    def spiking(self, **kw) -> SpikingConvNet:
        return SpikingConvNet(self.arch, in_shape=self.in_shape, n_classes=self.n_classes, **kw)


def train_ann(sizes, x: np.ndarray, y: np.ndarray, *, epochs: int = 60, lr: float = 0.05,
              seed: int = 0, x_max: float = 16.0, net: nn.Module | None = None,
              inputs: InputMap | None = None, optimizer: str = "sgd") -> ReLUMLP | ReLUCNN:
    """Train a ReLU MLP of ``sizes`` (or the given ``net``, e.g. a :class:`ReLUCNN`) on
    the features of integer inputs (``inputs``; default: scaled to ``[0, 1]`` by
    ``x_max``) with ``optimizer`` (``sgd`` with momentum 0.9, or ``adam``) from ``lr``
    down a cosine."""
    torch.manual_seed(seed)
    net = ReLUMLP(sizes) if net is None else net
    if optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    xt = (inputs or InputMap(x_max=x_max)).features(x)
    yt = torch.as_tensor(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(yt), generator=g)
        for start in range(0, len(perm), 32):
            idx = perm[start:start + 32]
            loss = nn.functional.cross_entropy(net(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    net.eval()
    return net


@torch.no_grad()
def activation_scales(ann: ReLUMLP | ReLUCNN, rates: torch.Tensor,
                      percentile: float = 99.9) -> list[float]:
    """``lam_l`` of every hidden layer: a percentile of its ReLU activations."""
    _, hidden = ann(rates, return_hidden=True)
    out = []
    for h in hidden:
        lam = float(np.percentile(h.numpy().ravel(), percentile))
        out.append(lam if lam > 0 else 1.0)
    return out


def l4_ratio(W: torch.Tensor) -> torch.Tensor:
    """``||w_i||_4 / ||w_i||_2`` per row (a conv: per output channel; 1.0 for zeros)."""
    W = W.reshape(W.shape[0], -1)
    l2 = W.norm(p=2, dim=1)
    l4 = W.norm(p=4, dim=1)
    return torch.where(l2 > 0, l4 / l2.clamp(min=1e-30), torch.ones_like(l2))


@torch.no_grad()
def convert(ann: ReLUMLP | ReLUCNN, calib_rates: torch.Tensor, *, timesteps: int,
            spike_bits: int = 1, percentile: float = 99.9, l4_strength: float = 0.0,
            reset: str = "soft", x_max: float = 16.0, inputs: InputMap | None = None
            ) -> SpikingMLP | SpikingConvNet:
    """A rate-coded :class:`SpikingMLP` or :class:`SpikingConvNet` (IF neurons) from
    ``ann``; ``calib_rates`` are the ANN's input features of the calibration data, and
    ``inputs`` the SNN's input stream (default: Poisson of ``x / x_max``)."""
    inputs = inputs or InputMap(x_max=x_max)
    lams = activation_scales(ann, calib_rates, percentile)
    s_max = (1 << spike_bits) - 1
    snn = ann.spiking(timesteps=timesteps, readout="membrane", spike_bits=spike_bits,
                      reset=reset, leak_shift=None, fire="floor", mpr=False,
                      **inputs.snn_options())
    prev_lam, prev_smax = 1.0, 1
    last = len(ann.fc) - 1
    for i, (fc, dst) in enumerate(zip(ann.fc, snn.fc if hasattr(snn, "fc") else snn.ops)):
        W, b = fold_batchnorm(fc, ann.bn[i] if hasattr(ann, "bn") else nn.Identity())
        W, b = W.float(), b.float()
        W = W * (prev_lam / prev_smax)
        if i < last:
            W, b = W * (s_max / lams[i]), b * (s_max / lams[i])
            if l4_strength:
                rho = l4_ratio(W)
                c = (rho / rho.mean()) ** (-l4_strength)
                W, b = W * c.reshape(-1, *([1] * (W.dim() - 1))), b * c
            prev_lam, prev_smax = lams[i], s_max
        dst.weight.copy_(W)
        dst.bias.copy_(b)
    snn.eval()
    return snn


@torch.no_grad()
def snn_accuracy(snn: SpikingMLP | SpikingConvNet, x: np.ndarray, y: np.ndarray, *, seed: int,
                 x_max: float = 16.0) -> float:
    """Accuracy of a converted SNN on raw inputs ``x``, encoded as its config says
    (seeded Poisson spikes of ``x / x_max``, or direct)."""
    pred = snn(encode(snn.config, x, seed).to(torch.float32)).argmax(1).numpy()
    return float((pred == y).mean())


def choose_l4_strength(ann: ReLUMLP | ReLUCNN, calib_x: np.ndarray, calib_y: np.ndarray, *,
                       timesteps: int, spike_bits: int = 1,
                       grid=(-1.0, -0.5, 0.0, 0.5, 1.0, 2.0), seed: int = 0,
                       x_max: float = 16.0, percentile: float = 99.9,
                       inputs: InputMap | None = None) -> tuple[float, dict]:
    """Pick ``alpha`` from ``grid`` by calibration accuracy (ties: smallest ``|alpha|``)."""
    inputs = inputs or InputMap(x_max=x_max)
    rates = inputs.features(calib_x)
    scores = {}
    for alpha in grid:
        snn = convert(ann, rates, timesteps=timesteps, spike_bits=spike_bits, l4_strength=alpha,
                      percentile=percentile, inputs=inputs)
        scores[alpha] = snn_accuracy(snn, calib_x, calib_y, seed=seed, x_max=x_max)
    best = max(scores, key=lambda a: (scores[a], -abs(a)))
    return best, scores
