"""Issue 11, "Safety first": outputs never overwrite inputs, reads never kill the process,
one image front door, no litter after a kill, errors that are seen (and bugs not dressed
up as bad input)."""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud

ROOT = Path(__file__).resolve().parents[1]


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("\r")]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    img = np.zeros((96, 128, 3), np.uint8)
    img[:48] = (120, 160, 220)
    img[48:] = (90, 70, 50)
    img[30:70, 40:90] = rng.integers(0, 255, (40, 50, 3))
    p = tmp_path / "photo.png"
    Image.fromarray(img).save(p)
    return p


@pytest.fixture
def scene_ply(tmp_path: Path) -> Path:
    from scene.io import save

    p = tmp_path / "scene.ply"
    save(random_cloud(300, seed=3), p)
    return p


# ----------------------------------------------------------------- kind 4: overwrites
def _refused(argv: list[str], protected: list[Path], capsys: pytest.CaptureFixture) -> str:
    from cli import run_cli

    before = {p: _digest(p) for p in protected}
    rc = run_cli(argv)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    # refused before any work: the error is all it printed, no progress line before it
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err, err
    line = lines[0]
    assert rc == 2, line
    for p, d in before.items():
        assert p.exists() and not p.is_symlink() or p.is_symlink()
        assert _digest(p) == d, f"{p} changed"
    return line


def _project(tmp_path: Path) -> Path:
    from scene.io import load
    from scene.project import save_project
    from scene.world import Layer, World

    src = tmp_path / "layer.ply"
    from scene.io import save

    save(random_cloud(200, seed=4), src)
    world = World()
    world.add_layer(Layer("base", load(src), "world", source={"path": str(src)}))
    p = tmp_path / "p.wander"
    save_project(world, p)
    return p


def test_export_refuses_to_replace_the_project_with_a_ply(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    proj = _project(tmp_path)
    line = _refused(["export", str(proj), "--out", str(proj), "--format", "ply"], [proj], capsys)
    assert "p.wander" in line and "overwrite" in line


@pytest.mark.parametrize("how", ["same", "relative", "dotdot", "symlink", "hardlink"])
def test_convert_output_that_is_the_input_is_refused(
    how: str,
    scene_ply: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    out: str
    if how == "same":
        out = str(scene_ply)
    elif how == "relative":
        out = "scene.ply"
    elif how == "dotdot":
        (tmp_path / "sub").mkdir()
        out = "sub/../scene.ply"
    elif how == "symlink":
        (tmp_path / "link.ply").symlink_to(scene_ply)
        out = str(tmp_path / "link.ply")
    else:
        os.link(scene_ply, tmp_path / "hard.ply")
        out = str(tmp_path / "hard.ply")
    _refused(["convert", str(scene_ply), out, "--format", "splat"], [scene_ply], capsys)


def test_world_refuses_to_save_the_panorama_over_the_photo(
    photo: Path, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    out = tmp_path / "w.ply"
    line = _refused(
        [
            "world",
            "--photo",
            str(photo),
            "--height",
            "64",
            "--save-panorama",
            str(photo),
            "--out",
            str(out),
        ],
        [photo],
        capsys,
    )
    assert "--save-panorama" in line and not out.exists()


def test_panorama_and_render_and_video_refuse_their_inputs(
    photo: Path, scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _refused(
        ["panorama", "--photo", str(photo), "--height", "64", "--out", str(photo)], [photo], capsys
    )
    link_png = tmp_path / "shot.png"
    link_png.symlink_to(scene_ply)
    _refused(["render", str(scene_ply), "--out", str(link_png)], [scene_ply], capsys)
    link_mp4 = tmp_path / "v.mp4"
    os.link(scene_ply, link_mp4)
    _refused(["video", str(scene_ply), "--out", str(link_mp4)], [scene_ply], capsys)


def test_object_refuses_input_as_output_and_two_outputs_on_one_file(
    scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _refused(
        ["object", "--backend", "import", "--input", str(scene_ply), "--out", str(scene_ply)],
        [scene_ply],
        capsys,
    )
    out = tmp_path / "o.ply"
    line = _refused(
        [
            "object",
            "--backend",
            "import",
            "--input",
            str(scene_ply),
            "--out",
            str(out),
            "--mesh",
            str(out),
        ],
        [scene_ply],
        capsys,
    )
    assert "same file" in line and not out.exists()


def test_same_file_rules(tmp_path: Path) -> None:
    from scene.errors import SceneFormatError
    from scene.files import check_outputs, same_file

    a = tmp_path / "a.ply"
    a.write_bytes(b"x")
    (tmp_path / "d").mkdir()
    assert same_file(a, tmp_path / "d" / ".." / "a.ply")
    assert not same_file(a, tmp_path / "b.ply")
    assert same_file(tmp_path / "new.ply", tmp_path / "d" / ".." / "new.ply")  # neither exists
    check_outputs([("--out", tmp_path / "b.ply"), ("--mesh", None)], [("IN", a)])
    with pytest.raises(SceneFormatError, match="would overwrite an input, IN"):
        check_outputs([("--out", tmp_path / "d" / ".." / "a.ply")], [("IN", a)])
    with pytest.raises(SceneFormatError, match=r"the output would overwrite the input \("):
        check_outputs([("the output", a)], [("the input", a)])


# ----------------------------------------------------- kind 6: a file that shrinks
_SHRINK = r"""
import sys
sys.path.insert(0, sys.argv[1])
import scene.io.ply as ply
from scene.errors import SceneFormatError
real = ply.binary_offsets
def shrinking(header, size, path, names):
    out = real(header, size, path, names)
    with open(path, "r+b") as f:   # another program truncates the file mid-load
        f.truncate(size // 2)
    return out
ply.binary_offsets = shrinking
try:
    ply.read_ply(sys.argv[2])
except SceneFormatError as exc:
    print("clean:", exc)
    sys.exit(3)
"""


def test_a_ply_truncated_while_it_loads_is_an_error_not_a_sigbus(tmp_path: Path) -> None:
    from scene.io import save

    p = tmp_path / "big.ply"
    save(random_cloud(20000, sh_degree=1, seed=5), p)
    res = subprocess.run(
        [sys.executable, "-c", _SHRINK, str(ROOT), str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 3, (res.returncode, res.stderr)  # -7 was SIGBUS
    assert "shrank" in res.stdout and "big.ply" in res.stdout


def test_scene_io_never_maps_files() -> None:
    """np.memmap / mmap in a reader turns a truncated file into SIGBUS."""
    for f in (ROOT / "scene").rglob("*.py"):
        text = f.read_text()
        assert "mmap" not in text and "memmap" not in text, f


# ------------------------------------------------------- kind 7: one image front door
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(
    w: int, h: int, depth: int = 8, ctype: int = 2, idat: bytes = b"", extra: bytes = b""
) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


@functools.lru_cache(maxsize=1)
def _bomb16_bytes() -> bytes:
    """A valid 20000x20000 16-bit RGB PNG of zeros: 400 megapixels, 2.4 GB decoded, ~2 MB
    on disk. Built from one full-flushed deflate segment repeated (each segment stands
    alone), with the Adler-32 of n zero bytes in closed form: ((n mod 65521) << 16) | 1."""
    w = h = 20000
    rows = 500
    block = (b"\0" * (w * 6 + 1)) * rows
    c = zlib.compressobj(9)
    head = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    seg = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    n = len(block) * (h // rows)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the final (empty) block
    idat = head + seg * (h // rows - 1) + tail + struct.pack(">I", ((n % 65521) << 16) | 1)
    return _png(w, h, 16, 2, idat)


def _bomb16(path: Path) -> Path:
    path.write_bytes(_bomb16_bytes())
    return path


def _decoded_images(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the image files whose pixels get decoded (by Pillow or OpenCV) from now on:
    a bomb must be refused from its header, with none of its pixels decoded."""
    import cv2
    from PIL import ImageFile

    names: list[str] = []
    real_load, real_imread = ImageFile.ImageFile.load, cv2.imread

    def load(img):
        names.append(Path(getattr(img, "filename", "") or "?").name)
        return real_load(img)

    def imread(path, *a):
        names.append(Path(path).name)
        return real_imread(path, *a)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(cv2, "imread", imread)
    return names


def _exif_text_orientation_jpeg(path: Path, value: bytes) -> Path:
    """A JPEG whose EXIF orientation (0x0112) is stored as ASCII text."""
    from PIL import Image

    entry = struct.pack("<HHI", 0x0112, 2, len(value)) + (value + b"\0" * 4)[:4]
    blob = (
        b"Exif\0\0II*\0"
        + struct.pack("<I", 8)
        + struct.pack("<H", 1)
        + entry
        + struct.pack("<I", 0)
    )
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:, :30] = 255
    Image.fromarray(rgb).save(path, exif=blob)
    return path


@pytest.mark.slow
def test_loader_limits_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scene.io.images import ImageTooLargeError, image_size, load_image, load_image_u8

    big = tmp_path / "bomb.png"
    big.write_bytes(_png(60000, 60000, idat=zlib.compress(b"\0" * 64)))
    decoded = _decoded_images(monkeypatch)
    for fn in (load_image, load_image_u8, image_size):
        with pytest.raises(ImageTooLargeError, match="bomb.png: image is too large"):
            fn(big)
    with pytest.raises(ImageTooLargeError, match="bomb16.png"):
        load_image_u8(_bomb16(tmp_path / "bomb16.png"))
    assert decoded == []  # refused from the headers: no pixel decoded


def test_exif_orientation_as_text_and_text_chunk_bombs(tmp_path: Path) -> None:
    from scene.errors import SceneFormatError
    from scene.io.images import load_image, load_image_u8

    six = _exif_text_orientation_jpeg(tmp_path / "six.jpg", b"6\0")
    assert load_image(six).rgb.shape[:2] == (60, 40)  # "6" still means rotate
    assert load_image_u8(six)[0].shape[:2] == (60, 40)
    junk = _exif_text_orientation_jpeg(tmp_path / "junk.jpg", b"up\0")
    assert load_image(junk).rgb.shape[:2] == (40, 60)  # unreadable: as stored
    raw = b"".join(b"\0" + b"\x80" * 12 for _ in range(4))
    ztxt = b"Comment\0\0" + zlib.compress(b"a" * (40 << 20))
    bomb = tmp_path / "text.png"
    bomb.write_bytes(_png(4, 4, idat=zlib.compress(raw), extra=_chunk(b"zTXt", ztxt)))
    for fn in (load_image, load_image_u8):
        with pytest.raises(SceneFormatError, match="text.png: .*text"):
            fn(bomb)


@pytest.mark.parametrize("command", ["world", "object", "reconstruct", "panorama"])
def test_every_command_refuses_image_bombs_alike(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    from cli import run_cli

    folder = tmp_path / "photos"
    folder.mkdir()
    bomb = _bomb16(folder / "bomb16.png")
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(folder / "ok.png")
    argv = {
        "world": [
            "world",
            "--photo",
            str(bomb),
            "--height",
            "64",
            "--out",
            str(tmp_path / "w.ply"),
        ],
        "panorama": [
            "panorama",
            "--photo",
            str(bomb),
            "--height",
            "64",
            "--out",
            str(tmp_path / "p.png"),
        ],
        "object": ["object", "--photo", str(bomb), "--out", str(tmp_path / "o.ply")],
        "reconstruct": ["reconstruct", "--photos", str(folder), "--out", str(tmp_path / "r.ply")],
    }[command]
    decoded = _decoded_images(monkeypatch)
    assert run_cli(argv) == 2
    line = _one_error_line(capsys)
    assert "bomb16.png" in line and "too large" in line, line
    assert "bomb16.png" not in decoded  # refused from its header


@pytest.mark.parametrize("command", ["world", "object"])
def test_text_exif_orientation_and_text_bomb_through_commands(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    raw = b"".join(b"\0" + b"\x80" * 12 for _ in range(4))
    bomb = tmp_path / "text.png"
    bomb.write_bytes(
        _png(
            4,
            4,
            idat=zlib.compress(raw),
            extra=_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * (40 << 20))),
        )
    )
    out = tmp_path / "o.ply"
    argv = (
        ["world", "--photo", str(bomb), "--height", "64", "--out", str(out)]
        if command == "world"
        else ["object", "--photo", str(bomb), "--out", str(out)]
    )
    assert run_cli(argv) == 2
    assert "text.png" in _one_error_line(capsys)


# ---------------------------------------------------------------- kind 9: litter
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temp_names_and_the_sweep(tmp_path: Path) -> None:
    from scene.files import TEMP_PREFIX, atomic_write, make_temp_dir, sweep_temps, temp_name

    name = temp_name("scene.ply")
    assert name.startswith(f"{TEMP_PREFIX}{os.getpid()}-") and name.endswith("-scene.ply")
    assert len(temp_name("x" * 300 + ".ply").encode()) <= 255
    assert temp_name("x" * 300 + ".ply").endswith(".ply")
    dead = _dead_pid()
    stale_file = tmp_path / f"{TEMP_PREFIX}{dead}-abcd1234-scene.ply"
    stale_file.write_bytes(b"half")
    stale_dir = tmp_path / f"{TEMP_PREFIX}{dead}-abcd1234-recon"
    (stale_dir / "sub").mkdir(parents=True)
    live = tmp_path / temp_name("other.ply")  # ours, live: kept
    live.write_bytes(b"work in progress")
    old_live = tmp_path / f"{TEMP_PREFIX}1-abcd1234-init.ply"  # pid 1 is alive: kept
    old_live.write_bytes(b"x")
    users = [
        tmp_path / ".scene.ply.tmp",
        tmp_path / ".wander-tmp-notapid-x.ply",
        tmp_path / "notes.txt",
    ]  # not our pattern: never touched
    for u in users:
        u.write_bytes(b"user")
    removed = sweep_temps(tmp_path)
    assert set(removed) == {stale_file, stale_dir}
    assert not stale_file.exists() and not stale_dir.exists()
    assert live.exists() and all(u.exists() for u in users)
    # a pid reused by a process that started after the temp was written: stale
    reused = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-abcd1234-old.ply"
    reused.write_bytes(b"x")
    os.utime(reused, (1_000_000, 1_000_000))  # 1970: before this process started
    assert sweep_temps(tmp_path) == [reused]
    with atomic_write(tmp_path / "done.bin") as f:
        f.write(b"ok")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".wander")) == sorted(
        [live.name, old_live.name, users[1].name]
    )
    d = make_temp_dir("recon")
    assert d.name.startswith(f"{TEMP_PREFIX}{os.getpid()}-") and d.is_dir()
    d.rmdir()


@pytest.mark.slow
def test_the_next_cli_run_sweeps_a_killed_runs_temps(scene_ply: Path, tmp_path: Path) -> None:
    """A SIGKILLed export leaves `.wander-tmp-<pid>-...` beside its output and in the temp
    folder; the next run of any command removes them (and nothing else)."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    tmpdir = tmp_path / "systmp"
    tmpdir.mkdir()
    dead = _dead_pid()
    litter = [
        out_dir / f".wander-tmp-{dead}-0badc0de-big.ply",
        tmpdir / f".wander-tmp-{dead}-0badc0de-recon",
    ]
    litter[0].write_bytes(b"\0" * 1000)
    litter[1].mkdir()
    keep = out_dir / ".big.ply.tmp"
    keep.write_bytes(b"not ours")
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "convert",
            str(scene_ply),
            str(out_dir / "c.splat"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert not any(p.exists() for p in litter) and keep.exists()


_KILLED_VIDEO = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from generators.video import render_video
from scene.campath import CameraPath
path = CameraPath.from_dict({"keyframes": [
    {"time": 0, "position": [0, 0, 0], "yaw": 0, "pitch": 0, "fov": 60},
    {"time": 20, "position": [1, 0, 0], "yaw": 10, "pitch": 0, "fov": 60}]})
def slow(scene, cam):
    time.sleep(0.02)
    return np.zeros((cam.height, cam.width, 3), np.uint8)
render_video(None, path, sys.argv[2], slow, size=(64, 48), fps=30)
"""


@pytest.mark.slow
def test_a_killed_video_leaves_no_file_at_the_final_name(tmp_path: Path) -> None:
    from scene.files import sweep_temps

    out = tmp_path / "fly.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_VIDEO, str(ROOT), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    t0 = time.time()
    temps: list[Path] = []
    while time.time() - t0 < 60 and not temps:
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".wander-tmp-")]
        time.sleep(0.05)
    assert temps, proc.stderr.read() if proc.poll() is not None else "no temp"
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    assert not out.exists()
    assert all(t.name.endswith("-fly.mp4") for t in temps)
    assert set(sweep_temps(tmp_path)) >= set(temps)
    assert not list(tmp_path.iterdir())


def test_unwritable_folder_error_names_the_output_not_the_temp(
    scene_ply: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    real_open = os.open

    def denied(path, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        if ".wander-tmp-" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", denied)
    for argv in (
        ["export", str(scene_ply), "--out", str(tmp_path / "e.splat")],
        ["convert", str(scene_ply), str(tmp_path / "c.spz")],
    ):
        assert run_cli(argv) == 2
        line = _one_error_line(capsys)
        assert ".wander-tmp" not in line and "Permission denied" in line
        assert "e.splat" in line or "c.spz" in line


# ------------------------------------------------------------ kind 10: errors are seen
def _fake_command(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException | None = None, fn=None
) -> None:  # noqa: ANN001
    import cli.cmd_info as info

    def run(args):  # noqa: ANN001, ANN202
        if fn is not None:
            fn()
        raise exc  # type: ignore[misc]

    monkeypatch.setattr(info, "run", run)


@pytest.mark.parametrize(
    "bug",
    [
        TypeError("unsupported operand"),
        KeyError("sh0"),
        AttributeError("'NoneType' object has no attribute 'x'"),
        IndexError("index 3 is out of bounds"),
    ],
)
def test_a_bug_is_an_internal_error_not_bad_input(
    bug: Exception, scene_ply: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli
    from scene.logs import log_path

    _fake_command(monkeypatch, bug)
    assert run_cli(["info", str(scene_ply)]) == 1
    line = _one_error_line(capsys)
    assert "internal error" in line and str(log_path()) in line
    assert type(bug).__name__ in log_path().read_text()


def test_a_library_value_error_is_a_bug_but_our_validation_is_input(
    scene_ply: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    _fake_command(monkeypatch, fn=lambda: np.linalg.norm(np.zeros(3), ord="bogus"))  # numpy raises
    assert run_cli(["info", str(scene_ply)]) == 1
    assert "internal error" in _one_error_line(capsys)
    _fake_command(monkeypatch, fn=lambda: np.random.default_rng(-1))  # Cython code raises
    assert run_cli(["info", str(scene_ply)]) == 1
    assert "internal error" in _one_error_line(capsys)

    def ours():  # noqa: ANN202
        raise ValueError("--widgets must be positive, got -3")

    _fake_command(monkeypatch, fn=ours)
    assert run_cli(["info", str(scene_ply)]) == 2
    assert _one_error_line(capsys) == "error: --widgets must be positive, got -3"


def test_debug_prints_the_traceback(
    scene_ply: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    _fake_command(monkeypatch, TypeError("boom"))
    assert run_cli(["info", str(scene_ply), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "TypeError: boom" in err


def test_the_log_file_lives_in_the_state_folder(scene_ply: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    res = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "info", str(tmp_path / "nope.ply")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    log = state / "wander" / "wander.log"
    assert log.is_file() and "nope.ply" in log.read_text()


@pytest.mark.parametrize(
    "argv",
    [
        ["panorama", "--seed", "-1"],
        ["world", "--seed", "-1"],
        ["world", "--resolution", "-5"],
        ["object", "--seed", "-1"],
        ["object", "--resolution", "-1"],
    ],
)
def test_bad_option_values_name_the_option(
    argv: list[str], photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    out = tmp_path / ("o.png" if argv[0] == "panorama" else "o.ply")
    full = (
        argv[:1]
        + ["--photo", str(photo)]
        + (["--height", "64"] if argv[0] != "object" else [])
        + argv[1:]
        + ["--out", str(out)]
    )
    assert run_cli(full) == 2
    assert argv[1] in _one_error_line(capsys)


def test_long_and_multi_line_messages_become_one_short_line() -> None:
    from cli import one_line

    listing = "need 2 photos: " + "; ".join(f"photo_{i:04d}.png: too small" for i in range(300))
    line = one_line(listing + " in /the/photo/folder (give larger photos)")
    assert len(line) < 500 and line.startswith("need 2 photos: photo_0000.png")
    assert "characters left out" in line
    # the end usually says what to do or where: it is kept
    assert line.endswith("photo_0299.png: too small in /the/photo/folder (give larger photos)")
    banner = (
        "Could not load meta information\n=== stderr ===\n"
        + "\n".join(f"  lib{i} 1.2.3" for i in range(18))
        + "\n/x/cut.mp4: Invalid data found when processing input\n"
    )
    assert one_line(banner) == (
        "Could not load meta information: /x/cut.mp4: Invalid data found when processing input"
    )


def test_many_tiny_photos_give_a_short_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    from cli import run_cli

    folder = tmp_path / "tiny"
    folder.mkdir()
    for i in range(300):
        Image.fromarray(np.full((10, 10, 3), i % 250, np.uint8)).save(
            folder / f"a_rather_long_photo_name_{i:04d}.png"
        )
    assert run_cli(["reconstruct", "--photos", str(folder), "--out", str(tmp_path / "r.ply")]) == 2
    line = _one_error_line(capsys)
    assert len(line) < 500


def test_a_truncated_video_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cli import run_cli

    good = tmp_path / "good.mp4"
    import imageio_ffmpeg

    w = imageio_ffmpeg.write_frames(
        str(good), (64, 48), fps=10, macro_block_size=2, ffmpeg_log_level="error"
    )
    w.send(None)
    for i in range(30):
        w.send(np.full((48, 64, 3), i * 8, np.uint8))
    w.close()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:300])
    rc = run_cli(["reconstruct", "--video", str(cut), "--out", str(tmp_path / "r.ply")])
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert rc == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert "ffmpeg version" not in err and "cut.mp4" in errors[0]


def test_no_bare_except_pass_in_the_files_fixed_for_issue_11() -> None:
    import re

    for rel in (
        "cli/__init__.py",
        "scene/files.py",
        "scene/io/images.py",
        "generators/video.py",
        "scene/export.py",
        "viewer/app.py",
    ):
        text = (ROOT / rel).read_text()
        # a broad except that swallows the failure without a trace
        assert not re.search(
            r"except( \(?(Exception|BaseException|OSError)[^:]*)?:\s*\n\s*pass\b", text
        ), rel


def test_export_panorama_refuses_to_replace_the_panorama_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's stored panorama input is unpacked into the inputs cache and exported
    from there; `--panorama` naming that very file is refused (it would be read while
    being replaced)."""
    from PIL import Image

    from scene.export import find_panorama
    from scene.io import load, save
    from scene.project import load_project, save_project
    from scene.world import Layer, World

    pano = tmp_path / "pano.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (32, 64, 3), dtype=np.uint8)).save(
        pano
    )
    src = tmp_path / "layer.ply"
    save(random_cloud(100, seed=6), src)
    world = World()
    world.add_layer(Layer("base", load(src), "world", source={"panorama": str(pano)}))
    proj = tmp_path / "p.wander"
    save_project(world, proj)  # the panorama stored as an input
    monkeypatch.setenv("WANDER_CACHE_DIR", str(tmp_path / "cache"))
    inputs = tmp_path / "cache" / "project-inputs"
    found = find_panorama(load_project(proj)[0])
    assert isinstance(found, Path) and found.is_relative_to(inputs)
    assert found.read_bytes() == pano.read_bytes()
    _refused(["export", str(proj), "--panorama", str(found)], [found], capsys)


def test_a_crafted_project_cannot_export_an_image_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A project naming a 2:1 image elsewhere on the machine as its panorama (a path
    text, not a stored input): `export --panorama` never reads it (a trial copied any
    such image into the exported panorama and its cube faces)."""
    from PIL import Image

    from cli import run_cli
    from scene.export import find_panorama
    from scene.io import load, save
    from scene.project import load_project, save_project
    from scene.world import Layer, World

    secret = tmp_path / "elsewhere" / "secret.png"
    secret.parent.mkdir()
    Image.fromarray(np.full((16, 32, 3), 200, np.uint8)).save(secret)
    src = tmp_path / "layer.ply"
    save(random_cloud(100, seed=6), src)
    world = World()
    world.add_layer(Layer("base", load(src), "world", source={"panorama": str(secret)}))
    world.meta["panorama_file"] = str(secret)
    proj = tmp_path / "p.wander"
    save_project(world, proj, include_inputs=False)  # the path text stays in the manifest
    loaded = load_project(proj, inputs_dir=tmp_path / "inputs")[0]
    assert str(secret) in loaded.untrusted_paths
    assert find_panorama(loaded) is None
    out = tmp_path / "out"
    out.mkdir()
    rc = run_cli(
        ["export", str(proj), "--out", str(out / "s.ply"), "--panorama", str(out / "p.png")]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "panorama" in err and "Traceback" not in err, err
    assert not (out / "p.png").exists()


def test_a_video_write_failure_names_the_output_not_the_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imageio_ffmpeg

    from generators.video import render_video
    from scene.campath import CameraPath
    from scene.errors import SceneFormatError

    def full_disk(path, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        yield
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(imageio_ffmpeg, "write_frames", full_disk)
    path = CameraPath.from_dict(
        {
            "keyframes": [
                {"time": 0, "position": [0, 0, 0], "yaw": 0, "pitch": 0, "fov": 60},
                {"time": 1, "position": [1, 0, 0], "yaw": 0, "pitch": 0, "fov": 60},
            ]
        }
    )
    out = tmp_path / "fly.mp4"
    with pytest.raises(SceneFormatError) as exc:
        render_video(
            None, path, out, lambda s, c: np.zeros((48, 64, 3), np.uint8), size=(64, 48), fps=5
        )
    assert "fly.mp4" in str(exc.value) and ".wander-tmp" not in str(exc.value)
    assert not list(tmp_path.iterdir())


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture) -> None:
    from cli import run_cli

    for argv in (["render"], ["render", "x.ply", "--fov", "wide", "--out", "x.png"], ["rendr"]):
        with pytest.raises(SystemExit) as exc:
            run_cli(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err


def test_video_size_error_names_the_option(
    scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from cli import run_cli

    assert run_cli(["video", str(scene_ply), "--size", "12", "--out", str(tmp_path / "v.mp4")]) == 2
    assert "--size" in _one_error_line(capsys)


def test_outputs_into_missing_folders_are_refused_before_any_work(
    photo: Path, scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A mistyped output folder is an error, not a folder tree made silently (reconstruct,
    run as root, made /nonexistent_dir; world found out only after its work)."""
    from cli import run_cli

    missing = tmp_path / "no" / "such"
    runs = [
        ["reconstruct", "--photos", str(tmp_path), "--out", str(missing / "s.ply")],
        ["world", "--photo", str(photo), "--out", str(missing / "w.ply")],
        ["render", str(scene_ply), "--out", str(missing / "r.png")],
        ["evaluate", str(scene_ply), "--photos", str(tmp_path), "--out", str(missing)],
        ["render", str(scene_ply), "--out", str(photo / "r.png")],  # a file as the folder
    ]
    for argv in runs:
        assert run_cli(argv) == 2, argv
        line = _one_error_line(capsys)
        assert "does not exist (create it first)" in line or "is a file, not a folder" in line
    assert not (tmp_path / "no").exists()


def test_a_file_output_that_names_a_folder_is_refused_before_any_work(
    photo: Path, scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`reconstruct --out rdir.ply` where rdir.ply is a folder ran the whole job, then
    failed on its last rename with a temp name in the message, its cameras, depth maps
    and report already written beside it (a trial; world, panorama and video also failed
    only at the end). Every file output is checked first; evaluate's --out is a folder."""

    folder = tmp_path / "taken.ply"
    folder.mkdir()
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("w.wander", "p.png", "v.mp4"):
        (tmp_path / name).mkdir()
    runs = [
        ["reconstruct", "--photos", str(tmp_path), "--out", str(folder)],
        ["world", "--photo", str(photo), "--out", str(tmp_path / "w.wander")],
        ["world", "--photo", str(photo), "--out", str(plain)],
        ["panorama", "--photo", str(photo), "--out", str(tmp_path / "p.png")],
        ["video", str(scene_ply), "--out", str(tmp_path / "v.mp4")],
        ["render", str(scene_ply), "--out", str(plain)],
        ["convert", str(scene_ply), str(folder)],
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv in runs:
        line = _refused(argv, [scene_ply, photo], capsys)
        assert "is a folder; name the file to write" in line, line
        assert ".wander-tmp" not in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not any(folder.iterdir()) and not any(plain.iterdir())


def test_a_scene_or_video_given_as_a_photo_is_said_for_what_it_is(
    scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`world --photo office.wander`, `object --photo scene.ply` and `world --panorama
    walk.mp4` were each called "not a readable image (corrupt file ...)" (a trial)."""
    from cli import run_cli

    project = _project(tmp_path)
    video = tmp_path / "walk.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    runs = [
        (["world", "--photo", str(project), "--out", str(tmp_path / "w.wander")],
         "is a Wander project, not an image"),
        (["object", "--photo", str(scene_ply), "--out", str(tmp_path / "o.ply")],
         "is a 3D scene file (ply), not an image"),
        (["world", "--panorama", str(video), "--out", str(tmp_path / "w.wander")],
         "is a video, not an image (a video becomes a scene with `python main.py "
         "reconstruct --video walk.mp4"),
    ]  # fmt: skip
    for argv, want in runs:
        assert run_cli(argv) == 2, argv
        line = _one_error_line(capsys)
        assert want in line and "corrupt" not in line, line


def test_reconstructions_save_refuses_a_folder_before_writing_anything(tmp_path: Path) -> None:
    """`save_result` commits the scene last: a folder at the scene's name failed only
    there, after the cameras, depth maps and report had been committed beside it."""
    from generators.reconstruct.pipeline import save_result

    out = tmp_path / "s.ply"
    out.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        save_result(None, out)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["s.ply"]


def _no_files_in(monkeypatch: pytest.MonkeyPatch, folder: Path, error: OSError) -> None:
    """Make creating a temp file in `folder` raise `error` (as a read-only mount or a
    system folder does, which `os.access` does not tell root); elsewhere as usual."""
    import tempfile

    real = tempfile.mkstemp

    def mkstemp(*a, dir=None, **k):  # noqa: ANN002, ANN003, ANN202, A002
        if dir is not None and Path(dir).absolute() == folder:
            raise error
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`object --out ob.ply --mesh ro/ob.glb` wrote ob.ply, then failed on the mesh; `world
    --save-panorama ro/p.png` wrote the 67 MB world first (a trial, with a read-only
    folder). Every output's folder is tried before any work; `os.access` says yes to root,
    so a probe file is made there (here its creation fails as on a read-only mount)."""
    import errno

    from cli import run_cli

    ro = tmp_path / "ro"
    ro.mkdir()
    _no_files_in(monkeypatch, ro, OSError(errno.EROFS, "Read-only file system"))
    runs = [
        ["object", "--photo", str(photo), "--out", str(tmp_path / "ob.ply"),
         "--mesh", str(ro / "ob.glb")],
        ["world", "--photo", str(photo), "--out", str(tmp_path / "w.wander"),
         "--save-panorama", str(ro / "p.png")],
    ]  # fmt: skip
    for argv in runs:
        assert run_cli(argv) == 2, argv
        line = _one_error_line(capsys)
        assert "cannot write in" in line and "Read-only file system" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([photo.name, "ro"])
    assert not any(ro.iterdir())


def test_a_system_folder_that_takes_no_file_is_named_so(
    scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a file in /proc fails with "No such file or directory" on Linux, for a
    folder that is there: `world --out /proc/w.wander` said "cannot write in /proc: No such
    file or directory" (a trial). It says the system takes no file there; other reasons
    keep the OS's words."""
    import errno

    from cli import run_cli
    from scene.files import write_error_reason

    sysdir = tmp_path / "sys"
    sysdir.mkdir()
    _no_files_in(monkeypatch, sysdir, FileNotFoundError(errno.ENOENT, "No such file or directory"))
    assert run_cli(["convert", str(scene_ply), str(sysdir / "x.splat")]) == 2
    line = _one_error_line(capsys)
    assert "cannot write in" in line and "does not let files be created there" in line, line
    assert "No such file" not in line
    assert not any(sysdir.iterdir())
    gone = OSError(errno.ENOENT, "No such file or directory")
    assert write_error_reason(tmp_path / "missing", gone) == "No such file or directory"
    denied = PermissionError(errno.EACCES, "Permission denied")
    assert write_error_reason(sysdir, denied) == "Permission denied"


def test_a_reader_that_stops_early_is_not_an_error(scene_ply: Path) -> None:
    """`python main.py info SCENE | head -1`: the closed pipe ends the command quietly
    (it printed 'error: Broken pipe' and exited 2)."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "info", str(scene_ply)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert "error" not in err.lower()


def test_a_trials_bad_inputs_get_plain_one_line_errors(
    photo: Path, scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """What a trial fed the commands, and what each said before: `info` of a garbage .png
    called .png an unknown type, and of a cut-off PNG or JPEG "a photo `world --photo`
    takes" (exit 0, though `world` refuses it); `video --path` of a missing file or a
    folder printed "[Errno 2]" / "[Errno 21]"; keyframes listed out of time order were
    sorted silently; `--from-bookmarks` on a file without bookmarks rendered a turntable;
    `object --backend import --input FOLDER` said "no such file"; a corrupt GLB's error
    named Python's ValueError; `convert mesh.obj out.spz` gave no way forward."""
    import json

    import trimesh

    from cli import run_cli

    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all, " * 40)
    cut_png = tmp_path / "cut.png"
    cut_png.write_bytes(photo.read_bytes()[:-60])
    from PIL import Image

    jpg = tmp_path / "p.jpg"
    Image.open(photo).convert("RGB").save(jpg, quality=90)
    cut_jpg = tmp_path / "cut.jpg"
    cut_jpg.write_bytes(jpg.read_bytes()[: len(jpg.read_bytes()) // 2])
    order = tmp_path / "order.json"
    keys = [{"time": 1, "position": [0, 1.6, 0], "look_at": [0, 1.6, -1]},
            {"time": 0, "position": [0.5, 1.6, 0], "look_at": [0, 1.6, -1]}]  # fmt: skip
    order.write_text(json.dumps({"keyframes": keys}))
    folder = tmp_path / "adir"
    folder.mkdir()
    bad_glb = tmp_path / "bad.glb"
    bad_glb.write_bytes(b"glTF" + b"\x00" * 40)
    obj = tmp_path / "box.obj"
    trimesh.creation.box().export(obj)
    video = str(tmp_path / "v.mp4")
    runs = [
        (["info", str(garbage)], "not a readable image"),
        (["info", str(cut_png)], "truncated"),
        (["info", str(cut_jpg)], "truncated"),
        (["video", str(scene_ply), "--path", str(tmp_path / "none.json"), "--out", video],
         "none.json: no such file"),
        (["video", str(scene_ply), "--path", str(folder), "--out", video], "is a folder"),
        (["video", str(scene_ply), "--path", str(order), "--out", video],
         "keyframe 2 (time 0 s) comes before keyframe 1"),
        (["video", str(scene_ply), "--from-bookmarks", "--out", video], "has no bookmarks"),
        (["object", "--backend", "import", "--input", str(folder), "--out",
          str(tmp_path / "o.ply")], "is a folder, not a mesh or splat file"),
        (["info", str(bad_glb)], "not a readable GLB mesh"),
        (["convert", str(obj), str(tmp_path / "o.spz")], "object --backend import"),
    ]  # fmt: skip
    for argv, said in runs:
        assert run_cli(argv) == 2, argv
        line = _one_error_line(capsys)
        assert said in line and "Errno" not in line and "Error:" not in line, (argv, line)
    assert not (tmp_path / "v.mp4").exists() and not (tmp_path / "o.spz").exists()
    assert run_cli(["info", str(jpg)]) == 0  # the whole JPEG is fine


def test_importing_splats_says_what_the_reader_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`object --backend import --input nan.ply` dropped the NaN rows without a word, where
    `info`, `render` and `convert` of the same file say so (a trial)."""
    from cli import run_cli
    from scene.io.ply import ply_bytes

    cloud = random_cloud(120, seed=4)
    cloud.means[:7] = np.nan
    src = tmp_path / "nan.ply"
    src.write_bytes(ply_bytes(cloud))
    out = tmp_path / "o.ply"
    assert run_cli(["object", "--backend", "import", "--input", str(src), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "dropped 7 of 120 splats" in err, err


def test_a_full_disk_names_the_output(
    scene_ply: Path, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trial's `reconstruct` onto a full disk said only "error: No space left on device":
    every other error names its path. The OS names no file for a failed write; the line
    names the command's output."""
    import errno

    import scene.io as sio
    from cli import run_cli

    def full(*a: object, **k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sio, "save", full)
    out = tmp_path / "out.splat"
    assert run_cli(["convert", str(scene_ply), str(out)]) == 2
    line = _one_error_line(capsys)
    assert str(out) in line and "No space left on device" in line
    assert not out.exists()


def test_reconstruct_names_cameras_out_for_its_cameras(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`--cameras-out` into a folder that does not exist was reported as "--out's cameras"
    (a trial)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        (photos / f"p{i}.png").write_bytes(photo.read_bytes())
    line = _refused(
        [
            "reconstruct",
            "--photos",
            str(photos),
            "--out",
            str(tmp_path / "s.ply"),
            "--cameras-out",
            str(tmp_path / "missing" / "cams"),
        ],
        [],
        capsys,
    )
    assert line.startswith("error: --cameras-out ") and "does not exist" in line
