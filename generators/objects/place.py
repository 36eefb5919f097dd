"""Placing objects in a World: ray picking against splats and meshes, and the undoable edits.

Everything here is numpy on scene objects (no Qt): the app's keys and menus call these
functions, and every change goes through `World.execute` so Ctrl+Z / Ctrl+Y work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from scene.gaussians import GaussianCloud
from scene.mesh import Mesh, ray_triangles
from scene.rotations import decompose_similarity, quats_to_matrices
from scene.commands import AddLayer, Batch, SetTransform  # noqa: F401 - Batch moved here
from scene.world import Layer, World, similarity_matrix


@dataclass
class Hit:
    """First opaque surface along a ray."""

    point: np.ndarray      # (3,) world
    distance: float        # along the unit ray
    layer_id: int
    normal: np.ndarray     # (3,) world, unit (best guess for splats)


def pick_surface(world: World, origin: np.ndarray, direction: np.ndarray, *,
                 exclude: Iterable[int] = (), min_distance: float = 1e-3,
                 max_distance: float = 1e6) -> Hit | None:
    """The first opaque splat or mesh triangle hit by the ray, over all visible layers."""
    o = np.asarray(origin, np.float64).reshape(3)
    d = np.asarray(direction, np.float64).reshape(3)
    nd = np.linalg.norm(d)
    if not np.isfinite(nd) or nd < 1e-12 or not np.isfinite(o).all():
        raise ValueError("pick ray needs a finite origin and a non-zero direction")
    d = d / nd
    skip = set(exclude)
    best: Hit | None = None
    for lay in world.visible_layers():
        if lay.id in skip:
            continue
        s, r, t = decompose_similarity(lay.transform)
        lo_ = (r.T @ (o - t)) / s   # ray in the layer's own frame
        ld = r.T @ d
        if isinstance(lay.data, GaussianCloud):
            found = _pick_splats(lay.data, lo_, ld)
        elif isinstance(lay.data, Mesh):
            found = _pick_mesh(lay.data, lo_, ld)
        else:
            continue
        if found is None:
            continue
        tl, nl = found
        dist = tl * s
        if not (min_distance <= dist <= max_distance):
            continue
        if best is None or dist < best.distance:
            n = r @ nl
            n /= max(np.linalg.norm(n), 1e-12)
            if n @ d > 0:
                n = -n
            best = Hit(o + dist * d, float(dist), lay.id, n)
    return best


def _pick_splats(cloud: GaussianCloud, o: np.ndarray, d: np.ndarray,
                 threshold: float = 0.5) -> tuple[float, np.ndarray] | None:
    """Depth where accumulated opacity along the ray first reaches `threshold`."""
    if len(cloud) == 0:
        return None
    mu = cloud.means.astype(np.float64)                      # (N, 3)
    sig = np.exp(cloud.scales.astype(np.float64))             # (N, 3)
    rel = mu - o
    tc = rel @ d                                              # (N,) depth of closest approach
    r2 = np.einsum("ij,ij->i", rel, rel) - tc * tc
    reach = 3.0 * sig.max(1)
    cand = np.nonzero((tc > 0) & (r2 < reach * reach))[0]
    if cand.size == 0:
        return None
    rot = quats_to_matrices(cloud.quats[cand])                # (M, 3, 3) columns = axes
    s = sig[cand]
    # In each Gaussian's whitened frame the ray is o_l + t d_l; its peak response is exp(-m/2).
    o_l = np.einsum("mji,mj->mi", rot, o - mu[cand]) / s      # (M, 3)
    d_l = np.einsum("mji,j->mi", rot, d) / s
    dd = np.maximum(np.einsum("ij,ij->i", d_l, d_l), 1e-30)
    od = np.einsum("ij,ij->i", o_l, d_l)
    t_star = -od / dd
    m = np.maximum(np.einsum("ij,ij->i", o_l, o_l) - od * od / dd, 0.0)
    alpha = np.minimum(cloud.opacity_values()[cand].astype(np.float64), 0.99) * np.exp(-0.5 * m)
    keep = (alpha > 1e-3) & (t_star > 0)
    if not keep.any():
        return None
    t_star, alpha, idx = t_star[keep], alpha[keep], cand[keep]
    order = np.argsort(t_star, kind="stable")
    trans = np.cumprod(1.0 - alpha[order])
    reached = np.nonzero(trans <= 1.0 - threshold)[0]
    if reached.size == 0:
        return None
    k = order[reached[0]]
    # Normal guess: the splat's thinnest axis.
    axes = quats_to_matrices(cloud.quats[idx[k]:idx[k] + 1])[0]
    normal = axes[:, int(np.argmin(sig[idx[k]]))]
    return float(t_star[k]), normal


def _pick_mesh(mesh: Mesh, o: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray] | None:
    """Nearest triangle hit (Möller–Trumbore, vectorised over faces)."""
    if mesh.n_faces == 0:
        return None
    tri = mesh.vertices[mesh.faces].astype(np.float64)      # (F, 3, 3)
    t = ray_triangles(tri, o, d, det_eps=1e-14, t_min=0.0)
    i = int(np.argmin(t))
    if not np.isfinite(t[i]):
        return None
    n = np.cross(tri[i, 1] - tri[i, 0], tri[i, 2] - tri[i, 0])
    return float(t[i]), n / max(np.linalg.norm(n), 1e-12)


def ground_height(world: World, exclude: Iterable[int] = ()) -> float:
    """A fallback ground: the 2nd-percentile height of the visible splats (0 when empty)."""
    skip = set(exclude)
    ys = [lay.data.means.astype(np.float64) @ lay.transform[1, :3] + lay.transform[1, 3]
          for lay in world.visible_layers()
          if lay.id not in skip and isinstance(lay.data, GaussianCloud) and len(lay.data)]
    if not ys:
        return 0.0
    return float(np.quantile(np.concatenate(ys), 0.02))


def placement_transform(world: World, origin: np.ndarray, direction: np.ndarray, *,
                        scale: float = 1.0, face_point: np.ndarray | None = None,
                        exclude: Iterable[int] = (), fallback_distance: float = 3.0) -> tuple[np.ndarray, Hit | None]:
    """4×4 similarity putting an object's base where the ray hits, turned to face `face_point`.

    Without a hit the object stands on the ground plane under the ray, or `fallback_distance`
    along it.
    """
    o = np.asarray(origin, np.float64)
    d = np.asarray(direction, np.float64)
    d = d / max(np.linalg.norm(d), 1e-12)
    hit = pick_surface(world, o, d, exclude=exclude)
    if hit is not None:
        pos = hit.point
    else:
        g = ground_height(world, exclude)
        if d[1] < -1e-3 and (g - o[1]) / d[1] > 0:
            pos = o + d * min((g - o[1]) / d[1], 50.0 * fallback_distance)
        else:
            pos = o + d * fallback_distance
    look = o if face_point is None else np.asarray(face_point, np.float64)
    v = look - pos
    yaw = math.atan2(v[0], v[2]) if abs(v[0]) + abs(v[2]) > 1e-9 else 0.0
    return similarity_matrix(pos, yaw=yaw, scale=scale), hit


# ------------------------------------------------------------------ edits (undoable)
def object_layer(name: str, data: GaussianCloud | Mesh, transform: np.ndarray,
                 source: dict | None = None) -> Layer:
    """A new `kind='object'` layer."""
    return Layer(name=name, data=data, kind="object", transform=transform, source=dict(source or {}))


def insert_object(world: World, name: str, data: GaussianCloud | Mesh, transform: np.ndarray,
                  source: dict | None = None) -> Layer:
    """Add an object layer (one undoable command) and return it."""
    lay = object_layer(world.unique_name(name), data, transform, source)
    world.execute(AddLayer(lay))
    return lay


def duplicate_layer(world: World, layer_id: int, offset: np.ndarray | None = None) -> Layer:
    """Copy a layer (sharing its immutable data), shifted by `offset` (default: its width in +X)."""
    src = world.layer(layer_id)
    m = src.transform.copy()
    if offset is None:
        lo, hi = src.world_bounds()
        offset = np.array([max(hi[0] - lo[0], 1e-3) * 1.1, 0.0, 0.0])
    m[:3, 3] += np.asarray(offset, np.float64)
    lay = Layer(name=world.unique_name(src.name), data=src.data, kind=src.kind, transform=m,
                visible=True, source=dict(src.source, duplicated_from=src.id))
    world.execute(AddLayer(lay, world.layers.index(src) + 1))
    return lay


def _about_base(layer: Layer, local: np.ndarray) -> np.ndarray:
    """Apply `local` (4×4) about the layer's origin (its base centre), in world axes."""
    p = layer.transform[:3, 3].copy()
    to, back = np.eye(4), np.eye(4)
    to[:3, 3], back[:3, 3] = -p, p
    return back @ local @ to @ layer.transform


def moved(layer: Layer, delta: np.ndarray) -> np.ndarray:
    m = layer.transform.copy()
    m[:3, 3] += np.asarray(delta, np.float64)
    return m


def rotated(layer: Layer, yaw: float) -> np.ndarray:
    return _about_base(layer, similarity_matrix(yaw=yaw))


def scaled(layer: Layer, factor: float) -> np.ndarray:
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"scale factor must be positive, got {factor}")
    s, _, _ = decompose_similarity(layer.transform)
    if not 1e-4 <= s * factor <= 1e4:
        raise ValueError("object scale would leave the range 1e-4..1e4")
    return _about_base(layer, similarity_matrix(scale=factor))


def move_layer(world: World, layer_id: int, delta: np.ndarray) -> None:
    world.execute(SetTransform(layer_id, moved(world.layer(layer_id), delta)))


def rotate_layer(world: World, layer_id: int, yaw: float) -> None:
    world.execute(SetTransform(layer_id, rotated(world.layer(layer_id), yaw)))


def scale_layer(world: World, layer_id: int, factor: float) -> None:
    world.execute(SetTransform(layer_id, scaled(world.layer(layer_id), factor)))


def snap_to_ground(world: World, layer_id: int) -> Hit | None:
    """Drop the object straight down (world −Y) onto the first surface under it (undoable).

    Returns the hit, or None (nothing changed) when there is no surface below.
    """
    lay = world.layer(layer_id)
    lo, hi = lay.world_bounds()
    centre = lay.transform[:3, 3]
    top = np.array([centre[0], hi[1] + 1e-3, centre[2]])
    hit = pick_surface(world, top, np.array([0.0, -1.0, 0.0]), exclude=[layer_id])
    if hit is None:
        g = ground_height(world, exclude=[layer_id])
        if not any(x.id != layer_id and x.visible for x in world.layers):
            return None
        hit = Hit(np.array([centre[0], g, centre[2]]), float(top[1] - g), -1, np.array([0.0, 1.0, 0.0]))
    dy = hit.point[1] - lo[1]
    if abs(dy) > 1e-9:
        move_layer(world, layer_id, np.array([0.0, dy, 0.0]))
    return hit
