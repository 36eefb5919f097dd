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

    def _camera(self) -> Any:
        return self.viewport.current_camera().resized(max(self.width(), 1), max(self.height(), 1))

    def _shows(self) -> bool:
        nav = self.viewport.nav
        return nav.walk_area is not None and nav.mode == "walk" and self.viewport.world is not None

    def wants_repaint(self) -> bool:
        """Only while the ring is in view, or was (to clear it): a full-view overlay
        repainted after every frame costs the window's compositing on a software GL."""
        if self._drawn:
            return True
        if not self._shows():
            return False
        area, cam = self.viewport.nav.walk_area, self._camera()
        return bool(area.ring_segments(cam) or area.fence_segments(cam))

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        self._drawn = False
        if not self._shows():
            return
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._drawn = self.viewport.nav.walk_area.paint_ring(p, self._camera())
        finally:
            p.end()
