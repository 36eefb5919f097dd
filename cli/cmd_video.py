"""`python main.py video SCENE_OR_PROJECT --path PATH.json --size 1280x720 --fps 30 --out V.mp4`

Renders a camera path (JSON keyframes, or the scene's bookmarks) offscreen through the
app's GL renderer and encodes an H.264 MP4.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cli.checks import parse_rgb
from scene.errors import InputError

NAME = "video"
HELP = "render a fly-through MP4 along a camera path (JSON keyframes or the bookmarks)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scene", help=".wander project or splat/mesh file")
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--path",
        help='camera path JSON: {"keyframes": [{"time": s, "position": [x, y, z], '
        '"look_at": [x, y, z] or "yaw_deg"/"pitch_deg" (or "yaw"/"pitch" in '
        'radians; yaw 0 looks along -Z, + turns left, + pitch looks up), "fov_y_deg" '
        '(or "fov"): vertical, deg}, ...]}, at least two keyframes',
    )
    src.add_argument(
        "--from-bookmarks",
        action="store_true",
        help="fly through the scene's bookmarks in order (default when the "
        "project saved no camera path)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="without --path: seconds from one bookmark to the next (3); from a single "
        "bookmark the length of the whole path, the sway round a photo's world or a "
        "panorama's full turn (12); of the turn round a scene without bookmarks (12)",
    )
    parser.add_argument(
        "--size",
        default="1280x720",
        metavar="WxH",
        help="frame size WxH, even numbers (1280x720; 640x360 with --fps 15 for a quick preview)",
    )
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (30)")
    parser.add_argument("--crf", type=int, default=18, help="H.264 quality, lower is better (18)")
    parser.add_argument(
        "--preset",
        default="medium",
        choices=["ultrafast", "veryfast", "faster", "fast", "medium", "slow", "slower"],
        help="x264 speed/size trade-off (medium)",
    )
    parser.add_argument(
        "--max-splats",
        type=int,
        help="draw at most N of the splats in view, thinned evenly and enlarged (fast previews)",
    )
    parser.add_argument(
        "--background",
        default="0,0,0",
        metavar="R,G,B",
        help="background colour r,g,b in 0..1 (0,0,0)",
    )
    parser.add_argument("--out", required=True, help="output .mp4")


def make_render_fn(
    world: Any, background=(0.0, 0.0, 0.0), max_splats: int | None = None
) -> Callable[[Any, Any], np.ndarray]:
    """A render function for `world` that uploads it once and reuses the GL objects.

    Falls back to `viewer.offscreen.render_image` (re-uploads per frame) when the
    renderer's internals are not available. `fn.release()` frees the GL objects.
    """
    # The GL context must exist before the renderer imports PyOpenGL (EGL needs it first).
    from viewer.gl_context import offscreen_context
    from viewer.offscreen import render_image

    offscreen_context()

    def slow(scene_obj: Any, cam: Any) -> np.ndarray:
        return render_image(scene_obj, cam, max_splats=max_splats, background=background)

    try:
        from viewer.offscreen import Framebuffer, FramebufferError, to_uint8
        from viewer.renderer import SplatRenderer
    except ImportError:
        slow.release = lambda: None  # type: ignore[attr-defined]
        return slow
    state: dict[str, Any] = {}

    def fast(scene_obj: Any, cam: Any) -> np.ndarray:
        if scene_obj is not world:
            return slow(scene_obj, cam)
        ctx = offscreen_context()
        ctx.make_current()
        from OpenGL import GL

        size = (int(cam.width), int(cam.height))
        if state.get("tiled"):
            return slow(scene_obj, cam)
        if state.get("size") != size:
            if "fb" in state:
                state["fb"].release()
                del state["fb"]
            try:
                state["fb"], state["size"] = Framebuffer(*size), size
            except FramebufferError:  # too big for one framebuffer here: tiles, per frame
                state["tiled"] = True
                return slow(scene_obj, cam)
        if "renderer" not in state:
            state["renderer"] = SplatRenderer(sync_sort=True)
            state["renderer"].set_world(world)
        state["fb"].bind()
        state["renderer"].draw(cam, size, max_splats=max_splats, background=background)
        GL.glFinish()
        return to_uint8(state["fb"].read_float())

    def release() -> None:
        if state:
            offscreen_context().make_current()
            if "renderer" in state:
                state["renderer"].release()
            if "fb" in state:
                state["fb"].release()
            state.clear()

    fast.release = release  # type: ignore[attr-defined]
    return fast


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _on_sigterm_interrupt() -> Any:
    """Make a polite kill (SIGTERM) clean up like Ctrl+C; returns the old handler."""
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread
        return None


def io_paths(args: argparse.Namespace) -> tuple[list, list]:
    """(inputs, outputs) as (option, path) pairs: checked so --out overwrites no input."""
    return [("SCENE", args.scene), ("--path", args.path)], [("--out", args.out)]


def run(args: argparse.Namespace) -> int:
    from cli.progress import TerminalProgress
    from cli.scene_files import load_scene, require_content
    from generators.video import parse_size, render_video
    from scene.campath import CameraPath

    if Path(args.out).suffix.lower() != ".mp4":
        raise InputError(f"--out must be an .mp4 file; got {args.out!r}")
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        raise InputError(f"--size: {exc}") from None
    if not 0 < args.fps <= 240:  # before any work is announced (as render_video checks)
        raise InputError(f"--fps must be in (0, 240]; got {args.fps:g}")
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        raise InputError(f"--seconds must be a positive number; got {args.seconds:g}")
    if not 0 <= args.crf <= 51:  # (generators.video's check, before the scene is read)
        raise InputError(f"--crf must be 0..51 (lower is better quality); got {args.crf}")
    bg = parse_rgb(args.background)
    world = load_scene(args.scene)
    require_content(world, args.scene, "render")
    saved = world.meta.get("camera_path") if isinstance(world.meta, dict) else None
    if args.from_bookmarks and not world.bookmarks:
        raise InputError(f"--from-bookmarks: {args.scene} has no bookmarks")
    if args.path:
        path = CameraPath.load(args.path, default_up=world.up_axis)
    elif saved and not args.from_bookmarks:
        path = CameraPath.from_dict(saved, args.scene, default_up=world.up_axis)
    elif world.bookmarks:  # through them; one: a sway (a photo's world) or a look-around
        from scene.campath import bookmark_path

        one = len(world.bookmarks) == 1
        path, how = bookmark_path(
            world,
            seconds=args.seconds if args.seconds is not None and not one else 3.0,
            aspect=size[0] / size[1],  # each bookmark's view fills the frame, as in `render`
            loop_seconds=args.seconds if one else None,
        )
        why = "--from-bookmarks" if args.from_bookmarks else "no camera path given or saved"
        if one:
            print(
                f"{why}: rendering {how}, {path.duration:g} s "
                f"(--seconds for another length; --path PATH.json for your own)",
                file=sys.stderr,
            )
        else:
            print(
                f"{why}: flying {how} in order (--path PATH.json for your own)",
                file=sys.stderr,
            )
    else:  # nothing saved (an object, another tool's file): a turntable around it
        from cli.cmd_render import default_view

        eye, target = default_view(world)
        turn = 12.0 if args.seconds is None else args.seconds
        path = CameraPath.orbit(eye, target, 50.0, seconds=turn, up=world.up_axis)
        print(
            "no camera path given or saved: rendering a turn around the scene "
            "(--path PATH.json for your own)",
            file=sys.stderr,
        )
    if path.duration <= 0:
        raise InputError(
            "the camera path is a single moment (one keyframe, or all at one time): a video "
            "needs at least two keyframes at different times (`render` makes a still)"
        )
    try:
        render = make_render_fn(world, bg, args.max_splats)
    except RuntimeError as exc:  # GLContextError: no display / no EGL
        print(f"error: cannot render offscreen: {exc}", file=sys.stderr)
        return 3
    bar = TerminalProgress("video ")
    old = _on_sigterm_interrupt()
    try:
        res = render_video(
            world,
            path,
            args.out,
            render,
            size=size,
            fps=args.fps,
            crf=args.crf,
            preset=args.preset,
            progress=bar,
        )
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
        bar.done()
        render.release()  # type: ignore[attr-defined]
    print(
        f"wrote {res.path}: {res.frames} frames {res.width}x{res.height} @ {res.fps:g} fps; "
        f"{res.ms_per_frame:.1f} ms/frame ({res.render_ms_per_frame:.1f} ms rendering), "
        f"{res.seconds:.1f} s total"
    )
    return 0
