"""Model manager: registry, cache states (missing / downloaded / broken), resolution and the
`models` table, all against a temporary Hugging Face cache (no network, no real weights)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from models_tiny import put_in_cache

from generators.models.hub import ModelMissing, backend_state, resolve, resolve_model_arg
from generators.models.registry import BACKENDS, DEFAULTS, get_backend

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    c = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(c))
    return c


def _fake_repo(tmp: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        f = tmp / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
    return tmp


def test_registry_is_complete_and_consistent() -> None:
    names = [b.name for b in BACKENDS]
    assert len(names) == len(set(names))
    kinds = {b.kind for b in BACKENDS}
    assert {"panorama", "depth", "scene", "object", "segment"} <= kinds
    for b in BACKENDS:
        assert b.repos and all("/" in r.id and r.required for r in b.repos)
        assert b.size_gb > 0 and b.vram_gb > 0 and b.licence and b.pip
    for kind, name in DEFAULTS.items():
        assert get_backend(name).kind == kind
    assert get_backend("flux-pano").restricted  # non-commercial FLUX dev weights
    with pytest.raises(ValueError, match="unknown model 'nope'.*flux-pano"):
        get_backend("nope")


def test_states_missing_downloaded_broken(cache: Path, tmp_path: Path) -> None:
    b = get_backend("depth-anything-v2-small")
    assert backend_state(b).state == "missing"
    with pytest.raises(
        ModelMissing, match="run `python main.py models download depth-anything-v2-small`"
    ):
        resolve(b)
    src = _fake_repo(
        tmp_path / "src",
        {"config.json": b"{}", "preprocessor_config.json": b"{}", "model.safetensors": b"x" * 100},
    )
    snap = put_in_cache(src, b.repos[0].id, cache)
    st = backend_state(b)
    assert st.state == "downloaded" and st.ready and st.size_bytes == 104
    assert resolve(b) == [snap]
    assert resolve_model_arg(None, "depth-anything-v2-small") == snap
    # a file whose blob is gone (a cleaned cache): broken, and resolve says to download again
    blob = (snap / "model.safetensors").resolve()
    blob.unlink()
    st = backend_state(b)
    assert st.state == "broken" and "model.safetensors" in st.detail
    with pytest.raises(ModelMissing, match="incomplete.*again \\(it resumes\\)"):
        resolve(b)
    # a required file absent + a half-downloaded blob
    blob.write_bytes(b"x" * 100)
    (snap / "preprocessor_config.json").unlink()
    (blob.parent / "abc.incomplete").write_bytes(b"x")
    st = backend_state(b)
    assert (
        st.state == "broken" and "half-way" in st.detail and "preprocessor_config.json" in st.detail
    )


def test_two_repo_backend_needs_both(cache: Path, tmp_path: Path) -> None:
    b = get_backend("flux-pano")
    src = _fake_repo(tmp_path / "src", {"model_index.json": b"{}"})
    put_in_cache(src, b.repos[0].id, cache)
    st = backend_state(b)
    assert st.state == "broken" and "tencent/HunyuanWorld-1: not downloaded" in st.detail


def test_missing_package_is_one_line_with_the_fix(cache: Path, tmp_path: Path) -> None:
    b = get_backend("moge")  # its package is not on the index: needs the git install
    src = _fake_repo(tmp_path / "src", {"model.pt": b"x"})
    put_in_cache(src, b.repos[0].id, cache)
    st = backend_state(b)
    if st.missing_packages:
        with pytest.raises(ModelMissing, match="needs the Python package.*moge.*source repository"):
            resolve(b)
    assert resolve(b, need_packages=False)


def test_unknown_model_argument(cache: Path) -> None:
    from scene.errors import InputError

    with pytest.raises(InputError, match="neither a folder nor a known model"):
        resolve_model_arg("not/a-model", "depth-anything-v2-small")


@pytest.mark.slow
def test_models_cli_lists_every_backend_offline(
    cache: Path, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    """`models` as a new user runs it: nothing downloaded, no network (an endpoint that does not
    answer), a clear table, exit 0, and not one connection attempted."""
    import socket

    from cli import run_cli

    b = get_backend("sam2-tiny")
    put_in_cache(_fake_repo(tmp_path / "src", {"config.json": b"{}"}), b.repos[0].id, cache)
    env = dict(os.environ, HF_HUB_CACHE=str(cache), HF_ENDPOINT="http://10.255.255.1:9")
    r = subprocess.run(
        [sys.executable, "main.py", "models"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.splitlines()[1].split()[:3] == ["NAME", "KIND", "STATE"]
    for bk in BACKENDS:
        assert bk.name in out and bk.repos[0].id in out
    rows = {ln.split()[0]: ln for ln in out.splitlines()[2:] if ln and not ln.startswith(" ")}
    assert " ready " in rows["sam2-tiny"] and " missing" in rows["flux-pano"]
    assert "python main.py models download flux-pano" in out
    assert "CC-BY-NC-4.0 *" in rows["depth-anything-v2-large"]
    # a new user learns that nothing here is needed (a trial read it as a to-do list)
    assert out.splitlines()[-1].startswith("none of these is needed")
    # the same listing in this process, with every socket connection recorded: it never
    # waits on the network because it never opens a connection
    attempts: list = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setenv("HF_ENDPOINT", "http://10.255.255.1:9")
    monkeypatch.setattr(socket.socket, "connect", connect)
    assert run_cli(["models"]) == 0
    assert capsys.readouterr().out == out
    assert attempts == []


@pytest.mark.slow
def test_models_cli_errors_are_one_line(cache: Path) -> None:
    env = dict(os.environ, HF_HUB_CACHE=str(cache))
    for argv, pattern in (
        (
            ["models", "verify", "depth-anything-v2-small"],
            "error: depth-anything-v2-small weights are not downloaded",
        ),
        (["models", "verify"], "needs a backend name"),
        (["models", "download", "nope"], "unknown model 'nope'"),
    ):
        r = subprocess.run(
            [sys.executable, "main.py", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2, (argv, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and pattern in lines[0], (argv, r.stderr)


def test_memory_is_checked_early_in_one_line(monkeypatch) -> None:
    from generators.models import device as devmod
    from scene.errors import InputError

    flux = get_backend("flux-pano")
    monkeypatch.setattr(devmod, "free_vram_gb", lambda d: 8.0)
    with pytest.raises(
        InputError, match=r"flux-pano needs about 24.0 GB of GPU memory, cuda has 8.0 GB"
    ) as e:
        devmod.check_memory(flux, "cuda")
    assert "\n" not in str(e.value)
    devmod.check_memory(get_backend("sam2-tiny"), "cuda")  # 1 GB: fits
    monkeypatch.setattr(devmod, "free_vram_gb", lambda d: 12.0)
    devmod.check_memory(flux, "cuda", offload=True)  # 10.8 GB with offload: fits
    monkeypatch.delenv("WANDER_ALLOW_CPU", raising=False)
    with pytest.raises(InputError, match="needs a GPU"):
        devmod.check_memory(flux, "cpu")
    devmod.check_memory(get_backend("depth-anything-v2-small"), "cpu")
    import torch

    assert devmod.pick_device("auto") in ("cuda", "mps", "cpu")
    assert devmod.pick_dtype("cpu") == torch.float32
    assert devmod.pick_dtype("mps") == torch.float16
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            devmod.pick_device("cuda")


def test_every_backend_has_a_verify_runner() -> None:
    import importlib

    from generators.models.verify import _VERIFIERS

    for b in BACKENDS:
        mod = importlib.import_module(_VERIFIERS[b.name])
        assert callable(getattr(mod, "verify_backend", None)), b.name


def test_repo_id_resolves_like_its_backend(cache: Path, tmp_path: Path) -> None:
    b = get_backend("sam-vit-base")
    snap = put_in_cache(_fake_repo(tmp_path / "src", {"config.json": b"{}"}), b.repos[0].id, cache)
    assert resolve_model_arg("facebook/sam-vit-base", "sam2-tiny") == snap
    assert resolve_model_arg("sam-vit-base", "sam2-tiny") == snap


def test_models_info_says_what_a_backend_is_for(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`models info NAME` (a trial tried it and was refused): how to choose the backend,
    its whole licence, where its weights are, what to run next."""
    from cli import run_cli

    b = get_backend("sam2-tiny")
    put_in_cache(_fake_repo(tmp_path / "src", {"config.json": b"{}"}), b.repos[0].id, cache)
    assert run_cli(["models", "info", "sam2-tiny"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"sam2-tiny: {b.title}\n")
    assert f"choose it: {b.option}" in out and b.licence in out
    assert f"{b.repos[0].id}: downloaded at {cache}" in out
    assert "python main.py models verify sam2-tiny" in out
    flux = get_backend("flux-pano")
    assert run_cli(["models", "info", "flux-pano"]) == 0
    out = capsys.readouterr().out
    assert flux.restricted in out and "needs a GPU" in out
    assert "python main.py models download flux-pano" in out
    assert run_cli(["models"]) == 0
    assert "models info NAME" in capsys.readouterr().out


def test_every_models_choose_it_line_names_flags_its_commands_take() -> None:
    """`models info flux-pano` said "panorama/world: --backend flux", and on `world`
    --backend is the depth backend: `world --backend flux` failed (a trial). Every
    command a registry entry names takes each flag given, with that value among its
    choices."""
    import re

    from cli import build_parser
    from generators.models.registry import BACKENDS

    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for b in BACKENDS:
        if not b.option:
            continue
        cmds, _, flags = b.option.partition(":")
        tokens = re.sub(r"\(.*?\)", "", flags).split()
        for cmd in re.split(r"\s+or\s+|/|,", cmds):
            sp = subs.choices[cmd.strip()]
            opts = {s: a for a in sp._actions for s in a.option_strings}
            for i, tok in enumerate(tokens):
                if not tok.startswith("--"):
                    continue
                assert tok in opts, (b.name, cmd, tok)
                action = opts[tok]
                value = tokens[i + 1] if i + 1 < len(tokens) else None
                if action.choices is not None and value and not value.startswith("--"):
                    assert value in action.choices, (b.name, cmd, tok, value)
