"""Panorama worlds in the app: Create > New World from Photo… / from Panorama….

A dialog picks the photo(s) (several overlapping ones are stitched), the field of view
(EXIF/auto or a value), the outpainting and depth backends (with their local model
folders) and the splat resolution; the generation runs through `window.run_job` (progress
bar + Cancel, viewport stays live) and the result replaces the world via
`window.set_world`, which puts the camera at the start bookmark (eye height, looking at
the photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .features import WindowAPI

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp);;All files (*)"
RESOLUTIONS = [("Fast (~0.4 M splats)", 512), ("Standard (~0.9 M splats)", 768),
               ("High (~1.5 M splats)", 1024)]


@dataclass
class WorldRequest:
    """What the dialog asks for; `run` turns it into a World (worker thread)."""

    photos: list[Path] = field(default_factory=list)
    panorama: Path | None = None
    fov: float | None = None
    pano_backend: str = "classical"
    pano_model: Path | None = None
    depth_backend: str = "classical"
    depth_model: Path | None = None
    resolution: int = 768
    prompt: str = ""

    def validate(self) -> None:
        if not self.photos and self.panorama is None:
            raise ValueError("choose a photo (or a panorama) first")
        from generators.panorama import BACKENDS

        if self.pano_backend not in BACKENDS:
            raise ValueError(f"unknown outpainting backend {self.pano_backend!r}")
        # neural backends without a folder use the model manager's weights (Settings > Models)
        from generators.models.hub import backend_state

        for backend, folder, model, what in (
                (self.pano_backend, self.pano_model, {"diffusion": "sd-inpaint", "flux": "flux-pano"},
                 "outpainting"),
                (self.depth_backend, self.depth_model, {"neural": "depth-anything-v2-small"}, "depth")):
            name = model.get(backend)
            if name and not folder and not backend_state(name).ready:
                raise ValueError(f"{backend} {what} needs its weights: download {name} in Settings > "
                                 "Models, or choose a local model folder")

    def run(self, progress: Any, cancel: Any) -> Any:
        from generators.pano_world import world_from_photos

        world, _, _ = world_from_photos(
            self.photos or None, panorama=self.panorama, fov=self.fov,
            pano_backend=self.pano_backend, pano_model=self.pano_model,
            depth_backend=self.depth_backend, depth_model=self.depth_model,
            resolution=self.resolution, prompt=self.prompt, progress=progress, cancel=cancel)
        return world


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


class NewWorldDialog(QDialog):
    """Options for a new world; `request()` returns the filled WorldRequest."""

    def __init__(self, parent: QWidget, photos: list[Path], panorama: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New World from Panorama" if panorama else "New World from Photo")
        self.photos, self.panorama = photos, panorama
        form = QFormLayout()
        names = panorama.name if panorama else ", ".join(p.name for p in photos)
        form.addRow("Input:", QLabel(names))
        self.auto_fov = QCheckBox("from the photo (EXIF), else 65°")
        self.auto_fov.setChecked(True)
        self.fov = QDoubleSpinBox()
        self.fov.setRange(10.0, 170.0)
        self.fov.setValue(65.0)
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
            self.pano_model.edit.setPlaceholderText("optional: a local folder (default: Settings > Models)")
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
        self.depth_model.edit.setPlaceholderText("optional: a local folder (default: Settings > Models)")
        form.addRow("Depth:", self.depth_backend)
        form.addRow("Depth model:", self.depth_model)
        self.depth_backend.currentIndexChanged.connect(self._sync)
        self.resolution = QComboBox()
        for label, _ in RESOLUTIONS:
            self.resolution.addItem(label)
        self.resolution.setCurrentIndex(1)
        form.addRow("Detail:", self.resolution)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #d55;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create World")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self._sync()

    def _sync(self) -> None:
        if self.panorama is None:
            self.pano_model.setEnabled(self.pano_backend.currentData() == "diffusion")
            self.prompt.setEnabled(self.pano_backend.currentData() in ("diffusion", "flux"))
        self.depth_model.setEnabled(self.depth_backend.currentData() == "neural")

    def request(self) -> WorldRequest:
        pano = self.panorama is None
        return WorldRequest(
            photos=list(self.photos), panorama=self.panorama,
            fov=None if (not pano or self.auto_fov.isChecked()) else float(self.fov.value()),
            pano_backend=self.pano_backend.currentData() if pano else "classical",
            pano_model=self.pano_model.path() if pano else None,
            depth_backend=self.depth_backend.currentData(), depth_model=self.depth_model.path(),
            resolution=RESOLUTIONS[self.resolution.currentIndex()][1],
            prompt=self.prompt.text().strip() if pano else "")

    def _accept(self) -> None:
        try:
            self.request().validate()
        except ValueError as exc:
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
        self.pano_action = QAction("New World from &Panorama…", window)
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
        files, _ = QFileDialog.getOpenFileNames(self.window, "Photo(s) for a new world",
                                                self._start_dir(), PHOTO_FILTER)
        if files:
            self._ask([Path(f) for f in files], None)

    def new_from_panorama(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self.window, "360° panorama (equirectangular)",
                                           self._start_dir(), PHOTO_FILTER)
        if f:
            self._ask([], Path(f))

    def _ask(self, photos: list[Path], panorama: Path | None) -> None:
        dlg = NewWorldDialog(self.window, photos, panorama)
        if dlg.exec() == QDialog.DialogCode.Accepted and self.window.confirm_replace():
            self.start(dlg.request())

    def start(self, req: WorldRequest) -> Any:
        """Validate and run a request as a window job; the world opens when it is done."""
        req.validate()
        title = "New world from " + (req.panorama.name if req.panorama else
                                     ", ".join(p.name for p in req.photos))

        def done(world: Any) -> None:
            self.window.set_world(world)
            n = len(world.layers[0].data) if world.layers else 0
            self.window.show_status(f"New world: {n:,} splats — WASD to walk, mouse to look", 8000)

        self.last_job = self.window.run_job(title, req.run, done)
        return self.last_job


def install(window: WindowAPI) -> None:
    """Add the panorama-world actions to the window's Create menu."""
    window.extensions["panorama_tools"] = PanoramaTools(window)
