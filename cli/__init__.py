"""Headless command line: one module per subcommand, `cli/cmd_<name>.py`.

Each command module defines `NAME`, `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Commands are discovered, so adding one touches no shared file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TextIO

_PREFIX = "cmd_"


def _command_names() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name[len(_PREFIX) :]
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith(_PREFIX)
    )


def is_command(word: str) -> bool:
    """True when `word` names a subcommand (so main.py runs headless), or looks like a
    mistyped one: a bare word that is no file (`rendr`) gets argparse's 'invalid choice'
    line and exit code 2 instead of starting the app (which aborts without a display)."""
    if word in _command_names():
        return True
    p = Path(word)
    return (
        bool(word)
        and not word.startswith("-")
        and not p.suffix
        and "/" not in word
        and "\\" not in word
        and not p.exists()
    )


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"cli.{_PREFIX}{name}")


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line on stderr (exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python main.py",
        description="Wander: photos -> walkable 3D worlds. With no command, opens the app.",
        epilog="the app: python main.py [SCENE] [--size WxH] [--shot PNG] [--no-demo]\n"
        "  SCENE         a splat/mesh file or .wander project to open\n"
        "  --size WxH    window size, e.g. 1440x900\n"
        "  --shot PNG    save a screenshot of the window once the scene's first\n"
        "                full-quality frame is drawn, then quit (other views:\n"
        "                `python main.py render`)\n"
        "  --no-demo     do not open the demo world on first launch",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _command_names():
        mod = _load(name)
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


#: a value that starts with a minus sign: -5  -0.5  -1,2,3  -5,-5,-5,5,5,5  -1e3,0,0
_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)[\d.,eE+\-\sxX]*$")  # numbers, lists, WxH


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--crop -5,-5,-5,5,5,5` -> `--crop=-5,-5,-5,5,5,5`: argparse takes a value that
    starts with '-' (other than one plain number) for an option and fails with
    'expected one argument', so every coordinate option needed the '=' form."""
    out: list[str] = []
    for word in argv:
        prev = out[-1] if out else ""
        if (
            _NEGATIVE_VALUE.match(word)
            and prev.startswith("--")
            and "=" not in prev
            and prev != "--"
        ):
            out[-1] = f"{prev}={word}"
        else:
            out.append(word)
    return out


def _split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """Take the global `--debug` flag out of argv (it may follow the subcommand)."""
    if "--" in argv:
        cut = argv.index("--")
        head, tail = argv[:cut], argv[cut:]
    else:
        head, tail = argv, []
    return [a for a in head if a != "--debug"] + tail, "--debug" in head


def _say_if_compiling(command: str | None, stream: TextIO | None = None) -> None:
    """One line on a terminal's stderr (or `stream`) when the command's CPU kernels will
    compile first (a new checkout's first `render` sat silent for 108 s;
    scene/kernel_cache.py). Not where stderr is a pipe or a file: a script reading a bad
    input's one error line gets that line alone."""
    out = stream or sys.stderr
    if stream is None and not (hasattr(out, "isatty") and out.isatty()):
        return
    from scene.kernel_cache import cold_note

    note = cold_note(command)
    if note:
        print(note, file=out, flush=True)


def run_cli(argv: list[str]) -> int:
    """Parse and run one subcommand.

    Bad input (InputError, SceneFormatError, a ValueError from Wander's own validation,
    a missing or unwritable path) becomes one `error: ...` line and exit 2.
    Anything else is a bug: the traceback goes to the log file (and to stderr with
    `--debug`), stderr gets one 'internal error' line, exit 1.
    """
    import logging
    import tempfile

    from generators.jobs import Cancelled
    from scene.errors import InputError, InvalidSceneError, SceneFormatError
    from scene.files import sweep_once
    from scene.logs import setup_logging

    argv, debug = _split_debug(list(argv))
    setup_logging(debug)
    log = logging.getLogger("cli")
    parser = build_parser()
    parser.add_argument(
        "--debug", action="store_true", help="print the full traceback of an internal error"
    )
    args, extra = parser.parse_known_args(_join_negative_values(argv))
    if extra:  # said with the command's own help (it pointed to the top-level one: a trial)
        command = getattr(args, "command", None)
        prog = f"{parser.prog} {command}" if command else parser.prog
        parser.exit(2, f"error: unrecognized arguments: {' '.join(extra)} (see: {prog} --help)\n")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    log.info("start: %s", " ".join(argv))
    old_term = _sigterm_raises_interrupt()
    try:
        for folder in _sweep_folders(args, tempfile.gettempdir()):
            sweep_once(folder)  # temps left by killed runs (ours only, owner dead)
        check_io(args)
        _say_if_compiling(args.command)
        return int(args._run(args) or 0)
    except (InputError, SceneFormatError, InvalidSceneError, FileNotFoundError) as exc:
        return _input_error(exc, log)
    except ValueError as exc:  # our validation raises it: bad input, unless a library did
        if _from_library(exc):
            return _internal_error(exc, log, debug)
        return _input_error(exc, log)
    except MemoryError:
        log.exception("out of memory")
        print(
            "error: not enough memory for this job; try smaller sizes or fewer splats",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # `info ... | head`: the reader has all it wanted
        log.info("stdout closed by the reader")
        # nothing more reaches stdout; its close at exit must not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # unwritable/unreadable path: a path given by the user, not a bug
        log.warning("OS error: %s", exc, exc_info=True)
        print(f"error: {one_line(_os_error_line(exc, _output_of(args)))}", file=sys.stderr)
        return 2
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except _Terminated:
        log.info("terminated (SIGTERM)")
        print("\nterminated; no half-written file is left", file=sys.stderr)
        return 128 + 15
    except KeyboardInterrupt:
        log.info("interrupted")
        print("\ninterrupted; no half-written file is left", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place a bug is reported
        return _internal_error(exc, log, debug)
    finally:
        if old_term is not None:
            import signal

            signal.signal(signal.SIGTERM, old_term)


class _Terminated(KeyboardInterrupt):
    """A polite kill (SIGTERM), unwinding as Ctrl+C does; the exit code is 128 + 15."""


def _sigterm_raises_interrupt():
    """A polite kill (SIGTERM) unwinds like Ctrl+C so temps are removed; returns the
    previous handler (None when not on the main thread)."""
    import signal

    def handler(signum, frame):  # noqa: ARG001
        raise _Terminated

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return None


def _input_error(exc: BaseException, log) -> int:
    log.info("bad input: %s", exc)
    print(f"error: {one_line(str(exc))}", file=sys.stderr)
    return 2


def _internal_error(exc: BaseException, log, debug: bool) -> int:
    import traceback

    from scene.logs import active_log_file

    log.error("internal error", exc_info=exc)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    what = one_line(f"{type(exc).__name__}: {exc}", 160)
    where = active_log_file()
    see = f"details in {where} " if where is not None else ""
    print(
        f"error: internal error ({what}); this is a bug, {see}(run with --debug for the traceback)",
        file=sys.stderr,
    )
    return 1


_HERE = Path(__file__).resolve().parent.parent  # the source tree: scene/, generators/, cli/...
_OUR_PACKAGES = ("scene", "generators", "viewer", "cli", "main.py")


def _from_library(exc: BaseException) -> bool:
    """True when a ValueError was raised inside a third-party library's own code (numpy,
    OpenCV, Pillow, torch...: Python in site-packages or Cython): data Wander passed it
    was wrong, a bug of ours. False when Wander's code (or the standard library, e.g. a
    JSON file the user gave) raised it: bad input, reported as such."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    fname = tb.tb_frame.f_code.co_filename
    try:  # Wander's own packages, wherever installed (an install lives in site-packages)
        parts = Path(fname).resolve().relative_to(_HERE).parts
    except (OSError, ValueError):  # not under our root
        parts = ()
    if parts and parts[0] in _OUR_PACKAGES and Path(fname).is_file():
        return False
    if (
        fname.endswith((".pyx", ".pxd", ".pxi"))
        or "site-packages" in fname
        or "dist-packages" in fname
    ):
        return True  # compiled (Cython) or installed third-party code
    return False  # Wander's code (a deliberate raise, or a conversion of user text) or stdlib


def one_line(text: str, limit: int = 480) -> str:
    """A message as one line of at most ~`limit` characters.

    A multi-line message (a library's banner, e.g. ffmpeg's) keeps its first line and
    its last meaningful line; a long one (a list of 300 photos) loses its middle, with a
    note: the start says what went wrong and the end usually what to do (or where).
    """
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not set(ln) <= set("=-_*#~ ")]  # rulers
    if not lines:
        return ""
    line = lines[0] if len(lines) == 1 else f"{lines[0].rstrip(':')}: {lines[-1]}"
    if len(line) > limit:
        n_head, n_tail = limit * 3 // 5, limit * 2 // 5 - 40
        head = line[:n_head]
        if " " in head[n_head // 2 :]:
            head = head.rsplit(" ", 1)[0]
        tail = line[len(line) - n_tail :]
        if " " in tail[: n_tail // 2]:
            tail = tail.split(" ", 1)[1]
        gone = len(line) - len(head) - len(tail)
        line = f"{head.rstrip(' ,;:')} ... ({gone} characters left out) ... {tail.lstrip(' ,;:')}"
    return line


#: option names whose values are files or folders (inputs and outputs)
_PATH_OPTIONS = (
    "scene",
    "input",
    "output",
    "out",
    "mesh",
    "photo",
    "photos",
    "panorama",
    "save_panorama",
    "cameras",
    "cameras_out",
    "video",
    "path",
    "colmap",
    "colmap_dir",
)


def _sweep_folders(args: argparse.Namespace, tmp: str) -> list[Path]:
    """Folders where a killed run may have left temps: the system temp folder, the
    working folder and the folders of every path given on the command line."""
    folders = [Path(tmp), Path(".")]
    for name in _PATH_OPTIONS:
        v = getattr(args, name, None)
        for item in v if isinstance(v, list) else [v]:
            if isinstance(item, (str, Path)) and str(item):
                p = Path(item)
                folders.append(p if p.is_dir() else p.parent)
    return folders


def check_io(args: argparse.Namespace) -> None:
    """Refuse an output that is the same file as an input (or another output), or whose
    folder does not exist (unless that folder is itself one of the outputs), before any
    work. Each command lists its files with `io_paths(args) -> (inputs, outputs)`, both
    lists of (option label, path)."""
    from scene.errors import InputError
    from scene.files import check_outputs

    fn = getattr(sys.modules.get(args._run.__module__), "io_paths", None)
    if fn is None:
        return
    inputs, outputs = fn(args)
    check_outputs(outputs, inputs)
    _refuse_folders(outputs, _output_of(args), args._run.__module__ in _FOLDER_OUTPUTS)
    # a mistyped output folder is an error, not a folder tree made silently (one run as
    # root made /nonexistent_dir): the folder an output goes into must exist already
    made = {Path(p).absolute() for _, p in outputs if p is not None and str(p)}
    checked: set[Path] = set()
    for label, path in outputs:
        if path is None or not str(path):
            continue
        folder = Path(path).parent
        if folder.absolute() in made:
            continue
        if folder.is_dir():
            _check_writable(folder, label, path, checked)
            continue
        if folder.exists():
            raise InputError(f"{label} {path}: {folder} is a file, not a folder")
        raise InputError(f"{label} {path}: folder {folder} does not exist (create it first)")


#: commands whose main output (--out) is a folder they fill
_FOLDER_OUTPUTS = frozenset({"cli.cmd_evaluate"})


def _refuse_folders(outputs: list, main: str, main_is_folder: bool) -> None:
    """Refuse, before any work, a file output that names an existing folder: the
    command's main output (unless the command fills a folder) and any output whose name
    has an extension (a folder's sidecars such as SCENE_cameras have none). `reconstruct
    --out existing.ply/` ran its minutes of work, then failed on the last rename with a
    temp name in the message, its cameras and report already written (a trial)."""
    from scene.errors import InputError

    for label, path in outputs:
        if path is None or not str(path):
            continue
        p = Path(path)
        is_main = str(path) == main
        if not p.is_dir() or (is_main and main_is_folder) or (not is_main and not p.suffix):
            continue
        example = f" (e.g. {p / ('scene' + p.suffix)})" if p.suffix else ""
        raise InputError(f"{label} {path} is a folder; name the file to write{example}")


def _check_writable(folder: Path, label: str, path: str | Path, checked: set[Path]) -> None:
    """Refuse, before any work, a folder a file cannot be created in (read-only mount,
    immutable folder, no permission): by creating and removing a probe file there, since
    `os.access` says yes to root whatever the folder. A trial's `object --out ob.ply --mesh
    ro/ob.glb` wrote ob.ply, then failed on the mesh."""
    from scene.errors import InputError
    from scene.files import cannot_write, write_probe_error

    key = folder.absolute()
    if key in checked:
        return
    checked.add(key)
    exc = write_probe_error(folder)
    if exc is not None:
        raise InputError(f"{label} {path}: {cannot_write(folder, exc)}")


def _output_of(args: argparse.Namespace) -> str:
    """The command's main output (its --out, convert's OUTPUT), or "" when it has none."""
    for name in ("out", "output"):
        out = getattr(args, name, None)
        if out is not None and str(out):
            return str(out)
    return ""


def _os_error_line(exc: OSError, output: str = "") -> str:
    """'PATH: reason' for an OSError (permission denied, not a folder, disk full...).
    output: the command's --out, named when the error names no file and is about the
    disk it goes to (a full disk said only "No space left on device", a trial)."""
    import errno

    reason = exc.strerror or str(exc)
    where = exc.filename if exc.filename is not None else ""
    if not where and output and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"{output}: {reason} (while writing it)"
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and where and Path(where).is_file():
        reason = "is a file, not a folder"
    return f"{where}: {reason}" if where else reason
