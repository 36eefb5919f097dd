"""The photo's own splats recoloured so the world, seen from where the photo was taken,
reproduces the photo.

A world made from one photo starts with one Gaussian per photo pixel, coloured with that
pixel (`pano_world.photo_splats`). Rendered at the photo's camera, each pixel then mixes
its own splat with its neighbours' tails: the splats are 0.5 px wide and every renderer
adds the EWA low-pass of 0.3 px² (Zwicker et al. 2001; 3DGS), so the start view is the
photo blurred by about 0.75 px (the office photo: 29.8 dB against itself; blurred by
0.8 px, 31.5). 3DGS fits colours to the input views by gradient descent on the rendering
(Kerbl et al. 2023); here the rendering is one blur B of nearly the identity, and the
Landweber iteration (Landweber 1951; the correction passed back through a Gaussian G
close to B's own adjoint, which also keeps it from boosting the photo's pixel noise)

    colour ← clip(colour + G ∗ (photo − render(colour)), 0, 1)

gets most of the way in a few steps, each one forward render (`splat_cpu.render_numpy`,
0.2 s for 540k splats at 900×598 on this 2-core machine). What lies behind the photo's
splats (the invented layers, the background, the sky) is rendered once and composited
under them through their final transmittance. Seen from elsewhere the same low-pass
applies, so the world keeps the photo's sharpness as the walker moves.
"""

from __future__ import annotations

import logging

import numpy as np

from generators.jobs import CancelToken
from scene.camera import Camera
from scene.gaussians import GaussianCloud, rgb_to_sh0, sh0_to_rgb

log = logging.getLogger(__name__)

FIT_ITERATIONS = 4
#: px: G's σ. Without G (plain Van Cittert) the fit boosts the photo's pixel-scale grain,
#: which reads as noise wherever the view is not the photo's own pixel grid (the office
#: photo rendered 1280 px wide: 32.4 dB unfitted, 31.9 fitted without G, 34.8 with it;
#: at its own 900 px: 29.8, 34.1, 34.0)
FIT_SMOOTH = 1.0


def _render_args(cloud: GaussianCloud) -> tuple[np.ndarray, ...]:
    """(means, quats, log-scales, opacities 0..1, RGB) of a cloud's splats, SH degree 0."""
    rgb = sh0_to_rgb(np.asarray(cloud.sh0).reshape(-1, 3))
    return cloud.means, cloud.quats, cloud.scales, cloud.opacity_values().reshape(-1), rgb


def fit_photo_colours(
    photo_cloud: GaussianCloud,
    behind: GaussianCloud,
    photo: np.ndarray,
    camera: Camera,
    pixels: np.ndarray,
    iterations: int = FIT_ITERATIONS,
    cancel: CancelToken | None = None,
) -> GaussianCloud:
    """`photo_cloud` with its colours (SH degree 0) fitted so that, rendered at `camera`
    over `behind`, it reproduces `photo`.

    photo (h, w, 3) 0..1 as seen by camera (h × w px, world coordinates); pixels (N,)
    int: the row-major pixel of each of photo_cloud's N splats; behind: everything else
    in the world (rendered once, under the photo's splats). Colours stay in 0..1 (what
    every reader shows); the rest of the cloud is unchanged. Raises ValueError when the
    photo, camera and splats do not match, `Cancelled` between iterations when `cancel`
    is set.
    """
    from generators.splat_cpu import render_numpy

    h, w = photo.shape[:2]
    if (camera.width, camera.height) != (w, h) or len(pixels) != len(photo_cloud.means):
        raise ValueError("photo, camera and the photo's splats do not match")
    if not len(pixels) or iterations <= 0:
        return photo_cloud
    target = np.asarray(photo, np.float64).reshape(-1, 3)
    under = np.zeros((h, w, 3))
    if len(behind.means):
        under, _ = render_numpy(*_render_args(behind), camera)
    means, quats, scales, op, rgb = _render_args(photo_cloud)
    rgb = np.asarray(rgb, np.float64)
    for it in range(iterations):
        if cancel is not None:
            cancel.check()
        img, t_final = render_numpy(means, quats, scales, op, rgb, camera)
        residual = target - (img + t_final[..., None] * under).reshape(-1, 3)
        log.debug("photo fit %d: %.2f dB", it, -10 * np.log10(np.mean(residual**2) + 1e-12))
        if FIT_SMOOTH > 0:
            import cv2

            residual = cv2.GaussianBlur(
                residual.reshape(h, w, 3).astype(np.float32), (0, 0), FIT_SMOOTH
            ).reshape(-1, 3)
        rgb = np.clip(rgb + residual[pixels], 0.0, 1.0)
    out = photo_cloud.subset(np.arange(len(pixels)))
    out.sh0 = rgb_to_sh0(rgb.astype(np.float32)).reshape(np.asarray(photo_cloud.sh0).shape)
    return out
