"""Headless command line: one module per subcommand, `cli/cmd_<name>.py`.

Each command module defines `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Commands are discovered, so adding one touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

_PREFIX = "cmd_"


def _command_names() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len(_PREFIX):] for m in pkgutil.iter_modules([str(here)])
                  if m.name.startswith(_PREFIX))


def is_command(word: str) -> bool:
    """True when `word` names a subcommand (so main.py runs headless), or looks like a
    mistyped one: a bare word that is no file (`rendr`) gets argparse's 'invalid choice'
    line and exit code 2 instead of starting the app (which aborts without a display)."""
    if word in _command_names():
        return True
    p = Path(word)
    return bool(word) and not word.startswith("-") and not p.suffix and "/" not in word \
        and "\\" not in word and not p.exists()


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"cli.{_PREFIX}{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Wander: photos -> walkable 3D worlds. With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_names():
        mod = _load(name)
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


#: a value that starts with a minus sign: -5  -0.5  -1,2,3  -5,-5,-5,5,5,5  -1e3,0,0
_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)[\d.,eE+\-\s]*$")


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--crop -5,-5,-5,5,5,5` -> `--crop=-5,-5,-5,5,5,5`: argparse takes a value that
    starts with '-' (other than one plain number) for an option and fails with
    'expected one argument', so every coordinate option needed the '=' form."""
    out: list[str] = []
    for word in argv:
        prev = out[-1] if out else ""
        if (_NEGATIVE_VALUE.match(word) and prev.startswith("--") and "=" not in prev
                and prev != "--"):
            out[-1] = f"{prev}={word}"
        else:
            out.append(word)
    return out


def run_cli(argv: list[str]) -> int:
    """Parse and run one subcommand; bad input becomes one clear line and exit code 2."""
    from generators.jobs import Cancelled
    from scene.errors import InvalidSceneError, SceneFormatError

    parser = build_parser()
    args = parser.parse_args(_join_negative_values(argv))
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except (SceneFormatError, InvalidSceneError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for this job; try smaller sizes or fewer splats",
              file=sys.stderr)
        return 2
    except OSError as exc:  # unwritable/unreadable path: a path given by the user, not a bug
        print(f"error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _os_error_line(exc: OSError) -> str:
    """'PATH: reason' for an OSError (permission denied, not a folder, disk full...)."""
    reason = exc.strerror or str(exc)
    where = exc.filename if exc.filename is not None else ""
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and where and Path(where).is_file():
        reason = "is a file, not a folder"
    return f"{where}: {reason}" if where else reason
