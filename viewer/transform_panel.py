"""The Object panel: the selected object's name, gizmo mode (move / rotate / scale) and space
(world / local), and its numeric position, rotation (Euler XYZ degrees, R = Rz·Ry·Rx) and
uniform scale. Typing a value is one undo entry named by what changed ("Move chelsea")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import transform_edit as te


def _spin(lo: float, hi: float, decimals: int, step: float, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setSuffix(suffix)
    s.setKeyboardTracking(False)  # one edit when typing is finished, not one per digit
    s.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
    s.setMinimumWidth(60)
    return s


class TransformPanel(QWidget):
    """Numeric transform of `layer_fn()`'s layer in `world_fn()`; follows `gizmo`'s mode/space."""

    def __init__(
        self,
        world_fn: Callable[[], Any],
        layer_fn: Callable[[], Any],
        gizmo: Any,
        focus_back: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        #: the width the panel asks its dock for (None: what its contents prefer)
        self.preferred_width: int | None = None
        self.world_fn, self.layer_fn, self.gizmo = world_fn, layer_fn, gizmo
        self.focus_back = focus_back or (lambda: None)
        self._filling = False
        self.title = QLabel("No object selected")
        self.title.setObjectName("panelTitle")
        self.title.setWordWrap(True)
        modes = QHBoxLayout()
        self.mode_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for mode, tip in (("move", "Alt+1"), ("rotate", "Alt+2"), ("scale", "Alt+3")):
            b = QPushButton(mode.capitalize())
            b.setCheckable(True)
            b.setToolTip(f"Gizmo handles: {mode} ({tip})")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            group.addButton(b)
            modes.addWidget(b)
            self.mode_buttons[mode] = b
        self.space_button = QPushButton("World axes")
        self.space_button.setCheckable(True)
        self.space_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.space_button.setToolTip(
            "Gizmo axes: the world's (up-aligned) or the object's own (Alt+L)"
        )
        self.space_button.clicked.connect(lambda on: self.set_space("local" if on else "world"))
        self.pos = [_spin(-1e6, 1e6, 3, 0.1) for _ in range(3)]
        self.rot = [_spin(-360, 360, 1, 5, "°") for _ in range(3)]
        self.scale = _spin(1e-4, 1e4, 3, 0.1)
        form = QFormLayout()
        form.addRow("Position", _row(self.pos))
        form.addRow("Rotation", _row(self.rot))
        form.addRow("Scale", self.scale)
        for s in self.pos:
            s.valueChanged.connect(lambda _v: self._edited("move"))
        for s in self.rot:
            s.valueChanged.connect(lambda _v: self._edited("rotate"))
        self.scale.valueChanged.connect(lambda _v: self._edited("scale"))
        for s in self.pos + self.rot + [self.scale]:
            s.editingFinished.connect(self.focus_back)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(self.title)
        lay.addLayout(modes)
        lay.addWidget(self.space_button)
        lay.addLayout(form)
        hint = QLabel("Drag a handle; Ctrl snaps. Click an object to select it.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        lay.addWidget(hint)
        lay.addStretch(1)
        self.sync_mode()
        self.refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        if self.preferred_width is not None:
            hint.setWidth(self.preferred_width)
        return hint

    def set_mode(self, mode: str) -> None:
        self.gizmo.mode = mode
        self.gizmo.update()
        self.sync_mode()
        self.focus_back()

    def set_space(self, space: str) -> None:
        self.gizmo.space = space
        self.gizmo.update()
        self.sync_mode()
        self.focus_back()

    def sync_mode(self) -> None:
        for m, b in self.mode_buttons.items():
            b.setChecked(m == self.gizmo.mode)
        local = self.gizmo.space == "local"
        self.space_button.setChecked(local)
        self.space_button.setText("Local axes" if local else "World axes")

    def refresh(self) -> None:
        """Show the selected layer's values (or disable and blank them when there is none)."""
        lay = self.layer_fn()
        self.setEnabled(lay is not None)
        self._filling = True
        try:
            if lay is None:  # no stale numbers from the last object (or the last file)
                self.title.setText("No object selected — click one in the view")
                for s in self.pos + self.rot:
                    s.setValue(0.0)
                self.scale.setValue(1.0)
                for s in self.pos + self.rot + [self.scale]:
                    s.setSuffix("")
                    s.clear()
                return
            self.title.setText(f"<b>{lay.name}</b>")
            for s in self.rot:
                s.setSuffix("°")
            try:
                euler = te.euler_xyz_deg(lay.transform)
            except ValueError:
                euler = np.zeros(3)
            for s, v in zip(self.pos, lay.transform[:3, 3]):
                s.setValue(float(v))
            for s, v in zip(self.rot, euler):
                s.setValue(float(v))
            self.scale.setValue(te.scale_of(lay.transform))
        finally:
            self._filling = False

    def _edited(self, kind: str) -> None:
        if self._filling:
            return
        lay = self.layer_fn()
        if lay is None:
            return
        m = te.compose(
            [s.value() for s in self.pos], [s.value() for s in self.rot], self.scale.value()
        )
        old = lay.transform
        if kind == "move":  # keep rotation/scale bit-exact when only the position changed
            m = te.translated(old, m[:3, 3] - old[:3, 3])
        elif kind == "scale":
            m = te.scaled(old, self.scale.value() / te.scale_of(old))
        if not np.allclose(m, old, atol=1e-9):
            self.world_fn().execute(te.EditTransform(lay.id, m, te.edit_text(kind, lay.name)))


def _row(widgets: list[QWidget]) -> QWidget:
    w = QWidget()
    h = QHBoxLayout(w)
    h.setContentsMargins(0, 0, 0, 0)
    h.setSpacing(4)
    for x in widgets:
        h.addWidget(x)
    return w
