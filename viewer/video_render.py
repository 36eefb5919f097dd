"""Create > Render Video…: the document's camera path rendered to an MP4 in a job.

Frames are drawn on the GUI thread by the viewport's own renderer (GL lives there) and
encoded on the worker (generators/video.py); Cancel stops between frames.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from scene.campath import CameraPath

from .document import Document
from .features import WindowAPI
from .jobs import Job

VIDEO_SIZES = ["1280x720", "1920x1080", "3840x2160", "854x480", "1080x1920", "1024x1024"]


def video_aspect(window: Any) -> float:
    """Width / height of the last video size chosen (the settings' `video_size`, else
    VIDEO_SIZES[0]); 16:9 for a setting that is no video size (`generators.video.parse_size`,
    as the Render Video dialog reads it)."""
    from generators.video import parse_size

    try:
        w, h = parse_size(str(window.settings.get("video_size", VIDEO_SIZES[0], str)))
    except ValueError:
        return 16 / 9
    return w / h


def install(window: WindowAPI) -> None:
    """Add Create > Render Video…."""
    window.extensions["video_render"] = VideoRender(window)


class VideoRender(QObject):
    """Renders the document's camera path to a video file."""

    _render_request = pyqtSignal(object, object, object)  # camera, result box, threading.Event

    def __init__(self, window: WindowAPI) -> None:
        super().__init__(window)
        self.win = window
        self.doc: Document = window.document
        self._render_request.connect(self._render_on_gui)
        window.add_menu_action(
            window.menu("&Create"),
            "Render &Video…",
            self.render_video_dialog,
            tip="Render the camera path to MP4",
        )

    def render_video(
        self,
        out: str | Path,
        size: tuple[int, int],
        fps: float,
        crf: int = 18,
        path: CameraPath | None = None,
    ) -> Job:
        """Render `path` (default: the document's camera path) to `out` (size in pixels,
        fps frames a second) in a job. Raises ValueError when there is no camera path."""
        from generators.video import render_video

        campath = path if path is not None else self.doc.camera.path
        if campath is None:
            raise ValueError("no camera path: record one, add keyframes (K) or use bookmarks")
        world, out = self.win.world, Path(out)

        def work(progress: Any, cancel: Any) -> Any:
            def render(scene_obj: Any, cam: Any) -> np.ndarray:
                box: dict[str, Any] = {}
                ev = threading.Event()
                self._render_request.emit(cam, box, ev)
                while not ev.wait(0.05):
                    cancel.check()
                if "error" in box:
                    raise box["error"]
                return box["image"]

            return render_video(
                world,
                campath,
                out,
                render,
                size=size,
                fps=fps,
                crf=crf,
                progress=progress,
                cancel=cancel,
            )

        def done(res: Any) -> None:
            self.win.show_status(
                f"Wrote {res.path.name}: {res.frames} frames, {res.ms_per_frame:.0f} ms/frame",
                10000,
            )

        return self.win.run_job(f"Rendering {out.name}", work, done, commits=True)

    def _render_on_gui(self, cam: Any, box: dict, ev: threading.Event) -> None:
        try:
            box["image"] = self.win.viewport.render_to_image(cam.width, cam.height, camera=cam)
        except Exception as exc:  # noqa: BLE001 - re-raised on the worker
            box["error"] = exc
        finally:
            ev.set()

    def render_video_dialog(self) -> None:
        world = self.win.world
        campath, origin = self.doc.camera.path, ""
        if campath is None:
            if world.bookmarks:  # as `video`: through them; from one, a sway or a turn;
                # for this video only: the project's camera path stays the user's to make
                from scene.campath import bookmark_path

                campath, how = bookmark_path(world, seconds=3.0)
                origin = how + " (the project has no camera path; it stays without one)"
            else:
                QMessageBox.information(
                    self.win,
                    "Render video",
                    "Make a camera path first: Create > Camera Path > Record "
                    "While Walking, or add keyframes with K.",
                )
                return
        st = self.win.settings
        dlg = VideoDialog(
            self.win,
            campath,
            self.doc.suggested_path(".mp4", "flythrough.mp4"),
            inputs=self.win.open_inputs(),
            origin=origin,
        )
        # the last video's size and frame rate (the dialog forgot them every time: a trial)
        dlg.size.setCurrentText(str(st.get("video_size", VIDEO_SIZES[0], str)))
        dlg.fps.setValue(int(st.get("video_fps", 30, int)))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            size, fps, out = dlg.values()
            st.set("video_size", f"{size[0]}x{size[1]}")
            st.set("video_fps", int(fps))
            if origin:  # from the bookmarks: each one's view fills frames of this size
                from scene.campath import bookmark_path

                campath, _ = bookmark_path(world, seconds=3.0, aspect=size[0] / size[1])
            self.render_video(out, size, fps, path=campath)
        except (ValueError, FileNotFoundError) as exc:
            QMessageBox.warning(self.win, "Render video", str(exc))


class VideoDialog(QDialog):
    """Resolution, frame rate and output file for Render Video."""

    def __init__(
        self,
        parent: QWidget,
        path: CameraPath,
        out: str | None = None,
        inputs: list[tuple[str, Path]] | None = None,
        origin: str = "",
    ) -> None:
        """`origin`: where `path` comes from when it is not the project's camera path."""
        super().__init__(parent)
        self.inputs = inputs or []  # (label, path) the video must not replace
        self.setWindowTitle("Render video")
        self.setMinimumWidth(460)  # room for the output path
        form = QFormLayout(self)
        self.size = QComboBox()
        self.size.setEditable(True)
        self.size.addItems(VIDEO_SIZES)
        form.addRow("Size (WxH)", self.size)
        self.fps = QSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(30)
        form.addRow("Frames per second", self.fps)
        self.out = QLineEdit(out or str(Path.home() / "flythrough.mp4"))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out)
        row.addWidget(browse)
        form.addRow("Output", row)
        # a label, not a read-only text field: it looked editable (a trial)
        form.addRow("Duration", QLabel(f"{path.duration:.1f} s, {len(path)} keyframes"))
        if origin:
            note = QLabel(f"Camera path: {origin}")
            note.setWordWrap(True)
            form.addRow(note)
        bb = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Video file", self.out.text(), "MP4 (*.mp4)")
        if path:
            self.out.setText(path if path.lower().endswith(".mp4") else path + ".mp4")

    def values(self) -> tuple[tuple[int, int], float, str]:
        from generators.video import parse_size

        return parse_size(self.size.currentText()), float(self.fps.value()), self.out.text()

    def accept(self) -> None:
        """Close only with settings that can be rendered: a valid size, an .mp4 name
        (added when the name has no suffix) in a folder that exists, not one of the open
        world's inputs, and a yes to replacing a file that is there."""
        from generators.video import check_video_output, parse_size
        from scene.files import check_outputs

        text = self.out.text().strip()
        if text and not Path(text).suffix:
            text += ".mp4"
            self.out.setText(text)
        try:
            parse_size(self.size.currentText())
            out = check_video_output(Path(text).expanduser())
            check_outputs([("the video", out)], self.inputs)
        except (ValueError, FileNotFoundError) as exc:
            QMessageBox.warning(self, "Render video", str(exc))
            return
        self.out.setText(str(out))
        if out.exists():
            answer = QMessageBox.question(
                self,
                "Render video",
                f"{out.name} already exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().accept()
