"""The ground plane under a capture, and depth for the ground pixels stereo leaves empty.

Window stereo fails on the ground right in front of a camera: it is seen by that camera
alone (its neighbours, a baseline away, frame other ground), foreshortened, and often
overexposed gravel or a lawn without texture. Left empty, it renders black (a third of
each photo on Sceaux). Planar priors fill such regions in multi-view stereo (Gallup et
al. 2010 "Piecewise planar and non-planar stereo for urban scene reconstruction"; Xu &
Tao 2019 ACMP, planar prior): here one plane, the ground, found by RANSAC among the 3D
points the depth maps and SfM agree on, with its normal within `max_tilt_deg` of world up
(the cameras held level), below every camera.

A view's empty pixel gets the plane's depth only where its ray meets the plane in front of
the camera within `max_depth_factor` × the view's median depth, and no surface the view
does see nearby (within a window of `window_frac` of the image height) is in front of
that ground point (a window hole in a façade sees the façade around it, closer than the
ground behind, and stays empty), and only where some of the view's own depth nearby lies
on the plane (the view sees ground there: a table's plane is not extended over its edge).
Filled pixels carry score `fill_score` so they stay distinguishable; fusion treats them as
any depth (a neighbour that sees the same ground confirms them, the ground only one camera
sees is kept as unverifiable).

Conventions: COLMAP/OpenCV camera frame (x right, y down, z forward), depth = camera z,
0 = unknown, pixel centres at integer + 0.5.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scene.camera import Camera

log = logging.getLogger(__name__)


@dataclass
class Plane:
    """Plane n·X = d in world coordinates, n unit pointing up (away from the ground)."""

    normal: np.ndarray  # (3,)
    d: float
    inliers: int = 0
    support: float = 0.0  # inlier fraction of the candidate points

    def height(self, pts: np.ndarray) -> np.ndarray:
        """Signed height of points (N, 3) above the plane."""
        return pts @ self.normal - self.d


def fit_ground_plane(
    points: np.ndarray,
    up: np.ndarray,
    cam_centres: np.ndarray,
    *,
    tol: float,
    max_tilt_deg: float = 15.0,
    iters: int = 400,
    min_points: int = 100,
    min_support: float = 0.05,
    seed: int = 0,
    rel_support: float = 0.25,
) -> Plane | None:
    """RANSAC plane among `points` (N, 3) below every camera centre (M, 3), normal within
    `max_tilt_deg` of `up` (unit); inliers within `tol` (world units). Returns the
    hypothesis with the most inliers, or the best one more than 5 `tol` below it with at
    least `rel_support` of its inliers (the floor under a table top or a box), refined by
    least squares on its inliers, or None when it has fewer
    than `min_points` inliers or less than `min_support` of the points below the cameras
    (no clear ground)."""
    up = np.asarray(up, np.float64)
    up = up / np.linalg.norm(up)
    pts = np.asarray(points, np.float64)
    if len(pts) < min_points or len(cam_centres) == 0:
        return None
    below = pts @ up < float(np.min(cam_centres @ up)) - tol
    pts = pts[below]
    if len(pts) < min_points:
        return None
    rng = np.random.default_rng(seed)
    cos_max = np.cos(np.radians(max_tilt_deg))
    hyps: list[tuple[np.ndarray, float, int]] = []
    sample = pts if len(pts) <= 60_000 else pts[rng.choice(len(pts), 60_000, replace=False)]
    for _ in range(iters):
        a, b, c = sample[rng.choice(len(sample), 3, replace=False)]
        n = np.cross(b - a, c - a)
        nn = np.linalg.norm(n)
        if nn < 1e-12:
            continue
        n = n / nn
        if n @ up < 0:
            n = -n
        if n @ up < cos_max:
            continue
        d = float(n @ a)
        hyps.append((n, d, int((np.abs(sample @ n - d) < tol).sum())))
    if not hyps:
        return None
    # the ground is the best-supported plane unless a clearly lower one (more than 5 tol
    # below) has at least `rel_support` of its support: a box top or a table top above
    # the ground can hold more points than the ground
    top_n, top_d, top = max(hyps, key=lambda h: h[2])
    need = max(rel_support * top, min_points * len(sample) / len(pts))

    def height(n: np.ndarray, d: float) -> float:
        return float(np.median(sample[np.abs(sample @ n - d) < tol] @ up))

    h_top = height(top_n, top_d)
    lower = [(n, d, c) for n, d, c in hyps if c >= need and height(n, d) < h_top - 5 * tol]
    best_n, best_d, _ = max(lower, key=lambda h: h[2]) if lower else (top_n, top_d, top)
    inl = pts[np.abs(pts @ best_n - best_d) < tol]
    if len(inl) < min_points or len(inl) < min_support * len(pts):
        return None
    # least-squares refinement: the smallest principal axis of the inliers
    c = inl.mean(0)
    _, _, vt = np.linalg.svd(inl - c, full_matrices=False)
    n = vt[2] if vt[2] @ up > 0 else -vt[2]
    if n @ up < cos_max:
        n = best_n
    plane = Plane(n, float(n @ c), len(inl), len(inl) / len(pts))
    # the cameras must be above it
    if np.any(plane.height(cam_centres) <= 0):
        return None
    return plane


def plane_depth(cam: Camera, plane: Plane, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) camera z at which each pixel's ray meets `plane` (0 where it does not, in
    front of the camera). `cam` at the map's size."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    rays = np.stack([xx, yy, np.ones_like(xx)], -1) @ np.linalg.inv(cam.K).T  # camera frame, z = 1
    n_c = cam.R @ plane.normal  # plane normal in the camera frame
    # camera-frame plane: n_c·X = d - n·C  (C the camera centre)
    d_c = plane.d - float(plane.normal @ cam.position)
    den = rays @ n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        z = d_c / den
    z[~np.isfinite(z) | (z <= 0)] = 0.0
    return z.astype(np.float32)


def fill_ground_depth(
    depth: np.ndarray,
    cam: Camera,
    plane: Plane,
    *,
    inside: np.ndarray | None = None,
    max_depth_factor: float = 3.0,
    window_frac: float = 0.08,
    occlude_tol: float = 0.05,
    speckle_frac: float = 0.0005,
    support_frac: float = 0.2,
    min_support: float = 0.005,
) -> np.ndarray:
    """(h, w) bool: the pixels of `depth` (camera z, 0 = unknown) to give the ground
    plane's depth (see the module docstring): empty ones, small blobs of stereo speckle in
    front of the ground and depth behind it (a mismatch: the ground is opaque), where no
    large surface nearby stands in front and at least `min_support` of the pixels within a
    window of `support_frac` of the height already have depth on the plane (the view sees
    ground there). `inside`: pixels holding photo content (None = all)."""
    import cv2

    h, w = depth.shape
    zp = plane_depth(cam, plane, (h, w))
    known = depth > 0
    if not known.any():
        return np.zeros((h, w), bool)
    med = float(np.median(depth[known]))
    # surfaces standing in front of the ground (closer than the plane at their pixel),
    # without stereo speckle (small connected blobs)
    front = known & ((zp <= 0) | (depth < (1 - occlude_tol) * zp))
    n_lab, lab, stats, _ = cv2.connectedComponentsWithStats(front.astype(np.uint8), connectivity=8)
    big = np.zeros(n_lab, bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= max(4, speckle_frac * h * w)
    obst = front & big[lab]
    # replaced: empty pixels, speckle in front of the ground and depth below the ground
    # (seen through an opaque ground: a mismatch)
    below = known & (zp > 0) & (depth > (1 + occlude_tol) * zp)
    ok = ((~known) | (front & ~obst) | below) & (zp > 0) & (zp < max_depth_factor * med)
    if inside is not None:
        ok &= inside
    od = np.where(obst, depth, np.float32(np.inf)).astype(np.float32)
    k = max(3, int(round(window_frac * h)) | 1)
    near = cv2.erode(
        od, np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=np.inf
    )
    ok &= zp <= (1 + occlude_tol) * near
    # only where the view itself sees ground: depth agreeing with the plane nearby (no
    # plane extended over a table's edge into the empty background)
    agree = known & (zp > 0) & (np.abs(depth - zp) < occlude_tol * zp)
    ks = max(3, int(round(support_frac * h)) | 1)
    dens = cv2.boxFilter(
        agree.astype(np.float32), -1, (ks, ks), normalize=True, borderType=cv2.BORDER_REPLICATE
    )
    ok &= dens >= min_support
    return ok
