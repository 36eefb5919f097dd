"""Depth sorting: the 16-bit key sort against its float reference twin, and the
background sorter's contract (never blocks, newest result wins)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from viewer.sorting import (
    BackgroundSorter,
    Frustum,
    SortRequest,
    back_to_front,
    back_to_front_reference,
    depth_keys_u16,
    layer_depth,
    run_sort,
    view_changed,
    view_depths,
)


def _depths(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 50, n).astype(np.float32), np.arange(n, dtype=np.uint32)


def test_keys_map_far_to_zero_near_to_max() -> None:
    keys = depth_keys_u16(np.array([1.0, 5.0, 3.0], np.float32))
    assert keys.dtype == np.uint16
    assert keys[1] == 0 and keys[0] == 65535 and 0 < keys[2] < 65535


def test_fast_sort_matches_reference_up_to_quantisation() -> None:
    depth, index = _depths(200_000)
    fast = back_to_front(depth, index)
    ref = back_to_front_reference(depth, index)
    assert sorted(fast.tolist()) == sorted(ref.tolist())  # same splats survive the near cull
    assert np.all(depth[fast] > 0.2)
    # depths along the fast order never increase by more than one quantisation bucket
    d = depth[fast]
    bucket = (d.max() - d.min()) / 65535.0
    assert np.all(np.diff(d) <= bucket * 1.01 + 1e-6)
    # splats more than a bucket apart are in exactly the reference order
    pos_fast = np.empty(len(depth), np.int64)
    pos_fast[fast] = np.arange(len(fast))
    a, b = ref[:-1:97], ref[1::97]
    far_apart = depth[a] - depth[b] > 2 * bucket
    assert np.all(pos_fast[a[far_apart]] < pos_fast[b[far_apart]])


def test_distinct_depths_sort_exactly() -> None:
    depth = np.array([3.0, 10.0, 0.1, 7.0, 5.0], np.float32)
    idx = np.arange(5, dtype=np.uint32) + 100
    assert back_to_front(depth, idx).tolist() == [101, 103, 104, 100]
    assert back_to_front_reference(depth, idx).tolist() == [101, 103, 104, 100]
    assert back_to_front(depth, idx, min_depth=None).tolist() == [101, 103, 104, 100, 102]


def test_layer_depths_follow_the_layer_transform() -> None:
    rng = np.random.default_rng(1)
    means = rng.normal(size=(50, 3)).astype(np.float32)
    model = np.eye(4)
    model[:3, :3] = 2.0 * np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    model[:3, 3] = [1, 2, 3]
    R = np.eye(3)
    t = np.array([0.0, 0.0, 10.0])
    d, idx = view_depths(means, [layer_depth(model, R, t, 10, 50)])
    world = means[10:50] @ model[:3, :3].T + model[:3, 3]
    np.testing.assert_allclose(d, world[:, 2] + 10.0, rtol=1e-5, atol=1e-5)
    assert idx.tolist() == list(range(10, 50))


def test_frustum_cull_matches_projection() -> None:
    from scene.camera import Camera
    from viewer.sorting import Frustum

    rng = np.random.default_rng(3)
    means = rng.uniform(-5, 5, (20_000, 3)).astype(np.float32)
    cam = Camera.look_at((1, 2, 8), (0, 0, 0), 50, 320, 200)
    lay = layer_depth(np.eye(4), cam.R, cam.t, 0, len(means))
    fr = Frustum.for_camera(cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height, ndc_limit=1.3)
    _, idx = view_depths(means, [lay], fr, 0.2)
    uv, z = cam.project(means)
    ndc = np.stack([2 * uv[:, 0] / cam.width - 1, 1 - 2 * uv[:, 1] / cam.height], 1)
    expect = np.nonzero((z > 0.2) & (np.abs(ndc) <= 1.3).all(1))[0]
    assert 1000 < len(expect) < len(means)
    assert set(idx.tolist()) ^ set(expect.tolist()) <= set(
        np.nonzero(np.abs(np.abs(ndc).max(1) - 1.3) < 1e-4)[0].tolist()
    )  # only float ties differ


def test_view_changed_thresholds() -> None:
    req = SortRequest(0, np.zeros((1, 3), np.float32), (), np.zeros(3), np.array([0, 0, 1.0]), None)
    assert view_changed(None, np.zeros(3), np.array([0, 0, 1.0]), 10)
    assert not view_changed(
        req, np.zeros(3), np.array([0, 0.01, 1.0]) / np.linalg.norm([0, 0.01, 1]), 10
    )
    turned = np.array([0, np.sin(0.2), np.cos(0.2)])
    assert view_changed(req, np.zeros(3), turned, 10)
    assert view_changed(req, np.array([0.5, 0, 0]), np.array([0, 0, 1.0]), 10)
    # a wider field of view at the same pose reaches outside the frustum the order culled to
    f30 = Frustum.for_camera(100.0, 100.0, 50.0, 50.0, 100, 100)
    f90 = Frustum.for_camera(25.0, 25.0, 50.0, 50.0, 100, 100)
    culled = SortRequest(
        0, np.zeros((1, 3), np.float32), (), np.zeros(3), np.array([0, 0, 1.0]), None, f30
    )
    still = (culled, np.zeros(3), np.array([0, 0, 1.0]), 10)
    assert view_changed(*still, frustum=f90)
    assert not view_changed(*still, frustum=f30) and not view_changed(*still)


def test_background_sorter_returns_newest_and_calls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """submit never waits for a sort: all three return while the first sort is held on a
    gate; a request made while one runs replaces the queued one, so two sorts run, not three."""
    import viewer.sorting as sorting

    gate, sorts = threading.Event(), []

    def held_sort(req: SortRequest):
        sorts.append(req.generation)
        assert gate.wait(30), "the test never released the sort"
        return run_sort(req)

    monkeypatch.setattr(sorting, "run_sort", held_sort)
    rng = np.random.default_rng(2)
    means = rng.normal(size=(100_000, 3)).astype(np.float32)
    done = threading.Event()
    sorter = BackgroundSorter(on_done=done.set)
    try:
        reqs = []
        for gen, z in enumerate((5.0, 6.0, 7.0)):
            lay = layer_depth(np.eye(4), np.eye(3), np.array([0, 0, z]), 0, len(means))
            reqs.append(
                SortRequest(gen, means, (lay,), np.array([0, 0, -z]), np.array([0, 0, 1.0]), None)
            )
        submitter = threading.Thread(target=lambda: [sorter.submit(r) for r in reqs])
        submitter.start()
        submitter.join(10)  # a hang guard only: a submit waiting on the held sort never returns
        assert not submitter.is_alive(), "submit waited for a running sort"
        assert sorter.busy and not done.is_set() and sorts == [0]
        gate.set()
        assert done.wait(10)
        assert sorts == [0, 2]  # the middle request was superseded before it ran
        assert not sorter.busy
        res = sorter.poll()
        assert res is not None and res.request is reqs[-1]
        np.testing.assert_array_equal(res.order, run_sort(reqs[-1]).order)
        assert sorter.poll() is None
    finally:
        gate.set()
        sorter.shutdown()


def test_limited_sort_keeps_the_strongest_in_depth_order() -> None:
    rng = np.random.default_rng(5)
    means = rng.uniform(-5, 5, (50_000, 3)).astype(np.float32)
    weight = rng.uniform(0.01, 1.0, len(means)).astype(np.float32)
    lay = layer_depth(np.eye(4), np.eye(3), np.array([0, 0, 10.0]), 0, len(means))
    full = run_sort(
        SortRequest(
            0,
            means,
            (lay,),
            np.array([0, 0, -10.0]),
            np.array([0, 0, 1.0]),
            0.2,
            None,
            None,
            weight,
        )
    )
    lim = run_sort(
        SortRequest(
            0,
            means,
            (lay,),
            np.array([0, 0, -10.0]),
            np.array([0, 0, 1.0]),
            0.2,
            None,
            1000,
            weight,
        )
    )
    assert len(lim.order) == 1000 and lim.in_view == full.in_view == len(full.order)
    np.testing.assert_array_equal(
        np.sort(full.order),
        np.sort(
            run_sort(
                SortRequest(0, means, (lay,), np.array([0, 0, -10.0]), np.array([0, 0, 1.0]), 0.2)
            ).order
        ),
    )
    best = np.sort(weight[full.order])[::-1][:1000]
    np.testing.assert_allclose(np.sort(weight[lim.order])[::-1], best)
    np.testing.assert_allclose(lim.score, weight[lim.order])  # depth_power 0, layer scale 1
    d = means[lim.order, 2] + 10.0
    assert np.all(np.diff(d) <= (d.max() - d.min()) / 65535 * 1.01 + 1e-6)  # still back to front


def test_contribution_grow_and_weights() -> None:
    from viewer.sorting import contribution, grow_factor, splat_weights, strongest

    w = splat_weights(np.array([0.5, 1.0]), np.log(np.array([[1.0, 2.0, 3.0], [0.1, 0.1, 0.1]])))
    np.testing.assert_allclose(w, [0.5 * 6.0, 0.01], rtol=1e-5)  # two largest scales
    c = contribution(np.array([1.0, 1.0], np.float32), np.array([1.0, 2.0], np.float32), 4.0, 2.0)
    np.testing.assert_allclose(c, [4.0, 1.0])
    assert grow_factor(1000, 1000) == 1.0 and grow_factor(10, 0) == 1.0
    assert grow_factor(8000, 1000) == pytest.approx(8**0.3)
    assert grow_factor(10**9, 1, limit=2.5) == 2.5
    m = strongest(np.array([3.0, 1.0, 2.0, 5.0]), 2)
    np.testing.assert_array_equal(m, [True, False, False, True])
    assert not strongest(np.ones(3), 0).any() and strongest(np.ones(3), 5).all()


def test_limited_sort_from_candidates_matches_the_full_choice() -> None:
    rng = np.random.default_rng(8)
    means = rng.uniform(-5, 5, (40_000, 3)).astype(np.float32)
    weight = rng.uniform(0.01, 1.0, len(means)).astype(np.float32)
    # one layer: with several, each layer's share follows its count in view, which a
    # candidate subset only estimates
    lays = (layer_depth(np.eye(4), np.eye(3), np.array([0, 0, 10.0]), 0, 40_000),)
    from viewer.sorting import Frustum

    fr = Frustum(-0.2, 0.2, -0.2, 0.2)  # a narrow view: few splats in it
    args = (0, means, lays, np.array([0, 0, -10.0]), np.array([0, 0, 1.0]), 0.2, fr, 500, weight)
    full = run_sort(SortRequest(*args))
    cand = np.sort(np.argsort(-weight)[:12_000]).astype(np.uint32)
    sub = run_sort(SortRequest(*args, cand))
    np.testing.assert_array_equal(np.sort(sub.order), np.sort(full.order))  # same 500 splats
    assert abs(sub.in_view - full.in_view) < 0.25 * full.in_view  # estimated from the share
    assert full.fraction == pytest.approx(full.in_view / 40_000) and full.fraction < 0.3
