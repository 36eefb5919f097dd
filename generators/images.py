"""Photo loading for the generators: the one front door lives in `scene.io.images` (so
`scene` can read panoramas too); this module re-exports it under its old name, beside
`shrink`, the area-filtered downscale the generators work at."""

from __future__ import annotations

import numpy as np

from scene.io.images import (  # noqa: F401
    DEFAULT_MAX_SIDE,
    IMAGE_SUFFIXES,
    MAX_DECODED_BYTES,
    MAX_PIXELS,
    ImageTooLargeError,
    LoadedImage,
    check_image_path,
    exif_orientation,
    image_size,
    load_image,
    load_image_u8,
    read_exif,
    save_image,
    upright_by_exif,
)


def shrink(img: np.ndarray, scale: float) -> np.ndarray:
    """`img` (h, w[, c]) scaled by `scale` with an area filter (OpenCV INTER_AREA), each
    side at least 8 px; `img` itself when `scale` >= 1 (never enlarged)."""
    if scale >= 1:
        return img
    import cv2

    h, w = img.shape[:2]
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


#: a photo smaller than this on its long side makes a blurry world (px)
SMALL_PHOTO_SIDE = 320
#: ... or object (lifted at a few hundred pixels: a 256-px cut-out is fine)
SMALL_OBJECT_SIDE = 128
#: a photo whose brightest pixels (99th percentile of luminance, 0..1) stay below this is
#: too dark to show anything
DARK_P99 = 0.1


def photo_warnings(
    name: str,
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    size: tuple[int, int] | None = None,
    small_side: int = SMALL_PHOTO_SIDE,
) -> list[str]:
    """Warnings for a photo that is usable but will disappoint (a trial: a 64x48 photo and
    an almost black one made a blurred mosaic and a black world, without a word): smaller
    than `small_side` px on its long side, or darker than DARK_P99. `rgb` (h, w, 3) uint8
    or float 0..1, `alpha` (h, w) 0..1 the pixels that count (opacity, an object's mask)
    or None, `size` (w, h) the photo's own size when `rgb` was downscaled."""
    rgb = np.asarray(rgb)
    w, h = size if size is not None else (rgb.shape[1], rgb.shape[0])
    out = []
    if max(h, w) < small_side:
        out.append(
            f"{name} is only {w}x{h} pixels: the result will be blurry (a larger photo "
            "makes a sharper one)"
        )
    px = rgb.reshape(-1, 3) if alpha is None else rgb[alpha >= 0.5]
    if len(px):
        if len(px) > 200_000:
            px = px[:: len(px) // 200_000]
        lum = px.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        if rgb.dtype == np.uint8:
            lum /= 255.0
        p99 = float(np.percentile(lum, 99))
        if p99 < DARK_P99:
            out.append(
                f"{name} is very dark (its brightest pixels reach {p99 * 100:.0f} % of white): "
                "the result will be too; brighten the photo first"
            )
    return out
