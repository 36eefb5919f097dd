"""Bad input gives clear messages, never a crash or a hang, and good photos are still used."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.reconstruct.synthetic import make_photo_set, orbit_cameras, render, room_scene  # noqa: E402


def _unrelated(path: Path, seed: int) -> None:
    from skimage import data

    # photos that appear nowhere in the synthetic room
    img = [data.immunohistochemistry(), data.camera(), data.moon()][seed % 3]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    cv2.imwrite(str(path), cv2.resize(img, (240, 180))[..., ::-1])


def test_one_photo_is_a_clear_error(tmp_path: Path) -> None:
    from generators.reconstruct.pipeline import reconstruct

    make_photo_set(tmp_path, 1, 160, 120, supersample=1)
    with pytest.raises(ValueError, match="at least 2"):
        reconstruct(sorted(tmp_path.iterdir()))


def _huge_png_header(path: Path, side: int = 100_000) -> None:
    """A PNG whose header declares side × side pixels (no pixel data follows)."""
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_non_overlapping_photos_are_a_clear_error(tmp_path: Path) -> None:
    """...and the error names the files skipped on reading too: an oversized photo in the
    folder is skipped like an unreadable one, not the end of the run (a trial)."""
    from generators.reconstruct.pipeline import reconstruct

    for i in range(3):
        _unrelated(tmp_path / f"p{i}.png", i)
    _huge_png_header(tmp_path / "huge.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="overlap") as err:
        reconstruct(sorted(tmp_path.iterdir()))
    msg = str(err.value)
    assert "huge.png: skipped: image is too large (100000x100000" in msg, msg
    assert "empty.jpg: skipped: not a readable image" in msg, msg


@pytest.mark.slow
def test_mixed_folder_uses_the_good_photos(tmp_path: Path) -> None:
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct

    photos = tmp_path / "photos"
    make_photo_set(photos, 7, 240, 180, seed=3, supersample=1)
    shutil.copy(photos / "view_002.png", photos / "view_002_copy.png")  # duplicate
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")  # corrupt
    (photos / "empty.png").write_bytes(b"")
    _unrelated(photos / "zz_unrelated.png", 0)  # no overlap
    # a photo of the same scene at another size (another phone)
    cam = orbit_cameras(9, 240, 180, seed=3)[8].resized(200, 150)
    img, _ = render(room_scene(), cam)
    cv2.imwrite(str(photos / "view_other_size.png"), img[..., ::-1])
    res = reconstruct(sorted(photos.iterdir()), ReconstructOptions(refine_steps=0))
    st = res.status
    assert st["view_002_copy.png"].startswith("skipped: duplicate of view_002.png")
    assert "not a readable image" in st["broken.jpg"] and "not a readable image" in st["empty.png"]
    assert st["zz_unrelated.png"].startswith("not registered")
    assert all(st[f"view_{i:03d}.png"] == "registered" for i in range(7)), st
    assert st["view_other_size.png"] == "registered"
    sizes = {(c.width, c.height) for c in res.cameras}
    assert sizes == {(240, 180), (200, 150)}
    assert len(res.cloud) > 1000


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cli import run_cli

    (tmp_path / "empty").mkdir()
    assert (
        run_cli(
            ["reconstruct", "--photos", str(tmp_path / "empty"), "--out", str(tmp_path / "a.ply")]
        )
        == 2
    )
    assert "no image files" in capsys.readouterr().err
    assert (
        run_cli(
            ["reconstruct", "--photos", str(tmp_path / "missing"), "--out", str(tmp_path / "a.ply")]
        )
        == 2
    )
    assert "missing: no such folder" in capsys.readouterr().err
    # a misspelled photo folder is said first, not after a missing output folder (a trial)
    out = str(tmp_path / "nowhere" / "a.ply")
    assert run_cli(["reconstruct", "--photos", str(tmp_path / "missing"), "--out", out]) == 2
    err = capsys.readouterr().err
    assert "missing: no such folder" in err and "nowhere" not in err
    assert (
        run_cli(
            [
                "reconstruct",
                "--photos",
                str(tmp_path),
                "--out",
                str(tmp_path / "a.ply"),
                "--intrinsics",
                "1,2",
            ]
        )
        == 2
    )
    assert "fx,fy,cx,cy" in capsys.readouterr().err
    assert (
        run_cli(["reconstruct", "--photos", str(tmp_path), "--out", str(tmp_path / "a.obj")]) == 2
    )
    assert "Gaussian-splat file name" in capsys.readouterr().err
    assert not (tmp_path / "a.ply").exists()
    # options are named as the user typed them, and checked before any work is announced
    (tmp_path / "v.mp4").write_bytes(b"not looked at")
    args = ["reconstruct", "--video", str(tmp_path / "v.mp4"), "--out", str(tmp_path / "a.ply")]
    assert run_cli([*args, "--max-frames", "0"]) == 2
    assert "--max-frames must be at least 2" in capsys.readouterr().err
    from scene.gaussians import GaussianCloud
    from scene.io import save

    save(GaussianCloud.from_points([[0, 0, 0]], [[0.5, 0.5, 0.5]], 0.1, 0.9), tmp_path / "s.ply")
    vid = ["video", str(tmp_path / "s.ply"), "--out", str(tmp_path / "o.mp4")]
    assert run_cli([*vid, "--fps", "0"]) == 2
    out = capsys.readouterr()
    assert "--fps must be in (0, 240]" in out.err and "rendering" not in out.out + out.err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_two_photos_are_enough(tmp_path: Path) -> None:
    from generators.reconstruct.align import rotation_error_deg
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct

    cams, _, _ = make_photo_set(tmp_path / "all", 8, 240, 180, seed=3, supersample=1)
    (tmp_path / "two").mkdir()
    for c in (cams[2], cams[5]):
        shutil.copy(tmp_path / "all" / c.name, tmp_path / "two" / c.name)
    res = reconstruct(sorted((tmp_path / "two").iterdir()), ReconstructOptions(refine_steps=0))
    assert len(res.cameras) == 2 and len(res.cloud) > 1000
    # two views pin down the focal length poorly: accuracy needs the intrinsics prior
    c0 = cams[0]
    res = reconstruct(
        sorted((tmp_path / "two").iterdir()),
        ReconstructOptions(intrinsics=(c0.fx, c0.fy, c0.cx, c0.cy), refine_steps=0),
    )
    gt = {c.name: c for c in cams}
    a, b = res.cameras
    rel_rec = b.R @ a.R.T  # frame-free: relative rotation
    rel_gt = gt[b.name].R @ gt[a.name].R.T
    assert rotation_error_deg(rel_rec, rel_gt) < 2.0
