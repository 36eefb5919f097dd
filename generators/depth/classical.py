"""A geometric depth prior for panoramas that walks well.

Scene model (camera at eye height h above a flat floor, world +Y up):
  below the horizon: the floor plane y = 0,      d = h / sin(−lat)
  walls: a vertical cylinder of radius R,         d = R / cos(lat)
  above the walls: a dome of radius R_top = 1.5 R (ceilings, tree tops...)
  sky (bright/blue, smooth, connected to the zenith): a far dome at max(30 m, 2.5 R)
Each pixel takes the nearest surface its ray meets (floor vs wall), so the floor ends at
the wall's foot and the world is closed: walking stays on y = 0 inside radius R.
"""

from __future__ import annotations

import math

import numpy as np

from generators.panorama.projection import pano_lonlat
from scene.units import EYE_HEIGHT  # m: re-exported for the depth priors

ROOM_RADIUS = 8.0
SKY_RADIUS = 30.0  # sky dome: far enough for little parallax, near enough to keep the
# viewer's voxel collider fine (its voxel is ~1/160 of the world's size)


def prior_depth(
    height: int,
    *,
    eye_height: float = EYE_HEIGHT,
    radius: float = ROOM_RADIUS,
    sky: np.ndarray | None = None,
    sky_radius: float | None = None,
) -> np.ndarray:
    """Prior distance along each panorama ray, (H, 2H) float32 metres.

    sky_radius defaults to max(SKY_RADIUS, 2.5 × radius) (see `sky_radius_for`).
    """
    sky_radius = sky_radius_for(radius) if sky_radius is None else sky_radius
    if eye_height <= 0 or radius <= 0 or sky_radius <= radius:
        raise ValueError("need eye_height > 0, radius > 0 and sky_radius > radius")
    _, lat = pano_lonlat(height)
    lat = lat[:, None]
    c = np.maximum(np.cos(lat), 1e-6)
    wall = radius / c
    floor = np.where(lat < 0, eye_height / np.maximum(np.sin(-lat), 1e-6), np.inf)
    d = np.minimum(np.minimum(wall, floor), 1.5 * radius)
    d = np.broadcast_to(d, (height, 2 * height)).astype(np.float32)
    if sky is not None:
        d = np.where(sky, np.float32(sky_radius), d)
    return np.ascontiguousarray(d, dtype=np.float32)


def estimate_radius(
    pano: np.ndarray,
    known: np.ndarray | None = None,
    *,
    eye_height: float = EYE_HEIGHT,
    work_height: int = 256,
) -> tuple[float, str]:
    """Wall radius from the photo's ground line, or the default: (metres, 'image'|'default').

    The ground line is the most distinct horizontal edge 3°–35° below the horizon inside
    the photo (e.g. where a building or a launch tower meets the ground); the floor plane
    must reach the walls exactly there, so R = h / tan(−lat). Without a distinct edge
    (ratio to the median edge strength < 3) the default ROOM_RADIUS is kept.
    """
    import cv2

    H = pano.shape[0]
    hs = min(work_height, H)
    img = cv2.resize(np.asarray(pano, np.float32), (2 * hs, hs), interpolation=cv2.INTER_AREA)
    k = (
        np.ones((hs, 2 * hs), bool)
        if known is None
        else cv2.resize(np.asarray(known, np.float32), (2 * hs, hs), interpolation=cv2.INTER_AREA)
        > 0.99
    )
    k = cv2.erode(k.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0  # not the photo's border
    lum = img @ np.array([0.299, 0.587, 0.114], np.float32)
    gy = np.abs(cv2.Sobel(cv2.GaussianBlur(lum, (0, 0), 1.0), cv2.CV_32F, 0, 1, ksize=3))
    _, lat = pano_lonlat(hs)
    width = k.any(0).sum()
    counts = k.sum(1)
    ok = (counts > 0.5 * max(width, 1)) & (lat < np.radians(-3)) & (lat > np.radians(-35))
    rows = np.nonzero(ok)[0]
    if len(rows) < 5:
        return ROOM_RADIUS, "default"
    prof = np.array([gy[r][k[r]].mean() for r in rows])
    best = int(np.argmax(prof))
    if prof[best] < 3.0 * max(float(np.median(prof)), 1e-6):
        return ROOM_RADIUS, "default"
    r = eye_height / math.tan(-float(lat[rows[best]]))
    return float(np.clip(r, 3.0, 15.0)), "image"


def sky_radius_for(radius: float) -> float:
    """Radius of the sky dome for walls at `radius` (beyond the 1.5 R top dome)."""
    return max(SKY_RADIUS, 2.5 * radius)


def detect_sky(pano: np.ndarray, *, min_lat: float = 0.0, work_height: int = 256) -> np.ndarray:
    """Sky mask (H, W) bool: bright or blue, low-texture pixels connected to the zenith.

    Only claims sky when the panorama's top looks like sky at all (an indoor ceiling
    keeps the finite dome). `min_lat` (radians): the lowest latitude sky may reach — the
    walls' foot, since a photo tilted upwards shows sky below the panorama's horizon.
    """
    import cv2

    H, W = pano.shape[:2]
    hs = min(work_height, H)
    small = cv2.resize(np.asarray(pano, np.float32), (2 * hs, hs), interpolation=cv2.INTER_AREA)
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    _, lat = pano_lonlat(hs)
    top = small[lat > np.radians(55)].reshape(-1, 3)
    tc = np.median(top, 0)
    if not (tc[2] > tc[0] + 0.02 or lum[lat > np.radians(55)].mean() > 0.6):
        return np.zeros((H, W), bool)
    gray = cv2.GaussianBlur(lum, (0, 0), 1.0)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    texture = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 1.5)
    # grow down from the zenith while the colour changes smoothly (sky gradients) and
    # the texture stays low; stop at silhouettes (towers, roofs, trees)
    blur = cv2.GaussianBlur(small, (0, 0), 1.0)
    step = np.zeros((hs, 2 * hs), np.float32)
    step[1:] = np.abs(blur[1:] - blur[:-1]).max(-1)
    above = lat[:, None] > min_lat
    skyish = (
        (texture < 0.06 * (hs / 256))
        & (step < 0.035)
        & above
        & (np.linalg.norm(small - tc, axis=-1) < 0.45)
    )
    skyish = cv2.morphologyEx(skyish.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    # sky = smooth regions connected to the zenith (flows around towers and between trees)
    _, labels = cv2.connectedComponents(skyish, connectivity=4)
    top = np.unique(labels[:2][skyish[:2] > 0])
    conn = np.isin(labels, top[top > 0]).astype(np.uint8)
    mask = cv2.resize(conn.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR) > 0.5
    return mask
