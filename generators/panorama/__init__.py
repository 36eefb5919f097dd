"""Photo(s) -> 360° equirectangular panorama.

`generate_panorama(PanoramaOptions(...))` is the one entry point: one photo is placed at
longitude 0 with its field of view (option > EXIF > 65° default); several photos are
stitched first (`stitch.py`); then the rest of the sphere is outpainted by a backend:
`classical` (no weights), `diffusion` (Stable Diffusion inpainting) or `flux`
(FLUX.1-Fill + HunyuanWorld-1 PanoDiT LoRA; weights through `python main.py models`).
Conventions: see `projection.py`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, Stages, no_progress

from .options import BACKENDS, DEFAULT_HEIGHT, PanoramaOptions  # noqa: F401 - re-exported


@dataclass
class Panorama:
    """An equirect panorama and how it was made.

    image  (H, 2H, 3) float32 0..1
    known  (H, 2H)    float32 0..1, how much of each pixel came from the photo(s)
    fov_x_deg / photo_size: the (reference) photo's horizontal FOV and (w, h), so a start
    camera can frame exactly what the user shot.
    photo  (h, w, 3) float32: the single source photo (None for stitched or loaded
           panoramas), so a world can keep its full detail; photo_alpha (h, w) or None.
    photo_pitch_deg: the photo's pitch (+ up) as placed on the sphere (its vertical lines
           made vertical, `pitch.estimate_pitch`); the start camera looks there.
    detail (image (h, 2h, 3), known (h, 2h)) or None: stitched photos composited again at
           about their own angular resolution (`generate_panorama(keep_detail=True)`), finer
           than `image`, so a world can keep their detail as it keeps a single `photo`'s.
    """

    image: np.ndarray
    known: np.ndarray
    fov_x_deg: float
    photo_size: tuple[int, int]
    meta: dict[str, Any] = field(default_factory=dict)
    photo: np.ndarray | None = None
    photo_alpha: np.ndarray | None = None
    classes: np.ndarray | None = None
    photo_pitch_deg: float = 0.0
    detail: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def fov_y_deg(self) -> float:
        return fov_y_of(self.fov_x_deg, *self.photo_size)


def fov_y_of(fov_x_deg: float, width: int, height: int) -> float:
    """Vertical field of view (deg) of a pinhole photo width × height px whose horizontal
    field of view is `fov_x_deg`."""
    return math.degrees(2 * math.atan(math.tan(math.radians(fov_x_deg) / 2) * height / width))


log = logging.getLogger(__name__)

PHONE_PANO_ASPECT = 2.5  # a photo wider than this × its height is a phone's panorama strip
MIN_PHOTO_SIDE = 32  # a photo smaller than this holds nothing to place or outpaint from
FLAT_RANGE = 0.02  # a photo whose channels all span less than this (1st-99th pct) is flat
MIN_OPAQUE_SHARE = 0.01  # a photo (PNG alpha) with less of its area opaque is refused
MAX_PLAUSIBLE_FOV_Y = 120.0  # deg: a photo spanning more top to bottom gets a warning
MIN_SHARP_PANO_ROWS = 512  # a panorama file with fewer rows gets a warning (blur)
#: stitched photos' region kept at their own detail for a world (`keep_detail`): at most
#: this many pixels (a single photo keeps up to 0.6 M of its own) and 4096 rows
MAX_DETAIL_PIXELS = 1_000_000
MAX_DETAIL_ROWS = 4096


def check_height(height: int) -> int:
    """Validate a panorama height (rows; width is twice that)."""
    if not isinstance(height, (int, np.integer)) or not 64 <= int(height) <= 8192:
        raise ValueError(f"panorama height must be an integer between 64 and 8192, got {height!r}")
    return int(height)


#: a photo this close to 2:1 may be an equirectangular panorama given as a photo
EQUIRECT_ASPECT_TOL = 0.03


def not_equirect(name: str, width: int, height: int) -> str | None:
    """Why an image `name` of width × height pixels is no equirectangular 360° panorama
    (2:1 within 0.05), with the way it can go in instead; None when it is shaped like one.
    A phone's panorama mode makes a wide strip (3-6:1) of part of the sphere: a photo with
    the angle it covers."""
    if abs(width / max(height, 1) - 2.0) <= 0.05:
        return None
    how = (
        f"a wide strip such as a phone's panorama can go in as a photo: --photo {name} "
        "--fov ANGLE (the angle it covers, up to 179°)"
        if width > PHONE_PANO_ASPECT * height
        else "to make a world from a photo: world --photo"
    )
    return (
        f"{name} is {width}x{height} pixels, not an equirectangular 360° panorama (twice as "
        f"wide as tall); {how}, or in the app Create > New World from Photo…"
    )


def looks_equirectangular(path: Path, width: int, height: int) -> bool:
    """Whether a photo (its file and size in pixels) looks like an equirectangular 360°
    panorama: 2:1 within EQUIRECT_ASPECT_TOL and at least 1024 wide, or an XMP packet in
    its first 256 KB naming the equirectangular projection (GPano:ProjectionType)."""
    if width >= 1024 and abs(width / max(height, 1) - 2.0) <= 2.0 * EQUIRECT_ASPECT_TOL:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(256 * 1024)
    except OSError as exc:
        log.debug("could not sniff %s for XMP: %s", path, exc)
        return False
    return b"ProjectionType" in head and b"equirectangular" in head


def expand_photos(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The photos `paths` name: a folder stands for the image files in it (sorted by name,
    as `reconstruct --photos` reads one); among several photos a file that is not an image
    by its name (notes.txt beside the photos a shell glob picked up) is left out. Returns
    (photos, warnings saying what was left out). A single path given is kept as it is (the
    loader says what is wrong with it). Raises ValueError for a folder with no image in it
    or when nothing but non-images is left."""
    from generators.reconstruct.photos import IMAGE_EXTS, list_photos

    out: list[Path] = []
    warnings: list[str] = []
    for p in paths:
        if p.is_dir():
            found = list_photos(p)
            others = sorted(
                q.name for q in p.iterdir() if q.is_file() and q.suffix.lower() not in IMAGE_EXTS
            )
            if not found:
                raise ValueError(
                    f"{p}: no photos in this folder (image files: {', '.join(sorted(IMAGE_EXTS))})"
                )
            if others:
                shown = ", ".join(others[:3]) + (
                    f" and {len(others) - 3} more" if len(others) > 3 else ""
                )
                what = (
                    "file that is not a photo" if len(others) == 1 else "files that are not photos"
                )
                warnings.append(f"{p.name}: {len(others)} {what} left out ({shown})")
            out += found
        else:
            out.append(p)
    if len(out) > 1:
        kept = [p for p in out if p.suffix.lower() in IMAGE_EXTS]
        left = [p.name for p in out if p.suffix.lower() not in IMAGE_EXTS]
        if left and not kept:
            raise ValueError(f"none of these is a photo by its name: {', '.join(left)}")
        if left:
            warnings.append(f"not photos, left out: {', '.join(left)}")
        out = kept
    return out, warnings


def unique_photos(photos: list[Path]) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """The photos with repeats of one file left out (the same path, or the same bytes under
    another name): (kept in order, [(left out, the kept one it repeats)]). Given twice, a
    photo stopped the stitch with "photos 1 and 2 show the same view". Unreadable paths
    are kept (the loader names them)."""
    from scene.files import sha256_file

    kept: list[Path] = []
    seen: dict[str, Path] = {}
    dropped: list[tuple[Path, Path]] = []
    for p in photos:
        try:
            key = sha256_file(p) if len(photos) > 1 else str(p)
        except OSError:
            kept.append(p)
            continue
        if key in seen:
            dropped.append((p, seen[key]))
            continue
        seen[key] = p
        kept.append(p)
    return kept, dropped


def _refuse_flat(path: str | Path, rgb: np.ndarray, alpha: np.ndarray | None) -> None:
    """Raise SceneFormatError for a photo or panorama `path` whose image (h, w, 3) 0..1 (its
    opaque pixels, `alpha` (h, w) ≥ 0.5) is one flat colour: every channel's 1st-99th
    percentile range below FLAT_RANGE. An all-black or all-blue image made a world of a
    void, with scipy and numpy warnings on the way."""
    px = rgb.reshape(-1, 3) if alpha is None else rgb[alpha >= 0.5]
    if len(px) > 200_000:  # a sample is plenty for percentiles
        px = px[:: len(px) // 200_000]
    lo, hi = np.percentile(px, [1, 99], axis=0)
    if np.all(hi - lo < FLAT_RANGE):
        from scene.errors import SceneFormatError

        raise SceneFormatError(
            path,
            "is all or almost all one flat colour: there is nothing in it to build a world "
            "from (no edges, ground, sky or things to place)",
        )


def place_photo(
    rgb: np.ndarray,
    fov_x_deg: float,
    height: int,
    alpha: np.ndarray | None = None,
    pitch_deg: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Project a photo (h, w, 3) centred at longitude 0, its centre `pitch_deg` above the
    horizon (0: on it).

    Returns (pano (H, 2H, 3), known weight (H, 2H)). The photo is first area-resampled to
    about the panorama's angular resolution so the projection does not alias.
    """
    import cv2

    from .projection import perspective_camera, perspective_to_equirect

    h, w = rgb.shape[:2]
    target_w = max(8, int(math.ceil(fov_x_deg / 360.0 * 2 * height * 1.25)))
    if w > target_w:
        f = target_w / w
        size = (target_w, max(2, round(h * f)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        h, w = rgb.shape[:2]
    cam = perspective_camera(w, h, fov_x_deg, pitch=math.radians(pitch_deg))
    pano, cov = perspective_to_equirect(rgb, cam, height)
    if alpha is not None:
        a, _ = perspective_to_equirect(alpha, cam, height)
        cov = cov * np.clip(a, 0, 1)
    return pano, cov


def generate_panorama(
    options: PanoramaOptions,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    stages: Stages | None = None,
    keep_detail: bool = False,
    room_radius: float | None = None,
) -> Panorama:
    """One or more photos (taken from one spot) -> full 360° panorama.

    keep_detail: stitched photos also give `Panorama.detail`, their region at about their
    own angular resolution (up to MAX_DETAIL_PIXELS), for a world made from them.
    room_radius: indoors, the invented room's half-width (m) the classical outpainting
    paints (`world --radius`); default: estimated from the photo (`layout.estimate_layout`).

    `options` are checked first (`PanoramaOptions.check`: OptionsError, or ModelMissing
    when a backend's weights are not here). Raises SceneFormatError for unreadable photos
    and ValueError for photos that do not overlap. The panorama's meta records the
    options (`meta["options"]`).
    """
    options.check()
    photos, left_out = expand_photos([Path(p) for p in options.photos])
    photos, dropped = unique_photos(photos)
    backend, model, fov = options.backend, options.model, options.fov
    height, prompt, seed, steps = options.height, options.prompt, options.seed, options.steps
    from generators.images import load_image, photo_warnings

    from .fov import fov_default_reason, fov_exif_note, photo_fov

    cancel = cancel or CancelToken()
    st = stages or Stages(
        progress,
        [
            ("load", 1),
            ("place", 1 if len(photos) == 1 else 4),
            ("outpaint", 2 if backend == "classical" else 12),
        ],
        cancel,
    )
    from scene.errors import SceneFormatError

    unreadable: list[str] = []
    with st("load") as report:
        images = []
        usable: list[Path] = []
        first_error: SceneFormatError | None = None
        for i, p in enumerate(photos):
            report(i / len(photos), f"loading {p.name}")
            try:
                im = load_image(p, min_side=MIN_PHOTO_SIDE)
            except SceneFormatError as exc:
                if len(photos) == 1:
                    raise
                # among several photos (a folder) an unreadable file is skipped with a
                # warning, as `reconstruct --photos` does (a trial's folder with one
                # truncated JPEG stopped the whole panorama)
                first_error = first_error or exc
                unreadable.append(f"{p.name} was skipped: {exc.problem}")
                continue
            if min(im.width, im.height) < MIN_PHOTO_SIDE:  # a sliver, downscaled to fit
                raise SceneFormatError(
                    p,
                    f"image is too narrow once downscaled ({im.width}x{im.height} pixels; "
                    f"need at least {MIN_PHOTO_SIDE} on each side)",
                )
            if im.alpha is not None and float((im.alpha >= 0.5).mean()) < MIN_OPAQUE_SHARE:
                raise SceneFormatError(
                    p,
                    f"is {'fully' if not (im.alpha >= 0.5).any() else 'almost all'} "
                    "transparent (its alpha channel): there is too little of the photo to "
                    "build from; save it without transparency",
                )
            _refuse_flat(p, im.rgb, im.alpha)
            images.append(im)
            usable.append(p)
        if not images and first_error is not None:
            raise first_error
        photos = usable
    warnings: list[str] = (
        left_out
        + unreadable
        + [
            f"{d.name} was given twice: used once"
            if d.name == k.name
            else f"{d.name} is the same file as {k.name}: used once"
            for d, k in dropped
        ]
    )
    fov_why: str | None = None  # a single photo at the default FOV: why (`fov_default_reason`)
    frame_meta: dict[str, Any] = {}  # a single photo's black band (`border.frame_alpha`)
    cut_out = False  # a single photo with transparent pixels of its own (an alpha channel)
    for p, im in zip(photos, images):
        warnings += photo_warnings(p.name, im.rgb, im.alpha)
    with st("place") as report:
        if len(images) == 1:
            im = images[0]
            if looks_equirectangular(photos[0], im.width, im.height):
                warnings.append(
                    f"{photos[0].name} is {im.width}x{im.height}, shaped like an equirectangular "
                    "360° panorama; it was placed as one photo. If it is a panorama, make the "
                    "world with --panorama (Create > New World from Panorama…)"
                )
            fov_x, fov_src = photo_fov(im.exif, im.width, im.height, fov)
            if fov_src == "default" and (note := fov_exif_note(im.exif, im.width, im.height)):
                warnings.append(f"{photos[0].name}: {note}")
            if fov_src == "default":
                fov_why = fov_default_reason(im.exif, im.width, im.height)
            if im.width > PHONE_PANO_ASPECT * im.height and fov_src != "option":
                warnings.append(
                    f"{photos[0].name} is {im.width}x{im.height}, a wide strip like a phone's "
                    f"panorama: it was placed {fov_x:.0f}° across ({fov_src}); give the angle "
                    "it covers with --fov (a photo is placed flat, up to 179°)"
                )
            fov_y = fov_y_of(fov_x, im.width, im.height)
            if fov_y > MAX_PLAUSIBLE_FOV_Y:
                warnings.append(
                    f"{photos[0].name} is {im.width}x{im.height}: at {fov_x:.0f}° across "
                    f"({fov_src}) it spans {fov_y:.0f}° from top to bottom, so it is stretched "
                    "round the sphere; give its real field of view with --fov (or crop it)"
                )
            from .border import frame_alpha, without_frame

            cut_out = im.alpha is not None and bool((im.alpha < 0.5).any())

            # a black band along its edges (an undistorted frame, a letterbox) is not the
            # scene: invented like the rest of the sphere
            framed, margins = frame_alpha(im.rgb, im.alpha)
            if any(margins):
                # (its pixels the picture's edge carried out: left black, the edge pixels
                # resampled onto the sphere took a share of it, a dark dotted line)
                im = dataclasses.replace(im, rgb=without_frame(im.rgb, margins), alpha=framed)
                frame_meta = {
                    "margins_px": dict(zip(("top", "bottom", "left", "right"), margins)),
                    "source": "black bands along the photo's edges: invented, not placed",
                }
            pitch_info: dict[str, Any] = {"pitch_deg": 0.0, "applied": False}
            if options.level:
                from .pitch import estimate_pitch, level_roll, looks_sideways

                report(0.1, "finding the photo's pitch and roll from its vertical lines")
                pitch_info = estimate_pitch(im.rgb, fov_x)
                if looks_sideways(im.rgb, fov_x, pitch_info["segments"]):
                    warnings.append(
                        f"{photos[0].name} looks turned on its side (its vertical lines run "
                        "across it) and nothing in the file says so: the result will lie on "
                        "its side; turn the photo upright and make it again"
                    )
                rgb, alpha, pitch_info = level_roll(im.rgb, im.alpha, fov_x, pitch_info)
                if pitch_info["roll_applied"]:
                    im = dataclasses.replace(im, rgb=rgb, alpha=alpha)
                # a skyline below the horizon corrects the pitch (and a guessed focal length)
                from .horizon import horizon_check

                new_fov, pitch_info = horizon_check(im.rgb, fov_x, fov_src, pitch_info)
                if new_fov != fov_x:
                    fov_x, fov_src = new_fov, "skyline and vertical lines"
            else:
                pitch_info["source"] = "--no-level: taken as level"
            pitch = float(pitch_info["pitch_deg"])
            report(
                0.2,
                f"placing photo ({fov_x:.0f}° field of view, {fov_src}; pitch {pitch:+.1f}°)",
            )
            pano, known = place_photo(im.rgb, fov_x, height, im.alpha, pitch_deg=pitch)
            detail = None
            photo_size = (im.width, im.height)
            photo, photo_alpha = im.rgb, im.alpha
            from .floor import PlacedPhoto
            from .projection import perspective_camera

            placed = [
                PlacedPhoto(
                    im.rgb,
                    perspective_camera(im.width, im.height, fov_x, pitch=math.radians(pitch)),
                    im.alpha,
                    photos[0].name,
                )
            ]
            stitch_meta: dict[str, Any] = {}
        else:
            from .stitch import stitch_photos

            fovs = [photo_fov(im.exif, im.width, im.height, fov) for im in images]
            fov_x, fov_src = fovs[0]
            # the reference photo's pixels per degree, as panorama rows
            want = (
                {
                    "rows": min(MAX_DETAIL_ROWS, round(images[0].width / max(fov_x, 1.0) * 180)),
                    "pixels": MAX_DETAIL_PIXELS,
                }
                if keep_detail
                else None
            )
            placed = []
            pano, known, stitch_meta = stitch_photos(
                [im.rgb for im in images],
                [f for f, _ in fovs],
                height,
                names=[p.name for p in photos],
                fov_known=fov_src != "default",
                progress=report,
                cancel=cancel,
                detail=want,
                placed=placed,
                level=options.level,
            )
            detail = None
            if want is not None and "image" in want:
                detail = (want["image"], want["known"])
                stitch_meta["detail_height"] = int(want["height"])
            fov_x = float(stitch_meta.get("reference_fov_x_deg", fov_x))
            warnings += stitch_meta.get("warnings", [])
            if stitch_meta.get("focal_source") == "overlaps":
                fov_src = "overlaps"
            photo_size = (images[0].width, images[0].height)
            photo, photo_alpha = None, None
            pitch, pitch_info = 0.0, {}
    with st("outpaint") as report:
        if backend == "classical":
            from .outpaint_classical import outpaint_classical

            found: dict[str, Any] = {}
            image = outpaint_classical(
                pano,
                known,
                seed=seed,
                progress=report,
                cancel=cancel,
                info=found,
                photos=placed,
                room_radius=room_radius,
            )
            classes = found.pop("classes", None)
            outpaint_meta = found
        elif backend == "flux":  # HunyuanWorld-1 style (model manager: flux-pano)
            from .outpaint_flux import outpaint_flux

            image = outpaint_flux(
                pano, known, prompt=prompt, seed=seed, steps=steps, progress=report, cancel=cancel
            )
            classes, outpaint_meta = None, {}
        else:
            from .outpaint_diffusion import outpaint_diffusion

            image = outpaint_diffusion(
                pano,
                known,
                model=model,
                prompt=prompt,
                seed=seed,
                steps=steps,
                progress=report,
                cancel=cancel,
            )
            classes, outpaint_meta = None, {}
    meta = {
        "generator": "wander.panorama",
        "backend": backend,
        "inputs": [str(p) for p in photos],
        "fov_x_deg": round(float(fov_x), 3),
        "fov_source": fov_src,
        **({"fov_default_reason": fov_why} if fov_why else {}),
        "height": height,
        "seed": seed,
        **(
            {"model": str(model), "prompt": prompt, "steps": steps}
            if backend == "diffusion"
            else {}
        ),
        **({"model": "flux-pano", "prompt": prompt, "steps": steps} if backend == "flux" else {}),
        **({"stitch": stitch_meta} if stitch_meta else {}),
        **({"photo_pitch": pitch_info} if pitch_info else {}),
        **({"photo_frame": frame_meta} if frame_meta else {}),
        **({"photo_cut_out": True} if cut_out else {}),
        **({"outpaint": outpaint_meta} if outpaint_meta else {}),
        **({"warnings": warnings} if warnings else {}),
        "options": options.record(),
    }
    return Panorama(
        image=image,
        known=known,
        fov_x_deg=float(fov_x),
        photo_size=photo_size,
        meta=meta,
        photo=photo,
        photo_alpha=photo_alpha,
        classes=classes,
        photo_pitch_deg=pitch,
        detail=detail,
    )


def panorama_from_photos(
    photos: Sequence[str | Path],
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    stages: Stages | None = None,
    **options: Any,
) -> Panorama:
    """`generate_panorama(PanoramaOptions(photos=photos, **options), ...)`: the same job
    with the options as keywords (fov, backend, model, height, prompt, seed, steps)."""
    return generate_panorama(
        PanoramaOptions(photos=[Path(p) for p in photos], **options), progress, cancel, stages
    )


def load_panorama(
    path: str | Path,
    height: int | None = None,
    *,
    level: bool = False,
    progress: ProgressFn = no_progress,
) -> Panorama:
    """Read an equirect panorama image (width must be ~2 × height).

    level: straighten a tilted panorama from its vertical lines (`level.level_panorama`);
    meta['level'] records the tilt found, whether it was applied and why. progress(0.5,
    ...) says so once the file is read (an unreadable file gets its error, not a line
    about levelling it first).
    """
    from generators.images import load_image
    from scene.errors import SceneFormatError

    from .projection import resize_pano

    # (a 20x10 panorama made a world of scipy warnings and one colour)
    im = load_image(path, max_side=8192, min_side=MIN_PHOTO_SIDE)
    h, w = im.rgb.shape[:2]
    problem = not_equirect(Path(path).name, w, h)
    if problem is not None:
        raise SceneFormatError(path, problem)
    _refuse_flat(path, im.rgb, im.alpha)
    img = resize_pano(im.rgb, check_height(height) if height else min(h, 4096))
    known = np.ones(img.shape[:2], np.float32)
    meta: dict[str, Any] = {"generator": "file", "inputs": [str(path)], "file_size": [w, h]}
    if h < MIN_SHARP_PANO_ROWS:
        meta["warnings"] = [
            f"{Path(path).name} is only {w}x{h} pixels: a world from it is that blurry "
            f"(a 360° panorama needs about {2 * MIN_SHARP_PANO_ROWS}x{MIN_SHARP_PANO_ROWS} "
            "or more to look sharp nearby)"
        ]
    if level and _own_panorama(path):
        # placed level when it was made (a photo at the pitch its vertical lines gave, a
        # stitch on its reference photo's horizon); its invented surroundings hold no
        # true verticals: "levelling" a stitched Sceaux panorama tilted its world 9.2° (a
        # trial)
        meta["level"] = {
            "tilt_deg": 0.0,
            "applied": False,
            "source": "Wander's own panorama: placed level when it was made",
        }
    elif level:
        from .level import level_panorama

        progress(0.5, "levelling the panorama from its vertical lines")
        img, meta["level"] = level_panorama(img)
    else:
        meta["level"] = {"applied": False, "source": "not levelled (--no-level)"}
    classes = None
    layout = _indoor_layout(path)
    if layout is not None:
        # Wander outpainted this panorama from an indoor photo: its light, smooth top is the
        # ceiling it invented, which the colour cues take for an overcast sky (the room
        # came back as an outdoor world with a sky 400 m up)
        from generators.pano_layers import ceiling_above

        from .classes import SKY, UPRIGHT, classify_view
        from .projection import pano_lonlat

        hs = min(512, img.shape[0])
        classes = classify_view(resize_pano(img, hs), hs / 2 - 0.5)
        classes = np.where(classes == SKY, UPRIGHT, classes).astype(np.uint8)
        # the ceiling where the record's room box puts it (else as for any panorama
        # without sky)
        tan_c = layout.get("ceiling_tan")
        top = None
        if isinstance(tan_c, (int, float)) and 0.0 < tan_c < 10.0:
            from .layout import box_factor, front_fraction

            lon, lat = pano_lonlat(hs)
            front = front_fraction(layout.get("floor_tan"), layout.get("front_tan"))
            m = box_factor(lon, front)[None, :]
            top = np.tan(np.clip(lat, -1.55, 1.55))[:, None] > tan_c * m
        classes = ceiling_above(classes, top)
        meta["upper"] = {
            "value": "ceiling",
            "source": "the panorama's own record: Wander outpainted it from an indoor photo",
        }
    return Panorama(
        image=img, known=known, fov_x_deg=65.0, photo_size=(16, 9), meta=meta, classes=classes
    )


def _own_panorama(path: str | Path) -> bool:
    """Whether the `.json` record beside a panorama says `panorama` made it. Untrusted:
    only the generator's name is read."""
    from generators.options import wander_generator

    return wander_generator(path) == "wander.panorama"


def _indoor_layout(path: str | Path) -> dict | None:
    """The room layout (`layout.Layout.as_dict`; {} when not recorded) when the `.json`
    record beside a panorama says Wander outpainted it from an indoor photo (its upper
    class a ceiling), else None. Untrusted: anything else is None."""
    from generators.options import wander_provenance

    rec = wander_provenance(path)
    out = rec.get("outpaint") if isinstance(rec, dict) else None
    if not (isinstance(out, dict) and out.get("upper") == "ceiling"):
        return None
    lay = out.get("layout")
    return lay if isinstance(lay, dict) else {}
