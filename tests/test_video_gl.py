"""The fly-through video through the real GL renderer: frames match render_image."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud

from scene.campath import CameraPath, Keyframe
from scene.world import Layer, World, similarity_matrix

pytestmark = pytest.mark.gl


def small_world() -> World:
    rng = np.random.default_rng(0)
    w = World()
    # A coloured floor and a few blobs: structure a video codec can keep.
    g = np.stack(np.meshgrid(np.linspace(-3, 3, 40), np.linspace(-3, 3, 40)), -1).reshape(-1, 2)
    floor = np.stack([g[:, 0], np.zeros(len(g)), g[:, 1]], 1)
    cols = np.stack([(g[:, 0] + 3) / 6, 0.4 + 0 * g[:, 0], (g[:, 1] + 3) / 6], 1)
    from scene.gaussians import GaussianCloud

    w.add_layer(Layer("floor", GaussianCloud.from_points(floor, cols, 0.12, 0.9)))
    blobs = random_cloud(300, sh_degree=1, seed=2)
    blobs.scales = rng.uniform(-2.5, -1.5, (300, 3)).astype(np.float32)
    w.add_layer(Layer("blobs", blobs, "object", transform=similarity_matrix((0, 1, -1), 0.3, 0.6)))
    return w


def test_video_frames_match_offscreen_renders(x_display, tmp_path):
    from cli.cmd_video import make_render_fn
    from generators.video import psnr, read_video, render_video
    from viewer.offscreen import render_image

    world = small_world()
    path = CameraPath(
        [
            Keyframe([0, 1.5, 4], 0.0, -0.2, 60, 0.0),
            Keyframe([1.5, 1.2, 2.5], 0.5, -0.3, 55, 1.0),
            Keyframe([2.5, 1.6, 0.5], 1.2, -0.25, 60, 2.0),
        ]
    )
    render = make_render_fn(world)
    try:
        res = render_video(world, path, tmp_path / "fly.mp4", render, size=(192, 128), fps=8)
    finally:
        render.release()
    frames, fps = read_video(tmp_path / "fly.mp4")
    assert res.frames == 16 and frames.shape == (16, 128, 192, 3) and fps == pytest.approx(8)
    cams = path.cameras(8, 192, 128)
    scores = [psnr(f, render_image(world, c)) for f, c in zip(frames, cams)]
    print(
        f"video vs render_image PSNR min {min(scores):.1f} dB mean {np.mean(scores):.1f} dB; "
        f"{res.ms_per_frame:.1f} ms/frame ({res.render_ms_per_frame:.1f} ms rendering)"
    )
    assert min(scores) >= 30.0
    assert frames[0].mean() > 5  # not a black video
    # Each frame is its own camera's view, not a neighbour's.
    assert (
        psnr(frames[8], render_image(world, cams[8]))
        > psnr(frames[8], render_image(world, cams[0])) + 5
    )


def test_video_of_an_object_file_turns_around_it(x_display, tmp_path):
    """`video box.glb --out v.mp4`: a file with no camera path or bookmark (an exported
    object) gets a turntable that keeps it in view; before it was refused ("no camera
    path") or crashed on the mesh."""
    import subprocess
    import sys

    import trimesh
    from conftest import ROOT

    from generators.video import read_video

    glb = tmp_path / "box.glb"
    trimesh.creation.box().export(glb)
    out = tmp_path / "v.mp4"
    res = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "video", str(glb), "--size", "96x64"]
        + ["--fps", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "turn around the scene" in res.stderr
    frames, _ = read_video(out)
    assert len(frames) == 24
    centre = frames[:, 16:48, 32:64].mean((1, 2, 3))
    assert (centre > 20).all()  # the box fills the middle of every frame
