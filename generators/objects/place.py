"""Placing objects in a World: ray picking against splats and meshes, and the undoable edits.

Everything here is numpy on scene objects (no Qt): the app's keys and menus call these
functions, and every change goes through `World.execute` so Ctrl+Z / Ctrl+Y work.
"Up", "the ground", "down" and "yaw" follow the world's up axis (`World.up_axis`, the
frame of `scene.up_axis`): in a Z-up scene objects stand along Z, drop along −Z and turn
about Z. Objects are made with +Y up, their base centre at the origin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from scene.commands import AddLayer, Batch, SetTransform  # noqa: F401 - Batch moved here
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh, ray_triangles
from scene.rotations import decompose_similarity, quats_to_matrices
from scene.up_axis import ground_axes, heights, upright_rotation, world_up, yaw_towards
from scene.world import Layer, World, similarity_matrix


@dataclass
class Hit:
    """First opaque surface along a ray."""

    point: np.ndarray  # (3,) world
    distance: float  # along the unit ray
    layer_id: int
    normal: np.ndarray  # (3,) world, unit (best guess for splats)
    #: the normal means something: a triangle, or a flat splat (its thinnest axis under half
    #: its largest); a round splat's thinnest axis is any axis
    oriented: bool = True


def pick_surface(
    world: World,
    origin: np.ndarray,
    direction: np.ndarray,
    *,
    exclude: Iterable[int] = (),
    min_distance: float = 1e-3,
    max_distance: float = 1e6,
    widen: float = 0.0,
) -> Hit | None:
    """The first opaque splat or mesh triangle hit by the ray, over all visible layers
    (a reconstruction's photo-camera frusta are guides, not surfaces: never hit).
    `widen` (world units): a ray of that thickness (each splat's scales grown by it in
    quadrature), so gaps narrower than about twice it between splats are no way through."""
    from scene.mesh import is_camera_frusta

    o = np.asarray(origin, np.float64).reshape(3)
    d = np.asarray(direction, np.float64).reshape(3)
    nd = np.linalg.norm(d)
    if not np.isfinite(nd) or nd < 1e-12 or not np.isfinite(o).all():
        raise ValueError("pick ray needs a finite origin and a non-zero direction")
    d = d / nd
    skip = set(exclude)
    best: Hit | None = None
    for lay in world.visible_layers():
        if lay.id in skip or is_camera_frusta(lay):
            continue
        s, r, t = decompose_similarity(lay.transform)
        lo_ = (r.T @ (o - t)) / s  # ray in the layer's own frame
        ld = r.T @ d
        if isinstance(lay.data, GaussianCloud):
            found = _pick_splats(lay.data, lo_, ld, widen=widen / s)
        elif isinstance(lay.data, Mesh):
            found = _pick_mesh(lay.data, lo_, ld)
        else:
            continue
        if found is None:
            continue
        tl, nl, oriented = found
        dist = tl * s
        if not (min_distance <= dist <= max_distance):
            continue
        if best is None or dist < best.distance:
            n = r @ nl
            n /= max(np.linalg.norm(n), 1e-12)
            if n @ d > 0:
                n = -n
            best = Hit(o + dist * d, float(dist), lay.id, n, oriented)
    return best


def _pick_splats(
    cloud: GaussianCloud, o: np.ndarray, d: np.ndarray, threshold: float = 0.5, widen: float = 0.0
) -> tuple[float, np.ndarray, bool] | None:
    """(depth where accumulated opacity along the ray first reaches `threshold`, that
    splat's thinnest axis as the normal, whether it is flat enough for that to mean
    anything), splats' scales grown by `widen` in quadrature (a thick ray)."""
    if len(cloud) == 0:
        return None
    # the candidates near the ray: in float32, one pass over the cloud and no (N, 3)
    # float64 copies, and the largest log-scale by columns (numpy's max over a short last
    # axis took 35 ms at 970k splats: 76 ms a pick, 12 picks when an object is inserted
    # out of sight, and the app froze for a second); a margin covers float32's rounding
    o32 = np.asarray(o, np.float32)
    d32 = np.asarray(d, np.float32)
    rel = cloud.means - o32
    tc = rel @ d32  # (N,) depth of closest approach
    q = np.einsum("ij,ij->i", rel, rel)
    r2 = q - tc * tc
    sc = cloud.scales
    smax = np.maximum(np.maximum(sc[:, 0], sc[:, 1]), sc[:, 2])
    big = np.exp(2.0 * smax) + np.float32(widen * widen)  # the largest sigma², widened
    cand = np.nonzero((tc > 0) & (r2 < 9.0 * big + 1e-6 * q))[0]
    if cand.size == 0:
        return None
    mu = cloud.means[cand].astype(np.float64)  # (M, 3)
    sig = np.exp(cloud.scales[cand].astype(np.float64))
    if widen > 0:
        sig = np.sqrt(sig * sig + widen * widen)
    rot = quats_to_matrices(cloud.quats[cand])  # (M, 3, 3) columns = axes
    # In each Gaussian's whitened frame the ray is o_l + t d_l; its peak response is exp(-m/2).
    o_l = np.einsum("mji,mj->mi", rot, o - mu) / sig  # (M, 3)
    d_l = np.einsum("mji,j->mi", rot, d) / sig
    dd = np.maximum(np.einsum("ij,ij->i", d_l, d_l), 1e-30)
    od = np.einsum("ij,ij->i", o_l, d_l)
    t_star = -od / dd
    m = np.maximum(np.einsum("ij,ij->i", o_l, o_l) - od * od / dd, 0.0)
    alpha = np.minimum(cloud.opacity_values()[cand].astype(np.float64), 0.99) * np.exp(-0.5 * m)
    keep = (alpha > 1e-3) & (t_star > 0)
    if not keep.any():
        return None
    t_star, alpha, idx = t_star[keep], alpha[keep], cand[keep]
    order = np.argsort(t_star, kind="stable")
    trans = np.cumprod(1.0 - alpha[order])
    reached = np.nonzero(trans <= 1.0 - threshold)[0]
    if reached.size == 0:
        return None
    k = order[reached[0]]
    # Normal guess: the splat's thinnest axis.
    axes = quats_to_matrices(cloud.quats[idx[k] : idx[k] + 1])[0]
    own = np.exp(cloud.scales[idx[k]].astype(np.float64))  # not widened
    normal = axes[:, int(np.argmin(own))]
    flat = float(own.min()) < 0.5 * float(own.max())
    return float(t_star[k]), normal, flat


def _pick_mesh(mesh: Mesh, o: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray, bool] | None:
    """Nearest triangle hit (Möller–Trumbore, vectorised over faces): (depth, the
    triangle's normal, True: a triangle's normal always means something)."""
    if mesh.n_faces == 0:
        return None
    tri = mesh.vertices[mesh.faces].astype(np.float64)  # (F, 3, 3)
    t = ray_triangles(tri, o, d, det_eps=1e-14, t_min=0.0)
    i = int(np.argmin(t))
    if not np.isfinite(t[i]):
        return None
    n = np.cross(tri[i, 1] - tri[i, 0], tri[i, 2] - tri[i, 0])
    return float(t[i]), n / max(np.linalg.norm(n), 1e-12), True


def ground_height(world: World, exclude: Iterable[int] = ()) -> float:
    """A fallback ground: the 2nd-percentile height (along the world's up axis) of the
    visible splats (0 when empty)."""
    skip = set(exclude)
    up = world_up(world)
    # height of layer points p: up · (M p) = p · (Mᵀ up) + up · t
    ys = [
        lay.data.means.astype(np.float64) @ (lay.transform[:3, :3].T @ up)
        + lay.transform[:3, 3] @ up
        for lay in world.visible_layers()
        if lay.id not in skip and isinstance(lay.data, GaussianCloud) and len(lay.data)
    ]
    if not ys:
        return 0.0
    return float(np.quantile(np.concatenate(ys), 0.02))


def placement_transform(
    world: World,
    origin: np.ndarray,
    direction: np.ndarray,
    *,
    scale: float = 1.0,
    face_point: np.ndarray | None = None,
    exclude: Iterable[int] = (),
    fallback_distance: float = 3.0,
) -> tuple[np.ndarray, Hit | None]:
    """4×4 similarity putting an object's base where the ray hits, standing along the
    world's up axis and turned about it to face `face_point`.

    Without a hit the object stands on the ground plane under the ray, or `fallback_distance`
    along it.
    """
    o = np.asarray(origin, np.float64)
    d = np.asarray(direction, np.float64)
    d = d / max(np.linalg.norm(d), 1e-12)
    up = world_up(world)
    hit = pick_surface(world, o, d, exclude=exclude)
    if hit is not None:
        pos = hit.point
    else:
        g = ground_height(world, exclude)
        rise, h0 = float(d @ up), float(o @ up)
        if rise < -1e-3 and (g - h0) / rise > 0:
            pos = o + d * min((g - h0) / rise, 50.0 * fallback_distance)
        else:
            pos = o + d * fallback_distance
    look = o if face_point is None else np.asarray(face_point, np.float64)
    yaw = yaw_towards(look - pos, up)
    return similarity_matrix(pos, scale=scale, rotation=upright_rotation(up, yaw)), hit


STANDABLE_COS = 0.7  # a surface an object can stand on faces up within ~45°
FAR_INSERT_M = 8.0  # a view ray meeting the scene farther than this (m) ...
NEAR_INSERT_M = 3.0  # ... puts the object on the floor this far ahead instead ...
IN_VIEW = 0.8  # ... or as far as its floor shows this far from the view's centre to its edge
IN_VIEW_MAX_M = 20.0  # ... up to this far
#: ... when that floor is at most this far below the eye (m): a walker's floor, not the
#: ground 38 m under a drone's view of a tower, where the object landed out of sight (a
#: trial, the Great Wall reconstruction)
NEAR_FLOOR_DROP_M = 3.0


def _near_floor_spot(
    world: World, origin: np.ndarray, direction: np.ndarray, fov_y_deg: float | None = None
) -> Hit | None:
    """The floor NEAR_INSERT_M ahead of `origin` (3,) along `direction` (3,) levelled, or None
    (looking straight up or down, no floor captured there, or one more than
    NEAR_FLOOR_DROP_M below the eye). Looking at a far hillside or over a square, the view
    ray met the scene 40 m off: the object stood there, 3 m tall and out of reach of the
    area one can walk. With the view's vertical field of view `fov_y_deg` (degrees), the
    spot is moved out (up to IN_VIEW_MAX_M) until the floor there shows inside the view's
    lower edge (IN_VIEW of the way from the centre): a start view tilted up to frame a
    castle showed no floor nearer than 7 m, and an object put 3 m ahead was out of sight
    below the frame (a trial)."""
    up = world_up(world)
    d = np.asarray(direction, np.float64)
    level = d - (d @ up) * up
    n = float(np.linalg.norm(level))
    if n < 0.2:
        return None
    o = np.asarray(origin, np.float64)

    def floor_at(dist: float) -> Hit | None:
        return _walkers_floor(world, o, o + level / n * dist, 0.2)

    spot = floor_at(NEAR_INSERT_M)
    if spot is None or fov_y_deg is None:
        return spot
    below = _lower_edge_below(d, up, fov_y_deg)
    drop = float((o - spot.point) @ up)
    if below <= 0 or drop <= 0 or drop / math.tan(below) <= NEAR_INSERT_M:
        return spot  # in view already, or no floor shows at all (nothing better)
    # the farthest floor on the way out to there (a one-photo world's ground ends where
    # its upright things stand)
    for dist in np.linspace(min(drop / math.tan(below), IN_VIEW_MAX_M), NEAR_INSERT_M, 9)[:-1]:
        if (far := floor_at(float(dist))) is not None:
            return far
    return spot


def _base_in_view(
    world: World,
    origin: np.ndarray,
    direction: np.ndarray,
    spot: np.ndarray,
    reach: float,
    fov_y_deg: float,
) -> np.ndarray:
    """`spot` (3,), an object's base, moved out along its own bearing from `origin` until
    it shows inside the view's lower edge (IN_VIEW of the way from the centre, `direction`
    and `fov_y_deg` the view's), on the surface below there and clear of other objects;
    `spot` when it shows already or nowhere out to IN_VIEW_MAX_M does. A second `object
    --into` stepped in front of the first one stood 1.4 m from the eye, below a start view
    looking 17° down: only its nozzle showed at the frame's corner (a trial)."""
    up = world_up(world)
    o = np.asarray(origin, np.float64)
    below = _lower_edge_below(np.asarray(direction, np.float64), up, fov_y_deg)

    def level_off(p: np.ndarray) -> np.ndarray:  # p's offset from the eye, across up
        rel = np.asarray(p, np.float64) - o
        return rel - (rel @ up) * up

    drop = float((o - np.asarray(spot, np.float64)) @ up)
    flat = level_off(spot)
    dist = float(np.linalg.norm(flat))
    if below <= 0 or drop <= 0 or dist < 1e-6 or drop / math.tan(below) <= dist:
        return spot  # in view, or the view shows no floor below the eye
    bearing = flat / dist
    for far in np.linspace(drop / math.tan(below), IN_VIEW_MAX_M, 6):
        if far <= dist:
            continue
        floor = _walkers_floor(world, o, o + bearing * far, max(reach, 0.2))
        if floor is None:
            continue
        moved_to = clear_of_objects(world, floor.point, reach, direction)
        if float(np.linalg.norm(level_off(moved_to))) >= far - 1e-6:
            return moved_to
    return spot


def _lower_edge_below(direction: np.ndarray, up: np.ndarray, fov_y_deg: float) -> float:
    """The angle (radians) below level of a view's lower edge, IN_VIEW of the way out from
    its centre: the view along `direction` (3,), `fov_y_deg` tall, `up` (3,) unit."""
    d = np.asarray(direction, np.float64)
    pitch = math.asin(float(np.clip(d @ up / max(np.linalg.norm(d), 1e-12), -1.0, 1.0)))
    return IN_VIEW * math.radians(fov_y_deg) / 2 - pitch


def _walkers_floor(world: World, eye: np.ndarray, point: np.ndarray, tol: float) -> Hit | None:
    """The surface below `point` (3,) within `tol` (`surface_below`), when it is a
    walker's floor: at most NEAR_FLOOR_DROP_M below `eye` (3,); else None (no floor, or one
    far below a flying or aerial view)."""
    spot = surface_below(world, point, tol)
    if spot is None or float((eye - spot.point) @ world_up(world)) > NEAR_FLOOR_DROP_M:
        return None
    return spot


def view_placement(
    world: World,
    origin: np.ndarray,
    direction: np.ndarray,
    object_bounds: tuple[np.ndarray, np.ndarray],
    height: float | None = None,
    fov_y_deg: float | None = None,
) -> tuple[np.ndarray, Hit | None]:
    """Where the app inserts an object seen along a view ray: 4×4 similarity and the hit.

    The object (its own bounds (lo, hi), +Y up, base at its origin) stands where the ray
    hits, facing the viewer, `height` world units tall when given, else sized a quarter
    of the distance from `origin` to where it stands (0.05..3 m) so it is easy to see.
    Looking level or up, the ray meets
    a wall (or something overhead), not a floor: the object then stands on the floor just
    in front of that spot, all of it in front, when a floor was captured there; so does a
    ray meeting a surface that does not face up (a wall, a cabinet's side: its normal
    within acos(STANDABLE_COS) of level). A ray meeting the scene farther than FAR_INSERT_M
    (a far facade, a hillside) puts the object on the floor NEAR_INSERT_M ahead instead,
    within reach, when that floor is a walker's (NEAR_FLOOR_DROP_M), and, given the view's
    vertical field of view `fov_y_deg`, far enough out that the floor there is in view
    (`_near_floor_spot`: `object --into`, whose start view nobody can turn; the app turns
    the view to the object instead). Honours the world's up axis. Raises ValueError for a height
    that is not positive.
    """
    origin = np.asarray(origin, np.float64)
    m, hit = placement_transform(world, origin, direction, face_point=origin)
    dist = hit.distance if hit is not None else float(np.linalg.norm(m[:3, 3] - origin))
    near = _near_floor_spot(world, origin, direction, fov_y_deg) if dist > FAR_INSERT_M else None
    if near is not None:
        up = world_up(world)
        look = origin - near.point
        m = similarity_matrix(near.point, rotation=upright_rotation(up, yaw_towards(look, up)))
        dist, hit = float(np.linalg.norm(look)), near
        direction = -up  # it stands on that floor already
    if height is not None:
        if not height > 0:
            raise ValueError(f"object height must be positive, got {height}")
        own = float(np.asarray(object_bounds[1])[1] - np.asarray(object_bounds[0])[1])
        size = float(height) / max(own, 1e-9)
    else:
        size = float(np.clip(0.25 * dist, 0.05, 3.0))  # a quarter of the distance: easy to see
    base = m.copy()
    # the floor in front of a wall, not the top of an object inserted there before (a
    # second `object --into` stood on the first one's head, 0.5 m up: a trial)
    objects = [lay.id for lay in world.layers if lay.kind == "object"]

    def placed(size: float) -> np.ndarray:
        out = base.copy()
        out[:3, :3] *= size
        reach = object_reach(object_bounds, size)
        out[:3, 3] = stand_in_front(world, hit, direction, out[:3, 3], reach, objects)
        out[:3, 3] = in_sight(world, origin, out[:3, 3], reach)
        out[:3, 3] = clear_of_objects(world, out[:3, 3], reach, direction)
        if fov_y_deg is not None:
            out[:3, 3] = _base_in_view(world, origin, direction, out[:3, 3], reach, fov_y_deg)
        return out

    m = placed(size)
    if height is not None:
        return m, hit
    # Auto: a quarter of the distance it stands at. Stepped in front of the wall or desk
    # the ray met, an extinguisher sized for the wall behind stood 0.64 m tall on a desk
    # 1.6 m away (a trial). Its size moves where it can stand: a few rounds settle it
    for _ in range(3):
        final = float(np.clip(0.25 * np.linalg.norm(m[:3, 3] - origin), 0.05, 3.0))
        if abs(final - size) <= 0.05 * size:
            break
        size = final
        m = placed(size)
    return m, hit


def placement_at(
    world: World,
    point: np.ndarray,
    object_bounds: tuple[np.ndarray, np.ndarray],
    height: float,
    face_point: np.ndarray,
) -> tuple[np.ndarray, Hit | None]:
    """(4×4 similarity, the surface it stands on) standing an object (its own bounds
    (lo, hi), +Y up, base at its origin) `height` world units tall on the surface below
    `point` (3,) (`surface_below` from AT_LIFT above it, so a point on a surface or just
    under it stands on that surface; at `point` itself, and None for the surface, when
    nothing is below it), turned about the world's up to face `face_point` (where it is
    seen from). Exactly there, even beside another object: the caller named the spot
    (`object --into ... --at X,Y,Z`)."""
    up = world_up(world)
    point = np.asarray(point, np.float64)
    own = float(np.asarray(object_bounds[1])[1] - np.asarray(object_bounds[0])[1])
    size = float(height) / max(own, 1e-9)
    # from a little above: a spot named on the floor (y = 0 on the floor at 0) is on it
    lifted = point + AT_LIFT * up
    below = surface_below(world, lifted, max(object_reach(object_bounds, size), 0.02))
    spot = below.point if below is not None else point
    look = np.asarray(face_point, np.float64) - spot
    m = similarity_matrix(spot, rotation=upright_rotation(up, yaw_towards(look, up)), scale=size)
    return m, below


#: m: `placement_at` looks for the surface below a named spot from this far above it (a
#: spot named on the floor itself found nothing below: "in mid-air", a trial)
AT_LIFT = 0.05
#: m: the sight line to an object's footprint aims this far above the floor
SIGHT_LIFT = 0.05
#: m: an object stepped back into sight comes at most this close to the eye
NEAREST_INSERT_M = 0.8
#: m: ... onto the floor found straight down from this far above the spot it left (a
#: step up or down; not a chair's top edge on the way, as from the eye's height)
SIGHT_START = 0.3
SIGHT_TRIES = 12  # at most this many steps towards the eye
#: m: ... and that floor at most this far above or below the spot's: past the edge of a
#: tower seen from a drone the floor straight down was the ground 30 m below, and the
#: object went there, under the tower and out of sight (a trial, the Great Wall)
SIGHT_MAX_STEP = 1.0


def in_sight(world: World, origin: np.ndarray, spot: np.ndarray, reach: float) -> np.ndarray:
    """Where an inserted object stands (3,) so that the eye at `origin` sees its footprint
    (a circle of `reach` m round `spot`, its base centre): `spot` when nothing opaque lies
    between the eye and the footprint's far edge, else the first floor spot back towards
    the eye (steps of half the reach, at least 15 cm, at most SIGHT_TRIES of them;
    `surface_below` from SIGHT_START above the spot, within SIGHT_MAX_STEP of the spot's
    height) whose footprint is seen, no nearer than NEAREST_INSERT_M; `spot` when none
    is. A one-photo world's desk stands as one upright layer: the object stood on the
    floor just in front of it, behind the chair the photo shows in front of the desk, and
    seemed to grow out of the desk (a trial)."""
    up = world_up(world)
    o = np.asarray(origin, np.float64)
    spot = np.asarray(spot, np.float64)
    back = o - spot
    back -= (back @ up) * up  # level, towards the eye
    dist = float(np.linalg.norm(back))
    if dist < 1e-6:
        return spot
    back /= dist

    def seen(base: np.ndarray) -> bool:
        far = base - back * reach + up * SIGHT_LIFT  # the footprint's far edge
        ray = far - o
        h = pick_surface(world, o, ray, widen=0.02)
        return h is None or h.distance >= float(np.linalg.norm(ray)) - 0.05

    if seen(spot):
        return spot
    nearest = max(NEAREST_INSERT_M, reach + 0.3)
    step = max(0.15, 0.5 * reach, (dist - nearest) / SIGHT_TRIES)
    k = 1
    while dist - k * step >= nearest:
        p = spot + back * (k * step)
        if seen(p):  # on the spot's own floor level first: one pick a step (~35 ms at 1M)
            below = surface_below(world, p + up * SIGHT_START, max(reach, 0.02))
            if (
                below is not None
                and abs(float((below.point - spot) @ up)) <= SIGHT_MAX_STEP
                and seen(below.point)
            ):
                return below.point
        k += 1
    return spot


#: how far apart (m) two objects' footprints stay when one is inserted beside the other
OBJECT_GAP = 0.1
#: steps of a quarter of the object's reach tried to the right and left of the view
#: before an object is placed where it landed
CLEAR_TRIES = 24


def clear_of_objects(
    world: World, spot: np.ndarray, reach: float, direction: np.ndarray
) -> np.ndarray:
    """Where an inserted object stands (3,) so that it does not stand in another object:
    `spot` when its footprint (a circle of `reach` m round its base centre, across the
    world's up) is OBJECT_GAP clear of every object layer's (the circle round its box's
    footprint), else the nearest clear spot sideways across the view (`direction`), right
    then left, on the surface below there (`surface_below`). A second object inserted at
    the view's centre landed inside the first (a trial: the chair 0.4 m in front of the
    extinguisher's centre, through it). `spot` when nothing nearby is clear."""
    up = world_up(world)
    spot = np.asarray(spot, np.float64)
    others = []
    for lay in world.layers:
        if lay.kind != "object" or not lay.visible:
            continue
        corners = _world_corners(lay)
        flat = corners - np.outer(corners @ up, up)  # the box's footprint across up
        c = flat.mean(0)
        others.append((c, float(np.max(np.linalg.norm(flat - c, axis=1)))))
    if not others:
        return spot

    def clear(p: np.ndarray) -> bool:
        q = p - (p @ up) * up
        return all(float(np.linalg.norm(q - c)) >= r + reach + OBJECT_GAP for c, r in others)

    if clear(spot):
        return spot
    side = np.cross(np.asarray(direction, np.float64), up)
    if float(np.linalg.norm(side)) < 1e-6:  # looking straight down: any level direction
        side = ground_axes(up)[0]
    side /= float(np.linalg.norm(side))
    step = 0.25 * (reach + OBJECT_GAP)
    for k in range(1, CLEAR_TRIES + 1):
        for sign in (1.0, -1.0):
            p = spot + sign * k * step * side
            if not clear(p):
                continue
            below = surface_below(world, p + up * (reach + 0.5), max(reach, 0.02))
            return below.point if below is not None else p
    return spot


def object_reach(bounds: tuple[np.ndarray, np.ndarray], size: float) -> float:
    """How far an object (its own bounds (lo, hi), +Y up, base centre at its origin),
    scaled by `size`, reaches from its base centre to its farthest side (m)."""
    ext = np.max(np.abs(np.stack(bounds)), axis=0)
    return size * float(np.hypot(ext[0], ext[2]))


def stand_in_front(
    world: World,
    hit: Hit | None,
    direction: np.ndarray,
    spot: np.ndarray,
    reach: float,
    exclude: Iterable[int] = (),
) -> np.ndarray:
    """Where an object placed along a view ray stands (3,): `spot` (the hit point) when
    the ray met a surface facing up, else — a level or rising ray, or a surface that does
    not face up (a wall, a cabinet's side or a one-photo world's upright layer: its normal
    within acos(STANDABLE_COS) of level) — on the floor just in front of the hit, all of the
    object (`reach` m from its base centre to its farthest side) in front of it, at most
    half the hit's distance back towards the eye. The floor is `surface_below` there; without
    one (nothing was captured under that spot) the object keeps `spot`."""
    if hit is None:
        return np.asarray(spot, np.float64)
    d = np.asarray(direction, np.float64) / max(float(np.linalg.norm(direction)), 1e-12)
    up = world_up(world)
    steep = hit.oriented and abs(float(hit.normal @ up)) < STANDABLE_COS
    if not (d @ up > -0.1 or steep):
        return np.asarray(spot, np.float64)
    front = hit.point - d * min(reach * 1.05, 0.5 * hit.distance)
    below = surface_below(world, front, max(reach, 0.02), exclude)
    return below.point if below is not None else np.asarray(spot, np.float64)


def surface_below(
    world: World, point: np.ndarray, radius: float, exclude: Iterable[int] = ()
) -> Hit | None:
    """The surface an object standing over `point` (3,) rests on: the first surface facing
    up (within acos(STANDABLE_COS)) straight down (the world's −up) from there, past the
    sides of things, or None. The ray down is `radius` / 4 thick (2..10 cm): a floor that
    a photo saw only past the things in front of it (a one-photo world's floor behind a
    desk) is sparse, and a thin ray fell through its gaps and left the object hanging on
    a wall."""
    up = world_up(world)
    p = np.asarray(point, np.float64)
    widen = float(np.clip(0.25 * radius, 0.02, 0.1))
    start = 0.0
    for _ in range(4):  # past the sides of things (a wall's foot, a desk's front)
        h = pick_surface(world, p - start * up, -up, exclude=exclude, widen=widen)
        if h is None:
            return None
        if not h.oriented or abs(float(h.normal @ up)) >= STANDABLE_COS:
            return Hit(h.point, start + h.distance, h.layer_id, h.normal, h.oriented)
        start += h.distance + 0.02
    return None


# ------------------------------------------------------------------ edits (undoable)
def object_layer(
    name: str, data: GaussianCloud | Mesh, transform: np.ndarray, source: dict | None = None
) -> Layer:
    """A new `kind='object'` layer."""
    return Layer(
        name=name, data=data, kind="object", transform=transform, source=dict(source or {})
    )


def insert_object(
    world: World,
    name: str,
    data: GaussianCloud | Mesh,
    transform: np.ndarray,
    source: dict | None = None,
) -> Layer:
    """Add an object layer (one undoable command) and return it."""
    lay = object_layer(world.unique_name(name), data, transform, source)
    world.execute(AddLayer(lay))
    return lay


def duplicate_layer(world: World, layer_id: int, offset: np.ndarray | None = None) -> Layer:
    """Copy a layer (sharing its immutable data), shifted by `offset` (default: beside it on
    the ground, its width along the up-aligned frame's X: +X for a Y- or Z-up world)."""
    src = world.layer(layer_id)
    m = src.transform.copy()
    if offset is None:
        side, _ = ground_axes(world_up(world))
        width = float(np.ptp(_world_corners(src) @ side))
        offset = side * max(width, 1e-3) * 1.1
    m[:3, 3] += np.asarray(offset, np.float64)
    lay = Layer(
        name=world.unique_name(src.name),
        data=src.data,
        kind=src.kind,
        transform=m,
        visible=True,
        source=dict(src.source, duplicated_from=src.id),
    )
    world.execute(AddLayer(lay, world.layers.index(src) + 1))
    return lay


def _world_corners(layer: Layer) -> np.ndarray:
    """(8, 3) world positions of the corners of the layer's own bounding box."""
    lo, hi = layer.data.bounds()
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    return corners @ layer.transform[:3, :3].T + layer.transform[:3, 3]


def _about_base(layer: Layer, local: np.ndarray) -> np.ndarray:
    """Apply `local` (4×4) about the layer's origin (its base centre), in world axes."""
    p = layer.transform[:3, 3].copy()
    to, back = np.eye(4), np.eye(4)
    to[:3, 3], back[:3, 3] = -p, p
    return back @ local @ to @ layer.transform


def moved(layer: Layer, delta: np.ndarray) -> np.ndarray:
    m = layer.transform.copy()
    m[:3, 3] += np.asarray(delta, np.float64)
    return m


def rotated(layer: Layer, yaw: float, up: np.ndarray | None = None) -> np.ndarray:
    """The layer turned by `yaw` radians about `up` (default +Y) through its origin."""
    u = np.array([0.0, 1.0, 0.0]) if up is None else np.asarray(up, np.float64)
    turn = upright_rotation(u) @ upright_rotation((0.0, 1.0, 0.0), yaw) @ upright_rotation(u).T
    return _about_base(layer, similarity_matrix(rotation=turn))


def scaled(layer: Layer, factor: float) -> np.ndarray:
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"scale factor must be positive, got {factor}")
    s, _, _ = decompose_similarity(layer.transform)
    if not 1e-4 <= s * factor <= 1e4:
        raise ValueError("object scale would leave the range 1e-4..1e4")
    return _about_base(layer, similarity_matrix(scale=factor))


def move_layer(world: World, layer_id: int, delta: np.ndarray) -> None:
    world.execute(SetTransform(layer_id, moved(world.layer(layer_id), delta)))


def rotate_layer(world: World, layer_id: int, yaw: float) -> None:
    """Turn a layer about the world's up axis through its origin (undoable)."""
    world.execute(SetTransform(layer_id, rotated(world.layer(layer_id), yaw, world_up(world))))


def scale_layer(world: World, layer_id: int, factor: float) -> None:
    world.execute(SetTransform(layer_id, scaled(world.layer(layer_id), factor)))


def dropped(
    world: World, layer_id: int, *, fallback_ground: bool = True
) -> tuple[np.ndarray, Hit] | None:
    """The layer moved along the world's down axis (−up) until its lowest corner rests on
    the first surface under that corner (else, for an object sunk into a surface, the
    first one under its top; one above its base only when it faces up): (new 4×4
    transform, hit), or None when there is nothing to rest on. Without a surface below,
    `fallback_ground` drops it to `ground_height` when other layers are visible."""
    lay = world.layer(layer_id)
    up = world_up(world)
    h = heights(_world_corners(lay), up)
    base = lay.transform[:3, 3]
    # first the surface under the object's lowest point: dropping never lifts it onto
    # something that only passes through it (a wall, a shelf above its base); only an
    # object sunk into a surface, with nothing under it, comes up onto that surface
    foot = base + (float(h.min() - base @ up) + 1e-3) * up
    hit = pick_surface(world, foot, -up, exclude=[layer_id])
    top = base + (float(h.max() - base @ up) + 1e-3) * up  # just above the object, over its origin
    if hit is None:
        hit = pick_surface(world, top, -up, exclude=[layer_id])
        lifts = hit is not None and float(hit.point @ up) > float(h.min())
        if lifts and abs(float(hit.normal @ up)) < STANDABLE_COS:
            # a wall or a cabinet's side the object's top pokes into is nothing to be
            # lifted onto: an object against a wall rose by its own height
            hit = None
    if hit is None:
        if not fallback_ground or not any(x.id != layer_id and x.visible for x in world.layers):
            return None
        g = ground_height(world, exclude=[layer_id])
        hit = Hit(top - (float(top @ up) - g) * up, float(top @ up - g), -1, up.copy())
    m = lay.transform.copy()
    m[:3, 3] += float(hit.point @ up - h.min()) * up
    return m, hit


def snap_to_ground(world: World, layer_id: int) -> Hit | None:
    """Drop the object along the world's down axis (−up) onto the first surface under it
    (undoable; `dropped`). Returns the hit, or None (nothing changed) when there is no
    surface below."""
    res = dropped(world, layer_id)
    if res is None:
        return None
    m, hit = res
    if not np.allclose(m, world.layer(layer_id).transform, rtol=0.0, atol=1e-9):
        world.execute(SetTransform(layer_id, m))
    return hit
