"""Create > Camera Path: Record While Walking (Ctrl+R), Add Keyframe from View (K), Path
from Bookmarks, Play Preview, Load/Save Path…, Clear, Edit Path… (keyframe list: select,
set to view, retime, delete, scrub; viewer/path_editor.py), Show Path in View.

The path itself is the document's (`window.document.camera.path`, saved with the project);
every change is one undo entry (`Document.set_camera_path`). The maths lives in
scene/campath.py.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from scene.campath import CameraPath, Keyframe, PathRecorder

from .document import Document
from .features import WindowAPI
from .video_render import video_aspect

RECORD_HZ = 10.0


def install(window: WindowAPI) -> None:
    """Add the Camera Path submenu to Create and the path editor dock."""
    window.extensions["camera_paths"] = CameraPaths(window)


class CameraPaths(QObject):
    """Records, edits and previews the document's camera path."""

    def __init__(self, window: WindowAPI) -> None:
        super().__init__(window)
        self.win = window
        self.doc: Document = window.document
        self.recorder = PathRecorder()
        self._preview_t0 = 0.0
        self._preview_mode: str | None = None
        self.editor: Any = None
        self._build_actions()
        self._record_timer = QTimer(self)
        self._record_timer.timeout.connect(self._record_sample)
        self._preview_timer = QTimer(self)
        self._preview_timer.timeout.connect(self._preview_tick)
        from .path_editor import PathEditor

        self.editor = PathEditor(self)
        self.editor.show_path = bool(self.win.settings.get("show_camera_path", True, bool))
        self.show_path_action.setChecked(self.editor.show_path)
        self.doc.camera_path_changed.connect(self._path_changed)
        window.world_replaced.connect(self._world_replaced)

    def _build_actions(self) -> None:
        c = self.win.menu("&Create")
        if c.actions():
            c.addSeparator()  # one group per kind of thing created
        m = c.addMenu("Camera Pa&th")
        act = self.win.add_menu_action
        self.record_action = act(
            m, "&Record While Walking", self.toggle_record, "Ctrl+R", checkable=True
        )
        act(m, "Add &Keyframe from View", self.add_keyframe, "K")
        act(m, "Path from &Bookmarks", self.path_from_bookmarks)
        self.preview_action = act(
            m, "&Play Preview", self.toggle_preview, "Ctrl+Shift+P", checkable=True
        )
        m.addSeparator()
        act(m, "&Load Path…", self.load_path_dialog)
        act(m, "&Save Path…", self.save_path_dialog)
        act(m, "&Clear Path", self.clear_path)
        m.addSeparator()
        self.edit_path_action = act(
            m,
            "&Edit Path…",
            self.toggle_editor,
            "Ctrl+Shift+K",
            "Keyframe list: select, move, retime, delete; scrub the preview",
            checkable=True,
        )
        self.show_path_action = act(m, "Show Path in &View", self.toggle_show_path, checkable=True)

    # ================================================================ the path
    @property
    def path(self) -> CameraPath | None:
        """The document's camera path (None: none yet)."""
        return self.doc.camera.path

    def set_path(self, path: CameraPath | None, text: str) -> None:
        """Replace the camera path as one undo entry named `text` ("Move keyframe 2")."""
        self.doc.set_camera_path(path, text)

    def _path_changed(self) -> None:
        if self.editor is not None:
            self.editor.changed()

    def _world_replaced(self, world: Any) -> None:
        if self.editor is not None:
            self.editor.scrub_mode = None  # a scrub of the last world gives nothing back
            self.editor.changed()

    # ================================================================== editor
    def toggle_editor(self) -> None:
        """Show or hide the Camera Path panel (keyframe list and preview scrubber)."""
        on = not self.editor.dock.isVisible()
        self.editor.dock.setVisible(on)
        self.edit_path_action.setChecked(on)
        if on:
            self.editor.panel.refresh()

    def toggle_show_path(self) -> None:
        """Draw the camera path in the viewport or not (persisted)."""
        self.editor.show_path = self.show_path_action.isChecked()
        self.win.settings.set("show_camera_path", self.editor.show_path)
        self.editor.overlay.update()

    # =============================================================== recording
    def toggle_record(self) -> None:
        if self._record_timer.isActive():
            self._record_timer.stop()
            self.record_action.setChecked(False)
            replaced = self.path is not None and len(self.path) > 0
            try:
                self.set_path(self.recorder.path(up=self.win.world.up_axis), "Record camera path")
            except ValueError as exc:
                self.win.show_status(str(exc), 6000)
                return
            self.win.show_status(
                f"Recorded a {self.path.duration:.1f} s path with "
                f"{len(self.path)} keyframes — Create > Render Video…"
                + ("; it replaced the previous path (Ctrl+Z brings it back)" if replaced else ""),
                8000,
            )
        else:
            self.recorder.clear()
            self._record_sample()
            self._record_timer.start(int(1000 / RECORD_HZ))
            self.record_action.setChecked(True)
            self.win.show_status("Recording the camera path: walk around, Ctrl+R to stop", 8000)

    def _record_sample(self) -> None:
        self.recorder.add(self.win.current_camera(), time.perf_counter())

    def add_keyframe(self) -> None:
        """Append the current view, 2 s (or walking pace) after the last keyframe."""
        cam = self.win.current_camera()
        kfs = list(self.path.keyframes) if self.path is not None else []
        t = 0.0
        if kfs:
            dist = float(np.linalg.norm(cam.position - kfs[-1].position))
            t = kfs[-1].time + max(2.0, dist / 1.4)
        kfs.append(Keyframe.from_camera(cam, t))
        self.set_path(CameraPath(kfs, self.win.world.up_axis), f"Add keyframe {len(kfs)}")
        if self.editor is not None:  # the list shows the one just added (a trial: still 1)
            self.editor.select(len(kfs) - 1)
        self.win.show_status(f"Keyframe {len(kfs)} at {t:.1f} s", 4000)

    def path_from_bookmarks(self) -> bool:
        """The path through the world's bookmarks, 3 s apart (one bookmark: a sway round
        it in a photo's world, else a look-around; `scene.campath.bookmark_path`), each
        bookmark's view framed for the last video size (`video_aspect`); False (and a
        status message) when there is none. The status bar says which it made."""
        from scene.campath import bookmark_path

        try:
            path, what = bookmark_path(self.win.world, seconds=3.0, aspect=video_aspect(self.win))
        except ValueError as exc:
            self.win.show_status(str(exc), 6000)
            return False
        self.set_path(path, "Path from bookmarks")
        self.win.show_status(f"Camera path {what} ({self.path.duration:.0f} s)", 6000)
        return True

    def clear_path(self) -> None:
        if self.path is not None:
            self.set_path(None, "Clear camera path")
        self.recorder.clear()
        self.win.show_status("Camera path cleared", 3000)

    # =================================================================== files
    def load_path_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.win, "Load camera path", str(self.doc.dialog_dir()), "Camera paths (*.json)"
        )
        if path:
            try:
                self.set_path(
                    CameraPath.load(path, default_up=self.win.world.up_axis), "Load camera path"
                )
            except (ValueError, OSError) as exc:
                QMessageBox.warning(self.win, "Camera path", str(exc))
                return
            self.win.show_status(f"Loaded {len(self.path)} keyframes", 4000)

    def save_path_dialog(self) -> None:
        if self.path is None:
            self.win.show_status("No camera path yet: record one or add keyframes (K)", 6000)
            return
        out, _ = QFileDialog.getSaveFileName(
            self.win,
            "Save camera path",
            self.doc.suggested_path("_path.json", "path.json"),
            "JSON (*.json)",
        )
        if out and not self.doc.refuses_output(out, "the camera path"):
            self.path.save(out)

    # ================================================================= preview
    def toggle_preview(self) -> None:
        if self._preview_timer.isActive():
            self._stop_preview()
            return
        if self.path is None or len(self.path) < 2:
            self.preview_action.setChecked(False)
            self.win.show_status("Need a camera path with two or more keyframes", 6000)
            return
        self._preview_mode = self.win.viewport.nav.mode
        self.win.set_mode("fly")  # no gravity pulling the camera off the path
        self._preview_t0 = time.perf_counter()
        self._preview_timer.start(16)
        self.preview_action.setChecked(True)

    def _preview_tick(self) -> None:
        t = self.path.start + time.perf_counter() - self._preview_t0 if self.path else 0.0
        if self.path is None or t > self.path.start + self.path.duration:
            self._stop_preview()
            return
        self.show_path_time(t)
        if self.editor is not None:  # the Preview slider follows the play (a trial: it stood)
            self.editor.show_time(t)

    def show_path_time(self, t: float) -> None:
        """Put the viewport camera at the path's pose at time t (seconds)."""
        kf = self.path.keyframe_at(t)
        cam = self.path.camera(t, 2, 2)
        vp = self.win.viewport
        vp.nav.set_view_world(kf.position, cam.forward)
        vp.request_full()

    def _stop_preview(self) -> None:
        self._preview_timer.stop()
        self.preview_action.setChecked(False)
        if self._preview_mode:
            self.win.set_mode(self._preview_mode)
