"""`World`: the layers a user walks through (base world, inserted objects, meshes),
camera bookmarks, the up axis, and the undo stack of the edits made to them.

Pure data, no Qt or GL. Every change is an undoable command (`scene.commands`) run through
`World.execute` or one of the convenience methods (`add_layer`, `set_transform`,
`set_bookmark`...), and announced afterwards as a typed event (`scene.events`:
`LayerAdded`, `LayerChanged(layer, 'transform')`...) to the functions given to
`World.subscribe`. `World.layers` is a read-only tuple; layer ids are unique per World.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .commands import (
    AddLayer,
    Batch,
    Command,
    RemoveLayer,
    RemoveSplats,
    Rename,
    SeparateSplats,
    SetBookmark,
    SetTransform,
    SetUpAxis,
    SetVisible,
)
from .events import (
    BookmarksChanged,
    LayerAdded,
    LayerChanged,
    LayerProperty,
    LayerRemoved,
    UpAxisChanged,
    WorldEvent,
)
from .gaussians import GaussianCloud
from .mesh import Mesh

LayerKind = Literal["world", "object", "mesh"]
Listener = Callable[[WorldEvent], None]


@dataclass
class Layer:
    """One named, transformable, hideable piece of the world."""

    name: str
    data: GaussianCloud | Mesh = field(repr=False)
    kind: LayerKind = "world"
    transform: np.ndarray = field(default_factory=lambda: np.eye(4), repr=False)
    visible: bool = True
    id: int = 0  # 0: not in a World yet; the World it is added to gives it a unique id
    source: dict[str, Any] = field(default_factory=dict, repr=False)  # how it was made / where from

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
        return self._box_to_world(lo, hi)

    def near_bounds(self) -> tuple[np.ndarray, np.ndarray] | None:
        """World-space box of the layer proper: a Gaussian layer's near field alone
        (`GaussianCloud.near_field_mask`: no sky sphere hundreds of metres out), a mesh's
        vertices. None for an empty layer."""
        if isinstance(self.data, GaussianCloud):
            if not len(self.data):
                return None
            pts = self.data.means[self.data.near_field_mask()]
            if not len(pts):
                return None
            return self._box_to_world(pts.min(0), pts.max(0))
        return self.world_bounds() if self.data.n_vertices else None

    def _box_to_world(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        corners = np.array(
            [[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
        )
        pts = corners @ self.transform.T
        return pts[:, :3].min(0), pts[:, :3].max(0)


#: the bookmark a reconstruction adds after its photos' (generators/reconstruct/pipeline.py):
#: the cameras and the scene from above, left out of a default video's path
OVERVIEW_BOOKMARK = "Overview"


@dataclass
class Bookmark:
    """A saved viewpoint: position, yaw/pitch (radians) and vertical FOV.

    fov_x_deg > 0: the view reproduces a photo that wide (a generated world's start, a
    reconstruction's photo): in a window of another aspect the photo fills the window
    (`view_fov_y`, `fit_fov_y`: nothing beside it, at most 15 % of it cut away), as the
    photo was framed. 0: the vertical FOV as given.
    """

    name: str
    position: np.ndarray
    yaw: float = 0.0
    pitch: float = 0.0
    fov_y_deg: float = 60.0
    fov_x_deg: float = 0.0

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, np.float64).reshape(3)

    def view_fov_y(self, aspect: float) -> float:
        """Vertical FOV (degrees) of this view in a window of `aspect` = width / height."""
        return fit_fov_y(self.fov_y_deg, self.fov_x_deg, aspect)

    @classmethod
    def of_photo(cls, cam: Any) -> Bookmark:
        """The view of a photo's camera (scene.camera.Camera, +Y up world): its name,
        position, yaw/pitch and both fields of view, so the view frames the photo."""
        from .camera import yaw_pitch_from_forward

        yaw, pitch = yaw_pitch_from_forward(cam.forward)
        return cls(cam.name, cam.position, yaw, pitch, cam.fov_y_deg, cam.fov_x_deg)


#: a photo's view shows at least this share of the photo's width and of its height (a
#: 16:9 photo fills the app's default 1440×880 window, whose viewport is 1.43:1, beside
#: the scene panel: at 0.85 it showed a band beyond the photo above and below it, where a
#: reconstruction has only what no photo constrained, needles and specks; a 4:3 photo,
#: the commonest camera's, fills a 16:9 render or video: at 0.78 a 1280×720 start view of
#: one showed 20 px of the invented band beside the photo at each side)
MIN_PHOTO_SHOWN = 0.75


def fit_fov_y(fov_y_deg: float, fov_x_deg: float, aspect: float) -> float:
    """Vertical FOV (degrees) of a window of `aspect` (width / height) showing a photo
    fov_x_deg × fov_y_deg: the photo fills the window (cropped top and bottom in a wider
    window, at the sides in a taller one, nothing beside it) as long as that keeps
    MIN_PHOTO_SHOWN of its width and height; in a window of a very different shape the
    view widens until it does, showing what lies beyond the photo at two edges rather
    than cutting away its ground or its sides. fov_x_deg ≤ 0: fov_y_deg as given."""
    if fov_x_deg <= 0 or aspect <= 0:
        return float(fov_y_deg)
    ty = math.tan(math.radians(fov_y_deg) / 2)  # the photo's half extents on the image plane
    tx_as_y = math.tan(math.radians(fov_x_deg) / 2) / aspect  # its width, as a window height
    cover = min(ty, tx_as_y)
    t = max(cover, MIN_PHOTO_SHOWN * max(ty, tx_as_y))
    return float(math.degrees(2 * math.atan(t)))


def subject_distance(meta: object) -> float | None:
    """How far a reconstruction's photos were taken from what they show,
    `meta['subject_distance']` (scene units; `generators.reconstruct.align.
    subject_distance`), or None when absent or not a finite number > 0 (a project's
    record is untrusted)."""
    d = meta.get("subject_distance") if isinstance(meta, dict) else None
    if isinstance(d, bool) or not isinstance(d, (int, float)):
        return None
    return float(d) if math.isfinite(d) and d > 0 else None


def walkable_disc(meta: object) -> tuple[np.ndarray, float] | None:
    """The walkable area a generated world records in `meta['walkable']` ({'centre':
    [x, y, z] world units, on the floor; 'radius': units; ...}, viewer/walk_area.py):
    (centre (3,) float64, radius), or None when absent or malformed (a radius that is not
    a finite number > 0, a centre that is not 3 finite numbers; a project's record is
    untrusted: an infinite radius once made a camera path of NaN cameras). The centre
    defaults to the origin."""
    walk = meta.get("walkable") if isinstance(meta, dict) else None
    if not isinstance(walk, dict):
        return None
    radius = walk.get("radius")
    if isinstance(radius, bool) or not isinstance(radius, (int, float)):
        return None
    try:
        centre = np.asarray(walk.get("centre", (0.0, 0.0, 0.0)), np.float64).reshape(3)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(radius) and radius > 0 and np.isfinite(centre).all()):
        return None
    return centre, float(radius)


def walkable_record(estimates: object, invented: bool) -> dict | None:
    """The `meta['walkable']` record (read by `walkable_disc`) of a world generated round
    the origin, from its estimates' `walkable_radius` ({'value': m, 'source': text}):
    {'centre': [0, 0, 0], 'radius', 'source', 'invented'} (`invented`: beyond the photo the
    world was outpainted; a 360° panorama's was not). None when the estimates hold no
    numeric walkable radius."""
    rad = estimates.get("walkable_radius") if isinstance(estimates, dict) else None
    value = rad.get("value") if isinstance(rad, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return {
        "centre": [0.0, 0.0, 0.0],
        "radius": float(value),
        "source": str(rad.get("source", "")),
        "invented": bool(invented),
    }


class World:
    """Layers + bookmarks + metadata, with an undo stack and change events."""

    def __init__(self) -> None:
        self._layers: tuple[Layer, ...] = ()
        self._next_id = 1  # ids only grow, so an undone-and-redone layer keeps a unique id
        #: saved viewpoints; builders may fill the list before the world is shown, edits in
        #: the app go through `set_bookmark` (undoable, announced)
        self.bookmarks: list[Bookmark] = []
        #: (3,) unit vector; builders may set it, the app changes it with `set_up_axis`
        self.up_axis: np.ndarray = np.array([0.0, 1.0, 0.0])
        self.meta: dict[str, Any] = {}
        # Path texts that came from an opened project file rather than from this user's
        # own work: saving never reads (copies in) the files they name.
        self.untrusted_paths: set[str] = set()
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._serials: dict[int, int] = {}  # id(command) -> its serial (while on a stack)
        self._next_serial = 0
        self._in_command = 0  # > 0 while a command does or undoes itself
        self._listeners: list[tuple[Listener, tuple[type, ...]]] = []

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, bottom first (read-only: change them with the World's methods)."""
        return self._layers

    # ----------------------------------------------------------------- events
    def subscribe(self, fn: Listener, *types: type[WorldEvent]) -> None:
        """Call `fn(event)` after every change, or only for events that are instances of
        `types` (e.g. `subscribe(fn, LayerAdded, LayerRemoved)`). Subscribing the same
        function again replaces its filter."""
        self.unsubscribe(fn)
        self._listeners.append((fn, tuple(types)))

    def unsubscribe(self, fn: Listener) -> None:
        self._listeners = [(f, t) for f, t in self._listeners if f != fn]

    def emit(self, event: WorldEvent) -> None:
        """Announce `event` to the subscribers (commands do this; call it yourself only for
        a change made outside the World, e.g. a camera path held by the app)."""
        if not isinstance(event, WorldEvent):
            raise TypeError(
                f"World.emit takes a scene.events.WorldEvent, not {type(event).__name__}"
            )
        for fn, types in list(self._listeners):
            if not types or isinstance(event, types):
                fn(event)

    # ------------------------------------------- mutators (for scene.commands only)
    def _claim_id(self, layer: Layer) -> None:
        """Keep `layer.id` when it is set and free in this World, else give it the next id."""
        taken = {lay.id for lay in self._layers}
        if layer.id <= 0 or layer.id in taken:
            layer.id = self._next_id
        self._next_id = max(self._next_id, layer.id + 1)

    def _insert_layer(self, layer: Layer, index: int | None = None) -> int:
        if any(lay is layer for lay in self._layers):
            raise ValueError(f"layer {layer.name!r} is already in this world")
        self._claim_id(layer)
        idx = len(self._layers) if index is None else max(0, min(int(index), len(self._layers)))
        self._layers = self._layers[:idx] + (layer,) + self._layers[idx:]
        self.emit(LayerAdded(layer, idx))
        return idx

    def _remove_layer(self, layer: Layer) -> int:
        idx = next((i for i, lay in enumerate(self._layers) if lay is layer), None)
        if idx is None:
            raise KeyError(f"layer {layer.name!r} is not in this world")
        self._layers = self._layers[:idx] + self._layers[idx + 1 :]
        self.emit(LayerRemoved(layer, idx))
        return idx

    def _set_layer(self, layer: Layer, prop: LayerProperty, value: Any) -> None:
        if prop == "transform":
            value = np.asarray(value, np.float64).reshape(4, 4)
        setattr(layer, prop, value)
        self.emit(LayerChanged(layer, prop))

    def _set_up_axis(self, up: np.ndarray, source: Any) -> None:
        self.up_axis = np.asarray(up, np.float64).reshape(3)
        if source is None:
            self.meta.pop("up_axis_source", None)
        else:
            self.meta["up_axis_source"] = source
        self.emit(UpAxisChanged(self.up_axis.copy()))

    def _set_bookmarks(self, bookmarks: list[Bookmark], index: int | None) -> None:
        self.bookmarks[:] = bookmarks  # the same list object: holders of it stay current
        self.emit(BookmarksChanged(index))

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
        boxes = [
            lay.world_bounds()
            for lay in (self.visible_layers() if visible_only else self.layers)
            if (len(lay.data) if isinstance(lay.data, GaussianCloud) else lay.data.n_vertices)
        ]
        if not boxes:
            return np.zeros(3), np.zeros(3)
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    def near_bounds(self, visible_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """World-space bounding box of the scene proper: like `bounds`, but each Gaussian
        layer counts only its near field (`GaussianCloud.near_field_mask`), so a sky dome
        or distant background hundreds of metres out does not set the box. This is what to
        frame or orbit around; `bounds` is what contains every splat."""
        boxes = []
        for lay in self.visible_layers() if visible_only else self.layers:
            box = lay.near_bounds()
            if box is not None:
                boxes.append(box)
        if not boxes:
            return self.bounds(visible_only)
        return np.min([b[0] for b in boxes], 0), np.max([b[1] for b in boxes], 0)

    def merged_cloud(self, visible_only: bool = True) -> GaussianCloud:
        """All (visible) Gaussian layers with transforms baked, as one cloud."""
        clouds = [
            lay.baked()
            for lay in (self.visible_layers() if visible_only else self.layers)
            if isinstance(lay.data, GaussianCloud)
        ]
        return GaussianCloud.concatenate(clouds) if clouds else GaussianCloud.empty()

    # ------------------------------------------------------- undoable editing
    def execute(self, cmd: Command) -> None:
        """Do `cmd` and push it on the undo stack (clears redo)."""
        self._in_command += 1
        try:
            cmd.do(self)
        finally:
            self._in_command -= 1
        for gone in self._redo:
            self._serials.pop(id(gone), None)
        self._next_serial += 1
        self._serials[id(cmd)] = self._next_serial
        self._undo.append(cmd)
        self._redo.clear()

    def undo(self) -> bool:
        if not self._undo:
            return False
        cmd = self._undo.pop()
        self._in_command += 1
        try:
            cmd.undo(self)
        finally:
            self._in_command -= 1
        self._redo.append(cmd)
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        cmd = self._redo.pop()
        self._in_command += 1
        try:
            cmd.do(self)
        finally:
            self._in_command -= 1
        self._undo.append(cmd)
        return True

    @property
    def in_command(self) -> bool:
        """True while a command does, undoes or redoes itself (its events are history)."""
        return self._in_command > 0

    @property
    def history_state(self) -> tuple[int, ...]:
        """Where the world stands in its undo history: equal tuples mean the same
        sequence of commands done (an edit undone and redone is back where it was)."""
        return tuple(self._serials.get(id(c), 0) for c in self._undo)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_texts(self) -> tuple[str, ...]:
        """What Ctrl+Z would undo, oldest first (each command's `text`)."""
        return tuple(c.text for c in self._undo)

    @property
    def redo_texts(self) -> tuple[str, ...]:
        """What Ctrl+Shift+Z would redo, the next one last (each command's `text`)."""
        return tuple(c.text for c in self._redo)

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self._serials.clear()

    # Convenience wrappers, each one undoable command.
    def add_layer(self, layer: Layer, index: int | None = None) -> Layer:
        """Insert `layer` (default: last, drawn on top); it gets an id unique in this World
        (its own when set and free). Returns the layer."""
        self.execute(AddLayer(layer, index))
        return layer

    def remove_layer(self, layer_id: int) -> None:
        self.execute(RemoveLayer(layer_id))

    def set_transform(self, layer_id: int, matrix: np.ndarray, text: str | None = None) -> None:
        """Set the layer's 4×4 world-from-local similarity (`text`: the undo entry's name)."""
        self.execute(SetTransform(layer_id, matrix, text))

    def preview_transform(self, layer_id: int, matrix: np.ndarray) -> None:
        """Show `matrix` on the layer while a drag is under way, without an undo entry.
        The drag must end by restoring the start matrix and running `set_transform`."""
        lay = self.layer(layer_id)
        lay.transform = np.asarray(matrix, np.float64).reshape(4, 4).copy()
        self.emit(LayerChanged(lay, "transform", preview=True))

    def set_visible(self, layer_id: int, visible: bool) -> None:
        self.execute(SetVisible(layer_id, visible))

    def show_only(self, layer_id: int) -> None:
        """Hide every other layer and show this one, as one undo step."""
        cmds: list[Command] = [
            SetVisible(lay.id, lay.id == layer_id)
            for lay in self._layers
            if lay.visible != (lay.id == layer_id)
        ]
        if cmds:
            self.execute(Batch(cmds, f"show only {self.layer(layer_id).name}"))

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

    def set_up_axis(self, up: Any, source: str = "user") -> None:
        """Set the up axis ((3,) vector, normalised here; ValueError for zero) and who chose it."""
        self.execute(SetUpAxis(up, source))

    def set_bookmark(self, index: int | None, bookmark: Bookmark) -> int:
        """Store `bookmark` at `index` (replace; past the end or None: append), undoably.
        Returns the index it now has."""
        cmd = SetBookmark(index, bookmark)
        self.execute(cmd)
        return cmd.at

    def remove_bookmark(self, index: int) -> None:
        """Delete bookmark `index` (IndexError when there is none), undoably."""
        self.execute(SetBookmark(index, None))


def similarity_matrix(
    translation: Any = (0, 0, 0),
    yaw: float = 0.0,
    scale: float = 1.0,
    rotation: np.ndarray | None = None,
) -> np.ndarray:
    """4×4 similarity from a translation, a yaw about +Y (radians) or a 3×3 rotation, and a
    scale."""
    m = np.eye(4)
    if rotation is None:
        c, s = math.cos(yaw), math.sin(yaw)
        rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    m[:3, :3] = scale * np.asarray(rotation, np.float64)
    m[:3, 3] = np.asarray(translation, np.float64)
    return m
