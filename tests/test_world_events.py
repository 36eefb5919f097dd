"""Typed World events (scene.events) and the undoable commands (scene.commands): what each
edit announces, that undo/redo restore exactly, read-only layers and per-World ids."""

import numpy as np
import pytest
from conftest import random_cloud

from scene.commands import Batch, SetCameraPath, SetTransform, SetVisible
from scene.events import (
    BookmarksChanged,
    CameraPathChanged,
    LayerAdded,
    LayerChanged,
    LayerRemoved,
    UpAxisChanged,
)
from scene.world import Bookmark, Layer, World, similarity_matrix


def _world() -> tuple[World, list]:
    w = World()
    got: list = []
    w.subscribe(got.append)
    return w, got


def test_each_edit_announces_the_layer_and_property() -> None:
    w, got = _world()
    a = w.add_layer(Layer("a", random_cloud(20, seed=1)))
    b = w.add_layer(Layer("b", random_cloud(10, seed=2), kind="object"), index=0)
    assert [type(e) for e in got] == [LayerAdded, LayerAdded]
    assert got[1].layer is b and got[1].index == 0 and w.layers == (b, a)
    got.clear()
    w.set_transform(b.id, similarity_matrix((1, 2, 3)))
    w.set_visible(a.id, False)
    w.rename(a.id, "ground")
    w.remove_splats(a.id, np.arange(20) < 5)
    assert [(type(e), e.layer, e.property) for e in got] == [
        (LayerChanged, b, "transform"),
        (LayerChanged, a, "visible"),
        (LayerChanged, a, "name"),
        (LayerChanged, a, "data"),
    ]
    assert [e.what for e in got] == ["transform", "visibility", "layers", "layers"]
    got.clear()
    w.remove_layer(b.id)
    assert (
        len(got) == 1
        and isinstance(got[0], LayerRemoved)
        and got[0].layer is b
        and got[0].index == 0
    )
    got.clear()
    assert w.undo()  # the removal: the same object comes back in place, announced as added
    assert isinstance(got[0], LayerAdded) and got[0].layer is b and w.layers == (b, a)


def test_subscribe_filters_by_type_and_unsubscribe_stops() -> None:
    w = World()
    adds: list = []
    w.subscribe(adds.append, LayerAdded)
    lay = w.add_layer(Layer("a", random_cloud(5)))
    w.set_visible(lay.id, False)
    assert len(adds) == 1
    w.subscribe(adds.append, LayerChanged)  # again: replaces the filter, no double calls
    w.set_visible(lay.id, True)
    w.add_layer(Layer("b", random_cloud(5)))
    assert [type(e) for e in adds] == [LayerAdded, LayerChanged]
    w.unsubscribe(adds.append)
    w.set_visible(lay.id, False)
    assert len(adds) == 2
    with pytest.raises(TypeError):
        w.emit("layers")  # type: ignore[arg-type]  # bare strings are gone


def test_layers_are_read_only_and_ids_unique_per_world() -> None:
    w1, w2 = World(), World()
    a = w1.add_layer(Layer("a", random_cloud(5)))
    b = w2.add_layer(Layer("b", random_cloud(5)))
    assert a.id == b.id == 1  # each World counts its own
    assert isinstance(w1.layers, tuple)
    with pytest.raises(AttributeError):
        w1.layers = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        w1.layers.append(Layer("c", random_cloud(5)))  # type: ignore[attr-defined]
    # a saved id is kept when free, a clash is renumbered above every id seen
    kept = w1.add_layer(Layer("saved", random_cloud(5), id=7))
    clash = w1.add_layer(Layer("clash", random_cloud(5), id=7))
    assert kept.id == 7 and clash.id == 8
    w1.remove_layer(clash.id)
    assert w1.add_layer(Layer("next", random_cloud(5))).id == 9  # never reused
    w1.undo()
    w1.undo()
    assert w1.layer(8) is clash  # undo puts it back with its id
    assert w1.redo() and w1.redo() and w1.layer(9).name == "next"  # redo keeps ids too
    with pytest.raises(ValueError):
        w1.add_layer(kept)  # one layer object cannot sit in a world twice


def test_up_axis_bookmarks_and_camera_path_are_undoable() -> None:
    w, got = _world()
    w.meta["up_axis_source"] = "floor"
    w.set_up_axis([0, 0, 2])
    assert isinstance(got[-1], UpAxisChanged) and np.allclose(got[-1].up, (0, 0, 1))
    assert w.meta["up_axis_source"] == "user"
    assert w.undo() and np.allclose(w.up_axis, (0, 1, 0)) and w.meta["up_axis_source"] == "floor"
    with pytest.raises(ValueError):
        w.set_up_axis([0, 0, 0])

    held = w.bookmarks  # views holding the list see the edits
    assert w.set_bookmark(5, Bookmark("one", [0, 1, 2])) == 0  # past the end: appended
    assert w.set_bookmark(None, Bookmark("two", [1, 1, 2])) == 1
    w.set_bookmark(0, Bookmark("uno", [0, 1, 3]))
    assert [b.name for b in held] == ["uno", "two"] and isinstance(got[-1], BookmarksChanged)
    assert got[-1].index == 0
    w.remove_bookmark(1)
    with pytest.raises(IndexError):
        w.remove_bookmark(4)
    assert [b.name for b in w.bookmarks] == ["uno"]
    assert w.undo() and w.undo() and [b.name for b in held] == ["one", "two"]
    assert w.redo() and [b.name for b in held] == ["uno", "two"]

    class Owner:
        path = None

    owner = Owner()
    w.execute(SetCameraPath(owner, "a path", "Add keyframe 1"))
    assert (
        owner.path == "a path" and isinstance(got[-1], CameraPathChanged) and got[-1].owner is owner
    )
    assert w.undo_texts[-1] == "Add keyframe 1"
    assert w.undo() and owner.path is None


def test_batch_is_one_step_and_show_only_hides_the_rest() -> None:
    w, got = _world()
    a = w.add_layer(Layer("a", random_cloud(5)))
    b = w.add_layer(Layer("b", random_cloud(5)))
    c = w.add_layer(Layer("c", random_cloud(5)))
    depth = len(w.undo_texts)
    w.execute(
        Batch(
            [SetTransform(a.id, similarity_matrix((1, 0, 0)), "move a"), SetVisible(b.id, False)],
            "two edits",
        )
    )
    assert len(w.undo_texts) == depth + 1 and w.undo_texts[-1] == "two edits"
    assert w.undo() and np.allclose(a.transform, np.eye(4)) and b.visible
    w.show_only(b.id)
    assert [lay.visible for lay in w.layers] == [False, True, False]
    assert len(w.undo_texts) == depth + 1  # one step for every layer hidden
    assert w.undo() and all(lay.visible for lay in (a, b, c))


def test_preview_transform_is_announced_but_not_an_undo_step() -> None:
    w, got = _world()
    lay = w.add_layer(Layer("obj", random_cloud(5), kind="object"))
    w.clear_history()
    got.clear()
    w.preview_transform(lay.id, similarity_matrix((0.5, 0, 0)))
    assert got[-1].preview and got[-1].property == "transform" and not w.can_undo
    w.preview_transform(lay.id, np.eye(4))
    w.set_transform(lay.id, similarity_matrix((0.5, 0, 0)), "Move obj")
    assert w.undo_texts == ("Move obj",) and not got[-1].preview


def test_separate_splats_round_trip() -> None:
    w, got = _world()
    src = w.add_layer(
        Layer("scan", random_cloud(30, seed=4), transform=similarity_matrix((0, 1, 0)))
    )
    data = src.data
    mask = np.arange(30) % 3 == 0
    part = w.separate_splats(src.id, mask)
    assert [lay.name for lay in w.layers] == ["scan", "scan part"] and len(part.data) == 10
    assert len(src.data) == 20 and np.allclose(part.transform, src.transform)
    assert {type(e) for e in got[-2:]} == {LayerChanged, LayerAdded}
    assert w.undo() and w.layers == (src,) and src.data is data
    assert w.redo() and w.layers == (src, part) and len(src.data) == 20
    with pytest.raises(ValueError):
        w.remove_splats(src.id, np.ones(3, bool))  # wrong length
