"""`python main.py scene.ply` after `reconstruct`: the real window opens the scene with the
photo cameras saved beside it: their up axis, and the first photo's view to start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

pytestmark = pytest.mark.gl


@pytest.fixture
def window(app_window):  # conftest's shared window, no features
    return app_window(size=(480, 360))


def test_open_a_scene_with_cameras_beside_starts_at_the_first_photo(
    window, qtbot, tmp_path: Path
) -> None:
    from test_recon_frame import _scene_with_z_up_cameras

    ply, cams = _scene_with_z_up_cameras(tmp_path)
    window.open_path(ply)
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=20000)
    assert np.allclose(window.world.up_axis, [0, 0, 1])
    first = cams[2]  # photo_0.jpg
    nav = window.viewport.nav
    assert np.linalg.norm(nav.position_world - first.position) < 1e-6
    assert float(nav.forward_world() @ first.forward) > 0.999
    assert "up axis +Z (from cameras" in window.statusBar().currentMessage()
    img = window.viewport.render_to_image(160, 120)
    assert img.std() > 5  # the scene is in view, not a black frame
