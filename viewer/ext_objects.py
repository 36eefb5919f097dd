"""Objects in the app: insert an object made from a photo or a mesh/splat file where the user
looks, then move / rotate / scale / snap / duplicate / delete / rename / hide it.

Every edit is a World command, so the window's Undo/Redo (Ctrl+Z / Ctrl+Y) covers it.
Click an object in the view to select it (the same selection as the Scene outliner); drag
the gizmo's handles (viewer/gizmo.py) or type values in the Object panel.
Keys (window shortcuts, chosen not to clash with walking keys), all honouring the world's
up axis: Alt+Arrows move on the ground (camera-relative), Alt+PgUp/PgDn up/down,
[ / ] turn 15°, Alt+= / Alt+- scale, G move to where you look, End snap to the ground,
Ctrl+D duplicate, Del delete, F2 rename, H hide/show, Alt+1/2/3 gizmo move/rotate/scale,
Alt+L world/local axes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer
from PyQt6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from generators.objects.light import match_exposure
from generators.objects.pipeline import ObjectOptions, ObjectResult, generate_object, segment
from generators.objects.place import (
    dropped,
    duplicate_layer,
    insert_object,
    object_reach,
    placement_transform,
    stand_in_front,
    view_placement,
)
from scene.events import LayerAdded
from scene.world import Layer

from . import transform_edit as te
from .features import WindowAPI
from .gizmo import TransformGizmo
from .picking import pick
from .picking import warm as warm_picking
from .transform_panel import TransformPanel

PHOTO_FILTER = "Photos (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
OBJECT_FILTER = "Meshes and splats (*.glb *.gltf *.obj *.ply *.stl *.off *.splat *.spz)"
TURN = math.radians(15.0)
#: an inserted object whose centre lies within this share of the view's edges (or
#: outside it) turns the view to it
INSERT_VIEW_MARGIN = 0.08
log = logging.getLogger(__name__)


class ObjectTools:
    """The object actions of one MainWindow (kept on `window.extensions`)."""

    def __init__(self, window: WindowAPI) -> None:
        self.window = window
        self.last_inserted: int | None = None
        self.actions: dict[str, QAction] = {}
        vp = window.viewport
        self.gizmo = TransformGizmo(
            vp,
            lambda: self.window.world,
            self.selected,
            on_status=lambda t: self.window.show_status(t, 3000),
        )
        self.gizmo.pending_fn = lambda: window.render_pending() > 0
        self._build()
        self._build_panel()
        vp.clicked.connect(self.click_select)
        window.selection_changed.connect(lambda _lid: self._selection_changed())
        window.world_replaced.connect(self._world_replaced)
        self._world_replaced(window.world)

    # ---------------------------------------------------------------- menus
    def _act(
        self, menu: Any, key: str, text: str, slot: Any, shortcut: str | list[str] | None = None
    ) -> QAction:
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
        self._act(create, "insert_photo", "Insert &Object from Photo…", self.insert_photo_dialog)
        self._act(create, "insert_file", "Insert &Mesh/Splat File…", self.insert_file_dialog)
        obj = self.window.menu("&Object")
        self._act(obj, "gizmo_move", "Gizmo: &Move", lambda: self.set_gizmo_mode("move"), "Alt+1")
        self._act(
            obj, "gizmo_rotate", "Gizmo: R&otate", lambda: self.set_gizmo_mode("rotate"), "Alt+2"
        )
        self._act(
            obj, "gizmo_scale", "Gizmo: S&cale", lambda: self.set_gizmo_mode("scale"), "Alt+3"
        )
        self._act(obj, "gizmo_space", "Gizmo: World / Local A&xes", self.toggle_space, "Alt+L")
        obj.addSeparator()
        self._act(obj, "here", "Move to Where You Loo&k", self.move_here, "G")
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

    def _build_panel(self) -> None:
        from PyQt6.QtWidgets import QDockWidget

        self.panel = TransformPanel(
            lambda: self.window.world, self.selected, self.gizmo, focus_back=self._focus_view
        )
        self.panel_dock = QDockWidget("Object", self.window)
        self.panel_dock.setObjectName("object_panel")
        self.panel_dock.setWidget(self.panel)
        self.panel_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.panel_dock)
        self.window.splitDockWidget(
            self.window.outliner_dock, self.panel_dock, Qt.Orientation.Vertical
        )
        self.panel_dock.hide()
        # the left column is as wide as the panel needs from the start: showing the panel on
        # the first click widened it (to the panel's preferred width, 256 -> 369 px) and the
        # view re-framed, the clicked object jumping to its edge
        width = max(self.window.outliner_dock.minimumWidth(), self.panel.minimumSizeHint().width())
        self.window.outliner_dock.setMinimumWidth(width)
        self.panel.preferred_width = width
        # never squashed by the Scene list above it (its rows have a scroll bar): at a
        # 1100x700 window the fields were clipped and the Scale row cut off (a trial)
        # (its hint's wrapped lines counted at that width: the size hint is one line's)
        self.panel.setMinimumHeight(self.panel.layout().totalHeightForWidth(width))
        toggle = self.panel_dock.toggleViewAction()
        toggle.setText("Object &Panel")
        toggle.triggered.connect(lambda on: setattr(self, "_panel_closed", not on))
        self.window.menu("&Object").addSeparator()
        self.window.menu("&Object").addAction(toggle)

    def _focus_view(self) -> None:
        vp = self.window.viewport
        if vp.isVisible():
            vp.setFocus()

    def _sync(self) -> None:
        on = self.selected() is not None
        for k, a in self.actions.items():
            if not k.startswith(("insert", "gizmo")):
                a.setEnabled(on)

    def set_gizmo_mode(self, mode: str) -> None:
        self.panel.set_mode(mode)
        self.window.show_status(f"Gizmo: {mode} — drag a handle (Ctrl snaps)", 3000)

    def toggle_space(self) -> None:
        self.panel.set_space("local" if self.gizmo.space == "world" else "world")
        self.window.show_status(f"Gizmo axes: {self.gizmo.space}", 3000)

    # ------------------------------------------------------------ selection
    def selected(self) -> Layer | None:
        """The layer selected in the outliner when it is an object or mesh (World layers are
        not moved by the object tools), else None. The view's highlight box, the gizmo, the
        panel and every Object key act on exactly this."""
        lid = self.window.selected_layer_id()
        if lid is None:
            return None
        try:
            lay = self.window.world.layer(lid)
        except KeyError:
            return None
        return None if lay.kind == "world" else lay

    def _select(self, layer_id: int | None) -> None:
        self.window.select_layer(layer_id)

    def click_select(self, x: float, y: float, modifiers: Any = None) -> int | None:
        """Select the layer under widget pixel (x, y) (None: clicked on nothing)."""
        cam = self.gizmo.camera()
        hit = pick(self.window.world, cam, x, y)
        lid = hit.layer_id if hit is not None else None
        self._select(lid)
        if hit is not None:
            lay = self.window.world.layer(lid)
            what = "object" if lay.kind == "object" else lay.kind
            self.window.show_status(f"Selected {lay.name} ({what})", 3000)
        return lid

    def _selection_changed(self) -> None:
        self.gizmo.update()
        self.panel.refresh()
        lay = self.selected()
        if (
            lay is not None
            and self.panel_dock.isHidden()
            and not getattr(self, "_panel_closed", False)
        ):
            self.panel_dock.show()
        elif self.window.world.is_empty() and not self.panel_dock.isHidden():
            self.panel_dock.hide()  # the start page shows no scene panels

    def _world_replaced(self, world: Any) -> None:
        self.last_inserted = None
        old = getattr(self, "_world", None)
        if old is not None:
            old.unsubscribe(self._on_world)
        self._world = world
        world.subscribe(self._on_world)
        self._selection_changed()
        self._warm_picking()

    def _warm_picking(self) -> None:
        """Precompute what click-to-select needs for big layers, off the GUI thread."""
        from .jobs import background

        world = self.window.world

        def work() -> None:
            try:
                warm_picking(world)
            except Exception:  # noqa: BLE001 - only a speed-up: the click computes it anyway
                import logging

                logging.getLogger(__name__).debug("picking warm-up failed", exc_info=True)

        background(work, name="pick-warm")

    def _on_world(self, ev: Any) -> None:
        what = ev.what
        if what in ("transform", "layers", "all"):
            self.panel.refresh()
            self.gizmo.update()
        world = self.window.world
        if isinstance(ev, LayerAdded) and ev.layer.kind == "object" and world.in_command:
            # an object that comes back by undo (of a delete) or redo (of a duplicate or
            # an insert) is selected again, as it was when it was made or deleted
            layer_id = ev.layer.id
            QTimer.singleShot(0, lambda: self._reselect(layer_id))
        if what == "layers":
            if self.window.world.is_empty():
                self._selection_changed()
            else:
                self._warm_picking()

    def _reselect(self, layer_id: int) -> None:
        if any(lay.id == layer_id for lay in self.window.world.layers):
            self._select(layer_id)

    def step(self) -> float:
        """Move step: a tenth of the selected object's size (Shift-free, small enough to aim)."""
        lay = self.selected()
        if lay is None:
            return 0.1
        lo, hi = lay.world_bounds()
        return max(float(np.max(hi - lo)) * 0.1, 1e-3)

    # --------------------------------------------------------------- insert
    def _start_dir(self) -> str:
        return str(self.window.dialog_dir())

    def insert_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Object photo", self._start_dir(), PHOTO_FILTER
        )
        if not path:
            return
        from scene.errors import InvalidSceneError, SceneFormatError

        try:
            dlg = SegmentDialog(self.window, Path(path))
        except (SceneFormatError, InvalidSceneError, ValueError, OSError) as exc:
            # a damaged or unreadable photo is bad input: one clear box, nothing changes
            self.window.report_job_error("Insert object from photo", exc)
            return
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start(dlg.request(), height=dlg.fixed_height(), as_mesh=dlg.as_mesh())

    def insert_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Object mesh or splats", self._start_dir(), OBJECT_FILTER
        )
        if not path:
            return
        as_mesh = False
        if Path(path).suffix.lower() in (".glb", ".gltf", ".obj", ".stl", ".off"):
            kinds = ["Gaussian splats (sampled from the surface)", "Mesh (as is)"]
            choice, ok = QInputDialog.getItem(
                self.window, "Insert mesh", "Insert as:", kinds, 0, False
            )
            if not ok:
                return
            as_mesh = choice == kinds[1]
        self.start(ObjectOptions(backend="import", input=path, as_mesh=as_mesh))

    def start(
        self,
        req: ObjectOptions,
        ray: tuple[np.ndarray, np.ndarray] | None = None,
        height: float | None = None,
        as_mesh: bool = False,
    ) -> Any:
        """Run the generator as a job; on success the object lands where the view centre
        points, `height` m tall (None: a quarter of the distance, `view_placement`), as its
        mesh with `as_mesh` (else its splats)."""
        if as_mesh and req.backend != "import":
            req = dataclasses.replace(req, with_mesh=True)
        req.check()
        ray = ray or self.window.pick_ray()
        title = "Import object" if req.backend == "import" else f"Object from photo ({req.backend})"
        return self.window.run_job(
            title,
            lambda progress, cancel: generate_object(req, progress, cancel),
            lambda res: self.insert_result(res, ray, height=height, as_mesh=as_mesh),
        )

    def insert_result(
        self,
        res: ObjectResult,
        ray: tuple[np.ndarray, np.ndarray] | None = None,
        match_light: bool = True,
        height: float | None = None,
        as_mesh: bool = False,
    ) -> Layer:
        """Place a generated object on the surface hit by `ray` (default: the view centre),
        `height` m tall (None: sized by its distance), as its mesh with `as_mesh` (when it
        has one; else its splats, said in the status bar)."""
        world = self.window.world
        origin, direction = ray or self.window.pick_ray()
        data = res.mesh if as_mesh and res.mesh is not None else res.data
        # on the surface the ray hits (on the floor in front of a wall), along the world's up
        m, _hit = view_placement(world, origin, direction, data.bounds(), height=height)
        gain = 1.0
        if match_light:
            data, gain = match_exposure(data, world, m)
        source = dict(res.meta, light_gain=gain, warnings=res.warnings)
        lay = insert_object(world, res.name, data, m, source)
        self.last_inserted = lay.id
        self._select(lay.id)
        msg = f"Inserted {lay.name}"
        if as_mesh and res.mesh is None:
            msg += " as splats (the backend made no mesh)"
        if height is None:
            # a photo says nothing of how big its object is: sized by its distance, a
            # coffee cup stood as wide as the office's chair with nothing said (a trial)
            lo, hi = lay.world_bounds()
            msg += (
                f", {float(hi[1] - lo[1]):.2f} m tall (a quarter of its distance: the "
                "Object panel's Scale, or Height when inserting, sets its real size)"
            )
        if abs(gain - 1.0) >= 0.02:
            msg += f", its colours ×{gain:.2f} to match the light around it"
        if res.warnings:
            msg += " — " + "; ".join(res.warnings)
        if self._turn_to(lay):
            msg += " (the view turned to show it)"
        self.window.show_status(msg)
        return lay

    def _turn_to(self, lay: Layer) -> bool:
        """Turn the view (from where it stands) to `lay`'s centre when the view does not
        show it: looking up at a far facade, an object set on the floor 3 m ahead stood
        below the view's bottom edge, selected but unseen. Returns whether it turned."""
        lo, hi = lay.world_bounds()
        centre = (np.asarray(lo, np.float64) + np.asarray(hi, np.float64)) / 2
        cam = self.window.current_camera()
        uv, z = cam.project(centre[None])
        mx, my = INSERT_VIEW_MARGIN * cam.width, INSERT_VIEW_MARGIN * cam.height
        u, v = uv[0]
        if z[0] > 0 and mx <= u <= cam.width - mx and my <= v <= cam.height - my:
            return False
        nav = self.window.viewport.nav
        eye = nav.position_world
        nav.set_view_world(eye, centre - eye)
        self.window.viewport.camera_changed.emit()
        self.window.viewport.request_full()
        return True

    # ---------------------------------------------------------------- edits
    def _with(self, fn: Any) -> bool:
        lay = self.selected()
        if lay is None:
            self.window.show_status(
                "Select an object first: click it in the view or in the Scene outliner"
            )
            return False
        try:
            fn(lay)
        except ValueError as exc:
            self.window.show_status(str(exc))
            return False
        return True

    def _set(self, lay: Layer, matrix: np.ndarray, kind: str) -> None:
        self.window.world.execute(te.EditTransform(lay.id, matrix, te.edit_text(kind, lay.name)))

    def _up(self) -> np.ndarray:
        return te.world_axes(self.window.world.up_axis)[1]

    def nudge(self, right: float, forward: float) -> bool:
        """Move on the ground plane (⟂ the world's up axis) relative to the camera's heading."""
        cam = self.window.current_camera()
        r, f = te.ground_frame(cam.forward, self._up())
        return self._with(
            lambda lay: self._set(
                lay, te.translated(lay.transform, right * r + forward * f), "move"
            )
        )

    def lift(self, dy: float) -> bool:
        """Move along the world's up axis."""
        return self._with(
            lambda lay: self._set(lay, te.translated(lay.transform, dy * self._up()), "move")
        )

    def turn(self, yaw: float) -> bool:
        """Turn about the world's up axis through the object's origin."""
        return self._with(
            lambda lay: self._set(lay, te.rotated(lay.transform, self._up(), yaw), "rotate")
        )

    def scale(self, factor: float) -> bool:
        return self._with(lambda lay: self._set(lay, te.scaled(lay.transform, factor), "scale"))

    def move_here(self) -> bool:
        def go(lay: Layer) -> None:
            from scene.rotations import decompose_similarity

            world = self.window.world
            origin, direction = self.window.pick_ray()
            m, hit = placement_transform(world, origin, direction, exclude=[lay.id])
            # looking at a wall (or level), it stands on the floor in front, as inserted
            reach = object_reach(lay.data.bounds(), decompose_similarity(lay.transform)[0])
            new = lay.transform.copy()
            new[:3, 3] = stand_in_front(world, hit, direction, m[:3, 3], reach, [lay.id])
            self._set(lay, new, "move")

        return self._with(go)

    def snap(self) -> bool:
        """Drop the object along the world's down axis onto the first surface under it
        (generators.objects.place.dropped)."""

        def go(lay: Layer) -> None:
            res = dropped(self.window.world, lay.id, fallback_ground=False)
            if res is None:
                raise ValueError("nothing below the object to rest on")
            m, _hit = res
            if not np.allclose(m, lay.transform, rtol=0.0, atol=1e-9):
                self.window.world.execute(
                    te.EditTransform(lay.id, m, f"Snap {lay.name} to the ground")
                )

        return self._with(go)

    def duplicate(self) -> bool:
        def go(lay: Layer) -> None:
            dup = duplicate_layer(self.window.world, lay.id)
            self.last_inserted = dup.id
            self._select(dup.id)

        return self._with(go)

    def delete(self) -> bool:
        """Delete the selected splats when there are any (Edit > Select Splats), else the
        selected layer (any kind, as the outliner's Delete key does)."""
        splats = self.window.extensions.get("splat_tools")
        if splats is not None and splats.selection:
            return splats.delete() > 0
        lid = self.window.selected_layer_id()
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


#: (value, label, model manager name, preference: higher = better when ready)
OBJECT_OFFERS = [
    ("classical", "Classical inflation (no weights)", "", 0),
    ("multiview", "Zero123++ multi-view + carving", "zero123plus", 2),
    ("hunyuan3d", "Hunyuan3D-2mini shape", "hunyuan3d-2mini", 3),
]
SEGMENT_OFFERS = [
    ("classical", "GrabCut (no weights)", "", 0),
    ("neural", "SAM 2.1 tiny", "sam2-tiny", 2),
]


def offer_choices(offers: list[tuple[str, str, str, int]]) -> tuple[list[Any], int]:
    """Model-manager readiness of each offer (`generators.models.hub.backend_state`), as
    `viewer.models_dialog.Choice`s, and the index of the best ready one (a GPU-only backend
    on a machine without CUDA is not ready)."""
    from generators.models.hub import backend_state

    from .models_dialog import Choice, _has_gpu

    out, best, best_pref = [], 0, -1
    gpu: bool | None = None
    for value, label, model, pref in offers:
        ready, hint = True, ""
        if model:
            st = backend_state(model)
            ready = bool(st.ready)
            if not ready:
                hint = (
                    f"needs {', '.join(st.missing_packages)}"
                    if st.missing_packages
                    else f"{st.state}: Settings > Models > Download {model}"
                )
            else:
                gpu = _has_gpu() if gpu is None else gpu
                if not st.backend.cpu_ok and not gpu:
                    ready, hint = False, f"needs a GPU with ~{st.backend.vram_gb:g} GB"
        out.append(
            Choice(value, label + (" — ready" if ready else f" — {hint}"), ready, hint, model)
        )
        if ready and pref > best_pref:
            best, best_pref = len(out) - 1, pref
    return out, best


def fill_offers(combo: QComboBox, offers: list[tuple[str, str, str, int]]) -> list[Any]:
    """Fill `combo` with the offers (label says ready or what is missing; a not-ready one
    stays selectable, since a local model folder can stand in) and select the best ready."""
    choices, best = offer_choices(offers)
    combo.clear()
    for c in choices:
        combo.addItem(c.label, c.value)
        if c.hint:
            combo.setItemData(combo.count() - 1, c.hint, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(best)
    return choices


class SegmentDialog(QDialog):
    """Pick the object in a photo: drag a box or click it, preview the mask, choose a backend."""

    def __init__(self, parent: Any, photo: Path) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Object from {photo.name}")
        self.photo = photo
        from generators.objects.segment_classical import load_image

        self.rgb, alpha = load_image(photo)
        self.canvas = _PhotoCanvas(self.rgb)
        self.info = QLabel("Drag a box around the object, or click on it; then Preview.")
        self.info.setWordWrap(True)
        #: the photo is a cut-out: its transparency is the mask, whatever box or click
        #: (the dialog asked for a box that then did nothing: a trial)
        self.cut_out = alpha is not None
        self.backend = QComboBox()
        self.segmenter = QComboBox()
        try:  # readiness from the model manager; the best ready one preselected
            self.backend_choices = fill_offers(self.backend, OBJECT_OFFERS)
            self.segmenter_choices = fill_offers(self.segmenter, SEGMENT_OFFERS)
        except Exception:  # noqa: BLE001 - the classical ones always work
            log.warning("model manager unavailable: offering the classical backends", exc_info=True)
            self.backend.clear()
            self.segmenter.clear()
            self.backend.addItem("Classical inflation (no weights)", "classical")
            self.segmenter.addItem("GrabCut (no weights)", "classical")
        self.model = QLineEdit()
        self.model.setPlaceholderText("multiview: local Zero123++ folder")
        self.sam = QLineEdit()
        self.sam.setPlaceholderText("neural: SAM checkpoint (.pth) or folder")
        self.height = QDoubleSpinBox()
        self.height.setRange(0.0, 1000.0)
        self.height.setDecimals(2)
        self.height.setSingleStep(0.1)
        self.height.setSuffix(" m")
        # 0 = sized by where it lands, easy to see from here (as before the field existed)
        self.height.setSpecialValueText("Auto (a quarter of the distance)")
        self.height.setValue(0.0)
        self.height.setToolTip(
            "How tall the object stands; Auto sizes it to a quarter of its distance from "
            "the view (at most 3 m). The Object panel and Alt+= / Alt+- scale it later."
        )
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
        form.addRow("Height", self.height)
        # splats look like the photo; a mesh is what GLB / OBJ exports and other tools take
        self.kind = QComboBox()
        self.kind.addItem("Gaussian splats", "splats")
        self.kind.addItem("Mesh (exports to GLB / OBJ)", "mesh")
        form.addRow("Insert as", self.kind)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.info)
        lay.addWidget(preview)
        lay.addLayout(form)
        lay.addWidget(buttons)
        if self.cut_out:
            self.preview()  # the mask it has, shown at once
            if self.canvas.mask is not None:
                self.info.setText(
                    "The photo is a cut-out: its transparency is the object's mask (tinted "
                    "blue: left out). Press OK."
                )

    def _browse_model(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Multiview model folder")
        if d:
            self.model.setText(d)

    def as_mesh(self) -> bool:
        """The object goes in as its mesh, not its splats."""
        return self.kind.currentData() == "mesh"

    def fixed_height(self) -> float | None:
        """The height chosen in m, or None for Auto."""
        v = float(self.height.value())
        return v if v > 0 else None

    def request(self) -> ObjectOptions:
        box = self.canvas.box
        return ObjectOptions(
            photo=self.photo,
            **({"height": h} if (h := self.fixed_height()) is not None else {}),
            backend=self.backend.currentData() or "classical",
            segmenter=self.segmenter.currentData() or "classical",
            box=None if box is None else ",".join(str(int(v)) for v in box),
            point=self.canvas.point,
            model=self.model.text() or None,
            sam=self.sam.text() or None,
        )

    def preview(self) -> None:
        req = self.request()
        try:
            seg = segment(req)
        except (ValueError, OSError) as exc:
            self.info.setText(f"<b>No mask:</b> {exc}")
            self.canvas.set_mask(None)
            return
        self.canvas.set_mask(seg.mask)
        self.info.setText(
            f"Mask: {int(seg.mask.sum())} pixels. Adjust the box or click, or press OK."
        )


MASK_TINT = np.array([40, 90, 210], np.float32)  # what is left out, half tinted blue


def masked_preview(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: the photo with what the mask leaves out tinted half blue and the
    mask's outline in yellow, 2 px at the canvas' scale. Darkening the rest showed nothing
    on a product shot's black background: "Mask: 238950 pixels" and no visible mask (a
    trial)."""
    import cv2

    m = np.asarray(mask, bool)
    out = rgb.astype(np.float32)
    out[~m] = 0.5 * out[~m] + 0.5 * MASK_TINT
    k = max(1, int(round(max(rgb.shape[:2]) / 360)))
    ring = cv2.dilate(m.astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    ring &= ~(cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    out[ring] = (255, 210, 40)
    return np.clip(out, 0, 255).astype(np.uint8)


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
            self.box = (
                min(a.x(), b.x()) / s,
                min(a.y(), b.y()) / s,
                max(a.x(), b.x()) / s,
                max(a.y(), b.y()) / s,
            )
        self._drag = None
        self.update()

    def paintEvent(self, e: Any) -> None:  # noqa: N802
        h, w = self.rgb.shape[:2]
        img = self.rgb if self.mask is None else masked_preview(self.rgb, self.mask)
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


def install(window: WindowAPI) -> None:
    """Add the Create > Insert… actions and the Object menu to the window."""
    window.extensions["objects_tools"] = ObjectTools(window)
