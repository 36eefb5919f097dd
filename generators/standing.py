"""Things that stand on the ground in front of the wall behind them, from one photo.

The layered world (`pano_layers`) gives each panorama column one contact with the
ground: its backdrop, a wall or the far field. A box, a chair, a desk or a bush in front
of that backdrop is a region of its own colour whose lower edge meets the ground nearer
than the backdrop does. Following Hoiem, Efros & Hebert's "Automatic Photo Pop-up"
(SIGGRAPH 2005), the photo's region is over-segmented (Felzenszwalb & Huttenlocher,
IJCV 2004) and

  * every upright segment whose lower boundary sits on the ground along at least
    MIN_CONTACT_SHARE of its width stands vertically at the distance where it meets the
    ground (its median contact row);
  * a segment lying wholly below the horizon whose lower boundary rests mostly on
    standing segments (a box's or a table's top, a chair's seat on its legs) stands at
    their distance; one reaching above the eye only when it is of their colour family
    or sits wholly on them, no wider (a pillar on its foot), so a wall seen above a box
    keeps its own distance.

The columns whose backdrop contact is hidden behind a standing thing take the backdrop
from their neighbours (`pano_layers.ground_contacts(occluders=...)`), so the wall behind
a box is not pulled forward to the box.

Conventions as `generators.panorama.projection`: equirect (H, 2H), eye at (0, h, 0).
"""

from __future__ import annotations

import math

import numpy as np

from generators.pano_layers import closed_ground, ground_closing_px
from generators.panorama.classes import UPRIGHT
from generators.panorama.projection import pano_lonlat
from scene.units import EYE_HEIGHT

MIN_CONTACT_SHARE = 0.3  # a segment stands on the ground along this share of its width
CONTACT_GAP_PX = 3  # ... where the ground is at most this many rows below its lower edge
REST_SHARE = 0.5  # ... or rests on standing segments along this share of its lower edge
ON_TOP_SHARE = 0.9  # ... above the eye: along this share, no wider than they (or SAME_CHROMA)
SAME_CHROMA = 10.0  # Lab a*b* distance within one thing's colour family
SAME_LIGHTNESS = 35.0  # ... and L* distance
SHARED_BOUNDARY = 0.15  # ... touching along this share of the smaller one's boundary
WORK_WIDTH = 480  # the photo region is segmented at most this wide (px)
#: ... a whole panorama at most this wide: at 480 px a segment's outline was 2 panorama
#: pixels off, and the thing's rim stood on the wall behind it (a blue line and a smear of
#: its colour beside a blue box seen from 1 m aside)
PANO_WORK_WIDTH = 1024
ENCLOSED_SHARE = 0.75  # a segment this much surrounded by standing ones stands with them
#: an upright speck in the ground stands on it when its height is at least this share of
#: its width, and this many times the foreshortening of a square mark at its distance
MIN_TALL_RATIO, TALL_FORESHORTEN = 0.5, 2.0
MIN_TALL_PX = 3  # ... and it is at least this many rows tall


def standing_things(
    image: np.ndarray,
    classes: np.ndarray,
    known: np.ndarray,
    *,
    eye_height: float = EYE_HEIGHT,
    work_width: int = WORK_WIDTH,
) -> tuple[np.ndarray, np.ndarray]:
    """(mask (H, 2H) bool, horizontal distance (H, 2H) m) of the standing things.

    image (H, 2H, 3) 0..1 and classes (H, 2H) uint8 on the same equirect grid, known
    (H, 2H) 0..1 the photo's coverage (only its pixels are segmented), at most
    `work_width` pixels wide (a whole panorama: PANO_WORK_WIDTH).
    """
    import cv2
    from skimage.segmentation import felzenszwalb

    H, W = classes.shape
    kn = known >= 0.5
    mask = np.zeros((H, W), bool)
    dist = np.zeros((H, W), np.float32)
    if not kn.any():
        return mask, dist
    shift = W // 2 if (kn[:, 0].any() and kn[:, -1].any()) else 0
    kn_r = np.roll(kn, shift, 1)
    rows = np.nonzero(kn_r.any(1))[0]
    cols = np.nonzero(kn_r.any(0))[0]
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    crop = np.roll(np.asarray(image, np.float32), shift, 1)[r0:r1, c0:c1]
    # the rectangle's corners outside the photo are invented, and its feathered rim
    # blends in the invented colours: one flat colour there, so the segments inside the
    # photo do not depend on the outpainting's texture
    pure = np.roll(known >= 0.99, shift, 1)[r0:r1, c0:c1]
    crop = np.where(pure[..., None], crop, np.float32(0.0))
    f = min(1.0, work_width / max(c1 - c0, 1))
    small = cv2.resize(crop, (max(2, round((c1 - c0) * f)), max(2, round((r1 - r0) * f))))
    seg = felzenszwalb(np.clip(small, 0, 1), scale=100, sigma=0.8, min_size=40)
    seg = cv2.resize(seg.astype(np.int32), (c1 - c0, r1 - r0), interpolation=cv2.INTER_NEAREST)
    cls = np.roll(classes, shift, 1)[r0:r1, c0:c1]
    valid = kn_r[r0:r1, c0:c1]
    ground = closed_ground(cls, H) & valid
    lat_rows = pano_lonlat(H)[1][r0:r1]
    # ... but not the small upright things on it that stand up more than a mark lying
    # there could: a bollard, a post, a person's legs (the closing took them for specks of
    # the ground, and they lay on it as wedges seen from aside: Sceaux 100_7104's
    # bollards); flatter ones are patterns on the ground (a rug's border, a crack, a shadow)
    up = (cls == UPRIGHT) & valid
    ground &= ~_tall_islands(up & ground, up & ~ground, lat_rows, 2 * ground_closing_px(H))
    seg = np.where(up & ~ground, seg, -1)
    n = int(seg.max()) + 1
    if n <= 0:
        return mask, dist
    seg = _merge_colour_families(seg, cv2.cvtColor(np.clip(crop, 0, 1), cv2.COLOR_RGB2Lab))
    n = int(seg.max()) + 1
    h, w = seg.shape
    _, lat = pano_lonlat(H)
    lat_c = lat[r0:r1]
    below = np.full_like(seg, -1)
    below[:-1] = seg[1:]
    bottom = (seg >= 0) & (below != seg)  # a segment's lower boundary
    # the ground within CONTACT_GAP_PX rows below: a thing's foot often ends in a row or
    # two of blended edge pixels, slivers of their own (the synthetic room's pillar stood
    # on two one-row segments, never on the floor, and the wall behind the desk beside it
    # took its distance)
    g_next = np.zeros_like(ground)
    for k in range(1, CONTACT_GAP_PX + 1):
        g_next[:-k] |= ground[k:]
    on_ground = bottom & g_next
    col = np.broadcast_to(np.arange(w), seg.shape)
    row = np.broadcast_to(np.arange(h)[:, None], seg.shape)

    def per_segment_columns(sel: np.ndarray) -> np.ndarray:
        pairs = np.unique(seg[sel].astype(np.int64) * w + col[sel])
        return np.bincount(pairs // w, minlength=n)

    width = per_segment_columns(seg >= 0)
    touching = per_segment_columns(on_ground)
    top_lat = np.full(n, -np.inf)
    np.maximum.at(top_lat, seg[seg >= 0], lat_c[row[seg >= 0]])
    d_seg = np.full(n, np.nan)
    seg_g, row_g = seg[on_ground], row[on_ground]
    for sid in np.nonzero(touching >= np.maximum(2, MIN_CONTACT_SHARE * width))[0]:
        r_c = float(np.median(row_g[seg_g == sid]))
        la = float(np.interp(r_c + 0.5, np.arange(h), lat_c))
        if la < -0.01:
            d_seg[sid] = eye_height / math.tan(-la)
    # segments resting on standing things (iterated: a seat on legs, a cushion on the
    # seat): below the eye any of them (a box's top, a table top); above it only one of
    # the same colour family (the next band of a pillar), so a wall seen above a box
    # keeps its own distance
    lab = cv2.cvtColor(np.clip(crop, 0, 1), cv2.COLOR_RGB2Lab)
    cnt = np.maximum(np.bincount(seg[seg >= 0], minlength=n), 1)
    chroma = np.stack(
        [np.bincount(seg[seg >= 0], lab[..., i][seg >= 0], minlength=n) / cnt for i in (1, 2)],
        -1,
    )
    for _ in range(6):
        stands = np.isfinite(d_seg)
        on_stand = bottom & (below >= 0) & stands[np.maximum(below, 0)]
        rest = np.bincount(seg[on_stand], minlength=n)
        edge = np.bincount(seg[bottom], minlength=n)
        cand = ~stands & (rest >= np.maximum(2, REST_SHARE * edge))
        if not cand.any():
            break
        grew = False
        for sid in np.nonzero(cand)[0]:
            sel = on_stand & (seg == sid)
            sup = below[sel]
            if top_lat[sid] >= 0:
                ref = np.median(chroma[sup], 0)
                # ... or one set wholly on them, no wider than they are (a pillar on the
                # band of its foot in another light): a wall seen above a box overhangs it
                whole = rest[sid] >= ON_TOP_SHARE * edge[sid] and _within_columns(
                    seg, sid, np.unique(sup)
                )
                if float(np.linalg.norm(chroma[sid] - ref)) > SAME_CHROMA and not whole:
                    continue
            d_seg[sid] = float(np.median(d_seg[sup]))
            grew = True
        if not grew:
            break
    d_seg = _enclosed(seg, d_seg)
    stands = np.isfinite(d_seg)
    sub = (seg >= 0) & stands[np.maximum(seg, 0)]
    dsub = np.where(sub, d_seg[np.maximum(seg, 0)], 0.0).astype(np.float32)
    mask[r0:r1, c0:c1] = sub
    dist[r0:r1, c0:c1] = dsub
    return np.roll(mask, -shift, 1), np.roll(dist, -shift, 1)


def _within_columns(seg: np.ndarray, sid: int, under: np.ndarray, slack: int = 2) -> bool:
    """Whether segment `sid` of `seg` (h, w) int spans no columns beyond those of the
    segments `under` (k,) int, give or take `slack` columns each side."""
    cols = np.nonzero((seg == sid).any(0))[0]
    sup = np.nonzero(np.isin(seg, under).any(0))[0]
    if not len(cols) or not len(sup):
        return False
    return bool(cols[0] >= sup[0] - slack and cols[-1] <= sup[-1] + slack)


def _tall_islands(
    islands: np.ndarray, others: np.ndarray, lat: np.ndarray, max_px: int
) -> np.ndarray:
    """(h, w) bool: the connected regions (8-neighbour) of `islands` (h, w) bool, on
    equirect rows of elevation `lat` (h,) rad, that are too tall for a mark lying on the
    ground: a square mark seen from the eye at depression δ is sin δ as tall as it is
    wide, a thing standing on the ground much more (Hoiem, Efros & Hebert's vertical cue).
    Kept: at least MIN_TALL_PX rows tall and max(MIN_TALL_RATIO, TALL_FORESHORTEN · sin δ)
    times as tall as wide (bounding box, δ at its lowest row); not one touching `others`
    (h, w) bool, the upright things the ground's closing left (the corners of a pillar's
    foot are part of the pillar), nor one taller than `max_px`: no speck but a line the
    closing bridged (a tower's edge between its face and the slope behind, both classed
    ground, stood up as a post in front of the tower)."""
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(islands.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(islands, bool)
    near = cv2.dilate(others.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    attached = np.zeros(n, bool)
    attached[np.unique(lab[near & islands])] = True
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    low = np.clip(stats[:, cv2.CC_STAT_TOP] + h - 1, 0, len(lat) - 1)
    ratio = np.maximum(MIN_TALL_RATIO, TALL_FORESHORTEN * np.sin(np.maximum(-lat[low], 0.0)))
    tall = (h >= MIN_TALL_PX) & (h <= max_px) & (h >= ratio * w) & ~attached
    tall[0] = False
    return tall[lab]


def _enclosed(seg: np.ndarray, d_seg: np.ndarray) -> np.ndarray:
    """Distances (n,) with every segment that standing ones enclose standing with them.

    seg (h, w) int (−1: none), d_seg (n,) m (NaN: not standing). A segment whose boundary
    runs along standing segments for at least ENCLOSED_SHARE of its length (an eye in a
    face, a pane in a door) takes their median distance: left at the backdrop's, it was
    a hole through the thing seen from the side.
    """
    n = len(d_seg)
    d = d_seg.copy()
    # the crop's own border counts as boundary with the unknown
    seg = np.pad(seg, 1, constant_values=-1)
    for _ in range(3):
        stands = np.isfinite(d)
        rim = np.zeros(n, np.int64)
        touch = np.zeros(n, np.int64)
        num = np.zeros(n)
        for a, b in ((seg[:, :-1], seg[:, 1:]), (seg[:-1], seg[1:])):
            for x, y in ((a, b), (b, a)):
                m = (x >= 0) & (x != y)
                rim += np.bincount(x[m], minlength=n)
                t = m & (y >= 0) & stands[np.maximum(y, 0)]
                touch += np.bincount(x[t], minlength=n)
                num += np.bincount(x[t], np.log(np.maximum(d[np.maximum(y[t], 0)], 1e-6)), n)
        grow = ~stands & (rim > 0) & (touch >= ENCLOSED_SHARE * rim)
        if not grow.any():
            break
        # (a log-mean of the touching distances: one thing's neighbours share theirs)
        d[grow] = np.exp(num[grow] / np.maximum(touch[grow], 1))
    return d


def _merge_colour_families(seg: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Segments (h, w) int (−1: none) with touching segments of one colour family merged
    (Lab a*b* within SAME_CHROMA and L* within SAME_LIGHTNESS of each other, sharing at
    least SHARED_BOUNDARY of the smaller one's boundary): a thing's bands, shading and the
    slivers between them become one thing. Ids renumbered 0..n−1.

    Greedy region merging, the most similar touching pair first, where two groups join
    only while their own mean colours are within those bounds: the family's colour cannot
    drift along a chain of shades (a globe into the wall behind it). The shared edge
    matters too, because the merge chains: segments that met at a corner
    joined a rocket's outline to a dark horizon strip and, through it, to two masts, and
    the whole family stood at the strip's distance, cut off from the rocket's body.
    """
    n = int(seg.max()) + 1
    if n <= 1:
        return seg
    ok = seg >= 0
    cnt = np.maximum(np.bincount(seg[ok], minlength=n), 1)
    mean = np.stack(
        [np.bincount(seg[ok], lab[..., i][ok], minlength=n) / cnt for i in range(3)], -1
    )
    pairs = []
    rim = np.zeros(n, np.int64)  # each segment's boundary: pixel pairs where it changes
    for a, b in ((seg[:, :-1], seg[:, 1:]), (seg[:-1], seg[1:])):
        diff = a != b
        m = (a >= 0) & (b >= 0) & diff
        pairs.append(np.stack([a[m], b[m]], 1))
        rim += np.bincount(a[diff & (a >= 0)], minlength=n)
        rim += np.bincount(b[diff & (b >= 0)], minlength=n)
    pr, shared = np.unique(np.sort(np.concatenate(pairs), 1), axis=0, return_counts=True)
    if not len(pr):
        return seg
    d_ab = np.linalg.norm(mean[pr[:, 0], 1:] - mean[pr[:, 1], 1:], axis=1)
    d_l = np.abs(mean[pr[:, 0], 0] - mean[pr[:, 1], 0])
    along = shared >= SHARED_BOUNDARY * np.minimum(rim[pr[:, 0]], rim[pr[:, 1]])
    keep = (d_ab < SAME_CHROMA) & (d_l < SAME_LIGHTNESS) & along
    pr, d_ab = pr[keep], d_ab[keep]
    # greedy region merging, most similar pairs first: two groups join only while their
    # own means stay within the family's bounds. Joining every similar pair at once
    # chained a globe (b* 36) through the shades between to the wall behind it (b* 9):
    # one "thing", part of it at the desk's distance, part at the wall's
    parent = np.arange(n)
    total = mean * cnt[:, None]
    size = cnt.astype(np.float64).copy()

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pr[np.argsort(d_ab, kind="stable")]:
        ra, rb = root(int(a)), root(int(b))
        if ra == rb:
            continue
        ma, mb = total[ra] / size[ra], total[rb] / size[rb]
        if np.linalg.norm(ma[1:] - mb[1:]) >= SAME_CHROMA or abs(ma[0] - mb[0]) >= SAME_LIGHTNESS:
            continue
        lo, hi = min(ra, rb), max(ra, rb)
        parent[hi] = lo
        total[lo] += total[hi]
        size[lo] += size[hi]
    roots = np.array([root(i) for i in range(n)])
    _, new = np.unique(roots, return_inverse=True)  # numbered by their lowest segment id
    return np.where(ok, new[np.maximum(seg, 0)], -1).astype(np.int32)
