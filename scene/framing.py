"""Where to stand in a scene file that does not say: inside an environment, outside an object.

A world made by `world` (or a scanned room) is seen from inside; its start view travels in
the file's sidecar or the project's bookmark. Copied alone (a bare `.spz`), it was framed
like an object from outside: a trial's office world rendered as a ring of wall panels on
black. `enclosing_view` tells the two apart from the splats alone: an environment's
upright content (walls, furniture, trees: everything clear of the floor) surrounds its
centre in every horizontal direction and leaves the middle empty, and it is wider than tall,
where an object's fills it or stands as tall as wide, and a walk past a façade covers one
side only.
"""

from __future__ import annotations

import math

import numpy as np

from .units import EYE_HEIGHT

AZIMUTH_BINS = 24  # 15° sectors around the centre
MIN_SECTOR_SHARE = 0.002  # each sector holds at least this share of the upright content
HOLLOW_RADIUS = 0.25  # "the middle": within this × the smaller of the median horizontal
#                        distance of the upright content and the extent's half diagonal ...
MAX_MIDDLE_SHARE = 0.1  # ... holds at most this share of the upright content
MIN_RING_RADIUS = 0.35  # median horizontal distance of it, at least this × the half
#                          diagonal of the scene's 5-95 % horizontal extent
MIN_WIDTH_TO_HEIGHT = 0.8  # that distance, at least this × the scene's height (a room is
#                             wider than tall, an object is not)
ABOVE_FLOOR = 0.3  # m (scene units): content this far above the floor counts as upright
MIN_POINTS = 200
#: the middle is found again this many times from the sectors' content, each direction
#: counted once: the 5-95 % extent's middle sat 1.2 m towards a world's larger invented
#: room, and its photo's desk 1-2 m from the capture point filled "the middle" (a trial)
RECENTRE_STEPS = 2


def _basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit up and two unit horizontal axes (e1 towards -Z where possible, e2 = up × e1)."""
    u = np.asarray(up, np.float64)
    u = u / max(float(np.linalg.norm(u)), 1e-12)
    ref = np.array([0.0, 0.0, -1.0]) if abs(u[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = ref - (ref @ u) * u
    e1 /= np.linalg.norm(e1)
    return u, e1, np.cross(u, e1)


def _floor(h: np.ndarray, bins: int = 200) -> float:
    """The floor's height: the densest height level in the lower half of the scene (a
    floor or ground holds more splats than any other level; a low quantile sat on the
    noise a reconstruction leaves under its ground, 0.4-3 m down, and the ground then
    counted as upright content all around)."""
    lo, mid = np.quantile(h, [0.01, 0.5])
    if mid <= lo:
        return float(lo)
    hist, edges = np.histogram(h[(h >= lo) & (h <= mid)], bins=bins, range=(lo, mid))
    k = int(np.argmax(hist))
    return float(0.5 * (edges[k] + edges[k + 1]))


def enclosing_view(points: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(eye, look) at eye height in the middle of an environment, looking along -Z made
    horizontal; None when `points` do not enclose a space (see the module docstring).

    points: (N, 3) world positions of the scene proper (leave out a far-field sky sphere);
    up: (3,) the scene's up axis (any length). The floor is the densest height level; the
    eye stands EYE_HEIGHT above it (at most half the scene's height), in the middle of the
    ring its upright content makes (from the 5-95 % horizontal extent's middle, moved
    RECENTRE_STEPS times to the mean of each direction's content)."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) < MIN_POINTS:
        return None
    u, e1, e2 = _basis(up)
    h = pts @ u
    floor, top = _floor(h), float(np.quantile(h, 0.98))
    x, y = pts @ e1, pts @ e2
    lo = np.quantile(np.stack([x, y], 1), 0.05, axis=0)
    hi = np.quantile(np.stack([x, y], 1), 0.95, axis=0)
    cx, cy = (lo + hi) / 2
    upright = h > floor + ABOVE_FLOOR
    if upright.sum() < MIN_POINTS:
        return None
    ux, uy = x[upright], y[upright]
    for step in range(RECENTRE_STEPS + 1):
        dx, dy = ux - cx, uy - cy
        r = np.hypot(dx, dy)
        sector = np.clip(
            ((np.arctan2(dy, dx) + math.pi) / (2 * math.pi) * AZIMUTH_BINS).astype(np.int64),
            0,
            AZIMUTH_BINS - 1,
        )
        # every direction holds content round the extent's middle (checked from a moved
        # middle, a hillside seen from a drone came to be surrounded)
        counts = np.bincount(sector, minlength=AZIMUTH_BINS)
        if step == 0 and counts.min() < MIN_SECTOR_SHARE * len(r):
            return None
        order = np.argsort(sector, kind="stable")
        bounds = np.searchsorted(sector[order], np.arange(AZIMUTH_BINS + 1))
        runs = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        if step < RECENTRE_STEPS:  # the middle of the ring: each direction's content once
            cx = float(np.mean([np.median(ux[k]) for k in runs]))
            cy = float(np.mean([np.median(uy[k]) for k in runs]))
    # a ring, not a blob: far from the middle against the scene's own extent, and the
    # middle (by either measure) nearly empty
    half = 0.5 * float(np.linalg.norm(hi - lo))
    # each direction counts once: the median of the sectors' median distances (over the
    # splats, a world's detailed photo side 2.3 m off outweighed its invented walls 4-6 m
    # round the rest: a bare .spz of the office world was framed from outside, a trial)
    med = float(np.median([np.median(r[k]) for k in runs]))
    if med < MIN_RING_RADIUS * half:
        return None
    if med < MIN_WIDTH_TO_HEIGHT * float(top - floor):
        return None  # about as wide as tall or taller: an object (a blob's cap is hollow too)
    middle = HOLLOW_RADIUS * min(med, half)
    if float(np.mean(r < middle)) > MAX_MIDDLE_SHARE:
        return None
    height = min(EYE_HEIGHT, 0.5 * float(top - floor))
    eye = cx * e1 + cy * e2 + (floor + height) * u
    return eye, eye + e1
