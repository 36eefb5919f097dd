"""The reconstruction job: photos -> cameras, depth maps and a Gaussian scene.

    result = reconstruct(photo_paths, ReconstructOptions(), progress, cancel)
    save_result(result, Path("scene.ply"))        # scene + cameras + depth maps, atomically
    world = build_world(result)                    # for the app

Stages (timed, each with progress and cancel): read, features, matching, mapping, depth,
fusion, refinement. Everything runs in COLMAP's frame, then one similarity moves the
cameras, depth maps and splats into Wander's frame: +Y up (the cameras' mean up), the
cameras' centroid at x = z = 0, scaled by capture type (`align.place_capture`): a walk-through
with a floor found below the cameras has the floor at y = 0 and the cameras at eye height 1.5
(no floor: the median camera-to-point distance is 2); an object orbit has its centre at
x = z = 0 and the cameras 0.6 from it; an aerial capture has the ground at y = 0 and the
cameras 30 above it. The report states the type and the assumed scale.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress
from scene.camera import Camera
from scene.gaussians import GaussianCloud

from . import align
from .dense import DepthView, choose_neighbours, compute_depths
from .fuse import fill_gaps, fuse_views, fused_to_gaussians
from .options import ReconstructOptions
from .photos import Photo, ingest_photos, read_rgb
from .plan import StagePlan, plan_stages
from .ray_fill import fill_depthless
from .sky import add_sky, transform_far_field


@dataclass
class ReconstructResult:
    """Everything the job produced, in Wander's world frame."""

    cloud: GaussianCloud
    cameras: list[Camera]  # registered photos, at the original photo size
    status: dict[str, str]  # original photo name -> "registered" | reason
    depths: dict[str, DepthView]  # original name -> depth map (Wander units)
    points: np.ndarray  # (M, 3) sparse SfM points
    point_colors: np.ndarray  # (M, 3) uint8
    visible: dict[str, np.ndarray]  # original name -> sparse point indices seen
    similarity: np.ndarray  # 4×4: COLMAP frame -> Wander frame
    times: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    held_out: list[str] = field(default_factory=list)  # original names kept out of depth..refine
    capture: dict[str, Any] = field(default_factory=dict)  # align.place_capture: type, scale...
    # photos read upright by their EXIF orientation: name -> orientation 2..8 (the pixels
    # the cameras describe are the turned ones); empty when none needed turning
    exif_oriented: dict[str, int] = field(default_factory=dict)
    # where SfM's focal length started: {"source": "EXIF" | "option" | "default", "photos":
    # how many had one, "fov_x_deg": the median prior across the width}
    focal_prior: dict[str, Any] = field(default_factory=dict)
    # the working sizes used (`plan.StagePlan.as_dict`; "note" when many photos cut them)
    working_sizes: dict[str, Any] = field(default_factory=dict)

    def mark_video(self, video: Path) -> None:
        """Record that the photos are frames sampled from `video` (the layer's source and
        the scene's meta say "input": "video", so `info` calls it a reconstruction from a
        video)."""
        self.cloud.meta["input"] = "video"
        self.cloud.meta["video"] = Path(video).name


def reconstruct(
    photo_paths: Sequence[Path],
    options: ReconstructOptions | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    work_dir: Path | None = None,
) -> ReconstructResult:
    """Run the whole job on 2-100 photos (bad ones are skipped and reported).

    `options` are checked first (`ReconstructOptions.check`: OptionsError); the result,
    the scene's meta and everything `save_result` writes record them."""
    opts = options or ReconstructOptions()
    opts.check()
    paths = [Path(p) for p in photo_paths]
    if len(paths) < 2:
        raise ValueError(
            f"need at least 2 photos of the scene taken while moving; got {len(paths)}"
        )
    if len(paths) > 300:
        raise ValueError(f"{len(paths)} photos: at most 300 are supported (100 recommended)")
    if opts.backend != "sfm" and opts.colmap_dir is None:  # feed-forward route (model manager)
        from .feedforward import feedforward_ready, reconstruct_feedforward

        if opts.backend == "feedforward" or feedforward_ready():
            return reconstruct_feedforward(paths, opts, progress, cancel)
    weights = [
        ("read", 0.5),
        ("features", 3),
        ("matching", 3),
        ("mapping", 2),
        ("depth", 5),
        ("fusion", 1),
    ]
    weights.append(("refinement", _refine_weight(opts, len(paths), sum(w for _, w in weights))))
    stages = Stages(progress, weights, cancel)
    own_tmp = work_dir is None
    from scene.files import make_temp_dir

    work = make_temp_dir("recon") if own_tmp else Path(work_dir)
    try:
        return _run(paths, opts, stages, work, cancel)
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


def _run(
    paths: list[Path],
    opts: ReconstructOptions,
    stages: Stages,
    work: Path,
    cancel: CancelToken | None,
) -> ReconstructResult:
    from .sfm import load_colmap_model, sfm_extract, sfm_map, sfm_match

    img_dir = work / "images"
    plan = plan_stages(len(paths), opts)
    with stages("read") as rep:
        photos, status = ingest_photos(
            paths,
            img_dir,
            plan.sfm_size,
            rep,
            upright=opts.colmap_dir is None,
            root=(
                Path(os.path.commonpath([p.parent for p in paths]))
                if opts.colmap_dir is not None
                else None
            ),
        )
    by_work = {p.work_name: p for p in photos}
    intr = None
    if opts.intrinsics is not None:
        sizes = {p.orig_size for p in photos}
        if len(sizes) > 1:
            raise ValueError(
                "--intrinsics needs all photos to have the same size; got "
                + ", ".join(f"{w}x{h}" for w, h in sorted(sizes))
            )
        p0 = photos[0]
        s = p0.size[0] / p0.orig_size[0]
        intr = tuple(v * s for v in opts.intrinsics)
    if opts.colmap_dir is not None:
        with stages("features"):
            pass
        with stages("matching"):
            pass
        with stages("mapping") as rep:
            rep(0.1, "reading COLMAP model")
            # model names are the user's file names; work on the work copies
            res = load_colmap_model(
                opts.colmap_dir,
                [p.name for p in photos],
                sizes={p.name: p.orig_size for p in photos},
                undistort=True,
            )
            res = _rename_and_rescale(res, photos)
    else:
        names = [p.work_name for p in photos]
        with stages("features") as rep:
            db = sfm_extract(
                img_dir,
                names,
                work,
                intrinsics=intr,
                threads=opts.threads,
                report=rep,
                cancel=stages.cancel,
                max_features=plan.features,
                focal_priors={p.work_name: p.focal_px for p in photos if p.focal_px},
            )
        with stages("matching") as rep:
            # exhaustive matching grows with n²: long photo sets (taken in order while walking)
            # match each photo with its 20 successors instead
            seq = opts.sequential or len(names) > 50
            sfm_match(
                db,
                sequential=seq,
                threads=opts.threads,
                report=rep,
                cancel=stages.cancel,
                overlap=8 if opts.sequential else 20,
            )
        with stages("mapping") as rep:
            try:
                res = sfm_map(
                    db,
                    img_dir,
                    names,
                    work,
                    intrinsics=intr is not None,
                    threads=opts.threads,
                    report=rep,
                    cancel=stages.cancel,
                    sequential=seq,
                    labels={p.work_name: p.name for p in photos},
                )
            except ValueError as exc:
                # the files skipped on reading are named too: the failure's one line was
                # all a run said, and a photo refused as too large looked like no photo
                skipped = {n: s for n, s in status.items() if s.startswith("skipped")}
                if not skipped:
                    raise
                listed = "; ".join(f"{n}: {s}" for n, s in list(skipped.items())[:8])
                more = f"; and {len(skipped) - 8} more" if len(skipped) > 8 else ""
                raise ValueError(f"{exc} (also {listed}{more})") from exc
    for wname, st in res.status.items():
        status[by_work[wname].name if wname in by_work else wname] = st
    # held-out photos (llffhold): registered, so their cameras are known, but no part of
    # depth, fusion or refinement; `train` is every camera those stages see
    from .evaluate import holdout_names

    held = set(holdout_names([by_work[n].name for n in res.cameras if n in by_work], opts.holdout))
    train = {
        n: c for n, c in res.cameras.items() if n not in by_work or by_work[n].name not in held
    }
    if len(train) < 2:
        raise ValueError(
            f"--holdout {opts.holdout} leaves {len(train)} registered photo(s) to "
            f"build the scene from; need at least 2"
        )
    images, lens_valid = {}, {}
    for n in train:
        img = read_rgb(img_dir / n)
        if img is not None and n in by_work and by_work[n].name in res.lenses:
            img, lens_valid[n] = res.lenses[by_work[n].name].undistort(img)
        if img is None:
            raise ValueError(f"{n}: could not re-read the working copy")
        images[n] = img
    # world up: the cameras held level, or the table under an orbit of rolled cameras
    up = align.estimate_up_detail(list(res.cameras.values()), res.points)
    with stages("depth") as rep:
        depths = compute_depths(
            images,
            train,
            res.distortion,
            res.points,
            res.visible,
            max_size=plan.depth_size,
            planes=opts.planes,
            report=rep,
            valid=lens_valid,
            labels={w: ph.name for w, ph in by_work.items()},
            up=up.up,
        )
    with stages("fusion") as rep:
        neigh = choose_neighbours(train, res.visible, res.points)
        fused = fuse_views(
            depths,
            neigh,
            max_points=opts.max_points,
            report=rep,
            labels={w: ph.name for w, ph in by_work.items()},
        )
        fusion = {"agreed": len(fused), "one_view": 0, "ray_fill": 0}
        # an object orbit's photos look in from all sides: what only one photo's depth
        # knows, or none, is mostly the room behind the object, which the fills put round
        # it, in front of every other view (the capture as `place_capture` will tell it,
        # from the points fusion agreed on)
        kind, kind_source = opts.capture, "given"
        if kind == "auto":
            kind = align.capture_kind(list(res.cameras.values()), fused.points, up.up)
            kind_source = "detected from the points fusion agreed on"
        if kind == "orbit":
            fusion["fills_skipped"] = "an object orbit"
        if opts.fill_gaps and kind != "orbit":
            fused = fill_gaps(fused, depths, neigh, max_points=opts.max_points)
            fusion["one_view"] = len(fused) - fusion["agreed"]
        if opts.ray_fill and kind != "orbit":
            rep(0.9, "placing what stereo missed")
            fused, fusion["ray_fill"] = fill_depthless(fused, depths, max_points=opts.max_points)
        pts, nrms = fused.points, fused.normals
        # sky / far field: the last splats, counted in cloud.meta["far_field"]
        cloud = add_sky(fused_to_gaussians(fused), depths, fused.covered, stride=2 * fused.stride)
        far = cloud.meta.get("far_field")
        fusion["far_field"] = int(far.get("count", 0)) if isinstance(far, dict) else 0
        cloud.meta["fusion"] = fusion
    # COLMAP frame -> Wander frame
    s, r, t = align.wander_frame(
        list(res.cameras.values()), res.points, opts.target_depth, up=up.up
    )
    # scale and origin by capture type (walk: floor at y = 0, cameras at eye height; object
    # orbit: orbit radius; aerial: altitude), detected from the camera layout
    k, o, capture = align.place_capture(
        [align.transform_camera(c, s, r, t) for c in res.cameras.values()],
        pts.astype(np.float64) @ (s * r).T + t,
        nrms @ r.T,
        kind=kind,  # told once, before the fills (see above)
        kind_source=kind_source,
        eye_height=opts.eye_height,
        orbit_radius=opts.orbit_radius,
        aerial_height=opts.aerial_height,
    )
    capture["up"] = {"source": up.source, "detail": up.detail, "roll_deg": round(up.roll_deg, 1)}
    s, t = s * k, k * t + o
    sim = align.similarity(s, r, t)
    cloud = cloud.transformed(sim)
    transform_far_field(cloud.meta, s, r, t)
    cams_w: dict[str, Camera] = {
        n: align.transform_camera(c, s, r, t) for n, c in res.cameras.items()
    }
    depth_w: dict[str, DepthView] = {}
    for n, v in depths.items():
        depth_w[n] = DepthView(
            by_work[n].name,
            align.transform_camera(v.camera, s, r, t),
            v.image,
            (v.depth * s).astype(np.float32),
            v.score,
            v.valid,
        )
    with stages("refinement") as rep:
        if opts.refine_steps:
            budget_s, budget_why = opts.refine_budget(stages.elapsed())
            from .dense import undistort
            from .refine import refine_cloud

            # the photos at the working size (undistorted as the depth views are), not the
            # depth views' small copies: the optimiser's fine phase needs their detail
            names = [n for n in cams_w if n in depth_w]
            views = [
                (cams_w[n], undistort(images[n], cams_w[n], res.distortion.get(n, 0.0)))
                for n in names
            ]
            # stereo depth where the fused splats agree with it (several photos', or one
            # photo's that no other photo sees through): what the depth term pulls to
            targets = [
                np.where(fused.covered[n], depth_w[n].depth, 0.0).astype(np.float32) for n in names
            ]
            cloud = refine_cloud(
                cloud,
                views,
                depths=targets,
                depth_weight=opts.depth_weight,
                steps=opts.refine_steps,
                seconds=budget_s,
                size=opts.refine_size,
                device=opts.refine_device,
                report=rep,
                cancel=cancel,
                budget_source=budget_why,
            )
            # learnt exposure by photo name, and every photo's EXIF exposure (evaluate
            # predicts a held-out photo's from it: `exposure.view_affines`)
            from .exposure import name_exposure

            name_exposure(cloud.meta.get("refinement"), photos)
    if opts.backdrop:
        # where no photo looked, the sky the photos saw continues (no black void above the
        # horizon when the walker turns away from them), and its needles are shortened
        # (no streaks across the sky); renders at the photos' cameras hardly change
        # (sky_dome.py)
        from .sky_dome import (
            GROUND_REACH,
            MIN_SKY_BINS,
            MIN_SKY_BINS_AERIAL,
            complete_sky,
            shorten_far_needles,
        )

        # the training photos' cameras: what they looked at is theirs (held-out ones too
        # would leak where the evaluated photos point)
        train_cams = [cams_w[n] for n in depth_w]
        cloud, cut = shorten_far_needles(cloud, train_cams)
        aerial = capture.get("type") == "aerial"
        ground = bool(capture.get("ground_at_zero")) and capture.get("type") in ("walk", "aerial")
        from .ground_fill import ground_colour

        cloud, dome = complete_sky(
            cloud,
            train_cams,
            min_seen=MIN_SKY_BINS_AERIAL if aerial else MIN_SKY_BINS,
            ground_height=float(np.median([c.position[1] for c in train_cams]))
            if ground and train_cams
            else None,
            ground_rgb=ground_colour(cloud, train_cams) if ground and train_cams else None,
        )
        backdrop = {**dome.as_dict(), "needles_shortened": cut, "ground_discs": 0}
        if ground:
            # ... and the ground plane continues under and around the cameras out to the
            # sky (ground_fill.py), where no photo looked
            from .ground_fill import continue_ground

            if dome.radius > 0:
                r_max = GROUND_REACH * dome.radius  # half way to the sky sphere
            else:  # no sky: three times the scene's extent around the cameras
                mid = np.mean([c.position for c in train_cams], axis=0)
                xz = cloud.means[cloud.near_field_mask()][:, [0, 2]] - mid[[0, 2]]
                extent = float(np.percentile(np.linalg.norm(xz, axis=1), 95)) if len(xz) else 1.0
                r_max = 3.0 * extent
            cloud, backdrop["ground_discs"] = continue_ground(
                cloud,
                train_cams,
                r_max=r_max,
                level="floor" if capture.get("type") == "walk" else "low",
            )
        cloud.meta["backdrop"] = backdrop
    out_cams = []
    for n, c in cams_w.items():
        ph = by_work[n]
        cc = c.resized(*ph.orig_size)
        cc.name = ph.name
        # the cameras describe the photos as stored: keep the radial k1 the dense stage
        # removed (SIMPLE_RADIAL in the written model; k1 is scale-free)
        k1 = float(res.distortion.get(n, 0.0))
        cc.meta.pop("k1", None)
        if k1 != 0.0:
            cc.meta["k1"] = k1
        lens = res.lenses.get(ph.name)  # --colmap lens beyond k1: written back as it was
        if lens is not None:
            cc.meta.update(
                {
                    "colmap_model": lens.model,
                    "colmap_params": [float(v) for v in lens.pycolmap_camera(*ph.orig_size).params],
                    "colmap_size": list(ph.orig_size),
                }
            )
        out_cams.append(cc)
    cloud.meta.update(
        {
            "generator": "wander.reconstruct",
            "backend": "classical",
            "inputs": [p.name for p in photos],
            "options": _ran_options(opts, plan),
        }
    )
    return ReconstructResult(
        cloud=cloud,
        cameras=sorted(out_cams, key=lambda c: c.name),
        status=status,
        depths={v.name: v for v in depth_w.values()},
        points=(res.points @ (s * r).T + t),
        point_colors=res.colors,
        visible={by_work[n].name: v for n, v in res.visible.items() if n in by_work},
        similarity=sim,
        times=dict(stages.times),
        options=_ran_options(opts, plan),
        held_out=sorted(held),
        capture=capture,
        exif_oriented={p.name: p.orientation for p in photos if p.orientation != 1},
        focal_prior=_focal_prior_record(photos, opts, res.focal, res.cameras),
        working_sizes=plan.as_dict(),
    )


def _ran_options(opts: ReconstructOptions, plan: StagePlan) -> dict[str, Any]:
    """`opts.record()` with the SfM and depth sizes the run used (`plan`): with many
    photos under a run budget they are smaller than asked, and a trial's `info` of the
    scene listed --sfm-size 1600 --depth-size 400 for a run at 1088 and 320 px."""
    rec = opts.record()
    rec["max_image_size"] = int(plan.sfm_size)
    rec["depth_size"] = int(plan.depth_size)
    return rec


#: SfM's starting focal length without a prior (COLMAP's default), × the long side
DEFAULT_FOCAL_FACTOR = 1.2


#: seconds the stages before the optimisation take per photo on this class of machine (2 CPU
#: cores: 12 Buddha frames 51 s, 11 Sceaux photos 55 s, 12 small Great Wall frames 30 s)
PRE_S_PER_PHOTO = 4.0


def _refine_weight(opts: ReconstructOptions, photos: int, earlier: float) -> float:
    """The optimisation's share of the progress bar, against the `earlier` stages' summed
    weights: the seconds its budget will likely give it over the seconds they likely
    take (`PRE_S_PER_PHOTO`). With a fixed weight the bar reached 70 % in a quarter of a
    run and crawled for the rest (a trial). Without a time budget: as long as the rest."""
    if not opts.refine_steps:
        return 0.01
    pre = PRE_S_PER_PHOTO * max(photos, 1)
    budget, _ = opts.refine_budget(pre)
    if budget <= 0:
        return earlier
    return earlier * budget / pre


def _focal_prior_record(
    photos: list[Photo],
    opts: ReconstructOptions,
    refined: str = "",
    cameras: dict[str, Camera] | None = None,
) -> dict[str, Any]:
    """Where SfM's focal length started (the report's `focal_prior`); `refined`: what
    `sfm.refine_focal` made of an EXIF prior. `cameras`: the registered ones (work
    names); only their photos' EXIF counts, and without any they give what SfM made of
    its default guess: `fov_x_deg` (median across the
    photos), `change` (relative, of the focal length) and `registered`."""
    if opts.colmap_dir is not None:
        return {"source": "COLMAP model"}
    if opts.intrinsics is not None:
        return {"source": "option", "photos": len(photos)}
    with_f = [p for p in photos if p.focal_px]
    if cameras:
        # a folder mixing sets: what counts is whether the registered photos had one
        with_f = [p for p in with_f if p.work_name in cameras]
    if not with_f:
        out: dict[str, Any] = {"source": "default", "photos": 0}
        if cameras:
            cams = list(cameras.values())
            fov = [2 * math.degrees(math.atan(0.5 * c.width / c.fx)) for c in cams]
            change = [c.fx / (DEFAULT_FOCAL_FACTOR * max(c.width, c.height)) - 1.0 for c in cams]
            out.update(
                fov_x_deg=round(float(np.median(fov)), 2),
                change=round(float(np.median(change)), 3),
                registered=len(cams),
            )
        return out
    fov = [2 * math.degrees(math.atan(0.5 * p.size[0] / p.focal_px)) for p in with_f]
    return {
        "source": "EXIF",
        "photos": len(with_f),
        "fov_x_deg": round(float(np.median(fov)), 2),
        **({"refinement": refined} if refined else {}),
    }


def _rename_and_rescale(res, photos: list[Photo]):  # noqa: ANN001, ANN202
    """A COLMAP model names the user's files at their size: map to the work copies."""
    by_name = {p.name: p for p in photos}
    cams, dist, vis, status = {}, {}, {}, {}
    for n, c in res.cameras.items():
        ph = by_name[n]
        if (c.width, c.height) != ph.orig_size:
            raise ValueError(
                f"COLMAP model camera for {n} is {c.width}x{c.height} but the photo is "
                f"{ph.orig_size[0]}x{ph.orig_size[1]}"
            )
        cc = c.resized(*ph.size)
        cc.name = ph.work_name
        cams[ph.work_name] = cc
        dist[ph.work_name] = res.distortion.get(n, 0.0)
        vis[ph.work_name] = res.visible.get(n, np.zeros(0, np.int64))
    for n, st in res.status.items():
        status[by_name[n].work_name if n in by_name else n] = st
    res.cameras, res.distortion, res.visible, res.status = cams, dist, vis, status
    return res


# ------------------------------------------------------------------- outputs
def side_paths(out: Path, cameras_out: Path | None = None) -> dict[str, Path]:
    """Where the files beside a scene go: cameras (COLMAP text), depth maps, report, and
    the frames sampled from a video (the photos `evaluate` scores it against)."""
    out = Path(out)
    stem = out.with_suffix("")
    return {
        "cameras": Path(cameras_out) if cameras_out else Path(f"{stem}_cameras"),
        "depth": Path(f"{stem}_depth"),
        "frames": Path(f"{stem}_frames"),
        "report": Path(f"{stem}_report.json"),
    }


#: what a side folder may already hold for `save_result` to replace it as a whole
from scene.io.colmap import MODEL_FILE_NAMES as _CAMERA_FILES  # noqa: E402

_DEPTH_SUFFIXES = {".npy", ".png"}


def check_side_paths(out: Path, cameras_out: Path | None = None) -> dict[str, Path]:
    """`side_paths`, refusing targets `save_result` must not replace: a file where a
    folder goes, or a folder holding anything but an earlier result (the folder is
    replaced whole, so `--cameras-out ~/Documents` would have deleted it)."""
    paths = side_paths(out, cameras_out)
    for key, allowed in (
        ("cameras", lambda n: n in _CAMERA_FILES),
        ("depth", lambda n: Path(n).suffix.lower() in _DEPTH_SUFFIXES),
        ("frames", lambda n: Path(n).suffix.lower() in _DEPTH_SUFFIXES | {".jpg"}),
    ):
        p = paths[key]
        if p.exists() and not p.is_dir():
            raise ValueError(f"{p}: is a file; the {key} are written to a folder there")
        if p.is_dir():
            other = sorted(e.name for e in p.iterdir() if not (e.is_file() and allowed(e.name)))
            if other:
                raise ValueError(
                    f"{p} already holds other files ({', '.join(other[:3])}"
                    f"{'...' if len(other) > 3 else ''}); it would be replaced "
                    f"whole: choose a new or empty folder"
                )
    if paths["report"].is_dir():
        raise ValueError(f"{paths['report']}: is a folder, not a file")
    return paths


def save_result(
    result: ReconstructResult,
    out: Path,
    cameras_out: Path | None = None,
    frames: Sequence[Path] = (),
    photos: Sequence[Path] = (),
) -> dict[str, Path]:
    """Write the scene (3DGS .ply, or .compressed.ply / .splat / .spz / .wander by name), cameras
    (COLMAP text), depth maps (.npy + .png), a report and, for a video, the `frames` sampled
    from it (SCENE_frames/: the photos its cameras are named after, for `evaluate`). A
    `.wander` project carries the `photos` (or the frames) in it (`build_world`).

    Everything is written into temporary siblings first and renamed at the end, so a
    failure or cancel never leaves a half-written result that looks complete.
    """
    import cv2

    from .colmap_text import write_colmap_text

    out = Path(out)
    if out.is_dir():  # (before anything is written: the scene is committed last)
        raise ValueError(f"{out} is a folder; name the file to write (e.g. {out / 'scene.ply'})")
    fmt = scene_format(out)
    paths = check_side_paths(out, cameras_out)
    for p in (out.parent, paths["cameras"].parent):
        p.mkdir(parents=True, exist_ok=True)
    from scene.files import make_temp_dir, temp_name

    tmp_cams = make_temp_dir(paths["cameras"].name, paths["cameras"].parent)
    tmp_depth = make_temp_dir(paths["depth"].name, paths["depth"].parent)
    tmp_frames = make_temp_dir(paths["frames"].name, paths["frames"].parent) if frames else None
    tmp_ply = out.with_name(temp_name(out.name))  # keeps the extension
    tmp_report = paths["report"].with_name(temp_name(paths["report"].name))
    try:
        vis = [result.visible.get(c.name, np.zeros(0, np.int64)) for c in result.cameras]
        write_colmap_text(tmp_cams, result.cameras, result.points, result.point_colors, vis)
        for name, v in result.depths.items():
            stem = Path(name).stem
            np.save(tmp_depth / f"{stem}.npy", v.depth)
            cv2.imwrite(str(tmp_depth / f"{stem}.png"), depth_preview(v.depth))
        for f in frames:
            shutil.copyfile(f, tmp_frames / Path(f).name)  # type: ignore[operator]
        if fmt == "wander":
            from scene.project import save_project

            kept = [tmp_frames / Path(f).name for f in frames] if tmp_frames else photos
            save_project(build_world(result, out.stem, kept), tmp_ply)
        else:
            _write_scene(result.cloud, tmp_ply, fmt)
        report = {
            "generator": "wander.reconstruct",
            "input": result.cloud.meta.get("input", "photos"),
            **({"video": result.cloud.meta["video"]} if "video" in result.cloud.meta else {}),
            "scene": out.name,
            "splats": len(result.cloud),
            "photos": result.status,
            "registered": len(result.cameras),
            "held_out": list(result.held_out),
            # where --cameras-out put the COLMAP model (relative to this report), so
            # `evaluate` and the viewer find it when it is not SCENE_cameras
            "cameras_folder": os.path.relpath(paths["cameras"], paths["report"].parent),
            **(
                {"frames_folder": os.path.relpath(paths["frames"], paths["report"].parent)}
                if frames
                else {}
            ),
            # the photos' folder, so `evaluate SCENE` finds them without --photos
            **({"photos_folder": _photos_folder(photos)} if photos and not frames else {}),
            "capture": result.capture,
            "exif_orientation_applied": dict(result.exif_oriented),
            "focal_prior": dict(result.focal_prior),
            "working_sizes": dict(result.working_sizes),
            "stage_seconds": {k: round(v, 3) for k, v in result.times.items()},
            "options": result.options,
            # the report says what ran: no optimisation is a record too, not a null
            "refinement": result.cloud.meta.get("refinement")
            or {"steps": 0, "off": "not run: the scene is the fused depth splats"},
            "backdrop": result.cloud.meta.get("backdrop"),
            # splats several depths agreed on / from one photo's depth / placed on their rays
            "fusion": result.cloud.meta.get("fusion"),
            "colmap_to_world": result.similarity.tolist(),
            "depth_maps": {n: {"camera": v.camera.to_record()} for n, v in result.depths.items()},
        }
        tmp_report.write_text(json.dumps(report, indent=1))
        # commit: directories first, the scene last (its presence means "complete")
        _replace_dir(tmp_cams, paths["cameras"])
        _replace_dir(tmp_depth, paths["depth"])
        if tmp_frames is not None:
            _replace_dir(tmp_frames, paths["frames"])
        os.replace(tmp_report, paths["report"])
        os.replace(tmp_ply, out)
    finally:
        shutil.rmtree(tmp_cams, ignore_errors=True)
        shutil.rmtree(tmp_depth, ignore_errors=True)
        if tmp_frames is not None:
            shutil.rmtree(tmp_frames, ignore_errors=True)
        tmp_ply.unlink(missing_ok=True)
        tmp_report.unlink(missing_ok=True)
    written = {"scene": out, **paths}
    if not frames:
        written.pop("frames")
    return written


def _replace_dir(src: Path, dst: Path) -> None:
    from scene.files import default_dir_mode

    os.chmod(src, default_dir_mode())  # src came from mkdtemp (0700)
    if dst.exists():
        from scene.files import temp_name

        old = dst.with_name(temp_name(f"{dst.name}.old"))
        os.replace(dst, old)
        os.replace(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dst)


def scene_format(out: Path) -> str:
    """The splat format implied by the output name (.ply, .compressed.ply, .splat, .spz),
    or "wander" for a .wander project (scene layer, camera frusta, a bookmark per photo)."""
    from scene.io import FORMATS, format_for_path

    if Path(out).suffix.lower() == ".wander":
        return "wander"
    fmt = format_for_path(out)
    if fmt is None or FORMATS[fmt].kind != "cloud" or FORMATS[fmt].writer is None:
        names = sorted(
            e for f in FORMATS.values() if f.kind == "cloud" and f.writer for e in f.extensions
        )
        raise ValueError(
            f"{out}: give a Gaussian-splat file name ({', '.join(names)}) or a .wander project"
        )
    return fmt


def _write_scene(cloud: GaussianCloud, path: Path, fmt: str) -> None:
    from scene.io import save

    save(cloud, path, format=fmt)


def _photos_folder(photos: list[Path]) -> str:
    """The absolute folder that holds every photo (their common parent), as given: a
    folder of links to the photos is named, not where the links point (a trial's folder
    of links was reported as the folder the photos were linked from)."""
    return os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in photos])


def depth_preview(depth: np.ndarray) -> np.ndarray:
    """Colour-mapped preview (BGR uint8) of a depth map; unknown pixels black."""
    import cv2

    valid = depth > 0
    out = np.zeros(depth.shape + (3,), np.uint8)
    if not valid.any():
        return out
    inv = np.zeros_like(depth)
    inv[valid] = 1.0 / depth[valid]
    lo, hi = np.percentile(inv[valid], [2, 98])
    norm = np.clip((inv - lo) / max(hi - lo, 1e-12), 0, 1)
    col = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    out[valid] = col[valid]
    return out


def camera_records(cams: Sequence[Camera]) -> list[dict[str, Any]]:
    """JSON-able camera list (World.meta['cameras'])."""
    return [c.to_record() for c in cams]


def build_world(  # noqa: ANN201
    result: ReconstructResult, name: str = "Reconstruction", photos: Sequence[Path] = ()
):
    """A World with the scene as its base layer, the photo cameras as a frusta mesh layer
    ("Photo cameras", hideable) and in meta['cameras'], a bookmark per photo (the first
    training photo first: the viewer starts there) and an "Overview" bookmark last;
    meta['units'] is metres. `photos`: the files the scene was made from (a video's
    sampled frames), named in the layer's source: a project saved from the world carries
    them (scene/project.py inputs/), so it can be evaluated against them later."""
    from scene.camera import yaw_pitch_from_forward
    from scene.world import OVERVIEW_BOOKMARK, Bookmark, Layer, World

    world = World()
    ref = result.cloud.meta.get("refinement")
    world.add_layer(
        Layer(
            name,
            result.cloud,
            "world",
            source={
                "generator": "wander.reconstruct",
                "input": result.cloud.meta.get("input", "photos"),
                "options": result.options,
                # the steps the optimiser ran (a time budget may stop it before
                # options.refine_steps): `info` shows both
                **({"refined_steps": int(ref["steps"])} if isinstance(ref, dict) else {}),
                **({"photos": [str(p) for p in photos]} if photos else {}),
            },
        )
    )
    world.meta["cameras"] = camera_records(result.cameras)
    d = align.subject_distance(result.cameras, result.points)
    if d is not None:
        world.meta["subject_distance"] = round(d, 4)  # the viewer paces walking by it
    # placed in metres by capture type (align.place_capture): walking speed is metric,
    # not guessed from the extent (the far-field shell spans kilometres)
    world.meta["units"] = "m"
    # the frame is already levelled (align.estimate_up): tell the viewer not to re-guess up
    # from the mean camera up vector, which tilts when every photo looks down
    world.up_axis = np.array([0.0, 1.0, 0.0])
    world.meta["up_axis_source"] = "reconstruct"
    start_mode = align.START_MODES.get(result.capture.get("type"))
    if start_mode:  # an orbit is orbited, an aerial capture flown (align.START_MODES)
        world.meta["start_mode"] = start_mode
    world.meta["reconstruct"] = {
        "photos": result.status,
        "stage_seconds": {k: round(v, 3) for k, v in result.times.items()},
        "held_out": list(result.held_out),
        "capture": result.capture,
        "working_sizes": dict(result.working_sizes),
    }
    if result.cameras:
        from .preview import frusta_mesh

        spread = float(np.ptp(np.array([c.position for c in result.cameras]), axis=0).max())
        lo, hi = (
            result.cloud.robust_bounds(0.02) if len(result.cloud) else (np.zeros(3), np.ones(3))
        )
        size = max(spread, 0.05 * float(np.linalg.norm(hi - lo)), 1e-3)
        world.add_layer(
            Layer(
                "Photo cameras",
                frusta_mesh(result.cameras, 0.12 * size),
                "mesh",
                source={
                    "generator": "wander.reconstruct",
                    "input": result.cloud.meta.get("input", "photos"),
                    "what": "camera frusta",
                },
            )
        )
    # the first photo the scene was built from is the start view (bookmark 0: it looks
    # like the photo; the frusta are not drawn from a photo's own camera), the photos held
    # out for evaluation after the others, then an overview of the cameras and the scene
    held = set(result.held_out)
    photos = sorted(result.cameras, key=lambda c: (c.name in held, c.name))
    world.bookmarks.extend(Bookmark.of_photo(c) for c in photos)
    if result.cameras:
        from .preview import overview_camera

        ov = overview_camera(result.cameras)
        yaw, pitch = yaw_pitch_from_forward(ov.forward)
        world.bookmarks.append(Bookmark(OVERVIEW_BOOKMARK, ov.position, yaw, pitch, 60.0))
    world.clear_history()  # a new world: building it is not an edit to undo
    return world
