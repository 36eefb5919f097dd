"""The viewport on a software OpenGL: a plain widget painting frames drawn offscreen
(`viewport.RasterViewport`), instead of a QOpenGLWidget that Qt composites with OpenGL."""

from __future__ import annotations

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

pytestmark = pytest.mark.gl

from PyQt6.QtOpenGLWidgets import QOpenGLWidget  # noqa: E402
from test_app_window import small_room  # noqa: E402

from scene.world import Layer, World  # noqa: E402


def _image(img) -> np.ndarray:  # noqa: ANN001 - QImage
    img = img.convertToFormat(img.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
    return arr.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3].reshape(
        img.height(), img.width(), 3
    )


def _showing_room(qtbot, cls, cpu_frames: bool = False):  # noqa: ANN001, ANN202
    """A viewport of class `cls`, 320x240 on screen, showing a small textured room once its
    first full-quality frame is drawn; with `cpu_frames`, once the CPU compositor's kernels
    are loaded too (a first frame may come from GL while they load, a rounding apart)."""
    w = World()
    w.add_layer(Layer("room", small_room()))
    vp = cls()
    qtbot.addWidget(vp)
    vp.resize(320, 240)
    vp.show()
    qtbot.waitExposed(vp)
    vp.set_world(w)
    qtbot.waitUntil(lambda: vp.info.full_quality and vp.info.splats_drawn > 0, timeout=30000)
    if cpu_frames:
        vp.renderer.frame_shown()
        assert vp.renderer._cpu.ready.wait(120)
    return vp


def test_llvmpipe_gets_the_raster_viewport_unless_told(qtbot, x_display, monkeypatch) -> None:
    from viewer.viewport import RasterViewport, Viewport, make_viewport

    monkeypatch.delenv("WANDER_VIEWPORT", raising=False)
    vp = make_viewport()
    qtbot.addWidget(vp)
    assert isinstance(vp, RasterViewport) and not isinstance(vp, QOpenGLWidget)
    monkeypatch.setenv("WANDER_VIEWPORT", "gl")
    gl = make_viewport()
    qtbot.addWidget(gl)
    assert isinstance(gl, Viewport) and isinstance(gl, QOpenGLWidget)
    for v in (vp, gl):
        v.release_gl()


def test_the_raster_viewport_shows_what_the_gl_widget_shows(qtbot, x_display) -> None:
    """The same world at the same size and pose: the raster viewport's frame (read back
    from its offscreen framebuffer) is the QOpenGLWidget's, pixel for pixel, and both
    are the scene (not the background)."""
    from viewer.viewport import RasterViewport, Viewport

    frames = []
    for cls in (RasterViewport, Viewport):
        vp = _showing_room(qtbot, cls, cpu_frames=True)  # both by the CPU compositor
        qtbot.wait(500)  # any cross-fade into the full frame over
        frames.append(_image(vp.grabFramebuffer()))
        vp.release_gl()
    raster, gl = frames
    assert raster.shape == gl.shape == (240, 320, 3)
    assert raster.std() > 10  # the room, not an empty frame
    assert np.abs(raster.astype(int) - gl.astype(int)).max() <= 1


def test_an_overlay_repainting_shows_the_last_frame_without_drawing_one(qtbot, x_display) -> None:
    """A child widget's update repaints the viewport's region under it: that shows the last
    frame again (as Qt recomposites a QOpenGLWidget's texture) and draws none; the
    viewport's own update() draws one. (The gizmo and the walk ring repaint after every
    frame: each frame would have been drawn twice.)"""
    from PyQt6.QtWidgets import QWidget

    from viewer.viewport import RasterViewport

    vp = _showing_room(qtbot, RasterViewport)
    qtbot.wait(600)  # settled: nothing more due
    calls = []
    orig = vp.paintGL
    vp.paintGL = lambda: (calls.append(1), orig())[1]
    child = QWidget(vp)
    child.setGeometry(10, 10, 100, 80)
    child.show()
    for _ in range(3):
        child.update()
        qtbot.wait(50)
    assert calls == []
    vp.update()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)
    vp.release_gl()


def test_a_moving_frame_scaled_up_on_the_cpu_is_painted_as_the_framebuffer_holds_it(
    qtbot, x_display
) -> None:
    """While walking, a reduced frame scaled up on the CPU is painted from that image
    instead of being read back: each such frame is the framebuffer's content exactly (not
    flipped, shifted or a frame behind)."""
    from PyQt6.QtCore import Qt

    from viewer.viewport import RasterViewport

    vp = _showing_room(qtbot, RasterViewport, cpu_frames=True)
    checked, orig = [], vp._render

    def render():  # noqa: ANN202
        img = orig()
        if vp.shown_image is not None:
            vp.makeCurrent()
            fb = np.ascontiguousarray(vp._gl.read())
            vp.doneCurrent()
            checked.append(bool(np.array_equal(vp._frame, fb)))
        return img

    vp._render = render
    vp.setFocus()
    qtbot.keyPress(vp, Qt.Key.Key_W)
    qtbot.waitUntil(lambda: len(checked) >= 5, timeout=60000)
    qtbot.keyRelease(vp, Qt.Key.Key_W)
    assert all(checked), checked
    vp.release_gl()
