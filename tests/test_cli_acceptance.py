"""Headless CLI on nasty input: one clear error line and exit code 2, nothing half-written,
outputs with the usual file permissions (found in acceptance testing)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    img = np.zeros((96, 128, 3), np.uint8)
    img[:48] = (120, 160, 220)  # sky
    img[48:] = (90, 70, 50)  # ground
    img[30:70, 40:90] = rng.integers(0, 255, (40, 50, 3))  # a textured thing in the middle
    p = tmp_path / "photo.png"
    Image.fromarray(img).save(p)
    return p


def _one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.slow
def test_os_error_on_the_output_path_is_one_line(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A file where a folder should be (or no permission) is the user's path, not a crash."""
    from cli import run_cli

    blocker = tmp_path / "afile"
    blocker.write_text("x")
    rc = run_cli(
        ["panorama", "--photo", str(photo), "--height", "64", "--out", str(blocker / "pano.png")]
    )
    assert rc == 2
    assert "is a file, not a folder" in _one_error_line(capsys)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield 0o644
    os.umask(old)


def test_atomic_writes_keep_the_usual_file_mode(tmp_path: Path, umask_022: int) -> None:
    """mkstemp makes 0600 files; every written output must get 0666 minus the umask."""
    from generators.images import save_image
    from generators.objects.files import write_cloud, write_mesh
    from scene.io import save
    from scene.mesh import Mesh

    cloud = random_cloud(50, sh_degree=1, seed=3)
    outs = []
    for name in ("a.ply", "a.splat", "a.spz", "a.compressed.ply"):
        save(cloud, tmp_path / name)
        outs.append(tmp_path / name)
    save_image(tmp_path / "img.png", np.zeros((8, 8, 3), np.uint8))
    write_cloud(cloud, tmp_path / "obj.ply")
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float32)
    write_mesh(Mesh(v, np.array([[0, 1, 2]], np.int32)), tmp_path / "m.glb")
    outs += [tmp_path / "img.png", tmp_path / "obj.ply", tmp_path / "m.glb"]
    for p in outs:
        assert oct(p.stat().st_mode & 0o777) == oct(umask_022), p.name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_unwritable_image_suffix_is_a_format_error(tmp_path: Path) -> None:
    """OpenCV raises cv2.error (not False) for an unknown extension; callers want ours."""
    from generators.images import save_image
    from scene.errors import SceneFormatError

    with pytest.raises(SceneFormatError, match="cannot write an image"):
        save_image(tmp_path / "x.txt", np.zeros((8, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_world_bad_save_panorama_writes_nothing(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    out = tmp_path / "w.ply"
    rc = run_cli(
        [
            "world",
            "--photo",
            str(photo),
            "--out",
            str(out),
            "--save-panorama",
            str(tmp_path / "pano.txt"),
        ]
    )
    assert rc == 2
    assert "pano.txt" in _one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize("mesh", ["m.txt", "missing/m.glb"])
def test_object_bad_mesh_path_writes_nothing(
    photo: Path, tmp_path: Path, mesh: str, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    out = tmp_path / "o.ply"
    rc = run_cli(
        [
            "object",
            "--photo",
            str(photo),
            "--resolution",
            "32",
            "--out",
            str(out),
            "--mesh",
            str(tmp_path / mesh),
        ]
    )
    assert rc == 2
    _one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize("budget", [0, -5])
def test_reconstruct_splat_budget_below_one_is_rejected(budget: int) -> None:
    """Fusion grows its voxel until the splat count fits the budget: < 1 never fits (hang)."""
    from generators.reconstruct.pipeline import ReconstructOptions

    with pytest.raises(ValueError, match="max-splats"):
        ReconstructOptions(max_points=budget).check()


def test_reconstruct_non_finite_intrinsics_are_rejected() -> None:
    from generators.reconstruct.pipeline import ReconstructOptions

    with pytest.raises(ValueError, match="finite"):
        ReconstructOptions(intrinsics=(float("nan"), 500.0, 320.0, 240.0)).check()


def test_camera_far_beyond_any_scene_is_a_clear_error() -> None:
    """--eye 1e308: the axes overflowed to NaN and render wrote a black PNG, exit 0."""
    from scene.camera import Camera

    with pytest.raises(ValueError, match="camera eye"):
        Camera.look_at((1e308, 0, 0), (0, 0, 0), 60, 64, 64)
    with pytest.raises(ValueError, match="look-at"):
        Camera.look_at((0, 0, 0), (0, float("inf"), 0), 60, 64, 64)
    cam = Camera.look_at((1e6, 0, 0), (0, 0, 0), 60, 64, 64)  # far but fine
    assert np.all(np.isfinite(cam.R)) and np.all(np.isfinite(cam.t))


def test_panorama_export_rejects_huge_faces_and_non_png(tmp_path: Path) -> None:
    """--face-size 100000000 died in numpy with a MemoryError traceback."""
    from scene.export import export_panorama

    pano = np.zeros((32, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="face size"):
        export_panorama(pano, tmp_path / "p.png", face_size=100_000_000)
    with pytest.raises(ValueError, match=".png"):
        export_panorama(pano, tmp_path / "p.txt", face_size=8)
    assert list(tmp_path.iterdir()) == []


def test_camera_path_of_absurd_duration_is_a_clear_error() -> None:
    """A keyframe at t=1e300 ended in numpy's 'Maximum allowed size exceeded'."""
    from scene.campath import CameraPath, Keyframe

    kfs = [Keyframe(np.zeros(3), 0.0, 0.0, 60.0, 0.0), Keyframe(np.ones(3), 0.5, 0.0, 60.0, 1e300)]
    with pytest.raises(ValueError, match="at most"):
        CameraPath(kfs)
    ok = CameraPath([kfs[0], Keyframe(np.ones(3), 0.5, 0.0, 60.0, 2.0)])
    assert len(ok.frame_times(10)) == 20


def test_object_import_sample_count_is_bounded(tmp_path: Path) -> None:
    """--samples 999999999999 died with a 7 TiB MemoryError traceback."""
    from generators.objects.pipeline import MAX_SAMPLES, ObjectRequest

    req = ObjectRequest(backend="import", input=tmp_path / "m.glb", samples=999_999_999_999)
    with pytest.raises(ValueError, match="samples"):
        req.check()
    ObjectRequest(backend="import", input=tmp_path / "m.glb", samples=MAX_SAMPLES).check()


def test_out_of_memory_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A job that runs out of memory says so in one line (exit 2), not a numpy traceback."""
    import cli.cmd_info as cmd

    def boom(args):  # noqa: ANN001, ANN202
        raise MemoryError("Unable to allocate 7.28 TiB")

    monkeypatch.setattr(cmd, "run", boom)
    from cli import run_cli

    assert run_cli(["info", "whatever.ply"]) == 2
    assert "memory" in _one_error_line(capsys)


def test_reconstruction_side_folders_get_the_usual_mode(tmp_path: Path, umask_022: int) -> None:
    """SCENE_cameras/ and SCENE_depth/ came from mkdtemp and stayed 0700."""
    from generators.reconstruct.pipeline import _replace_dir

    src = tmp_path / ".tmp-src"
    src.mkdir(mode=0o700)
    _replace_dir(src, tmp_path / "scene_depth")
    assert (tmp_path / "scene_depth").stat().st_mode & 0o777 == 0o755


@pytest.mark.slow
def test_stitch_focal_refinement_cannot_run_off_to_zero_fov() -> None:
    """Side-by-side crops with no FOV given: the focal refinement drifted to 171010 px
    (0.13°), nothing landed on the panorama and the user got 'no known pixels'."""
    import skimage.data

    from generators.panorama.stitch import stitch_photos

    a = skimage.data.astronaut().astype(np.float32) / 255
    crops = [np.ascontiguousarray(a[40:440, 20 + 25 * i : 420 + 25 * i]) for i in range(2)]
    _, known, meta = stitch_photos(crops, [65.0, 65.0], 128, fov_known=False)
    assert 20.0 - 1e-3 <= meta["reference_fov_x_deg"] <= 150.0
    assert known.mean() > 0.002


def test_object_photo_is_upright_by_exif(tmp_path: Path) -> None:
    """A portrait phone photo (EXIF orientation 6) came out sideways in `object` (OpenCV's
    IMREAD_UNCHANGED ignores EXIF) while panorama/world/reconstruct turned it upright."""
    from PIL import Image

    from generators.images import load_image as load_upright
    from generators.objects.segment_classical import load_image

    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    ex = img.getexif()
    ex[0x0112] = 6  # rotate 90° clockwise to view
    p = tmp_path / "portrait.png"
    img.save(p, exif=ex.tobytes())
    rgb, alpha = load_image(p)
    assert rgb.shape == (60, 40, 3) and alpha is None
    ref = load_upright(p, max_side=None).rgb
    assert np.abs(ref * 255 - rgb).max() < 1


@pytest.mark.parametrize(
    "bad", [np.full((4, 4), np.nan), np.diag([0.0, 0.0, 0.0, 1.0]), np.diag([1.0, 2.0, 3.0, 1.0])]
)
def test_project_with_a_broken_layer_transform_opens_with_a_warning(
    tmp_path: Path, bad: np.ndarray
) -> None:
    """A NaN/singular/sheared transform in the manifest loaded as is: render then failed
    on a NaN default view and export on 'transform must be finite', naming no layer."""
    import json
    import zipfile

    from scene.project import load_project, save_project
    from scene.world import Layer, World

    w = World()
    w.add_layer(Layer("base", random_cloud(50, seed=4)))
    good = tmp_path / "good.wander"
    save_project(w, good)
    broken = tmp_path / "broken.wander"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "manifest.json":
                man = json.loads(body)
                man["layers"][0]["transform"] = bad.tolist()
                body = json.dumps(man).encode()  # NaN is written as the NaN literal
            zout.writestr(item, body)
    world, warnings = load_project(broken)
    assert any("transform is invalid" in m and "'base'" in m for m in warnings), warnings
    assert np.array_equal(world.layers[0].transform, np.eye(4))
    assert np.all(np.isfinite(world.bounds()[0]))


def test_export_of_a_scene_without_splats_does_not_blame_the_options() -> None:
    """A project whose only layer was skipped on load said 'check --crop / --min-opacity'."""
    from scene.export import scene_cloud
    from scene.world import Layer, World

    with pytest.raises(ValueError, match="no visible splat layer"):
        scene_cloud(World())
    w = World()
    w.add_layer(Layer("hidden", random_cloud(20, seed=5), visible=False))
    with pytest.raises(ValueError, match="no visible splat layer"):
        scene_cloud(w)


def test_wrong_kind_for_a_format_reads_well(tmp_path: Path) -> None:
    from scene.io import save

    with pytest.raises(ValueError, match="glb holds meshes; cannot write a Gaussian cloud"):
        save(random_cloud(10, seed=6), tmp_path / "x.glb")


@pytest.mark.parametrize(
    "extra",
    [["--panorama", "p.png"], ["--cameras", "cams"], ["--cameras", "cams", "--camera-size", "0x5"]],
)
def test_export_checks_every_output_before_writing_any(
    tmp_path: Path, extra: list[str], capsys: pytest.CaptureFixture
) -> None:
    """`export scene --out a.ply --panorama p.png` on a scene with no panorama (or no
    cameras) wrote a.ply, then failed: a half-done command."""
    from cli import run_cli
    from scene.io import save

    scene = tmp_path / "s.ply"
    save(random_cloud(30, seed=7), scene)
    out = tmp_path / "a.ply"
    args = [a if not a.endswith((".png", "cams")) else str(tmp_path / a) for a in extra]
    assert run_cli(["export", str(scene), "--out", str(out), *args]) == 2
    _one_error_line(capsys)
    assert not out.exists()


def test_export_bookmark_cameras_may_have_odd_sizes(tmp_path: Path) -> None:
    """--camera-size went through the video parser: 1921x1081 failed 'must be even for H.264'."""
    from cli import run_cli
    from scene.project import save_project
    from scene.world import Bookmark, Layer, World

    w = World()
    w.add_layer(Layer("base", random_cloud(30, seed=8)))
    w.bookmarks.append(Bookmark("a", [0, 0, 5], 0, 0, 60))
    p = tmp_path / "p.wander"
    save_project(w, p)
    assert (
        run_cli(["export", str(p), "--cameras", str(tmp_path / "c"), "--camera-size", "1921x1081"])
        == 0
    )
    assert "1921 1081" in (tmp_path / "c" / "cameras.txt").read_text()


@pytest.mark.parametrize("target", ["file", "folder"])
def test_reconstruct_never_replaces_a_users_file_or_folder(tmp_path: Path, target: str) -> None:
    """`--cameras-out` names a folder that save_result replaces whole: pointed at a user's
    file it hid it as .NAME.old-*, pointed at a user's folder it deleted everything there."""
    from generators.reconstruct.pipeline import check_side_paths, save_result

    mine = tmp_path / "mine"
    if target == "file":
        mine.write_text("precious")
    else:
        mine.mkdir()
        (mine / "notes.txt").write_text("precious")
    for call in (
        lambda: check_side_paths(tmp_path / "s.ply", mine),
        lambda: save_result(None, tmp_path / "s.ply", mine),
    ):  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="file|other files"):
            call()
    assert (
        mine.read_text() if target == "file" else (mine / "notes.txt").read_text()
    ) == "precious"
    # an earlier result's folder may be replaced
    prev = tmp_path / "prev"
    prev.mkdir()
    for name in ("cameras.txt", "images.txt", "points3D.txt"):
        (prev / name).write_text("#")
    assert check_side_paths(tmp_path / "s.ply", prev)["cameras"] == prev


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_reading_a_named_pipe_fails_instead_of_hanging(tmp_path: Path) -> None:
    """`info pipe.ply` blocked forever on open()."""
    import threading

    from scene.errors import SceneFormatError
    from scene.io import load

    fifo = tmp_path / "pipe.ply"
    os.mkfifo(fifo)
    got: list[BaseException] = []

    def read() -> None:
        try:
            load(fifo)
        except BaseException as exc:  # noqa: BLE001 - reported below
            got.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # unblock the reader so the test run can go on
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(5)
        pytest.fail("reading a named pipe blocked")
    assert got and isinstance(got[0], SceneFormatError) and "regular file" in str(got[0])


def test_a_mistyped_command_is_an_invalid_choice_not_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`python main.py rendr x.ply` started the Qt app, which aborts (core dump) headless."""
    from cli import is_command, run_cli

    monkeypatch.chdir(tmp_path)
    assert is_command("render") and is_command("rendr")
    (tmp_path / "scenes").mkdir()
    for app_arg in ("scene.ply", "scenes", "--no-demo", str(tmp_path / "x.wander")):
        assert not is_command(app_arg), app_arg
    with pytest.raises(SystemExit) as exc:
        run_cli(["rendr", "x.ply"])
    assert exc.value.code == 2
    assert "invalid choice: 'rendr'" in capsys.readouterr().err


def test_dense_depth_skips_a_view_with_no_points_in_front(monkeypatch: pytest.MonkeyPatch) -> None:
    """A doubtful registration (every sparse point behind the camera) failed the whole
    reconstruction with '0.png: no sparse points in front of the camera'."""
    from generators.reconstruct import dense
    from scene.camera import Camera

    cams = {}
    for name, x in (("a.png", 0.0), ("b.png", 0.3)):
        cams[name] = Camera.look_at((x, 0, 0), (x, 0, -1), 60, 64, 48)
        cams[name].name = name
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (50, 3)) + [0, 0, 5]  # all behind both cameras (they look -Z)
    images = {n: rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for n in cams}
    monkeypatch.setattr(
        dense, "choose_neighbours", lambda *a, **k: {"a.png": ["b.png"], "b.png": ["a.png"]}
    )
    out = dense.compute_depths(
        images, cams, {}, points, {n: np.arange(50) for n in cams}, max_size=64, planes=8
    )
    assert set(out) == set(cams)
    assert all(not v.depth.any() for v in out.values())


def test_unwritable_folder_names_the_users_path_not_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'error: /out/.x.ply.k3j2h1.tmp: Read-only file system' named a file the user never
    asked for."""
    import tempfile

    from scene.errors import SceneFormatError
    from scene.io import save

    def denied(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise OSError(30, "Read-only file system", str(tmp_path / ".x.ply.abc.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(SceneFormatError) as exc:
        save(random_cloud(5, seed=9), tmp_path / "x.ply")
    msg = str(exc.value)
    assert "x.ply" in msg and ".tmp" not in msg and "Read-only file system" in msg


def test_option_values_may_start_with_a_minus(tmp_path: Path) -> None:
    """README: `export ... --crop x0,y0,z0,x1,y1,z1`; with x0 < 0 argparse said
    '--crop: expected one argument' (same for --eye/--look/--point/--background)."""
    from cli import _join_negative_values, run_cli
    from scene.io import load_cloud, save

    scene = tmp_path / "s.ply"
    save(random_cloud(200, seed=10), scene)
    out = tmp_path / "c.ply"
    assert (
        run_cli(["export", str(scene), "--out", str(out), "--crop", "-0.5,-0.5,-0.5,0.5,0.5,0.5"])
        == 0
    )
    assert np.abs(load_cloud(out).means).max() <= 0.5 + 1e-6
    assert _join_negative_values(["--eye", "-1e3,0,0", "--fov", "-5", "-h"]) == [
        "--eye=-1e3,0,0",
        "--fov=-5",
        "-h",
    ]
    assert _join_negative_values(["--keep", "x", "-v"]) == ["--keep", "x", "-v"]
    # a size: its own range message, not argparse's 'expected one argument' (a trial)
    assert _join_negative_values(["--size", "-100x50"]) == ["--size=-100x50"]


@pytest.mark.slow
def test_no_display_gives_a_clear_error_not_a_core_dump() -> None:
    """`python main.py` (the app) with no display: exit 2 and one clear line (moved here from
    test_app_window: it must run in the headless subset)."""
    import subprocess
    import sys

    from conftest import ROOT

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    res = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2 and "no display" in res.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--bogus"], "error: unknown option --bogus"),
        (["a.ply", "b.spz"], "error: one scene at a time: a.ply is opened, b.spz would not be"),
        (["a.ply", "--shot", "s.jpg"], "error: --shot must be a .png file, got s.jpg"),
        (["a.ply", "-v"], "error: unknown option -v"),  # not one of Qt's (a trial)
    ],
)
def test_the_window_refuses_what_it_would_ignore(
    argv: list[str], said: str, capsys: pytest.CaptureFixture
) -> None:
    """The window's command line: a mistyped option or a second scene opened the window
    saying nothing, and --shot wrote PNG data under any name (a trial). One line, exit 2,
    before any window (no display needed); Qt's own options (-platform xcb) still pass."""
    from viewer.app import _parse, run_app

    assert run_app(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(said), err
    assert _parse(["a.ply", "-platform", "xcb", "-reverse"]).unknown == []
    assert _parse(["--debug", "a.ply"]).debug


def test_the_window_refuses_a_shot_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`--shot` into a read-only folder loaded the scene, then failed with exit 1 and the
    path said twice (a trial); a folder at the shot's name failed at the end too. Both are
    refused before any window, one line, exit 2, as the commands refuse an output."""
    import errno
    import tempfile

    from viewer.app import run_app

    taken = tmp_path / "taken.png"
    taken.mkdir()
    assert run_app(["a.ply", "--shot", str(taken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a folder; name the file to write" in err[0], err
    ro = tmp_path / "ro"
    ro.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):  # noqa: ANN002, ANN003, ANN202, A002
        if dir is not None and Path(dir).absolute() == ro.absolute():
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert run_app(["a.ply", "--shot", str(ro / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].count(str(ro / "x.png")) == 1, err
    assert "cannot write in" in err[0] and "Read-only file system" in err[0], err


def test_debug_before_the_command_runs_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """`python main.py --debug render ...` (the order `--help` shows) started the app
    instead ("no display to open the Wander window on")."""
    import main as entry

    called: list[list[str]] = []
    monkeypatch.setattr("cli.run_cli", lambda argv: called.append(list(argv)) or 0)
    monkeypatch.setattr("viewer.app.run_app", lambda argv: pytest.fail(f"app started: {argv}"))
    assert entry.main(["--debug", "info", "x.ply"]) == 0
    assert entry.main(["info", "x.ply", "--debug"]) == 0
    assert called == [["--debug", "info", "x.ply"], ["info", "x.ply", "--debug"]]


def test_a_photo_given_as_a_scene_points_to_world(tmp_path: Path) -> None:
    """`render photo.jpg` (or the app with a photo and --shot) said only "not a splat or
    mesh file": the line now says how to make a world from it (a trial)."""
    import cv2

    import scene.io
    from scene.errors import SceneFormatError

    photo = tmp_path / "garden.jpg"
    cv2.imwrite(str(photo), np.full((40, 60, 3), 128, np.uint8))
    with pytest.raises(SceneFormatError, match="world --photo garden.jpg"):
        scene.io.load(photo)
    text = tmp_path / "notes.ply.txt"
    text.write_text("hello")
    with pytest.raises(SceneFormatError) as err:
        scene.io.load(text)
    assert "world --photo" not in str(err.value)


def test_convert_splats_to_a_mesh_format_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`convert x.ply y.glb` names the splat formats to convert to, as `export` does."""
    from cli import run_cli
    from scene.io import save

    src = tmp_path / "x.ply"
    save(random_cloud(10, seed=6), src)
    assert run_cli(["convert", str(src), str(tmp_path / "y.glb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not turned into a mesh" in err and ".spz" in err, err
    assert not (tmp_path / "y.glb").exists()


def test_object_keep_mesh_with_out_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`--keep-mesh` makes no splats: `--out` (splats) is refused up front, and with no
    output at all the message names what --keep-mesh can write."""
    from cli import run_cli

    mesh = tmp_path / "m.obj"
    mesh.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    base = ["object", "--backend", "import", "--input", str(mesh), "--keep-mesh"]
    assert run_cli([*base, "--out", str(tmp_path / "o.ply")]) == 2
    err = capsys.readouterr()
    assert "--mesh OBJ.glb" in err.err and "instead of --out" in err.err and not err.out
    assert run_cli(base) == 2
    err = capsys.readouterr().err
    assert "give --mesh OBJ.glb" in err and "--out OBJ.ply" not in err, err


def test_warnings_are_capped_per_file(capsys: pytest.CaptureFixture) -> None:
    """A crafted project of thousands of broken layers printed a warning line each (4252
    for `info`): at most MAX_WARNINGS lines, then how many more."""
    from cli.scene_files import MAX_WARNINGS, print_warnings

    print_warnings([f"layer {i} is broken" for i in range(500)])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == MAX_WARNINGS + 1
    assert err[-1] == f"warning: … and {500 - MAX_WARNINGS} more like these (all in the log file)"
    print_warnings(["one"])
    assert capsys.readouterr().err == "warning: one\n"


@pytest.mark.parametrize(
    "sig,code,word", [("SIGTERM", 143, "terminated"), ("SIGINT", 130, "interrupted")]
)
def test_a_polite_kill_says_so_and_leaves_no_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    sig: str,
    code: int,
    word: str,
) -> None:
    """A run killed politely (kill -TERM, Ctrl+C) ends with one line that says what happened
    and that no half-written file is left, and exits 128 + the signal (a trial's TERM had
    printed "interrupted" and 130, as for Ctrl+C)."""
    import signal

    import cli.cmd_info as cmd_info
    from cli import run_cli

    def killed(args) -> int:  # noqa: ANN001
        os.kill(os.getpid(), getattr(signal, sig))
        pytest.fail("the signal did not stop the run")

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # a test run started in the background of a script inherits SIGINT ignored (POSIX,
        # no job control), and Python then leaves Ctrl+C to do nothing: as in a terminal
        old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        request_restore = True
    else:
        request_restore = False
    monkeypatch.setattr(cmd_info, "run", killed)
    before = signal.getsignal(signal.SIGTERM)
    assert run_cli(["info", str(tmp_path / "x.ply")]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{word}; no half-written file is left"]
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
    assert list(tmp_path.iterdir()) == []
    if request_restore:
        signal.signal(signal.SIGINT, old_int)


def test_render_refuses_a_background_outside_0_1(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`render --background 2,2,2` drew with it, though the help says 0..1 (a trial); it
    is refused as `video` refuses it, and the help shows the form of each value."""
    from cli import build_parser, run_cli
    from scene.io import save

    scene = tmp_path / "s.ply"
    save(random_cloud(50), scene)
    out = tmp_path / "x.png"
    assert run_cli(["render", str(scene), "--background", "2,2,2", "--out", str(out)]) == 2
    assert "--background must be r,g,b in 0..1" in _one_error_line(capsys)
    assert not out.exists()
    helps = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    usage = helps["render"].format_usage()
    assert "--eye X,Y,Z" in usage and "--size WxH" in usage and "--background R,G,B" in usage


def test_an_unknown_option_points_to_its_commands_help(capsys: pytest.CaptureFixture) -> None:
    """`panorama ... --bogus` said "see: python main.py --help" (a trial): the command's."""
    from cli import run_cli

    with pytest.raises(SystemExit) as exc:
        run_cli(["panorama", "--photo", "x.jpg", "--out", "y.png", "--bogus", "1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: unrecognized arguments: --bogus 1 (see: python main.py panorama --help)")


def test_object_out_writes_any_splat_format(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`object --out` writes the splat format its name gives (a trial asked for .spz and
    was told .ply only); a mesh name is refused before any work, naming the splat formats."""
    from cli import run_cli
    from scene.io import load, save

    src = tmp_path / "thing.ply"
    save(random_cloud(50, seed=3), src)
    base = ["object", "--backend", "import", "--input", str(src)]
    for name in ("o.spz", "o.splat", "o.ply"):
        assert run_cli([*base, "--out", str(tmp_path / name)]) == 0, capsys.readouterr().err
        assert len(load(tmp_path / name)) == 50
    capsys.readouterr()
    assert run_cli([*base, "--out", str(tmp_path / "o.glb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ".spz" in err and "splats" in err, err
    assert not (tmp_path / "o.glb").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["world", "--photo", "{gone}/a.jpg", "--out", "{out}/w.wander"],
        ["world", "--panorama", "{gone}/p.jpg", "--out", "{out}/w.wander"],
        ["panorama", "--photo", "{gone}/a.jpg", "--out", "{out}/p.png"],
        ["object", "--photo", "{gone}/a.jpg", "--out", "{out}/o.ply"],
        ["object", "--backend", "import", "--input", "{gone}/m.glb", "--out", "{out}/o.ply"],
    ],
)
def test_a_missing_input_is_one_line_before_any_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str]
) -> None:
    """A trial: `world --photo` of a photo that is not there printed two progress lines
    ('load', 'loading a.jpg') before its error. Now the error comes first and alone."""
    from cli import run_cli

    argv = [a.format(gone=tmp_path / "gone", out=tmp_path) for a in args]
    assert run_cli(argv) == 2
    out = capsys.readouterr()
    lines = [ln for ln in (out.out + out.err).splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "no such file" in lines[0], lines
    assert not list(tmp_path.glob("*.*"))  # nothing written


def test_a_missing_project_says_no_such_file_as_other_files_do(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`info nope.wander` said "cannot open project: No such file or directory" where a
    missing .ply says "no such file" (a trial)."""
    from cli import run_cli

    for name in ("nope.wander", "nope.ply"):
        assert run_cli(["info", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == f"error: {tmp_path / name}: no such file", err


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("video_is_a_photo", "is a JPEG image, not a video (photos: --photos FOLDER)"),
        ("crf", "--crf must be 0..51"),
        ("import_with_photo", "--backend import reads the file given with --input"),
    ],
)
def test_contradictory_or_mistaken_input_is_said_before_any_work(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, case: str, said: str
) -> None:
    """A trial's findings: a (truncated) JPEG given to --video was told to "move the camera
    while filming"; video --crf 99 was refused only after the scene was read and the path
    announced; --photo beside --backend import was ignored without a word."""
    import scene.io as sio
    from cli import run_cli

    scene = tmp_path / "s.ply"
    sio.save(random_cloud(50), scene)
    jpg = tmp_path / "frame.jpg"
    from PIL import Image

    Image.open(photo).save(jpg)
    jpg.write_bytes(jpg.read_bytes()[:400])  # truncated, as the trial's
    argv = {
        "video_is_a_photo": ["reconstruct", "--video", str(jpg), "--out", str(tmp_path / "r.ply")],
        "crf": ["video", str(scene), "--out", str(tmp_path / "v.mp4"), "--crf", "99"],
        "import_with_photo": [
            "object",
            "--photo",
            str(photo),
            "--backend",
            "import",
            "--input",
            str(scene),
            "--out",
            str(tmp_path / "o.ply"),
        ],  # fmt: skip
    }[case]
    assert run_cli(argv) == 2
    got = capsys.readouterr()
    errors = [ln for ln in got.err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and said in errors[0], got.err
    assert got.out == "", got.out  # nothing announced before the refusal
    assert not any((tmp_path / n).exists() for n in ("r.ply", "v.mp4", "o.ply"))
