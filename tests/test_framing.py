"""Where `render` stands in a scene file that does not say (scene.framing): a world copied
without its sidecar rendered as a ring of wall panels seen from outside (a trial)."""

from __future__ import annotations

import numpy as np

from scene.framing import enclosing_view

UP = np.array([0.0, 1.0, 0.0])


def _room(rng: np.random.Generator, radius: float = 4.0, n: int = 20000) -> np.ndarray:
    """A floor disc at y = 0 (its splats below it: a reconstruction's noise) and a wall
    ring 2.6 m high around (1, 0, -2)."""
    a = rng.uniform(0, 2 * np.pi, n)
    wall = np.stack([radius * np.cos(a), rng.uniform(0, 2.6, n), radius * np.sin(a)], 1)
    r = radius * np.sqrt(rng.uniform(0, 1, 2 * n))
    b = rng.uniform(0, 2 * np.pi, 2 * n)
    floor = np.stack([r * np.cos(b), rng.normal(0, 0.02, 2 * n), r * np.sin(b)], 1)
    noise = floor[: n // 5] - [0, 1.5, 0]
    return np.concatenate([wall, floor, noise]) + [1.0, 0.0, -2.0]


def test_a_room_is_seen_from_inside_at_eye_height() -> None:
    rng = np.random.default_rng(0)
    view = enclosing_view(_room(rng), UP)
    assert view is not None
    eye, look = view
    np.testing.assert_allclose(eye[[0, 2]], [1.0, -2.0], atol=0.3)
    assert 1.2 <= eye[1] <= 1.6  # on the floor's level (not the noise under it), eye high
    np.testing.assert_allclose(look - eye, [0, 0, -1], atol=1e-9)
    # a Z-up room (the same points turned): the eye stands along that up
    turned = _room(rng)[:, [0, 2, 1]] * [1, -1, 1]
    view = enclosing_view(turned, np.array([0.0, 0.0, 1.0]))
    assert view is not None and 1.2 <= view[0][2] <= 1.6


def test_a_world_with_its_detail_on_one_side_is_seen_from_inside() -> None:
    """A generated world: a room box larger on one side (7 m walls beyond 3.5 m ones) and
    the photo's detailed furniture 0.8-2.2 m from the capture point, with five times the
    walls' splats. Its 5-95 % extent's middle sat 1.2 m off and the furniture filled
    "the middle", and by the splats the detailed side made the ring too small: a bare
    .spz of the office world was framed from outside as a dish (a trial)."""
    rng = np.random.default_rng(3)
    n = 20000
    a = rng.uniform(0, 2 * np.pi, n)
    rad = np.where(np.cos(a) > 0, 7.0, 3.5)  # the invented room deeper towards +x
    wall = np.stack([rad * np.cos(a), rng.uniform(0, 2.7, n), rad * np.sin(a)], 1)
    r = 5.0 * np.sqrt(rng.uniform(0, 1, 2 * n))
    b = rng.uniform(0, 2 * np.pi, 2 * n)
    floor = np.stack([r * np.cos(b), np.zeros(2 * n), r * np.sin(b)], 1)
    c = rng.uniform(-1.0, 1.0, 5 * n)  # the photo's desk, shelves and chair, towards -z
    d = rng.uniform(0.8, 2.2, 5 * n)
    desk = np.stack([d * np.sin(c), rng.uniform(0.3, 2.0, 5 * n), -d * np.cos(c)], 1)
    view = enclosing_view(np.concatenate([wall, floor, desk]), UP)
    assert view is not None
    assert np.hypot(view[0][0], view[0][2]) < 2.5, view[0]  # well inside its 3.5-7 m walls


def test_an_object_or_a_facade_is_not_an_environment() -> None:
    rng = np.random.default_rng(1)
    room = _room(rng)
    # a toy on a table: upright content fills the middle
    blob = rng.normal(0, 0.3, (20000, 3)) + [1.0, 1.0, -2.0]
    table = room[room[:, 1] < 0.1]
    assert enclosing_view(np.concatenate([blob, table]), UP) is None
    # a façade walked past: one side only
    facade = room[(room[:, 1] < 0.1) | (room[:, 2] < -3.0)]
    assert enclosing_view(facade, UP) is None
    assert enclosing_view(room[:50], UP) is None  # too little to tell
    assert enclosing_view(np.full((1000, 3), np.nan), UP) is None


def test_render_frames_a_bare_world_from_inside() -> None:
    from cli.cmd_render import default_view
    from scene.gaussians import GaussianCloud
    from scene.world import Layer, World

    rng = np.random.default_rng(2)
    pts = _room(rng)
    w = World()
    w.add_layer(Layer("world", GaussianCloud.from_points(pts, rng.uniform(0, 1, pts.shape), 0.02)))
    eye, look = default_view(w)
    assert np.hypot(eye[0] - 1.0, eye[2] + 2.0) < 0.5 and 1.2 <= eye[1] <= 1.6
    # an object is still framed from outside
    blob = rng.normal(0, 0.3, (5000, 3))
    o = World()
    o.add_layer(Layer("toy", GaussianCloud.from_points(blob, rng.uniform(0, 1, blob.shape), 0.02)))
    eye, look = default_view(o)
    assert np.linalg.norm(eye - look) > 1.0 and eye[2] > 1.0


def test_render_says_when_the_eye_is_under_a_worlds_floor_or_outside_its_area() -> None:
    """A trial rendered the office world from 1 m under its floor (`render --eye 0,-1,0`)
    and got a view of the underside without a word."""
    from cli.cmd_render import eye_notes
    from scene.world import World

    w = World()
    assert eye_notes(w, np.array([0.0, -1.0, 0.0])) == []  # no walkable area: nothing said
    w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.1}
    assert eye_notes(w, np.array([0.3, 1.6, 0.2])) == []
    under, outside = eye_notes(w, np.array([3.0, -1.0, 0.0]))
    assert under.startswith("the eye is 1.00 m below the world's floor")
    assert outside.startswith("the eye is 3.00 m from the walkable area's centre")
