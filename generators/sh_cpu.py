"""View-dependent splat colours from spherical harmonics on the CPU, fused (numba).

What `generators.reconstruct.optimize.sh_colors` computes with PyTorch ops, its reference
twin: colour = max(0, 0.5 + C0·dc + Σ_k basis_k(dir)·rest_k) with dir the unit vector from
the camera centre to the splat's mean (3DGS `eval_sh` conventions, `scene.sh`), and its
gradient to the DC and first-band coefficients and, through dir, to the means. On 400k
splats the PyTorch ops took ~50 ms a step (forward and backward, one thread: they run
between the compiled rasteriser's kernels), one splat's work spread over some twenty
400k-element tensors; here each splat is done in one pass (a few ms).

SH degree 0 and 1 (what the optimiser trains on a CPU); `supports(degree)` says whether a
degree is covered, the PyTorch twin is used for higher ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit, prange

from generators.splat_cpu import KERNEL_LOCK  # numba's pool runs one parallel kernel at a time
from scene.sh import C0, C1

if TYPE_CHECKING:
    import torch

MAX_DEGREE = 1


def supports(degree: int) -> bool:
    """Whether `sh_colors_cpu` evaluates this SH degree."""
    return 0 <= degree <= MAX_DEGREE


@njit(parallel=True, cache=True, fastmath=True)
def _sh_fwd(means, campos, sh0, shN, degree, out):  # noqa: ANN001
    """out (N, 3) = max(0, 0.5 + C0·sh0 + degree-1 band); means (N, 3), campos (3,),
    sh0 (N, 3), shN (N, K, 3) with K ≥ 3 when degree ≥ 1."""
    for i in prange(means.shape[0]):
        dx = means[i, 0] - campos[0]
        dy = means[i, 1] - campos[1]
        dz = means[i, 2] - campos[2]
        inv = 1.0 / max(np.sqrt(dx * dx + dy * dy + dz * dz), 1e-12)
        x, y, z = dx * inv, dy * inv, dz * inv
        for ch in range(3):
            c = 0.5 + C0 * sh0[i, ch]
            if degree >= 1:
                c += -C1 * y * shN[i, 0, ch] + C1 * z * shN[i, 1, ch] - C1 * x * shN[i, 2, ch]
            out[i, ch] = max(c, 0.0)


@njit(parallel=True, cache=True, fastmath=True)
def _sh_bwd(means, campos, sh0, shN, degree, g_out, g_means, g_sh0, g_shN):  # noqa: ANN001
    """Gradients of `_sh_fwd` given g_out (N, 3): into g_means (N, 3),
    g_sh0 (N, 3) and g_shN (N, K, 3) (written whole). A channel whose sum was negative
    (clamped to 0) passes no gradient; at exactly 0 it does, as torch's clamp_min."""
    for i in prange(means.shape[0]):
        dx = means[i, 0] - campos[0]
        dy = means[i, 1] - campos[1]
        dz = means[i, 2] - campos[2]
        norm = np.sqrt(dx * dx + dy * dy + dz * dz)
        inv = 1.0 / max(norm, 1e-12)
        x, y, z = dx * inv, dy * inv, dz * inv
        gx = 0.0
        gy = 0.0
        gz = 0.0
        for k in range(g_shN.shape[1]):
            for ch in range(3):
                g_shN[i, k, ch] = 0.0
        for ch in range(3):
            c = 0.5 + C0 * sh0[i, ch]
            if degree >= 1:
                c += -C1 * y * shN[i, 0, ch] + C1 * z * shN[i, 1, ch] - C1 * x * shN[i, 2, ch]
            g = g_out[i, ch] if c >= 0.0 else 0.0
            g_sh0[i, ch] = C0 * g
            if degree >= 1:
                g_shN[i, 0, ch] = -C1 * y * g
                g_shN[i, 1, ch] = C1 * z * g
                g_shN[i, 2, ch] = -C1 * x * g
                gx -= C1 * shN[i, 2, ch] * g
                gy -= C1 * shN[i, 0, ch] * g
                gz += C1 * shN[i, 1, ch] * g
        if degree >= 1 and norm > 1e-12:
            # d(v / |v|) / dv = (I - dir dirᵀ) / |v|
            dot = x * gx + y * gy + z * gz
            g_means[i, 0] = (gx - x * dot) * inv
            g_means[i, 1] = (gy - y * dot) * inv
            g_means[i, 2] = (gz - z * dot) * inv
        else:
            g_means[i, 0] = 0.0
            g_means[i, 1] = 0.0
            g_means[i, 2] = 0.0


class _Fn:
    """The autograd Function, built on first use (importing this module needs no torch)."""

    fn: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.fn is None:
            import torch

            class ShColors(torch.autograd.Function):
                @staticmethod
                def forward(ctx, means, sh0, shN, campos, degree):  # noqa: ANN001, ANN205
                    m = means.detach().numpy()
                    a0 = sh0.detach().numpy()
                    aN = shN.detach().numpy()
                    cp = np.asarray(campos, m.dtype)
                    out = np.empty((m.shape[0], 3), m.dtype)
                    with KERNEL_LOCK:
                        _sh_fwd(m, cp, a0, aN, degree, out)
                    ctx.arrays = (m, cp, a0, aN)
                    ctx.degree = degree
                    return torch.from_numpy(out)

                @staticmethod
                def backward(ctx, g):  # noqa: ANN001, ANN205
                    m, cp, a0, aN = ctx.arrays
                    go = np.ascontiguousarray(g.detach().numpy(), dtype=m.dtype)
                    g_m = np.empty_like(m)
                    g_0 = np.empty_like(a0)
                    g_N = np.empty_like(aN)
                    with KERNEL_LOCK:
                        _sh_bwd(m, cp, a0, aN, ctx.degree, go, g_m, g_0, g_N)
                    ctx.arrays = None
                    return (
                        torch.from_numpy(g_m),
                        torch.from_numpy(g_0),
                        torch.from_numpy(g_N),
                        None,
                        None,
                    )

            cls.fn = ShColors
        return cls.fn


def sh_colors_cpu(
    means: torch.Tensor, sh0: torch.Tensor, shN: torch.Tensor, campos: np.ndarray, degree: int
) -> torch.Tensor:
    """(N, 3) colours of splats seen from `campos` (3,) world; means (N, 3), sh0 (N, 3),
    shN (N, K, 3) (K ≥ 3 for degree 1), contiguous CPU tensors of one float dtype;
    differentiable to means, sh0 and shN. Raises ValueError for a degree this does not
    evaluate (`supports`) or too few coefficients."""
    if not supports(degree):
        raise ValueError(f"sh_colors_cpu evaluates SH degree 0-{MAX_DEGREE}, not {degree}")
    if degree >= 1 and (shN.ndim != 3 or shN.shape[1] < 3):
        raise ValueError(f"degree {degree} needs 3 coefficients per channel, shN is {shN.shape}")
    if shN.ndim != 3 or shN.shape[1] == 0:
        shN = means.new_zeros((means.shape[0], 1, 3))
    return _Fn.get().apply(
        means.contiguous(), sh0.contiguous(), shN.contiguous(), campos, int(degree)
    )
