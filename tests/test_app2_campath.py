"""Camera-path editing in the app (pytest-qt under Xvfb): the path drawn in the viewport,
keyframes selected / moved to the view / retimed / deleted from the Camera Path panel,
each one undo entry, and the preview slider moving the view along the path."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

pytestmark = pytest.mark.gl

from PyQt6.QtCore import Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from scene.campath import (  # noqa: E402
    CameraPath,
    Keyframe,
    delete_keyframe,
    path_polyline,
    replace_keyframe,
    retime_keyframe,
)
from tests.test_app_rough_edges import photo_world


@pytest.fixture
def window(editor_window):  # conftest's window with the editing features
    return editor_window


def _path() -> CameraPath:
    return CameraPath(
        [
            Keyframe([0, 0, 0], 0, 0, 60, 0.0),
            Keyframe([1, 0, 0], 0.3, 0, 60, 2.0),
            Keyframe([2, 0, -1], 0.6, 0, 60, 4.0),
        ]
    )


def test_campath_edit_helpers() -> None:
    p = _path()
    q = retime_keyframe(p, 0, 3.0)  # moves past keyframe 2
    assert [k.time for k in q.keyframes] == [2.0, 3.0, 4.0]
    assert np.allclose(q.keyframes[1].position, [0, 0, 0])
    with pytest.raises(ValueError, match="already at"):
        retime_keyframe(p, 0, 2.0)
    r = replace_keyframe(p, 1, Keyframe([5, 5, 5], 0, 0, 50, 2.0))
    assert np.allclose(r.position(2.0), [5, 5, 5]) and len(p) == 3  # the original is untouched
    assert len(delete_keyframe(p, 2)) == 2
    assert delete_keyframe(CameraPath([Keyframe([0, 0, 0])]), 0) is None
    with pytest.raises(IndexError):
        delete_keyframe(p, 3)
    line = path_polyline(p)
    assert np.allclose(line[0], [0, 0, 0]) and np.allclose(line[-1], [2, 0, -1])


def test_path_editor_edits_are_undoable_and_scrub_moves_the_view(window, qtbot) -> None:  # noqa: ANN001
    win = window
    win.set_world(photo_world())
    ext = win.extensions["camera_paths"]
    ed = ext.editor
    nav = win.viewport.nav
    # three keyframes from three views (K), one undo entry each
    for x in (0.0, 1.0, 2.0):
        nav.set_view_world(np.array([x, 0.0, 0.0]), np.array([0.0, 0.0, -1.0]))
        ext.add_keyframe()
    assert len(ext.path) == 3
    ext.toggle_editor()
    qtbot.waitUntil(ed.dock.isVisible, timeout=3000)
    assert ed.panel.list.count() == 3
    ext.add_keyframe()  # K selects the keyframe it added (a trial: the list stayed on 1)
    assert ed.panel.list.currentRow() == 3
    win.undo()
    assert ed.panel.list.count() == 3
    # the path is drawn: seen from behind, its keyframes project inside the viewport
    nav.set_view_world(np.array([1.0, 0.5, 6.0]), np.array([0.0, 0.0, -1.0]))
    segs, kuv, kok = ed.overlay.screen_points()
    assert kok.all() and segs
    w, h = ed.overlay.width(), ed.overlay.height()
    assert ((kuv >= 0) & (kuv < [w, h])).all()
    # select keyframe 2, move it to the current view
    ed.select(1)
    nav.set_view_world(np.array([1.0, 0.5, 0.3]), np.array([0.0, 0.0, -1.0]))
    ed.panel.set_view.click()
    assert np.allclose(ext.path.keyframes[1].position, [1.0, 0.5, 0.3], atol=1e-6)
    assert win.world._undo[-1].text == "Move keyframe 2"
    # retime it (typed, then Enter: the keys go back to the view)
    t_old = ext.path.keyframes[1].time
    ed.panel.time.setFocus()
    ed.panel.time.setValue(t_old + 0.5)
    qtbot.keyClick(ed.panel.time.lineEdit(), Qt.Key.Key_Return)
    assert ext.path.keyframes[1].time == pytest.approx(t_old + 0.5)
    assert win.viewport.hasFocus() or QApplication.focusWidget() is win.viewport
    # delete it
    ed.select(1)
    ed.panel.delete.click()
    assert len(ext.path) == 2 and ed.panel.list.count() == 2
    # undo x3 restores, in order: the deleted keyframe, its time, its position
    win.undo()
    assert len(ext.path) == 3 and ed.panel.list.count() == 3
    win.undo()
    assert ext.path.keyframes[1].time == pytest.approx(t_old)
    win.undo()
    assert np.allclose(ext.path.keyframes[1].position, [1.0, 0.0, 0.0], atol=1e-6)
    win.redo()
    assert np.allclose(ext.path.keyframes[1].position, [1.0, 0.5, 0.3], atol=1e-6)
    # scrubbing: the slider puts the camera on the path (in fly mode: no gravity)
    win.set_mode("walk")
    path = ext.path
    ed.panel.scrub.setValue(500)
    t = path.start + path.duration * 0.5
    assert np.allclose(nav.camera(4, 4).position, path.position(t), atol=1e-4)
    assert nav.mode == "fly"
    ed.panel.scrub.setValue(1000)
    assert np.allclose(nav.camera(4, 4).position, path.keyframes[-1].position, atol=1e-4)
    ed.select(0)
    ed.panel.goto.click()
    assert np.allclose(nav.camera(4, 4).position, path.keyframes[0].position, atol=1e-4)
    # Play Preview moves the slider with the camera (a trial: it stood still)
    ed.panel.scrub.setValue(0)
    ext.toggle_preview()
    qtbot.waitUntil(lambda: ed.panel.scrub.value() > 0, timeout=3000)
    ext.toggle_preview()
    # clear is undoable too
    ext.clear_path()
    assert ext.path is None and ed.panel.list.count() == 0
    win.undo()
    assert ext.path is not None and len(ext.path) == 3
    assert win.document.dirty and win.windowTitle().startswith("•")  # a path edit is unsaved work


def test_an_empty_path_panel_stays_narrow_and_one_bookmark_is_said(window, qtbot) -> None:  # noqa: ANN001
    """The empty path's hint, one unwrapped line, widened the path dock to ~560 of 1400 px
    and squeezed the view; Path from Bookmarks on a world with one bookmark said "through
    5 bookmarks" for the look-around it made from that one (a trial)."""
    from scene.world import Bookmark

    win = window
    w = photo_world()
    w.bookmarks.append(Bookmark("Start", np.zeros(3)))
    win.set_world(w)
    ext = win.extensions["camera_paths"]
    ext.toggle_editor()
    qtbot.waitUntil(ext.editor.dock.isVisible, timeout=3000)
    panel = ext.editor.panel
    assert panel.summary.text().startswith("No camera path")
    assert panel.minimumSizeHint().width() < 320
    assert ext.path_from_bookmarks()
    msg = win.statusBar().currentMessage()
    assert "look-around from bookmark 'Start'" in msg and "5 bookmarks" not in msg
