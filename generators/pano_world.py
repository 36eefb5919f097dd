"""Panorama + depth -> walkable Gaussian world.

Pixel-aligned Gaussians: every panorama pixel (blocks of k pixels near the poles, where
longitude is oversampled by 1/cos(lat)) becomes one flat Gaussian placed along its ray at
its depth, seen from the eye at (0, eye_height, 0). Each Gaussian spans its pixel's
footprint on the surface: its two long axes are the 3D steps to the neighbouring pixels
(so floor splats lie flat on the floor and wall splats on the wall), its third axis is
thin. The start camera at the eye therefore sees exactly the panorama, and the floor
sits at y = 0 under it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from generators.options import GeneratorOptions
from generators.world_options import DEFAULT_PANORAMA_RESOLUTION, DEFAULT_RESOLUTION, WorldOptions
from scene.camera import Camera
from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
from scene.rotations import matrices_to_quats
from scene.units import EYE_HEIGHT
from scene.world import Bookmark, Layer, World, walkable_record

GENERATOR_VERSION = "1"
FOOTPRINT = 0.75  # Gaussian std-dev as a fraction of the pixel spacing (overlap: no holes, no grid)
THICKNESS = 0.12  # normal-axis std-dev as a fraction of the smaller in-surface one
MAX_SLANT = 6.0  # cap on depth change per pixel / lateral pixel size (no rubber sheets)
MAX_RAMP_SLANT = 40.0  # the cap along a sustained slope (`_cap_slant`)
GRAZING_SLANT = 10.0  # photo pixels whose surface recedes faster than this face the eye
RAMP_PX = 9  # a slope held this many pixels is a surface, not an edge
OPACITY = 0.985
SKY_FAR_RATIO = 10.0  # outdoors the sky dome sits this many far radii out
SKY_ON_FLOOR_DEG = 3.0  # photo "sky" this far below the horizon lies on the floor
DOME_BEHIND = 1.04  # the coarse sky dome sits this much beyond the photo's sky splats
SHADE_FADE_DEG = 10.0  # an invented room's shading fades in over this from the photo's edge
#: the walkable radius is this share of the distance of the nearest upright things (their 5th
#: percentile): at half of it (1.63 m in the office world) a step aside tore stair-step
#: holes round the desk and showed the smeared floor behind it (a trial); at a third
#: (1.08 m) the view still holds
WALK_SHARE = 1.0 / 3.0
#: ... at most this far (m) from a photo's camera: farther aside the photo's frame shows
#: against the invented surroundings (the Sceaux world 3 m aside looked like a poster) ...
WALK_MAX_PHOTO = 2.0
WALK_MAX_PANORAMA = 3.0  # ... or from a panorama's (no frame)


def cloud_from_depth(
    image: np.ndarray,
    depth: np.ndarray,
    *,
    eye_height: float = EYE_HEIGHT,
    keep: np.ndarray | None = None,
    thin_poles: bool = True,
    cancel: CancelToken | None = None,
) -> GaussianCloud:
    """Equirect image (H, 2H, 3) 0..1 + ray distance (H, 2H) metres -> GaussianCloud.

    keep (H, 2H) bool: only pixels (blocks) mostly inside it become splats.
    """
    from generators.panorama.projection import pano_lonlat

    image = np.asarray(image, np.float32)
    depth = np.asarray(depth, np.float32)
    H, W = depth.shape
    if image.shape != (H, W, 3) or W != 2 * H:
        raise ValueError(
            f"image {image.shape} and depth {depth.shape} must be (H, 2H, 3) and (H, 2H)"
        )
    if not np.isfinite(depth).all() or float(depth.min()) <= 0:
        raise ValueError("depth must be finite and positive everywhere")
    from generators.pano_layers import edge_aware_step

    _, lat_all = pano_lonlat(H, W)
    # depth change per row, taken on each pixel's own side of a depth edge (no splat
    # bridges two layers), before any grouping
    dd_row = edge_aware_step(depth, 0)
    dlon, dlat = 2 * math.pi / W, math.pi / H
    ks = np.ones(H, int)
    if thin_poles:
        raw = 1.0 / np.maximum(np.cos(lat_all), 1e-6)
        ks = np.maximum(1, 2 ** np.floor(np.log2(raw)).astype(int))
        while np.any(W % ks):
            ks = np.where(W % ks, ks // 2, ks)
    parts: list[tuple[np.ndarray, ...]] = []
    # rows without a kept pixel make no splat (a stitched photos' band of a fine panorama)
    any_kept = np.ones(H, bool) if keep is None else np.asarray(keep).any(axis=1)
    for k in np.unique(ks):
        if cancel:
            cancel.check()
        rows = np.nonzero((ks == k) & any_kept)[0]
        if not len(rows):
            continue
        n = W // k
        # block means along longitude: colour, depth, row-gradient
        col = image[rows].reshape(len(rows), n, k, 3).mean(2)
        d = depth[rows].reshape(len(rows), n, k).mean(2)
        gr = dd_row[rows].reshape(len(rows), n, k).mean(2)
        lon = ((np.arange(n) * k + k / 2.0) / W * 2 * math.pi - math.pi)[None, :]
        lat = lat_all[rows][:, None]
        gc = edge_aware_step(d, 1, wrap=True)  # per block step
        sp = _splats(col, d, gc, gr, lon, lat, dlon * k, dlat, eye_height)
        if keep is not None:
            sel = (keep[rows].reshape(len(rows), n, k).mean(2) >= 0.5).reshape(-1)
            sp = tuple(a[sel] for a in sp)
        parts.append(sp)
    if not parts:
        return GaussianCloud.empty()
    means, axes, scales, colors = (np.concatenate([p[i] for p in parts]) for i in range(4))
    quats = matrices_to_quats(axes)
    n = len(means)
    return GaussianCloud(
        means=means,
        scales=np.log(np.maximum(scales, 1e-7)),
        quats=quats,
        opacities=np.full(n, logit(np.array([OPACITY]))[0], np.float32),
        sh0=rgb_to_sh0(colors),
        shN=np.zeros((n, 0, 3), np.float32),
    )


def surface_frames(
    a1: np.ndarray, a2: np.ndarray, footprint: float
) -> tuple[np.ndarray, np.ndarray]:
    """Flat Gaussians spanning the 3D steps to the neighbouring pixels.

    a1, a2 (..., 3): steps to the next pixel along the two image axes. Returns rotations
    (..., 3, 3) whose columns are the local axes in world (a1's direction, a2 made
    orthogonal to it, their normal) and std-devs (..., 3): `footprint` × the two in-surface
    step lengths, and THICKNESS × the smaller one along the normal.
    """
    n1 = np.linalg.norm(a1, axis=-1, keepdims=True)
    u1 = a1 / np.maximum(n1, 1e-12)
    a2p = a2 - (a2 * u1).sum(-1, keepdims=True) * u1
    n2 = np.linalg.norm(a2p, axis=-1, keepdims=True)
    u2 = a2p / np.maximum(n2, 1e-12)
    s1, s2 = n1[..., 0] * footprint, n2[..., 0] * footprint
    rot = np.stack([u1, u2, np.cross(u1, u2)], -1)
    return rot, np.stack([s1, s2, np.minimum(s1, s2) * THICKNESS], -1)


def _splats(
    col: np.ndarray,
    d: np.ndarray,
    gc: np.ndarray,
    gr: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    step_lon: float,
    step_lat: float,
    eye_height: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Splat centres (N,3), axes as rotation matrices (N,3,3), std-devs (N,3), colours (N,3)."""
    sl, cl = np.sin(lon), np.cos(lon)
    sa, ca = np.sin(lat), np.cos(lat)
    ray = np.stack(np.broadcast_arrays(ca * sl, sa + 0 * lon, -ca * cl), -1)  # (r, n, 3)
    east = np.stack(np.broadcast_arrays(cl + 0 * lat, 0 * lon + 0 * lat, sl + 0 * lat), -1)
    north = np.stack(np.broadcast_arrays(-sa * sl, ca + 0 * lon, sa * cl), -1)
    lat_px = (d * ca * step_lon)[..., None]  # lateral size
    ver_px = (d * step_lat)[..., None]
    gc = np.clip(gc[..., None], -MAX_SLANT * lat_px, MAX_SLANT * lat_px)
    gr = np.clip(gr[..., None], -MAX_SLANT * ver_px, MAX_SLANT * ver_px)
    a1 = lat_px * east + gc * ray  # 3D step to the next block in longitude
    a2 = ver_px * north - gr * ray  # 3D step to the next row (upward)
    rot, scales = surface_frames(a1, a2, FOOTPRINT)
    centre = ray * d[..., None] + np.array([0.0, eye_height, 0.0])
    return (
        centre.reshape(-1, 3).astype(np.float32),
        rot.reshape(-1, 3, 3),
        scales.reshape(-1, 3).astype(np.float32),
        np.clip(col.reshape(-1, 3), 0, 1).astype(np.float32),
    )


#: a 2×2 block of the invented panorama is drawn by one splat of twice the size when its
#: colours vary by less than this (largest channel's std, 0..1) ...
SMOOTH_COLOUR = 0.006
#: ... and its depths by less than this ratio: half a depth edge's (pano_layers.EDGE_RATIO
#: 1.12), so no splat bridges two layers, while a floor's rows near the horizon (several %
#: apart in depth) still merge
SMOOTH_DEPTH = 1.06
#: how many times smooth blocks merge (2: up to 4×4 pixels a splat)
SMOOTH_LEVELS = 2


def invented_splats(
    image: np.ndarray,
    depth: np.ndarray,
    keep: np.ndarray,
    *,
    eye_height: float = EYE_HEIGHT,
    cancel: CancelToken | None = None,
    levels: int = SMOOTH_LEVELS,
    interior: bool = False,
) -> list[GaussianCloud]:
    """The panorama's invented layer (image (H, 2H, 3) 0..1, depth (H, 2H) m, keep (H, 2H)
    bool as `cloud_from_depth` takes them): one splat per pixel where it has detail, one
    per 2×2 block where it is smooth (every pixel kept, colour std < SMOOTH_COLOUR, depth
    ratio < SMOOTH_DEPTH), at the block's mean colour and depth and twice the size — the
    soft outpainted surfaces need no more, and a pixel's worth of splats there cost frame
    time and file size. The coarse grid is split the same way again, `levels` times in
    all (2: blocks up to 4×4); there (`interior`) only blocks whose eight neighbours merge
    too: one Gaussian cannot cover a square by itself, and a lone 4×4 splat among finer
    ones let 5 % of what lies behind show through round it (light square rings in the
    Sceaux world's treeline, the sky 10× farther behind it), where a lattice of them
    overlaps as the finer ones do. Returns the clouds, finest first."""
    H, W = depth.shape
    if H % 2 or levels < 1:
        return [cloud_from_depth(image, depth, eye_height=eye_height, keep=keep, cancel=cancel)]
    img4 = np.asarray(image, np.float32).reshape(H // 2, 2, W // 2, 2, 3)
    d4 = np.asarray(depth, np.float32).reshape(H // 2, 2, W // 2, 2)
    k4 = np.asarray(keep, bool).reshape(H // 2, 2, W // 2, 2)
    smooth = (
        k4.all((1, 3))
        & (img4.std(axis=(1, 3)).max(-1) < SMOOTH_COLOUR)
        & (d4.max((1, 3)) < SMOOTH_DEPTH * d4.min((1, 3)))
    )
    if interior:
        smooth = _interior(smooth)
    if not smooth.any():
        return [cloud_from_depth(image, depth, eye_height=eye_height, keep=keep, cancel=cancel)]
    fine_keep = keep & ~np.repeat(np.repeat(smooth, 2, 0), 2, 1)
    fine = cloud_from_depth(image, depth, eye_height=eye_height, keep=fine_keep, cancel=cancel)
    coarse = invented_splats(
        img4.mean((1, 3)),
        d4.mean((1, 3)),
        smooth,
        eye_height=eye_height,
        cancel=cancel,
        levels=levels - 1,
        interior=True,
    )
    return [fine, *coarse]


def _interior(mask: np.ndarray) -> np.ndarray:
    """mask (h, w) bool where it and its eight neighbours are set (columns wrap round, as
    an equirect's longitude; beyond the first and last rows counts as unset)."""
    m = np.pad(mask, ((1, 1), (0, 0)), constant_values=False)
    m = np.concatenate([m[:, -1:], m, m[:, :1]], axis=1)
    out = np.ones_like(mask)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out &= m[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


MAX_PHOTO_SPLATS = 600_000
PHOTO_FOOTPRINT = 0.5  # photo splats are sharper: the start view keeps the photo's detail
EDGE_RIM = 1.0 + 1e-3  # how far behind the near layer the rim pixels sit (ratio)
EDGE_RATIO_PHOTO = 1.12  # depth ratio between neighbouring panorama pixels that is an edge
PHOTO_SUPERSAMPLE = 1.0  # denser than the photo's pixels only blurs it (front splats win)


def photo_grid(
    photo: np.ndarray,
    fov_x_deg: float,
    alpha: np.ndarray | None,
    pitch_deg: float,
    eye_height: float = 0.0,
) -> tuple[np.ndarray, np.ndarray | None, Camera]:
    """The photo at the resolution its splats are made at (at most MAX_PHOTO_SPLATS
    pixels), its alpha resized alike (or None), and its camera (w × h px, yaw 0,
    `pitch_deg` up, at (0, eye_height, 0)): one splat per pixel (`photo_splats`)."""
    import cv2

    from generators.panorama.projection import perspective_camera

    h, w = photo.shape[:2]
    f = min(PHOTO_SUPERSAMPLE, math.sqrt(MAX_PHOTO_SPLATS / (h * w)))
    if abs(f - 1.0) > 1e-3:
        size = (max(2, round(w * f)), max(2, round(h * f)))
        interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
        photo = np.clip(cv2.resize(photo, size, interpolation=interp), 0, 1)
        alpha = None if alpha is None else cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)
        h, w = photo.shape[:2]
    cam = perspective_camera(
        w, h, fov_x_deg, pitch=math.radians(pitch_deg), position=(0.0, eye_height, 0.0)
    )
    return photo, alpha, cam


def photo_splats(
    photo: np.ndarray,
    fov_x_deg: float,
    depth: np.ndarray,
    sky: np.ndarray,
    *,
    eye_height: float,
    sky_radius: float,
    alpha: np.ndarray | None = None,
    pitch_deg: float = 0.0,
) -> GaussianCloud:
    """Pixel-aligned splats straight from the source photo (its full detail).

    photo (h, w, 3) seen by the start camera (eye, yaw 0, `pitch_deg` up, `fov_x_deg`); each pixel's
    distance comes from the panorama depth (H, 2H) and sky mask along its ray, and its
    Gaussian spans the 3D steps to the neighbouring pixels, as in `cloud_from_depth`.
    """
    import cv2

    from generators.panorama.projection import dirs_to_pano_pixels

    photo, alpha, cam = photo_grid(photo, fov_x_deg, alpha, pitch_deg)
    h, w = photo.shape[:2]
    rays = cam.pixel_rays()  # (h, w, 3)
    col, row = dirs_to_pano_pixels(rays, depth.shape[0], depth.shape[1])
    m = (col.astype(np.float32), row.astype(np.float32))
    # an edge softened over a panorama pixel or two spans several photo pixels: each
    # panorama pixel goes to one side first, so the rules below see one clear step
    dpf = snap_depth_edges(depth, EDGE_RATIO_PHOTO)  # float32
    d = cv2.remap(dpf, *m, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    # across a depth edge, interpolating would put the photo's pixels there at in-between
    # depths: a fan of thin slivers in mid-air when seen from the side. Where the four
    # panorama pixels a photo pixel is interpolated from span an edge, it takes the depth
    # of the nearest of them (one side of the edge or the other).
    ph, pw_ = dpf.shape
    x0 = np.floor(col).astype(np.int64)
    y0 = np.floor(row).astype(np.int64)
    taps = np.stack(
        [dpf[np.clip(y0 + dy, 0, ph - 1), (x0 + dx) % pw_] for dy in (0, 1) for dx in (0, 1)]
    )
    d_near = cv2.remap(dpf, *m, cv2.INTER_NEAREST, borderMode=cv2.BORDER_WRAP)
    d = np.where(taps.max(0) > taps.min(0) * EDGE_RATIO_PHOTO, d_near, d)
    # the panorama's depth steps sideways over two or three pixels at an upright thing's
    # edge (each step below the ratio above): a photo pixel there took an in-between
    # depth, a different one in every row — a comb of slivers (zebra stripes) seen from
    # the side. Across such a step each pixel goes to the nearer or the farther side,
    # whichever its interpolated depth is closer to. Only sideways: the floor's depth
    # changes fast from row to row near the horizon, but not along a row.
    k_row = np.ones((1, 3), np.uint8)
    d_far = cv2.remap(cv2.dilate(dpf, k_row), *m, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    d_close = cv2.remap(cv2.erode(dpf, k_row), *m, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    step = d_far > d_close * EDGE_RATIO_PHOTO
    lg = np.log(np.maximum(d, 1e-6))
    to_far = np.abs(np.log(np.maximum(d_far, 1e-6)) - lg) < np.abs(
        lg - np.log(np.maximum(d_close, 1e-6))
    )
    d = np.where(step, np.where(to_far, d_far, d_close), d)
    # photo pixels a panorama pixel spans
    pano_px = max(1.0, 1.0 / max(float(np.median(np.abs(np.diff(col, axis=1)))), 1e-3))
    # ... and where the rules above interpolated across an edge, within one panorama pixel
    d = snap_depth_edges(d, EDGE_RATIO_PHOTO, max(EDGE_SNAP_PX, math.ceil(pano_px)))
    s = cv2.remap(sky.astype(np.uint8), *m, cv2.INTER_NEAREST, borderMode=cv2.BORDER_WRAP) > 0
    s, d = _sky_at_photo_resolution(photo, s, d, pano_px)
    d = np.where(s, np.float32(sky_radius), d)
    # "sky" below the horizon (a pitch estimate a little off, a dark cloud bank classed as
    # sky) lies on the floor at the latest, as every other ray below the horizon does: at
    # the dome, 85 m under the ground, it left a hole in the ground seen from 1 m higher
    # (from 3° down: nearer the horizon the floor is far off, and grazing discs there
    # blurred the start view)
    down = rays[..., 1] < -math.sin(math.radians(SKY_ON_FLOOR_DEG))
    d = np.where(s & down, np.minimum(d, eye_height / np.maximum(-rays[..., 1], 1e-3)), d)
    # a pixel just beside a nearer layer takes that layer's depth (a 1 px silhouette rim):
    # from the start view the near splats then do not bleed over farther ones, exactly as
    # on a continuous surface; from the side the rim is one pixel of the object's outline
    d = np.minimum(d, cv2.erode(d, np.ones((3, 3), np.uint8)) * EDGE_RIM)
    from generators.pano_layers import edge_aware_step

    # ray steps per pixel and depth steps on each pixel's own side of a depth edge
    dr_x = np.gradient(rays, axis=1)
    dr_y = np.gradient(rays, axis=0)
    dd_x = edge_aware_step(d, 1)
    dd_y = edge_aware_step(d, 0)
    lat_x = np.linalg.norm(dr_x, axis=-1) * d
    lat_y = np.linalg.norm(dr_y, axis=-1) * d
    dd_x = _cap_slant(dd_x, lat_x, 1)[..., None]
    dd_y = _cap_slant(dd_y, lat_y, 0)
    # a surface seen at a grazing angle (the ground more than ~16 m off, less than ~5° below
    # the eye): its photo pixels face the eye instead of lying along it. A disc a pixel wide
    # and metres long nearly along the ray blurred the start view (Sceaux's court, once it
    # was ground all the way to the castle: 27.6 -> 26.8 dB); from anywhere one can walk
    # to, such far pixels are seen nearly along the same ray
    dd_y = np.where(np.abs(dd_y) > GRAZING_SLANT * lat_y, 0.0, dd_y)[..., None]
    a1 = d[..., None] * dr_x + dd_x * rays
    a2 = d[..., None] * dr_y + dd_y * rays
    rot, scales = surface_frames(a1, a2, PHOTO_FOOTPRINT)
    scales = scales.reshape(-1, 3)
    means = (rays * d[..., None] + np.array([0.0, eye_height, 0.0])).reshape(-1, 3)
    rot = rot.reshape(-1, 3, 3)
    keep = np.ones(h * w, bool) if alpha is None else alpha.reshape(-1) > 0.5
    n = int(keep.sum())
    return GaussianCloud(
        means=means[keep].astype(np.float32),
        scales=np.log(np.maximum(scales[keep], 1e-7)),
        quats=matrices_to_quats(rot[keep]),
        opacities=np.full(n, logit(np.array([OPACITY]))[0], np.float32),
        sh0=rgb_to_sh0(np.clip(photo.reshape(-1, 3)[keep], 0, 1)),
        shN=np.zeros((n, 0, 3), np.float32),
    )


EDGE_SNAP_PX = 2  # a pixel this close (at least) to a depth edge goes to one side of it
EDGE_SNAP_TOL = 1.03  # ... unless its depth is within this ratio of one of them
EDGE_SNAP_PLANE = 0.03  # ... or on a plane through its neighbours (share of inverse depth)


def snap_depth_edges(depth: np.ndarray, ratio: float, reach: int = EDGE_SNAP_PX) -> np.ndarray:
    """Depth map (h, w) m in which no pixel lies between the two sides of a depth edge.

    A pixel within `reach` pixels of a nearer and a farther depth that differ by more
    than ratio² takes the side it is closer to in log depth, when it is more than
    EDGE_SNAP_TOL from both and not on a plane through its neighbours (inverse depth is
    affine in the image on a plane: along rows and columns the links of length `reach`
    through the pixel change inverse depth alike, within EDGE_SNAP_PLANE of its own; a
    floor whose depth grows fast towards the horizon keeps its rows). Blurring or
    interpolating a depth map at a diagonal edge (a desk's back edge against the wall)
    leaves one or two such pixels per row; seen from 1 m aside each hangs in the gap
    between the layers (0.4 m in front of a wall 4.4 m off is 1.4° of parallax), a
    scatter of dots over the revealed background. A rod one pixel thin within `reach`
    of an edge goes to one side too. Returns float32.
    """
    import cv2

    d = np.asarray(depth, np.float32)
    k = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    lo = cv2.erode(d, k)
    hi = cv2.dilate(d, k)
    between = (hi > lo * ratio * ratio) & (d > lo * EDGE_SNAP_TOL) & (d * EDGE_SNAP_TOL < hi)
    if not between.any():
        return d
    inv = 1.0 / np.maximum(d, 1e-6)
    r = reach
    p = np.pad(inv, 2 * r, mode="edge")
    h, w = d.shape

    def at(dy: int, dx: int) -> np.ndarray:
        return p[2 * r + dy : 2 * r + dy + h, 2 * r + dx : 2 * r + dx + w]

    tol = EDGE_SNAP_PLANE * inv
    on_plane = np.ones_like(between)
    for dy, dx in ((0, 1), (1, 0)):
        # the slopes of the four links of length `reach` through the pixel along this axis
        s0, s1, s2, s3 = (
            at((k + 1) * dy * r, (k + 1) * dx * r) - at(k * dy * r, k * dx * r)
            for k in (-2, -1, 0, 1)
        )
        on_plane &= (np.abs(s1 - s0) < tol) & (np.abs(s2 - s3) < tol) & (np.abs(s1 - s2) < tol)
    between &= ~on_plane
    ld = np.log(np.maximum(d, 1e-6))
    to_lo = ld - np.log(np.maximum(lo, 1e-6)) <= np.log(np.maximum(hi, 1e-6)) - ld
    return np.where(between, np.where(to_lo, lo, hi), d).astype(np.float32)


THIN_DARK = 0.03  # a sky pixel this much darker than its closing (black-hat) is thin structure
THIN_NOISE = 6.0  # ... and this many times the sky's pixel noise (robust std-dev)
DOME_DARK = 0.03  # darker than the sky around it (black-hat of luminance) by this: no dome colour
SKY_COLOUR_TOL = 0.08  # a "sky" photo pixel this far (max over RGB, 0..1) from its local sky
SKY_REFINE_PANO_PX = 2.5  # ... within this many panorama pixels of an upright thing is that thing


def _sky_at_photo_resolution(
    photo: np.ndarray, sky: np.ndarray, depth: np.ndarray, pano_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """The sky mask refined from the panorama's resolution to the photo's.

    photo (h, w, 3) 0..1, sky (h, w) bool (the panorama's class, nearest-sampled),
    depth (h, w) m, pano_px: photo pixels per panorama pixel. A pixel the coarse mask calls
    sky whose colour is far from the sky around it (SKY_COLOUR_TOL) and that lies within
    SKY_REFINE_PANO_PX panorama pixels of something upright is that thing — a launch
    tower's girders, a tree's twigs: it takes the nearest depth of the upright pixels
    around it instead of the sky's. On the sky dome those pixels were a copy of the thing
    that stayed behind when the walker stepped aside (ghost lattices in the sky).
    Thin dark structure farther from anything upright — the coarse mask lost a whole mast
    (black-hat of the luminance over the same radius, above the sky's own grain) — and the
    narrow upright slivers among it (a pole on a mast) stand on the base they reach down to
    (`_standing_on_base`). Returns (sky (h, w) bool, depth (h, w) float32).
    """
    import cv2

    if not sky.any() or sky.all():
        return sky, depth
    r = max(1, int(round(SKY_REFINE_PANO_PX * pano_px)))
    k = 4 * r + 1
    wt = sky.astype(np.float32)
    local = (
        cv2.blur(photo * wt[..., None], (k, k)) / np.maximum(cv2.blur(wt, (k, k)), 1e-6)[..., None]
    )
    # once more without the pixels that stood out: thin dark girders pull the mean
    close = sky & (np.abs(photo - local).max(-1) < SKY_COLOUR_TOL)
    wt = close.astype(np.float32)
    den = cv2.blur(wt, (k, k))
    local = np.where(
        den[..., None] > 1e-3,
        cv2.blur(photo * wt[..., None], (k, k)) / np.maximum(den, 1e-6)[..., None],
        local,
    )
    odd = sky & (np.abs(photo - local).max(-1) >= SKY_COLOUR_TOL)
    none = np.float32(1e30)
    upright = np.where(sky, none, depth.astype(np.float32))
    near = cv2.erode(upright, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
    move = odd & (near < none)
    sky, depth = sky & ~move, np.where(move, near, depth).astype(np.float32)
    # what stays: thin dark structure the coarse map lost whole (a mast's lattice, a pole's
    # top) stands on whatever upright thing it reaches down to
    lum = photo @ np.array([0.299, 0.587, 0.114], np.float32)
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    # (darker than the photo's own noise in the sky: grain linked the whole sky to a base)
    grain = np.abs(lum - cv2.medianBlur(lum, 3))[sky]
    floor = max(THIN_DARK, THIN_NOISE * 1.4826 * float(np.median(grain)) if grain.size else 0.0)
    dark = sky & (cv2.morphologyEx(lum, cv2.MORPH_BLACKHAT, ker) > floor)
    # ... with the narrow upright things among it (a mast's pole: a run of non-sky less
    # than 2r + 2 pixels wide between sky): the coarse contacts put them at their
    # neighbours' distance, apart from the mast they stand on
    solid = cv2.morphologyEx((~sky).astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 2 * r + 2)))
    narrow = ~sky & (solid == 0)
    return _standing_on_base(sky, depth, dark | narrow, link=r)


def _standing_on_base(
    sky: np.ndarray, depth: np.ndarray, thin: np.ndarray, link: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(sky, depth) with each connected piece of `thin` (h, w) bool — dark structure in the
    sky mask `sky` (h, w) bool and narrow things among it, pieces linked across gaps of up
    to 2·`link` pixels, as a lattice's bars are — that touches something not sky put at the
    depth (h, w) of the lowest such pixel it touches: it stands on it, as a mast on its
    base; so does the sky between its bars (its closing). Pieces touching only sky stay
    sky (a bird)."""
    import cv2
    from scipy import ndimage

    if not thin.any():
        return sky, depth
    linked = cv2.dilate(thin.astype(np.uint8), np.ones((2 * link + 1,) * 2, np.uint8)) > 0
    lab, n = ndimage.label(linked, structure=np.ones((3, 3), int))
    # the pixels next to each piece that are not sky, with the piece's label
    touch = ndimage.grey_dilation(lab, size=(3, 3)) * (~sky & (lab == 0))
    ys, xs = np.nonzero(touch)
    if not len(ys):
        return sky, depth
    labels = touch[ys, xs]
    order = np.lexsort((ys, labels))  # by label, then row: the last of each is the lowest
    last = np.r_[labels[order][1:] != labels[order][:-1], True]
    base = np.zeros(n + 1, np.float32)
    base[labels[order][last]] = depth[ys[order][last], xs[order][last]]
    # the piece and the sky between its bars (its closing, not beyond its outline): left
    # on the dome, that sky kept a faint dark copy of the lattice once the walker moved
    ker = np.ones((2 * link + 1,) * 2, np.uint8)
    whole = thin | (sky & (cv2.morphologyEx(thin.astype(np.uint8), cv2.MORPH_CLOSE, ker) > 0))
    stand = whole & (base[lab] > 0)
    return sky & ~stand, np.where(stand, base[lab], depth).astype(np.float32)


def _cap_slant(dd: np.ndarray, lateral: np.ndarray, axis: int) -> np.ndarray:
    """Depth steps (h, w) capped to MAX_SLANT × the lateral pixel size, except along a
    sustained slope — the same sign over RAMP_PX pixels and a mean at least half the step
    — which keeps up to MAX_RAMP_SLANT: a surface seen at a grazing angle (a backdrop
    curving away, a wall along the view) then stays closed from the side instead of
    falling apart into strips one pixel wide, while a lone steep step stays capped."""
    import cv2

    ksize = (RAMP_PX, 1) if axis == 1 else (1, RAMP_PX)  # (width, height)
    d32 = dd.astype(np.float32)
    window = np.ones(ksize[::-1], np.uint8)  # (rows, cols)
    mean = cv2.blur(d32, ksize, borderType=cv2.BORDER_REPLICATE)
    lo, hi = cv2.erode(d32, window), cv2.dilate(d32, window)
    same_sign = (lo > 0) | (hi < 0)
    sustained = same_sign & (np.abs(mean) >= 0.5 * np.abs(dd))
    cap = np.where(sustained, MAX_RAMP_SLANT, MAX_SLANT) * lateral
    return np.clip(dd, -cap, cap)


def build_splats(
    image: np.ndarray,
    depth: np.ndarray,
    sky: np.ndarray,
    *,
    eye_height: float,
    radius: float,
    detail: tuple[np.ndarray, np.ndarray] | None = None,
    photo: tuple[np.ndarray, float, np.ndarray | None] | None = None,
    photo_region: np.ndarray | None = None,
    background: bool = True,
    sky_radius: float | None = None,
    classes: np.ndarray | None = None,
    far: float | None = None,
    contact: np.ndarray | None = None,
    cancel: CancelToken | None = None,
) -> GaussianCloud:
    """All splats of a panorama world.

    image (H, 2H, 3), depth (H, 2H), sky (H, 2H) bool at the world resolution.
    photo: optional (rgb (h, w, 3), fov_x_deg, alpha or None, pitch_deg) — the source
    photo, turned into its own pixel-aligned splats (`photo_splats`), so the start view
    keeps the photo's full detail; photo_region (H', 2H') bool marks where it covers the
    panorama.
    detail: else optionally (image_hi (h, 2h, 3), photo_hi (h, 2h) bool) — the photo's
    region made from a finer panorama (stitched photos).
    The invented rest stays at the world resolution.
    background: also add the layer hidden behind the near side of vertical depth edges
    (`pano_layers.background_layer`), so walking sideways reveals background; with
    `classes` (H, 2H) it also continues the floor under upright things (out to `far` m,
    and to the backdrop's `contact` (2H,) m per column when given);
    with `photo`, a sheet behind all of the photo's region too (`_backstop`).
    sky_radius: the sky dome's radius (default: `depth.classical.sky_radius_for(radius)`).
    Sky becomes a complete half-resolution dome that also continues behind everything
    above the horizon (coloured by inpainting the sky), so walking sideways never reveals
    holes behind objects seen against the sky; its band just below the horizon keeps the
    panorama's own colours, so the walls' top edge blends into it from elsewhere.
    """
    import cv2

    from generators.depth.classical import prior_depth, sky_radius_for
    from generators.panorama.projection import pano_lonlat, resize_pano

    H = image.shape[0]
    # sky depth replaced by the finite prior so slopes at silhouettes are computed against
    # a neighbour on the same surface
    finite = (
        np.where(sky, prior_depth(H, eye_height=eye_height, radius=radius), depth)
        if sky.any()
        else depth
    )
    parts = []
    hidden = []  # places in parts of the layers hidden from the start view (one run)
    keep = ~sky
    dome_r = max(
        sky_radius or sky_radius_for(radius), float(depth[sky].max()) if sky.any() else 0.0
    )
    if photo is not None and photo_region is not None:
        rgb, fov, alpha, pitch_deg = photo
        parts.append(
            photo_splats(
                rgb,
                fov,
                depth,
                sky,
                eye_height=eye_height,
                sky_radius=dome_r,
                alpha=alpha,
                pitch_deg=float(pitch_deg),
            )
        )
        # the invented layer stops where the photo starts: its coarser splats must not
        # reach over the photo's own (the layers' depths differ at the photo's edges)
        cover = cv2.resize(
            photo_region.astype(np.float32), (2 * H, H), interpolation=cv2.INTER_AREA
        )
        keep = keep & ~(cover > 0.5)
    elif detail is not None:
        img_hi, photo_hi = detail
        h = img_hi.shape[0]
        up = lambda a, interp: cv2.resize(a, (2 * h, h), interpolation=interp)
        sky_hi = up(sky.astype(np.uint8), cv2.INTER_NEAREST) > 0
        finite_hi = up(finite, cv2.INTER_LINEAR)
        parts.append(
            cloud_from_depth(
                img_hi, finite_hi, eye_height=eye_height, keep=photo_hi & ~sky_hi, cancel=cancel
            )
        )
        # the coarse layer leaves the photo's interior to the fine one (edges overlap)
        inner = cv2.erode(photo_hi.astype(np.uint8), np.ones((5, 5), np.uint8))
        inner_lo = (
            cv2.resize(inner.astype(np.float32), (2 * H, H), interpolation=cv2.INTER_AREA) > 0.99
        )
        keep = keep & ~inner_lo
    parts.extend(invented_splats(image, finite, keep, eye_height=eye_height, cancel=cancel))
    if background:
        from generators.pano_layers import background_layer

        bmask, bdepth, bcol = background_layer(
            image, finite, sky, classes, eye_height=eye_height, far=far, contact=contact
        )
        if bmask.any():
            hidden.append(len(parts))
            parts.append(
                cloud_from_depth(
                    bcol,
                    np.where(bmask, bdepth, finite).astype(np.float32),
                    eye_height=eye_height,
                    keep=bmask,
                    cancel=cancel,
                )
            )
        if photo is not None and photo_region is not None:
            hidden.append(len(parts))
            parts.append(
                # (behind the photo's own surfaces: the far side continued behind them
                # (`bdepth`) is the invented far field beside the photo, 40 m off, and a
                # sheet that far back showed its copy of the Sceaux castle's wing beside
                # the wing from a step aside, a ghost)
                _backstop(bcol, finite, sky, photo_region, eye_height)
            )
    if sky.any():
        h2 = max(32, H // 2)
        small = resize_pano(image, h2)
        sky2 = cv2.resize(sky.astype(np.float32), (2 * h2, h2), interpolation=cv2.INTER_AREA) > 0.5
        _, lat = pano_lonlat(h2)
        # down to the floor's level at the dome (never below y = 0: walking is unaffected),
        # or as low as the panorama's sky reaches (a photo looking up more than its
        # estimated pitch shows sky below the horizon: a thing standing against it must
        # not open a hole when seen from the side)
        low = -math.asin(min(1.0, eye_height / dome_r))
        # ... and at least DOME_BELOW_DEG down: from a few metres up (a jump, flying) the
        # eye sees over the far field's top, whose elevation drops by atan(rise / its
        # distance), and between it and a rim at the floor's level the view was black (a
        # dark slab under the sky, 8° tall from 3 m above a panorama's rock). Walking, the
        # floor and the far field hide this band; below the horizon it keeps the
        # panorama's own colours (the far terrain), so a crack between far surfaces shows
        # their colour, not a line of sky
        low = min(low, -math.radians(DOME_BELOW_DEG))
        if sky2.any():
            low = min(low, max(float(lat[np.nonzero(sky2.any(1))[0][-1]]), -math.radians(30)))
        behind = ~sky2 & (lat[:, None] > low)
        # coloured from the sky alone (every non-sky pixel is a hole, so no tree, roof
        # or hill bleeds into the dome it reveals when walking sideways); one pixel around them
        # too, whose colour mixes the thing's in (a launch tower's faint ghost)
        fill = cv2.dilate((~sky2).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        # ... and thin dark structure the class map left in the sky (a mast's lattice the
        # photo's splats stand on its base, `_standing_on_base`): no copy of it on the dome
        lum = small @ np.array([0.299, 0.587, 0.114], np.float32)
        ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        thin = cv2.morphologyEx(lum, cv2.MORPH_BLACKHAT, ker) > DOME_DARK
        fill |= cv2.dilate(thin.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        rim = _photo_rim_band(photo_region, h2) & sky2 if photo_region is not None else None
        if rim is not None:
            # the sky carried on from the photo's edge (`outpaint_classical._photo_rim`) is
            # no thin dark thing: a blue sky darkening to the frame carries on darkening
            # for a degree or two, and cleaned off the dome it left a lighter rim round the
            # photo, its frame drawn as a step in the sky (Sceaux 100_7100's top right)
            fill &= ~rim
        own = small
        if fill.any() and sky2.any():
            u8 = (np.clip(small, 0, 1) * 255 + 0.5).astype(np.uint8)
            small = (
                cv2.inpaint(u8, fill.astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32)
                / 255
            )
            small = _clean_dome(small, sky2 & ~fill, keep=rim)
            small = np.where(((lat[:, None] < 0) & ~sky2)[..., None], own, small)
        parts.append(
            cloud_from_depth(
                small,
                # a little beyond the photo's own sky splats (at dome_r): the coarse dome
                # never blends over them (a launch tower's lattice seen against the sky
                # came out half transparent at the start view)
                np.full((h2, 2 * h2), dome_r * DOME_BEHIND, np.float32),
                eye_height=eye_height,
                keep=sky2 | behind,
                cancel=cancel,
            )
        )
    if photo is not None and photo_region is not None and len(parts) > 1:
        # the photo's splats recoloured so the start view is the photo, not its blur
        from generators.photo_fit import fit_photo_colours

        rgb, fov, alpha, pitch_deg = photo
        grid, g_alpha, cam = photo_grid(rgb, fov, alpha, float(pitch_deg), eye_height)
        keep = np.ones(grid.shape[0] * grid.shape[1], bool)
        if g_alpha is not None:
            keep = g_alpha.reshape(-1) > 0.5
        parts[0] = fit_photo_colours(
            parts[0],
            GaussianCloud.concatenate(parts[1:]),
            grid,
            cam,
            np.nonzero(keep)[0],
            cancel=cancel,
        )
    cloud = GaussianCloud.concatenate(parts)
    count = sum(len(parts[i]) for i in hidden)
    if count:
        # a moving frame's cut leaves these unrefined (viewer/lod.py): they took as much of
        # its budget as the surfaces in front of them
        start = sum(len(p) for p in parts[: hidden[0]])
        cloud.meta["hidden"] = {"start": start, "count": count}
    return cloud


PHOTO_CLEAR_SHARE = 0.01  # a photo this much transparent says so in the world's estimates


def _clear_causes(meta: dict) -> str:
    """Why part of a panorama's photo is transparent, from its record (`meta`, untrusted):
    its own alpha channel, black bands along its edges, the corners levelling it turned
    out of its frame — or "its transparent pixels" when the record does not say. An RGB
    photo levelled by a roll was said to be transparent by "its alpha channel" (a trial)."""
    causes = []
    if meta.get("photo_cut_out") is True:
        causes.append("its alpha channel")
    if isinstance(meta.get("photo_frame"), dict):
        causes.append("the black bands along its edges")
    pitch = meta.get("photo_pitch")
    if isinstance(pitch, dict) and pitch.get("roll_applied") is True:
        roll = pitch.get("roll_deg")
        turn = f" by a {roll:+.1f}° roll" if isinstance(roll, (int, float)) else ""
        causes.append(f"the corners that levelling it{turn} turned out of its frame")
    return ", ".join(causes) if causes else "its transparent pixels"


BACKSTOP_DEG = 15.0  # the backstop's depth: the farthest within this (degrees) round a ray
BACKSTOP_BEHIND = 1.05  # ... times this
BACKSTOP_FAR_POWER = 8.0  # behind a near thing its colour is the far surfaces', the farthest most


def _backstop(
    colour: np.ndarray, depth: np.ndarray, sky: np.ndarray, region: np.ndarray, eye_height: float
) -> GaussianCloud:
    """A sheet behind everything in the photo's part of the panorama: at BACKSTOP_BEHIND ×
    the farthest depth of the photo's own surfaces within BACKSTOP_DEG of each ray (behind
    a thing as wide as that too, and smooth where the layers step), in the background's
    colours. Hidden from the start view, it is what shows through any gap the photo's
    layers open when the walker moves (black before: under the office's typewriter from a
    step forward).
    colour (H, 2H, 3), depth (H, 2H) m (the layers' first surfaces), sky (H, 2H) bool,
    region (H', 2H') bool (the photo's coverage at any size), eye_height m; returns the
    sheet's splats (none when empty)."""
    import cv2
    from scipy.ndimage import maximum_filter

    H, W = depth.shape
    cover = cv2.resize(region.astype(np.float32), (W, H), interpolation=cv2.INTER_AREA) > 0.5
    # (not beside the sky: a sheet splat there stood before the dome where the photo's own
    # edge pixels are part sky, and darkened the start view a little)
    near_sky = cv2.dilate(sky.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    keep = cover & ~near_sky
    if not keep.any():
        return GaussianCloud.empty()
    n = max(1, int(round(BACKSTOP_DEG / 180.0 * H)))
    # (the photo's own depths only, not the invented far field's beside it)
    d = np.where(sky | ~cover, 0.0, depth).astype(np.float32)
    far = maximum_filter(d, size=2 * n + 1, mode="nearest")
    far = cv2.GaussianBlur(far, (0, 0), n / 2)  # a sheet, not steps
    # (sky pixels keep their own positive depth: they are no source of the sheet's depth)
    depth = np.asarray(depth, np.float32)
    sheet = np.maximum(far, depth) * BACKSTOP_BEHIND
    # where the sheet lies well behind a pixel's own surface, that pixel's colour is the
    # near thing's, not what is behind it: the colour of the far surfaces round it instead
    # (weighted towards the farthest: their colour set the sheet's depth). In the near
    # thing's own colours the sheet was its copy far behind it, which a step aside showed
    # beside it (Sceaux 100_7106's corner tower, a ghost)
    behind = sheet > depth * BACKSTOP_BEHIND * EDGE_RATIO_PHOTO
    if behind.any():
        # (along its own row, as what lies behind a thing is what lies beside it
        # (`pano_layers.continue_background`), the sky the farthest of all: behind a
        # tower against the sky the sheet is the sky's colour, behind a person before a
        # wall the wall's)
        ds = np.where(cover, np.where(sky, np.float32(1e4), depth), 0.0).astype(np.float32)
        row_max = maximum_filter(ds, size=(1, 2 * n + 1), mode="wrap")
        wgt = (ds / np.maximum(row_max, 1e-6)) ** BACKSTOP_FAR_POWER
        from generators.panorama.outpaint_classical import _blur_wrap

        sig = max(1.0, n / 2)  # (along rows only)
        num = _blur_wrap(np.asarray(colour, np.float32) * wgt[..., None], sig, 0.0)
        den = _blur_wrap(wgt, sig, 0.0)[..., None]
        far_colour = np.where(den > 1e-6, num / np.maximum(den, 1e-6), colour)
        colour = np.where(behind[..., None], far_colour, colour).astype(np.float32)
    return cloud_from_depth(colour, sheet.astype(np.float32), eye_height=eye_height, keep=keep)


DOME_BELOW_DEG = 15.0  # the sky dome reaches at least this far below the horizon
DOME_SIGMA = 3.0  # dome texels: the scale of the sky colour the dome keeps near things
DOME_TOL = 0.04  # ... and how far (max over RGB, 0..1) a pixel may stray from it


def _photo_rim_band(region: np.ndarray, h: int) -> np.ndarray:
    """(h, 2h) bool: the band just outside the photo's `region` (H', 2H') bool that the
    outpainting makes meet the photo's edge colours (`outpaint_classical.RIM_DEG` wide),
    one texel wider on the (h, 2h) grid for the resampling."""
    import cv2

    from generators.panorama.outpaint_classical import RIM_DEG
    from generators.panorama.projection import distance_from

    reg = cv2.resize(region.astype(np.float32), (2 * h, h), interpolation=cv2.INTER_AREA) > 0.5
    return ~reg & (distance_from(reg) <= RIM_DEG / 180.0 * h + 1.0)


def _clean_dome(
    colour: np.ndarray, clean: np.ndarray, keep: np.ndarray | None = None
) -> np.ndarray:
    """The sky dome's colours (h, 2h, 3) 0..1 with what is not sky taken out.

    A pixel off the `clean` sky (h, 2h) bool, or more than DOME_TOL (max over RGB) from
    the median of its (4·DOME_SIGMA + 1)-texel neighbourhood, takes the local sky colour:
    a Gaussian of DOME_SIGMA texels normalised over the pixels that passed (wrap-around in
    longitude). A tower's lattice the coarse class map half called sky, and the halo that
    downsampling gives a thing, stayed on the dome as a faint copy of it that showed beside
    the thing once the walker stepped aside (a ghost tower); the median, unlike a mean,
    is not pulled towards a lattice up to half its window wide. `keep` (h, 2h) bool: pixels
    that keep their colour whatever it is (the rim carried on from the photo's edge).
    """
    import cv2

    from generators.panorama.outpaint_classical import _blur_wrap

    k = 2 * int(round(2 * DOME_SIGMA)) + 1
    u8 = (np.clip(colour, 0, 1) * 255 + 0.5).astype(np.uint8)
    u8 = np.concatenate([u8[:, -k:], u8, u8[:, :k]], 1)
    med = cv2.medianBlur(u8, k)[:, k:-k].astype(np.float32) / 255
    ok = clean & (np.abs(colour - med).max(-1) <= DOME_TOL)
    if keep is not None:
        ok |= keep & clean
    ok = ok.astype(np.float32)
    num = _blur_wrap(colour * ok[..., None], DOME_SIGMA)
    den = _blur_wrap(ok, DOME_SIGMA)[..., None]
    near = np.where(den > 1e-3, num / np.maximum(den, 1e-6), colour)
    return np.where((ok > 0)[..., None], colour, near).astype(np.float32)


def _away_from(region: np.ndarray, fade_deg: float) -> np.ndarray:
    """(H, 2H) float32 in 0..1: 0 on `region` (H, 2H) bool, rising smoothly to 1 at
    `fade_deg` degrees from it (distance on the equirect grid, wrapped in longitude)."""
    from generators.panorama.projection import distance_from

    dist = distance_from(region)
    t = np.clip(dist / max(fade_deg / 180.0 * region.shape[0], 1e-6), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def scene_layers(
    image: np.ndarray,
    *,
    eye_height: float = EYE_HEIGHT,
    radius: float | None = None,
    classes: np.ndarray | None = None,
    known: np.ndarray | None = None,
    ceiling_height: float | None = None,
    layout: dict | None = None,
) -> tuple[Any, float, dict]:
    """Classical layered geometry of an equirect image (H, 2H, 3): (Layers, radius, estimates).

    layout: the outpainting's layout of the unseen part (`panorama.layout.Layout.as_dict`);
    indoors its box room (half-width eye / floor_tan, ceiling eye + ceiling_tan × that)
    becomes the invented room's geometry, so its painted creases are the geometry's.

    classes: the outpainting's class map (any resolution) or None (classified here);
    known (H, 2H): where the photo is (its ground contacts are trusted, the invented
    rest follows the room radius). radius None: estimated — the median ground-contact
    distance the photo shows, else the photo's strongest ground line
    (`depth.classical.estimate_radius`), else the default; `estimates` says which.
    """
    from generators.depth.classical import estimate_radius, sky_radius_for
    from generators.pano_layers import (
        CONTACT_FAR,
        OUTDOOR_FAR,
        classify_panorama,
        distant_radius,
        far_radius,
        ground_contacts,
        layered_depth,
        radius_from_contacts,
    )
    from generators.panorama.classes import SKY as SKY_CLASS
    from generators.panorama.layout import front_fraction

    H = image.shape[0]
    cls = classify_panorama(image, classes, H, known)
    est: dict[str, dict] = {}
    if radius is None:
        contact, seen = ground_contacts(cls, eye_height, CONTACT_FAR, known)
        if known is not None:
            seen = seen & (known >= 0.5).any(0)
        r = radius_from_contacts(contact, seen)
        photo_cols = (known >= 0.5).any(0) if known is not None else None
        if r is not None:
            radius, src = float(np.clip(r, 1.5, 40.0)), "ground contact of upright things"
        elif (
            photo_cols is not None
            and photo_cols.sum() >= 12
            and (np.median(contact[photo_cols]) < 15.0)
        ):
            # contacts hidden below the photo's lower edge bound the distance: use them
            radius = float(np.clip(np.median(contact[photo_cols]), 1.5, 15.0))
            src = "ground contact of upright things (partly the photo's lower edge)"
        elif (
            photo_cols is not None
            and (cls == SKY_CLASS).any()
            and (distant := distant_radius(contact, photo_cols)) is not None
        ):
            radius, src = distant, "ground contact of distant upright things"
        else:
            radius, src = estimate_radius(image, known, eye_height=eye_height)
            src = (
                "strongest ground line"
                if src == "image"
                else "default: nothing in the photo to measure"
            )
    else:
        src = "option"
    est["radius"] = {"value": round(float(radius), 3), "source": src}
    outdoor = bool((cls == SKY_CLASS).any())
    far = far_radius(float(radius), outdoor)
    far_src = f"2 x radius, within 6-{CONTACT_FAR:g} m"
    if outdoor:
        # (and the sky farther still, SKY_FAR_RATIO: a 2 m step moves a 40 m far field by
        # 3°, a 400 m sky by 0.3°)
        if far == OUTDOOR_FAR:
            far_src = f"outdoors: at least {OUTDOOR_FAR:g} m"
        painted = layout.get("far_field_m") if isinstance(layout, dict) else None
        if (
            src != "option"
            and known is not None
            and isinstance(painted, (int, float))
            and not isinstance(painted, bool)
            and math.isfinite(painted)
        ):
            # where the outpainting drew the far field's foot (`layout._far_field`, the
            # same rule on the photo's own classes): drawn at 40 m and stood at 60 m, the
            # treeline's lowest band lay on the ground
            far = float(np.clip(painted, OUTDOOR_FAR, CONTACT_FAR))
            far_src = "the outpainting's far field, where it drew its foot"
    sky_r = max(sky_radius_for(radius), (SKY_FAR_RATIO if outdoor else 1.3) * far)
    room_r = room_front = None
    if layout and layout.get("indoor") and not outdoor and known is not None:
        room_r = float(np.clip(eye_height / max(layout["floor_tan"], 1e-3), 1.5, 40.0))
        if front_fraction(layout["floor_tan"], layout.get("front_tan")) < 1.0:
            room_front = float(np.clip(eye_height / layout["front_tan"], 1.0, room_r))
            est["room_front"] = {
                "value": round(room_front, 3),
                "source": "the outpainting's room box, from "
                f"{layout.get('sources', {}).get('front', 'the photo')}",
            }
        if ceiling_height is None:
            ceiling_height = float(eye_height + layout["ceiling_tan"] * room_r)
        srcs = layout.get("sources", {})
        est["room_radius"] = {
            "value": round(room_r, 3),
            "source": f"the outpainting's room box, from {srcs.get('floor', 'a default room')}",
        }
    layers = layered_depth(
        cls,
        eye_height=eye_height,
        radius=radius,
        far=far,
        sky_radius=sky_r,
        known=known,
        ceiling_height=ceiling_height,
        image=image,
        room_radius=room_r,
        room_front=room_front,
    )
    est.update(layers.estimates)
    if room_r is not None and "ceiling_height" in est:
        est["ceiling_height"]["source"] = (
            "the outpainting's room box, from "
            f"{layout.get('sources', {}).get('ceiling', 'a default height')}"
        )
    est["far_radius"] = {"value": round(far, 3), "source": far_src}
    est["sky_radius"] = {"value": round(sky_r, 3), "source": "beyond the far field"}
    # where the geometry is real: well inside the nearest upright things around the eye
    photo = known is not None and bool((known < 0.5).any())
    cap = WALK_MAX_PHOTO if photo else WALK_MAX_PANORAMA
    walk_r = float(np.clip(WALK_SHARE * np.percentile(layers.contact, 5), 1.0, min(cap, 0.4 * far)))
    est["walkable_radius"] = {
        "value": round(walk_r, 3),
        "source": "a third of the distance of the nearest upright things, their 5th "
        f"percentile; at most {cap:g} m" + (" from a photo" if photo else ""),
    }
    est["sky_fraction"] = {
        "value": round(float(layers.sky.mean()), 4),
        "source": "classes: the bright or blue smooth region joined to the top",
    }
    return layers, float(radius), est


def estimate_depth(
    image: np.ndarray,
    backend: str = "classical",
    *,
    model: str | Path | None = None,
    eye_height: float = EYE_HEIGHT,
    radius: float = 8.0,
    classes: np.ndarray | None = None,
    known: np.ndarray | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (H, W) metres and sky mask (H, W) for an equirect image, by backend name.

    classical: the layered geometry (`scene_layers`); neural: a depth model aligned to it.
    """
    from generators.depth import BACKENDS

    if backend not in BACKENDS:
        raise ValueError(f"unknown depth backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    progress(0.05, "finding sky, ground and upright structure")
    layers, _, _ = scene_layers(
        image, eye_height=eye_height, radius=radius, classes=classes, known=known
    )
    if backend == "classical":
        return layers.depth, layers.sky
    from generators.depth.neural import neural_pano_depth

    depth = neural_pano_depth(
        image, layers.depth, layers.sky, model=model, progress=progress, cancel=cancel
    )
    return depth, layers.sky


@dataclass
class WorldResult:
    """What `generate_world` made: the world, the panorama it was built from, the timed
    stages (`stages.times`: stage -> seconds) and the options used.

    Unpacks as `world, panorama, stages = result` (the tuple `world_from_photos`
    returned before).
    """

    world: World
    panorama: Any  # generators.panorama.Panorama
    stages: Stages
    options: WorldOptions

    def __iter__(self) -> Iterator[Any]:
        return iter((self.world, self.panorama, self.stages))


def world_from_panorama(
    pano: Any,
    options: WorldOptions | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    stages: Stages | None = None,
) -> World:
    """A `generators.panorama.Panorama` -> World with one 'world' layer and a start bookmark.

    Uses the depth and splat options of `options` (depth_backend, depth_model,
    resolution, eye_height, radius; the panorama options are not used here);
    `resolution`: panorama height used for the splats (default: the panorama's own, at
    most 768); splat count ≈ 1.5 × resolution² (768 → ~0.9 M, 1024 → ~1.5 M). The layer's
    source and the world's meta record the options (`"options"`).
    """
    opts = options or WorldOptions()
    depth_backend, model, resolution = opts.depth_backend, opts.depth_model, opts.resolution
    eye_height, radius = opts.eye_height, opts.radius
    from generators.panorama import check_height
    from generators.panorama.projection import resize_pano

    GeneratorOptions.check(opts)  # ranges and choices (the source is the panorama given)
    cancel = cancel or CancelToken()
    st = stages or Stages(
        progress, [("depth", 1 if depth_backend == "classical" else 8), ("splats", 2)], cancel
    )
    invented = float(pano.known.min()) < 0.5  # a photo placed, the rest outpainted
    default = DEFAULT_RESOLUTION if invented else DEFAULT_PANORAMA_RESOLUTION
    res = check_height(resolution) if resolution else min(pano.height, default)
    image = resize_pano(pano.image, res)
    with st("depth") as report:
        report(0.05, "finding sky, ground and upright structure")
        known = resize_pano(pano.known, res)
        layers, radius, estimates = scene_layers(
            image,
            eye_height=eye_height,
            radius=radius,
            classes=pano.classes,
            known=known if (known < 0.5).any() else None,
            layout=(pano.meta.get("outpaint") or {}).get("layout"),
        )
        radius_source = estimates["radius"]["source"]
        # a panorama file's own rows (a photo's world keeps the photo's pixels anyway)
        rows = int((pano.meta.get("file_size") or [0, 0])[1])
        if resolution:
            estimates["resolution"] = {"value": res, "source": "option"}
        elif rows > res:
            more = min(rows, 2 * res)
            height = f"--height {more} " if more > pano.height else ""
            # a trial asked why 1536 was offered for a 2048-row file: the step is the
            # splat count's (4x); the file's own rows are named with their cost too
            full = f" (all {rows} rows: {(rows / res) ** 2:.1f}x)" if rows > more else ""
            estimates["resolution"] = {
                "value": res,
                "source": f"default: the panorama file's {rows} rows reduced; {height}"
                f"--resolution {more} keeps more detail with {(more / res) ** 2:.1f}x the "
                f"splats{full}",
            }
        outpaint = pano.meta.get("outpaint") or {}
        lay = outpaint.get("layout") or {}
        if not lay.get("indoor", True) and "far_upright" in outpaint:
            # outdoors: what the invented far skyline was painted from
            shape = {
                "treeline": "; shaped as a treeline's crowns",
                "relief": "; shaped as relief, hills or roofs (no foliage in the photo)",
            }.get(lay.get("far_band"), "")
            estimates["far_skyline"] = {
                "value": round(float(lay.get("skyline_deg", 0.0)), 2),
                "source": f"{lay.get('sources', {}).get('skyline', 'layout')}; colour and "
                f"grain from {outpaint['far_upright']}{shape}",
            }
        if isinstance(outpaint.get("ground_grain"), dict):
            estimates["ground_grain"] = dict(outpaint["ground_grain"])
        if pano.photo is not None and "fov_source" in pano.meta:
            from generators.panorama.fov import DEFAULT_FOV_DEG

            estimates["photo_fov"] = {
                "value": round(float(pano.fov_x_deg), 2),
                "source": {
                    "exif": "EXIF focal length",
                    "option": "option",
                    "default": f"the default {DEFAULT_FOV_DEG:g}°: "
                    + str(pano.meta.get("fov_default_reason", "no EXIF focal length")),
                }.get(pano.meta["fov_source"], pano.meta["fov_source"]),
            }
        if pano.photo_alpha is not None:
            clear = float((np.asarray(pano.photo_alpha) < 0.5).mean())
            if clear >= PHOTO_CLEAR_SHARE:
                # a cut-out's transparent part is no photographed surface: it is invented
                # with the rest of the sphere, which a new user took for a wall from nowhere
                estimates["photo_transparent"] = {
                    "value": f"{clear:.0%} of the photo",
                    "source": _clear_causes(pano.meta)
                    + ": invented like the rest of the sphere, not placed",
                }
        # how the panorama was levelled: a photo's pitch, a panorama file's tilt
        for key, angle in (("photo_pitch", "pitch_deg"), ("level", "tilt_deg")):
            if key in pano.meta:
                lv = pano.meta[key]
                estimates[key] = {
                    "value": lv.get(angle),
                    "applied": lv.get("applied"),
                    "source": lv.get("source"),
                }
        depth, sky = layers.depth, layers.sky
        if known is not None and (known < 0.5).any() and "ceiling_height" in estimates:
            # the invented room gets the shading of its own geometry (creases, floor,
            # ceiling) so a turned view reads as a room; the photo is left as it is
            from generators.pano_layers import room_shading

            shade = room_shading(
                depth,
                layers.contact,
                eye_height=eye_height,
                ceiling_height=estimates["ceiling_height"]["value"],
            )
            # ... fading in over SHADE_FADE_DEG from the photo's edge: shaded right at it,
            # the invented floor met the photo's lit planks 14 % darker, a hard step
            w_inv = _away_from(known >= 0.5, SHADE_FADE_DEG)[..., None]
            image = image * (1.0 - w_inv + w_inv * shade[..., None])
        if depth_backend != "classical":
            from generators.depth.neural import neural_pano_depth

            depth = neural_pano_depth(
                image, depth, sky, model=model, progress=report, cancel=cancel
            )
    with st("splats") as report:
        report(0.1, "placing Gaussians")
        detail = photo = None
        hr = min(pano.height, 2 * res)
        region = pano.known >= 0.5
        detail_kind = "none"
        if pano.photo is not None and region.any():
            photo = (pano.photo, pano.fov_x_deg, pano.photo_alpha, pano.photo_pitch_deg)
            detail_kind = "photo"
        elif pano.detail is not None and pano.detail[0].shape[0] > hr and region.any():
            # stitched photos at about their own resolution (`generate_panorama(keep_detail)`)
            detail = (pano.detail[0], pano.detail[1] >= 0.5)
            detail_kind = "stitched photos"
        elif hr > res and region.any() and not region.all():
            detail = (resize_pano(pano.image, hr), resize_pano(pano.known, hr) >= 0.5)
            detail_kind = "panorama"
        cloud = build_splats(
            image,
            depth,
            sky,
            eye_height=eye_height,
            radius=radius,
            detail=detail,
            photo=photo,
            photo_region=region,
            sky_radius=estimates["sky_radius"]["value"],
            classes=layers.classes,
            far=estimates["far_radius"]["value"],
            contact=layers.contact,
            cancel=cancel,
        )
    # where the photo was taken: the Start bookmark, and a world saved as a splat file
    # starts there too; it frames the photo when the rest was invented (a 360° panorama
    # file: no framing, 0)
    start = {
        "position": [0.0, eye_height, 0.0],
        "yaw": 0.0,
        "pitch": math.radians(pano.photo_pitch_deg),
        "fov_y_deg": float(pano.fov_y_deg),
        "fov_x_deg": float(pano.fov_x_deg) if invented else 0.0,
    }
    # where the world holds up (viewer/walk_area.py): in the splat file's provenance too,
    # or a world saved as .ply opened without its ring and fence and filmed a full turn
    # round its invented room where its project sways by the photo (a trial)
    walkable = walkable_record(estimates, invented)
    meta = {
        "generator": "wander.pano_world",
        "version": GENERATOR_VERSION,
        "depth_backend": depth_backend,
        "resolution": res,
        "photo_detail": detail_kind,
        **({"photo_detail_rows": int(detail[0].shape[0])} if detail is not None else {}),
        "eye_height": eye_height,
        "radius": round(float(radius), 3),
        "radius_source": radius_source,
        "sky_fraction": round(float(sky.mean()), 4),
        "estimates": estimates,
        "splats": len(cloud),
        "start": start,
        "walkable": walkable,
        "panorama": pano.meta,
        **({"depth_model": str(model)} if model else {}),
        "options": opts.record(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    cloud.meta.update(meta)
    world = World()
    world.add_layer(Layer(name="World", data=cloud, kind="world", source=meta))
    world.bookmarks.append(
        Bookmark(
            "Start",
            np.array(start["position"]),
            start["yaw"],
            start["pitch"],
            start["fov_y_deg"],
            start["fov_x_deg"],
        )
    )
    world.meta.update(
        {
            "generator": "wander.pano_world",
            "units": "m",
            "eye_height": eye_height,
            "options": opts.record(),
            "floor_y": 0.0,
            "estimates": estimates,
            "walkable": dict(walkable),
            "start": dict(start),
        }
    )
    if invented:
        # the panorama made for this world (the photo placed, the rest outpainted) stays
        # with its project: `export --panorama` and the cube faces come from it
        world.meta["panorama_image"] = (np.clip(pano.image, 0, 1) * 255 + 0.5).astype(np.uint8)
    world.clear_history()
    return world


def generate_world(
    options: WorldOptions, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> WorldResult:
    """Photo(s) or a panorama file -> WorldResult (world, panorama, per-stage times).

    `options` are checked first (`WorldOptions.check`: OptionsError, or ModelMissing when
    a chosen backend's weights are not here), before any work. A panorama file is
    levelled from its vertical lines first when `options.level` (photos are placed on the
    horizon as taken). The world, its layer and its panorama record the options.
    """
    from generators.panorama import generate_panorama, load_panorama

    options.check()
    cancel = cancel or CancelToken()
    pano_w = 1 if options.pano_backend == "classical" else 12
    n = len(options.photos)
    st = Stages(
        progress,
        [
            ("load", 0.5),
            ("place", 0.5 if n <= 1 else 3),
            ("outpaint", pano_w),
            ("depth", 1 if options.depth_backend == "classical" else 8),
            ("splats", 2),
        ],
        cancel,
    )
    if options.panorama is not None:
        with st("load") as report:
            report(0.1, "loading panorama")
            pano = load_panorama(
                options.panorama, height=options.pano_height, level=options.level, progress=report
            )
        with st("place"), st("outpaint"):
            pass
    else:
        pano = generate_panorama(
            options.panorama_options(),
            cancel=cancel,
            stages=st,
            keep_detail=True,
            room_radius=options.radius,
        )
        used = options.used_pano_height()
        if used < options.pano_height:
            pano.meta.setdefault("warnings", []).append(
                f"--height {options.pano_height}: the world's splats use at most {used} "
                f"panorama rows (2 x --resolution), so the panorama was made at {used}; "
                "`panorama --height` makes a bigger image on its own"
            )
    world = world_from_panorama(pano, options, cancel=cancel, stages=st)
    return WorldResult(world, pano, st, options)


def world_from_photos(
    photos: Sequence[str | Path] | None = None,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    **options: Any,
) -> WorldResult:
    """`generate_world(WorldOptions(photos=photos, **options), ...)`: the same job with the
    options as keywords (panorama, fov, pano_backend, ..., radius, level; see
    `WorldOptions`). Unknown keywords raise TypeError."""
    opts = WorldOptions(photos=[Path(p) for p in photos or []], **options)
    return generate_world(opts, progress, cancel)
