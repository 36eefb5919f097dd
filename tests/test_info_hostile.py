"""`info` of a crafted project says what loading it will find, not what its manifest
claims: splat counts, layers the loader refuses or cuts short, bookmarks it skips, and
input names as the loader uses them."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

from project_craft import (
    ROOT,
    cloud_ply,
    deflate,
    layer_entry,
    manifest,
    project,
    raw_zip,
    zero_bomb,
)

from scene.io.plyheader import parse_header


def _info(path: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "info", str(path), *more],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_info_checks_each_layers_header_against_the_manifest_and_the_zip(tmp_path: Path) -> None:
    ply = cloud_ply(40)
    row = (len(ply) - parse_header(ply, "x").data_offset) // 40
    count = project(
        tmp_path / "count.wander",
        manifest(layers=[layer_entry(count=10**12)]),
        {"layers/1.ply": ply},
    )
    short = project(
        tmp_path / "short.wander",
        manifest(layers=[layer_entry(count=40)]),
        {"layers/1.ply": ply[: len(ply) - 20 * row]},  # 20 rows cut off
    )
    bomb, usize, crc = zero_bomb(200)
    body = json.dumps(manifest(layers=[layer_entry(count=40)])).encode()
    bombed = raw_zip(
        tmp_path / "bomb.wander",
        [
            ("manifest.json", deflate(body), 8, len(body), zlib.crc32(body) & 0xFFFFFFFF),
            ("layers/1.ply", bomb, 8, usize, crc),
        ],
    )
    whole = project(
        tmp_path / "ok.wander", manifest(layers=[layer_entry(count=40)]), {"layers/1.ply": ply}
    )
    cases = {
        count: "holds 40 splats, not the 1,000,000,000,000 listed",
        short: "the data of 20 of the 40 splats",
        bombed: "would inflate to 200.0 MB",
    }
    for path, what in cases.items():
        r = _info(path)
        assert r.returncode == 0, r.stderr
        assert what in r.stderr, (path.name, r.stderr)
    r = _info(whole)
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


def test_info_lists_bookmarks_and_inputs_as_loading_them_does(tmp_path: Path) -> None:
    man = manifest(
        layers=[layer_entry(count=40)],
        bookmarks=[
            {"name": "bad", "position": [float("nan"), 1.6, 0], "yaw": 0, "pitch": 0},
            {"name": "good", "position": [0, 1.6, 0], "yaw": 0, "pitch": 0},
            {"name": "far", "position": [1e30, 1.6, 0], "yaw": 0, "pitch": 0},
        ],
        inputs=[{"name": "../../../../tmp/ESCAPE3.jpg", "sha256": "0" * 64}],
    )
    path = project(tmp_path / "p.wander", json.dumps(man), {"layers/1.ply": cloud_ply(40)})
    r = _info(path, "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert [b["name"] for b in info["bookmarks"]] == ["good"]
    assert info["inputs"] == ["ESCAPE3.jpg"]


def test_info_says_what_the_app_makes_of_a_kind_a_version_and_a_turn(tmp_path: Path) -> None:
    """A layer of a kind this version does not know showed as "[banana]" (it opens as an
    object), a project of a newer major format looked openable (the app refuses it), and
    a turned object showed its position and scale but not its turn (a trial)."""
    lay = layer_entry(count=40)
    lay["kind"] = "banana"
    c, s_ = 0.9659258262890683, 0.25881904510252074  # 15° about +Y
    lay["transform"] = [[c, 0, s_, 1.0], [0, 1, 0, 0], [-s_, 0, c, -2.0], [0, 0, 0, 1]]
    man = manifest(layers=[lay])
    path = project(tmp_path / "p.wander", json.dumps(man), {"layers/1.ply": cloud_ply(40)})
    r = _info(path)
    assert r.returncode == 0, r.stderr
    assert "[object]" in r.stdout and "banana" not in r.stdout
    assert "at (+1.00, +0.00, -2.00), rotated 15.0° about (0, 1, 0), scale 1" in r.stdout
    assert "warning" not in r.stderr
    man["format_version"] = "9.0"
    path = project(tmp_path / "new.wander", json.dumps(man), {"layers/1.ply": cloud_ply(40)})
    r = _info(path)
    assert r.returncode == 0 and "cannot open it" in r.stderr, r.stderr
