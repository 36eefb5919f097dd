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
    exemplar: np.ndarray,
    shape: tuple[int, int],
    *,
    seed: int = 0,
    noise: np.ndarray | None = None,
    isotropic: bool = False,
) -> np.ndarray:
    """Zero-mean texture (h, w, C) float32 with the exemplar's spectrum and covariance.

    exemplar (s, t, C) float 0..1 (C = 1 or 3), at least 4×4; shape (h, w) of the output.
    noise: optional white noise (h, w) to reuse (e.g. the same field for several classes).
    isotropic: average the spectrum over four orientations (0°, 45°, 90°, 135°) — the
    sum of four textures from the rotated spot with independent noise, ÷ 2 — so a
    directional exemplar (a facade's window columns, a bookshelf) gives grain, not stripes.
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
    if not isotropic:
        return _spot_noise(spot, noise)
    return _isotropic_noise(spot, noise)


def _isotropic_noise(spot: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Random-phase texture (h, w, C) whose power spectrum is the spot's, averaged over
    orientation (a radial profile), along the spot's principal colour axis.

    The exemplar's colours mostly vary along one axis (shading of one material); its
    spectrum, averaged over all orientations, keeps the grain's scale but none of its
    directions, so periodic structure (window columns) becomes rings of grain, not a
    lattice.
    """
    s, t, C = spot.shape
    h, w = noise.shape
    flat = spot.reshape(-1, C).astype(np.float64)
    vals, vecs = np.linalg.eigh(flat.T @ flat)
    axis = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))  # total energy along the main axis
    lum = (flat @ vecs[:, -1]).reshape(s, t)
    n = 2 * max(s, t)
    power = np.abs(np.fft.fft2(lum, s=(n, n))) ** 2
    f = np.fft.fftfreq(n)
    rad = np.hypot(f[:, None], f[None, :])
    bins = np.minimum((rad * n).astype(int), n // 2)
    prof = np.bincount(bins.ravel(), power.ravel(), n // 2 + 1) / np.maximum(
        np.bincount(bins.ravel(), minlength=n // 2 + 1), 1
    )
    fy, fx = np.fft.fftfreq(h), np.fft.rfftfreq(w)
    r_out = np.hypot(fy[:, None], fx[None, :])
    amp = np.sqrt(np.interp(r_out * n, np.arange(n // 2 + 1), prof, right=0.0))
    tex = np.fft.irfft2(np.fft.rfft2(noise) * amp, s=(h, w))
    tex *= 1.0 / max(float(tex.std()), 1e-12)
    # unit-variance texture × the spot's std along its colour axis (per output pixel the
    # spot's energy is spread over its s·t pixels, as in `_spot_noise`)
    return (tex[..., None] * axis[None, None, :]).astype(np.float32)


def _spot_noise(spot: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Circular convolution (FFT) of white noise (h, w) with a spot (s, t, C): the texture
    wraps around seamlessly in both directions, as a panorama does in longitude."""
    h, w = noise.shape
    s, t = spot.shape[:2]
    ex = spot
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
