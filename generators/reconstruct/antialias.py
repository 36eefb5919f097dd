"""Mip-Splatting's 3D smoothing filter: no splat finer than the photos resolved.

A 3DGS scene optimised at one resolution and rendered at a higher one shows erosion and
sparkle: splats shrunk below the training pixels (nothing penalised that) become thin
specks with gaps between them (Yu et al., "Mip-Splatting: Alias-free 3D Gaussian
Splatting", CVPR 2024, sec. 4.1). On the CPU `reconstruct` trains at 320-800 px, and
`evaluate` and the viewer render at the photos' or the window's size: Sceaux's photos
(2832 px) scored 0.7-0.9 dB lower at full size than the same renders made at the training
size and upscaled.

The filter convolves each Gaussian with an isotropic 3D Gaussian of variance s / nu^2,
nu being the highest sampling rate (pixels per metre: f / depth) of any training view
whose frustum holds the splat; Mip-Splatting's s = 0.2 and 15 % frustum margin, and its
rule for splats no view sees (the largest filter of the seen ones).

Mip-Splatting trains with the filter in place and scales opacity by the ratio of the
covariance determinants. Here it is applied once after the optimisation, and opacity is
kept: a post-hoc determinant ratio makes the flat splats a surface is made of nearly
transparent (Sceaux: -4.7 dB at full size), while the plain enlargement (as 3DGS's own
screen-space dilation) gives +0.5-0.8 dB at full size for -0.1 dB at the training size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud

SMOOTHING = 0.2  # Mip-Splatting's filter variance, in squared training pixels
FRUSTUM_MARGIN = 0.15  # a splat this far (fraction of the frame) outside a view counts
MIN_DEPTH = 0.2  # m: nearer than this a view does not count (as Mip-Splatting's near plane)


def max_sampling_rate(means: np.ndarray, cameras: Sequence[Camera], long_side: float) -> np.ndarray:
    """(N,) float64: per splat, the highest sampling rate (training pixels per metre at
    its depth, f·k / z) over `cameras` whose frustum (with FRUSTUM_MARGIN) holds it; 0 for
    a splat no camera sees. means (N, 3) world; each camera's image trained at
    `long_side` px on its long side (k = long_side / max(width, height))."""
    pts = np.asarray(means, np.float64)
    nu = np.zeros(len(pts))
    for cam in cameras:
        k = float(long_side) / max(cam.width, cam.height)
        uv, z = cam.project(pts)
        mw, mh = FRUSTUM_MARGIN * cam.width, FRUSTUM_MARGIN * cam.height
        ok = (z > MIN_DEPTH) & (uv[:, 0] > -mw) & (uv[:, 0] < cam.width + mw)
        ok &= (uv[:, 1] > -mh) & (uv[:, 1] < cam.height + mh)
        nu = np.where(ok, np.maximum(nu, cam.fx * k / np.maximum(z, MIN_DEPTH)), nu)
    return nu


def smooth_3d(
    cloud: GaussianCloud,
    cameras: Sequence[Camera],
    long_side: float,
    s: float = SMOOTHING,
) -> tuple[GaussianCloud, dict]:
    """A copy of `cloud` with every splat's variance raised by s / nu^2 on each axis
    (`max_sampling_rate`), opacities unchanged, and what was done: {"s", "long_side",
    "enlarged" (splats with an axis grown by over 1 %), "unseen" (splats no camera sees,
    given the largest filter)}.
    Raises ValueError without cameras or with long_side <= 0."""
    if not cameras:
        raise ValueError("the 3D smoothing filter needs the training cameras")
    if long_side <= 0:
        raise ValueError(f"training size must be positive, got {long_side}")
    out = cloud.copy()
    info = {"s": s, "long_side": int(round(long_side)), "enlarged": 0, "unseen": 0}
    if len(cloud) == 0:
        return out, info
    nu = max_sampling_rate(cloud.means, cameras, long_side)
    seen = nu > 0
    if not seen.any():
        return out, info
    var = np.zeros(len(nu))
    var[seen] = s / nu[seen] ** 2
    var[~seen] = var[seen].max()
    sc2 = np.exp(2.0 * cloud.scales.astype(np.float64))
    new2 = sc2 + var[:, None]
    out.scales = (0.5 * np.log(new2)).astype(np.float32)
    info["enlarged"] = int((new2 > 1.0201 * sc2).any(1).sum())
    info["unseen"] = int((~seen).sum())
    return out, info
