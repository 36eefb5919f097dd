"""The real window under Xvfb/llvmpipe, driven with pytest-qt: open, walk, collide, fall,
outliner visibility, screenshots, jobs, extensions, undo."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

pytestmark = pytest.mark.gl

from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QDropEvent
from test_navigation import room_cloud

from generators.jobs import Cancelled
from scene.gaussians import GaussianCloud
from scene.world import Layer, World, similarity_matrix


@pytest.fixture
def window(app_window):  # conftest's shared window, no features
    return app_window(theme=True)


def small_room(wall_z: float | None = -2.5) -> GaussianCloud:
    cloud = room_cloud(size=8.0, spacing=0.14, wall_z=wall_z)
    rng = np.random.default_rng(3)
    cloud.sh0[:] = rng.normal(0, 0.6, cloud.sh0.shape)  # texture so the render is not flat
    return cloud


def open_world(window, qtbot, world: World) -> None:
    window.set_world(world)
    qtbot.wait(300)


def hold_key(qtbot, widget, key, ms: int) -> None:
    qtbot.keyPress(widget, key)
    qtbot.wait(ms)
    qtbot.keyRelease(widget, key)


def test_open_file_and_walk_forward(window, qtbot, tmp_path) -> None:
    import scene.io

    path = tmp_path / "room.ply"
    scene.io.save(small_room(wall_z=None), path)
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=15000)
    assert window.path == path and window.stack.currentWidget() is window.viewport
    assert window.outliner.topLevelItemCount() == 1
    nav = window.viewport.nav
    assert nav.mode == "walk"
    qtbot.wait(300)  # settle on the ground
    p0, fwd = nav.position_world.copy(), nav.forward_world()
    hold_key(qtbot, window.viewport, Qt.Key.Key_W, 1000)
    moved = nav.position_world - p0
    assert float(moved @ fwd) > 0.5, moved
    assert abs(float(moved[1])) < 0.05  # walking keeps the eye height on a flat floor
    assert window.viewport.info.splats_total == len(window.world.layers[0].data)
    assert str(path.resolve()) in window.settings.recent_files()


def test_walk_into_a_wall_and_stop(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=-1.5)))
    open_world(window, qtbot, w)
    nav = window.viewport.nav
    nav.pos = np.array([0.0, 1.6, 0.0])
    nav.yaw = 0.0  # towards -Z, the wall
    nav.speed_mult = 4.0
    hold_key(qtbot, window.viewport, Qt.Key.Key_W, 1200)
    z = nav.position_world[2]
    assert -1.5 < z < -1.0, z  # reached the wall, did not pass it


def test_fall_onto_the_ground_in_walk_mode(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    open_world(window, qtbot, w)
    window.set_mode("walk")
    nav = window.viewport.nav
    nav.pos = np.array([0.5, 6.0, 0.5])
    nav.on_ground = False
    qtbot.waitUntil(lambda: nav.on_ground and nav.pos[1] < 3.0, timeout=5000)
    qtbot.wait(100)
    assert nav.position_world[1] == pytest.approx(1.6, abs=0.05)


def test_outliner_visibility_toggle_hides_layer_in_render(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    g = np.arange(-0.6, 0.6, 0.05)
    bx, by = np.meshgrid(g, g + 1.6)
    box = np.stack([bx.ravel(), by.ravel(), np.full(bx.size, -2.0)], 1)
    red = GaussianCloud.from_points(box, np.tile([[1.0, 0.05, 0.05]], (len(box), 1)), 0.04, 0.98)
    obj = w.add_layer(Layer("red panel", red, kind="object"))
    open_world(window, qtbot, w)
    window.viewport.nav.set_view_world([0.0, 1.6, 0.0], [0.0, 0.0, -1.0])

    def red_fraction() -> float:
        img = window.viewport.render_to_image(160, 120).astype(int)
        return float(((img[..., 0] > 150) & (img[..., 1] < 80)).mean())

    assert red_fraction() > 0.05
    item = window.outliner.item_for(obj.id)
    assert item is not None and item.parent().text(0) == "OBJECTS"
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert not obj.visible
    assert red_fraction() == 0.0
    window.undo()  # Ctrl+Z brings it back
    assert obj.visible and item.checkState(0) == Qt.CheckState.Checked
    assert red_fraction() > 0.05


def test_screenshot_png_at_any_size(window, qtbot, tmp_path) -> None:
    from PIL import Image

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    out = window.screenshot(tmp_path / "shot.png", 500, 300)
    assert out.exists()
    img = np.asarray(Image.open(out))
    assert img.shape == (300, 500, 3)
    assert img.std() > 10  # not blank
    default = window.screenshot(tmp_path / "win.png")
    assert Image.open(default).size == (window.viewport.width(), window.viewport.height())
    with pytest.raises(ValueError):
        window.viewport.render_to_image(0, 10)


def test_cancelled_job_changes_nothing(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    before = window.world
    called: list[object] = []
    started = threading.Event()

    def slow(progress, cancel):
        started.set()
        for i in range(500):
            progress(i / 500, "working")
            time.sleep(0.01)
        return World()

    job = window.run_job("slow", slow, lambda res: (called.append(res), window.set_world(res)))
    assert started.wait(5)
    qtbot.waitUntil(lambda: window.job_box.isVisible(), timeout=2000)
    window.job_cancel.click()
    assert job.wait(5)
    qtbot.waitUntil(lambda: job.state == "cancelled", timeout=3000)
    assert not called and window.world is before and not window.job_box.isVisible()

    # Esc twice cancels a job too; once only says how (Esc also releases the mouse)
    job = window.run_job("slow", slow, lambda res: (called.append(res), window.set_world(res)))
    qtbot.waitUntil(lambda: window.job_box.isVisible(), timeout=2000)
    qtbot.keyClick(window.viewport, Qt.Key.Key_Escape)
    assert "Press Esc again to cancel: slow" in window.statusBar().currentMessage()
    qtbot.wait(100)
    assert job.state == "running"
    qtbot.keyClick(window.viewport, Qt.Key.Key_Escape)
    assert job.wait(5)
    qtbot.waitUntil(lambda: job.state == "cancelled", timeout=3000)
    assert not called and window.world is before

    # A job that finishes after Cancel was pressed is dropped too.
    def quick(progress, cancel):
        time.sleep(0.2)
        return World()

    job2 = window.run_job("quick", quick, lambda res: called.append(res))
    job2.cancel()
    qtbot.waitUntil(lambda: job2.state == "cancelled", timeout=3000)
    assert not called and window.world is before


def test_job_result_and_errors_arrive_on_gui_thread(window, qtbot) -> None:
    seen: list[tuple[str, bool]] = []
    main = threading.main_thread()

    def work(progress, cancel):
        progress(0.5, "half")
        assert threading.current_thread() is not main
        return 42

    window.run_job(
        "ok", work, lambda r: seen.append(("done", threading.current_thread() is main and r == 42))
    )

    def bad(progress, cancel):
        raise ValueError("broken input")

    window.run_job(
        "bad",
        bad,
        lambda r: seen.append(("done", False)),
        lambda e: seen.append(("error", isinstance(e, ValueError))),
    )
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert sorted(seen) == [("done", True), ("error", True)]
    assert Cancelled  # the job module's cancel type is the generators' one


def test_open_bad_file_reports_and_keeps_world(window, qtbot, tmp_path) -> None:
    bad = tmp_path / "broken.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 5\n")
    before = window.world
    job = window.open_path(bad)
    qtbot.waitUntil(lambda: job.state in ("failed", "done"), timeout=5000)
    assert job.state == "failed" and window.world is before
    assert "broken.ply" in window.statusBar().currentMessage()


def test_delete_layer_and_undo_redo(window, qtbot) -> None:
    w = World()
    a = w.add_layer(Layer("room", small_room()))
    w.clear_history()
    open_world(window, qtbot, w)
    window.outliner.select_layer(a.id)
    assert window.selected_layer_id() == a.id
    window.outliner.setFocus()
    qtbot.keyClick(window.outliner, Qt.Key.Key_Delete)
    assert w.is_empty() and window.stack.currentWidget() is window.start_page
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.wait(50)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not w.is_empty() and window.stack.currentWidget() is window.viewport
    qtbot.wait(50)
    qtbot.keyClick(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert w.is_empty()


def test_rename_from_outliner_is_undoable(window, qtbot) -> None:
    w = World()
    a = w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    window.outliner.item_for(a.id).setText(0, "kitchen")
    assert a.name == "kitchen"
    window.undo()
    assert a.name == "room" and window.outliner.item_for(a.id).text(0) == "room"
    # says what was undone
    assert window.statusBar().currentMessage() == "Undone: Rename room to kitchen"
    window.redo()
    assert window.statusBar().currentMessage() == "Redone: Rename room to kitchen"
    assert a.name == "kitchen"


def test_up_axis_flip_and_bookmarks(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    vp.setFocus()
    vp.nav.set_mode("fly")
    vp.nav.set_view_world([1.0, 2.0, 3.0], [0.0, 0.0, -1.0])
    qtbot.keyClick(vp, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert len(w.bookmarks) == 1 and np.allclose(w.bookmarks[0].position, [1, 2, 3])
    # bookmarks are numbered in order: Ctrl+3 with none saved keeps the view as bookmark 1,
    # and says so (a trial was sent round a loop of "No bookmark 3 yet: Ctrl+3 ...")
    assert w.bookmarks[0].name == "View 1"
    msg = window.statusBar().currentMessage()
    assert msg == "Saved as bookmark 1, the next free number — press 1 to come back"
    vp.nav.set_view_world([0.0, 2.0, 0.0], [1.0, 0.0, 0.0])
    qtbot.keyClick(vp, Qt.Key.Key_1)
    assert np.allclose(vp.nav.position_world, [1, 2, 3])
    # a number with no bookmark said nothing (a trial); now the status bar says how to set it
    qtbot.keyClick(vp, Qt.Key.Key_5)
    assert np.allclose(vp.nav.position_world, [1, 2, 3])
    msg = window.statusBar().currentMessage()
    assert msg == "No bookmark 5: there is 1; Ctrl+2 keeps this view as bookmark 2"
    qtbot.keyClick(vp, Qt.Key.Key_2)
    msg = window.statusBar().currentMessage()
    assert msg == "No bookmark 2 yet: Ctrl+2 keeps this view there"
    window.flip_up()
    assert np.allclose(w.up_axis, [0, -1, 0])
    assert np.allclose(vp.current_camera().up @ [0, -1, 0], 1.0, atol=0.2)
    window.undo()
    assert np.allclose(w.up_axis, [0, 1, 0])
    window.set_mode("orbit")  # an up-axis change keeps the way the user navigates
    window.flip_up()
    assert vp.nav.mode == "orbit"


def test_adaptive_quality_lowers_cost_while_moving(window, qtbot) -> None:
    from viewer.viewport import AdaptiveQuality

    q = AdaptiveQuality(target_ms=40)
    for _ in range(4):
        q.record(True, 200.0)
    scale, k = q.setting(True, 1_000_000)
    assert scale < 0.6 and k is not None and k < 400_000
    assert q.setting(False, 1_000_000) == (1.0, None)  # at rest: full quality
    climb = []
    for _ in range(30):  # back up one level at a time (two frames a level)
        q.record(True, 5.0)
        climb.append(q.level)
    assert q.setting(True, 1_000_000) == (1.0, None)
    assert all(a - b <= 1 for a, b in zip(climb, climb[1:], strict=False)), climb
    # In the window: moving frames report reduced quality when frames are slow.
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    window.viewport.quality.target_ms = 0.01  # every frame is "too slow"
    hold_key(qtbot, window.viewport, Qt.Key.Key_W, 600)
    assert window.viewport.quality.level > 0
    qtbot.waitUntil(lambda: window.viewport.info.full_quality, timeout=3000)


def test_reduced_frame_without_camera_motion_is_refined_at_rest(window, qtbot) -> None:
    """In Fly mode Ctrl (as in Ctrl+S) paints a "moving" frame before it moves the camera
    down; the view must not stay at the reduced quality afterwards. In Walk mode Q, E and
    Ctrl move nothing, and paint no reduced frame."""
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)
    vp.nav.set_mode("walk")  # (lands the walker on the floor: moving frames first)
    qtbot.wait(800)
    qtbot.waitUntil(lambda: vp.info.full_quality and not vp.moving, timeout=5000)
    walk_frames = []
    vp.frame_drawn.connect(walk_frames.append)
    for key in (Qt.Key.Key_Q, Qt.Key.Key_E, Qt.Key.Key_Control):
        hold_key(qtbot, vp, key, 150)
    qtbot.wait(200)
    assert all(f.full_quality for f in walk_frames)
    vp.frame_drawn.disconnect(walk_frames.append)
    vp.nav.set_mode("fly")
    vp.quality.target_ms = 0.01  # moving frames are reduced
    vp.quality.level = 3
    frames = []
    vp.frame_drawn.connect(frames.append)
    hold_key(qtbot, vp, Qt.Key.Key_Control, 300)
    qtbot.waitUntil(lambda: any(not f.full_quality for f in frames), timeout=3000)
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)


def test_a_stop_fades_from_the_moving_frame_into_the_full_one(window, qtbot) -> None:
    """When the camera stops, the full frame comes in as a cross-fade from the reduced
    frame shown last (viewer/refine_fade.py) over several window frames, not at once; a
    move during the fade ends it, and a view that never showed a reduced frame gets none."""
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)
    steps: list[float] = []
    real = vp.fade.draw

    def draw(target, now):  # noqa: ANN001, ANN202
        steps.append(vp.fade.weight(now))
        return real(target, now)

    vp.fade.draw = draw
    vp.quality.target_ms = 0.01  # moving frames are reduced
    vp.quality.level = 3
    hold_key(qtbot, vp, Qt.Key.Key_Left, 150)
    qtbot.waitUntil(lambda: vp.info.full_quality and not vp.fade.active, timeout=5000)
    assert len(steps) >= 3, steps  # measured 10 at 16 ms a tick
    assert steps[0] > 0.9 and steps[-1] == 0.0
    assert all(b <= a for a, b in zip(steps, steps[1:], strict=False))
    steps.clear()
    vp.quality.level = 3
    hold_key(qtbot, vp, Qt.Key.Key_Left, 150)
    qtbot.waitUntil(lambda: vp.fade.active, timeout=5000)
    hold_key(qtbot, vp, Qt.Key.Key_Right, 100)  # moving again: the fade ends
    assert not vp.fade.active
    qtbot.waitUntil(lambda: vp.info.full_quality and not vp.fade.active, timeout=5000)
    steps.clear()
    window.viewport.render_state.request_full()  # a full frame over a full frame: no fade
    qtbot.wait(300)
    assert not steps


def _record_warps(vp) -> list[bool]:  # noqa: ANN001
    """Make the viewport's moving frames reduced and record what each call of
    `reproject.draw` or `draw_cpu` (where frames are composited on the CPU) returned
    (whether the kept still frame was drawn)."""
    drawn: list[bool] = []
    real, real_cpu = vp.reproject.draw, vp.reproject.draw_cpu

    def draw(renderer, cam, moving=False):  # noqa: ANN001, ANN202
        drawn.append(real(renderer, cam, moving=moving))
        return drawn[-1]

    def draw_cpu(renderer, cam, out, depth):  # noqa: ANN001, ANN202
        drawn.append(real_cpu(renderer, cam, out, depth))
        return drawn[-1]

    vp.reproject.draw = draw
    vp.reproject.draw_cpu = draw_cpu
    vp.quality.target_ms = 0.01  # moving frames are reduced
    vp.quality.level = 3
    return drawn


def test_moving_frames_show_the_last_still_frame_reprojected(window, qtbot) -> None:
    """Once a still frame is on screen the viewport keeps it, and the reduced frames of the
    walk that follows draw it from their camera (viewer/reproject.py); a moved layer makes
    it stale: the frames after that do not."""
    w = World()
    room = Layer("room", small_room())
    w.add_layer(room)
    open_world(window, qtbot, w)
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)
    qtbot.waitUntil(lambda: vp.reproject.usable(vp.renderer), timeout=3000)
    drawn = _record_warps(vp)
    hold_key(qtbot, vp, Qt.Key.Key_Left, 150)  # turn in place
    qtbot.waitUntil(lambda: any(drawn), timeout=3000)
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)
    qtbot.waitUntil(lambda: vp.reproject.usable(vp.renderer), timeout=3000)
    m = room.transform.copy()
    m[0, 3] = 0.3
    w.set_transform(room.id, m)
    drawn.clear()
    frames: list = []
    vp.frame_drawn.connect(frames.append)
    vp.quality.level = 3
    hold_key(qtbot, vp, Qt.Key.Key_Left, 150)
    qtbot.waitUntil(lambda: any(not f.full_quality for f in frames), timeout=3000)
    assert not drawn  # the kept frame shows the room where it was: not drawn


def test_a_walk_begun_before_the_coarse_level_is_ready_shows_the_still_frame(window, qtbot) -> None:
    """A key pressed at once after a big scene's first full frame (its coarse level still
    being merged, its depth for reprojection not drawn yet): the first moving frame keeps
    the still frame's depth there and then and warps it over the thin subset of splats it
    draws (speckles on black in a 1M-splat world for the 2-3 s of the merge)."""
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=3000)
    qtbot.waitUntil(lambda: vp.reproject.pending or vp.reproject.usable(vp.renderer), timeout=3000)
    vp._reproject_timer.stop()  # the key comes before the depth is drawn
    if vp.reproject.usable(vp.renderer):
        pytest.skip("the frame's depth was drawn before the key could come")
    vp.renderer.coarse_level_pending = lambda: True
    drawn = _record_warps(vp)
    hold_key(qtbot, vp, Qt.Key.Key_Left, 150)
    qtbot.waitUntil(lambda: bool(drawn), timeout=3000)
    assert drawn[0]


def test_start_page_drop_and_extensions(window, qtbot, tmp_path) -> None:
    import scene.io

    assert window.stack.currentWidget() is window.start_page
    path = tmp_path / "dropped.ply"
    scene.io.save(small_room(), path)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        md,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(ev)
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=10000)
    assert window.world.layers[0].name == "dropped"

    probed: list[object] = []

    def probe(win) -> None:  # noqa: ANN001 - a feature installed through the explicit list
        win.menu("&Create").addAction("Probe world…")
        probed.append(win)

    def broken(win) -> None:  # noqa: ANN001
        raise RuntimeError("boom")

    window.install_features((("probe", probe), ("broken", broken)))
    assert probed == [window]
    assert "broken" in window.feature_errors and "boom" in window.feature_errors["broken"]
    window._finish_menus()
    texts = [a.text() for a in window.menu("&Create").actions()]
    assert "Probe world…" in texts
    titles = [m.title() for m in (a.menu() for a in window.menuBar().actions()) if m]
    assert titles[:4] == ["&File", "&Edit", "&Create", "&View"] and titles[-1] == "&Help"


def test_pick_ray_and_current_camera(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    cam = window.current_camera()
    o, d = window.pick_ray()
    assert np.allclose(o, cam.position) and np.allclose(d, cam.forward, atol=1e-2)
    assert cam.width == window.viewport.width() or cam.width == round(
        window.viewport.width() * window.viewport.devicePixelRatioF()
    )


def _app_shot(scene: Path, shot: Path, config: Path, *extra: str):  # noqa: ANN202
    """`python main.py SCENE --shot SHOT [extra]` in a fresh process with its own settings
    (a CompletedProcess)."""
    import os
    import subprocess

    from conftest import ROOT

    env = dict(os.environ, WANDER_CONFIG_DIR=str(config), QT_QPA_PLATFORM="xcb")
    return subprocess.run(
        [sys.executable, "main.py", str(scene), "--shot", str(shot), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_run_app_shot_smoke(x_display, tmp_path) -> None:
    """`python main.py SCENE --shot PNG` opens the real app, renders and exits."""

    import scene.io

    path = tmp_path / "room.ply"
    scene.io.save(small_room(), path)
    shot = tmp_path / "app.png"
    res = _app_shot(path, shot, tmp_path / "cfg")
    assert res.returncode == 0, res.stderr[-2000:]
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[0] > 200 and img.std() > 10
    # said as `render` says it (a trial: nothing was printed on success)
    assert f"wrote {shot} ({img.shape[1]}x{img.shape[0]})" in res.stdout
    assert Path(shot).stat().st_size < 3_000_000
    # a --size the window cannot take (a trial's 10x10 saved 589x265 without a word)
    res = _app_shot(path, shot, tmp_path / "cfg", "--size", "10x10")
    assert res.returncode == 0, res.stderr[-2000:]
    w, h = Image.open(shot).size
    assert f"is {w}x{h}, not the asked 10x10" in res.stderr


@pytest.mark.slow
def test_run_app_shot_of_a_file_that_cannot_open_is_one_line(x_display, tmp_path) -> None:
    """`python main.py bad.ply --shot x.png` said nothing and waited on its 2-minute
    timeout (the open error went to a message box); a missing scene too. Now: one error
    line, exit 2, no screenshot."""

    bad = tmp_path / "trunc.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 10\n")
    for scene in (bad, tmp_path / "missing.ply"):
        shot = tmp_path / "x.png"
        res = _app_shot(scene, shot, tmp_path / "cfg")
        assert res.returncode == 2, res.stderr[-2000:]
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and scene.name in errors[0], res.stderr[-2000:]
        assert not shot.exists()
    # a screenshot into a folder that does not exist: exit 1 and not a word, before
    res = _app_shot(bad, tmp_path / "nope" / "x.png", tmp_path / "cfg")
    assert res.returncode == 2 and "folder" in res.stderr and "nope" in res.stderr


@pytest.mark.slow
def test_run_app_shot_of_a_photo_says_how_to_make_a_world_of_it(x_display, tmp_path) -> None:
    """`python main.py assets/cat.jpg --shot x.png` suggested `world --photo cat.jpg`
    (the folder dropped: the command failed as given), a text file named .jpg was called a
    photo, and a 20x10 image got a command that then refused it (a trial)."""
    import cv2

    folder = tmp_path / "my photos"
    folder.mkdir()
    photo = folder / "cat.jpg"
    cv2.imwrite(str(photo), np.full((60, 80, 3), 128, np.uint8))
    fake = tmp_path / "fake.jpg"
    fake.write_text("hello")
    sliver = tmp_path / "sliver.png"
    cv2.imwrite(str(sliver), np.full((10, 20, 3), 128, np.uint8))
    cut = tmp_path / "cut.jpg"  # cut off part-way: no photo to suggest a world of (a trial)
    rng = np.random.default_rng(0)
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (300, 400, 3), np.uint8))
    cut.write_bytes(buf.tobytes()[: len(buf) // 2])
    pano = folder / "pano.jpg"  # a 2:1 panorama is made a world with --panorama
    cv2.imwrite(str(pano), np.full((512, 1024, 3), 128, np.uint8))
    video = tmp_path / "walk.mp4"  # in the app's photo list; no image (a trial)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    for scene, want in (
        (photo, f"world --photo '{photo}'"),
        (
            pano,
            f"is a 360° panorama, not a scene; to make a 3D world from it: python main.py "
            f"world --panorama '{pano}'",
        ),
        (video, f"reconstruct --video {video}"),
        (fake, "not a readable image"),
        (sliver, "too small (20x10 pixels"),
        (cut, "corrupt or truncated"),
    ):
        res = _app_shot(scene, tmp_path / "x.png", tmp_path / "cfg")
        assert res.returncode == 2, res.stderr[-2000:]
        errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and want in errors[0], res.stderr[-2000:]


def test_big_scene_walks_at_once_then_builds_its_full_collider_off_thread(
    window, qtbot, monkeypatch
) -> None:
    """A big scene opens on a quick collider (a subset of its splats), standing on its
    floor from the first frame; the full collider follows off the GUI thread and the view
    stays. Before, it opened framed from outside in Fly (a first frame of every splat)
    and jumped onto the floor when the collider landed."""
    import viewer.viewport as vpm

    monkeypatch.setattr(vpm, "SYNC_COLLIDER_SPLATS", 0)  # treat the room as "big"
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    window.set_world(w)
    nav = window.viewport.nav
    quick = nav.collider
    assert quick is not None and nav.mode == "walk"
    assert nav.position_world[1] == pytest.approx(1.6, abs=0.05)
    pose = nav.position_world.copy()
    resets: list[int] = []
    monkeypatch.setattr(nav, "reset", lambda: resets.append(1))
    qtbot.waitUntil(lambda: nav.collider is not quick, timeout=10000)  # the full one
    qtbot.wait(200)
    assert nav.mode == "walk" and np.allclose(nav.position_world, pose, atol=0.05)
    # it agreed: the camera was not reset (a reset lifted the walker off the floor, a
    # moving frame, and a --shot of a world caught its blurred preview)
    assert not resets


def test_a_world_looked_around_before_its_collider_is_ready_still_walks(
    window, qtbot, monkeypatch
) -> None:
    """A big world with a start bookmark opened in fly mode until its collider was built
    off the GUI thread, and a user who looked around meanwhile was left flying for good (a
    reopened project "came up in Fly"). It walks from the start (a quick collider) and
    keeps the view the user turned to when the full collider lands, unless the user
    picked a mode themselves."""
    import viewer.viewport as vpm
    from scene.world import Bookmark

    monkeypatch.setattr(vpm, "SYNC_COLLIDER_SPLATS", 0)  # treat the room as "big"
    nav = window.viewport.nav
    for user_mode in (None, "fly"):
        w = World()
        w.add_layer(Layer("room", small_room(wall_z=None)))
        w.bookmarks.append(Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.0, 0.0))
        window.set_world(w)
        quick = nav.collider  # the quick one; the full one is built off the GUI thread
        if user_mode:
            window.set_mode(user_mode)
        nav.yaw += 0.3  # looks around before the full collider arrives
        yaw = nav.yaw
        qtbot.waitUntil(lambda quick=quick: nav.collider is not quick, timeout=10000)
        qtbot.wait(100)
        assert nav.mode == (user_mode or "walk") and nav.yaw == pytest.approx(yaw)


@pytest.mark.parametrize("sync_limit", [10**9, 0])
def test_a_start_high_above_the_ground_opens_flying_and_keeps_its_view(
    window, qtbot, monkeypatch, sync_limit: int
) -> None:
    """A drone reconstruction's first photo is 30 m above the ground. It opened in Walk,
    and gravity dropped the walker to the ground at the first frame: the view that looks
    like the photo was gone. A start that high opens in Fly and stays, as does one just
    above the ground (a tabletop orbit); one at eye height still walks (collider built at
    once, and off the GUI thread for a big scene)."""
    import viewer.viewport as vpm
    from scene.world import Bookmark

    monkeypatch.setattr(vpm, "SYNC_COLLIDER_SPLATS", sync_limit)
    nav = window.viewport.nav
    # the third start is beside the 8 m floor, as a drone's camera is beside what it films
    # the fourth is a tabletop orbit's camera just above the table: walking lifted it 1.2 m
    for x, height, mode in (
        (0.0, 30.0, "fly"),
        (1.0, 1.6, "walk"),
        (12.0, 30.0, "fly"),
        (0.5, 0.4, "fly"),
    ):
        w = World()
        w.add_layer(Layer("room", small_room(wall_z=None)))
        w.bookmarks.append(Bookmark("Start", np.array([x, height, 0.0]), 0.0, -0.5))
        window.set_world(w)
        qtbot.waitUntil(lambda: nav.collider is not None, timeout=10000)
        qtbot.waitUntil(lambda mode=mode: nav.mode == mode, timeout=2000)
        qtbot.wait(300)  # frames tick: a walker would fall
        assert nav.mode == mode
        assert nav.position_world[1] == pytest.approx(height, abs=0.05)


def test_an_object_reconstructed_all_round_opens_orbiting_it(window, qtbot) -> None:
    """A tabletop orbit's reconstruction (meta start_mode 'orbit', from its report) opens
    at its first photo in Orbit mode, pivoting on what the photo looks at, and stays so
    once the collider is built (which would have made it Fly: the table just below)."""
    from scene.world import Bookmark

    nav = window.viewport.nav
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    w.bookmarks.append(Bookmark("Start", np.array([0.5, 0.4, 0.0]), 0.0, -0.5))
    w.meta["start_mode"] = "orbit"
    window.set_world(w)
    qtbot.waitUntil(lambda: nav.collider is not None, timeout=10000)
    qtbot.wait(300)
    assert nav.mode == "orbit"
    assert nav.position_world[1] == pytest.approx(0.4, abs=0.05)
    assert nav.target is not None and nav.distance > 0


def test_an_aerial_capture_opens_flying_at_its_first_photo(window, qtbot) -> None:
    """A drone's reconstruction (meta start_mode 'fly', from its report): a floater 1 m
    under the first camera read as ground, so it opened walking there and fell 33 m to
    the terrain, a dark smear. It opens flying at the camera, and jumping to another
    photo's camera keeps flying."""
    from scene.world import Bookmark

    nav = window.viewport.nav
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    w.bookmarks.append(Bookmark("Photo 1", np.array([0.0, 1.6, 0.0]), 0.0, -0.4))
    w.bookmarks.append(Bookmark("Photo 2", np.array([0.5, 1.6, 0.0]), 0.0, -0.4))
    w.meta["start_mode"] = "fly"
    window.set_world(w)
    qtbot.waitUntil(lambda: nav.collider is not None, timeout=10000)
    qtbot.wait(300)  # frames tick: a walker would settle on the floor
    assert nav.mode == "fly"
    window.viewport.go_to_bookmark(1)
    assert nav.mode == "fly"
    qtbot.wait(200)
    assert nav.position_world[1] == pytest.approx(1.6, abs=0.05)
    # walking it is the user's to choose, with a word on what eye level shows of it (a
    # trial walked the Great Wall's scene, fell into needles no photo saw, unwarned)
    from viewer.main_window import AERIAL_WALK_HINT

    window.set_mode("walk")
    assert nav.mode == "walk" and window.statusBar().currentMessage() == AERIAL_WALK_HINT
    window.set_mode("fly")
    window.statusBar().clearMessage()
    w.meta.pop("start_mode")
    window.set_mode("walk")  # a scene walked on the ground: no such word
    assert window.statusBar().currentMessage() != AERIAL_WALK_HINT


def _photo_and_overview(photo_height: float) -> World:
    """A floor with a photo's bookmark `photo_height` m over it and an Overview 23 m up."""
    from scene.world import Bookmark

    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    w.bookmarks.append(Bookmark("Photo", np.array([0.0, photo_height, 0.0]), 0.0, 0.0))
    w.bookmarks.append(Bookmark("Overview", np.array([0.0, 23.0, 10.0]), 0.0, -1.0))
    return w


def test_jumping_to_a_high_bookmark_flies_and_back_walks(window, qtbot) -> None:
    """A reconstruction's Overview bookmark is 23 m up: jumping there in Walk mode kept
    Walk (hovering, or falling at the first step); it flies now, and a jump back to a
    photo's eye-height bookmark walks again, unless the user picked Fly themselves."""
    nav = window.viewport.nav
    window.set_world(_photo_and_overview(photo_height=1.6))
    qtbot.waitUntil(lambda: nav.collider is not None and nav.mode == "walk", timeout=10000)
    window.viewport.go_to_bookmark(1)
    assert nav.mode == "fly"
    qtbot.wait(200)
    assert nav.position_world[1] == pytest.approx(23.0, abs=0.05)
    window.viewport.go_to_bookmark(0)
    assert nav.mode == "walk"
    window.set_mode("fly")  # the user's own choice stays
    window.viewport.go_to_bookmark(1)
    window.viewport.go_to_bookmark(0)
    assert nav.mode == "fly"


def test_a_photo_taken_lower_than_eye_height_opens_and_walks_at_its_own_height(
    window, qtbot
) -> None:  # noqa: ANN001
    """A reconstruction's first photo was taken 1.27 m over its ground: walking put the eye
    at 1.6 m and the first view was no longer the photo (a trial). The walk keeps the start
    view's own eye height; a bookmark flown to (23 m up) and back walks at its own again."""
    nav = window.viewport.nav
    window.set_world(_photo_and_overview(photo_height=1.27))
    qtbot.waitUntil(lambda: nav.collider is not None and nav.mode == "walk", timeout=10000)
    qtbot.wait(300)  # the walker settles on the ground
    assert nav.position_world[1] == pytest.approx(1.27, abs=0.05)
    window.viewport.go_to_bookmark(1)
    assert nav.mode == "fly" and nav.eye_height == pytest.approx(nav.standard_eye_height)
    window.viewport.go_to_bookmark(0)
    qtbot.wait(300)
    assert nav.mode == "walk" and nav.position_world[1] == pytest.approx(1.27, abs=0.05)


def test_up_axis_fix_is_remembered_per_file_and_show_only(window, qtbot, tmp_path) -> None:
    import scene.io

    path = tmp_path / "room.ply"
    scene.io.save(small_room(wall_z=None), path)
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=10000)
    assert np.allclose(window.world.up_axis, [0, 1, 0])  # estimated from the floor
    window.set_up_axis([0, 0, 1])
    window.open_path(path)  # reopen: the user's fix wins over the estimate
    qtbot.waitUntil(lambda: window.world.meta.get("up_axis_source") == "remembered", timeout=10000)
    assert np.allclose(window.world.up_axis, [0, 0, 1])
    # Show only one layer, via the outliner's action.
    extra = window.world.add_layer(Layer("extra", small_room(wall_z=None), kind="object"))
    window.outliner.show_only(extra.id)
    assert [lay.visible for lay in window.world.layers] == [False, True]
    window._fill_bookmarks()
    assert window.bookmarks_menu.actions()[0].text() == "Add Bookmark Here"


def test_set_world_takes_up_axis_from_photo_cameras(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room()))
    # Photo cameras of a capture whose "up" is world -Y (OpenCV-like, as COLMAP often is).
    w.meta["cameras"] = [
        {"name": f"c{i}", "R": np.eye(3).tolist(), "t": [0, 0, i]} for i in range(3)
    ]
    window.set_world(w)
    assert np.allclose(w.up_axis, [0, -1, 0]) and w.meta["up_axis_source"] == "cameras"
    assert np.allclose(window.current_camera().up, [0, -1, 0], atol=0.2)


def test_movement_keys_typed_in_the_outliner_still_walk(window, qtbot) -> None:
    w = World()
    w.add_layer(Layer("room", small_room(wall_z=None)))
    open_world(window, qtbot, w)
    nav = window.viewport.nav
    window.outliner.setFocus()
    p0 = nav.position_world.copy()
    hold_key(qtbot, window.outliner, Qt.Key.Key_W, 500)
    assert float((nav.position_world - p0) @ nav.forward_world()) > 0.2
    assert not nav.keys  # released too


def test_slow_full_frames_get_a_quick_preview_first(window, qtbot, monkeypatch) -> None:
    import viewer.viewport as vpm

    monkeypatch.setattr(vpm, "FULL_BLOCK_MS", 0.0)  # every full frame counts as "slow"
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    qtbot.waitUntil(lambda: vp.info.full_quality, timeout=5000)
    frames: list[tuple[bool, bool]] = []
    vp.frame_drawn.connect(lambda info: frames.append((info.moving, info.full_quality)))
    fades: list[tuple[bool, bool]] = []  # (chain: a preview, faded in)
    real = vp.fade.fade_to

    def fade_to(src, w, h, now, chain=False):  # noqa: ANN001, ANN202
        fades.append((chain, real(src, w, h, now, chain)))
        return fades[-1][1]

    vp.fade.fade_to = fade_to
    vp.quality.target_ms = 0.01  # moving frames are reduced
    vp.quality.level = 3
    hold_key(qtbot, vp, Qt.Key.Key_A, 300)
    qtbot.waitUntil(lambda: bool(frames) and frames[-1] == (False, True), timeout=5000)
    rest = [f for f in frames if not f[0]]
    # At rest: first a reduced preview, then the full-quality frame, each fading in over
    # what was shown (the moving frame, then the preview): no step at once
    assert rest[0] == (False, False) and rest[-1] == (False, True)
    assert fades[0] == (True, True) and fades[-1] == (False, True)


def test_world_events_invalidate_only_what_changed(window, qtbot) -> None:  # noqa: ANN001
    w = World()
    lay = w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    r = vp.renderer
    version, generation = r._layers_version, r._generation
    qtbot.keyClick(vp, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # bookmark: no upload
    w.rename(lay.id, "renamed room")  # nothing drawn changes
    assert (r._layers_version, r._generation) == (version, generation)
    old = vp.nav.collider
    for i in range(5):  # an object dragged in small steps: one collider rebuild at the end
        r._force_resort = False
        w.set_transform(lay.id, similarity_matrix(translation=(0.0, 0.0, 0.01 * i)))
        assert r._force_resort  # a new order, no re-pack
    assert (r._layers_version, r._generation) == (version, generation)
    qtbot.waitUntil(lambda: vp.nav.collider is not old, timeout=5000)


def _mouse(widget, kind, pos, button, buttons) -> None:  # noqa: ANN001
    from PyQt6.QtGui import QMouseEvent
    from PyQt6.QtWidgets import QApplication

    p = QPointF(*pos)
    ev = QMouseEvent(
        kind, p, widget.mapToGlobal(p), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, ev)


def test_right_drag_looks_and_left_drag_orbits(window, qtbot) -> None:  # noqa: ANN001
    from PyQt6.QtCore import QEvent

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp, nav = window.viewport, window.viewport.nav
    right = Qt.MouseButton.RightButton
    yaw0, pitch0 = nav.yaw, nav.pitch
    _mouse(vp, QEvent.Type.MouseButtonPress, (100, 100), right, right)
    _mouse(vp, QEvent.Type.MouseMove, (160, 80), Qt.MouseButton.NoButton, right)
    _mouse(vp, QEvent.Type.MouseButtonRelease, (160, 80), right, Qt.MouseButton.NoButton)
    assert nav.yaw < yaw0 and nav.pitch > pitch0  # dragged right and up: look right and up
    window.set_mode("orbit")
    target, dist = nav.target.copy(), nav.distance
    left = Qt.MouseButton.LeftButton
    _mouse(vp, QEvent.Type.MouseButtonPress, (100, 100), left, left)
    _mouse(vp, QEvent.Type.MouseMove, (180, 100), Qt.MouseButton.NoButton, left)
    _mouse(vp, QEvent.Type.MouseButtonRelease, (180, 100), left, Qt.MouseButton.NoButton)
    assert np.allclose(nav.target, target)
    assert np.linalg.norm(nav.pos - nav.target) == pytest.approx(dist)
    assert window.mode_label.text() == "ORBIT"


def test_collider_finishing_after_the_viewport_closed_is_dropped(
    qtbot, x_display, monkeypatch
) -> None:
    import threading

    import viewer.viewport as vpm
    from viewer.viewport import Viewport

    gate, errors = threading.Event(), []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    real = vpm.Collider.from_cloud
    monkeypatch.setattr(
        vpm.Collider, "from_cloud", staticmethod(lambda *a, **k: (gate.wait(5), real(*a, **k))[1])
    )
    vp = Viewport()
    w = World()
    w.add_layer(Layer("room", small_room()))
    vp.world = w
    vp._rebuild_collider_async()
    worker = next(t for t in threading.enumerate() if t.name == "collider")
    vp.release_gl()
    vp.deleteLater()
    qtbot.wait(50)  # the Qt object is gone now
    gate.set()
    worker.join(10)
    assert errors == []


def test_the_window_can_be_made_smaller_than_the_start_pages_content(window, qtbot) -> None:
    """The start page scrolls instead of holding the window at its ~640 px natural height
    (the stacked central widget takes the largest minimum of its pages, so `--size
    1000x600 --shot` of an open scene gave a 1000×766 image)."""
    old = window.size()
    try:
        window.start_page.refresh([], [f"/tmp/scene{i}.ply" for i in range(12)])
        window.resize(900, 400)
        qtbot.wait(50)
        assert window.height() <= 400
        assert window.start_page.minimumSizeHint().height() < 200
    finally:
        window._refresh_start_page()
        window.resize(old)


def test_the_start_pages_tiles_fit_a_narrow_window(window, qtbot, monkeypatch) -> None:
    """At 800 px the two tile columns were wider than the page: tiles overlapped, the
    right column was cut off and the page scrolled sideways. Tiles now reflow into one
    column when two would not fit with their titles on one line."""
    import itertools

    from PyQt6.QtWidgets import QScrollArea

    from viewer.start_page import Tile

    old = window.size()
    try:
        page = window.start_page
        long_path = "/a/long/folder/" * 8 + "scene.ply"
        with monkeypatch.context() as mp:
            mp.setattr(window.settings, "recent_files", lambda: [long_path])
            window._refresh_start_page()
        window.stack.setCurrentWidget(page)
        for width in (520, 640, 800, 1300):
            window.resize(width, 700)
            qtbot.wait(80)
            scroll = page.findChild(QScrollArea)
            assert not scroll.horizontalScrollBar().isVisible()
            tiles = page.findChildren(Tile)
            right = scroll.viewport().width()
            for t in tiles:
                assert t.mapTo(scroll.viewport(), t.rect().topRight()).x() <= right
                assert t.width() >= t.natural_width(), width
            for a, b in itertools.combinations(tiles, 2):
                assert not a.geometry().intersects(b.geometry())
        assert len({t.x() for t in tiles}) == 2  # a wide window keeps two columns
    finally:
        window._refresh_start_page()
        window.resize(old)


def test_saving_over_a_worlds_start_bookmark_says_so(window, qtbot) -> None:
    """Ctrl+1 in a generated world replaced its "Start" (the photo's framing) with the
    message "Saved bookmark 1" alone; now the status names what was replaced and the way
    back, and Ctrl+Z restores it."""
    from scene.world import Bookmark

    w = World()
    w.add_layer(Layer("room", small_room()))
    w.bookmarks.append(Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.0, 0.0, 60.0))
    w.clear_history()
    open_world(window, qtbot, w)
    vp = window.viewport
    vp.setFocus()
    vp.nav.set_mode("fly")
    vp.nav.set_view_world([1.0, 1.6, -0.7], [0.0, 0.0, -1.0])
    qtbot.keyClick(vp, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert w.bookmarks[0].name == "View 1"
    msg = window.statusBar().currentMessage()
    assert "replaced “Start”" in msg and "Ctrl+Z" in msg
    window.undo()
    assert w.bookmarks[0].name == "Start"
    qtbot.keyClick(vp, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # a new slot
    assert window.statusBar().currentMessage().startswith("Saved bookmark 2")
    vp.nav.set_view_world([0.5, 1.6, -0.2], [1.0, 0.0, 0.0])
    qtbot.keyClick(vp, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # over "View 2"
    msg = window.statusBar().currentMessage()
    assert msg.startswith("Bookmark 2 now holds this view") and "Ctrl+Z" in msg, msg


def test_one_empty_first_frame_does_not_say_nothing_is_in_view(window, qtbot) -> None:  # noqa: ANN001
    """A world opened with its castle filling the view said "Nothing of the scene in
    view" (a trial): one full frame had drawn none of the splats (an order sorted for
    another pose) before the next drew them. The status waits for a second full frame."""
    import dataclasses

    from viewer.main_window import NOTHING_IN_VIEW
    from viewer.viewport import FrameInfo

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    qtbot.wait(300)
    window.statusBar().clearMessage()
    empty = FrameInfo(
        fps=1.0,
        frame_ms=50.0,
        splats_drawn=0,
        splats_total=1000,
        scale=1.0,
        full_quality=True,
        moving=False,
    )
    full = dataclasses.replace(empty, splats_drawn=900)
    window._on_frame(empty)
    window._on_frame(full)
    window._on_frame(empty)
    assert window.statusBar().currentMessage() != NOTHING_IN_VIEW
    window._on_frame(empty)  # a second one in a row: said
    assert window.statusBar().currentMessage() == NOTHING_IN_VIEW
    window._on_frame(full)  # back in view (R): taken away at once, not left for its 6 s
    assert window.statusBar().currentMessage() == ""


def test_a_view_with_nothing_of_the_scene_says_how_to_get_back(window, qtbot) -> None:  # noqa: ANN001
    """Fly mode went through the wall into black ("0 / 1.58M splats") with no word (a
    trial); a full frame that shows none of the scene says so and that R goes back."""
    from viewer.main_window import NOTHING_IN_VIEW

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    vp.nav.set_mode("fly")
    vp.nav.set_view_world([0.0, 2.0, 200.0], [0.0, 0.0, 1.0])  # far out, looking away
    vp.update()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == NOTHING_IN_VIEW, timeout=8000)


def test_orbit_about_a_selected_scene_keeps_the_view(window, qtbot) -> None:  # noqa: ANN001
    """A trial selected a reconstruction's layer (one click in the view) and pressed M: the
    orbit framed the layer's whole box, its sky sphere included, and put the camera 2 km
    out. A selected layer the view looks into is orbited where the view is; one out of view
    (an object behind the camera) is framed whole."""
    rng = np.random.default_rng(0)
    d = rng.normal(size=(3000, 3))
    dome = 400.0 * d / np.linalg.norm(d, axis=1, keepdims=True)
    sky = GaussianCloud.from_points(dome, np.full((len(dome), 3), 0.6), 8.0, opacity=0.95)
    w = World()
    scene_id = w.add_layer(Layer("scene", GaussianCloud.concatenate([small_room(), sky]))).id
    thing = GaussianCloud.from_points(
        rng.uniform(-0.2, 0.2, (200, 3)) + [0.0, 1.0, 6.0], np.full((200, 3), 0.5), 0.03
    )
    thing_id = w.add_layer(Layer("thing", thing)).id
    open_world(window, qtbot, w)
    nav = window.viewport.nav
    nav.set_view_world([0.0, 1.6, 0.5], [0.0, -0.2, -1.0])
    eye = nav.position_world.copy()
    window.select_layer(scene_id)
    window.set_mode("orbit")
    assert np.allclose(nav.position_world, eye, atol=1e-6)  # the view kept
    assert nav.distance < 5.0
    window.set_mode("fly")
    window.orbit_layer(thing_id)  # behind the camera: framed whole
    assert np.linalg.norm(nav.target - nav.rot @ np.array([0.0, 1.0, 6.0])) < 0.3
    assert nav.distance < 2.0


def test_about_names_the_version(window, monkeypatch) -> None:  # noqa: ANN001
    """Help > About said no version (a trial), where `info` says which Wander saved a file."""
    import viewer.main_window as mw
    from scene.project import app_version

    shown: list[str] = []
    monkeypatch.setattr(mw.QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window._about()
    assert shown and app_version() in shown[0]


def _walking_in_a_room(window, qtbot):  # noqa: ANN001, ANN202
    """The window's viewport walking in a small room, its controls hint shown."""
    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    vp = window.viewport
    vp.nav.set_mode("walk")
    vp.set_hud_text()
    return vp


def test_mouse_look_shows_in_the_controls_hint(window, qtbot) -> None:  # noqa: ANN001
    """Tab hid the cursor for mouse look with no sign on screen (a trial): the controls
    hint says it is on and how to turn it off, and goes back after."""
    vp = _walking_in_a_room(window, qtbot)
    assert "Tab mouse-look" in vp.hud.text()
    vp.set_captured(True)
    try:
        assert "mouse look on" in vp.hud.text() and "Esc" in vp.hud.text()
    finally:
        vp.set_captured(False)
    assert "Tab mouse-look" in vp.hud.text()


def test_a_missing_scene_on_the_command_line_gets_the_open_error_box(window, capsys) -> None:  # noqa: ANN001
    """`python main.py nope.ply` said so in the status bar alone, easy to miss (a trial), where
    a file that cannot be read gets a message box: now both get the box, and the terminal
    one error line."""
    from pathlib import Path

    from viewer.app import report_missing_scene

    report_missing_scene(window, Path("/tmp/wander-no-such/nope.ply"))
    box = window._last_error_box
    assert box is not None and box.isVisible()
    assert "Could not open nope.ply" in box.text() and "no such file" in box.text()
    assert capsys.readouterr().err.strip() == "error: /tmp/wander-no-such/nope.ply: no such file"
    box.close()


def test_the_about_box_says_what_wander_does_and_where_its_files_are(window, monkeypatch) -> None:  # noqa: ANN001
    """Help > About was two lines (a trial): it now says what Wander makes and exports, that
    everything works offline, and where the settings and model weights live and what draws
    the view (what a problem report needs)."""
    from PyQt6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window._about()
    assert len(shown) == 1
    text = shown[0]
    assert "offline" in text and "SPZ" in text and "F1" in text
    facts = dict(window._about_facts())
    assert facts["Settings"].endswith(".ini") and facts["Settings"] in text
    assert facts["Model weights"] and facts["View drawn by"]


def test_moving_frames_before_the_coarse_level_say_so(window, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """A trial walked a big world the moment it opened: its moving frames were a thin subset
    of the splats (shattered) for 3-4 s while its levels of detail were merged, and nothing
    said so. The status bar says it is preparing smoother moving frames, once a scene."""
    from viewer.main_window import COARSE_PENDING
    from viewer.viewport import FrameInfo

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    window.statusBar().clearMessage()
    moving = FrameInfo(20.0, 50.0, 800, 1000, 0.33, False, True)
    r = window.viewport.renderer
    monkeypatch.setattr(r, "coarse_level_pending", lambda: True)
    # a quick preview at rest (a slow first full frame) is no moving frame: the message of
    # the job that opened the scene stays (it was replaced at once, under load)
    window.show_status("Scene saved as scene.ply", 0)
    window._on_frame(FrameInfo(4.0, 120.0, 800, 1000, 0.5, False, False))
    assert window.statusBar().currentMessage() == "Scene saved as scene.ply"
    window.statusBar().clearMessage()
    window._on_frame(moving)
    assert window.statusBar().currentMessage() == COARSE_PENDING
    assert window.splat_label.text().endswith("33% res")  # its width keeps to its longest
    window.statusBar().clearMessage()
    window._on_frame(moving)
    assert window.statusBar().currentMessage() == ""  # said once for this scene
    # ... and taken back the frame the levels are merged (it stayed its 4 s beside "full
    # quality", a trial)
    window.show_status(COARSE_PENDING, 4000)
    monkeypatch.setattr(r, "coarse_level_pending", lambda: False)
    window._on_frame(FrameInfo(4.0, 250.0, 1000, 1000, 1.0, True, False))
    assert window.statusBar().currentMessage() == ""
    # ... remembered without keeping the scene alive once another opens (a review)
    import gc
    import weakref

    monkeypatch.undo()
    gone = weakref.ref(w)
    del w
    window.set_world(World())
    gc.collect()
    assert gone() is None


def test_a_view_of_only_the_backdrop_says_where_the_scene_went(window, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """A trial turned a drone reconstruction away from its photos: dark ground and sky
    only, and nothing said where the scene was. At rest, a view without any of the
    photographed part (`Navigator.photographed_in_view`) says so once, with R; back in
    view the message goes; moving frames say nothing."""
    from viewer.main_window import BACKDROP_ONLY
    from viewer.viewport import FrameInfo

    w = World()
    w.add_layer(Layer("room", small_room()))
    open_world(window, qtbot, w)
    bar = window.statusBar()
    bar.clearMessage()
    nav = window.viewport.nav
    seen = {"v": False}
    monkeypatch.setattr(nav, "photographed_in_view", lambda cam: seen["v"])
    full = FrameInfo(4.0, 250.0, 1000, 1000, 1.0, True, False)
    window._on_frame(FrameInfo(20.0, 50.0, 800, 1000, 0.33, False, True))
    assert bar.currentMessage() != BACKDROP_ONLY  # not while moving
    window._on_frame(full)
    assert bar.currentMessage() == BACKDROP_ONLY
    bar.clearMessage()
    window._on_frame(full)
    assert bar.currentMessage() == ""  # once per excursion
    window.show_status(BACKDROP_ONLY, 8000)
    seen["v"] = True
    window._on_frame(full)
    assert bar.currentMessage() == ""  # back in view
    seen["v"] = None  # a scene without a backdrop
    window._on_frame(full)
    assert bar.currentMessage() == ""


def test_the_controls_hint_wraps_in_a_narrow_window(window, qtbot) -> None:  # noqa: ANN001
    """A trial's 700-px window cut the walk keys' hint to "… Space jump · Tab n…": in a view
    narrower than the hint it wraps onto more lines, and unwraps when the view widens."""
    vp = _walking_in_a_room(window, qtbot)
    hud = vp.hud
    vp.resize(1400, 500)
    vp._place_hud()  # (as its resizeEvent does)
    one_line = hud.height()
    assert hud.geometry().right() <= vp.width()
    vp.resize(360, 500)
    vp._place_hud()
    assert hud.geometry().right() <= vp.width() and hud.height() > one_line
    vp.resize(1400, 500)
    vp._place_hud()
    assert hud.height() == one_line


def test_a_window_size_gl_cannot_draw_is_one_line_before_the_window(capsys) -> None:
    """`python main.py --size 20000x800 --shot x.png`: the window's GL framebuffer could
    not be made ("Framebuffer incomplete attachment") and the screenshot waited for a frame
    for ever; `--size 0x0` was taken with a note. Now one line and exit 2, before Qt."""
    from cli.cmd_render import parse_size
    from viewer.app import run_app

    assert parse_size("1440x900") == (1440, 900)
    assert parse_size("16384X1") == (16384, 1)
    for bad in ("20000x800", "0x0", "99999x5", "12x", "big", "5x-100"):
        with pytest.raises(ValueError, match="--size"):
            parse_size(bad)
        assert run_app(["--size", bad, "--shot", "x.png"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --size"), err


def test_the_status_bar_counts_a_meshs_triangles_not_zero_splats(window, qtbot) -> None:  # noqa: ANN001
    """A mesh opened alone showed "0 / 0 splats" (a trial): its triangles are counted."""
    from viewer.viewport import FrameInfo

    window._on_frame(FrameInfo(30.0, 10.0, 0, 0, triangles=12_000))
    assert window.splat_label.text().startswith("12k triangles"), window.splat_label.text()
    window._on_frame(FrameInfo(30.0, 10.0, 800, 1000, triangles=12))  # splats too: splats
    assert "800 / 1k splats" in window.splat_label.text(), window.splat_label.text()
