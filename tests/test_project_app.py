"""The project features in the real window: save, autosave + crash recovery, export,
camera path keyframes / recording / preview, and Render Video through the viewport."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

from test_navigation import room_cloud  # noqa: E402

from scene import project as proj  # noqa: E402
from scene.project import load_project  # noqa: E402
from scene.world import Layer, World  # noqa: E402

pytestmark = pytest.mark.gl


@pytest.fixture
def env(app_window, monkeypatch):
    """(new_window, errors): windows with the project feature (conftest's shared window,
    closed at teardown); failed jobs are collected in `errors` instead of a modal box."""
    from conftest import project_features

    monkeypatch.setenv("WANDER_NO_DIALOGS", "1")
    errors: list = []

    def no_box(win) -> None:
        win.report_job_error = lambda title, exc: errors.append(
            (title, exc)
        )  # no modal boxes in tests

    def new_window():
        return app_window(*project_features(), size=(480, 320), theme=True, prepare=no_box)

    return new_window, errors


def wait_jobs(qtbot, win, timeout=60000):  # noqa: ANN001
    qtbot.waitUntil(lambda: not win.jobs.jobs, timeout=timeout)


def room_world() -> World:
    cloud = room_cloud(size=6.0, spacing=0.2, wall_z=-2.0)
    rng = np.random.default_rng(3)
    cloud.sh0[:] = rng.normal(0, 0.6, cloud.sh0.shape)
    w = World()
    w.add_layer(Layer("room", cloud))
    return w


def test_menu_actions_exist(env):
    new_window, _ = env
    win = new_window()
    file_texts = [a.text() for a in win.menu("&File").actions()]
    assert "&Save Project" in file_texts and "&Export…" in file_texts
    ext = win.extensions["project_save"]
    assert ext.save_action.shortcut().toString() == "Ctrl+S"
    assert ext.save_as_action.shortcut().toString() == "Ctrl+Shift+S"
    from PyQt6.QtGui import QAction

    create = [a.text() for m in win.menu("&Create").findChildren(QAction) for a in [m]]
    assert "Render &Video…" in [a.text() for a in win.menu("&Create").actions()]
    keys = {a.shortcut().toString() for a in win.findChildren(QAction)}
    assert "K" in keys and create is not None


def test_save_autosave_crash_and_recover(env, qtbot, tmp_path, monkeypatch):
    new_window, errors = env
    win = new_window()
    # on the start page (an empty world) there is nothing to save: no dialog, no file
    assert win.world.is_empty()
    from PyQt6.QtWidgets import QFileDialog

    asked: list = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: asked.append(a) or ("", ""))
    )
    assert win.extensions["project_save"].save() is None
    win.extensions["project_save"].save_as()
    assert win.extensions["project_save"].save(tmp_path / "empty.wander") is None
    assert not asked and not (tmp_path / "empty.wander").exists()
    win.set_world(room_world())
    qtbot.wait(100)
    assert not win.document.dirty
    target = tmp_path / "room.wander"
    win.extensions["project_save"].save(target)
    wait_jobs(qtbot, win)
    assert errors == [] and win.path == target and not win.document.dirty
    assert [lay.name for lay in load_project(target)[0].layers] == ["room"]
    # File > Open Recent lists it at once (a trial found it still disabled after saving)
    assert win.recent_menu.isEnabled()
    assert [a.statusTip() for a in win.recent_menu.actions()][0] == str(target)
    # Edit after saving, then the periodic autosave fires.
    win.world.rename(win.world.layers[0].id, "edited room")
    assert win.document.dirty
    assert win.extensions["autosave"].autosave_now(wait=True)
    auto = proj.autosave_path(
        target, tmp_path / "autosave", win.document.doc_id
    )  # this document's slot
    assert auto.is_file() and win.extensions["autosave"].autosave_file == auto
    assert proj.thumbnail_path(auto).is_file()
    # the recovery list shows the view the user had: the last full frame, small (a trial
    # saw a dark cloud of dots, the splat centres drawn from the front)
    qtbot.waitUntil(lambda: win.viewport.view_thumbnail is not None, timeout=10000)
    win.world.rename(win.world.layers[0].id, "edited room again")
    assert win.extensions["autosave"].autosave_now(wait=True)
    from PIL import Image

    thumb = np.asarray(Image.open(proj.thumbnail_path(auto)).convert("RGB"))
    np.testing.assert_array_equal(thumb, win.viewport.view_thumbnail)
    win.world.rename(win.world.layers[0].id, "edited room")
    assert win.extensions["autosave"].autosave_now(wait=True)
    assert not win.extensions["autosave"].autosave_now(
        wait=True
    )  # nothing changed since: no rewrite
    os.utime(target, (time.time() - 30, time.time() - 30))
    # Crash: the window goes away without saving or quitting cleanly. Next start:
    win2 = new_window()
    asked = []
    assert win2.extensions["autosave"].offer_recovery(
        ask=lambda rec: asked.append(rec) or "recover"
    )
    wait_jobs(qtbot, win2)
    assert asked[0].project == target.resolve()
    assert [lay.name for lay in win2.world.layers] == ["edited room"]
    assert win2.path == target.resolve() and win2.document.dirty
    # Saving the recovered work clears the recovery file.
    win2.extensions["project_save"].save()
    wait_jobs(qtbot, win2)
    assert not auto.exists() and errors == []
    assert [lay.name for lay in load_project(target)[0].layers] == ["edited room"]


def test_quit_with_unsaved_changes_autosaves_clean_quit_discards(env, qtbot, tmp_path):
    new_window, _ = env
    win = new_window()
    win.set_world(room_world())
    win.world.rename(win.world.layers[0].id, "changed")
    win.extensions["autosave"].on_quit()
    rec = proj.find_recovery(None, tmp_path / "autosave")
    assert rec is not None and rec.project is None
    win.document.dirty = False
    win.extensions["autosave"].on_quit()
    assert proj.find_recovery(None, tmp_path / "autosave") is None
    assert not win.extensions["autosave"].offer_recovery(
        ask=lambda r: "recover"
    )  # nothing left to offer


def test_declined_recovery_is_discarded(env, qtbot, tmp_path):
    new_window, _ = env
    proj.write_autosave(room_world(), None, tmp_path / "autosave")
    win = new_window()
    assert not win.extensions["autosave"].offer_recovery(ask=lambda r: "discard")
    assert proj.find_recoveries(tmp_path / "autosave") == []


def test_export_job(env, qtbot, tmp_path):
    import plyfile

    new_window, errors = env
    win = new_window()
    win.set_world(room_world())
    from scene.export import ExportOptions

    win.extensions["exporter"].export(
        tmp_path / "out.ply", options=ExportOptions(sh_degree=0, min_opacity=0.5)
    )
    wait_jobs(qtbot, win)
    assert errors == []
    assert len(plyfile.PlyData.read(str(tmp_path / "out.ply"))["vertex"]) == len(
        win.world.layers[0].data
    )


def test_keyframes_preview_and_render_video(env, qtbot, tmp_path):
    from generators.video import psnr, read_video

    new_window, errors = env
    win = new_window()
    ext = win.extensions["camera_paths"]
    win.set_world(room_world())
    qtbot.wait(200)
    nav = win.viewport.nav
    for pos, fwd in (
        ([0, 1.5, 2], [0, -0.1, -1]),
        ([1, 1.5, 0.5], [-0.3, -0.1, -1]),
        ([1.5, 1.4, -0.5], [-1, -0.1, -0.5]),
    ):
        nav.set_view_world(np.array(pos, float), np.array(fwd, float))
        ext.add_keyframe()
    path = ext.path
    assert len(path) == 3 and path.keyframes[1].time == pytest.approx(2.0)
    np.testing.assert_allclose(path.keyframes[2].position, [1.5, 1.4, -0.5], atol=1e-6)
    # Preview puts the viewport camera on the path.
    ext.show_path_time(2.0)
    np.testing.assert_allclose(win.current_camera().position, path.keyframes[1].position, atol=1e-4)
    ext.toggle_preview()
    assert ext._preview_timer.isActive()
    qtbot.wait(100)
    ext.toggle_preview()
    assert not ext._preview_timer.isActive()
    # Render the path through the viewport's renderer, from a worker job.
    out = tmp_path / "fly.mp4"
    win.extensions["video_render"].render_video(out, (128, 96), fps=2)
    wait_jobs(qtbot, win, timeout=120000)
    assert errors == []
    frames, fps = read_video(out)
    assert frames.shape == (8, 96, 128, 3) and fps == pytest.approx(2)
    cams = path.cameras(2, 128, 96)
    ref = [win.viewport.render_to_image(128, 96, camera=c) for c in (cams[0], cams[-1])]
    assert psnr(frames[0], ref[0]) >= 30 and psnr(frames[-1], ref[1]) >= 30
    assert psnr(frames[0], ref[0]) > psnr(frames[0], ref[1]) + 3


def test_render_video_without_a_camera_path_leaves_the_project_without_one(
    env, qtbot, tmp_path, monkeypatch
):
    """Trial: Render Video on a world with a bookmark and no camera path rendered its
    look-around, and quietly made it the project's camera path: the user's next keyframes
    came after 12 s of it, and Save wrote it. Now the look-around is for that video only,
    and the dialog says where its path comes from."""
    from scene.world import Bookmark
    from viewer import video_render

    new_window, errors = env
    win = new_window()
    world = room_world()
    world.bookmarks.append(Bookmark("Start", np.array([0.0, 1.5, 1.0]), 0.0, 0.0, 60.0))
    win.set_world(world)
    qtbot.wait(100)
    ext = win.extensions["video_render"]
    seen: dict = {}

    def accept(dlg) -> int:  # noqa: ANN001
        seen["note"] = " ".join(w.text() for w in dlg.findChildren(video_render.QLabel))
        seen["shown"] = (dlg.size.currentText(), dlg.fps.value())
        dlg.out.setText(str(tmp_path / "look.mp4"))
        dlg.size.setCurrentText("854x480")
        dlg.fps.setValue(12)
        return int(video_render.QDialog.DialogCode.Accepted.value)

    monkeypatch.setattr(video_render.VideoDialog, "exec", accept)
    monkeypatch.setattr(
        ext, "render_video", lambda out, size, fps, path=None: seen.update(path=path, out=out)
    )
    ext.render_video_dialog()
    assert seen["path"] is not None and len(seen["path"]) > 1  # a look-around was rendered
    assert "no camera path" in seen["note"]
    assert win.document.camera.path is None  # ... and the project still has no path
    assert seen["shown"] == ("1280x720", 30)
    # the next Render Video starts from the last one's size and frame rate (a trial: the
    # dialog forgot them every time)
    ext.render_video_dialog()
    assert seen["shown"] == ("854x480", 12)
    assert errors == []


def test_record_while_walking(env, qtbot):
    new_window, _ = env
    win = new_window()
    ext = win.extensions["camera_paths"]
    win.set_world(room_world())
    qtbot.wait(100)
    nav = win.viewport.nav
    nav.set_view_world(np.array([0.0, 1.5, 2.0]), np.array([0.0, 0.0, -1.0]))
    ext.toggle_record()
    for i in range(6):
        nav.set_view_world(np.array([0.0, 1.5, 2.0 - 0.4 * i]), np.array([0.0, 0.0, -1.0]))
        qtbot.wait(120)
    ext.toggle_record()
    assert ext.path is not None and len(ext.path) >= 2
    # (x, z only: in walk mode the navigator keeps the eye height above the floor)
    np.testing.assert_allclose(ext.path.keyframes[0].position[[0, 2]], [0, 2.0], atol=1e-4)
    np.testing.assert_allclose(ext.path.keyframes[-1].position[[0, 2]], [0, 0.0], atol=1e-4)
    assert 0.4 < ext.path.duration < 3.0  # the recording's own pace
    # a second recording replaces the first and says so (it did silently: a trial)
    status: list[str] = []
    win.show_status = lambda text, *a: status.append(text)
    ext.toggle_record()
    for i in range(4):
        nav.set_view_world(np.array([0.4 * i, 1.5, 0.0]), np.array([0.0, 0.0, -1.0]))
        qtbot.wait(120)
    ext.toggle_record()
    assert "it replaced the previous path (Ctrl+Z brings it back)" in status[-1]
    # standing still the whole time: refused, the path kept
    before = ext.path
    ext.toggle_record()
    qtbot.wait(300)
    ext.toggle_record()
    assert "did not move" in status[-1] and ext.path is before


def test_camera_path_travels_with_the_project(env, qtbot, tmp_path):
    new_window, errors = env
    win = new_window()
    ext = win.extensions["camera_paths"]
    win.set_world(room_world())
    nav = win.viewport.nav
    for pos in ([0, 1.5, 2], [1, 1.5, 0]):
        nav.set_view_world(np.array(pos, float), np.array([0, 0, -1.0]))
        ext.add_keyframe()
    win.extensions["project_save"].save(tmp_path / "p.wander")
    wait_jobs(qtbot, win)
    world, warnings = load_project(tmp_path / "p.wander")
    assert warnings == [] and errors == []
    win2 = new_window()
    win2.set_world(world, tmp_path / "p.wander")
    got = win2.extensions["camera_paths"].path
    assert got is not None and len(got) == 2
    np.testing.assert_allclose(got.keyframes[1].position, ext.path.keyframes[1].position)


def test_export_and_video_dialog_values(env, qtbot, tmp_path):
    from viewer.project_export import ExportOptionsDialog
    from viewer.video_render import VideoDialog

    new_window, _ = env
    win = new_window()
    win.set_world(room_world())
    dlg = ExportOptionsDialog(win, win.world)
    qtbot.addWidget(dlg)
    dlg.sh.setCurrentIndex(0)
    dlg.opacity.setValue(0.05)
    dlg.crop.setChecked(True)
    dlg.box[4].setValue(0.5)  # max y
    assert dlg.options().no_far_field is False  # off unless asked for
    dlg.no_far.setChecked(True)
    opts = dlg.options()
    assert opts.sh_degree == 0 and opts.min_opacity == pytest.approx(0.05)
    assert opts.crop[1][1] == pytest.approx(0.5) and opts.no_far_field is True
    assert dlg.format_options() == {}  # a .ply keeping the scene's antialiased flag
    # .spz: the CLI's --spz-version / --spz-axes / --antialiased (the dialog had none)
    spz = ExportOptionsDialog(win, win.world, ".spz")
    qtbot.addWidget(spz)
    assert spz.format_options() == {"version": 3, "axes": "ply"}
    spz.spz_version.setCurrentIndex(1)
    spz.spz_axes.setCurrentIndex(1)
    spz.antialiased.setCurrentIndex(1)
    assert spz.format_options() == {"version": 2, "axes": "rub", "antialiased": True}
    out = tmp_path / "v2.spz"
    win.extensions["exporter"].export(out, None, None, None, spz.format_options())
    wait_jobs(qtbot, win)
    from scene.io.spz import read_spz

    meta = read_spz(out, axes="rub").meta
    assert meta["spz_version"] == 2 and meta["antialiased"] is True
    win.extensions["camera_paths"].path_from_bookmarks()  # no bookmarks: a status message, no path
    assert win.extensions["camera_paths"].path is None
    from scene.campath import CameraPath, Keyframe

    vd = VideoDialog(win, CameraPath([Keyframe([0, 0, 0]), Keyframe([1, 0, 0], time=2)]))
    qtbot.addWidget(vd)
    vd.size.setCurrentText("640x360")
    vd.fps.setValue(24)
    assert vd.values()[:2] == ((640, 360), 24.0)
    vd.size.setCurrentText("641x360")
    with pytest.raises(ValueError, match="even"):
        vd.values()


def test_save_dialogs_suggest_files_beside_the_project(env, qtbot, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    new_window, _ = env
    win = new_window()
    win.set_world(room_world())
    assert win.document.suggested_path(".ply", "scene.ply").endswith("scene.ply")  # no project yet
    win.set_world(room_world(), tmp_path / "trip.wander")
    asked: list[str] = []
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(
            lambda *a, **k: (
                asked.append(a[2]),
                filters.append(a[4] if len(a) > 4 else ""),
                ("", ""),
            )[2]
        ),
    )
    filters: list[str] = []
    win.extensions["exporter"].export_dialog()
    assert asked == [str(tmp_path / "trip.ply")] and filters[-1].startswith("3DGS PLY")
    # Export Layer… proposes the layer's own name (a trial got the project's), and the
    # options dialog crops to that layer's box, not the world's
    from scene.mesh import Mesh
    from viewer.project_export import ExportOptionsDialog

    chair = Mesh(np.array([[0, 0, 0], [0.5, 0, 0], [0, 0.8, 0]], np.float32), np.array([[0, 1, 2]]))
    lid = win.world.add_layer(Layer("Fire extinguisher?", chair, kind="object")).id
    win.extensions["exporter"].export_dialog(layer=lid)
    assert asked[-1] == str(tmp_path / "Fire extinguisher.glb")
    assert filters[-1].startswith("glTF binary")  # not "3DGS PLY" beside a .glb (a trial)
    # both screenshot commands propose the world's name and the time
    monkeypatch.setattr(
        "PyQt6.QtWidgets.QInputDialog.getText", staticmethod(lambda *a, **k: ("64x48", True))
    )
    win.screenshot_dialog_quick()
    win.screenshot_dialog()
    assert all(re.fullmatch(r"trip-\d{8}-\d{6}\.png", Path(a).name) for a in asked[-2:]), asked
    dlg = ExportOptionsDialog(win, win.world, ".ply", layer=lid)
    qtbot.addWidget(dlg)
    assert [s.value() for s in dlg.box] == pytest.approx([0, 0, 0, 0.5, 0.8, 0], abs=1e-3)


def test_opening_another_world_offers_to_save_unsaved_changes(env, qtbot, tmp_path, monkeypatch):
    import scene.io

    new_window, _ = env
    win = new_window()
    win.set_world(room_world())
    ext = win.extensions["project_save"]
    other = tmp_path / "other.ply"
    scene.io.save(room_cloud(size=2.0, spacing=0.2, wall_z=None), other)
    win.world.set_visible(win.world.layers[0].id, False)  # an unsaved change
    assert win.document.dirty
    answers: list[str] = []
    monkeypatch.setattr(ext, "_ask_replace", lambda name: answers.pop(0))

    answers.append("cancel")
    assert win.open_path(other) is None
    assert win.world.layers[0].name == "room" and not win.jobs.jobs

    answers.append("save")
    target = tmp_path / "kept.wander"
    from PyQt6.QtWidgets import QFileDialog

    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert win.open_path(other) is not None
    wait_jobs(qtbot, win)
    assert target.exists() and load_project(target)[0].layers[0].name == "room"
    assert win.world.layers[0].name != "room"  # the other file is open now


def test_the_unsaved_changes_prompt_names_a_world_made_from_a_photo(env, tmp_path, monkeypatch):
    """A world made from Office.jpg and not yet saved was "this world" in the prompt (a
    trial); it is "the Office world" now, and a saved one its project's file name."""
    import scene.io

    new_window, _ = env
    win = new_window()
    w = room_world()
    w.layers[0].source = {"generator": "wander.world", "photos": [str(tmp_path / "Office.jpg")]}
    win.set_world(w)
    ext = win.extensions["project_save"]
    win.world.set_visible(win.world.layers[0].id, False)  # an unsaved change
    asked: list[str] = []
    monkeypatch.setattr(ext, "_ask_replace", lambda name: asked.append(name) or "cancel")
    other = tmp_path / "other.ply"
    scene.io.save(room_cloud(size=2.0, spacing=0.2, wall_z=None), other)
    assert win.open_path(other) is None
    assert asked == ["the Office world"]


def test_create_menu_groups_are_separated(env):
    from viewer import ext_panorama, ext_reconstruct

    new_window, _ = env
    win = new_window()
    ext_panorama.install(win)
    ext_reconstruct.install(win)
    acts = win.menu("&Create").actions()
    seps = [i for i, a in enumerate(acts) if a.isSeparator()]
    assert len(seps) >= 2 and 0 not in seps  # camera path/video, new world, new scene groups


def test_video_dialog_checks_the_output_before_it_closes(env, qtbot, tmp_path, monkeypatch):
    """Render Video's dialog stays open on an output that cannot be written (and says
    why), adds .mp4 to a bare name, refuses an input of the open world and asks before it
    replaces a file. Before, each of these closed the dialog and failed in the job, or
    replaced the file silently."""
    from PyQt6.QtWidgets import QDialog, QMessageBox

    from scene.campath import CameraPath, Keyframe
    from viewer.video_render import VideoDialog

    new_window, _ = env
    win = new_window()
    warned: list[str] = []
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answer[0])
    photo = tmp_path / "photo.mp4"
    photo.write_bytes(b"x")
    path = CameraPath([Keyframe([0, 0, 0]), Keyframe([1, 0, 0], time=2)])

    def dialog(out: str) -> VideoDialog:
        d = VideoDialog(win, path, inputs=[("the photo", photo)])
        qtbot.addWidget(d)
        d.out.setText(out)
        d.accept()
        return d

    assert dialog(str(tmp_path / "nodir" / "v.mp4")).result() != QDialog.DialogCode.Accepted
    assert "does not exist" in warned[-1]
    assert dialog(str(tmp_path / "v.avi")).result() != QDialog.DialogCode.Accepted
    assert ".mp4" in warned[-1]
    assert dialog("").result() != QDialog.DialogCode.Accepted
    assert "no output" in warned[-1]
    assert dialog(str(photo)).result() != QDialog.DialogCode.Accepted
    assert "would overwrite the photo" in warned[-1]
    bare = dialog(str(tmp_path / "walk"))
    assert bare.result() == QDialog.DialogCode.Accepted and not asked
    assert bare.values()[2] == str(tmp_path / "walk.mp4")
    there = tmp_path / "there.mp4"
    there.write_bytes(b"old")
    assert dialog(str(there)).result() != QDialog.DialogCode.Accepted  # said no
    assert asked and "there.mp4 already exists" in asked[-1]
    answer[0] = QMessageBox.StandardButton.Yes
    assert dialog(str(there)).result() == QDialog.DialogCode.Accepted


def test_bad_photo_for_an_object_and_a_zero_screenshot_size_are_said(
    app_window, tmp_path, monkeypatch
):
    """Insert Object from Photo with a file that is no image gives the job-error message,
    not an internal error; Screenshot at Resolution refuses 0x10 (a 0 width had fallen
    back to the window's width: a 940x10 PNG)."""
    from PyQt6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

    from viewer import ext_objects

    errors: list = []

    def no_box(win) -> None:
        win.report_job_error = lambda title, exc: errors.append((title, exc))

    win = app_window(ext_objects, size=(480, 320), prepare=no_box)
    win.set_world(room_world())
    bad = tmp_path / "text.jpg"
    bad.write_text("not an image")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    win.extensions["objects_tools"].insert_photo_dialog()
    assert errors and "not a readable image" in str(errors[-1][1]), errors
    warned: list[str] = []
    saved: list = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("0x10", True))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: saved.append(1) or ("", ""))
    win.screenshot_dialog()
    assert warned and "1 to 16384" in warned[-1] and not saved


def test_undo_and_redo_back_to_the_saved_state_is_not_unsaved(env, qtbot, tmp_path):
    """Edit, save, undo, redo: the world is what was saved, so no • in the title and
    nothing to save. Before, any change marked it unsaved for good. A change outside the
    undo history (an app-held value announced with World.emit) still counts."""
    from scene.events import WorldEvent

    new_window, errors = env
    win = new_window()
    win.set_world(room_world())
    lid = win.world.layers[0].id
    win.world.rename(lid, "renamed")
    target = tmp_path / "room.wander"
    win.extensions["project_save"].save(target)
    wait_jobs(qtbot, win)
    assert not win.document.dirty
    win.undo()
    qtbot.wait(20)
    assert win.document.dirty and win.windowTitle().startswith("•")
    win.redo()
    qtbot.wait(20)
    assert not win.document.dirty and not win.windowTitle().startswith("•")
    win.undo()
    win.world.rename(lid, "renamed")  # the same name again, but a new edit: unsaved
    assert win.document.dirty
    win.document.dirty = False
    win.world.emit(WorldEvent())
    assert win.document.dirty


def test_a_reopened_project_shows_the_view_it_was_saved_at(env, qtbot, tmp_path):
    """A trial saved with the camera turned away from the start, reopened, and was back at
    the start. The view is kept in the project; R still goes to the start; a record that is
    not finite numbers in range is ignored."""
    new_window, errors = env
    win = new_window()
    w = room_world()
    from scene.world import Bookmark

    w.bookmarks.append(Bookmark("Start", [0.0, 1.6, 2.0], 0.0, 0.0, 60.0))
    win.set_world(w)
    qtbot.wait(100)
    win.viewport.nav.set_mode("fly")
    win.viewport.nav.set_view_world([0.7, 1.2, 0.5], [-0.6, -0.2, -0.77])
    saved = win.viewport.current_view()
    target = tmp_path / "v.wander"
    win.extensions["project_save"].save(target)
    wait_jobs(qtbot, win)
    assert errors == []
    win2 = new_window()
    win2.open_path(target)
    wait_jobs(qtbot, win2)
    qtbot.waitUntil(lambda: win2.path == target.resolve(), timeout=10000)
    got = win2.viewport.current_view()
    np.testing.assert_allclose(got["position"], saved["position"], atol=1e-6)
    assert abs(got["yaw"] - saved["yaw"]) < 1e-6 and abs(got["pitch"] - saved["pitch"]) < 1e-6
    assert got["mode"] == "fly"
    assert "at its last view" in win2.statusBar().currentMessage()
    win2.viewport.nav.reset()  # R: the start
    np.testing.assert_allclose(win2.viewport.current_view()["position"], [0.0, 1.6, 2.0], atol=0.2)
    before = win2.viewport.current_view()
    for bad in (
        {"position": [float("nan"), 0, 0], "yaw": 0, "pitch": 0},
        {"position": "x", "yaw": 0, "pitch": 0},
        {"position": [1e9, 0, 0], "yaw": 0, "pitch": 0},
        {"position": [0, 0, 0], "yaw": 0, "pitch": 0, "fov_y_deg": 0.0},
        ["not", "a", "dict"],
    ):
        assert not win2.viewport.restore_view(bad)
    assert win2.viewport.current_view() == before


def test_a_name_typed_without_its_extension_never_replaces_a_file_unasked(
    env, qtbot, tmp_path, monkeypatch
):
    """Save Project As with `keep` typed beside keep.wander replaced that project without a
    word: the dialog asked about `keep` (which is not there), the app then added .wander (a
    trial). Now the file really written is asked about; screenshots and exports alike."""
    from PyQt6.QtWidgets import QFileDialog, QMessageBox

    from viewer.save_target import with_extension

    assert with_extension("a/keep", ".wander") == Path("a/keep.wander")
    assert with_extension("a/trip.2024", ".wander") == Path("a/trip.2024.wander")
    assert with_extension("a/scene.ply", ".wander") == Path("a/scene.wander")
    assert with_extension("a/s.compressed.ply", ".wander") == Path("a/s.wander")
    assert with_extension("a/K.WANDER", ".wander") == Path("a/K.WANDER")
    new_window, _ = env
    win = new_window()
    win.set_world(room_world())
    keep = tmp_path / "keep.wander"
    keep.write_bytes(b"the user's other project")
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "keep"), ""))
    )
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda parent, title, text, *a: asked.append(text) or answer[0]),
    )
    win.extensions["project_save"].save_as()
    wait_jobs(qtbot, win)
    assert asked == ["keep.wander already exists. Replace it?"]
    assert keep.read_bytes() == b"the user's other project"
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"an earlier shot")
    win._save_shot(str(tmp_path / "shot"), 32, 24)
    assert shot.read_bytes() == b"an earlier shot" and len(asked) == 2
    answer[0] = QMessageBox.StandardButton.Yes
    win.extensions["project_save"].save_as()
    wait_jobs(qtbot, win)
    assert load_project(keep)[0].layers[0].name == "room"
