"""Fetch a backend's weights into the standard Hugging Face cache (`snapshot_download`).

Resumes half-downloaded files (huggingface_hub keeps `.incomplete` blobs), reports
progress as bytes over the whole backend, honours a cancel token, and refuses in one
line when the hub is out of reach (HF_HUB_OFFLINE, no network, a gated repo without a
login). Short timeouts: a dead network fails in seconds, not minutes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from generators.jobs import Cancelled, CancelToken, ProgressFn, no_progress

from .hub import ModelMissing, backend_state, cache_dir, fix_command
from .registry import Backend, get_backend

log = logging.getLogger(__name__)

_NET_MODULES = ("httpx", "httpx2", "httpcore", "requests", "urllib3")
#: seconds to wait for the hub's first answer (the metadata call)
CONNECT_TIMEOUT = 10.0


def offline() -> bool:
    """True when the user switched the hub off (HF_HUB_OFFLINE=1)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _progress_class(
    progress: ProgressFn, cancel: CancelToken, total_bytes: float, label: str
) -> type:
    """A tqdm class huggingface_hub can drive: sums byte updates of all files into one
    `progress(fraction, message)`, and raises Cancelled inside the download threads."""
    from tqdm.auto import tqdm

    state = {"bytes": 0.0}

    class _Bar(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._bytes = kwargs.get("unit") == "B"

        def update(self, n: float | None = 1) -> bool | None:  # type: ignore[override]
            if cancel.cancelled:
                raise Cancelled()
            if self._bytes and n:
                state["bytes"] += float(n)
                frac = min(state["bytes"] / max(total_bytes, 1.0), 0.999)
                progress(
                    frac, f"{label}: {state['bytes'] / 1e6:.1f} of ~{total_bytes / 1e6:.0f} MB"
                )
            return super().update(n)

    return _Bar


def download(
    backend: Backend | str,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    max_workers: int = 4,
    retry: str | None = None,
) -> list[Path]:
    """Download (or finish downloading) every repo of `backend`; returns the snapshot folders.

    `retry`: how the messages tell the user to try again (default: "run `python main.py
    models download NAME`"; the app's dialog: "press Download again").

    Raises ModelMissing (one line) when the hub cannot be reached or refuses (gated repo,
    no login), Cancelled when the token is set (finished files stay; the next call resumes).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    b = get_backend(backend) if isinstance(backend, str) else backend
    cancel = cancel or CancelToken()
    again = retry or f"run `{fix_command(b)}`"
    if offline():
        raise ModelMissing(f"HF_HUB_OFFLINE is set: unset it and {again} on a machine with network")
    total = b.size_gb * 1e9
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None  # read now, not at import
    out: list[Path] = []
    for i, repo in enumerate(b.repos):
        cancel.check()
        label = f"{b.name} [{i + 1}/{len(b.repos)}] {repo.id}"
        progress(0.0, f"{label}: asking the hub")
        bar = _progress_class(progress, cancel, total, label)
        try:
            path = snapshot_download(
                repo.id,
                allow_patterns=list(repo.allow) if repo.allow else None,
                cache_dir=str(cache_dir()),
                endpoint=endpoint,
                token=token,
                tqdm_class=bar,
                etag_timeout=CONNECT_TIMEOUT,
                max_workers=max_workers,
            )
        except Cancelled:
            raise
        except GatedRepoError:
            raise ModelMissing(
                f"{repo.id} is gated: accept its terms on its Hugging Face page, log in "
                f"with `hf auth login`, then {again}"
            ) from None
        except RepositoryNotFoundError:
            raise ModelMissing(
                f"{repo.id} was not found on the hub (or needs a login): log in with "
                f"`hf auth login`, then {again}"
            ) from None
        except LocalEntryNotFoundError as exc:
            log.info("hub unreachable: %s", exc)
            raise ModelMissing(
                f"cannot reach the Hugging Face hub to fetch {repo.id}: check the "
                f"network (or HF_ENDPOINT), then {again} (it resumes)"
            ) from None
        except HfHubHTTPError as exc:
            raise ModelMissing(
                f"the hub refused {repo.id} ({str(exc).splitlines()[0]}): {again} later"
            ) from None
        except Exception as exc:  # noqa: BLE001 - only network errors are turned into one line
            if (
                not isinstance(exc, OSError)
                and type(exc).__module__.split(".")[0] not in _NET_MODULES
            ):
                raise
            log.info("download failed: %s", exc, exc_info=True)
            first = str(exc).splitlines()[0] if str(exc) else "no details"
            raise ModelMissing(
                f"download of {repo.id} failed ({exc.__class__.__name__}: {first}): "
                f"check the network, then {again} (it resumes)"
            ) from None
        out.append(Path(path))
    st = backend_state(b)
    if st.state != "downloaded":
        raise ModelMissing(
            f"{b.name}: the download finished but {st.detail or 'files are missing'}; {again}"
        )
    progress(1.0, f"{b.name}: downloaded")
    return out
