"""Depth maps -> consistent point cloud -> 3DGS-style Gaussians.

A pixel survives fusion when its 3D point, projected into neighbour views, agrees with
their depth maps (relative depth difference below `tol`) in at least `min_agree` of them.
Survivors are merged on a voxel grid (colours and normals averaged), then become flat
Gaussian disks: colour from the images, size from neighbour distances (cKDTree), the thin
axis along the local surface normal.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
from scene.rotations import matrices_to_quats

from .dense import DepthView


def backproject(depth: np.ndarray, cam: Camera) -> np.ndarray:
    """(h, w) z-depth -> (h, w, 3) world points (garbage where depth is 0)."""
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    xc = np.stack([(u - cam.cx) / cam.fx * depth, (v - cam.cy) / cam.fy * depth, depth], -1)
    return (xc - cam.t) @ cam.R  # Rᵀ (x - t), row-wise


def depth_normals(pts: np.ndarray, cam: Camera) -> np.ndarray:
    """World normals (h, w, 3) from a back-projected depth map, facing the camera."""
    dx = np.zeros_like(pts)
    dy = np.zeros_like(pts)
    dx[:, 1:-1] = pts[:, 2:] - pts[:, :-2]
    dy[1:-1] = pts[2:] - pts[:-2]
    n = np.cross(dx, dy)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    to_cam = cam.position - pts
    flip = (n * to_cam).sum(-1) < 0
    n[flip] *= -1
    return n


def consistency(views: dict[str, DepthView], neighbours: dict[str, list[str]], tol: float = 0.02
                ) -> dict[str, np.ndarray]:
    """Per view, the number of neighbour depth maps agreeing with each pixel, (h, w) int."""
    out = {}
    for n, v in views.items():
        pts = backproject(v.depth, v.camera).reshape(-1, 3)
        valid = (v.depth > 0).reshape(-1)
        agree = np.zeros(len(pts), np.int32)
        for m in neighbours.get(n, []):
            o = views[m]
            uv, z = o.camera.project(pts)
            x = np.floor(uv[:, 0]).astype(np.int64)
            y = np.floor(uv[:, 1]).astype(np.int64)
            h, w = o.depth.shape
            inside = valid & (z > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
            d = np.zeros(len(pts), np.float32)
            d[inside] = o.depth[y[inside], x[inside]]
            ok = inside & (d > 0) & (np.abs(z - d) < tol * d)
            agree += ok
        out[n] = agree.reshape(v.depth.shape)
    return out


def fuse_points(views: dict[str, DepthView], neighbours: dict[str, list[str]], *, tol: float = 0.02,
                min_agree: int = 1, max_points: int = 400_000,
                report: Callable[[float, str], None] | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fused points (M, 3), colours (M, 3) float 0..1, normals (M, 3) and the voxel size."""
    agree = consistency(views, neighbours, tol)
    P, C, N, F = [], [], [], []
    for i, (n, v) in enumerate(views.items()):
        if report:
            report(0.5 * i / max(len(views), 1), f"fusing {n}")
        need = min(min_agree, len(neighbours.get(n, [])))
        keep = (v.depth > 0) & (agree[n] >= max(need, 1))
        if not keep.any():
            continue
        pts = backproject(v.depth, v.camera)
        nrm = depth_normals(pts, v.camera)
        P.append(pts[keep])
        C.append(v.image[keep].astype(np.float32) / 255.0)
        N.append(nrm[keep])
        F.append(v.depth[keep] / v.camera.fx)  # pixel footprint in world units
    if not P:
        raise ValueError("no depth survived the consistency check: the photos may not overlap "
                         "enough, or the scene has too little texture")
    pts, cols, nrms, foot = (np.concatenate(a) for a in (P, C, N, F))
    # voxel merge: at least the median pixel footprint, larger when over budget
    voxel = float(np.median(foot))
    while True:
        cells = np.floor(pts / voxel).astype(np.int64)
        cells -= cells.min(0)
        dims = cells.max(0) + 1
        keys = (cells[:, 0] * dims[1] + cells[:, 1]) * dims[2] + cells[:, 2]  # one int64 per cell
        _, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
        if len(counts) <= max_points:
            break
        voxel *= 1.3
    inv = inv.reshape(-1)
    m = len(counts)
    def avg(a: np.ndarray) -> np.ndarray:
        out = np.zeros((m, a.shape[1]), np.float64)
        np.add.at(out, inv, a)
        return out / counts[:, None]
    if report:
        report(0.8, f"{m} points")
    p, c, nr = avg(pts), avg(cols), avg(nrms)
    nr /= np.maximum(np.linalg.norm(nr, axis=1, keepdims=True), 1e-12)
    return p.astype(np.float32), c.astype(np.float32), nr.astype(np.float32), voxel


def normal_quats(normals: np.ndarray) -> np.ndarray:
    """Quaternions (wxyz, (N, 4)) whose local z axis is the given unit normal."""
    n = normals.astype(np.float64)
    helper = np.where(np.abs(n[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    a = np.cross(helper, n)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = np.cross(n, a)
    rot = np.stack([a, b, n], axis=2)  # columns: local x, y, z in world
    return matrices_to_quats(rot)


def points_to_gaussians(points: np.ndarray, colors: np.ndarray, normals: np.ndarray,
                        opacity: float = 0.9, flatness: float = 0.15, k: int = 3,
                        size_factor: float = 0.5) -> GaussianCloud:
    """3DGS-style initialisation: scale = mean distance to the `k` nearest neighbours
    (clipped to a robust range) × `size_factor`, flat disks along the normals, SH degree 0.
    A factor of 0.5 keeps neighbouring disks overlapping without blurring each other."""
    from scipy.spatial import cKDTree

    n = len(points)
    if n < 2:
        raise ValueError("too few points to build Gaussians")
    kk = min(k + 1, n)
    d, _ = cKDTree(points).query(points, k=kk)
    dist = d[:, 1:].mean(1)
    med = float(np.median(dist))
    dist = np.clip(dist, 0.3 * med, 3.0 * med) * size_factor
    scales = np.stack([dist, dist, dist * flatness], 1)
    return GaussianCloud(
        means=points, scales=np.log(scales), quats=normal_quats(normals),
        opacities=np.full(n, logit(np.float32(opacity))), sh0=rgb_to_sh0(colors),
        shN=np.zeros((n, 0, 3), np.float32))
