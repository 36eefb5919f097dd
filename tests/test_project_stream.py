"""Project layers are streamed: a save encodes each cloud straight into its zip entry and
a load decodes the entry's rows straight into the layer's arrays (issue 18 item 4), with
the same bytes and the same checks as reading / writing the entry whole."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
from conftest import random_cloud

from scene.io.ply import ply_bytes
from scene.project import load_project, save_project
from scene.world import Layer, World

FIELDS = ("means", "scales", "quats", "opacities", "sh0", "shN")


def _world(*clouds) -> World:
    w = World()
    for i, c in enumerate(clouds):
        w.add_layer(Layer(f"layer {i}", c))
    return w


def _same(a, b) -> None:
    for f in FIELDS:
        assert np.array_equal(getattr(a, f), getattr(b, f)), f


def test_saved_entry_is_the_ply_encoder_bytes_with_writestr_header(tmp_path):
    aa = random_cloud(77, sh_degree=1, seed=3)
    aa.meta["antialiased"] = True
    clouds = [random_cloud(500, sh_degree=3, seed=1), aa, random_cloud(5, sh_degree=0, seed=2)]
    p = tmp_path / "s.wander"
    save_project(_world(*clouds), p)
    with zipfile.ZipFile(p) as zf:
        for lay, c in zip(load_project(p)[0].layers, clouds):
            info = zf.getinfo(f"layers/{lay.id}.ply")
            assert zf.read(info) == ply_bytes(c)  # CRC checked by zipfile too
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.external_attr == 0o600 << 16  # what writestr gives
            assert not info.flag_bits & 0x08  # sizes in the local header, no descriptor
            assert info.file_size == len(ply_bytes(c))
            _same(lay.data, c)


def _traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_load_and_save_do_not_hold_the_layer_entry_whole(tmp_path):
    c = random_cloud(40_000, sh_degree=3, seed=4)  # a ~10 MB entry
    entry = len(ply_bytes(c))
    p = tmp_path / "m.wander"
    save_peak = _traced_peak(lambda: save_project(_world(c), p))
    assert save_peak < 0.6 * entry  # a 4 MB block of rows (was a whole encoded copy, or two)
    got: list = []
    load_peak = _traced_peak(lambda: got.append(load_project(p)[0]))
    # the layer's arrays (0.95 of the entry) and a block; reading the entry first cost ~2x
    assert load_peak < 1.4 * entry
    _same(got[0].layers[0].data, c)


def _rewrite_entry(p: Path, out: Path, name: str, edit) -> None:
    """Copy project `p` to `out` with entry `name`'s bytes replaced by `edit(bytes)`,
    stored (the raw bytes kept as given, CRC of the new bytes unless `edit` says)."""
    with zipfile.ZipFile(p) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, edit(data) if info.filename == name else data)


def test_a_damaged_streamed_layer_is_skipped_after_its_crc_fails(tmp_path):
    a, b = random_cloud(3000, sh_degree=2, seed=5), random_cloud(10, seed=6)
    p = tmp_path / "d.wander"
    save_project(_world(a, b), p)
    bad = tmp_path / "bad.wander"
    _rewrite_entry(p, bad, "layers/1.ply", lambda d: d)
    # flip a byte in the rows after the zip is written: its CRC no longer matches
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("layers/1.ply")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw = bytearray(bad.read_bytes())
    raw[start + info.file_size - 100] ^= 0xFF  # in the last rows, decoded before the check
    bad.write_bytes(bytes(raw))
    w, warnings = load_project(bad)
    assert [lay.name for lay in w.layers] == ["layer 1"]
    assert any("layers/1.ply" in m and "CRC" in m and "skipped" in m for m in warnings), warnings


def test_a_cut_short_layer_opens_the_rows_it_holds(tmp_path):
    c = random_cloud(1000, sh_degree=3, seed=7)
    p = tmp_path / "c.wander"
    save_project(_world(c), p)
    out = tmp_path / "cut.wander"
    stride = 4 * 62
    _rewrite_entry(p, out, "layers/1.ply", lambda d: d[: len(d) - 300 * stride - 17])
    w, warnings = load_project(out)
    got = w.layers[0].data
    assert len(got) == 699
    for f in FIELDS:
        assert np.array_equal(getattr(got, f), getattr(c, f)[:699]), f
    assert any("says it holds 1,000 splats" in m and "699" in m for m in warnings), warnings
