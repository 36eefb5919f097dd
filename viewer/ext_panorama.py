"""Panorama worlds in the app: Create > New World from Photo… / from Panorama….

A dialog picks the photo(s) (several overlapping ones are stitched), the field of view
(EXIF/auto or a value), the outpainting and depth backends (with their local model
folders) and the splat resolution; the generation runs through `window.run_job` (progress
bar + Cancel, viewport stays live) and the result replaces the world via
`window.set_world`, which puts the camera at the start bookmark (eye height, looking at
the photo).
"""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from generators.panorama.fov import file_fov
from generators.panorama.options import DEFAULT_FOV
from generators.world_options import DEFAULT_PANORAMA_RESOLUTION, DEFAULT_RESOLUTION, WorldOptions
from scene.units import EYE_HEIGHT

from .features import WindowAPI

log = logging.getLogger(__name__)

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
#: (label, panorama rows): the panorama gives up to ~1.5 × rows² splats (fewer where smooth
#: invented parts merge into 2×2 and 4×4 blocks); a photo's own pixels add ~0.4-0.7 M more
#: (measured: a 768-row world from a photo has 1.0 M in all, Office and Sceaux)
RESOLUTIONS = [
    ("Fast", 512),
    ("Standard", DEFAULT_RESOLUTION),
    ("High", 1024),
]
#: the splats each level gives (millions): (from a panorama file, from a photo)
SPLATS_M = {512: (0.3, 0.8), DEFAULT_RESOLUTION: (0.67, 1.0), 1024: (1.2, 1.3)}
#: the WorldOptions fields this dialog sets (the others keep their defaults)
DIALOG_FIELDS = (
    "photos",
    "panorama",
    "fov",
    "pano_backend",
    "pano_model",
    "depth_backend",
    "depth_model",
    "resolution",
    "prompt",
    "eye_height",
    "radius",
    "level",
)


class _FolderField(QWidget):
    def __init__(self, parent: QWidget, title: str) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("local model folder")
        btn = QPushButton("…", self)
        btn.setObjectName("browse")  # narrow padding: the theme's 14 px would elide the "…"
        btn.setFixedWidth(32)
        btn.clicked.connect(lambda: self._pick(title))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit)
        lay.addWidget(btn)

    def _pick(self, title: str) -> None:
        d = QFileDialog.getExistingDirectory(self, title)
        if d:
            self.edit.setText(d)

    def path(self) -> Path | None:
        t = self.edit.text().strip()
        return Path(t) if t else None


def _image_rows(path: Path) -> int:
    """An image file's height in pixels from its header (0 when it cannot be read)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(im.size[1])
    except (OSError, ValueError) as exc:
        log.info("could not read the size of %s: %s", path, exc)
        return 0


class NewWorldDialog(QDialog):
    """Options for a new world; `request()` returns the filled `WorldOptions`."""

    def __init__(self, parent: QWidget, photos: list[Path], panorama: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New World from Panorama" if panorama else "New World from Photo")
        self.photos, self.panorama = photos, panorama
        form = QFormLayout()
        names = panorama.name if panorama else ", ".join(p.name for p in photos)
        form.addRow("Input:", QLabel(names))
        # one photo whose EXIF gives its field of view: show that value, not the default
        # (a trial saw 65° in the box for a photo whose EXIF says 52.6°)
        exif_fov = file_fov(photos[0]) if len(photos) == 1 and panorama is None else None
        self.auto_fov = QCheckBox(
            "from the photos (EXIF), else their overlaps, else 65°"
            if len(photos) > 1
            else f"from the photo (EXIF: {exif_fov:.1f}° across)"
            if exif_fov is not None
            else "from the photo (EXIF), else 65°"
        )
        self.auto_fov.setChecked(True)
        self.fov = QDoubleSpinBox()
        meta = {f.name: f.metadata for f in fields(WorldOptions)}
        self.fov.setRange(meta["fov"]["lo"], meta["fov"]["hi"])
        self.fov.setValue(DEFAULT_FOV if exif_fov is None else round(exif_fov, 1))
        self.fov.setSuffix("°")
        self.fov.setEnabled(False)
        self.auto_fov.toggled.connect(lambda on: self.fov.setEnabled(not on))
        if panorama is None:
            row = QHBoxLayout()
            row.addWidget(self.auto_fov)
            row.addWidget(self.fov)
            form.addRow("Field of view:", row)
            from .models_dialog import fill_combo

            self.pano_backend = QComboBox()
            fill_combo(self.pano_backend, "panorama")  # ready backends, the best preselected
            self.pano_model = _FolderField(self, "Stable Diffusion inpainting folder")
            self.pano_model.edit.setPlaceholderText(
                "optional: a local folder (default: Settings > Models)"
            )
            self.prompt = QLineEdit()
            self.prompt.setPlaceholderText("optional: describe the scene (diffusion, FLUX)")
            form.addRow("Outpainting:", self.pano_backend)
            form.addRow("Inpainting model:", self.pano_model)
            form.addRow("Prompt:", self.prompt)
            self.pano_backend.currentIndexChanged.connect(self._sync)
        from .models_dialog import fill_combo

        self.depth_backend = QComboBox()
        fill_combo(self.depth_backend, "depth")
        self.depth_model = _FolderField(self, "Depth model folder")
        self.depth_model.edit.setPlaceholderText(
            "optional: a local folder (default: Settings > Models)"
        )
        form.addRow("Depth:", self.depth_backend)
        form.addRow("Depth model:", self.depth_model)
        self.depth_backend.currentIndexChanged.connect(self._sync)
        self.resolution = QComboBox()
        for label, rows in RESOLUTIONS:  # the splat count of this dialog's kind of input
            self.resolution.addItem(f"{label} (~{SPLATS_M[rows][0 if panorama else 1]:g} M splats)")
        # a panorama file is all photographed: more of its rows by default (~1.2 M splats,
        # as many as a photo's world at Standard)
        default = DEFAULT_PANORAMA_RESOLUTION if panorama else DEFAULT_RESOLUTION
        self.resolution.setCurrentIndex([r for _, r in RESOLUTIONS].index(default))
        form.addRow("Detail:", self.resolution)
        # a panorama file bigger than the detail level is reduced: say so, with its rows
        # (a trial's 4096 x 2048 panorama came out soft, and nothing said why)
        self.detail_note = QLabel("")
        self.detail_note.setWordWrap(True)
        self.detail_note.setStyleSheet("color: #aaa;")
        self._pano_rows = _image_rows(panorama) if panorama is not None else 0
        if self._pano_rows:
            form.addRow("", self.detail_note)
            self.resolution.currentIndexChanged.connect(self._sync_detail)
            self._sync_detail()
        # the CLI's --no-level, --eye-height and --radius, with the same ranges
        self.level = QCheckBox("from its vertical lines (walls and horizon come out level)")
        self.level.setChecked(True)
        self.level.setToolTip(meta["level"]["help"])
        form.addRow("Level:", self.level)
        self.eye_height = QDoubleSpinBox()
        self.eye_height.setRange(meta["eye_height"]["lo"], meta["eye_height"]["hi"])
        self.eye_height.setSingleStep(0.1)
        self.eye_height.setValue(EYE_HEIGHT)
        self.eye_height.setSuffix(" m")
        form.addRow("Eye height:", self.eye_height)
        self.auto_radius = QCheckBox(
            "from the panorama's ground line" if panorama else "from the photo's ground line"
        )
        self.auto_radius.setChecked(True)
        self.radius = QDoubleSpinBox()
        self.radius.setRange(meta["radius"]["lo"], meta["radius"]["hi"])
        self.radius.setValue(8.0)
        self.radius.setSuffix(" m")
        self.radius.setEnabled(False)
        self.radius.setToolTip(meta["radius"]["help"])
        self.auto_radius.toggled.connect(lambda on: self.radius.setEnabled(not on))
        row = QHBoxLayout()
        row.addWidget(self.auto_radius)
        row.addWidget(self.radius)
        form.addRow("Walls / far field at:", row)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d55;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create World")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self._sync()

    def _sync_detail(self) -> None:
        rows, res = self._pano_rows, RESOLUTIONS[self.resolution.currentIndex()][1]
        if rows > res:
            more = " High keeps more." if res < RESOLUTIONS[-1][1] else ""
            self.detail_note.setText(
                f"The panorama has {rows} rows; this level uses {res} of them (softer).{more}"
            )
        else:
            self.detail_note.setText(f"The panorama has {rows} rows; this level uses them all.")

    def _sync(self) -> None:
        if self.panorama is None:
            self.pano_model.setEnabled(self.pano_backend.currentData() == "diffusion")
            self.prompt.setEnabled(self.pano_backend.currentData() in ("diffusion", "flux"))
        self.depth_model.setEnabled(self.depth_backend.currentData() == "neural")

    def request(self) -> WorldOptions:
        """The dialog's choices as the world generator's options (not yet checked)."""
        pano = self.panorama is None
        return WorldOptions(
            photos=list(self.photos),
            panorama=self.panorama,
            fov=None if (not pano or self.auto_fov.isChecked()) else float(self.fov.value()),
            pano_backend=self.pano_backend.currentData() if pano else "classical",
            pano_model=self.pano_model.path() if pano else None,
            depth_backend=self.depth_backend.currentData(),
            depth_model=self.depth_model.path(),
            resolution=RESOLUTIONS[self.resolution.currentIndex()][1],
            prompt=self.prompt.text().strip() if pano else "",
            eye_height=float(self.eye_height.value()),
            radius=None if self.auto_radius.isChecked() else float(self.radius.value()),
            level=self.level.isChecked(),
        )

    def _accept(self) -> None:
        try:
            self.request().check()
        except ValueError as exc:  # OptionsError, ModelMissing: one line in the dialog
            self.error.setText(str(exc))
            return
        self.accept()


class PanoramaTools:
    """The panorama-world actions of one window (kept on `window.extensions`)."""

    def __init__(self, window: WindowAPI) -> None:
        self.window = window
        create = window.menu("&Create")
        self.photo_action = QAction("New &World from Photo…", window)
        self.photo_action.triggered.connect(lambda _=False: self.new_from_photo())
        self.pano_action = QAction("New World from P&anorama…", window)
        self.photo_action.setStatusTip("Photo(s) from one spot → 360° panorama → world")
        self.pano_action.setStatusTip("A 360° panorama → depth → walkable world")
        self.pano_action.triggered.connect(lambda _=False: self.new_from_panorama())
        if create.actions():
            create.addSeparator()  # one group per kind of thing created
        create.addAction(self.photo_action)
        create.addAction(self.pano_action)
        self.last_job: Any = None

    def _start_dir(self) -> str:
        return str(self.window.dialog_dir())  # beside the open project

    def new_from_photo(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window, "Photo(s) for a new world", self._start_dir(), PHOTO_FILTER
        )
        if files:
            self.window.remember_dir(Path(files[0]).parent)  # the next dialog starts here
            self._ask([Path(f) for f in files], None)

    def new_from_panorama(self) -> None:
        f, _ = QFileDialog.getOpenFileName(
            self.window, "360° panorama (equirectangular)", self._start_dir(), PHOTO_FILTER
        )
        if not f:
            return
        self.window.remember_dir(Path(f).parent)  # the next dialog starts here
        from generators.options import OptionsError
        from generators.world_options import check_equirect_shape

        try:
            check_equirect_shape(Path(f))
        except OptionsError as exc:
            # a photo picked here: say so, and make its world as a photo if asked
            # (the shape alone: the rest of the message is the command line's way in)
            shape = str(exc).split(";")[0]
            ans = QMessageBox.question(
                self.window,
                "Not a panorama",
                f"{shape}.\n\nMake a world from {Path(f).name} as a photo?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Yes,
            )
            if ans == QMessageBox.StandardButton.Yes:
                self._ask([Path(f)], None)
            return
        self._ask([], Path(f))

    def offer(self, image: Path, size: tuple[int, int] | None = None) -> None:
        """A photo given to the app as if it were a scene (`python main.py photo.jpg`, a
        photo dropped on the window): the New World dialog for it, as a panorama when it
        is shaped like one (2:1, or its XMP says equirectangular). `size` (w, h): the photo
        was checked already (`checked_image_size`; twice, a 12000x6000 PNG held the window
        for 5 s, a review)."""
        from generators.panorama import looks_equirectangular
        from scene.io.images import checked_image_size

        try:
            w, h = checked_image_size(image) if size is None else size
        except (OSError, ValueError) as exc:
            self.window.report_job_error(f"Could not open {image.name}", exc)
            return
        if looks_equirectangular(image, w, h):
            self._ask([], image)
        else:
            self._ask([image], None)

    def _ask(self, photos: list[Path], panorama: Path | None) -> None:
        dlg = NewWorldDialog(self.window, photos, panorama)
        if dlg.exec() == QDialog.DialogCode.Accepted and self.window.confirm_replace():
            self.start(dlg.request())

    def start(self, options: WorldOptions) -> Any:
        """Check the options and run the world generator as a window job; the world opens
        when it is done."""
        options.check()
        title = "New world from " + (
            options.panorama.name if options.panorama else ", ".join(p.name for p in options.photos)
        )

        def run(progress: Any, cancel: Any) -> Any:
            from generators.pano_world import generate_world

            return generate_world(options, progress, cancel)

        def done(result: Any) -> None:
            world = result.world
            self.window.set_world(world, new_work=True)  # in no file yet: unsaved work
            n = len(world.layers[0].data) if world.layers else 0
            warnings = result.panorama.meta.get("warnings", [])
            from viewer.walk_area import walkable_note

            note = walkable_note(world)
            # (the key hints at the view's corner say how to look)
            how = f"WASD to walk {note}" if note else "WASD to walk"
            self.window.show_status(
                f"New world: {n:,} splats — {how}"
                + (" (with a warning: see the message)" if warnings else ""),
                10000,
            )
            if warnings:  # as `world` prints them: photos not from one spot, a rolled one,
                # a panorama given as a photo
                self.window.show_warning("Made with warnings", "\n\n".join(warnings))

        self.last_job = self.window.run_job(title, run, done)
        return self.last_job


def install(window: WindowAPI) -> None:
    """Add the panorama-world actions to the window's Create menu."""
    window.extensions["panorama_tools"] = PanoramaTools(window)
