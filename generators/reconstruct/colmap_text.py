"""Write cameras as a COLMAP model (cameras, images, points3D) through Wander's one
COLMAP writer, `scene.io.colmap.write_colmap`.

Cameras describe the photos as stored: SIMPLE_RADIAL (f, cx, cy, k1) for a camera whose
`meta["k1"]` holds the distortion SfM estimated (the dense stage removes it from its own
copies only), PINHOLE when k1 = 0, or the `--colmap` lens kept in meta; one camera per image, image
names as the user's photo files, 2D observations from projecting the sparse points, so
pycolmap and every 3DGS tool read the model. Text files, unless a photo name holds a
space: COLMAP's text format cannot carry that, so the model is written as `.bin`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scene.camera import Camera


def write_colmap_text(
    folder: Path,
    cams: list[Camera],
    points: np.ndarray,
    colors: np.ndarray,
    visible: list[np.ndarray] | None = None,
) -> list[Path]:
    """Write the model into `folder` (created). points (M, 3) float, colors (M, 3) uint8,
    `visible[i]`: point indices seen by cams[i] (points seen by none are dropped).
    Returns the files written; see `scene.io.colmap.write_colmap` for the format choice."""
    from scene.io.colmap import write_colmap

    return write_colmap(folder, cams, points, np.asarray(colors, np.uint8).reshape(-1, 3), visible)
