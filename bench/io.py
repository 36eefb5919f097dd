"""Benchmark: save + load a big SH-3 splat scene with Wander's readers vs peers, same run.

    python bench/io.py [--n 1000000] [--repeat 3] [--dir /tmp]
    python bench/io.py --memory [--n 1000000] [--baseline /path/to/older/checkout]

--memory: peak memory (ru_maxrss of each child process, from os.wait4) of `convert` to
every writable splat format, `export` of a project (its layer as saved, and moved by a
transform the export bakes), project save and `info`, printed as a ratio to the input
file's size (issue 18: every one should stay at or below 1.5x).
--baseline runs the same commands from another checkout too (e.g. the previous commit)
and prints its ratios beside ours.

PLY: ours vs plyfile (PlyData.read + extracting every attribute into numpy the way the
3DGS reference `load_ply` does; PlyData.write of a filled structured array).
.splat: ours vs gsplat's exporter (save); load is ours vs building the same arrays from the
PLY with plyfile. Times are the best of --repeat runs (the machine is shared), files are
warm in the page cache, so this measures parsing and copying, not the disk.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_cloud(n: int, seed: int = 0):
    from scene.gaussians import GaussianCloud

    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return GaussianCloud(
        means=rng.uniform(-10, 10, (n, 3)).astype(np.float32),
        scales=rng.uniform(-5, -1, (n, 3)).astype(np.float32),
        quats=q,
        opacities=rng.uniform(-4, 4, n).astype(np.float32),
        sh0=rng.uniform(-1.5, 1.5, (n, 3)).astype(np.float32),
        shN=rng.uniform(-0.3, 0.3, (n, 15, 3)).astype(np.float32),
    )


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return min(times)


def plyfile_load(path: Path):
    """What the 3DGS reference `load_ply` does, with plyfile, ending in a GaussianCloud."""
    from plyfile import PlyData

    from scene.gaussians import GaussianCloud

    v = PlyData.read(str(path)).elements[0]
    xyz = np.stack([np.asarray(v["x"]), np.asarray(v["y"]), np.asarray(v["z"])], axis=1)
    opacities = np.asarray(v["opacity"])
    dc = np.stack([np.asarray(v[f"f_dc_{i}"]) for i in range(3)], axis=1)
    rest_names = sorted(
        (p.name for p in v.properties if p.name.startswith("f_rest_")),
        key=lambda s: int(s.split("_")[-1]),
    )
    rest = np.zeros((len(xyz), len(rest_names)), np.float32)
    for i, name in enumerate(rest_names):
        rest[:, i] = np.asarray(v[name])
    k = len(rest_names) // 3
    shN = rest.reshape(len(xyz), 3, k).transpose(0, 2, 1)
    scales = np.stack([np.asarray(v[f"scale_{i}"]) for i in range(3)], axis=1)
    rots = np.stack([np.asarray(v[f"rot_{i}"]) for i in range(4)], axis=1)
    return GaussianCloud(xyz, scales, rots, opacities, dc, shN)


def plyfile_save(cloud, path: Path) -> None:
    """Reference 3DGS PLY written with plyfile (structured array filled column-wise)."""
    from plyfile import PlyData, PlyElement

    from scene.io.ply import ply_property_names

    n, k = len(cloud), cloud.shN.shape[1]
    names = ply_property_names(k)
    arr = np.empty(n, dtype=[(nm, "f4") for nm in names])
    cols = np.concatenate(
        [
            cloud.means,
            np.zeros((n, 3), np.float32),
            cloud.sh0,
            cloud.shN.transpose(0, 2, 1).reshape(n, 3 * k),
            cloud.opacities[:, None],
            cloud.scales,
            cloud.quats,
        ],
        axis=1,
    )
    for i, nm in enumerate(names):
        arr[nm] = cols[:, i]
    PlyData([PlyElement.describe(arr, "vertex")]).write(str(path))


def gsplat_save_splat(cloud, path: Path) -> None:
    import torch
    from gsplat.exporter import export_splats

    t = torch.from_numpy
    export_splats(
        t(cloud.means),
        t(cloud.scales),
        t(cloud.quats),
        t(cloud.opacities),
        t(cloud.sh0[:, None, :].copy()),
        t(cloud.shN),
        format="splat",
        save_to=str(path),
    )


def peak_rss(cmd: list[str], cwd: Path) -> tuple[int, float]:
    """(peak resident bytes, seconds) of one child process, from os.wait4's rusage."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err[-500:]}")
    return usage.ru_maxrss * 1024, time.perf_counter() - t0  # Linux: kilobytes


_MAKE_INPUT = """
import importlib.util, sys
sys.path.insert(0, '.')
spec = importlib.util.spec_from_file_location('bench_io', 'bench/io.py')
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
from scene.io import save
save(mod.make_cloud(int(sys.argv[1])), sys.argv[2])
"""

_SAVE_PROJECT = """
import sys
sys.path.insert(0, '.')
from scene.io import load
from scene.project import save_project
from scene.world import Layer, World, similarity_matrix
w = World()
moved = len(sys.argv) > 3  # a layer with a transform: export bakes it
m = similarity_matrix((1.0, 0.5, -2.0), yaw=0.7, scale=0.8) if moved else None
w.add_layer(Layer('scene', load(sys.argv[1]), **({'transform': m} if moved else {})))
save_project(w, sys.argv[2])
"""


def memory(args: argparse.Namespace) -> int:
    """Peak memory / input file size for each conversion, ours (and a baseline checkout)."""
    roots = [("ours", ROOT)] + (
        [("baseline", Path(args.baseline).resolve())] if args.baseline else []
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        src = d / "in.ply"
        py = sys.executable
        # made in a child: a forked child's ru_maxrss starts at its parent's size, so this
        # process stays small
        peak_rss([py, "-c", _MAKE_INPUT, str(args.n), str(src)], ROOT)
        size = src.stat().st_size
        # the project the export reads: saved once by our code
        peak_rss([py, "-c", _SAVE_PROJECT, str(src), str(d / "p.wander")], ROOT)
        peak_rss([py, "-c", _SAVE_PROJECT, str(src), str(d / "moved.wander"), "moved"], ROOT)
        jobs = [
            ("convert ply -> spz", lambda o: [py, "main.py", "convert", src, o / "a.spz"], size),
            (
                "convert ply -> compressed.ply",
                lambda o: [py, "main.py", "convert", src, o / "a.compressed.ply"],
                size,
            ),
            ("convert ply -> ply", lambda o: [py, "main.py", "convert", src, o / "a.ply"], size),
            (
                "convert ply -> splat",
                lambda o: [py, "main.py", "convert", src, o / "a.splat"],
                size,
            ),
            (
                "export project -> ply",
                lambda o: [py, "main.py", "export", d / "p.wander", "--out", o / "e.ply"],
                (d / "p.wander").stat().st_size,
            ),
            (
                "export project -> spz",
                lambda o: [py, "main.py", "export", d / "p.wander", "--out", o / "e.spz"],
                (d / "p.wander").stat().st_size,
            ),
            (
                "export moved layer -> ply",
                lambda o: [py, "main.py", "export", d / "moved.wander", "--out", o / "m.ply"],
                (d / "moved.wander").stat().st_size,
            ),
            (
                "project save (from ply)",
                lambda o: [py, "-c", _SAVE_PROJECT, src, o / "s.wander"],
                size,
            ),
            ("info ply", lambda o: [py, "main.py", "info", src], size),
        ]
        base = peak_rss([py, "-c", "import sys; sys.path.insert(0, '.'); import scene.io"], ROOT)[0]
        print(
            f"{args.n:,} splats, SH degree 3; input PLY {size / 1e6:.0f} MB; python + scene.io "
            f"alone {base / 1e6:.0f} MB ({base / size:.2f}x)"
        )
        head = f"{'operation':<32}" + "".join(
            f"{name + ' peak':>16}{'x file':>8}{'s':>7}" for name, _ in roots
        )
        print(head)
        for label, make, in_size in jobs:
            line = f"{label:<32}"
            for name, root in roots:
                out = d / name
                out.mkdir(exist_ok=True)
                try:
                    rss, secs = peak_rss([str(a) for a in make(out)], root)
                    line += f"{rss / 1e6:>13.0f} MB{rss / in_size:>7.2f}x{secs:>7.1f}"
                except RuntimeError as exc:
                    line += f"{'failed':>16}{'':>8}{'':>7}"
                    print(f"  ({name}: {exc})", file=sys.stderr)
            print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of splats (default 1M)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; best is kept")
    ap.add_argument("--dir", default=None, help="folder for the temporary files")
    ap.add_argument("--skip-gsplat", action="store_true", help="skip gsplat's (slow) .splat export")
    ap.add_argument(
        "--memory",
        action="store_true",
        help="measure peak memory / file size of convert, export, save, info instead",
    )
    ap.add_argument(
        "--baseline",
        metavar="DIR",
        help="with --memory: also run the commands from this (older) checkout",
    )
    args = ap.parse_args(argv)
    if args.n <= 0 or args.repeat <= 0:
        ap.error("--n and --repeat must be positive")
    if args.memory:
        return memory(args)
    from scene.io import load, save

    cloud = make_cloud(args.n)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        ours_ply, peer_ply = d / "ours.ply", d / "peer.ply"
        ours_splat, peer_splat = d / "ours.splat", d / "peer.splat"
        rows: list[tuple[str, float, float | None, str]] = []

        t_save = best_of(lambda: save(cloud, ours_ply), args.repeat)
        t_peer_save = best_of(lambda: plyfile_save(cloud, peer_ply), args.repeat)
        rows.append(("PLY save", t_save, t_peer_save, "plyfile"))
        # both readers read the same file (ours), so only the reader differs
        t_load = best_of(lambda: load(ours_ply), args.repeat)
        t_peer_load = best_of(lambda: plyfile_load(ours_ply), args.repeat)
        check = load(peer_ply)  # and the peer's file reads identically with ours
        assert np.array_equal(check.shN, cloud.shN) and np.array_equal(check.means, cloud.means)
        rows.append(("PLY load", t_load, t_peer_load, "plyfile"))

        t_ssave = best_of(lambda: save(cloud, ours_splat), args.repeat)
        peer = None
        if not args.skip_gsplat:
            peer = best_of(lambda: gsplat_save_splat(cloud, peer_splat), 1)
        rows.append((".splat save", t_ssave, peer, "gsplat export"))
        t_sload = best_of(lambda: load(ours_splat), args.repeat)
        rows.append((".splat load", t_sload, t_peer_load, "plyfile PLY load"))

        size_ply = os.path.getsize(ours_ply) / 1e6
        size_splat = os.path.getsize(ours_splat) / 1e6

    print(
        f"{args.n:,} splats, SH degree 3; PLY {size_ply:.0f} MB, .splat {size_splat:.0f} MB; "
        f"best of {args.repeat}"
    )
    print(f"{'operation':<14}{'ours (s)':>10}{'peer (s)':>10}{'ratio':>9}  peer")
    for name, ours, peer_t, peer_name in rows:
        if peer_t is None:
            print(f"{name:<14}{ours:>10.3f}{'-':>10}{'-':>9}  ({peer_name} skipped)")
        else:
            print(f"{name:<14}{ours:>10.3f}{peer_t:>10.3f}{peer_t / ours:>8.1f}x  {peer_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
