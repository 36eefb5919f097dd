"""Autosave and recovery: the document's recovery file every few minutes and at quit with
unsaved changes; at start, an offer to recover work a crash left behind; File > Recover
Unsaved Work….

Each document autosaves into its own slot (a fresh id per world, so one crashed unsaved
world's recovery is never overwritten by the next). A recovery file lives until the user
recovers it (and then saves or quits cleanly) or discards it: "Later" and a clean quit
of another document leave it alone. The autosave is written off the GUI thread through
viewer/jobs.py's `background` (silent: no progress bar); a recovery loads in a job.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QObject, QSize, QTimer
from PyQt6.QtGui import QIcon, QPixmap
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from scene import project as proj
from scene.world import World

from .document import Document
from .features import WindowAPI
from .jobs import Job, background

log = logging.getLogger(__name__)

AUTOSAVE_SECONDS = 180.0


def install(window: WindowAPI) -> None:
    """Start autosaving `window`'s document; add File > Recover Unsaved Work…."""
    window.extensions["autosave"] = Autosave(window)


class Autosave(QObject):
    """Writes the document's recovery file and offers recovered work back."""

    def __init__(self, window: WindowAPI) -> None:
        super().__init__(window)
        self.win = window
        self.doc: Document = window.document
        self._writing = threading.Lock()
        self.recovery_job: Job | None = None
        self.last_recover_dialog: RecoverDialog | None = None
        f = window.menu("&File")
        self.recover_action = window.add_menu_action(
            f,
            "Recover &Unsaved Work…",
            self.recover_dialog,
            tip="Reopen work that Wander autosaved before it closed without saving",
        )
        self.autosave_timer = QTimer(self)
        secs = float(os.environ.get("WANDER_AUTOSAVE_SECONDS", AUTOSAVE_SECONDS))
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start(int(secs * 1000))
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.on_quit)
        QTimer.singleShot(400, self.offer_recovery)

    @property
    def autosave_file(self) -> Path | None:
        """What this document's autosave last wrote."""
        return self.doc.autosave_file

    # =============================================================== autosave
    def autosave_now(self, wait: bool = False) -> bool:
        """Write this document's recovery file if there are unsaved changes (off the GUI
        thread). Returns True when an autosave was started."""
        doc = self.doc
        if not doc.is_modified() or doc.changes == doc.autosaved_changes:
            return False
        if not self._writing.acquire(blocking=False):
            return False
        doc.autosaved_changes = doc.changes
        snap, project_path, folder, doc_id = (
            doc.snapshot(),
            doc.project_path,
            doc.autosave_folder,
            doc.doc_id,
        )
        # the recovery list shows the view the user had (the last full frame); a drawing of
        # the splat centres from the front only when none was drawn
        thumb = self.win.view_thumbnail()

        def work() -> None:
            try:
                self._write(snap, project_path, folder, doc_id, thumb)
            except Exception as exc:  # noqa: BLE001 - autosave must never disturb the user
                # logged with its traceback and shown in the status bar (any thread)
                self.win.report_background_error("Autosave failed", exc)
            finally:
                self._writing.release()

        fut = background(work, name="autosave")
        if wait:
            fut.result()
        return True

    def _write(
        self,
        snap: World,
        project_path: Path | None,
        folder: Path,
        doc_id: str,
        thumbnail: np.ndarray | None = None,
    ) -> Path:
        """Write the slot (with `thumbnail`, (h, w, 3) uint8, when given); a recovery this
        world came from is superseded by it."""
        target = proj.write_autosave(snap, project_path, folder, doc_id, thumbnail=thumbnail)
        doc = self.doc
        if doc_id != doc.doc_id:  # the world was replaced meanwhile: the file is its recovery
            return target
        old, doc.autosave_file = doc.autosave_file, target
        if old is not None and old != target:  # e.g. saved under a new name since
            proj.discard_recovery(proj.Recovery(old, None, 0.0))
        if doc.adopted is not None and doc.adopted != target:
            proj.discard_recovery(proj.Recovery(doc.adopted, None, 0.0))
            doc.adopted = None
        return target

    def on_quit(self) -> None:
        """Unsaved changes at quit go to this document's recovery file; a clean quit
        removes only this document's own file (never another crashed world's)."""
        doc = self.doc
        if doc.is_modified():
            with self._writing:
                try:
                    self._write(
                        doc.snapshot(),
                        doc.project_path,
                        doc.autosave_folder,
                        doc.doc_id,
                        self.win.view_thumbnail(),
                    )
                except Exception:  # noqa: BLE001 - quitting must go on
                    log.exception("autosave at quit failed")
        else:
            doc.forget_own_autosave()

    # =============================================================== recovery
    def pending_recoveries(self) -> list[proj.Recovery]:
        """Recovery files left by other sessions (not this document's own), newest first."""
        own = {self.doc.autosave_file, self.doc.adopted}
        return [r for r in proj.find_recoveries(self.doc.autosave_folder) if r.autosave not in own]

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
            if not self.doc.ask_user:
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

    def recover(self, rec: proj.Recovery) -> Job | None:
        """Load a recovery in a job and make it the current, unsaved world; its file
        stays until the work is saved, autosaved anew or discarded. Returns the job
        (None when the user kept the current world)."""
        if not self.win.confirm_replace():
            return None

        def done(res: tuple[World, list[str]]) -> None:
            world, warnings = res
            self.win.set_world(world, rec.project)
            self.win.viewport.restore_view(world.meta.get("view"))  # where the work stood
            self.doc.dirty = True  # recovered work is not in the project file yet
            self.win.update_title()
            self.doc.adopted = rec.autosave
            if rec.doc_id:
                self.doc.doc_id = rec.doc_id  # keep autosaving into the same slot
            msg = f"Recovered unsaved work ({rec.title})"
            if warnings:
                msg += f" ({len(warnings)} warnings: {warnings[0]})"
            self.win.show_status(msg + " — save it to keep it", 10000)

        def failed(exc: BaseException) -> None:
            self.win.report_job_error(f"Could not recover {rec.title}", exc)

        self.recovery_job = self.win.run_job(
            "Recovering unsaved work",
            lambda progress, cancel: proj.recover(rec, progress),
            done,
            failed,
        )
        return self.recovery_job

    def recover_dialog(self, recs: list[proj.Recovery] | None = None) -> bool:
        """File > Recover Unsaved Work…: every recovery with its time and thumbnail.
        Returns True if one is being loaded."""
        recs = self.pending_recoveries() if recs is None else recs
        if not recs:
            QMessageBox.information(
                self.win, "Recover unsaved work", "There is no unsaved work to recover."
            )
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
        box.setInformativeText(
            'Recover these changes now? "Later" keeps them: File > Recover '
            "Unsaved Work… lists all autosaved work at any time."
        )
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
        if (
            confirm
            and QMessageBox.question(
                self,
                "Discard unsaved work",
                f"Delete the autosaved work of {rec.title}? This cannot be undone.",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        proj.discard_recovery(rec)
        row = self.list.currentRow()
        self.list.takeItem(row)
        del self.recoveries[row]
        if not self.recoveries:
            self.reject()
