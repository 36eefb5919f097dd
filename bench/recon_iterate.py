"""Fast iteration on the dense + optimisation stages of `reconstruct`, per view, held-out honest.

    python bench/recon_iterate.py sc --eval-size 708 --seconds 90       # Sceaux
    python bench/recon_iterate.py gw --eval-size 640 --seconds 90       # Great Wall
    python bench/recon_iterate.py sc --no-refine                        # the fused cloud only

SfM runs once per set at the pipeline's working size and is cached (pickled) under
$WANDER_BENCH_CACHE (default /tmp/wander-recon-iterate), so are the depth maps of the
training views (`--depth-cache`). Every 8th photo by name is held out (as `reconstruct
--holdout 8`): no depth, fusion or optimisation sees it. Then fusion, sky, optimisation
(`refine.refine_cloud` at the pipeline's defaults unless overridden) and a score of every
view at `--eval-size` (long side) against the undistorted working-size photo: PSNR full
frame (uncovered = black, as `evaluate`), per view, training and held-out means. The
scene stays in COLMAP's frame (PSNR does not depend on the frame). Renders go beside the
cache (render|photo per view).
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
CACHE = Path(os.environ.get("WANDER_BENCH_CACHE", "/tmp/wander-recon-iterate"))
SETS = {"gw": "recon_great_wall", "sc": "recon_sceaux"}


def sfm(key: str, folder: Path, max_image_size: int = 1600):  # noqa: ANN201
    """(SfM result, {work name: RGB image}, {work name: original name}), cached."""
    f = CACHE / f"{key}_{max_image_size}_sfm.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    from generators.reconstruct.photos import ingest_photos, list_photos, read_rgb
    from generators.reconstruct.sfm import sfm_extract, sfm_map, sfm_match

    work = CACHE / f"{key}_{max_image_size}_work"
    img_dir = work / "images"
    photos, _ = ingest_photos(list_photos(folder), img_dir, max_image_size)
    names = [p.work_name for p in photos]
    db = sfm_extract(img_dir, names, work, max_features=8192)
    sfm_match(db, sequential=False, overlap=20)
    res = sfm_map(db, img_dir, names, work)
    images = {n: read_rgb(img_dir / n) for n in res.cameras}
    orig = {p.work_name: p.name for p in photos}
    data = (res, images, orig)
    f.write_bytes(pickle.dumps(data))
    return data


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    return float(10 * np.log10(255**2 / max(d.mean(), 1e-12)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("set", choices=sorted(SETS))
    ap.add_argument("--eval-size", type=int, default=708)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--no-refine", action="store_true")
    ap.add_argument("--no-exposure", action="store_true", help="score without the exposure affine")
    ap.add_argument("--depth-cache", action="store_true")
    ap.add_argument("--holdout", type=int, default=8)
    ap.add_argument("--tag", default="run")
    ap.add_argument(
        "--fill",
        action="append",
        nargs="?",
        const="",
        default=None,
        help="fuse.fill_gaps after fusion (key=value options)",
    )
    ap.add_argument("--dense", action="append", default=[], help="key=value compute_depths option")
    ap.add_argument("opt", nargs="*", help="key=value OptimizeOptions overrides")
    a = ap.parse_intermixed_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    CACHE.mkdir(parents=True, exist_ok=True)
    import ast

    import cv2

    from generators.reconstruct import dense, fuse, sky
    from generators.reconstruct.evaluate import holdout_names

    folder = Path(__file__).resolve().parents[2] / "shared" / "realdata" / SETS[a.set]
    res, images, orig = sfm(a.set, folder)
    held_orig = set(holdout_names([orig[n] for n in res.cameras], a.holdout))
    train = {n: c for n, c in res.cameras.items() if orig[n] not in held_orig}
    t0 = time.time()
    dkw = {kv.split("=", 1)[0]: ast.literal_eval(kv.split("=", 1)[1]) for kv in a.dense}
    dkey = "_".join(f"{k}{v}" for k, v in sorted(dkw.items()))
    dcache = CACHE / f"{a.set}_h{a.holdout}{dkey}_depth.pkl"
    if a.depth_cache and dcache.exists():
        depths = pickle.loads(dcache.read_bytes())
    else:
        depths = dense.compute_depths(
            {n: images[n] for n in train}, train, res.distortion, res.points, res.visible, **dkw
        )
        dcache.write_bytes(pickle.dumps(depths))
    t1 = time.time()
    neigh = dense.choose_neighbours(train, res.visible, res.points)
    fused = fuse.fuse_views(depths, neigh, max_points=400_000)
    if a.fill:
        fkw = dict(kv.split("=", 1) for kv in a.fill if kv)
        fused = fuse.fill_gaps(
            fused, depths, neigh, **{k: ast.literal_eval(v) for k, v in fkw.items()}
        )
    cloud = sky.add_sky(
        fuse.fused_to_gaussians(fused), depths, fused.covered, stride=2 * fused.stride
    )
    t2 = time.time()
    print(f"depth {t1 - t0:.1f}s fusion+sky {t2 - t1:.1f}s splats {len(cloud)}", flush=True)
    if not a.no_refine:
        from generators.reconstruct.refine import refine_cloud

        views = [
            (train[n], dense.undistort(images[n], train[n], res.distortion.get(n, 0.0)))
            for n in train
        ]
        kw = {}
        for kv in a.opt:
            k, v = kv.split("=", 1)
            kw[k] = ast.literal_eval(v)
        opts = None
        if kw:
            from generators.reconstruct.optimize import (
                SHORT_RUN_GROW_GRAD2D,
                SHORT_RUN_RATES,
                OptimizeOptions,
            )

            base = dict(
                steps=a.steps,
                seconds=a.seconds,
                size=320,
                fine_start=0.6,
                fine_size=800,
                device="cpu",
                sh_degree=1,
                grow_grad2d=SHORT_RUN_GROW_GRAD2D,
                **SHORT_RUN_RATES,
            )
            base.update(kw)
            opts = OptimizeOptions(**base)
        cloud = refine_cloud(
            cloud, views, steps=a.steps, seconds=a.seconds, device="cpu", options=opts
        )
        print("refinement", cloud.meta.get("refinement"), flush=True)
    t3 = time.time()
    from generators.reconstruct.exposure import apply_affine, exif_exposure, predict_affine
    from generators.reconstruct.optimize import render_cloud_cpu

    learnt = (cloud.meta.get("refinement") or {}).get("exposure") or {}
    ev = {n: exif_exposure(folder / orig[n]) for n in res.cameras}
    rows = []
    for n in sorted(res.cameras, key=lambda k: orig[k]):
        cam = res.cameras[n]
        s = a.eval_size / max(cam.width, cam.height)
        c = cam.resized(round(cam.width * s), round(cam.height * s))
        gt = cv2.resize(
            dense.undistort(images[n], cam, res.distortion.get(n, 0.0)),
            (c.width, c.height),
            interpolation=cv2.INTER_AREA,
        )
        r = np.clip(render_cloud_cpu(cloud, c) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        p0 = psnr(r, gt)
        if learnt and not a.no_exposure:
            aff, how = (learnt[n], "learnt") if n in learnt else predict_affine(learnt, ev, n)
            r = apply_affine(r, aff)
            print(f"    {orig[n]} exposure {how} {np.round(aff, 3).tolist()} raw {p0:.2f}")
        rows.append((orig[n], orig[n] in held_orig, psnr(r, gt)))
        cv2.imwrite(
            str(CACHE / f"{a.tag}_{Path(orig[n]).stem}.png"), np.concatenate([r, gt], 1)[..., ::-1]
        )
    for n, h, p in rows:
        print(f"  {n:<24} {'held-out' if h else 'train   '} {p:6.2f}")
    tr = [p for _, h, p in rows if not h]
    ho = [p for _, h, p in rows if h]
    print(
        f"[{a.tag}] {a.set} train {np.mean(tr):.2f} "
        f"held-out {np.mean(ho) if ho else float('nan'):.2f} "
        f"(eval {a.eval_size} px, refine {t3 - t2:.0f}s, {len(cloud)} splats)",
        flush=True,
    )


if __name__ == "__main__":
    main()
