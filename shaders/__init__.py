"""GLSL sources for the viewer, shipped as package data and read with importlib.resources.

`load` writes the constants the shaders share with the CPU rasterisers into each source,
right after its `#version` line, so they have one home: NEAR_CULL, ALPHA_MIN and ALPHA_MAX
from `scene.splatting`, the spherical-harmonics constants C0, C1, C2_0..4, C3_0..6 from
`scene.sh` (`shared_constants` lists them).
"""

from __future__ import annotations

from functools import cache
from importlib import resources


def shared_constants() -> dict[str, float]:
    """Name -> value of every constant `load` writes into the GLSL sources."""
    from scene import sh, splatting

    out = {
        "NEAR_CULL": splatting.NEAR_CULL,
        "ALPHA_MIN": splatting.ALPHA_MIN,
        "ALPHA_MAX": splatting.ALPHA_MAX,
        "C0": sh.C0,
        "C1": sh.C1,
    }
    out.update({f"C2_{i}": v for i, v in enumerate(sh.C2)})
    out.update({f"C3_{i}": v for i, v in enumerate(sh.C3)})
    return {k: float(v) for k, v in out.items()}


def _constants_block() -> str:
    lines = [
        "// shared with the CPU rasterisers: scene.splatting, scene.sh (written by shaders.load)"
    ]
    lines += [f"const float {k} = {v!r};" for k, v in shared_constants().items()]
    return "\n".join(lines) + "\n"


@cache
def load(name: str) -> str:
    """Text of the shader file `name` (e.g. "splat.vert") in this package, with the shared
    constants (`shared_constants`) declared after its `#version` line."""
    try:
        src = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"shader {name!r} is missing from the shaders package") from None
    head, sep, rest = src.partition("\n")
    if not head.startswith("#version"):
        raise ValueError(f"shader {name!r} must start with a #version line")
    return head + sep + _constants_block() + rest
