"""Horizontal field of view of a photo from its EXIF tags."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_FOV_DEG = 65.0  # a typical phone main camera (~26 mm equivalent is 69°, 28 mm 65°)

_FOCAL_35MM = 0xA405  # FocalLengthIn35mmFilm (mm, diagonal-equivalent)
_FOCAL = 0x920A  # FocalLength (mm)
_FP_XRES = 0xA20E  # FocalPlaneXResolution (pixels per unit)
_FP_UNIT = 0xA210  # FocalPlaneResolutionUnit: 2 inch, 3 cm, 4 mm, 5 µm
_EXIF_W = 0xA002  # PixelXDimension
_EXIF_H = 0xA003  # PixelYDimension
_UNIT_MM = {1: 25.4, 2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}
_DIAG_35MM = math.hypot(36.0, 24.0)


def _num(v: Any) -> float | None:
    """EXIF rationals, tuples and ints -> float (None when missing or zero)."""
    try:
        if isinstance(v, tuple) and len(v) == 2:
            v = v[0] / v[1] if v[1] else 0
        f = float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) and f > 0 else None


def fov_from_exif(
    exif: dict[int, Any], width: int, height: int, sensor_width_px: int | None = None
) -> float | None:
    """Horizontal FOV in degrees of the upright image (width × height), or None.

    Uses FocalLengthIn35mmFilm (defined on the 35 mm diagonal, so it holds for any
    aspect and orientation), else FocalLength with FocalPlaneXResolution (sensor
    pixels per unit; scaled to this image via the EXIF pixel width).
    `sensor_width_px`: the stored (unrotated) width of the file, if known.
    """
    if width <= 0 or height <= 0:
        return None
    f35 = _num(exif.get(_FOCAL_35MM))
    if f35:
        return _sane(_fov_35mm(f35, width, height))
    focal = _num(exif.get(_FOCAL))
    xres = _num(exif.get(_FP_XRES))
    if focal and xres:
        unit = _UNIT_MM.get(int(_num(exif.get(_FP_UNIT)) or 2), 25.4)
        px_per_mm = xres / unit
        stored_w = _num(exif.get(_EXIF_W)) or sensor_width_px
        long_side = max(width, height)
        # the focal length in pixels of the sensor, rescaled to this image's resolution
        f_px = focal * px_per_mm
        if stored_w:
            f_px *= long_side / max(stored_w, _num(exif.get(_EXIF_H)) or 0)
        return _sane(math.degrees(2 * math.atan(width / (2 * f_px))))
    return None


def _fov_35mm(f35: float, width: int, height: int) -> float:
    """Horizontal FOV (deg) across `width` of a width × height image whose 35 mm-equivalent
    focal length is `f35` mm (defined on the 35 mm frame's diagonal)."""
    half_diag = math.atan(_DIAG_35MM / (2 * f35))
    return math.degrees(2 * math.atan(math.tan(half_diag) * width / math.hypot(width, height)))


def _sane(fov: float) -> float | None:
    return fov if 5.0 <= fov <= 175.0 else None


def photo_fov(
    exif: dict[int, Any], width: int, height: int, override: float | None = None
) -> tuple[float, str]:
    """(horizontal FOV degrees, where it came from: 'option' | 'exif' | 'default')."""
    if override is not None:
        if not 1.0 <= float(override) <= 179.0:
            raise ValueError(f"--fov must be between 1 and 179 degrees, got {override}")
        return float(override), "option"
    f = fov_from_exif(exif, width, height)
    if f is not None:
        return f, "exif"
    return DEFAULT_FOV_DEG, "default"


def fov_exif_note(exif: dict[int, Any], width: int, height: int) -> str | None:
    """Why a photo's EXIF focal length gave no field of view, when it has one (a sentence
    for a warning), else None. A photo without any focal tag needs no note: the default is
    the usual guess. But a focal length that comes without the sensor size (FocalLength,
    no 35 mm equivalent, no focal-plane resolution), or an equivalent whose angle is not
    believable, went to the default in silence (a trial)."""
    reason = fov_default_reason(exif, width, height)  # NO_FOCAL also when the EXIF served
    if reason == NO_FOCAL:
        return None
    return f"its {reason}: {DEFAULT_FOV_DEG:g}° assumed; give the real one with --fov"


NO_FOCAL = "no EXIF focal length"


def fov_default_reason(exif: dict[int, Any], width: int, height: int) -> str:
    """Why a photo placed at the default field of view got it, in a few words for the
    world's estimates and `info` ("no EXIF focal length", or what its EXIF lacked: a
    trial read "no EXIF focal length" there beside a warning about its 4.3 mm)."""
    if width > 0 and height > 0 and fov_from_exif(exif, width, height) is None:
        f35 = _num(exif.get(_FOCAL_35MM))
        if f35:
            fov = _fov_35mm(f35, width, height)
            return (
                f"EXIF 35 mm-equivalent focal length ({f35:g} mm) gives {fov:.1f}° across, "
                "not believable"
            )
        focal = _num(exif.get(_FOCAL))
        if focal:
            return f"EXIF focal length ({focal:g} mm) comes without the sensor size"
    return NO_FOCAL


def file_fov(path: str | Path) -> float | None:
    """Horizontal FOV in degrees of a photo file as seen upright (EXIF orientation applied),
    from its EXIF focal length (`fov_from_exif`); None when the EXIF gives none or the file
    cannot be read. Reads the header only (no pixels decoded)."""
    from PIL import Image, UnidentifiedImageError

    from scene.io.images import exif_orientation, read_exif

    try:
        with Image.open(path) as img:
            exif = read_exif(img)
            w, h = img.size
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        log.info("no EXIF field of view for %s: %s", path, exc)
        return None
    if exif_orientation(exif) in (5, 6, 7, 8):  # stored turned by 90°
        w, h = h, w
    return fov_from_exif(exif, w, h)
