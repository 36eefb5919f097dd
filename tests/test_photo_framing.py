"""A generated world's start view and a reconstruction's photo views frame the photo as it
was shot: in a window of another shape nothing beside the photo shows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scene.world import MIN_PHOTO_SHOWN, Bookmark, World, fit_fov_y


def _fov_x(fov_y: float, aspect: float) -> float:
    return math.degrees(2 * math.atan(math.tan(math.radians(fov_y) / 2) * aspect))


def _shown(fov_y: float, aspect: float, photo_fx: float, photo_fy: float) -> tuple[float, float]:
    """Share of the photo's width and height a view shows (image-plane extents)."""
    tv = math.tan(math.radians(fov_y) / 2)
    tx, ty = math.tan(math.radians(photo_fx) / 2), math.tan(math.radians(photo_fy) / 2)
    return min(1.0, tv * aspect / tx), min(1.0, tv / ty)


def test_a_wider_window_narrows_the_view_to_the_photos_width() -> None:
    photo_fy = math.degrees(2 * math.atan(math.tan(math.radians(65.0) / 2) * 3 / 4))  # 4:3
    wide = fit_fov_y(photo_fy, 65.0, 1.5)
    assert wide < photo_fy and _fov_x(wide, 1.5) == pytest.approx(65.0)  # nothing beside it
    assert _shown(wide, 1.5, 65.0, photo_fy)[1] > MIN_PHOTO_SHOWN
    assert fit_fov_y(photo_fy, 65.0, 4 / 3) == pytest.approx(photo_fy)  # the photo's shape
    assert fit_fov_y(50.0, 0.0, 16 / 9) == 50.0  # no photo: as given


def test_a_4_by_3_photo_fills_a_16_by_9_frame() -> None:
    """`render` and `video` make 16:9 frames (1280×720), and most cameras take 4:3 photos:
    the start view crops the photo's top and bottom and shows nothing beside it (a new
    user saw a smeared 20 px band of the invented world at each side of Sceaux)."""
    photo_fy = math.degrees(2 * math.atan(math.tan(math.radians(52.6) / 2) * 3 / 4))
    fy = fit_fov_y(photo_fy, 52.6, 16 / 9)
    w, h = _shown(fy, 16 / 9, 52.6, photo_fy)
    assert w == pytest.approx(1.0) and h == pytest.approx(0.75)


@pytest.mark.parametrize("aspect", [2.3, 0.75, 0.5])
def test_a_window_of_a_very_different_shape_still_shows_most_of_the_photo(aspect: float) -> None:
    """A 1600×700 render of a 4:3 photo lost 42 % of its height (the ground, the people)
    when the view only filled the window; a tall one lost half the width."""
    photo_fy = math.degrees(2 * math.atan(math.tan(math.radians(65.0) / 2) * 3 / 4))
    fy = fit_fov_y(photo_fy, 65.0, aspect)
    w, h = _shown(fy, aspect, 65.0, photo_fy)
    assert min(w, h) == pytest.approx(MIN_PHOTO_SHOWN, abs=1e-6) and max(w, h) == 1.0


def test_a_wide_photo_fills_the_default_window_beside_the_scene_panel() -> None:
    """A 16:9 drone frame opened in the default window (viewport 1172×822 beside the
    scene panel) showed a band beyond the photo above and below it, where a
    reconstruction has only unconstrained needles; the view now crops the photo's sides."""
    aspect = 1172 / 822
    photo_fx = 53.0
    photo_fy = math.degrees(2 * math.atan(math.tan(math.radians(photo_fx) / 2) * 9 / 16))
    fy = fit_fov_y(photo_fy, photo_fx, aspect)
    w, h = _shown(fy, aspect, photo_fx, photo_fy)
    assert h == pytest.approx(1.0) and 0.78 < w < 0.82


def test_the_navigator_keeps_framing_until_the_user_sets_a_field_of_view() -> None:
    from viewer.navigation import Navigator

    nav = Navigator()
    photo_fy = math.degrees(2 * math.atan(math.tan(math.radians(65.0) / 2) * 3 / 4))
    nav.go_to_bookmark(Bookmark("Start", np.zeros(3), 0.0, 0.0, photo_fy, 65.0))
    assert nav.camera(1500, 1000).fov_x_deg == pytest.approx(65.0)
    assert nav.camera(800, 600).fov_y_deg == pytest.approx(photo_fy)
    nav.go_to_bookmark(Bookmark("View 2", np.zeros(3), 0.0, 0.0, 50.0))
    assert nav.camera(1600, 900).fov_y_deg == pytest.approx(50.0)


def test_the_photo_width_survives_a_project_round_trip(tmp_path: Path) -> None:
    from scene.gaussians import GaussianCloud
    from scene.project import load_project, save_project
    from scene.world import Layer

    w = World()
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 3))
    w.add_layer(Layer("a", GaussianCloud.from_points(pts, np.full((50, 3), 0.5), 0.05)))
    w.bookmarks = [
        Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.1, -0.2, 49.0, 65.0),
        Bookmark("Mine", np.array([1.0, 1.6, 0.0]), 0.0, 0.0, 60.0),
    ]
    save_project(w, tmp_path / "p.wander")
    back = load_project(tmp_path / "p.wander")
    back = back[0] if isinstance(back, tuple) else back
    assert [(b.fov_y_deg, b.fov_x_deg) for b in back.bookmarks] == [(49.0, 65.0), (60.0, 0.0)]


@pytest.mark.slow
def test_a_world_from_a_photo_starts_framed_and_one_from_a_panorama_does_not(
    tmp_path: Path,
) -> None:
    from generators.pano_world import world_from_photos
    from scene.io.images import save_image

    rng = np.random.default_rng(1)
    photo = np.clip(rng.uniform(0.2, 0.8, (90, 120, 3)), 0, 1).astype(np.float32)
    photo[:40] = (0.5, 0.7, 0.95)  # a sky
    save_image(tmp_path / "p.png", photo)
    world, pano, _ = world_from_photos(
        [tmp_path / "p.png"], fov=60.0, pano_height=256, resolution=128
    )
    start = world.bookmarks[0]
    assert start.fov_x_deg == pytest.approx(60.0)
    assert start.fov_y_deg == pytest.approx(_fov_y(60.0, 120 / 90), abs=0.01)
    save_image(tmp_path / "pano.png", pano.image)
    world2, _, _ = world_from_photos(
        [], panorama=tmp_path / "pano.png", pano_height=256, resolution=128
    )
    assert world2.bookmarks[0].fov_x_deg == 0.0


def _fov_y(fov_x: float, aspect: float) -> float:
    return math.degrees(2 * math.atan(math.tan(math.radians(fov_x) / 2) / aspect))
