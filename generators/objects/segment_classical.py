"""Classical object segmentation: GrabCut seeded from a box or a click, plus matte clean-up.

The result is a `Segmentation`: the photo, a hard mask and a soft alpha matte. An image
that already carries an alpha channel is used as is (only validated and cleaned).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.images import shrink
from scene.errors import SceneFormatError

MIN_OBJECT_PIXELS = 64  # fewer foreground pixels than this is "no object"
MIN_OBJECT_FRACTION = 0.002  # ... or less than this share of the photo
WORK_SIZE = 512  # GrabCut runs at most at this long side (speed)
MIN_SIDE = 8  # pixels: a smaller photo holds no object to segment


@dataclass
class Segmentation:
    """A segmented photo.

    rgb    (H, W, 3) uint8  the photo
    alpha  (H, W)    float32 soft matte 0..1
    mask   (H, W)    bool    hard mask (alpha >= 0.5), one connected component
    box    (x0, y0, x1, y1) bounding box of the mask, pixels, exclusive end
    """

    rgb: np.ndarray
    alpha: np.ndarray
    mask: np.ndarray
    box: tuple[int, int, int, int]
    meta: dict[str, Any] = field(default_factory=dict)


def load_image(path: str | Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a photo -> (rgb (H, W, 3) uint8 upright by EXIF, alpha (H, W) float32 0..1
    or None), full resolution, through the one image front door (`scene.io.images`):
    its size limits, EXIF handling and SceneFormatError messages naming the file.
    Raises FileNotFoundError for a missing photo."""
    from scene.io.images import image_size, load_image_u8

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    image_size(p, min_side=MIN_SIDE)  # from the header: the limit named the first time
    rgb, alpha = load_image_u8(p, max_side=None)
    if min(rgb.shape[:2]) < MIN_SIDE:
        raise SceneFormatError(
            p,
            f"image is too {'narrow' if max(rgb.shape[:2]) >= MIN_SIDE else 'small'} "
            f"({rgb.shape[1]}x{rgb.shape[0]} pixels; need at least {MIN_SIDE} on each side)",
        )
    if alpha is not None and float(alpha.min()) > 0.99:  # fully opaque: no matte information
        alpha = None
    if alpha is not None and float(alpha.max()) < 0.01:
        # the mask would come from the alpha and be empty ("no object found" said nothing
        # of why, nor which file: a trial)
        raise SceneFormatError(
            p,
            "the image is fully transparent (its alpha channel is empty): no object to make; "
            "save it with the object opaque, or without transparency",
        )
    return rgb, alpha


def split_alpha(img: np.ndarray, bgr: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """(H, W[, 1|3|4]) image -> (rgb uint8, alpha float32 or None). Opaque alpha -> None."""
    img = np.asarray(img)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4) or min(img.shape[:2]) < 8:
        raise ValueError(f"expected an RGB(A) image of at least 8x8 pixels, got shape {img.shape}")
    img = _to_uint8(img, None)
    alpha = None
    if img.shape[2] == 4:
        alpha = img[:, :, 3].astype(np.float32) / 255.0
        if alpha.min() > 0.99:  # fully opaque: no matte information
            alpha = None
    rgb = np.repeat(img[:, :, :1], 3, 2) if img.shape[2] == 1 else img[:, :, :3]
    if bgr and img.shape[2] >= 3:
        rgb = rgb[:, :, ::-1]
    return np.ascontiguousarray(rgb), alpha


def _to_uint8(img: np.ndarray, path: Path | None) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        if not np.isfinite(img).all():
            raise SceneFormatError(path, "image has NaN/inf pixels")
        return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    raise SceneFormatError(path, f"unsupported pixel type {img.dtype}")


MIN_BACKGROUND = 0.01  # share of the photo a GrabCut box must leave outside it


def parse_box(
    text: str | Sequence[float] | None, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """'x0,y0,x1,y1' (pixels) -> a validated box clipped to the image, or None."""
    if text is None:
        return None
    try:
        vals = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        raise ValueError(f"box must be four numbers x0,y0,x1,y1; got {text!r}") from None
    if len(vals) != 4 or not all(np.isfinite(vals)):
        raise ValueError(f"box must be four numbers x0,y0,x1,y1; got {text!r}")
    x0, y0, x1, y1 = (int(round(v)) for v in vals)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(
            f"box {text!r} is inverted: give x0,y0,x1,y1 with x1 > x0 and y1 > y0 "
            "(left, top, right, bottom)"
        )
    x0, x1 = max(0, min(width, x0)), max(0, min(width, x1))  # clipped to the photo
    y0, y1 = max(0, min(height, y0)), max(0, min(height, y1))
    if x1 - x0 < 4 or y1 - y0 < 4:
        raise ValueError(
            f"box {text!r} is smaller than 4x4 pixels inside the {width}x{height} photo"
        )
    return x0, y0, x1, y1


def box_clip_note(
    text: str | Sequence[float], box: tuple[int, int, int, int], width: int, height: int
) -> str | None:
    """A warning when the box `text` given in pixels reached outside the width x height
    photo and `parse_box` clipped it to `box` (a box measured on a resized copy of the
    photo comes out cut without a word otherwise); None when it fit."""
    vals = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    if all(abs(round(v) - b) <= 1 for v, b in zip(vals, box, strict=True)):
        return None
    given = ",".join(f"{v:g}" for v in vals)
    return f"--box {given} reaches outside the {width}x{height} photo: clipped to " + ",".join(
        str(v) for v in box
    )


def default_box(width: int, height: int, margin: float = 0.08) -> tuple[int, int, int, int]:
    """A centred box leaving `margin` of each side as sure background."""
    mx, my = int(round(width * margin)), int(round(height * margin))
    return mx, my, width - mx, height - my


def segment_classical(
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    box: tuple[int, int, int, int] | None = None,
    point: tuple[float, float] | None = None,
    iterations: int = 5,
) -> Segmentation:
    """Segment the main object of `rgb` (H, W, 3) uint8.

    With `alpha` given it is the matte (cleaned, validated), restricted to `box` and to
    the piece of it under `point` when they are given. Otherwise GrabCut runs seeded by
    `box`, by a click `point` (x, y) (a box grown around it), or by a centred box.
    Raises ValueError when no clear object is found, or for a point outside the photo or
    the box, or on the transparent background.
    """
    import cv2

    rgb = np.ascontiguousarray(np.asarray(rgb, np.uint8)[:, :, :3])
    h, w = rgb.shape[:2]
    if point is not None and not (0 <= point[0] < w and 0 <= point[1] < h):
        raise ValueError(f"click point {tuple(point)} lies outside the {w}x{h} photo")
    if box is not None and point is not None:
        x0, y0, x1, y1 = box
        if not (x0 <= point[0] < x1 and y0 <= point[1] < y1):
            raise ValueError(f"click point {tuple(point)} lies outside the box {tuple(box)}")
    if alpha is not None:
        a = np.clip(np.asarray(alpha, np.float32), 0, 1)
        if a.shape != (h, w):
            raise ValueError(f"alpha has shape {a.shape}, photo is {(h, w)}")
        if box is not None:  # the part of the cut-out inside the box (a nozzle, a handle)
            inside = np.zeros((h, w), bool)
            inside[max(0, box[1]) : box[3], max(0, box[0]) : box[2]] = True
            a = np.where(inside, a, 0.0)
        if point is not None:  # the piece of the cut-out under the click
            px, py = int(point[0]), int(point[1])
            if a[py, px] < 0.5:
                raise ValueError(
                    f"click point {tuple(point)} lies on the photo's transparent background "
                    "(its alpha channel is the mask): click on the object"
                )
            _, labels = cv2.connectedComponents((a >= 0.5).astype(np.uint8), connectivity=8)
            a = np.where(labels == labels[py, px], a, np.where(a >= 0.5, 0.0, a))
        # a hole transparent in the matte is background seen through the object
        mask = clean_mask(a >= 0.5, see_through=lambda hole: True)
        validate_mask(mask)
        a = np.where(mask | (a < 0.5), a, 0.0) * _component_halo(mask)
        return _finish(rgb, a.astype(np.float32), mask, "alpha")

    if box is None and point is not None:
        box = _box_around_point(point, w, h)
    seed = box or default_box(w, h)
    outside = h * w - (seed[2] - seed[0]) * (seed[3] - seed[1])
    if outside < MIN_BACKGROUND * h * w:
        raise ValueError(
            f"the box {tuple(seed)} covers the whole {w}x{h} photo: GrabCut learns the "
            "background from outside the box; draw the box around the object, inside the photo"
        )
    # Work at a reduced size: GrabCut's cost grows with pixels, the matte refines at full size.
    scale = min(1.0, WORK_SIZE / max(h, w))
    small = shrink(rgb, scale)
    sh, sw = small.shape[:2]
    sbox = [
        int(seed[0] * scale),
        int(seed[1] * scale),
        max(int(seed[2] * scale), int(seed[0] * scale) + 2),
        max(int(seed[3] * scale), int(seed[1] * scale) + 2),
    ]
    gc_mask = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    gc_mask[sbox[1] : sbox[3], sbox[0] : sbox[2]] = cv2.GC_PR_FGD
    if point is not None:
        px, py = int(point[0] * scale), int(point[1] * scale)
        if not (0 <= px < sw and 0 <= py < sh):
            raise ValueError(f"click point {point} lies outside the {w}x{h} photo")
        r = max(2, int(0.02 * max(sh, sw)))
        cv2.circle(gc_mask, (px, py), r, cv2.GC_FGD, -1)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[:, :, ::-1])
    try:
        cv2.grabCut(bgr, gc_mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as exc:
        raise ValueError(
            f"no clear object in the photo (GrabCut failed: {exc.msg.strip()})"
        ) from None
    fg_small = (gc_mask == cv2.GC_FGD) | (gc_mask == cv2.GC_PR_FGD)
    box_area = (sbox[2] - sbox[0]) * (sbox[3] - sbox[1])
    if fg_small.sum() > 0.97 * box_area:
        raise ValueError(
            "no clear object in the photo: the whole box looks like one region; "
            "draw a tighter box (--box x0,y0,x1,y1) or use a photo with a distinct object"
        )
    outside = gc_mask == cv2.GC_BGD
    outside[sbox[1] : sbox[3], sbox[0] : sbox[2]] = False  # what is outside the box
    mask_small = clean_mask(fg_small, see_through=_like_background(small, outside))
    validate_mask(mask_small)
    # Upsample the hard mask and refine its edge against the full-resolution photo.
    soft = cv2.resize(mask_small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    a = guided_filter(rgb.astype(np.float32) / 255.0, soft, radius=max(2, int(4 / scale)), eps=1e-3)
    a = np.clip(a, 0, 1).astype(np.float32)
    # the holes left open at the work size stay open (the matte is below 0.5 there)
    mask = clean_mask(a >= 0.5, see_through=lambda hole: float(soft[hole].mean()) < 0.5)
    validate_mask(mask)
    a *= _component_halo(mask)
    return _finish(rgb, a, mask, "grabcut")


def _box_around_point(point: tuple[float, float], w: int, h: int) -> tuple[int, int, int, int]:
    """The default centred box, grown if needed so the click lies well inside it."""
    x, y = float(point[0]), float(point[1])
    if not (0 <= x < w and 0 <= y < h):
        raise ValueError(f"click point {point} lies outside the {w}x{h} photo")
    x0, y0, x1, y1 = default_box(w, h)
    m = 0.05 * max(w, h)
    return (
        int(max(1, min(x0, x - m))),
        int(max(1, min(y0, y - m))),
        int(min(w - 1, max(x1, x + m))),
        int(min(h - 1, max(y1, y + m))),
    )


def _component_halo(mask: np.ndarray) -> np.ndarray:
    """1 on and near the kept component, 0 far from it: drops matte specks elsewhere."""
    import cv2

    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    return cv2.dilate(mask.astype(np.uint8), k).astype(np.float32)


def _finish(rgb: np.ndarray, alpha: np.ndarray, mask: np.ndarray, method: str) -> Segmentation:
    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Segmentation(rgb, alpha, mask, box, {"method": method, "pixels": int(mask.sum())})


#: a hole in the object this share of its area or more stays open when it is background
#: (transparent in the photo's alpha, or coloured like the background round the object):
#: the gap between a chair's back slats and its seat was filled with the black backdrop
HOLE_KEEP = 0.01
HOLE_COLOUR_TOL = 30.0  # 0..255: a hole this close (max over RGB) to the background's colour


def clean_mask(
    mask: np.ndarray, see_through: Callable[[np.ndarray], bool] | None = None
) -> np.ndarray:
    """Keep the largest 8-connected component and fill its holes, (H, W) bool.

    `see_through(hole)`: for each hole of at least HOLE_KEEP of the object's area, whether
    it shows the background through the object (it then stays open); None fills all."""
    import cv2

    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy()
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(m)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    comp = labels == best
    # Holes = background regions not connected to the image border.
    inv = (~comp).astype(np.uint8)
    nb, blabels = cv2.connectedComponents(inv, connectivity=4)
    border = np.unique(np.concatenate([blabels[0], blabels[-1], blabels[:, 0], blabels[:, -1]]))
    holes = (inv > 0) & ~np.isin(blabels, border)
    if see_through is not None and holes.any():
        area = np.bincount(blabels[holes], minlength=nb)
        for k in np.flatnonzero(area >= HOLE_KEEP * comp.sum()):
            hole = blabels == k
            if see_through(hole):
                holes &= ~hole
    return comp | holes


def _like_background(rgb: np.ndarray, outside: np.ndarray) -> Callable[[np.ndarray], bool]:
    """`see_through` for `clean_mask`: a hole whose median colour is within HOLE_COLOUR_TOL
    of the median colour of the `outside` pixels (the background GrabCut learnt from)."""
    bg = np.median(rgb[outside].reshape(-1, 3), axis=0) if outside.any() else None

    def test(hole: np.ndarray) -> bool:
        if bg is None:
            return False
        col = np.median(rgb[hole].reshape(-1, 3), axis=0)
        return bool(np.abs(col.astype(np.float32) - bg).max() <= HOLE_COLOUR_TOL)

    return test


def validate_mask(mask: np.ndarray) -> None:
    """Raise ValueError for an empty, tiny (e.g. 1-pixel) or whole-image mask."""
    m = np.asarray(mask, bool)
    n = int(m.sum())
    if n == 0:
        raise ValueError(
            "no object found: nothing in the photo stands out from its background; mark the "
            "object with a box or a click (--box X0,Y0,X1,Y1 or --point X,Y)"
        )
    need = max(MIN_OBJECT_PIXELS, int(MIN_OBJECT_FRACTION * m.size))
    if n < need:
        raise ValueError(
            f"no clear object: the mask has only {n} pixel(s) (need at least {need}); "
            "mark the object with a box or a click (--box X0,Y0,X1,Y1 or --point X,Y)"
        )
    if n > 0.98 * m.size:
        raise ValueError("no clear object: the mask covers the whole photo")


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Edge-aware smoothing of `src` (H, W) by a colour `guide` (H, W, 3), He et al. 2010.

    Uses the grey-level guide (mean of channels) — enough to snap a matte to photo edges.
    """
    import cv2

    g = guide.mean(axis=2).astype(np.float32) if guide.ndim == 3 else guide.astype(np.float32)
    p = src.astype(np.float32)
    k = (2 * radius + 1, 2 * radius + 1)
    box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mg, mp = box(g), box(p)
    cov = box(g * p) - mg * mp
    var = box(g * g) - mg * mg
    a = cov / (var + eps)
    b = mp - a * mg
    return box(a) * g + box(b)


def mask_to_segmentation(rgb: np.ndarray, mask: np.ndarray, method: str) -> Segmentation:
    """Wrap an externally produced hard mask (e.g. SAM's) with cleaning and a feathered edge."""
    import cv2

    m = clean_mask(np.asarray(mask, bool))
    validate_mask(m)
    a = guided_filter(rgb.astype(np.float32) / 255.0, m.astype(np.float32), 2, 1e-3)
    a = np.clip(a, 0, 1) * _component_halo(m)
    a = np.where(cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0, 1.0, a)
    return _finish(np.asarray(rgb, np.uint8), a.astype(np.float32), m, method)
