"""Scene outliner: the World's layers grouped world / objects / meshes, driven by World events.

Checkbox = visibility, double-click = rename, Delete = remove; every edit goes through
undoable World commands. Selection is published with `selection_changed(layer_id | None)`.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QKeyEvent
from PyQt6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from scene.events import LayerAdded, LayerChanged, LayerRemoved, WorldEvent
from scene.gaussians import GaussianCloud

GROUPS = (("world", "World"), ("object", "Objects"), ("mesh", "Meshes"))
ID_ROLE = Qt.ItemDataRole.UserRole
# Keys that keep walking when the outliner has focus (arrows stay tree navigation).
NAV_KEYS = {
    Qt.Key.Key_W,
    Qt.Key.Key_A,
    Qt.Key.Key_S,
    Qt.Key.Key_D,
    Qt.Key.Key_Q,
    Qt.Key.Key_E,
    Qt.Key.Key_Space,
    Qt.Key.Key_Shift,
}


def _count_text(layer: Any) -> str:
    d = layer.data
    if isinstance(d, GaussianCloud):
        n = len(d)
        return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else str(n)
    return f"{d.n_faces} tris"


def _group_of(layer: Any) -> str:
    if layer.is_mesh and layer.kind != "object":
        return "mesh"
    return layer.kind if layer.kind in ("world", "object", "mesh") else "world"


class Outliner(QTreeWidget):
    """A tree view of a World's layers that edits it through commands."""

    selection_changed = pyqtSignal(object)  # layer id or None
    orbit_requested = pyqtSignal(int)  # layer id

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.world: Any = None
        self.key_target: Any = None  # the viewport: movement keys typed here still walk
        self._updating = False
        self.setColumnCount(2)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, self.header().ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, self.header().ResizeMode.ResizeToContents)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.itemChanged.connect(self._item_changed)
        self.itemSelectionChanged.connect(self._selection)
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._items: dict[int, QTreeWidgetItem] = {}

    # ------------------------------------------------------------------ model
    def set_world(self, world: Any) -> None:
        if self.world is not None:
            self.world.unsubscribe(self._on_world)
        self.world = world
        if world is not None:
            world.subscribe(self._on_world, LayerAdded, LayerRemoved, LayerChanged)
        # layer ids count from 1 in every world: keeping the selected id selected the new
        # world's layer of the same id (a trial opened the Great Wall with its camera
        # frusta selected, because an object had been selected in the office world)
        self.clearSelection()
        self.rebuild()

    def _on_world(self, ev: WorldEvent) -> None:
        """Rows follow the layers: added, removed or renamed rebuilds, shown/hidden ticks."""
        if isinstance(ev, (LayerAdded, LayerRemoved)):
            self.rebuild()
        elif isinstance(ev, LayerChanged) and ev.property == "visible":
            self._sync_checks()
        elif isinstance(ev, LayerChanged) and ev.property in ("name", "data"):
            self.rebuild()  # the name or the splat count shown

    def rebuild(self) -> None:
        """Recreate the items from the world's layers, keeping the selection."""
        sel = self.selected_layer_id()
        self._updating = True
        try:
            self.clear()
            self._groups.clear()
            self._items.clear()
            if self.world is None:
                return
            for key, title in GROUPS:
                layers = [lay for lay in self.world.layers if _group_of(lay) == key]
                if not layers:
                    continue
                g = QTreeWidgetItem([title.upper(), str(len(layers))])
                g.setFlags(Qt.ItemFlag.ItemIsEnabled)
                f = g.font(0)
                f.setBold(True)
                f.setPointSizeF(max(f.pointSizeF() - 1.5, 7.0))
                g.setFont(0, f)
                g.setForeground(0, self.palette().placeholderText())
                g.setForeground(1, self.palette().placeholderText())
                self.addTopLevelItem(g)
                self._groups[key] = g
                for lay in layers:
                    it = QTreeWidgetItem([lay.name, _count_text(lay)])
                    it.setData(0, ID_ROLE, lay.id)
                    it.setFlags(
                        Qt.ItemFlag.ItemIsEnabled
                        | Qt.ItemFlag.ItemIsSelectable
                        | Qt.ItemFlag.ItemIsEditable
                        | Qt.ItemFlag.ItemIsUserCheckable
                    )
                    it.setCheckState(
                        0, Qt.CheckState.Checked if lay.visible else Qt.CheckState.Unchecked
                    )
                    it.setForeground(1, self.palette().placeholderText())
                    it.setToolTip(
                        0, f"{lay.name} ({lay.kind}) — double-click to rename, Delete to remove"
                    )
                    g.addChild(it)
                    self._items[lay.id] = it
                g.setExpanded(True)
            if sel is not None and sel in self._items:
                self._items[sel].setSelected(True)
        finally:
            self._updating = False
        if sel is not None and sel not in self._items:
            self.selection_changed.emit(None)

    def _sync_checks(self) -> None:
        self._updating = True
        try:
            for lay in self.world.layers if self.world else []:
                it = self._items.get(lay.id)
                if it is not None:
                    want = Qt.CheckState.Checked if lay.visible else Qt.CheckState.Unchecked
                    if it.checkState(0) != want:
                        it.setCheckState(0, want)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ edits
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or self.world is None:
            return
        lid = item.data(0, ID_ROLE)
        if lid is None:
            return
        try:
            lay = self.world.layer(lid)
        except KeyError:
            return
        visible = item.checkState(0) == Qt.CheckState.Checked
        if visible != lay.visible:
            self.world.set_visible(lid, visible)
        name = item.text(0).strip()
        if name and name != lay.name:
            self.world.rename(lid, name)
        elif not name:
            self._updating = True
            item.setText(0, lay.name)
            self._updating = False

    def item_for(self, layer_id: int) -> QTreeWidgetItem | None:
        return self._items.get(layer_id)

    def selected_layer_id(self) -> int | None:
        items = self.selectedItems()
        if not items:
            return None
        lid = items[0].data(0, ID_ROLE)
        return int(lid) if lid is not None else None

    def select_layer(self, layer_id: int | None) -> None:
        self.clearSelection()
        if layer_id is not None and layer_id in self._items:
            self._items[layer_id].setSelected(True)
            self.scrollToItem(self._items[layer_id])

    def _selection(self) -> None:
        if not self._updating:
            self.selection_changed.emit(self.selected_layer_id())

    def delete_selected(self) -> bool:
        lid = self.selected_layer_id()
        if lid is None or self.world is None:
            return False
        self.world.remove_layer(lid)
        return True

    def _context_menu(self, pos) -> None:
        from PyQt6.QtWidgets import QMenu

        item = self.itemAt(pos)
        lid = item.data(0, ID_ROLE) if item is not None else None
        if lid is None or self.world is None:
            return
        self.select_layer(lid)
        lay = self.world.layer(lid)
        m = QMenu(self)
        m.addAction("Orbit Around", lambda: self.orbit_requested.emit(lid))
        m.addAction("Rename", lambda: self.editItem(item, 0))
        m.addAction(
            "Hide" if lay.visible else "Show", lambda: self.world.set_visible(lid, not lay.visible)
        )
        m.addAction("Show Only This", lambda: self.show_only(lid))
        m.addSeparator()
        m.addAction("Delete", lambda: self.world.remove_layer(lid))
        m.exec(self.viewport().mapToGlobal(pos))

    def show_only(self, layer_id: int) -> None:
        """Hide every other layer (one undoable step)."""
        self.world.show_only(layer_id)

    def _forwarded(self, e: QKeyEvent) -> bool:
        return (
            self.key_target is not None
            and e.key() in NAV_KEYS
            and self.state() != QAbstractItemView.State.EditingState
            and not (
                e.modifiers()
                & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
            )
        )

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if self._forwarded(e):
            self.key_target.keyPressEvent(e)
            return
        if (
            e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            and self.state() != QAbstractItemView.State.EditingState
        ):
            if self.delete_selected():
                e.accept()
                return
        super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:
        if self._forwarded(e) or (self.key_target is not None and e.key() in NAV_KEYS):
            self.key_target.keyReleaseEvent(e)
            return
        super().keyReleaseEvent(e)
