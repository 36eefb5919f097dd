"""What walking collides with (viewer/collision.py, no Qt): visible splats with their layer
transforms baked, points sampled on meshes, nothing from hidden layers."""

from __future__ import annotations

import numpy as np
import pytest

from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World
from viewer.collision import collider_for, collision_cloud, sample_mesh_surface


def square(size: float = 1.0) -> Mesh:
    """A size × size square in the y = 0 plane, corner at the origin (two triangles)."""
    v = np.array([[0, 0, 0], [size, 0, 0], [size, 0, size], [0, 0, size]], np.float32)
    return Mesh(v, np.array([[0, 1, 2], [0, 2, 3]]))


def translate_scale(t: tuple[float, float, float], s: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] *= s
    m[:3, 3] = t
    return m


def test_mesh_samples_lie_on_the_transformed_surface_spread_by_area() -> None:
    m = translate_scale((1.0, 2.0, -1.0), 3.0)
    pts = sample_mesh_surface(square(), m)
    assert pts.shape[1] == 3 and len(pts) >= 1000
    assert np.allclose(pts[:, 1], 2.0)
    assert pts[:, 0].min() >= 1.0 - 1e-9 and pts[:, 0].max() <= 4.0 + 1e-9
    assert pts[:, 2].min() >= -1.0 - 1e-9 and pts[:, 2].max() <= 2.0 + 1e-9
    # uniform over the area: each quarter of the square gets about a quarter of the points
    qx, qz = pts[:, 0] < 2.5, pts[:, 2] < 0.5
    for q in (qx & qz, qx & ~qz, ~qx & qz, ~qx & ~qz):
        assert abs(q.mean() - 0.25) < 0.05
    assert np.array_equal(pts, sample_mesh_surface(square(), m))  # seeded: the same each time


def test_a_mesh_without_area_gives_no_points() -> None:
    flat = Mesh(np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0]], np.float32), np.array([[0, 1, 2]]))
    assert sample_mesh_surface(flat, np.eye(4)).shape == (0, 3)


def test_collision_cloud_bakes_transforms_samples_meshes_and_skips_hidden_layers() -> None:
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, (300, 3))
    splats = GaussianCloud.from_points(pts, np.full((300, 3), 0.5), 0.05, 0.9)
    world = World()
    world.add_layer(Layer("room", splats, transform=translate_scale((10.0, 0.0, 0.0), 1.0)))
    world.add_layer(Layer("hidden", splats.copy(), visible=False))
    world.add_layer(
        Layer("floor", square(4.0), kind="mesh", transform=translate_scale((-20.0, -1.0, 0.0), 1.0))
    )
    cloud = collision_cloud(world)
    assert cloud is not None
    near_room = np.abs(cloud.means[:, 0] - 10.0) <= 1.0 + 1e-5
    on_floor = np.isclose(cloud.means[:, 1], -1.0) & (cloud.means[:, 0] <= -16.0 + 1e-5)
    assert near_room.sum() == 300  # the room, moved by its transform
    assert on_floor.sum() >= 1000  # points on the floor mesh, opaque
    assert near_room.sum() + on_floor.sum() == len(cloud)  # nothing from the hidden layer
    assert cloud.opacity_values()[on_floor].min() > 0.98


def test_camera_frusta_are_not_walked_on() -> None:
    """A reconstruction project's photo-camera frusta were sampled like any mesh: a drone
    scene's walker stood on them 30 m up and W did not move it. They mark where the photos
    were taken; walking collides with the scene only (a plain mesh still counts)."""
    from generators.reconstruct.preview import frusta_mesh
    from generators.reconstruct.synthetic import orbit_cameras

    frusta = frusta_mesh(orbit_cameras(4, 64, 48), 0.3)
    world = World()
    world.add_layer(Layer("Photo cameras", frusta, kind="mesh"))
    assert collision_cloud(world) is None and collider_for(world) is None
    plain = Mesh(frusta.vertices, frusta.faces)  # the same triangles as an ordinary mesh
    world.add_layer(Layer("sculpture", plain, kind="mesh"))
    cloud = collision_cloud(world)
    assert cloud is not None and len(cloud) >= 1000


def test_collision_cloud_caps_its_size_and_is_none_for_nothing_visible() -> None:
    world = World()
    assert collision_cloud(world) is None and collider_for(world) is None
    pts = np.random.default_rng(2).uniform(-1, 1, (5000, 3))
    world.add_layer(Layer("s", GaussianCloud.from_points(pts, np.full((5000, 3), 0.5), 0.05, 0.9)))
    capped = collision_cloud(world, max_splats=1200)
    assert capped is not None and len(capped) == 1200
    assert np.array_equal(capped.means, collision_cloud(world, max_splats=1200).means)


@pytest.mark.parametrize("up", [None, np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], float)])
def test_collider_for_a_floor_stands_the_walker_on_it(up: np.ndarray | None) -> None:
    world = World()
    # a dense opaque floor at height 0 in the world frame, +Y up or +Z up
    g = np.stack(np.meshgrid(np.linspace(-3, 3, 80), np.linspace(-3, 3, 80)), -1).reshape(-1, 2)
    floor = np.c_[g[:, 0], np.zeros(len(g)), g[:, 1]] if up is None else np.c_[g, np.zeros(len(g))]
    world.add_layer(
        Layer("floor", GaussianCloud.from_points(floor, np.full((len(g), 3), 0.5), 0.04, 0.95))
    )
    col = collider_for(world, up)
    assert col is not None
    ground = col.ground_at(0.5, 0.5, 1.0)
    assert ground is not None and abs(ground) < 0.05


def test_the_quick_collider_of_a_big_scene_finds_the_same_floor(monkeypatch) -> None:
    """The quick collider a big scene opens on (a subset of QUICK_SPLATS splats, each
    layer thinned by its share before it is copied) stands the walker on the floor the
    full collider finds: two layers, a floor at 0 and a raised platform at 0.5 m."""
    import viewer.collision as vc

    monkeypatch.setattr(vc, "QUICK_SPLATS", 4000)
    rng = np.random.default_rng(4)
    world = World()
    floor = np.c_[rng.uniform(-3, 3, 60000), np.zeros(60000), rng.uniform(-3, 3, 60000)]
    deck = np.c_[rng.uniform(0, 2, 20000), np.full(20000, 0.5), rng.uniform(0, 2, 20000)]
    for name, pts in (("floor", floor), ("deck", deck)):
        world.add_layer(
            Layer(name, GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.04, 0.95))
        )
    thin = collision_cloud(world, max_splats=4000)
    assert thin is not None and 3900 <= len(thin) <= 4000
    assert 0.2 < (thin.means[:, 1] > 0.25).mean() < 0.3  # each layer keeps its share
    full = collider_for(world)
    quick = collider_for(world, quick=True)
    assert full is not None and quick is not None
    for x, z, want in ((-2.0, -2.0, 0.0), (1.0, 1.0, 0.5), (2.5, -1.0, 0.0)):
        for col in (full, quick):
            g = col.ground_at(x, z, want + 1.6)
            assert g is not None and abs(g - want) < 0.1, (x, z, g)
