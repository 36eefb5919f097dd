"""The world's up axis: estimated from cameras or from the splats' floor, fixable by the user.

Navigation works in a *local* frame whose +Y is the world's up axis; `up_rotation(up)`
gives the rotation world -> local. The frame maths (`up_rotation`, `snap_to_axis`, `AXES`...)
is the scene's convention and lives in `scene.up_axis`; this module estimates and adopts an
up axis for the app. Pure NumPy, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from scene.camera import level_up_from_rotations
from scene.gaussians import NEAR_SAMPLE, GaussianCloud
from scene.up_axis import AXES, axis_name, normalize, snap_to_axis, up_rotation  # noqa: F401  (re-exported)
from scene.world import walkable_record


def up_from_cameras(rotations: Iterable[np.ndarray]) -> np.ndarray | None:
    """Up implied by level-held cameras (world-to-camera rotations), or None if there are none."""
    rs = list(rotations)
    return level_up_from_rotations(rs) if rs else None


def camera_rotations(meta: dict[str, Any]) -> list[np.ndarray]:
    """World-to-camera rotations found in `World.meta['cameras']` (Camera objects or dicts)."""
    out: list[np.ndarray] = []
    cams = meta.get("cameras") if isinstance(meta, dict) else None
    if not isinstance(cams, (list, tuple)):
        return out
    for c in cams:
        r = getattr(c, "R", None)
        if r is None and isinstance(c, dict):
            r = c.get("R")
            if r is None and c.get("world_to_camera") is not None:
                r = np.asarray(c["world_to_camera"], np.float64)[:3, :3]
        try:
            r = np.asarray(r, np.float64).reshape(3, 3)
        except (TypeError, ValueError):
            continue
        if np.isfinite(r).all():
            out.append(r)
    return out


def cameras_from_meta(meta: dict[str, Any]) -> list[Any]:
    """`World.meta['cameras']` as scene.camera.Camera objects (`Camera.from_record`).
    Empty unless every entry reads with finite intrinsics and pose: records of rotations
    only say less (`camera_rotations`)."""
    from scene.camera import Camera

    recs = meta.get("cameras") if isinstance(meta, dict) else None
    if not isinstance(recs, (list, tuple)) or not recs:
        return []
    try:
        cams = [Camera.from_record(c) for c in recs]
    except (AttributeError, KeyError, TypeError, ValueError):
        return []
    finite = all(
        np.isfinite(c.R).all()
        and np.isfinite(c.t).all()
        and np.isfinite([c.fx, c.fy, c.cx, c.cy]).all()
        for c in cams
    )
    return cams if finite else []


def up_from_points(
    points: np.ndarray, *, iterations: int = 200, seed: int = 0, inlier_frac: float = 0.01
) -> tuple[np.ndarray, float] | None:
    """Floor normal of dense points (N, 3) by RANSAC, oriented towards the bulk of the scene.

    Returns (unit normal, fraction of points on the plane) or None when no plane stands out.
    The largest plane is taken as the floor unless a plane nearly as large (≥ 60 %) is more
    "floor-like" (more of the scene lies on one side of it).
    """
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) < 50:
        return None
    rng = np.random.default_rng(seed)
    if len(pts) > 20000:
        pts = pts[rng.choice(len(pts), 20000, replace=False)]
    lo, hi = np.quantile(pts, 0.02, 0), np.quantile(pts, 0.98, 0)
    tol = max(float(np.linalg.norm(hi - lo)) * inlier_frac, 1e-9)
    tri = pts[rng.integers(0, len(pts), (iterations, 3))]  # (I, 3, 3)
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lens = np.linalg.norm(normals, axis=1)
    ok = lens > 1e-12
    if not ok.any():
        return None
    normals = normals[ok] / lens[ok, None]
    offsets = np.einsum("ij,ij->i", normals, tri[ok, 0])
    dist = pts @ normals.T - offsets  # (N, I) signed distances
    counts = (np.abs(dist) < tol).sum(0)
    # One-sidedness: fraction of off-plane points on the majority side.
    above = (dist > tol).sum(0)
    below = (dist < -tol).sum(0)
    side = np.maximum(above, below) / np.maximum(above + below, 1)
    best = int(np.argmax(counts))
    cand = np.where(counts >= 0.6 * counts[best])[0]
    pick = int(cand[np.argmax(side[cand] + 1e-3 * counts[cand] / max(counts[best], 1))])
    if counts[pick] < max(20, 0.05 * len(pts)):
        return None
    n = normals[pick]
    # Refine with a PCA fit of the inliers.
    inl = pts[np.abs(dist[:, pick]) < tol]
    if len(inl) >= 3:
        _, _, vt = np.linalg.svd(inl - inl.mean(0), full_matrices=False)
        n2 = vt[2]
        n = n2 if float(n2 @ n) >= 0 else -n2
    if below[pick] > above[pick]:
        n = -n
    return normalize(n), float(counts[pick] / len(pts))


def estimate_up(
    world: Any, dense_points: np.ndarray | None = None, masks: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, str]:
    """Best guess of a world's up axis and where it came from ('cameras', 'floor', 'default').

    Cameras (World.meta['cameras']) win, as on import (`use_cameras_beside`):
    `align.estimate_up_detail`, so cameras held level give the normal to their x axes and
    an orbit of cameras turned every way (an object on a table photographed from above)
    the plane among `dense_points` its subject stands on (without points, the orbit's
    axis), snapped to an axis within 5°; records of rotations only, the level estimate.
    Else the dominant floor plane of `dense_points` (snapped to an axis when close),
    turned over when the world's far field (a sky sphere: `far_field_direction`) lies
    below it; else the world's current up axis. `masks`: `near_masks(world)` when the
    caller has them.
    """
    meta = getattr(world, "meta", {}) or {}
    cams = cameras_from_meta(meta)
    if cams:
        from generators.reconstruct.align import estimate_up_detail

        return snap_to_axis(estimate_up_detail(cams, dense_points).up, 5.0), "cameras"
    up = up_from_cameras(camera_rotations(meta))
    if up is not None:
        return snap_to_axis(up, 5.0), "cameras"
    if dense_points is not None:
        res = up_from_points(dense_points)
        if res is not None:
            n = res[0]
            sky = far_field_direction(world, masks)
            # a drone's terrain has no floor: the flat top of a ridge, most of the scene
            # under it, read as a ceiling turned a reconstruction without its cameras over
            if sky is not None and float(sky @ n) < -SKY_AGREE:
                n = -n
            return snap_to_axis(n), "floor"
    return normalize(getattr(world, "up_axis", (0.0, 1.0, 0.0))), "default"


#: the far field's mean direction must lie this far (cosine) below a floor's normal to
#: turn the floor over
SKY_AGREE = 0.1
#: a layer's far field counts when it holds at least this many splats and this share
FAR_MIN, FAR_SHARE = 200, 0.01


def near_masks(world: Any) -> dict[str, np.ndarray]:
    """{layer id: `GaussianCloud.near_field_mask`} of every Gaussian layer: computed once
    for `world_dense_points` and `far_field_direction` (tens of ms each for 1 M splats, on
    the way to a scene's first frame)."""
    from scene.gaussians import GaussianCloud

    return {
        lay.id: lay.data.near_field_mask()
        for lay in getattr(world, "layers", [])
        if isinstance(lay.data, GaussianCloud) and len(lay.data)
    }


def _near(lay: Any, masks: dict[str, np.ndarray] | None) -> np.ndarray:
    """`lay`'s near-field mask: from `masks` (`near_masks`) when it holds it."""
    return masks[lay.id] if masks and lay.id in masks else lay.data.near_field_mask()


def far_field_direction(
    world: Any, masks: dict[str, np.ndarray] | None = None
) -> np.ndarray | None:
    """(3,) mean unit direction, in world space, from the scene's centre (the median of its
    near field) to the splats of its far field (`GaussianCloud.near_field_mask`: a
    reconstruction's sky sphere, which covers what its photos saw above the horizon), or
    None when no Gaussian layer has a far field of FAR_MIN splats and FAR_SHARE of it.
    Its length is below 1 (0.3-0.5 for real reconstructions); only its side of a plane
    is meant to be used."""
    from scene.gaussians import GaussianCloud

    dirs = []
    for lay in getattr(world, "layers", []):
        if not isinstance(lay.data, GaussianCloud) or len(lay.data) == 0:
            continue
        near = _near(lay, masks)
        far = int((~near).sum())
        if far < max(FAR_MIN, FAR_SHARE * len(near)) or not near.any():
            continue
        m = np.asarray(lay.transform, np.float64)
        # the centre from a sample of the near field, as `near_field_mask` takes it; only
        # the far splats and that sample are transformed (not a copy of every splat)
        idx = np.flatnonzero(near)
        sample = lay.data.means[idx[:: max(1, len(idx) // NEAR_SAMPLE)]].astype(np.float64)
        centre = np.median(sample @ m[:3, :3].T + m[:3, 3], axis=0)
        d = lay.data.means[~near].astype(np.float64) @ m[:3, :3].T + m[:3, 3] - centre
        lens = np.linalg.norm(d, axis=1, keepdims=True)
        dirs.append(d / np.maximum(lens, 1e-12))
    if not dirs:
        return None
    return np.concatenate(dirs).mean(0)


def world_dense_points(
    world: Any,
    visible_only: bool = True,
    max_points: int = 50000,
    min_opacity: float = 0.3,
    masks: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Centres (M, 3) float64 of the world's opaque-enough splats (opacity >= `min_opacity`,
    the near field only: `GaussianCloud.near_field_mask`, not a sky sphere or a backdrop's
    ground hundreds of metres out; layer transforms applied, layers in order), subsampled
    to at most `max_points` (seeded): the points `up_from_points` fits a floor to. Only
    those centres are copied (merging the clouds first copied a 1M-splat SH-3 layer's
    ~250 MB twice: most of opening it)."""
    from scene.gaussians import GaussianCloud

    layers = world.visible_layers() if visible_only else world.layers
    parts = []
    for lay in layers:
        if not isinstance(lay.data, GaussianCloud) or len(lay.data) == 0:
            continue
        m = np.asarray(lay.transform, np.float64)
        keep = (lay.data.opacity_values() >= min_opacity) & _near(lay, masks)
        pts = lay.data.means[keep].astype(np.float64)
        parts.append((pts @ m[:3, :3].T + m[:3, 3]).astype(np.float32))
    if not parts:
        return np.zeros((0, 3))
    pts = np.concatenate(parts)
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(0).choice(len(pts), max_points, replace=False)]
    return pts.astype(np.float64)


# ------------------------------------------------------- cameras saved beside a scene
def cameras_beside(scene_path: Any) -> Any:
    """The COLMAP model folder `reconstruct` writes beside a scene file, or None.

    `scene.ply` -> `scene_cameras/` (the path without its last suffix + `_cameras`, as
    `generators.reconstruct.pipeline.side_paths`), holding cameras + images (.txt or .bin);
    else the folder `scene_report.json` names (`reconstruct --cameras-out DIR`).
    """
    from pathlib import Path

    from generators.reconstruct.evaluate import report_cameras_folder, scene_report_path

    p = Path(scene_path)
    # `reconstruct --cameras-out DIR` names its folder in the report
    named = report_cameras_folder(scene_report_path(p))
    for folder in [Path(f"{p.with_suffix('')}_cameras")] + ([named] if named else []):
        for ext in ("txt", "bin"):
            if (folder / f"cameras.{ext}").is_file() and (folder / f"images.{ext}").is_file():
                return folder
    return None


def _report_beside(scene_path: Any) -> tuple[set[str], str | None]:
    """(names of the photos a `reconstruct --holdout` run kept out of the scene, its
    capture type: "walk", "orbit", "aerial") from its report beside it
    (`SCENE_report.json`); (empty, None) when there is none or it is unreadable."""
    import logging
    from pathlib import Path

    from generators.reconstruct.align import CAPTURE_TYPES
    from generators.reconstruct.evaluate import held_out_from_report, scene_report_path

    path = scene_report_path(Path(scene_path))
    if not path.is_file():
        return set(), None
    try:
        held, data = held_out_from_report(path)
    except ValueError as exc:
        logging.getLogger(__name__).info("no held-out photos read: %s", exc)
        return set(), None
    cap = data.get("capture")
    kind = cap.get("type") if isinstance(cap, dict) else None
    return set(held), kind if kind in CAPTURE_TYPES else None


def use_cameras_beside(world: Any, scene_path: Any) -> bool:
    """Adopt the photo cameras saved beside `scene_path` (see `cameras_beside`).

    They are in the scene's own frame, so they say which way is up (level-held cameras,
    or the table under an orbit of rolled ones: `align.estimate_up_detail` with the
    model's points; snapped to an axis within 5°) far better than a guessed floor, and
    the first photo (by name) is where a reconstruction looks right: its camera becomes
    the start view. Sets World.meta['cameras'] (records: name, size, fx fy cx cy, R, t),
    World.meta['subject_distance'] (`align.subject_distance`: how far the photos were
    taken from what they show, which paces walking), World.up_axis (source 'cameras')
    and one bookmark per photo, the first photo first
    (the viewer starts at bookmark 0) — photos held out of the scene (listed in its
    `reconstruct` report beside it) after all the others. A world that already has
    bookmarks keeps them. The report's capture type sets World.meta['start_mode']
    (`generators.reconstruct.align.START_MODES`): an object orbit is orbited from the
    first photo, an aerial capture opens flying at its first photo's camera (walking
    would drop it 30 m to the ground, or onto a floater under the camera).
    Any COLMAP lens model reads (SIMPLE_RADIAL as `reconstruct` writes it, OPENCV, ...):
    its pinhole part is used; its model and parameters stay in the record.
    Returns False (and changes nothing) when there is no readable model beside it.
    """
    import logging

    from scene.io.colmap import read_colmap
    from scene.world import Bookmark

    folder = cameras_beside(scene_path)
    if folder is None:
        return False
    try:
        cams, points, _ = read_colmap(folder)
    except ValueError as exc:  # SceneFormatError: a broken model must not stop the scene opening
        logging.getLogger(__name__).warning("ignoring the cameras beside the scene: %s", exc)
        return False
    # the first photo the scene was built from (by name) is the start view: a photo held
    # out for evaluation (`reconstruct --holdout`) shows what the scene never saw
    held, capture = _report_beside(scene_path)
    cams = sorted(
        (c for c in cams if np.isfinite(c.R).all() and np.isfinite(c.t).all()),
        key=lambda c: (c.name in held, c.name),
    )
    if not cams:
        return False
    # the pinhole part of each lens places the frusta and bookmarks; a lens model
    # (SIMPLE_RADIAL k1 from reconstruct, ...) is kept in the record for exporters
    world.meta["cameras"] = [c.to_record() for c in cams]
    world.meta["cameras_from"] = str(folder)
    from generators.reconstruct.align import subject_distance

    d = subject_distance(cams, points)
    if d is not None:
        world.meta["subject_distance"] = round(d, 4)  # walking is paced by it
    if held:
        world.meta["held_out"] = sorted(held)  # the bookmarks menu marks them
    from generators.reconstruct.align import estimate_up_detail

    # level-held cameras, or the table under an orbit of cameras turned every way
    up = estimate_up_detail(cams, points).up
    world.up_axis = snap_to_axis(up, 5.0)
    world.meta["up_axis_source"] = "cameras"
    if not world.bookmarks:
        world.bookmarks.extend(Bookmark.of_photo(c) for c in cams)
    from generators.reconstruct.align import START_MODES

    if capture in START_MODES:
        world.meta["start_mode"] = START_MODES[capture]
    return True


def _start_of_world_file(meta: dict[str, Any]) -> Any:
    """The Start bookmark of a world file from its provenance (`pano_world` records
    'start'; older files: the eye height, the photo's pitch and field of view), or None."""
    import math

    from scene.world import Bookmark

    def num(v: Any, lo: float, hi: float) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return f if math.isfinite(f) and lo <= f <= hi else None

    start = meta.get("start") if isinstance(meta.get("start"), dict) else {}
    pano = meta.get("panorama") if isinstance(meta.get("panorama"), dict) else {}
    pos = start.get("position")
    if isinstance(pos, list) and len(pos) == 3 and all(num(v, -1e4, 1e4) is not None for v in pos):
        position = np.array([float(v) for v in pos])
    else:
        eye = num(meta.get("eye_height"), 0.0, 100.0)
        if eye is None:
            return None
        position = np.array([0.0, eye, 0.0])
    tilt = pano.get("photo_pitch") if isinstance(pano.get("photo_pitch"), dict) else {}
    pitch_deg = num(tilt.get("pitch_deg"), -90.0, 90.0) if tilt.get("applied") else None
    pitch = num(start.get("pitch"), -1.6, 1.6)
    if pitch is None:
        pitch = math.radians(pitch_deg or 0.0)
    yaw = num(start.get("yaw"), -10.0, 10.0) or 0.0
    fov_y = num(start.get("fov_y_deg"), 1.0, 179.0) or num(pano.get("fov_y_deg"), 1.0, 179.0)
    fov_x = num(start.get("fov_x_deg"), 1.0, 179.0) or num(pano.get("fov_x_deg"), 1.0, 179.0)
    return Bookmark("Start", position, yaw, pitch, fov_y or 60.0, fov_x or 0.0)


def adopt_record_marks(cloud: Any, scene_path: Any, meta: dict | None = None) -> None:
    """Mark what the Wander record of `scene_path` says about the splats of `cloud`, read
    from it, where the cloud has no such marker yet: the last N as its far field
    (`far_field.count`, written by `write_frame_record` beside a .spz or .splat, which
    have no place for it; `GaussianCloud.adopt_far_field`), and a generated world's hidden
    layers by place (`hidden`, beside a format that keeps the order; moving frames leave
    them unrefined, viewer/lod.py; `GaussianCloud.adopt_hidden`). `meta`: the record when
    already read (`wander_provenance`). Untrusted: what does not fit the cloud is ignored."""
    from pathlib import Path

    from generators.options import wander_provenance

    meta = wander_provenance(Path(scene_path)) if meta is None else meta
    if not isinstance(meta, dict):
        return
    far = meta.get("far_field")
    if not cloud.far_field_marked():
        cloud.adopt_far_field(far.get("count") if isinstance(far, dict) else None)
    cloud.adopt_hidden(meta.get("hidden"))


def adopt_file_context(world: Any, scene_path: Any) -> None:
    """What a scene file (not a project) says about itself beyond its splats, for the app
    and the headless commands alike: the photo cameras saved beside a reconstruction
    (`use_cameras_beside`: up axis, a bookmark per photo); Wander's own files are +Y up
    (provenance `generators.options.wander_provenance`), and a world made by `world` starts
    where its photo was taken (a "Start" bookmark from the provenance), as its project
    would; glTF is +Y up by its specification. Sets World.meta['up_axis_source'] when it
    decides the up axis, and World.meta['units'] = 'm' for Wander's files, whose layer
    also takes the recorded generator and options into its source (a project saved from
    the file says how its scene was made, not "unknown generator"), and a far field and
    hidden layers the record marks (`adopt_record_marks`); a world made by `world` also
    gets its walkable area, options and estimates into World.meta, as its project has
    them; changes nothing else."""
    from pathlib import Path

    from generators.options import wander_provenance

    p = Path(scene_path)
    meta = wander_provenance(p)  # read once: the generator, a world's start, a far field
    if len(world.layers) == 1 and isinstance(world.layers[0].data, GaussianCloud):
        adopt_record_marks(world.layers[0].data, p, meta or {})
    gen = None if meta is None else meta["generator"][:80]
    if gen is not None:  # Wander's files are in metres: walking speed is not guessed
        world.meta.setdefault("units", "m")
        if len(world.layers) == 1 and isinstance(world.layers[0].source, dict):
            src = world.layers[0].source
            src.setdefault("generator", gen)
            opts = meta.get("options")
            if isinstance(opts, dict) and opts and "options" not in src:
                src["options"] = opts
    if world.meta.get("up_axis_source") is None:
        use_cameras_beside(world, p)
    if world.meta.get("up_axis_source") is not None:
        return
    if gen is not None:  # Wander's own files are +Y up (an object's base is no floor)
        world.up_axis = np.array([0.0, 1.0, 0.0])
        world.meta["up_axis_source"] = f"made by Wander ({gen})"
        if gen in ("wander.pano_world", "wander.export") and not world.bookmarks:
            start = _start_of_world_file(meta)
            if start is not None:
                world.bookmarks.append(start)
                walk = meta.get("walkable")
                if gen == "wander.pano_world":
                    if walk is None:  # a file written before the record was kept
                        rec = meta.get("start") if isinstance(meta.get("start"), dict) else {}
                        # a start that frames a photo (fov_x_deg > 0): outpainted beyond it
                        fx = rec.get("fov_x_deg")  # (untrusted: any JSON)
                        framed = isinstance(fx, (int, float)) and fx > 0
                        walk = walkable_record(meta.get("estimates"), framed)
                    # how it was made and what was estimated, as its project's meta holds
                    # them: `video`'s default path sways by the photo in a world made
                    # from photos (scene.campath.bookmark_path); a trial's world.ply
                    # filmed a full turn round the invented room instead
                    for key in ("options", "estimates"):
                        if isinstance(meta.get(key), dict):
                            world.meta.setdefault(key, meta[key])
                if isinstance(walk, dict) and "walkable" not in world.meta:
                    world.meta["walkable"] = walk  # (checked where it is read: WalkArea)
    elif p.suffix.lower() in (".glb", ".gltf"):  # +Y up by the glTF 2.0 specification
        world.up_axis = np.array([0.0, 1.0, 0.0])
        world.meta["up_axis_source"] = "glTF (+Y up)"
