"""Wander's log file: module loggers everywhere, one rotating file in the state folder.

`setup_logging()` is called once by the app and by the CLI at start. The file lives in
`$XDG_STATE_HOME/wander/wander.log` (default `~/.local/state/wander/wander.log`), rotated
at 1 MB with 3 backups. Without a writable state folder logging goes nowhere (never to
the terminal, so a command's stderr stays one line).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

#: our packages log at INFO; third-party libraries only at WARNING
_PACKAGES = ("scene", "generators", "viewer", "cli", "wander")
_handler: logging.Handler | None = None
_path: Path | None = None


def state_dir() -> Path:
    """`$XDG_STATE_HOME/wander`, else `~/.local/state/wander` (not created here)."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "wander"


def log_path() -> Path:
    """Where the log file is (or would be) written."""
    return _path if _path is not None else state_dir() / "wander.log"


def active_log_file() -> Path | None:
    """The log file records go to, or None before `setup_logging` or without one."""
    return _path


def setup_logging(debug: bool = False) -> Path | None:
    """Attach the rotating log file to the root logger, once per process.

    debug: also log DEBUG records of our packages. Returns the log file's path, or None
    when the state folder cannot be written (records are then dropped silently).
    """
    global _handler, _path
    root = logging.getLogger()
    for name in _PACKAGES:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.INFO)
    if _handler is not None:
        return _path
    path = state_dir() / "wander.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
        )
        if not os.access(path.parent, os.W_OK):
            raise PermissionError(f"cannot write in {path.parent}")
        _path = path
    except OSError:
        handler, _path = logging.NullHandler(), None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    _handler = handler
    return _path
