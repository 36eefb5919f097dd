"""A new checkout's first command that compiles the CPU kernels says so (scene/kernel_cache.py)."""

from __future__ import annotations

import importlib
import sys

import pytest

KERNEL_SRC = """
from numba import njit


@njit(cache=True)
def twice(x):
    return {k} * x
"""


def _import():  # noqa: ANN202
    """kc_probe_mod imported afresh, as a new process would."""
    sys.modules.pop("kc_probe_mod", None)
    importlib.invalidate_caches()
    return importlib.import_module("kc_probe_mod")


def test_a_kernel_is_cached_once_compiled_and_not_after_its_source_changes(
    tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """`is_cached` reads numba's on-disk cache: False before the first call, True after
    it (machine code saved beside the source, found again on a fresh import), False once
    the source changes (numba stamps the cache with the file's time and size)."""
    import os
    import time

    from scene.kernel_cache import is_cached

    monkeypatch.syspath_prepend(str(tmp_path))
    src = tmp_path / "kc_probe_mod.py"
    src.write_text(KERNEL_SRC.format(k=2))
    mod = _import()
    assert not is_cached(mod.twice)
    assert mod.twice(3) == 6
    assert is_cached(mod.twice)
    assert is_cached(_import().twice)
    src.write_text(KERNEL_SRC.format(k=3))
    later = time.time() + 5
    os.utime(src, (later, later))
    assert not is_cached(_import().twice)
    sys.modules.pop("kc_probe_mod", None)


def test_a_command_says_when_its_kernels_will_compile(monkeypatch, capsys) -> None:  # noqa: ANN001
    """`world`, `render`, `reconstruct`, `evaluate` and `video` print one note when their
    kernels are not on disk; nothing when they are, for other commands, or on a stderr
    that is no terminal (a script reading a bad input's one error line)."""
    import io

    import cli
    import scene.kernel_cache as kc

    monkeypatch.setattr(kc, "cold_kernels", lambda modules=None: list(modules or ()))
    for command in ("world", "render", "reconstruct", "evaluate", "video"):
        out = io.StringIO()
        cli._say_if_compiling(command, out)
        assert out.getvalue().count("\n") == 1 and "tools/install.sh" in out.getvalue()
    for command in ("info", "convert", None):
        out = io.StringIO()
        cli._say_if_compiling(command, out)
        assert out.getvalue() == ""
    cli._say_if_compiling("render")  # stderr captured: no terminal
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(kc, "cold_kernels", lambda modules=None: [])
    out = io.StringIO()
    cli._say_if_compiling("render", out)
    assert out.getvalue() == ""


@pytest.mark.parametrize("module", ["viewer.cpu_splat", "generators.splat_cpu"])
def test_the_kernels_named_exist(module: str) -> None:
    """The kernels `KERNELS` checks are numba dispatchers of those modules (a rename would
    make the check silently say nothing)."""
    from scene.kernel_cache import KERNELS

    mod = importlib.import_module(module)
    for name in KERNELS[module]:
        assert hasattr(getattr(mod, name), "_cache"), name
