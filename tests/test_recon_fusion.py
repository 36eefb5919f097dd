"""Depth-map fusion and the sky on a synthetic room ray-cast from known cameras: floaters
and fattened edges are rejected, consistent surfaces kept with their colours, the fused
splats reproduce the input views, and smooth depthless pixels above the scene get far
splats."""

from __future__ import annotations

import numpy as np
import pytest

from generators.reconstruct.dense import DepthView
from generators.reconstruct.fuse import depth_edges, fuse_views, fused_to_gaussians
from generators.reconstruct.synthetic import orbit_cameras, render, room_scene

W, H = 96, 72


@pytest.fixture(scope="module")
def room() -> dict[str, DepthView]:
    quads = room_scene()
    cams = orbit_cameras(5, W, H, seed=3, spread_deg=30)
    out = {}
    for c in cams:
        img, dep = render(quads, c, 2)
        out[c.name] = DepthView(c.name, c, img, dep, np.ones_like(dep))
    return out


def _all_neighbours(views: dict[str, DepthView]) -> dict[str, list[str]]:
    return {n: [m for m in views if m != n] for n in views}


def _in_front(points: np.ndarray, views: dict[str, DepthView], tol: float = 0.03) -> np.ndarray:
    """(N,) bool: points lying more than `tol` (relative) in front of the nearest true
    surface around their pixel (3×3) in some view: floaters, not silhouette points."""
    import cv2

    bad = np.zeros(len(points), bool)
    for v in views.values():
        uv, z = v.camera.project(points)
        x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        ok = (z > 0) & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        near = cv2.erode(
            np.where(v.depth > 0, v.depth, 1e9).astype(np.float32), np.ones((3, 3), np.uint8)
        )
        near[near > 1e8] = 0
        gt = np.zeros(len(points))
        gt[ok] = near[y[ok], x[ok]]
        bad |= ok & (gt > 0) & (z < (1 - tol) * gt)
    return bad


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def test_floaters_in_one_depth_map_are_removed(room: dict[str, DepthView]) -> None:
    views = dict(room)
    first = next(iter(views))
    v = views[first]
    noisy = v.depth.copy()
    noisy[20:40, 30:60] *= 0.7  # a 20×30 px blob of floaters 30 % in front
    views[first] = DepthView(first, v.camera, v.image, noisy, v.score)
    fused = fuse_views(views, _all_neighbours(views), max_points=10**6)
    assert _in_front(fused.points, room).sum() == 0
    # the blob's pixels are not kept in the view that had them wrong ...
    assert not fused.kept[first][22:38, 32:58].any()
    # ... but the other views still explain that part of the true surface
    from generators.reconstruct.fuse import coverage

    assert coverage(fused.points, room[first])[22:38, 32:58].mean() > 0.5


def test_consistent_surfaces_are_kept_with_their_colours(room: dict[str, DepthView]) -> None:
    fused = fuse_views(room, _all_neighbours(room), max_points=10**6)
    for n, v in room.items():
        assert fused.covered[n][v.depth > 0].mean() > 0.85, n
    # one splat per surface point: far fewer splats than pixels in all views
    assert len(fused) < 0.6 * sum(int((v.depth > 0).sum()) for v in room.values())
    # colour of each splat = the median of the consistent views' pixels: close to its own pixel
    first = next(iter(room))
    mine = fused.view == 0
    v = room[first]
    uv, _ = v.camera.project(fused.points[mine])
    own = v.image[np.floor(uv[:, 1]).astype(int), np.floor(uv[:, 0]).astype(int)] / 255.0
    assert np.median(np.abs(own - fused.colors[mine])) < 0.03
    # flat discs sized to their pixel footprint
    d = np.linalg.norm(fused.points[mine] - v.camera.position, axis=1)
    foot = d / v.camera.fx
    assert np.all(fused.scales[mine, 2] < 0.2 * fused.scales[mine, 0])
    assert 0.3 < np.median(fused.scales[mine, 0] / foot) < 1.0


def test_fattened_depth_edges_are_not_kept(room: dict[str, DepthView]) -> None:
    import cv2

    views = {}
    for n, v in room.items():  # stereo-like fattening: the nearer depth bleeds 1 px outward
        d = np.where(v.depth > 0, v.depth, 1e9).astype(np.float32)
        fat = cv2.erode(d, np.ones((3, 3), np.uint8))
        fat[fat > 1e8] = 0
        views[n] = DepthView(n, v.camera, v.image, fat, v.score)
    fused = fuse_views(views, _all_neighbours(views), max_points=10**6)
    assert _in_front(fused.points, room, tol=0.03).mean() < 0.002
    edge = depth_edges(views[next(iter(views))].depth, 0.05, 1)
    assert edge.any() and not (fused.kept[next(iter(views))] & edge).any()


@pytest.mark.slow
def test_fused_cloud_reproduces_the_input_views(room: dict[str, DepthView]) -> None:
    pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    from generators.rasterize import render_cloud
    from generators.reconstruct.fuse import _splat_geometry

    fused = fuse_views(room, _all_neighbours(room), max_points=10**6)
    cloud = fused_to_gaussians(fused)
    for n in list(room)[::2]:
        v = room[n]
        # the bar: splats made from this view's own (exact) depth map alone
        kp = np.flatnonzero(v.depth > 0)
        pts, nrm, sc, qt = _splat_geometry(v, kp, 1, 0.6, 0.1, 3.0)
        single = fused_to_gaussians(
            type(fused)(
                pts,
                v.image.reshape(-1, 3)[kp] / 255.0,
                nrm,
                sc,
                qt,
                np.zeros(len(kp), np.int32),
                [n],
            )
        )
        mask = v.depth > 0
        p_single = _psnr(render_cloud(single, v.camera)[mask], v.image[mask])
        p = _psnr(render_cloud(cloud, v.camera)[mask], v.image[mask])
        assert p > p_single - 2.5 and p > 19.0, (n, p, p_single)


def test_each_surface_point_comes_from_the_view_that_samples_it_finest(
    room: dict[str, DepthView],
) -> None:
    from scene.camera import Camera

    # a view from halfway along the first view's line of sight, visited last: its pixels
    # are half the size on the surface it shares with the others
    first = room[next(iter(room))].camera
    target = np.array([-0.3, 0.7, -1.0])
    eye = first.position + 0.5 * (target - first.position)
    close = Camera.look_at(eye, target, 55.0, W, H)
    close.name = "close.png"
    from generators.reconstruct.synthetic import render, room_scene

    img, dep = render(room_scene(), close, 2)
    views = dict(room)
    views["close.png"] = DepthView("close.png", close, img, dep, np.ones_like(dep))
    k = list(views).index("close.png")
    finest = fuse_views(views, _all_neighbours(views), max_points=10**6)
    first_wins = fuse_views(views, _all_neighbours(views), max_points=10**6, select="first")

    def on_close_surface(points: np.ndarray) -> np.ndarray:
        """(N,) bool: the splats lying on the surface the close view sees."""
        uv, z = close.project(points)
        x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        ok = (z > 0) & (x >= 0) & (x < W) & (y >= 0) & (y < H)
        d = np.zeros(len(points))
        d[ok] = dep[y[ok], x[ok]]
        return ok & (d > 0) & (np.abs(z - d) < 0.03 * d)

    mine, theirs = on_close_surface(finest.points), on_close_surface(first_wins.points)
    # there, the close view's splats are the ones kept (the first views' otherwise) ...
    assert (finest.view[mine] == k).mean() > 0.7
    assert (finest.view[mine] == k).mean() > 0.85
    assert (first_wins.view[theirs] == k).mean() < 0.65
    # ... so the splats there are smaller, with fewer splats overall and the close view
    # still covered
    assert finest.scales[mine, 0].mean() < 0.85 * first_wins.scales[theirs, 0].mean()
    assert len(finest) < len(first_wins)
    assert finest.covered["close.png"][dep > 0].mean() > 0.8


def test_budget_subsamples_on_a_pixel_grid(room: dict[str, DepthView]) -> None:
    full = fuse_views(room, _all_neighbours(room), max_points=10**6)
    small = fuse_views(room, _all_neighbours(room), max_points=len(full) // 3)
    assert len(small) <= len(full) // 3 and small.stride >= 2
    # splats grow with the stride so the surface stays covered
    assert np.median(small.scales[:, 0]) > 1.5 * np.median(full.scales[:, 0])


@pytest.mark.slow
def test_sky_pixels_get_far_splats(room: dict[str, DepthView]) -> None:
    pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    from generators.rasterize import render_cloud
    from generators.reconstruct.fuse import backproject
    from generators.reconstruct.sky import add_sky, far_field_mask

    views = {}
    for n, v in room.items():  # everything above y = 1.7 is a smooth blue sky without depth
        high = (backproject(v.depth, v.camera)[..., 1] > 1.7) | (v.depth <= 0)
        img = v.image.copy()
        img[high] = (90, 140, 230)
        views[n] = DepthView(
            n, v.camera, img, np.where(high, 0, v.depth).astype(np.float32), v.score
        )
    first = views[next(iter(views))]
    assert first.depth[:6].max() == 0 and (first.depth[40:] > 0).all()
    fused = fuse_views(views, _all_neighbours(views), max_points=10**6)
    cloud = add_sky(fused_to_gaussians(fused), views, fused.covered)
    far = far_field_mask(cloud)
    assert far.sum() > 0 and not far[: len(fused)].any()
    scene_depth = float(np.median(np.concatenate([v.depth[v.depth > 0] for v in views.values()])))
    centre = np.mean([v.camera.position for v in views.values()], 0)
    assert np.linalg.norm(cloud.means[far] - centre, axis=1).min() > 10 * scene_depth
    img = render_cloud(cloud, first.camera)
    sky = img[0:5, 2:-2].reshape(-1, 3).astype(float)
    assert np.abs(sky - [90, 140, 230]).max() < 12  # the sky is blue, not black
    # smooth holes *inside* the scene (below its top) are not sky
    from generators.reconstruct.sky import sky_mask

    cov = np.zeros((H, W), bool)
    cov[15:] = True
    cov[40:50, 40:50] = False
    m = sky_mask(np.full((H, W, 3), 128, np.uint8), cov)
    assert m[:15].all() and not m[40:50, 40:50].any()


def test_far_splats_take_the_median_sky_of_the_views_that_see_them(
    room: dict[str, DepthView],
) -> None:
    from generators.reconstruct.fuse import backproject
    from generators.reconstruct.sky import sky_splats

    # the same sky photographed at three exposures: the first view's is the darkest
    skies = [(60, 100, 170), (90, 140, 230), (100, 150, 240), (95, 145, 235), (92, 142, 232)]
    views = {}
    for (n, v), blue in zip(room.items(), skies):
        high = (backproject(v.depth, v.camera)[..., 1] > 1.7) | (v.depth <= 0)
        img = v.image.copy()
        img[high] = blue
        views[n] = DepthView(
            n, v.camera, img, np.where(high, 0, v.depth).astype(np.float32), v.score
        )
    fused = fuse_views(views, _all_neighbours(views), max_points=10**6)
    sky = sky_splats(views, fused.covered)
    seen_by = np.zeros(len(sky.points), int)
    for v in views.values():
        uv, z = v.camera.project(sky.points)
        x, y = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
        ok = (z > 0) & (x >= 2) & (x < W - 2) & (y >= 2) & (y < H - 2)
        ok[ok] = v.depth[y[ok], x[ok]] <= 0
        seen_by += ok
    many = seen_by >= 3
    assert many.sum() > 20
    # where three or more views saw the sky, the first view's darker exposure is outvoted
    # (the one view placing each splat used to colour it, in steps from view to view)
    assert np.abs(sky.colors[many] * 255 - [95, 145, 235]).max(1).mean() < 8


def test_gap_fill_restores_unverifiable_surfaces_without_floaters(
    room: dict[str, DepthView],
) -> None:
    from generators.reconstruct.fuse import coverage, fill_gaps

    names = list(room)
    views = {}
    for i, n in enumerate(names):
        v = room[n]
        dep = v.depth.copy()
        if i >= 2:  # only the first two views found depth: much of the first is unverifiable
            dep[:] = 0
        if i == 0:
            dep[20:40, 30:60] *= 0.7  # and a blob of floaters 30 % in front
        views[n] = DepthView(n, v.camera, v.image, dep.astype(np.float32), v.score)
    nb = _all_neighbours(views)
    fused = fuse_views(views, nb, max_points=10**6)
    filled = fill_gaps(fused, views, nb)
    first = room[names[0]]
    before = coverage(fused.points, first)[first.depth > 0].mean()
    after = coverage(filled.points, first)[first.depth > 0].mean()
    assert after > before + 0.1
    assert filled.covered[names[0]].sum() > fused.covered[names[0]].sum()
    # the fill adds no floaters: the blob lies in front of the second view's surface, or
    # on colours the other photos do not show there
    assert _in_front(filled.points, room).sum() == 0
    # what fusion verified is unchanged, the fill comes after it
    assert np.array_equal(filled.points[: len(fused)], fused.points)
    # the splat budget counts the fill
    assert len(fill_gaps(fused, views, nb, max_points=len(fused) + 10)) == len(fused) + 10


def test_progress_names_the_photos_not_their_working_copies(room: dict[str, DepthView]) -> None:
    """`reconstruct` said "fusing great_wall_000001.png" for .jpg photos: the views are
    named after the working copies; `labels` gives the photos' own names."""
    said: list[str] = []
    names = list(room)
    labels = {n: n.replace(".png", ".JPG") if n.endswith(".png") else n + ".JPG" for n in names}
    fuse_views(
        room,
        _all_neighbours(room),
        max_points=10**6,
        report=lambda f, m: said.append(m),
        labels=labels,
    )
    fusing = [m for m in said if m.startswith("fusing ")]
    assert fusing and all(m.removeprefix("fusing ") in labels.values() for m in fusing), fusing
