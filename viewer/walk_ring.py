"""The walkable area's ring on the floor, drawn over the viewport in walk mode.

A `ViewportOverlay` (as the orbit grid): painted over whatever frame the window shows, fade
steps included, and part of a screenshot of the window. Painted inside paintGL, the ring
was wiped by the fade that follows every stop, and a trial found no ring at all.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QPainter

from .overlay import ViewportOverlay


class WalkRingOverlay(ViewportOverlay):
    """Draws `viewport.nav.walk_area`'s ring (viewer/walk_area.py) while walking."""

    def __init__(self, viewport: Any) -> None:
        super().__init__(viewport)
        self._drawn = False  # the last paint drew a ring (the next one may have to clear it)

    def wants_repaint(self) -> bool:
        return self._drawn or self.viewport.nav.walk_area is not None

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        nav = self.viewport.nav
        area = nav.walk_area
        self._drawn = False
        if area is None or nav.mode != "walk" or self.viewport.world is None:
            return
        cam = self.viewport.current_camera().resized(max(self.width(), 1), max(self.height(), 1))
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._drawn = area.paint_ring(p, cam)
        finally:
            p.end()
