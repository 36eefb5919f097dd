"""Settings > Preferences…: move speed, mouse sensitivity, invert Y, field of view, quality while
moving and the autosave interval, stored in the user's settings file (viewer/settings.py,
keys "prefs/<name>") and applied to the running window at once and at every start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

from .viewport import TARGET_MS

#: moving-frame interval targets (ms). "fast" is the viewport's TARGET_MS (≥ 22 fps), what
#: bench/render.py measures at: 35 ms, as before, left the app's render budget at 15-18 ms
#: once the window's ~20 ms of compositing per frame was taken off (llvmpipe, 1306x824), so
#: every scene of ~1M splats walked at the lowest level (the last moving frame of a 1.2 s
#: walk in the 1M-splat bench room against the full frame at its pose: SSIM 0.71-0.74 at
#: 35 ms, 0.97 at 45, at 25-30 / 25 fps)
QUALITY = {
    "fast": ("Fast (lower resolution while moving)", TARGET_MS),
    "balanced": ("Balanced", 70.0),
    "full": ("Full (never lower it)", None),
}


@dataclass(frozen=True)
class Pref:
    key: str
    label: str
    default: Any
    lo: float = 0.0
    hi: float = 0.0
    suffix: str = ""
    tip: str = ""


PREFS: tuple[Pref, ...] = (
    Pref(
        "move_speed",
        "Move speed",
        1.0,
        0.1,
        10.0,
        " ×",
        "multiplies walking/flying speed (the wheel still changes it)",
    ),
    Pref("mouse_sensitivity", "Mouse sensitivity", 1.0, 0.1, 5.0, " ×", "mouse-look speed"),
    Pref("invert_y", "Invert mouse Y", False, tip="moving the mouse up looks down"),
    Pref("fov_y_deg", "Field of view", 60.0, 20.0, 120.0, "°", "vertical field of view"),
    Pref(
        "moving_quality",
        "Quality while moving",
        "fast",
        tip="how far the view may lower its resolution and splat count while the camera moves",
    ),
    Pref("autosave_minutes", "Autosave every", 3.0, 0.0, 120.0, " min", "0 turns autosave off"),
)


def load_prefs(settings: Any) -> dict[str, Any]:
    """The stored preferences with defaults for anything missing or unreadable."""
    out: dict[str, Any] = {}
    for p in PREFS:
        t = type(p.default)
        v = settings.get(f"prefs/{p.key}", p.default, t)
        if t is float:
            try:
                v = float(min(max(float(v), p.lo), p.hi))
            except (TypeError, ValueError):
                v = p.default
        elif p.key == "moving_quality" and v not in QUALITY:
            v = p.default
        out[p.key] = v
    return out


def save_prefs(settings: Any, prefs: dict[str, Any]) -> None:
    for p in PREFS:
        if p.key in prefs:
            settings.set(f"prefs/{p.key}", prefs[p.key])


def apply_prefs(window: Any, prefs: dict[str, Any], before: dict[str, Any] | None = None) -> None:
    """Make the running window follow `prefs` (navigation, quality, autosave). `before`:
    the preferences they replace; the field of view is applied only when it changed
    there (pressing OK in Preferences kept a photo world's view framed as the photo: a
    trial saw OK alone widen it from the photo's 46° to 60°, its invented border in view)."""
    vp = window.viewport
    nav = vp.nav
    nav.speed_mult = float(prefs["move_speed"])
    if before is None or float(before["fov_y_deg"]) != float(prefs["fov_y_deg"]):
        nav.fov_y_deg = float(prefs["fov_y_deg"])
        nav.fit_fov_x_deg = 0.0  # the user's own field of view, not a photo's
    nav.look_gain = float(prefs["mouse_sensitivity"])
    nav.invert_y = bool(prefs["invert_y"])
    label, target = QUALITY[prefs["moving_quality"]]
    vp.quality.enabled = target is not None
    if target is not None:
        vp.quality.target_ms = target
    window.adaptive_action.setChecked(vp.quality.enabled)
    autosave = window.extensions.get("autosave")  # viewer/project_autosave.py, when installed
    timer = autosave.autosave_timer if autosave is not None else None
    if timer is not None and not os.environ.get("WANDER_AUTOSAVE_SECONDS"):  # tests pin it
        minutes = float(prefs["autosave_minutes"])
        if minutes <= 0:
            timer.stop()
        else:
            timer.start(int(minutes * 60_000))
    nav.mark_changed()
    vp.update()


class SettingsDialog(QDialog):
    """The form; `values()` reads it back."""

    def __init__(self, parent: Any, prefs: dict[str, Any]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.widgets: dict[str, Any] = {}
        form = QFormLayout()
        for p in PREFS:
            v = prefs[p.key]
            if isinstance(p.default, bool):
                w: Any = QCheckBox()
                w.setChecked(bool(v))
            elif p.key == "moving_quality":
                w = QComboBox()
                for key, (label, _) in QUALITY.items():
                    w.addItem(label, key)
                w.setCurrentIndex(list(QUALITY).index(v))
            else:
                w = QDoubleSpinBox()
                w.setRange(p.lo, p.hi)
                w.setDecimals(1 if p.hi > 20 else 2)
                w.setSingleStep(0.1 if p.hi <= 10 else 1.0)
                w.setSuffix(p.suffix)
                w.setValue(float(v))
            if p.tip:
                w.setToolTip(p.tip)
            self.widgets[p.key] = w
            form.addRow(p.label, w)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        note = QLabel("Saved for every world; applied when you press OK.")
        note.setObjectName("hint")
        lay.addWidget(note)
        lay.addWidget(buttons)

    def restore_defaults(self) -> None:
        for p in PREFS:
            w = self.widgets[p.key]
            if isinstance(w, QCheckBox):
                w.setChecked(bool(p.default))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(list(QUALITY).index(p.default))
            else:
                w.setValue(float(p.default))

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in PREFS:
            w = self.widgets[p.key]
            if isinstance(w, QCheckBox):
                out[p.key] = w.isChecked()
            elif isinstance(w, QComboBox):
                out[p.key] = w.currentData()
            else:
                out[p.key] = float(w.value())
        return out
