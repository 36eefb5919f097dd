"""Reading and writing splat and mesh files, chosen by extension and checked by content.

    load(path, format=None) -> GaussianCloud | Mesh
    load_cloud(path)        -> GaussianCloud (a mesh file is a clear error)
    save(obj, path, format=None, **options)   atomic: temp file + rename
    sniff(path) -> str      format from magic bytes / header ("unknown" if none)
    file_info(path) -> dict count, SH degree, bounds, format, file size (mesh: vertices/faces)
    FORMATS                 name -> Format(extensions, reader, writer, description)

Every reader raises `SceneFormatError` (naming the file and the problem) for bad input.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from typing import Any, Callable, NamedTuple

from ..errors import SceneFormatError
from ..gaussians import GaussianCloud
from ..mesh import Mesh
from ._common import check_readable
from .colmap import read_colmap, write_colmap, write_colmap_text
from .mesh_io import read_mesh, write_mesh
from .ply import read_ply, write_ply
from .ply_compressed import read_ply_compressed, write_ply_compressed
from .splat import read_splat, write_splat
from .spz import read_spz, write_spz

__all__ = ["FORMATS", "Format", "file_info", "format_for_path", "load", "load_cloud",
           "read_colmap", "save", "sniff", "write_colmap", "write_colmap_text"]


class Format(NamedTuple):
    extensions: tuple[str, ...]
    reader: Callable[[Path], GaussianCloud | Mesh]
    writer: Callable[..., None] | None
    description: str
    kind: str  # "cloud" or "mesh" (what the writer takes)


def _mesh_reader(ftype: str) -> Callable[[Path], Mesh]:
    return lambda p: read_mesh(p, ftype)


def _mesh_writer(ftype: str) -> Callable[..., None]:
    return lambda m, p, **o: write_mesh(m, p, ftype, **o)


FORMATS: dict[str, Format] = {
    "ply": Format((".ply",), read_ply, write_ply,
                  "3DGS PLY (reference layout; SH 0-3; also reads point clouds and meshes)", "cloud"),
    "ply_compressed": Format((".compressed.ply",), read_ply_compressed, write_ply_compressed,
                             "PlayCanvas/SuperSplat compressed PLY", "cloud"),
    "splat": Format((".splat",), read_splat, write_splat, "antimatter15 .splat (no SH)", "cloud"),
    "spz": Format((".spz",), read_spz, write_spz, "Niantic .spz (gzip v2/v3; zstd v4 read)", "cloud"),
    "glb": Format((".glb",), _mesh_reader("glb"), _mesh_writer("glb"), "glTF binary mesh", "mesh"),
    "gltf": Format((".gltf",), _mesh_reader("gltf"), None, "glTF JSON mesh (read only)", "mesh"),
    "obj": Format((".obj",), _mesh_reader("obj"), _mesh_writer("obj"), "Wavefront OBJ mesh", "mesh"),
    "mesh_ply": Format((), _mesh_reader("ply"), _mesh_writer("ply"), "PLY mesh (faces)", "mesh"),
}


def format_for_path(path: str | Path) -> str | None:
    """Format name implied by a file name (longest matching extension), or None."""
    name = Path(path).name.lower()
    best, best_len = None, 0
    for fmt, spec in FORMATS.items():
        for ext in spec.extensions:
            if name.endswith(ext) and len(ext) > best_len:
                best, best_len = fmt, len(ext)
    return best


def sniff(path: str | Path) -> str:
    """Format name from a file's first bytes.

    Splat/mesh formats: "ply", "ply_compressed", "mesh_ply", "spz", "glb", "gltf", "obj";
    recognisable non-scene files: "png", "jpeg", "zip", "gzip", "text"; else "unknown"
    (.splat has no magic number, so it sniffs as "unknown").
    """
    path = Path(path)
    check_readable(path)
    with open(path, "rb") as f:
        head = f.read(4096)
    if head.startswith(b"ply"):
        from .ply import is_compressed_header
        from .plyheader import parse_header, read_header_bytes

        try:
            header = parse_header(read_header_bytes(path), path)
        except SceneFormatError:
            return "ply"
        if is_compressed_header(header):
            return "ply_compressed"
        face = header.element("face")
        return "mesh_ply" if face is not None and face.count > 0 else "ply"
    if head[:2] == b"\x1f\x8b":
        try:
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4)
        except zlib.error:
            return "gzip"
        return "spz" if inner == b"NGSP" else "gzip"
    if head[:4] == b"NGSP":
        return "spz"
    if head[:4] == b"glTF":
        return "glb"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    from ._common import looks_like_text

    if looks_like_text(head):
        stripped = head.lstrip()
        if stripped.startswith(b"{") and b'"asset"' in head:
            return "gltf"
        words = {ln.split(maxsplit=1)[0] for ln in stripped.splitlines() if ln.split()}
        if words & {b"v", b"f", b"vn", b"vt", b"mtllib", b"usemtl"} and b"v" in words:
            return "obj"
        return "text"
    return "unknown"


_NOT_SCENES = {"png": "a PNG image", "jpeg": "a JPEG image", "zip": "a zip archive",
               "gzip": "gzip data that is not .spz", "text": "a text file"}


def _resolve(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
        return format
    by_name = format_for_path(path)
    found = sniff(path)
    if found in FORMATS:
        return found  # content wins over a misleading name (.ply holding compressed data...)
    if found in _NOT_SCENES and by_name != "splat":
        raise SceneFormatError(path, f"is {_NOT_SCENES[found]}, not a splat or mesh file")
    if by_name is None:
        raise SceneFormatError(path, f"unknown file type {path.suffix!r}; known: "
                                     + ", ".join(sorted({e for f in FORMATS.values()
                                                         for e in f.extensions})))
    return by_name


def resolve_format(path: str | Path, format: str | None = None) -> str:
    """The format name `load` would read `path` as (content first, then the name);
    raises SceneFormatError / ValueError as `load` does."""
    return _resolve(Path(path), format)


def load(path: str | Path, format: str | None = None) -> GaussianCloud | Mesh:
    """Read a splat cloud or a mesh; the format comes from the content, then the name."""
    path = Path(path)
    check_readable(path)
    return FORMATS[_resolve(path, format)].reader(path)


def load_cloud(path: str | Path, format: str | None = None) -> GaussianCloud:
    """Read a Gaussian cloud; a mesh file raises SceneFormatError."""
    obj = load(path, format)
    if isinstance(obj, Mesh):
        raise SceneFormatError(path, f"is a mesh ({obj.n_vertices} vertices, {obj.n_faces} "
                                     "faces), not a Gaussian-splat file")
    return obj


def save(obj: GaussianCloud | Mesh, path: str | Path, format: str | None = None,
         **options: Any) -> None:
    """Write `obj` atomically; the format comes from `format` or the file name."""
    path = Path(path)
    fmt = format or format_for_path(path)
    if fmt is None:
        raise ValueError(f"cannot tell the format of {path.name!r} from its name; pass a format "
                         f"({', '.join(n for n, f in FORMATS.items() if f.writer)})")
    if isinstance(obj, Mesh) and fmt == "ply":
        fmt = "mesh_ply"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    spec = FORMATS[fmt]
    if spec.writer is None:
        raise ValueError(f"writing {fmt} is not supported")
    want = GaussianCloud if spec.kind == "cloud" else Mesh
    if not isinstance(obj, want):
        what = "a mesh" if isinstance(obj, Mesh) else "a Gaussian cloud"
        holds = "Gaussian splats" if spec.kind == "cloud" else "meshes"
        raise ValueError(f"{fmt} holds {holds}; cannot write {what} as {fmt}")
    spec.writer(obj, path, **options)


def file_info(path: str | Path, format: str | None = None) -> dict[str, Any]:
    """Summary of a scene file: format, counts, SH degree, bounds, file size."""
    path = Path(path)
    check_readable(path)
    fmt = _resolve(path, format)
    obj = FORMATS[fmt].reader(path)
    info: dict[str, Any] = {"path": str(path), "format": fmt, "file_size": path.stat().st_size}
    if isinstance(obj, Mesh):
        lo, hi = obj.bounds()
        info.update(kind="mesh", vertices=obj.n_vertices, faces=obj.n_faces,
                    has_texture=obj.texture is not None,
                    has_vertex_colors=obj.vertex_colors is not None)
    else:
        lo, hi = obj.bounds()
        info.update(kind="gaussians", count=len(obj), sh_degree=obj.sh_degree)
        if len(obj):
            # without the far field (a reconstruction's sky sphere, distant background)
            near = obj.means[obj.near_field_mask()]
            info["near_count"] = int(len(near))
            info["near_bounds_min"] = [float(v) for v in np.quantile(near, 0.01, axis=0)]
            info["near_bounds_max"] = [float(v) for v in np.quantile(near, 0.99, axis=0)]
        for key in ("antialiased", "spz_version", "spz_axes", "spz_extensions"):
            if key in obj.meta:
                info[key] = obj.meta[key]
    info["bounds_min"] = [float(v) for v in lo]
    info["bounds_max"] = [float(v) for v in hi]
    if obj.meta.get("warning"):
        info["warning"] = obj.meta["warning"]
    return info
