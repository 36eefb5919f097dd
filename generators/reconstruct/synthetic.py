"""Synthetic photo sets with ground truth: a textured room corner with a box, ray-cast
from known cameras. Used by the tests and the benchmark to judge reconstructions
against exact cameras and depth (no hand-tuned data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scene.camera import Camera


@dataclass
class Quad:
    """An axis-aligned textured rectangle: the plane x[axis] = value, bounded in the
    two other axes (u_axis, v_axis) by lo..hi; texture repeats every `tile` units."""

    axis: int
    value: float
    u_axis: int
    v_axis: int
    lo: tuple[float, float]
    hi: tuple[float, float]
    texture: np.ndarray  # (h, w, 3) float32 0..1
    tile: float = 1.5


def _textures() -> list[np.ndarray]:
    """Real photos/textures from scikit-image as float RGB (grey ones tinted)."""
    from skimage import data

    def rgb(img: np.ndarray, tint: tuple[float, float, float] = (1, 1, 1)) -> np.ndarray:
        a = img.astype(np.float32) / 255.0
        if a.ndim == 2:
            a = a[..., None] * np.asarray(tint, np.float32)
        return np.ascontiguousarray(a[..., :3])

    return [
        rgb(data.brick(), (1.0, 0.62, 0.5)),
        rgb(data.grass(), (0.55, 0.9, 0.45)),
        rgb(data.gravel(), (0.85, 0.85, 0.95)),
        rgb(data.astronaut()),
        rgb(data.coffee()),
        rgb(data.chelsea()),
        rgb(data.rocket()),
    ]


def room_scene() -> list[Quad]:
    """Room corner (floor y=0, back wall z=-2, left wall x=-2, right wall x=2.5) + a box."""
    br, gr, gv, ast, cof, cat, roc = _textures()
    q = [
        Quad(1, 0.0, 0, 2, (-2.0, -2.0), (2.5, 3.0), gv, 1.2),  # floor
        Quad(2, -2.0, 0, 1, (-2.0, 0.0), (2.5, 2.6), br, 1.3),  # back wall
        Quad(0, -2.0, 2, 1, (-2.0, 0.0), (3.0, 2.6), gr, 1.4),  # left wall
        Quad(0, 2.5, 2, 1, (-2.0, 0.0), (3.0, 2.6), roc, 2.0),  # right wall
        Quad(1, 2.6, 0, 2, (-2.0, -2.0), (2.5, 3.0), cat, 2.5),  # ceiling
    ]
    # box: x -0.6..0.4, y 0..0.8, z -1.0..-0.2
    x0, x1, y1, z0, z1 = -0.6, 0.4, 0.8, -1.0, -0.2
    q += [
        Quad(1, y1, 0, 2, (x0, z0), (x1, z1), cof, 1.0),  # top
        Quad(2, z1, 0, 1, (x0, 0.0), (x1, y1), ast, 1.0),  # front
        Quad(2, z0, 0, 1, (x0, 0.0), (x1, y1), ast, 1.0),  # back
        Quad(0, x0, 2, 1, (z0, 0.0), (z1, y1), cof, 0.9),  # left
        Quad(0, x1, 2, 1, (z0, 0.0), (z1, y1), cat, 0.9),  # right
    ]
    return q


def _sample(tex: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear, repeating texture lookup at texture coords u, v in [0, 1) (any range)."""
    h, w = tex.shape[:2]
    x = (u % 1.0) * w - 0.5
    y = (1.0 - (v % 1.0)) * h - 0.5
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = (x - x0)[:, None].astype(np.float32)
    fy = (y - y0)[:, None].astype(np.float32)
    x0m, x1m = x0 % w, (x0 + 1) % w
    y0m, y1m = y0 % h, (y0 + 1) % h
    top = tex[y0m, x0m] * (1 - fx) + tex[y0m, x1m] * fx
    bot = tex[y1m, x0m] * (1 - fx) + tex[y1m, x1m] * fx
    return top * (1 - fy) + bot * fy


def render(quads: list[Quad], cam: Camera, supersample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast the quads: (H, W, 3) uint8 image and (H, W) float32 z-depth (0 = miss)."""
    s = max(1, int(supersample))
    c = cam.resized(cam.width * s, cam.height * s)
    h, w = c.height, c.width
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    d_cam = np.stack([(u - c.cx) / c.fx, (v - c.cy) / c.fy, np.ones_like(u)], -1).reshape(-1, 3)
    d = d_cam @ c.R  # (P, 3) world directions with unit camera-z
    o = c.position
    best = np.full(len(d), np.inf)
    which = np.full(len(d), -1)
    for i, q in enumerate(quads):
        dn = d[:, q.axis]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (q.value - o[q.axis]) / dn
        p_u = o[q.u_axis] + t * d[:, q.u_axis]
        p_v = o[q.v_axis] + t * d[:, q.v_axis]
        hit = (
            (t > 1e-6)
            & (t < best)
            & (p_u >= q.lo[0])
            & (p_u <= q.hi[0])
            & (p_v >= q.lo[1])
            & (p_v <= q.hi[1])
        )
        best[hit] = t[hit]
        which[hit] = i
    img = np.zeros((len(d), 3), np.float32)
    for i, q in enumerate(quads):
        m = which == i
        if not m.any():
            continue
        t = best[m]
        pu = o[q.u_axis] + t * d[m, q.u_axis]
        pv = o[q.v_axis] + t * d[m, q.v_axis]
        img[m] = _sample(q.texture, pu / q.tile, pv / q.tile)
    depth = np.where(np.isfinite(best), best, 0.0)  # t is z-depth: camera-z of d is 1
    img = img.reshape(h, w, 3)
    depth = depth.reshape(h, w)
    if s > 1:
        img = img.reshape(h // s, s, w // s, s, 3).mean((1, 3))
        depth = depth.reshape(h // s, s, w // s, s)[:, s // 2, :, s // 2]
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), depth.astype(np.float32)


def orbit_cameras(
    n: int,
    width: int = 480,
    height: int = 360,
    fov_y_deg: float = 55.0,
    seed: int = 0,
    spread_deg: float = 50.0,
) -> list[Camera]:
    """`n` cameras on a jittered arc facing the room corner, like a user walking past."""
    rng = np.random.default_rng(seed)
    cams = []
    target_c = np.array([-0.3, 0.7, -1.0])
    for i in range(n):
        a = math.radians(-spread_deg / 2 + spread_deg * i / max(n - 1, 1))
        r = 2.4 + rng.uniform(-0.15, 0.15)
        eye = target_c + np.array(
            [r * math.sin(a), 0.8 + rng.uniform(-0.15, 0.15), r * math.cos(a)]
        )
        target = target_c + rng.uniform(-0.25, 0.25, 3)
        cam = Camera.look_at(eye, target, fov_y_deg, width, height)
        cam.name = f"view_{i:03d}.png"
        cams.append(cam)
    return cams


def make_photo_set(
    folder, n: int = 10, width: int = 480, height: int = 360, seed: int = 0, supersample: int = 2
) -> tuple[list[Camera], list[np.ndarray], list[np.ndarray]]:
    """Render `n` views into `folder` as PNG; returns (cameras, images, depths)."""
    from pathlib import Path

    import cv2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    quads = room_scene()
    cams = orbit_cameras(n, width, height, seed=seed)
    imgs, depths = [], []
    for cam in cams:
        img, dep = render(quads, cam, supersample)
        cv2.imwrite(str(folder / cam.name), img[..., ::-1])
        imgs.append(img)
        depths.append(dep)
    return cams, imgs, depths
