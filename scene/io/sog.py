"""PlayCanvas SOG v2 (SuperSplat's current format): read only.

A `.sog` file is a ZIP holding `meta.json` and lossless WebP images; the same files may
also lie loose beside a `meta.json`. Texel i of every per-splat image is at
(i % W, i // W), row-major. Decoding follows splat-transform `src/lib/readers/read-sog.ts`
(the reference reader) and PlayCanvas's `sog.md`:

  means_l / means_u   16 bits per axis, q = l | u << 8; n = min + (max - min)·q/65535;
                      position = sign(n)·(exp(|n|) − 1)   (log-domain encoding)
  quats               RGB: the three smaller components, c = (b/255·2 − 1)/√2, A = 252 +
                      index of the omitted (largest, positive) one over w x y z
  scales              RGB: indices into the 256-entry `scales.codebook` (log-scales)
  sh0                 RGB: indices into `sh0.codebook` (SH DC); A = sigmoid(opacity)·255
  shN_labels          R | G << 8: palette entry per splat
  shN_centroids       64 entries per row, each K texels wide (K = 3/8/15 for bands 1/2/3);
                      texel j's RGB are indices into `shN.codebook` for coefficient j

Data are in the PLY frame (splat-transform bakes its PLY transform before writing).
`meta.model == "antialiased"` (or `antialias: true`) marks a mip-splatting scene.
Hostile input (zip bombs, missing or wrongly sized textures, bad indices) raises one
SceneFormatError naming the file and the problem. The legacy v1 layout (no `version`)
and the streamed LOD variant (`lod-meta.json`) are refused in one line.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud
from ..sh import REST_COEFFS
from ._common import check_readable, finish_cloud, safe_logit

MAX_SIDE = 16383  # WebP's limit, and the format's
MAX_META_BYTES = 16 << 20  # meta.json: a few codebooks of 256 floats
MAX_MEMBERS = 64
SQRT2 = math.sqrt(2.0)
#: the components each quats tag (252 + index of the largest over w x y z) keeps, in order
_QUAT_KEPT = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def is_sog_zip(path: Path) -> bool:
    """True when `path` is a ZIP holding a `meta.json` (a bundled SOG)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n == "meta.json" for n in zf.namelist()[:MAX_MEMBERS])
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


class _Files:
    """Bounded access to the files of a SOG: the members of a zip or files in a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zf: zipfile.ZipFile | None = None
        if path.name.lower() != "meta.json" or zipfile.is_zipfile(path):
            try:
                self.zf = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise SceneFormatError(
                    path, f"is not a readable SOG zip archive: damaged or truncated? ({exc})"
                ) from None
            infos = self.zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise SceneFormatError(path, f"holds {len(infos)} files; a SOG has at most 8")
            self.members = {i.filename: i for i in infos}

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()

    def read(self, name: str, limit: int) -> bytes:
        """File `name` (a plain name from meta.json), at most `limit` bytes."""
        if (
            not isinstance(name, str)
            or not name
            or "/" in name
            or "\\" in name
            or name in (".", "..")
            or "\x00" in name
        ):
            raise SceneFormatError(
                self.path, f"meta.json names an unusable file {str(name)[:80]!r}"
            )
        if self.zf is not None:
            info = self.members.get(name)
            if info is None:
                raise SceneFormatError(self.path, f"the SOG archive lacks {name}")
            if info.file_size > limit:
                raise SceneFormatError(
                    self.path,
                    f"{name} unpacks to {info.file_size:,} bytes, "
                    f"more than a SOG of this size can need "
                    f"({limit:,}): not a SOG, or a zip bomb",
                )
            try:
                with self.zf.open(info) as f:
                    data = f.read(limit + 1)
            except Exception as exc:  # zipfile, zlib, CRC and encryption errors alike
                raise SceneFormatError(
                    self.path, f"{name} is corrupt in the archive ({exc})"
                ) from None
        else:
            f_path = self.path.parent / name
            if not f_path.is_file():
                raise SceneFormatError(self.path, f"the texture {name} is missing beside meta.json")
            if f_path.stat().st_size > limit:
                raise SceneFormatError(
                    self.path,
                    f"{name} is larger ({f_path.stat().st_size:,} "
                    f"bytes) than a SOG of this size can need",
                )
            with open(f_path, "rb") as f:
                data = f.read(limit + 1)
        if len(data) > limit:
            raise SceneFormatError(
                self.path, f"{name} unpacks to more than {limit:,} bytes: not a SOG, or a zip bomb"
            )
        return data


def texture_size(count: int) -> tuple[int, int]:
    """(W, H) of the per-splat images splat-transform writes for `count` splats."""
    w = int(math.ceil(math.sqrt(count) / 4) * 4)
    return w, int(math.ceil(count / w / 4) * 4)


def _decode_webp(
    files: _Files, name: str, limit: int, expect: Callable[[int, int], str | None]
) -> np.ndarray:
    """RGBA (H, W, 4) uint8 of WebP `name`; `expect(w, h)` returns a complaint or None,
    checked from the header before any pixel is decoded."""
    from PIL import Image

    data = files.read(name, limit)
    try:
        im = Image.open(io.BytesIO(data))
        if im.format != "WEBP":
            raise SceneFormatError(files.path, f"{name} is not a WebP image ({im.format})")
        w, h = im.size
        problem = expect(w, h)
        if problem:
            raise SceneFormatError(files.path, f"{name} is {w}x{h}: {problem}")
        rgba = np.asarray(im.convert("RGBA"), np.uint8)
    except SceneFormatError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt images
        from PIL import UnidentifiedImageError

        # (Pillow's "cannot identify image file <_io.BytesIO object at 0x7f…>" named a
        # memory address)
        why = "unrecognised image data" if isinstance(exc, UnidentifiedImageError) else exc
        raise SceneFormatError(files.path, f"{name} is not a readable WebP image ({why})") from None
    return rgba


def _codebook(path: Path, meta: dict[str, Any], key: str) -> np.ndarray:
    try:
        cb = np.asarray(meta[key]["codebook"], np.float64)
    except (KeyError, TypeError, ValueError):
        raise SceneFormatError(path, f"meta.json has no usable {key}.codebook") from None
    if cb.ndim != 1 or not 1 <= len(cb) <= 65536 or not np.isfinite(cb).all():
        raise SceneFormatError(path, f"meta.json {key}.codebook is not a list of finite numbers")
    return cb.astype(np.float32)


def _lookup(path: Path, codebook: np.ndarray, idx: np.ndarray, what: str) -> np.ndarray:
    if int(idx.max(initial=0)) >= len(codebook):
        raise SceneFormatError(
            path, f"{what} index {int(idx.max())} lies beyond its {len(codebook)}-entry codebook"
        )
    return codebook[idx]


def _files_of(path: Path, meta: dict[str, Any], key: str, n: int) -> list[str]:
    try:
        names = meta[key]["files"]
    except (KeyError, TypeError):
        raise SceneFormatError(path, f"meta.json has no {key}.files") from None
    if not isinstance(names, list) or len(names) < n:
        raise SceneFormatError(path, f"meta.json {key}.files should list {n} file(s)")
    return names[:n]


def read_sog(path: str | Path) -> GaussianCloud:
    """Read a SOG v2 scene: a `.sog` zip, or a `meta.json` with its WebP files beside it.

    Returns the cloud in Wander's (PLY) frame; meta: antialiased when the file says so,
    sog_version 2. Raises SceneFormatError for v1/LOD files and anything malformed.
    """
    path = Path(path)
    check_readable(path)
    if path.name.lower().endswith("lod-meta.json"):
        raise SceneFormatError(
            path,
            "is a streamed SOG (LOD chunks): convert it with "
            "splat-transform to one .sog or .ply first",
        )
    files = _Files(path)
    try:
        return _read(path, files)
    finally:
        files.close()


def _read(path: Path, files: _Files) -> GaussianCloud:
    if files.zf is not None:
        raw = files.read("meta.json", MAX_META_BYTES)
    else:
        if path.stat().st_size > MAX_META_BYTES:
            raise SceneFormatError(path, "meta.json is too large for a SOG")
        raw = path.read_bytes()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SceneFormatError(path, f"meta.json is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise SceneFormatError(path, "meta.json is not a JSON object")
    version = meta.get("version")
    if version is None:
        raise SceneFormatError(
            path,
            "is a SOG of the first (v1) layout; re-save it with "
            "SuperSplat or splat-transform to get SOG v2",
        )
    if version != 2:
        raise SceneFormatError(path, f"SOG version {str(version)[:20]} is not supported (2 is)")
    count = meta.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise SceneFormatError(
            path, f"meta.json count {str(count)[:30]!r} is not a positive whole number"
        )
    w_exp, h_exp = texture_size(count)
    if w_exp > MAX_SIDE or h_exp > MAX_SIDE:
        raise SceneFormatError(
            path, f"count {count:,} needs textures larger than {MAX_SIDE}x{MAX_SIDE}"
        )
    # a lossless WebP of W*H RGBA texels is not larger than the raw pixels plus headers
    limit = w_exp * h_exp * 4 + (1 << 20)

    def per_splat(w: int, h: int) -> str | None:
        if w > MAX_SIDE or h > MAX_SIDE:
            return f"larger than {MAX_SIDE}x{MAX_SIDE}"
        if w * h < count:
            return f"too small for {count:,} splats"
        if w * h > 4 * (w_exp * h_exp) + 16:
            return f"far larger than {count:,} splats need ({w_exp}x{h_exp})"
        return None

    def texels(key: str, i: int = 0) -> np.ndarray:
        name = _files_of(path, meta, key, i + 1)[i]
        return _decode_webp(files, name, limit, per_splat).reshape(-1, 4)[:count]

    # positions
    try:
        mins = np.asarray(meta["means"]["mins"], np.float64)
        maxs = np.asarray(meta["means"]["maxs"], np.float64)
    except (KeyError, TypeError, ValueError):
        raise SceneFormatError(path, "meta.json has no usable means.mins / means.maxs") from None
    if (
        mins.shape != (3,)
        or maxs.shape != (3,)
        or not np.isfinite([mins, maxs]).all()
        or np.abs([mins, maxs]).max() > 80
    ):  # exp(80) would overflow float32 positions
        raise SceneFormatError(path, "meta.json means.mins / maxs are not 3 sane numbers each")
    lo = texels("means", 0)[:, :3].astype(np.uint32)
    hi = texels("means", 1)[:, :3].astype(np.uint32)
    q = (lo | (hi << 8)).astype(np.float64)
    span = np.where(maxs - mins != 0, maxs - mins, 1.0)
    nrm = mins + span * (q / 65535.0)
    means = (np.sign(nrm) * np.expm1(np.abs(nrm))).astype(np.float32)
    del lo, hi, q, nrm

    # rotations
    qt = texels("quats")
    tag = qt[:, 3].astype(np.int64)
    valid = (tag >= 252) & (tag <= 255)
    largest = np.where(valid, tag - 252, 0)
    comps = (qt[:, :3].astype(np.float32) / np.float32(255.0) * 2 - 1) / np.float32(SQRT2)
    quats = np.zeros((count, 4), np.float32)
    rows = np.arange(count)
    kept = _QUAT_KEPT[largest]
    for j in range(3):
        quats[rows, kept[:, j]] = comps[:, j]
    quats[rows, largest] = np.sqrt(np.maximum(0.0, 1.0 - (comps * comps).sum(1)))
    quats[~valid] = (1.0, 0.0, 0.0, 0.0)
    del qt, comps, kept

    scales = _lookup(path, _codebook(path, meta, "scales"), texels("scales")[:, :3], "scale")
    c0 = texels("sh0")
    sh0 = _lookup(path, _codebook(path, meta, "sh0"), c0[:, :3], "colour")
    opac = safe_logit(c0[:, 3].astype(np.float32) / 255.0)
    del c0

    shN = np.zeros((count, 0, 3), np.float32)
    shn_meta = meta.get("shN")
    if isinstance(shn_meta, dict) and shn_meta.get("bands") not in (None, 0):
        bands = shn_meta.get("bands")
        if bands not in (1, 2, 3):
            raise SceneFormatError(
                path, f"meta.json shN.bands {str(bands)[:20]!r} is not 1, 2 or 3"
            )
        k = REST_COEFFS[bands]
        palette_n = shn_meta.get("count")
        if not isinstance(palette_n, int) or not 0 < palette_n <= 65536:
            raise SceneFormatError(
                path, f"meta.json shN.count {str(palette_n)[:20]!r} is not 1..65536"
            )
        cb = _codebook(path, meta, "shN")
        rows_needed = -(-palette_n // 64)

        def centroid_size(w: int, h: int) -> str | None:
            if w != 64 * k:
                return f"should be {64 * k} texels wide for {bands} SH bands"
            if h > rows_needed + 1 or h > MAX_SIDE:
                return f"has more rows than {palette_n} palette entries need"
            return None

        names = _files_of(path, meta, "shN", 2)
        cen = _decode_webp(
            files, names[0], 64 * k * (rows_needed + 1) * 4 + (1 << 20), centroid_size
        )  # (h, 64·K, 4)
        entries = cen.reshape(cen.shape[0] * 64, k, 4)[:, :, :3]  # (P, K, 3) codebook indices
        palette = _lookup(path, cb, entries, "SH")  # (P, K, 3)
        palette = np.concatenate([palette, np.zeros((1, k, 3), np.float32)])  # + "no entry"
        lab = _decode_webp(files, names[1], limit, per_splat).reshape(-1, 4)[:count]
        labels = lab[:, 0].astype(np.int64) | (lab[:, 1].astype(np.int64) << 8)
        labels = np.where(labels < min(palette_n, len(palette) - 1), labels, len(palette) - 1)
        shN = np.ascontiguousarray(palette[labels], np.float32)

    cloud = GaussianCloud(means, scales, quats, opac, sh0, shN, meta={"sog_version": 2})
    if meta.get("model") == "antialiased" or meta.get("antialias") is True:
        cloud.meta["antialiased"] = True
    return finish_cloud(cloud, path, "sog")
