"""antimatter15 `.splat`: 32 bytes per splat, no header, no SH.

Layout per splat (little endian): f32 x y z, f32 linear scale x y z, u8 r g b a
(rgb = 0.5 + C0·dc, a = sigmoid(opacity)), u8 quaternion w x y z as q·128 + 128.
Our writer sorts splats by importance (opacity × volume, largest first), like
antimatter15's converter and most peers, so progressive loaders show big splats first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud, rgb_to_sh0, sh0_to_rgb, sigmoid
from ._common import atomic_write, finish_cloud, looks_like_text, normalized_quats, read_all, \
    safe_logit

SPLAT_DTYPE = np.dtype([("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)])
assert SPLAT_DTYPE.itemsize == 32


def read_splat(path: str | Path) -> GaussianCloud:
    """Read an antimatter15 `.splat` file."""
    path = Path(path)
    data = read_all(path)
    if len(data) % 32:
        raise SceneFormatError(path, f"size {len(data)} bytes is not a multiple of 32, so this is "
                                     "not a .splat file (or it is truncated)")
    if looks_like_text(data[:4096]):
        raise SceneFormatError(path, "looks like a text file, not a binary .splat")
    rec = np.frombuffer(data, dtype=SPLAT_DTYPE)
    scale = rec["scale"].astype(np.float64)  # (N, 3) linear std-devs; the sign does not matter
    with np.errstate(divide="ignore", invalid="ignore"):
        log_scale = np.log(np.maximum(np.abs(scale), 1e-30)).astype(np.float32)
    log_scale[np.isnan(scale)] = np.nan
    rgba = rec["rgba"].astype(np.float32) / 255.0  # (N, 4)
    q = (rec["rot"].astype(np.float32) - 128.0) / 128.0  # (N, 4) w x y z
    cloud = GaussianCloud(
        means=rec["pos"],
        scales=log_scale,
        quats=normalized_quats(q),
        opacities=safe_logit(rgba[:, 3]),
        sh0=rgb_to_sh0(rgba[:, :3]),
    )
    return finish_cloud(cloud, path, "splat")


def write_splat(cloud: GaussianCloud, path: str | Path, *, sort: bool = True, **options: Any) -> None:
    """Write `.splat` (SH above degree 0 is dropped: the format has none).

    sort=True orders splats by importance, largest first (the order peers expect).
    """
    if options:
        raise ValueError(f"unknown .splat write options: {', '.join(options)}")
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write a cloud with no splats")
    cloud.validate()
    order = cloud.importance_order() if sort else np.arange(len(cloud))
    rec = np.empty(len(cloud), dtype=SPLAT_DTYPE)
    rec["pos"] = cloud.means[order]
    rec["scale"] = np.exp(cloud.scales[order].astype(np.float64))
    rgb = sh0_to_rgb(cloud.sh0[order])
    a = sigmoid(cloud.opacities[order])
    rec["rgba"][:, :3] = np.clip(np.rint(rgb * 255.0), 0, 255)
    rec["rgba"][:, 3] = np.clip(np.rint(a * 255.0), 0, 255)
    q = normalized_quats(cloud.quats[order])
    rec["rot"] = np.clip(np.rint(q * 128.0 + 128.0), 0, 255)
    with atomic_write(path) as f:
        rec.tofile(f)
