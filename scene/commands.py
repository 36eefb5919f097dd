"""Every undoable edit of a `World`, in one place.

A command's `do(world)` makes the change and `undo(world)` takes it back exactly; both
change the world only through its private mutators (`World._insert_layer`,
`World._remove_layer`, `World._set_layer`, ...), which emit the typed events of
`scene.events`. Run a command with `World.execute(cmd)` (pushes it on the undo stack);
the World's convenience methods (`add_layer`, `set_transform`, `set_bookmark`...) build
and execute these. `text` names the entry in the Edit menu ("Undo move chelsea").

The undo/redo stack itself lives in `World` (`execute`, `undo`, `redo`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .events import CameraPathChanged
from .gaussians import GaussianCloud

if TYPE_CHECKING:  # pragma: no cover - world imports this module
    from .world import Bookmark, Layer, World


class Command:
    """An undoable edit. Subclasses implement `do` and `undo` on a World; `do` may be called
    again after `undo` (redo) and must then make the same change."""

    text = "edit"

    def do(self, world: World) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def undo(self, world: World) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Batch(Command):
    """Several commands undone and redone as one step (undone in reverse order)."""

    def __init__(self, commands: list[Command], text: str = "edit") -> None:
        self.commands, self.text = list(commands), text

    def do(self, world: World) -> None:
        for c in self.commands:
            c.do(world)

    def undo(self, world: World) -> None:
        for c in reversed(self.commands):
            c.undo(world)


# ------------------------------------------------------------------------ layers
class AddLayer(Command):
    """Insert `layer` at `index` (default: on top, the end of `World.layers`)."""

    text = "add layer"

    def __init__(self, layer: Layer, index: int | None = None) -> None:
        self.layer, self.index = layer, index
        self.text = f"Add {layer.name}"  # the undo entry names the layer ("Undo Add chair")

    def do(self, world: World) -> None:
        world._insert_layer(self.layer, self.index)

    def undo(self, world: World) -> None:
        world._remove_layer(self.layer)


class RemoveLayer(Command):
    """Take the layer with id `layer_id` out (undo puts the same object back in place)."""

    text = "delete layer"

    def __init__(self, layer_id: int) -> None:
        self.layer_id = layer_id
        self.layer: Layer | None = None
        self.index = 0

    def do(self, world: World) -> None:
        self.layer = world.layer(self.layer_id)
        self.text = f"Delete {self.layer.name}"
        self.index = world._remove_layer(self.layer)

    def undo(self, world: World) -> None:
        assert self.layer is not None
        world._insert_layer(self.layer, self.index)


class _SetLayerAttr(Command):
    """Set one attribute of a layer; undo restores the previous value."""

    prop = ""

    def __init__(self, layer_id: int, value: Any) -> None:
        self.layer_id, self.new, self.old = layer_id, value, None

    def do(self, world: World) -> None:
        lay = world.layer(self.layer_id)
        self.old = _copy(getattr(lay, self.prop))
        world._set_layer(lay, self.prop, _copy(self.new))

    def undo(self, world: World) -> None:
        world._set_layer(world.layer(self.layer_id), self.prop, _copy(self.old))


def _copy(v: Any) -> Any:
    return v.copy() if isinstance(v, np.ndarray) else v


class SetTransform(_SetLayerAttr):
    """Replace a layer's 4×4 world-from-local similarity; `text` names the undo entry
    ("Move chelsea"; default "transform")."""

    prop = "transform"
    text = "transform"

    def __init__(self, layer_id: int, matrix: np.ndarray, text: str | None = None) -> None:
        super().__init__(layer_id, np.asarray(matrix, np.float64).reshape(4, 4).copy())
        if text is not None:
            self.text = text


class SetVisible(_SetLayerAttr):
    prop = "visible"
    text = "visibility"

    def __init__(self, layer_id: int, visible: bool) -> None:
        super().__init__(layer_id, bool(visible))

    def do(self, world: World) -> None:
        name = world.layer(self.layer_id).name
        self.text = f"{'Show' if self.new else 'Hide'} {name}"
        super().do(world)


class Rename(_SetLayerAttr):
    prop = "name"
    text = "rename"

    def __init__(self, layer_id: int, name: str) -> None:
        super().__init__(layer_id, str(name))

    def do(self, world: World) -> None:
        self.text = f"Rename {world.layer(self.layer_id).name} to {self.new}"
        super().do(world)


def _splat_mask(world: World, layer_id: int, mask: np.ndarray) -> tuple[Layer, np.ndarray]:
    lay = world.layer(layer_id)
    if not isinstance(lay.data, GaussianCloud):
        raise ValueError(f"{lay.name} is a mesh layer, not splats")
    m = np.asarray(mask, bool).reshape(-1)
    if len(m) != len(lay.data):
        raise ValueError(f"mask has {len(m)} entries for {len(lay.data)} splats in {lay.name}")
    return lay, m


class RemoveSplats(Command):
    """Delete a Gaussian layer's splats where a mask ((N,) bool) is True; undo restores
    the same data object. Raises ValueError for a mesh layer or a mask of the wrong length."""

    def __init__(self, layer_id: int, mask: np.ndarray) -> None:
        self.layer_id = layer_id
        self.mask = np.asarray(mask, bool).copy()
        self.count = int(self.mask.sum())
        self.old: GaussianCloud | None = None
        self.new: GaussianCloud | None = None
        self.text = f"delete {self.count} splats"

    def do(self, world: World) -> None:
        lay, m = _splat_mask(world, self.layer_id, self.mask)
        self.old = lay.data
        if self.new is None:
            self.new = lay.data.subset(np.flatnonzero(~m))
        world._set_layer(lay, "data", self.new)

    def undo(self, world: World) -> None:
        assert self.old is not None
        world._set_layer(world.layer(self.layer_id), "data", self.old)


class SeparateSplats(Command):
    """Move masked splats of a Gaussian layer into a new "object" layer (same transform)
    just after the source, as one undo step."""

    def __init__(self, layer_id: int, mask: np.ndarray, name: str | None = None) -> None:
        self.remove = RemoveSplats(layer_id, mask)
        self.name = name
        self.new_layer: Layer | None = None
        self.text = f"separate {self.remove.count} splats"

    def do(self, world: World) -> None:
        from .world import Layer

        lay, m = _splat_mask(world, self.remove.layer_id, self.remove.mask)
        if self.new_layer is None:
            part = lay.data.subset(np.flatnonzero(m))
            self.new_layer = Layer(
                world.unique_name(self.name or f"{lay.name} part"),
                part,
                kind="object",
                transform=lay.transform.copy(),
                source={"separated_from": lay.name, "splats": int(m.sum())},
            )
        self.remove.do(world)
        world._insert_layer(self.new_layer, world.layers.index(lay) + 1)

    def undo(self, world: World) -> None:
        assert self.new_layer is not None
        world._remove_layer(self.new_layer)
        self.remove.undo(world)


# ----------------------------------------------------------------- world settings
def unit_vector(v: Any) -> np.ndarray:
    """(3,) float64 unit vector; raises ValueError for a zero or non-finite vector."""
    a = np.asarray(v, np.float64).reshape(3)
    n = float(np.linalg.norm(a))
    if not np.isfinite(n) or n < 1e-12:
        raise ValueError(f"up axis must be a non-zero finite vector, got {a.tolist()}")
    return a / n


class SetUpAxis(Command):
    """Undoable change of `World.up_axis` and of `meta['up_axis_source']` (who chose it:
    'user', 'cameras', 'floor'...)."""

    text = "set up axis"

    def __init__(self, up: Any, source: str = "user") -> None:
        self.new = unit_vector(up)
        self.old: np.ndarray | None = None
        self.old_source: Any = None
        self.source = source

    def do(self, world: World) -> None:
        self.old = np.asarray(world.up_axis, np.float64).copy()
        self.old_source = world.meta.get("up_axis_source")
        world._set_up_axis(self.new.copy(), self.source)

    def undo(self, world: World) -> None:
        assert self.old is not None
        world._set_up_axis(self.old.copy(), self.old_source)


class SetBookmark(Command):
    """Store `bookmark` at `index` of `World.bookmarks` (replacing the one there, or
    appended when `index` is at or past the end; None appends). `bookmark=None` deletes
    the one at `index`."""

    def __init__(self, index: int | None, bookmark: Bookmark | None) -> None:
        self.index, self.new = index, bookmark
        self.old: list[Bookmark] | None = None
        self.at = 0  # where it landed (after do)
        self.text = "delete bookmark" if bookmark is None else f"bookmark {bookmark.name}"

    def do(self, world: World) -> None:
        bms = list(world.bookmarks)
        self.old = list(bms)
        i = len(bms) if self.index is None else int(self.index)
        if self.new is None:
            if not 0 <= i < len(bms):
                raise IndexError(f"no bookmark {i + 1} to delete (there are {len(bms)})")
            del bms[i]
        elif 0 <= i < len(bms):
            bms[i] = self.new
        else:
            bms.append(self.new)
            i = len(bms) - 1
        self.at = i
        world._set_bookmarks(bms, i)

    def undo(self, world: World) -> None:
        assert self.old is not None
        world._set_bookmarks(list(self.old), self.at)


class SetCameraPath(Command):
    """Undoable replacement of the camera path held by `owner` (any object with a `.path`
    attribute: the app's project feature). The World does not hold the path; it announces
    the change (`CameraPathChanged`) so views and the unsaved mark follow."""

    def __init__(self, owner: Any, new: Any, text: str = "camera path") -> None:
        self.owner = owner
        self.new = new
        self.old: Any = None
        self.text = text

    def do(self, world: World) -> None:
        self.old = self.owner.path
        self.owner.path = self.new
        world.emit(CameraPathChanged(self.owner))

    def undo(self, world: World) -> None:
        self.owner.path = self.old
        world.emit(CameraPathChanged(self.owner))


__all__ = [
    "Command",
    "Batch",
    "AddLayer",
    "RemoveLayer",
    "SetTransform",
    "SetVisible",
    "Rename",
    "RemoveSplats",
    "SeparateSplats",
    "SetUpAxis",
    "SetBookmark",
    "SetCameraPath",
    "unit_vector",
]
