"""Shared test fixtures: a virtual X display with Mesa for GL/Qt tests, the app's main
window (`app_window`), small clouds.

Every test that needs the display (it asks for `x_display`, `qapp`, `qtbot` or
`app_window`, directly or through another fixture) must be marked `gl`, so that
`pytest -m "not gl and not slow"` runs with no display at all: an unmarked one fails here
with a message naming the mark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_xvfb: subprocess.Popen | None = None


@pytest.fixture(scope="session", autouse=True)
def _private_state_folder(tmp_path_factory: pytest.TempPathFactory):
    """Wander's log file (XDG_STATE_HOME/wander) and the Hugging Face cache go to test
    folders, not the user's: the model manager reads the cache, so weights a developer
    has downloaded would otherwise change which backend a test sees as ready."""
    names = ("XDG_STATE_HOME", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
    old = {k: os.environ.get(k) for k in names}
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    os.environ["HF_HOME"] = str(tmp_path_factory.mktemp("hf_home"))
    os.environ.pop("HF_HUB_CACHE", None)
    os.environ.pop("HUGGINGFACE_HUB_CACHE", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _die_with_parent() -> None:
    """In the Xvfb child: get SIGTERM when pytest exits. Killing Xvfb earlier (at session
    finish) breaks the still-open Qt connection and fails the run with an X I/O error."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _start_xvfb() -> None:
    """Start one Xvfb for the test session (on a free display) and point DISPLAY at it."""
    global _xvfb
    if os.environ.get("DISPLAY") and os.environ.get("WANDER_KEEP_DISPLAY"):
        return
    if shutil.which("Xvfb") is None:
        if os.environ.get("CI"):  # CI installs it (tools/test.sh): never skip GL tests there
            raise RuntimeError("Xvfb is not installed")
        pytest.skip("Xvfb is not installed (run tools/test.sh, which installs it)")
    # -displayfd: Xvfb picks a free display number and writes it to the pipe, so test
    # runs in parallel (or beside someone's own Xvfb) never share or kill a display.
    rfd, wfd = os.pipe()
    _xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(wfd,),
        preexec_fn=_die_with_parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    with os.fdopen(rfd) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start")
    display = f":{number}"
    os.environ["DISPLAY"] = display


DISPLAY_FIXTURES = frozenset({"x_display", "qapp", "qtbot", "app_window"})


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that uses the display but is not marked `gl` fails before it starts one."""
    used = DISPLAY_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if used and item.get_closest_marker("gl") is None:
        pytest.fail(
            f"{item.nodeid} uses {', '.join(sorted(used))} (a display) but is not marked "
            "`gl`: add `pytestmark = pytest.mark.gl` to its module or mark the test",
            pytrace=False,
        )


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


def stop_app_jobs(win) -> None:  # a viewer.main_window.MainWindow
    """Cancel a window's jobs and wait for their worker threads, then deliver their queued
    signals while the window still exists: a job finishing after the window is gone calls
    back into deleted widgets (the crash seen at teardown). `app_window` gives this to
    pytest-qt as the `before_close_func`, so it runs before pytest-qt closes the window;
    closing then releases the GL objects and detaches the renderer's background-sort
    callback (viewport.release_gl), which would otherwise emit on the deleted viewport."""
    from PyQt6 import sip
    from PyQt6.QtWidgets import QApplication

    if sip.isdeleted(win):
        return
    win.jobs.cancel_all()
    for job in list(win.jobs.jobs):
        job.wait(30)
    QApplication.processEvents()


@pytest.fixture
def app_window(qtbot, x_display, tmp_path, monkeypatch):
    """Make the app's real MainWindow: `app_window(*features, size=(w, h), active=False,
    theme=False, prepare=None)`.

    Only the given features are installed (modules with `install`, e.g. `viewer.ext_objects`,
    or install functions, e.g. `*project_features()`), in that order,
    then the menus are finished; `prepare(win)` runs before the features are installed.
    `active` waits until the window has keyboard focus (window shortcuts need it); `theme`
    applies the app's style. Settings and autosaves go to the test's tmp_path. At teardown
    pytest-qt closes every window made, after `stop_app_jobs`; then Qt runs the deferred
    deletions here, while everything they touch is still alive. `made` lists the windows.
    """
    monkeypatch.setenv("WANDER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    made: list = []
    themed: list = []  # the application's look before a theme was applied, to restore

    def make(
        *features,
        size: tuple[int, int] = (640, 420),
        active: bool = False,
        theme: bool = False,
        prepare=None,
    ):
        from PyQt6.QtWidgets import QApplication

        from viewer.main_window import MainWindow

        if theme:
            from viewer.style import apply_theme

            app = QApplication.instance()
            if not themed:
                themed.append((app.style().name(), app.palette(), app.font(), app.styleSheet()))
            apply_theme(app)
        win = MainWindow(install_extensions=False)
        made.append(win)
        if prepare is not None:
            prepare(win)
        for feature in features:
            (feature if callable(feature) else feature.install)(win)
        win._finish_menus()
        qtbot.addWidget(win, before_close_func=stop_app_jobs)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        if active:
            win.activateWindow()
            qtbot.waitUntil(win.isActiveWindow, timeout=5000)
        return win

    make.made = made
    yield make
    # pytest-qt has already closed the windows (stop_app_jobs first) and asked Qt to delete
    # them: do it now, not at some later test's event loop or at interpreter exit
    qtbot.wait(100)
    if themed:
        # the theme is the whole application's: left on, the status bar's read-outs of the
        # tests after it took other widths (two job-label tests of test_app_rough_edges.py
        # failed after test_app_window.py's themed ones, in one process)
        from PyQt6.QtWidgets import QApplication

        app = QApplication.instance()
        style, palette, font, sheet = themed[0]
        app.setStyleSheet(sheet)
        app.setStyle(style)
        app.setPalette(palette)
        app.setFont(font)


@pytest.fixture
def editor_window(app_window):
    """The window with the editing features (objects, project, splats) at 900 x 600, active,
    and no "save changes?" question on close."""
    from viewer import ext_objects, ext_splats

    win = app_window(ext_objects, *project_features(), ext_splats, size=(900, 600), active=True)
    win.document.ask_user = False
    return win


def project_features() -> list:
    """The install functions of the project features (save, autosave, export, camera paths,
    video: `viewer.main_window.PROJECT_FEATURES`), in menu order."""
    from viewer.main_window import PROJECT_FEATURES

    return [install for _, install in PROJECT_FEATURES]


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
