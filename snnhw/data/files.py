"""User data files: an ``.npz`` with ``x_train, y_train, x_test, y_test``.

Inputs are static ``[n, n_in]`` (the network sees the same values every step)
or temporal ``[n, T, n_in]`` (one row per step). Labels are non-negative
integers ``[n]``. The archive is read with ``allow_pickle=False``.

Integer inputs must lie in ``0 .. 2**in_bits - 1`` (``in_bits`` given, or the
fewest bits that hold the largest training value, at most 16).

Float inputs are quantised by one documented rule: every value is mapped
linearly from the training split's range ``[lo, hi]`` onto
``0 .. 2**in_bits - 1`` (``in_bits`` default 8) and rounded half to even;
test values outside ``[lo, hi]`` are clipped to it. ``lo``, ``hi`` and the
number of clipped test values are kept on the :class:`Dataset`.

An optional array ``in_shape`` (three positive integers ``C, H, W`` whose product
is ``n_in``) says how a convolutional network sees one step's inputs: a map of
``C`` channels, flattened channel-major. Without it the inputs are a 1-D
signal of one channel, ``(1, 1, n_in)``.

Every problem is a :class:`DataError` whose one-line message names the
array (and the file).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..util import npy_header
from . import DataError, Dataset

__all__ = ["load_npz", "quantise_floats", "MAX_IN_BITS", "MAX_FILE_BYTES"]

ARRAYS = ("x_train", "y_train", "x_test", "y_test")
MAX_IN_BITS = 16
MAX_FILE_BYTES = 1 << 31


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DataError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [a for a in ARRAYS if a not in z.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {', '.join(missing)} (an .npz "
                                f"needs {', '.join(ARRAYS)})")
            _check_sizes(path, z.zip, [n for n in (*ARRAYS, "in_shape") if n in z.files])
            out = {}
            for name in ARRAYS + (("in_shape",) if "in_shape" in z.files else ()):
                try:
                    out[name] = z[name]
                except ValueError as exc:  # object arrays: pickle refused
                    raise DataError(f"{path}: array {name} cannot be read without "
                                    f"pickle ({exc})") from None
            return out
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({type(exc).__name__}: "
                        f"{exc})") from None


MAX_DATA_BYTES = 1 << 30   # what the arrays of one data file may take once read


def _check_sizes(path: Path, zf: zipfile.ZipFile, names: list[str]) -> None:
    """Every member's size as its ``.npy`` header declares it (shape times item size),
    checked against what the member holds and against :data:`MAX_DATA_BYTES` in all,
    before any array is allocated: a small compressed file cannot declare gigabytes."""
    total = 0
    for name in names:
        member = f"{name}.npy"
        try:
            info = zf.getinfo(member)
            with zf.open(member) as f:
                shape, _, dtype, declared = npy_header(f)
        except KeyError:
            continue
        if declared > info.file_size:
            raise DataError(f"{path}: array {name} declares {list(shape)} of {dtype} "
                            f"({declared:,} bytes), more than its member holds")
        total += declared
        if total > MAX_DATA_BYTES:
            raise DataError(f"{path}: the arrays take more than {MAX_DATA_BYTES >> 20} MiB "
                            f"once read ({name} reaches {total:,} bytes)")


def _labels(path, name, y, n) -> np.ndarray:
    if y.ndim != 1:
        raise DataError(f"{path}: array {name} must be 1-D labels, got shape {y.shape}")
    if len(y) != n:
        raise DataError(f"{path}: array {name} has {len(y)} labels for {n} inputs")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "b"):
        raise DataError(f"{path}: array {name} must hold integer labels, got dtype {y.dtype}")
    if len(y) and y.min() < 0:
        raise DataError(f"{path}: array {name} has a negative label ({int(y.min())})")
    return y.astype(np.int64)


def quantise_floats(xtr, xte, bits: int):
    """The float rule of the module docstring: ``(x_train, x_test, details)`` as integers
    ``0 .. 2**bits - 1`` over the training range, test values clipped to it."""
    lo, hi = float(xtr.min()), float(xtr.max())
    scale = ((1 << bits) - 1) / (hi - lo) if hi > lo else 0.0

    def quantise(x):
        return np.rint((np.clip(x, lo, hi) - lo) * scale).astype(np.int64)

    details = {"lo": lo, "hi": hi, "in_bits": bits,
               "test_clipped": int(((xte < lo) | (xte > hi)).sum())}
    return quantise(xtr), quantise(xte), details


def load_npz(path, in_bits: int | None = None, *, name: str | None = None) -> Dataset:
    """Read and check a user data file (see the module docstring)."""
    path = Path(path)
    a = _read(path)
    xtr, xte = a["x_train"], a["x_test"]
    for key, x in (("x_train", xtr), ("x_test", xte)):
        if x.ndim not in (2, 3):
            raise DataError(f"{path}: array {key} must be [n, n_in] or [n, T, n_in], got "
                            f"shape {x.shape}")
        if x.dtype.kind not in "iufb":
            raise DataError(f"{path}: array {key} must be numbers, got dtype {x.dtype}")
        if x.shape[0] == 0 or x.size == 0:
            raise DataError(f"{path}: array {key} is empty (shape {x.shape})")
    if xtr.shape[1:] != xte.shape[1:]:
        raise DataError(f"{path}: x_train is {list(xtr.shape[1:])} per sample but x_test is "
                        f"{list(xte.shape[1:])}")
    ytr = _labels(path, "y_train", a["y_train"], len(xtr))
    yte = _labels(path, "y_test", a["y_test"], len(xte))
    if in_bits is not None and not 1 <= in_bits <= MAX_IN_BITS:
        raise DataError(f"in_bits must be in 1..{MAX_IN_BITS}, got {in_bits}")
    floats = xtr.dtype.kind == "f" or xte.dtype.kind == "f"
    info = {}
    if floats:
        for key, x in (("x_train", xtr), ("x_test", xte)):
            if not np.isfinite(x).all():
                raise DataError(f"{path}: array {key} has NaN or infinite values")
        bits = 8 if in_bits is None else in_bits
        xtr_i, xte_i, q = quantise_floats(xtr, xte, bits)
        info = {"quantised": q}
    else:
        xtr_i, xte_i = xtr.astype(np.int64), xte.astype(np.int64)
        for key, x in (("x_train", xtr_i), ("x_test", xte_i)):
            if x.min() < 0:
                raise DataError(f"{path}: array {key} has a negative value ({int(x.min())}); "
                                "inputs are unsigned")
        need = max(int(xtr_i.max()), int(xte_i.max()), 1).bit_length()
        if need > MAX_IN_BITS:
            raise DataError(f"{path}: inputs reach {max(int(xtr_i.max()), int(xte_i.max()))}, "
                            f"more than {MAX_IN_BITS} bits")
        bits = need if in_bits is None else in_bits
        for key, x in (("x_train", xtr_i), ("x_test", xte_i)):
            if x.max() >= 1 << bits:
                raise DataError(f"{path}: array {key} reaches {int(x.max())}, which does not "
                                f"fit in_bits={bits} (0..{(1 << bits) - 1})")
    shape = None
    if "in_shape" in a:
        raw = a["in_shape"]
        n_in = int(xtr.shape[-1])
        if (raw.shape != (3,) or raw.dtype.kind not in "iu" or int(raw.min()) < 1
                or int(np.prod(raw.astype(object))) != n_in):
            raise DataError(f"{path}: array in_shape must be three positive integers C, H, W "
                            f"with C*H*W = {n_in} inputs, got {raw.tolist()!r}")
        shape = tuple(int(v) for v in raw)
    return Dataset(name=name or path.stem, x_train=xtr_i, y_train=ytr, x_test=xte_i,
                   y_test=yte, in_bits=bits, source=str(path), info=info, shape=shape)
