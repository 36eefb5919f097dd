"""Per-photo exposure: what the optimiser learnt for the training photos, and an honest
prediction for photos it never saw (held-out ones), from their EXIF exposure alone.

Cameras on automatic exposure photograph one scene 1-2 stops apart (Sceaux: 1/1000 s to
1/400 s at f/2.8). A single scene cannot match all of them; 3DGS variants learn a
per-image colour affine during optimisation (appearance/exposure compensation: Mip-NeRF
360's per-image latent, URF and the gsplat/Nerfstudio "camera appearance" option, Kerbl
et al.'s follow-ups) so the scene holds the common radiance and each photo's exposure is
a photo parameter. `optimize.OptimizeOptions.exposure` learns render × gain + bias per
channel and view.

For a photo that took no part in the optimisation the affine is predicted from metadata
only, never from its pixels: log gain per channel is a least-squares line in the photo's
EXIF exposure log2(t · ISO / N²) fitted over the training photos (their learnt gains), the
bias the training photos' mean; without EXIF (or with fewer than 3 training photos that
have it, or no spread) the training photos' mean affine. `evaluate` applies the learnt
affine to training views and the prediction to held-out ones and says which it used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: EXIF tags (Exif IFD): ExposureTime, FNumber, ISOSpeedRatings
_EXPOSURE_TIME, _F_NUMBER, _ISO = 33434, 33437, 34855


def exif_exposure(path: Path) -> float | None:
    """log2(exposure time s × ISO / f-number²) of a photo from its EXIF, or None when any
    of the three is missing or unreadable. Larger = more light recorded per unit scene
    radiance (a brighter photo)."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            ex = im.getexif().get_ifd(0x8769)
        t, f, iso = ex.get(_EXPOSURE_TIME), ex.get(_F_NUMBER), ex.get(_ISO)
        if isinstance(iso, (tuple, list)):
            iso = iso[0] if iso else None
        t, f, iso = float(t), float(f), float(iso)
    except (OSError, ValueError, TypeError, ZeroDivisionError, AttributeError, ImportError) as exc:
        log.debug("%s: no EXIF exposure (%s)", path, exc)
        return None
    if not (t > 0 and f > 0 and iso > 0) or not all(map(math.isfinite, (t, f, iso))):
        return None
    return math.log2(t * iso / (f * f))


def predict_affine(
    learnt: Mapping[str, list[float]], ev: Mapping[str, float | None], name: str
) -> tuple[list[float], str]:
    """([gain r, g, b, bias r, g, b], how) for photo `name` that was not optimised, from the
    training photos' `learnt` affines and every photo's EXIF exposure `ev` (see the module
    docstring). `how` is "exif" or "mean"; ([1, 1, 1, 0, 0, 0], "none") without any
    learnt affine."""
    names = [n for n in learnt if len(learnt[n]) == 6]
    if not names:
        return [1.0, 1.0, 1.0, 0.0, 0.0, 0.0], "none"
    a = np.array([learnt[n] for n in names], np.float64)
    lg = np.log(np.maximum(a[:, :3], 1e-6))
    bias = a[:, 3:].mean(0)
    x = np.array([ev.get(n) if ev.get(n) is not None else np.nan for n in names], np.float64)
    e = ev.get(name)
    ok = np.isfinite(x)
    if e is not None and ok.sum() >= 3 and np.ptp(x[ok]) > 1e-6:
        xm = x[ok].mean()
        dx = x[ok] - xm
        slope = (dx[:, None] * (lg[ok] - lg[ok].mean(0))).sum(0) / (dx * dx).sum()
        g = np.exp(lg[ok].mean(0) + slope * (float(e) - xm))
        return [*map(float, g), *map(float, bias)], "exif"
    return [*map(float, np.exp(lg.mean(0))), *map(float, bias)], "mean"


def view_affines(report: Mapping[str, Any], names: list[str]) -> dict[str, tuple[list[float], str]]:
    """Per camera name: (affine, source) from a `reconstruct` report: "learnt" for photos
    the optimisation used, "exif"/"mean" (`predict_affine`) for the others; {} when the
    report has no learnt exposure."""
    ref = report.get("refinement") or {}
    learnt = ref.get("exposure") or {}
    if not isinstance(learnt, dict) or not learnt:
        return {}
    ev = ref.get("exif_exposure") or {}
    out = {}
    for n in names:
        if n in learnt and len(learnt[n]) == 6:
            out[n] = ([float(v) for v in learnt[n]], "learnt")
        else:
            out[n] = predict_affine(learnt, ev, n)
    return out


def name_exposure(refinement: dict[str, Any] | None, photos: list) -> None:  # list[Photo]
    """In a refinement report (`OptimizeReport.as_dict()`, changed in place): key the
    learnt exposure by the photos' own names instead of their working copies' and add
    "exif_exposure" (photo name -> `exif_exposure`, None without EXIF) for every photo,
    held-out ones included (their pixels are not read)."""
    if not isinstance(refinement, dict):
        return
    by_work = {p.work_name: p.name for p in photos}
    learnt = refinement.get("exposure") or {}
    refinement["exposure"] = {by_work.get(n, n): v for n, v in learnt.items()}
    refinement["exif_exposure"] = {
        p.name: (exif_exposure(p.source) if p.source is not None else None) for p in photos
    }


def apply_affine(rgb: np.ndarray, affine: list[float]) -> np.ndarray:
    """(H, W, 3) uint8 render × gain + bias (bias in 0..1 units), rounded and clipped."""
    g = np.asarray(affine[:3], np.float32)
    b = np.asarray(affine[3:], np.float32) * 255.0
    return np.clip(rgb.astype(np.float32) * g + b + 0.5, 0, 255).astype(np.uint8)
