"""Structure from motion with pycolmap: SIFT features, matching, incremental mapping.

Input is a folder of already-normalised PNGs (see `photos.ingest_photos`). Output is an
`SfmResult` in COLMAP's own world frame: pinhole cameras per registered photo (plus the
radial distortion COLMAP estimated, which the dense stage undoes), sparse points and a
per-photo report saying why a photo was not registered.

When the first incremental-mapping pass leaves photos out (COLMAP split the photos into
several sub-models, or dropped some), mapping is retried before giving up: missing image
pairs are matched (exhaustive for frames matched sequentially), the pairs between the main
model and the left-out photos are re-matched with a looser ratio test, and the left-out
photos are registered into the largest model with relaxed registration thresholds
(`incremental_mapping(..., input_path=largest)`); last, a fresh relaxed pass. Photos still
left out are reported with the group they formed ("formed a separate group with ...").

COLMAP's own log (glog) goes to `colmap_log_path()` (truncated at every feature
extraction, i.e. every run), never to the terminal or the temp folder; see
`colmap_output`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import Cancelled, CancelToken
from scene.camera import Camera

Report = Callable[[float, str], None]

log = logging.getLogger(__name__)


@dataclass
class SfmResult:
    """Cameras and sparse structure in COLMAP's world frame."""

    cameras: dict[str, Camera]  # registered photo name -> pinhole camera
    distortion: dict[str, float]  # name -> SIMPLE_RADIAL k1 (0 = none)
    points: np.ndarray  # (M, 3) float64 sparse points
    colors: np.ndarray  # (M, 3) uint8
    visible: dict[str, np.ndarray] = field(default_factory=dict)  # name -> point indices seen
    status: dict[str, str] = field(default_factory=dict)  # name -> "registered" | reason
    passes: list[str] = field(default_factory=list)  # mapping passes run, in order
    # name -> lens still to be removed from the photo (load_colmap_model(undistort=True)):
    # undistort each photo with `lenses[name].undistort(img)`; `distortion` is 0 for these
    lenses: dict[str, ColmapLens] = field(default_factory=dict)
    focal: str = ""  # what became of the EXIF focal prior (`refine_focal`); "" without one


# ------------------------------------------------------------------ COLMAP's log
def log_dir() -> Path:
    """Wander's log folder: `$XDG_STATE_HOME/wander/logs` (default `~/.local/state/wander/logs`)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "wander" / "logs"


def colmap_log_path() -> Path:
    """The file COLMAP's raw log goes to (`colmap.log` beside Wander's own log)."""
    return log_dir() / "colmap.log"


_glog_lock = threading.RLock()  # guards the fd 2 redirect state below
_glog_depth = 0
_glog_saved_fd: int | None = None


def _pycolmap() -> Any:
    """Import pycolmap with glog set to write to stderr only (never log files in $TMPDIR)
    and, outside `colmap_output`, to stay silent below ERROR. Importing it installs glog's
    failure handler for SIGTERM too: a polite kill of the app then printed a stack trace
    ("*** Aborted at …", a trial); SIGTERM's handler is put back as it was."""
    from scene.io.colmap import import_pycolmap

    pycolmap = import_pycolmap()

    g = pycolmap.logging
    if not getattr(_pycolmap, "_done", False):
        g.logtostderr = True  # glog writes no *.INFO/WARNING files anywhere
        g.alsologtostderr = False
        g.minloglevel = 2  # outside colmap_output: errors only
        _pycolmap._done = True  # type: ignore[attr-defined]
    return pycolmap


@contextlib.contextmanager
def colmap_output(truncate: bool = False, title: str = "") -> Iterator[None]:
    """Send everything written to the process's stderr (fd 2: COLMAP's glog lines) to
    `colmap_log_path()` while the block runs; `truncate` starts a fresh file (one run).

    fd 2 is process-wide: while a block runs, other threads' stderr goes to the file too.
    Wrap progress callbacks called from inside COLMAP with `_to_terminal` so they still
    reach the real stderr. Falls back to /dev/null when the log folder is not writable.
    Nestable and thread-safe: overlapping blocks (two jobs) share one redirect, which
    ends with the last of them.
    """
    global _glog_depth, _glog_saved_fd
    pycolmap = _pycolmap()
    with _glog_lock:
        path = colmap_log_path()
        first = _glog_depth == 0
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate and first else os.O_APPEND)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            log.warning("cannot write COLMAP's log to %s (%s); discarding it", path, exc)
            fd = os.open(os.devnull, os.O_WRONLY)
        if title:
            os.write(fd, f"==== wander {time.strftime('%Y-%m-%d %H:%M:%S')} {title}\n".encode())
        if first:
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stderr
                sys.stderr.flush()
            _glog_saved_fd = os.dup(2)
            os.dup2(fd, 2)
            pycolmap.logging.minloglevel = 0
        os.close(fd)
        _glog_depth += 1
    try:
        yield
    finally:
        with _glog_lock:
            _glog_depth -= 1
            if _glog_depth == 0 and _glog_saved_fd is not None:
                pycolmap.logging.minloglevel = 2
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
                os.dup2(_glog_saved_fd, 2)
                os.close(_glog_saved_fd)
                _glog_saved_fd = None


def _to_terminal(report: Report) -> Report:
    """`report` with the real stderr restored while it runs (for progress bars on stderr
    called from inside a COLMAP call)."""

    def wrapped(f: float, m: str) -> None:
        with _glog_lock:
            saved = _glog_saved_fd
            if saved is None:
                report(f, m)
                return
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stderr
                sys.stderr.flush()
            here = os.dup(2)
            os.dup2(saved, 2)
            try:
                report(f, m)
            finally:
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.flush()
                os.dup2(here, 2)
                os.close(here)

    return wrapped


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


# ------------------------------------------------------------------ stages
def run_sfm(
    image_dir: Path,
    names: Sequence[str],
    work: Path,
    *,
    sequential: bool = False,
    intrinsics: tuple[float, float, float, float] | None = None,
    max_features: int = 8192,
    threads: int = -1,
    extract: Report | None = None,
    match: Report | None = None,
    mapping: Report | None = None,
    cancel: CancelToken | None = None,
    labels: dict[str, str] | None = None,
) -> SfmResult:
    """SIFT + matching (exhaustive, or sequential for video) + incremental mapping.

    `extract`, `match`, `mapping` are per-stage progress reporters (they also check cancel).
    Raises ValueError when fewer than two photos can be registered.
    """
    db = sfm_extract(
        image_dir,
        names,
        work,
        intrinsics=intrinsics,
        max_features=max_features,
        threads=threads,
        report=extract,
        cancel=cancel,
    )
    sfm_match(db, sequential=sequential, threads=threads, report=match, cancel=cancel)
    return sfm_map(
        db,
        image_dir,
        names,
        work,
        intrinsics=intrinsics is not None,
        threads=threads,
        report=mapping,
        cancel=cancel,
        labels=labels,
    )


def _noop(f: float, m: str) -> None:
    pass


def _cancelled_or_raise(cancel: CancelToken | None, exc: InterruptedError) -> None:
    """pycolmap raises InterruptedError when its token fires: that is our `Cancelled`
    when the job was cancelled; any other interruption is re-raised as it is."""
    if token_cancelled(cancel):
        raise Cancelled() from None
    raise exc


def token_cancelled(cancel: CancelToken | None) -> bool:
    """True when the job was cancelled (stop issuing further COLMAP calls)."""
    return cancel is not None and cancel.cancelled


def group_focal(names: Sequence[str], priors: dict[str, float] | None) -> float | None:
    """The focal prior (px) of photos sharing a camera: the median of their EXIF focal
    lengths when at least half of them have one, else None (COLMAP's default)."""
    have = [priors[n] for n in names if priors and priors.get(n)]
    if not have or 2 * len(have) < len(names):
        return None
    return float(np.median(have))


def _image_size(path: Path) -> tuple[int, int]:
    from scene.errors import SceneFormatError
    from scene.io.images import image_size

    try:
        return image_size(path)  # the header only, through the one image front door
    except SceneFormatError:
        return (0, 0)


def sfm_extract(
    image_dir: Path,
    names: Sequence[str],
    work: Path,
    *,
    intrinsics: tuple[float, float, float, float] | None = None,
    max_features: int = 8192,
    threads: int = -1,
    report: Report | None = None,
    cancel: CancelToken | None = None,
    focal_priors: dict[str, float] | None = None,
) -> Path:
    """SIFT features of `names` (files in `image_dir`, at their working size: SIFT never
    downsamples them) into a fresh `work/database.db`; returns its path.

    focal_priors: name -> focal length (px) from the photo's EXIF. The working copies are
    PNGs, whose missing EXIF left COLMAP its default guess of 1.2 x the long side (45°
    across the long side; a phone's main camera sees 65-70°); a shared camera at least
    half of whose photos have one starts from their median as a prior (`group_focal`).

    Starts a fresh COLMAP log (`colmap_log_path()`). Raises `Cancelled` on cancel.
    """
    pycolmap = _pycolmap()
    # COLMAP's process-wide random generator (what takes no seed option of its own): from
    # one state for every run, so a run does not depend on the ones before it in the same
    # process (a test's six photos registered five after other reconstructions, six alone).
    # Here, the first stage both `run_sfm` and the reconstruction pipeline call
    pycolmap.set_random_seed(0)
    report = _to_terminal(report or _noop)  # called inside colmap_output
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
    ext.max_image_size = -1  # register every photo at its working resolution
    ext.sift.max_num_features = max_features
    # one shared camera per image size (photos from one device share intrinsics; COLMAP's
    # AUTO mode gives every EXIF-less photo its own camera, which weakens the solution)
    groups: dict[tuple[int, int], list[str]] = {}
    for n in names:
        groups.setdefault(_image_size(image_dir / n), []).append(n)
    done = 0
    chunk = max(2, threads if threads > 0 else (os.cpu_count() or 2))
    token = pycolmap.CancellationToken()
    stop = _watch(cancel, token)
    try:
        with colmap_output(truncate=True, title=f"features: {len(names)} images in {image_dir}"):
            for (gw, gh), group in groups.items():
                # chunks of one image per core: COLMAP works on images in parallel, and the
                # progress bar moves between chunks; later chunks reuse the group's camera
                reader.existing_camera_id = -1
                if intrinsics is None:
                    f = group_focal(group, focal_priors)
                    # SIMPLE_RADIAL: f, cx, cy, k; given parameters are a focal prior
                    reader.camera_params = (
                        "" if f is None else f"{f:.6f},{gw / 2:.6f},{gh / 2:.6f},0"
                    )
                for k in range(0, len(group), chunk):
                    report(done / len(names), f"features: {done}/{len(names)} images")
                    part = group[k : k + chunk]
                    pycolmap.extract_features(
                        db,
                        image_dir,
                        image_names=part,
                        camera_mode=pycolmap.CameraMode.SINGLE,
                        reader_options=reader,
                        extraction_options=ext,
                        device=pycolmap.Device.cpu,
                        cancellation_token=token,
                    )
                    if token_cancelled(cancel):
                        break
                    if reader.existing_camera_id == -1:
                        with pycolmap.Database.open(db) as d:
                            im = d.read_image_with_name(part[0])
                            reader.existing_camera_id = int(im.camera_id)
                    done += len(part)
    except InterruptedError as exc:  # pycolmap's answer to its cancellation token
        _cancelled_or_raise(cancel, exc)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()
    try:
        kps, _ = _db_stats(db, names)
        mean = int(round(np.mean(list(kps.values())))) if kps else 0
    except Exception:  # noqa: BLE001 - the count only improves the message
        mean = 0
    # COLMAP's SIFT keeps up to max_features keypoints and may give one two orientations
    # (two descriptors): a trial read "4096 features a photo", then "6056 each"
    msg = (
        f"features: {len(names)}/{len(names)} images, {mean} descriptors each (mean; "
        f"up to {max_features} keypoints, some with two orientations)"
    )
    log.info(msg)
    report(1.0, msg)
    return db


def sfm_match(
    db: Path,
    *,
    sequential: bool = False,
    threads: int = -1,
    report: Report | None = None,
    cancel: CancelToken | None = None,
    overlap: int = 8,
) -> None:
    """Match features: exhaustive (photos), or each photo with its `overlap` successors
    (plus quadratically spaced ones) for frames or long photo sequences.

    Raises `Cancelled` on cancel.
    """
    pycolmap = _pycolmap()
    report = report or _noop
    token = pycolmap.CancellationToken()
    mopt = pycolmap.FeatureMatchingOptions()
    mopt.num_threads = threads
    cpu = pycolmap.Device.cpu
    stop = _watch(cancel, token)
    try:
        report(0.0, "matching: sequential pairs" if sequential else "matching: all pairs")
        with colmap_output(title="matching"):
            if sequential:
                pair = pycolmap.SequentialPairingOptions()
                pair.overlap = overlap
                pair.quadratic_overlap = True
                pycolmap.match_sequential(
                    db,
                    matching_options=mopt,
                    pairing_options=pair,
                    verification_options=_verification(),
                    device=cpu,
                    cancellation_token=token,
                )
            else:
                pycolmap.match_exhaustive(
                    db,
                    matching_options=mopt,
                    verification_options=_verification(),
                    device=cpu,
                    cancellation_token=token,
                )
    except InterruptedError as exc:  # pycolmap's answer to its cancellation token
        _cancelled_or_raise(cancel, exc)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()
    msg = "matching done"
    try:
        matched, verified = _pair_counts(db)
        msg = f"matching: {matched} pairs, {verified} verified"
    except Exception as exc:  # noqa: BLE001 - the counts only word the message
        log.warning("cannot count the matched pairs in %s: %s", db, exc)
    log.info(msg)
    report(1.0, msg)


def _verification() -> Any:
    """COLMAP's two-view geometry options with a fixed RANSAC seed: its default (-1) seeds
    from the clock, so one run of six photos registered all six and the next five."""
    ver = _pycolmap().TwoViewGeometryOptions()
    ver.ransac.random_seed = 0
    return ver


def _pair_counts(db: Path) -> tuple[int, int]:
    """(image pairs matched, pairs with a verified geometry of >= 15 inliers)."""
    pycolmap = _pycolmap()
    with pycolmap.Database.open(db) as d:
        ids, _ = d.read_num_matches()
        _, inl = d.read_two_view_geometry_num_inliers()
    return len(ids), int(sum(1 for k in inl if k >= 15))


# ------------------------------------------------------------------ mapping
def _mapping_options(
    n: int, intrinsics: bool, threads: int, relaxed: bool, hold_focal: bool = False
) -> Any:
    """IncrementalPipelineOptions for `n` photos; `relaxed` loosens initialisation and
    registration so that weakly connected photos join (a retry, after the default pass);
    `hold_focal` keeps the cameras' focal lengths at their (EXIF) priors while mapping
    (`refine_focal` frees them at the end)."""
    pycolmap = _pycolmap()
    opts = pycolmap.IncrementalPipelineOptions()
    opts.num_threads = threads
    opts.min_model_size = 2
    opts.random_seed = 0
    if n <= 6:
        # a handful of photos taken a step apart rarely give the 16° initial triangulation
        # angle COLMAP asks for; its own relaxation stops too early for them
        opts.mapper.init_min_tri_angle = 3.0
        opts.mapper.init_min_num_inliers = 50
    if n <= 3:
        # COLMAP skips tracks seen by only two photos; with 2-3 photos that is nearly all
        opts.triangulation.ignore_two_view_tracks = False
    if relaxed:
        m = opts.mapper
        m.init_min_num_inliers = min(m.init_min_num_inliers, 30)
        m.init_max_error = 6.0
        m.init_min_tri_angle = min(m.init_min_tri_angle, 4.0)
        m.init_max_reg_trials = 4
        m.abs_pose_min_num_inliers = 12
        m.abs_pose_min_inlier_ratio = 0.12
        m.abs_pose_max_error = 16.0
        m.max_reg_trials = 6
        opts.min_num_matches = 12
        opts.triangulation.ignore_two_view_tracks = False
        opts.init_num_trials = 400
    if intrinsics:
        opts.ba_refine_focal_length = False
        opts.ba_refine_extra_params = False
        opts.ba_refine_principal_point = False
    elif hold_focal:
        opts.ba_refine_focal_length = False
    return opts


def _all_priors(db: Path) -> bool:
    """Whether every camera in the database has a focal length prior (EXIF)."""
    pycolmap = _pycolmap()
    with pycolmap.Database.open(db) as d:
        cams = d.read_all_cameras()
    return bool(cams) and all(c.has_prior_focal_length for c in cams)


#: a focal length refined further than this from its EXIF prior is a degenerate fit
FOCAL_PRIOR_TOL = 0.06


def refine_focal(rec: Any, tol: float = FOCAL_PRIOR_TOL) -> tuple[Any, str]:
    """Free the focal lengths of a model mapped with them held at their EXIF priors: one
    global bundle adjustment refining focal length and distortion, kept when every
    camera's focal length moved less than `tol` (relative) from its prior. Returns (the
    model to use, a sentence for the log and the report).

    EXIF focal lengths are right to a few percent (a compact camera's: 3.7 % on the
    Sceaux set). Refined freely from the first pair on, a set with few points (800 over
    20 photos of a pillar walked around) traded focal length against distance: 47° across
    became 39°, the cameras' circle an egg and the scene 18 dB at its own photos. Held
    while mapping and freed at the end it stayed a circle (radius spread 0.4 %
    against 10 %)."""
    pycolmap = _pycolmap()
    prior = {cid: float(cam.mean_focal_length()) for cid, cam in rec.cameras.items()}
    trial = pycolmap.Reconstruction(rec)
    ba = pycolmap.BundleAdjustmentOptions()
    ba.refine_focal_length = True
    ba.refine_extra_params = True
    ba.refine_principal_point = False
    try:
        with colmap_output(title="focal refinement"):
            pycolmap.bundle_adjustment(trial, ba)
    except (RuntimeError, ValueError) as exc:  # Ceres gave up: the held model is sound
        log.warning("focal refinement failed, keeping the EXIF focal lengths: %s", exc)
        return rec, "focal length kept at the EXIF prior (its refinement failed)"
    change = max(
        abs(float(trial.cameras[cid].mean_focal_length()) / f0 - 1.0) for cid, f0 in prior.items()
    )
    if change <= tol:
        return trial, f"focal length refined from the EXIF prior by {100 * change:.1f} %"
    return rec, (
        f"focal length kept at the EXIF prior: refining it moved it {100 * change:.0f} % "
        f"(more than {100 * tol:.0f} %: a degenerate fit)"
    )


def _model_names(rec: Any) -> set[str]:
    """Names of the registered images of a pycolmap.Reconstruction."""
    return {im.name for im in rec.images.values() if im.has_pose}


def _rank(rec: Any) -> tuple[int, float]:
    """Sort key of a model: more registered images first, then lower reprojection error."""
    try:
        err = float(rec.compute_mean_reprojection_error())
    except Exception as exc:  # noqa: BLE001 - the count alone still ranks it
        log.debug("no reprojection error for a model: %s", exc)
        err = 0.0
    return (len(_model_names(rec)), -err)


def separate_groups(models: Sequence[set[str]], main: set[str]) -> dict[str, list[str]]:
    """For each photo outside `main`: the other photos of the first sub-model (largest
    first) it was registered in, without photos of `main` (empty list: no model had it).

    `models`: registered names per sub-model, from one or more mapping passes.
    """
    out: dict[str, list[str]] = {}
    for m in sorted(models, key=len, reverse=True):
        rest = sorted(set(m) - main)
        for n in rest:
            if n not in out and len(rest) > 1:
                out[n] = [k for k in rest if k != n]
    return out


#: ends the status of a photo in a group left out that is as large as the one built
TIE_NOTE = (
    ", as many as the group built (which one is built is arbitrary: give each place's "
    "photos on their own)"
)


def photo_status(
    names: Sequence[str],
    main: set[str],
    groups: dict[str, list[str]],
    keypoints: dict[str, int],
    pairs: dict[str, int],
    labels: dict[str, str] | None = None,
) -> dict[str, str]:
    """Status per photo: "registered", or why not (few features, no overlap, a separate
    group of photos, too few matches with the main model). `labels` maps a name to the
    name shown in messages (e.g. the user's file name for a working copy)."""
    lab = labels or {}
    status: dict[str, str] = {}
    for n in names:
        if n in main:
            status[n] = "registered"
        elif keypoints.get(n, 1) < 20:
            status[n] = (
                f"not registered: only {keypoints.get(n, 0)} features "
                "(blank, blurred or tiny photo)"
            )
        elif pairs.get(n, 1) == 0:
            status[n] = (
                "not registered: shares no verified matches with any other photo (no overlap)"
            )
        elif groups.get(n):
            others = [lab.get(k, k) for k in groups[n]]
            shown = ", ".join(others[:8]) + (
                f" and {len(others) - 8} more" if len(others) > 8 else ""
            )
            status[n] = (
                f"not registered: formed a separate group with {shown} "
                f"({len(others) + 1} photos) that shares too few matches with the "
                f"{len(main)} registered photos"
            )
            if len(others) + 1 >= len(main):  # a tie: which one was built is arbitrary
                status[n] += TIE_NOTE
        else:
            status[n] = (
                f"not registered: could not be placed among the {len(main)} registered "
                "photos (too few matches with them)"
            )
    return status


def sfm_map(
    db: Path,
    image_dir: Path,
    names: Sequence[str],
    work: Path,
    *,
    intrinsics: bool = False,
    threads: int = -1,
    report: Report | None = None,
    cancel: CancelToken | None = None,
    labels: dict[str, str] | None = None,
    sequential: bool = False,
    max_retries: int = 4,
) -> SfmResult:
    """Incremental mapping with retries until every photo that shares verified matches is
    in one model (see the module docstring); the largest model wins and the per-photo
    status explains the rest.

    `labels`: name shown in messages per photo name. `sequential`: the matching was
    sequential (frames), so a retry first matches all pairs. `max_retries`: most
    mapping passes after the default one (0: none). When every camera carries a focal
    length prior (EXIF, `sfm_extract(focal_priors=)`), the focal lengths are held while
    mapping and refined at the end within FOCAL_PRIOR_TOL (`refine_focal`). Raises
    ValueError when fewer than two photos can be registered, `Cancelled` on cancel.
    """
    pycolmap = _pycolmap()
    pycolmap.set_random_seed(0)  # as sfm_extract: the same state whatever ran before
    report = _to_terminal(report or _noop)
    n = len(names)
    hold = not intrinsics and _all_priors(db)
    models: list[set[str]] = []
    passes: list[str] = []
    best: Any = None

    def run(tag: str, out: Path, relaxed: bool, base: Path | None, lo: float, hi: float) -> None:
        nonlocal best
        opts = _mapping_options(n, intrinsics, threads, relaxed, hold_focal=hold)
        start = len(_model_names(best)) if (base is not None and best is not None) else 0
        count = [start]

        def next_image() -> None:
            count[0] += 1
            if not (cancel is not None and cancel.cancelled):
                report(
                    lo + (hi - lo) * min(count[0] / max(n, 1), 0.99),
                    f"mapping{tag}: {min(count[0], n)}/{n} registered",
                )

        token = pycolmap.CancellationToken()
        stop = _watch(cancel, token)
        try:
            with colmap_output(title=f"mapping{tag}"):
                recs = pycolmap.incremental_mapping(
                    db,
                    image_dir,
                    out,
                    options=opts,
                    input_path=str(base) if base else "",
                    next_image_callback=next_image,
                    cancellation_token=token,
                )
        except InterruptedError as exc:  # pycolmap's answer to its cancellation token
            _cancelled_or_raise(cancel, exc)
        finally:
            stop.set()
        if cancel is not None:
            cancel.check()
        found = [_model_names(r) for r in recs.values()]
        models.extend(m for m in found if m)
        passes.append(
            f"mapping{tag}: "
            + (" + ".join(str(len(m)) for m in sorted(found, key=len, reverse=True)) or "no model")
            + f" of {n} photos"
        )
        log.info(passes[-1])
        for r in recs.values():
            if best is None or _rank(r) > _rank(best):
                best = r

    run("", work / "sparse", False, None, 0.0, 0.6)
    try:
        kps, pairs = _db_stats(db, names)
    except Exception as exc:  # noqa: BLE001 - stats only improve the messages and the retry choice
        log.warning("cannot read the match statistics in %s: %s", db, exc)
        kps, pairs = {}, {}

    def left_out() -> list[str]:
        main = _model_names(best) if best is not None else set()
        return [k for k in names if k not in main and kps.get(k, 1) >= 20 and pairs.get(k, 1) > 0]

    # retries: more pairs between the main model and the rest, then register the rest into
    # the main model with relaxed thresholds, as long as that adds photos; a fresh relaxed
    # pass when it does not (another initial pair), then joining again from its model
    rematched: set[tuple[int, int]] = set()
    fresh_done = False
    for round_ in range(max_retries):
        if best is not None and not left_out():
            break
        before = len(_model_names(best)) if best is not None else 0
        lo = 0.6 + 0.39 * round_ / max_retries
        hi = 0.6 + 0.39 * (round_ + 1) / max_retries
        if best is not None and before >= 2:
            report(
                lo,
                f"mapping: {before}/{n} registered; joining the {_count(len(left_out()), 'photo')} "
                "left out",
            )
            _extra_matches(
                db,
                names,
                _model_names(best),
                all_pairs=sequential and round_ == 0,
                threads=threads,
                cancel=cancel,
                done=rematched,
            )
            try:
                kps, pairs = _db_stats(db, names)
            except Exception as exc:  # noqa: BLE001 - as above: the last counts stand
                log.warning("cannot read the match statistics in %s: %s", db, exc)
            base = work / f"sparse_main{round_}"
            base.mkdir(parents=True, exist_ok=True)
            best.write(base)
            run(" (join)", work / f"sparse_join{round_}", True, base, lo, hi)
            if len(_model_names(best)) > before:
                continue
        if fresh_done:
            break
        report(lo, "mapping: relaxed pass")
        run(" (relaxed)", work / "sparse_relaxed", True, None, lo, hi)
        fresh_done = True
        if best is not None and len(_model_names(best)) <= before:
            break
    main = _model_names(best) if best is not None else set()
    status = photo_status(names, main, separate_groups(models, main), kps, pairs, labels)
    if best is None:
        raise ValueError(
            "structure from motion found no camera poses: the photos need to overlap "
            "(each scene point seen from 2+ photos taken a step apart); "
            + "; ".join(f"{(labels or {}).get(k, k)}: {s}" for k, s in status.items())
        )
    said = ""
    if hold:
        best, said = refine_focal(best)
        log.info(said)
        passes.append(said)
    msg = f"mapping: {len(main)}/{n} registered"
    log.info(msg)
    report(1.0, msg)
    res = from_reconstruction(best, names, status)
    res.passes = passes
    res.focal = said
    return res


def _extra_matches(
    db: Path,
    names: Sequence[str],
    main: set[str],
    *,
    all_pairs: bool,
    threads: int,
    cancel: CancelToken | None,
    done: set[tuple[int, int]],
    per_photo: int = 6,
) -> None:
    """More matches for photos outside `main`: all pairs first when `all_pairs` (frames
    matched sequentially; at most 150 photos), then the `per_photo` most promising pairs
    (most raw matches, < 30 verified inliers) of each left-out photo with `main`, re-matched
    with a looser ratio test (0.9); 12 inliers at a 10 % inlier ratio make a verified pair. Pairs in
    `done` (image id pairs) are skipped; the re-matched ones are added to it."""
    pycolmap = _pycolmap()
    cpu = pycolmap.Device.cpu
    token = pycolmap.CancellationToken()
    stop = _watch(cancel, token)
    try:
        with colmap_output(title="extra matching"):
            if all_pairs and len(names) <= 150:
                mopt = pycolmap.FeatureMatchingOptions()
                mopt.num_threads = threads
                pycolmap.match_exhaustive(
                    db,
                    matching_options=mopt,
                    verification_options=_verification(),
                    device=cpu,
                    cancellation_token=token,
                )
            if cancel is not None:
                cancel.check()
            with pycolmap.Database.open(db) as d:
                id2name = {im.image_id: im.name for im in d.read_all_images()}
                ids, nmatch = d.read_num_matches()
                gids, ninl = d.read_two_view_geometry_num_inliers()
                inliers = {int(p): int(k) for p, k in zip(gids, ninl)}
                cand: dict[str, list[tuple[int, int, int]]] = {}
                for p, k in zip(ids, nmatch):
                    a, b = pycolmap.pair_id_to_image_pair(int(p))
                    na, nb = id2name.get(a), id2name.get(b)
                    if na is None or nb is None or ((na in main) == (nb in main)):
                        continue
                    out_name = nb if na in main else na
                    if inliers.get(int(p), 0) < 30 and k >= 12 and (a, b) not in done:
                        cand.setdefault(out_name, []).append((int(k), a, b))
                chosen = []
                for lst in cand.values():
                    chosen += [(a, b) for _, a, b in sorted(lst, reverse=True)[:per_photo]]
                done.update(chosen)
                for a, b in chosen:
                    d.delete_matches(a, b)
                    d.delete_two_view_geometry(a, b)
            if not chosen:
                return
            pairs_file = db.with_name("retry_pairs.txt")
            pairs_file.write_text("".join(f"{id2name[a]} {id2name[b]}\n" for a, b in chosen))
            mopt = pycolmap.FeatureMatchingOptions()
            mopt.num_threads = threads
            mopt.sift.max_ratio = 0.9
            mopt.sift.max_distance = 0.8
            pair = pycolmap.ImportedPairingOptions()
            pair.match_list_path = pairs_file
            ver = _verification()
            ver.min_num_inliers = 12
            ver.ransac.min_inlier_ratio = 0.1  # the looser ratio test admits more outliers
            pycolmap.match_image_pairs(
                db,
                matching_options=mopt,
                pairing_options=pair,
                verification_options=ver,
                device=cpu,
                cancellation_token=token,
            )
            log.info(
                "re-matched %d pairs between the main model and %d left-out photos",
                len(chosen),
                len(cand),
            )
    except InterruptedError as exc:  # pycolmap's answer to its cancellation token
        _cancelled_or_raise(cancel, exc)
    finally:
        stop.set()
    if cancel is not None:
        cancel.check()


def _db_stats(db: Path, names: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Keypoints per photo and the number of verified pairs (>= 12 inliers) each photo
    takes part in."""
    pycolmap = _pycolmap()

    kps: dict[str, int] = {}
    pairs: dict[str, int] = {n: 0 for n in names}
    with pycolmap.Database.open(db) as d:
        id2name = {im.image_id: im.name for im in d.read_all_images()}
        for iid, name in id2name.items():
            kps[name] = d.num_keypoints_for_image(iid)
        ids, geoms = d.read_two_view_geometries()
        for (a, b), g in zip(_pair_ids(ids), geoms):
            if len(g.inlier_matches) >= 12:
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


def from_reconstruction(
    rec,
    names: Sequence[str] | None = None,  # noqa: ANN001
    status: dict[str, str] | None = None,
    undistort: bool = False,
) -> SfmResult:
    """Convert a pycolmap.Reconstruction (from mapping or an existing model) to SfmResult.

    Lenses whose distortion is a radial k1 go into `distortion` (the dense stage removes
    it). Any other lens raises ValueError naming the model, unless `undistort`: then it
    goes into `lenses` (distortion 0) for the caller to remove with `ColmapLens.undistort`.
    """
    status = dict(status or {})
    cams: dict[str, Camera] = {}
    dist: dict[str, float] = {}
    lenses: dict[str, ColmapLens] = {}
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
        try:
            dist[im.name] = colmap_radial_k1(c)
        except ValueError:
            if not undistort:
                raise
            dist[im.name] = 0.0
            lenses[im.name] = ColmapLens.of(c)
        vis = [
            index[p.point3D_id] for p in im.points2D if p.has_point3D() and p.point3D_id in index
        ]
        visible[im.name] = np.asarray(vis, np.int64)
        status[im.name] = "registered"
    for n in names or []:
        status.setdefault(n, "not registered")
    if len(cams) < 2:
        raise ValueError(
            f"only {len(cams)} photo could be registered; need at least 2 overlapping "
            "photos. " + "; ".join(f"{n}: {s}" for n, s in status.items())
        )
    return SfmResult(cams, dist, pts, cols, visible, status, lenses=lenses)


#: COLMAP models that are exactly pinhole once their distortion parameters are zero
#: (a fisheye model with zero parameters is still an equidistant fisheye, not a pinhole)
_PERSPECTIVE_MODELS = {
    "SIMPLE_PINHOLE",
    "PINHOLE",
    "SIMPLE_RADIAL",
    "RADIAL",
    "OPENCV",
    "FULL_OPENCV",
    "FOV",
    "SIMPLE_DIVISION",
    "DIVISION",
}
#: the radial k1 term of the perspective models with a Brown–Conrady radial polynomial
_K1_NAME = {"SIMPLE_RADIAL": "k", "RADIAL": "k1", "OPENCV": "k1", "FULL_OPENCV": "k1"}


def colmap_model_name(c) -> str:  # noqa: ANN001
    """A pycolmap camera's model as COLMAP spells it ("OPENCV", "SIMPLE_FISHEYE", ...)."""
    m = c.model
    return m.name if hasattr(m, "name") else str(m).split(".")[-1]


def colmap_params(c) -> dict[str, float]:  # noqa: ANN001
    """A pycolmap camera's parameters by their documented names (`camera.params_info`),
    e.g. OPENCV -> {"fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2"}."""
    names = [n.strip() for n in str(c.params_info).split(",")]
    vals = [float(v) for v in np.asarray(c.params, np.float64)]
    if len(names) != len(vals):
        raise ValueError(
            f"COLMAP camera {colmap_model_name(c)} has {len(vals)} parameters, "
            f"expected {len(names)} ({c.params_info})"
        )
    return dict(zip(names, vals))


def colmap_radial_k1(c) -> float:  # noqa: ANN001
    """The one distortion term the dense stage removes (radial k1, OpenCV's `k1`, in
    normalised image coordinates) for a pycolmap camera, read by parameter name.

    Returns 0.0 for a camera without distortion. Raises ValueError (one line naming the
    model) for a camera whose lens cannot be made pinhole by a radial k1 alone: fisheye
    models (SIMPLE_FISHEYE, FISHEYE, OPENCV_FISHEYE, RADIAL_FISHEYE, ...), FOV / DIVISION
    with a non-zero parameter, or OPENCV / FULL_OPENCV / RADIAL with non-zero k2, p1, p2,
    k3..k6 — never treated as pinhole.
    """
    model = colmap_model_name(c)
    prm = colmap_params(c)
    if model not in _PERSPECTIVE_MODELS:
        raise ValueError(
            f"COLMAP camera model {model} ({c.params_info}) is not supported by "
            f"reconstruct --colmap: undistort the photos first (e.g. `colmap "
            f"image_undistorter`) and pass the PINHOLE model it writes"
        )
    intr = {"f", "fx", "fy", "cx", "cy"}
    k1_name = _K1_NAME.get(model)
    rest = {k: v for k, v in prm.items() if k not in intr and k != k1_name}
    bad = {k: v for k, v in rest.items() if abs(v) > 1e-12}
    if bad:
        terms = ", ".join(f"{k}={v:g}" for k, v in bad.items())
        raise ValueError(
            f"COLMAP camera model {model} with {terms}: reconstruct --colmap removes "
            f"only a radial k1 term; undistort the photos first (e.g. `colmap "
            f"image_undistorter`) and pass the PINHOLE model it writes"
        )
    return float(prm[k1_name]) if k1_name else 0.0


@dataclass(frozen=True)
class ColmapLens:
    """A COLMAP camera's lens, kept to undistort its photos: model name ("OPENCV",
    "OPENCV_FISHEYE", ...), the size the parameters are for, the parameters in COLMAP's
    documented order (`pycolmap.Camera.params_info`)."""

    model: str
    width: int
    height: int
    params: tuple[float, ...]

    @classmethod
    def of(cls, c) -> ColmapLens:  # noqa: ANN001
        return cls(
            colmap_model_name(c),
            int(c.width),
            int(c.height),
            tuple(float(v) for v in np.asarray(c.params, np.float64)),
        )

    def pycolmap_camera(self, width: int | None = None, height: int | None = None):  # noqa: ANN201
        """The lens as a pycolmap.Camera, rescaled to (width, height) when given."""
        pycolmap = _pycolmap()
        cam = pycolmap.Camera(
            model=self.model, width=self.width, height=self.height, params=list(self.params)
        )
        if width is not None and (width, height) != (self.width, self.height):
            cam.rescale(int(width), int(height))
        return cam

    def undistort(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Resample a photo taken through this lens (any size that is a uniform scale of
        the lens's) to the pinhole camera with the same focal length(s) and principal
        point at the photo's size: the camera `camera_from_colmap` returns.

        img: (H, W, C) or (H, W). Returns (pinhole image, same shape and dtype; (H, W) bool
        mask of pixels that hold photo content). The mapping is COLMAP's own projection
        (`Camera.img_from_cam`) for every model, so fisheye, FOV and division lenses are
        undone as COLMAP defines them: on a grid of nodes interpolated within MAP_TOL px of
        it (`_smooth_map`), else at every pixel; OpenCV's `remap` resamples (bilinear).
        """
        import cv2

        h, w = img.shape[:2]
        cam = self.pycolmap_camera(w, h)
        p = np.asarray(cam.params, np.float64)
        fi, ci = list(cam.focal_length_idxs()), list(cam.principal_point_idxs())
        fx = p[fi[0]]
        fy = p[fi[1]] if len(fi) > 1 else fx
        cx, cy = p[ci[0]], p[ci[1]]

        def source(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            """(..., 2) photo pixel (x, y) each pinhole pixel centre (u, v) comes from."""
            rays = np.stack([(u - cx) / fx, (v - cy) / fy, np.ones_like(u)], -1)
            xy = np.asarray(cam.img_from_cam(rays.reshape(-1, 3)), np.float64)
            return xy.reshape(*u.shape, 2) - 0.5

        src = _smooth_map(source, w, h)
        if src is None:  # a lens too curved (or undefined) somewhere for the coarse grid
            u, v = np.meshgrid(
                np.arange(w, dtype=np.float64) + 0.5, np.arange(h, dtype=np.float64) + 0.5
            )
            src = source(u, v)
        src = np.where(np.isfinite(src), src, -1e6).astype(np.float32)
        out = cv2.remap(
            img,
            src[..., 0],
            src[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        inside = (
            (src[..., 0] >= -0.5)
            & (src[..., 0] <= w - 0.5)
            & (src[..., 1] >= -0.5)
            & (src[..., 1] <= h - 0.5)
        )
        return out, inside


#: a lens's pixel map is computed on a grid of one node every MAP_STEP pixels and
#: interpolated (bilinear) between them: exact mapping of all 12 M pixels of a phone photo
#: cost 2.2 s of `evaluate`'s 8-12 s a view
MAP_STEP = 8
#: ... when, at sample pixels, the interpolation stays within this of the exact map (px);
#: else every pixel is mapped
MAP_TOL = 0.01


def _smooth_map(
    source: Callable[[np.ndarray, np.ndarray], np.ndarray], w: int, h: int
) -> np.ndarray | None:
    """(h, w, 2) float32: `source(u, v)` (pixel centres u = x + 0.5, v = y + 0.5 -> (..., 2))
    for every pixel of a w x h image, from a grid of nodes MAP_STEP pixels apart,
    interpolated bilinearly. None when a node is not finite or the interpolation misses
    the exact map by over MAP_TOL px at 2000 seeded sample pixels."""
    step = MAP_STEP
    if min(w, h) < 4 * step:
        return None
    xs = np.arange(0, (w - 1) // step + 2) * step  # nodes at pixels 0, step, ... >= w - 1
    ys = np.arange(0, (h - 1) // step + 2) * step
    nu, nv = np.meshgrid(xs + 0.5, ys + 0.5)
    nodes = source(nu, nv)  # (ny, nx, 2)
    if not np.isfinite(nodes).all():
        return None

    def cell(x: np.ndarray, y: np.ndarray) -> tuple:
        """Node indices (k, j) left of / above integer pixels x, y and the fractions."""
        k = np.minimum(x // step, len(xs) - 2)
        j = np.minimum(y // step, len(ys) - 2)
        return k, j, (x - k * step) / step, (y - j * step) / step

    rng = np.random.default_rng(0)
    sx, sy = rng.integers(0, w, 2000), rng.integers(0, h, 2000)
    k, j, f, g = cell(sx, sy)
    f, g = f[:, None], g[:, None]
    top = nodes[j, k] * (1.0 - f) + nodes[j, k + 1] * f
    bottom = nodes[j + 1, k] * (1.0 - f) + nodes[j + 1, k + 1] * f
    exact = source(sx + 0.5, sy + 0.5)  # (2000, 2)
    if not (np.abs(top * (1.0 - g) + bottom * g - exact) <= MAP_TOL).all():  # (NaN fails)
        return None
    # the whole map in float32 (1/4000 px at 4000 px; remap itself resolves 1/32 px)
    k, j, f, g = cell(np.arange(w), np.arange(h))
    f = f.astype(np.float32)[None, :, None]
    n32 = nodes.astype(np.float32)
    rows = n32[:, k] * (1.0 - f) + n32[:, k + 1] * f  # (ny, w, 2)
    g = g.astype(np.float32)[:, None, None]
    return rows[j] * (1.0 - g) + rows[j + 1] * g


def camera_from_colmap(c, im) -> Camera:  # noqa: ANN001
    """pycolmap camera + image -> our pinhole Camera (pixels, OpenCV world-to-camera).

    Focal lengths and principal point are read by COLMAP's own parameter indices
    (`focal_length_idxs`, `principal_point_idxs`), so every model reads correctly; the
    distortion is not part of the result (see `colmap_radial_k1`).
    """
    p = np.asarray(c.params, np.float64)
    fi = list(c.focal_length_idxs())
    ci = list(c.principal_point_idxs())
    fx = p[fi[0]]
    fy = p[fi[1]] if len(fi) > 1 else fx
    cx, cy = p[ci[0]], p[ci[1]]
    pose = im.cam_from_world()
    return Camera(
        int(c.width),
        int(c.height),
        float(fx),
        float(fy),
        float(cx),
        float(cy),
        np.asarray(pose.rotation.matrix()),
        np.asarray(pose.translation),
        im.name,
    )


def _rescaled(folder: Path, name: str, cam: Camera, size: tuple[int, int]) -> Camera:
    """`cam` at a photo `size` that is a uniform downscale of it (±1 px of rounding)."""
    w, h = size
    k = cam.width / w
    if not (k > 0 and abs(cam.height / k - h) <= 1):
        raise ValueError(
            f"{folder}: the model's camera for {name} is {cam.width}x{cam.height} "
            f"but the photo is {w}x{h} (neither the same size nor a downscaled "
            f"copy; a photo rotated by EXIF orientation must be read as stored)"
        )
    return cam.resized(w, h)


def load_colmap_model(
    path: Path,
    names: Sequence[str],
    sizes: dict[str, tuple[int, int]] | None = None,
    undistort: bool = False,
) -> SfmResult:
    """Read an existing COLMAP model folder (text or binary) as the SfM result.

    names: the photos' names as the model spells them (paths relative to the image folder,
    "/"-separated, e.g. "left/view_000.png"). sizes (optional): each photo's stored size
    (w, h); a photo that is a uniformly downscaled copy of the model's image (the
    `images_2` / `images_4` folders of 3DGS and nerfstudio datasets) gets the model's
    intrinsics rescaled to it, as those tools do. Cameras describe the stored pixels
    (COLMAP ignores EXIF orientation), so photos must be read without EXIF rotation.
    Raises ValueError (one line) for an unreadable model, a lens model that cannot be
    made pinhole (see `colmap_radial_k1`), a photo whose size is not the model's or a
    uniform downscale of it, or fewer than 2 photos in the model.
    undistort: accept every COLMAP lens; those a radial k1 cannot undo come back in
    `result.lenses` (keyed by the model's names) and the caller must resample each photo
    with `result.lenses[name].undistort(img)` before use.
    """
    pycolmap = _pycolmap()

    path = Path(path)
    cand = [path, path / "0", path / "sparse", path / "sparse" / "0"]
    for c in cand:
        if (c / "cameras.txt").exists() or (c / "cameras.bin").exists():
            try:
                rec = pycolmap.Reconstruction(str(c))
            except Exception as exc:  # noqa: BLE001
                raise ValueError(f"{c}: not a readable COLMAP model ({exc})") from None
            try:
                res = from_reconstruction(rec, names, undistort=undistort)
            except ValueError as exc:
                raise ValueError(f"{c}: {exc}") from None
            missing = [n for n in res.cameras if n not in set(names)]
            for n in missing:
                res.cameras.pop(n)
                res.lenses.pop(n, None)
                res.status[n] = "in the COLMAP model but its photo is missing"
            for n, cam in list(res.cameras.items()):
                if sizes and n in sizes and (cam.width, cam.height) != tuple(sizes[n]):
                    res.cameras[n] = _rescaled(c, n, cam, tuple(sizes[n]))
            if len(res.cameras) < 2:
                raise ValueError(
                    f"{c}: fewer than 2 of the model's images are among the photos "
                    f"(model names: {sorted(missing)[:5]}...)"
                )
            return res
    raise ValueError(
        f"{path}: no COLMAP model found (expected cameras.txt/bin in it or in sparse/0)"
    )


def _count(n: int, noun: str) -> str:
    """'1 photo', '3 photos'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
