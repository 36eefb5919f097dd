"""The interactive path: background sorting, stale orders while moving, convergence to the
exact image when the camera stops, max_splats while moving, transforms without re-upload."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import random_cloud

from scene.camera import Camera
from scene.world import Layer, World, similarity_matrix

pytestmark = pytest.mark.gl

W, H = 200, 150


@pytest.fixture(scope="module")
def gl_env(x_display):  # noqa: ANN001
    from viewer.gl_context import offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, render_float

    fb = Framebuffer(W, H)
    yield GL, fb, render_float
    ctx.make_current()
    fb.release()


def _cams(n: int):
    return [
        Camera.look_at((6 * np.sin(a), 1.0, 6 * np.cos(a)), (0, 0, 0), 50, W, H)
        for a in np.linspace(0, 1.2, n)
    ]


def _settle(renderer, cam, GL, fb, **kw) -> np.ndarray:
    """Draw until the background sorter is idle and a final frame used its result."""
    deadline = time.time() + 20
    renderer.draw(cam, (W, H), **kw)
    while renderer.sorting and time.time() < deadline:
        time.sleep(0.01)
    fb.bind()
    renderer.draw(cam, (W, H), **kw)
    GL.glFinish()
    return fb.read_float()


def _drawn_after(world, first: Camera, then: Camera, GL, fb, settled: bool) -> np.ndarray:  # noqa: ANN001
    """A fresh GL renderer of `world` settled at `first`, then one frame at `then`
    (`settled`: drawn at rest) read back."""
    from viewer.renderer import SplatRenderer

    r = SplatRenderer()
    r.cpu_full = False
    r.set_world(world)
    try:
        _settle(r, first, GL, fb)
        fb.bind()
        r.draw(then, (W, H), settled=settled)
        GL.glFinish()
        return fb.read_float()
    finally:
        fb.bind()
        r.release()


def test_async_sort_converges_to_the_exact_image(gl_env) -> None:
    from viewer.renderer import SplatRenderer

    GL, fb, render_float = gl_env
    world = World()
    world.add_layer(Layer("w", random_cloud(3000, 3, seed=2)))
    fb.bind()
    r = SplatRenderer()
    done = []
    r.on_sort_done = lambda: done.append(1)
    r.set_world(world)
    try:
        for cam in _cams(12):  # a fast orbit: frames never wait for a sort
            stats = r.draw(cam, (W, H))
            assert stats.splats_total == 3000 and stats.splats_drawn > 0
        GL.glFinish()
        final = _cams(12)[-1]
        img = _settle(r, final, GL, fb)
        assert done, "the sort thread never reported a finished order"
        np.testing.assert_allclose(img, render_float(world, final), atol=2e-3)
        # a moved layer shows at once (uniform), and the next sorts fix the order
        world.layers[0].transform = similarity_matrix((0.5, 0, 0), yaw=0.3)
        r.invalidate("transform")
        img2 = _settle(r, final, GL, fb)
        np.testing.assert_allclose(img2, render_float(world, final), atol=2e-3)
        # fewer splats while moving, then full quality again
        few = r.draw(final, (W, H), max_splats=500)
        assert few.splats_drawn == 500 and few.gpu_upload_ms >= 0
        full = r.draw(final, (W, H))
        assert full.splats_drawn > 500
    finally:
        fb.bind()
        r.release()


def test_hidden_layer_disappears_on_the_next_frame(gl_env) -> None:
    from viewer.renderer import SplatRenderer

    GL, fb, render_float = gl_env
    a, b = random_cloud(500, 0, seed=3), random_cloud(500, 0, seed=4)
    world = World()
    world.add_layer(Layer("a", a))
    world.add_layer(Layer("b", b, "object"))
    cam = _cams(1)[0]
    fb.bind()
    r = SplatRenderer()
    r.set_world(world)
    try:
        r.draw(cam, (W, H))
        world.set_visible(world.layers[1].id, False)  # no invalidate(): detected by the renderer
        fb.bind()
        stats = r.draw(cam, (W, H))
        GL.glFinish()
        assert stats.splats_total == 500
        np.testing.assert_allclose(fb.read_float(), render_float(a, cam), atol=2e-3)
    finally:
        fb.bind()
        r.release()


def test_big_scene_packs_off_thread_then_appears(gl_env, monkeypatch) -> None:
    import viewer.renderer as R

    GL, fb, render_float = gl_env
    monkeypatch.setattr(R, "INLINE_PACK_LIMIT", 100)
    cloud = random_cloud(2000, 1, seed=6)
    world = World()
    world.add_layer(Layer("big", cloud))
    cam = _cams(1)[0]
    fb.bind()
    r = R.SplatRenderer()
    ready = []
    r.on_sort_done = lambda: ready.append(1)
    r.set_world(world)
    try:
        first = r.draw(cam, (W, H))
        assert first.splats_total in (0, 2000)  # the frame did not wait for packing
        img = _settle(r, cam, GL, fb)
        deadline = time.time() + 20
        while r.last_stats.splats_total == 0 and time.time() < deadline:
            time.sleep(0.02)
            img = _settle(r, cam, GL, fb)
        assert ready and r.last_stats.splats_total == 2000
        np.testing.assert_allclose(img, render_float(world, cam), atol=2e-3)
    finally:
        fb.bind()
        r.release()


def test_settled_full_frame_after_a_jump_is_not_drawn_with_the_old_order(gl_env) -> None:
    """A jump (R, a bookmark) then rest: the order sorted and frustum-culled for the old view
    left the new view black until the background sort came; a settled full frame sorts."""

    GL, fb, render_float = gl_env
    a, b = random_cloud(800, 0, seed=11), random_cloud(800, 0, seed=12)
    world = World()
    world.add_layer(Layer("east", a, transform=similarity_matrix((5.0, 0.0, 0.0))))
    world.add_layer(Layer("west", b, transform=similarity_matrix((-5.0, 0.0, 0.0))))
    east = Camera.look_at((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), 50, W, H)
    west = Camera.look_at((0.0, 0.0, 0.0), (-1.0, 0.0, 0.0), 50, W, H)
    expected = render_float(world, west)
    for settled in (False, True):
        img = _drawn_after(world, east, west, GL, fb, settled)
        if settled:
            np.testing.assert_allclose(img, expected, atol=5e-3)
        else:  # unsettled (moving) frames never wait for a sort: the stale order shows
            assert np.abs(img - expected).mean() > 0.05


def test_a_wider_field_of_view_at_rest_is_not_drawn_with_the_narrower_order(gl_env) -> None:
    """Preferences > Field of view from 30° to 90° at the same pose: the order sorted and
    frustum-culled for the narrow view kept only its splats, so the settled full frame
    showed them in the middle of a black window, as full quality (a trial: the demo world
    shrunk into the middle of the view until the next step). A settled full frame sorts."""

    GL, fb, render_float = gl_env
    world = World()
    cloud = random_cloud(3000, 0, seed=5)  # a 12 m cube seen from 8 m: wider than 30°
    world.add_layer(Layer("w", cloud, transform=similarity_matrix(scale=3.0)))
    narrow = Camera.look_at((0.0, 0.0, 8.0), (0.0, 0.0, 0.0), 30, W, H)
    wide = Camera.look_at((0.0, 0.0, 8.0), (0.0, 0.0, 0.0), 90, W, H)
    expected = render_float(world, wide)
    img = _drawn_after(world, narrow, wide, GL, fb, settled=True)
    np.testing.assert_allclose(img, expected, atol=5e-3)


def test_a_step_aside_in_a_world_with_a_far_sky_resorts_by_the_near_ground(gl_env) -> None:
    """A world's sky dome hundreds of metres out sets the scene's size; measured against it
    a 1.5 m step aside was no move at all, so the still frame kept an order frustum-culled
    for the old view: near ground beside the view, culled, showed as a black wedge. Moves
    are measured against the nearest things in view (`SortResult.near`)."""
    from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
    from viewer.renderer import SplatRenderer

    GL, fb, render_float = gl_env
    rng = np.random.default_rng(5)
    g = np.stack(np.meshgrid(np.arange(-8, 8, 0.1), np.arange(-8, 8, 0.1)), -1).reshape(-1, 2)
    ground = np.stack([g[:, 0], np.zeros(len(g)), g[:, 1]], 1)
    d = rng.normal(size=(3000, 3))
    sky = 400.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    means = np.concatenate([ground, sky]).astype(np.float32)
    n = len(means)
    scales = np.concatenate([np.full((len(ground), 3), 0.07), np.full((len(sky), 3), 20.0)])
    scales[: len(ground), 1] = 0.005
    colors = np.concatenate([rng.uniform(0.3, 0.9, (len(ground), 3)), np.full((len(sky), 3), 0.6)])
    cloud = GaussianCloud(
        means,
        np.log(scales).astype(np.float32),
        np.tile([[1.0, 0.0, 0.0, 0.0]], (n, 1)).astype(np.float32),
        np.full(n, logit(np.array(0.9)), np.float32),
        rgb_to_sh0(colors).astype(np.float32),
        np.zeros((n, 0, 3), np.float32),
    )
    world = World()
    world.add_layer(Layer("world", cloud))
    start = Camera.look_at((0.0, 1.6, 0.0), (0.0, 0.0, -1.6), 70, W, H)
    aside = Camera.look_at((-1.5, 1.6, 0.0), (-1.5, 0.0, -1.6), 70, W, H)
    expected = render_float(world, aside)
    r = SplatRenderer()
    r.cpu_full = False
    r.set_world(world)
    try:
        _settle(r, start, GL, fb)
        assert r._order.near < 3.0 and r._scene_size() > 500.0
        img = _settle(r, aside, GL, fb, settled=True)
    finally:
        fb.bind()
        r.release()
    # before: a wedge in the bottom left corner (near ground the old sort culled) was
    # background, up to 0.16 off
    corner = np.s_[H * 3 // 4 :, : W // 6]
    assert np.abs(img[corner] - expected[corner]).max() < 5e-3
    np.testing.assert_allclose(img, expected, atol=5e-3)


def test_settled_full_frame_after_limited_frames_draws_every_splat(gl_env) -> None:
    """Moving frames on a sorted subset (max_splats k: the order holds the 2k most important
    splats in view), then rest at the same pose: the first full frame drew that subset
    unenlarged, as full quality (specks on black in a 1M-splat world walked before its
    coarse level was ready, until the background sort came). A settled full frame sorts."""
    from viewer.renderer import SplatRenderer

    GL, fb, render_float = gl_env
    world = World()
    cloud = random_cloud(3000, 0, seed=6)
    world.add_layer(Layer("w", cloud))
    cam = Camera.look_at((0.0, 1.0, 6.0), (0.0, 0.0, 0.0), 50, W, H)
    expected = render_float(world, cam)
    r = SplatRenderer()
    r.cpu_full = False
    r.set_world(world)
    try:
        _settle(r, cam, GL, fb, max_splats=100)
        fb.bind()
        stats = r.draw(cam, (W, H), settled=True)
        GL.glFinish()
        img = fb.read_float()
    finally:
        fb.bind()
        r.release()
    assert stats.splats_drawn > 1000
    np.testing.assert_allclose(img, expected, atol=5e-3)
