"""What is under the cursor: the front-most visible splat or mesh triangle at a pixel,
found through the same camera the renderer draws with (scene.camera.Camera: OpenCV
world-to-camera, pinhole intrinsics). Pure NumPy, no Qt, no GL.

A splat covers a pixel when the pixel lies within its projected footprint, taken as a disc
of radius max(MIN_RADIUS_PX, 2·σ_max·f/z) around its projected centre (2σ: where the
reference rasterizer's Gaussian has fallen to 13 %), and its opacity is at least
MIN_OPACITY. A mesh covers it when the pixel's ray hits one of its triangles
(Möller–Trumbore). The nearest (smallest camera depth) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

MIN_RADIUS_PX = 3.0
MIN_OPACITY = 0.15
NEAR = 0.05


@dataclass
class Pick:
    """A hit: the layer's id, the camera depth z (world units) and the world point."""

    layer_id: int
    depth: float
    point: np.ndarray


def pixel_ray(cam: Camera, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """World (origin, unit direction) through pixel (x, y) of `cam`."""
    d = cam.R.T @ np.array([(x - cam.cx) / cam.fx, (y - cam.cy) / cam.fy, 1.0])
    return cam.position.copy(), d / np.linalg.norm(d)


def splat_hit(cloud: GaussianCloud, transform: np.ndarray, cam: Camera, x: float, y: float
              ) -> tuple[float, int] | None:
    """(camera depth, splat index) of the front-most splat of `cloud` covering pixel (x, y)."""
    if not len(cloud):
        return None
    m = np.asarray(transform, np.float64)
    s = float(abs(np.linalg.det(m[:3, :3])) ** (1 / 3))
    pts = cloud.means.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
    uv, z = cam.project(pts)
    ok = z > NEAR
    sigma = np.exp(cloud.scales.max(axis=1).astype(np.float64)) * s
    radius = np.maximum(MIN_RADIUS_PX, 2.0 * sigma * cam.fy / np.where(ok, z, 1.0))
    d2 = (uv[:, 0] - x) ** 2 + (uv[:, 1] - y) ** 2
    hit = ok & (d2 <= radius ** 2) & (cloud.opacity_values() >= MIN_OPACITY)
    idx = np.flatnonzero(hit)
    if not len(idx):
        return None
    best = idx[np.argmin(z[idx])]
    return float(z[best]), int(best)


def mesh_hit(mesh: Mesh, transform: np.ndarray, origin: np.ndarray, direction: np.ndarray
             ) -> float | None:
    """Ray parameter t (distance along the unit `direction`) of the nearest triangle hit."""
    if not mesh.n_faces:
        return None
    m = np.asarray(transform, np.float64)
    v = mesh.vertices.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
    tri = v[mesh.faces]
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - tri[:, 0]
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v_ = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= 0) & (v_ >= 0) & (u + v_ <= 1) & (t > 1e-6)
    return float(t[hit].min()) if hit.any() else None


def pick(world: Any, cam: Camera, x: float, y: float, exclude: tuple[int, ...] = ()) -> Pick | None:
    """The front-most visible layer at pixel (x, y) of `cam`, or None (nothing there)."""
    origin, direction = pixel_ray(cam, x, y)
    fwd = cam.R[2]
    best: Pick | None = None
    for lay in world.layers:
        if not lay.visible or lay.id in exclude:
            continue
        depth: float | None = None
        if isinstance(lay.data, GaussianCloud):
            h = splat_hit(lay.data, lay.transform, cam, x, y)
            depth = None if h is None else h[0]
        elif isinstance(lay.data, Mesh):
            t = mesh_hit(lay.data, lay.transform, origin, direction)
            depth = None if t is None else t * float(direction @ fwd)
        if depth is not None and (best is None or depth < best.depth):
            point = origin + direction * depth / max(float(direction @ fwd), 1e-9)
            best = Pick(lay.id, depth, point)
    return best
