"""`python main.py object`: a photo (or a mesh/splat file) -> a 3D object (splats + mesh).

The options are `generators.objects.options.ObjectOptions`: its fields with a CLI flag
become the arguments; the PLY written records them in its `comment wander` header line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scene.errors import InputError

NAME = "object"
HELP = "turn a photo of a thing (or a mesh/splat file) into a 3D object: splat PLY + mesh"


#: arguments of the command that are not object options (its outputs)
JOB_ARGUMENTS = ("out", "mesh")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `ObjectOptions` fields with a CLI flag, then the outputs."""
    from generators.objects.options import ObjectOptions
    from generators.options import add_arguments as add_option_arguments

    add_option_arguments(p, ObjectOptions)
    p.add_argument("--out", type=Path, help="output splat file (.ply)")
    p.add_argument("--mesh", type=Path, help="also write the mesh (.glb/.obj/.ply)")


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out/--mesh never overwrite an input."""
    return (
        [("--photo", args.photo), ("--input", args.input), ("--sam", args.sam)],
        [("--out", args.out), ("--mesh", args.mesh)],
    )


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.objects.files import check_mesh_path, write_cloud, write_mesh
    from generators.objects.options import ObjectOptions
    from generators.objects.pipeline import generate_object
    from generators.options import from_args

    req = from_args(ObjectOptions, args, with_mesh=args.mesh is not None)
    if args.out is None and args.mesh is None:
        raise InputError("nothing to write: give --out OBJ.ply and/or --mesh OBJ.glb")
    if args.out is not None and args.out.suffix.lower() != ".ply":
        raise InputError(f"--out must be a .ply file, got {args.out}")
    if args.mesh is not None:
        check_mesh_path(args.mesh)
    req.check()  # options, and a backend's weights, before any work
    bar = TerminalProgress("object ")
    try:
        res = generate_object(req, bar)
    finally:
        bar.done()
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.out is not None:
        if res.cloud is None:
            raise InputError("this object is a mesh only (--keep-mesh); drop --out or use --mesh")
        write_cloud(res.cloud, args.out)
        size = res.meta.get("size")
        dims = " x ".join(f"{float(v):.2f}" for v in size) + " m" if size else "unknown"
        print(f"wrote {args.out}: {len(res.cloud):,} splats, size {dims} (x, y, z)")
    if args.mesh is not None:
        if res.mesh is None:
            raise InputError("this backend produced no mesh")
        write_mesh(res.mesh, args.mesh)
        print(f"wrote {args.mesh}: {res.mesh.n_vertices} vertices, {res.mesh.n_faces} faces")
    return 0
