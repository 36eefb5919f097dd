"""`python main.py object`: a photo (or a mesh/splat file) -> a 3D object (splats + mesh)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scene.errors import InputError

NAME = "object"
HELP = "turn a photo of a thing (or a mesh/splat file) into a 3D object: splat PLY + mesh"


def _pair(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected x,y pixels, got {text!r}") from None
    return x, y


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--photo", type=Path, help="photo of the object (PNG with alpha is used as the mask)")
    p.add_argument("--backend", choices=("classical", "multiview", "hunyuan3d", "import"), default="classical",
                   help="classical: silhouette inflation, no weights (default); multiview: Zero123++ "
                        "diffusion + space carving (`models download zero123plus`, or --model DIR); "
                        "hunyuan3d: Hunyuan3D-2mini shape + photo texture (hy3dgen; `models download "
                        "hunyuan3d-2mini`); import: an external mesh/splat file")
    p.add_argument("--segmenter", choices=("classical", "neural"), default="classical",
                   help="classical: GrabCut + matte (default); neural: SAM 2 (`models download sam2-tiny`) "
                        "or the SAM given with --sam")
    p.add_argument("--box", help="object box in the photo, x0,y0,x1,y1 pixels (default: centred box)")
    p.add_argument("--point", type=_pair, help="a click on the object, x,y pixels")
    p.add_argument("--model", type=Path, help="multiview: local diffusers pipeline folder (default: the model manager's zero123plus)")
    p.add_argument("--sam", type=Path, help="neural segmenter: SAM .pth checkpoint, transformers folder or model name "
                        "(default: sam2-tiny)")
    p.add_argument("--input", type=Path, help="import: GLB/GLTF/OBJ/PLY mesh or splat file")
    p.add_argument("--keep-mesh", action="store_true", help="import: keep a mesh as a mesh (no splats)")
    p.add_argument("--height", type=float, default=1.0, help="object height in world units (default 1)")
    p.add_argument("--resolution", type=int, default=320, help="classical: splat grid size (default 320)")
    p.add_argument("--steps", type=int, default=28, help="multiview: diffusion steps (default 28)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=200_000, help="import: splats sampled on a mesh")
    p.add_argument("--device", help="torch device for neural backends (default: cuda if available)")
    p.add_argument("--out", type=Path, help="output splat file (.ply)")
    p.add_argument("--mesh", type=Path, help="also write the mesh (.glb/.obj/.ply)")


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: --out/--mesh never overwrite an input."""
    return ([("--photo", args.photo), ("--input", args.input), ("--sam", args.sam)],
            [("--out", args.out), ("--mesh", args.mesh)])


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from generators.objects.files import (
        check_mesh_path,
        check_output_folder,
        write_cloud,
        write_mesh,
    )
    from generators.objects.pipeline import ObjectRequest, generate_object

    from cli.checks import check_int, check_seed

    check_seed(args.seed)
    check_int(args.steps, "--steps", 1, 1000)
    check_int(args.resolution, "--resolution", 16, 4096)
    from generators.objects.pipeline import MAX_SAMPLES

    check_int(args.samples, "--samples", 100, MAX_SAMPLES)
    if args.out is None and args.mesh is None:
        raise InputError("nothing to write: give --out OBJ.ply and/or --mesh OBJ.glb")
    if args.out is not None and args.out.suffix.lower() != ".ply":
        raise InputError(f"--out must be a .ply file, got {args.out}")
    if args.mesh is not None:
        check_mesh_path(args.mesh)
    for target in (args.out, args.mesh):  # both checked before either is written
        if target is not None:
            check_output_folder(target)
    req = ObjectRequest(photo=args.photo, backend=args.backend, segmenter=args.segmenter, box=args.box,
                        point=args.point, model=args.model, sam=args.sam, input=args.input,
                        as_mesh=args.keep_mesh, with_mesh=args.mesh is not None, height=args.height,
                        resolution=args.resolution, steps=args.steps, seed=args.seed,
                        samples=args.samples, device=args.device)
    bar = TerminalProgress("object ")
    try:
        res = generate_object(req, bar)
    finally:
        bar.done()
    for w in res.warnings:
        print(f"warning: {w}")
    if args.out is not None:
        if res.cloud is None:
            raise InputError("this object is a mesh only (--keep-mesh); drop --out or use --mesh")
        write_cloud(res.cloud, args.out)
        print(f"wrote {args.out}: {len(res.cloud)} splats, size {json.dumps(res.meta.get('size'))}")
    if args.mesh is not None:
        if res.mesh is None:
            raise InputError("this backend produced no mesh")
        write_mesh(res.mesh, args.mesh)
        print(f"wrote {args.mesh}: {res.mesh.n_vertices} vertices, {res.mesh.n_faces} faces")
    return 0
