"""`python main.py convert IN OUT`: convert between splat (and mesh) file formats."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from scene.errors import InputError

NAME = "convert"
HELP = "convert a splat or mesh file to another format (ply, compressed.ply, splat, spz, glb, obj)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from scene.io import FORMATS

    parser.add_argument("input", help="file to read (.ply, .compressed.ply, .splat, .spz, .glb, .obj...)")
    parser.add_argument("output", help="file to write; the format follows its extension")
    parser.add_argument("--format", choices=[n for n, f in FORMATS.items() if f.writer],
                        help="output format when the extension is ambiguous")
    parser.add_argument("--input-format", choices=list(FORMATS),
                        help="read the input as this format instead of detecting it")
    parser.add_argument("--sh-degree", type=int, choices=[0, 1, 2, 3],
                        help="truncate (or zero-pad) spherical harmonics to this degree")
    parser.add_argument("--spz-version", type=int, choices=[2, 3], default=3,
                        help="version of .spz to write (default 3)")
    parser.add_argument("--spz-axes", choices=["ply", "rub"], default=None,
                        help="axes of the .spz data read or written: ply (the default: the PLY "
                             "frame, as Niantic's CLI and Wander store it) or rub (y up, z back: "
                             "as splat-transform and SuperSplat write). Reading without this "
                             "option follows the file's coordinate-system extension if it has one")


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: checked so OUT never overwrites IN."""
    return [("IN", args.input)], [("OUT", args.output)]


def run(args: argparse.Namespace) -> int:
    from scene.gaussians import GaussianCloud
    from scene.io import format_for_path, load, save

    t0 = time.perf_counter()
    from scene.io import check_readable, resolve_format

    check_readable(Path(args.input))
    in_fmt = resolve_format(args.input, args.input_format)
    if in_fmt == "spz":
        from scene.io.spz import read_spz

        obj = read_spz(args.input, axes=args.spz_axes)
    else:
        obj = load(args.input, args.input_format)
    options = {}
    if isinstance(obj, GaussianCloud):
        if args.sh_degree is not None:
            obj = obj.with_sh_degree(args.sh_degree)
        if (args.format or format_for_path(args.output)) == "spz":
            options["version"] = args.spz_version
            options["axes"] = args.spz_axes or "ply"
    elif args.sh_degree is not None:
        raise InputError("--sh-degree applies to Gaussian clouds, but the input is a mesh")
    out_fmt = args.format or format_for_path(args.output)
    save(obj, args.output, args.format, **options)
    if isinstance(obj, GaussianCloud):
        deg = 0 if out_fmt == "splat" else obj.sh_degree
        what = f"{len(obj)} splats, SH degree {deg}"
        if deg < obj.sh_degree:
            what += f"; SH degree {obj.sh_degree} dropped: .splat has no SH"
    else:
        what = f"mesh with {obj.n_vertices} vertices, {obj.n_faces} faces"
    print(f"wrote {args.output} ({what}) in {time.perf_counter() - t0:.2f} s")
    return 0
