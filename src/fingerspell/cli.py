"""The ``fingerspell`` command: one verb per job.

Each subcommand lives in its own module under ``fingerspell.commands`` and defines
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; they are found
automatically, so ``fingerspell --help`` lists exactly what exists.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

from fingerspell import __version__
from fingerspell.errors import FingerspellError

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a job stopped by Ctrl-C


def _command_modules() -> list:
    import fingerspell.commands as pkg

    mods = [importlib.import_module(f"{pkg.__name__}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)]
    mods = [m for m in mods if hasattr(m, "NAME") and hasattr(m, "run")]
    return sorted(mods, key=lambda m: getattr(m, "ORDER", 50))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fingerspell",
        description="Real-time ASL fingerspelling recognition: MediaPipe hands, landmark models, CNNs.",
    )
    parser.add_argument("--version", action="version", version=f"fingerspell {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show MediaPipe/TFLite/absl log lines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP))
        mod.add_arguments(p)
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="show MediaPipe/TFLite/absl log lines (hidden by default)")
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    empty = _empty_option(args)
    if empty:  # --out "" or --model "" would otherwise be ignored or mean the default
        print(f"fingerspell {args.command}: error: {empty} must not be empty: give a value or leave the "
              "option out", file=sys.stderr)
        return 2
    if not getattr(args, "verbose", False):
        from fingerspell import quietlog

        quietlog.install()
    try:
        return int(args._run(args) or 0)
    except FingerspellError as exc:
        print(f"fingerspell {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"fingerspell {args.command}: interrupted", file=sys.stderr)  # unfinished outputs were not published
        return INTERRUPTED_EXIT
    except OSError as exc:
        from fingerspell.fileio import DiskFullError, is_no_space

        if not is_no_space(exc):
            raise
        print(f"fingerspell {args.command}: error: {DiskFullError(_output_of(args, exc))}", file=sys.stderr)
        return 2


def _empty_option(args: argparse.Namespace) -> Optional[str]:
    """The first option (or argument) given as an empty or blank string, as the user spelt it."""
    for key, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, str) and not v.strip() for v in values):
            return f"--{key.replace('_', '-')}" if key not in ("paths", "sources") else "a path"
    return None


def _output_of(args: argparse.Namespace, exc: OSError) -> str:
    """The file a write failed on: the error's own, else the command's output argument."""
    for name in (exc.filename, getattr(args, "out", None), getattr(args, "annotate", None)):
        if name:
            return str(name)
    return "."


if __name__ == "__main__":
    sys.exit(main())
