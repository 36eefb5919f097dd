"""Niantic `.spz`: quantised Gaussian splats.

Containers: versions 1-3 are one gzip stream holding a 16-byte header
(magic "NGSP", version, numPoints, shDegree, fractionalBits, flags, reserved) and planar
blocks; version 4 is a plain 32-byte header, a table of contents and one zstd stream per
block. Blocks, in order: positions (24-bit fixed point, xyz), alphas, colours (SH DC),
log-scales, rotations (v2: xyz bytes; v3+: smallest-three in 32 bits), SH (coefficient-major,
RGB fastest). Extension records (flag 0x2: `u32 type, u32 byteLength, payload`) follow the
data blocks in v1-3 files (where Niantic's writer puts them); files that put them between
header and blocks are read too.

Axes: Wander keeps `.spz` data in the PLY frame (x right, y down, z forward: RDF), as
Niantic's own CLI and most peers store it; `axes="ply"` is the default on read and write.
`axes="rub"` is the spec's RUB frame (x right, y up, z back) that splat-transform and
SuperSplat write: y and z are flipped on read (and on write). With `axes=None` on read, an
Adobe coordinate-system extension record (type 0xADBE0003), when present, decides; without
it the file is taken as PLY frame. The frame the file was read in is recorded in
`cloud.meta["spz_axes"]`.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import SceneFormatError
from ..files import atomic_write
from ..gaussians import GaussianCloud, sigmoid
from ..sh import REST_COEFFS
from ._common import finish_cloud, normalized_quats, read_all, safe_logit, validate_finite

MAGIC = 0x5053474E  # "NGSP" little endian
COLOR_SCALE = 0.15
SQRT1_2 = 0.7071067811865476
log = logging.getLogger(__name__)

SPZ_REST = {0: 0, 1: 3, 2: 8, 3: 15, 4: 24}
GZIP_MAX_RATIO = 1100  # deflate cannot expand by more than ~1032:1
EXT_COORDINATE_SYSTEM = 0xADBE0003  # SPZ_ADOBE_coordinate_system
#: the spz library's CoordinateSystem enum -> axis signs relative to the PLY frame (RDF):
#: R/L = +x/-x, D/U = +y/-y, F/B = +z/-z
_COORDINATE_SYSTEMS = {
    1: "LDB",
    2: "RDB",
    3: "LUB",
    4: "RUB",
    5: "LDF",
    6: "RDF",
    7: "LUF",
    8: "RUF",
}
AXES = ("ply", "rub")


def _axis_signs(code: str) -> tuple[float, float, float]:
    return (
        1.0 if code[0] == "R" else -1.0,
        1.0 if code[1] == "D" else -1.0,
        1.0 if code[2] == "F" else -1.0,
    )


def to_ply_frame(cloud: GaussianCloud, code: str) -> GaussianCloud:
    """A cloud stored in the axes `code` ("RUB", "LUF", ... ; "RDF" is the PLY frame)
    re-expressed in the PLY frame: positions, orientations and SH follow. The same
    sign flip maps back, so this is also PLY frame -> `code`."""
    sx, sy, sz = _axis_signs(code)
    if (sx, sy, sz) == (1.0, 1.0, 1.0):
        return cloud
    out = cloud.transformed(np.diag([sx, sy, sz, 1.0]))
    out.meta = dict(cloud.meta)
    return out


def _parse_records(buf: bytes) -> list[tuple[int, bytes]] | None:
    """Extension records `u32 type, u32 byteLength, payload` filling `buf` exactly, else None."""
    out, pos = [], 0
    while pos < len(buf):
        if pos + 8 > len(buf):
            return None
        typ, ln = struct.unpack_from("<II", buf, pos)
        if pos + 8 + ln > len(buf):
            return None
        out.append((typ, bytes(buf[pos + 8 : pos + 8 + ln])))
        pos += 8 + ln
    return out


def _block_sizes(n: int, sh_dim: int, version: int) -> list[int]:
    """Byte sizes of positions, alphas, colours, scales, rotations, SH."""
    rot = 3 if version < 3 else 4
    pos = 6 if version == 1 else 9
    return [n * pos, n, n * 3, n * 3, n * rot, n * sh_dim * 3]


def read_spz(path: str | Path, axes: str | None = None) -> GaussianCloud:
    """Read `.spz` versions 1-3 (gzip) and 4 (zstd; needs the `zstandard` module).

    axes: "ply" (data in the PLY frame, kept as stored), "rub" (the spec's RUB frame, as
    splat-transform/SuperSplat write: y and z flipped to the PLY frame), or None (default):
    the Adobe coordinate-system extension when the file has one, else the frame Wander's
    own record beside the file names (`spz_axes` in `scene.spz.json`, written with
    `--spz-axes rub`), else "ply".
    Returns a cloud in Wander's (PLY) frame; meta: antialiased (flag 0x1), spz_version,
    spz_axes (the frame the file was read in: "ply", "rub" or a code such as "LUF"),
    spz_axes_from (what chose it: "option", "extension", "record" or "default"),
    spz_extensions (record type ids). Raises SceneFormatError naming the file and problem.
    """
    path = Path(path)
    if axes is not None and axes not in AXES:
        raise ValueError(f"unknown .spz axes {axes!r}; choose one of {', '.join(AXES)}")
    data = read_all(path)
    if data[:2] == b"\x1f\x8b":
        cloud = _read_gzip(path, data)
    elif len(data) >= 4 and struct.unpack_from("<I", data)[0] == MAGIC:
        cloud = _read_v4(path, data)
    else:
        raise SceneFormatError(path, "not an .spz file (neither gzip data nor an NGSP header)")
    code, source = "RDF", "default"
    if axes is not None:
        code, source = ("RUB" if axes == "rub" else "RDF"), "option"
    elif cloud.meta.get("spz_coordinate_system"):
        code, source = cloud.meta["spz_coordinate_system"], "extension"
    elif _recorded_axes(path) == "rub":
        code, source = "RUB", "record"
    out = to_ply_frame(cloud, code)
    out.meta["spz_axes"] = {"RDF": "ply", "RUB": "rub"}.get(code, code)
    out.meta["spz_axes_from"] = source
    return out


def _recorded_axes(path: Path) -> str | None:
    """The `spz_axes` Wander's frame record beside `path` names ("rub"), else None. The
    record is small JSON written by `scene.export.write_frame_record`; anything else there
    (missing, unreadable, another value) is None."""
    import json

    from ..files import sidecar_path

    side = sidecar_path(path)
    try:
        if not side.is_file() or side.stat().st_size > 1 << 16:
            return None
        rec = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("no frame record read beside %s: %s", path, exc)
        return None
    if isinstance(rec, dict) and rec.get("generator") == "wander.export":
        return "rub" if rec.get("spz_axes") == "rub" else None
    return None


def _header_fields(path: Path, head: bytes) -> tuple[int, int, int, int, int]:
    magic, version, n, sh_deg, frac, flags = struct.unpack_from("<IIIBBB", head)
    if magic != MAGIC:
        raise SceneFormatError(path, "gzip data is not an .spz file (no NGSP magic)")
    if sh_deg not in SPZ_REST:
        raise SceneFormatError(path, f"unsupported SH degree {sh_deg} in .spz header")
    if frac > 24:
        raise SceneFormatError(path, f"invalid fractional bits {frac} in .spz header")
    return version, n, sh_deg, frac, flags


def _read_gzip(path: Path, data: bytes) -> GaussianCloud:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = d.decompress(data, 16)
    except zlib.error as exc:
        raise SceneFormatError(path, f"corrupt gzip data: {exc}") from None
    if len(head) < 16:
        raise SceneFormatError(path, "gzip stream ends before the 16-byte .spz header")
    version, n, sh_deg, frac, flags = _header_fields(path, head)
    if version not in (1, 2, 3):
        raise SceneFormatError(path, f"gzip .spz of version {version} is not supported (1-3)")
    sizes = _block_sizes(n, SPZ_REST[sh_deg], version)
    body = sum(sizes)
    if body > GZIP_MAX_RATIO * len(data):
        raise SceneFormatError(
            path, f"header claims {n} splats, far more than {len(data)} compressed bytes can hold"
        )
    # extension records (flag 0x2): after the blocks (Niantic's writer), or before them
    limit = body + (1 << 20 if flags & 0x2 else 0)
    try:
        rest = d.decompress(d.unconsumed_tail, limit + 1)
    except zlib.error as exc:
        raise SceneFormatError(path, f"corrupt gzip data: {exc}") from None
    if len(rest) < body:
        raise SceneFormatError(
            path,
            f"header claims {n} splats but the data holds only "
            f"{len(rest)} of {body} bytes (truncated?)",
        )
    if len(rest) > limit:
        raise SceneFormatError(
            path,
            "more data than the header's splat count accounts for (corrupt header or not an .spz)",
        )
    meta: dict[str, Any] = {}
    start = 0
    if len(rest) > body:
        extra = len(rest) - body
        records = _parse_records(rest[body:])
        if records is None:
            records = _parse_records(rest[:extra])
            start = extra
        if records is None:
            raise SceneFormatError(
                path,
                f"{extra} bytes beyond the splat data are not "
                ".spz extension records (corrupt file?)",
            )
        _read_extensions(path, records, meta)
    blocks = _split(memoryview(rest)[start : start + body], sizes)
    return _decode(path, blocks, n, sh_deg, frac, flags, version, meta)


def _read_extensions(path: Path, records: list[tuple[int, bytes]], meta: dict[str, Any]) -> None:
    """Record the extension types; read the Adobe coordinate-system one."""
    import logging

    meta["spz_extensions"] = [f"0x{t:08X}" for t, _ in records]
    for typ, payload in records:
        if typ == EXT_COORDINATE_SYSTEM and payload:
            code = _COORDINATE_SYSTEMS.get(payload[0])
            if code is None:
                logging.getLogger(__name__).warning(
                    "%s: unknown coordinate system %d in the .spz extension; kept as stored",
                    path,
                    payload[0],
                )
            else:
                meta["spz_coordinate_system"] = code


def _read_v4(path: Path, data: bytes) -> GaussianCloud:
    if len(data) < 32:
        raise SceneFormatError(path, "truncated .spz v4 header")
    magic, version, n, sh_deg, frac, flags, n_streams, toc = struct.unpack_from("<IIIBBBBI", data)
    if version != 4:
        raise SceneFormatError(path, f"uncompressed-header .spz version {version} is not supported")
    _header_fields(path, data[:16])
    try:
        import zstandard
    except ImportError:
        raise SceneFormatError(
            path, ".spz version 4 uses zstd compression: run `pip install zstandard` to read it"
        ) from None
    sizes = _block_sizes(n, SPZ_REST[sh_deg], 4)
    wanted = [s for s in sizes if s > 0]
    if n_streams != len(wanted):
        raise SceneFormatError(path, f".spz v4 has {n_streams} streams, expected {len(wanted)}")
    if toc < 32 or toc + 16 * n_streams > len(data):
        raise SceneFormatError(path, ".spz v4 table of contents lies outside the file")
    pos = toc + 16 * n_streams
    dctx = zstandard.ZstdDecompressor()
    out: list[bytes] = []
    for i, size in enumerate(wanted):
        comp, raw = struct.unpack_from("<QQ", data, toc + 16 * i)
        if raw != size:
            raise SceneFormatError(path, f".spz v4 stream {i} holds {raw} bytes, expected {size}")
        if pos + comp > len(data):
            raise SceneFormatError(path, f".spz v4 stream {i} runs past the end of the file")
        try:
            block = dctx.decompress(data[pos : pos + comp], max_output_size=size)
        except zstandard.ZstdError as exc:
            raise SceneFormatError(path, f"corrupt zstd stream {i}: {exc}") from None
        if len(block) != size:
            raise SceneFormatError(path, f".spz v4 stream {i} decompressed to the wrong size")
        out.append(block)
        pos += comp
    it = iter(out)
    blocks = [next(it) if s > 0 else b"" for s in sizes]
    return _decode(path, [memoryview(b) for b in blocks], n, sh_deg, frac, flags, 4, {})


def _split(buf: memoryview, sizes: list[int]) -> list[memoryview]:
    out, pos = [], 0
    for s in sizes:
        out.append(buf[pos : pos + s])
        pos += s
    return out


def _decode(
    path: Path,
    blocks: list[memoryview],
    n: int,
    sh_deg: int,
    frac: int,
    flags: int,
    version: int,
    meta: dict[str, Any],
) -> GaussianCloud:
    if n == 0:
        raise SceneFormatError(path, "contains no splats")
    p_b, a_b, c_b, s_b, r_b, sh_b = (np.frombuffer(b, np.uint8) for b in blocks)
    if version == 1:  # float16 positions (never released, but trivial)
        means = np.frombuffer(p_b.tobytes(), "<f2").astype(np.float32).reshape(n, 3)
    else:
        p = p_b.reshape(n * 3, 3).astype(np.int32)
        v = p[:, 0] | (p[:, 1] << 8) | (p[:, 2] << 16)
        v = (v ^ 0x800000) - 0x800000  # sign-extend 24 bits
        means = (v.astype(np.float64) / (1 << frac)).astype(np.float32).reshape(n, 3)
    opac = safe_logit(a_b.astype(np.float32) / 255.0)
    sh0 = ((c_b.astype(np.float32) / 255.0 - 0.5) / COLOR_SCALE).reshape(n, 3)
    scales = (s_b.astype(np.float32) / 16.0 - 10.0).reshape(n, 3)
    if version >= 3:
        quats = _unpack_smallest_three(r_b.reshape(n, 4))
    else:
        xyz = r_b.reshape(n, 3).astype(np.float32) / 127.5 - 1.0
        w = np.sqrt(np.maximum(0.0, 1.0 - (xyz * xyz).sum(1)))
        quats = np.concatenate([w[:, None], xyz], axis=1)
    dim = SPZ_REST[sh_deg]
    sh = ((sh_b.astype(np.float32) - 128.0) / 128.0).reshape(n, dim, 3)
    if sh_deg > 3:
        meta["warning"] = f"SH degree {sh_deg} truncated to 3"
        sh = sh[:, : REST_COEFFS[3]]
    meta["antialiased"] = bool(flags & 0x1)
    meta["spz_version"] = version
    cloud = GaussianCloud(
        means, scales, normalized_quats(quats), opac, sh0, np.ascontiguousarray(sh), meta=meta
    )
    return finish_cloud(cloud, path, "spz")


def _unpack_smallest_three(r: np.ndarray) -> np.ndarray:
    """(N, 4) bytes -> (N, 4) quaternions w x y z (the file stores x y z w)."""
    comp = (
        r[:, 0].astype(np.uint32)
        | (r[:, 1].astype(np.uint32) << 8)
        | (r[:, 2].astype(np.uint32) << 16)
        | (r[:, 3].astype(np.uint32) << 24)
    )
    largest = (comp >> 30).astype(np.int64)
    q = np.zeros((len(r), 4), np.float32)  # x y z w
    rows = np.arange(len(r))
    sum_sq = np.zeros(len(r), np.float32)
    # kept components in ascending index order; the last one sits in the lowest bits
    kept = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])[largest]  # (N, 3) ascending
    for slot in range(3):  # slot 0 = lowest bits = last (highest) kept index
        bits = (comp >> np.uint32(10 * slot)) & np.uint32(0x3FF)
        mag = (bits & 0x1FF).astype(np.float32) * np.float32(SQRT1_2 / 511.0)
        val = np.where(bits & 0x200, -mag, mag)
        q[rows, kept[:, 2 - slot]] = val
        sum_sq += val * val
    q[rows, largest] = np.sqrt(np.maximum(0.0, 1.0 - sum_sq))
    return np.concatenate([q[:, 3:4], q[:, :3]], axis=1)


# --------------------------------------------------------------------------- writing
def _quantize_sh(x: np.ndarray, bits: int) -> np.ndarray:
    bucket = 1 << (8 - bits)
    q = np.rint(np.clip(x.astype(np.float64), -8.0, 8.0) * 128.0).astype(np.int32) + 128
    q = (q + bucket // 2) // bucket * bucket
    return np.clip(q, 0, 255).astype(np.uint8)


def _pack_smallest_three(q_wxyz: np.ndarray) -> np.ndarray:
    """(N, 4) w x y z -> (N, 4) bytes, little-endian smallest-three over x y z w."""
    q = normalized_quats(q_wxyz).astype(np.float64)
    q = np.concatenate([q[:, 1:], q[:, :1]], axis=1)  # x y z w
    n = len(q)
    rows = np.arange(n)
    largest = np.argmax(np.abs(q), axis=1)
    negate = q[rows, largest] < 0
    comp = largest.astype(np.uint32)
    for i in range(4):
        keep = largest != i
        neg = ((q[:, i] < 0) ^ negate).astype(np.uint32)
        mag = np.floor(511.0 * (np.abs(q[:, i]) / SQRT1_2) + 0.5).astype(np.uint32)
        mag = np.minimum(mag, 511)
        comp = np.where(keep, (comp << np.uint32(10)) | (neg << np.uint32(9)) | mag, comp)
    return comp.astype("<u4").view(np.uint8).reshape(n, 4)


#: splats encoded per step: the payload is produced block by block, never whole
ENCODE_CHUNK = 65536


def _rub_sh_signs(k: int) -> np.ndarray:
    """(k, 1) signs turning SH coefficients between the PLY and RUB frames (a rotation by
    pi about x: every coefficient keeps or flips its sign), taken from `to_ply_frame`."""
    unit = GaussianCloud(
        np.zeros((1, 3)),
        np.zeros((1, 3)),
        np.array([[1.0, 0, 0, 0]]),
        np.zeros(1),
        np.zeros((1, 3)),
        np.ones((1, k, 3)),
    )
    signs = to_ply_frame(unit, "RUB").shN[0, :, :1]
    assert np.allclose(np.abs(signs), 1.0)
    return np.sign(signs).astype(np.float32)


def spz_payload(
    cloud: GaussianCloud,
    version: int = 3,
    sh1_bits: int = 5,
    sh_rest_bits: int = 4,
    axes: str = "ply",
) -> Iterator[bytes]:
    """THE .spz encoder: the uncompressed payload (16-byte header, then the planar blocks)
    for versions 2 and 3, yielded in pieces of at most ENCODE_CHUNK splats so a big cloud
    is never duplicated. axes="rub" writes y and z flipped (orientations and SH follow).
    Positions beyond ±2048 units keep their range with fewer fractional bits."""
    if version not in (2, 3):
        raise ValueError(f".spz write supports version 2 or 3, not {version}")
    if not (1 <= sh1_bits <= 8 and 1 <= sh_rest_bits <= 8):
        raise ValueError("SH bits must be 1..8")
    if axes not in AXES:
        raise ValueError(f"unknown .spz axes {axes!r}; choose one of {', '.join(AXES)}")
    n = len(cloud)
    m = float(np.abs(cloud.means).max()) if n else 0.0
    frac = 12
    while frac > 0 and m * (1 << frac) >= (1 << 23) - 1:
        frac -= 1  # large scenes trade precision for range rather than wrapping
    if m * (1 << frac) >= (1 << 23) - 1:
        raise ValueError("positions beyond ±8 million units cannot be stored in .spz")
    rub = axes == "rub"
    k = cloud.shN.shape[1]
    flags = 0x1 if cloud.meta.get("antialiased") else 0
    yield struct.pack("<IIIBBBB", MAGIC, version, n, cloud.sh_degree, frac, flags, 0)
    spans = [(r0, min(r0 + ENCODE_CHUNK, n)) for r0 in range(0, n, ENCODE_CHUNK)]
    for r0, r1 in spans:  # positions: 24-bit fixed point
        p = cloud.means[r0:r1].astype(np.float64) * (np.array([1.0, -1.0, -1.0]) if rub else 1.0)
        fixed = np.rint(p * (1 << frac)).astype(np.int32).reshape(-1)
        yield (
            np.stack([fixed & 0xFF, (fixed >> 8) & 0xFF, (fixed >> 16) & 0xFF], 1)
            .astype(np.uint8)
            .tobytes()
        )
    for r0, r1 in spans:
        yield (
            np.clip(np.rint(sigmoid(cloud.opacities[r0:r1]).astype(np.float64) * 255), 0, 255)
            .astype(np.uint8)
            .tobytes()
        )
    for r0, r1 in spans:
        col = np.rint(cloud.sh0[r0:r1].astype(np.float64) * (COLOR_SCALE * 255) + 127.5)
        yield np.clip(col, 0, 255).astype(np.uint8).tobytes()
    for r0, r1 in spans:
        scl = np.rint((cloud.scales[r0:r1].astype(np.float64) + 10.0) * 16.0)
        yield np.clip(scl, 0, 255).astype(np.uint8).tobytes()
    for r0, r1 in spans:
        q = cloud.quats[r0:r1]
        if rub:  # the rotation conjugated by diag(1, -1, -1): w x -y -z
            q = q * np.array([1.0, 1.0, -1.0, -1.0], np.float32)
        if version >= 3:
            yield _pack_smallest_three(q).tobytes()
        else:
            q = normalized_quats(q).astype(np.float64)
            xyz = q[:, 1:] * np.where(q[:, :1] < 0, -1.0, 1.0)
            yield np.clip(np.rint(xyz * 127.5 + 127.5), 0, 255).astype(np.uint8).tobytes()
    if k:
        signs = _rub_sh_signs(k) if rub else None
        for r0, r1 in spans:
            shn = cloud.shN[r0:r1] if signs is None else cloud.shN[r0:r1] * signs
            sh = np.empty((r1 - r0, k, 3), np.uint8)
            sh[:, :3] = _quantize_sh(shn[:, :3], sh1_bits)
            sh[:, 3:] = _quantize_sh(shn[:, 3:], sh_rest_bits)
            yield sh.tobytes()


def encode_spz(
    cloud: GaussianCloud,
    version: int = 3,
    sh1_bits: int = 5,
    sh_rest_bits: int = 4,
    axes: str = "ply",
) -> bytes:
    """`spz_payload` joined: the uncompressed .spz payload as one bytes object."""
    return b"".join(spz_payload(cloud, version, sh1_bits, sh_rest_bits, axes))


def encode_spz_file(
    cloud: GaussianCloud,
    fh: BinaryIO,
    *,
    version: int = 3,
    axes: str = "ply",
    path: str | Path | None = None,
    **options: Any,
) -> None:
    """`.spz` (gzip container around `spz_payload`) into `fh`, streamed.

    axes: "ply" (default: data as Wander holds it, the PLY frame, as Niantic's CLI writes)
    or "rub" (y and z flipped, the frame splat-transform/SuperSplat expect). The
    antialiased flag (0x1) is set from `cloud.meta["antialiased"]`. Options: sh1_bits,
    sh_rest_bits (1..8), compresslevel. Raises ValueError for bad options.
    """
    unknown = set(options) - {"sh1_bits", "sh_rest_bits", "compresslevel"}
    if unknown:
        raise ValueError(f"unknown .spz write options: {', '.join(sorted(unknown))}")
    if axes not in AXES:
        raise ValueError(f"unknown .spz axes {axes!r}; choose one of {', '.join(AXES)}")
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write a cloud with no splats")
    validate_finite(cloud)
    level = int(options.pop("compresslevel", 6))
    # zlib's own gzip wrapper (mtime 0, no name), as gzip.compress(..., mtime=0) writes:
    # the same cloud always gives the same bytes
    z = zlib.compressobj(level, zlib.DEFLATED, 31)
    for part in spz_payload(cloud, version, axes=axes, **options):
        fh.write(z.compress(part))
    fh.write(z.flush())


def write_spz(cloud: GaussianCloud, path: str | Path, **options: Any) -> None:
    """`encode_spz_file` into `path`, atomically (options as there)."""
    with atomic_write(path) as f:
        encode_spz_file(cloud, f, path=path, **options)
