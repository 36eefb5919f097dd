"""Headless renders: `render_image(world_or_cloud, camera)` -> (H, W, 3) uint8.

Uses the process-wide offscreen context (viewer/gl_context.py) and a float framebuffer
object, so colours add up without 8-bit clamping between splats (as the reference
rasterizer) and any resolution up to the GPU's limit works.
"""

from __future__ import annotations

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import Layer, World

from .gl_context import offscreen_context

# PyOpenGL is imported only after the context exists: the EGL backend must set
# PYOPENGL_PLATFORM before OpenGL's first import.


class Framebuffer:
    """A colour (RGBA32F by default, exact blending) + 24-bit depth framebuffer object."""

    def __init__(self, width: int, height: int, color_format: int | None = None) -> None:
        from OpenGL import GL

        limit = int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        if not (0 < width <= limit and 0 < height <= limit):
            raise ValueError(f"render size {width}x{height} is outside 1..{limit} pixels")
        self.width, self.height = width, height
        self.fbo = GL.glGenFramebuffers(1)
        self.color, self.depth = GL.glGenRenderbuffers(2)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.color)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, color_format or GL.GL_RGBA32F, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self.color)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, self.depth)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.release()
            raise RuntimeError(f"offscreen framebuffer incomplete (status 0x{int(status):x})")

    def bind(self) -> None:
        from OpenGL import GL

        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)

    def read_float(self) -> np.ndarray:
        """The colour buffer as (H, W, 3) float32, top row first."""
        from OpenGL import GL

        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.fbo)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        raw = GL.glReadPixels(0, 0, self.width, self.height, GL.GL_RGBA, GL.GL_FLOAT)
        img = np.frombuffer(raw, np.float32).reshape(self.height, self.width, 4)
        return np.ascontiguousarray(img[::-1, :, :3])

    def release(self) -> None:
        from OpenGL import GL

        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glDeleteRenderbuffers(2, [self.color, self.depth])
        GL.glDeleteFramebuffers(1, [self.fbo])


def as_world(scene_obj: World | GaussianCloud | Mesh) -> World:
    """A World showing `scene_obj` (a World is returned as is)."""
    if isinstance(scene_obj, World):
        return scene_obj
    if isinstance(scene_obj, (GaussianCloud, Mesh)):
        world = World()
        world.layers.append(Layer("scene", scene_obj, "mesh" if isinstance(scene_obj, Mesh) else "world"))
        return world
    raise TypeError(f"render_image needs a World, GaussianCloud or Mesh, not {type(scene_obj).__name__}")


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float image in 0..1 (clamped) -> uint8 with rounding."""
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def render_float(scene_obj: World | GaussianCloud | Mesh, camera: Camera, *,
                 max_splats: int | None = None, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Like `render_image` but returns the unclamped float colours, (H, W, 3) float32."""
    world = as_world(scene_obj)
    ctx = offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    from .renderer import SplatRenderer

    fb = Framebuffer(int(camera.width), int(camera.height))
    renderer = SplatRenderer(sync_sort=True)
    try:
        fb.bind()
        renderer.set_world(world)
        renderer.draw(camera, (camera.width, camera.height), max_splats=max_splats, background=background)
        GL.glFinish()
        return fb.read_float()
    finally:
        renderer.release()
        fb.release()


def render_image(scene_obj: World | GaussianCloud | Mesh, camera: Camera, *,
                 max_splats: int | None = None, background=(0, 0, 0)) -> np.ndarray:
    """Render headlessly at camera.width × camera.height -> (H, W, 3) uint8 (top row first).

    Makes (or reuses) an offscreen GL context: Qt on an X display, else EGL.
    `background` is RGB in 0..1.
    """
    return to_uint8(render_float(scene_obj, camera, max_splats=max_splats, background=background))


class OffscreenRenderer:
    """Many headless renders of one scene with a single upload (evaluation, benchmarks).

        with OffscreenRenderer(world) as r:
            rgb, alpha = r.render_with_alpha(camera)   # (H, W, 3) uint8, (H, W) float32

    Same renderer and exact per-frame sort as `render_image`, so the pixels are the ones
    users see. Use from the thread that made the offscreen context.
    """

    def __init__(self, scene_obj: World | GaussianCloud | Mesh) -> None:
        self.world = as_world(scene_obj)
        self._ctx = offscreen_context()  # before OpenGL's first import (EGL needs it so)
        self._ctx.make_current()
        from .renderer import SplatRenderer

        self._renderer = SplatRenderer(sync_sort=True)
        self._renderer.set_world(self.world)
        self._fb: Framebuffer | None = None

    def _framebuffer(self, w: int, h: int) -> Framebuffer:
        if self._fb is None or (self._fb.width, self._fb.height) != (w, h):
            if self._fb is not None:
                self._fb.release()
            self._fb = Framebuffer(w, h)
        return self._fb

    def render_float(self, camera: Camera, background=(0.0, 0.0, 0.0)) -> np.ndarray:
        """(H, W, 3) float32 unclamped colours at camera.width × camera.height."""
        from OpenGL import GL

        self._ctx.make_current()
        fb = self._framebuffer(int(camera.width), int(camera.height))
        fb.bind()
        self._renderer.draw(camera, (camera.width, camera.height), background=background)
        GL.glFinish()
        return fb.read_float()

    def render_with_alpha(self, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
        """(rgb (H, W, 3) uint8 on black, alpha (H, W) float32 in 0..1).

        Alpha is the splats' accumulated opacity, from a second draw on white:
        with premultiplied blending a pixel is C + T·background, so white − black = T.
        """
        black = self.render_float(camera, (0.0, 0.0, 0.0))
        white = self.render_float(camera, (1.0, 1.0, 1.0))
        alpha = np.clip(1.0 - (white - black).mean(axis=2), 0.0, 1.0).astype(np.float32)
        return to_uint8(black), alpha

    def close(self) -> None:
        self._ctx.make_current()
        self._renderer.release()
        if self._fb is not None:
            self._fb.release()
            self._fb = None

    def __enter__(self) -> "OffscreenRenderer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
