"""`python main.py panorama`: photo(s) -> 360° equirectangular panorama (PNG/JPEG)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scene.errors import InputError

NAME = "panorama"
HELP = "turn one photo (or overlapping photos from one spot) into a 360° panorama image"


def add_panorama_arguments(p: argparse.ArgumentParser, backend_flag: str = "--backend") -> None:
    """Options shared by `panorama` and `world` (where the outpainting flag is --outpaint)."""
    p.add_argument("--fov", type=float, metavar="DEG",
                   help="horizontal field of view of the photo(s) in degrees "
                        "(default: from EXIF, else 65)")
    p.add_argument(backend_flag, dest="backend", choices=("classical", "diffusion", "flux"),
                   default="classical",
                   help="outpainting: classical (no weights, default); diffusion (Stable Diffusion "
                        "inpainting: `models download sd-inpaint` or --model DIR); flux "
                        "(HunyuanWorld-1 style FLUX.1-Fill + PanoDiT LoRA, GPU: "
                        "`models download flux-pano`)")
    p.add_argument("--model", type=Path, metavar="DIR",
                   help="diffusion: local diffusers inpainting pipeline folder (default: sd-inpaint "
                        "from the model manager)")
    p.add_argument("--prompt", default="", help="diffusion: text prompt describing the scene")
    p.add_argument("--steps", type=int, default=30, help="diffusion: denoising steps (default 30)")
    p.add_argument("--height", type=int, default=1024,
                   help="panorama height in pixels; width is twice that (default 1024)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--photo", type=Path, nargs="+", required=True, metavar="P",
                   help="the photo; several overlapping photos from one spot are stitched")
    add_panorama_arguments(p)
    p.add_argument("--out", type=Path, required=True, help="output image (.png or .jpg)")


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out (and its .json provenance beside
    it) never overwrite a photo."""
    return ([("--photo", p) for p in args.photo],
            [("--out", args.out), ("--out's provenance", args.out.with_name(args.out.name + ".json"))])


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.images import save_image
    from generators.panorama import panorama_from_photos

    from cli.checks import check_int, check_seed

    check_seed(args.seed)
    check_int(args.steps, "--steps", 1, 1000)
    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"):
        raise InputError(f"--out must be an image file (.png/.jpg), got {args.out}")
    from generators.models.hub import require

    if args.backend in ("diffusion", "flux") and args.model is None:  # weights checked before work
        require("sd-inpaint" if args.backend == "diffusion" else "flux-pano", "--model DIR")
    bar = TerminalProgress("panorama ")
    try:
        pano = panorama_from_photos(args.photo, fov=args.fov, backend=args.backend,
                                    model=args.model, height=args.height, prompt=args.prompt,
                                    seed=args.seed, steps=args.steps, progress=bar)
    finally:
        bar.done()
    save_image(args.out, pano.image)
    side = args.out.with_name(args.out.name + ".json")
    from scene.export import write_bytes_atomic

    write_bytes_atomic(side, json.dumps(pano.meta, indent=2).encode())
    print(f"wrote {args.out} ({pano.image.shape[1]}x{pano.image.shape[0]}, photo FOV "
          f"{pano.fov_x_deg:.1f}° from {pano.meta['fov_source']}); provenance in {side.name}")
    return 0
