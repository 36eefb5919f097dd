"""Structure from motion with pycolmap: SIFT features, matching, incremental mapping.

Input is a folder of already-normalised PNGs (see `photos.ingest_photos`). Output is an
`SfmResult` in COLMAP's own world frame: pinhole cameras per registered photo (plus the
radial distortion COLMAP estimated, which the dense stage undoes), sparse points and a
per-photo report saying why a photo was not registered.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from generators.jobs import CancelToken
from scene.camera import Camera

Report = Callable[[float, str], None]


@dataclass
class SfmResult:
    """Cameras and sparse structure in COLMAP's world frame."""

    cameras: dict[str, Camera]                    # registered photo name -> pinhole camera
    distortion: dict[str, float]                  # name -> SIMPLE_RADIAL k1 (0 = none)
    points: np.ndarray                            # (M, 3) float64 sparse points
    colors: np.ndarray                            # (M, 3) uint8
    visible: dict[str, np.ndarray] = field(default_factory=dict)  # name -> point indices seen
    status: dict[str, str] = field(default_factory=dict)          # name -> "registered" | reason


def _watch(cancel: CancelToken | None, token) -> threading.Event:  # noqa: ANN001
    """Poll our cancel token and forward it to pycolmap's; set the returned event to stop."""
    stop = threading.Event()
    if cancel is None:
        return stop

    def loop() -> None:
        while not stop.wait(0.1):
            if cancel.cancelled:
                token.cancel()
                return

    threading.Thread(target=loop, daemon=True).start()
    return stop


def run_sfm(image_dir: Path, names: Sequence[str], work: Path, *, sequential: bool = False,
            intrinsics: tuple[float, float, float, float] | None = None,
            max_features: int = 8192, threads: int = -1,
            extract: Report | None = None, match: Report | None = None, mapping: Report | None = None,
            cancel: CancelToken | None = None) -> SfmResult:
    """SIFT + matching (exhaustive, or sequential for video) + incremental mapping.

    `extract`, `match`, `mapping` are per-stage progress reporters (they also check cancel).
    Raises ValueError when fewer than two photos can be registered.
    """
    db = sfm_extract(image_dir, names, work, intrinsics=intrinsics, max_features=max_features,
                     threads=threads, report=extract, cancel=cancel)
    sfm_match(db, sequential=sequential, threads=threads, report=match, cancel=cancel)
    return sfm_map(db, image_dir, names, work, intrinsics=intrinsics is not None, threads=threads,
                   report=mapping, cancel=cancel)


def _noop(f: float, m: str) -> None:
    pass


def _image_size(path: Path) -> tuple[int, int]:
    from scene.errors import SceneFormatError
    from scene.io.images import image_size

    try:
        return image_size(path)  # the header only, through the one image front door
    except SceneFormatError:
        return (0, 0)


def sfm_extract(image_dir: Path, names: Sequence[str], work: Path, *,
                intrinsics: tuple[float, float, float, float] | None = None,
                max_features: int = 8192, threads: int = -1, report: Report | None = None,
                cancel: CancelToken | None = None) -> Path:
    """SIFT features of `names` into a fresh database in `work`; returns its path."""
    import pycolmap

    report = report or _noop
    work.mkdir(parents=True, exist_ok=True)
    db = work / "database.db"
    if db.exists():
        db.unlink()
    reader = pycolmap.ImageReaderOptions()
    if intrinsics is not None:
        reader.camera_model = "PINHOLE"
        reader.camera_params = ",".join(f"{v:.6f}" for v in intrinsics)
    else:
        reader.camera_model = "SIMPLE_RADIAL"
    ext = pycolmap.FeatureExtractionOptions()
    ext.num_threads = threads
    ext.sift.max_num_features = max_features
    # one shared camera per image size (photos from one device share intrinsics; COLMAP's
    # AUTO mode gives every EXIF-less photo its own camera, which weakens the solution)
    groups: dict[tuple[int, int], list[str]] = {}
    for n in names:
        groups.setdefault(_image_size(image_dir / n), []).append(n)
    done = 0
    token = pycolmap.CancellationToken()
    stop = _watch(cancel, token)
    try:
        for group in groups.values():
            report(done / len(names), f"features {done}/{len(names)}")
            pycolmap.extract_features(db, image_dir, image_names=group,
                                      camera_mode=pycolmap.CameraMode.SINGLE, reader_options=reader,
                                      extraction_options=ext, device=pycolmap.Device.cpu,
                                      cancellation_token=token)
            done += len(group)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()
    report(1.0, "features done")
    return db


def sfm_match(db: Path, *, sequential: bool = False, threads: int = -1, report: Report | None = None,
              cancel: CancelToken | None = None, overlap: int = 8) -> None:
    """Match features: exhaustive (photos), or each photo with its `overlap` successors
    (plus quadratically spaced ones) for frames or long photo sequences."""
    import pycolmap

    report = report or _noop
    token = pycolmap.CancellationToken()
    mopt = pycolmap.FeatureMatchingOptions()
    mopt.num_threads = threads
    cpu = pycolmap.Device.cpu
    stop = _watch(cancel, token)
    try:
        report(0.0, "matching")
        if sequential:
            pair = pycolmap.SequentialPairingOptions()
            pair.overlap = overlap
            pair.quadratic_overlap = True
            pycolmap.match_sequential(db, matching_options=mopt, pairing_options=pair, device=cpu,
                                      cancellation_token=token)
        else:
            pycolmap.match_exhaustive(db, matching_options=mopt, device=cpu, cancellation_token=token)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()
    report(1.0, "matching done")


def sfm_map(db: Path, image_dir: Path, names: Sequence[str], work: Path, *, intrinsics: bool = False,
            threads: int = -1, report: Report | None = None, cancel: CancelToken | None = None) -> SfmResult:
    """Incremental mapping; the largest model wins; per-photo status explains the rest."""
    import pycolmap

    report = report or _noop
    token = pycolmap.CancellationToken()
    opts = pycolmap.IncrementalPipelineOptions()
    opts.num_threads = threads
    opts.min_model_size = 2
    opts.random_seed = 0
    if len(names) <= 6:
        # a handful of photos taken a step apart rarely give the 16° initial triangulation
        # angle COLMAP asks for; its own relaxation stops too early for them
        opts.mapper.init_min_tri_angle = 3.0
        opts.mapper.init_min_num_inliers = 50
    if len(names) <= 3:
        # COLMAP skips tracks seen by only two photos; with 2-3 photos that is nearly all
        opts.triangulation.ignore_two_view_tracks = False
    if intrinsics:
        opts.ba_refine_focal_length = False
        opts.ba_refine_extra_params = False
        opts.ba_refine_principal_point = False
    count = [0]

    def next_image() -> None:
        count[0] += 1
        if not (cancel is not None and cancel.cancelled):
            report(min(count[0] / max(len(names), 1), 0.99), f"registered {count[0]} photos")

    stop = _watch(cancel, token)
    try:
        recs = pycolmap.incremental_mapping(db, image_dir, work / "sparse", options=opts,
                                            next_image_callback=next_image, cancellation_token=token)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()
    return _collect(db, recs, names)


def _db_stats(db: Path, names: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Keypoints per photo and the number of verified pairs each photo takes part in."""
    import pycolmap

    kps: dict[str, int] = {}
    pairs: dict[str, int] = {n: 0 for n in names}
    with pycolmap.Database.open(db) as d:
        id2name = {im.image_id: im.name for im in d.read_all_images()}
        for iid, name in id2name.items():
            kps[name] = d.num_keypoints_for_image(iid)
        ids, geoms = d.read_two_view_geometries()
        for (a, b), g in zip(_pair_ids(ids), geoms):
            if len(g.inlier_matches) >= 15:
                for i in (a, b):
                    if i in id2name:
                        pairs[id2name[i]] = pairs.get(id2name[i], 0) + 1
    return kps, pairs


def _pair_ids(ids) -> list[tuple[int, int]]:  # noqa: ANN001
    """pycolmap returns pair ids either as (a, b) tuples or packed 64-bit integers."""
    out = []
    for p in ids:
        if isinstance(p, (tuple, list)) or hasattr(p, "__len__"):
            out.append((int(p[0]), int(p[1])))
        else:
            p = int(p)
            b = p % 2147483647
            out.append(((p - b) // 2147483647, b))
    return out


def _collect(db: Path, recs: dict, names: Sequence[str]) -> SfmResult:
    """Pick the largest model and turn it into our cameras, points and per-photo status."""
    try:
        kps, pairs = _db_stats(db, names)
    except Exception:  # noqa: BLE001 - stats only improve the messages
        kps, pairs = {}, {}
    status: dict[str, str] = {}
    for n in names:
        if kps.get(n, 1) < 20:
            status[n] = f"not registered: only {kps.get(n, 0)} features (blank, blurred or tiny photo)"
        elif pairs.get(n, 1) == 0:
            status[n] = "not registered: shares no verified matches with any other photo (no overlap)"
        else:
            status[n] = "not registered: could not be placed in the main model (too few matches)"
    if not recs:
        raise ValueError("structure from motion found no camera poses: the photos need to overlap "
                         "(each scene point seen from 2+ photos taken a step apart); " +
                         "; ".join(f"{n}: {s}" for n, s in status.items()))
    rec = max(recs.values(), key=lambda r: r.num_reg_images())
    return from_reconstruction(rec, names, status)


def from_reconstruction(rec, names: Sequence[str] | None = None,  # noqa: ANN001
                        status: dict[str, str] | None = None) -> SfmResult:
    """Convert a pycolmap.Reconstruction (from mapping or an existing model) to SfmResult."""
    status = dict(status or {})
    cams: dict[str, Camera] = {}
    dist: dict[str, float] = {}
    pids = sorted(rec.points3D.keys())
    index = {pid: i for i, pid in enumerate(pids)}
    pts = np.array([rec.points3D[p].xyz for p in pids], np.float64).reshape(-1, 3)
    cols = np.array([rec.points3D[p].color for p in pids], np.uint8).reshape(-1, 3)
    visible: dict[str, np.ndarray] = {}
    for im in rec.images.values():
        if not im.has_pose:
            continue
        c = rec.cameras[im.camera_id]
        cams[im.name] = camera_from_colmap(c, im)
        model = str(c.model).split(".")[-1]
        dist[im.name] = float(c.params[3]) if model == "SIMPLE_RADIAL" else 0.0
        if model in ("RADIAL", "OPENCV", "FULL_OPENCV"):
            dist[im.name] = float(c.params[3])  # the dominant k1 term; others are ignored
        vis = [index[p.point3D_id] for p in im.points2D if p.has_point3D() and p.point3D_id in index]
        visible[im.name] = np.asarray(vis, np.int64)
        status[im.name] = "registered"
    for n in names or []:
        status.setdefault(n, "not registered")
    if len(cams) < 2:
        raise ValueError(f"only {len(cams)} photo could be registered; need at least 2 overlapping "
                         "photos. " + "; ".join(f"{n}: {s}" for n, s in status.items()))
    return SfmResult(cams, dist, pts, cols, visible, status)


def camera_from_colmap(c, im) -> Camera:  # noqa: ANN001
    """pycolmap camera + image -> our pinhole Camera (distortion dropped)."""
    model = str(c.model).split(".")[-1]
    p = np.asarray(c.params, np.float64)
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL", "SIMPLE_RADIAL_FISHEYE", "RADIAL_FISHEYE"):
        fx = fy = p[0]
        cx, cy = p[1], p[2]
    else:  # PINHOLE, OPENCV, FULL_OPENCV ... start with fx, fy, cx, cy
        fx, fy, cx, cy = p[:4]
    pose = im.cam_from_world()
    return Camera(int(c.width), int(c.height), float(fx), float(fy), float(cx), float(cy),
                  np.asarray(pose.rotation.matrix()), np.asarray(pose.translation), im.name)


def load_colmap_model(path: Path, names: Sequence[str]) -> SfmResult:
    """Read an existing COLMAP model folder (text or binary) as the SfM result."""
    import pycolmap

    path = Path(path)
    cand = [path, path / "0", path / "sparse", path / "sparse" / "0"]
    for c in cand:
        if (c / "cameras.txt").exists() or (c / "cameras.bin").exists():
            try:
                rec = pycolmap.Reconstruction(str(c))
            except Exception as exc:  # noqa: BLE001
                raise ValueError(f"{c}: not a readable COLMAP model ({exc})") from None
            res = from_reconstruction(rec, names)
            missing = [n for n in res.cameras if n not in set(names)]
            for n in missing:
                res.cameras.pop(n)
                res.status[n] = "in the COLMAP model but its photo is missing"
            if len(res.cameras) < 2:
                raise ValueError(f"{c}: fewer than 2 of the model's images are among the photos "
                                 f"(model names: {sorted(missing)[:5]}...)")
            return res
    raise ValueError(f"{path}: no COLMAP model found (expected cameras.txt/bin in it or in sparse/0)")
