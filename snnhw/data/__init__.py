"""Datasets: a small registry of named data sets, and user files.

``load_data(NAME_OR_FILE)`` returns a :class:`Dataset` (integer inputs, fixed
split). Registered names:

* ``digits`` (the default): scikit-learn's bundled 8x8 digits (no download).
  Pixels are integers 0..16 (``in_bits = 5``). The split is fixed: 20 % test,
  stratified by class, ``random_state=0`` -- 1437 training and 360 test
  samples, static inputs ``[n, 64]``.

* ``mnist1d``: MNIST-1D, generated offline by the ``mnist1d`` package
  (``make_dataset(get_dataset_args())``, its fixed seed: 4000 training and
  1000 test samples of 40 positions, 10 classes; nothing is downloaded). The
  float signal is quantised to ``in_bits = 5`` by the user-file rule
  (linear over the training range, :func:`snnhw.data.files.quantise_floats`)
  and fed as static inputs ``[n, 40]``.

Anything else is read as a user ``.npz`` file (:mod:`snnhw.data.files`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..errors import SnnhwError

__all__ = ["Split", "Dataset", "DataError", "DATASETS", "load_data", "load_digits_split",
           "DIGITS_IN_BITS", "DIGITS_MAX", "thermometer"]

DIGITS_IN_BITS = 5
DIGITS_MAX = 16


@dataclass
class Split:
    x_train: np.ndarray  # [n, 64] int64, 0..16
    y_train: np.ndarray  # [n] int64
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(seed: int = 0, test_fraction: float = 0.2) -> Split:
    """The fixed digits split (defaults give the split the README states)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = d.data.astype(np.int64)
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                          stratify=y)
    return Split(xtr, ytr, xte, yte)


class DataError(SnnhwError, ValueError):
    """Data that cannot be used; the one-line message names the array or the problem."""


@dataclass
class Dataset:
    """A data set with a fixed split; inputs are unsigned integers of ``in_bits``.

    ``x_*`` are static ``[n, n_in]`` or temporal ``[n, T, n_in]``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    in_bits: int
    source: str = ""
    info: dict = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)
    shape: tuple[int, int, int] | None = None

    @property
    def in_shape(self) -> tuple[int, int, int]:
        """How a conv network sees one step's inputs: ``(C, H, W)``, channel-major
        (``shape`` when the data set gives one, else a 1-D signal ``(1, 1, n_in)``)."""
        return tuple(self.shape) if self.shape else (1, 1, self.n_in)

    @property
    def temporal(self) -> bool:
        return self.x_test.ndim == 3

    @property
    def n_in(self) -> int:
        return int(self.x_test.shape[-1])

    @property
    def steps(self) -> int | None:
        """Steps of a temporal data set (``None`` for static inputs)."""
        return int(self.x_test.shape[1]) if self.temporal else None

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def x_max(self) -> int:
        """The largest training input value (at least 1): the float model sees
        ``x / x_max`` when the inputs are not normalised."""
        return max(int(self.x_train.max()), 1)

    def fits(self, n_in: int, timesteps: int) -> bool:
        """Whether a network of ``n_in`` inputs over ``timesteps`` steps takes these inputs
        (static data repeats over any number of steps)."""
        return self.n_in == n_in and (not self.temporal or self.steps == timesteps)

    def shape_text(self) -> str:
        return f"[{self.steps}, {self.n_in}]" if self.temporal else f"[{self.n_in}]"


def _digits() -> Dataset:
    d = load_digits_split()
    return Dataset("digits", d.x_train, d.y_train, d.x_test, d.y_test, DIGITS_IN_BITS,
                   source="scikit-learn load_digits, 20 % stratified test split, seed 0",
                   shape=(1, 8, 8), defaults={"cnn": dict(DIGITS_CNN)})


MNIST1D_IN_BITS = 5
MNIST1D_LEVELS = 8
MNIST1D_DEFAULTS = {"hidden": (256, 128), "optimizer": "adam", "lr": 2e-3, "epochs": 60,
                    "weight_decay": 1e-4, "batch_size": 64, "normalize": True, "bn": True}


@functools.lru_cache(maxsize=1)
def _mnist1d_floats():
    from mnist1d.data import get_dataset_args, make_dataset  # never get_dataset: it downloads

    d = make_dataset(get_dataset_args())
    return (np.asarray(d["x"]), np.asarray(d["y"], np.int64), np.asarray(d["x_test"]),
            np.asarray(d["y_test"], np.int64))


#: default spiking CNNs (``snnhw train --arch cnn``): the architecture and the training
#: choices that differ from the MLP's (measured in docs/data.md)
DIGITS_CNN = {"arch": "c16k3p1,sp2,c32k3p1,sp2,d128", "optimizer": "adam", "lr": 2e-3,
              "epochs": 40, "batch_size": 64, "bn": True}
MNIST1D_CNN = {"arch": "c32k5p2,sp2,c32k3p1,sp2,c32k3p1,sp2,d128", "optimizer": "adam",
               "lr": 2e-3, "epochs": 40, "batch_size": 64, "bn": True}


#: the recurrent network of mnist1d-temporal (``--arch rnn``) and its training choices;
#: exported at 10-bit weights (BatchNorm folds large input weights into the first layer)
MNIST1D_TEMPORAL_RNN = {"arch": "r128", "optimizer": "adam", "lr": 5e-3, "epochs": 60,
                        "batch_size": 64, "bn": True}


def _mnist1d() -> Dataset:
    from .files import quantise_floats

    xtr, ytr, xte, yte = _mnist1d_floats()
    xtr, xte, q = quantise_floats(xtr, xte, MNIST1D_IN_BITS)
    return Dataset("mnist1d", xtr, ytr.copy(), xte, yte.copy(), MNIST1D_IN_BITS,
                   source="mnist1d make_dataset(get_dataset_args()), generated offline",
                   info={"quantised": q},
                   defaults={**MNIST1D_DEFAULTS, "cnn": dict(MNIST1D_CNN)}, shape=(1, 1, 40))


def thermometer(levels: np.ndarray, n_levels: int) -> np.ndarray:
    """Integer levels ``0..n_levels-1`` -> ``n_levels - 1`` binary channels (last axis):
    channel ``c`` is 1 when the level exceeds ``c``."""
    return (levels[..., None] > np.arange(n_levels - 1)).astype(np.int64)


def _mnist1d_temporal() -> Dataset:
    from .files import quantise_floats

    xtr, ytr, xte, yte = _mnist1d_floats()
    bits = (MNIST1D_LEVELS - 1).bit_length()
    ltr, lte, q = quantise_floats(xtr, xte, bits)
    return Dataset("mnist1d-temporal", thermometer(ltr, MNIST1D_LEVELS), ytr.copy(),
                   thermometer(lte, MNIST1D_LEVELS), yte.copy(), 1,
                   source="mnist1d make_dataset(get_dataset_args()), generated offline; "
                          "one position per step, thermometer code of 8 levels",
                   info={"quantised": q, "levels": MNIST1D_LEVELS},
                   defaults={**MNIST1D_DEFAULTS, "normalize": False, "leak_shift": 3,
                             "epochs": 10, "rnn": dict(MNIST1D_TEMPORAL_RNN)})


DATASETS = {"digits": _digits, "mnist1d": _mnist1d, "mnist1d-temporal": _mnist1d_temporal}


def load_data(spec: str, *, in_bits: int | None = None) -> Dataset:
    """A registered data set by name, or a user ``.npz`` file by path."""
    if spec in DATASETS:
        return DATASETS[spec]()
    from .files import load_npz

    if not spec.endswith(".npz"):
        raise DataError(f"unknown data set {spec!r}: one of {sorted(DATASETS)}, or a .npz "
                        "file with x_train, y_train, x_test, y_test")
    return load_npz(spec, in_bits)
