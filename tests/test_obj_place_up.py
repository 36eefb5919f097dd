"""Objects honour the world's up axis (issue 16 item 5): in a Z-up world placement stands
objects along Z, drops and ground heights go along Z, turns are about Z, duplicates sit
beside on the ground, and the Object menu's moves and snap (viewer.ext_objects) do too."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from generators.objects.place import (
    duplicate_layer,
    ground_height,
    insert_object,
    placement_transform,
    rotate_layer,
    snap_to_ground,
    view_placement,
)
from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.up_axis import up_rotation, upright_rotation, yaw_towards
from scene.world import Layer, World

Z_UP = np.array([0.0, 0.0, 1.0])


def z_up_world(z: float = -1.0, wall_y: float | None = None, n: int = 50) -> World:
    """A flat splat floor at height z (the XY plane), optionally a wall at y = wall_y."""
    g = np.linspace(-6, 6, n)
    xx, yy = np.meshgrid(g, g)
    pts = [np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, z)], 1)]
    step = g[1] - g[0]
    sc = [np.tile([step * 0.6, step * 0.6, 0.01], (xx.size, 1))]
    if wall_y is not None:
        zz = np.linspace(z, z + 4, 20)
        wx, wz = np.meshgrid(g, zz)
        pts.append(np.stack([wx.ravel(), np.full(wx.size, wall_y), wz.ravel()], 1))
        sc.append(np.tile([step * 0.6, 0.01, 0.15], (wx.size, 1)))
    p, s = np.concatenate(pts), np.concatenate(sc)
    cloud = GaussianCloud.from_points(p, np.full((len(p), 3), 0.5), s, opacity=0.95)
    w = World()
    w.up_axis = Z_UP.copy()
    w.add_layer(Layer("floor", cloud, kind="world"))
    w.clear_history()
    return w


def box_object(h: float = 0.6) -> GaussianCloud:
    """An object made as Wander makes them: +Y up, base centre at the origin, h tall."""
    rng = np.random.default_rng(0)
    pts = rng.uniform([-0.2, 0.0, -0.1], [0.2, h, 0.1], (300, 3))
    return GaussianCloud.from_points(pts, np.full((300, 3), 0.7), 0.02, opacity=0.9)


def test_up_frame_helpers() -> None:
    for up in (Z_UP, [0, 1.0, 0], [1.0, 0, 0], [0, 0, -1.0]):
        r = upright_rotation(up, 0.4)
        np.testing.assert_allclose(r @ [0, 1, 0], np.asarray(up, float), atol=1e-12)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) > 0
        # facing: the object's +Z turns towards the direction, up to its vertical part
        d = np.array([0.3, -0.8, 0.5])
        fz = upright_rotation(up, yaw_towards(d, up)) @ [0, 0, 1.0]
        flat = d - (d @ np.asarray(up, float)) * np.asarray(up, float)
        np.testing.assert_allclose(fz, flat / np.linalg.norm(flat), atol=1e-12)
    np.testing.assert_allclose(up_rotation(Z_UP) @ Z_UP, [0, 1, 0], atol=1e-12)
    y = upright_rotation([0, 1.0, 0], 0.7)
    c, s = math.cos(0.7), math.sin(0.7)
    np.testing.assert_allclose(y, [[c, 0, s], [0, 1, 0], [-s, 0, c]], atol=1e-15)  # +Y: as before


def test_placement_stands_objects_along_z() -> None:
    w = z_up_world()
    assert abs(ground_height(w) + 1.0) < 1e-6
    eye = np.array([0.0, -3.0, 0.6])
    m, hit = placement_transform(w, eye, [0.0, 1.0, -0.6], face_point=eye)
    assert hit is not None and abs(hit.point[2] + 1.0) < 0.05
    np.testing.assert_allclose(m[:3, :3] @ [0, 1, 0], Z_UP, atol=1e-9)  # object's up is world +Z
    front = m[:3, :3] @ [0, 0, 1.0]
    to_eye = (eye - m[:3, 3]) * [1, 1, 0]
    assert front @ to_eye / np.linalg.norm(to_eye) > 0.999  # faces the viewer about Z
    lay = insert_object(w, "box", box_object(), m)
    assert abs(lay.world_bounds()[0][2] + 1.0) < 0.05  # its base is on the floor
    # no surface hit (beyond the captured floor): stands on the ground plane, along Z
    m2, hit2 = placement_transform(w, [30.0, 0.0, 2.0], [1.0, 0.0, -0.5])
    assert hit2 is None and abs(m2[2, 3] + 1.0) < 1e-6 and m2[0, 3] > 30.0


def test_drop_turn_and_duplicate_along_z() -> None:
    w = z_up_world(z=-1.0)
    m = np.eye(4)
    m[:3, :3] = upright_rotation(Z_UP)
    m[:3, 3] = [0.5, 0.2, 2.0]
    lay = insert_object(w, "box", box_object(), m)
    hit = snap_to_ground(w, lay.id)
    assert hit is not None
    lo, _ = lay.world_bounds()
    assert abs(lo[2] + 1.0) < 0.05  # dropped along −Z onto the floor
    np.testing.assert_allclose(lay.transform[:2, 3], [0.5, 0.2])  # not moved sideways
    w.undo()
    assert abs(lay.transform[2, 3] - 2.0) < 1e-9
    rotate_layer(w, lay.id, math.pi / 2)
    np.testing.assert_allclose(lay.transform[:3, :3] @ [0, 1, 0], Z_UP, atol=1e-9)  # still upright
    np.testing.assert_allclose(lay.transform[:3, 3], [0.5, 0.2, 2.0], atol=1e-12)  # about its base
    np.testing.assert_allclose(
        lay.transform[:3, :3] @ [1, 0, 0], [0, 1, 0], atol=1e-9
    )  # turned about Z
    dup = duplicate_layer(w, lay.id)
    d = dup.transform[:3, 3] - lay.transform[:3, 3]
    assert abs(d[2]) < 1e-12 and np.linalg.norm(d) > 0.1  # beside it on the ground


def test_view_placement_in_front_of_a_wall_stands_on_the_z_floor() -> None:
    w = z_up_world(z=-1.0, wall_y=2.0)
    eye = np.array([0.0, -1.0, 0.6])
    obj = box_object()
    m, hit = view_placement(w, eye, [0.0, 1.0, 0.0], obj.bounds())  # looking level at the wall
    assert hit is not None and abs(hit.point[1] - 2.0) < 0.1
    assert abs(m[2, 3] + 1.0) < 0.05 and m[1, 3] < 2.0  # on the floor, in front of the wall
    np.testing.assert_allclose(
        m[:3, :3] @ [0, 1, 0] / np.linalg.norm(m[:3, :3] @ [0, 1, 0]), Z_UP, atol=1e-9
    )


def _tools(world: World, lay: Layer, forward: np.ndarray) -> object:
    """viewer.ext_objects.ObjectTools' move/snap functions on a stand-in window (no Qt widgets)."""
    from viewer.ext_objects import ObjectTools

    eye = np.array([0.0, -3.0, 0.6])
    status: list[str] = []
    win = SimpleNamespace(
        world=world,
        show_status=lambda text, *a: status.append(text),
        current_camera=lambda: Camera.look_at(eye, eye + forward, 60, 64, 48, up=Z_UP),
        pick_ray=lambda: (eye, np.array([0.0, 1.0, -0.6])),
    )
    tools = ObjectTools.__new__(ObjectTools)  # the methods under test use only the window
    tools.window = win
    tools.selected = lambda: lay
    tools.status = status
    return tools


def test_object_menu_moves_and_snap_follow_z_up() -> None:
    w = z_up_world(z=-1.0)
    m = np.eye(4)
    m[:3, :3] = upright_rotation(Z_UP)
    m[:3, 3] = [0.0, 0.0, 1.5]
    lay = insert_object(w, "box", box_object(), m)
    tools = _tools(w, lay, np.array([0.0, 1.0, -0.3]))
    assert tools.snap()
    assert abs(lay.world_bounds()[0][2] + 1.0) < 0.05  # End: onto the floor along −Z
    z0 = lay.transform[2, 3]
    assert tools.lift(0.5)  # Alt+PgUp: along +Z
    np.testing.assert_allclose(lay.transform[:3, 3] - [0, 0, z0], [0, 0, 0.5], atol=1e-12)
    before = lay.transform[:3, 3].copy()
    assert tools.nudge(0.0, 0.3)  # Alt+Up: away from the camera, on the ground (z kept)
    d = lay.transform[:3, 3] - before
    assert abs(d[2]) < 1e-12 and d[1] > 0.29
    assert tools.turn(math.pi / 2)  # ]: about Z, stays upright
    np.testing.assert_allclose(lay.transform[:3, :3] @ [0, 1, 0], Z_UP, atol=1e-9)
    assert tools.move_here()  # G: where the view centre hits the floor, along Z
    assert abs(lay.transform[2, 3] + 1.0) < 0.05
    # nothing below: the app says so and changes nothing
    far = np.eye(4)
    far[:3, :3] = upright_rotation(Z_UP)
    far[:3, 3] = [40.0, 0.0, 1.0]
    lone = insert_object(w, "lone", box_object(), far)
    tools = _tools(w, lone, np.array([0.0, 1.0, 0.0]))
    assert not tools.snap() and "nothing below" in tools.status[-1]
    np.testing.assert_allclose(lone.transform, far)


def _floor_world(up: np.ndarray) -> World:
    if up[2]:
        return z_up_world(z=-1.0)
    g = np.linspace(-6, 6, 50)
    xx, zz = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), np.full(xx.size, -1.0), zz.ravel()], 1)
    w = World()
    w.add_layer(
        Layer(
            "floor",
            GaussianCloud.from_points(
                pts,
                np.full((len(pts), 3), 0.5),
                np.tile([0.15, 0.01, 0.15], (len(pts), 1)),
                opacity=0.95,
            ),
            kind="world",
        )
    )
    return w


@pytest.mark.parametrize("up", [(0.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
def test_snap_matches_between_app_and_library(up) -> None:  # noqa: ANN001
    """The Object menu's snap and generators.objects.place.snap_to_ground are one drop."""
    upv = np.asarray(up)
    m = np.eye(4)
    m[:3, :3] = upright_rotation(upv, 0.3)
    m[:3, 3] = upv * 2.0 + [0.3, 0.0, 0.0] + (0.2 * (1 - upv))
    w1, w2 = _floor_world(upv), _floor_world(upv)
    a = insert_object(w1, "a", box_object(), m)
    b = insert_object(w2, "b", box_object(), m)
    snap_to_ground(w1, a.id)
    assert _tools(w2, b, np.array([0.0, 1.0, 0.0]) if upv[2] else np.array([0.0, 0.0, -1.0])).snap()
    np.testing.assert_allclose(a.transform, b.transform, atol=1e-12)
    assert abs(heights_min(a, upv) + 1.0) < 0.05
    assert abs((a.transform[:3, 3] - m[:3, 3]) @ (1 - upv)).max() < 1e-12  # straight down


def heights_min(lay: Layer, up: np.ndarray) -> float:
    lo, hi = lay.data.bounds()
    c = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    return float(((c @ lay.transform[:3, :3].T + lay.transform[:3, 3]) @ up).min())
