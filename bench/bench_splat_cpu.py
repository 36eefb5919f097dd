"""Forward+backward time of the CPU splat rasterizers on a random scene.

    python -m bench.bench_splat_cpu --splats 300000 --width 400 --height 300 [--old]
    python -m bench.bench_splat_cpu --scene /tmp/gw/scene.ply --width 320 [--old]

Prints ms per iteration (render, L1 loss, backward; best of --reps) for the compiled numba
rasterizer (`generators.splat_cpu`) and, with --old, the PyTorch one
(`generators.rasterize`). With --scene, a saved reconstruction seen from its first camera
(`<stem>_cameras`) at --width px.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("bench_splat_cpu")


def random_scene(n: int, seed: int = 0) -> dict:
    """N splats filling a 4×3×4 box in front of the camera, sizes like a fused scene."""
    import torch

    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    return {
        "means": torch.tensor(
            rng.uniform([-2, -1.5, -2], [2, 1.5, 2], (n, 3)), dtype=torch.float32
        ),
        "quats": torch.tensor(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=torch.float32),
        "log_scales": torch.tensor(np.log(rng.uniform(0.005, 0.03, (n, 3))), dtype=torch.float32),
        "opacity_logits": torch.tensor(rng.normal(1.0, 1.0, n), dtype=torch.float32),
        "colors": torch.tensor(rng.uniform(0, 1, (n, 3)), dtype=torch.float32),
    }


def time_it(fn, p: dict, cam, reps: int) -> float:  # noqa: ANN001
    import torch

    q = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    target = torch.zeros((cam.height, cam.width, 3))
    best = float("inf")
    for _ in range(reps + 1):  # first call: compile / warm-up
        t = time.perf_counter()
        loss = (fn(**q, cam=cam) - target).abs().mean()
        loss.backward()
        best = min(best, time.perf_counter() - t)
    return 1e3 * best


def main() -> None:
    import torch

    from generators.rasterize import rasterize
    from generators.splat_cpu import rasterize_cpu
    from scene.camera import Camera

    ap = argparse.ArgumentParser()
    ap.add_argument("--splats", type=int, default=300_000)
    ap.add_argument("--width", type=int, default=400)
    ap.add_argument("--height", type=int, default=300)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--old", action="store_true", help="also time the PyTorch rasterizer")
    ap.add_argument("--scene", type=Path, default=None, help="a reconstruction's scene.ply")
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="PyTorch threads (1, as the optimiser uses beside the numba kernels)",
    )
    a = ap.parse_args()
    torch.set_num_threads(a.torch_threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.scene:
        from generators.rasterize import cloud_tensors
        from scene.io import load_cloud
        from scene.io.colmap import read_colmap

        p = cloud_tensors(load_cloud(a.scene))
        c0 = read_colmap(a.scene.with_suffix("").as_posix() + "_cameras")[0][0]
        cam = c0.resized(a.width, round(c0.height * a.width / c0.width))
        a.splats = len(p["means"])
    else:
        p = random_scene(a.splats)
        cam = Camera.look_at([0.0, 0.0, 6.0], [0, 0, 0], 50, a.width, a.height)
    log.info(
        "%d splats, %dx%d, %d torch threads",
        a.splats,
        cam.width,
        cam.height,
        torch.get_num_threads(),
    )
    log.info("numba   fwd+bwd %.0f ms", time_it(rasterize_cpu, p, cam, a.reps))
    if a.old:
        log.info("pytorch fwd+bwd %.0f ms", time_it(rasterize, p, cam, 1))


if __name__ == "__main__":
    main()
