"""Stationary texture synthesis from an exemplar, without copying it.

Asymptotic discrete spot noise (ADSN): white Gaussian noise convolved with the
exemplar's mean-subtracted, windowed patch (Galerne, Gousseau & Morel, "Random Phase
Textures: Theory and Synthesis", IEEE TIP 2011). The result has the exemplar's mean,
colour covariance and power spectrum (its "micro-texture": grass, gravel, plaster, sky
grain, wood grain) but random phases, so no object, edge or keypoint of the exemplar is
reproduced: it cannot clone content, by construction. Any output size; periodic over the
output (so it wraps around a panorama).
"""

from __future__ import annotations

import numpy as np


def adsn_texture(
    exemplar: np.ndarray, shape: tuple[int, int], *, seed: int = 0, noise: np.ndarray | None = None
) -> np.ndarray:
    """Zero-mean texture (h, w, C) float32 with the exemplar's spectrum and covariance.

    exemplar (s, t, C) float 0..1 (C = 1 or 3), at least 4×4; shape (h, w) of the output.
    noise: optional white noise (h, w) to reuse (e.g. the same field for several classes).
    Raises ValueError for an exemplar smaller than 4×4.
    """
    ex = np.asarray(exemplar, np.float32)
    if ex.ndim == 2:
        ex = ex[..., None]
    s, t = ex.shape[:2]
    if s < 4 or t < 4:
        raise ValueError(f"texture exemplar must be at least 4x4 pixels, got {s}x{t}")
    h, w = shape
    win = np.outer(np.hanning(s + 2)[1:-1], np.hanning(t + 2)[1:-1]).astype(np.float32)
    mean = (ex * win[..., None]).sum((0, 1)) / win.sum()
    spot = (ex - mean) * win[..., None]
    # normalise so the output variance equals the exemplar's (windowed) variance
    spot = spot / np.sqrt((win**2).sum())
    if noise is None:
        noise = np.random.default_rng(seed).standard_normal((h, w)).astype(np.float32)
    # circular convolution (FFT): the texture wraps around seamlessly in both directions,
    # as a panorama does in longitude
    pad = np.zeros((h, w, ex.shape[2]), np.float32)
    s2, t2 = min(s, h), min(t, w)
    pad[:s2, :t2] = spot[:s2, :t2]
    pad = np.roll(pad, (-(s2 // 2), -(t2 // 2)), axis=(0, 1))
    fn = np.fft.rfft2(noise)
    out = np.stack(
        [np.fft.irfft2(fn * np.fft.rfft2(pad[..., c]), s=(h, w)) for c in range(ex.shape[2])], -1
    )
    return out.astype(np.float32)


def best_window(
    mask: np.ndarray, size: int, *, avoid: np.ndarray | None = None
) -> tuple[int, int, float] | None:
    """Top-left (row, col) of the size×size window most covered by `mask`, and that cover.

    avoid (h, w) float ≥ 0: a cost (e.g. edge strength) to break ties towards plain
    regions. None when no window of that size fits.
    """
    import cv2

    h, w = mask.shape
    if size > h or size > w:
        return None
    cover = cv2.boxFilter(
        mask.astype(np.float32), -1, (size, size), normalize=True, borderType=cv2.BORDER_CONSTANT
    )
    score = cover.copy()
    if avoid is not None:
        score = score - 0.5 * cv2.boxFilter(avoid.astype(np.float32), -1, (size, size))
    half = size // 2
    valid = np.zeros_like(score, bool)
    valid[half : h - (size - half) + 1, half : w - (size - half) + 1] = True
    score = np.where(valid, score, -np.inf)
    r, c = np.unravel_index(int(np.argmax(score)), score.shape)
    if not np.isfinite(score[r, c]):
        return None
    return int(r - half), int(c - half), float(cover[r, c])
