"""Objects in the real window (pytest-qt under Xvfb): insert from a photo through the job
runner, see it rendered, move with keys, undo / redo, duplicate, delete, hide, rename."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

from PyQt6.QtCore import Qt  # noqa: E402

from generators.objects.pipeline import ObjectRequest  # noqa: E402
from scene.gaussians import GaussianCloud  # noqa: E402
from scene.world import Layer, World  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.gl]


@pytest.fixture
def window(app_window):  # conftest's shared window
    from viewer import ext_objects

    # active: window shortcuts (Alt+arrows, Ctrl+D...) need the active window
    return app_window(ext_objects, active=True)


def press(qtbot, window, key, mod=Qt.KeyboardModifier.NoModifier) -> None:  # noqa: ANN001
    """A key press in the viewport, then a moment for the window's deferred action updates."""
    qtbot.keyClick(window.viewport, key, mod)
    qtbot.wait(30)


def grey_floor() -> GaussianCloud:
    g = np.arange(-4, 4, 0.1)
    fx, fz = np.meshgrid(g, g)
    pts = np.stack([fx.ravel(), np.zeros(fx.size), fz.ravel()], 1)
    scales = np.tile([0.06, 0.01, 0.06], (len(pts), 1))
    return GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.45), scales, opacity=0.98)


def test_insert_move_undo_delete_in_the_app(window, qtbot) -> None:  # noqa: ANN001
    w = World()
    w.add_layer(Layer("floor", grey_floor()))
    window.set_world(w)
    qtbot.wait(200)
    window.set_mode("fly")  # no gravity: the test looks at a fixed spot
    window.viewport.nav.set_view_world([0.0, 1.2, 2.5], [0.0, -0.45, -1.0])
    tools = window.extensions["objects_tools"]
    before = window.viewport.render_to_image(160, 120).astype(int)

    tools.start(ObjectRequest(image=skimage.data.coffee(), resolution=96, with_mesh=False))
    qtbot.waitUntil(lambda: len(window.world.layers) == 2, timeout=60000)
    obj = window.world.layers[1]
    assert obj.kind == "object" and obj.source["backend"] == "classical"
    assert window.selected_layer_id() == obj.id
    lo, _ = obj.world_bounds()
    assert abs(lo[1]) < 0.05  # resting on the floor it was dropped on
    after = window.viewport.render_to_image(160, 120).astype(int)
    changed = np.abs(after - before).max(axis=2) > 30
    assert changed.mean() > 0.02  # the cup is in the picture
    ys, xs = np.nonzero(changed)
    assert 40 < xs.mean() < 120  # ... near the middle, where we looked

    t0 = obj.transform.copy()
    window.viewport.setFocus()
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert obj.transform[0, 3] > t0[0, 3]
    qtbot.wait(300)
    moved = window.viewport.render_to_image(160, 120).astype(int)
    assert np.abs(moved - after).max() > 30
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.allclose(obj.transform, t0)
    press(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert obj.transform[0, 3] > t0[0, 3]

    qtbot.keyClick(window.viewport, Qt.Key.Key_BracketRight)  # turn
    press(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [x.kind for x in window.world.layers] == ["world", "object", "object"]
    dup = window.world.layers[2]
    assert window.selected_layer_id() == dup.id
    press(qtbot, window, Qt.Key.Key_Delete)
    assert [x.id for x in window.world.layers] == [window.world.layers[0].id, obj.id]
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.world.layers[2] is dup
    qtbot.waitUntil(lambda: window.selected_layer_id() == dup.id, timeout=2000)  # undeleted
    # undo the duplicate, then redo it: the copy comes back selected, as it was made
    window.select_layer(obj.id)
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the duplicate
    assert len(window.world.layers) == 2
    press(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.world.layers[2] is dup
    qtbot.waitUntil(lambda: window.selected_layer_id() == dup.id, timeout=2000)
    press(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # delete again
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.world.layers[2] is dup

    window.select_layer(obj.id)
    press(qtbot, window, Qt.Key.Key_H)
    assert not obj.visible
    qtbot.wait(300)
    hidden = window.viewport.render_to_image(160, 120).astype(int)
    assert tools.rename("espresso cup") and obj.name == "espresso cup"
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert obj.visible and obj.name != "espresso cup"
    qtbot.wait(300)
    shown = window.viewport.render_to_image(160, 120).astype(int)
    assert np.abs(shown - hidden).max() > 30


def test_snap_and_bad_file_keep_the_scene(window, qtbot, tmp_path) -> None:  # noqa: ANN001
    w = World()
    w.add_layer(Layer("floor", grey_floor()))
    window.set_world(w)
    qtbot.wait(100)
    window.set_mode("fly")
    window.viewport.nav.set_view_world([0.0, 1.2, 2.5], [0.0, -0.45, -1.0])
    tools = window.extensions["objects_tools"]
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"nope")
    errors: list[BaseException] = []
    job = window.run_job(
        "import",
        lambda p, c: __import__("generators.objects.pipeline", fromlist=["x"]).generate_object(
            ObjectRequest(backend="import", input=bad), p, c
        ),
        tools.insert_result,
        errors.append,
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "broken.glb" in str(errors[0]) and len(window.world.layers) == 1 and job is not None

    import trimesh

    mesh_path = tmp_path / "box.glb"
    trimesh.creation.box((1, 1, 1)).export(str(mesh_path))
    tools.start(ObjectRequest(backend="import", input=mesh_path, samples=3000))
    qtbot.waitUntil(lambda: len(window.world.layers) == 2, timeout=20000)
    obj = window.world.layers[1]
    press(qtbot, window, Qt.Key.Key_PageUp, Qt.KeyboardModifier.AltModifier)
    assert obj.world_bounds()[0][1] > 0.01
    press(qtbot, window, Qt.Key.Key_End)
    assert abs(obj.world_bounds()[0][1]) < 0.03

    # a mesh kept as a mesh is an object layer too, and it is drawn
    from generators.objects.pipeline import generate_object
    from scene.mesh import Mesh

    qtbot.wait(200)
    before = window.viewport.render_to_image(160, 120).astype(int)
    res = generate_object(ObjectRequest(backend="import", input=mesh_path, as_mesh=True))
    eye = window.current_camera().position
    lay = tools.insert_result(res, (eye, np.array([-0.8, 0.0, 0.0]) - eye))
    assert isinstance(lay.data, Mesh) and lay.kind == "object"
    qtbot.wait(300)
    after = window.viewport.render_to_image(160, 120).astype(int)
    assert (np.abs(after - before).max(axis=2) > 30).mean() > 0.01


def test_object_inserted_while_looking_at_a_wall_stands_on_the_floor(
    window, qtbot, tmp_path
) -> None:  # noqa: ANN001
    import trimesh
    from test_navigation import room_cloud

    from generators.objects.pipeline import generate_object

    w = World()
    w.add_layer(Layer("room", room_cloud(size=8.0, spacing=0.1, wall_z=-2.0)))
    window.set_world(w)
    mesh_path = tmp_path / "box.glb"
    trimesh.creation.box((1, 1, 1)).export(str(mesh_path))
    res = generate_object(ObjectRequest(backend="import", input=mesh_path, samples=2000))
    tools = window.extensions["objects_tools"]
    lay = tools.insert_result(res, (np.array([0.0, 1.6, 1.0]), np.array([0.0, 0.0, -1.0])))
    lo, hi = lay.world_bounds()
    assert abs(lo[1]) < 0.05  # on the floor, not hung on the wall at eye height
    assert -2.0 < lo[2] and hi[2] < -0.5  # just in front of the wall it was pointed at
    # sized by its distance, and said so with the way to its real size (a trial's coffee
    # cup stood as wide as a chair without a word)
    msg = window.statusBar().currentMessage()
    assert f"{hi[1] - lo[1]:.2f} m tall (a quarter of its distance" in msg, msg
    tools.insert_result(res, (np.array([0.0, 1.6, 1.0]), np.array([0.0, 0.0, -1.0])), height=0.5)
    assert "a quarter of its distance" not in window.statusBar().currentMessage()


def test_an_object_inserted_below_the_view_turns_the_view_to_it(window, qtbot, tmp_path) -> None:  # noqa: ANN001
    """Looking up at a far facade (a trial: the Sceaux world's start view, 9.8° up), the
    view ray meets the scene 30 m off, so the object stands on the floor 3 m ahead: below
    the view's bottom edge, selected but unseen. The view now turns to it, from where it
    stands, and the status says so; an object already in view leaves the view alone."""
    import trimesh

    from generators.objects.pipeline import generate_object

    g = np.arange(-15, 15, 0.25)
    fx, fy = np.meshgrid(g, np.arange(0, 15, 0.25))
    facade = np.stack([fx.ravel(), fy.ravel(), np.full(fx.size, -30.0)], 1)
    far = GaussianCloud.from_points(
        facade, np.full((len(facade), 3), 0.6), np.tile([0.15, 0.15, 0.02], (len(facade), 1))
    )
    w = World()
    w.add_layer(Layer("floor", grey_floor()))
    w.add_layer(Layer("facade", far))
    window.set_world(w)
    qtbot.wait(200)
    window.set_mode("fly")
    nav = window.viewport.nav
    eye = np.array([0.0, 1.6, 0.0])
    nav.set_view_world(eye, [0.0, np.tan(np.radians(10.0)), -1.0])
    mesh_path = tmp_path / "box.glb"
    trimesh.creation.box((1, 1, 1)).export(str(mesh_path))
    res = generate_object(ObjectRequest(backend="import", input=mesh_path, samples=2000))
    tools = window.extensions["objects_tools"]
    lay = tools.insert_result(res)
    lo, hi = lay.world_bounds()
    assert abs(lo[1]) < 0.05 and -4.0 < hi[2] < 0.0  # on the floor a few metres ahead
    cam = window.current_camera()
    uv, z = cam.project(((lo + hi) / 2)[None])
    assert z[0] > 0 and 0 < uv[0, 0] < cam.width and 0 < uv[0, 1] < cam.height
    assert np.allclose(nav.position_world, eye, atol=1e-6)  # turned, not moved
    assert "turned to show it" in window.statusBar().currentMessage()
    second = tools.insert_result(res)  # beside the first (not in it), and in view
    lo2, hi2 = second.world_bounds()
    assert lo2[0] > hi[0] or hi2[0] < lo[0]
    cam = window.current_camera()
    uv, z = cam.project(((lo2 + hi2) / 2)[None])
    assert z[0] > 0 and 0 < uv[0, 0] < cam.width and 0 < uv[0, 1] < cam.height
    pitch = nav.pitch
    lay.visible = False  # its spot is free again: the next lands there, in view
    tools.insert_result(res)
    assert nav.pitch == pitch


def test_an_object_from_a_photo_goes_in_as_its_mesh_when_asked(window, qtbot, tmp_path) -> None:  # noqa: ANN001
    """An object made in the app could only be splats, and Export Layer refused GLB for it
    (a trial). Insert Object from Photo's "Insert as: Mesh" puts in the mesh the backend
    built, which exports to GLB; without a mesh the splats go in, and the status says so."""
    import trimesh
    from test_navigation import room_cloud

    from generators.objects.pipeline import ObjectResult
    from scene.gaussians import GaussianCloud
    from scene.mesh import Mesh
    from viewer.ext_objects import SegmentDialog

    w = World()
    w.add_layer(Layer("room", room_cloud(size=8.0, spacing=0.1, wall_z=-2.0)))
    window.set_world(w)
    box = trimesh.creation.box((0.5, 0.5, 0.5))
    mesh = Mesh(np.asarray(box.vertices, np.float32) + [0, 0.25, 0], np.asarray(box.faces))
    cloud = GaussianCloud.from_points(
        np.asarray(box.vertices) + [0, 0.25, 0], np.full((8, 3), 0.5), 0.05
    )
    res = ObjectResult("cup", cloud, mesh, {"generator": "wander.object"})
    tools = window.extensions["objects_tools"]
    ray = (np.array([0.0, 1.6, 1.0]), np.array([0.0, -0.5, -1.0]))
    lay = tools.insert_result(res, ray, as_mesh=True)
    assert isinstance(lay.data, Mesh) and lay.kind == "object"
    from cli.cmd_export import mesh_export_problem
    from scene.export import export_world

    out = tmp_path / "cup.glb"
    assert mesh_export_problem(window.world, "glb", lay.id) is None  # Export Layer takes it
    export_world(window.world, out, None, layer=lay.id)
    assert trimesh.load(str(out), force="mesh").vertices.shape[0] >= 8
    status: list[str] = []
    window.show_status = lambda text, *a: status.append(text)
    lay2 = tools.insert_result(ObjectResult("cup", cloud, None, {}), ray, as_mesh=True)
    assert isinstance(lay2.data, GaussianCloud) and "as splats" in status[-1]
    # the colours were matched to the room's light, and the status says by how much
    gain = lay2.source["light_gain"]
    assert abs(gain - 1.0) >= 0.02 and f"×{gain:.2f} to match the light" in status[-1]
    photo = tmp_path / "cup.png"
    import cv2

    cv2.imwrite(str(photo), skimage.data.coffee()[:, :, ::-1])
    dlg = SegmentDialog(None, photo)
    qtbot.addWidget(dlg)
    assert not dlg.as_mesh()
    dlg.kind.setCurrentIndex(dlg.kind.findData("mesh"))
    assert dlg.as_mesh()


def test_segment_dialog_box_preview_and_request(qtbot, x_display, tmp_path) -> None:  # noqa: ANN001
    import cv2
    from PyQt6.QtCore import QPoint

    from viewer.ext_objects import SegmentDialog

    photo = tmp_path / "cup.png"
    cv2.imwrite(str(photo), skimage.data.coffee()[:, :, ::-1])
    dlg = SegmentDialog(None, photo)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    c = dlg.canvas
    s = c.scale
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=QPoint(int(60 * s), int(20 * s)))
    qtbot.mouseMove(c, QPoint(int(500 * s), int(390 * s)))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(int(500 * s), int(390 * s)))
    assert c.box is not None and abs(c.box[0] - 60) < 3 and abs(c.box[3] - 390) < 3
    dlg.preview()
    assert c.mask is not None and 0.25 < c.mask.mean() < 0.7 and "Mask" in dlg.info.text()
    req = dlg.request()
    assert req.backend == "classical" and req.box is not None and req.box.startswith("6")
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=QPoint(int(300 * s), int(200 * s)))
    assert c.point is not None and abs(c.point[0] - 300) < 3
    # a photo of nothing: no mask, a clear message, nothing crashes
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.full((120, 160, 3), 128, np.uint8))
    empty = SegmentDialog(None, flat)
    qtbot.addWidget(empty)
    empty.preview()
    assert (
        empty.canvas.mask is None
        and "No mask" in empty.info.text()
        and "object" in empty.info.text()
    )
