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

import numpy as np

from scene.gaussians import GaussianCloud, logit
from scene.rotations import matrices_to_quats

log = logging.getLogger(__name__)

#: coarse splats' covariance is the moment-matched one times this (so neighbouring voxels
#: overlap like the fine splats did instead of leaving a grid of gaps)
SPREAD = 1.2
#: conserve each voxel's integrated opacity (Σ opacity × cross-section of its splats): where
#: an opaque merged splat would cover less, its two largest axes widen, by at most MAX_WIDEN
#: (clipping the opacity instead lost coverage: at 1M splats, whose small splats give small
#: moment-matched covariances, moving frames came out 5 % darker than the full frame).
#: Measured on bench/render.py's room, cut frames of 45k splats at 1/3 resolution, SSIM / PSNR
#: against the full frame: spread 1.6 without it 0.851 / 30.1 dB (300k), 0.666 / 24.9 dB (1M);
#: 1.2 with it (widen <= 1.25) 0.848 / 30.2 dB, 0.689 / 26.1 dB; 1.0 (widen <= 1.5)
#: 0.841 / 30.0 dB, 0.693 / 27.0 dB.
CONSERVE = True
MAX_WIDEN = 1.25


def _cells(means: np.ndarray, h: float, lo: np.ndarray) -> tuple[np.ndarray, int]:
    """Voxel id per splat (N,) int64, renumbered 0..M-1, and M."""
    ijk = np.floor((means - lo) / h).astype(np.int64)
    dims = ijk.max(0) + 1
    key = (ijk[:, 0] * dims[1] + ijk[:, 1]) * dims[2] + ijk[:, 2]
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    return inv, int(inv.max()) + 1 if len(inv) else 0


def merge_cloud(cloud: GaussianCloud, target: int) -> GaussianCloud:
    """About `target` splats merged from `cloud` (unchanged when it has no more than that).
    See `merge_with_parents` (this is its merged cloud alone).
    """
    return merge_with_parents(cloud, target)[0]


def merge_with_parents(
    cloud: GaussianCloud, target: int
) -> tuple[GaussianCloud, np.ndarray | None, float]:
    """(merged cloud, parent (N,) int64 index of each fine splat's merged splat or None when
    nothing was merged, voxel edge h in layer units (0 when nothing was merged)).

    The parents make an adaptive cut possible (hierarchical 3DGS, Octree-GS): a frame draws
    a voxel's fine splats where the voxel projects large and its merged splat elsewhere.

    Voxel size is chosen (up to four refinements) so that about `target` voxels are occupied; per
    voxel, with w = opacity × s1 × s2 (the two largest scales): mean = Σ w x / Σ w,
    covariance = SPREAD × (Σ w (Σ_i + x xᵀ) / Σ w − mean meanᵀ), its two largest axes
    widened (at most MAX_WIDEN) until an opacity of 0.99 carries the voxel's Σ o_i s1 s2,
    colour (SH DC) = weighted mean, higher SH bands zero, opacity = min(0.99, Σ o_i s1 s2 /
    (s1' s2') of the merged splat) (coverage kept).
    """
    n = len(cloud)
    if n <= target or target <= 0:
        return cloud, None, 0.0
    means = cloud.means.astype(np.float64)
    lo, hi = means.min(0), means.max(0)
    ext = np.sort(np.maximum(hi - lo, 1e-9))
    h = float(np.sqrt(ext[1] * ext[2] / target))  # as if the splats lay on a surface
    for _ in range(4):  # refine towards `target` occupied voxels
        inv, m = _cells(means, h, lo)
        if abs(m - target) < 0.15 * target:
            break
        h *= float(np.clip((m / target) ** 0.5, 0.2, 5.0))
    inv, m = _cells(means, h, lo)
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
    second = covariance_rows(cloud.quats, cloud.scales).astype(np.float64)  # (N, 6)
    second += np.stack([means[:, a] * means[:, b] for a, b in tri], 1)
    second = wmean(second) - np.stack([mu[:, a] * mu[:, b] for a, b in tri], 1)
    cov = np.empty((m, 3, 3))
    for c, (a, b) in enumerate(tri):
        cov[:, a, b] = cov[:, b, a] = SPREAD * second[:, c]
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
    log.debug("merged %d splats into %d (voxel %.3g)", n, m, h)
    return out, inv, h
