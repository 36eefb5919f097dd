"""Editing a layer's 4×4 similarity transform: move / rotate / scale about its origin, in the
world's up-aligned frame or the object's own, snapping, Euler angles for the numeric panel,
and an undo entry named by what changed ("Move chelsea"). Pure NumPy, no Qt.

Conventions: transforms are world-from-local 4×4 similarities s·R | t (scene.world.Layer);
the pivot of every edit is the layer's origin t (an inserted object's base centre). "World"
axes are the up-aligned frame of `viewer.up_axis.up_rotation(world.up_axis)`: its second axis
is the world's up, so moving "up" follows View > Up Axis rather than a fixed +Y.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from scene.commands import SetTransform
from scene.rotations import decompose_similarity

from .up_axis import up_rotation

ROTATE_SNAP_DEG = 15.0
SCALE_SNAP = 0.1  # scale factors snap to multiples of 0.1


#: SetTransform(layer_id, matrix, text): the undo-menu text names the edit, e.g. "Move chelsea"
EditTransform = SetTransform


def edit_text(kind: str, name: str) -> str:
    """'move', 'chelsea' -> 'Move chelsea'."""
    return f"{kind.capitalize()} {name}"


def world_axes(up: Any) -> np.ndarray:
    """(3, 3) rows = the world frame's unit axes in world coordinates; row 1 is `up`."""
    return up_rotation(up).copy()


def local_axes(transform: np.ndarray) -> np.ndarray:
    """(3, 3) rows = the layer's own unit axes in world coordinates."""
    a = np.asarray(transform, np.float64)[:3, :3].T
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.maximum(n, 1e-12)


def axes_for(transform: np.ndarray, up: Any, space: str) -> np.ndarray:
    """Gizmo axes for `space` 'world' (up-aligned) or 'local'."""
    return local_axes(transform) if space == "local" else world_axes(up)


def rotation_about(axis: Any, angle: float) -> np.ndarray:
    """3×3 rotation by `angle` radians about unit `axis` (right-handed, Rodrigues)."""
    a = np.asarray(axis, np.float64)
    a = a / max(float(np.linalg.norm(a)), 1e-12)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def translated(transform: np.ndarray, delta: Any) -> np.ndarray:
    m = np.asarray(transform, np.float64).copy()
    m[:3, 3] += np.asarray(delta, np.float64)
    return m


def rotated(transform: np.ndarray, axis: Any, angle: float) -> np.ndarray:
    """Rotate about `axis` (world direction) through the layer's origin."""
    m = np.asarray(transform, np.float64).copy()
    m[:3, :3] = rotation_about(axis, angle) @ m[:3, :3]
    return m


def scaled(transform: np.ndarray, factor: float) -> np.ndarray:
    """Uniform scale about the layer's origin; ValueError outside 1e-4..1e4 overall."""
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"scale factor must be positive, got {factor}")
    s = scale_of(transform)
    if not 1e-4 <= s * factor <= 1e4:
        raise ValueError("object scale would leave the range 1e-4..1e4")
    m = np.asarray(transform, np.float64).copy()
    m[:3, :3] *= factor
    return m


def scale_of(transform: np.ndarray) -> float:
    return float(abs(np.linalg.det(np.asarray(transform, np.float64)[:3, :3])) ** (1 / 3))


def nice_step(size: float) -> float:
    """A round snapping step (1, 2 or 5 × 10^k) about a tenth of `size`."""
    x = max(float(size) * 0.1, 1e-6)
    e = 10 ** math.floor(math.log10(x))
    return min((m * e for m in (1, 2, 5, 10)), key=lambda v: abs(math.log(v / x)))


def snap(value: float, step: float) -> float:
    return round(value / step) * step if step > 0 else value


def axis_param(
    origin: np.ndarray, axis: np.ndarray, ray_o: np.ndarray, ray_d: np.ndarray
) -> float | None:
    """Parameter t of the point on the line origin + t·axis closest to the ray (None when
    the ray runs along the axis, where dragging along it is meaningless)."""
    a = np.asarray(axis, np.float64)
    d = np.asarray(ray_d, np.float64)
    w = np.asarray(origin, np.float64) - np.asarray(ray_o, np.float64)
    aa, ad, dd = a @ a, a @ d, d @ d
    den = aa * dd - ad * ad
    if den < 1e-9 * aa * dd:
        return None
    return float((ad * (d @ w) - dd * (a @ w)) / den)


def euler_xyz_deg(transform: np.ndarray) -> np.ndarray:
    """(3,) angles in degrees (rx, ry, rz) with R = Rz·Ry·Rx (world axes, applied x first)."""
    _, r, _ = decompose_similarity(transform)
    if np.linalg.det(r) < 0:
        r = -r
    sy = -r[2, 0]
    sy = float(np.clip(sy, -1.0, 1.0))
    ry = math.asin(sy)
    if abs(sy) < 1 - 1e-9:
        rx = math.atan2(r[2, 1], r[2, 2])
        rz = math.atan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: put it all in rx
        rx = math.atan2(-r[1, 2], r[1, 1])
        rz = 0.0
    return np.degrees([rx, ry, rz])


def compose(position: Any, euler_deg: Any, scale: float) -> np.ndarray:
    """4×4 from a position, Euler XYZ degrees (R = Rz·Ry·Rx) and a uniform scale."""
    rx, ry, rz = np.radians(np.asarray(euler_deg, np.float64))
    r = (
        rotation_about([0, 0, 1], rz)
        @ rotation_about([0, 1, 0], ry)
        @ rotation_about([1, 0, 0], rx)
    )
    m = np.eye(4)
    m[:3, :3] = float(scale) * r
    m[:3, 3] = np.asarray(position, np.float64)
    return m


def ground_frame(forward: Any, up: Any) -> tuple[np.ndarray, np.ndarray]:
    """(right, ahead) unit vectors on the plane ⟂ `up` from a camera `forward` (for the
    arrow-key nudges: "away" is away from the viewer along the ground, whatever is up)."""
    u = np.asarray(up, np.float64)
    u = u / max(float(np.linalg.norm(u)), 1e-12)
    f = np.asarray(forward, np.float64)
    f = f - (f @ u) * u
    if np.linalg.norm(f) < 1e-6:  # looking straight down/up: use a horizontal world axis
        f = world_axes(u)[2]
    f = f / np.linalg.norm(f)
    return np.cross(f, u), f
