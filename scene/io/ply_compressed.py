"""PlayCanvas compressed PLY (SuperSplat, splat-transform, gsplat's `ply_compressed`).

`element chunk`: per 256 splats, float min/max of x y z, of log-scale x y z and
(newer files) of colour r g b — 12 or 18 floats. `element vertex`: uint packed_position
and packed_scale (11-10-11 bit unorm in the chunk's range), packed_rotation (2-bit index
of the largest w x y z component + three 10-bit components), packed_color (8-8-8-8:
rgb = 0.5 + C0·dc in the chunk's colour range, a = sigmoid(opacity)). Optional
`element sh`: uchar f_rest_i (channel-major), decoded ((u + 0.5)/256 - 0.5)·8.
Our writer sorts splats in Morton order before chunking, as the peers do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import SceneFormatError
from ..files import atomic_write
from ..gaussians import GaussianCloud, rgb_to_sh0, sh0_to_rgb, sigmoid
from ..sh import REST_COEFFS
from ._common import check_readable, finish_cloud, normalized_quats, safe_logit, validate_finite
from .plyheader import PlyHeader, binary_offsets, parse_header, read_header_bytes

CHUNK = 256
_POS = ["min_x", "min_y", "min_z", "max_x", "max_y", "max_z"]
_SCALE = ["min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z"]
_COLOR = ["min_r", "min_g", "min_b", "max_r", "max_g", "max_b"]
_PACKED = ["packed_position", "packed_rotation", "packed_scale", "packed_color"]


def read_ply_compressed(path: str | Path) -> GaussianCloud:
    """Read a compressed PLY (any name; the header decides)."""
    path = Path(path)
    check_readable(path)
    size = path.stat().st_size
    if size == 0:
        raise SceneFormatError(path, "file is empty")
    header = parse_header(read_header_bytes(path), path)
    return read_compressed_with_header(path, header, size)


def _mark_antialiased(cloud: GaussianCloud, header: PlyHeader) -> GaussianCloud:
    if any(c.replace(" ", "").lower() == "splatrendermode:mip" for c in header.comments):
        cloud.meta["antialiased"] = True
    return cloud


def read_compressed_with_header(path: Path, header: PlyHeader, size: int) -> GaussianCloud:
    if header.format != "binary_little_endian":
        raise SceneFormatError(
            path, f"compressed PLY must be binary little endian, not {header.format}"
        )
    chunk, vertex, sh = header.element("chunk"), header.element("vertex"), header.element("sh")
    if chunk is None or vertex is None:
        raise SceneFormatError(path, "compressed PLY needs 'chunk' and 'vertex' elements")
    missing = [p for p in _POS + _SCALE if chunk.prop(p) is None] + [
        p for p in _PACKED if vertex.prop(p) is None
    ]
    if missing:
        raise SceneFormatError(path, "compressed PLY lacks properties: " + ", ".join(missing))
    n = vertex.count
    if n == 0:
        raise SceneFormatError(path, "contains no splats")
    need = -(-n // CHUNK)
    if chunk.count < need:
        raise SceneFormatError(
            path,
            f"{chunk.count} chunks cannot hold {n} splats ({need} needed at {CHUNK} per chunk)",
        )
    names = ["chunk", "vertex"] + (["sh"] if sh is not None else [])
    offsets = binary_offsets(header, size, path, names)
    for name in names:
        if name not in offsets:
            raise SceneFormatError(path, f"cannot locate the '{name}' data")
    with open(path, "rb") as f:

        def read(el, off):  # noqa: ANN001, ANN202 - tiny local helper
            dt = el.row_dtype("<")
            f.seek(off)
            buf = f.read(dt.itemsize * el.count)
            if len(buf) < dt.itemsize * el.count:
                raise SceneFormatError(path, f"'{el.name}' data is truncated")
            return np.frombuffer(buf, dt)

        ch = read(chunk, offsets["chunk"])
        vx = read(vertex, offsets["vertex"])
        shd = read(sh, offsets["sh"]) if sh is not None and sh.count and sh.properties else None
    ci = np.arange(n) // CHUNK  # (N,) chunk of each splat

    def col(rec, name):  # noqa: ANN001, ANN202
        return rec[name].astype(np.float32)

    def lerp(names3min, names3max, t):  # noqa: ANN001, ANN202
        lo = np.stack([col(ch, a) for a in names3min], 1)[ci]
        hi = np.stack([col(ch, a) for a in names3max], 1)[ci]
        return lo + (hi - lo) * t

    pp = vx["packed_position"].astype(np.uint32)
    means = lerp(_POS[:3], _POS[3:], _unpack_111011(pp))
    scales = lerp(_SCALE[:3], _SCALE[3:], _unpack_111011(vx["packed_scale"].astype(np.uint32)))
    pc = vx["packed_color"].astype(np.uint32)
    rgba = np.stack([(pc >> s) & 0xFF for s in (24, 16, 8, 0)], 1).astype(np.float32) / 255.0
    rgb = rgba[:, :3]
    if all(chunk.prop(p) is not None for p in _COLOR):
        rgb = lerp(_COLOR[:3], _COLOR[3:], rgb)
    quats = _unpack_rotation(vx["packed_rotation"].astype(np.uint32))
    shN = np.zeros((n, 0, 3), np.float32)
    meta: dict[str, Any] = {}
    if shd is not None:
        if sh.count != n:
            raise SceneFormatError(path, f"'sh' element has {sh.count} rows for {n} splats")
        m = len(sh.properties)
        if m % 3 or (m // 3) not in REST_COEFFS.values():
            raise SceneFormatError(path, f"{m} SH values per splat is not a valid SH degree")
        k = m // 3
        u = np.stack(
            [
                shd[f"f_rest_{i}"] if f"f_rest_{i}" in shd.dtype.names else shd[shd.dtype.names[i]]
                for i in range(m)
            ],
            1,
        ).astype(np.float32)
        vals = ((u + 0.5) / 256.0 - 0.5) * 8.0  # (N, 3K) channel-major
        shN = np.ascontiguousarray(vals.reshape(n, 3, k).transpose(0, 2, 1))
    cloud = GaussianCloud(
        means, scales, quats, safe_logit(rgba[:, 3]), rgb_to_sh0(rgb), shN, meta=meta
    )
    return finish_cloud(_mark_antialiased(cloud, header), path, "ply_compressed")


def _unpack_111011(v: np.ndarray) -> np.ndarray:
    """uint32 (N,) -> (N, 3) floats in 0..1 from 11-10-11 bit unorms."""
    return np.stack(
        [((v >> 21) & 0x7FF) / 2047.0, ((v >> 11) & 0x3FF) / 1023.0, (v & 0x7FF) / 2047.0], 1
    ).astype(np.float32)


def _unpack_rotation(v: np.ndarray) -> np.ndarray:
    """uint32 (N,) -> (N, 4) quaternions w x y z."""
    n = len(v)
    largest = (v >> 30).astype(np.int64)
    kept = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])[largest]
    q = np.zeros((n, 4), np.float32)
    rows = np.arange(n)
    sq = np.zeros(n, np.float32)
    for j, shift in enumerate((20, 10, 0)):
        c = (((v >> shift) & 0x3FF).astype(np.float32) / 1023.0 - 0.5) * np.float32(np.sqrt(2.0))
        q[rows, kept[:, j]] = c
        sq += c * c
    q[rows, largest] = np.sqrt(np.maximum(0.0, 1.0 - sq))
    return normalized_quats(q)


# --------------------------------------------------------------------------- writing
def _part1by2(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint32) & 0x3FF
    x = (x ^ (x << 16)) & 0xFF0000FF
    x = (x ^ (x << 8)) & 0x0300F00F
    x = (x ^ (x << 4)) & 0x030C30C3
    x = (x ^ (x << 2)) & 0x09249249
    return x


def morton_order(points: np.ndarray) -> np.ndarray:
    """Indices sorting (N, 3) points along a 10-bit-per-axis Morton curve."""
    lo, hi = points.min(0), points.max(0)
    ext = np.where(hi - lo > 0, hi - lo, 1.0)
    g = np.clip(np.floor((points - lo) / ext * 1024), 0, 1023).astype(np.uint32)
    code = (_part1by2(g[:, 2]) << 2) | (_part1by2(g[:, 1]) << 1) | _part1by2(g[:, 0])
    return np.argsort(code, kind="stable")


def _unorm(x: np.ndarray, bits: int) -> np.ndarray:
    t = (1 << bits) - 1
    return np.clip(np.floor(x * t + 0.5), 0, t).astype(np.uint32)


def _normalise(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    ext = hi - lo
    return np.where(ext > 0, (v - lo) / np.where(ext > 0, ext, 1.0), 0.0)


def _pack_111011(t: np.ndarray) -> np.ndarray:
    return (_unorm(t[:, 0], 11) << 21) | (_unorm(t[:, 1], 10) << 11) | _unorm(t[:, 2], 11)


#: rows packed per step (a multiple of CHUNK): the Morton-ordered cloud is never copied whole.
#: A step's float64 and SH temporaries scale with it: a 1M-splat SH-3 cloud encoded at 256
#: chunks a step peaked 53 MB above the loaded cloud, at 64 chunks 19 MB (the Morton
#: order's own), in 0.75 s instead of 0.83 (`convert` to compressed PLY: 1.49x the file)
ENCODE_BLOCK = 64 * CHUNK


def encode_ply_compressed(
    cloud: GaussianCloud, fh: BinaryIO, path: str | Path | None = None
) -> None:
    """THE compressed-PLY encoder, into `fh` (18-float chunks of 256 Morton-ordered splats,
    uchar SH). Rows are gathered in Morton order block by block: memory is the packed
    vertex table (16 bytes a splat) and one block, not a reordered copy of the cloud."""
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write a cloud with no splats")
    validate_finite(cloud)
    order = cloud.far_last(morton_order(cloud.means))  # a marked far field stays last
    n, k = len(cloud), cloud.shN.shape[1]
    n_chunks = -(-n // CHUNK)
    chunk = np.empty((n_chunks, 18), "<f4")
    vert = np.empty((n, 4), "<u4")
    kept_of = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    for r0 in range(0, n, ENCODE_BLOCK):
        r1 = min(r0 + ENCODE_BLOCK, n)
        idx = order[r0:r1]
        m = r1 - r0
        starts = np.arange(0, m, CHUNK)
        ci = np.arange(m) // CHUNK

        def bounds(a: np.ndarray, s: np.ndarray = starts) -> tuple[np.ndarray, np.ndarray]:
            return np.minimum.reduceat(a, s, axis=0), np.maximum.reduceat(a, s, axis=0)

        means = cloud.means[idx].astype(np.float64)
        scales = np.clip(cloud.scales[idx].astype(np.float64), -20, 20)
        rgb = sh0_to_rgb(cloud.sh0[idx]).astype(np.float64)
        (pmin, pmax), (smin, smax), (cmin, cmax) = bounds(means), bounds(scales), bounds(rgb)
        c0 = r0 // CHUNK
        chunk[c0 : c0 + len(starts)] = np.concatenate([pmin, pmax, smin, smax, cmin, cmax], 1)
        pos = _pack_111011(_normalise(means, pmin[ci], pmax[ci]))
        scl = _pack_111011(_normalise(scales, smin[ci], smax[ci]))
        crgb = _normalise(rgb, cmin[ci], cmax[ci])
        alpha = sigmoid(cloud.opacities[idx]).astype(np.float64)
        col = (
            (_unorm(crgb[:, 0], 8) << 24)
            | (_unorm(crgb[:, 1], 8) << 16)
            | (_unorm(crgb[:, 2], 8) << 8)
            | _unorm(alpha, 8)
        )
        q = normalized_quats(cloud.quats[idx]).astype(np.float64)
        rows = np.arange(m)
        largest = np.argmax(np.abs(q), 1)
        q *= np.where(q[rows, largest] < 0, -1.0, 1.0)[:, None]
        kept = kept_of[largest]
        rot = largest.astype(np.uint32) << 30
        for j, shift in enumerate((20, 10, 0)):
            rot |= _unorm(q[rows, kept[:, j]] * (np.sqrt(2.0) * 0.5) + 0.5, 10) << shift
        vert[r0:r1] = np.stack([pos, rot, scl, col], 1)
    lines = ["ply", "format binary_little_endian 1.0"]
    if cloud.meta.get("antialiased"):
        lines.append("comment SplatRenderMode: mip")  # what ply.is_antialiased_header reads
    lines.append(f"element chunk {n_chunks}")
    lines += [f"property float {p}" for p in _POS + _SCALE + _COLOR]
    lines += [f"element vertex {n}"] + [f"property uint {p}" for p in _PACKED]
    if k:
        lines.append(f"element sh {n}")
        lines += [f"property uchar f_rest_{i}" for i in range(3 * k)]
    lines.append("end_header\n")
    fh.write("\n".join(lines).encode("ascii"))
    fh.write(chunk.tobytes())
    fh.write(vert.data)
    del vert
    for r0 in range(0, n if k else 0, ENCODE_BLOCK):
        idx = order[r0 : r0 + ENCODE_BLOCK]
        flat = cloud.shN[idx].transpose(0, 2, 1).reshape(len(idx), 3 * k)  # float32, as gsplat
        q = np.trunc((flat / np.float32(8.0) + np.float32(0.5)) * np.float32(256.0))
        fh.write(np.clip(q, 0, 255).astype(np.uint8).tobytes())


def write_ply_compressed(cloud: GaussianCloud, path: str | Path, **options: Any) -> None:
    """`encode_ply_compressed` into `path`, atomically."""
    if options:
        raise ValueError(f"unknown compressed PLY write options: {', '.join(options)}")
    with atomic_write(path) as f:
        encode_ply_compressed(cloud, f, path=path)
