"""Sky, ground and upright structure in one outdoor view (issue 14: wrong classes)."""

from __future__ import annotations

import numpy as np

from generators.panorama.classes import GROUND, SKY, UPRIGHT, classify_view

H, W, HORIZON = 240, 320, 130.0


def _plaza(rng: np.random.Generator) -> np.ndarray:
    """A sunny plaza: sky, a facade with windows, a plain white wall rising above the
    horizon, a vivid red box standing below it, a band of sunlit gravel and, nearest the
    camera, gravel in the facade's bluish shadow (the bottom band)."""
    img = np.zeros((H, W, 3), np.float32)
    img[:100] = (0.55, 0.72, 0.95)  # sky
    img[100:170] = (0.78, 0.70, 0.58)  # facade
    for c in range(90, 250, 24):  # windows: dark, with vertical edges
        img[108:160, c : c + 10] = (0.18, 0.2, 0.24)
    img[170:186] = (0.95, 0.94, 0.90)  # sunlit gravel, nearly white
    img[186:] = (0.33, 0.37, 0.48)  # gravel in shade
    img[60:184, 262:300] = (0.90, 0.90, 0.88)  # a plain white wall...
    img[184:186, 262:300] = (0.25, 0.25, 0.25)  # ... with its contact shadow
    img[150:184, 20:60] = (0.80, 0.12, 0.10)  # a red box
    img[184:186, 20:60] = (0.25, 0.25, 0.25)
    img += rng.normal(0.0, 0.008, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def test_sunlit_ground_beyond_the_shade_is_ground() -> None:
    """The bottom band holds only the shaded gravel; the sunlit gravel beyond it (another
    colour: bright, warm, where the shade is bluish) is plain, below the horizon and
    touches it, so it is ground too. The plain white wall, which rises above the horizon,
    and the vivid red box stay upright; so does the facade."""
    labels = classify_view(_plaza(np.random.default_rng(0)), HORIZON)
    assert (labels[:90] == SKY).mean() > 0.9
    assert (labels[195:] == GROUND).mean() > 0.9
    strip = labels[174:183, 70:250]
    assert (strip == GROUND).mean() > 0.8, "the sunlit gravel should be ground"
    assert (labels[140:180, 266:296] == UPRIGHT).all(), "the white wall is upright"
    assert (labels[154:180, 24:56] == UPRIGHT).all(), "the red box is upright"
    assert (labels[105:165, 90:250] == UPRIGHT).mean() > 0.95


def test_a_person_filling_the_bottom_band_is_no_ground() -> None:
    """The cameraman: a dark coat fills 40 % of the bottom band, more of it than either
    shade of the grass, and rises far above the horizon. Taken as the ground's main colour,
    his coat's lower half (and then the plain dark cloth cut off by its folds) was ground:
    from 2 m aside it lay flat on the floor. A colour whose columns run up from the band
    past the horizon is a thing standing on the ground; the grass stays ground, and so
    does a court that meets a facade of its own colour (the facade's windows break its
    columns)."""
    rng = np.random.default_rng(3)
    img = np.zeros((H, W, 3), np.float32)
    img[:110] = 0.85  # a pale grey sky (a grayscale photo: no hue to tell things apart)
    rows = np.arange(H)[:, None]
    grass = 0.5 + 0.12 * (rng.random((H, W)) > 0.5)  # two shades of grass
    img[110:] = grass[110:, :, None]
    img[110:118, 150:] = 0.35  # far trees and buildings on the skyline
    coat = (np.arange(W)[None, :] < 128) & (rows > 40)
    img[coat] = 0.06
    img[150:152, :128] = 0.1  # a fold across the coat, below the horizon
    img += rng.normal(0.0, 0.01, img.shape).astype(np.float32)
    labels = classify_view(np.clip(img, 0, 1), HORIZON)
    assert (labels[140:, 10:120] == UPRIGHT).mean() > 0.95, "the coat stands"
    assert (labels[150:, 150:] == GROUND).mean() > 0.95, "the grass is ground"
    # the plaza's court has the facade's colour family but its windows break the columns
    labels = classify_view(_plaza(np.random.default_rng(0)), HORIZON)
    assert (labels[195:] == GROUND).mean() > 0.9


def test_plain_ground_needs_the_sky() -> None:
    """Indoors (no sky) only the bottom band's palette is floor: a plain light surface
    above a floor (a wall, a sofa's face) is not joined to it."""
    img = _plaza(np.random.default_rng(1))
    img[:100] = (0.45, 0.40, 0.36)  # a ceiling, not sky
    labels = classify_view(img, HORIZON)
    assert not (labels == SKY).any()
    assert (labels[174:183, 70:250] == GROUND).mean() < 0.2


def _canopy(rng: np.random.Generator, sky_share: float) -> np.ndarray:
    """The plaza seen from under a tree: its crown's leaves (textured greens, blobs a few
    pixels across) fill the top 60 rows but for holes of sky, about `sky_share` of them."""
    import cv2

    img = _plaza(rng)
    holes = cv2.GaussianBlur(rng.random((60, W)).astype(np.float32), (0, 0), 10.0)
    sky = holes > np.quantile(holes, 1.0 - sky_share)
    leaves = np.stack([0.16 + 0.10 * rng.random((60, W)), 0.32 + 0.15 * rng.random((60, W)),
                       0.08 + 0.06 * rng.random((60, W))], -1)  # fmt: skip
    leaves = cv2.GaussianBlur(leaves.astype(np.float32), (0, 0), 0.7)
    img[:60] = np.where(sky[..., None], img[:60], leaves)
    return img


def test_a_photo_under_a_trees_crown_has_sky() -> None:
    """Taken under a tree, the top band is leaves with holes of sky (Sceaux 100_7110: 38 %
    sky, 70 % leaves): it has sky, so the world is outdoors; before, under half of the band
    looked like sky and the world became a room with a ceiling. Holes of sky too few to be
    more than a lit wall's patches (10 %) still are none, and a wall's colour noise is no
    foliage (tests/test_photo_horizon.py)."""
    labels = classify_view(_canopy(np.random.default_rng(4), 0.35), HORIZON)
    assert (labels[:100] == SKY).mean() > 0.4  # the holes, and the open sky below the leaves
    assert (labels[195:] == GROUND).mean() > 0.9
    indoor = _canopy(np.random.default_rng(4), 0.10)
    indoor[60:100] = (0.45, 0.40, 0.36)  # no sky below the leaves: a green painted wall
    assert not (classify_view(indoor, HORIZON) == SKY).any()


def test_sky_coloured_specks_in_the_sky_become_sky() -> None:
    """A photo's vignetted corner left a darker-blue speck of 'upright' in its sky, which
    stood at the wall's distance: a dark block in the sky 2 m aside. Specks on the photo's
    rim with a sky colour join the sky; a dark finial's tip inside the photo, a pale one
    inside it (its colour far from the sky around it) and a big building stay."""
    from generators.pano_layers import absorb_sky_islands

    H = 256
    img = np.zeros((H, 2 * H, 3), np.float32)
    img[:] = (0.55, 0.72, 0.95)
    classes = np.full((H, 2 * H), UPRIGHT, np.uint8)
    classes[: H // 2] = SKY
    known = np.zeros((H, 2 * H), np.float32)
    known[60:200, 200:320] = 1.0
    # vignetted corner of the photo: darker blue, on its rim
    classes[60:62, 318:320] = UPRIGHT
    img[60:62, 318:320] = (0.42, 0.62, 0.90)
    # a finial's tip inside the photo: dark, and a pale grey one
    classes[90:93, 250:252] = UPRIGHT
    img[90:93, 250:252] = (0.15, 0.15, 0.18)
    classes[90:93, 270:272] = UPRIGHT
    img[90:93, 270:272] = (0.62, 0.66, 0.74)
    # a building rising into the sky (big)
    classes[80:128, 100:160] = UPRIGHT
    out = absorb_sky_islands(img, classes, known)
    assert (out[60:62, 318:320] == SKY).all()
    assert (out[90:93, 250:252] == UPRIGHT).all()
    assert (out[90:93, 270:272] == UPRIGHT).all()
    assert (out[80:128, 100:160] == UPRIGHT).all()
    assert (out[H // 2 :] == classes[H // 2 :]).all()
    # indoors (no sky) nothing changes
    indoor = np.where(classes == SKY, UPRIGHT, classes).astype(np.uint8)
    assert (absorb_sky_islands(img, indoor, known) == indoor).all()


def test_a_speck_at_the_seam_of_a_small_panorama_is_no_crash() -> None:
    """`world --panorama` of a 512 x 256 panorama failed with an internal error (a trial):
    a speck of non-sky at the ±180° seam also lies in the wrap-around padding, where it
    made a component with no pixel in the panorama itself."""
    from generators.pano_layers import SKY, absorb_sky_islands

    h, w = 256, 512  # a speck of a few pixels is an island at this size
    classes = np.full((h, w), SKY, np.uint8)
    classes[40, w - 1] = 0  # upright, on the seam's last column
    img = np.full((h, w, 3), (0.5, 0.7, 0.95), np.float32)
    out = absorb_sky_islands(img, classes, None)
    assert out.shape == classes.shape and out[40, w - 1] == SKY  # a sky-coloured speck: sky


def _court(rng: np.random.Generator, edge_row: float) -> np.ndarray:
    """A gravel court under a facade: sunlit gravel (bright, textured: no plain region)
    from the facade's foot down to a soft shadow edge at `edge_row`, below it the same
    gravel in shade, with sunlit flecks in the bottom band (so both colours are in the
    ground's palette). The shadow's edge is a 3-row blend of the two."""
    img = np.zeros((H, W, 3), np.float32)
    img[:100] = (0.55, 0.72, 0.95)  # sky
    img[100:150] = (0.78, 0.70, 0.58)  # facade
    for c in range(40, 300, 24):  # windows
        img[108:140, c : c + 10] = (0.18, 0.2, 0.24)
    sun, shade = np.array((0.80, 0.78, 0.74)), np.array((0.31, 0.32, 0.36))
    rows = np.arange(150, H, dtype=np.float32)
    t = np.clip((rows - edge_row) / 3.0 + 0.5, 0.0, 1.0)[:, None, None]  # 0: sun, 1: shade
    img[150:] = (1 - t) * sun + t * shade
    flecks = rng.random((H - 216, W)) < 0.2
    img[216:][flecks] = sun
    # gravel grain: too textured for the "plain ground" rule
    img[150:] += rng.normal(0.0, 0.03, (H - 150, W, 1)).astype(np.float32)
    return np.clip(img, 0, 1)


def test_ground_across_a_soft_shadow_edge_does_not_depend_on_where_it_falls() -> None:
    """The blend along a shadow's soft edge is ground colour (between two palette colours
    of one hue), so the sunlit gravel beyond it is ground wherever the edge falls on the
    pixel grid. Measured only against the palette's centres, the edge's mid-tones were
    no ground: whether a one-pixel gap cut the sunlit court off from the bottom band
    flipped with a 0.1° change of a real photo's pitch, and with it the world's radius
    (13.6 m against 40 m for the same castle)."""
    rng = np.random.default_rng(1)
    for edge in (180.0, 180.33, 180.5, 180.67, 181.0):
        labels = classify_view(_court(rng, edge), HORIZON)
        sunlit = labels[155:176, 10:310]
        assert (sunlit == GROUND).mean() > 0.8, f"edge at {edge}: sunlit gravel not ground"
        assert (labels[110:140] == GROUND).mean() < 0.02  # the facade stays upright


def test_palette_distance_spans_light_and_shade_of_one_hue_only() -> None:
    from generators.panorama.classes import palette_distance

    shade, sun, grass = (40.0, 0.0, -10.0), (80.0, 1.0, -4.0), (50.0, -40.0, 40.0)
    centres = np.array([shade, sun, grass], np.float32)
    blend = np.array([60.0, 0.5, -7.0], np.float32)  # half way between shade and sun
    assert palette_distance(blend, centres) < 1.0
    # half way between the shade and the grass (another hue): no ground colour
    mix = (np.array(shade) + np.array(grass)) / 2
    assert palette_distance(mix.astype(np.float32), centres) > 20.0


def test_a_dark_bluish_hillside_under_a_hazy_sky_is_no_sky() -> None:
    """A drone frame of the Great Wall: hazy pale sky at the top, beside it a hillside in
    shadow up to the frame's top, smooth and bluish. Sky-like by hue, it was sky, and
    stood at the sky's distance in pieces. A colour less than half as bright as the top's
    sky is no sky; the rocket's dusk sky, dark all over, stays sky."""
    rng = np.random.default_rng(4)
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (0.55, 0.58, 0.68)  # haze
    img[:150, :110] = (0.14, 0.16, 0.22)  # the shaded hillside, up to the frame's top
    img[150:] = (0.45, 0.35, 0.25)  # sunlit slope and ground below
    img += rng.normal(0.0, 0.004, img.shape).astype(np.float32)
    labels = classify_view(np.clip(img, 0, 1), HORIZON)
    assert (labels[:100, 130:] == SKY).mean() > 0.9
    assert (labels[:140, :100] == SKY).mean() < 0.05, "the dark hillside is no sky"
    # ... nor one within 0.4 (RGB) of a dimmer haze: near the top's sky in colour, it was
    # sky whatever its brightness (the Great Wall frames' mountainsides, 13-57 % "sky")
    img[:] = (0.4, 0.43, 0.5)
    img[:150, :110] = (0.19, 0.2, 0.26)
    img[150:] = (0.45, 0.35, 0.25)
    img += rng.normal(0.0, 0.004, img.shape).astype(np.float32)
    labels = classify_view(np.clip(img, 0, 1), HORIZON)
    assert (labels[:100, 130:] == SKY).mean() > 0.9
    assert (labels[:140, :100] == SKY).mean() < 0.05, "the dim hillside is no sky"
    dusk = np.zeros((H, W, 3), np.float32)
    rows = np.arange(H, dtype=np.float32)[:, None]
    dusk[:] = (0.06, 0.1, 0.22)
    dusk[:130] += (rows[:130] / 130.0)[..., None] * np.array([0.1, 0.12, 0.15], np.float32)
    dusk[130:] = (0.08, 0.07, 0.06) + 0.03 * rng.random((H - 130, W, 1)).astype(np.float32)
    labels = classify_view(np.clip(dusk, 0, 1), HORIZON)
    assert (labels[:120] == SKY).mean() > 0.9, "a dusk sky dark at its top is still sky"


def _room(rng: np.random.Generator, floor: tuple[float, float, float]) -> np.ndarray:
    """A room seen looking down (horizon at row 80): a grey wall from the top to its foot
    at row 170, with a dark rail across it just above the horizon, the `floor` below;
    the left 180 columns a side wall close by, grey down to the view's bottom."""
    img = np.zeros((H, W, 3), np.float32)
    img[:] = (0.45, 0.44, 0.42)
    img[60:63] = (0.10, 0.10, 0.10)  # a rail: the wall's colour runs are broken above it
    img[170:, 180:] = floor
    img += rng.normal(0.0, 0.006, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def test_an_indoor_wall_below_the_horizon_is_upright() -> None:
    """Indoors the floor never reaches the horizon: the wall, of a colour the bottom band
    also shows (the side wall), carries on through it, so its part below the horizon is
    upright down to its foot, and the side wall all the way down (a door photo's white wall
    lay on the floor as a pale skirt). The carpet under the wall's foot is ground."""
    labels = classify_view(_room(np.random.default_rng(1), (0.06, 0.06, 0.12)), 80.0)
    assert not (labels == SKY).any()
    assert (labels[95:165, 190:310] == UPRIGHT).mean() > 0.95
    assert (labels[95:, 5:170] == UPRIGHT).mean() > 0.95
    assert (labels[180:, 190:310] == GROUND).mean() > 0.95


def test_a_floor_of_the_walls_colour_stays_ground() -> None:
    """A floor of nearly the walls' colour gives no wall foot to stand the walls on: the
    columns keep their ground (taking it all for wall would lose the floor)."""
    labels = classify_view(_room(np.random.default_rng(1), (0.42, 0.41, 0.40)), 80.0)
    assert (labels[180:, 190:310] == GROUND).mean() > 0.95


def _cloudy(rng: np.random.Generator) -> np.ndarray:
    """A field under a cloudy sky (horizon at row 130): blue sky with soft white clouds
    whose fine texture breaks the smooth-pixel test, dark trees along the skyline, green
    ground below."""
    img = np.zeros((H, W, 3), np.float32)
    rows = np.arange(H)[:, None]
    img[:] = (0.45, 0.62, 0.92)
    img += (rows / H * 0.15)[..., None]  # lighter towards the horizon
    yy, xx = np.mgrid[0:H, 0:W]
    for cy, cx, ry, rx in ((25, 60, 14, 40), (45, 200, 18, 55), (70, 110, 12, 35)):
        d = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        cloud = np.clip(1.2 - d, 0, 1)[..., None]
        grain = rng.normal(0.0, 0.05, (H, W, 1)).astype(np.float32)
        img = img * (1 - cloud) + (np.float32(0.9) + grain) * cloud
    img[105:130] = (0.12, 0.2, 0.1)  # a treeline
    img[130:] = (0.3, 0.45, 0.2)  # a meadow
    img += rng.normal(0.0, 0.006, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def test_soft_textured_clouds_are_sky() -> None:
    """Clouds textured at the pixel scale (their soft edges and grain) are sky: regions of
    the over-segmented view that are soft, neutral or blue, bright and joined to the top,
    no lower than the sky around them (the pixel test alone left the clouds out: a
    sunflower field's sky was 17 % of its photo, the clouds holes in it). The treeline and
    meadow stay out."""
    labels = classify_view(_cloudy(np.random.default_rng(2)), 130.0)
    assert (labels[:100] == SKY).mean() > 0.95
    assert not (labels[108:] == SKY).any()


def _sunset(rng: np.random.Generator, sky: tuple[float, float, float]) -> np.ndarray:
    """A backlit view (horizon at row 130): the `sky` colour with dark palm fronds over 60 %
    of the top band and around, then dark ground."""
    img = np.zeros((H, W, 3), np.float32)
    img[:] = sky
    fronds = rng.random((H // 16, W // 16)) < 0.6
    fronds = np.kron(fronds, np.ones((16, 16), bool))
    img[:60][fronds[:60]] = (0.08, 0.08, 0.09)
    img[110:] = (0.15, 0.12, 0.1)
    img += rng.normal(0.0, 0.006, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def test_a_blue_sky_behind_dark_fronds_makes_the_view_an_outdoor_one() -> None:
    """A top band under half sky-like (dark palm fronds fill the rest) has sky when a good
    part of it is blue (a sunset behind palms became a room with a ceiling); the same
    share of a pale warm colour (a lit wall) does not."""
    blue = classify_view(_sunset(np.random.default_rng(3), (0.5, 0.6, 0.72)), 130.0)
    assert (blue == SKY).any()  # what makes the world an outdoor one (`outpaint_classical`)
    wall = classify_view(_sunset(np.random.default_rng(3), (0.8, 0.74, 0.62)), 130.0)
    assert not (wall == SKY).any()
