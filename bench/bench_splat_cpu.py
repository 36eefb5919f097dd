"""Forward+backward time of the CPU splat rasterizers on a random scene.

    python -m bench.bench_splat_cpu --splats 300000 --width 400 --height 300 [--old]
    python -m bench.bench_splat_cpu --scene /tmp/gw/scene.ply --width 320 [--old]

Prints ms per iteration (render, L1 loss, backward; best of --reps) for the compiled numba
rasterizer (`generators.splat_cpu`) on float32 parameters (the optimiser's: the float32
tile kernels of `generators.splat_cpu32`) beside the same on float64 ones (the exact
kernels), and the SH degree-1 colours of every splat, fused (`generators.sh_cpu`) beside
the PyTorch ops it replaced (`optimize.sh_colors`), with ratios; with --old, also the
PyTorch rasterizer (`generators.rasterize`). With --scene, a saved reconstruction seen
from its first camera (`<stem>_cameras`) at --width px.
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


def time_sh(means, cam, reps: int) -> tuple[float, float]:  # noqa: ANN001
    """Best ms of degree-1 SH colours and their backward for every splat: (fused, PyTorch)."""
    import torch

    from generators.reconstruct.optimize import sh_colors
    from generators.sh_cpu import sh_colors_cpu

    n = means.shape[0]
    rng = np.random.default_rng(1)
    sh0 = torch.tensor(rng.normal(0, 1, (n, 3)), dtype=torch.float32)
    shN = torch.tensor(rng.normal(0, 0.3, (n, 3, 3)), dtype=torch.float32)

    def twin(m, a, b):  # noqa: ANN001, ANN202
        d = m - torch.as_tensor(cam.position, dtype=m.dtype)
        return sh_colors(a, b, d / d.norm(dim=1, keepdim=True).clamp_min(1e-12), 1)

    def fused(m, a, b):  # noqa: ANN001, ANN202
        return sh_colors_cpu(m, a, b, cam.position, 1)

    out = []
    for fn in (fused, twin):
        best = float("inf")
        for _ in range(reps + 1):
            q = [t.clone().requires_grad_(True) for t in (means, sh0, shN)]
            t0 = time.perf_counter()
            fn(*q).sum().backward()
            best = min(best, time.perf_counter() - t0)
        out.append(1e3 * best)
    return out[0], out[1]


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
    t32 = time_it(rasterize_cpu, p, cam, a.reps)
    t64 = time_it(rasterize_cpu, {k: v.double() for k, v in p.items()}, cam, a.reps)
    log.info("numba   fwd+bwd float32 %.0f ms | float64 %.0f ms | ratio %.2fx", t32, t64, t64 / t32)
    fused, twin = time_sh(p["means"], cam, a.reps)
    log.info(
        "SH colours fwd+bwd fused %.1f ms | PyTorch %.1f ms | ratio %.1fx",
        fused,
        twin,
        twin / fused,
    )
    if a.old:
        log.info("pytorch fwd+bwd %.0f ms", time_it(rasterize, p, cam, 1))


if __name__ == "__main__":
    main()
