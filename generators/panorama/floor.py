"""The photo's ground seen from straight above: inverse perspective mapping onto the floor.

A photo sees the ground at a grazing angle: a few degrees below the horizon one pixel
row spans metres of gravel, and on the panorama's grid (a tenth of a 12-MP photo's
resolution) the ground's grain is gone, leaving only its light and shade: sun flecks and
the edge of a tree's shadow. Texture synthesised from that (Sceaux 100_7100's yard)
came out as blotches 20-30 cm across around the walker, rippled water. Resampled from
the photo itself onto the floor plane at the floor texture's own texel size, the ground
shows what it is made of (gravel, planks, a lawn) at the scale it has on the floor.

Conventions: the panorama's world frame (`scene.equirect`: +Y up, the eye at the
origin), the floor the plane y = −1, lengths in eye heights. Inverse perspective mapping
as in road-scene vision (Mallot et al. 1991, "Inverse perspective mapping simplifies
optical flow computation and obstacle detection").
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from scene.camera import Camera

from .projection import dirs_to_camera_pixels, dirs_to_pano_pixels

log = logging.getLogger(__name__)

#: a floor texel is kept only where the photo's rows are at least this fine along the
#: view: farther off the texels come from stretched rows (blurred along the view)
MIN_ROWS_PER_TEXEL = 0.8
#: the largest floor view, in texels a side (a photo of the ground at the photographer's
#: feet reaches far more of it than a texture window needs)
MAX_TEXELS = 1024


class PlacedPhoto(NamedTuple):
    """A photo as placed on a panorama: rgb (h, w, 3) float32 0..1 at its own resolution,
    its pinhole `camera` in the panorama's frame, optional alpha (h, w) 0..1, its file's
    name (for messages)."""

    rgb: np.ndarray
    camera: Camera
    alpha: np.ndarray | None = None
    name: str = ""


def floor_view(
    rgb: np.ndarray,
    camera: Camera,
    ground: np.ndarray,
    texel: float,
    alpha: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The photo's ground resampled onto the floor plane, seen from above.

    rgb (h, w, 3) float32 0..1: the photo; camera: its pinhole camera in the panorama's
    frame (eye at the origin, `perspective_camera` with the photo's pitch); ground
    (H, 2H) bool: which directions of an equirect grid are ground (the photo's classes);
    texel: the floor texel's size in eye heights; alpha (h, w) optional 0..1 coverage.

    Returns (plane (n, m, 3) float32, valid (n, m) bool), n, m ≤ MAX_TEXELS: row i,
    column j is the floor point (x₀ + (j + ½)·texel, −1, z₀ + (i + ½)·texel) from the
    view's corner (x₀, z₀); valid where that point is ground the photo sees at this
    resolution. Across the view (along the photo's rows) a texel
    spans many photo pixels: the photo is first area-averaged along its rows to about one
    pixel per texel at the ground's median distance; along the view it is kept (a row
    spans a texel or more there only where the view is steep enough,
    `MIN_ROWS_PER_TEXEL`). None when the photo shows no ground at that resolution.
    """
    import cv2

    h, w = rgb.shape[:2]
    if texel <= 0 or not np.isfinite(texel):
        raise ValueError(f"texel must be a positive length, got {texel}")
    gh = ground.shape[0]
    # the floor points of a grid of the photo's pixels, to bound the view and set its scale
    step = max(1, min(h, w) // 256)
    v, u = np.mgrid[0:h:step, 0:w:step].astype(np.float64)
    rays = (
        np.stack(
            [(u + 0.5 - camera.cx) / camera.fx, (v + 0.5 - camera.cy) / camera.fy, np.ones_like(u)],
            -1,
        )
        @ camera.R
    )  # camera frame -> world frame (R is world-to-camera)
    down = rays[..., 1] < -1e-6
    if alpha is not None:
        down &= alpha[::step, ::step][: down.shape[0], : down.shape[1]] > 0.5
    on_ground = down & _lookup(ground, rays, gh)
    if on_ground.sum() < 16:
        return None
    t = -1.0 / np.where(on_ground, rays[..., 1], -1.0)
    x, z = rays[..., 0] * t, rays[..., 2] * t
    dist = np.hypot(x, z)
    # along the view a texel at distance d subtends texel/(1 + d²) radians (the ray's
    # angle below the horizon is atan(1/d)): fy·texel/(1 + d²) of the photo's rows
    rows_per_texel = camera.fy * texel / (1.0 + dist**2)
    fine = on_ground & (rows_per_texel >= MIN_ROWS_PER_TEXEL)
    if fine.sum() < 16:
        return None
    # across the view a texel spans fx·texel/d columns: average them to about one
    across = float(np.median(camera.fx * texel / dist[fine]))
    shrink = max(1.0, across)
    small = (
        rgb
        if shrink <= 1.0
        else cv2.resize(rgb, (max(2, round(w / shrink)), h), interpolation=cv2.INTER_AREA)
    )
    x0, x1 = float(x[fine].min()), float(x[fine].max())
    z0, z1 = float(z[fine].min()), float(z[fine].max())
    m = int(min(MAX_TEXELS, max(1, (x1 - x0) / texel)))
    n = int(min(MAX_TEXELS, max(1, (z1 - z0) / texel)))
    if n < 4 or m < 4:
        return None
    # (a view wider than MAX_TEXELS keeps its nearest part: centred across, nearest along)
    x_lo = 0.5 * (x0 + x1) - 0.5 * m * texel
    z_lo = z0 if abs(z0) < abs(z1) else z1 - n * texel
    xs = x_lo + (np.arange(m) + 0.5) * texel
    zs = z_lo + (np.arange(n) + 0.5) * texel
    X, Z = np.meshgrid(xs, zs)
    dirs = np.stack([X, -np.ones_like(X), Z], -1)
    pu, pv, front = dirs_to_camera_pixels(dirs, camera)
    su = (pu + 0.5) * small.shape[1] / w - 0.5
    plane = cv2.remap(
        np.ascontiguousarray(small, np.float32),
        su.astype(np.float32),
        pv.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    valid = front & (pu >= 0) & (pu <= w - 1) & (pv >= 0) & (pv <= h - 1)
    valid &= _lookup(ground, dirs, gh)
    valid &= camera.fy * texel / (1.0 + X**2 + Z**2) >= MIN_ROWS_PER_TEXEL
    if alpha is not None:
        a = cv2.remap(
            np.ascontiguousarray(alpha, np.float32),
            pu.astype(np.float32),
            pv.astype(np.float32),
            cv2.INTER_LINEAR,
        )
        valid &= a > 0.5
    if not valid.any():
        return None
    log.debug("floor view %dx%d texels, %d valid, rows averaged %.1fx", m, n, valid.sum(), shrink)
    return plane.reshape(n, m, -1), valid


def _lookup(mask: np.ndarray, dirs: np.ndarray, height: int) -> np.ndarray:
    """The equirect bool mask (H, 2H) at world directions (..., 3), nearest pixel."""
    col, row = dirs_to_pano_pixels(dirs, height)
    r = np.clip(np.round(row).astype(np.int64), 0, height - 1)
    c = np.round(col).astype(np.int64) % (2 * height)
    return mask[r, c]
