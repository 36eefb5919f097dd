"""When the viewport draws what: the moving / refining / still state of the view, as one
explicit object fed with events and timestamps (no Qt, no GL: unit-tested on its own).

- MOVING: the camera moved within `rest_s`, or a move key / drag is held. Frames use the
  adaptive moving level. A captured pointer (mouse-look) is *not* motion by itself: only
  the pointer's moves are (issue: with Tab/F the view used to count as moving forever).
- REFINING: the camera is still but the last frame was reduced. When a full frame is
  predicted slow, one intermediate frame comes first (a quick preview at a level predicted
  within `preview_ms`), and the full frame once the camera has rested `full_delay_s`, so
  the picture improves in steps instead of a stall followed by a pop.
- STILL: a full-quality frame of this view is on screen; nothing is drawn until something
  changes.
"""

from __future__ import annotations

from dataclasses import dataclass

MOVING, REFINING, STILL = "moving", "refining", "still"


@dataclass(frozen=True)
class FramePlan:
    """What the next frame draws: `level` None = the moving level from the quality controller
    (when `moving`) or full quality; an int = that quality level (a refining preview)."""

    moving: bool
    level: int | None = None
    preview: bool = False


class RenderState:
    """The viewport's render state machine. All times are seconds on one monotonic clock
    (the caller passes `now`, so tests drive it without sleeping)."""

    def __init__(self, rest_s: float = 0.15, full_delay_s: float = 0.6) -> None:
        self.rest_s = rest_s
        self.full_delay_s = full_delay_s
        self.last_motion = -1e9     # when the camera last moved
        self.held = False           # a move key or a mouse drag is held
        self.dirty = True           # something changed: draw the next tick
        self.needs_full = True      # the frame on screen is not full quality of this view
        self.moved_since_paint = False
        self.preview_done = False
        self.full_after = 0.0       # with a preview shown: draw the full frame from then on

    # ------------------------------------------------------------------ events
    def camera_moved(self, now: float) -> None:
        """The camera pose changed (keys, pointer, wheel, a bookmark)."""
        self.last_motion = now
        self.moved_since_paint = True
        self.needs_full = True
        self.dirty = True
        self.preview_done = False
        self.full_after = 0.0

    def set_held(self, held: bool) -> None:
        """A move key or a drag is (not) held; held input counts as moving."""
        self.held = bool(held)

    def request_full(self) -> None:
        """The scene or the view changed: draw a full-quality frame (after a preview if slow)."""
        self.needs_full = True
        self.preview_done = False
        self.dirty = True

    def content_changed(self) -> None:
        """Something new to show at the same quality (e.g. a finished sort)."""
        self.dirty = True

    # ------------------------------------------------------------------ queries
    def moving(self, now: float) -> bool:
        return self.moved_since_paint or self.held or now - self.last_motion < self.rest_s

    def state(self, now: float) -> str:
        if self.moving(now):
            return MOVING
        return REFINING if self.needs_full else STILL

    def wants_paint(self, now: float) -> bool:
        """Should the frame timer schedule a repaint now?"""
        if self.dirty:
            return True
        if not self.needs_full or self.moving(now):
            return False
        return not self.preview_done or now >= self.full_after

    def plan(self, now: float, full_ms: float, full_block_ms: float,
             preview_level: int | None) -> FramePlan:
        """The next frame: `full_ms` is the predicted full-frame time (0: unknown), a full frame
        slower than `full_block_ms` gets a preview at `preview_level` first."""
        moving = self.moving(now)
        preview = (not moving and self.needs_full and preview_level is not None and full_ms > 0
                   and full_ms > full_block_ms
                   and (not self.preview_done or now < self.full_after))
        return FramePlan(moving, preview_level if preview else None, preview)

    def drawn(self, plan: FramePlan, full: bool, now: float) -> None:
        """A frame of `plan` was drawn (`full`: at full quality)."""
        self.moved_since_paint = False
        self.dirty = False
        if plan.preview:
            if not self.preview_done:
                self.preview_done, self.full_after = True, now + self.full_delay_s
        elif full and not plan.moving:
            self.needs_full = False
        elif not full:
            # a reduced frame (moving, or a modifier pressed without motion) is refined at rest
            self.needs_full = True

    def failed(self) -> None:
        """The frame could not be drawn: stop asking for it until something changes."""
        self.dirty = False
        self.needs_full = False
