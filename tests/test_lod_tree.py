"""The merged levels of detail as a three-level tree (viewer/lod.py merge_tree,
renderer.pack_lod) and a moving frame's cut through it (viewer/lod_cut.py)."""

from __future__ import annotations

import numpy as np
import pytest

from scene.camera import Camera
from scene.gaussians import GaussianCloud, logit
from scene.world import Layer
from viewer.lod import merge_tree, merge_with_parents


def _textured_wall(n: int, length: float = 12.0, seed: int = 0) -> GaussianCloud:
    """n flat splats on the wall x = 0 (y up 0..3 m, z 0..length), a 0.5 m checker with
    per-splat colour noise, spaced so neighbours overlap (as bench/render.py's room)."""
    rng = np.random.default_rng(seed)
    y, z = rng.uniform(0, 3, n), rng.uniform(0, length, n)
    means = np.stack([np.zeros(n), y, z], 1).astype(np.float32)
    spacing = np.sqrt(3 * length / n)
    scales = np.empty((n, 3), np.float32)
    scales[:, 1:] = spacing * rng.uniform(0.5, 1.0, (n, 2))
    scales[:, 0] = 0.1 * spacing
    check = (np.floor(y * 2) + np.floor(z * 2)) % 2
    rgb = 0.35 + 0.3 * check[:, None] + 0.1 * rng.normal(size=(n, 3))
    return GaussianCloud(
        means,
        np.log(scales),
        np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)).astype(np.float32),
        logit(rng.uniform(0.6, 0.99, n)).astype(np.float32),
        ((np.clip(rgb, 0, 1) - 0.5) / 0.28209479).astype(np.float32),
    )


def test_merge_tree_nests_three_levels() -> None:
    wall = _textured_wall(40_000)
    tree = merge_tree(wall, 500, ratio=4.0)
    assert tree.mid is not None and tree.mid_parent is not None and tree.parent is not None
    assert 350 <= len(tree.coarse) <= 700
    # the top level is the two-level merge's, made from the middle level's sums
    two, parent, size = merge_with_parents(wall, 500)
    np.testing.assert_allclose(tree.coarse.means, two.means, atol=1e-5)
    np.testing.assert_allclose(tree.coarse.scales, two.scales, atol=1e-4)
    np.testing.assert_allclose(tree.coarse.sh0, two.sh0, atol=1e-5)
    np.testing.assert_array_equal(tree.coarse_size, size)
    assert parent is not None
    np.testing.assert_array_equal(tree.mid_parent[tree.parent], parent)  # nested voxels
    assert 1500 <= len(tree.mid) <= 2800  # about 4x the top level
    assert len(tree.coarse_size) == len(tree.coarse) and len(tree.mid_size) == len(tree.mid)
    # each top splat's middle children are one run, every top splat has some
    assert np.all(np.diff(tree.mid_parent) >= 0)
    assert set(np.unique(tree.mid_parent)) == set(range(len(tree.coarse)))
    assert tree.parent.min() == 0 and tree.parent.max() == len(tree.mid) - 1
    # a middle splat's voxel is smaller than its parent's, and sits inside its reach
    assert np.median(tree.mid_size) < 0.75 * np.median(tree.coarse_size)
    gap = np.linalg.norm(tree.mid.means - tree.coarse.means[tree.mid_parent], axis=1)
    assert np.all(gap <= 1.8 * tree.coarse_size[tree.mid_parent])
    # the fine splats' colour carried through both levels (opacity x area weighted)
    w = wall.opacity_values() * np.exp(wall.scales[:, 1] + wall.scales[:, 2])
    fine_mean = (wall.sh0 * w[:, None]).sum(0) / w.sum()
    wc = tree.coarse.opacity_values() * np.prod(np.sort(np.exp(tree.coarse.scales), 1)[:, 1:], 1)
    top_mean = (tree.coarse.sh0 * wc[:, None]).sum(0) / wc.sum()
    np.testing.assert_allclose(top_mean, fine_mean, atol=0.03)


def test_merge_tree_without_a_middle_level() -> None:
    wall = _textured_wall(3000)
    two = merge_tree(wall, 1000, ratio=4.0)  # fewer splats than the middle level would hold
    assert two.mid is None and two.parent is not None
    # fewer than two splats for each middle one: the middle level would mostly copy them
    assert merge_tree(_textured_wall(6000), 1000, ratio=4.0).mid is None
    assert merge_tree(_textured_wall(9000), 1000, ratio=4.0).mid is not None
    assert two.parent.max() == len(two.coarse) - 1
    off = merge_tree(wall, 500, ratio=0.0)
    assert off.mid is None and len(off.coarse) < 800
    same = merge_tree(wall, 5000)
    assert same.coarse is wall and same.parent is None


def _packed(*clouds: GaussianCloud, target: int = 1500):
    from viewer.renderer import pack_lod, pack_world

    layers = [Layer(f"l{i}", c) for i, c in enumerate(clouds)]
    packed = pack_world(layers, tuple(id(c) for c in clouds))
    return packed, pack_lod(packed, target=target, voxel_order=True)


def test_pack_lod_lays_out_the_tree() -> None:
    """Every layer's top level first (`ranges`), then the middle levels (`mid_ranges`);
    sub_start / up link them; every fine splat hangs under exactly one merged splat."""
    big, small = _textured_wall(40_000, seed=1), _textured_wall(2000, seed=2)
    packed, lod = _packed(big, small)
    (i0, a0, b0), (i1, a1, b1) = lod.ranges
    assert (i0, a0, i1, a1, b1 - a1) == (0, 0, 1, b0, 2000)  # the small layer kept whole
    assert lod.n_roots == b1 and len(lod.mid_ranges) == 1
    (im, am, bm) = lod.mid_ranges[0]
    assert (im, am, bm) == (0, b1, len(lod.means))
    assert lod.sub_start is not None and lod.up is not None
    assert lod.sub_start[0] == am and lod.sub_start[-1] == bm
    for r in (0, 7, b0 - 1):  # a big-layer root's children point back to it
        kids = np.arange(lod.sub_start[r], lod.sub_start[r + 1])
        assert len(kids) and np.all(lod.up[kids] == r)
    assert np.all(lod.up[:b1] == -1) and np.all(lod.up[am:] < b0)
    counts = np.diff(lod.child_start)
    assert np.all(counts[:b0] == 0)  # fine splats hang under the middle level...
    assert np.all(counts[a1:b1] == 1)  # ...or under themselves (a small layer)
    assert np.array_equal(np.sort(lod.children), np.arange(len(packed.means)))
    np.testing.assert_array_equal(lod.fine_means, packed.means[lod.children])


def _cut_inputs(lod, cam: Camera, budget: int):  # noqa: ANN001, ANN202
    from viewer.renderer import NEAR_CULL, _frustum
    from viewer.sorting import layer_depth

    roots = [layer_depth(np.eye(4), cam.R, cam.t, a, b) for _, a, b in lod.ranges]
    mids = [layer_depth(np.eye(4), cam.R, cam.t, a, b) for _, a, b in lod.mid_ranges]
    return (
        lod.means,
        lod.size,
        lod.child_start,
        lod.sub_start,
        lod.up,
        roots,
        mids,
        _frustum(cam),
        NEAR_CULL,
        float(cam.fy),
        budget,
    )


def _along_the_wall(w: int = 320, h: int = 180) -> Camera:
    """Standing 1.5 m from the wall, looking along it at a grazing angle: the wall runs
    from 0.5 m to 12 m away."""
    return Camera.look_at((1.5, 1.6, -0.5), (0.2, 1.4, 6.0), 70, w, h)


@pytest.mark.parametrize("budget", [9000, 20000])
def test_tree_cut_compiled_matches_its_numpy_twin(budget: int) -> None:
    from viewer.lod_cut import tree_cut, tree_cut_compiled

    _, lod = _packed(_textured_wall(60_000, seed=3), _textured_wall(2500, length=2, seed=4))
    cam = _along_the_wall()
    args = _cut_inputs(lod, cam, budget)
    mid_of = [0, -1]  # the small layer has no middle level
    ref = tree_cut(*args)
    got = tree_cut_compiled(*args, mid_of=mid_of)
    assert ref is not None and got is not None
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-5)
    np.testing.assert_array_equal(got[2], ref[2])
    keep, _, expand = ref
    fine = int(np.diff(lod.child_start)[expand].sum())
    assert budget - 100 <= len(keep) + fine <= budget  # the budget, nearly all used
    mid_kept = keep[keep >= lod.n_roots]
    mid_expanded = expand[expand >= lod.n_roots]
    assert len(mid_kept) and len(mid_expanded)  # all three levels drawn
    # a middle splat is drawn (as itself or its children) only under an expanded root,
    # and then its root is not drawn itself
    parents = lod.up[np.concatenate([mid_kept, mid_expanded])]
    assert not np.isin(parents, keep).any()
    # nearer voxels are expanded first: the expanded middle splats are nearer than the kept
    depth = dict(zip(keep.tolist(), ref[1].tolist()))
    z = lod.means @ cam.R[2] + cam.t[2]
    assert np.median(z[mid_expanded]) < np.median([depth[j] for j in mid_kept])
    # no frustum: the twins agree too
    open_args = (*args[:7], None, *args[8:])
    ref2, got2 = tree_cut(*open_args), tree_cut_compiled(*open_args, mid_of=mid_of)
    assert ref2 is not None and got2 is not None
    np.testing.assert_array_equal(got2[2], ref2[2])
    # more top splats in view than the budget: no cut
    tight = (*args[:10], 50)
    assert tree_cut(*tight) is None and tree_cut_compiled(*tight, mid_of=mid_of) is None


def _frame(packed, lod, cam: Camera, budget: int | None) -> np.ndarray:  # noqa: ANN001
    """A CPU-composited frame: every splat (budget None), or the cut within `budget`."""
    from viewer import cpu_splat
    from viewer.cut_order import cut_order_numpy
    from viewer.lod_cut import tree_cut
    from viewer.renderer import MAX_LAYERS, NEAR_CULL
    from viewer.sorting import layer_depth

    models = np.tile(np.eye(4, dtype=np.float32), (MAX_LAYERS, 1, 1))
    view = cam.world_to_camera().astype(np.float32)
    n = len(packed.means)
    intr = (cam.fx, cam.fy, cam.cx, cam.cy)
    if budget is None:
        z = packed.means @ cam.R[2] + cam.t[2]
        order = np.argsort(-z, kind="stable").astype(np.uint32)
        order = order[z[order] > NEAR_CULL]
        return cpu_splat.render(
            order, packed.geom, packed.color, packed.texels, packed.degree, models, view,
            cam.position, intr, (cam.width, cam.height),
        )  # fmt: skip
    keep, keep_depth, expand = tree_cut(*_cut_inputs(lod, cam, budget))
    lay = layer_depth(np.eye(4), cam.R, cam.t, 0, n)
    order, _, _ = cut_order_numpy(
        expand, lod.child_start, lod.children, packed.means,
        [(0, n, lay.rows[2], lay.b)], NEAR_CULL, keep, keep_depth, n,
    )  # fmt: skip
    return cpu_splat.render(
        order, packed.geom, packed.color, packed.texels, packed.degree, models, view,
        cam.position, intr, (cam.width, cam.height), coarse=(lod.geom, lod.color, n),
    )  # fmt: skip


def test_three_levels_show_a_far_wall_better_than_two(monkeypatch) -> None:  # noqa: ANN001
    """At the same splat budget, a cut through the middle level draws the far part of a
    textured wall at a quarter of its splats instead of one merged splat per voxel: the
    frame is closer to the full one (two levels: bench/render.py's 1M room kept its far
    walls as 10 cm blurs, SSIM there 0.71-0.79)."""
    import viewer.lod as lod_mod
    import viewer.renderer as R

    wall = _textured_wall(60_000, seed=5)
    cam = _along_the_wall()
    packed, three = _packed(wall, target=1500)
    full = _frame(packed, three, cam, None)
    assert full[..., :3].std() > 0.05  # the wall fills much of the view
    R._merge_cache.clear()
    monkeypatch.setattr(lod_mod, "MID_RATIO", 0.0)
    _, two = _packed(wall, target=1500)
    assert not two.mid_ranges and three.mid_ranges

    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        return float(10 * np.log10(1.0 / np.mean((a[..., :3] - b[..., :3]) ** 2)))

    budget = 10_000
    p3 = psnr(_frame(packed, three, cam, budget), full)
    p2 = psnr(_frame(packed, two, cam, budget), full)
    assert p3 > p2 + 0.5, (p3, p2)


def _tiny_tree():  # noqa: ANN202
    """One top splat 1 m ahead (10 px at fy 1) over two middle ones (5 px): the first
    over one fine splat, the second over three."""
    from viewer.sorting import layer_depth

    means = np.zeros((3, 3), np.float32)
    means[:, 2] = 1.0
    size = np.array([10.0, 5.0, 5.0], np.float32)
    child_start = np.array([0, 0, 1, 4])
    sub_start = np.array([1, 3])
    up = np.array([-1, 0, 0])
    top = [layer_depth(np.eye(4), np.eye(3), np.zeros(3), 0, 1)]
    mid = [layer_depth(np.eye(4), np.eye(3), np.zeros(3), 1, 3)]
    return means, size, child_start, sub_start, up, top, mid


@pytest.mark.parametrize("budget, keep, expand", [(1, [0], []), (3, [2], [1]), (4, [], [1, 2])])
def test_a_middle_splat_over_one_fine_splat_is_drawn_as_that_splat(
    budget: int, keep: list[int], expand: list[int]
) -> None:
    """It costs nothing and keeps the fine splat's view-dependent colour (a merged splat has
    none): a review found 73 % of a 5000-splat layer's splats drawn as merged copies of
    themselves at any budget."""
    from viewer.lod_cut import tree_cut, tree_cut_compiled

    means, size, child_start, sub_start, up, top, mid = _tiny_tree()
    args = (means, size, child_start, sub_start, up, top, mid, None, 0.01, 1.0, budget)
    for cut in (tree_cut(*args), tree_cut_compiled(*args)):
        assert cut is not None
        assert cut[0].tolist() == keep and cut[2].tolist() == expand


def test_tree_cut_twins_agree_on_their_edge_cases() -> None:
    from viewer.lod_cut import tree_cut, tree_cut_compiled

    means, size, child_start, sub_start, up, top, mid = _tiny_tree()
    # no middle layer in view although the tree has one: both keep the top splat
    args = (means, size, child_start, sub_start, up, top, [], None, 0.01, 1.0, 10)
    for cut in (tree_cut(*args), tree_cut_compiled(*args)):
        assert cut is not None and cut[0].tolist() == [0] and not len(cut[2])
    # which middle layer belongs to which top layer cannot be guessed
    two_tops = [*top, *top]
    with pytest.raises(ValueError, match="mid_of is needed"):
        tree_cut_compiled(
            means, size, child_start, sub_start, up, two_tops, mid, None, 0.01, 1.0, 9
        )
    # a centre on the camera plane (no frustum to cull it): no error, as numpy
    flat = means.copy()
    flat[:, 2] = 0.0
    args = (flat, size, child_start, sub_start, up, top, mid, None, 0.01, 1.0, 10)
    ref, got = tree_cut(*args), tree_cut_compiled(*args)
    assert ref is not None and got is not None
    assert got[2].tolist() == ref[2].tolist()


def test_voxels_of_a_worlds_hidden_splats_alone_are_never_refined() -> None:
    """A generated world's hidden layers (`meta["hidden"]`: its background layer and the
    backstop behind the photo's surfaces) sit behind the surfaces in view; a moving frame's
    cut refined their voxels as much as the surfaces', so the surfaces were drawn a level
    coarser (the office world's walls: a lattice of dots). Their voxels get edge 0 (never
    refined) at both levels; voxels with any other splat keep their edge, and the merged
    colours and shapes are as before."""
    wall = _textured_wall(20_000)
    sheet = _textured_wall(20_000, seed=1)
    sheet.means[:, 0] = 2.0  # 2 m behind the wall (x = 0), seen from x < 0
    both = GaussianCloud.concatenate([wall, sheet])
    plain = merge_tree(both, 500, ratio=4.0)
    both.meta["hidden"] = {"start": len(wall), "count": len(sheet)}
    tree = merge_tree(both, 500, ratio=4.0)
    assert tree.mid is not None and plain.mid is not None
    behind = tree.coarse.means[:, 0] > 1.0
    assert 0 < behind.sum() < len(behind)
    assert np.all(tree.coarse_size[behind] == 0) and np.all(tree.coarse_size[~behind] > 0)
    mid_behind = tree.mid.means[:, 0] > 1.0
    assert np.all(tree.mid_size[mid_behind] == 0) and np.all(tree.mid_size[~mid_behind] > 0)
    np.testing.assert_array_equal(tree.coarse.sh0, plain.coarse.sh0)
    np.testing.assert_array_equal(tree.coarse.scales, plain.coarse.scales)
    np.testing.assert_array_equal(tree.coarse_size[~behind], plain.coarse_size[~behind])
    assert "hidden" not in tree.coarse.meta  # its places mean nothing among merged splats
    # the two-level merge too
    two = merge_with_parents(both, 500)
    assert np.all(two[2][two[0].means[:, 0] > 1.0] == 0)
    assert np.all(two[2][two[0].means[:, 0] < 1.0] > 0)
