"""`python main.py world`: photo(s) or a panorama -> walkable Gaussian-splat world."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.cmd_panorama import add_panorama_arguments
from scene.errors import InputError

NAME = "world"
HELP = "turn a photo, overlapping photos or a 360° panorama into a walkable splat world"


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--photo", type=Path, nargs="+", metavar="P",
                     help="the photo; several overlapping photos from one spot are stitched")
    src.add_argument("--panorama", type=Path, metavar="PANO",
                     help="an equirectangular 360° panorama image (width = 2 x height)")
    add_panorama_arguments(p, backend_flag="--outpaint")
    p.add_argument("--backend", "--depth", dest="depth", choices=("classical", "neural"),
                   default="classical",
                   help="depth: classical geometric prior (default) or neural (Depth Anything V2: "
                        "`models download depth-anything-v2-small`, or --depth-model)")
    p.add_argument("--depth-model", type=Path, metavar="DIR|NAME",
                   help="neural depth: a transformers depth-estimation folder (Depth Anything / "
                        "DPT) or a model name from `models` (default: depth-anything-v2-small)")
    p.add_argument("--resolution", type=int, default=None,
                   help="panorama height used for splats (default 768: ~0.9 M splats; 1024: ~1.5 M)")
    p.add_argument("--eye-height", type=float, default=1.6, help="camera height above the floor, m")
    p.add_argument("--radius", type=float, default=None,
                   help="distance to the walls/far field in m (default: from the photo's "
                        "ground line, else 8)")
    p.add_argument("--no-level", dest="level", action="store_false",
                   help="--panorama: use it as given (default: level a tilted panorama "
                        "from its vertical lines)")
    p.add_argument("--save-panorama", type=Path, metavar="PNG", help="also write the panorama")
    p.add_argument("--out", type=Path, required=True,
                   help="output: .ply (3DGS), .splat, .spz or .wander (project)")


def save_world(world, path: Path) -> None:
    """Write a world as a project (.wander) or its splats to a splat file (+ .json provenance)."""
    if path.suffix.lower() == ".wander":
        from scene.project import save_project

        save_project(world, path)
        return
    from scene.io import save

    cloud = world.merged_cloud()
    save(cloud, path)
    side = path.with_name(path.name + ".json")
    from scene.export import write_bytes_atomic

    write_bytes_atomic(side, json.dumps(cloud.meta, indent=2, default=str).encode())


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
            side = p.with_name(p.name + ".json")
            if not side.is_file():
                return None
            est = json.loads(side.read_text()).get("estimates")
    except (OSError, ValueError, AttributeError) as exc:
        logging.getLogger(__name__).info("no world estimates in %s: %s", p, exc)
        return None
    return est if isinstance(est, dict) and est else None


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out, its .json provenance and
    --save-panorama never overwrite a photo or the panorama read."""
    ins = [("--photo", p) for p in args.photo or []] + [("--panorama", args.panorama)]
    outs = [("--out", args.out), ("--save-panorama", args.save_panorama)]
    if args.out.suffix.lower() != ".wander":
        outs.append(("--out's provenance", args.out.with_name(args.out.name + ".json")))
    return ins, outs


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.images import check_image_path, save_image
    from generators.pano_world import world_from_photos

    from cli.checks import check_int, check_seed

    check_seed(args.seed)
    check_int(args.steps, "--steps", 1, 1000)
    check_int(args.resolution, "--resolution", 64, 8192)
    from generators.models.hub import require

    if args.backend in ("diffusion", "flux") and args.model is None:  # weights checked before work
        require("sd-inpaint" if args.backend == "diffusion" else "flux-pano", "--model DIR")
    if args.depth == "neural" and args.depth_model is None:
        require("depth-anything-v2-small", "--depth-model DIR")
    if args.out.suffix.lower() not in (".ply", ".splat", ".spz", ".wander"):
        raise InputError(f"--out must end in .ply, .splat, .spz or .wander, got {args.out}")
    if args.save_panorama:
        check_image_path(args.save_panorama)  # before the world is written, not after
    bar = TerminalProgress("world ")
    try:
        world, pano, stages = world_from_photos(
            args.photo, panorama=args.panorama, fov=args.fov, pano_backend=args.backend,
            pano_model=args.model, depth_backend=args.depth, depth_model=args.depth_model,
            pano_height=args.height, resolution=args.resolution, eye_height=args.eye_height,
            radius=args.radius, level=args.level, prompt=args.prompt, seed=args.seed,
            progress=bar)
        bar(0.99, "writing")
        save_world(world, args.out)
    finally:
        bar.done()
    if args.save_panorama:
        save_image(args.save_panorama, pano.image)
    n = len(world.layers[0].data)
    times = "  ".join(f"{k} {v:.2f}s" for k, v in stages.times.items())
    print(f"wrote {args.out}: {n} splats; start camera at (0, {args.eye_height}, 0) looking -Z\n"
          f"stages: {times}")
    for name, e in world.layers[0].data.meta.get("estimates", {}).items():
        print(f"  {name}: {e.get('value')} ({e.get('source')})")
    return 0
