"""Render one-photo / panorama worlds from the views issue 14 judges, and a contact sheet.

    python bench/world_views.py render --out DIR [--code REPO] [--inputs a.jpg,b.jpg]
    python bench/world_views.py sheet --before DIR --after DIR --out docs/world-contact-sheet.jpg

`render` builds a world from each input with the classical backends (photos: `world
--photo`, equirect panoramas: `world --panorama`) using the code in REPO (default: this
checkout; pass the main checkout to render "before"), then renders it headlessly from the
start point (start view at the start bookmark's pitch, turned 90° right, turned 180°, level)
and from 2 m to the side (+X, looking forward, level), 480×320 px at 75° horizontal field
of view, plus the start view at the photo's own camera for a PSNR against the photo.
Writes DIR/<input>_<view>.png (<input>: the input's folder, with its file's stem when
two inputs share a folder) and DIR/views.json (PSNR, splat count, build time, the
world's estimates).
`sheet` puts before/after rows side by side, one block per input.
Needs an X display (or EGL) for the offscreen renderer.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
DEFAULT_INPUTS = [
    REALDATA / "world_office" / "Office.jpg",
    REALDATA / "world_sceaux" / "100_7100.JPG",
    REALDATA / "pano_pannellum_jordanpond" / "examplepano.jpg",
]
VIEWS = [
    ("start", 0.0, 0.0),
    ("turn90", -math.pi / 2, 0.0),
    ("turn180", math.pi, 0.0),
    ("side2m", 0.0, 2.0),
]
VIEW_W, VIEW_H, VIEW_FOV = 480, 320, 75.0


def render_views(out: Path, inputs: list[Path]) -> dict:
    import cv2
    import numpy as np

    from generators.images import load_image
    from generators.pano_world import world_from_photos
    from generators.panorama.projection import perspective_camera
    from viewer.offscreen import render_image

    out.mkdir(parents=True, exist_ok=True)
    report = {}
    # each input is named by its folder (world_office, ...); inputs sharing a folder by
    # folder and file, or each one's views overwrote the one before
    folders = [p.parent.name for p in inputs]
    for path in inputs:
        name = path.parent.name
        if folders.count(name) > 1:
            name = f"{name}_{path.stem}"
        is_pano = "pano" in path.parent.name
        t0 = time.perf_counter()
        if is_pano:
            world, pano, _ = world_from_photos(panorama=path)
        else:
            world, pano, _ = world_from_photos([path])
        dt = time.perf_counter() - t0
        bm = world.bookmarks[0]
        eye = np.asarray(bm.position, float)
        entry = {
            "seconds": round(dt, 2),
            "splats": len(world.merged_cloud()),
            "meta": {
                k: v
                for k, v in world.layers[0].data.meta.items()
                if k
                in (
                    "radius",
                    "radius_source",
                    "sky_fraction",
                    "ceiling",
                    "level",
                    "walkable_radius",
                    "estimates",
                )
            },
        }
        for view, yaw, dx in VIEWS:
            # the start view is what opening the world shows (the start bookmark, at the
            # photo's pitch); turned and side views are level
            pitch = float(bm.pitch) if view == "start" else 0.0
            cam = perspective_camera(
                VIEW_W,
                VIEW_H,
                VIEW_FOV,
                yaw=yaw,
                pitch=pitch,
                position=tuple(eye + [dx, 0.0, 0.0]),
            )
            img = render_image(world, cam)
            cv2.imwrite(str(out / f"{name}_{view}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        if not is_pano:
            photo = load_image(path).rgb
            h, w = photo.shape[:2]
            s = min(1.0, 900 / max(h, w))
            photo = cv2.resize(photo, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            h, w = photo.shape[:2]
            pitch = math.radians(getattr(pano, "photo_pitch_deg", 0.0))
            # a photo levelled before it was placed was taken rolled: compare it as taken
            meta = getattr(pano, "meta", None) or {}
            placed = meta.get("photo_pitch") or {}
            roll = math.radians(placed.get("roll_deg", 0.0)) if placed.get("roll_applied") else 0.0
            cam = perspective_camera(
                w, h, pano.fov_x_deg, pitch=pitch, roll=roll, position=tuple(eye)
            )
            img = render_image(world, cam).astype(np.float32) / 255
            # a black band along the photo's edges is invented, not placed: not compared
            band = (meta.get("photo_frame") or {}).get("margins_px", {})
            t, b, lft, r = (
                3 + math.ceil(band.get(k, 0) * s) for k in ("top", "bottom", "left", "right")
            )
            crop = (slice(t, h - b), slice(lft, w - r))
            mse = float(np.mean((img[crop] - photo[crop]) ** 2))
            entry["start_psnr_db"] = round(10 * math.log10(1 / max(mse, 1e-12)), 2)
        report[name] = entry
        print(name, json.dumps(entry))
    (out / "views.json").write_text(json.dumps(report, indent=2))
    return report


def contact_sheet(before: Path, after: Path, out: Path) -> None:
    import cv2
    import numpy as np

    names = sorted({p.name.rsplit("_", 1)[0] for p in after.glob("*_start.png")})
    tw, th = VIEW_W // 2, VIEW_H // 2
    blocks = []
    font = cv2.FONT_HERSHEY_SIMPLEX
    for name in names:
        title = np.full((28, 4 * tw + 90, 3), 255, np.uint8)
        cv2.putText(
            title,
            name + "   (start | turned 90 | turned 180 | 2 m to the side)",
            (6, 20),
            font,
            0.55,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        blocks.append(title)
        for label, folder in (("before", before), ("after", after)):
            row = [np.full((th, 90, 3), 255, np.uint8)]
            cv2.putText(row[0], label, (6, th // 2), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
            for view, _, _ in VIEWS:
                im = cv2.imread(str(folder / f"{name}_{view}.png"))
                im = (
                    np.zeros((th, tw, 3), np.uint8)
                    if im is None
                    else cv2.resize(im, (tw, th), interpolation=cv2.INTER_AREA)
                )
                row.append(im)
            blocks.append(np.concatenate(row, 1))
    sheet = np.concatenate(blocks, 0)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument(
        "--code", type=Path, default=ROOT, help="repository whose code builds the worlds"
    )
    r.add_argument("--inputs", help="comma-separated photos / panoramas (default: the shared ones)")
    s = sub.add_parser("sheet")
    s.add_argument("--before", type=Path, required=True)
    s.add_argument("--after", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    if a.cmd == "render":
        sys.path.insert(0, str(a.code.resolve()))
        inputs = [Path(x) for x in a.inputs.split(",")] if a.inputs else DEFAULT_INPUTS
        render_views(a.out, inputs)
    else:
        sys.path.insert(0, str(ROOT))
        contact_sheet(a.before, a.after, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
