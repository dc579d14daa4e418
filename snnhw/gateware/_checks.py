"""Components that refuse bad constructor arguments before they exist."""

from __future__ import annotations

from amaranth.lib import wiring

__all__ = ["CheckedComponent", "check_lanes"]


class CheckedComponent(wiring.Component):
    """A ``wiring.Component`` whose :meth:`check` runs before the object is created.

    Amaranth warns about every elaboratable that is created and never
    elaborated; a component that raised in its constructor would be one. So
    the checks run in ``__new__``: a refused component never exists.
    Subclasses define ``check`` with the constructor's arguments; what it returns
    (a plan it had to compute to decide) is the new object's ``_checked``, so the
    constructor need not compute it again.
    """

    def __new__(cls, *args, **kwargs):
        checked = cls.check(*args, **kwargs)
        obj = super().__new__(cls, *args, src_loc_at=1, **kwargs)
        obj._checked = checked
        return obj

    @classmethod
    def check(cls, *args, **kwargs):
        """Raise ``ValueError`` (or ``TypeError``) for arguments the constructor refuses;
        return anything the constructor may reuse (or ``None``)."""


def check_lanes(lanes) -> None:
    """``lanes`` must be a positive integer."""
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
        raise ValueError(f"lanes must be a positive integer, got {lanes!r}")
