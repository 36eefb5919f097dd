"""Reconstruction benchmark: photos of a synthetic scene -> cameras, depth and splats.

`python bench/generate_reconstruct.py [--photos 20] [--size 1024]` (also the `reconstruct`
section of bench/generate.py).

Renders a textured synthetic room (scikit-image textures) from known cameras at the given
size, runs photos -> cameras -> depth -> Gaussians without refinement, prints each stage's
time against the 3-minute budget and the accuracy against ground truth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RECON_BUDGET_S = 180.0


def bench_reconstruct(repeat: int = 1, photos: int = 20, size: int = 1024) -> dict[str, Any]:
    """20 photos at 1024 px -> scene (no refinement), PLY + cameras + depth written."""
    import cv2

    from generators.reconstruct.align import align_cameras, rotation_error_deg, transform_camera
    from generators.reconstruct.pipeline import reconstruct, save_result
    from generators.reconstruct.synthetic import make_photo_set

    print(
        f"== reconstruct: {photos} photos at {size}x{size * 3 // 4} -> scene (no refinement), "
        f"budget {RECON_BUDGET_S:.0f} s"
    )
    results: dict[str, Any] = {}
    for run in range(max(1, repeat)):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            cams, _, depths = make_photo_set(
                Path(tmp) / "photos", photos, size, size * 3 // 4, seed=11 + run, supersample=1
            )
            print(f"  (rendering the photos took {time.perf_counter() - t:.1f} s, not counted)")
            t0 = time.perf_counter()
            res = reconstruct(sorted((Path(tmp) / "photos").iterdir()))
            t1 = time.perf_counter()
            save_result(res, Path(tmp) / "out" / "scene.ply")
            t2 = time.perf_counter()
        times = dict(res.times)
        times["write"] = t2 - t1
        times["total"] = t2 - t0
        gt = {c.name: c for c in cams}
        gtc = [gt[c.name] for c in res.cameras]
        s, r, tt = align_cameras(gtc, res.cameras)
        rot = max(
            rotation_error_deg(transform_camera(g, s, r, tt).R, c.R)
            for g, c in zip(gtc, res.cameras)
        )
        size_w = np.ptp(np.array([c.position for c in gtc]), axis=0).max() * s
        pos = (
            max(
                np.linalg.norm(transform_camera(g, s, r, tt).position - c.position)
                for g, c in zip(gtc, res.cameras)
            )
            / size_w
        )
        errs = []
        for name, v in res.depths.items():
            i = [c.name for c in cams].index(name)
            g = cv2.resize(depths[i], v.depth.shape[::-1], interpolation=cv2.INTER_NEAREST)
            m = (v.depth > 0) & (g > 0)
            errs.append(np.abs(v.depth[m] / s - g[m]) / g[m])
        dmed = float(np.median(np.concatenate(errs)))
        ok = times["total"] <= RECON_BUDGET_S
        for k, v in times.items():
            print(f"    {k:<11} {v:7.2f} s")
        print(
            f"    registered {len(res.cameras)}/{photos}, {len(res.cloud):,} splats; "
            f"rotation error max {rot:.2f} deg, position error max {100 * pos:.2f}% of scene, "
            f"depth median rel. error {100 * dmed:.2f}%"
        )
        print(
            f"    -> {'PASS' if ok else 'FAIL'}: {times['total']:.1f} s of {RECON_BUDGET_S:.0f} s "
            f"({times['total'] / RECON_BUDGET_S:.2f} of the budget)"
        )
        results[f"run{run}"] = {
            "seconds": {k: round(v, 2) for k, v in times.items()},
            "registered": len(res.cameras),
            "splats": len(res.cloud),
            "rot_err_deg": round(rot, 3),
            "pos_err_frac": round(float(pos), 4),
            "depth_median_rel_err": round(dmed, 4),
            "budget_s": RECON_BUDGET_S,
            "pass": ok,
        }
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", type=int, default=20)
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args(argv)
    res = bench_reconstruct(a.repeat, a.photos, a.size)
    return 0 if all(r["pass"] for r in res.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
