"""The one progress / cancel protocol of Wander, Qt-free, at the bottom of the house.

Every long function in `scene/` and `generators/` takes it; the viewer's job runner
(viewer/jobs.py) and the CLI's progress bar (cli/progress.py) drive it. Shaped after
napari's `utils/progress.py`, which sits below napari's Qt layer:

    progress = Progress(report, cancel)     report(fraction, message) receives 0..1
    progress.update(0.4, "Encoding")        also `progress(0.4, "Encoding")`: a Progress
                                            is itself a `ProgressFn`
    progress.raise_if_cancelled()           raises `Cancelled` once `cancel.cancel()` ran
    part = progress.sub(0.2, 0.9)           a stage: its 0..1 maps onto 0.2..0.9 of the
                                            parent, same cancel token
    as_progress(None)                       the no-op default (reports go nowhere, never
                                            cancelled)

`update` checks cancel first, so a job stops at its next report. A function that is
cancelled raises `Cancelled` and leaves nothing behind: writers go through scene.io's
atomic temp files (the temp is removed, the destination untouched), loaders return
nothing, generators add nothing. The older pair `(progress: ProgressFn, cancel:
CancelToken)` that generators take is the same protocol: `as_progress(progress, cancel)`
joins them, and a `Progress` passes as the `progress` half.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

__all__ = [
    "CancelToken",
    "Cancelled",
    "Progress",
    "ProgressFn",
    "ProgressWriter",
    "Stages",
    "as_progress",
    "no_progress",
]


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set; nothing partial is kept."""


class ProgressFn(Protocol):
    """`report(fraction, message)`: fraction of the whole job done (0..1), what it does now."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores reports."""


class CancelToken:
    """Thread-safe cancel flag, set from any thread, checked by the job between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if cancel was requested."""
        if self._event.is_set():
            raise Cancelled()


def _clamp(f: float) -> float:
    return 0.0 if not f > 0.0 else 1.0 if f > 1.0 else float(f)  # NaN -> 0


class Progress:
    """Progress reports and cooperative cancel for one job (or one stage of it).

    `report` receives fractions of the whole job (0..1); this object maps its own 0..1
    onto `start..stop` of that. `cancel` is shared with every `sub` range. An empty
    message repeats the last one.
    """

    def __init__(
        self,
        report: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        *,
        start: float = 0.0,
        stop: float = 1.0,
    ) -> None:
        self.report: ProgressFn = report if report is not None else no_progress
        self.cancel = cancel if cancel is not None else CancelToken()
        self.start, self.stop = float(start), float(stop)
        self.message = ""

    # -------------------------------------------------------------- reports
    def update(self, fraction: float, message: str = "") -> None:
        """Report `fraction` (0..1 of this range) done; raises `Cancelled` when cancelled
        (checked before and after the report, so a cancel never slips past one)."""
        self.raise_if_cancelled()
        if message:
            self.message = message
        self.report(self.start + (self.stop - self.start) * _clamp(fraction), self.message)
        self.raise_if_cancelled()

    __call__ = update

    def finish(self, message: str = "") -> None:
        """Report this range complete without checking cancel: for the step after a
        commit, when the work is done and a late cancel must not claim otherwise."""
        if message:
            self.message = message
        self.report(self.stop, self.message)

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    def raise_if_cancelled(self) -> None:
        """Raise `Cancelled` if the job was asked to stop."""
        self.cancel.check()

    # --------------------------------------------------------------- ranges
    def sub(self, start: float, stop: float) -> Progress:
        """A stage covering `start..stop` (fractions of this range) with the same cancel."""
        a, b = _clamp(start), _clamp(stop)
        span = self.stop - self.start
        child = Progress(
            self.report,
            self.cancel,
            start=self.start + span * a,
            stop=self.start + span * max(a, b),
        )
        child.message = self.message
        return child

    def split(self, weights: list[float]) -> list[Progress]:
        """Consecutive stages in proportion to `weights` (e.g. bytes each step handles)."""
        total = float(sum(max(w, 0.0) for w in weights)) or 1.0
        out, acc = [], 0.0
        for w in weights:
            nxt = acc + max(w, 0.0) / total
            out.append(self.sub(acc, nxt))
            acc = nxt
        return out


def as_progress(
    progress: Progress | ProgressFn | None = None, cancel: CancelToken | None = None
) -> Progress:
    """A `Progress` from what a caller passed: a Progress (returned as is when `cancel` is
    None or its own), a bare `report(fraction, message)` callable, or None (no-op)."""
    if isinstance(progress, Progress):
        if cancel is None or cancel is progress.cancel:
            return progress
        return Progress(progress.update, cancel)  # both tokens are honoured
    return Progress(progress, cancel)


class ProgressWriter:
    """A binary file wrapper that reports `bytes written / expected` and checks cancel on
    every write, so any streaming encoder reports real progress and stops mid-file.

    `expected` is the writer's size estimate in bytes; the fraction is capped at 0.99
    until `close`-time (the caller reports 1.0 when the file is committed).
    """

    def __init__(self, fh: BinaryIO, progress: Progress, expected: int, message: str = "") -> None:
        self.fh, self.progress, self.expected = fh, progress, max(int(expected), 1)
        self.written = 0
        self.message = message

    CHUNK = 1 << 18  # an encoder that hands over its whole file at once: 256 KiB a report

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        for i in range(0, max(len(view), 1), self.CHUNK):
            self.progress.raise_if_cancelled()
            part = view[i : i + self.CHUNK]
            n = self.fh.write(part)
            self.written += len(part) if n is None else n
            self.progress.update(min(self.written / self.expected, 0.99), self.message)
        return len(view)

    def __getattr__(self, name: str) -> Any:  # tell, seek, flush, fileno... of the file
        return getattr(self.fh, name)


class Stages:
    """Maps per-stage progress onto one 0..1 bar: `Stages(progress, [("depth", 2), ...])`.

    `with stages("depth") as report:` then `report(0.5, "half way")`; checks cancel
    at every report and times each stage (`stages.times`, seconds).
    """

    def __init__(
        self,
        progress: ProgressFn | Progress | None,
        weights: list[tuple[str, float]],
        cancel: CancelToken | None = None,
    ) -> None:
        self._time = time.perf_counter
        self.progress = progress if progress is not None else no_progress
        if cancel is None:
            cancel = progress.cancel if isinstance(progress, Progress) else CancelToken()
        self.cancel = cancel
        total = sum(w for _, w in weights) or 1.0
        self._start: dict[str, float] = {}
        acc = 0.0
        for name, w in weights:
            self._start[name] = acc / total
            acc += w
        self._span = {name: w / total for name, w in weights}
        self.times: dict[str, float] = {}
        self.started = self._time()

    def elapsed(self) -> float:
        """Seconds since these stages were made (the job's wall time so far)."""
        return self._time() - self.started

    def __call__(self, name: str) -> _Stage:
        return _Stage(self, name)


class _Stage:
    def __init__(self, owner: Stages, name: str) -> None:
        self.owner, self.name = owner, name

    def report(self, fraction: float, message: str = "") -> None:
        o = self.owner
        o.cancel.check()
        f = o._start[self.name] + o._span[self.name] * _clamp(fraction)
        o.progress(f, message or self.name)

    def __enter__(self) -> Callable[[float, str], None]:
        self.t0 = self.owner._time()
        self.report(0.0, self.name)
        return self.report

    def __exit__(self, *exc: object) -> None:
        dt = self.owner.times[self.name] = self.owner._time() - self.t0
        if exc[0] is None:
            self.report(1.0, f"{self.name} done ({dt:.1f} s)")
