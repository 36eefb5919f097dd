"""`python main.py export SCENE_OR_PROJECT --format ply|splat|spz|glb|obj --out FILE ...`

Headless export of a project or scene file: the visible splat layers with transforms
baked (or one layer), meshes, the panorama (equirect + six cube faces) and the bookmarks
as cameras (COLMAP text + JSON).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from scene.errors import InputError

NAME = "export"
HELP = (
    "export a project or scene: splats to 3DGS PLY/.splat/.spz, meshes to GLB/OBJ, "
    "the panorama, the bookmarks as COLMAP cameras"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scene", help=".wander project or splat/mesh file")
    parser.add_argument("--out", help="output file (format from its extension unless --format)")
    from scene.io import FORMATS

    parser.add_argument(
        "--format",
        choices=[n for n, f in FORMATS.items() if f.encoder],
        help="output format (default: from --out's extension; "
        "name.compressed.ply = SuperSplat's compressed PLY)",
    )
    parser.add_argument("--layer", help="export only this layer (name or id), visible or not")
    parser.add_argument(
        "--crop",
        metavar="X0,Y0,Z0,X1,Y1,Z1",
        help="keep only splats whose centres lie in this world-space box",
    )
    parser.add_argument(
        "--min-opacity",
        type=float,
        default=0.0,
        metavar="T",
        help="drop splats with opacity below T (0..1), e.g. 0.02",
    )
    parser.add_argument(
        "--no-far-field",
        action="store_true",
        help="leave out the far field: a reconstruction's sky sphere and backdrop ground "
        "(or any splats beyond 8x the scene's median distance from its centre), for viewers "
        "that frame a file by its bounds",
    )
    parser.add_argument(
        "--panorama",
        metavar="PNG",
        help="also write the world's panorama here, plus six cube faces beside it",
    )
    parser.add_argument(
        "--face-size",
        type=int,
        metavar="PX",
        help="cube face size in pixels (default: half the panorama's height)",
    )
    parser.add_argument(
        "--cameras",
        metavar="DIR",
        help="also write the cameras (a reconstruction's photo cameras, else the "
        "bookmarks) as a COLMAP text model + cameras.json",
    )
    parser.add_argument(
        "--camera-size",
        default="1920x1080",
        metavar="WxH",
        help="image size of bookmark cameras WxH (1920x1080)",
    )
    from cli.cmd_convert import add_format_options

    add_format_options(parser)  # --sh-degree, --spz-version, --spz-axes, --antialiased


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: no output may overwrite SCENE (or
    another output): --out, --panorama (+ its cube faces), the files --cameras writes."""
    outs: list = [("--out", args.out), ("--panorama", args.panorama)]
    if args.panorama:
        from scene.export import cube_face_paths

        outs += [("--panorama (cube face)", p) for p in cube_face_paths(args.panorama)]
    if args.cameras:
        outs.append(("--cameras", Path(args.cameras)))  # a folder it makes
        outs += [
            ("--cameras", Path(args.cameras) / n)
            for n in ("cameras.txt", "images.txt", "points3D.txt", "cameras.json")
        ]
    return [("SCENE", args.scene)], outs


def mesh_export_problem(world: Any, fmt: str, layer: Any = None) -> str | None:
    """The plain reason a mesh format (glb/obj) cannot be written from `world`, or None.

    GLB/OBJ hold meshes, and only mesh layers have one: splats are not turned into a mesh.
    Used by the CLI and by the app's Export so both say the same."""
    from scene.export import content_meshes
    from scene.io import FORMATS, writable_names

    f = FORMATS.get(fmt)
    if f is None or f.kind != "mesh" or layer is not None:
        return None  # a named layer gets scene.export's own message
    if content_meshes(world):
        return None
    from scene.export import is_camera_frusta

    n = sum(len(lay.data) for lay in world.visible_layers() if not lay.is_mesh)
    guides = [lay.name for lay in world.visible_layers() if lay.is_mesh and is_camera_frusta(lay)]
    # (a reconstruction's visible "Photo cameras" layer is a mesh: "no visible mesh layer"
    # read as wrong, a trial)
    none = (
        f"this scene's only mesh layer, {guides[0]!r}, is a guide left out of exports "
        f"(--layer {guides[0]!r} writes it alone)"
        if len(guides) == 1
        else "this scene has no visible mesh layer"
    )
    return (
        f"{fmt.upper()} exports meshes, and only mesh layers have one: {none}, and its "
        f"{n:,} Gaussian splats are not turned into a mesh. "
        f"Export the splats as {writable_names('cloud')}; for a mesh, add a mesh layer "
        "(Create > Insert Mesh/Splat File… as a mesh, or Insert Object from Photo… with "
        "Insert as: Mesh; on the command line `object --mesh FILE`)"
    )


def run(args: argparse.Namespace) -> int:
    from scene import export as ex
    from scene.io import writable_names

    if not (args.out or args.panorama or args.cameras):
        raise InputError("nothing to do: give --out FILE (and/or --panorama PNG, --cameras DIR)")
    from scene.project import EXTENSION

    if args.out and Path(args.out).suffix.lower() == EXTENSION and args.format is None:
        # (convert's advice for a project once led here, to "cannot tell the format")
        raise InputError(
            f"--out {args.out}: export writes splat and mesh files (.ply, .spz, .splat, .glb, "
            "...), not projects; a project is copied as a file, or saved under another name "
            "with the app's File > Save Project As"
        )
    opts = ex.ExportOptions(
        sh_degree=args.sh_degree,
        crop=ex.parse_crop(args.crop) if args.crop else None,
        min_opacity=args.min_opacity,
        no_far_field=args.no_far_field,
    )
    from cli.scene_files import load_scene

    world = load_scene(args.scene)
    # everything that can fail is checked before the first file is written
    pano = cams = None
    if args.panorama:
        pano = ex.find_panorama(world)
        if pano is None:
            raise InputError(
                "this scene has no panorama: a world project keeps the panorama it was made "
                "from, a world saved as .ply/.spz/.splat does not (`world --save-panorama "
                "PNG` writes it)"
            )
        if isinstance(pano, Path):  # the panorama image is read: no output may replace it
            from scene.files import check_outputs

            check_outputs(io_paths(args)[1], [("the scene's panorama", pano)])
        if Path(args.panorama).suffix.lower() != ".png":
            raise InputError(f"--panorama is written as PNG: name it .png, got {args.panorama}")
        folder = Path(args.panorama).parent
        if not folder.is_dir():
            raise InputError(f"folder {folder} does not exist")
        from scene.files import check_can_write_in

        check_can_write_in(folder, "--panorama")
        if args.face_size is not None and not 1 <= args.face_size <= ex.MAX_FACE_SIZE:
            raise InputError(
                f"--face-size must be 1..{ex.MAX_FACE_SIZE} pixels, got {args.face_size}"
            )
    if args.cameras:
        w, h = _camera_size(args.camera_size)
        cams = ex.scene_cameras(world, w, h)
        if not cams:
            raise InputError("no cameras to export (add bookmarks or a camera path)")
        if Path(args.cameras).is_file():
            raise InputError(f"--cameras {args.cameras}: is a file, not a folder")
        from scene.files import check_can_write_in

        check_can_write_in(args.cameras, "--cameras")
    if args.out:
        from cli.cmd_convert import format_options
        from scene.io import output_format

        try:
            fmt = output_format(args.out, args.format)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        from scene.io import name_mismatch

        if args.format and (odd := name_mismatch(args.out, fmt)):
            print(f"warning: {odd}", file=sys.stderr)
        problem = mesh_export_problem(world, fmt, args.layer)
        if problem:
            raise InputError(problem)
        fopts = format_options(args, fmt)
        fopts.pop("sh_degree", None)  # applied by ExportOptions, with the crop and opacity
        info = ex.export_world(  # consume: the panorama and cameras were taken above
            world, args.out, fmt, layer=args.layer, options=opts, consume=True, **fopts
        )
        what = (
            f"{info['splats']:,} splats, SH degree {info['sh_degree']}"
            if "splats" in info
            else f"{info['vertices']} vertices, {info['faces']} faces"
        )
        if info.get("sh_dropped"):  # as `convert` says it
            what += f"; SH degree {info['sh_dropped']} dropped: .{fmt} has no SH"
        print(f"wrote {info['path']} ({info['format']}: {what})")
        if info.get("frame_record"):
            start = info.get("frame_record_start")
            what = "+Y up in metres and the start view" if start else "+Y up in metres"
            print(f"wrote {info['frame_record']} ({what}, for Wander)")
        if info.get("meshes_left_out"):
            names = ", ".join(repr(n) for n in info["meshes_left_out"])
            print(
                f"warning: {info['format'].upper()} holds Gaussian splats only: the mesh "
                f"layers ({names}) are not in it (export those as .glb or .obj, e.g. "
                "--layer NAME)",
                file=sys.stderr,
            )
        if info.get("splats_left_out"):
            meshes = ", ".join(repr(lay.name) for lay in world.visible_layers() if lay.is_mesh)
            print(
                f"warning: {Path(info['path']).suffix.lstrip('.').upper()} holds meshes: only "
                "the mesh layers "
                f"({meshes}) are in it, not the scene's {info['splats_left_out']:,} Gaussian "
                f"splats (export those as {writable_names('cloud')})",
                file=sys.stderr,
            )
    if pano is not None:
        files = ex.export_panorama(pano, args.panorama, args.face_size)
        print(f"wrote {files[0]} and {len(files) - 1} cube faces")
    if cams is not None:
        files = ex.export_cameras(cams, args.cameras)
        print(
            f"wrote {len(cams)} camera{'s' if len(cams) != 1 else ''} to {Path(args.cameras)} "
            f"({', '.join(f.name for f in files)})"
        )
    return 0


def _camera_size(text: str) -> tuple[int, int]:
    """'WxH' -> (w, h) for bookmark cameras: any size 1..16384 (no video constraints)."""
    try:
        w, h = (int(v) for v in text.lower().replace(" ", "").split("x"))
    except ValueError:
        raise InputError(f"--camera-size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (0 < w <= 16384 and 0 < h <= 16384):
        raise InputError(f"--camera-size must be 1..16384 pixels a side, got {text!r}")
    return w, h
