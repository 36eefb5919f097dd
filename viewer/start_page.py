"""The start page shown when nothing is open: open, create, demo, recent files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class Tile(QPushButton):
    """A big start-page button: a glyph badge, a bold title and a muted line of help."""

    def __init__(self, glyph: str, title: str, text: str, on_click: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumSize(280, 84)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(title)
        self.title = title
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 12, 16, 12)
        row.setSpacing(14)
        badge = QLabel(glyph)
        badge.setObjectName("badge")
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        badge.setFixedSize(42, 42)
        row.addWidget(badge)
        col = QVBoxLayout()
        col.setSpacing(2)
        t = QLabel(title)
        t.setObjectName("tileTitle")
        t.setWordWrap(True)
        s = QLabel(text)
        s.setObjectName("tileText")
        s.setWordWrap(True)
        col.addWidget(t)
        col.addWidget(s)
        row.addLayout(col, 1)
        for w in (badge, t, s):
            w.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.clicked.connect(lambda _=False: on_click())


def _tile(glyph: str, title: str, text: str, on_click: Callable[[], None]) -> Tile:
    return Tile(glyph, title, text, on_click)


class StartPage(QWidget):
    """Big buttons for the first things a user does; emits `open_recent(path)`."""

    open_recent = pyqtSignal(str)

    def __init__(
        self,
        on_open: Callable[[], None],
        on_demo: Callable[[], None] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.on_open, self.on_demo = on_open, on_demo
        # in a scroll area, so a small window (or `--size 1000x600`) is not held at the
        # page's natural height: the stacked central widget takes the largest minimum of
        # its pages, and this one is ~640 px tall
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        page = QWidget()
        page.setObjectName("startPageBody")
        scroll.setWidget(page)
        wrap = QVBoxLayout(self)
        wrap.setContentsMargins(0, 0, 0, 0)
        wrap.addWidget(scroll)
        outer = QHBoxLayout(page)
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
        tiles = [
            _tile("⤓", "Open scene…", "PLY, SPZ, SPLAT, GLB or a .wander project", self.on_open)
        ]
        if self.on_demo is not None:
            tiles.append(
                _tile("◆", "Demo world", "A small bundled world to walk around", self.on_demo)
            )
        for act in create_actions:
            if act.isSeparator() or not act.text():
                continue
            label = act.text().replace("&", "")
            plain = label.rstrip("…. ")
            tip = next(
                (
                    t
                    for t in (act.statusTip(), act.toolTip())
                    if t and t.replace("&", "").rstrip("…. ") != plain
                ),
                "Generate a world you can walk through",
            )
            tiles.append(_tile("✦", label, tip, act.trigger))
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
