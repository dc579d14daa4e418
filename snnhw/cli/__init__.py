"""The ``snnhw`` command line: one module per subcommand."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import InputError, SnnhwError
from ..util import printable
from . import build, convert, explore, export, generate, info, nir_import, run, train, verify
from .args import Parser

__all__ = ["build_parser", "main"]

SUBCOMMANDS = (train, convert, nir_import, export, info, run, generate, verify, build, explore)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="snnhw",
        description="Turn spiking neural networks into bit-exact FPGA hardware. "
                    "Every stage reads the integer IR file (.snn); "
                    "'snnhw COMMAND --help' explains each command.")
    parser.add_argument("--version", action="version", version=f"snnhw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SnnhwError as exc:
        # one line, whatever a library put in the message; an InputError in the command
        # line's terms. Commands turn the errors they expect into CLIErrors with their
        # context; any other snnhw error that gets here is still one line
        text = exc.cli if isinstance(exc, InputError) else str(exc)
        # control characters from a file's contents never reach the terminal
        print(f"snnhw: error: {printable(' '.join(text.split()))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as exc:
        # a file the command reads (or a folder it makes) that the system refuses: a
        # name too long, no permission, an I/O error; writes say so themselves
        # (util.atomic_path)
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        why = exc.strerror or str(exc)
        print(f"snnhw: error: {printable(f'{where}: {why}' if where else why)}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("snnhw: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
