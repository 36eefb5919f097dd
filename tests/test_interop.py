"""Files and cameras from the rest of the splat world (issue 13): COLMAP camera models,
COLMAP writing, .spz extensions and axes, PLY variants, glTF compression."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data" / "interop"
NAMES = [f"view_{i:03d}.png" for i in range(8)]


# ------------------------------------------------------------------ 1. COLMAP camera models
def _cam(model: str, params: list[float]):  # noqa: ANN202
    import pycolmap

    return pycolmap.Camera(model=model, width=480, height=360, params=params)


@pytest.mark.parametrize("model", ["OPENCV", "FULL_OPENCV", "SIMPLE_RADIAL"])
def test_colmap_models_read_the_same_pinhole(model: str) -> None:
    from generators.reconstruct.sfm import load_colmap_model

    ref = load_colmap_model(DATA / "colmap_models" / "model_SIMPLE_RADIAL", NAMES)
    res = load_colmap_model(DATA / "colmap_models" / f"model_{model}", NAMES)
    assert sorted(res.cameras) == NAMES
    for n in NAMES:
        a, b = res.cameras[n], ref.cameras[n]
        assert (a.fx, a.fy, a.cx, a.cy) == pytest.approx((b.fx, b.fy, b.cx, b.cy))
        assert a.cy == pytest.approx(180.0)
        assert res.distortion[n] == 0.0          # OPENCV k1 is params[4], not cy = 180
        np.testing.assert_allclose(a.R, b.R, atol=1e-12)


@pytest.mark.parametrize("model,params,k1", [
    ("OPENCV", [300, 310, 240, 180, -0.1, 0, 0, 0], -0.1),
    ("FULL_OPENCV", [300, 310, 240, 180, 0.05, 0, 0, 0, 0, 0, 0, 0], 0.05),
    ("RADIAL", [300, 240, 180, 0.02, 0], 0.02),
    ("SIMPLE_RADIAL", [300, 240, 180, -0.03], -0.03),
    ("PINHOLE", [300, 310, 240, 180], 0.0),
    ("FOV", [300, 310, 240, 180, 0.0], 0.0),          # omega = 0 is exactly pinhole
    ("SIMPLE_DIVISION", [300, 240, 180, 0.0], 0.0),   # k = 0 is exactly pinhole
])
def test_radial_k1_by_parameter_name(model: str, params: list[float], k1: float) -> None:
    from generators.reconstruct.sfm import colmap_radial_k1

    assert colmap_radial_k1(_cam(model, params)) == pytest.approx(k1)


@pytest.mark.parametrize("model,params", [
    ("SIMPLE_FISHEYE", [300, 240, 180]),
    ("FISHEYE", [300, 300, 240, 180]),
    ("OPENCV_FISHEYE", [300, 300, 240, 180, 0, 0, 0, 0]),
    ("RADIAL_FISHEYE", [300, 240, 180, 0, 0]),
    ("FOV", [300, 300, 240, 180, 0.9]),
    ("SIMPLE_DIVISION", [300, 240, 180, -0.2]),
    ("OPENCV", [300, 300, 240, 180, -0.1, 0.02, 0, 0]),
    ("FULL_OPENCV", [300, 300, 240, 180, 0, 0, 0.001, 0, 0, 0, 0, 0]),
])
def test_unsupported_lenses_are_refused_naming_the_model(model: str, params: list[float]) -> None:
    from generators.reconstruct.sfm import colmap_radial_k1

    with pytest.raises(ValueError) as ei:
        colmap_radial_k1(_cam(model, params))
    msg = str(ei.value)
    assert model in msg and "\n" not in msg


def test_intrinsics_by_colmap_indices() -> None:
    import pycolmap

    from generators.reconstruct.sfm import camera_from_colmap

    class _Im:  # the two things camera_from_colmap reads from a pycolmap.Image
        name = "a.png"

        @staticmethod
        def cam_from_world() -> "pycolmap.Rigid3d":
            return pycolmap.Rigid3d()

    im = _Im()
    for model, params, want in [
        ("SIMPLE_DIVISION", [300, 241, 181, 0.0], (300, 300, 241, 181)),
        ("OPENCV", [300, 310, 241, 181, 0.1, 0, 0, 0], (300, 310, 241, 181)),
        ("SIMPLE_FISHEYE", [300, 241, 181], (300, 300, 241, 181)),
    ]:
        c = camera_from_colmap(_cam(model, params), im)
        assert (c.fx, c.fy, c.cx, c.cy) == pytest.approx(want), model


def test_fisheye_model_folder_refused_in_one_line() -> None:
    from generators.reconstruct.sfm import load_colmap_model

    with pytest.raises(ValueError, match="SIMPLE_FISHEYE") as ei:
        load_colmap_model(DATA / "colmap_models" / "model_SIMPLE_FISHEYE", NAMES)
    assert "\n" not in str(ei.value)


# ------------------------------------------------------------------ 3. COLMAP writing
def _cams_named(names: list[str]):  # noqa: ANN202
    from scene.camera import Camera

    out = []
    for i, n in enumerate(names):
        a = 0.3 * i
        r = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        out.append(Camera(64, 48, 50.0, 51.0, 32.0, 24.0, r, np.array([0.1 * i, 0.0, 3.0]), n))
    return out


SPACED = ["IMG 0000 (copy).png", "IMG 0001 (copy).png", "holiday  pic.jpg"]


@pytest.mark.parametrize("names", [SPACED, ["a.png", "b.png", "c.png"], ["left/view_000.png", "x y/z.png", "r.png"]])
def test_written_names_read_back_by_pycolmap_and_wander(tmp_path: Path, names: list[str]) -> None:
    import pycolmap

    from generators.reconstruct.sfm import load_colmap_model
    from scene.io.colmap import read_colmap, write_colmap

    cams = _cams_named(names)
    pts = np.array([[0.0, 0.0, 0.0], [0.2, 0.1, 0.3], [5.0, 5.0, -9.0]])
    vis = [np.array([0, 1, 2])] * len(cams)
    write_colmap(tmp_path, cams, pts, np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8), vis)
    rec = pycolmap.Reconstruction(str(tmp_path))
    assert sorted(im.name for im in rec.images.values()) == sorted(names)
    got, p, _ = read_colmap(tmp_path)
    assert sorted(c.name for c in got) == sorted(names)
    for c in got:
        ref = cams[names.index(c.name)]
        np.testing.assert_allclose(c.R, ref.R, atol=1e-9)
        np.testing.assert_allclose(c.t, ref.t, atol=1e-9)
        assert (c.fx, c.fy, c.cx, c.cy) == pytest.approx((50, 51, 32, 24))
    assert len(p) == 2          # the point behind every camera has no observation: dropped
    res = load_colmap_model(tmp_path, names)
    assert sorted(res.cameras) == sorted(names)


def test_rewriting_in_the_other_format_leaves_no_stale_model(tmp_path: Path) -> None:
    from scene.io.colmap import read_colmap, write_colmap

    write_colmap(tmp_path, _cams_named(["a.png", "b.png"]))
    assert (tmp_path / "images.txt").exists()
    write_colmap(tmp_path, _cams_named(SPACED))
    assert not (tmp_path / "images.txt").exists() and (tmp_path / "images.bin").exists()
    assert sorted(c.name for c in read_colmap(tmp_path)[0]) == sorted(SPACED)


def test_export_cameras_keeps_names_with_spaces(tmp_path: Path) -> None:
    import json

    import pycolmap

    from scene.export import export_cameras

    files = export_cameras(_cams_named(SPACED), tmp_path / "sparse")
    assert all(f.exists() for f in files)
    rec = pycolmap.Reconstruction(str(tmp_path / "sparse"))
    js = json.loads((tmp_path / "sparse" / "cameras.json").read_text())
    assert sorted(im.name for im in rec.images.values()) == sorted(c["name"] for c in js["cameras"]) \
        == sorted(SPACED)


def test_pipeline_writer_keeps_names_with_spaces(tmp_path: Path) -> None:
    import pycolmap

    from generators.reconstruct.colmap_text import write_colmap_text

    pts = np.array([[0.0, 0.0, 0.0], [0.1, -0.1, 0.2]])
    write_colmap_text(tmp_path, _cams_named(SPACED), pts, np.full((2, 3), 200, np.uint8),
                      [np.array([0, 1])] * 3)
    rec = pycolmap.Reconstruction(str(tmp_path))
    assert sorted(im.name for im in rec.images.values()) == sorted(SPACED)
    assert len(rec.points3D) == 2
    assert all(len(p.track.elements) == 3 for p in rec.points3D.values())
