"""`python main.py evaluate SCENE [--photos DIR] --out DIR [--cameras DIR]`: render the scene
at every camera of a COLMAP model with Wander's own renderer and score it against the
photos (PSNR, SSIM, coverage; training and held-out views apart), as 3DGS tools do.
Each photo is first undistorted through its camera's lens (SIMPLE_RADIAL as `reconstruct`
writes it, or any COLMAP model) to the pinhole camera that is rendered, as 3DGS evaluates
on COLMAP-undistorted images; only the pixels the undistorted photo covers are scored.

A `.wander` project from `reconstruct` carries its photos and records its photo cameras and
held-out photos: without --photos, and without a model or report beside it, those are used.
Writes DIR/report.json and DIR/views/NAME.png (render | photo side by side). Held-out
views come from the `reconstruct` report beside the scene (SCENE_report.json, key
"held_out") or --report. Photos are compared at their full resolution unless --max-size
downscales photo and camera together (faster; the scores are then of the smaller images
and not comparable with full-resolution ones).

Exposure (`--exposure auto`, the default): a scene `reconstruct` optimised with per-photo
exposure has each training photo's learnt colour affine in its report; the render of
that view is scored after it. A held-out photo's affine is predicted from its EXIF
exposure (time, ISO, f-number) and the training photos' affines, never from its pixels
(`generators.reconstruct.exposure`). `--exposure off` scores the scene as rendered.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

NAME = "evaluate"
HELP = "PSNR/SSIM of a scene against its photos at their COLMAP cameras (training and held-out)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scene", type=Path, help="splat file (.ply .splat .spz ...) or .wander project")
    p.add_argument(
        "--photos",
        type=Path,
        metavar="DIR",
        help="the photos (matched by image name; default for a .wander project: the photos "
        "it carries)",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder for report.json and the view images",
    )
    p.add_argument(
        "--cameras",
        type=Path,
        metavar="DIR",
        help="COLMAP model folder, text or binary (default: SCENE_cameras beside the scene)",
    )
    p.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help=(
            "reconstruct report naming the held-out photos "
            "(default: SCENE_report.json beside the scene)"
        ),
    )
    p.add_argument(
        "--max-size",
        type=int,
        default=0,
        metavar="PX",
        help=(
            "downscale photo and camera so the long side is at most PX "
            "(0 = full resolution, the default)"
        ),
    )
    p.add_argument(
        "--exif",
        choices=["auto", "stored", "apply"],
        default="auto",
        help="photo orientation: 'stored' = pixels as in the file (COLMAP), 'apply' = EXIF-rotated "
        "(Wander's reconstruct); auto = apply for scenes made by reconstruct, else stored",
    )
    p.add_argument("--no-images", action="store_true", help="do not write the side-by-side PNGs")
    p.add_argument(
        "--exposure",
        choices=["auto", "off"],
        default="auto",
        help="auto: apply the per-photo exposure reconstruct learnt (training photos) or "
        "predicts from EXIF exposure alone (held-out photos; never from their pixels); "
        "off: score the scene as rendered",
    )


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out is a folder made in an existing one."""
    ins = [("SCENE", args.scene), ("--cameras", args.cameras), ("--report", args.report)]
    return ins, [("--out", args.out)]


def _check_out_apart(out: Path, inputs: list[tuple[str, Path]]) -> None:
    """Refuse an --out folder that is an input folder (or whose views/ is): evaluate writes
    report.json and a render per photo there, and `--out` = the photo folder filled it with
    130 MB of renders beside the photos (a photo named like a render would be replaced)."""
    o = out.resolve()
    for label, d in inputs:
        r = Path(d).resolve()
        if r in (o, o / "views"):
            raise ValueError(
                f"--out {out} is {label}'s folder; evaluate writes report.json and views/ "
                "there: choose a folder of its own"
            )


def _cameras_of(scene: Path, report: Path | None) -> Path:
    """The COLMAP model of a reconstructed scene: SCENE_cameras beside it, else the folder
    its reconstruct report names (`reconstruct --cameras-out DIR`)."""
    from generators.reconstruct.evaluate import report_cameras_folder, scene_report_path

    beside = Path(f"{scene.with_suffix('')}_cameras")
    if beside.is_dir():
        return beside
    return report_cameras_folder(report or scene_report_path(scene)) or beside


def _report_photos(scene: Path, report: Path | None) -> Path | None:
    """The photo (or video frame) folder a `reconstruct` report beside `scene` names, when
    it exists; else None."""
    from generators.reconstruct.evaluate import report_folder, scene_report_path

    path = Path(report) if report is not None else scene_report_path(scene)
    for key in ("photos_folder", "frames_folder"):
        named = report_folder(path, key)
        if named is not None and named.is_dir():
            return named
    return None


def run(args: argparse.Namespace) -> int:
    if args.photos is not None:
        return _run(args, args.photos)
    if Path(args.scene).suffix.lower() != ".wander" or not Path(args.scene).is_file():
        named = _report_photos(Path(args.scene), args.report)
        if named is None:
            raise ValueError(
                "--photos DIR is needed: only a .wander project carries its photos, and no "
                "reconstruct report beside the scene names a photo folder that exists"
            )
        print(f"photos: {named} (from the reconstruct report)")
        return _run(args, named)
    from scene.files import temp_dir
    from scene.project import extract_input, project_inputs

    stored = project_inputs(args.scene)
    if not stored:
        raise ValueError(f"{args.scene}: the project carries no photos; give --photos DIR")
    with temp_dir("photos") as tmp:  # the project's photos under their own names
        for inp in stored:
            if isinstance(inp.get("stored"), str):
                extract_input(args.scene, inp["stored"], Path(tmp))
        print(f"photos: the {len(stored)} the project carries")
        return _run(args, Path(tmp), f"the photos {Path(args.scene).name} carries")


def _run(args: argparse.Namespace, photos: Path, photos_label: str | None = None) -> int:
    from cli.progress import TerminalProgress
    from cli.scene_files import load_scene, require_content
    from generators.reconstruct.evaluate import (
        evaluate_views,
        find_photo,
        held_out_from_report,
        held_out_recorded,
        scene_report_path,
        write_report,
    )
    from scene.io.colmap import read_colmap

    if args.max_size < 0 or 0 < args.max_size < 16:
        raise ValueError(
            f"--max-size must be 0 (full resolution) or at least 16, got {args.max_size}"
        )
    if not Path(args.scene).exists():  # before the cameras beside it are looked for
        raise ValueError(f"{args.scene}: no such file")
    if not photos.exists():
        raise ValueError(f"{photos}: no such folder")
    if not photos.is_dir():
        raise ValueError(f"{photos}: not a folder of photos")
    cam_dir = args.cameras or _cameras_of(args.scene, args.report)
    world = None
    if cam_dir.is_dir():
        cameras = read_colmap(cam_dir)[0]
        cam_source = str(cam_dir)
    elif args.cameras is None and Path(args.scene).suffix.lower() == ".wander":
        # a reconstruction's project records its photo cameras (as `export --cameras` writes
        # them), in the scene's own frame: saved from the app, no model lies beside it
        from scene.export import scene_cameras

        world = load_scene(args.scene)
        cameras = scene_cameras(world) if world.meta.get("cameras") else []
        if not cameras:
            raise ValueError(
                f"{cam_dir}: no COLMAP model folder, and {Path(args.scene).name} records no "
                "photo cameras (give --cameras DIR)"
            )
        cam_source = f"the photo cameras {Path(args.scene).name} records"
        print(f"cameras: the {len(cameras)} {Path(args.scene).name} records")
    else:
        raise ValueError(f"{cam_dir}: no COLMAP model folder (give --cameras DIR)")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"{args.out}: is a file; --out is a folder")
    _check_out_apart(args.out, [("--photos", photos), ("the COLMAP model", cam_dir)])
    if not cameras:
        raise ValueError(f"{cam_dir}: the COLMAP model has no registered images")
    if photos_label is not None and all(find_photo(photos, c.name) is None for c in cameras):
        carried = sorted(p.name for p in photos.iterdir())
        raise ValueError(
            f"{Path(args.scene).name} carries no photo of its {len(cameras)} cameras (it "
            f"carries {', '.join(carried[:3])}{' ...' if len(carried) > 3 else ''}: a scene "
            "opened from a file and saved keeps no photos); give the photo folder with "
            "--photos DIR"
        )
    distorted = sorted(
        {c.meta.get("colmap_model", "PINHOLE") for c in cameras} - {"PINHOLE", "SIMPLE_PINHOLE"}
    )
    if distorted:
        print(
            f"camera model(s) {', '.join(distorted)}: each photo is undistorted through its "
            f"camera's lens and scored where it has content"
        )

    report_path = args.report or scene_report_path(args.scene)
    held: list[str] = []
    recon: dict = {}
    held_source: str | None = None
    if args.report is not None or report_path.is_file():
        held, recon = held_out_from_report(report_path)
        held_source = str(report_path)
    if world is None:
        world = load_scene(args.scene)
    rec_meta = world.meta.get("reconstruct") if isinstance(world.meta, dict) else None
    recorded = held_out_recorded(world.meta)
    if not recon and (isinstance(rec_meta, dict) or recorded):  # a project alone: its record
        # (a scene file opened with its report beside it and saved from the app records
        # its held-out photos outside a `reconstruct` record: they were scored as training)
        held = recorded
        recon = {"generator": "wander.reconstruct", "held_out": held}
        held_source = f"the project ({Path(args.scene).name})"
    made_by_wander = recon.get("generator") == "wander.reconstruct"
    apply_exif = args.exif == "apply" or (args.exif == "auto" and made_by_wander)

    from scene.mesh import is_camera_frusta

    inserted = 0
    for lay in world.layers:  # a .wander from reconstruct has a photo-camera frusta layer
        if is_camera_frusta(lay):
            world.set_visible(lay.id, False)
        elif lay.kind == "object" and lay.visible:
            # an object inserted since is no part of what the photos saw (a trial's
            # extinguisher on the Great Wall cost 3 dB)
            world.set_visible(lay.id, False)
            inserted += 1
    if inserted:
        print(f"left out: {inserted} inserted object{'s' if inserted > 1 else ''}")
    require_content(world, args.scene, "evaluate")  # the frusta alone are nothing to score
    from viewer.offscreen import OffscreenRenderer

    made = [d for d in (args.out, args.out / "views") if not d.exists()]
    try:
        args.out.mkdir(exist_ok=True)  # its parent exists (checked before any work)
    except OSError as exc:  # read-only: the same line convert, export and render give
        from scene.files import cannot_write

        raise ValueError(cannot_write(args.out.parent, exc)) from None
    bar = TerminalProgress("evaluate ")
    t0 = time.perf_counter()
    logging.getLogger("generators.reconstruct.evaluate").setLevel(logging.WARNING)
    from viewer.gl_context import GLContextError

    try:
        renderer = OffscreenRenderer(world)
    except GLContextError as exc:
        bar.done()
        print(f"error: no OpenGL 3.3 available for rendering: {exc}", file=sys.stderr)
        return 2
    import numpy as np

    from generators.reconstruct.exposure import apply_affine, view_affines

    affines = view_affines(recon, [c.name for c in cameras]) if args.exposure == "auto" else {}

    def render_fn(r):  # noqa: ANN001, ANN202 - the renderer, then each view's exposure
        def render(c):  # noqa: ANN001, ANN202
            rgb, alpha = r.render_with_alpha(c)
            aff = affines.get(c.name)
            return (apply_affine(np.asarray(rgb), aff[0]) if aff else rgb), alpha

        return render

    try:
        with renderer as r:
            rep = evaluate_views(
                cameras,
                photos,
                render_fn(r),
                held_out=held,
                max_size=args.max_size or None,
                apply_exif=apply_exif,
                out_dir=None if args.no_images else args.out / "views",
                report=bar,
            )
    except BaseException:
        # a failed run (no photo matches a camera, cancelled) leaves no empty folders
        for d in reversed(made):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
        raise
    finally:
        bar.done()
    for v in rep.views:
        if v.image:
            v.image = f"views/{v.image}"
    rep.meta.update(
        {
            "scene": str(args.scene),
            "cameras": cam_source,
            "held_out_from": held_source,
            "max_size": args.max_size or None,
            "exif_applied": apply_exif,
            "metric": "8-bit RGB over the pixels the undistorted photo covers (full frame for a "
            "pinhole camera), uncovered render pixels black; SSIM gaussian 11x11 sigma 1.5",
            "photos": "undistorted through each camera's lens",
            "photos_dir": photos_label or str(photos),
            "seconds": round(time.perf_counter() - t0, 2),
            "exposure": (
                {
                    n: {"gain_bias": [round(v, 5) for v in a], "source": src}
                    for n, (a, src) in sorted(affines.items())
                }
                if affines
                else ("off" if args.exposure == "off" else "none in the scene's report")
            ),
        }
    )
    for key in ("capture", "frame"):
        if key in recon:
            rep.meta["reconstruct_" + key] = recon[key]
    write_report(rep, args.out / "report.json")

    print(
        f"{'view':<28} {'size':>11} {'PSNR':>7} {'SSIM':>7} {'cover':>6} {'masked':>7} {'photo':>6}"
    )
    for v in rep.views:
        print(
            f"{v.name[:28]:<28} {f'{v.width}x{v.height}':>11} {v.psnr:7.2f} {v.ssim:7.4f} "
            f"{v.coverage:6.3f} {_num(v.psnr_masked, 7, 2)} {v.photo_coverage:6.3f}"
            f"{'  held out' if v.held_out else ''}"
        )
    for name, why in rep.skipped.items():
        print(f"{name[:28]:<28} skipped: {why}")
    m = rep.means()
    for label, g in (("all", m), ("training", m["training"]), ("held out", m["held_out"])):
        if g["views"]:
            print(
                f"mean {label:<9} ({g['views']} view{'s' if g['views'] != 1 else ''}): "
                f"PSNR {g['psnr']:.2f} dB, "
                f"SSIM {g['ssim']:.4f}, coverage {g['coverage']:.3f} "
                f"(PSNR of covered pixels only {_num(g['psnr_masked'], 0, 2)})"
            )
    if not held:
        print("no held-out views (reconstruct --holdout K marks them)")
    if affines:
        by = {}
        for n, (_, src) in affines.items():
            by.setdefault(src, []).append(n)
        how = {
            "learnt": "learnt by the optimisation",
            "exif": "predicted from EXIF exposure only",
            "mean": "the training photos' mean (no EXIF exposure)",
        }
        print(
            "exposure per photo (render x gain + bias): "
            + "; ".join(f"{how.get(k, k)}: {len(v)}" for k, v in sorted(by.items()))
            + " (--exposure off scores the scene as rendered)"
        )
    print(f"report: {args.out / 'report.json'}")
    return 0


def _num(v: float | None, width: int, digits: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:{width}.{digits}f}"
