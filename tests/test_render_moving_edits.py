"""Moving frames (coarse level) draw every layer and never stale data after an edit."""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_render_lod import _wall


def _cup(n: int, scale: float = 0.004):
    """A small red object of n tiny splats around the origin (smaller than merged voxels)."""
    from scene.gaussians import GaussianCloud, logit

    rng = np.random.default_rng(7)
    means = rng.normal(0, 0.05, (n, 3)).astype(np.float32)
    scales = np.log(np.full((n, 3), scale)).astype(np.float32)
    quats = np.tile([1.0, 0, 0, 0], (n, 1)).astype(np.float32)
    sh0 = np.tile([3.0, -2.0, -2.0], (n, 1)).astype(np.float32)
    return GaussianCloud(means, scales, quats, logit(np.full(n, 0.95)).astype(np.float32), sh0)


def test_coarse_level_is_merged_from_the_packed_data() -> None:
    """An edit after packing (World.remove_splats replaces layer.data) must not leak into
    the coarse level merged for that packing: it would index other splats (garbled frames)."""
    from scene.world import Layer, World
    from viewer.renderer import pack_lod, pack_world

    world = World()
    lay = Layer("wall", _wall(12_000, seed=1))
    world.add_layer(lay)
    packed = pack_world(world.layers, ("k",))
    mask = np.zeros(len(lay.data), bool)
    mask[:4000] = True
    world.remove_splats(lay.id, mask)
    lod = pack_lod(packed, target=1000)
    assert len(lod.children) == len(packed.means) == 12_000
    assert lod.child_start[-1] == 12_000


def test_adding_an_object_does_not_merge_the_world_again(monkeypatch) -> None:  # noqa: ANN001
    """Adding, removing or moving a small object re-packs the layer set. The world's
    coarse level was merged again each time (seconds for a 1.6 M-splat world here) and
    moving frames drew scattered fine splats meanwhile (a trial saw it after each edit).
    The world's merge is reused; a world whose data changed is merged anew."""
    import viewer.renderer as renderer_mod
    from scene.world import Layer, World
    from viewer.renderer import pack_lod, pack_world

    calls: list[int] = []
    merge = renderer_mod.merge_tree
    monkeypatch.setattr(
        renderer_mod, "merge_tree", lambda c, t: calls.append(len(c)) or merge(c, t)
    )
    world = World()
    wall = world.add_layer(Layer("wall", _wall(30_000, seed=3)))
    first = pack_lod(pack_world(world.layers, ("a",)), target=2000)
    assert calls == [30_000]
    world.add_layer(Layer("cup", _cup(800)))  # a small object: kept as it is
    again = pack_lod(pack_world(world.layers, ("b",)), target=2000)
    assert calls == [30_000]  # the wall's merge reused
    n_wall = first.ranges[0][2]
    np.testing.assert_array_equal(again.means[:n_wall], first.means[:n_wall])
    assert again.n_roots == n_wall + 800 and len(again.means) == len(first.means) + 800
    assert again.child_start[-1] == 30_800
    # the wall's middle level follows every layer's top level, the same splats as before
    np.testing.assert_array_equal(again.means[n_wall + 800 :], first.means[n_wall:])
    mask = np.zeros(30_000, bool)
    mask[:100] = True
    world.remove_splats(wall.id, mask)  # new data: merged anew
    pack_lod(pack_world(world.layers, ("c",)), target=2000)
    assert calls == [30_000, 29_900]
    assert len(renderer_mod._merge_cache) <= renderer_mod.MERGE_CACHE


def test_limited_selection_gives_every_layer_its_share() -> None:
    """A small object keeps its splats in a limited frame however strong the world's are;
    a big object does not take half the budget (an inserted 65k-splat chair took half of a
    moving frame's 23k, and the world dissolved into blobs for a second)."""
    from viewer.sorting import LayerDepth, strongest_per_layer

    eye = np.eye(3, dtype=np.float32)

    def keep(n_world: int, n_obj: int, k: int) -> tuple[int, int]:
        layers = (
            LayerDepth(0, n_world, eye, np.zeros(3, np.float32)),
            LayerDepth(n_world, n_world + n_obj, eye, np.zeros(3, np.float32)),
        )
        order = np.arange(n_world + n_obj)
        score = np.where(order < n_world, 10.0, 0.01)  # the world's splats all stronger
        m = strongest_per_layer(score, order, layers, k)
        assert m.sum() == k
        return int(m[:n_world].sum()), int(m[n_world:].sum())

    assert keep(1000, 50, 220) == (170, 50)  # the object keeps all its splats
    world, obj = keep(1000, 500, 220)
    assert 55 <= obj < 110 and world > 110  # its floor, then in proportion: not half
    world, obj = keep(850_000, 65_000, 22_925)
    assert world > 2.4 * obj


@pytest.fixture
def gl_target(x_display):  # noqa: ANN001
    from viewer import offscreen

    ctx = offscreen.offscreen_context()
    ctx.make_current()
    fb = offscreen.Framebuffer(160, 120)
    fb.bind()
    yield fb
    fb.release()


def _until_lod(r, cam, k: int) -> None:  # noqa: ANN001
    deadline = time.time() + 60
    while (r._lod is None or r._lod.key != r._uploaded_key) and time.time() < deadline:
        r.draw(cam, (160, 120), max_splats=k)
        time.sleep(0.05)
    assert r._lod is not None and r._lod.key == r._uploaded_key, "the coarse level never arrived"


def _red(fb) -> float:  # noqa: ANN001
    from OpenGL import GL

    GL.glFinish()
    img = fb.read_float()
    return float(((img[..., 0] > 0.6) & (img[..., 1] < 0.35)).mean())


@pytest.mark.gl
def test_moving_frames_draw_a_dragged_object(gl_target) -> None:  # noqa: ANN001
    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer

    world = World()
    world.add_layer(Layer("wall", _wall(120_000, seed=2)))
    cup = Layer("cup", _cup(3000))
    cup.transform[:3, 3] = (0.1, 0.0, 0.3)
    world.add_layer(cup)
    cam = Camera.look_at((0.0, 0.0, 1.2), (0, 0, 0), 60, 160, 120)
    r = SplatRenderer()
    r.set_world(world)
    try:
        _until_lod(r, cam, 3000)
        for i in range(3):  # a gizmo drag: the transform changes between moving frames
            m = cup.transform.copy()
            m[0, 3] = 0.1 + 0.05 * i
            world.preview_transform(cup.id, m)  # the event alone must reach the renderer
            r.draw(cam, (160, 120), max_splats=3000)
            assert _red(gl_target) > 0.01, f"the object vanished from moving frame {i}"
    finally:
        r.release()


@pytest.mark.gl
def test_moving_frames_after_an_edit_show_the_new_data(gl_target, monkeypatch) -> None:  # noqa: ANN001
    """Delete splats while the coarse level is being merged and the new data packed in the
    background (a big scene): no frame may draw a coarse level that does not match the
    uploaded splats, and once packed the moving frames show the edited data."""
    import threading

    import viewer.renderer as renderer_mod
    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer

    monkeypatch.setattr(
        renderer_mod, "LOD_MIN_SPLATS", 10_000
    )  # a coarse level also after the edit
    monkeypatch.setattr(renderer_mod, "INLINE_PACK_LIMIT", 0)  # pack on a worker, as big scenes
    monkeypatch.setattr(renderer_mod, "CHEAP_MERGE", 0)  # merged after the first frame
    gate = threading.Event()
    merge = renderer_mod.pack_lod

    def gated(*args, **kw):  # noqa: ANN002, ANN003, ANN202 - the merge waits for the test's edit
        gate.wait(30)
        return merge(*args, **kw)

    monkeypatch.setattr(renderer_mod, "pack_lod", gated)
    packed = threading.Event()  # the edited data's packing waits until the merge is done
    pack = renderer_mod.pack_world

    def gated_pack(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        if gate.is_set():
            packed.wait(30)
        return pack(*args, **kw)

    monkeypatch.setattr(renderer_mod, "pack_world", gated_pack)
    world = World()
    wall = _wall(80_000, seed=3)
    wall.sh0[:] = np.array([3.0, -2.0, -2.0], np.float32)  # all red
    lay = Layer("wall", wall)
    world.add_layer(lay)
    cam = Camera.look_at((0.0, 0.0, 1.2), (0, 0, 0), 60, 160, 120)
    r = SplatRenderer()
    r.set_world(world)

    def consistent() -> None:  # the coarse level in use indexes the uploaded splats
        assert r._lod is None or r._lod.child_start[-1] == len(r._means)

    try:
        deadline = time.time() + 30
        while r._lod_job is None and time.time() < deadline:  # packed, merge started (and held)
            r.draw(cam, (160, 120), max_splats=20_000)
            time.sleep(0.02)
        assert r._lod_job is not None
        world.remove_splats(lay.id, lay.data.means[:, 0] < 0.5)  # most of the wall
        r.invalidate("layers")
        job = r._lod_job
        gate.set()
        job.result(30)  # merged while the edited data is not packed yet
        for _ in range(3):
            r.draw(cam, (160, 120), max_splats=20_000)
            consistent()
        packed.set()
        deadline = time.time() + 30
        while len(r._means) == 80_000 and time.time() < deadline:
            r.draw(cam, (160, 120), max_splats=20_000)
            consistent()
            time.sleep(0.02)
        r.draw(cam, (160, 120), max_splats=20_000)
        consistent()
        assert _red(gl_target) < 0.35  # the deleted splats are gone
        world.undo()
        r.invalidate("layers")
        world.redo()  # Ctrl+Y
        r.invalidate("layers")
        # rebuilt for the redone data (on a loaded machine the edit's or the undo's packing
        # can still be on the GPU, with a coarse level of its own, when the wait for one
        # starts: wait for the redone splats' own upload first)
        deadline = time.time() + 60
        while time.time() < deadline and (
            r._uploaded_key is None or r._uploaded_key[0] != r._layers_version
        ):
            r.draw(cam, (160, 120), max_splats=20_000)
            consistent()
            time.sleep(0.02)
        _until_lod(r, cam, 20_000)
        r.draw(cam, (160, 120), max_splats=20_000)
        consistent()
        assert _red(gl_target) < 0.35
        assert r._lod.child_start[-1] == len(lay.data)
    finally:
        gate.set()
        packed.set()
        r.release()


def test_limited_candidates_include_small_layers_whole() -> None:
    """The fine path's limited sort reads only the globally strongest splats: a small
    object's (weaker) splats must be among them, else its share has nothing to pick."""
    from scene.world import Layer
    from viewer.renderer import SplatRenderer, pack_world

    world_lay, cup = Layer("wall", _wall(20_000, seed=4)), Layer("cup", _cup(500))
    packed = pack_world([world_lay, cup])
    r = SplatRenderer()
    r._slots, r._view_fraction = packed.slots, 1.0
    r._by_weight = np.argsort(-packed.weight).astype(np.uint32)
    assert not np.isin(np.arange(20_000, 20_500), r._by_weight[:1500]).any()  # all crowded out
    cand = r._candidates(1000)
    assert np.isin(np.arange(20_000, 20_500), cand).all() and np.all(
        np.diff(cand.astype(np.int64)) > 0
    )
    assert len(cand) < 20_500


def test_limited_frames_thin_evenly_over_every_splat_in_view() -> None:
    """Ranked by contribution, a limited frame of a generated world spent its budget on
    the sky dome and the backdrop and the photo vanished (previews after an edit, moving
    frames before the coarse level is merged); every limited request now thins evenly
    over all splats in view, as a one-shot render does."""
    from conftest import random_cloud

    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer, pack_world

    w = World()
    w.add_layer(Layer("a", random_cloud(3000, 0, seed=1)))
    r = SplatRenderer(sync_sort=False)
    packed = pack_world(w.layers)
    r._slots, r._means, r._weight = packed.slots, packed.means, packed.weight
    cam = Camera.look_at([0, 0, 6], [0, 0, 0], 60, 64, 48)
    vis = [s for s in packed.slots if s.layer.visible]
    req = r._request(cam, vis, False, 500)
    assert req.uniform and req.candidates is None
    assert not r._request(cam, vis, False, None).uniform  # a full frame: nothing to thin


@pytest.mark.gl
def test_an_object_added_to_a_merged_world_comes_with_its_coarse_level(
    gl_target, monkeypatch
) -> None:  # noqa: ANN001
    """The world's merge is cached and the new object is small: the coarse level is made
    with the packing, so the first frame of the new layer set has it, and until the new
    set is packed the drawn one's coarse level serves (moving frames drew a thin subset,
    confetti, for a second after each insertion: a trial)."""
    import threading

    import viewer.renderer as renderer_mod
    from scene.camera import Camera
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer

    monkeypatch.setattr(renderer_mod, "LOD_MIN_SPLATS", 10_000)
    monkeypatch.setattr(renderer_mod, "INLINE_PACK_LIMIT", 0)  # pack on a worker, as big scenes
    world = World()
    world.add_layer(Layer("wall", _wall(80_000, seed=4)))
    cam = Camera.look_at((0.0, 0.0, 1.2), (0, 0, 0), 60, 160, 120)
    r = SplatRenderer()
    r.set_world(world)
    try:
        _until_lod(r, cam, 20_000)  # the world merged once
        first = r._uploaded_key
        gate = threading.Event()
        pack = renderer_mod.pack_world

        def gated_pack(*args, **kw):  # noqa: ANN002, ANN003, ANN202 - the new set packs slowly
            gate.wait(30)
            return pack(*args, **kw)

        monkeypatch.setattr(renderer_mod, "pack_world", gated_pack)
        drawn_from_lod = []
        draw_lod = r._draw_lod
        r._draw_lod = lambda *a, **k: (drawn_from_lod.append(1), draw_lod(*a, **k))[1]
        world.add_layer(Layer("cup", _cup(8000)))
        r.invalidate("layers")
        # while the new set is packed the drawn set's coarse level still serves (the fine
        # path drew a thin subset meanwhile)
        r.draw(cam, (160, 120), max_splats=20_000)
        assert r._uploaded_key == first and drawn_from_lod
        gate.set()
        deadline = time.time() + 30
        while r._uploaded_key == first and time.time() < deadline:
            r.draw(cam, (160, 120), max_splats=20_000)
            time.sleep(0.02)
        assert r._uploaded_key != first
        # the new set is up, and its coarse level with it: no merge job was needed
        assert r._lod is not None and r._lod.key == r._uploaded_key and r._lod_job is None
        assert not r.coarse_level_pending()
        assert r._lod.child_start[-1] == len(r._means)
    finally:
        r.release()
