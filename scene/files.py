"""Safe files for every part of Wander: atomic writes, temp files, output checks, sweeping.

The one public home of the file-safety conventions (issue 11/16): every save writes a temp
file beside its target (`.wander-tmp-<pid>-<random>-<name>`) and renames it into place, so
a failed or cancelled write leaves the previous file; `check_outputs` refuses an output
that would replace an input; `sweep_temps` removes a killed run's litter. Used by scene.io's
writers, scene.project, scene.export, the generators, the CLI and the viewer.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import SceneFormatError

log = logging.getLogger(__name__)


def default_file_mode() -> int:
    """0o666 minus the process umask: what open() gives a new file (mkstemp gives 0600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def default_dir_mode() -> int:
    """0o777 minus the process umask: what mkdir() gives a new folder (mkdtemp gives 0700)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o777 & ~mask


# ------------------------------------------------------------------ temp files
#: every temp file or folder Wander makes starts with this, then "<pid>-<random>-<name>"
TEMP_PREFIX = ".wander-tmp-"
_TEMP_RE = re.compile(r"^\.wander-tmp-(\d+)-[0-9a-z_]+-")
_NAME_MAX = 255
_swept: set[str] = set()


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB chunks. Raises OSError."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(path: str | Path) -> Path:
    """The JSON record Wander keeps beside a file it wrote (a world's or a panorama's
    provenance, an export's start view): `path` + ".json", e.g. `world.ply.json`."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def temp_name(name: str, suffix: str = "") -> str:
    """`.wander-tmp-<pid>-<random>-<name><suffix>`: the one temp-name pattern.

    The owning pid in the name lets `sweep_temps` tell a dead run's litter from a live
    process's work in progress. Long names are shortened to fit a 255-byte file name.
    """
    head = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-"
    return head + _fit(name, suffix, len(head.encode()))


def _fit(name: str, suffix: str, used: int) -> str:
    """`name` + `suffix`, `name` shortened (extension kept) to fit 255 bytes after `used`."""
    room = _NAME_MAX - used - len(suffix.encode())
    raw = name.encode()
    if len(raw) > room:
        keep = Path(name).suffix.encode()  # keep the extension: writers pick formats by it
        keep = keep if len(keep) < room // 2 else b""
        raw = raw[: room - len(keep)] + keep
        name = raw.decode(errors="ignore")
    return name + suffix


def make_temp_file(path: str | Path, suffix: str = "") -> tuple[int, Path]:
    """Create (O_EXCL, mode 0600) a temp file beside `path`; returns (fd, temp path).

    The folder is swept of dead runs' temps first. A folder we may not write in raises
    SceneFormatError naming the user's `path`, never the random temp name.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SceneFormatError(path, f"folder {folder} does not exist")
    sweep_once(folder)
    prefix = f"{TEMP_PREFIX}{os.getpid()}-"
    try:  # mkstemp: O_EXCL, mode 0600, a random part of [a-z0-9_]
        fd, tmp = tempfile.mkstemp(
            prefix=prefix, suffix="-" + _fit(path.name, suffix, len(prefix) + 10), dir=folder
        )
    except OSError as exc:
        raise SceneFormatError(path, cannot_write(folder, exc)) from None
    return fd, Path(tmp)


def make_temp_dir(name: str, parent: str | Path | None = None) -> Path:
    """Create (mode 0700) a temp folder `.wander-tmp-<pid>-<random>-<name>` in `parent`
    (default: the system temp folder, swept of dead runs' folders first)."""
    folder = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    sweep_once(folder)
    prefix = f"{TEMP_PREFIX}{os.getpid()}-"
    try:  # mkdtemp: mode 0700, a random part of [a-z0-9_]
        return Path(
            tempfile.mkdtemp(
                prefix=prefix, suffix="-" + _fit(name, "", len(prefix) + 10), dir=folder
            )
        )
    except OSError as exc:
        raise SceneFormatError(folder / name, cannot_write(folder, exc)) from None


@contextmanager
def temp_dir(name: str, parent: str | Path | None = None) -> Iterator[Path]:
    """`make_temp_dir` that is removed (with its contents) when the block ends."""
    tmp = make_temp_dir(name, parent)
    try:
        yield tmp
    finally:
        _discard(tmp)


def _process_start_time(pid: int) -> float | None:
    """Unix time a live process started (Linux /proc), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        with open("/proc/stat", "rb") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith(b"btime"))
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _owner_gone(pid: int, mtime: float) -> bool:
    """True when the process that made a temp of age `mtime` can no longer be running:
    the pid is dead, or its pid now belongs to a process started after the temp."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive but another user's: never touch
        return False
    started = _process_start_time(pid)
    # the pid was reused: the live process started after the temp was last written
    return started is not None and mtime < started - 2.0


def sweep_temps(folder: str | Path) -> list[Path]:
    """Remove Wander temps (`.wander-tmp-<pid>-...`) in `folder` whose run is over.

    Only names of our pattern are touched, and only when the owning pid is dead or was
    reused by a process that started after the temp was written; a live run's temps are
    kept. Returns the removed paths; never raises (failures are logged).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if not m:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not _owner_gone(int(m.group(1)), st.st_mtime):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
            log.info("removed a killed run's temp %s", entry.path)
        except OSError as exc:
            log.warning("cannot remove stale temp %s: %s", entry.path, exc)
    return removed


def sweep_once(folder: str | Path) -> None:
    """`sweep_temps(folder)` the first time this process writes in `folder`."""
    try:
        key = os.path.realpath(folder)
    except (OSError, ValueError):
        return
    if key not in _swept:
        _swept.add(key)
        sweep_temps(folder)


def _discard(tmp: Path) -> None:
    """Remove a temp file or folder of ours; a missing one is fine, a failure is logged."""
    try:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp)
        else:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove temp %s: %s", tmp, exc)


def commit_temp(tmp: str | Path, path: str | Path) -> None:
    """Give a finished temp file the usual mode and rename it to `path` (atomic)."""
    try:
        os.chmod(tmp, default_file_mode())  # the temp was made 0600
        os.replace(tmp, path)
    except OSError as exc:
        raise SceneFormatError(path, f"cannot write: {exc.strerror or exc}") from None


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside `path`; on success it replaces `path`, on error it vanishes.

    A writer that raises midway leaves any previous file at `path` untouched. The temp
    is named by `temp_name`, so one left by a killed run is swept by the next run.
    """
    path = Path(path)
    fd, tmp = make_temp_file(path)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        commit_temp(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through `atomic_write` (the previous file survives a failure).
    Raises SceneFormatError when the folder is missing or not writable."""
    with atomic_write(path) as f:
        f.write(data)


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Like `atomic_write` but yields a temp *path* for libraries that write by name
    (the temp name ends in `suffix` when given, else in `path`'s own name)."""
    path = Path(path)
    fd, tmp = make_temp_file(path, suffix if suffix and not path.name.endswith(suffix) else "")
    os.close(fd)
    try:
        yield tmp
        commit_temp(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


# ------------------------------------------------------------- inputs vs outputs
def same_file(a: str | Path, b: str | Path) -> bool:
    """True when `a` and `b` are (or would be) the same file: equal paths, relative vs
    absolute, symlinks, hard links (st_dev + st_ino), or the same not-yet-existing path
    once both are resolved."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError as exc:  # vanished or unreadable meanwhile: compare the paths
        log.debug("samefile(%s, %s): %s", a, b, exc)
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return os.path.abspath(a) == os.path.abspath(b)


def write_error_reason(folder: str | Path, exc: OSError) -> str:
    """Why a file could not be created in `folder`, for a message: the OS's words, except
    where they mislead — creating a file in a folder that exists but takes none (/proc,
    /sys) fails with "No such file or directory" on Linux."""
    if exc.errno == errno.ENOENT and Path(folder).is_dir():
        return "the system does not let files be created there"
    return exc.strerror or str(exc)


def cannot_write(folder: str | Path, exc: OSError) -> str:
    """The one line every writer gives when `folder` takes no file: "cannot write in
    FOLDER: why" (`write_error_reason`)."""
    return f"cannot write in {folder}: {write_error_reason(folder, exc)}"


def write_probe_error(folder: str | Path) -> OSError | None:
    """Why no file can be created in `folder` (read-only mount, immutable folder, no
    permission), found by creating and removing a probe file there, since `os.access`
    says yes to root whatever the folder; None when one can."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".wander-probe-", dir=folder)
    except OSError as exc:
        return exc
    os.close(fd)
    os.unlink(probe)
    return None


def check_can_write_in(folder: str | Path, label: str) -> None:
    """Refuse, before any work, a destination folder that cannot be written: `folder`
    itself when it exists, else the nearest folder above it (where it would be made).
    Raises SceneFormatError naming `label` (e.g. "--cameras") and the folder: not a
    folder, read-only or no permission."""
    here = Path(folder).absolute()
    probe = here
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SceneFormatError(here, f"{label}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SceneFormatError(
            probe, f"cannot write in this folder (read-only or no permission), needed for {label}"
        )


def check_outputs(
    outputs: Iterable[tuple[str, str | Path | None]],
    inputs: Iterable[tuple[str, str | Path | None]],
) -> None:
    """Refuse, before any work, an output that is the same file as an input or as
    another output.

    outputs, inputs: (label, path) pairs, e.g. ("--out", "scene.ply"); None paths are
    skipped. Raises SceneFormatError naming the output and what it would overwrite.
    """
    outs = [(lab, p) for lab, p in outputs if p is not None and str(p) != ""]
    ins = [(lab, p) for lab, p in inputs if p is not None and str(p) != ""]
    for i, (olab, out) in enumerate(outs):
        for ilab, inp in ins:
            if same_file(out, inp):
                what = ilab if ilab.startswith("the ") else f"an input, {ilab}"
                raise SceneFormatError(
                    out, f"{olab} would overwrite {what} ({inp}); choose another output file"
                )
        for olab2, out2 in outs[:i]:
            if same_file(out, out2):
                raise SceneFormatError(
                    out, f"{olab} and {olab2} name the same file; choose different outputs"
                )


def referenced_files(*trees: object, limit: int = 2000) -> list[tuple[str, Path]]:
    """Existing files named anywhere in nested dicts/lists (a layer's `source`, a world's
    `meta`: the photos and panorama a scene was made from), as (label, path) pairs for
    `check_outputs`. At most `limit` files; depth is bounded."""
    found: list[tuple[str, Path]] = []
    seen: set[str] = set()

    def walk(v: object, key: str, depth: int) -> None:
        if len(found) >= limit or depth > 8:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, str(k), depth + 1)
        elif isinstance(v, (list, tuple)):
            for x in v[:limit]:
                walk(x, key, depth + 1)
        elif isinstance(v, (str, Path)) and 0 < len(str(v)) < 4096 and str(v) not in seen:
            seen.add(str(v))
            try:
                if os.path.isfile(v):
                    found.append((f"{key or 'file'} {Path(v).name}", Path(v)))
            except (OSError, ValueError):
                return

    for tree in trees:
        walk(tree, "", 0)
    return found
