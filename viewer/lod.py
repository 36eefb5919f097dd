"""A coarse level of detail of a Gaussian cloud for frames drawn while the camera moves:
splats merged per voxel by moment matching, as in hierarchical 3D Gaussian splatting
(Kerbl et al., "A Hierarchical 3D Gaussian Representation for Real-Time Rendering of Very
Large Datasets", SIGGRAPH 2024: a parent's mean and covariance are the weighted mean and
covariance of its children, weights = opacity × projected area).

`merge_cloud(cloud, target)` -> a GaussianCloud of about `target` splats that covers the
same surfaces with the same average colour. A moving frame drawing every coarse splat in view
looks like a low-resolution picture of the full frame, not like a sparse subset of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scene.gaussians import GaussianCloud, logit
from scene.rotations import matrices_to_quats

log = logging.getLogger(__name__)

#: a merged splat's covariance is its children's own (weighted mean) plus SCATTER × the
#: scatter of their centres. Children spread evenly over a voxel of edge e scatter with a
#: variance of e²/12 along it, and Gaussians tile a plane at spacing e without gaps from
#: sigma ≈ e/2 (variance e²/4): 3×. A single factor on the whole moment-matched covariance
#: (1.2) left the merged splats of a generated world (small children on a pixel lattice,
#: scatter is all of it) at sigma 0.32 e: moving frames showed a dark screen-door grid
#: between voxels, and scaling the children's own covariance too blurred scenes whose
#: splats are large already. Measured at 940x692, moving frame vs full frame at the same
#: camera (PSNR / SSIM, office / Sceaux worlds at 40k splats @ 0.2 and 45k @ 0.33;
#: bench/render.py's room at 300k and 1M):
#: 1.2 × all: worlds 28.1 / 0.881, 27.2 / 0.892 dB (the grid); room 300k 0.797 / 0.854,
#: 1M 0.659 / 0.710 (1M @ 0.33: 26.9 dB);
#: 3 × scatter, MAX_WIDEN 1.12: worlds 32.3 / 0.897, 32.2 / 0.919, no grid; room 300k 0.794 /
#: 0.852, 1M 0.649 / 0.707 (1M @ 0.33: 27.8 dB). The Jordan Pond panorama world at 45k @ 0.33:
#: 25.5 -> 28.4 dB; a Sceaux reconstruction (269k splats, at its photos' cameras): 25.6 ->
#: 24.9 dB (2× scatter: 25.2 dB there, but the office world's grid stays, 28.8 dB).
SCATTER = 3.0
#: conserve each voxel's integrated opacity (Σ opacity × cross-section of its splats): where
#: an opaque merged splat would cover less, its two largest axes widen, by at most MAX_WIDEN
#: (clipping the opacity instead lost coverage: at 1M splats, whose small splats give small
#: moment-matched covariances, moving frames came out 5 % darker than the full frame).
#: Widening by up to 1.25 on top of SCATTER blurred the room by 0.01 SSIM; 1.0 (none) lost
#: 1.5-3 dB on the worlds.
CONSERVE = True
MAX_WIDEN = 1.12
#: a voxel holding more than SPLIT_CAP × the average splats per merged splat is split in
#: eight, at most MAX_SPLITS times (an octree's adaptive depth). One voxel size for all of
#: a generated world (a photo 6 m away, a sky dome 400 m out) made voxels of metres: the
#: photo fell into a handful of merged splats, each too big for a moving frame's budget to
#: swap in, and walking the demo world showed a blur without its rocket. (Voxels laid out
#: in mip-NeRF 360's contracted space instead drew moiré rings in the sky.)
MAX_SPLITS = 8
SPLIT_CAP = 4.0


#: bits per axis of a Morton code in one int64 (3 × 21 = 63)
MORTON_BITS = 21


def _spread3(v: np.ndarray) -> np.ndarray:
    """The low MORTON_BITS bits of each v (uint64) moved to every third bit (a Morton
    code's interleave, by the usual magic-number shifts)."""
    v = v & np.uint64(0x1FFFFF)
    for shift, mask in (
        (32, 0x1F00000000FFFF),
        (16, 0x1F0000FF0000FF),
        (8, 0x100F00F00F00F00F),
        (4, 0x10C30C30C30C30C3),
        (2, 0x1249249249249249),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _run_ids(keys: np.ndarray, *more: np.ndarray) -> np.ndarray:
    """(N,) run number of each entry of sorted `keys` (and `more`, compared alike): 0 for
    the first run, +1 wherever any of them changes."""
    start = np.zeros(len(keys), bool)
    start[0] = True
    for k in (keys, *more):
        start[1:] |= k[1:] != k[:-1]
    return np.cumsum(start) - 1


def _cells(
    means: np.ndarray, h: float, lo: np.ndarray, cap: int | None = None
) -> tuple[np.ndarray, int, np.ndarray]:
    """(voxel id per splat (N,) int64 renumbered 0..M-1, M, each voxel's level (M,) int:
    its edge is h / 2**level). `means` (N, 3) float64, every one >= `lo`.

    cap: a voxel holding more splats than this is split into eight, up to MAX_SPLITS
    times (an octree's adaptive depth): dense parts of a scene get more, smaller merged
    splats, and no merged splat holds more than a moving frame's budget can swap in.

    The splats are sorted once by the Morton code of their finest-level cell, so every
    voxel of every level is a run of that order (its code's prefix): one sort instead of
    one per level (5-7x faster on 1M-splat worlds, the same voxels). A grid too fine for
    63-bit codes (over 2**21 finest cells a side) gets fewer split levels."""
    n = len(means)
    if n == 0:
        return np.zeros(0, np.int64), 0, np.zeros(0, np.int64)
    rel = np.maximum(means - lo, 0.0) / h
    top = int(np.floor(rel.max()))
    if top.bit_length() > MORTON_BITS:  # a level-0 grid beyond the codes: no splits
        _, inv = np.unique(np.floor(rel).astype(np.int64), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        return inv, int(inv.max()) + 1, np.zeros(int(inv.max()) + 1, np.int64)
    depth = 0 if cap is None else min(MAX_SPLITS, MORTON_BITS - top.bit_length())
    q = np.floor(rel * (1 << depth)).astype(np.uint64)
    code = (_spread3(q[:, 0]) << np.uint64(2)) | (_spread3(q[:, 1]) << np.uint64(1))
    code |= _spread3(q[:, 2])
    order = np.argsort(code, kind="stable")
    code = code[order]
    level = np.full(n, depth, np.int64)  # per splat in `order`
    done = np.zeros(n, bool)
    for lv in range(depth):
        run = _run_ids(code >> np.uint64(3 * (depth - lv)))
        fits = ~done & (np.bincount(run)[run] <= cap)
        level[fits] = lv
        done |= fits
        if done.all():
            break
    run = _run_ids(code >> (np.uint64(3) * (depth - level).astype(np.uint64)), level)
    inv = np.empty(n, np.int64)
    inv[order] = run
    first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
    return inv, len(first), level[first]


def merge_cloud(cloud: GaussianCloud, target: int) -> GaussianCloud:
    """About `target` splats merged from `cloud` (unchanged when it has no more than that).
    See `merge_with_parents` (this is its merged cloud alone).
    """
    return merge_with_parents(cloud, target)[0]


def merge_with_parents(
    cloud: GaussianCloud, target: int
) -> tuple[GaussianCloud, np.ndarray | None, np.ndarray]:
    """(merged cloud, parent (N,) int64 index of each fine splat's merged splat or None when
    nothing was merged, each merged splat's voxel edge (M,) float32 in layer units (zeros
    when nothing was merged)).

    The parents make an adaptive cut possible (hierarchical 3DGS, Octree-GS): a frame draws
    a voxel's fine splats where the voxel projects large and its merged splat elsewhere.

    Voxels are cubes of edge h, split where crowded (`_cells`); h is chosen (up to five
    refinements) so that about `target` voxels are occupied; per
    voxel, with w = opacity × s1 × s2 (the two largest scales): mean = Σ w x / Σ w,
    covariance = Σ w Σ_i / Σ w + SCATTER × (Σ w x xᵀ / Σ w − mean meanᵀ), its two largest axes
    widened (at most MAX_WIDEN) until an opacity of 0.99 carries the voxel's Σ o_i s1 s2,
    colour (SH DC) = weighted mean, higher SH bands zero, opacity = min(0.99, Σ o_i s1 s2 /
    (s1' s2') of the merged splat) (coverage kept).
    """
    n = len(cloud)
    if n <= target or target <= 0:
        return cloud, None, np.zeros(n, np.float32)
    means = cloud.means.astype(np.float64)
    lo, hi = means.min(0), means.max(0)
    ext = np.sort(np.maximum(hi - lo, 1e-9))
    h = float(np.sqrt(ext[1] * ext[2] / target))  # as if the splats lay on a surface
    cap = max(8, int(SPLIT_CAP * n / target))
    prev = None
    for _ in range(5):  # refine towards `target` occupied voxels
        inv, m, level = _cells(means, h, lo, cap)
        if abs(m - target) < 0.15 * target:
            break
        # m ~ h**-k: k = 2 on a surface; a scene with far, sparse parts (a sky dome)
        # occupies fewer new voxels per step, so k comes from the last two tries
        k = 2.0
        if prev is not None and prev[0] != h and prev[1] != m:
            k = float(np.clip(-np.log(m / prev[1]) / np.log(h / prev[0]), 0.5, 3.0))
        prev = (h, m)
        h *= float(np.clip((m / target) ** (1.0 / k), 0.2, 5.0))
    else:
        inv, m, level = _cells(means, h, lo, cap)
    op = cloud.opacity_values().astype(np.float64)
    ls = np.sort(cloud.scales.astype(np.float64), axis=1)
    area = np.exp(np.clip(ls[:, 1] + ls[:, 2], -80, 80))
    w = op * area + 1e-30
    wsum = np.bincount(inv, w, m)

    def wmean(v: np.ndarray) -> np.ndarray:  # (N, ...) -> (M, ...)
        flat = v.reshape(n, -1)
        out = np.stack([np.bincount(inv, w * flat[:, j], m) for j in range(flat.shape[1])], 1)
        return (out / wsum[:, None]).reshape((m,) + v.shape[1:])

    from .renderer import covariance_rows

    mu = wmean(means)
    tri = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    own = wmean(covariance_rows(cloud.quats, cloud.scales).astype(np.float64))  # (M, 6)
    scatter = wmean(np.stack([means[:, a] * means[:, b] for a, b in tri], 1))
    scatter -= np.stack([mu[:, a] * mu[:, b] for a, b in tri], 1)
    cov = np.empty((m, 3, 3))
    for c, (a, b) in enumerate(tri):
        cov[:, a, b] = cov[:, b, a] = own[:, c] + SCATTER * scatter[:, c]
    vals, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    vals = np.maximum(vals, (1e-4 * h) ** 2)
    vecs[np.linalg.det(vecs) < 0, :, 0] *= -1  # a rotation, not a reflection
    cover = np.bincount(inv, op * area, m)
    merged_area = np.sqrt(vals[:, 1] * vals[:, 2])
    # conserve the integrated opacity: where the children cover more than an opaque merged
    # splat of this size, widen its two largest axes instead of clipping the opacity
    if CONSERVE:
        grow2 = np.clip(cover / (0.99 * merged_area), 1.0, MAX_WIDEN**2)
        vals[:, 1:] *= grow2[:, None]
        merged_area = merged_area * grow2
    opacity = np.clip(cover / merged_area, 1e-3, 0.99)
    sh0 = wmean(cloud.sh0.astype(np.float64)).astype(np.float32)
    # view-dependent terms left out: at a moving frame's resolution they hardly show, and
    # averaging them is most of the merge time at SH degree 3 (zeros keep the layout)
    shn = np.zeros((m,) + cloud.shN.shape[1:], np.float32)
    out = GaussianCloud(
        mu.astype(np.float32),
        (0.5 * np.log(vals)).astype(np.float32),
        matrices_to_quats(vecs).astype(np.float32),
        logit(opacity).astype(np.float32),
        sh0,
        shn,
    )
    out.meta = dict(cloud.meta)
    size = (h / np.exp2(level.astype(np.float64))).astype(np.float32)
    log.debug("merged %d splats into %d (voxel %.3g, split up to %d times)", n, m, h, level.max())
    return out, inv, size


#: a middle level between the merged splats and the fine ones: `merge_tree` merges the
#: fine splats to MID_RATIO × the coarse target, and those to the coarse target, so a
#: moving frame's cut can draw a far voxel at a quarter of its fine splats instead of one
#: merged splat or all of them (hierarchical 3DGS cuts a whole tree; two levels left the
#: far walls of bench/render.py's 1M room as one merged splat per 10 cm voxel: their
#: texture blurred away, moving-frame SSIM there 0.71-0.79). 0 or 1: no middle level.
MID_RATIO = 4.0


@dataclass
class MergeTree:
    """A three-level (or two-level) hierarchy over a cloud's splats.

    coarse: the top level (about `target` splats); coarse_size (Mc,) float32 voxel edges.
    mid: the middle level (None: none; the fine splats hang under the coarse ones), its
    splats ordered by parent so each coarse splat's children are a run; mid_size (Mm,)
    float32; mid_parent (Mm,) int64 coarse index of each (nondecreasing).
    parent: (N,) int64 index of each fine splat's parent (in `mid` when there is one, else
    in `coarse`); None when nothing was merged (coarse is the cloud itself)."""

    coarse: GaussianCloud
    coarse_size: np.ndarray
    parent: np.ndarray | None
    mid: GaussianCloud | None = None
    mid_size: np.ndarray | None = None
    mid_parent: np.ndarray | None = None


def merge_tree(cloud: GaussianCloud, target: int, ratio: float | None = None) -> MergeTree:
    """`cloud` merged to about `target` splats (`merge_with_parents`), through a middle level
    of about ratio × target (default MID_RATIO) splats when the cloud has over twice that:
    the fine splats are merged into the middle level and its splats into the top one
    (moment matching composes: a parent of merged splats has the moments of their children,
    up to the voxels' own SCATTER widening)."""
    ratio = MID_RATIO if ratio is None else ratio
    mid_target = int(target * ratio)
    # a middle level holding most splats alone adds nothing: fewer than two fine splats
    # each (a 5000-splat layer at a 4000 target left 73 % of them alone under a merged
    # copy of themselves, their view-dependent colour dropped)
    if ratio <= 1.0 or len(cloud) <= 2 * mid_target or target <= 0:
        merged, parent, size = merge_with_parents(cloud, target)
        return MergeTree(merged, size, parent)
    mid, parent, mid_size = merge_with_parents(cloud, mid_target)
    if parent is None:
        return MergeTree(mid, mid_size, None)
    coarse, up, coarse_size = merge_with_parents(mid, target)
    if up is None:  # the middle level is already small enough: two levels
        return MergeTree(mid, mid_size, parent)
    order = np.argsort(up, kind="stable")  # each coarse splat's children as one run
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return MergeTree(
        coarse,
        coarse_size,
        rank[parent],
        mid.subset(order),
        mid_size[order],
        up[order].astype(np.int64),
    )
