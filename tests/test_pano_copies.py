"""Classical outpainting continues surfaces without copying the photo (issue 14 measures)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from generators.panorama import place_photo
from generators.panorama.copy_metrics import clone_fraction, mirror_ncc
from generators.panorama.outpaint_classical import outpaint_classical
from generators.panorama.texture import adsn_texture

pytestmark = pytest.mark.slow  # 512-pixel classical fills

FOV = 65.0
HEIGHT = 512


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from skimage import data

    return data.astronaut().astype(np.float32) / 255


def _padded_pano(photo: np.ndarray, border: int) -> np.ndarray:
    """The photo padded by `border` (a cv2 border mode) by 40 % a side, placed with the
    same focal length: what a mirror- or tile-padding outpainter produces near the photo."""
    h, w = photo.shape[:2]
    p = int(0.4 * w)
    big = cv2.copyMakeBorder(photo, p, p, p, p, border)
    f = 0.5 * w / math.tan(math.radians(FOV) / 2)
    fov_big = math.degrees(2 * math.atan(big.shape[1] / 2 / f))
    pano, _ = place_photo(big, fov_big, HEIGHT)
    return pano


def test_measures_flag_mirrors_and_clones_and_pass_the_classical_fill(photo) -> None:
    h, w = photo.shape[:2]
    mirrored = _padded_pano(photo, cv2.BORDER_REFLECT)
    assert mirror_ncc(mirrored, FOV, (w, h))["max"] > 0.5
    tiled = _padded_pano(photo, cv2.BORDER_WRAP)
    pano, known = place_photo(photo, FOV, HEIGHT)
    assert clone_fraction(tiled, known, FOV, (w, h))["fraction"] > 0.15
    info: dict = {}
    filled = outpaint_classical(pano, known, info=info)
    ncc = mirror_ncc(filled, FOV, (w, h))
    clones = clone_fraction(filled, known, FOV, (w, h))
    assert ncc["max"] <= 0.2, ncc
    assert clones["fraction"] <= 0.15, clones
    assert info["upper"] in ("sky", "ceiling") and set(info["class_fractions"]) == {
        "upright",
        "ground",
        "sky",
    }


def test_adsn_texture_keeps_colour_statistics_not_content() -> None:
    rng = np.random.default_rng(1)
    ex = np.clip(0.5 + 0.1 * rng.standard_normal((32, 32, 3)), 0, 1).astype(np.float32)
    ex[..., 1] = ex[..., 0]  # perfectly correlated R and G
    tex = adsn_texture(ex, (128, 256), seed=3)
    assert tex.shape == (128, 256, 3) and abs(float(tex.mean())) < 0.01
    assert 0.03 < float(tex.std()) < 0.15
    np.testing.assert_allclose(tex[..., 0], tex[..., 1], atol=1e-5)  # covariance kept
    # periodic in longitude: no seam at the wrap
    assert np.abs(tex[:, 0] - tex[:, -1]).mean() < 2 * np.abs(np.diff(tex, axis=1)).mean()
    with pytest.raises(ValueError, match="4x4"):
        adsn_texture(ex[:2, :2], (8, 8))


def test_isotropic_adsn_turns_a_facades_stripes_into_grain() -> None:
    """Window columns (a vertical stripe pattern) give stripes with plain spot noise and
    direction-free grain of the same scale and strength with the isotropic spectrum."""
    x = np.arange(32, dtype=np.float32)
    stripes = (0.5 + 0.3 * np.sin(x / 32 * 2 * np.pi * 4))[None, :, None] * np.ones((32, 1, 3))
    plain = adsn_texture(stripes, (128, 256), seed=1)
    iso = adsn_texture(stripes, (128, 256), seed=1, isotropic=True)

    def anisotropy(t: np.ndarray) -> float:
        g = t[..., 0]
        return float(np.abs(np.diff(g, axis=1)).mean() / np.abs(np.diff(g, axis=0)).mean())

    assert anisotropy(plain) > 4.0
    assert 0.8 < anisotropy(iso) < 1.25
    assert float(iso.std()) == pytest.approx(float(plain.std()), rel=0.2)
    # periodic in longitude like the plain texture
    assert np.abs(iso[:, 0] - iso[:, -1]).mean() < 2 * np.abs(np.diff(iso, axis=1)).mean()
