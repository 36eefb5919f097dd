"""Create > New World from Photo in the real window (pytest-qt under Xvfb)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from viewer.app import configure_gl

configure_gl()  # before pytest-qt creates the QApplication

pytestmark = [pytest.mark.slow, pytest.mark.gl]


@pytest.fixture
def window(app_window):  # conftest's shared window
    from viewer import ext_panorama

    return app_window(ext_panorama)


def test_new_world_from_photo_runs_as_a_job_and_opens(window, qtbot, tmp_path: Path) -> None:
    from skimage import data

    from generators.world_options import WorldOptions
    from viewer.ext_panorama import NewWorldDialog

    texts = [a.text() for a in window.menu("&Create").actions()]
    assert "New &World from Photo…" in texts
    photo = tmp_path / "rocket.jpg"
    cv2.imwrite(str(photo), data.rocket()[..., ::-1])
    # the dialog turns its widgets into a request (no modal exec in tests)
    dlg = NewWorldDialog(window, [photo])
    assert "else 65°" in dlg.auto_fov.text() and dlg.fov.value() == 65.0  # no EXIF
    dlg.auto_fov.setChecked(False)
    dlg.fov.setValue(50.0)
    dlg.resolution.setCurrentIndex(0)
    req = dlg.request()
    assert req.fov == 50.0 and req.resolution == 512 and req.pano_backend == "classical"
    dlg.depth_backend.setCurrentIndex(dlg.depth_backend.findData("neural"))
    with pytest.raises(ValueError, match="model folder"):
        dlg.request().check()
    tools = window.extensions["panorama_tools"]
    tools.start(WorldOptions(photos=[photo], fov=50.0, resolution=384))
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=60000)
    world = window.world
    cloud = world.layers[0].data
    assert cloud.meta["generator"] == "wander.pano_world"
    assert cloud.meta["panorama"]["fov_x_deg"] == 50.0
    cam = window.current_camera()
    # at the start spot, standing on the generated floor (y = 0) at the viewer's eye height
    np.testing.assert_allclose(cam.position[[0, 2]], [0, 0], atol=0.05)
    qtbot.wait(500)
    feet = window.current_camera().position[1] - window.viewport.nav.eye_height
    assert abs(feet) < 0.05
    assert cam.forward[2] < -0.95  # looking at the photo
    # a world just made is in no file: unsaved work (a trial lost one: replaced by Open
    # Recent without a question, quit without a recovery file)
    assert window.document.is_modified() and window.path is None
    assert window.windowTitle().startswith("• ")
    qtbot.wait(300)
    img = window.viewport.grabFramebuffer()
    assert img.width() > 100
    arr = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
    assert arr.reshape(img.height(), -1)[:, : img.width() * 4].std() > 5  # something drawn


def test_cancelled_job_leaves_the_world_unchanged(
    window, qtbot, tmp_path: Path, monkeypatch
) -> None:
    from skimage import data

    from generators import pano_world
    from generators.world_options import WorldOptions

    photo = tmp_path / "cat.jpg"
    cv2.imwrite(str(photo), data.chelsea()[..., ::-1])
    before = window.world
    seen: list[str] = []
    req = WorldOptions(photos=[photo], resolution=1024)
    run = pano_world.generate_world

    def tracked(options, progress, cancel):  # noqa: ANN001
        return run(options, lambda f, m: (seen.append(m), progress(f, m)), cancel)

    monkeypatch.setattr(pano_world, "generate_world", tracked)
    job = window.extensions["panorama_tools"].start(req)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=10000)
    window.jobs.cancel_all()
    assert job.wait(30)
    qtbot.waitUntil(lambda: job.state == "cancelled", timeout=5000)
    qtbot.wait(200)
    assert window.world is before


def test_folder_browse_buttons_fit_their_text(window, qtbot, tmp_path: Path) -> None:
    from PyQt6.QtWidgets import QApplication, QPushButton

    from viewer.ext_panorama import NewWorldDialog
    from viewer.style import apply_theme

    apply_theme(QApplication.instance())  # the theme's padding is what squeezed the "…"
    dlg = NewWorldDialog(window, [tmp_path / "a.jpg"])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    buttons = [b for b in dlg.findChildren(QPushButton) if b.text() == "…"]
    assert buttons
    for b in buttons:
        assert b.sizeHint().width() <= b.width(), "the '…' is elided"


def test_stitching_warnings_reach_the_window(window, qtbot, monkeypatch) -> None:
    """A world stitched from photos that were not taken from one spot (or with one held
    sideways) says so in a warning box, as `world` prints it. Before, the warning went
    only to the terminal and the app said just "New world: N splats"."""
    from types import SimpleNamespace

    import generators.pano_world as pano_world
    from generators.world_options import WorldOptions
    from scene.gaussians import GaussianCloud
    from scene.world import Layer, World

    def fake(options, progress, cancel):  # noqa: ANN001, ANN202 - the generator's result
        w = World()
        w.add_layer(Layer("world", GaussianCloud.from_points([[0, 1, -2]], [[1, 1, 1]], 0.1)))
        meta = {"warnings": ["photos 1 (a.jpg) and 2 (b.jpg) were not taken"]}
        return SimpleNamespace(world=w, panorama=SimpleNamespace(meta=meta))

    monkeypatch.setattr(pano_world, "generate_world", fake)
    window.extensions["panorama_tools"].start(WorldOptions(photos=[Path("a.jpg")]))
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=10000)
    box = window._last_warning_box
    assert box.windowTitle() == "Made with warnings" and "not taken" in box.text()


def test_the_panorama_dialog_says_when_the_file_is_reduced(window, tmp_path: Path) -> None:
    """A 4096 x 2048 panorama came out soft at the default detail and nothing said why (a
    trial); the dialog names the file's rows and what the chosen level keeps."""
    from viewer.ext_panorama import RESOLUTIONS, NewWorldDialog

    pano = tmp_path / "pano.png"
    cv2.imwrite(str(pano), np.zeros((2048, 4096, 3), np.uint8))
    dlg = NewWorldDialog(window, [], pano)
    # a panorama file starts at High (all of it is photographed: a trial found 768 soft)
    assert dlg.resolution.currentIndex() == len(RESOLUTIONS) - 1
    assert "2048 rows" in dlg.detail_note.text() and "uses 1024" in dlg.detail_note.text()
    assert "High" not in dlg.detail_note.text()
    dlg.resolution.setCurrentIndex(1)
    assert "uses 768" in dlg.detail_note.text() and "High keeps more" in dlg.detail_note.text()
    assert "panorama's ground line" in dlg.auto_radius.text()
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((400, 800, 3), np.uint8))
    assert "uses them all" in NewWorldDialog(window, [], small).detail_note.text()


def test_the_new_world_dialog_shows_the_photos_exif_field_of_view(window, tmp_path: Path) -> None:
    """A trial's photo says 52.6° in its EXIF; the dialog showed the 65° default."""
    from PIL import Image

    from generators.panorama.fov import fov_from_exif
    from viewer.ext_panorama import NewWorldDialog

    ex = Image.Exif()
    ex.get_ifd(0x8769)[0xA405] = 35
    photo = tmp_path / "exif.jpg"
    Image.new("RGB", (400, 300), (90, 120, 150)).save(photo, exif=ex.tobytes())
    fov = fov_from_exif({0xA405: 35}, 400, 300)
    dlg = NewWorldDialog(window, [photo])
    assert dlg.fov.value() == pytest.approx(fov, abs=0.05)
    assert f"EXIF: {fov:.1f}°" in dlg.auto_fov.text()
    assert dlg.request().fov is None  # still read from the photo when the world is made


def test_a_photo_opened_as_a_scene_offers_a_new_world(
    window, qtbot, tmp_path: Path, monkeypatch
) -> None:
    """`python main.py photo.jpg` (or a photo dropped on the window) said only "not a splat
    or mesh file" (a trial); now the New World dialog opens for it, as a panorama when it
    is shaped like one, and nothing is replaced until the user says so."""
    from PIL import Image
    from PyQt6.QtWidgets import QDialog

    import viewer.ext_panorama as ext

    seen: list = []

    def fake_exec(self) -> QDialog.DialogCode:  # noqa: ANN001
        seen.append((list(self.photos), self.panorama))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ext.NewWorldDialog, "exec", fake_exec)
    photo = tmp_path / "garden.jpg"
    Image.new("RGB", (400, 300), (90, 140, 60)).save(photo)
    pano = tmp_path / "pano.jpg"
    Image.new("RGB", (2048, 1024), (120, 150, 200)).save(pano)
    before = window.world
    import scene.io.images as images

    checks: list = []
    real_check = images.checked_image_size
    monkeypatch.setattr(
        images, "checked_image_size", lambda *a, **k: checks.append(a) or real_check(*a, **k)
    )
    assert window.open_path(photo) is None
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=5000)
    assert seen[0] == ([photo], None)
    assert len(checks) == 1  # checked once, not again by the offer (a review: 2 x 2.5 s)
    window.open_path(pano)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert seen[1] == ([], pano)
    assert window.world is before
    # a text file named .jpg is no photo: one clear message, no dialog (a trial: the app
    # offered a world of it, which then failed with "not a readable image")
    fake = tmp_path / "fake.jpg"
    fake.write_text("hello")
    errors: list = []
    monkeypatch.setattr(window, "report_job_error", lambda t, e: errors.append((t, str(e))))
    assert window.open_path(fake) is None
    qtbot.wait(100)
    assert len(seen) == 2 and window.world is before
    assert errors and "fake.jpg" in errors[0][0] and "not a readable image" in errors[0][1]
    # ... nor is a photo cut off part-way (a trial: the dialog opened, its job failed)
    cut = tmp_path / "cut.jpg"
    whole = tmp_path / "whole.jpg"
    Image.effect_noise((400, 300), 60).convert("RGB").save(whole, quality=90)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert window.open_path(cut) is None
    qtbot.wait(100)
    assert len(seen) == 2 and window.world is before
    assert len(errors) == 2 and "cut.jpg" in errors[1][0] and "truncated" in errors[1][1]


def test_a_photo_picked_as_a_panorama_is_offered_as_a_photo(
    window, qtbot, tmp_path: Path, monkeypatch
) -> None:
    """New World from Panorama… with a 900x598 photo: the dialog took it and the job
    failed at its end (a trial). The pick now says it is no panorama and, if the user
    agrees, opens the New World dialog for it as a photo; Cancel does nothing."""
    from PIL import Image
    from PyQt6.QtWidgets import QDialog, QFileDialog, QMessageBox

    import viewer.ext_panorama as ext

    photo = tmp_path / "Office.jpg"
    Image.new("RGB", (900, 598), (120, 90, 60)).save(photo)
    seen: list = []

    def fake_exec(self) -> QDialog.DialogCode:  # noqa: ANN001
        seen.append((list(self.photos), self.panorama))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(ext.NewWorldDialog, "exec", fake_exec)
    pick = staticmethod(lambda *a, **k: (str(photo), ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick)
    asked: list = []
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: asked.append(a[2]) or answers.pop(0))
    )
    tools = window.extensions["panorama_tools"]
    tools.new_from_panorama()
    assert not seen and "900x598 pixels, not an equirectangular" in asked[0]
    tools.new_from_panorama()
    assert seen == [([photo], None)]


def test_a_new_world_says_where_it_can_be_walked(window, qtbot, monkeypatch) -> None:
    """The walkable area is named when the world arrives, not only at its rim (a trial
    stopped 1 m from the start and had read the ring on the floor as decoration)."""
    from types import SimpleNamespace

    import generators.pano_world as pano_world
    from generators.world_options import WorldOptions
    from scene.gaussians import GaussianCloud
    from scene.world import Layer, World

    def fake(options, progress, cancel):  # noqa: ANN001, ANN202 - the generator's result
        w = World()
        w.add_layer(Layer("world", GaussianCloud.from_points([[0, 1, -2]], [[1, 1, 1]], 0.1)))
        w.meta["walkable"] = {"centre": [0.0, 0.0, 0.0], "radius": 1.084}
        return SimpleNamespace(world=w, panorama=SimpleNamespace(meta={}))

    monkeypatch.setattr(pano_world, "generate_world", fake)
    window.extensions["panorama_tools"].start(WorldOptions(photos=[Path("a.jpg")]))
    qtbot.waitUntil(lambda: not window.world.is_empty(), timeout=10000)
    msg = window.statusBar().currentMessage()
    assert "WASD to walk inside the ring on the floor, 1.1 m round the start" in msg, msg


def test_a_photo_picked_as_a_panorama_is_asked_about_without_command_line_advice(
    window, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """The app's "Not a panorama" question carried the command line's advice ("world
    --photo") inside the app (a trial): it says the shape and asks."""
    from PyQt6.QtWidgets import QFileDialog, QMessageBox

    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), np.full((300, 400, 3), 128, np.uint8))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(photo), ""))
    )
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(
            lambda parent, title, text, *a: asked.append(text) or QMessageBox.StandardButton.Cancel
        ),
    )
    window.extensions["panorama_tools"].new_from_panorama()
    assert asked and "not an equirectangular 360° panorama" in asked[0]
    assert "--photo" not in asked[0] and "as a photo?" in asked[0]
