"""What is under the cursor: the layer whose splat or mesh triangle the viewer sees at a
pixel, found through the same camera and the same splat footprint the renderer draws
(scene.camera.Camera: OpenCV world-to-camera, pinhole intrinsics). Pure NumPy, no Qt, no GL.

Splats are treated as the rasterizer treats them (3DGS, Kerbl et al. 2023; EWA splatting,
Zwicker et al. 2001): each projects to a 2D Gaussian with covariance J·W·Σ·Wᵀ·Jᵀ + 0.3 px²,
its alpha at the pixel is min(0.99, opacity·exp(−½ dᵀΣ₂⁻¹d)), and splats are composited
front to back. The pick is the splat at which the accumulated opacity first reaches
HIT_OPACITY (the surface the user sees), or the nearest mesh triangle hit in front of it
(Möller–Trumbore); the layer it belongs to wins.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh, ray_triangles
from scene.splatting import NEAR_CULL  # the renderer draws nothing nearer

HIT_OPACITY = 0.5  # accumulated opacity that counts as "what you see"
MIN_RADIUS_PX = 1.5  # a splat smaller than this on screen still catches a click this close
LOW_PASS = 0.3  # px² added to the 2D covariance, as every 3DGS viewer does


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


def splat_alphas(
    cloud: GaussianCloud, transform: np.ndarray, cam: Camera, x: float, y: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices, camera depths, alphas at pixel (x, y)) of the splats of `cloud` that reach
    that pixel with alpha ≥ 1/255, through the renderer's EWA footprint."""
    empty = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if not len(cloud):
        return empty
    m = np.asarray(transform, np.float64)
    a3 = m[:3, :3]
    pts, sigma = _world_cache(cloud, m)
    # cheap bound first, in float32: 3σ of the largest axis (the reference rasterizer's
    # box) around the projected centre
    r32 = cam.R.astype(np.float32)
    pc = pts @ r32.T
    pc += cam.t.astype(np.float32)
    z = pc[:, 2]
    ok = z > NEAR_CULL
    zs = np.where(ok, z, np.float32(1.0))
    du = pc[:, 0] / zs
    du *= np.float32(cam.fx)
    du += np.float32(cam.cx - x)
    dv = pc[:, 1] / zs
    dv *= np.float32(cam.fy)
    dv += np.float32(cam.cy - y)
    reach = sigma * np.float32(3.0 * max(cam.fx, cam.fy)) / zs
    reach += np.float32(1.0)
    np.maximum(reach, np.float32(MIN_RADIUS_PX), out=reach)
    cand = np.flatnonzero(ok & (du * du + dv * dv <= reach * reach))
    if not len(cand):
        return empty
    # exact, in float64, for the few candidates
    pc = (cloud.means[cand].astype(np.float64) @ a3.T + m[:3, 3]) @ cam.R.T + cam.t
    u = cam.fx * pc[:, 0] / pc[:, 2] + cam.cx
    v = cam.fy * pc[:, 1] / pc[:, 2] + cam.cy
    sub = cloud.subset(cand)
    cov = a3 @ sub.covariances().astype(np.float64) @ a3.T  # (K, 3, 3) world
    w = cam.R
    cov_c = w @ cov @ w.T
    t = pc
    zc = t[:, 2]
    j = np.zeros((len(cand), 2, 3))
    j[:, 0, 0] = cam.fx / zc
    j[:, 0, 2] = -cam.fx * t[:, 0] / zc**2
    j[:, 1, 1] = cam.fy / zc
    j[:, 1, 2] = -cam.fy * t[:, 1] / zc**2
    c2 = j @ cov_c @ j.transpose(0, 2, 1) + LOW_PASS * np.eye(2)
    det = c2[:, 0, 0] * c2[:, 1, 1] - c2[:, 0, 1] ** 2
    dx = x - u
    dy = y - v
    maha = (c2[:, 1, 1] * dx * dx - 2 * c2[:, 0, 1] * dx * dy + c2[:, 0, 0] * dy * dy) / np.maximum(
        det, 1e-12
    )
    alpha = np.minimum(0.99, sub.opacity_values().astype(np.float64) * np.exp(-0.5 * maha))
    keep = alpha >= 1.0 / 255.0
    return cand[keep], zc[keep], alpha[keep]


_CACHE: dict[tuple, tuple[Any, np.ndarray, np.ndarray]] = {}
_LOCK = threading.Lock()  # the cache is filled from a warm-up thread and the GUI thread


def _world_cache(cloud: GaussianCloud, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) float32 world centres and (N,) float32 largest world σ of a layer, kept for
    the last few (cloud, transform) pairs so repeated clicks do not redo 1M-splat work."""
    key = (id(cloud), len(cloud), m.tobytes())
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None or hit[0]() is not cloud:  # a weak reference: a freed cloud's id may be reused
        a3 = m[:3, :3]
        s = float(abs(np.linalg.det(a3)) ** (1 / 3))
        pts = (cloud.means.astype(np.float64) @ a3.T + m[:3, 3]).astype(np.float32)
        sigma = (np.exp(cloud.scales.max(axis=1).astype(np.float32)) * np.float32(s)).astype(
            np.float32
        )
        with _LOCK:
            while len(_CACHE) >= 4:
                _CACHE.pop(next(iter(_CACHE)))
            hit = _CACHE[key] = (weakref.ref(cloud), pts, sigma)
    return hit[1], hit[2]


def world_points(cloud: GaussianCloud, transform: np.ndarray) -> np.ndarray:
    """(N, 3) float32 world centres of a layer's splats (cached, see `warm`)."""
    return _world_cache(cloud, np.asarray(transform, np.float64))[0]


def warm(world: Any) -> None:
    """Fill the per-layer cache for every visible Gaussian layer (call on a worker thread
    after a world is opened, so the first click is as quick as the next)."""
    for lay in list(world.layers):
        if lay.visible and isinstance(lay.data, GaussianCloud) and len(lay.data):
            _world_cache(lay.data, np.asarray(lay.transform, np.float64))


def splat_hit(
    cloud: GaussianCloud, transform: np.ndarray, cam: Camera, x: float, y: float
) -> tuple[float, int] | None:
    """(camera depth, splat index) of the splat of `cloud` at which the front-to-back
    accumulated opacity at pixel (x, y) reaches HIT_OPACITY, or None."""
    idx, z, alpha = splat_alphas(cloud, transform, cam, x, y)
    hit = _first_opaque(z, alpha)
    return None if hit is None else (float(z[hit]), int(idx[hit]))


def _first_opaque(z: np.ndarray, alpha: np.ndarray) -> int | None:
    """Index (into z/alpha) where front-to-back compositing first reaches HIT_OPACITY."""
    if not len(z):
        return None
    order = np.argsort(z, kind="stable")
    covered = 1.0 - np.cumprod(1.0 - alpha[order])
    k = np.flatnonzero(covered >= HIT_OPACITY)
    return int(order[k[0]]) if len(k) else None


def mesh_hit(
    mesh: Mesh, transform: np.ndarray, origin: np.ndarray, direction: np.ndarray
) -> float | None:
    """Ray parameter t (distance along the unit `direction`) of the nearest triangle hit.
    A reconstruction's photo-camera frusta are hit only where they are drawn
    (`generators.reconstruct.preview.shown_frusta`, for an eye at `origin`): a click in a photo's
    view had selected its own frustum, whose tubes start at the eye and are not drawn."""
    if not mesh.n_faces:
        return None
    m = np.asarray(transform, np.float64)
    v = mesh.vertices.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
    faces = mesh.faces
    from generators.reconstruct.preview import frusta_apexes, shown_frusta

    frusta = frusta_apexes(mesh)
    if frusta is not None:
        shown = shown_frusta(frusta, m, origin)
        faces = faces.reshape(len(shown), -1, 3)[shown].reshape(-1, 3)
        if not len(faces):
            return None
    t = ray_triangles(v[faces], origin, direction, det_eps=1e-12, t_min=1e-6)
    best = float(t.min()) if len(t) else np.inf
    return best if np.isfinite(best) else None


def pick(world: Any, cam: Camera, x: float, y: float, exclude: tuple[int, ...] = ()) -> Pick | None:
    """The visible layer the user sees at pixel (x, y) of `cam`, or None (nothing there).

    Splats of all layers are composited together (a thin object in front of a dense wall
    is picked where it covers the pixel, not where it is merely near it); a mesh hit is
    opaque."""
    origin, direction = pixel_ray(cam, x, y)
    fwd = cam.R[2]
    zs, alphas, owners = [], [], []
    for lay in world.layers:
        if not lay.visible or lay.id in exclude:
            continue
        if isinstance(lay.data, GaussianCloud):
            _, z, a = splat_alphas(lay.data, lay.transform, cam, x, y)
            zs.append(z)
            alphas.append(a)
            owners.append(np.full(len(z), lay.id))
        elif isinstance(lay.data, Mesh):
            t = mesh_hit(lay.data, lay.transform, origin, direction)
            if t is not None:
                zs.append(np.array([t * float(direction @ fwd)]))
                alphas.append(np.array([1.0]))
                owners.append(np.array([lay.id]))
    if not zs:
        return None
    z, a, own = np.concatenate(zs), np.concatenate(alphas), np.concatenate(owners)
    hit = _first_opaque(z, a)
    if hit is None:
        return None
    depth = float(z[hit])
    point = origin + direction * depth / max(float(direction @ fwd), 1e-9)
    return Pick(int(own[hit]), depth, point)
