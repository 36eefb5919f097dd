"""Pinhole cameras, and the one place where camera conventions are converted.

Stored convention (as COLMAP and 3DGS): world-to-camera rotation R and translation t
in the OpenCV camera frame (x right, y down, z forward): x_cam = R @ x_world + t.
World frame: right-handed, +Y up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: largest camera coordinate (metres) a camera, bookmark or keyframe may have: beyond it
#: eye + a unit forward step rounds back to the eye (a project's bookmark at 1e30 drew
#: black frames and an error every frame, a trial); ECEF coordinates (6.4e6 m) fit
MAX_POSITION = 1e8


def position_problem(v: Any) -> str | None:
    """Why `v` (3,) cannot be a camera position (not three finite numbers, or farther than
    MAX_POSITION from the origin on an axis), or None when it can."""
    a = np.asarray(v, np.float64)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        return "is not three finite numbers"
    if np.abs(a).max() > MAX_POSITION:
        return f"is more than {MAX_POSITION:g} m from the origin"
    return None


@dataclass
class Camera:
    """A pinhole camera: intrinsics in pixels plus OpenCV world-to-camera pose."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    t: np.ndarray = field(default_factory=lambda: np.zeros(3))
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.R = np.asarray(self.R, np.float64).reshape(3, 3)
        self.t = np.asarray(self.t, np.float64).reshape(3)

    # ---------------------------------------------------------- construction
    @classmethod
    def from_record(cls, rec: Camera | dict[str, Any]) -> Camera:
        """A camera from a `World.meta['cameras']` entry: a Camera (copied, without its
        meta) or a record as `reconstruct` and `use_cameras_beside` write it (width, height,
        fx, fy, cx, cy, R, t, name). Raises KeyError, TypeError or ValueError for an
        unreadable one."""
        if isinstance(rec, Camera):
            return cls(
                rec.width, rec.height, rec.fx, rec.fy, rec.cx, rec.cy, rec.R, rec.t, rec.name
            )
        return cls(
            int(rec["width"]),
            int(rec["height"]),
            float(rec["fx"]),
            float(rec["fy"]),
            float(rec["cx"]),
            float(rec["cy"]),
            rec["R"],
            rec["t"],
            str(rec.get("name", "")),
        )

    def to_record(self) -> dict[str, Any]:
        """The camera as a JSON-able `World.meta['cameras']` entry, `from_record`'s inverse:
        width, height, fx, fy, cx, cy, R, t, name; a lens beyond the pinhole (a k1 from SfM,
        a COLMAP model read with the camera) as `colmap_model` / `colmap_params`
        (`scene.io.colmap.colmap_camera_params`), so `export --cameras` writes the lens the
        photos were taken with."""
        from scene.io.colmap import colmap_camera_params  # scene.io imports this module

        rec: dict[str, Any] = {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "R": self.R.tolist(),
            "t": self.t.tolist(),
        }
        model, params = colmap_camera_params(self)
        if model != "PINHOLE":
            rec.update(colmap_model=model, colmap_params=[float(v) for v in params])
        return rec

    @classmethod
    def look_at(
        cls,
        eye: Any,
        target: Any,
        fov_y_deg: float,
        width: int,
        height: int,
        up: Any = (0.0, 1.0, 0.0),
    ) -> Camera:
        """Camera at `eye` looking at `target` with vertical field of view `fov_y_deg`."""
        eye = np.asarray(eye, np.float64)
        target = np.asarray(target, np.float64)
        for what, v in (("eye", eye), ("look-at point", target)):
            if position_problem(v):
                # beyond this the axes lose their precision and the render is black
                raise ValueError(
                    f"camera {what} must be finite numbers up to {MAX_POSITION:g}; got {v.tolist()}"
                )
        fwd = target - eye
        if np.linalg.norm(fwd) < 1e-12:
            raise ValueError("eye and look-at point coincide")
        fwd /= np.linalg.norm(fwd)
        upv = np.asarray(up, np.float64)
        right = np.cross(fwd, upv)
        if np.linalg.norm(right) < 1e-9:  # looking straight along up: pick any right
            right = np.cross(fwd, [0.0, 0.0, 1.0] if abs(fwd[2]) < 0.9 else [1.0, 0.0, 0.0])
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        rot = np.stack([right, down, fwd])  # rows: camera axes in world coords
        f = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2)
        return cls(width, height, f, f, width / 2, height / 2, rot, -rot @ eye)

    @classmethod
    def from_yaw_pitch(
        cls,
        position: Any,
        yaw: float,
        pitch: float,
        fov_y_deg: float,
        width: int,
        height: int,
    ) -> Camera:
        """First-person camera: yaw about +Y (0 looks along −Z), pitch up positive, radians."""
        fwd = forward_from_yaw_pitch(yaw, pitch)
        pos = np.asarray(position, np.float64)
        return cls.look_at(pos, pos + fwd, fov_y_deg, width, height)

    # ------------------------------------------------------------- properties
    @property
    def position(self) -> np.ndarray:
        """Camera centre in world coordinates."""
        return -self.R.T @ self.t

    @property
    def forward(self) -> np.ndarray:
        return self.R[2].copy()

    @property
    def up(self) -> np.ndarray:
        return -self.R[1]

    @property
    def right(self) -> np.ndarray:
        return self.R[0].copy()

    @property
    def fov_y_deg(self) -> float:
        return math.degrees(2 * math.atan(0.5 * self.height / self.fy))

    @property
    def fov_x_deg(self) -> float:
        return math.degrees(2 * math.atan(0.5 * self.width / self.fx))

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1.0]])

    def world_to_camera(self) -> np.ndarray:
        """4×4 OpenCV world-to-camera matrix."""
        m = np.eye(4)
        m[:3, :3] = self.R
        m[:3, 3] = self.t
        return m

    def resized(self, width: int, height: int) -> Camera:
        """Same pose and field of view at another resolution."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            width,
            height,
            self.fx * sx,
            self.fy * sy,
            self.cx * sx,
            self.cy * sy,
            self.R.copy(),
            self.t.copy(),
            self.name,
            dict(self.meta),
        )

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N,3) -> pixel coords (N,2) and camera depth z (N,)."""
        pc = np.asarray(points, np.float64) @ self.R.T + self.t
        z = pc[:, 2]
        zs = np.where(np.abs(z) < 1e-12, 1e-12, z)
        uv = np.stack([self.fx * pc[:, 0] / zs + self.cx, self.fy * pc[:, 1] / zs + self.cy], 1)
        return uv, z

    def pixel_rays(self) -> np.ndarray:
        """World-space unit ray directions through pixel centres, (H, W, 3)."""
        u, v = np.meshgrid(np.arange(self.width) + 0.5, np.arange(self.height) + 0.5)
        d = np.stack([(u - self.cx) / self.fx, (v - self.cy) / self.fy, np.ones_like(u)], -1)
        d = d @ self.R  # camera -> world: Rᵀ d, written row-wise
        return d / np.linalg.norm(d, axis=-1, keepdims=True)

    # -------------------------------------------------------- GL conversions
    def gl_view_matrix(self) -> np.ndarray:
        """4×4 OpenGL view matrix (camera looks down −Z, +Y up)."""
        flip = np.diag([1.0, -1.0, -1.0, 1.0])
        return flip @ self.world_to_camera()

    def gl_projection_matrix(self, near: float, far: float) -> np.ndarray:
        """4×4 OpenGL projection matching these intrinsics (principal point honoured)."""
        w, h = self.width, self.height
        p = np.zeros((4, 4))
        p[0, 0] = 2 * self.fx / w
        p[1, 1] = 2 * self.fy / h
        p[0, 2] = 1 - 2 * self.cx / w
        p[1, 2] = 2 * self.cy / h - 1
        p[2, 2] = -(far + near) / (far - near)
        p[2, 3] = -2 * far * near / (far - near)
        p[3, 2] = -1
        return p


def forward_from_yaw_pitch(yaw: float, pitch: float) -> np.ndarray:
    """Unit view direction for yaw about +Y (0 → −Z, positive turns left) and pitch."""
    cp = math.cos(pitch)
    return np.array([-math.sin(yaw) * cp, math.sin(pitch), -math.cos(yaw) * cp])


def yaw_pitch_rotation(yaw: float, pitch: float, roll: float = 0.0) -> np.ndarray:
    """OpenCV world-to-camera rotation (3, 3) of a view at yaw (0 → −Z, + turns left about
    +Y), pitch (+ up) and roll (about the view axis), radians: rows right, down, forward.

    Forward is `forward_from_yaw_pitch`; right is always the yaw-rotated +X, so the view
    stays defined at pitch ±90° (looking straight down, the image's top edge is towards
    yaw's forward). Away from ±90° it equals `Camera.look_at` with up +Y.
    """
    cy, sy = math.cos(yaw), math.sin(yaw)
    right = np.array([cy, 0.0, -sy])
    fwd = forward_from_yaw_pitch(yaw, pitch)
    rot = np.stack([right, np.cross(fwd, right), fwd])
    if roll:
        cr, sr = math.cos(roll), math.sin(roll)
        rot = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1.0]]) @ rot
    return rot


def yaw_pitch_from_forward(fwd: Any) -> tuple[float, float]:
    """Inverse of `forward_from_yaw_pitch`."""
    f = np.asarray(fwd, np.float64)
    f = f / np.linalg.norm(f)
    return math.atan2(-f[0], -f[2]), math.asin(float(np.clip(f[1], -1, 1)))


def level_up_from_rotations(rotations: list[np.ndarray]) -> np.ndarray:
    """World up implied by cameras held level (OpenCV world-to-camera rotations).

    Up is perpendicular to every camera's x axis (people rarely roll a phone), signed by
    the cameras' mean up vector, which also completes it when the x axes leave it open
    (all cameras facing one way). Unlike the mean up alone, this does not tilt when every
    photo looks down or up.
    """
    rs = [np.asarray(r, np.float64).reshape(3, 3) for r in rotations]
    if not rs:
        raise ValueError("no camera rotations to estimate an up axis from")
    mean_up = np.mean([-r[1] for r in rs], axis=0)
    if np.linalg.norm(mean_up) < 1e-6:
        mean_up = np.array([0.0, 1.0, 0.0])
    mean_up = mean_up / np.linalg.norm(mean_up)
    xs = np.array([r[0] for r in rs])
    evals, evecs = np.linalg.eigh(xs.T @ xs / len(rs))  # ascending
    if evals[1] > 0.02:  # the x axes span a plane: up is its normal
        up = evecs[:, 0]
    else:  # one direction only
        up = mean_up - (mean_up @ evecs[:, 2]) * evecs[:, 2]
    if np.linalg.norm(up) < 1e-6:
        return mean_up
    up = up / np.linalg.norm(up)
    return up if up @ mean_up >= 0 else -up
