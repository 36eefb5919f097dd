"""Photo -> panorama -> walkable world: outpainting, depth prior, splats, progress/cancel."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.depth.classical import detect_sky, prior_depth
from generators.jobs import Cancelled, CancelToken
from generators.pano_world import cloud_from_depth, world_from_photos
from generators.panorama import panorama_from_photos
from generators.panorama.outpaint_classical import outpaint_classical
from scene.gaussians import GaussianCloud


@pytest.fixture(scope="module")
def rocket(tmp_path_factory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("photos") / "rocket.png"
    cv2.imwrite(str(p), cv2.cvtColor(data.rocket(), cv2.COLOR_RGB2BGR))
    return p


@pytest.fixture(scope="module")
def chelsea(tmp_path_factory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("photos") / "chelsea.jpg"
    cv2.imwrite(str(p), cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR))
    return p


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12))


@pytest.mark.slow
def test_classical_outpaint_is_seamless_keeps_photo_and_fills_everything(chelsea: Path) -> None:
    pano = panorama_from_photos([chelsea], height=256)
    img, known = pano.image, pano.known
    assert img.shape == (256, 512, 3) and np.isfinite(img).all()
    assert pano.meta["fov_source"] == "default" and pano.fov_x_deg == 65.0
    # wrap-around: the ±180° seam is no stronger than ordinary neighbouring columns
    seam = np.abs(img[:, 0] - img[:, -1]).mean()
    typical = np.abs(np.diff(img, axis=1)).mean()
    assert seam < 2 * typical + 1e-3
    # poles converge to one colour per row
    assert img[0].std(0).max() < 0.01 and img[-1].std(0).max() < 0.01
    # the photo itself is kept where fully known (away from its 1-2 px feathered rim)
    inner = cv2.erode((known > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    base, _ = __import__("generators.panorama", fromlist=["place_photo"]).place_photo(
        __import__("generators.images", fromlist=["load_image"]).load_image(chelsea).rgb,
        65.0,
        256,
        pitch_deg=pano.photo_pitch_deg,
    )
    assert np.abs(img[inner] - base[inner]).max() < 1e-5
    # the invented part is not a flat fill: it carries the photo's colours with variation
    unknown = known == 0
    assert img[unknown].std(0).mean() > 0.02
    assert np.abs(img[unknown].mean(0) - base[inner].mean(0)).max() < 0.2


def test_outpaint_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="equirect"):
        outpaint_classical(np.zeros((10, 30, 3), np.float32), np.zeros((10, 30), np.float32))
    with pytest.raises(ValueError, match="no known pixels"):
        outpaint_classical(np.zeros((16, 32, 3), np.float32), np.zeros((16, 32), np.float32))


def test_prior_depth_floor_walls_and_sky() -> None:
    d = prior_depth(128, eye_height=1.6, radius=8.0)
    from generators.panorama.projection import pano_dirs

    pts = pano_dirs(128) * d[..., None] + [0, 1.6, 0]
    below = pano_dirs(128)[..., 1] < -0.5
    np.testing.assert_allclose(pts[below][:, 1], 0.0, atol=1e-4)  # floor at y = 0
    horizontal = np.linalg.norm(pts[..., [0, 2]], axis=-1)
    assert horizontal.max() <= 8.0 * 1.5 + 1e-3
    sky = np.zeros((128, 256), bool)
    sky[:20] = True
    assert (prior_depth(128, sky=sky)[:20] == 30.0).all()


def test_detect_sky_on_blue_sky_not_on_brown_ceiling() -> None:
    h = 128
    img = np.zeros((h, 2 * h, 3), np.float32)
    img[: h // 2] = [0.45, 0.65, 0.95]  # blue sky
    img[h // 2 :] = [0.4, 0.35, 0.3]
    img[40:64, 100:120] = [0.2, 0.2, 0.2]  # a building against the sky
    sky = detect_sky(img)
    assert sky[:30].mean() > 0.95 and not sky[h // 2 + 2 :].any()
    assert sky[45:64, 104:116].mean() < 0.05
    indoor = np.full((h, 2 * h, 3), [0.5, 0.4, 0.3], np.float32)
    assert not detect_sky(indoor).any()


@pytest.mark.slow
def test_world_from_one_photo_is_walkable_with_provenance(rocket: Path) -> None:
    events: list[tuple[float, str]] = []
    world, pano, stages = world_from_photos(
        [rocket], pano_height=512, resolution=384, progress=lambda f, m: events.append((f, m))
    )
    cloud = world.layers[0].data
    assert 100_000 < len(cloud) < 500_000  # incl. ~270 k pixel-aligned photo splats
    cloud.validate()
    # floor at y = 0 under the start camera
    near = np.linalg.norm(cloud.means[:, [0, 2]], axis=1) < 1.5
    below = near & (cloud.means[:, 1] < 1.0)
    assert below.sum() > 1000
    np.testing.assert_allclose(cloud.means[below, 1], 0.0, atol=1e-3)
    # floor splats lie flat: their thinnest axis is vertical
    from scene.rotations import quats_to_matrices

    rot = quats_to_matrices(cloud.quats[below])
    thin = np.argmin(cloud.scales[below], axis=1)
    normal = rot[np.arange(len(thin)), :, thin]
    assert np.median(np.abs(normal[:, 1])) > 0.99
    # sky detected on the rocket's dusk sky -> far dome
    assert (np.linalg.norm(cloud.means - [0, 1.6, 0], axis=1) > 25).mean() > 0.1
    # start bookmark at eye height looking along -Z, up by the photo's pitch (the launch
    # towers, shot from below, converge upwards); provenance recorded
    bm = world.bookmarks[0]
    np.testing.assert_allclose(bm.position, [0, 1.6, 0])
    assert bm.yaw == 0 and 3.0 < math.degrees(bm.pitch) < 20.0
    assert bm.pitch == pytest.approx(math.radians(pano.photo_pitch_deg))
    est = world.meta["estimates"]["photo_pitch"]
    assert est["applied"] and "vertical lines" in est["source"]
    # outdoors: the invented skyline's elevation, and what its colour was taken from
    sky = world.meta["estimates"]["far_skyline"]
    assert 0.5 <= sky["value"] <= 10.0 and "colour and grain from " in sky["source"]
    # ... and its shape: the launch pad shows no foliage, so hills or roofs, not crowns
    assert "relief" in sky["source"] and pano.meta["outpaint"]["layout"]["far_band"] == "relief"
    # where the ground's grain came from, in the world's record too (`info` shows it)
    grain = world.meta["estimates"]["ground_grain"]
    assert grain["value"] in ("photo", "panorama") and "ground" in grain["source"]
    meta = cloud.meta
    assert meta["generator"] == "wander.pano_world" and meta["depth_backend"] == "classical"
    assert (
        meta["panorama"]["inputs"] == [str(rocket)] and meta["panorama"]["backend"] == "classical"
    )
    # the panorama made for it stays with the world: `export --panorama` finds it
    from scene.export import find_panorama

    kept = find_panorama(world)
    assert isinstance(kept, np.ndarray) and kept.shape == (512, 1024, 3)
    assert np.abs(kept / 255.0 - pano.image).max() < 1 / 255 + 1e-6
    # progress: monotone, ends at 1, each stage timed
    fr = [f for f, _ in events]
    assert all(b >= a - 1e-9 for a, b in zip(fr, fr[1:])) and fr[-1] == pytest.approx(1.0)
    assert set(stages.times) == {"load", "place", "outpaint", "depth", "splats"}


def test_cancel_stops_the_job(rocket: Path) -> None:
    token = CancelToken()
    seen: list[str] = []

    def progress(f: float, m: str) -> None:
        seen.append(m)
        if "outpaint" in m:
            token.cancel()

    with pytest.raises(Cancelled):
        world_from_photos([rocket], pano_height=256, progress=progress, cancel=token)
    assert not any("Gaussians" in m for m in seen)


@pytest.mark.slow
def test_bad_options_are_clear(rocket: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backend"):
        world_from_photos([rocket], pano_backend="magic")
    with pytest.raises(ValueError, match="depth backend"):
        world_from_photos([rocket], depth_backend="magic", pano_height=128)
    with pytest.raises(ValueError, match="height"):
        world_from_photos([rocket], pano_height=10)
    with pytest.raises(ValueError, match="either photos or a panorama"):
        world_from_photos([rocket], panorama=rocket)
    with pytest.raises(ValueError, match="positive"):
        cloud_from_depth(np.zeros((8, 16, 3)), np.zeros((8, 16)))


@pytest.mark.slow
def test_world_from_panorama_file(tmp_path: Path, rocket: Path) -> None:
    from generators.images import save_image

    pano = panorama_from_photos([rocket], height=256)
    path = tmp_path / "pano.jpg"
    save_image(path, pano.image)
    world, _, _ = world_from_photos(panorama=path, pano_height=256)
    # 256 rows (the rocket's smooth sky and invented parts merge into 2×2 and 4×4 blocks)
    assert len(world.layers[0].data) > 20_000
    assert "resolution" not in world.meta["estimates"]  # used at the file's own size


def test_a_reduced_panorama_says_how_to_keep_its_detail(
    tmp_path: Path, rocket: Path, monkeypatch
) -> None:
    from generators import pano_world
    from generators.images import save_image

    path = tmp_path / "pano.jpg"
    save_image(path, panorama_from_photos([rocket], height=256).image)
    monkeypatch.setattr(pano_world, "DEFAULT_PANORAMA_RESOLUTION", 128)
    world, _, _ = world_from_photos(panorama=path, pano_height=192)
    est = world.meta["estimates"]["resolution"]
    assert est["value"] == 128
    assert "file's 256 rows reduced; --height 256 --resolution 256" in est["source"]
    assert "4.0x the splats" in est["source"] and "all 256 rows" not in est["source"]
    # twice the default is offered; the file's own rows are named with their cost too
    monkeypatch.setattr(pano_world, "DEFAULT_PANORAMA_RESOLUTION", 96)
    world, _, _ = world_from_photos(panorama=path, pano_height=256)
    est = world.meta["estimates"]["resolution"]["source"]
    assert "--resolution 192 keeps more detail with 4.0x the splats (all 256 rows: 7.1x)" in est
    world, _, _ = world_from_photos(panorama=path, pano_height=128, resolution=96)
    assert world.meta["estimates"]["resolution"] == {"value": 96, "source": "option"}
    # a photo's world keeps the photo's own pixels: no advice about the panorama's rows
    world, _, _ = world_from_photos(photos=[rocket], pano_height=256)
    assert "resolution" not in world.meta["estimates"]
    bad = tmp_path / "wide.png"
    save_image(bad, np.zeros((100, 300, 3)))
    from generators.options import OptionsError

    with pytest.raises(OptionsError, match="not an equirectangular 360° panorama") as err:
        world_from_photos(panorama=bad)
    # a 3:1 strip (a phone's panorama) is told how it can go in (a trial got no hint)
    assert "--photo wide.png --fov ANGLE" in str(err.value)


def test_a_phone_panorama_strip_given_as_a_photo_is_warned(tmp_path) -> None:  # noqa: ANN001
    """A 3.4:1 strip given as a photo was placed 65° across in silence (a trial)."""
    from generators.images import save_image
    from generators.panorama import PanoramaOptions, generate_panorama

    strip = tmp_path / "strip.png"
    rng = np.random.default_rng(0)
    save_image(strip, rng.uniform(0.3, 0.7, (100, 340, 3)))
    pano = generate_panorama(PanoramaOptions(photos=[strip], height=128))
    assert any("wide strip" in w and "--fov" in w for w in pano.meta.get("warnings", []))
    pano = generate_panorama(PanoramaOptions(photos=[strip], height=128, fov=150.0))
    assert not any("wide strip" in w for w in pano.meta.get("warnings", []))


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory) -> Path:
    from skimage import data

    p = tmp_path_factory.mktemp("photos") / "astronaut.png"
    cv2.imwrite(str(p), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return p


@pytest.mark.gl
@pytest.mark.slow
@pytest.mark.parametrize("which", ["rocket", "chelsea", "astronaut"])
def test_start_view_render_matches_the_photo(which: str, request, qapp) -> None:
    """Walkability: from the start camera the world looks like the photo (PSNR >= 25 dB).

    (`qapp`: a QApplication must exist before the offscreen GL context, or a later widget
    test in the same session aborts on the QGuiApplication that context would create.)

    Rendered with the photo's own camera (size and FOV) at the start position.
    rocket: sky dome + walls at the ground-line radius; chelsea: no sky; astronaut: fine detail.
    """
    from generators.images import load_image
    from generators.panorama.projection import perspective_camera
    from viewer.offscreen import render_image

    path = request.getfixturevalue(which)
    world, pano, _ = world_from_photos([path])
    photo = load_image(path).rgb
    h, w = photo.shape[:2]
    bm = world.bookmarks[0]
    cam = perspective_camera(
        w, h, pano.fov_x_deg, yaw=bm.yaw, pitch=bm.pitch, position=tuple(bm.position)
    )
    assert cam.fov_y_deg == pytest.approx(bm.fov_y_deg, abs=0.5)
    img = render_image(world, cam).astype(np.float32) / 255
    crop = (slice(3, -3), slice(3, -3))
    assert _psnr(img[crop], photo[crop]) >= 25.0


def test_sky_pixels_that_look_like_a_thin_upright_thing_stand_with_it() -> None:
    """The panorama's sky class is coarser than the photo: a launch tower's 1-px girders
    and the sky between them fall in one 'sky' cell. At the photo's resolution the girders
    join the tower (its depth), the sky between them and a cloud far from anything stay sky
    (a copy of the girders left on the sky dome was a ghost tower when walking aside)."""
    from generators.pano_world import _sky_at_photo_resolution

    h, w = 120, 160
    rng = np.random.default_rng(0)
    photo = np.empty((h, w, 3), np.float32)
    photo[:] = (0.15, 0.25, 0.55)
    photo += 0.01 * rng.standard_normal((h, w, 1)).astype(np.float32)
    depth = np.full((h, w), 500.0, np.float32)
    sky = np.ones((h, w), bool)
    # the tower: the coarse class holds its core (upright at 20 m); the girders along
    # its side and its cross-bars fall in sky cells
    sky[30:, 70:75] = False
    depth[30:, 70:75] = 20.0
    photo[30:, 70:75] = (0.1, 0.1, 0.1)
    girders = np.zeros((h, w), bool)
    girders[30:, 78] = True
    girders[range(30, h, 6), 75:79] = True
    photo[girders] = (0.08, 0.08, 0.08)
    cloud = np.zeros((h, w), bool)
    cloud[10:14, 10:40] = True
    photo[cloud] = (0.7, 0.7, 0.75)
    out_sky, out_d = _sky_at_photo_resolution(photo, sky, depth, pano_px=5.0)
    assert not out_sky[girders].any()
    np.testing.assert_allclose(out_d[girders], 20.0)
    between = np.zeros((h, w), bool)
    between[30:, 75:78] = True
    between &= ~girders
    assert out_sky[between].all()
    assert out_sky[cloud].all()
    assert out_sky[:, :40].all() and out_sky[:, 120:].all()


def test_a_lattice_mast_lost_whole_in_the_sky_class_stands_on_its_base() -> None:
    """The demo photo's masts: at the panorama's resolution their lattice is sky from the
    base up, and the pole on top an upright sliver standing at its neighbours' distance.
    Walking 2 m aside broke them into pieces at the sky's, the pole's and the base's
    distances. Thin dark structure linked down to its base stands at the base's depth, with
    the narrow pole on it and the sky between its bars; a dark speck touching nothing (a
    bird) and the open sky stay sky."""
    from generators.pano_world import _sky_at_photo_resolution

    h, w = 160, 160
    rng = np.random.default_rng(1)
    photo = np.empty((h, w, 3), np.float32)
    photo[:] = (0.2, 0.3, 0.6)
    photo += 0.01 * rng.standard_normal((h, w, 1)).astype(np.float32)
    sky = np.ones((h, w), bool)
    depth = np.full((h, w), 500.0, np.float32)
    sky[130:] = False  # the ground, with the mast's base 30 m off
    depth[130:] = 60.0
    depth[130:, 60:100] = 30.0
    photo[130:] = (0.25, 0.2, 0.15)
    mast = np.zeros((h, w), bool)
    mast[40:130, 70] = mast[40:130, 80] = True  # legs
    for r0 in range(40, 130, 10):  # braces
        for k in range(10):
            mast[r0 + k, 70 + k] = True
    photo[mast] = (0.05, 0.05, 0.06)
    pole = np.zeros((h, w), bool)
    pole[12:40, 74:77] = True  # bright, upright at its neighbours' distance
    sky[pole], depth[pole], photo[pole] = False, 80.0, (0.9, 0.9, 0.9)
    bird = np.zeros((h, w), bool)
    bird[20:23, 20:23] = True
    photo[bird] = (0.05, 0.05, 0.05)
    out_sky, out_d = _sky_at_photo_resolution(photo, sky, depth, pano_px=3.0)
    assert not out_sky[mast].any()
    np.testing.assert_allclose(out_d[mast], 30.0)
    np.testing.assert_allclose(out_d[pole], 30.0)
    between = np.zeros((h, w), bool)
    between[50:120, 72:79] = True
    assert not out_sky[between & ~mast].any()  # the sky seen through it goes with it
    assert out_sky[bird].all() and out_sky[:100, :50].all() and out_sky[:100, 110:].all()


def test_photo_pixels_at_an_upright_edge_lie_on_one_side_not_in_between() -> None:
    """The panorama's depth steps sideways over two pixels at a bookcase's edge (3.6 m in
    front of a wall at 4.5 m, each pixel step below the edge ratio): the photo's pixels,
    five times finer, took in-between depths, a different one in every row — a comb of
    slivers (zebra stripes) seen from the side. Every photo pixel now lies on the near or
    the far surface."""
    from generators.pano_world import photo_splats

    H = 128
    W = 2 * H
    depth = np.full((H, W), 4.5, np.float32)
    c = W // 2 + 3
    depth[:, c:] = 3.6
    depth[:, c - 1] = 4.2  # a two-pixel ramp, each step < 12 %
    depth[:, c - 2] = 4.45
    sky = np.zeros((H, W), bool)
    photo = np.full((200, 300, 3), 0.5, np.float32)
    cloud = photo_splats(photo, 65.0, depth, sky, eye_height=1.6, sky_radius=300.0)
    eye = np.array([0.0, 1.6, 0.0])
    d = np.linalg.norm(cloud.means - eye, axis=1)
    between = (d > 3.6 * 1.05) & (d < 4.45 / 1.05)
    assert not between.any()


def test_photo_pixels_at_a_diagonal_depth_edge_lie_on_one_side_not_in_between() -> None:
    """A round thing 2.4 m off in front of a wall at 4.5 m, its depth edge softened over a
    panorama pixel or two (as a coarser depth map resampled): along its diagonal edges one
    or two photo pixels a row took in-between depths, and seen from 1 m aside they hung in
    the gap as a scatter of dots over the revealed background (the office's desk). Every
    photo pixel near the edge now lies within 3 % of the near or the far surface."""
    import cv2

    from generators.pano_world import photo_splats

    H = 256
    W = 2 * H
    yy, xx = np.mgrid[0:H, 0:W]
    disc = (yy - H / 2) ** 2 + (xx - W / 2) ** 2 < 20**2
    coarse = np.where(disc, 2.4, 4.5).astype(np.float32)
    depth = cv2.GaussianBlur(coarse, (0, 0), 0.8)  # a ramp of a pixel or two at the edge
    assert ((depth > 2.4 * 1.05) & (depth < 4.5 / 1.05)).sum() > 50
    sky = np.zeros((H, W), bool)
    photo = np.full((300, 400, 3), 0.5, np.float32)
    cloud = photo_splats(photo, 40.0, depth, sky, eye_height=1.6, sky_radius=300.0)
    d = np.linalg.norm(cloud.means - np.array([0.0, 1.6, 0.0]), axis=1)
    assert (d < 2.5).sum() > 1000 and (d > 4.3).sum() > 1000  # both sides are there
    assert not ((d > 2.4 * 1.05) & (d < 4.5 / 1.05)).any()


def test_snapping_depth_edges_keeps_slanted_surfaces_and_thin_things() -> None:
    """`snap_depth_edges` moves only pixels between the two sides of an edge: a floor's
    depth that changes smoothly row by row, and a thin rod 3 m off standing 4 px from
    anything else in front of a wall, are left as they are."""
    from generators.pano_world import EDGE_RATIO_PHOTO, snap_depth_edges

    rows = np.linspace(2.0, 12.0, 120, dtype=np.float32)[:, None]
    floor = np.repeat(rows, 80, 1)
    assert np.array_equal(snap_depth_edges(floor, EDGE_RATIO_PHOTO), floor)
    wall = np.full((60, 60), 4.5, np.float32)
    wall[:, 30] = 3.0  # a one-pixel rod
    wall[:, 40:] = 2.0  # a near board 9 px to its side
    out = snap_depth_edges(wall, EDGE_RATIO_PHOTO)
    assert np.array_equal(out[:, 30], wall[:, 30])


def test_wanders_own_indoor_panorama_comes_back_as_a_room(tmp_path) -> None:
    """`panorama` of an indoor photo, then `world --panorama` of that image: its light,
    smooth invented ceiling was taken for an overcast sky (an outdoor world with a sky
    400 m up). The record beside the image says Wander outpainted a ceiling: the top is
    ceiling where the record's room box puts it; without the record it reads as sky."""
    import json

    import cv2

    from generators.panorama import load_panorama
    from generators.panorama.classes import SKY
    from generators.panorama.projection import pano_lonlat

    h = 256
    _, lat = pano_lonlat(h)
    img = np.empty((h, 2 * h, 3), np.uint8)
    img[:] = (70, 90, 110)  # brown walls (BGR)
    img[np.degrees(lat) > 14] = (232, 235, 236)  # a white, smooth ceiling
    img[np.degrees(lat) < -20] = (40, 60, 90)  # a wooden floor
    noise = np.random.default_rng(1).normal(0, 3, img.shape)
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    path = tmp_path / "room.png"
    cv2.imwrite(str(path), img)
    plain = load_panorama(path)
    assert plain.classes is None  # classified later, where the white top reads as sky
    from generators.pano_layers import classify_panorama

    assert (classify_panorama(plain.image) == SKY).any()
    layout = {"indoor": True, "floor_tan": 0.4, "ceiling_tan": 0.25}
    rec = {"generator": "wander.panorama", "outpaint": {"upper": "ceiling", "layout": layout}}
    (tmp_path / "room.png.json").write_text(json.dumps(rec))
    pano = load_panorama(path)
    assert pano.meta["upper"]["value"] == "ceiling"
    cls = classify_panorama(pano.image, pano.classes)
    assert not (cls == SKY).any() and (cls == 3).mean() > 0.2


def test_a_world_never_makes_a_panorama_bigger_than_its_splats_use() -> None:
    """`world --height 8192` made an 8192-row panorama (82 s, 16 GB) for the same splats
    as 1024 rows: the panorama is made at most 2 x the splat resolution (at least the
    default), and the default is untouched."""
    from generators.world_options import WorldOptions

    assert WorldOptions(photos=["a.jpg"]).used_pano_height() == 1024
    assert WorldOptions(photos=["a.jpg"], pano_height=8192).used_pano_height() == 1536
    big = WorldOptions(photos=["a.jpg"], pano_height=8192, resolution=2048)
    assert big.used_pano_height() == 4096 and big.panorama_options().height == 4096
    assert WorldOptions(photos=["a.jpg"], pano_height=512).used_pano_height() == 512


def test_inputs_that_can_only_give_blur_or_streaks_are_warned_about(tmp_path) -> None:
    """A 1:10 strip at the default 65° across spans 162° top to bottom (radial streaks),
    a 64x32 panorama is upscaled 12x: each is made, with a warning naming the file."""
    import cv2

    from generators.panorama import PanoramaOptions, generate_panorama, load_panorama

    rng = np.random.default_rng(0)
    tall = tmp_path / "tall.png"
    cv2.imwrite(str(tall), rng.integers(0, 255, (600, 60, 3), dtype=np.uint8))
    pano = generate_panorama(PanoramaOptions(photos=[tall], height=128, level=False))
    assert any("tall.png is 60x600" in w and "--fov" in w for w in pano.meta["warnings"])
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), rng.integers(0, 255, (32, 64, 3), dtype=np.uint8))
    assert "small.png is only 64x32" in load_panorama(small).meta["warnings"][0]
    ok = tmp_path / "ok.png"
    cv2.imwrite(str(ok), rng.integers(0, 255, (400, 300, 3), dtype=np.uint8))
    assert not generate_panorama(PanoramaOptions(photos=[ok], height=128)).meta.get("warnings")


def test_smooth_invented_blocks_become_one_splat_of_twice_the_size() -> None:
    """The invented layer: a pixel's splat where it has detail, a 2×2 block's where it is
    smooth (a trial's office world: 1.58 M splats, a 109 MB project, mostly soft
    outpainting). It must look the same: rendered at a perspective camera the coarse+fine
    cloud matches the all-pixel one, and no block straddles a depth edge."""
    from generators.pano_world import invented_splats
    from generators.panorama.projection import pano_lonlat
    from generators.rasterize import render_cloud
    from scene.camera import Camera

    H = 96
    rng = np.random.default_rng(0)
    img = np.empty((H, 2 * H, 3), np.float32)
    img[:] = [0.55, 0.45, 0.35]  # a soft wall ...
    img[:, H:] = rng.uniform(0.2, 0.8, (H, H, 3))  # ... and a textured half
    lon, lat = pano_lonlat(H)
    depth = np.broadcast_to(4.0 / np.maximum(np.cos(lat), 0.3)[:, None], (H, 2 * H)).copy()
    depth[:, H // 2 - 7 : H // 2 + 9] *= 0.5  # a pillar in front of the soft wall
    keep = np.ones((H, 2 * H), bool)
    fine, coarse = invented_splats(img, depth.astype(np.float32), keep, levels=1)
    full = cloud_from_depth(img, depth.astype(np.float32), keep=keep)
    assert len(fine) + len(coarse) < 0.7 * len(full)
    # the soft half is mostly coarse, the textured half all fine
    lon_c = np.arctan2(coarse.means[:, 0], -coarse.means[:, 2])
    assert (lon_c < 0.05).all() and len(coarse) > 0.15 * len(full) / 4
    # no coarse splat straddles the pillar's depth edges (columns 41, 57 of 192)
    edge = np.array([H // 2 - 7, H // 2 + 9]) / (2 * H) * 2 * math.pi - math.pi
    assert (np.abs(lon_c[:, None] - edge[None, :]) > 0.5 * 2 * math.pi / (2 * H)).all()
    cam = Camera.look_at(np.array([0.0, 1.6, 0.0]), np.array([-1.0, 1.6, -1.0]), 70, 160, 120)
    a = render_cloud(full, cam).astype(np.float64)
    b = render_cloud(GaussianCloud.concatenate([fine, coarse]), cam).astype(np.float64)
    mse = ((a - b) ** 2).mean()
    assert 10 * np.log10(255**2 / max(mse, 1e-9)) > 35
    # a second level merges the soft wall's 2×2 blocks again: fewer splats, same look
    two = invented_splats(img, depth.astype(np.float32), keep, levels=2)
    assert len(two) == 3 and sum(map(len, two)) < len(fine) + len(coarse)
    c = render_cloud(GaussianCloud.concatenate(two), cam).astype(np.float64)
    assert 10 * np.log10(255**2 / max(((a - c) ** 2).mean(), 1e-9)) > 33
    # nothing smooth: one fine cloud, as before
    only = invented_splats(np.tile(img[:, H:], (1, 2, 1)), depth.astype(np.float32), keep)
    assert len(only) == 1


def test_a_lone_merged_block_lets_nothing_behind_show_through() -> None:
    """A smooth 4×4 patch inside textured surroundings stays four 2×2 splats: as one
    splat of four times the size it let ~5 % of what lies behind show through round its
    edges (light square rings in the Sceaux world's treeline, the sky 10× farther
    behind). Rendered in front of a white shell the merged cloud matches the all-pixel
    one (before: 12.9/255 at the rings, now 3.5)."""
    import cv2

    from generators.pano_world import invented_splats
    from generators.rasterize import render_cloud
    from scene.camera import Camera

    H = 128
    rng = np.random.default_rng(1)
    img = np.full((H, 2 * H, 3), (0.2, 0.3, 0.2), np.float32)
    img += 0.06 * rng.standard_normal(img.shape).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0 : 2 * H]
    island = ((yy % 12) < 4) & ((xx % 12) < 4)  # lone smooth 4×4 patches on the 4-px grid
    img[island] = (0.2, 0.3, 0.2)
    depth = np.full((H, 2 * H), 40.0, np.float32)
    keep = np.ones((H, 2 * H), bool)
    shell = cloud_from_depth(np.ones_like(img), np.full((H, 2 * H), 400.0, np.float32), keep=keep)
    parts = invented_splats(img, depth, keep, levels=2)
    full = cloud_from_depth(img, depth, keep=keep)
    cam = Camera.look_at(np.array([0.0, 1.6, 0.0]), np.array([0.0, 1.6, -1.0]), 12, 320, 240)
    a = render_cloud(GaussianCloud.concatenate([full, shell]), cam).astype(np.float32)
    b = render_cloud(GaussianCloud.concatenate([*parts, shell]), cam).astype(np.float32)
    rings = cv2.blur(np.abs(a - b).mean(-1), (3, 3))
    assert rings.max() < 6.0, rings.max()
    assert len(parts[1]) > 0  # the patches' 2×2 blocks still merge
    # a plain wall all round still merges to 4×4 blocks but for its first and last rows
    # of blocks (fewer near the poles, where rows thin out)
    flat = np.full((H, 2 * H, 3), (0.5, 0.45, 0.4), np.float32)
    fine, half, quarter = invented_splats(flat, depth, keep, levels=2)
    assert len(fine) == 0 and len(half) < 0.05 * len(quarter)


def test_a_photo_given_as_a_panorama_is_refused_before_any_work(tmp_path) -> None:  # noqa: ANN001
    """`WorldOptions.check` reads the panorama's size from its header: a 900x598 photo
    picked in the app's New World from Panorama… failed only at the job's end (a trial);
    now the options say so at once, pointing to the photo route (with the --fov hint for
    a phone's wide strip), and a 2:1 image passes."""
    from generators.images import save_image
    from generators.options import OptionsError
    from generators.world_options import WorldOptions

    photo, strip, pano = tmp_path / "photo.png", tmp_path / "strip.png", tmp_path / "pano.png"
    save_image(photo, np.zeros((60, 90, 3)))
    save_image(strip, np.zeros((60, 200, 3)))
    save_image(pano, np.zeros((64, 128, 3)))
    with pytest.raises(OptionsError, match="90x60 pixels, not an equirectangular") as err:
        WorldOptions(panorama=photo).check()
    assert "world --photo" in str(err.value) and "New World from Photo" in str(err.value)
    with pytest.raises(OptionsError, match="--photo strip.png --fov ANGLE"):
        WorldOptions(panorama=strip).check()
    WorldOptions(panorama=pano).check()


def test_a_cut_out_photo_says_its_transparent_part_is_invented(tmp_path: Path) -> None:
    """An RGBA photo whose left third is transparent: that part is invented with the rest
    of the sphere, and the world's estimates say how much of the photo that was (a new
    user took the invented wall there for a bug)."""
    from PIL import Image

    rng = np.random.default_rng(2)
    rgba = np.zeros((120, 180, 4), np.uint8)
    rgba[..., :3] = (rng.random((120, 180, 3)) * 200 + 30).astype(np.uint8)
    rgba[..., 3] = 255
    rgba[:, :60, 3] = 0
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba, "RGBA").save(path)
    world, _, _ = world_from_photos([path], pano_height=128, resolution=64)
    est = world.meta["estimates"]["photo_transparent"]
    assert est["value"] == "33% of the photo" and "its alpha channel" in est["source"]
    # an opaque photo has no such line
    Image.fromarray(rgba[..., :3], "RGB").save(tmp_path / "opaque.png")
    world, _, _ = world_from_photos([tmp_path / "opaque.png"], pano_height=128, resolution=64)
    assert "photo_transparent" not in world.meta["estimates"]


def test_a_levelled_photo_s_corners_are_named_as_why_it_is_part_transparent() -> None:
    """An RGB photo levelled by a roll leaves its corners out of its frame: the world's
    estimate named "its alpha channel" for them (a trial, scikit-image's coffee); it says
    what made each transparent part, and a record that does not say keeps it general."""
    from generators.pano_world import _clear_causes

    rolled = {"photo_pitch": {"pitch_deg": -43.4, "roll_deg": 9.2, "roll_applied": True}}
    text = _clear_causes(rolled)
    assert "levelling" in text and "+9.2°" in text and "alpha" not in text
    both = {**rolled, "photo_cut_out": True, "photo_frame": {"margins_px": {}}}
    text = _clear_causes(both)
    assert "its alpha channel" in text and "black bands" in text and "levelling" in text
    assert _clear_causes({}) == "its transparent pixels"
    hostile = {"photo_cut_out": "yes", "photo_frame": 3, "photo_pitch": {"roll_applied": 1}}
    assert _clear_causes(hostile) == "its transparent pixels"
