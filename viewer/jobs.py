"""Where the app starts background work: every worker thread of the viewer starts here,
except the splat sorter's one worker (viewer/sorting.py), which is part of drawing a frame.

`JobRunner.run(title, fn, on_done)` runs a long job `fn(progress, cancel) -> T` on a
worker thread, shown in the status bar with a progress bar and Cancel. `progress` is a
`scene.progress.Progress` (callable as `progress(fraction, message)`, with `sub` ranges
and `raise_if_cancelled`), `cancel` its `CancelToken`: the one protocol of
scene/progress.py that scene/ and generators/ functions take. The job's progress
reaches the GUI thread through a queued signal; its result is handed to `on_done` on
the GUI thread, unless it was cancelled (then nothing happens: a cancelled job changes
nothing).

`background(fn, *args, name=...)` is for the app's silent helpers that show no progress
(autosave, the renderer's splat packing, the walk collider, picking warm-up): a daemon
thread whose outcome is a `concurrent.futures.Future`.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from scene.progress import Cancelled, CancelToken, Progress

log = logging.getLogger(__name__)


def background(fn: Callable[..., Any], *args: Any, name: str = "background") -> Future:
    """Run `fn(*args)` on a daemon thread (closing the app never waits for it) and return
    its Future (result or exception). For silent helper work with no progress UI and no
    Cancel button; anything the user waits for goes through `JobRunner.run`."""
    fut: Future = Future()

    def work() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the Future
            fut.set_exception(exc)

    threading.Thread(target=work, daemon=True, name=name).start()
    return fut


class Job(QObject):
    """One running job. Signals are emitted from the worker and delivered on the GUI thread."""

    progressed = pyqtSignal(float, str)
    _finished = pyqtSignal(object, object)  # (result, exception or None)
    ended = pyqtSignal(object)  # self, after on_done/on_error ran

    def __init__(
        self,
        title: str,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        parent: QObject | None = None,
        commits: bool = False,
    ) -> None:
        super().__init__(parent)
        self.title = title
        #: the job writes files: once `fn` returned, its work is on disk, so a Cancel that
        #: came too late still hands the result to `on_done` (the app's state must match
        #: the disk); a cancel in time makes `fn` raise Cancelled and write nothing
        self.commits = commits
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.cancel_token = CancelToken()
        self.progress = Progress(self._progress, self.cancel_token)
        self.fraction = 0.0
        #: the highest progress bar value (0..1000) shown for this job: a bar never runs
        #: backwards when a stage restarts its count
        self.bar_high = 0
        self.message = title
        self.started_at = time.perf_counter()
        self.state = "pending"  # running | done | failed | cancelled
        self.result: Any = None
        self.error: BaseException | None = None
        self._last_emit = 0.0
        self._finished.connect(self._on_finished)
        self._thread = threading.Thread(target=self._work, name=f"job:{title}", daemon=True)

    def start(self) -> None:
        self.state = "running"
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop; its result (if it still arrives) is dropped."""
        self.cancel_token.cancel()

    @property
    def running(self) -> bool:
        return self.state == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker thread ends (tests); True if it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ---------------------------------------------------------------- worker
    def _progress(self, fraction: float, message: str) -> None:
        self.cancel_token.check()
        now = time.perf_counter()
        # Throttle: at most ~30 updates a second reach the GUI (plus the last one).
        if now - self._last_emit >= 0.03 or fraction >= 1.0:
            self._last_emit = now
            self.progressed.emit(float(min(max(fraction, 0.0), 1.0)), str(message))

    def _work(self) -> None:
        try:
            res = self.fn(self.progress, self.cancel_token)
        except BaseException as exc:  # noqa: BLE001 - reported on the GUI thread
            if isinstance(exc, (ValueError, FileNotFoundError)):
                # bad input (scene.errors' kinds are ValueErrors): said in one line, the
                # traceback only in a debug log; a traceback on the terminal is for bugs
                log.warning("background job stopped: %s", exc)
                log.debug("background job stopped", exc_info=exc)
            elif not isinstance(exc, Cancelled):
                exc.__wander_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
                log.error("background job failed", exc_info=exc)
            self._finished.emit(None, exc)
            return
        self._finished.emit(res, None)

    # -------------------------------------------------------------- GUI side
    def _on_finished(self, result: Any, error: BaseException | None) -> None:
        try:
            late_cancel = self.cancel_token.cancelled and not (self.commits and error is None)
            if isinstance(error, Cancelled) or late_cancel:
                self.state = "cancelled"
            elif error is not None:
                self.state, self.error = "failed", error
                if self.on_error is not None:
                    self.on_error(error)
            else:
                self.state, self.result = "done", result
                self.on_done(result)
        except Exception as exc:  # noqa: BLE001 - a failing callback must not kill the app
            self.state, self.error = "failed", exc
            exc.__wander_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            log.error("a job's result callback failed", exc_info=exc)
            if self.on_error is not None and error is None:
                self.on_error(exc)
        finally:
            self.ended.emit(self)


class JobRunner(QObject):
    """Starts jobs and keeps them alive until they end; `changed` fires on start/progress/end."""

    changed = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[Job] = []

    def run(
        self,
        title: str,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        commits: bool = False,
    ) -> Job:
        """Start `fn(progress, cancel)` on a worker; `on_done(result)` on the GUI thread.
        `commits`: the job writes files (see `Job.commits`)."""
        job = Job(title, fn, on_done, on_error, parent=self, commits=commits)
        job.progressed.connect(lambda f, m, j=job: self._progress(j, f, m))
        job.ended.connect(self._ended)
        self.jobs.append(job)
        job.start()
        self.changed.emit()
        return job

    def _progress(self, job: Job, fraction: float, message: str) -> None:
        job.fraction, job.message = fraction, message
        self.changed.emit()

    def _ended(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        job.deleteLater()
        self.changed.emit()

    @property
    def active(self) -> Job | None:
        """The most recently started job still running."""
        return self.jobs[-1] if self.jobs else None

    def cancel_all(self) -> None:
        for j in list(self.jobs):
            j.cancel()
