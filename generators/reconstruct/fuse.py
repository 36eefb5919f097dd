"""Depth maps -> multi-view consistent, pixel-sized Gaussian splats.

Every pixel of every depth map is a candidate splat. A candidate survives when

* **geometric consistency** (Schönberger et al. 2016, "Pixelwise View Selection for
  Unstructured Multi-View Stereo", §4.4 fusion; Yao et al. 2018 MVSNet §4.2; Galliani et
  al. 2015 Gipuma/fusibile): its 3D point, projected into a neighbour view j, lands on a
  pixel whose own depth, back-projected and projected back into the reference view, comes
  back within `reproj_px` pixels and within `depth_tol` relative depth, in at least
  `min_consistent` neighbours (fewer when the view has fewer neighbours);
* **visibility** (free-space violations, as in Merrell et al. 2007 "Real-time
  visibility-based fusion of depth maps"): the point does not lie clearly in front of the
  surface another view sees along the same ray in more than `max_violations` views —
  such a point would hide what that view photographed, so it is a floater;
* **edges**: it is not within `edge_px` pixels of a depth discontinuity or of a pixel
  without depth, where window-based stereo smears the foreground depth over the background
  (the white halos along rooflines).

A pixel that lies outside every neighbour's frame cannot be checked and is kept (a view's
own border regions); one hidden behind the neighbours' surfaces, or where they have no
depth, needs at least one agreement unless `keep_unverified`.

Each surface point is one splat, from the view that samples it finest (`select="finest"`,
the default): a surviving pixel is not emitted when an agreeing neighbour's pixel there
also survived and that neighbour sees the point smaller on the surface (`footprint`: depth
/ focal length / sqrt|cos| of the viewing angle, computed for the same point and normal in
both views, so two views never both defer; ties go to the earlier view). Of the rest, a
pixel that an earlier view's splat already explains is not emitted again (COLMAP's fusion
marks such pixels as used and keeps the first view's, whatever its resolution:
`select="first"`). On Sceaux (`bench/recon_fusion_views.py sc`, 11 views at 400 px) the
finest view's splats are 135k instead of 201k at the same PSNR at the input views; a
façade a far photo saw first is no longer drawn with its coarse, slope-stretched discs in
the closer photos. The splat's colour is the median over the views that agree
(`color="median"`, the default: robust to one view's glare and exposure, +0.3–0.7 dB at
the input views on real photos) or its own pixel's (`color="own"`, exact in the view it
came from), its size is its pixel footprint (depth / focal length, times the grid stride
when the budget forces subsampling), and it is a flat disc, thin along the depth map's
normal and stretched along the surface slope so it covers exactly its pixel in the view it
came from. Nothing is averaged across a voxel.

`fill_gaps` then gives the pixels with depth that no fused splat explains (foliage, ground
near a camera, parts only one photo sees) splats at their own view's depth, without the
agreement test but with the free-space test (no violation at all) and a photo-consistency
test; the pipeline runs it unless `--no-fill-gaps`. With the finest-view selection above
the fused splats and the fill together number about what the first-view fusion alone made,
so it no longer costs optimisation steps. Measured (`bench/reconstruct_quality.py
--max-size 800 --reconstruct-args "--refine 250 --refine-seconds 0 --time-budget 0"`, 250
steps each; training / held-out PSNR, full frame):

| | Sceaux splats | Sceaux | Great Wall |
|---|---|---|---|
| first view, no fill | 175k | 24.51 / 15.34 | 31.44 / 28.21 |
| finest view, no fill | 136k | 24.34 / 15.44 | 31.99 / 27.76 |
| finest view + fill | 192k | 25.83 / 15.12 | 32.86 / 29.54 |

Before optimisation (`bench/recon_fusion_views.py sc --sky --fill`), on the pixels splats
from a view's own depth map cover (issue 12's bar: 22.4 dB for those splats), the fused
scene scores 18.7 dB with the fill and 13.1 dB without: the ground and foliage that only
one photo's depth holds were black.

All arrays are float32 unless noted; depth is camera z (OpenCV convention), 0 = unknown;
pixel centres are at integer + 0.5.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud, logit, rgb_to_sh0
from scene.rotations import matrices_to_quats

from .dense import DepthView

log = logging.getLogger(__name__)


def backproject(depth: np.ndarray, cam: Camera) -> np.ndarray:
    """(h, w) z-depth -> (h, w, 3) world points (garbage where depth is 0)."""
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    xc = np.stack([(u - cam.cx) / cam.fx * depth, (v - cam.cy) / cam.fy * depth, depth], -1)
    return (xc - cam.t) @ cam.R  # Rᵀ (x - t), row-wise


def depth_normals(pts: np.ndarray, cam: Camera, valid: np.ndarray | None = None) -> np.ndarray:
    """World unit normals (h, w, 3) from back-projected points (h, w, 3), facing the camera.

    Central differences where both neighbours have depth (`valid`, (h, w) bool), one-sided
    ones where only one has; pixels with neither get the normal facing the camera.
    """
    h, w = pts.shape[:2]
    if valid is None:
        valid = np.ones((h, w), bool)

    def diff(axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Derivative of `pts` along `axis` and where it is defined, (h, w, 3), (h, w)."""
        a = [slice(None), slice(None)]
        b = [slice(None), slice(None)]
        a[axis], b[axis] = slice(0, -1), slice(1, None)
        a, b = tuple(a), tuple(b)
        fwd = np.zeros_like(pts)
        bwd = np.zeros_like(pts)
        okf = np.zeros((h, w), bool)
        okb = np.zeros((h, w), bool)
        fwd[a] = pts[b] - pts[a]
        okf[a] = valid[b] & valid[a]
        bwd[b] = pts[b] - pts[a]
        okb[b] = valid[b] & valid[a]
        d = np.where((okf & okb)[..., None], 0.5 * (fwd + bwd), np.where(okf[..., None], fwd, bwd))
        return d, okf | okb

    dx, okx = diff(1)
    dy, oky = diff(0)
    n = np.cross(dx, dy)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    to_cam = cam.position - pts
    good = okx & oky & (norm[..., 0] > 1e-12)
    n = np.where(
        good[..., None],
        n / np.maximum(norm, 1e-12),
        to_cam / np.maximum(np.linalg.norm(to_cam, axis=-1, keepdims=True), 1e-12),
    )
    flip = (n * to_cam).sum(-1) < 0
    n[flip] *= -1
    return n.astype(np.float32)


def depth_edges(depth: np.ndarray, rel_jump: float = 0.05, radius: int = 1) -> np.ndarray:
    """(h, w) bool: pixels within `radius` px of a depth discontinuity (relative jump above
    `rel_jump` between 4-neighbours) or of a pixel without depth."""
    import cv2

    h, w = depth.shape
    valid = depth > 0
    edge = np.zeros((h, w), bool)
    for a, b in (
        ((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
        ((slice(0, -1), slice(None)), (slice(1, None), slice(None))),
    ):
        da, db = depth[a], depth[b]
        va, vb = valid[a], valid[b]
        lo = np.maximum(np.minimum(da, db), 1e-12)
        jump = (va != vb) | (va & vb & (np.abs(da - db) > rel_jump * lo))
        edge[a] |= jump
        edge[b] |= jump
    if radius > 1:
        k = 2 * (radius - 1) + 1
        edge = cv2.dilate(edge.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    return edge & valid


def landing(
    view: DepthView, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where world points X (P, 3) land in `view`'s depth map: (uv (P, 2) float pixel
    coords, camera z (P,), pixel column x and row y (P,) int64 = floor(uv), inside (P,)
    bool: in front of the camera and within the map)."""
    h, w = view.depth.shape
    uv, z = view.camera.project(X)
    x = np.floor(uv[:, 0]).astype(np.int64)
    y = np.floor(uv[:, 1]).astype(np.int64)
    return uv, z, x, y, (z > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)


def drop_small_regions(mask: np.ndarray, min_region: int) -> np.ndarray:
    """(h, w) bool `mask` without its 8-connected regions of fewer than `min_region`
    pixels (isolated depth noise; `min_region` ≤ 1 keeps everything)."""
    import cv2

    out = mask.astype(np.uint8)
    if min_region > 1 and out.any():
        _, lab, st, _ = cv2.connectedComponentsWithStats(out, connectivity=8)
        small = st[:, cv2.CC_STAT_AREA] < min_region
        small[0] = False
        out[small[lab]] = 0
    return out > 0


def check_views(
    views: dict[str, DepthView], neighbours: dict[str, list[str]], name: str, limit: int = 6
) -> list[str]:
    """Views to test `name` against: its own neighbours, then views that chose it, at most
    `limit` (the relation is made symmetric so every view is checked by its partners)."""
    out = [m for m in neighbours.get(name, []) if m in views and m != name]
    for m, nb in neighbours.items():
        if name in nb and m not in out and m != name and m in views:
            out.append(m)
    return out[:limit]


@dataclass
class ViewCheck:
    """Per-pixel verdicts for one reference view (flat arrays over its candidate pixels)."""

    pixels: np.ndarray  # (P,) int64 flat pixel index in the reference view
    consistent: np.ndarray  # (P,) int32 number of agreeing neighbours
    violations: np.ndarray  # (P,) int32 number of neighbours it would occlude
    verifiable: np.ndarray  # (P,) int32 neighbours that see its spot unoccluded, with depth
    seen: np.ndarray  # (P,) int32 neighbours whose frame contains it
    colors: list[np.ndarray]  # per neighbour (P, 3) float32 0..1, NaN where not agreeing
    hits: list[tuple[str, np.ndarray, np.ndarray]]  # (neighbour, mask (P,), its flat pixel (P,))


def check_pixels(
    ref: DepthView,
    pixels: np.ndarray,
    others: list[DepthView],
    *,
    reproj_px: float = 1.0,
    depth_tol: float = 0.01,
    occlusion_tol: float = 0.05,
) -> ViewCheck:
    """Forward-backward consistency of `pixels` ((P,) flat indices) of `ref` against `others`.

    For neighbour j: X = the pixel's world point; (u_j, z_j) = X projected into j; D_j read
    at the pixel containing u_j; u_j back-projected with D_j and projected into the
    reference gives (u', z'). Agreement: |u' - u| < reproj_px and |z' - d| < depth_tol·d.
    Violation: z_j < (1 - occlusion_tol)·D_j, i.e. X is clearly in front of what j sees.
    """
    h, w = ref.depth.shape
    d = ref.depth.reshape(-1)[pixels].astype(np.float64)
    py, px = np.divmod(pixels, w)
    u = px + 0.5
    v = py + 0.5
    rc = ref.camera
    xc = np.stack([(u - rc.cx) / rc.fx * d, (v - rc.cy) / rc.fy * d, d], 1)
    X = (xc - rc.t) @ rc.R  # (P, 3) world
    n = len(pixels)
    consistent = np.zeros(n, np.int32)
    violations = np.zeros(n, np.int32)
    verifiable = np.zeros(n, np.int32)
    seen = np.zeros(n, np.int32)
    colors, hits = [], []
    for o in others:
        oc = o.camera
        ow = o.depth.shape[1]
        uv, z, x, y, inside = landing(o, X)
        q = np.where(inside, y * ow + x, 0)
        dj = np.where(inside, o.depth.reshape(-1)[q], 0.0).astype(np.float64)
        has = dj > 0
        # back-project the point where X lands in the neighbour with the depth of the pixel
        # it lands in, project into the reference (the exact landing point, not the pixel's
        # centre: a neighbour at half the resolution would otherwise fail every pixel
        # whose centre is more than `reproj_px` from its own)
        xcj = np.stack([(uv[:, 0] - oc.cx) / oc.fx * dj, (uv[:, 1] - oc.cy) / oc.fy * dj, dj], 1)
        Xj = (xcj - oc.t) @ oc.R
        uv2, z2 = rc.project(Xj)
        err = np.hypot(uv2[:, 0] - u, uv2[:, 1] - v)
        ok = has & (err < reproj_px) & (np.abs(z2 - d) < depth_tol * d)
        consistent += ok
        violations += has & (z < (1.0 - occlusion_tol) * dj)
        verifiable += has & (z < (1.0 + 3 * depth_tol) * dj)
        seen += inside
        col = np.full((n, 3), np.nan, np.float32)
        if ok.any():
            col[ok] = _bilinear(o.image, uv[ok, 0] - 0.5, uv[ok, 1] - 0.5)
        colors.append(col)
        hits.append((o.name, ok, q))
    return ViewCheck(pixels, consistent, violations, verifiable, seen, colors, hits)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 image sampled at float pixel coords (centres at integers) -> (P, 3) 0..1."""
    h, w = img.shape[:2]
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(np.int64), w - 2) if w > 1 else np.zeros(len(x), np.int64)
    y0 = np.minimum(np.floor(y).astype(np.int64), h - 2) if h > 1 else np.zeros(len(y), np.int64)
    fx = (x - x0)[:, None]
    fy = (y - y0)[:, None]
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    im = img.astype(np.float32) / 255.0
    top = im[y0, x0] * (1 - fx) + im[y0, x1] * fx
    bot = im[y1, x0] * (1 - fx) + im[y1, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


@dataclass
class Fused:
    """Fused splat parameters (N rows) plus what each view's pixels ended up as.

    points   (N, 3)  world positions
    normals  (N, 3)  unit, facing the source view
    colors   (N, 3)  RGB 0..1
    scales   (N, 3)  std-devs: tangent a, tangent b, normal
    quats    (N, 4)  wxyz, local axes (a, b, n)
    view     (N,)    int32 index of the source view
    covered  name -> (h, w) bool: pixels explained by a fused splat (own or another view's)
    kept     name -> (h, w) bool: pixels that passed the checks in their own view
    """

    points: np.ndarray
    colors: np.ndarray
    normals: np.ndarray
    scales: np.ndarray
    quats: np.ndarray
    view: np.ndarray
    names: list[str]
    covered: dict[str, np.ndarray] = field(default_factory=dict)
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    stride: int = 1

    def __len__(self) -> int:
        return len(self.points)


def fuse_views(
    views: dict[str, DepthView],
    neighbours: dict[str, list[str]],
    *,
    reproj_px: float = 1.0,
    depth_tol: float = 0.01,
    min_consistent: int = 2,
    occlusion_tol: float = 0.05,
    max_violations: int = 1,
    edge_px: int = 2,
    edge_jump: float = 0.05,
    dedupe: bool = True,
    max_points: int = 400_000,
    size_factor: float = 0.5,
    flatness: float = 0.1,
    max_stretch: float = 3.0,
    color: str = "median",
    keep_unverified: bool = False,
    select: str = "finest",
    report: Callable[[float, str], None] | None = None,
    labels: dict[str, str] | None = None,
) -> Fused:
    """Fuse per-view depth maps (see the module docstring for the rules). labels:
    optional name -> the photo's own name, for the progress messages (the views are named
    after the working copies: 'great_wall_000001.png' for a .jpg, a trial).

    views: name -> DepthView (depth (h, w) camera z, image (h, w, 3) uint8, camera at the
    depth map's size); neighbours: name -> names of its stereo partners. Views are visited
    in the given order; `select` "finest" leaves a surface point to the agreeing view that
    samples it finest, "first" to the first view; with `dedupe` a pixel already explained by
    an earlier view's splat is skipped. `min_consistent` is lowered to the number of views a
    view can be checked against (one neighbour: one agreement). Over `max_points`, survivors
    are subsampled per view on a k×k pixel grid (one splat per block, block-mean colour, k×
    the footprint).
    """
    if select not in ("finest", "first"):
        raise ValueError(f"select must be 'finest' or 'first', not {select!r}")
    names = list(views)
    index = {n: i for i, n in enumerate(names)}
    kept_masks: dict[str, np.ndarray] = {}
    # per view, for its kept pixels only (what the second pass needs, not every check's
    # arrays): flat pixels (K,), colours (K, 3), and per neighbour (name, agrees (K,),
    # the neighbour's flat pixel (K,))
    checked: dict[str, tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray, np.ndarray]]]]
    checked = {}
    stats = []
    for i, n in enumerate(names):
        if report:
            report(0.7 * i / max(len(names), 1), f"fusing {(labels or {}).get(n, n)}")
        v = views[n]
        h, w = v.depth.shape
        cand = v.depth > 0
        if edge_px > 0:
            cand &= ~depth_edges(v.depth, edge_jump, edge_px)
        others = [views[m] for m in check_views(views, neighbours, n)]
        need = max(1, min(min_consistent, len(others)))
        pix = np.flatnonzero(cand)
        keep_mask = np.zeros((h, w), bool)
        kept_masks[n] = keep_mask
        if not others or not len(pix):
            stats.append((n, int(cand.sum()), 0))
            continue
        chk = check_pixels(
            v, pix, others, reproj_px=reproj_px, depth_tol=depth_tol, occlusion_tol=occlusion_tol
        )
        # a pixel outside every neighbour's frame cannot be checked: it is kept (the
        # view's own border regions); one hidden behind the neighbours' surfaces or where
        # they have no depth is kept only with `keep_unverified`
        need_p = np.minimum(need, chk.verifiable)
        keep = (chk.consistent >= need_p) & (chk.violations <= max_violations)
        if not keep_unverified:
            keep &= (chk.consistent >= 1) | (chk.seen == 0)
        kp = pix[keep]
        keep_mask.reshape(-1)[kp] = True
        col = v.image.reshape(-1, 3)[kp].astype(np.float32) / 255.0
        if color == "median":
            stack = np.stack([col] + [c[keep] for c in chk.colors], 0)  # (1+J, K, 3)
            col = np.nanmedian(stack, axis=0).astype(np.float32)
        hits = [(m, ok[keep], q[keep].astype(np.int32)) for m, ok, q in chk.hits]
        checked[n] = (kp, col, hits)
        stats.append((n, len(pix), len(kp)))
    per_view: list[tuple[str, np.ndarray, np.ndarray]] = []  # (name, flat pixels, colours)
    used = {n: np.zeros(v.depth.shape, bool) for n, v in views.items()}
    for n in names:
        if n not in checked:
            continue
        v = views[n]
        pix, col, hits = checked[n]
        emit = ~used[n].reshape(-1)[pix]
        if select == "finest" and emit.any():
            # one splat per surface point, from the view that samples it finest: a pixel
            # defers to an agreeing neighbour whose own pixel there survived its checks
            # and that sees the same point (same normal) smaller on the surface, ties to
            # the earlier view (COLMAP's fusion keeps the first view's, whatever its size)
            pts = backproject(v.depth, v.camera)
            X = pts.reshape(-1, 3)[pix]
            nrm = depth_normals(pts, v.camera, v.depth > 0).reshape(-1, 3)[pix]
            own = footprint(X, nrm, v.camera)
            for m, ok, q in hits:
                if m not in checked:
                    continue
                theirs = footprint(X, nrm, views[m].camera)
                finer = (theirs < own) | ((theirs == own) & (index[m] < index[n]))
                emit &= ~(ok & kept_masks[m].reshape(-1)[q] & finer)
        kp = pix[emit]
        used[n].reshape(-1)[kp] = True
        if dedupe:
            for m, ok, q in hits:
                used[m].reshape(-1)[q[emit & ok]] = True
        per_view.append((n, kp, col[emit]))
    total = sum(len(p) for _, p, _ in per_view)
    if total == 0:
        raise ValueError(
            "no depth survived the consistency check: the photos may not overlap "
            "enough, or the scene has too little texture"
        )
    stride = max(1, math.ceil(math.sqrt(total / max(max_points, 1))))
    while True:
        parts = [_grid_subsample(views[n], kp, col, stride) for n, kp, col in per_view]
        if sum(len(p[0]) for p in parts) <= max_points or stride > 64:
            break
        stride += 1
    if report:
        report(0.9, f"{sum(len(p[0]) for p in parts)} splats")
    chunks: list[tuple[np.ndarray, ...]] = []  # per view: points, colours, normals, ...
    for (n, _, _), (kp, col) in zip(per_view, parts):
        v = views[n]
        pts, nrm, sc, qt = _splat_geometry(v, kp, stride, size_factor, flatness, max_stretch)
        chunks.append((pts, col, nrm, sc, qt, np.full(len(kp), index[n], np.int32)))
    for n, c, k in stats:
        log.debug("fusion %s: %d candidates, %d kept", n, c, k)
    P, C, Nrm, S, Q, V = (np.concatenate(a) for a in zip(*chunks, strict=True))
    fused = Fused(P, C, Nrm, S, Q, V, names, {}, kept_masks, stride)
    fused.covered = {n: coverage(fused.points, views[n], depth_tol=4 * depth_tol) for n in names}
    log.info(
        "fusion: %d of %d candidate pixels kept, %d splats (grid stride %d)",
        total,
        sum(c for _, c, _ in stats),
        len(fused),
        stride,
    )
    return fused


def fill_gaps(
    fused: Fused,
    views: dict[str, DepthView],
    neighbours: dict[str, list[str]],
    *,
    occlusion_tol: float = 0.05,
    max_violations: int = 0,
    min_region: int = 16,
    color_tol: float = 0.12,
    blur_px: int = 5,
    all_views: bool = True,
    stride: int = 0,
    max_points: int = 0,
    size_factor: float = 0.5,
    flatness: float = 0.1,
    max_stretch: float = 3.0,
) -> Fused:
    """`fused` plus single-view splats where a view's own depth is all the scene has.

    Pixels of each view that have depth but that no fused splat explains (`fused.covered`
    false: foliage, thin structures, surfaces only one or two photos see, where the strict
    multi-view check of `fuse_views` finds too few agreements) become splats at that
    view's own depth, coloured from its own pixel, as single-view depth splats are
    (accurate at that view, unverified elsewhere; the 3DGS optimisation then fits them to
    every photo, as it fits the SfM points it starts from in Kerbl et al. 2023). Still
    dropped, tested against every other view (`all_views`; else the stereo partners of
    `check_views`): points in front of the surface more than `max_violations` views see
    (free-space violations, Merrell et al. 2007), points whose colour (the photos blurred
    over `blur_px` pixels) differs by more than `color_tol` (mean over RGB, 0..1) from what
    most of the neighbours that see the spot unoccluded photographed there (photo
    consistency, as the NCC test of plane-sweep stereo, Collins 1996, per blurred pixel:
    a leaf put at a wrong depth lands on another view's sky), and connected uncovered
    regions smaller than `min_region` pixels (isolated depth noise; the optimisation
    closes small gaps by itself). Views are visited in order and each view's new splats
    count as covering the later views' pixels they land on. Subsampled on a `stride`
    grid (0 = the fusion's); `max_points` (0 = none) bounds the total with the fused
    splats (the fill is thinned evenly, with a warning). Returns a new Fused (its
    `covered` updated; `kept` as before)."""
    import cv2

    stride = stride or fused.stride
    names = [n for n in fused.names if n in views]
    index = {n: i for i, n in enumerate(fused.names)}
    covered = {n: m.copy() for n, m in fused.covered.items()}
    chunks: list[tuple[np.ndarray, ...]] = []  # per view: points, colours, normals, ...
    added = 0
    blurred = {
        n: cv2.blur(v.image.astype(np.float32) / 255.0, (blur_px, blur_px))
        for n, v in views.items()
    }
    for n in names:
        v = views[n]
        gap = (v.depth > 0) & ~covered.get(n, np.zeros(v.depth.shape, bool))
        pix = np.flatnonzero(drop_small_regions(gap, min_region))
        if not len(pix):
            continue
        # every other view, not only the stereo partners: an unverified point must not
        # hide what any photo saw nor land on other colours there
        others = (
            [views[m] for m in names if m != n]
            if all_views
            else [views[m] for m in check_views(views, neighbours, n)]
        )
        if others:
            chk = check_pixels(v, pix, others, occlusion_tol=occlusion_tol)
            pix = pix[chk.violations <= max_violations]
            pix = pix[_photo_consistent(v, pix, others, blurred, color_tol)]
        col = v.image.reshape(-1, 3)[pix].astype(np.float32) / 255.0
        kp, col = _grid_subsample(v, pix, col, stride)
        if not len(kp):
            continue
        pts, nrm, sc, qt = _splat_geometry(v, kp, stride, size_factor, flatness, max_stretch)
        chunks.append((pts, col, nrm, sc, qt, np.full(len(kp), index[n], np.int32)))
        added += len(kp)
        covered[n].reshape(-1)[pix] = True
        for m in names:
            if m != n:
                covered[m] |= coverage(pts, views[m])
    log.info("gap fill: %d single-view splats where fusion left pixels with depth", added)
    return append_splats(fused, chunks, covered, max_points, "gap fill")[0]


def append_splats(
    fused: Fused,
    chunks: list[tuple[np.ndarray, ...]],
    covered: dict[str, np.ndarray],
    max_points: int,
    what: str,
) -> tuple[Fused, int]:
    """`fused` with new splats appended and `covered` as its coverage; returns it and how
    many were added. chunks: per view (points, colours, normals, scales, quats, view
    index) arrays, as `Fused`'s fields. `max_points` (0 = none) bounds the total: the new
    splats are thinned evenly to fit, with a warning naming `what`."""
    added = sum(len(c[0]) for c in chunks)
    if not added:
        return fused, 0
    parts = tuple(np.concatenate(a) for a in zip(*chunks, strict=True))
    room = max_points - len(fused) if max_points > 0 else added
    if added > room:
        log.warning("%s: splat budget %d keeps %d of %d", what, max_points, max(room, 0), added)
        take = np.linspace(0, added - 1, max(room, 0)).astype(np.int64)
        parts = tuple(a[take] for a in parts)
    P, C, Nrm, S, Q, V = parts
    out = Fused(
        np.concatenate([fused.points, P]),
        np.concatenate([fused.colors, C]),
        np.concatenate([fused.normals, Nrm]),
        np.concatenate([fused.scales, S]),
        np.concatenate([fused.quats, Q]),
        np.concatenate([fused.view, V]),
        fused.names,
        covered,
        fused.kept,
        fused.stride,
    )
    return out, len(P)


def _photo_consistent(
    ref: DepthView,
    pixels: np.ndarray,
    others: list[DepthView],
    blurred: dict[str, np.ndarray],
    color_tol: float,
    occlusion_tol: float = 0.03,
) -> np.ndarray:
    """(P,) bool: the pixels' points (at `ref`'s depth) match the colour that at least half
    of the `others` that see them unoccluded photographed there (True when none does).
    `blurred`: name -> (h, w, 3) float 0..1 blurred image."""
    h, w = ref.depth.shape
    py, px = np.divmod(pixels, w)
    X = backproject(ref.depth, ref.camera).reshape(-1, 3)[pixels]
    own = blurred[ref.name][py, px]
    seen = np.zeros(len(pixels), np.int32)
    agree = np.zeros(len(pixels), np.int32)
    for o in others:
        _, z, x, y, inside = landing(o, X)
        xi, yi = np.where(inside, x, 0), np.where(inside, y, 0)
        dj = o.depth[yi, xi]
        vis = inside & ((dj <= 0) | (z <= (1.0 + occlusion_tol) * dj))
        diff = np.abs(blurred[o.name][yi, xi] - own).mean(1)
        seen += vis
        agree += vis & (diff < color_tol)
    return 2 * agree >= seen


def coverage(points: np.ndarray, view: DepthView, depth_tol: float = 0.04) -> np.ndarray:
    """(h, w) bool pixels of `view` that the (N, 3) fused points explain: a point lands in
    the pixel at the view's depth (within `depth_tol`, relative) or, where the view has no
    depth, at any depth. Where the view has depth, the mask is closed with a 3×3 kernel so
    the gaps between splat centres count."""
    import cv2

    h, w = view.depth.shape
    _, z, x, y, ok = landing(view, points)
    x, y, z = x[ok], y[ok], z[ok]
    d = view.depth[y, x]
    agree = (d > 0) & (np.abs(z - d) < depth_tol * d)
    out = np.zeros((h, w), np.uint8)
    out[y[agree], x[agree]] = 1
    out = cv2.morphologyEx(out, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) & (view.depth > 0)
    out[y[d <= 0], x[d <= 0]] = 1
    return out > 0


def footprint(points: np.ndarray, normals: np.ndarray, cam: Camera) -> np.ndarray:
    """(N,) size on the surface of `cam`'s pixel at world `points` (N, 3) with unit
    `normals` (N, 3), world units: camera depth / focal length / sqrt|cos| of the angle
    between the ray and the normal (the geometric mean of the pixel's extent across and
    along the surface's slope); inf behind the camera."""
    ray = points - cam.position
    dist = np.maximum(np.linalg.norm(ray, axis=1), 1e-12)
    cos = np.clip(np.abs((ray * normals).sum(1)) / dist, 0.05, 1.0)
    z = (points @ cam.R.T + cam.t)[:, 2]
    f = 0.5 * (cam.fx + cam.fy)
    return np.where(z > 0, z / f / np.sqrt(cos), np.inf)


def _grid_subsample(
    v: DepthView, kp: np.ndarray, col: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """One pixel per k×k block of kept pixels `kp` (flat, (K,)): the first in the block, with
    the block's mean colour. Returns (flat pixels (B,), colours (B, 3))."""
    if k <= 1 or len(kp) == 0:
        return kp, col
    h, w = v.depth.shape
    y, x = np.divmod(kp, w)
    bw = (w + k - 1) // k
    block = (y // k) * bw + (x // k)
    uniq, first, inv = np.unique(block, return_index=True, return_inverse=True)
    cnt = np.bincount(inv, minlength=len(uniq)).astype(np.float32)
    mean = np.stack([np.bincount(inv, col[:, c], minlength=len(uniq)) for c in range(3)], 1)
    return kp[first], (mean / cnt[:, None]).astype(np.float32)


def _splat_geometry(
    v: DepthView,
    kp: np.ndarray,
    stride: int,
    size_factor: float,
    flatness: float,
    max_stretch: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions, normals, std-devs and quaternions of the splats at flat pixels `kp` of `v`.

    Tangent std-dev = size_factor × stride × depth / f (the pixel's footprint on a
    fronto-parallel surface); along the surface slope it grows by 1 / |cos(view, normal)|
    (capped at `max_stretch`), so the disc projects back to about one pixel block.
    """
    cam = v.camera
    valid = v.depth > 0
    pts_img = backproject(v.depth, cam)
    nrm_img = depth_normals(pts_img, cam, valid)
    pts = pts_img.reshape(-1, 3)[kp].astype(np.float64)
    nrm = nrm_img.reshape(-1, 3)[kp].astype(np.float64)
    d = v.depth.reshape(-1)[kp].astype(np.float64)
    f = 0.5 * (cam.fx + cam.fy)
    foot = size_factor * stride * d / f
    ray = pts - cam.position
    ray /= np.maximum(np.linalg.norm(ray, axis=1, keepdims=True), 1e-12)
    cos = np.abs((ray * nrm).sum(1))
    stretch = np.minimum(1.0 / np.maximum(cos, 1e-6), max_stretch)
    tb = ray - (ray * nrm).sum(1, keepdims=True) * nrm  # slope direction
    tbn = np.linalg.norm(tb, axis=1, keepdims=True)
    helper = np.where(np.abs(nrm[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    alt = np.cross(helper, nrm)
    tb = np.where(
        tbn > 1e-6,
        tb / np.maximum(tbn, 1e-12),
        alt / np.maximum(np.linalg.norm(alt, axis=1, keepdims=True), 1e-12),
    )
    ta = np.cross(nrm, tb)
    rot = np.stack([ta, tb, nrm], axis=2)  # columns: local x, y, z
    scales = np.stack([foot, foot * stretch, foot * flatness], 1)
    return (
        pts.astype(np.float32),
        nrm.astype(np.float32),
        scales.astype(np.float32),
        matrices_to_quats(rot).astype(np.float32),
    )


def fused_to_gaussians(fused: Fused, opacity: float = 0.98) -> GaussianCloud:
    """Fused splats -> GaussianCloud (SH degree 0, opaque discs)."""
    n = len(fused)
    return GaussianCloud(
        means=fused.points,
        scales=np.log(np.maximum(fused.scales, 1e-12)),
        quats=fused.quats,
        opacities=np.full(n, logit(np.float32(opacity))),
        sh0=rgb_to_sh0(fused.colors),
        shN=np.zeros((n, 0, 3), np.float32),
    )


def normal_quats(normals: np.ndarray) -> np.ndarray:
    """Quaternions (wxyz, (N, 4)) whose local z axis is the given unit normal."""
    n = normals.astype(np.float64)
    helper = np.where(np.abs(n[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    a = np.cross(helper, n)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = np.cross(n, a)
    rot = np.stack([a, b, n], axis=2)  # columns: local x, y, z in world
    return matrices_to_quats(rot)


def points_to_gaussians(
    points: np.ndarray,
    colors: np.ndarray,
    normals: np.ndarray,
    opacity: float = 0.9,
    flatness: float = 0.15,
    k: int = 3,
    size_factor: float = 0.5,
) -> GaussianCloud:
    """Gaussians for an unstructured point set (no source pixels): scale = mean distance to
    the `k` nearest neighbours (clipped to a robust range) × `size_factor`, flat disks along
    the (N, 3) normals, SH degree 0. Fused depth maps use `fused_to_gaussians` instead."""
    from scipy.spatial import cKDTree

    n = len(points)
    if n < 2:
        raise ValueError("too few points to build Gaussians")
    kk = min(k + 1, n)
    d, _ = cKDTree(points).query(points, k=kk)
    dist = d[:, 1:].mean(1)
    med = float(np.median(dist))
    dist = np.clip(dist, 0.3 * med, 3.0 * med) * size_factor
    scales = np.stack([dist, dist, dist * flatness], 1)
    return GaussianCloud(
        means=points,
        scales=np.log(scales),
        quats=normal_quats(normals),
        opacities=np.full(n, logit(np.float32(opacity))),
        sh0=rgb_to_sh0(colors),
        shN=np.zeros((n, 0, 3), np.float32),
    )
