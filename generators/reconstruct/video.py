"""Sample sharp, distinct frames from a video for reconstruction.

The video is cut into windows; each window keeps its sharpest frame (variance of the
Laplacian). Candidates much blurrier than the typical one are dropped, and so are
near-duplicates: frames whose textured points moved less than `min_motion` of the image
width (median) since the previous kept frame (the camera barely moved). Only textured
points count (see `motion`): a dolly past a building with plain sky and ground filling
half the frame has real parallax even though most pixels do not change.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress

log = logging.getLogger(__name__)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian of a grey uint8/float image (higher = sharper)."""
    import cv2

    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def motion(a: np.ndarray, b: np.ndarray) -> float:
    """How far the scene moved between two grey uint8 images (same size), as a fraction
    of the width: the median displacement of textured points.

    Corners of `a` (Shi-Tomasi) are tracked into `b` with pyramidal Lucas-Kanade and kept
    when tracking back lands within 1 px; untextured pixels (sky, a plain floor or wall)
    take no part, so they cannot drag the figure to zero as a median over all pixels does.
    With fewer than 12 tracked corners (blank, or a jump too large for the tracker), the
    median of dense Farneback flow over the pixels with image gradient is used.
    """
    import cv2

    w = a.shape[1]
    pts = cv2.goodFeaturesToTrack(a, maxCorners=500, qualityLevel=0.01, minDistance=4, blockSize=5)
    if pts is not None and len(pts) >= 12:
        lk = dict(
            winSize=(21, 21),
            maxLevel=4,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
        )
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, **lk)
        back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, nxt, None, **lk)
        ok = (
            (st.ravel() == 1)
            & (st2.ravel() == 1)
            & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 1.0)
        )
        if ok.sum() >= 12:
            d = np.linalg.norm((nxt - pts).reshape(-1, 2)[ok], axis=1)
            return float(np.median(d)) / w
    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    mag = np.linalg.norm(flow, axis=2)
    gx = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
    textured = np.hypot(gx, gy) > 20.0
    vals = mag[textured] if textured.sum() >= 0.01 * textured.size else mag.ravel()
    return float(np.median(vals)) / w


def median_flow(a: np.ndarray, b: np.ndarray) -> float:
    """Median dense-flow magnitude over all pixels, as a fraction of the width (the old
    near-duplicate measure; kept as the reference the tests compare `motion` with)."""
    import cv2

    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    return float(np.median(np.linalg.norm(flow, axis=2))) / a.shape[1]


def _frames(path: Path) -> tuple[Iterator[np.ndarray], int]:
    """(iterator of BGR frames, frame count or 0). cv2 first, imageio-ffmpeg as fallback."""
    import cv2

    with _quiet_stderr():  # FFmpeg's own lines ("[mjpeg @ 0x..] No JPEG data") on a bad file
        cap = cv2.VideoCapture(str(path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
    if cap.isOpened():
        if ok and first is not None:
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

            def gen() -> Iterator[np.ndarray]:
                yield first
                while True:
                    ok2, f = cap.read()
                    if not ok2 or f is None:
                        break
                    yield f
                cap.release()

            return gen(), count
        cap.release()
    try:
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        w, h = meta["size"]
        nframes = int(meta.get("duration", 0) * meta.get("fps", 0))

        def gen2() -> Iterator[np.ndarray]:
            for buf in reader:
                yield np.frombuffer(buf, np.uint8).reshape(h, w, 3)[..., ::-1]

        return gen2(), nframes
    except Exception as exc:  # noqa: BLE001 - any decoder failure is "unreadable video"
        log.debug("%s: no decoder opened it", path, exc_info=exc)
        raise ValueError(
            f"{path}: not a video this machine can read (damaged, or a format it has no "
            "decoder for)"
        ) from None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to the null device for the block: FFmpeg (inside OpenCV)
    writes its decoder errors there directly, past Python's logging. Said once instead."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def sample_frames(
    video: Path,
    out_dir: Path,
    *,
    max_frames: int = 60,
    min_motion: float = 0.01,
    blur_ratio: float = 0.4,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    stats: dict | None = None,
) -> list[Path]:
    """Write up to `max_frames` sharp, distinct frames of `video` as PNGs into `out_dir`.

    `stats` (if given) receives counts: read, blurred, duplicates, distinct (sharp and
    distinct frames found), kept (at most `max_frames` of them, evenly spread), and
    `source_frames`: each kept frame's index in the video (frame_0000.png first).
    """
    import cv2

    video = Path(video)
    if video.is_dir():
        raise ValueError(f"{video} is a folder, not a video file (photos: --photos FOLDER)")
    if not video.is_file():
        raise ValueError(f"{video}: no such video file")
    if max_frames < 2:
        raise ValueError("max_frames must be >= 2")
    from scene.io import sniff

    kind = sniff(video)
    if kind in ("png", "jpeg"):
        # OpenCV reads a still image as a one-frame video: a (truncated) JPEG given to
        # --video was told to "move the camera while filming" (a trial)
        raise ValueError(
            f"{video} is a {kind.upper()} image, not a video (photos: --photos FOLDER)"
        )
    frames, count = _frames(video)
    windows = 2 * max_frames
    win_len = max(1, count // windows) if count else 1
    # (sharpness, frame, small grey, index in the video)
    cands: list[tuple[float, np.ndarray, np.ndarray, int]] = []
    best: tuple[float, np.ndarray, np.ndarray, int] | None = None
    n = 0
    for i, f in enumerate(frames):
        n += 1
        if cancel is not None and i % 10 == 0:
            cancel.check()
        if count and i % 10 == 0:
            progress(min(0.9 * i / count, 0.9), f"frame {i}/{count}")
        grey = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
        s = 320 / max(grey.shape)
        small = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else grey
        sh = sharpness(small)
        if best is None or sh > best[0]:
            best = (sh, f, small, i)
        if (i + 1) % win_len == 0:
            cands.append(best)
            best = None
    if best is not None:
        cands.append(best)
    if not cands:
        raise ValueError(f"{video}: the video has no frames")
    med = float(np.median([c[0] for c in cands]))
    kept: list[tuple[float, np.ndarray, np.ndarray, int]] = []
    blurred = dups = 0
    for c in cands:
        if c[0] < blur_ratio * med:
            blurred += 1
            continue
        if kept and (c[2].shape != kept[-1][2].shape or motion(kept[-1][2], c[2]) < min_motion):
            dups += 1
            continue
        kept.append(c)
    distinct = len(kept)
    if len(kept) > max_frames:
        pick = np.round(np.linspace(0, len(kept) - 1, max_frames)).astype(int)
        kept = [kept[i] for i in pick]
    if stats is not None:
        stats.update(
            read=n,
            blurred=blurred,
            duplicates=dups,
            distinct=distinct,
            kept=len(kept),
            source_frames=[c[3] for c in kept],
        )
    if len(kept) < 2:
        raise ValueError(
            f"{video}: only {len(kept)} sharp, distinct frame(s) found in {n} frames "
            f"({blurred} blurred, {dups} near-duplicates); move the camera while filming"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, (_, f, _, _) in enumerate(kept):
        p = out_dir / f"frame_{k:04d}.png"
        cv2.imwrite(str(p), f)
        paths.append(p)
    progress(1.0, f"{len(paths)} frames")
    return paths
