"""Issue 14's synthetic check: a world from one photo of a known room holds up 1–2 m aside.

The scene (tests/world_scene.py) is ray-cast exactly; the world's renders 1 m and 2 m to
the side are compared with it over the pixels the photo saw. Before layered geometry
(everything on one floor-and-cylinder sheet) this scored 17.1 / 16.4 dB with the pillar
leaning 58° from vertical; with one contact per column and the low block lying flat on
the floor 20.1 / 19.4 dB; see bench/world_synthetic.py for the figures.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    """bench/world_synthetic.py, loaded as a module (bench/ is no package)."""
    spec = importlib.util.spec_from_file_location(
        "world_synthetic", ROOT / "bench" / "world_synthetic.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.gl
@pytest.mark.slow
def test_world_from_a_room_photo_holds_up_when_walking_aside(qapp) -> None:
    res = _bench().run(ROOT)
    assert res["start_psnr_db"] >= 30.0, res
    # 21.31 / 22.07 dB while the photo's classes handed over to the layout from 1° to 8°
    # off it (outpaint_classical.LAYOUT_NEAR_DEG / LAYOUT_FAR_DEG); 21.84 / 22.70 at 0.3-3.5°
    assert res["side_1m_psnr_db"] >= 21.5, res
    assert res["side_2m_psnr_db"] >= 22.3, res
    assert res["pillar_tilt_deg"] <= 5.0, res
    assert res["block_tilt_deg"] <= 5.0, res  # the low block stands (it lay flat: 87°)


@pytest.mark.gl
@pytest.mark.slow
def test_world_from_a_pitched_photo_of_a_room_with_a_desk_holds_up_aside_and_forward(
    qapp,
) -> None:
    """bench/world_synthetic.py --table: a desk with a block on it in front of the pillar
    and the low block, the photo pitched 15° down. 19.13 / 20.39 / 19.28 dB aside 1 m,
    2 m and 1 m forward while the back wall, its foot hidden behind the three, stood at
    the pillar's distance (3.9 m for 6); 20.57 / 22.06 / 20.80 with it at the wall's."""
    res = _bench().run(ROOT, table=True)
    assert res["side_1m_psnr_db"] >= 20.2, res
    assert res["side_2m_psnr_db"] >= 21.6, res
    assert res["forward_1m_psnr_db"] >= 20.4, res
    assert res["pillar_tilt_deg"] <= 5.0, res
    assert res["block_tilt_deg"] <= 5.0, res


def test_layered_depth_stands_upright_things_at_their_ground_contact() -> None:
    """No GL: the pillar's photo pixels get one horizontal distance (a vertical surface)."""
    import numpy as np

    from generators.pano_layers import GROUND, SKY, UPRIGHT, layered_depth
    from generators.panorama.projection import pano_dirs

    H = 128
    dirs = pano_dirs(H)
    lat = np.degrees(np.arcsin(dirs[..., 1]))
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat > 30] = SKY
    # ground up to 20° below the horizon (contact at 1.6 / tan 20° = 4.4 m), except a
    # band of columns where an object meets the ground at 40° below (1.9 m)
    cls[lat < -20] = GROUND
    cls[:, 100:110][lat[:, 100:110] > -40] = np.where(
        lat[:, 100:110][lat[:, 100:110] > -40] > 30, SKY, UPRIGHT
    )
    L = layered_depth(cls, eye_height=1.6, radius=4.4, far=9.0, sky_radius=30.0)
    pts = dirs * L.depth[..., None]
    horiz = np.linalg.norm(pts[..., [0, 2]], axis=-1)
    up = cls == UPRIGHT
    obj = up.copy()
    obj[:, :102] = False
    obj[:, 108:] = False
    np.testing.assert_allclose(horiz[obj], 1.6 / np.tan(np.radians(40)), rtol=0.08)
    wall = up.copy()
    wall[:, 90:120] = False
    np.testing.assert_allclose(np.median(horiz[wall]), 1.6 / np.tan(np.radians(20)), rtol=0.12)
    floor = (cls == GROUND) & (lat < -25)
    np.testing.assert_allclose((pts[..., 1] + 1.6)[floor], 0.0, atol=1e-3)
    assert (L.depth[cls == SKY] == 30.0).all()
    assert L.estimates["indoor"]["value"] is False


def test_a_box_in_front_of_a_wall_stands_and_the_wall_behind_keeps_its_distance() -> None:
    """No GL: a box lower than the eye, of its own colour, standing on the floor in front
    of a wall stands at its own contact; the wall seen above it stays at the wall's."""
    import numpy as np

    from generators.pano_layers import GROUND, UPRIGHT, layered_depth
    from generators.panorama.projection import pano_dirs

    H = 256
    dirs = pano_dirs(H)
    lat = np.degrees(np.arcsin(dirs[..., 1]))
    lon = np.degrees(np.arctan2(dirs[..., 0], -dirs[..., 2]))
    eye, wall_d, box_d, box_h = 1.6, 5.0, 2.5, 0.9
    wall_foot = -np.degrees(np.arctan(eye / wall_d))  # -17.7°
    box_foot = -np.degrees(np.arctan(eye / box_d))  # -32.6°
    box_top = -np.degrees(np.arctan((eye - box_h) / box_d))  # -15.6°: hides the wall foot
    in_box = (np.abs(lon) < 8) & (lat > box_foot) & (lat < box_top)
    cls = np.where(lat < wall_foot, GROUND, UPRIGHT).astype(np.uint8)
    cls[in_box] = UPRIGHT
    cls[(lat < box_foot)] = GROUND
    rng = np.random.default_rng(0)
    image = np.where((cls == GROUND)[..., None], [0.45, 0.3, 0.2], [0.8, 0.78, 0.7]).astype(
        np.float32
    )
    image[in_box] = (0.15, 0.3, 0.85)
    image += rng.normal(0, 0.01, image.shape).astype(np.float32)
    known = ((np.abs(lon) < 32) & (np.abs(lat) < 40)).astype(np.float32)
    L = layered_depth(
        cls,
        eye_height=eye,
        radius=wall_d,
        far=10.0,
        sky_radius=30.0,
        known=known,
        ceiling_height=3.0,
        image=np.clip(image, 0, 1),
    )
    horiz = L.depth * np.cos(np.radians(lat))
    inner = in_box & (np.abs(lon) < 6) & (lat < box_top - 2) & (lat > box_foot + 2)
    np.testing.assert_allclose(np.median(horiz[inner]), box_d, rtol=0.1)
    above = (np.abs(lon) < 6) & (lat > box_top + 2) & (lat < 20)
    np.testing.assert_allclose(np.median(horiz[above]), wall_d, rtol=0.15)


def test_the_wall_behind_a_row_of_things_keeps_its_distance_where_they_hide_its_foot() -> None:
    """No GL: a pillar (a dark body on a lighter foot), a desk and a box side by side hide
    the foot of the wall 6 m off across 47° of the photo; the wall is seen meeting the
    floor only at the photo's sides. The pillar stands whole at its own distance (its
    body, not standing on its foot of another colour, went back to the wall: 5.1 m for
    4) and the wall seen above the desk stays near the wall's (in the synthetic room the
    wall's own segment, meeting the floor, counted as a standing thing and hid its
    contact, and the back wall took the pillar's distance: 3.9 m for 6,
    bench/world_synthetic.py --table)."""
    import numpy as np

    from generators.pano_layers import GROUND, UPRIGHT, layered_depth
    from generators.panorama.projection import pano_dirs

    H = 256
    dirs = pano_dirs(H)
    lat = np.degrees(np.arcsin(dirs[..., 1]))
    lon = np.degrees(np.arctan2(dirs[..., 0], -dirs[..., 2]))
    eye, wall_d = 1.6, 6.0

    def foot(d: float) -> float:
        return -float(np.degrees(np.arctan(eye / d)))

    def top(d: float, h: float) -> float:
        return -float(np.degrees(np.arctan((eye - h) / d)))

    wall = [0.8, 0.78, 0.7]
    image = np.where((lat < foot(wall_d))[..., None], [0.45, 0.3, 0.2], wall).astype(np.float32)
    cls = np.where(lat < foot(wall_d), GROUND, UPRIGHT).astype(np.uint8)
    things = {}
    for name, (l0, l1, d, h, colour) in {
        "pillar": (-22.0, -14.0, 4.0, 2.6, (0.1, 0.15, 0.6)),
        "desk": (-14.0, 12.0, 2.5, 1.0, (0.55, 0.3, 0.15)),
        "box": (12.0, 25.0, 3.6, 1.0, (0.2, 0.6, 0.3)),
    }.items():
        m = (lon >= l0) & (lon < l1) & (lat > foot(d)) & (lat < top(d, h))
        image[m] = colour
        cls[m] = UPRIGHT
        cls[(lon >= l0) & (lon < l1) & (lat <= foot(d))] = GROUND
        things[name] = (m, d)
    pillar, _ = things["pillar"]
    image[pillar & (lat < foot(4.0) + 4.0)] = (0.6, 0.6, 0.62)  # its foot, in another light
    image += np.random.default_rng(0).normal(0, 0.01, image.shape).astype(np.float32)
    known = ((np.abs(lon) < 33) & (np.abs(lat) < 30)).astype(np.float32)
    L = layered_depth(
        cls,
        eye_height=eye,
        radius=5.0,
        far=12.0,
        sky_radius=30.0,
        known=known,
        ceiling_height=3.0,
        image=np.clip(image, 0, 1),
    )
    horiz = L.depth * np.cos(np.radians(lat))
    perp = horiz * np.cos(np.radians(lon))  # distance along the view: the wall's is 6 m
    above_desk = (lon > -10) & (lon < 8) & (lat > top(2.5, 1.0) + 2) & (lat < 20)
    np.testing.assert_allclose(np.median(perp[above_desk]), wall_d, rtol=0.15)
    body = pillar & (lon > -20) & (lon < -16) & (lat > foot(4.0) + 6)
    np.testing.assert_allclose(np.percentile(perp[body], [5, 95]), 4.0, rtol=0.12)


@pytest.mark.gl
def test_sky_the_photo_shows_below_the_horizon_leaves_no_hole_from_higher_up(qapp) -> None:
    """The bundled demo photo (the rocket at dusk) has a dark cloud bank classed as sky a
    few degrees below the horizon its pitch gives. That sky lay on the dome, 85 m under the
    ground, and from 1 m above the start a black hole opened right of the rocket's base.
    It lies on the floor now: from 1 m up the ground there is covered."""
    import numpy as np

    from generators.pano_world import world_from_photos
    from scene.camera import Camera
    from viewer.offscreen import OffscreenRenderer

    world, _, _ = world_from_photos([ROOT / "assets" / "rocket.jpg"])
    cam = Camera.look_at((0.0, 2.6, 0.0), (0.0, 2.3, -1.0), 60, 400, 250)
    with OffscreenRenderer(world) as r:
        _, alpha = r.render_with_alpha(cam)
    alpha = np.asarray(alpha)
    hole = alpha[120:155, 260:300]  # right of the rocket's base, just below the horizon
    assert hole.mean() > 0.95, float(hole.mean())
