"""Small PyOpenGL helpers shared by the splat and mesh renderers (draw-time only)."""

from __future__ import annotations

import numpy as np
from OpenGL import GL

import shaders


class ShaderError(RuntimeError):
    """A GLSL program failed to compile or link (the driver's log is in the message)."""


def compile_program(
    vert_name: str,
    frag_name: str,
    defines: dict[str, int] | None = None,
    geom_name: str | None = None,
) -> int:
    """Compile and link shaders/<vert_name> + shaders/<frag_name> (+ an optional geometry
    shader); returns the program id."""
    sources = []
    stages = [(vert_name, GL.GL_VERTEX_SHADER), (frag_name, GL.GL_FRAGMENT_SHADER)]
    if geom_name:
        stages.append((geom_name, GL.GL_GEOMETRY_SHADER))
    for name, kind in stages:
        src = shaders.load(name)
        for key, value in (defines or {}).items():
            src = _set_define(src, key, value)
        sh = GL.glCreateShader(kind)
        GL.glShaderSource(sh, src)
        GL.glCompileShader(sh)
        if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
            log = GL.glGetShaderInfoLog(sh)
            raise ShaderError(
                f"{name}: {log.decode(errors='replace') if isinstance(log, bytes) else log}"
            )
        sources.append(sh)
    prog = GL.glCreateProgram()
    for sh in sources:
        GL.glAttachShader(prog, sh)
    GL.glLinkProgram(prog)
    for sh in sources:
        GL.glDeleteShader(sh)
    if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
        log = GL.glGetProgramInfoLog(prog)
        raise ShaderError(f"link {vert_name}+{frag_name}: {log!r}")
    return int(prog)


def _set_define(src: str, key: str, value: int) -> str:
    lines = src.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"#define {key} "):
            lines[i] = f"#define {key} {value}"
            return "\n".join(lines) + "\n"
    return src  # this stage does not use the define


def uniform_locations(prog: int, names: list[str]) -> dict[str, int]:
    return {n: GL.glGetUniformLocation(prog, n) for n in names}


def mat4_gl(m: np.ndarray) -> np.ndarray:
    """Row-major numpy 4×4 -> column-major float32 for glUniformMatrix4fv(transpose=False)."""
    return np.ascontiguousarray(np.asarray(m, np.float32).T)


def texture_2d(tex: int, internal: int, w: int, h: int, kind: int, filt: int) -> None:
    """(Re)allocate texture `tex` as w × h of `internal` format (RGBA source data of `kind`,
    none uploaded), filtered with `filt`, clamped to its edges."""
    GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal, w, h, 0, GL.GL_RGBA, kind, None)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, filt)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, filt)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)


def attach_framebuffer(fbo: int, tex: int, depth_rb: int | None, second: int | None = None) -> None:
    """Attach `tex` (and `second` as colour attachment 1, `depth_rb` as depth) to `fbo`,
    left bound. Raises RuntimeError when the framebuffer is incomplete."""
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
    GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D, tex, 0)
    if second is not None:
        GL.glFramebufferTexture2D(
            GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT1, GL.GL_TEXTURE_2D, second, 0
        )
    if depth_rb is not None:
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, depth_rb
        )
    status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
    if status != GL.GL_FRAMEBUFFER_COMPLETE:
        raise RuntimeError(f"framebuffer incomplete (status 0x{int(status):x})")


def read_rgba8(fbo: int, w: int, h: int) -> np.ndarray:
    """Colour attachment 0 of framebuffer `fbo`, its w × h pixels from the origin, as
    (h, w, 4) uint8 RGBA, bottom row first (GL's order; read-only). The read framebuffer
    binding is restored."""
    prev = int(GL.glGetIntegerv(GL.GL_READ_FRAMEBUFFER_BINDING))
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo)
    GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
    raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, prev)
    return np.frombuffer(raw, np.uint8).reshape(h, w, 4)
