"""Menus and dialogs give the keyboard back to the viewport (pytest-qt under Xvfb): open the
File menu, Esc, hold W -> the view moves."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

from PyQt6.QtCore import Qt, QTimer  # noqa: E402
from PyQt6.QtTest import QTest  # noqa: E402
from PyQt6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from scene.gaussians import GaussianCloud  # noqa: E402
from scene.world import Layer, World  # noqa: E402

pytestmark = pytest.mark.gl


@pytest.fixture
def window(app_window):  # conftest's shared window, a random cloud open
    win = app_window(size=(640, 420), active=True)
    rng = np.random.default_rng(0)
    w = World()
    w.add_layer(
        Layer(
            "World",
            GaussianCloud.from_points(
                rng.uniform(-3, 3, (2000, 3)), rng.uniform(0, 1, (2000, 3)), 0.03
            ),
        )
    )
    win.set_world(w)
    win.set_mode("fly")
    return win


def hold_w(qtbot, ms: int = 300) -> None:  # noqa: ANN001
    target = QApplication.focusWidget()
    QTest.keyPress(target, Qt.Key.Key_W)
    qtbot.wait(ms)
    QTest.keyRelease(QApplication.focusWidget() or target, Qt.Key.Key_W)


def test_file_menu_then_esc_then_w_walks(window, qtbot) -> None:  # noqa: ANN001
    bar = window.menuBar()
    file_menu = window.menu("&File")
    QTest.mouseClick(
        bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_menu.menuAction()).center()
    )
    qtbot.waitUntil(file_menu.isVisible, timeout=3000)
    QTest.keyClick(file_menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not file_menu.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.viewport, timeout=3000)
    p0 = window.viewport.nav.position_world.copy()
    hold_w(qtbot)
    assert np.linalg.norm(window.viewport.nav.position_world - p0) > 1e-3


def test_dialog_closing_returns_focus(window, qtbot) -> None:  # noqa: ANN001
    window.menuBar().setFocus()  # e.g. Alt pressed, or a click that left it there
    box = QMessageBox(QMessageBox.Icon.Information, "x", "y", parent=window)
    QTimer.singleShot(50, box.accept)
    box.exec()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.viewport, timeout=3000)
    p0 = window.viewport.nav.position_world.copy()
    hold_w(qtbot)
    assert np.linalg.norm(window.viewport.nav.position_world - p0) > 1e-3


def test_a_dialog_closing_over_a_panel_button_returns_focus(window, qtbot) -> None:  # noqa: ANN001
    """A panel's button (the camera path's Delete) kept the focus through Render Video and
    Save As: 1 and W did nothing (a trial). A button takes no typing: the view gets it."""
    from PyQt6.QtWidgets import QDockWidget, QPushButton

    dock = QDockWidget("panel", window)
    button = QPushButton("Delete", dock)
    dock.setWidget(button)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    try:
        button.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is button, timeout=3000)
        box = QMessageBox(QMessageBox.Icon.Information, "x", "y", parent=window)
        QTimer.singleShot(50, box.accept)
        box.exec()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is window.viewport, timeout=3000)
    finally:
        window.removeDockWidget(dock)
        dock.deleteLater()


def test_ctrl_of_a_shortcut_does_not_move_the_camera(window, qtbot) -> None:  # noqa: ANN001
    """Ctrl+S in Fly mode dropped the camera while the Save dialog opened (Ctrl is also
    "down"). Qt asks the viewport with ShortcutOverride before a menu shortcut fires:
    the Ctrl of it is then no descent."""
    from PyQt6.QtCore import QEvent
    from PyQt6.QtGui import QKeyEvent

    vp = window.viewport
    qtbot.waitUntil(lambda: QApplication.focusWidget() is vp, timeout=3000)
    p0 = vp.nav.position_world.copy()
    QTest.keyPress(vp, Qt.Key.Key_Control)
    ctrl = Qt.KeyboardModifier.ControlModifier
    QApplication.sendEvent(vp, QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_S, ctrl))
    qtbot.wait(500)
    QTest.keyRelease(vp, Qt.Key.Key_Control)
    assert np.linalg.norm(vp.nav.position_world - p0) < 1e-6
    QTest.keyPress(vp, Qt.Key.Key_Control)  # held alone: down
    qtbot.wait(600)
    QTest.keyRelease(vp, Qt.Key.Key_Control)
    assert vp.nav.position_world[1] < p0[1] - 1e-3


def test_the_view_has_the_keyboard_when_a_job_ends(window, qtbot) -> None:  # noqa: ANN001
    """Create > New World from Photo: the dialog closed, the job ran with its Cancel button in
    the status bar, and when it ended (the new world shown) nothing had the keyboard: M and
    W did nothing until the view was clicked (a trial). The view has it again."""
    import threading

    go = threading.Event()

    def work(progress, cancel):  # noqa: ANN001, ANN202
        go.wait(5)
        return 1

    window.run_job("A job", work, lambda _r: None)
    qtbot.waitUntil(window.job_box.isVisible, timeout=3000)
    # nothing has the keyboard (the dialog's window gone, the focus nowhere: the trial's
    # QApplication.focusWidget() was None)
    fw = QApplication.focusWidget()
    if fw is not None:
        fw.clearFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is None, timeout=3000)
    go.set()
    qtbot.waitUntil(lambda: not window.job_box.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.viewport, timeout=3000)
