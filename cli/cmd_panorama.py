"""`python main.py panorama`: photo(s) -> 360° equirectangular panorama (PNG/JPEG).

The options are `generators.panorama.options.PanoramaOptions`: its fields with a CLI
flag become the arguments (`generators.options.add_arguments`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scene.errors import InputError

NAME = "panorama"
HELP = "turn one photo (or overlapping photos from one spot) into a 360° panorama image"
#: arguments of the command that are not generator options (the output)
JOB_ARGUMENTS = ("out",)


def add_arguments(p: argparse.ArgumentParser) -> None:
    from generators.options import add_arguments as add_option_arguments
    from generators.panorama.options import PanoramaOptions

    add_option_arguments(p, PanoramaOptions)
    p.add_argument("--out", type=Path, required=True, help="output image (.png or .jpg)")


def provenance_path(image: Path) -> Path:
    """Where a panorama image's options are recorded: `image` + ".json" beside it."""
    from scene.files import sidecar_path

    return sidecar_path(image)


def write_panorama(path: Path, pano) -> Path:  # noqa: ANN001 - generators.panorama.Panorama
    """Write a panorama's image to `path` and the options it was made with (its meta) to
    `provenance_path(path)`, atomically; returns the latter. Raises OSError."""
    from generators.images import save_image
    from scene.files import write_bytes_atomic

    save_image(path, pano.image)
    side = provenance_path(path)
    write_bytes_atomic(side, json.dumps(pano.meta, indent=2, default=str).encode())
    return side


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out (and its .json provenance beside
    it) never overwrite a photo."""
    return (
        [("--photo", p) for p in args.photos],
        [("--out", args.out), ("--out's provenance", provenance_path(args.out))],
    )


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.options import check_inputs_exist, from_args
    from generators.panorama import generate_panorama
    from generators.panorama.options import PanoramaOptions

    opts = from_args(PanoramaOptions, args)
    opts.check()  # options, and a backend's weights, before any work
    check_inputs_exist(opts.photos)
    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"):
        raise InputError(f"--out must be an image file (.png/.jpg), got {args.out}")
    bar = TerminalProgress("panorama ")
    try:
        pano = generate_panorama(opts, bar)
    finally:
        bar.done()
    side = write_panorama(args.out, pano)
    print(
        f"wrote {args.out} ({pano.image.shape[1]}x{pano.image.shape[0]}, photo FOV "
        f"{pano.fov_x_deg:.1f}° from {pano.meta['fov_source']}); provenance in {side.name}"
    )
    for w in pano.meta.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return 0
