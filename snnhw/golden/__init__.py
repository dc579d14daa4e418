"""The golden model: the integer definition of what the hardware computes
(``model``), and a scalar reference written straight from the contract (``naive``)."""

from .model import (
    CHARGE_PATHS,
    LayerTrace,
    Trace,
    charge_path,
    check_input,
    run,
)

__all__ = [
    "CHARGE_PATHS", "LayerTrace", "Trace", "charge_path", "check_input", "run",
]
