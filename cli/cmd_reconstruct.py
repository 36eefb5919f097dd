"""`python main.py reconstruct`: photos or a video -> cameras, depth maps, Gaussian scene.

The options are `generators.reconstruct.options.ReconstructOptions`: its fields with a CLI
flag become the arguments; the report beside the scene records them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generators.reconstruct.options import DEFAULT_REFINE_STEPS as DEFAULT_REFINE
from scene.errors import InputError

NAME = "reconstruct"
HELP = "Photos (or a video) taken while moving -> cameras, depth maps and a Gaussian-splat scene"


#: arguments of the command that are not reconstruction options (inputs, outputs, video)
JOB_ARGUMENTS = ("photos", "video", "out", "cameras_out", "max_frames")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Inputs and outputs, then the `ReconstructOptions` fields with a CLI flag."""
    from generators.options import add_arguments as add_option_arguments
    from generators.reconstruct.options import ReconstructOptions

    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--photos", type=Path, metavar="DIR", help="folder with 2-100 photos")
    src.add_argument(
        "--video", type=Path, metavar="FILE", help="video file: sharp frames are sampled"
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="SCENE.ply",
        help="output splats: .ply (3DGS), .compressed.ply, .splat or .spz; or a .wander "
        "project (the scene, the photo cameras, a bookmark per photo)",
    )
    p.add_argument(
        "--cameras-out",
        type=Path,
        metavar="DIR",
        help="COLMAP text model folder (default: SCENE_cameras beside the scene)",
    )
    p.add_argument(
        "--max-frames", type=int, default=60, metavar="N", help="video: most frames to keep (60)"
    )
    add_option_arguments(p, ReconstructOptions)
    # no --refine: the default depends on PyTorch being installed (`refine_steps`)
    p.set_defaults(refine_steps=None)


def torch_install_hint() -> str:
    """One line: how to add what the optimisation needs (PyTorch: the CPU build on a
    machine without an NVIDIA GPU; then gsplat, whose densification the CPU path uses too;
    gsplat after torch, so pip never pulls a CUDA build of torch for it)."""
    gsplat = "python -m pip install gsplat"
    if "PyTorch" not in refine_missing():
        return gsplat
    try:
        from tools.torch_plan import CPU_INDEX, PIN, has_nvidia_gpu

        if has_nvidia_gpu():
            return f"python -m pip install {PIN} gsplat"
        return f"python -m pip install {PIN} --index-url {CPU_INDEX} && {gsplat}"
    except Exception:  # noqa: BLE001 - tools/ is absent from some installs
        return "python -m pip install torch gsplat (or rerun tools/install.sh)"


def refine_missing() -> list[str]:
    """What the 3DGS optimisation needs and cannot import: "PyTorch" and/or "gsplat" (its
    densification strategy runs on the CPU too). Checked without importing them."""
    import importlib.util

    missing = []
    for name, label in (("torch", "PyTorch"), ("gsplat", "gsplat")):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken or blocked install counts as absent
            found = False
        if not found:
            missing.append(label)
    return missing


def missing_phrase() -> str:
    """'PyTorch is not installed' / 'PyTorch and gsplat are not installed' ('' if none)."""
    missing = refine_missing()
    if not missing:
        return ""
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed"


def torch_available() -> bool:
    """True when the optimisation can run: PyTorch and gsplat importable (checked without
    importing them)."""
    return not refine_missing()


def refine_steps(requested: int | None, has_torch: bool | None = None) -> tuple[int, str | None]:
    """(steps to run, warning or None). Without PyTorch or gsplat the default skips
    optimisation with a warning (the fused scene is still written); an explicit `--refine N`
    > 0 is an InputError naming the install command, since the user asked for that step."""
    has_torch = torch_available() if has_torch is None else has_torch
    steps = DEFAULT_REFINE if requested is None else requested
    if steps <= 0 or has_torch:
        return steps, None
    what = missing_phrase() or "PyTorch is not installed"
    if requested is not None:
        raise InputError(
            f"--refine {requested} needs PyTorch and gsplat; {what}: "
            f"{torch_install_hint()} (or --refine 0 to skip optimisation)"
        )
    return 0, (
        f"warning: {what}, so the 3DGS optimisation step is skipped "
        "(the scene is the fused depth splats, less sharp); to add it: "
        f"{torch_install_hint()}"
    )


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: the scene, the cameras and depth
    folders and the report never overwrite the video, a photo or the COLMAP model."""
    from generators.reconstruct.pipeline import check_side_paths

    ins: list = [("--video", args.video), ("--colmap", args.colmap_dir)]
    if args.photos is not None and not Path(args.photos).exists():
        # said before the output folder's checks: a misspelled photo folder was said only
        # once the output folder was made (a trial)
        from scene.errors import InputError

        raise InputError(f"{args.photos}: no such folder")
    if args.photos is not None and Path(args.photos).is_dir():
        ins += [("--photos", p) for p in sorted(Path(args.photos).iterdir()) if p.is_file()]
    outs: list = [("--out", args.out)]
    try:
        side = check_side_paths(args.out, args.cameras_out)
    except ValueError:
        side = {}  # a bad --out is reported by run() with its own message
    outs += [
        ("--cameras-out" if k == "cameras" and args.cameras_out else f"--out's {k}", v)
        for k, v in side.items()
    ]
    return ins, outs


def _n(v: object) -> str:
    """A count with thousands separators as `info` prints it; anything else as it is."""
    return f"{v:,}" if isinstance(v, int) else str(v)


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.options import from_args
    from generators.reconstruct.photos import list_photos
    from generators.reconstruct.pipeline import ReconstructOptions, reconstruct, save_result
    from scene.files import temp_dir

    steps, torch_warning = refine_steps(args.refine_steps)
    if torch_warning:
        print(torch_warning, file=sys.stderr)
    opts = from_args(ReconstructOptions, args, refine_steps=steps)
    from generators.reconstruct.pipeline import check_side_paths, scene_format

    scene_format(args.out)  # a bad --out fails before minutes of work
    check_side_paths(args.out, args.cameras_out)
    from scene.files import check_can_write_in

    check_can_write_in(Path(args.out).parent, "--out")  # before minutes of work
    opts.check()  # so do bad options (before sampling a video)
    if args.video is not None and args.max_frames < 2:
        raise InputError(f"--max-frames must be at least 2; got {args.max_frames}")
    with temp_dir("frames") as tmp:
        if args.video is not None:
            from generators.reconstruct.video import sample_frames

            bar = TerminalProgress("frames ")
            got: dict = {}
            frames = sample_frames(
                args.video, Path(tmp), max_frames=args.max_frames, progress=bar, stats=got
            )
            bar.done()
            print(f"sampled {len(frames)} sharp, distinct frames from {args.video.name}")
            if got["distinct"] > len(frames):
                print(
                    f"  {got['distinct']} were distinct; --max-frames {args.max_frames} kept "
                    "that many, evenly spread (raise it to use more)"
                )
            idx = got["source_frames"]
            more = " …" if len(idx) > 12 else ""
            print(f"  video frames used: {', '.join(map(str, idx[:12]))}{more}")
            paths = frames
            opts.sequential = True
        else:
            paths = list_photos(args.photos, recursive=args.colmap_dir is not None)
            if not paths:
                raise InputError(f"{args.photos}: no image files in the folder")
        bar = TerminalProgress("reconstruct ")
        try:
            result = reconstruct(paths, opts, bar)
        finally:
            bar.done()
        if args.video is not None:
            result.mark_video(args.video)
        # a video's frames are kept beside the scene: the photos `evaluate` scores it by
        written = save_result(
            result,
            args.out,
            args.cameras_out,
            frames=paths if args.video is not None else (),
            photos=paths,
        )
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
    if args.video is None:  # a video's frames carry no EXIF orientation to speak of
        _print_orientation(result, args.colmap_dir is not None)
    _print_focal_prior(result.focal_prior, len(result.status))
    if result.working_sizes.get("note"):
        print(f"working sizes: {result.working_sizes['note']}")
    if result.capture:
        print(
            f"capture: {result.capture['type']} ({result.capture['reason']}); "
            f"scale {result.capture['scale']}"
        )
        if getattr(args, "capture", "auto") == "auto":
            # the layout cannot tell a drone circling a tower from a phone circling a toy
            print("  (told from the camera layout; --capture walk|orbit|aerial sets it)")
        up = result.capture.get("up")
        if isinstance(up, dict) and up.get("detail"):
            print(f"up axis: {up['detail']}")
    print("stage times: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.times.items()))
    _print_fusion(result.cloud.meta.get("fusion"))
    ref = result.cloud.meta.get("refinement")
    ran = isinstance(ref, dict) and ref.get("steps")
    if not ran and getattr(args, "refine_steps", None) == 0:
        print("optimisation: off (--refine 0): the scene is the fused depth splats")
    if isinstance(ref, dict) and ref.get("steps"):
        size = "x".join(str(v) for v in ref.get("size") or [])
        line = (
            f"optimisation: {ref['steps']} of {ref.get('steps_planned', '?')} steps, "
            f"{_n(ref.get('splats_before'))} -> {_n(ref.get('splats_after'))} splats"
        )
        if ref.get("psnr_before") is not None and ref.get("psnr_after") is not None:
            line += (
                f", training views {ref['psnr_before']:.1f} -> {ref['psnr_after']:.1f} dB "
                f"at {size} px (run `evaluate` for full-resolution and held-out scores)"
            )
        print(line)
        if ref.get("budget_s"):
            print(f"  time budget: {ref['budget_s']:.0f} s ({ref.get('budget_source', '')})")
        for limit in ref.get("limits") or []:
            print(f"  limit: {limit}")
        if ref.get("pruned_unseen"):
            print(
                f"  unseen: {ref['pruned_unseen']:,} splats no training photo sees (under a "
                "hundredth of a pixel in each) dropped: nothing in the photos fixed their colour"
            )
        if ref.get("capped_angular"):
            print(
                f"  size limit: up to {ref['capped_angular']} "
                f"splat{'s' if ref['capped_angular'] != 1 else ''} a step held within "
                f"{ref['max_angular']:g} x their distance to the nearest photo's "
                "camera (a splat grown across the view covers it in every other photo)"
            )
        if ref.get("depth_views"):
            print(
                f"  depth term: the renders' depth pulled to the stereo depth of "
                f"{ref['depth_views']} photos, where the fused splats agree (weight "
                f"{ref['depth_lambda']:g}, --depth-weight): floaters in front of the surfaces "
                "the photos saw fade"
            )
        smooth = ref.get("smoothing_3d")
        if isinstance(smooth, dict) and smooth.get("enlarged"):
            print(
                f"  anti-aliasing: {smooth['enlarged']:,} splats finer than a pixel at "
                f"{smooth.get('long_side')} px grown to it (Mip-Splatting's 3D filter), so "
                "the scene holds up at full resolution"
            )
    _print_backdrop(result.cloud.meta.get("backdrop"), result.capture)
    n_cams = len(result.cameras)
    print(f"scene: {written['scene']} ({len(result.cloud):,} splats, {n_cams} cameras)")
    print(f"cameras (COLMAP text): {written['cameras']}")
    print(f"depth maps: {written['depth']}")
    if "frames" in written:
        print(f"video frames: {written['frames']} (evaluate --photos {written['frames']})")
    print(f"report: {written['report']}")
    from generators.reconstruct.summary import closing_warnings

    for warning in closing_warnings(result.status, len(result.cameras), len(result.held_out)):
        print(f"warning: {warning}", file=sys.stderr)  # as every command's warnings
    return 0


#: without EXIF, a focal length moved further than this (relative) from SfM's guess ...
FOCAL_DOUBT = 0.15
#: ... by fewer registered photos than this is worth a warning
FOCAL_FEW = 8


def _print_focal_prior(prior: dict, total: int = 0) -> None:
    """Say where SfM's focal length started (it refines it from there); `total` photos
    were given (the EXIF ones may be fewer: a mixed folder)."""
    src = prior.get("source")
    if src == "EXIF":
        how = prior.get("refinement") or "focal length refined by SfM"
        n = prior["photos"]
        of = f"{n} of the {total} photos" if total > n else f"{n} photos"
        print(
            f"focal length: SfM started from the EXIF focal length of {of} "
            f"({prior['fov_x_deg']:.1f}° across); {how}"
        )
    elif src == "default":
        got = f" to {prior['fov_x_deg']:.1f}° across" if "fov_x_deg" in prior else ""
        print(
            "focal length: no registered photo records one (EXIF); SfM started from its "
            "default guess (1.2 x the long side, 45° across it) and refined it"
            f"{got}; --intrinsics gives it"
        )
        change, n = abs(float(prior.get("change", 0.0))), int(prior.get("registered", 0))
        if change > FOCAL_DOUBT and n < FOCAL_FEW:
            print(
                f"warning: the focal length moved {100 * change:.0f} % from the guess with only "
                f"{n} photos registered and none recording it; so few photos pin it down "
                "poorly, and a wrong one bends and stretches the scene. If you know the "
                "camera's, give it with --intrinsics fx,fy,cx,cy (pixels)",
                file=sys.stderr,
            )


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
    items = [
        f"{n} ({ORIENTATION_WORDS.get(o, f'orientation {o}')})" for n, o in sorted(turned.items())
    ]
    more = f", ... ({len(items)} in all)" if len(items) > 6 else ""
    print(
        f"EXIF orientation: applied on reading, so the photos and cameras are upright; "
        f"turned: {', '.join(items[:6])}{more}"
    )


def _print_fusion(fusion: object) -> None:
    """The fusion line: how many splats each step made, or why the fills did not run, and
    the far field made from the photos' sky or distant background (so the count the
    optimisation starts from adds up)."""
    if not isinstance(fusion, dict):
        return
    far = fusion.get("far_field") or 0
    tail = (
        f"; {far:,} far-field splats where the photos show "
        + ("distant background" if fusion.get("fills_skipped") else "sky or distant background")
        if far
        else ""
    )
    if fusion.get("fills_skipped"):
        print(
            f"fusion: {fusion.get('agreed', 0):,} splats that several photos' depths agree "
            f"on; no splats from one photo's depth or on rays stereo found no depth for "
            f"{fusion['fills_skipped']} (what only one photo saw is the room behind it; "
            f"--capture walk makes them){tail}"
        )
    else:
        print(
            f"fusion: {fusion.get('agreed', 0):,} splats that several photos' depths agree "
            f"on, {fusion.get('one_view', 0):,} from one photo's depth (--no-fill-gaps), "
            f"{fusion.get('ray_fill', 0):,} placed on their rays where stereo found no "
            f"depth (--no-ray-fill){tail}"
        )


def _print_backdrop(back: object, capture: dict | None) -> None:
    """The backdrop line (sky_dome.py); round an orbited object the far sphere is the room
    behind it, not a sky."""
    if not isinstance(back, dict) or not any(
        back.get(k) for k in ("added", "needles_shortened", "ground_discs")
    ):
        return
    far = "far background" if (capture or {}).get("type") == "orbit" else "sky"
    print(
        f"backdrop: where no photo looked, {back.get('added', 0):,} splats continue the "
        f"{far} and {back.get('ground_discs', 0):,} the ground; "
        f"{back.get('needles_shortened', 0):,} needle-like {far} splats shortened "
        "(--no-backdrop leaves them as the photos made them)"
    )
