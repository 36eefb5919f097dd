"""`python main.py render ...`: a PNG from a saved scene, and clear errors for bad options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, random_cloud


@pytest.fixture(scope="module")
def ply(tmp_path_factory) -> Path:
    from scene.io import save

    path = tmp_path_factory.mktemp("render") / "cloud.ply"
    save(random_cloud(2000, 3, seed=4), path)
    return path


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "render", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.gl
def test_render_writes_the_same_image_as_render_image(x_display, ply: Path, tmp_path: Path) -> None:
    from PIL import Image

    from scene.camera import Camera
    from scene.io import load
    from viewer.offscreen import render_image

    out = tmp_path / "shot.png"
    res = _run(
        str(ply),
        "--eye",
        "0.5,1,6",
        "--look",
        "0,0,0",
        "--fov",
        "45",
        "--size",
        "160x120",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    img = np.asarray(Image.open(out))
    assert img.shape == (120, 160, 3)
    expect = render_image(load(ply), Camera.look_at((0.5, 1, 6), (0, 0, 0), 45, 160, 120))
    assert np.abs(img.astype(int) - expect).max() <= 1
    assert img.std() > 10
    assert "nothing of the scene is in view" not in res.stderr


@pytest.mark.gl
def test_a_view_of_nothing_is_said(x_display, ply: Path, tmp_path: Path) -> None:
    """Turned away from an object it framed, `render` wrote an all-black PNG and said
    nothing (a trial): the picture is still written, with a note."""
    out = tmp_path / "away.png"
    res = _run(
        str(ply), "--eye", "0.5,1,6", "--look", "0,0,12", "--size", "80x60", "--out", str(out)
    )
    assert res.returncode == 0 and out.exists(), res.stderr
    assert "note: nothing of the scene is in view" in res.stderr
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--eye", "1,2", "--look", "0,0,0"], "--eye must be three numbers"),
        (["--size", "big"], "--size must look like"),
        (["--fov", "0"], "--fov must be between"),
        (["--eye", "0,0,0", "--look", "0,0,0"], "coincide"),
        (["--step", "2,0"], "--step must be three numbers"),
        (["--turn", "nan"], "--turn must be a number"),
    ],
)
def test_bad_options_give_one_clear_error(ply: Path, tmp_path: Path, args, msg: str) -> None:
    res = _run(str(ply), "--out", str(tmp_path / "x.png"), *args)
    assert res.returncode == 2
    assert msg in res.stderr and "Traceback" not in res.stderr


def test_missing_scene_is_a_clear_error(tmp_path: Path) -> None:
    res = _run(str(tmp_path / "none.ply"), "--out", str(tmp_path / "x.png"))
    assert res.returncode == 2 and "no such file" in res.stderr


@pytest.mark.gl
def test_headless_egl_render_matches_the_x_display_render(
    x_display, ply: Path, tmp_path: Path
) -> None:
    """No display at all: the CLI falls back to Mesa's surfaceless EGL and draws the same image."""
    import os

    from PIL import Image

    args = ["--eye", "0,0.5,6", "--look", "0,0,0", "--fov", "50", "--size", "120x90"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WANDER_GL", "PYOPENGL_PLATFORM")
    }
    res = _run(str(ply), *args, "--out", str(tmp_path / "egl.png"), env=env)
    if res.returncode != 0 and "EGL" in res.stderr:
        pytest.skip(f"no EGL here: {res.stderr.strip()[-200:]}")
    assert res.returncode == 0, res.stderr
    res2 = _run(str(ply), *args, "--out", str(tmp_path / "x.png"))
    assert res2.returncode == 0, res2.stderr
    a = np.asarray(Image.open(tmp_path / "egl.png")).astype(int)
    b = np.asarray(Image.open(tmp_path / "x.png")).astype(int)
    assert a.std() > 10 and np.abs(a - b).max() <= 1


def test_default_view_is_the_first_bookmark_when_there_is_one() -> None:
    """A generated world's start (inside it, where the photo was taken) rather than a
    view framing the whole world from outside; without bookmarks, the framing view."""
    import math

    from cli.cmd_render import bookmark_view, default_view
    from scene.world import Bookmark, World

    bm = Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.0, math.radians(-15), 50.0)
    eye, look = bookmark_view(bm)
    np.testing.assert_allclose(eye, [0, 1.6, 0])
    d = look - eye
    assert d[2] < 0 and d[1] == pytest.approx(-math.sin(math.radians(15)), abs=1e-6)
    w = World()
    from scene.world import Layer

    w.add_layer(Layer(name="c", data=random_cloud(500, 0, seed=1)))
    eye2, look2 = default_view(w)
    assert np.linalg.norm(eye2 - look2) > 0.5


def test_a_world_saved_as_a_splat_file_starts_where_its_photo_was_taken(tmp_path: Path) -> None:
    """`world --out world.ply` writes the splats and a .json provenance; headless commands
    open that file as the app does: a "Start" bookmark at the eye, at the photo's pitch and
    field of view (before: a view from outside the sky dome, and `video` refused it for
    want of a camera path). Files written before the start was recorded get it from the
    eye height and the panorama's record; another tool's PLY gets no bookmark."""
    import json
    import math

    from cli.scene_files import load_scene
    from scene.io import save

    ply = tmp_path / "world.ply"
    save(random_cloud(500, 0, seed=2), ply)
    side = ply.with_name(ply.name + ".json")
    start = {"position": [0, 1.7, 0], "yaw": 0.0, "pitch": 0.12, "fov_y_deg": 46.0}
    side.write_text(
        json.dumps({"generator": "wander.pano_world", "eye_height": 1.7, "start": start})
    )
    w = load_scene(ply)
    assert [b.name for b in w.bookmarks] == ["Start"]
    np.testing.assert_allclose(w.bookmarks[0].position, [0, 1.7, 0])
    assert w.bookmarks[0].pitch == pytest.approx(0.12)
    assert w.bookmarks[0].fov_y_deg == pytest.approx(46.0)
    assert w.meta["up_axis_source"].startswith("made by Wander")
    assert w.meta["units"] == "m"  # walking speed in metres, not guessed from the extent
    old = {
        "generator": "wander.pano_world",
        "eye_height": 1.6,
        "panorama": {"fov_x_deg": 65.0, "photo_pitch": {"pitch_deg": 7.4, "applied": True}},
    }
    side.write_text(json.dumps(old))
    b = load_scene(ply).bookmarks[0]
    np.testing.assert_allclose(b.position, [0, 1.6, 0])
    assert b.pitch == pytest.approx(math.radians(7.4)) and b.fov_x_deg == pytest.approx(65.0)
    side.write_text(json.dumps({"generator": "wander.pano_world", "eye_height": "nan"}))
    assert load_scene(ply).bookmarks == []  # a hostile record: no start, no error
    side.unlink()
    plain = load_scene(ply)
    assert plain.bookmarks == [] and "units" not in plain.meta


@pytest.mark.gl
def test_a_mesh_file_renders(x_display, tmp_path: Path) -> None:
    """A scene that is only a mesh (an object exported as .glb/.obj) renders; the check
    that a scene shows something took a mesh's length and crashed (TypeError)."""
    import trimesh
    from PIL import Image

    for name in ("box.glb", "box.obj"):
        path = tmp_path / name
        trimesh.creation.box().export(path)
        out = tmp_path / (name + ".png")
        res = _run(str(path), "--size", "96x64", "--out", str(out))
        assert res.returncode == 0, res.stderr
        assert np.asarray(Image.open(out)).std() > 5


def test_orbit_moves_the_eye_round_what_it_looks_at() -> None:
    """`render OBJ --turn 180` turned away from an object to an empty picture; `--orbit
    180` goes round to its back, still looking at it (a trial had no simple way)."""
    from cli.cmd_render import orbited_view

    eye, look = np.array([0.0, 1.0, 5.0]), np.array([0.0, 0.5, 0.0])
    e, lk = orbited_view(eye, look, 90.0)  # to the viewer's right (+X), same height
    np.testing.assert_allclose(e, [5.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(lk, look)
    e, _ = orbited_view(eye, look, 180.0)
    np.testing.assert_allclose(e, [0.0, 1.0, -5.0], atol=1e-9)


def test_turn_and_step_move_the_view_in_its_own_level_frame() -> None:
    """--turn DEG turns right about the vertical keeping the pitch; --step R,U,F moves the
    eye right / up / forward of the turned view, level: the views issue 14 judges (turned
    90° and 180°, 2 m to the side) without working out --eye and --look by hand."""
    from cli.cmd_render import turned_view

    eye, look = np.array([0.0, 1.6, 0.0]), np.array([0.0, 1.3, -1.0])  # looking down a little
    e, lk = turned_view(eye, look, 90.0)
    np.testing.assert_allclose(e, eye)
    np.testing.assert_allclose(lk - e, [1.0, -0.3, 0.0], atol=1e-12)  # right, same pitch
    e, lk = turned_view(eye, look, 180.0)
    np.testing.assert_allclose(lk - e, [0.0, -0.3, 1.0], atol=1e-12)
    e, lk = turned_view(eye, look, 0.0, np.array([2.0, 0.5, 0.0]))
    np.testing.assert_allclose(e, [2.0, 2.1, 0.0], atol=1e-12)
    np.testing.assert_allclose(lk - e, look - eye, atol=1e-12)
    e, _ = turned_view(eye, look, 90.0, np.array([0.0, 0.0, 1.0]))  # forward, once turned: +X
    np.testing.assert_allclose(e, [1.0, 1.6, 0.0], atol=1e-12)
    e, lk = turned_view(eye, np.array([0.0, 5.0, 0.0]), 0.0, np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(e, [1.0, 1.6, 0.0], atol=1e-12)  # straight up: world X
