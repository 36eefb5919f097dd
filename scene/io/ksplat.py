"""GaussianSplats3D `.ksplat` (mkkellogg's SplatBuffer): read only, compression levels 0, 1, 2.

Layout (little endian; GaussianSplats3D `src/loaders/SplatBuffer.js`):

  header, 4096 bytes   u8 versionMajor (0), u8 versionMinor (>= 1); u32[1] maxSectionCount,
                       u32[2] sectionCount, u32[3] maxSplatCount, u32[4] splatCount,
                       u16[10] compressionLevel, f32[6..8] scene centre,
                       f32[9], f32[10] min / max SH coefficient (level 2; 0 means -1.5 / 1.5)
  section headers      1024 bytes each: u32[0] splatCount, u32[1] maxSplatCount,
                       u32[2] bucketSize, u32[3] bucketCount, f32[4] bucketBlockSize,
                       u16[10] bucketStorageSizeBytes, u32[6] compressionScaleRange (0: the
                       level's default), u32[8] fullBucketCount, u32[9] partiallyFilledBucketCount,
                       u16[20] SH degree (0-2)
  section data         u32 × partially-filled bucket lengths, f32×3 × bucket centres, then
                       maxSplatCount splats of bytesPerSplat each

Per splat: centre (level 0: f32 ×3; 1/2: u16 ×3, (v − range)·blockSize/2/range + bucket
centre), linear scale ×3 (f32 / f16), rotation w x y z (f32 / f16), u8 RGBA
(rgb = (0.5 + C0·dc)·255, a = sigmoid(opacity)·255), then SH: degree 1 as 9 values
R0..2 G0..2 B0..2, degree 2 adds 15 values R3..7 G3..7 B3..7 (f32 / f16 / u8 in
[min, max] at level 2). Data are in the PLY frame, as GaussianSplats3D converts them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud
from ..sh import C0, REST_COEFFS
from ._common import check_readable, finish_cloud, normalized_quats, read_exact, safe_logit

HEADER = 4096
SECTION_HEADER = 1024
#: per compression level: bytes of centre, scale, rotation, colour, one SH value; default range
LEVELS = {0: (12, 12, 16, 4, 4, 1), 1: (6, 6, 8, 4, 2, 32767), 2: (6, 6, 8, 4, 1, 32767)}
SH_VALUES = {0: 0, 1: 9, 2: 24}
MAX_SECTIONS = 1 << 16


def _bytes_per_splat(level: int, degree: int) -> int:
    c, s, r, col, sh, _ = LEVELS[level]
    return c + s + r + col + sh * SH_VALUES[degree]


def _layout(path: Path, head: bytes, sections: bytes, size: int) -> tuple[dict, list[dict]]:
    """Parse the header and section headers; check every section fits in `size` bytes."""
    if head[0] != 0 or head[1] < 1:
        raise SceneFormatError(path, f".ksplat version {head[0]}.{head[1]} is not supported (0.1+)")
    u32 = np.frombuffer(head, "<u4", 5)
    level = int(np.frombuffer(head, "<u2", 1, 20)[0])
    if level not in LEVELS:
        raise SceneFormatError(path, f".ksplat compression level {level} is unknown (0, 1, 2)")
    sh_min, sh_max = (float(v) for v in np.frombuffer(head, "<f4", 2, 36))
    hdr = {
        "max_sections": int(u32[1]),
        "level": level,
        "count": int(u32[4]),
        "sh_min": sh_min or -1.5,
        "sh_max": sh_max or 1.5,
    }
    out, base = [], HEADER + hdr["max_sections"] * SECTION_HEADER
    for i in range(hdr["max_sections"]):
        sec = sections[i * SECTION_HEADER : (i + 1) * SECTION_HEADER]
        s32 = np.frombuffer(sec, "<u4", 10)
        degree = int(np.frombuffer(sec, "<u2", 1, 40)[0])
        if degree not in SH_VALUES:
            raise SceneFormatError(path, f".ksplat section {i} has SH degree {degree} (0-2)")
        bucket_bytes = int(np.frombuffer(sec, "<u2", 1, 20)[0])
        s = {
            "count": int(s32[0]),
            "max_count": int(s32[1]),
            "bucket_size": int(s32[2]),
            "buckets": int(s32[3]),
            "block": float(np.frombuffer(sec, "<f4", 1, 16)[0]),
            "range": int(s32[6]) or LEVELS[level][5],
            "full": int(s32[8]),
            "partial": int(s32[9]),
            "degree": degree,
        }
        if s["count"] > s["max_count"]:
            raise SceneFormatError(
                path,
                f".ksplat section {i} says {s['count']} splats but has room for {s['max_count']}",
            )
        bucket_store = bucket_bytes * s["buckets"] + 4 * s["partial"]
        if (
            level >= 1
            and s["count"]
            and (
                bucket_bytes != 12
                or s["full"] + s["partial"] > s["buckets"]
                or not np.isfinite(s["block"])
            )
        ):
            raise SceneFormatError(path, f".ksplat section {i} has an inconsistent bucket table")
        s["bpp"] = _bytes_per_splat(level, degree)
        s["partial_at"] = base
        s["centres_at"] = base + 4 * s["partial"]
        s["data_at"] = base + bucket_store
        base = s["data_at"] + s["bpp"] * s["max_count"]
        if base > size:
            raise SceneFormatError(
                path,
                f".ksplat section {i} ends at byte {base:,} but the file has {size:,} (truncated?)",
            )
        out.append(s)
    return hdr, out


def _header_bytes(path: Path, size: int) -> tuple[bytes, bytes]:
    if size < HEADER:
        raise SceneFormatError(path, f"is {size} bytes, smaller than a .ksplat header (4096)")
    head = bytes(read_exact(path, 0, HEADER))
    n_sec = int(np.frombuffer(head, "<u4", 1, 4)[0])
    if not 1 <= n_sec <= MAX_SECTIONS or HEADER + n_sec * SECTION_HEADER > size:
        raise SceneFormatError(
            path, f".ksplat header claims {n_sec} sections, which the file cannot hold"
        )
    return head, bytes(read_exact(path, HEADER, n_sec * SECTION_HEADER))


def looks_like_ksplat(path: Path) -> bool:
    """True when `path`'s header and section table describe exactly its size (.ksplat has
    no magic number; GaussianSplats3D writes header + sections with nothing after)."""
    try:
        size = path.stat().st_size
        if size < HEADER:
            return False
        with open(path, "rb") as f:
            head = f.read(8)
        if head[0] != 0 or not 1 <= head[1] <= 16:
            return False
        h, secs = _header_bytes(path, size)
        _, sections = _layout(path, h, secs, size)
        return sections[-1]["data_at"] + sections[-1]["bpp"] * sections[-1]["max_count"] == size
    except (SceneFormatError, OSError, IndexError, ValueError):
        return False


def _floats(raw: np.ndarray, offset: int, count: int, width: int) -> np.ndarray:
    """(N, count) float32 from row bytes `raw` (N, bpp) at `offset`: f32 or f16 by `width`."""
    cols = np.ascontiguousarray(raw[:, offset : offset + count * width])
    return cols.view("<f4" if width == 4 else "<f2").astype(np.float32).reshape(len(raw), count)


def read_ksplat(path: str | Path) -> GaussianCloud:
    """Read a `.ksplat` (every section, compression level 0, 1 or 2, SH degree 0-2)."""
    path = Path(path)
    check_readable(path)
    size = path.stat().st_size
    head, secs = _header_bytes(path, size)
    hdr, sections = _layout(path, head, secs, size)
    level = hdr["level"]
    cb, sb, rb, colb, shb, _ = LEVELS[level]
    degree = max((s["degree"] for s in sections if s["count"]), default=0)
    k_out = REST_COEFFS[degree]
    parts: list[dict[str, np.ndarray]] = []
    for i, s in enumerate(sections):
        n = s["count"]
        if n == 0:
            continue
        raw = read_exact(path, s["data_at"], s["bpp"] * n).reshape(n, s["bpp"])
        if level == 0:
            means = _floats(raw, 0, 3, 4)
        else:
            nb = s["buckets"]
            centres = read_exact(path, s["centres_at"], 12 * nb).view("<f4").reshape(nb, 3)
            lengths = (
                read_exact(path, s["partial_at"], 4 * s["partial"]).view("<u4").astype(np.int64)
            )
            bucket = np.concatenate(
                [
                    np.repeat(np.arange(s["full"]), s["bucket_size"]),
                    np.repeat(np.arange(s["full"], s["full"] + s["partial"]), lengths),
                ]
            )
            if len(bucket) < n:
                raise SceneFormatError(
                    path, f".ksplat section {i}: its buckets hold {len(bucket)} splats, not {n}"
                )
            q = np.ascontiguousarray(raw[:, 0:6]).view("<u2").astype(np.float64).reshape(n, 3)
            factor = s["block"] / 2.0 / s["range"]
            means = ((q - s["range"]) * factor + centres[bucket[:n]]).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scales = np.log(np.abs(_floats(raw, cb, 3, sb // 3)))
        scales = np.maximum(np.nan_to_num(scales, nan=-69.0), np.float32(-69.0))
        quats = normalized_quats(_floats(raw, cb + sb, 4, rb // 4))  # w x y z
        rgba = raw[:, cb + sb + rb : cb + sb + rb + colb].astype(np.float32) / 255.0
        sh0 = (rgba[:, :3] - 0.5) / C0
        opac = safe_logit(rgba[:, 3])
        shN = np.zeros((n, k_out, 3), np.float32)
        nv = SH_VALUES[s["degree"]]
        if nv:
            at = cb + sb + rb + colb
            if shb == 1:
                vals = (
                    raw[:, at : at + nv].astype(np.float32)
                    / 255.0
                    * (hdr["sh_max"] - hdr["sh_min"])
                    + hdr["sh_min"]
                )
            else:
                vals = _floats(raw, at, nv, shb)
            shN[:, 0:3, :] = vals[:, 0:9].reshape(n, 3, 3).transpose(0, 2, 1)  # R0..2 G0..2 B0..2
            if nv == 24:
                shN[:, 3:8, :] = vals[:, 9:24].reshape(n, 3, 5).transpose(0, 2, 1)
        parts.append(
            {
                "means": means,
                "scales": scales.astype(np.float32),
                "quats": quats,
                "opacities": opac,
                "sh0": sh0.astype(np.float32),
                "shN": shN,
            }
        )
    if not parts:
        raise SceneFormatError(path, "contains no splats")
    arrays = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    cloud = GaussianCloud(**arrays, meta={"ksplat_compression": level})
    return finish_cloud(cloud, path, "ksplat")
