"""Benchmark: what showing one finished CPU frame costs in a window, by the way it is shown.

    python bench/window.py [--size 1280x800] [--seconds 4]

The CPU path (viewer/cpu_splat.py) ends every frame with an RGBA image in memory. Shown
through a QOpenGLWidget (the app's viewport until December 2026, still on a GPU): upload, a
1:1 blit into the widget's framebuffer, then Qt composites the widget's texture and the
window's raster widgets into the window (a textured quad each, drawn by the GL driver) and
swaps. On a software GL the app now draws offscreen, reads the frame back (~2 ms at
1006x754) and paints it as an image (`viewport.RasterViewport`: the "raster" way below,
plus the read-back). Each mode here shows the same 8-bit frame of the window's size, back
to back, in its own process, and prints the median interval between frames and its ratio
to the QOpenGLWidget's:

- widget: a QOpenGLWidget filling a QMainWindow;
- window: a QOpenGLWindow in `QWidget.createWindowContainer` (renders straight into its
  own native window: no composition), updates unthrottled (QT_QPA_UPDATE_IDLE_TIME=0:
  Qt otherwise spaces a window's update requests by 5 ms);
- raster: a plain QWidget painting the frame as a QImage (no GL at all);
- raster_gl_hidden: the same beside a QOpenGLWidget shown once and then hidden (a
  QStackedWidget page): Qt keeps compositing the window with GL.

On a software OpenGL (Mesa llvmpipe) the composition is the cost. Under Xvfb on a 2-core
machine, 1280x800: widget 15.1 ms a frame, window 6.9 ms (x2.2), raster 1.7 ms (x8.8),
raster_gl_hidden 10.5 ms (a raster view of CPU frames needs a window with no GL widget in
it); 640x400: 3.9, 1.7 and 0.5 ms. With only a glClear per frame the widget still takes
14.3 ms: a quad the size of the window for the raster widgets, ~8 ms, and one for the GL
widget's texture, ~6 ms. That composition is most of the window overhead the app's
frame-rate controller budgets (`QualityController.record_interval`: 15-20 ms a moving
frame in the app at 1280x800). Needs a display (DISPLAY, e.g. Xvfb).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODES = ("widget", "window", "raster", "raster_gl_hidden")
WARMUP = 20  # frames left out (first allocations, the window being mapped)


def _frame(w: int, h: int):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (h, w, 4), dtype=np.uint8)


def _run_mode(mode: str, w: int, h: int, seconds: float) -> dict:
    """Show frames for `seconds` in one mode; {"mode", "median_ms", "frames"}."""
    from viewer.app import configure_gl

    configure_gl()
    from OpenGL import GL
    from PyQt6.QtCore import QTimer
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtOpenGL import QOpenGLWindow
    from PyQt6.QtOpenGLWidgets import QOpenGLWidget
    from PyQt6.QtWidgets import QApplication, QMainWindow, QWidget

    from viewer.renderer import _ImageCopy

    app = QApplication([sys.argv[0]])
    img = _frame(w, h)
    stamps: list[float] = []

    def gl_frame(target: int) -> None:
        stamps.append(time.perf_counter())
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target)
        copy.copy(img)
        GL.glFinish()

    copy = _ImageCopy(GL.GL_RGBA8, GL.GL_UNSIGNED_BYTE)
    win = QMainWindow()
    if mode == "widget":

        class Widget(QOpenGLWidget):
            def paintGL(self) -> None:
                gl_frame(self.defaultFramebufferObject())

        view = Widget()
        view.frameSwapped.connect(view.update)
        win.setCentralWidget(view)
    elif mode == "window":

        class Window(QOpenGLWindow):
            def paintGL(self) -> None:
                gl_frame(self.defaultFramebufferObject())

        glwin = Window()
        glwin.frameSwapped.connect(glwin.update)
        win.setCentralWidget(QWidget.createWindowContainer(glwin))
    else:
        from PyQt6.QtWidgets import QStackedWidget

        qimg = QImage(img.data, w, h, w * 4, QImage.Format.Format_RGBX8888)

        class Raster(QWidget):
            def paintEvent(self, e) -> None:  # noqa: ANN001
                stamps.append(time.perf_counter())
                p = QPainter(self)
                p.drawImage(0, 0, qimg)
                p.end()
                QTimer.singleShot(0, self.update)

        raster = Raster()
        if mode == "raster_gl_hidden":
            pages = QStackedWidget()
            pages.addWidget(QOpenGLWidget())
            pages.addWidget(raster)
            win.setCentralWidget(pages)
            QTimer.singleShot(300, lambda: pages.setCurrentWidget(raster))
        else:
            win.setCentralWidget(raster)
    win.resize(w, h)
    win.show()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    ts = stamps[WARMUP:]
    iv = [(b - a) * 1e3 for a, b in zip(ts, ts[1:])]
    med = statistics.median(iv) if iv else float("nan")
    return {"mode": mode, "median_ms": med, "frames": len(ts)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1280x800", help="window size WxH [px]")
    ap.add_argument("--seconds", type=float, default=4.0, help="per mode")
    ap.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # one mode, in a child
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    if a.mode:
        print(json.dumps(_run_mode(a.mode, w, h, a.seconds)))
        return
    if not os.environ.get("DISPLAY"):
        sys.exit("bench/window.py needs a display (DISPLAY), e.g. Xvfb :99 & DISPLAY=:99")
    env = dict(os.environ, QT_QPA_UPDATE_IDLE_TIME="0")
    res = {}
    for mode in MODES:
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--size", a.size]
            + ["--seconds", str(a.seconds)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    base = res["widget"]["median_ms"]
    print(f"one {w}x{h} frame shown back to back, median interval (ratio to the GL widget)")
    for mode in MODES:
        ms, n = res[mode]["median_ms"], res[mode]["frames"]
        print(f"  {mode:7s} {ms:6.1f} ms  {1000 / ms:6.0f} fps  x{base / ms:4.1f}  ({n} frames)")


if __name__ == "__main__":
    main()
