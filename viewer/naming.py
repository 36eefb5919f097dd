"""Names and folders the app proposes: a world is called after the photo it was made from
(its layer, the Save dialog's file name), and file dialogs start beside the open project.
Pure Python, no Qt."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

from scene.io.images import VIDEO_SUFFIXES

log = logging.getLogger(__name__)

#: what the app makes a world or a scene of (photos, and videos: VIDEO_SUFFIXES)
PHOTO_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".tif",
    ".tiff",
    ".bmp",
    ".heic",
    ".exr",
    *VIDEO_SUFFIXES,
}
_SOURCE_KEYS = ("inputs", "photos", "photo", "panorama", "video", "input", "path", "source")


def _paths_in(tree: Any, depth: int = 0) -> list[str]:
    """Strings that look like photo/video file paths under the source-ish keys of `tree`."""
    out: list[str] = []
    if depth > 6:
        return out
    if isinstance(tree, dict):
        for k in _SOURCE_KEYS:
            if k in tree:
                out += _paths_in(tree[k], depth + 1)
        for k, v in tree.items():
            if k not in _SOURCE_KEYS and isinstance(v, (dict, list)):
                out += _paths_in(v, depth + 1)
    elif isinstance(tree, (list, tuple)):
        for v in list(tree)[:50]:
            out += _paths_in(v, depth + 1)
    elif isinstance(tree, (str, Path)) and Path(str(tree)).suffix.lower() in PHOTO_SUFFIXES:
        out.append(str(tree))
    return out


def source_photo(world: Any) -> Path | None:
    """The first photo (or video, or panorama) the world was made from, or None. Of a
    reconstruction's photos, the first one it placed: a photo it could not register
    (Office.jpg among Great Wall frames) named the world and its save (a trial)."""
    meta = getattr(world, "meta", {})
    rec = meta.get("reconstruct") if isinstance(meta, dict) else None
    status = rec.get("photos") if isinstance(rec, dict) else None
    for tree in [lay.source for lay in getattr(world, "layers", [])] + [meta]:
        found = _paths_in(tree)
        if found and isinstance(status, dict):
            placed = [p for p in found if status.get(Path(p).name) == "registered"]
            found = placed or found
        if found:
            return Path(found[0])
    return None


def clean_stem(stem: str) -> str:
    """A file-name-safe version of a photo's stem ('IMG 0042' stays readable)."""
    s = re.sub(r"[^\w\- .]+", "_", stem).strip(" ._")
    return s[:80] or "world"


def world_name(world: Any) -> str | None:
    """'chelsea' for a world made from chelsea.jpg; None when no source photo is known."""
    p = source_photo(world)
    return clean_stem(p.stem) if p is not None else None


def name_world_layers(world: Any) -> list[str]:
    """Rename base layers still called the generators' generic "World" after the source
    photo (not an undoable edit: call on a fresh world). Returns the new names."""
    stem = world_name(world)
    if stem is None:
        return []
    names = []
    for lay in world.layers:
        if lay.kind == "world" and lay.name == "World":
            lay.name = world.unique_name(stem)
            names.append(lay.name)
    return names


def dialog_folder(project: Path | None, world: Any, last_dir: str | None) -> Path:
    """Where a file dialog starts: beside the open project or scene file, else beside the
    world's source photo when that folder can be written (a shared or read-only photo
    folder is no place to propose saving into), else the last folder used, else the home
    folder."""

    candidates: list[tuple[Path | None, bool]] = [
        (Path(project).parent if project else None, False)
    ]
    p = source_photo(world)
    candidates.append((p.parent if p is not None else None, True))
    candidates.append((Path(last_dir) if last_dir else None, False))
    for c, writable in candidates:
        if c is not None and c.is_dir() and (not writable or _writable(c)):
            return c
    return Path.home()


def _writable(folder: Path) -> bool:
    """The folder can be written and is not marked read-only: its mode has a write bit
    (root may write anywhere, but a folder shared read-only, r-xr-xr-x, is no place to
    propose saving into; a trial running as root was offered one)."""
    try:
        mode = folder.stat().st_mode
    except OSError as exc:
        log.info("cannot read the mode of %s: %s", folder, exc)
        return False
    return os.access(folder, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
