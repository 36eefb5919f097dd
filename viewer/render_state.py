"""When the viewport draws what: the render state machine of the view, fed with events and
timestamps (no Qt, no GL: unit-tested on its own in tests/test_render_state.py).

Two things make up the state:

- the *screen*: what the last frame shows of the current view (`Screen`);
- the *motion*: whether the camera is moving — it moved since the last frame, or within
  `rest_s`, or a move key / drag is held (input, `set_held`). A captured pointer
  (mouse-look) is not motion by itself: only the pointer's moves are.

Their product is the `Phase` the viewport is in:

=========  =======================================  ============================================
phase      when                                     the frame timer
=========  =======================================  ============================================
MOVING     motion                                   draws what is asked (each camera move asks)
                                                    at the adaptive moving level
REFINING   still; screen STALE (a reduced frame,    draws a full-quality frame — or, when a full
           or a changed scene or view)              frame is predicted slower than
                                                    `full_block_ms`, a quick preview first
PREVIEW    still; screen PREVIEW                    waits until `full_after` (= preview time +
                                                    `full_delay_s`), then draws the full frame
STILL      still; screen FULL                       draws nothing until something changes
FAILED     still; screen FAILED (the frame raised)  draws nothing until something changes
=========  =======================================  ============================================

Transitions of the screen (events are methods of `RenderState`):

=====================  ==================================================================
event                  screen after
=====================  ==================================================================
camera_moved(now)      STALE (and motion: moved since the last frame, `last_motion = now`)
request_full()         STALE (a new world, an edit, a resize: refine this view)
content_changed()      unchanged; one frame at the same quality is asked for (a sort ended)
drawn: preview         PREVIEW (the delay starts with the first preview only)
drawn: full, still     FULL
drawn: full, moving    unchanged (a moving frame is refined once at rest)
drawn: reduced         STALE
failed()               FAILED
=====================  ==================================================================

Any event but `failed` also asks for a frame (`redraw`), which the timer honours in every
phase; drawing clears it. As in nerfstudio's viewer, the picture improves in steps
(moving level → preview → full) instead of a stall followed by a pop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum

#: s: input held this long without moving the camera (a key against a wall) is not motion
HELD_STILL_S = 0.4


class Phase(str, Enum):
    """The viewport's render phase (see the module docstring for the table)."""

    MOVING = "moving"
    REFINING = "refining"
    PREVIEW = "preview"
    STILL = "still"
    FAILED = "failed"


class Screen(str, Enum):
    """What the last frame shows of the current view."""

    STALE = "stale"  # reduced, or of another view/scene: refine when still
    PREVIEW = "preview"  # a quick preview: the full frame is due at `full_after`
    FULL = "full"  # full quality of this view
    FAILED = "failed"  # the last frame failed


#: The coarse states a status read-out shows: PREVIEW counts as refining, FAILED as still.
MOVING, REFINING, STILL = Phase.MOVING, Phase.REFINING, Phase.STILL


@dataclass(frozen=True)
class FramePlan:
    """What the next frame draws: `level` None = the moving level from the quality controller
    (when `moving`) or full quality; an int = that quality level (a refining preview)."""

    moving: bool
    level: int | None = None
    preview: bool = False


class RenderState:
    """The viewport's render state machine. All times are seconds on one monotonic clock
    (the caller passes `now`, so tests drive it without sleeping).

    rest_s        the camera counts as moving this long after its last move
    full_delay_s  after a preview, the full frame waits until the camera rested this long
    """

    def __init__(self, rest_s: float = 0.15, full_delay_s: float = 0.6) -> None:
        self.rest_s = rest_s
        self.full_delay_s = full_delay_s
        self.screen = Screen.STALE  # nothing drawn yet
        self.redraw = True  # a frame is asked for (any phase)
        self.last_motion = -1e9  # when the camera last moved
        self.moved_since_paint = False  # a camera move no frame has shown yet
        self.held = False  # a move key or a mouse drag is held
        self.held_since = 0.0  # when it was first held
        self.full_after = 0.0  # Screen.PREVIEW: the full frame is due from then

    # ------------------------------------------------------------------ events
    def camera_moved(self, now: float) -> None:
        """The camera pose changed (keys, pointer, wheel, a bookmark)."""
        self.last_motion = now
        self.moved_since_paint = True
        self.screen = Screen.STALE
        self.redraw = True
        self.full_after = 0.0

    def set_held(self, held: bool, now: float | None = None) -> None:
        """A move key or a drag is (not) held; held input counts as moving (`moving`)."""
        if held and not self.held:
            self.held_since = time.perf_counter() if now is None else now
        self.held = bool(held)

    def request_full(self) -> None:
        """The scene or the view changed: draw a full-quality frame (after a preview if slow)."""
        self.screen = Screen.STALE
        self.redraw = True

    def content_changed(self) -> None:
        """Something new to show at the same quality (e.g. a finished sort)."""
        self.redraw = True

    def drawn(self, plan: FramePlan, full: bool, now: float) -> None:
        """A frame of `plan` was drawn at `now` (`full`: at full quality)."""
        self.moved_since_paint = False
        self.redraw = False
        if plan.preview:
            if self.screen is not Screen.PREVIEW:  # the delay runs from the first preview
                self.screen, self.full_after = Screen.PREVIEW, now + self.full_delay_s
        elif full and not plan.moving:
            self.screen = Screen.FULL
        elif not full:
            # a reduced frame (moving, or a modifier pressed without motion) is refined at rest
            self.screen = Screen.STALE

    def failed(self) -> None:
        """The frame could not be drawn: stop asking for it until something changes."""
        self.redraw = False
        self.screen = Screen.FAILED

    # ------------------------------------------------------------------ queries
    def moving(self, now: float) -> bool:
        """The camera moved since the last frame or within `rest_s`, or input is held: as
        it starts (no slow full frame begun just as the camera sets off) and while it moves
        the camera; a key held against a wall or the walkable area's rim for HELD_STILL_S
        without a move no longer counts (the reduced moving frame stayed on screen there)."""
        held = self.held and (
            now - self.held_since < HELD_STILL_S or now - self.last_motion < HELD_STILL_S
        )
        return self.moved_since_paint or held or now - self.last_motion < self.rest_s

    def phase(self, now: float) -> Phase:
        if self.moving(now):
            return Phase.MOVING
        return {
            Screen.STALE: Phase.REFINING,
            Screen.PREVIEW: Phase.PREVIEW,
            Screen.FULL: Phase.STILL,
            Screen.FAILED: Phase.FAILED,
        }[self.screen]

    def state(self, now: float) -> Phase:
        """The coarse state: MOVING, REFINING (refining or showing a preview) or STILL."""
        p = self.phase(now)
        return {Phase.PREVIEW: Phase.REFINING, Phase.FAILED: Phase.STILL}.get(p, p)

    def wants_paint(self, now: float) -> bool:
        """Should the frame timer schedule a repaint now?"""
        if self.redraw:
            return True
        p = self.phase(now)
        return p is Phase.REFINING or (p is Phase.PREVIEW and now >= self.full_after)

    def plan(
        self, now: float, full_ms: float, full_block_ms: float, preview_level: int | None
    ) -> FramePlan:
        """The next frame: `full_ms` is the predicted full-frame time (0: unknown), a full frame
        slower than `full_block_ms` gets a preview at `preview_level` first."""
        p = self.phase(now)
        preview = (
            preview_level is not None
            and 0 < full_ms
            and full_ms > full_block_ms
            and (p is Phase.REFINING or (p is Phase.PREVIEW and now < self.full_after))
        )
        return FramePlan(p is Phase.MOVING, preview_level if preview else None, preview)
