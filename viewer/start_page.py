"""The start page shown when nothing is open: open, create, demo, recent files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                             QVBoxLayout, QWidget)


def _tile(title: str, text: str, on_click: Callable[[], None]) -> QPushButton:
    b = QPushButton(f"{title}\n{text}")
    b.setObjectName("tile")
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    b.setMinimumSize(250, 86)
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    b.clicked.connect(lambda _=False: on_click())
    return b


class StartPage(QWidget):
    """Big buttons for the first things a user does; emits `open_recent(path)`."""

    open_recent = pyqtSignal(str)

    def __init__(self, on_open: Callable[[], None], on_demo: Callable[[], None] | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_open, self.on_demo = on_open, on_demo
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        col = QVBoxLayout()
        col.addStretch(2)
        h1 = QLabel("Wander")
        h1.setObjectName("h1")
        sub = QLabel("Turn photos into 3D worlds you can walk through.")
        sub.setObjectName("sub")
        col.addWidget(h1)
        col.addWidget(sub)
        col.addSpacing(26)
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        col.addLayout(self.grid)
        col.addSpacing(26)
        sec = QLabel("RECENT")
        sec.setObjectName("section")
        col.addWidget(sec)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(0)
        col.addLayout(self.recent_box)
        col.addStretch(3)
        holder = QWidget()
        holder.setLayout(col)
        holder.setMaximumWidth(760)
        holder.setMinimumWidth(540)
        outer.addWidget(holder, 4)
        outer.addStretch(1)
        self.refresh([], [])

    def refresh(self, create_actions: list[QAction], recent: list[str]) -> None:
        """Rebuild the tiles (Open, Demo, one per Create action) and the recent list."""
        for lay in (self.grid, self.recent_box):
            while lay.count():
                w = lay.takeAt(0).widget()
                if w is not None:
                    w.deleteLater()
        tiles = [_tile("Open scene…", "PLY, SPZ, SPLAT, GLB or a .wander project", self.on_open)]
        tiles[0].setObjectName("tile")
        if self.on_demo is not None:
            tiles.append(_tile("Demo world", "A small bundled scene to walk around", self.on_demo))
        for act in create_actions:
            if act.isSeparator() or not act.text():
                continue
            label = act.text().replace("&", "")
            tip = act.toolTip() if act.toolTip() and act.toolTip() != label else "Create"
            tiles.append(_tile(label, tip, act.trigger))
        for i, t in enumerate(tiles):
            self.grid.addWidget(t, i // 2, i % 2)
        if not recent:
            none = QLabel("No recent files yet — drop a scene file anywhere in this window.")
            none.setObjectName("sub")
            self.recent_box.addWidget(none)
        for p in recent[:6]:
            b = QPushButton(f"{Path(p).name}    —    {Path(p).parent}")
            b.setObjectName("link")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _=False, p=p: self.open_recent.emit(p))
            self.recent_box.addWidget(b)
