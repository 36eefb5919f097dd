"""GLSL sources for the viewer, shipped as package data and read with importlib.resources."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Text of the shader file `name` (e.g. "splat.vert") in this package."""
    try:
        return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"shader {name!r} is missing from the shaders package") from None
