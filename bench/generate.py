"""Generator benchmarks: `python bench/generate.py [--only world,...] [--repeat N] [--json OUT]`.

One function per section, registered in SECTIONS; each prints a small table (per-stage
times from generators.jobs.Stages) and returns a dict of results. Sections:
  world  one photo -> 360° panorama -> walkable Gaussian world (classical backends),
         including writing the PLY, against the 15 s budget on a 2-core CPU.
  object  one 1024 px photo -> classical 3D object (splats + mesh), 10 s budget.
  reconstruct  20 photos at 1024 px -> cameras, depth maps, Gaussians (3 min budget).
Other generators add their own section function and register it in SECTIONS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORLD_BUDGET_S = 15.0


def bench_world(repeat: int = 3) -> dict[str, Any]:
    """One photo -> walkable world (classical outpaint + classical depth), PLY written."""
    from generators.pano_world import world_from_photos
    from scene.io import save

    photos = [ROOT / "assets" / "rocket.jpg", ROOT / "assets" / "chelsea.jpg"]
    results: dict[str, Any] = {}
    print(
        "== world: one photo -> walkable world (classical), "
        f"budget {WORLD_BUDGET_S:.0f} s, median of {repeat}"
    )
    for photo in photos:
        runs = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                world, pano, stages = world_from_photos([photo])
                t1 = time.perf_counter()
                save(world.merged_cloud(), Path(tmp) / "world.ply")
                t2 = time.perf_counter()
            times = dict(stages.times)
            times["write ply"] = t2 - t1
            times["total"] = t2 - t0
            runs.append((times, len(world.layers[0].data)))
        keys = list(runs[0][0])
        med = {k: statistics.median(r[0][k] for r in runs) for k in keys}
        n = runs[0][1]
        ok = med["total"] <= WORLD_BUDGET_S
        print(f"  {photo.name}: {n:,} splats, panorama {pano.image.shape[1]}x{pano.image.shape[0]}")
        for k in keys:
            print(f"    {k:<10} {med[k]:7.2f} s")
        print(
            f"    -> {'PASS' if ok else 'FAIL'}: {med['total']:.2f} s of {WORLD_BUDGET_S:.0f} s "
            f"({med['total'] / WORLD_BUDGET_S:.2f} of the budget)"
        )
        results[photo.name] = {
            "splats": n,
            "seconds": {k: round(v, 3) for k, v in med.items()},
            "budget_s": WORLD_BUDGET_S,
            "pass": ok,
        }
    return results


def bench_reconstruct(repeat: int = 1) -> dict[str, Any]:
    """20 photos at 1024 px -> cameras, depth, Gaussians (no refinement), 3-minute budget.

    One run whatever --repeat says (a run takes minutes); see bench/generate_reconstruct.py.
    """
    from generate_reconstruct import bench_reconstruct as run

    return run(repeat=1)


def bench_object(repeat: int = 3) -> dict[str, Any]:
    """Classical object from a 1024 px photo (segment + lift + mesh), 10 s budget, beside a
    naive full-resolution GrabCut; see bench/generate_object.py."""
    from generate_object import bench_object as run

    res = run(repeat=repeat)
    t = res["times"]
    print(
        f"object ({res['photo']}): "
        + "  ".join(f"{k} {v:.2f}s" for k, v in t.items())
        + f"  | {res['splats']:,} splats, {res['faces']:,} faces; segmentation "
        f"{res['segment_speedup']:.1f}x faster than naive GrabCut "
        f"(mask IoU {res['mask_iou_vs_peer']:.2f}); budget 10 s: "
        f"{'PASS' if t['total'] <= 10 else 'FAIL'}"
    )
    return res


SECTIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "world": bench_world,
    "object": bench_object,
    "reconstruct": bench_reconstruct,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help=f"comma-separated sections ({', '.join(SECTIONS)})")
    p.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    args = p.parse_args(argv)
    names = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = [s for s in names if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    out = {name: SECTIONS[name](repeat=args.repeat) for name in names}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    failed = [
        f"{s}/{k}"
        for s, r in out.items()
        for k, v in r.items()
        if isinstance(v, dict) and v.get("pass") is False
    ]
    if failed:
        print("over budget: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
