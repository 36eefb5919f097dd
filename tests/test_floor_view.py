"""The photo's ground seen from above (inverse perspective mapping), and the invented
ground's grain taken from it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.panorama.floor import MIN_ROWS_PER_TEXEL, PlacedPhoto, floor_view
from generators.panorama.projection import pano_lonlat, perspective_camera

SKY = np.array([0.55, 0.7, 0.95], np.float32)


def _floor_photo(
    floor: np.ndarray, period: float, w: int = 960, h: int = 640, pitch: float = -12.0
) -> PlacedPhoto:
    """A pinhole photo (h, w) of the floor y = −1 (eye heights) below sky, ray cast: the
    floor's colour at (x, z) is `floor` (n, n, 3), repeating every `period` eye heights,
    sampled bilinearly at 4×4 points per pixel (a camera's pixel integrates its footprint)."""
    import cv2

    cam = perspective_camera(w, h, 60.0, pitch=math.radians(pitch))
    n = floor.shape[0]
    acc = np.zeros((h, w, 3), np.float32)
    for dy in (0.125, 0.375, 0.625, 0.875):
        for dx in (0.125, 0.375, 0.625, 0.875):
            v, u = np.mgrid[0:h, 0:w].astype(np.float64)
            rays = (
                np.stack(
                    [(u + dx - cam.cx) / cam.fx, (v + dy - cam.cy) / cam.fy, np.ones_like(u)], -1
                )
                @ cam.R
            )
            down = rays[..., 1] < -1e-6
            t = -1.0 / np.where(down, rays[..., 1], -1.0)
            x = (rays[..., 0] * t / period * n) % n
            z = (rays[..., 2] * t / period * n) % n
            px = cv2.remap(
                floor,
                x.astype(np.float32),
                z.astype(np.float32),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_WRAP,
            )
            acc += np.where(down[..., None], px, SKY)
    return PlacedPhoto((acc / 16).astype(np.float32), cam)


def _ground_everywhere(h: int = 256) -> np.ndarray:
    _, lat = pano_lonlat(h, 2 * h)
    return np.broadcast_to((lat < 0)[:, None], (h, 2 * h)).copy()


def test_the_floor_view_shows_the_floor_at_its_scale() -> None:
    """A checkerboard of 0.25-eye-height squares photographed at a grazing angle comes
    back square, at 0.25 / texel texels a square, in both directions on the floor; the
    view stops where the photo's rows get coarser than MIN_ROWS_PER_TEXEL a texel."""
    n = 64
    i = np.arange(n)
    board = (((i[:, None] // 32) + (i[None, :] // 32)) % 2).astype(np.float32)
    floor = np.repeat(board[..., None], 3, -1) * 0.6 + 0.2
    photo = _floor_photo(floor, period=0.5)
    texel = 0.0125
    view = floor_view(photo.rgb, photo.camera, _ground_everywhere(), texel)
    assert view is not None
    plane, valid = view
    assert plane.shape[:2] == valid.shape and valid.mean() > 0.3
    lum = plane[..., 0]

    def period_along(axis: int) -> float:
        x = np.where(valid, lum - lum[valid].mean(), 0.0)
        spec = np.abs(np.fft.rfft(x, n=4096, axis=axis)).sum(1 - axis)
        k = int(np.argmax(spec[8:])) + 8  # past the view's own extent
        return 4096 / k

    want = 0.5 / texel  # one period: two squares
    assert period_along(1) == pytest.approx(want, rel=0.06)  # across the view
    assert period_along(0) == pytest.approx(want, rel=0.06)  # along it
    # the squares are crisp where valid: a texel is mostly one square's colour
    assert np.mean(np.abs(lum[valid] - 0.5) > 0.2) > 0.7
    # nothing kept past the distance where a photo row spans more than 1/0.8 texels
    far = math.sqrt(photo.camera.fy * texel / MIN_ROWS_PER_TEXEL - 1.0)
    zs = np.nonzero(valid.any(1))[0]
    assert len(zs) * texel < far + 0.05


def test_no_floor_view_without_ground_and_a_bad_texel_is_refused() -> None:
    photo = _floor_photo(np.full((8, 8, 3), 0.5, np.float32), period=1.0, w=240, h=160)
    assert floor_view(photo.rgb, photo.camera, np.zeros((128, 256), bool), 0.01) is None
    with pytest.raises(ValueError, match="texel"):
        floor_view(photo.rgb, photo.camera, _ground_everywhere(128), 0.0)


@pytest.mark.slow
def test_the_invented_ground_takes_its_grain_from_the_photo_seen_from_above() -> None:
    """Gravel (grain ~1 cm) under dappled shade (a third of it in blotches ~0.5 eye
    heights across), photographed level at 960 × 640: on the 512-row panorama the grain
    is gone and the ground's detail is the blotches. From the panorama's ground the
    invented floor 25-45° below the horizon, behind the walker, had coarse detail (a
    5-12 px band-pass) at 0.74 of its fine detail (0.7-2 px): rippled water, as on the
    Sceaux castle's yard. From the photo's ground seen from above the window lies in the
    sun between the blotches: fine grain, coarse detail 0.18 of it (≤ 0.3 wanted).
    """
    import cv2
    from scipy.ndimage import gaussian_filter

    from generators.panorama import place_photo
    from generators.panorama.outpaint_classical import outpaint_classical

    rng = np.random.default_rng(5)
    n = 1024  # 8 eye heights: a texel of 0.0078; the floor repeats (wrapped filters)
    grain = gaussian_filter(rng.standard_normal((n, n)), 1.2, mode="wrap").astype(np.float32)
    grain /= grain.std()
    shade = gaussian_filter(rng.standard_normal((n, n)), 24, mode="wrap")
    shade = gaussian_filter((shade > 0.3 * shade.std()).astype(np.float32), 2.0, mode="wrap")
    base = np.array([0.5, 0.47, 0.42], np.float32)
    floor = (base * (0.55 + 0.45 * shade[..., None]) + 0.05 * grain[..., None]).clip(0, 1)
    photo = _floor_photo(floor.astype(np.float32), period=8.0, pitch=0.0)
    pano, known = place_photo(photo.rgb, 60.0, 512, pitch_deg=0.0)

    def ground_detail(placed: PlacedPhoto | None) -> tuple[float, float, dict]:
        info: dict = {}
        out = outpaint_classical(pano, known, seed=0, info=info, photos=[placed] if placed else [])
        lum = out @ np.array([0.299, 0.587, 0.114], np.float32)
        lon, lat = pano_lonlat(512, 1024)
        rows = (np.degrees(lat) < -25) & (np.degrees(lat) > -45)
        cols = np.abs(np.degrees(lon)) > 90

        def band(s0: float, s1: float) -> float:
            b = cv2.GaussianBlur(lum, (0, 0), s0) - cv2.GaussianBlur(lum, (0, 0), s1)
            return float(b[rows][:, cols].std())

        return band(0.7, 2.0), band(5.0, 12.0), info

    fine0, coarse0, info0 = ground_detail(None)
    fine1, coarse1, info1 = ground_detail(photo)
    assert "stretched" in info0["ground_grain"]["source"]
    assert "seen from straight above" in info1["ground_grain"]["source"], info1["ground_grain"]
    assert (info0["ground_grain"]["value"], info1["ground_grain"]["value"]) == ("panorama", "photo")
    assert fine1 > 0.003  # grain at all
    assert coarse1 < 0.3 * fine1, (coarse1, fine1)
    assert coarse0 > 0.5 * fine0, (coarse0, fine0)  # what it was: blotches


def test_the_floor_grain_is_that_of_the_ground_the_invented_ground_is_coloured_as() -> None:
    """Sceaux 100_7104: a smooth gravel path between lawns. The plainest window of the
    floor is the path, but the invented ground beside the photo continues its edges, the
    lawns: its grain is the lawn's (a featureless green field with the path's grain)."""
    from generators.panorama.outpaint_classical import _floor_exemplar

    rng = np.random.default_rng(2)
    n, m = 160, 400
    path = np.array([0.85, 0.84, 0.8], np.float32)
    lawn = np.array([0.45, 0.62, 0.2], np.float32)
    plane = np.empty((n, m, 3), np.float32)
    plane[:] = path + 0.01 * rng.standard_normal((n, m, 1)).astype(np.float32)
    sides = np.zeros((n, m), bool)
    sides[:, :130] = sides[:, -130:] = True
    grass = lawn + 0.08 * rng.standard_normal((n, m, 1)).astype(np.float32)
    plane[sides] = grass[sides]
    valid = np.ones((n, m), bool)

    plain = _floor_exemplar(plane, valid)
    coloured = _floor_exemplar(plane, valid, lawn + 0.05)
    assert plain is not None and coloured is not None
    assert np.abs(plain.mean((0, 1)) - path).max() < 0.03  # the plainest: the path
    assert np.abs(coloured.mean((0, 1)) - lawn).max() < 0.03  # the lawn's own window
    assert coloured.std() > 3 * plain.std()  # with the lawn's grain


def test_the_floor_view_leaves_out_what_the_photo_s_alpha_hides() -> None:
    """A cut-out photo (its left half transparent): no floor texel comes from there."""
    n = 64
    i = np.arange(n)
    board = (((i[:, None] // 8) + (i[None, :] // 8)) % 2).astype(np.float32)
    photo = _floor_photo(np.repeat(board[..., None], 3, -1), period=1.0, w=480, h=320)
    alpha = np.ones((320, 480), np.float32)
    alpha[:, :240] = 0.0
    texel = 0.0125
    whole = floor_view(photo.rgb, photo.camera, _ground_everywhere(), texel)
    cut = floor_view(photo.rgb, photo.camera, _ground_everywhere(), texel, alpha)
    assert whole is not None and cut is not None
    # the floor the right half of the photo sees, about half of it (nearer, the view
    # narrows towards the camera: a little more than half of the texels are on the right)
    assert 0.35 < cut[1].sum() / whole[1].sum() < 0.65, cut[1].sum() / whole[1].sum()
    assert cut[1].shape[1] < 0.6 * whole[1].shape[1]  # bounded by what it sees


def test_the_floor_grain_comes_from_one_material_not_across_an_edge() -> None:
    """A floor of grey carpet beside a red runner, each 40 texels wide: every 64- or 48-texel
    window crosses their edge, and its grain, laid round the walker, was red and grey
    blotches (a palace staircase photo; a carpet by a door). The exemplar is the largest
    window whose colours spread little more than the plainest size's: one material."""
    from generators.panorama.outpaint_classical import _floor_exemplar

    rng = np.random.default_rng(2)
    plane = np.empty((64, 80, 3), np.float32)
    plane[:, :40] = (0.45, 0.45, 0.45)
    plane[:, 40:] = (0.55, 0.1, 0.1)
    plane += 0.02 * rng.standard_normal(plane.shape).astype(np.float32)
    ex = _floor_exemplar(plane, np.ones((64, 80), bool))
    assert ex is not None and ex.shape[0] <= 40, None if ex is None else ex.shape
    assert float(ex.std(axis=(0, 1)).mean()) < 0.03  # one material's grain (across: ~0.14)
