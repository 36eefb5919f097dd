"""Persistent user settings (recent files, window layout, preferences) via QSettings.

Stored as an INI file in the user's config folder, or under $WANDER_CONFIG_DIR when set
(tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QSettings

MAX_RECENT = 10


class Settings:
    """Thin typed wrapper over an INI-format QSettings."""

    def __init__(self) -> None:
        base = os.environ.get("WANDER_CONFIG_DIR")
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
            # Qt's own settings (the file dialog's QtProject.conf) go there too, not into
            # ~/.config: a trial found one written outside WANDER_CONFIG_DIR
            for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
                QSettings.setPath(fmt, QSettings.Scope.UserScope, str(base))
            self.q = QSettings(str(Path(base) / "wander.ini"), QSettings.Format.IniFormat)
        else:
            self.q = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Wander", "Wander"
            )

    # ---------------------------------------------------------------- recent
    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are dropped."""
        raw = self.q.value("recent_files", [])
        if isinstance(raw, str):
            raw = [raw]
        return [p for p in (raw or []) if isinstance(p, str) and Path(p).exists()][:MAX_RECENT]

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        items = [x for x in self.recent_files() if x != p]
        self.q.setValue("recent_files", [p] + items[: MAX_RECENT - 1])
        self.q.sync()

    def clear_recent(self) -> None:
        self.q.setValue("recent_files", [])
        self.q.sync()

    # ----------------------------------------------------------------- misc
    def get(self, key: str, default: Any = None, type_: type | None = None) -> Any:
        v = self.q.value(key, default)
        if type_ is bool and isinstance(v, str):
            return v.lower() in ("1", "true", "yes")
        if type_ is not None and v is not None:
            try:
                return type_(v)
            except (TypeError, ValueError):
                return default
        return v

    def set(self, key: str, value: Any) -> None:
        self.q.setValue(key, value)
        self.q.sync()

    @property
    def first_launch(self) -> bool:
        return not self.get("launched_before", False, bool)

    def mark_launched(self) -> None:
        self.set("launched_before", True)
