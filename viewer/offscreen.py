"""Headless renders: `render_image(world_or_cloud, camera)` -> (H, W, 3) uint8.

Uses the process-wide offscreen context (viewer/gl_context.py) and a float framebuffer
object, so colours add up without 8-bit clamping between splats (as the reference
rasterizer). A size larger than the context can hold in one framebuffer (the real
GL_MAX_RENDERBUFFER_SIZE / GL_MAX_TEXTURE_SIZE / GL_MAX_VIEWPORT_DIMS, or a driver that
cannot allocate that much) is rendered in tiles, each an off-centre crop of the same
camera, and stitched; `gl_limits()` reports the context's limits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from scene.camera import Camera
from scene.errors import InputError
from scene.gaussians import GaussianCloud
from scene.mesh import Mesh
from scene.world import World

from .gl_context import offscreen_context

log = logging.getLogger(__name__)

#: the largest tile rendered in one pass (RGBA32F: 256 MB), whatever the GPU allows
MAX_TILE = 4096
#: the smallest tile tried before a render is refused
MIN_TILE = 256

# PyOpenGL is imported only after the context exists: the EGL backend must set
# PYOPENGL_PLATFORM before OpenGL's first import.


class RenderSizeError(InputError):
    """A render size this GL context cannot produce, even in tiles (one clear line)."""


@dataclass(frozen=True)
class GLLimits:
    """Size limits of the current GL context, in pixels."""

    renderbuffer: int
    texture: int
    viewport: tuple[int, int]

    @property
    def max_side(self) -> tuple[int, int]:
        """(width, height) of the largest single framebuffer we may draw into."""
        return (
            min(self.renderbuffer, self.texture, self.viewport[0]),
            min(self.renderbuffer, self.texture, self.viewport[1]),
        )


def gl_limits() -> GLLimits:
    """GL_MAX_RENDERBUFFER_SIZE, GL_MAX_TEXTURE_SIZE and GL_MAX_VIEWPORT_DIMS of the
    current context (call with a context current)."""
    from OpenGL import GL

    vp = np.asarray(GL.glGetIntegerv(GL.GL_MAX_VIEWPORT_DIMS)).reshape(-1)
    return GLLimits(
        int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE)),
        int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE)),
        (int(vp[0]), int(vp[-1])),
    )


class FramebufferError(RuntimeError):
    """The driver could not make a framebuffer of the requested size (out of memory or
    over a limit); smaller tiles may still work."""


class Framebuffer:
    """A colour (RGBA32F by default, exact blending) + 24-bit depth framebuffer object."""

    def __init__(self, width: int, height: int, color_format: int | None = None) -> None:
        from OpenGL import GL

        mw, mh = gl_limits().max_side
        if not (0 < width <= mw and 0 < height <= mh):
            raise FramebufferError(
                f"render size {width}x{height} is outside the GPU's 1..{mw}x{mh} pixels"
            )
        self.width, self.height = width, height
        self.fbo = GL.glGenFramebuffers(1)
        self.color, self.depth = GL.glGenRenderbuffers(2)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.color)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, color_format or GL.GL_RGBA32F, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self.depth)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, width, height)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.fbo)
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_RENDERBUFFER, self.color
        )
        GL.glFramebufferRenderbuffer(
            GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_RENDERBUFFER, self.depth
        )
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.release()
            GL.glGetError()  # clear GL_OUT_OF_MEMORY from the failed allocation
            raise FramebufferError(
                f"offscreen framebuffer of {width}x{height} incomplete (status 0x{int(status):x})"
            )

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
    """A World showing `scene_obj` (a World is returned as is): scene.io's `world_of`,
    the one scene loader's wrapping of a cloud or mesh. TypeError for anything else."""
    from scene.io import world_of

    return world_of(scene_obj, "scene")


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float image in 0..1 (clamped) -> uint8 with rounding."""
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def render_float(
    scene_obj: World | GaussianCloud | Mesh,
    camera: Camera,
    *,
    max_splats: int | None = None,
    background=(0.0, 0.0, 0.0),
) -> np.ndarray:
    """Like `render_image` but returns the unclamped float colours, (H, W, 3) float32."""
    return _render(scene_obj, camera, max_splats, background, np.float32)


def render_image(
    scene_obj: World | GaussianCloud | Mesh,
    camera: Camera,
    *,
    max_splats: int | None = None,
    background=(0, 0, 0),
) -> np.ndarray:
    """Render headlessly at camera.width × camera.height -> (H, W, 3) uint8 (top row first).

    Makes (or reuses) an offscreen GL context: Qt on an X display, else EGL.
    `background` is RGB in 0..1. Sizes beyond one framebuffer are rendered in tiles.
    Raises RenderSizeError when even small tiles cannot be allocated.
    """
    return _render(scene_obj, camera, max_splats, background, np.uint8)


def tile_camera(camera: Camera, x0: int, y0: int, w: int, h: int) -> Camera:
    """The crop [x0, x0+w) x [y0, y0+h) of `camera`'s image as a camera of its own (same
    pose and focal lengths, principal point shifted)."""
    return Camera(
        w,
        h,
        camera.fx,
        camera.fy,
        camera.cx - x0,
        camera.cy - y0,
        camera.R,
        camera.t,
        camera.name,
        dict(camera.meta),
    )


def _render(
    scene_obj: World | GaussianCloud | Mesh,
    camera: Camera,
    max_splats: int | None,
    background,
    dtype: type,
) -> np.ndarray:
    """(H, W, 3) `dtype` (float32 colours, or uint8), in one pass or in tiles."""
    world = as_world(scene_obj)
    ctx = offscreen_context()
    ctx.make_current()
    from OpenGL import GL

    from .renderer import SplatRenderer

    W, H = int(camera.width), int(camera.height)
    if W < 1 or H < 1:
        raise RenderSizeError(f"render size must be at least 1x1 pixels, got {W}x{H}")
    mw, mh = gl_limits().max_side
    tile = min(MAX_TILE, mw, mh)
    renderer = SplatRenderer(sync_sort=True)
    fbs: dict[tuple[int, int], Framebuffer] = {}
    try:
        renderer.set_world(world)
        if W <= tile and H <= tile:
            try:
                fbs[(W, H)] = Framebuffer(W, H)
            except FramebufferError as exc:
                log.info("one %dx%d framebuffer failed (%s): rendering in tiles", W, H, exc)
                tile = max(MIN_TILE, min(W, H, tile) // 2)
        out = np.empty((H, W, 3), dtype)
        while True:
            try:
                _draw_tiles(renderer, camera, fbs, out, tile, W, H, max_splats, background, GL)
                return out
            except FramebufferError as exc:
                if tile <= MIN_TILE:
                    raise RenderSizeError(
                        f"cannot render {W}x{H} pixels on this GPU ({exc}); its limit is "
                        f"{mw}x{mh}: try a smaller size"
                    ) from None
                tile = max(MIN_TILE, tile // 2)
                log.info("framebuffer failed (%s): retrying with %d px tiles", exc, tile)
    finally:
        renderer.release()
        for fb in fbs.values():
            fb.release()


def _draw_tiles(
    renderer,
    camera: Camera,
    fbs: dict,
    out: np.ndarray,
    tile: int,
    W: int,
    H: int,
    max_splats: int | None,
    background,
    GL,
) -> None:  # noqa: ANN001
    """Fill `out` (H, W, 3) tile by tile (one tile when it fits); framebuffers are cached
    by size in `fbs`."""
    whole = (W, H) in fbs
    step_x, step_y = (W, H) if whole else (tile, tile)
    for y0 in range(0, H, step_y):
        for x0 in range(0, W, step_x):
            w, h = min(step_x, W - x0), min(step_y, H - y0)
            fb = fbs.get((w, h))
            if fb is None:
                fb = fbs[(w, h)] = Framebuffer(w, h)
            cam = camera if (w, h) == (W, H) else tile_camera(camera, x0, y0, w, h)
            fb.bind()
            renderer.draw(cam, (w, h), max_splats=max_splats, background=background)
            GL.glFinish()
            img = fb.read_float()
            out[y0 : y0 + h, x0 : x0 + w] = to_uint8(img) if out.dtype == np.uint8 else img


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

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
