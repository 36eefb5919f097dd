"""Issue 11, kinds 8 and 10 in GL and the app: renders larger than one framebuffer are
tiled (or refused in one line), background failures reach the log and the status bar."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

from conftest import random_cloud  # noqa: E402

pytestmark = pytest.mark.gl


def _camera(w: int, h: int):  # noqa: ANN202
    from scene.camera import Camera

    return Camera.look_at((0.4, 0.8, 5.0), (0, 0, 0), 50, w, h)


@pytest.fixture(scope="module")
def cloud():  # noqa: ANN201
    c = random_cloud(3000, 1, seed=12)
    c.scales[:] = np.log(0.03)  # small splats: no splat reaches far past a tile edge
    return c


def test_tiles_match_one_pass(x_display, cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    import viewer.offscreen as off

    whole = off.render_image(cloud, _camera(300, 200))
    monkeypatch.setattr(off, "MAX_TILE", 64)
    monkeypatch.setattr(off, "MIN_TILE", 16)
    tiled = off.render_image(cloud, _camera(300, 200))
    assert tiled.shape == whole.shape and whole.std() > 5
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.mean() < 0.5 and np.mean(diff > 2) < 0.01


def test_a_framebuffer_the_driver_cannot_allocate_is_tiled(
    x_display, cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """llvmpipe accepts 12000x12000 against GL_MAX_RENDERBUFFER_SIZE 16384, then reports
    the framebuffer incomplete: the render goes on in tiles."""
    import viewer.offscreen as off

    whole = off.render_image(cloud, _camera(240, 160))
    real_init = off.Framebuffer.__init__
    sizes: list[tuple[int, int]] = []

    def picky(self, w: int, h: int, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
        if w * h > 100 * 100:
            raise off.FramebufferError(f"offscreen framebuffer of {w}x{h} incomplete")
        sizes.append((w, h))
        real_init(self, w, h, *a, **k)

    monkeypatch.setattr(off.Framebuffer, "__init__", picky)
    monkeypatch.setattr(off, "MIN_TILE", 16)
    tiled = off.render_image(cloud, _camera(240, 160))
    assert sizes and max(w * h for w, h in sizes) <= 100 * 100
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.mean() < 0.5


def test_limits_are_queried_from_the_context(x_display) -> None:
    import viewer.offscreen as off
    from viewer.gl_context import offscreen_context

    offscreen_context().make_current()
    lim = off.gl_limits()
    assert lim.renderbuffer >= 1024 and lim.texture >= 1024 and min(lim.viewport) >= 1024
    assert lim.max_side[0] <= lim.renderbuffer


def test_render_refuses_in_one_line_when_no_framebuffer_works(
    x_display, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import viewer.offscreen as off
    from cli import run_cli
    from scene.io import save

    scene = tmp_path / "s.ply"
    save(random_cloud(200, seed=2), scene)

    def never(self, w: int, h: int, *a, **k) -> None:  # noqa: ANN001, ANN002, ANN003
        raise off.FramebufferError(f"offscreen framebuffer of {w}x{h} incomplete (status 0x8cd6)")

    monkeypatch.setattr(off.Framebuffer, "__init__", never)
    out = tmp_path / "big.png"
    assert run_cli(["render", str(scene), "--size", "12000x12000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot render 12000x12000"), err
    assert "try a smaller size" in lines[0] and not out.exists()


# --------------------------------------------------------------------------- the app
@pytest.fixture
def window(app_window):  # conftest's shared window, no features
    return app_window(size=(480, 320))


def test_screenshot_at_resolution_is_tiled_when_needed(
    window, qtbot, cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viewer.offscreen as off
    from scene.world import Layer, World

    w = World()
    w.add_layer(Layer("c", cloud))
    window.set_world(w)
    # outside the cloud, as _camera: where the walker happens to stand inside a random cube,
    # a splat just past the near cull covers several tiles (what tiling assumes away)
    nav = window.viewport.nav
    nav.set_mode("fly")
    nav.pos = np.array([0.4, 0.8, 5.0])
    nav.yaw, nav.pitch = 0.0, -0.15
    qtbot.wait(300)
    whole = window.viewport.render_to_image(300, 200)
    monkeypatch.setattr(off, "MAX_TILE", 64)
    tiled = window.viewport.render_to_image(300, 200)
    assert whole.std() > 3
    assert np.abs(tiled.astype(int) - whole.astype(int)).mean() < 1.0


def test_a_background_failure_is_logged_and_shown(
    window, qtbot, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing autosave (or collider build) used to vanish in `except: pass`."""
    import threading

    caplog.set_level(logging.ERROR)

    def fail() -> None:
        try:
            raise OSError(28, "No space left on device")
        except OSError as exc:
            window.report_background_error("Autosave failed", exc)

    t = threading.Thread(target=fail)  # autosave runs on a worker thread
    t.start()
    t.join()
    qtbot.waitUntil(lambda: "Autosave failed" in window.statusBar().currentMessage(), timeout=3000)
    assert "No space left on device" in window.statusBar().currentMessage()
    assert any("Autosave failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_failing_collider_build_is_logged(
    window, qtbot, cloud, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import viewer.viewport as vp
    from scene.world import Layer, World

    w = World()
    w.add_layer(Layer("c", cloud))
    window.set_world(w)
    qtbot.wait(200)

    def broken(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise KeyError("means")

    monkeypatch.setattr(vp.Collider, "from_cloud", broken)
    caplog.set_level(logging.WARNING)
    window.viewport._rebuild_collider_async()
    qtbot.waitUntil(
        lambda: "Collision update failed" in window.statusBar().currentMessage(), timeout=5000
    )
    assert any("collider build failed" in r.getMessage() for r in caplog.records)


def test_screenshot_refuses_to_replace_the_photo_the_world_came_from(
    window, qtbot, cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from PIL import Image

    import viewer.main_window as mw
    from scene.world import Layer, World

    photo = tmp_path / "holiday.png"
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(photo)
    before = hashlib.sha256(photo.read_bytes()).hexdigest()
    w = World()
    w.add_layer(Layer("c", cloud, source={"photos": [str(photo)]}))
    window.set_world(w)
    qtbot.wait(200)
    warnings: list[str] = []
    monkeypatch.setattr(
        mw.QMessageBox, "warning", lambda parent, title, text: warnings.append(text)
    )
    link = tmp_path / "shot.png"
    link.symlink_to(photo)
    for target in (photo, link):
        window._save_shot(str(target), 64, 48)
    assert len(warnings) == 2 and all("holiday.png" in t and "overwrite" in t for t in warnings)
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == before
    window._save_shot(str(tmp_path / "fine.png"), 64, 48)
    assert (tmp_path / "fine.png").is_file() and len(warnings) == 2
