"""`.wander` projects: one zip holding everything needed to restore a World.

Layout (entries in this order, so a truncated file still starts with its manifest):
  manifest.json     format + app version, up axis, world meta, bookmarks, layers
                    (id, name, kind, transform, visible, source incl. generator/options,
                    file), referenced inputs, arrays
  arrays/<n>.npy    numpy arrays found in meta / source (e.g. a panorama kept in memory)
  layers/<id>.ply   Gaussian layers: reference 3DGS PLY, float32 (lossless)
  layers/<id>.npz   mesh layers: vertices, faces, colours, uvs, texture
  inputs/<hash>_<name>  the photos / panorama a world came from (files named in meta/source)

`save_project` is atomic (temp file + fsync + os.replace): a failure mid-save leaves the
previous project intact. `load_project` returns (World, warnings): a newer major format
fails clearly, a newer minor one opens with a warning, a missing or corrupt layer file
is skipped with a warning naming it, and a truncated zip opens what it still holds.

A project is untrusted input. Loading it never writes outside Wander's input cache
(names and checksums from the manifest are validated, the final path must lie in its
cache folder), never reads a local file the manifest names, and is bounded in memory
(`MAX_EXPANSION` bytes beyond what the file physically holds, `MAX_LAYERS` layers,
`MAX_MANIFEST_BYTES`, `MAX_DEPTH`). Every problem is a warning or one
`SceneFormatError` naming the project and the entry. Saved manifests carry only the
file name of each input photo, never the sender's folders.

Autosave / crash recovery is plain functions here (no Qt) so it can be unit-tested:
`autosave_path`, `write_autosave`, `find_recovery`, `find_recoveries`, `discard_autosave`,
`discard_recovery`, `recover`. Each open document autosaves into its own slot (a
`doc_id`), so one crashed world's recovery file is never overwritten by another's, and
a small PNG thumbnail is written beside each recovery file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .camera import position_problem
from .errors import InvalidSceneError, SceneFormatError
from .files import atomic_write, sha256_file
from .gaussians import GaussianCloud
from .io.ply import (  # the one PLY encoder / layer decoder
    encode_ply,
    ply_size,
    read_ply_bytes,
    read_ply_stream,
)
from .mesh import Mesh
from .progress import Cancelled, Progress, ProgressFn, ProgressWriter, as_progress
from .rotations import decompose_similarity
from .world import Bookmark, Layer, World

log = logging.getLogger(__name__)

FORMAT_NAME = "wander-project"
FORMAT_VERSION = (1, 1)  # 1.1: inputs referenced by checksum ({"__input__": sha256}), names only
MANIFEST = "manifest.json"
EXTENSION = ".wander"
INPUT_EXTENSIONS = {
    ".png",
    ".jpg",
    ".jpeg",
    ".webp",
    ".tif",
    ".tiff",
    ".exr",
    ".hdr",
    ".bmp",
    ".heic",
    ".mp4",
    ".mov",
}
MAX_INPUT_BYTES = 1 << 30
# Limits on what opening a project may cost (bytes are uncompressed sizes).
MAX_MANIFEST_BYTES = 32 << 20  # manifest.json
MAX_DEPTH = 64  # nesting of lists/objects in the manifest
MAX_LAYERS = 1000  # layers restored from one project
MAX_ENTRY_BYTES = 8 << 30  # any one entry
MAX_EXPANSION = 128 << 20  # bytes produced beyond those the file physically holds
# (inflation, plus every re-use of an entry by another layer)
MAX_LAYER_ID = 2**31 - 1
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def app_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("wander")
    except (ImportError, PackageNotFoundError, ValueError):  # running from the source tree
        return "0.1.0"


# ======================================================================= encoding
class _Encoder:
    """JSON-safe encoding of meta/source values; arrays become separate .npy entries.

    `inputs` maps the path text of an input file stored in the project to its
    (sha256, file name); such values are written as `{"__input__": sha256, "name": ...}`
    so the manifest never carries the folder the photo lived in.
    """

    def __init__(self, inputs: dict[str, tuple[str, str]] | None = None) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.inputs = inputs or {}

    def value(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, int)):
            return v
        if isinstance(v, str):
            if v in self.inputs:
                digest, name = self.inputs[v]
                return {"__input__": digest, "name": name}
            return v
        if isinstance(v, float):
            return v if np.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.generic):
            return self.value(v.item())
        if isinstance(v, np.ndarray):
            name = f"arrays/{len(self.arrays)}.npy"
            self.arrays[name] = v
            return {"__npy__": name}
        if isinstance(v, Path):
            if str(v) in self.inputs:
                digest, name = self.inputs[str(v)]
                return {"__input__": digest, "name": name, "path": True}
            return {"__path__": str(v)}
        if isinstance(v, dict):
            if all(isinstance(k, str) for k in v):
                return {k: self.value(x) for k, x in v.items()}
            return {"__items__": [[self.value(k), self.value(x)] for k, x in v.items()]}
        if isinstance(v, tuple):
            return {"__tuple__": [self.value(x) for x in v]}
        if isinstance(v, (list, set, frozenset)):
            return [self.value(x) for x in v]
        return {"__unsupported__": type(v).__name__, "repr": repr(v)[:200]}


class _Decoder:
    """Turn manifest values back into Python values; anything malformed becomes a warning.

    Never raises: a tagged value of the wrong type (`{"__float__": [1]}`, `{"__tuple__": 5}`)
    is dropped (None) with a warning naming `where`.
    """

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        warnings: list[str],
        inputs: dict[str, str] | None = None,
    ) -> None:
        self.arrays, self.warnings = arrays, warnings
        self.inputs = inputs or {}  # sha256 -> restored path
        self.paths: set[str] = set()  # path texts decoded from the manifest

    def _bad(self, where: str, tag: str, v: Any) -> None:
        self.warnings.append(
            f"{where}: a {tag} value of the wrong type ({type(v).__name__}) was dropped"
        )

    def value(self, v: Any, where: str) -> Any:
        if isinstance(v, str):
            self.paths.add(v)
            return v
        if isinstance(v, float) and not math.isfinite(v):
            return v
        if isinstance(v, list):
            return [self.value(x, where) for x in v]
        if not isinstance(v, dict):
            return v
        if "__npy__" in v:
            key = v["__npy__"]
            if not isinstance(key, str):
                self._bad(where, "__npy__", key)
                return None
            arr = self.arrays.get(key)
            if arr is None:
                self.warnings.append(f"{where}: array {key[:80]} is missing from the project")
            return arr
        if "__input__" in v:
            digest, name = v["__input__"], v.get("name")
            if not isinstance(digest, str) or not isinstance(name, (str, type(None))):
                self._bad(where, "__input__", digest)
                return None
            got = self.inputs.get(digest.lower())
            if got is None:
                plain = _plain_name(name) or "?"
                self.warnings.append(
                    f"{where}: input {plain} is not in the project; kept its name only"
                )
                self.paths.add(plain)
                return plain
            return Path(got) if v.get("path") is True else got
        if "__path__" in v:
            p = v["__path__"]
            if not isinstance(p, str) or "\x00" in p:
                self._bad(where, "__path__", p)
                return None
            self.paths.add(p)
            return Path(p)
        if "__float__" in v:
            f = v["__float__"]
            try:
                if isinstance(f, bool) or not isinstance(f, (str, int, float)):
                    raise TypeError
                return float(f)
            except (TypeError, ValueError, OverflowError):
                self._bad(where, "__float__", f)
                return None
        if "__tuple__" in v:
            t = v["__tuple__"]
            if not isinstance(t, list):
                self._bad(where, "__tuple__", t)
                return None
            return tuple(self.value(x, where) for x in t)
        if "__items__" in v:
            items = v["__items__"]
            if not isinstance(items, list):
                self._bad(where, "__items__", items)
                return None
            out: dict[Any, Any] = {}
            for pair in items:
                if not (isinstance(pair, list) and len(pair) == 2):
                    self._bad(where, "__items__ entry", pair)
                    continue
                k = _hashable(self.value(pair[0], where))
                try:
                    out[k] = self.value(pair[1], where)
                except TypeError:  # an unhashable key (a dict)
                    self._bad(where, "__items__ key", k)
            return out
        if "__unsupported__" in v:
            self.warnings.append(
                f"{where}: a {str(v['__unsupported__'])[:40]} value could not "
                "be saved and was restored as text"
            )
            r = v.get("repr", "")
            return r if isinstance(r, str) else ""
        return {k: self.value(x, where) for k, x in v.items()}


def _hashable(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    return k


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _plain_name(text: Any) -> str | None:
    """A file name from untrusted text: the last component of any '/' or '\\' path.

    Returns None for anything that cannot be a plain file name ('', '.', '..', NUL,
    control characters, over 255 bytes).
    """
    if not isinstance(text, str):
        return None
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    if (
        name in ("", ".", "..")
        or any(ord(ch) < 32 for ch in name)
        or len(name.encode("utf-8", "surrogatepass")) > 255
    ):
        return None
    return name


# =================================================================== input files
def _input_candidates(v: Any, skip: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Strings in meta/source that name existing input files (photos, panoramas...).

    Texts in `skip` (paths that came from a project file rather than from this user's
    own work) are never looked at on disk.
    """
    out: list[str] = []
    if isinstance(v, (str, Path)):
        s = str(v)
        if s not in skip and len(s) < 4096 and Path(s).suffix.lower() in INPUT_EXTENSIONS:
            try:
                p = Path(s)
                if p.is_file() and p.stat().st_size <= MAX_INPUT_BYTES:
                    out.append(s)
            except (OSError, ValueError) as exc:
                log.debug("input candidate %r not usable: %s", s, exc)
    elif isinstance(v, dict):
        for x in v.values():
            out += _input_candidates(x, skip)
    elif isinstance(v, (list, tuple)):
        for x in v:
            out += _input_candidates(x, skip)
    return out


# ========================================================================= saving
def save_project(
    world: World,
    path: str | Path,
    *,
    extra: dict[str, Any] | None = None,
    include_inputs: bool = True,
    progress: Progress | ProgressFn | None = None,
) -> None:
    """Write `world` to a `.wander` project at `path` atomically.

    Input files referenced by path in `world.meta` or a layer's `source` (photos, the
    panorama) are copied in unless `include_inputs` is False (autosaves: the originals
    are still on disk); the manifest then names them by checksum and file name only.
    Paths listed in `world.untrusted_paths` (they came from an opened project) are
    never read. `extra` adds top-level manifest fields (autosave bookkeeping).

    `progress` (scene/progress.py) hears the bytes hashed, encoded and written; when it
    is cancelled the save raises `Cancelled` and writes nothing (the temp file is removed,
    any previous file at `path` is untouched).

    Raises InvalidSceneError for a layer that holds neither a cloud nor a mesh, and
    OSError when the file cannot be written (the previous file is then intact).
    """
    path = Path(path)
    prog = as_progress(progress)
    prog.update(0.0, f"Saving {path.name}")
    skip = frozenset(getattr(world, "untrusted_paths", ()) or ())
    inputs: list[dict[str, Any]] = []
    by_text: dict[str, tuple[str, str]] = {}
    files: dict[str, str] = {}  # stored entry -> local file to copy in
    candidates = (
        _input_candidates(world.meta, skip)
        + [x for lay in world.layers for x in _input_candidates(lay.source, skip)]
        if include_inputs
        else []
    )
    input_bytes = {s: _file_size(s) for s in dict.fromkeys(candidates)}
    payload_bytes = [_payload_size(lay.data) for lay in world.layers]
    hashing, writing = prog.split(
        [sum(input_bytes.values()), sum(payload_bytes) + sum(input_bytes.values()) + 1]
    )
    hashed = 0
    for s in candidates:
        if s in by_text:
            continue
        p = Path(s)
        name = _plain_name(p.name) or "input"
        hashing.update(hashed / max(sum(input_bytes.values()), 1), f"Reading {name}")
        hashed += input_bytes[s]
        digest = sha256_file(p)
        by_text[s] = (digest, name)
        stored = f"inputs/{digest[:12]}_{name}"
        if stored not in files:
            files[stored] = s
            inputs.append(
                {
                    "name": name,
                    "original": name,
                    "stored": stored,
                    "sha256": digest,
                    "size": p.stat().st_size,
                }
            )
    enc = _Encoder(by_text)
    layers_json, payloads = [], []
    for lay in world.layers:
        if isinstance(lay.data, GaussianCloud):
            entry = f"layers/{int(lay.id)}.ply"
            payloads.append((entry, lay.data))
            data_type, count = "cloud", len(lay.data)
        elif isinstance(lay.data, Mesh):
            entry = f"layers/{int(lay.id)}.npz"
            payloads.append((entry, lay.data))
            data_type, count = "mesh", lay.data.n_vertices
        else:
            raise InvalidSceneError(
                f"layer {lay.name!r} holds {type(lay.data).__name__}, which a project cannot store"
            )
        layers_json.append(
            {
                "id": int(lay.id),
                "name": lay.name,
                "kind": lay.kind,
                "transform": lay.transform.tolist(),
                "visible": bool(lay.visible),
                "source": enc.value(lay.source),
                "generator": lay.source.get("generator"),
                "data": data_type,
                "count": count,
                "file": entry,
                "data_meta": enc.value(lay.data.meta),
            }
        )
    manifest = {
        "format": FORMAT_NAME,
        "format_version": f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}",
        "app_version": app_version(),
        "saved_at": time.time(),
        "up_axis": [float(v) for v in world.up_axis],
        "meta": enc.value(world.meta),
        "bookmarks": [
            {
                "name": b.name,
                "position": [float(v) for v in b.position],
                "yaw": float(b.yaw),
                "pitch": float(b.pitch),
                "fov_y_deg": float(b.fov_y_deg),
                **({"fov_x_deg": float(b.fov_x_deg)} if b.fov_x_deg > 0 else {}),
            }
            for b in world.bookmarks
        ],
        "layers": layers_json,
        "inputs": inputs,
        "arrays": sorted(enc.arrays),
        **(extra or {}),
    }

    parts = writing.split([*payload_bytes, *(input_bytes[o] for o in files.values()), 1])

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1), zipfile.ZIP_DEFLATED)
            for name, arr in enc.arrays.items():
                zf.writestr(name, _npy_bytes(arr), zipfile.ZIP_DEFLATED)
            for (name, data), part in zip(payloads, parts):
                part.update(0.0, f"Writing layer {name.split('/')[-1]}")
                if isinstance(data, GaussianCloud):
                    _write_cloud_entry(zf, name, data, part)
                else:
                    zf.writestr(name, _mesh_npz(data), zipfile.ZIP_STORED)
            for (stored, original), part in zip(files.items(), parts[len(payloads) :]):
                part.update(0.0, f"Copying {Path(original).name}")
                zf.write(original, stored, zipfile.ZIP_STORED)
            parts[-1].update(0.0, f"Finishing {path.name}")  # last cancel point
        prog.raise_if_cancelled()  # nothing is committed before this returns

    if path.suffix == "":
        path = path.with_suffix(EXTENSION)
    _atomic(path, write)
    _fsync_dir(path.parent)
    prog.finish(f"Saved {path.name}")


def _write_cloud_entry(zf: zipfile.ZipFile, name: str, cloud: GaussianCloud, part: Any) -> None:
    """Layer `cloud` as a stored PLY entry, encoded straight into the zip (no copy of the
    layer in memory); the same bytes and entry header `writestr` of `ply_bytes` gives.
    `part` (a Progress) hears the rows written; `Cancelled` stops it mid-entry."""
    size = ply_size(cloud)
    info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16  # as writestr sets it
    info.file_size = size  # decides zip64 the way writestr does
    with zf.open(info, "w") as dest:
        encode_ply(cloud, ProgressWriter(dest, part, size), check=False)


def _file_size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0  # hashing it says why


def _payload_size(data: Any) -> int:
    """Bytes a layer takes in a project (ply rows, or the mesh arrays): progress weights."""
    if isinstance(data, GaussianCloud):
        return 1024 + len(data) * 4 * (17 + 3 * data.shN.shape[1])
    if isinstance(data, Mesh):
        return 1024 + data.n_vertices * 32 + data.n_faces * 12
    return 0


def _atomic(path: Path, write: Callable[[Any], None]) -> None:
    """`write(binary_file)` into a temp beside `path`, then rename (scene.io's atomic_write);
    a missing folder is FileNotFoundError, as callers of save_project expect."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    with atomic_write(path) as fh:
        write(fh)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        log.debug("cannot open %s to fsync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("fsync of folder %s failed: %s", folder, exc)
    finally:
        os.close(fd)


def _mesh_npz(m: Mesh) -> bytes:
    arrays: dict[str, np.ndarray] = {"vertices": m.vertices, "faces": m.faces}
    for name in ("vertex_colors", "uvs", "texture"):
        val = getattr(m, name)
        if val is not None:
            arrays[name] = np.asarray(val)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


# ======================================================================== loading
def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MB"


class _Budget:
    """What opening one project may still cost, in bytes it does not physically hold.

    The first read of an entry costs what inflating it adds (uncompressed − compressed);
    every further read (a second layer naming the same entry) costs its whole size.
    """

    def __init__(self, path: Path, allowance: int | None = None) -> None:
        self.path = path
        self.left = MAX_EXPANSION if allowance is None else allowance
        self.seen: set[str] = set()

    def charge(self, key: str, where: str, usize: int, csize: int) -> None:
        """Raise SceneFormatError when reading `where` would exceed a limit."""
        if usize > MAX_ENTRY_BYTES:
            raise SceneFormatError(
                self.path,
                f"{where} claims {_mb(usize)} uncompressed, over "
                f"the {_mb(MAX_ENTRY_BYTES)} limit for one entry",
            )
        extra = max(0, usize - csize) if key not in self.seen else usize
        if extra > self.left:
            what = "inflate" if key not in self.seen else "be read again (shared by several layers)"
            raise SceneFormatError(
                self.path,
                f"{where} would {what} to {_mb(usize)}, beyond what a project may "
                f"expand to ({_mb(MAX_EXPANSION)} over its file size); refused as "
                "damaged or malicious",
            )
        self.seen.add(key)
        self.left -= extra


def _inflate(
    raw: bytes | memoryview, method: int, usize: int, crc: int | None, where: str, path: Path | None
) -> bytes:
    """Decompress one raw zip entry to exactly `usize` bytes (never more) and check its CRC."""
    if method == zipfile.ZIP_STORED:
        body = bytes(raw)
    elif method == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        try:
            body = d.decompress(raw, usize + 1)  # running cap: at most usize + 1 bytes out
        except zlib.error as exc:
            raise SceneFormatError(path, f"{where} is damaged ({exc})") from None
    else:
        raise SceneFormatError(
            path, f"{where} uses compression method {method}, which a project does not"
        )
    if len(body) > usize:
        raise SceneFormatError(
            path, f"{where} inflates beyond its declared {usize:,} bytes (damaged or malicious)"
        )
    if len(body) < usize:
        raise SceneFormatError(path, f"{where} is cut off: {len(body):,} of {usize:,} bytes")
    if crc is not None and zlib.crc32(body) & 0xFFFFFFFF != crc:
        raise SceneFormatError(path, f"{where} is damaged (CRC mismatch)")
    return body


class _MemberError(SceneFormatError):
    """A zip member that cannot be read as stored (cut off, damaged, over its size)."""


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


class _MemberReader:
    """A zip member opened for reading, bounded by its declared size.

    `readinto` / `read` never go past the declared size; zip and zlib errors become
    `_MemberError` naming the entry; `finish` reads what is left (so the zip's CRC is
    checked) and raises when the member holds fewer or more bytes than it declares.
    """

    def __init__(self, fh: Any, usize: int, where: str, path: Path) -> None:
        self.fh, self.usize, self.where, self.path = fh, usize, where, path
        self.got = 0

    def _damaged(self, exc: BaseException) -> _MemberError:
        return _MemberError(self.path, f"{self.where} is damaged ({exc})")

    def readinto(self, b: Any) -> int:
        view = memoryview(b).cast("B")
        view = view[: max(0, self.usize - self.got)]
        if not len(view):
            return 0
        try:
            n = self.fh.readinto(view) or 0
        except _ZIP_ERRORS as exc:
            raise self._damaged(exc) from None
        self.got += n
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left for -1); fewer only at the end."""
        left = self.usize - self.got
        size = left if size is None or size < 0 else min(size, left)
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = self.readinto(view[got:])
            if not n:
                break
            got += n
        view.release()
        del buf[got:]
        return bytes(buf)

    def finish(self) -> None:
        """Read the rest (CRC checked at the end); raise when the sizes disagree."""
        while self.got < self.usize:
            if not self.read(1 << 20):
                break
        if self.got != self.usize:
            raise _MemberError(
                self.path, f"{self.where} is cut off: {self.got:,} of {self.usize:,} bytes"
            )
        try:
            extra = self.fh.read(1)
        except _ZIP_ERRORS as exc:
            raise self._damaged(exc) from None
        if extra:
            raise _MemberError(
                self.path,
                f"{self.where} inflates beyond its declared {self.usize:,} bytes "
                "(damaged or malicious)",
            )


@contextlib.contextmanager
def _open_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    key: str,
    where: str,
    container_bytes: int,
    limit: int | None = None,
) -> Iterator[_MemberReader]:
    """One zip member as a `_MemberReader`, checked against its declared sizes, `limit`
    and the budget before anything is read."""
    usize, csize = int(info.file_size), int(info.compress_size)
    if csize > container_bytes or (info.compress_type == zipfile.ZIP_STORED and usize != csize):
        raise _MemberError(
            budget.path,
            f"{where} declares {usize:,} bytes but the file "
            "does not hold them (damaged or malicious)",
        )
    if limit is not None and usize > limit:
        raise _MemberError(budget.path, f"{where} is {_mb(usize)}, over its {_mb(limit)} limit")
    try:
        budget.charge(key, where, usize, csize)
    except SceneFormatError as exc:
        raise _MemberError(exc.path, exc.problem) from None
    try:
        fh = zf.open(info)
    except _ZIP_ERRORS as exc:
        raise _MemberError(budget.path, f"{where} is damaged ({exc})") from None
    try:
        yield _MemberReader(fh, usize, where, budget.path)
    finally:
        fh.close()


def _read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    key: str,
    where: str,
    container_bytes: int,
    limit: int | None = None,
) -> bytearray:
    """One zip member, checked against its declared sizes, `limit` and the budget first,
    then read with a running cap of its declared size."""
    with _open_member(zf, info, budget, key, where, container_bytes, limit) as member:
        buf = bytearray(member.usize)
        view = memoryview(buf)
        try:
            got = 0
            while got < len(buf):
                n = member.readinto(view[got:])
                if not n:
                    break
                got += n
        finally:
            view.release()
        member.finish()
    return buf


class _Archive:
    """Read entries from a project zip, or from what is left of a truncated one.

    Every read is bounded: declared sizes are checked against the file and the
    project's expansion budget before anything is inflated.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.truncated = False
        self._zf: zipfile.ZipFile | None = None
        self._data = b""
        self._entries: dict[str, tuple[int, int, int, int, int] | SceneFormatError] = {}
        self.budget = _Budget(path)
        try:
            self.size = path.stat().st_size
            self._zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            self.truncated = True
            self._data = path.read_bytes()
            self._entries = _scan_local_entries(self._data)
            if not self._entries:
                raise SceneFormatError(
                    path,
                    "not a Wander project (not a zip archive, or too damaged to read any entry)",
                ) from None
        except FileNotFoundError:
            raise SceneFormatError(path, "no such file") from None  # as every other reader
        except (OSError, ValueError, EOFError, NotImplementedError, struct.error) as exc:
            problem = getattr(exc, "strerror", None) or exc
            raise SceneFormatError(path, f"cannot open project: {problem}") from None

    def names(self) -> list[str]:
        return self._zf.namelist() if self._zf is not None else list(self._entries)

    def read(self, name: str, limit: int | None = None) -> bytes | bytearray:
        """Entry bytes; KeyError if absent, SceneFormatError if damaged or over a limit."""
        if not isinstance(name, str):
            raise KeyError(repr(name)[:80])
        where = name[:200]
        if self._zf is not None:
            try:
                info = self._zf.getinfo(name)
            except KeyError:
                raise KeyError(where) from None
            return _read_member(self._zf, info, self.budget, name, where, self.size, limit)
        got = self._entries.get(name)
        if got is None:
            raise KeyError(where)
        if isinstance(got, SceneFormatError):
            raise SceneFormatError(self.path, f"{where} is damaged ({got.problem})")
        method, crc, csize, usize, start = got
        if limit is not None and usize > limit:
            raise SceneFormatError(
                self.path, f"{where} is {_mb(usize)}, over its {_mb(limit)} limit"
            )
        self.budget.charge(name, where, usize, csize)
        return _inflate(
            memoryview(self._data)[start : start + csize], method, usize, crc, where, self.path
        )

    def open_member(self, name: str) -> contextlib.AbstractContextManager[_MemberReader] | None:
        """Entry `name` to read as a stream (`_open_member`), or None when the archive is
        truncated (read it with `read`). KeyError if absent."""
        if self._zf is None:
            return None
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            raise KeyError(name[:200]) from None
        return _open_member(self._zf, info, self.budget, name, name[:200], self.size)

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()


def _scan_local_entries(
    data: bytes,
) -> dict[str, tuple[int, int, int, int, int] | SceneFormatError]:
    """Walk zip local file headers from the start (no central directory needed).

    Maps each name to (method, crc, compressed size, uncompressed size, data offset);
    nothing is inflated here. Entries cut off by the truncation map to an error.
    """
    out: dict[str, tuple[int, int, int, int, int] | SceneFormatError] = {}
    pos, n = 0, len(data)
    while pos + 30 <= n and data[pos : pos + 4] == b"PK\x03\x04":
        (_, _, flags, method, _, _, crc, csize, usize, nlen, xlen) = struct.unpack_from(
            "<IHHHHHIIIHH", data, pos
        )
        name_start = pos + 30
        if name_start + nlen + xlen > n:
            break
        name = data[name_start : name_start + nlen].decode("utf-8", "replace")
        extra = data[name_start + nlen : name_start + nlen + xlen]
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF:  # zip64: sizes in extra field 0x0001
            usize, csize = _zip64_sizes(extra, usize, csize)
        if flags & 0x08:  # sizes only in a trailing data descriptor: cannot walk further
            out[name] = SceneFormatError(None, "entry written with a data descriptor")
            break
        start = name_start + nlen + xlen
        end = start + csize
        if end > n:
            out[name] = SceneFormatError(None, f"cut off after {n - start} of {csize} bytes")
            break
        out[name] = (method, crc, csize, usize, start)
        pos = end
    return out


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            vals = extra[i + 4 : i + 4 + size]
            k = 0
            if usize == 0xFFFFFFFF and k + 8 <= len(vals):
                usize = struct.unpack_from("<Q", vals, k)[0]
                k += 8
            if csize == 0xFFFFFFFF and k + 8 <= len(vals):
                csize = struct.unpack_from("<Q", vals, k)[0]
            break
        i += 4 + size
    return usize, csize


def _load_npy(data: bytes | bytearray, where: str, path: Path | None) -> np.ndarray:
    """A .npy entry as an array, its header checked against the bytes it really holds.

    Raises SceneFormatError (naming `where`) for a bad header, object dtypes, or a shape
    that needs more (or fewer) bytes than the entry holds — nothing is allocated first.
    """
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"npy format version {version[0]}.{version[1]} is not supported")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, OverflowError) as exc:
        raise SceneFormatError(
            path, f"{where} is not a readable array ({str(exc)[:200]})"
        ) from None
    if dtype.hasobject or dtype.itemsize == 0:
        raise SceneFormatError(path, f"{where} holds a {dtype} array, which a project may not")
    count = math.prod(shape)
    need = count * dtype.itemsize
    offset = f.tell()
    have = len(data) - offset
    if need != have:
        raise SceneFormatError(
            path,
            f"{where}: its header claims shape {tuple(shape)} "
            f"({need:,} bytes) but it holds {have:,} bytes",
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
    return arr.copy()


def _mesh_from_npz(data: bytes | bytearray, where: str, budget: _Budget) -> Mesh:
    """A mesh layer (.npz), each member read within the project's budget."""
    path = budget.path
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
        raise SceneFormatError(path, f"{where}: mesh data is corrupt ({exc})") from None
    arrays: dict[str, np.ndarray] = {}
    with zf:
        for key in ("vertices", "faces", "vertex_colors", "uvs", "texture"):
            try:
                info = zf.getinfo(f"{key}.npy")
            except KeyError:
                if key in ("vertices", "faces"):
                    raise SceneFormatError(path, f"{where}: mesh data lacks {key}") from None
                continue
            sub = f"{where}/{key}.npy"
            raw = _read_member(zf, info, budget, sub, sub, len(data))
            arrays[key] = _load_npy(raw, sub, path)
            del raw
    try:
        return Mesh(
            arrays["vertices"],
            arrays["faces"],
            arrays.get("vertex_colors"),
            arrays.get("uvs"),
            arrays.get("texture"),
        )
    except (InvalidSceneError, ValueError, TypeError, OverflowError) as exc:
        raise SceneFormatError(path, f"{where}: mesh data is corrupt ({exc})") from None


def _repaired_header(
    head: bytes | bytearray, size: int, file: str, name: str, warnings: list[str]
) -> tuple[bytes, int] | None:
    """When a layer's PLY header gives a splat count its data disagrees with: (the header
    with the count its data holds, the bytes of rows to keep), with a warning; else None.
    head: the entry's first bytes (at least through `end_header`); size: the entry's size."""
    end = head.find(b"end_header\n", 0, 65536)
    if not (head.startswith(b"ply\n") and end > 0):
        return None
    lines = bytes(head[:end]).decode("ascii", "replace").splitlines()
    props = sum(1 for ln in lines if ln.split()[:1] == ["property"])
    counts = [i for i, ln in enumerate(lines) if ln.split()[:2] == ["element", "vertex"]]
    if not (props and len(counts) == 1 and len(lines[counts[0]].split()) == 3):
        return None
    text = lines[counts[0]].split()[2]
    try:
        declared: int | None = int(text)
    except ValueError:
        declared = None
    stride = 4 * props
    body = size - end - len(b"end_header\n")
    held = body // stride
    if declared == held and not body % stride:
        return None
    said = text[:20] if declared is None or declared < 0 else f"{declared:,}"
    lost = (
        "" if declared is None or declared <= held else f"; {declared - held:,} splats are missing"
    )
    tail = f"; {body % stride} stray bytes ignored" if body % stride else ""
    warnings.append(
        f"layer {name!r}: {file} says it holds {said} splats but its "
        f"data holds {held:,}; opened those{lost}{tail}"
    )
    lines[counts[0]] = f"element vertex {held}"
    return ("\n".join(lines) + "\nend_header\n").encode("ascii"), held * stride


def _read_layer_ply(
    raw: bytes | bytearray, file: str, name: str, path: Path, warnings: list[str]
) -> GaussianCloud:
    """A Gaussian layer held in memory; a header whose splat count disagrees with the
    data, and splats holding NaN / infinite values, are repaired with a warning saying
    what was dropped."""
    fixed = _repaired_header(raw, len(raw), file, name, warnings)
    if fixed is not None:
        header, body = fixed
        start = raw.find(b"end_header\n", 0, 65536) + len(b"end_header\n")
        raw = header + bytes(memoryview(raw)[start : start + body])
    cloud = read_ply_bytes(raw, file, consume=True)  # `raw` is cut while it is decoded
    return _drop_nonfinite(cloud, name, warnings)


def _stream_layer_ply(
    member: _MemberReader, file: str, name: str, warnings: list[str]
) -> GaussianCloud:
    """`_read_layer_ply` for a zip member read as a stream: the rows are decoded block by
    block into the layer's arrays (memory: the arrays plus a block, not the entry too);
    the rest of the member is then read so its CRC is checked."""
    head = member.read(65536)
    end = head.find(b"end_header\n", 0, 65536)
    fixed = _repaired_header(head, member.usize, file, name, warnings)
    if end < 0 or not head.startswith(b"ply\n"):  # not a PLY we can stream: as before
        raw = bytearray(head)
        raw += member.read()
        member.finish()
        return _read_layer_ply(raw, file, name, Path(file), warnings)
    start = end + len(b"end_header\n")
    header, body = (bytes(head[:start]), member.usize - start) if fixed is None else fixed
    rows = _Prefixed(head[start:], member)
    try:
        cloud = read_ply_stream(header, rows, len(header) + body, file)
    except _MemberError:
        raise
    except SceneFormatError:
        member.finish()  # a damaged or cut-off entry is what to report, if it is one
        raise
    member.finish()
    return _drop_nonfinite(cloud, name, warnings)


class _Prefixed:
    """A binary stream: `prefix`, then what `fh` reads (a header's first bytes put back)."""

    def __init__(self, prefix: bytes, fh: Any) -> None:
        self.prefix, self.fh = memoryview(prefix), fh

    def readinto(self, b: Any) -> int:
        if len(self.prefix):
            view = memoryview(b).cast("B")
            n = min(len(view), len(self.prefix))
            view[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        return self.fh.readinto(b)

    def read(self, size: int = -1) -> bytes:
        head = bytes(self.prefix[: None if size < 0 else size])
        self.prefix = self.prefix[len(head) :]
        more = -1 if size < 0 else size - len(head)
        return head + (self.fh.read(more) if more else b"")


def _drop_nonfinite(cloud: GaussianCloud, name: str, warnings: list[str]) -> GaussianCloud:
    """`cloud` without the splats holding NaN / infinite values (checked in blocks of rows,
    so no N x 45 temporary), with a warning when any is dropped."""
    n = len(cloud)
    if not n:
        return cloud
    bad = np.zeros(n, bool)
    block = 65536
    for arr in (cloud.means, cloud.scales, cloud.quats, cloud.opacities, cloud.sh0, cloud.shN):
        flat = arr.reshape(n, -1)
        for r0 in range(0, n, block):
            part = flat[r0 : r0 + block]
            with np.errstate(invalid="ignore", over="ignore"):
                if np.isfinite(np.add.reduce(part, axis=None, dtype=np.float64)):
                    continue  # a finite sum: every value finite
            bad[r0 : r0 + block] |= ~np.isfinite(part).all(1)
    k = int(bad.sum())
    if k:
        warnings.append(
            f"layer {name!r}: dropped {k:,} of {n:,} splats holding NaN or infinite values"
        )
        cloud = cloud.subset(~bad)
    return cloud


def _too_deep(v: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(v, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (list, dict)):
            if d > limit:
                return True
            stack.extend((y, d + 1) for y in (x.values() if isinstance(x, dict) else x))
    return False


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a project (fast: reads no layer data).

    Raises SceneFormatError (naming the file) for anything but a readable Wander manifest.
    """
    path = Path(path)
    return _guarded(path, lambda: _read_manifest_at(path))


#: the first line of `project_damage` for an archive cut short or broken
TRUNCATED_NOTE = "the project file is truncated or damaged"


def project_damage(path: str | Path) -> list[str]:
    """Problems a loader would skip, found without inflating any layer: for a truncated
    or damaged archive, each layer whose data file is missing or cut off ("layer 'World':
    layers/1.ply is cut off after 98381 of 57910032 bytes"); for a whole one, each splat
    layer whose header disagrees with the manifest or the zip (`_layer_header_damage`);
    [] when nothing is wrong.
    Raises SceneFormatError like `read_manifest`."""
    path = Path(path)

    def scan() -> list[str]:
        arc = _Archive(path)
        try:
            if not arc.truncated:
                return _layer_header_damage(arc)
            out = [TRUNCATED_NOTE]
            layers = _parse_manifest(arc).get("layers")
            for entry in layers if isinstance(layers, list) else []:
                if not isinstance(entry, dict):
                    continue
                name, file = str(entry.get("name", "?"))[:200], entry.get("file")
                got = arc._entries.get(file) if isinstance(file, str) else None
                if got is None:
                    out.append(f"layer {name!r}: its data {str(file)[:200]} is missing")
                elif isinstance(got, SceneFormatError):
                    out.append(f"layer {name!r}: {file[:200]} is {got.problem}")
            return out
        finally:
            arc.close()

    return _guarded(path, scan)


def _layer_header_damage(arc: _Archive) -> list[str]:
    """For a whole archive: each splat layer whose PLY header disagrees with the manifest
    (its splat count) or with its own data (cut short), whose declared size is beyond the
    project's expansion budget (a zip bomb: the loader refuses it), or that cannot be
    parsed. Reads at most a header's worth of each layer (plyheader.MAX_HEADER bytes)."""
    from .io.plyheader import MAX_HEADER, parse_header

    layers = _parse_manifest(arc).get("layers")
    out: list[str] = []
    for entry in layers if isinstance(layers, list) and not arc.truncated else []:
        if not isinstance(entry, dict) or entry.get("data") != "cloud":
            continue
        name, file = str(entry.get("name", "?"))[:200], entry.get("file")
        if not isinstance(file, str) or not file.lower().endswith(".ply"):
            continue
        try:
            with arc.open_member(file) as fh:  # sizes and the budget checked before reading
                size = fh.usize
                head = fh.read(MAX_HEADER)
            header = parse_header(head, file)
        except KeyError:
            out.append(f"layer {name!r}: its data {file[:200]} is missing")
            continue
        except (SceneFormatError, OSError, EOFError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            out.append(f"layer {name!r}: {str(problem)[:300]}; it will not be loaded")
            continue
        vertex = header.element("vertex")
        n = vertex.count if vertex is not None else 0
        count = entry.get("count")
        if isinstance(count, int) and count != n:
            out.append(f"layer {name!r}: its data holds {n:,} splats, not the {count:,} listed")
        if vertex is not None and header.format != "ascii" and not vertex.has_lists:
            row = vertex.row_dtype("<").itemsize
            held = max(0, size - header.data_offset) // max(row, 1)
            if held < n:
                out.append(
                    f"layer {name!r}: {file[:200]} holds the data of {held:,} of the {n:,} "
                    "splats its header lists"
                )
    return out


def _read_manifest_at(path: Path) -> dict[str, Any]:
    arc = _Archive(path)
    try:
        return _parse_manifest(arc)
    finally:
        arc.close()


def _guarded(path: Path, fn: Callable[[], Any]) -> Any:
    """Run `fn`; anything but SceneFormatError / FileNotFoundError becomes one
    SceneFormatError naming `path` (and is logged with its traceback)."""
    try:
        return fn()
    except (SceneFormatError, FileNotFoundError, Cancelled):
        raise
    except MemoryError:
        raise SceneFormatError(
            path,
            "needs more memory than is free (the project is damaged or far larger than it looks)",
        ) from None
    except RecursionError:
        raise SceneFormatError(path, "its manifest nests values too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - a project is untrusted input: one error type out
        log.exception("unexpected problem reading project %s", path)
        raise SceneFormatError(
            path,
            "could not be read: an unexpected problem in the file "
            f"({type(exc).__name__}: {str(exc)[:200]})",
        ) from None


def _parse_manifest(arc: _Archive) -> dict[str, Any]:
    try:
        raw = arc.read(MANIFEST, limit=MAX_MANIFEST_BYTES)
    except KeyError:
        raise SceneFormatError(arc.path, "not a Wander project (no manifest.json)") from None
    try:
        man = json.loads(bytes(raw).decode("utf-8"))
    except RecursionError:
        raise SceneFormatError(arc.path, "manifest.json nests values too deeply to read") from None
    except (UnicodeDecodeError, ValueError) as exc:  # incl. JSONDecodeError, 4300+ digit ints
        raise SceneFormatError(arc.path, f"manifest.json is corrupt ({str(exc)[:200]})") from None
    if not isinstance(man, dict) or man.get("format") != FORMAT_NAME:
        raise SceneFormatError(
            arc.path, f"not a Wander project (manifest has no 'format': '{FORMAT_NAME}')"
        )
    if _too_deep(man, MAX_DEPTH):
        raise SceneFormatError(
            arc.path,
            f"manifest.json nests values more than {MAX_DEPTH} levels deep (damaged or malicious)",
        )
    return man


def _parse_version(text: Any, path: Path) -> tuple[int, int]:
    try:
        if not isinstance(text, (str, int, float)) or isinstance(text, bool):
            raise ValueError
        s = str(text)
        if len(s) > 20:
            raise ValueError
        major, minor = (int(p) for p in s.split(".")[:2])
        return major, minor
    except ValueError:
        raise SceneFormatError(
            path, f"project format version {str(text)[:40]!r} is not understood"
        ) from None


def default_inputs_dir() -> Path:
    """Where inputs stored in a project are unpacked: Wander's own cache folder."""
    base = (
        os.environ.get("WANDER_CACHE_DIR")
        or os.environ.get("XDG_CACHE_HOME")
        or str(Path.home() / ".cache")
    )
    sub = "" if os.environ.get("WANDER_CACHE_DIR") else "wander"
    return Path(base) / sub / "project-inputs"


def load_project(
    path: str | Path,
    *,
    inputs_dir: str | Path | None = None,
    trust_paths: bool = False,
    progress: Progress | ProgressFn | None = None,
) -> tuple[World, list[str]]:
    """Open a `.wander` project; returns (World, warnings about what could not be restored).

    Input photos stored in the project are checked against their SHA-256 and unpacked
    under `inputs_dir` (default: Wander's cache, `default_inputs_dir()`); the values in
    meta/source that named them point there. Nothing outside that folder is written and
    no local file named by the manifest is read. Path texts from the manifest are listed
    in `world.untrusted_paths` so a later save never copies those files in, unless
    `trust_paths` (the app's own recovery files).

    `progress` (scene/progress.py) hears each layer read; a cancel raises `Cancelled`
    before the World is returned (the caller's World is never touched; stored photos
    already unpacked into the inputs cache stay there, as they would for the next open).

    Raises FileNotFoundError when `path` does not exist and SceneFormatError (naming the
    project and the entry) for anything that cannot be opened at all; every other
    problem is a warning and the rest opens.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such project")
    prog = as_progress(progress)
    return _guarded(path, lambda: _load(path, inputs_dir, trust_paths, prog))


def _load(
    path: Path, inputs_dir: str | Path | None, trust_paths: bool, prog: Progress | None = None
) -> tuple[World, list[str]]:
    prog = prog if prog is not None else as_progress(None)
    prog.update(0.0, f"Reading {path.name}")
    arc = _Archive(path)
    warnings: list[str] = []
    try:
        man = _parse_manifest(arc)
        major, minor = _parse_version(man.get("format_version"), path)
        if major > FORMAT_VERSION[0]:
            raise SceneFormatError(
                path,
                f"written by a newer Wander ({str(man.get('app_version', '?'))[:40]}, "
                f"project format {major}.{minor}); this version reads format "
                f"{FORMAT_VERSION[0]}.x — update Wander to open it",
            )
        if major == FORMAT_VERSION[0] and minor > FORMAT_VERSION[1]:
            warnings.append(
                f"project written by a newer Wander (format {major}.{minor}); "
                "anything it added that this version does not know was ignored"
            )
        if arc.truncated:
            warnings.append("the project file is truncated or damaged; opened what it still holds")
        arrays: dict[str, np.ndarray] = {}
        for name in _list_field(man, "arrays", warnings, 10_000):
            if not isinstance(name, str):
                warnings.append("an array name in the manifest is not text; ignored")
                continue
            try:
                arrays[name] = _load_npy(arc.read(name), name, path)
            except KeyError:
                warnings.append(f"array {name[:80]} is missing from the project")
            except SceneFormatError as exc:
                warnings.append(f"array {name[:80]} is damaged ({exc.problem})")
        prog.update(0.05, "Restoring stored photos")
        by_digest, by_original = _restore_inputs(
            arc, _list_field(man, "inputs", warnings, 10_000), inputs_dir, warnings
        )
        dec = _Decoder(arrays, warnings, by_digest)

        w = World()
        up = _vector(man.get("up_axis", [0, 1, 0]), 3)
        with np.errstate(over="ignore"):  # 1e300 is finite, its square is not
            up_len = np.linalg.norm(up) if up is not None else 0.0
        if up is None or not (1e-9 <= up_len < np.inf):
            warnings.append("up axis unreadable; using +Y")
        else:
            w.up_axis = up
        meta = _remap_paths(dec.value(man.get("meta", {}), "world meta"), by_original)
        if not isinstance(meta, dict):
            warnings.append("world metadata is unreadable; dropped")
            meta = {}
        w.meta = meta
        for i, b in enumerate(_list_field(man, "bookmarks", warnings, 10_000)):
            try:
                w.bookmarks.append(_bookmark(b))
            except ValueError as exc:
                label = str(b.get("name"))[:40] if isinstance(b, dict) else ""
                warnings.append(
                    f"bookmark {i + 1}{f' ({label})' if label else ''} is unreadable "
                    f"({exc}) and was skipped"
                )
        entries = _list_field(man, "layers", warnings, None)
        if len(entries) > MAX_LAYERS:
            warnings.append(
                f"the project lists {len(entries):,} layers; opened the first "
                f"{MAX_LAYERS:,} (the most a project may hold)"
            )
            entries = entries[:MAX_LAYERS]
        loaded: list[tuple[Layer, Any]] = []
        first_layer_warning = len(warnings)
        layers = prog.sub(0.1, 0.98)
        for i, entry in enumerate(entries):
            layers.update(i / max(len(entries), 1), f"Reading layer {i + 1} of {len(entries)}")
            if not isinstance(entry, dict):
                warnings.append(f"layer entry {i + 1} in the manifest is unreadable; skipped")
                continue
            got = _load_layer(arc, entry, dec, by_original, warnings)
            if got is not None:
                loaded.append(got)
        if entries and not loaded:  # an empty window called "opened" hides the failure
            why = [w[:120] for w in warnings[first_layer_warning:]] or ["no reason given"]
            shown = "; ".join(why[:6]) + (f"; and {len(why) - 6} more" if len(why) > 6 else "")
            raise SceneFormatError(
                path, f"none of its {len(entries)} layer(s) could be restored ({shown})"
            )
        prog.update(0.98, "Assigning layer ids")  # last cancel point: nothing added yet
        for lay in _assign_ids(loaded, warnings):
            w.add_layer(lay)  # keeps the saved id (unique here); history cleared below
        if not trust_paths:
            w.untrusted_paths = {
                s for s in dec.paths if os.path.splitext(s)[1].lower() in INPUT_EXTENSIONS
            }
        else:  # the app's own recovery file: only what it recorded as untrusted
            kept = man.get("untrusted_paths", [])
            w.untrusted_paths = (
                {s for s in kept if isinstance(s, str)} if isinstance(kept, list) else set()
            )
        w.clear_history()
        prog.update(1.0, f"Read {path.name}")
        return w, warnings
    finally:
        arc.close()


def _list_field(man: dict, key: str, warnings: list[str], limit: int | None) -> list:
    v = man.get(key, [])
    if not isinstance(v, list):
        warnings.append(f"manifest field {key!r} is unreadable; ignored")
        return []
    if limit is not None and len(v) > limit:
        warnings.append(
            f"manifest field {key!r} lists {len(v):,} entries; read the first {limit:,}"
        )
        return v[:limit]
    return v


LAYER_KINDS = ("world", "object", "mesh")


def layer_kind(kind: Any, is_mesh: bool) -> str:
    """A layer's kind as the manifest names it, when it is one of LAYER_KINDS; otherwise
    (a newer or hand-edited kind) what it is read as: "mesh" for a mesh, else "object"."""
    if kind in LAYER_KINDS:
        return str(kind)
    return "mesh" if is_mesh else "object"


def _number(v: Any) -> float:
    """A finite float from a JSON number; ValueError otherwise (bools, text, huge, NaN)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{type(v).__name__} where a number belongs")
    try:
        f = float(v)
    except OverflowError:
        raise ValueError("number out of range") from None
    if not math.isfinite(f):
        raise ValueError(f"{f} is not a finite number")
    return f


def _vector(v: Any, n: int) -> np.ndarray | None:
    """n finite floats, or None."""
    try:
        if not isinstance(v, list) or len(v) != n:
            return None
        return np.array([_number(x) for x in v], np.float64)
    except ValueError:
        return None


def _bookmark(b: Any) -> Bookmark:
    """A Bookmark from its manifest entry; ValueError saying what is wrong."""
    if not isinstance(b, dict):
        raise ValueError("not an object")
    pos = _vector(b.get("position"), 3)
    if pos is None:
        raise ValueError("its position is not three finite numbers")
    far = position_problem(pos)
    if far:
        raise ValueError(f"its position {far}")
    yaw, pitch = _number(b.get("yaw", 0.0)), _number(b.get("pitch", 0.0))
    fov = _number(b.get("fov_y_deg", 60.0))
    if not 0.0 < fov < 180.0:
        raise ValueError(f"its field of view {fov:g}° is not between 0° and 180° (both excluded)")
    fov_x = _number(b.get("fov_x_deg", 0.0))
    if not 0.0 <= fov_x < 180.0:
        raise ValueError(f"its photo's field of view {fov_x:g}° is not between 0° and 180°")
    name = b.get("name", "")
    return Bookmark(name if isinstance(name, str) else str(name)[:200], pos, yaw, pitch, fov, fov_x)


def _load_layer(
    arc: _Archive, entry: dict, dec: _Decoder, remap: dict[str, str], warnings: list[str]
) -> tuple[Layer, Any] | None:
    """(layer, the id its entry gave) or None (with a warning) when it cannot be restored."""
    name = entry.get("name", "?")
    name = name if isinstance(name, str) else str(name)[:200]
    file = entry.get("file", "")
    if not isinstance(file, str) or not file:
        warnings.append(f"layer {name!r}: its manifest entry names no data file; layer skipped")
        return None
    is_mesh = entry.get("data") == "mesh" or file.endswith(".npz")
    try:
        opener = None if is_mesh else arc.open_member(file)
        raw = arc.read(file) if opener is None else b""
    except KeyError:
        warnings.append(f"layer {name!r}: {file[:200]} is missing from the project; layer skipped")
        return None
    except SceneFormatError as exc:
        warnings.append(f"layer {name!r}: {exc.problem}; layer skipped")
        return None
    try:
        if opener is not None:  # a PLY layer in a whole archive: decoded while it is read
            with opener as member:
                data: GaussianCloud | Mesh = _stream_layer_ply(member, file, name, warnings)
        elif is_mesh:
            data = _mesh_from_npz(raw, file, arc.budget)
        else:
            data = _read_layer_ply(raw, file, name, arc.path, warnings)
    except SceneFormatError as exc:
        if opener is not None and isinstance(exc, _MemberError):  # the entry, as read says
            warnings.append(f"layer {name!r}: {exc.problem}; layer skipped")
            return None
        warnings.append(f"layer {name!r}: {file[:200]} is corrupt ({exc.problem}); layer skipped")
        return None
    del raw
    data_meta = dec.value(entry.get("data_meta", {}), f"layer {name!r}")
    data.meta = data_meta if isinstance(data_meta, dict) else {}
    source = _remap_paths(dec.value(entry.get("source", {}), f"layer {name!r}"), remap)
    if not isinstance(source, dict):
        warnings.append(f"layer {name!r}: its source record is unreadable; dropped")
        source = {}
    kind = layer_kind(entry.get("kind", "world"), isinstance(data, Mesh))
    transform = _transform(entry.get("transform", None), name, warnings)
    layer = Layer(
        name=name,
        data=data,
        kind=kind,
        transform=transform,
        visible=entry.get("visible", True) is not False,
        id=0,
        source=source,
    )
    return layer, entry.get("id")


def _transform(t: Any, name: str, warnings: list[str]) -> np.ndarray:
    """A valid 4×4 similarity from the manifest, else identity with a warning."""
    if t is None:
        return np.eye(4)
    try:
        m = np.array(t, dtype=np.float64)
        if m.shape != (4, 4):
            raise ValueError(f"shape {m.shape} is not 4×4")
        decompose_similarity(m)  # NaN / singular / sheared: every view and export breaks
    except (ValueError, TypeError, OverflowError, np.linalg.LinAlgError) as exc:
        warnings.append(
            f"layer {name!r}: its transform is invalid ({str(exc)[:120]}); reset to identity"
        )
        return np.eye(4)
    return m


def _assign_ids(loaded: list[tuple[Layer, Any]], warnings: list[str]) -> list[Layer]:
    """Give each layer its saved id; invalid or duplicate ids are renumbered with a warning
    (two layers sharing an id would make deleting one delete the other)."""
    valid = [i for _, i in loaded if type(i) is int and 1 <= i <= MAX_LAYER_ID]
    nxt = max(valid, default=0) + 1
    seen: set[int] = set()
    out: list[Layer] = []
    for lay, raw_id in loaded:
        if type(raw_id) is int and 1 <= raw_id <= MAX_LAYER_ID and raw_id not in seen:
            lay.id = raw_id
        else:
            dup = type(raw_id) is int and raw_id in seen
            why = "is already used by another layer" if dup else "is not a valid id"
            shown = (
                str(raw_id)[:24] if not isinstance(raw_id, (dict, list)) else type(raw_id).__name__
            )
            warnings.append(f"layer {lay.name!r}: its id {shown} {why}; renumbered to {nxt}")
            lay.id = nxt
            nxt += 1
        seen.add(lay.id)
        out.append(lay)
    return out


def _restore_inputs(
    arc: _Archive, inputs: list, inputs_dir: str | Path | None, warnings: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Unpack the input photos a project holds into Wander's cache.

    Returns ({sha256: cached path}, {original path text (format 1.0): cached path}). Each
    checksum must be 64 hex digits and match the stored bytes; the name is reduced to
    a plain file name; the target must resolve inside its own cache folder. Anything
    else is skipped with a warning; nothing else on disk is read or written.
    """
    by_digest: dict[str, str] = {}
    by_original: dict[str, str] = {}
    root = Path(inputs_dir) if inputs_dir is not None else default_inputs_dir()
    for i, inp in enumerate(inputs):
        if not isinstance(inp, dict):
            warnings.append(f"input entry {i + 1} in the manifest is unreadable; skipped")
            continue
        digest, stored = inp.get("sha256"), inp.get("stored")
        original = inp.get("original")
        name = _plain_name(inp.get("name", original))
        label = name or f"entry {i + 1}"
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            warnings.append(
                f"input {label}: its checksum is not a SHA-256 (64 hex digits); skipped"
            )
            continue
        if name is None:
            warnings.append(f"input entry {i + 1}: its name is not a plain file name; skipped")
            continue
        if not isinstance(stored, str):
            warnings.append(f"input {name}: the manifest names no stored copy; skipped")
            continue
        digest = digest.lower()
        # format 1.0 named an input by the path text meta held; 1.1 writes its plain name
        # there, and remapping every meta string equal to a photo's name (a reconstruction's
        # camera names, its held-out list) to the cached copy's path would corrupt them
        legacy = isinstance(original, str) and original != name
        if digest in by_digest:
            if legacy:
                by_original[original] = by_digest[digest]
            continue
        try:
            body = arc.read(stored, limit=MAX_INPUT_BYTES)
        except KeyError:
            warnings.append(f"input {name} is missing from the project")
            continue
        except SceneFormatError as exc:
            warnings.append(f"input {name}: {exc.problem}")
            continue
        if hashlib.sha256(body).hexdigest() != digest:
            warnings.append(f"input {name}: its stored bytes do not match its checksum; skipped")
            continue
        try:
            target = _unpack_input(root, digest, name, body)
        except (OSError, ValueError) as exc:
            warnings.append(f"input {name} could not be unpacked to {root}: {exc}")
            continue
        by_digest[digest] = str(target)
        if legacy:
            by_original[original] = str(target)
    return by_digest, by_original


def _unpack_input(root: Path, digest: str, name: str, body: bytes | bytearray) -> Path:
    """Write `body` to root/<digest[:16]>/<name> (atomically); ValueError if that path
    would not lie inside its own folder under `root` (e.g. a planted symlink)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / digest[:16]
    if folder.is_symlink():
        raise ValueError(f"{folder} is a link; refusing to write through it")
    folder.mkdir(exist_ok=True)
    rroot, rfolder = root.resolve(), folder.resolve()
    target = rfolder / name
    if rfolder.parent != rroot or target.resolve().parent != rfolder or target.is_symlink():
        raise ValueError(f"{name} would land outside {rfolder}")
    if target.exists():
        if not target.is_file():
            raise ValueError(f"{target} exists and is not a file")
        if target.stat().st_size == len(body) and sha256_file(target) == digest:
            return target
    from .files import make_temp_file

    fd, tmp = make_temp_file(target)  # the one temp pattern: swept if a kill leaves it
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError as exc:
            log.warning("could not remove %s: %s", tmp, exc)
        raise
    return target


def _remap_paths(v: Any, remap: dict[str, str]) -> Any:
    if not remap:
        return v
    if isinstance(v, str):
        return remap.get(v, v)
    if isinstance(v, Path):
        return Path(remap[str(v)]) if str(v) in remap else v
    if isinstance(v, dict):
        return {k: _remap_paths(x, remap) for k, x in v.items()}
    if isinstance(v, list):
        return [_remap_paths(x, remap) for x in v]
    if isinstance(v, tuple):
        return tuple(_remap_paths(x, remap) for x in v)
    return v


def project_inputs(path: str | Path) -> list[dict[str, Any]]:
    """The inputs a project holds: [{name, stored, sha256, size}] (names only, no folders).

    Raises SceneFormatError for an unreadable project.
    """
    got = read_manifest(path).get("inputs", [])
    return [dict(x) for x in got if isinstance(x, dict)] if isinstance(got, list) else []


def extract_input(path: str | Path, stored: str, dest: str | Path) -> Path:
    """Copy one stored input (e.g. 'inputs/ab12_photo.jpg') out of a project to `dest`
    (a file, or a folder to put it in under its plain file name).

    Raises SceneFormatError when the project holds no such entry or it is damaged.
    """
    path = Path(path)

    def read() -> bytes | bytearray:
        arc = _Archive(path)
        try:
            return arc.read(stored, limit=MAX_INPUT_BYTES)
        except KeyError:
            raise SceneFormatError(path, f"the project holds no {str(stored)[:200]}") from None
        finally:
            arc.close()

    body = _guarded(path, read)
    dest = Path(dest)
    if dest.is_dir():
        name = _plain_name(str(stored).rsplit("/", 1)[-1].split("_", 1)[-1]) or "input"
        dest = dest / name
    _atomic(dest, lambda fh: fh.write(body))
    return dest


def snapshot_world(world: World) -> World:
    """A copy of the world's structure sharing the (immutable-by-convention) layer data,
    so a worker thread can save it while the user keeps editing."""
    import copy

    snap = World()
    for lay in world.layers:
        snap.add_layer(
            Layer(
                lay.name,
                lay.data,
                lay.kind,
                lay.transform.copy(),
                lay.visible,
                lay.id,
                copy.deepcopy(lay.source),
            )
        )
    snap.clear_history()
    snap.bookmarks = [
        Bookmark(b.name, b.position.copy(), b.yaw, b.pitch, b.fov_y_deg) for b in world.bookmarks
    ]
    snap.up_axis = np.array(world.up_axis, np.float64).copy()
    snap.meta = copy.copy(world.meta)
    snap.untrusted_paths = set(getattr(world, "untrusted_paths", ()) or ())
    return snap


# ======================================================================= autosave
AUTOSAVE_SUFFIX = ".autosave.wander"
THUMB_SUFFIX = ".autosave.png"
_DOC_ID = re.compile(r"[0-9a-zA-Z]{1,32}")


@dataclass
class Recovery:
    """A recovery file: the autosave of a project (newer than the project) or of an
    unsaved world. `thumbnail` is the PNG beside it (None if missing); `doc_id` names
    the document slot it was written to (None for files from older versions)."""

    autosave: Path
    project: Path | None
    saved_at: float
    thumbnail: Path | None = None
    doc_id: str | None = None
    layers: int = 0

    @property
    def title(self) -> str:
        """What to call it in a list: the project's name or 'Unsaved world'."""
        return self.project.name if self.project is not None else "Unsaved world"


def new_doc_id() -> str:
    """A fresh id for a document's autosave slot (12 hex digits)."""
    return uuid.uuid4().hex[:12]


def autosave_dir() -> Path:
    """Folder for recovery files: $WANDER_AUTOSAVE_DIR, else the user's data dir."""
    env = os.environ.get("WANDER_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wander" / "autosave"


def _project_tag(project_path: str | Path) -> tuple[str, str]:
    p = Path(project_path).resolve()
    return p.stem, hashlib.sha1(str(p).encode()).hexdigest()[:10]


def autosave_path(
    project_path: str | Path | None = None,
    folder: str | Path | None = None,
    doc_id: str | None = None,
) -> Path:
    """The recovery file of one document: a project (or the unsaved world when None) in
    the slot `doc_id` (each open document has its own; None = the single legacy slot).

    `folder` defaults to `autosave_dir()`; the app passes its settings folder. Raises
    ValueError for a `doc_id` that is not 1–32 letters and digits.
    """
    base = Path(folder) if folder is not None else autosave_dir()
    if doc_id is not None and not _DOC_ID.fullmatch(doc_id):
        raise ValueError(f"autosave slot id {doc_id!r} must be 1-32 letters and digits")
    slot = f"-{doc_id}" if doc_id else ""
    if project_path is None:
        return base / f"untitled{slot}{AUTOSAVE_SUFFIX}"
    stem, tag = _project_tag(project_path)
    return base / f"{stem}-{tag}{slot}{AUTOSAVE_SUFFIX}"


def thumbnail_path(autosave: str | Path) -> Path:
    """The PNG thumbnail beside a recovery file."""
    a = Path(autosave)
    return (
        a.with_name(a.name[: -len(AUTOSAVE_SUFFIX)] + THUMB_SUFFIX)
        if a.name.endswith(AUTOSAVE_SUFFIX)
        else a.with_suffix(".png")
    )


def world_thumbnail(
    world: World, width: int = 160, height: int = 100, max_points: int = 60_000
) -> np.ndarray:
    """A small picture of the world without GL: up to `max_points` splat centres of the
    visible Gaussian layers (transforms applied, no data copied whole) seen from the
    front (−Z, +Y up), far ones drawn first. Returns (height, width, 3) uint8."""
    from .gaussians import sh0_to_rgb

    img = np.full((height, width, 3), 32, np.uint8)
    layers = [
        lay
        for lay in world.visible_layers()
        if isinstance(lay.data, GaussianCloud) and len(lay.data)
    ]
    total = sum(len(lay.data) for lay in layers)
    if not total:
        return img
    step = max(1, total // max_points)
    pts_l, col_l = [], []
    for lay in layers:
        m = lay.data.means[::step].astype(np.float64)  # (n, 3)
        pts_l.append(m @ lay.transform[:3, :3].T + lay.transform[:3, 3])
        col_l.append(np.clip(sh0_to_rgb(lay.data.sh0[::step]), 0, 1))
    pts, cols = np.concatenate(pts_l), np.concatenate(col_l)
    ok = np.isfinite(pts).all(1) & np.isfinite(cols).all(1)
    pts, cols = pts[ok], cols[ok]
    if not len(pts):
        return img
    lo, hi = np.percentile(pts, 2, 0), np.percentile(pts, 98, 0)
    span = max(float(hi[0] - lo[0]) / width, float(hi[1] - lo[1]) / height, 1e-9) * 1.05
    cx, cy = (lo[:2] + hi[:2]) / 2
    x = np.clip((pts[:, 0] - cx) / span + width / 2, -1, width).astype(np.int64)
    y = np.clip(height / 2 - (pts[:, 1] - cy) / span, -1, height).astype(np.int64)
    order = np.argsort(pts[:, 2], kind="stable")  # far (low z) first, near ones overwrite
    x, y, c = x[order], y[order], cols[order]
    rgb = (c * 255).astype(np.uint8)
    dots = (0, 1) if len(pts) < width * height // 4 else (0,)  # sparse: 2×2 dots
    for dy in dots:
        for dx in dots:
            xx, yy = x + dx, y + dy
            inside = (xx >= 0) & (xx < width) & (yy >= 0) & (yy < height)
            img[yy[inside], xx[inside]] = rgb[inside]
    return img


def _write_png(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    arr = np.ascontiguousarray(np.asarray(image)[..., :3], np.uint8)
    _atomic(path, lambda fh: Image.fromarray(arr).save(fh, format="PNG"))


def write_autosave(
    world: World,
    project_path: str | Path | None = None,
    folder: str | Path | None = None,
    doc_id: str | None = None,
    thumbnail: np.ndarray | None = None,
    progress: Progress | ProgressFn | None = None,
) -> Path:
    """Save `world` to its recovery file (atomic) plus a PNG thumbnail beside it
    (`thumbnail`, (H, W, 3) uint8, else `world_thumbnail`); returns the file written.

    `doc_id` names the document's slot; an unsaved world (`project_path` None) without
    one gets a fresh slot, so it can never overwrite another world's recovery. Raises
    OSError when the folder cannot be written.
    """
    if project_path is None and doc_id is None:
        doc_id = new_doc_id()
    target = autosave_path(project_path, folder, doc_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_project(
        world,
        target,
        include_inputs=False,
        extra={
            "autosave_of": None if project_path is None else str(Path(project_path).resolve()),
            "autosave_doc": doc_id,
            "autosaved_at": time.time(),
            # paths that came from an opened project stay untrusted after a recovery
            "untrusted_paths": sorted(getattr(world, "untrusted_paths", ()) or ()),
        },
        progress=progress,
    )
    try:
        _write_png(
            thumbnail_path(target), world_thumbnail(world) if thumbnail is None else thumbnail
        )
    except (OSError, ValueError, TypeError, ImportError) as exc:  # the autosave itself is written
        log.warning("could not write the thumbnail of %s: %s", target, exc)
    return target


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove %s: %s", path, exc)


def discard_autosave(
    project_path: str | Path | None = None,
    folder: str | Path | None = None,
    doc_id: str | None = None,
) -> None:
    """Remove one document's recovery file and its thumbnail (after a clean save, or
    when the user discards it). Other documents' recovery files are never touched."""
    auto = autosave_path(project_path, folder, doc_id)
    _unlink(auto)
    _unlink(thumbnail_path(auto))


def _recovery_for(auto: Path) -> Recovery | None:
    try:
        man = read_manifest(auto)
        saved = auto.stat().st_mtime
    except (SceneFormatError, OSError) as exc:
        log.warning("ignoring unreadable recovery file %s: %s", auto, exc)
        return None
    proj = man.get("autosave_of")
    proj_path = Path(proj) if isinstance(proj, str) and proj.endswith(EXTENSION) else None
    if proj_path is not None:
        stem, tag = _project_tag(proj_path)
        if not auto.name.startswith(f"{stem}-{tag}"):  # manifest and file name disagree
            log.warning("recovery file %s names another project (%s)", auto, proj_path)
            proj_path = None
    if proj_path is not None:
        try:
            if proj_path.stat().st_mtime >= saved:
                return None  # the project was saved after this autosave: nothing to recover
        except OSError:
            pass  # project gone: the autosave is all that is left
    doc = man.get("autosave_doc")
    at = man.get("autosaved_at", saved)
    layers = man.get("layers")
    thumb = thumbnail_path(auto)
    return Recovery(
        auto,
        proj_path,
        float(at) if isinstance(at, (int, float)) and math.isfinite(at) else saved,
        thumb if thumb.is_file() else None,
        doc if isinstance(doc, str) and _DOC_ID.fullmatch(doc) else None,
        len(layers) if isinstance(layers, list) else 0,
    )


def find_recovery(
    project_path: str | Path | None = None, folder: str | Path | None = None
) -> Recovery | None:
    """The newest recovery of `project_path` (None = an unsaved world), any slot."""
    base = Path(folder) if folder is not None else autosave_dir()
    legacy = autosave_path(project_path, base)
    prefix = legacy.name[: -len(AUTOSAVE_SUFFIX)]
    if not base.is_dir():
        return None
    found = [
        r
        for p in base.glob(f"{glob_escape(prefix)}*{AUTOSAVE_SUFFIX}")
        if (p == legacy or _DOC_ID.fullmatch(p.name[len(prefix) + 1 : -len(AUTOSAVE_SUFFIX)]))
        and (r := _recovery_for(p)) is not None
        and (r.project is None) == (project_path is None)
    ]
    return max(found, key=lambda r: r.saved_at) if found else None


def glob_escape(text: str) -> str:
    """`text` with glob wildcards escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def find_recoveries(folder: str | Path | None = None) -> list[Recovery]:
    """Every recovery file newer than its project, newest first (for startup and
    File > Recover)."""
    base = Path(folder) if folder is not None else autosave_dir()
    if not base.is_dir():
        return []
    found = [r for p in base.glob(f"*{AUTOSAVE_SUFFIX}") if (r := _recovery_for(p)) is not None]
    return sorted(found, key=lambda r: -r.saved_at)


def discard_recovery(recovery: Recovery) -> None:
    """Delete a recovery file (and its thumbnail) the user declined."""
    _unlink(recovery.autosave)
    _unlink(thumbnail_path(recovery.autosave))


def recover(
    recovery: Recovery, progress: Progress | ProgressFn | None = None
) -> tuple[World, list[str]]:
    """Load the autosaved world of a Recovery (it keeps its local input paths: the app
    wrote it). Raises SceneFormatError if the file is unreadable, `Cancelled` when
    `progress` is cancelled."""
    return load_project(recovery.autosave, trust_paths=True, progress=progress)
