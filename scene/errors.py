"""The one error type every reader and writer in `scene` raises for bad input."""

from __future__ import annotations

from pathlib import Path


class SceneFormatError(ValueError):
    """A file could not be read or written: names the file and the problem.

    Readers raise this (and nothing else) for truncated, corrupt, empty or mislabelled
    files, headers that lie, NaN/inf values and 0-splat files.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class InvalidSceneError(ValueError):
    """In-memory scene data is inconsistent (wrong shapes, non-finite values...)."""


class InputError(ValueError):
    """Bad input from the user (an option value, a path, a request that cannot be met).

    The CLI prints it as one `error: ...` line with exit code 2; the app shows it in a
    dialog. Raise this (or SceneFormatError for files) instead of a bare ValueError so a
    real bug is never mistaken for bad input.
    """
