"""Picking what the user sees at a pixel (viewer/picking.py): the renderer's EWA footprint
and front-to-back opacity, not a circle around each splat (no GL needed)."""

from __future__ import annotations

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World
from viewer.picking import pick, splat_hit


def flat_floor(n: int = 30, half: float = 6.0) -> GaussianCloud:
    g = np.linspace(-half, half, n)
    x, z = np.meshgrid(g, g)
    pts = np.stack([x.ravel(), np.zeros(x.size), z.ravel()], 1)
    step = 2 * half / (n - 1)
    return GaussianCloud.from_points(
        pts, np.full((len(pts), 3), 0.5), np.tile([step, 0.002, step], (len(pts), 1)), opacity=0.99
    )


def blob(centre, n: int = 200, r: float = 0.25) -> GaussianCloud:
    rng = np.random.default_rng(0)
    pts = np.asarray(centre) + rng.normal(0, r / 2, (n, 3))
    return GaussianCloud.from_points(pts, np.full((n, 3), 0.8), 0.04, opacity=0.95)


def test_grazing_floor_splats_do_not_steal_the_pick() -> None:
    cam = Camera.look_at([0, 1.6, 3], [0, 1.0, -3], width=640, height=400, fov_y_deg=60)
    w = World()
    floor = w.add_layer(Layer("World", flat_floor()))
    obj = w.add_layer(Layer("chelsea", blob([0.0, 1.0, -3.0]), kind="object"))
    uv, _ = cam.project(np.array([[0.0, 1.0, -3.0]]))
    hit = pick(w, cam, *uv[0])
    assert hit is not None and hit.layer_id == obj.id
    assert abs(hit.point[2] + 3.0) < 0.4
    # below the object the floor is what one sees
    uvf, _ = cam.project(np.array([[0.0, 0.0, -1.0]]))
    assert pick(w, cam, *uvf[0]).layer_id == floor.id
    # above the horizon: nothing
    assert pick(w, cam, 320, 5) is None
    # hidden layers and excluded ones are not picked
    assert (
        pick(w, cam, *uv[0], exclude=(obj.id,)) is None
        or pick(w, cam, *uv[0], exclude=(obj.id,)).layer_id != obj.id
    )


def test_mesh_in_front_of_splats_wins_and_transform_is_honoured() -> None:
    cam = Camera.look_at([0, 0, 5], [0, 0, 0], width=320, height=240, fov_y_deg=50)
    w = World()
    back = w.add_layer(Layer("wall", blob([0, 0, -1.0], r=1.0)))
    quad = Mesh(
        np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32),
        np.array([[0, 1, 2], [0, 2, 3]]),
    )
    m = np.eye(4)
    m[:3, 3] = [0, 0, 1.0]
    mesh = w.add_layer(Layer("card", quad, kind="object", transform=m))
    assert pick(w, cam, 160, 120).layer_id == mesh.id
    hit = pick(w, cam, 160, 120)
    assert abs(hit.depth - 4.0) < 1e-6
    w.layer(mesh.id).visible = False
    assert pick(w, cam, 160, 120).layer_id == back.id


def test_splat_hit_uses_the_projected_ellipse() -> None:
    cam = Camera.look_at([0, 0, 5], [0, 0, 0], width=400, height=400, fov_y_deg=60)
    # one long thin splat along x: hit along its length, missed the same distance along y
    c = GaussianCloud.from_points(
        np.zeros((1, 3)), np.ones((1, 3)), np.array([[0.5, 0.01, 0.01]]), opacity=0.99
    )
    assert splat_hit(c, np.eye(4), cam, 200 + 40, 200) is not None
    assert splat_hit(c, np.eye(4), cam, 200, 200 + 40) is None
