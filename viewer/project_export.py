"""File > Export… (Ctrl+E), Export Layer…, Export Panorama…, Export Cameras (COLMAP)….

Every export runs as a job (viewer/jobs.py) through scene/export.py, which bakes the
visible layers' transforms and hands the result to scene.io's one format registry; it
reports real progress (baking, then bytes written) and a Cancel writes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from scene.world import World

from .document import Document
from .features import WindowAPI
from .jobs import Job

log = logging.getLogger(__name__)

EXPORT_FILTERS = (
    "3DGS PLY (*.ply);;antimatter15 splat (*.splat);;Niantic SPZ (*.spz);;"
    "SuperSplat compressed PLY (*.compressed.ply);;"
    "glTF binary mesh (*.glb);;Wavefront OBJ mesh (*.obj)"
)


def filter_for(name: str) -> str:
    """The entry of EXPORT_FILTERS for a file name's type (the dialog showed "3DGS PLY"
    beside a proposed layer.glb), the first one for any other."""
    entries = EXPORT_FILTERS.split(";;")
    low = name.lower()
    hits = [f for f in entries if low.endswith(f.split("(*")[1].rstrip(")"))]
    return max(hits, key=len) if hits else entries[0]  # .compressed.ply over .ply


def install(window: WindowAPI) -> None:
    """Add the Export entries to the File menu."""
    window.extensions["exporter"] = ProjectExport(window)


class ProjectExport(QObject):
    """Exports the window's world (or one layer), its panorama and its cameras."""

    def __init__(self, window: WindowAPI) -> None:
        super().__init__(window)
        self.win = window
        self.doc: Document = window.document
        f = window.menu("&File")
        f.addSeparator()
        window.add_menu_action(
            f,
            "&Export…",
            self.export_dialog,
            "Ctrl+E",
            "Export the visible scene to PLY / SPLAT / SPZ / GLB / OBJ",
        )
        window.add_menu_action(f, "Export &Layer…", self.export_layer_dialog)
        window.add_menu_action(f, "Export &Panorama…", self.export_panorama_dialog)
        window.add_menu_action(f, "Export &Cameras (COLMAP)…", self.export_cameras_dialog)

    def export(
        self,
        out: str | Path,
        fmt: str | None = None,
        layer: Any = None,
        options: Any = None,
        format_options: dict | None = None,
    ) -> Job | None:
        """Export to `out` in a job (visible layers baked, or one layer); None when refused.
        format_options: the writer's own (`scene.io` registry: spz version and axes,
        antialiased), as the CLI's --spz-version / --spz-axes / --antialiased give them."""
        from cli.cmd_export import mesh_export_problem
        from scene.export import export_world
        from scene.io import output_format

        out = Path(out)
        if self.doc.refuses_output(out, "the export"):
            return None
        try:
            problem = mesh_export_problem(self.win.world, output_format(out, fmt), layer)
        except ValueError:
            problem = None  # an unknown format: export_world says so in the job
        if problem:
            self.win.show_status(problem.split(":")[0], 8000)
            QMessageBox.warning(self.win, "Export", problem)
            return None
        snap = self.doc.snapshot()
        fopts = dict(format_options or {})

        def work(progress: Any, cancel: Any) -> dict:
            return export_world(
                snap, out, fmt, layer=layer, options=options, progress=progress, **fopts
            )

        def done(info: dict) -> None:
            n = info.get("splats", info.get("vertices"))
            unit = "splats" if "splats" in info else "vertices"
            left = info.get("splats_left_out", 0)
            meshes = info.get("meshes_left_out", [])
            note = f" (meshes only: the {left:,} splats are not in it)" if left else ""
            if meshes:
                names = ", ".join(f"'{m}'" for m in meshes)
                what = f"the mesh {names} is" if len(meshes) == 1 else f"the meshes {names} are"
                note = f" (splats only: {what} not in it)"
            if info.get("sh_dropped"):
                note += f" (SH degree {info['sh_dropped']} dropped: .{info['format']} has no SH)"
            ms = 12000 if left or meshes else 8000
            self.win.show_status(f"Exported {n:,} {unit} to {out.name}{note}", ms)
            if meshes:  # not modal: the export is done, nothing waits on the answer
                box = QMessageBox(
                    QMessageBox.Icon.Information,
                    "Export",
                    f"{out.name} holds Gaussian splats only: {what} not in it.\n\n"
                    "Use Export Layer… on a mesh layer to write it as .glb or .obj.",
                    QMessageBox.StandardButton.Ok,
                    self.win,
                )
                box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                box.open()

        return self.win.run_job(f"Exporting {out.name}", work, done, commits=True)

    def export_dialog(self, layer: Any = None) -> None:
        if self.win.world.is_empty():
            self.win.show_status("Nothing to export: open or create a world first")
            return
        title, suggested = "Export", self.doc.suggested_path(".ply", "scene.ply")
        lay = self.win.world.layer(layer) if layer is not None else None
        if lay is not None:  # named after the layer, in its own kind of file
            from .naming import clean_stem

            suffix = ".glb" if lay.is_mesh else ".ply"
            title = f"Export layer '{lay.name}'"
            suggested = str(Path(suggested).with_name(clean_stem(lay.name) + suffix))
        path, filt = QFileDialog.getSaveFileName(
            self.win, title, suggested, EXPORT_FILTERS, filter_for(suggested)
        )
        if not path:
            return
        from .save_target import confirm_replace, with_extension

        typed = path
        if not Path(path).suffix:
            path += "." + filt.split("*.")[-1].rstrip(")")
        elif "compressed" in filt and not path.lower().endswith(".compressed.ply"):
            path = str(with_extension(path, ".compressed.ply"))
        if not confirm_replace(self.win, typed, path, title):
            return
        options, fopts = None, None
        if Path(path).suffix.lower() in (".ply", ".splat", ".spz"):
            dlg = ExportOptionsDialog(
                self.win, self.win.world, Path(path).suffix.lower(), layer=layer
            )
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return
            options, fopts = dlg.options(), dlg.format_options()
        self.export(path, None, layer, options, fopts)

    def export_layer_dialog(self) -> None:
        world = self.win.world
        if world.is_empty():
            return
        lid = self.win.selected_layer_id()
        if lid is None:
            names = [lay.name for lay in world.layers]
            name, ok = QInputDialog.getItem(self.win, "Export layer", "Layer:", names, 0, False)
            if not ok:
                return
            lid = world.find(name).id
        self.export_dialog(layer=lid)

    def export_panorama(self, path: str | Path) -> Job | None:
        """Write the world's panorama and its six cube faces in a job (None: no panorama)."""
        from scene.export import export_panorama, find_panorama

        pano = find_panorama(self.win.world)
        if pano is None:
            self.win.show_status("This world has no panorama to export", 6000)
            return None
        if self.doc.refuses_output(path, "the panorama"):
            return None
        return self.win.run_job(
            "Exporting panorama",
            lambda p, c: export_panorama(pano, path, progress=p),
            lambda files: self.win.show_status(
                f"Wrote {Path(path).name} and {len(files) - 1} cube faces", 8000
            ),
            commits=True,
        )

    def export_panorama_dialog(self) -> None:
        from scene.export import find_panorama

        if find_panorama(self.win.world) is None:
            self.win.show_status("This world has no panorama to export", 6000)
            return
        path, _ = QFileDialog.getSaveFileName(
            self.win,
            "Export panorama",
            self.doc.suggested_path("_panorama.png", "panorama.png"),
            "PNG (*.png)",
        )
        if path:
            self.export_panorama(path)

    def export_cameras_dialog(self) -> None:
        from scene.export import export_cameras, scene_cameras

        cams = scene_cameras(self.win.world, 1920, 1080)
        campath = self.doc.camera.path
        if campath is not None and not cams:  # no bookmarks: the path's keyframes
            cams = [kf.camera(1920, 1080, campath.up) for kf in campath.keyframes]
        if not cams:
            self.win.show_status("No bookmarks or camera path to export as cameras", 6000)
            return
        folder = QFileDialog.getExistingDirectory(
            self.win, "Export cameras to folder", str(self.doc.dialog_dir())
        )
        if folder:
            self.win.run_job(
                "Exporting cameras",
                lambda p, c: export_cameras(cams, folder, progress=p),
                lambda files: self.win.show_status(
                    f"Wrote {len(cams)} cameras (COLMAP text + JSON)", 8000
                ),
                commits=True,
            )


class ExportOptionsDialog(QDialog):
    """SH degree, minimum opacity, the far field left out or not, crop box; for .spz its
    version and axes, and the antialiased flag (.ply, .spz) — the CLI's --sh-degree,
    --min-opacity, --no-far-field, --crop, --spz-version, --spz-axes, --antialiased."""

    def __init__(
        self, parent: QWidget, world: World, suffix: str = ".ply", layer: Any = None
    ) -> None:
        """`layer`: the id of the one layer exported (its SH degree and bounds), or None
        for the whole world."""
        super().__init__(parent)
        one = world.layer(layer) if layer is not None else None
        layers = [one] if one is not None else world.layers
        self.setWindowTitle("Export options")
        form = QFormLayout(self)
        self.suffix = suffix
        self.spz_version = QComboBox()
        self.spz_version.addItem("3 (current)", 3)
        self.spz_version.addItem("2 (older readers)", 2)
        self.spz_axes = QComboBox()
        self.spz_axes.addItem("PLY frame (Niantic's tools, Wander)", "ply")
        self.spz_axes.addItem("RUB: y up, z back (splat-transform, SuperSplat)", "rub")
        self.antialiased = QComboBox()
        aa = (("keep the scene's", "keep"), ("yes (mip-splatting)", "yes"), ("no", "no"))
        for label, value in aa:
            self.antialiased.addItem(label, value)
        if suffix == ".spz":
            form.addRow("SPZ version", self.spz_version)
            form.addRow("SPZ axes", self.spz_axes)
        if suffix in (".ply", ".spz"):
            form.addRow("Antialiased", self.antialiased)
        self.sh = QComboBox()
        deg = max((lay.data.sh_degree for lay in layers if not lay.is_mesh), default=0)
        if suffix == ".splat":  # the format has no SH: its colours are the base colour
            deg = 0
            self.sh.setToolTip(".splat holds one colour per splat: no view-dependent SH")
        self.sh.addItems([str(d) for d in range(deg + 1)])
        self.sh.setCurrentIndex(deg)
        form.addRow("SH degree to keep", self.sh)
        self.opacity = QDoubleSpinBox()
        self.opacity.setRange(0.0, 0.99)
        self.opacity.setSingleStep(0.01)
        self.opacity.setValue(0.0)
        form.addRow("Drop splats with opacity below", self.opacity)
        self.no_far = QCheckBox("Leave out the far field (sky sphere, backdrop)")
        self.no_far.setToolTip(
            "A reconstruction's sky and backdrop ground lie hundreds of metres out; viewers "
            "that frame a file by its bounds show them from outside, as a ball"
        )
        form.addRow(self.no_far)
        self.crop = QCheckBox("Crop to box")
        form.addRow(self.crop)
        lo, hi = one.world_bounds() if one is not None else world.bounds()
        self.box: list[QDoubleSpinBox] = []
        for label, vals in (("Box min", lo), ("Box max", hi)):
            row = QHBoxLayout()
            for v in vals:
                s = QDoubleSpinBox()
                s.setRange(-1e6, 1e6)
                s.setDecimals(3)
                s.setValue(float(v))
                s.setEnabled(False)
                self.crop.toggled.connect(s.setEnabled)
                row.addWidget(s)
                self.box.append(s)
            form.addRow(label, row)
        bb = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def format_options(self) -> dict:
        """The writer options for the chosen file type (what `cmd_convert.format_options`
        makes of the CLI flags)."""
        out: dict = {}
        if self.suffix in (".ply", ".spz") and self.antialiased.currentData() != "keep":
            out["antialiased"] = self.antialiased.currentData() == "yes"
        if self.suffix == ".spz":
            out["version"] = int(self.spz_version.currentData())
            out["axes"] = str(self.spz_axes.currentData())
        return out

    def options(self) -> Any:
        from scene.export import ExportOptions

        crop = None
        if self.crop.isChecked():
            v = [s.value() for s in self.box]
            crop = (v[:3], v[3:])
        return ExportOptions(
            sh_degree=int(self.sh.currentText()),
            crop=crop,
            min_opacity=self.opacity.value(),
            no_far_field=self.no_far.isChecked(),
        )
