"""antimatter15 `.splat`: 32 bytes per splat, no header, no SH.

Layout per splat (little endian): f32 x y z, f32 linear scale x y z, u8 r g b a
(rgb = 0.5 + C0·dc, a = sigmoid(opacity)), u8 quaternion w x y z as q·128 + 128.
Our writer sorts splats by importance (opacity × volume, largest first), like
antimatter15's converter and most peers, so progressive loaders show big splats first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import SceneFormatError
from ..files import atomic_write
from ..gaussians import GaussianCloud, sigmoid
from ..sh import C0
from ._common import (
    finish_cloud,
    looks_like_text,
    normalized_quats,
    read_all,
    safe_logit,
    validate_finite,
)

SPLAT_DTYPE = np.dtype(
    [("pos", "<f4", 3), ("scale", "<f4", 3), ("rgba", "u1", 4), ("rot", "u1", 4)]
)
assert SPLAT_DTYPE.itemsize == 32


_BYTE = np.arange(256, dtype=np.float32)
_DC_LUT = ((_BYTE / 255.0 - 0.5) / C0).astype(np.float32)  # colour byte -> SH DC
_LOGIT_LUT = safe_logit(_BYTE / 255.0)  # alpha byte -> opacity logit
_ROT_LUT = ((_BYTE - 128.0) / 128.0).astype(np.float32)  # rotation byte -> component


def read_splat(path: str | Path) -> GaussianCloud:
    """Read an antimatter15 `.splat` file."""
    path = Path(path)
    data = read_all(path)
    if len(data) % 32:
        raise SceneFormatError(
            path,
            f"size {len(data)} bytes is not a multiple of 32, so this is "
            "not a .splat file (or it is truncated)",
        )
    if looks_like_text(data[:4096]):
        raise SceneFormatError(path, "looks like a text file, not a binary .splat")
    n = len(data) // 32
    f32 = np.frombuffer(data, "<f4").reshape(n, 8)  # (N, 8): xyz, scale xyz, then 8 bytes
    u8 = np.frombuffer(data, np.uint8).reshape(n, 32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scales = np.log(np.abs(f32[:, 3:6]))  # the sign of a std-dev does not matter
    scales = np.maximum(scales, np.float32(-69.0))  # log(0) -> a vanishing splat, not -inf
    q = normalized_quats(_ROT_LUT[u8[:, 28:32]])  # (N, 4) w x y z
    cloud = GaussianCloud(
        means=np.array(f32[:, 0:3], dtype=np.float32, order="C"),
        scales=scales,
        quats=q,
        opacities=_LOGIT_LUT[u8[:, 27]],
        sh0=_DC_LUT[u8[:, 24:27]],
    )
    return finish_cloud(cloud, path, "splat")


def encode_splat(
    cloud: GaussianCloud, fh: BinaryIO, *, sort: bool = True, path: str | Path | None = None
) -> None:
    """THE `.splat` encoder, into `fh` (SH above degree 0 is dropped: the format has none).

    sort=True orders splats by importance (opacity × volume), largest first, the order
    peers expect (stable: ties keep their order); a marked far field stays last
    (`GaussianCloud.far_last`).
    """
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write a cloud with no splats")
    validate_finite(cloud)
    n = len(cloud)
    order = cloud.far_last(np.argsort(-cloud.importance(), kind="stable")) if sort else None
    step = 65536
    buf = np.empty((min(n, step), 8), "<f4")  # (B, 8) = 32 bytes per splat
    to_byte = lambda x: np.clip(np.rint(x), 0, 255)  # noqa: E731
    for r0 in range(0, n, step):  # rows in file order, block by block
        r1 = min(r0 + step, n)
        idx = slice(r0, r1) if order is None else order[r0:r1]
        b = buf[: r1 - r0]
        u8 = b.view(np.uint8).reshape(r1 - r0, 32)
        b[:, 0:3] = cloud.means[idx]
        with np.errstate(over="ignore"):
            b[:, 3:6] = np.exp(cloud.scales[idx])
        u8[:, 24:27] = to_byte((0.5 + C0 * cloud.sh0[idx]) * np.float32(255.0))
        u8[:, 27] = to_byte(sigmoid(cloud.opacities[idx]) * np.float32(255.0))
        u8[:, 28:32] = to_byte(
            normalized_quats(cloud.quats[idx]) * np.float32(128.0) + np.float32(128.0)
        )
        fh.write(b.data)


def write_splat(cloud: GaussianCloud, path: str | Path, **options: Any) -> None:
    """`encode_splat` into `path`, atomically (option: sort)."""
    with atomic_write(path) as f:
        encode_splat(cloud, f, path=path, **options)
