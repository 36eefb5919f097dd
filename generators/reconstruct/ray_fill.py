"""Splats for the photo pixels stereo gave no depth, placed where no other photo contradicts them.

Plane-sweep stereo leaves pixels without depth where the window matching fails or cannot
run: foliage (leaves move and change with the viewpoint), things nearer than the swept
range (a tree beside the camera, in front of a building 40 m away), surfaces only one photo
sees. Left empty, such a pixel renders whatever lies behind it, usually the sky sphere, so
a photo's tree comes back as sky (Sceaux 100_7100, 7109, 7110: 11.7-16.2 dB against the
22-24 dB its own depth map's splats score on the same pixels).

Each such pixel (not sky, not explained by the fused scene, in a connected region of at
least `min_region` pixels) gets a splat on its ray at the depth that the other photos do
not contradict, the space-carving argument (Kutulakos & Seitz 2000, "A Theory of Shape by
Space Carving"): a point another view sees through (it lies clearly in front of that
view's surface) would hide what that view photographed, and a point another view sees
unoccluded must have the colour that view photographed there (blurred photos, as in
`fuse.fill_gaps`). Depth candidates are the nearest known depth of the same view times a
fixed set of factors, nearer ones first, then farther ones; per pixel the candidate that
the most other views confirm (colour within `color_tol`) wins, among those without any
free-space violation and with at least half the views that see it agreeing; ties go to
the earlier candidate. A pixel no other view sees at some candidate depth is placed there
unverified: right where nobody else looked (the tree beside the camera), and harmless to
every other photo. A pixel every candidate contradicts gets no splat.

A depth no other photo confirms is a guess, and a wrong guess floats in front of the scene
in every view but the photo's own: it is kept only for foliage-green pixels and for
textured ones whose candidate continues the nearest known depth (factor ≥ 0.75). The first
version kept every guess; Sceaux 100_7109's lens flare and its washed-out left edge then
stood 1.3-1.5 m in front of the camera, a pink cloud in the held-out 100_7108.

Measured (`python bench/recon_fusion_views.py sc --sky --fill --ray --all`, 11 views at 400
px, before optimisation): full-frame PSNR at the input views 17.58 -> 19.61 dB (7100: 10.69
-> 16.38, 7109: 16.37 -> 18.81, 7110: 11.96 -> 16.21), issue 12's bar (the fused scene on
the pixels a view's own depth splats cover) 17.93 -> 18.89 dB against 22.38 for those
splats; the Great Wall 22.70 -> 25.31 dB full frame, its bar 26.00 -> 26.60 (30.00).
After optimisation, from the same COLMAP model (`reconstruct --colmap … --holdout 8
--refine 250 --refine-seconds 0 --time-budget 0`, `evaluate --max-size 1024`): Sceaux
training 25.21 -> 26.43 dB, held out 14.38 -> 14.68; Great Wall (300 steps, full size)
32.84 -> 33.95, held out 28.49 -> 29.86 dB (its held-out SSIM 0.888 -> 0.881). Discs
0.8 px across (std-dev) instead of the fusion's 0.5: the same training PSNR, held out
+0.2 / +0.7 dB, and a tree at a photo's edge drawn solid rather than dotted in the app.

All arrays are float32 unless noted; depth is camera z; pixel centres at integer + 0.5.
"""

from __future__ import annotations

import logging

import numpy as np

from scene.camera import Camera

from .dense import DepthView
from .fuse import (
    Fused,
    _grid_subsample,
    append_splats,
    drop_small_regions,
    landing,
    normal_quats,
)
from .sky import foliage_green, local_contrast, sky_mask

log = logging.getLogger(__name__)

#: depth candidates, × the nearest known depth of the view: that depth, nearer, farther
DEPTH_FACTORS = (1.0, 0.75, 0.56, 0.42, 0.32, 0.24, 0.18, 0.13, 0.1, 0.07, 0.05, 1.4, 2.0, 3.0, 5.0)


def nearest_depth(depth: np.ndarray) -> np.ndarray:
    """(h, w) depth where every pixel without depth (0) takes that of the nearest pixel with
    depth (Euclidean, `cv2.distanceTransformWithLabels`); all zeros when none has depth."""
    import cv2

    has = depth > 0
    if not has.any():
        return np.zeros_like(depth)
    _, labels = cv2.distanceTransformWithLabels(
        (~has).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # labels number the zero pixels of the input (the pixels with depth) in scan order
    vals = np.concatenate([[0.0], depth[has]]).astype(np.float32)
    return vals[labels]


def ray_votes(
    X: np.ndarray,
    colour: np.ndarray,
    others: list[DepthView],
    blurred: dict[str, np.ndarray],
    *,
    occlusion_tol: float = 0.05,
    color_tol: float = 0.12,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the `others` say of world points X (P, 3) of colour `colour` (P, 3, 0..1).

    Returns (violations, seen, agree), each (P,) int32: views in which the point lies
    clearly in front of the surface they see (z < (1 - occlusion_tol)·D); views that see
    the point's spot unoccluded (inside the frame, no depth there or z ≤ (1 +
    occlusion_tol)·D); of those, views whose blurred photo there is within `color_tol`
    (mean abs over RGB) of `colour`.
    """
    n = len(X)
    violations = np.zeros(n, np.int32)
    seen = np.zeros(n, np.int32)
    agree = np.zeros(n, np.int32)
    for o in others:
        _, z, x, y, inside = landing(o, X)
        inside &= o.image_mask()[np.where(inside, y, 0), np.where(inside, x, 0)]
        xi, yi = np.where(inside, x, 0), np.where(inside, y, 0)
        dj = o.depth[yi, xi]
        has = inside & (dj > 0)
        violations += has & (z < (1.0 - occlusion_tol) * dj)
        vis = inside & ((dj <= 0) | (z <= (1.0 + occlusion_tol) * dj))
        diff = np.abs(blurred[o.name][yi, xi] - colour).mean(1)
        seen += vis
        agree += vis & (diff < color_tol)
    return violations, seen, agree


def blue_sky(image: np.ndarray, max_contrast: float = 0.05, win: int = 7) -> np.ndarray:
    """(h, w) bool smooth bluish pixels of an RGB uint8 image (h, w, 3): sky, also where it
    shows through foliage and does not reach the image's top as `sky.sky_mask` needs.
    Smooth: `win`×`win` grey std-dev below `max_contrast`; bluish: blue above red and near
    green, not dark (`panorama.classes.sky_like` without its bright-grey half, which a
    white wall shares)."""
    rgb = image.astype(np.float32) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    smooth = local_contrast(image, win) < max_contrast
    return smooth & (b >= r + 0.02) & (b >= 0.9 * g) & (grey > 0.08)


def nearest_colours(points: np.ndarray, colors: np.ndarray, view: DepthView) -> np.ndarray:
    """(h, w, 3) colour of the nearest of `points` (N, 3) landing in each pixel of `view`
    (a point z-buffer, `colors` (N, 3) 0..1); NaN where none lands."""
    h, w = view.depth.shape
    out = np.full((h * w, 3), np.nan, np.float32)
    _, z, x, y, ok = landing(view, points)
    q, z, idx = (y * w + x)[ok], z[ok], np.flatnonzero(ok)
    order = np.lexsort((z, q))  # by pixel, nearest first
    q, idx = q[order], idx[order]
    first = np.ones(len(q), bool)
    first[1:] = q[1:] != q[:-1]
    out[q[first]] = colors[idx[first]]
    return out.reshape(h, w, 3)


def facing_discs(
    cam: Camera, pixels: np.ndarray, depth: np.ndarray, size_px: float, flatness: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat discs facing `cam` at flat pixel indices `pixels` (K,) of its image and camera
    depths `depth` (K,): positions (K, 3), normals (K, 3) towards the camera, std-devs
    (K, 3) (`size_px` pixels across at that depth, × `flatness` along the normal) and wxyz
    quats (K, 4). Facing the camera, not a normal from neighbouring depths: a pixel's depth
    here is a choice among candidates, and neighbours that chose differently would tilt the
    disc edge-on to the photo it came from."""
    py, px = np.divmod(pixels, cam.width)
    z = depth.astype(np.float64)
    xc = np.stack([(px + 0.5 - cam.cx) / cam.fx * z, (py + 0.5 - cam.cy) / cam.fy * z, z], 1)
    pts = (xc - cam.t) @ cam.R
    nrm = cam.position - pts
    nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
    foot = size_px * z / (0.5 * (cam.fx + cam.fy))
    scales = np.stack([foot, foot, foot * flatness], 1)
    return (
        pts.astype(np.float32),
        nrm.astype(np.float32),
        scales.astype(np.float32),
        normal_quats(nrm).astype(np.float32),
    )


def nearest_views(views: dict[str, DepthView], name: str, limit: int) -> list[DepthView]:
    """The other views whose cameras stand nearest `name`'s, at most `limit` (0 = all): the
    photos most likely to see the space along its rays. Testing every view costs
    candidates × views² point projections: 24 synthetic views at 320×240 with 0.9 M
    depthless pixels took 41 s against 22 s with the 10 nearest, for 1 % fewer splats."""
    others = [v for m, v in views.items() if m != name]
    if limit <= 0 or len(others) <= limit:
        return others
    c = views[name].camera.position
    d = [float(np.linalg.norm(v.camera.position - c)) for v in others]
    return [others[i] for i in np.argsort(d, kind="stable")[:limit]]


def fill_depthless(
    fused: Fused,
    views: dict[str, DepthView],
    *,
    factors: tuple[float, ...] = DEPTH_FACTORS,
    min_region: int = 16,
    color_tol: float = 0.12,
    blur_px: int = 5,
    occlusion_tol: float = 0.05,
    min_contrast: float = 0.05,
    min_guess_factor: float = 0.75,
    max_others: int = 10,
    max_points: int = 0,
    size_factor: float = 0.8,
    flatness: float = 0.1,
) -> tuple[Fused, int]:
    """`fused` plus splats for each view's pixels without depth (see the module docstring).

    views: name -> DepthView (image, camera and depth at the depth map's size); the pixels
    `fused.covered` marks, the view's sky (`sky.sky_mask`, as `sky.sky_splats` finds it)
    and the border undistortion leaves are skipped. Views are visited in order; a view's
    pixels that the splats already there (earlier views' included) show in other colours
    are taken as well. Splats are one per pixel at the fusion's stride (block-mean
    colour): discs facing their photo (`facing_discs`), std-dev `size_factor` × the stride
    in pixels. Each view is tested against the `max_others` views whose cameras stand
    nearest (`nearest_views`; 0 = all). `max_points` (0 = none) bounds the total with the
    splats already in `fused` (the new ones are thinned evenly, with a warning). Returns
    a new Fused (`covered` updated) and the number of splats added.
    """
    import cv2

    names = [n for n in fused.names if n in views]
    index = {n: i for i, n in enumerate(fused.names)}
    covered = {n: m.copy() for n, m in fused.covered.items()}
    blurred = {
        n: cv2.blur(v.image.astype(np.float32) / 255.0, (blur_px, blur_px))
        for n, v in views.items()
    }
    chunks: list[tuple[np.ndarray, ...]] = []  # per view: points, colours, normals, ...
    added = 0
    for n in names:
        v = views[n]
        h, w = v.depth.shape
        cov = covered.get(n, np.zeros((h, w), bool))
        dil = cv2.dilate(cov.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        sky = sky_mask(v.image, dil, scene=dil & (v.depth > 0))
        # a pixel another view's splats cover is still open when they show other colours:
        # they lie behind something only this photo saw (the castle behind its tree)
        pts_all = np.concatenate([fused.points, *(c[0] for c in chunks)])
        near = nearest_colours(pts_all, np.concatenate([fused.colors, *(c[1] for c in chunks)]), v)
        wrong = np.abs(near - blurred[n]).mean(-1) > color_tol  # False where NaN
        gap = (v.depth <= 0) & (~cov | wrong) & ~sky & v.image_mask()
        pix = np.flatnonzero(drop_small_regions(gap & ~blue_sky(v.image), min_region))
        textured = local_contrast(v.image) >= min_contrast
        green = foliage_green(v.image)
        guess = nearest_depth(v.depth).reshape(-1)[pix]
        pix, guess = pix[guess > 0], guess[guess > 0]
        if not len(pix):
            continue
        others = nearest_views(views, n, max_others)
        colour = blurred[n].reshape(-1, 3)[pix]
        py, px = np.divmod(pix, w)
        cam = v.camera
        ray = np.stack(
            [(px + 0.5 - cam.cx) / cam.fx, (py + 0.5 - cam.cy) / cam.fy, np.ones(len(pix))], 1
        )
        best = np.full(len(pix), -1, np.int32)
        best_agree = np.full(len(pix), -1, np.int32)
        for k, f in enumerate(factors):
            X = (ray * (guess * f)[:, None] - cam.t) @ cam.R
            viol, seen, agree = ray_votes(
                X, colour, others, blurred, occlusion_tol=occlusion_tol, color_tol=color_tol
            )
            ok = (viol == 0) & (2 * agree >= seen) & (agree > best_agree)
            best[ok] = k
            best_agree[ok] = agree[ok]
        # a depth no other photo confirms is a guess. It is kept for foliage (a tree's
        # crown beside the camera), and for textured pixels when it continues the nearest
        # known depth; not for a lens flare, a hazy or washed-out stretch of a surface the
        # others photographed in other colours: nearer, those are floaters in every view
        # but their own
        near_guess = np.asarray(factors)[np.maximum(best, 0)] >= min_guess_factor
        guess_ok = green.reshape(-1)[pix] | (textured.reshape(-1)[pix] & near_guess)
        placed = (best >= 0) & ((best_agree > 0) | guess_ok)
        pix, guess, best = pix[placed], guess[placed], best[placed]
        if not len(pix):
            continue
        col = v.image.reshape(-1, 3)[pix].astype(np.float32) / 255.0
        kp, col = _grid_subsample(v, pix, col, fused.stride)
        d = np.zeros(h * w, np.float32)
        d[pix] = guess * np.asarray(factors, np.float32)[best]
        pts, nrm, sc, qt = facing_discs(cam, kp, d[kp], fused.stride * size_factor, flatness)
        chunks.append((pts, col, nrm, sc, qt, np.full(len(kp), index[n], np.int32)))
        added += len(kp)
        # only this view's pixels count as covered: the discs are a pixel wide here, and
        # marking another view's sky where one lands would leave holes in its sky sphere
        covered[n].reshape(-1)[pix] = True
    log.info("ray fill: %d splats where stereo found no depth", added)
    return append_splats(fused, chunks, covered, max_points, "ray fill")
