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

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Split", "Dataset", "DataError", "DATASETS", "load_data", "load_digits_split",
           "DIGITS_IN_BITS", "DIGITS_MAX"]

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


class DataError(ValueError):
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


def _digits() -> Dataset:
    d = load_digits_split()
    return Dataset("digits", d.x_train, d.y_train, d.x_test, d.y_test, DIGITS_IN_BITS,
                   source="scikit-learn load_digits, 20 % stratified test split, seed 0")


MNIST1D_IN_BITS = 5


def _mnist1d() -> Dataset:
    from mnist1d.data import get_dataset_args, make_dataset  # never get_dataset: it downloads

    from .files import quantise_floats

    d = make_dataset(get_dataset_args())
    xtr, xte, q = quantise_floats(np.asarray(d["x"]), np.asarray(d["x_test"]),
                                  MNIST1D_IN_BITS)
    return Dataset("mnist1d", xtr, np.asarray(d["y"], np.int64), xte,
                   np.asarray(d["y_test"], np.int64), MNIST1D_IN_BITS,
                   source="mnist1d make_dataset(get_dataset_args()), generated offline",
                   info={"quantised": q})


DATASETS = {"digits": _digits, "mnist1d": _mnist1d}


def load_data(spec: str, *, in_bits: int | None = None) -> Dataset:
    """A registered data set by name, or a user ``.npz`` file by path."""
    if spec in DATASETS:
        return DATASETS[spec]()
    from .files import load_npz

    if not spec.endswith(".npz"):
        raise DataError(f"unknown data set {spec!r}: one of {sorted(DATASETS)}, or a .npz "
                        "file with x_train, y_train, x_test, y_test")
    return load_npz(spec, in_bits)
