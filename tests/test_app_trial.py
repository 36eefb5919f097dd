"""What a new-user trial of the app found (pytest-qt under Xvfb, one CLI check): the box
tool shows itself and ends on opening a world; scrubbing the camera path gives Walk back;
the field of view does not leak from one world to the next; Save/Export propose names from
the open file and never the app's own folder; the Object panel is blank with no object;
`convert` on a project names `export`; Settings holds Preferences and Models; the key
overlay has one View section listing Del and Esc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

from PyQt6.QtCore import Qt  # noqa: E402

from scene.gaussians import GaussianCloud  # noqa: E402
from scene.world import Bookmark, Layer  # noqa: E402
from tests.test_app_rough_edges import photo_world

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def window(editor_window):  # conftest's window with the editing features
    return editor_window


@pytest.mark.gl
def test_box_tool_shows_itself_and_ends_when_a_world_opens(window, qtbot) -> None:  # noqa: ANN001
    window.set_world(photo_world())
    tools = window.extensions["splat_tools"]
    vp = window.viewport
    qtbot.keyClick(vp, Qt.Key.Key_B)
    assert tools.tool == "box"
    assert tools.tool_label.isVisible() and "Esc" in tools.tool_label.text()
    assert vp.cursor().shape() == Qt.CursorShape.CrossCursor
    window.show_status("something else", 5000)  # another message does not hide it
    assert tools.tool_label.isVisible()
    window.set_world(photo_world("/photos/other.jpg"))  # File > Open of another world
    assert tools.tool is None and not tools.tool_label.isVisible()
    assert vp.cursor().shape() != Qt.CursorShape.CrossCursor
    qtbot.keyClick(vp, Qt.Key.Key_B)
    qtbot.keyClick(vp, Qt.Key.Key_Escape)
    assert tools.tool is None and not tools.tool_label.isVisible()


@pytest.mark.gl
def test_scrubbing_the_path_gives_walk_back(window, qtbot) -> None:  # noqa: ANN001
    win = window
    win.set_world(photo_world())
    ext, nav = win.extensions["camera_paths"], win.viewport.nav
    for x in (0.0, 1.0, 2.0):
        nav.set_view_world(np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, -1.0]))
        ext.add_keyframe()
    ext.toggle_editor()
    ed = ext.editor
    qtbot.waitUntil(ed.dock.isVisible, timeout=3000)
    win.set_mode("walk")
    ed.panel.scrub.setValue(500)
    assert nav.mode == "fly"
    ed.panel.scrub.sliderReleased.emit()  # slider released
    assert nav.mode == "walk"
    ed.panel.scrub.setValue(200)
    assert nav.mode == "fly"
    win.viewport.setFocus()
    qtbot.keyPress(win.viewport, Qt.Key.Key_W)  # a movement key
    qtbot.keyRelease(win.viewport, Qt.Key.Key_W)
    assert nav.mode == "walk"
    ed.panel.scrub.setValue(700)
    assert nav.mode == "fly"
    ext.toggle_editor()  # panel closed
    qtbot.waitUntil(lambda: not ed.dock.isVisible(), timeout=3000)
    assert nav.mode == "walk"
    win.set_mode("fly")  # a user's own Fly stays Fly
    ext.toggle_editor()
    ed.panel.scrub.setValue(100)
    ed.panel.scrub.sliderReleased.emit()
    assert nav.mode == "fly"


@pytest.mark.gl
def test_fov_comes_from_settings_on_every_open(window) -> None:  # noqa: ANN001
    nav = window.viewport.nav
    rocket = photo_world("/photos/rocket.jpg")
    rocket.bookmarks.append(Bookmark("close", np.zeros(3), 0.0, 0.0, 30.0))
    window.set_world(rocket)
    assert nav.fov_y_deg == pytest.approx(30.0)  # the project's bookmark view
    window.set_world(photo_world())
    assert nav.fov_y_deg == pytest.approx(60.0)  # the Settings value, not 30
    window.settings.set("prefs/fov_y_deg", 75.0)
    window.set_world(rocket)
    window.set_world(photo_world())
    assert nav.fov_y_deg == pytest.approx(75.0)


@pytest.mark.gl
def test_a_save_beside_a_read_only_photo_is_proposed_at_home(window, tmp_path, monkeypatch) -> None:  # noqa: ANN001, E501
    """A world made from a photo in a folder the user cannot write (a shared drive, a
    camera card): the save dialog proposed that folder, where the save would fail."""
    import os

    import viewer.document as document

    photo = tmp_path / "ro" / "desk.jpg"
    photo.parent.mkdir()
    window.set_world(photo_world(str(photo)))
    ext = window.document
    assert ext.suggested_path("", "Untitled.wander") == str(photo.parent / "desk.wander")
    real = os.access
    monkeypatch.setattr(
        document.os, "access", lambda p, m: False if Path(p) == photo.parent else real(p, m)
    )
    assert ext.suggested_path("", "Untitled.wander") == str(Path.home() / "desk.wander")


@pytest.mark.gl
def test_proposed_names_follow_the_open_file_not_the_install(window, tmp_path) -> None:  # noqa: ANN001
    from viewer.main_window import INSTALL_ROOT

    ext = window.document
    src = tmp_path / "out.sog"
    window.set_world(photo_world(), src)
    window.world.layers[0].source = {}
    assert ext.suggested_path("", "Untitled.wander") == str(tmp_path / "out.wander")
    assert ext.suggested_path(".ply", "scene.ply") == str(tmp_path / "out.ply")
    assert ext.suggested_path(".sog", "scene.sog") == str(tmp_path / "out-edited.sog")
    # the demo world: made from the bundled assets/rocket.jpg
    window.settings.set("last_dir", str(tmp_path))
    window.set_world(photo_world(str(INSTALL_ROOT / "assets" / "rocket.jpg")))
    assert window.dialog_dir() == tmp_path
    assert ext.suggested_path("", "Untitled.wander") == str(tmp_path / "rocket.wander")
    assert ext.suggested_path(".ply", "scene.ply") == str(tmp_path / "rocket.ply")
    window.set_world(photo_world(), INSTALL_ROOT / "assets" / "sample.ply")  # a file in the install
    assert ext.suggested_path("", "Untitled.wander") == str(tmp_path / "sample.wander")
    window.settings.set("last_dir", str(INSTALL_ROOT / "assets"))
    assert window.dialog_dir() == Path.home()
    # nothing opened through a dialog yet, a project just saved elsewhere, the demo still
    # open: beside that newest recent file (a trial's File > Open began in home)
    window.settings.set("last_dir", "")
    saved = tmp_path / "trip" / "demo.wander"
    saved.parent.mkdir()
    saved.write_bytes(b"x")
    window.settings.add_recent(saved)
    window.set_world(photo_world(str(INSTALL_ROOT / "assets" / "rocket.jpg")))
    assert window.dialog_dir() == saved.parent


@pytest.mark.gl
def test_object_panel_is_blank_without_an_object(window) -> None:  # noqa: ANN001
    w = photo_world()
    rng = np.random.default_rng(1)
    obj = Layer(
        "Crate",
        GaussianCloud.from_points(
            rng.uniform(-0.2, 0.2, (50, 3)), rng.uniform(0, 1, (50, 3)), 0.02
        ),
        kind="object",
    )
    obj.transform = np.eye(4)
    obj.transform[:3, 3] = [3.25, 0.5, -1.0]
    w.add_layer(obj)
    w.clear_history()
    window.set_world(w)
    panel = window.extensions["objects_tools"].panel
    window.select_layer(obj.id)
    assert panel.isEnabled() and panel.pos[0].value() == pytest.approx(3.25)
    window.select_layer(None)
    assert not panel.isEnabled()
    assert [s.text() for s in panel.pos + panel.rot + [panel.scale]] == [""] * 7
    window.select_layer(obj.id)
    assert panel.pos[0].text().startswith("3.25")
    window.set_world(photo_world())  # another file
    assert not panel.isEnabled() and panel.pos[0].text() == ""


@pytest.mark.gl
def test_settings_menu_and_key_overlay(window) -> None:  # noqa: ANN001
    from viewer import ext_models
    from viewer.key_overlay import key_table

    ext_models.install(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Settings") == titles.index("&Help") - 1
    texts = [a.text() for a in window.menu("&Settings").actions()]
    assert texts == ["&Preferences…", "&Models…"]
    assert not any("Settings" in a.text() for a in window.menu("&Edit").actions())
    table = key_table(window)
    names = [t.upper() for t, _ in table]
    assert len(names) == len(set(names)), names  # one VIEW section
    view = dict(next(rows for t, rows in table if t.upper() == "VIEW"))
    assert "splats" in view["Del"] and "tool" in view["Esc"]


@pytest.mark.slow
def test_convert_on_a_project_names_export(tmp_path) -> None:
    from scene.project import save_project

    def convert(src: Path, dst: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "convert", str(src), str(dst)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    p = tmp_path / "p.wander"
    save_project(photo_world(), p, include_inputs=False)
    r = convert(p, tmp_path / "x.ply")
    assert r.returncode == 2, r.stderr
    assert "is a Wander project" in r.stderr
    assert f"main.py export {p} --out {tmp_path / 'x.ply'}" in r.stderr  # a command that runs
    assert "zip archive" not in r.stderr and not (tmp_path / "x.ply").exists()
    # project to project: no advice to `export --out x.wander`, which export refuses (a
    # trial followed it to "cannot tell the format of 'x.wander'")
    r = convert(p, tmp_path / "x.wander")
    assert r.returncode == 2 and "copied as a file" in r.stderr, r.stderr
    assert f"--out {tmp_path / 'x.ply'}" in r.stderr and "--out x.wander" not in r.stderr
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(p), "--out", "x.wander"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 2 and "not projects" in r.stderr, r.stderr
    # a text file named .wander is no project
    fake = tmp_path / "fake.wander"
    fake.write_text("hello")
    r = convert(fake, tmp_path / "y.ply")
    assert r.returncode == 2 and "is not one" in r.stderr, r.stderr
    assert not (tmp_path / "y.ply").exists()


@pytest.mark.gl
def test_no_menu_gives_one_letter_to_two_items(app_window) -> None:  # noqa: ANN001
    """Alt+C, P opened "New World from Panorama…", though three more Create items had P
    (a trial); each menu's underlined letters are unique, so a letter reaches its item."""
    import re

    from viewer.main_window import FEATURES

    win = app_window(*[install for _, install in FEATURES], size=(900, 600))
    clashes = []

    def walk(title: str, menu) -> None:  # noqa: ANN001
        seen: dict[str, list[str]] = {}
        for a in menu.actions():
            m = re.search(r"&([^&])", a.text().replace("&&", ""))
            if m:
                seen.setdefault(m.group(1).lower(), []).append(a.text())
            if a.menu() is not None:
                walk(a.text(), a.menu())
        clashes.extend((title, k, v) for k, v in seen.items() if len(v) > 1)

    walk("menu bar", win.menuBar())
    assert not clashes, clashes


@pytest.mark.gl
def test_edit_menu_names_the_step_undo_and_redo_take(window, qtbot) -> None:  # noqa: ANN001
    """Edit > Undo said only "Undo" (a trial): it names the step, as desktop editors do."""
    window.set_world(photo_world())
    lid = window.world.layers[0].id
    window.world.rename(lid, "Hall")
    window.menu("&Edit").aboutToShow.emit()
    assert window.undo_action.text().startswith("&Undo ") and "Hall" in window.undo_action.text()
    assert window.redo_action.text() == "&Redo" and not window.redo_action.isEnabled()
    window.undo()
    window.menu("&Edit").aboutToShow.emit()
    assert window.undo_action.text() == "&Undo" and "Hall" in window.redo_action.text()
    from viewer.key_overlay import key_table  # the key list keeps the plain labels

    edit = dict(next(rows for t, rows in key_table(window) if t.upper() == "EDIT"))
    assert edit["Ctrl+Z"] == "Undo" and edit["Ctrl+Y / Ctrl+Shift+Z"] == "Redo"


@pytest.mark.gl
def test_a_new_world_opens_with_nothing_selected(window) -> None:  # noqa: ANN001
    """Layer ids count from 1 in every world: the selected object's id selected the next
    world's layer of the same id (a trial opened the Great Wall with its camera frusta
    selected, gizmo and all)."""
    first = photo_world()
    first.add_layer(Layer("cup", GaussianCloud.from_points(np.zeros((4, 3)), np.ones((4, 3)), 0.1)))
    window.set_world(first)
    window.select_layer(first.layers[1].id)
    assert window.selected_layer_id() == first.layers[1].id
    second = photo_world()
    second.add_layer(
        Layer("Photo cameras", GaussianCloud.from_points(np.ones((4, 3)), np.ones((4, 3)), 0.1))
    )
    assert second.layers[1].id == first.layers[1].id  # the same id in the next world
    window.set_world(second)
    assert window.selected_layer_id() is None
