"""Damaged projects: random manifest values and random byte damage never crash the loader;
it opens what it can (with warnings) or raises one clear SceneFormatError."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import random_cloud
from scene.errors import SceneFormatError
from scene.project import load_project, save_project
from scene.world import Bookmark, Layer, World

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)
fields = st.sampled_from(["format_version", "up_axis", "meta", "bookmarks", "layers", "inputs",
                          "arrays", "app_version"])


def base_project(folder: Path) -> Path:
    p = folder / "base.wander"
    if not p.exists():
        w = World()
        w.add_layer(Layer("a", random_cloud(20, sh_degree=1)))
        w.bookmarks.append(Bookmark("b", [0, 1, 2]))
        w.meta = {"arr": np.arange(4)}
        save_project(w, p)
    return p


def check_loads_or_clear_error(path: Path) -> None:
    try:
        world, warnings = load_project(path, inputs_dir=path.parent / "inputs")
    except SceneFormatError:
        return
    assert isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)
    for lay in world.layers:
        assert lay.transform.shape == (4, 4)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=fields, value=json_values, layer_field=st.sampled_from(
    ["id", "name", "transform", "file", "data", "source", "data_meta", "visible", "kind"]),
    layer_value=json_values)
def test_random_manifest_values(tmp_path, field, value, layer_field, layer_value):
    src = base_project(tmp_path)
    out = tmp_path / "m.wander"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                man = json.loads(data)
                man[field] = value
                if isinstance(man.get("layers"), list) and man["layers"] \
                        and isinstance(man["layers"][0], dict):
                    man["layers"][0][layer_field] = layer_value
                data = json.dumps(man).encode()
            zout.writestr(info.filename, data)
    check_loads_or_clear_error(out)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_byte_damage(tmp_path, data):
    raw = bytearray(base_project(tmp_path).read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    out = tmp_path / "d.wander"
    out.write_bytes(bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))
    check_loads_or_clear_error(out)


def test_wrong_types_in_layer_entries_are_repaired(tmp_path):
    src = base_project(tmp_path)
    out = tmp_path / "t.wander"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                man = json.loads(data)
                man["layers"][0].update(source=[1, 2], data_meta="x", kind=7)
                man["bookmarks"] = "nope"
                data = json.dumps(man).encode()
            zout.writestr(info.filename, data)
    world, warnings = load_project(out)
    lay = world.layers[0]
    assert lay.source == {} and lay.data.meta == {} and lay.kind == "object"
    assert world.bookmarks == []
    assert any("source record" in w for w in warnings) and any("bookmarks" in w for w in warnings)
