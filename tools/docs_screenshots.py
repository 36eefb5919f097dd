"""Make the README's hero screenshot and the screenshots of the app's editing UI in docs/.

    python tools/docs_screenshots.py [--out docs]        # needs a display (Xvfb is fine)

Opens the app on the demo world (built from the bundled photo by the classical generators,
no downloads), inserts an object made from a bundled photo, and saves window grabs:
screenshot-app.png (hero: the world with the object selected, gizmo and Object panel),
gizmo-rotate.png, splat-selection.png (floaters box-selected and highlighted),
key-overlay.png (Help > Controls), settings.png (Settings > Preferences…), camera-path.png (the
path drawn in the view with the Camera Path panel), orbit-grid.png (orbit pivot marker and
ground grid) and insert-object-dialog.png (backends with their model-manager readiness).
`--only camera-path,orbit-grid` makes just those.
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
    ap.add_argument("--only", default="", help="comma-separated shot names (without .png)")
    args = ap.parse_args(argv)
    only = {n.strip().removesuffix(".png") for n in args.only.split(",") if n.strip()}
    want = lambda name: not only or name in only  # noqa: E731
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
    win.document.ask_user = False
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
        wait(
            lambda: (
                not win.jobs.jobs
                and win.viewport.info.splats_total > 0
                and not win.render_pending()
            )
        )
        wait(lambda: win.fps_label.text() == "full quality", 30)
        pump(0.3)

    def grab(name: str) -> None:
        if not want(name.removesuffix(".png")):
            return
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

    start_view = (nav.position_world.copy(), nav.forward_world().copy())
    if want("screenshot-app") or want("gizmo-rotate") or want("splat-selection"):
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
        floaters = GaussianCloud.from_points(
            pts, rng.uniform(0.6, 1.0, (400, 3)), 0.02, opacity=0.9
        )
        floaters_layer = win.world.add_layer(Layer("floaters", floaters, kind="world"))
        win.select_layer(floaters_layer.id)  # the tools act on the layer selected in the outliner
        settle()
        splats = win.extensions["splat_tools"]
        splats.set_tool("box")
        vp = win.viewport
        uv, _ = splats.camera().project(pts)
        x0, y0 = uv.min(0) - 10
        x1, y1 = uv.max(0) + 10
        splats.select_box(x0, y0, x1, y1)
        splats.path = [(x0, y0), (x1, y1)]  # show the box being dragged
        vp.update()
        settle()
        grab("splat-selection.png")
        splats.path = []
        splats.set_tool(None)
        splats.select_none()

    if want("key-overlay"):
        win.show_controls()
        pump(0.5)
        grab("key-overlay.png")
        win.show_controls()

    if want("camera-path"):  # keyframes along a curve, seen from behind, in the path panel
        pe = win.extensions["camera_paths"]
        eye, fwd = start_view
        up = np.asarray(win.world.up_axis, np.float64)
        side = np.cross(fwd, up)
        side /= np.linalg.norm(side)
        ahead = fwd - (fwd @ up) * up
        ahead /= np.linalg.norm(ahead)
        for t in np.linspace(0.0, 1.0, 5):
            p = eye + ahead * (1.0 + 3.0 * t) + side * 1.2 * np.sin(np.pi * t) - up * 0.2
            nav.set_view_world(p, ahead + side * 0.4 * np.cos(np.pi * t))
            pe.add_keyframe()
        nav.set_view_world(eye - ahead * 1.0 + up * 0.6, ahead - 0.25 * up)
        pe.toggle_editor()
        pe.editor.select(2)
        settle()
        grab("camera-path.png")
        pe.toggle_editor()
        pe.clear_path()

    if want("orbit-grid"):
        win.orbit_grid_action.setChecked(True)
        eye, fwd = start_view
        nav.set_view_world(eye, fwd)
        win.set_mode("orbit")
        nav.look(120.0, 60.0)
        settle()
        grab("orbit-grid.png")
        win.orbit_grid_action.setChecked(False)
        win.set_mode("fly")

    def grab_dialog(dlg, name: str) -> None:  # noqa: ANN001
        if not want(name):
            return
        dlg.show()
        pump(0.5)
        path = out / f"{name}.png"
        dlg.grab().save(str(path))
        print(f"wrote {path}")
        dlg.close()

    from viewer.settings_dialog import SettingsDialog, load_prefs

    grab_dialog(SettingsDialog(win, load_prefs(win.settings)), "settings")
    if want("insert-object-dialog"):
        from viewer.ext_objects import SegmentDialog

        dlg = SegmentDialog(win, ROOT / "assets" / "coffee.jpg")
        dlg.canvas.box = (40, 10, 560, 400)
        dlg.preview()
        grab_dialog(dlg, "insert-object-dialog")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
