"""`python main.py world`: photo(s) or a panorama -> walkable Gaussian-splat world.

The options are `generators.world_options.WorldOptions`: its fields with a CLI flag
become the arguments; the world written records them (project manifest, the splat
file's `.json` provenance), and `info` shows them.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from scene.errors import InputError

NAME = "world"
HELP = "turn a photo, overlapping photos or a 360° panorama into a walkable splat world"


#: arguments of the command that are not generator options (its outputs)
JOB_ARGUMENTS = ("save_panorama", "out")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `WorldOptions` fields with a CLI flag, then the outputs."""
    from generators.options import add_arguments as add_option_arguments
    from generators.world_options import WorldOptions

    add_option_arguments(p, WorldOptions)
    p.add_argument("--save-panorama", type=Path, metavar="PNG", help="also write the panorama")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output: .ply (3DGS), .splat, .spz or .wander (project)",
    )


def save_world(world, path: Path) -> None:
    """Write a world as a project (.wander) or its splats to a splat file (+ .json provenance)."""
    if path.suffix.lower() == ".wander":
        from scene.project import save_project

        save_project(world, path)
        return
    from scene.io import ORDER_KEEPING, output_format, save

    cloud = world.merged_cloud()
    save(cloud, path)
    from scene.files import sidecar_path, write_bytes_atomic

    meta = dict(cloud.meta)
    if output_format(path) not in ORDER_KEEPING:
        meta.pop("hidden", None)  # its splats' places hold only where the order is kept
    write_bytes_atomic(sidecar_path(path), json.dumps(meta, indent=2, default=str).encode())


def world_estimates(path: str | Path) -> dict | None:
    """The estimates a generated world recorded (radius, ceiling, level, walkable area...,
    each {'value', 'source'}), read from a .wander project's manifest or a splat file's
    .json provenance beside it; None when the file holds none."""
    import logging

    p = Path(path)
    try:
        if p.suffix.lower() == ".wander":
            from scene.project import read_manifest

            meta = read_manifest(p).get("meta") or {}
            est = meta.get("estimates") if isinstance(meta, dict) else None
        else:
            from scene.files import sidecar_path

            side = sidecar_path(p)
            if not side.is_file():
                return None
            est = json.loads(side.read_text()).get("estimates")
    except (OSError, ValueError, AttributeError) as exc:
        logging.getLogger(__name__).info("no world estimates in %s: %s", p, exc)
        return None
    return est if isinstance(est, dict) and est else None


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out, its .json provenance and
    --save-panorama (and its .json provenance) never overwrite a photo or the panorama
    read."""
    ins = [("--photo", p) for p in args.photos or []] + [("--panorama", args.panorama)]
    outs = [("--out", args.out), ("--save-panorama", args.save_panorama)]
    if args.save_panorama:
        from cli.cmd_panorama import provenance_path

        outs.append(("--save-panorama's provenance", provenance_path(args.save_panorama)))
    if args.out.suffix.lower() != ".wander":
        from scene.files import sidecar_path

        outs.append(("--out's provenance", sidecar_path(args.out)))
    return ins, outs


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.images import check_image_path
    from generators.options import check_inputs_exist, from_args
    from generators.pano_world import generate_world
    from generators.world_options import WorldOptions

    opts = from_args(WorldOptions, args)
    opts.check()  # options, and the chosen backends' weights, before any work
    check_inputs_exist([*opts.photos, *([opts.panorama] if opts.panorama else [])])
    if args.out.suffix.lower() not in (".ply", ".splat", ".spz", ".wander"):
        raise InputError(f"--out must end in .ply, .splat, .spz or .wander, got {args.out}")
    if args.save_panorama:
        check_image_path(args.save_panorama)  # before the world is written, not after
    bar = TerminalProgress("world ")
    try:
        result = generate_world(opts, bar)
        from viewer.naming import name_world_layers

        name_world_layers(result.world)  # named after its photo, as the app names it
        bar(0.99, "writing")
        save_world(result.world, args.out)
    finally:
        bar.done()
    side = None
    if args.save_panorama:
        from cli.cmd_panorama import write_panorama

        side = write_panorama(args.save_panorama, result.panorama)  # as `panorama` writes it
    world = result.world
    n = len(world.layers[0].data)
    times = "  ".join(f"{k} {v:.2f}s" for k, v in result.stages.times.items() if v >= 0.005)
    pitch = math.degrees(world.bookmarks[0].pitch) if world.bookmarks else 0.0
    tilt = f", {abs(pitch):.1f}° {'up' if pitch > 0 else 'down'}" if abs(pitch) >= 0.05 else ""
    print(
        f"wrote {args.out}: {n:,} splats; start camera at (0, {opts.eye_height}, 0) "
        f"looking -Z{tilt}\n"
        f"stages: {times}"
    )
    if side is not None:
        img = result.panorama.image
        print(
            f"wrote {args.save_panorama} (the panorama, {img.shape[1]}x{img.shape[0]}); "
            f"provenance in {side.name}"
        )
    for name, e in world.layers[0].data.meta.get("estimates", {}).items():
        print(estimate_line(name, e))
    for w in result.panorama.meta.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return 0


#: estimates that are angles (degrees)
_ANGLES = ("photo_pitch", "photo_fov", "level", "far_skyline")


#: estimates that are distances (metres)
_METRES = (
    "radius",
    "room_radius",
    "room_front",
    "ceiling_height",
    "far_radius",
    "sky_radius",
    "walkable_radius",
    "eye_height",
)


def estimate_line(name: str, e: dict) -> str:
    """'  name: value (source)' for one of a world's estimates; an angle gets '°', a
    distance ' m', a yes/no 'yes' or 'no' (not Python's True), an estimate that was found
    but not used says so ('13.1° estimated, not applied')."""
    v = e.get("value")
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(v, bool):
        val = "yes" if v else "no"
    elif number and name in _ANGLES:
        val = f"{v}°"
    elif number and name in _METRES:
        val = f"{v} m"
    else:
        val = f"{v}"
    if e.get("applied") is False and v:
        val += " estimated, not applied"
    return f"  {name}: {val} ({e.get('source')})"
