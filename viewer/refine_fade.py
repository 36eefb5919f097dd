"""A cross-fade from the last reduced frame to the frames that refine it at rest.

When the camera stops, the viewport draws a full-quality frame over the reduced moving
frame of the same view: sharper, denser, and on a software GL hundreds of milliseconds
later; a slow scene shows a quick preview (a better reduced frame) first. Shown at once,
each change reads as a "pop". `RefineFade` keeps the moving frame the window showed last
and fades each frame drawn at rest in over what the window showed before it: the moving
frame blended over the new frame at a weight falling from 1 to 0 over `FADE_S`
(smoothstep), one window frame per step, so refinement is progressive: moving frame ->
preview -> full frame, as tiles sharpen in map viewers. A frame that arrives during a fade
fades in over the blend shown at that moment. Each step is a blit and one blended
full-window triangle (no splats are drawn), and any camera move ends the fade.

Use on the GL thread with the context current: `keep_previous` after each moving frame is
drawn to the target (a blit, ~0.3 ms at 1306x824 on llvmpipe), `fade_to` right after a
frame at rest (and its overlays) is drawn there, then `draw` for the first and each later
step, `cancel` after a frame no fade leads to or when the camera moves,
`release` before the context goes.
"""

from __future__ import annotations

from OpenGL import GL

from .gl_util import attach_framebuffer, compile_program, texture_2d

FADE_S = 0.2  # seconds from the reduced frame to the full one


class RefineFade:
    """Keeps two frames of the window's size (the one faded from, the one fading in) and
    draws the cross-fade between them (see the module text)."""

    def __init__(self, duration: float = FADE_S) -> None:
        self.duration = float(duration)
        self._ready = False
        self._size = (0, 0)
        self._have_previous = False  # fbo 0 holds the moving frame shown last
        self._chain = False  # fbo 1 holds a preview shown at rest: the next frame fades from it
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
        """The weight of the frame faded from at `now` (seconds, the clock `fade_to` was
        given): smoothstep from 1 at the start to 0 after `duration`; 0 without a fade."""
        if self._start is None:
            return 0.0
        t = min(max((now - self._start) / max(self.duration, 1e-6), 0.0), 1.0)
        return 1.0 - t * t * (3.0 - 2.0 * t)

    def keep_previous(self, source_fbo: int, w: int, h: int) -> None:
        """Copy the w × h frame in `source_fbo` (a moving frame as shown) as the one the next
        frame at rest fades from; ends any fade under way."""
        self._ensure(w, h)
        self._blit(source_fbo, self._fbo[0], w, h)
        self._have_previous = True
        self._chain = False
        self._start = None

    def cancel(self) -> None:
        """End any fade and forget the kept frames: the window shows no frame a later one
        should fade from (the camera moved, a full frame followed no moving frame, or the
        view or the scene changed), so no fade comes next."""
        self._have_previous = False
        self._chain = False
        self._start = None

    def fade_to(self, source_fbo: int, w: int, h: int, now: float, chain: bool = False) -> bool:
        """The frame in `source_fbo` (w × h), drawn at rest, replaces what the window shows:
        keep it and (re)start the fade at `now`, from the kept moving frame, from the blend a
        fade under way shows at `now`, or (after a `chain`ed frame) from that frame. `chain`:
        this frame is itself a step on the way (a preview): the next frame fades from it.
        False (no fade, nothing kept) when there is nothing to fade from at this size.
        Draws nothing: the first `draw` shows the frame faded from at full weight."""
        if self._size != (w, h) or not (self._have_previous or self._chain or self.active):
            self.cancel()
            return False
        if self._start is not None:  # fold the blend shown now into the frame faded from
            self._blend(self._fbo[0], self._tex[1], 1.0 - self.weight(now))
        elif not self._have_previous:  # the preview shown last
            self._blit(self._fbo[1], self._fbo[0], w, h)
        self._blit(source_fbo, self._fbo[1], w, h)
        self._have_previous = False
        self._chain = bool(chain)
        self._start = now
        return True

    def draw(self, target_fbo: int, now: float) -> bool:
        """One step into `target_fbo`: the new frame with the one faded from over it at
        `weight(now)`. Returns whether the fade goes on (False: the new frame alone was
        drawn, the fade is over)."""
        if self._start is None:
            return False
        w, h = self._size
        self._blit(self._fbo[1], target_fbo, w, h)
        alpha = self.weight(now)
        if alpha <= 0.0:
            self._start = None
            return False
        self._blend(target_fbo, self._tex[0], alpha)
        return True

    def _blend(self, target_fbo: int, tex: int, alpha: float) -> None:
        """Draw texture `tex` over `target_fbo` (the kept frames' size) at `alpha`."""
        w, h = self._size
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target_fbo)
        GL.glViewport(0, 0, w, h)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glEnable(GL.GL_BLEND)
        # the frame's alpha stays 1 (see reproject.FrameReprojector.draw)
        GL.glBlendFuncSeparate(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA, GL.GL_ZERO, GL.GL_ONE)
        GL.glUseProgram(self._prog)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
        GL.glUniform1i(self._loc_frame, 0)
        GL.glUniform1f(self._loc_alpha, float(alpha))
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glDisable(GL.GL_BLEND)

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
            self.cancel()

    @staticmethod
    def _blit(src: int, dst: int, w: int, h: int) -> None:
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, src)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, dst)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, dst)
