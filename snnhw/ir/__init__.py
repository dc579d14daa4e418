"""The typed, versioned integer IR: the only thing later stages read (``schema``),
with a summary of sizes and widths (``info``) and example networks (``examples``)."""

from .layers import conv_out_size
from .schema import (
    FORMAT_NAME,
    LAYER_KINDS,
    READOUTS,
    RESETS,
    SCHEMA_VERSION,
    SUPPORTED_VERSIONS,
    ConvLayer,
    DenseLayer,
    IRDTypeError,
    IRError,
    IRFormatError,
    IRHashError,
    IRKindError,
    IRMissingError,
    IRRangeError,
    IRShapeError,
    IRVersionError,
    Network,
    RecurrentLayer,
    dumps,
    load,
    loads,
    save,
)

__all__ = [
    "FORMAT_NAME", "LAYER_KINDS", "READOUTS", "RESETS", "SCHEMA_VERSION", "SUPPORTED_VERSIONS",
    "ConvLayer", "DenseLayer", "RecurrentLayer",
    "IRDTypeError", "IRError", "IRFormatError", "IRHashError", "IRKindError",
    "IRMissingError", "IRRangeError", "IRShapeError", "IRVersionError", "Network", "dumps",
    "load", "loads", "save", "conv_out_size",
]
