"""Optimise a saved reconstruction against its photos and print PSNR before/after.

    python -m bench.bench_optimize --scene /tmp/gw/scene.ply \
        --photos ../shared/realdata/recon_great_wall --seconds 90 --size 320

Reads the scene, its cameras (`<stem>_cameras`, COLMAP text, written by `reconstruct`)
and the photos (matched by name; each undistorted through its camera's lens), runs
`generators.reconstruct.optimize.optimize_cloud` and logs its report: PSNR at the
training cameras at the training resolution, splats, steps, time.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("bench_optimize")


def main() -> None:
    import cv2

    from generators.reconstruct.optimize import SHORT_RUN_RATES, OptimizeOptions, optimize_cloud
    from scene.io import load_cloud
    from scene.io.colmap import read_colmap

    ap = argparse.ArgumentParser()
    ap.add_argument("--scene", type=Path, required=True)
    ap.add_argument("--photos", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=90.0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--sh-degree", type=int, default=1)
    ap.add_argument("--no-densify", action="store_true")
    ap.add_argument(
        "--plain-rates",
        action="store_true",
        help="gsplat's learning rates instead of the short-run ones (as reconstruct on CPU)",
    )
    ap.add_argument("--out", type=Path, default=None, help="write the optimised scene here")
    ap.add_argument(
        "--eval-size",
        type=int,
        default=None,
        help="first log the scene's PSNR at this size (0 = photo size); with --steps 0 only that",
    )
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cloud = load_cloud(a.scene)
    from generators.reconstruct.evaluate import camera_lens, undistort_photo

    cams, _, _ = read_colmap(a.scene.with_suffix("").as_posix() + "_cameras")
    views = []
    for c in cams:
        img = cv2.imread(str(a.photos / c.name), cv2.IMREAD_COLOR)
        if img is None:
            raise SystemExit(f"{a.photos / c.name}: cannot read")
        img = np.ascontiguousarray(img[..., ::-1])
        img, _ = undistort_photo(img, camera_lens(c))  # SIMPLE_RADIAL cameras: pinhole pixels
        if img.shape[:2] != (c.height, c.width):
            img = cv2.resize(img, (c.width, c.height), interpolation=cv2.INTER_AREA)
        views.append((c, np.ascontiguousarray(img)))
    if a.eval_size is not None:
        from generators.reconstruct.optimize import views_psnr

        vals = views_psnr(cloud, views, a.eval_size)
        log.info(
            "PSNR at the %d training cameras (long side %s px): mean %.2f dB, min %.2f, max %.2f",
            len(vals),
            a.eval_size or "photo",
            float(np.mean(vals)),
            min(vals),
            max(vals),
        )
        if a.steps == 0:
            return
    rates = {} if a.plain_rates else SHORT_RUN_RATES
    opts = OptimizeOptions(
        steps=a.steps,
        seconds=a.seconds,
        size=a.size,
        sh_degree=a.sh_degree,
        densify=not a.no_densify,
        **rates,
    )
    last = [0.0]

    def progress(f: float, msg: str) -> None:
        if f - last[0] >= 0.1 or f >= 1.0:
            last[0] = f
            log.info("%3.0f%% %s", 100 * f, msg)

    out, rep = optimize_cloud(cloud, views, opts, report=progress)
    log.info("report %s", json.dumps(rep.as_dict()))
    if a.out:
        from scene.io import save

        save(out, a.out)


if __name__ == "__main__":
    main()
