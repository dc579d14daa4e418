"""The one base of snnhw's errors.

Every error snnhw raises for bad input or a step that cannot be done derives from
:class:`SnnhwError` (and, where it did before, from ``ValueError`` or ``RuntimeError``,
so existing ``except`` clauses keep working). The Python API (:mod:`snnhw.api`) raises
them as they are; the command line prints their one-line message and exits with 2.

=====================================  ==================================================
error                                   raised by
=====================================  ==================================================
``snnhw.ir.IRError`` and subclasses     a bad IR file or network (``IRFormatError``,
                                        ``IRVersionError``, ``IRShapeError``, ...)
``snnhw.data.DataError``                a bad data set or ``.npz`` file
``snnhw.nn.conv.ArchError``             an architecture text that cannot be built
``snnhw.nn.train.CheckpointError``      a file that is not an snnhw checkpoint
``snnhw.nn.quant.ExportError``          a model the IR's widths cannot represent
``snnhw.nn.nirnodes.NIRError``          a NIR graph snnhw cannot represent
``snnhw.gateware.plan.DesignError``     a network, lanes or placement the gateware
                                        cannot build
``snnhw.families.base.ClockError``      a clock no PLL of the family makes
``snnboards.errors.BuildError``         a design that does not fit, or a failed build
``snnhw.toolchain.ToolError``           a synthesis or place-and-route tool that failed
``snnhw.host.session.BoardError``       a board that does not answer as it should
``snnhw.protocol.link.LinkError``       a malformed host-link frame
``snntb.runner.SimulatorMissingError``  no simulator to run the RTL
``snntb.runner.RTLMismatchError``       RTL that was generated from another network
``snnhw.util.OutputError``              an output path that cannot be written
``snnhw.explore`` errors                a bad design space, store or sweep
``snnhw.errors.InputError``             inputs, labels, a data set or options that do
                                        not fit the network or each other
``snnhw.cli.common.CLIError``           bad command-line arguments
=====================================  ==================================================
"""

from __future__ import annotations

__all__ = ["InputError", "SnnhwError"]


class SnnhwError(Exception):
    """The base of every snnhw error (the module docstring lists them)."""


class InputError(SnnhwError, ValueError):
    """Inputs, labels, a data set or a choice of options that do not fit the network or
    each other. ``cli`` is the same message in the command line's terms (its option
    names, e.g. ``--n`` for ``n=``)."""

    def __init__(self, message: str, *, cli: str | None = None):
        super().__init__(message)
        self.cli = message if cli is None else cli
