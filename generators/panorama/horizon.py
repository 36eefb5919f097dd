"""A photo's horizon from its skyline: a check on its pitch and, without EXIF, its focal length.

Seen from the ground, the lowest edge of the sky (the far skyline: a treeline, hills, a
city) stands at or above the horizon: whatever hides the sky below eye level would have to
stand above it. So a photo whose skyline, placed at its estimated pitch and field of view,
runs below the horizon was placed wrongly. The rocket demo photo (no EXIF: 65° assumed,
pitch +7.4° from its towers' convergence) put its distant treeline 8° below the invented
ground's horizon, framed like a postcard pasted below the world's skyline.

Two measurements fix two unknowns (single-view metrology, Hartley & Zisserman 2003, §8.6:
the horizon line is the vanishing line of the ground, the polar of the vertical vanishing
point): for a camera without roll and its principal point at the image centre, pitched up
by θ with focal length f (pixels), the horizon is the row f·tanθ below the centre and the
vertical vanishing point the row f/tanθ above it, so f² = d_h · d_v. When the photo's field
of view is only the default guess and its vertical lines gave a pitch up, the vanishing
point is kept and the skyline taken as the horizon gives both f and θ; with no trusted
vertical lines only the pitch moves, so the skyline lies on the horizon. A field of view
from EXIF or --fov with a trusted pitch is left alone: nothing there is a guess, and the
skyline is seen from above (a hill, a tower).

Only a skyline below the horizon is evidence: one above it is what most photos show (hills,
roofs, trees), and says nothing about where the horizon is.
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

WORK_ROWS = 240  # the photo is classified this tall (classes.classify_view's scale)
MIN_SKY_COLUMNS = 0.3  # the skyline counts when at least this share of columns shows sky
CLEAR_SKY = 0.97  # median share of a sky column above its lowest sky pixel that is sky
CLEAR_COLUMN = 0.9  # ... and the share in each column counted
SKYLINE_QUANTILE = 75  # percentile of the skyline's rows (its lower quarter: far things)
#: a skyline this far below the horizon is no error of the estimate (an elevated viewpoint
#: sees a flat horizon ~1° down from 1 km up)
TOLERANCE_DEG = 1.0
MAX_CORRECTION_DEG = 15.0  # a larger move is not trusted (water or snow taken for sky)
MIN_FOV_DEG = 15.0  # the narrowest field of view the joint estimate may give


def skyline_row(rgb: np.ndarray, fov_x_deg: float, pitch_deg: float) -> float | None:
    """The lower quarter of the photo's skyline: a row (pixels from the top, in `rgb`'s
    pixels, float) that a quarter of the columns whose top shows sky have their lowest sky
    pixel below; None when fewer than MIN_SKY_COLUMNS of the columns show sky above a
    skyline in the photo.

    rgb (h, w, 3) float 0..1, a level (unrolled) photo; fov_x_deg its horizontal field of
    view and pitch_deg its pitch (+ up), which place the horizon the sky classification
    (`classes.classify_view`) searches above.
    """
    import cv2

    from .classes import SKY, classify_view

    rgb = np.asarray(rgb, np.float32)
    h, w = rgb.shape[:2]
    s = min(1.0, WORK_ROWS / max(h, 1))
    small = rgb
    if s < 1.0:
        size = (max(2, round(w * s)), max(2, round(h * s)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    f = 0.5 * sw / math.tan(math.radians(fov_x_deg) / 2)
    horizon = sh / 2 + f * math.tan(math.radians(pitch_deg)) - 0.5
    sky = classify_view(small, horizon) == SKY
    cols = sky[: max(2, int(0.05 * sh))].any(0)  # the sky runs down from the top
    # the row below each column's lowest sky pixel (not the end of its first sky run: a
    # leaning mast crosses the columns beside it above the skyline) ...
    ends = sh - np.argmax(sky[::-1], axis=0)
    # ... where the sky is clear above it: hazy hills taken for sky in patches (drone
    # frames of the Great Wall, with little or no sky: 79-95 % of a column down to its
    # lowest "sky" is sky, against 100 % under a real sky) give no skyline
    clear = sky.sum(0) / np.maximum(ends, 1)
    if not cols.any() or np.median(clear[cols]) < CLEAR_SKY:
        return None
    cols &= clear >= CLEAR_COLUMN
    # a sky run to the photo's bottom, or to the lowest row the classification searches
    # (0.35 of the height below the horizon it was given), shows no skyline
    limit = min(sh, math.ceil(horizon + 0.35 * sh))
    cols &= ends < limit - 1
    if cols.mean() < MIN_SKY_COLUMNS:
        return None
    return float(np.percentile(ends[cols], SKYLINE_QUANTILE)) / (sh / h)


def horizon_check(
    rgb: np.ndarray,
    fov_x_deg: float,
    fov_source: str,
    pitch_info: dict,
) -> tuple[float, dict]:
    """(field of view, pitch info) of a photo, corrected when its skyline runs below the
    horizon at the estimated pitch (`pitch.estimate_pitch` → `pitch_info`) and field of view.

    rgb (h, w, 3) float 0..1 (levelled: after `pitch.level_roll`). The returned pitch info
    is `pitch_info` with 'pitch_deg' and 'applied' updated, 'horizon' (a record: the
    skyline's elevation before, the correction, whether the focal length moved) and its
    'source' extended; the field of view changes only when `fov_source` is 'default' and the
    vertical lines gave a trusted pitch up. Only a guess moves: unchanged when the field of
    view is known (EXIF, --fov) and the vertical lines gave a trusted pitch (the skyline is
    then seen from above), when the skyline is not below the horizon by more than
    TOLERANCE_DEG, when the photo shows too little sky, or when the correction would exceed
    MAX_CORRECTION_DEG.
    """
    h, w = rgb.shape[:2]
    pitch = float(pitch_info.get("pitch_deg", 0.0))
    row = skyline_row(rgb, fov_x_deg, pitch)
    if row is None:
        return fov_x_deg, pitch_info
    f = 0.5 * w / math.tan(math.radians(fov_x_deg) / 2)
    below = row + 0.5 - h / 2  # pixels below the centre (the principal point)
    elev = pitch - math.degrees(math.atan2(below, f))  # the skyline's elevation (centre column)
    record = {"skyline_deg": round(elev, 2)}
    if elev >= -TOLERANCE_DEG:
        return fov_x_deg, {**pitch_info, "horizon": {**record, "applied": False}}
    trusted = bool(pitch_info.get("applied"))
    if trusted and fov_source != "default":
        # a field of view from EXIF or --fov and trusted vertical lines: nothing here is a
        # guess, so a skyline below their horizon is seen from above (a hill, a tower)
        log.info("skyline %.1f deg below the horizon of a known pitch: left as it is", -elev)
        return fov_x_deg, {**pitch_info, "horizon": {**record, "applied": False}}
    new_fov = fov_x_deg
    joint = fov_source == "default" and trusted and pitch > 0 and below > 0
    if joint:
        # the vertical vanishing point d_v = f / tanθ above the centre stays; the horizon
        # moves to the skyline: f'² = d_h · d_v
        d_v = f / math.tan(math.radians(pitch))
        f_new = math.sqrt(below * d_v)
        new_fov = max(MIN_FOV_DEG, math.degrees(2 * math.atan(0.5 * w / f_new)))
        f = 0.5 * w / math.tan(math.radians(new_fov) / 2)
    new_pitch = math.degrees(math.atan2(below, f))
    if abs(new_pitch - pitch) > MAX_CORRECTION_DEG:
        log.info(
            "skyline %.1f deg below the horizon: a %.1f deg correction is not trusted",
            -elev,
            new_pitch - pitch,
        )
        return fov_x_deg, {**pitch_info, "horizon": {**record, "applied": False}}
    how = (
        f"so the field of view ({new_fov:.0f}° across, not the {fov_x_deg:.0f}° guessed) and "
        "the pitch were taken from the skyline and the vertical lines together"
        if new_fov != fov_x_deg
        else "so the photo was pitched to put the skyline on the horizon"
    )
    out = {
        **pitch_info,
        "pitch_deg": round(new_pitch, 2),
        "applied": True,
        "horizon": {
            **record,
            "applied": True,
            "pitch_from_deg": round(pitch, 2),
            **({"fov_from_deg": round(fov_x_deg, 2)} if new_fov != fov_x_deg else {}),
        },
        "source": f"{pitch_info.get('source', '')}; the photo's skyline lay {-elev:.1f}° below "
        f"the horizon, {how}",
    }
    return new_fov, out
