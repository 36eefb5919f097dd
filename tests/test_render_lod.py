"""The merged coarse level for moving frames (viewer/lod.py) and the renderer drawing it."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import random_cloud
from viewer.lod import merge_cloud


def _wall(n: int, seed: int = 0):
    """n flat splats on the z = 0 plane (2 x 2 m), overlapping like a trained surface."""
    from scene.gaussians import GaussianCloud, logit

    rng = np.random.default_rng(seed)
    means = np.zeros((n, 3), np.float32)
    means[:, :2] = rng.uniform(-1, 1, (n, 2))
    s = 2.0 / np.sqrt(n)
    scales = np.log(np.tile([s, s, 0.05 * s], (n, 1))).astype(np.float32)
    quats = np.tile([1.0, 0, 0, 0], (n, 1)).astype(np.float32)
    sh0 = rng.normal(0, 0.3, (n, 3)).astype(np.float32)
    return GaussianCloud(means, scales, quats, logit(np.full(n, 0.8)).astype(np.float32), sh0)


def test_merge_keeps_surface_colour_and_coverage() -> None:
    wall = _wall(20_000)
    lod = merge_cloud(wall, 500)
    assert 350 <= len(lod) <= 700
    assert lod.sh_degree == wall.sh_degree
    w = wall.opacity_values()
    np.testing.assert_allclose(lod.sh0.mean(0), (wall.sh0 * w[:, None]).sum(0) / w.sum(), atol=0.03)
    assert np.abs(lod.means[:, 2]).max() < 1e-4  # still on the plane...
    thin = np.exp(lod.scales).min(1)
    assert np.median(thin) < 0.2 * np.median(np.exp(lod.scales).max(1))  # ...and flat
    assert np.median(lod.opacity_values()) > 0.9  # a dense surface stays opaque
    small = random_cloud(300, 2, seed=1)
    assert merge_cloud(small, 1000) is small  # nothing to merge


@pytest.mark.gl
def test_moving_frames_draw_the_coarse_level(x_display) -> None:  # noqa: ANN001
    import time

    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer import offscreen
    from viewer.renderer import SplatRenderer

    ctx = offscreen.offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    world = World()
    world.layers.append(Layer("wall", _wall(120_000, seed=2)))
    cam = Camera.look_at((0.0, 0.0, 1.2), (0, 0, 0), 60, 160, 120)  # the wall fills the view
    fb = offscreen.Framebuffer(160, 120)
    fb.bind()
    r = SplatRenderer()
    r.set_world(world)
    try:
        deadline = time.time() + 60
        while r._lod is None and time.time() < deadline:  # pack, then merge, in the background
            r.draw(cam, (160, 120), max_splats=5000)
            time.sleep(0.05)
        assert r._lod is not None, "the coarse level never arrived"
        stats = r.draw(cam, (160, 120), max_splats=5000)
        GL.glFinish()
        moving = fb.read_float()
        assert 0 < stats.splats_drawn <= 5000
        r.sync_sort = True
        r.draw(cam, (160, 120))
        GL.glFinish()
        full = fb.read_float()
        assert full.mean() > 0.1
        # the coarse picture is the same wall: same mean colour, no see-through holes
        np.testing.assert_allclose(moving.mean((0, 1)), full.mean((0, 1)), atol=0.05)
        assert (moving.sum(2) > 0.05).mean() > 0.95
    finally:
        r.release()
        fb.release()


def test_covariance_rows_match_the_cloud() -> None:
    from viewer.renderer import TEX_W, covariance_rows, pack_splats

    cloud = random_cloud(2000, 1, seed=4)
    cloud.quats *= 3.0  # unnormalised input is normalised, as GaussianCloud does
    cov = cloud.covariances()
    rows = covariance_rows(cloud.quats, cloud.scales)
    ref = cov[:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]]
    np.testing.assert_allclose(rows, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())
    geom, color, degree, texels = pack_splats([(cloud, 5)])
    assert len(geom) % TEX_W == 0 and len(color) % TEX_W == 0 and degree == 1 and texels == 3
    g = geom[:3 * len(cloud)].reshape(-1, 3, 4)
    np.testing.assert_allclose(g[:, 1], ref[:, :4], rtol=1e-4, atol=1e-7)
    assert np.all(g[:, 2, 2] == 5) and not geom[3 * len(cloud):].any()
