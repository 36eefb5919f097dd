"""The invented ground keeps the photo's grain fine: gravel, not rippled water."""

from __future__ import annotations

import numpy as np
import pytest

from generators.panorama.outpaint_classical import outpaint_classical
from generators.panorama.projection import pano_lonlat


def test_the_invented_ground_has_fine_grain_not_blotches() -> None:
    """A photo (±30°, -12..+25°, on a 512-row panorama) of sky over gravel whose grain is
    ~2 px: behind the walker (90-180° away) and 25-45° below the horizon, where the floor
    plane shows it largest, the invented ground's coarse detail (a 5-12 px band-pass) stays
    under 0.3 of its fine detail (0.7-2 px). With the far ground's exemplar stretched 4x to
    the plane's proportions it was 0.38 (on the Sceaux castle's gravel yard 3.8: blotches
    2-4° wide, read as rippled water; now 1.4)."""
    import cv2

    rng = np.random.default_rng(3)
    h = 512
    lon, lat = pano_lonlat(h, 2 * h)
    A = np.degrees(lat)[:, None]
    L = np.degrees(lon)[None, :]
    known = (np.abs(L) < 30) & (A > -12) & (A < 25)
    grain = cv2.GaussianBlur(rng.standard_normal((h, 2 * h)).astype(np.float32), (0, 0), 1.0)
    img = np.empty((h, 2 * h, 3), np.float32)
    img[:] = (0.5, 0.65, 0.9)
    ground = np.broadcast_to(A < 0, (h, 2 * h))
    gravel = np.array([0.5, 0.47, 0.42], np.float32) + 0.16 * grain[..., None]
    img = np.where(ground[..., None], gravel, img)
    pano = np.where(known[..., None], img, 0).astype(np.float32)
    out = outpaint_classical(pano, known.astype(np.float32), seed=0)
    lum = out @ np.array([0.299, 0.587, 0.114], np.float32)
    rows = (A[:, 0] < -25) & (A[:, 0] > -45)
    cols = np.abs(L[0]) > 90

    def band(s0: float, s1: float) -> float:
        b = cv2.GaussianBlur(lum, (0, 0), s0) - cv2.GaussianBlur(lum, (0, 0), s1)
        return float(b[rows][:, cols].std())

    fine, coarse = band(0.7, 2.0), band(5.0, 12.0)
    assert fine > 0.005  # the ground has grain at all
    assert coarse < 0.3 * fine, (coarse, fine)


def test_the_two_sides_ground_meets_towards_the_nadir() -> None:
    """The ground beside each edge of the photo continues that edge's ground, by elevation;
    held from the photo's lowest row down to the nadir, a shaded lawn on the left and a
    sunlit one on the right split the ground under the viewer in two (a trial: three
    stitched Sceaux photos). Below the photo the sides now meet: at the nadir they are one
    colour, at the photo's lowest row each keeps its own."""
    from generators.panorama.outpaint_classical import _ground_field
    from generators.panorama.projection import pano_lonlat

    h, w = 128, 256
    img = np.zeros((h, w, 3), np.float32)
    sel = np.zeros((h, w), bool)
    rows = slice(66, 80)  # ground rows just below the horizon (row 64), 40 columns wide
    sel[rows, 108:148] = True
    img[:, 108:128] = (0.1, 0.3, 0.1)  # shaded on the left
    img[:, 128:148] = (0.5, 0.7, 0.3)  # sunlit on the right
    field = _ground_field(img, sel, (h, w))
    assert field is not None
    _, lat = pano_lonlat(h, w)
    left_col, right_col = 60, 196  # well beside the photo on each side
    r_photo = 78  # the photo's lowest ground row: each side nearer its own colour
    assert field[r_photo, right_col].mean() - field[r_photo, left_col].mean() > 0.15
    r_nadir = int(np.argmin(lat))  # the lowest row
    assert np.abs(field[r_nadir, left_col] - field[r_nadir, right_col]).max() < 0.02


def test_a_photo_of_foliage_with_no_ground_gets_a_ground_of_that_vegetation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A photo taken from among plants (±30°, -30..+25°): sky over leaves, lit and shaded,
    from 6° down to the photo's bottom edge, where a little soil shows between them (2 %
    of the photo), classed so (the classifier has tests of its own). Behind the walker,
    20-50° below the horizon, the invented ground is the leaves' green with their grain.
    It was the colour of the photo's bottom rows with no grain at all: under Depth
    Anything's sunflower field (2 % ground, shaded leaves in its bottom rows) a flat
    black-grey tarmac (`_vegetation_ground`)."""
    import cv2

    from generators.panorama import outpaint_classical as oc
    from generators.panorama.classes import GROUND, SKY, UPRIGHT

    def classes(img: np.ndarray, known: np.ndarray) -> np.ndarray:
        ht, wt = known.shape
        _, la = pano_lonlat(ht, wt)
        lab = np.where(np.degrees(la)[:, None] >= 6, SKY, UPRIGHT).repeat(wt, 1)
        soil = np.abs(img - np.array([0.3, 0.22, 0.16], np.float32)).max(-1) < 0.06
        return np.where(soil, GROUND, lab).astype(np.uint8)

    monkeypatch.setattr(oc, "_classify_known", classes)

    rng = np.random.default_rng(5)
    h = 256
    lon, lat = pano_lonlat(h, 2 * h)
    A = np.broadcast_to(np.degrees(lat)[:, None], (h, 2 * h))
    L = np.broadcast_to(np.degrees(lon)[None, :], (h, 2 * h))
    known = (np.abs(L) < 30) & (A > -30) & (A < 25)
    blobs = cv2.GaussianBlur(rng.standard_normal((h, 2 * h)).astype(np.float32), (0, 0), 1.5)
    img = np.empty((h, 2 * h, 3), np.float32)
    img[:] = (0.5, 0.65, 0.9)
    img[(A < 6) & (blobs >= 0)] = (0.32, 0.55, 0.16)  # lit leaves
    img[(A < 6) & (blobs < 0)] = (0.1, 0.22, 0.06)  # leaves in shade
    img[(A < -26) & (blobs > 0.25)] = (0.3, 0.22, 0.16)  # soil between them
    img += 0.01 * rng.standard_normal(img.shape).astype(np.float32)
    pano = np.where(known[..., None], img, 0).astype(np.float32)
    info: dict = {}
    out = outpaint_classical(pano, known.astype(np.float32), seed=0, info=info)
    assert info["upper"] == "sky"
    assert info["class_fractions"]["ground"] < 0.05, info["class_fractions"]
    assert info["ground_grain"]["value"] == "foliage", info["ground_grain"]
    behind = (np.abs(L) > 120) & (A < -20) & (A > -50)
    mean = out[behind].mean(0)
    assert mean[1] > 0.25 and mean[1] > mean[0] > mean[2], mean  # the leaves' green
    fine = out - cv2.GaussianBlur(out, (0, 0), 2.0)
    assert float(fine[behind].std()) > 0.01, float(fine[behind].std())
