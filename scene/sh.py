"""Real spherical harmonics in the reference 3DGS convention, and their rotation.

The basis (constants and sign conventions) is exactly the one the reference
rasterizer evaluates (`sh_utils.eval_sh`), so a coefficient rotation computed here
matches what every 3DGS viewer draws.
"""

from __future__ import annotations

import numpy as np

C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (
    1.0925484305920792,
    -1.0925484305920792,
    0.31539156525252005,
    -1.0925484305920792,
    0.5462742152960396,
)
C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)

#: number of non-DC coefficients per colour channel for SH degree 0..3
REST_COEFFS = {0: 0, 1: 3, 2: 8, 3: 15}


def degree_from_rest(k: int) -> int:
    """SH degree for `k` non-DC coefficients per channel (0, 3, 8 or 15)."""
    for deg, count in REST_COEFFS.items():
        if count == k:
            return deg
    raise ValueError(f"{k} SH rest coefficients per channel is not a valid SH degree 0-3")


def eval_basis(dirs: np.ndarray, degree: int) -> np.ndarray:
    """Evaluate the non-DC SH basis functions.

    dirs: (M, 3) unit directions.  Returns (M, REST_COEFFS[degree]) float64.
    """
    d = np.asarray(dirs, dtype=np.float64)
    x, y, z = d[:, 0], d[:, 1], d[:, 2]
    cols: list[np.ndarray] = []
    if degree >= 1:
        cols += [-C1 * y, C1 * z, -C1 * x]
    if degree >= 2:
        xx, yy, zz = x * x, y * y, z * z
        cols += [
            C2[0] * x * y,
            C2[1] * y * z,
            C2[2] * (2 * zz - xx - yy),
            C2[3] * x * z,
            C2[4] * (xx - yy),
        ]
    if degree >= 3:
        cols += [
            C3[0] * y * (3 * xx - yy),
            C3[1] * x * y * z,
            C3[2] * y * (4 * zz - xx - yy),
            C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
            C3[4] * x * (4 * zz - xx - yy),
            C3[5] * z * (xx - yy),
            C3[6] * x * (xx - 3 * yy),
        ]
    if not cols:
        return np.zeros((len(d), 0))
    return np.stack(cols, axis=1)


def eval_color(sh0: np.ndarray, shN: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """View-dependent RGB (before clamping) as the reference rasterizer computes it.

    sh0: (N, 3); shN: (N, K, 3); dirs: (N, 3) unit view directions (camera -> splat).
    Returns (N, 3) float64 = 0.5 + C0*sh0 + sum_k Y_k(dir) shN[:, k].
    """
    rgb = 0.5 + C0 * np.asarray(sh0, np.float64)
    k = shN.shape[1]
    if k:
        basis = eval_basis(dirs, degree_from_rest(k))  # (N, K)
        rgb = rgb + np.einsum("nk,nkc->nc", basis, shN.astype(np.float64))
    return rgb


def _fibonacci_sphere(n: int) -> np.ndarray:
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], 1)


_SAMPLES = _fibonacci_sphere(128)


def rotation_matrix(rot: np.ndarray, degree: int) -> np.ndarray:
    """Matrix D (K×K) that rotates SH rest coefficients by the orthogonal 3×3 `rot`.

    For coefficients c (K per channel) of f(d) = Σ c_k Y_k(d), D @ c are the
    coefficients of g(d) = f(rotᵀ d), i.e. the same lighting carried along with
    the rotation. Each band is solved exactly by least squares on sample directions
    (the bands are closed under rotation, so the fit has zero residual).
    """
    k = REST_COEFFS[degree]
    out = np.zeros((k, k))
    if k == 0:
        return out
    rot = np.asarray(rot, dtype=np.float64)
    a = eval_basis(_SAMPLES, degree)  # (M, K)
    b = eval_basis(_SAMPLES @ rot, degree)  # Y_k(rotᵀ d): rows are (rotᵀ d)ᵀ = dᵀ rot
    start = 0
    for band in range(1, degree + 1):
        w = 2 * band + 1
        sl = slice(start, start + w)
        out[sl, sl] = np.linalg.lstsq(a[:, sl], b[:, sl], rcond=None)[0]
        start += w
    return out


def rotate_coefficients(shN: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Rotate SH rest coefficients shN (N, K, 3) by the orthogonal 3×3 `rot`."""
    k = shN.shape[1]
    if k == 0:
        return shN.copy()
    d = rotation_matrix(rot, degree_from_rest(k)).astype(np.float32)
    return np.einsum("jk,nkc->njc", d, shN).astype(np.float32)
