"""Panorama maths agrees with py360convert (both directions) and with the viewer's camera."""

from __future__ import annotations

import math

import cv2
import numpy as np
import py360convert
import pytest

from generators.panorama.projection import (
    cube_face_cameras,
    dirs_to_camera_pixels,
    dirs_to_pano_pixels,
    equirect_to_perspective,
    lonlat_to_dirs,
    pano_dirs,
    perspective_camera,
    perspective_to_equirect,
    view_rotation,
)
from scene.camera import Camera, forward_from_yaw_pitch


def _smooth_pano(h: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.random((h, 2 * h, 3)).astype(np.float32)
    return cv2.GaussianBlur(img, (0, 0), 2.0) * 3 - 1  # wide value range, smooth


@pytest.mark.parametrize("u_deg,v_deg", [(0, 0), (30, 10), (-100, -40), (170, 60), (-179, -5)])
def test_equirect_to_perspective_matches_py360convert_e2p(u_deg: float, v_deg: float) -> None:
    pano = _smooth_pano()
    w, h, fov = 200, 150, 70.0
    # py360convert spans the FOV between the first and last pixel centres
    f = (w - 1) / 2 / math.tan(math.radians(fov) / 2)
    fov_v = math.degrees(2 * math.atan((h - 1) / 2 / f))
    ref = py360convert.e2p(pano, (fov, fov_v), u_deg, v_deg, (h, w))
    # py360convert's u is + to the right; our yaw is + to the left
    cam = Camera(w, h, f, f, w / 2, h / 2, view_rotation(-math.radians(u_deg), math.radians(v_deg)))
    mine = equirect_to_perspective(pano, cam)
    assert np.abs(mine - ref).mean() < 2e-3
    assert np.abs(mine - ref).max() < 0.05
    # a wrong convention (mirrored yaw) is far off, so the check has teeth
    if abs(u_deg) > 20:
        bad = Camera(
            w, h, f, f, w / 2, h / 2, view_rotation(math.radians(u_deg), math.radians(v_deg))
        )
        assert (
            np.abs(equirect_to_perspective(pano, bad) - ref).mean() > 20 * np.abs(mine - ref).mean()
        )


def test_cube_faces_to_equirect_matches_py360convert_c2e() -> None:
    fw, h, w = 64, 128, 256
    rng = np.random.default_rng(1)
    faces = {
        k: cv2.GaussianBlur(rng.random((fw, fw, 3)).astype(np.float32), (0, 0), 3) * 3 - 1
        for k in "FRBLUD"
    }
    ref = py360convert.c2e(faces, h, w, cube_format="dict")
    # py360convert's equirect grid has its first/last columns on ±180° exactly
    uu, vv = py360convert.utils.equirect_uvgrid(h, w)
    d = lonlat_to_dirs(uu, vv)
    out = np.zeros((h, w, 3), np.float32)
    cnt = np.zeros((h, w))
    for name, cam in cube_face_cameras(fw):
        # py360convert samples face pixel index fw/2·tan + fw/2 (our centre is +0.5)
        cam = Camera(fw, fw, fw / 2, fw / 2, (fw + 1) / 2, (fw + 1) / 2, cam.R, cam.t)
        u, v, ok = dirs_to_camera_pixels(d, cam)
        inside = ok & (u >= -0.5) & (u <= fw - 0.5) & (v >= -0.5) & (v <= fw - 0.5)
        samp = cv2.remap(
            faces[name],
            u.astype(np.float32),
            v.astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        out[inside] += samp[inside]
        cnt[inside] += 1
    assert (cnt >= 1).mean() > 0.99
    out /= np.maximum(cnt, 1)[..., None]
    err = np.abs(out - ref).mean(-1)[cnt >= 1]
    assert np.median(err) < 1e-3  # identical away from face seams
    assert err.mean() < 5e-3


def test_equirect_to_cube_faces_matches_py360convert_e2c() -> None:
    pano = _smooth_pano(128, seed=2)
    fw = 48
    ref = py360convert.e2c(pano, face_w=fw, cube_format="dict")
    for name, cam in cube_face_cameras(fw):
        f = (fw - 1) / 2  # py360convert: face pixel centres span tan ∈ [-1, 1]
        cam = Camera(fw, fw, f, f, fw / 2, fw / 2, cam.R, cam.t)
        mine = equirect_to_perspective(pano, cam)
        inner = (slice(2, -2), slice(2, -2))
        assert np.abs(mine[inner] - ref[name][inner]).mean() < 5e-3, name


def test_convention_longitude_zero_is_minus_z_and_start_camera_sees_it() -> None:
    d = lonlat_to_dirs(
        np.array([0.0, np.pi / 2, -np.pi / 2, np.pi, 0.0]),
        np.array([0.0, 0.0, 0.0, 0.0, np.pi / 2]),
    )
    np.testing.assert_allclose(
        d, [[0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 1, 0]], atol=1e-12
    )
    np.testing.assert_allclose(forward_from_yaw_pitch(0.0, 0.0), d[0], atol=1e-12)
    col, row = dirs_to_pano_pixels(forward_from_yaw_pitch(0.0, 0.0), 100)
    assert col == pytest.approx(99.5) and row == pytest.approx(49.5)  # centre of a 200x100 pano
    # the viewer's start camera at yaw 0 and our perspective camera agree
    a = Camera.from_yaw_pitch((0, 0, 0), 0.3, -0.2, 50.0, 64, 48)
    b = perspective_camera(64, 48, a.fov_x_deg, yaw=0.3, pitch=-0.2)
    np.testing.assert_allclose(a.pixel_rays(), b.pixel_rays(), atol=1e-9)


def test_pixel_direction_roundtrip() -> None:
    h = 64
    d = pano_dirs(h)
    col, row = dirs_to_pano_pixels(d, h)
    jj, ii = np.meshgrid(np.arange(2 * h), np.arange(h))
    np.testing.assert_allclose(col, jj, atol=1e-9)
    np.testing.assert_allclose(row, ii, atol=1e-9)


@pytest.mark.slow
def test_place_photo_then_view_it_back() -> None:
    from skimage import data

    photo = data.astronaut()[::2, ::2].astype(np.float32) / 255  # (256, 256, 3)
    cam = perspective_camera(256, 256, 60.0)
    pano, cov = perspective_to_equirect(photo, cam, 1024)
    assert cov.max() == pytest.approx(1.0) and 0.05 < (cov > 0.5).mean() < 0.15
    # the photo sits at longitude 0, on the horizon: centre column of the pano
    rows, cols = np.nonzero(cov > 0.5)
    assert abs(cols.mean() - 1023.5) < 2 and abs(rows.mean() - 511.5) < 2
    back = equirect_to_perspective(pano, cam)
    inner = (slice(8, -8), slice(8, -8))
    mse = np.mean((back[inner] - photo[inner]) ** 2)
    assert 10 * math.log10(1 / mse) > 28


@pytest.mark.parametrize("pitch_deg", [0.0, 40.0, 80.0, -85.0])
def test_placing_a_photo_band_by_band_matches_all_rows_at_once(pitch_deg: float) -> None:
    """`perspective_to_equirect` places an image a band of rows at a time, over the rows
    its view reaches (all rows at once held ten panorama-sized arrays: 16.5 GB for an
    8192-row panorama): the same result as every row at once, looking level, up, at the
    zenith and at the nadir (the view holds a pole: the rows reach it)."""
    import math

    from generators.panorama.projection import (
        BAND_ROWS,
        image_rows,
        perspective_camera,
        perspective_to_equirect,
    )

    rng = np.random.default_rng(0)
    img = rng.uniform(size=(90, 120, 3)).astype(np.float32)
    cam = perspective_camera(120, 90, 70.0, pitch=math.radians(pitch_deg))
    H = 2 * BAND_ROWS + 100  # three bands
    banded, w_banded = perspective_to_equirect(img, cam, H)
    whole, w_whole = perspective_to_equirect(img, cam, H, rows=(0, H))
    assert np.array_equal(banded, whole) and np.array_equal(w_banded, w_whole)
    r0, r1 = image_rows(cam, H)
    assert w_whole[:r0].max(initial=0) == 0 and w_whole[r1:].max(initial=0) == 0
    assert (r0 == 0) == (pitch_deg > 60) and (r1 == H) == (pitch_deg < -60)


def test_distance_from_an_empty_region_is_infinite_without_a_warning() -> None:
    """A 2000x32 strip covers no pixel of the outpainter's 128-row grid: OpenCV's distance
    there is FLT_MAX, and the degrees made of it overflowed with a raw numpy warning on the
    terminal (a trial). Now inf, quietly; a region's own pixels stay 0."""
    import warnings

    from generators.panorama.projection import distance_from

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = distance_from(np.zeros((8, 16), bool)) * (180.0 / 8)
    assert np.isinf(d).all()
    region = np.zeros((8, 16), bool)
    region[4, 0] = True
    d = distance_from(region)
    assert d[4, 0] == 0 and d[4, 15] == pytest.approx(1.0) and np.isfinite(d).all()
