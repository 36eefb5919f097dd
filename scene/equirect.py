"""The equirectangular convention: the ONE mapping between panorama pixels and world rays.

Panorama (H, W) with W = 2 H. Pixel (col, row) has its centre at
    lon = ((col + 0.5) / W) * 2π − π          (−π .. π, left to right)
    lat = π/2 − ((row + 0.5) / H) * π         (+π/2 top row, −π/2 bottom row)
and looks along the world direction (right-handed, +Y up, metres)
    d(lon, lat) = ( cos(lat)·sin(lon),  sin(lat),  −cos(lat)·cos(lon) )
so longitude 0 on the horizon is −Z (where the viewer's start camera looks at yaw 0,
see `scene.camera.forward_from_yaw_pitch`), longitude +90° is +X (to the right of the
start view), −90° is −X, ±180° is +Z (behind), and latitude +90° is +Y (up).

Cube faces (`CUBE_FACES`) are 90° pinhole views (`scene.camera.yaw_pitch_rotation`) in
py360convert's order F R B L U D: front looks along −Z, right +X, back +Z, left −X, up +Y
(its top edge towards the back), down −Y (its top edge towards the front) — the 'dice'
layout, where up sits above front and down below it.

Everything in Wander that reads or writes panoramas goes through this module: the
panorama generators (`generators.panorama.projection` builds its resampling on it) and
the panorama export (`scene.export.equirect_to_cube`). Pure NumPy.
"""

from __future__ import annotations

import math

import numpy as np

from .camera import yaw_pitch_rotation

#: (name, py360convert letter, yaw, pitch) of the six cube faces, radians
CUBE_FACES: tuple[tuple[str, str, float, float], ...] = (
    ("front", "F", 0.0, 0.0),
    ("right", "R", -math.pi / 2, 0.0),
    ("back", "B", math.pi, 0.0),
    ("left", "L", math.pi / 2, 0.0),
    ("up", "U", 0.0, math.pi / 2),
    ("down", "D", 0.0, -math.pi / 2),
)


# --------------------------------------------------------------- angles <-> pixels
def pano_lonlat(height: int, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Longitude (W,) and latitude (H,) of pixel centres, float64 radians."""
    width = 2 * height if width is None else width
    lon = (np.arange(width) + 0.5) / width * 2 * np.pi - np.pi
    lat = np.pi / 2 - (np.arange(height) + 0.5) / height * np.pi
    return lon, lat


def lonlat_to_dirs(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Unit world directions (..., 3) for broadcastable lon/lat arrays (radians)."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
    c = np.cos(lat)
    return np.stack([c * np.sin(lon), np.sin(lat), -c * np.cos(lon)], -1)


def dirs_to_lonlat(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World directions (..., 3) (any length > 0) -> (lon, lat) radians."""
    d = np.asarray(d, np.float64)
    n = np.linalg.norm(d, axis=-1)
    lon = np.arctan2(d[..., 0], -d[..., 2])
    lat = np.arcsin(np.clip(d[..., 1] / np.maximum(n, 1e-300), -1.0, 1.0))
    return lon, lat


def pano_dirs(height: int, width: int | None = None) -> np.ndarray:
    """Unit world direction of every panorama pixel centre, (H, W, 3) float64."""
    lon, lat = pano_lonlat(height, width)
    return lonlat_to_dirs(lon[None, :], lat[:, None])


def dirs_to_pano_pixels(
    d: np.ndarray, height: int, width: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """World directions (..., 3) -> continuous pixel coords (col, row); integers are centres.

    `col` runs −0.5 .. W − 0.5 (wrap it for sampling), `row` −0.5 .. H − 0.5.
    """
    width = 2 * height if width is None else width
    lon, lat = dirs_to_lonlat(d)
    col = (lon + np.pi) / (2 * np.pi) * width - 0.5
    row = (np.pi / 2 - lat) / np.pi * height - 0.5
    return col, row


# ------------------------------------------------------------------ cube faces
def cube_face_directions(size: int) -> dict[str, np.ndarray]:
    """World-space unit view directions (size, size, 3) float64 of the six `CUBE_FACES`,
    keyed by their names ('front', ...): pixel centres of a 90° square pinhole view."""
    a = (np.arange(size) + 0.5) / size * 2 - 1  # −1..1 across the face
    u, v = np.meshgrid(a, a)  # u right, v down (OpenCV camera frame)
    cam = np.stack([u, v, np.ones_like(u)], -1)
    cam /= np.linalg.norm(cam, axis=-1, keepdims=True)
    # camera -> world: Rᵀ d, written row-wise as d @ R
    return {name: cam @ yaw_pitch_rotation(yaw, pitch) for name, _, yaw, pitch in CUBE_FACES}
