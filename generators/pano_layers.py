"""Layered classical geometry for a panorama world: ground, upright structure, sky, ceiling.

The "pop-up" model of Hoiem, Efros & Hebert ("Automatic Photo Pop-up", SIGGRAPH 2005)
on the sphere, with the layered-depth idea of Shih et al. ("3D Photography using
Context-aware Layered Depth Inpainting", CVPR 2020) for what hides behind edges:

  ground    the floor plane y = 0 (ray distance h / sin(−lat)), out to the far radius
  upright   per longitude, a vertical surface at the horizontal distance of its contact
            with the ground: the row where the ground run rising from the nadir ends
            (walls, buildings, furniture, pillars stand straight, not bent onto the floor)
  ceiling   indoors (no sky): a horizontal plane at the ceiling height above the walls
  sky       a far dome
Each longitude's contact distance is cleaned with a circular median; columns whose
contact is hidden (upright running out of the photo's bottom) take the nearest bound the
photo allows. Depth edges (a jump of more than EDGE_RATIO between neighbours) are not
bridged by any splat (`edge_aware_step`), and a background layer continues the far side
of every vertical depth edge behind the near side (`background_layer`), coloured by
continuing each row's background side with its own fine texture (`continue_background`),
so walking sideways reveals background instead of a stretched streak or a flat block.

A contact stands only where the column above it up to the horizon is (nearly) free of
ground — a bush with ground visible above it lies on the ground; layers narrower than
MIN_LAYER_DEG merge into a neighbour (no combs of slivers); a whole panorama's contacts
are one continuous surface (outdoors none nearer than their median); outdoors the far
field and the sky sit far (`far_radius`, SKY_FAR_RATIO in pano_world) and the unseen
surroundings continue to the far field; indoors the unseen room is a box with planar walls,
shaded from its geometry (`room_shading`), and floor-coloured panelling or furniture classed
as ground up to the horizon keeps the room's typical contact (`_credible_indoor_contacts`).

The class map's skyline (from a coarser grid) is refined at the world's resolution
(`refine_sky_edge`), so no band of sky stands on the skyline's trees and roofs.

Conventions as `generators.panorama.projection`: equirect (H, 2H), eye at (0, h, 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from generators.panorama.classes import GROUND, SKY, UPRIGHT
from generators.panorama.projection import pano_lonlat
from scene.units import EYE_HEIGHT

CEILING = 3
EDGE_RATIO = 1.12  # neighbouring depths further apart than this are different layers
DEFAULT_CEILING = 2.7  # m above the floor when the photo does not show it
MIN_CONTACT = 0.8  # m: nothing stands closer than this
SPECK_FRACTION = 0.12  # ground share above a contact (up to the horizon) it tolerates
PANO_MEDIAN_DEG = 24.0  # whole panoramas: contacts median-filtered over this
PANO_SIGMA_DEG = 8.0  # ... then smoothed (Gaussian sigma) over this
MIN_LAYER_DEG = 2.5  # narrower layers of the contact profile merge into a neighbour
INDOOR_CREDIBLE = 12.0  # m: indoors, contacts nearer than this are taken as measured
INDOOR_CONTACT_RATIO = 2.5  # ... and farther ones only up to this times their median
SKY_EDGE_DEG = 2.5  # how far the sky may grow down into the class map's coarse skyline
SKY_EDGE_CLOSE = 0.5  # ... into pixels at most this fraction as far from the sky's colour
SKY_EDGE_MAX = 0.15  # ... and at most this far (RGB distance, 0..1 units)
CONTINUE_SPAN_DEG = 40.0  # unseen columns' contacts reach their target over this
SKY_ISLAND_DEG = 2.0  # non-sky specks inside the sky up to this size (side of a square) are sky
SKY_ISLAND_COLOUR = 0.1  # ... when no pixel is further (RGB 0..1) from the sky around them
SKY_ISLAND_RING = 3  # ... measured over this many pixels around them
BACKGROUND_DEG = 18.0  # how far (degrees of longitude) the background continues behind an edge
#: a depth step of more than this ratio has background behind its near side: no splat spans
#: a step (`edge_aware_step`), so a step below EDGE_RATIO opens a hole too when seen from
#: aside (the office's desk front 10 % before its card: 2.4 vs 2.2 m, dark floor showing
#: through from a step forward)
BACKGROUND_RATIO = 1.03


@dataclass
class Layers:
    """Depth (H, 2H) metres, class map (H, 2H) uint8, and the estimates with their sources."""

    depth: np.ndarray
    classes: np.ndarray
    sky: np.ndarray
    contact: np.ndarray  # (2H,) horizontal contact distance per column, m
    estimates: dict = field(default_factory=dict)


def classify_panorama(
    image: np.ndarray,
    classes: np.ndarray | None = None,
    height: int | None = None,
    known: np.ndarray | None = None,
) -> np.ndarray:
    """Class map (H, 2H) uint8 at `height` (default: the image's), from the outpainting's
    map when given, else classified here (horizon at the middle row); its skyline refined
    at that size (`refine_sky_edge`) and sky-coloured specks in the sky made sky
    (`absorb_sky_islands`; known (any size, 2:1) 0..1: where the photo is)."""
    import cv2

    from generators.panorama.classes import classify_view
    from generators.panorama.projection import resize_pano

    H = height or image.shape[0]
    if classes is None:
        hs = min(512, image.shape[0])
        small = resize_pano(np.asarray(image, np.float32), hs)
        classes = classify_view(small, hs / 2 - 0.5)
        if not (classes == SKY).any():
            classes = ceiling_above(classes)
    if classes.shape[0] != H:
        classes = cv2.resize(classes, (2 * H, H), interpolation=cv2.INTER_NEAREST)
    img = np.asarray(image, np.float32)
    if img.shape[0] != H:
        img = cv2.resize(img, (2 * H, H), interpolation=cv2.INTER_AREA)
    if known is not None and known.shape[0] != H:
        known = cv2.resize(np.asarray(known, np.float32), (2 * H, H), interpolation=cv2.INTER_AREA)
    return absorb_sky_islands(img, refine_sky_edge(img, classes.astype(np.uint8)), known)


NO_SKY_CEILING_DEG = 40.0  # a panorama without sky: upright things above this are ceiling


def ceiling_above(classes: np.ndarray, top: np.ndarray | None = None) -> np.ndarray:
    """Equirect class map (h, 2h) uint8 with the UPRIGHT pixels in `top` (h, 2h) bool made
    CEILING; `top` default: above NO_SKY_CEILING_DEG of elevation."""
    if top is None:
        _, lat = pano_lonlat(classes.shape[0])
        top = lat[:, None] > math.radians(NO_SKY_CEILING_DEG)
    return np.where((classes == UPRIGHT) & top, CEILING, classes).astype(np.uint8)


def absorb_sky_islands(
    image: np.ndarray, classes: np.ndarray, known: np.ndarray | None = None
) -> np.ndarray:
    """Class map (H, 2H) uint8 with small sky-coloured specks inside the sky made sky.

    A photo's vignetted corner (a darker blue) left a few upright pixels in its sky;
    standing at the wall's distance among sky hundreds of metres away, the speck became
    a dark block floating in the sky once the walker stepped aside (a new-user trial at
    2 m). A speck counts when its area is at most a square SKY_ISLAND_DEG on a side,
    every pixel around it is sky (longitude wraps), and its colour in `image` (H, 2H, 3)
    0..1 is the sky's: on the photo's rim (where `known` (H, 2H) 0..1 crosses 0.5, its
    feathered, vignetted edge) or outside it, a sky-like mean (`classes.sky_like`);
    inside the photo, every pixel within SKY_ISLAND_COLOUR of the mean of the sky around
    it, so a roof's finial or a lamp cut off from its post by the coarse map stays. An
    indoor map (no sky) is returned as it is.
    """
    import cv2

    sky = classes == SKY
    if not sky.any() or sky.all():
        return classes
    H, W = classes.shape
    pad = 2
    other = np.concatenate([~sky[:, -pad:], ~sky, ~sky[:, :pad]], 1).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(other, connectivity=8)
    max_area = (SKY_ISLAND_DEG / 180.0 * H) ** 2
    small = np.nonzero(stats[1:, cv2.CC_STAT_AREA] <= max_area)[0] + 1
    if not len(small):
        return classes
    # (an 8-connected component of non-sky is ringed by sky, unless it reaches a pole)
    lab = lab[:, pad:-pad]
    island = np.zeros(n, bool)
    island[small] = True
    island[np.unique(np.concatenate([lab[0], lab[-1]]))] = False
    # every pixel of it near the colour of the sky around it: the tip of a finial, mixed
    # with the sky in the class map's pixels, is not
    from generators.panorama.classes import sky_like

    img = np.asarray(image, np.float32)[..., :3]
    ring = np.ones((2 * SKY_ISLAND_RING + 1,) * 2, np.uint8)
    inside = np.zeros((H, W), bool)
    if known is not None:
        photo = np.asarray(known) >= 0.5
        inside = cv2.erode(photo.astype(np.uint8), ring) > 0
    for k in np.nonzero(island)[0]:
        ys, xs = np.nonzero(lab == k)
        if not len(ys):  # a component of the wrap-around pads alone (small panoramas)
            island[k] = False
            continue
        if not inside[ys, xs].all():
            island[k] = bool(sky_like(img[ys, xs].mean(0)))
            continue
        r0, r1 = max(ys.min() - SKY_ISLAND_RING, 0), min(ys.max() + SKY_ISLAND_RING + 1, H)
        c0, c1 = xs.min() - SKY_ISLAND_RING, xs.max() + SKY_ISLAND_RING + 1
        cols = np.arange(c0, c1) % W
        m = lab[r0:r1][:, cols] == k
        around = (cv2.dilate(m.astype(np.uint8), ring) > 0) & ~m & sky[r0:r1][:, cols]
        patch = img[r0:r1][:, cols]
        if not around.any():
            island[k] = False
            continue
        far = np.linalg.norm(patch[m] - patch[around].mean(0), axis=-1).max()
        island[k] = far < SKY_ISLAND_COLOUR
    out = classes.copy()
    out[island[lab] & ~sky] = SKY
    return out


def _blur_wrap(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (sigma px) of an (H, W[, C]) array, wrap-around in longitude."""
    import cv2

    pad = min(a.shape[1], int(3 * sigma) + 1)
    p = np.concatenate([a[:, -pad:], a, a[:, :pad]], 1)
    return cv2.GaussianBlur(p, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)[:, pad:-pad]


def refine_sky_edge(image: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Class map (H, 2H) uint8 with the sky reaching down to the skyline it really has.

    The class map comes from a coarser grid (blocks, then nearest-neighbour upscaling),
    so a band of real sky — often the pale haze at the horizon — lies on the trees, hills
    or roofs below it: those pixels stand at the skyline's distance, and walking sideways
    carries a pale, blocky band of sky along with the skyline (and a bright halo round a
    roof). Here the sky grows, one pixel ring at a time and at most SKY_EDGE_DEG, into
    the non-sky pixels at or above the horizon whose colour is much nearer the local sky
    colour than the local colour of what stands below (both local means by normalised
    convolution, Knutsson & Westin 1993) — a two-class nearest-mean split confined to the
    boundary band. image (H, 2H, 3) 0..1 at the map's size; an indoor map (no sky) is
    returned as it is.
    """
    import cv2

    sky = classes == SKY
    if not sky.any() or sky.all():
        return classes
    H, W = classes.shape
    k = max(2, int(round(SKY_EDGE_DEG / 180.0 * H)))
    _, lat = pano_lonlat(H)
    img = np.asarray(image, np.float32)[..., :3]
    ring = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    near_sky = _dilate_wrap(sky, ring)
    # what stands below: the non-sky pixels beyond the band (the band itself is mixed)
    core = ~_dilate_wrap(near_sky, ring)
    # local means over ~2k px, computed at a quarter of the size (they are smooth)
    f = max(1, min(4, k // 2))
    hs, ws_ = max(2, H // f), max(4, W // f)

    def local(a: np.ndarray) -> np.ndarray:
        small = cv2.resize(a, (ws_, hs), interpolation=cv2.INTER_AREA)
        return cv2.resize(_blur_wrap(small, 2.0 * k / f), (W, H), interpolation=cv2.INTER_LINEAR)

    ws, wo = local(sky.astype(np.float32)), local(core.astype(np.float32))
    m_sky = local(img * sky[..., None]) / np.maximum(ws, 1e-6)[..., None]
    m_obj = local(img * core[..., None]) / np.maximum(wo, 1e-6)[..., None]
    d_sky = np.linalg.norm(img - m_sky, axis=-1)
    d_obj = np.linalg.norm(img - m_obj, axis=-1)
    cand = (
        near_sky
        & ~sky
        & (lat[:, None] > -0.02)
        & (ws > 0.02)
        & (d_sky < SKY_EDGE_CLOSE * np.where(wo > 0.02, d_obj, np.inf))
        & (d_sky < SKY_EDGE_MAX)
    )
    if not cand.any():
        return classes
    cur = sky.copy()
    step = np.ones((3, 3), np.uint8)
    for _ in range(k):
        nxt = _dilate_wrap(cur, step) & cand & ~cur
        if not nxt.any():
            break
        cur |= nxt
    out = classes.copy()
    out[cur & ~sky] = SKY
    return out


def _dilate_wrap(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    pad = kernel.shape[1]
    p = np.concatenate([mask[:, -pad:], mask, mask[:, :pad]], 1).astype(np.uint8)
    return cv2.dilate(p, kernel)[:, pad:-pad] > 0


def ground_closing_px(height: int) -> int:
    """The size (px, odd) of the disc that closes the ground's small holes
    (`closed_ground`) on a panorama `height` rows tall: about 3.75°."""
    return max(3, height // 48) | 1


def closed_ground(classes: np.ndarray, height: int | None = None) -> np.ndarray:
    """Ground (h, w) bool with its small holes closed (rugs, cracks, stones are not things
    that stand); the closing's size follows the panorama height (default: the map's)."""
    import cv2

    kk = ground_closing_px(height or classes.shape[0])
    return (
        cv2.morphologyEx(
            (classes == GROUND).astype(np.uint8),
            cv2.MORPH_CLOSE,
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kk, kk)),
        )
        > 0
    )


def ground_contacts(
    classes: np.ndarray,
    eye_height: float,
    far: float,
    known: np.ndarray | None = None,
    radius: float | None = None,
    occluders: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: horizontal contact distance (2H,) m and whether the photo showed it (bool).

    occluders (H, 2H) bool: things standing in front of the backdrop (`standing`); the
    ground continues behind them, and a column whose backdrop meets them rather than
    the ground takes its contact from its neighbours (hidden).

    Scans each column up from the nadir through the ground run; the first row where the
    next few rows are mostly not ground is the contact. A column whose contact lies on
    the photo's lower border (`known` drops there) has its contact hidden: it gets the
    distance of that border (the nearest the photo allows). A column without ground gets
    `radius` (default: `far`).
    """
    H, W = classes.shape
    _, lat = pano_lonlat(H)
    g = closed_ground(classes).astype(np.float32)
    if occluders is not None:
        g = np.maximum(g, occluders.astype(np.float32))
    k = max(3, H // 32)  # an upright run at least this tall
    csum = np.concatenate([np.zeros((1, W), np.float32), np.cumsum(g, axis=0)])  # rows < r
    r1 = np.arange(H)
    r_lo = np.maximum(r1 - k, 0)
    ground_above = csum[r1] - csum[r_lo]  # ground among rows r-k .. r-1
    n_above = np.maximum(r1 - r_lo, 1)[:, None]
    below_frac = (csum[H][None, :] - csum[r1]) / (H - r1)[:, None]  # rows r .. H-1
    rows = r1[:, None]
    # an upright thing stands on the contact only if nothing between it and the horizon
    # is ground again: a bush, rock or rug with ground visible above it lies on the
    # ground (the top of the ground run above it is the contact), it is no slab
    hz = int(np.searchsorted(-lat, 0.0))  # first row at or below the horizon
    ground_to_hz = csum[r1] - csum[min(hz, H)]  # ground among rows hz .. r-1
    n_to_hz = np.maximum(r1 - hz, 1)[:, None]
    clear = ground_to_hz < SPECK_FRACTION * n_to_hz
    ok = (g > 0.5) & (ground_above < 0.3 * n_above) & (lat[:, None] < 0) & (below_frac > 0.6)
    top_ok = ok.copy()
    ok &= clear
    # no clear contact: the topmost ground top (everything below it lies on the ground)
    fallback = np.where(top_ok, rows, H).min(0)
    has_fb = top_ok.any(0) & ~ok.any(0)
    ok[fallback[has_fb].clip(0, H - 1), np.nonzero(has_fb)[0]] = True
    any_ok = ok.any(0)
    # the first such top met going up from the nadir
    contact_row = np.where(any_ok, np.where(ok, rows, -1).max(0), H - 1)
    lat_c = lat[np.clip(contact_row, 0, H - 1)]
    lat_c = np.minimum(lat_c, -1e-3)
    dist = np.where(any_ok, eye_height / np.tan(-lat_c), far if radius is None else radius)
    seen = any_ok.copy()
    photo_col = None if known is None else (known >= 0.5).any(0)
    hid = np.zeros(W, bool)
    if occluders is not None:
        rc = np.clip(contact_row, 0, H - 1)
        cols = np.arange(W)
        hid = any_ok & (occluders[rc, cols] | occluders[np.clip(rc + 1, 0, H - 1), cols])
        # ... and the columns just beside them: a thing's outermost column, its edge
        # pixels unclaimed by its segment, gave the wall behind a box the box's distance
        from scipy.ndimage import maximum_filter1d

        reach = max(1, int(round(W * HIDDEN_EDGE_DEG / 360.0)))
        hid = any_ok & (maximum_filter1d(hid.astype(np.uint8), 2 * reach + 1, mode="wrap") > 0)
        if hid.any() and (any_ok & ~hid).any():
            dist = _fill_columns(dist, hid | ~any_ok, any_ok & ~hid)
            seen &= ~hid
    if known is not None:
        kn = known >= 0.5
        r = np.clip(contact_row, 0, H - 1)
        cols = np.arange(W)
        inside = kn[r, cols]
        # contact on the photo's border: hidden
        border = inside & ~kn[np.clip(r + 2 * k, 0, H - 1), cols]
        seen &= inside & ~border
        # a column the photo covers only above its contact (the slanted side of a pitched
        # photo, whose top rows reach farther round than its bottom ones) takes the
        # contact of the photo's nearest column that shows its own: measured on the
        # invented ground below, it put a strip of the photo at another distance than
        # the rest, and stepping aside opened a line of sky through the tree in it
        # ... and so does one whose contact a standing thing hides: from the photo's own
        # columns, not from the invented ones beyond its edge
        src = photo_col & any_ok & inside & ~hid
        off = photo_col & any_ok & ~src
        if off.any() and src.any():
            dist = _fill_columns(dist, off, src)
        else:
            # no column of the photo shows its own contact: one measured on the invented
            # rows is no better known than none
            dist = np.where(off & ~inside, far if radius is None else radius, dist)
    if not (classes == SKY).any():
        photo = any_ok if photo_col is None else any_ok & photo_col
        dist, seen = _credible_indoor_contacts(dist, seen, photo)
    dist = np.clip(dist, MIN_CONTACT, far)
    size = max(3, W // 36) | 1  # ~10°: specks and chair legs
    if photo_col is not None and photo_col.any() and not photo_col.all():
        # the photo's columns are filtered among themselves: a window straddling its edge
        # gave its first half-window of columns the invented surroundings' contact, a strip
        # of the photo at another distance than the rest (a line of sky opened through the
        # tree in it when stepping aside)
        inner = _circular_median(_fill_columns(dist, ~photo_col, photo_col), size)
        dist = np.where(photo_col, inner, _circular_median(dist, size))
    else:
        dist = _circular_median(dist, size)
    dist = _smooth_within_layers(dist, max(3, W // 60))
    dist = merge_narrow_layers(dist, max(2, int(round(W * MIN_LAYER_DEG / 360))))
    return dist.astype(np.float32), seen


BACKDROP_DEG = 15.0  # the wall behind a thing is the farthest contact this near it
HIDDEN_EDGE_DEG = 0.75  # a hidden contact's columns reach this far beside the thing


def backdrop_envelope(contact: np.ndarray, seen: np.ndarray, deg: float) -> np.ndarray:
    """The farthest contact (W,) m among the `seen` (W,) bool columns (the photo's)
    within ±`deg` of longitude of each column (wrap-around): the wall behind what stands
    there. Columns with none that near get +inf (nothing says a thing there is the wall).
    """
    from scipy.ndimage import maximum_filter1d

    W = len(contact)
    size = max(3, int(round(2 * deg / 360.0 * W)) | 1)
    x = np.where(seen, np.asarray(contact, np.float64), -np.inf)
    env = maximum_filter1d(x, size=size, mode="wrap")
    return np.where(np.isfinite(env), env, np.inf)


def _fill_columns(x: np.ndarray, fill: np.ndarray, src: np.ndarray) -> np.ndarray:
    """x (W,) with the `fill` columns interpolated (log scale, wrap-around) between the
    nearest `src` columns on either side."""
    W = len(x)
    idx = np.nonzero(src)[0]
    cols = np.arange(W)
    pos = np.searchsorted(idx, cols) % len(idx)
    right, left = idx[pos], idx[pos - 1]
    d_r = (right - cols) % W
    d_l = (cols - left) % W
    t = d_l / np.maximum(d_l + d_r, 1)
    lx = np.log(np.maximum(x, 1e-6))
    val = np.exp(lx[left] * (1 - t) + lx[right] * t)
    return np.where(fill & ~src, val, x)


def _credible_indoor_contacts(
    dist: np.ndarray, seen: np.ndarray, found: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Indoors, contacts (W,) m that no room has, replaced; returns (dist, seen).

    In a room the floor never runs up to the horizon: a column whose ground run reaches
    (nearly) that far is floor-coloured upright structure — wood panelling, a cabinet,
    a dark bookcase — classed as ground. Such a contact (farther than
    INDOOR_CONTACT_RATIO × the median of the columns' contacts nearer than
    INDOOR_CREDIBLE m, and than INDOOR_CREDIBLE) would stand the column at the far
    field: a slab of its own beside its neighbours, and a wide depth edge that walking
    sideways opens. It takes that median (the room's typical wall distance) and counts
    as not seen. `found` (W,) bool marks the photo's columns with a ground contact (the
    only ones judged: the invented rest follows the room's estimate).
    """
    near = found & (dist < INDOOR_CREDIBLE)
    if near.sum() < 8:
        return dist, seen
    typical = float(np.median(dist[near]))
    bad = found & (dist > max(INDOOR_CONTACT_RATIO * typical, INDOOR_CREDIBLE))
    if not bad.any():
        return dist, seen
    return np.where(bad, typical, dist), seen & ~bad


def merge_narrow_layers(x: np.ndarray, min_width: int) -> np.ndarray:
    """Contact distances (W,) m with every layer narrower than `min_width` columns merged
    into its more similar neighbour (wrap-around).

    A layer is a run of columns without a depth edge (ratio EDGE_RATIO) between
    neighbours. A ramp of thin steps (the median filter's answer to a wide jump) or a
    sliver between two layers would otherwise become a comb of thin slabs with a gap at
    every step when seen from the side; after merging, one clean edge remains, which
    the background layer fills behind. Layers of at least `min_width` (a pillar) stay.
    """
    x = np.asarray(x, np.float64).copy()
    W = len(x)
    tol = math.log(EDGE_RATIO)
    for _ in range(4 * W // max(min_width, 1) + 1):
        lx = np.log(x)
        edge = np.abs(lx - np.roll(lx, 1)) >= tol  # edge between col-1 and col
        starts = np.nonzero(edge)[0]
        if len(starts) < 2:
            break
        changed = False
        widths = (np.roll(starts, -1) - starts) % W
        widths[widths == 0] = W
        order = np.argsort(widths)
        for i in order:
            if widths[i] >= min_width:
                break
            a, wdt = starts[i], widths[i]
            idx = (a + np.arange(wdt)) % W
            left, right = x[(a - 1) % W], x[(a + wdt) % W]
            mid = math.log(float(np.median(x[idx])))
            x[idx] = left if abs(math.log(left) - mid) <= abs(math.log(right) - mid) else right
            changed = True
            break  # recompute the layers
        if not changed:
            break
    return x


def smooth_panorama_contacts(
    contact: np.ndarray, median_deg: float = PANO_MEDIAN_DEG, sigma_deg: float = PANO_SIGMA_DEG
) -> np.ndarray:
    """A whole panorama's contact distances (2H,) m made one continuous surface.

    A real panorama has no photo edge that needs layers, and per-column contacts of
    vegetation, rocks and water are unreliable: a wide circular median (`median_deg`)
    then a wrap-around Gaussian in log distance (`sigma_deg`) keep the room's or the
    landscape's shape but leave no vertical depth edge, so walking sideways bends the
    far field gently instead of tearing it into slabs (the old one-sheet behaviour,
    with upright walls).
    """
    from scipy.ndimage import gaussian_filter1d

    W = len(contact)
    med = _circular_median(contact, max(3, int(W * median_deg / 360)) | 1)
    return np.exp(
        gaussian_filter1d(np.log(med), sigma=max(1.0, W * sigma_deg / 360), mode="wrap")
    ).astype(np.float32)


def _smooth_within_layers(x: np.ndarray, radius: int) -> np.ndarray:
    """Average each column's distance with neighbours on the same layer (ratio below
    EDGE_RATIO), in log space, wrap-around: small wobbles go, real steps stay."""
    lx = np.log(x)
    acc = lx.copy()
    cnt = np.ones_like(lx)
    tol = math.log(EDGE_RATIO)
    for k in range(1, radius + 1):
        for sh in (k, -k):
            nb = np.roll(lx, sh)
            ok = np.abs(nb - lx) < tol
            acc += np.where(ok, nb, 0)
            cnt += ok
    return np.exp(acc / cnt)


def _continue_contacts(
    contact: np.ndarray,
    photo_cols: np.ndarray,
    radius: float | np.ndarray,
    span_deg: float = CONTINUE_SPAN_DEG,
) -> np.ndarray:
    """Columns the photo did not see: from the photo's edge contact (continuous there, so
    the invented walls meet the photo's) towards `radius` over `span_deg` — one distance
    in metres, or per-column targets (W,)."""
    W = len(contact)
    idx = np.nonzero(photo_cols)[0]
    cols = np.arange(W)
    pos = np.searchsorted(idx, cols) % len(idx)
    right = idx[pos]  # next photo column (wrapping)
    left = idx[pos - 1]  # previous photo column
    d_r = (right - cols) % W
    d_l = (cols - left) % W
    span = span_deg / 360.0 * W
    t_l = np.clip(d_l / span, 0, 1)
    t_r = np.clip(d_r / span, 0, 1)
    target = np.broadcast_to(np.asarray(radius, np.float64), (W,))
    v_l = contact[left] * (1 - t_l) + target * t_l
    v_r = contact[right] * (1 - t_r) + target * t_r
    w_l = 1.0 / np.maximum(d_l, 1e-3)
    w_r = 1.0 / np.maximum(d_r, 1e-3)
    out = (v_l * w_l + v_r * w_r) / (w_l + w_r)
    return np.where(photo_cols, contact, out).astype(np.float32)


EDGE_SUPPORT = 0.35  # share of an upright run's rows that must show a vertical image edge
EDGE_SUPPORT_DEG = 1.0  # ... at the contact step, or within this (it moves there)
EDGE_GRADIENT = 0.025  # a horizontal luminance step (0..1 per pixel) that counts as an edge
EDGE_ACROSS = 2.0  # ... and is this many times the vertical one (not slanted grain)
RAMP_DEG = 2.0  # an unsupported step becomes a ramp of this Gaussian sigma (degrees) at least
RAMP_SLOPE = 1.015  # ... and no steeper than this ratio between neighbouring columns


def edge_support(
    lum: np.ndarray, upright: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each column boundary b in [lo, hi) (between columns b − 1 and b, wrap-around):
    the share of its upright rows where the image has a vertical edge there, and the
    mean luminance step across it over those rows.

    lum (H, W) luminance 0..1, lightly blurred (`_edge_luminance`); upright (H, W) bool:
    the rows of each column that belong to an upright run (above its ground contact,
    inside the photo). A row shows the edge when the luminance step across b is at least
    EDGE_GRADIENT and EDGE_ACROSS times the vertical step there (a wall's edge, a
    pillar's side; not wood grain or a shadow's slant). Returns two (hi − lo,) float
    arrays (0 where the two columns share no upright rows).
    """
    W = lum.shape[1]
    b = np.arange(lo, hi) % W
    left, right = (b - 1) % W, b
    gx = np.abs(lum[:, right] - lum[:, left])
    gy = 0.5 * (
        np.abs(np.gradient(lum[:, left], axis=0)) + np.abs(np.gradient(lum[:, right], axis=0))
    )
    edge = (gx >= EDGE_GRADIENT) & (gx >= EDGE_ACROSS * gy)
    rows = upright[:, left] & upright[:, right]
    n = np.maximum(rows.sum(0), 1)
    return (edge & rows).sum(0) / n, (gx * rows).sum(0) / n


def _edge_luminance(image: np.ndarray) -> np.ndarray:
    """Luminance (H, W) float32 of an image (H, W, 3) 0..1 after a 1 px Gaussian."""
    import cv2

    lum = np.asarray(image, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return cv2.GaussianBlur(lum, (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE)


def image_supported_steps(
    contact: np.ndarray,
    image: np.ndarray,
    classes: np.ndarray,
    known: np.ndarray,
    eye_height: float,
) -> np.ndarray:
    """The photo's contact distances (W,) m with every depth step the photo does not show
    turned into a ramp; the steps it shows kept, moved onto their image edge.

    A step between neighbouring columns (ratio above BACKGROUND_RATIO) is a depth edge of
    the world: walking sideways opens it and the background layer shows behind. Where it
    comes from the class map alone (a ragged ground line across a table top, a shadow
    taken for the floor's end) the photo shows one surface there, and the step cut it
    into vertical slabs: a coffee cup in three, with stripes of what lies behind through
    it, seen from a step aside. Depth edges go where image edges are (Hoiem et al. 2005
    fold their pop-up along image boundaries; Shih et al. 2020 cut the layered depth
    image at depth edges aligned with them): a step is kept when at least EDGE_SUPPORT
    of the upright rows above the two columns' contacts show a vertical image edge
    (`edge_support`) at it or within EDGE_SUPPORT_DEG, where it moves; any other step's
    log distance is smoothed (Gaussian, RAMP_DEG) within the run of columns between kept
    steps, fading to none 4 sigma away, so the surface turns there instead of tearing.

    image (H, W, 3) 0..1, classes (H, W), known (H, W) 0..1 (the photo), all at the
    contact's width W. Columns outside the photo are returned unchanged.
    """
    from scipy.ndimage import gaussian_filter1d

    H, W = classes.shape
    x = np.asarray(contact, np.float64)
    photo = (known >= 0.5).any(0)
    if photo.sum() < 4 or photo.all():
        return contact
    lx = np.log(np.maximum(x, 1e-6))
    # (steps from BACKGROUND_RATIO on: a smaller one has no background behind it, but no
    # splat spans it either, and it opens a crack)
    tol = math.log(BACKGROUND_RATIO)
    steps = np.nonzero(photo & np.roll(photo, 1) & (np.abs(lx - np.roll(lx, 1)) >= tol))[0]
    if not len(steps):
        return contact
    _, lat = pano_lonlat(H)
    lat_c = -np.arctan(eye_height / np.maximum(x, 1e-3))
    upright = (classes == UPRIGHT) & (known >= 0.5) & (lat[:, None] > lat_c[None, :])
    lum = _edge_luminance(image)
    reach = max(1, int(round(W * EDGE_SUPPORT_DEG / 360)))
    offsets = np.arange(-reach, reach + 1)
    kept, ramped = [], []
    for b in steps:
        share, strength = edge_support(lum, upright, b - reach, b + reach + 1)
        # of the boundaries that show an edge, the strongest (a blurred edge shows at
        # its neighbours too)
        i = int(np.argmax(np.where(share >= EDGE_SUPPORT, strength, -1.0)))
        if share[i] >= EDGE_SUPPORT:
            kept.append((int(b), int((b + offsets[i]) % W)))
        else:
            ramped.append(int(b))
    if not ramped and all(b == e for b, e in kept):
        return contact
    lx = lx.copy()
    # a kept step moves onto its image edge: the columns between take the distance of
    # the side the edge puts them on
    for b, e in kept:
        if offsets.min() <= (e - b + W // 2) % W - W // 2 < 0:  # edge left of the step
            lx[(e + np.arange((b - e) % W)) % W] = lx[b]
        elif e != b:  # edge right of it
            lx[(b + np.arange((e - b) % W)) % W] = lx[(b - 1) % W]
    if not ramped:
        return np.where(photo, np.exp(lx), x).astype(np.float32)
    cut = photo != np.roll(photo, 1)  # cut[b]: no smoothing across the boundary b-1 | b
    for _, e in kept:
        cut[e] = True
    sigma0 = max(1.0, W * RAMP_DEG / 360)
    ramped_at = np.zeros(W, bool)
    ramped_at[ramped] = True
    out = lx.copy()
    starts = np.nonzero(cut)[0]
    for i, s in enumerate(starts):
        idx = (s + np.arange((starts[(i + 1) % len(starts)] - s) % W or W)) % W
        pos = np.nonzero(ramped_at[idx])[0]
        pos = pos[pos > 0]  # (a step at the run's start is a kept one or the photo's edge)
        inner = idx[pos]
        if not photo[idx[0]] or not len(inner):
            continue
        # wide enough that no column steps by more than RAMP_SLOPE (a steeper ramp opens
        # a crack as a step does): the Gaussian's steepest slope is jump / (sigma √2π)
        jump = float(np.max(np.abs(lx[inner] - lx[inner - 1])))
        sigma = max(sigma0, jump / (math.sqrt(2 * math.pi) * math.log(RAMP_SLOPE)))
        # within the run only (its ends reflected: nothing pulled across a kept edge)
        smooth = gaussian_filter1d(lx[idx], sigma, mode="nearest")
        # all of it within 2.5 sigma of a ramped step (where it differs), none from 4 sigma
        # (positions along the run: it may wrap round the panorama's seam)
        dist = np.min(np.abs(np.arange(len(idx))[:, None] - pos[None, :] + 0.5), 1)
        w = np.clip((4.0 * sigma - dist) / (1.5 * sigma), 0.0, 1.0)
        out[idx] = w * smooth + (1.0 - w) * lx[idx]
    return np.where(photo, np.exp(out), x).astype(np.float32)


def _circular_median(x: np.ndarray, size: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(x, size=size, mode="wrap")


def layered_depth(
    classes: np.ndarray,
    *,
    eye_height: float,
    radius: float,
    far: float,
    sky_radius: float,
    known: np.ndarray | None = None,
    ceiling_height: float | None = None,
    image: np.ndarray | None = None,
    room_radius: float | None = None,
    room_front: float | None = None,
) -> Layers:
    """Depth of every panorama ray from its class (see the module docstring).

    room_radius: indoors, the half-width of the invented box room (default `radius`);
    the outpainting's layout gives it (and `ceiling_height`, and `room_front`, the
    distance of the wall the photo faces when nearer) so the painted creases are the
    geometry's.

    image (H, 2H, 3) 0..1, optional, marks a real whole panorama (`known` None): its
    contacts become one continuous surface (`smooth_panorama_contacts`), outdoors none
    nearer than their median; indoors the things that stand clearly (EDGE_RATIO) in
    front of that surface stand at their own contact (`standing.standing_things`), as
    in a photo: smoothed into the walls, the lower half of a box or a chair lay on the
    floor as a streak seen from aside. In a photo, the same but for a wall nearer than
    NEAR_CONTACT_M: what stands at the farthest contact near it (`backdrop_envelope`) is
    that wall. Without it every column stands at its own contact.
    """
    H, W = classes.shape
    _, lat = pano_lonlat(H)
    lat = lat[:, None].astype(np.float64)
    sky = classes == SKY
    indoor = not sky.any()
    stand = None
    if image is not None and (known is not None or indoor):
        from generators.standing import PANO_WORK_WIDTH, WORK_WIDTH, standing_things

        kn = known if known is not None else np.ones(classes.shape, np.float32)
        stand, stand_dist = standing_things(
            image,
            classes,
            kn,
            eye_height=eye_height,
            work_width=WORK_WIDTH if known is not None else PANO_WORK_WIDTH,
        )
        if known is None and stand.any():
            # a whole room's panorama: what stands clearly in front of the room's walls
            # (their contacts made one surface, as below), not a skirting board or the
            # foot of a wall, which stand where the wall does and would only hide its
            # contacts
            walls, _ = ground_contacts(classes, eye_height, far, None, radius)
            walls = smooth_panorama_contacts(walls)
            stand = stand & (stand_dist * EDGE_RATIO < walls[None, :])
        elif stand.any():
            # a photo: what stands clearly in front of the farthest contact near it (the
            # wall behind it). A wall's own segment, meeting the floor where the wall
            # does, is the backdrop: counted as standing it hid its own contact, and the
            # wall behind a desk, a pillar and a box took a pillar's distance, 3.9 m for
            # 6 m (bench/world_synthetic.py --table)
            # (one standing farther than that wall is no thing but a misread contact, a
            # floor-coloured cabinet's top: it keeps hiding its columns as before)
            raw, _ = ground_contacts(classes, eye_height, far, known, radius)
            walls = backdrop_envelope(raw, (known >= 0.5).any(0), BACKDROP_DEG)[None, :]
            at_wall = (stand_dist * EDGE_RATIO >= walls) & (stand_dist <= walls * EDGE_RATIO)
            # ... a wall, not the far field: contacts tens of metres off step by metres
            # from one column to the next, and the Sceaux castle's facade, no longer
            # hiding them, cracked into columns with the sky through the tree before it
            at_wall &= walls < NEAR_CONTACT_M
            stand = stand & ~at_wall
        stand_dist = np.where(stand, stand_dist, 0.0).astype(np.float32)
        if not stand.any():
            stand = None
    contact, seen = ground_contacts(classes, eye_height, far, known, radius, occluders=stand)
    if known is not None and image is not None and known.shape == classes.shape:
        contact = image_supported_steps(contact, image, classes, known, eye_height)
    # columns the photo never saw keep the wall radius (the room's estimate)
    photo_cols = seen if known is None else (known >= 0.5).any(0)
    if known is None and image is not None:
        # a whole panorama (no photo edge needing layers): one continuous surface
        contact = smooth_panorama_contacts(contact)
        if not indoor:
            # outdoors a whole panorama's near "uprights" are mostly vegetation and rocks
            # on the slope, seen against the far field above them: no column stands
            # nearer than the surroundings' typical (median) distance
            contact = np.maximum(contact, float(np.median(contact)))
    if known is not None and photo_cols.any() and not photo_cols.all():
        # outdoors nothing says the unseen surroundings are near: they continue to the
        # far field (no invented wall standing against the sky close by)
        span = CONTINUE_SPAN_DEG
        if indoor:
            # the invented room is a box with planar walls (half-width `radius`, square
            # to the photo's view): straight creases, no fisheye bowl of a cylinder
            from generators.panorama.layout import box_factor

            lon, _ = pano_lonlat(H)
            r_box = room_radius or radius
            front = 1.0 if room_front is None else min(room_front / r_box, 1.0)
            target = r_box / box_factor(lon, front)
            if room_radius is not None:
                # the outpainting painted this box's creases from LAYOUT_FAR_DEG beyond the
                # photo on: the walls reach it as soon, or its painted floor, nearer than
                # a slowly continued wall, stands up on that wall as a ramp beside the photo
                from generators.panorama.outpaint_classical import LAYOUT_FAR_DEG

                span = LAYOUT_FAR_DEG
                # ... and the photo's own walls stand no farther than the box's: a dark
                # cabinet classed as floor put the office's back-left corner 8 m off
                # behind a box wall at 3 m, and seen from a step aside the photo sat
                # recessed behind the invented room as behind a window
                contact = np.where(photo_cols, np.minimum(contact, target * BOX_SLACK), contact)
        else:
            target = far
        contact = _continue_contacts(contact, photo_cols, target, span)
    c = np.maximum(np.cos(lat), 1e-6)
    s = np.sin(lat)
    floor = np.where(lat < 0, eye_height / np.maximum(-s, 1e-6), np.inf)
    floor = np.minimum(floor, far / c)
    wall = contact[None, :] / c
    # ground above a column's contact is a speck on the upright thing (a contact has no
    # more than SPECK_FRACTION ground above it): it lies on the upright, not beyond it —
    # a floor patch placed behind the wall would open a hole in it when walking
    depth = np.where(classes == GROUND, np.where(floor > wall * EDGE_RATIO, wall, floor), wall)
    if stand is not None:
        # things standing in front of the backdrop, vertical at their own contact
        d_st = stand_dist / c
        depth = np.where(stand & (d_st * EDGE_RATIO < depth), d_st, depth)
    est = {}
    if indoor:
        src = "option"
        if ceiling_height is None:
            # the walls the photo shows reach up to the ceiling: the top of the upright
            # structure at its contact distance (median over the photo's columns)
            up_rows = (classes == UPRIGHT) & (lat > 0)
            if known is not None:
                up_rows &= known >= 0.5
            cols = up_rows.any(0)
            if cols.sum() >= 8:
                top = np.argmax(up_rows, axis=0)
                tops = eye_height + contact[cols] * np.tan(lat[top[cols], 0])
                from generators.panorama.layout import max_ceiling

                hi = max_ceiling(room_radius or radius, eye_height)
                ceiling_height = float(np.clip(np.median(tops), DEFAULT_CEILING, hi))
                src = "top of the photo's walls at their ground contact"
            else:
                ceiling_height = max(DEFAULT_CEILING, eye_height + 0.6)
                src = "default"
        ch = float(ceiling_height)
        ceil = np.where(lat > 0, (ch - eye_height) / np.maximum(s, 1e-6), np.inf)
        depth = np.where(classes == CEILING, np.minimum(ceil, far / c), depth)
        # upright structure never rises through the ceiling: the photo's own walls reach
        # it (the ceiling height came from the median of their tops), and what of them
        # rises higher at its contact's distance lies on the ceiling plane. Standing above
        # it, a close-up's subject 10 m off (a cat's face, 6 m tall) hid the ceiling
        # behind its top from the eye, and stepping forward showed a black void there
        up = classes == UPRIGHT
        depth = np.where(up, np.minimum(depth, ceil), depth)
        if known is not None:
            # an invented ceiling never lies beyond the invented walls (no gap at their top)
            inv_c = (classes == CEILING) & (known < 0.5)
            depth = np.where(inv_c, np.minimum(depth, wall), depth)
        est["ceiling_height"] = {"value": round(ch, 3), "source": src}
    else:
        # outdoors the upright things stop at the sky; the ground never passes the far field
        depth = np.where(sky, sky_radius, depth)
    depth = np.minimum(depth, np.where(sky, sky_radius, far / c))
    # nothing lies below the floor: a ray below the horizon ends on the floor at the latest
    depth = np.where(sky, depth, np.minimum(depth, floor))
    est["indoor"] = {
        "value": bool(indoor),
        "source": "no sky in the panorama's top" if indoor else "sky found above the horizon",
    }
    return Layers(
        depth=np.ascontiguousarray(depth, np.float32),
        classes=classes,
        sky=sky,
        contact=contact,
        estimates=est,
    )


BOX_SLACK = 1.15  # indoors a photo column's wall stands at most this × the room box's wall off

OUTDOOR_FAR = 40.0  # m: the far field outdoors at least this far
CONTACT_FAR = 60.0  # m: ground contacts are measured out to this (beyond: no contact)
DISTANT_MIN = 15.0  # m: distant upright things (a building across a square) at least this far
DISTANT_COLUMNS = 12  # ... measured on at least this many of the photo's columns
NEAR_CONTACT_M = 15.0  # a ground contact farther than this is no wall (open ground)
NEAR_SHARE = 0.25  # ... and near contacts must be this share of the seen columns


def distant_radius(contact: np.ndarray, cols: np.ndarray) -> float | None:
    """Outdoors, how far the photo's distant upright things stand (m): the median of the
    contacts (W,) m of its columns `cols` (W,) bool that lie within CONTACT_FAR, held to
    DISTANT_MIN..CONTACT_FAR (a building or a tree line across a square or a lawn; the
    columns where the ground runs on to the horizon past a tree say nothing of it). None
    with fewer than DISTANT_COLUMNS such columns."""
    distant = cols & (contact < CONTACT_FAR)
    if distant.sum() < DISTANT_COLUMNS:
        return None
    return float(np.clip(np.median(contact[distant]), DISTANT_MIN, CONTACT_FAR))


def far_radius(radius: float, outdoor: bool) -> float:
    """The far field's radius (m) for a world whose nearest walls stand `radius` m off:
    twice that, within 6 m..CONTACT_FAR, and outdoors at least OUTDOOR_FAR (the ground
    runs to the horizon: the far field, hills, water, trees on the skyline, is far, and
    walking shows no parallax tears between it and the sky)."""
    far = float(np.clip(2.0 * radius, 6.0, CONTACT_FAR))
    return max(far, OUTDOOR_FAR) if outdoor else far


def radius_from_contacts(contact: np.ndarray, seen: np.ndarray) -> float | None:
    """Room / wall radius (m): the median distance of the near ground contacts the photo
    shows (contact (W,) m per panorama column, seen (W,) bool: the contact is in view).

    None when fewer than 12 columns, or fewer than NEAR_SHARE of the seen ones, have a
    contact nearer than NEAR_CONTACT_M: then most upright things stand far off (a tree line
    across a lake), and a rock or two nearby must not pull the whole invented world in —
    the same place seen through a wider stitched view got 11 m, its middle photo 52 m.
    """
    use = seen & (contact < NEAR_CONTACT_M)  # the ground running to the horizon is no wall
    if use.sum() < max(12, NEAR_SHARE * seen.sum()):
        return None
    return float(np.median(contact[use]))


def edge_aware_step(d: np.ndarray, axis: int, wrap: bool = False) -> np.ndarray:
    """Depth change to the next pixel along `axis`, taken on the pixel's own side of a
    depth edge: of the forward and backward differences, the smaller in magnitude, so no
    splat spans a jump between layers. (H, W) float32."""
    if wrap:
        fwd = np.roll(d, -1, axis) - d
        bwd = d - np.roll(d, 1, axis)
    else:
        fwd = np.diff(d, axis=axis, append=np.take(d, [-1], axis=axis))
        bwd = np.diff(d, axis=axis, prepend=np.take(d, [0], axis=axis))
    out = np.where(np.abs(fwd) < np.abs(bwd), fwd, bwd)
    both = (np.abs(fwd) / np.maximum(d, 1e-6) > EDGE_RATIO - 1) & (
        np.abs(bwd) / np.maximum(d, 1e-6) > EDGE_RATIO - 1
    )
    out = np.where(both, 0.0, out)  # a one-pixel sliver: flat, facing the eye
    return out.astype(np.float32)


def nearest_far_side(
    depth: np.ndarray, reach: int, ratio: float = EDGE_RATIO
) -> tuple[np.ndarray, np.ndarray]:
    """The far side of the nearest depth step on either side of each pixel, along rows.

    depth (H, W) m, wrap-around in the columns; 0 (sky) never counts as a far side.
    Looking up to `reach` columns to the left and to the right, the first pixel that is
    farther than `ratio` × the pixel's own depth AND stands more than `ratio` behind the
    pixel one or two columns nearer (a step, not a wall receding gradually along the
    row). Returns (depth (H, W) float32 of the farther of the two sides' far pixels, 0
    where neither side has one; column (H, W) int64 of that pixel, −1 where none).

    The surface just behind an occluder's edge is what walking sideways reveals there:
    the row's farthest depth within reach put the hidden part of a desk card behind a
    chair onto the wall or the floor 1-2 m behind it, seen as dark slabs through the desk
    from a step forward (the office world)."""
    d = np.asarray(depth, np.float32)
    H, W = d.shape
    reach = int(min(reach, W - 3))
    p = reach + 2
    pad = np.concatenate([d[:, W - p :], d, d[:, :p]], 1)
    thr = d * ratio
    best = np.zeros_like(d)
    best_col = np.full((H, W), -1, np.int64)
    cols = np.arange(W)[None, :]
    for side in (1, -1):
        found = np.zeros((H, W), bool)
        got = np.zeros_like(d)
        got_col = np.full((H, W), -1, np.int64)
        for k in range(1, reach + 1):
            nb = pad[:, p + side * k : p + side * k + W]
            n1 = pad[:, p + side * (k - 1) : p + side * (k - 1) + W]
            n2 = pad[:, p + side * (k - 2) : p + side * (k - 2) + W]
            hit = ~found & (nb > thr) & (nb > np.minimum(n1, n2) * ratio)
            if hit.any():
                got[hit] = nb[hit]
                got_col[hit] = np.broadcast_to((cols + side * k) % W, (H, W))[hit]
                found |= hit
        better = got > best
        best = np.where(better, got, best)
        best_col = np.where(better, got_col, best_col)
    return best, best_col


def background_layer(
    image: np.ndarray,
    depth: np.ndarray,
    sky: np.ndarray,
    classes: np.ndarray | None = None,
    *,
    eye_height: float = EYE_HEIGHT,
    far: float | None = None,
    contact: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What hides behind the near side of depth edges, and the ground under upright things.

    Returns (mask (H, 2H) bool, depth (H, 2H) m, colour (H, 2H, 3)):
      * pixels within BACKGROUND_DEG of longitude of a step (BACKGROUND_RATIO) to a
        farther surface in the same row: that surface continued behind them (its depth:
        the far side of the nearest such step, `nearest_far_side`);
      * with `classes`: every non-ground pixel below the horizon also hides the ground:
        the floor plane continues under it (out to `far`, and with `contact` (2H,) m, the
        layers' backdrop contact per column, only to that: then the backdrop rises).
    Colours continue the visible background of each row — never the occluder or the sky
    (`continue_background`), with its fine texture — so walking sideways reveals
    background, not a stretched streak or a flat blurred block.
    """
    import cv2
    from scipy.ndimage import maximum_filter1d

    H, W = depth.shape
    n = max(3, int(round(BACKGROUND_DEG / 360.0 * W)))
    finite = np.where(sky, 0.0, depth).astype(np.float32)
    far_d, _ = nearest_far_side(finite, n, BACKGROUND_RATIO)
    mask = (far_d > depth * BACKGROUND_RATIO) & ~sky
    # a row with sky beside the near thing (a tree's crown, a launch tower against the
    # sky — below the horizon too, where a photo looking up shows sky) has sky behind
    # it: the sky dome shows there (`pano_world.build_splats` continues it down to the
    # sky's lowest row), not a far surface coloured from the ground
    sky_beside = maximum_filter1d(sky.astype(np.uint8), size=2 * n + 1, axis=1, mode="wrap") > 0
    mask &= ~sky_beside
    out_d = np.where(mask, far_d, depth).astype(np.float32)
    ground_under = np.zeros_like(mask)
    if classes is not None:
        _, lat = pano_lonlat(H)
        lat = lat[:, None]
        floor = eye_height / np.maximum(np.sin(-lat), 1e-6)
        if far is not None:
            floor = np.minimum(floor, far / np.maximum(np.cos(lat), 1e-6))
        on_wall = np.zeros_like(mask)
        if contact is not None:
            # the floor under a thing runs back to the wall behind it (its column's
            # backdrop contact), not beyond: the office's floor continued under the desk
            # out to the far field, 8 m off through the wall, and seen from 2 m aside it
            # was a long slanted smear of the row's colours
            wall = np.asarray(contact, np.float32)[None, :] / np.maximum(np.cos(lat), 1e-6)
            on_wall = np.broadcast_to(wall < floor, mask.shape)
            floor = np.minimum(floor, wall)
        # every ray below the horizon that ends nearer than the floor hides floor behind
        # it: upright things, and ground specks that lie on them (`layered_depth`)
        # ... where the row shows ground beside it: with sky beside, the panorama's own
        # horizon lies lower than the floor model's, and the sky dome continues behind
        # (a floor wedge there stood above the visible ground as a grey slab)
        ground_under = ~sky & ~sky_beside & (lat < -0.02) & (floor > depth * EDGE_RATIO)
        # the floor is what the near side shows below the horizon when it is nearer
        use_floor = ground_under & (~mask | (floor < out_d))
        out_d = np.where(use_floor, floor, out_d).astype(np.float32)
        mask = mask | ground_under
        # the floor's colour only where the floor is what lies behind (elsewhere the far
        # side's surface is, and takes its colour: a chair before a desk showed the dark
        # floor under the desk through the desk's front; beyond the wall's foot, the wall)
        ground_under = use_floor & ~on_wall
    if not mask.any():
        return mask, depth, image
    hs = min(256, H)
    small = cv2.resize(np.clip(image, 0, 1), (2 * hs, hs), interpolation=cv2.INTER_AREA)
    m_s = cv2.resize(mask.astype(np.uint8), (2 * hs, hs), interpolation=cv2.INTER_NEAREST)
    m_s = cv2.dilate(m_s, np.ones((3, 3), np.uint8)) > 0
    sky_s = cv2.resize(sky.astype(np.uint8), (2 * hs, hs), interpolation=cv2.INTER_NEAREST) > 0
    d_s = cv2.resize(depth.astype(np.float32), (2 * hs, hs), interpolation=cv2.INTER_NEAREST)
    gu_s = cv2.resize(ground_under.astype(np.uint8), (2 * hs, hs), interpolation=cv2.INTER_NEAREST)
    gr_s = (
        None
        if classes is None
        else cv2.resize(classes, (2 * hs, hs), interpolation=cv2.INTER_NEAREST) == GROUND
    )
    n_s = max(3, int(round(BACKGROUND_DEG / 360.0 * 2 * hs)))
    _, fc_s = nearest_far_side(np.where(sky_s, 0.0, d_s).astype(np.float32), n_s, BACKGROUND_RATIO)
    filled = continue_background(small, m_s, sky_s, d_s, gu_s > 0, gr_s, far_col=fc_s)
    col = cv2.resize(filled, (W, H), interpolation=cv2.INTER_LINEAR)
    return mask, out_d, col.astype(np.float32)


def _nearest_source(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of a wrap-around (h, w) mask: the column of the nearest `src` pixel in the
    same row to the left and to the right (−1 where the row has none), and their
    distances in columns (left, right stacked: (2, h, w) each)."""
    h, w = src.shape
    cols = np.arange(3 * w)[None, :]
    t = np.tile(src, (1, 3))
    left = np.maximum.accumulate(np.where(t, cols, -(10 * w)), axis=1)[:, w : 2 * w]
    right = np.minimum.accumulate(np.where(t, cols, 20 * w)[:, ::-1], axis=1)[:, ::-1][:, w : 2 * w]
    here = np.arange(w, 2 * w)[None, :]
    dist = np.stack([here - left, right - here])
    idx = np.stack([left % w, right % w])
    none = ~src.any(1)
    idx[:, none] = -1
    return idx, dist


def continue_background(
    image: np.ndarray,
    hole: np.ndarray,
    sky: np.ndarray,
    depth: np.ndarray,
    ground_hole: np.ndarray,
    ground: np.ndarray | None,
    seed: int = 0,
    far_col: np.ndarray | None = None,
) -> np.ndarray:
    """Colours (h, 2h, 3) 0..1 for the hidden background: `image` with `hole` filled.

    Each hole pixel continues the visible background of its own row — the nearer side
    of the two (left, right) that lies farther from the eye (`depth`), so the occluder
    never colours what hides behind it; the floor under upright things (`ground_hole`)
    continues the visible ground (`ground`) around it (normalised convolution). The row's
    colour is taken from a few source pixels (no single edge pixel smeared), and the
    source's fine texture is added back as random-phase spot noise
    (`panorama.texture.adsn_texture`, Galerne et al. 2011) no stronger than the invented
    surfaces' grain (MAX_GRAIN), so a revealed region is neither a flat block nor a copy
    of what is beside it. Rows without any source fall
    back to Telea inpainting (Telea 2004). Wrap-around in longitude.

    far_col (h, 2h) int, optional: the column of the surface each hole pixel continues
    (`nearest_far_side`, −1: none), which then replaces the two-sided choice; its colour
    is the mean of the pixels of that surface (depth within BACKGROUND_RATIO) around it.
    """
    import cv2
    from scipy.ndimage import find_objects, gaussian_filter1d, label

    from generators.panorama.outpaint_classical import MAX_GRAIN, _normalised_fill
    from generators.panorama.texture import adsn_texture

    h, w = hole.shape
    img = np.asarray(image, np.float32)
    src = ~hole & ~sky
    out = img.copy()
    # source colours averaged over a few columns of the same surface (wrap-around)
    k = max(2, w // 128)
    pad = 2 * k
    wt = np.concatenate([src[:, -pad:], src, src[:, :pad]], 1).astype(np.float32)
    ip = np.concatenate([img[:, -pad:], img, img[:, :pad]], 1)
    num = cv2.blur(ip * wt[..., None], (2 * k + 1, 1))
    den = cv2.blur(wt, (2 * k + 1, 1))
    src_col = (num / np.maximum(den, 1e-6)[..., None])[:, pad : pad + w]
    # fine texture of the visible background (what the row colour leaves out)
    hp_pad = ip - cv2.GaussianBlur(ip, (0, 0), 1.5)
    hp = np.where(src[..., None], hp_pad[:, pad : pad + w], 0.0).astype(np.float32)
    idx, dist = _nearest_source(src)
    rows = np.arange(h)[:, None].repeat(w, 1)
    # the farther of the two sides is the background (ties: the nearer one)
    d_side = np.where(idx >= 0, depth[rows[None], np.maximum(idx, 0)], -1.0)
    pick = np.where(
        np.abs(np.log(np.maximum(d_side[0], 1e-6) / np.maximum(d_side[1], 1e-6)))
        < math.log(EDGE_RATIO),
        (dist[1] < dist[0]).astype(int),
        (d_side[1] > d_side[0]).astype(int),
    )
    chosen = np.take_along_axis(idx, pick[None], 0)[0]
    surface = None
    if far_col is not None:
        surface = hole & (far_col >= 0)
        chosen = np.where(surface, far_col, chosen)
    ground_used = np.zeros_like(hole)
    if ground is not None and ground_hole.any():
        g_idx, g_dist = _nearest_source(src & ground)
        g_pick = (g_dist[1] < g_dist[0]).astype(int)
        g_chosen = np.take_along_axis(g_idx, g_pick[None], 0)[0]
        ground_used = ground_hole & (g_chosen >= 0)
        chosen = np.where(ground_used, g_chosen, chosen)
    ok = hole & (chosen >= 0)
    fill = src_col[rows, np.maximum(chosen, 0)]
    if ground_used.any():
        # the floor under a thing in the colours of the visible floor around it (2D), not
        # of its row's nearest ground pixel: one dark row beside the office's desk (a
        # shadow line, a slat classed ground) streaked across the floor revealed under it
        fill = np.where(ground_used[..., None], _normalised_fill(img, src & ground), fill)
    if surface is not None:
        surface &= ~ground_used
        if surface.any():
            fill[surface] = _surface_colour(img, depth, ~sky, chosen, surface, k)
            hp = np.where(sky[..., None], 0.0, hp_pad[:, pad : pad + w]).astype(np.float32)
    # a little vertical smoothing inside the hole: rows continue, single rows do not streak
    wv = ok.astype(np.float32)
    fs = gaussian_filter1d(fill * wv[..., None], 3.0, axis=0)
    ws = gaussian_filter1d(wv, 3.0, axis=0)
    fill = np.where(ws[..., None] > 1e-3, fs / np.maximum(ws, 1e-6)[..., None], fill)
    # random-phase texture per hole region, from the background pixels it continues
    lab, n = label(ok, structure=np.ones((3, 3)))
    noise = np.random.default_rng(seed).standard_normal((h, w)).astype(np.float32)
    tex = np.zeros_like(img)
    for i, sl in enumerate(find_objects(lab, n), start=1):
        if sl is None:
            continue
        rs, cs = sl
        region = lab[rs, cs] == i
        if region.sum() < 16:
            continue
        used = chosen[rs, cs][region]
        c0, c1 = int(used.min()), int(used.max()) + 1
        if c1 - c0 > w // 2:  # the source wraps around the seam
            c0, c1 = 0, w
        c0, c1 = max(0, min(c0, w - 8)), min(w, max(c1, c0 + 8))
        # the grain of the surface continued alone (its depth, within EDGE_RATIO of
        # its sources' median): the things before it in the same columns gave the wall
        # behind a box a random-phase mix of the box's, a pillar's and a block's colours,
        # a striped ghost beside the box from a step aside
        d_src = depth[rows[rs, cs][region], used]
        d_surf = float(np.median(d_src[d_src > 0])) if (d_src > 0).any() else 0.0
        ex = hp[rs, c0:c1]
        if d_surf > 0:
            d_ex = np.maximum(depth[rs, c0:c1], 1e-6)
            same = np.abs(np.log(d_ex / d_surf)) < math.log(EDGE_RATIO)
            # (and not within the high-pass's reach of another surface: its colour bleeds)
            same = cv2.erode(same.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            ex = np.where(same[..., None], ex, 0.0)
        if ex.shape[0] < 4 or ex.shape[1] < 4:
            continue
        t = adsn_texture(ex, (rs.stop - rs.start, cs.stop - cs.start), noise=noise[rs, cs])
        # no stronger than the invented surfaces' grain: at full strength the random-phase
        # copy of a bookcase's spines was a mosaic of coloured blocks behind the office's desk
        sd = float(t[region].std())
        if sd > MAX_GRAIN:
            t = t * (MAX_GRAIN / sd)
        tex[rs, cs] += np.where(region[..., None], t, 0.0)
    fill = fill + tex
    out = np.where(ok[..., None], fill, out)
    rest = hole & ~ok
    if rest.any():
        # rows with nothing to continue: Telea from the background only
        pad = h // 4
        u8 = np.clip(np.concatenate([out[:, -pad:], out, out[:, :pad]], 1), 0, 1) * 255 + 0.5
        mp = rest | sky
        mp = np.concatenate([mp[:, -pad:], mp, mp[:, :pad]], 1).astype(np.uint8)
        tel = cv2.inpaint(u8.astype(np.uint8), mp, 5, cv2.INPAINT_TELEA)[:, pad : pad + w]
        out = np.where(rest[..., None], tel.astype(np.float32) / 255, out)
    return np.clip(out, 0, 1).astype(np.float32)


def _surface_colour(
    img: np.ndarray,
    depth: np.ndarray,
    valid: np.ndarray,
    col: np.ndarray,
    where: np.ndarray,
    k: int,
) -> np.ndarray:
    """(P, 3) mean colour of the `valid` pixels within `k` columns of column `col` (h, w)
    in each `where` (h, w) pixel's row whose depth is within BACKGROUND_RATIO of the
    depth at `col` (the same surface; nothing across its edge). Wrap-around."""
    h, w = depth.shape
    r, c = np.nonzero(where)
    j = col[r, c]
    ld = np.log(np.maximum(depth, 1e-6))
    ref = ld[r, j]
    num = np.zeros((len(r), 3), np.float64)
    den = np.zeros(len(r), np.float64)
    tol = math.log(BACKGROUND_RATIO)
    for o in range(-k, k + 1):
        jj = (j + o) % w
        wgt = (valid[r, jj] & (np.abs(ld[r, jj] - ref) < tol)).astype(np.float64)
        num += img[r, jj] * wgt[:, None]
        den += wgt
    out = img[r, j].astype(np.float64)
    some = den > 0
    out[some] = num[some] / den[some, None]
    return out.astype(np.float32)


AO_STRENGTH = 0.22  # darkening right at a crease between floor, wall and ceiling
AO_FALLOFF = 0.3  # m: the crease's shadow fades over this distance
FLOOR_LIGHT = 0.86  # floor / ceiling brightness relative to the walls (light from the
CEILING_LIGHT = 0.94  # windows and lamps falls mostly on the walls)
WALL_SIDE_LIGHT = (0.88, 0.93)  # walls at right angles to the photo's (its left, its right)
CORNER_TURN_DEG = 30.0  # a wall turning by more than this within CORNER_SPAN_DEG is a corner
CORNER_SPAN_DEG = 3.0


def room_shading(
    depth: np.ndarray,
    contact: np.ndarray,
    *,
    eye_height: float,
    ceiling_height: float,
    facing: float = 0.0,
) -> np.ndarray:
    """Shading factor (H, 2H) for an indoor room from its geometry (1 = unchanged).

    Each ray's end point is on the floor (y ≈ 0), the ceiling (y ≈ `ceiling_height`) or
    a wall (the column's `contact` distance, m). Where two surfaces meet less ambient
    light arrives ("ambient obscurance", Zhukov, Iones & Kronin 1998, as a function of
    the distance to the crease): along the floor and the ceiling, and in the vertical
    corners where two walls meet (a turn of the walls by over CORNER_TURN_DEG). The floor
    and ceiling are a little darker than the walls, and walls at right angles to the
    one the photo faces (longitude `facing`, radians) take less of the light falling
    along the photo's view (WALL_SIDE_LIGHT): the photo's own wall and the one opposite
    keep their light, so the photo is met without a step. Used on the invented part of
    an indoor panorama so a turned view reads as a room — wall, floor, ceiling and corner
    creases where the geometry has them — without copying anything from the photo.
    """
    H, W = depth.shape
    lon, lat = pano_lonlat(H)
    lat = lat[:, None]
    y = eye_height + depth * np.sin(lat)
    r = depth * np.cos(lat)
    tol = 0.03 + 0.01 * depth
    on_floor = y < tol
    on_ceil = y > ceiling_height - tol
    wall_r = contact[None, :]
    to_wall = np.maximum(wall_r - r, 0.0)
    along, side = _wall_corners(np.asarray(contact, np.float64), lon, facing)
    occl = np.where(
        on_floor | on_ceil,
        np.exp(-to_wall / AO_FALLOFF),
        np.exp(-np.maximum(y, 0) / AO_FALLOFF)
        + np.exp(-np.maximum(ceiling_height - y, 0) / AO_FALLOFF)
        + np.exp(-along / AO_FALLOFF)[None, :],
    )
    shade = 1.0 - AO_STRENGTH * np.clip(occl, 0, 1)
    shade = np.where(
        on_floor,
        shade * FLOOR_LIGHT,
        np.where(on_ceil, shade * CEILING_LIGHT, shade * side[None, :]),
    )
    return shade.astype(np.float32)


def _wall_corners(
    contact: np.ndarray, lon: np.ndarray, facing: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per column (2H,): the distance (m, along the floor) from the wall's foot to the
    nearest vertical inside corner, and the wall's light factor (WALL_SIDE_LIGHT by the
    angle between its normal and the photo's view direction)."""
    pts = np.stack([contact * np.sin(lon), -contact * np.cos(lon)], -1)  # (x, z) of the foot
    k = max(1, int(round(CORNER_SPAN_DEG / 360.0 * len(lon) / 2)))
    tang = np.roll(pts, -k, 0) - np.roll(pts, k, 0)
    heading = np.unwrap(np.arctan2(tang[:, 1], tang[:, 0]))
    # an inside corner turns the wall towards the eye: with longitude increasing the
    # walls run anticlockwise seen from above, so the heading rises by ~90° there
    turn = np.roll(heading, -k) - np.roll(heading, k)
    turn = (turn + np.pi) % (2 * np.pi) - np.pi
    corner = turn > np.radians(CORNER_TURN_DEG)
    along = np.full(len(lon), np.inf)
    if corner.any():
        # the corner's point: the sharpest turn of each run of corner columns
        idx = np.nonzero(corner)[0]
        runs = np.split(idx, np.nonzero(np.diff(idx) > 1)[0] + 1)
        tips = np.array([run[np.argmax(turn[run])] for run in runs])
        dist = np.linalg.norm(pts[:, None, :] - pts[None, tips, :], axis=-1)
        along = dist.min(1)
    # the wall's normal, turned towards the eye
    normal = np.stack([tang[:, 1], -tang[:, 0]], -1)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-9)
    normal *= np.where((normal * pts).sum(-1) > 0, -1.0, 1.0)[:, None]
    view = np.array([np.sin(facing), -np.cos(facing)])
    across = normal[:, 0] * view[1] - normal[:, 1] * view[0]  # sine of the angle
    dim = np.where(across > 0, 1.0 - WALL_SIDE_LIGHT[0], 1.0 - WALL_SIDE_LIGHT[1])
    side = 1.0 - dim * across**2
    return along, side
