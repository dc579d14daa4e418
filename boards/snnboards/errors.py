"""The one error of the board flow."""

from __future__ import annotations

from snnhw.errors import SnnhwError

__all__ = ["BuildError"]


class BuildError(SnnhwError, RuntimeError):
    """The build failed or the design does not fit; the message says which and why."""
