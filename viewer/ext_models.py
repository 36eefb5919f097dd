"""Settings > Models…: opens the model manager dialog (viewer/models_dialog.py)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QAction

from .features import WindowAPI


class ModelsTools:
    """The Settings > Models… action of one window (kept on `window.extensions`)."""

    def __init__(self, window: WindowAPI) -> None:
        self.window = window
        self.dialog: Any = None
        self.action = QAction("&Models…", window)
        self.action.setStatusTip("Neural backends: download, verify, see what each needs")
        self.action.triggered.connect(lambda _=False: self.open())
        window.menu("&Settings").addAction(self.action)

    def open(self) -> Any:
        from .models_dialog import ModelsDialog

        if self.dialog is None:
            self.dialog = ModelsDialog(self.window)
        else:
            self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()  # keys go to it (Esc closes), not to the view behind
        return self.dialog


def install(window: WindowAPI) -> None:
    """Add Settings > Models… to the window."""
    window.extensions["models_tools"] = ModelsTools(window)
