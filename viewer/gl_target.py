"""An offscreen OpenGL framebuffer a raster widget draws into and reads back.

On a software OpenGL (Mesa's llvmpipe: no GPU) a QOpenGLWidget costs most of a moving
frame's time after the frame is drawn: Qt composites the widget's texture and the window's
other widgets into the window as a textured quad each, on the CPU (bench/window.py: 15 ms
a frame at 1280x800, where painting the same image into a plain widget takes 1.7-2 ms).
`GLTarget` gives a plain QWidget the same drawing model instead: a context current on an
offscreen surface, a framebuffer with colour and depth/stencil the widget's size, and the
drawn frame read back (a memory copy on llvmpipe) as an image to paint.

`GLTarget.software` says whether the context is a software rasteriser; `viewport.make_viewport`
uses the raster widget only then (on a GPU the read-back would stall the pipeline and
Qt's composition costs little).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

#: GL_RENDERER substrings of software rasterisers (as renderer.SplatRenderer's CPU frames)
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


class GLTargetError(RuntimeError):
    """The offscreen context or its framebuffer could not be made."""


class GLTarget:
    """A QOpenGLContext on a QOffscreenSurface (the application's default surface format,
    sharing with Qt's global share context) and a framebuffer of a given size: an RGBA8
    colour renderbuffer and a depth24/stencil8 one. GUI thread only.

    Raises GLTargetError when the context cannot be created or made current."""

    def __init__(self) -> None:
        from PyQt6.QtGui import QOffscreenSurface, QOpenGLContext, QSurfaceFormat

        fmt = QSurfaceFormat.defaultFormat()
        self._surface = QOffscreenSurface()
        self._surface.setFormat(fmt)
        self._surface.create()
        self._ctx = QOpenGLContext()
        self._ctx.setFormat(fmt)
        share = QOpenGLContext.globalShareContext()
        if share is not None:
            self._ctx.setShareContext(share)
        if not self._ctx.create():
            raise GLTargetError("Qt could not create an OpenGL context for the viewport")
        self.fbo = 0
        self._rbs: tuple[int, int] = (0, 0)
        self.size = (0, 0)
        self.make_current()
        from OpenGL import GL

        self.renderer_name = (GL.glGetString(GL.GL_RENDERER) or b"").decode(errors="replace")
        self.done_current()

    @property
    def software(self) -> bool:
        """Whether the context draws on the CPU (llvmpipe, softpipe, swrast)."""
        name = self.renderer_name.lower()
        return any(s in name for s in SOFTWARE_RENDERERS)

    def context(self):  # noqa: ANN201 - QOpenGLContext
        return self._ctx

    def make_current(self) -> None:
        """Make the context current (on the offscreen surface); the framebuffer, once made,
        is bound as both targets. Raises GLTargetError when that fails."""
        if not self._ctx.makeCurrent(self._surface):
            raise GLTargetError("could not make the viewport's OpenGL context current")
        if self.fbo:
            from OpenGL import GL

            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)

    def done_current(self) -> None:
        self._ctx.doneCurrent()

    def ensure_size(self, w: int, h: int) -> None:
        """(Re)make the framebuffer at w x h pixels (context current; it stays bound).
        Raises GLTargetError when it is incomplete (a size the driver refuses)."""
        from OpenGL import GL

        if self.fbo and self.size == (w, h):
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
            return
        self._free()
        fbo = int(GL.glGenFramebuffers(1))
        colour, depth = (int(r) for r in GL.glGenRenderbuffers(2))
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, colour)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_RGBA8, w, h)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH24_STENCIL8, w, h)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, colour
        )
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_STENCIL_ATTACHMENT, GL.GL_RENDERBUFFER, depth
        )
        self.fbo, self._rbs, self.size = fbo, (colour, depth), (w, h)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self._free()
            raise GLTargetError(f"the viewport's {w}x{h} framebuffer is incomplete ({status})")
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT | GL.GL_STENCIL_BUFFER_BIT)

    def read(self) -> np.ndarray:
        """The framebuffer's pixels (h, w, 4) uint8 RGBA, top row first (context current)."""
        from .gl_util import read_rgba8

        return read_rgba8(self.fbo, *self.size)[::-1]

    def _free(self) -> None:
        from OpenGL import GL

        if self.fbo:
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
            GL.glDeleteFramebuffers(1, [self.fbo])
            GL.glDeleteRenderbuffers(2, list(self._rbs))
        self.fbo, self._rbs, self.size = 0, (0, 0), (0, 0)

    def release(self) -> None:
        """Free the framebuffer (makes the context current)."""
        try:
            self.make_current()
            self._free()
            self.done_current()
        except GLTargetError:
            log.warning("could not free the viewport's framebuffer", exc_info=True)
