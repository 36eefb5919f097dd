"""The reconstruction's refinement stage: 3D Gaussian Splatting optimisation of the fused
cloud against the photos (`generators.reconstruct.optimize`), gsplat's CUDA rasterizer on
a GPU, the compiled CPU rasterizer (`generators.splat_cpu`) otherwise, within a step and
time budget. What was done (steps, splats before/after, PSNR before/after, time, every
limit that applied) is stored in the returned cloud's meta["refinement"].
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from scene.camera import Camera
from scene.gaussians import GaussianCloud

from .antialias import smooth_3d
from .optimize import (
    SHORT_RUN_GROW_GRAD2D,
    SHORT_RUN_RATES,
    OptimizeOptions,
    optimize_cloud,
    pick_device,
)

if TYPE_CHECKING:
    from generators.jobs import CancelToken

__all__ = ["pick_device", "refine_cloud"]

log = logging.getLogger(__name__)


def refine_cloud(
    cloud: GaussianCloud,
    views: Sequence[tuple[Camera, np.ndarray]],
    *,
    steps: int = 3000,
    seconds: float = 90.0,
    size: int = 320,
    device: str = "auto",
    seed: int = 0,
    fine_start: float = 0.6,
    fine_size: int = 800,
    background=(0.0, 0.0, 0.0),  # noqa: ANN001
    exposure: bool = True,
    report: Callable[[float, str], None] | None = None,
    cancel: CancelToken | None = None,
    options: OptimizeOptions | None = None,
    budget_source: str = "",
    depths: Sequence[np.ndarray | None] | None = None,
    depth_weight: float = 0.0,
) -> GaussianCloud:
    """Return an optimised copy of `cloud`. views: (camera, RGB uint8 image) pairs, the
    image at the camera's size. On the CPU the images are resized to `size` (long side)
    until `fine_start` of the run, then the rest trains on random crops (as many pixels
    as a `size` image) of the views at `fine_size` (long side; 0 = as given; fine_start
    1.0 = no fine phase; on Sceaux 800 px beat 1600 px, 17.32 vs 16.95 dB at 1416 px),
    so the result holds up at the photos' resolution; on CUDA they are used at full size.
    `steps` and `seconds` (0 = no limit) bound the run; `exposure` learns a colour affine
    per view (`exposure.py`; stored in meta["refinement"]["exposure"] by view name);
    `report(fraction, message)` shows loss and PSNR and may raise to cancel; `options`
    overrides everything else. After the steps no splat is left finer than the pixels it
    was trained at (`antialias.smooth_3d`, recorded as meta["refinement"]["smoothing_3d"]).
    `depths` (per view, or None): depth maps (h, w) camera z, 0 = unknown, that the renders'
    expected depth is pulled to with `depth_weight` (`optimize.depth_loss`).
    `budget_source` (where `seconds` came from, e.g.
    `ReconstructOptions.refine_budget`) is recorded with it as meta["refinement"]
    ["budget_s"] / ["budget_source"] for the CLI and the report."""
    if options is None:
        dev = pick_device(device)
        options = OptimizeOptions(
            steps=steps,
            seconds=seconds,
            size=size if dev == "cpu" else 0,
            fine_start=fine_start if dev == "cpu" else 1.0,
            fine_size=fine_size,
            device=dev,
            seed=seed,
            background=tuple(float(v) for v in background),  # type: ignore[arg-type]
            sh_degree=1 if dev == "cpu" else 3,
            exposure=exposure,
            depth_lambda=depth_weight,
            # a CPU run makes hundreds of steps, not gsplat's 30000 (`SHORT_RUN_RATES`)
            **(SHORT_RUN_RATES if dev == "cpu" else {}),
            grow_grad2d=SHORT_RUN_GROW_GRAD2D if dev == "cpu" else OptimizeOptions.grow_grad2d,
        )
    out, rep = optimize_cloud(cloud, views, options, report=report, cancel=cancel, depths=depths)
    out.meta["refinement"] = rep.as_dict()
    if rep.steps > 0 and len(out):
        # no splat finer than the training pixels: renders at the photos' full size (or a
        # big window) are not eroded into specks (Mip-Splatting's 3D filter)
        trained = rep.fine_size if rep.fine_steps > 0 else rep.size
        out, info = smooth_3d(out, [c for c, _ in views], max(trained))
        out.meta["refinement"]["smoothing_3d"] = info
    if budget_source:
        out.meta["refinement"].update(
            budget_s=round(float(seconds), 1), budget_source=budget_source
        )
    if rep.limits:
        log.warning("refinement: %s", "; ".join(rep.limits))
    return out
