"""Open what the headless commands take as SCENE: a .wander project or any scene file."""

from __future__ import annotations

import sys
from pathlib import Path


def load_scene(path: str | Path, progress=None):
    """A World from a .wander project (warnings to stderr) or any file scene.io reads,
    through the one scene loader, `scene.io.load_world`."""
    from scene.io import load_world

    world, warnings = load_world(path, progress=progress)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return world
