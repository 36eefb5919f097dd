"""Dense depth per view by plane sweep with normalised cross-correlation (NCC).

For each reference view, a few neighbour views (good baseline, similar direction, many
shared sparse points) are warped onto fronto-parallel planes sampled uniformly in inverse
depth between the sparse points' depth range; the cost per plane is the mean of the best
two NCC scores (robust to one occluded neighbour); the winning plane is refined to sub-plane
precision with a parabola. Runs on grey images at a reduced working size with OpenCV.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scene.camera import Camera

log = logging.getLogger(__name__)


@dataclass
class DepthView:
    """One view's dense depth at the working resolution."""

    name: str
    camera: Camera  # intrinsics scaled to the depth map size
    image: np.ndarray  # (h, w, 3) uint8 RGB (undistorted)
    depth: np.ndarray  # (h, w) float32 camera z, 0 where unknown
    score: np.ndarray  # (h, w) float32 NCC score of the winner (-1..1)
    valid: np.ndarray | None = None  # (h, w) bool pixels the photo covers after undistortion
    # (None = all)

    def image_mask(self) -> np.ndarray:
        """(h, w) bool: pixels holding photo content (not undistortion's empty border)."""
        return np.ones(self.depth.shape, bool) if self.valid is None else self.valid


def undistort(img: np.ndarray, cam: Camera, k1: float) -> np.ndarray:
    """Remove SIMPLE_RADIAL distortion (k1) so the image is a pinhole image for `cam`."""
    if abs(k1) < 1e-9:
        return img
    import cv2

    return cv2.undistort(img, cam.K, np.array([k1, 0.0, 0.0, 0.0]))


def undistorted_mask(cam: Camera, k1: float) -> np.ndarray:
    """(h, w) bool at `cam`'s size: pixels of the undistorted image that hold photo content
    (a barrel-distortion removal leaves an empty border)."""
    ones = np.full((cam.height, cam.width), 255, np.uint8)
    return undistort(ones, cam, k1) > 127


def choose_neighbours(
    cams: dict[str, Camera], visible: dict[str, np.ndarray], points: np.ndarray, k: int = 4
) -> dict[str, list[str]]:
    """For each view, up to `k` neighbours with a useful baseline and shared points."""
    names = list(cams)
    out: dict[str, list[str]] = {}
    sets = {n: set(visible.get(n, np.zeros(0, np.int64)).tolist()) for n in names}
    for r in names:
        cr = cams[r]
        vis = visible.get(r)
        if vis is not None and len(vis):
            _, z = cr.project(points[vis])
            depth = float(np.median(z[z > 0])) if (z > 0).any() else 1.0
        else:
            depth = 1.0
        scored = []
        for s in names:
            if s == r:
                continue
            cs = cams[s]
            base = np.linalg.norm(cr.position - cs.position) / max(depth, 1e-9)
            ang = np.degrees(np.arccos(np.clip(cr.forward @ cs.forward, -1, 1)))
            shared = len(sets[r] & sets[s])
            if base < 0.02 or ang > 60:
                continue
            # prefer baselines near 1/6 of the depth (good triangulation, still similar views)
            score = shared * np.exp(-((np.log(base / 0.17)) ** 2) / 1.5) * np.exp(-ang / 30)
            scored.append((score, s))
        scored.sort(reverse=True)
        out[r] = [s for _, s in scored[:k]]
    return out


def depth_range(cam: Camera, points: np.ndarray, visible: np.ndarray | None) -> tuple[float, float]:
    """Near/far from the sparse points seen by (or in front of) this camera."""
    pts = points[visible] if visible is not None and len(visible) >= 10 else points
    uv, z = cam.project(pts)
    inside = (
        (z > 0)
        & (uv[:, 0] >= 0)
        & (uv[:, 0] < cam.width)
        & (uv[:, 1] >= 0)
        & (uv[:, 1] < cam.height)
    )
    z = z[inside] if inside.sum() >= 5 else z[z > 0]
    if len(z) == 0:
        raise ValueError(f"{cam.name}: no sparse points in front of the camera")
    lo, hi = np.percentile(z, 1), np.percentile(z, 99)
    return float(lo * 0.5), float(hi * 2.0)


def ground_range(
    cam: Camera, points: np.ndarray, visible: np.ndarray | None, down: np.ndarray
) -> tuple[float, float] | None:
    """Distances (near, far) of ground planes below `cam` to sweep: planes n·X = d in the
    camera frame with n = R·down (world down, unit), from 1/4 of the 90th percentile to
    twice the 99th percentile of the drop n·X of the sparse points seen below the camera;
    None when fewer than 10 such points are seen (no ground to look for)."""
    pts = points[visible] if visible is not None and len(visible) >= 10 else points
    if len(pts) == 0:
        return None
    xc = pts @ cam.R.T + cam.t
    drop = xc @ (cam.R @ np.asarray(down, np.float64))
    uv, z = cam.project(pts)
    inside = (
        (z > 0)
        & (uv[:, 0] >= 0)
        & (uv[:, 0] < cam.width)
        & (uv[:, 1] >= 0)
        & (uv[:, 1] < cam.height)
    )
    d = drop[inside & (drop > 0)]
    if len(d) < 10:
        return None
    lo, hi = 0.25 * float(np.percentile(d, 90)), 2.0 * float(np.percentile(d, 99))
    return (lo, hi) if hi > lo > 0 else None


def _ncc_prep(g: np.ndarray, win: int) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    mu = cv2.boxFilter(g, -1, (win, win))
    var = cv2.boxFilter(g * g, -1, (win, win)) - mu * mu
    return mu, var


def plane_sweep(
    ref_img: np.ndarray,
    ref: Camera,
    srcs: list[tuple[np.ndarray, Camera]],
    near: float,
    far: float,
    planes: int = 96,
    win: int = 7,
    check: Callable[[], None] | None = None,
    normal: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (h, w) and best score (h, w) for grey float32 `ref_img` seen by `ref`.

    srcs: (grey float32 image, camera) pairs, all at their working sizes.
    normal: unit normal n of the swept planes in the ref camera frame (None = (0, 0, 1),
    fronto-parallel); the planes are n·X = d for d from `near` to `far` (uniform in 1/d),
    so a pixel whose ray r has n·r <= 0 never meets one and gets depth 0. A second sweep
    direction along the ground's normal (Gallup et al. 2007, "Real-time plane-sweeping
    stereo with multiple sweeping directions") matches slanted ground that fronto-parallel
    windows cannot.
    """
    import cv2

    h, w = ref_img.shape
    mu_r, var_r = _ncc_prep(ref_img, win)
    sd_r = np.sqrt(np.maximum(var_r, 1e-6))
    inv = np.linspace(1.0 / near, 1.0 / far, planes)  # (D,) inverse plane distances, near first
    nrm = np.array([0.0, 0.0, 1.0]) if normal is None else np.asarray(normal, np.float64)
    nrm = nrm / max(float(np.linalg.norm(nrm)), 1e-12)
    # pixel index coords (OpenCV warps) <-> camera coords (pixel centres at index + 0.5)
    kinv = np.linalg.inv(ref.K) @ np.array([[1.0, 0, 0.5], [0, 1.0, 0.5], [0, 0, 1.0]])
    unshift = np.array([[1.0, 0, -0.5], [0, 1.0, -0.5], [0, 0, 1.0]])
    yy0, xx0 = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = np.stack([xx0, yy0, np.ones_like(xx0)], -1) @ kinv.T  # (h, w, 3), z = 1
    n_dot = (rays @ nrm).astype(np.float32)  # depth = d / n_dot
    hits = n_dot > 1e-3
    cost = np.empty((planes, h, w), np.float32)
    rels = []
    for img, cam in srcs:
        r_rel = cam.R @ ref.R.T  # ref camera -> src camera
        t_rel = cam.t - r_rel @ ref.t
        rels.append((img, cam, r_rel, t_rel))
    n_src = len(srcs)
    scores = np.empty((n_src, h, w), np.float32)
    for d_i, idepth in enumerate(inv):
        if check is not None and d_i % 8 == 0:
            check()
        for s_i, (img, cam, r_rel, t_rel) in enumerate(rels):
            # plane n·X = d in the ref frame: X_s = (R + t nᵀ / d) X_r
            hmat = unshift @ cam.K @ (r_rel + np.outer(t_rel, nrm * idepth)) @ kinv
            warped = cv2.warpPerspective(
                img,
                hmat,
                (w, h),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=-1.0,
            )
            valid = cv2.boxFilter((warped >= 0).astype(np.float32), -1, (win, win)) > 0.999
            wv = np.maximum(warped, 0)
            mu_w = cv2.boxFilter(wv, -1, (win, win))
            var_w = cv2.boxFilter(wv * wv, -1, (win, win)) - mu_w * mu_w
            cov = cv2.boxFilter(ref_img * wv, -1, (win, win)) - mu_r * mu_w
            ncc = cov / (sd_r * np.sqrt(np.maximum(var_w, 1e-6)))
            ncc[~valid | ~hits] = -1.0
            scores[s_i] = ncc
        if n_src >= 2:
            part = np.partition(scores, n_src - 2, axis=0)
            cost[d_i] = 0.5 * (part[-1] + part[-2])
        else:
            cost[d_i] = scores[0]
    best = np.argmax(cost, axis=0)  # (h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    c0 = cost[best, yy, xx]
    cm = cost[np.clip(best - 1, 0, planes - 1), yy, xx]
    cp = cost[np.clip(best + 1, 0, planes - 1), yy, xx]
    denom = cm - 2 * c0 + cp
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(
            (denom < -1e-6) & (best > 0) & (best < planes - 1), 0.5 * (cm - cp) / denom, 0.0
        )
    step = inv[1] - inv[0]
    idep = inv[best] + np.clip(off, -0.5, 0.5) * step
    depth = (1.0 / np.maximum(idep, 1e-9) / np.maximum(n_dot, 1e-3)).astype(np.float32)
    # untextured windows, boundary planes and rays that meet no plane are unreliable
    bad = (var_r < 1e-4) | (best == 0) | (best == planes - 1) | ~hits
    depth[bad] = 0.0
    return depth, c0.astype(np.float32)


def compute_depths(
    images: dict[str, np.ndarray],
    cams: dict[str, Camera],
    distortion: dict[str, float],
    points: np.ndarray,
    visible: dict[str, np.ndarray],
    *,
    max_size: int = 400,
    planes: int = 96,
    min_score: float = 0.5,
    report: Callable[[float, str], None] | None = None,
    valid: dict[str, np.ndarray] | None = None,
    ground_planes: int = 48,
    ground_fill: bool = True,
    labels: dict[str, str] | None = None,
    up: np.ndarray | None = None,
) -> dict[str, DepthView]:
    """Dense depth for every registered view. `images`: name -> RGB uint8 at camera size.
    labels: optional name -> the photo's own name, for the progress messages (the names
    here are the working copies', e.g. 'IMG_1.png' for 'IMG_1.JPG').

    Two plane sweeps per view: `planes` fronto-parallel ones and `ground_planes` (0 = off)
    along the ground's normal (world down: -`up`, default `align.estimate_up` of the
    cameras and `points`), between the heights of the sparse points below the camera
    (`ground_range`); the better NCC wins per pixel. With `ground_fill`, the empty ground
    pixels then get the ground plane's depth (`fill_ground`).

    valid (optional): name -> (H, W) bool at camera size, the pixels holding photo content
    of an image the caller already undistorted (e.g. through a `ColmapLens`); combined
    with the border the k1 removal here leaves.
    """
    import cv2

    names = list(cams)
    shown = labels or {}
    small: dict[str, tuple[np.ndarray, np.ndarray, Camera]] = {}
    masks: dict[str, np.ndarray] = {}
    for n in names:
        cam = cams[n]
        img = undistort(images[n], cam, distortion.get(n, 0.0))
        s = min(1.0, max_size / max(cam.width, cam.height))
        w, h = max(8, round(cam.width * s)), max(8, round(cam.height * s))
        sc = cam.resized(w, h)
        sc.name = n
        rgb = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        full = undistorted_mask(cam, distortion.get(n, 0.0))
        if valid is not None and n in valid:
            full = full & np.asarray(valid[n], bool)
        inside = cv2.resize(full.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        inside = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        small[n] = (rgb, grey, sc)
        masks[n] = inside
    neigh = choose_neighbours(cams, visible, points)
    down = None
    if (ground_planes or ground_fill) and len(cams) >= 2:
        from .align import estimate_up

        down = -(estimate_up(list(cams.values()), points) if up is None else np.asarray(up))
    out: dict[str, DepthView] = {}
    for i, n in enumerate(names):
        what = f"depth {i + 1}/{len(names)}: {shown.get(n, n)}"
        if report:
            report(i / len(names), what)
        rgb, grey, sc = small[n]
        nb = neigh.get(n, [])
        try:
            near, far = depth_range(sc, points, visible.get(n)) if nb else (0.0, 0.0)
        except ValueError:  # a doubtful registration (no point in front): skip this view,
            nb = []  # as one without neighbours, instead of failing the whole job
        if not nb:
            out[n] = DepthView(
                n,
                sc,
                rgb,
                np.zeros(grey.shape, np.float32),
                np.full(grey.shape, -1, np.float32),
                masks[n],
            )
            continue
        # called by plane_sweep within this iteration; defaults bind this view's i and n
        check = (lambda i=i, what=what: report(i / len(names), what)) if report else None
        srcs = [(small[s][1], small[s][2]) for s in nb]
        depth, score = plane_sweep(grey, sc, srcs, near, far, planes=planes, check=check)
        if ground_planes and down is not None:
            # a second sweep along the ground's normal: slanted ground (a lawn, gravel, a
            # table top) that fronto-parallel windows do not match; per pixel the better
            # NCC of the two directions wins (Gallup et al. 2007)
            g = ground_range(sc, points, visible.get(n), down)
            if g is not None:
                n_c = sc.R @ down
                gd, gs = plane_sweep(
                    grey, sc, srcs, g[0], g[1], planes=ground_planes, check=check, normal=n_c
                )
                use = (gs > score) & (gd > 0)
                depth = np.where(use, gd, depth)
                score = np.where(use, gs, score)
        depth[(score < min_score) | ~masks[n]] = 0.0
        out[n] = DepthView(n, sc, rgb, depth, score, masks[n])
    if ground_fill and down is not None:
        fill_ground(out, points, -down)
    return out


def fill_ground(
    views: dict[str, DepthView], points: np.ndarray, up: np.ndarray, fill_score: float = 0.5
) -> int:
    """Fit the ground plane (`ground.fit_ground_plane`) to the depth maps' points and the
    sparse points, and give each view's empty ground pixels its depth (in place; score
    `fill_score`). Returns the number of pixels filled (0 when no ground is found)."""
    from .fuse import backproject
    from .ground import fill_ground_depth, fit_ground_plane

    cloud, meds = [], []
    for v in views.values():
        ok = v.depth > 0
        if ok.sum() < 10:
            continue
        meds.append(float(np.median(v.depth[ok])))
        p = backproject(v.depth, v.camera).reshape(-1, 3)[ok.reshape(-1)]
        cloud.append(p[:: max(1, len(p) // 20000)])
    if not cloud:
        return 0
    pts = np.concatenate(cloud + [np.asarray(points, np.float64).reshape(-1, 3)])
    centres = np.array([v.camera.position for v in views.values()])
    plane = fit_ground_plane(pts, up, centres, tol=0.01 * float(np.median(meds)))
    if plane is None:
        log.info("ground: no ground plane found below the cameras")
        return 0
    total = 0
    for v in views.values():
        fill = fill_ground_depth(v.depth, v.camera, plane, inside=v.valid)
        if fill.any():
            from .ground import plane_depth

            zp = plane_depth(v.camera, plane, v.depth.shape)
            v.depth[fill] = zp[fill]
            v.score[fill] = fill_score
            total += int(fill.sum())
    log.info(
        "ground: plane with %d inliers (%.0f %% of the points below the cameras); %d empty "
        "pixels filled in %d views",
        plane.inliers,
        100 * plane.support,
        total,
        len(views),
    )
    return total
