"""Reconstruction quality on the shared real photo sets, beside the figures of issue 12.

    python bench/reconstruct_quality.py [--sets great_wall,sceaux] [--out DIR] [--max-size PX]
                                        [--holdout 8] [--data DIR]

For each set: `python main.py reconstruct --photos SET --holdout 8` at default settings,
then `python main.py evaluate` at the photos' full resolution (both as subprocesses, so
exactly what a user runs is measured), and one table: photos, registered, PSNR/SSIM of
the training and the held-out views (full frame, uncovered pixels black), PSNR of the
covered pixels only, coverage, splats, wall time and stage times. The last columns put
the new all-view means beside the issue's figures (reconstruct at its own input cameras,
no holdout): Sceaux 14.5 dB masked / 5.9 dB full frame, Great Wall 21.9 / 16.5.

Data: ../shared/realdata/recon_<set> relative to the repository (or --data DIR holding
recon_<set> folders). Everything is written under --out (default: a new temporary
folder, kept and printed so the renders can be looked at); nothing is written beside
the photos.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: issue 12's figures: reconstruct at its own input cameras, PSNR dB (masked, full frame)
PREVIOUS = {"sceaux": {"masked": 14.5, "full": 5.9}, "great_wall": {"masked": 21.9, "full": 16.5}}


def data_dir(override: Path | None = None) -> Path:
    """Folder with the recon_<set> photo folders (../shared/realdata from the repo)."""
    if override is not None:
        return Path(override)
    for cand in (ROOT.parent / "shared" / "realdata", ROOT / "shared" / "realdata"):
        if cand.is_dir():
            return cand
    raise SystemExit("no shared/realdata folder found beside the repository; pass --data DIR")


def _run(args: list[str], log: Path) -> float:
    """Run `python main.py ARGS`, output to `log`; returns wall seconds, exits on failure."""
    t = time.perf_counter()
    with open(log, "w") as f:
        rc = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            stdout=f,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        ).returncode
    dt = time.perf_counter() - t
    if rc != 0:
        tail = log.read_text()[-1500:]
        raise RuntimeError(f"main.py {args[0]} failed (exit {rc}); log {log}:\n{tail}")
    return dt


def bench_set(
    name: str,
    photos: Path,
    out: Path,
    holdout: int = 8,
    max_size: int = 0,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """Reconstruct + evaluate one set; returns the figures (also printed by `main`)."""
    work = out / name
    work.mkdir(parents=True, exist_ok=True)
    scene = work / "scene.ply"
    n_photos = len([p for p in photos.iterdir() if p.is_file()])
    print(f"== {name}: {n_photos} photos from {photos}", flush=True)
    t_rec = _run(
        [
            "reconstruct",
            "--photos",
            str(photos),
            "--out",
            str(scene),
            "--holdout",
            str(holdout),
            *(extra or []),
        ],
        work / "reconstruct.log",
    )
    rec = json.loads((work / "scene_report.json").read_text())
    ev_args = ["evaluate", str(scene), "--photos", str(photos), "--out", str(work / "eval")]
    if max_size:
        ev_args += ["--max-size", str(max_size)]
    t_ev = _run(ev_args, work / "evaluate.log")
    ev = json.loads((work / "eval" / "report.json").read_text())
    m = ev["mean"]
    res = {
        "set": name,
        "photos": n_photos,
        "registered": rec["registered"],
        "held_out": rec.get("held_out", []),
        "splats": rec["splats"],
        "reconstruct_s": round(t_rec, 1),
        "evaluate_s": round(t_ev, 1),
        "stage_seconds": rec["stage_seconds"],
        "capture": rec.get("capture"),
        "eval_size": sorted({f"{v['width']}x{v['height']}" for v in ev["views"]}),
        "all": {k: m[k] for k in ("psnr", "ssim", "coverage", "psnr_masked", "views")},
        "training": m["training"],
        "held_out_mean": m["held_out"],
        "out": str(work),
        "refinement_steps": (rec.get("refinement") or {}).get("steps"),
        "per_view": {v["name"]: round(v["psnr"], 2) for v in ev["views"]},
    }
    prev = PREVIOUS.get(name)
    if prev:
        res["previous"] = prev
        res["delta_full_db"] = round(m["psnr"] - prev["full"], 2)
        if m.get("psnr_masked") is not None:
            res["delta_masked_db"] = round(m["psnr_masked"] - prev["masked"], 2)
    (work / "bench.json").write_text(json.dumps(res, indent=1))
    return res


def _f(v: Any, fmt: str, width: int) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:{width}{fmt}}"


def print_table(rows: list[dict[str, Any]]) -> None:
    """The summary table (one line per set) and the stage times."""
    print()
    print(
        f"{'set':<11} {'photos':>6} {'reg':>4} {'PSNR tr':>7} {'SSIM tr':>7} {'PSNR ho':>7} "
        f"{'SSIM ho':>7} {'cover':>6} {'masked':>6} {'splats':>8} {'wall s':>7}  "
        f"{'vs issue: full':>15} {'masked':>15}"
    )
    for r in rows:
        tr, ho, al = r["training"], r["held_out_mean"], r["all"]
        prev = r.get("previous") or {}
        vs_full = f"{al['psnr']:.1f}/{prev['full']:.1f} {r['delta_full_db']:+.1f}" if prev else "-"
        vs_mask = (
            f"{al['psnr_masked']:.1f}/{prev['masked']:.1f} {r['delta_masked_db']:+.1f}"
            if prev and "delta_masked_db" in r
            else "-"
        )
        print(
            f"{r['set']:<11} {r['photos']:>6} {r['registered']:>4} {_f(tr['psnr'], '.2f', 7)} "
            f"{_f(tr['ssim'], '.3f', 7)} {_f(ho['psnr'], '.2f', 7)} {_f(ho['ssim'], '.3f', 7)} "
            f"{al['coverage']:6.3f} {_f(al['psnr_masked'], '.2f', 6)} {r['splats']:>8,} "
            f"{r['reconstruct_s']:7.1f}  {vs_full:>15} {vs_mask:>15}"
        )
    print(
        "  PSNR/SSIM full frame at the photos' resolution (tr = training views, ho = held out, "
        "every 8th by name); masked = PSNR of covered pixels only;\n"
        "  'vs issue' = this run's all-view mean / the issue's figure, then the change in dB."
    )
    for r in rows:
        st = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_seconds"].items())
        cap = r.get("capture") or {}
        extra = f"; capture {cap.get('type')} ({cap.get('scale', '')})" if cap else ""
        print(
            f"  {r['set']}: stages (s) {st}; evaluate {r['evaluate_s']:.1f} s at "
            f"{', '.join(r['eval_size'])}; held out {', '.join(r['held_out']) or '-'}{extra}"
        )
        print(
            f"    optimisation steps {r.get('refinement_steps')}; per view PSNR: "
            + ", ".join(f"{k} {v:.2f}" for k, v in (r.get("per_view") or {}).items())
        )
        print(f"    renders and reports: {r['out']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sets",
        default="great_wall,sceaux",
        help="comma-separated set names (recon_<name> folders): great_wall,sceaux",
    )
    p.add_argument("--out", type=Path, help="output folder (default: a new temporary folder)")
    p.add_argument("--data", type=Path, help="folder with recon_<set> photo folders")
    p.add_argument("--holdout", type=int, default=8, help="hold out every K-th photo (8)")
    p.add_argument(
        "--max-size",
        type=int,
        default=0,
        help="evaluate downscaled to this long side (0 = full resolution, the default)",
    )
    p.add_argument(
        "--reconstruct-args",
        default="",
        help='extra reconstruct arguments, e.g. "--refine 288 --refine-seconds 0" (a fixed '
        "step count: quality comparable across machine loads; default: none)",
    )
    a = p.parse_args(argv)
    data = data_dir(a.data)
    out = a.out or Path(tempfile.mkdtemp(prefix="wander-recon-quality-"))
    if out.resolve().is_relative_to(data.resolve()):
        raise SystemExit(
            f"--out {out} is inside the shared data folder {data}: choose another folder"
        )
    rows = []
    for name in [s.strip() for s in a.sets.split(",") if s.strip()]:
        photos = data / f"recon_{name}"
        if not photos.is_dir():
            raise SystemExit(f"{photos}: no such photo set")
        rows.append(bench_set(name, photos, out, a.holdout, a.max_size, a.reconstruct_args.split()))
    print_table(rows)
    (out / "bench.json").write_text(json.dumps(rows, indent=1))
    print(f"results: {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
