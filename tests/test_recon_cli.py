"""`python main.py reconstruct` end to end: priors (intrinsics, an existing COLMAP model)
and video input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli import run_cli  # noqa: E402
from generators.reconstruct.synthetic import make_photo_set  # noqa: E402

pytestmark = pytest.mark.slow


def test_intrinsics_prior_then_existing_colmap_model(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pycolmap

    from generators.reconstruct import sfm

    cams, _, _ = make_photo_set(tmp_path / "photos", 7, 240, 180, seed=3, supersample=1)
    c0 = cams[0]
    out = tmp_path / "a" / "scene.ply"
    out.parent.mkdir()
    rc = run_cli(
        [
            "reconstruct",
            "--photos",
            str(tmp_path / "photos"),
            "--out",
            str(out),
            "--intrinsics",
            f"{c0.fx},{c0.fy},{c0.cx},{c0.cy}",
            "--cameras-out",
            str(tmp_path / "cams"),
            "--refine-seconds",
            "8",
        ]
    )
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "view_000.png: registered" in text and "stage times:" in text
    assert "placed on their rays where stereo found no depth (--no-ray-fill)" in text
    assert (
        "optimisation: " in text and "limit: time budget 8 s" in text
    )  # said, not only in the report
    assert "time budget: 8 s (the optimisation's own 8 s budget)" in text
    model = pycolmap.Reconstruction(str(tmp_path / "cams"))
    assert model.num_reg_images() == 7
    for cam in model.cameras.values():  # the known intrinsics were kept, not re-estimated
        np.testing.assert_allclose(cam.params, [c0.fx, c0.fy, c0.cx, c0.cy], rtol=1e-6)
    assert out.exists() and (tmp_path / "a" / "scene_depth" / "view_000.npy").exists()
    # optimisation is on by default; its report (and the time budget that ended it) is saved
    ref = json.loads((tmp_path / "a" / "scene_report.json").read_text())["refinement"]
    assert ref["steps"] > 0 and ref["splats_after"] > 0 and ref["psnr_after"] > ref["psnr_before"]
    assert ref["budget_s"] == 8 and "own 8 s" in ref["budget_source"]
    fusion = json.loads((tmp_path / "a" / "scene_report.json").read_text())["fusion"]
    assert fusion["agreed"] > 0 and {"one_view", "ray_fill"} <= set(fusion)
    # no splat left finer than the training pixels (said when any grew)
    smooth = ref["smoothing_3d"]
    assert smooth["s"] == 0.2 and smooth["long_side"] > 0
    assert ("anti-aliasing: " in text) == (smooth["enlarged"] > 0)
    # the renders' depth is pulled to the stereo depth of every training photo, and said
    assert ref["depth_views"] == 7 and ref["depth_lambda"] == 0.2
    assert "depth term: the renders' depth pulled to the stereo depth of 7 photos" in text
    # `evaluate` finds the model --cameras-out put elsewhere through the report
    from cli.cmd_evaluate import _cameras_of

    assert json.loads((tmp_path / "a" / "scene_report.json").read_text())["cameras_folder"] == str(
        Path("..") / "cams"
    )
    assert _cameras_of(out, None).resolve() == (tmp_path / "cams").resolve()
    from viewer.up_axis import cameras_beside  # and the app, opening scene.ply

    assert cameras_beside(out).resolve() == (tmp_path / "cams").resolve()

    # the saved model is a prior: no SfM, same cameras (in the same world frame)
    out2 = tmp_path / "b" / "scene.spz"  # any splat format by name
    out2.parent.mkdir()
    sfm_calls: list[str] = []
    for name in ("sfm_extract", "sfm_match", "sfm_map"):  # none of SfM may run again
        monkeypatch.setattr(sfm, name, lambda *a, _n=name, **k: sfm_calls.append(_n))
    rc = run_cli(
        [
            "reconstruct",
            "--photos",
            str(tmp_path / "photos"),
            "--out",
            str(out2),
            "--colmap",
            str(tmp_path / "cams"),
            "--refine",
            "0",
        ]
    )
    assert rc == 0, capsys.readouterr()
    rep = json.loads((tmp_path / "b" / "scene_report.json").read_text())
    assert rep["registered"] == 7
    assert sfm_calls == []  # the model was read, no features extracted, matched or mapped
    from scene.io import load_cloud

    assert len(load_cloud(out2)) == rep["splats"]
    model2 = pycolmap.Reconstruction(str(tmp_path / "b" / "scene_cameras"))
    a = {i.name: i.projection_center() for i in model.images.values()}
    b = {i.name: i.projection_center() for i in model2.images.values()}
    # the second run re-normalises the frame; relative geometry must match up to scale
    names = sorted(a)
    da = np.array([a[n] - a[names[0]] for n in names])
    db = np.array([b[n] - b[names[0]] for n in names])
    scale = np.linalg.norm(db) / np.linalg.norm(da)
    np.testing.assert_allclose(db, da * scale, atol=1e-3 * np.linalg.norm(db))


def test_video_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from generators.reconstruct.synthetic import orbit_cameras, render, room_scene

    quads = room_scene()
    cams = orbit_cameras(8, 240, 180, seed=3)
    vw = cv2.VideoWriter(
        str(tmp_path / "walk.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10, (240, 180)
    )
    for c in cams:
        img = render(quads, c)[0][..., ::-1]
        vw.write(img)
        vw.write(img)  # duplicate frames, skipped
    vw.release()
    out = tmp_path / "v" / "scene.ply"
    out.parent.mkdir()
    rc = run_cli(
        ["reconstruct", "--video", str(tmp_path / "walk.avi"), "--out", str(out), "--refine", "0"]
    )
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "sampled 8 sharp, distinct frames" in text
    assert text.count(": registered") >= 6
    # the capture type was told from the layout, and the line says how to set it
    assert "--capture walk|orbit|aerial sets it" in text
    # --refine 0 is said, in the terminal and the report (a trial saw neither)
    assert "optimisation: off (--refine 0)" in text
    rep = json.loads((tmp_path / "v" / "scene_report.json").read_text())
    assert rep["refinement"]["steps"] == 0 and "not run" in rep["refinement"]["off"]
    # a project of it says it was made from a video, not "from photos"
    from cli.cmd_info import how_made
    from generators.options import wander_provenance

    meta = wander_provenance(out) or {}
    assert meta.get("input") == "video" and meta.get("video") == "walk.avi"
    assert how_made({**meta, "options": {}}).startswith("reconstruction from a video")
    assert out.exists()
    # the frames are kept beside the scene, so `evaluate` can score it (they were in a
    # temporary folder, and evaluate found no photo named frame_0000.png)
    frames = tmp_path / "v" / "scene_frames"
    assert f"video frames: {frames}" in text
    assert sorted(p.name for p in frames.iterdir())[0] == "frame_0000.png"
    rc = run_cli(
        [
            "evaluate",
            str(out),
            "--photos",
            str(frames),
            "--out",
            str(tmp_path / "ev"),
            "--no-images",
        ]
    )
    assert rc == 0, capsys.readouterr()


def test_photos_left_out_of_the_scene_get_one_warning_line() -> None:
    """A folder of two places made a scene of one with exit 0, the other's photos named
    only in the per-photo list: the run now ends with one warning line that counts them,
    says why (grouped) and what to do; a run with every photo in says nothing."""
    from generators.reconstruct.summary import unregistered_warning

    status = {
        "gw_1.jpg": "registered",
        "gw_2.jpg": "registered",
        "sc_1.jpg": "not registered: formed a separate group with sc_2.jpg (2 photos) that "
        "shares too few matches with the 2 registered photos",
        "sc_2.jpg": "not registered: formed a separate group with sc_1.jpg (2 photos) ...",
        "blank.jpg": "not registered: only 3 features (blank, blurred or tiny photo)",
    }
    line = unregistered_warning(status)
    assert line is not None and "\n" not in line and line.startswith("3 of 5 photos")
    assert "2 in a group of their own" in line and "1 with too few features" in line
    assert "blank.jpg, sc_1.jpg, sc_2.jpg" in line and "the other 2 saw" in line
    assert unregistered_warning({"a.jpg": "registered", "b.jpg": "registered"}) is None
    assert "arbitrary" not in line
    assert "overlap both groups" in line and "Blank, blurred or tiny" in line
    # one close-up SfM could not place among the rest: not another place (a trial)
    one = unregistered_warning(
        {
            "a.jpg": "registered",
            "b.jpg": "registered",
            "face.jpg": "not registered: could not be placed among the 2 registered photos",
        }
    )
    assert one is not None and "1 not placeable among the others: face.jpg" in one
    assert "add photos taken between it and the others" in one
    assert "another place" not in one and "groups" not in one
    from generators.reconstruct.sfm import TIE_NOTE

    tied = dict(status, **{"sc_2.jpg": status["sc_2.jpg"] + TIE_NOTE})
    assert "a group left out is as large, so which was built is arbitrary" in (
        unregistered_warning(tied) or ""
    )
    # files skipped before SfM are not counted as photos it saw ("the other 13" for 12
    # cameras, a trial), and unreadable ones get their own closing line
    from generators.reconstruct.summary import unreadable_warning

    status.update(
        {
            "dup.jpg": "skipped: duplicate of gw_1.jpg",
            "bad.jpg": "skipped: not a readable image (corrupt or unsupported file)",
        }
    )
    line = unregistered_warning(status)
    assert line.startswith("3 of 5 photos") and "the other 2 saw" in line
    line = unreadable_warning(status)
    assert line is not None and line.startswith("1 file in the input was skipped")
    assert "bad.jpg" in line and "dup.jpg" not in line
    assert (
        unreadable_warning({"a.jpg": "registered", "d.jpg": "skipped: duplicate of a.jpg"}) is None
    )


def test_a_scene_from_few_photos_is_said_to_be_thin() -> None:
    """Two drone frames made a flat billboard with no word: fewer than four photos in the
    scene (held-out ones do not count) get one warning line."""

    from generators.reconstruct.summary import few_photos_warning

    line = few_photos_warning(2)
    assert line is not None and "only 2 photos" in line and "\n" not in line
    assert "--capture sets it" in line
    assert few_photos_warning(5, 1) is None
    assert "only 3 photos" in (few_photos_warning(4, 1) or "")
    assert "the Capture type option" in (few_photos_warning(2, 0, "the Capture type option") or "")


def test_the_focal_length_line_says_how_many_photos_had_it(capsys) -> None:
    """In a folder where only some photos carry EXIF (two sets mixed) the line said "of 5
    photos", as if of all of them."""
    from cli.cmd_reconstruct import _print_focal_prior

    prior = {"source": "EXIF", "photos": 5, "fov_x_deg": 52.6}
    _print_focal_prior(prior, 11)
    assert "EXIF focal length of 5 of the 11 photos" in capsys.readouterr().out
    _print_focal_prior(prior, 5)
    assert "of 5 photos (52.6° across)" in capsys.readouterr().out


def test_a_focal_length_few_photos_moved_far_from_the_guess_is_doubted(capsys) -> None:
    """Without EXIF, 4 drone frames (3 unrelated photos left out) moved SfM's focal length
    from 45° to 69.7° across (all 12 frames: 46.6°) and nothing said so. The record gives
    what the guess became; the line says it, and warns when few photos moved it far."""
    from types import SimpleNamespace

    from cli.cmd_reconstruct import _print_focal_prior
    from generators.reconstruct.options import ReconstructOptions
    from generators.reconstruct.pipeline import _focal_prior_record
    from scene.camera import Camera

    def cams(n: int, fx: float) -> dict:
        c = Camera.look_at((0, 0, 1), (0, 0, 0), fov_y_deg=40, width=640, height=360)
        c.fx = c.fy = fx
        return {f"f{i}.png": c for i in range(n)}

    photos = [SimpleNamespace(focal_px=None, work_name=f"f{i}.png") for i in range(4)]
    # three photos of another place with EXIF, not registered: they say nothing of these
    photos += [SimpleNamespace(focal_px=900.0, work_name=f"other{i}.png") for i in range(3)]
    few = _focal_prior_record(photos, ReconstructOptions(), "", cams(4, 459.0))
    assert few["source"] == "default" and few["registered"] == 4
    assert few["fov_x_deg"] == pytest.approx(69.8, abs=0.2)
    assert few["change"] == pytest.approx(459 / 768 - 1, abs=1e-3)
    _print_focal_prior(few, 7)
    got = capsys.readouterr()
    assert "refined it to 69.8° across" in got.out
    # (warnings on stderr, as every command's)
    warn = [ln for ln in got.err.splitlines() if ln.startswith("warning:")]
    assert len(warn) == 1 and "moved 40 %" in warn[0] and "only 4 photos" in warn[0]
    # all twelve frames: a small move, no warning; nor for many photos moving it far
    photos = [SimpleNamespace(focal_px=None, work_name=f"f{i}.png") for i in range(20)]
    for n, fx in ((12, 745.0), (20, 459.0)):
        _print_focal_prior(_focal_prior_record(photos, ReconstructOptions(), "", cams(n, fx)), n)
        assert "warning" not in capsys.readouterr().err


def test_an_orbit_says_why_the_fills_did_not_run_and_has_no_sky(capsys) -> None:  # noqa: ANN001
    """Round an orbited object the fills are not run and the far sphere is the room behind
    it: the printout says so instead of counting zeros and speaking of a sky."""
    from cli.cmd_reconstruct import _print_backdrop, _print_fusion

    _print_fusion(
        {"agreed": 24309, "one_view": 0, "ray_fill": 0, "fills_skipped": "an object orbit"}
    )
    out = capsys.readouterr().out
    assert "24,309 splats" in out and "for an object orbit" in out and "--capture walk" in out
    _print_fusion({"agreed": 5, "one_view": 6, "ray_fill": 7, "far_field": 40502})
    out = capsys.readouterr().out
    assert "6 from one photo's depth (--no-fill-gaps), 7 placed" in out
    assert "; 40,502 far-field splats where the photos show sky or distant background" in out
    back = {"added": 8797, "ground_discs": 0, "needles_shortened": 591}
    _print_backdrop(back, {"type": "orbit"})
    out = capsys.readouterr().out
    assert "continue the far background" in out and "sky" not in out
    _print_backdrop({**back, "ground_discs": 22852}, {"type": "walk"})
    out = capsys.readouterr().out
    assert "continue the sky and 22,852 the ground" in out
    _print_backdrop({"added": 0}, {"type": "walk"})
    assert capsys.readouterr().out == ""
