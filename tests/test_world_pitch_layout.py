"""A photo's pitch from its vertical lines, and the layout of what it did not see (issue 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.panorama import place_photo
from generators.panorama.classes import GROUND, SKY, UPRIGHT
from generators.panorama.layout import CEILING, Layout, box_factor, layout_classes
from generators.panorama.pitch import estimate_pitch
from generators.panorama.projection import equirect_to_perspective, pano_lonlat, perspective_camera


def _striped_pano(h: int = 512, n_edges: int = 160, seed: int = 0) -> np.ndarray:
    """A level equirect scene of vertical stripes (walls, pillars): every edge is a
    vertical 3D line; a darker upper half so the view is no flat image."""
    rng = np.random.default_rng(seed)
    w = 2 * h
    cols = np.zeros(w, np.float32)
    for e in np.sort(rng.choice(w, n_edges, replace=False)):
        cols[e:] = rng.uniform(0.1, 0.9)
    pano = np.repeat(np.repeat(cols[None, :, None], h, 0), 3, 2)
    pano[: h // 2] *= 0.85
    return pano


@pytest.mark.parametrize("pitch", [-40.0, -15.0, 9.0, 22.0])
def test_pitch_from_converging_vertical_lines(pitch: float) -> None:
    view = equirect_to_perspective(
        _striped_pano(), perspective_camera(640, 480, 65.0, pitch=math.radians(pitch))
    )
    est = estimate_pitch(view, 65.0)
    assert est["applied"], est
    assert est["pitch_deg"] == pytest.approx(pitch, abs=1.0)
    assert abs(est["roll_deg"]) < 1.0 and "vertical lines" in est["source"]


@pytest.mark.parametrize("roll", [-12.0, 7.0])
def test_a_rolled_photo_is_levelled_before_it_is_placed(roll: float) -> None:
    """A hand-held photo a few degrees askew was placed as it was (its roll was found but
    not used: walls and horizon leaned, a trial). It is turned upright about its centre,
    the corners that turn in are transparent, and its pitch is found again."""
    from generators.panorama.pitch import level_roll

    view = equirect_to_perspective(
        _striped_pano(),
        perspective_camera(640, 480, 65.0, pitch=math.radians(12.0), roll=math.radians(roll)),
    )
    est = estimate_pitch(view, 65.0)
    assert abs(abs(est["roll_deg"]) - abs(roll)) < 1.0
    rgb, alpha, info = level_roll(view, None, 65.0, est)
    assert info["roll_applied"] and "levelled" in info["source"]
    assert abs(info["pitch_deg"] - 12.0) < 1.0
    assert abs(estimate_pitch(rgb, 65.0)["roll_deg"]) < 1.0  # upright now
    assert alpha is not None and alpha[0, 0] < 0.5 < alpha[240, 320]  # a corner turned in
    # a level photo and an untrusted estimate are left alone
    level = equirect_to_perspective(_striped_pano(), perspective_camera(640, 480, 65.0))
    same, a, info = level_roll(level, None, 65.0, estimate_pitch(level, 65.0))
    assert same is level and a is None and not info["roll_applied"]
    assert not level_roll(view, None, 65.0, {**est, "support": 0.1})[2]["roll_applied"]


def test_a_levelled_photo_keeps_the_pitch_of_its_vanishing_point() -> None:
    """Turned upright, a photo's pitch is that of the vanishing point already found, seen
    from the levelled camera; it is not estimated again from the turned photo, whose
    replicated corners streak (a ScanNet photo looking 12.6° down at chairs, support 0.23,
    fell to 0.19 once turned and was placed level: its room 14 m across, 19 dB at its start
    view)."""
    from generators.panorama.pitch import MIN_SUPPORT, level_roll

    plain = np.full((480, 640, 3), 0.5, np.float32)  # no lines to estimate anything from
    est = {
        "pitch_deg": -12.57,
        "raw_pitch_deg": -12.57,
        "roll_deg": -3.23,
        "segments": 32,
        "support": MIN_SUPPORT + 0.03,
        "applied": True,
        "source": "vertical lines, 32 segments",
    }
    _, _, info = level_roll(plain, None, 65.0, est)
    assert info["roll_applied"] and info["applied"], info
    want = math.degrees(
        math.atan2(math.tan(math.radians(-12.57)), math.hypot(1, math.tan(math.radians(-3.23))))
    )
    assert info["pitch_deg"] == pytest.approx(want, abs=0.01)
    # a raw estimate beyond what is trusted stays untrusted once levelled
    steep = {**est, "pitch_deg": 0.0, "raw_pitch_deg": -70.0, "applied": False}
    _, _, info = level_roll(plain, None, 65.0, steep)
    assert info["roll_applied"] and not info["applied"] and info["pitch_deg"] == 0.0


def test_a_level_photo_and_one_without_lines_are_taken_as_level() -> None:
    level = equirect_to_perspective(_striped_pano(), perspective_camera(640, 480, 65.0))
    est = estimate_pitch(level, 65.0)
    assert not est["applied"] and est["pitch_deg"] == 0.0
    yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    smooth = np.stack([xx / 320, yy / 240, 0.5 + 0 * xx], -1)
    est = estimate_pitch(smooth, 65.0)
    assert not est["applied"] and est["pitch_deg"] == 0.0 and "too few" in est["source"]


def _outdoor_photo(w: int = 320, h: int = 240) -> np.ndarray:
    """Blue sky over a textured, greenish ground with a horizon at 60 % of the height."""
    rng = np.random.default_rng(1)
    img = np.zeros((h, w, 3), np.float32)
    rows = np.arange(h)[:, None]
    sky = rows < int(0.6 * h)
    img[..., 0] = np.where(sky, 0.45 + 0.1 * rows / h, 0.3)
    img[..., 1] = np.where(sky, 0.65 + 0.1 * rows / h, 0.45)
    img[..., 2] = np.where(sky, 0.95, 0.25)
    img[~np.broadcast_to(sky, (h, w))] += rng.normal(0, 0.06, (int((~sky).sum()) * w, 3)).astype(
        np.float32
    )
    return np.clip(img, 0, 1)


def test_sky_is_found_in_a_photo_placed_pitched_up() -> None:
    """Placed pitched, the photo's top edge is curved on the sphere and its outermost rows
    are resampled: the sky along it must still be found."""
    from generators.panorama.outpaint_classical import _classify_known

    for pitch in (0.0, 14.0):
        pano, known = place_photo(_outdoor_photo(), 60.0, 512, pitch_deg=pitch)
        k = known > 0.5
        labels = _classify_known(pano, k)
        assert (labels[k] == SKY).mean() > 0.35, pitch


def test_a_photo_whose_lines_share_no_vanishing_point_is_taken_as_level() -> None:
    """Fur, branches: near-vertical edges that do not converge anywhere give no pitch
    (a cat photo was pitched 6° down, a coffee close-up 44°, from such edges)."""
    import cv2

    rng = np.random.default_rng(1)
    img = np.full((480, 640, 3), 0.75, np.float32)
    for _ in range(300):
        x, y = rng.uniform(0, 640), rng.uniform(0, 480)
        a = math.radians(rng.uniform(-25, 25))
        ln = rng.uniform(30, 70)
        dx, dy = math.sin(a) * ln / 2, math.cos(a) * ln / 2
        cv2.line(img, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), (0.1, 0.1, 0.1), 2)
    est = estimate_pitch(img, 65.0)
    assert est["segments"] >= 20 and not est["applied"] and est["pitch_deg"] == 0.0, est
    assert est["support"] < 0.2 and "do not agree" in est["source"]


def test_indoor_layout_is_the_box_room_the_geometry_builds() -> None:
    lay = Layout(True, floor_tan=0.5, ceiling_tan=0.4)
    cls = layout_classes(lay, 256)
    lon, lat = pano_lonlat(256)
    m = box_factor(lon)
    for c in (256, 256 + 64, 256 + 128, 100):  # straight ahead, 45°, 90°, elsewhere
        col = cls[:, c]
        t = np.tan(lat)
        assert (col[t < -0.5 * m[c] - 0.02] == GROUND).all()
        assert (col[t > 0.4 * m[c] + 0.02] == CEILING).all()
        band = (t > -0.5 * m[c] + 0.02) & (t < 0.4 * m[c] - 0.02)
        assert band.any() and (col[band] == UPRIGHT).all()
    # in a corner (45°) the floor boundary is higher on the screen (farther wall)
    assert m[256 + 64] == pytest.approx(math.sqrt(0.5), abs=0.02)


def test_the_invented_room_s_front_wall_is_the_wall_the_photo_faces() -> None:
    """The photo's own wall 2.4 m ahead, a recess at its left 4.5 m off: the box room's
    half-width comes from the farthest contacts, but its front wall stands where the
    photo's wall is, so the wall-ceiling line painted above the photo is the one the
    geometry builds there (the office photo: a square box 4 m wide put it 1.6 m behind
    the bookcase wall, and the ceiling paint hung 0.4 m down that wall, a sagging bump)."""
    from generators.panorama.layout import estimate_layout

    h = 256
    lon, lat = pano_lonlat(h)
    L, A = np.degrees(lon)[None, :], np.degrees(lat)[:, None]
    known = (np.abs(L) < 35) & (A > -40) & (A < 12)
    near, recess = 2.4, 4.5
    dist = np.where(L < -22, recess / np.cos(np.radians(L)), near / np.cos(np.radians(L)))
    labels = np.where(A < -np.degrees(np.arctan(1.6 / dist)), GROUND, UPRIGHT).astype(np.uint8)
    labels = np.where(known, labels, 0).astype(np.uint8)
    lay = estimate_layout(labels, known, CEILING)
    r = 1.6 / lay.floor_tan
    assert lay.front < 1.0 and "front" in lay.sources
    assert r * lay.front == pytest.approx(near, rel=0.1)
    assert lay.as_dict()["front_tan"] == pytest.approx(1.6 / (r * lay.front), rel=1e-3)
    cls = layout_classes(lay, h)
    col = h  # straight ahead
    t = np.tan(lat)
    top = lay.ceiling_tan * r / (r * lay.front)  # (c - e) / F
    assert (cls[t > top + 0.02, col] == CEILING).all()
    assert (cls[(t < top - 0.02) & (t > 0), col] == UPRIGHT).all()
    # beside it, beyond the front wall's corner, the side walls stay at the half-width
    side = int(np.argmin(np.abs(L[0] - 90.0)))
    assert box_factor(lon[side : side + 1], lay.front)[0] == pytest.approx(1.0, abs=0.01)


def test_the_front_wall_stands_at_the_photos_wall_not_its_furniture() -> None:
    """A wall 4 m ahead behind furniture (a desk, a cabinet) 2.5 m off across 60 % of the
    photo's columns: the box's front wall stands at the wall. At the contacts' median it
    stood at the furniture, 1.5 m before the photo's wall, which then sat in a niche of
    the invented room: a step aside and the invented wall beside it hid the photo."""
    from generators.panorama.layout import estimate_layout

    h = 256
    lon, lat = pano_lonlat(h)
    L, A = np.degrees(lon)[None, :], np.degrees(lat)[:, None]
    known = (np.abs(L) < 35) & (A > -40) & (A < 12)
    wall, furniture = 4.0, 2.5
    ahead = np.where(L > -35 + 0.6 * 70, wall, furniture)  # furniture over the left 60 %
    dist = ahead / np.cos(np.radians(L))
    labels = np.where(A < -np.degrees(np.arctan(1.6 / dist)), GROUND, UPRIGHT).astype(np.uint8)
    labels = np.where(known, labels, 0).astype(np.uint8)
    lay = estimate_layout(labels, known, CEILING)
    r = 1.6 / lay.floor_tan
    assert r * lay.front == pytest.approx(wall, rel=0.1), (r, lay.front)


def test_a_room_radius_given_is_the_box_the_outpainting_paints() -> None:
    """`world --radius 2` on a photo whose contacts say 4 m: the box room painted is 2 m
    wide each way and its front wall no farther. The world stood its walls at the option
    while the outpainting painted its creases where it estimated them: turned round, the
    floor's paint stood up the wall as a band."""
    from generators.panorama.layout import estimate_layout

    h = 256
    lon, lat = pano_lonlat(h)
    L, A = np.degrees(lon)[None, :], np.degrees(lat)[:, None]
    known = (np.abs(L) < 35) & (A > -40) & (A < 12)
    dist = 4.0 / np.cos(np.radians(L))
    labels = np.where(A < -np.degrees(np.arctan(1.6 / dist)), GROUND, UPRIGHT).astype(np.uint8)
    labels = np.where(known, labels, 0).astype(np.uint8)
    est = estimate_layout(labels, known, CEILING)
    assert 1.6 / est.floor_tan > 3.0  # estimated: the photo's walls
    lay = estimate_layout(labels, known, CEILING, room_radius=2.0)
    assert 1.6 / lay.floor_tan == pytest.approx(2.0) and lay.sources["floor"] == "option"
    assert lay.front <= 1.0


def test_the_painted_wall_ceiling_line_follows_the_box_without_a_staircase() -> None:
    """The ceiling's weight at the work size crosses ½ where the box room's wall meets
    its ceiling, to a small fraction of a pixel: drawn from hard classes at that size
    the line was a 1.4° staircase, which the blur and upsampling painted as a wave."""
    from generators.panorama.outpaint_classical import _layout_cover

    h = 128
    lay = Layout(True, floor_tan=0.5, ceiling_tan=0.4)
    cover = _layout_cover(lay, h, seed=0)
    lon, lat = pano_lonlat(h)
    sum_cover = sum(cover.values())
    assert np.allclose(sum_cover, 1.0, atol=1e-5)
    want = np.arctan(0.4 * box_factor(lon))  # the boundary's elevation per column
    # the ceiling runs from the top edge down to the line: its coverage summed down a
    # column is the line's depth in rows (hard classes: off by up to half a row)
    depth = cover[CEILING].astype(np.float64).sum(0)
    err = np.abs(depth - (math.pi / 2 - want) / (math.pi / h))
    assert err.max() < 0.2, err.max()
    assert np.allclose(lat, np.linspace(lat[0], lat[-1], h))  # rows are even in elevation


def test_outdoor_layout_has_a_wrapping_skyline_over_the_ground() -> None:
    lay = Layout(False, ground_tan=-0.04, skyline_deg=5.0, skyline_var=0.4)
    cls = layout_classes(lay, 256, seed=3)
    _, lat = pano_lonlat(256)
    top = np.array([np.nonzero(cls[:, c] != SKY)[0][0] for c in range(512)])
    elev = np.degrees(lat[top])
    assert 2.0 < elev.min() and elev.max() < 8.0 and elev.std() > 0.3  # a varied skyline
    assert abs(elev[0] - elev[-1]) < 0.8  # continuous across ±180°
    assert (cls[lat < math.atan(-0.04) - 0.01] == GROUND).all()
    assert not (cls == CEILING).any()


def _skyline(cls: np.ndarray) -> np.ndarray:
    """Elevation (deg) per column of the lowest sky pixel of the top sky run."""
    _, lat = pano_lonlat(cls.shape[0])
    top = np.array([np.nonzero(cls[:, c] != SKY)[0][0] for c in range(cls.shape[1])])
    return np.degrees(lat[top])


def test_the_far_skyline_starts_at_the_photo_s_own_skyline_at_its_edges() -> None:
    """Beside the photo the far skyline carries on from where the photo's edge cuts its
    skyline (a tall building on the left, low trees on the right), reaching its own
    height 15° out, instead of standing at its own height right at the edge."""
    from generators.panorama.layout import estimate_layout

    h, w = 256, 512
    _, lat = pano_lonlat(h)
    labels = np.full((h, w), GROUND, np.uint8)
    known = np.zeros((h, w), bool)
    c0, c1 = 220, 292  # ~50° wide photo round longitude 0
    known[70:170, c0:c1] = True
    rows = np.arange(h)[:, None]
    tall, low = 92, 124  # rows where the sky ends: the building (left), the trees (right)
    cols = np.arange(w)[None, :]
    top = np.where(cols < (c0 + c1) // 2, tall, low)
    labels[(rows < top)] = SKY
    labels[(rows >= top) & (rows < 128)] = UPRIGHT
    labels[74:80, c0 : c0 + 6] = UPRIGHT  # glare high in the sky called upright: no skyline
    lay = estimate_layout(labels, known, SKY)
    assert len(lay.anchors) == 2, lay.anchors
    (lon_l, e_l), (lon_r, e_r) = sorted(lay.anchors)
    assert abs(e_l - math.degrees(lat[tall])) < 1.0 and abs(e_r - math.degrees(lat[low])) < 1.0
    assert "side edges" in lay.sources["skyline"]
    assert lay.as_dict()["skyline_anchors"][0]["elev_deg"] == pytest.approx(e_l, abs=0.01)
    sky = _skyline(layout_classes(lay, h, seed=2))
    for col, want in ((c0 - 2, e_l), (c1 + 1, e_r)):
        assert abs(sky[col] - want) < 1.5, (col, sky[col], want)
    # 20° out the layout's own skyline, as without the anchors
    own = _skyline(layout_classes(Layout(**{**lay.__dict__, "anchors": ()}), h, seed=2))
    far = [c0 - 30, c1 + 30]
    assert np.allclose(sky[far], own[far], atol=0.5)
    assert abs(sky[c0 - 2] - own[c0 - 2]) > 3.0  # (the anchor made a difference there)
    # a panorama (no side edges) has none
    known_all = np.zeros((h, w), bool)
    known_all[70:170] = True
    assert estimate_layout(labels, known_all, SKY).anchors == ()


@pytest.mark.parametrize("dist, want", [(35.0, 60.0), (24.0, 48.0), (8.0, 40.0)])
def test_the_far_field_stands_as_far_as_the_world_stands_it(dist: float, want: float) -> None:
    """The painted far field's foot is at twice the distance of the photo's distant upright
    things (within 40-60 m), the world's rule for its far radius, and the world stands it
    there (its `far_radius`, from the layout): drawn at 40 m while the world stood it at
    60 m (the Sceaux castle 41 m off), the treeline's lowest band lay on the ground."""
    from generators.pano_world import scene_layers
    from generators.panorama.layout import estimate_layout
    from scene.units import EYE_HEIGHT

    h, w = 256, 512
    _, lat = pano_lonlat(h)
    elev = np.broadcast_to(np.degrees(lat)[:, None], (h, w))
    foot = math.degrees(math.atan(-EYE_HEIGHT / dist))
    labels = np.where(elev > 12.0, SKY, np.where(elev < foot, GROUND, UPRIGHT)).astype(np.uint8)
    known = np.zeros((h, w), bool)
    known[70:200, 220:292] = True
    lay = estimate_layout(labels, known, SKY)
    assert lay.far_field == pytest.approx(want, rel=0.1), lay.sources["ground"]  # (rows: 0.7°)
    assert lay.as_dict()["far_field_m"] == pytest.approx(lay.far_field, abs=0.01)
    # the world stands its far field where it was drawn (a 60 m one too, for a photo whose
    # distant things its own rule would have put nearer)
    image = np.where(
        (labels == SKY)[..., None],
        (0.5, 0.65, 0.9),
        np.where((labels == GROUND)[..., None], 0.4, 0.3),
    ).astype(np.float32)
    for painted in (lay.far_field, 57.0):
        d = {**lay.as_dict(), "far_field_m": painted}
        _, _, est = scene_layers(image, classes=labels, known=known.astype(np.float32), layout=d)
        assert est["far_radius"]["value"] == pytest.approx(painted, abs=0.01)
        assert "outpainting" in est["far_radius"]["source"]
    # a record without one (older panoramas) keeps the world's own rule
    d = {k: v for k, v in lay.as_dict().items() if k != "far_field_m"}
    _, _, est = scene_layers(image, classes=labels, known=known.astype(np.float32), layout=d)
    assert "outpainting" not in est["far_radius"]["source"]


@pytest.mark.slow
def test_far_from_the_photo_the_outpainting_shows_the_layout() -> None:
    """Turned away from an outdoor photo: sky above a skyline, ground below — not the
    photo's rows stretched around the sphere."""
    from generators.panorama.outpaint_classical import outpaint_classical

    pano, known = place_photo(_outdoor_photo(), 60.0, 256)
    info: dict = {}
    out = outpaint_classical(pano, known, info=info)
    assert info["upper"] == "sky" and not info["layout"]["indoor"]
    cls = info["classes"]
    _, lat = pano_lonlat(cls.shape[0])
    back = cls.shape[1] // 10  # ~144° from the photo
    col = cls[:, back]
    assert (col[lat > math.radians(15)] == SKY).all()
    assert (col[lat < math.radians(-8)] == GROUND).all()
    # top to bottom: sky, at most a thin far band, then ground (no sky under the ground)
    first_ground = int(np.argmax(col == GROUND))
    last_sky = len(col) - 1 - int(np.argmax(col[::-1] == SKY))
    assert last_sky < first_ground and (col[first_ground:] == GROUND).all()
    assert first_ground - last_sky <= 6  # the far field: ~2° below to ~1° above
    # the sky there is blue, the ground darker
    h = out.shape[0]
    sky_px = out[int(0.2 * h), back * out.shape[1] // cls.shape[1]]
    ground_px = out[int(0.8 * h), back * out.shape[1] // cls.shape[1]]
    assert sky_px[2] > sky_px[0] + 0.1 and ground_px.mean() < sky_px.mean()


@pytest.mark.slow
def test_an_indoor_worlds_invented_room_is_the_painted_box() -> None:
    """The world's invented walls stand where the outpainting painted the room's creases
    (its room radius and ceiling come from the outpainting's layout, and say so)."""
    from generators.pano_world import world_from_photos

    rng = np.random.default_rng(2)
    h, w = 240, 320
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (0.75, 0.7, 0.6)  # plaster walls
    img[int(0.62 * h) :] = (0.45, 0.3, 0.18)  # a wooden floor from 62 % down
    img[int(0.3 * h) : int(0.62 * h), 40:90] = (0.2, 0.15, 0.1)  # a cabinet on the floor
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    import tempfile
    from pathlib import Path

    import cv2

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "room.png"
        cv2.imwrite(str(p), cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), 4))
        world, pano, _ = world_from_photos([p], resolution=256, pano_height=256)
    est = world.meta["estimates"]
    assert est["indoor"]["value"]
    lay = pano.meta["outpaint"]["layout"]
    assert lay["indoor"]
    assert "outpainting" in est["room_radius"]["source"]
    assert est["room_radius"]["value"] == pytest.approx(1.6 / lay["floor_tan"], rel=0.02)
    assert "outpainting" in est["ceiling_height"]["source"]


def test_the_sky_dome_continues_behind_things_where_the_sky_dips_below_the_horizon() -> None:
    """A photo looking up more than its estimated pitch shows sky below the horizon; a
    tower standing against it must not leave a hole in the dome when seen from the side
    (the demo world's launch towers did)."""
    from generators.pano_world import build_splats

    H, W = 128, 256
    lon, lat = pano_lonlat(H)
    lat2 = np.broadcast_to(lat[:, None], (H, W))
    tower = (np.abs(lon) < math.radians(8))[None, :] & (lat2 > math.radians(-9))
    tower &= lat2 < math.radians(20)
    sky = (lat2 > math.radians(-8)) & ~tower
    floor = 1.6 / np.maximum(np.sin(-lat2), 1e-3)
    depth = np.where(sky, 400.0, np.where(tower, 5.0, np.minimum(floor, 40.0))).astype(np.float32)
    image = np.where(sky[..., None], [0.3, 0.4, 0.8], [0.4, 0.35, 0.3]).astype(np.float32)
    cloud = build_splats(
        image, depth, sky, eye_height=1.6, radius=5.0, background=False, sky_radius=400.0
    )
    v = cloud.means - np.array([0.0, 1.6, 0.0])
    d = np.linalg.norm(v, axis=1)
    s_lon = np.degrees(np.arctan2(v[:, 0], -v[:, 2]))
    s_lat = np.degrees(np.arcsin(v[:, 1] / d))
    behind = (d > 300) & (np.abs(s_lon) < 6) & (s_lat > -6) & (s_lat < -2)
    assert behind.sum() >= 3  # dome splats behind the tower, below the horizon


def test_the_sky_dome_reaches_below_the_far_field_in_the_far_fields_colours() -> None:
    """Seen from a few metres up the eye looks over the far field's top; below the horizon
    the dome goes on to DOME_BELOW_DEG in the panorama's own colours there (the far
    terrain). It stopped at the floor's level at the dome (0.2° down): 3 m above a
    panorama's rock a black slab 8° tall lay between the hills and the sky."""
    from generators.pano_world import DOME_BELOW_DEG, build_splats
    from scene.gaussians import sh0_to_rgb

    H, W = 128, 256
    _, lat = pano_lonlat(H)
    lat2 = np.broadcast_to(lat[:, None], (H, W))
    sky = lat2 > math.radians(2)
    hills = (lat2 <= math.radians(2)) & (lat2 > math.radians(-4))
    floor = 1.6 / np.maximum(np.sin(-lat2), 1e-3)
    depth = np.where(sky, 400.0, np.where(hills, 20.0, np.minimum(floor, 20.0)))
    image = np.where(sky[..., None], [0.3, 0.4, 0.8], [0.2, 0.35, 0.15]).astype(np.float32)
    cloud = build_splats(
        image,
        depth.astype(np.float32),
        sky,
        eye_height=1.6,
        radius=5.0,
        background=False,
        sky_radius=400.0,
    )
    v = cloud.means - np.array([0.0, 1.6, 0.0])
    d = np.linalg.norm(v, axis=1)
    s_lat = np.degrees(np.arcsin(np.clip(v[:, 1] / d, -1, 1)))
    band = (d > 300) & (s_lat < -2) & (s_lat > -DOME_BELOW_DEG + 1)
    assert band.sum() >= 50
    rgb = sh0_to_rgb(cloud.sh0[band]).mean(0)
    assert rgb[1] > rgb[2], "the band below the horizon has the terrain's green, not sky"


def test_the_sky_dome_keeps_no_copy_of_a_mast_left_in_the_sky_class() -> None:
    """A mast's thin dark lattice lost whole in the sky class: the photo's splats stand it on
    its base (`_standing_on_base`), so the dome behind must be sky-coloured there, or a dark
    copy of the mast stays in the sky when the walker steps aside (the demo world)."""
    from generators.pano_world import DOME_BEHIND, build_splats

    H, W = 256, 512
    lon, lat = pano_lonlat(H)
    lat2 = np.broadcast_to(lat[:, None], (H, W))
    sky = lat2 > 0
    image = np.where(sky[..., None], [0.2, 0.3, 0.6], [0.3, 0.25, 0.2]).astype(np.float32)
    mast = (np.abs(np.degrees(lon)) < 0.5)[None, :] & (lat2 > 0) & (lat2 < math.radians(30))
    image[mast] = (0.03, 0.03, 0.04)
    floor = 1.6 / np.maximum(np.sin(-lat2), 1e-3)
    depth = np.where(sky, 400.0, np.minimum(floor, 40.0)).astype(np.float32)
    cloud = build_splats(
        image, depth, sky, eye_height=1.6, radius=5.0, background=False, sky_radius=400.0
    )
    v = cloud.means - np.array([0.0, 1.6, 0.0])
    d = np.linalg.norm(v, axis=1)
    s_lon = np.degrees(np.arctan2(v[:, 0], -v[:, 2]))
    s_lat = np.degrees(np.arcsin(np.clip(v[:, 1] / d, -1, 1)))
    dome = (d > 400 * (DOME_BEHIND - 0.01)) & (np.abs(s_lon) < 1.0) & (s_lat > 5) & (s_lat < 25)
    assert dome.sum() >= 3
    from scene.gaussians import sh0_to_rgb

    rgb = sh0_to_rgb(cloud.sh0[dome])
    assert rgb.mean(0)[2] > 0.45, "the dome behind the mast is the sky's blue"


def test_looking_straight_down_shows_grain_not_streaks_from_the_nadir() -> None:
    """Equirect texture pinches to a point at the poles (rows become rays from the nadir);
    laid on the floor plane (`_planar_caps`) it is the same grain in every direction."""
    from generators.panorama.outpaint_classical import _planar_caps
    from generators.panorama.texture import adsn_texture

    rng = np.random.default_rng(5)
    ex = np.clip(0.5 + 0.15 * rng.standard_normal((24, 24, 3)), 0, 1).astype(np.float32)
    import cv2

    ex = cv2.GaussianBlur(ex, (0, 0), 1.0)
    eq = adsn_texture(ex, (256, 512), seed=1)
    capped = _planar_caps(eq, adsn_texture(ex, (512, 512), seed=2))

    def tangential_share(tex: np.ndarray) -> float:
        view = equirect_to_perspective(
            tex + 0.5, perspective_camera(200, 200, 80.0, pitch=-math.pi / 2 + 1e-3)
        )[..., 0]
        gy, gx = np.gradient(view.astype(np.float64))
        yy, xx = np.mgrid[0:200, 0:200] - 99.5
        r = np.hypot(xx, yy)
        ring = (r > 15) & (r < 90)
        radial = (gx * xx + gy * yy) / np.maximum(r, 1e-6)
        tang = (-gx * yy + gy * xx) / np.maximum(r, 1e-6)
        return float((tang[ring] ** 2).sum() / ((radial[ring] ** 2).sum() + 1e-12))

    assert tangential_share(eq) > 3.0  # streaks radiating from the nadir
    assert 0.6 < tangential_share(capped) < 1.6  # direction-free grain


def test_the_ground_is_the_floor_plane_to_the_horizon_averaged_not_aliased() -> None:
    """A turned view of an invented ground: laid on the floor plane down to the horizon
    (`_planar_caps(..., 0, 0.5)`), the grain fades as distance averages it (mip levels by
    footprint) — no band of equirect texture with one foreshortening at every elevation
    (read as waves), no aliased noise at the horizon — and a ground exemplar cut at 15°
    below the horizon is stretched towards the plane's proportions (1/(sin·cos) = 4x),
    as far as MAX_RECTIFY allows (farther, the far ground's grain became blotches)."""
    from generators.panorama.outpaint_classical import MAX_RECTIFY, _planar_caps, _rectified
    from generators.panorama.texture import adsn_texture

    rng = np.random.default_rng(5)
    ex = np.clip(0.5 + 0.15 * rng.standard_normal((24, 24, 3)), 0, 1).astype(np.float32)
    eq = adsn_texture(ex, (256, 512), seed=1)
    capped = _planar_caps(eq, adsn_texture(ex, (512, 512), seed=2), 0.0, 0.5)
    _, lat = pano_lonlat(256)
    elev = np.degrees(lat)

    def row_std(band: tuple[float, float]) -> float:
        rows = (elev < -band[0]) & (elev > -band[1])
        return float(capped[rows].std())

    near, mid, far = row_std((40, 60)), row_std((10, 20)), row_std((0.5, 2.5))
    assert near > mid > far
    assert far < 0.25 * near  # the horizon is the ground's average colour, not noise
    # anisotropic filtering: the mip level of the footprint's short (tangential) axis, so
    # the grain along the rows survives farther out (one level of the footprint's mean
    # axis left 0.13 of it at 10-20°, blotches that read as puddles; 0.24 now)
    assert mid > 0.2 * near
    assert row_std((70, 89)) > 0.5 * near  # looking down keeps the grain
    rect = _rectified(ex, 128 + 256 * 15 / 180, 256)
    assert MAX_RECTIFY > 1.0
    assert rect.shape[1] == 24 and abs(rect.shape[0] - 24 * min(4.0, MAX_RECTIFY)) <= 1
    assert _rectified(ex, 128 + 256 * 45 / 180, 256).shape[0] == 48


def test_sky_needs_half_of_the_top_band() -> None:
    """A tree crown may fill part of the top of an outdoor view; a light backdrop or wall
    filling less than half of it is no sky (a studio portrait was judged outdoors)."""
    from generators.panorama.classes import classify_view

    h, w = 200, 300
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (0.35, 0.25, 0.18)  # dark wood
    rng = np.random.default_rng(0)
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    backdrop = img.copy()
    backdrop[:, : int(0.4 * w)] = (0.8, 0.8, 0.8)  # a light-grey backdrop, 40 % wide
    assert not (classify_view(np.clip(backdrop, 0, 1), h / 2) == SKY).any()
    outdoor = img.copy()
    outdoor[: h // 2, : int(0.6 * w)] = (0.55, 0.7, 0.95)  # blue sky, 60 % of the top
    assert (classify_view(np.clip(outdoor, 0, 1), h / 2) == SKY).mean() > 0.2


@pytest.mark.slow
def test_a_distant_building_across_a_square_gives_the_radius(tmp_path) -> None:
    """Outdoors, a facade meeting the ground tens of metres away is the distance (it was
    reported as the 8 m default, "nothing in the photo to measure")."""
    import cv2

    from generators.pano_world import world_from_photos

    h, w = 240, 320
    rng = np.random.default_rng(3)
    img = np.zeros((h, w, 3), np.float32)
    img[: int(0.42 * h)] = (0.55, 0.72, 0.97)  # sky
    img[int(0.42 * h) : int(0.55 * h)] = (0.75, 0.6, 0.45)  # a long facade
    img[int(0.42 * h) : int(0.55 * h), ::12] = (0.3, 0.25, 0.2)  # its windows
    img[int(0.55 * h) :] = (0.62, 0.6, 0.55)  # gravel
    img[int(0.55 * h) :] += rng.normal(0, 0.04, (h - int(0.55 * h), w, 3)).astype(np.float32)
    path = tmp_path / "square.png"
    cv2.imwrite(str(path), cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), 4))
    world, _, _ = world_from_photos([path], fov=60.0, level=False, pano_height=512)
    est = world.meta["estimates"]
    assert not est["indoor"]["value"]
    assert 15.0 <= est["radius"]["value"] <= 60.0, est["radius"]
    assert "default" not in est["radius"]["source"]


@pytest.mark.slow
def test_a_building_beside_open_ground_gives_the_radius(tmp_path) -> None:
    """A facade standing ~35 m off over a third of the photo, a tree line beyond 60 m over
    the rest: the facade's contacts are the distance. Taken as a median over every column
    of the photo, the far ones outvoted it and the radius fell to the 8 m default (a
    re-encoded copy of a real photo: 8 m, the original: 40 m)."""
    import cv2

    from generators.pano_world import world_from_photos

    h, w = 240, 320
    f = (w / 2) / math.tan(math.radians(30))
    foot_near = round(h / 2 + f * math.tan(math.radians(2.6)))  # ~35 m at 1.6 m eye height
    foot_far = round(h / 2 + f * math.tan(math.radians(0.7)))  # ~130 m
    rng = np.random.default_rng(4)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (0.55, 0.72, 0.97)  # sky
    img[int(0.38 * h) : foot_far, 110:] = (0.25, 0.38, 0.2)  # a tree line far off
    img[int(0.30 * h) : foot_near, :110] = (0.75, 0.6, 0.45)  # a facade nearer
    img[int(0.30 * h) : foot_near, :110:12] = (0.3, 0.25, 0.2)  # its windows
    img[foot_near:, :110] = (0.62, 0.6, 0.55)  # gravel
    img[foot_far:, 110:] = (0.62, 0.6, 0.55)
    img[foot_far:] += rng.normal(0, 0.04, (h - foot_far, w, 3)).astype(np.float32)
    path = tmp_path / "square.png"
    cv2.imwrite(str(path), cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), 4))
    world, _, _ = world_from_photos([path], fov=60.0, level=False, pano_height=512)
    est = world.meta["estimates"]
    assert "default" not in est["radius"]["source"], est["radius"]
    assert 20.0 <= est["radius"]["value"] <= 60.0, est["radius"]


def test_a_sky_exemplar_with_thin_verticals_gives_grain_not_rain() -> None:
    """The photo's plainest window of sky can hold a launch tower's faint girders (the
    coarse class calls them sky): synthesised with their orientation, the invented sky
    was streaked with vertical 'rain' all round. The sky's grain is isotropic, as the
    walls' is: gradient energy across and along the rows about equal."""
    from generators.panorama.outpaint_classical import SKY, _class_texture

    ht, wt = 128, 256
    rng = np.random.default_rng(4)
    img = np.empty((ht, wt, 3), np.float32)
    img[:] = (0.12, 0.18, 0.35)
    img += 0.01 * rng.standard_normal((ht, wt, 1)).astype(np.float32)
    img[:, ::6] -= 0.05  # faint girders every 6 columns
    known = np.zeros((ht, wt), bool)
    known[20:90, 80:180] = True
    labels = np.full((ht, wt), SKY, np.uint8)
    noise = rng.standard_normal((ht, wt)).astype(np.float32)
    tex, size = _class_texture(img, known, labels, SKY, noise)
    assert size is not None
    band = tex[40:60].mean(-1)  # near the horizon: the equirect texture, not the caps
    gx = float((np.diff(band, axis=1) ** 2).mean())
    gy = float((np.diff(band, axis=0) ** 2).mean())
    assert 0.5 < gx / gy < 2.0


def test_a_box_room_is_darker_in_its_corners_and_along_its_edges() -> None:
    """The invented room was flat colour planes meeting at hairlines (fog more than a
    room): its corners and the lines where walls meet floor and ceiling now take less
    light on the walls' side (ambient occlusion), the middle of a wall at eye height none;
    the floor and ceiling keep theirs (their creases stay sharp); outdoors nothing."""
    from generators.panorama.layout import OCCLUSION, box_occlusion

    h = 256
    room = Layout(indoor=True, floor_tan=0.4, ceiling_tan=0.27)  # a square box, R = 4 m
    ao = box_occlusion(room, h)
    lon, lat = pano_lonlat(h, 2 * h)

    def at(lon_deg: float, lat_deg: float) -> float:
        return float(
            ao[
                np.argmin(np.abs(lat - math.radians(lat_deg))),
                np.argmin(np.abs(lon - math.radians(lon_deg))),
            ]
        )

    assert at(90.0, 0.0) > 0.99  # mid-wall, eye height
    assert at(45.0, 0.0) < 1.0 - 0.8 * OCCLUSION  # a vertical corner
    floor_line = math.degrees(math.atan(-0.4))  # mid-wall's foot, 90° round
    assert at(90.0, floor_line + 0.5) < 1.0 - 0.5 * OCCLUSION
    assert at(45.0, -5.0) < at(90.0, -5.0)  # a corner darker than mid-wall at any height
    assert at(90.0, floor_line - 3.0) == 1.0  # the floor itself keeps its colour
    assert np.all(box_occlusion(Layout(indoor=False), h) == 1.0)


def test_a_far_band_of_relief_is_smoother_than_a_treeline() -> None:
    """Where the photo shows no foliage the far band is relief seen from afar (hills,
    roofs): its fine roughness falls off as 1/k^RELIEF_SPECTRUM, not as a treeline's 1/k
    crowns. At 1/k the Great Wall's far mountains and a castle's grey far band were narrow
    spikes. The slow rise and fall (its waves over tens of degrees) is the same."""
    h = 512
    base = Layout(False, ground_tan=-0.04, skyline_deg=8.0, skyline_var=0.4, skyline_rough=0.3)
    trees = _skyline(layout_classes(base, h, seed=4))
    relief = _skyline(layout_classes(Layout(**{**base.__dict__, "treeline": False}), h, seed=4))
    assert base.as_dict()["far_band"] == "treeline"
    assert Layout(**{**base.__dict__, "treeline": False}).as_dict()["far_band"] == "relief"

    def fine(s: np.ndarray) -> float:  # std-dev about a ~3° running mean
        k = max(3, int(3.0 / 360.0 * 2 * h) | 1)
        m = np.convolve(np.concatenate([s[-k:], s, s[:k]]), np.ones(k) / k, "same")[k:-k]
        return float(np.std(s - m))

    assert fine(relief) < 0.75 * fine(trees), (fine(relief), fine(trees))  # (0.58-0.64)

    def slow(s: np.ndarray) -> np.ndarray:  # the waves over ~40°
        k = int(40.0 / 360.0 * 2 * h) | 1
        return np.convolve(np.concatenate([s[-k:], s, s[:k]]), np.ones(k) / k, "same")[k:-k]

    assert np.corrcoef(slow(relief), slow(trees))[0, 1] > 0.9
