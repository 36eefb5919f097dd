"""Mip-Splatting's 3D smoothing filter after the optimisation (generators/reconstruct/
antialias.py): no splat finer than the pixels it was trained at, so a scene trained small
renders without gaps at the photos' full size."""

from __future__ import annotations

import numpy as np
import pytest

from generators.reconstruct.antialias import SMOOTHING, max_sampling_rate, smooth_3d
from scene.camera import Camera
from scene.gaussians import GaussianCloud


def _camera(width: int = 200, f: float = 100.0) -> Camera:
    """OpenCV camera at the origin looking down +Z, square frame."""
    return Camera(width, width, f, f, width / 2, width / 2)


def test_splats_finer_than_a_training_pixel_grow_to_it_and_big_ones_do_not() -> None:
    cam = _camera()
    pts = np.array([[0.0, 0.0, 2.0], [0.1, 0.0, 4.0], [0.0, 0.0, -3.0]])  # last: behind
    cloud = GaussianCloud.from_points(pts, np.full((3, 3), 0.5), [1e-4, 0.5, 1e-4], 0.7)
    nu = max_sampling_rate(cloud.means, [cam], long_side=200)
    assert nu[0] == pytest.approx(100.0 / 2.0) and nu[1] == pytest.approx(100.0 / 4.0)
    assert nu[2] == 0.0
    out, info = smooth_3d(cloud, [cam], long_side=200)
    sig = np.exp(out.scales)
    assert sig[0] == pytest.approx(np.sqrt(1e-8 + SMOOTHING / 50.0**2), rel=1e-4)
    assert np.allclose(sig[1], 0.5, rtol=0.01)  # a big splat keeps its size
    # a splat no view sees gets the largest filter of the seen ones (the far splat's)
    assert sig[2] == pytest.approx(np.sqrt(1e-8 + SMOOTHING / 25.0**2), rel=1e-4)
    assert np.array_equal(out.opacities, cloud.opacities)
    assert np.array_equal(out.means, cloud.means)
    assert info == {"s": SMOOTHING, "long_side": 200, "enlarged": 2, "unseen": 1}
    # trained at half the size: the filter is twice as wide
    half, _ = smooth_3d(cloud, [cam], long_side=100)
    assert np.exp(half.scales[0, 0]) == pytest.approx(2 * sig[0, 0], rel=1e-3)
    with pytest.raises(ValueError):
        smooth_3d(cloud, [], long_side=200)


def test_a_surface_trained_small_shows_no_gaps_at_four_times_the_size() -> None:
    """A white wall of splats one training pixel apart, each shrunk to a quarter of a
    pixel (what an optimisation leaves when nothing penalises it), rendered at 4x the
    training size: without the filter the wall is a grid of specks on black; with it, an
    even white surface. At the training size both look the same."""
    from generators.reconstruct.optimize import render_cloud_cpu

    train = _camera(width=64, f=64.0)
    z = 2.0
    step = z / train.fx  # one training pixel at the wall's depth
    g = (np.arange(-40, 41) * step).astype(np.float64)
    xx, yy = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, z)], 1)
    scales = np.tile([0.25 * step, 0.25 * step, 0.01 * step], (len(pts), 1))
    wall = GaussianCloud.from_points(pts, np.ones((len(pts), 3)), scales, 0.95)
    smoothed, _ = smooth_3d(wall, [train], long_side=64)
    big = _camera(width=256, f=256.0)
    centre = slice(64, 192)
    raw = render_cloud_cpu(wall, big)[centre, centre].mean(-1)
    fixed = render_cloud_cpu(smoothed, big)[centre, centre].mean(-1)
    assert raw.min() < 0.3  # gaps between specks
    assert fixed.min() > 0.8 and fixed.std() < 0.05, (fixed.min(), fixed.std())
    small_raw = render_cloud_cpu(wall, train)[16:48, 16:48].mean(-1)
    small_fixed = render_cloud_cpu(smoothed, train)[16:48, 16:48].mean(-1)
    assert abs(float(small_fixed.mean()) - float(small_raw.mean())) < 0.1
