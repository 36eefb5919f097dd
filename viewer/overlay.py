"""A transparent widget drawn over the viewport (gizmo, camera path, orbit pivot, splat
selection): mouse events pass through to the viewport, it keeps the viewport's size, and
after every frame it repaints when it has something to show."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QEvent, QObject, Qt
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
        # follow the viewport's size at once, not only after its next frame: a dock that
        # appears (the transform panel on selecting an object) shrinks the viewport, and
        # a gizmo drag must not map the mouse with the old size (it moved 2.9x too far)
        viewport.installEventFilter(self)
        if hasattr(viewport, "frame_drawn"):
            viewport.frame_drawn.connect(lambda *_: self._follow())

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
        if (
            event is not None
            and event.type() == QEvent.Type.Resize
            and obj is self.parentWidget()
            and self.size() != obj.size()
        ):
            self.resize(obj.size())
        return False

    def wants_repaint(self) -> bool:
        """Whether a new frame changes what this overlay draws."""
        return True

    def _follow(self) -> None:
        if self.wants_repaint():
            self.update()
