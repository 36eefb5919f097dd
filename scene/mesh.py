"""`Mesh`: a triangle mesh layer (inserted objects from external generators, colliders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidSceneError
from .rotations import decompose_similarity


@dataclass
class Mesh:
    """Triangle mesh.

    vertices       (V, 3) float32
    faces          (F, 3) int32, indices into vertices
    vertex_colors  (V, 3) float32 linear 0..1, or None
    uvs            (V, 2) float32, or None (with `texture`)
    texture        (H, W, 3|4) uint8 base-colour image, or None
    """

    vertices: np.ndarray
    faces: np.ndarray
    vertex_colors: np.ndarray | None = None
    uvs: np.ndarray | None = None
    texture: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vertices = np.ascontiguousarray(np.asarray(self.vertices, np.float32).reshape(-1, 3))
        self.faces = np.ascontiguousarray(
            np.asarray(self.faces, np.int64).reshape(-1, 3).astype(np.int32)
        )
        v = len(self.vertices)
        if self.faces.size and (self.faces.min() < 0 or self.faces.max() >= v):
            raise InvalidSceneError("mesh faces index vertices that do not exist")
        if self.vertex_colors is not None:
            c = np.asarray(self.vertex_colors, np.float32)
            if c.ndim != 2 or c.shape[0] != v or c.shape[1] not in (3, 4):
                raise InvalidSceneError(f"vertex_colors must be (V, 3); got {c.shape}")
            self.vertex_colors = np.ascontiguousarray(c[:, :3])
        if self.uvs is not None:
            self.uvs = np.ascontiguousarray(np.asarray(self.uvs, np.float32).reshape(v, 2))

    @property
    def n_vertices(self) -> int:
        return len(self.vertices)

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.n_vertices == 0:
            raise InvalidSceneError("an empty mesh has no bounds")
        return self.vertices.min(0), self.vertices.max(0)

    def face_normals(self) -> np.ndarray:
        """Unit normals per face, (F, 3)."""
        v = self.vertices[self.faces]
        n = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        return (n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def vertex_normals(self) -> np.ndarray:
        """Area-weighted unit normals per vertex, (V, 3)."""
        v = self.vertices[self.faces]
        fn = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        out = np.zeros_like(self.vertices, dtype=np.float64)
        for k in range(3):
            np.add.at(out, self.faces[:, k], fn)
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(n, 1e-12)).astype(np.float32)

    def colors_or_default(self) -> np.ndarray:
        """Per-vertex colour: the stored one, sampled from the texture, or light grey."""
        if self.vertex_colors is not None:
            return self.vertex_colors
        if self.texture is not None and self.uvs is not None:
            tex = np.asarray(self.texture)
            h, w = tex.shape[:2]
            u = np.clip(self.uvs[:, 0] % 1.0, 0, 1) * (w - 1)
            vv = np.clip(1.0 - (self.uvs[:, 1] % 1.0), 0, 1) * (h - 1)
            px = tex[vv.round().astype(int), u.round().astype(int), :3]
            return px.astype(np.float32) / 255.0
        return np.full((self.n_vertices, 3), 0.7, np.float32)

    def transformed(self, matrix: np.ndarray) -> Mesh:
        """Copy with vertices mapped by a 4×4 similarity (winding fixed for reflections)."""
        s, r, t = decompose_similarity(matrix)
        verts = (self.vertices.astype(np.float64) @ (s * r).T + t).astype(np.float32)
        faces = self.faces[:, ::-1].copy() if np.linalg.det(r) < 0 else self.faces.copy()
        return Mesh(
            verts,
            faces,
            None if self.vertex_colors is None else self.vertex_colors.copy(),
            None if self.uvs is None else self.uvs.copy(),
            self.texture,
            dict(self.meta),
        )


def ray_triangles(
    tri: np.ndarray,
    origin: np.ndarray,
    direction: np.ndarray,
    *,
    det_eps: float = 1e-12,
    t_min: float = 0.0,
) -> np.ndarray:
    """Ray–triangle intersection, vectorised over triangles (Möller & Trumbore 1997).

    tri: (F, 3, 3) float64 triangle corners; origin, direction: (3,) the ray (direction need
    not be unit: t is in its units). det_eps: triangles seen edge-on within it are misses;
    t_min: hits at t <= t_min (behind or at the origin) are misses.
    Returns (F,) float64: the ray parameter t of each triangle's hit, inf where it is missed.
    """
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > det_eps
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - tri[:, 0]
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > t_min)
    return np.where(hit, t, np.inf)


def is_camera_frusta(layer_or_mesh: Any) -> bool:
    """Whether a layer (or its mesh) is a reconstruction's photo-camera frusta
    (`generators.reconstruct.preview.frusta_mesh`): guides to where the photos were taken,
    not surfaces to stand on, place objects on, bump into, score or export. Read from the
    layer's source or the mesh's own meta (either survives a project round trip)."""
    src = getattr(layer_or_mesh, "source", None)
    if isinstance(src, dict) and src.get("what") == "camera frusta":
        return True
    data = getattr(layer_or_mesh, "data", layer_or_mesh)
    meta = getattr(data, "meta", None)
    return isinstance(meta, dict) and meta.get("what") == "camera frusta"
