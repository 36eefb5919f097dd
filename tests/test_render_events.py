"""The renderer follows the World's events: after each edit (move, hide, show, rename, splats
deleted, mesh moved, layer added/removed, undo) the next frame of a long-lived renderer
equals a fresh render of the edited world, with no invalidate() call anywhere."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud

from scene.camera import Camera
from scene.mesh import Mesh
from scene.world import Layer, World, similarity_matrix

pytestmark = pytest.mark.gl

W, H = 160, 120


def test_each_event_reaches_the_renderer(x_display) -> None:  # noqa: ANN001
    from viewer.gl_context import offscreen_context

    ctx = offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    from viewer.offscreen import Framebuffer, render_float
    from viewer.renderer import SplatRenderer

    w = World()
    a = w.add_layer(Layer("a", random_cloud(3000, 1, seed=1)))
    b = w.add_layer(
        Layer(
            "b",
            random_cloud(1000, 1, seed=2),
            kind="object",
            transform=similarity_matrix((0.5, 0, 0), scale=0.5),
        )
    )
    v = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], np.float32)
    quad = Mesh(v, np.array([[0, 1, 2], [0, 2, 3]]), np.tile(np.float32([0, 0, 1]), (4, 1)))
    m = w.add_layer(Layer("quad", quad, "mesh", transform=similarity_matrix((0, 0, -1.5))))
    cam = Camera.look_at((0.5, 1.0, 5.0), (0, 0, 0), 50, W, H)
    fb = Framebuffer(W, H)
    r = SplatRenderer(sync_sort=True)
    r.set_world(w)
    edits = [
        (
            "move",
            lambda: w.set_transform(b.id, similarity_matrix((-0.4, 0.3, 0.2), yaw=0.5, scale=0.7)),
        ),
        ("hide", lambda: w.set_visible(a.id, False)),
        ("show", lambda: w.set_visible(a.id, True)),
        ("rename", lambda: w.rename(a.id, "ground")),
        ("delete splats", lambda: w.remove_splats(a.id, np.arange(3000) % 2 == 0)),
        ("move mesh", lambda: w.set_transform(m.id, similarity_matrix((0.3, 0, -1.0), yaw=0.3))),
        ("add", lambda: w.add_layer(Layer("c", random_cloud(500, 0, seed=3), kind="object"))),
        ("undo add", w.undo),
        ("remove", lambda: w.remove_layer(b.id)),
        ("undo remove", w.undo),
        ("drag preview", lambda: w.preview_transform(b.id, similarity_matrix((0, -0.3, 0)))),
    ]
    try:
        before = None
        for name, edit in [("first", lambda: None), *edits]:
            edit()
            fb.bind()
            r.draw(cam, (W, H))
            GL.glFinish()
            got = fb.read_float()
            want = render_float(w, cam)
            assert np.abs(got - want).max() < 1e-6, f"after {name}: the renderer missed the event"
            if name not in ("first", "rename"):
                assert np.abs(got - before).max() > 0.01, f"{name} changed nothing on screen"
            before = got
    finally:
        ctx.make_current()
        r.release()
        fb.release()
    assert r._subscribed is None  # released: no longer listening to the world
