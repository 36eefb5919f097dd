"""The layout of the part of a panorama no photo saw: a room box indoors, a skyline outdoors.

Away from the photo, outpainting should not stretch the photo's rows around the sphere
(a castle facade running all the way round at the photo's height, one brown band for a
whole room): it should show the scene's *layout*, the way a single-view layout estimator
does (Hedau, Hoiem & Forsyth, "Recovering the Spatial Layout of Cluttered Rooms", ICCV
2009; HorizonNet's floor/ceiling boundaries, Sun et al. CVPR 2019):

  indoors   a box room square to the photo's view: floor below the wall/floor boundary,
            walls up to the ceiling boundary, ceiling above. For a box of half-width R seen
            from the eye at height e, the floor boundary at longitude λ lies at
            tan(−lat) = (e / R)·m(λ) and the ceiling boundary at tan(lat) = ((c − e) / R)·m(λ),
            m(λ) = max(|cos λ|, |sin λ|) — the same box the world's geometry builds
            (`pano_layers.layered_depth`), so the painted creases are its creases.
  outdoors  ground up to the far field's foot, a far band of upright structure (trees,
            hills, buildings on the skyline) up to a skyline that varies smoothly with
            longitude around the photo's own skyline height, sky above; the skyline is as
            jagged as the photo's own: a treeline's crowns (1/f roughness) where the
            photo shows foliage, else relief seen from afar, hills or roofs (1/f^1.5:
            a fractal profile at the smooth end, Hurst exponent 1), not crowns.

The ratios come from the photo's class map: the rows where its upright things meet the
ground (the floor boundary), the top of its walls (the ceiling), where its sky begins
(the skyline). Each estimate records its source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scene.equirect import pano_lonlat
from scene.units import EYE_HEIGHT

from .classes import GROUND, SKY, UPRIGHT, ground_contact

CEILING = 3  # the upper class indoors (as outpaint_classical / pano_layers)
DEFAULT_ROOM_RADIUS = 3.0  # m: a room's half-width when the photo shows no wall foot
MIN_ROOM_RADIUS = 2.5  # m: no invented room is narrower than twice this
WALL_PERCENTILE = 20.0  # of the contacts' elevation tangents: the walls behind furniture
MIN_CEILING, MAX_CEILING = 2.7, 4.0  # m above the floor (as pano_layers)
#: ... and a hall's ceiling as high as this share of its half-width above the eye (a
#: palace staircase's columns, 12 m off and rising to the photo's top, lay on a ceiling
#: held at 4 m from 11° up: they stood upright to mid-height, then leant away)
HALL_CEILING_SLOPE = 0.5
MIN_FRONT = 1.5  # m: the front wall is never nearer than this
FRONT_SLACK = 1.1  # ... and stands apart from the square box's only when this much nearer
SKYLINE_MIN_DEG, SKYLINE_MAX_DEG = 0.6, 10.0  # far skyline elevation bounds
SKYLINE_ROUGH_DEG = 5.0  # the photo's skyline less its running mean over this is its roughness
MAX_ROUGH, DEFAULT_ROUGH = 0.3, 0.1  # relative to the skyline's elevation
#: the far skyline's fine roughness falls off as 1/k (a treeline's crowns) or, where the
#: photo shows no foliage, as 1/k^RELIEF_SPECTRUM: at 1/k the Great Wall's far mountains
#: and a castle's grey far band were narrow spikes, rubble rather than hills
RELIEF_SPECTRUM = 1.5
ANCHOR_REACH_DEG = 15.0  # the far skyline starts at the photo's edge, its own this far out
ANCHOR_MAX_DEG = 30.0  # ... an edge's skyline above this (a tower cut by the frame) is held


def max_ceiling(radius: float, eye: float = EYE_HEIGHT) -> float:
    """The highest ceiling (m above the floor) an invented room of half-width `radius`
    (m) gets: MAX_CEILING, or a hall's eye + HALL_CEILING_SLOPE × radius when higher."""
    return max(MAX_CEILING, eye + HALL_CEILING_SLOPE * float(radius))


@dataclass
class Layout:
    """Boundaries of the unseen part, as tangents of elevation (see module docstring).

    indoor: floor_tan, ceiling_tan are the box's boundaries at m(λ) = 1.
    outdoor: ground_tan (the far field's foot, < 0 means below the horizon),
    skyline_deg the far skyline's mean elevation, skyline_var its relative variation over
    tens of degrees, skyline_rough its relative roughness over a few degrees (std-dev),
    anchors ((longitude rad, elevation deg), ...) the photo's own skyline at its left and
    right edges, where the far skyline starts (`layout_classes`); treeline: whether the
    far band is a treeline (the outpainting found foliage in the photo) or relief.
    """

    indoor: bool
    floor_tan: float = 0.0
    ceiling_tan: float = 0.0
    ground_tan: float = 0.0
    skyline_deg: float = 0.0
    skyline_var: float = 0.0
    skyline_rough: float = 0.0
    sources: dict | None = None
    #: indoors, the tangent eye / F of the front wall (the one the photo faces, at
    #: distance F along its view); 0 (or floor_tan): the square box's front wall at R
    front_tan: float = 0.0
    anchors: tuple[tuple[float, float], ...] = ()
    treeline: bool = True

    @property
    def far_field(self) -> float:
        """Outdoors, the far field's distance (m): eye / −ground_tan."""
        return EYE_HEIGHT / max(-self.ground_tan, 1e-6)

    @property
    def front(self) -> float:
        """The front wall's distance as a fraction of the box's half-width R (≤ 1)."""
        return front_fraction(self.floor_tan, self.front_tan) if self.indoor else 1.0

    def wall_factor(self, lon: np.ndarray) -> np.ndarray:
        """R / d(λ) at longitudes `lon` (radians), d the walls' horizontal distance:
        `box_factor(lon, self.front)`. A crease at tan(elevation) = k · R / d(λ) lies at
        height k · R."""
        return box_factor(lon, self.front)

    def as_dict(self) -> dict:
        d = {"indoor": self.indoor, "sources": dict(self.sources or {})}
        if self.indoor:
            d.update(floor_tan=round(self.floor_tan, 4), ceiling_tan=round(self.ceiling_tan, 4))
            if self.front < 1.0:
                d["front_tan"] = round(self.front_tan, 4)
        else:
            d.update(
                skyline_deg=round(self.skyline_deg, 2),
                skyline_rough=round(self.skyline_rough, 3),
                ground_tan=round(self.ground_tan, 4),
                far_field_m=round(self.far_field, 2),
                far_band="treeline" if self.treeline else "relief",
            )
            if self.anchors:
                d["skyline_anchors"] = [
                    {"lon_deg": round(math.degrees(lon), 2), "elev_deg": round(e, 2)}
                    for lon, e in self.anchors
                ]
        return d


def front_fraction(floor_tan: object, front_tan: object) -> float:
    """A box room's front wall distance F as a fraction of its half-width R, from their
    tangents floor_tan = eye / R and front_tan = eye / F (`Layout`, or its `as_dict`
    record, untrusted): floor_tan / front_tan when the front wall is nearer, else 1."""
    if not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in (floor_tan, front_tan)
    ):
        return 1.0
    r_t, f_t = float(floor_tan), float(front_tan)  # type: ignore[arg-type]
    return r_t / f_t if f_t > r_t > 0 else 1.0


def box_factor(lon: np.ndarray, front: float = 1.0) -> np.ndarray:
    """m(λ): a box room's wall distance is R / m(λ) at longitude λ (radians; 0 = the
    photo's view, −Z). Its side and back walls stand R from the eye, its front wall
    front · R (0 < front ≤ 1): m(λ) = max(|sin λ|, cos λ / front) ahead, max(|sin λ|,
    |cos λ|) behind — the square box's max(|cos λ|, |sin λ|) at front = 1."""
    c = np.cos(lon)
    ahead = np.where(c > 0, c / max(float(front), 1e-3), np.abs(c))
    return np.maximum(ahead, np.abs(np.sin(lon)))


def estimate_layout(
    labels: np.ndarray, known: np.ndarray, upper: int, room_radius: float | None = None
) -> Layout:
    """The unseen part's layout from the photo's classes on the equirect grid.

    labels (h, 2h) uint8 classes (UPRIGHT / GROUND / SKY) of the known pixels,
    known (h, 2h) bool, upper SKY (outdoors) or CEILING (indoors). room_radius (m):
    indoors, the box's half-width as given (`world --radius`), its front wall no farther;
    else estimated.
    """
    h, w = labels.shape
    lon, lat = pano_lonlat(h, w)
    cols = known.any(0)
    m = box_factor(lon)
    if upper != SKY:
        src = {"floor": "default room"}
        floor_tan = EYE_HEIGHT / DEFAULT_ROOM_RADIUS
        front = None  # the wall the photo faces (m along its view), when measured
        contact = ground_contact(labels, known)  # row per column, NaN where none
        ok = cols & np.isfinite(contact)
        rows = np.clip(contact[ok], 0, h - 1)
        tan_c = np.tan(-np.interp(rows, np.arange(h), lat))
        good = tan_c > 0.05  # a contact above the horizon is no floor boundary
        if good.sum() >= 8:  # (good lies within ok)
            # the walls are the farthest things standing on the floor (furniture
            # stands in front of them): the far fifth of the contacts, and never
            # nearer than the distance the world's geometry gives the photo's own
            # upright things (`pano_layers`): no invented wall in front of them
            floor_tan = float(np.percentile(tan_c[good] / m[ok][good], WALL_PERCENTILE))
            r_geo, front = _geometry_radius(labels, known)
            if r_geo is not None:
                floor_tan = min(floor_tan, EYE_HEIGHT / r_geo)
            floor_tan = min(floor_tan, EYE_HEIGHT / MIN_ROOM_RADIUS)
            src["floor"] = "farthest ground contacts of the photo's upright things"
        if room_radius is not None:
            # the user's room: its creases painted where the world stands its walls
            floor_tan = EYE_HEIGHT / max(float(room_radius), 0.5)
            src["floor"] = "option"
            if front is not None:
                front = min(front, float(room_radius))
        radius = EYE_HEIGHT / max(floor_tan, 1e-3)
        front_tan = 0.0
        if front is not None and front < radius / FRONT_SLACK:
            # the wall the photo faces, where the world's geometry stands it: the box's
            # front wall, 1.5 m behind the office photo's bookcase wall, painted its
            # ceiling 0.4 m down that wall (a sagging bump in the ceiling line above it)
            front_tan = EYE_HEIGHT / max(front, MIN_FRONT)
            src["front"] = "the photo's wall contacts along its view, the far fifth"
        # the photo's walls reach the ceiling: the top of its upright structure
        up = (labels == UPRIGHT) & known & (lat[:, None] > 0)
        tcols = up.any(0)
        lo = (MIN_CEILING - EYE_HEIGHT) / radius
        hi = (max_ceiling(radius) - EYE_HEIGHT) / radius
        if tcols.sum() >= 8:
            top = np.argmax(up, axis=0)[tcols]
            m_f = box_factor(lon, front_fraction(floor_tan, front_tan))
            ceil_tan = float(np.clip(np.median(np.tan(lat[top]) / m_f[tcols]), lo, hi))
            src["ceiling"] = "top of the photo's walls"
        else:
            ceil_tan = lo
            src["ceiling"] = "default height"
        return Layout(
            True, floor_tan=floor_tan, ceiling_tan=ceil_tan, sources=src, front_tan=front_tan
        )
    # outdoors: the skyline where the photo's sky begins, per column that shows sky
    sky = (labels == SKY) & known
    scols = cols & sky.any(0)
    src = {}
    if scols.sum() >= 4:
        # the lowest sky row of the sky run from the top of each column
        below = ~sky & known
        first_sky = np.argmax(sky, axis=0)
        edge = np.full(w, -1)
        for c in np.nonzero(scols)[0]:
            r = first_sky[c]
            run = np.nonzero(below[r:, c])[0]
            edge[c] = r + (run[0] if len(run) else 0)
        elev = np.degrees(lat[np.clip(edge[scols], 0, h - 1)])
        # the far skyline: the lower part of what the photo shows (near things stand
        # taller; far ones are what goes round)
        raw = float(np.percentile(elev, 25))
        skyline = float(np.clip(raw, SKYLINE_MIN_DEG, SKYLINE_MAX_DEG))
        var = float(np.clip(np.std(elev) / max(skyline, 1.0), 0.2, 0.6))
        rough = _skyline_roughness(elev, w) / max(skyline, 1.0)
        src["skyline"] = "lower quartile of the photo's skyline"
        if skyline != raw:  # a far skyline is never higher or lower than these
            # (a trial read "16.0°, its mean held to 0.6-10°" beside a value of 10 as three
            # numbers for one thing)
            src["skyline"] = (
                f"the photo's skyline (its lower quartile at {raw:.1f}°), brought to "
                f"{skyline:.1f}°: a far skyline's mean lies within "
                f"{SKYLINE_MIN_DEG:g}-{SKYLINE_MAX_DEG:g}° (the skyline rises and falls about it)"
            )
        anchors = _edge_anchors(labels, known, lon, lat)
        if anchors:
            src["skyline"] += "; from the photo's own skyline at its side edges"
    else:
        skyline, var, rough = 2.0, 0.3, DEFAULT_ROUGH
        anchors = ()
        src["skyline"] = "default (the photo shows no skyline)"
    far, far_src = _far_field(labels, known)
    ground_tan = -EYE_HEIGHT / far
    src["ground"] = f"foot of the far field at {far:g} m ({far_src})"
    return Layout(
        False,
        ground_tan=ground_tan,
        skyline_deg=skyline,
        skyline_var=var,
        skyline_rough=float(np.clip(rough, 0.0, MAX_ROUGH)),
        sources=src,
        anchors=anchors,
    )


def _far_field(labels: np.ndarray, known: np.ndarray) -> tuple[float, str]:
    """Outdoors, how far the far field stands (m) and why: the world's own rule
    (`pano_layers.far_radius` of `pano_layers.distant_radius`, the distance at which the
    photo's distant upright things meet the ground, measured as the world measures it),
    so the far field's painted foot is where the geometry stands it; OUTDOOR_FAR when the
    photo shows too few such things. Drawn at 40 m while the world stood it at 60 m (the
    Sceaux castle 41 m off), the treeline's lowest band lay on the ground."""
    from generators.pano_layers import OUTDOOR_FAR, distant_radius, far_radius

    contact, _ = _world_contacts(labels, known)
    r = distant_radius(contact, known.any(0))
    if r is None:
        return OUTDOOR_FAR, "the default"
    far = far_radius(r, outdoor=True)
    return round(far, 2), f"twice the distance of the photo's distant upright things, {r:.0f} m"


def _edge_anchors(
    labels: np.ndarray, known: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> tuple[tuple[float, float], ...]:
    """The photo's skyline where its left and right edges cut it: ((longitude rad,
    elevation deg), ...), one per side edge that shows sky. Each edge is traced row by row
    (each row's outermost known pixel but one, where that runs down the side rather than
    along the top or bottom: a pitched photo's side edges are curves, its outermost
    columns only corners); its skyline lies at the lowest sky down it (a 5-row majority:
    no single stray pixel; a patch of glare in the sky called upright is no skyline: the
    first row below the top sky put the Sceaux 100_7104 photo's at 22° instead of 2°, a
    pillar of treeline beside it). Elevations above ANCHOR_MAX_DEG are held to it. None
    for a photo spanning more than half the sphere (a stitched band, a panorama: no side
    edges). A far skyline drawn at its own height right from the photo's edge stood as a
    wall of treeline beside the Sceaux photo's low right edge."""
    h, w = known.shape
    cols = np.nonzero(known.any(0))[0]
    rows = np.nonzero(known.any(1))[0]
    if not len(cols) or cols[-1] - cols[0] > w // 2 or len(rows) < 8:
        return ()
    kr = known[rows]
    first = np.argmax(kr, axis=1)
    last = w - 1 - np.argmax(kr[:, ::-1], axis=1)
    out = []
    for col in (np.minimum(first + 1, last), np.maximum(last - 1, first)):
        # the rows where the trace runs down the side, not along the curved top or bottom
        side = np.abs(np.gradient(col.astype(np.float32))) <= 1.0
        r, c = rows[side], col[side]
        sky = (labels[r, c] == SKY).astype(np.float32)
        sky = np.convolve(sky, np.ones(5) / 5, "same") > 0.5
        if len(r) < 8 or not sky.any():
            continue
        i = int(np.nonzero(sky)[0][-1])  # the lowest sky down the edge
        elev = float(np.degrees(lat[r[i]]))
        out.append((float(lon[c[i]]), min(elev, ANCHOR_MAX_DEG)))
    return tuple(out)


def _skyline_roughness(elev: np.ndarray, w: int) -> float:
    """Std-dev (degrees) of a skyline's elevations `elev` (one per column of a 2h = `w`
    column equirect grid, in order) about their running mean over SKYLINE_ROUGH_DEG: what
    jags it over a few degrees (crowns, roofs), not its slow rise and fall."""
    k = max(3, int(round(SKYLINE_ROUGH_DEG / 360.0 * w)) | 1)
    if len(elev) < 2 * k:
        return DEFAULT_ROUGH * float(np.mean(elev)) if len(elev) else 0.0
    # a 3-column median first: the class map's one-pixel jitter along a straight skyline
    # is no roughness
    elev = np.median(np.stack([elev[:-2], elev[1:-1], elev[2:]]), 0)
    mean = np.convolve(elev, np.ones(k) / k, "valid")
    return float(np.std(elev[k // 2 : k // 2 + len(mean)] - mean))


def _world_contacts(labels: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photo's ground contacts as the world's geometry measures them
    (`pano_layers.ground_contacts` out to CONTACT_FAR, (w,) m and (w,) bool seen), on the
    class map `labels` (h, w) of the `known` (h, w) bool pixels, with the ground running on
    below the photo as the outpainting paints it."""
    from generators.pano_layers import CONTACT_FAR, ground_contacts

    h = labels.shape[0]
    below = (np.arange(h) >= h // 2)[:, None] & ~known
    labels = np.where(below, GROUND, labels).astype(np.uint8)
    return ground_contacts(labels, EYE_HEIGHT, CONTACT_FAR, known.astype(np.float32))


def _geometry_radius(labels: np.ndarray, known: np.ndarray) -> tuple[float | None, float | None]:
    """(the wall radius the world's geometry measures on this class map (as
    `pano_world.scene_layers`: the median ground contact the photo shows), and the
    distance along the photo's view (−Z) of the far fifth (WALL_PERCENTILE) of the contacts
    in its columns within 60° of it: the wall it faces, behind the furniture before it),
    each m or None. At their median, the box's front wall stood 0.45 m before the office
    photo's back wall, whose region then sat in a niche: stepping aside, the invented
    wall beside it hid half the photo."""
    from generators.pano_layers import radius_from_contacts

    h, w = labels.shape
    contact, seen = _world_contacts(labels, known)
    cols = known.any(0)
    r = radius_from_contacts(contact, seen & cols)
    # the front wall where the geometry stands the photo's walls: every photo column's
    # contact, a hidden one (its foot behind furniture) at the nearest the photo allows
    lon, _ = pano_lonlat(h, w)
    ahead = cols & (np.cos(lon) > 0.5)
    front = (
        float(np.percentile(contact[ahead] * np.cos(lon[ahead]), 100.0 - WALL_PERCENTILE))
        if ahead.sum() >= 8
        else None
    )
    return (None if r is None else float(np.clip(r, 1.5, 40.0))), front


def layout_classes(layout: Layout, h: int, *, seed: int = 0) -> np.ndarray:
    """Class of every pixel of an (h, 2h) equirect grid under the layout, uint8.

    Indoors GROUND / UPRIGHT / CEILING, outdoors GROUND / UPRIGHT / SKY. The outdoor
    skyline varies with longitude as a sum of sinusoids with whole periods around the
    circle (so it wraps at ±180°) and seeded phases; at each of `layout.anchors` (the
    photo's side edges) it starts at the photo's own skyline there and reaches its own
    over ANCHOR_REACH_DEG.
    """
    w = 2 * h
    lon, lat = pano_lonlat(h, w)
    tl = np.tan(np.clip(lat, -1.55, 1.55))[:, None]
    out = np.full((h, w), UPRIGHT, np.uint8)
    if layout.indoor:
        m = layout.wall_factor(lon)[None, :]
        out[tl < -layout.floor_tan * m] = GROUND  # (h, w) via broadcasting
        out[tl > layout.ceiling_tan * m] = CEILING
        return out
    rng = np.random.default_rng(seed)
    prof = np.zeros(w)
    for k in range(3, 19):
        prof += rng.standard_normal() / k * np.cos(k * lon + rng.uniform(0, 2 * math.pi))
    prof /= max(float(np.abs(prof).max()), 1e-6)
    sky_deg = layout.skyline_deg * (1.0 + layout.skyline_var * prof)
    a = np.zeros(w)  # how much the photo's edge holds the skyline (1 at the edge)
    if layout.anchors:
        # the far skyline starts where the photo's edge cuts its own skyline and reaches
        # its own height within ANCHOR_REACH_DEG (nearest edge first)
        near = np.full(w, np.inf)
        at = np.zeros(w)
        for a_lon, a_deg in layout.anchors:
            d = np.abs((lon - a_lon + math.pi) % (2 * math.pi) - math.pi)
            closer = d < near
            near = np.where(closer, d, near)
            at = np.where(closer, a_deg, at)
        t = np.clip(np.degrees(near) / ANCHOR_REACH_DEG, 0.0, 1.0)
        a = 1.0 - t * t * (3.0 - 2.0 * t)
        sky_deg = sky_deg * (1.0 - a) + at * a
    if layout.skyline_rough > 0:
        # 1/f roughness down to a few columns (its own generator: the slow waves above stay
        # the same at every roughness); unit std-dev, scaled to the photo's
        fine = np.random.default_rng(seed + 1)
        jag = np.zeros(w)
        beta = 1.0 if layout.treeline else RELIEF_SPECTRUM
        for k in range(19, max(20, w // 6)):
            jag += fine.standard_normal() / k**beta * np.cos(k * lon + fine.uniform(0, 2 * math.pi))
        jag /= max(float(jag.std()), 1e-9)
        sky_deg = sky_deg + layout.skyline_deg * layout.skyline_rough * jag * (1.0 - a)
    sky_tan = np.tan(np.radians(np.maximum(sky_deg, 0.2)))[None, :]
    out[np.broadcast_to(tl < layout.ground_tan, (h, w))] = GROUND
    out[tl > sky_tan] = SKY
    return out


#: a box room's corners and the lines where its walls meet floor and ceiling are darker,
#: as a real room's are (less of the room's light reaches them: ambient occlusion). Each
#: such edge takes up to OCCLUSION of the light, fading over OCCLUSION_REACH_M from it
OCCLUSION = 0.09
OCCLUSION_REACH_M = 0.35


def box_occlusion(layout: Layout, h: int) -> np.ndarray:
    """How much light (h, 2h) float32, 1 - OCCLUSION·Σ exp(−d / OCCLUSION_REACH_M) over
    the box room's edges near each pixel's surface point (d its distance from the edge, in
    metres at the eye height EYE_HEIGHT): on the walls, their corners and the floor and
    ceiling lines; 1 on the floor and ceiling (the creases stay sharp lines) and everywhere
    outdoors. Without it the invented room was flat colour planes meeting at hairlines,
    which read as fog more than as a room (the office world turned round)."""
    w = 2 * h
    if not layout.indoor or layout.floor_tan <= 0 or layout.ceiling_tan <= 0:
        return np.ones((h, w), np.float32)
    lon, lat = pano_lonlat(h, w)
    lon, lat = np.meshgrid(lon, lat)
    t = np.tan(np.clip(lat, -1.55, 1.55))
    d = 1.0 / np.maximum(layout.wall_factor(lon), 1e-6)  # the walls' distance, R = 1
    u = t * d  # height above the eye where the ray meets the walls
    floor, ceil = layout.floor_tan, layout.ceiling_tan
    r = np.where(
        u < -floor, floor / np.maximum(-t, 1e-6), np.where(u > ceil, ceil / np.maximum(t, 1e-6), d)
    )
    y = np.clip(u, -floor, ceil)
    x, z = r * np.sin(lon), -r * np.cos(lon)  # 0 = the photo's view, −Z
    planes = np.sort(np.stack([1.0 - np.abs(x), z + layout.front, 1.0 - z]), axis=0)
    on_wall = (u >= -floor) & (u <= ceil)
    reach = OCCLUSION_REACH_M * floor / EYE_HEIGHT  # metres in units of R (eye = floor · R)
    edges = np.exp(-np.maximum(planes[1], 0) / reach)  # the corner, along the wall
    edges += np.exp(-(y + floor) / reach) + np.exp(-(ceil - y) / reach)
    # on the walls only: the floor and ceiling keep their colour up to the crease, which
    # stays a sharp line
    return np.where(
        on_wall, np.clip(1.0 - OCCLUSION * edges, 1.0 - 2.5 * OCCLUSION, 1.0), 1.0
    ).astype(np.float32)
