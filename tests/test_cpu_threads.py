"""scene/cpu_threads.py: numpy's BLAS held to one thread, unless the user set it.

Run in subprocesses: the limit lasts for the process's life."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("threadpoolctl")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = """
import numpy, threadpoolctl
from scene.cpu_threads import limit_blas_threads
before = limit_blas_threads()
again = limit_blas_threads()
blas = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
print(before, again, blas)
"""


def _run(env: dict[str, str]) -> str:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_blas_gets_one_thread() -> None:
    before, again, blas = _run({}).split(" ", 2)
    if before == "None":
        pytest.skip("no BLAS library that threadpoolctl controls")
    assert int(before) >= 1
    assert again == before  # idempotent: reports the same, limits once
    assert blas == "[1]"


def test_user_setting_is_kept() -> None:
    before, _again, blas = _run({"OPENBLAS_NUM_THREADS": "2"}).split(" ", 2)
    assert before == "None"
    assert blas in ("[2]", "[]")
