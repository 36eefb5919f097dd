"""Objects in the app: insert an object made from a photo or a mesh/splat file where the user
looks, then move / rotate / scale / snap / duplicate / delete / rename / hide it.

Every edit is a World command, so the window's Undo/Redo (Ctrl+Z / Ctrl+Y) covers it.
Keys (window shortcuts, chosen not to clash with walking keys):
  Alt+Arrows move on the ground (camera-relative), Alt+PgUp/PgDn up/down (Shift: ×5),
  [ / ] turn 15°, Alt+= / Alt+- scale, G move to where you look, End snap to the ground,
  Ctrl+D duplicate, Del delete, F2 rename, H hide/show.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                             QInputDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from generators.objects.light import match_exposure
from generators.objects.pipeline import ObjectRequest, ObjectResult, generate_object, segment
from generators.objects.place import (duplicate_layer, insert_object, move_layer, pick_surface,
                                      placement_transform, rotate_layer, scale_layer, snap_to_ground)
from scene.world import Layer, SetTransform

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
OBJECT_FILTER = "Meshes and splats (*.glb *.gltf *.obj *.ply *.stl *.off *.splat *.spz)"
TURN = math.radians(15.0)


class ObjectTools:
    """The object actions of one MainWindow (kept on `window.extensions`)."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.last_inserted: int | None = None
        self.actions: dict[str, QAction] = {}
        self.gizmo = _Gizmo(self)
        self._build()

    # ---------------------------------------------------------------- menus
    def _act(self, menu: Any, key: str, text: str, slot: Any, shortcut: str | list[str] | None = None) -> QAction:
        a = QAction(text, self.window)
        if shortcut:
            keys = [shortcut] if isinstance(shortcut, str) else shortcut
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        self.actions[key] = a
        return a

    def _build(self) -> None:
        create = self.window.menu("&Create")
        self._act(create, "insert_photo", "Insert Object from &Photo…", self.insert_photo_dialog)
        self._act(create, "insert_file", "Insert &Mesh/Splat File…", self.insert_file_dialog)
        obj = self.window.menu("&Object")
        self._act(obj, "here", "Move to Where You &Look", self.move_here, "G")
        self._act(obj, "snap", "&Snap to Ground", self.snap, "End")
        obj.addSeparator()
        step = self.step
        self._act(obj, "left", "Move Left", lambda: self.nudge(-step(), 0), "Alt+Left")
        self._act(obj, "right", "Move Right", lambda: self.nudge(step(), 0), "Alt+Right")
        self._act(obj, "fwd", "Move Away", lambda: self.nudge(0, step()), "Alt+Up")
        self._act(obj, "back", "Move Closer", lambda: self.nudge(0, -step()), "Alt+Down")
        self._act(obj, "up", "Move Up", lambda: self.lift(step()), "Alt+PgUp")
        self._act(obj, "down", "Move Down", lambda: self.lift(-step()), "Alt+PgDown")
        self._act(obj, "turn_left", "Turn Left 15°", lambda: self.turn(TURN), "[")
        self._act(obj, "turn_right", "Turn Right 15°", lambda: self.turn(-TURN), "]")
        self._act(obj, "bigger", "Scale Up", lambda: self.scale(1.1), ["Alt+=", "Alt++"])
        self._act(obj, "smaller", "Scale Down", lambda: self.scale(1 / 1.1), "Alt+-")
        obj.addSeparator()
        self._act(obj, "duplicate", "&Duplicate", self.duplicate, "Ctrl+D")
        used = {s.toString() for a in self.window.findChildren(QAction) for s in a.shortcuts()}
        self._act(obj, "delete", "De&lete", self.delete, None if "Del" in used else "Del")
        self._act(obj, "rename", "&Rename…", self.rename_dialog, "F2")
        self._act(obj, "hide", "&Hide / Show", self.toggle_hidden, "H")
        obj.aboutToShow.connect(self._sync)

    def _sync(self) -> None:
        on = self.selected() is not None
        for k, a in self.actions.items():
            if not k.startswith("insert"):
                a.setEnabled(on)

    # ------------------------------------------------------------ selection
    def selected(self) -> Layer | None:
        """The outliner's selected non-base layer, else the last inserted object."""
        world = self.window.world
        lid = None
        sel = getattr(self.window, "selected_layer_id", None)
        if callable(sel):
            lid = sel()
        for cand in (lid, self.last_inserted):
            if cand is None:
                continue
            try:
                lay = world.layer(cand)
            except KeyError:
                continue
            if lay.kind != "world":
                return lay
        return None

    def _select(self, layer_id: int | None) -> None:
        fn = getattr(self.window, "select_layer", None)
        if callable(fn):
            fn(layer_id)

    def step(self) -> float:
        """Move step: a tenth of the selected object's size (Shift-free, small enough to aim)."""
        lay = self.selected()
        if lay is None:
            return 0.1
        lo, hi = lay.world_bounds()
        return max(float(np.max(hi - lo)) * 0.1, 1e-3)

    # --------------------------------------------------------------- insert
    def insert_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Object photo", "", PHOTO_FILTER)
        if not path:
            return
        dlg = SegmentDialog(self.window, Path(path))
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start(dlg.request())

    def insert_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Object mesh or splats", "", OBJECT_FILTER)
        if not path:
            return
        as_mesh = False
        if Path(path).suffix.lower() in (".glb", ".gltf", ".obj", ".stl", ".off"):
            kinds = ["Gaussian splats (sampled from the surface)", "Mesh (as is)"]
            choice, ok = QInputDialog.getItem(self.window, "Insert mesh", "Insert as:", kinds, 0, False)
            if not ok:
                return
            as_mesh = choice == kinds[1]
        self.start(ObjectRequest(backend="import", input=path, as_mesh=as_mesh))

    def start(self, req: ObjectRequest, ray: tuple[np.ndarray, np.ndarray] | None = None) -> Any:
        """Run the generator as a job; on success the object lands where the view centre points."""
        req.check()
        ray = ray or self.window.pick_ray()
        title = "Import object" if req.backend == "import" else f"Object from photo ({req.backend})"
        return self.window.run_job(title, lambda progress, cancel: generate_object(req, progress, cancel),
                                   lambda res: self.insert_result(res, ray))

    def insert_result(self, res: ObjectResult, ray: tuple[np.ndarray, np.ndarray] | None = None,
                      match_light: bool = True) -> Layer:
        """Place a generated object on the surface hit by `ray` (default: the view centre)."""
        world = self.window.world
        origin, direction = ray or self.window.pick_ray()
        m, hit = placement_transform(world, origin, direction, face_point=origin)
        dist = hit.distance if hit is not None else float(np.linalg.norm(m[:3, 3] - origin))
        size = float(np.clip(0.25 * dist, 0.05, 3.0))   # a quarter of the distance: easy to see
        m[:3, :3] *= size
        d = np.asarray(direction, np.float64) / max(float(np.linalg.norm(direction)), 1e-12)
        if hit is not None and d[1] > -0.1:
            # Looking level or up, the view centre meets a wall (or something overhead), not
            # a floor: stand the object on the ground just in front of it, not hung in it.
            ext = np.max(np.abs(np.stack(res.data.bounds())), axis=0)  # (3,) object frame
            reach = size * float(np.hypot(ext[0], ext[2]))  # base centre to its farthest side
            front = hit.point - d * min(reach + 0.05 * size, 0.5 * dist)  # all of it in front
            below = pick_surface(world, front, np.array([0.0, -1.0, 0.0]))
            if below is not None:  # else no floor was captured there: keep the wall spot
                m[:3, 3] = below.point
        data = res.data
        gain = 1.0
        if match_light:
            data, gain = match_exposure(data, world, m)
        source = dict(res.meta, light_gain=gain, warnings=res.warnings)
        lay = insert_object(world, res.name, data, m, source)
        self.last_inserted = lay.id
        self._select(lay.id)
        msg = f"Inserted {lay.name}"
        if res.warnings:
            msg += " — " + "; ".join(res.warnings)
        self.window.show_status(msg)
        return lay

    # ---------------------------------------------------------------- edits
    def _with(self, fn: Any) -> bool:
        lay = self.selected()
        if lay is None:
            self.window.show_status("Select an object first (Scene outliner)")
            return False
        try:
            fn(lay)
        except ValueError as exc:
            self.window.show_status(str(exc))
            return False
        return True

    def nudge(self, right: float, forward: float) -> bool:
        """Move on the ground plane relative to the camera's heading."""
        cam = self.window.current_camera()
        f = np.array(cam.forward, np.float64)
        f[1] = 0.0
        if np.linalg.norm(f) < 1e-6:
            f = -np.array(cam.up, np.float64)
            f[1] = 0.0
        f /= max(np.linalg.norm(f), 1e-12)
        r = np.cross(f, [0.0, 1.0, 0.0])
        return self._with(lambda lay: move_layer(self.window.world, lay.id, right * r + forward * f))

    def lift(self, dy: float) -> bool:
        return self._with(lambda lay: move_layer(self.window.world, lay.id, [0.0, dy, 0.0]))

    def turn(self, yaw: float) -> bool:
        return self._with(lambda lay: rotate_layer(self.window.world, lay.id, yaw))

    def scale(self, factor: float) -> bool:
        return self._with(lambda lay: scale_layer(self.window.world, lay.id, factor))

    def move_here(self) -> bool:
        def go(lay: Layer) -> None:
            origin, direction = self.window.pick_ray()
            m, _ = placement_transform(self.window.world, origin, direction, exclude=[lay.id])
            new = lay.transform.copy()
            new[:3, 3] = m[:3, 3]
            self.window.world.execute(SetTransform(lay.id, new))
        return self._with(go)

    def snap(self) -> bool:
        def go(lay: Layer) -> None:
            if snap_to_ground(self.window.world, lay.id) is None:
                raise ValueError("nothing below the object to rest on")
        return self._with(go)

    def duplicate(self) -> bool:
        def go(lay: Layer) -> None:
            dup = duplicate_layer(self.window.world, lay.id)
            self.last_inserted = dup.id
            self._select(dup.id)
        return self._with(go)

    def delete(self) -> bool:
        """Delete the selected layer (any kind, as the outliner's Delete key does)."""
        sel = getattr(self.window, "selected_layer_id", None)
        lid = sel() if callable(sel) else None
        if lid is not None and any(x.id == lid for x in self.window.world.layers):
            self.window.world.remove_layer(lid)
            return True
        return self._with(lambda lay: self.window.world.remove_layer(lay.id))

    def rename(self, name: str) -> bool:
        name = name.strip()
        if not name:
            return False
        return self._with(lambda lay: self.window.world.rename(lay.id, name))

    def rename_dialog(self) -> None:
        lay = self.selected()
        if lay is None:
            return
        name, ok = QInputDialog.getText(self.window, "Rename object", "Name:", text=lay.name)
        if ok:
            self.rename(name)

    def toggle_hidden(self) -> bool:
        return self._with(lambda lay: self.window.world.set_visible(lay.id, not lay.visible))


class _Gizmo(QWidget):
    """Overlay on the viewport: the selected object's box and its X (red) / Y (green) /
    Z (blue) axes from its base, so the user sees what the keys will move."""

    def __init__(self, tools: ObjectTools) -> None:
        vp = tools.window.viewport
        super().__init__(vp)
        self.tools = tools
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.resize(vp.size())
        if hasattr(vp, "frame_drawn"):
            vp.frame_drawn.connect(lambda *_: self._follow())

    def _follow(self) -> None:
        if self.size() != self.parentWidget().size():
            self.resize(self.parentWidget().size())
        self.update()

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        lay = self.tools.selected()
        if lay is None or not lay.visible:
            return
        try:
            cam = self.tools.window.current_camera().resized(max(self.width(), 1), max(self.height(), 1))
            lo, hi = lay.data.bounds()
        except Exception:  # noqa: BLE001 - an overlay must never break painting
            return
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        m = lay.transform
        wc = corners @ m[:3, :3].T + m[:3, 3]
        uv, z = cam.project(wc)
        if (z <= 0.05).any():
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(255, 200, 40, 220), 1.5, Qt.PenStyle.DashLine))
        for a in range(8):
            for b in range(a + 1, 8):
                if bin(a ^ b).count("1") == 1:
                    p.drawLine(QPointF(*uv[a]), QPointF(*uv[b]))
        base = m[:3, 3]
        length = float(np.max(hi - lo)) * 0.6
        for axis, color in ((0, QColor(230, 60, 60)), (1, QColor(60, 200, 80)), (2, QColor(70, 120, 255))):
            tip = base + m[:3, axis] * length
            (u0, v0), (u1, v1) = cam.project(np.stack([base, tip]))[0]
            p.setPen(QPen(color, 2.5))
            p.drawLine(QPointF(u0, v0), QPointF(u1, v1))
        p.end()


class SegmentDialog(QDialog):
    """Pick the object in a photo: drag a box or click it, preview the mask, choose a backend."""

    def __init__(self, parent: Any, photo: Path) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Object from {photo.name}")
        self.photo = photo
        from generators.objects.segment_classical import load_image

        self.rgb, _ = load_image(photo)
        self.canvas = _PhotoCanvas(self.rgb)
        self.info = QLabel("Drag a box around the object, or click on it; then Preview.")
        self.info.setWordWrap(True)
        self.backend = QComboBox()
        self.backend.addItems(["classical", "multiview"])
        self.segmenter = QComboBox()
        self.segmenter.addItems(["classical", "neural"])
        self.model = QLineEdit()
        self.model.setPlaceholderText("multiview: local Zero123++ folder")
        self.sam = QLineEdit()
        self.sam.setPlaceholderText("neural: SAM checkpoint (.pth) or folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model)
        preview = QPushButton("Preview mask")
        preview.clicked.connect(self.preview)
        form = QFormLayout()
        form.addRow("Backend", self.backend)
        row = QHBoxLayout()
        row.addWidget(self.model)
        row.addWidget(browse)
        form.addRow("Model", row)
        form.addRow("Segmenter", self.segmenter)
        form.addRow("SAM", self.sam)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.info)
        lay.addWidget(preview)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def _browse_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Multiview model folder")
        if d:
            self.model.setText(d)

    def request(self) -> ObjectRequest:
        box = self.canvas.box
        return ObjectRequest(photo=self.photo, backend=self.backend.currentText(),
                             segmenter=self.segmenter.currentText(),
                             box=None if box is None else ",".join(str(int(v)) for v in box),
                             point=self.canvas.point, model=self.model.text() or None,
                             sam=self.sam.text() or None)

    def preview(self) -> None:
        req = self.request()
        try:
            seg = segment(req)
        except (ValueError, OSError) as exc:
            self.info.setText(f"<b>No mask:</b> {exc}")
            self.canvas.set_mask(None)
            return
        self.canvas.set_mask(seg.mask)
        self.info.setText(f"Mask: {int(seg.mask.sum())} pixels. Adjust the box or click, or press OK.")


class _PhotoCanvas(QLabel):
    """Shows the photo; drag = box, click = point; draws the mask preview over it."""

    def __init__(self, rgb: np.ndarray) -> None:
        super().__init__()
        self.rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        self.scale = min(1.0, 720 / w, 480 / h)
        self.setFixedSize(int(w * self.scale), int(h * self.scale))
        self.box: tuple[float, float, float, float] | None = None
        self.point: tuple[float, float] | None = None
        self.mask: np.ndarray | None = None
        self._drag: QPointF | None = None
        self._now: QPointF | None = None

    def set_mask(self, mask: np.ndarray | None) -> None:
        self.mask = mask
        self.update()

    def mousePressEvent(self, e: Any) -> None:  # noqa: N802
        self._drag = self._now = e.position()

    def mouseMoveEvent(self, e: Any) -> None:  # noqa: N802
        self._now = e.position()
        self.update()

    def mouseReleaseEvent(self, e: Any) -> None:  # noqa: N802
        if self._drag is None:
            return
        a, b = self._drag, e.position()
        s = self.scale
        if abs(a.x() - b.x()) < 4 and abs(a.y() - b.y()) < 4:
            self.point = (b.x() / s, b.y() / s)
        else:
            self.box = (min(a.x(), b.x()) / s, min(a.y(), b.y()) / s, max(a.x(), b.x()) / s, max(a.y(), b.y()) / s)
        self._drag = None
        self.update()

    def paintEvent(self, e: Any) -> None:  # noqa: N802
        h, w = self.rgb.shape[:2]
        img = self.rgb
        if self.mask is not None:
            tint = img.astype(np.float32)
            tint[~self.mask] *= 0.3
            img = tint.astype(np.uint8)
        qimg = QImage(np.ascontiguousarray(img).data, w, h, 3 * w, QImage.Format.Format_RGB888)
        p = QPainter(self)
        p.drawPixmap(self.rect(), QPixmap.fromImage(qimg))
        p.setPen(QPen(QColor(255, 200, 40), 2))
        s = self.scale
        if self._drag is not None and self._now is not None:
            p.drawRect(QRectF(self._drag, self._now))
        elif self.box is not None:
            x0, y0, x1, y1 = self.box
            p.drawRect(QRectF(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s))
        if self.point is not None:
            p.drawEllipse(QPointF(self.point[0] * s, self.point[1] * s), 5, 5)
        p.end()


def install(window: Any) -> None:
    """Add the Create > Insert… actions and the Object menu to the window."""
    window.extensions["objects_tools"] = ObjectTools(window)
