"""The transform gizmo: an overlay on the viewport showing the selected object's box and
draggable handles — arrows (move), rings (rotate), boxed ends (uniform scale) along the X
(red), Y (green), Z (blue) axes of the world's up-aligned frame or of the object itself.

Dragging follows the cursor exactly: a move handle keeps the grabbed point of its axis under
the cursor (closest point between the cursor's ray and the axis line), a ring turns by the
angle the cursor sweeps on the ring's plane, a scale handle scales by how far the cursor
moves away from the pivot on screen: a handle's length (HANDLE_PX) further doubles the
size, back to the pivot shrinks it to nothing (an axis pointing at the camera is a short
handle whose 3D closest point swings wildly: a small drag took a trial's object from 0.85
to 0.008). Ctrl snaps (moves to a round step about a tenth of
the object's size, turns to 15°, scale to 0.1). The drag previews live and lands as one
undo entry named by what changed ("Move chelsea"). Geometry is computed with the same
`scene.camera.Camera` the renderer draws with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPen, QPolygonF

from scene.camera import Camera

from . import transform_edit as te
from .overlay import ViewportOverlay
from .picking import pixel_ray

HANDLE_PX = 95.0  # handle length on screen
GRAB_PX = 8.0  # how close the cursor must be to grab a handle
RING_SEGMENTS = 72
AXIS_COLORS = (QColor(235, 70, 70), QColor(90, 205, 90), QColor(80, 130, 255))
HOT = QColor(255, 230, 80)
MODES = ("move", "rotate", "scale")
MIN_SCALE_GRAB_PX = 3.0  # a scale grab nearer the pivot on screen than this is refused


@dataclass
class _Drag:
    mode: str
    axis: int
    layer_id: int
    name: str
    start: np.ndarray  # transform at press
    direction: np.ndarray  # world axis (unit)
    pivot: np.ndarray
    t0: float  # move: axis parameter at press; rotate: angle at press; scale: pixels
    current: np.ndarray | None = None
    pivot_px: tuple[float, float] = (0.0, 0.0)  # scale: the pivot on screen


class TransformGizmo(ViewportOverlay):
    """Overlay widget (child of the viewport) + the viewport mouse tool that drags it.

    `layer_fn()` returns the selected movable layer or None; `world_fn()` the World.
    """

    def __init__(
        self,
        viewport: Any,
        world_fn: Callable[[], Any],
        layer_fn: Callable[[], Any],
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(viewport)
        self.world_fn = world_fn
        self.layer_fn = layer_fn
        self.on_status = on_status or (lambda s: None)
        #: True while the renderer has not drawn newly added splats yet
        self.pending_fn: Callable[[], bool] = lambda: False
        self.mode = "move"
        self.space = "world"
        self.hover: tuple[str, int] | None = None
        self.drag: _Drag | None = None
        tools = getattr(viewport, "mouse_tools", None)
        if tools is not None:
            tools.append(self)

    # ------------------------------------------------------------ geometry
    def camera(self) -> Camera:
        return self.viewport.current_camera().resized(max(self.width(), 1), max(self.height(), 1))

    def _frame(self, lay: Any, cam: Camera) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(pivot, axes (3,3) rows, world length of a handle) or None when off-screen."""
        pivot = lay.transform[:3, 3].astype(np.float64)
        _, z = cam.project(pivot[None])
        if z[0] <= 0.05:
            return None
        axes = te.axes_for(lay.transform, self.world_fn().up_axis, self.space)
        return pivot, axes, HANDLE_PX * float(z[0]) / cam.fy

    def handles(self, cam: Camera | None = None) -> dict[tuple[str, int], np.ndarray]:
        """Screen polylines (K, 2) of the current mode's handles, keyed (mode, axis)."""
        lay = self.layer_fn()
        if lay is None or not lay.visible:
            return {}
        cam = cam or self.camera()
        fr = self._frame(lay, cam)
        if fr is None:
            return {}
        pivot, axes, length = fr
        out: dict[tuple[str, int], np.ndarray] = {}
        for i in range(3):
            a = axes[i]
            if self.mode == "rotate":
                b1 = axes[(i + 1) % 3]
                b2 = axes[(i + 2) % 3]
                ang = np.linspace(0, 2 * math.pi, RING_SEGMENTS + 1)
                pts = pivot + 0.8 * length * (np.cos(ang)[:, None] * b1 + np.sin(ang)[:, None] * b2)
            else:
                pts = pivot + np.linspace(0.15, 1.0, 12)[:, None] * length * a
            uv, z = cam.project(pts)
            if (z > 0.05).all():
                out[(self.mode, i)] = uv
        return out

    def hit(self, x: float, y: float) -> tuple[str, int] | None:
        """The handle within GRAB_PX of widget pixel (x, y), nearest first."""
        best, best_d = None, GRAB_PX
        p = np.array([x, y])
        for key, uv in self.handles().items():
            d = _polyline_distance(p, uv)
            if d < best_d:
                best, best_d = key, d
        return best

    # ------------------------------------------------------------- drawing
    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        lay = self.layer_fn()
        if lay is None or not lay.visible or self.pending_fn():
            return  # (no box around an object the renderer does not show yet)
        try:
            cam = self.camera()
            lo, hi = lay.data.bounds()
            handles = self.handles(cam)
        except Exception:  # noqa: BLE001 - an overlay must never break painting
            import logging

            logging.getLogger(__name__).debug("gizmo paint skipped", exc_info=True)
            return
        corners = np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        m = lay.transform
        uv, z = cam.project(corners @ m[:3, :3].T + m[:3, 3])
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if (z > 0.05).all():
            p.setPen(QPen(QColor(255, 200, 40, 200), 1.2, Qt.PenStyle.DashLine))
            for a in range(8):
                for b in range(a + 1, 8):
                    if bin(a ^ b).count("1") == 1:
                        p.drawLine(QPointF(*uv[a]), QPointF(*uv[b]))
        active = (self.drag.mode, self.drag.axis) if self.drag else self.hover
        for (mode, axis), pts in handles.items():
            color = HOT if active == (mode, axis) else AXIS_COLORS[axis]
            p.setPen(QPen(color, 3.0 if active == (mode, axis) else 2.2))
            p.drawPolyline(QPolygonF([QPointF(float(u), float(v)) for u, v in pts]))
            if mode == "move":
                _arrow_head(p, pts[-2], pts[-1], color)
            elif mode == "scale":
                p.setBrush(color)
                p.drawRect(int(pts[-1][0]) - 5, int(pts[-1][1]) - 5, 10, 10)
                p.setBrush(Qt.BrushStyle.NoBrush)
        p.end()

    # ------------------------------------------------------------ dragging
    def press(self, e: QMouseEvent) -> bool:
        """Viewport mouse tool: grab a handle under a left press (True: the drag is ours)."""
        if e.button() != Qt.MouseButton.LeftButton:
            return False
        key = self.hit(e.position().x(), e.position().y())
        lay = self.layer_fn()
        if key is None or lay is None:
            return False
        cam = self.camera()
        fr = self._frame(lay, cam)
        if fr is None:
            return False
        pivot, axes, _ = fr
        mode, axis = key
        d = _Drag(mode, axis, lay.id, lay.name, lay.transform.copy(), axes[axis].copy(), pivot, 0.0)
        if mode == "scale":
            uv, z = cam.project(pivot[None])
            if z[0] <= 0:
                return False
            d.pivot_px = (float(uv[0, 0]), float(uv[0, 1]))
        t0 = self._param(d, cam, e.position().x(), e.position().y())
        if t0 is None or (mode == "scale" and t0 < MIN_SCALE_GRAB_PX):
            return False
        d.t0 = t0
        self.drag = d
        self.update()
        return True

    def _param(self, d: _Drag, cam: Camera, x: float, y: float) -> float | None:
        if d.mode == "scale":
            return math.hypot(x - d.pivot_px[0], y - d.pivot_px[1])
        o, r = pixel_ray(cam, x, y)
        if d.mode == "rotate":
            n = d.direction
            den = float(r @ n)
            if abs(den) < 1e-6:
                return None
            hitp = o + r * float((d.pivot - o) @ n) / den
            b1 = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
            b1 /= np.linalg.norm(b1)
            b2 = np.cross(n, b1)
            v = hitp - d.pivot
            return math.atan2(float(v @ b2), float(v @ b1))
        return te.axis_param(d.pivot, d.direction, o, r)

    def transform_at(self, x: float, y: float, snapping: bool = False) -> np.ndarray | None:
        """The dragged layer's transform with the cursor at (x, y)."""
        d = self.drag
        if d is None:
            return None
        t = self._param(d, self.camera(), x, y)
        if t is None:
            return None
        if d.mode == "move":
            dist = t - d.t0
            if snapping:
                lo, hi = self.world_fn().layer(d.layer_id).world_bounds()
                dist = te.snap(dist, te.nice_step(float(np.max(hi - lo))))
            return te.translated(d.start, dist * d.direction)
        if d.mode == "rotate":
            ang = (t - d.t0 + math.pi) % (2 * math.pi) - math.pi
            if snapping:
                ang = math.radians(te.snap(math.degrees(ang), te.ROTATE_SNAP_DEG))
            return te.rotated(d.start, d.direction, ang)
        factor = max(1.0 + (t - d.t0) / HANDLE_PX, 0.01)
        if snapping:
            s0 = te.scale_of(d.start)
            factor = max(te.snap(s0 * factor, te.SCALE_SNAP), te.SCALE_SNAP) / s0
        try:
            return te.scaled(d.start, factor)
        except ValueError:
            return None

    def move(self, e: QMouseEvent) -> None:
        snapping = bool(e.modifiers() & Qt.KeyboardModifier.ControlModifier)
        m = self.transform_at(e.position().x(), e.position().y(), snapping)
        d = self.drag
        if m is None or d is None:
            return
        world = self.world_fn()
        try:
            world.preview_transform(d.layer_id, m)  # live; the undoable command lands on release
        except KeyError:
            self.drag = None
            return
        d.current = m
        self.on_status(self._describe(d))
        self.update()

    def release(self, e: QMouseEvent) -> None:
        d, self.drag = self.drag, None
        if d is None:
            return
        world = self.world_fn()
        try:
            world.preview_transform(d.layer_id, d.start)  # back to the start, then one undo step
        except KeyError:
            return
        if d.current is not None and not np.allclose(d.current, d.start):
            world.execute(te.EditTransform(d.layer_id, d.current, te.edit_text(d.mode, d.name)))
        self.update()

    def _describe(self, d: _Drag) -> str:
        m = d.current if d.current is not None else d.start
        if d.mode == "move":
            dist = float(np.linalg.norm(m[:3, 3] - d.start[:3, 3]))
            return f"Move {d.name}: {dist:.3f} along {'XYZ'[d.axis]} (Ctrl snaps)"
        if d.mode == "rotate":
            r = m[:3, :3] @ np.linalg.inv(d.start[:3, :3])
            ang = math.degrees(math.acos(float(np.clip((np.trace(r) - 1) / 2, -1, 1))))
            return f"Rotate {d.name}: {ang:.1f}° about {'XYZ'[d.axis]} (Ctrl snaps to 15°)"
        return f"Scale {d.name}: ×{te.scale_of(m) / te.scale_of(d.start):.3f} (Ctrl snaps)"


def _polyline_distance(p: np.ndarray, uv: np.ndarray) -> float:
    a, b = uv[:-1], uv[1:]
    ab = b - a
    t = np.clip(
        np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1
    )
    proj = a + t[:, None] * ab
    return float(np.min(np.linalg.norm(proj - p, axis=1)))


def _arrow_head(p: QPainter, a: np.ndarray, b: np.ndarray, color: QColor) -> None:
    d = b - a
    n = float(np.linalg.norm(d))
    if n < 1e-6:
        return
    d = d / n
    side = np.array([-d[1], d[0]])
    tip = b + d * 6
    pts = [tip, b - d * 6 + side * 6, b - d * 6 - side * 6]
    p.setBrush(color)
    p.drawPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in pts]))
    p.setBrush(Qt.BrushStyle.NoBrush)
