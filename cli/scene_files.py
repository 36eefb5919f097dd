"""Open what the headless commands take as SCENE: a .wander project or any scene file."""

from __future__ import annotations

import sys
from pathlib import Path


def load_scene(path: str | Path):
    """A World from a .wander project (warnings to stderr) or any file scene.io reads."""
    from scene.world import Layer, World

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.suffix.lower() == ".wander":
        from scene.project import load_project

        world, warnings = load_project(p)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        return world
    from scene import io as sio
    from scene.mesh import Mesh

    obj = sio.load(p)
    world = World()
    world.add_layer(Layer(p.stem, obj, "mesh" if isinstance(obj, Mesh) else "world",
                          source={"path": str(p)}))
    return world
