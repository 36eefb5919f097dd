"""Photo intake: read every file once (EXIF orientation applied), skip what cannot be used
with a reason, downscale to the working size and write normalised PNGs for SfM, so the
SfM and dense stages see exactly the same pixels."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pgm", ".ppm"}
MIN_SIDE = 48


@dataclass
class Photo:
    """One usable photo: its original name and size, and the working copy."""

    name: str  # original file name (what reports and COLMAP models use)
    work_name: str  # PNG name inside the working image folder
    orig_size: tuple[int, int]  # (w, h) of the file
    size: tuple[int, int]  # (w, h) of the working copy
    orientation: int = 1  # EXIF orientation applied when reading (1 = pixels as stored)
    source: Path | None = None  # the file it was read from
    #: focal length in working-copy pixels from the file's EXIF (None: none recorded)
    focal_px: float | None = None


#: what each EXIF orientation value does to the stored pixels to show them upright
ORIENTATION_WORDS = {
    2: "mirrored",
    3: "turned 180°",
    4: "flipped upside down",
    5: "transposed",
    6: "turned 90° clockwise",
    7: "transversed",
    8: "turned 90° anticlockwise",
}


def file_exif(path: Path) -> tuple[dict[int, Any], int]:
    """The EXIF tags of an image file (`scene.io.images.read_exif`) and its stored width
    in pixels; ({}, 0) when the file cannot be read."""
    try:
        from PIL import Image

        from scene.io.images import read_exif

        with Image.open(path) as im:
            return read_exif(im), int(im.width)
    except (OSError, ValueError) as exc:
        log.debug("%s: no EXIF (%s)", path, exc)
        return {}, 0


def exif_focal_px(
    exif: dict[int, Any], stored_width: int, width: int, height: int, work_width: int
) -> float | None:
    """Focal length (px) of a photo's working copy `work_width` wide, from its EXIF tags
    (`file_exif`; upright size `width` x `height`, `stored_width` the file's own):
    FocalLengthIn35mmFilm, else FocalLength with the focal plane resolution
    (`panorama.fov.fov_from_exif`). None when the file records neither (a PNG, a
    screenshot, a rendered frame) or they are not sane."""
    from generators.panorama.fov import fov_from_exif

    fov = fov_from_exif(exif, width, height, sensor_width_px=stored_width or None)
    if fov is None:
        return None
    return 0.5 * work_width / math.tan(math.radians(fov) / 2)


def list_photos(folder: Path, recursive: bool = False) -> list[Path]:
    """Image-like files in `folder` (sorted by path); with `recursive`, in its subfolders
    too (camera rigs: `left/`, `right/`). Raises ValueError for a missing folder."""
    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of photos")
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def photo_name(path: Path, root: Path | None = None) -> str:
    """A photo's name as COLMAP models name it: the path relative to `root` with "/"
    separators ("left/view_000.png"), or the file name without a root."""
    if root is None:
        return Path(path).name
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def read_rgb(path: Path, upright: bool = True) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB, or None when the file is not a readable image.

    upright=True turns the pixels by the EXIF orientation; False keeps them as stored
    (what a COLMAP model describes: COLMAP ignores EXIF orientation).

    Reads through the one image front door (`scene.io.images`); an image over its size
    limits raises ImageTooLargeError (naming the file) instead of being decoded.
    """
    from scene.errors import SceneFormatError
    from scene.io.images import ImageTooLargeError, load_image_u8

    try:
        rgb, _alpha = load_image_u8(path, max_side=None, upright=upright)
    except ImageTooLargeError:
        raise
    except SceneFormatError:
        return None
    return rgb


def ingest_photos(
    paths: Sequence[Path],
    out_dir: Path,
    max_size: int = 1600,
    report: Callable[[float, str], None] | None = None,
    *,
    upright: bool = True,
    root: Path | None = None,
) -> tuple[list[Photo], dict[str, str]]:
    """Validate and normalise photos into `out_dir`.

    upright: apply EXIF orientation (True, the default for reconstruction from scratch);
    False keeps the stored pixels, as a COLMAP model describes them (`--colmap`).
    root: name each photo by its path relative to `root` ("left/view_000.png", as
    COLMAP names images in subfolders, e.g. camera rigs); default: the file name.
    Returns the usable photos and a status per skipped file (unreadable, too small,
    exact duplicate). Raises ValueError when fewer than two photos are usable.
    """
    import cv2

    from scene.io.images import ImageTooLargeError, exif_orientation

    out_dir.mkdir(parents=True, exist_ok=True)
    photos: list[Photo] = []
    status: dict[str, str] = {}
    seen: dict[str, str] = {}
    used_names: set[str] = set()
    for i, p in enumerate(paths):
        name = photo_name(p, root)
        if report:
            report(i / max(len(paths), 1), f"reading {name}")
        try:
            img = read_rgb(p, upright=upright)
        except ImageTooLargeError as exc:
            # one oversized file in a folder is skipped like any other unusable one
            status[name] = f"skipped: {exc.problem}"
            continue
        if img is None:
            status[name] = "skipped: not a readable image (corrupt or unsupported file)"
            continue
        h, w = img.shape[:2]
        if min(h, w) < MIN_SIDE:
            what = "narrow" if max(h, w) >= MIN_SIDE else "small"
            status[name] = f"skipped: too {what} ({w}x{h}, need at least {MIN_SIDE} px a side)"
            continue
        digest = hashlib.sha1(img.tobytes()).hexdigest()
        if digest in seen:
            status[name] = f"skipped: duplicate of {seen[digest]}"
            continue
        seen[digest] = name
        s = min(1.0, max_size / max(h, w))
        if s < 1.0:
            img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        stem = Path(name).with_suffix("").as_posix().replace("/", "__")
        work = stem + ".png"
        k = 2
        while work in used_names:
            work = f"{stem}_{k}.png"
            k += 1
        used_names.add(work)
        cv2.imwrite(str(out_dir / work), img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
        exif, stored_w = file_exif(p) if upright else ({}, 0)
        photos.append(
            Photo(
                name,
                work,
                (w, h),
                (img.shape[1], img.shape[0]),
                exif_orientation(exif) if upright else 1,
                Path(p),
                exif_focal_px(exif, stored_w, w, h, img.shape[1]) if upright else None,
            )
        )
    if len(photos) < 2:
        detail = "; ".join(f"{k}: {v}" for k, v in status.items())
        raise ValueError(
            f"need at least 2 usable photos, got {len(photos)}" + (f" ({detail})" if detail else "")
        )
    return photos, status
