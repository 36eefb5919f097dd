"""`python main.py convert IN OUT`: convert between splat (and mesh) file formats."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from scene.errors import InputError

NAME = "convert"
HELP = (
    "convert a splat or mesh file to another format (ply, compressed.ply, splat, spz, glb, obj; "
    "also reads sog and ksplat)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from scene.io import FORMATS

    parser.add_argument(
        "input",
        help="file to read (.ply, .compressed.ply, .splat, .spz, .sog, "
        "meta.json, .ksplat, .glb, .obj...)",
    )
    parser.add_argument("output", help="file to write; the format follows its extension")
    parser.add_argument(
        "--format",
        choices=[n for n, f in FORMATS.items() if f.encoder],
        help="output format when the extension is ambiguous",
    )
    parser.add_argument(
        "--input-format",
        choices=list(FORMATS),
        help="read the input as this format instead of detecting it",
    )
    add_format_options(parser)


def add_format_options(parser: argparse.ArgumentParser) -> None:
    """The writer options of scene.io's registry, shared by `convert` and `export`."""
    parser.add_argument(
        "--sh-degree",
        type=int,
        choices=[0, 1, 2, 3],
        help="truncate (or zero-pad) spherical harmonics to this degree",
    )
    parser.add_argument(
        "--spz-version",
        type=int,
        choices=[2, 3],
        default=3,
        help="version of .spz to write (default 3)",
    )
    parser.add_argument(
        "--spz-axes",
        choices=["ply", "rub"],
        default=None,
        help="axes of the .spz data read or written: ply (the default: the PLY "
        "frame, as Niantic's CLI and Wander store it) or rub (y up, z back: "
        "as splat-transform and SuperSplat write). From .spz to .spz it names the "
        "output's axes. Reading without this option follows the file's "
        "coordinate-system extension, or the record Wander wrote beside it",
    )
    parser.add_argument(
        "--antialiased",
        choices=["keep", "yes", "no"],
        default="keep",
        help="mark the written splats as antialiased (mip-splatting) or not; "
        "default: keep the input's flag (ply, compressed ply, spz carry it)",
    )


def format_options(args: argparse.Namespace, fmt: str) -> dict:
    """Registry writer options for output format `fmt` from the shared CLI flags."""
    from scene.io import FORMATS

    options: dict = {}
    if FORMATS[fmt].kind != "cloud":
        return options
    if args.sh_degree is not None:
        options["sh_degree"] = args.sh_degree
    if args.antialiased != "keep":
        options["antialiased"] = args.antialiased == "yes"
    if fmt == "spz":
        options["version"] = args.spz_version
        options["axes"] = args.spz_axes or "ply"
    return options


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: checked so OUT and its frame record
    never overwrite IN."""
    from scene.files import sidecar_path

    outs = [("the output", args.output), ("the output's frame record", sidecar_path(args.output))]
    return [("the input", args.input)], outs


def carry_frame_record(
    src: Path, dst: Path, cloud: Any = None, spz_axes: str | None = None
) -> Path | None:
    """Beside `dst`, the frame record (`scene.export.write_frame_record`: +Y up, metres,
    the start view) of a file Wander made, read from what `src` says about itself (the
    record beside it, a world's provenance, a reconstruction's cameras), as `export`
    writes one: without it the converted file opens with a guessed up axis, often from
    the far sky sphere. `cloud`: the splats written (their marked far field's count goes
    in the record; `spz_axes`: the frame a .spz was written in). Returns the record
    written, or None for another tool's file."""
    from scene.export import write_frame_record
    from scene.world import World
    from viewer.up_axis import adopt_file_context

    world = World()
    adopt_file_context(world, src)
    return write_frame_record(world, dst, cloud=cloud, spz_axes=spz_axes)


def _is_project(path: Path) -> bool:
    """True for a Wander project: a zip holding the project manifest, whatever its name."""
    import zipfile

    from scene.project import MANIFEST

    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def run(args: argparse.Namespace) -> int:
    from scene.gaussians import GaussianCloud
    from scene.io import (
        FORMATS,
        check_readable,
        format_for_path,
        load,
        output_format,
        resolve_format,
        save,
    )

    t0 = time.perf_counter()
    check_readable(Path(args.input))
    from scene.project import EXTENSION

    if args.input_format is None and _is_project(Path(args.input)):
        if Path(args.output).suffix.lower() == EXTENSION:
            raise InputError(
                f"{args.input} is a Wander project: a project is copied as a file, or saved "
                "under another name with the app's File > Save Project As; to write its "
                f"scene as splats use: python main.py export {args.input} --out "
                f"{Path(args.output).with_suffix('.ply')}"
            )
        raise InputError(
            f"{args.input} is a Wander project, not a splat or mesh file; to write "
            f"its scene use: python main.py export {args.input} --out {args.output}"
        )

    if args.input_format is None and Path(args.input).suffix.lower() == EXTENSION:
        raise InputError(
            f"{args.input} is named like a Wander project but is not one (a project is a "
            f"zip archive with a manifest inside); it may be damaged or incomplete"
        )
    in_fmt = resolve_format(args.input, args.input_format)
    if in_fmt == "spz":
        from scene.io.spz import read_spz

        # .spz to .spz: --spz-axes is the output's frame (applied on read too, the two
        # flips cancelled); the input is read in the frame its own records name
        out_spz = (args.format or format_for_path(args.output)) == "spz"
        obj = read_spz(args.input, axes=None if out_spz else args.spz_axes)
    else:
        obj = load(args.input, in_fmt)
    from cli.scene_files import print_read_warning

    print_read_warning(obj, args.input)
    if isinstance(obj, GaussianCloud):
        from viewer.up_axis import adopt_record_marks

        # a converted file's far field, and a world's hidden layers where the output keeps
        # the order, kept through (`scene.export.write_frame_record`)
        adopt_record_marks(obj, args.input)
    try:
        out_fmt = output_format(args.output, args.format, obj)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    from scene.io import name_mismatch

    if args.format and (odd := name_mismatch(args.output, out_fmt)):
        print(f"warning: {odd}", file=sys.stderr)
    options = format_options(args, out_fmt)
    if not isinstance(obj, GaussianCloud):
        if args.sh_degree is not None or args.antialiased != "keep":
            raise InputError(
                "--sh-degree / --antialiased apply to Gaussian clouds, but the input is a mesh"
            )
        options = {}
        if FORMATS[out_fmt].kind == "cloud":
            raise InputError(
                f"{args.input} is a mesh and .{out_fmt} holds Gaussian splats: `object "
                f"--backend import --input {args.input} --out NAME.{out_fmt}` samples it "
                "into splats, as an object (standing at the origin, --height tall)"
            )
    if isinstance(obj, GaussianCloud) and FORMATS[out_fmt].kind == "mesh":
        from scene.io import writable_names

        # as `export` says it (cmd_export.mesh_export_problem); this read "glb holds
        # meshes; cannot write a Gaussian cloud as glb"
        raise InputError(
            f"{out_fmt.upper()} holds meshes, and {args.input} holds {len(obj):,} Gaussian "
            f"splats, which are not turned into a mesh: convert to "
            f"{writable_names('cloud')}"
        )
    save(obj, args.output, out_fmt, **options)
    if isinstance(obj, GaussianCloud):
        have = obj.sh_degree if args.sh_degree is None else args.sh_degree
        deg = 0 if out_fmt == "splat" else have
        what = f"{len(obj):,} splats, SH degree {deg}"
        if deg < have:
            what += f"; SH degree {have} dropped: .splat has no SH"
        elif deg > obj.sh_degree:
            what += (
                f"; degrees {obj.sh_degree + 1}-{deg} are zeros (the input has SH degree "
                f"{obj.sh_degree}): the colours are the same, the file is bigger"
            )
        side = carry_frame_record(
            Path(args.input),
            Path(args.output),
            obj,
            spz_axes=options.get("axes") if out_fmt == "spz" else None,
        )
        if side is not None:
            what += f"; its up axis and start view in {side.name}"
    else:
        what = f"mesh with {obj.n_vertices} vertices, {obj.n_faces} faces"
    print(
        f"wrote {args.output} ({in_fmt} -> {out_fmt}: {what}) in {time.perf_counter() - t0:.2f} s"
    )
    return 0
