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
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--eye", "1,2", "--look", "0,0,0"], "--eye must be three numbers"),
        (["--size", "big"], "--size must look like"),
        (["--fov", "0"], "--fov must be between"),
        (["--eye", "0,0,0", "--look", "0,0,0"], "coincide"),
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
