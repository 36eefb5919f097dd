"""The job protocol generators use: progress reports and cooperative cancel.

It is `scene.progress`, re-exported here so generator code keeps one import line: there
is exactly one protocol. Generators take the pair `(progress: ProgressFn, cancel:
CancelToken)`; a `scene.progress.Progress` passes as the `progress` half (it is callable
as `progress(fraction, message)` and checks cancel at every report).
"""

from __future__ import annotations

from scene.progress import (
    Cancelled,
    CancelToken,
    Progress,
    ProgressFn,
    Stages,
    as_progress,
    no_progress,
)

__all__ = [
    "CancelToken",
    "Cancelled",
    "Progress",
    "ProgressFn",
    "Stages",
    "as_progress",
    "no_progress",
]
