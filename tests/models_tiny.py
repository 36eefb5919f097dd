"""Helpers for the model-manager tests: tiny random-weight models written in the Hugging Face
cache layout, and a local stand-in for the hub's HTTP endpoints (no network)."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

SHA = "0123456789abcdef0123456789abcdef01234567"


def put_in_cache(src: Path, repo_id: str, cache: Path, subfolder: str = "",
                 commit: str = SHA) -> Path:
    """Copy folder `src` into `cache` as repo `repo_id` (under `subfolder`), the way
    huggingface_hub stores it: blobs by hash, snapshot files as links, refs/main."""
    root = cache / ("models--" + repo_id.replace("/", "--"))
    snap = root / "snapshots" / commit
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit)
    for f in sorted(Path(src).rglob("*")):
        if not f.is_file():
            continue
        data = f.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        dst = snap / subfolder / f.relative_to(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            dst.unlink()
        dst.symlink_to(Path("../" * (len(dst.relative_to(snap).parts) + 1)) / "blobs" / blob.name)
    return snap


class StandInHub:
    """A local HTTP server answering what `snapshot_download` asks: repo info, the file tree,
    and HEAD/GET (with Range, for resume) of `resolve/<rev>/<file>`. repos: repo id -> folder.

    `fail_after` (bytes) makes every GET stop after that many bytes once (a broken download),
    to test resume; `requests` logs every path asked.
    """

    def __init__(self, repos: dict[str, Path]) -> None:
        self.repos = {k: Path(v) for k, v in repos.items()}
        self.requests: list[str] = []
        self.fail_after: int | None = None
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:  # quiet
                pass

            def _files(self, repo: str) -> list[Path]:
                return sorted(p for p in hub.repos[repo].rglob("*") if p.is_file())

            def _repo(self, parts: list[str]) -> str | None:
                rid = "/".join(parts[:2])
                return rid if rid in hub.repos else None

            def _json(self, obj, code: int = 200) -> None:
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _missing(self) -> None:
                body = b'{"error": "Repository not found"}'
                self.send_response(404)
                self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                url = urlparse(self.path)
                hub.requests.append(f"{self.command} {url.path}")
                parts = [unquote(p) for p in url.path.strip("/").split("/")]
                if parts[:2] == ["api", "models"]:
                    repo = self._repo(parts[2:])
                    if repo is None:
                        return self._missing()
                    rest = parts[4:]
                    files = self._files(repo)
                    root = hub.repos[repo]
                    if rest[:1] == ["revision"]:
                        return self._json({"id": repo, "modelId": repo, "sha": SHA, "private": False,
                                           "siblings": [{"rfilename": f.relative_to(root).as_posix()}
                                                        for f in files]})
                    if rest[:1] == ["tree"]:
                        out = []
                        for f in files:
                            data = f.read_bytes()
                            out.append({"type": "file", "path": f.relative_to(root).as_posix(),
                                        "size": len(data),
                                        "oid": hashlib.sha1(data).hexdigest()})
                        return self._json(out)
                    return self._missing()
                repo = self._repo(parts)
                if repo is None or len(parts) < 5 or parts[2] != "resolve":
                    return self._missing()
                f = hub.repos[repo].joinpath(*parts[4:])
                if not f.is_file():
                    body = b"{}"
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return
                data = f.read_bytes()
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0] or 0)
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", SHA)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if self.command == "HEAD":
                    return
                cut = hub.fail_after
                if cut is not None and len(body) > cut:
                    hub.fail_after = None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StandInHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst
