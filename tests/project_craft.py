"""Helpers that craft hostile `.wander` files for the safety tests (kinds 1-3 of issue 11).

`raw_zip` writes zip structures by hand so a test can declare any sizes, leave out the
central directory, or store a pre-made deflate stream (a bomb) without inflating it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zero_bomb(mb: int) -> tuple[bytes, int, int]:
    """A raw deflate stream of `mb` MiB of zeros, built without compressing it all:
    (stream, uncompressed size, crc32). Ratio about 1000:1."""
    chunk = b"\0" * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (mb - 1) + c.flush()
    crc = 0
    for _ in range(mb):
        crc = zlib.crc32(chunk, crc)
    return stream, mb << 20, crc & 0xFFFFFFFF


def raw_zip(path: Path, entries: list[tuple[Any, ...]], central: bool = True) -> Path:
    """Write a zip by hand. Each entry is (name, data) — stored as is — or
    (name, raw, method, usize, crc) with `raw` already compressed (method 8) and any
    declared size. `central=False` leaves out the central directory."""
    out = bytearray()
    cdir = bytearray()
    for e in entries:
        if len(e) == 2:
            name, data = e
            raw, method, usize, crc = data, 0, len(data), zlib.crc32(data) & 0xFFFFFFFF
        else:
            name, raw, method, usize, crc = e
        nb = name.encode()
        off = len(out)
        out += (
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(raw), usize, len(nb), 0
            )
            + nb
            + raw
        )
        cdir += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(raw),
                usize,
                len(nb),
                0,
                0,
                0,
                0,
                0,
                off,
            )
            + nb
        )
    if central:
        start = len(out)
        out += cdir + struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cdir), start, 0
        )
    path.write_bytes(bytes(out))
    return path


def cloud_ply(n: int = 30, seed: int = 0, sh_degree: int = 0) -> bytes:
    from conftest import random_cloud

    from scene.io.ply import ply_bytes

    return ply_bytes(random_cloud(n, sh_degree=sh_degree, seed=seed))


def manifest(**fields: Any) -> dict[str, Any]:
    man: dict[str, Any] = {
        "format": "wander-project",
        "format_version": "1.1",
        "app_version": "0.1.0",
        "up_axis": [0, 1, 0],
        "meta": {},
        "bookmarks": [],
        "layers": [],
        "inputs": [],
        "arrays": [],
    }
    man.update(fields)
    return man


def layer_entry(lid: Any = 1, file: str = "layers/1.ply", **more: Any) -> dict[str, Any]:
    e = {
        "id": lid,
        "name": f"layer {lid}",
        "kind": "world",
        "transform": [[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]],
        "visible": True,
        "source": {},
        "data": "cloud",
        "file": file,
        "data_meta": {},
    }
    e.update(more)
    return e


def project(
    path: Path,
    man: dict[str, Any] | str,
    files: dict[str, bytes] | None = None,
    central: bool = True,
) -> Path:
    """A project zip: the manifest (dict, or raw JSON text; deflated) then `files` (stored)."""
    body = (man if isinstance(man, str) else json.dumps(man)).encode()
    entry = ("manifest.json", deflate(body), 8, len(body), zlib.crc32(body) & 0xFFFFFFFF)
    return raw_zip(path, [entry] + list((files or {}).items()), central=central)


def simple_project(path: Path, **fields: Any) -> Path:
    """A valid one-layer project with extra manifest fields."""
    man = manifest(layers=[layer_entry()])
    man.update(fields)
    return project(path, man, {"layers/1.ply": cloud_ply()})


def fake_home(tmp: Path) -> dict[str, str]:
    """Environment for a CLI run whose HOME is a fresh folder under `tmp` (with a .bashrc
    and .ssh to overwrite), all XDG folders defaulting inside it."""
    home = tmp / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".bashrc").write_text("# the user's own bashrc\n")
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAA user\n")
    (home / "Pictures").mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "WANDER_")) and k not in ("HOME",)
    }
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), WANDER_NO_DIALOGS="1")
    return env


WANDER_OWN = (
    ".cache/wander",
    ".local/share/wander",
    ".local/state/wander",
    ".config/wander",
    ".config/Wander",
)
#: the folders above Wander's own, which creating those may create (empty otherwise)
_OWN_PARENTS = {
    os.path.normpath(os.path.join(*parts[:i]))
    for own in WANDER_OWN
    for parts in [own.split("/")]
    for i in range(1, len(parts))
}


def snapshot(folder: Path, skip: tuple[str, ...] = WANDER_OWN) -> dict[str, tuple[bytes, int]]:
    """Every file (and link) under `folder` except Wander's own folders: path -> (bytes, mode)."""
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirs, files in os.walk(folder):
        rel = os.path.relpath(dirpath, folder)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel, d)) not in skip]
        for f in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, f)
            key = os.path.normpath(os.path.join(rel, f))
            if os.path.islink(p):
                out[key] = (os.readlink(p).encode(), 0)
            else:
                with open(p, "rb") as fh:
                    out[key] = (fh.read(), os.stat(p).st_mode)
        for d in dirs:
            key = os.path.normpath(os.path.join(rel, d))
            if key not in _OWN_PARENTS or skip != WANDER_OWN:
                out.setdefault(key + "/", (b"", 0))
    return out


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_peak(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300
) -> tuple[subprocess.CompletedProcess, int]:
    """Run the CLI in a fresh wrapper process; also return the child's peak RSS in bytes."""
    code = (
        "import resource, subprocess, sys; "
        "p = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
        "sys.exit(p.returncode)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, sys.executable, str(ROOT / "main.py"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = res.stderr.strip().splitlines()
    peak = int(lines[-1]) * 1024
    res.stderr = "\n".join(lines[:-1])
    return res, peak
