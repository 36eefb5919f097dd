"""What a `World` announces after each change: small typed events with the thing that
changed as payload (napari's per-property events, without its machinery).

Subscribe with `World.subscribe(fn, *types)`: `fn(event)` is called after every change, or
only for events that are instances of `types`. Every event also carries `what`, a coarse
name ('layers' | 'transform' | 'visibility' | 'up_axis' | 'bookmarks' | 'camera_path')
for listeners that only need to know which kind of state moved.

Events are emitted by the undoable commands in `scene.commands` (and by
`World.preview_transform` while a gizmo drags); they are plain data, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:  # pragma: no cover - typing only (world imports this module)
    from .world import Layer

#: The layer attributes a `LayerChanged` can name.
LayerProperty = Literal["transform", "visible", "name", "data"]
_WHAT = {"transform": "transform", "visible": "visibility", "name": "layers", "data": "layers"}


@dataclass(frozen=True, eq=False)
class WorldEvent:
    """Base of every World event."""

    what: ClassVar[str] = "world"


@dataclass(frozen=True, eq=False)
class LayerAdded(WorldEvent):
    """`layer` was inserted at position `index` of `World.layers`."""

    layer: Layer
    index: int
    what: ClassVar[str] = "layers"


@dataclass(frozen=True, eq=False)
class LayerRemoved(WorldEvent):
    """`layer` was taken out of `World.layers`; it stood at `index`."""

    layer: Layer
    index: int
    what: ClassVar[str] = "layers"


@dataclass(frozen=True, eq=False)
class LayerChanged(WorldEvent):
    """One attribute of `layer` changed: 'transform' (its 4×4 world-from-local matrix),
    'visible', 'name' or 'data' (its GaussianCloud/Mesh was replaced, e.g. splats deleted).
    `preview` is True for a live gizmo drag that is not (yet) an undo entry."""

    layer: Layer
    property: LayerProperty
    preview: bool = False

    @property
    def what(self) -> str:  # type: ignore[override]
        return _WHAT[self.property]


@dataclass(frozen=True, eq=False)
class UpAxisChanged(WorldEvent):
    """`World.up_axis` is now `up` ((3,) unit vector, world frame)."""

    up: Any
    what: ClassVar[str] = "up_axis"


@dataclass(frozen=True, eq=False)
class BookmarksChanged(WorldEvent):
    """`World.bookmarks` changed at `index` (None: the whole list)."""

    index: int | None = None
    what: ClassVar[str] = "bookmarks"


@dataclass(frozen=True, eq=False)
class CameraPathChanged(WorldEvent):
    """The camera path held by `owner` (the app's path editor) was replaced."""

    owner: Any = None
    what: ClassVar[str] = "camera_path"


__all__ = [
    "WorldEvent",
    "LayerAdded",
    "LayerRemoved",
    "LayerChanged",
    "LayerProperty",
    "UpAxisChanged",
    "BookmarksChanged",
    "CameraPathChanged",
]
