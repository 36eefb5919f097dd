"""The rest of the ground: a reconstruction's ground plane continued where no photo looked.

A walk-through or drone capture shows the ground only inside the photos' frames, so turning
round (or, from a drone's height, looking down and around) showed a black void below the
horizon. When the capture found its ground (`align.place_capture`: a walk's floor or an
aerial capture's level ground plane, both at y = 0 in Wander's frame), that plane is
continued out to the sky sphere, at the scene's low level (`LOW_PERCENTILE` of its heights,
if below 0), so a drone capture's real hills and valleys stand above it, never under it:

  1. a polar grid around the cameras' centroid: 180 azimuth sectors, rings growing
     geometrically (cells about as long as wide) from `r0` (a sixth of the camera height)
     to half the sky sphere's radius (the plane meets the sky a degree or two below the
     horizon);
  2. a cell is filled when no training photo's frame holds its centre, or every photo
     framing it sees the scene in front of it (`hidden_in_photos`: a drone capture's
     plane under its terrain), so every photo's render is as it was, and no scene splat
     near the plane's level lies near it (the reconstructed ground stays itself); a
     cell beyond a drone photo's top edge is left to the sky (`above_photo_frames`); the
     grid's centre is one more disc;
  3. its colour comes from the scene's own ground, the opaque splats near y = 0 (below a
     quarter of the camera height): the mean of its azimuth sector's ground colours
     (smoothed round the circle, sectors the smoothing does not reach interpolated
     round it, so sectors meet without a seam), mixed with the ground's typical colour
     at the brightness of one of its colours drawn at random (`GRAIN`), so the plane has
     the ground's colour and some of its grain, not a flat tone nor coloured specks; one
     flat disc per cell, lying on the plane, about as big as its cell.

Orbit (tabletop) captures and scenes whose ground was not found get nothing. The filled
discs near the cameras are ground to walk on (the collider takes them like any splat).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from scene.gaussians import GaussianCloud, logit, rgb_to_sh0, sh0_to_rgb

from .sky_dome import in_frame, in_photo_frames

log = logging.getLogger(__name__)

N_AZ = 180  # azimuth sectors (2° each)
FRAME_MARGIN = 0.05  # a cell within this share of a photo's frame beyond its edge is "seen"
MIN_GROUND = 50  # ground splats needed to take colours from
SMOOTH_SECTORS = 24  # the sector colours' Gaussian smoothing round the circle (sectors)
GRAIN = 0.35  # share of a cell's colour drawn at random from the ground's own colours
LOW_PERCENTILE = 2.0  # the plane's height: this percentile of the scene's heights (or 0)


def continue_ground(
    cloud: GaussianCloud,
    cameras: list,
    *,
    r_max: float,
    seed: int = 0,
    opacity: float = 0.98,
    level: str = "low",
) -> tuple[GaussianCloud, int]:
    """`cloud` (Wander frame, +Y up, ground at y = 0) with the ground plane continued out to
    `r_max` (m from the cameras' centroid) where no training photo looked; returns (the
    cloud with the new discs appended, how many). The input comes back unchanged (same
    object) when the cameras are not above the ground or the scene holds too little
    ground to take its colours from.

    level: where the plane lies. "low" (aerial captures): the scene's low level
    (`LOW_PERCENTILE` of its heights, if below 0), so real valleys are never covered.
    "floor" (walks): the level of the photographed ground itself, the most common height
    of its splats near y = 0 (`floor_level`); the low percentile lay 1.4 m under the
    Sceaux courtyard (depth noise below the ground), and the castle stood on a ledge.
    Raises ValueError for another level."""
    if level not in ("low", "floor"):
        raise ValueError(f"ground level must be 'low' or 'floor', got {level!r}")
    pos = np.array([c.position for c in cameras], np.float64).reshape(-1, 3)
    if len(cloud) == 0 or len(pos) == 0:
        return cloud, 0
    cam_h = float(np.median(pos[:, 1]))
    if not cam_h > 0 or not r_max > 0:
        return cloud, 0
    near = cloud.near_field_mask()
    op = cloud.opacity_values()
    means = cloud.means.astype(np.float64)
    ground = _ground_splats(near, op, means[:, 1], cam_h)
    if ground.sum() < MIN_GROUND:
        return cloud, 0
    centre = pos.mean(0)
    # an aerial capture's plane lies at the ground's low level, so real terrain (hills,
    # valleys) is never covered by it; a walk's at its photographed floor
    if level == "floor":
        plane_y = floor_level(means[ground, 1], 0.25 * cam_h)
    else:
        plane_y = min(0.0, float(np.percentile(means[near & (op > 0.5), 1], LOW_PERCENTILE)))
    gx, gz = means[ground, 0] - centre[0], means[ground, 2] - centre[2]
    g_az = ((np.arctan2(gx, -gz) / (2 * math.pi) + 0.5) * N_AZ).astype(np.int64) % N_AZ
    g_rgb = np.clip(sh0_to_rgb(cloud.sh0[ground]), 0, 1).astype(np.float64)
    by_sector = [np.flatnonzero(g_az == a) for a in range(N_AZ)]  # each sector's ground
    # the polar grid: rings from r0 growing by q (cells about square)
    q = 1.0 + 2 * math.pi / N_AZ
    r0 = cam_h / 6.0
    n_ring = max(1, int(math.ceil(math.log(max(r_max / r0, 1.0 + 1e-9)) / math.log(q))))
    r_in = r0 * q ** np.arange(n_ring)
    r_mid = r_in * (1 + q) / 2
    az = (np.arange(N_AZ) + 0.5) / N_AZ * 2 * math.pi - math.pi
    R, A = np.meshgrid(r_mid, az, indexing="ij")  # (n_ring, N_AZ)
    cx = centre[0] + R * np.sin(A)
    cz = centre[2] - R * np.cos(A)
    # the grid's centre (inside its first ring) is one disc: it was a black hole under
    # the cameras seen from above
    pts = np.stack(
        [np.r_[cx.ravel(), centre[0]], np.full(cx.size + 1, plane_y), np.r_[cz.ravel(), centre[2]]],
        1,
    )
    cell = np.r_[(R * (q - 1)).ravel(), 2.0 * r0]  # a cell's radial length (≈ its width)
    framed = in_photo_frames(pts, cameras, FRAME_MARGIN)
    # inside a photo's frame only where every photo framing it sees the scene in front
    # (the renders at the photos stay as they were); elsewhere there a black wedge showed
    # between the scene's edge and the plane, seen from above
    todo = ~framed & ~above_photo_frames(pts, cameras, FRAME_MARGIN)
    opaque = near & (op > 0.5)
    if framed.any() and opaque.any():
        todo |= framed & hidden_in_photos(pts, cameras, means[opaque], FRAME_MARGIN)
    # cells where the scene has ground of its own at the plane's level (floaters above
    # do not count: a line of them behind a drone's cameras left a black radial gap;
    # under a hill the plane is hidden by the hill)
    from scipy.spatial import cKDTree

    level = near & (np.abs(means[:, 1] - plane_y) < 0.25 * cam_h)
    scene_xz = means[level][:, [0, 2]]
    if len(scene_xz):
        tree = cKDTree(scene_xz)
        dist, _ = tree.query(pts[:, [0, 2]], k=1, distance_upper_bound=float(cell.max()))
        todo &= ~(dist < cell)
    if not todo.any():
        return cloud, 0
    rng = np.random.default_rng(seed)
    # (the centre disc, index N_AZ, takes the mean of all sectors round it)
    sector = np.r_[np.broadcast_to(np.arange(N_AZ)[None, :], R.shape).ravel(), N_AZ][todo]
    # sector means, smoothed round the circle by their counts (no seam between sectors)
    cnt = np.array([len(b) for b in by_sector], np.float64)
    tot = np.array([g_rgb[b].sum(0) if len(b) else np.zeros(3) for b in by_sector])
    wrap = 3 * SMOOTH_SECTORS
    k = np.exp(-0.5 * (np.arange(-wrap, wrap + 1) / SMOOTH_SECTORS) ** 2)

    def circ(v: np.ndarray) -> np.ndarray:
        return np.convolve(np.r_[v[-wrap:], v, v[:wrap]], k, "valid")

    num = np.stack([circ(tot[:, j]) for j in range(3)], 1)
    den = circ(cnt)
    # sectors the smoothed ground reaches; the rest are interpolated round the circle (a
    # far sector's colour from the kernel's cut-off tail jumped where the nearer side
    # switched: a bright radial stripe across an aerial capture's ground behind it)
    ok = den > 0.02 * den.max()
    mean_rgb = np.empty((N_AZ, 3))
    if ok.all():
        mean_rgb[:] = num / den[:, None]
    else:  # sectors far from any ground: interpolated round the circle between the nearest
        a_ok = np.flatnonzero(ok)
        xp = np.r_[a_ok - N_AZ, a_ok, a_ok + N_AZ]
        for j in range(3):
            fp = (num[a_ok, j] / den[a_ok])[np.r_[0 : len(a_ok), 0 : len(a_ok), 0 : len(a_ok)]]
            mean_rgb[:, j] = np.interp(np.arange(N_AZ), xp, fp)
    # the grain: a colour of all the ground drawn at random (a sector's own pool gave a
    # seam where a wide unseen arc switched between two edge sectors' pools), from its
    # typical colours only: a drone capture's few red, blue and green splats near the
    # ground level sprinkled the plane behind the cameras with coloured specks (a trial)
    typical = _typical_colours(g_rgb)
    pick = typical[rng.integers(len(typical), size=len(sector))]
    mean_rgb = np.vstack([mean_rgb, mean_rgb.mean(0)])
    # ... as brightness only: the picked colours' own hues, one per disc, read as coloured
    # static (dark purple-grey with green and orange specks round the Great Wall, a trial)
    luma = np.array([0.299, 0.587, 0.114])
    pool = g_rgb[typical].mean(0)
    rel = (g_rgb[pick] @ luma) / max(float(pool @ luma), 1e-6)
    rgb = (1 - GRAIN) * mean_rgb[sector] + GRAIN * pool[None, :] * rel[:, None]
    size = cell[todo]
    m = int(todo.sum())
    scales = np.stack([0.7 * size, np.full(m, 1e-3) * size, 0.7 * size], 1)  # flat in y
    quats = np.tile(np.array([1.0, 0.0, 0.0, 0.0], np.float32), (m, 1))
    fill = GaussianCloud(
        means=pts[todo].astype(np.float32),
        scales=np.log(np.maximum(scales, 1e-9)).astype(np.float32),
        quats=quats,
        opacities=np.full(m, logit(np.float32(opacity)), np.float32),
        sh0=rgb_to_sh0(rgb.astype(np.float32)),
        shN=np.zeros((m, cloud.shN.shape[1], 3), np.float32),
    )
    from .sky import append_splats

    out = append_splats(cloud, fill, far=False)  # before a marked far field, not in it
    log.info("ground: %d discs continue the ground plane out to %.0f m", m, r_max)
    return out, m


def _ground_splats(
    near: np.ndarray, opacity: np.ndarray, heights: np.ndarray, cam_h: float
) -> np.ndarray:
    """(N,) bool: the scene's own ground, the opaque (> 0.5) near-field (`near` (N,) bool)
    splats within a quarter of the cameras' height `cam_h` of y = 0 (`heights` (N,))."""
    return near & (opacity > 0.5) & (np.abs(heights) < 0.25 * cam_h)


def ground_colour(cloud: GaussianCloud, cameras: list) -> np.ndarray | None:
    """The typical colour (3,) of the ground `continue_ground` continues (the median-near
    colours of its ground splats, `_typical_colours`, averaged), None when it would
    continue none (cameras not above the ground, too little ground)."""
    pos = np.array([c.position for c in cameras], np.float64).reshape(-1, 3)
    if len(cloud) == 0 or len(pos) == 0:
        return None
    cam_h = float(np.median(pos[:, 1]))
    if not cam_h > 0:
        return None
    ground = _ground_splats(
        cloud.near_field_mask(), cloud.opacity_values(), cloud.means[:, 1], cam_h
    )
    if ground.sum() < MIN_GROUND:
        return None
    rgb = np.clip(sh0_to_rgb(cloud.sh0[ground]), 0, 1).astype(np.float64)
    return rgb[_typical_colours(rgb)].mean(0)


GRAIN_MAD = 2.5  # grain colours within this many median absolute deviations (each channel)


def _typical_colours(rgb: np.ndarray) -> np.ndarray:
    """Indices (K,) of the colours (N, 3) within GRAIN_MAD median absolute deviations of
    the median in every channel (all of them when that leaves fewer than a tenth)."""
    med = np.median(rgb, axis=0)
    mad = np.median(np.abs(rgb - med), axis=0) * 1.4826 + 1e-3
    ok = np.flatnonzero((np.abs(rgb - med) <= GRAIN_MAD * mad).all(1))
    return ok if len(ok) >= max(1, len(rgb) // 10) else np.arange(len(rgb))


def above_photo_frames(pts: np.ndarray, cameras: list, margin: float = 0.0) -> np.ndarray:
    """(P,) bool: points (P, 3) some camera sees above the top edge of its image, within its
    image's width (both widened by `margin` × the image's size). A drone's photos, pitched
    down, end a few degrees below the horizon: the plane beyond their top edge, seen from
    beside a photo's camera, was a dark line floating in the sky above the photographed
    hills (Great Wall, 2 m aside: the plane's far cells at 455-580 m). Walk photos, whose
    frames hold the horizon, have no plane above them."""
    above = np.zeros(len(pts), bool)
    for cam in cameras:
        uv, z = cam.project(pts)
        mw, mh = margin * cam.width, margin * cam.height
        above |= (z > 0) & (uv[:, 0] >= -mw) & (uv[:, 0] < cam.width + mw) & (uv[:, 1] < -mh)
    return above


def floor_level(heights: np.ndarray, band: float) -> float:
    """The ground's height: the peak of the heights (n,) of the opaque splats within
    ±`band` of y = 0 (a histogram of band/25 bins, smoothed over three), so splats under
    the ground (depth noise, reflections) and things standing on it do not move it. 0.0
    when there are none."""
    h = np.asarray(heights, np.float64)
    h = h[np.abs(h) < band]
    if len(h) == 0 or not band > 0:
        return 0.0
    counts, edges = np.histogram(h, bins=50, range=(-band, band))
    counts = np.convolve(counts, np.ones(3) / 3.0, "same")
    i = int(np.argmax(counts))
    return float(0.5 * (edges[i] + edges[i + 1]))


OCCLUSION_GRID = 96  # cells on the long side of each photo's coarse depth buffer
HIDDEN_RATIO = 0.9  # hidden: the scene stands nearer than this share of the point's depth


def hidden_in_photos(
    pts: np.ndarray, cameras: list, scene: np.ndarray, margin: float = 0.0
) -> np.ndarray:
    """(P,) bool: points (P, 3) that every photo framing them (its image widened by
    `margin`) sees behind the scene: a coarse depth buffer per camera (OCCLUSION_GRID
    cells on the long side) holds the nearest of the `scene` points (S, 3, opaque splat
    centres) per cell, and a point is hidden where that depth, the farthest over the
    cell and its 8 neighbours (a gap between sparse splats counts as open), is under
    HIDDEN_RATIO × its own; in the margin beyond the image it never is. Points no photo
    frames are False."""
    from scipy.ndimage import maximum_filter

    P = len(pts)
    framed_any = np.zeros(P, bool)
    hidden_all = np.ones(P, bool)
    for cam in cameras:
        s = OCCLUSION_GRID / max(cam.width, cam.height)
        gw, gh = max(1, int(np.ceil(cam.width * s))), max(1, int(np.ceil(cam.height * s)))
        uv, z = cam.project(scene)
        ok = in_frame(cam, uv, z)
        buf = np.full(gh * gw, np.inf)
        gi = (uv[ok, 1] * s).astype(np.int64).clip(0, gh - 1) * gw
        gi += (uv[ok, 0] * s).astype(np.int64).clip(0, gw - 1)
        np.minimum.at(buf, gi, z[ok])
        buf = maximum_filter(buf.reshape(gh, gw), size=3, mode="nearest")
        puv, pz = cam.project(pts)
        fr = in_frame(cam, puv, pz, margin)
        gx = (puv[fr, 0] * s).astype(np.int64).clip(0, gw - 1)
        gy = (puv[fr, 1] * s).astype(np.int64).clip(0, gh - 1)
        # in the margin beyond the image nothing is known: never hidden there
        hid = np.zeros(P, bool)
        hid[fr] = in_frame(cam, puv, pz)[fr] & (buf[gy, gx] < HIDDEN_RATIO * pz[fr])
        framed_any |= fr
        hidden_all &= ~fr | hid
    return framed_any & hidden_all
