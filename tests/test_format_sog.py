"""SuperSplat's SOG v2 (`.sog` zip, or meta.json + WebP textures), read by scene.io.sog.

Files come from two places:
- a small SOG writer here that follows splat-transform's `writers/write-sog.ts` texel by
  texel (identity order, simple codebooks), so every expected value is known exactly;
- splat-transform itself (`splat-transform in.ply out.sog`) when node and the package are
  present: found through $WANDER_SPLAT_TRANSFORM (the `splat-transform` executable),
  `splat-transform` on PATH, or the documented location
  /work/node_peers/node_modules/.bin/splat-transform
  (`npm install @playcanvas/splat-transform` run in /work/node_peers). Absent: skipped.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud

SQRT2 = math.sqrt(2.0)


# ------------------------------------------------------------------ a reference writer
def _webp(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba, np.uint8), "RGBA").save(
        buf, "WEBP", lossless=True, quality=100, exact=True
    )
    return buf.getvalue()


def _texture(cols: list[np.ndarray], w: int, h: int, alpha: np.ndarray | None = None) -> np.ndarray:
    out = np.zeros((w * h, 4), np.uint8)
    out[:, 3] = 255
    n = len(cols[0])
    for c, v in enumerate(cols):
        out[:n, c] = v
    if alpha is not None:
        out[:n, 3] = alpha
    return out.reshape(h, w, 4)


def _codebook(values: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(codebook (size,), labels like `values`): evenly spaced entries, nearest label."""
    cb = np.linspace(float(values.min()), float(values.max()) + 1e-6, size).astype(np.float32)
    labels = np.abs(values.reshape(-1, 1) - cb[None, :]).argmin(1).reshape(values.shape)
    return cb, labels.astype(np.uint8)


def build_sog(
    cloud,
    out: Path,
    *,
    palette: int = 32,
    bundle: bool = True,
    antialiased: bool = False,
    edit=None,
):
    """Write `cloud` as SOG v2 the way write-sog.ts lays it out; returns the values a
    correct reader must decode (a dict of arrays in file order)."""
    from scene.io.sog import texture_size

    n = len(cloud)
    w, h = texture_size(n)
    files: dict[str, bytes] = {}
    exp: dict[str, np.ndarray] = {}
    # means: log transform, 16 bits per axis (JS `x & 0xff` truncates)
    lt = np.sign(cloud.means.astype(np.float64)) * np.log(
        np.abs(cloud.means.astype(np.float64)) + 1
    )
    mins, maxs = lt.min(0), lt.max(0)
    q = np.trunc(65535 * (lt - mins) / (maxs - mins)).astype(np.int64)
    files["means_l.webp"] = _webp(_texture([q[:, a] & 0xFF for a in range(3)], w, h))
    files["means_u.webp"] = _webp(_texture([(q[:, a] >> 8) & 0xFF for a in range(3)], w, h))
    nrm = mins + (maxs - mins) * (q / 65535.0)
    exp["means"] = np.sign(nrm) * np.expm1(np.abs(nrm))
    # quats: smallest three, tag 252 + largest over w x y z
    qq = cloud.quats / np.linalg.norm(cloud.quats, axis=1, keepdims=True)
    big = np.abs(qq).argmax(1)
    qq = qq * (np.where(qq[np.arange(n), big] < 0, -1.0, 1.0) * SQRT2)[:, None]
    kept = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])[big]
    b = [
        np.trunc(255 * (qq[np.arange(n), kept[:, j]] * 0.5 + 0.5)).astype(np.uint8)
        for j in range(3)
    ]
    files["quats.webp"] = _webp(_texture(b, w, h, alpha=252 + big))
    dq = np.zeros((n, 4))
    for j in range(3):
        dq[np.arange(n), kept[:, j]] = (b[j] / 255 * 2 - 1) / SQRT2
    dq[np.arange(n), big] = np.sqrt(np.maximum(0, 1 - (dq**2).sum(1)))
    exp["quats"] = dq
    # scales and colours through 256-entry codebooks; opacity in sh0's alpha
    scb, sl = _codebook(cloud.scales)
    files["scales.webp"] = _webp(_texture([sl[:, c] for c in range(3)], w, h))
    exp["scales"] = scb[sl]
    ccb, cl = _codebook(cloud.sh0)
    alpha = np.clip(1 / (1 + np.exp(-cloud.opacities.astype(np.float64))) * 255, 0, 255).astype(
        np.uint8
    )
    files["sh0.webp"] = _webp(_texture([cl[:, c] for c in range(3)], w, h, alpha=alpha))
    exp["sh0"] = ccb[cl]
    exp["opacity"] = alpha / 255.0
    meta = {
        "version": 2,
        "asset": {"generator": "wander test"},
        "count": n,
        "means": {
            "mins": mins.tolist(),
            "maxs": maxs.tolist(),
            "files": ["means_l.webp", "means_u.webp"],
        },
        "scales": {"codebook": scb.tolist(), "files": ["scales.webp"]},
        "quats": {"files": ["quats.webp"]},
        "sh0": {"codebook": ccb.tolist(), "files": ["sh0.webp"]},
    }
    k = cloud.shN.shape[1]
    exp["shN"] = np.zeros((n, k, 3))
    if k:
        bands = {3: 1, 8: 2, 15: 3}[k]
        labels = np.arange(n) % palette  # palette entry per splat
        pal = cloud.shN[:palette]  # (P, K, 3)
        hcb, hl = _codebook(pal)  # indices (P, K, 3)
        rows = -(-palette // 64)
        cen = np.zeros((rows * 64, k, 4), np.uint8)
        cen[:, :, 3] = 255
        cen[:palette, :, :3] = hl
        files["shN_centroids.webp"] = _webp(cen.reshape(rows, 64 * k, 4))
        files["shN_labels.webp"] = _webp(_texture([labels & 0xFF, labels >> 8], w, h))
        meta["shN"] = {
            "count": palette,
            "bands": bands,
            "codebook": hcb.tolist(),
            "files": ["shN_centroids.webp", "shN_labels.webp"],
        }
        exp["shN"] = hcb[hl][labels]
    if antialiased:
        meta["model"] = "antialiased"
    if edit is not None:
        edit(meta, files)
    files["meta.json"] = json.dumps(meta).encode()
    if bundle:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out / name).write_bytes(data)
    return exp


def _check(got, exp: dict[str, np.ndarray]) -> None:
    np.testing.assert_allclose(got.means, exp["means"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got.quats, exp["quats"], atol=1e-5)
    np.testing.assert_allclose(got.scales, exp["scales"], atol=1e-6)
    np.testing.assert_allclose(got.sh0, exp["sh0"], atol=1e-6)
    np.testing.assert_allclose(got.opacity_values(), exp["opacity"], atol=2e-6)
    np.testing.assert_allclose(got.shN, exp["shN"], atol=1e-6)


@pytest.mark.parametrize("sh_degree,n", [(0, 37), (1, 300), (3, 130)])
def test_sog_zip_decodes_every_attribute(tmp_path: Path, sh_degree: int, n: int) -> None:
    from scene.io import load, sniff

    cloud = random_cloud(n, sh_degree=sh_degree, seed=sh_degree)
    exp = build_sog(cloud, tmp_path / "s.sog", palette=min(n, 70))
    assert sniff(tmp_path / "s.sog") == "sog"
    got = load(tmp_path / "s.sog")
    assert len(got) == n and got.sh_degree == sh_degree and got.meta["format"] == "sog"
    _check(got, exp)
    # within SOG quantisation of the source: 16-bit log positions, 8-bit codebooks
    np.testing.assert_allclose(got.means, cloud.means, atol=2e-4)
    np.testing.assert_allclose(got.sh0, cloud.sh0, atol=0.01)
    assert np.abs(np.abs((got.quats * cloud.quats).sum(1)) - 1).max() < 2e-3


def test_sog_meta_json_with_loose_textures_and_antialias_flag(tmp_path: Path) -> None:
    from scene.io import load, resolve_format

    cloud = random_cloud(90, sh_degree=2, seed=7)
    exp = build_sog(cloud, tmp_path / "scene", bundle=False, antialiased=True)
    path = tmp_path / "scene" / "meta.json"
    assert resolve_format(path) == "sog"
    got = load(path)
    _check(got, exp)
    assert got.meta["antialiased"] is True


def _hostile(tmp_path: Path, edit, name: str = "bad.sog") -> Path:
    build_sog(random_cloud(100, sh_degree=1, seed=2), tmp_path / name, edit=edit)
    return tmp_path / name


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m, f: f.pop("quats.webp"), "lacks quats.webp"),
        (
            lambda m, f: f.update({"scales.webp": _webp(np.zeros((4, 4, 4), np.uint8))}),
            "too small for 100 splats",
        ),
        (
            lambda m, f: f.update({"sh0.webp": b"RIFF\x10\x00\x00\x00WEBPjunkjunk"}),
            "not a readable WebP",
        ),
        (lambda m, f: m["quats"].update(files=["../../etc/passwd"]), "unusable file"),
        (lambda m, f: m.pop("version"), r"first \(v1\) layout"),
        (lambda m, f: m.update(version=3), "version 3 is not supported"),
        (lambda m, f: m.update(count=10**12), "needs textures larger"),
        (lambda m, f: m.update(count=-4), "not a positive whole number"),
        (lambda m, f: m["scales"].update(codebook=[0.1] * 10), "beyond its 10-entry codebook"),
        (lambda m, f: m["shN"].update(bands=7), "bands '7'"),
        (lambda m, f: m["means"].update(mins=[1e9, 0, 0]), "means.mins / maxs"),
        (
            lambda m, f: f.update({"shN_centroids.webp": _webp(np.zeros((1, 64, 4), np.uint8))}),
            "should be 192 texels wide",
        ),
    ],
)
def test_bad_sog_is_one_clear_error(tmp_path: Path, edit, message: str) -> None:
    from scene.errors import SceneFormatError
    from scene.io import load

    with pytest.raises(SceneFormatError, match=message):
        load(_hostile(tmp_path, edit))


@pytest.mark.slow
def test_sog_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    """A member that unpacks to 64 MiB (a few KiB in the zip) for a 100-splat scene."""
    from scene.errors import SceneFormatError
    from scene.io import load

    path = _hostile(tmp_path, None)
    with zipfile.ZipFile(path) as zin:
        members = {n: zin.read(n) for n in zin.namelist() if n != "quats.webp"}
    with zipfile.ZipFile(path, "w") as zout:
        for n, d in members.items():
            zout.writestr(n, d)
        with zout.open(zipfile.ZipInfo("quats.webp"), "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(64):
                f.write(block)
    # ZipInfo defaults to stored: recompress with deflate to make it a real bomb
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            zout.writestr(info.filename, data)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(SceneFormatError, match="zip bomb"):
        load(path)


def test_a_damaged_sog_is_called_damaged(tmp_path: Path) -> None:
    """A truncated .sog, or a zip without meta.json named .sog, said "is a zip archive, not
    a splat or mesh file" (a SOG is a zip), and a texture that is no image named a memory
    address (Pillow's "<_io.BytesIO object at 0x7f…>"): a trial."""
    from scene.errors import SceneFormatError
    from scene.io import load

    good = _hostile(tmp_path, None, "good.sog")
    cut = tmp_path / "cut.sog"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SceneFormatError, match="damaged or truncated"):
        load(cut)
    bare = tmp_path / "bare.sog"
    with zipfile.ZipFile(bare, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(SceneFormatError, match="lacks meta.json"):
        load(bare)
    junk = _hostile(tmp_path, lambda m, f: f.update({"quats.webp": b"not an image at all"}))
    with pytest.raises(SceneFormatError, match=r"quats.webp is not a readable WebP") as err:
        load(junk)
    assert "0x" not in str(err.value) and "unrecognised image data" in str(err.value)


def test_lod_meta_and_missing_loose_texture(tmp_path: Path) -> None:
    from scene.errors import SceneFormatError
    from scene.io import load

    build_sog(random_cloud(50), tmp_path / "d", bundle=False)
    (tmp_path / "d" / "scales.webp").unlink()
    with pytest.raises(SceneFormatError, match="scales.webp is missing beside meta.json"):
        load(tmp_path / "d" / "meta.json")
    lod = tmp_path / "lod-meta.json"
    lod.write_text('{"lodLevels": 3, "means": {}, "quats": {}}')
    with pytest.raises(SceneFormatError, match="streamed SOG"):
        load(lod)


@pytest.mark.slow
def test_convert_bad_sog_prints_one_line(tmp_path: Path) -> None:
    import sys

    path = _hostile(tmp_path, lambda m, f: f.pop("means_u.webp"))
    r = subprocess.run(
        [sys.executable, "main.py", "convert", str(path), str(tmp_path / "o.ply")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "means_u.webp" in r.stderr
    assert not (tmp_path / "o.ply").exists()


# ------------------------------------------------------------ splat-transform, the peer
def splat_transform() -> list[str] | None:
    """The splat-transform command line, or None when node or the package is absent."""
    exe = (
        os.environ.get("WANDER_SPLAT_TRANSFORM")
        or shutil.which("splat-transform")
        or "/work/node_peers/node_modules/.bin/splat-transform"
    )
    if not shutil.which("node") or not Path(exe).is_file():
        return None
    return [exe]


def _run_peer(args: list[str], cwd: Path) -> None:
    cmd = splat_transform()
    r = subprocess.run([*cmd, "-w", *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


needs_peer = pytest.mark.skipif(
    splat_transform() is None, reason="splat-transform (node + @playcanvas/splat-transform) absent"
)


@needs_peer
@pytest.mark.slow
@pytest.mark.parametrize("sh_degree,out", [(1, "out.sog"), (0, "loose/meta.json")])
def test_sog_written_by_splat_transform_opens_right(
    tmp_path: Path, sh_degree: int, out: str
) -> None:
    """`splat-transform in.ply out.sog` -> Wander: the count, values equal to
    splat-transform's own decode (read with plyfile), and the source's values within SOG
    quantisation (SOG reorders splats along a Morton curve: matched by position)."""
    from plyfile import PlyData
    from scipy.spatial import cKDTree

    from scene.io import load, save

    src = random_cloud(600, sh_degree=sh_degree, seed=11)
    save(src, tmp_path / "in.ply")
    (tmp_path / "loose").mkdir()
    _run_peer(["-g", "cpu", "-i", "1", "in.ply", out], tmp_path)
    got = load(tmp_path / out)
    assert len(got) == 600 and got.sh_degree == sh_degree and got.meta["format"] == "sog"
    # 1) the peer's own decoder, read by an independent PLY reader
    _run_peer([out, "dec.ply"], tmp_path)
    v = PlyData.read(str(tmp_path / "dec.ply"))["vertex"]
    col = lambda *names: np.stack([np.asarray(v[n], np.float64) for n in names], 1)  # noqa: E731
    np.testing.assert_allclose(got.means, col("x", "y", "z"), atol=1e-6)
    np.testing.assert_allclose(got.scales, col("scale_0", "scale_1", "scale_2"), atol=1e-6)
    np.testing.assert_allclose(got.sh0, col("f_dc_0", "f_dc_1", "f_dc_2"), atol=1e-6)
    np.testing.assert_allclose(got.opacities, np.asarray(v["opacity"]), atol=1e-4)
    peer_q = col("rot_0", "rot_1", "rot_2", "rot_3")
    peer_q /= np.linalg.norm(peer_q, axis=1, keepdims=True)
    assert np.abs(np.abs((got.quats * peer_q).sum(1)) - 1).max() < 1e-5
    if sh_degree:
        k = got.shN.shape[1]
        rest = col(*[f"f_rest_{i}" for i in range(3 * k)]).reshape(600, 3, k).transpose(0, 2, 1)
        np.testing.assert_allclose(got.shN, rest, atol=1e-6)
    # 2) the source, within SOG's quantisation
    dist, idx = cKDTree(src.means).query(got.means)
    assert len(set(idx.tolist())) == 600 and dist.max() < 2e-3
    s = src.subset(idx)
    assert np.abs(s.scales - got.scales).max() < 0.03
    assert np.abs(s.sh0 - got.sh0).max() < 0.03
    assert np.abs(s.opacity_values() - got.opacity_values()).max() < 0.005
    assert (
        np.abs(
            np.abs((s.quats / np.linalg.norm(s.quats, axis=1, keepdims=True) * got.quats).sum(1))
            - 1
        ).max()
        < 2e-3
    )
