"""Similarity transforms: Umeyama alignment and COLMAP-frame -> Wander-frame conversion."""

from __future__ import annotations

import numpy as np

from scene.camera import Camera, level_up_from_rotations


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity with dst ≈ s R src + t; src, dst (N, 3), N >= 3.

    Returns (s, R (3, 3), t (3,)).
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3 or len(src) < 3:
        raise ValueError(f"umeyama needs two (N>=3, 3) arrays; got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    sgn = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sgn[2, 2] = -1
    r = u @ sgn @ vt
    var_s = (xs ** 2).sum() / len(src)
    s = float(np.trace(np.diag(d) @ sgn) / max(var_s, 1e-300))
    t = mu_d - s * r @ mu_s
    return s, r, t


def similarity(s: float, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4×4 matrix of x -> s R x + t."""
    m = np.eye(4)
    m[:3, :3] = s * np.asarray(r)
    m[:3, 3] = t
    return m


def transform_camera(cam: Camera, s: float, r: np.ndarray, t: np.ndarray) -> Camera:
    """The same camera in a frame where world points map x' = s R x + t."""
    r_new = cam.R @ r.T
    c_new = s * r @ cam.position + t
    out = Camera(cam.width, cam.height, cam.fx, cam.fy, cam.cx, cam.cy, r_new, -r_new @ c_new,
                 cam.name, dict(cam.meta))
    return out


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit vector a to unit vector b, (3, 3)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if c < -1 + 1e-9:  # opposite: rotate 180° about any perpendicular axis
        p = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
        p /= np.linalg.norm(p)
        return 2 * np.outer(p, p) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def estimate_up(cams: list[Camera]) -> np.ndarray:
    """World up from cameras held level (see `scene.camera.level_up_from_rotations`)."""
    return level_up_from_rotations([c.R for c in cams])


def wander_frame(cams: list[Camera], points: np.ndarray, target_depth: float = 2.0
                 ) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity from COLMAP's arbitrary frame to Wander's: +Y up (`estimate_up`), scaled so the median camera-to-point distance is `target_depth`, and the
    cameras' centroid at the origin. Returns (s, R, t)."""
    up = estimate_up(cams)
    r = rotation_between(up, np.array([0.0, 1.0, 0.0]))
    # yaw: make the mean viewing direction look along -Z (the viewer's default forward)
    fwd = r @ np.mean([c.forward for c in cams], axis=0)
    fwd[1] = 0.0
    if np.linalg.norm(fwd) > 1e-6:
        fwd /= np.linalg.norm(fwd)
        yaw = np.arctan2(-fwd[0], -fwd[2])
        cy, sy = np.cos(-yaw), np.sin(-yaw)
        r = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ r
    dists = []
    for c in cams:
        _, z = c.project(points) if len(points) else (None, np.zeros(0))
        z = z[z > 0]
        if len(z):
            dists.append(np.median(z))
    med = float(np.median(dists)) if dists else 1.0
    s = target_depth / max(med, 1e-12)
    centre = np.mean([c.position for c in cams], axis=0)
    t = -s * r @ centre
    return s, r, t


def align_cameras(src: list[Camera], dst: list[Camera]) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) taking cameras `src` onto `dst` (same order), fitted on the
    camera centres and on points one scene-size along each camera axis, so both
    positions and orientations constrain it (centres alone leave a near-linear path's
    roll free)."""
    cs = np.array([c.position for c in src])
    cd = np.array([c.position for c in dst])
    ls = max(float(np.linalg.norm(cs - cs.mean(0), axis=1).mean()), 1e-9)
    ld = max(float(np.linalg.norm(cd - cd.mean(0), axis=1).mean()), 1e-9)
    ps, pd = [cs], [cd]
    for k in range(3):
        ps.append(cs + ls * np.array([c.R[k] for c in src]))
        pd.append(cd + ld * np.array([c.R[k] for c in dst]))
    return umeyama(np.concatenate(ps), np.concatenate(pd))


def rotation_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the rotation a bᵀ in degrees."""
    c = (np.trace(np.asarray(a) @ np.asarray(b).T) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def floor_level(points: np.ndarray, normals: np.ndarray, cam_heights: np.ndarray,
                min_fraction: float = 0.03) -> float | None:
    """Height of the floor in a +Y-up frame, or None when there is no clear one.

    The floor is the lowest well-populated height among points on horizontal surfaces
    (|normal·Y| > 0.85) that lie below every camera.
    """
    if len(points) == 0:
        return None
    horiz = np.abs(normals[:, 1]) > 0.85
    below = points[:, 1] < float(np.min(cam_heights))
    y = points[horiz & below, 1]
    if len(y) < max(50, min_fraction * len(points)):
        return None
    span = float(np.min(cam_heights) - np.percentile(y, 1))
    if span <= 0:
        return None
    hist, edges = np.histogram(y, bins=50)
    need = max(min_fraction * len(points) / 5, 0.2 * hist.max())
    for i, hcount in enumerate(hist):
        if hcount >= need:
            w = edges[1] - edges[0]
            sel = y[(y >= edges[i] - 2 * w) & (y <= edges[i + 1] + 2 * w)]
            return float(np.median(sel))
    return None
