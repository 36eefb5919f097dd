"""Capture type (object orbit, aerial, walk-through) from the camera layout, the scale
assumed for each, and the cameras beside a scene file giving the viewer its up axis and
start view."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from generators.reconstruct.synthetic import orbit_cameras, room_scene
from scene.camera import Camera


def ring(n, radius, elev_deg, centre=(0, 0, 0), span=360.0, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n):
        a = math.radians(span * i / (n if span >= 360 else max(n - 1, 1)))
        e = math.radians(elev_deg)
        r = radius * (1 + rng.uniform(-jitter, jitter))
        eye = np.array(centre) + r * np.array(
            [math.cos(e) * math.cos(a), math.sin(e), math.cos(e) * math.sin(a)]
        )
        cams.append(
            Camera.look_at(
                eye, np.array(centre) + rng.uniform(-jitter, jitter, 3) * radius, 50, 320, 240
            )
        )
    return cams


def tabletop_points(radius, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    obj = rng.normal(size=(n // 2, 3))
    obj = obj / np.linalg.norm(obj, axis=1, keepdims=True) * 0.15 * radius
    obj[:, 1] = np.abs(obj[:, 1])
    t = rng.uniform(0, 2 * np.pi, n // 2)
    rr = np.sqrt(rng.uniform(0, 1, n // 2)) * 0.8 * radius
    table = np.stack([rr * np.cos(t), np.zeros(n // 2), rr * np.sin(t)], 1)
    pts = np.concatenate([obj, table])
    nrm = np.tile([0, 1.0, 0], (len(pts), 1))
    return pts, nrm


def drone(n=12, height=40.0, pitch_deg=-25.0, seed=0):
    rng = np.random.default_rng(seed)
    cams = []
    for i in range(n):
        eye = np.array([i * 4.0, height + rng.uniform(-1, 1), 0.0])
        fwd = np.array([0, math.sin(math.radians(pitch_deg)), -math.cos(math.radians(pitch_deg))])
        cams.append(Camera.look_at(eye, eye + fwd, 50, 320, 240))
    x = rng.uniform(-40, 80, 5000)
    z = rng.uniform(-200, -20, 5000)
    y = 3 * np.sin(x / 13) + 2 * np.cos(z / 17)
    pts = np.stack([x, y, z], 1)
    return cams, pts, np.tile([0, 1.0, 0], (len(pts), 1))


def room_points(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    nrm = []
    for q in room_scene():
        m = n // 10
        p = np.zeros((m, 3))
        p[:, q.axis] = q.value
        p[:, q.u_axis] = rng.uniform(q.lo[0], q.hi[0], m)
        p[:, q.v_axis] = rng.uniform(q.lo[1], q.hi[1], m)
        nn = np.zeros((m, 3))
        nn[:, q.axis] = 1
        out.append(p)
        nrm.append(nn)
    return np.concatenate(out), np.concatenate(nrm)


def corridor(n=10):
    cams = [
        Camera.look_at(
            (0.2 * math.sin(i), 1.6, -i * 0.8), (0.5 * math.sin(i), 1.5, -i * 0.8 - 3), 60, 320, 240
        )
        for i in range(n)
    ]
    rng = np.random.default_rng(1)
    z = rng.uniform(-15, 2, 6000)
    k = rng.integers(0, 4, 6000)
    u = rng.uniform(0, 1, 6000)
    pts = np.where(
        k[:, None] == 0,
        np.stack([-1.5 + 0 * z, u * 2.6, z], 1),
        np.where(
            k[:, None] == 1,
            np.stack([1.5 + 0 * z, u * 2.6, z], 1),
            np.where(
                k[:, None] == 2,
                np.stack([u * 3 - 1.5, 0 * z, z], 1),
                np.stack([u * 3 - 1.5, 2.6 + 0 * z, z], 1),
            ),
        ),
    )
    nrm = np.where(k[:, None] < 2, [1.0, 0, 0], [0, 1.0, 0])
    return cams, pts, nrm


def facade(n: int = 11):
    """Cameras at eye height on a 68° arc 40 m from a 30×16 m facade, looking up at it
    (the facade is compact seen from there: only the pitch tells it from a tabletop)."""
    cams = []
    for i in range(n):
        a = math.radians(-34 + 68 * i / (n - 1))
        eye = np.array([40 * math.sin(a), 1.6, 40 * math.cos(a)])
        cams.append(Camera.look_at(eye, (0.0, 5.0 + (i % 3), 0.0), 50, 320, 240))
    rng = np.random.default_rng(2)
    wall = np.stack([rng.uniform(-15, 15, 3000), rng.uniform(0, 16, 3000), np.zeros(3000)], 1)
    ground = np.stack([rng.uniform(-15, 15, 1000), np.zeros(1000), rng.uniform(0, 15, 1000)], 1)
    pts = np.concatenate([wall, ground])
    nrm = np.concatenate([np.tile([0, 0, 1.0], (3000, 1)), np.tile([0, 1.0, 0], (1000, 1))])
    return cams, pts, nrm


def _tabletop(span: float = 360.0, n: int = 12):
    cams = ring(n, 3.0, 35, span=span, jitter=0.05)
    pts, nrm = tabletop_points(3.0)
    return cams, pts, nrm


@pytest.mark.parametrize(
    "layout,kind",
    [
        (lambda: _tabletop(360.0), "orbit"),
        (lambda: _tabletop(90.0, 8), "orbit"),  # half-way round a compact subject
        (lambda: drone(), "aerial"),
        (lambda: (orbit_cameras(10), *room_points()), "walk"),  # walking past a room corner
        (lambda: corridor(), "walk"),
        (lambda: facade(), "walk"),  # a castle facade from an arc, looking up
    ],
)
def test_capture_type_from_the_camera_layout(layout, kind: str) -> None:
    from generators.reconstruct.align import classify_capture

    cams, pts, _ = layout()
    assert classify_capture(cams, pts).kind == kind


def _scaled(cams, pts, nrm, k: float, o):
    """The same layout in another (scaled, shifted) frame, as SfM would give it."""
    from generators.reconstruct.align import transform_camera

    return [transform_camera(c, k, np.eye(3), np.asarray(o, float)) for c in cams], pts * k + o, nrm


def test_orbit_gets_the_assumed_radius_and_the_table_at_y0() -> None:
    from generators.reconstruct.align import place_capture, transform_camera

    cams, pts, nrm = _scaled(*_tabletop(), 7.3, (1.0, 2.0, -3.0))
    k, o, info = place_capture(cams, pts, nrm, orbit_radius=0.6)
    assert info["type"] == "orbit" and "0.6 m" in info["scale"]
    assert info["ground_at_zero"] and "table" in info["scale"]  # the report agrees (a trial)
    out = [transform_camera(c, k, np.eye(3), o) for c in cams]
    # the table (the second half of the points) is at y = 0, the object centre at the origin
    assert np.allclose((pts * k + o)[len(pts) // 2 :, 1], 0.0, atol=1e-3)
    assert np.median([np.linalg.norm(c.position) for c in out]) == pytest.approx(0.6, rel=0.05)
    assert abs(np.mean([c.position[0] for c in out])) < 0.05
    assert abs(np.mean([c.position[2] for c in out])) < 0.05


def test_aerial_cameras_go_to_the_assumed_height_above_the_ground() -> None:
    from generators.reconstruct.align import place_capture

    cams, pts, _ = _scaled(*drone(height=40.0), 0.05, (0.0, 1.0, 0.0))
    slopes = np.tile([0.7, 0.7, 0.0], (len(pts), 1))  # hillsides: no level floor
    k, o, info = place_capture(cams, pts, slopes, aerial_height=30.0)
    assert info["type"] == "aerial" and "30 m" in info["scale"] and "median height" in info["scale"]
    assert np.median(pts[:, 1]) * k + o[1] == pytest.approx(0.0, abs=1e-6)
    h = np.median([c.position[1] for c in cams]) * k + o[1]
    assert h == pytest.approx(30.0, rel=1e-6)
    # flat, level ground: it is the floor plane, at y = 0
    flat = pts.copy()
    flat[:, 1] = 1.0
    k, o, info = place_capture(
        cams, flat, np.tile([0.0, 1.0, 0.0], (len(pts), 1)), aerial_height=30.0
    )
    assert "level ground" in info["scale"]
    assert 1.0 * k + o[1] == pytest.approx(0.0, abs=1e-6)
    assert np.median([c.position[1] for c in cams]) * k + o[1] == pytest.approx(30.0, rel=1e-3)


def test_walk_keeps_eye_height_above_the_floor_and_a_forced_type_wins() -> None:
    from generators.reconstruct.align import place_capture

    cams, pts, nrm = _scaled(*corridor(), 2.0, (0.0, -5.0, 0.0))
    k, o, info = place_capture(cams, pts, nrm, eye_height=1.5)
    assert info["type"] == "walk" and "eye height 1.5 m" in info["scale"]
    assert np.median([c.position[1] for c in cams]) * k + o[1] == pytest.approx(1.5, rel=1e-6)
    assert np.min(pts[:, 1]) * k + o[1] == pytest.approx(0.0, abs=1e-6)
    k2, _, info2 = place_capture(cams, pts, nrm, kind="aerial")
    assert info2["type"] == "aerial" and k2 != k
    assert info2["reason"] == "given (these points alone: walk)"
    # a kind decided before (the reconstruction's, from fewer points) stands, and says so
    _, _, info3 = place_capture(cams, pts, nrm, kind="orbit", kind_source="detected earlier")
    assert info3["type"] == "orbit"
    assert info3["reason"] == "detected earlier (these points alone: walk)"
    with pytest.raises(ValueError):
        place_capture(cams, pts, nrm, kind="tabletop")


# ------------------------------------------------- up from cameras that were not held level
def _tilt(deg: float) -> np.ndarray:
    """A rotation tipping +Y by `deg` towards +X and a little towards +Z."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(np.radians(deg) * np.array([0.3, 0.0, -1.0]) / 1.044).as_matrix()


def _rolled(cams: list[Camera], seed: int = 0, top: float = 180.0) -> list[Camera]:
    """The same cameras turned about their optical axes by random angles up to `top` deg
    (a camera pointed down at a table is held any way round)."""
    rng = np.random.default_rng(seed)
    out = []
    for c in cams:
        a = np.radians(rng.uniform(-top, top))
        rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
        out.append(Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, rz @ c.R, rz @ c.t, c.name))
    return out


def _moved(cams: list[Camera], pts: np.ndarray, r: np.ndarray):
    """Cameras and points of the same scene in a frame rotated by `r` (COLMAP's frame is
    arbitrary): a world point X is r @ X there."""
    moved = [
        Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, c.R @ r.T, c.t, c.name) for c in cams
    ]
    return moved, pts @ r.T


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return math.degrees(
        math.acos(float(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))
    )


def test_an_orbit_of_rolled_cameras_takes_up_from_the_table() -> None:
    """Photos of an object on a table, taken from above with the camera turned every way:
    the cameras' x axes share no plane, so 'held level' gives a tilted up; the table's
    plane gives the true one (and says so)."""
    from generators.reconstruct.align import estimate_up_detail
    from scene.camera import level_up_from_rotations

    r = _tilt(40.0)
    true_up = r @ np.array([0.0, 1.0, 0.0])
    cams = _rolled(ring(11, 0.6, 50, span=227.0, jitter=0.08, seed=3), seed=1)
    pts, _ = tabletop_points(0.6)
    cams, pts = _moved(cams, pts, r)
    assert _angle(level_up_from_rotations([c.R for c in cams]), true_up) > 10.0
    e = estimate_up_detail(cams, pts)
    assert e.source == "table" and _angle(e.up, true_up) < 2.0
    assert e.roll_deg > 20 and "stands on" in e.detail
    # no points to find a table among: the orbit's axis (its cameras' ring)
    e = estimate_up_detail(cams, None)
    assert e.source == "orbit" and _angle(e.up, true_up) < 5.0


def test_level_cameras_keep_the_level_up_and_rolled_walks_are_doubted() -> None:
    from generators.reconstruct.align import estimate_up_detail
    from scene.camera import level_up_from_rotations

    r = _tilt(25.0)
    cams = ring(11, 0.6, 50, span=227.0, jitter=0.08, seed=3)
    pts, _ = tabletop_points(0.6)
    cams, pts = _moved(cams, pts, r)
    e = estimate_up_detail(cams, pts)
    assert e.source == "level" and e.detail == "the cameras held level"
    np.testing.assert_allclose(e.up, level_up_from_rotations([c.R for c in cams]))
    # a room photographed all round from its middle with the camera rolled: no orbit to
    # take up from, and the level estimate is doubted
    out = [
        Camera.look_at(
            (0.3 * math.cos(a), 1.6, 0.3 * math.sin(a)),
            (3 * math.cos(a), 1.2, 3 * math.sin(a)),
            60,
            320,
            240,
        )
        for a in np.linspace(0, 2 * np.pi, 9)[:-1]
    ]
    e = estimate_up_detail(_rolled(out, top=60.0), room_points()[0])
    assert e.source == "level" and "doubtful" in e.detail
    # four drone frames looking down 20 degrees, all one way: held level they say nothing
    # of their pitch, and the report says so (a trial's came out a walk at eye height)
    drone = [
        Camera.look_at(
            (x, 30.0, 0.0), (x + 3.0, 30.0 - 40.0 * math.tan(math.radians(20)), -40.0), 60, 640, 360
        )
        for x in (0.0, 1.0, 2.0, 3.0)
    ]
    e = estimate_up_detail(drone, None)
    assert e.source == "level" and "face one way" in e.detail and "--capture aerial" in e.detail
    assert "face one way" not in estimate_up_detail(cams, pts).detail


def _quarter(cams: list[Camera], turns: list[int]) -> list[Camera]:
    out = []
    for c, k in zip(cams, turns):
        a = np.radians(90.0 * k)
        rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
        out.append(Camera(c.width, c.height, c.fx, c.fy, c.cx, c.cy, rz @ c.R, rz @ c.t, c.name))
    return out


def test_photos_turned_on_their_side_without_exif_keep_the_level_up() -> None:
    """Portrait photos among landscape ones, their EXIF orientation lost: up is normal to
    each camera's x or y axis. A facade photographed from an arc (looking up at it) gets
    its true up, not the one a single horizontal axis per camera would give, nor an
    orbit's (the facade's axes converge too: upside down). (Cameras that all look within
    a few degrees of one way cannot tell a quarter turn from a level capture looking along
    that way, a drone's survey grid: they keep the level answer.)"""
    from generators.reconstruct.align import estimate_up_detail

    r = _tilt(30.0)
    true_up = r @ np.array([0.0, 1.0, 0.0])
    for cams, pts, _ in (facade(),):
        turns = [(1 if i % 2 else 0) if i % 3 else -1 for i in range(len(cams))]
        moved, mpts = _moved(_quarter(cams, turns), pts, r)
        e = estimate_up_detail(moved, mpts)
        assert e.source == "level" and "on their side" in e.detail, e
        assert _angle(e.up, true_up) < 1.0
    # turned any way round, the facade is not taken for an orbit seen from above
    cams, pts, _ = facade()
    e = estimate_up_detail(_rolled(cams, top=180.0), pts)
    assert e.source == "level" and "doubtful" in e.detail


def test_a_rolled_orbit_beside_a_scene_gives_the_table_up(tmp_path: Path) -> None:
    """The viewer opening a reconstruction of a rolled orbit takes the same up as
    `reconstruct` did from the cameras and points saved beside it."""
    from conftest import random_cloud

    from scene.io import save
    from scene.io.colmap import write_colmap_text
    from scene.world import World
    from viewer.up_axis import use_cameras_beside

    cams = _rolled(ring(11, 0.6, 50, span=227.0, jitter=0.08, seed=3), seed=1)
    for i, c in enumerate(cams):
        c.name = f"p{i:02d}.jpg"
    pts, _ = tabletop_points(0.6)
    save(random_cloud(500, seed=1), tmp_path / "scene.ply")
    write_colmap_text(tmp_path / "scene_cameras", cams, pts)
    w = World()
    assert use_cameras_beside(w, tmp_path / "scene.ply")
    np.testing.assert_allclose(w.up_axis, [0, 1, 0], atol=1e-9)


def test_subject_distance_is_the_median_depth_the_photos_see() -> None:
    """Cameras 3 units from a wall see its points at depth ~3; points behind a camera or
    outside its frame do not count; no points, no distance."""
    from generators.reconstruct.align import subject_distance

    cams = [Camera.look_at((x, 0.0, 3.0), (x, 0.0, 0.0), 60, 160, 120) for x in (-1, 0, 1)]
    g = np.linspace(-1.5, 1.5, 25)
    wall = np.stack([*np.meshgrid(g, g), np.zeros((25, 25))], -1).reshape(-1, 3)
    behind = wall + [0.0, 0.0, 10.0]  # behind every camera
    aside = wall + [40.0, 0.0, -30.0]  # outside every frame
    d = subject_distance(cams, np.concatenate([wall, behind, aside]))
    assert d == pytest.approx(3.0, abs=0.05)
    assert subject_distance(cams, np.zeros((0, 3))) is None
    assert subject_distance(cams, behind) is None


def test_opening_a_scene_with_cameras_beside_it_records_the_subject_distance(
    tmp_path: Path,
) -> None:
    """... so the viewer paces walking by it; a project's record that is not a finite
    number > 0 is ignored."""
    from scene.world import World, subject_distance
    from viewer.up_axis import use_cameras_beside

    ply, cams = _scene_with_z_up_cameras(tmp_path)
    from scene.io.colmap import write_colmap_text

    pts = np.random.default_rng(0).uniform(-0.5, 0.5, (400, 3)) + [0.0, 0.0, 0.5]
    write_colmap_text(tmp_path / "scene_cameras", cams, pts)
    w = World()
    assert use_cameras_beside(w, ply)
    want = np.median([np.median(c.project(pts)[1]) for c in cams])
    assert subject_distance(w.meta) == pytest.approx(want, rel=0.05)
    for bad in (True, -1.0, float("nan"), float("inf"), "3", None, [2.0]):
        assert subject_distance({"subject_distance": bad}) is None, bad


# ------------------------------------------------- opening a scene with cameras beside it
def _scene_with_z_up_cameras(tmp_path: Path) -> tuple[Path, list[Camera]]:
    """A cloud whose photo cameras (saved beside it as COLMAP text) hold +Z up, with a big
    flat slab along Y that a floor guess would take for the ground."""
    from conftest import random_cloud

    from scene.io import save
    from scene.io.colmap import write_colmap_text

    cloud = random_cloud(3000, seed=2)
    cloud.means[:, 1] = np.where(np.arange(3000) % 2 == 0, -1.0, cloud.means[:, 1])  # a wall y=-1
    ply = tmp_path / "scene.ply"
    save(cloud, ply)
    cams = []
    for i, eye in enumerate([(6, 0.5, 1.0), (5, 3, 1.2), (4, -3, 0.8)]):
        c = Camera.look_at(eye, (0, 0, 0.5), 50, 160, 120, up=(0, 0, 1))
        c.name = f"photo_{2 - i}.jpg"  # the first by name is the last made
        cams.append(c)
    write_colmap_text(tmp_path / "scene_cameras", cams)
    return ply, cams


def test_cameras_beside_a_scene_give_the_up_axis_and_the_first_photo_start_view(
    tmp_path: Path,
) -> None:
    from generators.jobs import CancelToken
    from scene.camera import forward_from_yaw_pitch
    from viewer.main_window import load_scene_file

    ply, cams = _scene_with_z_up_cameras(tmp_path)
    world, _ = load_scene_file(ply, lambda f, m: None, CancelToken())
    assert world.meta["up_axis_source"] == "cameras"
    assert np.allclose(world.up_axis, [0, 0, 1])
    assert len(world.meta["cameras"]) == 3
    first = world.bookmarks[0]
    assert first.name == "photo_0.jpg"
    assert np.allclose(first.position, cams[2].position)
    assert np.allclose(forward_from_yaw_pitch(first.yaw, first.pitch), cams[2].forward, atol=1e-9)
    assert first.fov_y_deg == pytest.approx(50.0)

    # without the cameras the same file gets a guessed up axis and no start bookmark
    (tmp_path / "scene_cameras").rename(tmp_path / "elsewhere")
    world2, _ = load_scene_file(ply, lambda f, m: None, CancelToken())
    assert world2.meta["up_axis_source"] != "cameras" and not world2.bookmarks


def test_a_held_out_photo_is_not_the_start_view(tmp_path: Path) -> None:
    """`reconstruct --holdout` keeps some photos out of the scene; the viewer starts at the
    first photo the scene was built from, the held-out ones' bookmarks come last."""
    import json

    from scene.world import World
    from viewer.up_axis import use_cameras_beside

    ply, _ = _scene_with_z_up_cameras(tmp_path)
    (tmp_path / "scene_report.json").write_text(json.dumps({"held_out": ["photo_0.jpg"]}))
    w = World()
    assert use_cameras_beside(w, ply)
    names = [b.name for b in w.bookmarks]
    assert names[0] != "photo_0.jpg" and names[-1] == "photo_0.jpg"
    (tmp_path / "scene_report.json").write_text("[1, 2]")  # unreadable: names order
    w2 = World()
    assert use_cameras_beside(w2, ply) and w2.bookmarks[0].name == "photo_0.jpg"


def test_an_orbit_report_beside_the_scene_starts_orbiting(tmp_path: Path) -> None:
    """The capture type in the report beside the scene: an object orbit opens in Orbit
    mode, an aerial capture in Fly mode; a walk, a broken report or a made-up type
    change nothing."""
    import json

    from scene.world import World
    from viewer.up_axis import use_cameras_beside

    ply, _ = _scene_with_z_up_cameras(tmp_path)
    report = tmp_path / "scene_report.json"
    for capture, expect in (
        ({"type": "orbit"}, "orbit"),
        ({"type": "aerial"}, "fly"),
        ({"type": "walk"}, None),
        ({"type": "rm -rf"}, None),
        ("orbit", None),
    ):
        report.write_text(json.dumps({"held_out": [], "capture": capture}))
        w = World()
        assert use_cameras_beside(w, ply)
        assert w.meta.get("start_mode") == expect, capture


def test_a_broken_camera_model_beside_the_scene_is_ignored(tmp_path: Path) -> None:
    from scene.world import World
    from viewer.up_axis import cameras_beside, use_cameras_beside

    ply, _ = _scene_with_z_up_cameras(tmp_path)
    assert cameras_beside(ply) == tmp_path / "scene_cameras"
    assert cameras_beside(tmp_path / "scene.compressed.ply") is None
    (tmp_path / "scene_cameras" / "cameras.txt").write_text("1 PINHOLE 10\n")
    w = World()
    assert use_cameras_beside(w, ply) is False and "cameras" not in w.meta


@pytest.mark.slow
def test_reconstruct_of_a_tabletop_orbit_is_an_orbit_at_object_scale(tmp_path: Path) -> None:
    """A box on a table photographed all around: not a floor 1.5 m below the cameras."""
    import cv2
    from test_recon_evaluate import _gt_model

    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from generators.reconstruct.synthetic import Quad, _textures, render

    br, gr, gv, ast, cof, cat, roc = _textures()
    x0, x1, y1, z0, z1 = -0.3, 0.3, 0.5, -0.3, 0.3
    quads = [
        Quad(1, 0.0, 0, 2, (-1.2, -1.2), (1.2, 1.2), gv, 0.8),  # table top
        Quad(1, y1, 0, 2, (x0, z0), (x1, z1), cof, 0.6),
        Quad(2, z1, 0, 1, (x0, 0.0), (x1, y1), ast, 0.6),
        Quad(2, z0, 0, 1, (x0, 0.0), (x1, y1), cat, 0.6),
        Quad(0, x0, 2, 1, (z0, 0.0), (z1, y1), br, 0.6),
        Quad(0, x1, 2, 1, (z0, 0.0), (z1, y1), roc, 0.6),
    ]
    cams = ring(12, 2.0, 35, centre=(0, 0.25, 0), jitter=0.03, seed=4)
    (tmp_path / "photos").mkdir()
    depths = []
    for i, c in enumerate(cams):
        c.name = f"t{i:02d}.png"
        c2 = c.resized(160, 120)
        c.__dict__.update(c2.__dict__)
        img, dep = render(quads, c)
        cv2.imwrite(str(tmp_path / "photos" / c.name), img[..., ::-1])
        depths.append(dep)
    _gt_model(tmp_path / "gt", cams, depths)
    res = reconstruct(
        sorted((tmp_path / "photos").iterdir()),
        ReconstructOptions(
            colmap_dir=tmp_path / "gt", depth_size=96, planes=24, max_points=20_000, refine_steps=0
        ),
    )
    assert res.capture["type"] == "orbit", res.capture
    # what only one photo saw round an orbited object is the room behind it: no fills
    fusion = res.cloud.meta["fusion"]
    assert fusion["fills_skipped"] == "an object orbit"
    assert fusion["one_view"] == fusion["ray_fill"] == 0 < fusion["agreed"]
    assert res.capture["up"]["source"] == "level"
    from generators.reconstruct.pipeline import build_world

    assert build_world(res).meta["start_mode"] == "orbit"  # a .wander opens orbiting it
    # the cameras were 2 units from the box centre (0.25 above the table): now 0.6 m, so
    # the scale is 0.3, the box 0.15 m tall, its centre above x = z = 0 and the table at y = 0
    dist = np.median([np.linalg.norm(c.position - [0, 0.25 * 0.3, 0]) for c in res.cameras])
    assert dist == pytest.approx(0.6, rel=0.1)
    assert np.linalg.norm(np.mean([c.position for c in res.cameras], axis=0)[[0, 2]]) < 0.05
    ys = np.array([c.position[1] for c in res.cameras])
    assert ys.mean() == pytest.approx((0.25 + 2.0 * math.sin(math.radians(35))) * 0.3, rel=0.1)
    rep = save_result(res, tmp_path / "out" / "toy.ply")["report"].read_text()
    assert '"type": "orbit"' in rep and "0.6 m" in rep
