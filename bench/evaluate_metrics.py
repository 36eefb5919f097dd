"""`evaluate`'s per-view costs at a phone photo's size, against the methods they replaced.

    python bench/evaluate_metrics.py [--photo IMG.jpg] [--repeats 3]

For one 12 MP image pair (the photo given, or a synthetic one, against itself blurred and
noised) it prints, best of `--repeats`:
- SSIM: `evaluate.ssim` (OpenCV float32) against skimage's `structural_similarity` with the
  same settings (the implementation before), time ratio and the difference of the values;
- PSNR: `evaluate.psnr` against the float64 NumPy formula;
- lens undistortion: `ColmapLens.undistort` with its map interpolated from a node grid
  (`sfm._smooth_map`) against the map computed at every pixel, for a SIMPLE_RADIAL and an
  OPENCV lens, time ratio and the largest difference of the resampled images (8-bit levels).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def best(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """(fastest wall seconds, the last result) of `repeats` calls."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    import cv2
    from skimage.metrics import structural_similarity

    import generators.reconstruct.sfm as sfm
    from generators.reconstruct.evaluate import SKIMAGE_SSIM, psnr, ssim
    from generators.reconstruct.sfm import ColmapLens

    ap = argparse.ArgumentParser()
    ap.add_argument("--photo", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.photo:
        img = cv2.imread(str(a.photo))
        if img is None:
            print(f"error: cannot read {a.photo}", file=sys.stderr)
            return 2
        img = img[..., ::-1].copy()
    else:  # 4032x3024 with texture at every scale
        rng = np.random.default_rng(0)
        img = cv2.resize(rng.integers(0, 256, (189, 252, 3), dtype=np.uint8), (4032, 3024))
        img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    other = cv2.GaussianBlur(img, (0, 0), 1.2)
    other = np.clip(other + np.random.default_rng(1).normal(0, 6, img.shape), 0, 255)
    other = other.astype(np.uint8)
    print(f"{w}x{h} pair, best of {a.repeats}")

    kw = SKIMAGE_SSIM
    t_new, s_new = best(lambda: ssim(img, other), a.repeats)
    t_old, s_old = best(lambda: structural_similarity(img, other, **kw), a.repeats)
    print(
        f"SSIM   evaluate.ssim {t_new:6.2f} s | skimage {t_old:6.2f} s | "
        f"ratio {t_old / t_new:4.1f}x | values {s_new:.6f} / {s_old:.6f}"
    )

    def psnr64() -> float:
        mse = np.mean((img.astype(np.float64) - other.astype(np.float64)) ** 2)
        return 10 * math.log10(255**2 / mse)

    t_new, p_new = best(lambda: psnr(img, other), a.repeats)
    t_old, p_old = best(psnr64, a.repeats)
    print(
        f"PSNR   evaluate.psnr {t_new:6.2f} s | float64  {t_old:6.2f} s | "
        f"ratio {t_old / t_new:4.1f}x | values {p_new:.4f} / {p_old:.4f} dB"
    )

    f = 0.8 * max(w, h)
    for lens in (
        ColmapLens("SIMPLE_RADIAL", w, h, (f, w / 2, h / 2, 0.05)),
        ColmapLens("OPENCV", w, h, (f, f * 1.003, w / 2 + 6, h / 2 - 4, -0.12, 0.04, 5e-4, -8e-4)),
    ):
        t_new, (u_new, _) = best(lambda lens=lens: lens.undistort(img), a.repeats)
        grid = sfm._smooth_map
        sfm._smooth_map = lambda *_args: None  # every pixel mapped, as before
        try:
            t_old, (u_old, _) = best(lambda lens=lens: lens.undistort(img), a.repeats)
        finally:
            sfm._smooth_map = grid
        diff = np.abs(u_new.astype(np.int16) - u_old.astype(np.int16))
        print(
            f"lens   {lens.model:14s} grid {t_new:6.2f} s | every pixel {t_old:6.2f} s | ratio "
            f"{t_old / t_new:4.1f}x | image difference max {diff.max()} levels, mean "
            f"{diff.mean():.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
