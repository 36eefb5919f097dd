"""Settings > Models: the model manager's table in the app, with Download (progress + cancel
through the window's job runner) and Verify per backend; and `backend_choices`, which the
Create dialogs use to offer the backends that are ready (the best one preselected) and say
what the others need.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Kind", "State", "", "Size", "VRAM", "Licence", "Repository")
ACTION_COLUMN = 3


@dataclass
class Choice:
    """One entry of a Create dialog's backend menu."""

    value: str  # what the generator takes (--backend value)
    label: str
    ready: bool
    hint: str = ""  # what it needs when not ready
    model: str = ""  # model manager name ("" = no weights)


#: (kind, value, label, model manager name, preference: higher = better when ready)
_OFFERS = {
    "panorama": [
        ("classical", "Classical (no weights)", "", 0),
        ("flux", "FLUX.1-Fill + HunyuanWorld LoRA", "flux-pano", 3),
        ("diffusion", "Stable Diffusion inpainting", "sd-inpaint", 2),
    ],
    "depth": [
        ("classical", "Classical prior (no weights)", "", 0),
        ("neural", "Depth Anything V2", "depth-anything-v2-small", 2),
    ],
    "scene": [
        ("sfm", "Structure from motion (no weights)", "", 1),
        ("feedforward", "Depth Anything 3 (feed-forward)", "depth-anything-3", 2),
    ],
}


def _has_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def backend_choices(kind: str) -> tuple[list[Choice], int]:
    """The backends of `kind` ("panorama", "depth", "scene") and the index to preselect: the
    best ready one. A GPU-only backend on a machine without CUDA is not ready."""
    from generators.models.hub import backend_state

    out: list[Choice] = []
    best, best_pref = 0, -1
    gpu = _has_gpu()
    for value, label, model, pref in _OFFERS[kind]:
        if not model:
            ready, hint = True, ""
        else:
            st = backend_state(model)
            ready = st.ready
            if not st.ready:
                hint = (
                    f"needs {', '.join(st.missing_packages)}"
                    if st.missing_packages
                    else f"{st.state}: Settings > Models > Download {model}"
                )
            elif not st.backend.cpu_ok and not gpu:
                ready, hint = False, f"needs a GPU with ~{st.backend.vram_gb:g} GB"
            else:
                hint = ""
        out.append(Choice(value, label + ("" if ready else f" — {hint}"), ready, hint, model))
        if ready and pref > best_pref:
            best, best_pref = len(out) - 1, pref
    return out, best


def fill_combo(combo: QComboBox, kind: str) -> list[Choice]:
    """Put `backend_choices(kind)` into a combo box: not-ready entries stay visible (so the user
    sees what they need) but cannot be chosen; the best ready one is selected."""
    choices, best = backend_choices(kind)
    combo.clear()
    for c in choices:
        combo.addItem(c.label, c.value)
        item = combo.model().item(combo.count() - 1)  # type: ignore[union-attr]
        if not c.ready and item is not None:
            item.setEnabled(False)
            item.setToolTip(c.hint)
    combo.setCurrentIndex(best)
    return choices


class ModelsDialog(QDialog):
    """The model table with a Download / Verify button per backend and a progress line."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Models")
        self.resize(1100, 480)
        lay = QVBoxLayout(self)
        from generators.models.hub import cache_dir

        intro = QLabel(
            "None of these is needed: every generator's classical backend (the default) "
            "works without downloads. These neural backends add quality where their "
            f"weights (Hugging Face cache: {cache_dir()}), their Python package and, for "
            "some, a GPU are present. * = the licence restricts use."
        )
        # wrapped: on one line it made the dialog 1950 px wide, its Close button off a
        # 1600-px screen (a trial)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the repositories take what is left (elided, whole in the tooltip): sized to its
        # contents the column ran past the dialog's edge behind a scroll bar
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        lic = COLUMNS.index("Licence")  # long licence names: elided, whole in the tooltip
        header.setSectionResizeMode(lic, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(lic, 230)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        lay.addWidget(self.table)
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setWordWrap(True)  # a long error wraps; it widened the dialog
        self.progress = QProgressBar()
        self.cancel_btn = QPushButton("Cancel download")
        for w in (self.progress, self.cancel_btn):
            # their room is kept while hidden: shown, they were squeezed to a sliver above
            # the Close button (a trial)
            keep = w.sizePolicy()
            keep.setRetainSizeWhenHidden(True)
            w.setSizePolicy(keep)
            w.setVisible(False)
        self.cancel_btn.clicked.connect(self.cancel)
        row.addWidget(self.status, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_btn)
        lay.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.job: Any = None
        self.refresh()

    def refresh(self) -> None:
        from generators.models.hub import backend_state
        from generators.models.registry import BACKENDS

        self.states = [backend_state(b) for b in BACKENDS]
        self.table.setRowCount(len(self.states))
        for r, st in enumerate(self.states):
            b = st.backend
            # the package a backend needs, by name in the row (a tooltip alone was missed)
            state = (
                "ready"
                if st.ready
                else st.state
                + (f"; needs {', '.join(st.missing_packages)}" if st.missing_packages else "")
            )
            cells = (
                b.name,
                b.kind,
                state,
                "",
                f"{b.size_gb:g} GB",
                f"{b.vram_gb:g} GB",
                b.licence + (" *" if b.restricted else ""),
                " + ".join(b.repo_ids),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                tip = st.detail or b.title
                item.setToolTip(text if c >= COLUMNS.index("Licence") else tip)
                self.table.setItem(r, c, item)
            btn = QPushButton("Verify" if st.state == "downloaded" else "Download")
            btn.setObjectName(f"action:{b.name}")
            if st.state == "downloaded":
                btn.setEnabled(not st.missing_packages)
                btn.clicked.connect(lambda _=False, n=b.name: self.verify(n))
            else:
                btn.clicked.connect(lambda _=False, n=b.name: self.download(n))
            if st.missing_packages:
                btn.setToolTip(b.pip)
            self.table.setCellWidget(r, ACTION_COLUMN, btn)

    def _busy(self, on: bool, text: str = "") -> None:
        self.progress.setVisible(on)
        self.cancel_btn.setVisible(on)
        self.progress.setValue(0)
        self.status.setText(text)

    def download(self, name: str, *, confirm: bool = True) -> Any:
        """Start downloading `name` as a window job (asks first when the licence restricts use)."""
        from generators.models.download import download
        from generators.models.registry import get_backend

        b = get_backend(name)
        if self.job is not None and self.job.running:
            self.status.setText("a download is running: wait or cancel it")
            return None
        if confirm and b.restricted:
            ans = QMessageBox.question(
                self, "Licence", f"{b.name}: {b.licence}\n\n{b.restricted}\n\nAccept and download?"
            )
            if ans != QMessageBox.StandardButton.Yes:
                self.status.setText(f"{name}: not downloaded (its licence was not accepted)")
                return None
        from generators.models.hub import missing_packages

        # the weights come without the Python package that runs them: say so from the start
        needs = missing_packages(b)
        also = f". To use it, also: {b.pip}" if needs else ""
        self._busy(True, f"downloading {name}…{also}")

        def done(_paths: Any) -> None:
            self._busy(False, f"{name}: downloaded — Verify runs one tiny inference{also}")
            self.refresh()

        def failed(exc: BaseException) -> None:
            self._busy(False, f"{name}: {exc}{also}")
            self.refresh()

        def work(progress: Any, cancel: Any) -> Any:
            return download(name, progress=progress, cancel=cancel, retry="press Download again")

        self.job = self.window.run_job(f"Download {name}", work, done, failed)
        self.job.progressed.connect(self._progressed)
        self.job.ended.connect(lambda _j: self._ended())
        return self.job

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.status.setText(message)

    def _ended(self) -> None:
        if self.job is not None and self.job.state == "cancelled":
            self._busy(False, "download cancelled (what was fetched is kept; Download resumes)")
            self.refresh()

    def verify(self, name: str) -> Any:
        from generators.models.verify import verify

        self._busy(True, f"verifying {name}…")

        def done(res: dict) -> None:
            self._busy(False, f"{name}: OK on {res['device']} — {res['summary']}")

        def failed(exc: BaseException) -> None:
            self._busy(False, f"{name}: {exc}")

        self.job = self.window.run_job(
            f"Verify {name}", lambda progress, cancel: verify(name), done, failed
        )
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
