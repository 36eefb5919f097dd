"""Application entry: `run_app(argv)` opens the window (main.py calls it with [SCENE])."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def report_missing_scene(win: Any, path: Path) -> None:
    """`python main.py nope.ply`: one error line on the terminal and the message box the
    app shows for any file it cannot open (a status-bar line alone was missed: a trial)."""
    print(f"error: {path}: no such file", file=sys.stderr)
    win.report_job_error(f"Could not open {path.name}", ValueError(f"{path}: no such file"))


def configure_gl() -> None:
    """Request an OpenGL 3.3 core context for every widget; call before QApplication exists."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QSurfaceFormat
    from PyQt6.QtWidgets import QApplication

    fmt = QSurfaceFormat()
    fmt.setRenderableType(QSurfaceFormat.RenderableType.OpenGL)
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    fmt.setDepthBufferSize(24)
    fmt.setStencilBufferSize(8)
    fmt.setSwapInterval(0)  # the frame timer paces us; don't block on vsync
    QSurfaceFormat.setDefaultFormat(fmt)
    if QApplication.instance() is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python main.py", add_help=False)
    p.add_argument("scene", nargs="?", help="scene file or .wander project to open")
    p.add_argument("--no-demo", action="store_true", help="do not open the demo on first launch")
    p.add_argument(
        "--shot",
        metavar="PNG",
        help="save a screenshot of the window once the scene "
        "is shown, then quit (for docs and smoke tests)",
    )
    p.add_argument("--size", metavar="WxH", help="window size, e.g. 1440x900")
    p.add_argument("--debug", action="store_true", help="log our DEBUG records too")
    args, unknown = p.parse_known_args(argv)
    args.unknown = _not_for_qt(unknown, argv)
    return args


#: Qt's own command-line options that take a value (QGuiApplication / QApplication)
_QT_VALUED = frozenset(
    {
        "-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-style",
        "-stylesheet", "-session", "-display", "-geometry", "-title", "-qwindowgeometry",
        "-qwindowicon", "-qwindowtitle", "-qmljsdebugger", "-name",
    }
)  # fmt: skip
#: ... and those that take none
_QT_FLAGS = frozenset({"-reverse", "-widgetcount", "-nograb", "-dograb", "-sync", "-visual"})


def _not_for_qt(unknown: list[str], argv: list[str]) -> list[str]:
    """What the window's parser did not take and Qt would not either: `--options`, and
    words that are not the value of a Qt option (-platform xcb, -style fusion): a second
    scene file, and single-dash options Qt does not know. Qt's own pass to QApplication."""
    bad = []
    for u in unknown:
        qt = u.split("=")[0] in _QT_VALUED | _QT_FLAGS
        if u.startswith("--") or (u.startswith("-") and not qt):
            bad.append(u)  # (-v and -x opened the window saying nothing, a trial)
        elif not u.startswith("-"):
            i = argv.index(u)
            if i == 0 or argv[i - 1] not in _QT_VALUED:
                bad.append(u)
    return bad


def _start_logging_and_sweep(debug: bool = False) -> None:
    """The log file (XDG_STATE_HOME/wander/wander.log; `debug`: with our DEBUG records)
    and the removal of temps that killed runs left in the system temp folder (ours only,
    owner dead)."""
    import tempfile

    from scene.files import sweep_once
    from scene.logs import setup_logging

    setup_logging(debug)
    log.info("app start")
    sweep_once(tempfile.gettempdir())


def _log_uncaught(win) -> None:  # noqa: ANN001
    """An exception escaping a Qt slot is logged with its traceback and shown in the
    status bar (PyQt would otherwise abort the app, losing unsaved work)."""
    import traceback

    def hook(kind, exc, tb) -> None:  # noqa: ANN001
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(kind, exc, tb))
        traceback.print_exception(kind, exc, tb, file=sys.stderr)
        try:
            win.background_error.emit(f"Internal error: {kind.__name__}: {exc}")
        except RuntimeError:  # the window is gone (shutting down)
            log.debug("no window to show the internal error in")

    sys.excepthook = hook


def _sweep_recent_folders(recent: list[str]) -> None:
    """Remove temps killed runs left beside the files the user worked on lately."""
    from scene.files import sweep_once

    for folder in {str(Path(p).parent) for p in recent[:20]}:
        sweep_once(folder)


def run_app(argv: list[str]) -> int:
    """Open the Wander window; with SCENE open it, else the demo on first launch."""
    args = _parse(list(argv))
    _trace("main")
    if args.unknown:
        # a mistyped option, or a second file, said nothing and opened the window (a trial)
        first = args.unknown[0]
        what = (
            f"unknown option {first}"
            if first.startswith("-")
            else f"one scene at a time: {args.scene} is opened, {first} would not be"
        )
        print(
            f"error: {what} (python main.py --help lists the commands; the window takes "
            "SCENE, --no-demo, --shot PNG, --size WxH and --debug)",
            file=sys.stderr,
        )
        return 2
    if args.shot and Path(args.shot).suffix.lower() != ".png":
        # the screenshot is a PNG: written under a .jpg name it was a PNG file all the same
        print(f"error: --shot must be a .png file, got {args.shot}", file=sys.stderr)
        return 2
    if args.shot:
        from scene.files import cannot_write, write_probe_error

        shot = Path(args.shot)
        if not shot.parent.is_dir():
            print(f"error: --shot: folder {shot.parent} does not exist", file=sys.stderr)
            return 2
        if shot.is_dir():
            print(f"error: --shot {shot} is a folder; name the file to write", file=sys.stderr)
            return 2
        # before the window opens and the scene loads (a read-only folder failed at the end)
        exc = write_probe_error(shot.parent)
        if exc is not None:
            print(f"error: --shot {shot}: {cannot_write(shot.parent, exc)}", file=sys.stderr)
            return 2
    asked = None
    if args.size:
        # as `render` takes it: 1..16384 a side (a 20000 px wide window got no GL
        # framebuffer and `--shot` waited for a frame for ever)
        from cli.cmd_render import parse_size

        try:
            asked = parse_size(args.size)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    _start_logging_and_sweep(args.debug)
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            # Qt would abort (core dump) trying to open a screen that is not there
            print(
                "error: no display to open the Wander window on (DISPLAY / WAYLAND_DISPLAY "
                "unset). Run it on a desktop, or use the headless commands: "
                "python main.py --help",
                file=sys.stderr,
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "xcb" if os.environ.get("DISPLAY") else "wayland;xcb"
    configure_gl()
    from PyQt6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings import Settings
    from .style import apply_theme

    _trace("imported")
    app = QApplication.instance() or QApplication([sys.argv[0]] + list(argv))
    app.setApplicationName("Wander")
    app.setOrganizationName("Wander")
    apply_theme(app)
    settings = Settings()
    _sweep_recent_folders(settings.recent_files())
    win = MainWindow(settings)
    _log_uncaught(win)
    geo = settings.get("geometry")
    if geo is not None:
        win.restoreGeometry(geo)
    if asked is not None:
        win.resize(*asked)
    win.show()
    from .main_window import _demo_available
    from .naming import PHOTO_SUFFIXES

    demo = not args.scene and settings.first_launch and not args.no_demo and _demo_available()
    if args.shot:
        _arm_shot(app, win, Path(args.shot), wait_for_scene=bool(args.scene) or demo, size=asked)
    if os.environ.get("WANDER_STARTUP_TRACE"):
        _arm_startup_trace(app, win)
    if args.scene:
        path = Path(args.scene)
        if not path.exists():
            if args.shot:
                print(f"error: {path}: no such file", file=sys.stderr)
                return 2
            report_missing_scene(win, path)
        elif args.shot and path.suffix.lower() in PHOTO_SUFFIXES:
            # the app would ask how to make a world of it: a screenshot cannot wait for that
            import shlex

            from generators.panorama import MIN_PHOTO_SIDE
            from scene.errors import SceneFormatError
            from scene.io.images import VIDEO_SUFFIXES, checked_image_size

            name = shlex.quote(str(path))
            if path.suffix.lower() in VIDEO_SUFFIXES:  # (the app offers the same)
                print(
                    f"error: {path} is a video, not a scene; to make a 3D scene from it: "
                    f"python main.py reconstruct --video {name} --out scene.ply",
                    file=sys.stderr,
                )
                return 2
            try:  # a text file named .jpg, a cut-off photo or a sliver: no world from it
                w, h = checked_image_size(path, min_side=MIN_PHOTO_SIDE)
            except SceneFormatError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            from generators.panorama import looks_equirectangular

            pano = looks_equirectangular(path, w, h)
            kind, opt = ("a 360° panorama", "--panorama") if pano else ("a photo", "--photo")
            print(
                f"error: {path} is {kind}, not a scene; to make a 3D world from it: python "
                f"main.py world {opt} {name} --out world.wander",
                file=sys.stderr,
            )
            return 2
        else:
            win.open_path(path)
    elif demo:
        win.open_demo()
    settings.mark_launched()
    return int(app.exec())


def _arm_shot(
    app,
    win,
    out: Path,
    wait_for_scene: bool,
    settle_ms: int = 1500,
    timeout_ms: int = 120000,
    size: tuple[int, int] | None = None,
) -> None:
    """Grab the window to `out` once the scene is shown and a full-quality frame is drawn
    (or at once when no scene is coming), then quit. `size`: the --size asked for; a
    window that could not take it says so."""
    import time

    from PyQt6.QtCore import QTimer

    from scene.gaussians import GaussianCloud

    state = {
        "shown": None if wait_for_scene else time.perf_counter(),
        "full": False,
        "since": time.perf_counter(),
    }

    def on_frame(info) -> None:
        # big scenes are prepared off-thread: until then frames are full quality but empty
        drawn = info.splats_total > 0 or not any(
            isinstance(lay.data, GaussianCloud) and len(lay.data)
            for lay in win.world.visible_layers()
        )
        # the latest frame decides: a camera re-homed after the first full frame (the
        # walk collider) draws reduced frames again until it refines
        full = (
            state["shown"] is not None and info.full_quality and drawn and not win.viewport.moving
        )
        if full and not state["full"]:
            state["since"] = time.perf_counter()
        state["full"] = full

    def on_world(_w) -> None:
        state["shown"], state["full"] = time.perf_counter(), False

    def take() -> None:
        from scene.files import atomic_path

        img = win.grab()
        if size is not None and (img.width(), img.height()) != size:
            print(
                f"note: {out.name} is {img.width()}x{img.height()}, not the asked "
                f"{size[0]}x{size[1]}: the window's smallest size, or the screen's largest",
                file=sys.stderr,
            )
        try:
            with atomic_path(out, ".png") as tmp:
                if not img.save(str(tmp), "PNG"):
                    raise OSError(f"cannot write {out}")
            ok = True
            print(f"wrote {out} ({img.width()}x{img.height()})")  # as `render` says it
        except (OSError, ValueError) as exc:
            log.error("screenshot %s failed: %s", out, exc)
            said = str(exc)  # (a SceneFormatError names the path itself)
            said = said if str(out) in said else f"screenshot {out}: {said}"
            print(f"error: {said}", file=sys.stderr)
            ok = False
        app.exit(0 if ok else 2)  # an output that cannot be written: as the commands say it

    def poll() -> None:
        t = state["shown"]
        now = time.perf_counter()
        ready = win.world.is_empty() or (
            state["full"] and (now - state["since"]) * 1000 >= min(settle_ms, 500)
        )
        if t is not None and ready and (now - t) * 1000 >= settle_ms:
            take()
        else:
            QTimer.singleShot(200, poll)

    report = win.report_job_error

    def failed(title: str, exc: BaseException) -> None:
        # the scene will never come: one line and out, not a wait for the 2-minute timeout
        report(title, exc)
        print(f"error: {title}: {exc}", file=sys.stderr)
        app.exit(2)

    win.report_job_error = failed
    win.viewport.frame_drawn.connect(on_frame)
    win.world_replaced.connect(on_world)
    QTimer.singleShot(200, poll)
    QTimer.singleShot(timeout_ms, lambda: app.exit(1))


def _trace(stage: str, extra: str = "") -> None:
    """With WANDER_STARTUP_TRACE set, print a wall-clock stamp (time.time()) of `stage`,
    then `extra` (bench/startup.py reads them)."""
    if os.environ.get("WANDER_STARTUP_TRACE"):
        import time

        print(f"startup {stage} {time.time():.4f} {extra}".rstrip(), flush=True)


def _arm_startup_trace(app, win) -> None:  # noqa: ANN001
    """WANDER_STARTUP_TRACE=1 (bench/startup.py): print wall-clock stamps (time.time()) of the
    window shown, of the scene set and of the first full-quality frame with splats, then quit."""
    _trace("window_shown")
    win.world_replaced.connect(lambda _w: _trace("world_set"))

    def on_frame(info) -> None:  # noqa: ANN001
        if info.full_quality and info.splats_drawn > 0 and not info.moving:
            _trace("first_full_frame", f"splats {info.splats_total}")
            app.exit(0)

    win.viewport.frame_drawn.connect(on_frame)
