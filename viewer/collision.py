"""Walk-mode collision from the splats themselves: an occupancy grid and a ground height field.

`collision_cloud` gathers what collides (visible splats without the far field, points
sampled on meshes: world frame); `Collider.from_cloud` builds the grid from it.
Everything in `Collider` is in the navigation's *local* frame (+Y up; see viewer/up_axis.py).
Only opaque-enough splats count, large splats are sampled along their axes, and a voxel
is solid only when its 3×3×3 neighbourhood holds several such samples, so isolated
floaters neither block the walker nor hold it up. Each solid voxel keeps the mean height
of its samples, so standing heights are not quantised to the grid.
Pure NumPy/SciPy, no Qt.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scene.gaussians import GaussianCloud
from scene.mesh import Mesh, is_camera_frusta

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from scene.world import Layer, World


def collision_cloud(world: World, max_splats: int = 1_500_000) -> GaussianCloud | None:
    """What walking collides with, in the world frame: the visible splats (layer transforms
    baked, no SH, far field left out: `GaussianCloud.near_field_mask`) + points sampled on
    the visible meshes (`sample_mesh_surface`, as tiny opaque splats), camera frusta left
    out (a drone scene's walker stood on its frusta 30 m up and could not walk through
    them). At most `max_splats` (a seeded random subset); None when nothing visible
    collides."""
    parts: list[GaussianCloud] = []
    total = sum(
        len(lay.data) for lay in world.layers if lay.visible and isinstance(lay.data, GaussianCloud)
    )
    # each layer thinned before it is copied (a share of the budget by its size): copying
    # a 1M-splat world whole to keep 100k of it cost 0.2 s
    share = min(1.0, max_splats / max(total, 1))
    rng = np.random.default_rng(0)
    for lay in world.layers:
        if not lay.visible:
            continue
        d = lay.data
        if isinstance(d, GaussianCloud) and len(d):
            keep = _near_backdrop(d, np.flatnonzero(d.near_field_mask()))
            if share < 1.0:
                keep = np.sort(rng.choice(keep, int(round(share * len(keep))), replace=False))
            c = GaussianCloud(  # no colour: walking does not look at it
                d.means[keep],
                d.scales[keep],
                d.quats[keep],
                d.opacities[keep],
                np.zeros((len(keep), 3), np.float32),
            )
            if not np.allclose(lay.transform, np.eye(4)):
                c = c.transformed(lay.transform)
            parts.append(c)
        elif isinstance(d, Mesh) and d.n_faces and not is_camera_frusta(lay):
            pts = sample_mesh_surface(d, lay.transform)
            if len(pts):
                parts.append(
                    GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 1e-3, 0.99)
                )
    if not parts:
        return None
    cloud = parts[0] if len(parts) == 1 else GaussianCloud.concatenate(parts)
    if len(cloud) > max_splats:
        idx = np.random.default_rng(0).choice(len(cloud), max_splats, replace=False)
        cloud = cloud.subset(np.sort(idx))
    return cloud


#: a reconstruction's backdrop ground discs collide within this many times the
#: photographed scene's half extent of its centre (`_near_backdrop`)
BACKDROP_REACH = 1.5


#: the share of points left out at each end of every axis by `robust_box`
BOX_TAIL = 0.002


def robust_box(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo (3,), hi (3,)): the box of points (N, 3) without the BOX_TAIL of them at each end
    of each axis (stray splats, floaters), in the points' dtype."""
    lo, hi = np.quantile(pts, [BOX_TAIL, 1.0 - BOX_TAIL], axis=0)
    return lo.astype(pts.dtype, copy=False), hi.astype(pts.dtype, copy=False)


def _backdrop_span(cloud: GaussianCloud) -> tuple[int, int] | None:
    """(start, stop) of a reconstruction's backdrop ground discs among `cloud`'s splats
    (`GaussianCloud.backdrop_discs` of them just before a marked far field), or None."""
    n = cloud.backdrop_discs()
    if not n:
        return None
    stop = len(cloud) - cloud.far_field_marked()
    return stop - n, stop


def _near_backdrop(cloud: GaussianCloud, keep: np.ndarray) -> np.ndarray:
    """`keep` (ascending splat indices of `cloud`) without the backdrop ground discs
    (generators/reconstruct/ground_fill.py: `meta["backdrop"]["ground_discs"]` of them just
    before a marked far field) that lie outside the photographed scene's box grown
    BACKDROP_REACH times. The discs reach half way to the sky sphere (870 m round the Great
    Wall's 300 m of terrain): the collider's grid spanned them at 11 m voxels, the ground
    under the terrain read as the discs' level, and switching to Walk landed the walker
    140 m out on them (a trial)."""
    span = _backdrop_span(cloud)
    if span is None:
        return keep
    start, stop = span
    disc = (keep >= start) & (keep < stop)
    proper = keep[~disc]
    if len(proper) < 10 or not disc.any():
        return keep
    lo, hi = robust_box(cloud.means[proper].astype(np.float64))
    centre, half = 0.5 * (lo + hi), 0.5 * BACKDROP_REACH * (hi - lo) + 1e-6
    near = np.all(np.abs(cloud.means[keep[disc]] - centre) <= half, axis=1)
    return np.sort(np.concatenate([proper, keep[disc][near]]))


def sample_mesh_surface(mesh: Mesh, transform: np.ndarray, n_max: int = 300_000) -> np.ndarray:
    """Points (M, 3) float64 spread over a mesh's surface in world space: area-weighted
    uniform samples (seeded), about one per (extent / 400)² of area, 1000..`n_max` of them.
    `transform` (4, 4) maps the mesh's local frame to the world. Empty (0, 3) for no area."""
    v = mesh.vertices.astype(np.float64) @ transform[:3, :3].T + transform[:3, 3]
    tri = v[mesh.faces]  # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = float(area.sum())
    if total <= 0:
        return np.zeros((0, 3))
    ext = float(np.max(v.max(0) - v.min(0)))
    spacing = max(ext / 400.0, 1e-6)
    n = int(min(n_max, max(1000, total / spacing**2)))
    rng = np.random.default_rng(0)
    f = rng.choice(len(tri), n, p=area / total)
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    a, b, c = 1 - s, s * (1 - r2), s * r2
    return tri[f, 0] * a[:, None] + tri[f, 1] * b[:, None] + tri[f, 2] * c[:, None]


def box_sum3(a: np.ndarray) -> np.ndarray:
    """Sum over each cell's 3×3×3 neighbourhood of a 3D array (zero outside), as
    `scipy.ndimage.uniform_filter(a, 3, mode="constant") * 27` without importing SciPy
    (a quarter second on the path to a big scene's first frame): separable, one axis at
    a time."""
    out = a
    for ax in range(3):
        p = np.pad(np.moveaxis(out, ax, 0), [(1, 1), (0, 0), (0, 0)])
        out = np.moveaxis(p[:-2] + p[1:-1] + p[2:], 0, ax)
    return out


#: splats of the quick collider a big scene starts with (its start pose on the floor at
#: once; the full one follows off the GUI thread)
QUICK_SPLATS = 100_000


def collider_for(
    world: World, up_rot: np.ndarray | None = None, *, quick: bool = False
) -> Collider | None:
    """The walk collider of `world` with `up_rot` (3, 3) turning the world into the local
    +Y-up frame (None: already +Y up). None when nothing collides. `quick`: from at most
    QUICK_SPLATS splats (a seeded subset; ~0.05 s for a 1M-splat scene against ~0.8 s),
    enough to put the start view on the floor before the first frame."""
    if quick:
        cloud = clear_around_cameras(collision_cloud(world, max_splats=QUICK_SPLATS), world, up_rot)
        big = QUICK_SPLATS // 4
        col = Collider.from_cloud(cloud, up_rot, max_splats=QUICK_SPLATS, max_big=big)
    else:
        cloud = clear_around_cameras(collision_cloud(world), world, up_rot)
        col = Collider.from_cloud(cloud, up_rot)
    if col is not None:
        col.landing_box = photographed_box(world, up_rot)
        if col.landing_box is not None:
            col.photographed_points = photographed_sample(world, up_rot)
    return col


def _photographed_layers(world: World) -> list[tuple[Layer, int]]:
    """(layer, n) for each visible splat layer whose ground a reconstruction continued as
    backdrop discs: its first n splats (n >= 10) are the photographed scene (the discs and
    the far field after them)."""
    out = []
    for lay in world.layers:
        d = lay.data
        if not lay.visible or not isinstance(d, GaussianCloud) or not len(d):
            continue
        span = _backdrop_span(d)
        if span is not None and span[0] >= 10:
            out.append((lay, span[0]))
    return out


def _layer_to_local(lay: Layer, pts: np.ndarray, up_rot: np.ndarray | None) -> np.ndarray:
    """Points (N, 3) of layer `lay`'s own frame in the local +Y-up frame (`up_rot`, None:
    the world's)."""
    rot = np.eye(3) if up_rot is None else np.asarray(up_rot, np.float64)
    world_pts = np.asarray(pts, np.float64) @ lay.transform[:3, :3].T + lay.transform[:3, 3]
    return world_pts @ rot.T


def photographed_box(
    world: World, up_rot: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The local-frame box (lo (3,), hi (3,)) of the visible splats photographed in the
    layers whose ground a reconstruction continued as backdrop discs (0.2-99.8 % of them,
    far field and discs left out), None when no layer has such discs."""
    boxes = []
    for lay, n in _photographed_layers(world):
        lo, hi = robust_box(lay.data.means[:n].astype(np.float64))
        corners = np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        boxes.append(_layer_to_local(lay, corners, up_rot))
    if not boxes:
        return None
    allc = np.concatenate(boxes)
    return allc.min(0), allc.max(0)


#: splats `photographed_sample` draws (seeded) from the photographed part of a scene
PHOTOGRAPHED_SAMPLE = 4000


def photographed_sample(world: World, up_rot: np.ndarray | None = None) -> np.ndarray | None:
    """(M, 3) local-frame centres of up to PHOTOGRAPHED_SAMPLE opaque (> 0.3) splats drawn
    at random (seeded) from the photographed part of the layers `photographed_box` bounds
    (before their backdrop discs), None when there are none: which way the photographed
    scene lies, finer than its box (turned 90° from the Great Wall's photos, its 300 m box
    was still in view with none of its splats, a trial)."""
    parts = []
    for lay, n in _photographed_layers(world):
        idx = np.flatnonzero(lay.data.opacity_values()[:n] > 0.3)
        if len(idx):
            parts.append((lay, idx))
    total = sum(len(i) for _, i in parts)
    if not total:
        return None
    rng = np.random.default_rng(0)
    out = []
    for lay, idx in parts:
        k = max(1, round(PHOTOGRAPHED_SAMPLE * len(idx) / total))
        pick = idx if len(idx) <= k else rng.choice(idx, k, replace=False)
        out.append(_layer_to_local(lay, lay.data.means[pick], up_rot))
    return np.concatenate(out)


#: a reconstruction's photos were taken from free space: a collision splat nearer a photo's
#: camera than this share of the camera's height above the ground is a floater
CAMERA_CLEARANCE = 0.4
GROUND_PERCENTILE = 5.0  # the ground's height: this percentile of the collision splats'


def clear_around_cameras(
    cloud: GaussianCloud | None, world: World, up_rot: np.ndarray | None = None
) -> GaussianCloud | None:
    """`cloud` (world frame) without the splats near the photos' cameras of a reconstruction
    (`world.meta['cameras']`): within CAMERA_CLEARANCE × each camera's height above the
    ground (GROUND_PERCENTILE of the splats' heights along the viewer's up, `up_rot`'s +Y).
    The optimiser leaves floaters by the cameras; dense enough to count as solid, a few
    under a drone's cameras were "ground" 0.8 m below the eye, and Walk from the Great
    Wall's photos stayed 30 m up (a trial). A walk's 1.5 m cameras clear 0.6 m round them.
    `cloud` as it is without cameras."""
    recs = world.meta.get("cameras") if isinstance(world.meta, dict) else None
    if cloud is None or not recs or not len(cloud):
        return cloud
    from scene.camera import Camera

    pos = []
    for rec in recs:
        try:
            pos.append(Camera.from_record(rec).position)
        except (KeyError, TypeError, ValueError) as exc:
            log.debug("a camera record without a pose: %s", exc)
    up = np.asarray(up_rot, np.float64)[1] if up_rot is not None else np.array([0.0, 1.0, 0.0])
    means = cloud.means.astype(np.float64)
    ground = float(np.percentile(means @ up, GROUND_PERCENTILE))
    keep = np.ones(len(cloud), bool)
    for p in pos:
        r = CAMERA_CLEARANCE * (float(p @ up) - ground)
        if not (np.isfinite(r) and r > 0):
            continue
        near = np.all(np.abs(means - p) < r, axis=1)  # the box round the ball, then the ball
        near[near] = np.sum((means[near] - p) ** 2, axis=1) < r * r
        keep &= ~near
    return cloud if keep.all() else cloud.subset(keep)


@dataclass
class Collider:
    """Solid voxels + surface heights on a regular grid.

    heights  (nx, ny, nz) float32  mean sample height of each solid voxel, NaN where empty
    floor    (nx, nz)     float32  lowest dense surface per column (holes filled nearby), NaN = none
    origin   (3,)         float64  world (local-frame) position of voxel (0, 0, 0)'s corner
    voxel    float                 edge length
    """

    heights: np.ndarray
    floor: np.ndarray
    origin: np.ndarray
    voxel: float
    #: (lo (3,), hi (3,)) local-frame box of the photographed scene where a reconstruction
    #: continues its ground beyond it (`photographed_box`): Walk lands inside it; None: anywhere
    landing_box: tuple[np.ndarray, np.ndarray] | None = None
    #: (M, 3) local-frame sample of that photographed scene's splats (`photographed_sample`)
    photographed_points: np.ndarray | None = None

    # ------------------------------------------------------------ building
    @classmethod
    def from_cloud(
        cls,
        cloud,
        up_rot: np.ndarray | None = None,
        *,
        voxel: float | None = None,
        radius: float = 0.2,
        min_opacity: float = 0.3,
        min_neighbours: int = 3,
        max_cells: int = 160,
        fill_radius: float | None = None,
        max_splats: int = 600_000,
        max_big: int = 150_000,
    ) -> Collider | None:
        """Build from a GaussianCloud (world frame) rotated by `up_rot` into the local frame.

        At most `max_splats` opaque splats are used (random subset; density thresholds are
        scaled to match) and at most `max_big` large ones get extra samples, so a 1M-splat
        scene builds in well under a second. Returns None when too few splats are opaque.
        """
        if cloud is None or len(cloud) == 0:
            return None
        op = cloud.opacity_values()
        keep = np.flatnonzero(op >= min_opacity)
        if len(keep) < 10:
            return None
        rng = np.random.default_rng(0)
        if len(keep) > max_splats:
            keep = np.sort(rng.choice(keep, max_splats, replace=False))
        means = cloud.means[keep]
        sig = np.exp(cloud.scales[keep])  # (M, 3) float32
        rot = (up_rot if up_rot is not None else np.eye(3)).astype(np.float32)
        pts = means @ rot.T  # (M, 3) local frame, float32
        lo, hi = robust_box(pts)
        ext = float(np.max(hi - lo))
        if not np.isfinite(ext) or ext <= 0:
            return None
        v = voxel if voxel is not None else max(radius * 0.5, ext / max_cells)
        # Big splats: also add samples at ±1σ along their two largest axes.
        big = np.flatnonzero(sig.max(1) > v)
        if len(big) > max_big:
            big = rng.choice(big, max_big, replace=False)
        if len(big):
            from scene.rotations import quats_to_matrices

            rm = quats_to_matrices(cloud.quats[keep[big]]).astype(np.float32)  # (B, 3, 3) axes
            s = sig[big]
            order = np.argsort(-s, axis=1)[:, :2]  # two largest axes
            extra = []
            for k in range(2):
                ax = np.take_along_axis(rm, order[:, k][:, None, None].repeat(3, 1), 2)[:, :, 0]
                off = ax * np.take_along_axis(s, order[:, k][:, None], 1)
                off = off @ rot.T
                base = pts[big]
                extra += [base + off, base - off]
            pts = np.concatenate([pts] + extra)
        margin = 2 * v
        origin = lo - margin
        dims = np.ceil((hi - lo + 2 * margin) / v).astype(int) + 1
        if np.prod(dims.astype(np.float64)) > 3e7:  # keep memory bounded (~120 MB float32)
            v *= (np.prod(dims.astype(np.float64)) / 3e7) ** (1 / 3)
            dims = np.ceil((hi - lo + 2 * margin) / v).astype(int) + 1
            origin = lo - margin
        idx = np.floor((pts - origin) / v).astype(np.int64)  # (P, 3)
        inside = np.all((idx >= 0) & (idx < dims), axis=1)
        idx, ys = idx[inside], pts[inside, 1].astype(np.float64)
        flat = np.ravel_multi_index(idx.T, dims)
        n = int(np.prod(dims))
        counts = np.bincount(flat, minlength=n).astype(np.float32).reshape(dims)
        ysum = np.bincount(flat, weights=ys, minlength=n).reshape(dims)
        nb = box_sum3(counts)
        solid = (counts > 0) & (nb >= min_neighbours - 0.5)
        heights = np.full(dims, np.nan, np.float32)
        heights[solid] = (ysum[solid] / counts[solid]).astype(np.float32)
        floor = _lowest_surface(heights)
        fill = fill_radius if fill_radius is not None else 2.5 * radius
        floor = _fill_holes(floor, max_cells=max(1, int(round(fill / v))))
        return cls(heights, floor, origin.astype(np.float64), float(v))

    # -------------------------------------------------------------- queries
    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) corners of the grid in the local frame."""
        return self.origin, self.origin + np.array(self.heights.shape) * self.voxel

    def _columns(self, x: float, z: float, r: float) -> tuple[slice, slice, np.ndarray]:
        """Index ranges covering the disc (x, z, r) and a mask of columns inside it."""
        v, o = self.voxel, self.origin
        nx, _, nz = self.heights.shape
        i0 = max(int(math.floor((x - r - o[0]) / v)), 0)
        i1 = min(int(math.floor((x + r - o[0]) / v)) + 1, nx)
        k0 = max(int(math.floor((z - r - o[2]) / v)), 0)
        k1 = min(int(math.floor((z + r - o[2]) / v)) + 1, nz)
        if i1 <= i0 or k1 <= k0:
            return slice(0, 0), slice(0, 0), np.zeros((0, 0), bool)
        cx = o[0] + (np.arange(i0, i1) + 0.5) * v
        cz = o[2] + (np.arange(k0, k1) + 0.5) * v
        d2 = (cx[:, None] - x) ** 2 + (cz[None, :] - z) ** 2
        # a cell touches the disc when its centre is within r + half its diagonal
        return slice(i0, i1), slice(k0, k1), d2 <= (r + 0.7072 * v) ** 2

    def ground_at(self, x: float, z: float, max_y: float, radius: float = 0.0) -> float | None:
        """Height of the highest dense surface at or below `max_y` under the disc, or None.

        Columns with no surface below `max_y` fall back to the filled floor height field
        (so small holes in a captured floor do not swallow the walker).
        """
        si, sk, mask = self._columns(x, z, max(radius, 1e-9))
        if mask.size == 0 or not mask.any():
            return None
        h = self.heights[si, :, sk]  # (a, ny, b)
        with np.errstate(invalid="ignore"):
            ok = h <= max_y + 1e-6
        cand = np.where(ok, h, -np.inf).max(axis=1)  # (a, b)
        fl = self.floor[si, sk]
        fl = np.where(np.isfinite(fl) & (fl <= max_y + 1e-6), fl, -np.inf)
        best = np.maximum(cand, fl)[mask]
        g = float(best.max())
        return g if np.isfinite(g) else None

    def raycast(
        self, origin: np.ndarray, direction: np.ndarray, max_dist: float | None = None
    ) -> np.ndarray | None:
        """The first point (3,) along the ray (local frame) inside a solid voxel, sampled
        every half voxel up to `max_dist` (default: across the grid), or None."""
        o = np.asarray(origin, np.float64)
        d = np.asarray(direction, np.float64)
        d = d / max(float(np.linalg.norm(d)), 1e-12)
        lo, hi = self.bounds
        far = (
            max_dist
            if max_dist is not None
            else float(np.linalg.norm(hi - lo)) + float(np.linalg.norm(o - 0.5 * (lo + hi)))
        )
        t = np.arange(0.0, far, 0.5 * self.voxel)
        pts = o + t[:, None] * d
        idx = np.floor((pts - self.origin) / self.voxel).astype(np.int64)
        dims = np.array(self.heights.shape)
        inside = np.all((idx >= 0) & (idx < dims), axis=1)
        solid = np.zeros(len(t), bool)
        ii = idx[inside]
        solid[inside] = np.isfinite(self.heights[ii[:, 0], ii[:, 1], ii[:, 2]])
        first = np.flatnonzero(solid)
        return pts[first[0]] if len(first) else None

    def floor_at(self, x: float, z: float) -> float | None:
        """The lowest dense surface in the column (x, z), or None."""
        si, sk, mask = self._columns(x, z, 1e-9)
        if mask.size == 0:
            return None
        fl = self.floor[si, sk][mask]
        fl = fl[np.isfinite(fl)]
        return float(fl.min()) if fl.size else None

    def nearest_floor(self, x: float, z: float) -> tuple[float, float, float] | None:
        """(x, z, height) of the floor column nearest to (x, z) (the column itself when it
        has a floor), or None when the collider has no floor at all."""
        fl = self.floor
        ok = np.argwhere(np.isfinite(fl))
        if not len(ok):
            return None
        xz = self.origin[[0, 2]] + (ok + 0.5) * self.voxel
        j = int(np.argmin(((xz - np.array([x, z])) ** 2).sum(1)))
        return float(xz[j, 0]), float(xz[j, 1]), float(fl[tuple(ok[j])])

    def blockers(self, feet: np.ndarray, radius: float, height: float, step: float) -> np.ndarray:
        """Horizontal (x, z) centres (K, 2) of solid voxels overlapping the walker's body.

        The body is the vertical cylinder of `radius` from `feet + step` to `feet + height`
        (what lies below `step` is ground the walker can step onto).
        """
        x, y, z = float(feet[0]), float(feet[1]), float(feet[2])
        si, sk, mask = self._columns(x, z, radius)
        if mask.size == 0 or not mask.any():
            return np.zeros((0, 2))
        v, o = self.voxel, self.origin
        ny = self.heights.shape[1]
        j0 = max(int(math.floor((y + step - o[1]) / v)) - 1, 0)
        j1 = min(int(math.floor((y + height - o[1]) / v)) + 2, ny)
        if j1 <= j0:
            return np.zeros((0, 2))
        h = self.heights[si, j0:j1, sk]  # (a, c, b)
        with np.errstate(invalid="ignore"):
            hit = (h > y + step) & (h < y + height)
        hit &= mask[:, None, :]
        if not hit.any():
            return np.zeros((0, 2))
        ii, _, kk = np.nonzero(hit)
        return np.stack([o[0] + (ii + si.start + 0.5) * v, o[2] + (kk + sk.start + 0.5) * v], 1)

    def blocked(self, feet: np.ndarray, radius: float, height: float, step: float) -> bool:
        """True when the walker's body at `feet` overlaps a solid voxel."""
        return len(self.blockers(feet, radius, height, step)) > 0

    def move(
        self, feet: np.ndarray, delta: np.ndarray, radius: float, height: float, step: float
    ) -> np.ndarray:
        """Move the walker horizontally by `delta` (x, z used), sliding along walls.

        Collide-and-slide: each sub-step (at most a quarter voxel/radius, so thin walls
        cannot be tunnelled through) is followed by pushing the body out of the solid
        voxels it overlaps (each voxel a cylinder of half a voxel), which leaves only the
        motion along the wall. A walker that starts deep inside geometry moves freely,
        so it can walk out.
        """
        pos = np.asarray(feet, np.float64).copy()
        d = np.array([delta[0], 0.0, delta[2]], np.float64)
        dist = float(np.hypot(d[0], d[2]))
        if dist < 1e-12:
            return pos
        reach = radius + 0.5 * self.voxel
        hits = self.blockers(pos, radius, height, step)
        if len(hits) and float(np.min(np.hypot(*(hits - pos[[0, 2]]).T))) < 0.5 * reach:
            return pos + d
        n = max(1, int(math.ceil(dist / (0.25 * min(radius, self.voxel) + 1e-12))))
        stepv = d / min(n, 400)
        for _ in range(min(n, 400)):
            start = pos.copy()
            pos = pos + stepv
            for _it in range(4):
                hits = self.blockers(pos, radius, height, step)
                if len(hits) == 0:
                    break
                away = pos[[0, 2]] - hits  # (K, 2)
                dd = np.hypot(away[:, 0], away[:, 1])
                pen = reach - dd
                ok = (pen > 0) & (dd > 1e-9)
                if not ok.any():
                    break
                push = away[ok] / dd[ok, None] * pen[ok, None]
                # The deepest overlap sets the size, the sum sets the direction.
                dirv = push.sum(0)
                nrm = float(np.hypot(*dirv))
                if nrm < 1e-12:
                    pos = start
                    break
                pos[[0, 2]] += dirv / nrm * float(pen[ok].max() + 1e-6)
            if np.hypot(*(pos - start)[[0, 2]]) < 1e-9:
                break  # wedged in a corner
        return pos


def _lowest_surface(heights: np.ndarray) -> np.ndarray:
    """Per column (nx, nz) the height of the lowest solid voxel, NaN where none."""
    solid = np.isfinite(heights)
    any_ = solid.any(axis=1)
    first = np.argmax(solid, axis=1)  # (nx, nz)
    out = np.take_along_axis(heights, first[:, None, :], axis=1)[:, 0, :]
    return np.where(any_, out, np.nan).astype(np.float32)


def _fill_holes(floor: np.ndarray, max_cells: int) -> np.ndarray:
    """Fill NaN columns from the nearest valid column within `max_cells`."""
    valid = np.isfinite(floor)
    if not valid.any() or valid.all():
        return floor
    from scipy.ndimage import distance_transform_edt

    dist, (ii, kk) = distance_transform_edt(~valid, return_indices=True)
    filled = floor[ii, kk]
    return np.where(valid | (dist <= max_cells), filled, np.nan).astype(np.float32)
