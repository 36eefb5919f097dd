"""Equirectangular panorama resampling for the generators, on the scene's one mapping.

The mapping between panorama pixels and world rays (and the cube faces) is the scene's
convention and lives in `scene.equirect`; its names are re-exported here because the
panorama generators use them together with this module's resampling (perspective views
of a panorama and back, wrap-aware resizing). Perspective views are `scene.camera.Camera`
objects (OpenCV intrinsics and pose), so the same maths serves photo placement, cube faces
and depth crops; their yaw/pitch basis is `scene.camera.yaw_pitch_rotation`.
"""

from __future__ import annotations

import math

import numpy as np

from scene.camera import Camera
from scene.camera import yaw_pitch_rotation as view_rotation
from scene.equirect import (
    CUBE_FACES,
    dirs_to_lonlat,
    dirs_to_pano_pixels,
    lonlat_to_dirs,
    pano_dirs,
    pano_lonlat,
)

__all__ = [
    "dirs_to_lonlat",
    "dirs_to_pano_pixels",
    "lonlat_to_dirs",
    "pano_dirs",
    "pano_lonlat",
    "view_rotation",
    "perspective_camera",
    "cube_face_cameras",
    "equirect_to_perspective",
    "dirs_to_camera_pixels",
    "perspective_to_equirect",
    "resize_pano",
]


# ------------------------------------------------------------------ cameras
def perspective_camera(
    width: int,
    height: int,
    fov_x_deg: float,
    yaw: float = 0.0,
    pitch: float = 0.0,
    roll: float = 0.0,
    position: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> Camera:
    """Pinhole camera with horizontal FOV `fov_x_deg` (image edges), square pixels."""
    if not 0.5 < fov_x_deg < 179.5:
        raise ValueError(f"field of view must be between 0.5 and 179.5 degrees, got {fov_x_deg}")
    f = 0.5 * width / math.tan(math.radians(fov_x_deg) / 2)
    rot = view_rotation(yaw, pitch, roll)
    pos = np.asarray(position, np.float64)
    return Camera(width, height, f, f, width / 2, height / 2, rot, -rot @ pos)


def cube_face_cameras(face_w: int) -> list[tuple[str, Camera]]:
    """Six 90° views F R B L U D (py360convert's order, `scene.equirect.CUBE_FACES`),
    each face_w × face_w."""
    return [
        (short, perspective_camera(face_w, face_w, 90.0, yaw, pitch))
        for _, short, yaw, pitch in CUBE_FACES
    ]


# ------------------------------------------------------------------ resampling
def _remap(
    img: np.ndarray,
    col: np.ndarray,
    row: np.ndarray,
    interp: int,
    wrap: bool,
    border_value: float = 0.0,
    replicate: bool = False,
) -> np.ndarray:
    """cv2.remap with horizontal wrap-around (panoramas) via a 2-pixel padded copy;
    without wrap, samples beyond the border are `border_value`, or the edge pixels'
    own values with `replicate`."""
    import cv2

    src = np.asarray(img)
    if src.dtype == np.float64:
        src = src.astype(np.float32)
    if wrap:
        # wrap columns; rows beyond the poles: replicate (fine for sampling at ±90°)
        src = np.concatenate([src[:, -2:], src, src[:, :2]], axis=1)
        src = np.concatenate([src[:1], src[:1], src, src[-1:], src[-1:]], axis=0)
        w = img.shape[1]
        col = np.mod(col + 0.5, w) - 0.5 + 2
        row = row + 2
        mode = cv2.BORDER_REPLICATE
    else:
        mode = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
    out = cv2.remap(
        src,
        col.astype(np.float32),
        row.astype(np.float32),
        interp,
        borderMode=mode,
        borderValue=border_value,
    )
    return out


def equirect_to_perspective(pano: np.ndarray, camera: Camera, interp: str = "linear") -> np.ndarray:
    """Render a perspective view of an equirect panorama (H, W[, C]) -> (h, w[, C])."""
    import cv2

    mode = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "cubic": cv2.INTER_CUBIC}[
        interp
    ]
    rays = camera.pixel_rays()
    col, row = dirs_to_pano_pixels(rays, pano.shape[0], pano.shape[1])
    return _remap(pano, col, row, mode, wrap=True)


def dirs_to_camera_pixels(
    dirs: np.ndarray, camera: Camera
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World directions (..., 3) -> camera pixel-index coords (u, v) and in-front mask.

    Integer (u, v) are pixel centres; directions behind the camera get u = v = −1e6.
    """
    pc = np.asarray(dirs, np.float64) @ camera.R.T  # camera frame
    z = pc[..., 2]
    ok = z > 1e-6
    zs = np.where(ok, z, 1.0)
    u = camera.fx * pc[..., 0] / zs + camera.cx - 0.5
    v = camera.fy * pc[..., 1] / zs + camera.cy - 0.5
    return np.where(ok, u, -1e6), np.where(ok, v, -1e6), ok


def perspective_to_equirect(
    image: np.ndarray,
    camera: Camera,
    pano_height: int,
    interp: str = "linear",
    rows: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Place a perspective image (h, w[, C]) seen by `camera` on an equirect panorama.

    Returns (pano (H, 2H[, C]) float32, weight (H, 2H) float32 in 0..1), where weight is
    the fraction of each panorama pixel covered by the image (soft at the edges); the
    pano's values are the image's own wherever weight > 0 (not premultiplied), 0 elsewhere.
    Camera position is ignored (directions only). `rows` (r0, r1): only that band of the
    panorama's rows (the arrays are then (r1 - r0, 2H[, C])).
    """
    import cv2

    mode = {"linear": cv2.INTER_LINEAR, "nearest": cv2.INTER_NEAREST, "cubic": cv2.INTER_CUBIC}[
        interp
    ]
    if rows is None:
        # only the rows the image reaches, a band at a time: all rows at once held ten
        # panorama-sized float arrays (16.5 GB for an 8192-row panorama)
        src = np.asarray(image)
        pano = np.zeros((pano_height, 2 * pano_height, *src.shape[2:]), np.float32)
        weight = np.zeros((pano_height, 2 * pano_height), np.float32)
        r0, r1 = image_rows(camera, pano_height)
        for b in range(r0, r1, BAND_ROWS):
            e = min(b + BAND_ROWS, r1)
            pano[b:e], weight[b:e] = perspective_to_equirect(
                src, camera, pano_height, interp, rows=(b, e)
            )
        return pano, weight
    lon, lat = pano_lonlat(pano_height)
    dirs = lonlat_to_dirs(lon[None, :], lat[rows[0] : rows[1], None])
    u, v, ok = dirs_to_camera_pixels(dirs, camera)
    src = np.asarray(image, np.float32)
    # a pixel half covered by the image has the image's edge value (its weight says how
    # much is covered), not an average with black: blended by weight downstream, a black
    # border sample drew a dark line around every placed photo
    out = _remap(src, u, v, mode, wrap=False, replicate=True)
    h, w = src.shape[:2]
    # coverage: 1 inside, linear ramp over the last half pixel at the border
    cov = np.clip(np.minimum.reduce([u + 1.0, w - u, v + 1.0, h - v]), 0.0, 1.0)
    cov = np.where(ok, cov, 0.0).astype(np.float32)
    if out.ndim == 3:
        out = out * (cov[..., None] > 0)
    else:
        out = out * (cov > 0)
    return out.astype(np.float32), cov


BAND_ROWS = 256  # panorama rows placed at a time by perspective_to_equirect


def image_rows(camera: Camera, pano_height: int) -> tuple[int, int]:
    """The panorama rows [r0, r1) that the image of `camera` can reach: its border's
    latitudes (and a pole its view holds), with a row to spare each side."""
    w, h = camera.width, camera.height
    t = np.linspace(0.0, 1.0, 513)
    z = np.zeros_like(t)
    uv = np.concatenate(
        [
            np.stack([t * w, z], 1),
            np.stack([t * w, z + h], 1),
            np.stack([z, t * h], 1),
            np.stack([z + w, t * h], 1),
        ]
    )
    d = np.stack(
        [(uv[:, 0] - camera.cx) / camera.fx, (uv[:, 1] - camera.cy) / camera.fy, np.ones(len(uv))],
        1,
    ) @ np.asarray(camera.R, np.float64)  # camera -> world: Rᵀ d, row-wise
    _, rows = dirs_to_pano_pixels(d, pano_height)
    r0 = max(0, math.floor(float(rows.min())) - 2)
    r1 = min(pano_height, math.ceil(float(rows.max())) + 3)
    for pole, reach in ((1.0, 0), (-1.0, pano_height)):  # a view holding a pole reaches it
        u, v, ok = dirs_to_camera_pixels(np.array([[0.0, pole, 0.0]]), camera)
        if ok[0] and -0.5 <= u[0] <= w - 0.5 and -0.5 <= v[0] <= h - 0.5:
            r0, r1 = (reach, r1) if pole > 0 else (r0, reach)
    return r0, max(r0, r1)


def resize_pano(pano: np.ndarray, height: int) -> np.ndarray:
    """Resize an equirect panorama to (height, 2·height) with wrap-aware borders."""
    import cv2

    h, w = pano.shape[:2]
    if h == height and w == 2 * height:
        return pano
    pad = max(2, w // 64)
    src = np.concatenate([pano[:, -pad:], pano, pano[:, :pad]], axis=1)
    sx = 2 * height / w
    interp = cv2.INTER_AREA if height < h else cv2.INTER_CUBIC
    big = cv2.resize(src, (round(src.shape[1] * sx), height), interpolation=interp)
    p2 = round(pad * sx)
    out = big[:, p2 : p2 + 2 * height]
    if out.shape[1] != 2 * height:  # rounding: fall back to a plain resize
        out = cv2.resize(pano, (2 * height, height), interpolation=interp)
    return out


def distance_from(region: np.ndarray) -> np.ndarray:
    """(H, W) float32: every pixel's distance, in pixels of the equirect grid (L2 chamfer,
    OpenCV's 5×5 mask), from the nearest pixel of `region` (H, W) bool, wrapped round in
    longitude (a quarter of the width on each side); 0 on the region, inf everywhere when
    it is empty (a photo a few rows tall covers no pixel of a coarse grid). Divide by
    H / 180 for degrees."""
    import cv2

    h, w = region.shape
    if not np.asarray(region, bool).any():  # (OpenCV's "far" is FLT_MAX: x degrees overflowed)
        return np.full((h, w), np.inf, np.float32)
    pad = w // 4
    out = (~np.asarray(region, bool)).astype(np.uint8)
    return cv2.distanceTransform(
        np.concatenate([out[:, -pad:], out, out[:, :pad]], 1), cv2.DIST_L2, 5
    )[:, pad : pad + w]
