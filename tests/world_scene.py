"""A synthetic textured room with upright objects, ray-cast exactly (no splats involved).

Used by tests/test_world_synthetic.py and bench/world_synthetic.py: the "photo" is this
scene seen from a known camera; renders of a world built from it are compared with the
scene's exact views from other positions, over the pixels the photo saw.

Scene (metres, +Y up, floor y = 0): walls 3 m high at x = ±4, z = −6 and z = +5 (open
sky above), a tall pillar (0.6 × 0.6 × 2.2 m) centred at (−1.3, −4.3), a low block
(0.8 × 0.6 × 1.0 m) centred at (1.3, −3.9). Procedural textures: a two-tone checker
floor, striped walls, banded objects, a light blue sky.
"""

from __future__ import annotations

import numpy as np

from scene.camera import Camera

WALL_H = 3.0
BOXES = [  # (x0, x1, y0, y1, z0, z1, id)
    (-1.6, -1.0, 0.0, 2.2, -4.6, -4.0, 1),
    (0.9, 1.7, 0.0, 1.0, -4.2, -3.6, 2),
]
SKY = np.array([0.55, 0.72, 0.95], np.float32)


def _planes(o: np.ndarray, d: np.ndarray, extra: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit distance (N,) and surface id (N,) among floor, walls and boxes (BOXES,
    then `extra` boxes in the same form)."""
    n = len(d)
    best = np.full(n, np.inf)
    sid = np.full(n, -1, int)
    with np.errstate(divide="ignore", invalid="ignore"):
        # floor y = 0
        t = -o[1] / d[:, 1]
        ok = t > 1e-6
        best = np.where(ok & (t < best), t, best)
        sid = np.where(ok & (t <= best), 10, sid)
        for axis, val, s in ((0, 4.0, 11), (0, -4.0, 12), (2, -6.0, 13), (2, 5.0, 14)):
            t = (val - o[axis]) / d[:, axis]
            p = o + t[:, None] * d
            ok = (t > 1e-6) & (p[:, 1] <= WALL_H) & (p[:, 1] >= 0)
            upd = ok & (t < best)
            best = np.where(upd, t, best)
            sid = np.where(upd, s, sid)
        for x0, x1, y0, y1, z0, z1, bid in (*BOXES, *extra):
            lo = np.array([x0, y0, z0]) - o
            hi = np.array([x1, y1, z1]) - o
            t1, t2 = lo / d, hi / d
            tmin = np.nanmax(np.minimum(t1, t2), axis=1)
            tmax = np.nanmin(np.maximum(t1, t2), axis=1)
            ok = (tmax >= tmin) & (tmin > 1e-6)
            upd = ok & (tmin < best)
            best = np.where(upd, tmin, best)
            sid = np.where(upd, bid, sid)
    return best, sid


def _texture(
    p: np.ndarray, sid: np.ndarray, extra: tuple = (), colours: dict | None = None
) -> np.ndarray:
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    col = np.tile(SKY, (len(p), 1))
    fine = 0.5 + 0.5 * np.sin(x * 23.0 + z * 17.0) * np.sin(y * 19.0 + x * 7.0)
    floor = sid == 10
    chk = ((np.floor(x / 0.5) + np.floor(z / 0.5)) % 2).astype(np.float32)
    col[floor] = np.array([0.45, 0.33, 0.22]) + 0.12 * chk[floor, None] + 0.05 * fine[floor, None]
    wall = (sid >= 11) & (sid <= 14)
    u = np.where(np.abs(x) >= 3.999, z, x)
    stripe = (np.floor(u / 0.35) % 2).astype(np.float32)
    col[wall] = (
        np.array([0.78, 0.76, 0.68])
        - 0.10 * stripe[wall, None]
        + 0.04 * fine[wall, None]
        - 0.15 * (y[wall, None] < 0.15)
    )
    for bid, base in ((1, np.array([0.75, 0.18, 0.15])), (2, np.array([0.16, 0.28, 0.7]))):
        m = sid == bid
        band = (np.floor(y / 0.25) % 2).astype(np.float32)
        col[m] = base + 0.15 * band[m, None] + 0.05 * fine[m, None]
    tops = {b[6]: b[3] for b in extra}
    for bid, (side, top) in (colours or {}).items():
        # an extra box: its sides one colour with bands across x, its top another with
        # bands across z (a table's grain), both with the fine pattern
        m = sid == bid
        up = m & (np.abs(p[:, 1] - tops[bid]) < 1e-3)
        side_band = (np.floor(x / 0.2) % 2).astype(np.float32)
        top_band = (np.floor(z / 0.08) % 2).astype(np.float32)
        sd = m & ~up
        col[sd] = np.asarray(side) - 0.1 * side_band[sd, None] + 0.06 * fine[sd, None]
        col[up] = np.asarray(top) - 0.08 * top_band[up, None] + 0.06 * fine[up, None]
    return np.clip(col, 0, 1).astype(np.float32)


def raycast(
    camera: Camera, extra: tuple = (), colours: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image (h, w, 3) float32, distance (h, w) m (inf = sky), surface id (h, w)).

    extra: more boxes (x0, x1, y0, y1, z0, z1, id) with ids from 3, coloured by
    `colours` {id: (side rgb, top rgb)} (a table, a thing on it)."""
    rays = camera.pixel_rays().reshape(-1, 3)
    o = camera.position.astype(np.float64)
    t, sid = _planes(o, rays, extra)
    p = o + np.where(np.isfinite(t), t, 0)[:, None] * rays
    col = _texture(p, sid, extra, colours)
    h, w = camera.height, camera.width
    return col.reshape(h, w, 3), t.reshape(h, w), sid.reshape(h, w)


def seen_by(camera: Camera, photo_cam: Camera, extra: tuple = ()) -> np.ndarray:
    """(h, w) bool: pixels of `camera` whose surface point the photo camera also sees
    (`extra` boxes as `raycast`)."""
    _, t, sid = raycast(camera, extra)
    rays = camera.pixel_rays().reshape(-1, 3)
    p = camera.position + np.where(np.isfinite(t), t, 0).reshape(-1, 1) * rays
    uv, z = photo_cam.project(p)
    w, h = photo_cam.width, photo_cam.height
    inside = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    d = p - photo_cam.position
    dist = np.linalg.norm(d, axis=1)
    t2, _ = _planes(
        photo_cam.position.astype(np.float64), d / np.maximum(dist, 1e-9)[:, None], extra
    )
    visible = inside & (np.abs(t2 - dist) < 0.02 * dist + 1e-3) & np.isfinite(t.reshape(-1))
    return visible.reshape(camera.height, camera.width)
