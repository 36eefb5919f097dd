"""World layers, undo/redo commands, events, merged export cloud and cameras."""

import numpy as np
from conftest import random_cloud

from scene.camera import Camera, forward_from_yaw_pitch, yaw_pitch_from_forward
from scene.world import Layer, World, similarity_matrix


def test_layers_undo_redo_and_events() -> None:
    w = World()
    events: list = []
    w.subscribe(events.append)
    base = w.add_layer(Layer("world", random_cloud(10)))
    obj = w.add_layer(Layer("chair", random_cloud(5, 1, 3), kind="object"))
    assert [lay.name for lay in w.layers] == ["world", "chair"]
    w.set_transform(obj.id, similarity_matrix((1, 0, 0)))
    w.set_visible(base.id, False)
    assert len(w.merged_cloud()) == 5
    w.remove_layer(obj.id)
    assert [lay.name for lay in w.layers] == ["world"]
    assert w.undo() and [lay.name for lay in w.layers] == ["world", "chair"]
    assert w.undo() and w.layer(base.id).visible
    assert w.undo() and np.allclose(obj.transform, np.eye(4))
    assert w.redo() and np.allclose(obj.transform[:3, 3], (1, 0, 0))
    assert {"layers", "transform", "visibility"} <= {e.what for e in events}
    merged = w.merged_cloud()
    assert len(merged) == 15 and merged.sh_degree == 1
    np.testing.assert_allclose(merged.means[10:], obj.data.means + [1, 0, 0], atol=1e-6)


def test_unique_names() -> None:
    w = World()
    w.add_layer(Layer("obj", random_cloud(3)))
    assert w.unique_name("obj") == "obj 2"


def test_camera_projection_and_gl_matrices() -> None:
    cam = Camera.look_at((0, 1, 5), (0, 1, 0), 60, 640, 480)
    np.testing.assert_allclose(cam.position, (0, 1, 5), atol=1e-12)
    uv, z = cam.project(np.array([[0, 1, 0], [1, 1, 0]]))
    np.testing.assert_allclose(uv[0], (320, 240))
    assert uv[1, 0] > 320 and z[0] == 5
    # GL matrices put the same point at the same pixel
    p = cam.gl_projection_matrix(0.1, 100) @ cam.gl_view_matrix() @ np.array([1, 1.5, 0, 1.0])
    ndc = p[:3] / p[3]
    px = ((ndc[0] + 1) / 2 * 640, (1 - ndc[1]) / 2 * 480)
    uv2, _ = cam.project(np.array([[1, 1.5, 0]]))
    np.testing.assert_allclose(px, uv2[0], atol=1e-6)
    yaw, pitch = yaw_pitch_from_forward(forward_from_yaw_pitch(0.3, -0.2))
    assert abs(yaw - 0.3) < 1e-9 and abs(pitch + 0.2) < 1e-9


def test_level_up_ignores_a_shared_downward_pitch() -> None:
    """Every photo looking 30° down must not tilt the estimated up (the mean up would)."""
    from scene.camera import level_up_from_rotations

    cams = [
        Camera.from_yaw_pitch((0, 1.6, 0), yaw, -0.5, 60, 64, 48) for yaw in (0.0, 0.4, 0.9, 1.3)
    ]
    np.testing.assert_allclose(level_up_from_rotations([c.R for c in cams]), (0, 1, 0), atol=1e-9)
    # one viewing direction cannot tell pitch from tilt: up stays perpendicular to x
    one_way = Camera.from_yaw_pitch((0, 1.6, 0), 0.2, -0.5, 60, 64, 48)
    assert abs(level_up_from_rotations([one_way.R]) @ one_way.R[0]) < 1e-9
