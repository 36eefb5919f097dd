"""Scene quality at known cameras, as every 3DGS tool reports it: PSNR and SSIM of the
render against the photo, over the full frame, per view and averaged (training and
held-out views separately).

Pure NumPy / scikit-image (no Qt, no GL): the renderer is injected as a function
`render(camera) -> (rgb (H, W, 3) uint8, alpha (H, W) float32 in 0..1)`, so the CLI can
use the viewer's own OpenGL renderer and the tests a fake one.

Conventions
- Images are 8-bit RGB, compared at the photo's resolution (or both downscaled by
  `max_size`). Pixels no splat covers count as rendered background (black): a scene
  that covers half the frame is judged on the whole frame, as users see it.
- PSNR = 10 log10(255² / MSE) over all pixels and channels (Mip-NeRF 360 / 3DGS
  `psnr`); identical images give `PSNR_CAP` instead of infinity so reports stay JSON.
- SSIM: Wang et al. 2004 with an 11×11 Gaussian window, σ = 1.5, population
  covariances, K1 = 0.01, K2 = 0.03, averaged over the RGB channels (the 3DGS
  `ssim` and scikit-image's `structural_similarity(gaussian_weights=True,
  use_sample_covariance=False, sigma=1.5)`).
- Coverage: fraction of pixels whose accumulated splat opacity is at least 0.5.
  `psnr_masked` is PSNR over those covered pixels only (secondary; it flatters a scene
  that covers little and is reported only to compare with earlier masked figures).
- Cameras are COLMAP/OpenCV world-to-camera cameras (`scene.camera.Camera`), matched to
  photos by image name. The scene is rendered at the pinhole part of each camera; a
  camera with a lens (meta "colmap_model"/"colmap_params" from `read_colmap`, or a bare
  meta "k1") has its photo undistorted through that lens to the pinhole camera first, as
  3DGS evaluates on COLMAP-undistorted images. PSNR and SSIM then score only the pixels
  the undistorted photo covers (the empty border a barrel removal leaves is excluded and
  reported per view as `photo_coverage`); `coverage` stays the render's. A camera whose
  size differs from the photo on disk is rescaled (intrinsics × photo size / camera size)
  when the aspect ratio agrees within 1 %.
- Held-out views follow the `llffhold` convention of Mip-NeRF 360 and 3DGS: every k-th
  registered photo by sorted name, indices 0, k, 2k… (`holdout_names`).
"""

from __future__ import annotations

import glob
import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from scene.camera import Camera

log = logging.getLogger(__name__)

#: PSNR reported for identical images (an infinite PSNR is not valid JSON)
PSNR_CAP = 100.0
#: a pixel counts as covered when the splats' accumulated opacity reaches this
COVERED_ALPHA = 0.5
#: largest relative aspect-ratio difference between a camera and its photo that is
#: treated as a rescale of the same image (beyond it the photo is a different crop)
ASPECT_TOL = 0.01

RenderFn = Callable[[Camera], tuple[np.ndarray, np.ndarray]]


# ------------------------------------------------------------------ metrics
def psnr(rendered: np.ndarray, photo: np.ndarray) -> float:
    """PSNR in dB of two (H, W, 3) uint8 images, peak 255, over every pixel and channel.

    Returns `PSNR_CAP` for identical images. Raises ValueError on a shape mismatch.
    """
    a, b = _pair(rendered, photo)
    mse = _sum_squared_error(a, b) / a.size
    if mse <= 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


#: SSIM's Gaussian window (Wang et al. 2004, as 3DGS and skimage's gaussian_weights):
#: σ 1.5 px, 11 taps (skimage's truncate 3.5 → radius 5); its constants K1, K2 at 8 bits
SSIM_SIGMA = 1.5
SSIM_WIN = 11
SSIM_C1 = (0.01 * 255.0) ** 2
SSIM_C2 = (0.03 * 255.0) ** 2
#: the same SSIM as `skimage.metrics.structural_similarity(a, b, **SKIMAGE_SSIM)`: the
#: reference twin `ssim` is tested and benchmarked against
SKIMAGE_SSIM = dict(
    data_range=255, channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
)


def ssim(rendered: np.ndarray, photo: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM of two (H, W, 3) uint8 images (Gaussian window σ 1.5, 11×11, as 3DGS).

    Wang et al. 2004 with the settings of `skimage.metrics.structural_similarity(...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)`, its
    reflected borders and its mean over the map less a 5-px border, channel by channel;
    computed with OpenCV's separable Gaussian in float32 (5-7x faster than skimage at
    12 MP, a third of its memory; the two agree within 1e-5, 2e-7 on a 12 MP photo pair:
    tests/test_recon_evaluate.py, bench/evaluate_metrics.py).
    mask (optional, (H, W) bool): average the SSIM map only over these pixels (the 5-px
    border crop still applies); with no mask, or a mask that is all set, the plain mean.
    Returns 0.0 when the mask leaves no pixel. Raises ValueError for images smaller than
    the 11-px window or of different shapes.
    """
    import cv2

    a, b = _pair(rendered, photo)
    if min(a.shape[:2]) < SSIM_WIN:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WIN}x{SSIM_WIN} pixels, got "
            f"{a.shape[1]}x{a.shape[0]}"
        )
    pad = (SSIM_WIN - 1) // 2
    inner = (slice(pad, -pad), slice(pad, -pad))
    mm = None
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != a.shape[:2]:
            raise ValueError(f"mask {m.shape} does not match the images {a.shape[:2]}")
        mm = m[inner]
        if not mm.any():
            return 0.0

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (SSIM_WIN, SSIM_WIN), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    total = 0.0
    for ch in range(3):  # one channel at a time: 12 MP float32 maps, not three at once
        x = a[..., ch].astype(np.float32)
        y = b[..., ch].astype(np.float32)
        ux, uy = blur(x), blur(y)
        vx = blur(x * x) - ux * ux
        vy = blur(y * y) - uy * uy
        vxy = blur(x * y) - ux * uy
        smap = ((2 * ux * uy + SSIM_C1) * (2 * vxy + SSIM_C2)) / (
            (ux * ux + uy * uy + SSIM_C1) * (vx + vy + SSIM_C2)
        )
        sm = smap[inner]
        total += float(sm.mean(dtype=np.float64) if mm is None else sm[mm].mean(dtype=np.float64))
    return total / 3.0


def psnr_masked(rendered: np.ndarray, photo: np.ndarray, mask: np.ndarray) -> float | None:
    """PSNR in dB over the pixels where the (H, W) bool `mask` is set (None if none is)."""
    a, b = _pair(rendered, photo)
    m = np.asarray(mask, bool)
    if m.shape != a.shape[:2]:
        raise ValueError(f"mask {m.shape} does not match the images {a.shape[:2]}")
    count = int(m.sum())
    if not count:
        return None
    mse = _sum_squared_error(a, b, m) / (count * a.shape[2])
    return PSNR_CAP if mse <= 0.0 else min(PSNR_CAP, 10.0 * math.log10(255.0**2 / mse))


def coverage(alpha: np.ndarray) -> float:
    """Fraction of pixels of an (H, W) opacity map in 0..1 that are at least `COVERED_ALPHA`."""
    a = np.asarray(alpha)
    return float(np.mean(a >= COVERED_ALPHA)) if a.size else 0.0


def _sum_squared_error(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Sum over pixels (those where the (H, W) bool `mask` is set, if given) and channels
    of the squared differences of two (H, W, 3) images: for uint8 ones OpenCV's
    `norm(NORM_L2SQR)` in one pass (exact; a 12 MP pair with a mask in a twentieth of the
    time of NumPy's boolean indexing), other dtypes in float64 NumPy."""
    if a.dtype == np.uint8 and b.dtype == np.uint8:
        import cv2

        m = None if mask is None else np.ascontiguousarray(mask, np.uint8)
        return float(
            cv2.norm(np.ascontiguousarray(a), np.ascontiguousarray(b), cv2.NORM_L2SQR, mask=m)
        )
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    return float(d.sum() if mask is None else d[mask].sum())


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"need two (H, W, 3) images of one size; got {a.shape} and {b.shape}")
    return a, b


# ------------------------------------------------------------------ holdout
def holdout_names(names: Iterable[str], every: int) -> list[str]:
    """The held-out photos of the `llffhold` convention: sorted names at indices 0, k, 2k…

    `every` = 0 (or less) holds nothing out. Returns the names in sorted order.
    """
    ordered = sorted(set(names))
    if every <= 0:
        return []
    return [n for i, n in enumerate(ordered) if i % every == 0]


# ------------------------------------------------------------------ photos
def read_photo(path: Path, apply_exif: bool) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a photo file, EXIF orientation applied or not.

    COLMAP (and so every 3DGS tool) describes pixels as stored in the file; Wander's own
    `reconstruct` applies the EXIF orientation first. Raises ValueError when unreadable.
    """
    import cv2

    flags = cv2.IMREAD_COLOR if apply_exif else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    data = np.fromfile(str(path), np.uint8)
    img = cv2.imdecode(data, flags) if data.size else None
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return np.ascontiguousarray(img[..., ::-1])


def find_photo(photos_dir: Path, name: str) -> Path | None:
    """The photo a COLMAP image name refers to: `photos_dir/name`, else the same base name,
    else the same stem with another image extension (e.g. a PNG copy of a JPEG).

    Only inside `photos_dir`: an absolute name or one with '..' parts (from a crafted
    model or project) is looked up by its base name alone, and glob characters in it
    match only themselves; such a name copied a photo from anywhere on the machine into
    `evaluate`'s side-by-side images."""
    rel = PurePath(str(name).replace("\\", "/"))
    if not rel.is_absolute() and ".." not in rel.parts and rel.parts:
        p = photos_dir / rel
        if p.is_file():
            return p
    base = rel.name
    if not base or base in (".", ".."):
        return None
    if (photos_dir / base).is_file():
        return photos_dir / base
    stem = glob.escape(Path(base).stem)
    for cand in sorted(photos_dir.glob(f"{stem}.*")):
        if cand.is_file() and cand.suffix.lower() in {
            ".jpg",
            ".jpeg",
            ".png",
            ".tif",
            ".tiff",
            ".bmp",
            ".webp",
        }:
            return cand
    return None


def fit_camera_to_photo(cam: Camera, width: int, height: int) -> Camera:
    """`cam` at the photo's size: intrinsics scaled by photo size / camera size.

    Raises ValueError when the aspect ratios differ by more than `ASPECT_TOL` (a crop or
    a rotated photo, not a rescale).
    """
    if (cam.width, cam.height) == (width, height):
        return cam
    ra, rb = cam.width / cam.height, width / height
    if abs(ra / rb - 1.0) > ASPECT_TOL:
        raise ValueError(
            f"camera is {cam.width}x{cam.height} but the photo is {width}x{height} "
            f"(different aspect ratio)"
        )
    return cam.resized(width, height)


#: COLMAP models that are a plain pinhole (nothing to undistort)
_PINHOLE_MODELS = {"PINHOLE", "SIMPLE_PINHOLE"}


def camera_lens(cam: Camera):  # noqa: ANN201 - ColmapLens | None
    """The lens of a camera as read by `scene.io.colmap.read_colmap` (meta "colmap_model"
    and "colmap_params" at the camera's size), or an OPENCV lens with only k1 for a camera
    that carries just meta "k1"; None for a pinhole camera (nothing to undistort)."""
    from .sfm import ColmapLens

    model = cam.meta.get("colmap_model")
    params = cam.meta.get("colmap_params")
    if model is not None and params is not None:
        if model in _PINHOLE_MODELS:
            return None
        lens = ColmapLens(
            str(model), int(cam.width), int(cam.height), tuple(float(v) for v in params)
        )
        k = {"SIMPLE_RADIAL": 3, "RADIAL": 3}.get(str(model))
        if k is not None and not any(lens.params[k:]):
            return None
        return lens
    k1 = float(cam.meta.get("k1", 0.0) or 0.0)
    if k1 == 0.0:
        return None
    return ColmapLens(
        "OPENCV",
        int(cam.width),
        int(cam.height),
        (float(cam.fx), float(cam.fy), float(cam.cx), float(cam.cy), k1, 0.0, 0.0, 0.0),
    )


def undistort_photo(photo: np.ndarray, lens) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """A photo (H, W, 3) uint8 taken through `lens` (a `ColmapLens`, or None) resampled to
    the lens's pinhole camera at the photo's size (same focal lengths and principal
    point). Returns (image (H, W, 3) uint8, black where the photo has no content;
    (H, W) bool mask of the pixels it covers). None: the photo and an all-set mask."""
    if lens is None:
        return photo, np.ones(photo.shape[:2], bool)
    out, inside = lens.undistort(photo)
    out = np.where(inside[..., None], out, 0).astype(np.uint8)
    return out, inside


def downscale_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W) bool mask at (width, height): a pixel is set only when all it covers is."""
    if mask.shape == (height, width):
        return mask
    import cv2

    area = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    return area >= 0.999


def downscale(img: np.ndarray, cam: Camera, max_size: int | None) -> tuple[np.ndarray, Camera]:
    """Photo and camera scaled so the long side is at most `max_size` px (area filter)."""
    h, w = img.shape[:2]
    if not max_size or max(w, h) <= max_size:
        return img, cam
    import cv2

    s = max_size / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    return small, cam.resized(nw, nh)


# ------------------------------------------------------------------ evaluation
@dataclass
class ViewScore:
    """One camera's scores (psnr dB, ssim 0..1, coverage 0..1) at `width`×`height`."""

    name: str
    held_out: bool
    psnr: float
    ssim: float
    coverage: float
    width: int
    height: int
    psnr_masked: float | None = None  # PSNR over covered pixels only (None: nothing covered)
    image: str | None = None  # side-by-side PNG, relative to the report
    photo_coverage: float = 1.0  # fraction of the frame the undistorted photo covers
    #                                 (the pixels PSNR and SSIM score; 1.0 for a pinhole)
    lens: str = "PINHOLE"  # the COLMAP model the photo was undistorted from


@dataclass
class EvalReport:
    """Per-view scores plus means (all views, training views, held-out views)."""

    views: list[ViewScore]
    skipped: dict[str, str] = field(default_factory=dict)  # camera name -> reason
    meta: dict[str, Any] = field(default_factory=dict)

    def means(self) -> dict[str, Any]:
        """{"psnr", "ssim", "coverage", "views"} over all views, with "training" and
        "held_out" sub-dicts of the same keys (None values when a group is empty)."""
        out = _mean(self.views)
        out["training"] = _mean([v for v in self.views if not v.held_out])
        out["held_out"] = _mean([v for v in self.views if v.held_out])
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "views": [asdict(v) for v in self.views],
            "mean": self.means(),
            "skipped": dict(self.skipped),
            **self.meta,
        }


def _mean(views: Sequence[ViewScore]) -> dict[str, Any]:
    if not views:
        return {"psnr": None, "ssim": None, "coverage": None, "psnr_masked": None, "views": 0}
    masked = [v.psnr_masked for v in views if v.psnr_masked is not None]
    return {
        "psnr": float(np.mean([v.psnr for v in views])),
        "psnr_masked": float(np.mean(masked)) if masked else None,
        "ssim": float(np.mean([v.ssim for v in views])),
        "coverage": float(np.mean([v.coverage for v in views])),
        "views": len(views),
    }


def evaluate_views(
    cameras: Sequence[Camera],
    photos_dir: Path,
    render: RenderFn,
    *,
    held_out: Iterable[str] = (),
    max_size: int | None = None,
    apply_exif: bool = False,
    out_dir: Path | None = None,
    report: Callable[[float, str], None] | None = None,
) -> EvalReport:
    """Render every camera and score it against its photo.

    cameras: COLMAP cameras (names = image names); photos_dir: the photos; render: the
    injected renderer (see the module docstring); held_out: names to mark as held out;
    max_size: downscale photo and camera so the long side is at most this (None = the
    photo's full resolution); apply_exif: read photos EXIF-oriented (Wander's
    reconstruct) rather than as stored (COLMAP); out_dir: where to write one
    render|photo side-by-side PNG per view (None = none).

    Photos are undistorted through each camera's lens (`camera_lens`) before the
    (optional) downscale; scores cover only the pixels the undistorted photo covers.
    A camera without a photo, with a photo of another aspect ratio, or whose lens cannot
    be undone (pycolmap missing), is skipped and listed in `EvalReport.skipped`.
    Raises ValueError when no view could be scored, OSError when a side-by-side image
    cannot be written.
    """
    import cv2

    held = set(held_out)
    photos_dir = Path(photos_dir)
    views: list[ViewScore] = []
    skipped: dict[str, str] = {}
    cams = sorted(cameras, key=lambda c: c.name)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    for i, cam in enumerate(cams):
        if report:
            report(i / max(len(cams), 1), f"rendering {cam.name}")
        path = find_photo(photos_dir, cam.name)
        if path is None:
            skipped[cam.name] = f"no photo named {cam.name} in {photos_dir}"
            log.warning("%s", skipped[cam.name])
            continue
        try:
            photo = read_photo(path, apply_exif)
            h, w = photo.shape[:2]
            try:
                c = fit_camera_to_photo(cam, w, h)
            except ValueError:
                # the other orientation reading may be the one the camera describes
                other = read_photo(path, not apply_exif)
                c = fit_camera_to_photo(cam, other.shape[1], other.shape[0])
                log.warning(
                    "%s: the camera matches the photo %s EXIF orientation",
                    cam.name,
                    "without" if apply_exif else "with",
                )
                photo = other
            lens = camera_lens(cam)
            photo, valid = undistort_photo(photo, lens)
        except (ValueError, ImportError) as exc:
            skipped[cam.name] = str(exc)
            log.warning("%s: %s", cam.name, exc)
            continue
        photo, c = downscale(photo, c, max_size)
        valid = downscale_mask(valid, int(c.width), int(c.height))
        rgb, alpha = render(c)
        rgb = np.asarray(rgb)
        if rgb.shape != photo.shape:
            raise RuntimeError(
                f"the renderer returned {rgb.shape} for a {c.width}x{c.height} camera"
            )
        full = bool(valid.all())
        if not full:  # the photo's empty border: out of the comparison on both sides
            rgb = np.where(valid[..., None], rgb, 0).astype(np.uint8)
            photo = np.where(valid[..., None], photo, 0).astype(np.uint8)
        covered = np.asarray(alpha) >= COVERED_ALPHA
        v = ViewScore(
            cam.name,
            cam.name in held,
            psnr(rgb, photo) if full else (psnr_masked(rgb, photo, valid) or 0.0),
            ssim(rgb, photo, None if full else valid),
            coverage(alpha),
            int(c.width),
            int(c.height),
            psnr_masked(rgb, photo, covered & valid),
            photo_coverage=float(valid.mean()),
            lens=str(lens.model) if lens is not None else "PINHOLE",
        )
        if out_dir is not None:
            fn = f"{Path(cam.name).stem}.png"
            side = _labelled(
                np.concatenate([rgb, photo], axis=1),
                [
                    f"render  {v.psnr:.2f} dB" + ("  (held out)" if v.held_out else ""),
                    "photo",
                ],
            )
            target = Path(out_dir) / fn
            if not cv2.imwrite(str(target), side[..., ::-1]):
                raise OSError(f"cannot write the side-by-side image {target}")
            v.image = fn
        log.info(
            "%s: PSNR %.2f dB, SSIM %.4f, coverage %.3f%s",
            v.name,
            v.psnr,
            v.ssim,
            v.coverage,
            " (held out)" if v.held_out else "",
        )
        views.append(v)
    if not views:
        raise ValueError(
            "no view could be evaluated: "
            + "; ".join(f"{k}: {r}" for k, r in list(skipped.items())[:3])
        )
    unknown = held - {c.name for c in cams}
    if unknown:
        log.warning("held-out photos without a camera: %s", ", ".join(sorted(unknown)))
    return EvalReport(views, skipped)


def _labelled(side: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """`side` (H, W, 3) uint8 RGB, len(labels) images side by side, with each one's label
    in its top-left corner (white on a dark box, sized to the image): a trial could not
    tell the render from the photo."""
    import cv2

    out = np.ascontiguousarray(side)
    h, w = out.shape[:2]
    part = w // max(len(labels), 1)
    scale = max(0.4, h / 700.0)
    thick = max(1, int(round(scale * 1.5)))
    for i, text in enumerate(labels):
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        x, y, pad = i * part + int(10 * scale), int(10 * scale) + th, int(6 * scale)
        cv2.rectangle(out, (x - pad, y - th - pad), (x + tw + pad, y + base + pad), (0, 0, 0), -1)
        cv2.putText(
            out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA
        )
    return out


def write_report(rep: EvalReport, path: Path) -> None:
    """Write `rep.to_json()` as indented JSON (atomically: temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(rep.to_json(), indent=1))
    tmp.replace(path)


def scene_report_path(scene: Path) -> Path:
    """Where `reconstruct` writes the report of `scene` (as `pipeline.side_paths`):
    the scene path without its last suffix + `_report.json`."""
    return Path(f"{Path(scene).with_suffix('')}_report.json")


def report_cameras_folder(report: Path) -> Path | None:
    """The COLMAP model folder a `reconstruct` report names (`cameras_folder`, relative to
    the report: where `--cameras-out DIR` put it), or None (no report, no entry, or an
    unreadable one: logged)."""
    return report_folder(report, "cameras_folder")


def report_folder(report: Path, key: str) -> Path | None:
    """The folder a `reconstruct` report names under `key` ("cameras_folder",
    "photos_folder", "frames_folder"; relative to the report, or absolute), or None (no
    report, no entry, or an unreadable one: logged). Whether it exists is not checked."""
    report = Path(report)
    if not report.is_file():
        return None
    try:
        named = json.loads(report.read_text()).get(key)
    except (OSError, ValueError, AttributeError) as exc:
        log.info("no %s in %s: %s", key, report, exc)
        return None
    return report.parent / named if isinstance(named, str) and named else None


def held_out_recorded(meta: object) -> list[str]:
    """Names of the photos a reconstruction held out of its scene (`reconstruct
    --holdout`), as a scene records them: in a project, its `reconstruct` record's
    'held_out'; in a scene file opened with its report beside it and saved as a project
    (`viewer.up_axis.use_cameras_beside`), the world's 'held_out'. Sorted; [] when none
    (or `meta` is no dict)."""
    if not isinstance(meta, dict):
        return []
    rec = meta.get("reconstruct")
    names = rec.get("held_out") if isinstance(rec, dict) else None
    if not isinstance(names, list):
        names = meta.get("held_out")
    return sorted({str(n) for n in names if isinstance(n, str)}) if isinstance(names, list) else []


def held_out_from_report(path: Path) -> tuple[list[str], dict[str, Any]]:
    """(held-out photo names, the whole report) from a `reconstruct` report.

    Raises ValueError when the file is not a JSON object.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the reconstruction report: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a reconstruction report (expected a JSON object)")
    held = data.get("held_out") or []
    if not isinstance(held, list) or not all(isinstance(n, str) for n in held):
        raise ValueError(f"{path}: 'held_out' must be a list of photo names")
    return list(held), data
