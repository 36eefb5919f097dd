"""The Gaussian-splatting constants every renderer in Wander shares, in one place.

Used by the CPU rasterisers (`generators.rasterize`, its compiled twin `generators.splat_cpu`),
the viewer's GL shaders (`shaders.load` writes them into the GLSL source) and the viewer's
depth sorter (`viewer.sorting`), so a splat is drawn, dropped or faded the same way by all
of them. Values are the reference 3DGS rasteriser's (Kerbl et al. 2023,
diff-gaussian-rasterization: `in_frustum` culls camera z <= 0.2; alpha = min(0.99,
o·exp(−½ dᵀΣ⁻¹d)) and skipped below 1/255), which gsplat follows too except for its
default near plane (0.01). SH constants are in `scene.sh`.

`generators.splat_cpu`'s kernels are compiled by numba with these values frozen in and
cached on disk: after changing one, delete `generators/__pycache__/splat_cpu*` (numba
recompiles when splat_cpu.py itself changes, not when this file does).
"""

from __future__ import annotations

#: splats whose centre is at camera depth z <= this (scene units, metres) are not drawn
NEAR_CULL = 0.2
#: a splat's contribution to a pixel below this alpha is skipped
ALPHA_MIN = 1.0 / 255.0
#: a splat's alpha at a pixel is capped at this (never fully opaque)
ALPHA_MAX = 0.99
#: px² added to the diagonal of every projected 2D covariance (the reference rasteriser's
#: low-pass: every splat covers about a pixel)
LOWPASS = 0.3
#: px² of the pixel filter a reduced frame adds as its pixels grow (`reduced_lowpass`)
PIXEL_FILTER = 0.1


def reduced_lowpass(scale: float) -> tuple[float, float]:
    """The low-pass of a frame drawn at `scale` × the size of the frame it stands for (the
    viewer's reduced moving frames, scaled up for display): (dilation, filter) px² of the
    reduced frame, both added to the 2D covariance's diagonal.

    - dilation = LOWPASS·scale²: the full frame's low-pass, in the reduced frame's pixels,
      not compensated (as in the full frame). Adding LOWPASS there instead spread every
      splat over 0.3/scale² full-frame px² at full opacity: at scale 0.33 the bench room's
      1M splats, all drawn, scored SSIM 0.837 against the full frame; with this 0.897.
    - filter = PIXEL_FILTER·(1 − scale²), with opacity × sqrt(det Σ / det(Σ + filter)) so
      each splat keeps its weight (Mip-Splatting's 2D filter, Yu et al. 2024): splats below
      a reduced pixel stay about a pixel wide, so they do not flicker in and out of the
      pixel centres as the camera moves (SSIM 0.899, PSNR +0.7 dB over the dilation alone).

    A full frame (scale ≥ 1) gets (LOWPASS, 0). Raises ValueError for scale <= 0."""
    if not scale > 0.0:
        raise ValueError(f"scale must be positive, got {scale}")
    s2 = min(float(scale), 1.0) ** 2
    return LOWPASS * s2, PIXEL_FILTER * (1.0 - s2)
