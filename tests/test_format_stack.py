"""One format stack (issue 13, kind 7): scene.io's registry is the only reader/writer.

- Export (CLI and `export_world`), `convert` and project save produce byte-identical
  files for the same scene and options.
- A grep of the product's source finds exactly one encoder per format, all in scene/io,
  and no format-writing code outside it.
- Registry behaviour: sniffing every writable format back, options checked, `info`
  naming the registry's format.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("scene", "generators", "cli", "viewer")


def _cli(args: list[str]) -> int:
    from cli import run_cli

    return run_cli([str(a) for a in args])


def _one_layer_world(src: Path):
    from scene.io import load
    from scene.world import Layer, World

    w = World()
    w.add_layer(Layer("base", load(src)))
    return w


@pytest.mark.parametrize(
    "name,fmt_args",
    [
        ("a.ply", []),
        ("a.spz", ["--spz-version", "2"]),
        ("a.spz", ["--spz-axes", "rub"]),
        ("a.splat", []),
        ("a.compressed.ply", []),
        ("a.ply", ["--sh-degree", "1"]),
        ("a.spz", ["--antialiased", "yes"]),
    ],
)
def test_export_convert_and_api_write_identical_bytes(
    tmp_path: Path, name: str, fmt_args: list[str]
) -> None:
    from scene.export import ExportOptions, export_world
    from scene.io import save

    src = tmp_path / "src.ply"
    save(random_cloud(700, sh_degree=2, seed=3), src)
    (tmp_path / "conv").mkdir()
    (tmp_path / "exp").mkdir()
    assert _cli(["convert", src, tmp_path / "conv" / name, *fmt_args]) == 0
    assert _cli(["export", src, "--out", tmp_path / "exp" / name, *fmt_args]) == 0
    conv = (tmp_path / "conv" / name).read_bytes()
    assert conv == (tmp_path / "exp" / name).read_bytes()
    # the app's Export calls export_world with ExportOptions and the registry's options
    opts = dict(zip(fmt_args[::2], fmt_args[1::2]))
    api = {}
    if "--spz-version" in opts or name.endswith(".spz"):
        api = {"version": int(opts.get("--spz-version", 3)), "axes": opts.get("--spz-axes", "ply")}
    if "--antialiased" in opts:
        api["antialiased"] = opts["--antialiased"] == "yes"
    sh = int(opts["--sh-degree"]) if "--sh-degree" in opts else None
    export_world(_one_layer_world(src), tmp_path / name, options=ExportOptions(sh_degree=sh), **api)
    assert (tmp_path / name).read_bytes() == conv


def test_project_save_stores_the_same_ply_bytes_as_export_and_convert(tmp_path: Path) -> None:
    from scene.export import export_world
    from scene.io import save
    from scene.project import save_project

    src = tmp_path / "src.ply"
    cloud = random_cloud(500, sh_degree=3, seed=4)
    cloud.meta["antialiased"] = True  # the flag travels the same way everywhere
    save(cloud, src)
    w = _one_layer_world(src)
    save_project(w, tmp_path / "p.wander")
    with zipfile.ZipFile(tmp_path / "p.wander") as zf:
        stored = [n for n in zf.namelist() if n.startswith("layers/")]
        assert len(stored) == 1
        layer_bytes = zf.read(stored[0])
    export_world(w, tmp_path / "e.ply")
    assert _cli(["convert", src, tmp_path / "c.ply"]) == 0
    assert layer_bytes == (tmp_path / "e.ply").read_bytes() == (tmp_path / "c.ply").read_bytes()
    assert b"comment SplatRenderMode: mip" in layer_bytes
    # and the project opens back to the same values
    from scene.project import load_project

    w2, _ = load_project(tmp_path / "p.wander")
    np.testing.assert_array_equal(w2.layers[0].data.shN, w.layers[0].data.shN)


def test_generators_write_through_the_registry(tmp_path: Path) -> None:
    """An object's splats: the registry's PLY bytes plus one provenance comment line."""
    from generators.objects.files import write_cloud
    from scene.io import save

    c = random_cloud(50, sh_degree=1, seed=5)
    c.meta["generator"] = "test"
    write_cloud(c, tmp_path / "obj.ply")
    save(c, tmp_path / "plain.ply")
    obj, plain = (tmp_path / "obj.ply").read_bytes(), (tmp_path / "plain.ply").read_bytes()
    lines = obj.split(b"\n")
    comment = [ln for ln in lines if ln.startswith(b"comment wander ")]
    assert len(comment) == 1 and b'"generator":"test"' in comment[0]
    assert obj.replace(comment[0] + b"\n", b"") == plain


# ----------------------------------------------------------------- one encoder per format
def _product_sources() -> dict[str, str]:
    out = {}
    for top in PRODUCT:
        for p in sorted((ROOT / top).rglob("*.py")):
            out[str(p.relative_to(ROOT))] = p.read_text(encoding="utf-8")
    return out


#: constructs that only a format encoder needs; outside scene/io none may appear
_ENCODING_MARKERS = {
    "PLY header writing": re.compile(r"""["']property (float|uchar|uint) """),
    "spz header packing": re.compile(r"IIIBBBB"),
    "spz/gzip stream": re.compile(r"gzip\.(compress|GzipFile|open)\("),
    ".splat record layout": re.compile(r"\(\s*[\"']rgba[\"']\s*,\s*[\"']u1[\"']"),
    "trimesh export": re.compile(r"\.export\(\s*(file_type|str\()"),
    # (building a trimesh.Trimesh is geometry processing, e.g. smoothing in objects/inflate.py;
    # only its export is a format)
    "compressed PLY packing": re.compile(r"packed_(position|rotation|scale|color)"),
    "COLMAP writing": re.compile(r"POINTS2D\[\]|# Camera list with one line"),
    "cameras.json writing": re.compile(r"[\"']world_to_camera[\"']\s*:"),
}


def test_grep_finds_exactly_one_encoder_per_format() -> None:
    from scene import io as sio

    src = _product_sources()
    defs: dict[str, list[str]] = {}
    for path, text in src.items():
        for m in re.finditer(r"^def (encode_\w+)\(", text, re.M):
            defs.setdefault(m.group(1), []).append(path)
    # each encoder function is defined once, in scene/io
    for name, where in defs.items():
        assert len(where) == 1, f"{name} defined in {where}"
        assert where[0].startswith("scene/io/"), f"{name} defined outside scene/io: {where}"
    # every writable format's encoder is one of them, and no two formats share a file
    # encoding (the mesh formats share trimesh's encoder, one function for all)
    writable = {n: f for n, f in sio.FORMATS.items() if f.encoder is not None}
    assert {"ply", "ply_compressed", "splat", "spz", "glb", "obj"} <= set(writable)
    modules = {}
    for n, f in writable.items():
        mod = f.encoder.__module__
        assert mod.startswith("scene.io"), (n, mod)
        if f.kind == "cloud":
            assert mod not in modules.values(), f"{n} shares an encoder module with another format"
            modules[n] = mod
    cloud_encoders = {f.encoder.__name__ for f in writable.values() if f.kind == "cloud"}
    assert cloud_encoders == {
        "encode_ply",
        "encode_ply_compressed",
        "encode_splat",
        "encode_spz_file",
    }
    # nothing outside scene/io encodes a format by hand
    for label, rx in _ENCODING_MARKERS.items():
        outside = [
            p for p, text in src.items() if not p.startswith("scene/io/") and rx.search(text)
        ]
        assert not outside, f"{label} outside scene/io: {outside}"


def test_one_atomic_write_and_one_extension_table() -> None:
    src = _product_sources()
    atomic = [p for p, t in src.items() if re.search(r"^def atomic_write\(", t, re.M)]
    assert atomic == ["scene/files.py"]
    # extension -> format tables: only the registry says which format a file name means
    tables = sorted(
        p
        for p, t in src.items()
        if re.search(r"^(\w*FORMATS)\s*[:=]", t, re.M)
        or re.search(r"^def format_(for|from)_path\(", t, re.M)
        or re.search(r"[\"']\.(spz|splat|ksplat|sog)[\"']\s*:\s*[\"']", t)
    )
    assert tables == ["scene/io/__init__.py"], tables


# ----------------------------------------------------------------------- the registry
@pytest.mark.parametrize(
    "fmt,name",
    [
        ("ply", "x.ply"),
        ("ply_compressed", "x.compressed.ply"),
        ("spz", "x.spz"),
        ("splat", "x.splat"),
    ],
)
def test_every_writable_cloud_format_sniffs_and_loads_back(
    tmp_path: Path, fmt: str, name: str
) -> None:
    from scene import io as sio

    c = random_cloud(300, sh_degree=1, seed=6)
    sio.save(c, tmp_path / name)
    assert sio.resolve_format(tmp_path / name) == fmt
    buf = io.BytesIO()
    sio.write_to(c, buf, fmt)
    assert buf.getvalue() == (tmp_path / name).read_bytes()
    back = sio.load(tmp_path / name)
    assert len(back) == 300 and back.meta["format"] == fmt


def test_registry_checks_options_and_read_only_formats(tmp_path: Path) -> None:
    from scene import io as sio

    c = random_cloud(20)
    with pytest.raises(ValueError, match="unknown .ply write options: version"):
        sio.save(c, tmp_path / "x.ply", version=2)
    # the formats a cloud can be written as, by extension (not mesh formats, not
    # registry names like ply_compressed: a trial)
    with pytest.raises(
        ValueError, match=r"read only\); write one of \.ply, \.compressed\.ply, \.splat, \.spz$"
    ):
        sio.save(c, tmp_path / "x.sog")
    with pytest.raises(ValueError, match="read only"):
        sio.save(c, tmp_path / "x.ksplat")
    sio.save(c, tmp_path / "x.spz", sh_degree=2, antialiased=True)
    back = sio.load(tmp_path / "x.spz")
    assert back.sh_degree == 2 and back.meta["antialiased"] is True
    assert ".sog" in sio.scene_suffixes() and ".ksplat" in sio.scene_suffixes()


def test_info_names_the_registry_format(tmp_path: Path, capsys) -> None:
    from scene.io import save

    save(random_cloud(40, sh_degree=1), tmp_path / "a.compressed.ply")
    assert _cli(["info", tmp_path / "a.compressed.ply"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"^format:\s+ply_compressed \(PlayCanvas/SuperSplat compressed PLY\)", out, re.M
    )


def test_a_format_given_against_the_name_gets_a_warning(tmp_path: Path, capsys) -> None:
    """`convert o.spz x.ply --format spz` wrote SPZ data named .ply without a word; other
    tools go by the name (a trial). The PLY family shares one name."""
    from scene.io import name_mismatch, save

    save(random_cloud(40), tmp_path / "a.spz")
    assert _cli(["convert", tmp_path / "a.spz", tmp_path / "x.ply", "--format", "spz"]) == 0
    err = capsys.readouterr().err
    assert "warning: x.ply gets spz data (--format spz)" in err
    assert name_mismatch("x.ply", "ply_compressed") is None
    assert name_mismatch("x.ply", "mesh_ply") is None and name_mismatch("x.spz", "spz") is None
    assert name_mismatch("x.bin", "spz") is None  # a name that says nothing


def test_open_dialog_offers_what_the_registry_reads() -> None:
    text = (ROOT / "viewer" / "main_window.py").read_text(encoding="utf-8")
    assert '".ksplat"' not in text  # no hand-kept list: the filter comes from scene.io
    assert "scene_suffixes" in text


@pytest.mark.parametrize(
    "ext,fmt", [("glb", "glb"), ("obj", "obj"), ("ply", "mesh_ply"), ("stl", "stl"), ("off", "off")]
)
def test_mesh_formats_write_sniff_and_read_back(tmp_path: Path, ext: str, fmt: str) -> None:
    """Generators' meshes go through the same registry: written, recognised by content,
    read back with every face."""
    from generators.objects.files import write_mesh
    from scene.io import load, sniff
    from scene.mesh import Mesh

    m = Mesh(
        np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float),
        np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]),
    )
    write_mesh(m, tmp_path / f"m.{ext}")
    assert sniff(tmp_path / f"m.{ext}") == fmt
    back = load(tmp_path / f"m.{ext}")
    assert back.n_faces == 4


def test_convert_says_when_it_zero_pads_spherical_harmonics(tmp_path: Path, capsys) -> None:
    """`convert --sh-degree 3` of an SH-0 file wrote 3.7x the bytes of zeros without a word
    (a trial); the summary line now says the added degrees are zeros."""
    from scene.io import load, save

    src = tmp_path / "src.ply"
    save(random_cloud(50, sh_degree=0, seed=1), src)
    assert _cli(["convert", "--sh-degree", "3", src, tmp_path / "o.ply"]) == 0
    out = capsys.readouterr().out
    assert "SH degree 3; degrees 1-3 are zeros (the input has SH degree 0)" in out
    assert load(tmp_path / "o.ply").sh_degree == 3
    assert _cli(["convert", "--sh-degree", "0", src, tmp_path / "p.ply"]) == 0
    assert "zeros" not in capsys.readouterr().out


def test_a_compressed_ply_is_named_without_its_double_extension(tmp_path) -> None:  # noqa: ANN001
    """`big.compressed.ply` opens as a layer "big" (a trial saw "big.compressed"), and the
    names proposed for saving it are "big.*"."""
    from conftest import random_cloud

    from scene.io import load_world, save, scene_stem

    path = tmp_path / "big.compressed.ply"
    save(random_cloud(300, seed=2), path)
    world, _ = load_world(path)
    assert [lay.name for lay in world.layers] == ["big"]
    assert scene_stem(tmp_path / "Room.SPZ") == "Room" and scene_stem("notes.txt") == "notes"
