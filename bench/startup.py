"""Cold start: `python main.py big.ply` to the window and to its first full-quality frame.

Measured from process start, for a 1M-splat PLY (a synthetic room, written once to a temp
folder).

    python bench/startup.py [--splats 1000000] [--runs 3] [--ply PATH] [--compare CHECKOUT]

With --compare (another checkout of Wander, e.g. the previous release), both are started
alternately and the ratio printed; that checkout needs the same WANDER_STARTUP_TRACE hook
(for an older one: a worktree of it with this viewer/app.py copied in).

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
    from render import room_scene

    import scene.io

    path = folder / f"room_{n}.ply"
    if not path.exists():
        scene.io.save(room_scene(n, sh_degree=3), path)
    return path


#: the app's startup stamps in order (viewer/app.py `_trace`): Python and main.py started,
#: the window's modules imported, the window shown, the scene loaded into the world, its
#: first full-quality frame
STAGES = ("main", "imported", "window_shown", "world_set", "first_full_frame")


def one_run(ply: Path, env: dict, root: Path = ROOT) -> tuple[float, float, float]:
    """(seconds to window shown, to first full frame, total wall) for one cold start."""
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, str(root / "main.py"), str(ply), "--no-demo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    total = time.time() - t0
    stamps = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "startup":
            stamps[parts[1]] = float(parts[2])
    if "first_full_frame" not in stamps:
        raise RuntimeError(f"no first frame reported (rc {out.returncode}): {out.stderr[-800:]}")
    steps = [k for k in STAGES if k in stamps]
    print(
        "    "
        + ", ".join(
            f"{k} +{stamps[k] - (stamps[steps[i - 1]] if i else t0):.2f}"
            for i, k in enumerate(steps)
        ),
        flush=True,
    )
    return stamps.get("window_shown", t0) - t0, stamps["first_full_frame"] - t0, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splats", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ply", type=Path, help="use this scene instead of the synthetic room")
    ap.add_argument("--compare", type=Path, help="another Wander checkout to start alternately")
    args = ap.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print(
            "error: bench/startup.py needs a display (e.g. Xvfb :1 & DISPLAY=:1)", file=sys.stderr
        )
        return 2
    folder = Path(tempfile.gettempdir()) / "wander-bench"
    folder.mkdir(exist_ok=True)
    ply = args.ply or make_ply(args.splats, folder)
    env = dict(
        os.environ,
        WANDER_STARTUP_TRACE="1",
        QT_QPA_PLATFORM="xcb",
        WANDER_CONFIG_DIR=str(folder / "config"),
    )
    size_mb = ply.stat().st_size / 1e6
    load = os.getloadavg()[0]
    print(f"{ply.name}: {size_mb:.0f} MB, {args.runs} cold starts, load {load:.1f}")
    roots = [("this", ROOT)] + ([("compare", args.compare.resolve())] if args.compare else [])
    runs: dict[str, list] = {name: [] for name, _ in roots}
    for i in range(args.runs):
        for name, root in roots:
            shown, first, total = one_run(ply, env, root)
            runs[name].append((shown, first))
            print(
                f"  {name} run {i + 1}: window shown {shown:.2f} s, first full frame {first:.2f} s "
                f"(process {total:.2f} s)",
                flush=True,
            )
    med = {
        name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for name, rs in runs.items()
    }
    for name, (shown, first) in med.items():
        print(f"median {name}: window shown {shown:.2f} s, first full frame {first:.2f} s")
    if args.compare:
        print(f"ratio compare/this, first full frame: {med['compare'][1] / med['this'][1]:.2f}x")
    print(f"(load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
