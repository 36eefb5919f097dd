"""Full-quality frames composited on the CPU (viewer/cpu_splat.py): against the independent
reference compositor (tests/reference_compositor.py), the fast exp against numpy's, and the
GL renderer choosing the CPU path for full frames only."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud
from reference_compositor import psnr, render_reference

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.world import Layer, World, similarity_matrix

W, H = 200, 150


def _cpu_frame(world: World, cam: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """(H, W, 3) float32, top row first: the world's visible layers through cpu_splat.render,
    in a back-to-front order computed here."""
    from viewer import cpu_splat
    from viewer.renderer import MAX_LAYERS, pack_world

    layers = [lay for lay in world.layers if lay.visible]
    packed = pack_world(layers)
    models = np.tile(np.eye(4, dtype=np.float32), (MAX_LAYERS, 1, 1))
    for s in packed.slots:
        models[s.slot] = s.layer.transform
    depth = np.concatenate(
        [
            (cam.world_to_camera() @ s.layer.transform)[2, :3] @ s.layer.data.means.T
            + (cam.world_to_camera() @ s.layer.transform)[2, 3]
            for s in packed.slots
        ]
    )
    order = np.argsort(-depth, kind="stable").astype(np.uint32)  # farthest first
    out = cpu_splat.render(
        order,
        packed.geom,
        packed.color,
        packed.texels,
        packed.degree,
        models,
        cam.world_to_camera(),
        cam.position,
        (cam.fx, cam.fy, cam.cx, cam.cy),
        (cam.width, cam.height),
        background,
    )
    assert out.shape == (cam.height, cam.width, 4) and out.dtype == np.float32
    return out[::-1, :, :3]


def _world(*clouds: GaussianCloud) -> World:
    world = World()
    for i, c in enumerate(clouds):
        world.add_layer(Layer(f"c{i}", c))
    return world


def _cam(eye=(0.7, 0.4, 6.0)) -> Camera:
    return Camera.look_at(eye, (0.0, 0.0, 0.0), 50.0, W, H)


@pytest.mark.parametrize("degree", [0, 3])
def test_matches_reference_compositor(degree: int) -> None:
    cloud = random_cloud(3000, degree, seed=30 + degree)
    cam = _cam()
    img = _cpu_frame(_world(cloud), cam)
    score = psnr(img, render_reference(cloud, cam))
    print(f"SH{degree}: {score:.1f} dB")
    assert score >= 50.0 and img.std() > 0.05


def test_off_centre_camera_background_and_antialiased() -> None:
    cloud = random_cloud(1500, 1, seed=3)
    cloud.scales -= 0.7
    cloud.meta["antialiased"] = True
    cam = Camera(W, H, 180.0, 170.0, 90.0, 80.0)  # principal point off centre
    pose = Camera.look_at((3.0, 2.0, 4.0), (0.2, 0.0, 0.0), 45, W, H)
    cam.R, cam.t = pose.R, pose.t
    bg = (0.2, 0.3, 0.4)
    img = _cpu_frame(_world(cloud), cam, bg)
    assert psnr(img, render_reference(cloud, cam, background=bg)) >= 50.0
    plain = cloud.copy()
    plain.meta["antialiased"] = False
    assert psnr(img, _cpu_frame(_world(plain), cam, bg)) < 45.0  # the compensation acts


def test_moved_layer_equals_the_baked_cloud() -> None:
    cloud = random_cloud(1200, 2, seed=5)
    from scene.rotations import quats_to_matrices

    rot = quats_to_matrices(np.array([[0.9, 0.1, -0.3, 0.2]]))[0]
    m = similarity_matrix(np.array([0.3, -0.2, 0.5]), scale=1.4, rotation=rot)
    world = World()
    world.add_layer(Layer("moved", cloud, transform=m))
    cam = _cam()
    moved = _cpu_frame(world, cam)
    baked = _cpu_frame(_world(cloud.transformed(m)), cam)
    assert psnr(moved, baked) >= 60.0
    assert psnr(moved, render_reference(cloud.transformed(m), cam)) >= 50.0


def test_opaque_wall_stops_pixels_early() -> None:
    """Behind a wall of opaque splats nothing shows: a bright cloud far behind leaves the
    frame as the wall alone (the pixels stopped), and the result is the reference's."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(-3, 3, (4000, 2))
    wall = GaussianCloud.from_points(
        np.c_[xy, np.zeros(len(xy))], np.full((len(xy), 3), 0.2), 0.15, 0.99
    )
    bright = GaussianCloud.from_points(
        rng.uniform(-1, 1, (500, 3)) + [0, 0, -3], np.ones((500, 3)), 0.2, 0.99
    )
    cam = _cam(eye=(0.0, 0.0, 4.0))
    alone = _cpu_frame(_world(wall), cam)
    both = _cpu_frame(_world(wall, bright), cam)
    assert np.abs(both - alone).max() < 2e-3
    assert psnr(both, render_reference(GaussianCloud.concatenate([wall, bright]), cam)) >= 45.0


def test_fast_exp_matches_numpy() -> None:
    from viewer.cpu_splat import _exp_neg

    x = np.linspace(-8.0, 0.0, 4001, dtype=np.float32)
    got = np.array([_exp_neg(np.float32(v)) for v in x])
    ref = np.exp(x.astype(np.float64))
    assert np.abs(got - ref).max() < 5e-7  # alpha to well under 1/255 of a level
    assert (np.abs(got - ref) / ref)[x > -3].max() < 1e-5
    assert _exp_neg(np.float32(-20.0)) == _exp_neg(np.float32(-8.0))  # clamped


@pytest.mark.gl
def test_renderer_uses_the_cpu_for_full_frames_only(x_display) -> None:  # noqa: ANN001
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from viewer.renderer import SplatRenderer

    world = _world(random_cloud(2000, 3, seed=1), random_cloud(500, 0, seed=2))
    world.layers[1].transform = similarity_matrix((0.5, 0.0, 0.0), 0.4, 0.8)
    cam = _cam()
    fb = Framebuffer(W, H)
    frames, stats = {}, {}
    try:
        for cpu in (True, False):
            r = SplatRenderer(sync_sort=True)
            r.cpu_full = cpu
            r.set_world(world)
            fb.bind()
            stats[cpu] = r.draw(cam, (W, H), background=(0.1, 0.2, 0.3))
            frames[cpu] = fb.read_float()
            fb.bind()
            assert r.draw(cam, (W, H), max_splats=800).cpu_ms == 0.0  # limited: GL
            r.release()
    finally:
        fb.release()
    assert stats[True].cpu_ms > 0.0 and stats[False].cpu_ms == 0.0
    assert stats[True].splats_drawn == stats[False].splats_drawn == 2500
    assert psnr(frames[True], frames[False]) >= 50.0


@pytest.mark.gl
def test_busy_or_failing_cpu_kernels_leave_the_frame_to_gl(x_display, monkeypatch) -> None:  # noqa: ANN001
    """While a reconstruction optimises (it holds the numba pool's lock) full frames are
    GL's, the same picture; a CPU frame that raises is logged and GL draws from then on."""
    from generators.splat_cpu import KERNEL_LOCK
    from viewer import cpu_splat
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from viewer.renderer import SplatRenderer

    world = _world(random_cloud(1500, 1, seed=4))
    cam = _cam()
    fb = Framebuffer(W, H)
    r = SplatRenderer(sync_sort=True)
    r.cpu_full = True
    r.set_world(world)
    try:
        fb.bind()
        assert r.draw(cam, (W, H)).cpu_ms > 0.0
        cpu = fb.read_float()
        with KERNEL_LOCK:
            fb.bind()
            assert r.draw(cam, (W, H)).cpu_ms == 0.0
            assert psnr(fb.read_float(), cpu) >= 50.0

        def broken(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
            raise MemoryError("no room for the tile lists")

        monkeypatch.setattr(cpu_splat, "render", broken)
        for _ in range(2):
            fb.bind()
            assert r.draw(cam, (W, H)).cpu_ms == 0.0
            assert psnr(fb.read_float(), cpu) >= 50.0
        assert r._cpu.failed
    finally:
        r.release()
        fb.release()


@pytest.mark.gl
@pytest.mark.parametrize("env,cpu", [("0", False), ("1", True)])
def test_environment_chooses_the_path(x_display, monkeypatch, env: str, cpu: bool) -> None:  # noqa: ANN001
    from viewer.offscreen import Framebuffer, offscreen_context

    monkeypatch.setenv("WANDER_CPU_FRAMES", env)
    ctx = offscreen_context()
    ctx.make_current()
    from viewer.renderer import SplatRenderer

    fb = Framebuffer(W, H)
    r = SplatRenderer(sync_sort=True)  # cpu_full None: the default decides
    r.set_world(_world(random_cloud(300, 0, seed=9)))
    try:
        fb.bind()
        assert (r.draw(_cam(), (W, H)).cpu_ms > 0.0) is cpu
    finally:
        r.release()
        fb.release()
