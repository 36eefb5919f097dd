"""`python main.py render SCENE --eye x,y,z --look x,y,z --turn DEG --orbit DEG --step R,U,F
--fov DEG --size WxH --out PNG`: a headless render through the app's own GL renderer
(offscreen)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scene.errors import InputError

if TYPE_CHECKING:
    from scene.world import World

NAME = "render"
HELP = "render a splat/mesh file or .wander project to a PNG from a given viewpoint (headless)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scene", help="splat file (.ply .splat .spz ...), mesh, or .wander project")
    parser.add_argument(
        "--eye",
        metavar="X,Y,Z",
        help="camera position x,y,z (default: the scene's first bookmark, e.g. a generated "
        "world's start, else framing the scene)",
    )
    parser.add_argument(
        "--look", metavar="X,Y,Z", help="point looked at x,y,z (default: scene centre)"
    )
    parser.add_argument(
        "--fov",
        type=float,
        default=None,
        help="vertical field of view in degrees (default: the first bookmark's when it gives "
        "the view, framing a generated world's photo as it was shot; else 60)",
    )
    parser.add_argument(
        "--turn",
        type=float,
        default=0.0,
        metavar="DEG",
        help="turn the view this many degrees to the right about the vertical (left: "
        "negative), keeping its pitch: e.g. 90 or 180 from a world's start",
    )
    parser.add_argument(
        "--orbit",
        type=float,
        default=0.0,
        metavar="DEG",
        help="move the eye this many degrees round the point looked at, to the right about "
        "the vertical (left: negative), still looking at it: e.g. 180 for an object's back",
    )
    parser.add_argument(
        "--step",
        metavar="RIGHT,UP,FORWARD",
        help="move the eye this many metres to the right, up and forward of the (turned) "
        "view, level, looking the same way: e.g. 2,0,0 for 2 m to the side",
    )
    parser.add_argument(
        "--size", default="1280x720", metavar="WxH", help="image size WxH in pixels (1280x720)"
    )
    parser.add_argument("--out", required=True, help="output PNG path")
    parser.add_argument(
        "--max-splats",
        type=int,
        default=None,
        help="draw at most N of the splats in view, thinned evenly and enlarged (fast previews)",
    )
    parser.add_argument(
        "--background",
        default="0,0,0",
        metavar="R,G,B",
        help="background colour r,g,b in 0..1 (0,0,0)",
    )


def parse_vec3(text: str, what: str, names: str = "x,y,z") -> np.ndarray:
    """'x,y,z' -> (3,) float64, or InputError naming the option and its three `names`."""
    parts = text.replace(" ", "").split(",")
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != 3 or not np.all(np.isfinite(vals)):
        raise InputError(f"{what} must be three numbers {names}; got {text!r}")
    return np.array(vals)


def parse_size(text: str) -> tuple[int, int]:
    """'WxH' -> (w, h) with 1..16384 each."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size must look like 1280x720; got {text!r}") from None
    if not (0 < w <= 16384 and 0 < h <= 16384):
        raise InputError(f"--size must be 1..16384 pixels a side; got {text!r}")
    return w, h


def default_view(world) -> tuple[np.ndarray, np.ndarray]:
    """(eye, look): inside an environment (`scene.framing.enclosing_view`: a world file
    without its sidecar rendered as a ring of wall panels seen from outside), else the
    robust centre of the scene seen from +Z, far enough to frame it (2-98 % of the biggest
    cloud's near field: `GaussianCloud.near_field_mask` leaves out a reconstruction's sky
    sphere, which framed a file without its sidecar as a blue ball)."""
    from scene.framing import enclosing_view
    from scene.gaussians import GaussianCloud

    lo, hi = world.bounds()
    clouds = [
        lay
        for lay in world.visible_layers()
        if isinstance(lay.data, GaussianCloud) and len(lay.data)
    ]
    if clouds:  # ignore floaters and a sky sphere: quantile box of the biggest cloud's
        big = max(clouds, key=lambda lay: len(lay.data))  # near field
        near = big.data.means[big.data.near_field_mask()]
        t = np.asarray(big.transform, np.float64)
        inside = enclosing_view(near @ t[:3, :3].T + t[:3, 3], np.asarray(world.up_axis))
        if inside is not None:
            return inside
        qlo, qhi = np.quantile(near, 0.02, axis=0), np.quantile(near, 0.98, axis=0)
        pts = (
            np.array(
                [
                    [x, y, z, 1.0]
                    for x in (qlo[0], qhi[0])
                    for y in (qlo[1], qhi[1])
                    for z in (qlo[2], qhi[2])
                ]
            )
            @ big.transform.T
        )
        lo, hi = pts[:, :3].min(0), pts[:, :3].max(0)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-3)
    return centre + np.array([0.0, 0.25 * radius, 2.2 * radius]), centre


def eye_notes(world: World, eye: np.ndarray) -> list[str]:
    """What a user should know about an --eye in a generated world (its walkable area in
    `meta['walkable']`, +Y up): under its floor, or outside the area where its geometry
    holds up (a trial rendered from under the office floor without a word)."""
    from scene.world import walkable_disc

    disc = walkable_disc(world.meta)
    if disc is None or not np.allclose(np.asarray(world.up_axis, float), [0.0, 1.0, 0.0]):
        return []
    centre, radius = disc
    e = np.asarray(eye, np.float64)
    notes = []
    if e[1] < centre[1]:
        notes.append(
            f"the eye is {centre[1] - e[1]:.2f} m below the world's floor (y = {centre[1]:.2f}):"
            " the view is from under the ground"
        )
    off = float(np.hypot(e[0] - centre[0], e[2] - centre[2]))
    if off > radius:
        notes.append(
            f"the eye is {off:.2f} m from the walkable area's centre, outside its "
            f"{radius:.2f} m radius: from there the world's invented parts show"
        )
    return notes


def bookmark_view(bm) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - scene.world.Bookmark
    """(eye, look) of a saved viewpoint (a generated world's Start: inside it, where the
    photo was taken), looking 1 m along its yaw/pitch."""
    from scene.camera import forward_from_yaw_pitch

    eye = np.asarray(bm.position, np.float64)
    return eye, eye + np.asarray(forward_from_yaw_pitch(bm.yaw, bm.pitch), np.float64)


def orbited_view(eye: np.ndarray, look: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(eye, look): `eye` (3,) moved `deg` degrees round `look` (3,) about +Y (the world's
    up), to the viewer's right for a positive angle (the view swings left to keep `look`
    in the middle), at the same height and distance; `look` unchanged. `--turn 180` from
    an object's framing turned the camera away to an empty picture, with no simple way
    to see the object's back (a trial)."""
    look = np.asarray(look, np.float64)
    # +Y by a turns +X towards -Z: the eye moves to the right of a view along -Z
    return look + _about_up(np.asarray(eye, np.float64) - look, math.radians(deg)), look


def _about_up(v: np.ndarray, a: float) -> np.ndarray:
    """(3,) `v` rotated by `a` radians about +Y (right-handed: +X turns towards -Z)."""
    c, s = math.cos(a), math.sin(a)
    return np.array([c * v[0] + s * v[2], v[1], -s * v[0] + c * v[2]])


def turned_view(
    eye: np.ndarray, look: np.ndarray, turn_deg: float = 0.0, step: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(eye, look) (3,) each, the view from `eye` towards `look` turned `turn_deg` degrees
    to the right about +Y (the world's up) and then moved by `step` (3,) = (right, up,
    forward) metres in its own level frame (forward: the view's direction on the ground
    plane; right: forward × up), looking the same way. A view straight up or down has no
    level direction: its step's right and forward follow the world's X and -Z."""
    eye = np.asarray(eye, np.float64)
    d = np.asarray(look, np.float64) - eye
    d = _about_up(d, -math.radians(turn_deg))  # +Y turns -Z towards -X: right is negative
    if step is not None:
        fwd = np.array([d[0], 0.0, d[2]])
        n = float(np.linalg.norm(fwd))
        fwd = fwd / n if n > 1e-9 else np.array([0.0, 0.0, -1.0])
        right = np.array([-fwd[2], 0.0, fwd[0]])  # fwd × (0, 1, 0)
        st = np.asarray(step, np.float64)
        eye = eye + st[0] * right + st[1] * np.array([0.0, 1.0, 0.0]) + st[2] * fwd
    return eye, eye + d


def write_png(img: np.ndarray, out: Path) -> None:
    """Write (H, W, 3) uint8 atomically (temp file in the same folder, then rename)."""
    from PIL import Image

    from scene.files import atomic_write

    with atomic_write(out) as f:
        Image.fromarray(img, "RGB").save(f, format="PNG")


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: checked so --out never overwrites SCENE."""
    return [("SCENE", args.scene)], [("--out", args.out)]


def run(args: argparse.Namespace) -> int:
    from scene.camera import Camera

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise InputError(f"--out must be a .png file; got {args.out!r}")
    w, h = parse_size(args.size)
    if args.fov is not None and not (0.1 <= args.fov < 179.0):
        raise InputError(f"--fov must be between 0.1 and 179 degrees; got {args.fov}")
    for opt, v in (("--turn", args.turn), ("--orbit", args.orbit)):
        if not math.isfinite(v):
            raise InputError(f"{opt} must be a number of degrees; got {v}")
    step = None if args.step is None else parse_vec3(args.step, "--step", "RIGHT,UP,FORWARD")
    if args.max_splats is not None and args.max_splats < 0:
        raise InputError("--max-splats must be >= 0")
    from cli.checks import parse_rgb

    bg = np.array(parse_rgb(args.background))  # 0..1, as video checks it (2,2,2 passed)
    t0 = time.perf_counter()
    from cli.scene_files import load_scene, require_content

    world = load_scene(args.scene)
    require_content(world, args.scene, "render")
    t_load = time.perf_counter() - t0
    eye0, look0 = (None, None)
    fov = 60.0 if args.fov is None else args.fov
    if args.eye is None and args.look is None and world.bookmarks:
        eye0, look0 = bookmark_view(world.bookmarks[0])
        if args.fov is None:
            fov = world.bookmarks[0].view_fov_y(w / h)
    elif args.eye is None or args.look is None:
        eye0, look0 = default_view(world)
    eye = parse_vec3(args.eye, "--eye") if args.eye else eye0
    look = parse_vec3(args.look, "--look") if args.look else look0
    if args.orbit:
        eye, look = orbited_view(eye, look, args.orbit)
    if args.turn or step is not None:
        eye, look = turned_view(eye, look, args.turn, step)
    cam = Camera.look_at(eye, look, fov, w, h)  # raises ValueError when eye == look
    if args.eye or step is not None or args.orbit:
        for note in eye_notes(world, eye):
            print(f"note: {note}", file=sys.stderr)

    from viewer.gl_context import GLContextError
    from viewer.offscreen import render_image

    t1 = time.perf_counter()
    try:
        img = render_image(
            world, cam, max_splats=args.max_splats, background=tuple(np.clip(bg, 0, 1))
        )
    except GLContextError as exc:
        print(f"error: no OpenGL 3.3 available for rendering: {exc}", file=sys.stderr)
        return 2
    t_render = time.perf_counter() - t1
    write_png(img, out)
    print(f"wrote {out} ({w}x{h}; load {t_load:.2f}s, render {t_render:.2f}s)")
    if _only_background(img, bg):  # a turn away from an object: an empty picture, said
        print(
            "note: nothing of the scene is in view from this camera (the image is the "
            "background only); `info` gives the scene's bounds"
            + (" (--orbit 180 looks at an object's back)" if args.turn else ""),
            file=sys.stderr,
        )
    return 0


def _only_background(img: np.ndarray, bg: np.ndarray) -> bool:
    """img (h, w, 3|4) uint8 holds the background colour `bg` (3,) 0..1 alone, to a
    level of rounding."""
    ref = np.round(np.clip(bg, 0, 1) * 255.0)
    return bool(np.abs(img[..., :3].astype(np.float32) - ref).max() <= 1.0)
