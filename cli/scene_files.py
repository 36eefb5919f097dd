"""Open what the headless commands take as SCENE: a .wander project or any scene file."""

from __future__ import annotations

import sys
from pathlib import Path

#: warnings printed for one file at most; the rest are counted (and logged in full)
MAX_WARNINGS = 20


def print_warnings(lines: list, limit: int = MAX_WARNINGS) -> None:
    """`warning: …` lines on stderr, at most `limit` of them and then how many more (a
    crafted project of 5000 broken layers printed 4252 lines); all go to the log file."""
    import logging

    log = logging.getLogger("cli")
    for i, w in enumerate(lines):
        log.warning("%s", w)
        if i < limit:
            print(f"warning: {w}", file=sys.stderr)
    if len(lines) > limit:
        print(
            f"warning: … and {len(lines) - limit} more like these (all in the log file)",
            file=sys.stderr,
        )


def load_scene(path: str | Path, progress=None):
    """A World from a .wander project (warnings to stderr) or any file scene.io reads,
    through the one scene loader, `scene.io.load_world`; a file also gets what it says
    about itself (`viewer.up_axis.adopt_file_context`), as in the app."""
    from scene.io import load_world

    world, warnings = load_world(path, progress=progress)
    print_warnings(warnings)
    if Path(path).suffix.lower() != ".wander":
        from viewer.up_axis import adopt_file_context

        for lay in world.layers:
            print_read_warning(lay.data, path)
        # as the app opens it: a world file starts where its photo was taken, a
        # reconstruction's photo cameras beside it become its bookmarks
        adopt_file_context(world, path)
    return world


def require_content(world, path: str | Path, what: str) -> None:
    """Raise InputError when `world` shows nothing: no visible layer holds splats or a
    mesh (a damaged project whose every layer was skipped on load, or an empty one), so a
    render or video is never an all-black file that looks like success."""
    from scene.errors import InputError
    from scene.mesh import Mesh

    def shows(data) -> bool:
        return data.n_faces > 0 if isinstance(data, Mesh) else len(data) > 0

    if any(shows(lay.data) for lay in world.visible_layers()):
        return
    raise InputError(
        f"nothing to {what}: {path} has no visible layer that could be read "
        "(a damaged layer is skipped with a warning)"
    )


def print_read_warning(obj, path: str | Path) -> None:
    """Say on stderr what the reader changed in a scene file (`meta['warning']`: rows with
    NaN or infinite values dropped, values clamped, textures left out), so a command that
    goes on with the rest does not pass it over in silence."""
    meta = getattr(obj, "meta", None)
    text = meta.get("warning") if isinstance(meta, dict) else None
    if text:
        print(f"warning: {Path(path).name}: {text}", file=sys.stderr)
