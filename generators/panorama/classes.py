"""Classical scene classes for one view: sky, ground, upright structure (and ceiling).

Geometric-context cues in the spirit of Hoiem, Efros & Hebert, "Automatic Photo Pop-up"
(SIGGRAPH 2005) / "Geometric Context from a Single Image" (ICCV 2005), without learned
classifiers: position relative to the horizon, colour, texture and connectivity.

  sky     bright or bluish, smooth pixels above the horizon connected to the image top,
          only when the top of the view looks like sky at all (else an indoor ceiling)
  ground  below the horizon, connected to the bottom edge, of the bottom band's colours,
          with few vertical edges; outdoors also the plain, muted regions joined to it
          (ground of another material or in another light)
  upright everything else (walls, buildings, furniture, trees, pillars)

Labels are small integers (see SKY, GROUND, UPRIGHT); the horizon is the row where the
view's rays are horizontal (given by the caller from the camera's pitch).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

UPRIGHT, GROUND, SKY = 0, 1, 2
MIN_GROUND_SHARE = 0.25  # a ground colour covers at least this share of the bottom band
GROUND_CHROMA = 15.0  # ... or lies within this Lab a*b* distance of its main colour
SKY_TOP_SHARE = 0.5  # share of the view's top band that must look like sky
#: ... or at least this share, where sky and foliage together fill SKY_TOP_SHARE of it: an
#: outdoor photo taken under a tree's canopy (Sceaux 100_7110: 38 % sky, 70 % leaves at
#: its top) was made into a room with a ceiling; the office photo's top band is 8 % sky-like,
#: 30 % with its green paintings
SKY_TOP_MIN = 0.2
SKY_TOP_BLUE = 0.3  # ... or at least SKY_TOP_MIN, where this share of it is blue
SKY_DARK_RATIO = 0.5  # a colour darker than this share of the top's sky is no sky
PLAIN_GRAD = 0.08  # gradient (Sobel of the σ=1 luminance, 0..1) of plain ground
PLAIN_CHROMA = 25.0  # ... whose colour is muted (Lab a*b* chroma below this)
EARTH_HUES = (50.0, 170.0)  # ... or of an earth or plant hue (Lab hue angle, degrees)
RISE_FRACTION = 0.1  # a bottom-band colour running up this far above the horizon is no ground
RISE_COLUMNS = 0.5  # ... in more than this share of its columns
WALL_SAME = 12.0  # Lab distance within one wall's material (`_walls_through_horizon`)
WALL_RUN_SHARE = 0.7  # ... the share of a wall's rows of its colour, above the horizon and below
WALL_BELOW_SHARE = 0.25  # ... at most this share of its colour under its foot
WALL_WHOLE_SHARE = 0.9  # ... or this share of it down to the view's bottom: all wall
PLAIN_STEPS = 4  # plain ground joins across at most this many material / light edges
CLOUD_TEX = 0.15  # a cloud's pixels are mostly below this texture (`_cloudy_sky`)
CLOUD_DARK = 0.75  # ... and it is at least this share of the top's sky brightness
NAMES = {UPRIGHT: "upright", GROUND: "ground", SKY: "sky"}


def sky_like(rgb: np.ndarray, min_lum: float = 0.08) -> np.ndarray:
    """Which colours (..., 3) 0..1 plausibly are sky, not a ceiling: bluish and not dark
    (luminance above `min_lum`), or bright grey-white. Bool array of shape (...)."""
    rgb = np.asarray(rgb)
    lum = rgb @ np.array([0.299, 0.587, 0.114], rgb.dtype)
    return bluish(rgb, min_lum) | (lum > 0.72)


def bluish(rgb: np.ndarray, min_lum: float = 0.08) -> np.ndarray:
    """Which colours (..., 3) 0..1 are blue (blue over red and about green) and not dark
    (luminance above `min_lum`): the blue half of `sky_like`. Bool array of shape (...)."""
    rgb = np.asarray(rgb)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    lum = rgb @ np.array([0.299, 0.587, 0.114], rgb.dtype)
    return (b >= r + 0.02) & (b >= 0.9 * g) & (lum > min_lum)


def vegetation_like(rgb: np.ndarray, min_exg: float = 0.08) -> np.ndarray:
    """Which colours (..., 3) 0..1 plausibly are foliage or grass: excess green
    2g - r - b of the chromaticities (Woebbecke et al. 1995, the usual plant index) over
    `min_exg`, green above blue, and not near black. Bool array of shape (...)."""
    rgb = np.asarray(rgb, np.float32)
    s = rgb.sum(-1)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    exg = (2 * g - r - b) / np.maximum(s, 1e-6)
    return (exg > min_exg) & (g > b) & (s > 0.12)


def looks_like_sky_colour(rgb: np.ndarray) -> bool:
    """A bright, bluish or grey-white colour (3,) that plausibly is sky, not a ceiling."""
    return bool(sky_like(np.asarray(rgb, np.float64)))


def _texture(lum: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    g = cv2.GaussianBlur(lum, (0, 0), 1.0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 1.5) * scale


def classify_view(
    rgb: np.ndarray, horizon_row: float, valid: np.ndarray | None = None
) -> np.ndarray:
    """Per-pixel class of a perspective (or equirect) view, (h, w) uint8.

    rgb (h, w, 3) float 0..1, ideally ~100–300 px tall (texture thresholds assume it);
    horizon_row: the image row (float, may lie outside the image) of the horizon;
    valid (h, w) bool: pixels that belong to the view (the rest are labelled UPRIGHT
    and ignored by the connectivity tests).
    """
    import cv2

    rgb = np.asarray(rgb, np.float32)
    h, w = rgb.shape[:2]
    valid = np.ones((h, w), bool) if valid is None else np.asarray(valid, bool)
    rows = np.arange(h, dtype=np.float32)[:, None]
    if not valid.all() and valid.any():
        # pixels outside the view take their nearest view pixel's colour, so the view's
        # border is no edge for the texture and smoothness cues
        from scipy.ndimage import distance_transform_edt

        _, (ri, ci) = distance_transform_edt(~valid, return_indices=True)
        rgb = rgb[ri, ci]
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    tex = _texture(lum, 1.0)
    labels = np.full((h, w), UPRIGHT, np.uint8)
    if not valid.any():
        return labels
    # ---------------------------------------------------------------- sky
    above = (rows < horizon_row + 0.35 * h) & valid
    # the top band of every column (a pitched photo's top edge on the sphere is curved)
    first_valid = np.where(valid.any(0), np.argmax(valid, axis=0), h)
    top_rows = valid & (rows < first_valid[None, :] + max(2, 0.12 * h))
    sky = np.zeros((h, w), bool)
    if top_rows.any():
        # the view has sky when half of its top band looks like sky (a tree crown or a
        # roof may fill the rest; a grey studio backdrop or a lit wall fills less), or
        # sky and foliage together do (under a tree's canopy)
        top_px = rgb[top_rows]
        top_sky = sky_like(top_px)
        share = float(top_sky.mean())
        if share < SKY_TOP_SHARE and share >= SKY_TOP_MIN:
            # judged on regions (σ 1.5 px), not single pixels: a grey wall's noise is a
            # speckle of bluish and greenish pixels
            soft = cv2.GaussianBlur(rgb, (0, 0), 1.5)[top_rows]
            soft_sky = sky_like(soft)
            share = float(soft_sky.mean())
            canopy = float((soft_sky | vegetation_like(soft)).mean()) >= SKY_TOP_SHARE
            # ... or a good part of it is blue: a sunset behind palms is sky in 47-53 % of
            # its top band (the dark fronds fill the rest) and blue in 41 %; a room's top
            # band was at most 19 % blue (a museum's pale green-blue shelves)
            canopy |= float(bluish(soft).mean()) >= SKY_TOP_BLUE
        else:
            canopy = False
        enough = share >= SKY_TOP_SHARE or (share >= SKY_TOP_MIN and canopy)
        tc = np.median(top_px[top_sky], 0) if enough else None
        if tc is not None and looks_like_sky_colour(tc):
            step = np.zeros((h, w), np.float32)
            blur = cv2.GaussianBlur(rgb, (0, 0), 1.0)
            step[1:] = np.abs(blur[1:] - blur[:-1]).max(-1)
            # ... but nothing much darker: a hillside in shadow is bluish too (the Great
            # Wall's dark slopes were 45 % of a drone frame's "sky"), and one near a dim
            # haze in colour passed as its colour (13-57 % of those frames' "sky")
            lum_tc = float(tc @ np.array([0.299, 0.587, 0.114], np.float32))
            skyish = sky_like(rgb, min_lum=max(0.05, SKY_DARK_RATIO * lum_tc))
            cand = (
                above
                & (tex < 0.08)
                & (step < 0.05)
                & (lum > max(0.05, SKY_DARK_RATIO * lum_tc))
                & ((np.linalg.norm(rgb - tc, axis=-1) < 0.4) | skyish)
            )
            cand = (
                cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
                > 0
            )
            n, lab = cv2.connectedComponents(cand.astype(np.uint8), connectivity=4)
            # components reaching the top band of a column; a few rows in, as the view's
            # outermost rows (resampled, feathered, curved on the sphere) are textured
            first = np.argmax(valid, axis=0)  # top valid row per column
            band = range(max(2, int(0.03 * h)) + 1)
            seeds = np.unique([lab[np.minimum(first + k, h - 1), np.arange(w)] for k in band])
            sky = np.isin(lab, seeds[seeds > 0])
            sky |= _cloudy_sky(rgb, lum, tex, valid, horizon_row, sky, first, lum_tc)
    labels[sky] = SKY
    # ---------------------------------------------------------------- ground
    below = (rows > horizon_row + 0.02 * h) & valid & ~sky
    last = h - 1 - np.argmax(valid[::-1], axis=0)
    bottom = valid & (rows > last[None, :] - max(2, 0.1 * h))
    if below.any() and bottom.any():
        lab_img = cv2.cvtColor(np.clip(rgb, 0, 1), cv2.COLOR_RGB2Lab)
        ref = lab_img[bottom]
        # the bottom band's dominant colours as the ground's palette: up to 3 clusters,
        # keeping those that cover a fair share of it or share the main one's hue (a
        # blue box or a chair leg reaching into the band is no floor colour)
        k = 3 if len(ref) > 30 else 1
        if k > 1 and len(np.unique(ref[:: max(1, len(ref) // 2000)].round(1), axis=0)) < k:
            k = 1  # one flat colour (a synthetic floor): k-means++ would divide by zero
        # scipy's k-means takes its own seeded generator (cv2.kmeans draws from OpenCV's
        # process-wide RNG, so the same photo gave a different world on each build)
        centres, assign = kmeans2(
            ref.astype(np.float64), k, minit="++", seed=np.random.default_rng(0)
        )
        share = np.bincount(assign, minlength=k) / max(len(assign), 1)
        # no colour that runs up above the horizon is ground (a thing standing on it, even
        # the band's largest colour: the cameraman's coat), unless all of them do
        rises, standing = _rises_above_horizon(
            lab_img, centres, assign, ref, bottom, valid, horizon_row
        )
        if rises.all():
            rises[:] = False
            standing[:] = False
        main_i = int(np.argmax(np.where(rises, -1.0, share)))
        # outdoors a small cluster stays when it is the ground's own colour in shade or
        # light (close in a*b* to the main one: rock, gravel, grass in shadow); indoors
        # a wooden desk shares the wooden floor's hue, so only the share counts there
        main = centres[main_i]
        same_hue = np.linalg.norm(centres[:, 1:] - main[1:], axis=1) < GROUND_CHROMA
        keep = ((share >= MIN_GROUND_SHARE) | (same_hue & bool(sky.any()))) & ~rises
        keep[main_i] = True
        centres = centres[keep].astype(np.float32)
        ref = ref[keep[assign]]
        dist = palette_distance(lab_img, centres)
        spread = float(np.median(np.min(np.linalg.norm(ref[:, None] - centres[None], axis=-1), 1)))
        gx = np.abs(cv2.Sobel(cv2.GaussianBlur(lum, (0, 0), 1.0), cv2.CV_32F, 1, 0, ksize=3))
        gy = np.abs(cv2.Sobel(cv2.GaussianBlur(lum, (0, 0), 1.0), cv2.CV_32F, 0, 1, ksize=3))
        vert = cv2.GaussianBlur((gx > 2.0 * gy + 0.05).astype(np.float32), (0, 0), 2.0)
        cand = below & (dist < max(12.0, 2.0 * spread)) & (vert < 0.35)
        cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, lab = cv2.connectedComponents(cand, connectivity=4)
        seeds = np.unique(lab[bottom & (cand > 0)])
        ground = np.isin(lab, seeds[seeds > 0])
        # close small holes (patterns on the floor), never above the horizon
        ground = (
            cv2.morphologyEx(ground.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
            > 0
        )
        if sky.any():
            grad = np.hypot(gx, gy)
            hue = np.degrees(np.arctan2(lab_img[..., 2], lab_img[..., 1]))
            vivid = (np.hypot(lab_img[..., 1], lab_img[..., 2]) > PLAIN_CHROMA) & ~(
                (hue > EARTH_HUES[0]) & (hue < EARTH_HUES[1])
            )
            # (never the colour of a thing standing on the ground: the coat's lower half,
            # plain and muted, cut from its upper half by folds)
            ground |= _plain_ground(
                ground, bottom, grad, vert, vivid, valid & ~sky & ~standing, rows, horizon_row, h
            )
        ground &= below
        if not sky.any():
            ground &= ~_walls_through_horizon(lab_img, ground, valid, horizon_row)
        labels[ground] = GROUND
    return labels


def _walls_through_horizon(
    lab: np.ndarray, ground: np.ndarray, valid: np.ndarray, horizon_row: float
) -> np.ndarray:
    """Indoors, the ground pixels (h, w) bool that are the foot of a wall of the floor's
    colours: in a room the floor never runs up to the horizon (a floor 1° below it lies
    90 m off), so a column whose ground reaches the band just below the horizon, where the
    same material (Lab within WALL_SAME) carries on above the horizon through
    RISE_FRACTION of the view's height, shows a wall there. Its ground starts below the
    wall's foot: the first row under which the column is mostly another material
    (≤ WALL_BELOW_SHARE of the wall's colour down to the view's bottom), with the wall's
    colour filling most (≥ WALL_RUN_SHARE) of the run from the horizon to it. A column
    of the wall's colour down to the view's bottom (≥ WALL_WHOLE_SHARE) is all wall, its
    foot below the view (a side wall close by), when other columns show a floor of
    another colour under their walls' feet; else (a floor of the walls' colour, a far
    floor) it keeps its ground.

    A door photo's white wall and brown door were floor below the horizon: the bottom
    band's palette took the wall's shaded base, the brown door joined the dark carpet,
    and the wall's lower half lay on the floor as a pale skirt. lab (h, w, 3) the view in
    Lab, ground / valid (h, w) bool, horizon_row the image row of the horizon.
    """
    h, w = ground.shape
    out = np.zeros_like(ground)
    top = int(np.floor(horizon_row - RISE_FRACTION * h))
    b0 = int(np.ceil(horizon_row + 0.02 * h))
    b1 = b0 + max(2, int(round(0.04 * h)))
    if top < 0 or b1 >= h:
        return out
    cols = np.nonzero(ground[b0:b1].mean(0) > 0.5)[0]
    if not len(cols):
        return out
    mat = np.median(lab[b0:b1, cols], axis=0)  # (n, 3) the material at the horizon
    near = np.linalg.norm(lab[:, cols] - mat[None], axis=-1) < WALL_SAME  # (h, n)
    vd = valid[:, cols]
    up = slice(top, int(np.floor(horizon_row)))
    rises = (near[up] & vd[up]).sum(0) >= WALL_RUN_SHARE * np.maximum(vd[up].sum(0), 1)
    rises &= vd[up].sum(0) > 0
    low = near[b0:] & vd[b0:]
    n_valid = np.cumsum(vd[b0:][::-1], axis=0)[::-1]  # valid rows from r to the bottom
    n_near = np.cumsum(low[::-1], axis=0)[::-1]
    share_below = n_near / np.maximum(n_valid, 1)
    run_near = np.cumsum(low, axis=0)  # rows b0..r of the wall's colour
    run_len = np.arange(1, low.shape[0] + 1)[:, None]
    ok = (
        ~low
        & vd[b0:]
        & (share_below <= WALL_BELOW_SHARE)
        & (run_near >= WALL_RUN_SHARE * run_len)
        & (n_valid >= max(3, int(0.03 * h)))
    )
    found = ok.any(0) & rises
    cut = b0 + np.argmax(ok, axis=0)  # the first such row: the wall's foot
    # ... or the wall runs on down to the view's bottom (its foot below the view: a side
    # wall close by), when the floor found under the other walls' feet is another colour
    # (a floor of the wall's colour would be taken for a wall in every column)
    whole = rises & ~found & (share_below[0] >= WALL_WHOLE_SHARE)
    rows = np.arange(h)[:, None]
    if found.any() and whole.any():
        under = (rows >= cut[None, :]) & found[None, :] & vd
        floor = np.median(lab[:, cols][under], axis=0)
        whole &= np.linalg.norm(mat - floor, axis=-1) >= WALL_SAME
        found |= whole
        cut = np.where(whole, h, cut)
    sel = found[None, :] & (rows < cut[None, :])
    out[:, cols] = sel & ground[:, cols]
    return out


def _cloudy_sky(
    rgb: np.ndarray,
    lum: np.ndarray,
    tex: np.ndarray,
    valid: np.ndarray,
    horizon_row: float,
    sky: np.ndarray,
    first: np.ndarray,
    lum_tc: float,
) -> np.ndarray:
    """Sky regions the smooth-pixel test misses, (h, w) bool: clouds are textured at the
    pixel scale (grain, soft edges), and cut off from the top of the view by them they
    stayed out (a sunflower field's cloudy sky was 17 % of its photo, its clouds holes in
    it; a sunset behind palms 1 %). Following Hoiem et al.'s region-based geometric
    context, the view is over-segmented (Felzenszwalb & Huttenlocher 2004) and a region
    is sky when it lies above the horizon (`horizon_row`, the image row), is soft (most
    of its pixels under CLOUD_TEX of texture `tex`), white or blue-grey (its mean blue at
    least its red: lit by the sun a cloud is white, in its own shade blue-grey, while a
    sunlit wall is warm), at least CLOUD_DARK of the top's sky brightness `lum_tc` (far
    hills in haze are bluish too, but darker), and joins the top of the view (`first`
    (w,), each column's top valid row) or the sky found so far (`sky`) through such
    regions. The result is the pixels of such colours (σ 1.5 px) joined to those regions
    or to `sky` (a region's outline is coarser than the sky's, and one straddling the
    skyline left a notch in it), down to where the sky is searched (0.35 of the height
    below the horizon: a line at the horizon read as a skyline) and no lower than `sky`
    reaches within a twentieth of the width (far hills in haze are bright and bluish
    too, below the sky).
    rgb (h, w, 3) 0..1, lum (h, w) its luminance, valid (h, w) bool.
    """
    import cv2
    from scipy.ndimage import maximum_filter1d
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from skimage.segmentation import felzenszwalb

    h, w = sky.shape
    seg = felzenszwalb(np.clip(rgb, 0, 1), scale=100, sigma=0.8, min_size=40)
    seg = np.where(valid, seg, -1)
    n = int(seg.max()) + 1
    if n <= 0:
        return np.zeros_like(sky)
    ok = seg >= 0
    ids = seg[ok]
    cnt = np.maximum(np.bincount(ids, minlength=n), 1)
    mean = np.stack([np.bincount(ids, rgb[..., k][ok], minlength=n) / cnt for k in range(3)], -1)
    high = np.broadcast_to(np.arange(h)[:, None] < horizon_row, (h, w))
    up_share = np.bincount(ids, high[ok], minlength=n) / cnt
    soft = np.bincount(ids, (tex < CLOUD_TEX)[ok], minlength=n) / cnt
    min_lum = max(0.05, CLOUD_DARK * lum_tc)
    cand = (
        sky_like(mean, min_lum=min_lum)
        & (mean[:, 2] >= mean[:, 0])
        & (up_share > 0.9)
        & (soft > 0.5)
    )
    top = np.zeros(n, bool)
    for k in range(max(2, int(0.03 * h)) + 1):
        s_row = seg[np.minimum(first + k, h - 1), np.arange(w)]
        top[s_row[s_row >= 0]] = True
    in_sky = np.bincount(ids, sky[ok], minlength=n) / cnt > 0.5
    # the candidate regions' adjacency (4-neighbours); those in a connected group with
    # one at the top or in the sky are sky
    pairs = []
    for a, b in ((seg[:, :-1], seg[:, 1:]), (seg[:-1], seg[1:])):
        m = (a >= 0) & (b >= 0) & (a != b)
        m[m] = cand[a[m]] & cand[b[m]]
        pairs.append(np.stack([a[m], b[m]], 1))
    pr = np.concatenate(pairs)
    graph = coo_matrix((np.ones(len(pr), np.int8), (pr[:, 0], pr[:, 1])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    seeded = np.unique(group[cand & (top | in_sky)])
    cur = cand & np.isin(group, seeded)
    sm = cv2.GaussianBlur(np.asarray(rgb, np.float32), (0, 0), 1.5)
    low_lim = np.arange(h)[:, None] < horizon_row + 0.35 * h
    own = sky_like(sm, min_lum=min_lum) & (sm[..., 2] >= sm[..., 0]) & low_lim & valid
    own &= lum >= min_lum  # (a spire's 1 px)
    found = (ok & cur[np.maximum(seg, 0)]) | sky
    _, comp = cv2.connectedComponents(own.astype(np.uint8), connectivity=4)
    keep = np.unique(comp[found & own])
    # ... above the sky found so far (within a few columns): clouds lie in the sky, and
    # far hills in haze below it (bluish, bright) made a smear of fog on the skyline
    lowest = np.where(sky.any(0), h - 1 - np.argmax(sky[::-1], axis=0), -1)
    lowest = maximum_filter1d(lowest, size=max(3, w // 20), mode="nearest")
    return np.isin(comp, keep[keep > 0]) & (np.arange(h)[:, None] <= lowest[None, :])


def _rises_above_horizon(
    lab: np.ndarray,
    centres: np.ndarray,
    assign: np.ndarray,
    ref: np.ndarray,
    bottom: np.ndarray,
    valid: np.ndarray,
    horizon_row: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(which bottom-band colour clusters (k,) bool belong to a thing standing on the
    ground rather than to the ground, the pixels (h, w) bool of those colours): in most of
    the columns whose bottom band shows that colour, an unbroken run of it goes up from the
    band to more than RISE_FRACTION of the view's height above the horizon.

    Ground never rises above the horizon; a person's dark coat filling a third of the bottom
    band does (the cameraman's coat was ground: from 2 m aside his lower half lay flat on
    the floor as a streak). Column runs, not regions: a sunlit court joins the facade
    of its own stone at the castle's foot, but the facade's shadows and windows break its
    columns. lab (h, w, 3) the view in Lab, centres (k, 3), assign (n,) the cluster of each
    bottom-band pixel `ref` (n, 3), bottom / valid (h, w) bool.
    """
    h, w = lab.shape[:2]
    out = np.zeros(len(centres), bool)
    standing = np.zeros((h, w), bool)
    top_allowed = int(np.floor(horizon_row - RISE_FRACTION * h))
    if top_allowed <= 0:
        return out, standing
    rows = np.arange(h)[:, None]
    band_top = np.where(bottom.any(0), np.argmax(bottom, axis=0), h)  # first band row per column
    for c in range(len(centres)):
        own = ref[assign == c]
        if not len(own):
            continue
        spread = float(np.median(np.linalg.norm(own - centres[c], axis=-1)))
        near = valid & (np.linalg.norm(lab - centres[c], axis=-1) < max(12.0, 2.0 * spread))
        cols = np.nonzero(near[np.minimum(band_top, h - 1), np.arange(w)] & (band_top < h))[0]
        if len(cols) < 3:
            continue
        # the lowest row above the band start that breaks the run, per column
        broken = ~near[:, cols] & (rows <= band_top[cols][None, :])
        stop = np.where(broken.any(0), h - 1 - np.argmax(broken[::-1], axis=0), -1)
        out[c] = float(np.mean(stop < top_allowed)) > RISE_COLUMNS
        if out[c]:
            standing |= near
    return out, standing


def palette_distance(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Lab distance (...) of colours `lab` (..., 3) to a ground palette `centres` (k, 3):
    to the nearest centre, or to the segment between two centres of one hue (a*b* within
    GROUND_CHROMA: one material in light and in shade). The blend of the two along a
    shadow's soft edge is ground colour too: measured to the centres alone, the edge's
    pixels fell between them, and whether a one-pixel gap cut the sunlit ground from the
    shaded band under the camera flipped with a 0.1° change of the photo's pitch."""
    lab = np.asarray(lab, np.float32)
    c = np.asarray(centres, np.float32)
    best = np.min(np.linalg.norm(lab[..., None, :] - c, axis=-1), -1)
    for i in range(len(c)):
        for j in range(i + 1, len(c)):
            if np.linalg.norm(c[i, 1:] - c[j, 1:]) >= GROUND_CHROMA:
                continue
            seg = c[j] - c[i]
            t = np.clip(((lab - c[i]) @ seg) / max(float(seg @ seg), 1e-6), 0.0, 1.0)
            best = np.minimum(best, np.linalg.norm(lab - (c[i] + t[..., None] * seg), axis=-1))
    return best


def _plain_ground(
    ground: np.ndarray,
    bottom: np.ndarray,
    grad: np.ndarray,
    vert: np.ndarray,
    vivid: np.ndarray,
    valid: np.ndarray,
    rows: np.ndarray,
    horizon_row: float,
    h: int,
) -> np.ndarray:
    """Plain, untextured regions that continue the ground outdoors, (h, w) bool.

    The bottom band's palette misses ground of another material or light: sunlit gravel
    beyond a lawn, the sunlit part of a plaza whose near part lies in a building's
    shadow (the shadow is bluish: lit by the sky alone). Outdoors, a plain region
    (hardly any texture or vertical edges: `grad` (h, w) below PLAIN_GRAD, `vert` (h, w)
    below 0.35), not mostly `vivid` (h, w) bool (a colour no ground has), below the horizon
    that touches the ground found so far or the view's `bottom` band is ground too,
    joined across up to PLAIN_STEPS edges between materials or light and shade; never a
    plain region that rises above the horizon: only upright things (a white wall, a
    pillar) do that, never the ground. `valid` (h, w): pixels that may be ground.
    """
    import cv2

    plain = valid & (grad < PLAIN_GRAD) & (vert < 0.35)
    n, lab = cv2.connectedComponents(plain.astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros_like(ground)
    top = np.full(n, h, np.int64)
    np.minimum.at(top, lab.ravel(), np.broadcast_to(rows.astype(np.int64), lab.shape).ravel())
    # ground materials (gravel, asphalt, sand, soil, rock, grass, their shadows) are
    # muted or yellow-green to brown; a plain region of another vivid colour (red, blue,
    # purple) below the horizon is more likely a car or a bench. Counted over what the
    # palette did not take.
    new_px = lab[~ground]
    count = np.maximum(np.bincount(new_px, minlength=n), 1)
    muted = np.bincount(new_px, vivid[~ground].astype(np.float64), minlength=n) / count < 0.5
    low = (top > horizon_row - 0.02 * h) & muted
    low[0] = False
    ok = np.zeros(n, bool)
    found = ground | bottom
    for _ in range(PLAIN_STEPS):
        # across the edge between two ground materials (a lawn's border, a shadow's edge)
        near = cv2.dilate(found.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        new = np.zeros(n, bool)
        new[np.unique(lab[near & plain])] = True
        new &= low & ~ok
        if not new.any():
            break
        ok |= new
        found = found | new[lab]
    return ok[lab] & (rows > horizon_row + 0.02 * h)


def ground_contact(labels: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Per column, the row where upright structure meets the ground, (w,) float.

    The lowest upright pixel above the ground run that is connected to the bottom edge;
    NaN where a column has no ground (upright reaches the image bottom) or no upright.
    """
    h, w = labels.shape
    valid = np.ones((h, w), bool) if valid is None else valid
    out = np.full(w, np.nan, np.float32)
    g = (labels == GROUND) & valid
    for c in range(w):
        col = g[:, c]
        vr = np.nonzero(valid[:, c])[0]
        if len(vr) == 0 or not col[vr[-1]]:
            continue
        # walk up from the bottom while ground
        r = vr[-1]
        while r > vr[0] and col[r - 1]:
            r -= 1
        if r > vr[0] and labels[r - 1, c] == UPRIGHT:
            out[c] = r - 0.5
    return out
