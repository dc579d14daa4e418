"""Small helpers every stage shares: widths of two's-complement values, lanes per
layer, the plain-text table of the command-line reports, and safe output files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import SnnhwError

__all__ = ["signed_bits", "signed_range", "lanes_per_layer", "format_table", "OutputError",
           "prepare_output", "atomic_write", "atomic_path", "write_text_atomic", "printable",
           "safe_name"]


def signed_bits(bound: int) -> int:
    """Width of a two's-complement register that holds every value in ``[-bound, bound]``."""
    return int(bound).bit_length() + 1


def signed_range(bits: int) -> tuple[int, int]:
    """``(lo, hi)`` of a ``bits``-wide two's-complement value."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def lanes_per_layer(lanes, n_layers: int) -> list[int]:
    """``lanes`` (one positive integer for every layer, or one per layer) as a list.

    Raises ``ValueError`` naming what was given when it is neither.
    """
    values = [lanes] * n_layers if isinstance(lanes, int) else list(lanes)
    if len(values) != n_layers or any(
            isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in values):
        raise ValueError(f"lanes must be a positive integer or {n_layers} of them, "
                         f"got {lanes!r}")
    return values


def format_table(rows: list[list], header: list[str]) -> str:
    """Left-aligned plain-text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class OutputError(SnnhwError, ValueError):
    """An output path that cannot be written; the one-line message says why."""


def prepare_output(path, what: str = "output", *, inputs=()) -> Path:
    """Check, before any work, that a file can be written at ``path``: not a folder nor
    any other non-regular file (a device, a pipe), not one of ``inputs`` (the files the
    command reads; compared after resolving ``.``, ``..`` and symbolic links), its
    folder creatable (made here) and writable. Raises :class:`OutputError`."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise OutputError(f"{what} {path} is not a regular file (a device or a pipe); give "
                          "a file name")
    for given in inputs:
        if given is not None and _same_file(path, Path(given)):
            raise OutputError(f"{what} {path} is the input {given}: writing it would destroy "
                              "the input; give another name")
    parent = path.parent
    for up in (parent, *parent.parents):
        if up.exists():
            if not up.is_dir():
                raise OutputError(f"{what} {path}: {up} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{what} {path}: cannot create folder {parent} "
                          f"({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: folder {parent} is not writable")
    return path


def npy_header(f):
    """``(shape, fortran_order, dtype, nbytes)`` from the ``.npy`` header at the position
    of the binary file object ``f`` (left just after the header), nothing allocated:
    ``nbytes`` is what the header declares the data to take. Versions 1.0 and 2.0; a
    ``ValueError`` for anything else."""
    import numpy as np

    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported npy version {version}")
    count = 1
    for dim in shape:
        count *= int(dim)
    return shape, fortran, dtype, count * dtype.itemsize


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one existing file (through ``.``, ``..``, hard or
    symbolic links). A data set's name or a missing input is no file."""
    try:
        return a.exists() and b.is_file() and os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; when the block succeeds, the file written
    there replaces ``path`` in one step (``fsync``, then ``os.replace``). On any error the
    temporary file is removed and ``path`` is left as it was; an operating-system error
    (a full disk, a file too large, an I/O error, no permission, a name too long) is an
    :class:`OutputError` naming ``path`` and the reason."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        why = _write_failure(exc)
        if why is not None:
            raise OutputError(f"cannot write {path}: {why}") from None
        raise


def _write_failure(exc: BaseException) -> str | None:
    """The one-line reason of a failed write, or ``None`` for an error that is not one
    (a bug, an interrupt: passed on as it is). torch's zip writer reports a short write
    (a full disk, a file size limit) as a ``RuntimeError`` about the stream position."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc).splitlines()[0]
    if isinstance(exc, RuntimeError) and ("unexpected pos" in str(exc)
                                          or "PytorchStreamWriter" in str(exc)):
        return "the write stopped short (a full disk or a file size limit)"
    return None


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a file object whose contents replace ``path`` only when the block succeeds
    (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        yield f
        f.flush()


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`atomic_write`)."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def safe_name(text: str, default: str = "net") -> str:
    """``text`` as one safe path component: letters, digits, ``_``, ``-`` and ``.``
    (anything else becomes ``_``), no leading dot, at most 64 characters."""
    import re

    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(text))[:64].lstrip(".")
    return name or default


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
