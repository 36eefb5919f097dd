"""Objects through the viewer's renderer: the classical object seen from the front matches
the segmented photo (masked PSNR >= 20 dB) and stays sane from ±30°."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import skimage.data

from generators.objects.inflate import InflateOptions, relief_from_segmentation, relief_to_cloud
from generators.objects.segment_classical import segment_classical
from scene.camera import Camera

pytestmark = [pytest.mark.slow, pytest.mark.gl]

FAR = 200.0  # a far camera with a long lens is nearly orthographic: pixels map 1:1 to the relief


@pytest.fixture(scope="module")
def coffee_relief():
    seg = segment_classical(skimage.data.coffee())
    opts = InflateOptions(resolution=256)
    rel = relief_from_segmentation(seg, opts)
    return rel, relief_to_cloud(rel, opts)


def front_camera(rel, yaw_deg: float = 0.0) -> Camera:
    h, w = rel.mask.shape
    f = FAR / rel.pixel
    a = math.radians(yaw_deg)
    centre_y = (rel.bottom - h / 2) * rel.pixel  # object-frame height of the crop's centre
    eye = np.array([FAR * math.sin(a), centre_y, FAR * math.cos(a)])
    cam = Camera.look_at(eye, [0.0, centre_y, 0.0], 10.0, w, h)
    return Camera(w, h, f, f, rel.x0, h / 2, cam.R, cam.t)


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    err = ((a.astype(np.float64) - b.astype(np.float64)) ** 2)[mask].mean()
    return 10 * math.log10(255.0**2 / max(err, 1e-12))


def test_front_view_matches_the_photo(x_display, coffee_relief) -> None:
    from viewer.offscreen import render_image

    rel, cloud = coffee_relief
    img = render_image(cloud, front_camera(rel))
    target = (np.clip(rel.rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    inner = cv2.erode(rel.mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    score = psnr(img, target, inner)
    assert score >= 20.0, score
    # and outside the object nothing is drawn
    outside = cv2.dilate(rel.mask.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert img[outside].max() < 40


def test_side_silhouettes_stay_sane(x_display, coffee_relief) -> None:
    from viewer.offscreen import render_image

    rel, cloud = coffee_relief
    front = render_image(cloud, front_camera(rel)).max(axis=2) > 40
    ys, xs = np.nonzero(front)
    fw, fh, fa = np.ptp(xs), np.ptp(ys), front.sum()
    for yaw in (30.0, -30.0):
        sil = render_image(cloud, front_camera(rel, yaw)).max(axis=2) > 40
        ys, xs = np.nonzero(sil)
        assert 0.75 * fw <= np.ptp(xs) <= 1.15 * fw  # turned, not flat, not bloated
        assert abs(np.ptp(ys) - fh) <= 0.05 * fh  # same height
        assert 0.75 * fa <= sil.sum() <= 1.2 * fa
        assert not sil[:, :2].any() and not sil[:, -2:].any()  # nothing spills off to the sides
