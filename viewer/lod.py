"""A coarse level of detail of a Gaussian cloud for frames drawn while the camera moves:
splats merged per voxel by moment matching, as in hierarchical 3D Gaussian splatting
(Kerbl et al., "A Hierarchical 3D Gaussian Representation for Real-Time Rendering of Very
Large Datasets", SIGGRAPH 2024: a parent's mean and covariance are the weighted mean and
covariance of its children, weights = opacity × projected area).

`merge_cloud(cloud, target)` -> a GaussianCloud of about `target` splats that covers the
same surfaces with the same average colour; `merge_with_parents` also says which merged
splat each splat went into, and `merge_tree` adds a middle level (each merged voxel's
octree children) for a moving frame's cut through three levels (viewer/lod_cut.py). A
moving frame drawing every coarse splat in view looks like a low-resolution picture of the
full frame, not like a sparse subset of it.
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
    means: np.ndarray, h: float, lo: np.ndarray, cap: int | None = None, sub: bool = False
) -> tuple:
    """(voxel id per splat (N,) int64 renumbered 0..M-1, M, each voxel's level (M,) int:
    its edge is h / 2**level). `means` (N, 3) float64, every one >= `lo`.

    cap: a voxel holding more splats than this is split into eight, up to MAX_SPLITS
    times (an octree's adaptive depth): dense parts of a scene get more, smaller merged
    splats, and no merged splat holds more than a moving frame's budget can swap in.

    sub: also the voxels' octree children (one level finer; a voxel at the finest level is
    its own child): (child voxel id per splat (N,) int64, their number C, each child's level
    (C,), each child's voxel (C,) int64, ascending): a middle level nested in the voxels,
    from the same sort.

    The splats are sorted once by the Morton code of their finest-level cell, so every
    voxel of every level is a run of that order (its code's prefix): one sort instead of
    one per level (5-7x faster on 1M-splat worlds, the same voxels). A grid too fine for
    63-bit codes (over 2**21 finest cells a side) gets fewer split levels."""
    n = len(means)
    if n == 0:
        none = np.zeros(0, np.int64)
        return (none, 0, none) + ((none, 0, none, none) if sub else ())
    rel = np.maximum(means - lo, 0.0) / h
    top = int(np.floor(rel.max()))
    if top.bit_length() > MORTON_BITS:  # a level-0 grid beyond the codes: no splits
        _, inv = np.unique(np.floor(rel).astype(np.int64), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        m = int(inv.max()) + 1
        lv0 = np.zeros(m, np.int64)
        return (inv, m, lv0) + ((inv, m, lv0, np.arange(m)) if sub else ())
    depth = 0 if cap is None else min(MAX_SPLITS, MORTON_BITS - top.bit_length())
    split_depth = depth  # the voxels' finest level
    if sub and top.bit_length() + depth + 1 <= MORTON_BITS:
        depth += 1  # codes one level finer, for the children of the finest voxels
    q = np.floor(rel * (1 << depth)).astype(np.uint64)
    code = (_spread3(q[:, 0]) << np.uint64(2)) | (_spread3(q[:, 1]) << np.uint64(1))
    code |= _spread3(q[:, 2])
    order = np.argsort(code, kind="stable")
    code = code[order]
    level = np.full(n, split_depth, np.int64)  # per splat in `order`
    done = np.zeros(n, bool)
    for lv in range(split_depth):
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
    out = (inv, len(first), level[first])
    if not sub:
        return out
    kid_level = np.minimum(level + 1, depth)
    kid = _run_ids(code >> (np.uint64(3) * (depth - kid_level).astype(np.uint64)), run)
    kid_inv = np.empty(n, np.int64)
    kid_inv[order] = kid
    kfirst = np.flatnonzero(np.r_[True, kid[1:] != kid[:-1]])
    return out + (kid_inv, len(kfirst), kid_level[kfirst], run[kfirst])


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
    h, (inv, m, level) = _voxels(cloud, target)
    sums = _voxel_sums(cloud, inv, m)
    out = _merged_cloud(sums, (1e-4 * h) ** 2, cloud)
    size = _sizes(h, level, sums)
    log.debug("merged %d splats into %d (voxel %.3g, split up to %d times)", n, m, h, level.max())
    return out, inv, size


def _voxels(cloud: GaussianCloud, target: int, sub: bool = False) -> tuple[float, tuple]:
    """(h, `_cells`'s result) for about `target` occupied voxels (`merge_with_parents`):
    h refined up to five times from a first guess as if the splats lay on a surface."""
    n = len(cloud)
    means = cloud.means.astype(np.float64)
    lo, hi = means.min(0), means.max(0)
    ext = np.sort(np.maximum(hi - lo, 1e-9))
    h = float(np.sqrt(ext[1] * ext[2] / target))  # as if the splats lay on a surface
    cap = max(8, int(SPLIT_CAP * n / target))
    prev = None
    for _ in range(5):  # refine towards `target` occupied voxels
        cells = _cells(means, h, lo, cap, sub)
        m = cells[1]
        if abs(m - target) < 0.15 * target:
            return h, cells
        # m ~ h**-k: k = 2 on a surface; a scene with far, sparse parts (a sky dome)
        # occupies fewer new voxels per step, so k comes from the last two tries
        k = 2.0
        if prev is not None and prev[0] != h and prev[1] != m:
            k = float(np.clip(-np.log(m / prev[1]) / np.log(h / prev[0]), 0.5, 3.0))
        prev = (h, m)
        h *= float(np.clip((m / target) ** (1.0 / k), 0.2, 5.0))
    return h, _cells(means, h, lo, cap, sub)


def _sizes(h: float, level: np.ndarray, sums: dict[str, np.ndarray]) -> np.ndarray:
    """Each voxel's edge (M,) float32, layer units: h halved `level` times; 0 (never
    refined by a moving frame's cut, viewer/lod_cut.py) for a voxel holding a world's
    hidden splats alone (`GaussianCloud.hidden_range`: its background layer and backstop).
    Behind the surfaces in view, they took as much of the cut's budget as those did: the
    office world's walls, drawn a level coarser, showed a lattice of dots while walking.
    The bench walk's camera 1.2 s in, 108k splats @ 0.33, PSNR / SSIM against the full
    frame: 25.75 / 0.848; the backstop unrefined 26.79 / 0.877; the background layer too
    27.57 / 0.894 (at 0.6 s 27.19 -> 28.42 dB, at 3 s 30.24 -> 31.35; Sceaux unchanged)."""
    size = (h / np.exp2(level.astype(np.float64))).astype(np.float32)
    if "shown" in sums:  # (only a cloud with hidden splats counts them)
        size[sums["shown"] <= 0.0] = 0.0
    return size


_TRI = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # a symmetric 3x3's upper triangle


def _voxel_sums(cloud: GaussianCloud, inv: np.ndarray, m: int) -> dict[str, np.ndarray]:
    """Per voxel (M rows) the weighted sums a merged splat is made from, w = opacity ×
    s1 × s2 (the two largest scales): w (M,), wx (M, 3) Σ w x, wxx (M, 6) Σ w x xᵀ,
    wcov (M, 6) Σ w Σ_i, wsh0 (M, 3) Σ w colour, cover (M,) Σ opacity × s1 × s2; float64;
    for a cloud with hidden splats (`GaussianCloud.hidden_range`) also shown (M,), the
    splats not hidden. Sums of sums are the sums of the union (`_parent_sums`)."""
    from .renderer import covariance_rows

    n = len(cloud)
    means = cloud.means.astype(np.float64)
    op = cloud.opacity_values().astype(np.float64)
    ls = np.sort(cloud.scales.astype(np.float64), axis=1)
    area = np.exp(np.clip(ls[:, 1] + ls[:, 2], -80, 80))
    w = op * area + 1e-30

    def wsum(v: np.ndarray) -> np.ndarray:  # (N, k) -> (M, k)
        v = v.reshape(n, -1)
        return np.stack([np.bincount(inv, w * v[:, j], m) for j in range(v.shape[1])], 1)

    cov = covariance_rows(cloud.quats, cloud.scales).astype(np.float64)  # (N, 6)
    sums = {
        "w": np.bincount(inv, w, m),
        "wx": wsum(means),
        "wxx": wsum(np.stack([means[:, a] * means[:, b] for a, b in _TRI], 1)),
        "wcov": wsum(cov),
        "wsh0": wsum(cloud.sh0.astype(np.float64)),
        "cover": np.bincount(inv, op * area, m),
    }
    hidden = cloud.hidden_range()
    if hidden is not None:  # shown (M,): splats not hidden (`_sizes`)
        shown = np.ones(n)
        shown[hidden[0] : hidden[1]] = 0.0
        sums["shown"] = np.bincount(inv, shown, m)
    return sums


def _parent_sums(sums: dict[str, np.ndarray], parent: np.ndarray, m: int) -> dict:
    """`_voxel_sums` of voxels made of the voxels of `sums`: parent (C,) int64 each one's
    voxel among m."""
    out = {}
    for key, v in sums.items():
        if v.ndim == 1:
            out[key] = np.bincount(parent, v, m)
        else:
            out[key] = np.stack([np.bincount(parent, v[:, j], m) for j in range(v.shape[1])], 1)
    return out


def _merged_cloud(sums: dict[str, np.ndarray], floor: float, like: GaussianCloud) -> GaussianCloud:
    """One merged splat per voxel of `sums` (`merge_with_parents` gives the rules);
    eigenvalues at least `floor`; SH layout and meta as `like`'s."""
    m = len(sums["w"])
    wsum = sums["w"][:, None]
    mu = sums["wx"] / wsum
    own = sums["wcov"] / wsum
    scatter = sums["wxx"] / wsum - np.stack([mu[:, a] * mu[:, b] for a, b in _TRI], 1)
    cov = np.empty((m, 3, 3))
    for c, (a, b) in enumerate(_TRI):
        cov[:, a, b] = cov[:, b, a] = own[:, c] + SCATTER * scatter[:, c]
    vals, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    vals = np.maximum(vals, floor)
    vecs[np.linalg.det(vecs) < 0, :, 0] *= -1  # a rotation, not a reflection
    cover = sums["cover"]
    merged_area = np.sqrt(vals[:, 1] * vals[:, 2])
    # conserve the integrated opacity: where the children cover more than an opaque merged
    # splat of this size, widen its two largest axes instead of clipping the opacity
    if CONSERVE:
        grow2 = np.clip(cover / (0.99 * merged_area), 1.0, MAX_WIDEN**2)
        vals[:, 1:] *= grow2[:, None]
        merged_area = merged_area * grow2
    opacity = np.clip(cover / merged_area, 1e-3, 0.99)
    # view-dependent terms left out: at a moving frame's resolution they hardly show, and
    # averaging them is most of the merge time at SH degree 3 (zeros keep the layout)
    out = GaussianCloud(
        mu.astype(np.float32),
        (0.5 * np.log(vals)).astype(np.float32),
        matrices_to_quats(vecs).astype(np.float32),
        logit(opacity).astype(np.float32),
        (sums["wsh0"] / wsum).astype(np.float32),
        np.zeros((m,) + like.shN.shape[1:], np.float32),
    )
    out.meta = dict(like.meta)
    out.meta.pop("hidden", None)
    return out


#: a middle level between the merged splats and the fine ones: `merge_tree` splits each
#: merged splat's voxel into its octree children (about 4x as many on surfaces), so a
#: moving frame's cut can draw a far voxel at a quarter of its fine splats instead of one
#: merged splat or all of them (hierarchical 3DGS cuts a whole tree; two levels left the
#: far walls of bench/render.py's 1M room as one merged splat per 10 cm voxel: their
#: texture blurred away, moving-frame SSIM there 0.71-0.79). MID_RATIO is what a middle
#: level is expected to hold per merged splat: a cloud of at most twice that many splats
#: per merged splat gets none. 0 or 1: no middle level.
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
    """`cloud` merged to about `target` splats (`merge_with_parents`: the same voxels and
    merged splats) over a middle level: each voxel's octree children (one level finer, a
    voxel at the finest level its own child), merged alike; the top level is merged from
    the middle one's sums (moment matching composes: a voxel's weighted sums are the sums
    of its children's). Two levels only for a cloud of at most 2 × ratio × target splats
    (ratio default MID_RATIO) or where the children hardly split the voxels or the splats
    (fewer than 1.5 per voxel or two splats each)."""
    ratio = MID_RATIO if ratio is None else ratio
    n = len(cloud)
    # a middle level holding most splats alone adds nothing: it needs over two fine splats
    # per middle one (a 5000-splat layer at a 4000 target left 73 % of them alone under a
    # merged copy of themselves, their view-dependent colour dropped)
    if ratio <= 1.0 or target <= 0 or n <= 2 * ratio * target:
        merged, parent, size = merge_with_parents(cloud, target)
        return MergeTree(merged, size, parent)
    h, (inv, m, level, kid_inv, c, kid_level, kid_parent) = _voxels(cloud, target, sub=True)
    kid_sums = _voxel_sums(cloud, kid_inv, c)
    floor = (1e-4 * h) ** 2
    top_sums = _parent_sums(kid_sums, kid_parent, m)
    coarse = _merged_cloud(top_sums, floor, cloud)
    coarse_size = _sizes(h, level, top_sums)
    if 2 * c > n or c < 1.5 * m:  # the children hardly split the voxels or the splats
        return MergeTree(coarse, coarse_size, inv)
    log.debug("merged %d splats into %d over %d (voxel %.3g)", n, m, c, h)
    return MergeTree(
        coarse,
        coarse_size,
        kid_inv,
        _merged_cloud(kid_sums, floor, cloud),
        _sizes(h, kid_level, kid_sums),
        kid_parent.astype(np.int64),
    )
