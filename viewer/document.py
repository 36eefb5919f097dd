"""The open document's state: unsaved changes, its project file, its autosave slot and its
camera path. One per window (`window.document`); the project features read and change it:

    viewer/project_save.py      File > Save, Save As; Save/Discard/Cancel before replacing
    viewer/project_autosave.py  the recovery file every few minutes and at quit; recovery
    viewer/project_export.py    File > Export…, Export Layer…, Export Panorama…, Export Cameras…
    viewer/camera_paths.py      Create > Camera Path (record, keyframes, preview, editor)
    viewer/video_render.py      Create > Render Video…

Names: `window.path` is the open scene or project file; `Document.project_path` is that
file when it is a .wander project (else None); `Document.camera.path` is the camera path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QMessageBox

from scene import project as proj
from scene.campath import CameraPath
from scene.io import scene_stem
from scene.world import World


class CameraPathSlot:
    """Holds the document's camera path; `SetCameraPath(slot, new, text)` (the undo entry
    of every path edit) swaps `slot.path`."""

    def __init__(self) -> None:
        self.path: CameraPath | None = None


class Document(QObject):
    """Save state of the world shown in `window`: `dirty` (unsaved changes), the autosave
    slot (`doc_id`, `autosave_file`, `adopted`), the camera path (`camera.path`)."""

    saved = pyqtSignal(object)  # Path, after a successful save
    camera_path_changed = pyqtSignal()  # an edit, undo or redo changed the camera path

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self._clean: tuple[int, ...] = ()  # the world's history_state when last saved/opened
        self._tainted = False  # a change no command recorded since then
        self.changes = 0  # edits since start; autosave only when this moved
        self.autosaved_changes = -1
        #: False: never open a dialog (tests, scripted runs: WANDER_NO_DIALOGS)
        self.ask_user = os.environ.get("WANDER_NO_DIALOGS") is None
        self.autosave_folder = self._autosave_folder()
        self.doc_id = proj.new_doc_id()  # this document's autosave slot
        self.autosave_file: Path | None = None  # what this document's autosave last wrote
        self.adopted: Path | None = None  # the recovery file this world came from
        self.camera = CameraPathSlot()
        #: asked before another world replaces this one (project_save's Save/Discard/Cancel);
        #: False keeps the current world
        self.replace_guard: Callable[[], bool] | None = None
        #: what could not be read when the open project was opened (a damaged file): Save
        #: over it asks first, as the unreadable parts would be lost
        self.incomplete: list[str] = []
        self._world: World | None = None
        window.world_replaced.connect(self._on_world_replaced)
        self._on_world_replaced(window.world)

    def _autosave_folder(self) -> Path:
        env = os.environ.get("WANDER_AUTOSAVE_DIR")
        if env:
            return Path(env)
        q = self.win.settings.q
        if q is not None and q.fileName():
            return Path(q.fileName()).parent / "autosave"
        return proj.autosave_dir()

    # ============================================================ world state
    def _on_world_replaced(self, world: World) -> None:
        if self._world is not None:
            self._world.unsubscribe(self._on_world_changed)
            if not self.dirty:  # nothing unsaved: this document's slot is stale
                self.forget_own_autosave()
            # (with unsaved changes the autosave stays: it is that world's recovery)
        self._world = world
        world.subscribe(self._on_world_changed)
        self.doc_id = proj.new_doc_id()
        self.autosave_file = None
        self.adopted = None
        self.incomplete = []
        self.dirty = False
        self.camera.path = None
        saved = world.meta.get("camera_path") if isinstance(world.meta, dict) else None
        if saved:
            try:
                self.camera.path = CameraPath.from_dict(saved, default_up=world.up_axis)
            except ValueError:
                self.camera.path = None
        self.camera_path_changed.emit()

    @property
    def dirty(self) -> bool:
        """Unsaved changes: the world's undo history is not where it was when saved (an
        edit undone and redone is back), or a change outside the history happened."""
        if self._tainted:
            return True
        return self._world is not None and self._world.history_state != self._clean

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if value:
            self._tainted = True
        else:
            self._tainted = False
            self._clean = self._world.history_state if self._world is not None else ()

    def _on_world_changed(self, ev: Any) -> None:
        if not self._world.in_command:
            self._tainted = True
        self.changes += 1
        if ev.what == "camera_path":
            self.camera_path_changed.emit()

    def set_camera_path(self, path: CameraPath | None, text: str) -> None:
        """Replace the camera path as one undo entry named `text` ("Move keyframe 2")."""
        from scene.commands import SetCameraPath

        self.win.world.execute(SetCameraPath(self.camera, path, text))

    def is_modified(self) -> bool:
        """Unsaved changes in a world that holds something."""
        return self.dirty and not self.win.world.is_empty()

    # ================================================================ files
    @property
    def project_path(self) -> Path | None:
        """The open file when it is a .wander project, else None."""
        p = self.win.path
        return Path(p) if p is not None and Path(p).suffix.lower() == proj.EXTENSION else None

    def snapshot(self) -> World:
        """The world to save, with the current camera path in its meta (shares layer data,
        so a worker thread can write it while the user keeps editing)."""
        snap = proj.snapshot_world(self.win.world)
        snap.meta.pop("camera_path", None)
        if self.camera.path is not None:
            snap.meta["camera_path"] = self.camera.path.to_dict()
        if not self.win.world.is_empty():  # reopened, the project shows this view
            snap.meta["view"] = self.win.viewport.current_view()
        return snap

    def dialog_dir(self) -> Path:
        return Path(self.win.dialog_dir())

    def suggested_path(self, suffix: str, fallback: str) -> str:
        """Default for a save dialog: beside the open project and named after it
        (`trip.wander` -> `trip<suffix>`), else beside the open scene file and named after it
        (`out.sog` -> `out.wander`, `out<suffix>`), else named after the world's source photo
        (`chelsea.jpg` -> `chelsea<suffix>`) beside it, else `fallback` in the folder file
        dialogs start in."""
        from .naming import world_name

        folder = self.dialog_dir()  # beside the open file, but never in the app's own folder
        if not os.access(folder, os.W_OK):
            # beside a photo in a read-only folder (a shared drive, a camera card): a save
            # there fails, so propose home (a trial's world from a read-only folder)
            folder = Path.home()
        p = self.project_path
        if p is not None:
            return str(folder / (p.stem + suffix))
        src = self.win.path
        if src is not None:  # a scene file (out.sog): out.wander / out.ply beside it
            src = Path(src)
            stem = scene_stem(src)
            out = folder / (stem + (suffix or proj.EXTENSION))
            if out.name.lower() == src.name.lower():  # never propose replacing the input
                out = folder / f"{stem}-edited{suffix}"
            return str(out)
        stem = world_name(self.win.world)
        if stem is not None:
            return str(folder / (stem + (suffix or proj.EXTENSION)))
        return str(folder / fallback)

    def refuses_output(self, path: str | Path, what: str, keep_open_file: bool = False) -> bool:
        """True (after saying why in a message box) when `path` is the same file as one the
        open world was read or made from (the open file, its photos, its panorama), so no
        save or export dialog can replace an input. `keep_open_file`: Save may replace the
        open project itself."""
        from scene.files import check_outputs

        inputs = self.win.open_inputs()
        if keep_open_file:
            inputs = [
                (lab, p)
                for lab, p in inputs
                if lab != "the open file" or Path(p).suffix.lower() != proj.EXTENSION
            ]
        try:
            check_outputs([(what, path)], inputs)
        except ValueError as exc:
            QMessageBox.warning(self.win, "Wander", str(exc))
            return True
        return False

    # ======================================================== after a save
    def mark_saved(self, path: Path) -> None:
        """The world is now saved as the project `path`: it becomes the open file, nothing
        is unsaved, this document's recovery files go, the title and recent list update."""
        old_project = self.project_path
        self.dirty = False
        self.incomplete = []
        proj.discard_autosave(old_project, self.autosave_folder, self.doc_id)
        proj.discard_autosave(path, self.autosave_folder, self.doc_id)
        self.forget_own_autosave()
        self.win.set_path(path)  # title, Open Recent (and its menu) follow the saved file
        self.win.show_status(f"Saved {path.name}")
        self.saved.emit(path)

    def forget_own_autosave(self) -> None:
        """Delete this document's recovery file(s): its work is saved or discarded."""
        for f in (self.autosave_file, self.adopted):
            if f is not None:
                proj.discard_recovery(proj.Recovery(f, None, 0.0))
        proj.discard_autosave(self.project_path, self.autosave_folder, self.doc_id)
        self.autosave_file = self.adopted = None
