"""The ellipse geometry the CPU splat rasterizers share (numba, inlined into their
kernels): where a 2D Gaussian splat's α = o·exp(-½ dᵀΣ⁻¹d) can still reach 1/255, and the
pixel columns of a row inside it. Used by `generators.splat_cpu` (float64),
`generators.splat_cpu32` (float32) and the viewer's CPU compositor (`viewer.cpu_splat`).

numba's on-disk cache (`cache=True`) checks only the kernel's own file: after a change
here, delete the `__pycache__/*.nbi/*.nbc` files of those modules (or touch them), or the
cached kernels keep the old code.
"""

import math

from numba import njit


@njit(inline="always", fastmath=True)
def alpha_k2(op):  # noqa: ANN001, ANN202
    """2 ln(255 o) plus a hair: the pixels where α = o·exp(-½ q) can reach 1/255 have
    q = dᵀΣ⁻¹d ≤ this (the hair keeps rounding at the rim inside the span)."""
    return 2.0 * math.log(255.0 * op) + 1e-6


@njit(inline="always", fastmath=True)
def row_span(ca, cb, cc, k2, mx, dy, x0, x1):  # noqa: ANN001, ANN202
    """First and last pixel column (clipped to x0..x1; last < first = none) of a row at
    vertical offset `dy` (px) whose centre lies inside the ellipse q ≤ k2:
    ca·dx² + 2·cb·dx·dy + cc·dy² ≤ k2 is a quadratic in dx with roots
    (-cb·dy ± √(cb²dy² - ca(cc·dy² - k2))) / ca. Visiting only these pixels instead of
    the whole bounding box skips the box's corners (a quarter of an upright splat's box,
    most of a thin diagonal one's) and changes nothing: α < 1/255 outside."""
    disc = cb * cb * dy * dy - ca * (cc * dy * dy - k2)
    if disc < 0.0:
        return 0, -1
    r = math.sqrt(disc)
    c = mx - 0.5 - cb * dy / ca
    lo = max(x0, int(math.ceil(c - r / ca - 1e-3)))
    hi = min(x1, int(math.floor(c + r / ca + 1e-3)))
    return lo, hi
