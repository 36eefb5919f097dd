"""Writing generated objects: 3DGS PLY for the splats, GLB/OBJ/PLY for the mesh (atomic).

Uses the scene I/O package where it provides a writer, else a small local one with the
reference property layout, so object generation never depends on optional readers.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from scene.errors import SceneFormatError
from scene.gaussians import GaussianCloud
from scene.io._common import atomic_path
from scene.mesh import Mesh

MESH_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """A temp path beside `path` that replaces it on success and vanishes on error."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:  # the suffix tells writers the format
        yield tmp


def write_cloud(cloud: GaussianCloud, path: str | Path) -> None:
    """Binary little-endian 3DGS PLY; the cloud's meta goes in a PLY comment (provenance)."""
    path = Path(path)
    if path.suffix.lower() != ".ply":
        raise ValueError(f"{path}: the object's splats are written as .ply")
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write an object with no splats")
    cloud.validate()
    n, k = len(cloud), cloud.shN.shape[1]
    names = (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
             + [f"f_rest_{i}" for i in range(3 * k)]
             + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])
    mat = np.zeros((n, len(names)), "<f4")  # (N, P) one row per splat
    mat[:, 0:3] = cloud.means
    mat[:, 6:9] = cloud.sh0
    mat[:, 9:9 + 3 * k] = cloud.shN.transpose(0, 2, 1).reshape(n, 3 * k)  # channel-major
    j = 9 + 3 * k
    mat[:, j] = cloud.opacities
    mat[:, j + 1:j + 4] = cloud.scales
    mat[:, j + 4:j + 8] = cloud.quats
    meta = json.dumps(_jsonable(cloud.meta), separators=(",", ":")).replace("\n", " ")
    header = ["ply", "format binary_little_endian 1.0", f"comment wander {meta}",
              f"element vertex {n}"] + [f"property float {p}" for p in names] + ["end_header\n"]
    with atomic_target(path) as tmp:
        with open(tmp, "wb") as f:
            f.write("\n".join(header).encode("utf-8"))
            mat.tofile(f)


def check_output_folder(path: str | Path) -> None:
    """Raise before any work when `path` could not be written (its folder is missing)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SceneFormatError(path, f"folder {folder} does not exist")


def check_mesh_path(path: str | Path) -> None:
    """Raise unless `path` names a mesh format `write_mesh` can write."""
    path = Path(path)
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise ValueError(f"{path}: mesh format must be one of {', '.join(MESH_SUFFIXES)}")


def write_mesh(mesh: Mesh, path: str | Path) -> None:
    """Mesh with vertex colours (or texture) to GLB / OBJ / PLY / STL / OFF, atomically."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    check_mesh_path(path)
    if mesh.n_faces == 0:
        raise SceneFormatError(path, "cannot write a mesh with no faces")
    colors = mesh.colors_or_default()
    rgba = np.concatenate([np.clip(colors, 0, 1) * 255, np.full((mesh.n_vertices, 1), 255)], 1)
    tm = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_colors=rgba.astype(np.uint8), process=False)
    with atomic_target(path) as tmp:
        tm.export(str(tmp), file_type=suffix[1:])


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)
