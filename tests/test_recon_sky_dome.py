"""The sky sphere completed where no photo looked (generators/reconstruct/sky_dome.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from generators.reconstruct.sky_dome import complete_sky
from scene.camera import Camera
from scene.gaussians import GaussianCloud, sh0_to_rgb

BLUE = np.array([0.35, 0.55, 0.9])


def _scene_with_sky_wedge(
    az_deg: tuple[float, float] = (-30.0, 30.0), radius: float = 300.0
) -> tuple[GaussianCloud, list[Camera]]:
    """A 4 m box of near splats around the origin, plus sky splats on a sphere of `radius`
    only in the azimuth wedge `az_deg` (0 = looking -Z), 2°..60° up: what the photos saw.
    Returns (cloud, three cameras looking -Z, 50° x 38°: a photo's frame below 2° holds
    the scene, not sky)."""
    rng = np.random.default_rng(0)
    near = rng.uniform(-2, 2, (30000, 3))
    az, el = np.meshgrid(
        np.radians(np.arange(az_deg[0], az_deg[1], 1.0)), np.radians(np.arange(2.0, 60.0, 1.0))
    )
    az, el = az.ravel(), el.ravel()
    d = np.stack([np.cos(el) * np.sin(az), np.sin(el), -np.cos(el) * np.cos(az)], 1)
    sky = radius * d
    colours = np.concatenate([np.full((len(near), 3), 0.4), np.tile(BLUE, (len(sky), 1))])
    pts = np.concatenate([near, sky])
    cloud = GaussianCloud.from_points(pts, colours, 0.05, 0.95)
    cams = [
        Camera.look_at(p, np.add(p, [0.0, 0.0, -10.0]), 38.0, 160, 120)
        for p in ([0.0, 1.5, 0.0], [0.5, 1.5, 0.2], [-0.5, 1.5, 0.1])
    ]
    return cloud, cams


def _directions(cloud: GaussianCloud, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rel = cloud.means.astype(np.float64) - centre
    d = rel / np.linalg.norm(rel, axis=1, keepdims=True)
    return np.degrees(np.arctan2(d[:, 0], -d[:, 2])), np.degrees(np.arcsin(d[:, 1]))


def test_the_sky_continues_around_where_the_photos_saw_it() -> None:
    cloud, cams = _scene_with_sky_wedge()
    out, info = complete_sky(cloud, cams)
    assert info.added > 1000 and out is not cloud
    new = out.subset(np.arange(len(cloud), len(out)))
    centre = np.mean([c.position for c in cams], axis=0)
    az, el = _directions(new, centre)
    # behind the cameras (where no photo looked) and above the horizon: sky now
    back = (np.abs(az) > 120) & (el > 5) & (el < 80)
    assert back.sum() > 200
    rgb = np.clip(sh0_to_rgb(new.sh0), 0, 1)
    assert np.abs(rgb[back] - BLUE).max() < 0.08  # the seen sky's colour carried round
    # nothing well below the horizon, fading out towards it
    assert el.min() > -12.5
    op = new.opacity_values()
    assert op[el > 5].min() > 0.9 and op[el < -6].max() < 0.5
    # nothing added inside the photos' frames (their sky, and below it the scene's part
    # of the frame, which was not sky): renders at the photos' cameras are unchanged
    inside = (np.abs(az) < 22) & (np.abs(el) < 16)
    assert not inside.any()
    assert ((np.abs(az) < 22) & (el > 22)).any()  # above the frames: sky again
    # the added splats are far field: walking ignores them
    assert not out.near_field_mask()[len(cloud) :].any()
    assert np.allclose(out.means[: len(cloud)], cloud.means)


def test_no_sky_seen_no_dome() -> None:
    """An indoor or tabletop capture has no far field: nothing is invented."""
    rng = np.random.default_rng(1)
    room = GaussianCloud.from_points(
        rng.uniform(-3, 3, (4000, 3)), np.full((4000, 3), 0.5), 0.05, 0.9
    )
    out, info = complete_sky(room, [Camera.look_at([0, 0, 0], [0, 0, -1], 40.0, 64, 48)])
    assert out is room and info.added == 0 and info.reason
    # a handful of far splats is too little sky to continue
    cloud, cams = _scene_with_sky_wedge(az_deg=(0.0, 1.0))
    few = cloud.subset(np.arange(len(cloud) - 12, len(cloud)))
    both = GaussianCloud.concatenate([room, few])
    out, info = complete_sky(both, cams)
    assert info.added == 0 and out is both


def test_a_drone_capture_continues_a_little_seen_sky() -> None:
    """A quick run of the Great Wall (photos of haze over far hills) left 35 bins of seen
    sky, under the 40 a capture needs to continue it, and turned away to black. Over a
    drone's capture the sky is certainly there: 8 bins are enough."""
    from generators.reconstruct.sky_dome import MIN_SKY_BINS_AERIAL

    cloud, cams = _scene_with_sky_wedge(az_deg=(0.0, 1.0))  # a 1° wide strip: 30 bins
    out, info = complete_sky(cloud, cams)
    assert info.added == 0 and 8 <= info.seen_bins < 40
    out, info = complete_sky(cloud, cams, min_seen=MIN_SKY_BINS_AERIAL)
    assert info.added > 1000
    rgb = np.clip(sh0_to_rgb(out.sh0[len(cloud) :]), 0, 1)
    assert np.abs(np.median(rgb, 0) - BLUE).max() < 0.08


def test_dome_discs_overlap_their_neighbours() -> None:
    """Each disc is as wide as its bin, so the dome is an even surface, not a lattice: the
    spacing between neighbouring discs' centres is under 2 standard deviations."""
    cloud, cams = _scene_with_sky_wedge()
    out, info = complete_sky(cloud, cams)
    new = out.subset(np.arange(len(cloud), len(out)))
    sigma = np.exp(new.scales[:, 1])  # along latitude
    spacing = math.pi / 90 * info.radius
    assert np.median(spacing / sigma) < 2.0


def test_far_needles_are_shortened_and_round_discs_and_the_scene_are_not() -> None:
    """Sky-sphere splats the optimiser stretched into needles streaked across the sky seen
    from anywhere but the photos' cameras: their longest axis is cut to 0.02 × their
    distance (never below 2 × their middle axis); round far discs and near splats stay."""
    from generators.reconstruct.sky_dome import shorten_far_needles

    cloud, cams = _scene_with_sky_wedge()
    n = len(cloud)
    far = np.arange(n - 200, n)
    cloud.scales[far[:100]] = np.log([30.0, 2.0, 0.1])  # needles 30 m long at 300 m
    cloud.scales[far[100:]] = np.log([4.0, 4.0, 0.1])  # round discs (0.013 rad)
    cloud.scales[:100] = np.log([3.0, 0.1, 0.05])  # near needles: geometry, kept
    out, cut = shorten_far_needles(cloud, cams)
    assert cut == 100 and out is not cloud
    centre = np.mean([c.position for c in cams], axis=0)
    dist = np.linalg.norm(out.means[far[:100]] - centre, axis=1)
    longest = np.exp(out.scales[far[:100]].max(1))
    assert np.allclose(longest, 0.02 * dist, rtol=1e-4)
    assert np.array_equal(out.scales[far[100:]], cloud.scales[far[100:]])
    assert np.array_equal(out.scales[:100], cloud.scales[:100])
    same, none = shorten_far_needles(out, cams)
    assert none == 0 and same is out


def test_the_ground_continues_where_no_photo_looked() -> None:
    """A walk-through's ground plane (y = 0) continued out to the sky: discs lie on the
    plane, none inside a photo's frame or on the scene's own ground, coloured like that
    ground; a capture without ground near y = 0 gets none."""
    from generators.reconstruct.ground_fill import continue_ground

    rng = np.random.default_rng(2)
    # the photographed ground: a 6 x 6 m patch in front of the cameras, green-grey
    patch = np.stack([rng.uniform(-3, 3, 20000), np.zeros(20000), rng.uniform(-8, -2, 20000)], 1)
    colours = np.clip(rng.normal([0.3, 0.5, 0.25], 0.05, (20000, 3)), 0, 1)
    ground = GaussianCloud.from_points(patch, colours, 0.03, 0.95)
    cams = [
        Camera.look_at(p, np.add(p, [0.0, -1.2, -5.0]), 40.0, 160, 120)
        for p in ([0.0, 1.5, 0.0], [0.8, 1.5, 0.0])
    ]
    out, n = continue_ground(ground, cams, r_max=200.0)
    assert n > 5000 and len(out) == len(ground) + n
    new = out.means[len(ground) :]
    assert np.abs(new[:, 1]).max() < 1e-5  # on the plane
    assert np.linalg.norm(new[:, [0, 2]] - [0.4, 0.0], axis=1).max() <= 200.0 * 1.1
    behind = new[:, 2] > 1.0
    assert behind.sum() > 1000  # behind the photographers, where no photo looked
    # none inside the photos' frames, nor on the patch they saw
    from generators.reconstruct.ground_fill import FRAME_MARGIN
    from generators.reconstruct.sky_dome import in_photo_frames

    assert not in_photo_frames(new.astype(np.float64), cams, FRAME_MARGIN).any()
    on_patch = (np.abs(new[:, 0]) < 2.9) & (new[:, 2] < -2.1) & (new[:, 2] > -7.9)
    assert not on_patch.any()
    rgb = np.clip(sh0_to_rgb(out.sh0[len(ground) :]), 0, 1)
    assert np.abs(np.median(rgb, axis=0) - [0.3, 0.5, 0.25]).max() < 0.05
    # flat discs, wider far away (cells grow with the distance)
    s = np.exp(out.scales[len(ground) :])
    assert (s[:, 1] < 0.01 * s[:, 0]).all()
    far = np.linalg.norm(new[:, [0, 2]], axis=1) > 100
    assert s[far, 0].min() > s[~far, 0].max() * 0.5
    # nothing to take colours from (no ground near y = 0): nothing added
    lifted = GaussianCloud.from_points(patch + [0, 1.2, 0], colours, 0.03, 0.95)
    same, none = continue_ground(lifted, cams, r_max=200.0)
    assert none == 0 and same is lifted


def test_the_continued_sky_has_the_colour_the_seen_sky_shows() -> None:
    """Beside the big sky splats that fill the photos' sky, far trees left many small dark
    splats on the sky sphere. The sky continued from there takes the colour those bins
    show (the big splats'), not the mean of all splats by opacity: on Sceaux the two met
    with a step (0.93 against 1.0) as soon as the walker turned 45° from the photos."""
    cloud, cams = _scene_with_sky_wedge(radius=300.0)
    is_sky = np.linalg.norm(cloud.means, axis=1) > 100
    # the seen sky: big splats (each ~1° across at 300 m)
    scales = np.where(is_sky[:, None], np.log(5.0), cloud.scales).astype(np.float32)
    rng = np.random.default_rng(2)
    sky_dirs = cloud.means[is_sky] / 300.0
    k = 4 * int(is_sky.sum())  # four small dark splats per sky splat, scattered in the wedge
    pick = sky_dirs[rng.integers(0, len(sky_dirs), k)] + rng.normal(0, 0.004, (k, 3))
    pick /= np.linalg.norm(pick, axis=1, keepdims=True)
    twigs = GaussianCloud.from_points(300.0 * pick, np.full((k, 3), 0.08), 0.3, 0.95)
    base = GaussianCloud(
        means=cloud.means,
        scales=scales,
        quats=cloud.quats,
        opacities=cloud.opacities,
        sh0=cloud.sh0,
        shN=cloud.shN,
    )
    out, info = complete_sky(GaussianCloud.concatenate([base, twigs]), cams)
    assert info.added > 1000
    new = out.subset(np.arange(len(base) + k, len(out)))
    centre = np.mean([c.position for c in cams], axis=0)
    az, el = _directions(new, centre)
    beside = (np.abs(az) > 32) & (np.abs(az) < 45) & (el > 10) & (el < 50)
    assert beside.sum() > 20
    rgb = np.clip(sh0_to_rgb(new.sh0), 0, 1)
    assert np.abs(rgb[beside] - BLUE).max() < 0.06, rgb[beside].mean(0)


def test_a_walks_ground_continues_at_the_photographed_grounds_level() -> None:
    """Depth noise left a few per cent of a walk's splats up to 3 m under its courtyard:
    the continued ground lay at their low level (Sceaux: 1.4 m under the courtyard, the
    castle on a ledge). A walk's plane lies where its ground's splats are (y ≈ 0); an
    aerial capture's still lies at the low level, under its valleys."""
    from generators.reconstruct.ground_fill import continue_ground, floor_level

    rng = np.random.default_rng(4)
    patch = np.stack(
        [rng.uniform(-3, 3, 20000), rng.normal(0.01, 0.02, 20000), rng.uniform(-8, -2, 20000)], 1
    )
    under = np.stack(
        [rng.uniform(-3, 3, 1500), rng.uniform(-3.0, -0.2, 1500), rng.uniform(-8, -2, 1500)], 1
    )
    pts = np.vstack([patch, under])
    ground = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.5), 0.03, 0.95)
    cams = [
        Camera.look_at(p, np.add(p, [0.0, -1.2, -5.0]), 40.0, 160, 120)
        for p in ([0.0, 1.5, 0.0], [0.8, 1.5, 0.0])
    ]
    out, n = continue_ground(ground, cams, r_max=100.0, level="floor")
    assert n > 0 and np.abs(out.means[len(ground) :, 1] - 0.01).max() < 0.03
    low, n_low = continue_ground(ground, cams, r_max=100.0)
    assert n_low > 0 and low.means[len(ground) :, 1].max() < -0.2
    assert floor_level(np.array([]), 0.4) == 0.0
    with pytest.raises(ValueError):
        continue_ground(ground, cams, r_max=100.0, level="middle")


def test_ground_under_the_scene_inside_the_photos_frames_is_filled_where_hidden() -> None:
    """An aerial capture's plane lies under its terrain. Inside the photos' frames it was
    never filled, so seen from above a black wedge lay between the terrain's edge and the
    plane, and a black hole under the cameras. Cells every framing photo sees behind the
    terrain are filled now (the photos' renders stay as they were: the terrain hides them);
    cells a photo sees past the terrain's edge are not; the centre is filled."""
    from generators.reconstruct.ground_fill import continue_ground

    rng = np.random.default_rng(6)
    n = 40000
    hill = np.stack(
        [rng.uniform(-15, 15, n), 3 + rng.normal(0, 0.05, n), rng.uniform(-40, -5, n)], 1
    )
    valley = np.stack(
        [rng.uniform(-3, 3, 2000), np.full(2000, -2.0), rng.uniform(-42, -40, 2000)], 1
    )
    pts = np.vstack([hill, valley])
    cloud = GaussianCloud.from_points(pts, np.full((len(pts), 3), 0.4), 0.2, 0.95)
    cams = [
        Camera.look_at(p, np.add(p, [0.0, -1.0, -2.0]), 60.0, 160, 120)
        for p in ([-1.0, 12.0, 0.0], [1.0, 12.0, 0.0])
    ]
    out, added = continue_ground(cloud, cams, r_max=300.0)
    new = out.means[len(cloud) :].astype(np.float64)
    assert added > 0 and np.allclose(new[:, 1], new[0, 1]) and new[0, 1] < 0
    from generators.reconstruct.ground_fill import FRAME_MARGIN
    from generators.reconstruct.sky_dome import in_photo_frames

    framed = in_photo_frames(new, cams, FRAME_MARGIN)
    assert framed.sum() > 50  # under the terrain, inside the frames
    for cam in cams:  # each framed disc: the line of sight crosses the terrain (y = 3)
        c = cam.position
        for p in new[framed]:
            t = (3.0 - c[1]) / (p[1] - c[1])
            x, z = c[0] + t * (p[0] - c[0]), c[2] + t * (p[2] - c[2])
            uv, zc = cam.project(p[None])
            inside = zc[0] > 0 and -8 <= uv[0, 0] < 168 and -6 <= uv[0, 1] < 126
            assert not inside or (abs(x) < 15.6 and -40.6 < z < -4.4), (p, x, z)  # 3σ: 0.6
    centre = np.mean([c.position for c in cams], axis=0)
    assert np.linalg.norm(new[:, [0, 2]] - centre[[0, 2]], axis=1).min() < 0.5


def test_the_continued_grounds_colour_has_no_seam_behind_the_cameras() -> None:
    """Ground seen in a narrow arc (dark on its left, bright on its right): round the
    back, the continued ground passes from one colour to the other without a jump (a
    far sector's colour came from the smoothing kernel's cut-off tail, and where the
    nearer side switched a bright radial stripe stood on an aerial capture's ground)."""
    from generators.reconstruct.ground_fill import continue_ground

    rng = np.random.default_rng(8)
    patch = np.stack([rng.uniform(-3, 3, 20000), np.zeros(20000), rng.uniform(-8, -2, 20000)], 1)
    colours = np.where((patch[:, 0] < 0)[:, None], 0.1, 0.6) * np.ones((1, 3))
    ground = GaussianCloud.from_points(patch, colours, 0.03, 0.95)
    cams = [Camera.look_at((0.0, 1.5, 0.0), (0.0, 0.3, -5.0), 40.0, 160, 120)]
    out, n = continue_ground(ground, cams, r_max=100.0)
    new = out.means[len(ground) :].astype(np.float64)
    rgb = sh0_to_rgb(out.sh0[len(ground) :])[:, 0]
    az = np.degrees(np.arctan2(new[:, 0], -new[:, 2]))
    far = np.hypot(new[:, 0], new[:, 2]) > 10
    sel = [far & (az >= a) & (az < a + 10) for a in range(-180, 180, 10)]
    means = np.array([rgb[m].mean() if m.any() else np.nan for m in sel])  # photo's arc: nan
    jumps = np.abs(means - np.roll(means, 1))  # [0]: across ±180°; nan next to the arc
    assert np.nanmax(jumps) < 0.06 and jumps[0] < 0.05, np.round(means, 3)


def test_over_a_continued_ground_the_sky_reaches_down_to_its_edge() -> None:
    """A trial turned a drone capture (cameras 30 m up) away from its photos: blue sky, a
    black band, then the continued ground, whose edge (at GROUND_REACH of the sphere's
    radius) lies 13° below the horizon where the sky had faded out by -12°. Given the
    cameras' height over the ground, the sky is opaque down past that edge."""
    from generators.reconstruct.sky_dome import GROUND_REACH

    cloud, cams = _scene_with_sky_wedge(radius=250.0)
    cams = [
        Camera.look_at(c.position + [0, 28.5, 0], c.position + [0, 20, -10], 38.0, 160, 120)
        for c in cams
    ]
    plain, _ = complete_sky(cloud, cams)
    out, info = complete_sky(cloud, cams, ground_height=30.0)
    assert info.added > len(plain) - len(cloud)  # more sky: down to the edge
    centre = np.mean([c.position for c in cams], axis=0)
    edge = -math.degrees(math.atan2(30.0, GROUND_REACH * info.radius))
    for sky, opaque_below in ((plain, False), (out, True)):
        new = sky.subset(np.arange(len(cloud), len(sky)))
        az, el = _directions(new, centre)
        behind = (np.abs(az) > 120) & (np.abs(el - (edge - 0.5)) < 1.0)  # at the edge
        op = new.opacity_values()[behind]
        assert (len(op) > 20 and op.min() > 0.9) == opaque_below


def test_no_ground_beyond_a_drone_photos_top_edge() -> None:
    """A drone's photos, pitched down, end below the horizon. The plane continued beyond
    their top edge showed, from beside a photo's camera, as a dark line floating in the sky
    above the photographed hills (Great Wall). Those cells are left to the sky; the plane
    still continues beside and behind the photos."""
    from generators.reconstruct.ground_fill import above_photo_frames, continue_ground

    rng = np.random.default_rng(8)
    n = 30000
    # the photographed ground, 30 m under the cameras, in front of them
    patch = np.stack([rng.uniform(-60, 60, n), np.zeros(n), rng.uniform(-200, -20, n)], 1)
    ground = GaussianCloud.from_points(patch, np.full((n, 3), 0.4), 0.5, 0.95)
    # pitched 20 deg down, 30 deg vertical field of view: the top edge 5 deg below the horizon
    cams = [
        Camera.look_at(p, np.add(p, [0.0, -math.tan(math.radians(20)), -1.0]), 30.0, 320, 180)
        for p in ([0.0, 30.0, 0.0], [5.0, 30.0, 0.0])
    ]
    out, n_new = continue_ground(ground, cams, r_max=600.0)
    new = out.means[len(ground) :].astype(np.float64)
    assert n_new > 1000
    # the grid reaches past the top edge (at ~340 m) in front of the cameras ...
    ahead = (new[:, 2] < -100) & (np.abs(new[:, 0]) < 0.2 * np.abs(new[:, 2]))
    probe = np.array([[2.5, -0.0, -500.0]])
    assert above_photo_frames(probe, cams, 0.05).all()
    # ... but no disc lies there; beside and behind the photos the plane goes on
    assert not above_photo_frames(new, cams, 0.05).any()
    assert not ahead[np.linalg.norm(new[:, [0, 2]], axis=1) > 400].any()
    assert (new[:, 2] > 300).sum() > 100 and (np.abs(new[:, 0]) > 300).sum() > 100


def test_the_continued_ground_has_no_coloured_specks_from_outliers() -> None:
    """A drone capture's ground level holds a few saturated red, green and blue splats:
    the continued plane's grain comes from the ground's typical colours, so no disc takes
    one (a trial saw the plane behind the cameras sprinkled with coloured specks)."""
    from generators.reconstruct.ground_fill import continue_ground

    rng = np.random.default_rng(5)
    n = 20000
    patch = np.stack([rng.uniform(-3, 3, n), np.zeros(n), rng.uniform(-8, -2, n)], 1)
    colours = np.clip(rng.normal([0.35, 0.33, 0.3], 0.02, (n, 3)), 0, 1)
    odd = rng.choice(n, n // 20, replace=False)
    colours[odd] = np.eye(3)[rng.integers(3, size=len(odd))]
    ground = GaussianCloud.from_points(patch, colours, 0.03, 0.95)
    cams = [Camera.look_at([0.0, 1.5, 0.0], [0.0, 0.3, -5.0], 40.0, 160, 120)]
    out, added = continue_ground(ground, cams, r_max=100.0)
    assert added > 1000
    rgb = np.clip(sh0_to_rgb(out.sh0[len(ground) :]), 0, 1)
    assert np.abs(rgb - np.median(rgb, axis=0)).max() < 0.1


def test_the_horizon_band_takes_the_seen_skys_low_rows_not_one_odd_splat() -> None:
    from generators.reconstruct.sky_dome import _continue

    h, w = 90, 180
    colour = np.zeros((h, w, 3), np.float32)
    weight = np.zeros((h, w), np.float32)
    colour[20:25] = (0.3, 0.5, 0.9)  # a deeper blue seen 44-54° up ...
    colour[25:30] = (0.8, 0.8, 0.85)  # ... paler lower down, to 36°
    weight[20:30] = 1.0
    colour[35, 10] = (0.05, 0.25, 0.75)  # one saturated splat lower down, behind trees
    weight[35, 10] = 0.3
    fill = _continue(colour, weight)
    odd = np.array([0.05, 0.25, 0.75])
    band = fill[44:50, 90]  # around the horizon, far from the odd splat: the seen sky's
    assert (np.linalg.norm(band - odd, axis=1) > 0.5).all()
    assert (np.abs(band - [0.55, 0.65, 0.875]).max(1) < 0.15).all()
    assert np.allclose(fill[75, 90], (0.8, 0.8, 0.85), atol=0.08)  # low down: the low rows'
    zenith = fill[2, 90]  # the high rows' deeper blue
    assert np.linalg.norm(zenith - [0.3, 0.5, 0.9]) < np.linalg.norm(zenith - [0.8, 0.8, 0.85])


def test_the_continued_grounds_grain_is_brightness_not_coloured_specks() -> None:
    """Ground of many hues round one mean (a drone capture's shaded slopes, sunlit scrub,
    a red roof): the continued plane keeps some of its grain as brightness, in the
    ground's own hue, not each disc in a random splat's colour (round the Great Wall, a
    dark grey plain sprinkled with green, orange and purple specks: "grey static", a
    trial)."""
    from generators.reconstruct.ground_fill import continue_ground

    rng = np.random.default_rng(9)
    n = 20000
    patch = np.stack([rng.uniform(-3, 3, n), np.zeros(n), rng.uniform(-8, -2, n)], 1)
    colours = np.clip(0.4 + 0.12 * rng.standard_normal((n, 3)), 0.02, 1.0)
    ground = GaussianCloud.from_points(patch, colours, 0.03, 0.95)
    cams = [Camera.look_at((0.0, 1.5, 0.0), (0.0, 0.3, -5.0), 40.0, 160, 120)]
    out, added = continue_ground(ground, cams, r_max=100.0)
    assert added > 100
    rgb = np.clip(sh0_to_rgb(out.sh0[len(ground) :]), 1e-3, None).astype(np.float64)

    def chroma(c: np.ndarray) -> float:
        return float((c / c.sum(1, keepdims=True)).std(0).mean())

    luma = rgb @ np.array([0.299, 0.587, 0.114])
    assert chroma(rgb) < 0.2 * chroma(colours), (chroma(rgb), chroma(colours))
    assert luma.std() > 0.01  # grain, not a flat tone


def test_below_the_horizon_over_a_ground_plane_the_sky_is_far_ground() -> None:
    """Over a continued ground plane (cameras 30 m up), the dome below the horizon takes
    the colour of far ground seen through air (`HAZE_SKY` of the sky's colour over it):
    from a drone the band of sky between the horizon and the plane's edge drew that
    circular edge as the horizon, bent down at the view's sides (a trial). Above the
    horizon nothing changes."""
    from generators.reconstruct.sky_dome import HAZE_DEG, HAZE_SKY

    cloud, cams = _scene_with_sky_wedge(radius=250.0)
    cams = [
        Camera.look_at(c.position + [0, 28.5, 0], c.position + [0, 20, -10], 38.0, 160, 120)
        for c in cams
    ]
    ground = np.array([0.35, 0.25, 0.1])
    plain, _ = complete_sky(cloud, cams, ground_height=30.0)
    hazy, _ = complete_sky(cloud, cams, ground_height=30.0, ground_rgb=ground)
    assert len(plain) == len(hazy)
    centre = np.mean([c.position for c in cams], axis=0)
    new = hazy.subset(np.arange(len(cloud), len(hazy)))
    _, el = _directions(new, centre)
    rgb = np.clip(sh0_to_rgb(new.sh0), 0, 1)
    rgb0 = np.clip(sh0_to_rgb(plain.subset(np.arange(len(cloud), len(plain))).sh0), 0, 1)
    below = el < -(HAZE_DEG + 0.5)
    assert below.sum() > 50
    want = (1 - HAZE_SKY) * ground + HAZE_SKY * BLUE
    assert np.abs(rgb[below] - want).max() < 0.08, rgb[below].mean(0)
    above = el > 0.5
    np.testing.assert_allclose(rgb[above], rgb0[above], atol=1e-6)
