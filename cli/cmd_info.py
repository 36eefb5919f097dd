"""`python main.py info FILE [--json]`: what a splat or mesh file holds."""

from __future__ import annotations

import argparse
import json

NAME = "info"
HELP = "show format, splat count, SH degree, bounds and size of a splat or mesh file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="splat or mesh file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from scene.io import file_info

    info = file_info(args.file)
    from cli.cmd_world import world_estimates  # a generated world's estimates and sources

    est = world_estimates(args.file)
    if est:
        info["world_estimates"] = est
    if args.json:
        print(json.dumps(info))
        return 0
    fmt3 = lambda v: "(" + ", ".join(f"{x:.4g}" for x in v) + ")"  # noqa: E731
    print(f"file:      {info['path']}")
    print(f"format:    {info['format']} ({info['format_description']})")
    print(f"size:      {info['file_size']:,} bytes")
    if info["kind"] == "mesh":
        print(f"vertices:  {info['vertices']:,}")
        print(f"faces:     {info['faces']:,}")
        print(f"colour:    {'texture' if info['has_texture'] else 'vertex colours' if info['has_vertex_colors'] else 'none'}")
    else:
        print(f"splats:    {info['count']:,}")
        print(f"SH degree: {info['sh_degree']}")
        if "antialiased" in info or info["format"] in ("ply", "ply_compressed"):
            print(f"antialiased: {'yes (mip-splatting)' if info.get('antialiased') else 'no'}")
        if "ksplat_compression" in info:
            print(f"ksplat compression level: {info['ksplat_compression']}")
        if "spz_axes" in info:
            # file_info reads without an axes choice: only the file's own extension flips
            axes = info["spz_axes"]
            if axes == "ply":
                how = ("PLY frame (x right, y down, z forward), kept as stored; a file from "
                       "splat-transform or SuperSplat (RUB) needs `convert --spz-axes rub`")
            else:
                how = f"{axes} from the file's coordinate-system extension, turned to the PLY frame"
            print(f"spz axes:  {how}")
        if info.get("spz_extensions"):
            print(f"spz extensions: {', '.join(info['spz_extensions'])}")
    print(f"bounds:    {fmt3(info['bounds_min'])} .. {fmt3(info['bounds_max'])}")
    if "near_bounds_min" in info and info.get("near_count", 0) < info.get("count", 0):
        far = info["count"] - info["near_count"]
        print(f"  scene:   {fmt3(info['near_bounds_min'])} .. {fmt3(info['near_bounds_max'])} "
              f"(1-99 % of centres, without {far:,} far splats: sky or distant background)")
    if est:
        print("world estimates (value, source):")
    for name, e in (est or {}).items():
        if isinstance(e, dict):
            print(f"  {name}: {e.get('value')} ({e.get('source')})")
    if info.get("warning"):
        print(f"warning:   {info['warning']}")
    return 0
