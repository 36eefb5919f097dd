"""`SplatRenderer`: draws a World's visible layers (Gaussian clouds + meshes) into the
current OpenGL 3.3 core context (the app's QOpenGLWidget or an offscreen context).

Splat attributes go to float textures once per layer set; each frame only the order
buffer (uint32 splat indices, back to front) is re-uploaded, and only when a new sort
finished or `max_splats` changed. Layer transforms are uniforms, so moving an object
uploads nothing. Sorting runs on a background thread (see viewer/sorting.py) unless
`sync_sort=True` (offscreen renders: exact order for every frame).

Limited frames (`max_splats`, drawn while the camera moves) keep the strongest splats in
view and grow them to cover for the dropped ones; in scenes over LOD_MIN_SPLATS they draw
a merged coarse level instead (viewer/lod.py), built on a worker after the first frame,
cut adaptively: the voxels largest on screen are drawn with a middle level's four times as
many merged splats, and those largest on screen with their original splats, as far as
`max_splats` allows (viewer/lod_cut.py), footprints cut at 2 sigma. Measured with
`bench/render.py --fixed 45000@0.33 --coarse` (room walk, moving frame vs the full frame),
coarse level alone -> cut: 300k SSIM 0.793 -> 0.836, PSNR 27.9 -> 29.9 dB, CPU 83 -> 71 ms
per frame; 1M 0.655 -> 0.677, 25.9 -> 26.1 dB, 72 -> 59 ms.
`draw_depth` draws the same frame's expected inverse depth (viewer/reproject.py redraws a
still frame from a moving camera with it, over moving frames drawn `with_depth`).
A limited frame shares its budget among the layers in view (sorting.strongest_per_layer:
a small object keeps all its splats). The coarse level is merged from the data as packed
and drawn only while that is the layers' current data (after an edit: the fine path until
it is merged again).

The renderer follows its World's events (`scene.events`) rather than re-checking every
layer each frame: a layer added, removed or given new data re-packs the textures; a moved
layer only re-sorts (its matrix is a uniform; a layer past the slot limit has it baked in,
so that one re-packs); a shown or hidden layer starts a new sort generation; a rename
changes nothing drawn. Whoever changes a layer behind the World's back calls `invalidate`.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
from OpenGL import GL

from scene.camera import Camera
from scene.events import LayerAdded, LayerChanged, LayerRemoved, WorldEvent
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.splatting import reduced_lowpass
from scene.world import Layer, World

from .gl_util import compile_program, read_rgba8, uniform_locations
from .jobs import background
from .lod import MergeTree, merge_tree
from .mesh_renderer import MeshRenderer
from .sorting import (
    NEAR_CULL,
    BackgroundSorter,
    Frustum,
    SortRequest,
    grow_factor,
    layer_depth,
    run_sort,
    splat_weights,
    strongest_per_layer,
    view_changed,
)

log = logging.getLogger(__name__)

MAX_LAYERS = 32  # layer slots in the shader's model-matrix array (last one: identity)
TEX_W = 4096  # texture width in texels (must match the shaders)
INLINE_PACK_LIMIT = 200_000  # scenes up to this many splats are packed on the drawing thread
#: `pack_splats` fills chunks of this many splats on this many threads (a 1M-splat SH-3 PLY
#: on this 2-core machine: see bench/startup.py)
PACK_CHUNK = 65_536
PACK_THREADS = max(1, min(4, os.cpu_count() or 1))
LOD_MIN_SPLATS = 100_000  # bigger scenes get a merged coarse level for moving frames
LOD_SPLATS = 60_000  # its size: about half in view, what a moving frame can draw here
MOVING_SIGMA_MAX = (
    2.0  # moving frames' footprints end this many sigmas out (SplatRenderer.moving_sigma_max)
)
_QUAD = np.array([0, 1, 2, 2, 1, 3], np.uint32)  # two triangles over corners 0..3 of a quad


@dataclass
class DrawStats:
    """What one `draw` did."""

    splats_drawn: int = 0  # instances submitted (after near cull and max_splats)
    splats_total: int = 0  # splats in visible layers
    sort_ms: float = 0.0  # sort time of an order adopted this frame (0 if none)
    gpu_upload_ms: float = 0.0  # time spent uploading (order buffer, new layers) this frame
    triangles: int = 0  # mesh triangles drawn
    cpu_ms: float = 0.0  # splats composited on the CPU (viewer/cpu_splat.py; 0: by GL)
    #: the kept frame reprojected over this moving frame and the result scaled up
    #: (reproject.draw_scaled): a cost of its own, not of the frame's level
    warp_ms: float = 0.0
    #: (h, w, 4) uint8 RGBA, bottom row first: what a reduced frame scaled up on the CPU
    #: left in the target framebuffer, when nothing drew over it (reproject.draw_scaled);
    #: a viewport that reads its frame back can paint this instead. None otherwise
    image: np.ndarray | None = None


@dataclass
class _Slot:
    """Where one Gaussian layer lives in the uploaded textures."""

    layer: Layer
    slot: int  # index into u_models
    start: int
    stop: int
    baked: np.ndarray | None  # transform baked into the upload (overflow layers), else None
    lo: np.ndarray  # (3,) local bounds of its centres
    hi: np.ndarray
    #: the layer's data as packed (an edit replaces layer.data; the coarse level must be
    #: merged from what was uploaded, not from newer data)
    data: GaussianCloud | None = None


def _frustum(cam: Camera) -> Frustum:
    """The frustum the splat shader culls `cam`'s view to (see `Frustum.for_camera`)."""
    return Frustum.for_camera(cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height)


def projection_matrix(cam: Camera, near: float, far: float) -> np.ndarray:
    """OpenCV camera space -> GL clip space (row-major 4×4): pixel (u, v) with v down maps to
    NDC (2u/W - 1, 1 - 2v/H), depth z in [near, far] to [-1, 1]."""
    w, h = cam.width, cam.height
    return np.array(
        [
            [2 * cam.fx / w, 0.0, 2 * cam.cx / w - 1, 0.0],
            [0.0, -2 * cam.fy / h, 1 - 2 * cam.cy / h, 0.0],
            [0.0, 0.0, (far + near) / (far - near), -2 * far * near / (far - near)],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )


def covariance_rows(quats: np.ndarray, log_scales: np.ndarray) -> np.ndarray:
    """Upper triangles of R diag(s²) Rᵀ, (N, 6) float32 [xx, xy, xz, yy, yz, zz], for quats
    (N, 4) wxyz (normalised here) and log_scales (N, 3). Same values as
    GaussianCloud.covariances() in float32 arithmetic, without the (N, 3, 3) temporaries."""
    q = np.asarray(quats, np.float32)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), np.float32(1e-12))
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    s = np.exp(np.asarray(log_scales, np.float32))
    one = np.float32(1)
    sx, sy, sz = s[:, 0], s[:, 1], s[:, 2]
    # columns of M = R diag(s), each as its (x, y, z) components
    m0 = (one - 2 * (y * y + z * z)) * sx, 2 * (x * y + w * z) * sx, 2 * (x * z - w * y) * sx
    m1 = 2 * (x * y - w * z) * sy, (one - 2 * (x * x + z * z)) * sy, 2 * (y * z + w * x) * sy
    m2 = 2 * (x * z + w * y) * sz, 2 * (y * z - w * x) * sz, (one - 2 * (x * x + y * y)) * sz
    out = np.empty((len(q), 6), np.float32)
    for c, (a, b) in enumerate(((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))):
        out[:, c] = m0[a] * m0[b] + m1[a] * m1[b] + m2[a] * m2[b]
    return out


def pack_splats(clouds: list[tuple[GaussianCloud, int]]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Texture payloads for clouds tagged with their layer slot.

    Returns geom (rows*TEX_W, 4) float32, 3 texels per splat [(mean, opacity), (cxx cxy cxz
    cyy), (cyz czz slot aa)] (aa = 1 for clouds trained antialiased, meta["antialiased"], as
    spz flag 0x1), colour (rows*TEX_W, 4) float16 holding SH coefficients k-major, RGB
    fastest, T texels per splat, both zero padded to whole texture rows, plus the SH
    degree and T. Filled in chunks of PACK_CHUNK splats on PACK_THREADS threads (numpy
    lets go of the GIL for the covariances and the float16 casts).
    """
    from scene.sh import REST_COEFFS

    degree = max((c.sh_degree for c, _ in clouds), default=0)
    ncoef = 1 + REST_COEFFS[degree]
    texels = math.ceil(3 * ncoef / 4)
    n = sum(len(c) for c, _ in clouds)
    geom_rows = np.zeros((max(1, math.ceil(3 * n / TEX_W)) * TEX_W, 4), np.float32)
    color_rows = np.zeros((max(1, math.ceil(texels * n / TEX_W)) * TEX_W, 4), np.float16)
    geom = geom_rows[: 3 * n].reshape(n, 3, 4)
    color = color_rows[: texels * n].reshape(n, texels * 4)
    jobs = []  # (cloud, its opacities, slot, first row in the output, first splat, stop)
    at = 0
    for cloud, slot in clouds:
        m = len(cloud)
        if m:
            opacity = cloud.opacity_values()
            for a in range(0, m, PACK_CHUNK):
                jobs.append((cloud, opacity, slot, at, a, min(a + PACK_CHUNK, m)))
        at += m

    def fill(job: tuple) -> None:
        cloud, opacity, slot, at, a, b = job
        cov = covariance_rows(cloud.quats[a:b], cloud.scales[a:b])  # (b - a, 6)
        g = geom[at + a : at + b]
        g[:, 0, :3] = cloud.means[a:b]
        g[:, 0, 3] = opacity[a:b]
        g[:, 1] = cov[:, :4]
        g[:, 2, :2] = cov[:, 4:]
        g[:, 2, 2] = slot
        g[:, 2, 3] = 1.0 if cloud.meta.get("antialiased") else 0.0
        k = cloud.shN.shape[1]
        color[at + a : at + b, :3] = cloud.sh0[a:b]
        if k:
            color[at + a : at + b, 3 : 3 + 3 * k] = cloud.shN[a:b].reshape(b - a, 3 * k)

    if len(jobs) > 1 and PACK_THREADS > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(PACK_THREADS, thread_name_prefix="splat-pack") as pool:
            list(pool.map(fill, jobs))
    else:
        for job in jobs:
            fill(job)
    return geom_rows, color_rows, degree, texels


@dataclass
class _Packed:
    """CPU-side result of packing a layer set, ready for a quick GL upload."""

    key: tuple
    slots: list[_Slot]
    geom: np.ndarray  # (rows*TEX_W, 4) float32, zero padded
    color: np.ndarray  # (rows*TEX_W, 4) float16, zero padded
    degree: int
    texels: int
    means: np.ndarray  # (N, 3) float32 layer-local centres
    weight: np.ndarray  # (N,) float32 splat_weights (opacity × cross-section), for limited frames
    #: its coarse level, made with it when every merge it needs was cached (`_pack_job_fn`)
    lod: _Lod | None = None


@dataclass
class _Lod:
    """The coarse level (viewer/lod.py) of a packed layer set, for moving frames."""

    key: tuple  # the _Packed key it was made from
    #: per layer of the packed set: (its place in packed.slots, start, stop) of its top level
    ranges: list[tuple[int, int, int]]
    geom: np.ndarray
    color: np.ndarray
    means: np.ndarray  # (M, 3) float32 layer-local centres
    weight: np.ndarray  # (M,) float32 splat_weights
    by_weight: np.ndarray  # (N,) uint32 indices of the *full* set, largest weight first
    size: np.ndarray | None = (
        None  # (M,) float32 voxel edge of each merged splat, layer units (0: a fine splat kept)
    )
    #: (M + 1,) int64: merged splat j's fine children are `children`'s entries below (none
    #: for a top splat over a middle level: its children are middle splats, `sub_start`)
    child_start: np.ndarray | None = None
    children: np.ndarray | None = (
        None  # children[child_start[j]:child_start[j + 1]], (N,) uint32 full-set indices
    )
    #: the full set's payloads and centres in the order of `children` (`pack_lod`'s
    #: voxel_order): the CPU frames read a cut's fine splats from these, voxel by voxel
    fine_geom: np.ndarray | None = None  # (3N, 4) float32
    fine_color: np.ndarray | None = None  # (texels·N, 4) float16
    fine_means: np.ndarray | None = None  # (N, 3) float32
    #: the merged splats are the layers' top level (`ranges`: the first `roots` of them)
    #: then their middle levels (`mid_ranges`, lod.merge_tree): root r's children in the
    #: middle level are the merged splats sub_start[r]:sub_start[r + 1] (none for a root
    #: whose fine splats hang under it directly), up[j] the root above middle splat j (-1
    #: for roots)
    roots: int = -1  # -1: all of them
    mid_ranges: list[tuple[int, int, int]] = field(default_factory=list)
    sub_start: np.ndarray | None = None  # (roots + 1,) int64
    up: np.ndarray | None = None  # (M,) int64

    @property
    def n_roots(self) -> int:
        """Merged splats of the top level (`ranges`)."""
        return len(self.means) if self.roots < 0 else self.roots


#: a full frame whose order was sorted from a view turned by more than acos(STALE_DOT) or
#: moved by more than STALE_MOVE × the scene's size is sorted at once, not drawn stale
STALE_DOT = 0.97
STALE_MOVE = 0.03
#: ... where moves are measured against the scene's size or this many times the depth of the
#: nearest things in view, whichever is less (`SplatRenderer._move_scale`)
NEAR_MOVE_SCALE = 10.0
#: seconds after the first draw when the CPU frames' kernels load even if no frame was shown
CPU_FRAMES_START_S = 3.0
#: the last layers' merges (`_merged`): adding, removing or editing a small object beside a
#: 1.6 M-splat world re-packed the layer set and merged the world again (seconds, on this
#: 2-core machine), and moving frames drew scattered fine splats meanwhile
MERGE_CACHE = 4
MERGE_REUSE = 0.15  # a cached merge serves a target within this share of its own
_merge_cache: list[tuple[weakref.ref, bytes | None, int, MergeTree]] = []  # weak: a closed
_merge_lock = threading.Lock()  # world's splats are not kept alive by its merge


def _merged(data: GaussianCloud, baked: np.ndarray | None, target: int) -> MergeTree:
    """`lod.merge_tree` of `data` (transformed by `baked` when given) to about
    `target` splats, from a small cache of the last merges: a layer's data is never changed
    in place (an edit gives it new data), so the same object with the same baked transform
    merges the same."""

    tag = None if baked is None else np.asarray(baked, np.float64).tobytes()
    res = _cached_merge(data, tag, target)
    if res is not None:
        return res
    cloud = data if baked is None else data.transformed(baked)
    res = merge_tree(cloud, target)
    if res.coarse is not data:  # (a merge that kept the layer as it is would keep it alive)
        with _merge_lock:
            _merge_cache.insert(0, (weakref.ref(data), tag, target, res))
            del _merge_cache[MERGE_CACHE:]
    return res


def _cached_merge(data: GaussianCloud, tag: bytes | None, target: int) -> MergeTree | None:
    """`_merged`'s cached result for `data` with the baked transform's bytes `tag` and a
    target within MERGE_REUSE of `target`, else None (dead entries are dropped)."""
    with _merge_lock:
        _merge_cache[:] = [e for e in _merge_cache if e[0]() is not None]
        for d, b, t, res in _merge_cache:
            if d() is data and b == tag and abs(t - target) <= MERGE_REUSE * t:
                return res
    return None


def _merge_cached(data: GaussianCloud, baked: np.ndarray | None, target: int) -> bool:
    """Whether `_merged(data, baked, target)` would come from its cache (no merging)."""
    tag = None if baked is None else np.asarray(baked, np.float64).tobytes()
    return _cached_merge(data, tag, target) is not None


#: splats of layers without a cached merge that `lod_is_cheap` still calls cheap (an
#: object: 65k merged in ~50 ms, ~100 ms through a middle level)
CHEAP_MERGE = 200_000


def lod_is_cheap(packed: _Packed, target: int = LOD_SPLATS) -> bool:
    """Some layers of `packed` have their merges cached (a world drawn before) and those
    that `pack_lod` would merge afresh hold at most CHEAP_MERGE splats: its coarse level
    then costs a few tenths of a second (0.15 s for a 970k-splat world and a new 65k-splat
    object), so it is made with the packing instead of after the first frame."""
    total = max(sum(s.stop - s.start for s in packed.slots), 1)
    fresh = cached = 0
    for s in packed.slots:
        n = s.stop - s.start
        if n >= 5000:
            data = s.layer.data if s.data is None else s.data
            if _merge_cached(data, s.baked, max(1000, int(target * n / total))):
                cached += n
            else:
                fresh += n
    # (a scene opened afresh, nothing cached, is merged after its first frame: a
    # first frame never waits for a merge)
    return cached > 0 and fresh <= CHEAP_MERGE


#: `pack_lod` copies the full set's payloads in voxel order up to this size (bytes)
VOXEL_COPY_MAX = 512 << 20


def pack_lod(packed: _Packed, target: int = LOD_SPLATS, voxel_order: bool = False) -> _Lod:
    """Merge every layer of `packed` to about `target` splats in all (in proportion to size;
    layers under 5000 splats are kept as they are), packed like `pack_world` (CPU only).
    Layers merged before (`_merged`'s cache) are not merged again.

    voxel_order: also copy the full set's payloads and centres in the order of the
    children lists (`_Lod.fine_geom` ...), when they take at most VOXEL_COPY_MAX bytes, for
    the CPU frames: a moving frame's cut reads the fine splats of its expanded voxels,
    which lie scattered over the packed payloads in a scene's own order. Read as runs,
    bench/render.py's 1M room's 200k-splat cut projects in ~8 instead of ~13 ms."""
    total = max(sum(s.stop - s.start for s in packed.slots), 1)
    trees = []
    for s in packed.slots:
        data = s.layer.data if s.data is None else s.data  # as packed, not as edited since
        n = len(data)
        if n != s.stop - s.start:
            raise ValueError("layer data changed since packing")
        if n < 5000:
            cloud = data if s.baked is None else data.transformed(s.baked)
            trees.append(MergeTree(cloud, np.zeros(n, np.float32), None))
        else:
            trees.append(_merged(data, s.baked, max(1000, int(target * n / total))))
    # the merged splats: every layer's top level, then every layer's middle level
    parts, ranges, mid_ranges, sizes, parents, ups = [], [], [], [], [], []
    at = 0
    for i, (s, tree) in enumerate(zip(packed.slots, trees)):
        parts.append((tree.coarse, s.slot))
        ranges.append((i, at, at + len(tree.coarse)))
        sizes.append(tree.coarse_size)
        at += len(tree.coarse)
    roots = at
    sub_counts = np.zeros(roots, np.int64)
    for i, (s, tree) in enumerate(zip(packed.slots, trees)):
        r0 = ranges[i][1]
        if tree.mid is None:
            parent = np.arange(len(tree.coarse)) if tree.parent is None else tree.parent
            parents.append(parent + r0)
            continue
        parts.append((tree.mid, s.slot))
        mid_ranges.append((i, at, at + len(tree.mid)))
        sizes.append(tree.mid_size)
        parents.append(tree.parent + at)
        ups.append((at, tree.mid_parent + r0))
        sub_counts += np.bincount(tree.mid_parent + r0, minlength=roots)
        at += len(tree.mid)
    up = np.full(at, -1, np.int64)
    for a, u in ups:
        up[a : a + len(u)] = u
    sub_start = np.full(roots + 1, roots, np.int64)
    np.cumsum(sub_counts, out=sub_start[1:])
    sub_start[1:] += roots
    parent = np.concatenate(parents) if parents else np.zeros(0, np.int64)
    children = np.argsort(parent, kind="stable").astype(np.uint32)
    child_start = np.zeros(at + 1, np.int64)
    np.cumsum(np.bincount(parent, minlength=at), out=child_start[1:])
    geom, color, degree, _ = pack_splats(parts)
    if degree != packed.degree:  # keep the fine set's SH layout (texels per splat)
        raise ValueError("LOD SH degree differs from the packed set")
    means = np.concatenate([c.means for c, _ in parts]) if parts else np.zeros((0, 3), np.float32)
    weight = (
        np.concatenate([splat_weights(c.opacity_values(), c.scales) for c, _ in parts])
        if parts
        else np.zeros(0, np.float32)
    )
    by_weight = np.argsort(-packed.weight).astype(np.uint32)
    fine = (None, None, None)
    n = len(children)
    if voxel_order and n * (3 * 16 + 8 * packed.texels + 12) <= VOXEL_COPY_MAX:
        fine = (
            packed.geom[: 3 * n].reshape(n, 3, 4)[children].reshape(-1, 4),
            packed.color[: packed.texels * n].reshape(n, packed.texels, 4)[children].reshape(-1, 4),
            np.ascontiguousarray(packed.means[children]),
        )
    return _Lod(
        packed.key,
        ranges,
        _pad_rows(geom),
        _pad_rows(color),
        means,
        weight,
        by_weight,
        np.concatenate(sizes) if sizes else np.zeros(0, np.float32),
        child_start,
        children,
        *fine,
        roots,
        mid_ranges,
        sub_start,
        up,
    )


def _only_added(old: tuple | None, new: tuple) -> bool:
    """Layer-set key `new` holds every (layer id, data object) pair of `old` and more:
    layers were added, none removed or given new data."""
    if old is None:
        return False
    return set(old[1]) < set(new[1])


def _daemon_job(fn: Callable, *args, name: str = "splat-worker") -> Future:
    """Run fn(*args) on a daemon thread (closing the app never waits for it); its Future.
    Started through viewer/jobs.py's `background`, the app's one way to run work off the GUI."""
    return background(fn, *args, name=name)


def _pad_rows(a: np.ndarray) -> np.ndarray:
    if len(a) and len(a) % TEX_W == 0:
        return a  # already whole rows (pack_splats)
    rows = max(1, math.ceil(len(a) / TEX_W))
    out = np.zeros((rows * TEX_W, 4), a.dtype)
    out[: len(a)] = a
    return out


def pack_world(layers: list[Layer], key: tuple = ()) -> _Packed:
    """Pack the Gaussian layers for upload (pure CPU, safe on a worker thread)."""
    gauss = [lay for lay in layers if isinstance(lay.data, GaussianCloud)]
    slots: list[_Slot] = []
    parts: list[tuple[GaussianCloud, int]] = []
    at = 0
    for i, lay in enumerate(gauss):
        cloud, baked, slot = lay.data, None, i
        if i >= MAX_LAYERS - 1:  # out of slots: bake the transform, use the identity slot
            baked = lay.transform.copy()
            cloud = cloud.transformed(baked)
            slot = MAX_LAYERS - 1
        n = len(cloud)
        lo, hi = (cloud.means.min(0), cloud.means.max(0)) if n else (np.zeros(3, np.float32),) * 2
        slots.append(_Slot(lay, slot, at, at + n, baked, lo, hi, lay.data))
        parts.append((cloud, slot))
        at += n
    geom, color, degree, texels = pack_splats(parts)
    means = np.concatenate([c.means for c, _ in parts]) if parts else np.zeros((0, 3), np.float32)
    weight = (
        np.concatenate([splat_weights(c.opacity_values(), c.scales) for c, _ in parts])
        if parts
        else np.zeros(0, np.float32)
    )
    return _Packed(key, slots, _pad_rows(geom), _pad_rows(color), degree, texels, means, weight)


class _ImageCopy:
    """A texture and framebuffer that copy an RGBA image from memory 1:1 into the bound
    draw framebuffer (`copy`), reallocated when the image's size changes."""

    def __init__(self, internal: int, kind: int) -> None:
        """internal: the texture's format (GL_RGBA32F, GL_RGBA8); kind: the image's
        component type (GL_FLOAT, GL_UNSIGNED_BYTE)."""
        self.internal, self.kind = internal, kind
        self.tex = self.fbo = 0
        self.size = (0, 0)

    def copy(self, image: np.ndarray) -> None:
        """image (h, w, 4) of `kind`, bottom row first: uploaded and blitted 1:1 (nearest)
        into the draw framebuffer bound now, which stays bound."""
        h, w = image.shape[:2]
        target = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        if not self.tex:
            self.tex = int(GL.glGenTextures(1))
            self.fbo = int(GL.glGenFramebuffers(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.tex)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        if self.size != (w, h):
            GL.glTexImage2D(
                GL.GL_TEXTURE_2D, 0, self.internal, w, h, 0, GL.GL_RGBA, self.kind, image
            )
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.fbo)
            GL.glFramebufferTexture2D(
                GL.GL_READ_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, self.tex, 0
            )
            self.size = (w, h)
        else:
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGBA, self.kind, image)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.fbo)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, target)

    def release(self) -> None:
        """Free the GL objects (context current)."""
        if self.tex:
            GL.glDeleteTextures(1, [self.tex])
            GL.glDeleteFramebuffers(1, [self.fbo])
        self.tex = self.fbo = 0
        self.size = (0, 0)


class _CpuFrames:
    """Full-quality frames from viewer/cpu_splat.py, uploaded into a texture and blitted into
    the frame being drawn (float32: a float target keeps unclamped colour; an 8-bit one is
    rounded once, where GL's blending rounds at every splat); a reduced moving frame is
    instead kept in memory and scaled up to the window on the CPU (`present`). The kernels
    compile (or load from numba's disk cache) on a worker thread; until then, and whenever
    the compiled kernels are busy (a reconstruction optimising in the app), frames take the
    GL path."""

    def __init__(self, wait: bool = False) -> None:
        """`wait`: compile on this thread (one-shot renders: their one frame should not be
        GL's because the kernels were still loading)."""
        self.packed: _Packed | None = None  # the payloads uploaded last (their CPU copy)
        self.ready = threading.Event()
        self.failed = False
        self._frame = _ImageCopy(GL.GL_RGBA32F, GL.GL_FLOAT)  # a frame into its target
        self._buf = np.zeros((0, 0, 4), np.float32)
        self._dbuf = np.zeros((0, 0, 2), np.float32)
        #: (w, h) of the frame in _buf when the renderer's last draw was composited here
        #: (`present` scales it up), else None
        self.last: tuple[int, int] | None = None
        self.last_depth = False  # ... and its depth is in _dbuf (a draw with_depth)
        self._scaled = _ImageCopy(GL.GL_RGBA8, GL.GL_UNSIGNED_BYTE)  # `present`'s
        #: set once a first frame is on screen (`SplatRenderer.frame_shown`): loading numba
        #: and the kernels (~0.5 s of CPU) beside the first frame's parse, sort and draw
        #: slowed a cold start by as much
        self.go = threading.Event()
        loaded = sys.modules.get("viewer.cpu_splat")
        if wait or (loaded is not None and loaded.warm):  # a wait, or none (loaded already)
            self._compile()
        else:
            threading.Thread(target=self._compile_later, name="splat-cpu", daemon=True).start()

    def _compile_later(self) -> None:
        self.go.wait(CPU_FRAMES_START_S)
        self._compile()

    def _compile(self) -> None:
        try:
            from . import cpu_splat, cpu_warp

            log.debug("CPU splat kernels ready in %.1f s", cpu_splat.warm_up())
            self.ready.set()
            log.debug("CPU reprojection kernels ready in %.1f s", cpu_warp.warm_up())
        except Exception:  # noqa: BLE001 - the GL path stays; the reason is logged
            self.failed = True
            log.warning("CPU splat frames unavailable; GL draws them", exc_info=True)

    def draw(
        self,
        renderer: SplatRenderer,
        cam: Camera,
        view: np.ndarray,
        background: tuple[float, float, float],
        stats: DrawStats,
        order: np.ndarray | None = None,
        lod: _Lod | None = None,
        split: int = 0,
        sigma_max: float = 1e3,
        grow: float = 1.0,
        scale: float = 1.0,
        memory: tuple[np.ndarray, np.ndarray, bool] | None = None,
    ) -> bool:
        """Draw the renderer's current full order (or `order`: back to front, indices >= split
        meaning splat i - split of the coarse level `lod`, a moving frame's cut; `memory`:
        the same splats in memory order with each one's place front to back, read instead
        of `order` by the compositor, `cpu_splat.render`'s `ranks`, and whether its fine
        splats are places in `lod`'s voxel-ordered payloads: `SplatRenderer._cut_order`)
        into the bound framebuffer, and, in a `draw(with_depth=True)`, its depth into the
        second attachment; False (nothing drawn) when the kernels are not ready or busy, or
        the payloads are not current."""
        packed = self.packed
        if (
            self.failed
            or not self.ready.is_set()
            or packed is None
            or packed.key != renderer._uploaded_key
            or (lod is not None and lod.key != packed.key)
        ):
            return False
        from . import cpu_splat

        if not cpu_splat.KERNEL_LOCK.acquire(blocking=False):
            return False
        try:
            w, h = cam.width, cam.height
            if self._buf.shape[:2] != (h, w):
                self._buf = np.empty((h, w, 4), np.float32)
            depth = None
            if renderer._depth_pass == 2:
                if self._dbuf.shape[:2] != (h, w):
                    self._dbuf = np.empty((h, w, 2), np.float32)
                depth = self._dbuf
            info: dict = {}
            # a cut's places with the payloads copied in voxel order (`pack_lod`)
            by_place = memory is not None and memory[2]
            if by_place and (lod is None or lod.fine_geom is None):
                raise ValueError("a cut by voxel places without the voxel-ordered payloads")
            cpu_splat.render(
                (renderer._selected_order if order is None else order)
                if memory is None
                else memory[0],
                lod.fine_geom if by_place else packed.geom,
                lod.fine_color if by_place else packed.color,
                packed.texels,
                packed.degree,
                renderer._layer_models(),
                view,
                cam.position,
                (cam.fx, cam.fy, cam.cx, cam.cy),
                (w, h),
                background,
                sigma_max=sigma_max,
                out=self._buf,
                stats=info,
                locked=True,
                coarse=None if lod is None else (lod.geom, lod.color, split),
                depth=depth,
                grow=grow,
                scale=scale,
                ranks=None if memory is None else memory[1],
            )
        except Exception:  # noqa: BLE001 - this frame and the next go through GL
            self.failed = True
            log.warning("CPU splat frame failed; GL draws from now on", exc_info=True)
            return False
        finally:
            cpu_splat.KERNEL_LOCK.release()
        stats.cpu_ms = info.get("project_ms", 0) + info.get("bin_ms", 0) + info.get("raster_ms", 0)
        if not renderer._scaled_up:
            self._blit(w, h)
        self.last = (w, h)
        self.last_depth = depth is not None
        if depth is not None:
            self._upload_depth(depth)
        return True

    @staticmethod
    def _upload_depth(depth: np.ndarray) -> None:
        """Write `depth` (H, W, 2) into the texture at the bound draw framebuffer's second
        colour attachment (the moving target of viewer/reproject.py, RG16F)."""
        tex = int(
            GL.glGetFramebufferAttachmentParameteriv(
                GL.GL_DRAW_FRAMEBUFFER,
                GL.GL_COLOR_ATTACHMENT1,
                GL.GL_FRAMEBUFFER_ATTACHMENT_OBJECT_NAME,
            )
        )
        h, w = depth.shape[:2]
        GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RG, GL.GL_FLOAT, depth)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def _blit(self, w: int, h: int) -> None:
        self._frame.copy(self._buf[:h, :w])

    def present(self, w: int, h: int) -> np.ndarray | None:
        """Scale the last frame composited here (`last`) up to w × h pixels into the bound
        draw framebuffer: bicubic on the CPU (`_show_scaled`), rounded to 8 bits, uploaded
        and copied 1:1. Why: a reduced moving frame scaled up by a linear
        glBlitFramebuffer costs llvmpipe ~7 ms at 1280x720 (a textured draw per target
        pixel), this ~2.6 ms (1M bench room, a third of the size).
        Returns the image copied (`_show_scaled`); None (nothing drawn) when the last draw
        was not composited here."""
        frame = self.frame()
        return None if frame is None else self._show_scaled(frame[0], w, h)

    def frame(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The last frame composited here (`last`): (colour (h, w, 4) uint8 RGBA, its depth
        (h, w, 2) float32 (sum of w / depth, sum of w) when it was drawn with it, else
        None), both bottom row first (the colour a new array each call); None when the last
        draw was not composited here."""
        if self.last is None:
            return None
        import cv2

        sw, sh = self.last
        small = cv2.convertScaleAbs(self._buf[:sh, :sw], alpha=255.0)  # colour >= 0: no abs
        return small, (self._dbuf[:sh, :sw] if self.last_depth else None)

    def present_framebuffer(self, fbo: int, sw: int, sh: int, w: int, h: int) -> np.ndarray:
        """Scale the colour of framebuffer `fbo` (sw × sh pixels, 8-bit) up to w × h pixels
        into the bound draw framebuffer, on the CPU as `present` does (read back, resized,
        uploaded, copied 1:1): a moving frame with the kept frame reprojected over it at
        half size is scaled up this way in ~2.5 ms, where a linear glBlitFramebuffer took
        llvmpipe 7-9 ms. Returns the image copied (`_show_scaled`)."""
        return self._show_scaled(read_rgba8(fbo, sw, sh), w, h)

    def _show_scaled(self, small: np.ndarray, w: int, h: int) -> np.ndarray:
        """small (sh, sw, 4) uint8 RGBA, bottom row first, scaled up (bicubic, cv2's
        INTER_CUBIC, half-pixel centres as GL's) to w × h and copied into the bound draw
        framebuffer; returns the image copied, (h, w, 4) uint8 RGBA, bottom row first.
        Bicubic rather than GL's bilinear: the 1M bench room's moving frames at a third
        of the size score SSIM +0.006 against the full frame (0.844 -> 0.850 at 160k
        splats) for ~0.3 ms more at 1280x720; an unsharp mask over it scored lower."""
        import cv2

        sh, sw = small.shape[:2]
        same = (sw, sh) == (w, h)
        big = small if same else cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        self._scaled.copy(big)
        return big

    def release(self) -> None:
        """Free the GL objects (context current)."""
        self._frame.release()
        self._scaled.release()
        self.last = None
        self.packed = None


class SplatRenderer:
    """Draws a World's visible layers (Gaussian clouds + meshes) into the current GL context.

    `sync_sort=True` sorts exactly for every frame (screenshots, offscreen renders);
    otherwise a background thread sorts and frames use the newest finished order.
    `on_sort_done` (settable) is called from the sort thread when a new order is ready,
    so a viewport can schedule a repaint (e.g. emit a Qt signal connected to update()).
    """

    def __init__(
        self, sync_sort: bool = False, on_sort_done: Callable[[], None] | None = None
    ) -> None:
        self.sync_sort = sync_sort
        self._world: World | None = None
        self._sorter = BackgroundSorter(self._sort_done)
        self.on_sort_done = on_sort_done
        self._gl_ready = False
        self._mesh = MeshRenderer()
        self._layers_version = 0  # bumped when layers must be re-packed
        self._uploaded_key: tuple | None = None  # (version, layer signature) on the GPU
        self._pack_job: tuple | None = None  # (key, Future) packing off-thread
        self._generation = 0
        self._slots: list[_Slot] = []
        self._means = np.zeros((0, 3), np.float32)  # (N, 3) layer-local centres
        self._weight = np.zeros(0, np.float32)  # (N,) splat_weights
        self._by_weight = np.zeros(0, np.uint32)  # (N,) indices, largest weight first
        self._view_fraction = 1.0  # share of splats in view (last sort)
        self._first_sort = None  # Future: the first sort after an upload
        #: moving (limited) frames draw the merged coarse level when there is one (False:
        #: a subset of the full splats, the previous way)
        self.use_lod = True
        self._lod: _Lod | None = None  # uploaded coarse level
        self._lod_job = None  # Future[_Lod] being merged
        self._lod_wanted: _Packed | None = None  # to merge after the next drawn frame
        #: moving frames cut adaptively through the coarse level (fine splats where its
        #: voxels are large on screen); False: a subset of the merged splats, grown
        self.lod_cut = True
        #: a cut frame's footprints end at most this many standard deviations out (full frames:
        #: where alpha reaches 1/255, ~3.3 for opaque splats)
        self.moving_sigma_max = MOVING_SIGMA_MAX
        #: each splat is one triangle around its footprint (shaders/splat.vert ONE_TRIANGLE);
        #: False: a quad of two triangles, the previous way (bench/render.py --legacy). Read
        #: when the GL objects are made (the first draw, or the first after release()).
        self.one_triangle = True
        #: full-quality frames composited front to back on the CPU (viewer/cpu_splat.py)
        #: instead of by GL: None (default) when GL is a software rasteriser (llvmpipe),
        #: whose fragment work the CPU path's early termination and tiles beat 2x; the
        #: GL path meanwhile (frames with meshes, depth passes, kernels still compiling).
        #: The environment variable WANDER_CPU_FRAMES=0 / 1 overrides the default.
        self.cpu_full: bool | None = None
        self._cpu: _CpuFrames | None = None
        self._grow = 1.0  # scale of the kept splats in a limited frame
        self._frame_scale = 1.0  # the frame's size / the camera's (a reduced moving frame)
        #: largest enlargement of the splats a limited frame keeps (1: none)
        self.grow_limit = 2.5
        #: limited frames thin evenly over every splat in view (False: the strongest by
        #: contribution among the globally strongest, the previous way: bench --legacy)
        self.thin_evenly = True
        self._order = None  # SortResult in use
        self._last_request: SortRequest | None = None
        self._order_seq = 0  # bumped whenever self._order changes
        self._selected: tuple[int, int | None] | None = None  # (order seq, K) uploaded
        self._uploaded_count = 0
        self._settled = False  # this draw's camera is at rest (`draw(settled=...)`)
        self._scaled_up = False  # this draw's caller calls present_scaled (`draw(scaled_up=...)`)
        self._selected_order = np.zeros(0, np.uint32)  # the uploaded order, on the CPU
        self._seen_transforms: dict[int, np.ndarray] = {}
        self._subscribed: World | None = None  # the world whose events we follow
        self._drop_meshes = False  # free the mesh buffers at the next draw
        self._visible: list[_Slot] | None = None  # slots of visible layers (None: recompute)
        self._box: tuple | None = None  # cached _world_box() (None: recompute)
        self._force_resort = False
        self._sh_degree = 0
        self._sh_texels = 1
        self.last_stats = DrawStats()
        #: bumped whenever what a camera sees may have changed (layers, data, visibility,
        #: transforms): a frame kept for reprojection (viewer/reproject.py) is stale after it
        self.content_version = 0
        #: what draw() writes: 0 colour, 1 expected inverse depth instead (draw_depth),
        #: 2 both, to draw buffers 0 and 1 (draw(..., with_depth=True))
        self._depth_pass = 0

    # ------------------------------------------------------------------ public
    def set_world(self, world: World) -> None:
        """Show `world` and follow its events; GPU upload happens lazily in the next draw()."""
        if world is not self._world:  # draw nothing of the old world from now on
            self._slots, self._means = [], np.zeros((0, 3), np.float32)
            self._order, self._uploaded_key = None, None
            self._visible = None
            # mesh buffers are keyed by (layer id, data id): ids are per World now, so a
            # new world's layer 1 must never meet the old one's buffers (freed on the GL thread)
            self._drop_meshes = self._world is not None
        self._unsubscribe()
        self._world = world
        self._subscribe()
        self._layers_version += 1
        self._box = None
        self.content_version += 1

    def _subscribe(self) -> None:
        if self._world is not None and self._subscribed is None:
            self._world.subscribe(self._on_world, LayerAdded, LayerRemoved, LayerChanged)
            self._subscribed = self._world

    def _unsubscribe(self) -> None:
        if self._subscribed is not None:
            self._subscribed.unsubscribe(self._on_world)
            self._subscribed = None

    def _on_world(self, ev: WorldEvent) -> None:
        """Update what the event names (runs on the thread that edited the world: the GUI's)."""
        if not (isinstance(ev, LayerChanged) and ev.property == "name"):
            self.content_version += 1
        if isinstance(ev, (LayerAdded, LayerRemoved)) or (
            isinstance(ev, LayerChanged) and ev.property == "data"
        ):
            self._layers_version += 1  # re-pack (the key also sees new data objects)
            self._generation += 1
            self._visible, self._box = None, None
        elif isinstance(ev, LayerChanged) and ev.property == "visible":
            self._generation += 1
            self._visible, self._box = None, None
        elif isinstance(ev, LayerChanged) and ev.property == "transform":
            self._force_resort = True
            self._box = None
            s = next((s for s in self._slots if s.layer is ev.layer), None)
            if s is not None:
                self._seen_transforms[s.layer.id] = s.layer.transform.copy()
                if s.baked is not None:  # baked into the textures: re-pack
                    self._layers_version += 1
        # a rename draws nothing new

    def invalidate(self, what: str = "all") -> None:
        """Say that layers changed behind the World's back (its events need no call):
        'transform' | 'visibility' | 'layers' | 'all'."""
        if what not in ("transform", "visibility", "layers", "all"):
            raise ValueError(
                f"invalidate: unknown change {what!r} "
                "(use 'transform', 'visibility', 'layers' or 'all')"
            )
        self._visible, self._box = None, None
        self.content_version += 1
        if what in ("layers", "all"):
            self._layers_version += 1
        if what in ("visibility", "layers", "all"):
            self._generation += 1
        if what in ("transform", "all"):
            self._force_resort = True
            self._check_transforms()

    @property
    def sorting(self) -> bool:
        """True while a background sort is running or queued (a better frame is coming)."""
        return self._sorter.busy

    def draw(
        self,
        camera: Camera,
        size: tuple[int, int],
        *,
        max_splats: int | None = None,
        background=(0.0, 0.0, 0.0),
        with_depth: bool = False,
        settled: bool = False,
        scaled_up: bool = False,
    ) -> DrawStats:
        """Clear to `background` and draw the world as seen by `camera` into the bound
        framebuffer of `size` = (w, h) pixels (camera intrinsics are rescaled to it).
        `with_depth`: the framebuffer has a second, float colour attachment (RG16F), which
        gets (sum of w_i / d_i, sum of w_i) as in `draw_depth` (its draw buffers are set
        here: 0 and 1). `settled`: the camera is at rest (the viewport's refined frame): a
        full frame whose background order was sorted far from this view (STALE_DOT,
        STALE_MOVE) is sorted now instead of drawn with it. `scaled_up`: the caller shows
        the frame scaled up with `present_scaled` (a reduced moving frame), so a frame
        composited on the CPU stays in memory (its depth is still written) instead of
        being drawn into the framebuffer; a GL frame is drawn there as always."""
        if with_depth:
            self._depth_pass = 2
        self._settled = settled
        self._scaled_up = scaled_up
        try:
            return self._draw(camera, size, max_splats, background)
        finally:
            self._depth_pass = 0
            self._scaled_up = False

    def _draw(
        self,
        camera: Camera,
        size: tuple[int, int],
        max_splats: int | None,
        background: tuple[float, float, float],
    ) -> DrawStats:
        """`draw`, writing what `_depth_pass` says."""
        w, h = int(size[0]), int(size[1])
        if w <= 0 or h <= 0:
            raise ValueError(f"framebuffer size must be positive, got {size}")
        if max_splats is not None and max_splats < 0:
            raise ValueError("max_splats must be >= 0 or None")
        stats = DrawStats()
        if self._cpu is not None:
            self._cpu.last = None  # set again if this frame is composited on the CPU
        if not self._gl_ready:
            self._init_gl()
        t_up = 0.0
        if self._drop_meshes:
            self._mesh.release()
            self._drop_meshes = False
        if self._subscribed is None and self._world is not None:  # after release(): catch up
            self._subscribe()
            self.invalidate("all")
        layers = self._world.layers if self._world is not None else []
        key = (self._layers_version, tuple((lay.id, id(lay.data)) for lay in layers))
        cam = camera if (camera.width, camera.height) == (w, h) else camera.resized(w, h)
        # a reduced frame's low-pass (not the depth pass's: it wants a texel's splats covered)
        self._frame_scale = 1.0 if self._depth_pass == 1 else min(1.0, w / max(camera.width, 1))
        if key != self._uploaded_key:
            packed = self._packed_for(key, layers)
            if packed is not None:
                t0 = time.perf_counter()
                self._apply(packed, cam, max_splats)
                self.content_version += 1
                t_up += time.perf_counter() - t0

        GL.glViewport(0, 0, w, h)
        clear_a = 0.0 if self._depth_pass == 1 else 1.0  # depth: the blend's alpha sums coverage
        GL.glClearColor(float(background[0]), float(background[1]), float(background[2]), clear_a)
        GL.glDepthMask(GL.GL_TRUE)
        if self._depth_pass == 2:
            GL.glDrawBuffers(2, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1])
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        if self._depth_pass == 2:  # the depth attachment starts empty, not background
            GL.glClearBufferfv(GL.GL_COLOR, 1, np.zeros(4, np.float32))
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glDisable(GL.GL_BLEND)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        near, far = self._near_far(cam)
        view = cam.world_to_camera()
        proj = projection_matrix(cam, near, far)
        # meshes occlude the splats behind them; in a depth pass they write their own
        # (opaque) inverse depth, which the splats in front blend over
        stats.triangles = self._mesh.draw(layers, view, proj, depth_out=self._depth_pass)

        if self._visible is None:
            self._visible = [s for s in self._slots if s.layer.visible]
        visible = self._visible
        stats.splats_total = sum(s.stop - s.start for s in visible)
        # the coarse level only for the layers' current data (after an edit: the fine path
        # until the new data is packed and merged); while an added layer is being packed,
        # the drawn set's own coarse level still draws every layer it holds as it is (the
        # fine path drew a thin subset of a world, confetti, after each insertion)
        current = key == self._uploaded_key or _only_added(self._uploaded_key, key)
        lod = (
            self._lod_ready()
            if (max_splats is not None and stats.splats_total and current)
            else None
        )
        if lod is not None and not self.lod_cut and max_splats > 1.5 * lod.n_roots:
            lod = None  # a budget for many splats: a subset of the full ones shows more detail
        if lod is not None:
            t0 = time.perf_counter()
            stats.splats_drawn, stats.sort_ms = self._draw_lod(
                lod, cam, view, proj, visible, max_splats, stats, background
            )
            t_up += time.perf_counter() - t0
        elif stats.splats_total:
            res, sort_ms = self._current_order(cam, visible, max_splats)
            stats.sort_ms = sort_ms
            t0 = time.perf_counter()
            if self._selected != (self._order_seq, max_splats):
                sel = self._select(res, max_splats)
                data = np.ascontiguousarray(sel, dtype=np.uint32)
                GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, self._order_buf)
                GL.glBufferData(
                    GL.GL_TEXTURE_BUFFER,
                    max(data.nbytes, 4),
                    data if data.size else None,
                    GL.GL_STREAM_DRAW,
                )
                GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, 0)
                self._selected = (self._order_seq, max_splats)
                self._uploaded_count = int(data.size)
                self._selected_order = data
            t_up += time.perf_counter() - t0
            stats.splats_drawn = self._uploaded_count
            cpu = self._cpu if self._depth_pass != 1 and not stats.triangles else None
            grow = 1.0 if max_splats is None else self._grow
            scale = self._frame_scale
            if stats.splats_drawn and not (
                cpu is not None
                and cpu.draw(self, cam, view, background, stats, grow=grow, scale=scale)
            ):
                self._draw_splats(
                    cam, view, proj, stats.splats_drawn, depth_test=stats.triangles > 0
                )
        stats.gpu_upload_ms = t_up * 1000.0
        if self._lod_wanted is not None and stats.splats_drawn:
            self._lod_job = _daemon_job(
                functools.partial(pack_lod, voxel_order=self._cpu is not None),
                self._lod_wanted,
                name="splat-lod",
            )
            self._lod_job.add_done_callback(lambda _f: self._sort_done())
            self._lod_wanted = None
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDisable(GL.GL_BLEND)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        self.last_stats = stats
        return stats

    def present_scaled(self, w: int, h: int) -> np.ndarray | None:
        """Draw the last frame `draw` drew, scaled up to w × h pixels, into the bound draw
        framebuffer, when that frame was composited on the CPU (`_CpuFrames.present`: 3x
        faster than a linear blit on llvmpipe). Returns the image copied there, (h, w, 4)
        uint8 RGBA, bottom row first; None (nothing drawn) otherwise."""
        return None if self._cpu is None else self._cpu.present(w, h)

    @property
    def composites_on_cpu(self) -> bool:
        """Frames are composited on the CPU here (viewer/cpu_splat.py): GL is a software
        rasteriser, or `cpu_full` / WANDER_CPU_FRAMES asked for it."""
        return self._cpu is not None

    def cpu_frame(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The last frame `draw` drew when it was composited on the CPU: (colour (h, w, 4)
        uint8 RGBA, its depth (h, w, 2) float32 (sum of w / depth, sum of w) from a
        `draw(with_depth=True)`, else None), both bottom row first; None otherwise."""
        return None if self._cpu is None else self._cpu.frame()

    def present_image(self, img: np.ndarray, w: int, h: int) -> np.ndarray | None:
        """Scale `img` (h', w', 4) uint8 RGBA, bottom row first, up to w × h into the
        bound draw framebuffer on the CPU, as `present_scaled` does (frames composited on
        the CPU only). Returns the image copied there; None (nothing drawn) elsewhere."""
        return None if self._cpu is None else self._cpu._show_scaled(img, w, h)

    def present_framebuffer(self, fbo: int, sw: int, sh: int, w: int, h: int) -> np.ndarray | None:
        """Scale framebuffer `fbo`'s colour (sw × sh) up to w × h into the bound draw
        framebuffer on the CPU where frames are composited on the CPU (a software GL,
        whose linear blits are slow: `_CpuFrames.present_framebuffer`). Returns the image
        copied there, as `present_scaled`; None (nothing drawn) elsewhere, where GL's
        blit is the fast way."""
        if self._cpu is None:
            return None
        return self._cpu.present_framebuffer(fbo, sw, sh, w, h)

    def frame_shown(self) -> None:
        """A full-quality frame is on screen: the CPU frames' kernels may load now (else they
        do CPU_FRAMES_START_S after the first draw)."""
        if self._cpu is not None:
            self._cpu.go.set()

    def draw_depth(
        self, camera: Camera, size: tuple[int, int], *, max_splats: int | None = None
    ) -> DrawStats:
        """The expected inverse depth of the frame `draw` would show, into the bound framebuffer
        (which must hold floats: RGBA32F): per pixel r = sum of w_i / d_i,
        g = sum of w_i / d_i² and a = sum of w_i, with w_i the compositing weights of `draw`
        and d_i each splat centre's camera-space depth (metres along the view axis), so
        r / a is the expected inverse depth where a > 0. (Inverse depth, not depth: a
        semi-transparent edge in front of a sky 400 m away averages to near the edge, not
        to a point 100 m out.)
        The splats are the ones `draw` would use for the same `max_splats` (with a budget:
        the coarse level's cut). Meshes are opaque surfaces: weight 1 at their own depth
        (per pixel), under the splats in front of them."""
        self._depth_pass = 1
        try:
            return self._draw(camera, size, max_splats, (0.0, 0.0, 0.0))
        finally:
            self._depth_pass = 0

    def release(self) -> None:
        """Free GL objects (call with the context current) and stop the sort thread.
        The renderer stays usable: a later draw() re-creates everything."""
        self._sorter.shutdown()
        self._unsubscribe()  # a renderer thrown away must not stay listening (draw() resumes)
        self._sorter = BackgroundSorter(self._sort_done)
        self._pack_job = None
        self._order = None
        self._lod, self._lod_job, self._lod_wanted = None, None, None
        if self._gl_ready:
            self._mesh.release()
            GL.glDeleteTextures(2, [self._tex_lod_geom, self._tex_lod_color])
            GL.glDeleteTextures(3, [self._tex_geom, self._tex_color, self._tex_order])
            GL.glDeleteBuffers(2, [self._ebo, self._order_buf])
            GL.glDeleteVertexArrays(1, [self._vao])
            GL.glDeleteProgram(self._prog)
            for prog, _ in self._prog_depth.values():
                GL.glDeleteProgram(prog)
            self._prog_depth.clear()
            for prog, _ in self._preps.values():
                GL.glDeleteProgram(prog)
            self._preps.clear()
            GL.glDeleteTextures(3, self._prep_tex)
            GL.glDeleteFramebuffers(1, [self._prep_fbo])
            if self._cpu is not None:
                self._cpu.release()
                self._cpu = None
            self._gl_ready = False
        self._uploaded_key = None

    # ------------------------------------------------------------ GL set-up
    def _init_gl(self) -> None:
        defines = {"MAX_LAYERS": MAX_LAYERS, "TEX_W": TEX_W}
        self._preps: dict[int, tuple[int, dict[str, int]]] = {}  # SH degree -> (program, uniforms)
        #: the splat program's defines; its depth variants add DEPTH_OUT (`_splat_program`)
        self._splat_defines = {**defines, "ONE_TRIANGLE": int(self.one_triangle)}
        self._prog = compile_program("splat.vert", "splat.frag", self._splat_defines)
        self._loc = uniform_locations(
            self._prog, ["u_center", "u_axes", "u_rgba", "u_size", "u_r2_max"]
        )
        self._prog_depth: dict[int, tuple[int, dict[str, int]]] = {}  # DEPTH_OUT -> program
        self._prep_fbo = GL.glGenFramebuffers(1)
        self._prep_tex = list(GL.glGenTextures(3))
        self._prep_rows = 0
        self._vao = GL.glGenVertexArrays(1)
        self._ebo, self._order_buf = GL.glGenBuffers(2)
        self._ebo_quads = 0
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, self._order_buf)
        GL.glBufferData(GL.GL_TEXTURE_BUFFER, 4, None, GL.GL_STREAM_DRAW)
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, 0)
        self._tex_order = GL.glGenTextures(1)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, self._tex_order)
        GL.glTexBuffer(GL.GL_TEXTURE_BUFFER, GL.GL_R32UI, self._order_buf)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, 0)
        self._tex_geom, self._tex_color, self._tex_lod_geom, self._tex_lod_color = GL.glGenTextures(
            4
        )
        for tex in (self._tex_geom, self._tex_color, self._tex_lod_geom, self._tex_lod_color):
            GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self._max_tex = int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE))
        self._gl_ready = True
        want_cpu = self.cpu_full
        env = os.environ.get("WANDER_CPU_FRAMES", "").strip().lower()
        if want_cpu is None and env in ("0", "1", "off", "on"):
            want_cpu = env in ("1", "on")
        if want_cpu is None:
            name = (GL.glGetString(GL.GL_RENDERER) or b"").decode(errors="replace").lower()
            want_cpu = any(sw in name for sw in ("llvmpipe", "softpipe", "swrast"))
        self._cpu = _CpuFrames(wait=self.sync_sort) if want_cpu else None
        self._uploaded_key = None

    # -------------------------------------------------------------- upload
    def _apply(self, packed: _Packed, cam: Camera | None = None, k: int | None = None) -> None:
        """Upload a packed layer set (GL thread) and make it the drawn state. With `cam`
        (interactive renders) the first sort for it runs on a worker while the textures upload."""
        self._sh_degree, self._sh_texels = packed.degree, packed.texels
        self._slots = packed.slots
        self._means = packed.means
        self._weight = packed.weight
        self._by_weight = np.zeros(
            0, np.uint32
        )  # with the coarse level (not on the first frame's path)
        self._view_fraction = 1.0
        self._uploaded_key = packed.key
        self._order = None
        self._last_request = None
        self._selected = None
        self._seen_transforms = {s.layer.id: s.layer.transform.copy() for s in packed.slots}
        self._generation += 1
        self._first_sort = None
        self._visible = visible = [s for s in packed.slots if s.layer.visible]
        self._box = None
        self._lod, self._lod_job = None, None
        # merged once the first frame is drawn, so it does not slow that frame down
        self._lod_wanted = (
            packed
            if self.use_lod and not self.sync_sort and len(packed.means) >= LOD_MIN_SPLATS
            else None
        )
        lod = packed.lod
        if self._lod_wanted is not None and lod is not None:  # (made from this packing)
            self._upload_texture(self._tex_lod_geom, lod.geom, GL.GL_RGBA32F, GL.GL_FLOAT)
            self._upload_texture(self._tex_lod_color, lod.color, GL.GL_RGBA16F, GL.GL_HALF_FLOAT)
            self._lod, self._by_weight, self._lod_wanted = lod, lod.by_weight, None
        packed.lod = None  # (held by the renderer from here; the packing is not kept)
        if cam is not None and not self.sync_sort and visible:
            limit = None if k is None else 2 * k
            self._first_sort = _daemon_job(run_sort, self._request(cam, visible, False, limit))
        self._upload_texture(self._tex_geom, packed.geom, GL.GL_RGBA32F, GL.GL_FLOAT)
        self._upload_texture(self._tex_color, packed.color, GL.GL_RGBA16F, GL.GL_HALF_FLOAT)
        if self._cpu is not None:
            self._cpu.packed = packed

    def _packed_for(self, key: tuple, layers: list[Layer]) -> _Packed | None:
        """The packed arrays for `key`, packing on a worker thread for big scenes so the
        frame never freezes; None while that runs (the previous state is drawn meanwhile)."""
        job = self._pack_job
        if job is None or job[0] != key:
            n = sum(len(lay.data) for lay in layers if isinstance(lay.data, GaussianCloud))
            if self.sync_sort or n <= INLINE_PACK_LIMIT:
                self._pack_job = None
                return pack_world(layers, key)
            fut = _daemon_job(self._pack_job_fn, list(layers), key, name="splat-pack")
            fut.add_done_callback(lambda _f: self._sort_done())
            self._pack_job = job = (key, fut)
        if self.sync_sort or job[1].done():
            self._pack_job = None
            return job[1].result()
        return None

    def _pack_job_fn(self, layers: list[Layer], key: tuple) -> _Packed:
        """`pack_world` on a worker, with the coarse level when it is cheap (`lod_is_cheap`:
        an object added to, moved in or removed from a merged world): moving frames drew a
        thin subset of the world, confetti, for a second after each insertion (a trial)."""
        packed = pack_world(layers, key)
        if self.use_lod and len(packed.means) >= LOD_MIN_SPLATS and lod_is_cheap(packed):
            try:
                packed.lod = pack_lod(packed, voxel_order=self._cpu is not None)
            except ValueError:  # (a layer edited since packing: merged after the first frame)
                log.debug("coarse level not made with the packing", exc_info=True)
        return packed

    def _upload_texture(self, tex: int, buf: np.ndarray, internal: int, kind: int) -> None:
        """Upload (rows*TEX_W, 4) texels (already padded by pack_world)."""
        rows = len(buf) // TEX_W
        if rows > self._max_tex:
            raise ValueError(
                f"scene too large for this GPU: {rows} texture rows needed, "
                f"its maximum texture size is {self._max_tex}"
            )
        GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, TEX_W, rows, 0, GL.GL_RGBA, kind, buf)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def _check_transforms(self) -> None:
        """Compare every slot's transform with the one last seen (for `invalidate`, when a
        change did not come as an event)."""
        for s in self._slots:
            old = self._seen_transforms.get(s.layer.id)
            if old is None or not np.array_equal(old, s.layer.transform):
                self._seen_transforms[s.layer.id] = s.layer.transform.copy()
                self._force_resort = True
                if s.baked is not None:  # baked into the textures: re-pack
                    self._layers_version += 1
                    return

    def _model(self, s: _Slot) -> np.ndarray:
        return np.eye(4) if s.baked is not None else s.layer.transform

    # --------------------------------------------------------------- sorting
    def _sort_done(self) -> None:
        cb = self.on_sort_done
        if cb is not None:
            cb()

    def _request(
        self, cam: Camera, visible: list[_Slot], exact: bool, limit: int | None = None
    ) -> SortRequest:
        """Sort request for `cam`. Exact: cull as the shader does. Otherwise (background
        sorts, used for several frames while the view drifts) keep a margin around the view
        so splats turning into view are present before the next sort lands."""
        layers = tuple(layer_depth(self._model(s), cam.R, cam.t, s.start, s.stop) for s in visible)
        if exact:
            frustum = _frustum(cam)
            min_depth = NEAR_CULL
        else:
            frustum = Frustum.for_camera(
                cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height, ndc_limit=2.2
            )
            min_depth = NEAR_CULL - 0.02 * self._scene_size()
        # a limited frame (a one-shot render with a budget, a preview at rest, a moving
        # frame without the coarse level) considers every splat in view and thins evenly:
        # ranked by contribution, a world's sky dome and backdrop took the whole budget and
        # its photo vanished (17.5 dB against the full frame in the demo world; even
        # thinning 25.2 dB; the benchmark room's first frames 1.6 dB lower)
        even = exact or (limit is not None and self.thin_evenly)
        return SortRequest(
            self._generation,
            self._means,
            layers,
            cam.position,
            cam.forward,
            min_depth,
            frustum,
            limit,
            self._weight,
            None if even else self._candidates(limit),
            uniform=even,
        )

    def _candidates(self, limit: int | None) -> np.ndarray | None:
        """For a limited sort: the globally strongest splats, enough of them that about
        1.5 × `limit` lie in view (at the last sort's in-view share), sorted by index; the
        sort then reads only those (contribution does not depend on depth, see
        sorting.contribution). None: consider all."""
        n = len(self._by_weight)
        if limit is None or n == 0:
            return None
        c = int(min(n, math.ceil(1.5 * limit / max(self._view_fraction, 1e-3))))
        if c >= n:
            return None
        # layers small enough to fit the budget are candidates whole (an object's splats are
        # weaker than the world's largest, and the per-layer share needs them present)
        small = [
            np.arange(s.start, s.stop, dtype=np.uint32)
            for s in self._slots
            if s.stop - s.start <= limit
        ]
        return (
            np.union1d(self._by_weight[:c], np.concatenate(small))
            if small
            else np.sort(self._by_weight[:c])
        )

    def _adopt_sorted(self, res):  # noqa: ANN001, ANN202 - SortResult -> (SortResult, ms)
        """Make a sort done on this thread the current order (and the last request, so the
        background sorter does not repeat it); returns (res, its sort ms)."""
        self._order, self._last_request, self._force_resort = res, res.request, False
        self._view_fraction = res.fraction
        self._order_seq += 1
        return res, res.ms

    def _current_order(self, cam: Camera, visible: list[_Slot], k: int | None):
        """The order to draw now (uint32 indices, farthest first) and the sort ms adopted.

        With `k` (max_splats) only k splats in view are sorted: for a synchronous
        (one-shot) sort exactly k, thinned evenly; in the background 2k (a margin for the
        drifting view), the most important first."""
        cur = self._order
        if self.sync_sort:
            # exact order for this camera; the async state restarts from it afterwards
            res = run_sort(self._request(cam, visible, True, k))
            self._order, self._order_seq, self._force_resort = res, self._order_seq + 1, True
            self._view_fraction = res.fraction
            return res, res.ms
        limit = None if k is None else 2 * k
        if cur is None or cur.request.generation != self._generation:
            first, self._first_sort = self._first_sort, None
            res = None
            if first is not None:  # sorted during the upload
                try:
                    res = first.result()
                except Exception:  # noqa: BLE001 - sorted again below; the failure is logged
                    log.warning("first sort after the upload failed", exc_info=True)
            if (
                res is None
                or res.request.generation != self._generation
                or res.request.limit != limit
                # sorted (and frustum-culled) for where the camera was during the upload:
                # the start pose may have come since (a bookmark, a collider's re-home)
                or view_changed(
                    res.request,
                    cam.position,
                    cam.forward,
                    self._move_scale(res),
                    0.99,
                    0.005,
                    _frustum(cam),
                )
            ):
                res = run_sort(self._request(cam, visible, False, limit))
            return self._adopt_sorted(res)
        sort_ms = 0.0
        res = self._sorter.poll()
        if res is not None and res.request.generation == self._generation:
            self._order, cur, sort_ms = res, res, res.ms
            self._view_fraction = res.fraction
            self._order_seq += 1
        if (
            k is None
            and self._settled
            and (
                cur.request.limit is not None
                or view_changed(
                    cur.request,
                    cam.position,
                    cam.forward,
                    self._move_scale(cur),
                    STALE_DOT,
                    STALE_MOVE,
                    _frustum(cam),
                )
            )
        ):
            # a full frame far from where its order was sorted (and frustum-culled): after a
            # jump (R, a bookmark) it showed half the view black, as full quality, until the
            # background sort came 0.3-0.6 s later; or with an order that holds only a
            # limited frame's splats (2k, the most important): the first full frame after a
            # walk on the subset's order showed those few unenlarged, specks on black. The
            # camera is at rest, so sort now
            return self._adopt_sorted(run_sort(self._request(cam, visible, False, None)))
        last = self._last_request
        too_few = (
            last is not None and last.limit is not None and (limit is None or limit > last.limit)
        )
        if (
            self._force_resort
            or too_few
            or view_changed(
                last, cam.position, cam.forward, self._move_scale(cur), 0.99, 0.005, _frustum(cam)
            )
        ):
            req = self._request(cam, visible, False, limit)
            self._sorter.submit(req)
            self._last_request, self._force_resort = req, False
        return cur, sort_ms

    def _select(self, res, k: int | None) -> np.ndarray:
        """At most `k` splats of the sort result `res` (those in view), the ones with the
        largest `contribution`, kept in depth order; sets the enlargement that makes the
        kept splats cover for the dropped ones (`grow_factor`, at most `grow_limit`)."""
        order = res.order
        self._grow = 1.0
        if k is None or (k >= len(order) and res.request.limit is None):
            return order
        if k == 0:
            return order[:0]
        if res.score is None:  # no weights (nothing packed): keep the first k
            return order[:k]
        keep = strongest_per_layer(res.score, order, res.request.layers, k)
        self._grow = grow_factor(res.in_view, k, self.grow_limit)
        return order[keep]

    # ----------------------------------------------------------------- draw
    def _move_scale(self, res) -> float:  # noqa: ANN001 - SortResult | None
        """The length camera moves are measured against to tell an order stale: the scene's
        size, or NEAR_MOVE_SCALE × the depth of the nearest things the sort `res` saw when
        that is less (at least a twentieth of the scene). A sort's frustum margin hides
        near splats beside the view sooner than a move of 3 % of a world whose sky dome
        sets its size (a 1 m step aside left a black wedge in the still frame)."""
        size = self._scene_size()
        near = res.near if res is not None else float("inf")
        return min(size, max(NEAR_MOVE_SCALE * near, 0.05 * size))

    def _scene_size(self) -> float:
        lo, hi = self._world_box()
        return float(np.linalg.norm(hi - lo)) if lo is not None else 1.0

    def _world_box(self):
        if self._box is None:
            self._box = self._compute_world_box()
        return self._box

    def _compute_world_box(self):
        pts = []
        layers = self._world.layers if self._world is not None else []
        for lay in layers:
            if not lay.visible:
                continue
            if isinstance(lay.data, Mesh):
                if lay.data.n_vertices == 0:
                    continue
                lo, hi = lay.data.bounds()
                m = lay.transform
            else:
                s = next((s for s in self._slots if s.layer is lay), None)
                if s is None or s.stop == s.start:
                    continue
                lo, hi, m = s.lo, s.hi, self._model(s)
            c = (
                np.array(
                    [
                        [x, y, z, 1.0]
                        for x in (lo[0], hi[0])
                        for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])
                    ]
                )
                @ np.asarray(m).T
            )
            pts.append(c[:, :3])
        if not pts:
            return None, None
        allp = np.concatenate(pts)
        return allp.min(0), allp.max(0)

    def _near_far(self, cam: Camera) -> tuple[float, float]:
        lo, hi = self._world_box()
        if lo is None:
            return 0.05, 100.0
        corners = np.array(
            [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        far = float(np.max(corners @ cam.R[2] + cam.t[2]))
        # splats reach ~3.3 sigma past their centres; pad so they are never far-clipped
        far = max(far * 1.1 + 0.1 * float(np.linalg.norm(hi - lo)), 1.0)
        near = min(0.1, max(far * 1e-5, 1e-4))
        return near, far

    def _ensure_quads(self, count: int) -> None:
        """Grow the static index buffer (6 indices per quad) to hold `count` quads."""
        if count <= self._ebo_quads:
            return
        cap = max(count, min(2 * self._ebo_quads, 1 << 26), 1024)
        idx = (np.arange(cap, dtype=np.uint32)[:, None] * 4 + _QUAD[None, :]).reshape(-1)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ebo)  # recorded in the bound VAO
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, idx.nbytes, idx, GL.GL_STATIC_DRAW)
        self._ebo_quads = cap

    def _splat_program(self) -> tuple[int, dict[str, int]]:
        """The splat program: colour, expected inverse depth (`draw_depth`) or both
        (`draw(..., with_depth=True)`); the depth ones compiled on first use."""
        mode = self._depth_pass
        if not mode:
            return self._prog, self._loc
        if mode not in self._prog_depth:
            prog = compile_program(
                "splat.vert", "splat.frag", {**self._splat_defines, "DEPTH_OUT": mode}
            )
            self._prog_depth[mode] = (prog, uniform_locations(prog, list(self._loc)))
        return self._prog_depth[mode]

    def _prep_program(self, degree: int) -> tuple[int, dict[str, int]]:
        """The preprocessing program specialised for SH `degree` (compiled on first use)."""
        if degree not in self._preps:
            texels = math.ceil(3 * (degree + 1) ** 2 / 4)
            prog = compile_program(
                "prep.vert",
                "prep.frag",
                {
                    "MAX_LAYERS": MAX_LAYERS,
                    "TEX_W": TEX_W,
                    "SH_DEGREE": degree,
                    "SH_TEXELS": texels,
                },
            )
            names = [
                "u_geom",
                "u_color",
                "u_models",
                "u_view",
                "u_proj",
                "u_campos",
                "u_intr",
                "u_size",
                "u_order",
                "u_count",
                "u_grow",
                "u_lowpass",
                "u_split",
                "u_geom2",
                "u_color2",
                "u_r2_max",
            ]
            self._preps[degree] = (prog, {n: GL.glGetUniformLocation(prog, n) for n in names})
        return self._preps[degree]

    def _ensure_prep(self, count: int) -> int:
        """Size the preprocessing targets for `count` splats; returns the rows in use."""
        rows = max(1, math.ceil(count / TEX_W))
        if rows > self._prep_rows:
            cap = max(rows, min(2 * self._prep_rows, self._max_tex))
            if cap > self._max_tex:
                raise ValueError(f"{count} splats exceed this GPU's texture limits")
            for tex in self._prep_tex:
                GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
                GL.glTexImage2D(
                    GL.GL_TEXTURE_2D, 0, GL.GL_RGBA32F, TEX_W, cap, 0, GL.GL_RGBA, GL.GL_FLOAT, None
                )
                GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST)
                GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._prep_fbo)
            for k, tex in enumerate(self._prep_tex):
                GL.glFramebufferTexture2D(
                    GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0 + k, GL.GL_TEXTURE_2D, tex, 0
                )
            GL.glDrawBuffers(
                3, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1, GL.GL_COLOR_ATTACHMENT2]
            )
            status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
            if status != GL.GL_FRAMEBUFFER_COMPLETE:
                raise RuntimeError(
                    f"splat preprocessing framebuffer incomplete (0x{int(status):x})"
                )
            self._prep_rows = cap
        return rows

    def coarse_level_pending(self) -> bool:
        """The drawn scene is to get a coarse level for moving frames that is not ready yet
        (its merge is queued or running): until it is, moving frames draw a thin subset of
        the splats."""
        if not self.use_lod or (self._lod_job is None and self._lod_wanted is None):
            return False
        return self._lod is None or self._lod.key != self._uploaded_key

    def _lod_ready(self) -> _Lod | None:
        """The coarse level of the drawn layer set, uploading it once its merge finished."""
        if not self.use_lod:
            return None
        job = self._lod_job
        if job is not None and job.done():
            self._lod_job = None
            try:
                lod = job.result()
            except Exception:  # noqa: BLE001 - moving frames fall back to a subset of splats
                log.warning("coarse level for moving frames failed", exc_info=True)
                return None
            if lod.key == self._uploaded_key:
                self._upload_texture(self._tex_lod_geom, lod.geom, GL.GL_RGBA32F, GL.GL_FLOAT)
                self._upload_texture(
                    self._tex_lod_color, lod.color, GL.GL_RGBA16F, GL.GL_HALF_FLOAT
                )
                self._lod = lod
                self._by_weight = lod.by_weight
        lod = self._lod
        return lod if lod is not None and lod.key == self._uploaded_key else None

    def _draw_lod(
        self,
        lod: _Lod,
        cam: Camera,
        view: np.ndarray,
        proj: np.ndarray,
        visible: list[_Slot],
        k: int,
        stats: DrawStats,
        background: tuple[float, float, float],
    ) -> tuple[int, float]:
        """A moving frame from the coarse level, sorted here (tens of thousands: a few ms).

        With `lod_cut` (default) an adaptive cut: every merged splat in view, and where the
        budget `k` allows, the voxels largest on screen drawn with their middle level or
        fine splats instead (viewer/lod_cut.py). Without it, at most `k` merged splats, the
        strongest, grown for the rest. Either is composited on the CPU where full frames
        are (`cpu_full`: 1.5x faster than llvmpipe's GL at the same level, so the
        controller affords more splats and pixels). Returns (splats drawn, sort ms)."""
        depth_test = stats.triangles > 0
        index = {id(s): i for i, s in enumerate(self._slots)}
        layers = tuple(
            layer_depth(
                self._model(s),
                cam.R,
                cam.t,
                lod.ranges[index[id(s)]][1],
                lod.ranges[index[id(s)]][2],
            )
            for s in visible
        )
        frustum = _frustum(cam)
        split, cut, mem = None, None, None
        if self.lod_cut and lod.child_start is not None:
            t0 = time.perf_counter()
            cut = self._cut_order(lod, cam, visible, layers, frustum, k)
            ms = (time.perf_counter() - t0) * 1e3
        if cut is not None:
            data, split, mem = cut
            self._grow = 1.0
        else:  # no cut, or more merged splats in view than the budget: the strongest, grown
            res = run_sort(
                SortRequest(
                    self._generation,
                    lod.means,
                    layers,
                    cam.position,
                    cam.forward,
                    NEAR_CULL,
                    frustum,
                    k,
                    lod.weight,
                )
            )
            data = np.ascontiguousarray(self._select(res, k), dtype=np.uint32)
            ms = res.ms
        if (
            self._cpu is not None
            and not depth_test
            and self._depth_pass != 1
            and self._cpu.draw(
                self,
                cam,
                view,
                background,
                stats,
                data,
                lod,
                0 if split is None else split,  # no cut: every index is a merged splat's
                1e3 if split is None else self.moving_sigma_max,
                self._grow,
                self._frame_scale,
                mem,
            )
        ):
            self._selected = None  # _select above may have changed _grow: select anew
            return int(data.size), ms
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, self._order_buf)
        GL.glBufferData(
            GL.GL_TEXTURE_BUFFER,
            max(data.nbytes, 4),
            data if data.size else None,
            GL.GL_STREAM_DRAW,
        )
        GL.glBindBuffer(GL.GL_TEXTURE_BUFFER, 0)
        self._selected = None  # the order buffer no longer holds the full set's order
        if data.size:
            if split is None:
                self._draw_splats(
                    cam,
                    view,
                    proj,
                    int(data.size),
                    depth_test,
                    (self._tex_lod_geom, self._tex_lod_color),
                )
            else:
                self._draw_splats(
                    cam,
                    view,
                    proj,
                    int(data.size),
                    depth_test,
                    split=split,
                    sigma_max=self.moving_sigma_max,
                )
        return int(data.size), ms

    def _cut_order(
        self, lod: _Lod, cam: Camera, visible: list[_Slot], layers: tuple, frustum: Frustum, k: int
    ) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray, bool]] | None:
        """An adaptive cut for `cam` within `k` splats: (its back-to-front order (uint32):
        full-set indices for fine splats, split + j for merged splat j; split (= N); the
        same splats for the CPU compositor with each one's place front to back, and
        whether the fine ones are places in `lod`'s voxel-ordered payloads (ascending, so
        its reads stream through them) or full-set indices). None when more than `k`
        top-level merged splats are in view (the budget allows no cut).

        Voxel places are used once the CPU frames' kernels are loaded (before, GL draws
        the cut, from the order alone)."""
        from .cut_order import cut_order, cut_order_numpy
        from .lod_cut import tree_cut, tree_cut_compiled

        index = {id(s): i for i, s in enumerate(self._slots)}
        mid_of = {i: (a, b) for i, a, b in lod.mid_ranges}
        mids, mid_pos = [], []
        for s in visible:
            span = mid_of.get(index[id(s)])
            mid_pos.append(-1 if span is None else len(mids))
            if span is not None:
                mids.append(layer_depth(self._model(s), cam.R, cam.t, *span))
        # compiled once the CPU frames' kernels are loaded (no compile stalls a frame)
        cpu_ready = self._cpu is not None and self._cpu.ready.is_set()
        args = (
            lod.means,
            lod.size,
            lod.child_start,
            lod.sub_start if mids else None,
            lod.up,
            layers,
            mids,
            frustum,
            NEAR_CULL,
            float(cam.fy),
            k,
        )
        picked = tree_cut_compiled(*args, mid_of=mid_pos) if cpu_ready else tree_cut(*args)
        if picked is None:
            return None
        keep_c, d_c, exp_c = picked
        split = len(self._means)
        fl = [layer_depth(self._model(s), cam.R, cam.t, s.start, s.stop) for s in visible]
        # compiled once the CPU frames' kernels are loaded (no compile stalls a frame),
        # and only while numba's pool is free: a job's kernels (a reconstruction's
        # optimiser, a world's photo fit) hold it, and a frame never waits for them
        compiled = self._cpu is not None and self._cpu.ready.is_set()
        if compiled:
            from generators.splat_cpu import KERNEL_LOCK

            compiled = KERNEL_LOCK.acquire(blocking=False)
        try:
            ordered = functools.partial(cut_order, locked=True) if compiled else cut_order_numpy
            voxel_means = lod.fine_means if compiled else None
            data, place, rank = ordered(
                exp_c,
                lod.child_start,
                lod.children,
                self._means,
                [(lay.start, lay.stop, lay.rows[2], lay.b) for lay in fl],
                NEAR_CULL,
                keep_c,
                d_c,
                split,
                voxel_means,  # None: `place` holds full-set indices
            )
        finally:
            if compiled:
                KERNEL_LOCK.release()
        return data, split, (place, rank, voxel_means is not None)

    def _layer_models(self) -> np.ndarray:
        """(MAX_LAYERS, 4, 4) float32 world-from-layer matrix per slot (identity for baked)."""
        models = np.tile(np.eye(4, dtype=np.float32), (MAX_LAYERS, 1, 1))
        for s in self._slots:
            if s.baked is None:
                models[s.slot] = s.layer.transform
        return models

    def _draw_splats(
        self,
        cam: Camera,
        view: np.ndarray,
        proj: np.ndarray,
        count: int,
        depth_test: bool = True,
        textures: tuple[int, int] | None = None,
        split: int | None = None,
        sigma_max: float = 1e3,
    ) -> None:
        """Pass 1: per-splat EWA projection + SH colour into textures (fragment shader over a
        grid, one texel per splat in draw order). Pass 2: one triangle per splat around its
        footprint (`one_triangle`; else a quad), blended. With `split`, order entries >= split
        index the coarse level's textures (at entry - split). Footprints end where a splat's
        alpha falls to 1/255 (as the reference compositor) but at most `sigma_max` standard
        deviations out (moving frames: smaller ones)."""
        geom_tex, color_tex = textures or (self._tex_geom, self._tex_color)
        target = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        rows = self._ensure_prep(count)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._prep_fbo)
        GL.glViewport(0, 0, TEX_W, rows)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_BLEND)
        prep, loc = self._prep_program(self._sh_degree)
        GL.glUseProgram(prep)
        GL.glUniformMatrix4fv(loc["u_models"], MAX_LAYERS, GL.GL_TRUE, self._layer_models())
        GL.glUniformMatrix4fv(loc["u_view"], 1, GL.GL_TRUE, view.astype(np.float32))
        GL.glUniformMatrix4fv(loc["u_proj"], 1, GL.GL_TRUE, proj.astype(np.float32))
        GL.glUniform3f(loc["u_campos"], *map(float, cam.position))
        GL.glUniform4f(loc["u_intr"], float(cam.fx), float(cam.fy), float(cam.cx), float(cam.cy))
        GL.glUniform2f(loc["u_size"], float(cam.width), float(cam.height))
        GL.glUniform1i(loc["u_count"], count)
        GL.glUniform1f(loc["u_grow"], float(self._grow))
        GL.glUniform2f(loc["u_lowpass"], *reduced_lowpass(self._frame_scale))
        GL.glUniform1i(loc["u_split"], 2**31 - 1 if split is None else int(split))
        GL.glUniform1f(loc["u_r2_max"], float(sigma_max) ** 2)
        for unit, (target_kind, tex, name) in enumerate(
            [
                (GL.GL_TEXTURE_2D, geom_tex, "u_geom"),
                (GL.GL_TEXTURE_2D, color_tex, "u_color"),
                (GL.GL_TEXTURE_BUFFER, self._tex_order, "u_order"),
                (
                    GL.GL_TEXTURE_2D,
                    self._tex_lod_geom if split is not None else geom_tex,
                    "u_geom2",
                ),
                (
                    GL.GL_TEXTURE_2D,
                    self._tex_lod_color if split is not None else color_tex,
                    "u_color2",
                ),
            ]
        ):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(target_kind, tex)
            GL.glUniform1i(loc[name], unit)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        for unit in (4, 3):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glActiveTexture(GL.GL_TEXTURE2)
        GL.glBindTexture(GL.GL_TEXTURE_BUFFER, 0)

        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
        GL.glViewport(0, 0, cam.width, cam.height)
        prog, sloc = self._splat_program()
        GL.glUseProgram(prog)
        GL.glUniform2f(sloc["u_size"], float(cam.width), float(cam.height))
        GL.glUniform1f(sloc["u_r2_max"], float(sigma_max) ** 2)
        for unit, name in enumerate(("u_center", "u_axes", "u_rgba")):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._prep_tex[unit])
            GL.glUniform1i(sloc[name], unit)
        if depth_test:  # only meshes write depth; without them the test is wasted work
            GL.glEnable(GL.GL_DEPTH_TEST)
        else:
            GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA)
        if self.one_triangle:
            GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3 * count)
        else:
            self._ensure_quads(count)
            GL.glDrawElements(GL.GL_TRIANGLES, 6 * count, GL.GL_UNSIGNED_INT, None)
        for unit in (2, 1, 0):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
