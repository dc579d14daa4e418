"""Reading an ``.snn`` archive's members safely: every failure is an :class:`IRError`.

Used by :func:`snnhw.ir.schema.loads` and by each layer kind's ``from_manifest``
(:mod:`snnhw.ir.kinds`); nothing here allocates more than a member's stated size.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np

from ..util import npy_header
from .errors import IRDTypeError, IRFormatError, IRMissingError, IRShapeError
from .neuron import MAX_NEURONS, MAX_WEIGHTS, NEURON_KEYS

__all__ = ["MAX_ARCHIVE_BYTES", "MAX_MEMBER_BYTES", "READ_ERRORS", "field", "int_list",
           "layer_array", "neuron_fields", "open_archive", "parse_npy", "read_member"]

MAX_MEMBER_BYTES = 1 << 30
MAX_ARCHIVE_BYTES = 1 << 30    # all members of one archive together, decompressed

# Everything the standard library may raise on a damaged zip or npy member.
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    struct.error,
    ValueError,
    OverflowError,
    NotImplementedError,
    UnicodeDecodeError,
    KeyError,
    RuntimeError,
    OSError,
    SyntaxError,
    MemoryError,
)


def open_archive(data: bytes, budget: int | None = None) -> zipfile.ZipFile:
    """The zip archive in ``data``, whose members :func:`read_member` reads at most
    ``budget`` bytes of in all (decompressed; default :data:`MAX_ARCHIVE_BYTES`): each
    member is bounded on its own, and so is their sum, whatever the headers say."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    zf.snnhw_budget = MAX_ARCHIVE_BYTES if budget is None else budget
    return zf


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Member ``name``'s bytes: at most ``limit``, and at most what is left of the
    archive's budget (:func:`open_archive`)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise IRMissingError(f"member '{name}' is missing from the archive") from None
    if info.file_size > limit:
        raise IRFormatError(f"member '{name}' claims {info.file_size} bytes, more than the "
                            f"{limit} allowed")
    left = getattr(zf, "snnhw_budget", MAX_ARCHIVE_BYTES)
    if info.file_size > left:
        raise IRFormatError(f"member '{name}' claims {info.file_size} bytes: the archive's "
                            f"members would hold more than the {MAX_ARCHIVE_BYTES:,} bytes "
                            "allowed in all")
    limit = min(limit, left)
    try:
        with zf.open(name) as f:
            raw = f.read(limit + 1)   # never more than the limit, whatever the header says
    except READ_ERRORS as exc:
        raise IRFormatError(f"member '{name}' cannot be read: {exc}") from None
    if len(raw) > limit:
        raise IRFormatError(f"member '{name}' holds more than {limit} bytes")
    zf.snnhw_budget = left - len(raw)
    return raw


def parse_npy(raw: bytes, name: str, max_count: int = MAX_WEIGHTS,
              zf: zipfile.ZipFile | None = None) -> np.ndarray:
    """The integer array in npy bytes ``raw``, as int64. With ``zf`` (the archive it came
    from) its int64 size is charged to the archive's budget first: a member stored as
    int8 takes eight times its bytes once read."""
    fp = io.BytesIO(raw)
    try:
        shape, fortran, dtype, _ = npy_header(fp)
    except READ_ERRORS as exc:
        raise IRFormatError(f"array '{name}': bad npy header: {exc}") from None
    if dtype.kind not in "iu" or dtype.hasobject:
        raise IRDTypeError(f"array '{name}' has dtype {dtype}, an integer dtype is required")
    if any(int(dim) < 0 for dim in shape) or len(shape) > 4:
        raise IRShapeError(f"array '{name}': bad shape {shape} in the npy header")
    count = 1
    for dim in shape:
        count *= int(dim)
    if count > max_count:
        raise IRShapeError(f"array '{name}': {shape} holds {count} values, more than the "
                           f"{max_count} allowed")
    offset = fp.tell()
    if count * dtype.itemsize != len(raw) - offset:
        raise IRFormatError(
            f"array '{name}': header says {shape} x {dtype} = "
            f"{count * dtype.itemsize} bytes, member holds {len(raw) - offset}"
        )
    if zf is not None:
        left = getattr(zf, "snnhw_budget", MAX_ARCHIVE_BYTES) - 8 * count
        if left < 0:
            raise IRFormatError(f"array '{name}': {count} values: the archive's arrays would "
                                f"take more than the {MAX_ARCHIVE_BYTES:,} bytes allowed in "
                                "all")
        zf.snnhw_budget = left
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order).astype(np.int64)


def field(d: dict, key: str, where: str):
    if key not in d:
        raise IRMissingError(f"{where}: field '{key}' is missing from the manifest")
    return d[key]


def neuron_fields(ld: dict, where: str) -> dict:
    return {key: field(ld, key, where) for key in NEURON_KEYS}


def int_list(ld: dict, key: str, where: str, n: int) -> list[int]:
    value = field(ld, key, where)
    if (not isinstance(value, list) or len(value) != n
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_NEURONS
                       for v in value)):
        raise IRShapeError(f"{where}: field '{key}' must be a list of {n} integers in "
                           f"0..{MAX_NEURONS}, got {value!r}")
    return value


def layer_array(zf: zipfile.ZipFile, i: int, name: str, count: int) -> np.ndarray:
    """Member ``layer<i>.<name>.npy`` holding at most ``count`` values (8 bytes each plus
    the npy header: nothing larger is read)."""
    return parse_npy(read_member(zf, f"layer{i}.{name}.npy", 8 * count + 4096),
                     f"layer{i}.{name}", count, zf)
