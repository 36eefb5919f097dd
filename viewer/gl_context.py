"""A headless OpenGL 3.3 core context for offscreen renders (tests, CLI, screenshots).

Two backends, chosen once per process:
- "qt":  a hidden QOffscreenSurface + QOpenGLContext (needs an X display, e.g. Xvfb);
         PyOpenGL then talks GLX, the same as the app's QOpenGLWidget.
- "egl": Mesa's surfaceless EGL platform, no display at all; PyOpenGL must be imported
         with PYOPENGL_PLATFORM=egl, so this is only possible before OpenGL is imported.
`WANDER_GL=qt|egl` forces one; by default "qt" when $DISPLAY is set or PyOpenGL is
already loaded for GLX, else "egl".
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

_lock = threading.Lock()
_context: OffscreenContext | None = None


class GLContextError(RuntimeError):
    """No OpenGL 3.3 context could be created."""


def choose_backend() -> str:
    """The backend this process will use ("qt" or "egl")."""
    forced = os.environ.get("WANDER_GL", "").lower()
    if forced in ("qt", "egl"):
        return forced
    if "OpenGL.platform" in sys.modules or "OpenGL.GL" in sys.modules:
        return "egl" if os.environ.get("PYOPENGL_PLATFORM", "").lower() == "egl" else "qt"
    return "qt" if os.environ.get("DISPLAY") else "egl"


class OffscreenContext:
    """An OpenGL 3.3 core context with no window; `make_current()` before GL calls."""

    def __init__(self, backend: str | None = None) -> None:
        self.backend = backend or choose_backend()
        self._impl: Any = None
        self._thread = threading.get_ident()
        if self.backend == "egl":
            self._init_egl()
        elif self.backend == "qt":
            self._init_qt()
        else:
            raise ValueError(f"unknown GL backend {self.backend!r} (use 'qt' or 'egl')")

    # ------------------------------------------------------------------- EGL
    def _init_egl(self) -> None:
        if "OpenGL.platform" in sys.modules and os.environ.get("PYOPENGL_PLATFORM") != "egl":
            raise GLContextError(
                "PyOpenGL is already loaded for GLX; EGL needs "
                "PYOPENGL_PLATFORM=egl before OpenGL is first imported"
            )
        os.environ["PYOPENGL_PLATFORM"] = "egl"
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        from OpenGL import EGL

        dpy = EGL.eglGetDisplay(EGL.EGL_DEFAULT_DISPLAY)
        major, minor = EGL.EGLint(), EGL.EGLint()
        try:
            ok = EGL.eglInitialize(dpy, ctypes.pointer(major), ctypes.pointer(minor))
        except Exception as exc:  # PyOpenGL raises EGLError
            raise GLContextError(
                f"EGL initialisation failed ({exc.__class__.__name__}); "
                "install Mesa's libegl1 or run under Xvfb"
            ) from None
        if not ok:
            raise GLContextError("EGL initialisation failed")
        attrs = (EGL.EGLint * 5)(
            EGL.EGL_SURFACE_TYPE,
            EGL.EGL_PBUFFER_BIT,
            EGL.EGL_RENDERABLE_TYPE,
            EGL.EGL_OPENGL_BIT,
            EGL.EGL_NONE,
        )
        cfg, n = EGL.EGLConfig(), EGL.EGLint()
        if (
            not EGL.eglChooseConfig(dpy, attrs, ctypes.pointer(cfg), 1, ctypes.pointer(n))
            or n.value < 1
        ):
            raise GLContextError("no EGL config supports desktop OpenGL")
        EGL.eglBindAPI(EGL.EGL_OPENGL_API)
        cattrs = (EGL.EGLint * 7)(
            EGL.EGL_CONTEXT_MAJOR_VERSION,
            3,
            EGL.EGL_CONTEXT_MINOR_VERSION,
            3,
            EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK,
            EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
            EGL.EGL_NONE,
        )
        ctx = EGL.eglCreateContext(dpy, cfg, EGL.EGL_NO_CONTEXT, cattrs)
        if not ctx:
            raise GLContextError("could not create an OpenGL 3.3 core context through EGL")
        self._impl = (EGL, dpy, ctx)

    # -------------------------------------------------------------------- Qt
    def _init_qt(self) -> None:
        if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb":
            raise GLContextError(
                "no X display for a Qt OpenGL context: set DISPLAY (Xvfb) or WANDER_GL=egl"
            )
        from PyQt6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QSurfaceFormat
        from PyQt6.QtWidgets import QApplication

        app = QGuiApplication.instance()
        if app is None:
            # a QApplication (not a bare QGuiApplication) so widgets made later still work
            os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
            app = QApplication(["wander-offscreen"])
        fmt = QSurfaceFormat()
        fmt.setVersion(3, 3)
        fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
        surface = QOffscreenSurface()
        surface.setFormat(fmt)
        surface.create()
        ctx = QOpenGLContext()
        ctx.setFormat(fmt)
        if not ctx.create():
            raise GLContextError("Qt could not create an OpenGL 3.3 core context")
        self._impl = (app, surface, ctx)

    # ---------------------------------------------------------------- public
    def make_current(self) -> None:
        """Make this context current on the calling thread."""
        if self.backend == "egl":
            egl, dpy, ctx = self._impl
            if not egl.eglMakeCurrent(dpy, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, ctx):
                raise GLContextError("eglMakeCurrent failed")
        else:
            _app, surface, ctx = self._impl
            if threading.get_ident() != self._thread:
                raise GLContextError(
                    "the Qt offscreen GL context belongs to the thread that created "
                    "it (the GUI thread in the app); render there, or use WANDER_GL=egl"
                )
            if not ctx.makeCurrent(surface):
                raise GLContextError("QOpenGLContext.makeCurrent failed")

    def done_current(self) -> None:
        if self.backend == "egl":
            egl, dpy, _ctx = self._impl
            egl.eglMakeCurrent(dpy, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, egl.EGL_NO_CONTEXT)
        else:
            self._impl[2].doneCurrent()


def offscreen_context() -> OffscreenContext:
    """The process-wide offscreen context (created on first use, then reused)."""
    global _context
    with _lock:
        if _context is None:
            _context = OffscreenContext()
        return _context
