"""Components that refuse bad constructor arguments before they exist."""

from __future__ import annotations

from amaranth.lib import wiring

__all__ = ["CheckedComponent", "check_lanes"]


class CheckedComponent(wiring.Component):
    """A ``wiring.Component`` whose :meth:`check` runs before the object is created.

    Amaranth warns about every elaboratable that is created and never
    elaborated; a component that raised in its constructor would be one. So
    the checks run in ``__new__``: a refused component never exists.
    Subclasses define ``check`` with the constructor's arguments.
    """

    def __new__(cls, *args, **kwargs):
        cls.check(*args, **kwargs)
        return super().__new__(cls, *args, src_loc_at=1, **kwargs)

    @classmethod
    def check(cls, *args, **kwargs) -> None:
        """Raise ``ValueError`` (or ``TypeError``) for arguments the constructor refuses."""


def check_lanes(lanes) -> None:
    """``lanes`` must be a positive integer."""
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
        raise ValueError(f"lanes must be a positive integer, got {lanes!r}")
