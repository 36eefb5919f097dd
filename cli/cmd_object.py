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
JOB_ARGUMENTS = ("out", "mesh", "into", "at", "insert_as")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `ObjectOptions` fields with a CLI flag, then the outputs."""
    from generators.objects.options import ObjectOptions
    from generators.options import add_arguments as add_option_arguments

    add_option_arguments(p, ObjectOptions)
    p.add_argument(
        "--out",
        type=Path,
        help="output splat file: .ply, .compressed.ply, .splat or .spz (by its name)",
    )
    p.add_argument("--mesh", type=Path, help="also write the mesh (.glb/.obj/.ply)")
    p.add_argument(
        "--into",
        type=Path,
        metavar="WORLD.wander",
        help="insert the object into this project (saved in place, atomically), as the app's "
        "Insert Object does: --height tall, on what the start view looks at (a floor, a "
        "table; or --at), "
        "its colours matched to the light there",
    )
    p.add_argument(
        "--at",
        metavar="X,Y,Z",
        help="with --into: stand the object on the surface below this point (world metres)",
    )
    p.add_argument(
        "--insert-as",
        choices=("splats", "mesh"),
        default="splats",
        help="with --into: insert the splats (default) or the mesh",
    )


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out/--mesh never overwrite an input, and
    the project --into (rewritten in place) is neither."""
    return (
        [("--photo", args.photo), ("--input", args.input), ("--sam", args.sam)],
        [("--out", args.out), ("--mesh", args.mesh), ("--into", args.into)],
    )


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.objects.files import check_mesh_path, check_splat_path, write_cloud, write_mesh
    from generators.objects.options import ObjectOptions
    from generators.objects.pipeline import generate_object
    from generators.options import check_inputs_exist, from_args

    want_mesh = args.mesh is not None or (args.into is not None and args.insert_as == "mesh")
    req = from_args(ObjectOptions, args, with_mesh=want_mesh)
    keep_mesh = bool(getattr(args, "as_mesh", False))
    if args.out is None and args.mesh is None and args.into is None:
        raise InputError(
            "nothing to write: give --mesh OBJ.glb and/or --into WORLD.wander (--keep-mesh "
            "makes no splats for --out)"
            if keep_mesh
            else "nothing to write: give --out OBJ.ply, --mesh OBJ.glb and/or --into WORLD.wander"
        )
    if keep_mesh and args.out is not None:
        # said before the work, in the terms of the message above
        raise InputError(
            "--keep-mesh keeps the mesh as a mesh (no splats) and --out writes splats: "
            "write it with --mesh OBJ.glb and/or --into WORLD.wander instead of --out"
        )
    if req.backend == "import" and args.photo is not None:
        # the import backend reads --input alone: the photo was ignored without a word
        raise InputError(
            "--backend import reads the file given with --input and uses no photo: drop "
            "--photo, or drop --backend import to make the object from the photo"
        )
    at = _check_into(args)
    if args.out is not None:
        check_splat_path(args.out)
    if args.mesh is not None:
        check_mesh_path(args.mesh)
    req.check()  # options, and a backend's weights, before any work
    check_inputs_exist([p for p in (req.photo, req.input) if isinstance(p, (str, Path))])
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
    if args.into is not None:
        _insert_into(args.into, res, at, args.insert_as == "mesh", req.height)
    return 0


def _check_into(args: argparse.Namespace):  # noqa: ANN202 - np.ndarray | None
    """Before any work: --into names a readable, undamaged .wander project; --at (and
    --insert-as) only with it. Returns --at as a (3,) array or None."""
    import math

    import numpy as np

    if args.into is None:
        if args.at is not None or args.insert_as != "splats":
            raise InputError(
                "--at and --insert-as place an object inserted with --into WORLD.wander"
            )
        return None
    from scene.project import EXTENSION, project_damage, read_manifest

    if args.into.suffix.lower() != EXTENSION:
        raise InputError(f"--into must be a Wander project ({EXTENSION}), got {args.into}")
    if not args.into.is_file():
        raise InputError(f"--into {args.into}: no such project (make one with `world`)")
    read_manifest(args.into)  # a SceneFormatError names what is wrong with it
    damage = project_damage(args.into)
    if damage:
        from scene.errors import SceneFormatError
        from scene.project import load_project

        try:  # nothing of it opens: no app can save it either (a trial followed the advice)
            load_project(args.into)
        except SceneFormatError as exc:
            raise InputError(f"--into {exc}") from None
        raise InputError(
            f"--into {args.into}: the project is damaged ({damage[0]}); open it in the app "
            "and save it before inserting into it"
        )
    if args.at is None:
        return None
    try:
        at = np.array([float(v) for v in args.at.replace(" ", "").split(",")], np.float64)
    except ValueError:
        at = np.zeros(0)
    if at.shape != (3,) or not all(math.isfinite(v) for v in at):
        raise InputError(f"--at {args.at!r}: give three numbers X,Y,Z (metres)")
    from scene.camera import position_problem

    far = position_problem(at)
    if far:
        raise InputError(f"--at {args.at!r} {far}")
    return at


def _insert_into(path: Path, res, at, as_mesh: bool, height: float) -> None:  # noqa: ANN001
    """Insert the object `res` into the project at `path` as the app's Insert Object does
    (generators/objects/place.py: on the floor ahead of the start view, beside the objects
    already there, or on the surface below `at`; `height` m tall; colours matched to the
    light there) and save the project in place."""
    import numpy as np

    from generators.objects.light import match_exposure
    from generators.objects.place import insert_object, placement_at, view_placement
    from scene.camera import forward_from_yaw_pitch
    from scene.gaussians import GaussianCloud
    from scene.project import load_project, save_project
    from scene.up_axis import world_up

    world, warnings = load_project(path)
    for w in warnings:
        print(f"warning: {path.name}: {w}", file=sys.stderr)
    use_mesh = as_mesh and res.mesh is not None
    data = res.mesh if use_mesh else res.data
    if as_mesh and not use_mesh:
        print("warning: the backend made no mesh: the splats go in", file=sys.stderr)
    bounds = data.bounds()
    if at is None:
        fov_y = None
        if world.bookmarks:
            b = world.bookmarks[0]
            eye = np.asarray(b.position, np.float64)
            ray = forward_from_yaw_pitch(b.yaw, b.pitch)
            from scene.campath import bookmark_fov_y

            # in the start view as `render` shows it (16:9; a photo's bookmark fills it)
            fov_y = bookmark_fov_y(b, 16 / 9)
        else:
            from cli.cmd_render import default_view

            eye, target = default_view(world)
            ray = np.asarray(target, np.float64) - np.asarray(eye, np.float64)
        m, _ = view_placement(world, eye, ray, bounds, height=height, fov_y_deg=fov_y)
    else:  # facing the start view
        view = world.bookmarks[0].position if world.bookmarks else at + world_up(world)
        m, below = placement_at(world, at, bounds, height, view)
        if below is None:  # a trial's --at 100,100,100: no word
            print(
                "warning: nothing the world holds lies below --at "
                f"{','.join(f'{v:g}' for v in at)}: the object stands there in mid-air "
                "(`info` gives the scene's bounds)",
                file=sys.stderr,
            )
    data, gain = match_exposure(data, world, m)
    source = dict(res.meta, light_gain=gain, warnings=res.warnings)
    lay = insert_object(world, res.name, data, m, source)
    save_project(world, path)
    x, y, z = (float(v) for v in m[:3, 3])
    tall = float(np.linalg.norm(m[:3, 1])) * float(bounds[1][1] - bounds[0][1])
    # what went in (an imported mesh kept as a mesh, --keep-mesh, is one without
    # --insert-as mesh: it was reported as splats)
    kind = "splats" if isinstance(data, GaussianCloud) else "mesh"
    print(
        f"inserted {lay.name!r} ({kind}, {tall:.2f} m tall) into {path} at "
        f"({x:+.2f}, {y:+.2f}, {z:+.2f})"
        + (f", its colours x{gain:.2f} to match the light" if abs(gain - 1) >= 0.02 else "")
    )
