"""File > Save Project (Ctrl+S) and Save Project As… (Ctrl+Shift+S); the Save / Discard /
Cancel question before another world replaces, or the window closes over, unsaved work.

The project is written by `scene.project.save_project` in a job (viewer/jobs.py) with real
progress; Cancel writes nothing and keeps the document as it was (its old project file,
still unsaved). The document's state lives in viewer/document.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QEvent, QObject, Qt
from PyQt6.QtWidgets import QApplication, QFileDialog, QMessageBox

from scene import project as proj

from .document import Document
from .features import WindowAPI
from .jobs import Job
from .save_target import confirm_replace, with_extension

log = logging.getLogger(__name__)

PROJECT_FILTER = "Wander projects (*.wander)"


def install(window: WindowAPI) -> None:
    """Add Save / Save As to the File menu; guard world replacement and closing."""
    window.extensions["project_save"] = ProjectSave(window)


class ProjectSave(QObject):
    """Saves the window's document as a .wander project."""

    def __init__(self, window: WindowAPI) -> None:
        super().__init__(window)
        self.win = window
        self.doc: Document = window.document
        f = window.menu("&File")
        f.addSeparator()
        self.save_action = window.add_menu_action(
            f, "&Save Project", self.save, "Ctrl+S", "Save the world as a .wander project"
        )
        self.save_as_action = window.add_menu_action(
            f, "Save Project &As…", self.save_as, "Ctrl+Shift+S"
        )
        self.doc.replace_guard = self.confirm_replace
        window.installEventFilter(self)

    def _nothing_to_save(self) -> bool:
        """An empty world (the start page): says so in the status bar."""
        if not self.win.world.is_empty():
            return False
        self.win.show_status("Nothing to save: open or create a world first")
        return True

    def _ask_target(self) -> Path | None:
        """The project file the user names, its extension added (None: cancelled, or a
        no to replacing the file that name then is)."""
        path, _ = QFileDialog.getSaveFileName(
            self.win, "Save project", self.doc.suggested_path("", "Untitled.wander"), PROJECT_FILTER
        )
        if not path:
            return None
        target = with_extension(path, proj.EXTENSION)
        if not confirm_replace(self.win, path, target, "Save project"):
            self.win.show_status(f"Not saved: {target.name} was kept")
            return None
        return target

    def save(self, path: str | Path | None = None, on_saved: Any = None) -> Job | None:
        """Save to the current project (or `path`) in a job; asks for a name when there is
        none. Returns the job (None when nothing was started: also for an empty world,
        as on the start page, where Ctrl+S asked for a name to save nothing under)."""
        if self._nothing_to_save():
            return None
        target = Path(path) if path is not None else self.doc.project_path
        if target is None:
            self.save_as()
            return None
        target = with_extension(target, proj.EXTENSION)
        if self.doc.refuses_output(target, "the project", keep_open_file=True):
            return None
        if self.doc.incomplete and target == self.doc.project_path:
            choice = self.ask_incomplete(target.name) if self.doc.ask_user else "cancel"
            if choice == "save_as":
                self.save_as()
                return None
            if choice != "replace":
                self.win.show_status(f"Not saved: {target.name} opened with unreadable parts")
                return None
        snap = self.doc.snapshot()

        def work(progress: Any, cancel: Any) -> Path:
            proj.save_project(snap, target, progress=progress)
            return target

        def done(p: Path) -> None:
            self.doc.mark_saved(p)
            if on_saved:
                on_saved(p)

        return self.win.run_job(f"Saving {target.name}", work, done, commits=True)

    def ask_incomplete(self, name: str) -> str:
        """'save_as' | 'replace' | 'cancel': Save over a project that opened with parts
        that could not be read (they would be lost)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Save project",
            f"{name} opened with parts that could not be read. Saving over it keeps only "
            "what is open now, and those parts are lost for good.",
            parent=self.win,
        )
        box.setDetailedText("\n".join(self.doc.incomplete))
        save_as = box.addButton("Save As…", QMessageBox.ButtonRole.AcceptRole)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(save_as)
        box.exec()
        clicked = box.clickedButton()
        return "save_as" if clicked is save_as else "replace" if clicked is replace else "cancel"

    def save_as(self) -> None:
        if self._nothing_to_save():
            return
        target = self._ask_target()
        if target is not None:
            self.save(target)

    def _unsaved_name(self) -> str:
        """What the unsaved-changes prompt calls the world: its project file, else the
        world made from a photo ("the Office world"), else "this world"."""
        from .naming import world_name

        if self.doc.project_path:
            return self.doc.project_path.name
        stem = world_name(self.win.world)
        return f"the {stem} world" if stem else "this world"

    def confirm_replace(self, ask: Any = None) -> bool:
        """Before another world replaces a changed one: Save / Discard / Cancel.

        `ask(name) -> 'save'|'discard'|'cancel'` (default: a message box). Returns True when
        the replacement may go ahead. Save writes the project before returning.
        """
        if not self.doc.is_modified():
            return True
        name = self._unsaved_name()
        choice = (ask or self._ask_replace)(name)
        if choice == "discard":
            self.doc.forget_own_autosave()
            return True
        if choice != "save":
            return False
        target = self.doc.project_path or self._ask_target()
        if target is None:
            return False
        target = with_extension(target, proj.EXTENSION)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            proj.save_project(self.doc.snapshot(), target)
        except Exception as exc:  # noqa: BLE001 - say why and keep the world
            QMessageBox.warning(self.win, "Save project", f"Could not save {target.name}: {exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.doc.mark_saved(target)
        return True

    def _ask_replace(self, name: str) -> str:
        ans = QMessageBox.question(
            self.win,
            "Unsaved changes",
            f"Save the changes to {name} before opening another world?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(ans, "cancel")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Closing the window over unsaved work asks Save / Discard / Cancel first."""
        if (
            obj is self.win
            and event.type() == QEvent.Type.Close
            and self.doc.ask_user
            and self.doc.is_modified()
        ):
            name = self._unsaved_name()
            ans = QMessageBox.question(
                self.win,
                "Unsaved changes",
                f"Save the changes to {name} before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if ans == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return True
            if ans == QMessageBox.StandardButton.Discard:
                self.doc.dirty = False
                self.doc.forget_own_autosave()
                return False
            target = self.doc.project_path or self._ask_target()
            if target is None:
                event.ignore()
                return True
            event.ignore()  # close again once the save has finished
            self.save(target, on_saved=lambda p: self.win.close())
            return True
        return super().eventFilter(obj, event)
