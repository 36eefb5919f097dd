"""Depth + fusion (+ sky) scored at the input cameras, for tuning the dense stages.

    python bench/recon_fusion_views.py gw --sky            # Great Wall (12 frames)
    python bench/recon_fusion_views.py sc --sky            # Sceaux (11 photos)
    python bench/recon_fusion_views.py gw --depth-cache --sky edge_px=1 keep_unverified=True
    python bench/recon_fusion_views.py sc --depth-cache --sky --fill   # + fuse.fill_gaps
    python bench/recon_fusion_views.py sc --depth-cache --sky --fill --ray  # + ray_fill

SfM runs once per data set and is cached (pickled) under $WANDER_BENCH_CACHE (default
/tmp/wander-fusion-bench); `--depth-cache` reuses the last depth maps too. Every 2nd..4th
registered view (a fixed subset, `--all` for every view) is rendered with the CPU
rasterizer at 320 px long side and compared with the undistorted, downscaled photo: PSNR
over covered pixels (render alpha > 0.5) and over the full frame (uncovered = black), and
issue 12's bar: on the pixels that splats made from the view's own depth map alone cover,
the fused scene's PSNR beside those single-view splats' (each pixel its own splat, exact
colour).
Extra `key=value` arguments go to `fuse.fuse_views`. Renders are written beside the cache.
"""

import ast
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
CACHE = Path(os.environ.get("WANDER_BENCH_CACHE", "/tmp/wander-fusion-bench"))
CACHE.mkdir(parents=True, exist_ok=True)


def sfm(name: str, folder: Path, max_image_size=1600):
    f = CACHE / f"{name}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    from generators.reconstruct.photos import ingest_photos, list_photos, read_rgb
    from generators.reconstruct.sfm import sfm_extract, sfm_map, sfm_match

    work = CACHE / f"{name}_work"
    img_dir = work / "images"
    t0 = time.time()
    photos, status = ingest_photos(list_photos(folder), img_dir, max_image_size)
    names = [p.work_name for p in photos]
    db = sfm_extract(img_dir, names, work, max_features=8192)
    sfm_match(db, sequential=False, overlap=20)
    res = sfm_map(db, img_dir, names, work)
    images = {n: read_rgb(img_dir / n) for n in res.cameras}
    print(f"sfm {time.time() - t0:.1f}s, {len(res.cameras)} registered")
    data = (res, images)
    f.write_bytes(pickle.dumps(data))
    return data


def psnr(a, b, m=None):
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = d[m].mean() if m is not None else d.mean()
    return 10 * np.log10(255**2 / max(mse, 1e-12))


def single_view_cloud(view):
    """Splats from one depth map alone: every pixel with depth, its own colour."""
    from generators.reconstruct import fuse

    kp = np.flatnonzero(view.depth > 0)
    col = view.image.reshape(-1, 3)[kp].astype(np.float32) / 255
    pts, nrm, sc, qt = fuse._splat_geometry(view, kp, 1, 0.5, 0.1, 3.0)
    one = fuse.Fused(pts, col, nrm, sc, qt, np.zeros(len(kp), np.int32), [view.camera.name])
    return fuse.fused_to_gaussians(one)


def evaluate(cloud, res, images, long_side=320, names=None, depths=None):
    """Per view (name, PSNR covered, PSNR full frame, coverage, and with `depths` the
    fused scene's and the single-view splats' PSNR on the single-view splats' pixels)."""
    import cv2

    from generators.rasterize import render_cloud
    from generators.reconstruct.dense import undistort

    out = []
    for n in names or list(res.cameras):
        cam = res.cameras[n]
        s = long_side / max(cam.width, cam.height)
        c = cam.resized(round(cam.width * s), round(cam.height * s))
        img = undistort(images[n], cam, res.distortion.get(n, 0.0))
        gt = cv2.resize(img, (c.width, c.height), interpolation=cv2.INTER_AREA)
        b = render_cloud(cloud, c, (0, 0, 0)).astype(np.float64)
        w = render_cloud(cloud, c, (1, 1, 1)).astype(np.float64)
        alpha = 1 - (w - b).mean(-1) / 255.0
        m = alpha > 0.5
        same = (np.nan, np.nan)
        if depths is not None and n in depths:
            one = single_view_cloud(depths[n])
            sb = render_cloud(one, c, (0, 0, 0)).astype(np.float64)
            sw = render_cloud(one, c, (1, 1, 1)).astype(np.float64)
            sm = (1 - (sw - sb).mean(-1) / 255.0) > 0.5
            same = (psnr(b, gt, sm), psnr(sb, gt, sm))
        out.append((n, psnr(b, gt, m), psnr(b, gt), m.mean(), *same))
        cv2.imwrite(
            str(CACHE / f"render_{n}"), np.concatenate([gt, b.astype(np.uint8)], 1)[..., ::-1]
        )
    return out


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    which = sys.argv[1]
    data = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    folder = {"gw": data / "recon_great_wall", "sc": data / "recon_sceaux"}[which]
    res, images = sfm(which, Path(folder))
    from generators.reconstruct import dense, fuse

    t0 = time.time()
    dcache = CACHE / f"{which}_depth.pkl"
    if "--depth-cache" in sys.argv and dcache.exists():
        depths = pickle.loads(dcache.read_bytes())
    else:
        depths = dense.compute_depths(images, res.cameras, res.distortion, res.points, res.visible)
        dcache.write_bytes(pickle.dumps(depths))
    t1 = time.time()
    neigh = dense.choose_neighbours(res.cameras, res.visible, res.points)
    kw = {}
    for a in sys.argv[2:]:
        if "=" in a:
            k, val = a.split("=")
            kw[k] = ast.literal_eval(val)  # numbers, booleans, strings
    fused = fuse.fuse_views(depths, neigh, max_points=400_000, **kw)
    if "--fill" in sys.argv:
        fused = fuse.fill_gaps(fused, depths, neigh, max_points=400_000)
    if "--ray" in sys.argv:
        from generators.reconstruct.ray_fill import fill_depthless

        fused, _ = fill_depthless(fused, depths, max_points=400_000)
    cloud = fuse.fused_to_gaussians(fused)
    if "--sky" in sys.argv:
        from generators.reconstruct import sky

        cloud = sky.add_sky(cloud, depths, fused.covered)
    t2 = time.time()
    print(f"depth {t1 - t0:.1f}s fusion {t2 - t1:.1f}s splats {len(cloud)}")
    names = list(res.cameras)
    sub = names if "--all" in sys.argv else names[:: max(1, len(names) // 4)]
    r = evaluate(cloud, res, images, names=sub, depths=depths)
    for n, pm, pf, cov, fs, ss in r:
        print(
            f"{n}: masked {pm:.2f} full {pf:.2f} cover {cov:.2f} | on single-view pixels: "
            f"fused {fs:.2f}, single-view {ss:.2f}"
        )
    mean = np.mean([x[1:] for x in r], 0)
    print(
        f"MEAN masked {mean[0]:.2f} full {mean[1]:.2f} cover {mean[2]:.2f} | on single-view "
        f"pixels: fused {mean[3]:.2f}, single-view {mean[4]:.2f} (issue 12's bar)"
    )


if __name__ == "__main__":
    main()
