"""The rest of the sky: a reconstruction's sky sphere completed where no photo looked.

`sky.add_sky` puts far-field splats on a large sphere only where a photo saw sky, so a
walker who turns away from what the photos show looks into a black void above the
horizon (on Sceaux, turned 60° right of the first photo, most of the view was black). Here
the sky sphere is completed, in the directions no photo looked at, above the horizon
(fading out over `FADE_DEG` below it, where distant ground would meet the sky, so the new
sky has no hard lower edge) with a smooth continuation of the sky the photos did see:

  1. the far-field splats (`GaussianCloud.near_field_mask`; those within 25 % of the
     sphere's median radius) are binned by direction on an equirectangular grid around the
     cameras' centroid, +Y up (Wander's frame), their colours averaged with their opacity;
  2. the bins of the band that no photo's frame holds (its camera's image, dilated by a
     bin) and that hold no seen sky are filled by normalised convolution (Knutsson & Westin,
     CVPR 1993) over a pyramid of Gaussian scales, wrapped in longitude and wider along it
     (sky colour changes with elevation more than with azimuth), each bin from the finest
     scale that holds enough seen sky, the coarsest falling back to the mean of its row and
     then to the mean of all;
  3. each filled bin becomes one flat disc on the sphere facing the centre, as big as its
     bin and overlapping its neighbours (no lattice shows), opaque above the horizon.

Nothing is added when the photos saw too little sky to continue (an indoor or tabletop
capture: `MIN_SKY_BINS`). Nothing is added inside any photo's frame, so renders at the
photos' cameras are the same, and the added splats are far field for walking
(`near_field_mask` finds them by distance).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from scene.gaussians import GaussianCloud, logit, rgb_to_sh0, sh0_to_rgb

log = logging.getLogger(__name__)

GRID_H = 90  # latitude bins over 180° (2° each); longitude bins = 2 × GRID_H
HORIZON_DEG = 0.0  # opaque from this elevation up ...
FADE_DEG = 12.0  # ... fading out over this many degrees below it (no hard edge on black)
#: a ground plane under the cameras (`ground_fill.continue_ground`) reaches this share of
#: the sky sphere's radius; ...
GROUND_REACH = 0.5
#: ... the sky is opaque down to where that plane's edge meets it, seen from the cameras,
#: with the plane taken up to this many times the cameras' height below them (an aerial
#: capture's plane lies at the terrain's low level) and this many degrees to spare. Faded
#: out below the horizon, the sky left a black band between it and the plane's edge 13°
#: below it, seen from a drone 30 m up (a trial, the Great Wall turned away from its
#: photos); the sky hidden behind the plane costs nothing
GROUND_DEPTH_FACTOR = 2.0
GROUND_SPARE_DEG = 2.0
MIN_SKY_BINS = 40  # seen sky bins (of 16200) below which the sky is not continued
#: ... over a drone capture, where the sky is certainly there: a quick run of the Great Wall
#: (its photos see haze over far hills, no sky) had 35 seen bins and turned away to black
MIN_SKY_BINS_AERIAL = 8
ON_SPHERE = 0.25  # far splats within this share of the median radius are the sky sphere
MAX_SKY_RGB = 2.0  # the seen sky's colours are averaged up to this (display clips at 1)
SEEN_DILATE = 1  # bins around seen sky that count as seen (its splats overlap them)
#: rows beyond the lowest (highest) seen sky take the mean of the edge rows holding this
#: share of the seen sky's weight (`_edge_colour`)
EDGE_SUPPORT = 0.15


NEEDLE_RAD = 0.02  # a far-field splat's longest axis, at most this × its distance ...
NEEDLE_RATIO = 2.0  # ... unless that is under this × its middle axis (a round disc stays)


def shorten_far_needles(
    cloud: GaussianCloud, cameras: list, *, max_rad: float = NEEDLE_RAD
) -> tuple[GaussianCloud, int]:
    """`cloud` with its far-field splats' longest axis cut to `max_rad` × their distance
    from the cameras' centroid (not below NEEDLE_RATIO × their middle axis), and how many
    were cut. The optimiser stretches sky-sphere splats into needles (Sceaux: 181 over 6°
    long) that sit behind everything in the photos but streak across the sky from anywhere
    else. Measured after the optimisation (`bench/reconstruct_quality.py` scenes): Great
    Wall training 33.77 -> 33.78 dB, held out 30.71 -> 30.56; Sceaux at 708 px 25.49 ->
    25.45, held out 15.65 -> 15.47. Capping during the optimisation instead cost Great
    Wall 2.6 dB. Returns the input (same object) when nothing is cut."""
    if len(cloud) == 0 or not len(cameras):
        return cloud, 0
    far = ~cloud.near_field_mask()
    if not far.any():
        return cloud, 0
    centre = np.mean([c.position for c in cameras], axis=0)
    dist = np.linalg.norm(cloud.means.astype(np.float64) - centre, axis=1)
    ls = cloud.scales.astype(np.float64)
    order = np.argsort(ls, axis=1)
    srt = np.take_along_axis(ls, order, axis=1)
    cap = np.maximum(srt[:, 1] + math.log(NEEDLE_RATIO), np.log(np.maximum(max_rad * dist, 1e-12)))
    over = far & (srt[:, 2] > cap + 1e-4)  # (a float32 round trip is no needle)
    if not over.any():
        return cloud, 0
    srt[over, 2] = cap[over]
    np.put_along_axis(ls, order, srt, axis=1)
    out = cloud.copy()
    out.scales = ls.astype(np.float32)
    return out, int(over.sum())


@dataclass
class DomeInfo:
    """What `complete_sky` did: bins of seen sky, splats added, the sphere."""

    seen_bins: int
    added: int
    radius: float
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "seen_bins": self.seen_bins,
            "added": self.added,
            "radius": round(float(self.radius), 3),
            **({"reason": self.reason} if self.reason else {}),
        }


def _directions(h: int) -> np.ndarray:
    """(h, 2h, 3) unit directions of the bin centres, +Y up, longitude 0 looking -Z."""
    lat = (0.5 - (np.arange(h) + 0.5) / h) * math.pi
    lon = ((np.arange(2 * h) + 0.5) / (2 * h) - 0.5) * 2 * math.pi
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    return np.stack([np.cos(la) * np.sin(lo), np.sin(la), -np.cos(la) * np.cos(lo)], -1)


def _bins(dirs: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) int bins of unit directions (P, 3) on the (h, 2h) grid."""
    lat = np.arcsin(np.clip(dirs[:, 1], -1, 1))
    lon = np.arctan2(dirs[:, 0], -dirs[:, 2])
    r = np.clip(((0.5 - lat / math.pi) * h).astype(np.int64), 0, h - 1)
    c = np.clip(((lon / (2 * math.pi) + 0.5) * 2 * h).astype(np.int64), 0, 2 * h - 1)
    return r, c


def _continue(colour: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Normalised convolution of `colour` (h, w, 3) known with `weight` (h, w) over a
    pyramid of scales (coarse to fine, each bin from the finest scale with support);
    the coarsest level falls back to the row's weighted mean, then the global mean."""
    # the outpainting's longitude-wrapped blur (one equirect blur for the whole project)
    from generators.panorama.outpaint_classical import _blur_wrap as blur_wrap

    h = weight.shape[0]
    m = weight.astype(np.float32)[..., None]
    v = (colour * m).astype(np.float32)
    tot = float(m.sum())
    glob = v.sum((0, 1)) / max(tot, 1e-6)
    row_w = m.sum(1)  # (h, 1)
    row_v = v.sum(1)  # (h, 3)
    row = np.where(row_w > 1e-6, row_v / np.maximum(row_w, 1e-6), glob)  # (h, 3)
    # rows without sky take the nearest row that has some (sky colour follows elevation);
    # beyond the lowest and the highest seen rows, the mean of the edge rows holding
    # EDGE_SUPPORT of the seen sky's weight: the lowest seen row alone can be one odd splat
    # (Strecha's Herz-Jesu-P25: a saturated blue one 18° up, behind trees, coloured the
    # whole horizon band royal blue under an overcast sky)
    has = row_w[:, 0] > 1e-6
    if has.any():
        idx = np.arange(h)
        for k in range(3):
            row[:, k] = np.interp(idx, idx[has], row[has, k])
        low, high = _edge_colour(row_v, row_w[:, 0], EDGE_SUPPORT)
        first, last = int(idx[has][0]), int(idx[has][-1])  # row 0 is the zenith
        row[:first] = high
        row[last + 1 :] = low
    out = np.repeat(row[:, None, :], weight.shape[1], axis=1)
    for s in (24.0, 12.0, 6.0, 3.0):
        sc = s * h / 90.0
        num = blur_wrap(v, 3.0 * sc, sc)
        den = blur_wrap(m, 3.0 * sc, sc)
        den = den[..., None] if den.ndim == 2 else den
        est = num / np.maximum(den, 1e-8)
        t = np.clip(den / 0.2, 0, 1)
        out = out * (1 - t) + est * t
    return out.astype(np.float32)


def _edge_colour(rows: np.ndarray, w: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) colours (3,) of the seen sky: the weighted means of the rows from
    each edge inwards until they hold `share` of the total weight. rows (h, 3) each row's
    sum of colour × weight, w (h,) each row's weight."""
    total = float(w.sum())

    def mean_from(order: np.ndarray) -> np.ndarray:
        k = int(np.searchsorted(np.cumsum(w[order]), share * total)) + 1
        sel = order[:k]
        return rows[sel].sum(0) / max(float(w[sel].sum()), 1e-6)

    below = np.arange(len(w))[::-1]  # rows run from the zenith down
    return mean_from(below), mean_from(np.arange(len(w)))


def _dilate_wrap(mask: np.ndarray, r: int) -> np.ndarray:
    """(h, w) bool `mask` dilated by `r` bins (a (2r+1)² square), wrapped in longitude
    (the panorama layers' wrapped dilation)."""
    from generators.pano_layers import _dilate_wrap as dilate_wrap

    return dilate_wrap(mask, np.ones((2 * r + 1, 2 * r + 1), np.uint8))


def in_frame(cam, uv: np.ndarray, z: np.ndarray, margin: float = 0.0) -> np.ndarray:  # noqa: ANN001
    """(P,) bool: projected points (`cam.project`: uv (P, 2) px, depth z (P,)) in front of
    `cam` and inside its image widened by `margin` × its size on each side."""
    mw, mh = margin * cam.width, margin * cam.height
    return (
        (z > 0)
        & (uv[:, 0] >= -mw)
        & (uv[:, 0] < cam.width + mw)
        & (uv[:, 1] >= -mh)
        & (uv[:, 1] < cam.height + mh)
    )


def in_photo_frames(pts: np.ndarray, cameras: list, margin: float = 0.0) -> np.ndarray:
    """(P,) bool: points (P, 3) inside some camera's image (what a photo looked at), the
    image widened by `margin` × its size on each side."""
    seen = np.zeros(len(pts), bool)
    for cam in cameras:
        seen |= in_frame(cam, *cam.project(pts), margin)
    return seen


#: `complete_sky` with a ground plane: below the horizon the dome takes the colour of far
#: ground, fully from HAZE_DEG down, mixed with this share of the sky's colour at the
#: horizon (aerial perspective: distant ground fades towards the sky's colour)
HAZE_DEG = 1.0
HAZE_SKY = 0.5


def _far_ground_haze(fill: np.ndarray, lat_deg: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """The dome's colours `fill` (h, w, 3; rows at elevations `lat_deg` (h,), top first)
    below the horizon turned to far ground: `ground` (3,) mixed with HAZE_SKY of each
    column's colour at the lowest row above the horizon, easing in over HAZE_DEG."""
    above = np.flatnonzero(lat_deg >= 0.0)
    if not len(above):
        return fill
    horizon = fill[above[-1]]  # (w, 3): the sky just above the horizon, per column
    haze = (1.0 - HAZE_SKY) * ground[None, :] + HAZE_SKY * horizon
    t = np.clip(-lat_deg / HAZE_DEG, 0.0, 1.0)
    t = (t * t * (3 - 2 * t))[:, None, None]
    return fill * (1 - t) + haze[None, :, :] * t


def complete_sky(
    cloud: GaussianCloud,
    cameras: list,
    *,
    grid_h: int = GRID_H,
    horizon_deg: float = HORIZON_DEG,
    fade_deg: float = FADE_DEG,
    opacity: float = 0.98,
    min_seen: int = MIN_SKY_BINS,
    ground_height: float | None = None,
    ground_rgb: np.ndarray | None = None,
) -> tuple[GaussianCloud, DomeInfo]:
    """`cloud` (Wander frame, +Y up) with the sky sphere completed above `horizon_deg`
    (opaque) and down to `fade_deg` below it (opacity fading to 0).

    ground_height: the cameras' height (m) above a ground plane that will be continued out
    to GROUND_REACH × the sphere's radius: the opaque sky then reaches down to where that
    plane's edge meets the sphere (GROUND_DEPTH_FACTOR, GROUND_SPARE_DEG), so the two meet
    with no black band between them seen from above. None: no such plane.
    ground_rgb (3,): that ground's typical colour (`ground_fill.ground_colour`); with
    ground_height, the sky below the horizon takes on the colour of ground far off seen
    through air (`HAZE_SKY` of the sky's colour at the horizon over it), from
    `HAZE_DEG` below the horizon on: from a drone, the band of sky between the horizon
    and the plane's edge (2-4° below it) drew the plane's circular edge as the horizon,
    bent down at the view's sides like a small planet's (a trial).

    cameras: the photos' `scene.camera.Camera`s in the cloud's frame (the sphere's centre
    is their mean position). Only directions no photo looked at are filled: inside a
    photo's frame an area that is not sky stays as the scene has it (a dark tree the
    fusion left out was better matched by the black background than by invented sky:
    -0.2 dB on Sceaux's training views). Returns (cloud with the new splats appended,
    DomeInfo). The input is returned unchanged (same object) when it has no sky sphere or
    less seen sky than `min_seen` bins (MIN_SKY_BINS; MIN_SKY_BINS_AERIAL for a drone's
    capture)."""
    pos = np.array([c.position for c in cameras], np.float64).reshape(-1, 3)
    if len(cloud) == 0 or len(pos) == 0:
        return cloud, DomeInfo(0, 0, 0.0, "no splats or cameras")
    centre = pos.mean(0)
    far = ~cloud.near_field_mask()
    if far.sum() < MIN_SKY_BINS:
        return cloud, DomeInfo(0, 0, 0.0, "no far field")
    rel = cloud.means[far].astype(np.float64) - centre
    dist = np.linalg.norm(rel, axis=1)
    radius = float(np.median(dist))
    on = np.abs(dist - radius) < ON_SPHERE * radius
    if on.sum() < MIN_SKY_BINS or radius <= 0:
        return cloud, DomeInfo(0, 0, radius, "no sky sphere")
    d = rel[on] / dist[on, None]
    # not clipped at white: an over-exposed sky the optimiser made brighter than 1 (shown
    # as white) continued at 0.98 showed a seam where the two met
    rgb = np.clip(sh0_to_rgb(cloud.sh0[far][on]), 0, MAX_SKY_RGB)
    # a bin's colour weighs each splat by what it shows: opacity times its footprint (the
    # two largest axes); by opacity alone a few small dark splats of far trees greyed the
    # big sky splats that fill the view, and that grey was carried on as the sky's
    a = cloud.opacity_values()[far][on].astype(np.float64)
    ext = np.sort(np.exp(cloud.scales[far][on].astype(np.float64)), axis=1)
    shows = a * ext[:, 1] * ext[:, 2]
    h, w = grid_h, 2 * grid_h
    r, c = _bins(d, h)
    wsum = np.zeros((h, w))
    ssum = np.zeros((h, w))
    csum = np.zeros((h, w, 3))
    np.add.at(wsum, (r, c), a)
    np.add.at(ssum, (r, c), shows)
    np.add.at(csum, (r, c), shows[:, None] * rgb)
    seen = wsum > 0.5
    n_seen = int(seen.sum())
    if n_seen < max(min_seen, 1):
        return cloud, DomeInfo(n_seen, 0, radius, "too little sky seen to continue")
    colour = np.where(seen[..., None], csum / np.maximum(ssum, 1e-30)[..., None], 0.0)
    # how much each seen bin's colour counts: by how much of the bin its splats cover,
    # relative to the typical seen bin (a bin holding a few small dark splats of far
    # trees beside the sky would carry its darkness on as the sky's)
    lat_deg = 90.0 - (np.arange(h) + 0.5) / h * 180.0
    cover = ssum / np.maximum(np.cos(np.radians(lat_deg)), 1e-3)[:, None]
    typical = float(np.median(cover[seen]))
    trust = np.where(seen, np.clip(cover / max(0.5 * typical, 1e-30), 0.0, 1.0), 0.0)
    fill = _continue(colour, trust.astype(np.float32))
    covered = _dilate_wrap(seen, SEEN_DILATE)
    if ground_height is not None and ground_height > 0:
        edge = math.degrees(math.atan2(GROUND_DEPTH_FACTOR * ground_height, GROUND_REACH * radius))
        horizon_deg = min(horizon_deg, -(edge + GROUND_SPARE_DEG))
        if ground_rgb is not None and np.all(np.isfinite(ground_rgb)):
            fill = _far_ground_haze(fill, lat_deg, np.asarray(ground_rgb, np.float64))
    fade = np.clip((lat_deg - (horizon_deg - fade_deg)) / max(fade_deg, 1e-6), 0.0, 1.0)
    fade = fade * fade * (3 - 2 * fade)  # smoothstep
    band = (fade[:, None] * opacity >= 0.02) & np.ones((1, w), bool)
    grid = _directions(h)
    looked = in_photo_frames(centre + radius * grid.reshape(-1, 3), cameras).reshape(h, w)
    todo = band & ~covered & ~_dilate_wrap(looked, SEEN_DILATE)
    if not todo.any():
        return cloud, DomeInfo(n_seen, 0, radius)
    dirs = grid[todo]
    pts = centre + radius * dirs
    lat = np.radians(lat_deg)[:, None].repeat(w, 1)[todo]
    step = math.pi / h * radius  # one bin's side along latitude (m)
    # discs as big as their bin (a longitude bin narrows with cos(lat)), overlapping
    sx = 0.75 * step * np.maximum(np.cos(lat), 0.15)
    sy = np.full_like(sx, 0.75 * step)
    scales = np.stack([sx, sy, 0.05 * sy], 1)
    from scene.rotations import matrices_to_quats

    up = np.array([0.0, 1.0, 0.0])
    n = -dirs  # faces the centre
    east = np.cross(up, dirs)
    east_n = np.linalg.norm(east, axis=1, keepdims=True)
    east = np.where(east_n > 1e-6, east / np.maximum(east_n, 1e-12), [1.0, 0.0, 0.0])
    north = np.cross(n, east)
    quats = matrices_to_quats(np.stack([east, north, n], axis=2)).astype(np.float32)
    m = len(pts)
    dome = GaussianCloud(
        means=pts.astype(np.float32),
        scales=np.log(np.maximum(scales, 1e-9)).astype(np.float32),
        quats=quats,
        opacities=logit(
            np.clip(opacity * fade[:, None].repeat(w, 1)[todo], 0.02, 0.999).astype(np.float32)
        ),
        sh0=rgb_to_sh0(fill[todo].astype(np.float32)),
        shN=np.zeros((m, cloud.shN.shape[1], 3), np.float32),
    )
    from .sky import append_splats

    out = append_splats(cloud, dome, far=True)
    info = DomeInfo(n_seen, m, radius)
    log.info(
        "sky dome: %d splats continue the sky of %d seen directions (radius %.3g)",
        m,
        n_seen,
        radius,
    )
    return out, info
