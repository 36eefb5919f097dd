"""The walkable area of a generated world: a disc on the floor where its geometry is real.

A world made from one photo or a panorama holds up near the capture point only. Its
generator records the disc in `world.meta['walkable']` ({'centre': [x, y, z] world,
'radius': m, 'source': ...}). Walk mode keeps the walker inside it with a soft boundary
(outward steps slow down over the last `margin` and stop at the rim), the viewport draws
a faint ring on the floor and, near the rim, a fence rising from it, and the status bar
shows a hint at the rim.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scene.world import walkable_disc

log = logging.getLogger(__name__)

#: (the ring is under the walker's feet when they reach it: named, a trial looked for it)
HINT = (
    "Edge of the walkable area (the dashed ring and fence): beyond it the world is "
    "invented from the photo's edges"
)
#: a world from a whole panorama invents nothing: beyond the rim its geometry is guessed
HINT_PANORAMA = (
    "Edge of the walkable area (the dashed ring and fence): beyond it the panorama's "
    "depth is only a guess"
)
RING_POINTS = 128
NEAR_DRAWN = 0.05  # m: the ring's and the fence's pieces nearer the eye than this are left out
#: Near the rim a fence rises from the ring (as VR guardian boundaries do): the ring lies
#: under the walker's feet there, out of an eye-level view, and the hint pointed at it (a
#: trial). It shows from FENCE_FROM margins inside the rim, growing to full at the rim, over
#: FENCE_SPAN radians either side of the walker's bearing (fading towards its ends): one
#: rail FENCE_RAIL below the eye (at most a fifth of the eye's height), with a short post
#: of FENCE_TICK hanging from it every FENCE_POST samples, at most FENCE_ALPHA of the ring's
#: opacity. (Rails 0.2 m apart up to 0.4 m over the eye, 50° either side: walking along
#: the rim of a panorama's world, lines across most of the view; rails every 0.4 m up to
#: the eye with posts to the floor: "a cage" over the office world, two trials)
FENCE_FROM = 2.0
FENCE_SPAN = math.radians(35.0)
FENCE_SAMPLES = 16  # per side of the bearing
#: m below the eye: 3° under the horizon at the rim (0.35 was out of view there, 0.5 m from
#: it; 0.1, 11° under it, out of a photo world's view pitched up 10°, a trial)
FENCE_RAIL = 0.03
FENCE_TICK = 0.25  # m
FENCE_POST = 4
FENCE_ALPHA = 0.6
#: ... standing this far beyond the rim (m): the walker stops at the rim, and a fence on it
#: would touch the eye
FENCE_OUT = 0.5


RING_SHADOW = ((0, 0, 0, 90), 3.5)  # RGBA, px: the ring's dark under-stroke ...
RING_LINE = ((255, 255, 255, 150), 1.5)  # ... and its light dash


@dataclass
class WalkArea:
    """A disc in the viewer's local frame (+Y up): centre (3,) on the floor, radius (units)."""

    centre: np.ndarray
    radius: float
    margin: float
    rot: np.ndarray  # world -> local rotation (the viewer's up axis)
    hint: str = HINT  # the status bar's words at the rim

    @classmethod
    def from_world(cls, world: Any, up_rot: np.ndarray) -> WalkArea | None:
        """From `world.meta['walkable']` (None when absent or malformed)."""
        meta = getattr(world, "meta", None)
        disc = walkable_disc(meta)
        if disc is None:
            if isinstance(meta, dict) and "walkable" in meta:
                log.warning("ignoring a malformed walkable area %r", meta["walkable"])
            return None
        centre, radius = disc
        local = np.asarray(up_rot, np.float64) @ centre
        hint = HINT_PANORAMA if meta["walkable"].get("invented") is False else HINT
        return cls(local, radius, min(0.6, 0.3 * radius), np.asarray(up_rot, np.float64), hint)

    def distance(self, feet: np.ndarray) -> float:
        """Horizontal distance (local frame) of `feet` from the centre."""
        d = np.asarray(feet, np.float64) - self.centre
        return float(math.hypot(d[0], d[2]))

    def constrain(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Feet position after a step from `old` to `new`: outward motion is damped over
        the last `margin` before the rim and never passes it; inward motion is free."""
        new = np.asarray(new, np.float64).copy()
        c = self.centre
        r_new = self.distance(new)
        r_old = self.distance(old)
        if r_new <= self.radius - self.margin or r_new <= r_old:
            return new
        # damp the outward (radial) part of the step
        radial = np.array([new[0] - c[0], 0.0, new[2] - c[2]]) / max(r_new, 1e-9)
        step = new - np.asarray(old, np.float64)
        out = float(step @ radial)
        room = max(0.0, (self.radius - r_old) / self.margin)
        new = new - radial * out * (1.0 - min(1.0, room))
        r = self.distance(new)
        if r > self.radius:
            k = self.radius / r
            new[0] = c[0] + (new[0] - c[0]) * k
            new[2] = c[2] + (new[2] - c[2]) * k
        return new

    def at_edge(self, feet: np.ndarray) -> bool:
        return self.distance(feet) >= self.radius - 0.5 * self.margin

    def ring_segments(self, camera: Any) -> list[tuple[float, float, float, float]]:
        """Screen segments (x1, y1, x2, y2) px of the ring on the floor, in front of the
        world-frame `camera`."""
        a = np.linspace(0, 2 * math.pi, RING_POINTS + 1)
        pts = np.stack(
            [
                self.centre[0] + self.radius * np.cos(a),
                np.full_like(a, self.centre[1] + 0.01),
                self.centre[2] + self.radius * np.sin(a),
            ],
            -1,
        )
        return [sg for sg, _ in self._polyline(camera, pts)]

    def _polyline(self, camera: Any, pts: np.ndarray) -> list[tuple[tuple, int]]:
        """The pieces of the polyline `pts` (n, 3) (local frame) in front of the world-frame
        `camera` (both ends over NEAR_DRAWN in depth): ((x1, y1, x2, y2) px, index of the
        piece's first point) each."""
        uv, z = camera.project(pts @ self.rot)  # local -> world
        return [
            ((float(uv[i, 0]), float(uv[i, 1]), float(uv[i + 1, 0]), float(uv[i + 1, 1])), i)
            for i in range(len(pts) - 1)
            if z[i] > NEAR_DRAWN and z[i + 1] > NEAR_DRAWN
        ]

    def fence_segments(self, camera: Any) -> list[tuple[float, float, float, float, float]]:
        """Screen segments (x1, y1, x2, y2 px, strength 0..1) of the fence the rim shows
        near the walker (FENCE_FROM): rails and posts on the rim's cylinder round the
        walker's bearing, in front of the world-frame `camera`; [] away from the rim."""
        pos = self.rot @ np.asarray(camera.position, np.float64)  # world -> local
        d = self.distance(pos)
        reach = FENCE_FROM * self.margin
        near = float(np.clip((d - (self.radius - reach)) / max(reach, 1e-9), 0.0, 1.0))
        if near <= 0.0:
            return []
        c = self.centre
        bearing = math.atan2(pos[2] - c[2], pos[0] - c[0])
        k = np.arange(-FENCE_SAMPLES, FENCE_SAMPLES + 1)
        a = bearing + FENCE_SPAN * k / FENCE_SAMPLES
        fade = 1.0 - np.abs(k) / (FENCE_SAMPLES + 1)  # (2S+1,)
        eye = pos[1] - c[1]
        # below the eye, also a low one (a tabletop photo's: at 0.3 m the rail ran across
        # the top of the view, a review)
        rail_h = max(eye - FENCE_RAIL, 0.8 * eye)
        r = self.radius + FENCE_OUT
        xs, zs = c[0] + r * np.cos(a), c[2] + r * np.sin(a)
        segs = []
        rail = np.stack([xs, np.full_like(xs, c[1] + rail_h), zs], -1)
        for sg, i in self._polyline(camera, rail):
            segs.append((*sg, float(FENCE_ALPHA * near * 0.5 * (fade[i] + fade[i + 1]))))
        for i in range(0, len(a), FENCE_POST):
            post = np.array(
                [[xs[i], c[1] + rail_h - FENCE_TICK, zs[i]], [xs[i], c[1] + rail_h, zs[i]]]
            )
            segs += [
                (*sg, float(FENCE_ALPHA * near * fade[i])) for sg, _ in self._polyline(camera, post)
            ]
        return segs

    def paint_ring(self, painter: Any, camera: Any) -> bool:
        """Draw the ring, and near the rim its fence (`fence_segments`), with `painter`
        (a QPainter over the view) for `camera`, whose pixels are the painter's
        (viewer/walk_ring.py); whether any of it was in view."""
        from PyQt6.QtCore import QLineF, Qt
        from PyQt6.QtGui import QColor, QPen

        segs = self.ring_segments(camera)
        fence = self.fence_segments(camera)
        if not segs and not fence:
            return False
        # (lines, opacity) groups: the ring, and the fence in four steps of strength
        groups = [([QLineF(x1, y1, x2, y2) for x1, y1, x2, y2 in segs], 1.0)]
        for lo in (0.0, 0.25, 0.5, 0.75):
            part = [QLineF(*sg[:4]) for sg in fence if lo < sg[4] <= lo + 0.25]
            groups.append((part, lo + 0.25))
        # a light dash on a dark one, so it shows on a pale floor as on a dark one (white
        # at 27 % alone was lost on the office world's lit boards)
        for lines, strength in groups:
            if not lines:
                continue
            for (r, g, b, alpha), width in (RING_SHADOW, RING_LINE):
                pen = QPen(QColor(r, g, b, int(alpha * strength)))
                pen.setWidthF(width)
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawLines(lines)
        return True


def walkable_note(world: Any) -> str | None:
    """Where a generated world can be walked, for the status bar when it opens ("inside
    the ring on the floor, 1.1 m round the start"; None without a walkable area,
    `WalkArea.from_world`): a trial found it only on stopping at the rim, 1 m from the
    start, and read the ring on the floor as decoration."""
    area = WalkArea.from_world(world, np.eye(3))
    if area is None:
        return None
    return f"inside the ring on the floor, {area.radius:.1f} m round the start"
