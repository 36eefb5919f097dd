"""Photo-camera frusta (a reconstruction's "Photo cameras" layer) seen from a photo's own
camera: the view is the photo's, with no frustum in it."""

from __future__ import annotations

import numpy as np
import pytest

from generators.reconstruct.preview import frusta_apexes, frusta_mesh
from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World

pytestmark = pytest.mark.gl


def _yellow(img: np.ndarray) -> float:
    """Share of pixels in the frusta's yellow (1, 0.85, 0.15) under any shading."""
    r, g, b = (img[..., k].astype(float) for k in range(3))
    return float(((r > 60) & (g > 0.6 * r) & (b < 0.45 * g)).mean())


def test_a_photo_bookmark_shows_the_scene_not_the_frusta(x_display) -> None:
    """Twelve cameras 1.9 apart in a row, facing a grey wall, frusta as `reconstruct`
    builds them. From a camera's own pose no frusta are drawn (before: its own frustum's
    edges, which start at the eye, filled the view with a yellow wedge, and its
    neighbours' stood in front like bars); a step back from the row they are all seen."""
    from viewer.offscreen import render_image

    cams = [
        Camera.look_at((1.9 * i - 10.5, 0.0, 0.0), (1.9 * i - 10.5, -1.0, -8.0), 50, 64, 48)
        for i in range(12)
    ]
    mesh = frusta_mesh(cams, 0.12 * 21)
    apex, length = frusta_apexes(mesh)
    np.testing.assert_allclose(apex, [c.position for c in cams], atol=1e-5)
    assert (length > 2.0).all()
    g = np.stack(np.meshgrid(np.linspace(-20, 20, 120), np.linspace(-8, 6, 50)), -1)
    wall = np.stack([g[..., 0].ravel(), g[..., 1].ravel(), np.full(g[..., 0].size, -9.0)], 1)
    world = World()
    world.add_layer(Layer("wall", GaussianCloud.from_points(wall, np.full_like(wall, 0.5), 0.3)))
    world.add_layer(Layer("Photo cameras", mesh, "mesh"))
    for i in (4, 5, 6):
        x = 1.9 * i - 10.5
        at_photo = render_image(world, Camera.look_at((x, 0.0, 0.0), (x, -1.0, -8.0), 50, 160, 120))
        assert _yellow(at_photo) < 0.001
        assert at_photo.mean() > 60  # the wall
    back = Camera.look_at((0.0, 4.0, 12.0), (0.0, -1.0, -3.0), 60, 160, 120)
    assert _yellow(render_image(world, back)) > 0.01
    # walking among the cameras, off their poses: the frusta near the eye are not drawn
    # (their tubes filled a tenth of the window and stood like beams when turning); the
    # far ones still are, small
    x = 1.9 * 6 - 10.5
    for eye, look in (((x + 0.7, 0.3, 1.5), (x, -1.0, -8.0)), ((x, 0.0, 1.0), (x + 8, 0.0, 1.0))):
        walking = render_image(world, Camera.look_at(eye, look, 60, 160, 120))
        assert _yellow(walking) < 0.03
    plain = Mesh(mesh.vertices, mesh.faces)  # the same triangles, not marked as frusta
    assert frusta_apexes(plain) is None


def test_a_click_in_a_photos_view_picks_the_scene_not_its_frustum() -> None:
    """A click in the middle of the view from a photo's camera selected the "Photo cameras"
    layer (a trial): its own frustum's tubes start at the eye, and are not drawn. A click
    hits the frusta only where they are drawn; from behind the row, on a tube, it still
    does."""
    from viewer.picking import pick

    cams = [
        Camera.look_at((1.9 * i - 10.5, 0.0, 0.0), (1.9 * i - 10.5, -1.0, -8.0), 50, 64, 48)
        for i in range(12)
    ]
    mesh = frusta_mesh(cams, 0.12 * 21)
    g = np.stack(np.meshgrid(np.linspace(-20, 20, 120), np.linspace(-8, 6, 50)), -1)
    wall = np.stack([g[..., 0].ravel(), g[..., 1].ravel(), np.full(g[..., 0].size, -9.0)], 1)
    world = World()
    wall_layer = world.add_layer(
        Layer("wall", GaussianCloud.from_points(wall, np.full_like(wall, 0.5), 0.3))
    )
    frusta_layer = world.add_layer(Layer("Photo cameras", mesh, "mesh"))
    view = Camera.look_at(cams[5].position, (cams[5].position[0], -1.0, -8.0), 50, 160, 120)
    for x, y in ((80, 60), (40, 30), (120, 90)):
        hit = pick(world, view, x, y)
        assert hit is not None and hit.layer_id == wall_layer.id, (x, y, hit)
    # from behind the row, a click on the apex of camera 6 (its tube) picks the frusta
    back = Camera.look_at((0.0, 4.0, 12.0), (0.0, -1.0, -3.0), 60, 160, 120)
    uv, _ = back.project(np.array([cams[6].position]))
    hit = pick(world, back, float(uv[0, 0]), float(uv[0, 1]))
    assert hit is not None and hit.layer_id == frusta_layer.id
