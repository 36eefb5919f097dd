"""Robust photo loading shared by every generator.

`load_image` turns whatever a user drops in (JPEG/PNG/TIFF/WebP..., EXIF-rotated,
8/16-bit, grayscale, palette, with alpha, or huge) into float32 RGB in 0..1, and turns
every failure into one `SceneFormatError` naming the file. Huge JPEGs are decoded at a
reduced scale by libjpeg itself (`Image.draft`), so a 100-megapixel photo loads in well
under a second.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scene.errors import SceneFormatError

DEFAULT_MAX_SIDE = 4096
_MAX_PIXELS = 400_000_000  # refuse outright above this (decompression bombs)
_EXIF_IFD = 0x8769
_ORIENTATION = 0x0112


@dataclass
class LoadedImage:
    """A decoded photo.

    rgb    (H, W, 3) float32 in 0..1, upright (EXIF orientation applied)
    alpha  (H, W) float32 in 0..1, or None when the file has no transparency
    exif   flat dict of EXIF tags (tag id -> value), main IFD + Exif IFD
    original_size  (width, height) as stored in the file, before rotation/downscaling
    scale  output width / upright original width (1.0 when not downscaled)
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    path: Path | None
    exif: dict[int, Any] = field(default_factory=dict)
    original_size: tuple[int, int] = (0, 0)
    scale: float = 1.0

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def load_image(path: str | Path, max_side: int | None = DEFAULT_MAX_SIDE) -> LoadedImage:
    """Read an image file as upright float32 RGB (+ alpha), downscaled to `max_side`.

    Raises SceneFormatError (names the file) for missing, empty, corrupt, truncated,
    unsupported or absurdly large files.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise SceneFormatError(p, "file does not exist")
    if p.is_dir():
        raise SceneFormatError(p, "is a folder, not an image file")
    if p.stat().st_size == 0:
        raise SceneFormatError(p, "file is empty")
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # we apply our own limit below, with a clear message
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                img = Image.open(p)
            except UnidentifiedImageError:
                raise SceneFormatError(p, "not a readable image (corrupt file or unsupported "
                                          "format; use JPEG, PNG, TIFF or WebP)") from None
            except OSError as exc:
                raise SceneFormatError(p, f"cannot open image: {exc}") from None
            with img:
                return _decode(img, p, max_side)
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _decode(img: Any, p: Path, max_side: int | None) -> LoadedImage:
    from PIL import Image

    w0, h0 = img.size
    if w0 < 2 or h0 < 2:
        raise SceneFormatError(p, f"image is too small ({w0}x{h0} pixels)")
    if w0 * h0 > _MAX_PIXELS:
        raise SceneFormatError(p, f"image is too large ({w0}x{h0} = {w0 * h0 / 1e6:.0f} "
                                  f"megapixels; the limit is {_MAX_PIXELS / 1e6:.0f})")
    exif = read_exif(img)
    orientation = int(exif.get(_ORIENTATION, 1) or 1)
    try:
        if max_side and max(w0, h0) > max_side and img.format == "JPEG":
            # libjpeg decodes directly at 1/2, 1/4 or 1/8 scale: fast for huge photos.
            f = max(w0, h0) / max_side
            img.draft("RGB", (math.ceil(w0 / f), math.ceil(h0 / f)))
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise SceneFormatError(p, f"image data is corrupt or truncated: {exc}") from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - limit disabled above
        raise SceneFormatError(p, str(exc)) from None

    if max_side and max(img.size) >= 2 * max_side:
        # cheap box reduction in Pillow before any conversion (huge PNG/TIFF/WebP)
        try:
            img = img.reduce(max(img.size) // max_side)
        except (ValueError, NotImplementedError):
            pass
    arr, peak = _to_array(img, p)
    arr = _apply_orientation(arr, orientation)
    upright_w = h0 if orientation in (5, 6, 7, 8) else w0
    if max_side and max(arr.shape[:2]) > max_side:
        arr = _downscale(arr, max_side)
    arr = arr.astype(np.float32) / np.float32(peak)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape[2] in (2, 4):  # gray+alpha / RGBA
        alpha = np.ascontiguousarray(arr[..., -1])
        arr = arr[..., :-1]
        if float(alpha.min()) >= 1.0:
            alpha = None
    else:
        alpha = None
    rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr
    rgb = np.ascontiguousarray(np.clip(np.nan_to_num(rgb), 0.0, 1.0), dtype=np.float32)
    return LoadedImage(rgb=rgb, alpha=alpha, path=p, exif=exif, original_size=(w0, h0),
                       scale=rgb.shape[1] / upright_w)


def read_exif(img: Any) -> dict[int, Any]:
    """Main-IFD and Exif-IFD tags of a PIL image as one flat dict (empty if none)."""
    out: dict[int, Any] = {}
    try:
        ex = img.getexif()
        out.update(ex)
        out.update(ex.get_ifd(_EXIF_IFD))
    except Exception:  # noqa: BLE001 - broken EXIF must never stop a photo from loading
        pass
    return out


def _to_array(img: Any, p: Path) -> tuple[np.ndarray, float]:
    """Any PIL mode -> (native array (H, W) or (H, W, C) with C in 2/3/4, value of white)."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(img).astype(np.uint16), 65535.0
    if mode in ("I", "F"):
        a = np.asarray(img).astype(np.float32)
        if mode == "F":
            finite = a[np.isfinite(a)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a), 1.0
        return a, (65535.0 if a.max() > 255 else 255.0)
    try:
        if mode in ("L", "RGB", "RGBA", "LA"):
            return np.asarray(img), 255.0
        if mode in ("PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
            return np.asarray(img.convert("RGBA")), 255.0
        return np.asarray(img.convert("RGB")), 255.0
    except (OSError, ValueError) as exc:
        raise SceneFormatError(p, f"cannot convert image mode {mode!r} to RGB: {exc}") from None


def upright_by_exif(a: np.ndarray, path: str | Path) -> np.ndarray:
    """Turn (H, W[, C]) pixels decoded without EXIF handling (e.g. OpenCV's
    IMREAD_UNCHANGED) upright by the file's orientation tag, as `load_image` does."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            orientation = int(read_exif(img).get(_ORIENTATION, 1) or 1)
    except (OSError, ValueError, SyntaxError):
        return a
    return _apply_orientation(a, orientation)


def _apply_orientation(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply the EXIF orientation tag (1..8) so the image (H, W[, C]) is upright."""
    if orientation == 2:
        a = a[:, ::-1]
    elif orientation == 3:
        a = a[::-1, ::-1]
    elif orientation == 4:
        a = a[::-1]
    elif orientation == 5:
        a = np.swapaxes(a, 0, 1)
    elif orientation == 6:  # rotate 90° clockwise
        a = np.swapaxes(a, 0, 1)[:, ::-1]
    elif orientation == 7:
        a = np.swapaxes(a, 0, 1)[::-1, ::-1]
    elif orientation == 8:  # rotate 90° counter-clockwise
        a = np.swapaxes(a, 0, 1)[::-1]
    return np.ascontiguousarray(a)


def _downscale(a: np.ndarray, max_side: int) -> np.ndarray:
    """Area-resample (H, W[, C]) so the longer side is `max_side` (native dtype kept)."""
    import cv2

    h, w = a.shape[:2]
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if a.dtype not in (np.uint8, np.uint16, np.float32):
        a = a.astype(np.float32)
    out = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    return out if out.ndim == a.ndim else out[..., None]


#: image formats `save_image` writes
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def check_image_path(path: str | Path) -> None:
    """Raise before any work unless `path` names an image format `save_image` writes."""
    if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{path}: an image must end in {', '.join(IMAGE_SUFFIXES)}")


def save_image(path: str | Path, rgb: np.ndarray) -> None:
    """Write float 0..1 or uint8 RGB (H, W, 3) atomically; format from the suffix."""
    import cv2

    from scene.io._common import atomic_write

    p = Path(path)
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
    ext = p.suffix.lower() or ".png"
    try:
        ok, buf = cv2.imencode(ext, cv2.cvtColor(arr, cv2.COLOR_RGB2BGR))
    except cv2.error:  # OpenCV raises (not returns False) for an extension it has no encoder for
        ok = False
    if not ok:
        raise SceneFormatError(p, f"cannot write an image as {ext!r}; use .png or .jpg")
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(p) as f:
        f.write(buf.tobytes())
