"""Back-to-front depth sorting of splats: a 16-bit key sort, its float reference twin,
and a one-thread background sorter that re-sorts only when the view changed enough.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from scene.splatting import NEAR_CULL  # noqa: F401  (splats at camera depth <= this are culled)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerDepth:
    """Camera coordinates of a layer's splats are `means[start:stop] @ rows.T + offset`."""

    start: int
    stop: int
    rows: (
        np.ndarray
    )  # (3, 3) float32: camera x, y, z axes expressed in layer coordinates (R_cam · A)
    offset: np.ndarray  # (3,) float32: R_cam · layer translation + t_cam

    @property
    def w(self) -> np.ndarray:
        return self.rows[2]

    @property
    def b(self) -> float:
        return float(self.offset[2])


@dataclass(frozen=True)
class Frustum:
    """Keep splats with x/z in [x_lo, x_hi] and y/z in [y_lo, y_hi] (camera coordinates)."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    @classmethod
    def for_camera(
        cls,
        fx: float,
        fy: float,
        cx: float,
        cy: float,
        width: int,
        height: int,
        ndc_limit: float = 1.3,
    ) -> Frustum:
        """Centres within ±ndc_limit of the image in NDC (1.3 as the splat shader culls)."""
        lo, hi = (1 - ndc_limit) / 2, (1 + ndc_limit) / 2
        return cls(
            (lo * width - cx) / fx,
            (hi * width - cx) / fx,
            (lo * height - cy) / fy,
            (hi * height - cy) / fy,
        )

    def contains(self, other: Frustum, tol: float = 1e-4) -> bool:
        """Whether `other` lies inside this frustum (same camera axes)."""
        return (
            self.x_lo <= other.x_lo + tol
            and self.x_hi >= other.x_hi - tol
            and self.y_lo <= other.y_lo + tol
            and self.y_hi >= other.y_hi - tol
        )


def layer_depth(
    model: np.ndarray, R: np.ndarray, t: np.ndarray, start: int, stop: int
) -> LayerDepth:
    """Camera-coordinate coefficients for one layer: model (4,4) world-from-layer;
    R (3,3), t (3,) OpenCV world-to-camera."""
    m = np.asarray(model, np.float64)
    r = np.asarray(R, np.float64)
    return LayerDepth(
        start,
        stop,
        (r @ m[:3, :3]).astype(np.float32),
        (r @ m[:3, 3] + np.asarray(t, np.float64)).astype(np.float32),
    )


def view_depths(
    means: np.ndarray,
    layers: Sequence[LayerDepth],
    frustum: Frustum | None = None,
    min_depth: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Camera depths (M,) float32 and global indices (M,) uint32 of the splats of `layers`;
    with `frustum`, only centres deeper than `min_depth` inside it."""
    depth, index, _ = _view_depths(means, layers, frustum, min_depth)
    return depth, index


def _view_depths(
    means: np.ndarray,
    layers: Sequence[LayerDepth],
    frustum: Frustum | None,
    min_depth: float | None,
    subset: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """view_depths plus each kept splat's layer area factor (M,) float32 (layer scale²);
    with `subset` (sorted uint32 global indices) only those splats are considered."""
    depths, index, area = [], [], []
    for lay in layers:
        if lay.stop <= lay.start:
            continue
        if subset is None:
            pts = means[lay.start : lay.stop]
            idx = np.arange(lay.start, lay.stop, dtype=np.uint32)
        else:
            a, b = np.searchsorted(subset, [lay.start, lay.stop])
            idx = subset[a:b]
            pts = means[idx]
        d = pts @ lay.rows[2] + lay.offset[2]
        if frustum is not None:
            keep = d > (min_depth if min_depth is not None else 0.0)
            x = pts @ lay.rows[0] + lay.offset[0]
            keep &= (x >= np.float32(frustum.x_lo) * d) & (x <= np.float32(frustum.x_hi) * d)
            y = pts @ lay.rows[1] + lay.offset[1]
            keep &= (y >= np.float32(frustum.y_lo) * d) & (y <= np.float32(frustum.y_hi) * d)
            d, idx = d[keep], idx[keep]
        depths.append(d)
        index.append(idx)
        area.append(np.full(len(d), float(lay.rows[2] @ lay.rows[2]), np.float32))
    if not depths:
        return np.zeros(0, np.float32), np.zeros(0, np.uint32), np.zeros(0, np.float32)
    if len(depths) == 1:
        return depths[0], index[0], area[0]
    return np.concatenate(depths), np.concatenate(index), np.concatenate(area)


def contribution(
    weight: np.ndarray, depth: np.ndarray, area: np.ndarray | float = 1.0, depth_power: float = 0.0
) -> np.ndarray:
    """How much each splat in view is worth keeping in a limited frame, (M,) float32:
    `weight` (opacity × the product of its two largest scales, layer units²) × `area`
    (layer scale²) / depth**depth_power.

    depth_power 2 is the projected area × opacity; measured on bench/render.py's room it
    keeps the near splats and loses the far walls (300k splats, 100k kept at half
    resolution: PSNR 19 dB against the full frame, against 27 dB for power 0), so limited
    frames use 0: the frustum makes the choice view-dependent, and `grow_factor` covers
    for the density dropped everywhere alike.
    """
    w = weight * area
    if depth_power:
        w = w / np.maximum(depth, np.float32(1e-6)) ** np.float32(depth_power)
    return np.asarray(w, np.float32)


def uniform_scores(index: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random score in [0, 1) per splat index, (M,) float32 (the
    MurmurHash3 64-bit finaliser; a bare multiplicative hash kept indices on a lattice,
    diagonal streaks across a photo's row-major splats): the top k of them thin every
    part of the view alike. A one-shot render (a preview with `max_splats`) thins this
    way: ranked by `contribution`, a generated world's sky dome and backdrop (few, big
    splats) took the whole budget and the photo's own small splats vanished from its
    start view."""
    h = np.asarray(index, np.uint64)
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        h = h ^ (h >> np.uint64(33))
    return ((h >> np.uint64(40)).astype(np.float64) / float(1 << 24)).astype(np.float32)


def splat_weights(opacity: np.ndarray, log_scales: np.ndarray) -> np.ndarray:
    """opacity (N,) in 0..1, log_scales (N, 3) -> (N,) float32 opacity × s1 × s2 (the two
    largest scales: the area of the splat's largest cross-section up to π)."""
    ls = np.sort(np.asarray(log_scales, np.float32), axis=1)
    return (np.asarray(opacity, np.float32) * np.exp(np.clip(ls[:, 1] + ls[:, 2], -80, 80))).astype(
        np.float32
    )


def grow_factor(in_view: int, kept: int, limit: float = 2.5) -> float:
    """Scale for the splats a limited frame keeps, to cover for the `in_view - kept` dropped:
    (in_view / kept) ** 0.3, in [1, limit]. Full area cover would be the power 0.5; measured
    on bench/render.py's room (300k splats, 30k kept at half resolution) SSIM against the
    full frame is 0.53 without growth, 0.70 at power 0.5, 0.73 at 0.4 and 0.74 at 0.3."""
    if kept <= 0 or in_view <= kept:
        return 1.0
    return float(min(limit, (in_view / kept) ** 0.3))


def depth_keys_u16(depth: np.ndarray) -> np.ndarray:
    """16-bit keys, 0 for the farthest splat, 65535 for the nearest, (M,) uint16.

    Quantised over [min, max] of the given depths so the 65536 buckets cover the visible range.
    """
    if depth.size == 0:
        return np.zeros(0, np.uint16)
    lo, hi = float(depth.min()), float(depth.max())
    scale = np.float32(65535.0 / (hi - lo)) if hi > lo else np.float32(0.0)
    keys = (np.float32(hi) - depth) * scale  # far -> 0, near -> 65535
    return np.clip(keys, 0, 65535).astype(np.uint16)


def back_to_front(
    depth: np.ndarray, index: np.ndarray, min_depth: float | None = NEAR_CULL
) -> np.ndarray:
    """Fast sort: indices (uint32) of splats farther than `min_depth`, farthest first.

    depth (M,) float32, index (M,) uint32 -> (K,) uint32. Uses a stable 16-bit key sort
    (numpy's radix sort for uint16), ~10x faster than a float argsort.
    """
    if min_depth is not None:
        keep = depth > min_depth
        if not keep.all():
            depth, index = depth[keep], index[keep]
    order = np.argsort(depth_keys_u16(depth), kind="stable")
    return index[order]


def back_to_front_reference(
    depth: np.ndarray, index: np.ndarray, min_depth: float | None = NEAR_CULL
) -> np.ndarray:
    """Plain twin of `back_to_front`: exact float argsort (farthest first)."""
    if min_depth is not None:
        keep = depth > min_depth
        depth, index = depth[keep], index[keep]
    return index[np.argsort(-depth.astype(np.float64), kind="stable")]


@dataclass(frozen=True)
class SortRequest:
    """Everything a sort needs, captured on the GUI thread (arrays are never mutated)."""

    generation: int
    means: np.ndarray  # (N, 3) float32, layer-local centres
    layers: tuple[LayerDepth, ...]  # the visible Gaussian layers
    position: np.ndarray  # (3,) camera centre, world
    forward: np.ndarray  # (3,) unit view direction
    min_depth: float | None  # cull centres at or nearer than this depth
    frustum: Frustum | None = None  # cull centres outside this (with a margin when async)
    limit: int | None = None  # keep only this many in view, the largest contribution first
    weight: np.ndarray | None = None  # (N,) splat_weights: with it, results carry contributions
    candidates: np.ndarray | None = None  # sorted uint32 indices: consider only these (with limit)
    uniform: bool = False  # with limit: thin evenly (`uniform_scores`), not by contribution


@dataclass(frozen=True)
class SortResult:
    request: SortRequest
    order: np.ndarray  # (K,) uint32, farthest first
    ms: float
    score: np.ndarray | None = None  # (K,) float32 contribution of each splat of `order`
    in_view: int = 0  # splats in view before `limit` (estimated from the candidates)
    fraction: float = 1.0  # share of the considered splats that were in view
    #: depth of the nearest things in view (`near_depth`): how far the camera may move
    #: before this order's frustum culling shows (inf: nothing in front of the camera)
    near: float = float("inf")


#: `near_depth` samples at most this many depths, and takes this percentile of them
NEAR_SAMPLES = 20000
NEAR_PERCENTILE = 2.0


def near_depth(depth: np.ndarray, min_depth: float = NEAR_CULL) -> float:
    """The NEAR_PERCENTILE-th percentile of the depths (camera z) above `min_depth`, from an
    evenly strided sample of at most NEAR_SAMPLES (a few close splats do not set it); inf
    when there are none. A sideways move of a fraction of it brings splats culled outside a
    sort's frustum margin into view: the renderer re-sorts by it, not by the scene's size
    (a world's 400 m sky dome made that 4 m, and a 1 m step left a black wedge of culled
    ground in the still frame)."""
    step = max(1, len(depth) // NEAR_SAMPLES)
    d = depth[::step]
    d = d[d > min_depth]
    return float(np.percentile(d, NEAR_PERCENTILE)) if len(d) else float("inf")


def run_sort(req: SortRequest) -> SortResult:
    import time

    t0 = time.perf_counter()
    subset = req.candidates if req.limit is not None else None
    depth, index, area = _view_depths(req.means, req.layers, req.frustum, req.min_depth, subset)
    score, in_view = None, 0
    if req.weight is not None:
        if req.min_depth is not None:
            keep = depth > req.min_depth
            if not keep.all():
                depth, index, area = depth[keep], index[keep], area[keep]
        score = (
            uniform_scores(index) if req.uniform else contribution(req.weight[index], depth, area)
        )
        in_view = len(index)
        considered = sum(lay.stop - lay.start for lay in req.layers)
        fraction = in_view / considered if considered else 1.0
        if subset is not None and len(subset):
            fraction = in_view / len(subset)
            in_view = max(in_view, int(round(fraction * considered)))
        if req.limit is not None and len(index) > req.limit:
            # fewer splats while moving: those that show most in this view get sorted
            # (every layer its fair share: see strongest_per_layer)
            keep = strongest_per_layer(score, index, req.layers, req.limit)
            depth, index, score = depth[keep], index[keep], score[keep]
        keys = depth_keys_u16(depth)
        perm = np.argsort(keys, kind="stable")
        near = near_depth(depth)
        return SortResult(
            req,
            index[perm],
            (time.perf_counter() - t0) * 1000.0,
            score[perm],
            in_view,
            fraction,
            near,
        )
    order = back_to_front(depth, index, req.min_depth)
    return SortResult(req, order, (time.perf_counter() - t0) * 1000.0, near=near_depth(depth))


def strongest(score: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the `k` largest entries of `score` (ties broken arbitrarily), (M,) bool."""
    if k <= 0:
        return np.zeros(len(score), bool)
    if k >= len(score):
        return np.ones(len(score), bool)
    mask = np.zeros(len(score), bool)
    mask[np.argpartition(-score, k - 1)[:k]] = True
    return mask


def strongest_per_layer(
    score: np.ndarray, order: np.ndarray, layers: Sequence[LayerDepth], k: int
) -> np.ndarray:
    """(M,) bool mask of at most `k` entries of a sort result: `k` is shared among the layers
    of `layers` (LayerDepth ranges over the indices in `order`), the largest `score` within
    each layer. Each layer is first granted up to FLOOR_SHARE × k / (number of layers) of
    its entries (a small object keeps its splats), the rest of `k` goes to the layers in
    proportion to the entries they have left. A global top-k let one layer's big splats
    (the coarse level's merged world) crowd a small object out of moving frames entirely;
    equal shares let an inserted 65k-splat chair take half of a moving frame's budget and
    the world, thinned to the other half, dissolved into blurred blobs for a second."""
    if k >= len(score):
        return np.ones(len(score), bool)
    if len(layers) <= 1:
        return strongest(score, k)

    def members(lay: LayerDepth) -> np.ndarray:  # (M,) bool: entries of this layer
        return (order >= lay.start) & (order < lay.stop)

    counts = np.array([np.count_nonzero(members(lay)) for lay in layers])
    live = np.count_nonzero(counts)
    if live <= 1:
        return strongest(score, k)
    floor = np.minimum(counts, int(FLOOR_SHARE * k) // live)
    rest = counts - floor
    left = int(k) - int(floor.sum())
    extra = np.floor(left * rest / max(int(rest.sum()), 1)).astype(np.int64)
    share = np.minimum(counts, floor + extra)
    room = counts - share
    share[int(np.argmax(room))] += min(int(k) - int(share.sum()), int(room.max()))  # rounding
    mask = np.zeros(len(score), bool)
    for i in np.flatnonzero(counts):
        if share[i] >= counts[i]:  # all of it (the usual case for an object)
            mask |= members(layers[i])
        else:
            idx = np.flatnonzero(members(layers[i]))
            mask[idx[strongest(score[idx], int(share[i]))]] = True
    return mask


FLOOR_SHARE = 0.5  # of a limited frame's budget, granted to the layers in equal parts first


def view_changed(
    a: SortRequest | None,
    position: np.ndarray,
    forward: np.ndarray,
    scene_size: float,
    dot_limit: float = 0.99,
    move_fraction: float = 0.01,
    frustum: Frustum | None = None,
) -> bool:
    """True when the view moved enough since `a` that its order may be visibly wrong, or
    (with `frustum`, the view's own) it reaches outside the frustum `a` culled to: a wider
    field of view from the same pose kept the narrower order's splats only, the rest of
    the window black at full quality."""
    if a is None:
        return True
    if float(np.dot(a.forward, forward)) < dot_limit:
        return True
    if frustum is not None and a.frustum is not None and not a.frustum.contains(frustum):
        return True
    return float(np.linalg.norm(a.position - position)) > move_fraction * max(scene_size, 1e-9)


class BackgroundSorter:
    """Sorts on one worker thread; `submit` never blocks, `poll` returns the newest result.

    At most one sort runs at a time; a request made while one runs replaces any queued one
    (stale requests are dropped, not queued up). `on_done` is called on the worker thread.
    """

    def __init__(self, on_done: Callable[[], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="splat-sort")
        self._lock = threading.Lock()
        self._running: Future | None = None
        self._pending: SortRequest | None = None
        self._result: SortResult | None = None
        self.on_done = on_done

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or self._pending is not None

    def submit(self, req: SortRequest) -> None:
        with self._lock:
            if self._running is not None:
                self._pending = req
                return
            self._running = self._pool.submit(self._work, req)

    def _work(self, req: SortRequest) -> None:
        while True:
            res = run_sort(req)
            with self._lock:
                if (
                    self._result is None
                    or res.request.generation >= self._result.request.generation
                ):
                    self._result = res
                if self._pending is None:
                    self._running = None
                    break
                req, self._pending = self._pending, None
        if self.on_done is not None:
            try:
                self.on_done()
            except Exception:  # a dead viewport must not kill the sorter; the failure is logged
                log.warning("sort-done callback failed", exc_info=True)

    def poll(self) -> SortResult | None:
        """Take the newest finished result (or None); each result is returned once."""
        with self._lock:
            res, self._result = self._result, None
            return res

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
