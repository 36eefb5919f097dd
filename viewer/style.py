"""Wander's dark theme: Fusion style, a dark palette and one stylesheet."""

from __future__ import annotations

from PyQt6.QtGui import QColor, QFont, QPalette
from PyQt6.QtWidgets import QApplication

ACCENT = "#5b8cff"
ACCENT_HOVER = "#7aa2ff"
BG = "#15171c"  # window
PANEL = "#1c1f26"  # docks, bars
RAISED = "#252933"  # buttons, inputs
BORDER = "#2d323d"
TEXT = "#e6e8ee"
MUTED = "#8b93a5"

STYLESHEET = f"""
QWidget {{ color: {TEXT}; font-size: 10pt; }}
QMainWindow, QDialog {{ background: {BG}; }}
QMainWindow::separator {{ background: {BG}; width: 4px; height: 4px; }}
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER}; padding: 2px 6px; }}
QMenuBar::item {{ padding: 5px 10px; border-radius: 5px; background: transparent; }}
QMenuBar::item:selected {{ background: {RAISED}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px; padding: 6px; }}
QMenu::item {{ padding: 6px 28px 6px 14px; border-radius: 5px; }}
QMenu::item:selected {{ background: {ACCENT}; color: white; }}
QMenu::item:disabled {{ color: {MUTED}; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 5px 8px; }}
QMenu::indicator {{ width: 14px; height: 14px; left: 6px; }}
QDockWidget {{ titlebar-close-icon: none; color: {MUTED}; }}
QDockWidget::title {{ background: {PANEL}; padding: 8px 12px; text-transform: uppercase;
    font-weight: 600; border-bottom: 1px solid {BORDER}; }}
QTreeView, QListView {{ background: {PANEL}; border: none; outline: 0; padding: 4px;
    show-decoration-selected: 1; }}
QTreeView::item {{ padding: 5px 2px; border-radius: 5px; }}
QTreeView::item:hover {{ background: {RAISED}; }}
QTreeView::item:selected {{ background: #2c3c66; color: white; }}
QTreeView::branch {{ background: transparent; }}
QTreeView::branch:selected {{ background: {PANEL}; }}
QTreeView::indicator {{ width: 14px; height: 14px; border-radius: 4px; border: 1px solid {MUTED};
    background: transparent; }}
QTreeView::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT};
    image: url(@CHECK@); }}
QTreeView::indicator:unchecked:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator {{ width: 14px; height: 14px; border-radius: 4px; border: 1px solid {MUTED};
    background: {RAISED}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT};
    image: url(@CHECK@); }}
QCheckBox::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:disabled {{ border-color: {BORDER}; background: transparent; }}
QCheckBox::indicator:checked:disabled {{ background: {BORDER}; }}
QFileDialog {{ min-width: 880px; min-height: 540px; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 4px; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0 8px; }}
QLabel#statusMode {{ color: white; background: #2c3c66; border-radius: 4px; padding: 1px 8px;
    font-weight: 600; }}
QPushButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 7px;
    padding: 6px 14px; }}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:pressed {{ background: {BORDER}; }}
QPushButton:checked {{ background: {ACCENT}; border-color: {ACCENT}; color: white; }}
QPushButton#browse {{ padding: 6px 4px; }}
QPushButton#primary {{ background: {ACCENT}; border: none; color: white; font-weight: 600; }}
QPushButton#primary:hover {{ background: {ACCENT_HOVER}; }}
QPushButton#tile {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 12px;
    padding: 0; text-align: left; }}
QPushButton#tile:hover {{ border-color: {ACCENT}; background: {RAISED}; }}
QLabel#badge {{ background: #233056; color: {ACCENT_HOVER}; border-radius: 21px; font-size: 15pt; }}
QLabel#tileTitle {{ color: white; font-size: 11.5pt; font-weight: 600; background: transparent; }}
QLabel#tileText {{ color: {MUTED}; font-size: 9.5pt; background: transparent; }}
QPushButton#link {{ background: transparent; border: none; color: {ACCENT}; text-align: left;
    padding: 4px 2px; }}
QPushButton#link:hover {{ color: {ACCENT_HOVER}; text-decoration: underline; }}
QProgressBar {{ background: {RAISED}; border: none; border-radius: 4px; height: 8px;
    max-height: 8px; text-align: center; color: transparent; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QLineEdit, QSpinBox, QComboBox {{ background: {RAISED}; border: 1px solid {BORDER};
    border-radius: 6px; padding: 4px 8px; selection-background-color: {ACCENT}; }}
QLineEdit:focus, QSpinBox:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
QLineEdit:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled {{
    background: {PANEL}; border-color: {BG}; color: {MUTED}; }}
QPushButton:disabled {{ background: {PANEL}; border-color: {BG}; color: #5a6070; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 4px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:horizontal {{ background: {BORDER}; border-radius: 4px; min-width: 24px; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QLabel#h1 {{ font-size: 26pt; font-weight: 700; color: white; }}
QLabel#sub {{ font-size: 11.5pt; color: {MUTED}; }}
QLabel#section {{ font-size: 9pt; font-weight: 700; color: {MUTED}; letter-spacing: 1px; }}
QLabel#hud {{ background: rgba(15, 17, 22, 170); color: {TEXT}; border-radius: 8px;
    padding: 6px 10px; font-size: 9pt; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion + dark palette + stylesheet on the whole application."""
    app.setStyle("Fusion")
    pal = QPalette()
    c = QColor
    roles = {
        QPalette.ColorRole.Window: c(BG),
        QPalette.ColorRole.WindowText: c(TEXT),
        QPalette.ColorRole.Base: c(PANEL),
        QPalette.ColorRole.AlternateBase: c(RAISED),
        QPalette.ColorRole.ToolTipBase: c(RAISED),
        QPalette.ColorRole.ToolTipText: c(TEXT),
        QPalette.ColorRole.Text: c(TEXT),
        QPalette.ColorRole.Button: c(RAISED),
        QPalette.ColorRole.ButtonText: c(TEXT),
        QPalette.ColorRole.BrightText: c("#ffffff"),
        QPalette.ColorRole.Highlight: c(ACCENT),
        QPalette.ColorRole.HighlightedText: c("#ffffff"),
        QPalette.ColorRole.Link: c(ACCENT),
        QPalette.ColorRole.PlaceholderText: c(MUTED),
    }
    for role, col in roles.items():
        pal.setColor(role, col)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c(MUTED))
    app.setPalette(pal)
    font = QFont(app.font())
    font.setPointSizeF(10.0)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET.replace("@CHECK@", _check_icon()))


def _check_icon() -> str:
    """Path of a small white check-mark SVG (QSS images must be files)."""
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.gettempdir()) / "wander-theme"
    path = folder / "check.svg"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".check.{id(folder)}.svg"
        tmp.write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="14" height="14" '
            'viewBox="0 0 14 14"><path d="M3 7.2 L5.8 10 L11 4.2" fill="none" '
            'stroke="white" stroke-width="2" stroke-linecap="round" '
            'stroke-linejoin="round"/></svg>'
        )
        tmp.replace(path)
    return path.as_posix()
