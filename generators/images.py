"""Photo loading for the generators: the one front door lives in `scene.io.images` (so
`scene` can read panoramas too); this module re-exports it under its old name."""

from __future__ import annotations

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
