"""Orbit-mode aids: a pivot marker at the point the camera orbits, and an optional ground
grid (View > Ground Grid in Orbit, persisted as the `orbit_grid` setting).

Both are drawn by a transparent overlay on the viewport with the same `scene.camera.Camera`
the renderer uses. The grid lies on the floor under the pivot (the collider's floor height
there, else the lowest floor column, else the bottom of the scene's bounds) in the world's
up-aligned frame; its spacing is a round 1-2-5 step of about a fifth of the orbit distance,
so it reads the same at any zoom, and it spans ±GRID_CELLS cells around the pivot.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QAction, QColor, QPainter, QPen, QPolygonF

from .features import WindowAPI
from .overlay import ViewportOverlay

log = logging.getLogger(__name__)

GRID_CELLS = 10  # cells each side of the pivot
LINE_SAMPLES = 24  # a grid line is drawn as this many pieces (clipped at the near plane)
PIVOT_COLOR = QColor(255, 140, 40)
GRID_COLOR = QColor(200, 200, 210, 90)
GRID_AXIS_COLOR = QColor(230, 230, 240, 150)


def nice_step(length: float) -> float:
    """The 1-2-5 × 10^k value nearest below `length` (> 0), e.g. 0.37 -> 0.2, 7 -> 5."""
    if not (length > 0 and math.isfinite(length)):
        return 1.0
    e = math.floor(math.log10(length))
    base = 10.0**e
    for m in (5.0, 2.0, 1.0):
        if m * base <= length:
            return m * base
    return base


class OrbitOverlay(ViewportOverlay):
    """Pivot marker + ground grid, drawn only while the navigator is in orbit mode."""

    def __init__(self, viewport: Any) -> None:
        super().__init__(viewport)
        self.show_grid = False

    @property
    def active(self) -> bool:
        world = self.viewport.world
        return self.viewport.nav.mode == "orbit" and world is not None and not world.is_empty()

    # ------------------------------------------------------------ geometry
    def pivot_world(self) -> np.ndarray:
        """The orbit centre in world coordinates, (3,)."""
        nav = self.viewport.nav
        return nav.rot.T @ np.asarray(nav.target, np.float64)

    def floor_height(self) -> float:
        """Floor height (local up-aligned frame, scene units) under the pivot."""
        nav = self.viewport.nav
        t = nav.target
        col = nav.collider
        if col is not None:
            f = col.floor_at(float(t[0]), float(t[2]))
            if f is None and np.isfinite(col.floor).any():
                f = float(np.nanmin(col.floor))
            if f is not None:
                return float(f)
        return float(nav.bounds[0][1])

    def grid_lines(self) -> tuple[list[np.ndarray], float]:
        """World polylines (each (LINE_SAMPLES + 1, 3)) of the grid, and its spacing."""
        nav = self.viewport.nav
        step = nice_step(max(nav.distance, 1e-6) / 5.0)
        t = np.asarray(nav.target, np.float64)
        y = self.floor_height()
        cx, cz = round(t[0] / step) * step, round(t[2] / step) * step
        half = GRID_CELLS * step
        s = np.linspace(-half, half, LINE_SAMPLES + 1)
        lines = []
        for i in range(-GRID_CELLS, GRID_CELLS + 1):
            a = np.stack([np.full_like(s, cx + i * step), np.full_like(s, y), cz + s], 1)
            b = np.stack([cx + s, np.full_like(s, y), np.full_like(s, cz + i * step)], 1)
            lines += [a @ nav.rot, b @ nav.rot]  # local -> world: rot is world -> local
        return lines, step

    def camera(self) -> Any:
        return self.viewport.current_camera().resized(max(self.width(), 1), max(self.height(), 1))

    # ------------------------------------------------------------- drawing
    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        if not self.active:
            return
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            cam = self.camera()
            if self.show_grid:
                lines, _ = self.grid_lines()
                mid = len(lines) // 2
                for j, line in enumerate(lines):
                    uv, z = cam.project(line)
                    ok = (z > 0.05) & np.isfinite(uv).all(1)
                    p.setPen(QPen(GRID_AXIS_COLOR if j in (mid - 1, mid) else GRID_COLOR, 1.0))
                    for seg in _runs(uv, ok):
                        p.drawPolyline(QPolygonF([QPointF(float(u), float(v)) for u, v in seg]))
            uv, z = cam.project(self.pivot_world()[None])
            if z[0] > 0.05 and np.isfinite(uv).all():
                x, y = float(uv[0, 0]), float(uv[0, 1])
                p.setPen(QPen(QColor(0, 0, 0, 160), 4.0))
                p.drawLine(QPointF(x - 10, y), QPointF(x + 10, y))
                p.drawLine(QPointF(x, y - 10), QPointF(x, y + 10))
                p.setPen(QPen(PIVOT_COLOR, 2.0))
                p.drawLine(QPointF(x - 10, y), QPointF(x + 10, y))
                p.drawLine(QPointF(x, y - 10), QPointF(x, y + 10))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(QPointF(x, y), 6.0, 6.0)
        except Exception:  # noqa: BLE001 - an overlay must never break painting
            log.debug("orbit overlay skipped", exc_info=True)
        finally:
            p.end()


def _runs(uv: np.ndarray, ok: np.ndarray) -> list[np.ndarray]:
    """Consecutive runs of ≥ 2 valid points."""
    out, start = [], None
    for i, good in enumerate(list(ok) + [False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            if i - start >= 2:
                out.append(uv[start:i])
            start = None
    return out


@dataclass
class OrbitTools:
    """The orbit aids of one window (kept as window.extensions['orbit_tools'])."""

    overlay: OrbitOverlay
    grid_action: QAction  # View > Ground Grid in Orbit (checkable)


def install(window: WindowAPI) -> None:
    """Add the orbit overlay and View > Ground Grid in Orbit (persisted)."""
    overlay = OrbitOverlay(window.viewport)
    st = window.settings
    overlay.show_grid = bool(st.get("orbit_grid", False, bool))
    act = QAction("Ground &Grid in Orbit", window)
    act.setCheckable(True)
    act.setChecked(overlay.show_grid)
    act.setStatusTip("Draw a ground grid under the orbit pivot")

    def toggled(on: bool) -> None:
        overlay.show_grid = bool(on)
        st.set("orbit_grid", bool(on))
        overlay.update()
        window.viewport.request_full()

    act.toggled.connect(toggled)
    window.menu("&View").addAction(act)
    window.addAction(act)
    window.extensions["orbit_tools"] = OrbitTools(overlay, act)
