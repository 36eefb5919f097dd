"""The start page shown when nothing is open: open, create, demo, recent files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QAction, QResizeEvent
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
        self._title = t
        s = QLabel(text)
        s.setObjectName("tileText")
        s.setWordWrap(True)
        col.addWidget(t)
        col.addWidget(s)
        row.addLayout(col, 1)
        for w in (badge, t, s):
            w.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.clicked.connect(lambda _=False: on_click())

    def natural_width(self) -> int:
        """Width (px) at which the title fits on one line beside the badge."""
        margins = self.layout().contentsMargins()
        return max(
            self.minimumWidth(),
            margins.left() + 42 + 14 + self._title.sizeHint().width() + margins.right() + 8,
        )


def _tile(glyph: str, title: str, text: str, on_click: Callable[[], None]) -> Tile:
    return Tile(glyph, title, text, on_click)


def _middle_elided(text: str, n: int) -> str:
    """`text` if at most `n` characters, else its start and end around an ellipsis."""
    if len(text) <= n:
        return text
    head = (n - 1) // 2
    return text[:head] + "…" + text[len(text) - (n - 1 - head) :]


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
        sub.setWordWrap(True)
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
        holder.setMaximumWidth(self.MAX_WIDTH)
        outer.setContentsMargins(self.MARGIN, 0, self.MARGIN, 0)
        # the holder takes the width up to its maximum, the stretches only what is left
        outer.addWidget(holder, 100)
        outer.addStretch(1)
        self._tiles: list[Tile] = []
        self._columns = 2
        self.refresh([], [])

    MAX_WIDTH = 760  # px: the tile column's widest
    MARGIN = 24  # px each side

    def _columns_for(self, width: int) -> int:
        """Two tile columns when two tiles with their titles on one line fit, else one."""
        avail = min(self.MAX_WIDTH, width - 2 * self.MARGIN - 20)  # 20: a vertical scroll bar
        need = max((t.natural_width() for t in self._tiles), default=0)
        return 2 if avail >= 2 * need + self.grid.spacing() else 1

    def _place_tiles(self) -> None:
        for t in self._tiles:
            self.grid.removeWidget(t)
        for i, t in enumerate(self._tiles):
            self.grid.addWidget(t, i // self._columns, i % self._columns)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        cols = self._columns_for(self.width())
        if cols != self._columns:
            self._columns = cols
            self._place_tiles()

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
        self._tiles = tiles
        self._columns = self._columns_for(self.width())
        self._place_tiles()
        if not recent:
            none = QLabel(
                "No recent files yet — drop a scene file, or a photo to make a world of, "
                "anywhere in this window."
            )
            none.setObjectName("sub")
            none.setWordWrap(True)
            self.recent_box.addWidget(none)
        for p in recent[:6]:
            b = QPushButton(f"{Path(p).name}    —    {_middle_elided(str(Path(p).parent), 40)}")
            b.setToolTip(p)
            b.setObjectName("link")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _=False, p=p: self.open_recent.emit(p))
            self.recent_box.addWidget(b)
