"""Help > Controls: a full-window overlay of every key (like `?` in many apps), generated from
the tables that bind them — the window's actions (menus and their shortcuts, read live, so an
extension's keys appear as soon as it is installed) and the viewport's own key table
(`viewer.viewport.KEY_NAMES`, what each movement key means to the navigator).
F1 or ? shows it; Esc, ?, F1 or a click hides it."""

from __future__ import annotations

from html import escape
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QColor, QKeySequence, QPainter
from PyQt6.QtWidgets import QGridLayout, QLabel, QMenu, QVBoxLayout, QWidget

#: what each navigator key name (viewer.viewport.KEY_NAMES values) does
NAV_MEANING: dict[str, str] = {
    "w": "forward",
    "s": "back",
    "a": "left",
    "d": "right",
    "up": "forward",
    "down": "back",
    "left": "left",
    "right": "right",
    "shift": "run (walk) / faster (fly)",
    "space": "jump (walk) / up (fly)",
    "e": "up (fly)",
    "q": "down (fly)",
    "ctrl": "down (fly)",
}
#: keys and gestures the viewport handles in its own event code (viewer/viewport.py)
VIEWPORT_EXTRA: tuple[tuple[str, str], ...] = (
    ("Right- or left-drag", "look around"),
    ("Tab / F", "captured mouse-look (Esc frees the mouse)"),
    ("Wheel, + / −", "speed (orbit: zoom)"),
    ("R", "reset the view"),
    ("1 … 9", "go to bookmark"),
    ("Ctrl+1 … 9", "save a bookmark here"),
    ("Left-click", "select the object under the cursor"),
    ("Del", "delete the selected splats, else the selected object"),
    ("Esc", "stop the splat selection tool, then clear the splat selection"),
)


def movement_rows() -> list[tuple[str, str]]:
    """(keys, meaning) rows from the viewport's key table, keys sharing a meaning merged."""
    from .viewport import KEY_NAMES

    by_meaning: dict[str, list[str]] = {}
    for qt_key, name in KEY_NAMES.items():
        text = QKeySequence(
            int(qt_key.value) if hasattr(qt_key, "value") else int(qt_key)
        ).toString()
        text = {"Control": "Ctrl"}.get(text, text) or name.title()
        by_meaning.setdefault(NAV_MEANING.get(name, name), []).append(text)
    return [(" / ".join(keys), meaning) for meaning, keys in by_meaning.items()]


def action_rows(window: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(menu title, [(shortcut, action text)])] for every menu action with a shortcut."""
    out: list[tuple[str, list[tuple[str, str]]]] = []

    def walk(menu: QMenu, title: str, rows: list[tuple[str, str]]) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), title, rows)
                continue
            keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in a.shortcuts()]
            keys = [k for k in keys if k]
            if keys and not a.isSeparator():
                # an action whose text follows the state (Undo names its step) keeps its
                # plain label here
                label = a.property("key_label") or a.text()
                rows.append(
                    (" / ".join(keys), label.replace("&", "").replace("…", "").split("\t")[0])
                )

    for a in window.menuBar().actions():
        m = a.menu()
        if m is None:
            continue
        rows: list[tuple[str, str]] = []
        walk(m, m.title(), rows)
        if rows:
            out.append((m.title().replace("&", ""), rows))
    return out


def key_table(window: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every section of the overlay: movement, viewport, then each menu's keys; sections with
    the same title (the viewport's keys and the View menu) are one section."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for title, rows in [("Move", movement_rows()), ("View", list(VIEWPORT_EXTRA))] + action_rows(
        window
    ):
        same = next((r for t, r in out if t.upper() == title.upper()), None)
        if same is None:
            out.append((title, list(rows)))
        else:
            same.extend(r for r in rows if r not in same)
    return out


def _html(title: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><td align='right' style='padding:1px 10px 1px 0'><span style='color:#ffd84d;"
        f"font-weight:600'>{escape(k)}</span></td><td>{escape(v)}</td></tr>"
        for k, v in rows
    )
    return (
        f"<div style='font-size:13px'><b style='color:#9ec3ff'>{escape(title.upper())}</b>"
        f"<table cellspacing='0'>{body}</table></div>"
    )


class KeyOverlay(QWidget):
    """The overlay itself (a child of the main window covering it)."""

    COLUMNS = 3

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(36)
        self.grid.setVerticalSpacing(14)
        for c in range(self.COLUMNS):
            self.grid.setColumnStretch(c, 1)
        head = QLabel(
            "<b style='font-size:16px'>Keys</b> &nbsp; <span style='color:#aaa'>"
            "Esc, ? or a click closes · Preferences: Settings &gt; Preferences… (Ctrl+,)</span>"
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(40, 28, 40, 28)
        lay.addWidget(head)
        lay.addLayout(self.grid)
        lay.addStretch(1)
        self.hide()

    def refresh(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        sections = key_table(self.window)
        # longest sections first, each into the shortest column: balanced, nothing cut off
        heights = [0] * self.COLUMNS
        col_rows = [0] * self.COLUMNS
        for title, rows in sorted(sections, key=lambda s: -len(s[1])):
            c = heights.index(min(heights))
            label = QLabel(_html(title, rows))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setWordWrap(True)  # a narrow window wraps long descriptions, never cuts them
            self.grid.addWidget(label, col_rows[c], c, Qt.AlignmentFlag.AlignTop)
            col_rows[c] += 1
            heights[c] += len(rows) + 2
        self.sections = sections

    def toggle(self) -> None:
        self.close_overlay() if self.isVisible() else self.open_overlay()

    def open_overlay(self) -> None:
        self.refresh()
        self.setGeometry(self.window.rect())
        self.raise_()
        self.show()
        self.setFocus()

    def close_overlay(self) -> None:
        self.hide()
        fn = getattr(self.window, "restore_view_focus", None)
        if callable(fn):
            fn()

    def paintEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(12, 14, 20, 228))
        p.end()

    def keyPressEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        if e.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Question, Qt.Key.Key_F1, Qt.Key.Key_Slash):
            self.close_overlay()
            return
        super().keyPressEvent(e)

    def mousePressEvent(self, e: Any) -> None:  # noqa: N802 - Qt override
        self.close_overlay()


def shortcut_actions(window: Any) -> list[QAction]:
    """Every QAction of the window with a shortcut (for tests and the overlay)."""
    return [a for a in window.findChildren(QAction) if a.shortcuts()]
