"""Shared test fixtures: a virtual X display with Mesa for GL/Qt tests, small clouds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_xvfb: subprocess.Popen | None = None


def _start_xvfb() -> None:
    """Start Xvfb :97 once per test session unless a display already works."""
    global _xvfb
    if os.environ.get("DISPLAY") and os.environ.get("WANDER_KEEP_DISPLAY"):
        return
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (run tools/test.sh, which installs it)")
    display = f":{97 + (os.getpid() % 50)}"
    _xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = Path(f"/tmp/.X11-unix/X{display[1:]}")
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = display


@pytest.fixture(scope="session")
def x_display() -> str:
    """A running X display (Xvfb) with Qt set to use it; Mesa llvmpipe gives GL 4.5."""
    if _xvfb is None:
        _start_xvfb()
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("LIBGL_ALWAYS_SOFTWARE", "1")
    return os.environ["DISPLAY"]


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:  # pytest-qt: create QApplication only after Xvfb is up
    return []


@pytest.fixture(scope="session")
def qapp_cls(x_display):  # noqa: ANN001 - pytest-qt hook, makes qapp depend on the display
    from PyQt6.QtWidgets import QApplication

    return QApplication


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001
    if _xvfb is not None:
        _xvfb.terminate()


def random_cloud(n: int = 100, sh_degree: int = 0, seed: int = 0):
    """A random but well-formed GaussianCloud for tests."""
    from scene.gaussians import GaussianCloud
    from scene.sh import REST_COEFFS

    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return GaussianCloud(
        means=rng.uniform(-2, 2, (n, 3)),
        scales=rng.uniform(-4, -1, (n, 3)),
        quats=q,
        opacities=rng.uniform(-3, 3, n),
        sh0=rng.uniform(-1.5, 1.5, (n, 3)),
        shN=rng.uniform(-0.3, 0.3, (n, REST_COEFFS[sh_degree], 3)),
    )


@pytest.fixture
def cloud_factory():
    return random_cloud
