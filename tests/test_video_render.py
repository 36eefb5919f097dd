"""Fly-through MP4: frame count, size, frames match renders of the same cameras, cancel."""

from __future__ import annotations

import numpy as np
import pytest

from generators.jobs import Cancelled, CancelToken
from generators.video import parse_size, psnr, read_video, render_video
from scene.camera import Camera
from scene.campath import CameraPath, Keyframe


def env_render(scene_obj, cam: Camera) -> np.ndarray:
    """A procedural 'environment' renderer: smooth colours from view rays and position."""
    d = cam.pixel_rays()  # (H, W, 3)
    p = cam.position
    rgb = 0.5 + 0.45 * np.sin(
        np.stack([3 * d[..., 0] + p[0], 2 * d[..., 1] + 2 * d[..., 2], 4 * d[..., 2] - p[2]], -1)
    )
    return np.round(rgb * 255).astype(np.uint8)


def short_path() -> CameraPath:
    return CameraPath(
        [
            Keyframe([0, 1.6, 0], 0.0, 0.0, 60, 0.0),
            Keyframe([0.5, 1.6, -1], 0.6, 0.1, 55, 1.0),
            Keyframe([1.0, 1.7, -1.5], 1.2, -0.1, 60, 2.0),
        ]
    )


def test_video_frames_count_size_and_match_renders(tmp_path):
    path = short_path()
    out = tmp_path / "fly.mp4"
    seen = []
    res = render_video(
        None, path, out, env_render, size=(160, 96), fps=12, progress=lambda f, m: seen.append(f)
    )
    assert res.frames == 24 and out.exists()  # 2 s at 12 fps
    assert seen[-1] == pytest.approx(1.0) and all(np.diff(seen) >= 0)
    frames, fps = read_video(out)
    assert frames.shape == (24, 96, 160, 3) and fps == pytest.approx(12)
    scores = [psnr(f, env_render(None, c)) for f, c in zip(frames, path.cameras(12, 160, 96))]
    print(
        f"PSNR min {min(scores):.1f} dB, mean {np.mean(scores):.1f} dB; "
        f"{res.ms_per_frame:.1f} ms/frame"
    )
    assert min(scores) >= 30.0
    # Frames are in path order: each matches its own camera better than its neighbour's.
    cams = path.cameras(12, 160, 96)
    assert psnr(frames[0], env_render(None, cams[0])) > psnr(frames[0], env_render(None, cams[12]))
    assert [p.name for p in tmp_path.iterdir()] == ["fly.mp4"]


def test_cancel_leaves_no_partial_file(tmp_path):
    out = tmp_path / "fly.mp4"
    out.write_bytes(b"previous video")
    token = CancelToken()
    count = {"n": 0}

    def render(scene_obj, cam):
        count["n"] += 1
        if count["n"] == 4:
            token.cancel()
        return env_render(scene_obj, cam)

    with pytest.raises(Cancelled):
        render_video(None, short_path(), out, render, size=(64, 48), fps=10, cancel=token)
    assert count["n"] == 4
    assert out.read_bytes() == b"previous video"
    assert [p.name for p in tmp_path.iterdir()] == ["fly.mp4"]


def test_renderer_errors_clean_up(tmp_path):
    out = tmp_path / "v.mp4"
    with pytest.raises(ValueError, match="expected uint8"):
        render_video(
            None, short_path(), out, lambda s, c: np.zeros((10, 10, 3)), size=(64, 48), fps=5
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, match", [("1281x720", "even"), ("8x8", "between"), ("big", "WIDTHxHEIGHT")]
)
def test_bad_sizes(text, match):
    with pytest.raises(ValueError, match=match):
        parse_size(text)


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        render_video(None, short_path(), tmp_path / "a.mp4", env_render, size=(64, 48), fps=0)
    with pytest.raises(ValueError, match=".mp4"):
        render_video(None, short_path(), tmp_path / "a.avi", env_render, size=(64, 48))
    assert parse_size("1280x720") == (1280, 720)


def test_a_slow_video_says_how_long_is_left(tmp_path, monkeypatch):
    """Trial: a 4 s clip at the default 1280x720 / 30 fps took 103 s with nothing saying
    so. The progress now says what is left once a few frames tell (a fake clock: every
    frame takes as long; 25 frames)."""
    import generators.video as video

    clock = iter(np.arange(0.0, 1e4, 0.5))  # every reading half a second later
    monkeypatch.setattr(video.time, "perf_counter", lambda: float(next(clock)))
    seen: list[str] = []
    render_video(
        None,
        short_path(),
        tmp_path / "v.mp4",
        env_render,
        size=(64, 48),
        fps=12,
        progress=lambda f, m: seen.append(m),
    )
    frames = [m for m in seen if m.startswith("frame ")]
    assert len(frames) == 24 and "left" not in frames[0] and "left" not in frames[1]
    left = [int(m.split("about ")[1].split(" s")[0]) for m in frames[4:-1]]
    # the same time per frame all along: what is left shrinks in step with the frames
    assert left == sorted(left, reverse=True) and left[0] == pytest.approx(19 * left[-3] / 3, 0.2)
    assert frames[-1] == "frame 24/24"  # not "about 1 s left" at 100 %
    assert video.duration_text(40) == "40 s" and video.duration_text(200) == "3 min"
    assert video.duration_text(3900) == "1 h 5 min"


def test_the_first_frames_one_off_cost_is_not_in_the_estimate(tmp_path, monkeypatch):
    """A trial: "about 19 s left" at frame 6 of 61, done 6 s later. The first frame pays
    one-off costs (kernels, the first sort); the estimate uses the frames after it (a fake
    clock: the first frame 10 s, every other 1 s; 24 frames)."""
    import generators.video as video

    now = [0.0]
    monkeypatch.setattr(video.time, "perf_counter", lambda: now[0])

    def slow_first(scene_obj, cam):  # noqa: ANN001, ANN202
        now[0] += 10.0 if now[0] == 0.0 else 1.0
        return env_render(scene_obj, cam)

    seen: list[str] = []
    render_video(
        None, short_path(), tmp_path / "v.mp4", slow_first, size=(64, 48), fps=12,
        progress=lambda f, m: seen.append(m),
    )  # fmt: skip
    sixth = next(m for m in seen if m.startswith("frame 6/24"))
    assert sixth.endswith("about 18 s left"), sixth  # 18 frames of 1 s (not 45 s)


def test_an_output_folder_that_takes_no_file_is_refused_before_rendering(tmp_path):
    """/proc exists and is a folder, but no file can be made there: the app's Render Video
    dialog let it through and the render failed once the dialog (and its settings) had
    gone (a trial). The output check makes a probe file and removes it."""
    from pathlib import Path

    from generators.video import check_video_output

    ok = tmp_path / "v.mp4"
    assert check_video_output(ok) == ok and list(tmp_path.iterdir()) == []  # no probe left
    with pytest.raises(ValueError, match=r"\.mp4"):
        check_video_output(tmp_path / "v.avi")
    with pytest.raises(FileNotFoundError):
        check_video_output(tmp_path / "missing" / "v.mp4")
    if Path("/proc").is_dir():  # Linux: a folder that takes no file, even for root
        with pytest.raises(ValueError, match="cannot write in /proc"):
            check_video_output("/proc/x.mp4")


def test_a_path_of_hours_is_refused_before_any_frame(tmp_path) -> None:
    """A project's camera path of 86,399 s planned 2.6 M frames and hours of rendering
    without a word (a trial): over MAX_VIDEO_FRAMES the video is refused up front."""
    from generators.video import MAX_VIDEO_FRAMES

    path = CameraPath(
        [
            Keyframe([0, 1.6, 0], 0.0, 0.0, 60, 0.0),
            Keyframe([1.0, 1.6, 0], 0.0, 0.0, 60, 86399.0),
        ]
    )
    calls = []
    out = tmp_path / "long.mp4"
    with pytest.raises(ValueError, match="lower --fps or shorten the path") as err:
        render_video(None, path, out, lambda *a: calls.append(1), size=(64, 48), fps=30)
    assert f"{MAX_VIDEO_FRAMES:,}" in str(err.value) and "24 h" in str(err.value)
    assert not calls and not out.exists()
