"""Level a tilted equirect panorama from its vertical lines.

Man-made and natural scenes hold many vertical lines (door frames, wall corners, pillars,
tree trunks). In ten 90° views around the sphere, line segments are found (OpenCV's LSD,
von Gioi et al., IEEE TPAMI 2010, else probabilistic Hough on Canny edges); every
near-vertical segment spans a plane through the eye whose normal n is perpendicular to the
true up vector u, so u is the eigenvector of the length-weighted scatter Σ w n nᵀ with the
smallest eigenvalue (the vertical vanishing point of Manhattan-world methods, e.g. Coughlan
& Yuille 1999, here without the horizontal directions). The panorama is then resampled
so u becomes +Y (the smallest rotation: the view's heading is kept).
"""

from __future__ import annotations

import math

import numpy as np

MAX_TILT_DEG = 30.0  # a larger estimate is not trusted
MIN_TILT_DEG = 0.2  # below this the panorama is already level
MIN_SEGMENTS = 20  # fewer (e.g. a landscape's few trunks) is no reliable estimate
MIN_VIEWS = 3  # from at least this many of the 8 headings (else tilt and pitch mix)


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

    from .projection import equirect_to_perspective, perspective_camera

    normals, weights = [], []
    views = 0
    min_len = view_size / 24
    for i in range(8):
        for pitch in (0.0,):
            cam = perspective_camera(
                view_size, view_size, 90.0, yaw=math.radians(45 * i), pitch=pitch
            )
            view = equirect_to_perspective(np.asarray(pano, np.float32), cam)
            gray = (np.clip(view @ np.array([0.299, 0.587, 0.114], np.float32), 0, 1) * 255).astype(
                np.uint8
            )
            seg = segments(gray)
            if not len(seg):
                continue
            dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
            length = np.hypot(dx, dy)
            vert = (np.abs(dx) < np.abs(dy) * math.tan(math.radians(MAX_TILT_DEG))) & (
                length > min_len
            )
            seg, length = seg[vert], length[vert]
            if not len(seg):
                continue
            K = np.linalg.inv(cam.K)
            p1 = np.c_[seg[:, :2] + 0.5, np.ones(len(seg))] @ K.T @ cam.R  # world rays
            p2 = np.c_[seg[:, 2:] + 0.5, np.ones(len(seg))] @ K.T @ cam.R
            n = np.cross(p1, p2)
            n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
            normals.append(n)
            weights.append(length)
            views += 1
    if not normals:
        return np.array([0.0, 1.0, 0.0]), 0
    n = np.concatenate(normals)
    w = np.concatenate(weights)
    if len(n) < MIN_SEGMENTS or views < MIN_VIEWS:
        return np.array([0.0, 1.0, 0.0]), min(len(n), MIN_SEGMENTS - 1)
    up = np.array([0.0, 1.0, 0.0])
    for _ in range(3):  # re-weight: drop segments far from the current estimate (outliers)
        r = np.abs(n @ up)
        keep = r < max(0.08, np.percentile(r, 70))
        M = (n[keep] * w[keep, None]).T @ n[keep]
        vals, vecs = np.linalg.eigh(M)
        up = vecs[:, 0] * np.sign(vecs[1, 0] or 1.0)
    return up, int(len(n))


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
    up, n = estimate_up(pano)
    tilt = math.degrees(math.acos(min(1.0, abs(float(up[1])))))
    info = {"tilt_deg": round(tilt, 2), "segments": n}
    if n < MIN_SEGMENTS:
        info.update(source=f"too few vertical lines ({n}): used as given", applied=False)
        return pano, info
    if tilt > MAX_TILT_DEG:
        info.update(source="estimate beyond 30°: not trusted, used as given", applied=False)
        return pano, info
    if tilt < MIN_TILT_DEG:
        info.update(source=f"vertical lines ({n} segments): already level", applied=False)
        return pano, info
    info.update(source=f"vertical lines ({n} segments)", applied=True)
    return np.clip(rotate_pano(pano, rotation_to_up(up)), 0, 1).astype(np.float32), info
