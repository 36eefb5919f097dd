"""A photo's black frame: the dark bands some photos carry along their edges.

Frames undistorted to a pinhole camera (ScanNet's, a phone's lens correction), letterboxed
video frames and scans carry a band of black, or near-black blended into the picture,
along some edges. Placed on the sphere as the photo, the band stood as a black outline
round it in the world (a dark slab edge seen from the side), its perfectly straight sides
counted as vertical lines for the pitch, and the outpainting continued the black. The
band is found here so its pixels count as unknown (alpha 0) and get invented like the rest
of the sphere; the photo keeps its size and field of view.
"""

from __future__ import annotations

import numpy as np

#: a line (row or column) of the band is this dark at its 90th percentile (0..1 luminance)
DARK = 0.08
#: the band is at most this share of the photo's width or height
MAX_SHARE = 0.12
#: past the black lines, a line still darker than this share of the picture's (the line
#: RAMP_PROBE lines further in) is the blend of the band into the picture (at 0.5 a ScanNet
#: frame's last blended column, at 65 % of the picture, stood as a dashed dark line)...
RAMP = 0.85
RAMP_LINES = 4  # ... for at most this many lines
RAMP_PROBE = 8
#: the picture inside must be at least this bright (median luminance), and this many times
#: the band's: a night photo's dark edges are no frame
MIN_INSIDE = 0.1
MIN_CONTRAST = 3.0


def _side(lum: np.ndarray) -> int:
    """Lines of the band along the first axis of `lum` (n, m), starting at line 0."""
    n = lum.shape[0]
    limit = int(MAX_SHARE * n)
    k = 0
    while k < limit and float(np.percentile(lum[k], 90)) < DARK:
        k += 1
    if k == 0 or k + RAMP_LINES + RAMP_PROBE >= n:
        return 0
    inside = float(np.median(lum[k + RAMP_LINES + RAMP_PROBE]))
    band = float(np.median(lum[:k]))
    if inside < MIN_INSIDE or inside < MIN_CONTRAST * max(band, 1e-3):
        return 0
    for _ in range(RAMP_LINES):
        if float(np.median(lum[k])) >= RAMP * float(np.median(lum[k + RAMP_PROBE])):
            break
        k += 1
    return k


def dark_margins(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): how many rows / columns of a black band (with its blend
    into the picture) lie along each edge of `rgb` (h, w, 3) float 0..1, 0 where there is
    none. A line belongs to the band when 90 % of it is darker than DARK (uniform black,
    not a dark picture), the band is under MAX_SHARE of the photo, and the picture inside
    is bright (MIN_INSIDE) and MIN_CONTRAST times the band."""
    lum = np.asarray(rgb, np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return (_side(lum), _side(lum[::-1]), _side(lum.T), _side(lum.T[::-1]))


def frame_alpha(rgb: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray | None, tuple]:
    """`alpha` (h, w) float 0..1 (None: all opaque) with the black band of `rgb` (h, w, 3)
    set to 0, and the band's margins (`dark_margins`); `alpha` itself (possibly None) when
    there is no band."""
    top, bottom, left, right = margins = dark_margins(rgb)
    if not any(margins):
        return alpha, margins
    h, w = rgb.shape[:2]
    out = np.ones((h, w), np.float32) if alpha is None else np.array(alpha, np.float32)
    out[:top] = 0.0
    out[h - bottom :] = 0.0
    out[:, :left] = 0.0
    out[:, w - right :] = 0.0
    return out, margins


def without_frame(rgb: np.ndarray, margins: tuple[int, int, int, int]) -> np.ndarray:
    """`rgb` (h, w, 3) with its band (`dark_margins`) replaced by the picture's outermost
    lines carried out to the edge (for line detection: the band's straight inner edges are
    no lines of the scene); `rgb` itself when there is no band."""
    top, bottom, left, right = margins
    if not any(margins):
        return rgb
    import cv2

    h, w = rgb.shape[:2]
    inner = np.ascontiguousarray(rgb[top : h - bottom, left : w - right])
    return cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_REPLICATE)
