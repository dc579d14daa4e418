"""Pieces every subcommand shares: user errors, JSON output, loading a network."""

from __future__ import annotations

import contextlib
import json
import sys

import numpy as np

from ..errors import InputError, SnnhwError
from ..ir import IRError, Network, load
from ..util import npy_header

__all__ = ["CLIError", "emit_json", "load_network", "parse_lanes", "sentence",
           "as_steps", "load_input", "load_dataset", "read_npy", "DATA_HELP", "one_line"]

DATA_HELP = ("data set: digits, mnist1d, mnist1d-temporal, or an .npz file with x_train, "
             "y_train, x_test, y_test (docs/data.md)")


class CLIError(SnnhwError):
    """A user mistake: reported as one line on stderr, exit status 2."""


def sentence(text: str) -> str:
    """``text`` with its first letter upper-cased and the rest untouched (``str.capitalize``
    would lower-case every acronym: IR, RTL, JSON, Verilog)."""
    return text[:1].upper() + text[1:]


def emit_json(obj) -> None:
    """Print ``obj`` as exactly one JSON object on stdout."""
    json.dump(obj, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def load_network(path: str) -> Network:
    """Load an IR file, turning every failure into a one-line :class:`CLIError`."""
    try:
        return load(path)
    except IRError as exc:
        hint = ""
        if path.endswith((".pt", ".pth")) or "data.pkl" in str(exc) or _is_torch_zip(path):
            hint = " (this looks like a torch checkpoint: 'snnhw export' makes the IR file)"
        elif path.endswith(".nir"):
            hint = " (a NIR graph: 'snnhw import' makes the IR file)"
        raise CLIError(f"invalid network file: {exc}{hint}") from None
    except OSError as exc:
        raise CLIError(f"cannot read network file {path}: {exc.strerror or exc}") from None


def _is_torch_zip(path: str) -> bool:
    import os
    import zipfile

    if not os.path.isfile(path):   # never open a device or a pipe as a zip
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("/data.pkl") or n == "data.pkl" for n in zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def parse_lanes(text: str, net: Network):
    """``--lanes``: one positive integer, or one per layer, comma separated; a layer never
    gets more lanes than it has neurons (one number may exceed a small layer: that
    layer uses all its neurons), and one number may not exceed the largest layer."""
    from ..gateware.plan import unsupported

    why = unsupported(net)
    if why:
        raise CLIError(why)
    n_layers = len(net.layers)
    sizes = [ly.n_out for ly in net.layers]
    import re

    parts = str(text).split(",")
    if not all(re.fullmatch(r"\s*[-+]?[0-9]+\s*", p) for p in parts):   # ASCII digits only
        raise CLIError(f"--lanes takes integers, got {text!r}")
    values = [int(p) for p in parts]
    if any(v < 1 for v in values) or len(values) not in (1, n_layers):
        raise CLIError(f"--lanes takes one positive integer or {n_layers} of them, got {text!r}")
    if len(values) == 1 and values[0] > max(sizes):
        raise CLIError(f"--lanes {values[0]}: more than the largest layer's {max(sizes)} "
                       "neurons")
    if len(values) > 1:
        for i, (v, n) in enumerate(zip(values, sizes)):
            if v > n:
                raise CLIError(f"--lanes: layer {i} has {n} neurons, {v} lanes asked")
    return values[0] if len(values) == 1 else values


def as_steps(net: Network, x, where: str) -> np.ndarray:
    """``x`` as the network's input ``[batch, T, n_in]`` (int64): ``[n_in]`` and
    ``[batch, n_in]`` repeat every step; checked against the shape and ``in_bits``."""
    from ..api.inputs import steps

    try:
        return steps(net, x, where)
    except InputError as exc:
        raise CLIError(exc.cli) from None


@contextlib.contextmanager
def one_line(*errors, prefix: str = ""):
    """The API's ``errors`` as one-line :class:`CLIError` messages (after ``prefix``);
    an :class:`~snnhw.errors.InputError` in the command line's terms."""
    try:
        yield
    except InputError as exc:
        raise CLIError(exc.cli) from None
    except errors as exc:
        raise CLIError(prefix + str(exc)) from None


MAX_INPUT_BYTES = 1 << 31


def read_npy(path: str, what: str) -> np.ndarray:
    """One ``.npy`` array (no pickle, bounded size), or a one-line :class:`CLIError` that
    says what was expected and what was found."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise CLIError(f"{what} {path}: no such file")
    if not p.is_file():
        raise CLIError(f"{what} {path}: not a regular file (expected an .npy array)")
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise CLIError(f"{what} {path}: larger than {MAX_INPUT_BYTES >> 20} MiB")
    with open(p, "rb") as f:
        head = f.read(6)
    if head != b"\x93NUMPY":
        kind = ("an .npz archive (give one array: .npy)" if head[:2] == b"PK" else
                "not an .npy file")
        raise CLIError(f"{what} {path}: {kind}; expected an .npy array (numpy.save)")
    try:
        with open(p, "rb") as f:     # the header's shape, before anything is allocated
            shape, _, dtype, declared = npy_header(f)
            if declared > p.stat().st_size - f.tell():
                raise CLIError(f"{what} {path}: its header declares {list(shape)} of "
                               f"{dtype} ({declared:,} bytes), more than the file holds")
        x = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"{what} {path}: cannot read the .npy array ({why})") from None
    if x.dtype.hasobject or x.dtype.kind not in "iub":
        raise CLIError(f"{what} {path}: expected integers, found dtype {x.dtype}")
    return x


def load_input(path: str, net: Network) -> np.ndarray:
    """Read an input batch (``.npy``, no pickle) and bring it to ``[batch, T, n_in]``."""
    return as_steps(net, read_npy(path, "input"), f"input {path}")


def load_dataset(spec: str, in_bits: int | None = None):
    """``--data NAME|FILE`` as a :class:`snnhw.data.Dataset`, or a one-line :class:`CLIError`."""
    from ..data import DataError, load_data

    try:
        return load_data(spec, in_bits=in_bits)
    except DataError as exc:
        raise CLIError(str(exc)) from None


@contextlib.contextmanager
def sample_progress(total: int, desc: str, enabled: bool = True):
    """A callback ``progress(done)`` that draws a bar of ``total`` samples on a terminal
    (nothing into pipes and logs, or when not ``enabled``: ``--json``, ``--no-progress``)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done: None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="sample", leave=False)
    try:
        yield lambda done: bar.update(done - bar.n)
    finally:
        bar.close()
