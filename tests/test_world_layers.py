"""Issue 14 round 2: the layer rules that keep walking views free of slabs, combs and frames."""

from __future__ import annotations

import numpy as np

from generators.pano_layers import (
    EDGE_RATIO,
    GROUND,
    RAMP_SLOPE,
    SKY,
    UPRIGHT,
    continue_background,
    ground_contacts,
    image_supported_steps,
    layered_depth,
    merge_narrow_layers,
    refine_sky_edge,
    room_shading,
)
from generators.panorama.projection import pano_lonlat


def _lat_deg(H: int) -> np.ndarray:
    _, lat = pano_lonlat(H)
    return np.degrees(lat)[:, None] * np.ones((1, 2 * H))


def test_a_bush_with_ground_above_it_lies_on_the_ground() -> None:
    """Ground, a low blob, ground again, then the far upright: the contact is the top of
    the ground (a slab only where an upright really stands)."""
    H = 128
    lat = _lat_deg(H)
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat > 20] = SKY
    cls[lat < -5] = GROUND  # ground runs up to 5° below the horizon
    bush = (lat < -25) & (lat > -35)
    bush[:, :100] = False
    bush[:, 120:] = False
    cls[bush] = UPRIGHT  # a bush near the eye, ground visible above it
    d, _ = ground_contacts(cls, 1.6, 40.0)
    far_contact = 1.6 / np.tan(np.radians(5.0))
    assert np.all(d[104:116] > 0.6 * far_contact), d[100:120]  # not the bush's 2-3 m
    # a pillar (upright from its foot to the sky, no ground above) does stand at its foot
    cls2 = cls.copy()
    cls2[bush] = GROUND
    cls2[:, 100:112][lat[:, 100:112] > -35] = UPRIGHT
    cls2[:, 100:112][lat[:, 100:112] > 20] = SKY
    d2, _ = ground_contacts(cls2, 1.6, 40.0)
    np.testing.assert_allclose(d2[103:109], 1.6 / np.tan(np.radians(35)), rtol=0.1)


def test_narrow_layers_merge_into_a_neighbour_and_wide_ones_stay() -> None:
    x = np.full(360, 5.0)
    x[100:103] = 6.0  # a ramp of thin steps between 5 m and 16 m
    x[103:105] = 8.0
    x[105:160] = 16.0
    x[250:262] = 2.0  # a pillar, 12 columns wide
    y = merge_narrow_layers(x, 6)
    ratio = np.maximum(y, np.roll(y, 1)) / np.minimum(y, np.roll(y, 1))
    edges = np.nonzero(ratio >= EDGE_RATIO)[0]
    assert len(edges[(edges > 90) & (edges < 120)]) == 1, y[95:110]
    np.testing.assert_array_equal(y[250:262], 2.0)


def test_a_whole_outdoor_panorama_is_one_continuous_surface() -> None:
    """With the image (a real panorama, no photo edge), contacts have no vertical depth
    edge and none is nearer than their median."""
    H = 128
    lat = _lat_deg(H)
    rng = np.random.default_rng(0)
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat > 10] = SKY
    top = -8 - 25 * (rng.random(2 * H) < 0.1)  # scattered near "bushes"
    cls[lat < top[None, :]] = GROUND
    image = np.full((H, 2 * H, 3), 0.5, np.float32)
    L = layered_depth(cls, eye_height=1.6, radius=8.0, far=40.0, sky_radius=400.0, image=image)
    c = L.contact
    assert c.min() >= 0.999 * np.median(c)
    assert (np.maximum(c, np.roll(c, 1)) / np.minimum(c, np.roll(c, 1))).max() < EDGE_RATIO


def test_invented_room_is_a_box_with_shaded_creases() -> None:
    """Indoors the walls the photo did not see are planar (straight creases) and the
    room's shading darkens at the creases (floor, ceiling and vertical corners), not
    mid-wall; the side walls differ in light from the photo's wall and from each other."""
    H = 128
    lat = _lat_deg(H)
    lon, _ = pano_lonlat(H)
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < -15] = GROUND
    cls[lat > 30] = 3  # ceiling
    known = np.zeros((H, 2 * H), np.float32)
    known[40:90, 110:146] = 1.0  # the photo, straight ahead
    L = layered_depth(cls, eye_height=1.6, radius=4.0, far=8.0, sky_radius=30.0, known=known)
    back = np.abs(np.abs(lon) - np.pi) < np.radians(30)  # behind: one planar wall
    perp = L.contact[back] * np.abs(np.cos(lon[back]))
    np.testing.assert_allclose(perp, 4.0, rtol=0.02)
    ch = L.estimates["ceiling_height"]["value"]
    shade = room_shading(L.depth, L.contact, eye_height=1.6, ceiling_height=ch)
    col = int(np.argmin(np.abs(lon - np.pi * 0.99)))
    y = 1.6 + L.depth[:, col] * np.sin(np.radians(lat[:, col]))
    wall = (y > 0.05) & (y < ch - 0.05)
    mid = wall & (np.abs(y - ch / 2) < 0.3)
    lowest = np.nonzero(wall)[0].max()  # the wall's lowest pixel
    assert shade[lowest, col] < shade[mid, col].mean() - 0.05
    floor = np.nonzero(y < 0.02)[0]
    assert shade[floor.min(), col] < 0.75  # the floor at the wall's foot
    assert shade[mid, col].mean() > 0.95
    # the vertical corners darken too, and the walls at right angles to the photo's take
    # less light than it and the one behind (so the corners read as corners)
    mid_row = int(np.argmin(np.abs(lat[:, 0] - 5.0)))

    def at(deg: float) -> float:
        return float(shade[mid_row, int(np.argmin(np.abs(np.degrees(lon) - deg)))])

    for corner in (135.0, -135.0):
        assert at(corner) < at(corner - np.sign(corner) * 25.0) - 0.05
    left, right, behind = at(-90.0), at(90.0), at(179.0)
    assert behind > 0.97 and left < behind - 0.04 and right < behind - 0.04
    assert abs(left - right) > 0.02


def test_the_painted_floor_beside_the_photo_lies_on_the_floor_not_up_a_wall() -> None:
    """The outpainting paints its box room's floor crease from a few degrees beyond the
    photo on; the invented walls stand there as soon, so the painted floor between the
    photo's nearer wall and the box lies flat. Continued slowly (over 40 degrees) from the
    photo's edge, the walls stood nearer than the painted crease and its floor rose up them
    as a ramp beside the photo (the office photo: 1,409 floor pixels, a band up to 8 degrees
    high)."""
    H = 256
    lat = _lat_deg(H)
    lon, _ = pano_lonlat(H)
    lon_deg = np.degrees(lon)[None, :] * np.ones((H, 1))
    eye, near, room = 1.6, 2.2, 4.0  # the photo's wall at 2.2 m, the box's half-width 4 m
    m = np.maximum(np.abs(np.cos(lon)), np.abs(np.sin(lon)))[None, :]
    photo = np.abs(lon_deg) <= 30
    box = -np.degrees(np.arctan(eye * m / room))
    crease = np.where(photo, -np.degrees(np.arctan(eye / near)), box)
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < crease] = GROUND
    cls[lat > 40] = 3  # ceiling
    known = (photo & (lat > -40) & (lat < 25)).astype(np.float32)
    L = layered_depth(
        cls, eye_height=eye, radius=room, far=8.0, sky_radius=30.0, known=known, room_radius=room
    )
    floor = eye / np.sin(np.radians(np.maximum(-lat, 1e-3)))
    beside = (known < 0.5) & (cls == GROUND) & (lat < -1) & (np.abs(lon_deg) < 70)
    off = beside & (L.depth < floor / 1.05)
    assert beside.sum() > 1000
    assert off.sum() / beside.sum() < 0.01, off.sum() / beside.sum()


def test_nothing_the_photo_shows_rises_through_the_ceiling() -> None:
    """Indoors, a photo's upright pixels above the ceiling's height at their distance lie
    on the ceiling plane. Standing above it (a close-up's subject 10 m off: a cat's face
    6 m tall under a 4 m ceiling), they hid the ceiling behind their top from the eye, so
    no splat held it, and a step forward looked through a black gap there."""
    H = 128
    lat = _lat_deg(H)
    lon, _ = pano_lonlat(H)
    photo = np.abs(np.degrees(lon))[None, :] * np.ones((H, 1)) <= 30
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < -np.degrees(np.arctan(1.6 / 10.0))] = GROUND  # the photo's wall 10 m away
    cls[(lat > 12) & ~photo] = 3  # the invented ceiling beside and above
    known = (photo & (lat > -30) & (lat < 28)).astype(np.float32)
    cls[(lat >= 28) & photo] = 3
    L = layered_depth(
        cls,
        eye_height=1.6,
        radius=10.0,
        far=20.0,
        sky_radius=30.0,
        known=known,
        ceiling_height=4.0,
    )
    up = (cls == UPRIGHT) & (lat > 0)
    height = 1.6 + L.depth * np.sin(np.radians(lat))
    assert (known[up] > 0.5).any() and (height[up & (known > 0.5)] > 3.0).any()
    assert height[up].max() <= 4.0 + 1e-3


def test_a_halls_walls_stand_upright_to_the_photos_top() -> None:
    """A hall's far wall 12 m off, rising to the photo's top edge (24°), raises the
    ceiling above it (up to half the hall's half-width above the eye): the wall stands
    vertical to its top. Held at 4 m, everything the photo showed above 11° lay on the
    ceiling plane, and a palace staircase's columns leant away from mid-height when seen
    from a step aside."""
    H = 128
    lat = _lat_deg(H)
    lon, _ = pano_lonlat(H)
    photo = np.abs(np.degrees(lon))[None, :] * np.ones((H, 1)) <= 30
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < -np.degrees(np.arctan(1.6 / 12.0))] = GROUND
    cls[(lat > 12) & ~photo] = 3
    known = (photo & (lat > -30) & (lat < 24)).astype(np.float32)
    cls[(lat >= 24) & photo] = 3
    L = layered_depth(cls, eye_height=1.6, radius=12.0, far=24.0, sky_radius=40.0, known=known)
    wall = (cls == UPRIGHT) & (known > 0.5) & (lat > 0)
    across = L.depth * np.cos(np.radians(lat))  # horizontal distance of each ray's end
    cols = wall.any(0)
    top = np.argmax(wall, axis=0)[cols]
    assert np.all(np.abs(across[top, np.nonzero(cols)[0]] / L.contact[cols] - 1) < 0.02)
    ch = L.estimates["ceiling_height"]["value"]
    assert 1.6 + 12.0 * np.tan(np.radians(22)) <= ch <= 1.6 + 0.5 * 12.0 + 1e-3


def test_indoors_floor_coloured_panelling_does_not_push_its_wall_to_the_far_field() -> None:
    """A room (no sky) whose walls stand 4-5 m away, but in two stretches the wood
    panelling is classed as ground up to the horizon: those columns keep the room's
    typical wall distance instead of a contact tens of metres away (a slab and a wide
    depth edge when walking sideways)."""
    H = 128
    lat = _lat_deg(H)
    rng = np.random.default_rng(1)
    foot = -np.degrees(np.arctan(1.6 / rng.uniform(4.0, 5.0, 2 * H)))
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < foot[None, :]] = GROUND
    cls[lat > 40] = 3  # ceiling
    panel = np.zeros(2 * H, bool)
    panel[40:70] = panel[150:180] = True
    cls[:, panel] = np.where(lat[:, panel] < -1.0, GROUND, cls[:, panel])
    d, seen = ground_contacts(cls, 1.6, 60.0)
    assert np.all(d[panel] < 6.0), d[panel]
    assert not seen[45:65].any() and seen[~panel].mean() > 0.9
    assert 3.5 < np.median(d[~panel]) < 5.5  # the walls keep their own (row-quantised) contacts
    # outdoors (sky at the top) ground up to the horizon is a real far field
    cls[lat > 30] = SKY
    d_out, _ = ground_contacts(cls, 1.6, 60.0)
    assert np.all(d_out[45:65] > 30.0), d_out[45:65]


def test_revealed_background_continues_the_far_side_with_texture() -> None:
    """Behind a near occluder (flat red) beside a far textured surface (blue-grey): the
    hidden part is coloured from the far side only — not the occluder, not a flat blur —
    and carries the far side's fine texture."""
    h, w = 64, 128
    rng = np.random.default_rng(2)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (0.3, 0.4, 0.6)
    img += 0.08 * rng.standard_normal((h, w, 1)).astype(np.float32)
    depth = np.full((h, w), 8.0, np.float32)
    img[:, 30:70] = (0.9, 0.1, 0.1)  # the occluder
    depth[:, 30:70] = 2.0
    hole = np.zeros((h, w), bool)
    hole[8:56, 50:70] = True  # the occluder's pixels next to the far side
    sky = np.zeros((h, w), bool)
    out = continue_background(img, hole, sky, depth, np.zeros_like(hole), None)
    fill = out[hole]
    far = img[:, 80:120].reshape(-1, 3)
    np.testing.assert_allclose(fill.mean(0), far.mean(0), atol=0.05)
    assert fill[:, 0].max() < 0.7  # no red from the occluder
    # textured like the far side (a Telea blur of this hole has ~no variation)
    tex = out[8:56, 52:68].mean(-1)
    assert (
        np.abs(np.diff(tex, axis=1)).mean()
        > 0.3 * np.abs(np.diff(far.reshape(h, 40, 3).mean(-1), axis=1)).mean()
    )
    np.testing.assert_array_equal(out[~hole], img[~hole])  # the rest is untouched


def test_revealed_background_is_as_plain_as_invented_surfaces_behind_a_busy_edge() -> None:
    """The far side beside an occluder is a bookcase: spines of every colour. What is
    revealed behind the occluder carries its colour with a grain no stronger than the
    invented surfaces' (MAX_GRAIN): at full strength its random-phase copy of the
    spines was a mosaic of orange, white and brown blocks behind the office's desk."""
    from generators.panorama.outpaint_classical import MAX_GRAIN

    h, w = 64, 128
    rng = np.random.default_rng(5)
    spines = rng.uniform(0.05, 0.95, (1, w, 3)).astype(np.float32)
    img = np.broadcast_to(spines, (h, w, 3)).copy()
    depth = np.full((h, w), 8.0, np.float32)
    img[:, 30:70] = (0.9, 0.1, 0.1)
    depth[:, 30:70] = 2.0
    hole = np.zeros((h, w), bool)
    hole[8:56, 50:70] = True
    out = continue_background(img, hole, np.zeros((h, w), bool), depth, np.zeros_like(hole), None)
    fill = out[12:52, 54:66]
    # the grain about the fill's own smooth colour, per pixel across the hole's rows
    assert float(fill.std(axis=(0, 1)).max()) < 2.5 * MAX_GRAIN, fill.std(axis=(0, 1))


def test_a_dark_row_of_ground_beside_a_thing_does_not_streak_the_floor_under_it() -> None:
    """The floor continues under a thing in the colours of the visible floor around it:
    one row of dark ground beside it (a shadow line, a slat classed ground) stayed that
    row's colour all the way under it, a dark streak across the floor revealed from a
    step aside (the office's desk)."""
    h, w = 64, 128
    img = np.full((h, w, 3), 0.6, np.float32)
    depth = np.full((h, w), 5.0, np.float32)
    ground = np.ones((h, w), bool)
    img[:, 40:80] = (0.2, 0.3, 0.8)  # the thing
    depth[:, 40:80] = 2.0
    ground[:, 40:80] = False
    img[30, 34:40] = 0.05  # the dark row beside it
    hole = np.zeros((h, w), bool)
    hole[10:54, 40:80] = True
    sky = np.zeros((h, w), bool)
    out = continue_background(img, hole, sky, depth, hole.copy(), ground)
    assert abs(float(out[30, 55:65].mean()) - 0.6) < 0.1, out[30, 55:65].mean(0)


def test_the_sky_reaches_down_to_the_real_skyline_not_the_coarse_class_edge() -> None:
    """A blue sky over a jagged dark treeline and a beige wall, classed on a coarse grid
    (the sky edge up to ~2° above the skyline, as nearest-neighbour upscaling leaves it):
    the refined sky reaches the skyline in (nearly) every column — no band of sky left
    standing on the trees — and never eats into the trees or the pale wall."""
    H, W = 384, 768
    lat = _lat_deg(H)
    rng = np.random.default_rng(3)
    sky_line = 8 + 6 * np.sin(np.arange(W) / 14.0) + rng.uniform(0, 2, W)  # deg above horizon
    wall = (np.arange(W) > 500) & (np.arange(W) < 600)
    sky_line[wall] = 20.0
    img = np.empty((H, W, 3), np.float32)
    sky_true = lat > sky_line[None, :]
    img[:] = (0.15, 0.35, 0.12)  # trees
    img[:, wall] = (0.85, 0.75, 0.6)  # pale wall
    img[sky_true] = (0.55, 0.7, 0.95)
    img[sky_true] += (0.15 * (1 - lat[sky_true] / 90))[:, None]  # paler towards the horizon
    img += 0.02 * rng.standard_normal(img.shape).astype(np.float32)
    # the coarse class map: 4 px blocks, sky only where the whole block is sky
    blk = sky_true.reshape(H // 4, 4, W // 4, 4).all(axis=(1, 3))
    coarse = np.repeat(np.repeat(blk, 4, 0), 4, 1)
    cls = np.where(coarse, SKY, np.where(lat > 0, UPRIGHT, GROUND)).astype(np.uint8)
    before = ((cls == SKY) != sky_true).sum(0)
    out = refine_sky_edge(img, cls)
    after = ((out == SKY) != sky_true).sum(0)
    assert before.mean() > 2.0
    assert after.mean() < 1.0 and np.mean(after <= 1) > 0.9, (before.mean(), after.mean())
    assert not ((out == SKY) & ~sky_true).sum(0)[wall].any()  # the wall stays
    assert ((out == SKY) & ~sky_true).sum() < 0.02 * sky_true.sum()
    indoor = np.where(cls == SKY, 3, cls).astype(np.uint8)
    np.testing.assert_array_equal(refine_sky_edge(img, indoor), indoor)


def test_a_surface_seen_at_a_grazing_angle_stays_closed_and_an_edge_stays_cut() -> None:
    """Depth steps along a row: a sustained slope 20× the lateral pixel size (a backdrop
    curving away, seen from the side as strips with gaps when capped at 6×) keeps its
    slant; the same step alone (a soft depth edge) is capped."""
    from generators.pano_world import MAX_SLANT, _cap_slant

    lateral = np.full((5, 60), 0.01, np.float32)
    ramp = np.zeros((5, 60), np.float32)
    ramp[:, 20:40] = 0.2  # 20 pixels of steady slope
    capped = _cap_slant(ramp, lateral, 1)
    assert np.allclose(capped[:, 24:36], 0.2)
    lone = np.zeros((5, 60), np.float32)
    lone[:, 30] = 0.2
    assert np.allclose(_cap_slant(lone, lateral, 1)[:, 30], MAX_SLANT * 0.01)
    assert np.allclose(_cap_slant(ramp.T, lateral.T, 0)[24:36], 0.2)  # columns too


def test_photo_pixels_of_far_ground_face_the_eye_and_near_ground_lies_flat() -> None:
    """A photo of open ground: its pixels less than ~5° below the eye (the ground more than
    ~16 m off) were discs a pixel wide and metres long nearly along the ray, which blurred
    the start view (Sceaux's court: 27.6 -> 26.8 dB); they now face the eye. Near ground
    still lies on the ground (walking over it shows a floor, not standing discs)."""
    import math

    from generators.pano_world import photo_splats
    from scene.rotations import quats_to_matrices

    H, eye = 1024, 1.6  # a world's panorama: 0.18° a row
    _, lat = pano_lonlat(H)
    below = lat < -1e-3
    depth = np.where(below, eye / np.sin(-np.minimum(lat, -1e-3)), 500.0)[:, None]
    depth = np.repeat(depth, 2 * H, 1).astype(np.float32)
    sky = ~np.repeat(below[:, None], 2 * H, 1)
    photo = np.full((480, 640, 3), 0.5, np.float32)  # 0.09° a pixel, as a real photo's
    cloud = photo_splats(photo, 60.0, depth, sky, eye_height=eye, sky_radius=500.0, pitch_deg=-20.0)
    rel = cloud.means - np.array([0.0, eye, 0.0])
    dist = np.linalg.norm(rel, axis=1)
    ray = rel / dist[:, None]
    rot = quats_to_matrices(cloud.quats)
    normal = rot[np.arange(len(rot)), :, np.argmin(cloud.scales, axis=1)]
    ground = cloud.means[:, 1] < 0.05
    elev = np.degrees(np.arcsin(-ray[:, 1]))
    far = ground & (elev > 1.0) & (elev < 4.0)
    near = ground & (dist < 8.0)
    assert far.sum() > 50 and near.sum() > 50
    assert np.median(np.abs((normal[far] * ray[far]).sum(1))) > 0.8  # facing the eye (was 0.06)
    assert np.median(np.abs(normal[near][:, 1])) > 0.95  # lying on the ground
    assert math.isfinite(float(dist.max()))


def test_the_floor_continues_behind_an_upright_only_where_ground_is_seen_beside_it() -> None:
    """A tower stands below the horizon across two bands of rows: where ground lies beside it the
    floor continues behind it; where the panorama shows sky beside it (its own horizon is
    lower than the floor model's), nothing is added — the sky dome shows there, not a
    floor wedge standing above the visible ground (the demo rocket's grey slabs)."""
    from generators.pano_layers import background_layer

    H = 128
    W = 2 * H
    lat = _lat_deg(H)
    img = np.full((H, W, 3), 0.4, np.float32)
    sky = lat > -4.0  # sky reaches 4° below the model's horizon
    classes = np.where(sky, SKY, GROUND).astype(np.uint8)
    depth = np.where(sky, 300.0, 1.6 / np.sin(np.radians(np.maximum(-lat, 0.5)))).astype(np.float32)
    tower = slice(W // 2 - 3, W // 2 + 3)
    column = (lat[:, 0] < 20.0)[:, None]
    depth[:, tower] = np.where(column, 12.0, depth[:, tower])
    classes[:, tower] = np.where(column, UPRIGHT, classes[:, tower])
    sky[:, tower] &= ~column
    mask, bdepth, _ = background_layer(img, depth, sky, classes, eye_height=1.6, far=40.0)
    in_tower = np.zeros((H, W), bool)
    in_tower[:, tower] = True
    beside_sky = in_tower & (lat > -4.0) & (lat < -1.5)
    beside_ground = in_tower & (lat < -5.5) & (lat > -7.0)
    assert not mask[beside_sky].any()
    assert mask[beside_ground].all()
    floor = 1.6 / np.sin(np.radians(-lat[beside_ground]))
    np.testing.assert_allclose(bdepth[beside_ground], floor, rtol=0.02)


def test_the_floor_under_a_thing_runs_back_to_the_wall_behind_it_not_beyond() -> None:
    """A desk 2 m off before a wall 4 m off (the columns' backdrop contact): the floor
    continued under the desk ends at the wall's foot and the wall rises from there. To the
    far field instead (40 m), the floor behind the office's desk lay 8 m off through the
    wall, a long slanted smear from a step aside."""
    from generators.pano_layers import background_layer

    H = 128
    W = 2 * H
    lat = _lat_deg(H)
    img = np.full((H, W, 3), 0.4, np.float32)
    sky = np.zeros((H, W), bool)
    floor = 1.6 / np.sin(np.radians(np.maximum(-lat, 0.5)))
    wall_at = 4.0 / np.cos(np.radians(lat))
    classes = np.where(floor < wall_at, GROUND, UPRIGHT).astype(np.uint8)
    depth = np.minimum(floor, wall_at).astype(np.float32) * np.ones((1, W), np.float32)
    desk = slice(W // 2 - 10, W // 2 + 10)
    rows = (lat[:, 0] < 0.0) & (lat[:, 0] > -40.0)
    depth[rows, desk] = (2.0 / np.cos(np.radians(lat[rows, :1]))).astype(np.float32)
    classes[rows, desk] = UPRIGHT
    contact = np.full(W, 4.0, np.float32)
    mask, bdepth, _ = background_layer(
        img, depth, sky, classes, eye_height=1.6, far=40.0, contact=contact
    )
    behind = np.zeros((H, W), bool)
    behind[rows, desk] = True
    behind &= mask
    assert behind.sum() > 100
    assert (bdepth[behind] <= wall_at[behind] * 1.02 + 1e-3).all()  # never through the wall
    np.testing.assert_allclose(bdepth[behind], np.minimum(floor, wall_at)[behind], rtol=0.03)


def test_standing_things_do_not_depend_on_the_invented_pixels_around_the_photo() -> None:
    """A photo pitched down has a curved footprint on the panorama, so the segmentation's
    rectangle holds invented pixels in its corners. Two outpaintings that differ only
    outside the photo give the same standing things at the same distances (with the
    invented pixels in the segmentation, a texture change moved the synthetic room's
    block 1.6 m and tilted it 3°; here two noise fills moved things by 2 m)."""
    import math

    import cv2
    from world_scene import raycast

    from generators.panorama import place_photo
    from generators.panorama.outpaint_classical import outpaint_classical
    from generators.panorama.projection import perspective_camera
    from generators.standing import standing_things

    cam = perspective_camera(480, 320, 65.0, pitch=math.radians(-12), position=(0.0, 1.6, 0.0))
    photo, _, _ = raycast(cam)
    pano, known = place_photo(photo.astype(np.float32), 65.0, 256, pitch_deg=-12)
    info: dict = {}
    filled = outpaint_classical(pano, known, info=info, seed=0)
    classes = cv2.resize(info["classes"], (512, 256), interpolation=cv2.INTER_NEAREST)
    out = known < 0.5
    results = []
    for seed in (0, 1):
        img = filled.copy()
        noise = np.random.default_rng(seed).standard_normal((int(out.sum()), 3))
        img[out] = np.clip(img[out] + 0.15 * noise, 0, 1)
        results.append(standing_things(img, classes, known))
    (m1, d1), (m2, d2) = results
    assert m1.sum() > 1000  # the room's pillar and block stand
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(d1, d2)


def test_a_small_post_on_the_ground_stands_and_a_mark_on_it_lies() -> None:
    """On gravel 8° below the horizon a dark post 4 px wide and 7 tall (a bollard, upright
    in the class map) stands at the distance where it meets the ground; the ground's
    closing took it for a speck of the ground, and it lay on the ground as a wedge seen
    from aside (Sceaux 100_7104's bollards). A mark of the same colour 14 px wide and 2
    tall (a drain, a shadow) lies on the ground, as before."""
    import math

    from generators.panorama.classes import GROUND, SKY, UPRIGHT
    from generators.panorama.projection import pano_lonlat
    from generators.standing import standing_things

    H = 256
    _, lat = pano_lonlat(H)
    lat2 = np.broadcast_to(lat[:, None], (H, 2 * H))
    rng = np.random.default_rng(2)
    img = np.where((lat2 > 0)[..., None], [0.5, 0.7, 0.95], [0.75, 0.73, 0.7]).astype(np.float32)
    img = np.clip(img + 0.02 * rng.standard_normal(img.shape), 0, 1).astype(np.float32)
    classes = np.where(lat2 > 0, SKY, GROUND).astype(np.uint8)
    known = np.zeros((H, 2 * H), np.float32)
    known[80:180, 200:312] = 1.0
    foot = int(np.searchsorted(-lat, math.radians(8)))  # the post's lowest row
    post = (slice(foot - 6, foot + 1), slice(240, 244))
    mark = (slice(foot - 1, foot + 1), slice(270, 284))
    for part in (post, mark):
        img[part] = (0.2, 0.18, 0.15)
        classes[part] = UPRIGHT
    stand, dist = standing_things(img, classes, known)
    assert stand[post].mean() > 0.9
    want = 1.6 / math.tan(-lat[foot])
    np.testing.assert_allclose(dist[post][stand[post]], want, rtol=0.1)
    assert not stand[mark].any()


def test_colour_families_join_along_shared_edges_not_at_a_corner() -> None:
    """A thing's bands share an edge and join into one thing; a thin strip of similar
    colour that touches it only at a corner (a dark horizon strip reaching a rocket's
    base) stays apart. Joining every touching pair of similar colour chained the bundled
    launch-pad photo's rocket, two masts and the horizon strip into one thing, which then
    stood at the strip's distance with the rocket's body cut off from it."""
    from generators.standing import _merge_colour_families

    seg = np.full((60, 60), -1, np.int32)
    lab = np.zeros((60, 60, 3), np.float32)
    seg[0:40, 20:30], lab[0:40, 20:30] = 0, (80, 2, 2)  # a tall white thing
    seg[40:50, 20:30], lab[40:50, 20:30] = 1, (70, 4, 6)  # its shaded lower band
    seg[50:53, 29:60], lab[50:53, 29:60] = 2, (55, 3, 3)  # a strip meeting its corner
    out = _merge_colour_families(seg, lab)
    assert out[0, 25] == out[45, 25]  # the bands are one thing
    assert out[51, 45] != out[45, 25]  # the strip is not part of it
    assert (out[seg < 0] == -1).all()


def test_colour_families_do_not_chain_a_thing_to_the_wall_through_its_shades() -> None:
    """Five bands side by side whose neighbours differ by under SAME_CHROMA but whose
    ends differ by 27 (a globe's yellow, its shades, the beige wall behind it): the globe
    and the wall stay apart. Joining every similar neighbour at once made them one
    "thing" in the office photo, half of it at the desk's distance and half at the
    wall's: seen from 2 m aside, two half globes."""
    from generators.standing import SAME_CHROMA, _merge_colour_families

    seg = np.full((40, 50), -1, np.int32)
    lab = np.zeros((40, 50, 3), np.float32)
    for i, b in enumerate((36.0, 29.0, 22.0, 15.0, 9.0)):
        seg[:, 10 * i : 10 * i + 10] = i
        lab[:, 10 * i : 10 * i + 10] = (70.0, -3.0, b)
    assert 7.0 < SAME_CHROMA  # each neighbour pair is similar
    out = _merge_colour_families(seg, lab)
    assert out[0, 5] != out[0, 45]
    assert len(np.unique(out)) >= 2


def test_a_segment_inside_a_standing_thing_stands_with_it() -> None:
    """An eye inside a face (a segment the standing face surrounds) stands at the face's
    distance; the background beside the face, which it touches along one side only,
    keeps the backdrop's (NaN). Left behind, the eye was a hole through the cat's face
    seen from 2 m aside."""
    from generators.standing import _enclosed

    seg = np.zeros((40, 60), np.int32)  # 0: the face, x < 40
    seg[15:25, 15:25] = 1  # the eye, inside it
    seg[:, 40:] = 2  # the background beside it
    d = _enclosed(seg, np.array([1.5, np.nan, np.nan]))
    assert abs(d[1] - 1.5) < 1e-6
    assert np.isnan(d[2])


def test_wall_radius_from_near_contacts_only_when_they_are_a_real_share() -> None:
    """A few near ground contacts (a rock beside a lake view) do not set the wall radius
    of the whole invented world; indoors, where every contact is near, they do."""
    from generators.pano_layers import radius_from_contacts

    seen = np.zeros(1024, bool)
    seen[300:812] = True  # a 512-column photo footprint
    contact = np.full(1024, 60.0)
    contact[300:344] = 11.0  # 44 near columns of 512: 9 %
    assert radius_from_contacts(contact, seen) is None
    contact[300:500] = np.linspace(3.0, 6.0, 200)  # 200 of 512: 39 %
    r = radius_from_contacts(contact, seen)
    assert r is not None and 4.0 < r < 5.0
    indoor = np.full(1024, 4.0)
    assert radius_from_contacts(indoor, seen) == 4.0
    assert radius_from_contacts(indoor, np.zeros(1024, bool)) is None


def test_the_invented_rooms_shading_fades_in_away_from_the_photo() -> None:
    """The invented room's shading (floor 0.86 x, creases darker) applied right up to the
    photo's edge put a 14 % step between the photo's lit planks and the invented floor
    beside them; its weight now rises from 0 at the photo to 1 at SHADE_FADE_DEG, across
    the panorama's seam too."""
    from generators.pano_world import SHADE_FADE_DEG, _away_from

    H = 180  # one row a degree
    region = np.zeros((H, 2 * H), bool)
    region[60:100, 0:20] = True  # a photo across the seam at longitude -180
    region[60:100, -20:] = True
    t = _away_from(region, SHADE_FADE_DEG)
    assert (t[region] == 0).all()
    assert t[80, 20] < 0.05 and t[80, -21] < 0.05  # just beside it, either side of the seam
    assert 0.4 < t[80, 24] < 0.6  # half way (5 degrees out)
    assert t[80, 31] == 1.0 and t[20, 180] == 1.0  # beyond the fade, and far away


def test_the_photos_own_columns_keep_its_contact_at_its_slanted_edge() -> None:
    """A photo pitched up covers its first columns only above their ground contact (its
    side edge slants across the panorama); the invented ground beside it meets the
    upright things 2° nearer the horizon than the photo's own. Every photo column keeps
    the photo's contact: its rim columns took the invented one (2.2x farther), from their
    own rows and from a median window straddling the edge, and a strip of the photo stood
    apart from the rest; stepping aside opened a line of sky through it (the Sceaux
    castle's tree)."""
    H = 256
    W = 2 * H
    lat = _lat_deg(H)
    cls = np.full((H, W), UPRIGHT, np.uint8)
    cls[lat > 20] = SKY
    cls[lat < -4] = GROUND  # the photo: upright things meet the ground 4° down
    # (the invented ground beside it reaches 2° down: below)
    known = np.zeros((H, W), np.float32)
    known[(lat > -15) & (lat < 30)] = 1.0
    known[:, :200] = 0.0
    known[:, 300:] = 0.0
    # the slanted left edge: columns 200-211 covered only down to 1° below the horizon
    known[:, 200:212][lat[:, 200:212] < -1] = 0.0
    # ... whose rows below it are invented: the invented ground
    cls[(known < 0.5) & (lat < -2) & (lat >= -4)] = GROUND
    d, _ = ground_contacts(cls, 1.6, 60.0, known=known)
    photo = 1.6 / np.tan(np.radians(4.0))  # 23 m (the invented ground's: 46 m)
    assert abs(d[250] / photo - 1) < 0.15, d[250]
    # (a column or two beside the rim meet the closed ground a row higher: +18 %)
    np.testing.assert_allclose(d[200:300], d[250], rtol=0.2)


def test_indoors_the_photos_walls_stand_no_farther_than_the_room_box() -> None:
    """Indoors, where a dark cabinet is classed as floor up to near the horizon, that
    column's contact lay 8 m off while the invented room's box wall (from the photo's
    other contacts) stood at 3 m: seen from a step aside, the office photo sat recessed
    behind the invented room as behind a window. A photo column's wall now stands at most
    BOX_SLACK x the box's wall distance; the others keep their own contacts."""
    from generators.pano_layers import BOX_SLACK

    H = 128
    lat = _lat_deg(H)
    lon, _ = pano_lonlat(H)
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < -25] = GROUND  # the floor meets the walls 3.4 m off
    cls[lat > 30] = 3  # ceiling
    cab = slice(114, 120)
    cls[:, cab] = np.where(lat[:, cab] < -9, GROUND, cls[:, cab])  # "floor" to 9° down
    known = np.zeros((H, 2 * H), np.float32)
    known[40:100, 110:146] = 1.0  # the photo, straight ahead
    kw = dict(eye_height=1.6, radius=3.4, far=8.0, sky_radius=30.0, known=known)
    free = layered_depth(cls, **kw)
    boxed = layered_depth(cls, room_radius=4.0, room_front=3.0, **kw)
    assert free.contact[cab].min() > 7.0  # the false contact (1.6 / tan 9°, to the far field)
    assert boxed.contact[cab].max() < 3.0 * BOX_SLACK / np.cos(lon[cab]).min() + 1e-3
    ok = slice(124, 140)  # the photo's true walls keep their own contact
    np.testing.assert_allclose(boxed.contact[ok], free.contact[ok], rtol=1e-5)


def test_background_behind_a_small_step_is_the_surface_just_behind_it() -> None:
    """A chair 10 % nearer than the desk card around it (a step below EDGE_RATIO, which
    the splats still do not bridge) before a wall and over a dark floor: the layer behind
    the chair is the card continued — at the card's depth and in the card's colour — not
    the wall 2 m further back (the farthest depth nearby) nor the dark floor under it (the
    office world: dark slabs through the desk from a step forward)."""
    from generators.pano_layers import background_layer, nearest_far_side

    H = 128
    W = 2 * H
    lat = _lat_deg(H)
    lon = np.degrees(pano_lonlat(H)[0])[None, :] * np.ones((H, 1))
    floor = 1.6 / np.sin(np.radians(np.maximum(-lat, 0.5)))
    img = np.empty((H, W, 3), np.float32)
    img[:] = (0.85, 0.8, 0.7)  # the wall, 5 m off
    depth = np.full((H, W), 5.0, np.float32)
    classes = np.full((H, W), UPRIGHT, np.uint8)
    ground = (lat < 0) & (floor < 5.0)
    depth[ground] = floor[ground]
    img[ground] = (0.1, 0.07, 0.04)  # a dark floor
    classes[ground] = GROUND
    card = (np.abs(lon) < 30) & (lat < 5) & (lat > -40)
    depth[card] = 3.2
    img[card] = (0.6, 0.35, 0.15)  # the desk, brown
    chair = (np.abs(lon) < 6) & (lat < -15) & (lat > -40)
    depth[chair] = 2.9  # 10 % nearer: no EDGE_RATIO edge
    img[chair] = (0.05, 0.05, 0.1)
    assert 2.9 * EDGE_RATIO > 3.2
    sky = np.zeros((H, W), bool)
    mask, bdepth, col = background_layer(img, depth, sky, classes, eye_height=1.6, far=40.0)
    inner = chair & (np.abs(lon) < 4) & (lat < -18) & (lat > -30)
    assert mask[inner].all()
    np.testing.assert_allclose(bdepth[inner], 3.2, rtol=1e-5)
    np.testing.assert_allclose(col[inner].mean(0), (0.6, 0.35, 0.15), atol=0.08)
    # a wall receding along a row (±60° off its normal, a world's 0.35° columns) is no
    # step: nothing behind it
    lon_w = np.degrees(pano_lonlat(512)[0])
    recede = (5.0 / np.cos(np.radians(np.clip(lon_w, -60, 60)))).astype(np.float32)
    _, fcol = nearest_far_side(np.tile(recede, (8, 1)), 50, 1.03)
    assert (fcol < 0).all()


def test_the_backstop_lies_behind_everything_in_the_photo_as_one_sheet() -> None:
    """Behind the photo's part of a world: a sheet at 1.05 × the farthest depth round each
    ray, smooth across the layers' steps, so a gap the photo's layers open from a step
    away shows a surface, not black (under the office's typewriter from 1 m forward)."""
    from generators.pano_world import BACKSTOP_BEHIND, _backstop

    H = 128
    W = 2 * H
    lon = np.degrees(pano_lonlat(H)[0])[None, :] * np.ones((H, 1))
    lat = _lat_deg(H)
    depth = np.full((H, W), 3.2, np.float32)
    depth[(np.abs(lon) < 8) & (lat < -10) & (lat > -30)] = 2.2  # a chair before the desk
    sky = lat > 40
    region = (np.abs(lon) < 30) & (np.abs(lat) < 45)
    colour = np.full((H, W, 3), 0.5, np.float32)
    sheet = _backstop(colour, depth, sky, region, 1.6)
    keep = region & (lat < 35)  # (not beside the sky)
    assert int(keep.sum()) * 0.95 <= len(sheet) <= int((region & ~sky).sum())
    dist = np.linalg.norm(sheet.means - np.array([0.0, 1.6, 0.0], np.float32), axis=1)
    assert dist.min() >= 3.2 * BACKSTOP_BEHIND * 0.999  # behind the desk, even at the chair
    assert dist.max() <= 3.2 * BACKSTOP_BEHIND * 1.001  # one sheet: no step at the chair
    # the invented far field beside the photo (40 m) does not push it back: from a step
    # aside a sheet that far off showed its copy of the photo beside it (a castle's wing)
    beside = np.where(region, depth, 40.0).astype(np.float32)
    sheet = _backstop(colour, beside, sky, region, 1.6)
    dist = np.linalg.norm(sheet.means - np.array([0.0, 1.6, 0.0], np.float32), axis=1)
    assert dist.max() <= 3.2 * BACKSTOP_BEHIND * 1.001, dist.max()
    # behind a near thing well in front of the far wall round it, the sheet is in the
    # wall's colours, not the thing's: in its own it was the thing's copy far behind it,
    # which a step aside showed beside it (a castle's corner tower, a ghost)
    colour = np.zeros((H, W, 3), np.float32)
    colour[..., 0] = 0.8  # the wall: red
    thing = (np.abs(lon) < 5) & (np.abs(lat) < 20)
    colour[thing] = (0.0, 0.0, 0.8)  # the thing: blue
    two = np.where(thing, 1.5, 6.0).astype(np.float32)
    sheet = _backstop(colour, two, sky, region, 1.6)
    d = np.linalg.norm(sheet.means - np.array([0.0, 1.6, 0.0], np.float32), axis=1)
    from scene.gaussians import sh0_to_rgb

    rgb = sh0_to_rgb(sheet.sh0)
    assert (d > 6.0).all()  # behind the wall everywhere
    # (the sheet's splats in the thing's direction: the nearest lateral ones)
    ahead = np.abs(sheet.means[:, 0]) < 0.05 * d
    assert ahead.any() and (rgb[ahead, 2] < 0.2).all(), rgb[ahead].max(0)
    # ... taken along the row, the sky the farthest of all: behind a tower standing into
    # the sky the sheet is the sky's colour where the sky is beside it, the wall's below
    # (a flat tan tower, the far hedge's colour, stood behind a castle's against the sky)
    tower = (np.abs(lon) < 15) & (lat < 60)
    sky2 = (lat > 40) & ~tower
    colour = np.zeros((H, W, 3), np.float32)
    colour[..., 0] = 0.8  # the wall
    colour[sky2] = (0.5, 0.7, 0.95)  # the sky
    colour[tower] = (0.1, 0.6, 0.1)  # the tower: green
    # (the layers give the sky a finite prior's depth, here nearer than the wall)
    depth2 = np.where(tower, 1.5, np.where(sky2, 4.0, 6.0)).astype(np.float32)
    sheet = _backstop(colour, depth2, sky2, region, 1.6)
    rgb = sh0_to_rgb(sheet.sh0)
    d = np.linalg.norm(sheet.means - np.array([0.0, 1.6, 0.0], np.float32), axis=1)
    elev = np.degrees(np.arcsin((sheet.means[:, 1] - 1.6) / d))
    ahead = np.abs(sheet.means[:, 0]) < 0.05 * d
    high, low = ahead & (elev > 44) & (elev < 55), ahead & (elev < 30)
    assert high.any() and low.any()
    assert (rgb[high, 2] > 0.8).all() and (rgb[high, 0] < 0.6).all(), rgb[high].min(0)  # sky
    assert (rgb[low, 0] > 0.7).all() and (rgb[low, 1] < 0.2).all(), rgb[low].max(0)  # wall


def test_a_world_from_a_photo_marks_its_hidden_layers(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """The world's cloud marks, by place (`meta["hidden"]`), the splats hidden from where it
    was captured: the background layer behind depth edges, then the backstop behind the
    photo (one run), so a moving frame's cut leaves them unrefined; a saved project keeps
    the marker."""
    import cv2
    from skimage import data

    import generators.pano_world as pw
    from generators import pano_layers
    from scene.project import load_project, save_project

    made: dict[str, list] = {"backstop": [], "background": []}
    real_backstop, real_background = pw._backstop, pano_layers.background_layer

    def spy_backstop(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        made["backstop"].append(real_backstop(*args, **kwargs))
        return made["backstop"][-1]

    def spy_background(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        made["background"].append(real_background(*args, **kwargs))
        return made["background"][-1]

    monkeypatch.setattr(pw, "_backstop", spy_backstop)
    monkeypatch.setattr(pano_layers, "background_layer", spy_background)
    photo = tmp_path / "rocket.png"
    img = cv2.resize(data.rocket(), (160, 120), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(photo), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    world = pw.world_from_photos([photo], pano_height=128, resolution=96).world
    cloud = world.layers[0].data
    assert len(made["backstop"]) == 1 and len(made["background"]) == 1
    sheet = made["backstop"][0]
    behind = int(made["background"][0][0].sum())  # the background layer: a splat a pixel
    assert len(sheet) > 0 and behind > 0
    start, stop = cloud.hidden_range()
    assert stop - start == behind + len(sheet)
    np.testing.assert_allclose(cloud.means[stop - len(sheet) : stop], sheet.means, atol=1e-6)
    save_project(world, tmp_path / "w.wander")
    again, _ = load_project(tmp_path / "w.wander")
    assert again.layers[0].data.hidden_range() == (start, stop)


def _marked_world(start: int, count: int, seed: int):  # noqa: ANN202
    """A World of one 600-splat layer made by `world`, its splats start..start+count marked
    hidden (`meta["hidden"]`)."""
    from conftest import random_cloud

    from scene.world import Layer, World

    cloud = random_cloud(600, 0, seed=seed)
    cloud.meta.update(generator="wander.pano_world", hidden={"start": start, "count": count})
    world = World()
    world.add_layer(Layer("World", cloud))
    return world


def test_a_world_written_as_a_splat_file_keeps_its_hidden_marker_where_the_order_is_kept(
    tmp_path,  # noqa: ANN001
) -> None:
    """`world --out world.ply` (or .spz) writes the hidden splats' places in the provenance
    beside the file, and opening the file marks them again; beside a .splat (sorted by
    importance) or a compressed PLY (Morton order) the places would be wrong and are left
    out. A crafted record that does not fit the cloud is ignored."""
    import json

    from cli.cmd_world import save_world
    from scene.io import load_world
    from viewer.up_axis import adopt_file_context

    world = _marked_world(400, 150, seed=3)
    kinds = ((".ply", True), (".spz", True), (".splat", False), (".compressed.ply", False))
    for ext, kept in kinds:
        out = tmp_path / f"w{ext}"
        save_world(world, out)
        assert ("hidden" in json.loads((tmp_path / f"w{ext}.json").read_text())) == kept, ext
        back, _ = load_world(out)
        adopt_file_context(back, out)
        assert back.layers[0].data.hidden_range() == ((400, 550) if kept else None), ext
    for bad in ({"start": 500, "count": 150}, {"start": "1", "count": 5}, [1, 2], None):
        (tmp_path / "w.ply.json").write_text(
            json.dumps({"generator": "wander.pano_world", "hidden": bad})
        )
        back, _ = load_world(tmp_path / "w.ply")
        adopt_file_context(back, tmp_path / "w.ply")
        assert back.layers[0].data.hidden_range() is None, bad


def test_converting_a_world_keeps_its_hidden_marker_where_the_order_is_kept(
    tmp_path,  # noqa: ANN001
) -> None:
    """`convert world.ply world.spz` (and `export` of a project: the same record) carries the
    hidden layers' places into the record beside the output where its format keeps the
    splats' order; a .splat output (sorted by importance) gets none."""
    import json

    from cli import run_cli
    from cli.cmd_world import save_world
    from cli.scene_files import load_scene

    save_world(_marked_world(350, 200, seed=4), tmp_path / "w.ply")
    for ext, kept in ((".spz", True), (".ply", True), (".splat", False)):
        out = tmp_path / f"out{ext}"
        assert run_cli(["convert", str(tmp_path / "w.ply"), str(out)]) == 0
        rec = json.loads((tmp_path / f"out{ext}.json").read_text())
        assert ("hidden" in rec) == kept, ext
        got = load_scene(out).layers[0].data.hidden_range()
        assert got == ((350, 550) if kept else None), ext


def _photo_with_contacts(edge_col: int | None) -> tuple:
    """A 128-row panorama whose photo (columns 100-180, 30° up to 40° down) shows one
    textured surface above a floor, or two of different brightness meeting at
    `edge_col`; the contact profile steps from 3 m to 5 m at column 140."""
    H = 128
    lat = _lat_deg(H)
    rng = np.random.default_rng(3)
    img = np.full((H, 2 * H, 3), 0.5, np.float32)
    img += rng.normal(0, 0.01, img.shape).astype(np.float32)  # faint grain, no edges
    if edge_col is not None:
        img[:, edge_col:] -= 0.2
    known = np.zeros((H, 2 * H), np.float32)
    known[(lat < 30) & (lat > -40)] = 1.0
    known[:, :100] = 0.0
    known[:, 180:] = 0.0
    cls = np.full((H, 2 * H), UPRIGHT, np.uint8)
    cls[lat < -20] = GROUND
    contact = np.full(2 * H, 3.0, np.float32)
    contact[140:] = 5.0
    return contact, img, cls, known


def test_a_depth_step_the_photo_does_not_show_becomes_a_ramp() -> None:
    """A step in the contacts where the photo shows one surface (a ragged ground line
    across a table top) tore the surface into vertical slabs, with stripes of what lies
    behind between them when seen from aside: it becomes a ramp, no column stepping by
    more than RAMP_SLOPE; the columns outside the photo keep theirs."""
    contact, img, cls, known = _photo_with_contacts(None)
    out = image_supported_steps(contact, img, cls, known, 1.6)
    lx = np.log(out[100:180])
    assert np.max(np.abs(np.diff(lx))) <= np.log(RAMP_SLOPE) + 1e-6, out[130:150]
    assert out[105] < 3.3 and out[175] > 4.5  # away from the step the distances stay
    np.testing.assert_array_equal(out[:100], contact[:100])
    np.testing.assert_array_equal(out[180:], contact[180:])


def test_a_depth_step_at_an_image_edge_stays_and_moves_onto_it() -> None:
    """Where the photo shows a vertical edge (two surfaces meeting) within a degree of
    the step, the step stays a clean edge, on the image's edge."""
    contact, img, cls, known = _photo_with_contacts(141)
    out = image_supported_steps(contact, img, cls, known, 1.6)
    ratio = out[1:] / out[:-1]
    steps = np.nonzero(ratio > 1.03)[0] + 1
    np.testing.assert_array_equal(steps, [141])  # the contacts stepped at 140
    np.testing.assert_allclose(out[100:141], 3.0)
    np.testing.assert_allclose(out[141:180], 5.0)


def test_a_box_in_a_room_panorama_stands_instead_of_lying_on_the_floor() -> None:
    """A whole indoor panorama (the synthetic room with a ceiling): the pillar and the
    low box stand at their own distance. Their contacts, smoothed into the walls' one
    surface, put them on the wall behind, and their lower half beyond the floor, where
    the floor took it: a streak of the box's colour on the floor seen from 1 m aside."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from world_scene import BOXES, _planes, _texture

    from generators.pano_world import scene_layers
    from generators.panorama.projection import pano_dirs

    H = 256
    ceiling = ((-4.5, 4.5, 3.0, 3.2, -6.5, 5.5, 5),)
    beige = {5: ((0.6, 0.55, 0.48), (0.6, 0.55, 0.48))}  # no sky-like colour: indoors
    d = pano_dirs(H).reshape(-1, 3)
    o = np.array([0.3, 1.6, -0.5])
    t, sid = _planes(o, d, ceiling)
    p = o + np.where(np.isfinite(t), t, 0)[:, None] * d
    image = _texture(p, sid, ceiling, beige).reshape(H, 2 * H, 3)
    layers, _, est = scene_layers(image, eye_height=1.6)
    assert est["indoor"]["value"]
    for b in BOXES:  # the pillar and the low box
        box = sid.reshape(H, 2 * H) == b[6]
        ratio = layers.depth[box] / t.reshape(H, 2 * H)[box]
        # (before: the pillar 1.33 times as far, on the wall behind; the box 1.14)
        assert abs(np.log(np.median(ratio))) < np.log(1.06), np.percentile(ratio, [10, 50, 90])


def test_the_background_behind_a_thing_takes_the_grain_of_its_own_surface_alone() -> None:
    """Behind a thing the hidden wall continues the wall on either side of a red and
    green striped box standing before it (2.5 m before a wall 6 m off): the hole takes
    the wall's grain, not a random-phase mix of the box's stripes (from a step aside, a
    striped ghost of the pillar's and blocks' colours stood beside the synthetic room's
    box). The wall is grey: red minus green varied by 0.11 (std) over the hole."""
    h, w = 64, 128
    rng = np.random.default_rng(1)
    wall = 0.7 + 0.03 * rng.standard_normal((h, w, 1)) * np.ones((1, 1, 3))
    img = wall.astype(np.float32)
    depth = np.full((h, w), 6.0, np.float32)
    box = np.zeros((h, w), bool)
    box[8:60, 50:70] = True
    stripes = np.where((np.arange(w) // 2) % 2 == 0, 1.0, 0.0)[None, :]
    img[box] = np.stack([0.8 * stripes, 0.8 * (1 - stripes), 0.1 * np.ones_like(stripes)], -1)[
        np.nonzero(box)[0] * 0, np.nonzero(box)[1]
    ]
    depth[box] = 2.5
    hole = np.zeros((h, w), bool)
    hole[8:60, 20:36] = True
    far_col = np.full((h, w), -1, int)
    far_col[8:34, 20:36] = 80  # the wall beyond the box
    far_col[34:60, 20:36] = 40  # the wall before it
    out = continue_background(
        img, hole, np.zeros((h, w), bool), depth, np.zeros_like(hole), None, far_col=far_col
    )
    red_green = out[..., 0] - out[..., 1]
    assert float(red_green[hole].std()) < 0.01, red_green[hole].std()
