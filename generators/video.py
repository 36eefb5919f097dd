"""Fly-through videos: render a camera path frame by frame and encode an MP4.

The renderer is passed in (`render_fn(scene, camera) -> (H, W, 3) uint8`), so this
module needs no GL: the CLI and the app pass `viewer.offscreen.render_image`. Frames
are piped to ffmpeg (imageio-ffmpeg's bundled binary, libx264, yuv420p) while the next
one renders. The file appears at the target path only when complete: a cancelled or
failed render leaves no partial file there (and removes its temp file).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from scene.camera import Camera
from scene.campath import CameraPath
from scene.errors import SceneFormatError
from scene.files import commit_temp, make_temp_file

log = logging.getLogger(__name__)

RenderFn = Callable[[Any, Camera], np.ndarray]
MAX_SIDE = 8192


@dataclass
class VideoResult:
    """What was written and how long it took."""

    path: Path
    frames: int
    width: int
    height: int
    fps: float
    seconds: float  # wall time of the whole job
    render_ms_per_frame: float  # time inside render_fn
    ms_per_frame: float  # wall time per frame, rendering + encoding
    stages: dict[str, float] = field(default_factory=dict)


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); both even (H.264 4:2:0 needs it)."""
    try:
        w, h = (int(v) for v in text.lower().replace(" ", "").split("x"))
    except ValueError:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 1280x720") from None
    check_size(w, h)
    return w, h


def check_size(width: int, height: int) -> None:
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise ValueError(
            f"video size {width}x{height} must be between 16 and {MAX_SIDE} pixels a side"
        )
    if width % 2 or height % 2:
        raise ValueError(
            f"video width and height must be even for H.264 (yuv420p); got "
            f"{width}x{height}, try {width - width % 2}x{height - height % 2}"
        )


def check_video_output(out: str | Path) -> Path:
    """`out` as a Path when it can take a video: a name ending in .mp4 in a folder that
    exists and takes a new file (a probe file is made there and removed: /proc passed
    the app's dialog and failed only once the dialog was gone, its settings with it).
    Raises ValueError (no name, another suffix; scene.errors.SceneFormatError, a
    ValueError, for a folder that takes no file) or FileNotFoundError (no folder)."""
    from scene.files import make_temp_file

    out = Path(out)
    if not out.name:
        raise ValueError("no output file given")
    if out.suffix.lower() != ".mp4":
        raise ValueError(f"output {out.name!r} must end in .mp4")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"output folder {folder} does not exist")
    fd, probe = make_temp_file(out)
    os.close(fd)
    probe.unlink(missing_ok=True)
    return out


def duration_text(seconds: float) -> str:
    """A rough duration for a person: '40 s', '3 min', '1 h 5 min'."""
    s = max(0.0, float(seconds))
    if s < 90:
        return f"{max(1, round(s))} s"
    m = round(s / 60)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60} min"


#: frames a video may have (an hour at 30 fps): a project's path of 86,399 s planned 2.6 M
#: frames, hours of rendering, without a word (a trial)
MAX_VIDEO_FRAMES = 108_000


def render_video(
    scene_obj: Any,
    path: CameraPath,
    out: str | Path,
    render_fn: RenderFn,
    *,
    size: tuple[int, int] = (1280, 720),
    fps: float = 30.0,
    crf: int = 18,
    preset: str = "medium",
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> VideoResult:
    """Render `path` through `render_fn` at `size` and `fps` into the MP4 `out`.

    Frame count: round(duration·fps) + 1 (first and last keyframes included), at most
    MAX_VIDEO_FRAMES (ValueError before any work). Raises `Cancelled` when `cancel` is
    set; nothing is left at `out` then.
    """
    import imageio_ffmpeg

    width, height = int(size[0]), int(size[1])
    check_size(width, height)
    if not (math.isfinite(fps) and 0 < fps <= 240):
        raise ValueError(f"fps must be in (0, 240]; got {fps}")
    if not 0 <= int(crf) <= 51:
        raise ValueError(f"crf must be 0..51 (lower is better quality); got {crf}")
    frames = path.frame_count(fps)
    if frames > MAX_VIDEO_FRAMES:
        raise ValueError(
            f"the camera path lasts {duration_text(path.duration)}: {frames:,} frames at "
            f"{fps:g} fps, more than the {MAX_VIDEO_FRAMES:,} a video may have (an hour at "
            "30 fps); lower --fps or shorten the path"
        )
    out = check_video_output(out)
    times = path.frame_times(fps)
    n = len(times)
    stages = Stages(progress, [("render", 1.0)], cancel)
    fd, tmp = make_temp_file(out)  # .wander-tmp-<pid>-<rand>-NAME.mp4: swept if killed
    os.close(fd)
    t0 = time.perf_counter()
    render_s = 0.0
    writer = None
    try:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=2,
            ffmpeg_log_level="error",
            output_params=["-crf", str(int(crf)), "-preset", preset, "-movflags", "+faststart"],
        )
        writer.send(None)  # start ffmpeg
        with stages("render") as report:
            t_start = t_first = time.perf_counter()
            for i, t in enumerate(times):
                stages.cancel.check()
                cam = path.camera(float(t), width, height)
                r0 = time.perf_counter()
                frame = np.asarray(render_fn(scene_obj, cam))
                render_s += time.perf_counter() - r0
                if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
                    raise ValueError(
                        f"the renderer returned {frame.dtype} {frame.shape}, "
                        f"expected uint8 ({height}, {width}, 3)"
                    )
                writer.send(np.ascontiguousarray(frame))
                now = time.perf_counter()
                spent = now - t_start
                if i == 0:
                    t_first = now
                # the rate after the first frame, which pays one-off costs (kernels loaded,
                # the first sort): counted in, a 61-frame video said "about 19 s left" at
                # frame 6 and was done 6 s later (a trial)
                left = (now - t_first) / max(i, 1) * (n - i - 1)
                # a long video says how long it will take once a few frames tell
                # (none on the last frame: "frame 25/25, about 1 s left" at 100 %)
                soon = i >= 2 and spent > 2.0 and i + 1 < n
                eta = f", about {duration_text(left)} left" if soon else ""
                report((i + 1) / n, f"frame {i + 1}/{n}{eta}")
        writer.close()  # waits for ffmpeg to finish the file
        writer = None
        commit_temp(tmp, out)
    except OSError as exc:  # ffmpeg died (disk full, folder gone...) or the rename failed
        _close_quietly(writer)
        tmp.unlink(missing_ok=True)
        # ffmpeg's and the OS's messages name the temp file: name the user's output
        text = str(exc).replace(str(tmp), str(out)).replace(tmp.name, out.name)
        raise SceneFormatError(out, f"cannot write the video: {text}") from None
    except BaseException:
        _close_quietly(writer)
        tmp.unlink(missing_ok=True)
        raise
    total = time.perf_counter() - t0
    return VideoResult(
        out,
        n,
        width,
        height,
        float(fps),
        total,
        1000 * render_s / n,
        1000 * total / n,
        dict(stages.times),
    )


def _close_quietly(writer: Any) -> None:
    """Stop ffmpeg after a failure (it may be gone already; that is logged, not raised)."""
    if writer is None:
        return
    try:
        writer.close()
    except Exception as exc:  # noqa: BLE001 - ffmpeg already gone; the temp file is removed
        log.debug("ffmpeg writer close after a failure: %s", exc)


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames of a video as (T, H, W, 3) uint8 and its fps (for tests and checks)."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = gen.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]
    return np.stack(frames) if frames else np.zeros((0, h, w, 3), np.uint8), float(meta["fps"])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255.0**2 / mse)
