"""Issue 14's synthetic check: `python bench/world_synthetic.py [--code REPO]`.

A textured room with upright objects (tests/world_scene.py, ray-cast exactly) is "photographed"
from (0, 1.6, 0) looking −Z (480×320, 65°); `world` is built from that photo with the code in
REPO (default: this checkout; pass the main checkout for "before"); the world and the exact
scene are rendered 1 m and 2 m to the side (+X) and compared (PSNR) over the pixels the photo
saw; the start view is compared with the photo; the tall pillar's splats give its tilt from
vertical (principal axis of the photo splats on it), the low block's its front face's tilt
(0: standing, 90: lying on the floor). Needs an X display or EGL.

`--table` adds a desk (0.75 m high, its front 2.3 m off) with a block standing on it and
pitches the photo 15° down: the views 1 m forward, 1 m and 2 m to the side are scored over
the pixels the photo saw and over the desk's and the block's alone (`*_table_psnr_db`).
A world that stands the desk top up as a card at its front edge's distance opens gaps
between it and what stands on it from a step forward.

`--panorama` closes the room with a ceiling and makes it a whole equirect panorama
(`run_panorama`): `world --panorama`'s views aside, back and forward against the exact
scene, and the pillar's and the box's depth in the world over their true depth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


TABLE = (-0.7, 0.5, 0.0, 0.75, -3.0, -2.3, 3)
ON_TABLE = (-0.35, -0.05, 0.75, 1.05, -2.75, -2.55, 4)
TABLE_COLOURS = {3: ((0.55, 0.3, 0.15), (0.85, 0.68, 0.45)), 4: ((0.15, 0.55, 0.3),) * 2}


def run(code: Path, table: bool = False) -> dict:
    sys.path.insert(0, str(code.resolve()))
    sys.path.insert(0, str(ROOT / "tests"))
    import cv2
    import numpy as np
    from world_scene import raycast, seen_by

    from generators.pano_world import world_from_photos
    from generators.panorama.projection import perspective_camera
    from scene.units import EYE_HEIGHT
    from viewer.offscreen import render_image

    W, H, FOV = 480, 320, 65.0
    extra, colours = ((TABLE, ON_TABLE), TABLE_COLOURS) if table else ((), None)
    pitch = math.radians(-15.0) if table else 0.0
    cam = perspective_camera(W, H, FOV, pitch=pitch, position=(0.0, EYE_HEIGHT, 0.0))
    photo, _, sid = raycast(cam, extra, colours)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "room.png"
        cv2.imwrite(
            str(path), cv2.cvtColor((photo * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
        )
        world, pano, _ = world_from_photos([path], fov=FOV, pano_height=1024)
    out: dict = {}

    def psnr(a, b, m):  # noqa: ANN001, ANN202
        return 10 * math.log10(1.0 / max(float(np.mean((a[m] - b[m]) ** 2)), 1e-12))

    start = render_image(world, cam).astype(np.float32) / 255
    out["start_psnr_db"] = round(psnr(start, photo, np.ones((H, W), bool)), 2)
    views = [(f"side_{dx:.0f}m", (dx, EYE_HEIGHT, 0.0)) for dx in (1.0, 2.0)]
    if table:
        views.append(("forward_1m", (0.0, EYE_HEIGHT, -1.0)))
    for name, pos in views:
        view = perspective_camera(W, H, FOV, pitch=pitch, position=pos)
        truth, _, vid = raycast(view, extra, colours)
        m = seen_by(view, cam, extra)
        img = render_image(world, view).astype(np.float32) / 255
        out[f"{name}_psnr_db"] = round(psnr(img, truth, m), 2)
        if table:
            out[f"{name}_table_psnr_db"] = round(psnr(img, truth, m & (vid >= 3)), 2)
    # pillar tilt: the photo splats are pixel-aligned, first in the cloud, row-major
    cloud = world.layers[0].data
    pts = cloud.means[: W * H].reshape(H, W, 3)
    sel = sid == 1
    sel &= cv2.erode(sel.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    p = pts[sel].astype(np.float64)
    p = p - p.mean(0)
    axis = np.linalg.svd(p, full_matrices=False)[2][0]
    out["pillar_tilt_deg"] = round(math.degrees(math.acos(min(1.0, abs(axis[1])))), 2)
    # the low block: its splats mostly lie on its front face; that face's normal (the
    # least-spread axis) is horizontal when the block stands, vertical when it lies flat
    sel = sid == 2
    sel &= cv2.erode(sel.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if sel.sum() >= 10:
        q = pts[sel].astype(np.float64)
        normal = np.linalg.svd(q - q.mean(0), full_matrices=False)[2][2]
        out["block_tilt_deg"] = round(math.degrees(math.asin(min(1.0, abs(normal[1])))), 2)
    out["radius"] = cloud.meta.get("radius")
    return out


CEILING = ((-4.5, 4.5, 3.0, 3.2, -6.5, 5.5, 5),)  # closes the room: indoors
CEILING_COLOURS = {5: ((0.6, 0.55, 0.48), (0.6, 0.55, 0.48))}  # (beige: no sky-like colour)
PANO_EYE = (0.3, 1.6, -0.5)


def run_panorama(code: Path) -> dict:
    """The room with a ceiling as a whole equirect panorama (1024 rows) from PANO_EYE ->
    `world --panorama` (not levelled) -> rendered from 1 m and 2 m to the side, 1.5 m
    back (turned round) and 1 m forward turned right, against the exact scene (PSNR over
    every pixel: a panorama sees all of them), and where the pillar and the low box
    stand: the median of their depth in the world over the true one."""
    sys.path.insert(0, str(code.resolve()))
    sys.path.insert(0, str(ROOT / "tests"))
    import cv2
    import numpy as np
    from world_scene import _planes, _texture, raycast

    from generators.pano_world import world_from_photos
    from generators.panorama.projection import pano_dirs, perspective_camera
    from viewer.offscreen import render_image

    H = 1024
    d = pano_dirs(H).reshape(-1, 3)
    o = np.array(PANO_EYE)
    t, sid = _planes(o, d, CEILING)
    pts = o + np.where(np.isfinite(t), t, 0)[:, None] * d
    pano = _texture(pts, sid, CEILING, CEILING_COLOURS).reshape(H, 2 * H, 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "room_pano.png"
        cv2.imwrite(str(path), cv2.cvtColor((pano * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))
        world, _, _ = world_from_photos(panorama=path, level=False)
    eye = np.asarray(world.bookmarks[0].position, float)
    out: dict = {}
    for name, yaw, step in (
        ("start", 0.0, (0.0, 0.0, 0.0)),
        ("side_1m", 0.0, (1.0, 0.0, 0.0)),
        ("side_2m", 0.0, (2.0, 0.0, 0.0)),
        ("back_1.5m_turned", 180.0, (0.0, 0.0, 1.5)),
        ("forward_1m_right", -90.0, (0.0, 0.0, -1.0)),
    ):
        view = perspective_camera(
            480, 320, 75.0, yaw=math.radians(yaw), position=tuple(eye + np.array(step))
        )
        truth = perspective_camera(
            480, 320, 75.0, yaw=math.radians(yaw), position=tuple(o + np.array(step))
        )
        ref, _, _ = raycast(truth, CEILING, CEILING_COLOURS)
        img = render_image(world, view).astype(np.float32) / 255
        mse = max(float(np.mean((img - ref) ** 2)), 1e-12)
        out[f"{name}_psnr_db"] = round(10 * math.log10(1.0 / mse), 2)
    # the world's own layered depth at the panorama's pixels, against the exact one
    from generators.pano_world import scene_layers

    small = 256
    ds = pano_dirs(small).reshape(-1, 3)
    ts, ss = _planes(o, ds, CEILING)
    ps = o + np.where(np.isfinite(ts), ts, 0)[:, None] * ds
    img_s = _texture(ps, ss, CEILING, CEILING_COLOURS).reshape(small, 2 * small, 3)
    layers, _, est = scene_layers(img_s, eye_height=float(o[1]))
    out["indoor"] = est["indoor"]["value"]
    for name, bid in (("pillar", 1), ("box", 2)):
        m = ss.reshape(small, 2 * small) == bid
        ratio = layers.depth[m] / ts.reshape(small, 2 * small)[m]
        out[f"{name}_depth_ratio"] = round(float(np.median(ratio)), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, default=ROOT)
    p.add_argument("--table", action="store_true", help="a desk with a block on it, pitched")
    p.add_argument(
        "--panorama", action="store_true", help="the room with a ceiling as a whole panorama"
    )
    a = p.parse_args(argv)
    print(json.dumps(run_panorama(a.code) if a.panorama else run(a.code, a.table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
