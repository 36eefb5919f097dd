"""The app's rough edges (pytest-qt under Xvfb): key overlay generated from the binding
tables, persisted Settings, title with unsaved changes, names from the source photo, file
dialogs beside the project, progress that never runs backwards."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from scene.gaussians import GaussianCloud  # noqa: E402
from scene.world import Layer, World  # noqa: E402

pytestmark = pytest.mark.gl


@pytest.fixture
def window(editor_window):  # conftest's window with the editing features
    return editor_window


def photo_world(photo: str = "/photos/trip/chelsea.jpg") -> World:
    rng = np.random.default_rng(0)
    w = World()
    cloud = GaussianCloud.from_points(
        rng.uniform(-2, 2, (500, 3)), rng.uniform(0, 1, (500, 3)), 0.03
    )
    w.add_layer(
        Layer(
            "World",
            cloud,
            kind="world",
            source={"generator": "wander.pano_world", "panorama": {"inputs": [photo]}},
        )
    )
    w.clear_history()
    return w


def test_key_overlay_lists_every_bound_key(window, qtbot) -> None:  # noqa: ANN001
    from viewer.key_overlay import key_table, shortcut_actions

    window.set_world(photo_world())
    qtbot.keyClick(window.viewport, Qt.Key.Key_F1)
    ov = window.key_overlay
    assert ov.isVisible()
    table = key_table(window)
    flat = {(k, v) for _, rows in table for k, v in rows}
    texts = " ".join(f"{k} {v}" for k, v in flat)
    for a in shortcut_actions(window):  # every action bound to a key is listed
        if a.isVisible() and any(m for m in a.associatedObjects() if hasattr(m, "title")):
            key = a.shortcuts()[0].toString()
            assert key in texts, (key, a.text())
    move = dict((v, k) for k, v in table[0][1])
    assert "W" in move["forward"] and "Shift" in move["run (walk) / faster (fly)"]
    for key in ("Ctrl+D", "Alt+1", "Ctrl+Z", "K", "Ctrl+R", "G", "End", "H", "O", "B", "Ctrl+I"):
        assert any(key in k.split(" / ") for k, _ in flat), key
    qtbot.keyClick(ov, Qt.Key.Key_Escape)
    assert not ov.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.viewport, timeout=3000)


def test_key_overlay_cuts_no_text_in_a_small_window(window, qtbot) -> None:  # noqa: ANN001
    """A trial at 1200x750 saw "captured mouse-look (Esc frees the m" and "Separate Selected
    Splats to a Laye": the columns were narrower than their longest lines. They wrap now."""
    from PyQt6.QtWidgets import QLabel

    window.resize(1200, 750)
    window.set_world(photo_world())
    qtbot.keyClick(window.viewport, Qt.Key.Key_F1)
    ov = window.key_overlay
    qtbot.waitUntil(ov.isVisible, timeout=3000)
    QApplication.processEvents()
    labels = [lb for lb in ov.findChildren(QLabel) if "<table" in lb.text()]
    assert labels
    for lb in labels:
        assert lb.width() >= lb.minimumSizeHint().width(), lb.text()[:60]
        assert lb.height() >= lb.heightForWidth(lb.width()), lb.text()[:60]
        assert lb.geometry().right() <= ov.width(), lb.text()[:60]
    qtbot.keyClick(ov, Qt.Key.Key_Escape)


def test_the_object_panel_appears_without_widening_the_left_column(window, qtbot) -> None:  # noqa: ANN001
    """The Object panel took its preferred width when it first appeared (256 -> 369 px):
    the view re-framed and the clicked object jumped to its edge (a trial)."""
    window.resize(1200, 750)
    window.set_world(photo_world())
    qtbot.wait(100)
    before = window.outliner_dock.width()
    tools = window.extensions["objects_tools"]
    tools.panel_dock.show()
    qtbot.wait(100)
    assert window.outliner_dock.width() == before
    assert tools.panel_dock.width() == before


def test_the_object_panel_is_not_squashed_by_the_scene_list(window, qtbot) -> None:  # noqa: ANN001
    """At a 1100x700 window the Scene list took the left column's height and the Object
    panel's fields were clipped, its Scale row cut off (a trial): the panel keeps the
    height its rows need, its hint's wrapped lines counted."""
    from PyQt6.QtWidgets import QApplication

    window.resize(1100, 700)
    window.set_world(photo_world())
    tools = window.extensions["objects_tools"]
    tools.panel_dock.show()
    qtbot.wait(100)
    QApplication.processEvents()
    panel = tools.panel
    for s in panel.pos + panel.rot + [panel.scale]:
        assert s.height() >= s.sizeHint().height(), (s.height(), s.sizeHint())
        assert s.geometry().bottom() <= panel.height()


def test_settings_persist_and_apply(window, qtbot, monkeypatch) -> None:  # noqa: ANN001
    from viewer import settings_dialog as sd
    from viewer.settings import Settings

    prefs = sd.load_prefs(window.settings)
    assert prefs == {p.key: p.default for p in sd.PREFS}
    prefs.update(
        move_speed=2.5,
        mouse_sensitivity=2.0,
        invert_y=True,
        fov_y_deg=75.0,
        moving_quality="full",
        autosave_minutes=0.0,
    )

    def fake_exec(dlg):  # noqa: ANN001 - the user edits the form and presses OK
        for k, v in prefs.items():
            w = dlg.widgets[k]
            if k == "invert_y":
                w.setChecked(v)
            elif k == "moving_quality":
                w.setCurrentIndex(list(sd.QUALITY).index(v))
            else:
                w.setValue(v)
        return sd.QDialog.DialogCode.Accepted

    monkeypatch.setattr(sd.SettingsDialog, "exec", fake_exec)
    assert window.settings_dialog()
    assert sd.load_prefs(Settings()) == prefs  # persisted
    nav = window.viewport.nav
    assert nav.speed_mult == 2.5 and nav.fov_y_deg == 75.0
    assert not window.viewport.quality.enabled and not window.adaptive_action.isChecked()
    assert not window.extensions["autosave"].autosave_timer.isActive()
    nav.set_mode("fly")
    p0 = nav.pitch
    nav.look(0, 10)  # mouse down -> looks up (inverted)
    assert nav.pitch - p0 == pytest.approx(2.0 * 10 * 0.0025)
    # a new window starts with them
    from viewer.main_window import MainWindow

    other = MainWindow(install_extensions=False)
    try:
        assert other.viewport.nav.fov_y_deg == 75.0 and other.viewport.nav.speed_mult == 2.5
    finally:
        other.close()


def test_title_names_and_dialog_folders(window, qtbot, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    photo = tmp_path / "trip" / "chelsea.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"not really a photo")
    window.set_world(photo_world(str(photo)))
    layer = window.world.layers[0]
    assert layer.name == "chelsea"  # not "World"
    assert window.windowTitle() == "chelsea (not saved) — Wander"
    assert window.document.suggested_path("", "Untitled.wander") == str(
        photo.parent / "chelsea.wander"
    )
    assert window.dialog_dir() == photo.parent  # beside the photo until saved
    # ... unless that folder cannot be written (a shared photo folder: a trial was offered
    # to save its world into the realdata folder)
    import os

    from viewer.naming import dialog_folder

    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **k: Path(p) != photo.parent and real_access(p, mode)
    )
    assert dialog_folder(None, window.world, str(tmp_path)) == tmp_path
    monkeypatch.setattr(os, "access", real_access)
    # ... nor when it is marked read-only (r-xr-xr-x), though root could write there
    mode = photo.parent.stat().st_mode
    photo.parent.chmod(0o555)
    try:
        assert dialog_folder(None, window.world, str(tmp_path)) == tmp_path
    finally:
        photo.parent.chmod(mode)
    assert dialog_folder(None, window.world, str(tmp_path)) == photo.parent
    window.world.rename(layer.id, "garden")
    qtbot.waitUntil(lambda: window.windowTitle().startswith("•"), timeout=2000)
    target = tmp_path / "saved" / "mine.wander"
    target.parent.mkdir()
    window.extensions["project_save"].save(target)
    qtbot.waitUntil(lambda: window.windowTitle() == "mine.wander — Wander", timeout=20000)
    assert window.dialog_dir() == target.parent  # beside the project
    assert window.suggested_name(".png") == "mine.png"


def test_job_bar_never_runs_backwards(window, qtbot) -> None:  # noqa: ANN001
    import threading

    gate = threading.Event()
    job = window.run_job("Two stages", lambda progress, cancel: gate.wait(10), lambda r: None)
    window.jobs._progress(job, 0.6, "stage one")
    assert window.job_bar.value() == 600
    window.jobs._progress(job, 0.2, "stage two restarts its count")
    assert window.job_bar.value() == 600
    window.jobs._progress(job, 0.8, "on")
    assert window.job_bar.value() == 800
    gate.set()
    qtbot.waitUntil(lambda: not window.jobs.jobs, timeout=5000)
    # the next job's bar starts empty: the high mark was keyed by id(job), and a job that
    # got a finished one's id showed a full bar throughout (a trial's video render)
    gate.clear()
    job = window.run_job("Next", lambda progress, cancel: gate.wait(10), lambda r: None)
    window.jobs._progress(job, 0.04, "frame 1/61")
    assert window.job_bar.value() == 40
    gate.set()
    qtbot.waitUntil(lambda: not window.jobs.jobs, timeout=5000)


def test_a_status_message_cut_off_by_the_bar_is_whole_in_its_tooltip(window, qtbot) -> None:  # noqa: ANN001
    """A trial read "…the 1,402,937 splat…": long messages were cut off with no way to read
    them. Hovering the bar shows the whole message; a short one needs no tooltip, and the
    tooltip goes when the message does."""
    bar = window.statusBar()
    long = "Exported the scene: " + ", ".join(f"layer {i} with 1,402,937 splats" for i in range(12))
    window.show_status(long)
    assert bar.toolTip() == long
    window.show_status("Saved")
    assert bar.toolTip() == ""
    window.show_status(long)
    bar.clearMessage()
    assert bar.toolTip() == ""


def test_terminal_progress_never_runs_backwards() -> None:
    from cli.progress import TerminalProgress

    out = io.StringIO()
    bar = TerminalProgress("world ", stream=out, log_every=0.0)
    for f, m in ((0.4, "a"), (0.2, "b"), (1.0, "c"), (0.99, "d")):
        bar(f, m)
    bar.done()  # (a plain log's lines of the first second wait for the job to go on)
    shown = [float(line.split("%")[0].split()[-1]) for line in out.getvalue().splitlines()]
    assert shown == sorted(shown) and shown[-1] == 100.0


def test_status_bar_read_outs_are_not_clipped(window, qtbot) -> None:  # noqa: ANN001
    window.set_world(photo_world())
    window.job_box.setVisible(True)
    qtbot.wait(50)
    fm = window.job_cancel.fontMetrics()
    assert window.job_cancel.width() >= fm.horizontalAdvance("Cancel") + 16
    lab = window.splat_label
    lab.setText("833k / 833k splats  ·  66% res")
    assert lab.width() >= lab.fontMetrics().horizontalAdvance(lab.text())


def test_qt_settings_stay_in_the_config_folder(window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Qt's file dialog keeps its state in QtProject.conf: under WANDER_CONFIG_DIR, not
    ~/.config (a trial found it written outside the folder it had named)."""
    from PyQt6.QtCore import QSettings

    from viewer.settings import Settings

    base = tmp_path / "cfg"
    monkeypatch.setenv("WANDER_CONFIG_DIR", str(base))
    Settings()
    qt = QSettings(QSettings.Scope.UserScope, "QtProject")
    assert Path(qt.fileName()).resolve().is_relative_to(base.resolve()), qt.fileName()


def test_a_jobs_title_is_whole_beside_a_short_message(window, qtbot) -> None:  # noqa: ANN001
    """While a message shows, a job keeps only its title, in what the message leaves: at a
    fixed 140 px a trial read "New world from O…" beside "Cancelled: New world from
    Office.jpg" in a 1600-px window."""
    import threading

    window.resize(1280, 800)
    window.set_world(photo_world())
    gate = threading.Event()
    title = "New world from Office_in_the_evening.jpg"
    job = window.run_job(title, lambda progress, cancel: gate.wait(10), lambda r: None)
    window.jobs._progress(job, 0.3, "depth 3/12")
    try:
        window.show_status("Saved")
        qtbot.waitUntil(lambda: window.job_label.text() == title, timeout=3000)
    finally:
        gate.set()
        qtbot.waitUntil(lambda: not window.jobs.jobs, timeout=5000)


def test_a_status_message_beside_a_running_job_has_room(window, qtbot) -> None:  # noqa: ANN001
    """A trial saw "Bookmark 1 …" cut to a few characters while a video rendered: the job's
    title and message (360 px), its bar and Cancel and the read-outs filled a 1280-px status
    bar. While a message shows, the job keeps only its title; after it, its message again."""
    import threading

    window.resize(1280, 800)
    window.set_world(photo_world())
    gate = threading.Event()
    job = window.run_job("Render Video", lambda progress, cancel: gate.wait(10), lambda r: None)
    window.jobs._progress(job, 0.3, "frame 18 of 61, about 40 s left, writing video.mp4")
    bar = window.statusBar()
    note = "Bookmark 1 saved (Ctrl+Z brings it back)"
    qtbot.waitUntil(lambda: bar.width() <= 1280, timeout=3000)
    window.show_status(note)

    def free() -> int:
        QApplication.processEvents()
        used = sum(
            w.width()
            for w in (
                window.job_box,
                window.splat_label,
                window.fps_label,
                window.pos_label,
                window.mode_label,
            )
            if w.isVisible()
        )
        return bar.width() - used

    try:
        qtbot.waitUntil(lambda: free() > bar.fontMetrics().horizontalAdvance(note), timeout=3000)
        assert "frame 18" not in window.job_label.text()
        assert "frame 18" in window.job_label.toolTip()
        bar.clearMessage()
        qtbot.waitUntil(lambda: "frame 18" in window.job_label.text(), timeout=3000)
        # with no message, the job's text takes the bar's free width: all of it here (a
        # trial: "Reconstructing from 12 photos — optimising: step 1…" beside an empty bar)
        assert "writing video.mp4" in window.job_label.text(), window.job_label.text()
        assert free() >= 0
    finally:
        gate.set()
        qtbot.waitUntil(lambda: not window.jobs.jobs, timeout=5000)


def test_a_long_job_message_leaves_the_read_outs_whole(window, qtbot) -> None:  # noqa: ANN001
    """A reconstruction's progress ("optimising: step 65 of ~293 · 0:43 left · batch PSNR
    …") beside the read-outs in an 1100-px window: the job's text is cut, the position
    read-out is not (a trial saw "x 0.00 y 1.60 z" with the z value pushed out)."""
    import threading

    window.resize(1100, 800)
    window.set_world(photo_world())
    bar = window.statusBar()
    qtbot.waitUntil(lambda: bar.width() == 1100, timeout=3000)
    gate = threading.Event()
    job = window.run_job(
        "Reconstructing from 12 photos", lambda progress, cancel: gate.wait(10), lambda r: None
    )
    bar.clearMessage()
    window.jobs._progress(
        job,
        0.2,
        "optimising: step 65 of ~293 · 0:43 left · batch PSNR 27.41 dB · 312,455 splats · "
        "loss 0.0412 · SH degree 1 · densifying every 100 steps",
    )

    def whole(label) -> bool:  # noqa: ANN001
        QApplication.processEvents()
        return label.width() >= label.fontMetrics().horizontalAdvance(label.text())

    try:
        qtbot.waitUntil(lambda: "step 65" in window.job_label.text(), timeout=3000)
        assert not bar.currentMessage()  # (a message leaves the job only its title)
        qtbot.waitUntil(lambda: whole(window.pos_label) and whole(window.splat_label), timeout=3000)
        assert window.job_label.text().endswith("…")  # the job's text is what gives way
    finally:
        gate.set()
        qtbot.waitUntil(lambda: not window.jobs.jobs, timeout=5000)


def test_held_out_photos_say_so_in_the_bookmarks_menu(window) -> None:  # noqa: ANN001
    """A trial found a reconstruction's bookmarks listing two photos after all the others,
    unmarked, and looking worse: they were held out of the scene for evaluation."""
    from scene.world import Bookmark

    w = photo_world()
    for name in ("p1.jpg", "p2.jpg", "p0.jpg"):
        w.bookmarks.append(Bookmark(name, np.zeros(3), 0.0, 0.0, 50.0))
    w.meta["reconstruct"] = {"held_out": ["p0.jpg"]}
    window.set_world(w)
    window._fill_bookmarks()
    labels = [a.text().split("\t")[0] for a in window.bookmarks_menu.actions()]
    assert "p0.jpg (held out)" in labels and "p1.jpg" in labels
    assert "p1.jpg (held out)" not in labels


def test_a_reconstruction_is_named_after_a_photo_it_placed() -> None:
    """Office.jpg among two Great Wall frames was not registered, yet the world and its
    save were named "Office" (a trial): the first photo the reconstruction placed names it."""
    from viewer.naming import world_name

    w = World()
    cloud = GaussianCloud.from_points(np.zeros((4, 3)), np.full((4, 3), 0.5), 0.03)
    source = {"generator": "wander.reconstruct", "photos": ["/p/Office.jpg", "/p/gw_0.jpg"]}
    w.add_layer(Layer("Reconstruction", cloud, source=source))
    assert world_name(w) == "Office"  # no record of what was placed: the first photo
    w.meta["reconstruct"] = {
        "photos": {"Office.jpg": "not registered: no overlap", "gw_0.jpg": "registered"}
    }
    assert world_name(w) == "gw_0"


def test_preferences_ok_alone_keeps_a_photo_framed(window, monkeypatch) -> None:  # noqa: ANN001
    """A trial pressed OK in Preferences without changing anything: a photo world's view
    (framed as the photo, 46° across) widened to the preference's 60°, its invented border
    in view. Only a changed field of view replaces the photo's framing."""
    from viewer import settings_dialog as sd

    nav = window.viewport.nav
    nav.fit_fov_x_deg = 65.0  # as a photo world's start bookmark sets it
    monkeypatch.setattr(sd.SettingsDialog, "exec", lambda dlg: sd.QDialog.DialogCode.Accepted)
    assert window.settings_dialog()
    assert nav.fit_fov_x_deg == 65.0

    def wider(dlg):  # noqa: ANN001, ANN202
        dlg.widgets["fov_y_deg"].setValue(70.0)
        return sd.QDialog.DialogCode.Accepted

    monkeypatch.setattr(sd.SettingsDialog, "exec", wider)
    assert window.settings_dialog()
    assert nav.fit_fov_x_deg == 0.0 and nav.fov_y_deg == 70.0
