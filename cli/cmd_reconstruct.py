"""`python main.py reconstruct`: photos or a video -> cameras, depth maps, Gaussian scene."""

from __future__ import annotations

import argparse
from pathlib import Path

from scene.errors import InputError

NAME = "reconstruct"
HELP = "Photos (or a video) taken while moving -> cameras, depth maps and a Gaussian-splat scene"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--photos", type=Path, metavar="DIR", help="folder with 2-100 photos")
    src.add_argument("--video", type=Path, metavar="FILE", help="video file: sharp frames are sampled")
    p.add_argument("--out", type=Path, required=True, metavar="SCENE.ply",
                   help="output splats: .ply (3DGS), .compressed.ply, .splat or .spz; or a .wander "
                        "project (the scene, the photo cameras, a bookmark per photo)")
    p.add_argument("--refine", type=int, default=None, metavar="N",
                   help="3DGS optimisation steps at most (3000; 0 = off): gsplat on CUDA, "
                        "else the compiled CPU rasterizer; needs PyTorch (without it the "
                        "default skips this step with a warning)")
    p.add_argument("--refine-seconds", type=float, default=90.0, metavar="S",
                   help="time budget of the optimisation (90 s; 0 = no limit)")
    p.add_argument("--cameras-out", type=Path, metavar="DIR",
                   help="COLMAP text model folder (default: SCENE_cameras beside the scene)")
    p.add_argument("--intrinsics", metavar="fx,fy,cx,cy", help="known pinhole intrinsics (pixels)")
    p.add_argument("--colmap", type=Path, metavar="DIR", help="existing COLMAP model: skip SfM")
    p.add_argument("--max-frames", type=int, default=60, help="video: most frames to keep (60)")
    p.add_argument("--depth-size", type=int, default=400, help="dense depth working size, px (400)")
    p.add_argument("--max-splats", type=int, default=400_000, help="splat budget (400000)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="refinement device")
    p.add_argument("--capture", choices=["auto", "walk", "orbit", "aerial"], default="auto",
                   help="capture type, which sets the assumed scale: walk (eye height 1.5 m above the "
                        "floor), orbit (object, cameras 0.6 m away), aerial (cameras 30 m up); "
                        "auto detects it from the camera layout (default)")
    p.add_argument("--backend", choices=["sfm", "feedforward", "auto"], default="sfm",
                   help="cameras and depth: sfm (COLMAP-style, no weights, default); feedforward "
                        "(Depth Anything 3 in one pass: `models download depth-anything-3`); auto "
                        "(feedforward when it is ready and a GPU is present, else sfm)")
    p.add_argument("--holdout", type=int, default=0, metavar="K",
                   help="hold out every K-th registered photo (sorted names: 0, K, 2K..., the "
                        "3DGS/Mip-NeRF 360 llffhold convention) from depth, fusion and refinement; "
                        "their cameras are still written, for `evaluate` (0 = off)")


DEFAULT_REFINE = 3000


def torch_install_hint() -> str:
    """One line: how to add PyTorch (the CPU build on a machine without an NVIDIA GPU)."""
    try:
        from tools.torch_plan import CPU_INDEX, PIN, has_nvidia_gpu

        if has_nvidia_gpu():
            return f"python -m pip install {PIN} gsplat"
        return f"python -m pip install {PIN} --index-url {CPU_INDEX}"
    except Exception:  # noqa: BLE001 - tools/ is absent from some installs
        return "python -m pip install torch (or rerun tools/install.sh)"


def torch_available() -> bool:
    """True when PyTorch can be imported (checked without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as absent
        return False


def refine_steps(requested: int | None, has_torch: bool | None = None) -> tuple[int, str | None]:
    """(steps to run, warning or None). Without PyTorch the default skips optimisation with
    a warning (the fused scene is still written); an explicit `--refine N` > 0 is an
    InputError naming the install command, since the user asked for that step."""
    has_torch = torch_available() if has_torch is None else has_torch
    steps = DEFAULT_REFINE if requested is None else requested
    if steps <= 0 or has_torch:
        return steps, None
    if requested is not None:
        raise InputError(f"--refine {requested} needs PyTorch, which is not installed: "
                         f"{torch_install_hint()} (or --refine 0 to skip optimisation)")
    return 0, ("warning: PyTorch is not installed, so the 3DGS optimisation step is skipped "
               "(the scene is the fused depth splats, less sharp); to add it: "
               f"{torch_install_hint()}")


def _parse_intrinsics(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--intrinsics {text!r}: expected four numbers fx,fy,cx,cy") from None
    if len(vals) != 4:
        raise InputError(f"--intrinsics {text!r}: expected four numbers fx,fy,cx,cy")
    return vals  # type: ignore[return-value]


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: the scene, the cameras and depth
    folders and the report never overwrite the video, a photo or the COLMAP model."""
    from generators.reconstruct.pipeline import check_side_paths

    ins: list = [("--video", args.video), ("--colmap", args.colmap)]
    if args.photos is not None and Path(args.photos).is_dir():
        ins += [("--photos", p) for p in sorted(Path(args.photos).iterdir()) if p.is_file()]
    outs: list = [("--out", args.out)]
    try:
        side = check_side_paths(args.out, args.cameras_out)
    except ValueError:
        side = {}  # a bad --out is reported by run() with its own message
    outs += [(f"--out's {k}", v) for k, v in side.items()]
    return ins, outs


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from scene.files import temp_dir
    from generators.reconstruct.photos import list_photos
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result

    steps, torch_warning = refine_steps(args.refine)
    if torch_warning:
        print(torch_warning)
    opts = ReconstructOptions(refine_steps=steps, intrinsics=_parse_intrinsics(args.intrinsics),
                              colmap_dir=args.colmap, depth_size=args.depth_size,
                              max_points=args.max_splats, refine_device=args.device,
                              holdout=args.holdout, capture=args.capture,
                              refine_seconds=args.refine_seconds, backend=args.backend)
    from generators.reconstruct.pipeline import check_side_paths, scene_format

    scene_format(args.out)  # a bad --out fails before minutes of work
    check_side_paths(args.out, args.cameras_out)
    _check_writable(Path(args.out).parent)
    opts.validate()  # so do bad options (before sampling a video)
    with temp_dir("frames") as tmp:
        if args.video is not None:
            from generators.reconstruct.video import sample_frames

            bar = TerminalProgress("frames ")
            frames = sample_frames(args.video, Path(tmp), max_frames=args.max_frames, progress=bar)
            bar.done()
            print(f"sampled {len(frames)} sharp, distinct frames from {args.video.name}")
            paths = frames
            opts.sequential = True
        else:
            paths = list_photos(args.photos, recursive=args.colmap is not None)
            if not paths:
                raise InputError(f"{args.photos}: no image files in the folder")
        bar = TerminalProgress("reconstruct ")
        try:
            result = reconstruct(paths, opts, bar)
        finally:
            bar.done()
    written = save_result(result, args.out, args.cameras_out)
    print("photos:")
    cams = {c.name: c for c in result.cameras}
    for name, st in sorted(result.status.items()):
        c = cams.get(name)
        where = ""
        if c is not None:
            x, y, z = c.position
            where = f" (at {x:+.2f} {y:+.2f} {z:+.2f}, fov {c.fov_x_deg:.1f}°x{c.fov_y_deg:.1f}°)"
        print(f"  {name}: {st}{where}")
    if result.held_out:
        print(f"held out (not used to build the scene): {', '.join(result.held_out)}")
    _print_orientation(result, args.colmap is not None)
    if result.capture:
        print(f"capture: {result.capture['type']} ({result.capture['reason']}); "
              f"scale {result.capture['scale']}")
    print("stage times: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.times.items()))
    ref = result.cloud.meta.get("refinement")
    if isinstance(ref, dict) and ref.get("steps"):
        size = "x".join(str(v) for v in ref.get("size") or [])
        line = (f"optimisation: {ref['steps']} of {ref.get('steps_planned', '?')} steps, "
                f"{ref.get('splats_before')} -> {ref.get('splats_after')} splats")
        if ref.get("psnr_before") is not None and ref.get("psnr_after") is not None:
            line += (f", training views {ref['psnr_before']:.1f} -> {ref['psnr_after']:.1f} dB "
                     f"at {size} px (run `evaluate` for full-resolution and held-out scores)")
        print(line)
        for limit in ref.get("limits") or []:
            print(f"  limit: {limit}")
    print(f"scene: {written['scene']} ({len(result.cloud)} splats, {len(result.cameras)} cameras)")
    print(f"cameras (COLMAP text): {written['cameras']}")
    print(f"depth maps: {written['depth']}")
    print(f"report: {written['report']}")
    return 0


def _print_orientation(result, from_colmap: bool) -> None:  # noqa: ANN001
    """Say how the photos' EXIF orientation was treated (the cameras describe those pixels)."""
    from generators.reconstruct.photos import ORIENTATION_WORDS

    if from_colmap:
        print("EXIF orientation: ignored (pixels as stored, as the COLMAP model describes them)")
        return
    turned = result.exif_oriented
    if not turned:
        print("EXIF orientation: applied on reading; no photo needed turning")
        return
    items = [f"{n} ({ORIENTATION_WORDS.get(o, f'orientation {o}')})" for n, o in sorted(turned.items())]
    more = f", ... ({len(items)} in all)" if len(items) > 6 else ""
    print(f"EXIF orientation: applied on reading, so the photos and cameras are upright; "
          f"turned: {', '.join(items[:6])}{more}")


def _check_writable(folder: Path) -> None:
    """Fail before minutes of work when the scene could not be written anyway."""
    import os

    here = folder.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent  # reconstruct creates missing folders: check the first real one
    if not os.access(here, os.W_OK):
        raise InputError(f"cannot write in {here} (read-only or no permission)")
