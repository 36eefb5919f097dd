"""The 3D viewport: a widget hosting SplatRenderer, driven by a ~60 Hz frame timer; a
QOpenGLWidget on a GPU, and on a software OpenGL a plain widget painting frames drawn
offscreen (`RasterViewport`: Qt's OpenGL composition of a QOpenGLWidget costs llvmpipe
most of a moving frame's time).

Repaints only when the camera moved, the world changed, a sort finished or a refine is
due; when is decided by `RenderState` (viewer/render_state.py: the phases moving /
refining / preview / still / failed and their transitions). Walk collision is built by
viewer/collision.py (`collider_for`), off the GUI thread for big scenes.
While the camera moves and frames are slow, an adaptive controller (as in nerfstudio's
viewer) lowers the render scale (render into a smaller FBO, blit up) and the number of
splats (the merged coarse level of big scenes, else the strongest in view grown to cover
for the rest: see renderer.py), budgeting the frame interval
the window really achieves; ~150 ms after the camera stops it refines to full quality.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt6.QtCore import QEvent, QPoint, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCursor, QKeyEvent, QMouseEvent, QWheelEvent
from PyQt6.QtOpenGLWidgets import QOpenGLWidget
from PyQt6.QtWidgets import QLabel, QWidget

from scene.gaussians import GaussianCloud

from .collision import Collider, collider_for
from .navigation import Navigator, local_bounds, scene_scale
from .render_state import RenderState
from .up_axis import up_rotation

log = logging.getLogger(__name__)

BACKGROUND = (0.055, 0.06, 0.075)
MAX_IMAGE_SIDE = 16384  # px a side of a screenshot or offscreen render
REST_S = 0.15  # camera still this long -> full-quality refine
TARGET_MS = 45.0  # frame interval while moving (≥ 22 fps); the measured compositing
# and event-loop overhead per frame is taken off the render budget
#: ... before any has been measured (a first walk's first frames): what the window's
#: compositing and event loop took here, llvmpipe at 1306x824 (13-14 ms + 3-4 ms)
OVERHEAD_PRIOR_MS = 15.0
#: ... for the raster viewport on llvmpipe (`RasterViewport`): 7-8.5 ms a frame measured
#: walking the demo world and the 1M bench room at 1280x800 (read-back, paint, event loop)
RASTER_OVERHEAD_PRIOR_MS = 8.0
MIN_SPLATS = 20000  # never thin below this many while moving
UI_UPDATE_S = 0.25  # while moving, status read-outs update at most this often: every
# label change re-composites the window around the GL view
WALK_REACH = 1.5  # eye heights: ground this close under the eye is walked on, not flown over
#: eye heights: a start nearer the ground than this is flown (a tabletop orbit's cameras
#: 0.4 m above the table; walking lifted the eye to 1.6 m and lost the photo's view)
WALK_LOW = 0.5
SYNC_COLLIDER_SPLATS = 250_000  # bigger scenes build their collider on a worker thread
FULL_BLOCK_MS = 250.0  # a full frame predicted slower than this gets a quick preview first...
PREVIEW_MS = 150.0  # ...at the best level predicted within this (refining in steps)...
FULL_DELAY_S = 0.35  # ...and the full frame only once the camera rested this long
#: a still frame's depth for reprojection (viewer/reproject.py) is drawn this long after it is
#: shown, so the tens of ms it takes never delay the frame; a move within it goes without
REPROJECT_DELAY_MS = 120
THUMB_W = 200  # px: the last full frame, small, for the recovery list (`view_thumbnail`)
# Moving quality ladder: (render scale, fraction of splats by importance).
LEVELS: tuple[tuple[float, float], ...] = (
    (1.0, 1.0),
    (0.8, 1.0),
    (0.66, 0.7),
    (0.5, 0.5),
    (0.5, 0.3),
    # At 1M splats the cut's splat count, not the resolution, limits this rung: the room of
    # bench/render.py --fixed, moving frame vs full frame (SSIM, plain path): 200k @ 1.0
    # 0.869, 200k @ 0.4 0.862, 1M @ 0.4 0.929, 400k @ 0.4 0.917 (15 fps); with the kept
    # frame reprojected 250k @ 0.33 0.868 (23 fps), 300k @ 0.33 0.880 (19 fps), 300k @ 0.25
    # 0.841. Ranking the voxels to expand by projected size x their children's colour
    # spread, or by size² / children, changed SSIM by under 0.003
    (0.4, 0.2),
    # with numpy's BLAS held to one thread (scene/cpu_threads.py) the 1M room of
    # bench/render.py composites 200k @ 0.33 in 42.5 ms a frame (it took 68.5; 33-40 ms
    # with the cut read voxel by voxel, renderer.pack_lod): SSIM vs the full frame 0.853,
    # where 120k @ 0.33 scores 0.811
    (0.33, 0.2),
    (0.33, 0.16),
    (0.33, 0.12),
    # between these two: with moving frames composited on the CPU (software GL) the room
    # of bench/render.py at 1M splats drew 70k @ 0.25 where 80k @ 0.33 fits too (SSIM vs the
    # full frame 0.702 -> 0.743, 26.8 -> 28.3 dB, 30 -> 26 fps); 300k and the office world
    # keep their levels
    (0.33, 0.08),
    (0.25, 0.07),
    (0.25, 0.04),
    (0.2, 0.025),
    # a generated world (1.3-1.6 M splats) drew 40k splats at the rung above; these draw
    # its coarse level alone (about 20k merged splats in view) for 1 dB less (moving frame
    # vs full frame: 32.3 -> 31.2 dB). The office world walked in the app: 40 -> 30 ms of
    # render per frame on an idle machine, 54 -> 36 ms (10.1 -> 15.3 fps) on a loaded one
    (0.2, 0.018),
    (0.2, 0.013),
)

MOVE_KEYS = frozenset(
    {"w", "a", "s", "d", "q", "e", "space", "ctrl", "up", "down", "left", "right"}
)
KEY_NAMES = {
    Qt.Key.Key_W: "w",
    Qt.Key.Key_A: "a",
    Qt.Key.Key_S: "s",
    Qt.Key.Key_D: "d",
    Qt.Key.Key_Q: "q",
    Qt.Key.Key_E: "e",
    Qt.Key.Key_Space: "space",
    Qt.Key.Key_Control: "ctrl",
    Qt.Key.Key_Shift: "shift",
    Qt.Key.Key_Up: "up",
    Qt.Key.Key_Down: "down",
    Qt.Key.Key_Left: "left",
    Qt.Key.Key_Right: "right",
}


class AdaptiveQuality:
    """Chooses (render scale, max splats) for moving frames from measured frame times.

    Frame time is modelled as `fixed + var × cost(level)`, cost(level) =
    fraction · (0.3 + 0.7 · scale²) (vertex work scales with splats, fill with pixels too),
    fitted by least squares to the last frames' (cost, ms). The moving level is the
    best-quality one predicted to fit the budget, so a slow machine drops to a cheap level
    after one slow frame, and comes back up when frames get fast.

    The first frame ever drawn at a level pays one-off costs (buffers, shader variants:
    3× a settled frame on llvmpipe) and is left out of the fit. The model's fixed part is
    poorly known from cheap levels alone, so after PROBE_AFTER frames comfortably inside
    the budget the controller tries the next better level; a level that then misses the
    budget is not tried again for PROBE_BACKOFF frames. Quality drops as far as the model
    says at once, and rises one level at a time.

    The first moving frames after a scene opens (SEED_FRAMES; `new_scene`) take the best
    level that SEED_FACTOR × the last full frame's time × its cost fits in the budget: the
    model fitted to full frames alone underrates moving frames, so a walk's first frame
    came out at 300k splats @ 0.5 on a 1M-splat scene (150 ms), then at the cheapest
    level, climbing back two frames a level for most of a second.
    """

    HISTORY = 16
    #: raise quality only when the better level is predicted this far inside the budget. At
    #: 0.85 a walk on bench/render.py's 1M room sat at 120-160k @ 0.33 or 200k @ 0.4 by the
    #: machine's noise (frames at either take 37-42 ms of a 45 ms budget, so the better one
    #: was predicted just over 0.85 and its frames were never calm enough to probe it).
    #: Moving SSIM with the kept frame reprojected (the app's path), 8 runs at 0.85:
    #: 0.811-0.857, mean 0.828; 12 at 0.92: 0.828-0.865, mean 0.848. Without reprojection
    #: 0.839 -> 0.836 (noise); 300k unchanged; 24-32 fps either way
    RAISE_MARGIN = 0.92
    CALM = 0.8  # a frame this far inside the budget is comfortably inside it
    PROBE_AFTER = 8  # frames comfortably inside the budget before trying a better level
    PROBE_BACKOFF = 48  # frames before a level that missed the budget is tried again...
    #: ... a third of that when it missed by at most this factor: on this 2-core machine
    #: the 1M room's 200k @ 0.33 takes 33-45 ms in a 45 ms budget, and one frame at 47 ms
    #: kept a walk at the level below for the rest of it (2.4 s)
    NEAR_MISS = 1.1
    #: moving frames cost this many times what the cost model scaled from a full frame
    #: says, at most (the cut's selection and sort, the upscale, the reprojection; on this
    #: 2-core machine 3.5-3.6x for bench/render.py's room at 300k and 1M splats, 8.6x for
    #: the office world in the app): a first frame too costly sends the walk to the
    #: cheapest level for the climb back, one too cheap climbs in a few frames
    SEED_FACTOR = 8.0
    #: ... for the first this many moving frames (a walker landing as a scene opens draws one
    #: or two before the user walks)
    SEED_FRAMES = 3
    #: a moving frame over this many times the budget drops quality at once (else one
    #: level, unless the frame before missed too)
    HARD_MISS = 1.6
    # Measured and not kept: keeping a level settled for 3 frames after one miss, and a
    # first walk's slope from the line through its seed frame and the last full frame (not
    # the seed frame alone): bench/render.py's 1M room, 6 runs each, moving SSIM 0.833 ->
    # 0.831. Its moving frames take 35-40 ms from 80k @ 0.33 to 200k @ 0.4, with one in ~12
    # at 45-90 ms, so the level follows the machine's noise whatever the rules
    #: a moving frame over this many times its level's predicted time (and the budget),
    #: after one that was not, is a spike (see `record`); a second in a row counts
    SPIKE = 1.8

    def __init__(self, target_ms: float = TARGET_MS, overhead_prior_ms: float = 0.0) -> None:
        """overhead_prior_ms: what the budget leaves for the window until the overhead has
        been measured (`record_interval`)."""
        self.target_ms = target_ms
        self.overhead_prior_ms = overhead_prior_ms
        self._intervals = 0  # overheads measured
        self.level = 0  # index into LEVELS used while moving
        self.enabled = True
        self.last_ms = 0.0  # last frame's time
        self.full_ms = 0.0  # last full-quality frame's time
        self.overhead_ms = 0.0  # frame interval minus render time while moving (EMA)
        self.fixed_ms = 2.0  # fitted level-independent cost
        self.var_ms = 0.0  # fitted cost of a full frame above fixed_ms
        self._samples: list[tuple[float, float]] = []  # (cost, ms)
        self._seen: set[int] = set()  # levels drawn at least once (first frames skipped)
        self._calm = 0  # consecutive frames comfortably inside the budget
        self._frame = 0
        #: level -> (frame number it last missed the budget, frames before it is probed again)
        self._missed: dict[int, tuple[int, int]] = {}
        self._missed_last = False  # the last moving frame missed the budget
        self._spiked = False  # the last moving frame was a spike (`record`)
        self._timed_moving = 0  # moving frames recorded since a full frame was timed

    @staticmethod
    def cost(level: int) -> float:
        scale, frac = LEVELS[level]
        return frac * (0.3 + 0.7 * scale * scale)

    def predicted_ms(self, level: int) -> float:
        return self.fixed_ms + self.var_ms * self.cost(level)

    def setting(self, moving: bool, total: int) -> tuple[float, int | None]:
        """(render scale, max_splats or None) for the next frame."""
        if not moving or not self.enabled:
            return 1.0, None
        if self._timed_moving < self.SEED_FRAMES and self.full_ms > 0.0:
            self.level = self.seed_level()
        return self.setting_for(self.level, total)

    def new_scene(self) -> None:
        """Another scene is shown: its first walk is seeded again (SEED_FRAMES) and the
        frame times of the last one are forgotten; the window's overhead is kept."""
        self._samples.clear()
        self._seen.clear()
        self._missed.clear()
        self._timed_moving = 0
        self._calm = 0
        self.full_ms = 0.0
        self.fixed_ms, self.var_ms = 2.0, 0.0

    def seed_level(self) -> int:
        """The best level predicted to fit the budget from the last full frame's time alone
        (SEED_FACTOR × full_ms × cost), the cheapest when none does."""
        budget = self.budget_ms
        return next(
            (
                i
                for i in range(len(LEVELS))
                if self.SEED_FACTOR * self.full_ms * self.cost(i) <= budget
            ),
            len(LEVELS) - 1,
        )

    @staticmethod
    def setting_for(level: int, total: int) -> tuple[float, int | None]:
        scale, frac = LEVELS[level]
        k = None if frac >= 1.0 else max(int(total * frac), min(total, MIN_SPLATS))
        return scale, k

    def preview_level(self) -> int:
        """Best level predicted to render within PREVIEW_MS (shown before a slow full frame)."""
        return next(
            (i for i in range(1, len(LEVELS)) if self.predicted_ms(i) <= PREVIEW_MS),
            len(LEVELS) - 1,
        )

    def _fit(self) -> None:
        c = np.array([s[0] for s in self._samples])
        t = np.array([s[1] for s in self._samples])
        if np.ptp(c) > 0.05 and len(c) >= 3:
            a = np.stack([np.ones_like(c), c], 1)
            w = 0.8 ** np.arange(len(c))[::-1]  # newer frames count more
            sol, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
            fixed, var = float(sol[0]), float(sol[1])
            if var > 0 and fixed >= 0:
                self.fixed_ms, self.var_ms = fixed, var
                return
        # Not enough spread to fit both: keep the slope once known and move the fixed part
        # to the newest frame (a cheap level's time says little about the slope; taking
        # it as all slope, a frame faster than the fixed part made every level look cheap
        # and sent a walk to full quality: a 340 ms stall every ~20 frames)
        cost, ms = self._samples[-1]
        if self.var_ms > 0:
            self.fixed_ms = max(ms - self.var_ms * cost, 0.0)
            if ms <= 0.5 * self.budget_ms:
                # frames far inside the budget: the slope may be stale (the machine got
                # faster, or it came from a slow start); let it shrink so better levels
                # are tried, one at a time
                self.var_ms *= 0.8
        else:
            self.var_ms = max(ms - self.fixed_ms, 0.1) / cost

    def record(
        self,
        moving: bool,
        frame_ms: float,
        level: int | None = None,
        one_off: bool = True,
        empty: bool = False,
    ) -> None:
        """Feed back one frame's time (drawn at `level`, default: the moving level if
        moving, else full quality). one_off: a level's first frame may carry one-off costs
        (GL buffers and shader variants) and is left out; False for frames composited on
        the CPU, which have none past the first moving frame: each level of a climb then
        takes one frame, not two (the first walk on bench/render.py's 1M room took 9-13
        frames from its seed to 200k splats @ 0.33, and scored its first frames at
        80-120k). empty: the frame drew nothing (the scene still uploading, or nothing of
        it in view); it says nothing about what a level costs and is left out. A 1M-splat
        file opened in the app draws 3-150 ms empty "full frames" (the window up, the
        splats not yet uploaded) and empty moving frames (the walker landing) before its
        first real frame; fed in, they entered the fit as full frames of the scene and
        spent the first walk's seed frames."""
        if empty:
            return
        self.last_ms = frame_ms
        self._frame += 1
        # (moving frames before any full frame leave the first walk's seed to come)
        self._timed_moving += int(moving and self.full_ms > 0.0)
        used = level if level is not None else (self.level if (moving and self.enabled) else 0)
        if used == 0 and not moving:
            self.full_ms = frame_ms
        if used not in self._seen and moving and used != 0 and (one_off or not self._seen):
            # a level's first frame: one-off costs, not its speed (on the CPU path only the
            # walk's first frame has them: the small targets' allocation, 2x a settled one)
            self._seen.add(used)
            self._missed_last = False
            return
        spike = (
            moving
            and used == self.level
            and len(self._samples) >= 3
            and self.var_ms > 0.0
            and frame_ms > self.SPIKE * max(self.predicted_ms(used), self.budget_ms)
            and not self._spiked
        )
        self._spiked = spike
        if spike:
            # one frame far slower than its level has been (a collection, another process
            # taking a core): one level down for safety, but it neither enters the fit nor
            # bars the level for PROBE_BACKOFF frames. One 85 ms frame at 200k @ 0.33 (38 ms
            # a frame) kept bench/render.py's 1M walk at the level below for the rest of it.
            self.level = min(self.level + 1, len(LEVELS) - 1)
            self._calm = 0
            return
        self._samples = (self._samples + [(self.cost(used), float(frame_ms))])[-self.HISTORY :]
        self._fit()
        budget = self.budget_ms
        missed = moving and used == self.level and frame_ms > budget
        if missed:
            # a level a little over the budget is tried again sooner than one far over it
            near = frame_ms <= self.NEAR_MISS * budget
            self._missed[used] = (
                self._frame,
                self.PROBE_BACKOFF // 3 if near else self.PROBE_BACKOFF,
            )
        best = next(
            (i for i in range(len(LEVELS)) if self.predicted_ms(i) <= budget), len(LEVELS) - 1
        )
        # One frame a little over the budget (a collection, a background sort finishing)
        # drops one level; a frame far over it, or a second miss in a row, drops as far
        # as the model says. Dropping at once after every slow frame sent bench/render.py's
        # 1M walk from 80k @ 0.33 to 20k @ 0.2 and climbing back, frame by frame: moving
        # frames flickered sharp / blurry.
        if (
            best > self.level + 1
            and missed
            and frame_ms < self.HARD_MISS * budget
            and not self._missed_last
        ):
            best = self.level + 1
        # ... also when the model still says it fits: fitted to frames of other levels it
        # lags the one drawn, and a level a little over the budget was kept for 4-5 frames
        if missed and best <= self.level:
            best = min(self.level + 1, len(LEVELS) - 1)
        self._missed_last = missed
        # Hysteresis: only raise quality when the better level fits comfortably; a level
        # that missed the budget within its backoff (`_barred`) only when it fits by the
        # calm margin: fitted to full frames too, the model can underrate a level just
        # measured over the budget, and raised to it again at RAISE_MARGIN the walk of
        # test_render_state's first-walk test went between two levels every frame or two
        # (a sharp / blurry flicker)
        if best < self.level:
            best = next(
                (
                    i
                    for i in range(best, self.level)
                    if self.predicted_ms(i)
                    <= (self.CALM if self._barred(i) else self.RAISE_MARGIN) * budget
                ),
                self.level,
            )
        # one level up at a time: jumping several levels up and straight back (20k splats
        # @ 0.2 <-> 120k @ 0.33 on the 1M room) flickered sharp / blurry frame by frame as a
        # walk came to rest (a trial); where a level's first frame is not measured (GL), a
        # climb takes two frames a level
        best = max(best, self.level - 1)
        # Probe: many calm frames at this level and a better one not recently missed
        self._calm = self._calm + 1 if frame_ms <= self.CALM * budget else 0
        if best == self.level and self.level > 0 and self._calm >= self.PROBE_AFTER:
            up = self.level - 1
            if not self._barred(up):
                best, self._calm = up, 0
        self.level = best

    def _barred(self, level: int) -> bool:
        """The level missed the budget within its backoff (PROBE_BACKOFF, a third of it
        for a near miss): not probed, and raised to only when predicted within CALM of
        the budget."""
        when, backoff = self._missed.get(level, (-(10**9), 0))
        return self._frame - when <= backoff

    @property
    def budget_ms(self) -> float:
        """Render time allowed per moving frame: the frame-interval target less the measured
        overhead (compositing, swap, event loop; `overhead_prior_ms` before any was
        measured), at least 40 % of the target."""
        over = self.overhead_ms if self._intervals else self.overhead_prior_ms
        return max(self.target_ms - over, 0.4 * self.target_ms)

    def record_interval(self, interval_ms: float, render_ms: float) -> None:
        """Feed back the time between two consecutive moving frames and the render time of
        the second: what the window adds per frame beyond rendering."""
        extra = max(0.0, interval_ms - render_ms)
        self.overhead_ms = extra if not self._intervals else 0.8 * self.overhead_ms + 0.2 * extra
        self._intervals += 1


@dataclass
class FrameInfo:
    """What the status bar shows about the last frame."""

    fps: float = 0.0
    frame_ms: float = 0.0
    splats_drawn: int = 0
    splats_total: int = 0
    scale: float = 1.0
    full_quality: bool = True
    moving: bool = False
    triangles: int = 0  # mesh triangles drawn


class ViewportCore:
    """Shows a World through SplatRenderer and moves the camera with Navigator: the
    viewport's behaviour, mixed into a widget that gives it an OpenGL framebuffer
    (`Viewport`: a QOpenGLWidget; `RasterViewport`: an offscreen one, painted as an image).
    `make_viewport` picks one."""

    background_error = pyqtSignal(str)  # a background failure worth showing (logged)
    status_hint = pyqtSignal(str)  # a word for the status bar (a key that did nothing)
    frame_drawn = pyqtSignal(object)  # FrameInfo (while moving: at most every UI_UPDATE_S)
    camera_changed = pyqtSignal()
    #: (slot, name of the bookmark it replaced ('' none), the slot Ctrl+number asked for)
    bookmark_saved = pyqtSignal(int, str, int)
    clicked = pyqtSignal(
        float, float, object
    )  # left click without a drag: x, y (widget px), modifiers
    _sort_ready = pyqtSignal()
    _collider_ready = pyqtSignal(object, object)  # (token, collider)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 200)
        self.world: Any = None
        self.nav = Navigator()
        self.quality = AdaptiveQuality(overhead_prior_ms=OVERHEAD_PRIOR_MS)
        self.info = FrameInfo()
        self.renderer: Any = None
        self.renderer_error: str | None = None
        try:
            from .renderer import SplatRenderer

            self.renderer = SplatRenderer(on_sort_done=self._sort_ready.emit)
        except Exception as exc:  # noqa: BLE001 - the window still works without a renderer
            self.renderer_error = f"renderer unavailable: {exc}"
            log.error("renderer unavailable", exc_info=exc)
        self._sort_ready.connect(self._on_sort_ready)
        self._collider_ready.connect(self._apply_collider)
        self._collider_debounce = QTimer(self)
        self._collider_debounce.setSingleShot(True)
        self._collider_debounce.setInterval(250)
        self._collider_debounce.timeout.connect(self._rebuild_collider_async)
        self._collider_token = 0
        #: (token, pos, yaw, pitch) of a pending re-home onto the floor once the collider lands
        self._rehome: tuple[int, np.ndarray, float, float] | None = None
        #: the user picked walk / fly / orbit since this world opened (the app's mode
        #: actions set it): the world's own start mode no longer overrides theirs
        self.mode_from_user = False
        self._hud_mode: str | None = None  # the navigation mode the HUD text was made for
        #: (h, w, 4) uint8 RGBA, bottom row first: what the last paintGL left in the
        #: framebuffer when that was a CPU image (DrawStats.image), else None
        self.shown_image: np.ndarray | None = None
        self._fbo: Any = None
        self._thumb_fbo: Any = None
        #: (h, THUMB_W, 3) uint8: the last full-quality frame, small (None until one is drawn;
        #: dropped with the world): what an autosave shows in the recovery list
        self.view_thumbnail: np.ndarray | None = None
        #: the last still frame, reprojected over moving frames (viewer/reproject.py)
        self.reproject: Any = None
        if self.renderer is not None:
            from .reproject import FrameReprojector

            self.reproject = FrameReprojector()
        #: the cross-fade from the last reduced frame to the full frame at a stop
        self.fade: Any = None
        if self.renderer is not None:
            from .refine_fade import RefineFade

            self.fade = RefineFade()
        self._reproject_timer = QTimer(self)
        self._reproject_timer.setSingleShot(True)
        self._reproject_timer.setInterval(REPROJECT_DELAY_MS)
        self._reproject_timer.timeout.connect(self._finish_reprojection)
        self._last_tick = time.perf_counter()
        self.render_state = RenderState(REST_S, FULL_DELAY_S)  # when to draw what (phases)
        self._last_paint = (0.0, 0.0, False)  # (start, render ms, moving) of the last frame
        self._last_ui = (-1e9, False)  # (time, moving) of the last frame_drawn emitted
        self._last_cam_ui = -1e9  # last camera_changed emitted; a pending one follows
        self._cam_pending = False
        self._frame_times: list[float] = []
        self._drag_button: Qt.MouseButton | None = None
        self._last_mouse = QPoint()
        self.captured = False
        # mouse tools (gizmo, splat selection): press(e) -> True takes the drag
        # (move/release follow)
        self.mouse_tools: list[Any] = []
        self._mouse_tool: Any = None
        #: the layer a mouse tool drags with the camera still (moving frames under the kept
        #: still frame, the layer's old image cut out of it: `_begin_object_drag`)
        self._object_drag: int | None = None
        self._press_at: QPoint | None = None
        from .walk_ring import WalkRingOverlay  # the walkable area's ring (issue 14)

        self.walk_ring = WalkRingOverlay(self)
        self.hud = QLabel(self)
        self.hud.setObjectName("hud")
        self.hud.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_hud_text()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(16)
        # while moving, the next frame is asked for as soon as this one is on screen rather
        # than at the timer's next tick (up to 16 ms later, every frame)
        self.frameSwapped.connect(self._after_swap)

    # ------------------------------------------------------------------ world
    def set_world(self, world: Any, frame: bool = True) -> None:
        """Show `world`; build its collider and put the camera at its home pose."""
        if self.world is not None:
            self.world.unsubscribe(self._on_world)
        self.world = world
        self.view_thumbnail = None  # the last world's picture is no picture of this one
        world.subscribe(self._on_world)
        if self.renderer is not None:
            self.renderer.set_world(world)
        self.quality.new_scene()
        if frame:
            self.mode_from_user = False
        self._setup_navigation(frame=frame)
        self.request_full()

    def _setup_navigation(self, frame: bool = True) -> None:
        world = self.world
        rot = up_rotation(world.up_axis)
        # the scene proper: a reconstruction's sky sphere 1 km out (its far field, marked or
        # not: a file that lost its sidecar) set the start view's centre 300 m up
        lo, hi = world.near_bounds()
        llo, lhi = local_bounds(lo, hi, rot)
        n = sum(
            len(lay.data) for lay in world.visible_layers() if isinstance(lay.data, GaussianCloud)
        )
        big = n > SYNC_COLLIDER_SPLATS
        # a big scene starts on a quick collider from a subset of its splats, so its first
        # frame is drawn from the start pose on the floor (the full collider landing later
        # moved the camera from the framed view outside into the scene: a frame of every
        # splat from outside, then a jump); the full one is built off the GUI thread
        col = None if world.is_empty() else collider_for(world, rot, quick=big)
        units = world.meta.get("units") if isinstance(world.meta, dict) else None
        pos, fwd, mode = self.nav.position_world.copy(), self.nav.forward_world(), self.nav.mode
        from .walk_area import WalkArea  # the generated world's walkable disc (issue 14)

        # before set_scene, whose reset walks into the walkable area: the last world's disc
        # pulled a new world's start into it (tens of metres from its home, in the void)
        self.nav.walk_area = WalkArea.from_world(world, rot)
        self.nav.set_scene(
            llo,
            lhi,
            up_rot=rot,
            collider=col,
            scale=scene_scale(llo, lhi, units),
            focus=lambda: local_bounds(*world.near_bounds(), rot),
        )
        from scene.world import subject_distance

        self.nav.subject_distance = subject_distance(world.meta)
        if frame and world.bookmarks:
            b = world.bookmarks[0]
            self.nav.go_to_bookmark(b)
            from .navigation import Pose

            mode = self.nav.home_mode
            if world.meta.get("start_mode") == "orbit":  # an object reconstructed all round
                mode = "orbit"
            elif col is not None:
                mode = self._bookmark_mode(col, self.nav.pos, mode)
            self.nav.set_home(Pose(self.nav.pos.copy(), self.nav.yaw, self.nav.pitch), mode)
        elif not frame:  # same view and the user's walk/fly/orbit mode (e.g. an up-axis fix)
            self.nav.set_view_world(pos, fwd)
            self.nav.set_mode(mode)
        if big:  # build off the GUI thread; re-home onto the floor if the user hasn't moved
            self._rebuild_collider_async(rehome=frame)

    def _on_world(self, ev: Any) -> None:
        """World events (scene.events): the renderer follows them itself; geometry changes
        rebuild the collider (bookmarks, up axis, renames... do not)."""
        what = ev.what
        geometry = (
            what in ("transform", "visibility", "layers") and getattr(ev, "property", "") != "name"
        )
        if what == "up_axis":
            self._setup_navigation(frame=False)
        elif geometry:
            self._collider_debounce.start()  # e.g. dragging an object: rebuild once it settles
        self.request_full()

    def _bookmark_mode(self, col: Collider, pos: np.ndarray, default: str) -> str:
        """The mode a world opens in at its bookmarked start `pos` (local frame): walk when
        the ground is within WALK_REACH eye heights under the eye (and not nearer than
        WALK_LOW), fly when it lies far below (a drone photo's camera 30 m up would fall to
        the ground at the first step and lose the view that looks like the photo) or close
        under it (a tabletop orbit's cameras would rise to eye height), else `default`.
        Where the column under the start holds no surface (a drone looks ahead, not down),
        the nearest floor column tells the ground's height. An aerial capture
        (World.meta['start_mode'] 'fly', from its report) flies at every photo's camera:
        a floater under a drone's camera read as ground 1 m below the eye."""
        self.nav.walk_eye = None
        if self.world is not None and self.world.meta.get("start_mode") == "fly":
            return "fly"
        g = col.ground_at(pos[0], pos[2], pos[1], self.nav.radius)
        if g is None:
            near = col.nearest_floor(pos[0], pos[2])
            if near is None or near[2] > pos[1]:
                return default
            g = near[2]
        if not self._walk_height(pos[1] - g):
            return "fly"
        # the walk keeps the start view's own eye height: a reconstruction's photo taken
        # 1.27 m over its ground opened 1.6 m up, a grey smear instead of the photo (a trial)
        self.nav.walk_eye = float(pos[1] - g)
        return "walk"

    def _walk_height(self, above: float) -> bool:
        """Whether an eye `above` the ground (local units) is where a walker stands: from
        WALK_LOW to WALK_REACH standard eye heights. A start far above (a drone photo) or
        near the ground (a tabletop orbit) is flown: walking would lose the view it
        bookmarks."""
        eye = self.nav.standard_eye_height
        return WALK_LOW * eye <= above <= WALK_REACH * eye

    def _rebuild_collider_async(self, rehome: bool = False) -> None:
        """Recompute the collider off the GUI thread after an edit (newest edit wins)."""
        from .jobs import background

        self._collider_token += 1
        token, world = self._collider_token, self.world
        rot = self.nav.rot.copy()
        self._rehome = (
            (token, self.nav.pos.copy(), self.nav.yaw, self.nav.pitch) if rehome else None
        )

        def work() -> None:
            try:
                col = collider_for(world, rot)
            except Exception:  # noqa: BLE001 - keep the old collider, but say why
                log.warning(
                    "collider build failed; walking keeps the previous collider", exc_info=True
                )
                if token == self._collider_token:
                    try:
                        self.background_error.emit(
                            "Collision update failed; walking uses the previous shape"
                        )
                    except RuntimeError:  # the widget was deleted meanwhile
                        log.debug("viewport gone before the collider error was shown")
                return
            if token != self._collider_token:
                return  # superseded, or the viewport was closed (release_gl)
            try:
                self._collider_ready.emit(token, col)
            except RuntimeError as exc:  # the widget was deleted while this thread worked
                log.debug("collider ready after the viewport closed: %s", exc)

        background(work, name="collider")  # viewer/jobs.py: the one way to run work off the GUI

    def _apply_collider(self, token: int, col: Collider | None) -> None:
        if token != self._collider_token:
            return
        self.nav.collider = col
        re, self._rehome = self._rehome, None
        if re is not None and re[0] == token and col is not None:
            unmoved = (
                np.allclose(re[1], self.nav.pos)
                and re[2] == self.nav.yaw
                and re[3] == self.nav.pitch
            )
            if self.world is not None and self.world.bookmarks:
                # Keep the bookmarked start view; walk if there is ground under it (an
                # object reconstructed all round is orbited)
                if self.world.meta.get("start_mode") != "orbit":
                    self.nav.home_mode = self._bookmark_mode(
                        col, self.nav.home.position, self.nav.home_mode
                    )
            else:
                self.nav.home, self.nav.home_mode = self.nav.default_home()
            if unmoved:
                home = self.nav.home
                if (
                    np.allclose(home.position, self.nav.pos, atol=0.05)
                    and abs(home.yaw - self.nav.yaw) < 1e-6
                    and abs(home.pitch - self.nav.pitch) < 1e-6
                    and self.nav.home_mode == self.nav.mode
                ):
                    # the quick collider's start pose stands (within the few cm the
                    # walker settles by): no reset (it lifts the walker off the ground, a
                    # moving frame) and no second full frame
                    return
                self.nav.reset()
                self.camera_changed.emit()
            elif not self.mode_from_user and self.nav.home_mode == "walk" != self.nav.mode:
                # looked or moved while the collider was built (seconds for a big scene):
                # keep the view, but walk as the world would have opened, when the floor
                # is within reach under the eye (no fall from a height the user flew to)
                p = self.nav.pos
                g = col.ground_at(p[0], p[2], p[1], self.nav.radius)
                if g is not None and self._walk_height(p[1] - g):
                    self.nav.set_mode("walk")
                    self.camera_changed.emit()
            self.request_full()

    # ------------------------------------------------------------ the loop
    def request_full(self) -> None:
        """Schedule a full-quality repaint."""
        self.render_state.request_full()
        self.update()

    def _on_sort_ready(self) -> None:
        self.render_state.content_changed()
        self.update()

    def _input_held(self) -> bool:
        """A move key or a mouse drag is held (the render state counts it as motion); not a
        key the mode has no use for (`Navigator.moves_with`: Walk's Q, E, Ctrl): holding
        one, or Ctrl for a shortcut, showed a reduced frame for HELD_STILL_S."""
        held = any(self.nav.moves_with(k) for k in self.nav.keys & MOVE_KEYS)
        dragging = self._object_drag is not None and self._mouse_tool is not None
        return held or self._drag_button is not None or dragging

    @property
    def moving(self) -> bool:
        """Camera moved since the last frame, moved recently, or a move key/drag is held
        (a captured pointer counts only while it moves the view)."""
        self.render_state.set_held(self._input_held())
        return self.render_state.moving(time.perf_counter())

    def _after_swap(self) -> None:
        if self._last_paint[2]:  # the frame just shown was a moving one
            self._tick()

    def _tick(self) -> None:
        now = time.perf_counter()
        dt, self._last_tick = now - self._last_tick, now
        if self.nav.mode != self._hud_mode:
            self._hud_mode = self.nav.mode
            self.set_hud_text()
        if self.nav.update(dt):
            self.render_state.camera_moved(now)
            if now - self._last_cam_ui >= UI_UPDATE_S:
                self._last_cam_ui, self._cam_pending = now, False
                self.camera_changed.emit()
            else:
                self._cam_pending = True
        elif self._cam_pending:  # the pose it came to rest at
            self._last_cam_ui, self._cam_pending = now, False
            self.camera_changed.emit()
        self.render_state.set_held(self._input_held())
        if self.render_state.wants_paint(now) or (self.fade is not None and self.fade.active):
            self.update()

    def current_camera(self):
        """The camera the viewport shows now (widget size in device pixels)."""
        w, h = self._fb_size()
        return self.nav.camera(w, h)

    def _fb_size(self) -> tuple[int, int]:
        r = self.devicePixelRatioF()
        return max(1, int(round(self.width() * r))), max(1, int(round(self.height() * r)))

    def set_hud_text(self) -> None:
        """The controls hint in the viewport's corner, for the current mode."""
        m = self.nav.mode
        if m == "orbit":
            text = "<b>Orbit</b> &nbsp; drag to orbit · wheel zoom · A/D Q/E rotate · M mode"
        elif m == "walk":
            text = (
                "<b>Walk</b> &nbsp; WASD move · right-drag look · Shift run · Space jump · "
                "Tab mouse-look · M mode"
            )
        else:
            text = (
                "<b>Fly</b> &nbsp; WASD move · Q/E down/up · right-drag look · Shift fast · "
                "wheel speed · M mode"
            )
        if self.captured and m != "orbit":
            # the cursor is hidden and held: say so, and how to get it back (a trial saw no
            # sign of it)
            text = text.replace("right-drag look", "<b>mouse look on</b> (Tab or Esc: off)")
            text = text.replace(" · Tab mouse-look", "")
        if self.hud.text() != text:
            self.hud.setText(text)
            self.hud.adjustSize()
            self._place_hud()

    def _place_hud(self) -> None:
        """Put the controls hint in the bottom-left corner, wrapped onto more lines where
        the view is narrower than it (a trial's 700-px window cut it to "… Tab n…")."""
        hud = self.hud
        avail = max(self.width() - 28, 120)
        hud.setWordWrap(False)
        hud.adjustSize()
        if hud.width() > avail:
            hud.setWordWrap(True)
            hud.resize(avail, hud.heightForWidth(avail))
        hud.move(14, max(self.height() - hud.height() - 14, 0))

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._place_hud()

    # --------------------------------------------------------------- GL side
    def initializeGL(self) -> None:
        pass

    def paintGL(self) -> None:
        from OpenGL import GL

        from .reproject import draw_scaled

        t0 = time.perf_counter()
        w, h = self._fb_size()
        moving = self.moving
        self.shown_image = None
        if self._fade_step(moving, t0):
            return
        total = self.info.splats_total
        q = self.quality
        plan = self.render_state.plan(
            t0,
            q.predicted_ms(0) if (q.enabled and q.var_ms > 0) else 0.0,
            FULL_BLOCK_MS,
            q.preview_level(),
        )
        preview, level = plan.preview, plan.level
        scale, k = q.setting_for(level, total) if preview else q.setting(moving, total)
        target = self.defaultFramebufferObject()
        if (
            self.renderer is None
            and self.renderer_error
            and self.world is not None
            and not self.world.is_empty()
        ):
            self.hud.setText(f"<span style='color:#ff8080'>{self.renderer_error[:300]}</span>")
            self.hud.adjustSize()
            self._place_hud()
        if self.renderer is None or self.world is None:
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)
            GL.glViewport(0, 0, w, h)
            GL.glClearColor(*BACKGROUND, 1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
            self.render_state.drawn(plan, True, t0)
            return
        cam = self.nav.camera(w, h)
        reduced = not (scale >= 0.999 and k is None)
        if (
            reduced
            and self.reproject is not None
            and self.reproject.pending
            and self.renderer.coarse_level_pending()
        ):
            # a walk begun before a big scene's coarse level is merged: its moving frames are
            # a thin subset of the splats (speckles on black, 20k of 640k in the office
            # world) unless the still frame is warped over them, so its depth is drawn now
            # (tens of ms, once) instead of REPROJECT_DELAY_MS after it was shown
            self._reproject_timer.stop()
            self._finish_kept_frame()
        warp = reduced and self.reproject is not None and self.reproject.usable(self.renderer, cam)
        try:
            if warp or scale < 0.999:  # drawn small and scaled up (reproject.draw_scaled)
                stats = draw_scaled(
                    self.renderer,
                    self.reproject if warp else None,
                    cam,
                    scale,
                    k,
                    target,
                    lambda sw, sh: self._small_fbo(sw, sh).handle(),
                    BACKGROUND,
                )
            else:
                GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target)
                stats = self.renderer.draw(
                    cam, (w, h), max_splats=k, background=BACKGROUND, settled=not moving
                )
            if self.reproject is not None and not reduced and not moving:
                # kept before any overlay; its depth once it is shown
                self.reproject.keep(self.renderer, cam, target)
                self._reproject_timer.start()
            if not reduced and not moving:
                self._keep_thumbnail(target, w, h)
            GL.glFinish()  # honest frame time for the quality controller
            if not reduced:
                self.renderer.frame_shown()
            if moving and reduced:  # nothing is drawn over a moving frame below
                self.shown_image = stats.image
            if self.fade is not None:  # moving frames kept; frames at rest fade in over them
                if moving and reduced:
                    self.fade.keep_previous(target, w, h)
                elif moving:
                    self.fade.cancel()
                elif self.fade.fade_to(target, w, h, time.perf_counter(), chain=reduced):
                    self.fade.draw(target, time.perf_counter())  # still the frame before
        except Exception as exc:  # noqa: BLE001 - show it, don't crash the event loop
            self.renderer_error = f"render failed: {exc}"
            log.error("render failed", exc_info=exc)
            self.render_state.failed()
            self.hud.setText(f"<span style='color:#ff8080'>{self.renderer_error[:300]}</span>")
            self.hud.adjustSize()
            self._place_hud()
            return
        ms = (time.perf_counter() - t0) * 1000.0
        full = scale >= 0.999 and k is None
        prev_t0, prev_ms, prev_moving = self._last_paint
        empty = not (stats.splats_drawn or stats.triangles)  # uploading, or nothing in view
        if moving and prev_moving and t0 - prev_t0 < 0.25:  # budget what the window adds
            self.quality.record_interval((t0 - prev_t0) * 1000.0, prev_ms)
        self._last_paint = (t0, ms, moving and not empty)
        # the kept frame's reprojection is left out: its cost does not depend on the level
        # (llvmpipe: 15-25 ms a frame for half a second of a walk), and counted in it sent
        # the first walk to the cheapest level, still climbing back when it ended
        level_ms = ms - stats.warp_ms
        self.quality.record(moving, level_ms, level, one_off=stats.cpu_ms <= 0.0, empty=empty)
        if os.environ.get("WANDER_DEBUG_FRAMES"):
            print(
                f"frame t={time.time():.3f} drawn={stats.splats_drawn} "
                f"total={stats.splats_total} "
                f"up={stats.gpu_upload_ms:.0f} sort={stats.sort_ms:.0f} cpu={stats.cpu_ms:.0f} "
                f"moving={moving} scale={scale} k={k} ms={ms:.1f} "
                f"level={self.quality.level} var={self.quality.var_ms}",
                flush=True,
            )
        now = time.perf_counter()
        self._frame_times = [t for t in self._frame_times if now - t < 1.0] + [now]
        self.info = FrameInfo(
            fps=self._fps(),
            frame_ms=ms,
            splats_drawn=stats.splats_drawn,
            splats_total=stats.splats_total,
            triangles=int(stats.triangles),
            scale=scale,
            full_quality=full,
            moving=moving,
        )
        # a finished background sort repaints via _sort_ready; a reduced frame drawn without
        # the camera moving (a modifier pressed, a click) is still refined at rest
        self.render_state.drawn(plan, full, now)
        last_t, last_moving = self._last_ui
        if not moving or not last_moving or now - last_t >= UI_UPDATE_S:
            self._last_ui = (now, moving)
            self.frame_drawn.emit(self.info)

    def _fade_step(self, moving: bool, now: float) -> bool:
        """Draw the next step of a cross-fade (viewer/refine_fade.py) when one is under way
        and no new frame is due; True when it did (nothing else to draw). A move or a
        resize ends the fade; a frame due at rest (the full frame after a preview, an edit)
        is drawn instead, and fades in over the blend shown now (paintGL)."""
        fade = self.fade
        if fade is None or not fade.active:
            return False
        rs = self.render_state
        if moving or fade.size != self._fb_size():
            fade.cancel()
            return False
        if rs.wants_paint(now):  # a frame is due: drawn, it fades in over this blend
            return False
        from OpenGL import GL

        try:
            fade.draw(self.defaultFramebufferObject(), now)
        except Exception:  # noqa: BLE001 - the full frame is drawn again instead; logged
            log.warning("cross-fade step failed", exc_info=True)
            fade.cancel()
            return False
        GL.glFinish()
        return True

    def _finish_reprojection(self) -> None:
        """The kept still frame's depth and mesh, once it is on screen and the view rests
        (tens of ms: not in any frame's time)."""
        if self.reproject is None or not self.reproject.pending or self.renderer is None:
            return
        if self.fade is not None and self.fade.active:  # tens of ms: after the fade's steps
            self._reproject_timer.start()
            return
        if self.moving:  # a moving frame is being drawn: the next still frame is kept instead
            self.reproject.invalidate()
            return
        self.makeCurrent()
        self._finish_kept_frame()
        self.doneCurrent()

    def _begin_object_drag(self, tool: Any) -> None:
        """A mouse tool took a drag of one layer (the gizmo's `drag.layer_id`) with the
        camera still: the kept still frame (finished now if it waits) stays on screen with
        that layer's image cut out of it, over moving frames that show the layer where it
        is dragged (and, where it was, what was behind it). Dragging an object over a
        million-splat world drew blurred moving frames of the whole world, or full frames
        at 4-6 fps (a trial). Nothing changes when no frame is kept for this view."""
        layer_id = getattr(getattr(tool, "drag", None), "layer_id", None)
        if layer_id is None or self.world is None:
            return
        if self.reproject is None or self.renderer is None:
            return
        try:
            lay = self.world.layer(layer_id)
        except KeyError:
            return
        from .reproject import footprint_mask

        self.makeCurrent()
        try:
            if self.reproject.pending:
                self._finish_kept_frame()
            grid = self.reproject.grid_camera()
            cam = self.nav.camera(*self._fb_size())
            if grid is None or not self.reproject.usable(self.renderer, cam):
                return
            self.reproject.cut_out(footprint_mask(lay, grid))
            self._object_drag = layer_id
        except Exception:  # noqa: BLE001 - the drag goes on with plain moving frames; logged
            log.warning("keeping the still frame for a drag failed", exc_info=True)
        finally:
            self.doneCurrent()

    def _finish_kept_frame(self) -> None:
        """`reproject.finish` in the current GL context; on failure the kept frame is
        dropped (moving frames just go without it) and the error logged."""
        try:
            self.reproject.finish(self.renderer)
        except Exception:  # noqa: BLE001 - moving frames just go without it; logged
            log.warning("keeping the frame for reprojection failed", exc_info=True)
            self.reproject.invalidate()

    def _fps(self) -> float:
        ts = self._frame_times
        if len(ts) < 2:
            return 1000.0 / max(self.info.frame_ms, 1e-3) if self.info.frame_ms else 0.0
        return (len(ts) - 1) / max(ts[-1] - ts[0], 1e-6)

    def _keep_thumbnail(self, source: int, w: int, h: int) -> None:
        """`view_thumbnail`: the full-quality frame in framebuffer `source` (w × h), scaled
        to THUMB_W pixels wide (a blit and a read of ~20k pixels: about a millisecond)."""
        from OpenGL import GL
        from PyQt6.QtOpenGL import QOpenGLFramebufferObject

        tw = THUMB_W
        th = max(1, round(tw * h / max(w, 1)))
        fbo = self._thumb_fbo
        if fbo is None or (fbo.width(), fbo.height()) != (tw, th):
            fbo = self._thumb_fbo = QOpenGLFramebufferObject(tw, th)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, source)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, fbo.handle())
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, tw, th, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo.handle())
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        raw = GL.glReadPixels(0, 0, tw, th, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, source)
        self.view_thumbnail = np.frombuffer(raw, np.uint8).reshape(th, tw, 3)[::-1].copy()

    def _small_fbo(self, w: int, h: int):
        from PyQt6.QtOpenGL import QOpenGLFramebufferObject

        if self._fbo is None or (self._fbo.width(), self._fbo.height()) != (w, h):
            self._fbo = QOpenGLFramebufferObject(
                w, h, QOpenGLFramebufferObject.Attachment.CombinedDepthStencil
            )
        return self._fbo

    def render_to_image(self, width: int, height: int, camera: Any = None) -> np.ndarray:
        """Full-quality render at any size, offscreen through the same renderer, (H, W, 3) uint8.

        A size larger than the GPU's real limits (GL_MAX_RENDERBUFFER_SIZE, _TEXTURE_SIZE,
        _VIEWPORT_DIMS) or than it can allocate at once is rendered in tiles (off-centre
        crops of the same camera). Raises RenderSizeError (a ValueError) when even small
        tiles fail, ValueError for sizes outside 1..16384, RuntimeError without a renderer.
        """
        from .offscreen import MAX_TILE, MIN_TILE, RenderSizeError, gl_limits

        width, height = int(width), int(height)
        if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
            raise ValueError(
                f"screenshot size must be 1..{MAX_IMAGE_SIDE} pixels a side, got {width}x{height}"
            )
        if self.renderer is None:
            raise RuntimeError(self.renderer_error or "no renderer")
        cam = (
            camera.resized(width, height) if camera is not None else self.nav.camera(width, height)
        )
        out = np.empty((height, width, 3), np.uint8)
        self.makeCurrent()
        try:
            mw, mh = gl_limits().max_side
            tile = min(MAX_TILE, mw, mh)
            if width <= tile and height <= tile:
                tile = max(width, height)
            while not self._render_tiles(cam, out, tile):
                if tile <= MIN_TILE:
                    raise RenderSizeError(
                        f"cannot render a {width}x{height} screenshot on this "
                        f"GPU (limit {mw}x{mh}): try a smaller size"
                    )
                tile = max(MIN_TILE, tile // 2)
                log.info("screenshot framebuffer failed: retrying with %d px tiles", tile)
        finally:
            self.doneCurrent()
        self.request_full()
        return out

    def _render_tiles(self, cam: Any, out: np.ndarray, tile: int) -> bool:
        """Fill `out` (H, W, 3) uint8 in tiles of at most `tile` px; False when the GPU
        could not make a framebuffer that big (nothing is drawn to the screen)."""
        from OpenGL import GL
        from PyQt6.QtOpenGL import QOpenGLFramebufferObject

        from .offscreen import tile_camera

        height, width = out.shape[:2]
        sync = self.renderer.sync_sort
        self.renderer.sync_sort = True
        try:
            for y0 in range(0, height, tile):
                for x0 in range(0, width, tile):
                    w, h = min(tile, width - x0), min(tile, height - y0)
                    fbo = QOpenGLFramebufferObject(
                        w, h, QOpenGLFramebufferObject.Attachment.CombinedDepthStencil
                    )
                    if not fbo.isValid():
                        GL.glGetError()  # clear the failed allocation's error
                        return False
                    fbo.bind()
                    c = cam if (w, h) == (width, height) else tile_camera(cam, x0, y0, w, h)
                    self.renderer.draw(c, (w, h), max_splats=None, background=BACKGROUND)
                    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
                    raw = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
                    fbo.release()
                    del fbo
                    out[y0 : y0 + h, x0 : x0 + w] = np.frombuffer(raw, np.uint8).reshape(h, w, 3)[
                        ::-1
                    ]
        finally:
            self.renderer.sync_sort = sync
        return True

    def release_gl(self) -> None:
        """Free GL resources and stop every timer, subscription and pending worker result
        (on close): nothing may call back into a widget that Qt is about to delete."""
        self.timer.stop()
        self._collider_debounce.stop()
        self._reproject_timer.stop()
        self._collider_token += 1  # a collider still being built is dropped when it lands
        if self.renderer is not None:
            self.renderer.on_sort_done = None  # a pack/sort finishing later must not emit here
        if self.world is not None:
            self.world.unsubscribe(self._on_world)
        if self.renderer is not None:
            try:
                self.makeCurrent()
                self.renderer.release()
                if self.reproject is not None:
                    self.reproject.release()
                if self.fade is not None:
                    self.fade.release()
                self._fbo = self._thumb_fbo = None
                self.doneCurrent()
            except Exception:  # noqa: BLE001 - closing must go on; the failure is logged
                log.warning("releasing the renderer's GL objects failed", exc_info=True)

    # ------------------------------------------------------------------ input
    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.isAutoRepeat():
            return
        key = Qt.Key(e.key())
        mods = e.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if ctrl and key != Qt.Key.Key_Control:
            self.nav.modifier_used()  # Ctrl+key is a shortcut, not a descent
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            n = int(key) - int(Qt.Key.Key_1)
            if ctrl:
                self.save_bookmark(n)
            elif not self.go_to_bookmark(n) and self.world is not None:
                count = len(self.world.bookmarks)
                if n == count:
                    hint = f"No bookmark {n + 1} yet: Ctrl+{n + 1} keeps this view there"
                elif count == 0:
                    hint = "No bookmarks yet: Ctrl+1 keeps this view as bookmark 1"
                else:  # bookmarks are numbered in order (a trial looped on Ctrl+3 / 3)
                    there = "is 1" if count == 1 else f"are {count}"
                    hint = (
                        f"No bookmark {n + 1}: there {there}; Ctrl+{count + 1} keeps this "
                        f"view as bookmark {count + 1}"
                    )
                self.status_hint.emit(hint)
            return
        if key == Qt.Key.Key_R and not ctrl:
            self.nav.reset()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.nav.scroll(1)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.nav.scroll(-1)
        elif key in (Qt.Key.Key_Tab, Qt.Key.Key_F) and not ctrl:
            self.set_captured(not self.captured)
        elif key == Qt.Key.Key_Escape and self.captured:
            self.set_captured(False)
        elif key in KEY_NAMES and not (ctrl and key != Qt.Key.Key_Control):
            self.nav.key_down(KEY_NAMES[key])
            if not self.nav.moves_with(KEY_NAMES[key]):
                return  # it moves nothing in this mode: no reduced frame
        else:
            super().keyPressEvent(e)
            return
        self.render_state.camera_moved(time.perf_counter())
        self.update()

    def event(self, e: QEvent) -> bool:
        # a menu shortcut (Ctrl+S) never reaches keyPressEvent: Qt asks the focus widget
        # first with ShortcutOverride, which is where Ctrl is seen going with a key
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent):
            if e.modifiers() & Qt.KeyboardModifier.ControlModifier and e.key() != int(
                Qt.Key.Key_Control
            ):
                self.nav.modifier_used()
        return super().event(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:
        if e.isAutoRepeat():
            return
        key = Qt.Key(e.key())
        if key in KEY_NAMES:
            self.nav.key_up(KEY_NAMES[key])
        else:
            super().keyReleaseEvent(e)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False

    def focusOutEvent(self, e) -> None:
        self.nav.release_all()
        if self.captured:
            self.set_captured(False)
        super().focusOutEvent(e)

    def set_captured(self, on: bool) -> None:
        """Captured-pointer mouse look: cursor hidden and recentred after every move (the
        controls hint says it is on)."""
        self.captured = on
        self.set_hud_text()
        self.setMouseTracking(on)
        if on:
            self.setCursor(Qt.CursorShape.BlankCursor)
            QCursor.setPos(self.mapToGlobal(self.rect().center()))
            self.grabMouse()
        else:
            self.releaseMouse()
            self.unsetCursor()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self.setFocus()
        self._mouse_tool = (
            None if self.captured else next((t for t in self.mouse_tools if t.press(e)), None)
        )
        if self._mouse_tool is not None:
            self._begin_object_drag(self._mouse_tool)
            return
        self._press_at = e.position().toPoint() if e.button() == Qt.MouseButton.LeftButton else None
        self._drag_button = e.button()
        self._last_mouse = e.position().toPoint()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._mouse_tool is not None:
            tool, self._mouse_tool = self._mouse_tool, None
            self._object_drag = None  # the edit lands next: the kept frame goes with it
            tool.release(e)
            return
        at, self._press_at = self._press_at, None
        if (
            at is not None
            and e.button() == Qt.MouseButton.LeftButton
            and not self.captured
            and (e.position().toPoint() - at).manhattanLength() <= 4
        ):
            self.clicked.emit(e.position().x(), e.position().y(), e.modifiers())
        if e.button() == self._drag_button:
            self._drag_button = None

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._mouse_tool is not None:
            self._mouse_tool.move(e)
            if self._object_drag is not None and self.reproject is not None:
                self.reproject.accept_edit(self.renderer)  # only the dragged layer moved
                # the object moving is motion: moving frames under the kept one (held
                # input with a still camera stops counting after HELD_STILL_S)
                self.render_state.camera_moved(time.perf_counter())
            return
        p = e.position().toPoint()
        if self.captured:
            c = self.rect().center()
            dx, dy = p.x() - c.x(), p.y() - c.y()
            if dx or dy:
                self.nav.look(dx, dy)
                QCursor.setPos(self.mapToGlobal(c))
            return
        dx, dy = p.x() - self._last_mouse.x(), p.y() - self._last_mouse.y()
        self._last_mouse = p
        if self._drag_button is None or not (dx or dy):
            return
        if self.nav.mode == "orbit" and self._drag_button == Qt.MouseButton.LeftButton:
            self.nav.orbit(dx, dy)
        elif self._drag_button in (Qt.MouseButton.RightButton, Qt.MouseButton.LeftButton):
            self.nav.look(dx, dy)

    def wheelEvent(self, e: QWheelEvent) -> None:
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.nav.scroll(steps)
            self.render_state.camera_moved(time.perf_counter())
            self.update()

    # -------------------------------------------------------------- bookmarks
    def current_view(self) -> dict:
        """The view as a project keeps it (World.meta['view'], written on save): world
        position, yaw and pitch (radians, world frame, +Y up), vertical FOV (degrees), the
        navigation mode. `restore_view` reads it back."""
        pos, yaw, pitch = self.nav.bookmark_view()
        return {
            "position": [float(v) for v in pos],
            "yaw": float(yaw),
            "pitch": float(pitch),
            # the vertical FOV this window shows (a photo's framing fitted), as Ctrl+number
            "fov_y_deg": float(self.nav.view_fov_y(max(self.width(), 1) / max(self.height(), 1))),
            "mode": self.nav.mode,
        }

    def restore_view(self, view: Any) -> bool:
        """Go to a view `current_view` wrote (a reopened project shows where its user left
        it; R still goes to its start). The record is untrusted: anything but finite
        numbers in range is ignored (False, nothing changes); a view saved orbiting opens
        in the mode the world opens in."""
        if self.world is None or not isinstance(view, dict):
            return False
        try:
            pos = np.asarray(view["position"], np.float64).reshape(3)
            yaw, pitch = float(view["yaw"]), float(view["pitch"])
            fov = float(view.get("fov_y_deg", self.nav.fov_y_deg))
        except (KeyError, TypeError, ValueError):
            return False
        nums = np.array([*pos, yaw, pitch, fov])
        if not np.isfinite(nums).all() or np.abs(pos).max() > 1e7 or not 1.0 <= fov <= 170.0:
            return False
        from scene.world import Bookmark

        mode = view.get("mode")
        if mode in ("walk", "fly") and mode != self.nav.mode:
            self.nav.set_mode(mode)
        self.nav.go_to_bookmark(Bookmark("view", pos, yaw, pitch, fov))
        self.camera_changed.emit()
        self.request_full()
        return True

    def save_bookmark(self, index: int) -> None:
        """Ctrl+number: store the current view in World.bookmarks[index]."""
        if self.world is None:
            return
        from scene.world import Bookmark

        pos, yaw, pitch = self.nav.bookmark_view()
        fov = self.nav.view_fov_y(max(self.width(), 1) / max(self.height(), 1))
        marks = self.world.bookmarks
        # bookmarks are numbered in order: past the end, the view becomes the next one
        at = min(index, len(marks))
        bm = Bookmark(f"View {at + 1}", pos, yaw, pitch, fov)
        replaced = marks[at].name if at < len(marks) else ""
        self.bookmark_saved.emit(self.world.set_bookmark(at, bm), replaced, index)  # undoable

    def go_to_bookmark(self, index: int) -> bool:
        """Jump to bookmark `index`. Walking to a view far above the ground (a
        reconstruction's Overview, 23 m up) switches to Fly, as a start there opens; a
        jump back to eye height walks again, unless the user picked Fly themselves."""
        if self.world is None or index >= len(self.world.bookmarks):
            return False
        self.nav.go_to_bookmark(self.world.bookmarks[index])
        col = self.nav.collider
        if col is not None and self.nav.mode != "orbit":
            mode = self._bookmark_mode(col, self.nav.pos, self.nav.mode)
            if mode != self.nav.mode and (mode == "fly" or not self.mode_from_user):
                self.nav.set_mode(mode)
                self.camera_changed.emit()
        return True

    def pick_ray(self, x: float | None = None, y: float | None = None):
        """World-space (origin, unit dir) through widget pixel (x, y), default the centre."""
        w, h = max(self.width(), 1), max(self.height(), 1)
        x = w / 2 if x is None else float(x)
        y = h / 2 if y is None else float(y)
        return self.nav.pick_ray(x, y, w, h)


class Viewport(ViewportCore, QOpenGLWidget):
    """The viewport as a QOpenGLWidget: on a GPU, Qt composites its texture into the window."""


class RasterViewport(ViewportCore, QWidget):
    """The viewport as a plain widget on a software OpenGL (llvmpipe): each frame is drawn
    into an offscreen framebuffer (`gl_target.GLTarget`), read back and painted as an
    image, so Qt paints the window on the CPU instead of compositing it with OpenGL, a
    textured quad for the GL widget and one for the rest (bench/window.py, 1280x800: 15 ms
    a frame as a QOpenGLWidget; read back and painted, ~5 ms). Overlays (child widgets)
    are painted over it as over any widget. It offers the QOpenGLWidget calls the
    viewport and its users make: makeCurrent / doneCurrent (the framebuffer bound),
    defaultFramebufferObject, grabFramebuffer, frameSwapped."""

    frameSwapped = pyqtSignal()  # a frame was painted (as QOpenGLWidget's)

    def __init__(self, parent=None, target: Any = None) -> None:
        """target: a GLTarget made already (make_viewport probes GL with it), else one is
        made on first use."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._gl = target
        self.quality.overhead_prior_ms = RASTER_OVERHEAD_PRIOR_MS
        self._gl_ready = False  # initializeGL called
        self._frame: Any = None  # (h, w, 4) uint8 of the image painted (kept alive)
        self._image: Any = None
        #: update() asked for a frame since the last one was drawn. Other paints (an
        #: overlay's update repaints the region under it, an expose) show the last frame
        #: again, as Qt recomposites a QOpenGLWidget's texture without calling paintGL: a
        #: gizmo redrawn after every frame would otherwise draw each frame twice
        self._frame_due = True
        self._failed = False  # the offscreen context failed (said once)

    def update(self, *args: Any) -> None:
        """Ask for a new frame (as QOpenGLWidget.update: paintGL runs at the next paint)."""
        self._frame_due = True
        QWidget.update(self, *args)

    def _target(self) -> Any:
        if self._gl is None:
            from .gl_target import GLTarget

            self._gl = GLTarget()
        return self._gl

    def context(self) -> Any:
        return self._target().context()

    def makeCurrent(self) -> None:  # noqa: N802 - QOpenGLWidget's name
        """Make the context current with the framebuffer (the widget's size) bound."""
        t = self._target()
        t.make_current()
        t.ensure_size(*self._fb_size())

    def doneCurrent(self) -> None:  # noqa: N802
        if self._gl is not None:
            self._gl.done_current()

    def defaultFramebufferObject(self) -> int:  # noqa: N802
        return self._gl.fbo if self._gl is not None else 0

    def _render(self) -> Any:
        """Draw a frame (paintGL) and read it back: a QImage of the framebuffer."""
        from OpenGL import GL
        from PyQt6.QtGui import QImage

        self.makeCurrent()
        try:
            if not self._gl_ready:
                self._gl_ready = True
                self.initializeGL()
            w, h = self._fb_size()
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._gl.fbo)
            GL.glViewport(0, 0, w, h)
            self.paintGL()
            shown = self.shown_image
            if shown is not None and shown.shape == (h, w, 4):
                # a moving frame scaled up on the CPU: the image itself, not read back
                # (~2 ms at 1006x754 on llvmpipe)
                frame = np.ascontiguousarray(shown[::-1])
            else:
                frame = np.ascontiguousarray(self._gl.read())
        finally:
            self.doneCurrent()
        img = QImage(frame.data, w, h, 4 * w, QImage.Format.Format_RGBX8888)
        img.setDevicePixelRatio(self.devicePixelRatioF())
        self._frame, self._image = frame, img
        return img

    def paintEvent(self, e: Any) -> None:  # noqa: N802
        from PyQt6.QtGui import QPainter

        img, drawn = self._image, False
        stale = img is None or (img.width(), img.height()) != self._fb_size()
        if (self._frame_due or stale) and not self._failed:
            self._frame_due = False
            try:
                img, drawn = self._render(), True
            except Exception as exc:  # noqa: BLE001 - no context: said in the view, once
                self._failed = True
                self.renderer_error = f"OpenGL unavailable: {exc}"
                log.error("viewport render failed", exc_info=exc)
                self.hud.setText(f"<span style='color:#ff8080'>{self.renderer_error[:300]}</span>")
                self.hud.adjustSize()
                self._place_hud()
                img = None
        p = QPainter(self)
        if img is not None:
            p.drawImage(0, 0, img)
        else:
            p.fillRect(self.rect(), Qt.GlobalColor.black)
        p.end()
        if drawn:  # after this paint is flushed, as QOpenGLWidget's once its frame is shown
            QTimer.singleShot(0, self.frameSwapped.emit)

    def grabFramebuffer(self) -> Any:  # noqa: N802
        """Draw a frame now and return it (a QImage), as QOpenGLWidget's."""
        return self._render().copy()

    def release_gl(self) -> None:
        super().release_gl()
        if self._gl is not None:
            self._gl.release()


def make_viewport(parent: Any = None) -> ViewportCore:
    """The viewport for this machine's OpenGL: `RasterViewport` on a software rasteriser
    (llvmpipe), else `Viewport` (a QOpenGLWidget). WANDER_VIEWPORT=gl or =raster forces one.
    A context that cannot be made for the probe gives `Viewport` (which says why it draws
    nothing)."""
    mode = os.environ.get("WANDER_VIEWPORT", "").strip().lower()
    if mode == "gl":
        return Viewport(parent)
    try:
        from .gl_target import GLTarget

        target = GLTarget()
    except Exception as exc:  # noqa: BLE001 - fall back to the QOpenGLWidget; logged
        log.warning("no offscreen OpenGL context for the viewport: %s", exc)
        return Viewport(parent)
    if mode == "raster" or target.software:
        log.info("viewport: raster (%s)", target.renderer_name)
        return RasterViewport(parent, target)
    target.release()
    return Viewport(parent)


def fmt_count(n: int) -> str:
    """1234567 -> '1.23M'."""
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}M"
    if n >= 1000:
        return f"{n / 1e3:.0f}k"
    return str(n)
