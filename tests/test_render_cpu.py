"""Frames composited on the CPU (viewer/cpu_splat.py): against the independent reference
compositor (tests/reference_compositor.py), the fast exp against numpy's, a coarse level's
payloads beside the full set's, the depth a reprojected frame needs, and the GL renderer
choosing the CPU path for full frames and moving frames' cuts only."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud
from reference_compositor import psnr, render_reference

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.world import Layer, World, similarity_matrix

W, H = 200, 150


def _pack_and_order(world: World, cam: Camera):  # noqa: ANN202
    """(packed payloads, (MAX_LAYERS, 4, 4) models, back-to-front order of every splat)."""
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
    return packed, models, np.argsort(-depth, kind="stable").astype(np.uint32)  # farthest first


def _render(packed, models, order, cam: Camera, **kw) -> np.ndarray:  # noqa: ANN001
    from viewer import cpu_splat

    return cpu_splat.render(
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
        **kw,
    )


def _cpu_frame(world: World, cam: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """(H, W, 3) float32, top row first: the world's visible layers through cpu_splat.render,
    in a back-to-front order computed here."""
    packed, models, order = _pack_and_order(world, cam)
    out = _render(packed, models, order, cam, background=background)
    assert out.shape == (cam.height, cam.width, 4) and out.dtype == np.float32
    return out[::-1, :, :3]


def _world(*clouds: GaussianCloud) -> World:
    world = World()
    for i, c in enumerate(clouds):
        world.add_layer(Layer(f"c{i}", c))
    return world


def _renderer(world: World, cpu: bool):  # noqa: ANN202 - viewer.renderer.SplatRenderer
    """A renderer of `world` with exact sorts, its frames composited on the CPU or by GL
    (`cpu_full`); a GL context must be current."""
    from viewer.renderer import SplatRenderer

    r = SplatRenderer(sync_sort=True)
    r.cpu_full = cpu
    r.set_world(world)
    return r


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
    # alpha (at most 0.99) off by under a twentieth of an 8-bit level
    assert (np.abs(got - ref) / ref).max() < 1.4e-4
    assert np.abs(got - ref).max() * 255 < 0.05
    assert _exp_neg(np.float32(-20.0)) == _exp_neg(np.float32(-8.0))  # clamped


def test_coarse_payloads_and_a_few_splats_draw_as_one_payload() -> None:
    """A moving frame's cut reads splats i >= split from the coarse level's own payloads and
    takes its few splats front to back: the same pixels as one payload holding them all,
    read in memory order."""
    fine, coarse = random_cloud(2000, 2, seed=11), random_cloud(600, 2, seed=12)
    cam = _cam()
    both, models, order = _pack_and_order(_world(fine, coarse), cam)
    pf, _, _ = _pack_and_order(_world(fine), cam)
    pc, _, _ = _pack_and_order(_world(coarse), cam)
    whole = _render(both, models, order, cam)
    two = _render(pf, models, order, cam, coarse=(pc.geom, pc.color, 2000))
    assert whole.std() > 0.05
    np.testing.assert_allclose(two, whole, atol=1e-5)
    few = order[::9]  # 289 of 2600 splats: read front to back
    assert 4 * len(few) < len(order)
    alone, _, few_order = _pack_and_order(
        _world(fine.subset(few[few < 2000]), coarse.subset(few[few >= 2000] - 2000)), cam
    )
    np.testing.assert_allclose(
        _render(pf, models, few, cam, coarse=(pc.geom, pc.color, 2000)),
        _render(alone, models, few_order, cam),
        atol=1e-5,
    )
    # the same cut read in memory order, each splat told its place front to back
    mem = np.sort(few).astype(np.int64)
    place = {int(i): len(few) - 1 - k for k, i in enumerate(few)}
    ranks = np.array([place[int(i)] for i in mem])
    np.testing.assert_array_equal(
        _render(pf, models, mem, cam, coarse=(pc.geom, pc.color, 2000), ranks=ranks),
        _render(pf, models, few, cam, coarse=(pc.geom, pc.color, 2000)),
    )
    with pytest.raises(ValueError, match="ranks"):
        _render(pf, models, mem, cam, coarse=(pc.geom, pc.color, 2000), ranks=ranks[1:])


def test_depth_output_is_the_expected_inverse_depth() -> None:
    """`depth` gets (sum of w / z, sum of w) per pixel: one opaque wall at z = 4 reads 1/4 and
    full coverage; a half-transparent white wall in front at z = 2 (its weight: the frame's
    brightness there, over black) pulls it towards 1/2 by that weight; outside, 0."""
    from scene.gaussians import logit, rgb_to_sh0

    def wall(z: float, opacity: float, white: bool = False) -> GaussianCloud:
        g = np.stack(np.meshgrid(np.linspace(-1, 1, 21), np.linspace(-1, 1, 21)), -1)
        n = g.shape[0] * g.shape[1]
        means = np.concatenate([g.reshape(-1, 2), np.full((n, 1), -z)], 1).astype(np.float32)
        return GaussianCloud(
            means,
            np.log(np.tile([[0.08, 0.08, 0.01]], (n, 1))).astype(np.float32),
            np.tile([[1.0, 0.0, 0.0, 0.0]], (n, 1)).astype(np.float32),
            np.full(n, logit(np.array(opacity)), np.float32),
            np.tile(rgb_to_sh0(np.full(3, float(white))), (n, 1)).astype(np.float32),
            np.zeros((n, 0, 3), np.float32),
        )

    cam = Camera.look_at((0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 40.0, 64, 48)
    for front in (False, True):
        world = _world(wall(4.0, 0.99), wall(2.0, 0.5, True)) if front else _world(wall(4.0, 0.99))
        packed, models, order = _pack_and_order(world, cam)
        depth = np.full((48, 64, 2), np.nan, np.float32)
        img = _render(packed, models, order, cam, depth=depth)[::-1]
        w_front = float(img[24, 32, 0]) if front else 0.0
        sw, swz = depth[24, 32, 1], depth[24, 32, 0]
        assert sw == pytest.approx(1.0, abs=1e-3)
        assert (0.5 <= w_front < 0.99) if front else w_front == 0.0
        assert swz == pytest.approx(w_front / 2 + (sw - w_front) / 4, rel=1e-4)
        assert not np.isnan(depth).any()
    wide = Camera.look_at((0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 120.0, 64, 48)
    depth = np.empty((48, 64, 2), np.float32)
    _render(*_pack_and_order(_world(wall(4.0, 0.99)), wide), wide, depth=depth)
    assert depth[0, 0].tolist() == [0.0, 0.0]  # outside the wall
    with pytest.raises(ValueError, match="depth must be"):
        _render(packed, models, order, cam, depth=np.empty((48, 63, 2), np.float32))


def _noise_wall(n: int = 40000, seed: int = 3) -> GaussianCloud:
    """A 4x3 m wall at z = 0 of n flat discs (radius ~1.2 cm, opacity 0.9) with independent
    random colours: detail at the size of one splat, as bench/render.py's room."""
    from scene.gaussians import logit, rgb_to_sh0

    rng = np.random.default_rng(seed)
    xy = rng.uniform([-2.0, -1.5], [2.0, 1.5], (n, 2))
    return GaussianCloud(
        means=np.c_[xy, np.zeros(n)],
        scales=np.log(np.c_[np.full((n, 2), 0.012), np.full(n, 0.001)]),
        quats=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)).astype(np.float32),
        opacities=np.full(n, logit(np.float32(0.9))),
        sh0=rgb_to_sh0(rng.uniform(0.0, 1.0, (n, 3))),
        shN=np.zeros((n, 0, 3)),
    )


def test_reduced_frame_is_the_full_frame_downsampled() -> None:
    """A frame drawn at part of the size of the one it stands for (a moving frame) keeps the
    full frame's low-pass (scene.splatting.reduced_lowpass): it matches the full frame
    downsampled by area. The 0.3 px² of its own pixels, as before, spread every splat over
    0.3 / scale² full-frame px² at full opacity: measured 41.9 / 27.4 dB at half size,
    32.7 / 20.3 dB at a quarter."""
    import cv2

    from scene.splatting import LOWPASS, reduced_lowpass

    world = _world(_noise_wall())
    full = Camera.look_at((0.3, 0.2, 3.0), (0.0, 0.0, 0.0), 50.0, 480, 360)
    packed, models, order = _pack_and_order(world, full)
    ref = _render(packed, models, order, full)[::-1, :, :3]
    for scale, floor in ((0.5, 38.0), (0.25, 30.0)):
        small = full.resized(int(480 * scale), int(360 * scale))
        down = cv2.resize(ref, (small.width, small.height), interpolation=cv2.INTER_AREA)
        new = psnr(_render(packed, models, order, small, scale=scale)[::-1, :, :3], down)
        old = psnr(_render(packed, models, order, small)[::-1, :, :3], down)
        assert new > floor and new > old + 8.0, (scale, new, old)
    assert reduced_lowpass(1.0) == reduced_lowpass(2.0) == (LOWPASS, 0.0)
    with pytest.raises(ValueError, match="positive"):
        reduced_lowpass(0.0)


@pytest.mark.gl
def test_gl_reduced_frame_has_the_cpu_frames_lowpass(x_display) -> None:  # noqa: ANN001
    """The GL path's reduced frame (prep.frag's u_lowpass) is the CPU path's: the renderer
    asked for a frame smaller than its camera draws the same picture either way, and not
    the picture of a full frame's low-pass at that size."""
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()

    world = _world(_noise_wall(20000))
    full = Camera.look_at((0.3, 0.2, 3.0), (0.0, 0.0, 0.0), 50.0, 480, 360)
    w, h = 120, 90
    fb = Framebuffer(w, h)
    frames = {}
    try:
        for cpu in (True, False):
            r = _renderer(world, cpu)
            fb.bind()
            assert (r.draw(full, (w, h)).cpu_ms > 0.0) == cpu
            frames[cpu] = fb.read_float()[..., :3]
            r.release()
    finally:
        fb.release()
    packed, models, order = _pack_and_order(world, full)
    small = full.resized(w, h)
    own = _render(packed, models, order, small)[::-1, :, :3]  # this size's own low-pass
    assert psnr(frames[True], frames[False]) > 40.0
    assert psnr(frames[False], own) < psnr(frames[False], frames[True]) - 8.0


@pytest.mark.gl
def test_renderer_draws_full_and_limited_frames_on_the_cpu(x_display) -> None:  # noqa: ANN001
    """Full frames and limited ones (a subset of the splats, grown to cover for the rest:
    a moving frame of a scene without a coarse level) are composited on the CPU with GL's
    picture; a frame with a mesh in it stays with GL (its depth test)."""
    from scene.mesh import Mesh
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()

    world = _world(random_cloud(2000, 3, seed=1), random_cloud(500, 0, seed=2))
    world.layers[1].transform = similarity_matrix((0.5, 0.0, 0.0), 0.4, 0.8)
    cam = _cam()
    fb = Framebuffer(W, H)
    frames, stats = {}, {}
    try:
        for cpu in (True, False):
            r = _renderer(world, cpu)
            for k in (None, 800):
                fb.bind()
                stats[cpu, k] = r.draw(cam, (W, H), max_splats=k, background=(0.1, 0.2, 0.3))
                frames[cpu, k] = fb.read_float()
            assert r._grow > 1.2  # the limited frame grew its splats
            r.release()
    finally:
        fb.release()
    for k, drawn, db in ((None, 2500, 50.0), (800, 800, 45.0)):
        assert stats[True, k].cpu_ms > 0.0 and stats[False, k].cpu_ms == 0.0
        assert stats[True, k].splats_drawn == stats[False, k].splats_drawn == drawn
        assert psnr(frames[True, k], frames[False, k]) >= db
    assert psnr(frames[True, 800], frames[True, None]) < 40.0  # a different picture
    mesh = Mesh(
        np.array([[-1, -1, 0], [1, -1, 0], [0, 1, 0]], np.float32),
        np.array([[0, 1, 2]], np.int32),
    )
    world.add_layer(Layer("tri", mesh))
    fb = Framebuffer(W, H)
    r = _renderer(world, True)
    try:
        fb.bind()
        drawn = r.draw(cam, (W, H))
        assert drawn.triangles == 1 and drawn.cpu_ms == 0.0
    finally:
        r.release()
        fb.release()


@pytest.mark.gl
def test_busy_or_failing_cpu_kernels_leave_the_frame_to_gl(x_display, monkeypatch) -> None:  # noqa: ANN001
    """While a reconstruction optimises (it holds the numba pool's lock) full frames are
    GL's, the same picture; a CPU frame that raises is logged and GL draws from then on."""
    from generators.splat_cpu import KERNEL_LOCK
    from viewer import cpu_splat
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()

    world = _world(random_cloud(1500, 1, seed=4))
    cam = _cam()
    fb = Framebuffer(W, H)
    r = _renderer(world, True)
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


def _two_target_fbo(w: int, h: int) -> tuple[int, list[int], int]:
    """A framebuffer as viewer/reproject.py's moving target, with a float colour attachment
    (RGBA32F: no rounding to compare) and the RG16F depth one; (fbo, textures, depth rb)."""
    from OpenGL import GL

    from viewer.gl_util import attach_framebuffer, texture_2d

    color, second = (int(t) for t in GL.glGenTextures(2))
    texture_2d(color, GL.GL_RGBA32F, w, h, GL.GL_FLOAT, GL.GL_NEAREST)
    texture_2d(second, GL.GL_RG16F, w, h, GL.GL_FLOAT, GL.GL_NEAREST)
    rb = int(GL.glGenRenderbuffers(1))
    GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
    GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, w, h)
    fbo = int(GL.glGenFramebuffers(1))
    attach_framebuffer(fbo, color, rb, second)
    return fbo, [color, second], rb


def _read_attachment(fbo: int, k: int, w: int, h: int) -> np.ndarray:
    from OpenGL import GL

    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo)
    GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0 + k)
    raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_FLOAT)
    return np.frombuffer(raw, np.float32).reshape(h, w, 4).copy()


@pytest.mark.gl
def test_moving_frames_cut_through_the_coarse_level_on_the_cpu(x_display, monkeypatch) -> None:  # noqa: ANN001
    """A moving frame (max_splats) drawn as a cut through the coarse level, fine splats and
    merged ones, is composited on the CPU where full frames are: GL's picture of the same
    cut, and in a draw(with_depth=True) GL's (sum of w / z, sum of w) in the second
    attachment, which viewer/reproject.py tests the kept frame against."""
    import functools
    import time

    from OpenGL import GL

    from viewer import renderer as R
    from viewer.offscreen import offscreen_context

    monkeypatch.setattr(R, "pack_lod", functools.partial(R.pack_lod, target=1500))
    monkeypatch.setattr(R, "LOD_MIN_SPLATS", 5000)
    ctx = offscreen_context()
    ctx.make_current()
    world = _world(random_cloud(8000, 1, seed=21))
    cam = _cam()
    fbo, textures, rb = _two_target_fbo(W, H)
    frames, depths, stats = {}, {}, {}
    try:
        for cpu in (True, False):
            r = R.SplatRenderer()  # as the viewport's: sorts in the background
            r.cpu_full = cpu
            r.set_world(world)
            for _ in range(2000):  # the first frame with splats queues the coarse level
                GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
                if r.draw(cam, (W, H)).splats_drawn:
                    break
                time.sleep(0.005)
            r.frame_shown()
            r._lod_job.result(timeout=120)
            if cpu:
                assert r._cpu.ready.wait(120)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
            stats[cpu] = r.draw(cam, (W, H), max_splats=4000, with_depth=True)
            frames[cpu] = _read_attachment(fbo, 0, W, H)[..., :3]
            depths[cpu] = _read_attachment(fbo, 1, W, H)[..., :2]
            assert r._lod is not None and r._lod.n_roots < 3000
            if cpu:
                # a job's kernels hold numba's pool (its lock): the cut is ordered by the
                # numpy twin and GL draws it, without waiting (the compiled ordering runs
                # on that pool too)
                from generators.splat_cpu import KERNEL_LOCK

                with KERNEL_LOCK:
                    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
                    stats["busy"] = r.draw(cam, (W, H), max_splats=4000, with_depth=True)
                    frames["busy"] = _read_attachment(fbo, 0, W, H)[..., :3]
            r.release()
    finally:
        GL.glDeleteFramebuffers(1, [fbo])
        GL.glDeleteTextures(2, textures)
        GL.glDeleteRenderbuffers(1, [rb])
    assert stats[True].cpu_ms > 0.0 and stats[False].cpu_ms == 0.0
    assert 3000 < stats[True].splats_drawn == stats[False].splats_drawn <= 4000
    assert stats["busy"].cpu_ms == 0.0 and stats["busy"].splats_drawn == stats[False].splats_drawn
    assert psnr(frames["busy"], frames[False]) >= 45.0
    assert frames[True].std() > 0.05
    assert psnr(frames[True], frames[False]) >= 45.0
    cover = depths[False][..., 1]
    assert cover.max() > 0.9 and (cover < 0.01).any()
    # a few pixels differ where a footprint's 1/255 edge falls between the two
    assert np.quantile(np.abs(depths[True][..., 1] - cover), 0.999) < 0.01
    seen = cover > 0.5
    z_cpu = depths[True][..., 0][seen] / depths[True][..., 1][seen]
    z_gl = depths[False][..., 0][seen] / cover[seen]
    assert np.quantile(np.abs(z_cpu / z_gl - 1.0), 0.999) < 0.01


def test_tile_lists_keep_the_splats_front_to_back_order() -> None:
    """The binning, split over numba's threads, lists each tile's splats as one loop would."""
    from viewer.cpu_splat import ATTR, BOX_X0, BOX_X1, BOX_Y0, BOX_Y1, TILE, _bin_tiles

    rng = np.random.default_rng(3)
    n, tw, th = 3001, 9, 7
    x0 = rng.integers(0, tw * TILE, n)
    y0 = rng.integers(0, th * TILE, n)
    box = np.stack(
        [
            x0,
            np.minimum(x0 + rng.integers(0, 40, n), tw * TILE - 1),
            y0,
            np.minimum(y0 + rng.integers(0, 40, n), th * TILE - 1),
        ],
        1,
    ).astype(np.int32)
    box[::7, 1] = box[::7, 0] - 1  # culled
    lists: list[list[int]] = [[] for _ in range(tw * th)]
    for j, (a, b, c, d) in enumerate(box):
        if b < a:
            continue
        for ty in range(c // TILE, d // TILE + 1):
            for tx in range(a // TILE, b // TILE + 1):
                lists[ty * tw + tx].append(j)
    attr = np.zeros((n, ATTR), np.float32)
    attr[:, [BOX_X0, BOX_X1, BOX_Y0, BOX_Y1]] = box
    for shares in (1, 2, 3):
        offsets, ids = _bin_tiles(attr, tw, th, shares)
        assert offsets[-1] == len(ids) == sum(map(len, lists))
        for t in range(tw * th):
            assert ids[offsets[t] : offsets[t + 1]].tolist() == lists[t]


@pytest.mark.parametrize("degree", [0, 2])
def test_a_cut_read_from_voxel_ordered_payloads_draws_the_same_frame(
    degree: int,
    monkeypatch,  # noqa: ANN001
) -> None:
    """pack_lod(voxel_order=True) copies the full set's payloads in the order of the
    coarse level's children lists; a moving frame's cut, read from that copy by voxel
    places, composites exactly what the same cut read from the packed payloads by full-set
    indices does (two layers, one moved, SH `degree`)."""
    from viewer.cut_order import cut_order
    from viewer.renderer import pack_lod

    world = _world(random_cloud(9000, degree, seed=5), random_cloud(7000, degree, seed=6))
    world.layers[1].transform = similarity_matrix(np.array([0.0, 0.3, 0.0]), 1.2, (0.4, 0.0, 0.2))
    cam = _cam()
    packed, models, _ = _pack_and_order(world, cam)
    lod = pack_lod(packed, target=1500, voxel_order=True)
    plain = pack_lod(packed, target=1500)
    assert plain.fine_geom is None and lod.fine_geom is not None
    import viewer.renderer as R

    monkeypatch.setattr(R, "VOXEL_COPY_MAX", len(packed.means) * 50)  # too big to copy
    assert pack_lod(packed, target=1500, voxel_order=True).fine_geom is None
    monkeypatch.undo()
    n = len(packed.means)
    view = cam.world_to_camera()
    rows = [(view @ models[s.slot])[2].astype(np.float32) for s in packed.slots]
    layers = [(s.start, s.stop, r[:3], float(r[3])) for s, r in zip(packed.slots, rows)]
    m = len(lod.means)
    slot_of = np.empty(m, np.int64)  # each merged splat's layer
    for i, a, b in [*lod.ranges, *lod.mid_ranges]:  # top and middle levels
        slot_of[a:b] = i
    keep_all = np.arange(m)
    depth = np.array([lod.means[j] @ rows[slot_of[j]][:3] + rows[slot_of[j]][3] for j in keep_all])
    expand = np.flatnonzero(np.arange(m) % 3 == 0)  # a third of the voxels expanded
    keep = np.setdiff1d(keep_all[depth > 0.2], expand)
    args = (expand, lod.child_start, lod.children, packed.means, layers, 0.2, keep, depth[keep], n)
    order_v, place, rank_v = cut_order(*args, lod.fine_means)
    order_m, index, rank_m = cut_order(*args)
    assert np.array_equal(order_v, order_m)
    fine = place < n
    assert np.all(np.diff(place[fine]) > 0) and fine.sum() > 3000
    assert np.array_equal(np.sort(lod.children[place[fine]]), index[index < n])

    def frame(geom, color, src, ranks) -> np.ndarray:  # noqa: ANN001
        from viewer import cpu_splat

        return cpu_splat.render(
            src, geom, color, packed.texels, packed.degree, models, view, cam.position,
            (cam.fx, cam.fy, cam.cx, cam.cy), (W, H), coarse=(lod.geom, lod.color, n),
            ranks=ranks,
        )  # fmt: skip

    by_place = frame(lod.fine_geom, lod.fine_color, place, rank_v)
    by_index = frame(packed.geom, packed.color, index, rank_m)
    assert by_place[..., :3].std() > 0.02
    np.testing.assert_array_equal(by_place, by_index)


@pytest.mark.gl
def test_a_reduced_cpu_frame_is_scaled_up_bicubically(x_display) -> None:  # noqa: ANN001
    """A moving frame drawn small on the CPU and shown scaled up (`reproject.draw_scaled`)
    is resized on the CPU (`_CpuFrames.present`) instead of by a linear glBlitFramebuffer
    (~7 ms at 1280x720 on llvmpipe), bicubically: the small frame drawn into its 8-bit
    framebuffer and scaled up by cv2's INTER_CUBIC, to a rounding (a linear blit of it is
    further off); a GL frame still goes through GL's blit. So is a framebuffer's colour
    (`present_framebuffer`)."""
    import cv2
    from OpenGL import GL

    from viewer import reproject
    from viewer.offscreen import Framebuffer, offscreen_context

    ctx = offscreen_context()
    ctx.make_current()

    world = _world(random_cloud(4000, 1, seed=12))
    cam = _cam()
    big = Framebuffer(W, H, GL.GL_RGBA8)
    smalls: dict = {}

    def small_fbo(w: int, h: int) -> int:
        if (w, h) not in smalls:
            smalls[w, h] = Framebuffer(w, h, GL.GL_RGBA8)
        return smalls[w, h].fbo

    def cubic(fb: int, sw: int, sh: int) -> np.ndarray:
        """Framebuffer fb's colour scaled up to W x H by cv2 (INTER_CUBIC), top row first."""
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fb)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        raw = GL.glReadPixels(0, 0, sw, sh, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        small = np.frombuffer(raw, np.uint8).reshape(sh, sw, 4)
        up = cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)
        return up[::-1, :, :3].astype(np.float32) / 255.0

    frames = {}
    sw, sh = int(W * 0.4), int(H * 0.4)
    try:
        for cpu in (True, False):
            r = _renderer(world, cpu)
            try:
                stats = reproject.draw_scaled(r, None, cam, 0.4, None, big.fbo, small_fbo)
                assert (stats.cpu_ms > 0.0) == cpu and (r._cpu is not None) == cpu
                if cpu:  # scaled up from memory, not from its framebuffer
                    assert r._cpu.last == (sw, sh)
                frames[cpu, "scaled"] = big.read_float()
                if cpu:  # the same small frame drawn into its framebuffer, scaled up
                    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, small_fbo(sw, sh))
                    r.draw(cam, (sw, sh))
                    frames[cpu, "cubic"] = cubic(small_fbo(sw, sh), sw, sh)
                    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, small_fbo(sw, sh))
                    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, big.fbo)
                    GL.glBlitFramebuffer(
                        0, 0, sw, sh, 0, 0, W, H, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR
                    )
                    frames[cpu, "blit"] = big.read_float()
            finally:
                r.release()
    finally:
        for fb in smalls.values():
            fb.release()
    diff = np.abs(frames[True, "scaled"] - frames[True, "cubic"])
    assert diff.max() <= 2.5 / 255 and diff.mean() < 0.3 / 255
    # bicubic, not linear: the linear blit is further off than a rounding
    assert np.abs(frames[True, "scaled"] - frames[True, "blit"]).mean() > 2 * diff.mean()
    assert frames[True, "scaled"].std() > 0.05  # a picture, not a cleared frame
    assert psnr(frames[False, "scaled"], frames[True, "scaled"]) > 30.0  # GL's own blit
    # a framebuffer's colour scaled up on the CPU (a moving frame with the kept frame
    # reprojected over it): bicubic too
    r = _renderer(world, True)
    src = Framebuffer(W // 2, H // 2, GL.GL_RGBA8)
    try:
        src.bind()
        r.draw(cam, (W // 2, H // 2))
        big.bind()
        assert r.present_framebuffer(src.fbo, W // 2, H // 2, W, H) is not None
        cpu_up = big.read_float()
        ref_up = cubic(src.fbo, W // 2, H // 2)
    finally:
        r.release()
        src.release()
        big.release()
    diff = np.abs(cpu_up - ref_up)
    assert diff.max() <= 2.5 / 255 and diff.mean() < 0.3 / 255 and cpu_up.std() > 0.05
