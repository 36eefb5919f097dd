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
