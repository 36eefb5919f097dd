"""Cleaning a splat scene (pytest-qt under Xvfb + the pure geometry): box-select floaters ->
delete -> undo; lasso, sphere, add/subtract/invert; separate into a layer; the highlight."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

from PyQt6.QtCore import QPoint, Qt  # noqa: E402
from PyQt6.QtTest import QTest  # noqa: E402

from scene.camera import Camera  # noqa: E402
from scene.gaussians import GaussianCloud  # noqa: E402
from scene.world import Layer, World  # noqa: E402
from viewer.splat_select import box_polygon, combine, polygon_mask, sphere_mask  # noqa: E402

N_FLOOR = 40 * 40
N_FLOATERS = 60


def scene_cloud() -> GaussianCloud:
    g = np.linspace(-3, 3, 40)
    fx, fz = np.meshgrid(g, g)
    floor = np.stack([fx.ravel(), np.zeros(fx.size), fz.ravel()], 1)
    rng = np.random.default_rng(1)
    floaters = rng.normal([0.0, 1.6, 0.0], 0.15, (N_FLOATERS, 3))  # a cloud of junk in the air
    pts = np.concatenate([floor, floaters])
    col = np.concatenate([np.full((N_FLOOR, 3), 0.4), np.full((N_FLOATERS, 3), 0.9)])
    return GaussianCloud.from_points(pts, col, 0.03, opacity=0.95)


def test_polygon_and_sphere_geometry() -> None:
    cam = Camera.look_at([0, 0, 5], [0, 0, 0], width=200, height=100, fov_y_deg=60)
    pts = np.array(
        [[0, 0, 0], [10, 0, 0], [0, 0, 6], [0.2, 0.1, 0]], float
    )  # centre, off-screen, behind
    m = polygon_mask(cam, pts, box_polygon(80, 30, 120, 70))
    assert m.tolist() == [True, False, False, True]
    tri = np.array([[100, 10], [190, 90], [10, 90]])  # lasso (triangle)
    assert polygon_mask(cam, pts[:1], tri).tolist() == [True]
    assert sphere_mask(pts, [0, 0, 0], 0.25).tolist() == [True, False, False, True]
    a, b = np.array([1, 1, 0, 0], bool), np.array([0, 1, 1, 0], bool)
    assert combine(a, b, "add").tolist() == [1, 1, 1, 0]
    assert combine(a, b, "subtract").tolist() == [1, 0, 0, 0]
    assert combine(a, b, "replace").tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError):
        combine(a, b, "xor")


def test_world_remove_and_separate_splats_undo() -> None:
    w = World()
    lay = w.add_layer(Layer("World", scene_cloud()))
    mask = np.zeros(len(lay.data), bool)
    mask[N_FLOOR:] = True
    assert w.remove_splats(lay.id, mask) == N_FLOATERS and len(lay.data) == N_FLOOR
    w.undo()
    assert len(lay.data) == N_FLOOR + N_FLOATERS
    part = w.separate_splats(lay.id, mask)
    assert part.kind == "object" and len(part.data) == N_FLOATERS and len(lay.data) == N_FLOOR
    assert np.allclose(part.data.means, scene_cloud().means[N_FLOOR:])
    w.undo()
    assert len(w.layers) == 1 and len(lay.data) == N_FLOOR + N_FLOATERS
    w.redo()
    assert len(w.layers) == 2
    with pytest.raises(ValueError):
        w.remove_splats(lay.id, mask[:3])


@pytest.fixture
def window(app_window, qtbot):  # conftest's shared window, the scene open
    from viewer import ext_objects, ext_splats

    win = app_window(ext_objects, ext_splats, size=(800, 520), active=True)
    w = World()
    w.add_layer(Layer("World", scene_cloud()))
    w.clear_history()
    win.set_world(w)
    win.set_mode("fly")
    win.viewport.nav.set_view_world([0.0, 1.6, 4.0], [0.0, 0.0, -1.0])
    qtbot.wait(100)
    return win


def screen(window, p) -> QPoint:  # noqa: ANN001
    uv, _ = window.extensions["splat_tools"].camera().project(np.asarray(p, float)[None])
    return QPoint(int(round(uv[0, 0])), int(round(uv[0, 1])))


@pytest.mark.gl
def test_box_select_floaters_delete_undo(window, qtbot) -> None:  # noqa: ANN001
    tools = window.extensions["splat_tools"]
    layer = window.world.layers[0]
    vp = window.viewport
    qtbot.keyClick(vp, Qt.Key.Key_B)  # box tool
    assert tools.tool == "box"
    a, b = screen(window, [-0.8, 2.4, 0.0]), screen(window, [0.8, 0.8, 0.0])
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    QTest.mouseMove(vp, (a + b) / 2)
    QTest.mouseMove(vp, b)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)
    sel = tools.selection.get(layer)
    assert sel is not None and sel[N_FLOOR:].all() and not sel[:N_FLOOR].any()
    img = tools.overlay.highlight_image(tools.camera())  # highlighted where the floaters are
    assert img is not None and img[..., 3].any()
    ys, xs = np.nonzero(img[..., 3])
    assert a.y() <= ys.mean() <= b.y()
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert len(layer.data) == N_FLOOR and not tools.selection
    assert window.world._undo[-1].text == f"Delete {N_FLOATERS} splats"
    qtbot.keyClick(vp, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(layer.data) == N_FLOOR + N_FLOATERS
    qtbot.keyClick(vp, Qt.Key.Key_Escape)  # Esc stops the tool
    assert tools.tool is None


@pytest.mark.gl
def test_lasso_sphere_invert_and_separate(window, qtbot) -> None:  # noqa: ANN001
    tools = window.extensions["splat_tools"]
    layer = window.world.layers[0]
    cam = tools.camera()
    c = screen(window, [0.0, 1.6, 0.0])
    ring = [(c.x() + 70 * np.cos(t), c.y() + 70 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 24)]
    assert tools.select_polygon(np.array(ring), cam=cam) == N_FLOATERS
    # Ctrl-subtract a sphere around the floaters' centre, Shift-add it back
    tools.select_sphere(np.array([0.0, 1.6, 0.0]), 0.15, "subtract")
    inside = np.linalg.norm(layer.data.means[N_FLOOR:] - [0, 1.6, 0], axis=1) <= 0.15
    assert tools.selection.count() == N_FLOATERS - inside.sum()
    tools.select_sphere(np.array([0.0, 1.6, 0.0]), 0.15, "add")
    assert tools.selection.count() == N_FLOATERS
    tools.invert()
    assert tools.selection.count() == N_FLOOR
    tools.invert()
    # sphere by mouse: press on a floater, drag out
    tools.set_tool("sphere")
    vp = window.viewport
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=c)
    QTest.mouseMove(vp, c + QPoint(60, 0))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=c + QPoint(60, 0))
    assert 0 < tools.selection.count() <= N_FLOATERS
    tools.select_polygon(np.array(ring), cam=cam)
    part = tools.separate()
    assert part is not None and len(part.data) == N_FLOATERS and len(layer.data) == N_FLOOR
    assert window.selected_layer_id() == part.id  # a layer of its own, ready to move
    window.undo()
    assert len(window.world.layers) == 1 and len(layer.data) == N_FLOOR + N_FLOATERS
