"""Create > New Scene from Photos in the real window (pytest-qt under Xvfb)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viewer.app import configure_gl  # noqa: E402

configure_gl()  # before pytest-qt creates the QApplication

pytestmark = [pytest.mark.slow, pytest.mark.gl]


@pytest.fixture
def window(app_window):  # conftest's shared window
    from viewer import ext_reconstruct

    return app_window(ext_reconstruct)


def test_new_scene_from_photos_runs_as_a_job_and_opens(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    from generators.reconstruct.synthetic import make_photo_set
    from viewer.ext_reconstruct import ReconstructDialog

    texts = [a.text() for a in window.menu("&Create").actions()]
    assert "New Scene from &Photos…" in texts and "New Scene from V&ideo…" in texts
    make_photo_set(tmp_path / "photos", 7, 240, 180, seed=3, supersample=1)
    (tmp_path / "photos" / "notes.jpg").write_bytes(b"not an image")
    photos = sorted((tmp_path / "photos").iterdir())
    dlg = ReconstructDialog(window, photos)
    assert dlg.list.count() == 7 and dlg.unreadable == ["notes.jpg"]  # thumbnails shown
    dlg.list.item(6).setCheckState(dlg.list.item(6).checkState().Unchecked)
    dlg.save_to.setText(str(tmp_path / "out" / "scene.ply"))
    assert (
        dlg.refine.value() == 3000 and dlg.refine_seconds.value() == 240
    )  # optimisation on by default
    dlg.refine_seconds.setValue(3)  # a short budget for the test
    req = dlg.request()
    assert (
        len(req.photos) == 6
        and req.options.refine_steps == 3000
        and req.options.refine_seconds == 3
    )
    for i in range(1, 6):
        dlg.list.item(i).setCheckState(dlg.list.item(i).checkState().Unchecked)
    with pytest.raises(ValueError, match="at least 2"):
        dlg.request().check()
    messages: list[str] = []
    orig = window.run_job

    def spy(title, fn, on_done, on_error=None):  # noqa: ANN001, ANN202
        return orig(
            title, lambda p, c: fn(lambda f, m: (messages.append(m), p(f, m)), c), on_done, on_error
        )

    errors: list[BaseException] = []
    window.run_job = lambda t, fn, done, err=None: spy(t, fn, done, errors.append)
    window.extensions["reconstruct_tools"].start(req)
    qtbot.waitUntil(lambda: errors or not window.world.is_empty(), timeout=90000)
    assert not errors, errors
    world = window.world
    assert len(world.meta["cameras"]) == 6 and len(world.bookmarks) == 7
    for stage in ("features", "match", "depth", "fusing"):
        assert any(stage in m for m in messages), stage
    assert (tmp_path / "out" / "scene.ply").exists() and (
        tmp_path / "out" / "scene_cameras" / "images.txt"
    ).exists()
    up = np.asarray(world.up_axis)
    assert up[1] > 0.95
    # the status bar says where the scene went, and that its 3 s budget cut it short
    done = window.statusBar().currentMessage()
    assert "saved as scene.ply" in done and "optimisation steps in its" in done, done
    qtbot.wait(500)
    img = window.viewport.grabFramebuffer()
    arr = np.frombuffer(img.constBits().asstring(img.sizeInBytes()), np.uint8)
    assert arr.reshape(img.height(), -1)[:, : img.width() * 4].std() > 5  # something drawn


def test_cancelled_reconstruction_leaves_the_world_unchanged(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """Cancel once the job has started working, wait until it has really ended, then check:
    it ended as cancelled, before its last stage, and the World and the disk are as they
    were. (With cancel broken, the job runs on to the end: it ends "done", the window opens
    the new scene and scene.ply is written, so every check below fails.)"""
    from generators.reconstruct.synthetic import make_photo_set
    from viewer.ext_reconstruct import ReconstructRequest

    make_photo_set(tmp_path / "photos", 4, 200, 150, seed=5, supersample=1)
    before = window.world
    out = tmp_path / "out" / "scene.ply"
    job = window.extensions["reconstruct_tools"].start(
        ReconstructRequest(photos=sorted((tmp_path / "photos").iterdir()), save_to=out)
    )
    seen: list[float] = []
    job.progressed.connect(lambda f, m: seen.append(f))
    qtbot.waitUntil(lambda: bool(seen), timeout=60000)  # it is working
    window.jobs.cancel_all()
    qtbot.waitUntil(lambda: not job.running, timeout=300000)  # ended, however long it takes
    assert job.wait(30)  # and its worker thread is gone
    qtbot.wait(50)
    assert job.state == "cancelled"
    assert max(seen) < 1.0  # it stopped before the end
    assert window.world is before and not window.jobs.jobs
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())  # nothing half-written


def test_new_scene_from_video_keeps_its_frames_beside_the_scene(tmp_path: Path) -> None:
    """The app's New Scene from Video sampled its frames into a temporary folder: a saved
    scene could not be scored by `evaluate` (no photo named frame_0000.png). As the CLI
    does, the frames are kept in SCENE_frames/ beside it."""
    import cv2

    from generators.jobs import CancelToken
    from generators.reconstruct.options import ReconstructOptions
    from generators.reconstruct.synthetic import orbit_cameras, render, room_scene
    from viewer.ext_reconstruct import ReconstructRequest

    quads = room_scene()
    video = tmp_path / "walk.avi"
    vw = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (240, 180))
    for c in orbit_cameras(8, 240, 180, seed=3):
        vw.write(render(quads, c)[0][..., ::-1])
    vw.release()
    out = tmp_path / "v" / "scene.ply"
    req = ReconstructRequest(
        photos=[], video=video, save_to=out, options=ReconstructOptions(refine_steps=0)
    )
    req.check()
    world = req.run(lambda f, m: None, CancelToken())
    assert world is not None and out.exists()
    frames = sorted(p.name for p in (tmp_path / "v" / "scene_frames").iterdir())
    assert frames[0] == "frame_0000.png" and len(frames) >= 6
    # the world names the kept frames, so a project saved from it carries them (a trial
    # found a video reconstruction's project held neither frames nor photos)
    from scene.project import read_manifest, save_project

    named = world.layers[0].source["photos"]
    assert sorted(Path(p).name for p in named) == frames
    assert all(Path(p).parent == tmp_path / "v" / "scene_frames" for p in named)
    save_project(world, tmp_path / "v.wander")
    stored = sorted(Path(x["name"]).name for x in read_manifest(tmp_path / "v.wander")["inputs"])
    assert stored == frames


def test_a_video_scene_not_saved_keeps_its_frames_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without "Save to", a video's frames lived in a temporary folder removed when the job
    ended: no file held them. They are copied to the data folder's frames/ (beside the
    autosaves), one folder per run."""
    from viewer.ext_reconstruct import frames_folder, keep_frames

    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "data" / "autosave"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    frames = []
    for i in range(3):
        frames.append(tmp / f"frame_{i:04d}.png")
        frames[-1].write_bytes(b"png %d" % i)
    kept = keep_frames(frames, Path("walk.mp4"))
    again = keep_frames(frames, Path("walk.mp4"))
    assert kept[0].parent.parent == frames_folder() == tmp_path / "data" / "frames"
    assert kept[0].parent != again[0].parent and kept[0].parent.name.startswith("walk-")
    assert [p.read_bytes() for p in kept] == [p.read_bytes() for p in frames]
    assert len(list(frames_folder().iterdir())) == 2  # no temporary folder left behind


def test_the_next_file_dialog_starts_where_the_photos_were(window, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A trial's second New Scene from Photos began in its home folder, not where the photos
    were: the folder picked is where the next file dialog starts."""
    from PyQt6.QtWidgets import QFileDialog

    from scene.world import World

    window.set_world(World())  # nothing open: dialogs start at the last folder used
    folder = tmp_path / "photos"
    folder.mkdir()
    tools = window.extensions["reconstruct_tools"]
    monkeypatch.setattr(tools, "ask", lambda *a, **k: None)
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder))
    )
    tools.new_from_folder()
    assert Path(window.dialog_dir()) == folder


def test_a_reconstruction_with_warnings_shows_them_in_a_box(window, qtbot) -> None:  # noqa: ANN001
    """The app said only "Reconstructed: 2 of 3 photos placed …" with the reasons cut off
    behind the splat count, and the few-photos warning reached the terminal alone (a
    trial): the closing warnings `reconstruct` prints are in a box now."""
    from types import SimpleNamespace

    from scene.gaussians import GaussianCloud
    from scene.world import Layer, World

    w = World()
    w.add_layer(
        Layer(
            "Reconstruction",
            GaussianCloud.from_points(np.zeros((8, 3)), np.full((8, 3), 0.5), 0.05),
        )
    )
    w.meta["cameras"] = [{}, {}]
    w.meta["reconstruct"] = {
        "photos": {
            "a.jpg": "registered",
            "b.jpg": "registered",
            "Office.jpg": "not registered: shares no verified matches with any other photo",
        },
        "held_out": [],
    }
    req = SimpleNamespace(
        check=lambda: None, video=None, photos=["a", "b", "c"], save_to=None, run=lambda p, c: w
    )
    shown: list[tuple[str, str]] = []
    window.show_warning = lambda title, text, details="": shown.append((title, text))
    window.extensions["reconstruct_tools"].start(req)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    title, text = shown[0]
    assert title == "Reconstructed with warnings"
    assert "1 of 3 photos are not in the scene" in text and "Office.jpg" in text
    assert "only 2 photos" in text and "the Capture type option sets it" in text
    assert "see the message" in window.statusBar().currentMessage()
