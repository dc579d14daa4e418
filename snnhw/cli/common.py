"""Pieces every subcommand shares: user errors, JSON output, loading a network."""

from __future__ import annotations

import json
import sys

from ..ir import IRError, Network, load

__all__ = ["CLIError", "emit_json", "load_network"]


class CLIError(Exception):
    """A user mistake: reported as one line on stderr, exit status 2."""


def emit_json(obj) -> None:
    """Print ``obj`` as exactly one JSON object on stdout."""
    json.dump(obj, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def load_network(path: str) -> Network:
    """Load an IR file, turning every failure into a one-line :class:`CLIError`."""
    try:
        return load(path)
    except IRError as exc:
        raise CLIError(f"invalid network file: {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read network file {path}: {exc.strerror or exc}") from None
