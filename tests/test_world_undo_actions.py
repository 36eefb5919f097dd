"""Every edit the app's menus and shortcuts make to the World is one undo step that
Ctrl+Z takes back exactly and Ctrl+Y makes again (README: "every edit is undoable").

The test walks the menu bar (each menu's aboutToShow first, so dynamic menus such as
Bookmarks are filled) plus the keys handled outside QActions, triggers each action on a
small world with an object selected, and compares a fingerprint of everything a user can
edit (layers, transforms, visibility, names, splat data, up axis, bookmarks, camera path)
before, after, after undo and after redo. Modal dialogs are answered without blocking.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_cloud

from scene.world import Bookmark, Layer, World, similarity_matrix

pytestmark = pytest.mark.gl

# Actions that leave the edited world (quit, replace it, write files, start generators
# that need input files) or only open a dialog/mode: not World edits, not triggered.
SKIP = {
    "&Quit",
    "&Open…",
    "Open &Demo World",
    "Recover &Unsaved Work…",
    "Screens&hot",
    "Screenshot at Resolution…",
    "Full Scr&een",
    "&Undo",
    "&Redo",
    "&Play Preview",
    "Render &Video…",
    "&Record While Walking",
}
# Edits this walk must find (so a broken walk cannot pass by finding none).
MUST_EDIT = {
    "&Delete Layer",
    "&Duplicate",
    "Move Left",
    "Turn Left 15°",
    "Scale Up",
    "&Snap to Ground",
    "&Hide / Show",
    "&Rename…",
    "+Z is up",
    "&Flip (upside down)",
    "Add &Keyframe from View",
    "Path from &Bookmarks",
    "&Clear Path",
    "Add Bookmark Here",
    "Ctrl+3 (viewport)",
    "Delete (outliner)",
    "Untick (outliner)",
}


def _fingerprint(win) -> tuple:  # noqa: ANN001
    w = win.world
    layers = tuple(
        (lay.id, lay.name, lay.kind, lay.visible, lay.transform.round(12).tobytes(), id(lay.data))
        for lay in w.layers
    )
    bms = tuple(
        (b.name, b.position.round(12).tobytes(), b.yaw, b.pitch, b.fov_y_deg) for b in w.bookmarks
    )
    path = win.document.camera.path
    return (
        layers,
        np.asarray(w.up_axis).round(12).tobytes(),
        w.meta.get("up_axis_source"),
        bms,
        repr(path.to_dict()) if path is not None else None,
    )


def _world() -> tuple[World, Layer]:
    w = World()
    w.add_layer(Layer("ground", random_cloud(400, seed=1)))
    obj = w.add_layer(
        Layer(
            "crate",
            random_cloud(60, seed=2),
            kind="object",
            transform=similarity_matrix((0.5, 1.0, -1.0), scale=0.3),
        )
    )
    w.bookmarks.append(Bookmark("a", [0, 1.6, 4], 0.0, 0.0, 60.0))
    w.bookmarks.append(Bookmark("b", [1, 1.6, 3], 0.4, -0.1, 60.0))
    w.meta["up_axis_source"] = "test"
    w.clear_history()
    return w, obj


@pytest.fixture
def app(qtbot, x_display, tmp_path, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("WANDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("WANDER_NO_DIALOGS", "1")
    from PyQt6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

    # dialogs answer at once: file pickers cancel, text prompts accept a new name
    for name in ("getOpenFileName", "getSaveFileName", "getOpenFileNames"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("renamed", True)))
    for name in ("getDouble", "getInt", "getItem"):
        monkeypatch.setattr(QInputDialog, name, staticmethod(lambda *a, **k: (None, False)))
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(
            QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel)
        )
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a, **k: None))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QDialog, "exec", lambda self: QDialog.DialogCode.Rejected)

    from viewer.main_window import MainWindow

    win = MainWindow()
    assert not win.feature_errors, win.feature_errors
    qtbot.addWidget(win)
    win.resize(640, 420)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.jobs.cancel_all()
    win.close()


def _menu_paths(win) -> list[tuple[str, ...]]:  # noqa: ANN001
    """The text path (menu, submenu..., action) of every leaf action of the menu bar."""
    out = []

    def walk(menu, path) -> None:  # noqa: ANN001
        menu.aboutToShow.emit()  # dynamic menus (Bookmarks) fill themselves here
        for a in menu.actions():
            if a.isSeparator():
                continue
            if a.menu() is not None:
                walk(a.menu(), (*path, a.text()))
            elif a.text() not in SKIP and not a.text().startswith(("&Undo", "&Redo")):
                out.append((*path, a.text()))

    for top in win.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), (top.text(),))
    return out


def _action_at(win, path: tuple[str, ...]):  # noqa: ANN001
    """The action at `path`, opening (aboutToShow) each menu on the way as a user would,
    so enabled states are current for the selection; None when it is gone."""
    actions = win.menuBar().actions()
    for i, text in enumerate(path):
        a = next((a for a in actions if a.text() == text), None)
        if a is None:
            return None
        if i == len(path) - 1:
            return a
        a.menu().aboutToShow.emit()
        actions = a.menu().actions()
    return None


def test_every_menu_and_key_edit_is_one_undoable_step(app, qtbot) -> None:  # noqa: ANN001
    from PyQt6.QtCore import Qt

    win = app
    world, obj = _world()
    win.set_world(world)
    win.extensions["camera_paths"].path_from_bookmarks()  # a camera path to edit and clear
    world.clear_history()
    qtbot.wait(200)
    keys = [
        (
            "Ctrl+3 (viewport)",
            lambda: qtbot.keyClick(win.viewport, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier),
        ),
        ("Delete (outliner)", lambda: qtbot.keyClick(win.outliner, Qt.Key.Key_Delete)),
        (
            "Untick (outliner)",
            lambda: win.outliner.item_for(obj.id).setCheckState(0, Qt.CheckState.Unchecked),
        ),
    ]
    events: list = []
    world.subscribe(events.append)
    edits, walked = [], []
    for label, where in [*((p[-1], p) for p in _menu_paths(win)), *keys]:
        if win.world is not world:  # an action replaced the world: put ours back
            win.set_world(world)
            world.subscribe(events.append)
        if obj in world.layers:
            win.select_layer(obj.id)
        if callable(where):
            trigger = where
        else:
            action = _action_at(win, where)
            if action is None or not action.isEnabled():
                continue
            trigger = action.trigger
        walked.append(label)
        before, depth = _fingerprint(win), len(world.undo_texts)
        events.clear()
        trigger()
        qtbot.wait(20)
        win.jobs.cancel_all()
        if win.world is not world:
            continue  # replaced, not edited
        after = _fingerprint(win)
        changes = [e for e in events if not getattr(e, "preview", False)]
        if after == before and not changes:
            assert len(world.undo_texts) == depth, f"{label}: an undo entry without a change"
            continue
        edits.append(label)
        assert len(world.undo_texts) == depth + 1, f"{label}: the edit is not one undo step"
        assert world.undo() and _fingerprint(win) == before, f"{label}: undo did not restore"
        assert world.redo() and _fingerprint(win) == after, f"{label}: redo did not repeat"
        world.undo()  # back to the start for the next action
    print(f"walked {len(walked)} actions/keys; {len(edits)} edit the world: {edits}")
    missing = MUST_EDIT - set(edits)
    assert not missing, f"these should edit the world but did not (walked: {walked})"
