"""The one format stack: every splat, mesh and camera file Wander reads or writes goes
through this package, chosen by one registry.

    FORMATS                 name -> Format(extensions, reader, writer, description, kind,
                            encoder, options): the registry (`convert`, Export, projects,
                            generators and the Open dialog all use it)
    load(path, format=None, progress=None) -> GaussianCloud | Mesh   content first (sniff),
                            then the name
    load_cloud(path)        -> GaussianCloud (a mesh file is a clear error)
    load_world(path, progress=None) -> (World, warnings)   THE scene loader: a .wander
                            project or any file `load` reads, as a World (the app's Open,
                            the CLI's SCENE argument and offscreen rendering all use it)
    world_of(obj, name, path) -> World   a cloud or mesh as a one-layer World
    save(obj, path, format=None, progress=None, **options)   atomic: temp file + rename
    write_to(obj, fh, format, **options)      the same bytes into an open binary file
    sniff(path) -> str      format from magic bytes / header ("unknown" if none)
    file_info(path) -> dict count, SH degree, bounds, format, file size (mesh: vertices/faces)
    scene_suffixes()        every extension `load` takes (for file dialogs)

Options every splat writer takes: `sh_degree` (0-3: truncate or zero-pad) and
`antialiased` (True/False: override the cloud's mip-splatting flag). Per format:
ply `comments`; splat `sort`; spz `version` (2, 3), `axes` ("ply", "rub"), `sh1_bits`,
`sh_rest_bits`, `compresslevel`. This is the single front door, as gsplat's
`export_splats(format=...)`: there is exactly one encoder per format.

Every reader raises `SceneFormatError` (naming the file and the problem) for bad input.
`progress` is scene.progress's protocol (a `Progress`, a `report(fraction, message)`
callable, or None): `save` reports bytes written and stops at the next block when
cancelled (`Cancelled`; the temp file is removed and any old file is untouched), `load`
reports its stages and checks cancel before and after reading.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from ..errors import SceneFormatError
from ..files import atomic_write
from ..gaussians import GaussianCloud
from ..mesh import Mesh
from ..progress import Progress, ProgressFn, ProgressWriter, as_progress
from ._common import check_readable
from .colmap import read_colmap, write_colmap, write_colmap_text
from .ksplat import read_ksplat
from .mesh_io import encode_mesh, read_mesh
from .ply import encode_ply, read_ply
from .ply_compressed import encode_ply_compressed, read_ply_compressed
from .sog import read_sog
from .splat import encode_splat, read_splat
from .spz import encode_spz_file, read_spz

__all__ = [
    "FORMATS",
    "Format",
    "expected_size",
    "file_info",
    "format_for_path",
    "load",
    "load_cloud",
    "load_world",
    "world_of",
    "read_colmap",
    "resolve_format",
    "save",
    "scene_suffixes",
    "sniff",
    "write_colmap",
    "write_colmap_text",
    "writable_names",
    "write_to",
]


class Format(NamedTuple):
    extensions: tuple[str, ...]
    reader: Callable[[Path], GaussianCloud | Mesh]
    writer: Callable[..., None] | None  # (obj, path, **options): atomic file write
    description: str
    kind: str  # "cloud" or "mesh" (what the writer takes)
    encoder: Callable[..., None] | None = None  # (obj, fh, **options): the one encoder
    options: tuple[str, ...] = ()  # format-specific writer options


#: options every splat writer takes (applied to the cloud before encoding)
CLOUD_OPTIONS = ("sh_degree", "antialiased")
#: splat formats written in the cloud's own order (.splat sorts by importance, compressed
#: PLY and SOG by Morton code): a record beside one of these may say which splats are
#: which by place (a generated world's hidden layers, `GaussianCloud.hidden_range`)
ORDER_KEEPING = ("ply", "spz")


def _mesh_reader(ftype: str) -> Callable[[Path], Mesh]:
    return lambda p: read_mesh(p, ftype)


def _mesh_encoder(ftype: str) -> Callable[..., None]:
    return lambda m, fh, path=None: encode_mesh(m, fh, ftype, path)


def _writer(name: str) -> Callable[..., None]:
    return lambda obj, path, **o: save(obj, path, name, **o)


def _fmt(
    name: str,
    extensions: tuple[str, ...],
    reader: Callable,
    encoder: Callable | None,
    description: str,
    kind: str,
    options: tuple[str, ...] = (),
) -> Format:
    return Format(
        extensions, reader, _writer(name) if encoder else None, description, kind, encoder, options
    )


FORMATS: dict[str, Format] = {
    "ply": _fmt(
        "ply",
        (".ply",),
        read_ply,
        encode_ply,
        "3DGS PLY (reference layout; SH 0-3; also reads point clouds and meshes)",
        "cloud",
        ("comments",),
    ),
    "ply_compressed": _fmt(
        "ply_compressed",
        (".compressed.ply",),
        read_ply_compressed,
        encode_ply_compressed,
        "PlayCanvas/SuperSplat compressed PLY",
        "cloud",
    ),
    "splat": _fmt(
        "splat",
        (".splat",),
        read_splat,
        encode_splat,
        "antimatter15 .splat (no SH)",
        "cloud",
        ("sort",),
    ),
    "spz": _fmt(
        "spz",
        (".spz",),
        read_spz,
        encode_spz_file,
        "Niantic .spz (gzip v2/v3 written; v1-v4 read)",
        "cloud",
        ("version", "axes", "sh1_bits", "sh_rest_bits", "compresslevel"),
    ),
    "sog": _fmt(
        "sog",
        (".sog", "meta.json"),
        read_sog,
        None,
        "PlayCanvas SOG v2 (SuperSplat; .sog zip or meta.json + WebP; read only)",
        "cloud",
    ),
    "ksplat": _fmt(
        "ksplat",
        (".ksplat",),
        read_ksplat,
        None,
        "GaussianSplats3D .ksplat (compression 0/1/2; read only)",
        "cloud",
    ),
    "glb": _fmt(
        "glb", (".glb",), _mesh_reader("glb"), _mesh_encoder("glb"), "glTF binary mesh", "mesh"
    ),
    "gltf": _fmt(
        "gltf", (".gltf",), _mesh_reader("gltf"), None, "glTF JSON mesh (read only)", "mesh"
    ),
    "obj": _fmt(
        "obj", (".obj",), _mesh_reader("obj"), _mesh_encoder("obj"), "Wavefront OBJ mesh", "mesh"
    ),
    "stl": _fmt("stl", (".stl",), _mesh_reader("stl"), _mesh_encoder("stl"), "STL mesh", "mesh"),
    "off": _fmt("off", (".off",), _mesh_reader("off"), _mesh_encoder("off"), "OFF mesh", "mesh"),
    "mesh_ply": _fmt(
        "mesh_ply", (), _mesh_reader("ply"), _mesh_encoder("ply"), "PLY mesh (faces)", "mesh"
    ),
}


def scene_suffixes() -> tuple[str, ...]:
    """Every file-name ending `load` reads (".ply", ".spz", ..., "meta.json"), for dialogs."""
    return tuple(dict.fromkeys(e for f in FORMATS.values() for e in f.extensions))


def _matching_extension(path: str | Path) -> tuple[str | None, str]:
    """(format, extension) of the longest known extension `path`'s name ends with, or
    (None, "")."""
    name = Path(path).name.lower()
    best, ext = None, ""
    for fmt, spec in FORMATS.items():
        for e in spec.extensions:
            if name.endswith(e) and len(e) > len(ext):
                best, ext = fmt, e
    return best, ext


def format_for_path(path: str | Path) -> str | None:
    """Format name implied by a file name (longest matching extension), or None."""
    return _matching_extension(path)[0]


def scene_stem(path: str | Path) -> str:
    """A scene file's name without its format's extension, the longest one matching
    ("big.compressed.ply" -> "big", where Path.stem leaves "big.compressed"); a name of
    no known format loses its last suffix, as Path.stem."""
    name = Path(path).name
    ext = _matching_extension(name)[1]
    return name[: len(name) - len(ext)] if ext and len(ext) < len(name) else Path(path).stem


def sniff(path: str | Path) -> str:
    """Format name from a file's first bytes.

    Splat/mesh formats: "ply", "ply_compressed", "mesh_ply", "spz", "sog", "ksplat", "glb",
    "gltf", "obj", "stl", "off";
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
        from .sog import is_sog_zip

        return "sog" if is_sog_zip(path) else "zip"
    from .ksplat import looks_like_ksplat

    if looks_like_ksplat(path):
        return "ksplat"
    if (
        len(head) >= 84
        and not head.startswith(b"solid")
        and 84 + 50 * int.from_bytes(head[80:84], "little") == path.stat().st_size
    ):
        return "stl"  # binary STL: 80-byte header, u32 triangle count, 50 bytes a triangle
    from ._common import looks_like_text

    if looks_like_text(head):
        stripped = head.lstrip()
        if stripped.startswith(b"{") and b'"means"' in head and b'"accessors"' not in head:
            return "sog"  # SOG meta.json (it may carry an "asset" entry too)
        if stripped[:3] == b"OFF" and stripped[3:4] in (b"\n", b"\r", b" ", b"\t"):
            return "off"
        if stripped.startswith(b"solid") and b"facet" in head:
            return "stl"
        if stripped.startswith(b"{") and b'"asset"' in head:
            return "gltf"
        words = {ln.split(maxsplit=1)[0] for ln in stripped.splitlines() if ln.split()}
        if words & {b"v", b"f", b"vn", b"vt", b"mtllib", b"usemtl"} and b"v" in words:
            return "obj"
        return "text"
    return "unknown"


_NOT_SCENES = {
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "zip": "a zip archive",
    "gzip": "gzip data that is not .spz",
    "text": "a text file",
}


def _resolve(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
        return format
    by_name = format_for_path(path)
    found = sniff(path)
    if found in FORMATS:
        return found  # content wins over a misleading name (.ply holding compressed data...)
    if found == "zip" and by_name == "sog":
        # a .sog that is a zip but not a readable SOG (truncated, no meta.json): its reader
        # says what is wrong; "is a zip archive, not a splat file" misled (a SOG is a zip)
        return "sog"
    if found in _NOT_SCENES and by_name != "splat":
        hint = (
            f"; to make a 3D world from a photo: python main.py world --photo {path.name} "
            "--out world.wander (in the app: Create > New World from Photo…)"
            if found in ("png", "jpeg")
            else ""
        )
        raise SceneFormatError(path, f"is {_NOT_SCENES[found]}, not a splat or mesh file{hint}")
    if by_name is None:
        raise SceneFormatError(
            path,
            f"unknown file type {path.suffix!r}; known: "
            + ", ".join(sorted({e for f in FORMATS.values() for e in f.extensions})),
        )
    return by_name


def resolve_format(path: str | Path, format: str | None = None) -> str:
    """The format name `load` would read `path` as (content first, then the name);
    raises SceneFormatError / ValueError as `load` does."""
    return _resolve(Path(path), format)


def load(
    path: str | Path, format: str | None = None, progress: Progress | ProgressFn | None = None
) -> GaussianCloud | Mesh:
    """Read a splat cloud or a mesh; the format comes from the content, then the name.
    Raises `scene.progress.Cancelled` when `progress` was cancelled (nothing is kept)."""
    path = Path(path)
    prog = as_progress(progress)
    prog.update(0.0, f"Reading {path.name}")
    check_readable(path)
    obj = FORMATS[_resolve(path, format)].reader(path)
    prog.update(1.0, f"Read {path.name}")  # raises Cancelled if cancelled meanwhile
    return obj


def load_cloud(path: str | Path, format: str | None = None) -> GaussianCloud:
    """Read a Gaussian cloud; a mesh file raises SceneFormatError."""
    obj = load(path, format)
    if isinstance(obj, Mesh):
        raise SceneFormatError(
            path,
            f"is a mesh ({obj.n_vertices} vertices, {obj.n_faces} "
            "faces), not a Gaussian-splat file",
        )
    return obj


def load_world(
    path: str | Path, progress: Progress | ProgressFn | None = None
) -> tuple[Any, list[str]]:
    """THE scene loader: a `.wander` project (scene.project.load_project) or any scene file
    `load` reads, as a `scene.world.World` with a clear undo history.

    Returns (world, warnings): a project's warnings name what could not be restored; a
    scene file has none. A file becomes one layer named after the file ("garden" for
    garden.ply; kind "mesh" or "world") with `source={"path": ...}`, and
    `world.meta["source"]` names the file. Nothing else is decided here: the app adds its
    up-axis estimate on top. Raises FileNotFoundError for a missing file,
    SceneFormatError for bad input, `scene.progress.Cancelled` when `progress` is
    cancelled (no World is returned, nothing is changed).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    prog = as_progress(progress)
    if path.suffix.lower() == ".wander":
        from ..project import load_project

        world, warnings = load_project(path, progress=prog)
        return world, list(warnings)
    obj = load(path, progress=prog.sub(0.0, 0.95))
    world = world_of(obj, scene_stem(path), path)
    prog.update(1.0, f"Loaded {path.name}")
    return world, []


def world_of(obj: Any, name: str = "scene", path: str | Path | None = None) -> Any:
    """`obj` as a World: a World is returned as it is; a GaussianCloud or Mesh becomes one
    layer called `name` (kind "world" or "mesh"), with `source={"path": path}` and
    `meta["source"]` when it came from the file `path`. Raises TypeError otherwise."""
    from ..world import Layer, World

    if isinstance(obj, World):
        return obj
    if not isinstance(obj, (GaussianCloud, Mesh)):
        raise TypeError(f"a scene is a World, GaussianCloud or Mesh, not {type(obj).__name__}")
    world = World()
    source = {"path": str(path)} if path is not None else {}
    world.add_layer(Layer(name, obj, "mesh" if isinstance(obj, Mesh) else "world", source=source))
    if path is not None:
        world.meta.setdefault("source", str(path))
    world.clear_history()
    return world


def writable_names(kind: str | None) -> str:
    """The writable formats by extension, for messages: those of `kind` ("cloud" or
    "mesh"), else both, grouped ("splats: .ply, .spz ...; meshes: .glb ...")."""

    def of(k: str) -> str:
        names = [
            f.extensions[0] if f.extensions else ".ply"  # mesh_ply: a mesh's .ply
            for f in FORMATS.values()
            if f.encoder and f.kind == k
        ]
        return ", ".join(dict.fromkeys(names))

    if kind is not None:
        return f"one of {of(kind)}"
    return f"splats as one of {of('cloud')}; meshes as one of {of('mesh')}"


def output_format(path: str | Path, format: str | None = None, obj: object = None) -> str:
    """The registry name a writer would use for `path` (explicit `format` first, then the
    name); a Mesh asked to be "ply" is "mesh_ply". Raises ValueError naming the choices."""
    fmt = format.lower().lstrip(".") if format else format_for_path(path)
    writable = [n for n, f in FORMATS.items() if f.encoder]
    kinds = {GaussianCloud: "cloud", Mesh: "mesh"}
    kind = next((k for t, k in kinds.items() if isinstance(obj, t)), None)
    if str(path) and Path(path).is_dir():  # ("" names no file: `write_to` a stream)
        raise ValueError(
            f"{path} is a folder; name the file to write (e.g. {Path(path) / 'scene.ply'})"
        )
    if fmt is None:
        raise ValueError(
            f"cannot tell the format of {Path(path).name!r} from its name; use a known "
            f"extension or give the format (--format: {', '.join(writable)})"
        )
    if isinstance(obj, Mesh) and fmt == "ply":
        fmt = "mesh_ply"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if FORMATS[fmt].encoder is None:
        raise ValueError(
            f"writing {fmt} is not supported (read only); write {writable_names(kind)}"
        )
    return fmt


def name_mismatch(path: str | Path, fmt: str) -> str | None:
    """A warning when the file name `path` says another format than `fmt` (a --format
    given against the name: SPZ data in x.ply, which other tools read by its name and
    cannot open), or None. The PLY family (3DGS, compressed, mesh) is one name."""
    named = format_for_path(path)
    if named is None or named == fmt:
        return None
    family = {"ply", "ply_compressed", "mesh_ply"}
    if named in family and fmt in family:
        return None
    return (
        f"{Path(path).name} gets {fmt} data (--format {fmt}) under a name other tools read "
        f"as {named}: they will not open it"
    )


def prepare(
    obj: GaussianCloud | Mesh, fmt: str, options: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """Check `obj` and `options` against format `fmt`; apply the common cloud options
    (sh_degree, antialiased). Returns (object to encode, format-specific options)."""
    spec = FORMATS[fmt]
    want = GaussianCloud if spec.kind == "cloud" else Mesh
    if not isinstance(obj, want):
        what = "a mesh" if isinstance(obj, Mesh) else "a Gaussian cloud"
        holds = "Gaussian splats" if spec.kind == "cloud" else "meshes"
        raise ValueError(f"{fmt} holds {holds}; cannot write {what} as {fmt}")
    options = dict(options)
    allowed = set(spec.options) | (set(CLOUD_OPTIONS) if spec.kind == "cloud" else set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"unknown .{fmt} write options: {', '.join(unknown)}"
            + (f"; it takes {', '.join(sorted(allowed))}" if allowed else "")
        )
    if spec.kind == "cloud":
        degree = options.pop("sh_degree", None)
        aa = options.pop("antialiased", None)
        if degree is not None and degree != obj.sh_degree:
            if degree not in (0, 1, 2, 3):
                raise ValueError(f"SH degree must be 0, 1, 2 or 3; got {degree}")
            obj = with_sh_degree(obj, int(degree))
        if aa is not None and bool(aa) != bool(obj.meta.get("antialiased")):
            obj = dataclasses.replace(obj, meta={**obj.meta, "antialiased": bool(aa)})
    return obj, options


def with_sh_degree(cloud: GaussianCloud, degree: int) -> GaussianCloud:
    """`cloud` truncated (or zero-padded) to SH `degree`, sharing every array but shN (a big
    scene is not copied to drop its SH)."""
    from ..sh import REST_COEFFS

    k, cur = REST_COEFFS[degree], cloud.shN.shape[1]
    if k <= cur:
        shN = np.ascontiguousarray(cloud.shN[:, :k])
    else:
        shN = np.zeros((len(cloud), k, 3), np.float32)
        shN[:, :cur] = cloud.shN
    return dataclasses.replace(cloud, shN=shN, meta=dict(cloud.meta))


def write_to(obj: GaussianCloud | Mesh, fh: BinaryIO, format: str, **options: Any) -> None:
    """Encode `obj` as registry format `format` into the open binary file `fh` (a zip
    member, a socket...): the same bytes `save` writes. Raises ValueError for a format or
    option the registry does not know."""
    fmt = output_format("", format, obj)
    obj, options = prepare(obj, fmt, options)
    FORMATS[fmt].encoder(obj, fh, **options)


def expected_size(obj: GaussianCloud | Mesh, fmt: str) -> int:
    """Estimated bytes `fmt`'s encoder writes for `obj` (exact for ply and splat; a rough
    figure for compressed formats): the denominator of save's progress."""
    if isinstance(obj, Mesh):
        return 64 + obj.n_vertices * 32 + obj.n_faces * 12
    n, k = len(obj), obj.shN.shape[1]
    per = {
        "ply": 4 * (17 + 3 * k),
        "splat": 32,
        "ply_compressed": 16 + 3 * k,
        "spz": (19 + 3 * k) // 2,
    }.get(fmt, 4 * (14 + 3 * k))
    return 1024 + n * per


def save(
    obj: GaussianCloud | Mesh,
    path: str | Path,
    format: str | None = None,
    progress: Progress | ProgressFn | None = None,
    **options: Any,
) -> None:
    """Write `obj` atomically; the format comes from `format` or the file name.

    Options: see the module docstring (sh_degree, antialiased, and per format).
    `progress` receives the bytes written so far (of `expected_size`) at every block.
    Raises ValueError for an unknown format/option, SceneFormatError when the file cannot
    be written (missing folder, no permission), `scene.progress.Cancelled` when cancelled;
    a failure or cancel leaves any old file intact and no temp file behind.
    """
    path = Path(path)
    prog = as_progress(progress)
    fmt = output_format(path, format, obj)
    prog.update(0.0, f"Writing {path.name}")
    obj, options = prepare(obj, fmt, options)
    with atomic_write(path) as fh:
        out = ProgressWriter(fh, prog, expected_size(obj, fmt), f"Writing {path.name}")
        FORMATS[fmt].encoder(obj, out, path=path, **options)
        prog.raise_if_cancelled()  # the last block: still nothing committed
    prog.finish(f"Wrote {path.name}")


def file_info(
    path: str | Path, format: str | None = None, far_field: int | None = None
) -> dict[str, Any]:
    """Summary of a scene file: format, counts, SH degree, bounds, file size. `far_field`:
    the far-field count a Wander record beside the file gives (a .spz or .splat has no place
    for it; `GaussianCloud.adopt_far_field`), so the scene's box and far count are those
    the viewer uses."""
    path = Path(path)
    check_readable(path)
    if path.stat().st_size == 0:  # as every reader says it
        raise SceneFormatError(path, "file is empty")
    fmt = _resolve(path, format)
    summary = None
    if fmt == "ply":  # header + positions only: no splat is loaded
        from .ply import ply_splat_summary

        summary = ply_splat_summary(path)
    obj = summary[0] if summary else FORMATS[fmt].reader(path)
    info: dict[str, Any] = {
        "path": str(path),
        "format": fmt,
        "format_description": FORMATS[fmt].description,
        "file_size": path.stat().st_size,
    }
    if isinstance(obj, Mesh):
        lo, hi = obj.bounds()
        info.update(
            kind="mesh",
            vertices=obj.n_vertices,
            faces=obj.n_faces,
            has_texture=obj.texture is not None,
            has_vertex_colors=obj.vertex_colors is not None,
        )
    else:
        lo, hi = obj.bounds()
        if far_field is not None:
            obj.adopt_far_field(far_field)
        info.update(
            kind="gaussians", count=len(obj), sh_degree=summary[1] if summary else obj.sh_degree
        )
        if len(obj):
            # without the far field (a reconstruction's sky sphere, distant background)
            near = obj.means[obj.near_field_mask()]
            info["near_count"] = int(len(near))
            info["far_marked"] = int(obj.far_field_marked())
            info["near_bounds_min"] = [float(v) for v in np.quantile(near, 0.01, axis=0)]
            info["near_bounds_max"] = [float(v) for v in np.quantile(near, 0.99, axis=0)]
        for key in (
            "antialiased",
            "spz_version",
            "spz_axes",
            "spz_axes_from",
            "spz_extensions",
            "sog_version",
            "ksplat_compression",
        ):
            if key in obj.meta:
                info[key] = obj.meta[key]
    info["bounds_min"] = [float(v) for v in lo]
    info["bounds_max"] = [float(v) for v in hi]
    if obj.meta.get("warning"):
        info["warning"] = obj.meta["warning"]
    return info
