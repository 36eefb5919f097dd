"""Flat Gaussian disks ("surfels") on a surface: the splat form every object backend emits."""

from __future__ import annotations

import numpy as np

from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
from scene.rotations import matrices_to_quats


def tangent_frames(normals: np.ndarray) -> np.ndarray:
    """Right-handed frames with the unit normal as third column, (N, 3, 3).

    Column 0 (t1) lies along the surface's steepest direction away from the view axis +Z
    (so stretching along it covers slopes), column 1 (t2) is horizontal in the XY plane.
    """
    n = np.asarray(normals, np.float64)
    n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    t2 = np.cross(n, np.array([0.0, 0.0, 1.0]))
    small = np.linalg.norm(t2, axis=1) < 1e-6
    t2[small] = np.cross(n[small], np.array([1.0, 0.0, 0.0]))
    t2 /= np.linalg.norm(t2, axis=1, keepdims=True)
    t1 = np.cross(t2, n)
    return np.stack([t1, t2, n], axis=2)  # columns


def surfels(
    points: np.ndarray,
    normals: np.ndarray,
    colors: np.ndarray,
    sigma: np.ndarray | float,
    stretch: np.ndarray | float = 1.0,
    thickness: float = 0.2,
    opacity: np.ndarray | float = 0.99,
) -> GaussianCloud:
    """Disks centred at `points` (N, 3) facing `normals` (N, 3), linear RGB `colors` (N, 3).

    `sigma` (N,) or scalar: std-dev across the surface; `stretch` (N,) multiplies it along
    the frame's first tangent; the normal axis gets `thickness * sigma`.
    """
    pts = np.asarray(points, np.float32).reshape(-1, 3)
    n = len(pts)
    if n == 0:
        return GaussianCloud.empty()
    sig = np.broadcast_to(np.asarray(sigma, np.float64), (n,))
    st = np.broadcast_to(np.asarray(stretch, np.float64), (n,))
    scales = np.stack([sig * st, sig, sig * thickness], 1)  # (N, 3) std-devs
    frames = tangent_frames(normals)
    return GaussianCloud(
        means=pts,
        scales=np.log(np.maximum(scales, 1e-9)),
        quats=matrices_to_quats(frames),
        opacities=logit(np.broadcast_to(np.asarray(opacity, np.float32), (n,))),
        sh0=rgb_to_sh0(np.clip(np.asarray(colors, np.float32).reshape(n, 3), 0, 1)),
    )
