"""A transparent widget drawn over the viewport (gizmo, camera path, orbit pivot, splat
selection): mouse events pass through to the viewport, and after every frame it follows the
viewport's size and repaints when it has something to show."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QWidget


class ViewportOverlay(QWidget):
    """Base of the viewport's QPainter overlays; subclasses implement `paintEvent` and may
    narrow `wants_repaint` (default: repaint after every frame)."""

    def __init__(self, viewport: Any) -> None:
        super().__init__(viewport)
        self.viewport = viewport
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.resize(viewport.size())
        if hasattr(viewport, "frame_drawn"):
            viewport.frame_drawn.connect(lambda *_: self._follow())

    def wants_repaint(self) -> bool:
        """Whether a new frame changes what this overlay draws."""
        return True

    def _follow(self) -> None:
        if self.size() != self.parentWidget().size():
            self.resize(self.parentWidget().size())
        if self.wants_repaint():
            self.update()
