"""Splats for pixels stereo gave no depth (`ray_fill`): a near panel whose depth every view
lost is placed back on its rays at about its depth and renders in the photo it came from,
without floaters in front of what the other photos see; a tree's shaded crown is not sky."""

from __future__ import annotations

import numpy as np
import pytest

from generators.reconstruct.dense import DepthView
from generators.reconstruct.fuse import fill_gaps, fuse_views, fused_to_gaussians
from generators.reconstruct.ray_fill import fill_depthless, nearest_depth
from generators.reconstruct.synthetic import Quad, orbit_cameras, render, room_scene

W, H = 96, 72


def _psnr(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2)[m].mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


@pytest.fixture(scope="module")
def panel_room() -> tuple[dict[str, DepthView], dict[str, np.ndarray], np.ndarray]:
    """Five views of the room with a textured green panel half a metre in front of the
    first camera, which the first views see; stereo lost the panel's depth in all of them.
    Returns (views with that depth lost, true depth per view, the first view's panel
    pixels)."""
    quads = room_scene()
    cams = orbit_cameras(5, W, H, seed=3, spread_deg=30)
    c0 = cams[0]
    p = ((np.array([-0.125, -0.025, 0.5]) - c0.t) @ c0.R).ravel()
    tex = np.zeros((8, 8, 3), np.float32)
    tex[...] = (0.2, 0.6, 0.15)
    tex[::2, ::2] = (0.1, 0.4, 0.1)
    panel = Quad(2, p[2], 0, 1, (p[0] - 0.08, p[1] - 0.08), (p[0] + 0.08, p[1] + 0.08), tex, 0.05)
    views, truth = {}, {}
    mask0 = None
    for c in cams:
        img, dep = render([*quads, panel], c, 2)
        _, room_dep = render(quads, c, 2)
        on_panel = np.abs(dep - room_dep) > 1e-4
        mask0 = on_panel if mask0 is None else mask0
        lost = np.where(on_panel, 0.0, dep).astype(np.float32)
        views[c.name] = DepthView(c.name, c, img, lost, np.ones_like(dep))
        truth[c.name] = dep
    assert mask0 is not None and mask0.sum() > 300
    return views, truth, mask0


def test_nearest_depth_takes_the_closest_known_pixel() -> None:
    d = np.zeros((5, 7), np.float32)
    d[0, 0], d[4, 6], d[2, 3] = 1.0, 2.0, 3.0
    n = nearest_depth(d)
    assert n[0, 1] == 1.0 and n[4, 5] == 2.0 and n[2, 4] == 3.0
    assert (n[d > 0] == d[d > 0]).all() and (n > 0).all()
    assert not nearest_depth(np.zeros((3, 3), np.float32)).any()


def test_a_surface_stereo_lost_comes_back_at_its_depth(panel_room) -> None:  # noqa: ANN001
    from generators.rasterize import render_cloud

    views, truth, mask0 = panel_room
    names = list(views)
    first = views[names[0]]
    nb = {n: [m for m in views if m != n] for n in views}
    fused = fill_gaps(fuse_views(views, nb, max_points=10**6), views, nb)
    filled, added = fill_depthless(fused, views)
    assert added == len(filled) - len(fused) > 0.5 * mask0.sum()
    assert np.array_equal(filled.points[: len(fused)], fused.points)
    # the panel renders in the photo it came from (before: the wall behind it)
    before = render_cloud(fused_to_gaussians(fused), first.camera)
    after = render_cloud(fused_to_gaussians(filled), first.camera)
    assert _psnr(after, first.image, mask0) > _psnr(before, first.image, mask0) + 10
    # at about the panel's depth: the second view also saw the panel there
    new = np.arange(len(fused), len(filled))
    mine = new[filled.view[new] == 0]
    uv, z = first.camera.project(filled.points[mine])
    x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    true_z = truth[names[0]][y, x]
    assert np.median(np.abs(z - true_z) / true_z) < 0.2
    # nothing new hides what another view saw: no new point in front of a view's true
    # surface (the panel included, with the candidates' 30 % steps as slack); on its own
    # photo's rays a point hides nothing else
    for i, n in enumerate(names):
        v = views[n]
        uv, z = v.camera.project(filled.points[new[filled.view[new] != i]])
        x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        ok = (z > 0) & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        gt = truth[n][y[ok], x[ok]]
        assert not ((gt > 0) & (z[ok] < 0.7 * gt)).any(), n


def test_a_thing_only_one_photo_saw_goes_where_no_other_looked(panel_room) -> None:  # noqa: ANN001
    views, truth, mask0 = panel_room
    names = list(views)
    # the same panel, but now the other photos show the room behind it (as if it stood
    # where only the first camera looked): it may not land where they see the wall
    alone = {names[0]: views[names[0]]}
    quads = room_scene()
    for n in names[1:]:
        c = views[n].camera
        img, dep = render(quads, c, 2)
        alone[n] = DepthView(n, c, img, dep, np.ones_like(dep))
    nb = {n: [m for m in alone if m != n] for n in alone}
    fused = fill_gaps(fuse_views(alone, nb, max_points=10**6), alone, nb)
    filled, _ = fill_depthless(fused, alone)
    new = np.arange(len(fused), len(filled))
    mine = new[filled.view[new] == 0]
    assert len(mine) > 0.3 * mask0.sum()
    for n in names[1:]:
        v = alone[n]
        uv, z = v.camera.project(filled.points[mine])
        x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        ok = (z > 0) & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        # seen by that photo only where it lies behind the surface the photo shows
        assert (z[ok] >= 0.95 * v.depth[y[ok], x[ok]]).all(), n


def test_a_shaded_tree_crown_is_not_sky() -> None:
    from generators.reconstruct.sky import foliage_green, sky_mask

    img = np.zeros((40, 60, 3), np.uint8)
    img[:] = (120, 165, 230)  # blue sky
    img[:, :20] = (30, 48, 26)  # a smooth, dark green crown reaching the top
    img[:, 40:] = (225, 228, 232)  # a white, overexposed sky
    cov = np.zeros((40, 60), bool)
    cov[30:] = True
    m = sky_mask(img, cov)
    assert not m[:30, :20].any()
    assert m[:27, 24:36].all() and m[:27, 44:].all()  # (edges: 7×7 contrast)
    assert foliage_green(np.array([[[200, 240, 180]]], np.uint8))[0, 0]  # sunlit leaves
    assert not foliage_green(np.array([[[190, 225, 222]]], np.uint8))[0, 0]  # pale haze


def test_each_view_is_tested_against_the_nearest_cameras(panel_room) -> None:  # noqa: ANN001
    from generators.reconstruct.ray_fill import nearest_views

    views, _, _ = panel_room
    names = list(views)
    near = nearest_views(views, names[0], 2)
    c = views[names[0]].camera.position
    d = {n: np.linalg.norm(views[n].camera.position - c) for n in names[1:]}
    assert [v.name for v in near] == sorted(d, key=d.get)[:2]
    assert len(nearest_views(views, names[0], 0)) == len(names) - 1
