"""`models download`: the real huggingface_hub `snapshot_download` path against a local stand-in
for the hub (repo info, tree, HEAD/GET with Range), into a temporary cache. No network."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from models_tiny import StandInHub

from generators.jobs import Cancelled, CancelToken
from generators.models.download import download
from generators.models.hub import ModelMissing, backend_state, resolve

ROOT = Path(__file__).resolve().parent.parent
REPO = "depth-anything/Depth-Anything-V2-Small-hf"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    c = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(c))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return c


@pytest.fixture
def served(tmp_path: Path) -> Path:
    src = tmp_path / "served"
    (src / "sub").mkdir(parents=True)
    (src / "config.json").write_text('{"model_type": "depth_anything"}')
    (src / "preprocessor_config.json").write_text("{}")
    (src / "model.safetensors").write_bytes(os.urandom(300_000))
    (src / "sub" / "notes.txt").write_text("nested files keep their folders")
    return src


def test_download_fetches_into_the_cache_with_progress(cache: Path, served: Path) -> None:
    msgs: list[tuple[float, str]] = []
    with StandInHub({REPO: served}) as hub:
        paths = download(
            "depth-anything-v2-small", endpoint=hub.url, progress=lambda f, m: msgs.append((f, m))
        )
    snap = paths[0]
    assert snap.parent.parent.name == "models--depth-anything--Depth-Anything-V2-Small-hf"
    for f in ("config.json", "model.safetensors", "sub/notes.txt"):
        assert (snap / f).read_bytes() == (served / f).read_bytes()
    assert backend_state("depth-anything-v2-small").state == "downloaded"
    assert resolve("depth-anything-v2-small") == [snap]
    assert any("MB" in m for _, m in msgs) and msgs[-1] == (
        1.0,
        "depth-anything-v2-small: downloaded",
    )
    assert any(r.startswith("GET /api/models/" + REPO) for r in hub.requests)


@pytest.mark.slow
def test_interrupted_download_resumes(cache: Path, served: Path) -> None:
    with StandInHub({REPO: served}) as hub:
        hub.fail_after = 100_000  # the first big GET breaks off after 100 kB
        try:
            download("depth-anything-v2-small", endpoint=hub.url, max_workers=1)
        except ModelMissing as exc:  # huggingface_hub gave up: the next call resumes
            assert "it resumes" in str(exc)
            download("depth-anything-v2-small", endpoint=hub.url, max_workers=1)
    snap = resolve("depth-anything-v2-small")[0]
    assert (snap / "model.safetensors").read_bytes() == (served / "model.safetensors").read_bytes()


def test_cancel_stops_the_download(cache: Path, served: Path) -> None:
    tok = CancelToken()

    def progress(f: float, m: str) -> None:
        if "MB" in m:
            tok.cancel()

    with StandInHub({REPO: served}) as hub:
        with pytest.raises(Cancelled):
            download(
                "depth-anything-v2-small",
                endpoint=hub.url,
                progress=progress,
                cancel=tok,
                max_workers=1,
            )
    assert backend_state("depth-anything-v2-small").state != "downloaded"


def test_no_network_and_offline_say_which_command_fixes_it(cache: Path, monkeypatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    attempts: list = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    with monkeypatch.context() as m:
        m.setattr(socket.socket, "connect", connect)
        with pytest.raises(ModelMissing, match="models download depth-anything-v2-small"):
            download("depth-anything-v2-small", endpoint=dead)
    # it tried the endpoint, then gave up: no retry loop with back-off (counted, not timed)
    assert 1 <= len([a for a in attempts if a[1] == int(dead.rsplit(":", 1)[1])]) <= 2, attempts
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelMissing, match="HF_HUB_OFFLINE is set"):
        download("depth-anything-v2-small", endpoint=dead)


def test_unknown_repo_on_the_hub(cache: Path, served: Path) -> None:
    with StandInHub({"someone/else": served}) as hub:
        with pytest.raises(ModelMissing, match="not found on the hub"):
            download("depth-anything-v2-small", endpoint=hub.url)


@pytest.mark.slow
def test_cli_download_asks_for_restricted_licences(
    cache: Path, tmp_path: Path, served: Path
) -> None:
    env = dict(os.environ, HF_HUB_CACHE=str(cache))
    env.pop("HF_HUB_OFFLINE", None)
    large = "depth-anything/Depth-Anything-V2-Large-hf"  # CC-BY-NC-4.0
    with StandInHub({large: served}) as hub:
        r = subprocess.run(
            [
                sys.executable,
                "main.py",
                "models",
                "download",
                "depth-anything-v2-large",
                "--endpoint",
                hub.url,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert r.returncode == 2
        assert "CC-BY-NC-4.0" in r.stderr and "rerun with --yes" in r.stderr.splitlines()[-1]
        assert not any("resolve" in q for q in hub.requests)  # nothing fetched before consent
        r = subprocess.run(
            [
                sys.executable,
                "main.py",
                "models",
                "download",
                "depth-anything-v2-large",
                "--endpoint",
                hub.url,
                "--yes",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    assert r.returncode == 0, r.stderr
    assert "downloaded:" in r.stdout and "models verify depth-anything-v2-large" in r.stdout
    assert backend_state("depth-anything-v2-large").state == "downloaded"
