"""`.wander` projects: save -> open restores an equal World; faults; crash recovery."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud

from scene import project
from scene.errors import SceneFormatError
from scene.mesh import Mesh
from scene.project import (
    FORMAT_VERSION,
    autosave_path,
    discard_autosave,
    find_recoveries,
    find_recovery,
    load_project,
    read_manifest,
    recover,
    save_project,
    write_autosave,
)
from scene.world import Bookmark, Layer, World, similarity_matrix


def make_world(tmp_path: Path) -> World:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0fake jpeg bytes" * 10)
    w = World()
    base = random_cloud(300, sh_degree=3, seed=1)
    base.meta = {"generator": "pano_world", "depth_scale": 1.5}
    w.add_layer(
        Layer(
            "Base world",
            base,
            "world",
            source={
                "generator": "pano_world",
                "backend": "classical",
                "options": {"fov": 65.0, "steps": 20, "size": (1024, 512)},
                "photo": str(photo),
            },
        )
    )
    obj = random_cloud(120, sh_degree=1, seed=2)
    w.add_layer(
        Layer(
            "Chair",
            obj,
            "object",
            transform=similarity_matrix((1, 0.5, -2), yaw=0.7, scale=0.8),
            visible=False,
            source={"generator": "object", "seed": 7},
        )
    )
    mesh = Mesh(
        np.random.default_rng(3).normal(size=(8, 3)),
        [[0, 1, 2], [2, 3, 4], [5, 6, 7]],
        vertex_colors=np.random.default_rng(4).uniform(size=(8, 3)),
    )
    w.add_layer(Layer("Plain", random_cloud(50, sh_degree=0, seed=8), "object"))
    w.add_layer(Layer("Collider", mesh, "mesh", transform=similarity_matrix((0, -1, 0))))
    w.bookmarks += [
        Bookmark("door", [1, 1.6, 2], 0.3, -0.1, 70.0),
        Bookmark("window", [-2, 1.5, 0], 2.0, 0.2, 55.0),
    ]
    w.up_axis = np.array([0.0, 0.0, 1.0])
    w.meta = {
        "title": "Garden",
        "created_by": "test",
        "panorama": np.arange(24, dtype=np.uint8).reshape(2, 4, 3),
        "ratio": 0.25,
        "tags": ["a", "b"],
        "pair": (1, 2),
        "origin": Path("/tmp/somewhere"),
    }
    return w


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    """Inputs unpacked by load_project go to a per-test cache, not the user's."""
    monkeypatch.setenv("WANDER_CACHE_DIR", str(tmp_path / "wander-cache"))


def _same_input(a: object, b: object) -> bool:
    """An input path restored from a project: the same file name and bytes, in the cache
    (a project carries names only, never the folder the photo lived in)."""
    if isinstance(a, str) and isinstance(b, str) and a != b and Path(a).is_file():
        pb = Path(b)
        return (
            pb.name == Path(a).name
            and "wander-cache" in b
            and pb.read_bytes() == Path(a).read_bytes()
        )
    return a == b


def assert_worlds_equal(a: World, b: World) -> None:
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert (la.id, la.name, la.kind, la.visible) == (lb.id, lb.name, lb.kind, lb.visible)
        np.testing.assert_array_equal(la.transform, lb.transform)
        assert la.source.keys() == lb.source.keys()
        assert all(_same_input(la.source[k], lb.source[k]) for k in la.source), (
            la.source,
            lb.source,
        )
        assert type(la.data) is type(lb.data)
        if la.is_mesh:
            np.testing.assert_array_equal(la.data.vertices, lb.data.vertices)
            np.testing.assert_array_equal(la.data.faces, lb.data.faces)
            np.testing.assert_array_equal(la.data.vertex_colors, lb.data.vertex_colors)
        else:
            for name in ("means", "scales", "quats", "opacities", "sh0", "shN"):
                np.testing.assert_array_equal(getattr(la.data, name), getattr(lb.data, name))
        assert la.data.meta == lb.data.meta
    assert len(a.bookmarks) == len(b.bookmarks)
    for ba, bb in zip(a.bookmarks, b.bookmarks):
        assert (ba.name, ba.yaw, ba.pitch, ba.fov_y_deg) == (
            bb.name,
            bb.yaw,
            bb.pitch,
            bb.fov_y_deg,
        )
        np.testing.assert_array_equal(ba.position, bb.position)
    np.testing.assert_array_equal(a.up_axis, b.up_axis)
    assert a.meta.keys() == b.meta.keys()
    for k in a.meta:
        if isinstance(a.meta[k], np.ndarray):
            np.testing.assert_array_equal(a.meta[k], b.meta[k])
            assert a.meta[k].dtype == b.meta[k].dtype
        else:
            assert a.meta[k] == b.meta[k], k


def test_round_trip_restores_equal_world(tmp_path):
    w = make_world(tmp_path)
    p = tmp_path / "garden.wander"
    save_project(w, p)
    w2, warnings = load_project(p)
    assert warnings == []
    assert_worlds_equal(w, w2)
    assert not w2.can_undo  # opening is not an edit
    man = read_manifest(p)
    assert man["format_version"] == f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}"
    assert [lay["generator"] for lay in man["layers"]] == ["pano_world", "object", None, None]
    assert man["layers"][0]["source"]["options"]["fov"] == 65.0
    # New layers never reuse restored ids.
    top = max(lay.id for lay in w2.layers)
    new = w2.add_layer(Layer("new", random_cloud(3)))
    assert new.id > top


def test_zip_layout_and_plyfile_reads_layer(tmp_path):
    import plyfile

    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    with zipfile.ZipFile(p) as zf:
        names = zf.namelist()
        assert names[0] == "manifest.json"
        lay = w.layers[0]
        assert f"layers/{lay.id}.ply" in names and f"layers/{w.layers[3].id}.npz" in names
        assert any(n.startswith("inputs/") and n.endswith("photo.jpg") for n in names)
        ply = plyfile.PlyData.read(zf.open(f"layers/{lay.id}.ply"))
    np.testing.assert_array_equal(ply["vertex"]["f_rest_44"], lay.data.shN[:, 14, 2])
    np.testing.assert_array_equal(ply["vertex"]["x"], lay.data.means[:, 0])


def test_inputs_restored_when_original_is_gone(tmp_path):
    w = make_world(tmp_path)
    original = Path(w.layers[0].source["photo"])
    body = original.read_bytes()
    p = tmp_path / "g.wander"
    save_project(w, p)
    original.unlink()
    w2, warnings = load_project(p, inputs_dir=tmp_path / "cache")
    assert warnings == []
    restored = Path(w2.layers[0].source["photo"])
    assert restored != original and restored.read_bytes() == body
    assert str(tmp_path / "cache") in str(restored)


def test_failure_mid_save_keeps_previous_project(tmp_path, monkeypatch):
    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    before = p.read_bytes()
    calls = {"n": 0}
    real = project.encode_ply  # the layer encoder, writing into the zip entry

    def exploding(cloud, fh, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # first layer already written into the temp zip
            raise OSError("disk full (simulated)")
        return real(cloud, fh, **kw)

    monkeypatch.setattr(project, "encode_ply", exploding)
    w.layers[0].name = "renamed"
    with pytest.raises(OSError, match="simulated"):
        save_project(w, p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["g.wander", "photo.jpg"]
    w2, _ = load_project(p)
    assert w2.layers[0].name == "Base world"


def _rewrite(
    p: Path, out: Path, edit_manifest=None, drop: str | None = None, corrupt: str | None = None
) -> None:
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == drop:
                continue
            if info.filename == "manifest.json" and edit_manifest:
                man = json.loads(data)
                edit_manifest(man)
                data = json.dumps(man).encode()
            if info.filename == corrupt:
                data = b"ply\nthis is not a ply body"
            zout.writestr(info.filename, data)


def test_newer_major_version_fails_clearly(tmp_path):
    p = tmp_path / "g.wander"
    save_project(make_world(tmp_path), p)
    q = tmp_path / "newer.wander"
    _rewrite(p, q, lambda m: m.update(format_version="2.0", app_version="9.9"))
    with pytest.raises(SceneFormatError, match="newer Wander.*update Wander"):
        load_project(q)


def test_newer_minor_version_opens_with_warning(tmp_path):
    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    q = tmp_path / "minor.wander"
    _rewrite(p, q, lambda m: m.update(format_version=f"{FORMAT_VERSION[0]}.7", future_field=1))
    w2, warnings = load_project(q)
    assert len(warnings) == 1 and "newer" in warnings[0]
    assert_worlds_equal(w, w2)


def test_missing_and_corrupt_layer_files_open_the_rest(tmp_path):
    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    chair, base = w.layers[1], w.layers[0]
    q = tmp_path / "broken.wander"
    _rewrite(p, q, drop=f"layers/{chair.id}.ply", corrupt=f"layers/{base.id}.ply")
    w2, warnings = load_project(q)
    assert [lay.name for lay in w2.layers] == ["Plain", "Collider"]
    text = " | ".join(warnings)
    assert f"'Chair': layers/{chair.id}.ply is missing" in text
    assert f"'Base world': layers/{base.id}.ply is corrupt" in text


def test_truncated_project_opens_what_it_can(tmp_path):
    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    data = p.read_bytes()
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo(f"layers/{w.layers[1].id}.ply")
    cut = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    q = tmp_path / "cut.wander"
    q.write_bytes(data[:cut])
    w2, warnings = load_project(q)
    assert [lay.name for lay in w2.layers] == ["Base world"]
    np.testing.assert_array_equal(w2.layers[0].data.shN, w.layers[0].data.shN)
    assert len(w2.bookmarks) == 2
    text = " | ".join(warnings)
    assert "truncated" in text and "'Chair'" in text and "'Collider'" in text and "'Plain'" in text


def test_garbage_files_fail_clearly(tmp_path):
    for name, body in [("empty.wander", b""), ("text.wander", b"hello world" * 10)]:
        (tmp_path / name).write_bytes(body)
        with pytest.raises(SceneFormatError, match="not a Wander project"):
            load_project(tmp_path / name)
    z = tmp_path / "other.wander"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(SceneFormatError, match="no manifest"):
        load_project(z)
    with pytest.raises(FileNotFoundError):
        load_project(tmp_path / "nope.wander")


def test_recovery_after_simulated_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "auto"))
    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    assert find_recovery(p) is None
    w.layers[0].name = "edited after save"
    w.bookmarks.append(Bookmark("new view", [0, 2, 0]))
    auto = write_autosave(w, p)
    assert auto == autosave_path(p) and auto.parent == tmp_path / "auto"
    os.utime(p, (time.time() - 60, time.time() - 60))  # project older than the autosave
    # ... the app crashes here; on the next start:
    rec = find_recovery(p)
    assert rec is not None and rec.project == p.resolve()
    assert [r.autosave for r in find_recoveries()] == [auto]
    w2, warnings = recover(rec)
    assert warnings == []
    assert_worlds_equal(w, w2)
    # Saving the project afterwards makes the autosave stale; discarding removes it.
    save_project(w2, p)
    os.utime(p, (time.time() + 5, time.time() + 5))
    assert find_recovery(p) is None
    discard_autosave(p)
    assert not auto.exists()


def test_untitled_world_autosave(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "auto"))
    w = make_world(tmp_path)
    write_autosave(w, None)
    rec = find_recovery(None)
    assert rec is not None and rec.project is None
    assert_worlds_equal(w, recover(rec)[0])


def test_empty_world_round_trip(tmp_path):
    p = tmp_path / "empty.wander"
    save_project(World(), p)
    w, warnings = load_project(p)
    assert w.layers == () and warnings == []


def test_list_and_extract_inputs(tmp_path):
    from scene.project import extract_input, project_inputs

    w = make_world(tmp_path)
    p = tmp_path / "g.wander"
    save_project(w, p)
    (inp,) = project_inputs(p)
    assert inp["name"] == inp["original"] == "photo.jpg" and inp["size"] > 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    got = extract_input(p, inp["stored"], out_dir)
    assert got == out_dir / "photo.jpg"
    assert got.read_bytes() == (tmp_path / "photo.jpg").read_bytes()
    with pytest.raises(SceneFormatError, match="holds no"):
        extract_input(p, "inputs/nothing.png", out_dir)


def test_a_photo_name_in_meta_is_not_turned_into_its_cached_copy(tmp_path):
    """A reconstruction names its photos by file name (its cameras, its held-out list);
    once the project carried the photos, opening it replaced every such name with the
    path of the photo's cached copy (the held-out list no longer matched the cameras).
    Only the path text of a stored input is a reference to it."""
    w = make_world(tmp_path)
    w.meta["held_out"] = ["photo.jpg"]
    w.meta["cameras"] = [{"name": "photo.jpg"}]
    p = tmp_path / "names.wander"
    save_project(w, p)
    back, warnings = load_project(p)
    assert not warnings
    assert back.meta["held_out"] == ["photo.jpg"]
    assert back.meta["cameras"] == [{"name": "photo.jpg"}]


def test_two_unsaved_worlds_never_share_a_recovery_file(tmp_path):
    a, b = World(), World()
    a.add_layer(Layer("first", random_cloud(10, seed=1)))
    b.add_layer(Layer("second", random_cloud(10, seed=2)))
    folder = tmp_path / "auto"
    fa = write_autosave(a, None, folder)
    fb = write_autosave(b, None, folder)
    assert fa != fb
    recs = find_recoveries(folder)
    assert sorted(recover(r)[0].layers[0].name for r in recs) == ["first", "second"]
    assert all(r.thumbnail is not None and r.thumbnail.suffix == ".png" for r in recs)
    # A slot id keeps one document in one file; discarding it leaves the others.
    fa2 = write_autosave(a, None, folder, doc_id="abc123")
    assert write_autosave(a, None, folder, doc_id="abc123") == fa2
    discard_autosave(None, folder, "abc123")
    assert not fa2.exists() and fa.exists() and fb.exists()
    with pytest.raises(ValueError):
        project.autosave_path(None, folder, "../../x")
