"""The GL splat renderer against an independent reference compositor
(tests/reference_compositor.py), plus meshes occluding splats, moved layers, hidden layers and
max_splats."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud
from reference_compositor import psnr, render_reference

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World, similarity_matrix

pytestmark = pytest.mark.gl

W, H = 256, 192


@pytest.fixture(scope="module")
def gl(x_display):  # noqa: ANN001 - imports the GL side only once a display exists
    from viewer import offscreen

    return offscreen


def _world(cloud: GaussianCloud) -> World:
    world = World()
    world.add_layer(Layer("c", cloud))
    return world


def _cam(eye=(0.7, 0.4, 6.0), target=(0.0, 0.0, 0.0), fov=50.0) -> Camera:
    return Camera.look_at(eye, target, fov, W, H)


@pytest.mark.parametrize("degree,n", [(0, 4000), (3, 2500)])
def test_matches_reference_compositor(gl, degree: int, n: int) -> None:
    cloud = random_cloud(n, degree, seed=10 + degree)
    cam = _cam()
    img = gl.render_image(cloud, cam)
    assert img.shape == (H, W, 3) and img.dtype == np.uint8
    ref = render_reference(cloud, cam)
    score = psnr(img / 255.0, ref)
    print(f"SH{degree} {n} splats: PSNR {score:.1f} dB vs reference compositor")
    assert score >= 30.0
    assert img.std() > 10  # a real image, not a blank one


def test_antialiased_cloud_matches_reference(gl) -> None:
    cloud = random_cloud(2000, 0, seed=21)
    cloud.scales -= 0.7  # smaller splats, where the compensation matters
    cloud.meta["antialiased"] = True
    cam = _cam()
    img = gl.render_float(cloud, cam)
    score = psnr(img, render_reference(cloud, cam))
    plain = cloud.copy()
    plain.meta["antialiased"] = False
    print(f"antialiased cloud: PSNR {score:.1f} dB")
    assert score >= 30.0 and img.mean() > 0.05
    assert psnr(img, gl.render_float(plain, cam)) < score  # the compensation did something


def test_off_centre_camera_and_background(gl) -> None:
    cloud = random_cloud(1500, 1, seed=3)
    cam = Camera(200, 150, 180.0, 170.0, 90.0, 80.0)  # principal point off centre
    pose = Camera.look_at((3.0, 2.0, 4.0), (0.2, 0.0, 0.0), 45, 200, 150)
    cam.R, cam.t = pose.R, pose.t
    img = gl.render_image(cloud, cam, background=(0.2, 0.3, 0.4))
    ref = render_reference(cloud, cam, background=(0.2, 0.3, 0.4))
    score = psnr(img / 255.0, ref)
    print(f"off-centre camera + background: PSNR {score:.1f} dB")
    assert score >= 30.0


def test_view_dependent_colour_changes_with_view(gl) -> None:
    rng = np.random.default_rng(0)
    cloud = GaussianCloud.from_points([[0, 0, 0]], [[0.5, 0.5, 0.5]], 0.4, 0.9, sh_degree=1)
    cloud.shN[:] = rng.normal(size=(1, 3, 3)).astype(np.float32)
    a = gl.render_float(cloud, _cam(eye=(0, 0, 4)))[H // 2, W // 2]
    b = gl.render_float(cloud, _cam(eye=(4, 0, 0)))[H // 2, W // 2]
    assert np.abs(a - b).max() > 0.05
    for eye in ((0, 0, 4), (4, 0, 0)):
        ref = render_reference(cloud, _cam(eye=eye))[H // 2, W // 2]
        np.testing.assert_allclose(
            gl.render_float(cloud, _cam(eye=eye))[H // 2, W // 2], ref, atol=2e-3
        )


def _quad(z: float, half: float, color) -> Mesh:
    v = np.array(
        [[-half, -half, z], [half, -half, z], [half, half, z], [-half, half, z]], np.float32
    )
    return Mesh(v, np.array([[0, 1, 2], [0, 2, 3]]), np.tile(np.asarray(color, np.float32), (4, 1)))


def test_mesh_occludes_splats_behind_it(gl) -> None:
    cloud = GaussianCloud.from_points(
        [[-0.6, 0, 0], [0.6, 0, 2.0]], [[1, 0, 0], [0, 1, 0]], 0.25, 0.95
    )
    world = World()
    world.add_layer(Layer("splats", cloud))
    # a blue quad at z=1 covering the left splat (z=0, behind it) but not the right one
    # (z=2, in front)
    world.add_layer(
        Layer("wall", _quad(1.0, 0.5, (0, 0, 1)), "mesh", transform=similarity_matrix((-0.6, 0, 0)))
    )
    cam = _cam(eye=(0, 0, 6), fov=40)
    img = gl.render_float(world, cam)
    uv, _ = cam.project(np.array([[-0.6, 0, 0], [0.6, 0, 2.0]]))
    left = img[int(uv[0, 1]), int(uv[0, 0])]
    right = img[int(uv[1, 1]), int(uv[1, 0])]
    assert left[2] > 0.2 and left[0] < 0.01  # the wall hides the red splat completely
    assert right[1] > 0.5  # the green splat in front of the wall's plane shows
    # the mesh beside the splat composites under a splat in front of it
    world.layers[1].transform = similarity_matrix((0.6, 0, 0))
    img2 = gl.render_float(world, cam)
    right2 = img2[int(uv[1, 1]), int(uv[1, 0])]
    assert right2[1] > 0.5 and right2[2] > 0.0  # green over blue, blended


def test_a_photo_coloured_mesh_keeps_its_colour_and_a_grey_one_shows_its_shape(gl) -> None:
    """A chair made from a photo, inserted as a mesh, came out 35-40 % darker than as
    splats (a trial): its vertex colours are the photo's, lit already, and full Lambert
    under a light from above dimmed a face turned to the viewer to 0.68. It keeps its colour
    now within 5 % facing the viewer and 20 % seen edge-on; a mesh without colours still
    shades (its shape shows only so)."""
    from scene.world import similarity_matrix as sim

    cam = _cam(eye=(0, 0, 6), fov=40)
    colour = np.array([0.55, 0.37, 0.27], np.float32)
    facing = World()
    facing.add_layer(Layer("chair", _quad(0.0, 1.0, colour), "mesh"))
    px = gl.render_float(facing, cam)[H // 2, W // 2, :3]
    assert np.all(px > 0.95 * colour) and np.all(px <= colour + 0.01), px
    turned = World()  # the quad turned 75° about the vertical: seen nearly edge-on
    turned.add_layer(
        Layer("chair", _quad(0.0, 1.0, colour), "mesh", transform=sim((0, 0, 0), yaw=1.31))
    )
    px = gl.render_float(turned, cam)[H // 2, W // 2, :3]
    assert np.all(px > 0.8 * colour), px
    grey = Mesh(_quad(0.0, 1.0, colour).vertices, np.array([[0, 1, 2], [0, 2, 3]]))
    plain = World()
    plain.add_layer(Layer("box", grey, "mesh", transform=sim((0, 0, 0), yaw=1.31)))
    lit = World()
    lit.add_layer(Layer("box", grey, "mesh"))
    edge = gl.render_float(plain, cam)[H // 2, W // 2, :3].mean()
    front = gl.render_float(lit, cam)[H // 2, W // 2, :3].mean()
    assert edge < 0.7 * front, (edge, front)


def test_transformed_layer_equals_baked_cloud(gl) -> None:
    cloud = random_cloud(1500, 3, seed=5)
    m = similarity_matrix((0.5, -0.3, 0.8), yaw=0.7, scale=0.6)
    cam = _cam()
    moved = World()
    moved.add_layer(Layer("obj", cloud, "object", transform=m))
    baked = cloud.transformed(m)
    a = gl.render_float(moved, cam)
    b = gl.render_float(baked, cam)
    score = psnr(a, b)
    print(f"moved layer vs baked cloud: PSNR {score:.1f} dB")
    assert score >= 40.0
    assert psnr(gl.render_float(cloud, cam), b) < 25.0  # the move did change the image


@pytest.mark.parametrize("flat", [False, True])
def test_one_triangle_per_splat_draws_what_the_quad_draws(gl, flat: bool) -> None:
    """The triangle around each footprint (the default) covers every pixel the quad did:
    the frames agree to float rounding, also for needle-thin splats (`flat`)."""
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, offscreen_context
    from viewer.renderer import SplatRenderer

    cloud = random_cloud(3000, 1, seed=12)
    if flat:
        cloud.scales[:, 0] -= 2.5  # one axis 12x shorter: long thin footprints at all angles
    world = World()
    world.add_layer(Layer("c", cloud))
    cam = _cam()
    offscreen_context().make_current()
    frames = []
    for one in (True, False):
        r = SplatRenderer(sync_sort=True)
        r.one_triangle = one
        r.set_world(world)
        fb = Framebuffer(W, H)
        fb.bind()
        r.draw(cam, (W, H))
        GL.glFinish()
        frames.append(fb.read_float())
        fb.release()
        r.release()
    tri, quad = frames
    assert quad.mean() > 0.05
    assert np.abs(tri - quad).max() < 2e-3
    assert psnr(tri, quad) >= 60.0


@pytest.mark.parametrize("one_triangle", [True, False])
def test_splats_far_bigger_than_the_view_stay_exact(gl, one_triangle: bool) -> None:
    """Splats just before the camera whose footprints reach one to a few frame widths past
    its edges (their triangles are clipped) draw as the reference compositor does. With
    the Mahalanobis coordinates interpolated linearly, Mesa's clipper got them wrong: a dark
    splat 0.4 m before a reconstruction's camera painted 80 % of the frame."""
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, offscreen_context
    from viewer.renderer import SplatRenderer

    rng = np.random.default_rng(3)
    n = 6
    depth = rng.permutation(np.linspace(0.7, 1.5, n))  # apart: both sort them the same way
    pts = np.column_stack([rng.uniform(-0.4, 0.4, n), rng.uniform(-0.3, 0.3, n), depth])
    cloud = GaussianCloud.from_points(pts, rng.uniform(0.1, 0.9, (n, 3)), 0.1, 0.6)
    # flat, elongated discs facing the camera, 0.6 to 3 frame widths across, any angle
    cloud.scales[:, 0] = np.log(rng.uniform(0.08, 0.4, n))
    cloud.scales[:, 1] = cloud.scales[:, 0] - np.log(rng.uniform(1.5, 4.0, n))
    cloud.scales[:, 2] = -8.0
    ang = rng.uniform(0, np.pi, n)
    cloud.quats[:] = np.column_stack([np.cos(ang / 2), np.zeros(n), np.zeros(n), np.sin(ang / 2)])
    # and a round one, farthest, about a frame width across
    disc = GaussianCloud.from_points([[0.48, 0.32, 1.6]], [[0.8, 0.6, 0.3]], 0.75, 0.9)
    disc.scales[:, 2] = -8.0
    cloud = GaussianCloud.concatenate([cloud, disc])
    cam = Camera.look_at((0, 0, 0), (0, 0, 1), 60, W, H)
    offscreen_context().make_current()
    r = SplatRenderer(sync_sort=True)
    r.one_triangle = one_triangle
    r.set_world(_world(cloud))
    fb = Framebuffer(W, H)
    fb.bind()
    r.draw(cam, (W, H))
    GL.glFinish()
    img = fb.read_float()
    fb.release()
    r.release()
    score = psnr(img, render_reference(cloud, cam))
    print(f"splats bigger than the view: PSNR {score:.1f} dB vs reference compositor")
    assert score >= 45.0


def test_hidden_layer_vanishes_and_max_splats_thins_evenly(gl) -> None:
    a = random_cloud(800, 0, seed=7)
    b = random_cloud(800, 0, seed=8)
    world = World()
    world.add_layer(Layer("a", a))
    world.add_layer(Layer("b", b, "object"))
    cam = _cam()
    both = gl.render_float(world, cam)
    world.layers[1].visible = False
    only_a = gl.render_float(world, cam)
    np.testing.assert_allclose(only_a, gl.render_float(a, cam), atol=1e-5)
    assert np.abs(both - only_a).max() > 0.1
    k = 300
    from viewer.sorting import grow_factor, uniform_scores

    # a one-shot render thins evenly: the k splats with the highest fixed pseudo-random
    # score (by contribution, a world's sky dome took the whole budget of a preview)
    strong = np.argsort(-uniform_scores(np.arange(len(a))), kind="stable")[:k]
    g = grow_factor(len(a), k)
    sub = a.subset(np.sort(strong))
    sub.scales += np.float32(np.log(g))  # the kept splats grow to cover for the dropped ones
    far = _cam(eye=(0.0, 0.0, 9.0))  # every centre in view, so K counts the whole cloud
    # (a limited frame is drawn by GL, a full one on the CPU where GL is llvmpipe: a pixel
    # where a splat's alpha is within float rounding of the 1/255 cut-off may differ by it)
    np.testing.assert_allclose(
        gl.render_float(a, far, max_splats=k), gl.render_float(sub, far), atol=5e-3
    )
    assert gl.render_image(a, cam, max_splats=0).max() == 0


def test_a_preview_with_max_splats_keeps_the_small_front_splats(gl) -> None:
    """A generated world holds the photo's small splats in front of bigger backdrop
    splats, in one layer. Ranked by contribution, a `render --max-splats` preview kept the
    backdrop whole and dropped the photo: it showed what stands behind the photo."""
    from scene.gaussians import GaussianCloud

    g = np.linspace(-2.0, 2.0, 120)
    fx, fy = np.meshgrid(g, g)
    front = np.stack([fx.ravel(), fy.ravel(), np.zeros(fx.size)], 1)  # red, 3.4 cm apart
    g2 = np.linspace(-2.0, 2.0, 40)
    bx, by = np.meshgrid(g2, g2)
    back = np.stack([bx.ravel(), by.ravel(), np.full(bx.size, -0.5)], 1)  # green, 3x bigger
    cloud = GaussianCloud.concatenate(
        [
            GaussianCloud.from_points(front, np.tile([0.9, 0.1, 0.1], (len(front), 1)), 0.03),
            GaussianCloud.from_points(back, np.tile([0.1, 0.9, 0.1], (len(back), 1)), 0.09),
        ]
    )
    cam = _cam(eye=(0.0, 0.0, 4.0))
    k = len(cloud) // 3
    img = gl.render_float(cloud, cam, max_splats=k)
    centre = img[H // 4 : 3 * H // 4, W // 4 : 3 * W // 4]
    red = (centre[..., 0] > centre[..., 1]).mean()
    assert red > 0.9, red


def test_any_resolution_and_bad_input(gl) -> None:
    cloud = random_cloud(300, 0, seed=1)
    img = gl.render_image(cloud, Camera.look_at((0, 0, 6), (0, 0, 0), 50, 1000, 37))
    assert img.shape == (37, 1000, 3)
    with pytest.raises(TypeError):
        gl.render_image("not a scene", _cam())
    with pytest.raises(ValueError):
        gl.render_image(cloud, _cam(), max_splats=-1)
    empty = gl.render_image(World(), _cam(), background=(1, 1, 1))
    assert (empty == 255).all()
