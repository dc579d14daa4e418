"""Constructor argument checks for gateware components."""

from __future__ import annotations

__all__ = ["reject"]


def reject(component, message: str, exc: type[Exception] = ValueError):
    """Raise ``exc(message)`` from a component's constructor.

    Amaranth warns about every elaboratable that is created but never
    elaborated; one rejected by its own constructor was never meant to be, so
    it is marked used first.
    """
    component._MustUse__used = True
    raise exc(message)
