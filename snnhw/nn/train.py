"""Training a :class:`SpikingMLP` or a :class:`SpikingConvNet` on a data set's training
split, and checkpoints.

A checkpoint is a ``torch.save`` dict of primitives and tensors only
(``kind``, ``config``, ``state_dict``, ``history``), so it loads with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import DIGITS_IN_BITS, DIGITS_MAX, Dataset, Split
from ..errors import SnnhwError
from ..util import atomic_write, printable
from .conv import SpikingConvNet
from .model import SpikingMLP, direct_encode, input_stats
from .rmp import RMPLoss

__all__ = ["TrainConfig", "train", "evaluate", "save_checkpoint", "load_checkpoint",
           "CheckpointError", "check_fit", "checkpoint_data"]

CHECKPOINT_KIND = "snnhw-spiking-mlp"
CNN_CHECKPOINT_KIND = "snnhw-spiking-cnn"


class CheckpointError(SnnhwError, ValueError):
    """A file is not an snnhw checkpoint (or not a readable one)."""


#: the architectures a data set may name (``--arch cnn``, ``--arch rnn``)
NAMED_ARCHS = ("cnn", "rnn")


#: the ranges of TrainConfig's numeric choices (the command line's option types agree)
INT_RANGES = {"timesteps": (1, 1 << 16), "spike_bits": (1, 8), "epochs": (0, 100_000),
              "batch_size": (1, 1 << 20), "seed": (0, 2**32 - 1), "qat_epochs": (0, 100_000),
              "qat_u_bits": (8, 32)}
FLOAT_RANGES = {"lr": (0.0, 100.0), "weight_decay": (0.0, 10.0), "rmp_lambda": (0.0, 1000.0),
                "momentum": (0.0, 1.0), "qat_lr_scale": (0.0, 100.0)}


@dataclass
class TrainConfig:
    """Every training choice; defaults train the digits model in well under 60 s on 2 cores."""

    sizes: tuple[int, ...] = (64, 128, 10)
    timesteps: int = 4
    spike_bits: int = 2
    reset: str = "soft"
    leak_shift: int | None = None
    fire: str = "half"
    mpr: bool = True
    rmp_lambda: float = 0.005
    rmp_schedule: str = "constant"
    readout: str = "membrane"
    bn: bool = False
    epochs: int = 40
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    seed: int = 0
    normalize: bool = False
    data: str = "digits"
    arch: str | None = None       # a CNN (snnhw.nn.conv); None: the MLP of ``sizes``
    # quantisation-aware training (snnhw.nn.qat): after ``epochs`` float epochs,
    # ``qat_epochs`` more in the export's integer arithmetic at these widths, from
    # ``lr * qat_lr_scale`` down a cosine; the model keeps that forward pass
    qat_epochs: int = 0
    qat_w_bits: int | tuple[int, ...] = 8     # one width, or one per layer
    qat_u_bits: int = 16
    qat_lr_scale: float = 0.5
    qat_k_rule: str = "mse"
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_data(cls, data: Dataset, **changes) -> TrainConfig:
        """The config for ``data``: its own training defaults (``Dataset.defaults``;
        ``hidden`` sizes among them), then ``changes``. Sizes follow the data's inputs
        and classes; a temporal data set fixes ``timesteps`` to its length.

        ``arch="cnn"`` or ``"rnn"`` takes the data set's default CNN or recurrent
        network (``defaults["cnn"]``, ``defaults["rnn"]``: its architecture and the
        training choices it was measured with); any other ``arch`` takes the CNN's
        training choices (else the recurrent network's), and never input normalisation
        (a conv network's BatchNorm does that job, and folds exactly)."""
        chosen = {"hidden": (128,), **data.defaults}
        named = {key: chosen.pop(key, None) for key in NAMED_ARCHS}
        if changes.get("arch") is not None:
            arch = changes["arch"]
            if arch in NAMED_ARCHS:
                if not named[arch]:
                    what = "CNN" if arch == "cnn" else "recurrent network"
                    raise ValueError(f"data {data.name!r} has no default {what}: give the "
                                     "layers, e.g. --arch c16k3p1,sp2,d64 or r128")
                recipe = named[arch]
                changes = {**changes, "arch": recipe["arch"]}
            else:
                recipe = next((r for r in named.values() if r), None)
            chosen.update({k: v for k, v in (recipe or {}).items() if k != "arch"})
            chosen["normalize"] = False
            if changes.get("normalize"):
                raise ValueError("a CNN takes no input normalisation (its first BatchNorm "
                                 "does that job); leave out --normalize")
        chosen.update(changes)
        hidden = tuple(int(h) for h in chosen.pop("hidden"))
        if chosen.get("arch") is not None:
            hidden = ()        # a CNN's layers are its arch; sizes say inputs and classes
        if data.temporal:
            T = chosen.pop("timesteps", data.steps)
            if data.steps != T:
                raise ValueError(f"data {data.name!r} is temporal with {data.steps} steps; "
                                 f"T must be {data.steps}, got {T}")
            chosen["timesteps"] = data.steps
        cfg = cls(sizes=(data.n_in, *hidden, data.n_classes), data=data.name, **chosen)
        cfg.check()
        return cfg

    def check(self) -> None:
        """A one-line ``ValueError`` for a choice out of its range (``epochs = 0`` only
        with QAT epochs: a QAT phase from a trained model)."""
        for key, (lo, hi) in INT_RANGES.items():
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{key} must be an integer in {lo}..{hi}, got {v!r}")
        for key, (lo, hi) in FLOAT_RANGES.items():
            v = getattr(self, key)
            if (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
                    or not lo <= v <= hi):
                raise ValueError(f"{key} must be a number in {lo:g}..{hi:g}, got {v!r}")
        from .qat import check_qat

        check_qat({"w_bits": self.qat_w_bits, "u_bits": self.qat_u_bits})
        if self.epochs + self.qat_epochs < 1:
            raise ValueError("epochs must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.leak_shift is not None and (isinstance(self.leak_shift, bool) or not isinstance(
                self.leak_shift, int) or not 1 <= self.leak_shift <= 31):
            raise ValueError(f"leak_shift must be None or an integer in 1..31, got "
                             f"{self.leak_shift!r}")

    def model(self, data: Dataset | Split | None = None) -> SpikingMLP | SpikingConvNet:
        """The untrained model for ``data`` (its ``in_bits`` and input range; its input
        statistics when ``normalize``; its map shape for a CNN); without data, for the
        digits."""
        in_bits = getattr(data, "in_bits", DIGITS_IN_BITS)
        x_max = getattr(data, "x_max", DIGITS_MAX)
        if self.arch is not None:
            if self.normalize:
                raise ValueError("a CNN takes no input normalisation")
            return SpikingConvNet(self.arch, in_shape=getattr(data, "in_shape", (1, 8, 8)),
                                  n_classes=self.sizes[-1], timesteps=self.timesteps,
                                  in_bits=in_bits, in_scale=1.0 / x_max, readout=self.readout,
                                  bn=self.bn, spike_bits=self.spike_bits, reset=self.reset,
                                  leak_shift=self.leak_shift, fire=self.fire, mpr=self.mpr)
        norm = {}
        if self.normalize:
            if data is None:
                raise ValueError("normalize needs the training data")
            mean, std = input_stats(data.x_train)
            norm = {"in_mean": mean, "in_std": std}
        return SpikingMLP(list(self.sizes), timesteps=self.timesteps, in_bits=in_bits,
                          in_scale=1.0 / x_max, readout=self.readout, bn=self.bn,
                          spike_bits=self.spike_bits, reset=self.reset,
                          leak_shift=self.leak_shift, fire=self.fire, mpr=self.mpr, **norm)


def _inputs(x: np.ndarray, T: int) -> torch.Tensor:
    return direct_encode(torch.as_tensor(x, dtype=torch.float32), T)


def check_fit(cfg: TrainConfig, data: Dataset | Split) -> None:
    """A one-line ``ValueError`` when ``cfg`` cannot train on ``data`` (sizes, steps)."""
    n_in = int(data.x_train.shape[-1])
    if cfg.sizes[0] != n_in:
        raise ValueError(f"the network takes {cfg.sizes[0]} inputs, the data has {n_in}")
    n_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    if cfg.sizes[-1] < n_classes:
        raise ValueError(f"the network has {cfg.sizes[-1]} outputs, the data {n_classes} "
                         "classes")
    if data.x_train.ndim == 3 and data.x_train.shape[1] != cfg.timesteps:
        raise ValueError(f"the data is temporal with {data.x_train.shape[1]} steps; train "
                         f"with T={data.x_train.shape[1]}, not {cfg.timesteps}")

@torch.no_grad()
def evaluate(model: SpikingMLP, x: np.ndarray, y: np.ndarray) -> float:
    """Float-model accuracy on integer inputs ``x[n, n_in]`` (direct encoding) or
    ``x[n, T, n_in]``."""
    model.eval()
    model.record(False)
    pred = model(_inputs(x, model.timesteps)).argmax(dim=1).numpy()
    return float((pred == y).mean())


def train(cfg: TrainConfig, data: Split, *, progress: bool = True, model: SpikingMLP | None = None
          ) -> tuple[SpikingMLP, dict]:
    """Train on ``data.x_train``; returns the model and a history dict."""
    check_fit(cfg, data)
    torch.manual_seed(cfg.seed)
    model = model if model is not None else cfg.model(data)
    if cfg.qat_epochs:      # before the float epochs, not after them
        model.check_widths(cfg.qat_w_bits)
    opt = _optimizer(model, cfg, cfg.lr)
    steps_per_epoch = math.ceil(len(data.x_train) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
    rmp = RMPLoss(cfg.rmp_lambda, cfg.rmp_schedule, total_epochs=cfg.epochs)
    x_all = _inputs(data.x_train, cfg.timesteps)
    y_all = torch.as_tensor(data.y_train)
    g = torch.Generator().manual_seed(cfg.seed)
    history = {"loss": [], "rmp": [], "train_acc": [], "seconds": 0.0}
    t0 = time.perf_counter()
    bar = _progress(range(cfg.epochs), progress, "train")
    for epoch in bar:
        model.train()
        model.record(cfg.rmp_lambda > 0)
        _epoch(model, cfg, x_all, y_all, g, opt, sched, history,
               rmp=rmp if cfg.rmp_lambda > 0 else None, epoch=epoch)
        if hasattr(bar, "set_postfix"):   # a bar only on a terminal
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                            acc=f"{history['train_acc'][-1]:.3f}")
    if cfg.qat_epochs:
        _qat(model, cfg, x_all, y_all, steps_per_epoch, history, progress)
    model.record(False)
    history["seconds"] = time.perf_counter() - t0
    model.eval()
    return model, history


def _epoch(model, cfg: TrainConfig, x_all, y_all, g, opt, sched, history: dict, *,
           rmp: RMPLoss | None = None, epoch: int = 0) -> None:
    """One pass over the training split in shuffled batches; the loss, the RMP-Loss term
    (when ``rmp`` is given) and the accuracy into ``history``."""
    ce = nn.CrossEntropyLoss()
    perm = torch.randperm(len(y_all), generator=g)
    tot, tot_rmp, correct = 0.0, 0.0, 0
    for start in range(0, len(perm), cfg.batch_size):
        idx = perm[start:start + cfg.batch_size]
        out = model(x_all[idx])
        loss = ce(out, y_all[idx])
        if rmp is not None and model.neurons:
            reg = rmp(model.neurons, epoch)
            loss = loss + reg
            tot_rmp += float(reg.detach()) * len(idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tot += float(loss.detach()) * len(idx)
        correct += int((out.argmax(1) == y_all[idx]).sum())
    n = len(perm)
    history["loss"].append(tot / n)
    history["rmp"].append(tot_rmp / n)
    history["train_acc"].append(correct / n)


def _optimizer(model, cfg: TrainConfig, lr: float):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {cfg.optimizer!r}")


def _qat(model, cfg: TrainConfig, x_all, y_all, steps_per_epoch: int, history: dict,
         progress: bool) -> None:
    """The QAT phase: the model's forward pass becomes the export's integer arithmetic
    (BatchNorm frozen at its running statistics, no RMP-Loss: the membranes it shapes
    are the float ones), trained from ``lr * qat_lr_scale`` down a cosine with a fresh
    optimizer and shuffle seeded by ``seed`` (the float phase's moment estimates would
    damp the first steps: the same QAT from a float checkpoint, or after the float
    epochs in one run, gives the same model)."""
    model.set_qat(cfg.qat_w_bits, cfg.qat_u_bits, cfg.qat_k_rule)
    model.eval()
    model.record(False)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = _optimizer(model, cfg, cfg.lr * cfg.qat_lr_scale)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.qat_epochs
                                                       * steps_per_epoch)
    bar = _progress(range(cfg.qat_epochs), progress, "QAT")
    for _ in bar:
        _epoch(model, cfg, x_all, y_all, g, opt, sched, history)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}",
                            acc=f"{history['train_acc'][-1]:.3f}")


def _progress(it, enabled: bool, desc: str):
    import sys

    if not enabled or not sys.stderr.isatty():   # no bars redrawn into pipes and logs
        return it
    from tqdm.auto import tqdm
    return tqdm(it, desc=desc, unit="epoch", leave=False)


def save_checkpoint(path: str | Path, model: SpikingMLP, history: dict | None = None,
                    train_config: TrainConfig | None = None, *, data: str | None = None
                    ) -> Path:
    """Write a checkpoint that loads with ``weights_only=True``; ``data`` (default: the
    training config's) names the data set it was made for (:func:`checkpoint_data`)."""
    path = Path(path)
    if data is None:
        data = train_config.data if train_config else "digits"
    with atomic_write(path) as f:
        torch.save({
            "data": str(data),
            "kind": CNN_CHECKPOINT_KIND if isinstance(model, SpikingConvNet) else CHECKPOINT_KIND,
            "config": dict(model.config),
            "state_dict": model.state_dict(),
            "history": history or {},
            "train_config": dataclasses.asdict(train_config) if train_config else {},
        }, f)
    return path


def checkpoint_data(ck: dict) -> str:
    """The data set a checkpoint was made for (``digits`` for older checkpoints)."""
    return str(ck.get("data") or "digits")


MAX_CHECKPOINT_BYTES = 1 << 30
# every keyword SpikingMLP takes (and the MultiBitLIF ones it passes on)
CONFIG_KEYS = {"sizes", "timesteps", "in_bits", "in_scale", "readout", "bn", "encoding", "x_max",
               "leak_shifts", "in_mean", "in_std", "spike_bits", "reset", "leak_shift", "fire",
               "mpr", "theta", "detach_reset", "qat"}
CNN_CONFIG_KEYS = (CONFIG_KEYS - {"sizes", "in_mean", "in_std"}) | {"arch", "in_shape",
                                                                    "n_classes"}


def load_checkpoint(path: str | Path) -> tuple[SpikingMLP | SpikingConvNet, dict]:
    """Rebuild the model from a checkpoint; returns ``(model, checkpoint_dict)``.

    The file is read with ``weights_only=True`` (no code runs) and checked whole: its
    kind, every config key and value, the state dict's names and shapes against the
    config, and finite values. Anything else is a one-line :class:`CheckpointError`
    naming the key; ``FileNotFoundError`` passes through.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise CheckpointError(f"{path}: not a regular file")
    if path.exists() and path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path}: larger than {MAX_CHECKPOINT_BYTES >> 20} MiB")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # torch raises many types for a damaged file
        text = str(exc)
        if "Unsupported global" in text or "can still be loaded" in text:
            raise CheckpointError(f"{path}: not a safe checkpoint (it holds objects other "
                                  "than tensors and plain values); it is not loaded") from None
        # torch's own text may advise unsafe loading: it is not passed on
        why = (text.strip().splitlines() or [""])[0]
        if isinstance(exc, pickle.UnpicklingError) or "weights_only" in why or not why:
            why = "damaged, or not a torch file"
        raise CheckpointError(f"{path}: not a readable checkpoint ({why})") from None
    if not isinstance(ck, dict) or ck.get("kind") not in (CHECKPOINT_KIND, CNN_CHECKPOINT_KIND):
        raise CheckpointError(f"{path}: not an snnhw checkpoint")
    cnn = ck["kind"] == CNN_CHECKPOINT_KIND
    first, keys = ("arch", CNN_CONFIG_KEYS) if cnn else ("sizes", CONFIG_KEYS)
    cfg = ck.get("config")
    if not isinstance(cfg, dict) or first not in cfg:
        raise CheckpointError(f"{path}: key 'config' must be a dict with '{first}'")
    unknown = sorted(printable(str(k)) for k in cfg if k not in keys)
    if unknown:
        raise CheckpointError(f"{path}: unknown config key(s) {', '.join(unknown)}")
    cfg = dict(cfg)
    try:
        model = (SpikingConvNet if cnn else SpikingMLP)(cfg.pop(first), **cfg)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad config: {printable(str(exc))}") from None
    state = ck.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise CheckpointError(f"{path}: key 'state_dict' must map names to tensors")
    want = model.state_dict()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    if missing or extra:
        raise CheckpointError(f"{path}: state_dict does not match its config (missing: "
                              f"{', '.join(map(printable, missing)) or '-'}; unexpected: "
                              f"{', '.join(map(printable, extra)) or '-'})")
    for key, value in state.items():
        if value.layout != torch.strided or value.is_complex() or (
                value.dtype != want[key].dtype and not (value.is_floating_point()
                                                        and want[key].is_floating_point())):
            raise CheckpointError(f"{path}: state_dict['{printable(key)}'] must be a dense "
                                  f"real tensor of {want[key].dtype}, got {value.dtype} "
                                  f"({str(value.layout).replace('torch.', '')})")
        if tuple(value.shape) != tuple(want[key].shape):
            raise CheckpointError(f"{path}: state_dict['{printable(key)}'] has shape "
                                  f"{list(value.shape)}, "
                                  f"its config needs {list(want[key].shape)}")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{path}: state_dict['{printable(key)}'] has NaN or infinite "
                                  "values")
    model.load_state_dict(state)
    model.eval()
    return model, ck
