"""Import: a mesh (GLB/GLTF/OBJ/PLY from Hunyuan3D, TRELLIS, SAM 3D Objects...) or a splat
file becomes an object — kept as a mesh, or turned into Gaussians by area-weighted surface
sampling with colour from the texture (UV lookup), vertex colours or the material colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from scene.errors import SceneFormatError
from scene.gaussians import GaussianCloud
from scene.io.mesh_io import reader_problem
from scene.mesh import Mesh

from .surfels import surfels

MESH_TYPES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")
SPLAT_TYPES = (".ply", ".splat", ".spz")
DEFAULT_GREY = np.array([0.7, 0.7, 0.7], np.float32)


@dataclass
class ColoredPart:
    """One mesh piece in the file's frame with what is known about its colour.

    vertices (V, 3) float64, faces (F, 3) int64; uvs (V, 2) or None; texture (H, W, 3) float32
    0..1 or None; vertex_colors (V, 3) float32 or None; base (3,) float32 colour factor.
    """

    vertices: np.ndarray
    faces: np.ndarray
    uvs: np.ndarray | None
    texture: np.ndarray | None
    vertex_colors: np.ndarray | None
    base: np.ndarray


def load_mesh_parts(path: str | Path) -> tuple[list[ColoredPart], list[str]]:
    """Read a mesh file into coloured parts (scene-graph transforms applied) + warnings."""
    import trimesh

    path = Path(path)
    if path.is_dir():
        raise SceneFormatError(path, "is a folder, not a mesh file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such mesh file")
    if path.stat().st_size == 0:
        raise SceneFormatError(path, "file is empty")
    try:
        scene = trimesh.load(str(path), force="scene")
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise SceneFormatError(
            path, f"not a readable mesh (corrupt file?): {reader_problem(exc)}"
        ) from None
    warnings: list[str] = []
    parts: list[ColoredPart] = []
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        g = geom.copy()
        g.apply_transform(transform)
        parts.append(_colored_part(g, geom_name, warnings))
    if not parts:
        raise SceneFormatError(
            path, "the file has no triangles (no faces): nothing to turn into an object"
        )
    for p in parts:
        if not np.isfinite(p.vertices).all():
            raise SceneFormatError(path, "mesh has NaN/inf vertex positions")
    return parts, warnings


def _colored_part(g: Any, name: str, warnings: list[str]) -> ColoredPart:
    import trimesh

    v = np.asarray(g.vertices, np.float64)
    f = np.asarray(g.faces, np.int64)
    vis = g.visual
    uvs = tex = vcol = None
    base = np.ones(3, np.float32)
    if isinstance(vis, trimesh.visual.texture.TextureVisuals):
        mat = vis.material
        img = None
        if isinstance(mat, trimesh.visual.material.PBRMaterial):
            img = mat.baseColorTexture
            if mat.baseColorFactor is not None:
                bcf = np.asarray(mat.baseColorFactor)
                # trimesh keeps colour factors as uint8 0..255; floats are 0..1
                base = bcf[:3].astype(np.float32) / (255.0 if bcf.dtype == np.uint8 else 1.0)
        elif mat is not None:
            img = getattr(mat, "image", None)
            diffuse = getattr(mat, "diffuse", None)
            if img is None and diffuse is not None:
                base = np.asarray(diffuse, np.float32)[:3] / 255.0
        if vis.uv is not None and img is not None:
            try:
                tex = np.asarray(img.convert("RGB"), np.float32) / 255.0
                uvs = np.asarray(vis.uv, np.float64)
                if uvs.shape != (len(v), 2) or not np.isfinite(uvs).all():
                    raise ValueError("bad UVs")
            except Exception as exc:  # a texture that decodes badly
                warnings.append(f"{name}: texture unusable ({exc}); using the material colour")
                tex = uvs = None
        elif vis.uv is not None:
            warnings.append(
                f"{name}: texture image missing or unreadable; using the material colour"
            )
    elif vis is not None and getattr(vis, "kind", None) in ("vertex", "face"):
        vcol = np.asarray(vis.vertex_colors, np.float32)[:, :3] / 255.0
    return ColoredPart(v, f, uvs, tex, vcol, base)


def sample_texture(tex: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of `tex` (H, W, 3) at glTF-style UVs (N, 2) (v up, wrapping)."""
    h, w = tex.shape[:2]
    u = (uv[:, 0] % 1.0) * w - 0.5
    vv = (1.0 - (uv[:, 1] % 1.0)) * h - 0.5
    x0, y0 = np.floor(u).astype(np.int64), np.floor(vv).astype(np.int64)
    fx, fy = (u - x0)[:, None], (vv - y0)[:, None]
    x0m, x1m = x0 % w, (x0 + 1) % w
    y0m, y1m = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
    top = tex[y0m, x0m] * (1 - fx) + tex[y0m, x1m] * fx
    bot = tex[y1m, x0m] * (1 - fx) + tex[y1m, x1m] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def part_colors(part: ColoredPart, faces: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Colour (N, 3) at barycentric points `bary` (N, 3) of faces `faces` (N,)."""
    tri = part.faces[faces]  # (N, 3) vertex indices
    if part.texture is not None and part.uvs is not None:
        uv = np.einsum("nk,nkj->nj", bary, part.uvs[tri])
        col = sample_texture(part.texture, uv)
    elif part.vertex_colors is not None:
        col = np.einsum("nk,nkj->nj", bary, part.vertex_colors[tri])
    else:
        col = np.tile(
            DEFAULT_GREY if np.allclose(part.base, 1) else np.ones(3, np.float32), (len(faces), 1)
        )
    return np.clip(col * part.base, 0, 1).astype(np.float32)


def normalizing_transform(
    lo: np.ndarray, hi: np.ndarray, height: float
) -> tuple[float, np.ndarray]:
    """(scale, offset) mapping a box to the object frame: base centre at 0, height `height`."""
    ext = hi - lo
    size = ext[1] if ext[1] > 1e-9 else max(float(ext.max()), 1e-9)
    s = height / size
    return s, -np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2]) * s


def parts_to_cloud(parts: list[ColoredPart], samples: int, seed: int = 0) -> GaussianCloud:
    """Area-weighted surface samples as surfels coloured from texture / vertex colours."""
    rng = np.random.default_rng(seed)
    areas = []
    for p in parts:
        t = p.vertices[p.faces]
        areas.append(0.5 * np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1))
    total = float(sum(a.sum() for a in areas))
    if total <= 0 or not np.isfinite(total):
        raise ValueError("the mesh has zero surface area")
    pts, nrm, col = [], [], []
    for p, a in zip(parts, areas):
        k = int(round(samples * a.sum() / total))
        if k == 0:
            continue
        fi = rng.choice(len(a), size=k, p=a / a.sum())
        r1, r2 = rng.random(k), rng.random(k)
        s1 = np.sqrt(r1)
        bary = np.stack([1 - s1, s1 * (1 - r2), s1 * r2], 1)  # uniform on the triangle
        t = p.vertices[p.faces[fi]]  # (k, 3, 3)
        pts.append(np.einsum("nk,nkj->nj", bary, t))
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        nrm.append(n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-20))
        col.append(part_colors(p, fi, bary))
    sigma = 0.7 * np.sqrt(total / max(samples, 1))
    return surfels(
        np.concatenate(pts),
        np.concatenate(nrm),
        np.concatenate(col),
        sigma,
        thickness=0.2,
        opacity=0.99,
    )


def parts_to_mesh(parts: list[ColoredPart]) -> Mesh:
    """One scene Mesh with per-vertex colours (textures sampled at the vertices' UVs)."""
    verts, faces, cols = [], [], []
    off = 0
    for p in parts:
        verts.append(p.vertices)
        faces.append(p.faces + off)
        if p.texture is not None and p.uvs is not None:
            c = sample_texture(p.texture, p.uvs)
        elif p.vertex_colors is not None:
            c = p.vertex_colors
        else:
            c = np.tile(
                DEFAULT_GREY if np.allclose(p.base, 1) else np.ones(3, np.float32),
                (len(p.vertices), 1),
            )
        cols.append(np.clip(c * p.base, 0, 1))
        off += len(p.vertices)
    return Mesh(
        np.concatenate(verts), np.concatenate(faces), np.concatenate(cols).astype(np.float32)
    )


def read_splat_file(path: Path) -> GaussianCloud | Mesh:
    """A splat/point file through the scene readers (PLY: any 3DGS/compressed/mesh PLY)."""
    try:
        import scene.io as sio
    except ImportError:  # pragma: no cover
        sio = None
    for fn_name in ("load", "read_scene"):
        fn = getattr(sio, fn_name, None) if sio is not None else None
        if callable(fn):
            return fn(path)
    if path.suffix.lower() == ".ply":
        from scene.io.ply import read_ply

        return read_ply(path)
    raise SceneFormatError(path, f"no reader for {path.suffix} splat files is available")


def import_object(
    path: str | Path | None,
    *,
    as_mesh: bool = False,
    samples: int = 200_000,
    height: float = 1.0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[GaussianCloud | None, Mesh | None, list[str], dict[str, Any]]:
    """Import a mesh or splat file as an object in its own frame (base centre at 0, +Y up).

    Returns (cloud or None, mesh or None, warnings, info). Meshes give a cloud (sampled)
    and the mesh; `as_mesh` keeps only the mesh.
    """
    if path is None:
        raise ValueError("import needs a mesh or splat file")
    path = Path(path)
    if path.is_dir():
        raise SceneFormatError(path, "is a folder, not a mesh or splat file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise SceneFormatError(path, "file is empty")  # as Open says it, whatever the suffix
    suffix = path.suffix.lower()
    if suffix not in MESH_TYPES + SPLAT_TYPES:
        raise ValueError(
            f"{path}: cannot import {suffix or 'files without a suffix'}; "
            f"use one of {', '.join(sorted(set(MESH_TYPES + SPLAT_TYPES)))}"
        )
    stages = Stages(progress, [("read", 1), ("convert", 2)], cancel)
    info: dict[str, Any] = {"source": str(path)}
    with stages("read"):
        if suffix in (".splat", ".spz") or (suffix == ".ply" and _ply_without_faces(path)):
            data = read_splat_file(path)
            if isinstance(data, GaussianCloud):
                if len(data) == 0:
                    raise SceneFormatError(path, "contains no splats")
                lo, hi = data.robust_bounds(0.002)
                s, off = normalizing_transform(lo, hi, height)
                m = np.eye(4)
                m[:3, :3] *= s
                m[:3, 3] = off
                info["source_size"] = [float(x) for x in hi - lo]
                out = data.transformed(m)
                lo2, hi2 = out.bounds()
                info["size"] = [float(x) for x in hi2 - lo2]
                # what the reader dropped or clamped (NaN rows...) goes on to the user
                said = data.meta.get("warning") if isinstance(data.meta, dict) else None
                return out, None, [str(said)] if said else [], info
            parts = [
                ColoredPart(
                    data.vertices.astype(np.float64),
                    data.faces.astype(np.int64),
                    None,
                    None,
                    data.vertex_colors,
                    np.ones(3, np.float32),
                )
            ]
            if data.n_faces == 0:
                raise SceneFormatError(
                    path, "the file has no triangles (no faces): nothing to turn into an object"
                )
            warnings: list[str] = []
        else:
            parts, warnings = load_mesh_parts(path)
    with stages("convert"):
        lo = np.min([p.vertices.min(0) for p in parts], 0)
        hi = np.max([p.vertices.max(0) for p in parts], 0)
        s, off = normalizing_transform(lo, hi, height)
        for p in parts:
            p.vertices = p.vertices * s + off
        info["source_size"] = [float(x) for x in hi - lo]
        info["size"] = [float(x) for x in (hi - lo) * s]
        mesh = parts_to_mesh(parts)
        cloud = None if as_mesh else parts_to_cloud(parts, samples)
    return cloud, mesh, warnings, info


def _ply_without_faces(path: Path) -> bool:
    """True when a PLY header declares no (or zero) faces: a splat / point file."""
    with open(path, "rb") as f:
        head = f.read(65536)
    end = head.find(b"end_header")
    if not head.startswith(b"ply") or end < 0:
        raise SceneFormatError(path, "not a PLY file (no 'ply' magic / end_header)")
    for line in head[:end].decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "element" and parts[1] == "face":
            return parts[2] == "0"
    return True
