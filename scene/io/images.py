"""The one front door for photos: every command and dialog reads images through here.

`load_image` turns whatever a user drops in (JPEG/PNG/TIFF/WebP..., EXIF-rotated,
8/16-bit, grayscale, palette, with alpha, or huge) into float32 RGB in 0..1, and turns
every failure into one `SceneFormatError` naming the file. Huge JPEGs are decoded at a
reduced scale by libjpeg itself (`Image.draft`), so a 100-megapixel photo loads in well
under a second. `load_image_u8` gives the same pixels as uint8 (segmentation, SfM),
`image_size` reads only the header. The size limits are checked from the header,
before any pixel is decoded: `MAX_PIXELS` pixels and `MAX_DECODED_BYTES` of decoded data.
"""

from __future__ import annotations

import logging
import math
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scene.errors import SceneFormatError

log = logging.getLogger(__name__)

DEFAULT_MAX_SIDE = 4096
#: refuse images with more pixels than this (decompression bombs), checked from the header
MAX_PIXELS = 250_000_000
#: refuse images whose decoded pixels would take more bytes than this (16-bit bombs)
MAX_DECODED_BYTES = 1_600_000_000
_MAX_PIXELS = MAX_PIXELS  # old name
_EXIF_IFD = 0x8769
_ORIENTATION = 0x0112


class ImageTooLargeError(SceneFormatError):
    """An image whose header declares more pixels or decoded bytes than Wander accepts."""


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


def load_image(
    path: str | Path, max_side: int | None = DEFAULT_MAX_SIDE, min_side: int = 2
) -> LoadedImage:
    """Read an image file as upright float32 RGB (+ alpha), downscaled to `max_side`.

    Raises SceneFormatError (names the file) for missing, empty, corrupt, truncated,
    unsupported files, PNG text-chunk bombs and images under `min_side` pixels on a side
    (from the header: what the caller can use, so a 1x1 and a 3x2 image get the same
    limit); ImageTooLargeError (a SceneFormatError) when the header declares more than
    MAX_PIXELS pixels or MAX_DECODED_BYTES bytes.
    """
    return _with_image(path, lambda img, p: _decode(img, p, max_side, False, min_side=min_side))


def load_image_u8(
    path: str | Path, max_side: int | None = None, upright: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Like `load_image` but 8-bit: (rgb (H, W, 3) uint8, alpha (H, W) float32 0..1 or
    None). `max_side` None keeps the full resolution. upright=True applies the EXIF
    orientation (what viewers show); False keeps the pixels as stored in the file (what
    COLMAP and every SfM tool describe). Same errors and limits."""
    im = _with_image(path, lambda img, p: _decode(img, p, max_side, True, upright))
    return im.rgb, im.alpha


def image_size(path: str | Path, min_side: int = 2) -> tuple[int, int]:
    """(width, height) as stored, from the header only (no pixels decoded). Same errors
    and limits as `load_image` (`min_side` as there)."""

    def size(img: Any, p: Path) -> tuple[int, int]:
        check_size(img, p, None, min_side)
        return tuple(img.size)  # type: ignore[return-value]

    return _with_image(path, size)


#: the side a photo is decoded at to check it (`checked_image_size`): a JPEG at an eighth
CHECK_SIDE = 512


def checked_image_size(path: str | Path, min_side: int = 2) -> tuple[int, int]:
    """`image_size`, after checking the pixels are all there: a cut-off or corrupt file
    raises here, where a photo is offered a world, not in the job that then fails on it
    (a trial: `python main.py trunc.jpg` showed the New World dialog, and suggested
    `world --photo` for it). A PNG is verified by Pillow without decoding
    (`Image.verify`: its chunks' lengths and CRCs, ~35 ms for 20 MP, which a decode took
    0.6 s for, a 12000x6000 one 2.5 s); other formats are decoded small (CHECK_SIDE; a
    JPEG at an eighth of its size, ~50 ms for 20 MP; Pillow's verify passes cut-off JPEG
    and TIFF files). Same errors and limits as `load_image`."""

    def size_verified(img: Any, p: Path) -> tuple[tuple[int, int], bool]:
        check_size(img, p, None, min_side)
        size = tuple(img.size)
        if img.format != "PNG":
            return size, False
        try:
            img.verify()
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
            raise SceneFormatError(
                p, f"image data is corrupt or truncated: {_pil_problem(exc)}"
            ) from None
        return size, True

    (w, h), verified = _with_image(path, size_verified)
    if not verified:
        load_image(path, max_side=CHECK_SIDE, min_side=min_side)
    return w, h


#: suffixes of videos (a video is reconstructed, or its frames taken as photos)
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


def _not_an_image(path: Path) -> str:
    """Why `path`, which PIL cannot open, is no image: what it is when its name or first
    bytes say (a video, a Wander project, a splat or mesh file: `world --photo office.wander`
    was called a corrupt file, a trial), else a corrupt or unsupported image."""
    import shlex

    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return (
            "is a video, not an image (a video becomes a scene with "
            f"`python main.py reconstruct --video {shlex.quote(path.name)} --out scene.ply`)"
        )
    if suffix == ".wander":
        name = shlex.quote(path.name)
        return f"is a Wander project, not an image (open it: python main.py {name})"
    from . import FORMATS, sniff

    try:
        kind = sniff(path)
    except (OSError, SceneFormatError):
        kind = "unknown"
    if kind in FORMATS:  # (sniff names the splat and mesh formats as the registry does)
        return f"is a 3D scene file ({kind}), not an image"
    return "not a readable image (corrupt file or unsupported format; use JPEG, PNG, TIFF or WebP)"


def _with_image(path: str | Path, use: Any) -> Any:
    """Open `path` with PIL (its own bomb limit off: ours has a clearer message) and
    return `use(img, path)`; every failure becomes a SceneFormatError naming the file."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise SceneFormatError(p, "no such file")
    if p.is_dir():
        raise SceneFormatError(p, "is a folder, not an image file")
    if not p.is_file():
        raise SceneFormatError(p, "is not a regular file (a pipe or a device)")
    if p.stat().st_size == 0:
        raise SceneFormatError(p, "file is empty")
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # we apply our own limit, with a clear message
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                img = Image.open(p)
            except UnidentifiedImageError:
                raise SceneFormatError(p, _not_an_image(p)) from None
            except MemoryError:
                raise ImageTooLargeError(p, "image metadata is too large to read") from None
            except (
                OSError,
                ValueError,
                SyntaxError,
                EOFError,
                TypeError,
                IndexError,
                KeyError,
                struct.error,
                zlib.error,
            ) as exc:
                raise SceneFormatError(p, f"cannot open image: {_pil_problem(exc)}") from None
            with img:
                return use(img, p)
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit


def _pil_problem(exc: BaseException) -> str:
    """A short reason for a PIL failure (a text-chunk bomb says so)."""
    text = str(exc) or type(exc).__name__
    if (
        "decompressed data too large" in text.lower()
        or "too much memory used in text" in text.lower()
    ):
        return "its text metadata (PNG text chunks) is too large: a decompression bomb?"
    return text


#: bytes per pixel of each PIL mode, as decoded
_MODE_BYTES = {
    "1": 1,
    "L": 1,
    "P": 1,
    "LA": 2,
    "PA": 2,
    "La": 2,
    "RGB": 3,
    "YCbCr": 3,
    "LAB": 3,
    "HSV": 3,
    "RGBA": 4,
    "RGBa": 4,
    "RGBX": 4,
    "CMYK": 4,
    "I": 4,
    "F": 4,
    "I;16": 2,
    "I;16L": 2,
    "I;16B": 2,
    "I;16N": 2,
}


def check_size(img: Any, p: Path, max_side: int | None, min_side: int = 2) -> None:
    """Refuse an opened (not yet decoded) PIL image that is too small (under `min_side`
    pixels on a side) or too large, from its header: MAX_PIXELS pixels, MAX_DECODED_BYTES
    decoded bytes (a JPEG decoded at a reduced scale counts at that scale)."""
    w0, h0 = img.size
    if w0 < min_side or h0 < min_side:
        what = "narrow" if max(w0, h0) >= min_side else "small"
        raise SceneFormatError(
            p, f"image is too {what} ({w0}x{h0} pixels; need at least {min_side} on each side)"
        )
    mp = w0 * h0 / 1e6
    if w0 * h0 > MAX_PIXELS:
        raise ImageTooLargeError(
            p,
            f"image is too large ({w0}x{h0} = {mp:.0f} megapixels; "
            f"the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    bpp = _MODE_BYTES.get(img.mode, 8)
    if img.mode in ("RGB", "RGBA") and _png_bit_depth(img) == 16:
        bpp *= 2  # Pillow decodes 16-bit RGB(A) PNGs at 8 bits, but reads all the data
    scale = 1
    if max_side and img.format == "JPEG":
        scale = min(8, 2 ** int(math.log2(max(1.0, max(w0, h0) / max_side))))
    need = w0 * h0 * bpp / (scale * scale)
    if need > MAX_DECODED_BYTES:
        raise ImageTooLargeError(
            p,
            f"image is too large to decode ({w0}x{h0} {img.mode}"
            f"{' 16-bit' if _png_bit_depth(img) == 16 else ''} = "
            f"{need / 1e9:.1f} GB of pixels; the limit is "
            f"{MAX_DECODED_BYTES / 1e9:.1f} GB)",
        )


def _png_bit_depth(img: Any) -> int:
    """Bit depth from a PNG's IHDR (0 when not a PNG or unknown)."""
    if img.format != "PNG":
        return 0
    try:
        fp = img.fp
        pos = fp.tell()
        fp.seek(24)
        depth = fp.read(1)
        fp.seek(pos)
        return depth[0] if depth else 0
    except (OSError, AttributeError, ValueError):
        return 0


def _decode(
    img: Any,
    p: Path,
    max_side: int | None,
    as_u8: bool,
    upright: bool = True,
    min_side: int = 2,
) -> LoadedImage:
    from PIL import Image

    check_size(img, p, max_side, min_side)
    w0, h0 = img.size
    exif = read_exif(img)
    orientation = exif_orientation(exif) if upright else 1
    try:
        if max_side and max(w0, h0) > max_side and img.format == "JPEG":
            # libjpeg decodes directly at 1/2, 1/4 or 1/8 scale: fast for huge photos.
            f = max(w0, h0) / max_side
            img.draft("RGB", (math.ceil(w0 / f), math.ceil(h0 / f)))
        img.load()
    except MemoryError:
        raise ImageTooLargeError(p, "not enough memory to decode this image") from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - limit disabled above
        raise ImageTooLargeError(p, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file, named
        raise SceneFormatError(
            p, f"image data is corrupt or truncated: {_pil_problem(exc)}"
        ) from None

    if max_side and max(img.size) >= 2 * max_side:
        # cheap box reduction in Pillow before any conversion (huge PNG/TIFF/WebP)
        try:
            img = img.reduce(max(img.size) // max_side)
        except (ValueError, NotImplementedError) as exc:
            log.debug("%s: Pillow cannot reduce mode %s (%s); resizing later", p, img.mode, exc)
    arr, peak = _to_array(img, p)
    arr = _apply_orientation(arr, orientation)
    upright_w = h0 if orientation in (5, 6, 7, 8) else w0
    if max_side and max(arr.shape[:2]) > max_side:
        arr = _downscale(arr, max_side)
    if arr.ndim == 2:
        arr = arr[..., None]
    if as_u8:
        if arr.dtype != np.uint8:
            arr = np.clip(
                np.nan_to_num(arr.astype(np.float32) * np.float32(255.0 / peak)) + 0.5, 0, 255
            ).astype(np.uint8)
        alpha = None
        if arr.shape[2] in (2, 4):
            alpha = arr[..., -1].astype(np.float32) / np.float32(255.0)
            arr = arr[..., :-1]
            if float(alpha.min()) >= 1.0:
                alpha = None
        rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr
        return LoadedImage(
            rgb=np.ascontiguousarray(rgb),
            alpha=alpha,
            path=p,
            exif=exif,
            original_size=(w0, h0),
            scale=rgb.shape[1] / upright_w,
        )
    arr = arr.astype(np.float32) / np.float32(peak)
    if arr.shape[2] in (2, 4):  # gray+alpha / RGBA
        alpha = np.ascontiguousarray(arr[..., -1])
        arr = arr[..., :-1]
        if float(alpha.min()) >= 1.0:
            alpha = None
    else:
        alpha = None
    rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr
    rgb = np.ascontiguousarray(np.clip(np.nan_to_num(rgb), 0.0, 1.0), dtype=np.float32)
    return LoadedImage(
        rgb=rgb,
        alpha=alpha,
        path=p,
        exif=exif,
        original_size=(w0, h0),
        scale=rgb.shape[1] / upright_w,
    )


def exif_orientation(exif: dict[int, Any]) -> int:
    """The EXIF orientation 1..8 from a tag dict; a value stored as text ("6"), bytes, a
    tuple or garbage never raises: unreadable or out-of-range values mean 1 (as stored)."""
    v = exif.get(_ORIENTATION, 1)
    if isinstance(v, (tuple, list)) and v:
        v = v[0]
    if isinstance(v, bytes):
        v = v.decode("ascii", "ignore")
    try:
        o = int(str(v).strip().rstrip("\x00")) if not isinstance(v, (int, float)) else int(v)
    except (ValueError, TypeError, OverflowError):
        log.info("ignoring an unreadable EXIF orientation %r", v)
        return 1
    return o if 1 <= o <= 8 else 1


def read_exif(img: Any) -> dict[int, Any]:
    """Main-IFD and Exif-IFD tags of a PIL image as one flat dict (empty if none)."""
    out: dict[int, Any] = {}
    try:
        ex = img.getexif()
        out.update(ex)
        out.update(ex.get_ifd(_EXIF_IFD))
    except Exception as exc:  # noqa: BLE001 - broken EXIF must never stop a photo from loading
        log.info("ignoring unreadable EXIF: %s", exc)
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
            orientation = exif_orientation(read_exif(img))
    except Exception as exc:  # noqa: BLE001 - no readable tag: keep the pixels as decoded
        log.info("%s: no EXIF orientation (%s)", path, exc)
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

    from scene.files import atomic_write

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
