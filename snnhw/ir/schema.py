"""Typed, versioned integer IR of a spiking network (docs/arithmetic.md, "Network").

The IR is the only thing that later stages (golden model, gateware, boards)
read. A network is a list of layers, each of a registered kind
(:mod:`snnhw.ir.kinds`: ``dense``, ``conv``), plus four network-wide fields.
Everything is an integer; every range in docs/arithmetic.md is checked by
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
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .archive import READ_ERRORS, field, open_archive, read_member
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
from .kinds import KINDS, LAYER_KINDS, ConvLayer, DenseLayer, RecurrentLayer, layer_class
from .neuron import RESETS

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
    "RecurrentLayer",
    "dumps",
    "load",
    "loads",
    "save",
]

FORMAT_NAME = "snnhw-ir"
SCHEMA_VERSION = 3
SUPPORTED_VERSIONS = (1, 2, 3)  # v1 (dense) and v2 (conv) files load unchanged
READOUTS = ("membrane", "spikes")

# Limits that are not in docs/arithmetic.md but keep every integer path exact in int64
# and keep a corrupted file from asking for absurd allocations.
MAX_IN_BITS = 16
MAX_TIMESTEPS = 1 << 16
MAX_FILE_BYTES = 1 << 30        # an .snn larger than this is refused before it is read
EXACT_INT_LIMIT = 1 << 62
_FIXED_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(eq=False)
class Network:
    """An ordered list of layers plus the network-wide fields of docs/arithmetic.md.

    Parameters
    ----------
    layers : list of layers of the registered kinds (:mod:`snnhw.ir.kinds`)
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

    layers: list[DenseLayer | ConvLayer | RecurrentLayer]
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
            if not isinstance(layer, tuple(KINDS.values())):
                raise IRKindError(f"layer {i}: {type(layer).__name__} is not a layer kind "
                                  f"({', '.join(c.__name__ for c in KINDS.values())})")
            layer.validate(i)
            if i > 0 and layer.n_in != self.layers[i - 1].n_out:
                raise IRShapeError(
                    f"layer {i}: n_in = {layer.n_in} does not chain to layer "
                    f"{i - 1}'s n_out = {self.layers[i - 1].n_out}"
                )
        if self.readout == "membrane" and self.layers[-1].feedback is not None:
            raise IRKindError(
                f"layer {len(self.layers) - 1}: a {self.layers[-1].kind} layer cannot be the "
                "membrane readout (it emits no spikes to feed back); add a layer after it "
                "or use readout 'spikes'")
        if self.logit_bound() >= EXACT_INT_LIMIT:
            raise IRRangeError(
                f"network: logits can reach {self.logit_bound()}, beyond the "
                f"exact integer limit 2**62 (too many inputs, steps or bits)"
            )

    def current_bound(self, index: int) -> int:
        """Largest ``|I|`` layer ``index`` can produce in one step.

        ``max_i (|b[i]| + sum_j |W[i, j]| * s_max_in)`` from the actual
        weights (for a conv layer, over the taps each neuron's window really
        has; for a recurrent layer plus ``sum_i' |R[i, i']| * s_max``): every
        partial sum of the charge sum lies within it.
        """
        layer = self.layers[index]
        s_max_in = (1 << self.input_bits(index)) - 1
        per_neuron = layer.abs_row_sums() * s_max_in + np.abs(layer.bias_per_neuron)
        fed_back = layer.feedback_abs_row_sums()
        if fed_back is not None:
            per_neuron = per_neuron + fed_back * layer.s_max
        return int(per_neuron.max())

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
            for arr in layer.arrays().values():
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
                all(np.array_equal(x, y) for x, y in zip(a.arrays().values(),
                                                         b.arrays().values()))
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
            for key, arr in layer.arrays().items():
                bits = layer.u_bits if key == "b" else layer.w_bits
                put(f"layer{i}.{key}.npy", _npy_bytes(arr.astype(_storage_dtype(bits))))
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


def loads(data: bytes) -> Network:
    """Parse the bytes of an ``.snn`` file; see :func:`load`."""
    try:
        zf = open_archive(data)
    except READ_ERRORS as exc:
        raise IRFormatError(f"not an snnhw IR archive (zip): {exc}") from None
    with zf:
        raw = read_member(zf, "manifest.json", 1 << 20)
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
        layer_dicts = field(manifest, "layers", "network")
        if not isinstance(layer_dicts, list) or not layer_dicts:
            raise IRShapeError("network: manifest 'layers' must be a non-empty list")
        layers = []
        for i, ld in enumerate(layer_dicts):
            if not isinstance(ld, dict):
                raise IRFormatError(f"layer {i}: manifest entry must be a JSON object")
            cls = layer_class(field(ld, "kind", f"layer {i}"), i)
            if version < cls.SINCE_VERSION:
                raise IRVersionError(f"layer {i}: {cls.KIND} layers need schema version "
                                     f"{cls.SINCE_VERSION}, the file says {version}")
            layers.append(cls.from_manifest(zf, ld, i))
        net = Network(
            layers=layers,
            in_bits=field(manifest, "in_bits", "network"),
            timesteps=field(manifest, "timesteps", "network"),
            readout=field(manifest, "readout", "network"),
            name=field(manifest, "name", "network"),
        )
        stored = field(manifest, "content_hash", "network")
        actual = net.content_hash()
        if stored != actual:
            raise IRHashError(
                f"content hash mismatch: manifest says {stored!r}, content is {actual!r}"
            )
        return net
