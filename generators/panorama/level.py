"""Level a tilted equirect panorama from its vertical lines.

Man-made and natural scenes hold many vertical lines (door frames, wall corners, pillars,
tree trunks). In eight level 90° views around the sphere, line segments are found (OpenCV's LSD,
von Gioi et al., IEEE TPAMI 2010, else probabilistic Hough on Canny edges); every
near-vertical segment spans a plane through the eye whose normal n is perpendicular to the
true up vector u, so u is the eigenvector of the length-weighted scatter Σ w n nᵀ with the
smallest eigenvalue (the vertical vanishing point of Manhattan-world methods, e.g. Coughlan
& Yuille 1999, here without the horizontal directions). The panorama is then resampled
so u becomes +Y (the smallest rotation: the view's heading is kept) — unless +Y itself
explains the segments about as well (`LEVEL_SUPPORT`): a handful of slanted edges in a
low-resolution landscape can pull the fit to a tilt no camera had.
"""

from __future__ import annotations

import math

import numpy as np

MAX_TILT_DEG = 30.0  # a larger estimate is not trusted
MIN_TILT_DEG = 0.2  # below this the panorama is already level
MIN_SEGMENTS = 20  # fewer (e.g. a landscape's few trunks) is no reliable estimate
MIN_VIEWS = 3  # from at least this many of the 8 headings (else tilt and pitch mix)
INLIER_DEG = 2.0  # a segment whose plane holds a direction to within this supports it
MIN_SUPPORT = 0.2  # the estimate must explain this share of the segments' length (noise: ≤ 0.16)
LEVEL_SUPPORT = 0.7  # level explains this share of what the estimate does: kept level


def segments(gray_u8: np.ndarray) -> np.ndarray:
    """Line segments (N, 4) x1, y1, x2, y2 in pixels."""
    import cv2

    try:
        lsd = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD)
        lines = lsd.detect(gray_u8)[0]
    except (cv2.error, AttributeError):
        lines = None
    if lines is None:
        edges = cv2.Canny(gray_u8, 60, 150)
        lines = cv2.HoughLinesP(
            edges, 1, np.pi / 360, 40, minLineLength=gray_u8.shape[0] // 12, maxLineGap=3
        )
    return (
        np.zeros((0, 4), np.float32) if lines is None else lines.reshape(-1, 4).astype(np.float32)
    )


def estimate_up(pano: np.ndarray, *, view_size: int = 384) -> tuple[np.ndarray, int]:
    """The true up direction (3,) in the panorama's frame and the number of segments used.

    pano (H, 2H, 3) float 0..1. Returns ((0, 1, 0), n < MIN_SEGMENTS) when fewer than
    MIN_SEGMENTS vertical segments, or segments from fewer than MIN_VIEWS headings, are found.
    """
    d = estimate_up_detail(pano, view_size=view_size)
    return d["up"], d["segments"]


def estimate_up_detail(pano: np.ndarray, *, view_size: int = 384) -> dict:
    """`estimate_up` with the evidence: {'up' (3,), 'segments', 'support', 'level_support'}.

    support / level_support: the share of the segments' length that lies on a plane
    through `up` / through +Y to within INLIER_DEG (the segments a vertical direction
    explains). Both are 0 when too few segments were found.
    """
    n, w, views = _vertical_normals(pano, view_size)
    out = {
        "up": np.array([0.0, 1.0, 0.0]),
        "segments": len(n),
        "support": 0.0,
        "level_support": 0.0,
    }
    if len(n) < MIN_SEGMENTS or views < MIN_VIEWS:
        out["segments"] = min(len(n), MIN_SEGMENTS - 1)
        return out
    level = np.array([0.0, 1.0, 0.0])
    up = fit_up(n, w, level, iters=3, keep_pct=70, keep_floor=0.08)
    out.update(up=up, support=line_support(n, w, up), level_support=line_support(n, w, level))
    return out


def near_vertical(seg: np.ndarray, min_len: float, max_lean_deg: float) -> tuple:
    """(segments (M, 4), lengths (M,) px) of `seg` (N, 4) x1, y1, x2, y2 that are longer
    than `min_len` px and lean less than `max_lean_deg` from the image's vertical."""
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    length = np.hypot(dx, dy)
    keep = (np.abs(dx) < np.abs(dy) * math.tan(math.radians(max_lean_deg))) & (length > min_len)
    return seg[keep], length[keep]


def plane_normals(seg: np.ndarray, kinv: np.ndarray, R: np.ndarray | None = None) -> np.ndarray:
    """Unit normals (N, 3) of the planes through the eye that hold each segment (N, 4)
    (pixel centres at +0.5; `kinv` the inverse intrinsics), in the camera frame or, with
    the camera's rotation R (world → camera), in the world frame."""
    p1 = np.c_[seg[:, :2] + 0.5, np.ones(len(seg))] @ kinv.T
    p2 = np.c_[seg[:, 2:] + 0.5, np.ones(len(seg))] @ kinv.T
    if R is not None:
        p1, p2 = p1 @ R, p2 @ R
    n = np.cross(p1, p2)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def fit_up(
    n: np.ndarray,
    w: np.ndarray,
    start: np.ndarray,
    *,
    iters: int,
    keep_pct: float,
    keep_floor: float,
) -> np.ndarray:
    """The direction (3,) the segment planes (unit normals n (N, 3), lengths w (N,)) hold
    best: the smallest-eigenvalue eigenvector of Σ w n nᵀ, refitted `iters` times on the
    segments whose |n · up| is below max(keep_floor, its keep_pct-th percentile) (outliers
    dropped), on the side of `start` (the level up, where the fit also begins)."""
    up = start
    for _ in range(iters):
        r = np.abs(n @ up)
        keep = r < max(keep_floor, np.percentile(r, keep_pct))
        M = (n[keep] * w[keep, None]).T @ n[keep]
        _, vecs = np.linalg.eigh(M)
        up = vecs[:, 0] * (-1.0 if float(vecs[:, 0] @ start) < 0 else 1.0)
    return up


def line_support(n: np.ndarray, w: np.ndarray, up: np.ndarray) -> float:
    """Length share of line segments (their planes through the eye as unit normals n (N, 3),
    lengths w (N,)) whose plane holds the direction `up` (3,) to within INLIER_DEG: the
    share a vertical vanishing point at `up` explains. Real vertical edges give 0.9+;
    branches, fur and noise give 0.06–0.16 (a cat, a low-resolution lake panorama)."""
    return float(w[np.abs(n @ up) < math.sin(math.radians(INLIER_DEG))].sum() / max(w.sum(), 1e-9))


def _vertical_normals(pano: np.ndarray, view_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Near-vertical LSD segments in 8 level 90° views around the panorama, as the unit
    normals (N, 3) of their planes through the eye (world frame), their lengths (N,) in
    px, and the number of views that gave any."""
    from .projection import equirect_to_perspective, perspective_camera

    normals, weights = [], []
    views = 0
    min_len = view_size / 24
    for i in range(8):
        cam = perspective_camera(view_size, view_size, 90.0, yaw=math.radians(45 * i), pitch=0.0)
        view = equirect_to_perspective(np.asarray(pano, np.float32), cam)
        gray = (np.clip(view @ np.array([0.299, 0.587, 0.114], np.float32), 0, 1) * 255).astype(
            np.uint8
        )
        seg = segments(gray)
        if not len(seg):
            continue
        seg, length = near_vertical(seg, min_len, MAX_TILT_DEG)
        if not len(seg):
            continue
        normals.append(plane_normals(seg, np.linalg.inv(cam.K), cam.R))
        weights.append(length)
        views += 1
    if not normals:
        return np.zeros((0, 3)), np.zeros(0), 0
    return np.concatenate(normals), np.concatenate(weights), views


def rotation_to_up(up: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) taking `up` to +Y."""
    u = np.asarray(up, np.float64) / np.linalg.norm(up)
    y = np.array([0.0, 1.0, 0.0])
    v = np.cross(u, y)
    s, c = np.linalg.norm(v), float(u @ y)
    if s < 1e-12:
        return np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx * ((1 - c) / s**2)


def rotate_pano(pano: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Resample an equirect image (H, 2H[, C]) so that direction d becomes R d."""
    import cv2

    from .projection import _remap, dirs_to_pano_pixels, pano_dirs

    H, W = pano.shape[:2]
    d_out = pano_dirs(H, W)
    d_src = d_out @ R  # R^T applied to each row vector
    col, row = dirs_to_pano_pixels(d_src, H, W)
    return _remap(np.asarray(pano, np.float32), col, row, cv2.INTER_LINEAR, wrap=True)


def level_panorama(pano: np.ndarray) -> tuple[np.ndarray, dict]:
    """(levelled panorama, {'tilt_deg', 'segments', 'source', 'applied'})."""
    d = estimate_up_detail(pano)
    up, n = d["up"], d["segments"]
    tilt = math.degrees(math.acos(min(1.0, abs(float(up[1])))))
    info = {"tilt_deg": round(tilt, 2), "segments": n}
    if n < MIN_SEGMENTS:
        info.update(source=f"too few vertical lines, {n}: used as given", applied=False)
        return pano, info
    if tilt > MAX_TILT_DEG:
        info.update(source="estimate beyond 30°: not trusted, used as given", applied=False)
        return pano, info
    if d["support"] < MIN_SUPPORT:
        info.update(
            source=(
                f"vertical lines, {n} segments, do not agree on an up direction (the best "
                f"explains {d['support']:.0%} of their length): used as given"
            ),
            applied=False,
        )
        return pano, info
    if tilt >= MIN_TILT_DEG and d["level_support"] >= LEVEL_SUPPORT * d["support"]:
        # the lines fit level about as well: a few slanted edges (branches, a shoreline's
        # reflections) pulled the fit, not a tilted camera
        info.update(
            source=(
                f"vertical lines, {n} segments, fit level as well as a {tilt:.1f}° tilt "
                f"({d['level_support']:.0%} vs {d['support']:.0%} of their length): used as given"
            ),
            applied=False,
        )
        return pano, info
    if tilt < MIN_TILT_DEG:
        info.update(source=f"vertical lines, {n} segments: already level", applied=False)
        return pano, info
    info.update(source=f"vertical lines, {n} segments", applied=True)
    return np.clip(rotate_pano(pano, rotation_to_up(up)), 0, 1).astype(np.float32), info
