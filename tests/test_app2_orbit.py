"""Orbit mode's pivot marker and ground grid (pytest-qt under Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()

pytestmark = pytest.mark.gl

from tests.test_app_rough_edges import photo_world
from viewer.ext_orbit import nice_step  # noqa: E402


@pytest.fixture
def window(editor_window):  # conftest's window with the editing features
    return editor_window


def test_nice_step() -> None:
    assert nice_step(0.37) == pytest.approx(0.2)
    assert nice_step(7.0) == 5.0 and nice_step(1.0) == 1.0 and nice_step(12) == 10.0


def _orange(img) -> np.ndarray:  # noqa: ANN001 - QImage
    from PyQt6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    a = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
    a = a.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width()]
    return (a[..., 0] > 200) & (a[..., 1] > 100) & (a[..., 1] < 180) & (a[..., 2] < 90)


def test_pivot_marker_and_persisted_grid(window, qtbot) -> None:  # noqa: ANN001
    from viewer import ext_orbit
    from viewer.settings import Settings

    win = window
    ext_orbit.install(win)
    ov = win.extensions["orbit_tools"].overlay
    win.set_world(photo_world())
    win.set_mode("walk")
    assert not ov.active  # nothing drawn outside orbit mode
    win.viewport.nav.set_orbit_target(np.array([0.5, 0.0, -0.5]), 4.0)
    win.viewport.nav.update(0.0)
    assert ov.active
    cam = ov.camera()
    uv, z = cam.project(ov.pivot_world()[None])
    assert z[0] == pytest.approx(4.0, rel=1e-3)  # the pivot is the orbit centre...
    assert np.allclose(uv[0], [ov.width() / 2, ov.height() / 2], atol=2)  # ...in the middle
    pix = _orange(ov.grab().toImage())
    cy, cx = ov.height() // 2, ov.width() // 2
    assert pix[cy - 12 : cy + 13, cx - 12 : cx + 13].sum() > 20  # the marker is drawn there
    # the grid: off by default, toggled from the View menu, persisted
    assert not ov.show_grid
    lines, step = ov.grid_lines()
    assert step == pytest.approx(0.5) and len(lines) == 2 * (2 * ext_orbit.GRID_CELLS + 1)
    ys = np.concatenate(lines) @ win.viewport.nav.rot.T  # back to the up-aligned frame
    assert np.ptp(ys[:, 1]) < 1e-9  # flat: all on one floor height
    win.extensions["orbit_tools"].grid_action.trigger()
    assert ov.show_grid and Settings().get("orbit_grid", False, bool)
    win.extensions["orbit_tools"].grid_action.trigger()
    assert not ov.show_grid and not Settings().get("orbit_grid", True, bool)
