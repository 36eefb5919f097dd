"""Several overlapping photos taken from one spot -> one partial equirect panorama.

A rotation-only spherical stitcher built on our projection maths (so the result lands
on the sphere exactly where `projection.py` says):
  1. SIFT features per photo, ratio-test matches and a RANSAC homography per pair;
     pairs with too few inliers do not overlap — if the overlap graph is not connected
     the user gets a clear error naming the photos that do not overlap;
  2. focal length from the FOV (or, when unknown, from the homographies);
  3. camera rotations chained over the maximum spanning tree of inlier counts, then
     refined jointly (least squares on matched rays);
  4. horizon levelled (wave correction) and the set centred on longitude 0;
  5. each photo projected onto the sphere and feather-blended, with gain compensation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from generators.jobs import CancelToken

log = logging.getLogger(__name__)

MATCH_SIDE = 900  # photos are matched at this size (longer side, pixels)
MIN_INLIERS = 15


#: plausible horizontal FOV of a photo, degrees, when it is estimated from the overlaps
_MIN_FOV, _MAX_FOV = 20.0, 150.0


def _gray_u8(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    import cv2

    from generators.images import shrink

    h, w = rgb.shape[:2]
    f = min(1.0, side / max(h, w))
    small = shrink(rgb, f)
    g = cv2.cvtColor((np.clip(small, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return g, f


def _label(i: int, names: Sequence[str]) -> str:
    return f"{i + 1} ({names[i]})" if names else str(i + 1)


def _components(n: int, edges: dict[tuple[int, int], Any]) -> list[list[int]]:
    """The photos (0..n-1) joined by overlap `edges` into groups, each sorted, the groups
    ordered by their first photo (scipy's connected components)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(int(label[i]), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _overlap_error(groups: list[list[int]], names: Sequence[str]) -> ValueError:
    def photos(g: list[int]) -> str:
        items = [_label(i, names) for i in g]
        if len(items) == 1:
            return "photo " + items[0]
        return "photos " + ", ".join(items[:-1]) + " and " + items[-1]

    if len(groups) == 2 and all(len(g) == 1 for g in groups):
        head = (
            f"photos {_label(groups[0][0], names)} and {_label(groups[1][0], names)} do not overlap"
        )
    elif len(groups) == 2:
        small, big = sorted(groups, key=len)
        verb = "does" if len(small) == 1 else "do"
        # what to do with a stray photo in a folder (`reconstruct` builds from the larger
        # group and warns; a trial expected the same)
        head = (
            f"{photos(small)} {verb} not overlap {photos(big)}; leave "
            f"{'it' if len(small) == 1 else 'them'} out to stitch the other {len(big)}"
        )
    else:
        head = "these groups of photos do not overlap each other: " + "; ".join(
            photos(g) for g in groups
        )
    return ValueError(
        f"{head} (no shared features found). Take the photos from one spot, "
        "turning between shots so each overlaps the next by about a third."
    )


def _focals_from_homography(h: np.ndarray) -> tuple[float, float] | None:
    """Focal lengths (f_i, f_j) of a rotation-only homography with centred principal points.

    Shum & Szeliski's closed form, as in OpenCV's detail::focalsFromHomography (whose
    Python binding cannot return its outputs).
    """
    h = (h / h[2, 2]).ravel()

    def pick(d1: float, d2: float, v1: float, v2: float) -> float | None:
        if v1 < v2:
            v1, v2 = v2, v1
        if v1 > 0 and v2 > 0:
            return math.sqrt(v1 if abs(d1) > abs(d2) else v2)
        return math.sqrt(v1) if v1 > 0 else None

    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2 = h[6] * h[7], (h[7] - h[6]) * (h[7] + h[6])
        f1 = pick(
            d1,
            d2,
            -(h[0] * h[1] + h[3] * h[4]) / d1,
            (h[0] ** 2 + h[3] ** 2 - h[1] ** 2 - h[4] ** 2) / d2,
        )
        d1, d2 = h[0] * h[3] + h[1] * h[4], h[0] ** 2 + h[1] ** 2 - h[3] ** 2 - h[4] ** 2
        f0 = pick(d1, d2, -h[2] * h[5] / d1, (h[5] ** 2 - h[2] ** 2) / d2)
    if f0 is None or f1 is None or not (math.isfinite(f0) and math.isfinite(f1)):
        return None
    return f0, f1


def _rot_from_h(h: np.ndarray, ki: np.ndarray, kj: np.ndarray) -> np.ndarray:
    """Homography j->i of a pure rotation -> closest rotation R_i R_jᵀ."""
    m = np.linalg.inv(ki) @ h @ kj
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        r = -r
    return r


def _rodrigues(v: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.Rodrigues(np.asarray(v, np.float64).reshape(3, 1))[0]


def stitch_photos(
    images: Sequence[np.ndarray],
    fovs: Sequence[float],
    height: int,
    *,
    names: Sequence[str] = (),
    fov_known: bool = True,
    progress=None,
    cancel: CancelToken | None = None,
    detail: dict[str, Any] | None = None,
    placed: list | None = None,
    level: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Stitch photos (each (h, w, 3) float 0..1) onto an equirect panorama of `height` rows.

    `fovs`: each photo's horizontal FOV in degrees; `fov_known`: False when they are only
    the default guess (then the focal length is estimated from the overlaps).
    Returns (pano (H, 2H, 3), known (H, 2H) 0..1, meta with per-photo yaw/pitch/roll/fov
    and, when a result is doubtful, "warnings" (sentences; "warning" holds the first)).
    `detail` (optional, filled in): {"rows": R, "pixels": P} asks for the photos' region
    also composited at up to R rows, within P pixels of that region; when that is finer
    than `height` (by 25 % or more) it gains "image" (h, 2h, 3), "known" (h, 2h) and
    "height" h. `placed` (optional, filled in): each photo with its camera as stitched
    (`floor.PlacedPhoto`, the image itself, not a copy). `level` False: a set that looks
    one way is not pitched by its vertical lines (`_pitch_from_lines`).
    Raises ValueError naming the photos that do not overlap.
    """
    import cv2

    report = progress or (lambda f, m: None)
    cancel = cancel or CancelToken()
    n = len(images)
    if n < 2:
        raise ValueError("stitching needs at least two photos")
    sift = cv2.SIFT_create(nfeatures=4000, contrastThreshold=0.02)
    feats = []
    for i, img in enumerate(images):
        cancel.check()
        report(0.3 * i / n, f"finding features in photo {i + 1}/{n}")
        g, f = _gray_u8(img, MATCH_SIDE)
        kp, desc = sift.detectAndCompute(g, None)
        pts = np.array([k.pt for k in kp], np.float64).reshape(-1, 2) / f  # full-res pixels
        feats.append((pts, desc))
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    edges: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    for k, (i, j) in enumerate(pairs):
        cancel.check()
        report(0.3 + 0.3 * k / len(pairs), f"matching photos {i + 1} and {j + 1}")
        (pi, di), (pj, dj) = feats[i], feats[j]
        if di is None or dj is None or len(di) < 8 or len(dj) < 8:
            continue
        good = [
            m[0]
            for m in matcher.knnMatch(di, dj, k=2)
            if len(m) == 2 and m[0].distance < 0.75 * m[1].distance
        ]
        if len(good) < MIN_INLIERS:
            continue
        a = pi[[m.queryIdx for m in good]]
        b = pj[[m.trainIdx for m in good]]
        scale = max(images[i].shape[:2]) / MATCH_SIDE
        h, inl = cv2.findHomography(b, a, cv2.RANSAC, 3.0 * max(scale, 1.0))
        if h is None:
            continue
        inl = inl.ravel().astype(bool)
        if inl.sum() >= MIN_INLIERS and inl.mean() > 0.2:
            edges[(i, j)] = (h, a[inl], b[inl], int(inl.sum()))
    groups = _components(n, edges)
    if len(groups) > 1:
        raise _overlap_error(groups, names)

    # --- focal lengths (pixels, full resolution of each photo)
    focals = [0.5 * im.shape[1] / math.tan(math.radians(fv) / 2) for im, fv in zip(images, fovs)]
    focal_source = "given"
    if not fov_known:
        est = []
        for (i, j), (h, *_rest) in edges.items():
            ti = np.array(
                [[1, 0, images[i].shape[1] / 2], [0, 1, images[i].shape[0] / 2], [0, 0, 1.0]]
            )
            tj = np.array(
                [[1, 0, images[j].shape[1] / 2], [0, 1, images[j].shape[0] / 2], [0, 0, 1.0]]
            )
            fs = _focals_from_homography(np.linalg.inv(ti) @ h @ tj)
            if fs is not None:
                # relative to the long side: one camera has one focal length in pixels,
                # whichever way a photo is held (a portrait photo's width is its short side)
                est.append(math.sqrt(fs[0] * fs[1]) / max(images[i].shape[:2]))
        if est:
            rel = float(np.median(est))
            long0 = max(images[0].shape[:2])
            fov_est = math.degrees(2 * math.atan(0.5 * images[0].shape[1] / (rel * long0)))
            if _MIN_FOV <= fov_est <= _MAX_FOV:
                focals = [rel * max(im.shape[:2]) for im in images]
                focal_source = "overlaps"
    Ks = [
        np.array([[f, 0, im.shape[1] / 2], [0, f, im.shape[0] / 2], [0, 0, 1.0]])
        for f, im in zip(focals, images)
    ]

    # --- initial rotations over the maximum spanning tree (photo 1 is the reference)
    report(0.62, "estimating camera rotations")
    rots = _chain_rotations(n, edges, Ks)
    rots, focals = _refine(rots, focals, images, edges, refine_focal=not fov_known)
    warnings: list[str] = []
    fov0 = math.degrees(2 * math.atan(images[0].shape[1] / (2 * focals[0])))
    if not fov_known and not (_MIN_FOV + 0.5 < fov0 < _MAX_FOV - 0.5):
        # the joint refinement ran to the end of the plausible window: the overlaps do
        # not fix the field of view (photos taken while moving, few matches); keep the
        # assumed one and say so
        focals = [
            0.5 * im.shape[1] / math.tan(math.radians(fv) / 2) for im, fv in zip(images, fovs)
        ]
        Ks = [
            np.array([[f, 0, im.shape[1] / 2], [0, f, im.shape[0] / 2], [0, 0, 1.0]])
            for f, im in zip(focals, images)
        ]
        rots, focals = _refine(
            _chain_rotations(n, edges, Ks), focals, images, edges, refine_focal=False
        )
        focal_source = "assumed"
        warnings.append(
            f"the overlaps do not fix the photos' field of view (the fit ran to {fov0:.0f}°, "
            f"the end of the {_MIN_FOV:.0f}-{_MAX_FOV:.0f}° range): stitched with "
            f"{fovs[0]:.1f}° assumed; give the field of view (--fov) if you know it"
        )
    Ks = [
        np.array([[f, 0, im.shape[1] / 2], [0, f, im.shape[0] / 2], [0, 0, 1.0]])
        for f, im in zip(focals, images)
    ]
    misfit = _pair_misfit(rots, Ks, edges)
    for (i, j), (turn, _) in misfit.items():
        if turn < SAME_VIEW_DEG:
            raise ValueError(
                f"photos {_label(i, names)} and {_label(j, names)} show the same view (turned "
                f"{turn:.2f}° apart): stitching needs photos turned from one spot, each "
                "showing more of the scene"
            )
    parallax = max(((m, ij) for ij, (_, m) in misfit.items()), default=(0.0, None))
    rots, rolled, spanned = _level_and_centre(rots)
    level_meta = None
    if not spanned and level:
        rots, level_meta = _pitch_from_lines(images, focals, rots)
    if rolled:
        warnings.append(
            "photo"
            + ("s " if len(rolled) > 1 else " ")
            + ", ".join(_label(i, names) for i in rolled)
            + (" are" if len(rolled) > 1 else " is")
            + f" turned more than {ROLL_TOL_DEG:.0f}° about the view axis against the others "
            "(held sideways without an orientation tag?): the horizon is levelled from the "
            "others"
        )
    cancel.check()

    # --- composite with feathering and gain compensation
    report(0.75, "blending photos onto the sphere")
    pano, known, gains = _composite(images, focals, rots, height, None, report, cancel)
    if placed is not None:
        from scene.camera import Camera

        from .floor import PlacedPhoto

        for i, (im, f, r) in enumerate(zip(images, focals, rots)):
            h_i, w_i = im.shape[:2]
            cam = Camera(w_i, h_i, f, f, w_i / 2, h_i / 2, r, np.zeros(3))
            placed.append(PlacedPhoto(im, cam, None, names[i] if i < len(names) else ""))
    if detail is not None:
        # the photos' region at up to their own angular resolution, for a world to keep
        # their detail: as many rows as the reference photo's pixels per degree ask
        # (`detail["rows"]`), within `detail["pixels"]` pixels of that region
        share = max(float((known > 0.5).mean()), 1e-6)
        rows = min(int(detail["rows"]), int(math.sqrt(float(detail["pixels"]) / (2 * share))))
        if rows > 1.25 * height:
            report(0.95, f"blending the photos at {rows} rows for their detail")
            # only the band of rows the photos cover (from the coarse blend), a few spare
            cov_rows = np.flatnonzero((known > 0).any(axis=1))
            band = (
                max(0, int(cov_rows[0] * rows / height) - 4),
                min(rows, int((cov_rows[-1] + 1) * rows / height) + 4),
            )
            hi, hi_known, _ = _composite(images, focals, rots, rows, gains, None, cancel, band)
            detail.update(image=np.clip(hi, 0, 1), known=hi_known, height=rows)
    meta = {
        "photos": n,
        "gains": [round(float(g), 4) for g in gains],
        "focal_source": focal_source,
        "reference_fov_x_deg": math.degrees(2 * math.atan(images[0].shape[1] / (2 * focals[0]))),
        "cameras": [
            _angles(r) | {"fov_x_deg": round(math.degrees(2 * math.atan(im.shape[1] / (2 * f))), 3)}
            for r, f, im in zip(rots, focals, images)
        ],
        "pairs": {f"{i + 1}-{j + 1}": e[3] for (i, j), e in edges.items()},
        "misfit_deg": round(parallax[0], 4),
    }
    if level_meta is not None:
        meta["level"] = level_meta
    over = sum(1 for _, m in misfit.values() if m > 180.0 / height)  # pairs past a pixel
    spread = _view_spread(rots)
    meta["view_spread_deg"] = round(spread, 3)
    one_fov = min(c["fov_x_deg"] for c in meta["cameras"])  # as stitched
    narrow = n >= 2 and spread < SAME_WAY_SHARE * one_fov
    scene_hint = "photos taken while walking make a scene (`reconstruct`, in the app Create > "
    scene_hint += "New Scene from Photos…)"
    same_way = (
        f"the {n} photos all look about the same way (within {spread:.1f}° of each other, "
        f"where one photo spans {one_fov:.0f}°)"
    )
    if narrow and over:
        warnings.insert(
            0,
            f"{same_way} from different spots (their "
            f"overlaps disagree by up to {parallax[0]:.2f}° after alignment, {over} of the "
            f"{len(misfit)} overlapping pairs by over a panorama pixel): they show little more "
            f"than one of them, and things break where they meet. A panorama needs photos "
            f"turned on one spot; {scene_hint}",
        )
    elif parallax[1] is not None and parallax[0] > 180.0 / height:
        i, j = parallax[1]
        others = (
            f" (and {over - 1} more of the {len(misfit)} overlapping pairs)" if over > 1 else ""
        )
        warnings.insert(
            0,
            f"photos {_label(i, names)} and {_label(j, names)}{others} were not taken from "
            "one spot: after "
            f"alignment their overlap still disagrees by {parallax[0]:.2f}° (over a panorama "
            "pixel): each part shows one photo's detail, and things may break where the "
            f"photos meet. Turn on the spot for a panorama; {scene_hint}",
        )
    elif narrow:
        warnings.insert(
            0,
            f"{same_way}: the panorama shows little more than one of them. Turn between "
            "photos so each shows more of the scene",
        )
    if warnings:
        meta["warnings"] = warnings
        meta["warning"] = warnings[0]  # the first, for readers of one line
        for w in warnings:
            log.warning("stitch: %s", w)
    return np.clip(pano, 0, 1), known, meta


#: degrees: the photos' overlaps blend over their whole width below this scale, and above it
#: each pixel takes its detail from one photo (the one it is most central in)
LOW_BAND_DEG = 1.5
SEAM_SOFTEN_PX = 1.0  # the detail's seams between photos are softened over this (pixels)


def _composite(
    images: Sequence[np.ndarray],
    focals: Sequence[float],
    rots: Sequence[np.ndarray],
    height: int,
    gains: Sequence[float] | None,
    report,  # noqa: ANN001 - (fraction, message) -> None, or None
    cancel: CancelToken,
    band: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The photos (full-resolution focal lengths `focals`, world→camera `rots`) blended
    onto an equirect panorama of `height` rows: (pano (H, 2H, 3), known (H, 2H) 0..1, the
    per-photo gains). `gains` None: equalise the overlaps (`_gains`); else use those (a
    finer composite of the same photos keeps the coarse one's brightness). `band` (r0, r1):
    only those rows are blended (the rest stay 0: a band that holds every photo).

    Two-band blending (Burt & Adelson, "A multiresolution spline with application to image
    mosaics", 1983; what OpenCV's stitcher does with more bands): colour below LOW_BAND_DEG
    is feathered across the whole overlap, detail above it comes from one photo per pixel,
    the one whose frame it lies deepest in. Feathering it all averaged two views of every
    edge: photos not taken from one spot (a walk's) came out with every window doubled."""
    n = len(images)
    H, W = height, 2 * height
    r0, r1 = band if band is not None else (0, H)
    sigma = max(1.0, LOW_BAND_DEG / 180.0 * H)

    def project(i: int, weight_only: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _project_photo(images[i], focals[i], rots[i], H, W, band, weight_only)

    # which photo each pixel lies deepest in (needs every photo's weight before any blend)
    best = np.zeros((r1 - r0, W), np.float32)
    owner = np.full((r1 - r0, W), -1, np.int32)

    def deepest(i: int, wf: np.ndarray) -> None:
        deeper = wf > best
        best[deeper], owner[deeper] = wf[deeper], i

    layers = []
    for i in range(n):
        cancel.check()
        if gains is None:  # the gains need every layer: kept whole, their weights read here
            layers.append(project(i))
            deepest(i, layers[-1][2])
        else:  # a finer composite blends as it goes: a weights-only pass first
            deepest(i, project(i, weight_only=True)[2])
        if report:
            report(0.75 + 0.1 * (i + 1) / n, f"projected photo {i + 1}/{n}")
    num = np.zeros((r1 - r0, W, 3), np.float32)
    den = np.zeros((r1 - r0, W), np.float32)
    num_hi = np.zeros((r1 - r0, W, 3), np.float32)
    den_hi = np.zeros((r1 - r0, W), np.float32)
    known = np.zeros((r1 - r0, W), np.float32)

    def blend(i: int, p: np.ndarray, cov: np.ndarray, wf: np.ndarray, gain: float) -> None:
        rows, cols = np.flatnonzero(cov.any(1)), np.flatnonzero(cov.any(0))
        if not len(rows):
            return
        # the photo's box on the sphere, and the low band's reach round it
        m = int(3 * sigma) + 2
        box = (
            slice(max(0, rows[0] - m), rows[-1] + 1 + m),
            slice(max(0, cols[0] - m), cols[-1] + 1 + m),
        )
        p, cov, wf = p[box], cov[box], wf[box]
        low = _lowpass(p, cov > 0, sigma)
        own = _blur((owner[box] == i).astype(np.float32), SEAM_SOFTEN_PX) * (cov > 0)
        num[box] += low * (wf * gain)[..., None]
        den[box] += wf
        num_hi[box] += (p - low) * (own * gain)[..., None]
        den_hi[box] += own
        np.maximum(known[box], cov, out=known[box])

    if gains is None:
        gains = _gains(layers)
        for i, ((p, cov, wf), g) in enumerate(zip(layers, gains)):
            blend(i, p, cov, wf, g)
    else:
        for i in range(n):
            cancel.check()
            blend(i, *project(i), gains[i])
            if report:
                report(0.85 + 0.1 * (i + 1) / n, f"blended photo {i + 1}/{n}")
    low = num / np.maximum(den, 1e-9)[..., None]
    detail = num_hi / np.maximum(den_hi, 1e-6)[..., None]
    pano = np.where(den[..., None] > 0, low + detail, 0).astype(np.float32)
    if band is not None and (r0, r1) != (0, H):
        full, full_known = np.zeros((H, W, 3), np.float32), np.zeros((H, W), np.float32)
        full[r0:r1], full_known[r0:r1] = pano, known
        pano, known = full, full_known
    return pano, known, list(gains)


def _project_photo(
    im: np.ndarray,
    f: float,
    rot: np.ndarray,
    H: int,
    W: int,
    band: tuple[int, int] | None,
    weight_only: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One photo (focal length `f` px at its size, world→camera `rot`) on the equirect grid
    (rows `band` of H): (its colours (h, W, 3), or None with `weight_only`; coverage (h, W);
    feather weight (h, W): how deep in the photo's frame, 0 outside)."""
    from generators.images import shrink
    from scene.camera import Camera

    from .projection import perspective_to_equirect

    h_i, w_i = im.shape[:2]
    # resample the photo to about the panorama's angular resolution first
    target = max(8, int(math.ceil(2 * math.atan(w_i / (2 * f)) / (2 * math.pi) * W * 1.25)))
    img = shrink(im, min(1.0, target / w_i))
    hh, ww = img.shape[:2]
    sx, sy = ww / w_i, hh / h_i
    cam = Camera(ww, hh, f * sx, f * sy, ww / 2, hh / 2, rot, np.zeros(3))
    yy, xx = np.mgrid[0:hh, 0:ww]
    feather = np.minimum.reduce([xx + 0.5, ww - xx - 0.5, yy + 0.5, hh - yy - 0.5]).astype(
        np.float32
    )
    feather = (feather / (0.5 * min(hh, ww))) ** 1.5
    if weight_only:
        wf, cov = perspective_to_equirect(feather, cam, H, rows=band)
        return None, cov, np.maximum(wf, 1e-6) * (cov > 0)
    # image and feather in one remap (the same pixel lookups)
    both, cov = perspective_to_equirect(np.dstack([img, feather]), cam, H, rows=band)
    return both[..., :3], cov, np.maximum(both[..., 3], 1e-6) * (cov > 0)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def _lowpass(p: np.ndarray, inside: np.ndarray, sigma: float) -> np.ndarray:
    """`p` (h, w, 3) blurred by `sigma` px within `inside` (h, w) bool (normalised
    convolution: the photo's edge does not darken towards the uncovered 0s)."""
    m = inside.astype(np.float32)
    return _blur(p * m[..., None], sigma) / np.maximum(_blur(m, sigma), 1e-6)[..., None]


def _chain_rotations(n: int, edges: dict, ks: list[np.ndarray]) -> list[np.ndarray]:
    """World→camera rotations (3, 3) of every photo, chained from photo 1 (looking along
    −Z) over the maximum spanning tree of the match graph (weights: inlier counts)."""
    R: list[np.ndarray | None] = [None] * n
    R[0] = np.diag([1.0, -1.0, -1.0])  # world→camera of a camera looking along −Z, y down
    done = {0}
    while len(done) < n:
        best = max(
            ((w, i, j) for (i, j), (_, _, _, w) in edges.items() if (i in done) != (j in done)),
            default=None,
        )
        assert best is not None  # graph is connected
        _, i, j = best
        h = edges[(i, j)][0]
        rij = _rot_from_h(h, ks[i], ks[j])  # R_i R_jᵀ
        if i in done:
            R[j] = rij.T @ R[i]
            done.add(j)
        else:
            R[i] = rij @ R[j]
            done.add(i)
    return [np.asarray(r) for r in R]


SAME_VIEW_DEG = 0.5  # two photos turned less than this apart show the same view
#: photos whose viewing directions all lie within this share of one photo's horizontal
#: field of view "look the same way": together they cover little more than one photo
SAME_WAY_SHARE = 1 / 3


def _view_spread(rots: list[np.ndarray]) -> float:
    """The largest angle (degrees) between two of the cameras' viewing directions
    (world→camera rotations: a camera's forward axis is its rotation's third row)."""
    fwd = np.array([np.asarray(r, np.float64)[2] for r in rots])
    if len(fwd) < 2:
        return 0.0
    cos = np.clip(fwd @ fwd.T, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos.min())))


def _pair_misfit(
    rots: list[np.ndarray], ks: list[np.ndarray], edges: dict
) -> dict[tuple[int, int], tuple[float, float]]:
    """Per matched pair (i, j): (the angle between the two cameras' viewing directions,
    the 90th percentile of the angle between matched rays after alignment), degrees. A
    rotation about one point explains every match of a pair to a fraction of a pixel;
    photos taken from different spots (parallax) leave a misfit."""
    out = {}
    for (i, j), (_, a, b, _) in edges.items():
        d = np.linalg.norm(_rays(a, ks[i], rots[i]) - _rays(b, ks[j], rots[j]), axis=1)
        misfit = math.degrees(2 * math.asin(min(1.0, float(np.percentile(d, 90)) / 2)))
        r = rots[i] @ rots[j].T
        turn = math.degrees(math.acos(float(np.clip((np.trace(r) - 1) / 2, -1, 1))))
        out[(i, j)] = (turn, misfit)
    return out


def _angles(r: np.ndarray) -> dict[str, float]:
    """yaw/pitch (degrees) of a world→camera rotation's forward axis."""
    fwd = r[2]
    yaw = math.degrees(math.atan2(-fwd[0], -fwd[2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, fwd[1]))))
    return {"yaw_deg": round(yaw, 3), "pitch_deg": round(pitch, 3)}


def _rays(pts: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Pixel coords (N, 2) -> unit world rays (N, 3) for intrinsics k, world→camera r."""
    x = np.column_stack(
        [(pts[:, 0] - k[0, 2]) / k[0, 0], (pts[:, 1] - k[1, 2]) / k[1, 1], np.ones(len(pts))]
    )
    d = x @ r  # camera → world (rows): Rᵀ x
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _refine(
    rots: list[np.ndarray],
    focals: list[float],
    images: Sequence[np.ndarray],
    edges: dict,
    refine_focal: bool,
) -> tuple[list[np.ndarray], list[float]]:
    """Joint least-squares refinement of all rotations (and a shared focal scale)."""
    from scipy.optimize import least_squares

    n = len(rots)
    rng = np.random.default_rng(0)
    obs = []
    for (i, j), (_, a, b, _) in edges.items():
        sel = rng.permutation(len(a))[:150]
        obs.append((i, j, a[sel], b[sel]))

    def unpack(x: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        rs = [rots[0]] + [_rodrigues(x[3 * k : 3 * k + 3]) @ rots[k + 1] for k in range(n - 1)]
        s = math.exp(x[-1]) if refine_focal else 1.0
        return rs, [f * s for f in focals]

    def resid(x: np.ndarray) -> np.ndarray:
        rs, fs = unpack(x)
        out = []
        for i, j, a, b in obs:
            ki = np.array(
                [[fs[i], 0, images[i].shape[1] / 2], [0, fs[i], images[i].shape[0] / 2], [0, 0, 1]]
            )
            kj = np.array(
                [[fs[j], 0, images[j].shape[1] / 2], [0, fs[j], images[j].shape[0] / 2], [0, 0, 1]]
            )
            out.append((_rays(a, ki, rs[i]) - _rays(b, kj, rs[j])).ravel())
        return np.concatenate(out)

    x0 = np.zeros(3 * (n - 1) + (1 if refine_focal else 0))
    bounds = (-np.inf, np.inf)
    if refine_focal:
        # Ray differences shrink as the focal grows, so an unbounded focal scale can run
        # off towards a ~0° field of view (nothing left on the panorama). Keep the
        # reference photo's FOV within the plausible window the estimate uses too.
        w0 = images[0].shape[1]
        lo = math.log(0.5 * w0 / math.tan(math.radians(_MAX_FOV) / 2) / focals[0])
        hi = math.log(0.5 * w0 / math.tan(math.radians(_MIN_FOV) / 2) / focals[0])
        lb, ub = np.full(len(x0), -np.inf), np.full(len(x0), np.inf)
        lb[-1], ub[-1] = min(lo, 0.0), max(hi, 0.0)
        bounds = (lb, ub)
    try:
        sol = least_squares(resid, x0, bounds=bounds, loss="huber", f_scale=0.003, max_nfev=60)
        return unpack(sol.x)
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - keep the chained estimate
        return rots, focals


ROLL_TOL_DEG = 10.0  # a photo whose x axis leaves the horizon by more is "rolled"


def _level_and_centre(rots: list[np.ndarray]) -> tuple[list[np.ndarray], list[int], bool]:
    """Wave correction (horizon level) and yaw-centring of the set on longitude 0.

    Up is the direction most perpendicular to the cameras' x axes (Brown & Lowe's wave
    correction), found from the photos that agree on it: each photo's own up is tried as
    the candidate, the one that the most photos hold level (x axis within ROLL_TOL_DEG of
    the horizon) wins, and up is refitted to those. One photo held sideways (no EXIF
    orientation) no longer tips the whole panorama. Returns the new rotations, the
    indices of the photos left out as rolled, and whether up came from the cameras' x axes
    (False: they look about one way, their x axes all but parallel, and up is one photo's
    own: its pitch is taken as level).
    """
    rights = np.array([r[0] for r in rots])  # camera x axes in world
    ups = np.array([-r[1] for r in rots])
    fwd = np.array([r[2] for r in rots])
    world = np.eye(3)
    rolled: list[int] = []
    spanned = False
    if len(rots) >= 3 and np.linalg.svd(fwd - fwd.mean(0))[1][0] > 0.2:
        tol = math.sin(math.radians(ROLL_TOL_DEG))
        best = max(
            range(len(rots)),
            key=lambda k: (int((np.abs(rights @ ups[k]) < tol).sum()), ups[k] @ ups.sum(0)),
        )
        level = np.abs(rights @ ups[best]) < tol
        up = ups[best]
        w, v = np.linalg.eigh(rights[level].T @ rights[level] / level.sum())
        if w[1] > 0.02:  # the level cameras' x axes span a plane: up is its normal
            up = v[:, 0]
            spanned = True
        if up @ ups[level].sum(0) < 0:
            up = -up
        rolled = [int(k) for k in np.nonzero(np.abs(rights @ up) >= tol)[0]]
        axis = np.cross(up, [0.0, 1.0, 0.0])
        s, c = np.linalg.norm(axis), float(up[1])
        if s > 1e-9:
            k = axis / s
            kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
            world = np.eye(3) + s * kx + (1 - c) * kx @ kx  # maps up -> +Y
    f = fwd @ world.T
    mean = f.mean(0)
    yaw = math.atan2(-mean[0], -mean[2])
    cy, sy = math.cos(-yaw), math.sin(-yaw)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])  # rotates the mean yaw to 0
    # world→camera of the new frame: R_new = R_old · (ry · world)ᵀ
    m = ry @ world
    return [r @ m.T for r in rots], rolled, spanned


#: the photos' pitch from their vertical lines is applied when it differs by this much
MIN_PITCH_FIX_DEG = 0.5


def _pitch_from_lines(
    images: Sequence[np.ndarray], focals: Sequence[float], rots: list[np.ndarray]
) -> tuple[list[np.ndarray], dict[str, Any] | None]:
    """The set pitched to its photos' vertical lines, for a set that looks about one way
    (wave correction cannot tell its pitch: the first photo's was taken as level, and the
    Sceaux castle, shot 10° up, sat 10° low). Each photo's pitch from its own vertical
    lines (`pitch.estimate_pitch`, as for one photo) against its pitch in the set; the
    median difference turns the set about the horizontal axis across the view (the set is
    centred on longitude 0: world X). Returns (rotations, {'pitch_deg', 'source'} or None
    when no photo's lines were trusted or the turn is under MIN_PITCH_FIX_DEG).
    """
    from .pitch import estimate_pitch

    diffs = []
    for im, f, r in zip(images, focals, rots):
        fov = math.degrees(2 * math.atan(im.shape[1] / (2 * f)))
        est = estimate_pitch(im, fov)
        if est.get("applied"):
            diffs.append(float(est["pitch_deg"]) - _angles(r)["pitch_deg"])
    if not diffs:
        return rots, None
    d = float(np.median(diffs))
    if abs(d) < MIN_PITCH_FIX_DEG:
        return rots, None
    a = math.radians(d)
    # the world turned about +X by a (its −Z, the view's centre, towards +Y): R' = R · Rwᵀ
    rw = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    source = f"vertical lines in {len(diffs)} of {len(rots)} photos"
    return [r @ rw.T for r in rots], {"pitch_deg": round(d, 2), "source": source}


def _gains(layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> list[float]:
    """Per-photo brightness gains equalising overlaps (least squares, mean gain 1)."""
    n = len(layers)
    rows, rhs = [], []
    for i in range(n):
        for j in range(i + 1, n):
            both = (layers[i][1] > 0.9) & (layers[j][1] > 0.9)
            if both.sum() < 50:
                continue
            mi = float(layers[i][0][both].mean())
            mj = float(layers[j][0][both].mean())
            if mi < 1e-3 or mj < 1e-3:
                continue
            # log g_i + log m_i = log g_j + log m_j
            rows.append(np.eye(n)[i] - np.eye(n)[j])
            rhs.append(math.log(mj) - math.log(mi))
    if not rows:
        return [1.0] * n
    a = np.vstack(rows + [np.ones(n) * 1.0])
    b = np.array(rhs + [0.0])
    lg = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(np.clip(math.exp(v), 0.5, 2.0)) for v in lg]
