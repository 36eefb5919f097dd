"""What a feature may use from the main window: the `WindowAPI` protocol.

A feature is a module with one entry point, `install(window: WindowAPI) -> None`, called once
by the window (`viewer.main_window.FEATURES` lists them, in install order; nothing is found
by scanning a folder — as napari's `init_qactions` wires its actions). `install` adds the
feature's menus and actions, connects to the window's signals and keeps its own object in
`window.extensions[name]` (tests and other features reach it there).

A feature touches the window only through the members below: no `hasattr`/`getattr`
probing (every member always exists) and no private (`_name`) members. `MainWindow` is a
`QMainWindow`, so features parent their actions, docks and dialogs to `window` as usual.
Edits go through the undo stack on the World: `window.world.execute(command)`
(scene.world.Command; Edit > Undo / Redo call `world.undo()` / `world.redo()`).
Long work goes through `window.run_job` (the window's job runner: progress bar, Cancel,
errors shown).

`tests/test_features.py` checks that `MainWindow` implements every member and that each
listed feature's `install` takes a `WindowAPI` and keeps to these rules.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from PyQt6.QtCore import QObject, Qt, pyqtBoundSignal
    from PyQt6.QtGui import QAction
    from PyQt6.QtWidgets import QDockWidget, QMenu, QStatusBar

    from scene.camera import Camera
    from scene.progress import CancelToken, ProgressFn
    from scene.world import World

    from .document import Document
    from .jobs import Job
    from .settings import Settings
    from .viewport import ViewportCore

T = TypeVar("T")


@runtime_checkable
class WindowAPI(Protocol):
    """The part of `viewer.main_window.MainWindow` a feature may use."""

    # ------------------------------------------------------------------ state
    #: the open World (replaced by `set_world`; follow `world_replaced`)
    world: World
    #: the open project or scene file, None for a new world (features change it by `set_path`)
    path: Path | None
    settings: Settings
    viewport: ViewportCore
    #: installed features' objects by name ("objects_tools", "splat_tools"...)
    extensions: dict[str, Any]
    #: Esc handlers, asked in turn until one returns True (e.g. stop a selection tool)
    escape_handlers: list[Callable[[], bool]]
    #: the Scene outliner's dock (a feature's own dock may go below it)
    outliner_dock: QDockWidget
    #: the open document's state shared by the project features (unsaved changes, autosave
    #: slot, camera path; viewer/document.py), made by the window
    document: Document

    # ---------------------------------------------------------------- signals
    selection_changed: pyqtBoundSignal  # layer id or None
    world_replaced: pyqtBoundSignal  # the new World

    # ---------------------------------------------------------------- menus
    def menu(self, title: str) -> QMenu:
        """The top-level menu `title` ('&File', '&Edit', '&Create', '&View', '&Object'...),
        created in the standard order when new."""
        ...

    def add_menu_action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], Any],
        shortcut: str | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        """A menu entry: `slot()` on trigger; its shortcut works in full screen too."""
        ...

    # ------------------------------------------------------------ work, world
    def run_job(
        self,
        title: str,
        fn: Callable[[ProgressFn, CancelToken], T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
        commits: bool = False,
    ) -> Job:
        """Run `fn(progress, cancel)` on the window's job runner; `on_done` on the GUI thread.
        `commits`: the job writes files, so a Cancel that arrives after it finished still
        delivers its result (the app then matches the disk)."""
        ...

    def set_world(self, world: World, path: Path | None = None, new_work: bool = False) -> None:
        """Show `world` (from `path`, None for a new one) and frame the camera on it;
        `new_work`: just made here and in no file yet (unsaved: closing it asks first)."""
        ...

    def confirm_replace(self) -> bool:
        """True when the open world may be replaced (unsaved changes saved or dropped)."""
        ...

    def set_path(self, path: Path) -> None:
        """The open world is now stored at `path` (after a save): title and Open Recent follow.
        (`path` is read-only to features otherwise.)"""
        ...

    def open_inputs(self) -> list[tuple[str, Path]]:
        """Files the open world was read or made from, as (label, path): no output may replace
        one."""
        ...

    def dialog_dir(self) -> Path:
        """Where a file dialog starts (beside the open file, never inside the app's folder)."""
        ...

    def remember_dir(self, folder: str | Path) -> None:
        """File dialogs start in `folder` from now on (`dialog_dir`'s last folder used)."""
        ...

    # ------------------------------------------------------------- selection
    def selected_layer_id(self) -> int | None: ...

    def select_layer(self, layer_id: int | None) -> None: ...

    # ---------------------------------------------------------------- camera
    def current_camera(self) -> Camera:
        """The camera the viewport shows now (viewport size in device pixels)."""
        ...

    def pick_ray(
        self, x: float | None = None, y: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """World-space (origin (3,), unit direction (3,)) through widget pixel (x, y)."""
        ...

    def set_mode(self, mode: str) -> None:
        """Navigation mode: 'walk', 'fly' or 'orbit'."""
        ...

    def render_pending(self) -> int:
        """Visible splats the renderer has not packed yet (0 when all are drawn)."""
        ...

    def view_thumbnail(self) -> Any:
        """The last full-quality frame of the view, small ((h, w, 3) uint8 ndarray), or
        None when none was drawn since the world opened."""
        ...

    # ---------------------------------------------------------------- status
    def show_status(self, text: str, ms: int = 5000) -> None: ...

    def report_background_error(self, what: str, exc: BaseException | None = None) -> None:
        """Log a background failure and show `what` in the status bar (any thread)."""
        ...

    def report_job_error(self, title: str, exc: BaseException) -> None:
        """Show a failed job: status bar and a non-modal message box."""
        ...

    def show_warning(self, title: str, text: str, details: str = "") -> None:
        """A non-modal warning box about work that is done (what to check in it)."""
        ...

    def update_title(self) -> None:
        """Refresh the title (file name, • while there are unsaved changes)."""
        ...

    # ------------------------------------------- the QMainWindow calls features make
    def addAction(self, action: QAction) -> None:
        """Register an action's shortcut with the window (works while menus are hidden)."""
        ...

    def addDockWidget(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None: ...

    def splitDockWidget(
        self, first: QDockWidget, second: QDockWidget, orientation: Qt.Orientation
    ) -> None: ...

    def statusBar(self) -> QStatusBar: ...

    def findChildren(self, kind: type, name: str = "") -> list[Any]: ...

    def installEventFilter(self, obj: QObject) -> None: ...

    def close(self) -> bool: ...


#: A feature's entry point.
Install = Callable[[WindowAPI], None]
