"""Exports read back by independent readers (plyfile, numpy per gsplat's .splat layout,
gzip + struct per the spz layout, trimesh, pycolmap, py360convert) and by Wander."""

from __future__ import annotations

import gzip
import math
import struct

import numpy as np
import pytest
from conftest import random_cloud

from scene.export import (
    ExportOptions,
    bookmark_cameras,
    equirect_to_cube,
    export_cameras,
    export_panorama,
    export_world,
    parse_crop,
    scene_cloud,
)
from scene.gaussians import sigmoid
from scene.io.splat import SPLAT_DTYPE
from scene.mesh import Mesh
from scene.rotations import quats_to_matrices
from scene.sh import C0
from scene.world import Bookmark, Layer, World, similarity_matrix


def make_world() -> World:
    w = World()
    w.add_layer(Layer("base", random_cloud(400, sh_degree=3, seed=5)))
    w.add_layer(
        Layer(
            "obj",
            random_cloud(150, sh_degree=3, seed=6),
            "object",
            transform=similarity_matrix((0.5, 1.0, -1.0), yaw=0.9, scale=1.3),
        )
    )
    w.add_layer(Layer("hidden", random_cloud(50, sh_degree=1, seed=7), visible=False))
    return w


# ----------------------------------------------------------------- independent readers
def read_splat(path) -> np.ndarray:
    raw = path.read_bytes()
    assert len(raw) % 32 == 0
    return np.frombuffer(raw, SPLAT_DTYPE)


def read_spz_v3(path) -> dict:
    """Decode a v2/v3 .spz exactly as the spz layout says (gzip + struct)."""
    raw = gzip.decompress(path.read_bytes())
    magic, version, n, deg, frac, flags, _ = struct.unpack_from("<IIIBBBB", raw, 0)
    assert magic == 0x5053474E and version in (2, 3)
    off = 16
    pos = np.frombuffer(raw, np.uint8, n * 9, off).reshape(n, 3, 3).astype(np.int32)
    off += n * 9
    fixed = pos[..., 0] | (pos[..., 1] << 8) | (pos[..., 2] << 16)
    fixed = np.where(fixed & 0x800000, fixed - (1 << 24), fixed)
    alpha = np.frombuffer(raw, np.uint8, n, off)
    off += n
    color = np.frombuffer(raw, np.uint8, n * 3, off).reshape(n, 3)
    off += n * 3
    scale = np.frombuffer(raw, np.uint8, n * 3, off).reshape(n, 3)
    off += n * 3
    packed = np.frombuffer(raw, "<u4", n, off)
    off += n * 4
    quats = np.zeros((n, 4))  # xyzw
    for i, c in enumerate(packed.tolist()):
        big = c >> 30
        s2 = 0.0
        for j in (3, 2, 1, 0):
            if j == big:
                continue
            mag = (c & 0x1FF) / 511 * math.sqrt(0.5)
            quats[i, j] = -mag if (c >> 9) & 1 else mag
            s2 += mag * mag
            c >>= 10
        quats[i, big] = math.sqrt(max(0.0, 1 - s2))
    k = {0: 0, 1: 3, 2: 8, 3: 15}[deg]
    sh = np.frombuffer(raw, np.uint8, n * k * 3, off).reshape(n, k, 3)
    assert off + n * k * 3 == len(raw)
    return {
        "n": n,
        "deg": deg,
        "flags": flags,
        "means": fixed / (1 << frac),
        "alpha": alpha / 255.0,
        "sh0": (color / 255.0 - 0.5) / 0.15,
        "scales": scale / 16.0 - 10,
        "quats_wxyz": quats[:, [3, 0, 1, 2]],
        "shN": (sh.astype(np.float64) - 128) / 128,
    }


def same_rotation(qa: np.ndarray, qb: np.ndarray, tol: float) -> None:
    ra, rb = quats_to_matrices(qa), quats_to_matrices(qb)
    assert np.abs(ra - rb).max() < tol


# -------------------------------------------------------------------------- tests
def test_ply_read_by_plyfile_with_transforms_baked(tmp_path):
    import plyfile

    w = make_world()
    out = tmp_path / "scene.ply"
    info = export_world(w, out)
    assert info == {"format": "ply", "path": str(out), "splats": 550, "sh_degree": 3}
    v = plyfile.PlyData.read(str(out))["vertex"]
    want = w.merged_cloud()  # visible layers, transform baked, SH rotated
    assert len(v) == len(want) == 550
    np.testing.assert_array_equal(np.stack([v["x"], v["y"], v["z"]], 1), want.means)
    np.testing.assert_array_equal(v["f_rest_0"], want.shN[:, 0, 0])  # channel-major
    np.testing.assert_array_equal(v["f_rest_15"], want.shN[:, 0, 1])
    np.testing.assert_array_equal(v["f_rest_44"], want.shN[:, 14, 2])
    np.testing.assert_array_equal(v["opacity"], want.opacities)
    np.testing.assert_array_equal(np.stack([v[f"rot_{i}"] for i in range(4)], 1), want.quats)
    # The object layer really moved: its exported centres are the transformed ones.
    obj = w.find("obj")
    moved = obj.data.means @ obj.transform[:3, :3].T + obj.transform[:3, 3]
    np.testing.assert_allclose(want.means[400:], moved, atol=1e-5)


def test_splat_matches_gsplat_conventions(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
    export_splats = pytest.importorskip(
        "gsplat.exporter", reason="gsplat is optional (cuda extra)"
    ).export_splats

    cloud = random_cloud(200, sh_degree=0, seed=9)
    w = World()
    w.add_layer(Layer("base", cloud))
    out = tmp_path / "a.splat"
    export_world(w, out)
    ours = read_splat(out)
    peer_file = tmp_path / "peer.splat"
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    export_splats(
        t(cloud.means),
        t(cloud.scales),
        t(cloud.quats),
        t(cloud.opacities),
        t(cloud.sh0[:, None]),
        t(cloud.shN),
        format="splat",
        save_to=str(peer_file),
    )
    peer = read_splat(peer_file)
    # Match rows by position (orders differ: we sort by importance, gsplat by Morton code).
    key = lambda a: np.lexsort(a["pos"].T)  # noqa: E731
    ours, peer = ours[key(ours)], peer[key(peer)]
    np.testing.assert_array_equal(ours["pos"], peer["pos"])
    np.testing.assert_allclose(ours["scale"], peer["scale"], rtol=1e-6)
    # gsplat truncates to uint8 where we round: at most one step apart.
    assert np.abs(ours["rgba"].astype(int) - peer["rgba"].astype(int)).max() <= 1
    assert np.abs(ours["rot"].astype(int) - peer["rot"].astype(int)).max() <= 1
    # Decoded values are the cloud's within quantisation.
    order = cloud.importance_order()
    raw = read_splat(out)
    np.testing.assert_array_equal(raw["pos"], cloud.means[order])
    want_rgb = np.clip(0.5 + C0 * cloud.sh0[order], 0, 1)
    assert np.abs(raw["rgba"][:, :3] / 255 - want_rgb).max() <= 0.5 / 255 + 1e-6
    assert (
        np.abs(raw["rgba"][:, 3] / 255 - sigmoid(cloud.opacities[order])).max() <= 0.5 / 255 + 1e-6
    )
    same_rotation((raw["rot"].astype(np.float64) - 128) / 128, cloud.quats[order], 0.03)


def test_spz_layout_decodes_within_quantisation(tmp_path):
    w = make_world()
    out = tmp_path / "scene.spz"
    export_world(w, out)
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip container (v3)
    d = read_spz_v3(out)
    want = w.merged_cloud()
    assert d["n"] == len(want) and d["deg"] == 3 and d["flags"] == 0
    assert np.abs(d["means"] - want.means).max() <= 0.5 / 4096 + 1e-6
    assert np.abs(d["alpha"] - sigmoid(want.opacities)).max() <= 0.5 / 255 + 1e-6
    inside = np.abs(want.sh0 * 0.15 * 255 + 127.5) < 255
    assert np.abs(d["sh0"] - want.sh0)[inside].max() <= 0.5 / (0.15 * 255) + 1e-6
    assert np.abs(d["scales"] - want.scales).max() <= 1 / 32 + 1e-6
    same_rotation(d["quats_wxyz"], want.quats, 0.01)
    # SH 3 uses 4-bit buckets: error <= half a bucket (8/128) plus rounding.
    assert np.abs(d["shN"] - want.shN).max() <= 8.5 / 128


def test_options_sh_degree_crop_min_opacity(tmp_path):
    w = make_world()
    opts = ExportOptions(sh_degree=1, crop=parse_crop("-1,-1,-1,1,1,1"), min_opacity=0.3)
    cloud = scene_cloud(w, options=opts)
    full = w.merged_cloud()
    keep = np.all((full.means >= -1) & (full.means <= 1), 1) & (sigmoid(full.opacities) >= 0.3)
    assert 0 < len(cloud) == keep.sum() < len(full)
    np.testing.assert_array_equal(cloud.shN, full.shN[keep][:, :3])
    out = tmp_path / "c.spz"
    export_world(w, out, options=opts)
    assert read_spz_v3(out)["deg"] == 1
    with pytest.raises(ValueError, match="nothing to export"):
        scene_cloud(w, options=ExportOptions(crop=parse_crop("50,50,50,60,60,60")))
    for bad in ("1,2,3", "a,b,c,d,e,f"):
        with pytest.raises(ValueError, match="crop box"):
            parse_crop(bad)
    with pytest.raises(ValueError, match="SH degree"):
        ExportOptions(sh_degree=4)
    with pytest.raises(ValueError, match="exceeds"):
        ExportOptions(crop=((1, 1, 1), (0, 0, 0)))


def test_one_layer_export(tmp_path):
    import plyfile

    w = make_world()
    out = tmp_path / "obj.ply"
    export_world(w, out, layer="obj")
    v = plyfile.PlyData.read(str(out))["vertex"]
    np.testing.assert_array_equal(
        np.stack([v["x"], v["y"], v["z"]], 1), w.find("obj").baked().means
    )
    # A hidden layer can still be exported on its own, by name or id.
    hid = w.find("hidden")
    export_world(w, out, layer=str(hid.id))
    assert len(plyfile.PlyData.read(str(out))["vertex"]) == 50
    with pytest.raises(ValueError, match="no layer 'nope'"):
        export_world(w, out, layer="nope")


def test_mesh_export_glb_obj(tmp_path):
    import trimesh

    w = World()
    rng = np.random.default_rng(0)
    verts = rng.normal(size=(6, 3)).astype(np.float32)
    cols = rng.uniform(size=(6, 3)).astype(np.float32)
    w.add_layer(
        Layer(
            "m",
            Mesh(verts, [[0, 1, 2], [3, 4, 5]], cols),
            "mesh",
            transform=similarity_matrix((1, 2, 3), yaw=0.4, scale=2.0),
        )
    )
    w.add_layer(Layer("splats", random_cloud(10)))
    baked = w.find("m").baked()
    for fmt in ("glb", "obj"):
        out = tmp_path / f"m.{fmt}"
        info = export_world(w, out)
        assert info["faces"] == 2
        tm = trimesh.load(str(out), force="mesh", process=False)
        np.testing.assert_allclose(np.asarray(tm.vertices), baked.vertices, atol=1e-5)
        np.testing.assert_array_equal(np.asarray(tm.faces), baked.faces)
        vc = np.asarray(tm.visual.vertex_colors)[:, :3] / 255.0
        assert np.abs(vc - cols).max() <= 1 / 255 + 1e-6
    with pytest.raises(ValueError, match="holds splats"):
        export_world(w, tmp_path / "x.glb", layer="splats")
    with pytest.raises(ValueError, match="cannot tell the format"):
        export_world(w, tmp_path / "x.xyz")


def test_cube_faces_match_py360convert(tmp_path):
    import cv2
    import py360convert
    from py360convert import utils as p3u
    from skimage import data

    from scene.equirect import dirs_to_pano_pixels

    # Exact maths: py360convert's cube grid (its +Z forward = our −Z) lands on the same
    # equirect coordinates through our mapping as through its own.
    xyz = p3u.xyzcube(16).reshape(-1, 3).astype(np.float64)
    u, v = p3u.xyz2uv(xyz)
    px, py = (np.ravel(a) for a in p3u.uv2coor(u, v, 64, 128))
    ours_dir = xyz * [1, 1, -1] / np.linalg.norm(xyz, axis=1, keepdims=True)
    ox, oy = dirs_to_pano_pixels(ours_dir, 64, 128)
    dx = (ox - px + 64) % 128 - 64  # longitude wraps
    assert np.abs(dx).max() < 1e-3 and np.abs(oy - py).max() < 1e-3
    # Images: same faces and orientation (grids differ by half a pixel: py360convert puts
    # samples on the face edges, we sample pixel centres), so compare a smooth panorama.
    pano = cv2.GaussianBlur(
        np.ascontiguousarray(data.astronaut()[::4, ::2][:128, :256]), (0, 0), 3
    )  # (128, 256, 3)
    ours = equirect_to_cube(pano, 64)
    peer = py360convert.e2c(pano, 64, cube_format="dict")
    names = {"front": "F", "right": "R", "back": "B", "left": "L", "up": "U", "down": "D"}
    for ours_name, peer_name in names.items():
        err = np.abs(ours[ours_name].astype(float) - peer[peer_name].astype(float))
        assert err.mean() < 2.5, (ours_name, err.mean())
        flipped = np.abs(ours[ours_name][::-1].astype(float) - peer[peer_name].astype(float))
        assert flipped.mean() > 2 * err.mean()  # the test can tell orientations apart
    written = export_panorama(pano, tmp_path / "pano.png", face_size=64)
    assert [p.name for p in written] == [
        "pano.png",
        "pano_front.png",
        "pano_right.png",
        "pano_back.png",
        "pano_left.png",
        "pano_up.png",
        "pano_down.png",
    ]
    back = cv2.imread(str(tmp_path / "pano.png"))[..., ::-1]
    np.testing.assert_array_equal(back, pano)
    front = cv2.imread(str(tmp_path / "pano_front.png"))[..., ::-1]
    np.testing.assert_array_equal(front, ours["front"])
    with pytest.raises(ValueError, match="width = 2 x height"):
        equirect_to_cube(np.zeros((10, 10, 3), np.uint8))


def test_cameras_colmap_text_read_by_pycolmap(tmp_path):
    import json

    import pycolmap

    w = World()
    w.bookmarks += [
        Bookmark("door", [1, 1.6, 2], 0.3, -0.1, 70.0),
        Bookmark("hall way", [-2, 1.5, 0], 2.0, 0.2, 55.0),
    ]
    cams = bookmark_cameras(w, 640, 480)
    export_cameras(cams, tmp_path / "sparse", points=np.zeros((2, 3)), colors=np.ones((2, 3)))
    rec = pycolmap.Reconstruction(str(tmp_path / "sparse"))
    assert rec.num_images() == 2 and rec.num_points3D() == 2
    for img in rec.images.values():
        cam = cams[img.image_id - 1]
        pose = img.cam_from_world() if callable(img.cam_from_world) else img.cam_from_world
        np.testing.assert_allclose(pose.rotation.matrix(), cam.R, atol=1e-6)
        np.testing.assert_allclose(pose.translation, cam.t, atol=1e-9)
        c = rec.cameras[img.camera_id]
        assert (c.width, c.height) == (640, 480)
        np.testing.assert_allclose(c.params, [cam.fx, cam.fy, cam.cx, cam.cy])
    js = json.loads((tmp_path / "sparse" / "cameras.json").read_text())
    np.testing.assert_allclose(js["cameras"][1]["position"], [-2, 1.5, 0], atol=1e-9)


def test_loads_back_into_wander(tmp_path):
    import scene.io as io

    w = make_world()
    want = w.merged_cloud()
    order = want.importance_order()
    for fmt, tol_pos in (("ply", 0.0), ("splat", 0.0), ("spz", 0.5 / 4096 + 1e-6)):
        out = tmp_path / f"s.{fmt}"
        export_world(w, out)
        got = io.load(out)
        assert len(got) == len(want), fmt
        ref = want.subset(order) if fmt == "splat" else want
        assert np.abs(got.means - ref.means).max() <= tol_pos, fmt
        assert np.abs(sigmoid(got.opacities) - sigmoid(ref.opacities)).max() <= 1 / 255 + 1e-5
        assert np.abs(got.scales - ref.scales).max() <= (1 / 32 + 1e-6 if fmt == "spz" else 1e-5)
        same_rotation(got.quats, ref.quats, 0.03)
        rgb = 0.5 + C0 * ref.sh0
        ok = (rgb > 0) & (rgb < 1)  # .splat clamps colour to 0..1
        step = {"ply": 0.0, "splat": 1 / 255 / C0, "spz": 1 / (0.15 * 255)}[fmt]
        assert np.abs(got.sh0 - ref.sh0)[ok].max() <= 0.51 * step + 1e-6, fmt
        if fmt == "ply":
            np.testing.assert_array_equal(got.shN, ref.shN)
        if fmt == "spz":
            assert np.abs(got.shN - ref.shN).max() <= 8.5 / 128


def test_splat_bytes_size():
    import io

    from scene.io import write_to

    buf = io.BytesIO()
    write_to(random_cloud(7), buf, "splat")
    assert len(buf.getvalue()) == 7 * 32


def test_find_panorama_in_meta_and_sources(tmp_path):
    import cv2

    from scene.export import find_panorama

    w = World()
    w.add_layer(Layer("base", random_cloud(5)))
    assert find_panorama(w) is None
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), np.zeros((30, 40, 3), np.uint8))  # 4:3, not a panorama
    pano = tmp_path / "pano.png"
    cv2.imwrite(str(pano), np.zeros((20, 40, 3), np.uint8))
    # As pano_world records it: the layer source's "panorama" dict lists its inputs.
    w.layers[0].source = {"generator": "x", "panorama": {"inputs": [str(photo), str(pano)]}}
    assert find_panorama(w) == pano
    arr = np.zeros((8, 16, 3), np.uint8)
    w.meta["panorama_image"] = arr
    assert find_panorama(w) is arr


def test_reconstruction_cameras_follow_their_moved_layer(tmp_path):
    from scene.camera import Camera
    from scene.export import scene_cameras

    cloud = random_cloud(50, seed=4)
    cam = Camera.look_at([0.5, 0.2, 6], [0, 0, 0], 50, 320, 240)
    cam.name = "IMG_0001.jpg"
    w = World()
    w.add_layer(Layer("scan", cloud, source={"generator": "wander.reconstruct"}))
    w.meta["cameras"] = [
        {
            "name": cam.name,
            "width": 320,
            "height": 240,
            "fx": cam.fx,
            "fy": cam.fy,
            "cx": cam.cx,
            "cy": cam.cy,
            "R": cam.R.tolist(),
            "t": cam.t.tolist(),
        }
    ]
    w.bookmarks.append(Bookmark("ignored", [9, 9, 9]))
    w.set_transform(w.layers[0].id, similarity_matrix((1, -2, 0.5), yaw=0.8, scale=1.7))
    (moved,) = scene_cameras(w)
    # Every splat lands on the same pixel: original camera + original cloud ==
    # exported camera + baked cloud.
    uv0, z0 = cam.project(cloud.means)
    uv1, z1 = moved.project(w.merged_cloud().means)
    np.testing.assert_allclose(uv1, uv0, atol=1e-3)
    assert np.all(z1 > 0)
    export_cameras([moved], tmp_path)
    assert "IMG_0001.jpg" in (tmp_path / "images.txt").read_text()


def test_exported_reconstruction_cameras_keep_the_photos_lens(tmp_path):
    """Trial: `export --cameras` of a reconstruction wrote PINHOLE cameras, while the model
    `reconstruct` wrote beside the scene has SIMPLE_RADIAL with the k1 SfM found: a tool
    reading the export projected every photo pixel wrongly away from the centre. The
    world's camera records now carry the lens, and the export writes it."""
    from generators.reconstruct.pipeline import camera_records
    from scene.camera import Camera
    from scene.export import scene_cameras
    from scene.io.colmap import read_colmap

    cam = Camera.look_at([0.5, 0.2, 6], [0, 0, 0], 50, 640, 360)
    cam.name = "IMG_0001.jpg"
    cam.meta["k1"] = -0.18
    plain = Camera.look_at([1.5, 0.2, 6], [0, 0, 0], 50, 640, 360)
    plain.name = "IMG_0002.jpg"
    w = World()
    w.add_layer(Layer("scan", random_cloud(50, seed=4), source={"generator": "wander.reconstruct"}))
    w.meta["cameras"] = camera_records([cam, plain])
    w.set_transform(w.layers[0].id, similarity_matrix((1, -2, 0.5), yaw=0.8, scale=1.7))
    export_cameras(scene_cameras(w), tmp_path)
    lines = [ln.split() for ln in (tmp_path / "cameras.txt").read_text().splitlines()]
    rows = [ln for ln in lines if ln and not ln[0].startswith("#")]
    assert [r[1] for r in rows] == ["SIMPLE_RADIAL", "PINHOLE"]
    assert float(rows[0][-1]) == pytest.approx(-0.18)
    back, _, _ = read_colmap(tmp_path)
    assert back[0].meta["colmap_model"] == "SIMPLE_RADIAL"


def test_compressed_ply_for_supersplat(tmp_path):
    import plyfile

    import scene.io as io

    w = make_world()
    out = tmp_path / "scene.compressed.ply"
    info = export_world(w, out)
    assert info["format"] == "ply_compressed"
    ply = plyfile.PlyData.read(str(out))
    names = [e.name for e in ply.elements]
    assert names[:2] == ["chunk", "vertex"] and len(ply["vertex"]) == 550
    got = io.load(out)
    want = w.merged_cloud()
    # Morton order: match by nearest centre; 11-bit positions within each 256-splat chunk.
    from scipy.spatial import cKDTree

    d, _ = cKDTree(want.means).query(got.means)
    assert d.max() < 0.01


def test_exported_camera_names_are_plain_file_names(tmp_path):
    """Bookmark names become COLMAP image names: '../../x.png' or '/abs/y.png' sent a tool
    reading the model outside its images folder, and a line break failed the export after
    the scene file was already written. Now each is one plain, unique file name; photo
    names (any script) stay as they are."""
    import json

    from scene.export import image_file_name

    assert image_file_name("../../../tmp/ESCAPE6.png", "v") == "_.._.._tmp_ESCAPE6.png"
    assert image_file_name("/tmp/x/E7.png", "v") == "_tmp_x_E7.png"
    assert image_file_name("Fotó 1.JPG", "v") == "Fotó 1.JPG"
    assert image_file_name("IMG#1+b,&[2].jpg", "v") == "IMG#1+b,&[2].jpg"  # still the photo's
    assert image_file_name("a\\b.png", "v") == "a_b.png"
    assert image_file_name("line\nbreak", "v") == "line_break.png"
    assert image_file_name("...", "view_0002") == "view_0002.png"
    w = World()
    w.bookmarks += [
        Bookmark("../../evil.png", [0, 1.6, 0], 0.0, 0.0, 60.0),
        Bookmark("a\nb", [1, 1.6, 0], 0.0, 0.0, 60.0),
        Bookmark("a\tb", [2, 1.6, 0], 0.0, 0.0, 60.0),
    ]
    export_cameras(bookmark_cameras(w, 64, 48), tmp_path / "cams")
    doc = json.loads((tmp_path / "cams" / "cameras.json").read_text())
    names = [c["name"] for c in doc["cameras"]]
    assert names == ["_.._evil.png", "a_b.png", "a_b_2.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cams"]
