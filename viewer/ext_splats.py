"""Cleaning a splat scene (as SuperSplat does): select splats with a box, a lasso or a sphere
(Shift adds, Ctrl removes, Edit > Invert), see them highlighted, then delete them (Del) or
separate them into their own object layer — each one undoable step.

The tools act on the Gaussian layer selected in the outliner, or on every visible Gaussian
layer when none is. Geometry: viewer/splat_select.py; picking the sphere's centre:
viewer/picking.py (the renderer's camera).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
)
from PyQt6.QtWidgets import QLabel

from scene.camera import Camera
from scene.gaussians import GaussianCloud

from .features import WindowAPI
from .overlay import ViewportOverlay
from .picking import pick, pixel_ray, world_points
from .splat_select import (
    SplatSelection,
    box_polygon,
    combine,
    polygon_mask,
    sphere_mask,
    world_centres,
)

log = logging.getLogger(__name__)
HIGHLIGHT = (255, 214, 40, 235)
TOOLS = {"box": ("&Box", "B"), "lasso": ("&Lasso", "L"), "sphere": ("&Sphere", "Shift+B")}
HINT = "drag over splats — Shift adds, Ctrl removes; Del deletes, Esc stops"


class SplatTools:
    """Edit > Select Splats for one MainWindow (kept as window.extensions['splat_tools'])."""

    def __init__(self, window: WindowAPI) -> None:
        self.window = window
        self.selection = SplatSelection()
        self.tool: str | None = None
        self.op = "replace"
        self.path: list[tuple[float, float]] = []  # box: [start, now]; lasso: the outline
        self.sphere: tuple[np.ndarray, float] | None = None  # (centre, radius) while dragging
        self.overlay = _Overlay(self)
        self.tool_actions: dict[str, QAction] = {}
        # stays in the status bar while a tool is on (left-drag selects instead of looking)
        self.tool_label = QLabel()
        self.tool_label.setObjectName("splat_tool_label")
        self.tool_label.setStyleSheet("font-weight: 600;")
        self.tool_label.hide()
        window.statusBar().addPermanentWidget(self.tool_label)
        self._build()
        window.viewport.mouse_tools.insert(0, self)  # left-drag selects while a tool is on
        window.world_replaced.connect(self._world_replaced)
        window.escape_handlers.append(self.escape)
        self._world = None
        self._world_replaced(window.world)

    # ---------------------------------------------------------------- menus
    def _build(self) -> None:
        e = self.window.menu("&Edit")
        m = e.addMenu("Select &Splats")
        group = QActionGroup(self.window)
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for tool, (label, key) in TOOLS.items():
            a = QAction(f"{label} Select", self.window)
            a.setCheckable(True)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setStatusTip(f"{label.replace('&', '')} select: {HINT}")
            a.triggered.connect(lambda on, t=tool: self.set_tool(t if on else None))
            group.addAction(a)
            m.addAction(a)
            self.window.addAction(a)
            self.tool_actions[tool] = a
        m.addSeparator()
        self.actions = {}
        for key, text, slot, sc in (
            ("all", "Select &All Splats", self.select_all, None),
            ("none", "Select &No Splats", self.select_none, "Ctrl+Shift+A"),
            ("invert", "&Invert Splat Selection", self.invert, "Ctrl+I"),
            ("delete", "&Delete Selected Splats", self.delete, None),
            ("separate", "Se&parate Selected Splats to a Layer", self.separate, "Ctrl+Shift+D"),
        ):
            if key == "delete":
                m.addSeparator()
            a = QAction(text, self.window)
            if sc:
                a.setShortcut(QKeySequence(sc))
                a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(lambda _=False, f=slot: f())
            m.addAction(a)
            self.window.addAction(a)
            self.actions[key] = a
        self.actions["delete"].setToolTip("Del deletes selected splats while there are any")
        m.aboutToShow.connect(self._sync)

    def _sync(self) -> None:
        any_sel = bool(self.selection)
        for k in ("delete", "separate", "none"):
            self.actions[k].setEnabled(any_sel)
        for t, a in self.tool_actions.items():
            a.setChecked(self.tool == t)

    # ---------------------------------------------------------------- state
    def _world_replaced(self, world: Any) -> None:
        if self._world is not None:
            self._world.unsubscribe(self._on_world)
        self._world = world
        world.subscribe(self._on_world)
        if self.tool is not None:  # a new world/project starts with plain click-select
            self.set_tool(None)
        self.selection.clear()
        self.overlay.update()

    def _on_world(self, ev: Any) -> None:
        what = ev.what
        if what in ("layers", "all", "visibility"):
            self.selection.prune(self.window.world)
            self.overlay.update()
        elif what == "transform":
            self.overlay.update()

    def set_tool(self, tool: str | None) -> None:
        """'box' | 'lasso' | 'sphere' | None (off: left-drag looks again)."""
        if tool is not None and tool not in TOOLS:
            raise ValueError(f"unknown selection tool {tool!r}")
        self.tool = tool
        self.path, self.sphere = [], None
        for t, a in self.tool_actions.items():
            a.setChecked(t == tool)
        vp = self.window.viewport
        if tool is None:
            self.tool_label.hide()
            vp.unsetCursor()
            self.window.show_status("Splat selection tool off", 2000)
        else:
            self.tool_label.setText(f"{tool.capitalize()} select on — Esc stops")
            self.tool_label.show()
            vp.setCursor(Qt.CursorShape.CrossCursor)
            self.window.show_status(f"{tool.capitalize()} select: {HINT}", 8000)
        self.overlay.update()

    def escape(self) -> bool:
        """Esc: stop the tool (first), then clear the selection."""
        if self.tool is not None:
            self.set_tool(None)
            return True
        if self.selection:
            self.select_none()
            return True
        return False

    def target_layers(self) -> list[Any]:
        """The outliner's selected Gaussian layer, else every visible Gaussian layer."""
        world = self.window.world
        lid = self.window.selected_layer_id()
        layers = [
            lay for lay in world.layers if lay.visible and isinstance(lay.data, GaussianCloud)
        ]
        chosen = [lay for lay in layers if lay.id == lid]
        return chosen or layers

    def camera(self) -> Camera:
        vp = self.window.viewport
        return vp.current_camera().resized(max(vp.width(), 1), max(vp.height(), 1))

    # ------------------------------------------------------------- applying
    def apply(self, masks: dict[int, np.ndarray], op: str) -> int:
        """Combine per-layer `masks` into the selection with `op`; returns the new count."""
        world = self.window.world
        for lay in self.target_layers() if op == "replace" else []:
            if lay.id not in masks:
                self.selection.set(lay, np.zeros(len(lay.data), bool))
        for lid, new in masks.items():
            lay = world.layer(lid)
            self.selection.set(lay, combine(self.selection.get(lay), new, op))
        n = self.selection.count()
        self.window.show_status(
            f"{n:,} splats selected — Del deletes, Ctrl+Shift+D separates", 6000
        )
        self.overlay.update()
        return n

    def select_polygon(
        self, polygon: np.ndarray, op: str = "replace", cam: Camera | None = None
    ) -> int:
        """Select splats whose centres project inside `polygon` (K, 2) widget pixels."""
        cam = cam or self.camera()
        return self.apply(
            {
                lay.id: polygon_mask(cam, world_points(lay.data, lay.transform), polygon)
                for lay in self.target_layers()
            },
            op,
        )

    def select_box(self, x0: float, y0: float, x1: float, y1: float, op: str = "replace") -> int:
        return self.select_polygon(
            box_polygon(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), op
        )

    def select_sphere(self, centre: np.ndarray, radius: float, op: str = "replace") -> int:
        return self.apply(
            {
                lay.id: sphere_mask(world_points(lay.data, lay.transform), centre, radius)
                for lay in self.target_layers()
            },
            op,
        )

    def select_all(self) -> int:
        return self.apply(
            {lay.id: np.ones(len(lay.data), bool) for lay in self.target_layers()}, "replace"
        )

    def select_none(self) -> None:
        self.selection.clear()
        self.window.show_status("No splats selected", 2000)
        self.overlay.update()

    def invert(self) -> int:
        masks = {}
        for lay in self.target_layers():
            old = self.selection.get(lay)
            masks[lay.id] = np.ones(len(lay.data), bool) if old is None else ~old
        return self.apply(masks, "replace")

    def delete(self) -> int:
        """Delete the selected splats (one undo step for all layers); returns how many."""
        world = self.window.world
        self.selection.prune(world)
        items = [(lid, m) for lid, m in self.selection.masks.items() if m.any()]
        if not items:
            self.window.show_status("No splats selected: B box, L lasso, Shift+B sphere", 4000)
            return 0
        from scene.commands import Batch, RemoveSplats

        cmds = [RemoveSplats(lid, m) for lid, m in items]
        n = sum(c.count for c in cmds)
        batch = Batch(cmds, f"delete {n:,} splats") if len(cmds) > 1 else cmds[0]
        batch.text = f"Delete {n:,} splats"
        world.execute(batch)
        self.selection.clear()
        self.window.show_status(f"Deleted {n:,} splats (Ctrl+Z restores them)", 5000)
        return n

    def separate(self) -> Any:
        """Move the selected splats of one layer into a new object layer (selected after)."""
        world = self.window.world
        self.selection.prune(world)
        items = [(lid, m) for lid, m in self.selection.masks.items() if m.any()]
        if len(items) != 1:
            self.window.show_status(
                "Select splats of one layer to separate them" if items else "No splats selected",
                4000,
            )
            return None
        lid, m = items[0]
        from scene.commands import SeparateSplats

        cmd = SeparateSplats(lid, m)
        cmd.text = f"Separate {int(m.sum()):,} splats"
        world.execute(cmd)
        self.selection.clear()
        self.window.select_layer(cmd.new_layer.id)
        self.window.show_status(
            f"Separated {int(m.sum()):,} splats into {cmd.new_layer.name}", 5000
        )
        return cmd.new_layer

    # -------------------------------------------------------- mouse (tool)
    def _op(self, e: QMouseEvent) -> str:
        mods = e.modifiers()
        if mods & Qt.KeyboardModifier.ShiftModifier:
            return "add"
        if mods & Qt.KeyboardModifier.ControlModifier:
            return "subtract"
        return "replace"

    def press(self, e: QMouseEvent) -> bool:
        if self.tool is None or e.button() != Qt.MouseButton.LeftButton:
            return False
        self.op = self._op(e)
        x, y = e.position().x(), e.position().y()
        if self.tool == "sphere":
            hit = pick(self.window.world, self.camera(), x, y)
            if hit is None:
                self.window.show_status("Press on a surface to centre the sphere", 3000)
                return True
            self.sphere = (hit.point, 0.0)
        self.path = [(x, y), (x, y)] if self.tool == "box" else [(x, y)]
        self.overlay.update()
        return True

    def move(self, e: QMouseEvent) -> None:
        x, y = e.position().x(), e.position().y()
        if self.tool == "box" and self.path:
            self.path[1] = (x, y)
        elif self.tool == "lasso" and self.path:
            if np.hypot(x - self.path[-1][0], y - self.path[-1][1]) >= 2:
                self.path.append((x, y))
        elif self.tool == "sphere" and self.sphere is not None:
            c = self.sphere[0]
            o, d = pixel_ray(self.camera(), x, y)
            t = max(float((c - o) @ d), 0.0)
            self.sphere = (c, float(np.linalg.norm(o + t * d - c)))
        self.overlay.update()

    def release(self, e: QMouseEvent) -> None:
        try:
            if self.tool == "box" and len(self.path) == 2:
                (x0, y0), (x1, y1) = self.path
                if abs(x1 - x0) >= 2 and abs(y1 - y0) >= 2:
                    self.select_box(x0, y0, x1, y1, self.op)
                else:  # a plain click: say why it did not select an object
                    self.window.show_status(
                        "Box select is on: drag a box over splats (Esc stops the tool)", 4000
                    )
            elif self.tool == "lasso" and len(self.path) >= 3:
                self.select_polygon(np.array(self.path), self.op)
            elif self.tool == "sphere" and self.sphere is not None and self.sphere[1] > 0:
                self.select_sphere(self.sphere[0], self.sphere[1], self.op)
        finally:
            self.path, self.sphere = [], None
            self.overlay.update()


class _Overlay(ViewportOverlay):
    """Draws the selection (a dot on every selected splat's centre) and the tool's outline."""

    def __init__(self, tools: SplatTools) -> None:
        super().__init__(tools.window.viewport)
        self.tools = tools

    def wants_repaint(self) -> bool:
        return bool(self.tools.selection or self.tools.path)

    def highlight_image(self, cam: Camera) -> np.ndarray | None:
        """(H, W, 4) uint8 RGBA: the selected splats' centres as 2×2 px dots, or None."""
        world = self.tools.window.world
        w, h = int(cam.width), int(cam.height)
        img = None
        for lay in world.layers:
            m = self.tools.selection.get(lay) if lay.visible else None
            if m is None or not m.any():
                continue
            uv, z = cam.project(world_centres(lay.data.subset(np.flatnonzero(m)), lay.transform))
            ok = (z > 0.05) & np.isfinite(uv).all(1)
            px = np.floor(uv[ok]).astype(np.int64)
            px = px[(px[:, 0] >= 0) & (px[:, 0] < w - 1) & (px[:, 1] >= 0) & (px[:, 1] < h - 1)]
            if img is None:
                img = np.zeros((h, w, 4), np.uint8)
            r = 2 if len(px) < 5000 else (1 if len(px) < 50000 else 0)  # sparse: bigger dots
            for dx in range(-r, r + 1):
                for dy in range(-r, r + 1):
                    if abs(dx) + abs(dy) <= r + (r > 1):
                        img[np.clip(px[:, 1] + dy, 0, h - 1), np.clip(px[:, 0] + dx, 0, w - 1)] = (
                            HIGHLIGHT
                        )
        return img

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        t = self.tools
        p = QPainter(self)
        try:
            if t.selection:
                cam = t.camera()
                img = self.highlight_image(cam)
                if img is not None:
                    q = QImage(
                        img.data,
                        img.shape[1],
                        img.shape[0],
                        4 * img.shape[1],
                        QImage.Format.Format_RGBA8888,
                    )
                    p.drawImage(0, 0, q)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(QColor(255, 214, 40), 1.5, Qt.PenStyle.DashLine)
            p.setPen(pen)
            if t.tool == "box" and len(t.path) == 2:
                (x0, y0), (x1, y1) = t.path
                p.fillRect(
                    int(min(x0, x1)),
                    int(min(y0, y1)),
                    int(abs(x1 - x0)),
                    int(abs(y1 - y0)),
                    QColor(255, 214, 40, 40),
                )
                p.drawRect(int(min(x0, x1)), int(min(y0, y1)), int(abs(x1 - x0)), int(abs(y1 - y0)))
            elif t.tool == "lasso" and len(t.path) >= 2:
                p.setBrush(QColor(255, 214, 40, 40))
                p.drawPolygon(QPolygonF([QPointF(x, y) for x, y in t.path]))
            elif t.tool == "sphere" and t.sphere is not None:
                c, r = t.sphere
                cam = t.camera()
                uv, z = cam.project(c[None])
                if z[0] > 0.05:
                    rp = r * cam.fy / z[0]
                    p.setBrush(QColor(255, 214, 40, 40))
                    p.drawEllipse(QPointF(float(uv[0, 0]), float(uv[0, 1])), rp, rp)
        except Exception:  # noqa: BLE001 - an overlay must never break painting
            log.debug("selection overlay skipped", exc_info=True)
        finally:
            p.end()


def install(window: WindowAPI) -> None:
    """Add Edit > Select Splats (box / lasso / sphere, invert, delete, separate)."""
    window.extensions["splat_tools"] = SplatTools(window)
