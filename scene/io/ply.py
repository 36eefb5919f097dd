"""3DGS PLY: the reference Gaussian-splat layout (also written by gsplat, nerfstudio, SuperSplat).

Vertex properties: x y z [nx ny nz] f_dc_0..2 f_rest_0..(3K-1) opacity scale_0..2 rot_0..3,
with `rot` = w x y z and `f_rest` channel-major (all R coefficients, then G, then B).
Any order, any scalar types, extra properties ignored; binary little/big endian and ASCII.
Binary data is read with one memory map and copied out per attribute group.

A PLY with only x y z (+ colour) becomes small round Gaussians (a point cloud), and a
PLY with faces is a mesh (see `mesh_io`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import InvalidSceneError, SceneFormatError
from ..files import atomic_write
from ..gaussians import GaussianCloud
from ..mesh import Mesh
from ..sh import REST_COEFFS
from ._common import check_readable, finish_cloud, read_exact, validate_finite
from .plyheader import (
    MAX_HEADER,
    PlyElement,
    PlyHeader,
    ascii_element_rows,
    binary_offsets,
    parse_header,
    read_header_bytes,
)

SPLAT_REQUIRED = [
    "x",
    "y",
    "z",
    "f_dc_0",
    "f_dc_1",
    "f_dc_2",
    "opacity",
    "scale_0",
    "scale_1",
    "scale_2",
    "rot_0",
    "rot_1",
    "rot_2",
    "rot_3",
]
_SPLAT_MARKERS = {"f_dc_0", "opacity", "scale_0", "rot_0"}


#: the header comment splat tools write for a mip-splatting (antialiased) scene
AA_COMMENT = "SplatRenderMode: mip"


def is_antialiased_header(header: PlyHeader) -> bool:
    """True when a PLY header carries `comment SplatRenderMode: mip` (antialiased scene)."""
    return any(c.replace(" ", "").lower() == "splatrendermode:mip" for c in header.comments)


#: the header comment that says a scene's last N splats are its far field (a
#: reconstruction's sky sphere, `meta["far_field"]`); other tools ignore it
FAR_FIELD_COMMENT = "Wander far_field: last {} splats"


def far_field_count(header: PlyHeader, n: int) -> int:
    """N from a `FAR_FIELD_COMMENT` in the header, when 0 < N < n (else 0: absent or not
    believable, a crafted file gets no say)."""
    return _marked_count(header, FAR_FIELD_COMMENT, n)


#: the header comment that says the N splats just before the far field are a
#: reconstruction's backdrop ground discs (`meta["backdrop"]["ground_discs"]`,
#: generators/reconstruct/ground_fill.py): without it a scene reopened from its PLY lost
#: them, and the walk's landing and the app's out-of-view hint with them
BACKDROP_COMMENT = "Wander backdrop: {} ground discs before the far field"


def _marked_count(header: PlyHeader, template: str, limit: int) -> int:
    """N from a header comment of `template` ("... {} ..."), when 0 < N < limit (else 0:
    absent or not believable, a crafted file gets no say)."""
    head, _, tail = template.partition("{}")
    for c in header.comments:
        c = c.strip()
        if c.startswith(head) and c.endswith(tail):
            num = c[len(head) : len(c) - len(tail)].strip()
            # (a count of thousands of digits made int() raise: Python's digit limit)
            if num.isdigit() and len(num) <= 18 and 0 < int(num) < limit:
                return int(num)
    return 0


def _with_far_field(cloud: GaussianCloud, header: PlyHeader) -> GaussianCloud:
    """`cloud` with its header's far field (`FAR_FIELD_COMMENT`) and backdrop discs
    (`BACKDROP_COMMENT`, only with a far field) marked in its meta."""
    count = far_field_count(header, len(cloud))
    if count:
        cloud.meta["far_field"] = {"count": count}
        discs = _marked_count(header, BACKDROP_COMMENT, len(cloud) - count + 1)
        if discs:
            cloud.meta["backdrop"] = {"ground_discs": discs}
    return cloud


def is_compressed_header(header: PlyHeader) -> bool:
    """True for PlayCanvas / SuperSplat compressed PLY (chunk element + packed_position)."""
    v = header.element("vertex")
    return (
        header.element("chunk") is not None
        and v is not None
        and v.prop("packed_position") is not None
    )


def read_ply(path: str | Path) -> GaussianCloud | Mesh:
    """Read any PLY: 3DGS splats, compressed splats, a coloured point cloud or a mesh."""
    path = Path(path)
    check_readable(path)
    size = path.stat().st_size
    if size == 0:
        raise SceneFormatError(path, "file is empty")
    header = parse_header(read_header_bytes(path), path)
    if is_compressed_header(header):
        from .ply_compressed import read_compressed_with_header

        return read_compressed_with_header(path, header, size)
    face = header.element("face")
    if face is not None and face.count > 0:
        from .mesh_io import read_mesh

        return read_mesh(path)
    vertex = header.element("vertex")
    if vertex is None:
        raise SceneFormatError(path, "PLY has no 'vertex' element, so no splats or points")
    if vertex.count == 0:
        raise SceneFormatError(path, "contains no splats (the PLY has 0 vertices)")
    names = set(vertex.names())
    if names & _SPLAT_MARKERS:
        missing = [n for n in SPLAT_REQUIRED if n not in names]
        if _colour_trio(names) is not None:  # nerfstudio --ply-color-mode rgb: red green blue
            missing = [n for n in missing if not n.startswith("f_dc_")]
        if missing:
            raise SceneFormatError(
                path, "3DGS PLY lacks required properties: " + ", ".join(missing)
            )
        table = _VertexTable(path, header, vertex, size)
        cloud = _splats_from_table(table, names, path, vertex)
        if is_antialiased_header(header):
            cloud.meta["antialiased"] = True
        return finish_cloud(_with_far_field(cloud, header), path, "ply")
    if not {"x", "y", "z"} <= names:
        raise SceneFormatError(path, "PLY vertices have no x, y, z positions")
    table = _VertexTable(path, header, vertex, size)
    return finish_cloud(points_to_cloud(table, names, path, vertex), path, "ply")


def _read_into(fh: BinaryIO, view: memoryview, source: Path | str) -> None:
    """Fill `view` from `fh` (short reads repeated); SceneFormatError when the data ends."""
    got = 0
    while got < len(view):
        n = fh.readinto(view[got:])
        if not n:
            raise SceneFormatError(
                source, f"the vertex data ends after {got:,} of {len(view):,} bytes of a block"
            )
        got += n


class _VertexTable:
    """Column access to the vertex element without materialising a structured array.

    Binary files are not held whole: `extract` reads them block by block (each worker
    reads its own rows), so reading costs the output arrays plus a few 4 MB blocks.
    `take` / `mat` (point clouds, ASCII, in-memory data) hold the whole table.
    """

    BLOCK = 16384  # rows per block: a few MB for any splat layout

    def __init__(
        self,
        path: Path,
        header: PlyHeader,
        vertex: PlyElement,
        size: int,
        data: bytes | bytearray | None = None,
        stream: BinaryIO | None = None,
    ) -> None:
        """data: the whole file in memory (else `path` is read). stream: a binary file
        positioned at the first vertex row (a zip member); rows are then read from it in
        order, once (binary PLY whose first element is the vertex element)."""
        self.path, self.n = path, vertex.count
        self.vertex, self.data, self.order = vertex, data, header.byte_order
        self.stream, self._next = stream, 0
        self.index = {p.name: i for i, p in enumerate(vertex.properties)}
        codes = {p.dtype for p in vertex.properties}
        self.code = codes.pop() if len(codes) == 1 else None  # one type for every property
        self._mat: np.ndarray | None = None
        if header.format == "ascii":
            if data is not None:
                body = bytes(data[header.data_offset :])
            else:
                with open(path, "rb") as f:
                    f.seek(header.data_offset)
                    body = f.read()
            self._mat = ascii_element_rows(header, body, path, "vertex")  # (N, P) float64
            return
        offsets = binary_offsets(header, size, path, ["vertex"])
        if "vertex" not in offsets:
            raise SceneFormatError(
                path, "cannot locate the vertex data: it follows an element with list properties"
            )
        self.offset = offsets["vertex"]
        self.rowdt = vertex.row_dtype(header.byte_order)

    def rows(self, r0: int, r1: int) -> np.ndarray:
        """Rows r0..r1 as an (r1 - r0, P) matrix (the file's type when it has one, else float32)."""
        if self._mat is not None:
            return self._mat[r0:r1]
        size = self.rowdt.itemsize
        if self.stream is not None:
            if r0 != self._next:
                raise RuntimeError(f"stream rows read out of order: {r0} after {self._next}")
            raw = np.empty((r1 - r0) * size, np.uint8)
            _read_into(self.stream, memoryview(raw), self.path)
            self._next = r1
        elif self.data is not None:
            raw = np.frombuffer(self.data, np.uint8, (r1 - r0) * size, self.offset + r0 * size)
        else:
            raw = read_exact(self.path, self.offset + r0 * size, (r1 - r0) * size)
        p = len(self.vertex.properties)
        if self.code is not None:
            return raw.view(self.order + self.code).reshape(r1 - r0, p)
        rec = raw.view(self.rowdt)
        m = np.empty((r1 - r0, p), np.float32)
        for i, prop in enumerate(self.vertex.properties):
            m[:, i] = rec[prop.name]
        return m

    @property
    def mat(self) -> np.ndarray:
        """The whole (N, P) table (read on first use)."""
        if self._mat is None:
            self._mat = self.rows(0, self.n)
        return self._mat

    def _idx(self, names: list[str]) -> list[int] | slice:
        idx = [self.index[n] for n in names]
        if idx and idx == list(range(idx[0], idx[0] + len(idx))):
            return slice(idx[0], idx[0] + len(idx))
        return idx

    def _cols(self, names: list[str]) -> np.ndarray:
        """(N, len(names)) view of the columns: a slice when they are adjacent."""
        return self.mat[:, self._idx(names)]

    def take(self, names: list[str]) -> np.ndarray:
        """Columns `names` as a new C-contiguous float32 array, (N, len(names))."""
        return np.array(self._cols(names), dtype=np.float32, order="C")

    def extract(
        self, groups: dict[str, tuple[list[str], int]], consume: bool = False
    ) -> tuple[dict[str, np.ndarray], int]:
        """Copy column groups into new float32 arrays, block by block.

        groups: output name -> (column names, sh_k). sh_k = 0 gives an (N, C) array; sh_k > 0
        treats the C = 3·sh_k channel-major columns as SH and gives (N, sh_k, 3); sh_k = -1
        only counts the rows holding NaN/inf (nothing kept).
        Blocks of rows are read and copied out on a few threads (numpy and file reads
        release the GIL); only the blocks in flight are held besides the outputs.
        A stream table reads its blocks in order on this thread.
        consume=True (binary data held in a bytearray): blocks are decoded from the last to
        the first and the bytearray is cut after each, so the rows decoded are released
        while the output (whose untouched pages are not yet resident) fills: decoding costs
        about the size of the data once, not twice.
        Returns the arrays and the number of rows holding NaN/inf.
        """
        n = self.n
        sel, outs = {}, {}
        for name, (cols, k) in groups.items():
            if k < 0:  # checked for NaN/inf, not kept
                sel[name] = self._idx(cols)
                continue
            if k:  # one (N, k) selection per colour channel: channel-by-channel copies are ~2x
                # faster than one copy through a transposed (N, k, 3) view
                sel[name] = [self._idx(cols[c * k : (c + 1) * k]) for c in range(3)]
                outs[name] = np.empty((n, k, 3), np.float32)
            else:
                sel[name] = self._idx(cols) if cols else None
                outs[name] = np.empty((n, len(cols)), np.float32)

        def work(r0: int, r1: int) -> int:
            block = self.rows(r0, r1)
            bad = None
            for name, s in sel.items():
                if groups[name][1] < 0:
                    out = np.asarray(block[:, s], np.float32)
                else:
                    out = outs[name][r0:r1]
                if groups[name][1] > 0:
                    for c, ch in enumerate(s):
                        out[:, :, c] = block[:, ch]
                elif s is not None:
                    out[...] = block[:, s]
                flat = out.reshape(r1 - r0, -1)
                # a finite float64 sum proves every element finite; only then skip the exact check
                with np.errstate(invalid="ignore", over="ignore"):
                    finite = np.isfinite(np.add.reduce(flat, axis=None, dtype=np.float64))
                if flat.size and not finite:
                    rows = ~np.isfinite(flat).all(axis=1)
                    bad = rows if bad is None else bad | rows
            return 0 if bad is None else int(bad.sum())

        block = self.BLOCK
        if self.stream is not None and self._mat is None:  # ~1 MB reads: a zip member's
            block = max(1, min(block, (1 << 20) // self.rowdt.itemsize))  # copies stay small
        spans = [(r0, min(r0 + block, n)) for r0 in range(0, n, block)]
        if consume and isinstance(self.data, bytearray) and self._mat is None:
            bad = 0
            for r0, r1 in reversed(spans):
                bad += work(r0, r1)
                del self.data[self.offset + r0 * self.rowdt.itemsize :]
            return outs, bad
        workers = min(4, os.cpu_count() or 1, len(spans))
        if self.stream is not None and self._mat is None:
            return outs, sum(work(*sp) for sp in spans)
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                bad = sum(pool.map(lambda sp: work(*sp), spans))
        else:
            bad = sum(work(*sp) for sp in spans)
        return outs, bad


_COLOR_NAMES = (
    ("red", "green", "blue"),
    ("r", "g", "b"),
    ("diffuse_red", "diffuse_green", "diffuse_blue"),
)
#: the largest stored value of each integer PLY colour type (floats are 0..1 already)
_COLOUR_MAX = {
    "u1": 255.0,
    "i1": 127.0,
    "u2": 65535.0,
    "i2": 32767.0,
    "u4": 4294967295.0,
    "i4": 2147483647.0,
}
#: opacity logits standing for opacity 1 / 0 (sigmoid(±20) is 1 within float32); log-scale
#: for "zero size"
_LOGIT_ONE, _LOG_SCALE_ZERO = 20.0, -30.0


def _colour_trio(names: set[str]) -> tuple[str, str, str] | None:
    for trio in _COLOR_NAMES:
        if set(trio) <= names:
            return trio
    return None


def _colours_01(
    t: _VertexTable, trio: tuple[str, str, str], vertex: PlyElement, raw: np.ndarray | None = None
) -> np.ndarray:
    """(N, 3) float32 colours in 0..1, scaled by each property's declared type: integer
    types by their largest value (uchar / 255), float types taken as 0..1 and clipped.
    raw: the trio's columns already extracted (else they are taken from `t`)."""
    c = (t.take(list(trio)) if raw is None else raw).astype(np.float64)
    for j, name in enumerate(trio):
        prop = vertex.prop(name)
        code = prop.dtype.lstrip("<>=|") if prop is not None else "f4"
        if code in _COLOUR_MAX:
            c[:, j] /= _COLOUR_MAX[code]
    return np.clip(np.nan_to_num(c, nan=0.0), 0.0, 1.0).astype(np.float32)


def _splats_from_table(
    t: _VertexTable, names: set[str], path: Path, vertex: PlyElement
) -> GaussianCloud:
    """The 3DGS splats of a vertex table.

    The colour term comes from `f_dc_0..2`, or, in nerfstudio's `--ply-color-mode rgb`
    layout, from `red green blue` (scaled by property type): f_dc = (rgb - 0.5) / C0.
    Rows that cannot be drawn (NaN anywhere; ±inf in a position, rotation, colour or SH;
    +inf log-scale) are dropped, and counted in `meta["warning"]` and a logged warning;
    well-defined infinities are clamped: opacity logit ±inf -> opacity 1 / 0, log-scale
    -inf -> zero size. Raises SceneFormatError when no drawable row is left.
    """
    rest = sorted(
        (n for n in names if n.startswith("f_rest_")),
        key=lambda s: int(s[7:]) if s[7:].isdigit() else -1,
    )
    m = len(rest)
    if rest and rest != [f"f_rest_{i}" for i in range(m)]:
        raise SceneFormatError(
            path, f"f_rest properties are not numbered f_rest_0..f_rest_{m - 1} without gaps"
        )
    if m % 3:
        raise SceneFormatError(path, f"{m} f_rest properties is not a multiple of 3 (RGB)")
    k_file = m // 3
    deg = max(d for d, kk in REST_COEFFS.items() if kk <= k_file)
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    if REST_COEFFS[deg] != k_file:
        warnings.append(f"{k_file} SH coefficients per channel; kept SH degree {deg}")
    kd = REST_COEFFS[deg]
    rest_cols = [f"f_rest_{c * k_file + j}" for c in range(3) for j in range(kd)]
    dc = ["f_dc_0", "f_dc_1", "f_dc_2"]
    rgb_trio = None if set(dc) <= names else _colour_trio(names)
    arrays, bad = t.extract(
        {
            "means": (["x", "y", "z"], 0),
            "scales": (["scale_0", "scale_1", "scale_2"], 0),
            "quats": (["rot_0", "rot_1", "rot_2", "rot_3"], 0),
            "opacities": (["opacity"], 0),
            "sh0": (dc if rgb_trio is None else [], 0),
            "shN": (rest_cols, kd),
            **({"rgb": (list(rgb_trio), 0)} if rgb_trio is not None else {}),
        }
    )
    if rgb_trio is not None:
        from ..sh import C0

        rgb = _colours_01(t, rgb_trio, vertex, arrays.pop("rgb"))
        arrays["sh0"] = ((rgb - 0.5) / C0).astype(np.float32)
        meta["colour_from"] = "rgb"
    if kd == 0:
        arrays["shN"] = np.zeros((t.n, 0, 3), np.float32)
    arrays["opacities"] = arrays["opacities"].reshape(-1)
    if bad:
        arrays, dropped, clamped = _clean_rows(arrays)
        if dropped:
            warnings.append(
                f"dropped {dropped} of {t.n} splats with NaN or infinite values "
                "that cannot be drawn"
            )
        if clamped:
            warnings.append(
                f"clamped {clamped} infinite opacities / log-scales "
                "(opacity ±inf -> 1 / 0, log-scale -inf -> zero size)"
            )
        if dropped == t.n:
            raise SceneFormatError(path, f"all {t.n} splats have NaN or infinite values")
    if warnings:
        meta["warning"] = "; ".join(warnings)
        logging.getLogger(__name__).warning("%s: %s", path, meta["warning"])
    cloud = GaussianCloud(**arrays, meta=meta)
    cloud.meta["finite_checked"] = True
    return cloud


def _clean_rows(a: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int, int]:
    """Clamp well-defined infinities, drop rows that still hold NaN/inf.
    Returns (arrays, rows dropped, values clamped)."""
    op, sc = a["opacities"], a["scales"]
    clamped = int(np.isinf(op).sum() + np.isneginf(sc).sum())
    op = np.where(np.isposinf(op), _LOGIT_ONE, np.where(np.isneginf(op), -_LOGIT_ONE, op))
    sc = np.where(np.isneginf(sc), _LOG_SCALE_ZERO, sc)
    a = {**a, "opacities": op.astype(np.float32), "scales": sc.astype(np.float32)}
    n = len(op)
    ok = np.ones(n, bool)
    for arr in a.values():
        ok &= np.isfinite(arr.reshape(n, -1)).all(axis=1)
    dropped = int(n - ok.sum())
    if dropped:
        a = {k: np.ascontiguousarray(v[ok]) for k, v in a.items()}
    return a, dropped, clamped


def ply_splat_summary(path: str | Path) -> tuple[GaussianCloud, int] | None:
    """What `info` needs from a binary 3DGS splat PLY without loading its splats: a cloud
    holding only the positions (other attributes zero; meta antialiased as the header says)
    and the SH degree, with the far-field marker (`meta["far_field"]`) as the full reader
    reads it. Every column is streamed once to count undrawable rows; None when
    the full reader is needed to say what it would do (ASCII, compressed, point cloud,
    mesh, NaN/inf rows, an unusual SH count)."""
    path = Path(path)
    header = parse_header(read_header_bytes(path), path)
    vertex, face = header.element("vertex"), header.element("face")
    if (
        header.format == "ascii"
        or is_compressed_header(header)
        or vertex is None
        or vertex.count == 0
        or (face is not None and face.count > 0)
    ):
        return None
    names = set(vertex.names())
    rest = [n for n in names if n.startswith("f_rest_")]
    if (
        not names & _SPLAT_MARKERS
        or any(n not in names for n in SPLAT_REQUIRED)
        or len(rest) % 3
        or len(rest) // 3 not in REST_COEFFS.values()
    ):
        return None
    t = _VertexTable(path, header, vertex, path.stat().st_size)
    others = [p for p in vertex.names() if p not in ("x", "y", "z")]
    arrays, bad = t.extract({"means": (["x", "y", "z"], 0), "rest": (others, -1)})
    if bad:
        return None
    n = vertex.count
    cloud = GaussianCloud(
        arrays["means"],
        np.zeros((n, 3), np.float32),
        np.tile(np.array([1, 0, 0, 0], np.float32), (n, 1)),
        np.zeros(n, np.float32),
        np.zeros((n, 3), np.float32),
        meta={"antialiased": True} if is_antialiased_header(header) else {},
    )
    degree = max(d for d, kk in REST_COEFFS.items() if kk == len(rest) // 3)
    # the far-field marker too: without it `info` counted the far field by distance alone
    # (9,291 of a reconstruction's 10,213 marked splats) and framed another scene box
    # than the viewer does
    return _with_far_field(cloud, header), degree


def points_to_cloud(
    t: _VertexTable, names: set[str], path: Path, vertex: PlyElement
) -> GaussianCloud:
    """A plain point cloud (x y z [+ colour]) -> small round Gaussians.

    Colours are scaled by their property type (uchar 0..255, ushort 0..65535, float 0..1,
    clipped), never guessed from the largest value.

    Each point's size is the mean distance to its 3 nearest neighbours, clamped to
    0.25..4x the median of that distance, so sparse and dense regions both look solid.
    """
    from scipy.spatial import cKDTree

    pts = t.take(["x", "y", "z"])  # (N, 3)
    colors = np.full((len(pts), 3), 0.7, np.float32)
    trio = _colour_trio(names)
    if trio is not None:
        colors = _colours_01(t, trio, vertex)
    ok = np.isfinite(pts).all(axis=1)
    warning = None
    if not ok.all():
        if not ok.any():
            raise SceneFormatError(path, f"all {len(pts)} points have NaN or infinite positions")
        warning = f"dropped {int((~ok).sum())} of {len(pts)} points with NaN or infinite positions"
        logging.getLogger(__name__).warning("%s: %s", path, warning)
        pts, colors = np.ascontiguousarray(pts[ok]), np.ascontiguousarray(colors[ok])
    n = len(pts)
    if n > 1:
        k = min(4, n)
        d, _ = cKDTree(pts).query(pts, k=k)
        d = d[:, 1:].mean(axis=1)
        med = float(np.median(d))
        if med <= 0:
            med = float(d.max()) or 0.01
        size = np.clip(d, 0.25 * med, 4.0 * med)
    else:
        size = np.full(n, 0.01)
    size = np.maximum(size, 1e-7).astype(np.float32)
    cloud = GaussianCloud.from_points(
        pts, colors, np.repeat(size[:, None] * 0.5, 3, axis=1), opacity=0.9
    )
    cloud.meta["converted_from"] = "point cloud"
    if warning:
        cloud.meta["warning"] = warning
    return cloud


# --------------------------------------------------------------------------- writing
def ply_property_names(sh_rest: int) -> list[str]:
    """The reference 3DGS vertex property order for `sh_rest` coefficients per channel."""
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(3 * sh_rest)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


def encode_ply(
    cloud: GaussianCloud,
    fh: BinaryIO,
    *,
    comments: Sequence[str] = (),
    path: str | Path | None = None,
    check: bool = True,
) -> None:
    """THE 3DGS PLY encoder: binary little-endian float32, reference names and order.

    Writes to an open binary file `fh` (a temp file, a zip member...). Properties:
    x y z nx ny nz f_dc_0..2 f_rest_0..3K-1 (channel-major) opacity scale_0..2 rot_0..3
    (w x y z), one float32 each. `comment SplatRenderMode: mip` marks an antialiased
    cloud (`meta["antialiased"]`), FAR_FIELD_COMMENT its far field (`meta["far_field"]`:
    the last N splats); `comments` adds more header comments (one line each).
    Rows are written block by block from one reused buffer, so memory stays O(block).
    Raises SceneFormatError for an empty cloud, InvalidSceneError for NaN/inf values
    (check=False writes values as they are: a project keeps what its layer holds).
    """
    if check:
        if len(cloud) == 0:
            raise SceneFormatError(path, "cannot write a cloud with no splats")
        validate_finite(cloud)
    n, k = len(cloud), cloud.shN.shape[1]
    names = ply_property_names(k)
    block = max(1, min(n, 16384))
    buf = np.zeros((block, len(names)), dtype="<f4")  # (B, P); nx ny nz stay 0
    j = 9 + 3 * k
    fh.write(ply_header(cloud, comments))
    for r0 in range(0, n, block):
        r1 = min(r0 + block, n)
        b = buf[: r1 - r0]
        b[:, 0:3] = cloud.means[r0:r1]
        b[:, 6:9] = cloud.sh0[r0:r1]
        for c in range(3):  # f_rest is channel-major
            b[:, 9 + c * k : 9 + (c + 1) * k] = cloud.shN[r0:r1, :, c]
        b[:, j] = cloud.opacities[r0:r1]
        b[:, j + 1 : j + 4] = cloud.scales[r0:r1]
        b[:, j + 4 : j + 8] = cloud.quats[r0:r1]
        fh.write(b.data if b.flags.c_contiguous else b.tobytes())


def ply_header(cloud: GaussianCloud, comments: Sequence[str] = ()) -> bytes:
    """The header `encode_ply` writes for `cloud` (UTF-8, through `end_header\\n`)."""
    header = ["ply", "format binary_little_endian 1.0"]
    if cloud.meta.get("antialiased"):
        header.append(f"comment {AA_COMMENT}")
    count = cloud.far_field_marked()
    if 0 < count < len(cloud):
        header.append("comment " + FAR_FIELD_COMMENT.format(count))
        discs = cloud.backdrop_discs()
        if discs:
            header.append("comment " + BACKDROP_COMMENT.format(discs))
    for c in comments:
        header.append("comment " + str(c).replace("\r", " ").replace("\n", " "))
    header.append(f"element vertex {len(cloud)}")
    header += [f"property float {name}" for name in ply_property_names(cloud.shN.shape[1])]
    header.append("end_header\n")
    return "\n".join(header).encode("utf-8")


def ply_size(cloud: GaussianCloud, comments: Sequence[str] = ()) -> int:
    """Exact bytes `encode_ply` writes for `cloud`: header + N rows of float32."""
    return len(ply_header(cloud, comments)) + len(cloud) * 4 * (17 + 3 * cloud.shN.shape[1])


def write_ply(cloud: GaussianCloud, path: str | Path, **options: Any) -> None:
    """`encode_ply` into `path`, atomically (options: comments)."""
    with atomic_write(path) as f:
        encode_ply(cloud, f, path=path, **options)


def ply_bytes(cloud: GaussianCloud, progress: Any = None, **options: Any) -> bytes:
    """`encode_ply` into memory, values as they are (check=False): a project's layer.
    `progress` (scene/progress.py) hears the rows encoded; `Cancelled` stops it."""
    import io

    buf = io.BytesIO()
    out: Any = buf
    if progress is not None:
        from ..progress import ProgressWriter, as_progress

        n, k = len(cloud), cloud.shN.shape[1]
        out = ProgressWriter(buf, as_progress(progress), 1024 + n * 4 * (17 + 3 * k))
    encode_ply(cloud, out, check=False, **options)
    return buf.getvalue()


def read_ply_bytes(
    data: bytes | bytearray, source: str | Path | None = None, *, consume: bool = False
) -> GaussianCloud:
    """A 3DGS PLY held in memory (a project's layer), values exactly as stored.

    Unlike `read_ply`, rows holding NaN/inf are kept (the caller decides what to drop and
    how to say so). Any property order and scalar type, binary or ASCII.
    consume=True with a bytearray: the bytearray is cut down to the header while the rows
    are decoded (peak memory about one copy of the data; do not use it afterwards).
    Raises SceneFormatError for anything that is not a 3DGS splat PLY.
    """
    header = parse_header(bytes(data[:MAX_HEADER]), source or "PLY data")
    vertex = _layer_vertex(header, source)
    t = _VertexTable(Path(str(source or "PLY data")), header, vertex, len(data), data=data)
    return _layer_cloud(header, vertex, t, source, consume)


def read_ply_stream(
    head: bytes, fh: BinaryIO, size: int, source: str | Path | None = None
) -> GaussianCloud:
    """`read_ply_bytes` for a PLY read from a stream (a zip member), values as stored.

    head: the header, through `end_header\\n`; fh: the rest, positioned at the first data
    byte; size: the bytes head + fh hold. Binary rows of a PLY whose first element is the
    vertex element are decoded block by block straight into the output arrays, so memory
    is the arrays plus a block; anything else (ASCII, another element first) is read into
    memory and handed to `read_ply_bytes`. Reads exactly the vertex rows from `fh` (the
    caller reads or checks what follows). Raises SceneFormatError as `read_ply_bytes`
    does, and when `fh` ends early.
    """
    header = parse_header(bytes(head[:MAX_HEADER]), source or "PLY data")
    first = header.elements[0] if header.elements else None
    if (
        header.format == "ascii"
        or header.data_offset != len(head)
        or first is None
        or first.name != "vertex"
    ):
        rest = bytearray(head)
        rest += fh.read(max(size - len(head), 0))
        return read_ply_bytes(rest, source, consume=True)
    vertex = _layer_vertex(header, source)
    t = _VertexTable(Path(str(source or "PLY data")), header, vertex, size, stream=fh)
    return _layer_cloud(header, vertex, t, source, False)


def _layer_vertex(header: PlyHeader, source: str | Path | None) -> PlyElement:
    """The vertex element of a layer's PLY, checked to hold every splat property."""
    vertex = header.element("vertex")
    if vertex is None:
        raise SceneFormatError(source, "PLY has no vertex element")
    names = set(vertex.names())
    missing = [p for p in SPLAT_REQUIRED if p not in names]
    if missing:
        raise SceneFormatError(source, f"PLY lacks splat property {missing[0]}")
    return vertex


def _layer_cloud(
    header: PlyHeader,
    vertex: PlyElement,
    t: _VertexTable,
    source: str | Path | None,
    consume: bool,
) -> GaussianCloud:
    """The splats of a layer's vertex table, values as stored."""
    names = set(vertex.names())
    rest = sorted(
        (p for p in names if p.startswith("f_rest_")),
        key=lambda p: int(p[7:]) if p[7:].isdigit() else -1,
    )
    k = len(rest) // 3
    if len(rest) % 3 or (rest and rest != [f"f_rest_{i}" for i in range(len(rest))]):
        raise SceneFormatError(
            source, f"{len(rest)} f_rest properties are not 3 numbered channels of SH coefficients"
        )
    aa = is_antialiased_header(header)
    arrays, _ = t.extract(
        {
            "means": (["x", "y", "z"], 0),
            "scales": (["scale_0", "scale_1", "scale_2"], 0),
            "quats": (["rot_0", "rot_1", "rot_2", "rot_3"], 0),
            "opacities": (["opacity"], 0),
            "sh0": (["f_dc_0", "f_dc_1", "f_dc_2"], 0),
            "shN": (rest, k),
        },
        consume=consume,
    )
    if not k:
        arrays["shN"] = np.zeros((t.n, 0, 3), np.float32)
    arrays["opacities"] = arrays["opacities"].reshape(-1)
    try:
        cloud = GaussianCloud(**arrays, meta={"antialiased": True} if aa else {})
        return _with_far_field(cloud, header)
    except InvalidSceneError as exc:
        raise SceneFormatError(source, str(exc)) from None
