"""Moving frames that reuse the last still frame: the warp mesh (numpy) and the GL path
(expected depth, reprojection from a turned camera, staleness)."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest

from scene.camera import Camera


def _grid_camera(gw: int = 40, gh: int = 30) -> Camera:
    return Camera.look_at((0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 60, gw, gh)


def _depth_of_plane(cam: Camera, normal: np.ndarray, offset: float) -> np.ndarray:
    """(gh, gw) depth along the view axis of the plane n·x = offset at each texel centre."""
    rays = cam.pixel_rays()  # unit, world
    fwd = cam.R[2]
    t = offset / (rays @ normal)
    t = np.where(t > 0, t, np.inf)
    return t * (rays @ fwd)


def test_warp_mesh_points_project_back_to_their_texels() -> None:
    from viewer.reproject import warp_mesh

    cam = _grid_camera()
    depth = np.full((30, 40), 4.0)
    points, uv, index, n_kept = warp_mesh(1.0 / depth, np.ones_like(depth), cam)
    assert n_kept == index.size
    assert points.shape == (1200, 3) and uv.shape == (1200, 2)
    assert index.size == 6 * 39 * 29  # a plane keeps every triangle
    np.testing.assert_allclose(points[:, 2], 4.0, rtol=1e-6)
    # the points are in the camera's space: into the world and back through the camera
    world = (points - cam.t) @ cam.R
    px, z = cam.project(world)
    ys, xs = np.mgrid[0:30, 0:40]
    want_x, want_y = xs + 0.5, ys + 0.5  # texel centres, the border ring on the border
    want_x[:, 0], want_x[:, -1], want_y[0], want_y[-1] = 0, 40, 0, 30
    np.testing.assert_allclose(px[:, 0], want_x.ravel(), atol=1e-3)
    np.testing.assert_allclose(px[:, 1], want_y.ravel(), atol=1e-3)
    # colour coordinates: the same places, bottom row first (as GL reads the frame)
    np.testing.assert_allclose(uv[0], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(uv[41], [1.5 / 40, 1 - 1.5 / 30], atol=1e-6)


def test_warp_mesh_cuts_only_across_depth_edges() -> None:
    """A box 2 m away in front of a wall 5 m away: the triangles that bridge the box's
    outline go, the box and the wall keep theirs; a ground plane seen at a grazing angle
    (depth changing fast from row to row, but planar) loses nothing, nor does a crease
    where it meets a wall."""
    from viewer.reproject import grid_triangles, warp_mesh

    cam = _grid_camera()
    depth = np.full((30, 40), 5.0)
    depth[10:20, 12:28] = 2.0
    _, _, index, n_kept = warp_mesh(1.0 / depth, np.ones_like(depth), cam)
    assert index.size == 6 * 39 * 29  # every triangle, the kept ones first
    tri = index[:n_kept].reshape(-1, 3)
    all_tri = grid_triangles(40, 30).reshape(-1, 3)
    d = depth.ravel()
    bridging = d[all_tri].max(1) > 1.5 * d[all_tri].min(1)
    kept = {tuple(t) for t in tri}
    assert not any(tuple(t) in kept for t in all_tri[bridging])
    assert len(tri) == int((~bridging).sum())  # nothing else dropped

    # the ground at 0.5 degrees per grid row (8 px rows at a 1280 x 720, 70-degree view)
    cam = _grid_camera(160, 120)
    ground = _depth_of_plane(cam, np.array([0.0, 1.0, 0.0]), -1.6)  # y = -1.6 m
    below = np.isfinite(ground)
    acc = np.where(below, 1.0, 0.0)  # above the horizon: nothing drawn (background)
    sum_wz = np.where(below, 1.0 / ground, 0.0)
    _, _, index, n_kept = warp_mesh(sum_wz, acc, cam)
    tri = index[:n_kept].reshape(-1, 3)
    rows = tri // 160
    first = np.nonzero(below.all(1))[0].min()
    full = grid_triangles(160, 120).reshape(-1, 3)
    # all but a band within ~2 degrees of the horizon (depths there 40-180 m, 25 % apart
    # from row to row)
    want = full[(full // 160).min(1) >= first + 4]
    assert {tuple(t) for t in want} <= {tuple(t) for t in tri}
    # the background above the horizon is kept too (drawn far away), never joined to it
    assert not ((rows.min(1) < first) & (rows.max(1) >= first)).any()
    assert ((rows.max(1) < first).sum()) == 2 * 159 * (first - 1)

    wall = _depth_of_plane(cam, np.array([0.0, 0.0, 1.0]), -3.0)  # z = -3 m: 3 m ahead
    room = np.minimum(np.where(below, ground, np.inf), wall)
    _, _, index, n_kept = warp_mesh(1.0 / room, np.ones_like(room), cam)
    assert n_kept == 6 * 159 * 119  # the crease where they meet is not an edge


@pytest.fixture
def gl_fb(x_display):  # noqa: ANN001
    from OpenGL import GL

    from viewer import offscreen

    ctx = offscreen.offscreen_context()
    ctx.make_current()
    fb = offscreen.Framebuffer(240, 160, GL.GL_RGBA8)
    fb.bind()
    yield fb
    fb.release()


def _room():
    from test_app_window import small_room

    return small_room(wall_z=-2.5)


def _magenta(img: np.ndarray) -> np.ndarray:
    return (img[..., 0] == 255) & (img[..., 1] == 0) & (img[..., 2] == 255)


def _grow(mask: np.ndarray, n: int) -> np.ndarray:
    out = mask.copy()
    for _ in range(n):
        grown = out.copy()
        grown[1:] |= out[:-1]
        grown[:-1] |= out[1:]
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out


def _read(fb) -> np.ndarray:  # noqa: ANN001
    from OpenGL import GL

    GL.glFinish()
    return (np.clip(fb.read_float(), 0, 1) * 255).round().astype(np.uint8)


@pytest.mark.gl
def test_expected_depth_of_a_wall(gl_fb) -> None:  # noqa: ANN001
    """draw_depth gives (sum of w / depth, ., ., sum of w): the wall's inverse distance
    along the view axis where it covers the frame, nothing around it."""
    from OpenGL import GL
    from test_render_lod import _wall

    from scene.world import Layer, World
    from viewer.offscreen import Framebuffer
    from viewer.renderer import SplatRenderer

    world = World()
    world.add_layer(Layer("wall", _wall(20_000)))
    cam = Camera.look_at((0.3, 0.2, 3.0), (0.3, 0.2, 0.0), 60, 240, 160)
    fb = Framebuffer(240, 160)  # RGBA32F
    fb.bind()
    r = SplatRenderer(sync_sort=True)
    r.set_world(world)
    try:
        r.draw(cam, (240, 160))  # as in the app: the depth of a frame already drawn
        stats = r.draw_depth(cam, (240, 160))
        GL.glFinish()
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fb.fbo)
        raw = GL.glReadPixels(0, 0, 240, 160, GL.GL_RGBA, GL.GL_FLOAT)
    finally:
        r.release()
        fb.release()
        gl_fb.bind()
    acc = np.frombuffer(raw, np.float32).reshape(160, 240, 4)[::-1]
    assert stats.splats_drawn > 0 and stats.triangles == 0
    wall = acc[..., 3] > 0.5
    assert 0.15 < wall.mean() < 0.5  # the 2 m wall 3 m away, in a 60-degree view
    np.testing.assert_allclose(acc[..., 3][wall] / acc[..., 0][wall], 3.0, rtol=1e-3)
    assert acc[:, :5, 3].max() < 0.01  # left of the wall (x < -1 m): nothing


@pytest.mark.gl
def test_a_mesh_is_in_the_depth_at_its_own_distance(gl_fb) -> None:  # noqa: ANN001
    """An object inserted as a mesh (a trial's chair): the depth pass left it out, so a
    frame with a mesh could not be kept for reprojection, and walking showed the bare
    low-resolution moving frame (a dotted grid at 20 %). The mesh is an opaque surface at
    its own depth now (splats behind it hidden), the still frame is kept, and a small
    turn sees the mesh where the full frame draws it."""
    from OpenGL import GL
    from test_render_lod import _wall

    from scene.mesh import Mesh
    from scene.world import Layer, World
    from viewer.offscreen import Framebuffer
    from viewer.renderer import SplatRenderer
    from viewer.reproject import FrameReprojector

    world = World()
    world.add_layer(Layer("wall", _wall(20_000)))
    quad = np.array([[-0.3, -0.3, 1.0], [0.3, -0.3, 1.0], [0.3, 0.3, 1.0], [-0.3, 0.3, 1.0]])
    colours = np.tile([0.9, 0.1, 0.1], (4, 1)).astype(np.float32)
    world.add_layer(Layer("box", Mesh(quad, np.array([[0, 1, 2], [0, 2, 3]]), colours), "mesh"))
    cam = Camera.look_at((0.0, 0.0, 3.0), (0.0, 0.0, 0.0), 60, 240, 160)
    fb = Framebuffer(240, 160)  # RGBA32F
    fb.bind()
    r = SplatRenderer(sync_sort=True)
    r.set_world(world)
    rp = FrameReprojector()
    try:
        r.draw(cam, (240, 160))
        stats = r.draw_depth(cam, (240, 160))
        GL.glFinish()
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fb.fbo)
        raw = GL.glReadPixels(0, 0, 240, 160, GL.GL_RGBA, GL.GL_FLOAT)
        acc = np.frombuffer(raw, np.float32).reshape(160, 240, 4)[::-1]
        assert stats.triangles == 2 and stats.splats_drawn > 0
        centre = acc[75:85, 115:125]  # the quad, 2 m away, in front of the wall 3 m away
        np.testing.assert_allclose(centre[..., 3], 1.0, atol=1e-3)
        np.testing.assert_allclose(centre[..., 3] / centre[..., 0], 2.0, rtol=1e-3)
        beside = acc[75:85, 88:98]  # the wall beside it
        np.testing.assert_allclose(beside[..., 3] / beside[..., 0], 3.0, rtol=2e-3)
        gl_fb.bind()
        r.draw(cam, (240, 160))
        rp.keep(r, cam, gl_fb.fbo)
        assert rp.finish(r) and rp.usable(r, cam)
        yaw = np.radians(3)
        turned = Camera.look_at((0.0, 0.0, 3.0), (-3 * np.sin(yaw), 0.0, 3 - 3 * np.cos(yaw)), 60,
                                240, 160)  # fmt: skip
        r.draw(turned, (240, 160))
        full = _read(gl_fb)
        GL.glClearColor(1.0, 0.0, 1.0, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        assert rp.draw(r, turned)
        warped = _read(gl_fb)
        red = (full[..., 0] > 150) & (full[..., 1] < 80)
        assert red.sum() > 500
        assert ((warped[..., 0] > 150) & (warped[..., 1] < 80))[
            _grow(red, 1)
        ].sum() > 0.9 * red.sum()
    finally:
        rp.release()
        r.release()
        fb.release()
        gl_fb.bind()


@pytest.mark.gl
def test_a_turned_camera_sees_the_still_frame_reprojected(gl_fb) -> None:  # noqa: ANN001
    """Keep a still frame, turn the camera 8 degrees: the reprojected frame matches the full
    frame drawn at the turned camera where it covers it (a turn has no parallax), and covers
    most of it; a changed layer or a camera far away makes the kept frame unusable."""
    from generators.reconstruct.evaluate import psnr
    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer
    from viewer.reproject import FrameReprojector

    world = World()
    room = Layer("room", _room())
    world.add_layer(room)
    eye = np.array([0.0, 1.6, 1.0])
    cam0 = Camera.look_at(eye, eye + [0.0, -0.1, -1.0], 70, 240, 160)
    yaw = np.radians(8)
    cam1 = Camera.look_at(eye, eye + [-np.sin(yaw), -0.1, -np.cos(yaw)], 70, 240, 160)
    r = SplatRenderer(sync_sort=True)
    r.set_world(world)
    rp = FrameReprojector()
    try:
        r.draw(cam1, (240, 160))
        full1 = _read(gl_fb)
        r.draw(cam0, (240, 160))
        full0 = _read(gl_fb)
        rp.keep(r, cam0, gl_fb.fbo)
        assert rp.pending and not rp.usable(r)
        assert rp.finish(r)
        assert rp.usable(r, cam1) and rp.opacity(cam1) == 1.0
        r.draw(cam0, (240, 160))  # a repaint of the same view (a sort finished, an update)
        rp.keep(r, cam0, gl_fb.fbo)
        assert rp.usable(r, cam1) and not rp.pending  # still usable: a move may begin now
        from OpenGL import GL

        GL.glClearColor(1.0, 0.0, 1.0, 1.0)  # magenta: what the warp leaves uncovered
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        assert rp.draw(r, cam0)
        same = _read(gl_fb)
        # from where it was drawn (or turned in place) every triangle is drawn: no parallax
        # (inside the few pixels over which the kept frame's border fades out)
        inner = (slice(6, -6), slice(6, -6))
        assert not _magenta(same)[inner].any()
        assert psnr(same[inner], full0[inner]) > 35
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        assert rp.draw(r, cam1)
        warped = _read(gl_fb)
        # the frame keeps alpha 1 under the kept frame's faded border: a screenshot of the
        # widget reads it as premultiplied (a blended alpha made the sky lime there)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, gl_fb.fbo)
        raw = GL.glReadPixels(0, 0, 240, 160, GL.GL_RGBA, GL.GL_FLOAT)
        assert np.allclose(np.frombuffer(raw, np.float32).reshape(160, 240, 4)[..., 3], 1.0)
        hole = _magenta(warped)
        assert 0.05 < hole.mean() < 0.2  # the strip the turn brought into view
        assert hole[:, :20].mean() > 0.9  # on the left: the camera turned left
        seam = _grow(hole, 6)  # the kept frame's border fades out over its last pixels
        err = np.abs(warped.astype(float) - full1)[~seam]
        assert 10 * np.log10(255**2 / np.mean(err**2)) > 28
        assert psnr(np.where(seam[..., None], full1, warped), full1) > 28

        # a step aside: the triangles across depth edges and to the background go (a strip
        # of background above the room is left to the moving frame), the rest is drawn
        step = Camera.look_at(eye + [0.05, 0.0, 0.0], eye + [0.05, -0.1, -1.0], 70, 240, 160)
        assert rp.opacity(step) == 1.0
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        assert rp.draw(r, step)
        gaps = _magenta(_read(gl_fb))
        assert 0.0 < gaps.mean() < 0.15 and not gaps[40:, 20:200].any()  # edges and top

        # while the coarse level is being merged the moving frame under it is a thin,
        # grown subset of the splats: the kept frame is drawn whole (no black tears at the
        # depth edges over the subset, a trial's first walk), over whatever that frame has
        # nearer, and holds PENDING_REACH times as far
        from viewer.reproject import PENDING_EASE_S, PENDING_REACH

        r.coarse_level_pending = lambda: True
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        assert rp.draw(r, step, moving=True)
        whole = _magenta(_read(gl_fb))
        assert whole.mean() < gaps.mean() and not whole[:, 20:200].any()  # edges and top too
        mid = Camera.look_at(eye + [0.0, 0.0, -1.0], eye + [0.0, -0.1, -2.0], 70, 240, 160)
        pending_alpha = rp.opacity(mid, r)
        assert pending_alpha > rp.opacity(mid) and PENDING_REACH > 1.0
        del r.coarse_level_pending  # merged: the reach eases back, no sudden vanishing
        assert rp.opacity(mid) < rp.opacity(mid, r) <= pending_alpha
        time.sleep(PENDING_EASE_S + 0.05)
        assert rp.opacity(mid, r) == rp.opacity(mid)

        far = Camera.look_at(eye + [0.0, 0.0, -3.0], eye + [0.0, -0.1, -4.0], 70, 240, 160)
        assert rp.opacity(far) == 0.0 and not rp.usable(r, far)
        assert not rp.draw(r, far)
        m = room.transform.copy()
        m[0, 3] = 0.5
        world.set_transform(room.id, m)  # the layer moved: the kept frame is stale
        assert not rp.usable(r, cam1) and not rp.draw(r, cam1)
    finally:
        rp.release()
        r.release()


def _moving_frame_under(rp, renderer, cam: Camera, fb) -> None:  # noqa: ANN001
    """A half-size moving frame of `renderer` into `rp`'s moving target (with its depth),
    scaled up into `fb` (240 x 160), which is left bound: what `rp.draw(moving=True)` goes
    over."""
    from OpenGL import GL

    mov = rp.moving_target(120, 80)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, mov)
    renderer.draw(cam, (120, 80), with_depth=True)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, mov)
    GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, fb.fbo)
    GL.glBlitFramebuffer(0, 0, 120, 80, 0, 0, 240, 160, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
    fb.bind()


@pytest.mark.gl
def test_the_moving_frame_wins_where_it_is_nearer(gl_fb) -> None:  # noqa: ANN001
    """The kept frame saw only a far wall; the moving frame under it holds a red post in
    front of that wall (something the kept frame could not show: parallax brought it over
    the wall). Composited with the moving frame's depth the post stays; without it the kept
    frame would paint the wall over it."""
    from test_render_lod import _wall

    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer
    from viewer.reproject import FrameReprojector

    far = World()
    wall = _wall(30_000, seed=4)
    wall.means[:, :2] *= 3.0  # 6 x 6 m
    wall.scales += np.float32(np.log(3.0))
    far.add_layer(Layer("wall", wall))
    near = World()
    near.add_layer(Layer("wall", wall))
    post = _wall(4000, seed=5)
    post.means[:, 0] *= 0.2  # 0.4 x 2 m, 3 m in front of the wall
    post.means[:, 2] = 3.0
    post.sh0[:] = (3.0, -2.0, -2.0)  # red
    near.add_layer(Layer("post", post))
    cam = Camera.look_at((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), 60, 240, 160)
    r, r2 = SplatRenderer(sync_sort=True), SplatRenderer(sync_sort=True)
    r.set_world(far)
    r2.set_world(near)
    rp = FrameReprojector()
    try:
        r.draw(cam, (240, 160))
        rp.keep(r, cam, gl_fb.fbo)
        assert rp.finish(r)
        for moving in (True, False):
            _moving_frame_under(rp, r2, cam, gl_fb)
            assert rp.draw(r, cam, moving=moving)
            img = _read(gl_fb).astype(int)
            red = (img[..., 0] > img[..., 1] + 60) & (img[..., 0] > img[..., 2] + 60)
            band = red[40:120, 100:140].mean()  # where the post stands
            if moving:
                assert band > 0.6, f"the nearer post was painted over ({band:.2f} red)"
                assert red[:, :60].mean() < 0.02  # the rest is still the kept frame
            else:
                assert band < 0.1
    finally:
        rp.release()
        r.release()
        r2.release()


@pytest.mark.gl
def test_draw_scaled_reprojects_at_part_of_the_frame_size(gl_fb, monkeypatch) -> None:  # noqa: ANN001
    """A moving frame as the viewport draws it (`draw_scaled`): the splats at a quarter of
    the size under the kept frame reprojected at WARP_SCALE of it (4x fewer fragments than
    at full size, on a software rasteriser the reprojection's cost), then scaled up. It stays
    far closer to the full frame than the quarter-size frame alone, and within 2 dB of
    reprojecting at full size."""
    from generators.reconstruct.evaluate import psnr
    from viewer import reproject

    got = {}
    with _room_kept(gl_fb, np.array([0.0, 1.6, 1.0])) as (r, rp, cam1, full1, small_fbo):
        for name, rep, warp_scale in (("alone", None, 0.5), ("half", rp, 0.5), ("full", rp, 1.0)):
            monkeypatch.setattr(reproject, "WARP_SCALE", warp_scale)
            stats = reproject.draw_scaled(r, rep, cam1, 0.25, None, gl_fb.fbo, small_fbo)
            got[name] = psnr(_read(gl_fb), full1)
            # the reprojection's own time, which the quality controller leaves out
            assert (stats.warp_ms > 0.0) == (rep is not None)
    # measured 37.1 / 34.7 dB (31.5 alone scaled up bilinearly before CPU frames were
    # scaled up bicubically, 27.9 before reduced frames kept the full frame's low-pass:
    # scene.splatting.reduced_lowpass)
    assert got["half"] > got["alone"] + 1.5
    assert got["half"] > got["full"] - 2.0


@contextlib.contextmanager
def _room_kept(gl_fb, eye1: np.ndarray, cpu_full: bool = False):  # noqa: ANN001, ANN202
    """The small room's full frame kept from a camera at (0, 1.6, 1) looking ahead, with
    its depth and mesh (`finish`), for moving frames from `eye1` turned 3° left: yields
    (renderer, reprojector, that camera, its full frame read back, small_fbo(w, h) for
    `draw_scaled`); everything is released after. `cpu_full`: frames composited on the
    CPU."""
    from scene.world import Layer, World
    from viewer import offscreen, reproject
    from viewer.renderer import SplatRenderer

    world = World()
    world.add_layer(Layer("room", _room()))
    eye = np.array([0.0, 1.6, 1.0])
    cam0 = Camera.look_at(eye, eye + [0.0, -0.1, -1.0], 70, 240, 160)
    yaw = np.radians(3)
    cam1 = Camera.look_at(eye1, eye1 + [-np.sin(yaw), -0.1, -np.cos(yaw)], 70, 240, 160)
    small: dict = {}

    def small_fbo(w: int, h: int) -> int:
        if (w, h) not in small:
            small[w, h] = offscreen.Framebuffer(w, h)
        return small[w, h].fbo

    r = SplatRenderer(sync_sort=True)
    r.cpu_full = cpu_full
    r.set_world(world)
    rp = reproject.FrameReprojector()
    try:
        gl_fb.bind()
        r.draw(cam1, (240, 160))
        full1 = _read(gl_fb)
        gl_fb.bind()
        r.draw(cam0, (240, 160))
        rp.keep(r, cam0, gl_fb.fbo)
        assert rp.finish(r)
        yield r, rp, cam1, full1, small_fbo
    finally:
        rp.release()
        r.release()
        for fb in small.values():
            fb.release()


@pytest.mark.gl
def test_an_object_dragged_with_the_camera_still_leaves_no_ghost(gl_fb) -> None:  # noqa: ANN001
    """Dragging an object with the camera still: the kept frame stays (the rest of it is
    exact), its image of the object is cut out (`footprint_mask`, `cut_out`), and the
    edit it accepts keeps it usable. The moving frame under it shows the object where it
    is dragged, and the wall where it was: no red ghost at the old place."""
    from test_render_lod import _wall

    from scene.world import Layer, World
    from viewer.renderer import SplatRenderer
    from viewer.reproject import FrameReprojector, footprint_mask

    world = World()
    wall = _wall(30_000, seed=4)
    wall.means[:, :2] *= 3.0
    wall.scales += np.float32(np.log(3.0))
    world.add_layer(Layer("wall", wall))
    post = _wall(4000, seed=5)
    post.means[:, 0] *= 0.2
    post.means[:, 2] = 3.0
    post.sh0[:] = (3.0, -2.0, -2.0)  # red
    lay = Layer("post", post)
    world.add_layer(lay)
    cam = Camera.look_at((0.0, 0.0, 5.0), (0.0, 0.0, 0.0), 60, 240, 160)
    r = SplatRenderer(sync_sort=True)
    r.set_world(world)
    rp = FrameReprojector()

    def red(img: np.ndarray) -> np.ndarray:
        img = img.astype(int)
        return (img[..., 0] > img[..., 1] + 60) & (img[..., 0] > img[..., 2] + 60)

    try:
        r.draw(cam, (240, 160))
        assert red(_read(gl_fb))[40:120, 105:135].mean() > 0.6  # the post, in the middle
        rp.keep(r, cam, gl_fb.fbo)
        assert rp.finish(r)
        mask = footprint_mask(lay, rp.grid_camera())
        gh, gw = mask.shape
        assert mask[gh // 2, gw // 2] and not mask[gh // 2, 2]
        assert rp.cut_out(mask)
        m = lay.transform.copy()
        m[0, 3] = 0.9  # dragged to the right
        world.preview_transform(lay.id, m)
        assert not rp.usable(r)  # an edit...
        rp.accept_edit(r)
        assert rp.usable(r, cam)  # ... the caller accounted for
        _moving_frame_under(rp, r, cam, gl_fb)
        assert rp.draw(r, cam, moving=True)
        img = red(_read(gl_fb))
        assert img[40:120, 105:135].mean() < 0.1, "a ghost of the post where it was"
        cols = np.flatnonzero(img[60:100].mean(0) > 0.5)
        assert len(cols) and cols.min() > 140  # where it is now
    finally:
        rp.release()
        r.release()


@pytest.mark.gl
def test_the_kept_frame_drawn_on_the_cpu_matches_gl(gl_fb, monkeypatch) -> None:  # noqa: ANN001
    """Where moving frames are composited on the CPU, the kept frame's mesh is drawn over
    them on the CPU too (viewer/cpu_warp.py: llvmpipe took 12-40 ms a frame for it at half
    the window's size): the same picture as GL's draw of the same triangles (within
    rounding, sampling and edge rules), well closer to the full frame than the moving
    frame alone, and made without GL's mesh draw."""
    from generators.reconstruct.evaluate import psnr
    from viewer import cpu_warp, reproject

    got = {}
    on_cpu = []
    real = reproject._draw_on_cpu

    def spy(*a, **k):  # noqa: ANN002, ANN003, ANN202
        drew = real(*a, **k)
        on_cpu.append(drew)
        return drew

    monkeypatch.setattr(reproject, "_draw_on_cpu", spy)
    eye1 = np.array([0.04, 1.6, 0.95])
    with _room_kept(gl_fb, eye1, cpu_full=True) as (r, rp, cam1, full1, small_fbo):
        assert r.composites_on_cpu and cpu_warp.warm
        for name, rep in (("cpu", rp), ("alone", None)):
            stats = reproject.draw_scaled(r, rep, cam1, 0.25, None, gl_fb.fbo, small_fbo)
            got[name] = _read(gl_fb)
            if rep is not None:
                assert stats.warp_ms > 0.0 and stats.image is not None
        assert on_cpu == [True]
        monkeypatch.setattr(reproject, "_draw_on_cpu", lambda *a, **k: False)
        reproject.draw_scaled(r, rp, cam1, 0.25, None, gl_fb.fbo, small_fbo)
        got["gl"] = _read(gl_fb)
    same = psnr(got["cpu"], got["gl"])  # measured 55.1 dB
    assert same > 35.0, same
    assert psnr(got["cpu"], full1) > psnr(got["alone"], full1) + 1.5


def test_the_cpu_warp_from_its_own_camera_gives_back_the_kept_frame() -> None:
    """viewer/cpu_warp.py's conventions on their own (no GL): the kept frame's mesh seen
    from the kept camera, at the same size, is the kept frame (bottom row first in and
    out) inside its faded border; a moving frame holding something clearly nearer keeps
    its own pixels there; an output of the wrong type is refused."""
    from viewer import cpu_warp, reproject

    cpu_warp.warm_up()
    w, h = 64, 48
    cam = Camera.look_at((0.0, 0.0, 0.0), (0.0, 0.0, -1.0), 60, w, h)
    gw, gh = w // 8, h // 8
    grid = cam.resized(gw, gh)
    sum_w = np.ones((gh, gw), np.float32)
    sum_wz = np.full((gh, gw), 0.5, np.float32)  # a wall 2 m away
    points, uv, index, _ = reproject.warp_mesh(sum_wz, sum_w, grid)
    rng = np.random.default_rng(3)
    kept = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    kept[..., 3] = 255
    kept = np.ascontiguousarray(np.repeat(np.repeat(kept[::4, ::4], 4, 0), 4, 1))  # smooth-ish
    out = np.zeros((h, w, 4), np.uint8)
    kw = dict(nearer=1.15, alpha=1.0, feather=(1 / 0.02, h / (0.02 * w)), near=0.02)
    intr = (cam.fx, cam.fy, cam.cx, cam.cy)
    cpu_warp.warp_onto(out, points, uv, index, len(index), np.eye(4), intr, kept, None, **kw)
    inner = (slice(4, h - 4), slice(4, w - 4))
    diff = np.abs(out[inner].astype(int) - kept[inner].astype(int))
    assert diff.max() <= 2, diff.max()
    # the moving frame is nearer (inverse depth 2 / m where the wall is at 0.5) in its
    # bottom half (rows are bottom first): its own pixels stay there
    depth = np.zeros((h // 2, w // 2, 2), np.float32)
    depth[: h // 4] = (2.0, 1.0)
    base = np.full((h, w, 4), 7, np.uint8)
    cpu_warp.warp_onto(base, points, uv, index, len(index), np.eye(4), intr, kept, depth, **kw)
    assert (base[4 : h // 2 - 2, 4 : w - 4] == 7).all()
    assert (
        np.abs(
            base[h // 2 + 2 : h - 4, 4 : w - 4].astype(int) - kept[h // 2 + 2 : h - 4, 4 : w - 4]
        ).max()
        <= 2
    )
    with pytest.raises(ValueError, match="out must be"):
        cpu_warp.warp_onto(
            out.astype(np.float32), points, uv, index, 3, np.eye(4), intr, kept, None, **kw
        )
