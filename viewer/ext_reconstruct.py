"""Reconstruction in the app: Create > New Scene from Photos… / from Video….

A dialog picks photos (files or a whole folder) or a video, shows the photos as
thumbnails, and asks for refinement steps and depth detail. The job runs through
`window.run_job` (per-stage progress: read, features, matching, mapping, depth, fusion,
refinement; Cancel keeps the current scene), then the result replaces the world with
the photo cameras in `World.meta['cameras']` (the viewport draws them as frusta) and a
bookmark per photo. Optionally the scene, cameras and depth maps are saved too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QAction, QIcon, QImage, QPixmap
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from generators.reconstruct.options import ReconstructOptions
from scene.io.images import VIDEO_SUFFIXES

from .features import WindowAPI

log = logging.getLogger(__name__)

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
VIDEO_FILTER = f"Videos ({' '.join('*' + s for s in VIDEO_SUFFIXES)});;All files (*)"
DETAIL = [
    ("Fast (depth 320 px)", 320),
    ("Standard (depth 400 px)", 400),
    ("High (depth 640 px)", 640),
]


#: the ReconstructOptions fields the dialog sets (the others keep their defaults)
DIALOG_FIELDS = (
    "refine_steps",
    "refine_seconds",
    "run_seconds",
    "depth_size",
    "backend",
    "capture",
    "holdout",
    "fill_gaps",
    "ray_fill",
)


@dataclass
class ReconstructRequest:
    """One reconstruction job from the dialog: the photos or video, where to save, and the
    generator's own `ReconstructOptions` (the same dataclass the CLI builds)."""

    photos: list[Path] = field(default_factory=list)
    video: Path | None = None
    save_to: Path | None = None  # optional .ply: also write cameras + depth maps beside
    max_frames: int = 60  # video: most frames to keep
    options: ReconstructOptions = field(default_factory=ReconstructOptions)

    def check(self) -> None:
        """The options, the inputs, and where the scene is saved (ValueError: one line)."""
        self.options.check()
        if self.video is None and len(self.photos) < 2:
            raise ValueError(
                "choose at least 2 photos of the scene taken while moving (or a video)"
            )
        if self.save_to is not None:
            from generators.reconstruct.pipeline import scene_format
            from scene.files import check_outputs

            scene_format(self.save_to)
            # the scene may not replace a photo or the video it is made from
            check_outputs(
                [("the scene", self.save_to)],
                [("a photo", p) for p in self.photos] + [("the video", self.video)],
            )

    def run(self, progress: Any, cancel: Any) -> Any:
        from dataclasses import replace

        from generators.reconstruct.pipeline import build_world, reconstruct, save_result
        from scene.files import temp_dir

        opts = self.options
        with temp_dir("frames") as tmp:
            photos = self.photos
            if self.video is not None:
                from generators.reconstruct.video import sample_frames

                photos = sample_frames(
                    self.video,
                    Path(tmp),
                    max_frames=self.max_frames,
                    progress=lambda f, m: progress(0.1 * f, m),
                    cancel=cancel,
                )
                opts = replace(opts, sequential=True)
                inner = progress
                progress = lambda f, m: inner(0.1 + 0.9 * f, m)  # noqa: E731
            result = reconstruct(photos, opts, progress, cancel)
            if self.video is not None:
                result.mark_video(self.video)
            kept = photos
            if self.save_to is not None:
                cancel.check()
                # a video's frames are kept beside the scene (SCENE_frames/), as the CLI
                # does: the photos `evaluate` scores the scene by
                written = save_result(
                    result,
                    self.save_to,
                    frames=photos if self.video is not None else (),
                    photos=photos,
                )
                if "frames" in written:
                    kept = [written["frames"] / p.name for p in photos]
            elif self.video is not None:
                kept = keep_frames(photos, self.video)
        # the world names its photos (or frames): a project saved from it carries them
        return build_world(result, photos=kept)


def frames_folder() -> Path:
    """Where the app keeps a video's sampled frames when the scene is not saved beside them:
    `frames/` next to the autosave folder (the user's data dir, scene.project.autosave_dir)."""
    from scene.project import autosave_dir

    return autosave_dir().parent / "frames"


def keep_frames(frames: list[Path], video: Path) -> list[Path]:
    """Copy a video's sampled frames (files in a temporary folder) to a new folder of
    `frames_folder()` and return their new paths. The world names them, so a project saved
    from it carries them (a trial's video frames were in no file once the job ended); on
    failure (a full disk, no data dir) the frames' temporary paths, with a logged warning."""
    import shutil
    import uuid

    from scene.files import make_temp_dir

    base = frames_folder()
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(video.stem, base)
        for f in frames:
            shutil.copyfile(f, tmp / f.name)
        dest = base / f"{video.stem}-{uuid.uuid4().hex[:8]}"
        tmp.rename(dest)
    except OSError as exc:
        log.warning("could not keep the frames of %s in %s: %s", video.name, base, exc)
        return list(frames)
    return [dest / f.name for f in frames]


def _thumbnail(path: Path, size: int = 96) -> QIcon | None:
    """Icon for a photo (EXIF-rotated), or None when the file is not an image."""
    from scene.errors import SceneFormatError
    from scene.io.images import load_image_u8

    try:  # the one image front door: its limits, EXIF handling; small decode for JPEGs
        img, _alpha = load_image_u8(path, max_side=4 * size)
    except SceneFormatError:
        return None
    import cv2

    s = size / max(img.shape[:2])
    small = cv2.resize(
        img,
        (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
        interpolation=cv2.INTER_AREA,
    ).copy()
    q = QImage(
        small.data, small.shape[1], small.shape[0], small.strides[0], QImage.Format.Format_RGB888
    )
    return QIcon(QPixmap.fromImage(q.copy()))


class ReconstructDialog(QDialog):
    """Photos (thumbnails) or a video, plus options; `request()` returns the request."""

    def __init__(self, parent: QWidget, photos: list[Path], video: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Scene from Video" if video else "New Scene from Photos")
        self.video = video
        lay = QVBoxLayout(self)
        self.list = QListWidget(self)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(96, 96))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMinimumSize(560, 240)
        self.unreadable: list[str] = []
        if video is None:
            for p in photos:
                icon = _thumbnail(p)
                if icon is None:
                    self.unreadable.append(p.name)
                    continue
                item = QListWidgetItem(icon, p.name)
                item.setData(Qt.ItemDataRole.UserRole, str(p))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
                self.list.addItem(item)
            lay.addWidget(
                QLabel(
                    f"{self.list.count()} photos (untick any to leave out)"
                    + (f"; not images: {', '.join(self.unreadable)}" if self.unreadable else "")
                )
            )
            lay.addWidget(self.list)
        else:
            lay.addWidget(QLabel(f"Video: {video.name} — sharp, distinct frames are sampled"))
        form = QFormLayout()
        defaults = ReconstructOptions()
        self.refine = QSpinBox()
        self.refine.setRange(0, 30000)
        self.refine.setValue(defaults.refine_steps)
        self.refine.setToolTip(
            "3DGS optimisation steps at most (0 = off): gsplat on CUDA, else the "
            "compiled CPU rasterizer at a reduced resolution"
        )
        form.addRow("Optimisation steps:", self.refine)
        self.refine_seconds = QSpinBox()
        self.refine_seconds.setRange(0, 3600)
        self.refine_seconds.setSuffix(" s")
        self.refine_seconds.setValue(int(defaults.refine_seconds))
        self.refine_seconds.setToolTip(
            "time budget of the optimisation at most (0 = no limit); "
            "the report says when it stopped the run"
        )
        form.addRow("Optimisation time, at most:", self.refine_seconds)
        self.run_seconds = QSpinBox()
        self.run_seconds.setRange(0, 24 * 3600)
        self.run_seconds.setSuffix(" s")
        self.run_seconds.setValue(int(defaults.run_seconds))
        self.run_seconds.setToolTip(
            "wall-clock budget of the whole run (0 = none): the optimisation gets what "
            "the earlier stages leave, up to the optimisation time above"
        )
        form.addRow("Whole run within:", self.run_seconds)
        # how the two times go together, on the dialog (a trial read them as rivals: the
        # tooltip that said it showed after 2 s of hovering)
        budgets = QLabel(
            "The optimisation gets what the stages before it leave of the whole run, "
            "and at most its own time."
        )
        budgets.setWordWrap(True)
        budgets.setStyleSheet("color: palette(mid);")
        form.addRow("", budgets)
        from cli.cmd_reconstruct import (  # app2 hook: no torch
            missing_phrase,
            torch_available,
            torch_install_hint,
        )

        if not torch_available():  # optimisation needs PyTorch + gsplat: off, and say how
            self.refine.setValue(0)
            self.refine.setEnabled(False)
            self.no_torch = QLabel(
                f"Off: {missing_phrase() or 'PyTorch is not installed'}. "
                f"To add it: {torch_install_hint()}"
            )
            self.no_torch.setWordWrap(True)
            form.addRow("", self.no_torch)
        from .models_dialog import fill_combo

        self.backend = QComboBox()
        fill_combo(self.backend, "scene")  # ready backends; the feed-forward one needs DA3
        form.addRow("Cameras and depth:", self.backend)
        self.detail = QComboBox()
        for label, _ in DETAIL:
            self.detail.addItem(label)
        self.detail.setCurrentIndex([d for _, d in DETAIL].index(defaults.depth_size))
        form.addRow("Depth detail:", self.detail)
        # the CLI's --capture, --holdout and --no-fill-gaps, with the dataclass's choices
        meta = {f.name: f.metadata for f in fields(ReconstructOptions)}
        self.capture = QComboBox()
        for c in meta["capture"]["choices"]:
            self.capture.addItem({"auto": "auto (from the camera layout)"}.get(c, c), c)
        self.capture.setToolTip(meta["capture"]["help"])
        form.addRow("Capture type:", self.capture)
        self.holdout = QSpinBox()
        self.holdout.setRange(0, 100)
        self.holdout.setValue(defaults.holdout)
        self.holdout.setSpecialValueText("off")
        self.holdout.setPrefix("every ")
        self.holdout.setToolTip(meta["holdout"]["help"])
        form.addRow("Hold out for evaluate:", self.holdout)
        self.fill_gaps = QCheckBox("also where only one photo sees a surface (foliage)")
        self.fill_gaps.setChecked(defaults.fill_gaps)
        self.fill_gaps.setToolTip(meta["fill_gaps"]["help"])
        form.addRow("Fill gaps:", self.fill_gaps)
        self.ray_fill = QCheckBox("also where stereo found no depth (trees, near things)")
        self.ray_fill.setChecked(defaults.ray_fill)
        self.ray_fill.setToolTip(meta["ray_fill"]["help"])
        form.addRow("", self.ray_fill)
        self.frames = QSpinBox()
        self.frames.setRange(2, 300)
        self.frames.setValue(ReconstructRequest.max_frames)
        if video is not None:
            form.addRow("Most frames:", self.frames)
        row = QHBoxLayout()
        self.save_to = QLineEdit()
        self.save_to.setPlaceholderText("optional: also save scene.ply + cameras + depth maps")
        btn = QPushButton("…")
        btn.setObjectName("browse")  # narrow padding: the theme's 14 px would elide the "…"
        btn.setFixedWidth(32)
        btn.clicked.connect(self._pick_save)
        row.addWidget(self.save_to)
        row.addWidget(btn)
        form.addRow("Save to:", row)
        lay.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d55;")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Reconstruct")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    #: the options a dialog remembers from the last one accepted (Settings key)
    REMEMBER_KEY = "reconstruct_dialog"

    def remembered(self) -> dict:
        """The options worth keeping for the next dialog (not the photos or Save to)."""
        return {
            "refine": self.refine.value(),
            "refine_seconds": self.refine_seconds.value(),
            "run_seconds": self.run_seconds.value(),
            "detail": self.detail.currentIndex(),
            "capture": self.capture.currentData(),
            "holdout": self.holdout.value(),
            "fill_gaps": self.fill_gaps.isChecked(),
            "ray_fill": self.ray_fill.isChecked(),
            "frames": self.frames.value(),
        }

    def restore(self, saved: Any) -> None:
        """Set the options `remembered` gave for the last dialog accepted (a trial's second
        run came back at the defaults). Anything unreadable is left at its default."""
        if not isinstance(saved, dict):
            return
        spins = {
            "refine_seconds": self.refine_seconds,
            "run_seconds": self.run_seconds,
            "holdout": self.holdout,
            "frames": self.frames,
        }
        if self.refine.isEnabled():  # off without PyTorch, whatever was kept
            spins["refine"] = self.refine
        for key, box in spins.items():
            v = saved.get(key)
            if isinstance(v, int) and box.minimum() <= v <= box.maximum():
                box.setValue(v)
        d = saved.get("detail")
        if isinstance(d, int) and 0 <= d < self.detail.count():
            self.detail.setCurrentIndex(d)
        i = self.capture.findData(saved.get("capture"))
        if i >= 0:
            self.capture.setCurrentIndex(i)
        for key, box in (("fill_gaps", self.fill_gaps), ("ray_fill", self.ray_fill)):
            if isinstance(saved.get(key), bool):
                box.setChecked(saved[key])

    def _pick_save(self) -> None:
        f, _ = QFileDialog.getSaveFileName(
            self,
            "Save reconstructed scene",
            "scene.ply",
            "Splats (*.ply *.splat *.spz);;All files (*)",
        )
        if f:
            from .save_target import confirm_replace

            out = f if Path(f).suffix else f + ".ply"
            if confirm_replace(self, f, out, "Save reconstructed scene"):
                self.save_to.setText(out)

    def photos(self) -> list[Path]:
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.checkState() == Qt.CheckState.Checked:
                out.append(Path(it.data(Qt.ItemDataRole.UserRole)))
        return out

    def request(self) -> ReconstructRequest:
        """The dialog's choices: inputs, where to save, and the `ReconstructOptions`."""
        text = self.save_to.text().strip()
        opts = ReconstructOptions(
            refine_steps=int(self.refine.value()),
            refine_seconds=float(self.refine_seconds.value()),
            run_seconds=float(self.run_seconds.value()),
            depth_size=DETAIL[self.detail.currentIndex()][1],
            backend=str(self.backend.currentData() or "sfm"),
            capture=str(self.capture.currentData() or "auto"),
            holdout=int(self.holdout.value()),
            fill_gaps=self.fill_gaps.isChecked(),
            ray_fill=self.ray_fill.isChecked(),
        )
        return ReconstructRequest(
            photos=self.photos() if self.video is None else [],
            video=self.video,
            save_to=Path(text) if text else None,
            max_frames=int(self.frames.value()),
            options=opts,
        )

    def _accept(self) -> None:
        try:
            self.request().check()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class ReconstructTools:
    """The reconstruction actions of one window (kept on `window.extensions`)."""

    def __init__(self, window: WindowAPI) -> None:
        self.window = window
        create = window.menu("&Create")
        self.photos_action = QAction("New Scene from &Photos…", window)
        self.photos_action.triggered.connect(lambda _=False: self.new_from_photos())
        self.folder_action = QAction("New Scene from Photo &Folder…", window)
        self.folder_action.triggered.connect(lambda _=False: self.new_from_folder())
        self.video_action = QAction("New Scene from V&ideo…", window)
        self.photos_action.setStatusTip("Photos taken while moving → cameras, depth, splats")
        self.folder_action.setStatusTip("Every photo in a folder → cameras, depth, splats")
        self.video_action.setStatusTip("A walk-through video → sharp frames → a splat scene")
        self.video_action.triggered.connect(lambda _=False: self.new_from_video())
        if create.actions():
            create.addSeparator()  # one group per kind of thing created
        for a in (self.photos_action, self.folder_action, self.video_action):
            create.addAction(a)
        self.last_job: Any = None

    def _start_dir(self) -> str:
        return str(self.window.dialog_dir())  # beside the open project

    def new_from_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window, "Photos taken while moving", self._start_dir(), PHOTO_FILTER
        )
        if files:
            self.window.remember_dir(Path(files[0]).parent)  # (began in home: a trial)
            self.ask([Path(f) for f in files])

    def new_from_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self.window, "Folder of photos", self._start_dir())
        if d:
            from generators.reconstruct.photos import list_photos

            self.window.remember_dir(Path(d))
            self.ask(list_photos(Path(d)))

    def new_from_video(self) -> None:
        f, _ = QFileDialog.getOpenFileName(
            self.window, "Video walking through the scene", self._start_dir(), VIDEO_FILTER
        )
        if f:
            self.window.remember_dir(Path(f).parent)
            self.ask([], Path(f))

    def ask(self, photos: list[Path], video: Path | None = None) -> None:
        import json

        dlg = ReconstructDialog(self.window, photos, video)
        try:
            dlg.restore(json.loads(self.window.settings.get(dlg.REMEMBER_KEY, "{}", str)))
        except ValueError:
            log.info("the last New Scene options are unreadable: defaults")
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.window.settings.set(dlg.REMEMBER_KEY, json.dumps(dlg.remembered()))
            if self.window.confirm_replace():
                self.start(dlg.request())

    def start(self, req: ReconstructRequest) -> Any:
        """Check and run a request as a window job; the scene opens when it is done."""
        req.check()
        title = (
            f"Reconstructing from {req.video.name}"
            if req.video
            else f"Reconstructing from {len(req.photos)} photos"
        )

        def done(world: Any) -> None:
            self.window.set_world(world, req.save_to, new_work=True)  # unsaved without save_to
            rec = world.meta.get("reconstruct", {})
            st = rec.get("photos", {})
            ok = sum(1 for v in st.values() if v == "registered")
            from generators.reconstruct.summary import closing_warnings

            # what `reconstruct` prints at its end, in a box: the status bar cut the
            # reasons off behind its splat count, and the few-photos warning was the
            # terminal's alone (a trial)
            warnings = closing_warnings(
                st,
                len(world.meta.get("cameras") or []),
                len(rec.get("held_out") or []),
                capture_option="the Capture type option",
            )
            what = "frames" if req.video else "photos"  # a video's frames are no photos
            msg = (
                f"Reconstructed: {ok} of {len(st)} {what} placed, "
                f"{len(world.layers[0].data):,} splats"
            )
            if warnings:
                msg += " (with a warning: see the message)"
            note = rec.get("working_sizes", {}).get("note")
            if note:
                msg += f" ({note})"
            # what a trial had to find in the report: whether the time budget cut the
            # optimisation short, and where the scene is
            ref = getattr(world.layers[0].data, "meta", {}).get("refinement") or {}
            steps, planned = ref.get("steps"), ref.get("steps_planned")
            # (none at all is said too: a budget spent before the first step)
            if steps is not None and planned and steps < planned and ref.get("budget_s"):
                msg += f"; {steps} optimisation steps in its {ref['budget_s']:.0f} s budget"
            msg += f"; saved as {req.save_to.name}" if req.save_to else "; not saved yet"
            self.window.show_status(msg, 15000)
            if warnings:
                self.window.show_warning(
                    "Reconstructed with warnings",
                    "\n\n".join(w[:1].upper() + w[1:] for w in warnings),
                )

        self.last_job = self.window.run_job(title, req.run, done)
        return self.last_job


def install(window: WindowAPI) -> None:
    """Add the reconstruction actions to the window's Create menu."""
    window.extensions["reconstruct_tools"] = ReconstructTools(window)
