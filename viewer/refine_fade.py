"""A cross-fade from the last reduced frame to the full-quality frame that replaces it.

When the camera stops, the viewport draws a full-quality frame over the reduced moving
frame (or preview) of the same view: sharper, denser, and on a software GL hundreds of
milliseconds later. Shown at once, that change reads as a "pop". `RefineFade` keeps the
reduced frame the window showed and, once the full frame is drawn, shows the full frame
with the reduced one blended over it at a weight falling from 1 to 0 over `FADE_S`
(smoothstep), one window frame per step, so refinement is progressive: the detail arrives
over a fifth of a second, as tiles do in map viewers. Each step is a blit and one blended
full-window triangle (no splats are drawn), and any camera move ends the fade.

Use on the GL thread with the context current: `keep_previous` after each reduced frame
is drawn to the target (a blit, ~0.3 ms at 1306x824 on llvmpipe), `start` right after the
full frame (and its overlays) is drawn there, then `draw` for the first and each later
step, `forget_previous` when a full frame replaced no reduced one, `cancel` when the camera
moves, `release` before the context goes.
"""

from __future__ import annotations

from OpenGL import GL

from .gl_util import attach_framebuffer, compile_program, texture_2d

FADE_S = 0.2  # seconds from the reduced frame to the full one


class RefineFade:
    """Keeps two frames of the window's size (the reduced one shown last, the full one that
    replaces it) and draws the cross-fade between them (see the module text)."""

    def __init__(self, duration: float = FADE_S) -> None:
        self.duration = float(duration)
        self._ready = False
        self._size = (0, 0)
        self._have_previous = False  # a reduced frame of the current size is kept
        self._start: float | None = None  # when the fade began (None: no fade)

    @property
    def size(self) -> tuple[int, int]:
        """(w, h) of the kept frames."""
        return self._size

    @property
    def active(self) -> bool:
        """A fade is under way (`draw` has steps left)."""
        return self._start is not None

    def weight(self, now: float) -> float:
        """The reduced frame's weight at `now` (seconds, the clock `start` was given):
        smoothstep from 1 at the start to 0 after `duration`; 0 without a fade."""
        if self._start is None:
            return 0.0
        t = min(max((now - self._start) / max(self.duration, 1e-6), 0.0), 1.0)
        return 1.0 - t * t * (3.0 - 2.0 * t)

    def keep_previous(self, source_fbo: int, w: int, h: int) -> None:
        """Copy the w × h frame in `source_fbo` (a reduced frame as shown) as the one to fade
        from; ends any fade under way."""
        self._ensure(w, h)
        self._blit(source_fbo, self._fbo[0], w, h)
        self._have_previous = True
        self._start = None

    def forget_previous(self) -> None:
        """The kept reduced frame no longer shows the current view (the view or the scene
        changed under a full frame): the next full frame comes in without a fade."""
        self._have_previous = False
        self._start = None

    def start(self, source_fbo: int, w: int, h: int, now: float) -> bool:
        """The full frame in `source_fbo` (w × h) replaces the kept reduced frame: keep it and
        begin the fade at `now`. False (no fade) when no reduced frame of that size is kept.
        Draws nothing: the first `draw` shows the reduced frame at full weight."""
        if not self._have_previous or self._size != (w, h):
            self._have_previous = False
            return False
        self._blit(source_fbo, self._fbo[1], w, h)
        self._have_previous = False
        self._start = now
        return True

    def draw(self, target_fbo: int, now: float, full: int | None = None) -> bool:
        """One step into `target_fbo`: the full frame with the reduced one over it at
        `weight(now)`. `full`: a framebuffer holding a newer full frame of the same view (a
        sort finished, a layer changed during the fade), kept from now on; usually the
        target itself. Returns whether the fade goes on (False: the full frame alone was
        drawn, the fade is over)."""
        if self._start is None:
            return False
        w, h = self._size
        if full is not None:
            self._blit(full, self._fbo[1], w, h)
        self._blit(self._fbo[1], target_fbo, w, h)
        alpha = self.weight(now)
        if alpha <= 0.0:
            self._start = None
            return False
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target_fbo)
        GL.glViewport(0, 0, w, h)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glEnable(GL.GL_BLEND)
        GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
        GL.glUseProgram(self._prog)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._tex[0])
        GL.glUniform1i(self._loc_frame, 0)
        GL.glUniform1f(self._loc_alpha, float(alpha))
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glDisable(GL.GL_BLEND)
        return True

    def cancel(self) -> None:
        """End any fade and forget the kept frames (the camera moved)."""
        self._start = None
        self._have_previous = False

    def release(self) -> None:
        """Delete the GL objects (context current)."""
        if self._ready:
            GL.glDeleteFramebuffers(2, list(self._fbo))
            GL.glDeleteTextures(2, list(self._tex))
            GL.glDeleteVertexArrays(1, [self._vao])
            GL.glDeleteProgram(self._prog)
        self._ready = False
        self._size = (0, 0)
        self.cancel()

    # ------------------------------------------------------------------ GL
    def _ensure(self, w: int, h: int) -> None:
        if not self._ready:
            self._prog = compile_program("fade.vert", "fade.frag")
            self._loc_frame = GL.glGetUniformLocation(self._prog, "u_frame")
            self._loc_alpha = GL.glGetUniformLocation(self._prog, "u_alpha")
            self._fbo = tuple(int(f) for f in GL.glGenFramebuffers(2))
            self._tex = tuple(int(t) for t in GL.glGenTextures(2))
            self._vao = int(GL.glGenVertexArrays(1))
            self._ready = True
        if self._size != (w, h):
            for fbo, tex in zip(self._fbo, self._tex, strict=True):
                texture_2d(tex, GL.GL_RGBA8, w, h, GL.GL_UNSIGNED_BYTE, GL.GL_NEAREST)
                attach_framebuffer(fbo, tex, None)
            self._size = (w, h)
            self._have_previous = False
            self._start = None

    @staticmethod
    def _blit(src: int, dst: int, w: int, h: int) -> None:
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, src)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, dst)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
