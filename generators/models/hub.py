"""Where a backend's weights are: the standard Hugging Face cache, read without any network.

States: `downloaded` (every repo has a snapshot with its required files), `missing` (no
snapshot), `broken` (a snapshot without a required file, a file whose blob is gone, or a
download left half-way). Resolution returns the local snapshot folder, and loaders read it
inside `offline()`, which switches the Hugging Face libraries off the network for the
load only (never for the whole process: the Models dialog downloads in the same process).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scene.errors import InputError

from .registry import Backend, Repo, get_backend

log = logging.getLogger(__name__)


class ModelMissing(InputError):
    """A backend's weights or packages are not here; the message names the command that fixes it."""


_offline_lock = threading.Lock()
_offline_depth = 0
_offline_saved: tuple[str | None, bool | None] = (None, None)


@contextmanager
def offline() -> Iterator[None]:
    """Keep huggingface_hub, transformers and diffusers off the network while a backend loads.

    Sets HF_HUB_OFFLINE=1 in the environment and in `huggingface_hub.constants` (which
    read it once at import: the flag alone would be too late) and restores both on exit,
    also when loading raises. Reentrant and thread-safe: nested or concurrent loads share
    one offline period that ends with the last of them. A download started while a load is
    running is refused (`download.hub_disabled`), as it would be with the user's own flag.
    """
    global _offline_depth, _offline_saved
    with _offline_lock:
        if _offline_depth == 0:
            try:
                from huggingface_hub import constants

                saved_const: bool | None = bool(constants.HF_HUB_OFFLINE)
                constants.HF_HUB_OFFLINE = True
            except ImportError:  # the manager works without huggingface_hub installed
                saved_const = None
            _offline_saved = (os.environ.get("HF_HUB_OFFLINE"), saved_const)
            os.environ["HF_HUB_OFFLINE"] = "1"
        _offline_depth += 1
    try:
        yield
    finally:
        with _offline_lock:
            _offline_depth -= 1
            if _offline_depth == 0:
                env, const = _offline_saved
                if env is None:
                    os.environ.pop("HF_HUB_OFFLINE", None)
                else:
                    os.environ["HF_HUB_OFFLINE"] = env
                if const is not None:
                    from huggingface_hub import constants

                    constants.HF_HUB_OFFLINE = const


def cache_dir() -> Path:
    """The hub cache folder, read from the environment at call time (HF_HUB_CACHE, then
    HF_HOME/hub, then huggingface_hub's default), so tests and users can point it anywhere."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_folder(repo_id: str, cache: Path | None = None) -> Path:
    """`models--org--name` inside the cache (the layout huggingface_hub writes)."""
    return (cache or cache_dir()) / ("models--" + repo_id.replace("/", "--"))


@dataclass
class RepoState:
    repo: str
    state: str  # downloaded | missing | broken
    detail: str = ""
    snapshot: Path | None = None
    size_bytes: int = 0


def _snapshot_for(folder: Path, revision: str = "main") -> Path | None:
    ref = folder / "refs" / revision
    if ref.is_file():
        snap = folder / "snapshots" / ref.read_text().strip()
        if snap.is_dir():
            return snap
    snaps = (
        sorted((folder / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime)
        if (folder / "snapshots").is_dir()
        else []
    )
    return snaps[-1] if snaps else None


def repo_state(repo: Repo, cache: Path | None = None) -> RepoState:
    """State of one repo in the cache: reads the disk only."""
    folder = repo_folder(repo.id, cache)
    if not folder.is_dir():
        return RepoState(repo.id, "missing")
    snap = _snapshot_for(folder)
    partial = list((folder / "blobs").glob("*.incomplete")) if (folder / "blobs").is_dir() else []
    if snap is None:
        if partial:
            return RepoState(repo.id, "broken", "download stopped half-way")
        return RepoState(repo.id, "missing")
    absent = [f for f in repo.required if not (snap / f).is_file()]
    dangling = [
        p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_symlink() and not p.exists()
    ]
    size = sum(p.stat().st_size for p in snap.rglob("*") if p.is_file())
    if dangling:
        return RepoState(
            repo.id, "broken", f"files without data: {', '.join(dangling[:3])}", snap, size
        )
    if absent:
        what = "download stopped half-way; " if partial else ""
        return RepoState(repo.id, "broken", f"{what}missing {', '.join(absent[:3])}", snap, size)
    return RepoState(repo.id, "downloaded", "", snap, size)


def missing_packages(backend: Backend) -> list[str]:
    """Import names of the backend's packages that are not installed (or do not import)."""
    out = []
    for name in backend.packages:
        try:
            if importlib.util.find_spec(name) is None:
                out.append(name)
        except (ImportError, ValueError):
            out.append(name)
    return out


@dataclass
class BackendState:
    backend: Backend
    state: str  # downloaded | missing | broken
    repos: list[RepoState]
    missing_packages: list[str]

    @property
    def ready(self) -> bool:
        return self.state == "downloaded" and not self.missing_packages

    @property
    def size_bytes(self) -> int:
        return sum(r.size_bytes for r in self.repos)

    @property
    def detail(self) -> str:
        parts = [f"{r.repo}: {r.detail}" for r in self.repos if r.detail]
        if self.missing_packages:
            parts.append(f"needs {', '.join(self.missing_packages)}: {self.backend.pip}")
        return "; ".join(parts)


def backend_state(backend: Backend | str, cache: Path | None = None) -> BackendState:
    """Cache state of every repo of a backend, and its missing packages (no network)."""
    b = get_backend(backend) if isinstance(backend, str) else backend
    repos = [repo_state(r, cache) for r in b.repos]
    states = {r.state for r in repos}
    state = "broken" if "broken" in states else "missing" if "missing" in states else "downloaded"
    if state == "missing" and "downloaded" in states:
        state = "broken"  # one of two repos: still needs a download
        for r in repos:
            if r.state == "missing":
                r.detail = "not downloaded"
    return BackendState(b, state, repos, missing_packages(b))


def fix_command(backend: Backend) -> str:
    return f"python main.py models download {backend.name}"


def resolve(backend: Backend | str, *, need_packages: bool = True) -> list[Path]:
    """Local snapshot folders of the backend's repos, in registry order.

    Raises ModelMissing (one line naming the fixing command) when the weights are not in
    the cache, or are incomplete, or a required package is missing. Never touches the network.
    """
    st = backend_state(backend)
    b = st.backend
    if need_packages and st.missing_packages:
        raise ModelMissing(
            f"{b.name} needs the Python package(s) {', '.join(st.missing_packages)}: {b.pip}"
        )
    if st.state == "missing":
        raise ModelMissing(
            f"{b.name} weights are not downloaded ({', '.join(b.repo_ids)}, "
            f"{b.size_gb:g} GB): run `{fix_command(b)}`"
        )
    if st.state == "broken":
        raise ModelMissing(
            f"{b.name} weights are incomplete ({st.detail}): run "
            f"`{fix_command(b)}` again (it resumes)"
        )
    return [r.snapshot for r in st.repos]  # type: ignore[misc]


def resolve_model_arg(value: str | Path | None, kind_default: str) -> Path:
    """A `--model`-style value: an existing folder/file is used as is; a registry name
    (or None: the kind's default backend) resolves to its cached snapshot's first repo."""
    if value is not None and Path(value).exists():
        return Path(value)
    name = str(value) if value is not None else kind_default
    from .registry import BACKENDS, is_backend_name

    for b in BACKENDS:  # a repo id of a known backend: its cached snapshot
        if value is not None and str(value) in b.repo_ids:
            return resolve(b)[b.repo_ids.index(str(value))]

    if not is_backend_name(name):
        raise InputError(
            f"{value} is neither a folder nor a known model name "
            "(list them with `python main.py models`)"
        )
    return resolve(name)[0]


def require(name: str, option: str) -> None:
    """Fail early (before any work) when a command would use the manager's `name` and it is
    not ready: ModelMissing naming `models download NAME` and the folder option instead."""
    try:
        resolve(name)
    except ModelMissing as exc:
        raise ModelMissing(f"{exc} (or pass {option})") from None
