"""Helpers private to scene.io's readers and writers: bounded reads and decoded-cloud checks.

File safety (atomic writes, temp files, output checks) is public in `scene.files`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud

#: a decoded value this far from zero is treated as corrupt, not as a scene
MAX_ABS = 1e30


def read_exact(path: str | Path, offset: int, nbytes: int) -> np.ndarray:
    """`nbytes` bytes of `path` from `offset` as a new (nbytes,) uint8 array.

    Reads (never maps), so a file truncated by another program while it loads is a
    SceneFormatError ("file shrank"), not a SIGBUS that kills the process.
    """
    buf = np.empty(nbytes, np.uint8)
    view = memoryview(buf)
    got = 0
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            while got < nbytes:
                n = f.readinto(view[got:])
                if not n:
                    break
                got += n
    except OSError as exc:
        raise SceneFormatError(path, f"cannot read file: {exc.strerror or exc}") from None
    if got < nbytes:
        raise SceneFormatError(
            path,
            f"file shrank or is truncated while reading: needed "
            f"{offset + nbytes} bytes, got {offset + got} (was it "
            f"changed by another program?)",
        )
    return buf


def read_all(path: str | Path, limit: int | None = None) -> bytes:
    """Whole file as bytes, with a clear error for missing / unreadable / empty files."""
    path = Path(path)
    check_readable(path)
    try:
        with open(path, "rb") as f:
            data = f.read() if limit is None else f.read(limit)
    except OSError as exc:
        raise SceneFormatError(path, f"cannot read file: {exc.strerror or exc}") from None
    if not data:
        raise SceneFormatError(path, "file is empty")
    return data


def check_readable(path: Path) -> None:
    if not path.exists():
        raise SceneFormatError(path, "no such file")
    if path.is_dir():
        raise SceneFormatError(path, "is a folder, not a file")
    if not path.is_file():  # a pipe would block the read forever
        raise SceneFormatError(path, "is not a regular file (a pipe or a device)")


def finish_cloud(cloud: GaussianCloud, path: str | Path, fmt: str) -> GaussianCloud:
    """Reject 0-splat and non-finite clouds; record the source in `meta`."""
    n = len(cloud)
    if n == 0:
        raise SceneFormatError(path, "contains no splats")
    bad = np.zeros(n, dtype=bool)
    checked = cloud.meta.pop("finite_checked", False)  # a reader that checked while copying
    for arr in (
        ()
        if checked
        else (cloud.means, cloud.scales, cloud.quats, cloud.opacities, cloud.sh0, cloud.shN)
    ):
        flat = arr.reshape(n, -1)
        # a finite float64 sum proves every element finite; only then skip the exact check
        if flat.shape[1] == 0 or np.isfinite(np.add.reduce(flat, axis=None, dtype=np.float64)):
            continue
        bad |= ~np.isfinite(flat).all(axis=1)
    if bad.any():
        raise SceneFormatError(path, f"{int(bad.sum())} of {n} splats have NaN or infinite values")
    if np.abs(cloud.means).max() > MAX_ABS:
        raise SceneFormatError(path, "splat positions are absurdly large (corrupt data?)")
    cloud.meta.setdefault("source", str(path))
    cloud.meta.setdefault("format", fmt)
    return cloud


def validate_finite(cloud: GaussianCloud, block: int = 65536) -> None:
    """`cloud.validate()` in row blocks: raises InvalidSceneError ("K splats have
    non-finite NAME") without N-sized temporaries (a writer's memory stays bounded)."""
    from ..errors import InvalidSceneError

    n = len(cloud)
    for name in ("means", "scales", "quats", "opacities", "sh0", "shN"):
        arr = getattr(cloud, name)
        if not arr.size:
            continue
        bad = 0
        for r0 in range(0, n, block):
            part = arr[r0 : r0 + block].reshape(min(block, n - r0), -1)
            with np.errstate(invalid="ignore", over="ignore"):
                if np.isfinite(np.add.reduce(part, axis=None, dtype=np.float64)):
                    continue
            bad += int((~np.isfinite(part)).any(1).sum())
        if bad:
            raise InvalidSceneError(f"{bad} splats have non-finite {name}")


def looks_like_text(head: bytes) -> bool:
    """True when a byte prefix is plain printable ASCII (a text file, not binary data)."""
    if not head:
        return False
    allowed = set(range(32, 127)) | {9, 10, 13}
    return all(b in allowed for b in head)


def safe_logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Inverse sigmoid of 0..1 values, clamped so 0 and 1 give finite logits, float32."""
    p = np.clip(np.asarray(p, np.float64), eps, 1.0 - eps)
    return np.log(p / (1.0 - p)).astype(np.float32)


def normalized_quats(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (N, 4) float32; zero-length ones become identity (1, 0, 0, 0)."""
    q = np.asarray(q, np.float32)
    norm = np.sqrt(np.einsum("ij,ij->i", q, q))  # (N,)
    out = q / np.maximum(norm, np.float32(1e-12))[:, None]
    bad = ~(norm > 1e-12)
    if bad.any():
        out[bad] = (1.0, 0.0, 0.0, 0.0)
    return out
