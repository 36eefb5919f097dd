"""viewer/cut_order.py: the compiled ordering of a moving frame's cut against its numpy twin."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.cut_order import cut_order, cut_order_numpy
from viewer.sorting import depth_keys_u16


def _lod(rng: np.random.Generator, n: int, voxels: int):
    """n fine splats in two layers, grouped into `voxels` merged splats (shuffled children)."""
    means = rng.normal(0.0, 3.0, (n, 3)).astype(np.float32)
    children = rng.permutation(n).astype(np.uint32)
    cuts = np.sort(rng.choice(np.arange(1, n), voxels - 1, replace=False))
    child_start = np.concatenate([[0], cuts, [n]]).astype(np.int64)
    layers = [
        (n // 3, n, np.array([0.1, -0.2, 0.97], np.float32), 4.0),
        (0, n // 3, np.array([0.0, 0.6, 0.8], np.float32), 2.5),  # given out of order
    ]
    return means, children, child_start, layers


@pytest.mark.parametrize("by_place", [False, True])
@pytest.mark.parametrize("n, expanded", [(5000, 40), (5000, 0), (3000, 299)])
def test_matches_the_numpy_twin(n: int, expanded: int, by_place: bool) -> None:
    rng = np.random.default_rng(n + expanded)
    voxels = 300
    means, children, child_start, layers = _lod(rng, n, voxels)
    expand = rng.choice(voxels, expanded, replace=False)
    keep = np.setdiff1d(np.arange(voxels), expand)
    keep_depth = rng.uniform(0.5, 20.0, len(keep)).astype(np.float32)
    voxel_means = means[children] if by_place else None
    args = (expand, child_start, children, means, layers, 0.2, keep, keep_depth, n, voxel_means)
    order, place, rank = cut_order(*args)
    order_np, place_np, rank_np = cut_order_numpy(*args)
    assert np.array_equal(place, place_np)
    # fine splats, ascending: places in the children lists (voxel by voxel) with the
    # voxel-ordered centres, else full-set indices; then the merged ones
    fine_place = place[place < n]
    assert np.all(np.diff(fine_place) > 0) and np.all(place[len(fine_place) :] == keep + n)
    fine = children[fine_place].astype(np.int64) if by_place else fine_place
    # fine splats behind the near plane are left out
    depth = np.empty(len(place), np.float32)
    for start, stop, w, b in layers:
        sel = (fine >= start) & (fine < stop)
        depth[: len(fine)][sel] = means[fine[sel]] @ w + b
    depth[len(fine) :] = keep_depth
    assert np.all(depth[: len(fine)] > 0.2)
    expected = (
        np.concatenate([np.arange(child_start[j], child_start[j + 1]) for j in np.sort(expand)])
        if expanded
        else np.zeros(0, int)
    )
    if expanded:
        full = children[expected].astype(np.int64)
        depth_expected = np.choose(
            (full >= n // 3).astype(int),
            [means[full] @ layers[1][2] + layers[1][3], means[full] @ layers[0][2] + layers[0][3]],
        )
        visible = expected[depth_expected > 0.2]
        if not by_place:
            visible = np.sort(children[visible])
        assert np.array_equal(fine_place, visible)  # every expanded child in front is there
    # the GL order holds full-set indices, back to front by 16-bit keys; ranks consistent
    ident = place
    if by_place:
        ident = np.where(place < n, children[np.minimum(place, n - 1)].astype(np.int64), place)
    keys = depth_keys_u16(depth)
    pos = {int(v): p for p, v in enumerate(order)}
    back = np.array([pos[int(v)] for v in ident])
    assert np.array_equal(rank, len(place) - 1 - back)
    along = keys[np.argsort(back)]
    assert np.all(np.diff(along.astype(int)) >= -1)  # float rounding may move a key by one
    agree = np.mean(order == order_np)
    assert agree == 1.0, agree
    assert np.array_equal(np.sort(rank), np.arange(len(place)))
    assert np.array_equal(np.sort(rank_np), np.arange(len(place)))


def test_empty_cut() -> None:
    means = np.zeros((4, 3), np.float32)
    layer = [(0, 4, np.array([0, 0, 1], np.float32), 0.0)]
    none = np.zeros(0, int)
    order, place, rank = cut_order(
        none, np.array([0, 4]), np.arange(4, dtype=np.uint32), means, layer, 0.1, none,
        np.zeros(0, np.float32), 4,
    )  # fmt: skip
    assert len(order) == len(place) == len(rank) == 0


@pytest.mark.parametrize("by_place", [False, True])
def test_any_number_of_threads_gives_the_same_cut(by_place: bool) -> None:
    """The kernel splits each step into per-thread shares: 1 to 5 of them, and shares
    with no work (more than voxels), give the same order, places and ranks, ties (a wall
    facing the camera: every splat one depth) included."""
    rng = np.random.default_rng(7)
    n, voxels = 4000, 120
    means, children, child_start, layers = _lod(rng, n, voxels)
    means[: n // 2, 2] = 5.0  # half of them share one depth key per layer
    means[: n // 2, :2] = 0.0
    expand = rng.choice(voxels, 70, replace=False)
    keep = np.setdiff1d(np.arange(voxels), expand)
    keep_depth = np.full(len(keep), 6.0, np.float32)
    voxel_means = means[children] if by_place else None
    args = (expand, child_start, children, means, layers, 0.2, keep, keep_depth, n, voxel_means)
    ref = cut_order(*args, chunks=1)
    assert np.array_equal(ref[0], cut_order_numpy(*args)[0])
    for k in (2, 3, 5, 200):
        got = cut_order(*args, chunks=k)
        for a, b in zip(ref, got):
            assert np.array_equal(a, b), k
