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
    world.add_layer(Layer("wall", _wall(120_000, seed=2)))
    cam = Camera.look_at((0.0, 0.0, 1.2), (0, 0, 0), 60, 160, 120)  # the wall fills the view
    fb = offscreen.Framebuffer(160, 120)
    fb.bind()
    r = SplatRenderer()
    r.set_world(world)
    try:
        deadline = time.time() + 60
        pending = []
        while r._lod is None and time.time() < deadline:  # pack, then merge, in the background
            r.draw(cam, (160, 120), max_splats=5000)
            pending.append(r.coarse_level_pending())
            time.sleep(0.05)
        assert r._lod is not None, "the coarse level never arrived"
        assert any(pending)  # what the viewport asks before it warps the still frame
        stats = r.draw(cam, (160, 120), max_splats=5000)
        assert not r.coarse_level_pending()
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
    g = geom[: 3 * len(cloud)].reshape(-1, 3, 4)
    np.testing.assert_allclose(g[:, 1], ref[:, :4], rtol=1e-4, atol=1e-7)
    assert np.all(g[:, 2, 2] == 5) and not geom[3 * len(cloud) :].any()


def test_packing_in_chunks_on_threads_fills_the_same_textures(monkeypatch) -> None:
    """Two layers (SH 3 and SH 1) packed in chunks that end inside a layer, on threads,
    give byte-identical textures to one pass over each layer."""
    import viewer.renderer as R

    clouds = [(random_cloud(5003, 3, seed=1), 0), (random_cloud(2001, 1, seed=2), 4)]
    monkeypatch.setattr(R, "PACK_CHUNK", 10**9)
    monkeypatch.setattr(R, "PACK_THREADS", 1)
    whole = R.pack_splats(clouds)
    monkeypatch.setattr(R, "PACK_CHUNK", 777)
    monkeypatch.setattr(R, "PACK_THREADS", 3)
    chunked = R.pack_splats(clouds)
    assert whole[2:] == chunked[2:] == (3, 12)
    for a, b in zip(whole[:2], chunked[:2], strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    g = chunked[0][: 3 * 7004].reshape(-1, 3, 4)
    assert (g[:5003, 2, 2] == 0).all() and (g[5003:, 2, 2] == 4).all()


def test_merge_with_parents_are_the_voxels_merged() -> None:
    from viewer.lod import merge_with_parents

    wall = _wall(8000, seed=3)
    lod, parent, size = merge_with_parents(wall, 400)
    assert parent is not None and parent.shape == (len(wall),) and size.shape == (len(lod),)
    assert (size > 0).all()
    assert parent.min() == 0 and parent.max() == len(lod) - 1
    # each merged splat's mean is the weighted mean of its children, which lie in one voxel
    w = wall.opacity_values() * np.exp(np.sort(wall.scales, 1)[:, 1:].sum(1))
    for j in (0, len(lod) // 2, len(lod) - 1):
        kids = parent == j
        np.testing.assert_allclose(
            lod.means[j], (wall.means[kids] * w[kids, None]).sum(0) / w[kids].sum(), atol=1e-5
        )
        assert np.ptp(wall.means[kids], axis=0).max() <= size[j] * 1.0001
    same, none, size0 = merge_with_parents(wall, 10_000)
    assert same is wall and none is None and not size0.any()


def test_lod_cut_expands_the_largest_voxels_within_budget() -> None:
    """Two levels (no middle one), both twins: the voxels largest on screen first, while
    the budget allows, none under 1.5 px."""
    from viewer.lod_cut import tree_cut, tree_cut_compiled
    from viewer.sorting import layer_depth

    px = np.array([10.0, 1.0, 30.0, 5.0, 20.0], np.float32)
    kids = np.array([4, 4, 4, 1, 4])
    means = np.zeros((5, 3), np.float32)
    means[:, 2] = 1.0  # 1 m ahead, fy 1: a voxel's edge is its size in pixels
    child_start = np.concatenate([[0], np.cumsum(kids)])
    top = [layer_depth(np.eye(4), np.eye(3), np.zeros(3), 0, 5)]

    def expanded(budget: int) -> list[int]:
        args = (means, px, child_start, None, None, top, [], None, 0.01, 1.0, budget)
        got = tree_cut_compiled(*args)
        ref = tree_cut(*args)
        assert got is not None and ref is not None
        for a, b in zip(got, ref):
            np.testing.assert_array_equal(a, b)
        keep, _, expand = ref
        assert sorted([*keep, *expand]) == [0, 1, 2, 3, 4]
        return sorted(expand.tolist())

    # 5 merged splats; budget 12 leaves 7 extra: the two largest voxels (3 extra each)
    assert expanded(12) == [2, 4]
    assert expanded(5) == []  # no room beyond the merged splats
    assert expanded(100) == [0, 2, 4]  # 1 px: too small to split; 1 child: nothing to split
    for budget in range(5, 20):  # the splats drawn never exceed the budget
        drawn = 5 + sum(kids[j] - 1 for j in expanded(budget))
        assert drawn <= budget


@pytest.mark.gl
def test_cut_frames_draw_fine_splats_where_the_coarse_level_is_large(x_display) -> None:  # noqa: ANN001
    import time

    from generators.reconstruct.evaluate import psnr
    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer import offscreen
    from viewer.renderer import SplatRenderer

    ctx = offscreen.offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    world = World()
    world.add_layer(Layer("wall", _wall(120_000, seed=5)))
    cam = Camera.look_at((0.2, 0.1, 0.4), (0.2, 0.1, 0), 60, 200, 150)  # voxels ~3 px
    fb = offscreen.Framebuffer(200, 150)
    fb.bind()
    r = SplatRenderer()
    r.set_world(world)

    def frame(k: int | None) -> np.ndarray:
        stats = r.draw(cam, (200, 150), max_splats=k)
        GL.glFinish()
        img = fb.read_float()
        return stats, (np.clip(img[..., :3], 0, 1) * 255).astype(np.uint8)

    try:
        deadline = time.time() + 60
        while r._lod is None and time.time() < deadline:
            r.draw(cam, (200, 150), max_splats=5000)
            time.sleep(0.05)
        assert r._lod is not None, "the coarse level never arrived"
        r.sync_sort = True
        _, full = frame(None)
        r.sync_sort = False
        r.lod_cut = False
        coarse_stats, coarse = frame(20_000)
        r.lod_cut = True
        cut_stats, cut = frame(20_000)
        assert coarse_stats.splats_drawn < cut_stats.splats_drawn <= 20_000
        # (the merged splats tile the wall without gaps: the coarse frame alone is closer)
        assert psnr(cut, full) > psnr(coarse, full) + 0.5
        small_stats, _ = frame(2000)  # fewer than the merged splats in view: the strongest of them
        assert 0 < small_stats.splats_drawn <= 2000
    finally:
        r.release()
        fb.release()


def test_merge_conserves_integrated_opacity(monkeypatch) -> None:  # noqa: ANN001
    """Small dense splats: the moment-matched splat of a voxel is narrower than the voxel, and
    clipping its opacity at 0.99 lost coverage (moving frames came out darker)."""
    import viewer.lod as lod_mod

    wall = _wall(40_000, seed=6)
    wall.scales[:, :2] += np.float32(np.log(0.5))  # small splats, 4 x overlap in all
    # the plain moment match (SCATTER 3 alone already covers this wall)
    monkeypatch.setattr(lod_mod, "SCATTER", 1.0)

    def integrated(c) -> float:  # Σ opacity × s1 × s2 (the two largest scales)
        return float((c.opacity_values() * np.exp(np.sort(c.scales, 1)[:, 1:].sum(1))).sum())

    fine = integrated(wall)
    kept = integrated(lod_mod.merge_cloud(wall, 400)) / fine  # widened at most MAX_WIDEN
    monkeypatch.setattr(lod_mod, "MAX_WIDEN", 10.0)
    exact = integrated(lod_mod.merge_cloud(wall, 400)) / fine
    monkeypatch.setattr(lod_mod, "CONSERVE", False)
    clipped = integrated(lod_mod.merge_cloud(wall, 400)) / fine
    assert 0.9 < exact < 1.1
    assert clipped + 0.05 < kept <= exact + 1e-6


def test_a_far_sky_dome_does_not_coarsen_the_near_scene() -> None:
    """A generated world holds a photo's splats a few metres away and a sky dome 400 m out
    in one layer. One voxel size for both gave voxels of metres: the photo fell into one
    merged splat (moving frames showed a blur without the rocket of the demo world).
    Crowded voxels are split, so the near scene stays finely divided."""
    from scene.gaussians import GaussianCloud
    from viewer.lod import merge_with_parents

    rng = np.random.default_rng(5)
    g = np.linspace(-1.0, 1.0, 100)
    px, py = np.meshgrid(g, g)
    near = np.stack([px.ravel(), py.ravel() + 1.6, np.full(px.size, -5.0)], 1)
    d = rng.normal(size=(6000, 3))
    d[:, 1] = np.abs(d[:, 1])
    dome = 400.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([near, dome])
    cloud = GaussianCloud.from_points(pts, rng.uniform(0, 1, (len(pts), 3)), 0.01)
    lod, parent, size = merge_with_parents(cloud, 2000)
    assert parent is not None
    near_parents = np.unique(parent[: len(near)])
    assert len(near_parents) >= 300, len(near_parents)  # the 2x2 m photo: many voxels
    assert np.median(size[near_parents]) < 0.2  # under 20 cm
    assert size[np.unique(parent[len(near) :])].min() > 1.0  # the dome's are coarse


def _coverage(c, pts: np.ndarray, sigma_max: float = 2.0) -> np.ndarray:
    """Alpha coverage 1 - Π(1 - α_i) at points (P, 2) of the z = 0 plane, seen straight on,
    each splat's footprint ending `sigma_max` sigmas out as in moving frames."""
    from scene.rotations import quats_to_matrices

    rot = quats_to_matrices(c.quats.astype(np.float64))
    var = np.exp(2 * c.scales.astype(np.float64))
    cov = np.einsum("nij,nj,nkj->nik", rot, var, rot)[:, :2, :2]
    inv = np.linalg.inv(cov)
    d = pts[:, None, :] - c.means[None, :, :2].astype(np.float64)  # (P, N, 2)
    r2 = np.einsum("pni,nij,pnj->pn", d, inv, d)
    alpha = np.where(r2 <= sigma_max**2, c.opacity_values()[None, :] * np.exp(-0.5 * r2), 0.0)
    return 1.0 - np.prod(1.0 - alpha, axis=1)


def test_merged_lattice_leaves_no_gaps_between_voxels() -> None:
    """A generated world's splats lie on a pixel lattice, each smaller than the voxels it is
    merged into. The merged splats must still tile the surface: scaling the moment-matched
    covariance by 1.2 left them at sigma 0.32 voxel edges, and moving frames through the office
    world showed a dark screen-door grid (coverage ~0.3 at the voxel corners)."""
    from scene.gaussians import GaussianCloud, logit

    step = 0.01
    g = np.arange(-1, 1, step) + step / 2
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    n = len(xy)
    means = np.zeros((n, 3), np.float32)
    means[:, :2] = xy
    scales = np.log(np.tile([0.6 * step, 0.6 * step, 0.05 * step], (n, 1))).astype(np.float32)
    quats = np.tile([1.0, 0, 0, 0], (n, 1)).astype(np.float32)
    sh0 = np.zeros((n, 3), np.float32)
    wall = GaussianCloud(means, scales, quats, logit(np.full(n, 0.95)).astype(np.float32), sh0)
    fine_cover = _coverage(wall, np.random.default_rng(0).uniform(-0.5, 0.5, (200, 2)))
    assert fine_cover.min() > 0.9  # the fine lattice covers the wall everywhere
    lod = merge_cloud(wall, 400)
    pts = np.random.default_rng(1).uniform(-0.7, 0.7, (3000, 2))  # away from the wall's rim
    cover = _coverage(lod, pts)
    assert np.percentile(cover, 1) > 0.85, np.percentile(cover, [0, 1, 5, 50])


def _cells_reference(means: np.ndarray, h: float, lo: np.ndarray, cap: int) -> np.ndarray:
    """The octree's voxels level by level (a voxel of more than `cap` splats split in
    eight, at most MAX_SPLITS times), one np.unique per level: each splat's (level, i, j, k)."""
    from viewer.lod import MAX_SPLITS

    out = np.zeros((len(means), 4), np.int64)
    todo = np.arange(len(means))
    for lv in range(MAX_SPLITS + 1):
        ijk = np.floor((means[todo] - lo) / (h / (1 << lv))).astype(np.int64)
        _, inv, cnt = np.unique(ijk, axis=0, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
        stop = (cnt[inv] <= cap) | (lv == MAX_SPLITS)
        out[todo[stop]] = np.c_[np.full(stop.sum(), lv), ijk[stop]]
        todo = todo[~stop]
        if not len(todo):
            break
    return out


def test_octree_voxels_match_a_level_by_level_reference() -> None:
    """`_cells` sorts once by Morton code and reads every level's voxels as runs of that
    order; the voxels (and their levels) are those of splitting level by level."""
    from viewer.lod import _cells

    rng = np.random.default_rng(3)
    # a dense cluster (split deep), a surface, sparse far points (a sky dome's)
    means = np.vstack(
        [
            rng.normal(0, 0.01, (3000, 3)),
            np.c_[rng.uniform(-2, 2, (4000, 2)), np.zeros(4000)],
            rng.normal(0, 1, (500, 3)) * 300,
        ]
    )
    lo = means.min(0)
    for h, cap in ((5.0, 40), (0.5, 10), (40.0, 200)):
        inv, m, level = _cells(means, h, lo, cap)
        ref = _cells_reference(means, h, lo, cap)
        _, ref_inv = np.unique(ref, axis=0, return_inverse=True)
        ref_inv = ref_inv.reshape(-1)
        # the same partition: each voxel of one is exactly one voxel of the other
        assert m == ref_inv.max() + 1 == len(np.unique(inv * m + ref_inv))
        assert np.array_equal(level[inv], ref[:, 0])
    inv, m, level = _cells(means, 5.0, lo)  # no cap: one level
    assert (level == 0).all() and m == len(np.unique(np.floor((means - lo) / 5.0), axis=0))
    assert _cells(np.zeros((0, 3)), 1.0, np.zeros(3), 8)[1] == 0
