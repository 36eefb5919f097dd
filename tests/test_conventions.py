"""One home per convention (issue 16 items 5 and 8): the equirect mapping in scene/equirect.py,
the splatting constants in scene/splatting.py shared by the CPU rasterisers and the GL shaders,
file safety public in scene/files.py, no import cycle through the reconstruction preview, and
HF_HUB_OFFLINE only while a backend loads."""

from __future__ import annotations

import ast
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

PRODUCT = ("scene", "generators", "viewer", "cli", "shaders")


def _sources() -> dict[str, str]:
    out = {}
    for pkg in PRODUCT:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            out[p.relative_to(ROOT).as_posix()] = p.read_text(encoding="utf-8")
    out["main.py"] = (ROOT / "main.py").read_text(encoding="utf-8")
    return out


# ------------------------------------------------------------------ equirect mapping
def test_one_equirect_mapping_in_scene() -> None:
    src = _sources()
    names = (
        "pano_lonlat",
        "lonlat_to_dirs",
        "dirs_to_lonlat",
        "pano_dirs",
        "dirs_to_pano_pixels",
        "cube_face_directions",
        "direction_to_equirect",
    )
    for name in names:
        where = [p for p, t in src.items() if re.search(rf"^def {name}\(", t, re.M)]
        assert where in ([], ["scene/equirect.py"]), (name, where)
    # the longitude formula atan2(x, -z) and the latitude arcsin(y) appear once
    lon = [
        p
        for p, t in src.items()
        if re.search(r"arctan2\(\s*\w+\[\.\.\., 0\],\s*-\w+\[\.\.\., 2\]\)", t)
    ]
    lat = [p for p, t in src.items() if re.search(r"arcsin\(np\.clip\(\w+\[\.\.\., 1\]", t)]
    assert lon == ["scene/equirect.py"] and lat == ["scene/equirect.py"], (lon, lat)
    # the cube-face table is written once
    faces = [
        p
        for p, t in src.items()
        if re.search(r"[\"']front[\"'].{0,80}?[\"']right[\"'].{0,80}?[\"']back[\"']", t, re.S)
    ]
    assert faces == ["scene/equirect.py"], faces


def test_panorama_generators_and_export_share_the_mapping() -> None:
    import cv2

    from generators.panorama import projection
    from scene import equirect
    from scene.export import equirect_to_cube

    for name in (
        "pano_lonlat",
        "lonlat_to_dirs",
        "dirs_to_lonlat",
        "pano_dirs",
        "dirs_to_pano_pixels",
    ):
        assert getattr(projection, name) is getattr(equirect, name)
    # a smooth panorama: the export's cube faces equal the generators' perspective views
    rng = np.random.default_rng(3)
    pano = cv2.GaussianBlur(rng.uniform(0, 255, (64, 128, 3)).astype(np.float32), (0, 0), 4)
    pano = np.clip(pano, 0, 255).astype(np.uint8)
    faces = equirect_to_cube(pano, 24)
    short = {s: n for n, s, *_ in equirect.CUBE_FACES}
    for s, cam in projection.cube_face_cameras(24):
        view = projection.equirect_to_perspective(pano, cam)
        err = np.abs(view.astype(float) - faces[short[s]].astype(float))
        assert err.mean() < 0.6, (s, err.mean())
    # directions: front is -Z, right +X, up +Y, as the docstring says
    d = equirect.cube_face_directions(3)
    np.testing.assert_allclose(d["front"][1, 1], [0, 0, -1], atol=1e-12)
    np.testing.assert_allclose(d["right"][1, 1], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(d["up"][1, 1], [0, 1, 0], atol=1e-12)
    assert d["up"][0, 1, 2] > 0.5  # up's top edge towards the back (+Z)
    col, row = equirect.dirs_to_pano_pixels(equirect.pano_dirs(8), 8)
    np.testing.assert_allclose(col, np.arange(16)[None].repeat(8, 0), atol=1e-9)
    np.testing.assert_allclose(row, np.arange(8)[:, None].repeat(16, 1), atol=1e-9)


def test_yaw_pitch_rotation_is_the_look_at_basis() -> None:
    from scene.camera import Camera, forward_from_yaw_pitch, yaw_pitch_rotation

    for yaw, pitch in ((0.0, 0.0), (0.7, 0.3), (-2.0, -1.2), (3.0, 1.5)):
        r = yaw_pitch_rotation(yaw, pitch)
        cam = Camera.from_yaw_pitch((1.0, 2.0, 3.0), yaw, pitch, 60.0, 32, 24)
        np.testing.assert_allclose(r, cam.R, atol=1e-12)
        np.testing.assert_allclose(r[2], forward_from_yaw_pitch(yaw, pitch), atol=1e-15)
    down = yaw_pitch_rotation(0.0, -math.pi / 2)  # defined straight down: right stays +X
    np.testing.assert_allclose(down, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-12)


# ------------------------------------------------------------------ splatting constants
def test_shaders_take_the_shared_constants() -> None:
    import shaders
    from scene import sh, splatting

    consts = shaders.shared_constants()
    assert consts["NEAR_CULL"] == splatting.NEAR_CULL and consts["C0"] == sh.C0
    for name in ("prep.frag", "splat.vert", "splat.frag"):
        text = shaders.load(name)
        assert text.startswith("#version")
        assert f"const float NEAR_CULL = {splatting.NEAR_CULL!r};" in text
        raw = (ROOT / "shaders" / name).read_text()
        # no private copy of a shared value in the GLSL files
        assert not re.search(r"255\.0|0\.99\b|0\.2820|t\.z <= 0\.\d", raw), name
        for used in ("NEAR_CULL", "ALPHA_MIN", "ALPHA_MAX"):
            assert not re.search(rf"(#define|const float) {used}\b", raw), (name, used)
    assert "NEAR_CULL" in (ROOT / "shaders" / "prep.frag").read_text()
    src = _sources()
    copies = [
        p for p, t in src.items() if re.search(r"0\.2820947917738781", t) and p != "scene/sh.py"
    ]
    assert copies == [], copies
    renderers = (
        "scene/splatting.py",
        "generators/rasterize.py",
        "generators/splat_cpu.py",
        "viewer/sorting.py",
        "viewer/renderer.py",
    )
    near = [
        p
        for p in renderers
        if re.search(r"^(NEAR_CULL|NEAR|ALPHA_MIN|ALPHA_MAX)\s*=\s*[\d.]", src[p], re.M)
    ]
    assert near == ["scene/splatting.py"], near


def _near_splats(z: float):
    from scene.gaussians import GaussianCloud

    # one opaque, wide splat straight ahead of a camera at the origin looking along -Z
    return GaussianCloud.from_points([[0.0, 0.0, -z]], [[1.0, 1.0, 1.0]], 0.05, opacity=0.9)


def test_cpu_rasterisers_cull_at_the_shared_near_plane() -> None:
    torch = pytest.importorskip("torch")
    from generators.rasterize import cloud_tensors, render_cloud
    from generators.splat_cpu import rasterize_cpu
    from scene.camera import Camera
    from scene.splatting import NEAR_CULL

    cam = Camera.look_at([0, 0, 0], [0, 0, -1], 60, 24, 24)
    for z, drawn in ((0.7 * NEAR_CULL, False), (1.4 * NEAR_CULL, True)):
        cloud = _near_splats(z)
        assert bool(render_cloud(cloud, cam).max() > 100) is drawn, z
        img = rasterize_cpu(**cloud_tensors(cloud, torch.float32), cam=cam)
        assert bool(float(img.max()) > 0.4) is drawn, z


@pytest.mark.gl
def test_gl_culls_at_the_shared_near_plane(x_display) -> None:  # noqa: ANN001
    from scene.camera import Camera
    from scene.splatting import NEAR_CULL
    from viewer.offscreen import render_image

    cam = Camera.look_at([0, 0, 0], [0, 0, -1], 60, 24, 24)
    assert render_image(_near_splats(0.7 * NEAR_CULL), cam).max() < 5
    assert render_image(_near_splats(1.4 * NEAR_CULL), cam).max() > 100


# ------------------------------------------------------------------ item 8: plumbing
def test_private_io_helpers_stay_in_scene_io() -> None:
    from scene import files

    for name in (
        "atomic_write",
        "atomic_path",
        "write_bytes_atomic",
        "check_outputs",
        "temp_dir",
        "sweep_once",
        "make_temp_file",
        "referenced_files",
    ):
        assert callable(getattr(files, name))
    offenders = [
        p
        for p, t in _sources().items()
        if not p.startswith("scene/io/") and re.search(r"\b_common\b", t)
    ]
    assert offenders == [], offenders


def _import_graph() -> dict[str, set[str]]:
    mods: dict[str, Path] = {}
    for pkg in PRODUCT:
        for p in (ROOT / pkg).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {}
    for name, p in mods.items():
        pkg = name if p.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = (
                    pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)] if node.level else []
                )
                mod = ".".join(base + ([node.module] if node.module else []))
                deps.add(mod)
                deps.update(f"{mod}.{a.name}" for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        if m == goal:
            return True
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    return False


def test_no_import_cycle_through_the_reconstruction_preview() -> None:
    g = _import_graph()
    assert "generators.reconstruct.preview" in g["generators.reconstruct.pipeline"]
    for mod in (
        "generators.reconstruct.preview",
        "scene.equirect",
        "scene.files",
        "scene.splatting",
    ):
        back = [d for d in g[mod] if _reaches(g, d, mod)]
        assert back == [], (mod, back)
    assert (ROOT / "tools" / "reconstruct_overview.py").is_file()


def test_hf_offline_only_while_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    from generators.models.hub import offline

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and constants.HF_HUB_OFFLINE is True
        with offline():  # nested loads share the period
            pass
        assert os.environ["HF_HUB_OFFLINE"] == "1" and constants.HF_HUB_OFFLINE is True
    assert "HF_HUB_OFFLINE" not in os.environ and constants.HF_HUB_OFFLINE is False
    with pytest.raises(RuntimeError), offline():
        raise RuntimeError("load failed")
    assert "HF_HUB_OFFLINE" not in os.environ and constants.HF_HUB_OFFLINE is False
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the user's own setting comes back as it was
    with offline():
        pass
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_loaders_read_weights_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    transformers = pytest.importorskip("transformers")
    from generators.depth.neural import load_depth_model

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    seen = []

    def fake_load(*_a, **_k):  # noqa: ANN002, ANN003
        seen.append((os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE))
        raise OSError("no weights here")

    monkeypatch.setattr(transformers.AutoImageProcessor, "from_pretrained", fake_load)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="no weights here"):
        load_depth_model(tmp_path, "cpu")
    assert seen == [("1", True)]
    assert "HF_HUB_OFFLINE" not in os.environ and constants.HF_HUB_OFFLINE is False


def test_camera_record_round_trip_keeps_the_lens() -> None:
    """`Camera.to_record` is what reconstruct and `use_cameras_beside` store in
    World.meta['cameras']; `from_record` reads it back, and a lens beyond the pinhole stays
    in the record for exporters."""
    from scene.camera import Camera

    cam = Camera.look_at((1.0, 2.0, 3.0), (0.0, 0.0, 0.0), 50.0, 640, 480)
    cam.name = "a.jpg"
    rec = cam.to_record()
    assert "colmap_model" not in rec
    back = Camera.from_record(rec)
    assert np.allclose(back.R, cam.R) and np.allclose(back.t, cam.t)
    assert (back.width, back.fx, back.cy, back.name) == (640, cam.fx, cam.cy, "a.jpg")
    cam.meta["k1"] = -0.05  # a radial term from SfM
    rec = cam.to_record()
    assert rec["colmap_model"] == "SIMPLE_RADIAL" and rec["colmap_params"][-1] == -0.05
    # a whole COLMAP lens read with the camera, for its own size, is kept as it was
    cam.meta.update(
        colmap_model="OPENCV",
        colmap_params=[cam.fx, cam.fy, cam.cx, cam.cy, -0.05, 0.01, 0.0, 0.0],
        colmap_size=[640, 480],
    )
    assert cam.to_record()["colmap_model"] == "OPENCV"
    assert cam.to_record()["colmap_params"][5] == 0.01
