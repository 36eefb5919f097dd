"""The main window: viewport, outliner, status bar, the core menus, jobs, and the features.

The features (File > Save and Export, Create > New World…, the Object menu, splat cleaning,
orbit aids, Settings > Models…) are the modules in `FEATURES`, imported here and installed
in that order; each one's `install(window)` uses only `viewer.features.WindowAPI`.
"""

from __future__ import annotations

import logging
import time
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMenuBar,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from scene.commands import SetUpAxis
from scene.progress import CancelToken, Progress, ProgressFn, as_progress
from scene.world import World

from . import (
    camera_paths,
    ext_models,
    ext_objects,
    ext_orbit,
    ext_panorama,
    ext_reconstruct,
    ext_splats,
    project_autosave,
    project_export,
    project_save,
    video_render,
)
from .document import Document
from .features import Install
from .jobs import Job, JobRunner
from .naming import PHOTO_SUFFIXES
from .outliner import Outliner
from .settings import Settings
from .start_page import StartPage
from .up_axis import (
    AXES,
    adopt_file_context,
    axis_name,
    estimate_up,
    near_masks,
    normalize,
    world_dense_points,
)
from .viewport import FrameInfo, ViewportCore, fmt_count, make_viewport

log = logging.getLogger(__name__)
#: the status bar's words when a full frame shows none of the scene's splats
NOTHING_IN_VIEW = "Nothing of the scene in view (outside it, or behind a wall): R goes back"
#: a reconstruction turned away from all it photographed shows only the backdrop Wander
#: added round it (a trial: "grey static", and no hint of where the scene was)
BACKDROP_ONLY = (
    "The photographed scene is out of view: around it is only the ground and sky Wander "
    "added. R goes back"
)
EMPTY_RECHECK_MS = 300  # ... said when a full frame this much later shows nothing either
#: a second Esc within this many seconds of the first cancels the running job (one Esc only
#: says so: it also releases the mouse and clears selections, and a job is minutes of work)
ESC_CANCEL_S = 3.0
JOB_LABEL_PX = 360  # a running job's title and message in the status bar, elided to this
JOB_LABEL_WITH_MESSAGE = 140  # ... its title alone while the bar shows a message [px]
JOB_LABEL_MAX = 900  # ... or up to this, when the bar has that much free [px]
#: said under the first moving frames of a big scene whose levels of detail are not merged
COARSE_PENDING = "Preparing smoother moving frames (a second or two)…"
AERIAL_WALK_HINT = (
    "Captured from the air: at eye level the scene has little detail and rough parts no "
    "photo saw. Fly (M) or a photo's bookmark shows it as photographed; R goes back"
)

T = TypeVar("T")
MENU_ORDER = ("&File", "&Edit", "&Create", "&View", "&Settings", "&Help")

#: The window's features, installed in this order (their menu entries follow it). Each is
#: `install(window: viewer.features.WindowAPI) -> None`; a failing one is reported and skipped.
#: The project features (viewer/document.py holds the open document they share), in menu order.
PROJECT_FEATURES: tuple[tuple[str, Install], ...] = (
    ("project_save", project_save.install),  # File > Save Project, Save Project As…
    ("autosave", project_autosave.install),  # autosave, File > Recover Unsaved Work…
    ("exporter", project_export.install),  # File > Export…, Export Layer/Panorama/Cameras
    ("camera_paths", camera_paths.install),  # Create > Camera Path ▸
    ("video_render", video_render.install),  # Create > Render Video…
)

FEATURES: tuple[tuple[str, Install], ...] = (
    ("models", ext_models.install),  # Settings > Models…
    ("objects", ext_objects.install),  # Create > Insert Object…, the Object menu, gizmo
    ("orbit", ext_orbit.install),  # orbit pivot marker, View > Ground Grid in Orbit
    ("panorama", ext_panorama.install),  # Create > New World from Photo / Panorama…
    *PROJECT_FEATURES,
    ("reconstruct", ext_reconstruct.install),  # Create > New Scene from Photos / Folder / Video…
    ("splats", ext_splats.install),  # Edit > Select Splats (box, lasso, sphere)
)


#: photos drag-and-drop takes too: they open the New World dialog (`open_path`)
PHOTO_SUFFIX_TUPLE = tuple(sorted(PHOTO_SUFFIXES))


def scene_suffixes() -> tuple[str, ...]:
    """What Open and drag-and-drop take: scene.io's registry (imported when first asked)."""
    from scene.io import scene_suffixes as readable

    return (*readable(), ".wander")


INSTALL_ROOT = Path(__file__).resolve().parents[1]


def _inside_install(folder: Path) -> bool:
    """True when `folder` is the app's own folder (its bundled `assets/`, its code)."""
    try:
        return Path(folder).resolve().is_relative_to(INSTALL_ROOT)
    except OSError:
        return False


def load_scene_file(
    path: str | Path, progress: ProgressFn | Progress, cancel: CancelToken | None = None
) -> tuple[World, list[str]]:
    """Read a scene file or .wander project into a World (runs on a worker thread).

    The one scene loader (`scene.io.load_world`, as the CLI and offscreen rendering use)
    reads it; scene files then get an up axis estimated from their cameras or floor;
    projects keep theirs. Raises `Cancelled` when cancelled (the open World is untouched).
    """
    from scene.io import load_world

    prog = as_progress(progress, cancel)
    p = Path(path)
    is_project = p.suffix.lower() == ".wander"
    world, warnings = load_world(p, progress=prog.sub(0.0, 1.0 if is_project else 0.82))
    if is_project:
        return world, warnings
    prog.update(0.82, "Preparing")
    # a reconstruction's photo cameras beside it, Wander's own provenance (+Y up, a
    # world's start view), glTF's +Y up: not a guessed floor
    adopt_file_context(world, p)
    if world.meta.get("up_axis_source") is None:
        prog.update(0.9, "Estimating the up axis")
        masks = near_masks(world)
        dense = world_dense_points(world, visible_only=False, masks=masks)
        up, source = estimate_up(world, dense, masks)
        world.up_axis = up
        world.meta["up_axis_source"] = source
    world.clear_history()
    prog.update(1.0, "Loaded")  # last cancel point: the caller has not touched its World
    return world, warnings


def _demo_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("generators.demo") is not None
    except (ImportError, ValueError):
        return False


class _FocusKeeper(QObject):
    """Application event filter: when a menu or dialog closes, keyboard focus goes back to the
    viewport unless it landed on a real input widget (after Esc the menu bar would otherwise
    keep the keyboard and W would do nothing)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt override
        if ev.type() == QEvent.Type.Hide and isinstance(obj, (QMenu, QDialog)):
            QTimer.singleShot(0, self.window.restore_view_focus)
        return False


def _delete_at_exit(win: MainWindow) -> None:
    """Delete `win` (and its children) before PyQt's own exit-time cleanup runs.

    That cleanup walks every wrapper and crashed now and then (SIGSEGV in
    sip_api_get_address, `main.py SCENE --shot`, about 1 run in 7 on r2base) on one whose
    C++ object was already gone; deleting the window first, while Python and Qt are whole,
    leaves it nothing of ours to trip on. atexit runs handlers last-in first-out, so this one
    (registered after QtCore's) runs before it."""
    import atexit
    import weakref

    from PyQt6 import sip

    ref = weakref.ref(win)

    def release() -> None:
        w = ref()
        if w is not None and not sip.isdeleted(w):
            try:
                sip.delete(w)
            except RuntimeError:
                log.debug("window already gone at exit", exc_info=True)

    atexit.register(release)


def held_out_photos(meta: dict) -> set[str]:
    """Names of the photos a reconstruction held out of its scene (`reconstruct
    --holdout`): from its own record in a project, or from the report beside a scene file
    (`up_axis.use_cameras_beside`); `evaluate.held_out_recorded`."""
    from generators.reconstruct.evaluate import held_out_recorded

    return set(held_out_recorded(meta))


class MainWindow(QMainWindow):
    """Wander's main window. What features may use of it is `viewer.features.WindowAPI`
    (checked by tests/test_features.py); the core menus are built in `_build_menus`, the
    features' in `FEATURES`."""

    world: World
    path: Path | None
    settings: Settings
    viewport: ViewportCore
    jobs: JobRunner
    extensions: dict[str, Any]
    escape_handlers: list[Callable[[], bool]]
    outliner_dock: QDockWidget
    document: Document

    selection_changed = pyqtSignal(object)  # layer id or None
    world_replaced = pyqtSignal(object)  # the new World
    #: a failure in background work (autosave, collider, sort...) to show in the status bar;
    #: emit from any thread (queued to the GUI thread)
    background_error = pyqtSignal(str)

    def __init__(self, settings: Settings | None = None, install_extensions: bool = True) -> None:
        """`install_extensions`: install `FEATURES` (tests install the ones they need)."""
        super().__init__()
        _delete_at_exit(self)
        self.settings = settings or Settings()
        self.world = World()
        self.path = None
        self._walk_hint: str | None = None  # the walkable area's hint, while at its rim
        self.jobs = JobRunner(self)
        self.extensions = {}  # features' objects by name, filled by their install()
        self.feature_errors: dict[str, str] = {}  # feature name -> traceback of a failed install
        self.key_overlay: Any = None  # Help > Controls, made when first shown
        self._menus: dict[str, QMenu] = {}
        #: Esc not used by the viewport (mouse not captured): each handler in turn until one
        #: returns True (e.g. stop the splat selection tool, then clear its selection)
        self.escape_handlers: list[Callable[[], bool]] = []
        self._esc_first: tuple[float, Job | None] = (-1e9, None)  # `_escape_job`
        self._dock_closed_by_user = False
        self.setWindowTitle("Wander")
        self.setAcceptDrops(True)
        self.resize(1440, 880)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)

        self.viewport = make_viewport()
        self.start_page = StartPage(self.open_dialog, self.open_demo if _demo_available() else None)
        self.start_page.open_recent.connect(self.open_path)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.viewport)
        self.setCentralWidget(self.stack)

        self.outliner = Outliner()
        self.outliner.selection_changed.connect(self._on_selection)
        self.outliner.orbit_requested.connect(self.orbit_layer)
        self.outliner.key_target = self.viewport
        self.outliner_dock = QDockWidget("Scene", self)
        self.outliner_dock.setObjectName("outliner")
        self.outliner_dock.setWidget(self.outliner)
        self.outliner_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.outliner_dock.setMinimumWidth(250)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.outliner_dock)

        self._build_status_bar()
        self.background_error.connect(self._show_background_error)
        self.viewport.background_error.connect(self._show_background_error)
        self._build_menus()
        self.viewport.frame_drawn.connect(self._on_frame)
        self.viewport.camera_changed.connect(self._update_camera_status)
        self.viewport.bookmark_saved.connect(self._bookmark_saved)
        self.viewport.status_hint.connect(self.show_status)
        self.jobs.changed.connect(self._update_job_ui)
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._update_camera_status)
        self._status_timer.start(250)
        self._attach(self.world)
        #: the open document's save state (unsaved changes, autosave slot, camera path)
        self.document = Document(self)
        if install_extensions:
            self.install_features(FEATURES)
        self._finish_menus()
        self._show_start_page()
        self.apply_settings()
        self._focus_keeper = _FocusKeeper(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._focus_keeper)

    # ============================================================ public API
    def restore_view_focus(self) -> bool:
        """Give the keyboard back to the viewport when nothing that takes typing has it (a
        menu or dialog just closed). True when the viewport got the focus."""
        if self.stack.currentWidget() is not self.viewport or not self.isVisible():
            return False
        app = QApplication.instance()
        if app is not None and (
            app.activePopupWidget() is not None or app.activeModalWidget() is not None
        ):
            return False
        if app is not None and app.activeWindow() is None:
            self.activateWindow()  # a dialog closed and no window manager handed activation back
        fw = QApplication.focusWidget() or self.focusWidget()
        # a button or a slider takes no typing: a panel's Delete keeping the focus through
        # Render Video and Save As left 1 and W doing nothing (a trial)
        idle = isinstance(fw, (QMenuBar, QAbstractButton, QAbstractSlider)) and fw.window() is self
        if fw is None or fw is self or idle or fw is self.viewport:
            if self.menuBar().activeAction() is not None:
                self.menuBar().setActiveAction(None)
            self.viewport.setFocus(Qt.FocusReason.PopupFocusReason)
            return True
        return False

    def menu(self, title: str) -> QMenu:
        """Get or create a top-level menu ('&File', '&Edit', '&Create', '&View', '&Help')."""
        key = title if "&" in title else f"&{title}"
        for k, m in self._menus.items():
            if k.replace("&", "").lower() == key.replace("&", "").lower():
                return m
        m = QMenu(key, self)
        bar = self.menuBar()
        # Keep the standard order; unknown menus go before Settings and Help.
        order = [t.replace("&", "").lower() for t in MENU_ORDER]
        name = key.replace("&", "").lower()
        extra = order.index("settings") - 0.5  # unknown menus (Object…) go before Settings/Help
        rank = order.index(name) if name in order else extra
        before, before_rank = None, float("inf")
        for k, other in self._menus.items():  # the lowest-ranked menu that goes after this one
            kn = k.replace("&", "").lower()
            r = order.index(kn) if kn in order else extra
            if rank < r < before_rank:
                before, before_rank = other, r
        if before is not None:
            bar.insertMenu(before.menuAction(), m)
        else:
            bar.addMenu(m)
        self._menus[key] = m
        return m

    def run_job(
        self,
        title: str,
        fn: Callable[[ProgressFn, CancelToken], T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
        commits: bool = False,
    ) -> Job:
        """Run `fn(progress, cancel)` on a worker; `on_done(result)` on the GUI thread.

        `progress` is a scene.progress.Progress, `cancel` its CancelToken. A cancelled job
        changes nothing; errors go to `on_error` (default: a message box). `commits`: the
        job writes files, so once `fn` returned (its file committed) `on_done` runs even
        if Cancel came too late to stop it.
        """
        return self.jobs.run(
            title,
            fn,
            on_done,
            on_error or (lambda e, t=title: self.report_job_error(t, e)),
            commits=commits,
        )

    def set_world(self, world: World, path: Path | None = None, new_work: bool = False) -> None:
        """Replace the current world and frame the camera on it. `new_work`: the world was
        just made here and is in no file yet (a generated world): it is unsaved work, so
        closing or replacing it asks first and autosave keeps it."""
        if not isinstance(world, World):
            raise TypeError(f"set_world needs a scene.world.World, got {type(world).__name__}")
        self.path = Path(path).absolute() if path is not None else None  # dialogs show it
        if world.meta.get("up_axis_source") is None and world.meta.get("cameras"):
            # e.g. a reconstruction: its photo cameras say which way is up (cheap, no splats)
            up, src = estimate_up(world, None)
            if src == "cameras":
                world.up_axis = up
                world.meta["up_axis_source"] = src
        if self.path is None and not world.can_undo:
            from .naming import name_world_layers

            name_world_layers(world)  # a new world's layer is named after its photo
        self._attach(world)
        self._reset_fov()  # a bookmark's FOV from the last world must not leak into this one
        self.viewport.set_world(world)
        if world.is_empty():
            self._show_start_page()
        else:
            self.stack.setCurrentWidget(self.viewport)
            self._set_scene_chrome(True)
            self.viewport.setFocus()
        if self.path is not None:
            self.settings.add_recent(self.path)
            self._refresh_recent()
        self.update_title()
        self._sync_mode_actions()
        self.world_replaced.emit(world)
        if new_work and self.path is None:
            self.document.dirty = True
        self.update_title()  # after the document (viewer/document.py) reset its unsaved state

    def set_path(self, path: Path) -> None:
        """The open world is now stored at `path` (after Save / Save As): the title, Open
        Recent and the file dialogs follow it."""
        self.path = Path(path).absolute()
        self.settings.add_recent(self.path)
        self._refresh_recent()
        self.update_title()

    def _reset_fov(self) -> None:
        """Put the view's field of view back to the Settings > Preferences value (degrees)."""
        from .settings_dialog import load_prefs

        try:
            self.viewport.nav.fov_y_deg = float(load_prefs(self.settings)["fov_y_deg"])
        except Exception:  # noqa: BLE001 - bad stored preferences must not stop opening
            log.warning("could not read the field-of-view setting", exc_info=True)

    def current_camera(self):
        """What the viewport shows now (scene.camera.Camera at the viewport's pixel size)."""
        return self.viewport.current_camera()

    def pick_ray(
        self, x: float | None = None, y: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """World-space (origin, unit dir) through widget pixel (x, y), default the centre."""
        return self.viewport.pick_ray(x, y)

    def show_status(self, text: str, ms: int = 5000) -> None:
        bar = self.statusBar()
        bar.showMessage(text, ms)
        # a message wider than the bar is cut off: hovering the bar shows all of it
        bar.setToolTip(text if bar.fontMetrics().horizontalAdvance(text) > bar.width() else "")

    def report_background_error(self, what: str, exc: BaseException | None = None) -> None:
        """Log a failure of background work (with its traceback) and show `what` in the
        status bar, e.g. report_background_error("Autosave failed", exc). Any thread."""
        if exc is not None:
            log.error("%s", what, exc_info=exc)
            what = f"{what}: {exc}" if str(exc) else f"{what} ({type(exc).__name__})"
        else:
            log.error("%s", what)
        self.background_error.emit(what)

    def _show_background_error(self, text: str) -> None:
        from scene.logs import log_path

        short = text if len(text) <= 160 else text[:157] + "..."
        self.show_status(f"⚠ {short} (details in {log_path()})", 15000)

    def render_pending(self) -> int:
        """Visible splats the viewport does not draw yet (0 once the renderer has packed
        every visible layer; large layers are packed on a worker thread)."""
        from scene.gaussians import GaussianCloud

        n = sum(
            len(lay.data)
            for lay in self.world.visible_layers()
            if isinstance(lay.data, GaussianCloud)
        )
        return max(n - int(self.viewport.info.splats_total), 0)

    def dialog_dir(self) -> Path:
        """Where file dialogs start: beside the open project/scene, else beside the world's
        source photo, else the last folder used (or the newest recent file's), else home —
        never inside the app's own folder (its bundled assets)."""
        from .naming import dialog_folder

        last = self.settings.get("last_dir", None, str)
        if not last:
            # nothing opened through a dialog yet: the folder of the newest recent file (a
            # project just saved in /tmp/trip, the demo still open: Open began in home)
            recent = [Path(p) for p in self.settings.recent_files() if Path(p).parent.is_dir()]
            last = str(recent[0].parent) if recent else None
        folder = dialog_folder(self.path, self.world, last)
        if _inside_install(folder):
            # a world made from a bundled sample (the demo's assets/rocket.jpg) or a file in
            # the app's folder: never propose saving into the app's own folder
            folder = dialog_folder(
                None, None, None if last and _inside_install(Path(last)) else last
            )
        return folder

    def remember_dir(self, folder: str | Path) -> None:
        """File dialogs start in `folder` from now on (`dialog_dir`'s "last folder used")."""
        self.settings.set("last_dir", str(folder))

    def suggested_name(self, suffix: str = ".wander") -> str:
        """A file name for the open world: the project's, else its source photo's stem."""
        from .naming import world_name

        if self.path is not None:
            from scene.io import scene_stem

            return scene_stem(self.path) + suffix
        return (world_name(self.world) or "Untitled") + suffix

    def is_modified(self) -> bool:
        """Unsaved changes in a world that holds something (viewer/document.py)."""
        return self.document.is_modified()

    def selected_layer_id(self) -> int | None:
        """The layer selected in the outliner (for extensions), or None."""
        return self.outliner.selected_layer_id()

    def select_layer(self, layer_id: int | None) -> None:
        self.outliner.select_layer(layer_id)

    def confirm_replace(self) -> bool:
        """True when the current world may be replaced (the project-save feature offers to
        save unsaved changes first; False when the user cancels)."""
        guard = self.document.replace_guard
        return guard is None or bool(guard())

    def open_path(self, path: str | Path) -> Job | None:
        """Load a scene file or project in the background and show it (None: the user chose
        to keep the current, changed world, or `path` is a photo: the New World dialog for
        it opens once the event loop runs)."""
        p = Path(path)
        tools = self.extensions.get("panorama_tools")
        if p.suffix.lower() in PHOTO_SUFFIXES and tools is not None and p.is_file():
            from scene.errors import SceneFormatError
            from scene.io.images import checked_image_size

            try:  # a text file named .jpg, or a cut-off photo, is no photo to offer a world of
                size = checked_image_size(p)
            except SceneFormatError as exc:
                self.report_job_error(f"Could not open {p.name}", exc)
                return None
            # a photo is not a scene: offer to make a world from it (the dialog asks
            # before anything is replaced); after this call, so a caller's event loop runs
            QTimer.singleShot(0, lambda: tools.offer(p, size))
            return None
        if not self.confirm_replace():
            return None
        return self.run_job(
            f"Opening {p.name}",
            lambda prog, cancel: load_scene_file(p, prog, cancel),
            lambda res: self._opened(res, p),
            lambda e: self.report_job_error(f"Could not open {p.name}", e),
        )

    def screenshot(
        self, path: str | Path, width: int | None = None, height: int | None = None
    ) -> Path:
        """Render the current view at width×height (default: viewport size) to a PNG."""
        from PIL import Image

        w = width if width is not None else max(self.viewport.width(), 1)
        h = height if height is not None else max(self.viewport.height(), 1)
        from scene.files import atomic_write

        img = self.viewport.render_to_image(w, h)
        out = Path(path)
        with atomic_write(out) as f:  # .wander-tmp-... : a killed save leaves nothing lasting
            Image.fromarray(img).save(f, format="PNG")
        return out

    # ============================================================== building
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        sb.setSizeGripEnabled(False)
        sb.messageChanged.connect(self._status_message_changed)
        self.job_label = QLabel()
        self.job_bar = QProgressBar()
        self.job_bar.setRange(0, 1000)
        self.job_bar.setFixedWidth(180)
        self.job_cancel = QPushButton("Cancel")
        fm = self.job_cancel.fontMetrics()  # never clipped: room for the text and the padding
        self.job_cancel.setMinimumWidth(fm.horizontalAdvance("Cancel") + 28)
        self.job_cancel.setMinimumHeight(fm.height() + 8)
        self._empty_full_frames = 0  # full frames in a row that drew none of the splats
        self._coarse_said: weakref.ref | None = None  # the world COARSE_PENDING was said for
        self._backdrop_said = False  # BACKDROP_ONLY is said for the view's current excursion
        self.job_cancel.clicked.connect(self._cancel_job)
        self.job_box = QWidget()
        lay = QHBoxLayout(self.job_box)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.addWidget(self.job_label)
        lay.addWidget(self.job_bar)
        lay.addWidget(self.job_cancel)
        self.job_box.setVisible(False)
        self.mode_label = QLabel("FLY")
        self.mode_label.setObjectName("statusMode")
        self.pos_label = QLabel()
        self.splat_label = QLabel()
        self.fps_label = QLabel()
        for w in (self.fps_label, self.splat_label, self.pos_label):
            w.setMinimumWidth(90)
        fm = self.fps_label.fontMetrics()
        # a position of tens of metres either way, whole (the z read-out was cut)
        self.pos_label.setMinimumWidth(fm.horizontalAdvance("x -00.00   y -00.00   z -00.00") + 12)
        self.fps_label.setMinimumWidth(fm.horizontalAdvance("full quality") + 12)
        # the longest read-out it shows, so "66% res" is never cut off
        self.splat_label.setMinimumWidth(
            fm.horizontalAdvance("8.88M / 8.88M splats  ·  100% res") + 12
        )
        sb.addPermanentWidget(self.job_box)
        sb.addPermanentWidget(self.splat_label)
        sb.addPermanentWidget(self.fps_label)
        sb.addPermanentWidget(self.pos_label)
        sb.addPermanentWidget(self.mode_label)

    def add_menu_action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], Any],
        shortcut: str | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        """A menu entry for a feature: `slot()` on trigger; its shortcut works in full screen."""
        return self._act(menu, text, slot, shortcut, checkable, tip)

    def _act(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], Any],
        shortcut: str | QKeySequence.StandardKey | list | None = None,
        checkable: bool = False,
        tip: str = "",
    ) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                a.setShortcuts([QKeySequence(s) if isinstance(s, str) else s for s in shortcut])
            else:
                a.setShortcut(QKeySequence(shortcut) if isinstance(shortcut, str) else shortcut)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setCheckable(checkable)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        self.addAction(a)  # shortcuts work while the menu bar is hidden (full screen)
        return a

    def _build_menus(self) -> None:
        f = self.menu("&File")
        self.open_action = self._act(
            f,
            "&Open…",
            self.open_dialog,
            QKeySequence.StandardKey.Open,
            tip="Open a scene file or project",
        )
        self.recent_menu = f.addMenu("Open &Recent")
        self._refresh_recent()
        self.demo_action = self._act(f, "Open &Demo World", self.open_demo)
        self.demo_action.setEnabled(_demo_available())
        # File > Save, Save As…, Export… come between here and Screenshot: PROJECT_FEATURES
        # (FEATURES) adds them; _finish_menus moves the tail below back to the end
        self._file_tail_sep = f.addSeparator()
        self.screenshot_action = self._act(
            f,
            "Screens&hot",
            self.screenshot_dialog_quick,
            "F12",
            tip="Save a PNG of the view at window size",
        )
        self.screenshot_res_action = self._act(
            f, "Screenshot at Resolution…", self.screenshot_dialog
        )
        f.addSeparator()
        self.quit_action = self._act(f, "&Quit", self.close, "Ctrl+Q")
        self._file_tail = [self._file_tail_sep, self.screenshot_action, self.screenshot_res_action]

        e = self.menu("&Edit")
        self.undo_action = self._act(e, "&Undo", self.undo, [QKeySequence("Ctrl+Z")])
        self.undo_action.setProperty("key_label", "Undo")  # its text names the step
        self.redo_action = self._act(
            e, "&Redo", self.redo, [QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")]
        )
        self.redo_action.setProperty("key_label", "Redo")
        e.addSeparator()
        self.delete_action = self._act(
            e, "&Delete Layer", self.delete_selected, tip="Remove the selected layer"
        )
        e.aboutToShow.connect(self._update_edit_actions)
        # Settings > Preferences… and Settings > Models… (ext_models): one place for both
        self.settings_action = self._act(
            self.menu("&Settings"),
            "&Preferences…",
            self.settings_dialog,
            "Ctrl+,",
            tip="Move speed, mouse, field of view, quality, autosave",
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)

        self.menu("&Create")

        v = self.menu("&View")
        group = QActionGroup(self)
        self.mode_actions: dict[str, QAction] = {}
        for mode, label in (("walk", "&Walk"), ("fly", "&Fly"), ("orbit", "&Orbit")):
            a = self._act(
                v,
                label,
                lambda m=mode: self.set_mode(m),
                checkable=True,
                tip=f"{mode.title()} navigation",
            )
            group.addAction(a)
            self.mode_actions[mode] = a
        self._act(v, "Cycle Navigation Mode", self.cycle_mode, "M")
        self._act(
            v,
            "Orbit &Selection",
            lambda: (
                self.orbit_layer(self.selected_layer_id())
                if self.selected_layer_id() is not None
                else self.set_mode("orbit")
            ),
            "O",
        )
        self._act(
            v, "&Reset View", self._reset_view, tip="Back to the start view (R in the viewport)"
        )
        self.hud_action = self._act(v, "Show Controls &Hint", self._toggle_hud, checkable=True)
        self.hud_action.setChecked(bool(self.settings.get("show_hud", True, bool)))
        self.viewport.hud.setVisible(self.hud_action.isChecked())
        self.bookmarks_menu = v.addMenu("&Bookmarks")
        self.bookmarks_menu.aboutToShow.connect(self._fill_bookmarks)
        v.addSeparator()
        up = v.addMenu("&Up Axis")
        self._act(up, "&Flip (upside down)", self.flip_up)
        self._act(up, "&Estimate from Scene", self.estimate_up_axis)
        up.addSeparator()
        self.up_actions: dict[str, QAction] = {}
        ug = QActionGroup(self)
        for name in AXES:
            a = self._act(
                up, f"{name} is up", lambda n=name: self.set_up_axis(AXES[n]), checkable=True
            )
            ug.addAction(a)
            self.up_actions[name] = a
        up.aboutToShow.connect(self._sync_up_actions)
        v.addSeparator()
        self.stats_action = self._act(v, "Show S&tats", self._toggle_stats, checkable=True)
        self.stats_action.setChecked(bool(self.settings.get("show_stats", True, bool)))
        self.adaptive_action = self._act(
            v,
            "&Adaptive Quality",
            self._toggle_adaptive,
            checkable=True,
            tip="Lower resolution / splats while moving when frames are slow",
        )
        self.adaptive_action.setChecked(True)
        dock_toggle = self.outliner_dock.toggleViewAction()
        dock_toggle.setText("Scene Outli&ner")
        dock_toggle.triggered.connect(lambda on: setattr(self, "_dock_closed_by_user", not on))
        v.addAction(dock_toggle)
        self._act(v, "Full Scr&een", self._toggle_full_screen, "F11")

        h = self.menu("&Help")
        self.controls_action = self._act(
            h,
            "&Controls (all keys)",
            self.show_controls,
            [QKeySequence(QKeySequence.StandardKey.HelpContents), "?"],
        )
        self._act(h, "&About Wander", self._about)

    def _finish_menus(self) -> None:
        """After extensions: keep Screenshot/Quit at the end of File; pick free shortcuts."""
        f = self.menu("&File")
        for a in self._file_tail + [self.quit_action]:
            f.removeAction(a)
        f.addAction(self._file_tail_sep)
        f.addAction(self.screenshot_action)
        f.addAction(self.screenshot_res_action)
        f.addSeparator()
        f.addAction(self.quit_action)
        used = {
            s.toString()
            for a in self.findChildren(QAction)
            for s in a.shortcuts()
            if a is not self.screenshot_action
        }
        if "Ctrl+Shift+S" not in used:  # Save As (viewer/project_save.py) keeps it when present
            self.screenshot_action.setShortcuts([QKeySequence("F12"), QKeySequence("Ctrl+Shift+S")])
        self._refresh_start_page()

    def install_features(self, features: tuple[tuple[str, Install], ...] = FEATURES) -> None:
        """Call each feature's `install(self)` in order (`FEATURES` by default). A feature that
        raises is logged, named in the status bar and in `feature_errors`; the rest go on."""
        for name, install in features:
            try:
                install(self)
            except Exception as exc:  # noqa: BLE001 - one broken feature must not stop the app
                self.feature_errors[name] = traceback.format_exc()
                log.error("feature %s failed to install", name, exc_info=exc)
                self.show_status(f"Feature {name} failed to install: {exc}", 10000)

    # ============================================================== actions
    def open_dialog(self) -> None:
        start = str(self.dialog_dir())
        exts = " ".join(f"*{s}" for s in scene_suffixes())
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open scene",
            start,
            f"Scenes and projects ({exts});;Wander projects (*.wander);;All files (*)",
        )
        if path:
            self.remember_dir(Path(path).parent)
            self.open_path(path)

    def open_demo(self) -> None:
        try:
            from generators.demo import demo_world
        except Exception as exc:  # noqa: BLE001
            log.warning("the demo world is not available", exc_info=exc)
            self.show_status(f"The demo world is not available: {exc}", 8000)
            return
        cache = Path(self.settings.q.fileName()).parent / "demo-cache"

        def work(progress: ProgressFn, cancel: CancelToken) -> World:
            return demo_world(cache, progress, cancel)

        self.run_job("Building the demo world", work, lambda w: self.set_world(w))

    def _opened(self, res: tuple[World, list[str]], path: Path) -> None:
        world, warnings = res
        remembered = self._remembered_up(path)
        if remembered is not None and path.suffix.lower() != ".wander":
            world.up_axis = remembered
            world.meta["up_axis_source"] = "remembered"
        self.set_world(world, path)
        src = world.meta.get("up_axis_source")
        msg = f"Opened {path.name}"
        if path.suffix.lower() == ".wander" and self.viewport.restore_view(world.meta.get("view")):
            msg += " at its last view (R: its start)"
        if src in ("cameras", "floor"):
            msg += f" — up axis {axis_name(world.up_axis)} (from {src}; View > Up Axis to change)"
        from viewer.walk_area import walkable_note

        if note := walkable_note(world):
            msg += f" — walk {note}"
        self.show_status(msg, 8000)
        doc = getattr(self, "document", None)
        if warnings and doc is not None and path.suffix.lower() == ".wander":
            doc.incomplete = [str(w) for w in warnings]
        if warnings:
            self.show_warning(
                "Opened with warnings",
                f"{path.name} opened, but not everything could be restored.",
                "\n".join(str(w) for w in warnings),
            )

    def show_warning(self, title: str, text: str, details: str = "") -> None:
        """A non-modal warning box (the work is done; the user reads it when they like),
        kept as `_last_warning_box`."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        if details:
            box.setDetailedText(details)
        box.setModal(False)
        box.show()
        self._last_warning_box = box

    def _bookmark_saved(self, i: int, replaced: str, asked: int = -1) -> None:
        """Say where Ctrl+number put the view, and what it replaced (a world's Start, a
        photo's view) with the way back: Ctrl+Z. `asked`: the slot the keys asked for (a
        number past the end saves the next bookmark, and says so: a trial pressed Ctrl+3
        beside one bookmark and was sent round in a loop of "no bookmark 3 yet")."""
        if 0 <= i < asked:
            self.show_status(
                f"Saved as bookmark {i + 1}, the next free number — press {i + 1} to come back",
                8000,
            )
            return
        if replaced and replaced != f"View {i + 1}":
            shown = replaced if len(replaced) <= 40 else replaced[:39] + "…"
            self.show_status(
                f"Bookmark {i + 1} now holds this view; it replaced “{shown}” "
                "(Ctrl+Z brings it back)",
                10000,
            )
        elif replaced:  # the user's own view saved there before: said too (a trial)
            self.show_status(
                f"Bookmark {i + 1} now holds this view; it replaced the one saved there "
                "(Ctrl+Z brings it back)",
                10000,
            )
        else:
            self.show_status(f"Saved bookmark {i + 1} — press {i + 1} to come back")

    def report_job_error(self, title: str, exc: BaseException) -> None:
        """Show a failed job: `title: exc` in the status bar and a non-modal message box
        (a traceback in its details for bugs; bad input is said in the message alone)."""
        from scene.errors import InvalidSceneError, SceneFormatError

        # bad input is said in its message; a traceback is for bugs only (and the log)
        detail = (
            ""
            if isinstance(exc, (SceneFormatError, InvalidSceneError, ValueError))
            else getattr(exc, "__wander_traceback__", "")
        )
        self.show_status(f"{title}: {exc}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Wander", f"{title}\n\n{exc}", parent=self)
        if detail:
            box.setDetailedText(detail)
        box.setModal(False)
        box.show()
        self._last_error_box = box

    def screenshot_dialog_quick(self) -> None:
        folder = Path(self.settings.get("screenshot_dir", "", str) or self.dialog_dir())
        if not folder.is_dir() or self.path is not None:
            folder = self.dialog_dir()
        path, _ = QFileDialog.getSaveFileName(
            self, "Save screenshot", str(folder / self._shot_name()), "PNG images (*.png)"
        )
        if path:
            self._save_shot(path, None, None)

    def _shot_name(self) -> str:
        """A screenshot's proposed name: the world's, then the time (both screenshot commands
        propose the same kind of name, and a second shot never proposes the first's)."""
        import time

        return Path(self.suggested_name("")).name + time.strftime("-%Y%m%d-%H%M%S.png")

    def screenshot_dialog(self) -> None:
        w0 = self.viewport.width()
        h0 = self.viewport.height()
        text, ok = QInputDialog.getText(
            self, "Screenshot at resolution", "Size (W×H):", text=f"{w0 * 2}x{h0 * 2}"
        )
        if not ok:
            return
        try:
            w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
        except ValueError:
            QMessageBox.warning(self, "Screenshot", f"{text!r} is not a size like 3840x2160")
            return
        from .viewport import MAX_IMAGE_SIDE

        if not (0 < w <= MAX_IMAGE_SIDE and 0 < h <= MAX_IMAGE_SIDE):
            QMessageBox.warning(
                self, "Screenshot", f"{text!r}: each side must be 1 to {MAX_IMAGE_SIDE} pixels"
            )
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save screenshot",
            str(self.dialog_dir() / self._shot_name()),
            "PNG images (*.png)",
        )
        if path:
            self._save_shot(path, w, h)

    def open_inputs(self) -> list[tuple[str, Path]]:
        """Files the open world was read from or made from (the scene or project file, the
        photos and panorama its layers name), as (label, path) pairs: a save or export
        dialog passes them to `scene.files.check_outputs` so no output replaces one."""
        from scene.files import referenced_files

        trees = [self.world.meta] + [lay.source for lay in self.world.layers]
        found = referenced_files(*trees)
        if self.path is not None:
            found.insert(0, ("the open file", Path(self.path)))
        return found

    def _save_shot(self, path: str, w: int | None, h: int | None) -> None:
        from scene.files import check_outputs

        from .save_target import confirm_replace, with_extension

        typed, path = path, str(with_extension(path, ".png"))
        if not confirm_replace(self, typed, path, "Screenshot"):
            return
        try:
            check_outputs([("the screenshot", path)], self.open_inputs())
            out = self.screenshot(path, w, h)
        except (ValueError, RuntimeError, OSError) as exc:
            QMessageBox.warning(self, "Screenshot", str(exc))
            return
        self.settings.set("screenshot_dir", str(out.parent))
        self.show_status(f"Saved screenshot {out}")

    def undo(self) -> None:
        if self.world.undo():
            self.show_status(f"Undone: {self.world.redo_texts[-1]}")
        else:
            self.show_status("Nothing to undo")

    def redo(self) -> None:
        if self.world.redo():
            self.show_status(f"Redone: {self.world.undo_texts[-1]}")
        else:
            self.show_status("Nothing to redo")

    def delete_selected(self) -> None:
        self.outliner.delete_selected()

    def set_mode(self, mode: str) -> None:
        self.viewport.nav.set_mode(mode)  # type: ignore[arg-type]
        self.viewport.mode_from_user = True
        if mode == "orbit":
            lid = self.selected_layer_id()
            if lid is not None:
                try:
                    box = self.world.layer(lid).near_bounds()
                except KeyError:
                    box = None
                if box is not None:
                    self.viewport.nav.orbit_about_box(*box)
        elif mode == "walk" and self.world.meta.get("start_mode") == "fly":
            # a drone's scene walked at eye level: little detail up close and needles where
            # no photo looked (a trial walked the Great Wall and fell into them unwarned)
            self.show_status(AERIAL_WALK_HINT, 8000)
        self._sync_mode_actions()
        self.viewport.setFocus()

    def orbit_layer(self, layer_id: int) -> None:
        """Orbit around a layer (outliner context menu / View > Orbit Selection)."""
        self.select_layer(layer_id)
        self.set_mode("orbit")

    def cycle_mode(self) -> None:
        modes = ["walk", "fly", "orbit"]
        self.set_mode(modes[(modes.index(self.viewport.nav.mode) + 1) % 3])

    def _reset_view(self) -> None:
        self.viewport.nav.reset()
        self._sync_mode_actions()

    def set_up_axis(self, up: Any) -> None:
        """Undoable: make `up` the world's up axis (navigation and collision follow).

        The choice is remembered for this scene file and applied when it is opened again.
        """
        self.world.execute(SetUpAxis(up))
        self._remember_up(self.world.up_axis)
        self.show_status(f"Up axis: {axis_name(self.world.up_axis)}")

    def _up_key(self, path: Path) -> str:
        import hashlib

        return "up_axis/" + hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:16]

    def _remember_up(self, up: Any) -> None:
        if self.path is not None and self.path.suffix.lower() != ".wander":
            self.settings.set(self._up_key(self.path), [float(v) for v in np.asarray(up).ravel()])

    def _remembered_up(self, path: Path) -> np.ndarray | None:
        v = self.settings.get(self._up_key(path))
        try:
            return normalize([float(x) for x in v]) if v else None
        except (TypeError, ValueError):
            return None

    def flip_up(self) -> None:
        self.set_up_axis(-np.asarray(self.world.up_axis, np.float64))

    def estimate_up_axis(self) -> None:
        world = self.world

        def work(progress: ProgressFn, cancel: CancelToken):
            progress(0.2, "Finding the floor")
            return estimate_up(world, world_dense_points(world))

        def done(res: tuple[np.ndarray, str]) -> None:
            if self.world is world:
                up, src = res
                world.execute(SetUpAxis(up, src))
                self.show_status(f"Up axis {axis_name(up)} (estimated from {src})")

        self.run_job("Estimating the up axis", work, done)

    def _fill_bookmarks(self) -> None:
        m = self.bookmarks_menu
        m.clear()
        add = m.addAction("Add Bookmark Here")
        n = len(self.world.bookmarks)
        add.triggered.connect(lambda _=False, n=n: self.viewport.save_bookmark(n))
        add.setEnabled(not self.world.is_empty())
        if self.world.bookmarks:
            m.addSeparator()
        held = held_out_photos(self.world.meta)
        for i, b in enumerate(self.world.bookmarks):
            # a photo kept out of the scene to evaluate it says so: it looks worse than the
            # others, and its place at the end of the list was unexplained (a trial)
            label = f"{b.name} (held out)" if b.name in held else b.name
            a = m.addAction(label + (f"\t{i + 1}" if i < 9 else ""))
            a.triggered.connect(lambda _=False, i=i: self.viewport.go_to_bookmark(i))

    def show_controls(self) -> None:
        """Toggle the key overlay (generated from the actions' shortcuts and the viewport's key
        table)."""
        if self.key_overlay is None:
            from .key_overlay import KeyOverlay

            self.key_overlay = KeyOverlay(self)
        self.key_overlay.toggle()

    def settings_dialog(self) -> bool:
        """Settings > Preferences…: True when the user changed and saved the preferences."""
        from .settings_dialog import SettingsDialog, apply_prefs, load_prefs, save_prefs

        before = load_prefs(self.settings)
        dlg = SettingsDialog(self, before)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        prefs = dlg.values()
        save_prefs(self.settings, prefs)
        apply_prefs(self, prefs, before)
        self.show_status("Settings saved", 3000)
        return True

    def apply_settings(self) -> None:
        """Apply the stored preferences (Settings > Preferences…) to the running window."""
        from .settings_dialog import apply_prefs, load_prefs

        try:
            apply_prefs(self, load_prefs(self.settings))
        except Exception:  # noqa: BLE001 - bad stored preferences must not stop the app
            log.warning("could not apply the stored settings", exc_info=True)

    def _about(self) -> None:
        import html

        from scene.project import app_version

        QMessageBox.about(
            self,
            "About Wander",
            f"<b>Wander</b> {app_version()}<br>Turn photos into 3D Gaussian-splat worlds you "
            "can walk through: a world from one photo or a 360° panorama, a scene "
            "reconstructed from a set of photos or a video, objects made from one photo; "
            "exported as PLY, SPZ, .splat or compressed PLY.<br><br>"
            "Everything works offline with the classical backends; the neural ones are "
            "optional (Settings &gt; Models). Keys: F1.<br><br>"
            + "<br>".join(f"{k}: {html.escape(v)}" for k, v in self._about_facts()),
        )

    def _about_facts(self) -> list[tuple[str, str]]:
        """(label, text) for the About box: where the settings and model weights live and
        what draws the view (a trial found the box two lines long, with nothing to
        report a problem with)."""
        facts = [("Settings", self.settings.q.fileName() or "(none)")]
        try:
            from generators.models.hub import cache_dir

            facts.append(("Model weights", str(cache_dir())))
        except Exception:  # noqa: BLE001 - the About box must open whatever is missing
            log.info("no model cache folder to show", exc_info=True)
        vp = self.viewport
        try:
            from OpenGL import GL

            vp.makeCurrent()
            try:
                gl = (GL.glGetString(GL.GL_RENDERER) or b"").decode(errors="replace")
            finally:
                vp.doneCurrent()
            cpu = getattr(vp.renderer, "_cpu", None) is not None
            facts.append(("View drawn by", gl + (" (frames composited on the CPU)" if cpu else "")))
        except Exception:  # noqa: BLE001 - no GL context yet: say nothing of it
            log.info("no GL renderer to show", exc_info=True)
        return facts

    def _toggle_stats(self) -> None:
        on = self.stats_action.isChecked()
        self.settings.set("show_stats", on)
        for w in (self.fps_label, self.splat_label):
            w.setVisible(on)

    def _toggle_hud(self) -> None:
        on = self.hud_action.isChecked()
        self.settings.set("show_hud", on)
        self.viewport.hud.setVisible(on)

    def _toggle_adaptive(self) -> None:
        self.viewport.quality.enabled = self.adaptive_action.isChecked()

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _cancel_job(self) -> None:
        job = self.jobs.active
        if job is not None:
            job.cancel()
            self.show_status(f"Cancelled: {job.title}")

    # ============================================================== plumbing
    def _attach(self, world: World) -> None:
        self.world.unsubscribe(self._on_world)  # the previous world (or the first, empty one)
        self.world = world
        world.subscribe(self._on_world)
        self.outliner.set_world(world)

    def _on_world(self, ev: Any) -> None:
        # Commands emit before World.execute pushes them on the undo stack: update after.
        QTimer.singleShot(0, self._update_edit_actions)
        QTimer.singleShot(0, self.update_title)  # the document marks it unsaved
        if ev.what == "layers":
            if self.world.is_empty():
                self._show_start_page()
            elif self.stack.currentWidget() is not self.viewport:
                self.stack.setCurrentWidget(self.viewport)
                self._set_scene_chrome(True)
        self.update_title()

    def _on_selection(self, lid: int | None) -> None:
        self.selection_changed.emit(lid)

    def view_thumbnail(self) -> np.ndarray | None:
        """The last full-quality frame, small (the viewport keeps it; None when none was
        drawn since the world opened)."""
        return self.viewport.view_thumbnail

    def _update_edit_actions(self) -> None:
        w = self.world
        self.undo_action.setEnabled(w.can_undo)
        self.redo_action.setEnabled(w.can_redo)
        # Edit > Undo names the step ("Undo Move Fire extinguisher"), as desktop editors do
        for act, label, texts in (
            (self.undo_action, "&Undo", w.undo_texts),
            (self.redo_action, "&Redo", w.redo_texts),
        ):
            step = texts[-1] if texts else ""
            step = step if len(step) <= 40 else step[:39] + "…"
            act.setText(f"{label} {step}".rstrip())
        self.delete_action.setEnabled(self.selected_layer_id() is not None)

    def update_title(self) -> None:
        """ "chelsea.wander — Wander", with a • while there are unsaved changes."""
        if self.world.is_empty() and self.path is None:
            name = ""
        else:
            name = self.path.name if self.path else self.suggested_name("") + " (not saved)"
        dot = "• " if self.is_modified() else ""
        self.setWindowTitle(f"{dot}{name} — Wander" if name else "Wander")

    def _show_start_page(self) -> None:
        self._refresh_start_page()
        self.stack.setCurrentWidget(self.start_page)
        self._set_scene_chrome(False)

    def _set_scene_chrome(self, on: bool) -> None:
        """Scene-only widgets (outliner, camera read-outs) are hidden on the start page."""
        if on and self.outliner_dock.isHidden() and not self._dock_closed_by_user:
            self.outliner_dock.show()
        elif not on and not self.outliner_dock.isHidden():
            self.outliner_dock.hide()
        for w in (self.pos_label, self.mode_label, self.fps_label, self.splat_label):
            w.setVisible(
                on
                and (w not in (self.fps_label, self.splat_label) or self.stats_action.isChecked())
            )

    def _refresh_start_page(self) -> None:
        # World-creating actions ("New …", or any flagged with the Qt property
        # wander_start_page=True) get a tile; inserting objects needs an open world.
        create = [
            a
            for a in self.menu("&Create").actions()
            if not a.menu()
            and not a.isSeparator()
            and (a.text().replace("&", "").startswith("New") or a.property("wander_start_page"))
        ]
        self.start_page.refresh(create, self.settings.recent_files())

    def _refresh_recent(self) -> None:
        m = self.recent_menu
        m.clear()
        recent = self.settings.recent_files()
        for p in recent:
            a = m.addAction(Path(p).name)
            a.setToolTip(p)
            a.setStatusTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))
        if recent:
            m.addSeparator()
            m.addAction("Clear Recent", self._clear_recent)
        m.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._refresh_recent()
        self._refresh_start_page()

    def _say_backdrop_only(self, info: FrameInfo) -> None:
        """At a full frame at rest: BACKDROP_ONLY once when the view leaves all a
        reconstruction photographed (`Navigator.photographed_in_view`), taken back when it
        is in view again."""
        if not info.full_quality or self.viewport.moving:
            return
        vp = self.viewport
        seen = vp.nav.photographed_in_view(vp.nav.camera(vp.width(), vp.height()))
        bar = self.statusBar()
        if seen is False and not self._backdrop_said:
            self._backdrop_said = True
            self.show_status(BACKDROP_ONLY, 8000)
        elif seen is not False:
            self._backdrop_said = False
            if bar.currentMessage() == BACKDROP_ONLY:
                bar.clearMessage()

    def _sync_mode_actions(self) -> None:
        mode = self.viewport.nav.mode
        for m, a in self.mode_actions.items():
            a.setChecked(m == mode)
        self.mode_label.setText(mode.upper())

    def _sync_up_actions(self) -> None:
        name = axis_name(self.world.up_axis)
        for n, a in self.up_actions.items():
            a.setChecked(n == name)

    def _on_frame(self, info: FrameInfo) -> None:
        for lab in (self.fps_label, self.splat_label):  # grow to fit (styled font), never clip
            need = lab.sizeHint().width()
            if need > lab.minimumWidth():
                lab.setMinimumWidth(need)
        if info.full_quality and not self.viewport.moving:
            self.fps_label.setText("full quality")
            self.fps_label.setToolTip(f"Last frame: {info.frame_ms:.0f} ms at full resolution")
        else:
            self.fps_label.setText(f"{info.fps:4.0f} fps")
            self.fps_label.setToolTip(
                f"Frame: {info.frame_ms:.0f} ms at {int(info.scale * 100)}% "
                "resolution (adaptive quality while moving)"
            )
        q = "" if info.full_quality else f"  ·  {int(info.scale * 100)}% res"
        pending = self.render_pending()
        if pending:  # the renderer is still packing new splats on a worker thread
            self.splat_label.setText(f"preparing {fmt_count(pending)} splats…")
            QTimer.singleShot(200, self.viewport.update)  # look again until they show
            return
        r = self.viewport.renderer
        said = self._coarse_said() if self._coarse_said is not None else None
        if (
            q
            and info.moving
            and r is not None
            and r.coarse_level_pending()
            and said is not self.world
        ):
            # a big scene's moving frames are a thin subset until its levels of detail are
            # merged (a second or more after it opens): said once, so a shattered first
            # walk is not taken for the scene (a trial); in the message area, not the
            # splat count (whose width keeps to its longest text). Not for a quick preview
            # at rest (a slow first full frame): that replaced the message of the job that
            # opened the scene (where it was saved, what its time budget cut) at once
            self._coarse_said = weakref.ref(self.world)  # not keeping a closed world alive
            self.show_status(COARSE_PENDING, 4000)
        elif (
            self.statusBar().currentMessage() == COARSE_PENDING
            and r is not None
            and not r.coarse_level_pending()
        ):
            # done: the message stayed its 4 s beside "full quality" (a trial)
            self.statusBar().clearMessage()
        if info.splats_total or not info.triangles:
            counts = f"{fmt_count(info.splats_drawn)} / {fmt_count(info.splats_total)} splats"
        else:  # a mesh alone: "0 / 0 splats" said nothing of it (a trial)
            counts = f"{fmt_count(info.triangles)} triangles"
        self.splat_label.setText(counts + q)
        self._say_backdrop_only(info)
        if info.full_quality and info.splats_total and not info.splats_drawn:
            # flown through a wall or out of the world: black, and nothing said why (a trial)
            # ... said when a second full frame a moment later agrees: a first frame drawn
            # from an order sorted for another pose said it while the castle filled the view
            self._empty_full_frames += 1
            if self._empty_full_frames == 1:
                QTimer.singleShot(EMPTY_RECHECK_MS, self.viewport.request_full)
            elif self.statusBar().currentMessage() != NOTHING_IN_VIEW:
                self.show_status(NOTHING_IN_VIEW, 6000)
        elif info.splats_drawn:
            self._empty_full_frames = 0
            if self.statusBar().currentMessage() == NOTHING_IN_VIEW:
                # back in view (R, a turn): the message would say so for its 6 s (a trial)
                self.statusBar().clearMessage()

    def _update_camera_status(self) -> None:
        nav = self.viewport.nav
        p = nav.position_world
        speed = f"   ·   speed ×{nav.speed_mult:.2g}" if abs(nav.speed_mult - 1) > 1e-6 else ""
        self.pos_label.setText(f"x {p[0]:.2f}   y {p[1]:.2f}   z {p[2]:.2f}{speed}")
        # at the rim of a generated world's walkable area: said on reaching it, and again
        # when the walker pushes against the rim once it has gone; taken away on leaving it
        # (re-shown on every update it stayed up after the walker turned back, and wiped
        # whatever else the status bar said there: a bookmark's note)
        st = nav.status()
        hint = st.get("walk_hint")
        shown = self.statusBar().currentMessage() == hint
        if hint and (hint != self._walk_hint or (st.get("pushing_rim") and not shown)):
            self.show_status(hint, 6000)
        elif not hint and self._walk_hint and self.statusBar().currentMessage() == self._walk_hint:
            self.statusBar().clearMessage()
        self._walk_hint = hint
        if self.mode_label.text() != nav.mode.upper():
            self._sync_mode_actions()

    def _free_status_width(self) -> int:
        """Pixels of the status bar a running job's label may take with no message shown:
        the bar's width less the read-outs, the job's bar and Cancel, and a margin
        (at most JOB_LABEL_MAX)."""
        # each read-out at the width the bar gives it: its minimum when that is more than
        # its text needs (the splat count's longest text): with the text's width alone
        # the job's label took ~60 px too many and pushed the z read-out out (a trial)
        taken = sum(
            max(w.sizeHint().width(), w.minimumWidth()) + 12
            for w in (self.splat_label, self.fps_label, self.pos_label, self.mode_label)
            if w.isVisible()
        )
        taken += self.job_bar.sizeHint().width() + self.job_cancel.sizeHint().width() + 60
        return min(JOB_LABEL_MAX, self.statusBar().width() - taken)

    def _status_message_changed(self, text: str) -> None:
        if not text:
            self.statusBar().setToolTip("")  # show_status's
        self._update_job_ui()

    def _update_job_ui(self) -> None:
        job = self.jobs.active
        if job is None and self.job_box.isVisible():
            fw = QApplication.focusWidget()
            if fw is None or self.job_box.isAncestorOf(fw):
                # the job's Cancel button (or nothing) had the keyboard: hidden with it,
                # the focus went nowhere and M or W did nothing after New World from Photo
                # until the view was clicked (a trial)
                QTimer.singleShot(0, self.restore_view_focus)
        self.job_box.setVisible(job is not None)
        if job is not None:
            more = f" (+{len(self.jobs.jobs) - 1})" if len(self.jobs.jobs) > 1 else ""
            text = f"{job.title}{more} — {job.message}"
            fm = self.job_label.fontMetrics()  # elide so the job never squeezes the read-outs
            # while the status bar says something the job keeps only its title: at 360 px
            # beside the read-outs, a 1280-px window left the message a few characters
            # (a trial: "Bookmark 1 …" cut to "Boo…" during a render)
            message = self.statusBar().currentMessage()
            if message:  # the title in what the message leaves (a trial: "New world from O…")
                left = self._free_status_width() - fm.horizontalAdvance(message) - 24
                shown, room = f"{job.title}{more}", max(JOB_LABEL_WITH_MESSAGE, left)
            else:  # the bar's free width, when it has more (a reconstruction's progress
                # read "… optimising: step 1…" beside an empty bar: a trial)
                shown, room = text, max(JOB_LABEL_PX, self._free_status_width())
            self.job_label.setText(fm.elidedText(shown, Qt.TextElideMode.ElideRight, room))
            self.job_label.setToolTip(text)
            # kept on the job itself: keyed by id(job), a new job that got a finished one's
            # id showed a full bar from its first frame (a trial's video render)
            job.bar_high = max(int(job.fraction * 1000), job.bar_high)
            self.job_bar.setValue(job.bar_high)

    # ================================================================ events
    def keyPressEvent(self, e: Any) -> None:
        if e.key() == Qt.Key.Key_Escape and (
            any(h() for h in self.escape_handlers) or self._escape_job()
        ):
            e.accept()
            return
        super().keyPressEvent(e)

    def _escape_job(self) -> bool:
        """Esc with a job running and nothing else to close: the first says how to cancel
        it, a second within ESC_CANCEL_S cancels it (a trial pressed Esc once, as for a
        dialog, and the job went on to replace the scene). False when no job runs."""
        job = self.jobs.active
        if job is None:
            return False
        now = time.monotonic()
        first_at, first_job = self._esc_first
        if first_job is job and now - first_at <= ESC_CANCEL_S:
            self._esc_first = (-1e9, None)
            self._cancel_job()
        else:
            self._esc_first = (now, job)
            self.show_status(f"Press Esc again to cancel: {job.title}", int(ESC_CANCEL_S * 1000))
        return True

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if self._dropped_paths(e):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        paths = self._dropped_paths(e)
        if paths:
            e.acceptProposedAction()
            self.open_path(paths[0])

    @staticmethod
    def _dropped_paths(e: Any) -> list[str]:
        md = e.mimeData()
        if md is None or not md.hasUrls():
            return []
        return [
            u.toLocalFile()
            for u in md.urls()
            if u.isLocalFile()
            and Path(u.toLocalFile()).name.lower().endswith(scene_suffixes() + PHOTO_SUFFIX_TUPLE)
        ]

    def closeEvent(self, e: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._focus_keeper)
        self.jobs.cancel_all()
        self.settings.set("geometry", self.saveGeometry())
        self.viewport.release_gl()
        if self.world is not None:
            self.world.unsubscribe(self._on_world)
        super().closeEvent(e)

    def resizeEvent(self, e: Any) -> None:
        super().resizeEvent(e)
        ov = self.key_overlay
        if ov is not None and ov.isVisible():
            ov.setGeometry(self.rect())

    def sizeHint(self) -> QSize:
        return QSize(1440, 880)
