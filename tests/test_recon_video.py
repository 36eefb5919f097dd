"""Video input: sharp, distinct frames are kept; blurred and near-duplicate ones skipped."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.reconstruct.synthetic import orbit_cameras, render, room_scene  # noqa: E402
from generators.reconstruct.video import sample_frames  # noqa: E402


def _write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> None:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert vw.isOpened()
    for f in frames:
        vw.write(f[..., ::-1])
    vw.release()


def test_sample_frames_skips_blur_and_duplicates(tmp_path: Path) -> None:
    quads = room_scene()
    cams = orbit_cameras(6, 160, 120, seed=6)
    frames = []
    kinds = []
    for i, cam in enumerate(cams):
        img, _ = render(quads, cam)
        frames += [img, img.copy()]  # the camera paused: a duplicate
        kinds += ["sharp", "dup"]
        if i % 2 == 0:
            frames.append(cv2.GaussianBlur(img, (0, 0), 4))  # motion-blurred frame
            kinds.append("blur")
    video = tmp_path / "walk.avi"
    _write_video(video, frames)
    stats: dict = {}
    out = sample_frames(video, tmp_path / "frames", max_frames=40, stats=stats)
    assert stats["read"] == len(frames)
    assert len(out) == 6, stats  # one per camera position
    assert stats["blurred"] >= 1 and stats["duplicates"] >= 1
    for p in out:
        img = cv2.imread(str(p))
        assert img is not None and img.shape == (120, 160, 3)
        assert cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var() > 50


@pytest.mark.slow
def test_max_frames_and_bad_video(tmp_path: Path) -> None:
    quads = room_scene()
    cams = orbit_cameras(12, 128, 96, seed=7)
    _write_video(tmp_path / "v.avi", [render(quads, c)[0] for c in cams])
    stats: dict = {}
    assert len(sample_frames(tmp_path / "v.avi", tmp_path / "f", max_frames=4, stats=stats)) == 4
    # the cap is said (12 distinct frames, 4 kept) and each kept frame's place in the video
    assert stats["distinct"] == 12 and stats["kept"] == 4, stats
    src = stats["source_frames"]
    assert len(src) == 4 and src == sorted(src) and src[0] == 0 and src[-1] == 11
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(ValueError, match="bad.mp4: not a video this machine can read"):
        sample_frames(tmp_path / "bad.mp4", tmp_path / "g")
    (tmp_path / "text.jpg").write_text("hello")  # FFmpeg printed its own lines for this
    with pytest.raises(ValueError, match="text.jpg: not a video"):
        sample_frames(tmp_path / "text.jpg", tmp_path / "g")
    with pytest.raises(ValueError, match="no such video"):
        sample_frames(tmp_path / "missing.mp4", tmp_path / "g")
    with pytest.raises(ValueError, match="is a folder, not a video file .*--photos"):
        sample_frames(tmp_path / "f", tmp_path / "g")  # a folder of frames, given as --video
    still = render(quads, cams[0])[0]
    _write_video(tmp_path / "still.avi", [still] * 8)
    with pytest.raises(ValueError, match="move the camera"):
        sample_frames(tmp_path / "still.avi", tmp_path / "h")


@pytest.mark.slow
def test_dolly_with_plain_sky_and_ground_keeps_its_frames(tmp_path: Path) -> None:
    """A sideways dolly whose frames are 45 % untextured sky and ground: every frame
    moves the textured scene 1.1-1.7 % of the width, so none is a near-duplicate (a median
    over all pixels saw < 1 % and dropped about half of them)."""
    from generators.reconstruct.video import median_flow, motion
    from scene.camera import Camera

    quads = room_scene()
    frames = []
    for i in range(14):
        eye = np.array([-1.2 + 0.065 * i, 1.0, 1.6])
        img, _ = render(
            quads, Camera.look_at(eye, eye + np.array([0.0, 0.0, -1.0]), 60.0, 320, 180)
        )
        img = img.copy()
        img[:45] = (150, 190, 235)  # plain sky: 25 % of the frame
        img[-36:] = (120, 120, 110)  # plain ground: 20 %
        frames.append(img)
    g0, g1 = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames[:2])
    assert median_flow(g0, g1) < 0.01 < motion(g0, g1) < 0.025  # the case the old measure missed
    video = tmp_path / "dolly.avi"
    _write_video(video, frames)
    stats: dict = {}
    out = sample_frames(video, tmp_path / "frames", max_frames=40, stats=stats)
    assert stats["duplicates"] == 0 and len(out) == 14, stats
