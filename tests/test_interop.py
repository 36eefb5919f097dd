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
