"""`World`: the layers a user walks through (base world, inserted objects, meshes),
camera bookmarks, and undoable editing commands.

Pure data with a tiny event mechanism: the viewer subscribes to `World.changed` and pulls
render-ready arrays; nothing here knows about Qt or GL.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from .gaussians import GaussianCloud
from .mesh import Mesh

LayerKind = Literal["world", "object", "mesh"]
_ids = itertools.count(1)


def reserve_layer_ids(up_to: int) -> None:
    """Make sure newly created layers get ids above `up_to` (after restoring saved ids)."""
    global _ids
    nxt = next(_ids)
    _ids = itertools.count(max(nxt, up_to + 1))


@dataclass
class Layer:
    """One named, transformable, hideable piece of the world."""

    name: str
    data: GaussianCloud | Mesh
    kind: LayerKind = "world"
    transform: np.ndarray = field(default_factory=lambda: np.eye(4))
    visible: bool = True
    id: int = field(default_factory=lambda: next(_ids))
    source: dict[str, Any] = field(default_factory=dict)  # how it was made / where from

    def __post_init__(self) -> None:
        self.transform = np.asarray(self.transform, np.float64).reshape(4, 4)

    @property
    def is_mesh(self) -> bool:
        return isinstance(self.data, Mesh)

    def baked(self) -> GaussianCloud | Mesh:
        """The layer's data with its transform applied."""
        if np.allclose(self.transform, np.eye(4)):
            return self.data.copy() if isinstance(self.data, GaussianCloud) else self.data
        return self.data.transformed(self.transform)

    def world_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.data.bounds()
        corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])])
        pts = corners @ self.transform.T
        return pts[:, :3].min(0), pts[:, :3].max(0)


@dataclass
class Bookmark:
    """A saved viewpoint: position, yaw/pitch (radians) and vertical FOV."""

    name: str
    position: np.ndarray
    yaw: float = 0.0
    pitch: float = 0.0
    fov_y_deg: float = 60.0

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, np.float64).reshape(3)


class Command:
    """An undoable edit. Subclasses implement `do` and `undo` on a World."""

    text = "edit"

    def do(self, world: "World") -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def undo(self, world: "World") -> None:  # pragma: no cover - interface
        raise NotImplementedError


class World:
    """Layers + bookmarks + metadata, with an undo stack and change events."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.bookmarks: list[Bookmark] = []
        self.up_axis: np.ndarray = np.array([0.0, 1.0, 0.0])
        self.meta: dict[str, Any] = {}
        # Path texts that came from an opened project file rather than from this user's
        # own work: saving never reads (copies in) the files they name.
        self.untrusted_paths: set[str] = set()
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._listeners: list[Callable[[str], None]] = []

    # ----------------------------------------------------------------- events
    def subscribe(self, fn: Callable[[str], None]) -> None:
        """Call `fn(what)` after every change ('layers', 'transform', 'visibility'...)."""
        self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[str], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def emit(self, what: str) -> None:
        for fn in list(self._listeners):
            fn(what)

    # ---------------------------------------------------------------- queries
    def layer(self, layer_id: int) -> Layer:
        for lay in self.layers:
            if lay.id == layer_id:
                return lay
        raise KeyError(f"no layer with id {layer_id}")

    def find(self, name: str) -> Layer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise KeyError(f"no layer named {name!r}")

    def visible_layers(self) -> list[Layer]:
        return [lay for lay in self.layers if lay.visible]

    def is_empty(self) -> bool:
        return not self.layers

    def unique_name(self, base: str) -> str:
        names = {lay.name for lay in self.layers}
        if base not in names:
            return base
        for i in itertools.count(2):
            if f"{base} {i}" not in names:
                return f"{base} {i}"
        raise AssertionError("unreachable")

    def bounds(self, visible_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """World-space bounding box of the (visible) layers."""
        boxes = [lay.world_bounds() for lay in (self.visible_layers() if visible_only else self.layers)
                 if (len(lay.data) if isinstance(lay.data, GaussianCloud) else lay.data.n_vertices)]
        if not boxes:
            return np.zeros(3), np.zeros(3)
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    def near_bounds(self, visible_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """World-space bounding box of the scene proper: like `bounds`, but each Gaussian
        layer counts only its near field (`GaussianCloud.near_field_mask`), so a sky dome
        or distant background hundreds of metres out does not set the box. This is what to
        frame or orbit around; `bounds` is what contains every splat."""
        boxes = []
        for lay in (self.visible_layers() if visible_only else self.layers):
            if isinstance(lay.data, GaussianCloud):
                if not len(lay.data):
                    continue
                pts = lay.data.means[lay.data.near_field_mask()]
                if not len(pts):
                    continue
                lo, hi = pts.min(0).astype(np.float64), pts.max(0).astype(np.float64)
                corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                                    for z in (lo[2], hi[2])])
                pts4 = corners @ lay.transform.T
                boxes.append((pts4[:, :3].min(0), pts4[:, :3].max(0)))
            elif lay.data.n_vertices:
                boxes.append(lay.world_bounds())
        if not boxes:
            return self.bounds(visible_only)
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    def merged_cloud(self, visible_only: bool = True) -> GaussianCloud:
        """All (visible) Gaussian layers with transforms baked, as one cloud."""
        clouds = [lay.baked() for lay in (self.visible_layers() if visible_only else self.layers)
                  if isinstance(lay.data, GaussianCloud)]
        return GaussianCloud.concatenate(clouds) if clouds else GaussianCloud.empty()

    # ------------------------------------------------------- undoable editing
    def execute(self, cmd: Command) -> None:
        """Do `cmd` and push it on the undo stack (clears redo)."""
        cmd.do(self)
        self._undo.append(cmd)
        self._redo.clear()

    def undo(self) -> bool:
        if not self._undo:
            return False
        cmd = self._undo.pop()
        cmd.undo(self)
        self._redo.append(cmd)
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        cmd = self._redo.pop()
        cmd.do(self)
        self._undo.append(cmd)
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    # Convenience wrappers, each one undoable command.
    def add_layer(self, layer: Layer, index: int | None = None) -> Layer:
        self.execute(AddLayer(layer, index))
        return layer

    def remove_layer(self, layer_id: int) -> None:
        self.execute(RemoveLayer(layer_id))

    def set_transform(self, layer_id: int, matrix: np.ndarray) -> None:
        self.execute(SetTransform(layer_id, matrix))

    def set_visible(self, layer_id: int, visible: bool) -> None:
        self.execute(SetVisible(layer_id, visible))

    def rename(self, layer_id: int, name: str) -> None:
        self.execute(Rename(layer_id, name))

    def remove_splats(self, layer_id: int, mask: np.ndarray) -> int:
        """Delete the splats of a Gaussian layer where `mask` (N,) bool is True, as one
        undoable step; returns how many were removed."""
        cmd = RemoveSplats(layer_id, mask)
        self.execute(cmd)
        return cmd.count

    def separate_splats(self, layer_id: int, mask: np.ndarray, name: str | None = None) -> Layer:
        """Move the splats where `mask` is True into a new "object" layer (same transform)
        just after the source, as one undoable step; returns the new layer."""
        cmd = SeparateSplats(layer_id, mask, name)
        self.execute(cmd)
        assert cmd.new_layer is not None
        return cmd.new_layer


# ---------------------------------------------------------------------- commands
class AddLayer(Command):
    text = "add layer"

    def __init__(self, layer: Layer, index: int | None = None) -> None:
        self.layer, self.index = layer, index

    def do(self, world: World) -> None:
        idx = len(world.layers) if self.index is None else self.index
        world.layers.insert(idx, self.layer)
        world.emit("layers")

    def undo(self, world: World) -> None:
        world.layers.remove(self.layer)
        world.emit("layers")


class RemoveLayer(Command):
    text = "delete layer"

    def __init__(self, layer_id: int) -> None:
        self.layer_id = layer_id
        self.layer: Layer | None = None
        self.index = 0

    def do(self, world: World) -> None:
        self.layer = world.layer(self.layer_id)
        self.index = world.layers.index(self.layer)
        world.layers.remove(self.layer)
        world.emit("layers")

    def undo(self, world: World) -> None:
        assert self.layer is not None
        world.layers.insert(self.index, self.layer)
        world.emit("layers")


class SetTransform(Command):
    text = "transform"

    def __init__(self, layer_id: int, matrix: np.ndarray) -> None:
        self.layer_id = layer_id
        self.new = np.asarray(matrix, np.float64).reshape(4, 4).copy()
        self.old: np.ndarray | None = None

    def do(self, world: World) -> None:
        lay = world.layer(self.layer_id)
        self.old = lay.transform.copy()
        lay.transform = self.new.copy()
        world.emit("transform")

    def undo(self, world: World) -> None:
        assert self.old is not None
        world.layer(self.layer_id).transform = self.old.copy()
        world.emit("transform")


class SetVisible(Command):
    text = "visibility"

    def __init__(self, layer_id: int, visible: bool) -> None:
        self.layer_id, self.visible, self.old = layer_id, visible, True

    def do(self, world: World) -> None:
        lay = world.layer(self.layer_id)
        self.old = lay.visible
        lay.visible = self.visible
        world.emit("visibility")

    def undo(self, world: World) -> None:
        world.layer(self.layer_id).visible = self.old
        world.emit("visibility")


class Rename(Command):
    text = "rename"

    def __init__(self, layer_id: int, name: str) -> None:
        self.layer_id, self.name, self.old = layer_id, name, ""

    def do(self, world: World) -> None:
        lay = world.layer(self.layer_id)
        self.old = lay.name
        lay.name = self.name
        world.emit("layers")

    def undo(self, world: World) -> None:
        world.layer(self.layer_id).name = self.old
        world.emit("layers")


def _splat_mask(world: World, layer_id: int, mask: np.ndarray) -> tuple[Layer, np.ndarray]:
    lay = world.layer(layer_id)
    if not isinstance(lay.data, GaussianCloud):
        raise ValueError(f"{lay.name} is a mesh layer, not splats")
    m = np.asarray(mask, bool).reshape(-1)
    if len(m) != len(lay.data):
        raise ValueError(f"mask has {len(m)} entries for {len(lay.data)} splats in {lay.name}")
    return lay, m


class RemoveSplats(Command):
    """Delete a Gaussian layer's splats where a mask is True (undo restores the same data)."""

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
        lay.data = self.new
        world.emit("layers")

    def undo(self, world: World) -> None:
        assert self.old is not None
        world.layer(self.layer_id).data = self.old
        world.emit("layers")


class SeparateSplats(Command):
    """Move masked splats of a Gaussian layer into a new object layer (one undo step)."""

    def __init__(self, layer_id: int, mask: np.ndarray, name: str | None = None) -> None:
        self.remove = RemoveSplats(layer_id, mask)
        self.name = name
        self.new_layer: Layer | None = None
        self.index = 0
        self.text = f"separate {self.remove.count} splats"

    def do(self, world: World) -> None:
        lay, m = _splat_mask(world, self.remove.layer_id, self.remove.mask)
        if self.new_layer is None:
            part = lay.data.subset(np.flatnonzero(m))
            self.new_layer = Layer(world.unique_name(self.name or f"{lay.name} part"), part, kind="object",
                                   transform=lay.transform.copy(),
                                   source={"separated_from": lay.name, "splats": int(m.sum())})
        self.remove.do(world)
        self.index = world.layers.index(lay) + 1
        world.layers.insert(self.index, self.new_layer)
        world.emit("layers")

    def undo(self, world: World) -> None:
        assert self.new_layer is not None
        world.layers.remove(self.new_layer)
        self.remove.undo(world)


def similarity_matrix(translation: Any = (0, 0, 0), yaw: float = 0.0, scale: float = 1.0,
                      rotation: np.ndarray | None = None) -> np.ndarray:
    """4×4 similarity from a translation, a yaw about +Y (radians) or a 3×3 rotation, and a scale."""
    m = np.eye(4)
    if rotation is None:
        c, s = math.cos(yaw), math.sin(yaw)
        rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    m[:3, :3] = scale * np.asarray(rotation, np.float64)
    m[:3, 3] = np.asarray(translation, np.float64)
    return m
