"""`python main.py export ...` and `python main.py video ...` end to end (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, random_cloud

from scene.project import save_project
from scene.world import Bookmark, Layer, World, similarity_matrix


def main(
    *args: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("proj")
    w = World()
    w.add_layer(Layer("base", random_cloud(500, sh_degree=2, seed=1)))
    w.add_layer(
        Layer(
            "chair",
            random_cloud(100, sh_degree=2, seed=2),
            "object",
            transform=similarity_matrix((1, 0, 0), 0.5, 2.0),
        )
    )
    w.bookmarks += [Bookmark("a", [0, 0, 6], 0, 0, 60), Bookmark("b", [2, 0.5, 5], 0.4, 0, 60)]
    w.meta["panorama"] = (np.random.default_rng(0).uniform(size=(32, 64, 3)) * 255).astype(np.uint8)
    p = d / "t.wander"
    save_project(w, p)
    return p


@pytest.mark.slow
def test_export_splats_with_options(project, tmp_path):
    import plyfile

    out = tmp_path / "s.ply"
    r = main(
        "export",
        str(project),
        "--out",
        str(out),
        "--sh-degree",
        "1",
        "--min-opacity",
        "0.1",
        "--crop=-2,-2,-2,2,2,2",
    )
    assert r.returncode == 0, r.stderr
    v = plyfile.PlyData.read(str(out))["vertex"]
    names = v.data.dtype.names
    assert "f_rest_8" in names and "f_rest_9" not in names  # SH degree 1: 3 x 3 rest
    assert 0 < len(v) < 600
    assert np.all(1 / (1 + np.exp(-v["opacity"])) >= 0.1 - 1e-6)
    assert f"{len(v)} splats" in r.stdout
    for fmt in ("splat", "spz"):
        r = main(
            "export",
            str(project),
            "--format",
            fmt,
            "--out",
            str(tmp_path / f"x.{fmt}"),
            "--layer",
            "chair",
        )
        assert r.returncode == 0, r.stderr
        assert "100 splats" in r.stdout
        # .splat has no SH: said as `convert` says it (a trial saw only "SH degree 0")
        dropped = "SH degree 2 dropped: .splat has no SH"
        assert (dropped in r.stdout) == (fmt == "splat"), r.stdout


@pytest.mark.slow
def test_export_panorama_and_cameras(project, tmp_path):
    r = main(
        "export",
        str(project),
        "--panorama",
        str(tmp_path / "p.png"),
        "--cameras",
        str(tmp_path / "cams"),
        "--camera-size",
        "640x480",
    )
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("p*.png"))) == 7
    js = json.loads((tmp_path / "cams" / "cameras.json").read_text())
    assert [c["width"] for c in js["cameras"]] == [640, 640]


@pytest.mark.parametrize(
    "args, msg",
    [
        (["--out", "x.glb"], "no visible mesh layer"),
        (["--out", "x.ply", "--crop", "1,2"], "crop box"),
        (["--out", "x.ply", "--layer", "nope"], "no layer 'nope'"),
        (["--out", "x.ply", "--min-opacity", "2"], "min opacity"),
        ([], "nothing to do"),
    ],
)
@pytest.mark.slow
def test_export_bad_input_is_one_clear_line(project, tmp_path, args, msg):
    r = main("export", str(project), *args, cwd=tmp_path)
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_export_missing_or_broken_project(tmp_path):
    r = main("export", str(tmp_path / "none.wander"), "--out", str(tmp_path / "x.ply"))
    assert r.returncode == 2 and "no such" in r.stderr
    bad = tmp_path / "bad.wander"
    bad.write_bytes(b"garbage" * 20)
    r = main("export", str(bad), "--out", str(tmp_path / "x.ply"))
    assert r.returncode == 2 and "not a Wander project" in r.stderr


@pytest.mark.gl
def test_video_cli(project, tmp_path, x_display):
    path = tmp_path / "path.json"
    path.write_text(
        json.dumps(
            {
                "keyframes": [
                    {"time": 0, "position": [0, 0, 6], "look_at": [0, 0, 0]},
                    {"time": 0.5, "position": [1, 0.3, 5], "look_at": [0, 0, 0], "fov_y_deg": 50},
                ]
            }
        )
    )
    out = tmp_path / "v.mp4"
    env = dict(os.environ)
    r = main(
        "video",
        str(project),
        "--path",
        str(path),
        "--size",
        "96x64",
        "--fps",
        "10",
        "--out",
        str(out),
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "5 frames 96x64" in r.stdout and "ms/frame" in r.stdout
    from generators.video import read_video

    frames, _ = read_video(out)
    assert frames.shape == (5, 64, 96, 3) and frames.mean() > 3
    r = main("video", str(project), "--from-bookmarks", "--size", "95x64", "--out", str(out))
    assert r.returncode == 2 and "even" in r.stderr
    # With no --path the project's bookmarks make the path.
    r = main(
        "video",
        str(project),
        "--size",
        "64x48",
        "--fps",
        "2",
        "--seconds",
        "1",
        "--out",
        str(out),
        env=env,
    )
    assert r.returncode == 0 and "2 frames 64x48" in r.stdout, r.stderr
    assert "no camera path given or saved" in r.stderr  # it says what it renders instead


@pytest.mark.slow
def test_export_plain_scene_file(tmp_path):
    from scene.io.ply import ply_bytes

    src = tmp_path / "in.ply"
    src.write_bytes(ply_bytes(random_cloud(80, sh_degree=1)))
    out = tmp_path / "out.spz"
    r = main("export", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "80 splats, SH degree 1" in r.stdout and out.stat().st_size > 0


def test_export_to_a_mesh_format_says_what_it_left_out_and_ply_holds_meshes(tmp_path):
    """A reconstruction (splats + its "Photo cameras" frusta) exported to GLB wrote the
    frusta alone and said nothing of the splats, then wrote them with a warning after
    the fact (a trial's 17 KB "wall.glb"): it is refused, saying the splats are not
    turned into a mesh and the frusta are a guide (`--layer "Photo cameras"` still
    writes them). A mesh-only scene exported to .ply was refused ("no visible splat
    layer") though `convert` writes it as a PLY mesh, and so was a mesh layer picked with
    --layer."""
    import trimesh

    from scene.io import load
    from scene.mesh import Mesh

    box = trimesh.creation.box()
    mesh = Mesh(np.asarray(box.vertices, np.float32), np.asarray(box.faces, np.int64))
    w = World()
    w.add_layer(Layer("scene", random_cloud(300, sh_degree=0, seed=3)))
    w.add_layer(Layer("Photo cameras", mesh, "mesh", source={"what": "camera frusta"}))
    p = tmp_path / "recon.wander"
    save_project(w, p)
    r = main("export", str(p), "--out", str(tmp_path / "r.glb"))
    assert r.returncode == 2, r.stderr
    assert "only mesh layer, 'Photo cameras', is a guide" in r.stderr, r.stderr
    assert "300 Gaussian splats" in r.stderr and "--layer 'Photo cameras'" in r.stderr
    assert not (tmp_path / "r.glb").exists()
    r = main("export", str(p), "--layer", "Photo cameras", "--out", str(tmp_path / "c.ply"))
    assert r.returncode == 0, r.stderr
    assert isinstance(load(tmp_path / "c.ply"), Mesh)
    glb = tmp_path / "box.glb"
    box.export(glb)
    r = main("export", str(glb), "--out", str(tmp_path / "b.ply"))
    assert r.returncode == 0, r.stderr
    back = load(tmp_path / "b.ply")
    assert isinstance(back, Mesh) and back.n_faces == 12
    r = main("export", str(p), "--out", str(tmp_path / "s.ply"))  # splats win in a mixed scene
    assert r.returncode == 0 and "300 splats" in r.stdout, r.stderr
    assert "warning" not in r.stderr  # a reconstruction's frusta are a guide, not content
    # an object inserted as a mesh is content: a splat file cannot hold it, and says so (a
    # trial's chair vanished from a .ply export without a word)
    w.add_layer(Layer("chair", mesh, "mesh"))
    save_project(w, p)
    r = main("export", str(p), "--out", str(tmp_path / "s.spz"))
    assert r.returncode == 0 and "300 splats" in r.stdout, r.stderr
    assert "warning: SPZ holds Gaussian splats only" in r.stderr and "('chair')" in r.stderr
    assert "Photo cameras" not in r.stderr
    # ... and a GLB holds the chair, says the splats are not in it, and leaves the frusta out
    r = main("export", str(p), "--out", str(tmp_path / "chair.glb"))
    assert r.returncode == 0, r.stderr
    assert "warning: GLB holds meshes" in r.stderr and "300 Gaussian splats" in r.stderr
    assert load(tmp_path / "chair.glb").n_faces == 12  # the chair's box, no camera pyramids


def test_rows_dropped_on_reading_are_said_by_every_command(tmp_path):
    """A PLY with NaN/inf rows: the reader drops them; `info` said so, but `convert` and
    `export` wrote the rest without a word, and an ASCII point cloud lost 2 of 3 points
    silently everywhere."""
    (tmp_path / "pc.ply").write_text(
        "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
        "property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
        "end_header\n0 0 0 255 0 0\nnan 1 1 0 255 0\ninf 2 2 0 0 255\n"
    )
    from scene.io.ply import ply_bytes

    cloud = random_cloud(50, sh_degree=0, seed=5)
    cloud.means[3] = np.nan
    (tmp_path / "gs.ply").write_bytes(ply_bytes(cloud))
    for name, what in (("pc.ply", "dropped 2 of 3 points"), ("gs.ply", "dropped 1 of 50")):
        src = str(tmp_path / name)
        for cmd in (
            ("convert", src, str(tmp_path / f"{name}.spz")),
            ("export", src, "--out", str(tmp_path / f"{name}.splat")),
            ("info", src),
        ):
            r = main(*cmd)
            assert r.returncode == 0, r.stderr
            assert what in r.stderr + r.stdout, (cmd, r.stderr)


def test_video_with_a_wrong_extension_is_refused_before_any_work(project, tmp_path):
    """`video P --out v.avi` announced its camera path ("rendering a look-around...")
    before it refused the extension."""
    r = main("video", str(project), "--out", str(tmp_path / "v.avi"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: --out must be an .mp4 file; got '{tmp_path / 'v.avi'}'"
    ]


@pytest.mark.parametrize(
    "name, data, msg",
    [
        ("empty.ply", b"", "file is empty"),  # info said "not a PLY file"
        (
            "wide.ply",  # said "no 'end_header' line (truncated or corrupt)"
            b"ply\nformat binary_little_endian 1.0\nelement vertex 1\n"
            + b"".join(b"property float p%d\n" % i for i in range(60000))
            + b"end_header\n",
            "longer than 1 MiB",
        ),
    ],
    ids=["empty", "huge-header"],
)
def test_info_and_convert_say_the_same_about_a_bad_file(tmp_path, name, data, msg):
    src = tmp_path / name
    src.write_bytes(data)
    for cmd in (("info", str(src)), ("convert", str(src), str(tmp_path / "o.spz"))):
        r = main(*cmd)
        assert r.returncode == 2 and msg in r.stderr, (cmd, r.stderr)


def test_an_export_of_a_wander_scene_reopens_upright_at_its_start(tmp_path, capsys) -> None:  # noqa: ANN001
    """Export drops a file's provenance, so Wander guessed the up axis of its own exported
    object from its base (it lay tipped over) and of a reconstruction from its sky sphere
    (upside down, black). The export now carries a small `NAME.json` beside it: +Y up, in
    metres, the first bookmark as the start; nothing else (no paths). Another tool's scene
    (not in Wander's frame) gets none."""
    import json

    from conftest import random_cloud

    from cli.scene_files import load_scene
    from scene.export import export_world
    from scene.world import Bookmark, Layer, World

    cloud = random_cloud(200)
    cloud.meta = {"generator": "wander.objects", "photo": "/home/someone/private/photo.jpg"}
    world = World()
    world.add_layer(Layer("object", cloud))
    world.bookmarks.append(Bookmark("Photo 1", np.array([0.5, 1.6, 2.0]), 0.3, -0.1, 50.0))
    for name in ("o.spz", "o.splat", "o.ply"):
        info = export_world(world, tmp_path / name)
        side = tmp_path / (name + ".json")
        assert info["frame_record"] == str(side)
        rec = json.loads(side.read_text())
        assert rec["generator"] == "wander.export" and "private" not in side.read_text()
        back = load_scene(tmp_path / name)
        assert np.allclose(back.up_axis, [0, 1, 0]) and back.meta["units"] == "m"
        assert "Wander" in back.meta["up_axis_source"]
        (b,) = back.bookmarks
        assert np.allclose(b.position, [0.5, 1.6, 2.0]) and b.yaw == pytest.approx(0.3)
        assert "walkable" not in back.meta  # none to carry
    # a generated world's walkable area goes with it: the export opened with no ring on
    # the floor and no hint at its rim (a trial)
    from viewer.walk_area import WalkArea

    world.meta["walkable"] = {"centre": [0.5, 0.0, 2.0], "radius": 1.1, "invented": True}
    # ... and so do its estimates and their sources: `info` on the export listed none
    world.meta["estimates"] = {
        "radius": {"value": 3.25, "source": "ground contact of upright things"},
        "indoor": {"value": True, "source": "no sky in the panorama's top"},
        "photo_pitch": {"value": 13.1, "applied": False, "source": "vertical lines"},
    }
    export_world(world, tmp_path / "w.spz")
    back = load_scene(tmp_path / "w.spz")
    assert back.meta["walkable"]["radius"] == pytest.approx(1.1)
    area = WalkArea.from_world(back, np.eye(3))
    assert area is not None and area.radius == pytest.approx(1.1)
    from cli import run_cli

    capsys.readouterr()
    assert run_cli(["info", str(tmp_path / "w.spz")]) == 0
    out = capsys.readouterr().out
    assert "walkable area 1.1 m round the start" in out
    assert "radius: 3.25 m (ground contact of upright things)" in out, out
    assert "indoor: yes (no sky in the panorama's top)" in out
    assert "photo_pitch: 13.1° estimated, not applied (vertical lines)" in out, out
    other = World()
    other.add_layer(Layer("theirs", random_cloud(50)))
    other.up_axis = np.array([0.0, 0.0, 1.0])
    assert "frame_record" not in export_world(other, tmp_path / "t.spz")
    assert not (tmp_path / "t.spz.json").exists()


def test_convert_carries_the_frame_record_of_a_wander_file(tmp_path) -> None:
    """A user converting an exported scene (`export` writes NAME.json: +Y up, metres, the
    start view) got a file without it, which opened with an up axis guessed from the sky
    sphere: an all-black view. `convert` now writes the record beside its output for a
    file Wander made, and none for another tool's."""
    from cli.scene_files import load_scene
    from scene.export import export_world
    from scene.io import save

    cloud = random_cloud(200)
    cloud.meta = {"generator": "wander.objects"}
    world = World()
    world.add_layer(Layer("object", cloud))
    world.bookmarks.append(Bookmark("Photo 1", np.array([0.5, 1.6, 2.0]), 0.3, -0.1, 50.0))
    export_world(world, tmp_path / "e.ply")
    r = main("convert", str(tmp_path / "e.ply"), str(tmp_path / "c.spz"))
    assert r.returncode == 0, r.stderr
    assert "c.spz.json" in r.stdout
    back = load_scene(tmp_path / "c.spz")
    assert np.allclose(back.up_axis, [0, 1, 0]) and back.meta["units"] == "m"
    (b,) = back.bookmarks
    assert np.allclose(b.position, [0.5, 1.6, 2.0]) and b.yaw == pytest.approx(0.3)
    theirs = random_cloud(50)
    save(theirs, tmp_path / "t.ply")
    r = main("convert", str(tmp_path / "t.ply"), str(tmp_path / "t.spz"))
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "t.spz.json").exists()


def test_export_checks_every_destination_before_writing_any(tmp_path: Path, monkeypatch) -> None:
    """`--cameras` into a read-only folder wrote the scene, then failed (exit 2 with two
    files left). Every destination is checked first: nothing is written."""
    from cli import run_cli

    w = World()
    w.add_layer(Layer("s", random_cloud(50, 0, seed=1)))
    w.bookmarks.append(Bookmark("a", np.array([0.0, 1.0, 3.0]), 0.0, 0.0, 60.0))
    proj = tmp_path / "p.wander"
    save_project(w, proj)
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == ro else real_access(p, mode)
    )
    out = tmp_path / "ok.spz"
    assert run_cli(["export", str(proj), "--out", str(out), "--cameras", str(ro / "cams")]) == 2
    assert not out.exists() and not list(tmp_path.glob("ok.spz*"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = run_cli(["export", str(proj), "--out", str(out), "--cameras", str(blocker / "cams")])
    assert code == 2 and not out.exists()
    assert run_cli(["export", str(proj), "--out", str(out), "--cameras", str(tmp_path / "c")]) == 0
    assert out.exists() and (tmp_path / "c" / "cameras.txt").exists()


def test_an_exported_object_layer_is_framed_whole_not_at_the_world_start(tmp_path) -> None:
    """`export --layer OBJECT` wrote the world's start view beside the object: opened or
    rendered, the object sat cut off at the bottom of the frame. An object layer's export
    carries +Y up and metres, no start view, so it is framed whole; the world layer's own
    export keeps the start."""
    import json

    from conftest import random_cloud

    from cli.scene_files import load_scene
    from scene.export import export_world
    from scene.world import Bookmark, Layer, World

    world = World()
    world.meta["units"] = "m"
    world.add_layer(Layer("world", random_cloud(300, seed=1), kind="world"))
    obj = world.add_layer(Layer("cup", random_cloud(100, seed=2), kind="object"))
    world.bookmarks.append(Bookmark("Start", np.array([0.0, 1.6, 0.0]), 0.0, 0.0, 60.0))
    info = export_world(world, tmp_path / "cup.spz", layer=obj.id)
    assert info["frame_record_start"] is False  # what `export` tells the user
    rec = json.loads((tmp_path / "cup.spz.json").read_text())
    assert rec["up_axis"] == [0, 1, 0] and rec["units"] == "m" and "start" not in rec
    back = load_scene(tmp_path / "cup.spz")
    assert np.allclose(back.up_axis, [0, 1, 0]) and not back.bookmarks
    info = export_world(world, tmp_path / "w.spz", layer=world.layers[0].id)
    assert "start" in json.loads((tmp_path / "w.spz.json").read_text())
    assert info["frame_record_start"] is True


@pytest.mark.gl
def test_video_of_a_photos_world_starts_at_its_render(tmp_path, x_display):
    """A trial: `video` of a world made from a 4:3 photo showed the invented band beside
    the photo from frame 0, where `render` at the same size filled the frame with it; and
    `--seconds 1` made a 4 s video. Frame 0 is now the start view's render (zoomed in a
    little, as the sway keeps every frame on the photo), and from one bookmark --seconds
    is the whole path."""
    import cv2

    from generators.reconstruct.evaluate import psnr
    from generators.video import read_video

    w = World()
    w.add_layer(Layer("world", random_cloud(3000, sh_degree=0, seed=5)))
    # a 4:3 photo's view (52.6 x 40.5 degrees) looking at the cloud
    w.bookmarks.append(Bookmark("Start", [0.0, 0.0, 6.0], 0.0, 0.0, 40.5, 52.6))
    w.meta["walkable"] = {"centre": [0.0, -1.6, 6.0], "radius": 0.5}
    w.meta["options"] = {"photos": ["photo.jpg"], "panorama": None}
    proj = tmp_path / "photo.wander"
    save_project(w, proj)
    shot, out = tmp_path / "r.png", tmp_path / "v.mp4"
    from scene.campath import bookmark_path

    path, _ = bookmark_path(w, aspect=96 / 54)
    fov = path.keyframes[0].fov_y_deg  # the start view, zoomed in a little (the sway turns)
    assert 0.85 * w.bookmarks[0].view_fov_y(96 / 54) < fov < 40.5
    r = main("render", str(proj), "--size", "96x54", "--fov", f"{fov:.6f}", "--out", str(shot))
    assert r.returncode == 0, r.stderr
    r = main(
        "video", str(proj), "--size", "96x54", "--fps", "4", "--seconds", "1", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert "4 frames 96x54" in r.stdout and "a sway" in r.stderr, (r.stdout, r.stderr)
    frames, _ = read_video(out)
    still = cv2.imread(str(shot))[:, :, ::-1]
    assert psnr(frames[0], still) > 28.0, psnr(frames[0], still)
