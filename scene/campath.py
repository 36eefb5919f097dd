"""Camera keyframe paths for fly-through videos and previews.

A path is a list of keyframes (position, yaw, pitch, vertical FOV, time in seconds),
recorded while walking, made from bookmarks, or written by hand as JSON. Sampling:
positions follow a centripetal Catmull-Rom spline (no cusps or overshoot loops on uneven
spacing), orientations a squad (smooth slerp) through the keyframe quaternions with the
roll removed (the horizon stays level), FOV is linear. Every keyframe is hit exactly at
its time.

JSON (`save` / `load`):
  {"format": "wander-camera-path", "version": 1,
   "keyframes": [{"time": 0.0, "position": [x, y, z], "yaw": 0.0, "pitch": 0.0,
                  "fov_y_deg": 60.0}, ...]}
yaw / pitch are radians of the world-frame view direction (`Camera.from_yaw_pitch`:
yaw 0 looks along −Z, positive turns left; pitch up positive), like bookmarks. An
optional "up": [x, y, z] (default: the scene's up axis, else +Y) keeps the horizon level
in worlds that are not +Y up. Hand-written files may use "yaw_deg"/"pitch_deg" or
"look_at": [x, y, z] instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .camera import Camera, forward_from_yaw_pitch, position_problem, yaw_pitch_from_forward
from .errors import SceneFormatError
from .rotations import quat_multiply
from .world import walkable_disc

#: what a keyframe may hold: angles in radians (yaw, pitch) or degrees (*_deg), or a point
#: to look at; time in seconds
KEYFRAME_KEYS = frozenset(
    {"time", "position", "look_at", "yaw", "pitch", "yaw_deg", "pitch_deg", "fov_y_deg", "fov"}
)  # "fov": the vertical field of view in degrees, as `video --help` once named it
FORMAT_NAME = "wander-camera-path"
FORMAT_VERSION = 1
PATH_KEYS = frozenset({"format", "version", "up", "keyframes"})  # the file's top level


@dataclass
class Keyframe:
    """One camera pose on a path; angles in radians, time in seconds."""

    position: np.ndarray
    yaw: float = 0.0
    pitch: float = 0.0
    fov_y_deg: float = 60.0
    time: float = 0.0

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, np.float64).reshape(3)
        self.yaw, self.pitch = float(self.yaw), float(self.pitch)
        self.fov_y_deg, self.time = float(self.fov_y_deg), float(self.time)

    @classmethod
    def from_camera(cls, cam: Camera, time: float = 0.0) -> Keyframe:
        yaw, pitch = yaw_pitch_from_forward(cam.forward)
        return cls(cam.position, yaw, pitch, cam.fov_y_deg, time)

    def camera(self, width: int, height: int, up: Any = (0.0, 1.0, 0.0)) -> Camera:
        """Pinhole camera at this keyframe, level with respect to `up`."""
        return level_camera(
            self.position,
            forward_from_yaw_pitch(self.yaw, self.pitch),
            self.fov_y_deg,
            width,
            height,
            up,
        )


def level_camera(
    position: Any,
    forward: Any,
    fov_y_deg: float,
    width: int,
    height: int,
    up: Any = (0.0, 1.0, 0.0),
) -> Camera:
    """Camera at `position` looking along `forward` with no roll about the `up` axis."""
    pos = np.asarray(position, np.float64)
    return Camera.look_at(pos, pos + np.asarray(forward, np.float64), fov_y_deg, width, height, up)


# ------------------------------------------------------------------ quaternion maths
def _qconj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1, -1, -1])


def _qlog(q: np.ndarray) -> np.ndarray:
    """Log of a unit quaternion: (0, θ·axis) as a 4-vector."""
    v = q[1:]
    s = np.linalg.norm(v)
    if s < 1e-12:
        return np.zeros(4)
    ang = math.atan2(s, q[0])
    return np.concatenate([[0.0], v / s * ang])


def _qexp(q: np.ndarray) -> np.ndarray:
    v = q[1:]
    a = np.linalg.norm(v)
    if a < 1e-12:
        return np.array([1.0, 0, 0, 0])
    return np.concatenate([[math.cos(a)], v / a * math.sin(a)])


def _mat_to_quat(m: np.ndarray) -> np.ndarray:
    """3×3 rotation -> unit wxyz quaternion, float64 (Shepperd)."""
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    i = int(np.argmax([tr, m[0, 0], m[1, 1], m[2, 2]]))
    if i == 0:
        s = 2 * math.sqrt(max(1 + tr, 1e-300))
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif i == 1:
        s = 2 * math.sqrt(max(1 + m[0, 0] - m[1, 1] - m[2, 2], 1e-300))
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif i == 2:
        s = 2 * math.sqrt(max(1 + m[1, 1] - m[0, 0] - m[2, 2], 1e-300))
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2 * math.sqrt(max(1 + m[2, 2] - m[0, 0] - m[1, 1], 1e-300))
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def _quat_to_mat(q: np.ndarray) -> np.ndarray:
    """Unit wxyz quaternion -> 3×3 rotation, float64."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def slerp(a: np.ndarray, b: np.ndarray, u: float) -> np.ndarray:
    """Spherical linear interpolation of unit wxyz quaternions (shortest arc)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = float(np.dot(a, b))
    if d < 0:
        b, d = -b, -d
    if d > 0.9995:
        q = a + u * (b - a)
        return q / np.linalg.norm(q)
    th = math.acos(min(d, 1.0))
    return (math.sin((1 - u) * th) * a + math.sin(u * th) * b) / math.sin(th)


def _squad_controls(q: np.ndarray) -> np.ndarray:
    """Shoemake's inner control quaternions s_i for squad, (K, 4)."""
    k = len(q)
    s = q.copy()
    for i in range(1, k - 1):
        inv = _qconj(q[i])
        a = _qlog(quat_multiply(inv, q[i + 1]))
        b = _qlog(quat_multiply(inv, q[i - 1]))
        s[i] = quat_multiply(q[i], _qexp(-(a + b) / 4))
    return s


def squad(q0: np.ndarray, q1: np.ndarray, s0: np.ndarray, s1: np.ndarray, u: float) -> np.ndarray:
    """Smooth quaternion spline segment from q0 to q1 with controls s0, s1."""
    q = slerp(slerp(q0, q1, u), slerp(s0, s1, u), 2 * u * (1 - u))
    return q / np.linalg.norm(q)


# ------------------------------------------------------------------- position spline
def centripetal_catmull_rom(
    p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, u: float, alpha: float = 0.5
) -> np.ndarray:
    """Point at u∈[0,1] between p1 and p2 (Barry–Goldman, knot spacing |Δp|^alpha)."""

    def step(a: np.ndarray, b: np.ndarray) -> float:
        return max(float(np.linalg.norm(b - a)) ** alpha, 1e-6)

    if np.linalg.norm(p2 - p1) < 1e-12:
        return p1.copy()
    t0 = 0.0
    t1 = t0 + step(p0, p1)
    t2 = t1 + step(p1, p2)
    t3 = t2 + step(p2, p3)
    t = t1 + u * (t2 - t1)
    a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    return (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2


# ------------------------------------------------------------------------ the path
#: longest camera path accepted, seconds
MAX_DURATION_S = 24 * 3600.0


def _has_view(k: dict, which: str) -> bool:
    """Whether keyframe `k` gives its view as `which` ("look_at", "yaw_deg/pitch_deg" or
    "yaw/pitch": either key of the pair)."""
    return any(key in k for key in which.split("/"))


def _triple(k: dict, key: str) -> np.ndarray:
    """k[key] as (3,) float64; ValueError in words ("position needs 3 numbers x, y, z")
    for anything else (a trial read numpy's "cannot reshape array of size 2")."""
    try:
        v = np.asarray(k[key], np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{key} needs 3 numbers x, y, z, got {k[key]!r}") from None
    if v.shape != (3,):
        raise ValueError(f"{key} needs 3 numbers x, y, z, got {k[key]!r}")
    return v


def _number(k: dict, key: str, default: float) -> float:
    """k[key] (else `default`) as a finite float; ValueError in words for text, true/false
    or anything else (a trial's "time": "1" was taken as 1 without a word)."""
    v = k.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{key} needs a number, got {v!r}")
    return float(v)


class CameraPath:
    """Keyframes sorted by time, sampled smoothly at any time or frame rate."""

    def __init__(self, keyframes: Iterable[Keyframe], up: Any = (0.0, 1.0, 0.0)) -> None:
        """`up`: the world's up axis; sampled cameras are level (no roll) about it.
        Keyframe yaw/pitch always describe the world-frame view direction (+Y up), as
        bookmarks do."""
        up_v = np.asarray(up, np.float64).reshape(3)
        if not np.all(np.isfinite(up_v)) or np.linalg.norm(up_v) < 1e-9:
            raise ValueError(f"up axis must be a non-zero vector; got {up}")
        self.up = up_v / np.linalg.norm(up_v)
        kfs = sorted(keyframes, key=lambda k: k.time)
        if not kfs:
            raise ValueError("a camera path needs at least one keyframe")
        times = np.array([k.time for k in kfs])
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ValueError("keyframe times must be finite and all different")
        if times[-1] - times[0] > MAX_DURATION_S:  # frame_times would allocate without end
            raise ValueError(
                f"a camera path may last at most {MAX_DURATION_S:g} s (24 h); "
                f"this one lasts {times[-1] - times[0]:g} s"
            )
        for k in kfs:
            if not (
                np.all(np.isfinite(k.position)) and math.isfinite(k.yaw) and math.isfinite(k.pitch)
            ):
                raise ValueError(f"keyframe at t={k.time} has a non-finite pose")
            far = position_problem(k.position)
            if far:
                raise ValueError(f"keyframe at t={k.time}: its position {far}")
            if not 1.0 <= k.fov_y_deg <= 170.0:
                raise ValueError(f"keyframe at t={k.time}: FOV {k.fov_y_deg}° is outside 1..170")
        self.keyframes = kfs
        self._times = times
        self._pos = np.stack([k.position for k in kfs])  # (K, 3)
        # World-to-camera rotations as quaternions, consecutive ones on the same hemisphere.
        rots = np.stack([k.camera(2, 2, self.up).R for k in kfs])
        q = np.stack([_mat_to_quat(r) for r in rots])
        for i in range(1, len(q)):
            if np.dot(q[i], q[i - 1]) < 0:
                q[i] = -q[i]
        self._quats = q  # (K, 4)
        self._ctrl = _squad_controls(q)

    def __len__(self) -> int:
        return len(self.keyframes)

    @property
    def start(self) -> float:
        return float(self._times[0])

    @property
    def duration(self) -> float:
        return float(self._times[-1] - self._times[0])

    # -------------------------------------------------------------- sampling
    def _segment(self, t: float) -> tuple[int, float]:
        k = len(self._times)
        if k == 1 or t <= self._times[0]:
            return 0, 0.0
        if t >= self._times[-1]:
            return k - 2, 1.0
        i = int(np.searchsorted(self._times, t, side="right") - 1)
        return i, (t - self._times[i]) / (self._times[i + 1] - self._times[i])

    def position(self, t: float) -> np.ndarray:
        """Camera centre at time t (clamped to the path), (3,)."""
        if len(self) == 1:
            return self._pos[0].copy()
        i, u = self._segment(t)
        p = self._pos
        p1, p2 = p[i], p[i + 1]
        p0 = p[i - 1] if i > 0 else 2 * p1 - p2
        p3 = p[i + 2] if i + 2 < len(p) else 2 * p2 - p1
        return centripetal_catmull_rom(p0, p1, p2, p3, u)

    def rotation(self, t: float, level: bool = True) -> np.ndarray:
        """World-to-camera rotation (3, 3) at time t; `level` removes roll."""
        if len(self) == 1:
            q = self._quats[0]
        else:
            i, u = self._segment(t)
            q = squad(self._quats[i], self._quats[i + 1], self._ctrl[i], self._ctrl[i + 1], u)
        r = _quat_to_mat(q)
        if not level:
            return r
        return level_camera(np.zeros(3), r[2], 60, 2, 2, self.up).R

    def fov(self, t: float) -> float:
        if len(self) == 1:
            return self.keyframes[0].fov_y_deg
        i, u = self._segment(t)
        a, b = self.keyframes[i].fov_y_deg, self.keyframes[i + 1].fov_y_deg
        return a + (b - a) * u

    def keyframe_at(self, t: float) -> Keyframe:
        """The interpolated pose at time t as a Keyframe."""
        yaw, pitch = yaw_pitch_from_forward(self.rotation(t)[2])
        return Keyframe(self.position(t), yaw, pitch, self.fov(t), t)

    def camera(self, t: float, width: int, height: int) -> Camera:
        """Pinhole camera at time t, for a width×height frame."""
        pos = self.position(t)
        r = self.rotation(t)
        f = 0.5 * height / math.tan(math.radians(self.fov(t)) / 2)
        return Camera(width, height, f, f, width / 2, height / 2, r, -r @ pos)

    def frame_count(self, fps: float) -> int:
        """Frames of a video of the path at `fps`: round(duration·fps), so that it plays
        for the path's duration (at least 2, the first and last keyframes; 1 for a path of
        one keyframe). Both ends were counted once: a 2 s path at 5 fps made 11 frames,
        a 2.2 s video (a trial). Raises ValueError for an fps that is not a positive number."""
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number; got {fps}")
        if self.duration <= 0:
            return 1
        return max(2, int(round(self.duration * fps)))

    def frame_times(self, fps: float) -> np.ndarray:
        """Sample times at `fps`: `frame_count` of them, evenly spaced from the first
        keyframe to the last, both included (an inclusive frame range, as Blender's: played
        at `fps` the motion runs n / (n - 1) times as fast as the path's own time, and the
        video ends on the last keyframe)."""
        n = self.frame_count(fps)
        if n == 1:
            return np.array([self.start], np.float64)
        return np.linspace(self.start, float(self._times[-1]), n)

    def cameras(self, fps: float, width: int, height: int) -> list[Camera]:
        return [self.camera(float(t), width, height) for t in self.frame_times(fps)]

    # ------------------------------------------------------------ construction
    @classmethod
    def from_bookmarks(
        cls,
        bookmarks: Sequence[Any],
        seconds: float = 3.0,
        speed: float | None = None,
        up: Any = (0.0, 1.0, 0.0),
        aspect: float | None = None,
    ) -> CameraPath:
        """A path through bookmarks: `seconds` per hop, or time from distance at `speed` m/s.

        A single bookmark gives a look-around: a full turn in place, a quarter per `seconds`
        (what a panorama world, seen from its one viewpoint, is made for). With `aspect`
        (the frames' width / height) each keyframe's field of view is the bookmark's view
        in a frame of that shape (`bookmark_fov_y`: a photo's bookmark fills it with the
        photo), else the bookmark's own vertical field of view."""
        if not bookmarks:
            raise ValueError("a path from bookmarks needs at least one bookmark")
        if seconds <= 0 or (speed is not None and speed <= 0):
            raise ValueError("seconds per bookmark and speed must be positive")
        if len(bookmarks) == 1:
            b = bookmarks[0]
            fov = bookmark_fov_y(b, aspect)
            return cls(
                [
                    Keyframe(b.position, b.yaw + k * math.pi / 2, b.pitch, fov, k * seconds)
                    for k in range(5)
                ],
                up,
            )
        kfs, t = [], 0.0
        for i, b in enumerate(bookmarks):
            if i:
                d = float(np.linalg.norm(np.asarray(b.position) - kfs[-1].position))
                t += max(d / speed, 0.5) if speed else seconds
            kfs.append(Keyframe(b.position, b.yaw, b.pitch, bookmark_fov_y(b, aspect), t))
        return cls(kfs, up)

    @classmethod
    def sway(
        cls,
        bookmark: Any,
        radius: float,
        seconds: float = 12.0,
        look_distance: float | None = None,
        aspect: float | None = None,
    ) -> CameraPath:
        """A "3D photo" move for a world made from one photo (3D Ken Burns, Niklaus et al.,
        SIGGRAPH Asia 2019): one loop round an oval about the bookmark's position, always
        looking at the point `look_distance` (default: 3 `radius`, at least 2 m) ahead on
        the bookmark's line of sight, in `seconds`. The oval is 0.8 `radius` across and up
        to 0.8 `radius` forward (m), shrunk so the view turns at most SWAY_TURN_DEG from the
        bookmark's: the photo stays framed while the parallax shows its depth (a full turn,
        `from_bookmarks`, showed mostly the invented room; a sway 1.6 m across looking 6 m
        ahead turned 15° and showed the photo's edges and the invented band beyond them, a
        trial). With `aspect` each keyframe takes the bookmark's view in frames of that
        shape (`bookmark_fov_y`), zoomed in just enough that the frame stays inside the
        photo as the view turns (when the bookmark knows the photo's width). +Y up. Raises
        ValueError for a radius or duration that is not positive."""
        if radius <= 0 or seconds <= 0:
            raise ValueError("a sway needs a positive radius and duration")
        pos = np.asarray(bookmark.position, np.float64).reshape(3)
        fwd = forward_from_yaw_pitch(bookmark.yaw, bookmark.pitch)
        ahead = np.array([fwd[0], 0.0, fwd[2]])
        ahead /= max(float(np.linalg.norm(ahead)), 1e-12)
        right = np.array([-ahead[2], 0.0, ahead[0]])
        dist = look_distance if look_distance is not None else max(3.0 * radius, 2.0)
        turn = math.radians(SWAY_TURN_DEG)
        side = min(0.8 * radius, dist * math.tan(turn))  # half the oval's width
        depth = min(0.4 * radius, 0.5 * side)  # half its length
        target = pos + dist * fwd
        n = 16  # keyframes round the loop (the spline keeps it smooth)
        poses = []
        for k in range(n + 1):
            a = 2.0 * math.pi * k / n
            p = pos + right * (side * math.sin(a)) + ahead * (depth * (1 - math.cos(a)))
            poses.append((p, *yaw_pitch_from_forward(target - p), seconds * k / n))
        fov = bookmark_fov_y(bookmark, aspect)
        if aspect is not None and float(getattr(bookmark, "fov_x_deg", 0.0) or 0.0) > 0.0:
            fov = _framed_fov_y(
                fov,
                aspect,
                float(bookmark.fov_x_deg),
                float(bookmark.fov_y_deg),
                max(abs(_wrap(y - bookmark.yaw)) for _, y, _, _ in poses),
                max(abs(p - bookmark.pitch) for _, _, p, _ in poses),
            )
        return cls([Keyframe(p, y, pt, fov, t) for p, y, pt, t in poses])

    @classmethod
    def orbit(
        cls,
        eye: Any,
        target: Any,
        fov_y_deg: float = 60.0,
        seconds: float = 12.0,
        up: Any = (0.0, 1.0, 0.0),
    ) -> CameraPath:
        """A turntable: one full turn around `target` (3,) at `eye`'s (3,) distance and
        height along `up`, always looking at `target`, in `seconds`; a keyframe per 10° (the
        spline keeps the circle round to within 0.2 %). Raises ValueError when `eye` lies
        on `target`'s up line."""
        up_v = np.asarray(up, np.float64).reshape(3)
        up_v = up_v / max(float(np.linalg.norm(up_v)), 1e-12)
        c = np.asarray(target, np.float64).reshape(3)
        off = np.asarray(eye, np.float64).reshape(3) - c
        h = float(off @ up_v)
        radial = off - h * up_v
        r = float(np.linalg.norm(radial))
        if r < 1e-9 or seconds <= 0:
            raise ValueError("an orbit needs an eye beside its target and a positive duration")
        a = radial / r
        b = np.cross(up_v, a)
        n = 36
        kfs = []
        for k in range(n + 1):
            t = 2 * math.pi * k / n
            pos = c + h * up_v + r * (math.cos(t) * a + math.sin(t) * b)
            kf = Keyframe.from_camera(level_camera(pos, c - pos, fov_y_deg, 16, 16, up_v))
            kf.time = seconds * k / n
            if kfs:  # unwrap: the yaw keeps turning one way (no spin back at ±π)
                kf.yaw = kfs[-1].yaw + math.remainder(kf.yaw - kfs[-1].yaw, 2 * math.pi)
            kfs.append(kf)
        return cls(kfs, up_v)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "up": [float(v) for v in self.up],
            "keyframes": [
                {
                    "time": k.time,
                    "position": [float(v) for v in k.position],
                    "yaw": k.yaw,
                    "pitch": k.pitch,
                    "fov_y_deg": k.fov_y_deg,
                }
                for k in self.keyframes
            ],
        }

    def save(self, path: str | Path) -> None:
        """Write the path as JSON (atomic)."""
        from .files import write_bytes_atomic

        write_bytes_atomic(path, json.dumps(self.to_dict(), indent=1).encode())

    @classmethod
    def from_dict(
        cls, d: Any, source: str | Path | None = None, default_up: Any = (0.0, 1.0, 0.0)
    ) -> CameraPath:
        """From the JSON structure; `default_up` applies when the file names no "up"."""
        if isinstance(d, list):
            d = {"keyframes": d}
        if not isinstance(d, dict) or not isinstance(d.get("keyframes"), list):
            raise SceneFormatError(source, "camera path JSON needs a 'keyframes' list")
        unknown = sorted(set(d) - PATH_KEYS)
        if unknown:  # as for a keyframe: a trial's "loop": true was ignored in silence
            raise SceneFormatError(
                source,
                f"unknown key {unknown[0]!r}; a camera path holds " + ", ".join(sorted(PATH_KEYS)),
            )
        try:
            version = int(d.get("version", 1))
        except (TypeError, ValueError):
            raise SceneFormatError(
                source, f"camera path version {d.get('version')!r} is not a number"
            ) from None
        if version > FORMAT_VERSION:
            raise SceneFormatError(
                source,
                f"camera path version {d.get('version')} is newer "
                "than this Wander reads; update Wander",
            )
        kfs = []
        for i, k in enumerate(d["keyframes"]):
            if not isinstance(k, dict):
                raise SceneFormatError(
                    source, f'keyframe {i + 1} is not an object like {{"time": 0, "position": …}}'
                )
            unknown = sorted(set(k) - KEYFRAME_KEYS)
            if unknown:  # a misspelt key ("fov") silently fell back to a default
                raise SceneFormatError(
                    source,
                    f"keyframe {i + 1}: unknown key {unknown[0]!r}; a keyframe holds "
                    + ", ".join(sorted(KEYFRAME_KEYS)),
                )
            views = [w for w in ("look_at", "yaw_deg/pitch_deg", "yaw/pitch") if _has_view(k, w)]
            if len(views) > 1:  # one would win in silence (a trial: look_at over yaw_deg)
                raise SceneFormatError(
                    source,
                    f"keyframe {i + 1} gives its view twice ({' and '.join(views)}): keep one",
                )
            try:
                pos = _triple(k, "position")
                if "look_at" in k:
                    fwd = _triple(k, "look_at") - pos
                    if np.linalg.norm(fwd) < 1e-9:
                        raise ValueError("look_at equals position")
                    yaw, pitch = yaw_pitch_from_forward(fwd)
                elif "yaw_deg" in k or "pitch_deg" in k:
                    yaw = math.radians(_number(k, "yaw_deg", 0.0))
                    pitch = math.radians(_number(k, "pitch_deg", 0.0))
                else:
                    yaw, pitch = _number(k, "yaw", 0.0), _number(k, "pitch", 0.0)
                if abs(pitch) > math.pi / 2 + 1e-9:  # past straight up or down: upside down
                    raise ValueError(
                        f"pitch {math.degrees(pitch):g}° is past straight up or down (±90°)"
                    )
                fov_key = "fov_y_deg" if "fov_y_deg" in k else "fov"
                kfs.append(
                    Keyframe(
                        pos,
                        yaw,
                        pitch,
                        _number(k, fov_key, 60.0),
                        _number(k, "time", float(i)),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise SceneFormatError(source, f"keyframe {i + 1} is invalid ({exc})") from None
        for i in range(1, len(kfs)):
            # a list out of time order is a slip (a copied keyframe whose time was not
            # changed), not an order to sort by: the path would fly somewhere else
            if kfs[i].time < kfs[i - 1].time:
                raise SceneFormatError(
                    source,
                    f"keyframe {i + 1} (time {kfs[i].time:g} s) comes before keyframe {i} "
                    f"(time {kfs[i - 1].time:g} s): list the keyframes in time order",
                )
        try:
            return cls(kfs, d.get("up", default_up))
        except (ValueError, TypeError) as exc:
            raise SceneFormatError(source, str(exc)) from None

    @classmethod
    def load(cls, path: str | Path, default_up: Any = (0.0, 1.0, 0.0)) -> CameraPath:
        """Read a camera path JSON file (SceneFormatError on bad content)."""
        p = Path(path)
        if not p.exists():
            raise SceneFormatError(p, "no such file")
        if p.is_dir():
            raise SceneFormatError(p, "is a folder, not a camera path (.json)")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SceneFormatError(p, "not a camera path: not UTF-8 text") from None
        except OSError as exc:
            raise SceneFormatError(p, f"cannot read camera path: {exc.strerror or exc}") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SceneFormatError(p, f"camera path is not valid JSON ({exc})") from None
        return cls.from_dict(d, p, default_up)


# -------------------------------------------------------------------- recording
MAX_PAUSE_S = 0.5  # a recorded pause is kept this long (s)


class PathRecorder:
    """Collects camera samples while the user walks and reduces them to keyframes."""

    def __init__(self) -> None:
        self.samples: list[Keyframe] = []

    def add(self, cam_or_kf: Camera | Keyframe, time: float) -> None:
        """Add a sample at wall-clock `time` (seconds; any origin)."""
        kf = (
            Keyframe.from_camera(cam_or_kf, time)
            if isinstance(cam_or_kf, Camera)
            else Keyframe(
                cam_or_kf.position, cam_or_kf.yaw, cam_or_kf.pitch, cam_or_kf.fov_y_deg, time
            )
        )
        if self.samples and time <= self.samples[-1].time:
            return  # duplicate timestamps (a timer firing twice) add nothing
        self.samples.append(kf)

    def clear(self) -> None:
        self.samples.clear()

    def _without_pauses(self) -> list[Keyframe]:
        """The samples from the first move to the last, each stretch of stillness shortened
        to MAX_PAUSE_S (later samples move earlier in time)."""
        s = self.samples

        def still(a: Keyframe, b: Keyframe) -> bool:
            return (
                float(np.linalg.norm(b.position - a.position)) < 1e-4
                and abs(b.yaw - a.yaw) < 1e-4
                and abs(b.pitch - a.pitch) < 1e-4
                and abs(b.fov_y_deg - a.fov_y_deg) < 1e-3
            )

        moving = [i for i in range(1, len(s)) if not still(s[i - 1], s[i])]
        if not moving:
            return []
        first, last = moving[0] - 1, moving[-1]
        out = [s[first]]
        shift = 0.0
        pause = 0.0
        for i in range(first + 1, last + 1):
            dt = s[i].time - s[i - 1].time
            if still(s[i - 1], s[i]):
                pause += dt
                if pause > MAX_PAUSE_S:
                    shift += min(dt, pause - MAX_PAUSE_S)
                    continue  # a sample in the cut part of a pause
            else:
                pause = 0.0
            k = s[i]
            out.append(Keyframe(k.position, k.yaw, k.pitch, k.fov_y_deg, k.time - shift))
        return out

    def path(
        self,
        min_distance: float = 0.25,
        min_angle_deg: float = 8.0,
        max_interval: float = 1.5,
        up: Any = (0.0, 1.0, 0.0),
    ) -> CameraPath:
        """Keyframes every `min_distance` m / `min_angle_deg` of turn / `max_interval` s,
        with times starting at 0 (the recording's own pace). A pause (the camera still for
        longer than MAX_PAUSE_S) is kept MAX_PAUSE_S long: the time before the first move and
        after the last one, and standing still in between, made the video idle (a trial).
        Raises ValueError for fewer than two samples or a camera that never moved."""
        if len(self.samples) < 2:
            raise ValueError("record at least two camera samples (move while recording)")
        samples = self._without_pauses()
        if len(samples) < 2:
            raise ValueError(
                "the camera did not move while recording: walk or look around, then Ctrl+R"
            )
        keep = [samples[0]]
        for s in samples[1:-1]:
            last = keep[-1]
            moved = np.linalg.norm(s.position - last.position) >= min_distance
            f0 = forward_from_yaw_pitch(last.yaw, last.pitch)
            f1 = forward_from_yaw_pitch(s.yaw, s.pitch)
            turned = math.degrees(math.acos(float(np.clip(f0 @ f1, -1, 1)))) >= min_angle_deg
            if moved or turned or s.time - last.time >= max_interval:
                keep.append(s)
        keep.append(samples[-1])
        t0 = keep[0].time
        return CameraPath(
            (Keyframe(k.position, k.yaw, k.pitch, k.fov_y_deg, k.time - t0) for k in keep), up
        )


# ---------------------------------------------------------------------- editing
def replace_keyframe(path: CameraPath, index: int, kf: Keyframe) -> CameraPath:
    """A new path with keyframe `index` (0-based, in time order) replaced by `kf`.

    Raises IndexError for a bad index and ValueError when `kf.time` collides with another
    keyframe's time (times must stay all different)."""
    kfs = list(path.keyframes)
    if not 0 <= index < len(kfs):
        raise IndexError(f"keyframe {index + 1} does not exist (the path has {len(kfs)})")
    kfs[index] = kf
    return CameraPath(kfs, path.up)


def retime_keyframe(path: CameraPath, index: int, time: float) -> CameraPath:
    """A new path with keyframe `index` moved to `time` seconds (it may change places in
    the order). ValueError when another keyframe already sits at that time."""
    k = path.keyframes[index] if 0 <= index < len(path) else None
    if k is None:
        raise IndexError(f"keyframe {index + 1} does not exist (the path has {len(path)})")
    others = [o.time for i, o in enumerate(path.keyframes) if i != index]
    if any(abs(o - time) < 1e-6 for o in others):
        raise ValueError(f"another keyframe is already at {time:g} s")
    return replace_keyframe(path, index, Keyframe(k.position, k.yaw, k.pitch, k.fov_y_deg, time))


def delete_keyframe(path: CameraPath, index: int) -> CameraPath | None:
    """A new path without keyframe `index`; None when it was the last one."""
    if not 0 <= index < len(path):
        raise IndexError(f"keyframe {index + 1} does not exist (the path has {len(path)})")
    kfs = [k for i, k in enumerate(path.keyframes) if i != index]
    return CameraPath(kfs, path.up) if kfs else None


def path_polyline(
    path: CameraPath, samples_per_second: float = 20.0, max_samples: int = 2000
) -> np.ndarray:
    """World positions (N, 3) along the path, N ≥ 2 (for drawing it)."""
    n = int(min(max(2, path.duration * samples_per_second + 1), max_samples))
    ts = path.start + np.linspace(0.0, path.duration, n)
    return np.stack([path.position(float(t)) for t in ts])


#: degrees: the most a sway's view turns from its bookmark's (`CameraPath.sway`)
SWAY_TURN_DEG = 3.0


def _wrap(a: float) -> float:
    """An angle (radians) in (-π, π]."""
    return (a + math.pi) % (2 * math.pi) - math.pi


def _framed_fov_y(
    fov_y: float, aspect: float, photo_x: float, photo_y: float, yaw: float, pitch: float
) -> float:
    """The vertical field of view (degrees) of frames of `aspect` that were `fov_y` wide
    on a photo photo_x × photo_y degrees, zoomed in so they stay inside it when the view
    turns up to `yaw` and tilts up to `pitch` (radians) from the photo's own direction;
    never wider than `fov_y`."""
    hy = math.radians(fov_y) / 2
    hx = math.atan(math.tan(hy) * aspect)
    px, py = math.radians(photo_x) / 2, math.radians(photo_y) / 2
    zoom = 1.0
    if px - yaw > 1e-3:
        zoom = max(zoom, math.tan(min(hx, px)) / math.tan(px - yaw))
    if py - pitch > 1e-3:
        zoom = max(zoom, math.tan(min(hy, py)) / math.tan(py - pitch))
    return float(math.degrees(2 * math.atan(math.tan(hy) / zoom)))


def bookmark_fov_y(bookmark: Any, aspect: float | None) -> float:
    """A bookmark's vertical field of view (degrees) in frames of `aspect` (width /
    height; None: its own `fov_y_deg`): a photo's bookmark fills the frame with the photo
    (`scene.world.fit_fov_y`). A 4:3 photo's 40° vertical view in a 16:9 video showed the
    invented band beside the photo from the first frame, where `render` filled the frame."""
    view = getattr(bookmark, "view_fov_y", None)
    if aspect is None or view is None:
        return float(bookmark.fov_y_deg)
    return float(view(aspect))


def bookmark_path(
    world: Any,
    seconds: float = 3.0,
    aspect: float | None = None,
    loop_seconds: float | None = None,
) -> tuple[CameraPath, str]:
    """The camera path a world's bookmarks give when the user made none: through them,
    `seconds` a hop (a reconstruction's photos' views without the Overview it ends with);
    from one bookmark, a sway within the walkable area when the world was made from photos
    (`CameraPath.sway`: their world is the photo's view, and a full turn showed mostly the
    invented room), else a look-around (a full turn: what a panorama
    world is made for), either `loop_seconds` long (default 4 `seconds`). `aspect`: the
    frames' width / height, so each bookmark's view fills them as it fills a `render`
    (`bookmark_fov_y`). Returns (the path, how it was made, for messages: "through the 3
    bookmarks", "a sway within the walkable area round bookmark 'Start'", "a look-around
    from bookmark 'Start'"). Raises ValueError for a world without bookmarks or a duration
    that is not positive."""
    from .world import OVERVIEW_BOOKMARK

    marks = list(world.bookmarks)
    up = world.up_axis
    meta = world.meta if isinstance(getattr(world, "meta", None), dict) else {}
    if len(marks) != 1:
        left_out = ""
        if "reconstruct" in meta and len(marks) > 2 and marks[-1].name == OVERVIEW_BOOKMARK:
            # from the photos' views, not ending 40 m up over a patch of scene (a trial)
            marks, left_out = marks[:-1], f" (not the {OVERVIEW_BOOKMARK!r} one)"
        path = CameraPath.from_bookmarks(marks, seconds=seconds, up=up, aspect=aspect)
        # a reconstruction's bookmarks are its photos' cameras ("12 bookmarks" of a file
        # nobody bookmarked read as wrong, a trial)
        what = "photos' views" if "reconstruct" in meta or meta.get("cameras") else "bookmarks"
        return path, f"through the {len(marks)} {what}{left_out}"
    loop = 4.0 * seconds if loop_seconds is None else float(loop_seconds)
    disc = walkable_disc(meta)
    options = meta.get("options") if isinstance(meta.get("options"), dict) else {}
    level = np.allclose(np.asarray(up, np.float64).reshape(3), [0.0, 1.0, 0.0], atol=1e-6)
    if options.get("photos") and disc is not None and level:
        # looking at the depth of what the photo shows (the estimated distance of its far
        # upright things), where the parallax turns about
        est = meta.get("estimates") if isinstance(meta.get("estimates"), dict) else {}
        far = est.get("radius", {}).get("value") if isinstance(est.get("radius"), dict) else None
        look = (
            float(np.clip(far, 2.0 * disc[1], 100.0))
            if isinstance(far, (int, float)) and not isinstance(far, bool) and math.isfinite(far)
            else None
        )
        path = CameraPath.sway(marks[0], disc[1], seconds=loop, look_distance=look, aspect=aspect)
        return path, f"a sway within the walkable area round bookmark {marks[0].name!r}"
    path = CameraPath.from_bookmarks(marks, seconds=loop / 4.0, up=up, aspect=aspect)
    return path, f"a look-around from bookmark {marks[0].name!r}"
