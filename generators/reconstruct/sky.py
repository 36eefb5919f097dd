"""Sky and far field: splats on a large sphere for what the photos show beyond the depth range.

Plane-sweep stereo gives no depth for the sky and for distant background (no parallax, no
texture), so a fused scene rendered at a photo's camera is black there. Here, per view,
pixels that no fused splat explains, that are smooth (low local contrast) and that connect
to the image's top border through such pixels are taken as sky / far field. Each becomes a
flat disc on a sphere around the cameras' centroid (radius `radius_factor` × the median
scene depth, so parallax between the photo cameras is negligible), facing the camera that
saw it and sized to its pixel footprint at that distance. Views are visited in order and a
pixel already covered by an earlier view's sky splat is skipped, so overlapping photos do
not stack layers of sky. A splat's colour is the median of every view whose sky holds its
direction, not the placing view's alone: photos at different exposures (Sceaux's sky runs
from deep blue to white) otherwise meet in panels where one view's sky gives way to the
next. On Sceaux (`bench/recon_fusion_views.py sc --sky`) the pixels the fused scene covers
beyond the views' own depth, mostly sky, went from 18.4 to 21.7 dB.

The sky splats are appended after the scene's splats and recorded in
`cloud.meta["far_field"] = {"count": M, ...}` (the last M splats), so the viewer can treat
them as background (e.g. leave them out of walk collision); `far_field_mask` reads it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud, logit, rgb_to_sh0

from .dense import DepthView

log = logging.getLogger(__name__)


@dataclass
class SkySplats:
    """Far-field splats (M rows): positions (M, 3), RGB 0..1 (M, 3), std-devs (M, 3) with
    the thin axis along the viewing ray, wxyz quats (M, 4); the sphere's centre (3,), radius."""

    points: np.ndarray
    colors: np.ndarray
    scales: np.ndarray
    quats: np.ndarray
    center: np.ndarray
    radius: float


def sky_mask(
    image: np.ndarray,
    covered: np.ndarray,
    *,
    scene: np.ndarray | None = None,
    max_contrast: float = 0.05,
    win: int = 7,
    top_rows: int = 1,
) -> np.ndarray:
    """(h, w) bool sky / far-field pixels of one view.

    image: (h, w, 3) uint8 RGB; covered: (h, w) bool pixels the fused scene explains;
    scene: (h, w) bool pixels where the view's own depth was confirmed (default: covered),
    which set the skyline. A pixel qualifies when it is not covered, lies above its
    column's `skyline`, its
    `win`×`win` grey standard deviation is below `max_contrast` (0..1 grey units), it is
    not foliage-green (`foliage_green`: a tree's shaded crown is as smooth as sky), and its
    8-connected region of qualifying pixels reaches the top `top_rows` rows of the image.
    """
    import cv2

    top = skyline(covered if scene is None else scene)
    cand = (
        (~covered)
        & (local_contrast(image, win) < max_contrast)
        & (top[None, :] > np.arange(len(image))[:, None])
        & ~foliage_green(image)
    )
    if not cand.any():
        return cand
    n, labels = cv2.connectedComponents(cand.astype(np.uint8), connectivity=8)
    top = np.unique(labels[:top_rows][cand[:top_rows]])
    return np.isin(labels, top[top > 0]) & cand


def local_contrast(image: np.ndarray, win: int = 7) -> np.ndarray:
    """(h, w) grey standard deviation (0..1) over `win`×`win` windows of an RGB uint8 image."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    mu = cv2.boxFilter(grey, -1, (win, win))
    return np.sqrt(np.maximum(cv2.boxFilter(grey * grey, -1, (win, win)) - mu * mu, 0.0))


def foliage_green(image: np.ndarray) -> np.ndarray:
    """(h, w) bool pixels of an RGB uint8 image (h, w, 3) whose colour is a plant's, not a
    sky's: green above blue and at least red, by 0.02 (of 1) when darker than 0.6 grey,
    by 0.08 when brighter (a pale cyan haze near the horizon stays sky)."""
    rgb = image.astype(np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    return (g >= r) & (g > b + np.where(lum < 0.6, 0.02, 0.08))


def skyline(covered: np.ndarray, min_run: int = 3) -> np.ndarray:
    """(w,) int row of each column's scene top: the first row starting a vertical run of
    `min_run` covered pixels (isolated specks do not count), interpolated from the nearest
    columns where a column has none (h when no column has any). Sky lies above it: a hole
    inside the scene is not sky, even when it is smooth."""
    h, w = covered.shape
    c = covered.astype(np.int32)
    run = np.zeros((h, w), bool)
    if h >= min_run:
        cs = np.cumsum(np.vstack([np.zeros((1, w), np.int32), c]), 0)
        run[: h - min_run + 1] = (cs[min_run:] - cs[:-min_run]) == min_run
    has = run.any(0)
    if not has.any():
        return np.full(w, h, np.int64)
    top = np.argmax(run, 0).astype(np.float64)
    cols = np.arange(w)
    # a column without scene (a hole, a textureless slope) takes its neighbours' skyline
    return np.round(np.interp(cols, cols[has], top[has])).astype(np.int64)


def scene_sphere(
    views: dict[str, DepthView], radius_factor: float = 30.0
) -> tuple[np.ndarray, float]:
    """Centre (3,) = the cameras' centroid; radius = `radius_factor` × the median of the
    views' median depths (plus the camera spread, so every camera is well inside)."""
    cams = [v.camera for v in views.values()]
    pos = np.array([c.position for c in cams])
    center = pos.mean(0)
    med = [float(np.median(v.depth[v.depth > 0])) for v in views.values() if (v.depth > 0).any()]
    depth = float(np.median(med)) if med else 1.0
    spread = float(np.linalg.norm(pos - center, axis=1).max()) if len(pos) > 1 else 0.0
    return center, radius_factor * depth + 2 * spread


def _ray_sphere(
    origin: np.ndarray, dirs: np.ndarray, center: np.ndarray, radius: float
) -> np.ndarray:
    """Distance along unit rays (P, 3) from `origin` (inside the sphere) to the sphere."""
    oc = origin - center
    b = dirs @ oc
    c = float(oc @ oc) - radius * radius
    return -b + np.sqrt(np.maximum(b * b - c, 0.0))


def sky_splats(
    views: dict[str, DepthView],
    covered: dict[str, np.ndarray],
    *,
    radius_factor: float = 30.0,
    stride: int = 2,
    size_factor: float = 0.6,
    flatness: float = 0.1,
    max_contrast: float = 0.05,
) -> SkySplats:
    """Far-field splats for every view's sky pixels (see the module docstring).

    views: name -> DepthView (image and camera at the depth map's size); covered: name ->
    (h, w) bool pixels explained by the fused scene (`fuse.Fused.covered`). Sky pixels are
    taken on a `stride`×`stride` grid (one splat per block, block-mean colour).
    """
    import cv2

    center, radius = scene_sphere(views, radius_factor)
    P, C, S, Q = [], [], [], []
    seen: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> (sky mask, image 0..1)
    for name, v in views.items():
        cam = v.camera
        h, w = v.depth.shape
        cov = covered.get(name, np.zeros((h, w), bool))
        cov = cv2.dilate(cov.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        mask = sky_mask(v.image, cov, scene=cov & (v.depth > 0), max_contrast=max_contrast)
        mask &= v.image_mask()
        # the colour a splat on a stride×stride block takes: the block's mean (a 1×1 blur
        # leaves the image as it is)
        img = cv2.blur(v.image.astype(np.float32), (stride, stride)) / 255.0
        seen[name] = (mask.copy(), img)
        if P:  # skip what earlier views' sky already covers here
            mask &= ~_coverage(np.concatenate(P), np.concatenate(S)[:, 0], cam, h, w)
        if stride > 1:
            blk = (
                cv2.resize(
                    mask.astype(np.float32),
                    ((w + stride - 1) // stride, (h + stride - 1) // stride),
                    interpolation=cv2.INTER_AREA,
                )
                > 0.49
            )
            ys, xs = np.nonzero(blk)
            ys = np.minimum(ys * stride + stride // 2, h - 1)
            xs = np.minimum(xs * stride + stride // 2, w - 1)
        else:
            ys, xs = np.nonzero(mask)
        if not len(ys):
            continue
        u = xs + (0.5 if stride == 1 else (0.0 if stride % 2 == 0 else 0.5))
        vv = ys + (0.5 if stride == 1 else (0.0 if stride % 2 == 0 else 0.5))
        d = (
            np.stack(
                [(u - cam.cx) / cam.fx, (vv - cam.cy) / cam.fy, np.ones_like(u, dtype=np.float64)],
                1,
            )
            @ cam.R
        )
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        t = _ray_sphere(cam.position, d, center, radius)
        pts = cam.position + t[:, None] * d
        f = 0.5 * (cam.fx + cam.fy)
        # a pixel off-axis spans more: the footprint of a unit-z pixel grows by 1 / cos
        cos = np.abs(d @ cam.forward)
        foot = size_factor * stride * t / f / np.maximum(cos, 0.2)
        P.append(pts.astype(np.float32))
        C.append(img[ys, xs].astype(np.float32))
        S.append(np.stack([foot, foot, foot * flatness], 1).astype(np.float32))
        Q.append(_facing_quats(d, cam))
        log.debug("sky %s: %d splats", name, len(ys))
    if not P:
        z3 = np.zeros((0, 3), np.float32)
        return SkySplats(z3, z3, z3, np.zeros((0, 4), np.float32), center, radius)
    pts = np.concatenate(P)
    out = SkySplats(
        pts,
        _median_colours(pts, np.concatenate(C), views, seen),
        np.concatenate(S),
        np.concatenate(Q),
        center,
        radius,
    )
    log.info("sky: %d far-field splats on a sphere of radius %.3g", len(out.points), radius)
    return out


def _median_colours(
    points: np.ndarray,
    colors: np.ndarray,
    views: dict[str, DepthView],
    seen: dict[str, tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """(P, 3) colour of each far splat: the median over every view whose sky mask holds the
    splat's direction (`seen`: name -> ((h, w) bool mask, (h, w, 3) float image)), instead
    of the one view that placed it, as fused splats take the median of the views that agree:
    photos taken at other exposures no longer meet in steps where one view's sky gives way
    to the next one's. `colors` (P, 3) is kept where no view's mask holds a splat."""
    stack = []
    for name, (mask, img) in seen.items():
        cam = views[name].camera
        h, w = mask.shape
        uv, z = cam.project(points)
        x = np.floor(uv[:, 0]).astype(np.int64)
        y = np.floor(uv[:, 1]).astype(np.int64)
        ok = (z > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
        ok[ok] = mask[y[ok], x[ok]]
        col = np.full((len(points), 3), np.nan, np.float32)
        col[ok] = img[y[ok], x[ok]]
        stack.append(col)
    if not stack:
        return colors
    with warnings.catch_warnings():  # splats no mask holds: all NaN, handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.stack(stack), axis=0)
    return np.where(np.isnan(med), colors, med).astype(np.float32)


def _coverage(points: np.ndarray, sigma: np.ndarray, cam: Camera, h: int, w: int) -> np.ndarray:
    """(h, w) bool pixels within ~1.5σ (projected) of the given splat centres (P, 3)."""
    import cv2

    uv, z = cam.project(points)
    ok = (z > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    out = np.zeros((h, w), np.uint8)
    if not ok.any():
        return out > 0
    x = uv[ok, 0].astype(np.int64)
    y = uv[ok, 1].astype(np.int64)
    out[y, x] = 1
    r = float(np.median(1.5 * sigma[ok] * cam.fx / z[ok]))
    k = max(1, int(round(r)) * 2 + 1)
    return cv2.dilate(out, np.ones((k, k), np.uint8)) > 0


def _facing_quats(dirs: np.ndarray, cam: Camera) -> np.ndarray:
    """wxyz quats (P, 4) whose local z is the ray direction and x the camera's right."""
    from scene.rotations import matrices_to_quats

    n = dirs.astype(np.float64)
    a = np.cross(-cam.up[None, :], n)  # ≈ camera right, orthogonal to the ray
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = np.cross(n, a)
    return matrices_to_quats(np.stack([a, b, n], axis=2)).astype(np.float32)


def sky_cloud(sky: SkySplats, opacity: float = 0.98) -> GaussianCloud:
    """SkySplats -> GaussianCloud (SH degree 0)."""
    m = len(sky.points)
    return GaussianCloud(
        means=sky.points,
        scales=np.log(np.maximum(sky.scales, 1e-12)),
        quats=sky.quats,
        opacities=np.full(m, logit(np.float32(opacity))),
        sh0=rgb_to_sh0(sky.colors),
        shN=np.zeros((m, 0, 3), np.float32),
    )


def add_sky(
    cloud: GaussianCloud,
    views: dict[str, DepthView],
    covered: dict[str, np.ndarray],
    **options: float,
) -> GaussianCloud:
    """`cloud` with far-field splats appended; `meta["far_field"]` records how many."""
    sky = sky_splats(views, covered, **options)
    if not len(sky.points):
        out = cloud.copy()
        out.meta["far_field"] = {"count": 0}
        return out
    out = GaussianCloud.concatenate([cloud, sky_cloud(sky)])
    out.meta = dict(cloud.meta)
    out.meta["far_field"] = {
        "count": int(len(sky.points)),
        "kind": "sky sphere",
        "center": [float(v) for v in sky.center],
        "radius": float(sky.radius),
    }
    return out


#: after optimisation, splats at least this share of the sky sphere's radius from its
#: centre are its (an optimised sky splat moves a little; the scene is far inside)
ON_SKY_SPHERE = 0.75


def transform_far_field(meta: dict, scale: float, rot: np.ndarray, trans: np.ndarray) -> None:
    """Move a `meta["far_field"]` sphere (centre, radius) by x -> scale · rot @ x + trans,
    in place, as the cloud it describes was moved."""
    far = meta.get("far_field")
    if isinstance(far, dict) and "center" in far and "radius" in far:
        c = scale * np.asarray(rot, np.float64) @ np.asarray(far["center"], np.float64) + trans
        meta["far_field"] = {
            **far,
            "center": [float(v) for v in c],
            "radius": float(scale * far["radius"]),
        }


def mark_far_field(cloud: GaussianCloud) -> GaussianCloud:
    """`cloud` with its sky-sphere splats last and `meta["far_field"]["count"]` counting
    them again, found by distance from the sphere's recorded centre (ON_SKY_SPHERE × its
    radius or more): optimisation clones, splits and prunes, so 'the last M' no longer
    held and the marker was dropped; then `export --no-far-field` kept the sphere whenever
    it lay within FAR_FIELD_FACTOR × the scene's median distance (a drone capture's sky).
    Without a recorded sphere the marker is dropped."""
    far = cloud.meta.get("far_field")
    if not (isinstance(far, dict) and "center" in far and "radius" in far):
        cloud.meta.pop("far_field", None)
        return cloud
    out_meta = dict(cloud.meta)
    d = np.linalg.norm(cloud.means.astype(np.float64) - np.asarray(far["center"]), axis=1)
    is_far = d >= ON_SKY_SPHERE * float(far["radius"])
    order = np.concatenate([np.flatnonzero(~is_far), np.flatnonzero(is_far)])
    out = cloud.subset(order) if is_far.any() else cloud
    out.meta = out_meta
    out.meta["far_field"] = {**far, "count": int(is_far.sum())}
    return out


def append_splats(cloud: GaussianCloud, extra: GaussianCloud, far: bool) -> GaussianCloud:
    """`cloud` with `extra` added, keeping `meta["far_field"]` true: far-field splats
    (`far`) go last and are counted, others go before the far field."""
    mark = cloud.meta.get("far_field")
    count = cloud.far_field_marked()
    n = len(cloud)
    if far or not count:
        out = GaussianCloud.concatenate([cloud, extra])
    else:
        out = GaussianCloud.concatenate(
            [cloud.subset(slice(0, n - count)), extra, cloud.subset(slice(n - count, n))]
        )
    out.meta = dict(cloud.meta)
    if isinstance(mark, dict) and far:
        out.meta["far_field"] = {**mark, "count": count + len(extra)}
    return out


def far_field_mask(cloud: GaussianCloud) -> np.ndarray:
    """(N,) bool: the splats `add_sky` appended (from `meta["far_field"]`; all False if none)."""
    m = np.zeros(len(cloud), bool)
    count = cloud.far_field_marked()
    if count:
        m[len(cloud) - count :] = True
    return m
