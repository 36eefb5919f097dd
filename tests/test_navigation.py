"""Pure unit tests of navigation, collision and up-axis estimation (no Qt, no GL)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scene.camera import forward_from_yaw_pitch
from scene.gaussians import GaussianCloud
from scene.world import Bookmark
from viewer.collision import Collider
from viewer.navigation import Navigator, local_bounds, scene_scale
from viewer.up_axis import (
    axis_name,
    estimate_up,
    snap_to_axis,
    up_from_cameras,
    up_from_points,
    up_rotation,
    world_dense_points,
)


def room_cloud(
    size: float = 10.0,
    spacing: float = 0.08,
    wall_z: float | None = -3.0,
    floaters: int = 0,
    seed: int = 0,
) -> GaussianCloud:
    """A floor at y=0 spanning ±size/2, optionally a wall (plane z=wall_z, 3 m high)."""
    rng = np.random.default_rng(seed)
    g = np.arange(-size / 2, size / 2, spacing)
    fx, fz = np.meshgrid(g, g)
    floor = np.stack([fx.ravel(), rng.normal(0, 0.005, fx.size), fz.ravel()], 1)
    parts = [floor]
    if wall_z is not None:
        h = np.arange(0.0, 3.0, spacing)
        wx, wy = np.meshgrid(g, h)
        parts.append(np.stack([wx.ravel(), wy.ravel(), np.full(wx.size, wall_z)], 1))
    if floaters:
        parts.append(rng.uniform([-4, 0.3, -2], [4, 2.5, 4], (floaters, 3)))
    pts = np.concatenate(parts)
    cols = np.full((len(pts), 3), 0.6)
    return GaussianCloud.from_points(pts, cols, spacing * 0.6, opacity=0.95)


def walker(cloud: GaussianCloud, up=(0, 1, 0)) -> Navigator:
    nav = Navigator()
    rot = up_rotation(up)
    lo, hi = local_bounds(*cloud.bounds(), rot)
    col = Collider.from_cloud(cloud, rot)
    nav.set_scene(lo, hi, up_rot=rot, collider=col, scale=scene_scale(lo, hi))
    return nav


def run(nav: Navigator, seconds: float, dt: float = 1 / 60) -> None:
    for _ in range(int(round(seconds / dt))):
        nav.update(dt)


def test_walker_falls_onto_the_ground_and_stands_at_eye_height() -> None:
    nav = walker(room_cloud())
    assert nav.mode == "walk"
    nav.pos = np.array([0.0, 5.0, 0.0])  # drop from 5 m
    run(nav, 2.0)
    assert nav.on_ground
    assert nav.pos[1] == pytest.approx(1.6, abs=0.05)


def test_walk_from_a_low_fly_view_stands_on_the_floor_not_under_it() -> None:
    nav = walker(room_cloud(wall_z=None))
    nav.set_mode("fly")
    nav.pos = np.array([0.5, 0.6, 0.5])  # eye 0.6 m above the floor (e.g. after orbiting)
    nav.set_mode("walk")
    run(nav, 1.0)
    assert nav.on_ground and nav.pos[1] == pytest.approx(1.6, abs=0.05)


@pytest.mark.slow
def test_walker_stops_at_a_wall_and_slides_along_it() -> None:
    nav = walker(room_cloud(wall_z=-3.0))
    nav.pos = np.array([0.0, 1.6, 0.0])
    nav.yaw = 0.0  # looking along -Z, towards the wall
    run(nav, 0.3)
    nav.key_down("w")
    run(nav, 4.0)  # 10 m of walking would pass the wall at z=-3
    assert -3.0 + nav.radius * 0.5 < nav.pos[2] < -2.5
    # the eye stays beyond the renderer's near cull: a wall at 0.195 m was not drawn
    from scene.splatting import NEAR_CULL

    assert nav.pos[2] + 3.0 > NEAR_CULL + 0.05
    # Diagonal walking slides along the wall (moves in x) instead of sticking.
    nav.yaw = math.radians(-30)  # forward turns right: +x and -z
    x0 = nav.pos[0]
    run(nav, 1.0)
    assert nav.pos[0] > x0 + 0.5
    assert nav.pos[2] > -3.0


def test_fly_mode_passes_through_walls_and_moves_up() -> None:
    nav = walker(room_cloud(wall_z=-3.0))
    nav.set_mode("fly")
    nav.pos = np.array([0.0, 1.6, 0.0])
    nav.key_down("w")
    run(nav, 2.0)
    assert nav.pos[2] < -4.0
    nav.key_up("w")
    y0 = nav.pos[1]
    nav.key_down("e")
    run(nav, 1.0)
    assert nav.pos[1] > y0 + 2.0


def test_ctrl_descends_only_when_held_alone() -> None:
    """Ctrl is Fly mode's "down" and the first key of every shortcut: Ctrl+S dropped the
    camera 0.24 m while the Save dialog opened. It moves only once held alone for
    CTRL_DOWN_DELAY, and a key pressed with it (a shortcut) cancels it."""
    from viewer.navigation import CTRL_DOWN_DELAY

    nav = walker(room_cloud(wall_z=None))
    nav.set_mode("fly")
    nav.pos = np.array([0.0, 3.0, 0.0])
    nav.key_down("ctrl")
    run(nav, 0.8 * CTRL_DOWN_DELAY)
    assert nav.pos[1] == pytest.approx(3.0)
    nav.modifier_used()  # Ctrl+S
    run(nav, 1.0)
    assert nav.pos[1] == pytest.approx(3.0)
    nav.key_down("ctrl")  # pressed again and held alone: down
    run(nav, 1.0)
    assert nav.pos[1] < 3.0 - 0.5


def test_shift_runs_and_wheel_changes_speed() -> None:
    nav = walker(room_cloud(wall_z=None))
    nav.set_mode("fly")
    base = nav.move_speed
    nav.key_down("shift")
    assert nav.move_speed == pytest.approx(3 * base)
    nav.key_up("shift")
    nav.scroll(2)
    assert nav.move_speed == pytest.approx(base * 1.25**2)


def test_walking_a_reconstruction_crosses_its_photos_distance_in_seconds() -> None:
    """A capture of unknown scale (its photos 2 units from what they show) is walked and
    flown at 2 / SUBJECT_CROSS_S units/s, not 2.5 (into the subject in under a second);
    a far subject keeps WALK_SPEED, orbit mode ignores it, and the floor holds."""
    from viewer.navigation import AREA_MIN_SPEED, SUBJECT_CROSS_S, WALK_SPEED

    nav = walker(room_cloud(wall_z=None))
    assert nav.move_speed == pytest.approx(WALK_SPEED * nav.scale)
    nav.subject_distance = 2.0
    assert nav.move_speed == pytest.approx(2.0 / SUBJECT_CROSS_S)
    nav.set_mode("fly")
    assert nav.move_speed == pytest.approx(2.0 / SUBJECT_CROSS_S)
    nav.key_down("shift")
    assert nav.move_speed == pytest.approx(3 * 2.0 / SUBJECT_CROSS_S)
    nav.key_up("shift")
    nav.subject_distance = 50.0
    assert nav.move_speed == pytest.approx(WALK_SPEED * nav.scale)
    nav.subject_distance = 1e-6
    assert nav.move_speed == pytest.approx(0.25 * AREA_MIN_SPEED * nav.scale)


def test_floaters_do_not_block_the_walker() -> None:
    nav = walker(room_cloud(wall_z=None, floaters=60))
    nav.pos = np.array([0.0, 1.6, 3.0])
    run(nav, 0.3)
    nav.key_down("w")
    run(nav, 2.0)
    assert nav.pos[2] < 3.0 - 3.5  # ~5 m/s... at least 3.5 m covered: nothing stopped us


def test_jump_goes_up_and_lands() -> None:
    nav = walker(room_cloud(wall_z=None))
    nav.pos = np.array([0.0, 1.6, 0.0])
    run(nav, 0.2)
    assert nav.on_ground
    nav.key_down("space")
    nav.key_up("space")
    peak = 0.0
    for _ in range(120):
        nav.update(1 / 60)
        peak = max(peak, nav.pos[1])
    assert peak > 1.6 + 0.4
    assert nav.pos[1] == pytest.approx(1.6, abs=0.05)


def test_walk_steps_onto_a_low_ledge_but_not_a_wall() -> None:
    floor = room_cloud(wall_z=None)
    g = np.arange(-1, 1, 0.08)
    lx, lz = np.meshgrid(g, np.arange(-2.0, -1.0, 0.08))
    ledge = np.stack([lx.ravel(), np.full(lx.size, 0.2), lz.ravel()], 1)
    cloud = GaussianCloud.concatenate(
        [floor, GaussianCloud.from_points(ledge, np.full((len(ledge), 3), 0.5), 0.05)]
    )
    nav = walker(cloud)
    nav.pos = np.array([0.0, 1.6, 0.0])
    run(nav, 0.3)
    nav.key_down("w")
    run(nav, 0.55)
    assert -2.0 < nav.pos[2] < -1.0
    assert nav.pos[1] == pytest.approx(1.8, abs=0.06)


def test_up_axis_rotation_and_z_up_scene_walks() -> None:
    r = up_rotation([0, 0, 1])
    assert np.allclose(r @ [0, 0, 1], [0, 1, 0])
    assert np.allclose(up_rotation([0, -1, 0]) @ [0, -1, 0], [0, 1, 0])
    assert np.allclose(r @ r.T, np.eye(3))
    # A Z-up version of the room: the walker stands 1.6 above the floor along +Z.
    cloud = room_cloud(wall_z=None)
    swap = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float64)  # y -> z
    m = np.eye(4)
    m[:3, :3] = swap
    zup = cloud.transformed(m)
    nav = walker(zup, up=(0, 0, 1))
    nav.pos = np.array([0.0, 4.0, 0.0])
    run(nav, 2.0)
    assert nav.position_world[2] == pytest.approx(1.6, abs=0.05)
    cam = nav.camera(64, 48)
    assert np.allclose(cam.up, [0, 0, 1], atol=1e-6)


@pytest.mark.slow
def test_up_estimated_from_floor_and_cameras() -> None:
    cloud = room_cloud(wall_z=-3.0)
    n, frac = up_from_points(cloud.means)
    assert float(n @ [0, 1, 0]) > 0.99 and frac > 0.3
    flipped = cloud.transformed(np.diag([1.0, -1.0, -1.0, 1.0]))
    n2, _ = up_from_points(flipped.means)
    assert float(n2 @ [0, -1, 0]) > 0.99
    assert axis_name(snap_to_axis(n2)) == "-Y"
    # Cameras looking level in a -Y-up (OpenCV-like) world.
    rots = [np.diag([1.0, -1.0, -1.0]) @ np.eye(3) for _ in range(3)]
    assert np.allclose(up_from_cameras([np.diag([1.0, 1.0, 1.0])]), [0, -1, 0])
    assert up_from_cameras([]) is None

    class W:
        meta = {"cameras": [{"R": np.eye(3)}]}
        up_axis = np.array([0.0, 1.0, 0.0])

    up, src = estimate_up(W(), cloud.means)
    assert src == "cameras" and np.allclose(up, [0, -1, 0])
    W.meta = {}
    up, src = estimate_up(W(), flipped.means)
    assert src == "floor" and np.allclose(up, [0, -1, 0])
    assert rots  # silence unused


def test_estimate_up_of_a_rolled_orbit_stands_it_on_its_table() -> None:
    """View > Up Axis > Estimate from Scene on a reconstructed object orbit (cameras in
    World.meta turned every way, pointed down at a table) takes up from the table its
    object stands on, as opening the reconstruction does: 'held level' alone was 10°+ off.
    Records of rotations only keep the level estimate."""
    from test_recon_frame import _angle, _moved, _rolled, _tilt, ring, tabletop_points

    from generators.reconstruct.pipeline import camera_records
    from scene.camera import level_up_from_rotations

    r = _tilt(40.0)
    true_up = r @ np.array([0.0, 1.0, 0.0])
    cams = _rolled(ring(11, 0.6, 50, span=227.0, jitter=0.08, seed=3), seed=1)
    pts, _ = tabletop_points(0.6)
    cams, pts = _moved(cams, pts, r)
    records = camera_records(cams)  # as a reconstruction's world records them

    class W:
        meta = {"cameras": records}
        up_axis = np.array([0.0, 1.0, 0.0])

    level = level_up_from_rotations([c.R for c in cams])
    assert _angle(level, true_up) > 10.0
    up, src = estimate_up(W(), pts)
    assert src == "cameras" and _angle(up, true_up) < 2.0
    up, src = estimate_up(W(), None)  # no points: the orbit's axis
    assert src == "cameras" and _angle(up, true_up) < 5.0
    W.meta = {"cameras": [{"R": rec["R"]} for rec in records]}
    up, src = estimate_up(W(), pts)
    assert src == "cameras" and _angle(up, level) < 1e-6


def test_bookmarks_round_trip_through_world_frame() -> None:
    nav = walker(room_cloud(wall_z=None), up=(0, 1, 0))
    nav.set_mode("fly")
    nav.pos = np.array([1.0, 2.0, 3.0])
    nav.yaw, nav.pitch = 0.4, -0.2
    p, yaw, pitch = nav.bookmark_view()
    nav.reset()
    nav.set_mode("fly")
    nav.go_to_bookmark(Bookmark("b", p, yaw, pitch, 60.0))
    assert np.allclose(nav.pos, [1, 2, 3])
    assert nav.yaw == pytest.approx(0.4) and nav.pitch == pytest.approx(-0.2)


def test_orbit_keeps_distance_to_target_and_camera_looks_at_it() -> None:
    nav = walker(room_cloud(wall_z=None))
    nav.set_orbit_target(np.array([0.0, 1.0, 0.0]), distance=4.0)
    for _ in range(10):
        nav.orbit(15, 5)
    assert np.linalg.norm(nav.pos - [0, 1, 0]) == pytest.approx(4.0)
    cam = nav.camera(100, 100)
    uv, z = cam.project(np.array([[0.0, 1.0, 0.0]]))
    assert np.allclose(uv, [[50, 50]], atol=1e-6) and z[0] > 0
    nav.scroll(3)
    assert np.linalg.norm(nav.pos - [0, 1, 0]) < 4.0


def test_idle_orbit_reports_no_motion_so_the_view_can_refine() -> None:
    nav = walker(room_cloud(wall_z=None))
    nav.set_mode("orbit")
    nav.update(0.016)
    assert not any(nav.update(0.016) for _ in range(5))
    nav.key_down("d")
    assert nav.update(0.016)
    nav.key_up("d")
    nav.update(0.016)
    assert not nav.update(0.016)


def test_pick_ray_through_centre_is_forward() -> None:
    nav = Navigator()
    nav.pos = np.array([0.0, 1.0, 2.0])
    nav.yaw, nav.pitch = 0.3, 0.1
    o, d = nav.pick_ray(50, 40, 100, 80)
    assert np.allclose(o, nav.pos) and np.allclose(d, forward_from_yaw_pitch(0.3, 0.1))


def test_collider_rejects_transparent_and_empty_clouds() -> None:
    assert Collider.from_cloud(GaussianCloud.empty()) is None
    c = room_cloud(wall_z=None)
    c.opacities[:] = -10  # nearly invisible
    assert Collider.from_cloud(c) is None


def test_scene_scale_guesses_units() -> None:
    assert scene_scale(np.zeros(3), np.array([10.0, 3.0, 8.0])) == 1.0
    assert scene_scale(np.zeros(3), np.array([0.5, 0.5, 0.5])) == pytest.approx(0.5 / 8)
    assert scene_scale(np.zeros(3), np.array([0.5, 0.5, 0.5]), units="m") == 1.0


def test_big_dt_does_not_teleport_through_walls() -> None:
    nav = walker(room_cloud(wall_z=-3.0))
    nav.pos = np.array([0.0, 1.6, -2.5])
    run(nav, 0.2)
    nav.key_down("w")
    nav.key_down("shift")
    nav.speed_mult = 8.0
    for _ in range(5):
        nav.update(1.0)  # clamped to 0.1 s; sub-stepped inside the collider
    assert nav.pos[2] > -3.0


@pytest.mark.slow
def test_walker_stays_out_of_a_corner_and_eases_speed() -> None:
    cloud = room_cloud(wall_z=-3.0)
    g = np.arange(-5, 5, 0.08)
    h = np.arange(0.0, 3.0, 0.08)
    wz, wy = np.meshgrid(g, h)
    side = np.stack([np.full(wz.size, 2.0), wy.ravel(), wz.ravel()], 1)
    cloud = GaussianCloud.concatenate(
        [cloud, GaussianCloud.from_points(side, np.full((len(side), 3), 0.5), 0.05, 0.95)]
    )
    nav = walker(cloud)
    nav.pos = np.array([0.0, 1.6, 0.0])
    nav.yaw = math.radians(-45)  # towards +x, -z: the corner
    run(nav, 0.3)
    nav.key_down("w")
    nav.update(1 / 60)
    assert 0 < np.linalg.norm(nav.vel) < nav.move_speed  # ramps up, no instant jump
    run(nav, 4.0)
    assert 2.0 - nav.radius - 0.1 < nav.pos[0] < 2.0
    assert -3.0 < nav.pos[2] < -3.0 + nav.radius + 0.1
    nav.key_up("w")
    run(nav, 0.5)
    assert np.linalg.norm(nav.vel) == 0.0  # and eases to a stop


def test_walker_follows_a_ramp_up_and_down() -> None:
    g = np.arange(-3, 3, 0.06)
    x, z = np.meshgrid(g, np.arange(-8, 2, 0.06))
    y = np.clip(-z * 0.25, 0, None)  # flat for z > 0, rising 1 m per 4 m towards -z
    pts = np.stack([x.ravel(), y.ravel(), z.ravel()], 1)
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.04, 0.95)
    nav = walker(cloud)
    nav.pos = np.array([0.0, 1.6, 1.0])
    nav.yaw = 0.0
    run(nav, 0.3)
    nav.key_down("w")
    run(nav, 2.0)
    z_now = nav.pos[2]
    assert z_now < -2.5
    assert nav.pos[1] == pytest.approx(1.6 + max(-z_now * 0.25, 0), abs=0.12)
    nav.key_up("w")
    nav.key_down("s")
    run(nav, 2.5)
    assert nav.pos[1] == pytest.approx(1.6 + max(-nav.pos[2] * 0.25, 0), abs=0.12)


def test_walker_hovers_where_nothing_is_below_and_lands_once_over_ground() -> None:
    """Photo sets never show the floor under the photographer: no ground -> no fall."""
    nav = walker(room_cloud(wall_z=None))
    nav.pos = np.array([20.0, 5.0, 0.0])  # beyond the floor's edge, 5 m up
    run(nav, 2.0)
    assert nav.pos[1] == pytest.approx(5.0)
    nav.pos = np.array([0.0, 5.0, 0.0])  # over the floor: falls and stands at eye height
    run(nav, 3.0)
    assert nav.pos[1] == pytest.approx(nav.eye_height, abs=0.05)


def test_orbit_frames_the_scene_not_its_sky_dome() -> None:
    """A photo world carries a sky dome hundreds of metres out; switching to orbit must
    circle the scene proper (World.near_bounds), not swing the eye 80 m out (seen in use:
    M → orbit put the camera at (0, 12, 112), outside the dome)."""
    from scene.world import Layer, World

    room = room_cloud(wall_z=None)
    rng = np.random.default_rng(0)
    d = rng.normal(size=(3000, 3))
    dome = 400.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    sky = GaussianCloud.from_points(dome, np.full((len(dome), 3), 0.6), 8.0, opacity=0.95)
    world = World()
    world.add_layer(Layer(name="w", data=GaussianCloud.concatenate([room, sky])))
    lo, hi = world.bounds()
    nlo, nhi = world.near_bounds()
    assert np.max(hi - lo) > 700 and np.max(nhi - nlo) < 15
    nav = Navigator()
    rot = np.eye(3)
    nav.set_scene(
        *local_bounds(lo, hi, rot),
        up_rot=rot,
        collider=None,
        scale=1.0,
        focus=lambda: local_bounds(nlo, nhi, rot),
    )
    nav.set_view_world([0.0, 1.6, 3.0], [0.0, 0.0, -1.0])
    nav.set_mode("orbit")
    assert nav.distance < 10.0
    nav.orbit(400.0, 0.0)  # half a turn or so around the target
    assert np.linalg.norm(nav.position_world) < 15.0


def test_world_dense_points_are_the_merged_clouds_opaque_centres() -> None:
    """The floor fit's points: every layer's opaque centres with its transform applied, as
    merging the clouds would give, hidden layers only when asked, subsampled when many."""
    from scene.world import Layer, World

    w = World()
    a = room_cloud(size=2.0, spacing=0.2)
    b = room_cloud(size=2.0, spacing=0.25, seed=1)
    b.opacities[: len(b) // 2] = -5.0  # transparent: not floor evidence
    w.add_layer(Layer("a", a))
    lay = Layer("b", b)
    m = np.eye(4)
    m[:3, :3] = 2.0 * np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]])
    m[:3, 3] = [1, 2, 3]
    lay.transform = m
    w.add_layer(lay)
    merged = w.merged_cloud(visible_only=False)
    want = merged.means[merged.opacity_values() >= 0.3]
    got = world_dense_points(w, visible_only=False)
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-4)
    lay.visible = False
    assert len(world_dense_points(w)) == int((a.opacity_values() >= 0.3).sum())
    assert len(world_dense_points(w, visible_only=False, max_points=50)) == 50
    assert world_dense_points(World()).shape == (0, 3)


def test_box_sum3_is_scipys_uniform_filter_times_27() -> None:
    """The collider's neighbour count: a zero-padded 3×3×3 box sum (scipy's filter, no import)."""
    from scipy.ndimage import uniform_filter

    from viewer.collision import box_sum3

    a = np.random.default_rng(0).integers(0, 5, (7, 4, 9)).astype(np.float32)
    np.testing.assert_allclose(box_sum3(a), uniform_filter(a, 3, mode="constant") * 27, atol=1e-4)
    one = np.zeros((3, 3, 3), np.float32)
    one[0, 0, 0] = 1.0
    assert box_sum3(one).sum() == 8.0  # a corner cell reaches 2×2×2 cells


def test_an_object_opens_orbited_from_outside_not_walked_inside() -> None:
    """A 1.2 m cup (a table top for a 'floor') put the walker's eye inside it; a thing
    smaller than a room is orbited instead, the whole of it in view."""
    rng = np.random.default_rng(2)
    top = np.stack(
        [rng.uniform(-0.6, 0.6, 4000), np.full(4000, 0.8), rng.uniform(-0.4, 0.4, 4000)], 1
    )
    side = np.stack(
        [rng.uniform(-0.6, 0.6, 2000), rng.uniform(0.0, 0.8, 2000), np.full(2000, 0.4)], 1
    )
    pts = np.concatenate([top, side])
    cup = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.02, opacity=0.95)
    nav = walker(cup)
    assert nav.mode == "orbit"
    lo, hi = local_bounds(*cup.bounds(), up_rotation((0, 1, 0)))
    assert not np.all((nav.pos > lo) & (nav.pos < hi))  # the eye is outside the object
    fwd = nav.forward_local()
    to_centre = 0.5 * (lo + hi) - nav.pos
    cos = float(fwd @ to_centre) / float(np.linalg.norm(to_centre))
    assert cos > 0.99  # looking at it
    assert nav.pos[1] > hi[1]  # from a little above
    # a room still opens standing on its floor
    assert walker(room_cloud()).mode == "walk"


def test_wanders_own_object_file_is_y_up_whatever_its_largest_face(tmp_path) -> None:
    """An object's flat base or back looked like a floor to the plane fit (a cup photo's
    object came out '+Z up'); a splat file whose provenance says Wander made it is +Y up,
    Wander's convention, and a file from elsewhere still gets the estimate."""
    from generators.jobs import CancelToken
    from generators.objects.files import write_cloud
    from scene.io import save
    from viewer.main_window import load_scene_file

    rng = np.random.default_rng(4)
    # a plate standing upright: its big face is the plane z = 0
    pts = np.stack([rng.uniform(-0.5, 0.5, 6000), rng.uniform(0, 1, 6000), np.zeros(6000)], 1)
    plate = GaussianCloud.from_points(pts, np.full((6000, 3), 0.5), 0.01, opacity=0.95)
    plate.meta = {"generator": "wander.objects", "backend": "classical"}
    ours = tmp_path / "ours.ply"
    write_cloud(plate, ours)
    world, _ = load_scene_file(ours, lambda f, m: None, CancelToken())
    assert np.allclose(world.up_axis, [0, 1, 0])
    assert "Wander" in world.meta["up_axis_source"]
    plate.meta = {}
    theirs = tmp_path / "theirs.ply"
    save(plate, theirs)
    world2, _ = load_scene_file(theirs, lambda f, m: None, CancelToken())
    assert world2.meta["up_axis_source"] == "floor"
    assert abs(float(world2.up_axis[2])) > 0.99  # the plate's face, as estimated


def test_a_walker_settling_by_a_hair_is_not_a_move(monkeypatch: pytest.MonkeyPatch) -> None:
    """After an object was inserted the walk collider was rebuilt and the walker settled by
    a few nanometres: `update` said the camera moved, the viewport drew a reduced moving
    frame, and the world flashed as blurred blobs. A real step still counts."""
    nav = Navigator()
    nav.set_mode("walk")
    for step, moved in ((2e-7, False), (1e-3, True)):
        monkeypatch.setattr(
            nav, "_update_walk", lambda dt, s=step: setattr(nav, "pos", nav.pos + [0, s, 0])
        )
        nav.update(0.016)  # clear any pending change
        assert nav.update(0.016) is moved


def test_walk_from_a_drone_view_lands_where_the_view_meets_the_scene() -> None:
    """From an aerial reconstruction's first photo (30 m up, looking down at a hill
    ahead), View > Walk fell 52 m onto the backdrop's ground disc under the cameras, 24 m
    below the hill (a trial). The walker now lands on the hill where the view's centre meets
    it, looking level the same way."""
    rng = np.random.default_rng(5)
    g = np.arange(-60, 60, 0.5)
    xx, zz = np.meshgrid(g, g)
    low = np.stack([xx.ravel(), np.full(xx.size, -24.0), zz.ravel()], 1)  # the far-below disc
    hx, hz = np.meshgrid(np.arange(-15, 15, 0.3), np.arange(-100, -60, 0.3))
    hill = np.stack([hx.ravel(), 10.0 + rng.normal(0, 0.02, hx.size), hz.ravel()], 1)
    pts = np.concatenate([low, hill])
    nav = walker(GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.3, opacity=0.95))
    nav.set_mode("fly")
    nav.pos = np.array([0.0, 30.0, 0.0])
    nav.yaw, nav.pitch = 0.0, math.radians(-15.0)  # looking -Z, down at the hill
    nav.set_mode("walk")
    assert nav.pos[1] == pytest.approx(10.0 + nav.eye_height, abs=0.5)
    assert -100 < nav.pos[2] < -60 and nav.pitch == 0.0
    run(nav, 1.0)
    assert nav.on_ground and nav.pos[1] == pytest.approx(10.0 + nav.eye_height, abs=0.5)
    # looking at the sky from up there: nothing to land on ahead, it drops as before
    nav.set_mode("fly")
    nav.pos, nav.pitch = np.array([0.0, 30.0, 0.0]), math.radians(10.0)
    nav.set_mode("walk")
    assert nav.pos[1] == pytest.approx(30.0)
    # a floater a few metres in front of the camera (a reconstruction's needles): the view
    # passes it and still lands on the hill (it landed on the disc 48 m under the floater)
    fx, fy = np.meshgrid(np.arange(-1.0, 1.0, 0.2), np.arange(27.0, 30.0, 0.2))
    floater = np.stack([fx.ravel(), fy.ravel(), np.full(fx.size, -5.0)], 1)  # upright
    # a tall rock far off keeps the floater inside the collider's grid
    tx, ty = np.meshgrid(np.arange(40.0, 44.0, 0.3), np.arange(-24.0, 40.0, 0.3))
    tower = np.stack([tx.ravel(), ty.ravel(), np.full(tx.size, 40.0)], 1)
    _lands_on_the_hill(np.concatenate([pts, floater, tower]))
    # a flat floater just in front and below the eye (a blob the view meets 1.2 m down):
    # there is ground on it, but no place to stand by (a trial stood 2 m from the camera
    # on one, looking into the sky); the view passes it and lands on the hill
    px, pz = np.meshgrid(np.arange(-1.0, 1.0, 0.1), np.arange(-5.5, -3.5, 0.1))
    patch = np.stack([px.ravel(), np.full(px.size, 28.8), pz.ravel()], 1)
    _lands_on_the_hill(np.concatenate([pts, patch, tower]))


def _lands_on_the_hill(pts: np.ndarray) -> None:
    """Walk from 30 m up looking 15° down at the hill (y = 10, z -100..-60) of
    `test_walk_from_a_drone_view_lands_where_the_view_meets_the_scene` lands on it."""
    nav = walker(GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.3, opacity=0.95))
    nav.set_mode("fly")
    nav.pos = np.array([0.0, 30.0, 0.0])
    nav.yaw, nav.pitch = 0.0, math.radians(-15.0)
    nav.set_mode("walk")
    assert nav.pos[1] == pytest.approx(10.0 + nav.eye_height, abs=0.5)
    assert -100 < nav.pos[2] < -60


def test_a_walk_starting_with_the_feet_under_the_floor_stands_up_and_walks() -> None:
    """A reconstruction opens in Walk at its first photo's camera, held 1.25 m above the
    ground where a walker's eye is 1.6 m: the feet started under the floor, every
    step up onto it was too high, and holding W for 5 s moved 1 m (a trial). The walker
    now stands up onto the floor when it moves off, and walks."""
    from viewer.navigation import Pose

    g = np.arange(-20, 20, 0.25)
    xx, zz = np.meshgrid(g, g)
    floor = np.stack([xx.ravel(), np.zeros(xx.size), zz.ravel()], 1)
    nav = walker(GaussianCloud.from_points(floor, np.full((len(floor), 3), 0.5), 0.2, 0.95))
    nav.set_home(Pose(np.array([0.0, 1.1, 0.0]), 0.0, 0.0), "walk")
    assert nav.mode == "walk" and nav.pos[1] == pytest.approx(1.1)  # the photo's view
    nav.key_down("w")
    run(nav, 3.0)
    nav.key_up("w")
    assert nav.pos[2] < -4.0, nav.pos  # walked on
    assert nav.pos[1] == pytest.approx(nav.eye_height, abs=0.2)  # standing on the floor


def test_a_view_beyond_the_cameras_reach_goes_back_to_the_origin() -> None:
    """A view at 1e30 m (a hostile project's bookmark) made every frame raise: black
    frames and an error each frame (a trial). The view comes back to the origin."""
    from viewer.navigation import Navigator

    nav = Navigator()
    nav.pos = np.array([1e30, 1e30, 1e30])
    cam = nav.camera(64, 48)
    assert np.allclose(cam.position, 0.0) and np.allclose(nav.pos, 0.0)


def _terrain_patch() -> np.ndarray:
    """(N, 3) points of a flat 40 x 40 m patch at y = 0, 40-80 m in front (-Z)."""
    g = np.arange(-20.0, 20.0, 0.4)
    hx, hz = np.meshgrid(g, g - 60.0)
    return np.stack([hx.ravel(), np.zeros(hx.size), hz.ravel()], 1)


def _drone_world(terrain: np.ndarray):  # noqa: ANN202 - a scene.world.World
    """A drone reconstruction's world: the photographed `terrain` (N, 3), then its backdrop
    ground discs (rings 5-500 m out, 5 m under it; `meta["backdrop"]`), then a far-field
    sky sphere of 900 m (`meta["far_field"]`)."""
    from scene.world import Layer, World

    r, a = np.meshgrid(np.arange(5.0, 500.0, 4.0), np.linspace(0, 2 * np.pi, 180, endpoint=False))
    discs = np.stack([(r * np.cos(a)).ravel(), np.full(r.size, -5.0), (r * np.sin(a)).ravel()], 1)
    d = np.random.default_rng(1).normal(size=(300, 3))
    sky = 900.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([terrain, discs, sky]).astype(np.float32)
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.4, opacity=0.95)
    cloud.meta["backdrop"] = {"ground_discs": len(discs)}
    cloud.meta["far_field"] = {"count": len(sky), "kind": "sky sphere"}
    world = World()
    world.add_layer(Layer("scene", cloud, "world"))
    return world


def test_walk_from_a_drone_view_turned_away_lands_on_the_photographed_scene() -> None:
    """A trial turned 90° from an aerial reconstruction's first photo and chose Walk: the
    walker landed 140 m out on the backdrop's ground discs (where no photo looked, the
    scene out of sight), or fell 50 m onto them. The discs reach half way to the sky (870 m
    round 300 m of terrain), so the collider's grid also spanned them at 11 m voxels. Now
    the discs collide only near the photographed scene (a fine grid), and a view that
    meets nothing to stand on inside it lands where the home view's centre meets it."""
    from viewer.collision import collider_for
    from viewer.navigation import Pose

    world = _drone_world(_terrain_patch())
    col = collider_for(world)
    assert col is not None and col.voxel < 1.0  # the grid spans the scene, not the discs
    lo, hi = col.landing_box
    assert lo[0] == pytest.approx(-20.0, abs=0.5) and hi[2] == pytest.approx(-40.4, abs=0.5)
    nav = Navigator()
    nav.collider = col
    home = Pose(np.array([0.0, 30.0, 0.0]), 0.0, math.radians(-25.0))  # at the terrain
    nav.home = home
    for turn in (0.0, 90.0, -90.0):
        nav.mode = "fly"
        nav.pos = home.position.copy()
        nav.yaw, nav.pitch = math.radians(turn), home.pitch
        nav.set_mode("walk")
        assert nav.pos[1] == pytest.approx(nav.eye_height, abs=0.5)  # on the terrain
        assert -80 < nav.pos[2] < -40 and abs(nav.pos[0]) < 20
        assert nav.yaw == pytest.approx(0.0) and nav.pitch == 0.0  # the home view's way


def test_a_view_turned_away_from_all_a_reconstruction_photographed_is_told_so() -> None:
    """The drone scene above: facing its terrain the photographed part is in view; turned
    round (the backdrop's ground and sky alone, "grey static" to a trial with no hint
    where the scene was) it is not; a scene without backdrop discs cannot tell (None)."""
    from scene.world import Layer, World
    from viewer.collision import collider_for
    from viewer.main_window import BACKDROP_ONLY

    world = _drone_world(_terrain_patch())
    nav = Navigator()
    nav.collider = collider_for(world)
    nav.pos = np.array([0.0, 30.0, 0.0])
    nav.pitch = math.radians(-25.0)
    seen = {}
    for turn in (0.0, 40.0, 90.0, 180.0):
        nav.yaw = math.radians(turn)
        seen[turn] = nav.photographed_in_view(nav.camera(320, 240))
    assert seen == {0.0: True, 40.0: True, 90.0: False, 180.0: False}
    nav.pos = np.array([0.0, 1.0, -60.0])  # standing in it: in view whichever way
    assert nav.photographed_in_view(nav.camera(320, 240)) is True
    room = World()
    room.add_layer(Layer("room", room_cloud()))
    nav.collider = collider_for(room)
    assert nav.photographed_in_view(nav.camera(320, 240)) is None
    assert "R goes back" in BACKDROP_ONLY


def test_a_view_into_the_photographed_box_but_not_its_splats_is_backdrop_only() -> None:
    """The photographed scene's box is conservative: turned 90° from the Great Wall's photos,
    its 300 m box was still in view with none of its splats (4k of 162k drawn, all
    backdrop) and the hint stayed quiet (a trial). A sample of its splats decides."""
    from viewer.collision import collider_for

    g = np.arange(0.0, 10.0, 0.4)
    a1, b1 = np.meshgrid(g - 20.0, g * 4 - 80.0)  # x -20..-10, z -80..-40
    a2, b2 = np.meshgrid(g + 10.0, g - 80.0)  # x 10..20, z -80..-70
    terrain = np.stack(
        [np.r_[a1.ravel(), a2.ravel()], np.zeros(a1.size + a2.size), np.r_[b1.ravel(), b2.ravel()]],
        1,
    )
    world = _drone_world(terrain)
    nav = Navigator()
    nav.collider = collider_for(world)
    assert nav.collider.photographed_points is not None
    nav.pos = np.array([4.0, 5.0, -50.0])  # over the box's empty middle, looking down
    nav.yaw, nav.pitch = 0.0, math.radians(-89.0)
    from viewer.navigation import box_in_view

    cam = nav.camera(160, 120)
    lo, hi = nav.collider.landing_box
    assert box_in_view(lo, hi, nav.rot, cam)  # the box is in view ...
    assert nav.photographed_in_view(cam) is False  # ... none of the scene is
    nav.pos = np.array([-15.0, 5.0, -60.0])  # over the first patch
    assert nav.photographed_in_view(nav.camera(160, 120)) is True


def test_box_in_view_agrees_with_the_boxs_own_points() -> None:
    """`box_in_view` against a dense sampling of the box's faces, over random boxes, frames
    and views near and far: never "out of view" when any sampled point shows (a 3x3x3
    lattice said so for 308 of 1641 views of a ground box from nearby, looking down: a
    review), and "in view" only where the box really reaches into the view (slivers the
    samples miss aside)."""
    from scene.camera import Camera
    from scene.rotations import quats_to_matrices
    from viewer.navigation import box_in_view

    rng = np.random.default_rng(5)
    t = np.linspace(0.0, 1.0, 41)
    u, v = np.meshgrid(t, t)
    faces = []
    for ax in range(3):
        for side in (0.0, 1.0):
            f = np.zeros((u.size, 3))
            f[:, ax] = side
            f[:, (ax + 1) % 3], f[:, (ax + 2) % 3] = u.ravel(), v.ravel()
            faces.append(f)
    unit = np.vstack(faces)
    wrong_out = wrong_in = shown = 0
    for _ in range(300):
        q = rng.normal(size=4)
        rot = quats_to_matrices((q / np.linalg.norm(q))[None].astype(np.float32))[0].astype(float)
        lo = rng.uniform(-5, 0, 3)
        hi = lo + rng.uniform(0.5, 6, 3)
        eye = rng.uniform(-12, 12, 3)
        centre = (0.5 * (lo + hi)) @ rot
        aim = centre + rng.normal(size=3) * 4.0 if rng.random() < 0.5 else eye + rng.normal(size=3)
        cam = Camera.look_at(eye, aim, rng.uniform(30, 90), 160, 120)
        uv, z = cam.project((lo + unit * (hi - lo)) @ rot)
        seen = bool(
            (
                (z > 1e-6) & (uv[:, 0] >= 0) & (uv[:, 0] < 160) & (uv[:, 1] >= 0) & (uv[:, 1] < 120)
            ).any()
        )
        inside = bool(np.all((rot @ eye >= lo) & (rot @ eye <= hi)))
        got = box_in_view(lo, hi, rot, cam)
        shown += seen or inside
        wrong_out += (seen or inside) and not got
        wrong_in += got and not (seen or inside)
    assert shown > 100
    assert wrong_out == 0
    assert wrong_in <= 3, wrong_in
    # the review's case: 1.6 m up, 2 m outside a 300 m ground box, facing it, looking down
    # 45°: the box fills the lower view, and none of a 3x3x3 lattice's points is in it
    lo, hi = np.array([-150.0, -30.0, -302.0]), np.array([150.0, 2.0, -2.0])
    down = Camera.look_at((0.0, 1.6, 0.0), (0.0, 0.6, -1.0), 50, 160, 120)
    assert box_in_view(lo, hi, np.eye(3), down)
    assert not box_in_view(
        lo, hi, np.eye(3), Camera.look_at((0, 1.6, 0), (0, 1.6, 1), 50, 160, 120)
    )


def test_walk_looking_at_nothing_lands_where_an_eye_level_home_looks() -> None:
    """The home view's fallback (`test_walk_from_a_drone_view_turned_away_...`) judged the
    home's ground by the current eye's height: an eye-level home saw its floor 1.6 m below
    as a floater near the eye and the walker stayed 20 m up (a review)."""
    from viewer.navigation import Pose

    nav = walker(room_cloud(size=20.0, spacing=0.1, wall_z=-6.0))
    for pitch in (0.0, -20.0):
        nav.home = Pose(np.array([0.0, nav.eye_height, 0.0]), 0.0, math.radians(pitch))
        nav.mode = "fly"
        nav.pos = np.array([0.0, 20.0, 2.0])
        nav.yaw, nav.pitch = 0.0, math.radians(60)  # looking up at the sky: meets nothing
        nav.set_mode("walk")
        assert nav.pos[1] == pytest.approx(nav.eye_height, abs=0.2) and nav.pos[2] < 0.0
