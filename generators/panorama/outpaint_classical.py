"""Weight-free panorama outpainting: extend the photo's colours and structure around the sphere.

The known part of the panorama (the photo, or stitched photos) is extended
  1. vertically then horizontally by mirror-tiling the known content (continuous at the
     photo edges, so lines and textures carry on across the border),
  2. blurred more and more with angular distance from the photo (a Gaussian stack,
     wrap-around in longitude), with some of the mirrored fine texture near the photo,
     then faded into a very smooth field of the same colours with gentle mottling, so
     no object is seen repeated around the sphere,
  3. blended into a sky (or ceiling) gradient towards the zenith, built from the photo's
     top colours, and into a ground made from the photo's bottom rows towards the nadir,
  4. made seamless at ±180° (the two sides cross-fade on the circle) and at the poles
     (rows converge to their mean colour).
The work runs at a low resolution; only the result's low frequencies are upsampled and
fine noise is added at full resolution, so a 2048×1024 panorama takes ~1 s.
"""

from __future__ import annotations

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress

from .projection import pano_lonlat

WORK_HEIGHT = 256
EDGE_STRIP = 0.3  # fraction of the photo (per side) that is mirror-tiled outward


def outpaint_classical(pano: np.ndarray, weight: np.ndarray, *, seed: int = 0,
                       progress: ProgressFn = no_progress,
                       cancel: CancelToken | None = None) -> np.ndarray:
    """Fill the unknown part of an equirect panorama.

    pano   (H, 2H, 3) float32 0..1, valid where weight > 0
    weight (H, 2H)    float32 0..1, 1 = known (the photo), 0 = to invent
    returns (H, 2H, 3) float32 0..1; known pixels are kept (blended over ~1% at edges)
    """
    import cv2

    cancel = cancel or CancelToken()
    pano = np.asarray(pano, np.float32)
    weight = np.asarray(weight, np.float32)
    H, W = pano.shape[:2]
    if W != 2 * H or pano.ndim != 3 or weight.shape != (H, W):
        raise ValueError(f"expected an equirect panorama (H, 2H, 3) and weight (H, 2H); "
                         f"got {pano.shape} and {weight.shape}")
    if float(weight.max()) <= 0.0:
        raise ValueError("nothing to outpaint from: the panorama has no known pixels")
    progress(0.0, "outpainting: analysing the photo")
    hs = min(WORK_HEIGHT, H)
    ws = 2 * hs
    # low-res known image (normalised by coverage) and mask
    m_s = cv2.resize(weight, (ws, hs), interpolation=cv2.INTER_AREA)
    num = cv2.resize(pano * weight[..., None], (ws, hs), interpolation=cv2.INTER_AREA)
    known = m_s > 0.5
    img = np.where(known[..., None], num / np.maximum(m_s, 1e-6)[..., None], 0).astype(np.float32)
    if known.sum() < 16:
        raise ValueError("the photo covers too little of the panorama to outpaint from "
                         "(is its field of view tiny?)")
    cancel.check()

    filled, dist = _mirror_fill(img, known)                    # (hs, ws, 3), (hs, ws) px
    progress(0.3, "outpainting: extending structure")
    cancel.check()
    far = _distance_blur(filled, dist, hs, seed)
    progress(0.55, "outpainting: sky and ground")
    cancel.check()
    far = _sky_and_ground(far, img, known, dist)
    far = _converge_poles(far)
    # upsample the invented part; add fine grain at full resolution so it is not flat
    big = _resize_wrap(far, H, W)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0.0, 1.0, (H, W, 1)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.8)[..., None] * 0.012
    big = big + grain * (1.0 - weight[..., None])
    progress(0.85, "outpainting: blending")
    cancel.check()
    # keep the photo; feather only a thin band just inside its border
    inner = cv2.erode((weight > 0.99).astype(np.uint8), np.ones((3, 3), np.uint8),
                      iterations=max(1, H // 512))
    alpha = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), max(0.7, H / 1024))
    alpha = np.minimum(np.where(inner > 0, np.maximum(alpha, 0.5), alpha), weight)
    out = pano * alpha[..., None] + big * (1 - alpha[..., None])
    progress(1.0, "outpainting done")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------- building blocks
def _tri(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Triangle wave 0,1,..,n-1,n-1,..,0,0,1.. : mirror-tiling index for offset k >= 0."""
    n = np.maximum(n, 1)
    t = np.mod(k, 2 * n)
    return np.where(t < n, t, 2 * n - 1 - t)


def _mirror_fill(img: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror-tile known content outward: columns vertically, then rows around the circle.

    Returns the filled image and each pixel's distance (pixels, ~angular) to known data.
    """
    import cv2

    hs, ws = known.shape
    out = _fill_holes(img, known)
    rows = np.arange(hs)[:, None]
    # --- vertical: per column, mirror the known run [r0, r1] upward and downward
    has = known.any(0)
    r0 = np.where(has, known.argmax(0), 0)
    r1 = np.where(has, hs - 1 - known[::-1].argmax(0), 0)
    # mirror only a strip at each edge, so central objects are not copied around
    n = np.maximum(((r1 - r0 + 1) * EDGE_STRIP).astype(int), 1)
    src_up = r0 + _tri(r0 - rows - 1, n)                   # rows above r0
    src_dn = r1 - _tri(rows - r1 - 1, n)                   # rows below r1
    src = np.where(rows < r0, src_up, np.where(rows > r1, src_dn, rows))
    src = np.clip(src, 0, hs - 1)
    cols = np.arange(ws)[None, :]
    vert = out[src, np.broadcast_to(cols, src.shape)]
    col_known = np.broadcast_to(has[None, :], (hs, ws))
    out = np.where(col_known[..., None], vert, 0)
    # --- horizontal: known column run [c0, c1] (contiguous around the photo at lon 0);
    # right side mirrors from c1 going right, left side from c0 going left, cross-faded
    cidx = np.nonzero(has)[0]
    if len(cidx) == ws:
        filled = out
    else:
        # find the largest gap on the circle: the known run is its complement
        gaps = np.diff(np.concatenate([cidx, [cidx[0] + ws]]))
        g = int(np.argmax(gaps))
        c1 = int(cidx[g])                     # last known column before the gap
        c0 = int(cidx[(g + 1) % len(cidx)])   # first known column after the gap
        run = (c1 - c0) % ws + 1
        gap = ws - run
        run = max(1, int(run * EDGE_STRIP))
        k = np.arange(1, gap + 1)             # gap offsets from c1 going right
        right_src = (c1 - _tri(k - 1, np.array(run))) % ws
        left_src = (c0 + _tri(gap - k, np.array(run))) % ws
        gap_cols = (c1 + k) % ws
        t = (k / (gap + 1.0)).astype(np.float32)
        wr = 0.5 + 0.5 * np.cos(np.pi * t)    # 1 near c1, 0 near c0
        filled = out.copy()
        filled[:, gap_cols] = (out[:, right_src] * wr[None, :, None]
                               + out[:, left_src] * (1 - wr)[None, :, None])
        # other (small) gaps between known columns: cross-fade their two neighbours
        rest = ~has
        rest[gap_cols] = False
        if rest.any():
            filled = _bridge_columns(filled, ~rest)
    # distance to known data, wrap-aware in longitude
    pad = ws // 2
    unk = (~known).astype(np.uint8)
    unk_p = np.concatenate([unk[:, -pad:], unk, unk[:, :pad]], axis=1)
    d = cv2.distanceTransform(unk_p, cv2.DIST_L2, 5)[:, pad:pad + ws]
    return filled.astype(np.float32), d.astype(np.float32)


def _fill_holes(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Inpaint unknown pixels enclosed by known ones in their column (stitching holes)."""
    import cv2

    hs = known.shape[0]
    has = known.any(0)
    r0 = known.argmax(0)
    r1 = hs - 1 - known[::-1].argmax(0)
    rows = np.arange(hs)[:, None]
    holes = (~known) & has[None, :] & (rows > r0) & (rows < r1)
    if not holes.any():
        return img.copy()
    u8 = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    fixed = cv2.inpaint(u8, holes.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return np.where(holes[..., None], fixed.astype(np.float32) / 255, img).astype(np.float32)


def _bridge_columns(img: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Fill columns where `ok` is False by blending the nearest ok columns on each side."""
    ws = len(ok)
    idx = np.nonzero(ok)[0]
    out = img.copy()
    for c in np.nonzero(~ok)[0]:
        right = idx[np.searchsorted(idx, c) % len(idx)]
        left = idx[np.searchsorted(idx, c) - 1]
        dr, dl = (right - c) % ws, (c - left) % ws
        out[:, c] = (img[:, left] * dr + img[:, right] * dl) / max(dr + dl, 1)
    return out


def _blur_wrap(img: np.ndarray, sigma: float) -> np.ndarray:
    import cv2

    if sigma <= 0.3:
        return img
    ws = img.shape[1]
    pad = min(ws, int(3 * sigma) + 2)
    p = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    b = cv2.GaussianBlur(p, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return b[:, pad:pad + ws]


def _distance_blur(filled: np.ndarray, dist: np.ndarray, hs: int, seed: int = 0) -> np.ndarray:
    """Blur increasingly with distance from the photo, then let structure fade out.

    Near the photo: the mirrored content, progressively blurred (Gaussian stack, per-pixel
    level). Far from it: a very smooth field of the same colours plus soft low-frequency
    mottling, so no object is seen repeated around the sphere.
    """
    sigmas = [0.0] + [hs / 256 * 1.6 * 2 ** i for i in range(6)]
    stack = np.stack([_blur_wrap(filled, s) for s in sigmas])          # (L, hs, ws, 3)
    # level grows with distance: ~1 level per 10 px at 256 rows, capped
    lev = np.clip(dist / (hs / 256 * 10.0), 0, len(sigmas) - 1)
    lo = np.floor(lev).astype(int)
    hi = np.minimum(lo + 1, len(sigmas) - 1)
    f = (lev - lo)[..., None]
    ii, jj = np.indices(dist.shape)
    out = stack[lo, ii, jj] * (1 - f) + stack[hi, ii, jj] * f
    # some of the mirrored texture (high-pass) near the photo so the edge is not mush
    detail = filled - stack[2]
    fade = np.exp(-dist / (hs * 0.08))[..., None]
    out = out + 0.35 * detail * fade * (dist > 0)[..., None]
    # far field: a very wide blur of the same colours, with gentle mottling
    base = _blur_wrap(filled, hs / 6.0)
    rng = np.random.default_rng(seed)
    mottle = _blur_wrap(rng.normal(0, 1, (hs, 2 * hs, 1)).astype(np.float32), hs / 40.0)
    mottle = mottle / (mottle.std() + 1e-6)
    base = base * (1.0 + 0.035 * mottle.reshape(hs, -1, 1))
    w = _smoothstep(hs * 0.08, hs * 0.55, dist)[..., None]
    return (out * (1 - w) + base * w).astype(np.float32)


def _band_color(img: np.ndarray, known: np.ndarray, top: bool, frac: float = 0.15) -> np.ndarray:
    """Mean colour of the top (or bottom) `frac` of each known column, (3,)."""
    hs = known.shape[0]
    has = known.any(0)
    r0 = known.argmax(0)
    r1 = hs - 1 - known[::-1].argmax(0)
    n = np.maximum(((r1 - r0 + 1) * frac).astype(int), 1)
    rows = np.arange(hs)[:, None]
    sel = (rows >= r0) & (rows < r0 + n) if top else (rows <= r1) & (rows > r1 - n)
    sel &= known & has[None, :]
    return img[sel].mean(0) if sel.any() else img[known].mean(0)


def looks_like_sky(rgb: np.ndarray) -> bool:
    """A bright, bluish or grey-white colour (3,) that plausibly is sky, not a ceiling."""
    r, g, b = (float(x) for x in rgb)
    lum = 0.299 * r + 0.587 * g + 0.114 * b
    return (b >= r and b >= 0.9 * g and lum > 0.35) or lum > 0.7


def _sky_and_ground(far: np.ndarray, img: np.ndarray, known: np.ndarray,
                    dist: np.ndarray) -> np.ndarray:
    """Blend towards a sky/ceiling gradient above and a ground colour below the photo."""
    hs, ws = known.shape
    _, lat = pano_lonlat(hs, ws)
    lat = lat[:, None].astype(np.float32)                    # (hs, 1)
    top_c = _band_color(img, known, top=True)
    bot_c = _band_color(img, known, top=False)
    rows_known = np.nonzero(known.any(1))[0]
    lat_top = float(lat[rows_known[0], 0])
    lat_bot = float(lat[rows_known[-1], 0])
    if looks_like_sky(top_c):
        lum = top_c.mean()
        zenith = np.clip(0.55 * top_c + np.array([0.10, 0.22, 0.45]) * (0.5 + 0.5 * lum)
                         - 0.05, 0, 1)
    else:  # indoors / trees: a darker, desaturated "ceiling" of the top colour
        zenith = 0.8 * top_c + 0.2 * top_c.mean()
    t_sky = np.clip((lat - lat_top) / max(np.pi / 2 - lat_top, 1e-3), 0, 1)
    sky = (top_c * (1 - t_sky[..., None]) + zenith * t_sky[..., None]).astype(np.float32)  # (hs, 1, 3)
    w_sky = _smoothstep(lat_top + 0.05, lat_top + 0.6, lat) * (lat > lat_top)
    w_sky = np.maximum(w_sky, _smoothstep(1.1, 1.45, lat))
    ground = bot_c * 0.92 + 0.08 * bot_c.mean()
    nadir = ground * 0.85
    t_g = np.clip((lat_bot - lat) / max(lat_bot + np.pi / 2, 1e-3), 0, 1)
    grd = (ground * (1 - t_g[..., None]) + nadir * t_g[..., None]).astype(np.float32)
    w_g = 0.75 * _smoothstep(lat_bot - 0.1, lat_bot - 0.9, lat) * (lat < lat_bot)
    w_g = np.maximum(w_g, _smoothstep(-1.15, -1.45, lat))
    unknown = (dist > 0)[..., None]
    out = far * (1 - w_sky[..., None]) + sky * w_sky[..., None]
    out = out * (1 - w_g[..., None]) + grd * w_g[..., None]
    return np.where(unknown, out, far).astype(np.float32)


def _converge_poles(img: np.ndarray) -> np.ndarray:
    """Near the poles every longitude is one point: fade rows to their mean colour."""
    hs = img.shape[0]
    _, lat = pano_lonlat(hs, img.shape[1])
    w = _smoothstep(1.2, 1.5, np.abs(lat))[:, None, None].astype(np.float32)
    return img * (1 - w) + img.mean(1, keepdims=True) * w


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _resize_wrap(img: np.ndarray, H: int, W: int) -> np.ndarray:
    import cv2

    hs, ws = img.shape[:2]
    pad = 4
    p = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    sx = W / ws
    big = cv2.resize(p, (round(p.shape[1] * sx), H), interpolation=cv2.INTER_CUBIC)
    o = round(pad * sx)
    return big[:, o:o + W]
