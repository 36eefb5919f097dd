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


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "render", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.gl
def test_render_writes_the_same_image_as_render_image(x_display, ply: Path, tmp_path: Path) -> None:
    from PIL import Image

    from scene.camera import Camera
    from scene.io import load
    from viewer.offscreen import render_image

    out = tmp_path / "shot.png"
    res = _run(str(ply), "--eye", "0.5,1,6", "--look", "0,0,0", "--fov", "45", "--size", "160x120",
               "--out", str(out))
    assert res.returncode == 0, res.stderr
    img = np.asarray(Image.open(out))
    assert img.shape == (120, 160, 3)
    expect = render_image(load(ply), Camera.look_at((0.5, 1, 6), (0, 0, 0), 45, 160, 120))
    assert np.abs(img.astype(int) - expect).max() <= 1
    assert img.std() > 10
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


@pytest.mark.parametrize("args,msg", [
    (["--eye", "1,2", "--look", "0,0,0"], "--eye must be three numbers"),
    (["--size", "big"], "--size must look like"),
    (["--fov", "0"], "--fov must be between"),
    (["--eye", "0,0,0", "--look", "0,0,0"], "coincide"),
])
def test_bad_options_give_one_clear_error(ply: Path, tmp_path: Path, args, msg: str) -> None:
    res = _run(str(ply), "--out", str(tmp_path / "x.png"), *args)
    assert res.returncode == 2
    assert msg in res.stderr and "Traceback" not in res.stderr


def test_missing_scene_is_a_clear_error(tmp_path: Path) -> None:
    res = _run(str(tmp_path / "none.ply"), "--out", str(tmp_path / "x.png"))
    assert res.returncode == 2 and "no such file" in res.stderr
