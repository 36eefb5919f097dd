"""Similarity transforms: Umeyama alignment and COLMAP-frame -> Wander-frame conversion."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scene.camera import Camera, level_up_from_rotations


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity with dst ≈ s R src + t; src, dst (N, 3), N >= 3.

    Returns (s, R (3, 3), t (3,)).
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 3 or len(src) < 3:
        raise ValueError(f"umeyama needs two (N>=3, 3) arrays; got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    sgn = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sgn[2, 2] = -1
    r = u @ sgn @ vt
    var_s = (xs**2).sum() / len(src)
    s = float(np.trace(np.diag(d) @ sgn) / max(var_s, 1e-300))
    t = mu_d - s * r @ mu_s
    return s, r, t


def similarity(s: float, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """4×4 matrix of x -> s R x + t."""
    m = np.eye(4)
    m[:3, :3] = s * np.asarray(r)
    m[:3, 3] = t
    return m


def transform_camera(cam: Camera, s: float, r: np.ndarray, t: np.ndarray) -> Camera:
    """The same camera in a frame where world points map x' = s R x + t."""
    r_new = cam.R @ r.T
    c_new = s * r @ cam.position + t
    out = Camera(
        cam.width,
        cam.height,
        cam.fx,
        cam.fy,
        cam.cx,
        cam.cy,
        r_new,
        -r_new @ c_new,
        cam.name,
        dict(cam.meta),
    )
    return out


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit vector a to unit vector b, (3, 3)."""
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(a @ b)
    if c < -1 + 1e-9:  # opposite: rotate 180° about any perpendicular axis
        p = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
        p /= np.linalg.norm(p)
        return 2 * np.outer(p, p) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


#: the cameras count as held level when the mean squared sine of their x axes' angle out of
#: the plane normal to the level up is at most this (about 10 degrees RMS): Sceaux 0.0004,
#: the Great Wall drone 5e-8; a tabletop orbit shot from above with the camera turned every
#: way (alicevision's Buddha set) 0.25
LEVEL_RESIDUAL = 0.03
#: ... and portrait and landscape photos mixed, when each camera's x or y axis fits within
#: this (about 4.5 degrees RMS; a quarter-turned Sceaux or Great Wall fits within 0.0004,
#: a tabletop orbit turned every way only at 0.025 and more, by chance)
QUARTER_RESIDUAL = 0.006
#: a rolled orbit's table is looked for within this of the orbit's axis
TABLE_TILT_DEG = 30.0
#: the table's RANSAC tolerance, as a share of the orbit radius
TABLE_TOL = 0.01


@dataclass
class UpEstimate:
    """World up of a capture and where it came from.

    up: unit (3,) in the cameras' frame; source: "level" (the cameras held level),
    "table" (the plane an orbited object stands on) or "orbit" (the axis of an orbit
    looking down); roll_deg: RMS angle of the cameras' x axes out of the plane normal to
    the level up (0 for a level capture); detail: one line for the report.
    """

    up: np.ndarray
    source: str
    roll_deg: float
    detail: str


def orbit_axis(centres: np.ndarray, forwards: np.ndarray) -> np.ndarray:
    """Up of an orbit that looks down at its subject (unit (3,)): the normal of the plane
    through the camera centres when they lie on a ring (smallest spread under 0.3 of the
    middle one), else the negated mean viewing direction; signed against that direction."""
    f = np.asarray(forwards, np.float64).reshape(-1, 3)
    down = f.mean(0)
    axis = -down / max(float(np.linalg.norm(down)), 1e-12)
    c = np.asarray(centres, np.float64).reshape(-1, 3)
    if len(c) >= 3:
        _, s, vt = np.linalg.svd(c - c.mean(0), full_matrices=False)
        if s[2] < 0.3 * s[1]:
            n = vt[2]
            axis = n if n @ axis >= 0 else -n
    return axis


def quarter_turned_up(cams: list[Camera]) -> tuple[np.ndarray, int] | None:
    """Up of cameras held level but some turned a quarter (portrait and landscape photos
    without EXIF orientation): unit (3,) normal to each camera's x or y axis, whichever
    fits, and how many photos were on their side; None unless it fits every camera within
    `QUARTER_RESIDUAL` (mean squared sine) and at least a third of them are upright
    (landscape: their -y gives the sign; with fewer, upside down and sideways cannot be
    told apart), and most of them look within 45 degrees of level (cameras that all look
    along one axis have x and y normal to it whichever way they are turned). Candidates:
    the normals of every pair of cameras' x or y axes."""
    xs = np.array([c.R[0] for c in cams], np.float64)
    ys = np.array([c.R[1] for c in cams], np.float64)
    zs = np.array([c.R[2] for c in cams], np.float64)
    axes = np.stack([xs, ys], 1)  # (M, 2, 3): x or y is the horizontal axis
    ii, jj = np.triu_indices(len(cams), 1)
    a = axes[ii][:, :, None, :]  # (P, 2, 1, 3)
    b = axes[jj][:, None, :, :]  # (P, 1, 2, 3)
    u = np.cross(a, b).reshape(-1, 3)  # every pair's four choices
    nu = np.linalg.norm(u, axis=1)
    u = u[nu >= 0.3] / nu[nu >= 0.3, None]  # nearly parallel axes leave the normal loose
    # cameras looking along u have x and y both normal to it, turned any way: most photos
    # look within 45 degrees of level
    u = u[np.median(np.abs(u @ zs.T), axis=1) <= 0.7]
    if not len(u):
        return None
    cost = np.mean(np.minimum((u @ xs.T) ** 2, (u @ ys.T) ** 2), axis=1)
    k = int(np.argmin(cost))
    if cost[k] > QUARTER_RESIDUAL:
        return None
    u = u[k]
    upright = (xs @ u) ** 2 <= (ys @ u) ** 2  # x horizontal: landscape, upright or upside down
    if upright.sum() * 3 < len(cams):
        return None
    if float(np.sum(-ys[upright] @ u)) < 0:
        u = -u
    # refine: normal to the chosen horizontal axes
    h = np.where(upright[:, None], xs, ys)
    _, vecs = np.linalg.eigh(h.T @ h)
    v = vecs[:, 0] if vecs[:, 0] @ u >= 0 else -vecs[:, 0]
    return v, int((~upright).sum())


def estimate_up_detail(cams: list[Camera], points: np.ndarray | None = None) -> UpEstimate:
    """World up of a capture from its cameras (and its sparse points, when the cameras were
    not held level).

    Cameras held level (`scene.camera.level_up_from_rotations`: up is normal to every
    camera's x axis) give it when their x axes lie within `QUARTER_RESIDUAL` of that plane;
    otherwise portrait and landscape photos without EXIF orientation (`quarter_turned_up`:
    normal to each camera's x or y axis) when they fit, else the level plane within
    `LEVEL_RESIDUAL` (mean squared sine, ~10 degrees RMS). A camera pointed down at a
    tabletop is turned every way (a phone's orientation sensor cannot tell which way is up
    there either), so for an orbit of rolled cameras (optical axes meeting at one centre,
    `ray_convergence`, the cameras within 60 degrees of its axis above the centre) up is
    the normal of the plane its subject stands on: a RANSAC plane
    among `points` (N, 3) below every camera within `TABLE_TILT_DEG` of the orbit's axis
    (`orbit_axis`; `ground.fit_ground_plane`), else that axis. Rolled cameras that do not
    orbit keep the level estimate, said to be doubtful in `detail`.
    """
    level = level_up_from_rotations([c.R for c in cams])
    xs = np.array([c.R[0] for c in cams], np.float64)
    resid = float(np.mean((xs @ level) ** 2))
    roll = float(np.degrees(np.arcsin(min(1.0, np.sqrt(resid)))))
    if resid <= QUARTER_RESIDUAL or len(cams) < 4:
        return UpEstimate(level, "level", roll, _level_detail(xs))
    # photos turned on their side fit better than a rougher level (cameras that all look
    # one way have x axes in one plane however they are turned)
    turned = quarter_turned_up(cams)
    if turned is not None:
        up, n_turned = turned
        return UpEstimate(
            up,
            "level",
            roll,
            f"the cameras held level, {n_turned} of {len(cams)} photos turned on their side "
            "(no EXIF orientation said so)",
        )
    if resid <= LEVEL_RESIDUAL:
        return UpEstimate(level, "level", roll, _level_detail(xs))
    centres = np.array([c.position for c in cams])
    forwards = np.array([c.forward for c in cams])
    conv = ray_convergence(centres, forwards)
    axis = orbit_axis(centres, forwards)
    # an orbit of rolled cameras looks down at its subject from above: the cameras stand
    # within 60 degrees of the axis above the centre (a facade photographed from an arc,
    # looking up at it, converges too, but from the side)
    if conv is not None:
        rise = centres.mean(0) - conv[0]
        above = float(rise @ axis) > np.cos(np.radians(60.0)) * float(np.linalg.norm(rise))
    if conv is None or conv[1] > 0.2 or not above:
        return UpEstimate(
            level,
            "level",
            roll,
            f"the cameras held level, though they roll {roll:.0f} degrees RMS from it "
            "(doubtful: --capture orbit for an object shot from all sides)",
        )
    pts = np.asarray(points, np.float64).reshape(-1, 3) if points is not None else np.zeros((0, 3))
    from .ground import fit_ground_plane

    radius = float(np.median(np.linalg.norm(centres - conv[0], axis=1)))
    table = fit_ground_plane(
        pts,
        axis,
        centres,
        tol=TABLE_TOL * radius,
        max_tilt_deg=TABLE_TILT_DEG,
        iters=1000,
        min_points=20,
        min_support=0.02,
    )
    why = f"the cameras roll {roll:.0f} degrees RMS, so are not held level"
    if table is not None:
        return UpEstimate(
            table.normal,
            "table",
            roll,
            f"the plane the orbited object stands on ({table.inliers} points; {why})",
        )
    return UpEstimate(axis, "orbit", roll, f"the axis of the orbit ({why}; no table found)")


#: cameras whose x axes spread less than this (second eigenvalue of their scatter, as
#: `level_up_from_rotations` tells a plane from one direction) all face one way
ONE_HEADING = 0.02


def _level_detail(xs: np.ndarray) -> str:
    """The report's line for an up from cameras held level, `xs` (M, 3) their x axes.
    Cameras that all face one way leave their pitch open: up is then their mean up, so a
    drone's four frames looking down 20 degrees came out level, a walk at eye height, and
    nothing said it was a guess (a trial)."""
    spread = np.linalg.eigvalsh(xs.T @ xs / max(len(xs), 1))[1]
    if spread > ONE_HEADING:
        return "the cameras held level"
    return (
        "the cameras held level, looking level: they all face one way, which leaves "
        "their pitch open (doubtful for a view from above: --capture aerial)"
    )


def estimate_up(cams: list[Camera], points: np.ndarray | None = None) -> np.ndarray:
    """World up of a capture, unit (3,): `estimate_up_detail(cams, points).up`."""
    return estimate_up_detail(cams, points).up


def wander_frame(
    cams: list[Camera],
    points: np.ndarray,
    target_depth: float = 2.0,
    up: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity from COLMAP's arbitrary frame to Wander's: +Y along `up` (default
    `estimate_up(cams, points)`), scaled so the median camera-to-point distance is
    `target_depth`, and the cameras' centroid at the origin. Returns (s, R, t)."""
    up = estimate_up(cams, points) if up is None else np.asarray(up, np.float64)
    r = rotation_between(up, np.array([0.0, 1.0, 0.0]))
    # yaw: make the mean viewing direction look along -Z (the viewer's default forward)
    fwd = r @ np.mean([c.forward for c in cams], axis=0)
    fwd[1] = 0.0
    if np.linalg.norm(fwd) > 1e-6:
        fwd /= np.linalg.norm(fwd)
        yaw = np.arctan2(-fwd[0], -fwd[2])
        cy, sy = np.cos(-yaw), np.sin(-yaw)
        r = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ r
    dists = []
    for c in cams:
        _, z = c.project(points) if len(points) else (None, np.zeros(0))
        z = z[z > 0]
        if len(z):
            dists.append(np.median(z))
    med = float(np.median(dists)) if dists else 1.0
    s = target_depth / max(med, 1e-12)
    centre = np.mean([c.position for c in cams], axis=0)
    t = -s * r @ centre
    return s, r, t


def align_cameras(src: list[Camera], dst: list[Camera]) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) taking cameras `src` onto `dst` (same order), fitted on the
    camera centres and on points one scene-size along each camera axis, so both
    positions and orientations constrain it (centres alone leave a near-linear path's
    roll free)."""
    cs = np.array([c.position for c in src])
    cd = np.array([c.position for c in dst])
    ls = max(float(np.linalg.norm(cs - cs.mean(0), axis=1).mean()), 1e-9)
    ld = max(float(np.linalg.norm(cd - cd.mean(0), axis=1).mean()), 1e-9)
    ps, pd = [cs], [cd]
    for k in range(3):
        ps.append(cs + ls * np.array([c.R[k] for c in src]))
        pd.append(cd + ld * np.array([c.R[k] for c in dst]))
    return umeyama(np.concatenate(ps), np.concatenate(pd))


def rotation_error_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the rotation a bᵀ in degrees."""
    c = (np.trace(np.asarray(a) @ np.asarray(b).T) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def floor_level(
    points: np.ndarray, normals: np.ndarray, cam_heights: np.ndarray, min_fraction: float = 0.03
) -> float | None:
    """Height of the floor in a +Y-up frame, or None when there is no clear one.

    The floor is the lowest well-populated height among points on horizontal surfaces
    (|normal·Y| > 0.85) that lie below every camera.
    """
    if len(points) == 0:
        return None
    horiz = np.abs(normals[:, 1]) > 0.85
    below = points[:, 1] < float(np.min(cam_heights))
    y = points[horiz & below, 1]
    if len(y) < max(50, min_fraction * len(points)):
        return None
    span = float(np.min(cam_heights) - np.percentile(y, 1))
    if span <= 0:
        return None
    hist, edges = np.histogram(y, bins=50)
    need = max(min_fraction * len(points) / 5, 0.2 * hist.max())
    for i, hcount in enumerate(hist):
        if hcount >= need:
            w = edges[1] - edges[0]
            sel = y[(y >= edges[i] - 2 * w) & (y <= edges[i + 1] + 2 * w)]
            return float(np.median(sel))
    return None


# ------------------------------------------------------------ capture type and scale
#: capture types `classify_capture` tells apart
CAPTURE_TYPES = ("walk", "orbit", "aerial")
#: the viewer's navigation mode a capture type opens in (World.meta['start_mode']): an
#: object photographed all round is orbited; an aerial capture flies at its first camera
#: (walking would drop the view 30 m to the ground, or onto a floater under the camera);
#: a walk starts where the ground under the first camera says
START_MODES = {"orbit": "orbit", "aerial": "fly"}


@dataclass
class Capture:
    """What kind of capture a camera layout is, and the evidence.

    kind: "orbit" (cameras around an object, looking in at a common centre from a
    roughly constant distance), "aerial" (cameras high above the scene looking down:
    a drone) or "walk" (a person walking through, eye height); centre: the orbit
    centre (3,) in the input frame, or None; evidence: the measured numbers.
    """

    kind: str
    reason: str
    centre: np.ndarray | None = None
    evidence: dict[str, float] = field(default_factory=dict)


def ray_convergence(
    centres: np.ndarray, forwards: np.ndarray
) -> tuple[np.ndarray, float, float] | None:
    """Least-squares point nearest to every optical axis (rays c_i + λ d_i).

    Returns (point (3,), median perpendicular distance / distance along the ray,
    smallest eigenvalue of the normalised normal matrix, 0 when the rays are parallel)
    or None for fewer than 3 cameras. The point minimises Σ |(I − d dᵀ)(p − c)|².
    """
    c = np.asarray(centres, np.float64).reshape(-1, 3)
    d = np.asarray(forwards, np.float64).reshape(-1, 3)
    if len(c) < 3:
        return None
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    proj = np.eye(3)[None] - d[:, :, None] * d[:, None, :]  # (N, 3, 3)
    a = proj.sum(0) / len(c)
    b = np.einsum("nij,nj->i", proj, c) / len(c)
    evals = np.linalg.eigvalsh(a)
    if evals[0] < 1e-6:
        return None
    p = np.linalg.solve(a, b)
    along = np.einsum("ni,ni->n", p - c, d)
    perp = np.linalg.norm(np.einsum("nij,nj->ni", proj, p - c), axis=1)
    ratio = (
        float(np.median(perp / np.maximum(np.abs(along), 1e-12))) if (along > 0).all() else np.inf
    )
    return p, ratio, float(evals[0])


def azimuth_span_deg(centres: np.ndarray, centre: np.ndarray) -> float:
    """Angle (degrees, 0..360) the cameras cover around `centre` seen from +Y above:
    360 minus the largest gap between their azimuths."""
    v = np.asarray(centres, np.float64) - np.asarray(centre, np.float64)
    az = np.sort(np.degrees(np.arctan2(v[:, 2], v[:, 0])))
    if len(az) < 2:
        return 0.0
    gaps = np.diff(np.concatenate([az, az[:1] + 360.0]))
    return float(360.0 - gaps.max())


def subject_distance(
    cams: list[Camera], points: np.ndarray, max_points: int = 4000
) -> float | None:
    """How far the photos were taken from what they show (scene units): over the
    cameras, the median of each camera's median depth of the sparse points inside its
    frame (z > 0). None when no camera has at least 8 such points.

    The viewer paces walking by it (`viewer.navigation.SUBJECT_CROSS_S`): a capture of
    unknown scale is placed with this distance at 2 units, and the 2.5 m/s walk
    crossed a fox figurine's 2 units to the wallpaper in under a second (a trial)."""
    from .sky_dome import in_frame

    pts = np.asarray(points, np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(1)]
    if not len(pts):
        return None
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(0).choice(len(pts), max_points, replace=False)]
    per_cam = []
    for c in cams:
        uv, z = c.project(pts)
        inside = in_frame(c, uv, z)
        if int(inside.sum()) >= 8:
            per_cam.append(float(np.median(z[inside])))
    return float(np.median(per_cam)) if per_cam else None


def classify_capture(cams: list[Camera], points: np.ndarray) -> Capture:
    """Tell an object orbit, an aerial capture and a walk-through apart from the camera
    layout and the sparse/dense points, in a +Y-up frame (any scale).

    - orbit: ≥ 4 cameras looking down on their subject (mean pitch ≤ −10°: an object on
      a table or the floor; a subject seen level or from below, like a facade or a
      person, is at human scale and stays a walk) whose optical axes meet near one point
      in front of all of them (median miss ≤ 0.2 of the distance), at a roughly constant
      distance (spread ≤ 30 %), either all around it (≥ 120° of azimuth) or around a
      compact subject (the median point lies within 0.3 orbit radii of the centre);
    - aerial: otherwise, cameras looking down (mean pitch ≤ −12°) and above ≥ 95 % of the
      points;
    - walk: anything else.
    The thresholds are judgement calls checked on synthetic layouts and the shared real
    sets (a drone along the Great Wall: parallel axes pitched −20°, every point below;
    the Sceaux castle facade: axes meeting at the facade over 68°, pitched +9°). Scale
    cannot tell a drone circling a house from a phone circling a toy: both look down at
    a common centre and are taken for an object orbit (`--capture aerial` overrides).
    """
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    c = np.array([cam.position for cam in cams])
    f = np.array([cam.forward for cam in cams])
    pitch = np.degrees(np.arcsin(np.clip(f[:, 1], -1.0, 1.0)))
    ev: dict[str, float] = {"cameras": float(len(cams)), "mean_pitch_deg": float(pitch.mean())}
    conv = ray_convergence(c, f) if len(cams) >= 4 else None
    if conv is not None:
        p, miss, _ = conv
        dist = np.linalg.norm(c - p, axis=1)
        spread = float(dist.std() / max(dist.mean(), 1e-12))
        span = azimuth_span_deg(c, p)
        compact = (
            float(np.median(np.linalg.norm(pts - p, axis=1)) / dist.mean()) if len(pts) else np.inf
        )
        ev.update(
            {
                "axes_miss": miss,
                "distance_spread": spread,
                "azimuth_span_deg": span,
                "median_point_distance_over_radius": compact,
            }
        )
        if (
            pitch.mean() <= -10.0
            and miss <= 0.2
            and spread <= 0.3
            and (span >= 120.0 or compact <= 0.3)
        ):
            why = (
                f"{len(cams)} cameras look in at one centre from about the same distance "
                f"(±{100 * spread:.0f} %) over {span:.0f}° around it"
            )
            return Capture("orbit", why, p, ev)
    if len(pts):
        below = float(np.mean(pts[:, 1] < c[:, 1].min()))
        ev["points_below_cameras"] = below
        if pitch.mean() <= -12.0 and below >= 0.95:
            return Capture(
                "aerial",
                f"cameras look down ({pitch.mean():.0f}° on average) and "
                f"{100 * below:.0f}% of the scene lies below them",
                None,
                ev,
            )
    return Capture("walk", "neither an orbit around an object nor a view from above", None, ev)


def capture_kind(cams: list[Camera], points: np.ndarray, up: np.ndarray) -> str:
    """`classify_capture`'s kind for cameras and points (N, 3) in any frame whose world up
    is `up` (unit (3,)), e.g. COLMAP's before the frame is levelled."""
    r = rotation_between(np.asarray(up, np.float64), np.array([0.0, 1.0, 0.0]))
    level = [transform_camera(c, 1.0, r, np.zeros(3)) for c in cams]
    pts = np.asarray(points, np.float64).reshape(-1, 3) @ r.T
    return classify_capture(level, pts).kind


def place_capture(
    cams: list[Camera],
    points: np.ndarray,
    normals: np.ndarray,
    *,
    kind: str = "auto",
    kind_source: str = "given",
    eye_height: float = 1.5,
    orbit_radius: float = 0.6,
    aerial_height: float = 30.0,
) -> tuple[float, np.ndarray, dict[str, Any]]:
    """Scale and offset (k, o) for a +Y-up frame (x' = k x + o) by capture type.

    cams, points (N, 3), normals (N, 3) are in the +Y-up frame already (any scale).
    - walk: a floor below the cameras (`floor_level`) goes to y = 0 with the cameras at
      `eye_height` m; without a floor the scale is kept;
    - orbit: the orbit radius becomes `orbit_radius` m (a hand-held object capture), the
      orbit centre goes to x = z = 0 and a support plane below it (a table) to y = 0,
      else the centre to y = 0;
    - aerial: the cameras' median height above the ground (the floor, else the median
      point height) becomes `aerial_height` m, the ground y = 0.
    kind "auto" detects the type (`classify_capture`); a kind decided elsewhere is taken as
    it is, and where the points here tell another the reason says so, `kind_source` saying
    where the kind came from (the reconstruction decides it once, from the points fusion
    agreed on, before its fills: the filled points here may tell a borderline layout
    otherwise). Returns (k, o (3,), info) with
    info = {"type", "reason", "scale", "evidence"} for the report; the scale is an
    assumption, stated in "scale". Raises ValueError for an unknown kind.
    """
    if kind not in ("auto", *CAPTURE_TYPES):
        raise ValueError(f"capture type must be auto, {', '.join(CAPTURE_TYPES)}; got {kind!r}")
    cap = classify_capture(cams, points)
    if kind != "auto" and kind != cap.kind:
        cap = Capture(
            kind,
            f"{kind_source} (these points alone: {cap.kind})",
            cap.centre if kind == "orbit" else None,
            cap.evidence,
        )
        if kind == "orbit" and cap.centre is None:
            conv = ray_convergence(
                np.array([c.position for c in cams]), np.array([c.forward for c in cams])
            )
            cap.centre = (
                conv[0] if conv is not None else np.mean([c.position for c in cams], axis=0)
            )
    cam_y = np.array([c.position[1] for c in cams])
    k, o = 1.0, np.zeros(3)
    level_ground = False  # a walk's floor, an aerial capture's ground plane or an orbited
    # object's table is at y = 0
    scale = "unknown: median camera-to-scene distance 2 units (no floor found)"
    if cap.kind == "orbit":
        ctr = np.asarray(cap.centre, np.float64)
        radius = float(np.median([np.linalg.norm(c.position - ctr) for c in cams]))
        k = orbit_radius / max(radius, 1e-12)
        table = floor_level(points, normals, np.array([ctr[1]])) if len(points) else None
        base = table if table is not None else ctr[1]
        o = -k * np.array([ctr[0], base, ctr[2]])
        level_ground = table is not None  # the table top is the ground at y = 0
        scale = f"assumed: cameras {orbit_radius:g} m from the object (hand-held orbit); " + (
            "the table it stands on at y = 0" if table is not None else "its centre at y = 0"
        )
    elif cap.kind == "aerial":
        ground = floor_level(points, normals, cam_y) if len(points) else None
        gsrc = "a level ground plane"
        if ground is None and len(points):
            ground, gsrc = float(np.median(points[:, 1])), "the median height of the scene"
        h = float(np.median(cam_y) - ground) if ground is not None else 0.0
        if h > 0:
            k = aerial_height / h
            o = np.array([0.0, -k * ground, 0.0])
            scale = f"assumed: cameras {aerial_height:g} m above the ground ({gsrc}) at y = 0"
            level_ground = gsrc == "a level ground plane"
    else:
        floor = floor_level(points, normals, cam_y) if len(points) else None
        if floor is not None and eye_height > 0:
            k = eye_height / max(float(np.median(cam_y)) - floor, 1e-9)
            o = np.array([0.0, -k * floor, 0.0])
            scale = f"assumed: cameras at eye height {eye_height:g} m above the floor at y = 0"
            level_ground = True
    info = {
        "type": cap.kind,
        "ground_at_zero": level_ground,
        "reason": cap.reason,
        "scale": scale,
        "units": "metres (assumed)" if k != 1.0 else "unknown",
        "evidence": {n: round(float(v), 4) for n, v in cap.evidence.items()},
    }
    return k, o, info
