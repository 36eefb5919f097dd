"""A photo's pitch (and roll) from its vertical lines.

A photo taken looking up or down makes vertical things converge (the launch towers of a
rocket shot from below lean inwards). Placed on the panorama as if level, the horizon
sits in the wrong row: the sky runs below it, walls lean, pillars bend. Every image
segment of a vertical 3D line spans, with the eye, a plane whose normal is perpendicular
to the true up vector, so up is the eigenvector of the length-weighted scatter of those
normals with the smallest eigenvalue — the vertical vanishing point, as
`level.estimate_up` finds it for whole panoramas (Coughlan & Yuille 1999; line segments
by OpenCV's LSD, von Gioi et al. 2010). Pitch and roll are the angles between that up
vector and the level camera's.
"""

from __future__ import annotations

import math

import numpy as np

from .level import MIN_SUPPORT, fit_up, line_support, near_vertical, plane_normals, segments

MIN_SEGMENTS = 20  # fewer near-vertical segments give no reliable estimate
#: a photo rolled less than this is taken as level sideways: a levelled photo no longer
#: fills the (unrolled) start view as it was taken, so a hair of roll is not worth it
MIN_ROLL_DEG = 3.0
MAX_ROLL_DEG = 25.0  # ... more is not trusted (a photo held at a slant on purpose, or
# vertical lines that are not vertical)
MAX_PITCH_DEG = 50.0  # a larger estimate is not trusted (lines near the nadir or zenith)
MIN_PITCH_DEG = 1.0  # below this the photo is taken as level
NEAR_VERTICAL_DEG = 30.0  # segments within this of the image's vertical are candidates
WORK_SIZE = 640  # the photo is analysed at most this wide


def estimate_pitch(rgb: np.ndarray, fov_x_deg: float) -> dict:
    """{'pitch_deg', 'raw_pitch_deg', 'roll_deg', 'segments', 'support', 'applied',
    'source'} for a photo ('raw_pitch_deg': the estimate before it was judged).

    rgb (h, w, 3) float 0..1, fov_x_deg its horizontal field of view. pitch_deg > 0: the
    camera looks up. 'applied' is False (and pitch 0) when too few vertical segments are
    found, when they do not agree on one vertical vanishing point (`level.line_support`
    below MIN_SUPPORT), when the estimate is beyond MAX_PITCH_DEG (not trusted) or below
    MIN_PITCH_DEG.
    """
    import cv2

    from .projection import perspective_camera

    rgb = np.asarray(rgb, np.float32)
    h, w = rgb.shape[:2]
    f = min(1.0, WORK_SIZE / max(w, 1))
    if f < 1.0:
        rgb = cv2.resize(
            rgb, (max(2, round(w * f)), max(2, round(h * f))), interpolation=cv2.INTER_AREA
        )
        h, w = rgb.shape[:2]
    gray = (np.clip(rgb @ np.array([0.299, 0.587, 0.114], np.float32), 0, 1) * 255).astype(np.uint8)
    seg = segments(gray)
    out = {"pitch_deg": 0.0, "roll_deg": 0.0, "segments": 0, "applied": False}
    if len(seg):
        seg, length = near_vertical(seg, h / 20, NEAR_VERTICAL_DEG)
    out["segments"] = int(len(seg))
    if len(seg) < MIN_SEGMENTS:
        out["source"] = f"too few vertical lines, {len(seg)}: taken as level"
        return out
    n = plane_normals(seg, np.linalg.inv(perspective_camera(w, h, fov_x_deg).K))
    # camera frame: x right, y down, z forward (OpenCV); level up is -y
    up = fit_up(n, length, np.array([0.0, -1.0, 0.0]), iters=4, keep_pct=60, keep_floor=0.05)
    # looking up, the true up leans towards the camera's forward axis (+z)
    pitch = math.degrees(math.atan2(up[2], -up[1]))
    roll = math.degrees(math.atan2(up[0], -up[1]))
    support = line_support(n, length, up)
    out.update(raw_pitch_deg=round(pitch, 2), roll_deg=round(roll, 2), support=round(support, 3))
    return _judged(out, pitch, len(seg))


def _judged(out: dict, pitch: float, n_seg: int) -> dict:
    """`out` with the pitch estimate `pitch` (deg) applied or not, and its source
    sentence: taken as level when the segments do not agree on one vanishing point
    (support below MIN_SUPPORT), beyond MAX_PITCH_DEG or below MIN_PITCH_DEG."""
    support = out["support"]
    if support < MIN_SUPPORT:
        out.update(
            pitch_deg=0.0,
            applied=False,
            source=(
                f"vertical lines, {n_seg} segments, do not agree on a vanishing point "
                f"(the best explains {support:.0%} of their length): taken as level"
            ),
        )
    elif abs(pitch) > MAX_PITCH_DEG:
        out.update(
            pitch_deg=0.0,
            applied=False,
            source=f"estimate {pitch:.0f}° beyond {MAX_PITCH_DEG:g}°: not trusted",
        )
    elif abs(pitch) < MIN_PITCH_DEG:
        out.update(pitch_deg=0.0, applied=False, source=f"vertical lines, {n_seg} segments: level")
    else:
        out.update(
            pitch_deg=round(pitch, 2), applied=True, source=f"vertical lines, {n_seg} segments"
        )
    return out


def level_roll(
    rgb: np.ndarray, alpha: np.ndarray | None, fov_x_deg: float, info: dict
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """The photo turned about its centre so its vertical lines stand vertical, when
    `info` (`estimate_pitch` of it) found a trustworthy roll of MIN_ROLL_DEG..MAX_ROLL_DEG.

    A roll about the optical axis is a rotation of the image about its centre (the
    principal point), so the photo is rotated (cv2.warpAffine, bilinear) and the corners
    that turn in from outside are transparent (alpha 0: outpainted like the rest of the
    sphere). Its pitch is that of the same vertical vanishing point seen from the levelled
    camera (from `info`'s 'raw_pitch_deg', the estimate before it was judged). Returns (rgb,
    alpha or None, info with 'roll_applied'); unchanged with roll_applied False otherwise
    (a hand-held photo ~10° askew was placed as it was: walls and horizon leaned).
    """
    import cv2

    roll = float(info.get("roll_deg", 0.0))
    trusted = info.get("segments", 0) >= MIN_SEGMENTS and info.get("support", 0.0) >= MIN_SUPPORT
    if not trusted or not MIN_ROLL_DEG <= abs(roll) <= MAX_ROLL_DEG:
        return rgb, alpha, {**info, "roll_applied": False}
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), roll, 1.0)
    out = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    base = np.ones((h, w), np.float32) if alpha is None else alpha.astype(np.float32)
    a = cv2.warpAffine(base, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    # the same vertical vanishing point seen from the camera turned upright about its axis:
    # up ∝ (tan roll, −1, tan pitch) becomes (0, −√(1 + tan² roll), tan pitch). Estimated
    # again from the turned photo, its replicated corners' streaks count as lines: a photo
    # looking 12.6° down at chairs (support 0.23) fell to 0.19 and was placed level
    raw = float(info.get("raw_pitch_deg", info.get("pitch_deg", 0.0)))
    tan_r, tan_p = math.tan(math.radians(roll)), math.tan(math.radians(raw))
    pitch = math.degrees(math.atan2(tan_p, math.hypot(1.0, tan_r)))
    levelled = _judged({**info, "raw_pitch_deg": round(pitch, 2)}, pitch, int(info["segments"]))
    source = f"{levelled['source']}; the photo was rolled {roll:+.1f}°: levelled"
    return out, a, {**levelled, "roll_applied": True, "source": source}


#: a photo is taken to be on its side when, turned a quarter either way, it shows this many
#: times the vertical line segments it shows as it is (and at least SIDEWAYS_MIN of them,
#: agreeing on one vanishing point). Upright real photos show 1.6-3.4x more as they are
#: (office 173 against 56 / 51 turned, Sceaux 83-97 against 36-53; measured on the shared
#: photos), so an upright photo does not come near it
SIDEWAYS_RATIO = 1.8
SIDEWAYS_MIN = 40


def looks_sideways(rgb: np.ndarray, fov_x_deg: float, own_segments: int | None = None) -> bool:
    """Whether the photo rgb (h, w, 3) float 0..1 looks turned a quarter (held sideways
    with no EXIF orientation to say so): its vertical lines run across it. Man-made scenes
    show more, and more convergent, vertical segments than horizontal ones upright
    (`estimate_pitch`'s counts, compared with the photo turned either way). `own_segments`:
    the count `estimate_pitch` found for the photo as it is, when known."""
    own = own_segments if own_segments is not None else estimate_pitch(rgb, fov_x_deg)["segments"]
    h, w = rgb.shape[:2]
    fov_turned = math.degrees(2 * math.atan(math.tan(math.radians(fov_x_deg) / 2) * h / max(w, 1)))
    for k in (1, 3):
        turned = estimate_pitch(np.ascontiguousarray(np.rot90(rgb, k)), fov_turned)
        n = turned["segments"]
        if n >= max(SIDEWAYS_MIN, SIDEWAYS_RATIO * own) and turned.get("support", 0) >= MIN_SUPPORT:
            return True
    return False
