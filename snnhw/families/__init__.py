"""FPGA families as objects: everything that differs between iCE40, ECP5 and Gowin.

Each family is one module (:mod:`~snnhw.families.ice40`,
:mod:`~snnhw.families.ecp5`, :mod:`~snnhw.families.gowin`) holding one
:class:`~snnhw.families.base.Family` instance, registered here by name. A board
names its family (``snnboards.platforms``); the gateware asks
:func:`of_platform` for the family it is elaborated for, the estimate and the
build ask the board's. Adding a family: a module here with its instance, a
line in :data:`FAMILIES`, its boards in the board table (``docs/architecture.md``).
"""

from __future__ import annotations

from .base import ClockError, Family, LogicModel, PLLConfig, ReportNames
from .ecp5 import ECP5
from .gowin import GOWIN
from .ice40 import ICE40

__all__ = ["Family", "PLLConfig", "ClockError", "ReportNames", "LogicModel", "FAMILIES",
           "family", "of_platform", "ICE40", "ECP5", "GOWIN"]

#: every family, by name
FAMILIES: dict[str, Family] = {f.name: f for f in (ICE40, ECP5, GOWIN)}


def family(name: str) -> Family:
    """The family called ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown FPGA family {name!r}; one of {sorted(FAMILIES)}") from None


def of_platform(platform) -> Family | None:
    """The family an Amaranth platform (or a stand-in with a ``family`` string) builds
    for; ``None`` for no platform (simulation, plain Verilog) or one of no known family."""
    name = getattr(platform, "family", None)
    if not isinstance(name, str):
        return None
    return next((f for f in FAMILIES.values() if f.matches(name)), None)
