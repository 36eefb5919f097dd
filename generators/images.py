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
