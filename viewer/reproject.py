"""Moving frames that reuse the last full-quality frame (image-based reprojection).

A moving frame can draw only a coarse cut of the splats (viewer/lod.py) at a fraction of the
resolution: on a software GL that is what 20 fps allows. The full-quality frame the viewport
drew before the camera started to move is a far better picture of most of what the moving
camera sees. `FrameReprojector` keeps that frame (its colour at full resolution, its
expected inverse depth on a grid of one texel per `GRID_STEP` pixels each way) and draws it
from the current camera as a mesh with one vertex per grid texel: each vertex is the surface
point its texel saw, unprojected with the old camera and projected with the new one.

The moving frame shows through wherever the kept frame has no answer:
- outside the kept frame's view;
- across depth edges, where the camera's move uncovers what the kept frame could not see:
  the triangles that span one, or join surface and background, or touch a texel whose
  splats disagree on depth, are left out (`warp_mesh`), unless the camera has only turned;
- wherever the moving frame holds something clearly nearer than the kept frame there (it is
  drawn with its own inverse depth, `SplatRenderer.draw(..., with_depth=True)`);
- once the camera has moved far enough for parallax to show (`opacity`: it fades out).
While the renderer is still merging a big scene's coarse level, its moving frames are a
thin subset of the splats: the kept frame is then drawn whole (no triangles left out), over
whatever the moving frame has nearer, and fades PENDING_REACH times as far out.

This is post-rendering 3D warping (Mark, McMillan & Bishop, I3D 1997), the "reproject the
last full frame with its depth" of the renderer issue. The depth per pixel is the splat
compositing's expected inverse depth (`SplatRenderer.draw_depth`: sum of w_i / d_i over sum
of w_i), which near surfaces dominate: the expected depth put the semi-transparent rim of
the demo world's rocket, in front of a sky 400 m away, at 100 m. View-dependent colour is
not warped; anything edited since invalidates the kept frame (`content_version`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
from OpenGL import GL

from scene.camera import Camera

from .gl_util import (
    attach_framebuffer,
    compile_program,
    read_rgba8,
    texture_2d,
    uniform_locations,
)

log = logging.getLogger(__name__)

GRID_STEP = 8  # pixels per depth-grid texel (each way)
#: a moving frame's reprojection is drawn at this share of the frame's size (at least the
#: moving frame's own), then scaled up with it (`draw_scaled`)
WARP_SCALE = 0.5
#: a link between neighbouring grid texels crosses a depth edge when its jump in inverse
#: depth is over JUMP × the larger jump of the links on either side of it (a plane's inverse
#: depth is affine in the image, so its jumps are all alike; a crease changes them once) and
#: over MIN_JUMP × the inverse depth (noise)
JUMP = 3.0
MIN_JUMP = 0.03
#: ... or whatever the links beside it do, when the depths it joins differ by this factor:
#: a surface seen edge-on beside a depth edge has large jumps of its own (requiring the link
#: to stand out there too brought back streaks on bench/render.py's walk); the price is a
#: band within ~2 degrees of a ground plane's horizon, left to the moving frame
MAX_RATIO = 1.25
#: a texel whose splats' inverse depths spread (standard deviation) over this fraction of
#: their mean is not warped (see warp_mesh)
SPREAD = 0.25
#: the moving frame under the reprojection is clearly nearer where its inverse depth is over
#: this × the reprojected surface's (then the kept frame is left out there)
NEARER = 1.15
FEATHER = 0.02  # the kept frame fades out over its outermost pixels, this share of its width
COVERED = 0.05  # coverage below which a grid texel is background (warped as far away)
#: how many splats the depth pass may draw (a cut through the coarse level, as moving
#: frames): the depth only places the full frame's pixels, which carry the detail
DEPTH_SPLATS = 60_000
#: the kept frame is drawn opaque while the camera's parallax-weighted move from where it was
#: drawn (the move across its view axis, plus ALONG_WEIGHT × the move along it: moving
#: forward shifts what is near the centre of view far less) stays within FADE_START × the
#: frame's near depth (NEAR_QUANTILE of its covered texels' depths: the sky that fills most
#: of a generated world's frame 400 m out must not set it); it fades out from there to
#: PARALLAX_MAX × that depth and is not drawn beyond. Measured without the fade (1280x720,
#: PSNR against the full frame, moving frame alone -> with the kept frame): the demo world
#: strafed 0.05 / 0.1 / 0.2 / 0.4 near depths, 29.2 -> 30.7, 29.6 -> 29.8, 30.2 -> 28.8,
#: 30.2 -> 26.5 dB; bench/render.py's room walked forward 0.1 / 0.4 / 0.8 near depths,
#: 25.2 -> 31.4, 25.0 -> 28.6, 25.2 -> 28.2 dB. The fade spares a visible switch.
FADE_START = 0.1
#: ... and within this, all of it is drawn, also the triangles left out for depth edges and
#: vague depth: turning in place moves nothing by parallax, whatever the depth
STILL_MOVE = 0.005
PARALLAX_MAX = 0.3
ALONG_WEIGHT = 0.25
NEAR_QUANTILE = 0.25
NEAR, FAR = 0.02, 1.0e5  # the warp's own clip range (metres)
FAR_DEPTH = 1.0e4  # where background texels are put (directions, in effect)


#: while a big scene's coarse level is being merged, its moving frames are a thin subset of
#: the splats (blobs at a fifth of the size): the kept frame, stretched as it may be, holds
#: this many times as far before it fades (a trial's first walk in the office world)
PENDING_REACH = 3.0
#: ... easing back to 1 over this many seconds once the coarse level lands (at once, a walk
#: 0.4-0.6 m from the kept frame saw it vanish in one frame, a review)
PENDING_EASE_S = 0.5


def _coarse_pending(renderer) -> bool:  # noqa: ANN001
    """`renderer` (a SplatRenderer, or None) is merging the coarse level its moving frames
    are to draw."""
    probe = getattr(renderer, "coarse_level_pending", None)
    return bool(probe()) if probe is not None else False


class FrameReprojector:
    """Keeps one full-quality frame and draws it from other cameras (see the module text).

    Use on the GL thread with the context current:
    - `keep` right after a full-quality `SplatRenderer.draw`, before any overlay: copies the
      frame's colour (a blit, ~1 ms);
    - `finish` any time later, before the layers change (the app: once the frame is on
      screen): the depth pass (mesh layers in it at their own depth) and the warp mesh
      (tens of ms);
    - `draw` over a moving frame: the kept frame from the current camera, or nothing when
      none is usable (not finished, the layers changed since, or the camera moved too far
      from it: `opacity`);
    - `release` before the context goes.
    """

    def __init__(self) -> None:
        self._ready = False
        self._camera: Camera | None = None  # the kept frame's camera
        self._finished = False  # its depth and mesh are made
        self._version: int | None = None
        self._renderer_id: int | None = None
        self._near_depth = 0.0
        self._size: tuple[int, int] = (0, 0)
        self._grid: tuple[int, int] = (0, 0)
        self._n_index = 0
        self._n_kept = 0  # the first indices: the triangles kept whatever the move
        self._pending_seen: float | None = None  # when a pending coarse level was last seen
        self._index: np.ndarray | None = None  # the mesh's triangles as uploaded
        #: the mesh's vertices and texture places (CPU copies, for `draw_cpu`)
        self._mesh: tuple[np.ndarray, np.ndarray] | None = None
        self._color_cpu: np.ndarray | None = None  # the kept colour read back (`draw_cpu`)

    # ------------------------------------------------------------------ public
    @property
    def pending(self) -> bool:
        """A frame's colour is kept and waits for `finish`."""
        return self._camera is not None and not self._finished

    def usable(self, renderer, camera: Camera | None = None) -> bool:  # noqa: ANN001
        """A finished frame is kept, the renderer's content has not changed since, and (with
        `camera`) that camera is close enough to it (`opacity` > 0)."""
        if not (
            self._camera is not None
            and self._finished
            and self._renderer_id == id(renderer)
            and self._version == renderer.content_version
        ):
            return False
        return camera is None or self.opacity(camera, renderer) > 0.0

    def opacity(self, camera: Camera, renderer=None) -> float:  # noqa: ANN001
        """How opaque the kept frame is drawn from `camera`: 1 while the camera's
        parallax-weighted move (see FADE_START) is within FADE_START × the kept frame's near
        depth, 0 beyond PARALLAX_MAX × that, linear between (0 when no frame is kept);
        PENDING_REACH times as far while `renderer`'s coarse level is being merged."""
        if self._camera is None or not self._finished:
            return 0.0
        reach = self._reach(renderer)
        f = (self._moved(camera) / reach - FADE_START) / (PARALLAX_MAX - FADE_START)
        return float(np.clip(1.0 - f, 0.0, 1.0))

    def _reach(self, renderer) -> float:  # noqa: ANN001
        """PENDING_REACH while `renderer`'s coarse level is being merged, back to 1 over
        PENDING_EASE_S after it lands."""
        if renderer is None:
            return 1.0
        now = time.perf_counter()
        if _coarse_pending(renderer):
            self._pending_seen = now
            return PENDING_REACH
        if self._pending_seen is None:
            return 1.0
        k = (now - self._pending_seen) / PENDING_EASE_S
        if k >= 1.0:
            self._pending_seen = None
            return 1.0
        return PENDING_REACH + (1.0 - PENDING_REACH) * k

    def _moved(self, camera: Camera) -> float:
        """The camera's parallax-weighted move from the kept frame's, in near depths."""
        move = self._camera.R @ (camera.position - self._camera.position)  # its camera axes
        moved = float(np.hypot(move[0], move[1]) + ALONG_WEIGHT * abs(move[2]))
        return moved / max(self._near_depth, 1e-6)

    def invalidate(self) -> None:
        """Forget the kept frame (`draw` does nothing until a new one is kept and finished)."""
        self._camera = None
        self._finished = False
        self._mesh = self._color_cpu = None

    def keep(self, renderer, camera: Camera, source_fbo: int) -> None:  # noqa: ANN001
        """Copy the frame `renderer` just drew for `camera` into `source_fbo` (a framebuffer of
        camera.width × camera.height pixels; 0 = the window's). Leaves `source_fbo` bound.
        A repaint of the finished frame's view (same camera, nothing edited: a sort that
        finished, any update) only refreshes its colour and stays usable: making it pending
        again threw it away whenever a move began before `finish`."""
        same = self.usable(renderer) and _same_camera(self._camera, camera)
        w, h = int(camera.width), int(camera.height)
        gw, gh = max(2, -(-w // GRID_STEP)), max(2, -(-h // GRID_STEP))
        self._ensure_gl(w, h, gw, gh)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, source_fbo)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._color_fbo)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_NEAREST)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, source_fbo)
        self._color_cpu = None  # read back again when drawn on the CPU
        if same:
            return
        self._camera = camera
        self._finished = False
        self._version = renderer.content_version
        self._renderer_id = id(renderer)

    def finish(self, renderer) -> bool:  # noqa: ANN001
        """Draw the kept frame's expected inverse depth and build its mesh (the current framebuffer
        binding and viewport are restored). Returns whether a usable frame is now kept."""
        cam = self._camera
        if cam is None or self._renderer_id != id(renderer):
            return False
        if self._finished or self._version != renderer.content_version:
            return self.usable(renderer)
        gw, gh = self._grid
        prev = int(GL.glGetIntegerv(GL.GL_DRAW_FRAMEBUFFER_BINDING))
        viewport = [int(v) for v in GL.glGetIntegerv(GL.GL_VIEWPORT)]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._depth_fbo)
        stats = renderer.draw_depth(cam, (gw, gh), max_splats=DEPTH_SPLATS)
        if not stats.splats_drawn and not stats.triangles:
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, prev)
            GL.glViewport(*viewport)
            self.invalidate()
            return False
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._depth_fbo)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
        raw = GL.glReadPixels(0, 0, gw, gh, GL.GL_RGBA, GL.GL_FLOAT)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, prev)
        GL.glViewport(*viewport)
        acc = np.frombuffer(raw, np.float32).reshape(gh, gw, 4)[::-1]
        points, uv, index, n_kept = warp_mesh(
            acc[..., 0], acc[..., 3], cam.resized(gw, gh), acc[..., 1]
        )
        near = points[:, 2] < 0.5 * FAR_DEPTH
        self._near_depth = (
            float(np.quantile(points[near, 2], NEAR_QUANTILE)) if near.any() else FAR_DEPTH
        )
        GL.glBindVertexArray(self._vao)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo)
        vert = np.ascontiguousarray(np.concatenate([points, uv], 1), np.float32)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, vert.nbytes, vert, GL.GL_STATIC_DRAW)
        GL.glVertexAttribPointer(0, 3, GL.GL_FLOAT, GL.GL_FALSE, 20, None)
        GL.glVertexAttribPointer(1, 2, GL.GL_FLOAT, GL.GL_FALSE, 20, GL.ctypes.c_void_p(12))
        GL.glEnableVertexAttribArray(0)
        GL.glEnableVertexAttribArray(1)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ebo)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, max(index.nbytes, 4), index, GL.GL_STATIC_DRAW)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        self._n_index = int(index.size)
        self._n_kept = n_kept
        self._index = index
        self._mesh = (points, uv)
        self._finished = True
        return True

    def grid_camera(self) -> Camera | None:
        """The kept frame's camera at its depth grid's size (gw × gh), None when none is
        finished: what `cut_out`'s mask is laid out for."""
        if self._camera is None or not self._finished:
            return None
        gw, gh = self._grid
        return self._camera.resized(gw, gh)

    def cut_out(self, mask: np.ndarray) -> bool:
        """Leave out of every later draw the kept frame's triangles that touch the grid
        texels in `mask` (gh, gw) bool, top row first (context current): an object dragged
        from where the kept frame shows it, so the moving frame under the reprojection
        shows that place instead of its old image. Returns whether any was left out."""
        gw, gh = self._grid
        if not self._finished or self._index is None or mask.shape != (gh, gw):
            return False
        tri = self._index.reshape(-1, 3)
        nk = self._n_kept // 3
        hit = np.asarray(mask, bool).ravel()[tri].any(1)
        if not hit.any():
            return False
        first, rest = tri[:nk][~hit[:nk]], tri[nk:][~hit[nk:]]
        index = np.ascontiguousarray(np.concatenate([first, rest]).ravel(), np.uint32)
        GL.glBindVertexArray(self._vao)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ebo)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, max(index.nbytes, 4), index, GL.GL_STATIC_DRAW)
        GL.glBindVertexArray(0)
        self._index, self._n_index, self._n_kept = index, int(index.size), 3 * len(first)
        return True

    def accept_edit(self, renderer) -> None:  # noqa: ANN001
        """Keep the finished frame usable across the renderer's latest edit, one the caller
        has accounted for: the transform of an object dragged with the camera still, whose
        old image `cut_out` took out (the frame's other pixels are still exact)."""
        if self._finished and self._renderer_id == id(renderer):
            self._version = renderer.content_version

    def moving_target(self, w: int, h: int) -> int:
        """A framebuffer of w × h pixels for the moving frame under the reprojection, to draw
        with `SplatRenderer.draw(..., with_depth=True)` (colour attachment 0: RGBA8; 1: its
        inverse depth and coverage, RG16F); `draw(..., moving=True)` then leaves the kept frame out
        where that frame is clearly nearer. Returns its id (bound to nothing)."""
        if not self._ready:
            raise RuntimeError("moving_target before any frame was kept")
        if self._mov_size != (w, h):
            texture_2d(self._mov_color, GL.GL_RGBA8, w, h, GL.GL_UNSIGNED_BYTE, GL.GL_LINEAR)
            texture_2d(self._mov_depth, GL.GL_RG16F, w, h, GL.GL_FLOAT, GL.GL_LINEAR)
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._mov_rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, w, h)
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
            attach_framebuffer(self._mov_fbo, self._mov_color, self._mov_rb, self._mov_depth)
            self._mov_size = (w, h)
        return int(self._mov_fbo)

    def draw(self, renderer, camera: Camera, moving: bool = False) -> bool:  # noqa: ANN001
        """Draw the kept frame as seen from `camera` over the bound framebuffer (of
        camera.width × camera.height pixels), depth-tested against itself only (the depth
        buffer is cleared), blended at `opacity` and faded over its outermost FEATHER. With
        `moving`, the frame just drawn into `moving_target` is under it, and wherever that
        holds something clearly nearer (NEARER) the kept frame is left out, unless
        `renderer`'s coarse level is still being merged (then all of the kept frame is
        drawn). Returns False, drawing nothing, when no usable frame is kept for this
        camera (`usable`)."""
        if not self.usable(renderer, camera):
            return False
        old = self._camera
        to_clip = (
            _projection(camera) @ camera.world_to_camera() @ np.linalg.inv(old.world_to_camera())
        )
        GL.glViewport(0, 0, int(camera.width), int(camera.height))
        GL.glDepthMask(GL.GL_TRUE)
        GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        alpha = self.opacity(camera, renderer)
        GL.glEnable(GL.GL_BLEND)  # the fade, and the kept frame's feathered border
        # the frame's alpha stays 1: a screenshot of the widget (QWidget.grab) reads it as
        # premultiplied, and a blended alpha made the sky's blue overflow to a lime band
        GL.glBlendFuncSeparate(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA, GL.GL_ZERO, GL.GL_ONE)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glUseProgram(self._prog)
        loc = self._loc
        GL.glUniformMatrix4fv(loc["u_to_clip"], 1, GL.GL_TRUE, to_clip.astype(np.float32))
        GL.glUniform1f(loc["u_alpha"], alpha)
        # while the coarse level is being merged, the moving frame is a thin subset of the
        # splats grown to cover for the rest: its blobs stand in front of every surface, and
        # the kept frame left out under them showed the blobs (a trial's first walk)
        pending = moving and _coarse_pending(renderer)
        GL.glUniform1f(loc["u_nearer"], 1e30 if pending else NEARER)
        kw, kh = self._size
        GL.glUniform2f(loc["u_feather"], 1.0 / FEATHER, kh / (FEATHER * kw))
        GL.glUniform2f(loc["u_size"], float(camera.width), float(camera.height))
        GL.glActiveTexture(GL.GL_TEXTURE1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._mov_depth if moving else self._no_depth)
        GL.glUniform1i(loc["u_moving"], 1)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._color_tex)
        GL.glUniform1i(loc["u_color"], 0)
        GL.glBindVertexArray(self._vao)
        # all of it also while the scene's coarse level is being merged: the moving frame
        # under it is then a thin subset of the splats, and the triangles left out at
        # depth edges showed it as black tears across the view (a trial's first walk)
        whole = pending or self._moved(camera) <= STILL_MOVE
        count = self._n_index if whole else self._n_kept
        GL.glDrawElements(GL.GL_TRIANGLES, count, GL.GL_UNSIGNED_INT, None)
        GL.glBindVertexArray(0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glActiveTexture(GL.GL_TEXTURE1)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glUseProgram(0)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_BLEND)
        return True

    def draw_cpu(
        self,
        renderer,  # noqa: ANN001
        camera: Camera,
        out: np.ndarray,
        moving_depth: np.ndarray | None,
    ) -> bool:
        """`draw(moving=True)` on the CPU (viewer/cpu_warp.py): the kept frame as seen
        from `camera` blended over `out` (camera.height, camera.width, 4) uint8 RGBA, bottom
        row first, the moving frame scaled to that size, whose (sum of w / depth, sum of w)
        is `moving_depth` (h', w', 2) float32 bottom row first (None: nothing is nearer).
        The same triangles, rules and fade as the GL draw; the kept colour is read back
        once per kept frame (context current). Returns False, drawing nothing, when no
        usable frame is kept for `camera` or the kernels are not compiled yet (`cpu_warp.warm`)."""
        from . import cpu_warp

        if not cpu_warp.warm or self._mesh is None or not self.usable(renderer, camera):
            return False
        old = self._camera
        rel = camera.world_to_camera() @ np.linalg.inv(old.world_to_camera())
        pending = _coarse_pending(renderer)
        whole = pending or self._moved(camera) <= STILL_MOVE
        kw, kh = self._size
        points, uv = self._mesh
        cpu_warp.warp_onto(
            out,
            points,
            uv,
            self._index,
            self._n_index if whole else self._n_kept,
            rel,
            (camera.fx, camera.fy, camera.cx, camera.cy),
            self._kept_colour(),
            moving_depth,
            nearer=1e30 if pending else NEARER,
            alpha=self.opacity(camera, renderer),
            feather=(1.0 / FEATHER, kh / (FEATHER * kw)),
            near=NEAR,
        )
        return True

    def _kept_colour(self) -> np.ndarray:
        """The kept frame's colour (h, w, 4) uint8 RGBA, bottom row first, read back from
        its texture the first time it is asked for (the read framebuffer is restored)."""
        if self._color_cpu is None:
            self._color_cpu = read_rgba8(self._color_fbo, *self._size)
        return self._color_cpu

    def release(self) -> None:
        """Free the GL objects (context current); the next `keep` makes them again."""
        self.invalidate()
        if not self._ready:
            return
        GL.glDeleteProgram(self._prog)
        GL.glDeleteFramebuffers(3, [self._color_fbo, self._depth_fbo, self._mov_fbo])
        GL.glDeleteTextures(
            5, [self._color_tex, self._depth_tex, self._mov_color, self._mov_depth, self._no_depth]
        )
        GL.glDeleteRenderbuffers(2, [self._depth_rb, self._mov_rb])
        GL.glDeleteBuffers(2, [self._vbo, self._ebo])
        GL.glDeleteVertexArrays(1, [self._vao])
        self._ready = False
        self._size = self._grid = (0, 0)

    # ---------------------------------------------------------------- GL set-up
    def _ensure_gl(self, w: int, h: int, gw: int, gh: int) -> None:
        if not self._ready:
            self._prog = compile_program("reproject.vert", "reproject.frag")
            self._loc = uniform_locations(
                self._prog,
                ["u_color", "u_to_clip", "u_alpha", "u_moving", "u_size", "u_nearer", "u_feather"],
            )
            self._color_fbo, self._depth_fbo = GL.glGenFramebuffers(2)
            self._color_tex, self._depth_tex = GL.glGenTextures(2)
            self._depth_rb = GL.glGenRenderbuffers(1)
            self._vao = GL.glGenVertexArrays(1)
            self._vbo, self._ebo = GL.glGenBuffers(2)
            self._mov_fbo = GL.glGenFramebuffers(1)
            self._mov_color, self._mov_depth, self._no_depth = GL.glGenTextures(3)
            self._mov_rb = GL.glGenRenderbuffers(1)
            self._mov_size = (0, 0)
            texture_2d(self._no_depth, GL.GL_RGBA32F, 1, 1, GL.GL_FLOAT, GL.GL_NEAREST)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._no_depth)  # nothing nearer anywhere
            GL.glTexSubImage2D(
                GL.GL_TEXTURE_2D, 0, 0, 0, 1, 1, GL.GL_RGBA, GL.GL_FLOAT, np.zeros(4, np.float32)
            )
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            self._ready = True
        if self._size != (w, h):
            texture_2d(self._color_tex, GL.GL_RGBA8, w, h, GL.GL_UNSIGNED_BYTE, GL.GL_LINEAR)
            attach_framebuffer(self._color_fbo, self._color_tex, None)
            self._size = (w, h)
        if self._grid != (gw, gh):
            texture_2d(self._depth_tex, GL.GL_RGBA32F, gw, gh, GL.GL_FLOAT, GL.GL_NEAREST)
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._depth_rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, gw, gh)
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, 0)
            attach_framebuffer(self._depth_fbo, self._depth_tex, self._depth_rb)
            self._grid = (gw, gh)


def draw_scaled(
    renderer,  # noqa: ANN001 - SplatRenderer
    reproject: FrameReprojector | None,
    camera: Camera,
    scale: float,
    max_splats: int | None,
    target: int,
    small_fbo: Callable[[int, int], int],
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
):  # noqa: ANN201 - DrawStats
    """A reduced frame as the viewport draws it while moving: `renderer` draws `camera`'s view
    at `scale` of its size into a small framebuffer (`small_fbo(w, h)` gives its id), which is
    scaled up into `target` (a framebuffer of camera.width × camera.height, left bound); when
    `reproject` holds a frame usable from `camera`, the small frame is drawn with its depth
    into `reproject.moving_target` and the kept frame is drawn over it. Returns the draw's
    DrawStats, with the time the reprojection and its scaling up took in `warp_ms`, and in
    `image` what the target holds when the CPU scaled it up last (`DrawStats.image`)."""
    w, h = int(camera.width), int(camera.height)
    sw, sh = max(1, int(w * scale)), max(1, int(h * scale))
    warp = reproject is not None and reproject.usable(renderer, camera)
    small = reproject.moving_target(sw, sh) if warp else small_fbo(sw, sh)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, small)
    stats = renderer.draw(
        camera,
        (sw, sh),
        max_splats=max_splats,
        background=background,
        with_depth=warp,
        scaled_up=True,
    )
    mw, mh = max(sw, int(w * WARP_SCALE)), max(sh, int(h * WARP_SCALE))
    if (
        warp
        and renderer.composites_on_cpu
        and _draw_on_cpu(renderer, reproject, camera, stats, target, (sw, sh), (mw, mh), (w, h))
    ):
        return stats
    mid = small_fbo(mw, mh) if warp and (mw, mh) != (w, h) else target
    # scaled up by GL's bilinear blits where GL draws the frames (on the CPU, bicubic:
    # `_CpuFrames._show_scaled`): a GL Catmull-Rom pass (nine bilinear fetches, clamped
    # to the nearest four texels) in their place left the 1M room's moving frames at the
    # same SSIM (0.866 at that level) and cost ~20 ms a frame on llvmpipe at 1280x720
    ow, oh = (mw, mh) if mid != target else (w, h)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, mid)
    shown = renderer.present_scaled(ow, oh)  # a CPU frame is scaled up on the CPU
    if shown is None:
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, small)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glBlitFramebuffer(0, 0, sw, sh, 0, 0, ow, oh, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, mid)
    if warp:
        shown = None  # the kept frame is drawn over it: the image copied is not the frame
        software = renderer.composites_on_cpu
        if software:  # timed alone (llvmpipe runs GL's work when it is finished)
            GL.glFinish()
        t0 = time.perf_counter()
        reproject.draw(renderer, camera if mid == target else camera.resized(mw, mh), moving=True)
    if mid != target:
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
        shown = renderer.present_framebuffer(mid, mw, mh, w, h)  # on the CPU where faster
        if shown is None:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, mid)
            GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
            GL.glBlitFramebuffer(0, 0, mw, mh, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)
    if warp:
        if software:
            GL.glFinish()
        stats.warp_ms = (time.perf_counter() - t0) * 1000.0
    stats.image = shown  # what the CPU copied into the target last, if it did
    return stats


def _draw_on_cpu(
    renderer,  # noqa: ANN001 - SplatRenderer
    reproject: FrameReprojector,
    camera: Camera,
    stats,  # noqa: ANN001 - DrawStats
    target: int,
    small: tuple[int, int],
    mid: tuple[int, int],
    size: tuple[int, int],
) -> bool:
    """`draw_scaled`'s reprojection where the moving frame was composited on the CPU: the
    frame scaled to `mid` (bicubic), the kept frame drawn over it there on the CPU
    (`FrameReprojector.draw_cpu`: llvmpipe took 12-40 ms for the mesh at half the
    window's size), scaled up to `size` and copied into `target` once. Sets stats.warp_ms
    and stats.image; returns False (nothing drawn) when the frame is not in memory or the
    kernels are not compiled yet, for the GL path to draw it."""
    import cv2

    frame = renderer.cpu_frame()
    if frame is None or frame[0].shape[:2] != small[::-1]:
        return False
    t0 = time.perf_counter()
    img, depth = frame  # (img is the frame's own copy: drawn over in place when mid == small)
    base = img if mid == small else cv2.resize(img, mid, interpolation=cv2.INTER_CUBIC)
    if not reproject.draw_cpu(renderer, camera.resized(*mid), base, depth):
        return False
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
    stats.image = renderer.present_image(base, *size)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)
    stats.warp_ms = (time.perf_counter() - t0) * 1000.0
    return True


def warp_mesh(
    sum_wz: np.ndarray, sum_w: np.ndarray, camera: Camera, sum_wz2: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The mesh `FrameReprojector` draws, from a frame's expected-inverse-depth grid.

    sum_wz, sum_w, sum_wz2: (gh, gw) float, top row first: per grid texel, the compositing
    weights' sum of w / depth, of w and of w / depth² (`SplatRenderer.draw_depth`); camera:
    the frame's camera at the grid's size (gw × gh).

    Returns
    - points (gh·gw, 3) float32: each texel centre's surface point in that camera's space
      (OpenCV axes, metres; a texel with coverage below COVERED is put FAR_DEPTH away; the
      outer ring of texels on the frame's border instead of their centres, so the mesh
      covers the whole frame);
    - uv (gh·gw, 2) float32: the same places in the frame's colour texture (bottom row first);
    - index (3T,) uint32: triangles of vertex numbers y·gw + x, two per grid cell, the ones
      to draw whenever the frame is drawn first, then those left out once the camera moves
      (a turn in place may draw them all):
      - those across a depth edge: a link between neighbouring texels whose jump in inverse
        depth z stands out from the links beside it (`JUMP`, `MIN_JUMP`) or joins depths too
        far apart (`MAX_RATIO`);
      - those joining covered and background texels;
      - those touching a texel whose splats' inverse depths spread over more than SPREAD ×
        their mean (layers seen through each other: a rim, a veil have no one depth to move
        with);
    - n_kept: how many indices come first."""
    gh, gw = sum_w.shape
    covered = (sum_w > COVERED) & (sum_wz > 0)
    z = np.where(covered, sum_wz / np.where(covered, sum_w, 1.0), 1.0 / FAR_DEPTH)
    cut_x = _edge_links(z)  # (gh, gw-1): link (y, x)-(y, x+1)
    cut_y = _edge_links(z.T).T  # (gh-1, gw): link (y, x)-(y+1, x)
    ys, xs = np.mgrid[0:gh, 0:gw]
    px = xs + 0.5
    px[:, 0], px[:, -1] = 0.0, gw
    py = ys + 0.5
    py[0, :], py[-1, :] = 0.0, gh
    d = 1.0 / z
    points = np.stack(
        [(px - camera.cx) / camera.fx * d, (py - camera.cy) / camera.fy * d, d], -1
    ).reshape(-1, 3)
    uv = np.stack([px / gw, 1.0 - py / gh], -1).reshape(-1, 2)
    tri = grid_triangles(gw, gh).reshape(-1, 3)
    # cell (y, x): triangle (a, b, c) has links a-b (row y) and a-c (column x); triangle
    # (c, b, d) has c-d (row y + 1) and b-d (column x + 1); a line that splits a triangle
    # crosses one of its two axis-aligned links
    upper = cut_x[:-1, :] | cut_y[:, :-1]
    lower = cut_x[1:, :] | cut_y[:, 1:]
    spans = np.stack([upper.ravel(), lower.ravel()], 1).ravel()
    ct = covered.ravel()[tri]
    mixed = ct.any(1) & ~ct.all(1)
    keep = ~(spans | mixed)
    if sum_wz2 is not None:
        z2 = np.where(covered, sum_wz2 / np.where(covered, sum_w, 1.0), 0.0)
        spread = np.sqrt(np.maximum(z2 - z * z, 0.0))
        vague = (covered & (spread > SPREAD * z)).ravel()
        keep &= ~vague[tri].any(1)
    index = np.concatenate([tri[keep], tri[~keep]])  # the kept ones first
    return (
        points.astype(np.float32),
        uv.astype(np.float32),
        np.ascontiguousarray(index.ravel(), np.uint32),
        3 * int(keep.sum()),
    )


def footprint_mask(layer, camera: Camera) -> np.ndarray:  # noqa: ANN001 - scene.world.Layer
    """(camera.height, camera.width) bool, top row first: the pixels a layer's splats
    (centres, 3 sigma) or mesh (the hull of its vertices) cover in `camera`'s image, with
    one pixel more all round. A grid camera (`FrameReprojector.grid_camera`) gives the
    mask `cut_out` takes."""
    import cv2

    from scene.gaussians import GaussianCloud

    w, h = int(camera.width), int(camera.height)
    mask = np.zeros((h, w), np.uint8)
    data = layer.data
    m = np.asarray(layer.transform, np.float64)
    if isinstance(data, GaussianCloud):
        pts = np.asarray(data.means, np.float64)
        sc = np.asarray(data.scales, np.float32)
        sigma = np.exp(np.maximum(np.maximum(sc[:, 0], sc[:, 1]), sc[:, 2]).astype(np.float64))
    else:
        pts = np.asarray(data.vertices, np.float64)
        sigma = None
    if not len(pts):
        return mask.astype(bool)
    world = pts @ m[:3, :3].T + m[:3, 3]
    uv, z = camera.project(world)
    ok = (z > 1e-3) & np.isfinite(uv).all(1)
    if not ok.any():
        return mask.astype(bool)
    if sigma is None:  # a mesh: the hull of its vertices in view
        hull = cv2.convexHull(np.clip(uv[ok], -4 * w, 5 * w).astype(np.float32))
        cv2.fillConvexPoly(mask, np.round(hull).astype(np.int32), 1)
    else:
        scale = float(abs(np.linalg.det(m[:3, :3])) ** (1 / 3))
        r = 3.0 * sigma[ok] * scale * camera.fx / z[ok]  # pixels
        x, y = np.round(uv[ok, 0]).astype(np.int64), np.round(uv[ok, 1]).astype(np.int64)
        inside = (x >= -r) & (x < w + r) & (y >= -r) & (y < h + r)
        small = inside & (r <= 1.0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
        mask[y[small], x[small]] = 1  # (within a pixel: the dilation below covers them)
        big = np.flatnonzero(inside & (r > 1.0))
        for i in big:  # the few splats wider than a grid texel, one box each
            ri = int(np.ceil(r[i]))
            x0, x1 = max(0, int(x[i]) - ri), min(w, int(x[i]) + ri + 1)
            y0, y1 = max(0, int(y[i]) - ri), min(h, int(y[i]) + ri + 1)
            if x0 < x1 and y0 < y1:
                mask[y0:y1, x0:x1] = 1
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return mask.astype(bool)


def _edge_links(z: np.ndarray) -> np.ndarray:
    """(h, w-1) bool: the link between z[:, x] and z[:, x+1] crosses a depth edge."""
    jump = np.abs(np.diff(z, axis=1))
    side = np.pad(jump, ((0, 0), (1, 1)), mode="edge")
    beside = np.maximum(side[:, :-2], side[:, 2:])
    near = np.maximum(z[:, 1:], z[:, :-1])
    far = np.minimum(z[:, 1:], z[:, :-1])
    return ((jump > JUMP * beside) & (jump > MIN_JUMP * near)) | (near > MAX_RATIO * far)


def _same_camera(a: Camera | None, b: Camera) -> bool:
    return (
        a is not None
        and (a.width, a.height, a.fx, a.fy, a.cx, a.cy)
        == (b.width, b.height, b.fx, b.fy, b.cx, b.cy)
        and np.array_equal(a.R, b.R)
        and np.array_equal(a.t, b.t)
    )


def grid_triangles(gw: int, gh: int) -> np.ndarray:
    """(6 (gw-1)(gh-1),) uint32: two triangles per cell of a gw × gh vertex grid whose
    vertex (x, y) is number y·gw + x."""
    x, y = np.meshgrid(np.arange(gw - 1, dtype=np.uint32), np.arange(gh - 1, dtype=np.uint32))
    a = (y * gw + x).ravel()
    b, c, d = a + 1, a + gw, a + gw + 1
    return np.stack([a, b, c, c, b, d], 1).ravel()


def _projection(cam: Camera) -> np.ndarray:
    from .renderer import projection_matrix

    return projection_matrix(cam, NEAR, FAR)
