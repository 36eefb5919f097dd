"""CLI parts of issue 15 done by app2: `info` on a `.wander` project, the plain message when
a splat-only world is exported to a mesh format, and `reconstruct` without PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud

from scene.gaussians import GaussianCloud
from scene.project import save_project
from scene.world import Bookmark, Layer, World

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:  # noqa: ANN001
    rng = np.random.default_rng(0)
    w = World()
    c = GaussianCloud.from_points(rng.uniform(-2, 2, (300, 3)), rng.uniform(0, 1, (300, 3)), 0.03)
    w.add_layer(
        Layer(
            "chelsea",
            c,
            kind="world",
            source={
                "generator": "wander.pano_world",
                "depth_backend": "classical",
                "resolution": 2048,
            },
        )
    )
    w.add_layer(
        Layer(
            "mug\x1b[31m",
            c.subset(np.arange(40)),
            kind="object",
            source={
                "generator": "wander.objects",
                "backend": "classical",
                "options": {"segmenter": "grabcut"},
            },
        )
    )
    w.bookmarks.append(Bookmark("Start", np.array([0, 1.5, 0.0]), 0, 0, 60))
    w.meta["camera_path"] = {
        "keyframes": [{"time": 0, "position": [0, 0, 0]}, {"time": 4, "position": [1, 0, 0]}]
    }
    p = tmp_path_factory.mktemp("proj") / "trip.wander"
    save_project(w, p, include_inputs=False)
    return p


@pytest.mark.slow
def test_info_describes_a_project(project: Path) -> None:
    r = _cli("info", project)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Wander project" in out and "layers:    2 (340 splats)" in out
    assert (
        "chelsea [world]: 300 splats; world from a photo/panorama (depth_backend classical" in out
    )
    assert "inserted object (backend classical, segmenter grabcut)" in out
    assert "Start at (+0.00, +1.50, +0.00)" in out and "2 keyframes, 4.0 s" in out
    assert "\x1b" not in out  # a name from the file cannot drive the terminal
    j = json.loads(_cli("info", project, "--json").stdout)
    assert [lay["count"] for lay in j["layers"]] == [300, 40] and j["camera_path"]["keyframes"] == 2


@pytest.mark.slow
def test_info_on_a_damaged_project_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wander"
    bad.write_bytes(b"PK\x03\x04 not really")
    r = _cli("info", bad)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bad.wander" in r.stderr


def test_a_project_cut_off_in_its_layer_is_said_not_rendered_black(tmp_path: Path) -> None:
    """Truncated inside its only layer's data, a project loads with the layer skipped:
    `render` and `video` wrote an all-black image / video and exited 0, and `info`
    showed the manifest's splat count without a word."""
    from cli import run_cli

    rng = np.random.default_rng(1)
    w = World()
    c = GaussianCloud.from_points(rng.uniform(-2, 2, (3000, 3)), rng.uniform(0, 1, (3000, 3)), 0.03)
    w.add_layer(Layer("room", c))
    whole = tmp_path / "whole.wander"
    save_project(w, whole)
    data = whole.read_bytes()
    bad = tmp_path / "cut.wander"
    bad.write_bytes(data[: len(data) // 2])
    r = _cli("info", bad)
    assert "warning: layer 'room'" in r.stderr and "cut off" in r.stderr
    # the layer line says it cannot be restored, and with no layer left `info` fails as
    # `render` does (a trial saw exit 0 and the manifest's 660,264 splats)
    assert "room [" in r.stdout and "in the manifest, cannot be restored (" in r.stdout
    assert r.returncode == 2 and r.stderr.rstrip().splitlines()[-1].startswith("error: ")
    for argv in (
        ["render", str(bad), "--size", "64x48", "--out", str(tmp_path / "r.png")],
        ["video", str(bad), "--size", "64x48", "--out", str(tmp_path / "v.mp4")],
    ):
        assert run_cli(argv) == 2
    assert not (tmp_path / "r.png").exists() and not (tmp_path / "v.mp4").exists()
    # one layer of two cut off: the rest opens, so `info` describes it and exits 0
    big = GaussianCloud.from_points(
        rng.uniform(-2, 2, (20000, 3)), rng.uniform(0, 1, (20000, 3)), 0.03
    )
    w.add_layer(Layer("big", big))
    save_project(w, whole)
    data = whole.read_bytes()
    bad.write_bytes(data[: int(len(data) * 0.6)])
    r = _cli("info", bad)
    assert r.returncode == 0 and "warning: layer 'big'" in r.stderr
    assert "room [" in r.stdout and "big [" in r.stdout and "cannot be restored" in r.stdout
    assert "warning: layer 'room'" not in r.stderr


@pytest.mark.slow
def test_mesh_export_of_a_splat_world_says_why(project: Path, tmp_path: Path) -> None:
    for ext in ("glb", "obj"):
        out = tmp_path / f"x.{ext}"
        r = _cli("export", project, "--out", out)
        assert r.returncode == 2 and not out.exists()
        assert "only mesh layers" in r.stderr and "not turned into a mesh" in r.stderr
        # every splat format it can write is offered (.compressed.ply was left out)
        assert ".ply, .compressed.ply, .splat, .spz" in r.stderr
    assert _cli("export", project, "--out", tmp_path / "x.ply").returncode == 0


def test_mesh_export_names_a_camera_guide_it_leaves_out() -> None:
    """A reconstruction's visible "Photo cameras" layer is a mesh left out of exports:
    "this scene has no visible mesh layer" read as wrong beside it (a trial)."""
    from cli.cmd_export import mesh_export_problem
    from scene.mesh import Mesh

    w = World()
    w.add_layer(Layer("scene", random_cloud(50, seed=2)))
    cams = Mesh(np.zeros((3, 3), np.float32), np.array([[0, 1, 2]], np.int32))
    cams.meta = {"what": "camera frusta"}
    w.add_layer(Layer("Photo cameras", cams))
    msg = mesh_export_problem(w, "glb")
    assert msg is not None and "only mesh layer, 'Photo cameras', is a guide" in msg, msg
    assert "--layer 'Photo cameras'" in msg and "no visible mesh layer" not in msg


def test_reconstruct_without_torch_skips_or_refuses_clearly() -> None:
    from cli.cmd_reconstruct import refine_steps
    from scene.errors import InputError

    assert refine_steps(None, has_torch=True) == (3000, None)
    steps, warn = refine_steps(None, has_torch=False)
    assert steps == 0 and "PyTorch is not installed" in warn and "pip install" in warn
    assert refine_steps(0, has_torch=False) == (0, None)
    with pytest.raises(InputError, match="needs PyTorch.*pip install"):
        refine_steps(500, has_torch=False)


@pytest.mark.slow
@pytest.mark.parametrize("blocked,label", [("torch", "PyTorch"), ("gsplat", "gsplat")])
def test_reconstruct_cli_without_torch(tmp_path: Path, blocked: str, label: str) -> None:
    """A run where `import torch` (or `import gsplat`, whose densification the CPU optimiser
    uses: a CPU install without it crashed in refinement with an internal error) fails: the
    explicit --refine is refused in one line before any work, naming what is missing; the
    optimisation module is never reached (no raw ImportError)."""
    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\nimport importlib.abc\nclass Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == '{blocked}' or name.startswith('{blocked}.'):\n"
        f"            raise ModuleNotFoundError(\"No module named '{blocked}'\")\n"
        "        return None\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    photos = tmp_path / "photos"
    photos.mkdir()
    import os

    env = dict(os.environ, PYTHONPATH=f"{block}:{ROOT}")
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "reconstruct",
            "--photos",
            str(photos),
            "--out",
            str(tmp_path / "s.ply"),
            "--refine",
            "100",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert r.returncode == 2 and "needs PyTorch" in r.stderr and "Traceback" not in r.stderr
    assert f"{label} is not installed" in r.stderr
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "reconstruct",
            "--photos",
            str(photos),
            "--out",
            str(tmp_path / "s.ply"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    # the default goes on without optimisation (here it then stops: the folder is empty)
    # (a warning: on stderr, as every command's)
    assert "optimisation step is skipped" in r.stderr and "Traceback" not in r.stderr
    assert f"{label} is not installed" in r.stderr


def test_how_made_leaves_out_what_an_imported_object_did_not_use() -> None:
    """An imported mesh was said to be made "(backend import, segmenter classical,
    resolution 320)": the options are recorded whole, but only the backend made it."""
    from cli.cmd_info import how_made

    opts = {"backend": "import", "segmenter": "classical", "resolution": 320}
    src = {"generator": "wander.objects", "options": opts}
    assert how_made(src) == "inserted object (backend import)"
    made = {"generator": "wander.objects", "options": {**opts, "backend": "classical"}}
    assert "segmenter classical, resolution 320" in how_made(made)


def test_how_made_leaves_out_empty_settings() -> None:
    """An empty prompt printed as "prompt )" on every classical world."""
    from cli.cmd_info import how_made

    src = {
        "generator": "wander.pano_world",
        "options": {"prompt": "", "depth_backend": "classical"},
    }
    assert how_made(src) == "world from a photo/panorama (depth_backend classical)"
    src["options"]["prompt"] = "a lake"
    assert how_made(src).endswith("(depth_backend classical, prompt a lake)")


def test_a_project_saved_from_a_wander_file_says_how_its_scene_was_made(tmp_path) -> None:
    """A reconstruction's .ply opened in the app and saved as a project: its layer was
    "unknown generator" in `info`; it now carries the file's recorded generator and
    options. Another tool's file says it was opened from a file."""
    import json

    from conftest import random_cloud

    from cli.cmd_info import how_made
    from scene.io import save
    from viewer.main_window import load_scene_file

    ply = tmp_path / "scene.ply"
    save(random_cloud(30, 0, seed=2), ply)
    other, _ = load_scene_file(ply, lambda f, m: None)
    assert how_made(other.layers[0].source) == "opened from a file (scene.ply)"
    rec = {"generator": "wander.reconstruct", "options": {"refine_steps": 300}}
    (tmp_path / "scene_report.json").write_text(json.dumps(rec))
    world, _ = load_scene_file(ply, lambda f, m: None)
    assert how_made(world.layers[0].source) == "reconstruction from photos (refine_steps 300)"


def test_how_made_says_the_refinement_steps_that_ran() -> None:
    """`info` showed "refine_steps 3000" for a reconstruction whose time budget stopped it
    after 142 steps, and called a video's camera layer a reconstruction from photos."""
    from cli.cmd_info import how_made

    src = {
        "generator": "wander.reconstruct",
        "input": "video",
        "refined_steps": 142,
        "options": {"refine_steps": 3000},
    }
    assert how_made(src) == "reconstruction from a video (refine_steps 142 of 3000 run)"
    frusta = {"generator": "wander.reconstruct", "input": "video", "what": "camera frusta"}
    assert how_made(frusta) == "reconstruction from a video"
    old = {"generator": "wander.reconstruct", "options": {"refine_steps": 3000}}
    assert how_made(old) == "reconstruction from photos (refine_steps 3000)"


def test_info_shows_a_layer_placement_only_where_the_project_reader_keeps_it() -> None:
    """`info` read a layer's transform with checks of its own and showed a position for a
    sheared one, which the project reader resets to the identity; it now asks the reader's
    own test (`decompose_similarity`)."""
    from cli.cmd_info import _placement

    assert _placement([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) is None
    moved = _placement([[2, 0, 0, 1], [0, 2, 0, 2], [0, 0, 2, 3], [0, 0, 0, 1]])
    assert moved == {"position": [1.0, 2.0, 3.0], "scale": pytest.approx(2.0)}
    assert _placement([[1, 0.5, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]]) is None
    assert _placement([[1, 0, 0]]) is None and _placement("x") is None
