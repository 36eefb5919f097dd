"""Visual hull / space carving from views with known cameras, coloured from the views.

Used by the `multiview` backend on Zero123++'s six views, and usable for any set of
silhouettes with cameras. Frame: the object sits at the origin, cameras orbit it, the
input photo's viewpoint is azimuth 0 on +Z, +Y up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from generators.jobs import CancelToken
from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh

from .surfels import surfels

# Zero123++ v1.2 output layout: 3 rows x 2 columns of 320 px views, row-major.
ZERO123PP_AZIMUTHS = (30.0, 90.0, 150.0, 210.0, 270.0, 330.0)
ZERO123PP_ELEVATIONS = (20.0, -10.0, 20.0, -10.0, 20.0, -10.0)
ZERO123PP_FOV = 30.0
ZERO123PP_VIEW = 320
# Zero123++ frames objects normalised to about a unit sphere; this distance keeps a
# radius-1 sphere inside a 30° field of view.
ZERO123PP_DISTANCE = 1.0 / math.sin(math.radians(ZERO123PP_FOV / 2)) * 1.02


def orbit_camera(
    azimuth_deg: float,
    elevation_deg: float,
    distance: float,
    fov_deg: float,
    size: int | tuple[int, int],
    target=(0.0, 0.0, 0.0),
) -> Camera:
    """Camera on a sphere around `target`; azimuth 0 is +Z, positive azimuth turns toward +X."""
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    w, h = (size, size) if isinstance(size, int) else size
    eye = np.asarray(target, np.float64) + distance * np.array(
        [math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)]
    )
    return Camera.look_at(eye, target, fov_deg, w, h)


def zero123pp_cameras(
    size: int = ZERO123PP_VIEW, distance: float = ZERO123PP_DISTANCE
) -> list[Camera]:
    """The six fixed Zero123++ v1.2 cameras, in grid order."""
    return [
        orbit_camera(a, e, distance, ZERO123PP_FOV, size)
        for a, e in zip(ZERO123PP_AZIMUTHS, ZERO123PP_ELEVATIONS)
    ]


def split_grid(grid: np.ndarray, rows: int = 3, cols: int = 2) -> list[np.ndarray]:
    """(rows·S, cols·S, C) image -> rows·cols views (S, S, C), row-major."""
    h, w = grid.shape[:2]
    if h % rows or w % cols or h // rows != w // cols:
        raise ValueError(
            f"a {rows}x{cols} grid of square views is expected, got an image of {w}x{h}"
        )
    s = h // rows
    return [
        grid[r * s : (r + 1) * s, c * s : (c + 1) * s] for r in range(rows) for c in range(cols)
    ]


def silhouette_against_background(view: np.ndarray, tolerance: float = 0.08) -> np.ndarray:
    """Object mask (S, S) bool of a view (S, S, 3) float 0..1 on a flat (gray) background.

    The background colour is the median of the border pixels; pixels farther than
    `tolerance` from it are object, then cleaned (largest component, holes filled).
    """
    from .segment_classical import clean_mask

    v = np.asarray(view, np.float32)
    border = np.concatenate([v[0], v[-1], v[:, 0], v[:, -1]])
    bg = np.median(border, axis=0)
    dist = np.abs(v - bg).max(axis=2)
    import cv2

    m = cv2.morphologyEx(
        (dist > tolerance).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
    )
    return clean_mask(m > 0)


@dataclass
class CarveResult:
    """occ (R, R, R) bool over voxel centres origin + (i, j, k)·voxel, axes x, y, z."""

    occ: np.ndarray
    origin: np.ndarray
    voxel: float

    def centres(self, idx: np.ndarray) -> np.ndarray:
        return self.origin + (idx + 0.5) * self.voxel


def _carve_grid(
    masks: list[np.ndarray],
    cameras: list[Camera],
    lo: np.ndarray,
    hi: np.ndarray,
    res: int,
    cancel: CancelToken | None,
) -> CarveResult:
    voxel = float(np.max(hi - lo)) / res
    dims = np.maximum(np.ceil((hi - lo) / voxel).astype(int), 1)
    ii, jj, kk = np.meshgrid(*(np.arange(d) for d in dims), indexing="ij")
    idx = np.stack([ii.ravel(), jj.ravel(), kk.ravel()], 1)
    pts = lo + (idx + 0.5) * voxel  # (M, 3)
    keep = np.ones(len(pts), bool)
    for mask, cam in zip(masks, cameras):
        if cancel is not None:
            cancel.check()
        sel = np.nonzero(keep)[0]
        uv, z = cam.project(pts[sel])
        u, v = np.floor(uv[:, 0]).astype(np.int64), np.floor(uv[:, 1]).astype(np.int64)
        inside = (z > 0) & (u >= 0) & (v >= 0) & (u < mask.shape[1]) & (v < mask.shape[0])
        ok = np.zeros(len(sel), bool)
        ok[inside] = mask[v[inside], u[inside]]
        keep[sel[~ok]] = False
    return CarveResult(keep.reshape(tuple(dims)), lo.astype(np.float64), voxel)


def carve(
    masks: list[np.ndarray],
    cameras: list[Camera],
    resolution: int = 96,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    cancel: CancelToken | None = None,
) -> CarveResult:
    """Visual hull of the silhouettes: a coarse pass finds the object, a fine pass carves it."""
    if len(masks) != len(cameras) or not masks:
        raise ValueError("carving needs one silhouette per camera")
    for m, c in zip(masks, cameras):
        if m.shape != (c.height, c.width):
            raise ValueError(f"silhouette {m.shape} does not match its camera {c.width}x{c.height}")
        if not m.any():
            raise ValueError("a generated view contains no object (empty silhouette)")
    if bounds is None:
        d = float(np.mean([np.linalg.norm(c.position) for c in cameras]))
        half = d * math.tan(math.radians(max(c.fov_y_deg for c in cameras)) / 2) * 1.05
        lo, hi = np.full(3, -half), np.full(3, half)
    else:
        lo, hi = (np.asarray(b, np.float64) for b in bounds)
    coarse = _carve_grid(masks, cameras, lo, hi, 32, cancel)
    if not coarse.occ.any():
        raise ValueError(
            "the views' silhouettes do not agree on any shared volume (nothing carved)"
        )
    ijk = np.argwhere(coarse.occ)
    lo2 = coarse.origin + (ijk.min(0) - 1) * coarse.voxel
    hi2 = coarse.origin + (ijk.max(0) + 2) * coarse.voxel
    return _carve_grid(masks, cameras, lo2, hi2, resolution, cancel)


def surface_and_normals(res: CarveResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surface voxel indices (S, 3), outward normals (S, 3) and the smoothed field (R, R, R)."""
    from scipy import ndimage

    occ = res.occ
    pad = np.pad(occ, 1)
    interior = pad[1:-1, 1:-1, 1:-1].copy()
    for ax in range(3):
        for sh in (-1, 1):
            interior &= np.roll(pad, sh, axis=ax)[1:-1, 1:-1, 1:-1]
    surf = occ & ~interior
    field = ndimage.gaussian_filter(np.pad(occ.astype(np.float32), 2), 1.0)
    g = np.stack(np.gradient(field), -1)[2:-2, 2:-2, 2:-2]  # (R, R, R, 3)
    idx = np.argwhere(surf)
    n = -g[tuple(idx.T)]
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    return idx, n, field[2:-2, 2:-2, 2:-2]


def color_points(
    points: np.ndarray,
    normals: np.ndarray,
    views: list[np.ndarray],
    cameras: list[Camera],
    voxel: float,
) -> np.ndarray:
    """Colour (N, 3) of surface points from the views that see them (z-buffered, cos-weighted)."""
    acc = np.zeros((len(points), 3))
    wsum = np.zeros(len(points))
    for img, cam in zip(views, cameras):
        h, w = img.shape[:2]
        uv, z = cam.project(points)
        u = np.clip(np.floor(uv[:, 0]).astype(np.int64), 0, w - 1)
        v = np.clip(np.floor(uv[:, 1]).astype(np.int64), 0, h - 1)
        pix = v * w + u
        zbuf = np.full(h * w, np.inf)
        np.minimum.at(zbuf, pix, z)
        visible = z <= zbuf[pix] + 1.5 * voxel
        to_cam = cam.position - points
        to_cam /= np.maximum(np.linalg.norm(to_cam, axis=1, keepdims=True), 1e-12)
        wgt = np.clip(np.einsum("ij,ij->i", normals, to_cam), 0, 1) ** 2 * visible + 1e-6 * visible
        acc += wgt[:, None] * img[v, u, :3]
        wsum += wgt
    col = np.where(wsum[:, None] > 0, acc / np.maximum(wsum, 1e-12)[:, None], 0.5)
    return col.astype(np.float32)


def carve_to_object(
    res: CarveResult, views: list[np.ndarray], cameras: list[Camera], with_mesh: bool = True
) -> tuple[GaussianCloud, Mesh | None]:
    """Coloured surfels on the hull's surface voxels, and a marching-cubes mesh."""
    idx, normals, field = surface_and_normals(res)
    pts = res.centres(idx)
    cols = color_points(pts, normals, views, cameras, res.voxel)
    cloud = surfels(pts, normals, cols, 0.75 * res.voxel, thickness=0.3, opacity=0.99)
    mesh = None
    if with_mesh:
        from scipy.spatial import cKDTree
        from skimage.measure import marching_cubes

        vol = np.pad(field, 1)
        verts, faces, _, _ = marching_cubes(vol, 0.5)
        verts = res.origin + (verts - 1 + 0.5) * res.voxel
        faces = faces[:, ::-1]
        _, near = cKDTree(pts).query(verts)
        mesh = Mesh(verts.astype(np.float32), faces, cols[near])
        if _signed_volume(mesh) < 0:
            mesh = Mesh(mesh.vertices, mesh.faces[:, ::-1], mesh.vertex_colors)
    return cloud, mesh


def _signed_volume(mesh: Mesh) -> float:
    t = mesh.vertices[mesh.faces].astype(np.float64)
    return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean volumes of the same shape."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
