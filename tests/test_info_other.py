"""`info` of the other files Wander writes beside its outputs: a COLMAP model folder, a
video, a reconstruction report, a `.json` record; and one line for what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scene.camera import Camera


def _cli(*args: object) -> int:
    from cli import run_cli

    return run_cli([str(a) for a in args])


def test_info_of_a_colmap_folder_names_its_images_lenses_and_points(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from scene.io.colmap import write_colmap

    cams = []
    for i in range(3):
        c = Camera.look_at(np.array([i, 0.0, -4.0]), np.zeros(3), 60.0, 320, 240)
        c.name = f"photo {i}.jpg" if i == 0 else f"p{i}.jpg"  # a space: binary model
        if i == 2:
            c.meta["k1"] = -0.1
        cams.append(c)
    pts = np.random.default_rng(0).normal(size=(57, 3))
    write_colmap(tmp_path / "model", cams, pts)
    assert _cli("info", tmp_path / "model") == 0
    out = capsys.readouterr().out
    assert "COLMAP model (binary)" in out
    assert "3 registered (2 PINHOLE, 1 SIMPLE_RADIAL)" in out
    assert "3 at 320x240" in out and "points:    57" in out
    assert _cli("info", "--json", tmp_path / "model") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["images"] == 3 and info["points"] == 57
    assert info["camera_centres_max"][0] == pytest.approx(2.0)


def test_info_of_other_folders_and_broken_models_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "depth").mkdir()
    assert _cli("info", tmp_path / "depth") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no COLMAP model" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cameras.txt").write_text("1 PINHOLE 10\n")  # too few parameters
    (bad / "images.txt").write_text("")
    assert _cli("info", bad) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_info_of_a_video_gives_its_frames_and_a_truncated_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import cv2

    path = tmp_path / "walk.mp4"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (96, 64))
    assert vw.isOpened()
    for i in range(25):
        vw.write(np.full((64, 96, 3), i * 9, np.uint8))
    vw.release()
    assert _cli("info", "--json", path) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["width"], info["height"], info["frames"]) == (96, 64, 25)
    assert info["fps"] == pytest.approx(10.0) and info["duration_s"] == pytest.approx(2.5)
    assert info["container"] == "MP4/QuickTime"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[:40])
    assert _cli("info", cut) == 2
    assert "cannot decode" in capsys.readouterr().err


def test_info_of_a_reconstruction_report_and_of_a_record_beside_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report = {
        "generator": "wander.reconstruct",
        "input": "photos",
        "scene": "scene.ply",
        "splats": 1234,
        "photos": {"a.jpg": "registered", "b.jpg": "registered", "c.jpg": "not registered"},
        "registered": 2,
        "held_out": ["a.jpg"],
        "capture": {"type": "orbit", "up": {"detail": "the plane the orbited object stands on"}},
        "photos_folder": "/data/shoot\n\x1b[2Jday 1",  # shown on one line, escapes blanked
        "cameras_folder": "scene_cameras",
        "stage_seconds": {"depth": 3.5, "fusion": "fast"},  # a wrong type is left out
        "refinement": {"steps": 90, "psnr_before": 20.0, "psnr_after": 27.5, "limits": ["t"]},
    }
    (tmp_path / "scene_report.json").write_text(json.dumps(report))
    assert _cli("info", tmp_path / "scene_report.json") == 0
    out = capsys.readouterr().out
    assert "2 of 3 registered; capture orbit" in out
    # where the photos and their model are (a trial missed them)
    assert "  from:    /data/shoot  [2Jday 1\n" in out and "\x1b" not in out
    assert "cameras:   scene_cameras (COLMAP model of the photos)" in out
    assert "up axis:   the plane the orbited object stands on\n" in out
    assert "held out:  a.jpg" in out and "depth 3.5 s" in out and "fusion" not in out
    assert "90 steps, PSNR 20.00 -> 27.50 dB" in out
    assert "sizes:" not in out  # the full sizes: nothing to say
    # many photos: what the run cut from the earlier stages' sizes is shown
    note = "24 photos: SfM at 1120 px, 4096 features a photo, depth at 320 px so ..."
    report["working_sizes"] = {"sfm_size": 1120, "features": 4096, "depth_size": 320, "note": note}
    (tmp_path / "scene_report.json").write_text(json.dumps(report))
    assert _cli("info", tmp_path / "scene_report.json") == 0
    assert f"sizes:     {note}" in capsys.readouterr().out
    (tmp_path / "pano.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "pano.png.json").write_text("{}")
    assert _cli("info", tmp_path / "pano.png.json") == 2
    assert "run `info" in capsys.readouterr().err


def test_info_of_an_evaluation_report(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`evaluate`'s report.json: the training and held-out means and a line per view (a
    trial: info refused it as "a text file", so held-out PSNR was only in the JSON)."""
    view = {"psnr": 30.0, "ssim": 0.9, "coverage": 1.0}
    report = {
        "views": [
            {"name": "a.jpg", "held_out": True, **view, "psnr": 26.24},
            {"name": "b.jpg", "held_out": False, **view, "psnr": "x"},  # a wrong type: "?"
        ],
        "mean": {
            "psnr": 28.0,
            "ssim": 0.9,
            "coverage": 1.0,
            "views": 2,
            "training": {"psnr": 35.16, "ssim": 0.93, "coverage": 1.0, "views": 1},
            "held_out": {"psnr": 26.24, "ssim": 0.87, "coverage": 0.998, "views": 1},
        },
        "scene": "scene.ply",
        "photos_dir": "/photos",
        "skipped": [],
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert _cli("info", tmp_path / "report.json") == 0
    out = capsys.readouterr().out
    assert "evaluation report" in out
    assert "training:  PSNR 35.16 dB, SSIM 0.930" in out
    assert "held out:  PSNR 26.24 dB, SSIM 0.870, coverage 0.998 (1 view)" in out
    assert "a.jpg" in out and "26.24 dB" in out and "held out" in out
    assert "b.jpg" in out and "? dB" in out
    assert _cli("info", tmp_path / "report.json", "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert got["format"] == "evaluation_report" and got["held_out"]["psnr"] == 26.24


def test_a_negative_flag_is_said_the_right_way_round(capsys) -> None:
    """`info` of a world printed "level [--no-level]: true", which reads as --no-level
    having been given (a trial)."""
    from cli.cmd_info import _print_options

    _print_options({"level": True, "radius": 4.0})
    out = capsys.readouterr().out
    assert "level: true (--no-level turns it off)" in out and "[--no-level]" not in out
    _print_options({"level": False})
    assert "level: false (--no-level was given)" in capsys.readouterr().out
