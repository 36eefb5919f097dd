"""The world's up axis as a convention: the frame in which "up", "the ground" and "yaw" are meant.

A World's `up_axis` (unit 3-vector, default +Y; View > Up Axis in the app, estimated by
`viewer.up_axis`) says which way is up. Everything that moves things about — walking
(viewer.navigation), object placement and drops (generators.objects.place), the Object
menu's moves and the gizmo (viewer.ext_objects, viewer.transform_edit) — works in the
*up-aligned* frame `up_rotation(up)` maps world directions into: its +Y is the world's
up, so with up = +Y it is the world frame itself. Objects are made with +Y up (their base
at the origin, facing +Z); `upright_rotation` stands one up in the world.
Pure NumPy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

AXES: dict[str, tuple[float, float, float]] = {
    "+Y": (0.0, 1.0, 0.0),
    "-Y": (0.0, -1.0, 0.0),
    "+Z": (0.0, 0.0, 1.0),
    "-Z": (0.0, 0.0, -1.0),
    "+X": (1.0, 0.0, 0.0),
    "-X": (-1.0, 0.0, 0.0),
}


def normalize(v: Any) -> np.ndarray:
    """Unit 3-vector; raises ValueError for a zero or non-finite vector."""
    a = np.asarray(v, np.float64).reshape(3)
    n = float(np.linalg.norm(a))
    if not np.isfinite(n) or n < 1e-12:
        raise ValueError(f"up axis must be a non-zero finite vector, got {a.tolist()}")
    return a / n


def up_rotation(up: Any) -> np.ndarray:
    """3×3 rotation R with R @ up = +Y (minimal rotation; 180° about X for up = −Y)."""
    u = normalize(up)
    y = np.array([0.0, 1.0, 0.0])
    c = float(u @ y)
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    axis = np.cross(u, y)
    s = float(np.linalg.norm(axis))
    axis /= s
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def snap_to_axis(v: Any, max_angle_deg: float = 12.0) -> np.ndarray:
    """The nearest ±X/±Y/±Z if within `max_angle_deg` of `v`, else `v` normalised."""
    u = normalize(v)
    i = int(np.argmax(np.abs(u)))
    if abs(u[i]) >= np.cos(np.radians(max_angle_deg)):
        out = np.zeros(3)
        out[i] = np.sign(u[i])
        return out
    return u


def axis_name(v: Any) -> str:
    """'+Y', '-Z'... for an axis-aligned vector, else the rounded components."""
    u = normalize(v)
    for name, a in AXES.items():
        if float(u @ np.asarray(a)) > 0.9999:
            return name
    return "(" + ", ".join(f"{c:+.2f}" for c in u) + ")"


def world_up(world: Any) -> np.ndarray:
    """A World's unit up axis (+Y when it has none or an unusable one)."""
    try:
        return normalize(getattr(world, "up_axis", (0.0, 1.0, 0.0)))
    except ValueError:
        return np.array([0.0, 1.0, 0.0])


def heights(points: np.ndarray, up: Any) -> np.ndarray:
    """Height of world points (..., 3) along `up` (signed distance from the plane through 0)."""
    return np.asarray(points, np.float64) @ normalize(up)


def yaw_towards(direction: Any, up: Any) -> float:
    """Yaw (radians, about `up`) that turns an object's +Z towards `direction` (a world
    vector; its component along `up` is ignored); 0 when `direction` is along `up`."""
    v = up_rotation(up) @ np.asarray(direction, np.float64).reshape(3)
    return math.atan2(v[0], v[2]) if abs(v[0]) + abs(v[2]) > 1e-9 else 0.0


def upright_rotation(up: Any, yaw: float = 0.0) -> np.ndarray:
    """3×3 rotation standing an object made with +Y up upright in the world: turned by
    `yaw` about its own +Y, then its +Y taken onto `up` (for up = +Y: the plain yaw
    rotation about +Y of `scene.world.similarity_matrix`)."""
    c, s = math.cos(yaw), math.sin(yaw)
    ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return up_rotation(up).T @ ry


def ground_axes(up: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two unit world directions spanning the ground (⟂ `up`): the up-aligned frame's
    X and Z (for up = +Y: +X and +Z)."""
    r = up_rotation(up)
    return r[0].copy(), r[2].copy()
