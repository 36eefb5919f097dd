"""A photo's skyline below the horizon corrects its pitch, and a guessed field of view
(`generators/panorama/horizon.py`; issue 14: the demo photo stood 8° below the world's
horizon, a postcard pasted under the invented skyline)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.panorama.horizon import horizon_check, skyline_row
from generators.panorama.pitch import estimate_pitch
from generators.panorama.projection import equirect_to_perspective, pano_lonlat, perspective_camera


def _field_with_masts(
    h: int = 512, skyline_deg: float = 0.5, masts: int = 120, seed: int = 0
) -> np.ndarray:
    """A level equirect scene: a clear sky over a dark treeline from the horizon up to
    `skyline_deg`, textured ground below, and masts (vertical 3D lines: columns of the
    equirect grid) standing from the ground to 35° up."""
    rng = np.random.default_rng(seed)
    w = 2 * h
    lon, lat = pano_lonlat(h, w)
    el = np.degrees(lat)[:, None] * np.ones((1, w))
    img = np.empty((h, w, 3), np.float32)
    t = np.clip(el / 60.0, 0, 1)[..., None]
    img[:] = (1 - t) * np.array([0.55, 0.7, 0.95]) + t * np.array([0.2, 0.35, 0.8])
    band = (el >= 0) & (el < skyline_deg + 0.02 * np.sin(np.arange(w) / 7.0)[None, :])
    img[band] = np.array([0.12, 0.2, 0.1]) + rng.normal(0, 0.03, (int(band.sum()), 3))
    ground = el < 0
    img[ground] = np.array([0.4, 0.33, 0.25]) + rng.normal(0, 0.06, (int(ground.sum()), 3))
    for c in rng.choice(w, masts, replace=False):
        img[(el < 35.0)[:, 0], c] = rng.uniform(0.05, 0.25)
    return np.clip(img, 0, 1)


def _view(pano: np.ndarray, fov: float, pitch: float) -> np.ndarray:
    return equirect_to_perspective(
        pano, perspective_camera(640, 427, fov, pitch=math.radians(pitch))
    )


def test_a_guessed_field_of_view_comes_from_the_skyline_and_the_vertical_lines() -> None:
    """A 45° photo pitched 12° up, read with the default 65°: its masts give a pitch that
    leaves its treeline below the horizon; keeping their vanishing point and putting the
    treeline on the horizon gives both the field of view and the pitch back."""
    view = _view(_field_with_masts(), 45.0, 12.0)
    est = estimate_pitch(view, 65.0)
    assert est["applied"] and est["pitch_deg"] < 10.0, est  # the wrong focal length's pitch
    fov, info = horizon_check(view, 65.0, "default", est)
    assert fov == pytest.approx(45.0, abs=3.0)
    assert info["pitch_deg"] == pytest.approx(12.0, abs=1.0)
    assert info["horizon"]["applied"] and info["horizon"]["skyline_deg"] < -1.0
    assert info["horizon"]["fov_from_deg"] == 65.0 and "skyline" in info["source"]
    # the same photo with its field of view known: right already, nothing moves
    est45 = estimate_pitch(view, 45.0)
    fov, info = horizon_check(view, 45.0, "exif", est45)
    assert fov == 45.0 and info["pitch_deg"] == est45["pitch_deg"]
    assert not info["horizon"]["applied"]
    # given 65° (--fov) with its masts' trusted pitch, nothing is a guess: the treeline
    # below that horizon is taken as seen from above, and left there
    fov, info = horizon_check(view, 65.0, "option", est)
    assert fov == 65.0 and info["pitch_deg"] == est["pitch_deg"]
    assert not info["horizon"]["applied"] and info["horizon"]["skyline_deg"] < -1.0


def test_with_a_known_field_of_view_only_the_pitch_moves() -> None:
    """No trusted vertical lines (taken as level) or a focal length from EXIF: the photo is
    pitched so its skyline lies on the horizon, the field of view stays."""
    view = _view(_field_with_masts(), 60.0, 9.0)
    level = {"pitch_deg": 0.0, "applied": False, "source": "too few vertical lines"}
    fov, info = horizon_check(view, 60.0, "exif", level)
    assert fov == 60.0 and info["applied"]
    # the treeline (0.5° high) on the horizon: a little under the true pitch, never over
    assert 7.5 < info["pitch_deg"] <= 9.0
    assert "pitch_from_deg" in info["horizon"] and "fov_from_deg" not in info["horizon"]


@pytest.mark.parametrize("pitch", [-10.0, 0.0, 6.0])
def test_a_skyline_above_the_horizon_moves_nothing(pitch: float) -> None:
    """Hills, roofs and trees stand above the horizon: that says nothing of where it is."""
    view = _view(_field_with_masts(skyline_deg=6.0), 60.0, pitch)
    est = {"pitch_deg": pitch, "applied": pitch != 0.0, "source": "vertical lines"}
    fov, info = horizon_check(view, 60.0, "default", est)
    assert fov == 60.0 and info["pitch_deg"] == pitch
    assert not info["horizon"]["applied"] and info["horizon"]["skyline_deg"] > 0


def test_no_sky_or_an_implausible_correction_moves_nothing() -> None:
    rng = np.random.default_rng(2)
    indoor = np.clip(0.5 + 0.1 * rng.normal(size=(240, 320, 3)), 0, 1).astype(np.float32)
    assert skyline_row(indoor, 65.0, 0.0) is None
    est = {"pitch_deg": 0.0, "applied": False}
    assert horizon_check(indoor, 65.0, "default", est) == (65.0, est)
    # a skyline 20° below the horizon is no misplaced photo (water or snow taken for sky)
    view = _view(_field_with_masts(masts=0), 90.0, 20.0)
    fov, info = horizon_check(view, 90.0, "exif", est)
    assert fov == 90.0 and info["pitch_deg"] == 0.0 and not info["horizon"]["applied"]
    assert info["horizon"]["skyline_deg"] < -15.0
    # sky down to the photo's bottom edge shows no skyline at all
    assert skyline_row(_view(_field_with_masts(), 60.0, 30.0), 60.0, 0.0) is None


def test_patchy_sky_gives_no_skyline() -> None:
    """Hazy hills taken for sky in patches (drone frames of the Great Wall: 79-95 % of a
    column down to its lowest 'sky' pixel is sky) are no skyline to level by."""
    import cv2

    view = _view(_field_with_masts(masts=0), 60.0, 9.0)
    level = {"pitch_deg": 0.0, "applied": False}
    assert horizon_check(view, 60.0, "exif", level)[1]["horizon"]["applied"]
    rng = np.random.default_rng(3)
    patchy = view.copy()
    for _ in range(40):  # textured brown blobs across the sky
        x, y = int(rng.uniform(0, 640)), int(rng.uniform(0, 200))
        blob = np.zeros(patchy.shape[:2], np.uint8)
        cv2.circle(blob, (x, y), int(rng.uniform(12, 30)), 1, -1)
        sel = blob > 0
        patchy[sel] = np.clip(0.35 + 0.1 * rng.normal(size=(int(sel.sum()), 3)), 0, 1)
    assert skyline_row(patchy, 60.0, 0.0) is None
    assert horizon_check(patchy, 60.0, "exif", level) == (60.0, level)


def test_the_panorama_places_the_photo_at_the_field_of_view_and_pitch_found(tmp_path) -> None:
    """The photo file (no EXIF) goes through the panorama job: placed 45° across at the
    pitch found, and the world's estimates say where the field of view came from."""
    from PIL import Image

    from cli.cmd_world import estimate_line
    from generators.panorama import panorama_from_photos

    photo = tmp_path / "masts.png"
    view = _view(_field_with_masts(), 45.0, 12.0)
    Image.fromarray((view * 255).round().astype(np.uint8)).save(photo)
    pano = panorama_from_photos([photo], height=128)
    assert pano.meta["fov_source"] == "skyline and vertical lines"
    assert pano.fov_x_deg == pytest.approx(45.0, abs=3.0)
    assert pano.photo_pitch_deg == pytest.approx(12.0, abs=1.0)
    assert pano.meta["photo_pitch"]["horizon"]["applied"]
    line = estimate_line("photo_fov", {"value": 45.2, "source": "skyline and vertical lines"})
    assert line == "  photo_fov: 45.2° (skyline and vertical lines)"
    # --no-level places it as given: no pitch, no horizon check, the default field of view
    flat = panorama_from_photos([photo], height=128, level=False)
    assert flat.meta["fov_source"] == "default" and flat.photo_pitch_deg == 0.0
