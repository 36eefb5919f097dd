"""Round trips through every splat format, within each format's quantisation, plus the
PLY variants (big endian, ASCII, extra properties, any order, point clouds, meshes)."""

from __future__ import annotations

import gzip
import os
import struct
import sys

import numpy as np
import pytest
from conftest import random_cloud

import scene.io as sio
from scene.errors import SceneFormatError
from scene.gaussians import GaussianCloud, sigmoid
from scene.mesh import Mesh
from scene.sh import C0

ATTRS = ("means", "scales", "quats", "opacities", "sh0", "shN")


def unit(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def assert_rotations_close(a: np.ndarray, b: np.ndarray, tol: float) -> None:
    """Same rotations up to the sign of the quaternion: 1 - |<a, b>| <= tol."""
    dot = np.abs((unit(a) * unit(b)).sum(1))
    assert (1 - dot).max() <= tol, (1 - dot).max()


def quantizable_cloud(n: int, deg: int, seed: int = 0) -> GaussianCloud:
    """A random cloud whose values sit inside every format's representable ranges."""
    c = random_cloud(n, deg, seed)
    c.shN = np.clip(c.shN, -0.9, 0.9)
    return c


# ----------------------------------------------------------------------------- PLY
@pytest.mark.parametrize("deg", [0, 1, 2, 3])
def test_ply_round_trip_is_exact(tmp_path, deg):
    c = random_cloud(300, deg, seed=deg)
    sio.save(c, tmp_path / "a.ply")
    d = sio.load(tmp_path / "a.ply")
    assert d.sh_degree == deg
    for name in ATTRS:
        np.testing.assert_array_equal(getattr(c, name), getattr(d, name), err_msg=name)


def _write_plyfile(
    path, c: GaussianCloud, *, byte_order="<", text=False, extra=True, shuffle=False, dtype="f4"
):
    """Write a 3DGS PLY with plyfile (an independent writer), optionally unusual."""
    from plyfile import PlyData, PlyElement

    n, k = len(c), c.shN.shape[1]
    cols = {"x": c.means[:, 0], "y": c.means[:, 1], "z": c.means[:, 2]}
    if extra:
        cols.update(nx=np.zeros(n), ny=np.zeros(n), nz=np.zeros(n))
    for i in range(3):
        cols[f"f_dc_{i}"] = c.sh0[:, i]
    rest = c.shN.transpose(0, 2, 1).reshape(n, 3 * k)
    for i in range(3 * k):
        cols[f"f_rest_{i}"] = rest[:, i]
    cols["opacity"] = c.opacities
    for i in range(3):
        cols[f"scale_{i}"] = c.scales[:, i]
    for i in range(4):
        cols[f"rot_{i}"] = c.quats[:, i]
    if extra:
        cols["confidence"] = np.arange(n)  # an unknown property of another type
    names = list(cols)
    if shuffle:
        names = list(np.random.default_rng(1).permutation(names))
    types = {nm: ("i4" if nm == "confidence" else dtype) for nm in names}
    arr = np.empty(n, dtype=[(nm, types[nm]) for nm in names])
    for nm in names:
        arr[nm] = cols[nm]
    el = PlyElement.describe(arr, "vertex")
    PlyData([el], text=text, byte_order=byte_order).write(str(path))


@pytest.mark.parametrize("variant", ["big_endian", "ascii", "shuffled_double", "no_normals"])
@pytest.mark.parametrize("deg", [0, 3])
def test_ply_variants_written_by_plyfile(tmp_path, variant, deg):
    c = random_cloud(200, deg, seed=3)
    kw = {
        "big_endian": dict(byte_order=">"),
        "ascii": dict(text=True),
        "shuffled_double": dict(shuffle=True, dtype="f8"),
        "no_normals": dict(extra=False),
    }[variant]
    _write_plyfile(tmp_path / "v.ply", c, **kw)
    d = sio.load_cloud(tmp_path / "v.ply")
    assert d.sh_degree == deg
    for name in ATTRS:  # ASCII goes through decimal text: float32 precision, not bit-exact
        np.testing.assert_allclose(
            getattr(d, name), getattr(c, name), rtol=1e-6, atol=1e-6, err_msg=name
        )


def test_ply_output_read_by_plyfile_has_reference_layout(tmp_path):
    from plyfile import PlyData

    c = random_cloud(50, 3)
    sio.save(c, tmp_path / "r.ply")
    ply = PlyData.read(str(tmp_path / "r.ply"))
    v = ply["vertex"]
    names = [p.name for p in v.properties]
    expect = (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(45)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )
    assert names == expect
    assert all(
        p.val_dtype in ("f4", "float32", "<f4") or np.dtype(p.val_dtype) == np.float32
        for p in v.properties
    )
    assert ply.byte_order in ("<", "=") and not ply.text
    np.testing.assert_array_equal(v["x"], c.means[:, 0])
    np.testing.assert_array_equal(v["rot_0"], c.quats[:, 0])
    np.testing.assert_array_equal(v["opacity"], c.opacities)
    # f_rest is channel-major: f_rest_{c*15+k} = shN[:, k, c]
    np.testing.assert_array_equal(v["f_rest_1"], c.shN[:, 1, 0])
    np.testing.assert_array_equal(v["f_rest_16"], c.shN[:, 1, 1])
    np.testing.assert_array_equal(v["f_rest_44"], c.shN[:, 14, 2])
    np.testing.assert_array_equal(v["nx"], 0)


def test_point_cloud_ply_becomes_small_gaussians(tmp_path):
    from plyfile import PlyData, PlyElement

    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 1, (500, 3)).astype("f4")
    rgb = rng.integers(0, 256, (500, 3)).astype("u1")
    arr = np.empty(
        500,
        dtype=[
            ("x", "f4"),
            ("y", "f4"),
            ("z", "f4"),
            ("red", "u1"),
            ("green", "u1"),
            ("blue", "u1"),
        ],
    )
    for i, nm in enumerate("xyz"):
        arr[nm] = pts[:, i]
    for i, nm in enumerate(("red", "green", "blue")):
        arr[nm] = rgb[:, i]
    PlyData([PlyElement.describe(arr, "vertex")]).write(str(tmp_path / "pts.ply"))
    c = sio.load_cloud(tmp_path / "pts.ply")
    assert len(c) == 500 and c.sh_degree == 0
    np.testing.assert_allclose(c.means, pts)
    np.testing.assert_allclose(c.base_colors(), rgb / 255.0, atol=1e-5)
    s = c.scale_values()
    # sizes follow the spacing: 500 points in a unit cube are ~0.1 apart
    assert 0.005 < np.median(s) < 0.1
    assert c.meta["converted_from"] == "point cloud"


def test_ply_with_faces_is_a_mesh(tmp_path):
    import trimesh

    box = trimesh.creation.box()
    box.export(str(tmp_path / "box.ply"))
    m = sio.load(tmp_path / "box.ply")
    assert isinstance(m, Mesh) and m.n_faces == 12
    with pytest.raises(SceneFormatError, match="is a mesh"):
        sio.load_cloud(tmp_path / "box.ply")


def test_ply_with_degree4_sh_keeps_degree3(tmp_path):
    from plyfile import PlyData, PlyElement

    c = random_cloud(20, 3)
    names = (
        ["x", "y", "z"]
        + [f"f_dc_{i}" for i in range(3)]
        + [f"f_rest_{i}" for i in range(72)]
        + ["opacity"]
        + [f"scale_{i}" for i in range(3)]
        + [f"rot_{i}" for i in range(4)]
    )
    arr = np.zeros(20, dtype=[(n, "f4") for n in names])
    for i, nm in enumerate("xyz"):
        arr[nm] = c.means[:, i]
    for i in range(4):
        arr[f"rot_{i}"] = c.quats[:, i]
    for ch in range(3):
        for k in range(24):
            arr[f"f_rest_{ch * 24 + k}"] = ch * 100 + k
    PlyData([PlyElement.describe(arr, "vertex")]).write(str(tmp_path / "d4.ply"))
    d = sio.load_cloud(tmp_path / "d4.ply")
    assert d.sh_degree == 3 and "warning" in d.meta
    np.testing.assert_array_equal(d.shN[:, 14, 2], 214)  # channel B, coefficient 14


# ---------------------------------------------------------------------------- .splat
def test_splat_round_trip_within_8bit_quantisation(tmp_path):
    c = random_cloud(400, 2, seed=5)
    sio.save(c, tmp_path / "a.splat", sort=False)
    assert os.path.getsize(tmp_path / "a.splat") == 32 * 400
    d = sio.load(tmp_path / "a.splat")
    assert d.sh_degree == 0
    np.testing.assert_array_equal(d.means, c.means)  # float32 in the file
    np.testing.assert_allclose(d.scales, c.scales, atol=1e-5)
    rgb = np.clip(0.5 + C0 * c.sh0, 0, 1)
    np.testing.assert_allclose(0.5 + C0 * d.sh0, rgb, atol=0.5 / 255 + 1e-6)
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(c.opacities), atol=0.5 / 255 + 1e-6)
    assert_rotations_close(d.quats, c.quats, 1e-4)  # 0.5/128 per component


def test_splat_writer_sorts_by_importance(tmp_path):
    c = random_cloud(300, 0, seed=2)
    sio.save(c, tmp_path / "s.splat")
    d = sio.load(tmp_path / "s.splat")
    np.testing.assert_array_equal(d.means, c.means[c.importance_order()])
    assert np.all(np.diff(c.importance()[c.importance_order()]) <= 0)


# ------------------------------------------------------------------------------- .spz
SPZ_TOL = dict(
    means=0.5 / 4096 + 1e-6,  # 24-bit fixed point, 12 fractional bits
    scales=0.5 / 16 + 1e-6,  # (s + 10) * 16 in a byte
    sh0=0.5 / (0.15 * 255) + 1e-5,  # dc * 0.15 * 255 + 127.5 in a byte
    alpha=0.5 / 255 + 1e-6,  # sigmoid(opacity) * 255
    sh1=(4 + 0.5) / 128 + 1e-6,  # 5-bit buckets of 8 on a 1/128 grid
    sh_rest=(8 + 0.5) / 128 + 1e-6,  # 4-bit buckets of 16
)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("deg", [0, 1, 2, 3])
def test_spz_round_trip_within_quantisation(tmp_path, version, deg):
    c = quantizable_cloud(500, deg, seed=deg)
    c.meta["antialiased"] = True
    sio.save(c, tmp_path / "a.spz", version=version)
    raw = gzip.decompress((tmp_path / "a.spz").read_bytes())
    magic, ver, n, sh_deg, frac, flags = struct.unpack_from("<IIIBBB", raw)
    assert (magic, ver, n, sh_deg, frac, flags) == (0x5053474E, version, 500, deg, 12, 1)
    d = sio.load(tmp_path / "a.spz")
    assert d.sh_degree == deg and d.meta["antialiased"] and d.meta["spz_version"] == version
    np.testing.assert_allclose(d.means, c.means, atol=SPZ_TOL["means"])
    np.testing.assert_allclose(d.scales, c.scales, atol=SPZ_TOL["scales"])
    np.testing.assert_allclose(d.sh0, c.sh0, atol=SPZ_TOL["sh0"])
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(c.opacities), atol=SPZ_TOL["alpha"])
    # v3: 9-bit smallest-three (0.5·√½/511 per component). v2: 8-bit xyz (δ = 0.5/127.5) with
    # w = sqrt(1 - |xyz|²) recomputed, so near w = 0 the error grows to ~sqrt(2√3·δ) ≈ 0.12
    # in w, i.e. 1 - |<a, b>| up to ~(0.12)²/2 ≈ 0.007.
    assert_rotations_close(d.quats, c.quats, 2e-5 if version == 3 else 8e-3)
    if deg:
        np.testing.assert_allclose(d.shN[:, :3], c.shN[:, :3], atol=SPZ_TOL["sh1"])
        np.testing.assert_allclose(d.shN[:, 3:], c.shN[:, 3:], atol=SPZ_TOL["sh_rest"])


def test_spz_blocks_follow_the_reference_layout(tmp_path):
    """Hand-decode the v3 payload: planar blocks, 24-bit positions, SH RGB fastest."""
    c = quantizable_cloud(3, 1, seed=1)
    c.means[:] = [[1.0, -2.0, 0.5], [0, 0, 0], [3.25, 1, -1]]
    sio.save(c, tmp_path / "b.spz")
    raw = gzip.decompress((tmp_path / "b.spz").read_bytes())
    body = raw[16:]
    pos = np.frombuffer(body[:27], np.uint8).reshape(9, 3).astype(np.int32)
    v = pos[:, 0] | pos[:, 1] << 8 | pos[:, 2] << 16
    v = (v ^ 0x800000) - 0x800000
    np.testing.assert_array_equal(v.reshape(3, 3) / 4096.0, c.means)
    sh = np.frombuffer(body[27 + 3 + 9 + 9 + 12 :], np.uint8).reshape(3, 3, 3)  # (N, coeff, rgb)
    expect = np.clip((np.rint(c.shN * 128).astype(int) + 128 + 4) // 8 * 8, 0, 255)
    np.testing.assert_array_equal(sh, expect)


def test_spz_large_coordinates_reduce_fractional_bits(tmp_path):
    c = quantizable_cloud(50, 0)
    c.means *= 3000.0  # beyond ±2048, the 12-bit fixed-point range
    sio.save(c, tmp_path / "big.spz")
    d = sio.load(tmp_path / "big.spz")
    np.testing.assert_allclose(d.means, c.means, atol=0.5)


def test_spz_v4_without_zstandard_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if it were not installed
    head = struct.pack("<IIIBBBBI12x", 0x5053474E, 4, 10, 0, 12, 0, 5, 32)
    (tmp_path / "v4.spz").write_bytes(head + b"\0" * 80)
    with pytest.raises(SceneFormatError, match="pip install zstandard"):
        sio.load(tmp_path / "v4.spz")


class _StoredZstd:
    """Stand-in for the `zstandard` module whose 'compressed' streams are stored as-is,
    so the v4 container (header, table of contents, block order) is tested without it."""

    class ZstdError(Exception):
        pass

    class ZstdCompressor:
        def compress(self, data: bytes) -> bytes:
            return bytes(data)

    class ZstdDecompressor:
        def decompress(self, data: bytes, max_output_size: int = 0) -> bytes:
            return bytes(data[:max_output_size])


@pytest.mark.parametrize("real", [True, False])
def test_spz_v4_container(tmp_path, monkeypatch, real):
    import sys

    if real:
        import zstandard as zstd
    else:
        zstd = _StoredZstd()
        monkeypatch.setitem(sys.modules, "zstandard", zstd)
    from scene.io.spz import encode_spz

    c = quantizable_cloud(100, 1)
    payload = encode_spz(c, 3)
    n = len(c)
    sizes = [n * 9, n, n * 3, n * 3, n * 4, n * 9]
    blocks, pos = [], 16
    for s in sizes:
        blocks.append(payload[pos : pos + s])
        pos += s
    comp = [zstd.ZstdCompressor().compress(b) for b in blocks]
    toc = b"".join(struct.pack("<QQ", len(cb), len(b)) for cb, b in zip(comp, blocks))
    head = struct.pack("<IIIBBBBI12x", 0x5053474E, 4, n, 1, 12, 0, len(comp), 32)
    (tmp_path / "v4.spz").write_bytes(head + toc + b"".join(comp))
    d = sio.load(tmp_path / "v4.spz")
    assert d.meta["spz_version"] == 4 and d.sh_degree == 1
    np.testing.assert_allclose(d.means, c.means, atol=SPZ_TOL["means"])
    np.testing.assert_allclose(d.shN, c.shN, atol=SPZ_TOL["sh1"])
    assert_rotations_close(d.quats, c.quats, 2e-5)
    # a table of contents that promises more bytes than the file has is a clear error
    data = bytearray((tmp_path / "v4.spz").read_bytes())
    struct.pack_into("<Q", data, 32, 10**9)
    (tmp_path / "bad4.spz").write_bytes(bytes(data))
    with pytest.raises(SceneFormatError, match="past the end"):
        sio.load(tmp_path / "bad4.spz")


# -------------------------------------------------------------------- compressed PLY
@pytest.mark.parametrize("deg", [0, 1, 3])
def test_compressed_ply_round_trip_within_quantisation(tmp_path, deg):
    from scene.io.ply_compressed import morton_order

    c = random_cloud(700, deg, seed=deg)
    sio.save(c, tmp_path / "a.compressed.ply")
    assert sio.sniff(tmp_path / "a.compressed.ply") == "ply_compressed"
    os.replace(tmp_path / "a.compressed.ply", tmp_path / "plain.ply")  # routed by header
    d = sio.load(tmp_path / "plain.ply")
    assert d.meta["format"] == "ply_compressed" and d.sh_degree == deg
    c = c.subset(morton_order(c.means))
    ext = c.means.max(0) - c.means.min(0)
    np.testing.assert_allclose(d.means, c.means, atol=float(ext.max()) / 2046 + 1e-5)
    sext = c.scales.max(0) - c.scales.min(0)
    np.testing.assert_allclose(d.scales, c.scales, atol=float(sext.max()) / 2046 + 1e-5)
    rgb = 0.5 + C0 * c.sh0
    cext = float((rgb.max(0) - rgb.min(0)).max())
    np.testing.assert_allclose(0.5 + C0 * d.sh0, rgb, atol=cext / 510 + 1e-5)
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(c.opacities), atol=0.5 / 255 + 1e-6)
    assert_rotations_close(d.quats, c.quats, 2e-5)  # 10 bits of c·√½ per component
    if deg:
        np.testing.assert_allclose(d.shN, c.shN, atol=1 / 64 + 1e-6)  # 8-bit trunc over ±4


def test_compressed_ply_bytes_do_not_depend_on_the_encoders_block(monkeypatch) -> None:  # noqa: ANN001
    """The encoder packs Morton-ordered rows a block at a time (ENCODE_BLOCK, for bounded
    memory): blocks of 2 chunks, the last one partial, write the same bytes as one block."""
    import io

    import scene.io.ply_compressed as pc

    c = random_cloud(5 * pc.CHUNK + 77, 3, seed=5)
    out = []
    for block in (64 * pc.CHUNK, 2 * pc.CHUNK):
        monkeypatch.setattr(pc, "ENCODE_BLOCK", block)
        buf = io.BytesIO()
        pc.encode_ply_compressed(c, buf)
        out.append(buf.getvalue())
    assert out[0] == out[1]


# ------------------------------------------------------------------------------ meshes
@pytest.mark.parametrize("ext", ["glb", "obj", "ply"])
def test_mesh_round_trip_keeps_vertex_colours(tmp_path, ext):
    import trimesh

    box = trimesh.creation.icosphere(subdivisions=1)
    cols = np.random.default_rng(0).uniform(0, 1, (len(box.vertices), 3)).astype(np.float32)
    m = Mesh(box.vertices, box.faces, cols)
    sio.save(m, tmp_path / f"m.{ext}")
    r = sio.load(tmp_path / f"m.{ext}")
    assert isinstance(r, Mesh) and r.n_faces == m.n_faces and r.n_vertices == m.n_vertices
    np.testing.assert_allclose(r.vertices, m.vertices, atol=1e-5)
    np.testing.assert_array_equal(r.faces, m.faces)
    np.testing.assert_allclose(r.vertex_colors, cols, atol=0.5 / 255 + 1e-6)


def test_textured_glb_keeps_texture_and_uvs(tmp_path):
    import trimesh

    box = trimesh.creation.box()
    tex = (np.random.default_rng(0).uniform(0, 255, (16, 16, 3))).astype(np.uint8)
    uv = np.random.default_rng(1).uniform(0, 1, (len(box.vertices), 2)).astype(np.float32)
    sio.save(Mesh(box.vertices, box.faces, uvs=uv, texture=tex), tmp_path / "t.glb")
    r = sio.load(tmp_path / "t.glb")
    assert r.texture is not None and r.texture.shape[:2] == (16, 16)
    np.testing.assert_array_equal(r.texture[..., :3], tex)
    np.testing.assert_allclose(r.uvs, uv, atol=1e-6)
    info = sio.file_info(tmp_path / "t.glb")
    assert info["kind"] == "mesh" and info["faces"] == 12 and info["has_texture"]


def test_broken_texture_keeps_geometry_with_a_warning(tmp_path):
    import trimesh

    box = trimesh.creation.box()
    tex = (np.random.default_rng(0).uniform(0, 255, (16, 16, 3))).astype(np.uint8)
    uv = np.random.default_rng(1).uniform(0, 1, (len(box.vertices), 2)).astype(np.float32)
    sio.save(Mesh(box.vertices, box.faces, uvs=uv, texture=tex), tmp_path / "t.glb")
    data = bytearray((tmp_path / "t.glb").read_bytes())
    png = data.find(b"\x89PNG")
    data[png + 16 : png + 60] = b"\xff" * 44  # corrupt the embedded PNG's header chunk
    (tmp_path / "bad.glb").write_bytes(bytes(data))
    m = sio.load(tmp_path / "bad.glb")
    assert m.n_faces == 12 and m.texture is None and "texture" in m.meta["warning"]


def test_mesh_file_without_faces_is_an_error(tmp_path):
    (tmp_path / "pts.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(SceneFormatError, match="no faces"):
        sio.load(tmp_path / "pts.obj")


# ------------------------------------------------------------------------------ COLMAP
def test_colmap_text_round_trip_and_pycolmap_reads_it(tmp_path):
    from scene.camera import Camera

    cams = [
        Camera.look_at([np.cos(a) * 3, 0.5, np.sin(a) * 3], [0, 0, 0], 55, 640, 480)
        for a in np.linspace(0, 2, 4)
    ]
    for i, cam in enumerate(cams):
        cam.name = f"frame_{i:03d}.jpg"
    pts = np.random.default_rng(0).uniform(-1, 1, (30, 3))
    cols = np.random.default_rng(1).uniform(0, 1, (30, 3))
    sio.write_colmap_text(tmp_path, cams, pts, cols)
    back, p2, c2 = sio.read_colmap(tmp_path)
    assert [c.name for c in back] == [c.name for c in cams]
    for a, b in zip(cams, back):
        np.testing.assert_allclose(b.R, a.R, atol=1e-12)
        np.testing.assert_allclose(b.t, a.t, atol=1e-12)
        assert (b.fx, b.fy, b.cx, b.cy, b.width, b.height) == (a.fx, a.fy, a.cx, a.cy, 640, 480)
    np.testing.assert_allclose(p2, pts, atol=1e-12)
    np.testing.assert_allclose(c2, np.rint(cols * 255) / 255, atol=1e-6)
    import pycolmap

    rec = pycolmap.Reconstruction(str(tmp_path))
    assert len(rec.images) == 4 and len(rec.points3D) == 30
    binary = tmp_path / "bin"
    binary.mkdir()
    rec.write_binary(str(binary))
    back2, p3, _ = sio.read_colmap(binary)
    for a, b in zip(cams, back2):
        np.testing.assert_allclose(b.R, a.R, atol=1e-9)
        np.testing.assert_allclose(b.position, a.position, atol=1e-9)
    assert len(p3) == 30


# ----------------------------------------------------------------- errors and atomicity
def test_clear_errors_for_bad_files(tmp_path):
    c = random_cloud(100, 1)
    sio.save(c, tmp_path / "ok.ply")
    good = (tmp_path / "ok.ply").read_bytes()
    cases = {
        "empty.ply": (b"", "empty"),
        "trunc.ply": (good[:-100], "holds only 99"),
        "lies.ply": (
            good.replace(b"element vertex 100", b"element vertex 999999999999"),
            "holds only",
        ),
        "zero.ply": (good.replace(b"element vertex 100", b"element vertex 0"), "no splats"),
        "png.ply": (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG image"),
        "text.splat": (b"hello world, I am not a splat file!\n" * 8 + b"x" * 32 * 3, "text"),
        "odd.splat": (bytes(33), "multiple of 32"),
        "noheader.ply": (b"ply\nformat binary_little_endian 1.0\nelement vertex 3\n", "end_header"),
        "missing.ply": (
            good.replace(b"property float opacity\n", b""),
            "lacks required properties: opacity",
        ),
        "gz.spz": (gzip.compress(b"not a splat at all"), "NGSP|not .spz|not an .spz"),
        "short.spz": (
            gzip.compress(struct.pack("<IIIBBBB", 0x5053474E, 3, 1000, 0, 12, 0, 0)),
            "truncated|holds only",
        ),
        "bomb.spz": (
            gzip.compress(struct.pack("<IIIBBBB", 0x5053474E, 3, 4_000_000_000 // 23, 0, 12, 0, 0)),
            "far more",
        ),
    }
    for name, (data, pattern) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(SceneFormatError) as info:
            sio.load(tmp_path / name)
        assert name in str(info.value)
        if pattern:
            assert any(p in str(info.value) for p in pattern.split("|")), (name, str(info.value))


def test_nan_splats_are_counted(tmp_path):
    c = random_cloud(50, 0)
    c.means[3, 1] = np.nan
    c.scales[7, 0] = np.inf
    from scene.io.ply import ply_property_names  # writers refuse NaN: build the file by hand

    names = ply_property_names(0)
    mat = np.zeros((50, len(names)), "<f4")
    mat[:, 0:3] = c.means
    mat[:, names.index("scale_0") : names.index("scale_0") + 3] = c.scales
    mat[:, names.index("rot_0")] = 1
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 50\n"
        + "".join(f"property float {n}\n" for n in names)
        + "end_header\n"
    )
    (tmp_path / "nan.ply").write_bytes(header.encode() + mat.tobytes())
    # issue 13: rows that cannot be drawn are dropped and counted, the file still opens
    got = sio.load(tmp_path / "nan.ply")
    assert len(got) == 48 and "dropped 2 of 50 splats" in got.meta["warning"]


@pytest.mark.parametrize("fmt", ["ply", "splat", "spz", "compressed.ply"])
def test_failed_write_leaves_previous_file_and_no_temp(tmp_path, fmt, monkeypatch):
    target = tmp_path / f"out.{fmt}"
    target.write_bytes(b"previous contents")
    c = random_cloud(20, 1)

    import scene.files as common

    real_fdopen = common.os.fdopen

    class FailingFile:
        """Writes half of the first chunk to disk, then fails like a full disk."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(bytes(data)[: len(data) // 2])
            raise OSError(28, "No space left on device")

        def fileno(self):
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(common.os, "fdopen", lambda fd, mode: FailingFile(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left on device"):
        sio.save(c, target)
    monkeypatch.undo()
    assert target.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out.{fmt}"]
    sio.save(c, target)  # and a good write replaces it
    assert len(sio.load(target)) == 20


def test_save_rejects_bad_requests(tmp_path):
    c = random_cloud(5)
    with pytest.raises(ValueError, match="cannot tell the format"):
        sio.save(c, tmp_path / "x.unknown")
    with pytest.raises(ValueError, match="is a folder; name the file to write"):
        sio.save(c, tmp_path)
    with pytest.raises(ValueError, match="unknown .splat write options"):
        sio.save(c, tmp_path / "x.splat", bogus=1)
    with pytest.raises(ValueError, match="cannot write a Gaussian cloud as glb"):
        sio.save(c, tmp_path / "x.glb")
    with pytest.raises(SceneFormatError, match="no splats"):
        sio.save(GaussianCloud.empty(), tmp_path / "x.ply")
    with pytest.raises(SceneFormatError, match="no such file"):
        sio.load(tmp_path / "nope.ply")
