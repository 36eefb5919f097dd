"""GaussianSplats3D `.ksplat`, read by scene.io.ksplat at compression levels 0, 1, 2.

Files are built here with the layout of GaussianSplats3D's `SplatBuffer.js`
(`generateFromUncompressedSplatArrays`: header, section headers, partially-filled bucket
lengths, bucket centres, splats bucket by bucket). Values are checked against the source
within each level's quantisation and, when splat-transform is present (see
test_format_sog.py), against splat-transform's own .ksplat reader through plyfile.
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import random_cloud
from test_format_sog import needs_peer, splat_transform

C0 = 0.28209479177387814
LEVEL_RANGE = {0: 1, 1: 32767, 2: 32767}


def _buckets(
    means: np.ndarray, block: float, size: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Splat indices grouped by grid cell, cut into buckets of `size`: (full, partial),
    each with the cell centre, as computeBucketsForUncompressedSplatArray does."""
    cells = np.floor(means / block).astype(np.int64)
    full, partial = [], []
    for key in np.unique(cells, axis=0):
        idx = np.nonzero((cells == key).all(1))[0]
        centre = (key + 0.5) * block
        for s in range(0, len(idx), size):
            part = idx[s : s + size]
            (full if len(part) == size else partial).append((part, centre))
    return full, partial


def build_ksplat(
    sections: list,
    level: int,
    path: Path,
    *,
    block: float = 1.0,
    bucket_size: int = 16,
    sh_degree: int | None = None,
) -> list[np.ndarray]:
    """Write clouds (one per section) as .ksplat; returns each section's splat order."""
    deg = max(c.sh_degree for c in sections) if sh_degree is None else sh_degree
    nsh = {0: 0, 1: 9, 2: 24}[deg]
    all_sh = (
        np.concatenate([c.shN[:, : {0: 0, 1: 3, 2: 8}[deg]].reshape(-1) for c in sections])
        if nsh
        else np.zeros(1)
    )
    sh_min, sh_max = float(all_sh.min()), float(all_sh.max())
    sec_headers, sec_blobs, orders = [], [], []
    rng = LEVEL_RANGE[level]
    for c in sections:
        n = len(c)
        if level == 0:
            order, partial_len = np.arange(n), []
            centres = np.zeros((0, 3))
            nfull = npart = 0
        else:
            full, part = _buckets(c.means.astype(np.float64), block, bucket_size)
            order = np.concatenate([b for b, _ in full + part])
            centres = np.array([ctr for _, ctr in full + part])
            partial_len = [len(b) for b, _ in part]
            nfull, npart = len(full), len(part)
            bucket_of = np.concatenate([np.full(len(b), i) for i, (b, _) in enumerate(full + part)])
        cs = c.subset(order)
        rows = []
        q = cs.quats / np.linalg.norm(cs.quats, axis=1, keepdims=True)  # w x y z
        ftype = "<f4" if level == 0 else "<f2"
        if level == 0:
            rows.append(cs.means.astype("<f4").view(np.uint8).reshape(n, 12))
        else:
            factor = rng / (block * 0.5)
            d = cs.means.astype(np.float64) - centres[bucket_of]
            u = np.clip(np.round(d * factor) + rng, 0, 2 * rng + 1).astype("<u2")
            rows.append(u.view(np.uint8).reshape(n, 6))
        rows.append(
            np.exp(cs.scales.astype(np.float64)).astype(ftype).view(np.uint8).reshape(n, -1)
        )
        rows.append(q.astype(ftype).view(np.uint8).reshape(n, -1))
        rgb = np.clip(np.floor((0.5 + C0 * cs.sh0.astype(np.float64)) * 255), 0, 255)
        a = np.clip(np.floor(255 / (1 + np.exp(-cs.opacities.astype(np.float64)))), 0, 255)
        rows.append(np.concatenate([rgb, a[:, None]], 1).astype(np.uint8))
        if nsh:
            sh = cs.with_sh_degree(deg).shN  # (n, K, 3)
            vals = [sh[:, 0:3, ch] for ch in range(3)]
            if deg == 2:
                vals += [sh[:, 3:8, ch] for ch in range(3)]
            flat = np.concatenate(vals, 1).astype(np.float64)  # R0..2 G0..2 B0..2 [R3..7 ...]
            if level == 2:
                u8 = np.clip(
                    np.floor((np.clip(flat, sh_min, sh_max) - sh_min) / (sh_max - sh_min) * 255),
                    0,
                    255,
                )
                rows.append(u8.astype(np.uint8))
            else:
                rows.append(flat.astype(ftype).view(np.uint8).reshape(n, -1))
        data = np.concatenate(rows, 1)
        bucket_bytes = (
            b""
            if level == 0
            else (np.asarray(partial_len, "<u4").tobytes() + centres.astype("<f4").tobytes())
        )
        blob = bucket_bytes + data.tobytes()
        h = bytearray(1024)
        struct.pack_into(
            "<IIIIf",
            h,
            0,
            n,
            n,
            bucket_size if level else 0,
            len(centres) if level else 0,
            block if level else 0.0,
        )
        struct.pack_into("<H", h, 20, 12 if level else 0)
        struct.pack_into("<IIII", h, 24, rng if level else 0, len(blob), nfull, npart)
        struct.pack_into("<H", h, 40, deg)
        sec_headers.append(bytes(h))
        sec_blobs.append(blob)
        orders.append(order)
    total = sum(len(c) for c in sections)
    head = bytearray(4096)
    head[0], head[1] = 0, 1
    struct.pack_into("<IIII", head, 4, len(sections), len(sections), total, total)
    struct.pack_into("<H", head, 20, level)
    struct.pack_into("<fffff", head, 24, 0.0, 0.0, 0.0, sh_min, sh_max)
    path.write_bytes(bytes(head) + b"".join(sec_headers) + b"".join(sec_blobs))
    return orders


@pytest.mark.parametrize("level", [0, 1, 2])
@pytest.mark.parametrize("sh_degree", [0, 1, 2])
def test_ksplat_levels_and_sh(tmp_path: Path, level: int, sh_degree: int) -> None:
    from scene.io import load, sniff

    a = random_cloud(300, sh_degree=sh_degree, seed=level * 3 + sh_degree)
    b = random_cloud(77, sh_degree=sh_degree, seed=50 + level)
    b.means += 5.0  # another section, elsewhere
    path = tmp_path / "s.ksplat"
    orders = build_ksplat([a, b], level, path)
    assert sniff(path) == "ksplat"
    got = load(path)
    assert len(got) == 377 and got.sh_degree == sh_degree and got.meta["format"] == "ksplat"
    src = GaussianCloudConcat([a.subset(orders[0]), b.subset(orders[1])])
    pos_tol = 1e-6 if level == 0 else 0.5 / LEVEL_RANGE[level] * 1.01 + 1e-6
    np.testing.assert_allclose(got.means, src.means, atol=pos_tol)
    s_tol = 1e-5 if level == 0 else 2e-3  # log of a float16 linear scale
    np.testing.assert_allclose(got.scales, src.scales, atol=s_tol)
    qs = src.quats / np.linalg.norm(src.quats, axis=1, keepdims=True)
    assert np.abs(np.abs((got.quats * qs).sum(1)) - 1).max() < (1e-6 if level == 0 else 2e-3)
    assert np.abs(got.sh0 - src.sh0).max() <= 1 / 255 / C0 + 1e-5  # floor to a byte
    assert np.abs(got.opacity_values() - src.opacity_values()).max() <= 1 / 255 + 1e-6
    if sh_degree:
        sh_tol = {0: 1e-6, 1: 1e-3, 2: (0.6 / 255) + 1e-6}[level]  # float16 / 8-bit in range
        np.testing.assert_allclose(got.shN, src.shN, atol=sh_tol)


def GaussianCloudConcat(clouds):  # noqa: N802 - reads like the class it builds
    from scene.gaussians import GaussianCloud

    return GaussianCloud.concatenate(clouds)


@pytest.mark.parametrize(
    "cut,message",
    [
        (lambda d: d[:-100], "truncated"),
        (lambda d: d[:5000], "cannot hold"),
        (lambda d: d[:100], "smaller than a .ksplat header"),
        (lambda d: d[:20] + struct.pack("<H", 7) + d[22:], "compression level 7"),
        (lambda d: d[:4] + struct.pack("<I", 10**6) + d[8:], "claims 1000000 sections"),
        (lambda d: d[:1] + b"\x00" + d[2:], "version 0.0"),
    ],
)
def test_bad_ksplat_is_one_clear_error(tmp_path: Path, cut, message: str) -> None:
    from scene.errors import SceneFormatError
    from scene.io.ksplat import read_ksplat

    path = tmp_path / "s.ksplat"
    build_ksplat([random_cloud(200, sh_degree=1)], 1, path)
    path.write_bytes(cut(path.read_bytes()))
    with pytest.raises(SceneFormatError, match=message):
        read_ksplat(path)


@needs_peer
@pytest.mark.slow
@pytest.mark.parametrize("level", [0, 2])
def test_ksplat_matches_splat_transform_reader(tmp_path: Path, level: int) -> None:
    """splat-transform's own .ksplat reader (its output read with plyfile) agrees."""
    from plyfile import PlyData

    from scene.io import load

    path = tmp_path / "s.ksplat"
    build_ksplat([random_cloud(250, sh_degree=2, seed=9)], level, path)
    r = subprocess.run(
        [*splat_transform(), "-w", "s.ksplat", "dec.ply"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    v = PlyData.read(str(tmp_path / "dec.ply"))["vertex"]
    got = load(path)
    col = lambda *names: np.stack([np.asarray(v[n], np.float64) for n in names], 1)  # noqa: E731
    np.testing.assert_allclose(got.means, col("x", "y", "z"), atol=1e-5)
    np.testing.assert_allclose(got.scales, col("scale_0", "scale_1", "scale_2"), atol=1e-5)
    np.testing.assert_allclose(got.sh0, col("f_dc_0", "f_dc_1", "f_dc_2"), atol=1e-5)
    np.testing.assert_allclose(got.opacities, np.asarray(v["opacity"]), atol=1e-4)
    rest = col(*[f"f_rest_{i}" for i in range(24)]).reshape(250, 3, 8).transpose(0, 2, 1)
    np.testing.assert_allclose(got.shN, rest, atol=1e-5)
