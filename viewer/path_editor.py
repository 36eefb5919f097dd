"""Camera-path editing in the app: the path drawn in the viewport, a keyframe list, a
preview scrubber, and undoable keyframe edits.

- `SetCameraPath` (in `scene.commands`): the undo entry of every path change (add, move,
  retime, delete, clear, record, load), named by what changed ("Move keyframe 2", "Retime
  keyframe 3").
- `PathOverlay`: a transparent child of the viewport drawing the sampled path (yellow
  line, `scene.campath.path_polyline`), the keyframes (dots, the selected one larger) and
  the scrub position, projected with the same `scene.camera.Camera` the renderer uses.
- `PathPanel`: a dock with the keyframe list (time, position), a time box (retime),
  Set to View (move the keyframe to the current camera), Go To, Delete, and a slider that
  scrubs the view along the path (dragging puts the viewport camera at that time).

The open document (`viewer/document.py`, `window.document.camera.path`) holds the path and
the camera-path feature (`viewer/camera_paths.py`) owns the editor; this module only edits the
path through `Document.set_camera_path` (one undo entry per change).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QPointF, Qt
from PyQt6.QtGui import QColor, QPainter, QPen, QPolygonF
from PyQt6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from scene.campath import (
    CameraPath,
    Keyframe,
    delete_keyframe,
    path_polyline,
    replace_keyframe,
    retime_keyframe,
)
from scene.commands import SetCameraPath  # noqa: F401 - its home moved; imported from here

from .overlay import ViewportOverlay

log = logging.getLogger(__name__)

PATH_COLOR = QColor(255, 200, 60)
KEY_COLOR = QColor(255, 255, 255)
SELECTED_COLOR = QColor(80, 200, 255)
SCRUB_STEPS = 1000
# keys that move the camera: pressing one ends scrubbing (and gives back Walk)
MOVE_KEYS = frozenset(
    {
        Qt.Key.Key_W,
        Qt.Key.Key_A,
        Qt.Key.Key_S,
        Qt.Key.Key_D,
        Qt.Key.Key_Q,
        Qt.Key.Key_E,
        Qt.Key.Key_Space,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
    }
)


class PathOverlay(ViewportOverlay):
    """Draws the camera path over the viewport (mouse events pass through)."""

    def __init__(self, viewport: Any, editor: PathEditor) -> None:
        super().__init__(viewport)
        self.editor = editor
        self._poly_for: Any = None
        self._poly: np.ndarray | None = None

    def wants_repaint(self) -> bool:
        return self.editor.path is not None

    def polyline(self) -> np.ndarray | None:
        """World points (N, 3) of the current path, cached per path object."""
        path = self.editor.path
        if path is None:
            return None
        if self._poly_for is not path:
            self._poly_for, self._poly = path, path_polyline(path)
        return self._poly

    def screen_points(self) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """(path segments in front of the camera as (M, 2) pixel arrays, keyframe pixels
        (K, 2), keyframe visible mask (K,))."""
        path = self.editor.path
        cam = self.viewport.current_camera().resized(max(self.width(), 1), max(self.height(), 1))
        pts = self.polyline()
        segs: list[np.ndarray] = []
        if pts is not None and len(pts) >= 2:
            uv, z = cam.project(pts)
            ok = (z > 0.05) & np.isfinite(uv).all(1)
            start = None
            for i, good in enumerate(list(ok) + [False]):
                if good and start is None:
                    start = i
                elif not good and start is not None:
                    if i - start >= 2:
                        segs.append(uv[start:i])
                    start = None
        kpos = (
            np.stack([k.position for k in path.keyframes]) if path is not None else np.zeros((0, 3))
        )
        if len(kpos):
            kuv, kz = cam.project(kpos)
            kok = (kz > 0.05) & np.isfinite(kuv).all(1)
        else:
            kuv, kok = np.zeros((0, 2)), np.zeros(0, bool)
        return segs, kuv, kok

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        if self.editor.path is None or not self.editor.show_path:
            return
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            segs, kuv, kok = self.screen_points()
            p.setPen(QPen(PATH_COLOR, 2.0))
            for s in segs:
                p.drawPolyline(QPolygonF([QPointF(float(u), float(v)) for u, v in s]))
            sel = self.editor.selected_index()
            for i, (uv, ok) in enumerate(zip(kuv, kok)):
                if not ok:
                    continue
                c = SELECTED_COLOR if i == sel else KEY_COLOR
                r = 7.0 if i == sel else 4.5
                p.setPen(QPen(QColor(0, 0, 0), 1.5))
                p.setBrush(c)
                p.drawEllipse(QPointF(float(uv[0]), float(uv[1])), r, r)
                p.setPen(QPen(c))
                p.drawText(QPointF(float(uv[0]) + 8, float(uv[1]) - 8), str(i + 1))
        except Exception:  # noqa: BLE001 - an overlay must never break painting
            log.debug("path overlay skipped", exc_info=True)
        finally:
            p.end()


class PathPanel(QWidget):
    """Keyframe list + retime box + buttons + scrub slider (lives in a dock)."""

    def __init__(self, editor: PathEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel("No camera path")
        # the empty path's hint wraps: one line of it widened the dock to ~560 px and
        # squeezed the view (a trial)
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setMinimumHeight(90)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemDoubleClicked.connect(lambda _it: self.editor.go_to_selected())
        lay.addWidget(self.list)
        row = QHBoxLayout()
        row.addWidget(QLabel("Time"))
        self.time = QDoubleSpinBox()
        self.time.setRange(0.0, 24 * 3600.0)
        self.time.setDecimals(2)
        self.time.setSingleStep(0.5)
        self.time.setSuffix(" s")
        self.time.setKeyboardTracking(False)
        self.time.editingFinished.connect(self._retime)
        # Enter retimes and gives the keys back to the view: K typed into the box added no
        # keyframe (a trial)
        self.time.lineEdit().returnPressed.connect(lambda: editor.win.viewport.setFocus())
        row.addWidget(self.time, 1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.set_view = QPushButton("Set to View")
        self.set_view.setToolTip("Move the selected keyframe to the current camera")
        self.set_view.clicked.connect(self.editor.move_selected_to_view)
        self.goto = QPushButton("Go To")
        self.goto.clicked.connect(self.editor.go_to_selected)
        self.delete = QPushButton("Delete")
        self.delete.clicked.connect(self.editor.delete_selected)
        for b in (self.set_view, self.goto, self.delete):
            row.addWidget(b)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.scrub_label = QLabel("0.0 s")
        self.scrub_label.setMinimumWidth(50)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setRange(0, SCRUB_STEPS)
        self.scrub.setToolTip("Drag to preview the view along the path")
        self.scrub.valueChanged.connect(self._on_scrub)
        self.scrub.sliderReleased.connect(lambda: self.editor.end_scrub())
        row.addWidget(QLabel("Preview"))
        row.addWidget(self.scrub, 1)
        row.addWidget(self.scrub_label)
        lay.addLayout(row)
        self._filling = False

    # ------------------------------------------------------------ refresh
    def refresh(self) -> None:
        path = self.editor.path
        sel = self.list.currentRow()
        self._filling = True
        try:
            self.list.clear()
            if path is None:
                self.summary.setText(
                    "No camera path: add keyframes with K, record (Ctrl+R) "
                    "or use Path from Bookmarks"
                )
            else:
                self.summary.setText(f"{len(path)} keyframes, {path.duration:.1f} s")
                for i, k in enumerate(path.keyframes):
                    x, y, z = np.round(k.position, 2) + 0.0  # no "-0.00"
                    self.list.addItem(
                        QListWidgetItem(
                            f"{i + 1}.  {k.time:6.2f} s   ({x:+.2f}, {y:+.2f}, {z:+.2f})"
                        )
                    )
            if path is not None and len(path):
                self.list.setCurrentRow(min(max(sel, 0), len(path) - 1))
        finally:
            self._filling = False
        self._sync_controls()

    def _sync_controls(self) -> None:
        i = self.editor.selected_index()
        has = i is not None
        for w in (self.time, self.set_view, self.goto, self.delete):
            w.setEnabled(has)
        path = self.editor.path
        self.scrub.setEnabled(path is not None and len(path) >= 2)
        if has and path is not None:
            self.time.blockSignals(True)
            self.time.setValue(path.keyframes[i].time)
            self.time.blockSignals(False)

    def _on_row(self, _row: int) -> None:
        if not self._filling:
            self._sync_controls()
            self.editor.overlay.update()

    def _retime(self) -> None:
        self.editor.retime_selected(float(self.time.value()))

    def _on_scrub(self, value: int) -> None:
        path = self.editor.path
        if path is None or len(path) < 2:
            return
        t = path.start + path.duration * value / SCRUB_STEPS
        self.scrub_label.setText(f"{t:.1f} s")
        self.editor.scrub_to(t)


class PathEditor(QObject):
    """Ties the path held by `ext` (viewer/camera_paths.py `CameraPaths`) to the overlay and
    the panel.

    Scrubbing (the Preview slider, Go To) switches Walk to Fly so gravity does not pull the
    camera off the path; `end_scrub` gives the previous mode back when the slider is
    released, the panel is closed or a movement key is pressed in the view."""

    def __init__(self, ext: Any) -> None:
        from PyQt6.QtWidgets import QDockWidget

        super().__init__(ext.win)
        self.ext = ext
        self.win = ext.win
        self.show_path = True
        self.scrub_mode: str | None = None  # the mode scrubbing left (restored by end_scrub)
        self.overlay = PathOverlay(self.win.viewport, self)
        self.dock = QDockWidget("Camera Path", self.win)
        self.dock.setObjectName("camera_path_dock")
        self.panel = PathPanel(self, self.dock)
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(lambda on: None if on else self.end_scrub())
        self.win.viewport.installEventFilter(self)
        self.panel.refresh()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            self.scrub_mode is not None
            and event.type() == QEvent.Type.KeyPress
            and event.key() in MOVE_KEYS
        ):
            self.end_scrub()
        return False

    @property
    def path(self) -> CameraPath | None:
        return self.ext.path

    def selected_index(self) -> int | None:
        path = self.path
        row = self.panel.list.currentRow()
        return row if path is not None and 0 <= row < len(path) else None

    def select(self, index: int) -> None:
        self.panel.list.setCurrentRow(index)

    def show_time(self, t: float) -> None:
        """Put the Preview slider at path time `t` (s) without scrubbing to it (the play
        moves the camera itself)."""
        path = self.path
        if path is None or len(path) < 2 or path.duration <= 0:
            return
        scrub = self.panel.scrub
        value = round((t - path.start) / path.duration * SCRUB_STEPS)
        scrub.blockSignals(True)
        scrub.setValue(int(np.clip(value, 0, SCRUB_STEPS)))
        scrub.blockSignals(False)
        self.panel.scrub_label.setText(f"{t:.1f} s")

    def changed(self) -> None:
        """The path changed (an edit, undo, a new world): refresh list and overlay."""
        self.panel.refresh()
        self.overlay.update()
        self.win.viewport.request_full()

    # --------------------------------------------------------------- edits
    def move_selected_to_view(self) -> None:
        i = self.selected_index()
        if i is None:
            return
        k = self.path.keyframes[i]
        kf = Keyframe.from_camera(self.win.current_camera(), k.time)
        kf.fov_y_deg = k.fov_y_deg
        self.ext.set_path(replace_keyframe(self.path, i, kf), f"Move keyframe {i + 1}")
        self.win.show_status(f"Keyframe {i + 1} moved to the current view", 4000)

    def retime_selected(self, t: float) -> None:
        i = self.selected_index()
        if i is None or abs(self.path.keyframes[i].time - t) < 1e-9:
            return
        try:
            new = retime_keyframe(self.path, i, t)
        except ValueError as exc:
            self.win.show_status(str(exc), 6000)
            self.panel.refresh()
            return
        self.ext.set_path(new, f"Retime keyframe {i + 1}")
        self.select(int(np.argmin([abs(k.time - t) for k in new.keyframes])))

    def delete_selected(self) -> None:
        i = self.selected_index()
        if i is None:
            return
        self.ext.set_path(delete_keyframe(self.path, i), f"Delete keyframe {i + 1}")
        self.win.show_status(f"Keyframe {i + 1} deleted (Ctrl+Z restores it)", 4000)

    def go_to_selected(self) -> None:
        i = self.selected_index()
        if i is not None:
            self.scrub_to(self.path.keyframes[i].time)

    def scrub_to(self, t: float) -> None:
        """Put the viewport camera at the path's pose at time t (preview scrubbing)."""
        if self.path is not None:
            if self.win.viewport.nav.mode == "walk" and hasattr(self.win, "set_mode"):
                self.scrub_mode = "walk"
                self.win.set_mode("fly")  # gravity would pull the camera off the path
            self.ext.show_path_time(t)

    def end_scrub(self) -> None:
        """Scrubbing ended: give back the navigation mode it switched away from (unless the
        user chose another mode meanwhile)."""
        mode, self.scrub_mode = self.scrub_mode, None
        if (
            mode is not None
            and self.win.viewport.nav.mode == "fly"
            and hasattr(self.win, "set_mode")
        ):
            self.win.set_mode(mode)
