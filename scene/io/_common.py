"""Helpers shared by every reader and writer: atomic writes, bounded reads, validation."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud

#: a decoded value this far from zero is treated as corrupt, not as a scene
MAX_ABS = 1e30


def default_file_mode() -> int:
    """0o666 minus the process umask: what open() gives a new file (mkstemp gives 0600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def default_dir_mode() -> int:
    """0o777 minus the process umask: what mkdir() gives a new folder (mkdtemp gives 0700)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o777 & ~mask


def _mkstemp(path: Path, folder: Path, suffix: str) -> tuple[int, str]:
    """The temp file beside `path`; a folder we may not write in names the user's path,
    not the temp file's random name."""
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    except OSError as exc:
        raise SceneFormatError(path, f"cannot write in {folder}: "
                                     f"{exc.strerror or exc}") from None


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside `path`; on success it replaces `path`, on error it vanishes.

    A writer that raises midway leaves any previous file at `path` untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SceneFormatError(path, f"folder {folder} does not exist")
    fd, tmp = _mkstemp(path, folder, ".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Like `atomic_write` but yields a temp *path* for libraries that write by name."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SceneFormatError(path, f"folder {folder} does not exist")
    fd, tmp = _mkstemp(path, folder, suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
        raise SceneFormatError(path, "file does not exist")
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
    for arr in () if checked else (cloud.means, cloud.scales, cloud.quats, cloud.opacities, cloud.sh0, cloud.shN):
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
