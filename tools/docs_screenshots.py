"""Make the README's hero screenshot and the screenshots of the app's editing UI in docs/.

    python tools/docs_screenshots.py [--out docs]        # needs a display (Xvfb is fine)

Opens the app on the demo world (built from the bundled photo by the classical generators,
no downloads), inserts an object made from a bundled photo, and saves window grabs:
screenshot-app.png (hero: the world with the object selected, gizmo and Object panel),
gizmo-rotate.png, splat-selection.png (floaters box-selected and highlighted),
key-overlay.png (Help > Controls) and settings.png (Edit > Settings…).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs (docs/)")
    ap.add_argument("--size", default="1280x800", help="window size WxH (1280x800)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w, h = (int(v) for v in args.size.lower().split("x"))
    os.environ.setdefault("WANDER_CONFIG_DIR", tempfile.mkdtemp(prefix="wander-shots-"))
    os.environ.setdefault("WANDER_AUTOSAVE_DIR", tempfile.mkdtemp(prefix="wander-shots-autosave-"))

    from viewer.app import configure_gl

    configure_gl()
    import numpy as np
    from PyQt6.QtWidgets import QApplication

    from viewer.main_window import MainWindow
    from viewer.style import apply_theme

    app = QApplication.instance() or QApplication(["wander"])
    apply_theme(app)
    win = MainWindow()
    win.project_ext.ask_on_close = False
    win.resize(w, h)
    win.show()

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(cond, seconds: float = 120.0) -> None:  # noqa: ANN001
        end = time.perf_counter() + seconds
        while not cond():
            if time.perf_counter() > end:
                raise TimeoutError("the app did not get there in time")
            pump(0.05)

    def settle() -> None:
        pump(0.3)
        wait(lambda: not win.jobs.jobs and win.viewport.info.splats_total > 0 and not win.render_pending())
        wait(lambda: win.fps_label.text() == "full quality", 30)
        pump(0.3)

    def grab(name: str) -> None:
        pump(0.2)
        path = out / name
        win.grab().save(str(path))
        print(f"wrote {path}")

    win.open_demo()
    wait(lambda: not win.world.is_empty() and not win.jobs.jobs, 300)
    settle()
    win.set_mode("fly")
    nav = win.viewport.nav
    eye = nav.position_world.copy()
    fwd = nav.forward_world()
    fwd_level = fwd - (fwd @ win.world.up_axis) * win.world.up_axis
    nav.set_view_world(eye, fwd_level / np.linalg.norm(fwd_level) - 0.35 * win.world.up_axis)
    pump(0.3)

    # an object from a bundled photo, placed where the view centre points
    from generators.objects.pipeline import ObjectRequest

    photo = ROOT / "assets" / "coffee.jpg"
    tools = win.extensions["objects_tools"]
    tools.start(ObjectRequest(photo=photo, resolution=96, with_mesh=False))
    n = len(win.world.layers)
    wait(lambda: len(win.world.layers) > n - 1 and not win.jobs.jobs, 300)
    obj = win.world.layers[-1]
    win.select_layer(obj.id)
    settle()
    grab("screenshot-app.png")

    tools.set_gizmo_mode("rotate")
    settle()
    grab("gizmo-rotate.png")
    tools.set_gizmo_mode("move")

    # floaters: a few hundred stray splats in front of the view, box-selected
    from scene.gaussians import GaussianCloud
    from scene.world import Layer

    rng = np.random.default_rng(3)
    cam = win.current_camera()
    centre = cam.position + 2.0 * cam.forward + 0.4 * -cam.up
    pts = centre + rng.normal(0, 0.25, (400, 3))
    floaters = GaussianCloud.from_points(pts, rng.uniform(0.6, 1.0, (400, 3)), 0.02, opacity=0.9)
    floaters_layer = win.world.add_layer(Layer("floaters", floaters, kind="world"))
    win.select_layer(floaters_layer.id)     # the tools act on the layer selected in the outliner
    settle()
    splats = win.extensions["splat_tools"]
    splats.set_tool("box")
    vp = win.viewport
    uv, _ = splats.camera().project(pts)
    x0, y0 = uv.min(0) - 10
    x1, y1 = uv.max(0) + 10
    splats.select_box(x0, y0, x1, y1)
    splats.path = [(x0, y0), (x1, y1)]      # show the box being dragged
    vp.update()
    settle()
    grab("splat-selection.png")
    splats.path = []
    splats.set_tool(None)
    splats.select_none()

    win.show_controls()
    pump(0.5)
    grab("key-overlay.png")
    win.show_controls()

    from viewer.settings_dialog import SettingsDialog, load_prefs

    dlg = SettingsDialog(win, load_prefs(win.settings))
    dlg.show()
    pump(0.5)
    path = out / "settings.png"
    dlg.grab().save(str(path))
    print(f"wrote {path}")
    dlg.close()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
