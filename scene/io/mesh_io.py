"""Meshes: GLB/glTF, OBJ and PLY-with-faces read through trimesh into `scene.mesh.Mesh`;
GLB, OBJ and PLY written through trimesh."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import SceneFormatError
from ..mesh import Mesh
from ._common import check_readable

log = logging.getLogger(__name__)

_TYPES = {
    ".glb": "glb",
    ".gltf": "gltf",
    ".obj": "obj",
    ".ply": "ply",
    ".stl": "stl",
    ".off": "off",
}

#: glTF extensions a file may require that the reader handles (trimesh reads the rest of
#: the core spec); Draco only with DracoPy installed, basis textures by dropping them
_DRACO = "KHR_draco_mesh_compression"
_TEXTURE_ONLY = {"KHR_texture_basisu": "KTX2/Basis Universal"}
_HANDLED = {"KHR_materials_unlit", "KHR_texture_transform", "KHR_materials_emissive_strength"}


def gltf_json(path: Path, ftype: str) -> dict[str, Any] | None:
    """The glTF JSON of a .glb (first chunk) or .gltf file, or None when it cannot be
    parsed here (the mesh reader then reports the problem)."""
    import json
    import struct

    try:
        if ftype == "gltf":
            return json.loads(path.read_text(encoding="utf-8"))
        with open(path, "rb") as f:
            head = f.read(20)
            if len(head) < 20 or head[:4] != b"glTF":
                return None
            length, ctype = struct.unpack_from("<II", head, 12)
            if ctype != 0x4E4F534A or length > 64 << 20:  # "JSON"
                return None
            return json.loads(f.read(length).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _check_gltf_extensions(path: Path, doc: dict[str, Any]) -> list[str]:
    """Refuse a glTF whose `extensionsRequired` this reader cannot honour (one line naming
    the extension); returns the texture-only extensions whose textures must be dropped."""
    req = doc.get("extensionsRequired") or []
    if not isinstance(req, list):
        return []
    drop = []
    for ext in req:
        if ext == _DRACO:
            try:
                import DracoPy  # noqa: F401  (trimesh decodes Draco through it)
            except ImportError:
                raise SceneFormatError(
                    path,
                    f"needs glTF extension {_DRACO} (Draco geometry): "
                    "pip install DracoPy to read it",
                ) from None
        elif ext in _TEXTURE_ONLY:
            drop.append(ext)
        elif ext not in _HANDLED:
            raise SceneFormatError(
                path,
                f"needs glTF extension {ext}, which Wander cannot "
                "decode (re-export the file without it)",
            )
    return drop


def read_mesh(path: str | Path, file_type: str | None = None) -> Mesh:
    """Read a mesh; scenes are flattened (transforms applied, geometries concatenated).

    Vertex colours are kept, or a base-colour texture with UVs; a texture that cannot be
    decoded falls back to vertex colours with a warning in `meta["warning"]`.
    """
    import trimesh

    path = Path(path)
    check_readable(path)
    if path.stat().st_size == 0:
        raise SceneFormatError(path, "file is empty")
    ftype = file_type or _TYPES.get(path.suffix.lower())
    if ftype is None:
        raise SceneFormatError(path, f"unknown mesh extension {path.suffix!r}")
    drop_textures: list[str] = []
    if ftype in ("glb", "gltf"):
        doc = gltf_json(path, ftype)
        if doc is not None:
            drop_textures = _check_gltf_extensions(path, doc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if drop_textures:
                loaded = _load_without_textures(path, ftype, doc)
            else:
                loaded = trimesh.load(str(path), file_type=ftype, force="mesh", process=False)
    except SceneFormatError:
        raise
    except Exception as exc:  # trimesh raises many types for bad files
        raise SceneFormatError(
            path, f"not a readable {ftype.upper()} mesh (corrupt file?): {reader_problem(exc)}"
        ) from None
    if isinstance(loaded, list):
        loaded = trimesh.util.concatenate([m for m in loaded if hasattr(m, "faces")])
    if not hasattr(loaded, "faces") or loaded.faces is None or len(loaded.faces) == 0:
        raise SceneFormatError(path, "mesh has no faces")
    verts = np.asarray(loaded.vertices, np.float64)
    if not np.isfinite(verts).all():
        raise SceneFormatError(path, "mesh vertices contain NaN or infinite values")
    faces = np.asarray(loaded.faces, np.int64)
    if faces.min() < 0 or faces.max() >= len(verts):
        raise SceneFormatError(path, "mesh faces index vertices that do not exist")
    meta: dict[str, Any] = {"source": str(path), "format": ftype}
    colors = uvs = texture = None
    visual = getattr(loaded, "visual", None)
    kind = getattr(visual, "kind", None)
    if kind == "texture":
        try:
            uv = getattr(visual, "uv", None)
            img = _material_image(visual.material)
            if uv is not None and len(uv) == len(verts) and img is not None:
                uvs, texture = np.asarray(uv, np.float32), img
            else:
                meta["warning"] = "texture or UVs missing; using vertex colours"
                colors = _vertex_colors(visual, len(verts))
        except Exception as exc:  # a broken texture must not lose the geometry
            meta["warning"] = f"texture could not be decoded ({exc}); using vertex colours"
            colors = None
    elif kind == "vertex":
        colors = _vertex_colors(visual, len(verts))
    elif kind == "face":
        try:
            colors = np.asarray(visual.vertex_colors, np.float32)[:, :3] / 255.0
        except Exception as exc:  # noqa: BLE001 - face colours are optional
            log.info("%s: face colours unusable (%s)", path, exc)
            colors = None
    if drop_textures:
        names = ", ".join(f"{e} ({_TEXTURE_ONLY[e]})" for e in drop_textures)
        meta["warning"] = f"textures compressed with {names} cannot be decoded: loaded without them"
        log.warning("%s: %s", path, meta["warning"])
    return Mesh(verts, faces, colors, uvs, texture, meta)


def _load_without_textures(path: Path, ftype: str, doc: dict[str, Any]) -> Any:
    """Load a glTF whose textures need an extension we cannot decode: the same file with
    its images, textures and texture references removed (geometry and base colours kept)."""
    import io
    import json
    import struct

    import trimesh

    doc = json.loads(json.dumps(doc))
    for key in ("images", "textures", "samplers"):
        doc.pop(key, None)
    for mat in doc.get("materials", []):
        pbr = mat.get("pbrMetallicRoughness", {})
        for k in ("baseColorTexture", "metallicRoughnessTexture"):
            pbr.pop(k, None)
        for k in ("normalTexture", "occlusionTexture", "emissiveTexture"):
            mat.pop(k, None)
    for k in ("extensionsRequired", "extensionsUsed"):
        if k in doc:
            doc[k] = [e for e in doc[k] if e not in _TEXTURE_ONLY]
    if ftype == "gltf":
        return trimesh.load(
            io.BytesIO(json.dumps(doc).encode()),
            file_type="gltf",
            force="mesh",
            process=False,
            resolver=trimesh.resolvers.FilePathResolver(path.parent),
        )
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    rest = data[20 + length :]
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    out = (
        b"glTF"
        + struct.pack("<II", 2, 12 + 8 + len(js) + len(rest))
        + struct.pack("<II", len(js), 0x4E4F534A)
        + js
        + rest
    )
    return trimesh.load(io.BytesIO(out), file_type="glb", force="mesh", process=False)


def _vertex_colors(visual: Any, n: int) -> np.ndarray | None:
    try:
        c = np.asarray(
            visual.to_color().vertex_colors if visual.kind == "texture" else visual.vertex_colors
        )
    except Exception as exc:  # noqa: BLE001 - vertex colours are optional
        log.info("vertex colours unusable (%s)", exc)
        return None
    if c.ndim != 2 or len(c) != n or c.shape[1] < 3:
        return None
    return c[:, :3].astype(np.float32) / 255.0


def _material_image(material: Any) -> np.ndarray | None:
    img = getattr(material, "image", None)
    if img is None:
        img = getattr(material, "baseColorTexture", None)
    if img is None:
        return None
    arr = np.asarray(img.convert("RGBA") if hasattr(img, "convert") else img)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"unsupported texture shape {arr.shape}")
    return arr.astype(np.uint8)


#: mesh types the writer produces (through trimesh)
WRITE_TYPES = ("glb", "obj", "ply", "stl", "off")


def encode_mesh(mesh: Mesh, fh: BinaryIO, file_type: str, path: str | Path | None = None) -> None:
    """THE mesh encoder: GLB, OBJ, PLY, STL or OFF through trimesh, into `fh`.

    The texture + UVs when the mesh has them, else per-vertex colours (a neutral grey
    for a mesh without colours); OBJ carries vertex colours as `v x y z r g b`, no texture.
    """
    import trimesh

    if file_type not in WRITE_TYPES:
        raise ValueError(f"cannot write meshes as {file_type!r}: use {', '.join(WRITE_TYPES)}")
    if mesh.n_faces == 0:
        raise SceneFormatError(path, "cannot write a mesh with no faces")
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    if mesh.texture is not None and mesh.uvs is not None and file_type in ("glb", "ply"):
        from PIL import Image

        tm.visual = trimesh.visual.TextureVisuals(
            uv=mesh.uvs, image=Image.fromarray(np.asarray(mesh.texture, np.uint8))
        )
    else:
        cols = np.clip(np.rint(mesh.colors_or_default() * 255), 0, 255)
        rgba = np.concatenate([cols, np.full((mesh.n_vertices, 1), 255)], 1).astype(np.uint8)
        tm.visual = trimesh.visual.ColorVisuals(tm, vertex_colors=rgba)
    if file_type == "obj":
        data = tm.export(file_type="obj", include_color=True, include_texture=False)
    else:
        data = tm.export(file_type=file_type)
    fh.write(data.encode() if isinstance(data, str) else data)


def write_mesh(mesh: Mesh, path: str | Path, file_type: str | None = None, **options: Any) -> None:
    """`encode_mesh` into `path` (type from `file_type` or the suffix), atomically."""
    from ..files import atomic_write

    if options:
        raise ValueError(f"unknown mesh write options: {', '.join(options)}")
    path = Path(path)
    ftype = file_type or _TYPES.get(path.suffix.lower())
    if ftype not in WRITE_TYPES:
        raise ValueError(
            f"cannot write meshes as {path.suffix!r}: use "
            + ", ".join("." + t for t in WRITE_TYPES)
        )
    with atomic_write(path) as f:
        encode_mesh(mesh, f, ftype, path)


def reader_problem(exc: BaseException) -> str:
    """What a third-party reader's exception says, for a user: its message (cut to 200
    characters), or its type's name when it has none (no Python class names otherwise:
    "ValueError: chunk was not expected length!" read as a crash)."""
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    # trimesh's advice to programmers on a resource outside the file's folder is no advice
    # to a user: Wander never reads outside it
    text = text.split(" — pass `FilePathResolver")[0]
    if "escapes resolver root" in text:
        text += " (a glTF may only use files beside it)"
    text = text[0].lower() + text[1:]
    return text if len(text) <= 200 else text[:199] + "…"
