"""Light matching: scale an object's colours to the world's exposure where it is inserted."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from scene.gaussians import GaussianCloud, rgb_to_sh0
from scene.mesh import Mesh
from scene.world import World

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


def cloud_luminance(cloud: GaussianCloud, weights: np.ndarray | None = None) -> float:
    """Opacity-weighted mean luminance of a cloud's base colours (0..1)."""
    if len(cloud) == 0:
        raise ValueError("cannot measure the brightness of an empty cloud")
    w = cloud.opacity_values().astype(np.float64)
    if weights is not None:
        w = w * weights
    lum = cloud.base_colors() @ LUMA
    return float((lum * w).sum() / max(w.sum(), 1e-12))


def world_luminance_near(
    world: World,
    point: np.ndarray,
    radius: float,
    exclude: Iterable[int] = (),
    min_splats: int = 50,
) -> float | None:
    """Mean luminance of visible world splats within `radius` of `point` (widened until
    `min_splats` are found, up to 8× the radius). None when the world has no splats there."""
    skip = set(exclude)
    p = np.asarray(point, np.float64)
    pts, lum, wts = [], [], []
    for lay in world.visible_layers():
        if lay.id in skip or not isinstance(lay.data, GaussianCloud) or not len(lay.data):
            continue
        m = lay.transform  # only centres move: colours (DC) do not depend on the transform
        pts.append(lay.data.means.astype(np.float64) @ m[:3, :3].T + m[:3, 3])
        lum.append(lay.data.base_colors() @ LUMA)
        wts.append(lay.data.opacity_values())
    if not pts:
        return None
    means, lums, ops = np.concatenate(pts), np.concatenate(lum), np.concatenate(wts)
    d2 = ((means - p) ** 2).sum(1)
    r = float(radius)
    for _ in range(4):
        near = d2 <= r * r
        if near.sum() >= min_splats:
            # Gaussian falloff: splats close to the point count most.
            w = ops[near] * np.exp(-0.5 * d2[near] / (0.5 * r) ** 2)
            return float((lums[near] * w).sum() / max(w.sum(), 1e-12))
        r *= 2
    return None


def exposure_gain(
    object_lum: float,
    world_lum: float,
    strength: float = 1.0,
    limits: tuple[float, float] = (0.5, 2.0),
) -> float:
    """Colour factor moving the object's mean luminance toward the world's (clamped)."""
    if not 0 <= strength <= 1:
        raise ValueError(f"light-matching strength must be 0..1, got {strength}")
    g = (max(world_lum, 1e-4) / max(object_lum, 1e-4)) ** strength
    return float(np.clip(g, *limits))


def apply_gain(data: GaussianCloud | Mesh, gain: float) -> GaussianCloud | Mesh:
    """Copy with base colours multiplied by `gain` (SH rest scaled too)."""
    if isinstance(data, GaussianCloud):
        out = data.copy()
        out.sh0 = rgb_to_sh0(np.clip(data.base_colors() * gain, 0, 1))
        out.shN = (data.shN * gain).astype(np.float32)
        return out
    cols = np.clip(data.colors_or_default() * gain, 0, 1)
    return Mesh(data.vertices, data.faces, cols, data.uvs, data.texture, dict(data.meta))


def match_exposure(
    data: GaussianCloud | Mesh,
    world: World,
    transform: np.ndarray,
    strength: float = 0.5,
    exclude: Iterable[int] = (),
) -> tuple[GaussianCloud | Mesh, float]:
    """Object data with colours scaled to the world's brightness around its placement.

    `strength` 0.5 moves half-way (in log) to the surroundings' mean luminance: objects keep
    some of their own albedo (a white cup stays lighter than the grey floor it stands on).

    Returns (data, gain); gain 1.0 and the data unchanged when the world has no splats there.
    """
    pos = np.asarray(transform, np.float64)[:3, 3]
    lo, hi = data.bounds()
    s = abs(np.linalg.det(np.asarray(transform, np.float64)[:3, :3])) ** (1 / 3)
    radius = max(float(np.max(hi - lo)) * s * 1.5, 1e-3)
    wl = world_luminance_near(world, pos, radius, exclude)
    if wl is None:
        return data, 1.0
    if isinstance(data, GaussianCloud):
        ol = cloud_luminance(data)
    else:
        ol = float((data.colors_or_default() @ LUMA).mean())
    gain = exposure_gain(ol, wl, strength)
    out = apply_gain(data, gain)
    out.meta = dict(data.meta, light_gain=gain)
    return out, gain
