"""Feed-forward scenes from photos: Depth Anything 3 (its `depth_anything_3` package) gives every
photo's camera, depth and confidence in one pass; those feed the same multi-view fusion as
the SfM route (`fuse.fuse_views`), so the result is the same kind of Gaussian scene.

DA3 (Lin et al. 2025, "Depth Anything 3") predicts, for N images at its processing size:
`depth` (N, h, w) camera z, `conf` (N, h, w), `extrinsics` (N, 3, 4) OpenCV world-to-camera,
`intrinsics` (N, 3, 3) pixels, `processed_images` (N, h, w, 3) uint8. Wander's `Camera` is
the same OpenCV convention, so the conversion is direct; the scale is DA3's (relative to
its first view) until `align.place_capture` sets the capture's scale, as for SfM.
SfM stays the fallback where the package or the weights are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from generators.models.hub import offline
from scene.camera import Camera

from .dense import DepthView

log = logging.getLogger(__name__)


def feedforward_ready() -> bool:
    """True when `--backend auto` should take the feed-forward route: DA3 installed and
    downloaded, and a GPU to run it on (on the CPU SfM is the better choice)."""
    from generators.models.hub import backend_state

    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:
        return False
    return gpu and backend_state("depth-anything-3").ready


@offline()  # HF_HUB_OFFLINE for the load only (generators.models.hub)
def load_da3(device: str | None = "auto") -> Any:
    """The DA3 model from the manager's `depth-anything-3` snapshot (ModelMissing names the fix)."""
    from generators.models.hub import ModelMissing
    from generators.models.verify import prepare

    backend, paths, dev = prepare("depth-anything-3", device)
    try:
        from depth_anything_3.api import DepthAnything3
    except Exception as exc:  # noqa: BLE001 - a partial install raises anything at import
        raise ModelMissing(
            f"depth-anything-3 does not import ({type(exc).__name__}: {exc}); {backend.pip}"
        ) from None
    return DepthAnything3.from_pretrained(str(paths[0])).to(dev).eval()


def prediction_to_views(
    pred: Any, names: Sequence[str], conf_quantile: float = 0.2
) -> dict[str, DepthView]:
    """DA3 prediction -> name -> DepthView (camera at the depth map's size, depth 0 where the
    confidence is in the lowest `conf_quantile` of its view or the depth is not positive)."""
    depth = np.asarray(pred.depth, np.float32)
    ext = np.asarray(pred.extrinsics, np.float64)
    K = np.asarray(pred.intrinsics, np.float64)
    imgs = np.asarray(pred.processed_images)
    conf = (
        np.asarray(pred.conf, np.float32)
        if getattr(pred, "conf", None) is not None
        else np.ones_like(depth)
    )
    if not (len(depth) == len(ext) == len(K) == len(imgs) == len(names)):
        raise ValueError(f"DA3 returned {len(depth)} depth maps for {len(names)} photos")
    views: dict[str, DepthView] = {}
    for i, name in enumerate(names):
        h, w = depth[i].shape
        cam = Camera(
            width=w,
            height=h,
            fx=K[i, 0, 0],
            fy=K[i, 1, 1],
            cx=K[i, 0, 2],
            cy=K[i, 1, 2],
            R=ext[i, :3, :3],
            t=ext[i, :3, 3],
            name=name,
        )
        c = conf[i]
        d = np.where(
            (depth[i] > 0) & np.isfinite(depth[i]) & (c >= np.quantile(c, conf_quantile)),
            depth[i],
            0.0,
        ).astype(np.float32)
        score = (c / max(float(c.max()), 1e-9)).astype(np.float32)
        img = imgs[i]
        if img.dtype != np.uint8:
            img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
        views[name] = DepthView(name, cam, img, d, score, None)
    return views


def nearest_neighbours(views: dict[str, DepthView], k: int = 4) -> dict[str, list[str]]:
    """Each view's k partners for fusion checks: the closest camera centres looking the same way."""
    names = list(views)
    pos = np.array([views[n].camera.position for n in names])
    fwd = np.array([views[n].camera.R[2] for n in names])
    out = {}
    for i, n in enumerate(names):
        dist = np.linalg.norm(pos - pos[i], axis=1)
        facing = fwd @ fwd[i]
        cost = dist / (np.median(dist[dist > 0]) if (dist > 0).any() else 1.0) + (1 - facing)
        cost[i] = np.inf
        out[n] = [names[j] for j in np.argsort(cost)[: min(k, len(names) - 1)]]
    return out


def feedforward_views(
    paths: Sequence[Path],
    *,
    model: Any = None,
    device: str | None = "auto",
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> dict[str, DepthView]:
    """Photos -> per-photo DepthViews (cameras, depth, colours) from one DA3 pass."""
    cancel = cancel or CancelToken()
    progress(0.05, "loading Depth Anything 3")
    model = model if model is not None else load_da3(device)
    cancel.check()
    progress(0.2, f"Depth Anything 3 on {len(paths)} photos")
    pred = model.inference([str(p) for p in paths])
    cancel.check()
    progress(0.9, "views")
    return prediction_to_views(pred, [Path(p).name for p in paths])


def reconstruct_feedforward(
    paths: Sequence[Path],
    opts: Any,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    model: Any = None,
) -> Any:
    """The `reconstruct --backend feedforward` job: DA3 views -> `fuse_views` -> sky -> Wander
    frame (`align.wander_frame` + `align.place_capture`, as the SfM route) -> optional 3DGS
    refinement. Returns a `pipeline.ReconstructResult` (sparse points: a subsample of the
    fused ones). Raises ModelMissing (one line) when DA3 is not installed or downloaded."""
    from PIL import Image

    from generators.jobs import Stages

    from . import align
    from .fuse import fuse_views, fused_to_gaussians
    from .pipeline import ReconstructResult
    from .sky import add_sky

    paths = [Path(p) for p in paths]
    stages = Stages(
        progress,
        [("network", 4), ("fusion", 1), ("refinement", 6 if opts.refine_steps else 0.01)],
        cancel,
    )
    with stages("network") as rep:
        views = feedforward_views(
            paths, model=model, device=opts.refine_device, progress=rep, cancel=stages.cancel
        )
    with stages("fusion") as rep:
        fused = fuse_views(views, nearest_neighbours(views), max_points=opts.max_points, report=rep)
        cloud = add_sky(fused_to_gaussians(fused), views, fused.covered, stride=2 * fused.stride)
    cams = [v.camera for v in views.values()]
    s, r, t = align.wander_frame(cams, fused.points, opts.target_depth)
    k, o, capture = align.place_capture(
        [align.transform_camera(c, s, r, t) for c in cams],
        fused.points.astype(np.float64) @ (s * r).T + t,
        fused.normals @ r.T,
        kind=opts.capture,
        eye_height=opts.eye_height,
        orbit_radius=opts.orbit_radius,
        aerial_height=opts.aerial_height,
    )
    s, t = s * k, k * t + o
    sim = align.similarity(s, r, t)
    cloud = cloud.transformed(sim)
    depth_w = {
        n: DepthView(
            n,
            align.transform_camera(v.camera, s, r, t),
            v.image,
            (v.depth * s).astype(np.float32),
            v.score,
            v.valid,
        )
        for n, v in views.items()
    }
    with stages("refinement") as rep:
        if opts.refine_steps:
            budget_s, budget_why = opts.refine_budget(stages.elapsed())
            from .refine import refine_cloud

            cloud = refine_cloud(
                cloud,
                [(v.camera, v.image) for v in depth_w.values()],
                steps=opts.refine_steps,
                seconds=budget_s,
                size=opts.refine_size,
                device=opts.refine_device,
                report=rep,
                cancel=stages.cancel,
                budget_source=budget_why,
            )
    out_cams = []
    for p in paths:
        with Image.open(p) as im:
            size = im.size
        out_cams.append(depth_w[p.name].camera.resized(*size))
    pts = fused.points[:: max(1, len(fused.points) // 20000)]
    cols = (np.clip(fused.colors[:: max(1, len(fused.points) // 20000)], 0, 1) * 255).astype(
        np.uint8
    )

    cloud.meta.update(
        {
            "generator": "wander.reconstruct",
            "backend": "feedforward",
            "model": "depth-anything-3",
            "inputs": [p.name for p in paths],
            "options": opts.record(),
        }
    )
    return ReconstructResult(
        cloud=cloud,
        cameras=out_cams,
        status={p.name: "registered" for p in paths},
        depths=depth_w,
        points=(pts.astype(np.float64) @ (s * r).T + t).astype(np.float32),
        point_colors=cols,
        visible={},
        similarity=sim,
        times=dict(stages.times),
        options=opts.record(),
        capture=capture,
    )


def verify_backend(backend: Any, paths: list[Path], device: str) -> Any:
    """`models verify depth-anything-3`: load, then predict 2 views of a synthetic room."""
    import tempfile

    from .synthetic import make_photo_set

    model = load_da3(device)

    def run() -> str:
        with tempfile.TemporaryDirectory(prefix="wander-da3-") as tmp:
            make_photo_set(tmp, n=2, width=112, height=84, supersample=1)
            views = feedforward_views(sorted(Path(tmp).glob("*.png")), model=model)
        d = next(iter(views.values())).depth
        return f"{len(views)} views with cameras, depth {d.shape[1]}x{d.shape[0]}"

    return run
