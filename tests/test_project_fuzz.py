"""Damaged projects: random manifest values and random byte damage never crash the loader;
it opens what it can (with warnings) or raises one clear SceneFormatError."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scene.errors import SceneFormatError
from scene.project import load_project, save_project
from scene.world import Bookmark, Layer, World

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
fields = st.sampled_from(
    ["format_version", "up_axis", "meta", "bookmarks", "layers", "inputs", "arrays", "app_version"]
)


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


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=fields,
    value=json_values,
    layer_field=st.sampled_from(
        ["id", "name", "transform", "file", "data", "source", "data_meta", "visible", "kind"]
    ),
    layer_value=json_values,
)
def test_random_manifest_values(tmp_path, field, value, layer_field, layer_value):
    src = base_project(tmp_path)
    out = tmp_path / "m.wander"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                man = json.loads(data)
                man[field] = value
                if (
                    isinstance(man.get("layers"), list)
                    and man["layers"]
                    and isinstance(man["layers"][0], dict)
                ):
                    man["layers"][0][layer_field] = layer_value
                data = json.dumps(man).encode()
            zout.writestr(info.filename, data)
    check_loads_or_clear_error(out)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
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


# ------------------------------------------------------- whole generated manifests
# Issue 11, kind 3: any manifest either opens (with warnings) or raises the one error
# type, naming the project file — never another exception, never a write outside the
# cache folder.
_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**300, -(10**80), 2**63])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(
        ["../", "/etc/passwd", "..", ".", "", "a.jpg", "arrays/0.npy", "layers/1.ply", "inputs/a"]
    )
)


def _tagged(inner):
    tags = [
        "__float__",
        "__tuple__",
        "__npy__",
        "__path__",
        "__items__",
        "__input__",
        "__unsupported__",
    ]
    return st.builds(
        lambda t, v, extra: {t: v, **extra},
        st.sampled_from(tags),
        inner,
        st.dictionaries(st.sampled_from(["name", "path", "repr"]), inner, max_size=2),
    )


_values = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | _tagged(inner)
    ),
    max_leaves=15,
)
_SHA = __import__("hashlib").sha256(b"input bytes").hexdigest()


def _maybe(d: dict, extra):
    return st.builds(
        lambda base, more: {**base, **more},
        st.fixed_dictionaries(d),
        st.dictionaries(st.sampled_from(sorted(d) + ["x"]), extra, max_size=3),
    )


def _mostly_early(good, bad=_values):
    return st.one_of(good, good, good, bad)


_layer = _maybe(
    {
        "id": st.integers(-3, 6) | st.sampled_from([1e999, 1.5, "1", None, 10**40]),
        "name": st.text(max_size=6) | _values,
        "file": _mostly_early(
            st.sampled_from(["layers/1.ply", "layers/2.npz", "arrays/0.npy", "nope", "../x"])
        ),
        "transform": st.just([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) | _values,
        "source": _values,
        "data_meta": _values,
        "data": st.sampled_from(["cloud", "mesh"]),
    },
    _values,
)
_bookmark = _maybe(
    {
        "name": _values,
        "position": st.lists(_leaf, min_size=3, max_size=3) | _values,
        "yaw": _leaf,
        "pitch": _leaf,
        "fov_y_deg": _leaf | st.just(0),
    },
    _values,
)
_input = _maybe(
    {
        "sha256": st.sampled_from([_SHA, _SHA.upper(), "../../../", "/tmp", "0" * 64]) | _values,
        "original": st.sampled_from(["a.jpg", "../../.bashrc", "/etc/x.png", "..", ""]) | _values,
        "name": _values,
        "stored": st.sampled_from(["inputs/a", "../inputs/a", "layers/1.ply"]) | _values,
    },
    _values,
)


def _mostly(good, bad=_values):
    """`good` three times in four, else any value (hypothesis picks branches evenly)."""
    return st.one_of(good, good, good, bad)


_manifest = st.fixed_dictionaries(
    {
        "format": st.just("wander-project"),
        "format_version": _mostly(st.sampled_from(["1.0", "1.1", "1.9", "2.0"])),
        "layers": _mostly(st.lists(_layer, max_size=4)),
        "bookmarks": _mostly(st.lists(_bookmark, max_size=3)),
        "inputs": _mostly(st.lists(_input, max_size=3)),
    },
    optional={
        "up_axis": st.lists(_leaf, min_size=3, max_size=3) | _values,
        "meta": _values,
        "arrays": _mostly(
            st.lists(
                st.sampled_from(["arrays/0.npy", "arrays/1.npy", "layers/1.ply"]) | _values,
                max_size=3,
            )
        ),
        "autosave_of": _values,
    },
)


def _entries(folder: Path) -> dict[str, bytes]:
    import io as _io

    from scene.io.ply import ply_bytes

    buf = _io.BytesIO()
    np.save(buf, np.arange(6, dtype=np.float32).reshape(2, 3))
    mesh = _io.BytesIO()
    np.savez_compressed(mesh, vertices=np.zeros((3, 3), np.float32), faces=np.array([[0, 1, 2]]))
    return {
        "layers/1.ply": ply_bytes(random_cloud(6, sh_degree=1)),
        "layers/2.npz": mesh.getvalue(),
        "arrays/0.npy": buf.getvalue(),
        "arrays/1.npy": b"\x93NUMPY garbage",
        "inputs/a": b"input bytes",
    }


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(man=_manifest, depth=st.sampled_from([0, 0, 0, 3, 70, 5000]))
def test_generated_manifests_open_or_raise_one_clear_error(tmp_path, man, depth):
    if depth:
        man["meta"] = json.loads("[" * depth + "]" * depth) if depth < 900 else None
    text = json.dumps(man)
    if depth >= 900:
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    out = tmp_path / "gen.wander"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", text)
        for name, body in _entries(tmp_path).items():
            zf.writestr(name, body)
    cache = tmp_path / "cache"
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        world, warnings = load_project(out, inputs_dir=cache)
    except SceneFormatError as exc:
        assert str(out) in str(exc) and exc.path == out
        assert "unexpected problem" not in exc.problem  # the safety net caught a bug
        return
    finally:
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == [
            n for n in before if n != "cache"
        ]
    assert isinstance(warnings, list) and all(isinstance(w, str) for w in warnings)
    ids = [lay.id for lay in world.layers]
    assert len(set(ids)) == len(ids) and all(type(i) is int and i > 0 for i in ids)
    for lay in world.layers:
        assert lay.transform.shape == (4, 4) and np.isfinite(lay.transform).all()
        assert isinstance(lay.source, dict) and isinstance(lay.data.meta, dict)
    for b in world.bookmarks:
        assert 0 < b.fov_y_deg < 180 and np.isfinite(b.position).all()
    assert isinstance(world.meta, dict)
    if cache.exists():  # only the one input whose checksum matches, under a plain name
        files = [p for p in cache.rglob("*") if p.is_file()]
        assert all(
            p.read_bytes() == b"input bytes" and p.parent.parent == cache.resolve() for p in files
        ), files
    # What opened can be saved again and reopened without new warnings about data.
    again = tmp_path / "again.wander"
    save_project(world, again)
    load_project(again, inputs_dir=cache)
