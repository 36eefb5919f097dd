"""`python main.py info FILE [--json]`: what a splat or mesh file or a `.wander` project holds.

A project is described from its manifest alone (`scene.project.read_manifest`: no layer data
is unpacked): app version, up axis, every layer (name, kind, splat or vertex count,
visibility, how it was made: the generator and its main settings), bookmarks, the camera
path and the input files stored in it. Manifests are untrusted input: a field of the wrong
type is shown as unknown, never trusted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NAME = "info"
HELP = (
    "show format, splat count, SH degree, bounds and size of a splat or mesh file, or the "
    "layers, bookmarks and origins of a .wander project"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        help="splat or mesh file, .wander project, image, video, COLMAP model folder or "
        "reconstruction report",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


#: generator id -> words
GENERATORS = {
    "wander.pano_world": "world from a photo/panorama",
    "wander.panorama": "panorama",
    "wander.objects": "inserted object",
    "wander.reconstruct": "reconstruction from photos",
    "file": "opened from a file",
}
#: settings worth naming when a layer's source (or its "options") holds them as plain values
HOW_KEYS = (
    "backend",
    "depth_backend",
    "depth_model",
    "segmenter",
    "method",
    "model",
    "resolution",
    "refine_steps",
    "prompt",
    "format",
    "duplicated_from",
)


#: an object's settings that its backend does not use (recorded with the options all the
#: same): an imported mesh was said to be made "(backend import, segmenter classical,
#: resolution 320)" (a trial)
UNUSED_BY_BACKEND = {"import": ("segmenter", "resolution", "model", "method")}


def _plain(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool) and len(str(v)) <= 120


def _text(v: Any, n: int = 120) -> str:
    """A manifest value as printable text (control characters dropped), or "?"."""
    if not _plain(v):
        return "?"
    return "".join(ch for ch in str(v) if ch.isprintable())[:n]


def how_made(source: Any) -> str:
    """One line on how a layer was made, from its manifest `source` (a dict, else unknown)."""
    if not isinstance(source, dict) or not source:
        return "unknown (no source recorded)"
    gen = source.get("generator")
    if gen is None and _plain(source.get("path")):  # another tool's file, opened as it is
        return f"opened from a file ({_text(Path(str(source['path'])).name, 80)})"
    words = GENERATORS.get(gen, _text(gen, 60)) if _plain(gen) else "unknown generator"
    if gen == "wander.reconstruct" and source.get("input") == "video":
        words = "reconstruction from a video"
    parts = []
    ran, opts = source.get("refined_steps"), source.get("options")
    asked = opts.get("refine_steps") if isinstance(opts, dict) else None
    if isinstance(ran, int) and _plain(asked):  # a time budget may stop it early
        parts.append(f"refine_steps {ran} of {_text(asked, 12)} run")
    backend = next(
        (w.get("backend") for w in (source, opts) if isinstance(w, dict) and "backend" in w), None
    )
    unused = UNUSED_BY_BACKEND.get(backend, ()) if gen == "wander.objects" else ()
    for where in (source, opts):
        if isinstance(where, dict):
            parts += [
                f"{k} {_text(where[k], 60)}"
                for k in HOW_KEYS
                if k in where
                and k not in unused
                and _plain(where[k])
                and str(where[k]).strip()  # an empty prompt says nothing
                and f"{k} {_text(where[k], 60)}" not in parts
                and not (k == "refine_steps" and isinstance(ran, int))
            ]
    return words + (f" ({', '.join(parts)})" if parts else "")


def describe_project(path: str | Path) -> dict[str, Any]:
    """What a `.wander` project holds, from its manifest only (SceneFormatError if unreadable)."""
    from scene.camera import position_problem
    from scene.errors import SceneFormatError
    from scene.project import FORMAT_VERSION, _parse_version, layer_kind, read_manifest

    p = Path(path)
    man = read_manifest(p)
    lst = lambda v: v if isinstance(v, list) else []  # noqa: E731
    layers = []
    for lay in lst(man.get("layers")):
        if not isinstance(lay, dict):
            continue
        count = lay.get("count")
        kind = layer_kind(lay.get("kind", "world"), lay.get("data") == "mesh")
        entry = {
            "name": _text(lay.get("name")),
            # as the project opens it (a kind this version does not know is read as one
            # it does, which a trial's "[banana]" did not say)
            "kind": kind,
            "data": lay.get("data") if lay.get("data") in ("cloud", "mesh") else "?",
            "count": count if isinstance(count, int) and not isinstance(count, bool) else None,
            "visible": lay.get("visible") is not False,
            "how": how_made(lay.get("source")),
        }
        placed = _placement(lay.get("transform"))
        if placed is not None:  # where a moved or inserted layer stands
            entry.update(placed)
        layers.append(entry)
    bookmarks = []
    for b in lst(man.get("bookmarks")):
        pos = b.get("position") if isinstance(b, dict) else None
        if (
            isinstance(pos, list)
            and len(pos) == 3
            and all(_plain(v) and not isinstance(v, str) for v in pos)
            and position_problem([float(v) for v in pos]) is None  # skipped on load
        ):
            bookmarks.append(
                {"name": _text(b.get("name"), 80), "position": [float(v) for v in pos]}
            )
    meta = man.get("meta") if isinstance(man.get("meta"), dict) else {}
    cpath = meta.get("camera_path") if isinstance(meta.get("camera_path"), dict) else None
    kfs = lst(cpath.get("keyframes")) if cpath else []
    times = [
        k.get("time")
        for k in kfs
        if isinstance(k, dict) and _plain(k.get("time")) and not isinstance(k.get("time"), str)
    ]
    from scene.project import _plain_name

    inputs = [  # as the loader names them: the last path component only
        _text(_plain_name(i.get("name")))
        for i in lst(man.get("inputs"))
        if isinstance(i, dict) and _plain_name(i.get("name"))
    ]
    up = man.get("up_axis")
    problem = None  # what makes the app and `render` refuse it, said here too
    try:
        major, _ = _parse_version(man.get("format_version"), p)
    except SceneFormatError as exc:
        problem = exc.problem
    else:
        if major > FORMAT_VERSION[0]:
            problem = (
                f"written by a newer Wander (project format "
                f"{_text(man.get('format_version'), 20)}); this version reads format "
                f"{FORMAT_VERSION[0]}.x and cannot open it"
            )
    return {
        "problem": problem,
        "path": str(p),
        "format": "wander",
        "format_description": "Wander project",
        "file_size": p.stat().st_size,
        "format_version": _text(man.get("format_version"), 20),
        "app_version": _text(man.get("app_version"), 40),
        "up_axis": (
            [float(v) for v in up]
            if isinstance(up, list)
            and len(up) == 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in up)
            else None
        ),
        "world": how_made(meta) if meta.get("generator") else None,
        "layers": layers,
        "splats": sum(lay["count"] or 0 for lay in layers if lay["data"] == "cloud"),
        "mesh_vertices": sum(lay["count"] or 0 for lay in layers if lay["data"] == "mesh"),
        "bookmarks": bookmarks,
        "camera_path": (
            {"keyframes": len(kfs), "duration_s": (max(times) - min(times)) if times else 0.0}
            if cpath
            else None
        ),
        "inputs": inputs,
    }


def _placement(transform: Any) -> dict[str, Any] | None:
    """{'position': [x, y, z], 'scale': s} of a layer's world-from-layer similarity as
    the manifest stores it, or None for the identity or a transform the project reader
    resets (it takes a finite 4×4 similarity only: `scene.rotations.decompose_similarity`,
    as `scene.project` checks it)."""
    import numpy as np

    from scene.rotations import decompose_similarity

    try:
        m = np.array(transform, dtype=np.float64)
        if m.shape != (4, 4):
            return None
        scale, r, t = decompose_similarity(m)
    except (ValueError, TypeError, OverflowError, np.linalg.LinAlgError):
        return None
    if np.allclose(m, np.eye(4), rtol=0.0, atol=1e-9):
        return None
    from scipy.spatial.transform import Rotation

    out: dict[str, Any] = {"position": [float(v) for v in t], "scale": scale}
    if np.linalg.det(r) > 0:
        rotvec = Rotation.from_matrix(r).as_rotvec()
        angle = float(np.degrees(np.linalg.norm(rotvec)))
        if angle >= 0.05:
            out["rotation_deg"] = angle
            out["rotation_axis"] = [float(v) for v in rotvec / np.linalg.norm(rotvec)]
    return out


def _print_project(info: dict[str, Any]) -> None:
    print(f"file:      {info['path']}")
    print(
        f"format:    Wander project (format {info['format_version']}, saved by Wander "
        f"{info['app_version']})"
    )
    print(f"size:      {info['file_size']:,} bytes")
    if info["up_axis"]:
        print(f"up axis:   ({', '.join(f'{float(v):.3g}' for v in info['up_axis'])})")
    if info["world"]:
        print(f"world:     {info['world']}")
    print(
        f"layers:    {len(info['layers'])} ({info['splats']:,} splats"
        + (f", {info['mesh_vertices']:,} mesh vertices" if info["mesh_vertices"] else "")
        + ")"
    )
    for lay in info["layers"]:
        n = "?" if lay["count"] is None else f"{lay['count']:,}"
        unit = {"cloud": "splats", "mesh": "vertices (mesh)"}.get(lay["data"], "items")
        hidden = "" if lay["visible"] else ", hidden"
        if lay.get("damage"):  # the count is the manifest's; the data is not there
            print(
                f"  {lay['name']} [{lay['kind']}{hidden}]: {n} {unit} in the manifest, "
                f"cannot be restored ({lay['damage']})"
            )
            continue
        where = ""
        if "position" in lay:
            x, y, z = lay["position"]
            turned = ""
            if "rotation_deg" in lay:
                ax = ", ".join(f"{round(v, 2) + 0.0:g}" for v in lay["rotation_axis"])
                turned = f", rotated {lay['rotation_deg']:.1f}° about ({ax})"
            where = f"; at ({x:+.2f}, {y:+.2f}, {z:+.2f}){turned}, scale {lay['scale']:.3g}"
        print(f"  {lay['name']} [{lay['kind']}{hidden}]: {n} {unit}; {lay['how']}{where}")
    print(f"bookmarks: {len(info['bookmarks'])}")
    for b in info["bookmarks"]:
        x, y, z = b["position"]
        print(f"  {b['name']} at ({x:+.2f}, {y:+.2f}, {z:+.2f})")
    cp = info["camera_path"]
    print(
        "camera path: "
        + (f"{cp['keyframes']} keyframes, {cp['duration_s']:.1f} s" if cp else "none")
    )
    if info["inputs"]:
        print(f"inputs:    {', '.join(info['inputs'])}")
    if info.get("problem"):
        print(f"warning: {Path(info['path']).name}: {info['problem']}", file=sys.stderr)


def _print_estimates(est: dict | None) -> None:
    """A generated world's estimates, one line each: value and where it came from."""
    from cli.cmd_world import estimate_line

    if est:
        print("world estimates (value, source):")
    for name, e in (est or {}).items():
        if isinstance(e, dict):
            print(estimate_line(name, e))


def _print_sidecar(path: str | Path, rec: dict) -> None:
    """The Wander record beside an exported .spz / .splat (`scene.export.write_frame_record`:
    up axis, units, start view, walkable area, far field), named with what it gives, when
    there is one."""
    from scene.files import sidecar_path

    side = sidecar_path(path)
    if not rec or not side.is_file():
        return
    far = rec.get("far_field") if isinstance(rec.get("far_field"), dict) else {}
    walk = rec.get("walkable") if isinstance(rec.get("walkable"), dict) else {}
    radius = walk.get("radius")
    parts = [
        "up axis" if rec.get("up_axis") is not None else "",
        "metres" if rec.get("units") == "m" else "",
        "start view" if isinstance(rec.get("start"), dict) else "",
        f"walkable area {radius:.2g} m round the start"
        if isinstance(radius, (int, float)) and not isinstance(radius, bool)
        else "",
        f"far field ({far['count']:,} splats)" if isinstance(far.get("count"), int) else "",
    ]
    given = ", ".join(p for p in parts if p)
    print(f"record:    {side.name} beside it" + (f" ({given})" if given else ""))


def run(args: argparse.Namespace) -> int:
    from cli.cmd_world import world_estimates  # a generated world's estimates and sources
    from generators.options import recorded_options  # the generator options a file recorded
    from scene.io import file_info
    from scene.project import EXTENSION

    other = _other_kinds(args.file, args.json)
    if other is not None:
        return other
    options = recorded_options(args.file)
    est = world_estimates(args.file)
    if Path(args.file).suffix.lower() == EXTENSION:
        pinfo = describe_project(args.file)
        from scene.project import TRUNCATED_NOTE, project_damage

        damage = project_damage(args.file)
        if damage:
            pinfo["damaged"] = damage
            from cli.scene_files import print_warnings

            print_warnings(damage)  # the counts below are the manifest's, not what loads
            # a cut-off archive: the layers whose data is missing or cut short are the ones
            # the loader skips (a header that disagrees with the manifest still loads)
            cut = damage[0] == TRUNCATED_NOTE
            for lay in pinfo["layers"] if cut else []:
                tag = f"layer {lay['name'][:200]!r}: "
                hit = next((d[len(tag) :] for d in damage if d.startswith(tag)), None)
                if hit is not None:
                    lay["damage"] = hit
        if options:
            pinfo["options"] = options
        if est:
            pinfo["world_estimates"] = est
        if args.json:
            print(json.dumps(pinfo))
        else:
            _print_project(pinfo)
            _print_estimates(est)
            _print_options(options)
        lost = [lay for lay in pinfo["layers"] if lay.get("damage")]
        if lost and len(lost) == len(pinfo["layers"]):
            # as opening or rendering it ends: nothing of it can be restored (a trial saw
            # exit 0 and the manifest's splat count for a cut-off project)
            print(
                f"error: {args.file}: none of its {len(lost)} layer(s) can be restored",
                file=sys.stderr,
            )
            return 2
        return 0

    from scene.io import sniff
    from scene.io.images import IMAGE_SUFFIXES

    # a panorama (or any image): what it records; a file named as an image that is none
    # is a bad image, not an unknown type
    if sniff(args.file) in ("png", "jpeg") or Path(args.file).suffix.lower() in IMAGE_SUFFIXES:
        return _image_info(args.file, options, args.json)
    from generators.options import wander_provenance

    # the far field a Wander record beside a .spz / .splat marks, as opening it does (a
    # trial: info said 8,144 far splats for the .spz of a scene whose PLY said 11,913)
    rec = wander_provenance(args.file) or {}
    far = rec.get("far_field") if isinstance(rec.get("far_field"), dict) else {}
    info = file_info(args.file, far_field=far.get("count"))
    if est:
        info["world_estimates"] = est
    if options:
        info["options"] = options
    if args.json:
        print(json.dumps(info))
        return 0
    fmt3 = lambda v: "(" + ", ".join(f"{x:.4g}" for x in v) + ")"  # noqa: E731
    print(f"file:      {info['path']}")
    print(f"format:    {info['format']} ({info['format_description']})")
    print(f"size:      {info['file_size']:,} bytes")
    _print_sidecar(args.file, rec)
    if info["kind"] == "mesh":
        print(f"vertices:  {info['vertices']:,}")
        print(f"faces:     {info['faces']:,}")
        colour = (
            "texture"
            if info["has_texture"]
            else "vertex colours"
            if info["has_vertex_colors"]
            else "none"
        )
        print(f"colour:    {colour}")
    else:
        print(f"splats:    {info['count']:,}")
        print(f"SH degree: {info['sh_degree']}")
        if "antialiased" in info or info["format"] in ("ply", "ply_compressed"):
            # the render-mode flag (Mip-Splatting's 2D filter), not reconstruct's 3D filter,
            # which is baked into the splat sizes: say which, a user read "no" as "not done"
            aa = "yes" if info.get("antialiased") else "no"
            print(f"antialiased: {aa} (render-mode flag: Mip-Splatting's 2D filter in viewers)")
        if "ksplat_compression" in info:
            print(f"ksplat compression level: {info['ksplat_compression']}")
        if "spz_axes" in info:
            # file_info reads without an axes choice: only the file's own extension flips
            axes = info["spz_axes"]
            if axes == "ply":
                how = (
                    "the PLY frame: the same axes as the scene's .ply, no flip (Niantic's "
                    "convention); a file from splat-transform or SuperSplat (RUB, y and z "
                    "flipped) needs `convert --spz-axes rub`"
                )
            elif info.get("spz_axes_from") == "record":
                how = f"{axes} as Wander wrote it (the record beside it), turned to the PLY frame"
            else:
                how = f"{axes} from the file's coordinate-system extension, turned to the PLY frame"
            print(f"spz axes:  {how}")
        if info.get("spz_extensions"):
            print(f"spz extensions: {', '.join(info['spz_extensions'])}")
    print(f"bounds:    {fmt3(info['bounds_min'])} .. {fmt3(info['bounds_max'])}")
    if "near_bounds_min" in info and info.get("near_count", 0) < info.get("count", 0):
        far = info["count"] - info["near_count"]
        marked = info.get("far_marked", 0)
        # the record's far field, and splats far beyond the scene that it does not mark (a
        # reconstruction's ground backdrop): a trial read two counts as a contradiction
        what = (
            f"{marked:,} of the far field (sky or distant background) and {far - marked:,} "
            "more far out"
            if 0 < marked < far
            else "sky or distant background"
        )
        print(
            f"  scene:   {fmt3(info['near_bounds_min'])} .. {fmt3(info['near_bounds_max'])} "
            f"(1-99 % of centres, without {far:,} far splats: {what})"
        )
    _print_estimates(est)
    _print_options(options)
    if info.get("warning"):
        print(f"warning:   {info['warning']}")
    return 0


def _other_kinds(path: str, as_json: bool) -> int | None:
    """`info` of a COLMAP model folder, a video, a reconstruction report or the `.json`
    record beside a file (`cli.info_other`); None for every other path."""
    from cli import info_other as other

    p = Path(path)
    if p.is_dir():
        if not other.is_colmap_folder(p):
            from scene.errors import SceneFormatError

            raise SceneFormatError(
                p,
                "is a folder and no COLMAP model (cameras + images .txt or .bin); info "
                "takes a splat, mesh, image, video or .wander file, or a COLMAP folder",
            )
        info, show = other.describe_colmap(p), other.print_colmap
    elif p.is_file() and other.video_container(p):
        info, show = other.describe_video(p), other.print_video
    elif p.is_file() and (data := other.read_json_record(p)) is not None:
        if data.get("generator") == "wander.reconstruct" and "registered" in data:
            info, show = other.describe_report(p, data), other.print_report
        elif other.is_evaluation(data):
            info, show = other.describe_evaluation(p, data), other.print_evaluation
        elif (owner := other.record_owner(p)) is not None:
            from scene.errors import SceneFormatError

            raise SceneFormatError(
                p, f"is the record Wander keeps beside {owner.name}: run `info {owner}`"
            )
        else:
            return None
    else:
        return None
    if as_json:
        print(json.dumps(info))
    else:
        show(info)
    return 0


def _image_info(path: str, options: dict[str, Any] | None, as_json: bool) -> int:
    """`info` of an image file: its size (from the header), whether it is an equirect
    panorama (2:1), and the options recorded in the `.json` beside it (`panorama`). The
    pixels are checked too (`checked_image_size`: a JPEG decoded at an eighth of its size,
    a PNG verified): a cut-off file is an error here as in `world` and `object`, not "a
    photo `world --photo` takes"."""
    from scene.io.images import checked_image_size

    w, h = checked_image_size(path)
    info: dict[str, Any] = {
        "path": str(path),
        "format": "image",
        "file_size": Path(path).stat().st_size,
        "width": w,
        "height": h,
        "equirect": w == 2 * h,
    }
    if options:
        info["options"] = options
    if as_json:
        print(json.dumps(info))
        return 0
    print(f"file:      {info['path']}")
    kind = (
        "an equirect panorama (2:1): `world --panorama` makes a world from it"
        if info["equirect"]
        else "a photo: `world --photo` or `panorama --photo` takes it"
    )
    print(f"format:    image, {w}x{h}, {kind}")
    print(f"size:      {info['file_size']:,} bytes")
    if not options:
        print("options:   none recorded (no .json beside it from `panorama`)")
    _print_options(options)
    return 0


def _print_options(options: dict[str, Any] | None) -> None:
    """The generator options the file recorded, one `name [--flag]: value` per line
    (untrusted: plain values only, control characters dropped)."""
    if not options:
        return
    from generators.options import option_flags

    flags = option_flags(options)
    print("generated with options (the command-line flag in brackets):")
    for k, v in options.items():
        shown = (
            (", ".join(_option_text(x) for x in v) or "none")  # an empty list said nothing
            if isinstance(v, list)
            else _option_text(v)
        )
        flag = flags.get(k) if isinstance(k, str) else None
        if flag and flag.startswith("--no-") and isinstance(v, bool):
            # "level [--no-level]: true" read backwards: say what the flag does
            print(f"  {_text(k, 40)}: {shown} ({flag} {'turns it off' if v else 'was given'})")
            continue
        print(f"  {_text(k, 40)}{f' [{flag}]' if flag else ''}: {shown}")


def _option_text(v: Any) -> str:
    if v is None or isinstance(v, bool):
        return str(v).lower() if isinstance(v, bool) else "none"
    if isinstance(v, dict) and _plain(v.get("name")):  # a project's stored input
        return _text(v["name"])
    if isinstance(v, str) and not v:
        return '""'
    return _text(v)
