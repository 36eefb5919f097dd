"""Camera controllers: walk (gravity, ground, walls), fly (free 6DOF) and orbit.

Pure Python + NumPy, no Qt, so it is unit-testable. Keys are plain names ('w', 'a', 's',
'd', 'q', 'e', 'space', 'ctrl', 'shift', 'up', 'down', 'left', 'right'); the viewport maps
Qt keys to them. State lives in a *local* frame whose +Y is the world's up axis
(`up_axis.up_rotation`); cameras come out in the world frame.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from scene.camera import Camera, forward_from_yaw_pitch, position_problem, yaw_pitch_from_forward
from scene.splatting import NEAR_CULL
from scene.units import EYE_HEIGHT  # m: re-exported for the viewer

from .collision import Collider

log = logging.getLogger(__name__)

Mode = Literal["walk", "fly", "orbit"]
MODES: tuple[Mode, ...] = ("walk", "fly", "orbit")

GRAVITY = 9.8  # m/s²
BODY_RADIUS = 0.2  # m
#: scene units: the walker's body is at least this wide a radius, so its eye stops this far
#: from a wall; the renderer drops splats nearer the eye than NEAR_CULL (0.2), and a walker
#: of radius 0.2 stood with its eye 0.195 m from a wall it could no longer see: the screen
#: went dark, or showed what was behind the wall (a trial, on a 1M-splat room)
EYE_CLEARANCE = 1.5 * NEAR_CULL
STEP_HEIGHT = 0.35  # m, highest ledge the walker steps onto
JUMP_HEIGHT = 0.6  # m
WALK_SPEED = 2.5  # m/s
AREA_CROSS_S = 2.0  # s: walking crosses a world's walkable radius in about this long ...
AREA_MIN_SPEED = 0.8  # m/s ... but no slower than this
#: s: walking or flying crosses the distance the photos were taken from (World.meta
#: ['subject_distance'], a reconstruction's) in about this long, at most WALK_SPEED
SUBJECT_CROSS_S = 2.5
RUN_FACTOR = 3.0
MAX_PITCH = math.radians(89.0)
OBJECT_EXTENT = 3.0  # scene units: a scene narrower than this opens as an object, orbited
OBJECT_PITCH = math.radians(15.0)  # ... seen this far from above
LOOK_SENSITIVITY = 0.0025  # rad per pixel
ACCEL_TAU = 0.07  # s, velocity follows the keys with this time constant (game feel)
# Ctrl is "down" in Fly mode and the first key of every shortcut: it moves only once held
# this long alone (Ctrl+S dropped the camera 0.24 m while the Save dialog opened)
CTRL_DOWN_DELAY = 0.25  # s
#: keys a mode has no use for: Walk has no down / up (Fly's Q, E and Ctrl)
INERT_KEYS: dict[str, frozenset[str]] = {"walk": frozenset({"q", "e", "ctrl"})}


def scene_scale(lo: np.ndarray, hi: np.ndarray, units: str | None = None) -> float:
    """Scene units per metre: 1 for scenes in metres, else a guess from the scene's size.

    Unknown units: an extent of 3–2000 units is taken as metres (rooms to city blocks);
    smaller or larger scenes are taken as about 8 m across.
    """
    if units in ("m", "metre", "meter", "metres", "meters"):
        return 1.0
    ext = np.asarray(hi, np.float64) - np.asarray(lo, np.float64)
    horiz = float(max(ext[0], ext[2])) if ext.size == 3 else 0.0
    if not np.isfinite(horiz) or horiz <= 0:
        return 1.0
    if 3.0 <= horiz <= 2000.0:
        return 1.0
    return horiz / 8.0


@dataclass
class Pose:
    """A first-person pose in the local frame: eye position, yaw about +Y, pitch (radians)."""

    position: np.ndarray
    yaw: float = 0.0
    pitch: float = 0.0


#: eye heights above the ground below: switching to Walk from higher up (a drone's view
#: 30 m up) lands where the view's centre meets the scene instead of falling there (the
#: trial's aerial scene: a 52 m fall onto the backdrop's ground disc under the cameras)
HIGH_LAND = 3.0
LAND_TRIES = 8  # floaters the landing ray passes before it settles for the first
SETTLE_TOL = 1e-5  # position changes below this many metres (scene units / scale) are no move


def box_in_view(lo: np.ndarray, hi: np.ndarray, rot: np.ndarray, camera: Camera) -> bool:
    """Whether the box lo..hi (3,) of the frame `rot` (3, 3; frame = rot @ world) meets the
    view pyramid of `camera` (world frame; from its eye through its image's corners, out
    past the box): the separating-axis test for two convex polyhedra (the faces of each,
    and the cross products of their edges), so a box partly in view counts however little
    of it shows (a lattice of points on it missed a ground box seen from nearby, looking
    down, a review)."""
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    rot = np.asarray(rot, np.float64)
    g = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], np.float64)
    box = (lo + g * (hi - lo)) @ rot  # (8, 3) world
    eye = np.asarray(camera.position, np.float64)
    reach = float(np.linalg.norm(box - eye, axis=1).max()) + 1.0
    w, h = float(camera.width), float(camera.height)
    px = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])
    d = np.stack(
        [(px[:, 0] - camera.cx) / camera.fx, (px[:, 1] - camera.cy) / camera.fy, np.ones(4)], 1
    )
    rays = d @ np.asarray(camera.R, np.float64)  # camera -> world (rows)
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    far = eye + rays * (reach / (rays @ camera.R[2]))[:, None]  # a cap past every box corner
    pyramid = np.vstack([eye, far])
    box_edges = rot  # the box's edge directions (its frame's axes in world terms)
    pyr_edges = np.vstack([rays, far[1] - far[0], far[3] - far[0]])
    side = np.cross(rays, np.roll(rays, -1, 0))
    axes = [box_edges, side, camera.R[2][None, :]]
    axes.append(np.cross(box_edges[:, None, :], pyr_edges[None, :, :]).reshape(-1, 3))
    for ax in np.vstack(axes):
        n = float(np.linalg.norm(ax))
        if n < 1e-9:
            continue
        a, b = box @ ax, pyramid @ ax
        if a.max() < b.min() - 1e-9 * n or b.max() < a.min() - 1e-9 * n:
            return False
    return True


class Navigator:
    """Holds the viewer's camera and moves it from keys, mouse and time steps."""

    def __init__(self) -> None:
        self.mode: Mode = "fly"
        self.fov_y_deg = 60.0
        #: > 0: the view reproduces a photo this wide (a bookmark's fov_x_deg): the photo
        #: fills the window whatever its shape (`scene.world.fit_fov_y`)
        self.fit_fov_x_deg = 0.0
        self.rot = np.eye(3)  # world -> local
        self.pos = np.zeros(3)  # eye, local frame
        self.yaw = 0.0
        self.pitch = 0.0
        self.vel_up = 0.0  # walk: vertical velocity
        self.vel = np.zeros(3)  # smoothed key-driven velocity, local frame (units/s)
        self.on_ground = False
        self.speed_mult = 1.0
        self.look_gain = 1.0  # mouse-look sensitivity multiplier (Preferences)
        self.invert_y = False  # mouse up looks down (Preferences)
        self.keys: set[str] = set()
        self._ctrl_held = 0.0  # s that "ctrl" has been held (CTRL_DOWN_DELAY)
        self.collider: Collider | None = None
        self.scale = 1.0  # scene units per metre
        self.target = np.zeros(3)  # orbit centre, local frame
        self.distance = 5.0  # orbit radius
        self.home = Pose(np.array([0.0, 0.0, 5.0]))
        self.home_mode: Mode = "fly"
        self.bounds = (np.full(3, -5.0), np.full(3, 5.0))  # local frame
        self._focus_fn: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None
        self._focus: tuple[np.ndarray, np.ndarray] | None = None
        self.walk_area = None  # viewer.walk_area.WalkArea: walk mode stays inside
        self.subject_distance: float | None = None  # units; paces walk and fly
        #: local units: the eye height a walk keeps when the start view gives one (a
        #: photo's camera 1.27 m over the ground rose to 1.6 m and lost the photo's view)
        self.walk_eye: float | None = None
        self.pushing_rim = False  # the last walk step was held back at the area's rim
        self._changed = True

    # ----------------------------------------------------------- dimensions
    @property
    def eye_height(self) -> float:
        """Local units from the feet to the eye while walking: the start view's own
        (`walk_eye`, set where a world opens at a photo's camera) or EYE_HEIGHT."""
        return self.walk_eye if self.walk_eye is not None else self.standard_eye_height

    @property
    def standard_eye_height(self) -> float:
        return EYE_HEIGHT * self.scale

    @property
    def radius(self) -> float:
        return max(BODY_RADIUS * self.scale, EYE_CLEARANCE)

    @property
    def step_height(self) -> float:
        return STEP_HEIGHT * self.scale

    @property
    def gravity(self) -> float:
        return GRAVITY * self.scale

    @property
    def move_speed(self) -> float:
        """Current speed (units/s) including the speed multiplier and Shift to run. Walking
        in a world's walkable area, the base speed crosses its radius in AREA_CROSS_S (at
        least AREA_MIN_SPEED m/s, at most WALK_SPEED): at 2.5 m/s a one-photo room's 1.25 m
        was crossed before a step could be seen (a trial). Likewise, walking or flying a
        reconstruction crosses the distance its photos were taken from
        (`subject_distance`) in about SUBJECT_CROSS_S (at least a quarter of
        AREA_MIN_SPEED: a figurine's photos taken 30 cm away)."""
        run = RUN_FACTOR if "shift" in self.keys else 1.0
        base = WALK_SPEED * self.scale
        if self.walk_area is not None and self.mode == "walk":
            area = self.walk_area.radius / AREA_CROSS_S
            base = min(base, max(AREA_MIN_SPEED * self.scale, area))
        if self.subject_distance and self.mode != "orbit":
            subject = self.subject_distance / SUBJECT_CROSS_S
            base = min(base, max(AREA_MIN_SPEED * self.scale * 0.25, subject))
        return base * self.speed_mult * run

    # ---------------------------------------------------------------- setup
    def set_scene(
        self,
        lo_local: np.ndarray,
        hi_local: np.ndarray,
        *,
        up_rot: np.ndarray,
        collider: Collider | None,
        scale: float,
        focus: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Adopt a scene: its local-frame bounds, up rotation, collider and units.

        focus: returns the local-frame bounds of the scene proper (no sky dome / far field),
        which orbit mode frames; called once, when orbit is first entered (it scans every
        splat, so a world opens without paying for it); None: the full bounds."""
        self.rot = np.asarray(up_rot, np.float64)
        self.bounds = (np.asarray(lo_local, np.float64), np.asarray(hi_local, np.float64))
        self._focus_fn, self._focus = focus, None
        self.collider = collider
        self.scale = float(scale) if scale > 0 else 1.0
        self.walk_eye = None
        self.home, self.home_mode = self.default_home()
        self.reset()

    def default_home(self) -> tuple[Pose, Mode]:
        """Where a scene opens without a bookmark: a thing smaller than OBJECT_EXTENT
        across is orbited, seen from the front and a little above; a place is walked,
        standing on its floor at its centre; anything else is flown, from in front."""
        lo, hi = self.bounds
        c = 0.5 * (lo + hi)
        ext = hi - lo
        if np.all(np.isfinite(ext)) and 0 < max(ext[0], ext[2]) < OBJECT_EXTENT:
            # walking put the eye inside it: its base was taken for a floor
            r = 0.5 * float(np.linalg.norm(ext))
            dist = 1.15 * r / math.sin(0.5 * math.radians(self.fov_y_deg))
            pos = c + dist * np.array([0.0, math.sin(OBJECT_PITCH), math.cos(OBJECT_PITCH)])
            return Pose(pos, 0.0, -OBJECT_PITCH), "orbit"
        if self.collider is not None:
            f = self.collider.floor_at(c[0], c[2])
            if f is None:  # nearest floor column to the centre
                near = self.collider.nearest_floor(c[0], c[2])
                if near is not None:
                    c[0], c[2], f = near
            if f is not None:
                return Pose(np.array([c[0], f + self.eye_height, c[2]]), 0.0, 0.0), "walk"
        ext = float(np.max(hi - lo)) if np.all(np.isfinite(hi - lo)) else 1.0
        dist = max(ext, 1e-3) * 1.2
        return Pose(np.array([c[0], c[1], c[2] + dist]), 0.0, 0.0), "fly"

    def set_home(self, pose: Pose, mode: Mode | None = None) -> None:
        """Use `pose` as the reset pose (and go there)."""
        self.home = Pose(np.asarray(pose.position, np.float64).copy(), pose.yaw, pose.pitch)
        if mode is not None:
            self.home_mode = mode
        self.reset()

    def reset(self) -> None:
        """Back to the home pose and mode (R)."""
        self.pos = self.home.position.copy()
        self.yaw, self.pitch = self.home.yaw, self.home.pitch
        self.vel_up = 0.0
        self.vel = np.zeros(3)
        self.on_ground = False
        self.set_mode(self.home_mode)
        self._changed = True

    @property
    def focus_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Local-frame bounds orbit mode frames (see `set_scene`'s focus)."""
        if self._focus is None:
            if self._focus_fn is None:
                return self.bounds
            lo, hi = self._focus_fn()
            self._focus = (np.asarray(lo, np.float64), np.asarray(hi, np.float64))
        return self._focus

    def set_mode(self, mode: Mode) -> None:
        """Switch walk/fly/orbit keeping the view where it is."""
        if mode not in MODES:
            raise ValueError(f"unknown navigation mode {mode!r}; expected one of {MODES}")
        if mode == "orbit" and self.mode != "orbit":
            # the scene proper: a sky dome 400 m out would put the orbit radius at 80 m
            lo, hi = self.focus_bounds
            c = 0.5 * (lo + hi)
            fwd = self.forward_local()
            # Orbit around the point in front of us nearest the scene centre.
            d = max(float((c - self.pos) @ fwd), 0.1 * float(np.max(hi - lo)) + 1e-6)
            self.target = self.pos + fwd * d
            self.distance = d
        if mode == "walk" and self.mode != "walk" and self.collider is not None:
            # Coming from a low fly/orbit view: the floor may lie between the eye and where
            # the feet would be; stand on it instead of hovering with the feet under it.
            g = self.collider.ground_at(self.pos[0], self.pos[2], self.pos[1], self.radius * 0.5)
            if g is not None and g <= self.pos[1] < g + self.eye_height:
                self.pos = np.array([self.pos[0], g + self.eye_height, self.pos[2]])
            elif g is None or self.pos[1] - g > HIGH_LAND * self.eye_height:
                self._land_where_looking(above_ground=g is not None)
        if mode == "walk" and self.mode != "walk" and self.walk_area is not None:
            self._into_walk_area()
        self.mode = mode
        self.vel_up = 0.0
        self.vel = np.zeros(3)
        self._changed = True

    def _into_walk_area(self) -> None:
        """Walking from a view outside the walkable area (flown out through a wall, or
        under the floor: a trial hovered 10 m out, 9 m under the floor) starts at the
        nearest point of its disc inside the rim, on its floor, looking the same way."""
        area = self.walk_area
        feet = self.pos - np.array([0.0, self.eye_height, 0.0])
        r = area.distance(feet)
        off_floor = abs(float(feet[1] - area.centre[1])) > self.eye_height
        if r <= area.radius and not off_floor:
            return
        inside = max(area.radius - area.margin, 0.0)
        c = area.centre
        if r > inside and r > 1e-9:
            k = inside / r
            feet = np.array([c[0] + (feet[0] - c[0]) * k, c[1], c[2] + (feet[2] - c[2]) * k])
        else:
            feet = np.array([feet[0], c[1], feet[2]])
        self.pos = feet + np.array([0.0, self.eye_height, 0.0])

    def _land_where_looking(self, above_ground: bool = False) -> None:
        """Stand on the scene where the view's centre meets it, a body's width in front of
        that spot, looking level the same way. When the view meets nothing to stand on (a
        drone scene's view turned away from the terrain the photos show, over its backdrop:
        a trial fell 50 m onto the backdrop's ground there), where the home view's centre
        meets it, looking level the home view's way; unchanged when neither does.

        What the ray meets high above any ground under it (more than HIGH_LAND eye heights)
        is a floater, not a place to stand by: the ray goes on past it (a drone scene's
        needle 4 m in front of the camera put the walker on a fitted ground plane 40 m
        below, under the terrain the photos show). above_ground: the eye is high above
        ground under it; then a spot to stand on within HIGH_LAND eye heights below the eye
        is a flat floater just in front of it, passed too (standing on one, the walker
        stayed at the drone's height looking into the sky)."""
        landing = self._landing(self.pos, self.forward_local(), above_ground)
        yaw = self.yaw
        if landing is None and self.collider is not None:
            home = self.home
            eye = np.asarray(home.position, np.float64)
            fwd = forward_from_yaw_pitch(home.yaw, home.pitch)
            g = self.collider.ground_at(eye[0], eye[2], eye[1], self.radius * 0.5)
            high = g is not None and eye[1] - g > HIGH_LAND * self.eye_height  # the home's own
            landing = self._landing(eye, fwd, high)
            yaw = home.yaw
        if landing is None:
            return
        spot, g = landing
        self.pos = np.array([spot[0], g + self.eye_height, spot[2]])
        self.yaw, self.pitch = yaw, 0.0

    def _landing(
        self, start: np.ndarray, fwd: np.ndarray, above_ground: bool
    ) -> tuple[np.ndarray, float] | None:
        """(spot, ground height) where the ray from `start` along `fwd` (local frame) meets
        something to stand on (`_land_where_looking`'s rules), or None."""
        col = self.collider
        if col is None:
            return None
        back = fwd.copy()
        back[1] = 0.0
        n = float(np.linalg.norm(back))
        eye_y = float(start[1])
        landing = None
        for _ in range(LAND_TRIES):
            hit = col.raycast(start, fwd)
            if hit is None:
                break
            spot = hit - (back / n) * (self.radius + col.voxel) if n > 1e-6 else hit
            g = col.ground_at(spot[0], spot[2], hit[1] + 0.5 * col.voxel, self.radius * 0.5)
            if g is not None and above_ground and eye_y - g <= HIGH_LAND * self.eye_height:
                g = None  # a flat floater near the eye
            box = col.landing_box
            if g is not None and box is not None:
                if not (box[0][0] <= spot[0] <= box[1][0] and box[0][2] <= spot[2] <= box[1][2]):
                    return landing  # out over the backdrop the photos never showed
            if g is not None:
                if landing is None:
                    landing = (spot, g)
                if hit[1] - g <= HIGH_LAND * self.eye_height:
                    landing = (spot, g)
                    break
            start = hit + fwd * col.voxel  # past the floater
        return landing

    def orbit_about_box(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Orbit about a world-space box (a selected layer's near field: its sky sphere,
        2 km across, framed whole sent the camera out of a reconstruction, a trial). A box
        the view ray crosses (a scene the walker stands in, an object ahead) keeps the view
        and turns about the ray's point nearest the box's centre, as `set_mode` does for the
        scene; one out of view is framed whole."""
        lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        c = 0.5 * (lo + hi)
        eye, fwd = self.position_world, self.forward_world()
        t = float((c - eye) @ fwd)
        on_ray = eye + fwd * t
        pad = 1e-6 + 0.05 * float(np.max(hi - lo))
        if t > 0 and bool(np.all(on_ray >= lo - pad) and np.all(on_ray <= hi + pad)):
            self.set_orbit_target(on_ray, t)
        else:
            self.set_orbit_target(c, float(np.linalg.norm(hi - lo)) * 1.2 + 1e-3)

    def set_orbit_target(self, target_world: np.ndarray, distance: float | None = None) -> None:
        """Orbit around a world point (e.g. the selected object)."""
        self.target = self.rot @ np.asarray(target_world, np.float64)
        if distance is not None:
            self.distance = float(distance)
        self.mode = "orbit"
        self._apply_orbit()

    # ---------------------------------------------------------------- input
    def moves_with(self, key: str) -> bool:
        """Whether held `key` can move the camera in the current mode (INERT_KEYS)."""
        return key not in INERT_KEYS.get(self.mode, frozenset())

    def key_down(self, key: str) -> None:
        self.keys.add(key)
        if key == "space" and self.mode == "walk" and self.on_ground:
            self.vel_up = math.sqrt(2 * self.gravity * JUMP_HEIGHT * self.scale)
            self.on_ground = False
            self._changed = True

    def key_up(self, key: str) -> None:
        self.keys.discard(key)

    def modifier_used(self) -> None:
        """Ctrl went with another key (a shortcut such as Ctrl+S): it is no "down" key
        until pressed again."""
        self.keys.discard("ctrl")

    def release_all(self) -> None:
        """Forget held keys (focus lost)."""
        self.keys.clear()

    def look(self, dx: float, dy: float) -> None:
        """Mouse-look by a pixel delta (right-drag or captured pointer), scaled by
        `look_gain` and with the vertical part flipped when `invert_y`."""
        dx, dy = dx * self.look_gain, dy * self.look_gain * (-1.0 if self.invert_y else 1.0)
        if self.mode == "orbit":
            self.orbit(dx, dy)
            return
        self.yaw -= dx * LOOK_SENSITIVITY
        self.pitch = float(np.clip(self.pitch - dy * LOOK_SENSITIVITY, -MAX_PITCH, MAX_PITCH))
        self._changed = True

    def mark_changed(self) -> None:
        """The next `update` reports a change (settings that alter the view were edited)."""
        self._changed = True

    def orbit(self, dx: float, dy: float) -> None:
        """Orbit the target by a pixel delta (left-drag in orbit mode)."""
        if self.mode != "orbit":
            self.set_mode("orbit")
        self.yaw -= dx * LOOK_SENSITIVITY * 1.5
        self.pitch = float(np.clip(self.pitch - dy * LOOK_SENSITIVITY * 1.5, -MAX_PITCH, MAX_PITCH))
        self._apply_orbit()

    def scroll(self, steps: float) -> None:
        """Wheel / +/-: speed up or slow down (zoom in orbit mode)."""
        if self.mode == "orbit":
            self.distance = float(np.clip(self.distance * 0.85**steps, 1e-3, 1e6))
            self._apply_orbit()
        else:
            self.speed_mult = float(np.clip(self.speed_mult * 1.25**steps, 1 / 64, 64))
        self._changed = True

    # ------------------------------------------------------------- stepping
    def update(self, dt: float) -> bool:
        """Advance by `dt` seconds; True if the camera moved (or a change is pending)."""
        dt = float(min(max(dt, 0.0), 0.1))  # a slow frame must not teleport the walker
        self._ctrl_held = self._ctrl_held + dt if "ctrl" in self.keys else 0.0
        before = (self.pos.copy(), self.yaw, self.pitch)
        if self.mode == "walk":
            self._update_walk(dt)
        elif self.mode == "fly":
            self._update_fly(dt)
        else:
            self._update_orbit(dt)
        # a walker settling by a hair onto a rebuilt collider (an object inserted nearby)
        # is not a move: it started a reduced "moving" frame, a flash of blobs
        moved = (
            not np.allclose(before[0], self.pos, atol=SETTLE_TOL * self.scale, rtol=0)
            or before[1] != self.yaw
            or before[2] != self.pitch
        )
        changed = moved or self._changed
        self._changed = False
        return changed

    def _axis(self, pos_key: str, neg_key: str, alt_pos: str = "", alt_neg: str = "") -> float:
        k = self.keys
        if "ctrl" in k and self._ctrl_held < CTRL_DOWN_DELAY:
            k = k - {"ctrl"}
        return float((pos_key in k or alt_pos in k) - (neg_key in k or alt_neg in k))

    def _smoothed(self, move: np.ndarray, dt: float) -> np.ndarray:
        """Velocity easing towards the keys' direction × speed (a short ramp up and down)."""
        n = float(np.linalg.norm(move))
        target = move / n * self.move_speed if n > 0 else np.zeros(3)
        a = 1.0 - math.exp(-dt / ACCEL_TAU) if dt > 0 else 0.0
        self.vel = self.vel + (target - self.vel) * a
        if n == 0 and float(np.linalg.norm(self.vel)) < 0.02 * WALK_SPEED * self.scale:
            self.vel = np.zeros(3)
        return self.vel

    def _update_fly(self, dt: float) -> None:
        fwd = forward_from_yaw_pitch(self.yaw, self.pitch)
        right = np.array([math.cos(self.yaw), 0.0, -math.sin(self.yaw)])
        f = self._axis("w", "s", "up", "down")
        r = self._axis("d", "a", "right", "left")
        u = self._axis("e", "q") + self._axis("space", "ctrl")
        move = fwd * f + right * r + np.array([0.0, 1.0, 0.0]) * np.clip(u, -1, 1)
        v = self._smoothed(move, dt)
        if v.any():
            self.pos = self.pos + v * dt

    def _update_walk(self, dt: float) -> None:
        fwd = np.array([-math.sin(self.yaw), 0.0, -math.cos(self.yaw)])
        right = np.array([math.cos(self.yaw), 0.0, -math.sin(self.yaw)])
        move = fwd * self._axis("w", "s", "up", "down") + right * self._axis(
            "d", "a", "right", "left"
        )
        v = self._smoothed(move, dt)
        feet = self.pos - np.array([0.0, self.eye_height, 0.0])
        col = self.collider
        if v.any():
            delta = v * dt
            before = feet
            if col is not None:
                feet = col.move(
                    feet, delta, self.radius, self.eye_height + 0.1 * self.scale, self.step_height
                )
            else:
                feet = feet + delta
            if self.walk_area is not None:
                free = feet
                feet = self.walk_area.constrain(before, feet)
                # held back at the rim this step (the status bar says why again)
                self.pushing_rim = bool(np.linalg.norm(free - feet) > 1e-6 * self.scale)
        else:
            self.pushing_rim = False
        if col is None:  # nothing to stand on: keep the height
            self.pos = feet + np.array([0.0, self.eye_height, 0.0])
            self.on_ground = True
            return
        ground = col.ground_at(feet[0], feet[2], feet[1] + self.step_height, self.radius * 0.5)
        if ground is None and v.any():
            # the feet under the floor (a photo's camera held lower than the eye height: the
            # walk starts there, feet in the ground): stand up onto it when moving off, else
            # every step up from under it is too high and the walker cannot leave the spot
            up = col.ground_at(feet[0], feet[2], feet[1] + 0.5 * self.eye_height, self.radius * 0.5)
            if up is not None and up > feet[1]:
                ground = up
                feet[1] = up
                self.vel_up = 0.0
        if ground is None and self.vel_up <= 0:
            # Nothing to land on below (e.g. the floor under a photographer is never in the
            # photos): hover at this height rather than falling out of the world.
            self.vel_up = 0.0
            self.on_ground = True
            self.pos = feet + np.array([0.0, self.eye_height, 0.0])
            return
        self.vel_up -= self.gravity * dt
        new_y = feet[1] + self.vel_up * dt
        if self.vel_up > 0:  # rising: stop at a ceiling
            head = feet.copy()
            head[1] = new_y
            if col.blocked(
                head, self.radius * 0.7, self.eye_height + 0.1 * self.scale, self.step_height
            ):
                new_y, self.vel_up = feet[1], 0.0
        if ground is not None and new_y <= ground:
            new_y, self.vel_up = ground, 0.0
            self.on_ground = True
        else:
            self.on_ground = False
        feet[1] = new_y
        self.pos = feet + np.array([0.0, self.eye_height, 0.0])

    def _update_orbit(self, dt: float) -> None:
        a = self._axis("d", "a", "right", "left")
        e = self._axis("e", "q") + self._axis("up", "down")
        z = self._axis("w", "s")
        if a or e or z:
            rate = 1.2 * dt * (RUN_FACTOR if "shift" in self.keys else 1.0)
            self.yaw += a * rate
            self.pitch = float(np.clip(self.pitch + e * rate, -MAX_PITCH, MAX_PITCH))
            self.distance = float(np.clip(self.distance * math.exp(-z * rate), 1e-3, 1e6))
        # Keep the eye on the orbit without flagging a change: update() sees real motion
        # by comparing poses, and a flag set every frame would keep the view "moving"
        # (low resolution, thinned splats) forever while idle in orbit mode.
        self.pos = self.target - forward_from_yaw_pitch(self.yaw, self.pitch) * self.distance

    def _apply_orbit(self) -> None:
        fwd = forward_from_yaw_pitch(self.yaw, self.pitch)
        self.pos = self.target - fwd * self.distance
        self._changed = True

    # -------------------------------------------------------------- cameras
    def forward_local(self) -> np.ndarray:
        return forward_from_yaw_pitch(self.yaw, self.pitch)

    @property
    def position_world(self) -> np.ndarray:
        """Eye position in the world frame."""
        return self.rot.T @ self.pos

    def forward_world(self) -> np.ndarray:
        return self.rot.T @ self.forward_local()

    def photographed_in_view(self, camera: Camera) -> bool | None:
        """Whether any of the photographed part of a reconstruction whose ground was
        continued as backdrop lies in the view of `camera` (world frame): its box (the
        collider's `landing_box`, local frame) meets the view's pyramid (`box_in_view`) and,
        unless the eye is inside the box, a sample of its splats (`photographed_points`)
        is in the frame. None without such a box."""
        box = self.collider.landing_box if self.collider is not None else None
        if box is None:
            return None
        lo, hi = (np.asarray(b, np.float64) for b in box)
        if not box_in_view(lo, hi, self.rot, camera):
            return False
        pts = self.collider.photographed_points
        if pts is None or not len(pts) or (np.all(self.pos >= lo) and np.all(self.pos <= hi)):
            return True
        # the box is conservative (a drone scene's 300 m box reached into views of the
        # backdrop alone): a sample of its splats in the frame says the scene is there
        uv, z = camera.project(np.asarray(pts, np.float64) @ self.rot)
        return bool(
            (
                (z > 1e-3)
                & (uv[:, 0] >= 0) & (uv[:, 0] < camera.width)
                & (uv[:, 1] >= 0) & (uv[:, 1] < camera.height)
            ).any()
        )  # fmt: skip

    def camera(self, width: int, height: int) -> Camera:
        """The current view as a world-frame Camera of the given size."""
        w, h = max(int(width), 1), max(int(height), 1)
        far = position_problem(self.pos)
        if far:
            # no view from there (a camera raised every frame: black frames, an error a
            # frame); back at the origin, looking the same way
            log.warning("the view's position %s: moved back to the origin", far)
            self.pos = np.zeros(3)
            self.target = self.forward_local() * self.distance
            self.vel_up = 0.0
        loc = Camera.from_yaw_pitch(self.pos, self.yaw, self.pitch, self.view_fov_y(w / h), w, h)
        loc.R = loc.R @ self.rot
        return loc

    def set_view_world(self, position: Any, forward: Any) -> None:
        """Put the eye at a world position looking along a world direction."""
        self.pos = self.rot @ np.asarray(position, np.float64)
        f = self.rot @ np.asarray(forward, np.float64)
        if np.linalg.norm(f) > 1e-12:
            self.yaw, self.pitch = yaw_pitch_from_forward(f)
            self.pitch = float(np.clip(self.pitch, -MAX_PITCH, MAX_PITCH))
        self.vel_up = 0.0
        if self.mode == "orbit":
            self.target = self.pos + self.forward_local() * self.distance
        self._changed = True

    # ------------------------------------------------------------ bookmarks
    def bookmark_view(self) -> tuple[np.ndarray, float, float]:
        """(world position, yaw, pitch) with yaw/pitch of the world-frame forward (+Y up)."""
        yaw, pitch = yaw_pitch_from_forward(self.forward_world())
        return self.position_world.copy(), yaw, pitch

    def view_fov_y(self, aspect: float) -> float:
        """The vertical FOV (degrees) a window of `aspect` (width / height) shows."""
        from scene.world import fit_fov_y

        return fit_fov_y(self.fov_y_deg, self.fit_fov_x_deg, aspect)

    def go_to_bookmark(self, bookmark: Any) -> None:
        """Jump to a scene.world.Bookmark (its yaw/pitch are world-frame, +Y up), with its
        field of view (a photo's bookmark keeps framing the photo: `fit_fov_x_deg`)."""
        self.set_view_world(bookmark.position, forward_from_yaw_pitch(bookmark.yaw, bookmark.pitch))
        if getattr(bookmark, "fov_y_deg", None):
            self.fov_y_deg = float(bookmark.fov_y_deg)
            self.fit_fov_x_deg = float(getattr(bookmark, "fov_x_deg", 0.0) or 0.0)
        if self.mode == "walk":
            self.on_ground = False

    def pick_ray(
        self, x: float, y: float, width: int, height: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """World-space (origin, unit direction) through pixel (x, y) of a width×height view."""
        cam = self.camera(width, height)
        d_cam = np.array([(x - cam.cx) / cam.fx, (y - cam.cy) / cam.fy, 1.0])
        d = cam.R.T @ d_cam
        return cam.position.copy(), d / np.linalg.norm(d)

    def status(self) -> dict[str, Any]:
        """What the status bar shows."""
        p = self.position_world
        out = {"mode": self.mode, "position": p, "speed": self.speed_mult}
        if self.walk_area is not None and self.mode == "walk":
            feet = self.pos - np.array([0.0, self.eye_height, 0.0])
            if self.walk_area.at_edge(feet):
                out["walk_hint"] = self.walk_area.hint
                out["pushing_rim"] = self.pushing_rim
        return out


def pose_from_camera_world(rot_local: np.ndarray, position: Any, forward: Any) -> Pose:
    """Local-frame Pose of a world-frame eye position and view direction."""
    p = rot_local @ np.asarray(position, np.float64)
    f = rot_local @ np.asarray(forward, np.float64)
    yaw, pitch = yaw_pitch_from_forward(f)
    return Pose(p, yaw, float(np.clip(pitch, -MAX_PITCH, MAX_PITCH)))


def local_bounds(lo: np.ndarray, hi: np.ndarray, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds in the local frame of a world box."""
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])],
        np.float64,
    )
    pts = corners @ np.asarray(rot).T
    return pts.min(0), pts.max(0)
