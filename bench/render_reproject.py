"""Would reprojecting the last full frame beat the coarse level while moving? An offline
estimate on bench/render.py's room: the full frame and its depth at the walk's start are
forward-warped (per pixel, 2x2 footprint, nearest wins) to cameras 0.1-0.8 s into the walk,
holes filled by the moving frame the renderer draws there (merged coarse level, 20k splats at
20 % resolution); both are scored against the full frame at that camera.

    python bench/render_reproject.py [SPLATS]

Measured here (300k): reprojection + fill wins only for the first ~0.1 s of motion (SSIM 0.84
against 0.75 for the coarse level alone) and loses after 0.25 s (cracks and holes as the view
moves forward): worth it only with a keyframe refreshed about every 100 ms, which costs a
full frame.
"""

# ruff: noqa: E402
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import numpy as np
from render import Bench, H, W, camera_at, room_scene

from generators.reconstruct.evaluate import psnr, ssim

b = Bench()
GL = b.GL
from scene.world import Layer, World
from viewer.renderer import SplatRenderer

n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
cloud = room_scene(n)
w = World()
w.add_layer(Layer("b", cloud))
ref = SplatRenderer(sync_sort=True)
ref.set_world(w)
cam0 = camera_at(0.0, "room")
b.frame(ref, cam0, None, 1.0)
key = b.read().astype(np.float32)
# depth image: colour = camera depth / 16 (SH0 such that 0.5 + C0*sh0 = d/16)
dc = cloud.copy()
d = (cloud.means.astype(np.float64) @ cam0.R.T + cam0.t)[:, 2]
from scene.sh import C0  # noqa: E402

dc.sh0[:] = ((np.clip(d, 0, 15.9) / 16.0 - 0.5) / C0)[:, None]
wd = World()
wd.add_layer(Layer("d", dc))
from viewer.offscreen import render_float

depth = render_float(wd, cam0)[..., 0] * 16.0  # alpha ~1 on surfaces
# moving renderer with LOD
r = SplatRenderer()
r.set_world(w)
while True:
    b.frame(r, cam0, None, 1.0)
    if r._lod_job is not None or r._lod is not None:
        break
while r._lod_job is not None:
    time.sleep(0.1)
    b.frame(r, cam0, 20000, 0.2)
K = np.array([[cam0.fx, 0, cam0.cx], [0, cam0.fy, cam0.cy], [0, 0, 1]])
v, u = np.mgrid[0:H, 0:W]
pix = np.stack([u + 0.5, v + 0.5, np.ones_like(u)], -1).reshape(-1, 3).astype(np.float64)
rays = pix @ np.linalg.inv(K).T
Xc = rays * depth.reshape(-1, 1)
Xw = (Xc - cam0.t) @ cam0.R  # camera -> world: R^T (x - t)
for t in (0.1, 0.25, 0.5, 0.8):
    cam = camera_at(t, "room")
    b.frame(ref, cam, None, 1.0)
    full = b.read()
    b.frame(r, cam, 20000, 0.2)
    fill = b.read()
    Xt = Xw @ cam.R.T + cam.t
    z = Xt[:, 2]
    uv = Xt[:, :2] / np.maximum(z, 1e-6)[:, None] * [cam.fx, cam.fy] + [cam.cx, cam.cy]
    ok = (z > 0.2) & (depth.reshape(-1) > 0.2)
    out = fill.astype(np.float32).copy()
    zbuf = np.full((H, W), np.inf)
    # forward splat each source pixel to a 2x2 footprint, nearest wins
    for du in (0, 1):
        for dv in (0, 1):
            iu = np.floor(uv[:, 0] - 0.5).astype(int) + du
            iv = np.floor(uv[:, 1] - 0.5).astype(int) + dv
            m = ok & (iu >= 0) & (iu < W) & (iv >= 0) & (iv < H)
            idx = np.nonzero(m)[0]
            order = np.argsort(-z[idx])  # far first so near overwrite
            idx = idx[order]
            tgt = iv[idx] * W + iu[idx]
            zf = zbuf.reshape(-1)
            of = out.reshape(-1, 3)
            closer = z[idx] < zf[tgt] + 0.05
            of[tgt[closer]] = key.reshape(-1, 3)[idx[closer]]
            zf[tgt[closer]] = np.minimum(zf[tgt[closer]], z[idx[closer]])
    img = np.clip(out, 0, 255).astype(np.uint8)
    print(
        f"{n} t={t:.2f}s ({1.4 * t:.2f} m, {20 * t:.0f} deg): "
        f"LOD only PSNR {psnr(fill, full):.1f} SSIM {ssim(fill, full):.3f} | "
        f"reprojected key + LOD fill PSNR {psnr(img, full):.1f} SSIM {ssim(img, full):.3f} "
        f"(covered {np.isfinite(zbuf).mean():.2f})",
        flush=True,
    )
