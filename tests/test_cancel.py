"""Cancel changes nothing: a cancelled Save, Export, Open or generator leaves disk and World
as they were (scene/progress.py's protocol, viewer/jobs.py's runner).

Each test cancels at every report a job makes (or mid-way for the generators) and checks
the files and the World afterwards, so it fails if any step ignored the cancel.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scene.gaussians import GaussianCloud  # noqa: F401  (type of big_cloud)
from scene.progress import Cancelled, CancelToken, Progress, as_progress
from scene.world import Layer, World


# ======================================================================= helpers
def cancelling_at(k: int) -> tuple[Progress, list[float]]:
    """A Progress whose token is cancelled by its k-th report (1-based)."""
    token = CancelToken()
    seen: list[float] = []

    def report(f: float, m: str) -> None:
        seen.append(f)
        if len(seen) == k:
            token.cancel()

    return Progress(report, token), seen


def recording() -> tuple[Progress, list[float]]:
    seen: list[float] = []
    return Progress(lambda f, m: seen.append(f)), seen


def big_cloud(n: int = 40_000, seed: int = 0) -> GaussianCloud:
    """Big enough for several write blocks (16384 rows a block)."""
    from conftest import random_cloud

    return random_cloud(n, sh_degree=1, seed=seed)


def world_of(cloud: GaussianCloud, name: str = "room") -> World:
    w = World()
    w.add_layer(Layer(name, cloud))
    w.clear_history()
    return w


def folder_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def check_real_progress(seen: list[float]) -> None:
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:])), seen  # never runs backwards
    assert seen[-1] == pytest.approx(1.0)
    assert len({round(f, 3) for f in seen if 0.0 < f < 1.0}) >= 4, seen  # not one 10 % tick


# ================================================================== the protocol
def test_progress_ranges_and_cancel() -> None:
    got: list[tuple[float, str]] = []
    p = Progress(lambda f, m: got.append((f, m)))
    a, b = p.split([1.0, 3.0])
    a.update(0.5, "first")
    b.update(0.5)
    b.sub(0.5, 1.0).update(1.0, "last")
    assert [f for f, _ in got] == pytest.approx([0.125, 0.625, 1.0])
    assert got[1][1] == ""  # b had no message yet
    p.cancel.cancel()
    with pytest.raises(Cancelled):
        b.update(0.9)
    p.finish("done")  # after a commit: never raises
    assert as_progress(p) is p and as_progress(None).cancelled is False


# ============================================================== scene: save/export
def test_cancelled_project_save_writes_nothing_at_any_step(tmp_path: Path) -> None:
    from scene.project import save_project

    target = tmp_path / "p.wander"
    save_project(world_of(big_cloud(1000)), target)
    before = folder_state(tmp_path)
    world = world_of(big_cloud())
    prog, seen = recording()
    save_project(world, tmp_path / "full.wander", progress=prog)
    check_real_progress(seen)
    (tmp_path / "full.wander").unlink()
    for k in range(1, len(seen)):  # the last report comes after the commit
        prog, _ = cancelling_at(k)
        with pytest.raises(Cancelled):
            save_project(world, target, progress=prog)
        assert folder_state(tmp_path) == before, f"cancel at report {k} changed the disk"


@pytest.mark.parametrize("name", ["out.ply", "out.spz", "out.splat", "out.compressed.ply"])
def test_cancelled_export_writes_nothing_at_any_step(tmp_path: Path, name: str) -> None:
    from scene.export import export_world

    world = world_of(big_cloud())
    prog, seen = recording()
    export_world(world, tmp_path / f"full-{name}", progress=prog)
    check_real_progress(seen)
    (tmp_path / f"full-{name}").unlink()
    (tmp_path / name).write_bytes(b"the old export")
    before = folder_state(tmp_path)
    for k in range(1, len(seen)):
        prog, _ = cancelling_at(k)
        with pytest.raises(Cancelled):
            export_world(world, tmp_path / name, progress=prog)
        assert folder_state(tmp_path) == before, f"cancel at report {k} changed the disk"


def test_cancelled_panorama_and_camera_export_write_nothing(tmp_path: Path) -> None:
    from scene.camera import Camera
    from scene.export import export_cameras, export_panorama

    pano = (np.random.default_rng(0).uniform(0, 255, (64, 128, 3))).astype(np.uint8)
    prog, seen = recording()
    export_panorama(pano, tmp_path / "full.png", progress=prog)
    check_real_progress(seen)
    out = tmp_path / "sub"
    out.mkdir()
    for k in range(1, len(seen)):
        prog, _ = cancelling_at(k)
        with pytest.raises(Cancelled):
            export_panorama(pano, out / "pano.png", progress=prog)
        assert not list(out.iterdir()), f"cancel at report {k} wrote files"
    prog, _ = cancelling_at(1)
    with pytest.raises(Cancelled):
        export_cameras([Camera.look_at([0, 0, 2], [0, 0, 0], 60.0, 64, 48)], out, progress=prog)
    assert not list(out.iterdir())


def test_cancelled_load_returns_nothing(tmp_path: Path) -> None:
    from scene import io as sio
    from scene.project import save_project

    cloud = big_cloud(2000)
    sio.save(cloud, tmp_path / "a.ply")
    save_project(world_of(cloud), tmp_path / "a.wander")
    for name in ("a.ply", "a.wander"):
        prog, seen = recording()
        world, warnings = sio.load_world(tmp_path / name, progress=prog)
        assert len(world.layers) == 1 and not warnings and seen[-1] == pytest.approx(1.0)
        for k in range(1, len(seen)):  # the k-th report cancels: a later step must stop
            prog, _ = cancelling_at(k)
            with pytest.raises(Cancelled):
                sio.load_world(tmp_path / name, progress=prog)


# ==================================================================== generators
@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("photos") / "rocket.png"
    img = cv2.resize(data.rocket(), (160, 120), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return p


def cancel_mid(at: float) -> tuple[Progress, list[float]]:
    """Cancelled at the first report past `at` of the job (mid-way, not before it began)."""
    token = CancelToken()
    seen: list[float] = []

    def report(f: float, m: str) -> None:
        seen.append(f)
        if f > at:
            token.cancel()

    return Progress(report, token), seen


def test_cancelled_world_generator_stops(photo: Path) -> None:
    from generators.pano_world import world_from_photos

    prog, seen = cancel_mid(0.2)
    with pytest.raises(Cancelled):
        world_from_photos(
            [photo], pano_height=128, resolution=96, progress=prog, cancel=prog.cancel
        )
    assert seen and max(seen) < 1.0


def test_cancelled_panorama_generator_stops(photo: Path) -> None:
    from generators.panorama import panorama_from_photos

    prog, seen = cancel_mid(0.1)
    with pytest.raises(Cancelled):
        panorama_from_photos([photo], height=128, progress=prog, cancel=prog.cancel)
    assert seen and max(seen) < 1.0


def test_cancelled_object_generator_stops(photo: Path) -> None:
    from generators.objects.pipeline import ObjectRequest, generate_object

    prog, seen = cancel_mid(0.1)
    with pytest.raises(Cancelled):
        generate_object(
            ObjectRequest(image=cv2.imread(str(photo))[..., ::-1].copy()),
            progress=prog,
            cancel=prog.cancel,
        )
    assert seen and max(seen) < 1.0


@pytest.mark.slow
def test_cancelled_reconstruction_stops(tmp_path: Path) -> None:
    from generators.reconstruct.pipeline import reconstruct
    from generators.reconstruct.synthetic import make_photo_set

    make_photo_set(tmp_path / "photos", 4, 160, 120, seed=2, supersample=1)
    prog, seen = cancel_mid(0.05)
    with pytest.raises(Cancelled):
        reconstruct(sorted((tmp_path / "photos").iterdir()), progress=prog, cancel=prog.cancel)
    assert seen and max(seen) < 1.0


# =========================================================================== app
@pytest.fixture
def app(qtbot, x_display, tmp_path, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("WANDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("WANDER_NO_DIALOGS", "1")
    from viewer.main_window import PROJECT_FEATURES, MainWindow

    errors: list = []
    win = MainWindow(install_extensions=False)
    win.report_job_error = lambda title, exc: errors.append((title, exc))
    win.install_features(PROJECT_FEATURES)
    qtbot.addWidget(win)
    win.resize(480, 320)
    win.show()
    qtbot.waitExposed(win)
    win.test_errors = errors
    yield win
    win.jobs.cancel_all()
    for job in list(win.jobs.jobs):
        job.wait(10)
    win.close()


def cancel_jobs_at(monkeypatch, k: int) -> None:  # noqa: ANN001
    """Every job the app starts is cancelled by its own k-th progress report."""
    from viewer.jobs import Job

    start = Job.start

    def started(job: Job) -> None:
        inner, count = job.progress.report, [0]

        def report(f: float, m: str) -> None:
            count[0] += 1
            if count[0] == k:
                job.cancel()
            inner(f, m)

        job.progress.report = report
        start(job)

    monkeypatch.setattr(Job, "start", started)


def finish(qtbot, job) -> None:  # noqa: ANN001
    assert job is not None and job.wait(60)
    qtbot.waitUntil(lambda: job.state != "running", timeout=10000)


@pytest.mark.gl
@pytest.mark.parametrize("k", [1, 2, 4])
def test_cancelled_save_keeps_the_old_file_path_and_unsaved_state(
    app, qtbot, tmp_path, monkeypatch, k
) -> None:  # noqa: ANN001
    win = app
    target = tmp_path / "trip.wander"
    win.set_world(world_of(big_cloud()))
    job = win.extensions["project_save"].save(target)
    finish(qtbot, job)
    assert job.state == "done" and win.path == target and not win.document.dirty
    win.world.rename(win.world.layers[0].id, "renamed")  # an unsaved change
    assert win.document.dirty
    before = folder_state(tmp_path)
    cancel_jobs_at(monkeypatch, k)
    for out in (target, tmp_path / "other.wander"):  # Save, and Save As a new name
        job = win.extensions["project_save"].save(out)
        finish(qtbot, job)
        assert job.state == "cancelled"
        assert folder_state(tmp_path) == before
        assert win.path == target and win.document.dirty and win.windowTitle().startswith("•")
    assert not win.test_errors


@pytest.mark.gl
def test_a_save_cancelled_too_late_is_recorded_as_saved(app, qtbot, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Cancel pressed after the file was committed: the app's state matches the disk."""
    from viewer.jobs import Job

    win = app
    win.set_world(world_of(big_cloud(500)))
    win.world.rename(win.world.layers[0].id, "renamed")
    start = Job.start

    def started(job: Job) -> None:
        inner = job.progress.report

        def report(f: float, m: str) -> None:
            inner(f, m)
            if m.startswith("Saved "):  # the finish report, after the commit
                job.cancel()

        job.progress.report = report
        start(job)

    monkeypatch.setattr(Job, "start", started)
    target = tmp_path / "late.wander"
    job = win.extensions["project_save"].save(target)
    finish(qtbot, job)
    assert job.cancel_token.cancelled and job.state == "done"
    assert target.is_file() and win.path == target and not win.document.dirty


@pytest.mark.gl
@pytest.mark.parametrize("k", [1, 3])
def test_cancelled_export_leaves_the_old_file(app, qtbot, tmp_path, monkeypatch, k) -> None:  # noqa: ANN001
    win = app
    win.set_world(world_of(big_cloud()))
    out = tmp_path / "scene.ply"
    out.write_bytes(b"the old export")
    before = folder_state(tmp_path)
    cancel_jobs_at(monkeypatch, k)
    job = win.extensions["exporter"].export(out)
    finish(qtbot, job)
    assert job.state == "cancelled" and folder_state(tmp_path) == before
    assert not win.test_errors


@pytest.mark.gl
@pytest.mark.parametrize("name", ["other.ply", "other.wander"])
@pytest.mark.parametrize("k", [1, 2])
def test_cancelled_open_leaves_the_world(app, qtbot, tmp_path, monkeypatch, name, k) -> None:  # noqa: ANN001
    from scene import io as sio
    from scene.project import save_project

    win = app
    other = tmp_path / name
    if name.endswith(".ply"):
        sio.save(big_cloud(3000, seed=1), other)
    else:
        save_project(world_of(big_cloud(3000, seed=1), "other"), other)
    first = tmp_path / "first.ply"
    sio.save(big_cloud(500), first)
    job = win.open_path(first)
    finish(qtbot, job)
    world, n = win.world, len(win.world.layers)
    cancel_jobs_at(monkeypatch, k)
    job = win.open_path(other)
    finish(qtbot, job)
    assert job.state == "cancelled"
    assert win.world is world and len(world.layers) == n and win.path == first
    assert not win.test_errors


@pytest.mark.gl
def test_cancelled_generator_job_adds_nothing(app, qtbot, photo, monkeypatch) -> None:  # noqa: ANN001
    from generators.pano_world import world_from_photos
    from scene.world import AddLayer

    win = app
    win.set_world(world_of(big_cloud(500)))
    world, layers = win.world, tuple(win.world.layers)
    cancel_jobs_at(monkeypatch, 3)

    def work(progress, cancel):  # noqa: ANN001
        return world_from_photos(
            [photo], pano_height=128, resolution=96, progress=progress, cancel=cancel
        )[0]

    job = win.run_job(
        "World", work, lambda w: [win.world.execute(AddLayer(lay)) for lay in w.layers]
    )
    finish(qtbot, job)
    assert job.state == "cancelled" and win.world is world and win.world.layers == layers
    assert not win.world.can_undo
