"""A reconstruction saved without Wander's sidecar keeps its sky sphere 1 km out, unmarked:
opening, framing, up-axis estimation and exporting must not take that shell for the scene
(a trial: the file opened upside down, `render` framed it as a blue ball)."""

from __future__ import annotations

import numpy as np

from scene.gaussians import GaussianCloud
from scene.world import Layer, World


def _ridge_under_sky(seed: int = 0) -> GaussianCloud:
    """A drone's view of a ridge (+Y up, metres): a flat-topped hill whose wide top at
    y = 15 holds the biggest plane, most of the hill below it, and a sky sphere 1 km out
    over the directions the photos saw (above the horizon, ahead: -Z)."""
    rng = np.random.default_rng(seed)
    top = np.c_[rng.uniform(-40, 40, 9000), np.full(9000, 15.0), rng.uniform(-40, 40, 9000)]
    r = rng.uniform(0, 1, 7000) ** 0.5
    a = rng.uniform(0, 2 * np.pi, 7000)
    slope = np.c_[
        (40 + 60 * r) * np.cos(a),
        15 - 15 * r * rng.uniform(0.6, 1, 7000),
        (40 + 60 * r) * np.sin(a),
    ]
    d = rng.normal(size=(400, 3))
    d[:, 1] = np.abs(d[:, 1])  # above the horizon
    d[:, 2] = -np.abs(d[:, 2])  # ahead
    sky = 1000.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    pts = np.concatenate([top, slope, sky]).astype(np.float32)
    return GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.3, 0.95)


def test_up_axis_of_a_ridge_under_its_sky_points_to_the_sky() -> None:
    """The floor fit alone reads the ridge's top as a ceiling (most of the scene under it)
    and turns the scene over; the sky above decides which side of that plane is up."""
    from viewer.up_axis import estimate_up, far_field_direction, up_from_points, world_dense_points

    world = World()
    world.add_layer(Layer("scene", _ridge_under_sky(), "world"))
    pts = world_dense_points(world, visible_only=False)
    assert np.abs(pts).max() < 200  # the sky sphere is no floor candidate
    n, _ = up_from_points(pts)
    assert n[1] < -0.9  # the plane is found, upside down
    sky = far_field_direction(world)
    assert sky is not None and sky[1] > 0.3
    up, source = estimate_up(world, pts)
    np.testing.assert_allclose(up, [0.0, 1.0, 0.0], atol=1e-6)
    assert source == "floor"


def test_a_room_without_sky_keeps_its_floor() -> None:
    from viewer.up_axis import estimate_up, far_field_direction, world_dense_points

    rng = np.random.default_rng(1)
    floor = np.c_[rng.uniform(-3, 3, 4000), np.zeros(4000), rng.uniform(-3, 3, 4000)]
    rest = rng.uniform([-3, 0.2, -3], [3, 2.5, 3], (2000, 3))
    pts = np.concatenate([floor, rest]).astype(np.float32)
    world = World()
    world.add_layer(
        Layer("room", GaussianCloud.from_points(pts, np.full((6000, 3), 0.5), 0.05, 0.9))
    )
    assert far_field_direction(world) is None
    up, source = estimate_up(world, world_dense_points(world))
    np.testing.assert_allclose(up, [0.0, 1.0, 0.0], atol=1e-6)
    assert source == "floor"


def test_render_frames_the_scene_inside_its_sky_sphere() -> None:
    from cli.cmd_render import default_view

    world = World()
    world.add_layer(Layer("scene", _ridge_under_sky(), "world"))
    eye, look = default_view(world)
    assert np.linalg.norm(eye) < 600  # inside the sphere, not outside it looking at a ball
    assert np.linalg.norm(look) < 100


def test_export_leaves_out_the_far_field_on_request(tmp_path) -> None:  # noqa: ANN001
    import scene.io as sio
    from scene.export import ExportOptions, apply_options

    cloud = _ridge_under_sky()
    n_near = 16000
    assert len(apply_options(cloud, ExportOptions())) == len(cloud)
    near = apply_options(cloud, ExportOptions(no_far_field=True))
    assert len(near) == n_near and np.abs(near.means).max() < 200
    marked = cloud.subset(np.arange(n_near))  # a marker drops splats however near they are
    marked.meta["far_field"] = {"count": 1000}
    assert len(apply_options(marked, ExportOptions(no_far_field=True))) == n_near - 1000

    from cli import run_cli

    src = tmp_path / "scene.ply"
    sio.save(cloud, src)
    out = tmp_path / "near.ply"
    assert run_cli(["export", str(src), "--out", str(out), "--no-far-field"]) == 0
    assert len(sio.load(out)) == n_near
