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

Autosave / crash recovery is plain functions here (no Qt) so it can be unit-tested:
`autosave_path`, `write_autosave`, `find_recovery`, `find_recoveries`, `discard_autosave`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidSceneError, SceneFormatError
from .export import atomic_write, ply_bytes, read_ply_bytes
from .gaussians import GaussianCloud
from .mesh import Mesh
from .rotations import decompose_similarity
from .world import Bookmark, Layer, World, reserve_layer_ids

FORMAT_NAME = "wander-project"
FORMAT_VERSION = (1, 0)
MANIFEST = "manifest.json"
EXTENSION = ".wander"
INPUT_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".exr", ".hdr",
                    ".bmp", ".heic", ".mp4", ".mov"}
MAX_INPUT_BYTES = 1 << 30


def app_version() -> str:
    try:
        from importlib.metadata import version

        return version("wander")
    except Exception:  # not installed as a distribution: running from the source tree
        return "0.1.0"


# ======================================================================= encoding
class _Encoder:
    """JSON-safe encoding of meta/source values; arrays become separate .npy entries."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.files: dict[str, str] = {}  # original path -> stored entry name

    def value(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, str)):
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
    def __init__(self, arrays: dict[str, np.ndarray], warnings: list[str]) -> None:
        self.arrays, self.warnings = arrays, warnings

    def value(self, v: Any, where: str) -> Any:
        if isinstance(v, list):
            return [self.value(x, where) for x in v]
        if not isinstance(v, dict):
            return v
        if "__npy__" in v:
            arr = self.arrays.get(v["__npy__"])
            if arr is None:
                self.warnings.append(f"{where}: array {v['__npy__']} is missing from the project")
            return arr
        if "__path__" in v:
            return Path(v["__path__"])
        if "__float__" in v:
            return float(v["__float__"])
        if "__tuple__" in v:
            return tuple(self.value(x, where) for x in v["__tuple__"])
        if "__items__" in v:
            return {_hashable(self.value(k, where)): self.value(x, where) for k, x in v["__items__"]}
        if "__unsupported__" in v:
            self.warnings.append(f"{where}: a {v['__unsupported__']} value could not be saved "
                                 f"and was restored as text")
            return v.get("repr", "")
        return {k: self.value(x, where) for k, x in v.items()}


def _hashable(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# =================================================================== input files
def _input_candidates(v: Any, key: str = "") -> list[str]:
    """Strings in meta/source that name existing input files (photos, panoramas...)."""
    out: list[str] = []
    if isinstance(v, (str, Path)):
        s = str(v)
        if len(s) < 4096 and Path(s).suffix.lower() in INPUT_EXTENSIONS:
            try:
                p = Path(s)
                if p.is_file() and p.stat().st_size <= MAX_INPUT_BYTES:
                    out.append(s)
            except OSError:
                pass
    elif isinstance(v, dict):
        for k, x in v.items():
            out += _input_candidates(x, str(k))
    elif isinstance(v, (list, tuple)):
        for x in v:
            out += _input_candidates(x, key)
    return out


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ========================================================================= saving
def save_project(world: World, path: str | Path, *, extra: dict[str, Any] | None = None,
                 include_inputs: bool = True) -> None:
    """Write `world` to a `.wander` project at `path` atomically.

    Input files referenced by path in `world.meta` or a layer's `source` (photos, the
    panorama) are copied in unless `include_inputs` is False (autosaves: the originals
    are still on disk). `extra` adds top-level manifest fields (autosave bookkeeping).
    """
    path = Path(path)
    enc = _Encoder()
    layers_json, payloads = [], []
    for lay in world.layers:
        if isinstance(lay.data, GaussianCloud):
            entry = f"layers/{lay.id}.ply"
            payloads.append((entry, lambda c=lay.data: ply_bytes(c)))
            data_type, count = "cloud", len(lay.data)
        elif isinstance(lay.data, Mesh):
            entry = f"layers/{lay.id}.npz"
            payloads.append((entry, lambda m=lay.data: _mesh_npz(m)))
            data_type, count = "mesh", lay.data.n_vertices
        else:
            raise InvalidSceneError(f"layer {lay.name!r} holds {type(lay.data).__name__}, "
                                    "which a project cannot store")
        layers_json.append({
            "id": int(lay.id), "name": lay.name, "kind": lay.kind,
            "transform": lay.transform.tolist(), "visible": bool(lay.visible),
            "source": enc.value(lay.source), "generator": lay.source.get("generator"),
            "data": data_type, "count": count, "file": entry,
            "data_meta": enc.value(lay.data.meta),
        })
    inputs = []
    seen: set[str] = set()
    candidates = (_input_candidates(world.meta) + [x for lay in world.layers
                                                   for x in _input_candidates(lay.source)]
                  if include_inputs else [])
    for s in candidates:
        if s in seen:
            continue
        seen.add(s)
        p = Path(s)
        digest = _sha256_file(p)
        inputs.append({"original": s, "stored": f"inputs/{digest[:12]}_{p.name}",
                       "sha256": digest, "size": p.stat().st_size})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": f"{FORMAT_VERSION[0]}.{FORMAT_VERSION[1]}",
        "app_version": app_version(),
        "saved_at": time.time(),
        "up_axis": [float(v) for v in world.up_axis],
        "meta": enc.value(world.meta),
        "bookmarks": [{"name": b.name, "position": [float(v) for v in b.position],
                       "yaw": float(b.yaw), "pitch": float(b.pitch),
                       "fov_y_deg": float(b.fov_y_deg)} for b in world.bookmarks],
        "layers": layers_json,
        "inputs": inputs,
        "arrays": sorted(enc.arrays),
        **(extra or {}),
    }

    def write(fh: Any) -> None:
        with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1), zipfile.ZIP_DEFLATED)
            for name, arr in enc.arrays.items():
                zf.writestr(name, _npy_bytes(arr), zipfile.ZIP_DEFLATED)
            for name, make in payloads:
                zf.writestr(name, make(), zipfile.ZIP_STORED)
            for inp in inputs:
                zf.write(inp["original"], inp["stored"], zipfile.ZIP_STORED)

    if path.suffix == "":
        path = path.with_suffix(EXTENSION)
    atomic_write(path, write)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
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


def _mesh_from_npz(data: bytes, where: str) -> Mesh:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return Mesh(z["vertices"], z["faces"],
                        z["vertex_colors"] if "vertex_colors" in z else None,
                        z["uvs"] if "uvs" in z else None,
                        z["texture"] if "texture" in z else None)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, InvalidSceneError, EOFError) as exc:
        raise SceneFormatError(where, f"mesh data is corrupt ({exc})") from None


# ======================================================================== loading
class _Archive:
    """Read entries from a project zip, or from what is left of a truncated one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.truncated = False
        self._zf: zipfile.ZipFile | None = None
        self._entries: dict[str, bytes | Exception] = {}
        try:
            self._zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            self.truncated = True
            self._entries = _scan_local_entries(path.read_bytes())
            if not self._entries:
                raise SceneFormatError(path, "not a Wander project (not a zip archive, "
                                             "or too damaged to read any entry)") from None
        except OSError as exc:
            raise SceneFormatError(path, f"cannot open project: {exc.strerror or exc}") from None

    def names(self) -> list[str]:
        return self._zf.namelist() if self._zf is not None else list(self._entries)

    def read(self, name: str) -> bytes:
        """Entry bytes; KeyError if absent, SceneFormatError if damaged."""
        if not isinstance(name, str):
            raise KeyError(repr(name))
        if self._zf is not None:
            try:
                info = self._zf.getinfo(name)
                if info.compress_type != zipfile.ZIP_STORED and \
                        info.file_size > 1000 * info.compress_size + (1 << 20):
                    raise SceneFormatError(self.path, f"{name} claims an implausible "
                                                      "compression ratio (damaged or malicious)")
                return self._zf.read(name)
            except KeyError:
                raise
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise SceneFormatError(self.path, f"{name} is damaged ({exc})") from None
        got = self._entries[name]
        if isinstance(got, Exception):
            raise SceneFormatError(self.path, f"{name} is damaged ({got})")
        return got

    def close(self) -> None:
        if self._zf is not None:
            self._zf.close()


def _scan_local_entries(data: bytes) -> dict[str, bytes | Exception]:
    """Walk zip local file headers from the start (no central directory needed).

    Entries cut off by the truncation map to an exception; complete ones to their bytes
    (CRC checked).
    """
    out: dict[str, bytes | Exception] = {}
    pos, n = 0, len(data)
    while pos + 30 <= n and data[pos:pos + 4] == b"PK\x03\x04":
        (_, _, flags, method, _, _, crc, csize, usize, nlen, xlen) = struct.unpack_from(
            "<IHHHHHIIIHH", data, pos)
        name_start = pos + 30
        if name_start + nlen + xlen > n:
            break
        name = data[name_start:name_start + nlen].decode("utf-8", "replace")
        extra = data[name_start + nlen:name_start + nlen + xlen]
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
        raw = data[start:end]
        try:
            if method == zipfile.ZIP_STORED:
                body = raw
            elif method == zipfile.ZIP_DEFLATED:
                body = zlib.decompress(raw, -15, max(usize, 1))
            else:
                raise ValueError(f"compression method {method} not supported")
            if zlib.crc32(body) & 0xFFFFFFFF != crc or len(body) != usize:
                raise ValueError("CRC or size mismatch")
            out[name] = body
        except (zlib.error, ValueError) as exc:
            out[name] = SceneFormatError(None, str(exc))
        pos = end
    return out


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 1:
            vals = extra[i + 4:i + 4 + size]
            k = 0
            if usize == 0xFFFFFFFF and k + 8 <= len(vals):
                usize = struct.unpack_from("<Q", vals, k)[0]
                k += 8
            if csize == 0xFFFFFFFF and k + 8 <= len(vals):
                csize = struct.unpack_from("<Q", vals, k)[0]
            break
        i += 4 + size
    return usize, csize


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a project (fast: reads no layer data)."""
    arc = _Archive(Path(path))
    try:
        return _parse_manifest(arc)
    finally:
        arc.close()


def _parse_manifest(arc: _Archive) -> dict[str, Any]:
    try:
        raw = arc.read(MANIFEST)
    except KeyError:
        raise SceneFormatError(arc.path, "not a Wander project (no manifest.json)") from None
    try:
        man = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SceneFormatError(arc.path, f"manifest.json is corrupt ({exc})") from None
    if not isinstance(man, dict) or man.get("format") != FORMAT_NAME:
        raise SceneFormatError(arc.path, "not a Wander project (manifest has no "
                                         f"'format': '{FORMAT_NAME}')")
    return man


def _parse_version(text: Any, path: Path) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in str(text).split(".")[:2])
        return major, minor
    except ValueError:
        raise SceneFormatError(path, f"project format version {text!r} is not understood") from None


def default_inputs_dir() -> Path:
    """Where inputs stored in a project are unpacked when their originals are gone."""
    base = os.environ.get("WANDER_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or \
        str(Path.home() / ".cache")
    sub = "" if os.environ.get("WANDER_CACHE_DIR") else "wander"
    return Path(base) / sub / "project-inputs"


def load_project(path: str | Path, *, inputs_dir: str | Path | None = None
                 ) -> tuple[World, list[str]]:
    """Open a `.wander` project; returns (World, warnings about what could not be restored).

    Inputs whose original files are gone are unpacked under `inputs_dir` (default: the
    user cache) and the paths in meta/source are pointed there.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such project")
    arc = _Archive(path)
    warnings: list[str] = []
    try:
        man = _parse_manifest(arc)
        major, minor = _parse_version(man.get("format_version"), path)
        if major > FORMAT_VERSION[0]:
            raise SceneFormatError(
                path, f"written by a newer Wander ({man.get('app_version', '?')}, project format "
                      f"{major}.{minor}); this version reads format {FORMAT_VERSION[0]}.x — "
                      "update Wander to open it")
        if major == FORMAT_VERSION[0] and minor > FORMAT_VERSION[1]:
            warnings.append(f"project written by a newer Wander (format {major}.{minor}); "
                            "anything it added that this version does not know was ignored")
        if arc.truncated:
            warnings.append("the project file is truncated or damaged; opened what it still holds")
        arrays: dict[str, np.ndarray] = {}
        for name in _list_field(man, "arrays", warnings):
            try:
                arrays[name] = np.load(io.BytesIO(arc.read(name)), allow_pickle=False)
            except (KeyError, SceneFormatError, ValueError, OSError, EOFError):
                warnings.append(f"array {name} is missing or damaged")
        dec = _Decoder(arrays, warnings)
        remap = _restore_inputs(arc, _list_field(man, "inputs", warnings), inputs_dir, warnings)

        w = World()
        try:
            up = np.asarray(man.get("up_axis", [0, 1, 0]), np.float64).reshape(3)
            if not np.all(np.isfinite(up)) or np.linalg.norm(up) < 1e-9:
                raise ValueError("degenerate up axis")
            w.up_axis = up
        except (ValueError, TypeError):
            warnings.append("up axis unreadable; using +Y")
        meta = _remap_paths(dec.value(man.get("meta", {}), "world meta"), remap)
        if not isinstance(meta, dict):
            warnings.append("world metadata is unreadable; dropped")
            meta = {}
        w.meta = meta
        for i, b in enumerate(_list_field(man, "bookmarks", warnings)):
            try:
                w.bookmarks.append(Bookmark(str(b["name"]), b["position"], float(b["yaw"]),
                                            float(b["pitch"]), float(b["fov_y_deg"])))
            except (KeyError, TypeError, ValueError):
                warnings.append(f"bookmark {i + 1} is unreadable and was skipped")
        for i, entry in enumerate(_list_field(man, "layers", warnings)):
            if not isinstance(entry, dict):
                warnings.append(f"layer entry {i + 1} in the manifest is unreadable; skipped")
                continue
            lay = _load_layer(arc, entry, dec, remap, warnings)
            if lay is not None:
                w.layers.append(lay)
        _advance_layer_ids(w)
        w.clear_history()
        return w, warnings
    finally:
        arc.close()


def _list_field(man: dict, key: str, warnings: list[str]) -> list:
    v = man.get(key, [])
    if isinstance(v, list):
        return v
    warnings.append(f"manifest field {key!r} is unreadable; ignored")
    return []


def _load_layer(arc: _Archive, entry: dict, dec: _Decoder, remap: dict[str, str],
                warnings: list[str]) -> Layer | None:
    name = str(entry.get("name", "?"))
    file = str(entry.get("file", ""))
    try:
        raw = arc.read(file)
    except KeyError:
        warnings.append(f"layer {name!r}: {file} is missing from the project; layer skipped")
        return None
    except SceneFormatError as exc:
        warnings.append(f"layer {name!r}: {file} is damaged ({exc.problem}); layer skipped")
        return None
    try:
        if entry.get("data") == "mesh" or file.endswith(".npz"):
            data: GaussianCloud | Mesh = _mesh_from_npz(raw, file)
        else:
            data = read_ply_bytes(raw, file)
        data_meta = dec.value(entry.get("data_meta", {}), f"layer {name!r}")
        data.meta = data_meta if isinstance(data_meta, dict) else {}
        source = _remap_paths(dec.value(entry.get("source", {}), f"layer {name!r}"), remap)
        if not isinstance(source, dict):
            warnings.append(f"layer {name!r}: its source record is unreadable; dropped")
            source = {}
        kind = entry.get("kind", "world")
        transform = np.asarray(entry.get("transform", np.eye(4).tolist()), np.float64)
        try:
            decompose_similarity(transform)
        except ValueError as exc:  # NaN / singular / sheared: every view and export breaks
            warnings.append(f"layer {name!r}: its transform is invalid ({exc}); "
                            "reset to identity")
            transform = np.eye(4)
        layer = Layer(name=name, data=data, kind=kind if kind in ("world", "object", "mesh") else
                      ("mesh" if isinstance(data, Mesh) else "object"),
                      transform=transform,
                      visible=entry.get("visible", True) is not False, id=int(entry["id"]),
                      source=source)
    except SceneFormatError as exc:
        warnings.append(f"layer {name!r}: {file} is corrupt ({exc.problem}); layer skipped")
        return None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        warnings.append(f"layer {name!r}: its manifest entry is unreadable ({exc}); layer skipped")
        return None
    return layer


def _advance_layer_ids(w: World) -> None:
    """Keep new layers' ids above the restored ones."""
    if w.layers:
        reserve_layer_ids(max(lay.id for lay in w.layers))


def _restore_inputs(arc: _Archive, inputs: list[dict], inputs_dir: str | Path | None,
                    warnings: list[str]) -> dict[str, str]:
    """Map original input paths to usable ones (unpacking stored copies when needed)."""
    remap: dict[str, str] = {}
    for inp in inputs:
        try:
            orig, stored, digest = str(inp["original"]), str(inp["stored"]), str(inp["sha256"])
        except (KeyError, TypeError):
            continue
        p = Path(orig)
        try:
            if p.is_file() and p.stat().st_size == int(inp.get("size", -1)):
                continue  # the original is still there
        except OSError:
            pass
        try:
            body = arc.read(stored)
        except (KeyError, SceneFormatError):
            warnings.append(f"input {p.name} is missing from the project and from {p.parent}")
            continue
        target = Path(inputs_dir or default_inputs_dir()) / digest[:16] / p.name
        try:
            if not (target.is_file() and target.stat().st_size == len(body)):
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.tmp")
                tmp.write_bytes(body)
                os.replace(tmp, target)
            remap[orig] = str(target)
        except OSError as exc:
            warnings.append(f"input {p.name} could not be unpacked to {target.parent}: {exc}")
    return remap


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
    """The inputs a project holds: [{original, stored, sha256, size}]."""
    return list(read_manifest(path).get("inputs", []))


def extract_input(path: str | Path, stored: str, dest: str | Path) -> Path:
    """Copy one stored input (e.g. 'inputs/ab12_photo.jpg') out of a project to `dest`."""
    arc = _Archive(Path(path))
    try:
        body = arc.read(stored)
    except KeyError:
        raise SceneFormatError(path, f"the project holds no {stored}") from None
    finally:
        arc.close()
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / Path(stored).name.split("_", 1)[-1]
    atomic_write(dest, lambda fh: fh.write(body))
    return dest


def snapshot_world(world: World) -> World:
    """A copy of the world's structure sharing the (immutable-by-convention) layer data,
    so a worker thread can save it while the user keeps editing."""
    import copy

    snap = World()
    snap.layers = [Layer(lay.name, lay.data, lay.kind, lay.transform.copy(), lay.visible,
                         lay.id, copy.deepcopy(lay.source)) for lay in world.layers]
    snap.bookmarks = [Bookmark(b.name, b.position.copy(), b.yaw, b.pitch, b.fov_y_deg)
                      for b in world.bookmarks]
    snap.up_axis = np.array(world.up_axis, np.float64).copy()
    snap.meta = copy.copy(world.meta)
    return snap


# ======================================================================= autosave
@dataclass
class Recovery:
    """An autosave newer than the project it belongs to (or of an unsaved world)."""

    autosave: Path
    project: Path | None
    saved_at: float


def autosave_dir() -> Path:
    """Folder for recovery files: $WANDER_AUTOSAVE_DIR, else the user's data dir."""
    env = os.environ.get("WANDER_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wander" / "autosave"


def autosave_path(project_path: str | Path | None = None, folder: str | Path | None = None) -> Path:
    """The recovery file for a project (or for the unsaved world when None).

    `folder` defaults to `autosave_dir()`; the app passes its settings folder.
    """
    base = Path(folder) if folder is not None else autosave_dir()
    if project_path is None:
        return base / "untitled.autosave.wander"
    p = Path(project_path).resolve()
    tag = hashlib.sha1(str(p).encode()).hexdigest()[:10]
    return base / f"{p.stem}-{tag}.autosave.wander"


def write_autosave(world: World, project_path: str | Path | None = None,
                   folder: str | Path | None = None) -> Path:
    """Save `world` to its recovery file (atomic); returns the file written."""
    target = autosave_path(project_path, folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_project(world, target, include_inputs=False, extra={
        "autosave_of": None if project_path is None else str(Path(project_path).resolve()),
        "autosaved_at": time.time()})
    return target


def discard_autosave(project_path: str | Path | None = None,
                     folder: str | Path | None = None) -> None:
    """Remove the recovery file (after a clean save or when the user declines recovery)."""
    try:
        autosave_path(project_path, folder).unlink()
    except FileNotFoundError:
        pass


def _recovery_for(auto: Path) -> Recovery | None:
    try:
        man = read_manifest(auto)
        saved = auto.stat().st_mtime
    except (SceneFormatError, OSError):
        return None
    proj = man.get("autosave_of")
    proj_path = Path(proj) if proj else None
    if proj_path is not None:
        try:
            if proj_path.stat().st_mtime >= saved:
                return None  # the project was saved after this autosave: nothing to recover
        except OSError:
            pass  # project gone: the autosave is all that is left
    return Recovery(auto, proj_path, float(man.get("autosaved_at", saved)))


def find_recovery(project_path: str | Path | None = None,
                  folder: str | Path | None = None) -> Recovery | None:
    """The recovery for `project_path` (None = the unsaved world) if it is newer."""
    auto = autosave_path(project_path, folder)
    return _recovery_for(auto) if auto.is_file() else None


def find_recoveries(folder: str | Path | None = None) -> list[Recovery]:
    """Every recovery file newer than its project, newest first (for startup)."""
    base = Path(folder) if folder is not None else autosave_dir()
    if not base.is_dir():
        return []
    found = [r for p in base.glob("*.autosave.wander") if (r := _recovery_for(p)) is not None]
    return sorted(found, key=lambda r: -r.saved_at)


def discard_recovery(recovery: Recovery) -> None:
    """Delete a recovery file the user declined."""
    try:
        recovery.autosave.unlink()
    except FileNotFoundError:
        pass


def recover(recovery: Recovery) -> tuple[World, list[str]]:
    """Load the autosaved world of a Recovery."""
    return load_project(recovery.autosave)
