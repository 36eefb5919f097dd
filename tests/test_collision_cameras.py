"""Walk collision keeps the space round a reconstruction's photo cameras free of floaters."""

from __future__ import annotations

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.world import Layer, World


def _world(cam_height: float, blob_at: tuple[float, float, float]) -> World:
    """A 40 x 40 m floor at y = 0 (fine splats), a dense blob of splats at `blob_at`, and
    one photo camera at (0, cam_height, 0) looking ahead and down, in meta['cameras']."""
    rng = np.random.default_rng(1)
    g = np.arange(-20.0, 20.0, 0.25)
    xx, zz = np.meshgrid(g, g)
    floor = np.stack([xx.ravel(), np.zeros(xx.size), zz.ravel()], 1)
    blob = np.asarray(blob_at) + rng.normal(0.0, 0.15, (400, 3))
    pts = np.concatenate([floor, blob]).astype(np.float32)
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.15, 0.95)
    w = World()
    w.add_layer(Layer("scene", cloud, "world"))
    eye = np.array([0.0, cam_height, 0.0])
    cam = Camera.look_at(eye, eye + [0.0, -0.4, -1.0], 50.0, 64, 48)
    w.meta["cameras"] = [cam.to_record()]
    return w


def test_a_floater_under_a_drone_camera_is_no_ground() -> None:
    """Floaters the optimiser left 0.8 m under a drone's camera were solid "ground", and
    Walk from the Great Wall's photos stayed 30 m up (a trial). They are left out of the
    collider; the floor below is found."""
    from viewer.collision import clear_around_cameras, collider_for, collision_cloud

    w = _world(30.0, (0.0, 29.2, 0.0))
    col = collider_for(w)
    assert col is not None and abs(col.ground_at(0.0, 0.0, 30.0, 0.1)) < 0.3
    assert abs(collider_for(w, quick=True).ground_at(0.0, 0.0, 30.0, 0.1)) < 0.3
    # without the camera record the blob is solid, as before
    w.meta.pop("cameras")
    assert collider_for(w).ground_at(0.0, 0.0, 30.0, 0.1) > 28.0
    cloud = collision_cloud(w)
    assert clear_around_cameras(cloud, w) is cloud


def test_a_walks_cameras_clear_only_their_own_space() -> None:
    """A walk's 1.5 m cameras clear 0.6 m round them: a bench 1.2 m ahead stays solid."""
    from viewer.collision import collider_for

    w = _world(1.5, (0.0, 0.5, -1.2))
    col = collider_for(w)
    assert col.ground_at(0.0, -1.2, 1.5, 0.1) > 0.3  # the bench's top
    near = _world(1.5, (0.0, 1.2, 0.0))  # a blob at the photographer's chest: a floater
    assert abs(collider_for(near).ground_at(0.0, 0.0, 1.5, 0.1)) < 0.3
