"""Camera paths: keyframes hit exactly, smooth in between, level horizon, JSON, recording."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scene.camera import Camera, forward_from_yaw_pitch, yaw_pitch_from_forward
from scene.campath import CameraPath, Keyframe, PathRecorder, centripetal_catmull_rom, slerp
from scene.errors import SceneFormatError
from scene.world import Bookmark


def zigzag() -> CameraPath:
    return CameraPath(
        [
            Keyframe([0, 1.6, 0], 0.0, 0.0, 60, 0.0),
            Keyframe([1, 1.6, -2], 0.5, 0.2, 50, 1.0),
            Keyframe([3, 1.8, -2.5], 1.4, -0.1, 70, 2.5),
            Keyframe([4, 1.6, 0], 3.0, 0.0, 60, 4.0),  # yaw 3.0 -> near +Z
            Keyframe([3, 1.5, 2], -2.6, 0.1, 60, 5.0),  # crossing ±π: shortest turn
        ]
    )


def test_keyframes_are_hit_exactly():
    path = zigzag()
    for k in path.keyframes:
        cam = path.camera(k.time, 640, 360)
        np.testing.assert_allclose(cam.position, k.position, atol=1e-9)
        np.testing.assert_allclose(cam.forward, forward_from_yaw_pitch(k.yaw, k.pitch), atol=1e-9)
        assert cam.fov_y_deg == pytest.approx(k.fov_y_deg)
    assert path.duration == 5.0


def test_smooth_and_level_between_keyframes():
    path = zigzag()
    ts = np.linspace(0, 5, 501)
    pos = np.stack([path.position(t) for t in ts])
    fwd = np.stack([path.rotation(t)[2] for t in ts])
    right = np.stack([path.rotation(t)[0] for t in ts])
    assert np.abs(right[:, 1]).max() < 1e-9  # no roll: the horizon stays level
    np.testing.assert_allclose(np.linalg.norm(fwd, axis=1), 1, atol=1e-9)
    # No jumps: consecutive samples 10 ms apart move and turn only a little.
    assert np.linalg.norm(np.diff(pos, axis=0), axis=1).max() < 0.06
    turn = np.degrees(np.arccos(np.clip((fwd[1:] * fwd[:-1]).sum(1), -1, 1)))
    assert turn.max() < 2.0  # shortest arc across ±π, no spin the long way round
    # Velocity is continuous through an interior keyframe (no kink).
    eps = 1e-4
    for t in (1.0, 2.5):
        v_in = (path.position(t) - path.position(t - eps)) / eps
        v_out = (path.position(t + eps) - path.position(t)) / eps
        cos = v_in @ v_out / np.linalg.norm(v_in) / np.linalg.norm(v_out)
        assert cos > 0.99


def test_centripetal_spline_has_no_overshoot_on_uneven_spacing():
    p = [np.array(v, float) for v in ([0, 0, 0], [1, 0, 0], [1.1, 0, 0], [5, 0, 0])]
    xs = [centripetal_catmull_rom(*p, u)[0] for u in np.linspace(0, 1, 101)]
    assert np.all(np.diff(xs) >= -1e-12) and min(xs) >= 1 - 1e-12 and max(xs) <= 1.1 + 1e-12


def test_slerp_midpoint():
    a = np.array([1.0, 0, 0, 0])
    b = np.array([math.cos(0.5), 0, math.sin(0.5), 0])
    np.testing.assert_allclose(slerp(a, b, 0.5), [math.cos(0.25), 0, math.sin(0.25), 0])
    np.testing.assert_allclose(slerp(a, -b, 0.5), [math.cos(0.25), 0, math.sin(0.25), 0])


def test_frame_times_and_cameras():
    path = zigzag()
    times = path.frame_times(30)
    # a video of the path plays for its duration: 5 s at 30 fps is 150 frames, the first
    # and the last keyframe among them
    assert len(times) == 150 and times[0] == 0 and times[-1] == 5.0
    cams = path.cameras(2, 64, 48)
    assert len(cams) == 10 and all(isinstance(c, Camera) and c.width == 64 for c in cams)
    with pytest.raises(ValueError, match="fps"):
        path.frame_times(0)
    single = CameraPath([Keyframe([0, 0, 0])])
    assert len(single.frame_times(30)) == 1


def test_json_round_trip_and_hand_written_forms(tmp_path):
    path = zigzag()
    f = tmp_path / "path.json"
    path.save(f)
    back = CameraPath.load(f)
    for a, b in zip(path.keyframes, back.keyframes):
        np.testing.assert_array_equal(a.position, b.position)
        assert (a.yaw, a.pitch, a.fov_y_deg, a.time) == (b.yaw, b.pitch, b.fov_y_deg, b.time)
    f.write_text(
        json.dumps(
            [
                {"position": [0, 1, 0], "look_at": [0, 1, -5]},
                {"position": [2, 1, 0], "yaw_deg": 90, "time": 2},
            ]
        )
    )
    hand = CameraPath.load(f)
    np.testing.assert_allclose(hand.camera(0, 8, 8).forward, [0, 0, -1], atol=1e-9)
    np.testing.assert_allclose(hand.camera(2, 8, 8).forward, [-1, 0, 0], atol=1e-9)


@pytest.mark.parametrize(
    "text, match",
    [
        ("not json", "not valid JSON"),
        ('{"frames": []}', "keyframes"),
        ('{"keyframes": []}', "at least one keyframe"),
        ('{"keyframes": [{"time": 0}]}', "keyframe 1 is invalid"),
        (
            '{"keyframes": [{"position": [0,0,0], "time": 1}, {"position": [1,0,0], "time": 1}]}',
            "all different",
        ),
        ('{"keyframes": [{"position": [0,0,"x"]}]}', "keyframe 1 is invalid"),
        ('{"keyframes": [{"position": [0,0,0], "fov_y_deg": 400}]}', "FOV"),
        ('{"version": 99, "keyframes": []}', "newer"),
        # a misspelt key fell back to its default without a word (fov_y_deg is meant)
        ('{"keyframes": [{"position": [0,0,0], "fov_deg": 30}]}', "unknown key 'fov_deg'"),
        # found by a trial: ignored in silence, one view winning, numpy's words
        ('{"loop": true, "keyframes": [{"position": [0,0,0]}]}', "unknown key 'loop'"),
        (
            '{"keyframes": [{"position": [0,0,0], "look_at": [0,0,-1], "yaw_deg": 90}]}',
            "gives its view twice",
        ),
        ('{"keyframes": [{"position": [0.5, 1.6]}]}', "position needs 3 numbers x, y, z"),
        ('{"keyframes": [{"position": [0,0,0], "look_at": 3}]}', "look_at needs 3 numbers"),
        ('{"keyframes": [5]}', "keyframe 1 is not an object"),
        # a trial: text for a number, and a pitch past straight down, taken without a word
        ('{"keyframes": [{"position": [0,0,0], "time": "1"}]}', "time needs a number"),
        ('{"keyframes": [{"position": [0,0,0], "pitch_deg": 95}]}', "past straight up or down"),
        ('{"keyframes": [{"position": [0,0,0], "yaw": true}]}', "yaw needs a number"),
    ],
)
def test_bad_path_files(tmp_path, text, match):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(SceneFormatError, match=match):
        CameraPath.load(f)


def test_from_bookmarks():
    bms = [
        Bookmark("a", [0, 1.6, 0], 0, 0, 60),
        Bookmark("b", [4, 1.6, 0], 1, 0, 60),
        Bookmark("c", [4, 1.6, 4], 2, 0, 40),
    ]
    path = CameraPath.from_bookmarks(bms, seconds=2)
    assert [k.time for k in path.keyframes] == [0, 2, 4]
    by_speed = CameraPath.from_bookmarks(bms, speed=2.0)
    assert [k.time for k in by_speed.keyframes] == [0, 2, 4]
    with pytest.raises(ValueError, match="at least one bookmark"):
        CameraPath.from_bookmarks([])


def test_one_bookmark_gives_a_full_look_around_in_place():
    path = CameraPath.from_bookmarks([Bookmark("start", [0, 1.6, 0], 0.3, 0, 60)], seconds=2)
    assert path.duration == pytest.approx(8)
    fwd = [path.camera(t, 64, 48).forward for t in (0, 2, 4, 6, 8)]
    for cam_t in (0, 3, 5, 8):
        np.testing.assert_allclose(path.camera(cam_t, 64, 48).position, (0, 1.6, 0), atol=1e-9)
    for a, b in zip(fwd, fwd[1:]):  # a quarter turn each hop, level
        assert abs(a @ b) < 1e-6 and abs(a[1]) < 1e-9
    np.testing.assert_allclose(fwd[0], fwd[-1], atol=1e-6)


def test_recorder_reduces_samples_to_keyframes():
    rec = PathRecorder()
    for i in range(101):  # walk 5 m along −Z in 5 s, turning 90° on the way, sampled at 20 Hz
        t = 100.0 + i * 0.05
        rec.add(Keyframe([0, 1.6, -0.05 * i], yaw=math.pi / 2 * i / 100, fov_y_deg=60), t)
    rec.add(Keyframe([9, 9, 9]), 100.0)  # out-of-order sample is ignored
    path = rec.path(min_distance=0.5, min_angle_deg=30, max_interval=10)
    assert path.keyframes[0].time == 0 and path.duration == pytest.approx(5.0)
    assert 8 <= len(path) <= 12
    mid = path.position(2.5)
    np.testing.assert_allclose(mid, [0, 1.6, -2.5], atol=0.02)
    with pytest.raises(ValueError, match="at least two"):
        PathRecorder().path()


def test_recorded_pauses_are_kept_short_and_a_still_recording_is_refused():
    """Record While Walking kept the seconds before the first step, after the last and
    every pause at full length: the video stood still (a trial). The recording now runs
    from the first move to the last with each pause MAX_PAUSE_S long; standing still the
    whole time is refused in one line."""
    from scene.campath import MAX_PAUSE_S

    rec = PathRecorder()
    t = 0.0
    poses = [0.0] * 30  # 3 s still before walking
    poses += [0.1 * i for i in range(1, 21)]  # 2 m in 2 s
    poses += [2.0] * 40  # 4 s standing
    poses += [2.0 + 0.1 * i for i in range(1, 11)]  # 1 m in 1 s
    poses += [3.0] * 20  # 2 s still at the end
    for z in poses:
        rec.add(Keyframe([0, 1.6, -z], fov_y_deg=60), t)
        t += 0.1
    path = rec.path(min_distance=0.25, max_interval=10)
    assert path.duration == pytest.approx(3.0 + MAX_PAUSE_S, abs=0.11)
    np.testing.assert_allclose(path.keyframes[0].position, [0, 1.6, 0], atol=1e-9)
    np.testing.assert_allclose(path.keyframes[-1].position, [0, 1.6, -3.0], atol=1e-9)
    still = PathRecorder()
    for i in range(20):
        still.add(Keyframe([0, 1.6, 0], fov_y_deg=60), i * 0.1)
    with pytest.raises(ValueError, match="did not move"):
        still.path()


def test_z_up_world_keeps_horizon_level(tmp_path):
    up = np.array([0.0, 0.0, 1.0])
    fwds = [[0, 1, 0], [1, 1, 0.2], [1, 0, -0.1]]
    kfs = []
    for i, f in enumerate(fwds):
        yaw, pitch = yaw_pitch_from_forward(f)
        kfs.append(Keyframe([i, 0, 1.6], yaw, pitch, 60, float(i)))
    path = CameraPath(kfs, up=up)
    for t in np.linspace(0, 2, 41):
        cam = path.camera(t, 32, 32)
        assert abs(cam.right @ up) < 1e-9 and cam.up @ up > 0  # level and upright about +Z
    for k, f in zip(kfs, fwds):
        np.testing.assert_allclose(
            path.camera(k.time, 8, 8).forward, np.array(f) / np.linalg.norm(f), atol=1e-9
        )
    path.save(tmp_path / "p.json")
    np.testing.assert_allclose(CameraPath.load(tmp_path / "p.json").up, up)
    (tmp_path / "q.json").write_text(json.dumps({"keyframes": [{"position": [0, 0, 0]}]}))
    np.testing.assert_allclose(CameraPath.load(tmp_path / "q.json", default_up=up).up, up)
    with pytest.raises(ValueError, match="up axis"):
        CameraPath(kfs, up=(0, 0, 0))


@pytest.mark.slow
def test_random_json_never_crashes(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    values = st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers(-3, 3) | st.text(max_size=4),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "position",
                        "time",
                        "yaw",
                        "pitch",
                        "fov_y_deg",
                        "look_at",
                        "yaw_deg",
                        "keyframes",
                        "version",
                        "up",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=15,
    )

    @settings(max_examples=150, deadline=None)
    @given(values)
    def check(doc):
        try:
            CameraPath.from_dict(doc)
        except SceneFormatError:
            pass

    check()


@pytest.mark.parametrize("up", [(0.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
def test_orbit_is_a_level_turn_around_the_target(up):
    """`video` on a scene with no path or bookmark (an object file) turns around it: every
    frame looks at the target from the eye's distance and height, and one full turn brings
    the camera back where it started."""
    up = np.asarray(up)
    target = np.array([0.5, -0.2, 1.0])
    eye = target + 3.0 * np.array([1.0, 1.0, 1.0]) * (1 - up) / np.sqrt(2) + 0.8 * up
    path = CameraPath.orbit(eye, target, 45.0, seconds=8.0, up=up)
    assert path.duration == pytest.approx(8.0)
    angles = []
    for t in np.linspace(0, 8.0, 33):
        cam = path.camera(t, 64, 48)
        off = cam.position - target
        assert off @ up == pytest.approx(0.8, abs=1e-6)
        assert np.linalg.norm(off - (off @ up) * up) == pytest.approx(3.0, rel=2e-3)
        to_target = -off / np.linalg.norm(off)
        assert cam.forward @ to_target > 0.999
        assert abs(cam.right @ up) < 1e-6  # level: no roll
        angles.append(math.atan2(*(np.cross(eye - target, off) @ up, (eye - target) @ off)))
    np.testing.assert_allclose(
        path.camera(8.0, 8, 8).position, path.camera(0, 8, 8).position, atol=1e-9
    )
    turned = np.unwrap(angles)
    assert np.all(np.diff(turned) > 0) or np.all(np.diff(turned) < 0)
    assert abs(turned[-1] - turned[0]) == pytest.approx(2 * math.pi, abs=1e-6)
    with pytest.raises(ValueError):
        CameraPath.orbit(target + up, target, up=up)  # straight above: no circle


def test_fov_is_the_vertical_field_of_view_in_degrees():
    """`video --help` named the key "fov"; it was read as nothing (always 60°)."""
    path = CameraPath.from_dict(
        {
            "keyframes": [
                {"time": 0, "position": [0, 0, 0], "fov": 30},
                {"time": 1, "position": [1, 0, 0]},
            ]
        }
    )
    assert path.keyframes[0].fov_y_deg == 30.0 and path.keyframes[1].fov_y_deg == 60.0


def test_a_photo_world_gets_a_sway_not_a_full_turn() -> None:
    """A trial's video of a world from one photo: a 12 s full turn, three quarters of it the
    invented room. From one bookmark of a world made from photos the default path is a
    sway within the walkable area, keeping the photo framed; a panorama world still turns."""
    from scene.campath import SWAY_TURN_DEG, bookmark_path
    from scene.world import World

    w = World()
    w.bookmarks.append(Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.3, -0.2, 46.0))
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.1}
    w.meta["options"] = {"photos": ["desk.jpg"], "panorama": None}
    path, how = bookmark_path(w, seconds=3.0)
    assert "sway within the walkable area" in how and path.duration == pytest.approx(12.0)
    start = Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.3, -0.2, 46.0)
    fwd0 = forward_from_yaw_pitch(start.yaw, start.pitch)
    for t in np.linspace(0.0, path.duration, 49):
        cam = path.camera(float(t), 320, 240)
        off = cam.position - np.array([0.0, 1.6, 0.0])
        assert abs(off[1]) < 1e-6 and np.hypot(off[0], off[2]) <= 1.1  # inside the ring
        turn = math.degrees(math.acos(np.clip(cam.forward @ fwd0, -1, 1)))
        assert turn < SWAY_TURN_DEG + 0.5  # the photo stays in view
    assert np.allclose(path.camera(0.0, 320, 240).position, [0.0, 1.6, 0.0])
    assert np.allclose(path.camera(path.duration, 320, 240).position, [0.0, 1.6, 0.0])
    widest = max(abs(path.camera(float(t), 320, 240).position[0]) for t in np.linspace(0, 12, 49))
    assert widest > 0.1  # it moves enough for the parallax to show (desk 1.5 m off: 4°)
    for bad in (float("inf"), float("nan"), True, "1.1"):  # a crafted record: a turn
        w.meta["walkable"]["radius"] = bad
        assert bookmark_path(w, seconds=3.0)[1] == "a look-around from bookmark 'Start'"
    w.meta["walkable"]["radius"] = 1.1
    w.meta["options"] = {"photos": [], "panorama": "pano.jpg"}  # a panorama's world: a turn
    path, how = bookmark_path(w, seconds=3.0)
    assert how == "a look-around from bookmark 'Start'"


def test_a_photos_bookmark_fills_the_frames_of_the_path() -> None:
    """A trial's `video` of a world from a 4:3 photo: frame 0 showed the invented band
    beside the photo, where `render` at the same size filled the frame with it (the path
    took the bookmark's 40° vertical field of view as it is). Given the frames' aspect,
    each keyframe takes the bookmark's view in frames of that shape."""
    from scene.campath import bookmark_fov_y, bookmark_path
    from scene.world import World

    photo = Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.3, -0.2, 40.5, 52.6)  # 4:3
    wide = 16 / 9
    assert bookmark_fov_y(photo, wide) == pytest.approx(photo.view_fov_y(wide))
    assert bookmark_fov_y(photo, wide) < 35.0  # the photo's width fills 16:9
    assert bookmark_fov_y(photo, None) == 40.5
    w = World()
    w.bookmarks.append(photo)
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.1}
    w.meta["options"] = {"photos": ["desk.jpg"], "panorama": None}
    for aspect in (wide, 4 / 3, 9 / 16):
        path, how = bookmark_path(w, seconds=3.0, aspect=aspect)
        assert "sway" in how
        fovs = [k.fov_y_deg for k in path.keyframes]
        assert fovs == pytest.approx([fovs[0]] * len(fovs))  # one zoom for the whole loop
        # the bookmark's view, zoomed in a little so the turning view stays on the photo
        assert 0.8 * photo.view_fov_y(aspect) < fovs[0] <= photo.view_fov_y(aspect) + 1e-9
    # a look-around (a panorama's world) and a flight through several bookmarks alike
    w.meta["options"] = {"photos": [], "panorama": "pano.jpg"}
    path, _ = bookmark_path(w, seconds=3.0, aspect=wide)
    assert path.keyframes[0].fov_y_deg == pytest.approx(photo.view_fov_y(wide))
    w.bookmarks.append(Bookmark("b", np.array([1.0, 1.6, 0.0]), 0.0, 0.0, 60.0))
    path, _ = bookmark_path(w, seconds=3.0, aspect=wide)
    assert path.keyframes[0].fov_y_deg == pytest.approx(photo.view_fov_y(wide))
    assert path.keyframes[1].fov_y_deg == 60.0  # no photo's width known: as it is


def test_one_bookmarks_path_lasts_loop_seconds() -> None:
    """`video --seconds 1` from one bookmark made a 4 s video (seconds were a quarter of
    the loop); the loop's own length is `loop_seconds` (default 4 × seconds)."""
    from scene.campath import bookmark_path
    from scene.world import World

    w = World()
    w.bookmarks.append(Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.3, -0.2, 46.0))
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.1}
    w.meta["options"] = {"photos": ["desk.jpg"], "panorama": None}
    assert bookmark_path(w, seconds=3.0)[0].duration == pytest.approx(12.0)
    assert bookmark_path(w, loop_seconds=1.0)[0].duration == pytest.approx(1.0)
    w.meta["options"] = {"photos": [], "panorama": "pano.jpg"}  # a look-around
    assert bookmark_path(w, loop_seconds=2.0)[0].duration == pytest.approx(2.0)


def test_a_sway_keeps_every_frame_on_the_photo() -> None:
    """A trial's video of a world from a 4:3 photo: the sway (1.6 m across, looking 6 m
    ahead) turned the view 15° and showed the photo's edges, a tree cut straight along its
    top and a rectangle in the sky. The sway now looks at the depth the world estimated
    for what the photo shows, turns at most SWAY_TURN_DEG, and zooms in just enough: every
    frame's corners look into the photo (seen from where it was taken, at that depth)."""
    from scene.campath import bookmark_path
    from scene.world import World

    photo = Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.0, math.radians(9.8), 40.5, 52.6)
    w = World()
    w.bookmarks.append(photo)
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 2.0}
    w.meta["options"] = {"photos": ["castle.jpg"], "panorama": None}
    w.meta["estimates"] = {"radius": {"value": 41.0, "source": "test"}}
    W, H = 1280, 720
    path, _ = bookmark_path(w, aspect=W / H)
    fwd = forward_from_yaw_pitch(photo.yaw, photo.pitch)
    photo_cam = Camera.from_yaw_pitch(photo.position, photo.yaw, photo.pitch, 40.5, 1600, 1200)
    moved = 0.0
    for t in np.linspace(0.0, path.duration, 33):
        cam = path.camera(float(t), W, H)
        moved = max(moved, float(np.linalg.norm(cam.position - photo.position)))
        corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], np.float64)
        rays = (
            np.stack(
                [(corners[:, 0] - cam.cx) / cam.fx, (corners[:, 1] - cam.cy) / cam.fy, np.ones(4)],
                1,
            )
            @ cam.R
        )  # camera -> world
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        pts = cam.position + rays * (41.0 / (rays @ fwd))[:, None]  # on the photo's far plane
        uv, z = photo_cam.project(pts)
        assert (z > 0).all()
        assert (uv[:, 0] >= -1).all() and (uv[:, 0] <= 1601).all(), (t, uv)
        assert (uv[:, 1] >= -1).all() and (uv[:, 1] <= 1201).all(), (t, uv)
    assert moved > 1.0  # the parallax shows: up to 1.6 m across at 41 m, the tree 6 m off


def test_a_camera_too_far_for_its_own_precision_is_refused_by_name():
    """A keyframe (or an eye) at 1e30 m is finite, but eye + a step forward is the eye
    again: the render failed with "eye and look-at point coincide" (a trial)."""
    with pytest.raises(ValueError, match=r"t=1.0: its position is more than 1e\+08 m"):
        CameraPath(
            [Keyframe([0, 1.6, 0], 0.0, 0.0, 60, 0.0), Keyframe([1e30, 0, 0], 0, 0, 60, 1.0)]
        )
    with pytest.raises(ValueError, match=r"eye must be finite numbers up to 1e\+08"):
        Camera.look_at([1e30, 0, 0], [0, 0, 0], 60, 64, 48)
    Camera.look_at([6.4e6, 0, 0], [6.4e6, 0, 1], 60, 64, 48)  # ECEF metres are fine


def test_a_reconstructions_default_video_leaves_out_its_overview() -> None:
    """A trial's default video of a reconstruction ended 40 m up on its "Overview" bookmark
    (the scene a floating patch, long streaks): the path goes through the photos' views."""
    from scene.campath import bookmark_path
    from scene.world import OVERVIEW_BOOKMARK, World

    w = World()
    for i in range(3):
        w.bookmarks.append(Bookmark(f"p{i}", np.array([float(i), 1.6, 0.0]), 0.0, 0.0, 50.0, 60.0))
    w.bookmarks.append(Bookmark(OVERVIEW_BOOKMARK, np.array([1.0, 40.0, 10.0]), 0.0, -1.0))
    path, how = bookmark_path(w, seconds=2.0)
    assert how == "through the 4 bookmarks" and path.duration == pytest.approx(6.0)
    w.meta["reconstruct"] = {"photos": 3}
    path, how = bookmark_path(w, seconds=2.0)
    # its bookmarks are its photos' cameras ("12 bookmarks" read as wrong, a trial)
    assert how == "through the 3 photos' views (not the 'Overview' one)"
    assert path.duration == pytest.approx(4.0)
    assert max(path.camera(float(t), 64, 48).position[1] for t in np.linspace(0, 4, 9)) < 2.0
