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
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from generators.jobs import CancelToken, ProgressFn, no_progress
from scene.camera import Camera

from .dense import DepthView

log = logging.getLogger(__name__)


def load_da3(device: str | None = "auto") -> Any:
    """The DA3 model from the manager's `depth-anything-3` snapshot (ModelMissing names the fix)."""
    from generators.models.hub import ModelMissing
    from generators.models.verify import prepare

    backend, paths, dev = prepare("depth-anything-3", device)
    try:
        from depth_anything_3.api import DepthAnything3
    except Exception as exc:  # noqa: BLE001 - a partial install raises anything at import
        raise ModelMissing(f"depth-anything-3 does not import ({type(exc).__name__}: {exc}); "
                           f"{backend.pip}") from None
    return DepthAnything3.from_pretrained(str(paths[0])).to(dev).eval()


def prediction_to_views(pred: Any, names: Sequence[str], conf_quantile: float = 0.2
                        ) -> dict[str, DepthView]:
    """DA3 prediction -> name -> DepthView (camera at the depth map's size, depth 0 where the
    confidence is in the lowest `conf_quantile` of its view or the depth is not positive)."""
    depth = np.asarray(pred.depth, np.float32)
    ext = np.asarray(pred.extrinsics, np.float64)
    K = np.asarray(pred.intrinsics, np.float64)
    imgs = np.asarray(pred.processed_images)
    conf = np.asarray(pred.conf, np.float32) if getattr(pred, "conf", None) is not None \
        else np.ones_like(depth)
    if not (len(depth) == len(ext) == len(K) == len(imgs) == len(names)):
        raise ValueError(f"DA3 returned {len(depth)} depth maps for {len(names)} photos")
    views: dict[str, DepthView] = {}
    for i, name in enumerate(names):
        h, w = depth[i].shape
        cam = Camera(width=w, height=h, fx=K[i, 0, 0], fy=K[i, 1, 1], cx=K[i, 0, 2], cy=K[i, 1, 2],
                     R=ext[i, :3, :3], t=ext[i, :3, 3], name=name)
        c = conf[i]
        d = np.where((depth[i] > 0) & np.isfinite(depth[i]) & (c >= np.quantile(c, conf_quantile)),
                     depth[i], 0.0).astype(np.float32)
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
        out[n] = [names[j] for j in np.argsort(cost)[:min(k, len(names) - 1)]]
    return out


def feedforward_views(paths: Sequence[Path], *, model: Any = None, device: str | None = "auto",
                      progress: ProgressFn = no_progress, cancel: CancelToken | None = None
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
