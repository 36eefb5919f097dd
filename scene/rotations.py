"""Quaternion (w, x, y, z) <-> rotation matrix helpers, vectorised over N."""

from __future__ import annotations

import math

import numpy as np


def normalize_quats(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (N, 4); zero-length rows become the identity (1, 0, 0, 0)."""
    q = np.asarray(q, dtype=np.float32)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    out = np.where(n > 1e-12, q / np.maximum(n, 1e-12), np.array([1, 0, 0, 0], np.float32))
    return out.astype(np.float32)


def quats_to_matrices(q: np.ndarray) -> np.ndarray:
    """(N, 4) wxyz -> (N, 3, 3) rotation matrices (input normalised first)."""
    q = normalize_quats(q).astype(np.float64)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    m = np.empty((len(q), 3, 3))
    m[:, 0, 0] = 1 - 2 * (y * y + z * z)
    m[:, 0, 1] = 2 * (x * y - w * z)
    m[:, 0, 2] = 2 * (x * z + w * y)
    m[:, 1, 0] = 2 * (x * y + w * z)
    m[:, 1, 1] = 1 - 2 * (x * x + z * z)
    m[:, 1, 2] = 2 * (y * z - w * x)
    m[:, 2, 0] = 2 * (x * z - w * y)
    m[:, 2, 1] = 2 * (y * z + w * x)
    m[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrices_to_quats(m: np.ndarray) -> np.ndarray:
    """(N, 3, 3) proper rotations -> (N, 4) unit wxyz with w >= 0 (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    tr = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    q = np.empty((len(m), 4))
    # Pick, per row, the numerically largest of w, x, y, z to divide by.
    cand = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], 1)
    best = np.argmax(cand, axis=1)
    for i in range(4):
        sel = best == i
        if not np.any(sel):
            continue
        r = m[sel]
        if i == 0:
            s = np.sqrt(np.maximum(1 + r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2], 1e-12)) * 2
            q[sel] = np.stack(
                [
                    0.25 * s,
                    (r[:, 2, 1] - r[:, 1, 2]) / s,
                    (r[:, 0, 2] - r[:, 2, 0]) / s,
                    (r[:, 1, 0] - r[:, 0, 1]) / s,
                ],
                1,
            )
        elif i == 1:
            s = np.sqrt(np.maximum(1 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2], 1e-12)) * 2
            q[sel] = np.stack(
                [
                    (r[:, 2, 1] - r[:, 1, 2]) / s,
                    0.25 * s,
                    (r[:, 0, 1] + r[:, 1, 0]) / s,
                    (r[:, 0, 2] + r[:, 2, 0]) / s,
                ],
                1,
            )
        elif i == 2:
            s = np.sqrt(np.maximum(1 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2], 1e-12)) * 2
            q[sel] = np.stack(
                [
                    (r[:, 0, 2] - r[:, 2, 0]) / s,
                    (r[:, 0, 1] + r[:, 1, 0]) / s,
                    0.25 * s,
                    (r[:, 1, 2] + r[:, 2, 1]) / s,
                ],
                1,
            )
        else:
            s = np.sqrt(np.maximum(1 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1], 1e-12)) * 2
            q[sel] = np.stack(
                [
                    (r[:, 1, 0] - r[:, 0, 1]) / s,
                    (r[:, 0, 2] + r[:, 2, 0]) / s,
                    (r[:, 1, 2] + r[:, 2, 1]) / s,
                    0.25 * s,
                ],
                1,
            )
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.astype(np.float32)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b for wxyz quaternions; broadcasts (N,4) with (4,) or (N,4)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


def decompose_similarity(m: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Split a 4×4 similarity into (scale s > 0, orthogonal R (3×3), translation t).

    Raises ValueError when the upper 3×3 block is not s·R (shear or non-uniform scale).
    R may be a reflection (det −1).
    """
    m = np.asarray(m, dtype=np.float64)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ValueError("transform must be a finite 4x4 matrix")
    if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
        raise ValueError("transform must be affine (last row 0 0 0 1)")
    a = m[:3, :3]
    with np.errstate(over="ignore", invalid="ignore"):  # (a 1e308 entry: said below)
        s = abs(float(np.linalg.det(a))) ** (1.0 / 3.0)
    if not math.isfinite(s):
        raise ValueError("transform is out of range")
    if s < 1e-12:
        raise ValueError("transform is singular")
    r = a / s
    if not np.allclose(r @ r.T, np.eye(3), atol=1e-4):
        raise ValueError("transform is not a similarity (shear or non-uniform scale)")
    return float(s), r, m[:3, 3].copy()
