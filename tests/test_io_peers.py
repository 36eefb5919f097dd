"""Files written by peers load with our readers: gsplat's exporter (ply, splat,
ply_compressed), plus the CLI path `convert a.ply b.splat && info b.splat --json`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, random_cloud

import scene.io as sio
from scene.gaussians import GaussianCloud, sigmoid
from scene.sh import C0

torch = pytest.importorskip("torch", reason="PyTorch is optional (torch extra)")
exporter = pytest.importorskip("gsplat.exporter", reason="gsplat is optional (cuda extra)")


def gsplat_export(c: GaussianCloud, fmt: str, path) -> None:
    """gsplat's own exporter: sh0 (N, 1, 3) and shN (N, K, 3), torch CPU tensors."""
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    exporter.export_splats(
        t(c.means),
        t(c.scales),
        t(c.quats),
        t(c.opacities),
        t(c.sh0[:, None, :]),
        t(c.shN),
        format=fmt,
        save_to=str(path),
    )


def match_by_position(ref: GaussianCloud, got: GaussianCloud) -> GaussianCloud:
    """Reorder `ref` so row i is the splat nearest to got.means[i] (peers reorder splats)."""
    from scipy.spatial import cKDTree

    _, idx = cKDTree(ref.means).query(got.means)
    assert len(np.unique(idx)) == len(got), "splats did not match one to one"
    return ref.subset(idx)


def unit(q):
    return q / np.linalg.norm(q, axis=1, keepdims=True)


@pytest.mark.parametrize("deg", [0, 1, 3])
def test_gsplat_ply_loads_exactly(tmp_path, deg):
    c = random_cloud(500, deg, seed=deg)
    gsplat_export(c, "ply", tmp_path / "g.ply")
    d = sio.load_cloud(tmp_path / "g.ply")
    assert d.sh_degree == deg
    for name in ("means", "scales", "quats", "opacities", "sh0", "shN"):
        np.testing.assert_array_equal(getattr(d, name), getattr(c, name), err_msg=name)


def test_gsplat_splat_loads_within_quantisation(tmp_path):
    c = random_cloud(500, 0, seed=4)
    gsplat_export(c, "splat", tmp_path / "g.splat")
    d = sio.load_cloud(tmp_path / "g.splat")
    assert len(d) == 500
    r = match_by_position(c, d)
    np.testing.assert_array_equal(d.means, r.means)
    np.testing.assert_allclose(d.scales, r.scales, atol=1e-5)
    # gsplat truncates (x * 255 -> uint8) instead of rounding: error below 1/255
    rgb = np.clip(0.5 + C0 * r.sh0, 0, 1)
    np.testing.assert_allclose(0.5 + C0 * d.sh0, rgb, atol=1 / 255 + 1e-6)
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(r.opacities), atol=1 / 255 + 1e-6)
    dot = np.abs((unit(d.quats) * unit(r.quats)).sum(1))
    assert (1 - dot).max() < 3e-4  # truncated 8-bit components (1/128 each)


@pytest.mark.slow
@pytest.mark.parametrize("deg", [0, 3])
def test_gsplat_compressed_ply_loads_within_quantisation(tmp_path, deg):
    c = random_cloud(1000, deg, seed=7)
    c.opacities = np.clip(c.opacities, -2.5, None)  # gsplat drops splats with alpha < 1/255
    gsplat_export(c, "ply_compressed", tmp_path / "g.compressed.ply")
    d = sio.load_cloud(tmp_path / "g.compressed.ply")
    assert d.meta["format"] == "ply_compressed" and len(d) == 1000 and d.sh_degree == deg
    r = match_by_position(c, d)
    ext = float((c.means.max(0) - c.means.min(0)).max())
    np.testing.assert_allclose(d.means, r.means, atol=ext / 2046 + 1e-5)
    sext = float((c.scales.max(0) - c.scales.min(0)).max())
    np.testing.assert_allclose(d.scales, r.scales, atol=sext / 2046 + 1e-5)
    rgb = 0.5 + C0 * r.sh0
    cext = float((rgb.max(0) - rgb.min(0)).max())
    np.testing.assert_allclose(0.5 + C0 * d.sh0, rgb, atol=cext / 510 + 1e-5)
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(r.opacities), atol=0.5 / 255 + 1e-6)
    dot = np.abs((unit(d.quats) * unit(r.quats)).sum(1))
    assert (1 - dot).max() < 2e-5
    if deg:
        np.testing.assert_allclose(d.shN, r.shN, atol=1 / 64 + 1e-6)


def test_our_compressed_ply_matches_gsplat_bytes_layout(tmp_path):
    """Our writer and gsplat's agree on the header and on the per-splat packing."""
    c = random_cloud(256, 1, seed=9)
    gsplat_export(c, "ply_compressed", tmp_path / "g.compressed.ply")
    sio.save(c, tmp_path / "o.compressed.ply")
    hg = (tmp_path / "g.compressed.ply").read_bytes().split(b"end_header")[0]
    ho = (tmp_path / "o.compressed.ply").read_bytes().split(b"end_header")[0]
    assert hg == ho
    a, b = sio.load(tmp_path / "g.compressed.ply"), sio.load(tmp_path / "o.compressed.ply")
    order_a, order_b = np.lexsort(a.means.T), np.lexsort(b.means.T)
    np.testing.assert_allclose(a.means[order_a], b.means[order_b], atol=1e-6)
    np.testing.assert_allclose(a.shN[order_a], b.shN[order_b], atol=1e-6)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_cli_convert_gsplat_ply_to_splat_then_info(tmp_path):
    c = random_cloud(300, 3, seed=11)
    gsplat_export(c, "ply", tmp_path / "a.ply")
    res = _cli("convert", str(tmp_path / "a.ply"), str(tmp_path / "b.splat"))
    assert res.returncode == 0, res.stderr
    res = _cli("info", str(tmp_path / "b.splat"), "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["format"] == "splat" and info["count"] == 300 and info["sh_degree"] == 0
    np.testing.assert_allclose(info["bounds_min"], c.means.min(0), atol=1e-6)
    np.testing.assert_allclose(info["bounds_max"], c.means.max(0), atol=1e-6)
    d = sio.load(tmp_path / "b.splat")
    r = match_by_position(c, d)
    np.testing.assert_allclose(sigmoid(d.opacities), sigmoid(r.opacities), atol=0.5 / 255 + 1e-6)


@pytest.mark.slow
def test_cli_convert_options_and_errors(tmp_path):
    c = random_cloud(100, 3)
    sio.save(c, tmp_path / "a.ply")
    res = _cli("convert", str(tmp_path / "a.ply"), str(tmp_path / "b.spz"), "--sh-degree", "1")
    assert res.returncode == 0, res.stderr
    assert sio.load(tmp_path / "b.spz").sh_degree == 1
    res = _cli("info", str(tmp_path / "b.spz"))
    assert res.returncode == 0 and "SH degree: 1" in res.stdout
    (tmp_path / "bad.ply").write_bytes(
        b"ply\nformat binary_little_endian 1.0\nelement vertex 5\n"
        b"property float x\nproperty float y\nproperty float z\nend_header\n" + bytes(8)
    )
    res = _cli("info", str(tmp_path / "bad.ply"))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.ply" in lines[0] and "holds only" in lines[0]
