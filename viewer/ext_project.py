"""Projects, export and fly-through videos in the app (an extension of MainWindow).

File:   Save (Ctrl+S), Save As (Ctrl+Shift+S), Recover Unsaved Work…, Export…, Export
        Layer…, Export Panorama…, Export Cameras…; autosave to a recovery file every few
        minutes and on quit with unsaved changes; at start, an offer to recover work a
        crash left behind.

Each document autosaves into its own slot (a fresh id per world, so one crashed unsaved
world's recovery is never overwritten by the next). A recovery file lives until the user
recovers it (and then saves or quits cleanly) or discards it: "Later" and a clean quit
of another document leave it alone. File > Recover Unsaved Work… lists them all with
their time and thumbnail.
Create: Camera Path ▸ Record While Walking, Add Keyframe from View (K), Path from
        Bookmarks, Play Preview, Load/Save Path…, Clear, Edit Path… (keyframe list: select,
        set to view, retime, delete, scrub; viewer/path_editor.py), Show Path in View;
        Render Video…. Every path change is one undo entry.
All long work runs through `window.run_job` (progress bar + Cancel); the pure logic lives
in scene/project.py, scene/export.py, scene/campath.py and generators/video.py.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QIcon, QKeySequence, QPixmap
from PyQt6.QtWidgets import (QApplication, QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                             QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                             QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                             QMessageBox, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from scene import project as proj
from scene.campath import CameraPath, Keyframe, PathRecorder
from scene.world import World

log = logging.getLogger(__name__)

AUTOSAVE_SECONDS = 180.0
RECORD_HZ = 10.0
EXPORT_FILTERS = ("3DGS PLY (*.ply);;antimatter15 splat (*.splat);;Niantic SPZ (*.spz);;"
                  "SuperSplat compressed PLY (*.compressed.ply);;"
                  "glTF binary mesh (*.glb);;Wavefront OBJ mesh (*.obj)")
VIDEO_SIZES = ["1280x720", "1920x1080", "3840x2160", "854x480", "1080x1920", "1024x1024"]


def install(window: Any) -> None:
    """Add the project / export / camera-path actions to `window`."""
    window.project_ext = ProjectExtension(window)


class ProjectExtension(QObject):
    """Owns save state, autosave, the camera path and its recorder for one window."""

    _render_request = pyqtSignal(object, object, object)  # camera, result box, threading.Event
    saved = pyqtSignal(object)   # Path, after a successful save

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.win = window
        self.dirty = False
        self._changes = 0          # edits since start; autosave only when this moved
        self._autosaved_changes = -1
        self.ask_on_close = os.environ.get("WANDER_NO_DIALOGS") is None
        self.autosave_folder = self._autosave_folder()
        self.doc_id = proj.new_doc_id()          # this document's autosave slot
        self.autosave_file: Path | None = None   # what this document's autosave last wrote
        self.adopted: Path | None = None         # the recovery file this world came from
        self.path: CameraPath | None = None
        self.recorder = PathRecorder()
        self._world: World | None = None
        self._autosaving = threading.Lock()
        self._preview_t0 = 0.0
        self._preview_mode: str | None = None
        self.editor: Any = None
        self._build_actions()
        self._render_request.connect(self._render_on_gui)
        self._record_timer = QTimer(self)
        self._record_timer.timeout.connect(self._record_sample)
        self._preview_timer = QTimer(self)
        self._preview_timer.timeout.connect(self._preview_tick)
        self.autosave_timer = QTimer(self)
        secs = float(os.environ.get("WANDER_AUTOSAVE_SECONDS", AUTOSAVE_SECONDS))
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start(int(secs * 1000))
        if hasattr(window, "world_replaced"):
            window.world_replaced.connect(self._on_world_replaced)
        self._on_world_replaced(window.world)
        from .path_editor import PathEditor

        self.editor = PathEditor(self)
        self.editor.show_path = bool(self._setting("show_camera_path", True))
        self.show_path_action.setChecked(self.editor.show_path)
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.on_quit)
        QTimer.singleShot(400, self.offer_recovery)

    # ================================================================ set-up
    def _autosave_folder(self) -> Path:
        env = os.environ.get("WANDER_AUTOSAVE_DIR")
        if env:
            return Path(env)
        settings = getattr(self.win, "settings", None)
        q = getattr(settings, "q", None)
        if q is not None and q.fileName():
            return Path(q.fileName()).parent / "autosave"
        return proj.autosave_dir()

    def _action(self, menu: Any, text: str, slot: Any, shortcut: str | None = None,
                tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self.win)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        self.win.addAction(a)  # shortcuts keep working in full screen
        return a

    def _build_actions(self) -> None:
        f = self.win.menu("&File")
        f.addSeparator()
        self.save_action = self._action(f, "&Save Project", self.save, "Ctrl+S",
                                        "Save the world as a .wander project")
        self.save_as_action = self._action(f, "Save Project &As…", self.save_as, "Ctrl+Shift+S")
        self.recover_action = self._action(f, "&Recover Unsaved Work…", self.recover_dialog,
                                           tip="Reopen work that Wander autosaved before it "
                                               "closed without saving")
        f.addSeparator()
        self._action(f, "&Export…", self.export_dialog, "Ctrl+E",
                     "Export the visible scene to PLY / SPLAT / SPZ / GLB / OBJ")
        self._action(f, "Export &Layer…", self.export_layer_dialog)
        self._action(f, "Export &Panorama…", self.export_panorama_dialog)
        self._action(f, "Export &Cameras (COLMAP)…", self.export_cameras_dialog)

        c = self.win.menu("&Create")
        if c.actions():
            c.addSeparator()  # one group per kind of thing created
        m = c.addMenu("Camera &Path")
        self.record_action = self._action(m, "&Record While Walking", self.toggle_record,
                                          "Ctrl+R", checkable=True)
        self._action(m, "Add &Keyframe from View", self.add_keyframe, "K")
        self._action(m, "Path from &Bookmarks", self.path_from_bookmarks)
        self.preview_action = self._action(m, "&Play Preview", self.toggle_preview,
                                           "Ctrl+Shift+P", checkable=True)
        m.addSeparator()
        self._action(m, "&Load Path…", self.load_path_dialog)
        self._action(m, "&Save Path…", self.save_path_dialog)
        self._action(m, "&Clear Path", self.clear_path)
        m.addSeparator()
        self.edit_path_action = self._action(m, "&Edit Path…", self.toggle_editor, "Ctrl+Shift+K",
                                             "Keyframe list: select, move, retime, delete; "
                                             "scrub the preview", checkable=True)
        self.show_path_action = self._action(m, "Show Path in &View", self.toggle_show_path,
                                             checkable=True)
        self._action(c, "Render &Video…", self.render_video_dialog, tip="Render the camera path to MP4")

    # ============================================================ dirty state
    def _on_world_replaced(self, world: World) -> None:
        if self._world is not None:
            self._world.unsubscribe(self._on_world_changed)
            if not self.dirty:  # nothing unsaved: this document's slot is stale
                self._forget_own_autosave()
            # (with unsaved changes the autosave stays: it is that world's recovery)
        self._world = world
        world.subscribe(self._on_world_changed)
        self.doc_id = proj.new_doc_id()
        self.autosave_file = None
        self.adopted = None
        self.dirty = False
        self.path = None
        saved = world.meta.get("camera_path") if isinstance(world.meta, dict) else None
        if saved:
            try:
                self.path = CameraPath.from_dict(saved, default_up=world.up_axis)
            except ValueError:
                self.path = None
        if self.editor is not None:
            self.editor.scrub_mode = None  # a scrub of the last world gives nothing back
            self.editor.changed()

    def _on_world_changed(self, ev: Any) -> None:
        self.dirty = True
        self._changes += 1
        if ev.what == "camera_path" and self.editor is not None:
            self.editor.changed()

    def _setting(self, key: str, default: Any) -> Any:
        st = getattr(self.win, "settings", None)
        return st.get(key, default, bool) if st is not None else default

    # ============================================================ path edits
    def set_path(self, path: CameraPath | None, text: str) -> None:
        """Replace the camera path as one undo entry named `text` ("Move keyframe 2")."""
        from .path_editor import SetCameraPath

        self.win.world.execute(SetCameraPath(self, path, text))

    def toggle_editor(self) -> None:
        """Show or hide the Camera Path panel (keyframe list and preview scrubber)."""
        on = not self.editor.dock.isVisible()
        self.editor.dock.setVisible(on)
        self.edit_path_action.setChecked(on)
        if on:
            self.editor.panel.refresh()

    def toggle_show_path(self) -> None:
        """Draw the camera path in the viewport or not (persisted)."""
        self.editor.show_path = self.show_path_action.isChecked()
        st = getattr(self.win, "settings", None)
        if st is not None:
            st.set("show_camera_path", self.editor.show_path)
        self.editor.overlay.update()

    def _snapshot(self) -> World:
        """The world to save, with the current camera path in its meta."""
        snap = proj.snapshot_world(self.win.world)
        snap.meta.pop("camera_path", None)
        if self.path is not None:
            snap.meta["camera_path"] = self.path.to_dict()
        return snap

    @property
    def project_path(self) -> Path | None:
        p = getattr(self.win, "path", None)
        return Path(p) if p is not None and Path(p).suffix.lower() == proj.EXTENSION else None

    def suggested_path(self, suffix: str, fallback: str) -> str:
        """Default for a save dialog: beside the open project and named after it
        (`trip.wander` -> `trip<suffix>`), else beside the open scene file and named after it
        (`out.sog` -> `out.wander`, `out<suffix>`), else named after the world's source photo
        (`chelsea.jpg` -> `chelsea<suffix>`) beside it, else `fallback` in the folder file
        dialogs start in."""
        from .naming import world_name

        folder = self.dialog_dir()  # beside the open file, but never in the app's own folder
        p = self.project_path
        if p is not None:
            return str(folder / (p.stem + suffix))
        src = getattr(self.win, "path", None)
        if src is not None:  # a scene file (out.sog): out.wander / out.ply beside it
            src = Path(src)
            stem = src.name[:-len(".compressed.ply")] if src.name.lower().endswith(".compressed.ply") \
                else src.stem
            out = folder / (stem + (suffix or proj.EXTENSION))
            if out.name.lower() == src.name.lower():  # never propose replacing the input
                out = folder / f"{stem}-edited{suffix}"
            return str(out)
        stem = world_name(self.win.world)
        if stem is not None:
            return str(folder / (stem + (suffix or proj.EXTENSION)))
        return str(folder / fallback)

    def dialog_dir(self) -> Path:
        fn = getattr(self.win, "dialog_dir", None)
        return Path(fn()) if callable(fn) else Path.home()

    # ================================================================= saving
    def refuses_output(self, path: str | Path, what: str, keep_open_file: bool = False) -> bool:
        """True (after saying why in a message box) when `path` is the same file as one the
        open world was read or made from (the open file, its photos, its panorama), so no
        save or export dialog can replace an input. `keep_open_file`: Save may replace the
        open project itself."""
        from scene.files import check_outputs

        inputs = self.win.open_inputs()
        if keep_open_file:
            inputs = [(lab, p) for lab, p in inputs if lab != "the open file"
                      or Path(p).suffix.lower() != proj.EXTENSION]
        try:
            check_outputs([(what, path)], inputs)
        except ValueError as exc:
            QMessageBox.warning(self.win, "Wander", str(exc))
            return True
        return False

    def save(self, path: str | Path | None = None, on_saved: Any = None) -> Any:
        """Save to the current project (or `path`); asks for a name when there is none."""
        target = Path(path) if path is not None else self.project_path
        if target is None:
            self.save_as()
            return None
        if target.suffix.lower() != proj.EXTENSION:
            target = target.with_suffix(proj.EXTENSION)
        if self.refuses_output(target, "the project", keep_open_file=True):
            return None
        snap = self._snapshot()
        old_project = self.project_path

        def work(progress: Any, cancel: Any) -> Path:
            progress(0.1, f"Saving {target.name}")
            proj.save_project(snap, target)
            return target

        def done(p: Path) -> None:
            self.win.path = p
            self.dirty = False
            proj.discard_autosave(old_project, self.autosave_folder, self.doc_id)
            proj.discard_autosave(p, self.autosave_folder, self.doc_id)
            self._forget_own_autosave()
            settings = getattr(self.win, "settings", None)
            if settings is not None and hasattr(settings, "add_recent"):
                settings.add_recent(p)
            if hasattr(self.win, "_update_title"):
                self.win._update_title()
            self.win.show_status(f"Saved {p.name}")
            self.saved.emit(p)
            if on_saved:
                on_saved(p)

        return self.win.run_job(f"Saving {target.name}", work, done)

    def save_as(self) -> None:
        start = self.suggested_path("", "Untitled.wander")
        path, _ = QFileDialog.getSaveFileName(self.win, "Save project", start,
                                              "Wander projects (*.wander)")
        if path:
            self.save(path)

    # =============================================================== autosave
    def autosave_now(self, wait: bool = False) -> bool:
        """Write this document's recovery file if there are unsaved changes (off the GUI
        thread). Returns True when an autosave was started."""
        world = self.win.world
        if not self.dirty or world.is_empty() or self._changes == self._autosaved_changes:
            return False
        if not self._autosaving.acquire(blocking=False):
            return False
        self._autosaved_changes = self._changes
        snap, project_path, folder = self._snapshot(), self.project_path, self.autosave_folder
        doc_id = self.doc_id

        def work() -> None:
            try:
                self._write_autosave(snap, project_path, folder, doc_id)
            except Exception as exc:  # noqa: BLE001 - autosave must never disturb the user
                # logged with its traceback and shown in the status bar (any thread)
                self.win.report_background_error("Autosave failed", exc)
            finally:
                self._autosaving.release()

        t = threading.Thread(target=work, name="autosave", daemon=True)
        t.start()
        if wait:
            t.join()
        return True

    def _write_autosave(self, snap: World, project_path: Path | None, folder: Path,
                        doc_id: str) -> Path:
        """Write the slot; a recovery this world came from is superseded by it."""
        target = proj.write_autosave(snap, project_path, folder, doc_id)
        if doc_id != self.doc_id:  # the world was replaced meanwhile: the file is its recovery
            return target
        old, self.autosave_file = self.autosave_file, target
        if old is not None and old != target:  # e.g. saved under a new name since
            proj.discard_recovery(proj.Recovery(old, None, 0.0))
        if self.adopted is not None and self.adopted != target:
            proj.discard_recovery(proj.Recovery(self.adopted, None, 0.0))
            self.adopted = None
        return target

    def _forget_own_autosave(self) -> None:
        """Delete this document's recovery file(s): its work is saved or discarded."""
        for f in (self.autosave_file, self.adopted):
            if f is not None:
                proj.discard_recovery(proj.Recovery(f, None, 0.0))
        proj.discard_autosave(self.project_path, self.autosave_folder, self.doc_id)
        self.autosave_file = self.adopted = None

    def on_quit(self) -> None:
        """Unsaved changes at quit go to this document's recovery file; a clean quit
        removes only this document's own file (never another crashed world's)."""
        if self.dirty and not self.win.world.is_empty():
            with self._autosaving:
                try:
                    self._write_autosave(self._snapshot(), self.project_path,
                                         self.autosave_folder, self.doc_id)
                except Exception:  # noqa: BLE001 - quitting must go on
                    log.exception("autosave at quit failed")
        else:
            self._forget_own_autosave()

    def confirm_replace(self, ask: Any = None) -> bool:
        """Before another world replaces a changed one: Save / Discard / Cancel.

        `ask(name) -> 'save'|'discard'|'cancel'` (default: a message box). Returns True when
        the replacement may go ahead. Save writes the project before returning.
        """
        if not self.dirty or self.win.world.is_empty():
            return True
        name = self.project_path.name if self.project_path else "this world"
        choice = (ask or self._ask_replace)(name)
        if choice == "discard":
            self._forget_own_autosave()
            return True
        if choice != "save":
            return False
        target = self.project_path
        if target is None:
            path, _ = QFileDialog.getSaveFileName(self.win, "Save project",
                                                  self.suggested_path("", "Untitled.wander"),
                                                  "Wander projects (*.wander)")
            if not path:
                return False
            target = Path(path)
        if target.suffix.lower() != proj.EXTENSION:
            target = target.with_suffix(proj.EXTENSION)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            proj.save_project(self._snapshot(), target)
        except Exception as exc:  # noqa: BLE001 - say why and keep the world
            QMessageBox.warning(self.win, "Save project", f"Could not save {target.name}: {exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        old_project = self.project_path
        self.win.path = target
        self.dirty = False
        proj.discard_autosave(old_project, self.autosave_folder, self.doc_id)
        self._forget_own_autosave()
        settings = getattr(self.win, "settings", None)
        if settings is not None and hasattr(settings, "add_recent"):
            settings.add_recent(target)
        if hasattr(self.win, "_update_title"):
            self.win._update_title()
        self.win.show_status(f"Saved {target.name}")
        return True

    def _ask_replace(self, name: str) -> str:
        ans = QMessageBox.question(
            self.win, "Unsaved changes", f"Save the changes to {name} before opening another world?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(ans, "cancel")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.win and event.type() == QEvent.Type.Close and self.ask_on_close \
                and self.dirty and not self.win.world.is_empty():
            name = self.project_path.name if self.project_path else "this world"
            ans = QMessageBox.question(
                self.win, "Unsaved changes", f"Save the changes to {name} before closing?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if ans == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return True
            if ans == QMessageBox.StandardButton.Discard:
                self.dirty = False
                self._forget_own_autosave()
                return False
            if self.project_path is None:
                path, _ = QFileDialog.getSaveFileName(self.win, "Save project",
                                                      self.suggested_path("", "Untitled.wander"),
                                                      "Wander projects (*.wander)")
                if not path:
                    event.ignore()
                    return True
            else:
                path = str(self.project_path)
            event.ignore()  # close again once the save has finished
            self.save(path, on_saved=lambda p: self.win.close())
            return True
        return super().eventFilter(obj, event)

    def pending_recoveries(self) -> list[proj.Recovery]:
        """Recovery files left by other sessions (not this document's own), newest first."""
        own = {self.autosave_file, self.adopted}
        return [r for r in proj.find_recoveries(self.autosave_folder) if r.autosave not in own]

    def offer_recovery(self, ask: Any = None) -> bool:
        """At start: offer to reopen work a crash left behind.

        `ask(recovery) -> 'recover'|'discard'|'later'` replaces the dialog (tests) and is
        asked about the newest one. Without it, one recovery gets a message box and
        several get the File > Recover list. "Later" keeps every file. Returns True if a
        recovery is being loaded.
        """
        recs = self.pending_recoveries()
        if not recs:
            return False
        if ask is None:
            if not self.ask_on_close:
                return False
            if len(recs) > 1:
                return self.recover_dialog(recs)
            ask = self._ask_recovery
        rec = recs[0]
        choice = ask(rec)
        if choice == "discard":
            proj.discard_recovery(rec)
            return False
        if choice != "recover":
            return False  # "later": the file stays for the next start or File > Recover
        return self.recover(rec) is not None

    def recover(self, rec: proj.Recovery) -> Any:
        """Load a recovery in a job and make it the current, unsaved world; its file
        stays until the work is saved, autosaved anew or discarded. Returns the job
        (None when the user kept the current world)."""
        if not self.confirm_replace():
            return None

        def done(res: tuple[World, list[str]]) -> None:
            world, warnings = res
            self.win.set_world(world, rec.project)
            self.dirty = True  # recovered work is not in the project file yet
            if hasattr(self.win, "_update_title"):
                self.win._update_title()
            self.adopted = rec.autosave
            if rec.doc_id:
                self.doc_id = rec.doc_id  # keep autosaving into the same slot
            msg = f"Recovered unsaved work ({rec.title})"
            if warnings:
                msg += f" ({len(warnings)} warnings: {warnings[0]})"
            self.win.show_status(msg + " — save it to keep it", 10000)

        def failed(exc: BaseException) -> None:
            self.win._job_failed(f"Could not recover {rec.title}", exc)

        self.recovery_job = self.win.run_job("Recovering unsaved work",
                                             lambda progress, cancel: proj.recover(rec), done,
                                             failed)
        return self.recovery_job

    def recover_dialog(self, recs: list[proj.Recovery] | None = None) -> bool:
        """File > Recover Unsaved Work…: every recovery with its time and thumbnail.
        Returns True if one is being loaded."""
        recs = self.pending_recoveries() if recs is None else recs
        if not recs:
            QMessageBox.information(self.win, "Recover unsaved work",
                                    "There is no unsaved work to recover.")
            return False
        dlg = RecoverDialog(self.win, recs)
        self.last_recover_dialog = dlg
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.chosen is None:
            return False
        return self.recover(dlg.chosen) is not None

    def _ask_recovery(self, rec: proj.Recovery) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec.saved_at))
        what = rec.project.name if rec.project else "an unsaved world"
        box = QMessageBox(self.win)
        box.setWindowTitle("Recover unsaved work?")
        box.setText(f"Wander closed without saving changes to {what} (autosaved {when}).")
        box.setInformativeText("Recover them now? \"Later\" keeps them: File > Recover "
                               "Unsaved Work… lists them at any time.")
        if rec.thumbnail is not None:
            pix = QPixmap(str(rec.thumbnail))
            if not pix.isNull():
                box.setIconPixmap(pix)
        rec_btn = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        dis_btn = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        clicked = box.clickedButton()
        return "recover" if clicked is rec_btn else "discard" if clicked is dis_btn else "later"

    # ================================================================= export
    def export(self, out: str | Path, fmt: str | None = None, layer: Any = None,
               options: Any = None) -> Any:
        """Export in a job (visible layers baked, or one layer)."""
        from scene.export import export_world

        out = Path(out)
        if self.refuses_output(out, "the export"):
            return None
        from cli.cmd_export import mesh_export_problem
        from scene.io import output_format

        try:
            problem = mesh_export_problem(self.win.world, output_format(out, fmt), layer)
        except ValueError:
            problem = None  # an unknown format: export_world says so in the job
        if problem:
            self.win.show_status(problem.split(":")[0], 8000)
            QMessageBox.warning(self.win, "Export", problem)
            return None
        snap = self._snapshot()

        def work(progress: Any, cancel: Any) -> dict:
            progress(0.1, f"Exporting {out.name}")
            return export_world(snap, out, fmt, layer=layer, options=options)

        def done(info: dict) -> None:
            n = info.get("splats", info.get("vertices"))
            unit = "splats" if "splats" in info else "vertices"
            self.win.show_status(f"Exported {n:,} {unit} to {out.name}", 8000)

        return self.win.run_job(f"Exporting {out.name}", work, done)

    def export_dialog(self, layer: Any = None) -> None:
        if self.win.world.is_empty():
            self.win.show_status("Nothing to export: open or create a world first")
            return
        path, filt = QFileDialog.getSaveFileName(self.win, "Export", self.suggested_path(".ply", "scene.ply"),
                                                 EXPORT_FILTERS)
        if not path:
            return
        if not Path(path).suffix:
            path += "." + filt.split("*.")[-1].rstrip(")")
        elif "compressed" in filt and not path.lower().endswith(".compressed.ply"):
            path = str(Path(path).with_suffix("")) + ".compressed.ply"
        options = None
        if Path(path).suffix.lower() in (".ply", ".splat", ".spz"):
            dlg = ExportOptionsDialog(self.win, self.win.world)
            if dlg.exec() != QDialog.DialogCode.Accepted:
                return
            options = dlg.options()
        self.export(path, None, layer, options)

    def export_layer_dialog(self) -> None:
        world = self.win.world
        if world.is_empty():
            return
        lid = self.win.selected_layer_id() if hasattr(self.win, "selected_layer_id") else None
        if lid is None:
            names = [lay.name for lay in world.layers]
            name, ok = QInputDialog.getItem(self.win, "Export layer", "Layer:", names, 0, False)
            if not ok:
                return
            lid = world.find(name).id
        self.export_dialog(layer=lid)

    def export_panorama_dialog(self) -> None:
        from scene.export import export_panorama, find_panorama

        pano = find_panorama(self.win.world)
        if pano is None:
            self.win.show_status("This world has no panorama to export", 6000)
            return
        path, _ = QFileDialog.getSaveFileName(self.win, "Export panorama",
                                              self.suggested_path("_panorama.png", "panorama.png"),
                                              "PNG (*.png)")
        if path and not self.refuses_output(path, "the panorama"):
            self.win.run_job("Exporting panorama", lambda p, c: export_panorama(pano, path),
                             lambda files: self.win.show_status(
                                 f"Wrote {Path(path).name} and {len(files) - 1} cube faces", 8000))

    def export_cameras_dialog(self) -> None:
        from scene.export import export_cameras, scene_cameras

        world = self.win.world
        cams = scene_cameras(world, 1920, 1080)
        if self.path is not None and not cams:  # no bookmarks: the path's keyframes
            cams = [kf.camera(1920, 1080, self.path.up) for kf in self.path.keyframes]
        if not cams:
            self.win.show_status("No bookmarks or camera path to export as cameras", 6000)
            return
        folder = QFileDialog.getExistingDirectory(self.win, "Export cameras to folder",
                                                  str(self.dialog_dir()))
        if folder:
            self.win.run_job("Exporting cameras", lambda p, c: export_cameras(cams, folder),
                             lambda files: self.win.show_status(
                                 f"Wrote {len(cams)} cameras (COLMAP text + JSON)", 8000))

    # ============================================================ camera path
    def toggle_record(self) -> None:
        if self._record_timer.isActive():
            self._record_timer.stop()
            self.record_action.setChecked(False)
            try:
                self.set_path(self.recorder.path(up=self.win.world.up_axis), "Record camera path")
            except ValueError as exc:
                self.win.show_status(str(exc), 6000)
                return
            self.win.show_status(f"Recorded a {self.path.duration:.1f} s path with "
                                 f"{len(self.path)} keyframes — Create > Render Video…", 8000)
        else:
            self.recorder.clear()
            self._record_sample()
            self._record_timer.start(int(1000 / RECORD_HZ))
            self.record_action.setChecked(True)
            self.win.show_status("Recording the camera path: walk around, Ctrl+R to stop", 8000)

    def _record_sample(self) -> None:
        self.recorder.add(self.win.current_camera(), time.perf_counter())

    def add_keyframe(self) -> None:
        """Append the current view, 2 s (or walking pace) after the last keyframe."""
        cam = self.win.current_camera()
        kfs = list(self.path.keyframes) if self.path is not None else []
        t = 0.0
        if kfs:
            dist = float(np.linalg.norm(cam.position - kfs[-1].position))
            t = kfs[-1].time + max(2.0, dist / 1.4)
        kfs.append(Keyframe.from_camera(cam, t))
        self.set_path(CameraPath(kfs, self.win.world.up_axis), f"Add keyframe {len(kfs)}")
        self.win.show_status(f"Keyframe {len(kfs)} at {t:.1f} s", 4000)

    def path_from_bookmarks(self) -> None:
        try:
            self.set_path(CameraPath.from_bookmarks(self.win.world.bookmarks, seconds=3.0,
                                                    up=self.win.world.up_axis),
                          "Path from bookmarks")
        except ValueError as exc:
            self.win.show_status(str(exc), 6000)
            return
        self.win.show_status(f"Camera path through {len(self.path)} bookmarks "
                             f"({self.path.duration:.0f} s)", 6000)

    def clear_path(self) -> None:
        if self.path is not None:
            self.set_path(None, "Clear camera path")
        self.recorder.clear()
        self.win.show_status("Camera path cleared", 3000)

    def load_path_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.win, "Load camera path", str(self.dialog_dir()),
                                              "Camera paths (*.json)")
        if path:
            try:
                self.set_path(CameraPath.load(path, default_up=self.win.world.up_axis),
                              "Load camera path")
            except (ValueError, OSError) as exc:
                QMessageBox.warning(self.win, "Camera path", str(exc))
                return
            self.win.show_status(f"Loaded {len(self.path)} keyframes", 4000)

    def save_path_dialog(self) -> None:
        if self.path is None:
            self.win.show_status("No camera path yet: record one or add keyframes (K)", 6000)
            return
        path, _ = QFileDialog.getSaveFileName(self.win, "Save camera path",
                                              self.suggested_path("_path.json", "path.json"),
                                              "JSON (*.json)")
        if path and not self.refuses_output(path, "the camera path"):
            self.path.save(path)

    def toggle_preview(self) -> None:
        if self._preview_timer.isActive():
            self._stop_preview()
            return
        if self.path is None or len(self.path) < 2:
            self.preview_action.setChecked(False)
            self.win.show_status("Need a camera path with two or more keyframes", 6000)
            return
        nav = self.win.viewport.nav
        self._preview_mode = getattr(nav, "mode", None)
        if hasattr(self.win, "set_mode"):
            self.win.set_mode("fly")  # no gravity pulling the camera off the path
        self._preview_t0 = time.perf_counter()
        self._preview_timer.start(16)
        self.preview_action.setChecked(True)

    def _preview_tick(self) -> None:
        t = self.path.start + time.perf_counter() - self._preview_t0 if self.path else 0.0
        if self.path is None or t > self.path.start + self.path.duration:
            self._stop_preview()
            return
        self.show_path_time(t)

    def show_path_time(self, t: float) -> None:
        """Put the viewport camera at the path's pose at time t."""
        kf = self.path.keyframe_at(t)
        cam = self.path.camera(t, 2, 2)
        vp = self.win.viewport
        vp.nav.set_view_world(kf.position, cam.forward)
        vp.request_full()

    def _stop_preview(self) -> None:
        self._preview_timer.stop()
        self.preview_action.setChecked(False)
        if self._preview_mode and hasattr(self.win, "set_mode"):
            self.win.set_mode(self._preview_mode)

    # ================================================================== video
    def render_video(self, out: str | Path, size: tuple[int, int], fps: float,
                     crf: int = 18) -> Any:
        """Render the camera path to `out` in a job; frames drawn on the GUI thread by the
        viewport's own renderer (GL lives there), encoding on the worker."""
        from generators.video import render_video

        if self.path is None:
            raise ValueError("no camera path: record one, add keyframes (K) or use bookmarks")
        path, world, out = self.path, self.win.world, Path(out)

        def work(progress: Any, cancel: Any) -> Any:
            def render(scene_obj: Any, cam: Any) -> np.ndarray:
                box: dict[str, Any] = {}
                ev = threading.Event()
                self._render_request.emit(cam, box, ev)
                while not ev.wait(0.05):
                    cancel.check()
                if "error" in box:
                    raise box["error"]
                return box["image"]

            return render_video(world, path, out, render, size=size, fps=fps, crf=crf,
                                progress=progress, cancel=cancel)

        def done(res: Any) -> None:
            self.win.show_status(f"Wrote {res.path.name}: {res.frames} frames, "
                                 f"{res.ms_per_frame:.0f} ms/frame", 10000)

        return self.win.run_job(f"Rendering {out.name}", work, done)

    def _render_on_gui(self, cam: Any, box: dict, ev: threading.Event) -> None:
        try:
            box["image"] = self.win.viewport.render_to_image(cam.width, cam.height, camera=cam)
        except Exception as exc:  # noqa: BLE001 - re-raised on the worker
            box["error"] = exc
        finally:
            ev.set()

    def render_video_dialog(self) -> None:
        if self.path is None:
            if len(self.win.world.bookmarks) >= 2:
                self.path_from_bookmarks()
            else:
                QMessageBox.information(self.win, "Render video",
                                        "Make a camera path first: Create > Camera Path > Record "
                                        "While Walking, or add keyframes with K.")
                return
        dlg = VideoDialog(self.win, self.path, self.suggested_path(".mp4", "flythrough.mp4"))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            size, fps, out = dlg.values()
            from scene.files import check_outputs

            check_outputs([("the video", out)], self.win.open_inputs())
            self.render_video(out, size, fps)
        except (ValueError, FileNotFoundError) as exc:
            QMessageBox.warning(self.win, "Render video", str(exc))


# ====================================================================== dialogs
class RecoverDialog(QDialog):
    """The recovery files: title, autosave time, layer count and thumbnail of each.

    Recover (or double-click) accepts with `chosen` set; Discard deletes the selected
    file after asking; Later keeps them all.
    """

    def __init__(self, parent: QWidget, recoveries: list[proj.Recovery]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.setMinimumSize(520, 380)
        self.chosen: proj.Recovery | None = None
        self.recoveries = list(recoveries)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Wander autosaved this work before it closed without saving:"))
        self.list = QListWidget()
        self.list.setIconSize(QSize(160, 100))
        self.list.itemDoubleClicked.connect(lambda _item: self._recover())
        lay.addWidget(self.list)
        for rec in self.recoveries:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec.saved_at))
            text = f"{rec.title}\nautosaved {when}"
            if rec.layers:
                text += f" — {rec.layers} layer{'s' if rec.layers != 1 else ''}"
            item = QListWidgetItem(text)
            if rec.thumbnail is not None:
                pix = QPixmap(str(rec.thumbnail))
                if not pix.isNull():
                    item.setIcon(QIcon(pix))
            item.setToolTip(str(rec.autosave))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        bb = QDialogButtonBox()
        self.recover_button = bb.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = bb.addButton("Discard…", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = bb.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.clicked.connect(self._recover)
        self.discard_button.clicked.connect(lambda: self.discard_selected())
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def selected(self) -> proj.Recovery | None:
        row = self.list.currentRow()
        return self.recoveries[row] if 0 <= row < len(self.recoveries) else None

    def _recover(self) -> None:
        self.chosen = self.selected()
        if self.chosen is not None:
            self.accept()

    def discard_selected(self, confirm: bool = True) -> None:
        """Delete the selected recovery file (after asking unless `confirm` is False)."""
        rec = self.selected()
        if rec is None:
            return
        if confirm and QMessageBox.question(
                self, "Discard unsaved work",
                f"Delete the autosaved work of {rec.title}? This cannot be undone.") \
                != QMessageBox.StandardButton.Yes:
            return
        proj.discard_recovery(rec)
        row = self.list.currentRow()
        self.list.takeItem(row)
        del self.recoveries[row]
        if not self.recoveries:
            self.reject()


class ExportOptionsDialog(QDialog):
    """SH degree, minimum opacity, crop box."""

    def __init__(self, parent: QWidget, world: World) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export options")
        form = QFormLayout(self)
        self.sh = QComboBox()
        deg = max((lay.data.sh_degree for lay in world.layers if not lay.is_mesh), default=0)
        self.sh.addItems([str(d) for d in range(deg + 1)])
        self.sh.setCurrentIndex(deg)
        form.addRow("SH degree to keep", self.sh)
        self.opacity = QDoubleSpinBox()
        self.opacity.setRange(0.0, 0.99)
        self.opacity.setSingleStep(0.01)
        self.opacity.setValue(0.0)
        form.addRow("Drop splats with opacity below", self.opacity)
        self.crop = QCheckBox("Crop to box")
        form.addRow(self.crop)
        lo, hi = world.bounds()
        self.box: list[QDoubleSpinBox] = []
        for label, vals in (("Box min", lo), ("Box max", hi)):
            row = QHBoxLayout()
            for v in vals:
                s = QDoubleSpinBox()
                s.setRange(-1e6, 1e6)
                s.setDecimals(3)
                s.setValue(float(v))
                s.setEnabled(False)
                self.crop.toggled.connect(s.setEnabled)
                row.addWidget(s)
                self.box.append(s)
            form.addRow(label, row)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def options(self) -> Any:
        from scene.export import ExportOptions

        crop = None
        if self.crop.isChecked():
            v = [s.value() for s in self.box]
            crop = (v[:3], v[3:])
        return ExportOptions(sh_degree=int(self.sh.currentText()), crop=crop,
                             min_opacity=self.opacity.value())


class VideoDialog(QDialog):
    """Resolution, frame rate and output file for Render Video."""

    def __init__(self, parent: QWidget, path: CameraPath, out: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Render video")
        self.setMinimumWidth(460)  # room for the output path
        form = QFormLayout(self)
        self.size = QComboBox()
        self.size.setEditable(True)
        self.size.addItems(VIDEO_SIZES)
        form.addRow("Size (WxH)", self.size)
        self.fps = QSpinBox()
        self.fps.setRange(1, 120)
        self.fps.setValue(30)
        form.addRow("Frames per second", self.fps)
        self.out = QLineEdit(out or str(Path.home() / "flythrough.mp4"))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out)
        row.addWidget(browse)
        form.addRow("Output", row)
        form.addRow("Duration", QLineEdit(f"{path.duration:.1f} s, {len(path)} keyframes",
                                          readOnly=True))
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Video file", self.out.text(), "MP4 (*.mp4)")
        if path:
            self.out.setText(path if path.lower().endswith(".mp4") else path + ".mp4")

    def values(self) -> tuple[tuple[int, int], float, str]:
        from generators.video import parse_size

        return parse_size(self.size.currentText()), float(self.fps.value()), self.out.text()
