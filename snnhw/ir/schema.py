"""Typed, versioned integer IR of a spiking network (docs/arithmetic.md, "Network").

The IR is the only thing that later stages (golden model, gateware, boards)
read. A network is a list of :class:`DenseLayer` plus three network-wide
fields. Everything is an integer; every range in docs/arithmetic.md is checked by
:meth:`Network.validate`, which :func:`load` and :func:`save` both call.

File format (``.snn``): a zip archive readable by :func:`numpy.load` as an
``.npz``. It holds ``manifest.json`` (schema version, network fields, per-layer
scalars, content hash) and one ``.npy`` member per array
(``layer<i>.W``, ``layer<i>.b``). Arrays are read with ``allow_pickle=False``
semantics (object dtypes are refused); members are written with a fixed
timestamp so that saving the same network twice gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import (
    IRDTypeError,
    IRError,
    IRFormatError,
    IRHashError,
    IRKindError,
    IRMissingError,
    IRRangeError,
    IRShapeError,
    IRVersionError,
    _check_choice,
    _check_int,
)
from .layers import LAYER_KINDS, MAX_NEURONS, MAX_WEIGHTS, RESETS, ConvLayer, DenseLayer

__all__ = [
    "FORMAT_NAME",
    "LAYER_KINDS",
    "READOUTS",
    "RESETS",
    "SCHEMA_VERSION",
    "SUPPORTED_VERSIONS",
    "ConvLayer",
    "DenseLayer",
    "IRDTypeError",
    "IRError",
    "IRFormatError",
    "IRHashError",
    "IRKindError",
    "IRMissingError",
    "IRRangeError",
    "IRShapeError",
    "IRVersionError",
    "Network",
    "dumps",
    "load",
    "loads",
    "save",
]

FORMAT_NAME = "snnhw-ir"
SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)     # v1 files (dense layers only) load unchanged
READOUTS = ("membrane", "spikes")

# Limits that are not in docs/arithmetic.md but keep every integer path exact in int64
# and keep a corrupted file from asking for absurd allocations.
MAX_IN_BITS = 16
MAX_TIMESTEPS = 1 << 16
MAX_MEMBER_BYTES = 1 << 30
MAX_FILE_BYTES = 1 << 30        # an .snn larger than this is refused before it is read
EXACT_INT_LIMIT = 1 << 62
_FIXED_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(eq=False)
class Network:
    """An ordered list of layers plus the network-wide fields of docs/arithmetic.md.

    Parameters
    ----------
    layers : list of DenseLayer or ConvLayer
        At least one; ``layers[i].n_in == layers[i-1].n_out`` (flat, channel-major
        order: a conv layer after any layer sees its ``n_out`` values as its map).
    in_bits : int
        Input values are ``0..2**in_bits - 1`` (1..16).
    timesteps : int
        Time steps per sample ``T`` (1..65536).
    readout : {"membrane", "spikes"}
        How the last layer turns into logits (docs/arithmetic.md, "Readout").
    name : str
        Free text, kept in the manifest; not part of the arithmetic.
    """

    layers: list[DenseLayer | ConvLayer]
    in_bits: int
    timesteps: int
    readout: str = "membrane"
    name: str = ""

    def __post_init__(self):
        self.validate()

    @property
    def n_in(self) -> int:
        return self.layers[0].n_in

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out

    def input_bits(self, index: int) -> int:
        """Width of the unsigned spikes that layer ``index`` receives."""
        return self.in_bits if index == 0 else self.layers[index - 1].spike_bits

    def validate(self) -> None:
        """Check the whole network; raise an :class:`IRError` subclass."""
        self.in_bits = _check_int(self.in_bits, "in_bits", None, 1, MAX_IN_BITS)
        self.timesteps = _check_int(self.timesteps, "timesteps", None, 1, MAX_TIMESTEPS)
        _check_choice(self.readout, "readout", None, READOUTS)
        if not isinstance(self.name, str):
            raise IRDTypeError(f"network: field 'name' must be a string, got {self.name!r}")
        if not isinstance(self.layers, list) or not self.layers:
            raise IRShapeError("network: 'layers' must be a non-empty list")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (DenseLayer, ConvLayer)):
                raise IRKindError(f"layer {i}: {type(layer).__name__} is not a DenseLayer "
                                  "or a ConvLayer")
            layer.validate(i)
            if i > 0 and layer.n_in != self.layers[i - 1].n_out:
                raise IRShapeError(
                    f"layer {i}: n_in = {layer.n_in} does not chain to layer "
                    f"{i - 1}'s n_out = {self.layers[i - 1].n_out}"
                )
        if self.logit_bound() >= EXACT_INT_LIMIT:
            raise IRRangeError(
                f"network: logits can reach {self.logit_bound()}, beyond the "
                f"exact integer limit 2**62 (too many inputs, steps or bits)"
            )

    def current_bound(self, index: int) -> int:
        """Largest ``|I|`` layer ``index`` can produce in one step.

        ``max_i (|b[i]| + sum_j |W[i, j]| * s_max_in)`` from the actual
        weights (for a conv layer, over the taps each neuron's window really
        has): every partial sum of the charge sum lies within it.
        """
        layer = self.layers[index]
        s_max_in = (1 << self.input_bits(index)) - 1
        per_neuron = layer.abs_row_sums() * s_max_in + np.abs(layer.bias_per_neuron)
        return int(per_neuron.max())

    def uses_conv(self) -> bool:
        return any(layer.kind == "conv" for layer in self.layers)

    def logit_bound(self) -> int:
        """Largest ``|logit|`` over ``timesteps`` steps (docs/arithmetic.md, "Readout")."""
        if self.readout == "membrane":
            return self.timesteps * self.current_bound(len(self.layers) - 1)
        return self.timesteps * self.layers[-1].s_max

    def content_hash(self) -> str:
        """SHA-256 of every field and array element (``name`` included), hex."""
        h = hashlib.sha256()
        h.update(json.dumps(self._manifest_body(), sort_keys=True).encode())
        for layer in self.layers:
            for arr in (layer.W, layer.b):
                h.update(str(arr.shape).encode())
                h.update(np.ascontiguousarray(arr, dtype="<i8").tobytes())
        return h.hexdigest()

    def _manifest_body(self) -> dict:
        return {
            "name": self.name,
            "in_bits": self.in_bits,
            "timesteps": self.timesteps,
            "readout": self.readout,
            "layers": [layer.scalars() for layer in self.layers],
        }

    def manifest(self) -> dict:
        """The JSON manifest stored in the file."""
        return {
            "format": FORMAT_NAME,
            "version": SCHEMA_VERSION,
            **self._manifest_body(),
            "content_hash": self.content_hash(),
        }

    def equals(self, other: Network) -> bool:
        """True when every field and every array element is equal."""
        return (
            isinstance(other, Network)
            and self._manifest_body() == other._manifest_body()
            and all(
                np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
                for a, b in zip(self.layers, other.layers)
            )
        )

    def replace(self, **changes) -> Network:
        """A validated copy with some network-wide fields changed."""
        return dataclasses.replace(self, **changes)


def _storage_dtype(bits: int) -> np.dtype:
    for dt in (np.int8, np.int16, np.int32):
        if bits <= np.iinfo(dt).bits:
            return np.dtype(dt).newbyteorder("<")
    return np.dtype("<i8")


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def dumps(net: Network) -> bytes:
    """Serialise ``net`` to the bytes of an ``.snn`` file."""
    net.validate()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)

        put("manifest.json", json.dumps(net.manifest(), indent=1, sort_keys=True).encode())
        for i, layer in enumerate(net.layers):
            put(f"layer{i}.W.npy", _npy_bytes(layer.W.astype(_storage_dtype(layer.w_bits))))
            put(f"layer{i}.b.npy", _npy_bytes(layer.b.astype(_storage_dtype(layer.u_bits))))
    return buf.getvalue()


def save(net: Network, path: str | Path) -> Path:
    """Validate ``net`` and write it to ``path`` (conventionally ``.snn``), atomically: an
    existing file is replaced only by a complete new one."""
    from ..util import atomic_write

    path = Path(path)
    data = dumps(net)
    with atomic_write(path) as f:
        f.write(data)
    return path


def load(path: str | Path) -> Network:
    """Read and fully validate an ``.snn`` file.

    Raises
    ------
    IRError
        A subclass that names what is wrong; never another exception for a
        file whose contents are bad. ``OSError`` is passed through for files
        that cannot be opened.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise IRFormatError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise IRFormatError(f"{path}: {size} bytes, larger than the {MAX_FILE_BYTES >> 20} MiB "
                            "an IR file may have")
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    try:
        return loads(data)
    except IRError as exc:
        raise type(exc)(f"{path}: {exc}") from None


# Everything the standard library may raise on a damaged zip or npy member.
_READ_ERRORS = (
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


def _read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise IRMissingError(f"member '{name}' is missing from the archive") from None
    if info.file_size > limit:
        raise IRFormatError(f"member '{name}' claims {info.file_size} bytes, more than the "
                            f"{limit} allowed")
    try:
        with zf.open(name) as f:
            raw = f.read(limit + 1)   # never more than the limit, whatever the header says
    except _READ_ERRORS as exc:
        raise IRFormatError(f"member '{name}' cannot be read: {exc}") from None
    if len(raw) > limit:
        raise IRFormatError(f"member '{name}' holds more than {limit} bytes")
    return raw


def _parse_npy(raw: bytes, name: str, max_count: int = MAX_WEIGHTS) -> np.ndarray:
    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise IRFormatError(f"array '{name}': unsupported npy version {version}")
    except IRError:
        raise
    except _READ_ERRORS as exc:
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
    payload = raw[fp.tell():]
    if count * dtype.itemsize != len(payload):
        raise IRFormatError(
            f"array '{name}': header says {shape} x {dtype} = "
            f"{count * dtype.itemsize} bytes, member holds {len(payload)}"
        )
    arr = np.frombuffer(payload, dtype=dtype, count=count)
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order).astype(np.int64)


def _field(d: dict, key: str, where: str):
    if key not in d:
        raise IRMissingError(f"{where}: field '{key}' is missing from the manifest")
    return d[key]


def _neuron_fields(ld: dict, where: str) -> dict:
    return {key: _field(ld, key, where) for key in
            ("w_bits", "u_bits", "k", "fire_offset", "spike_bits", "leak_shift", "reset")}


def _read_dense(zf: zipfile.ZipFile, ld: dict, i: int) -> DenseLayer:
    where = f"layer {i}"
    n_in, n_out = _field(ld, "n_in", where), _field(ld, "n_out", where)
    if not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_NEURONS
               for v in (n_in, n_out)) or n_in * n_out > MAX_WEIGHTS:
        raise IRShapeError(f"{where}: n_in = {n_in!r}, n_out = {n_out!r}: each must be "
                           f"1..{MAX_NEURONS} and n_in * n_out at most {MAX_WEIGHTS}")
    # 8 bytes per value plus the npy header: nothing larger is read
    W = _parse_npy(_read_member(zf, f"layer{i}.W.npy", 8 * n_in * n_out + 4096),
                   f"layer{i}.W", n_in * n_out)
    b = _parse_npy(_read_member(zf, f"layer{i}.b.npy", 8 * n_out + 4096), f"layer{i}.b", n_out)
    for key, n in (("n_in", 1), ("n_out", 0)):
        stated = _field(ld, key, where)
        if W.ndim == 2 and stated != W.shape[n]:
            raise IRShapeError(f"{where}: manifest says {key} = {stated!r} but W has shape "
                               f"{W.shape}")
    return DenseLayer(W=W, b=b, kind="dense", **_neuron_fields(ld, where))


def _int_list(ld: dict, key: str, where: str, n: int) -> list[int]:
    value = _field(ld, key, where)
    if (not isinstance(value, list) or len(value) != n
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_NEURONS
                       for v in value)):
        raise IRShapeError(f"{where}: field '{key}' must be a list of {n} integers in "
                           f"0..{MAX_NEURONS}, got {value!r}")
    return value


def _read_conv(zf: zipfile.ZipFile, ld: dict, i: int) -> ConvLayer:
    where = f"layer {i}"
    in_shape = _int_list(ld, "in_shape", where, 3)
    out_shape = _int_list(ld, "out_shape", where, 3)
    kernel = _int_list(ld, "kernel", where, 2)
    count = out_shape[0] * in_shape[0] * kernel[0] * kernel[1]
    if count > MAX_WEIGHTS:
        raise IRShapeError(f"{where}: {out_shape[0]} x {in_shape[0]} x {kernel} weights, more "
                           f"than the {MAX_WEIGHTS} allowed")
    W = _parse_npy(_read_member(zf, f"layer{i}.W.npy", 8 * count + 4096), f"layer{i}.W", count)
    b = _parse_npy(_read_member(zf, f"layer{i}.b.npy", 8 * out_shape[0] + 4096),
                   f"layer{i}.b", out_shape[0])
    layer = ConvLayer(W=W, b=b, in_shape=tuple(in_shape), kind="conv",
                      stride=tuple(_int_list(ld, "stride", where, 2)),
                      padding=tuple(_int_list(ld, "padding", where, 2)),
                      **_neuron_fields(ld, where))
    layer.validate(i)
    derived = layer.scalars()
    for key in ("n_in", "n_out", "out_shape", "kernel"):
        if _field(ld, key, where) != derived[key]:
            raise IRShapeError(f"{where}: manifest says {key} = {ld[key]!r}, the arrays and "
                               f"shapes give {derived[key]!r}")
    return layer


def loads(data: bytes) -> Network:
    """Parse the bytes of an ``.snn`` file; see :func:`load`."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS as exc:
        raise IRFormatError(f"not an snnhw IR archive (zip): {exc}") from None
    with zf:
        raw = _read_member(zf, "manifest.json", 1 << 20)
        try:
            manifest = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise IRFormatError(f"manifest.json is not valid JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise IRFormatError("manifest.json must hold a JSON object")
        if manifest.get("format") != FORMAT_NAME:
            raise IRFormatError(
                f"manifest field 'format' = {manifest.get('format')!r}, "
                f"expected {FORMAT_NAME!r}"
            )
        if "version" not in manifest:
            raise IRVersionError("manifest has no schema 'version'")
        version = manifest["version"]
        if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
            raise IRVersionError(
                f"schema version {version!r} is not supported "
                f"(this snnhw reads versions {', '.join(map(str, SUPPORTED_VERSIONS))})"
            )
        layer_dicts = _field(manifest, "layers", "network")
        if not isinstance(layer_dicts, list) or not layer_dicts:
            raise IRShapeError("network: manifest 'layers' must be a non-empty list")
        layers = []
        for i, ld in enumerate(layer_dicts):
            if not isinstance(ld, dict):
                raise IRFormatError(f"layer {i}: manifest entry must be a JSON object")
            kind = _field(ld, "kind", f"layer {i}")
            _check_choice(kind, "kind", i, LAYER_KINDS)
            if kind == "conv" and version < 2:
                raise IRVersionError(f"layer {i}: conv layers need schema version 2, the "
                                     f"file says {version}")
            layers.append((_read_conv if kind == "conv" else _read_dense)(zf, ld, i))
        net = Network(
            layers=layers,
            in_bits=_field(manifest, "in_bits", "network"),
            timesteps=_field(manifest, "timesteps", "network"),
            readout=_field(manifest, "readout", "network"),
            name=_field(manifest, "name", "network"),
        )
        stored = _field(manifest, "content_hash", "network")
        actual = net.content_hash()
        if stored != actual:
            raise IRHashError(
                f"content hash mismatch: manifest says {stored!r}, content is {actual!r}"
            )
        return net
