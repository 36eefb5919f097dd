"""The one interface every long generator job uses: progress reports and cooperative cancel."""

from __future__ import annotations

import threading
from typing import Callable, Protocol


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set; nothing partial is kept."""


class ProgressFn(Protocol):
    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores reports."""


class CancelToken:
    """Thread-safe cancel flag checked by jobs between steps."""

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


class Stages:
    """Maps per-stage progress onto one 0..1 bar: `Stages(progress, [("depth", 2), ...])`.

    `with stages("depth") as report:` then `report(0.5, "half way")`; checks cancel
    at every report and times each stage (`stages.times`).
    """

    def __init__(self, progress: ProgressFn, weights: list[tuple[str, float]],
                 cancel: CancelToken | None = None) -> None:
        import time

        self._time = time.perf_counter
        self.progress = progress
        self.cancel = cancel or CancelToken()
        total = sum(w for _, w in weights) or 1.0
        self._start: dict[str, float] = {}
        acc = 0.0
        for name, w in weights:
            self._start[name] = acc / total
            acc += w
        self._span = {name: w / total for name, w in weights}
        self.times: dict[str, float] = {}

    def __call__(self, name: str) -> "_Stage":
        return _Stage(self, name)


class _Stage:
    def __init__(self, owner: Stages, name: str) -> None:
        self.owner, self.name = owner, name

    def report(self, fraction: float, message: str = "") -> None:
        o = self.owner
        o.cancel.check()
        f = o._start[self.name] + o._span[self.name] * min(max(fraction, 0.0), 1.0)
        o.progress(f, message or self.name)

    def __enter__(self) -> Callable[[float, str], None]:
        self.t0 = self.owner._time()
        self.report(0.0, self.name)
        return self.report

    def __exit__(self, *exc: object) -> None:
        self.owner.times[self.name] = self.owner._time() - self.t0
        if exc[0] is None:
            self.report(1.0, self.name)
