"""The walkable area of a generated world: recorded by the generator, kept by walk mode."""

from __future__ import annotations

import numpy as np
import pytest

from scene.world import World
from viewer.navigation import Navigator
from viewer.walk_area import HINT, WalkArea


def _area(radius: float = 2.0) -> WalkArea:
    w = World()
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": radius, "source": "test"}
    a = WalkArea.from_world(w, np.eye(3))
    assert a is not None
    return a


def test_soft_boundary_slows_then_stops_outward_steps_inward_free() -> None:
    a = _area(2.0)
    # well inside: untouched
    np.testing.assert_allclose(a.constrain(np.zeros(3), np.array([0.5, 0, 0])), [0.5, 0, 0])
    # inside the soft margin: the outward step is shortened
    old = np.array([1.7, 0.0, 0.0])
    new = a.constrain(old, old + [0.2, 0, 0])
    assert 1.7 < new[0] < 1.9
    # never past the rim, whatever the step
    far = a.constrain(np.array([1.95, 0, 0]), np.array([5.0, 0, 0.5]))
    assert a.distance(far) <= 2.0 + 1e-9
    # walking back in is free, sliding along the rim is allowed
    back = a.constrain(np.array([2.0, 0, 0]), np.array([1.5, 0, 0]))
    np.testing.assert_allclose(back, [1.5, 0, 0])
    side = a.constrain(np.array([2.0, 0, 0]), np.array([2.0, 0, 0.3]))
    assert side[2] > 0.2 and a.distance(side) <= 2.0 + 1e-9


def test_malformed_or_missing_area_is_ignored() -> None:
    w = World()
    assert WalkArea.from_world(w, np.eye(3)) is None
    w.meta["walkable"] = {"radius": "wide"}
    assert WalkArea.from_world(w, np.eye(3)) is None
    w.meta["walkable"] = {"radius": -1}
    assert WalkArea.from_world(w, np.eye(3)) is None


def test_one_reader_of_the_walkable_record_for_the_walk_and_the_camera_path() -> None:
    """scene.world.walkable_disc reads the record for walk mode's rim and for a video's
    sway alike: a finite number > 0 and a centre of 3 finite numbers, else nothing."""
    from scene.world import walkable_disc

    ok = walkable_disc({"walkable": {"radius": 1.5, "centre": [1, 0, -2]}})
    assert ok is not None and ok[1] == 1.5 and np.array_equal(ok[0], [1.0, 0.0, -2.0])
    assert walkable_disc({"walkable": {"radius": 2}})[1] == 2.0  # centre: the origin
    for bad in (
        {"radius": True},
        {"radius": float("inf")},
        {"radius": float("nan")},
        {"radius": "1.5"},
        {"radius": 0},
        {"radius": 1.0, "centre": [0, 0]},
        {"radius": 1.0, "centre": [0, float("nan"), 0]},
        {"radius": 1.0, "centre": "here"},
        ["radius", 1.0],
    ):
        assert walkable_disc({"walkable": bad}) is None, bad
    assert walkable_disc(None) is None and walkable_disc({}) is None


def test_walk_mode_stays_inside_and_hints_at_the_rim() -> None:
    """Walking into the rim is held back there, and the hint given; a step held back is
    reported (the status bar repeats its hint when the walker pushes against the rim after
    it has gone: a trial met the rim again with no word), walking inside is not."""
    nav = Navigator()
    nav.set_scene(np.full(3, -10.0), np.full(3, 10.0), up_rot=np.eye(3), collider=None, scale=1.0)
    nav.walk_area = _area(1.5)
    nav.set_mode("walk")
    nav.pos = np.array([0.0, nav.eye_height, 0.0])
    nav.yaw = 0.0
    nav.key_down("w")
    for _ in range(50):  # half a second: inside still
        nav.update(0.01)
    assert not nav.pushing_rim
    for _ in range(350):  # 4 s of walking straight ahead at ~1.4 m/s in all
        nav.update(0.01)
    feet = nav.pos - [0, nav.eye_height, 0]
    assert nav.walk_area.distance(feet) <= 1.5 + 1e-6
    assert nav.walk_area.distance(feet) > 1.2
    assert nav.pushing_rim and nav.status()["pushing_rim"]
    nav.key_up("w")
    for _ in range(200):
        nav.update(0.01)
    assert not nav.pushing_rim
    assert nav.status().get("walk_hint") == HINT


def test_walk_chosen_outside_the_area_starts_inside_it() -> None:
    """A trial flew out of the office world through its wall and under the floor, then
    chose Walk: the walker hovered 10 m out and 9 m under the floor in the void. Walk now
    starts at the nearest point inside the rim, on the floor, looking the same way; from
    inside it stays where it is."""
    nav = Navigator()
    nav.set_scene(np.full(3, -10.0), np.full(3, 10.0), up_rot=np.eye(3), collider=None, scale=1.0)
    nav.walk_area = _area(1.5)
    nav.set_mode("fly")
    nav.pos, nav.yaw = np.array([0.0, -8.75, -10.66]), 0.7
    nav.set_mode("walk")
    feet = nav.pos - [0, nav.eye_height, 0]
    assert nav.walk_area.distance(feet) <= 1.5 - nav.walk_area.margin + 1e-9
    assert feet[1] == pytest.approx(0.0) and feet[2] < -0.5 and nav.yaw == 0.7
    nav.set_mode("fly")
    nav.pos = np.array([0.3, nav.eye_height, 0.2])  # inside: kept
    nav.set_mode("walk")
    np.testing.assert_allclose(nav.pos, [0.3, nav.eye_height, 0.2])


def test_walking_in_a_small_area_is_slower_and_fly_keeps_its_speed() -> None:
    """At 2.5 m/s a one-photo room's 1.25 m walkable radius was crossed in half a second (a
    trial). Walking there crosses the radius in about 2 s (at least 0.8 m/s); a wide area,
    Fly mode and the speed multiplier are as before."""
    from viewer.navigation import AREA_MIN_SPEED, WALK_SPEED

    nav = Navigator()
    nav.set_scene(np.full(3, -10.0), np.full(3, 10.0), up_rot=np.eye(3), collider=None, scale=1.0)
    nav.walk_area = _area(1.25)
    nav.set_mode("walk")
    assert nav.move_speed == pytest.approx(AREA_MIN_SPEED)
    nav.walk_area = _area(3.0)
    assert nav.move_speed == pytest.approx(1.5)
    nav.speed_mult = 2.0  # the wheel still speeds up
    assert nav.move_speed == pytest.approx(3.0)
    nav.speed_mult = 1.0
    nav.walk_area = _area(40.0)
    assert nav.move_speed == pytest.approx(WALK_SPEED)
    nav.set_mode("fly")
    nav.walk_area = _area(1.25)
    assert nav.move_speed == pytest.approx(WALK_SPEED)


def test_a_panorama_worlds_rim_hint_does_not_speak_of_invented_parts() -> None:
    """At the rim of a world from a whole 360° panorama the hint said the world beyond
    is "invented from the photo's edges": nothing is invented there."""
    from viewer.walk_area import HINT_PANORAMA

    w = World()
    w.meta["walkable"] = {"centre": [0, 0, 0], "radius": 2.0, "invented": False}
    assert WalkArea.from_world(w, np.eye(3)).hint == HINT_PANORAMA
    w.meta["walkable"]["invented"] = True
    assert WalkArea.from_world(w, np.eye(3)).hint == HINT
    del w.meta["walkable"]["invented"]  # a project saved before the flag existed
    assert WalkArea.from_world(w, np.eye(3)).hint == HINT


def test_ring_projects_in_front_of_the_camera() -> None:
    from scene.camera import Camera

    a = _area(3.0)
    cam = Camera.from_yaw_pitch((0, 1.6, 0), 0.0, -0.3, 60, 320, 240)
    segs = a.ring_segments(cam)
    assert segs and all(np.isfinite(s).all() for s in np.array(segs))
    ys = np.array(segs)[:, [1, 3]]
    assert ys.min() > 120  # below the horizon: on the floor


def test_a_fence_rises_in_front_of_a_walker_at_the_rim() -> None:
    """At the rim the ring lies under the walker's feet, out of an eye-level view, and
    the hint pointed at it (a trial). Near the rim a fence stands FENCE_OUT beyond it,
    around the walker's bearing: in an eye-level view facing out, stronger the nearer
    the rim; none away from it."""
    from scene.camera import Camera
    from viewer.walk_area import FENCE_OUT

    a = _area(1.1)  # the office world's radius: the tightest case
    facing_out = Camera.from_yaw_pitch((0, 1.6, -1.08), 0.0, 0.0, 50, 320, 240)  # looks -Z
    assert a.fence_segments(Camera.from_yaw_pitch((0, 1.6, 0), 0.0, 0.0, 50, 320, 240)) == []
    segs = np.array(a.fence_segments(facing_out))
    assert len(segs) >= 10 and np.isfinite(segs).all()
    inside = (
        (segs[:, [0, 2]] >= 0).any(1)
        & (segs[:, [0, 2]] <= 320).any(1)
        & (segs[:, [1, 3]] >= 0).any(1)
        & (segs[:, [1, 3]] <= 240).any(1)
    )
    assert inside.sum() >= 5  # in view
    from viewer.walk_area import FENCE_ALPHA

    assert segs[:, 4].max() > 0.9 * FENCE_ALPHA  # at the rim: at full strength ahead
    # further in, fainter; the fence stands beyond the rim (FENCE_OUT), not on it
    nearer = np.array(
        a.fence_segments(Camera.from_yaw_pitch((0, 1.6, -0.8), 0.0, 0.0, 50, 320, 240))
    )
    assert 0 < nearer[:, 4].max() < segs[:, 4].max()
    assert FENCE_OUT > 0.2


def test_the_fence_stays_below_a_low_eye() -> None:
    """A world walked at a low eye (a tabletop photo's camera height: 0.3 m) had its fence
    rail at 0.5 m, across the top of the view (a review): the rail keeps below the eye."""
    from scene.camera import Camera

    a = _area(1.1)
    for eye in (1.6, 0.6, 0.45, 0.3):
        cam = Camera.from_yaw_pitch((0, eye, -1.08), 0.0, 0.0, 50, 320, 240)  # at the rim
        segs = np.array(a.fence_segments(cam))
        assert len(segs), eye
        assert segs[:, [1, 3]].min() > 120, (eye, segs[:, [1, 3]].min())  # under the horizon


@pytest.mark.slow
def test_generated_world_records_walkable_area_and_estimates(tmp_path) -> None:
    from pathlib import Path

    from cli.cmd_world import save_world, world_estimates
    from generators.pano_world import world_from_photos

    photo = Path(__file__).resolve().parents[1] / "assets" / "chelsea.jpg"
    world, _, _ = world_from_photos([photo], pano_height=256, resolution=128)
    walk = world.meta["walkable"]
    assert 1.0 <= walk["radius"] <= 0.4 * world.meta["estimates"]["far_radius"]["value"] + 1e-6
    est = world.layers[0].data.meta["estimates"]
    for key in ("radius", "far_radius", "sky_radius", "walkable_radius", "indoor"):
        assert est[key]["source"], key
    out = tmp_path / "w.ply"
    save_world(world, out)
    assert world_estimates(out)["radius"] == est["radius"]
    assert world_estimates(tmp_path / "missing.ply") is None
    # the world saved as a splat file opens with its walkable area, as its project does
    # (`world --out w.ply` opened without the ring and fence, and `video` filmed a full
    # turn round the invented room instead of a sway by the photo: a trial)
    from cli.scene_files import load_scene
    from scene.campath import bookmark_path

    back = load_scene(out)
    area = WalkArea.from_world(back, np.eye(3))
    assert area is not None and area.radius == pytest.approx(walk["radius"])
    assert back.meta["walkable"]["invented"] is True
    _, how = bookmark_path(back)
    assert how.startswith("a sway within the walkable area"), how
    import json

    from scene.files import sidecar_path

    rec = json.loads(sidecar_path(out).read_text())
    del rec["walkable"]  # a file written before the record was kept: from its estimates
    sidecar_path(out).write_text(json.dumps(rec))
    old = load_scene(out)
    assert old.meta["walkable"]["radius"] == pytest.approx(walk["radius"])
    assert old.meta["walkable"]["invented"] is True
    # `info` prints them for a splat file and for a project alike
    import contextlib
    import io

    from main import main

    proj = tmp_path / "w.wander"
    save_world(world, proj)
    assert world_estimates(proj)["radius"] == est["radius"]
    for f in (out, proj):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["info", str(f)]) == 0
        text = buf.getvalue()
        assert "world estimates (value, source):" in text, (f, text)
        assert f"radius: {est['radius']['value']}" in text


@pytest.mark.gl
def test_the_rim_hint_is_said_once_and_goes_when_the_walker_turns_back(app_window) -> None:  # noqa: ANN001
    """The status bar re-showed the rim hint on every update while the walker stood at
    the rim, so it stayed up after they turned back and wiped any other message there (a
    trial's "Bookmark 1 … replaced Start" never showed). Said once on reaching the rim, it
    goes on leaving it; a message said meanwhile stays."""
    from test_navigation import room_cloud

    from scene.world import Layer

    win = app_window()
    w = World()
    w.add_layer(Layer("room", room_cloud(size=8.0, spacing=0.2, wall_z=None)))
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.5, "source": "test"}
    win.set_world(w)
    nav = win.viewport.nav
    nav.set_mode("walk")
    bar = win.statusBar()
    nav.pos = np.array([1.5, nav.eye_height, 0.0])  # at the rim
    win._update_camera_status()
    assert bar.currentMessage() == HINT
    win.show_status("Bookmark 1 now holds this view")
    win._update_camera_status()  # still at the rim: the newer message stays
    assert bar.currentMessage() == "Bookmark 1 now holds this view"
    win.show_status(HINT)
    nav.pos = np.array([0.2, nav.eye_height, 0.0])  # back inside
    win._update_camera_status()
    assert bar.currentMessage() == ""
    # at the rim again, the hint gone (timed out): pushing outwards says it again
    nav.pos = np.array([1.5, nav.eye_height, 0.0])
    win._update_camera_status()
    bar.clearMessage()
    win._update_camera_status()  # standing there: no repeat
    assert bar.currentMessage() == ""
    nav.pushing_rim = True  # a step held back at the rim (Navigator.update)
    win._update_camera_status()
    assert bar.currentMessage() == HINT


@pytest.mark.gl
def test_the_ring_shows_over_the_frame_in_walk_mode_only(app_window, qtbot) -> None:  # noqa: ANN001
    """The ring was painted inside the GL frame, and the fade that follows every stop drew
    over it: a trial looked for it at the rim and found none. It is an overlay now, over
    every frame (and in a screenshot of the window); not in fly mode."""
    from PyQt6.QtGui import QImage
    from test_navigation import room_cloud

    from scene.world import Layer

    win = app_window()
    w = World()
    w.add_layer(Layer("room", room_cloud(size=8.0, spacing=0.2, wall_z=None)))
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.5, "source": "test"}
    win.set_world(w)
    vp = win.viewport
    nav = vp.nav
    nav.set_mode("walk")
    nav.pos = np.array([0.0, nav.eye_height, 0.0])
    nav.pitch = -1.2  # looking down: the ring all round, 1.5 m out

    def shot() -> np.ndarray:
        vp.hud.hide()  # it names the mode
        vp.update()
        qtbot.wait(300)
        img = vp.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        h, wd = img.height(), img.width()
        return (
            np.frombuffer(img.bits().asstring(h * img.bytesPerLine()), np.uint8)
            .reshape(h, img.bytesPerLine())[:, : 3 * wd]
            .reshape(h, wd, 3)
        )

    walking = shot()
    assert vp.walk_ring.wants_repaint()  # the ring in view: repainted after each frame
    nav.set_mode("fly")
    nav.pos = np.array([0.0, nav.eye_height, 0.0])
    nav.pitch = -1.2
    flying = shot()
    diff = np.abs(walking.astype(int) - flying.astype(int)).max(2) > 40
    assert 200 < diff.sum() < 0.05 * diff.size  # a thin dashed line, not a changed frame
    assert not vp.walk_ring.wants_repaint()  # flying, cleared: no repaint after each frame


@pytest.mark.gl
def test_a_world_opened_after_a_photo_world_starts_at_its_own_home(app_window, qtbot) -> None:  # noqa: ANN001
    """Walking into the walkable area when Walk is chosen ran with the last world's disc
    while a new world was set up: a room 30 m away opened at the old disc's rim, in the
    void (a review)."""
    from test_navigation import room_cloud

    from scene.world import Layer

    win = app_window()
    a = World()
    a.add_layer(Layer("photo", room_cloud(size=8.0, spacing=0.1)))
    a.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.5, "source": "test"}
    win.set_world(a)
    qtbot.wait(200)
    win.viewport.nav.set_mode("fly")
    cloud = room_cloud(size=10.0, spacing=0.1, wall_z=None)
    cloud.means[:, 0] += 30.0
    b = World()
    b.add_layer(Layer("room", cloud))
    win.set_world(b)
    qtbot.wait(200)
    nav = win.viewport.nav
    assert nav.walk_area is None
    assert np.allclose(nav.pos, nav.home.position, atol=0.1)
