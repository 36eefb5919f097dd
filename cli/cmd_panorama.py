"""`python main.py panorama`: photo(s) -> 360° equirectangular panorama (PNG/JPEG).

The options are `generators.panorama.options.PanoramaOptions`: its fields with a CLI
flag become the arguments (`generators.options.add_arguments`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

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
    note = detail_note(pano, args.height)
    if note:
        print(f"note: {note}")
    return 0


#: a photo kept at under this share of its pixels across gets `detail_note`
KEPT_SHARE = 0.5


def detail_note(pano: Any, height: int) -> str | None:
    """What the panorama kept of its photo's detail, when it is under KEPT_SHARE of its
    pixels across, and the --height that keeps more of them (at most 4096: a larger one
    takes gigabytes); None when it kept enough or 4096 is asked already. A 2832 px photo
    of 52.6° came out 300 px wide in the default 2048x1024 panorama, and a world made
    from that panorama was blurred (a trial; `world --photo` keeps the photo)."""
    w_photo = int(pano.photo_size[0]) if pano.photo_size else 0
    if w_photo <= 0 or pano.fov_x_deg <= 0:
        return None
    width = pano.image.shape[1]
    kept = width * pano.fov_x_deg / 360.0
    if kept >= KEPT_SHARE * w_photo:
        return None
    full = int(min(4096, 2 ** math.ceil(math.log2(w_photo * 360.0 / pano.fov_x_deg / 2))))
    return (
        f"the photo is {round(kept)} of its {w_photo} pixels across in this "
        f"{width}x{pano.image.shape[0]} panorama; --height {full} keeps more of its detail "
        f"(a world keeps all of it from the photo itself: world --photo)"
        if full > height
        else None
    )
