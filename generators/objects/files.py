"""Writing generated objects through scene.io's registry: 3DGS PLY for the splats (with
the object's provenance in a header comment), GLB/OBJ/PLY/STL/OFF for the mesh (atomic).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from scene.errors import SceneFormatError
from scene.files import atomic_path
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

#: what `write_mesh` writes: the mesh formats of scene.io's registry
MESH_SUFFIXES = (".glb", ".obj", ".ply", ".stl", ".off")


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """A temp path beside `path` that replaces it on success and vanishes on error."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:  # the suffix tells writers the format
        yield tmp


def check_splat_path(path: str | Path) -> str:
    """The splat format `write_cloud` would write for `path` (by its name: .ply,
    .compressed.ply, .splat or .spz). Raises ValueError naming the choices."""
    from scene import io as sio

    path = Path(path)
    choices = f"{path}: splats are written as {sio.writable_names('cloud')}"
    fmt = sio.format_for_path(path)
    f = sio.FORMATS.get(fmt) if fmt else None
    if f is None or f.kind != "cloud" or f.encoder is None:
        raise ValueError(choices)
    return sio.output_format(path)  # (a folder: says so)


def write_cloud(cloud: GaussianCloud, path: str | Path) -> None:
    """The object's splats in the format its name gives (`check_splat_path`), atomically,
    through scene.io; in a 3DGS PLY the cloud's meta goes in a `comment wander {...}`
    header line (provenance). Raises ValueError for a name no splat writer takes,
    SceneFormatError for an empty cloud or a failed write."""
    from scene import io as sio

    path = Path(path)
    fmt = check_splat_path(path)
    if len(cloud) == 0:
        raise SceneFormatError(path, "cannot write an object with no splats")
    if fmt != "ply":
        sio.save(cloud, path, fmt)
        return
    meta = json.dumps(_jsonable(cloud.meta), separators=(",", ":")).replace("\n", " ")
    sio.save(cloud, path, "ply", comments=[f"wander {meta}"])


def check_mesh_path(path: str | Path) -> None:
    """Raise unless `path` names a mesh format `write_mesh` can write."""
    path = Path(path)
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise ValueError(f"{path}: mesh format must be one of {', '.join(MESH_SUFFIXES)}")


def write_mesh(mesh: Mesh, path: str | Path) -> None:
    """Mesh with vertex colours (or texture) to GLB / OBJ / PLY / STL / OFF, atomically,
    through scene.io (the one mesh encoder)."""
    from scene import io as sio

    path = Path(path)
    check_mesh_path(path)
    if mesh.n_faces == 0:
        raise SceneFormatError(path, "cannot write a mesh with no faces")
    sio.save(mesh, path, "mesh_ply" if path.suffix.lower() == ".ply" else path.suffix.lower()[1:])


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
